/* SPDX-License-Identifier: ISC */
/*
 * The monitor's side of the HTTPS listener (policy's https group): the
 * TCP socket it binds before the front starts (the front never binds),
 * and the PEM files it reads and checks at start and on each SIGHUP,
 * then hands to the front over its control channel (frontchan.h).
 */
#ifndef TAPGATE_HTTPS_H
#define TAPGATE_HTTPS_H

#include <stddef.h>

#include "daemon/frontchan.h"
#include "policy/policy.h"

/*
 * A listening TCP socket on addr ("IPv4:port" or "[IPv6]:port", numeric,
 * as policy checked it; IPv6 only for an IPv6 address).  The fd, or a
 * TG_ERR_* with errbuf naming the reason.
 */
int	https_listen(const char *addr, char *errbuf, size_t errlen);

/*
 * Read h's cert_file and key_file (and client_ca_file when with_ca; else
 * ca_pem is "") into out, each at most HTTP_TLS_MAX_PEM bytes, and check
 * them with OpenSSL: the chain's first certificate and the key parse and
 * belong together, the client CA file holds a certificate.  0, or a
 * TG_ERR_* with errbuf saying which file and why; out then holds
 * nothing.  Free with fc_tls_clear (it wipes the key).
 */
int	https_load(const struct policy_https *h, int with_ca,
	    struct fc_tls *out, char *errbuf, size_t errlen);

#endif

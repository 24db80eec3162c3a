/* SPDX-License-Identifier: ISC */
/*
 * A minimal HTTP/1.1 client over a Unix socket, for the console and tests
 * talking to tapgated: one request per connection (Connection: close), a
 * bounded response, status and body returned.
 */
#ifndef TAPGATE_UHTTP_H
#define TAPGATE_UHTTP_H

#include <stddef.h>

#define UHTTP_MAX_RESPONSE	(4 * 1024 * 1024)

struct uhttp_response {
	int	 status;
	char	*body;		/* NUL-terminated */
	size_t	 body_len;
	/*
	 * Set on failure too, for the caller to say what went wrong:
	 * whether connect() succeeded, and the errno of the system call
	 * that failed (0 when none did: a timeout or a malformed reply).
	 */
	int	 connected;
	int	 sys_errno;
};

/*
 * Send method target (e.g. "GET", "/v1/requests?queue=mfa_reset") with an
 * optional JSON body and optional extra header lines ("Name: value", no
 * CRLF) to the daemon at socket path; wait up to timeout_ms.  0 or
 * TG_ERR_IO (cannot connect / connection broke: res->connected and
 * res->sys_errno say which), TG_ERR_TIMEOUT, TG_ERR_PROTOCOL (a reply
 * that is not HTTP, or none before the peer closed), TG_ERR_TOO_LONG.
 */
int	uhttp_request(const char *path, const char *method, const char *target,
	    const char *body, const char *const *headers, size_t nheaders,
	    int timeout_ms, struct uhttp_response *res);

/* Free the body of a response; NULL is fine. */
void	uhttp_response_clear(struct uhttp_response *res);

#endif

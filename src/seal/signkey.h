/* SPDX-License-Identifier: ISC */
/*
 * The appliance's co-signing key at rest: SIGNKEY_FILE in the state
 * directory, a seal blob (seal.h) under the label SIGNKEY_LABEL whose
 * plaintext is
 *
 *	format (1) | algorithm (1: enum jwk_alg) | private key (32)
 *
 * so the algorithm is sealed with the key.  The raw private key exists
 * only in memory, only as long as it takes to import or export it, and is
 * wiped then; it is never written unsealed.
 *
 * Functions return 0 or a negative TG_ERR_*; output pointers are set only
 * on success.  Nothing here prints or exits.
 */
#ifndef TAPGATE_SIGNKEY_H
#define TAPGATE_SIGNKEY_H

#include "order/jwk.h"
#include "seal/seal.h"

#define SIGNKEY_FILE	"cosign.key.sealed"
#define SIGNKEY_LABEL	"cosign-key"

/*
 * The co-signing key of the appliance whose state directory is state_dir
 * (which must exist, be ours and not writable by group or others:
 * TG_ERR_PERM), unsealed with s, in *keyp (freed with jwk_free()).
 *
 * When SIGNKEY_FILE exists it must be a regular file owned by us with no
 * group or other permission bits (TG_ERR_PERM), unseal under
 * SIGNKEY_LABEL (the seal's errors, seal_errmsg(s) for words), hold a
 * key of algorithm alg (TG_ERR_ALG_MISMATCH otherwise: a configured
 * algorithm never silently changes the published key) and import
 * (TG_ERR_INVALID otherwise); *createdp is set to 0.
 *
 * When it does not exist, a new key for alg is generated, sealed and
 * written 0600 atomically (never over a file that appeared meanwhile:
 * then that one is loaded), and *createdp is set to 1 so the caller can
 * audit and publish the new kid.  createdp may be NULL.
 */
int	signkey_load_or_create(struct seal *s, const char *state_dir,
	    enum jwk_alg alg, struct jwk **keyp, int *createdp);

#endif /* TAPGATE_SIGNKEY_H */

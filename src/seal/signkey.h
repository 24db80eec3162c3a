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

/*
 * ---- Rotation
 *
 * Beside the active key the state directory holds
 *
 *  - SIGNKEY_NEXT_FILE, the standby key: sealed like the active one (same
 *    label, same seal), made whenever the seal is at hand (at start, and
 *    after a rotation when the seal stays open), so that a rotation needs
 *    no seal at all: the YubiKey seal is closed once the daemon runs.
 *
 *  - SIGNKEY_RETIRED_FILE, the public halves of every key the appliance
 *    signed with before (JSON, replaced atomically), each with when it was
 *    retired, its successor's kid and until when it stays published in
 *    the JWKS (after the last order it signed expires).  Audit
 *    checkpoints signed by a retired key verify with it for ever.
 *
 * A rotation, crash-safe at every step:
 *
 *  1. signkey_retire(): the active key is recorded retired, its successor
 *     the standby key (the retired list replaced atomically);
 *  2. the caller audits the rotation;
 *  3. signkey_promote(): the active file is linked aside, the standby file
 *     renamed over it (the commit point: rename(2) is atomic, so there is
 *     always exactly one active key), the directory fsync()ed, the old
 *     blob zeroed and removed; in memory the old private key is wiped.
 *
 * A crash after 1 leaves an active key recorded retired with its standby
 * successor present: signkey_ring_open() completes the rotation
 * (report->completed) and the caller audits that.
 */
#define SIGNKEY_NEXT_FILE	"cosign.next.key.sealed"
#define SIGNKEY_RETIRED_FILE	"cosign.retired.json"
#define SIGNKEY_RETIRING_FILE	".cosign.key.retiring"
/* retired keys kept: the full set (these, active) fits in one JWKS */
#define SIGNKEY_RETIRED_MAX	(JWKS_MAX_KEYS - 1)
#define SIGNKEY_ALL		(-1)	/* signkey_ring_jwks(): every key */

struct signkey_retired {
	struct jwk	*pub;			/* public half only */
	char		 successor[JWK_KID_LEN + 1];
	int64_t		 retired;		/* when */
	int64_t		 publish_until;		/* JWKS: while now < this */
};

struct signkey_ring {
	struct jwk		*active;	/* signs orders, checkpoints */
	struct jwk		*standby;	/* the next one; NULL: none */
	struct signkey_retired	 retired[SIGNKEY_RETIRED_MAX];
	size_t			 nretired;	/* oldest first */
};

/* What signkey_ring_open() found and did, for the log and the audit. */
struct signkey_report {
	int	created;		/* a first active key was made */
	int	standby_created;	/* a standby key was made */
	int	completed;		/* an interrupted rotation completed */
	char	old_kid[JWK_KID_LEN + 1];	/* when completed */
};

/*
 * Open the appliance's keys in state_dir with s: the active key
 * (signkey_load_or_create()), the retired list, the standby key (made
 * when missing).  A leftover SIGNKEY_RETIRING_FILE is destroyed; an
 * active key recorded retired whose successor is the standby key is
 * promoted (an interrupted rotation); an active key recorded retired
 * without its successor at hand is TG_ERR_CORRUPT (a retired key never
 * signs again).  A retired list that does not parse is TG_ERR_CORRUPT.
 */
int	signkey_ring_open(struct seal *s, const char *state_dir,
	    enum jwk_alg alg, struct signkey_ring **ringp,
	    struct signkey_report *report);

/* Free *ringp (NULL-safe), wiping private keys, and set it to NULL. */
void	signkey_ring_free(struct signkey_ring **ringp);

/*
 * The public keys of ring as a new set: the active key and the retired
 * ones still published at now (publish_until > now), or every retired
 * key when now is SIGNKEY_ALL (what audit checkpoints are checked
 * against).  The standby key is never included.
 */
int	signkey_ring_jwks(const struct signkey_ring *ring, int64_t now,
	    struct jwks **setp);

/*
 * Make a standby key (or load the one there) with s when ring has none.
 */
int	signkey_standby_create(struct seal *s, const char *state_dir,
	    struct signkey_ring *ring);

/*
 * Step 1 of a rotation: record the active key retired at now, published
 * until publish_until, its successor the standby key.  TG_ERR_NOT_FOUND
 * without a standby key, TG_ERR_TOO_LONG when SIGNKEY_RETIRED_MAX keys
 * are retired already.  On failure ring is unchanged.
 */
int	signkey_retire(const char *state_dir, struct signkey_ring *ring,
	    int64_t now, int64_t publish_until);

/* Undo a signkey_retire() whose rotation is abandoned (before step 3). */
int	signkey_retire_undo(const char *state_dir, struct signkey_ring *ring);

/*
 * Step 3: make the standby key active (see above).  The ring's active key
 * must be the newest retired one.  On success the old private key is
 * wiped and ring->standby is NULL.
 */
int	signkey_promote(const char *state_dir, struct signkey_ring *ring);

#endif /* TAPGATE_SIGNKEY_H */

/* SPDX-License-Identifier: ISC */
/*
 * Signed audit checkpoints.  The audit chain's hashes are unkeyed: whoever
 * holds the database file can cut its newest entries, or rewrite entries
 * and hash everything after them again, and audit_verify() still passes.
 * Now and then the appliance's co-signing key signs the chain's head; a
 * chain that ends before a checkpoint (its tail deleted, triggers dropped
 * or not) or that no longer holds the signed hash at the signed seq is
 * then found by checkpoint_verify().  Entries after the newest checkpoint
 * are covered by nothing but the chain (and the journald copy): the
 * daemon signs at start, every minute the head moved and at a clean stop.
 *
 * A checkpoint signs, with jwk_sign(), exactly these bytes, version 1:
 *
 *	"tapgate-audit-checkpoint-v1" and one NUL byte	(28 bytes)
 *	seq						(8 bytes, big endian)
 *	hash						(32 raw bytes)
 *	time						(8 bytes, big endian)
 *
 * The preamble keeps a checkpoint signature from ever passing for another
 * signature of the same key: an order's JWS signing input starts with
 * base64url text, never with this string.  kid names the signing key
 * (its RFC 7638 thumbprint) in the appliance's JWKS; the signature is in
 * JOSE form, JWK_SIG_LEN bytes, EdDSA or ES256 as the key is.
 *
 * Checkpoints are not audit entries: an entry recording a checkpoint
 * would move the head the checkpoint has just signed, so the newest entry
 * would never be signed.  Each row is evidence of its own (a signature),
 * the table is append-only like the audit log, and the schema only takes
 * a checkpoint of an existing entry, with its hash, newer than the last.
 */
#ifndef TAPGATE_CHECKPOINT_H
#define TAPGATE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "order/jwk.h"
#include "store/audit.h"
#include "store/store.h"

#define CHECKPOINT_DOMAIN	"tapgate-audit-checkpoint-v1" /* with NUL */
#define CHECKPOINT_MSG_LEN	(sizeof(CHECKPOINT_DOMAIN) + 8 + 32 + 8)

struct checkpoint {
	int64_t		 id;		/* set by the store */
	int64_t		 seq;		/* the head signed: this entry ... */
	char		 hash[AUDIT_HASH_HEX + 1]; /* ... with this hash */
	int64_t		 time;		/* when it was signed */
	char		 kid[JWK_KID_LEN + 1];
	uint8_t		 sig[JWK_SIG_LEN];
	int64_t		 created;	/* set by the store */
};

enum checkpoint_break {
	CHECKPOINT_INTACT = 0,
	CHECKPOINT_CHAIN,		/* the chain itself breaks (chain) */
	CHECKPOINT_TRUNCATED,		/* the chain ends before a checkpoint */
	CHECKPOINT_MISMATCH,		/* an entry is not the one signed */
	CHECKPOINT_BAD_SIGNATURE,	/* forged or altered checkpoint */
	CHECKPOINT_UNKNOWN_KEY,		/* signed by a key not in the set */
	CHECKPOINT_MALFORMED,		/* a field of the wrong type or shape */
	CHECKPOINT_STALE,		/* entries signed by no checkpoint for
					   longer than the signer allows */
	CHECKPOINT_ANCHOR		/* the chain lacks or disagrees with an
					   anchor from outside (audit.h) */
};

/*
 * How long past the checkpoint interval an entry may wait for its
 * checkpoint before the tail counts as stale: the daemon's timer ticks
 * every second and may wait for a long approval to release the store.
 */
#define CHECKPOINT_STALE_SLACK	60

struct checkpoint_report {
	struct audit_report	 chain;		/* audit_verify()'s verdict */
	int			 ok;		/* 1: chain and checkpoints */
	enum checkpoint_break	 why;		/* when !ok */
	int64_t			 bad_seq;	/* when !ok: the seq to name */
	char			 reason[256];	/* when !ok: for people */
	int64_t			 count;		/* checkpoints checked */
	int			 signatures;	/* 1: checked against keys */
	int			 have_latest;	/* latest is set */
	struct checkpoint	 latest;	/* newest that held */
	/*
	 * When chain and checkpoints hold: the entries no checkpoint
	 * covers (after latest, or all of them when there is none), the
	 * first one's seq and time.  0 for a copy from before checkpoints.
	 */
	int64_t			 uncovered;
	int64_t			 uncovered_seq;
	int64_t			 uncovered_since;
};

/* The bytes cp signs (seq, hash and time; the encoding above) into out. */
int	checkpoint_message(const struct checkpoint *cp,
	    uint8_t out[CHECKPOINT_MSG_LEN]);

/*
 * The signer's side, inside the caller's transaction (TG_ERR_TXN
 * otherwise), so the head cannot move between reading and recording it:
 * fill cp (seq, hash, time = now) with the chain's head, but only once
 * the chain is found to extend the newest checkpoint.  That checkpoint's
 * signature is checked when keys holds its kid (TG_ERR_BAD_SIGNATURE);
 * from it on the chain is walked again (from the first entry when there
 * is no checkpoint yet or its key is not in keys).  A cut or rewritten
 * chain is TG_ERR_CORRUPT, with the reason in store_errmsg(): the signer
 * never vouches for it.  TG_ERR_NOT_FOUND when the log is empty and
 * TG_ERR_EXISTS when the head is checkpointed already: nothing to sign.
 */
int	checkpoint_prepare(struct store *st, const struct jwks *keys,
	    int64_t now, struct checkpoint *cp);

/*
 * Check cp's signature with the key of keys its kid names: 0,
 * TG_ERR_UNKNOWN_KID, or TG_ERR_BAD_SIGNATURE (for an exported
 * checkpoint brought back as an anchor).
 */
int	checkpoint_check_signature(const struct checkpoint *cp,
	    const struct jwks *keys);

/* Sign cp (from checkpoint_prepare()) with key: fills kid and sig. */
int	checkpoint_sign(struct checkpoint *cp, const struct jwk *key);

/*
 * Record a signed checkpoint (in a transaction).  TG_ERR_IMMUTABLE when
 * the schema refuses it: not the hash of an existing entry, or not newer
 * than the last checkpoint.
 */
int	checkpoint_insert(struct store *st, const struct checkpoint *cp);

/* The newest checkpoint in *cp; TG_ERR_NOT_FOUND when there is none. */
int	checkpoint_latest(struct store *st, struct checkpoint *cp);

/*
 * Verify the audit chain (audit_verify()) and, when it holds, every
 * checkpoint, oldest first: its shape, its signature by the key of keys
 * its kid names (when keys is not NULL; report->signatures says whether
 * they were checked), and that the chain holds its hash at its seq.  The
 * chain ending before the newest checkpoint is CHECKPOINT_TRUNCATED,
 * naming that checkpoint's seq.  All in one read snapshot.  Returns 0
 * when the walk could be done, the verdict in *report; negative only for
 * database errors.
 */
int	checkpoint_verify(struct store *st, const struct jwks *keys,
	    struct checkpoint_report *report);

/*
 * The stale tail: turn a report that holds into CHECKPOINT_STALE (naming
 * the first uncovered entry) when that entry is older, at now, than
 * interval + CHECKPOINT_STALE_SLACK seconds.  The daemon signs the head
 * within interval of its moving, at start and at a clean stop, so such a
 * tail means checkpoints were deleted, or the daemon stopped without
 * signing (a crash, a kill) and has not started since.  interval is the
 * daemon's checkpoint period (DAEMON_CHECKPOINT_SECONDS by default).
 * Entries dated after now (a clock set back) are not stale.
 */
void	checkpoint_check_stale(struct checkpoint_report *report, int64_t now,
	    int64_t interval);

/* "intact", "truncated", "bad_signature", ... for reports and JSON. */
const char *checkpoint_break_name(enum checkpoint_break why);

#endif /* TAPGATE_CHECKPOINT_H */

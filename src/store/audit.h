/* SPDX-License-Identifier: ISC */
/*
 * The audit log: an append-only, hash-chained table in the state database.
 * Triggers refuse UPDATE and DELETE and any INSERT that does not extend the
 * chain; audit_verify() finds what a person with the database file in hand
 * did anyway (edit, delete, reorder) up to the last entry.  Entries also go
 * to journald (after their transaction commits), so the SIEM holds a copy
 * of every hash: truncating the newest entries shows there.
 *
 * Each entry's hash is SHA-256 over this encoding, version 1:
 *
 *	"tapgate-audit-v1" and one NUL byte		(17 bytes)
 *	seq, time, actor_uid				(8 bytes each, big
 *							 endian, two's
 *							 complement)
 *	actor_role, actor_name, event, request_id, details
 *		each as 0x00 when absent (only request_id may be), or
 *		0x01, its length in 4 bytes big endian, its bytes
 *	prev_hash					(32 raw bytes)
 *
 * Every field has a fixed size or a length prefix, so no two different
 * entries share an encoding.  The first entry's prev_hash is 32 zero bytes.
 * Hashes are stored and shown as 64 lower-case hex digits.
 */
#ifndef TAPGATE_AUDIT_H
#define TAPGATE_AUDIT_H

#include <stdint.h>

#include "store/store.h"

#define AUDIT_HASH_HEX		64
#define AUDIT_MAX_NAME		256	/* role, name, event, request id */
#define AUDIT_MAX_DETAILS	65536	/* details JSON */
#define AUDIT_TAIL_MAX		10000	/* entries one tail call returns */

struct audit_entry {
	int64_t		 seq;		/* 1, 2, ...: set by audit_append */
	int64_t		 time;		/* Unix seconds; 0 on append: now */
	int64_t		 actor_uid;	/* peer uid; -1 for the daemon itself */
	const char	*actor_role;	/* intake, officer, operator, system */
	const char	*actor_name;	/* agent or officer name */
	const char	*event;		/* "request.submitted", ... */
	const char	*request_id;	/* optional */
	const char	*details;	/* a JSON object; NULL on append: {} */
	const char	*prev_hash;	/* set by audit_append */
	const char	*hash;		/* set by audit_append */
};

enum audit_break {
	AUDIT_INTACT = 0,
	AUDIT_EDITED,		/* an entry does not match its own hash */
	AUDIT_MISSING,		/* a gap in seq: entries deleted */
	AUDIT_UNLINKED,		/* prev_hash is not the previous entry's
				   hash: deleted and renumbered, inserted or
				   reordered */
	AUDIT_MALFORMED		/* a field has the wrong type or shape */
};

struct audit_report {
	int		 ok;		/* 1: the whole chain verifies */
	int64_t		 count;		/* entries verified before any break */
	int64_t		 head_seq;	/* last verified entry (0: none) */
	char		 head_hash[AUDIT_HASH_HEX + 1]; /* its hash (zeros) */
	int64_t		 bad_seq;	/* when !ok: first seq that breaks */
	enum audit_break why;		/* when !ok */
	char		 reason[192];	/* when !ok: for people */
};

/* Called once per entry; return 0 to go on or a negative TG_ERR_* to stop. */
typedef int	audit_cb(const struct audit_entry *, void *);

/*
 * Append an entry inside the caller's open transaction (TG_ERR_TXN
 * otherwise): it takes the last entry's hash, chains the new entry to it and
 * inserts it.  `e->seq`, `prev_hash` and `hash` are ignored.  `details` must
 * be a JSON object without duplicate keys (TG_ERR_INVALID).  The new seq in
 * *seqp when seqp is not NULL.
 */
int	audit_append(struct store *st, const struct audit_entry *e,
	    int64_t *seqp);

/*
 * Walk the whole chain.  Returns 0 when the walk could be done, with the
 * verdict in *report: intact with the count and head, or the first seq
 * where the chain breaks and why.  Negative only for database errors.
 */
int	audit_verify(struct store *st, struct audit_report *report);

/*
 * Walk the chain from entry `seq` to the newest, taking `hash` (what a
 * checkpoint signed) as entry seq's hash: that entry must still have it,
 * and every later one must extend it.  The verdict in *report as for
 * audit_verify() (count: entries from seq on); entry seq gone is a break
 * at seq (AUDIT_MISSING), another hash there AUDIT_EDITED.  Lets the
 * signer re-check only what it has not signed yet (checkpoint.h).
 */
int	audit_verify_from(struct store *st, int64_t seq,
	    const char hash[AUDIT_HASH_HEX + 1], struct audit_report *report);

/* The last `n` (1..AUDIT_TAIL_MAX) entries, oldest first. */
int	audit_tail(struct store *st, int n, audit_cb *cb, void *arg);

/* The last n (1..AUDIT_TAIL_MAX) entries of an alarm.* event, oldest
 * first. */
int	audit_alarms(struct store *st, int n, audit_cb *cb, void *arg);

/* The entries about one request, oldest first (at most AUDIT_TAIL_MAX). */
int	audit_request(struct store *st, const char *request_id, audit_cb *cb,
	    void *arg);

/*
 * A request's history a page at a time: the entries about request_id
 * with a seq above after (0: from its first), oldest first, at most n
 * (1..AUDIT_TAIL_MAX).  TG_ERR_INVALID for an n or after out of range.
 */
int	audit_request_page(struct store *st, const char *request_id,
	    int64_t after, int n, audit_cb *cb, void *arg);

/* The newest entry's seq and hash (0 and zeros when the log is empty). */
int	audit_head(struct store *st, int64_t *seqp,
	    char hash[AUDIT_HASH_HEX + 1]);

/*
 * The hash entry seq holds, into hash: TG_ERR_NOT_FOUND when the chain has
 * no entry seq (seq < 1 included), TG_ERR_CORRUPT when the stored hash is
 * not 64 lower-case hex digits.  Reads that one row only: whether the
 * chain up to it links is audit_verify()'s business.
 */
int	audit_hash_at(struct store *st, int64_t seq,
	    char hash[AUDIT_HASH_HEX + 1]);

/*
 * An anchor: a head of the chain (seq, hash) held outside the database,
 * by whoever took it away: an order carries the head it was signed at
 * (order.issued is entry seq + 1), an exported checkpoint the head it
 * signed, the daemon's high-water mark (auditmark.h) the last head it
 * vouched for.  Seq 0 is the empty chain: every chain holds it.
 */
struct audit_anchor {
	int64_t		 seq;
	char		 hash[AUDIT_HASH_HEX + 1];
	int		 held;		/* set by audit_hold_anchor() */
	char		 reason[192];	/* when !held: for people */
};

/*
 * Whether the chain still holds the anchor: an entry at a->seq with
 * exactly a->hash.  Sets a->held, and a->reason when it does not (no such
 * entry: the log was cut after it; another hash: rewritten).  Together
 * with an intact chain (audit_verify()), a held anchor means nothing up to
 * a->seq changed since the anchor was taken.  Negative only for database
 * errors and a malformed anchor (TG_ERR_INVALID).
 */
int	audit_hold_anchor(struct store *st, struct audit_anchor *a);

/*
 * Compute an entry's hash from its fields, seq and prev_hash (the encoding
 * above) into `hash`: what audit_verify() checks, for anyone re-checking an
 * exported copy.  TG_ERR_INVALID when a field is missing or malformed.
 */
int	audit_entry_hash(const struct audit_entry *e,
	    char hash[AUDIT_HASH_HEX + 1]);

/*
 * The syslog priority of an entry's copy in journald, by its event.
 * Routine entries are LOG_NOTICE (5).  Alarms stand out, so the SIEM and
 * `journalctl -p err` see them without knowing tapgate's event names:
 * "alarm.cloned_key" is LOG_CRIT (2), since whoever holds the copy can
 * approve in the officer's name until the key is revoked; an alarm that
 * says the appliance cannot do its work, "alarm.quorum_unreachable"
 * (requests wait for officers; nothing is exposed), is LOG_ERR (3); any
 * other "alarm." event is taken at its worst, LOG_CRIT.
 */
int	audit_journal_priority(const char *event);

/*
 * Send entries to journald after commit, or not.  On by default when
 * journald's socket exists; sending never fails an operation.
 */
int	audit_set_journal(struct store *st, int on);

/* Called with each entry of a transaction once that transaction commits. */
typedef void	audit_sink(const struct audit_entry *, void *);

/*
 * Hand each committed entry, in order, to `sink` (NULL: no one): what must
 * only ever see durable events (notification hooks, an outside copy of the
 * chain).  Entries rolled back are never handed over.
 */
int	audit_set_sink(struct store *st, audit_sink *sink, void *arg);

#endif /* TAPGATE_AUDIT_H */

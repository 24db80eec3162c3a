/* SPDX-License-Identifier: ISC */
/*
 * The appliance's state: one sqlite database, "tapgate.db" in the state
 * directory, in WAL mode with synchronous=FULL, foreign keys on, and a
 * versioned schema migrated forward at open.
 *
 * Every write goes through a transaction the caller opens with store_begin()
 * and closes with store_commit() or store_rollback(); the caller appends the
 * audit entry (audit.h) for each change inside the same transaction, so a
 * change and its audit entry are durable together or not at all.  Writes
 * outside a transaction are refused with TG_ERR_TXN.
 *
 * The store keeps what it is given: vocabulary (queues, classes, states,
 * evidence types, roles) belongs to the policy module and the API, which
 * validate it before it gets here.  The store checks shape: required fields
 * present, strings within their bounds, ids and digests well formed.
 *
 * Times are Unix seconds.  A struct store is used by one thread at a time
 * (but for store_batch_run(), below).
 * Record pointers handed to a callback are valid only during the call;
 * records returned through an output pointer are one allocation each, freed
 * with the matching _free().
 */
#ifndef TAPGATE_STORE_H
#define TAPGATE_STORE_H

#include <stdint.h>

#define STORE_DB_NAME	"tapgate.db"
#define STORE_ID_LEN	32	/* a request id: 128 random bits, lower hex */
#define STORE_DIGEST_LEN 64	/* a SHA-256 digest in lower hex */
#define STORE_MAX_DN	512	/* a directory entry's DN */
#define STORE_MAX_NAME	256	/* queue, class, state, account, agent, ... */
#define STORE_MAX_TEXT	4096	/* reasons, evidence references */
#define STORE_MAX_JSON	65536	/* request body, response, decision */
#define STORE_LIST_MAX	1000	/* rows one list call may return */

struct store;

/*
 * A recovery request.  On insert, the caller fills every field but
 * `updated` (set to `created`); `created` 0 means now.  Optional fields
 * (NULL or 0 when absent) are marked so.
 */
struct store_request {
	const char	*id;		/* from store_request_id_new() */
	const char	*queue;
	const char	*target_account;
	const char	*target_system;
	const char	*claimed_class;	/* optional: the caller's claim */
	const char	*effective_class; /* the stricter of claim and config */
	const char	*requester_agent;
	const char	*requester_channel;
	const char	*requester_ticket; /* optional */
	int64_t		 requester_uid;	/* peer uid of the submitting caller */
	const char	*request_json;	/* the body exactly as submitted */
	const char	*state;
	const char	*policy_id;
	int64_t		 policy_version;
	const char	*decision_json;	/* optional: last policy decision */
	const char	*idem_key;	/* optional: Idempotency-Key, UNIQUE */
	const char	*idem_digest;	/* with idem_key: SHA-256 of the body */
	const char	*response_json;	/* optional: the first answer given */
	int64_t		 created;
	int64_t		 updated;
	int64_t		 hold_start;	/* 0: no hold */
	int64_t		 hold_end;
	const char	*requester_principal; /* optional: who submitted */
	const char	*requester_team;      /* optional: the principal's */
	const char	*directory_json;      /* optional: the facts snapshot */
};

/* One piece of evidence gathered for a request. */
struct store_evidence {
	int64_t		 id;		/* set by the store */
	const char	*request_id;
	const char	*type;
	const char	*result;
	const char	*verifier;
	const char	*channel;
	const char	*ref;		/* optional */
	const char	*json;		/* the evidence object as recorded */
	const char	*digest;	/* hex SHA-256 of its canonical form */
	const char	*origin;	/* "agent", "appliance", "officer" */
	int64_t		 added_uid;	/* peer uid of the caller adding it */
	int64_t		 created;	/* 0 on add: now */
};

/* A human decision on a request: a veto, a denial, ... */
struct store_decision {
	int64_t		 id;		/* set by the store */
	const char	*request_id;
	const char	*kind;		/* "veto", "deny", ... */
	int64_t		 actor_uid;
	const char	*actor_role;
	const char	*actor_name;
	const char	*reason;
	int64_t		 created;	/* 0 on add: now */
};

/* Called once per row; return 0 to go on or a negative TG_ERR_* to stop. */
typedef int	store_request_cb(const struct store_request *, void *);
typedef int	store_evidence_cb(const struct store_evidence *, void *);
typedef int	store_decision_cb(const struct store_decision *, void *);
typedef int	store_count_cb(const char *queue, const char *state,
		    int64_t count, void *);

/*
 * Open the state database.  `path` is a state directory (created 0700 when
 * missing; the database is STORE_DB_NAME inside it) or, when it ends in
 * ".db" and is not a directory, the database file itself.  The directory
 * must belong to the effective user and be closed to group and others (no
 * mode bit in 077: TG_ERR_PERM); the database file is created 0600.
 * Migrates the schema to
 * the latest version, each step in its own transaction; a database written
 * by a newer tapgate, or not by tapgate at all, is refused (TG_ERR_SCHEMA).
 * Audit entries go to journald after commit when journald is present.
 */
int	store_open(const char *path, struct store **stp);

/*
 * store_open() of a state that exists: never creates the directory or the
 * database, TG_ERR_NOT_FOUND when either is missing.  For the console,
 * whose typo must not leave an empty state behind.
 */
int	store_open_existing(const char *path, struct store **stp);

#define STORE_LOCK_NAME	"tapgated.lock"

/*
 * Take the state directory's lock: an exclusive flock(2) on STORE_LOCK_NAME
 * in dir (created 0600, ours, never through a symlink: TG_ERR_PERM), held
 * as long as the descriptor in *fdp stays open, so that one daemon, or one
 * restore, uses a state at a time.  Our pid goes into the file for the
 * message of whoever comes next.  TG_ERR_BUSY when someone holds it, with
 * its pid in *holderp (0 when the file does not say); TG_ERR_NOT_FOUND
 * when dir does not exist.
 */
int	store_lock(const char *dir, int *fdp, long *holderp);

/* Close the database (rolling back an open transaction); NULLs *stp. */
void	store_close(struct store **stp);

/* The schema version this code migrates to. */
int	store_schema_latest(void);

/* The schema version of the open database, in *versionp. */
int	store_schema_version(struct store *st, int *versionp);

/* The last database error message, for logs (never NULL). */
const char *store_errmsg(const struct store *st);

/*
 * Start a write transaction (BEGIN IMMEDIATE: the write lock is taken now,
 * waiting up to the busy timeout, TG_ERR_BUSY after).  Transactions do not
 * nest (TG_ERR_TXN).
 */
int	store_begin(struct store *st);

/*
 * Commit: when this returns 0 the changes are on disk.  On failure the
 * transaction has been rolled back.  Audit entries of the transaction are
 * sent to journald only after a successful commit.
 */
int	store_commit(struct store *st);

/* Roll back the open transaction, if any (so error paths may always call). */
int	store_rollback(struct store *st);

/*
 * Shared commits.  A synchronous commit costs a sync of the log whatever
 * it holds, so transactions of several threads that wait at the same
 * time commit together: store_batch_open() gives st a second connection
 * to its database, the committer's, and store_batch_run() runs
 * fn(wst, arg) on that connection inside one transaction with the calls
 * of the other threads waiting then, in the order they came.  Unlike
 * every other call on st, store_batch_run() may be called by any number
 * of threads at once, and while one other thread uses st: st's own
 * transactions take turns with the shared ones (the write lock), and st
 * sees a shared transaction only once it is on disk.
 *
 * fn runs on whichever thread commits, and may run more than once: when
 * another member's fn fails, the transaction is rolled back and run
 * again without that member, so fn must leave nothing behind but its
 * store calls on wst (and may use no other store).  A member whose fn
 * fails gets fn's error; a failed begin or commit fails every member of
 * the batch, each with that error (nothing of theirs is stored).  0 when
 * fn's changes are on disk.
 */
typedef int	store_batch_fn(struct store *wst, void *arg);

/*
 * Open st's committer's connection (st from store_open(); call before
 * any thread calls store_batch_run(), and before confinement: it opens
 * the database again).  The shared transactions' audit entries go where
 * st's go at this call (audit_set_journal(), audit_set_sink()).  0 or
 * the store_open() errors.
 */
int	store_batch_open(struct store *st);

/* 1 when st has a committer's connection (store_batch_open()), else 0. */
int	store_batch_enabled(const struct store *st);

/* Run fn in a shared transaction (see above); TG_ERR_INVALID unopened. */
int	store_batch_run(struct store *st, store_batch_fn *fn, void *arg);

/* What the shared commits did since store_batch_open(). */
struct store_batch_stats {
	uint64_t	 commits;	/* transactions tried */
	uint64_t	 members;	/* store_batch_run() calls in them */
	uint64_t	 failed;	/* members that got an error */
	unsigned	 largest;	/* members of the largest transaction */
	unsigned	 running;	/* members of the one committing now */
	unsigned	 waiting;	/* calls waiting for the next one */
};

/* Fill *sp (all zero when st has no committer's connection). */
void	store_batch_stats(struct store *st, struct store_batch_stats *sp);

/* Write a fresh random request id (STORE_ID_LEN hex digits and a NUL). */
int	store_request_id_new(char id[STORE_ID_LEN + 1]);

/* 1 if s is a well-formed request id, else 0. */
int	store_request_id_valid(const char *s);

/*
 * Insert a request (in a transaction).  TG_ERR_EXISTS if the id or the
 * idempotency key is taken: look the key up with store_request_get_by_idem()
 * and answer with its stored response.
 */
int	store_request_insert(struct store *st, const struct store_request *r);

/* The request with this id in *rp; TG_ERR_NOT_FOUND if none. */
int	store_request_get(struct store *st, const char *id,
	    struct store_request **rp);

/* The request submitted with this idempotency key; TG_ERR_NOT_FOUND. */
int	store_request_get_by_idem(struct store *st, const char *idem_key,
	    struct store_request **rp);

/* Free a request from store_request_get*() and NULL *rp; accepts NULL. */
void	store_request_free(struct store_request **rp);

/*
 * Move a request from state `expect` to `state` (in a transaction), and
 * replace its decision when decision_json is not NULL.  TG_ERR_CONFLICT when
 * the request is no longer in `expect` (someone else moved it first),
 * TG_ERR_NOT_FOUND when there is no such request.  `now` 0 means now.
 */
int	store_request_set_state(struct store *st, const char *id,
	    const char *expect, const char *state, const char *decision_json,
	    int64_t now);

/*
 * Set (start <= end, both > 0) or clear (both 0) the request's hold, in a
 * transaction.  `now` 0 means now.
 */
int	store_request_set_hold(struct store *st, const char *id, int64_t start,
	    int64_t end, int64_t now);

/*
 * Replace the request's directory facts snapshot (a JSON object's text,
 * not NULL), in a transaction: the signer's look again.  `now` 0 means
 * now.
 */
int	store_request_set_directory(struct store *st, const char *id,
	    const char *directory_json, int64_t now);

/*
 * Newest first, at most `limit` (1..STORE_LIST_MAX) requests, filtered by
 * queue and state when those are not NULL.
 */
int	store_request_list(struct store *st, const char *queue,
	    const char *state, int limit, store_request_cb *cb, void *arg);

/*
 * The requests whose id starts with prefix (1 to 32 lower-case hex
 * digits, else TG_ERR_INVALID), in id order, at most `limit`
 * (1..STORE_LIST_MAX): how the console resolves an abbreviated id.
 */
int	store_request_list_prefix(struct store *st, const char *prefix,
	    int limit, store_request_cb *cb, void *arg);

/*
 * As store_request_list() and store_request_list_prefix(), of the
 * requests whose requester_team is team only (a scoped team's view).
 */
int	store_request_list_team(struct store *st, const char *team,
	    const char *queue, const char *state, int limit,
	    store_request_cb *cb, void *arg);
int	store_request_list_prefix_team(struct store *st, const char *prefix,
	    const char *team, int limit, store_request_cb *cb, void *arg);

/*
 * Requests in `state` whose hold ended at or before `now`, soonest first,
 * at most `limit`: what the daemon's timer moves on.
 */
int	store_request_list_hold_due(struct store *st, const char *state,
	    int64_t now, int limit, store_request_cb *cb, void *arg);

/*
 * Requests in `state` whose hold ends after `after`, by id, at most
 * `limit` (1..STORE_LIST_MAX) with an id greater than after_id ("" for
 * the first page): pass the last id seen to get the next page.
 */
int	store_request_list_hold_after(struct store *st, const char *state,
	    int64_t after, const char *after_id, int limit,
	    store_request_cb *cb, void *arg);

/* The number of requests per (queue, state), for metrics. */
int	store_request_counts(struct store *st, store_count_cb *cb, void *arg);

/*
 * Add evidence to an existing request (in a transaction); its id in *idp
 * when idp is not NULL.  TG_ERR_NOT_FOUND if the request does not exist.
 */
int	store_evidence_add(struct store *st, const struct store_evidence *ev,
	    int64_t *idp);

/* The request's evidence, oldest first (at most STORE_LIST_MAX). */
int	store_evidence_list(struct store *st, const char *request_id,
	    store_evidence_cb *cb, void *arg);

/* Record a decision on an existing request (in a transaction). */
int	store_decision_add(struct store *st, const struct store_decision *d,
	    int64_t *idp);

/* The request's decisions, oldest first (at most STORE_LIST_MAX). */
int	store_decision_list(struct store *st, const char *request_id,
	    store_decision_cb *cb, void *arg);

/* ---- approvers, approvals, orders */

/* An officer's enrolled credential.  Blobs are (pointer, length). */
struct store_approver {
	int64_t		 id;		/* set by the store */
	const char	*name;
	const char	*group;
	const uint8_t	*cred_id;
	size_t		 cred_id_len;
	const uint8_t	*pubkey;	/* raw: ES256 x||y, EdDSA 32 bytes */
	size_t		 pubkey_len;
	int		 alg;		/* COSE: -7 ES256, -8 EdDSA */
	const uint8_t	*aaguid;	/* 16 bytes, optional */
	const char	*attest_fpr;	/* hex SHA-256 of the cert, optional */
	int64_t		 sign_count;
	int		 revoked;
	const char	*revoke_reason;	/* optional */
	int64_t		 yk_serial;	/* 0: none */
	int64_t		 enrolled;	/* 0 on insert: now */
	int64_t		 revoked_at;
	const char	*dn;		/* directory entry; NULL: none */
};

/* One officer's verified assertion over a request's change. */
struct store_approval {
	int64_t		 id;
	const char	*request_id;
	int64_t		 approver_id;
	const char	*approver_name;	/* filled on list */
	const char	*approver_group; /* filled on list */
	int		 alg;		/* filled on list */
	const uint8_t	*cred_id;
	size_t		 cred_id_len;
	const uint8_t	*auth_data;
	size_t		 auth_data_len;
	const uint8_t	*signature;
	size_t		 signature_len;
	const char	*client_data;
	const uint8_t	*nonce;		/* 32 bytes from the console; NULL:
					   at the box */
	int64_t		 sign_count;
	int64_t		 created;
};

/* A co-signed order. */
struct store_order {
	const char	*jti;
	const char	*request_id;
	const char	*jws;
	int64_t		 issued;
	int64_t		 expires;
	int64_t		 redeemed;	/* 0: not yet */
	const char	*redeemed_by;
};

typedef int	store_approver_cb(const struct store_approver *, void *);
typedef int	store_approval_cb(const struct store_approval *, void *);
typedef int	store_order_cb(const struct store_order *, void *);

/*
 * Enrol (in a transaction).  TG_ERR_EXISTS when the credential is
 * enrolled already.  The new id in *idp when not NULL.
 */
int	store_approver_insert(struct store *st, const struct store_approver *a,
	    int64_t *idp);

/* Every approver (revoked too when all), enrolment order. */
int	store_approver_list(struct store *st, int all, store_approver_cb *cb,
	    void *arg);

/* The approver holding this credential; TG_ERR_NOT_FOUND if none. */
int	store_approver_by_cred(struct store *st, const uint8_t *cred,
	    size_t len, store_approver_cb *cb, void *arg);

/*
 * Store a new signature counter (in a transaction); a lower one is refused
 * by the database (TG_ERR_IMMUTABLE) whatever the caller believes.
 */
int	store_approver_set_count(struct store *st, int64_t id, int64_t count);

/*
 * Revoke one credential (id > 0) or every credential of name (id 0), in
 * a transaction; *n how many were revoked.  TG_ERR_NOT_FOUND when none was
 * active.
 */
int	store_approver_revoke(struct store *st, int64_t id, const char *name,
	    const char *reason, int64_t now, int *n);

/*
 * The web console's users' invitations and credentials (console.c).  An
 * invitation per user: a new one replaces the old.  Rows reach callers
 * through callbacks, valid during the call only.
 */
struct store_console_invite {
	const char	*user;
	const uint8_t	*code_hash;	/* 32 bytes */
	int64_t		 expires;
	int64_t		 wrong;
	const char	*state;		/* open, used, revoked */
};
typedef int	store_console_invite_cb(const struct store_console_invite *,
		    void *);
int	store_console_invite_put(struct store *st, const char *user,
	    const uint8_t code_hash[32], int64_t expires, int64_t now);
/* TG_ERR_NOT_FOUND when user has none. */
int	store_console_invite_get(struct store *st, const char *user,
	    store_console_invite_cb *cb, void *arg);
int	store_console_invite_set(struct store *st, const char *user,
	    int64_t wrong, const char *state);

struct store_console_cred {
	int64_t		 id;		/* set by the store */
	const char	*user;
	const uint8_t	*cred_id;
	size_t		 cred_id_len;
	const uint8_t	*pubkey;	/* raw: ES256 x||y, EdDSA 32 bytes */
	size_t		 pubkey_len;
	int		 alg;		/* COSE: -7 ES256, -8 EdDSA */
	int64_t		 sign_count;
	int		 revoked;
};
typedef int	store_console_cred_cb(const struct store_console_cred *,
		    void *);
int	store_console_cred_insert(struct store *st,
	    const struct store_console_cred *c, int64_t now);
/* user's active credentials, enrolment order. */
int	store_console_cred_list(struct store *st, const char *user,
	    store_console_cred_cb *cb, void *arg);
/* The credential of this id; TG_ERR_NOT_FOUND if none. */
int	store_console_cred_by_id(struct store *st, const uint8_t *cred,
	    size_t len, store_console_cred_cb *cb, void *arg);
/* A new counter (in a transaction); a lower one is refused. */
int	store_console_cred_set_count(struct store *st, int64_t id,
	    int64_t count);
/*
 * Revoke one credential (id > 0) or every one of user (id 0), in a
 * transaction; *n how many.  TG_ERR_NOT_FOUND when none was active.
 */
int	store_console_cred_revoke(struct store *st, int64_t id,
	    const char *user, int64_t now, int *n);

/* Record an approval (in a transaction); TG_ERR_EXISTS if a repeat. */
int	store_approval_insert(struct store *st, const struct store_approval *a);

/* A request's approvals, oldest first, with approver name and group. */
int	store_approval_list(struct store *st, const char *request_id,
	    store_approval_cb *cb, void *arg);

/* Store an issued order (in a transaction). */
int	store_order_insert(struct store *st, const struct store_order *o);

/* The newest order of a request; TG_ERR_NOT_FOUND if none. */
int	store_order_by_request(struct store *st, const char *request_id,
	    store_order_cb *cb, void *arg);

/*
 * Mark an order redeemed (in a transaction).  TG_ERR_IMMUTABLE when it
 * was redeemed before, TG_ERR_NOT_FOUND when there is no such jti.
 */
int	store_order_redeem(struct store *st, const char *jti, const char *by,
	    int64_t now);

/*
 * The latest expiry of any order ever issued (0 when none): until then
 * the key that signed it stays published.
 */
int	store_order_last_expiry(struct store *st, int64_t *expp);

/* An order revoked: a deny or veto after it was issued (never undone). */
struct store_revocation {
	const char	*jti;
	const char	*request_id;
	const char	*kind;		/* "deny", "veto" */
	const char	*actor_name;
	const char	*reason;
	int64_t		 revoked;
	int		 after_redemption;	/* it was redeemed before */
};

typedef int	store_revocation_cb(const struct store_revocation *, void *);

/*
 * Record the revocation of an issued order (in a transaction).
 * TG_ERR_EXISTS when that order was revoked before.
 */
int	store_revocation_add(struct store *st,
	    const struct store_revocation *rv);

/* The revocation of order jti; TG_ERR_NOT_FOUND when it stands. */
int	store_revocation_get(struct store *st, const char *jti,
	    store_revocation_cb *cb, void *arg);

/*
 * The revocations of orders that expire after since, oldest first, at
 * most limit of them (1..STORE_LIST_MAX): *more set when there were more.
 */
int	store_revocation_list(struct store *st, int64_t since, int limit,
	    store_revocation_cb *cb, void *arg, int *more);

/*
 * Recoveries of account (any queue, case-insensitive) approved at or
 * after since, that is whose co-signed order was issued then: for the
 * approvers' cool-down.  A request merely submitted does not count.
 */
int	store_recent_recoveries(struct store *st, const char *account,
	    int64_t since, int64_t *count);

/*
 * Requests submitted before `before` that have no order and are in one
 * of the states states[0..nstates) (at most 8), oldest first, at most
 * limit (1..STORE_LIST_MAX): the ones a request lifetime has run out for.
 */
typedef int	store_id_cb(const char *id, const char *state, void *arg);
int	store_request_list_unfinished(struct store *st, int64_t before,
	    const char *const *states, size_t nstates, int limit,
	    store_id_cb *cb, void *arg);

/*
 * Vetoes at or after since of requests for the same account: account on
 * system (case-insensitive), or, when dn is not NULL, the same directory
 * entry (DN, case-insensitive).  For the veto cool-off.
 */
int	store_recent_vetoes(struct store *st, const char *account,
	    const char *system, const char *dn, int64_t since,
	    int64_t *count);

/*
 * Small facts about the appliance by name (1..64 bytes), such as the
 * daemon's heartbeat.  get: TG_ERR_NOT_FOUND when never set; set (in a
 * transaction) inserts or replaces.
 */
int	store_meta_get(struct store *st, const char *key, int64_t *vp);
int	store_meta_set(struct store *st, const char *key, int64_t v);

#endif /* TAPGATE_STORE_H */

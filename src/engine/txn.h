/* SPDX-License-Identifier: ISC */
/*
 * The bottom of the engine (txn.c): the one way it runs a transaction,
 * the audit entries and hook events a transaction carries, and how it
 * answers a caller.  Every other file of the engine may call it; it
 * calls only the store.
 */
#ifndef TAPGATE_ENGINE_TXN_H
#define TAPGATE_ENGINE_TXN_H

#include "engine/engine_int.h"

#define EVENTS_MAX	32	/* hook events and messages (messages.h) */

/* Hook events and messages of one transaction, posted after it commits
 * (events.h). */
struct events {
	json_t	*ev[EVENTS_MAX];
	size_t	 n;
};

/* Queue ev (consumed; NULL is ignored, one over EVENTS_MAX dropped). */
void	 eng_events_add(struct events *evs, json_t *ev);

/* Drop every queued event (the transaction rolled back). */
void	 eng_events_clear(struct events *evs);

/* Drop the events queued after the first n. */
void	 eng_events_drop(struct events *evs, size_t n);

/* The steps of one transaction: 0, or a TG_ERR_* that rolls it back. */
typedef int	eng_txn_fn(struct tapgated *d, void *arg);

/* How a failure a caller expects (r) is answered, instead of a 500. */
struct eng_refusal {
	int		 r;
	int		 status;
	const char	*code;
	const char	*msg;
};

/*
 * The engine's one transaction: store_begin(), steps(d, arg),
 * store_commit().  When any of them fails it rolls back, drops the hook
 * events evs queued (evs may be NULL) and, when res is not NULL, answers
 * the failure: as known says when it is known->r (known may be NULL),
 * else as a failure of the database (eng_db_error).  With res NULL the
 * caller answers or logs.  0, or the TG_ERR_* that failed.
 */
int	 eng_txn(struct tapgated *d, eng_txn_fn *steps, void *arg,
	    struct events *evs, struct engine_result *res,
	    const struct eng_refusal *known);

/*
 * eng_txn() for steps that use nothing but the store they are given
 * (store_batch_fn: never d, which they run without): the transaction
 * may be shared with the same calls of other threads that wait at that
 * moment, so that one sync of the log commits them all
 * (store_batch_run()).  d->lock is released while it waits and commits,
 * and held again on return: the caller keeps nothing it read from d
 * across the call.  Without a committer's connection
 * (store_batch_enabled()), eng_txn() on d->st with the lock held.
 * The steps may run more than once (store.h).  evs, res and known as
 * for eng_txn().
 */
int	 eng_txn_shared(struct tapgated *d, store_batch_fn *steps, void *arg,
	    struct events *evs, struct engine_result *res,
	    const struct eng_refusal *known);

/*
 * Append an audit entry by a (event, request id or NULL, details an
 * object, not consumed) inside the open transaction.  0, TG_ERR_NOMEM
 * (details NULL or unprintable) or the store's error.
 */
int	 eng_audit(struct tapgated *d, const struct engine_actor *a,
	    const char *event, const char *id, const json_t *details,
	    int64_t now);

/* eng_audit() in the open transaction of st (a shared one's steps). */
int	 eng_audit_in(struct store *st, const struct engine_actor *a,
	    const char *event, const char *id, const json_t *details,
	    int64_t now);

/* One audit entry, for eng_audit_entry(). */
struct eng_entry {
	const struct engine_actor	*a;
	const char			*event;
	const char			*id;		/* or NULL */
	const json_t			*details;
	int64_t				 now;
};

/* eng_txn_fn: append the struct eng_entry arg. */
int	 eng_audit_entry(struct tapgated *d, void *arg);

/*
 * Audit (details not consumed) in a transaction of its own: a refusal,
 * or what a process of the daemon did; nothing else changes with it.  A
 * failure to audit is logged: what it records stands anyway.  0 or the
 * TG_ERR_*.
 */
int	 eng_audit_alone(struct tapgated *d, const struct engine_actor *a,
	    const char *event, const char *id, const json_t *details,
	    int64_t now);

/* The daemon itself, as the actor of what no caller asked for. */
extern const struct engine_actor eng_system;

/* Answer res with an error: status, code and message (replaces a body). */
void	 eng_error(struct engine_result *res, int status, const char *code,
	    const char *msg);

/*
 * A failure of the database (or of memory) r: logged for the operator
 * with the store's message and counted; the caller gets 503 busy or a
 * generic 500.  Returns r.
 */
int	 eng_db_error(struct tapgated *d, struct engine_result *res, int r);

/*
 * 1 when r is a failure of the database, of memory or of I/O, after which
 * the caller rolls back and the same work may succeed later; 0 for
 * anything that will fail the same way again (the request is at fault).
 */
int	 eng_transient(int r);

/* The time now, in seconds: for calls that waited on a security key. */
int64_t	 eng_now(void);

#endif

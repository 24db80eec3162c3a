/* SPDX-License-Identifier: ISC */
/*
 * The bottom of the engine (txn.c): answers, the audit entry, and the
 * clock.  Every other file of the engine may call it; it calls only the
 * store.
 */
#ifndef TAPGATE_ENGINE_TXN_H
#define TAPGATE_ENGINE_TXN_H

#include "engine/engine_int.h"

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

/*
 * Append an audit entry by a (event, request id or NULL, details an
 * object) inside the open transaction; details is consumed.  0,
 * TG_ERR_NOMEM (details NULL or unprintable) or the store's error.
 */
int	 eng_audit(struct tapgated *d, const struct engine_actor *a,
	    const char *event, const char *id, json_t *details, int64_t now);

/*
 * Audit a refusal in a transaction of its own (nothing else changes with
 * it); details is consumed.  A failure to audit is logged: the refusal
 * stands anyway.
 */
void	 eng_audit_alone(struct tapgated *d, const struct engine_actor *a,
	    const char *event, const char *id, json_t *details, int64_t now);

/* The time now, in seconds: for calls that waited on a security key. */
int64_t	 eng_now(void);

#endif

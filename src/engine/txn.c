/* SPDX-License-Identifier: ISC */
/*
 * The bottom of the engine: how it answers a caller (eng_error, and
 * eng_db_error for a failure of the database), how it appends an audit
 * entry inside a transaction, and how it audits alone.  Calls nothing of
 * the engine; only the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "engine/txn.h"

void
eng_error(struct engine_result *res, int status, const char *code,
    const char *msg)
{
	json_decref(res->body);
	res->status = status;
	res->body = json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", msg);
}

/* A database failure: logged for the operator, generic to the caller. */
int
eng_db_error(struct tapgated *d, struct engine_result *res, int r)
{
	fprintf(stderr, "tapgated: database: %s (%s)\n", tg_strerror(r),
	    store_errmsg(d->st));
	d->errors++;
	if (r == TG_ERR_BUSY)
		eng_error(res, 503, "busy", "the database is busy; retry");
	else
		eng_error(res, 500, "internal", "the request could not be "
		    "recorded; nothing was changed");
	return r;
}

int
eng_transient(int r)
{
	return r == TG_ERR_NOMEM || r == TG_ERR_DB || r == TG_ERR_BUSY ||
	    r == TG_ERR_IO || r == TG_ERR_TXN;
}

/* Append an audit entry; details is consumed. */
int
eng_audit(struct tapgated *d, const struct engine_actor *a, const char *event,
    const char *id, json_t *details, int64_t now)
{
	struct audit_entry e;
	char *s = NULL;
	int r;

	if (details == NULL || (s = json_dumps(details, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		json_decref(details);
		return TG_ERR_NOMEM;
	}
	json_decref(details);
	memset(&e, 0, sizeof(e));
	e.time = now;
	e.actor_uid = a->uid;
	e.actor_role = a->role;
	e.actor_name = a->name;
	e.event = event;
	e.request_id = id;
	e.details = s;
	r = audit_append(d->st, &e, NULL);
	free(s);
	return r;
}

/*
 * Audit a refusal in a transaction of its own (nothing else changes with
 * it); a failure to audit is logged, since the refusal stands anyway.
 */
void
eng_audit_alone(struct tapgated *d, const struct engine_actor *a,
    const char *event, const char *id, json_t *details, int64_t now)
{
	int r;

	if ((r = store_begin(d->st)) != 0) {
		json_decref(details);
	} else if ((r = eng_audit(d, a, event, id, details, now)) != 0 ||
	    (r = store_commit(d->st)) != 0)
		store_rollback(d->st);
	if (r != 0)
		fprintf(stderr, "tapgated: cannot audit %s: %s\n", event,
		    tg_strerror(r));
}

int64_t
eng_now(void)
{
	return (int64_t)time(NULL);
}

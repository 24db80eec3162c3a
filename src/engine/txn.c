/* SPDX-License-Identifier: ISC */
/*
 * The bottom of the engine: the one transaction helper (every change and
 * its audit entries commit together, or nothing does and the hooks hear
 * nothing), the audit entry itself, the queue of a transaction's hook
 * events, and how the engine answers a caller.  Calls nothing of the
 * engine; only the store.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "engine/txn.h"

const struct engine_actor eng_system = { -1, "system", "tapgated", NULL,
    NULL };

void
eng_events_add(struct events *evs, json_t *ev)
{
	if (ev == NULL)
		return;
	if (evs->n == EVENTS_MAX) {
		json_decref(ev);
		return;
	}
	evs->ev[evs->n++] = ev;
}

void
eng_events_clear(struct events *evs)
{
	eng_events_drop(evs, 0);
}

void
eng_events_drop(struct events *evs, size_t n)
{
	while (evs->n > n)
		json_decref(evs->ev[--evs->n]);
}

/* A transaction failed with r: nothing of it stands; answer the caller. */
static int
txn_failed(struct tapgated *d, int r, struct events *evs,
    struct engine_result *res, const struct eng_refusal *known)
{
	if (evs != NULL)
		eng_events_clear(evs);
	if (res == NULL)
		return r;
	if (known != NULL && r == known->r)
		eng_error(res, known->status, known->code, known->msg);
	else
		eng_db_error(d, res, r);
	return r;
}

int
eng_txn(struct tapgated *d, eng_txn_fn *steps, void *arg, struct events *evs,
    struct engine_result *res, const struct eng_refusal *known)
{
	int r;

	if ((r = store_begin(d->st)) == 0 && (r = steps(d, arg)) == 0 &&
	    (r = store_commit(d->st)) == 0)
		return 0;
	store_rollback(d->st);
	return txn_failed(d, r, evs, res, known);
}

/* Store-only steps, for eng_txn() on d->st. */
struct store_steps {
	store_batch_fn	*fn;
	void		*arg;
};

static int
store_steps(struct tapgated *d, void *arg)
{
	const struct store_steps *ss = arg;

	return ss->fn(d->st, ss->arg);
}

int
eng_txn_shared(struct tapgated *d, store_batch_fn *steps, void *arg,
    struct events *evs, struct engine_result *res,
    const struct eng_refusal *known)
{
	struct store_steps ss = { steps, arg };
	int r;

	if (!store_batch_enabled(d->st))
		return eng_txn(d, store_steps, &ss, evs, res, known);
	/* the other threads prepare theirs meanwhile, and join */
	pthread_mutex_unlock(&d->lock);
	r = store_batch_run(d->st, steps, arg);
	pthread_mutex_lock(&d->lock);
	if (r == 0)
		return 0;
	return txn_failed(d, r, evs, res, known);
}

int
eng_audit_in(struct store *st, const struct engine_actor *a,
    const char *event, const char *id, const json_t *details, int64_t now)
{
	struct audit_entry e;
	char *s;
	int r;

	if (details == NULL || (s = json_dumps(details, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL)
		return TG_ERR_NOMEM;
	memset(&e, 0, sizeof(e));
	e.time = now;
	e.actor_uid = a->uid;
	e.actor_role = a->role;
	e.actor_name = a->name;
	e.event = event;
	e.request_id = id;
	e.details = s;
	r = audit_append(st, &e, NULL);
	free(s);
	return r;
}

int
eng_audit(struct tapgated *d, const struct engine_actor *a, const char *event,
    const char *id, const json_t *details, int64_t now)
{
	return eng_audit_in(d->st, a, event, id, details, now);
}

int
eng_audit_entry(struct tapgated *d, void *arg)
{
	const struct eng_entry *e = arg;

	return eng_audit(d, e->a, e->event, e->id, e->details, e->now);
}

int
eng_audit_alone(struct tapgated *d, const struct engine_actor *a,
    const char *event, const char *id, const json_t *details, int64_t now)
{
	struct eng_entry e = { a, event, id, details, now };
	int r;

	if ((r = eng_txn(d, eng_audit_entry, &e, NULL, NULL, NULL)) != 0)
		fprintf(stderr, "tapgated: cannot audit %s: %s\n", event,
		    tg_strerror(r));
	return r;
}

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

int64_t
eng_now(void)
{
	return (int64_t)time(NULL);
}

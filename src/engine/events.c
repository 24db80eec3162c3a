/* SPDX-License-Identifier: ISC */
/*
 * Hook events and what comes back from the hooks.  The engine queues the
 * events of a transaction and posts them to the hook runner only after
 * the commit; a hook's failure, and what happened to one of the daemon's
 * own processes, are audited as the system.  The audit entries that
 * committed come back here too, for the counters of the metrics page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "engine/events.h"
#include "engine/txn.h"

json_t *
eng_event_new(struct tapgated *d, const char *event, const char *id,
    const struct policy_request *pr, int64_t now)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:I}", "event", event,
	    "appliance", d->cfg->appliance.id, "request_id", id,
	    "queue", policy_queue_name(pr->queue), "target", "account",
	    pr->account, "system", pr->system, "time", (json_int_t)now);
}

static void	hook_outcome_locked(struct tapgated *, const char *,
		    const char *, enum hook_outcome, int);

void
eng_events_post(struct tapgated *d, struct events *evs)
{
	char *s;
	size_t i;

	for (i = 0; i < evs->n; i++) {
		/* under d->lock: a drop is reported here, not called back */
		if ((s = json_dumps(evs->ev[i], JSON_COMPACT)) != NULL &&
		    hookproc_post(d->hooks, s) != 0)
			hook_outcome_locked(d, NULL, s, HOOK_DROPPED, 0);
		free(s);
		json_decref(evs->ev[i]);
	}
	evs->n = 0;
}

int
engine_audit_system(struct tapgated *d, const char *event, json_t *details)
{
	int r;

	pthread_mutex_lock(&d->lock);
	r = eng_audit_alone(d, &eng_system, event, NULL, details,
	    (int64_t)time(NULL));
	pthread_mutex_unlock(&d->lock);
	json_decref(details);
	return r;
}

/* A hook's outcome: counted, and audited unless it went well (d->lock). */
static void
hook_outcome_locked(struct tapgated *d, const char *program,
    const char *event_json, enum hook_outcome outcome, int status)
{
	struct eng_entry e;
	json_t *ev, *details;
	const char *name, *rid;
	int r;

	d->hook_outcomes[outcome]++;
	if (outcome == HOOK_OK)
		return;
	ev = json_loads(event_json, 0, NULL);
	name = json_string_value(json_object_get(ev, "event"));
	rid = json_string_value(json_object_get(ev, "request_id"));
	fprintf(stderr, "tapgated: hook %s: %s (%d) for %s\n",
	    program ? program : "-", hooks_outcome_name(outcome), status,
	    name ? name : "?");
	details = json_pack("{s:s,s:s,s:s,s:i}", "program",
	    program ? program : "", "event", name ? name : "", "outcome",
	    hooks_outcome_name(outcome), "status", status);
	e = (struct eng_entry){ &eng_system, "hook.failed", rid, details,
	    (int64_t)time(NULL) };
	if ((r = eng_txn(d, eng_audit_entry, &e, NULL, NULL, NULL)) != 0)
		fprintf(stderr, "tapgated: cannot audit hook outcome: %s\n",
		    tg_strerror(r));
	json_decref(details);
	json_decref(ev);
}

void
engine_audit_committed(const struct audit_entry *e, void *arg)
{
	struct tapgated *d = arg;
	const char *why;
	json_t *details;

	if (strcmp(e->event, "order.issued") == 0)
		d->orders_issued++;
	else if (strcmp(e->event, "order.redeemed") == 0)
		d->redemptions[DAEMON_REDEEM_OK]++;
	else if (strcmp(e->event, "order.redeem_refused") == 0) {
		/* the signer says why: a replay, or an order expired */
		details = json_loads(e->details, 0, NULL);
		why = json_string_value(json_object_get(details, "reason"));
		if (why != NULL && strcmp(why, "expired") == 0)
			d->redemptions[DAEMON_REDEEM_EXPIRED]++;
		else
			d->redemptions[DAEMON_REDEEM_REPLAY]++;
		json_decref(details);
	}
}

void
engine_hook_report(void *ctx, const char *program, const char *event_json,
    enum hook_outcome outcome, int status)
{
	struct tapgated *d = ctx;

	pthread_mutex_lock(&d->lock);
	hook_outcome_locked(d, program, event_json, outcome, status);
	pthread_mutex_unlock(&d->lock);
}

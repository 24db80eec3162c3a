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
#include "engine/messages.h"
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

/*
 * A message (messages.h) to its sender; a drop is audited, or only
 * counted and logged when in_commit (the store's sink cannot audit).
 */
static void
message_post(struct tapgated *d, json_t *ev, int in_commit)
{
	json_t *m = json_object_get(ev, "message");
	char *s, *tag;
	int ch;

	ch = (int)json_integer_value(json_object_get(ev, "channel_index"));
	s = json_dumps(m, JSON_COMPACT);
	tag = json_dumps(json_object_get(ev, "tag"), JSON_COMPACT);
	if (tag != NULL && (s == NULL ||
	    hookproc_post_message(d->hooks, ch, tag, s) != 0)) {
		if (!in_commit)
			hook_outcome_locked(d, NULL, tag, HOOK_DROPPED, 0);
		else {
			d->message_outcomes[HOOK_DROPPED]++;
			fprintf(stderr, "tapgated: message dropped: %s\n",
			    tag);
		}
	}
	if (s != NULL) {
		/* the text may hold a code */
		explicit_bzero(s, strlen(s));
		free(s);
	}
	free(tag);
}

void
eng_events_post(struct tapgated *d, struct events *evs)
{
	char *s;
	size_t i;

	for (i = 0; i < evs->n; i++) {
		if (json_object_get(evs->ev[i], "message") != NULL) {
			message_post(d, evs->ev[i], 0);
			json_decref(evs->ev[i]);
			continue;
		}
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

/* A message's outcome, sent or not: audited (d->lock). */
static void
message_outcome_locked(struct tapgated *d, const char *program,
    const json_t *tag, enum hook_outcome outcome, int status)
{
	struct eng_entry e;
	json_t *details;
	const char *rid;
	int r;

	d->message_outcomes[outcome]++;
	details = json_deep_copy(tag);
	rid = json_string_value(json_object_get(tag, "request_id"));
	json_object_del(details, "request_id");
	json_object_set_new(details, "program", json_string(program ?
	    program : ""));
	if (outcome != HOOK_OK) {
		json_object_set_new(details, "outcome",
		    json_string(hooks_outcome_name(outcome)));
		json_object_set_new(details, "status", json_integer(status));
		fprintf(stderr, "tapgated: sender %s: %s (%d)\n",
		    program ? program : "-", hooks_outcome_name(outcome),
		    status);
	}
	e = (struct eng_entry){ &eng_system, outcome == HOOK_OK ?
	    "message.sent" : "message.failed", rid, details,
	    (int64_t)time(NULL) };
	if ((r = eng_txn(d, eng_audit_entry, &e, NULL, NULL, NULL)) != 0)
		fprintf(stderr, "tapgated: cannot audit a message: %s\n",
		    tg_strerror(r));
	json_decref(details);
}

/* A hook's outcome: counted, and audited unless it went well (d->lock). */
static void
hook_outcome_locked(struct tapgated *d, const char *program,
    const char *event_json, enum hook_outcome outcome, int status)
{
	struct eng_entry e;
	json_t *ev, *details, *m;
	const char *name, *rid;
	int r;

	ev = json_loads(event_json, 0, NULL);
	if ((m = json_object_get(ev, "message")) != NULL) {
		/* a message's tag: what the audit may say of it */
		message_outcome_locked(d, program, m, outcome, status);
		json_decref(ev);
		return;
	}
	d->hook_outcomes[outcome]++;
	if (outcome == HOOK_OK) {
		json_decref(ev);
		return;
	}
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

/* The security team hears of every alarm (under d->lock, at the commit). */
static void
alarm_tell(struct tapgated *d, const struct audit_entry *e)
{
	struct events evs = { { NULL }, 0 };
	char subject[ENG_MSG_SUBJECT_MAX + 1], text[512];
	size_t i;

	snprintf(subject, sizeof(subject), "tapgate %s: %s",
	    d->cfg->appliance.id, e->event);
	snprintf(text, sizeof(text), "The appliance %s raised %s%s%s.\n"
	    "What it says is in its audit log: tapgatectl audit tail.\n",
	    d->cfg->appliance.id, e->event, e->request_id != NULL ?
	    " about request " : "", e->request_id != NULL ? e->request_id :
	    "");
	for (i = 0; i < d->cfg->senders.nsecurity_team; i++)
		if (eng_message_queue_contact(d, &evs, e->request_id,
		    "security_team", d->cfg->senders.security_team[i], subject,
		    text) != 0)
			fprintf(stderr, "tapgated: no sender for the security "
			    "team's %s\n", d->cfg->senders.security_team[i]);
	for (i = 0; i < evs.n; i++) {
		message_post(d, evs.ev[i], 1);
		json_decref(evs.ev[i]);
	}
}

void
engine_audit_committed(const struct audit_entry *e, void *arg)
{
	struct tapgated *d = arg;
	const char *why;
	json_t *details;

	if (strncmp(e->event, "alarm.", 6) == 0)
		alarm_tell(d, e);
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

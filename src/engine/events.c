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
#include "store/alarm.h"
#include "store/notify.h"
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

/* ---- notifications: who hears of which event */

enum notice {
	NOTICE_NONE,
	NOTICE_SUBMITTED,	/* request.created: owner, manager, officers */
	NOTICE_HOLD,		/* hold.started later on */
	NOTICE_CLOSING,		/* veto_window.closing */
	NOTICE_ISSUED,		/* order.issued */
	NOTICE_VETOED,
	NOTICE_DENIED,
	NOTICE_EXPIRED		/* request.expired */
};

static enum notice
notice_of(const char *event)
{
	static const struct {
		const char	*event;
		enum notice	 n;
	} map[] = {
		{ "request.created", NOTICE_SUBMITTED },
		{ "hold.started", NOTICE_HOLD },
		{ "veto_window.closing", NOTICE_CLOSING },
		{ "order.issued", NOTICE_ISSUED },
		{ "request.vetoed", NOTICE_VETOED },
		{ "request.denied", NOTICE_DENIED },
		{ "request.expired", NOTICE_EXPIRED },
	};
	size_t i;

	for (i = 0; event != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].event, event) == 0)
			return map[i].n;
	return NOTICE_NONE;
}

/* What one notification is about, read from its hook event. */
struct notice_ctx {
	enum notice			 n;
	const char			*id, *queue, *account, *system;
	const char			*url;	/* console.url, "" none */
	int64_t				 hold_until;
	struct store_recipient		 rc[STORE_RECIPIENTS_MAX];
	size_t				 nrc;
	char				 code[STORE_RECIPIENTS_MAX]
					    [ENG_VETO_CODE_LEN + 1];
	char				 hash[STORE_RECIPIENTS_MAX][65];
	int				 store_recipients;
	int				 forget;	/* final */
	int64_t				 now;
};

/* eng_txn_fn: the recipients (at submission) and their codes' hashes. */
static int
notice_steps(struct tapgated *d, void *arg)
{
	struct notice_ctx *c = arg;
	json_t *details;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < c->nrc; i++) {
		if (c->store_recipients &&
		    (r = store_recipient_set(d->st, c->id, &c->rc[i],
		    c->now)) != 0)
			break;
		if (c->code[i][0] == '\0')
			continue;
		if ((r = store_veto_code_add(d->st, c->id, c->rc[i].role,
		    c->hash[i], c->now)) != 0)
			break;
		details = json_pack("{s:s,s:s}", "recipient", c->rc[i].role,
		    "channel", c->rc[i].channel);
		r = eng_audit(d, &eng_system, "veto_code.issued", c->id,
		    details, c->now);
		json_decref(details);
	}
	/* the last word: their contacts (copied in c) go from the store */
	if (r == 0 && c->forget)
		r = store_recipient_forget(d->st, c->id);
	return r;
}

static void
notice_time(int64_t t, char *out, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, cap, "the end of its hold");
}

/* The subject and text of n for a recipient (code "" for none). */
static void
notice_text(const struct notice_ctx *c, const char *code, int officer,
    char *subject, size_t scap, char *text, size_t tcap)
{
	static const char *const what[] = {
		[NOTICE_SUBMITTED] = "asked for",
		[NOTICE_HOLD] = "waits out its hold",
		[NOTICE_CLOSING] = "veto window closing",
		[NOTICE_ISSUED] = "approved: order issued",
		[NOTICE_VETOED] = "vetoed",
		[NOTICE_DENIED] = "denied",
		[NOTICE_EXPIRED] = "expired",
	};
	char when[40];
	size_t o;

	notice_time(c->hold_until, when, sizeof(when));
	snprintf(subject, scap, "tapgate: %s of %s on %s %s%s", c->queue,
	    c->account, c->system, what[c->n], officer ? ": approval needed" :
	    "");
	o = (size_t)snprintf(text, tcap, "Request %s: %s of the account %s "
	    "on %s.\n", c->id, c->queue, c->account, c->system);
	if (o >= tcap)
		return;
	if (officer)
		snprintf(text + o, tcap - o, "It waits for an officer's "
		    "approval: tapgatectl requests show %s, then tapgatectl "
		    "approve %s, or deny it.\n", c->id, c->id);
	else if (c->n == NOTICE_ISSUED && code[0] != '\0')
		snprintf(text + o, tcap - o, "It was approved and its order "
		    "issued: the change is being made.  If you did not ask "
		    "for it, revoke the order at once with this veto code:"
		    "\n\n    %s\n\nGive it to the security team or the help "
		    "desk, or POST {\"code\": \"%s\"} to /v1/requests/%s/veto "
		    "on the appliance, and call the security team.\n", code,
		    code, c->id);
	else if (c->n == NOTICE_ISSUED)
		snprintf(text + o, tcap - o, "It was approved and its order "
		    "issued: the change is being made.  If you did not ask "
		    "for it, call the security team now.\n");
	else if (c->n == NOTICE_VETOED || c->n == NOTICE_DENIED)
		snprintf(text + o, tcap - o, "It was %s: nothing will be "
		    "changed.\n", what[c->n]);
	else if (c->n == NOTICE_EXPIRED)
		snprintf(text + o, tcap - o, "It was never completed and has "
		    "expired: nothing will be changed.\n");
	else if (code[0] != '\0')
		snprintf(text + o, tcap - o, "%s%s.\nIf you did not ask for "
		    "this, stop it before then with this veto code:\n\n    "
		    "%s\n\nGive it to the security team or the help desk, or "
		    "POST {\"code\": \"%s\"} to /v1/requests/%s/veto on the "
		    "appliance.\n", c->n == NOTICE_CLOSING ? "It can no longer "
		    "be stopped after " : "It will be carried out after ",
		    c->hold_until > 0 ? when : "its checks, approvals and "
		    "hold", code, code, c->id);
	else
		snprintf(text + o, tcap - o, "It will be carried out after "
		    "%s.\nIf you did not ask for this, call the security team "
		    "now: they can veto it.\n", when);
	/* the code in the fragment: no server log or Referer sees it */
	o = strlen(text);
	if (!officer && code[0] != '\0' && c->url[0] != '\0' && o < tcap)
		snprintf(text + o, tcap - o, "Open %s/console/#/veto/%s/%s to "
		    "see it and stop it.\n", c->url, c->id, code);
}

/* The owner and manager a submission's event names ("_recipients"). */
static void
notice_recipients_of(struct notice_ctx *c, const json_t *ev)
{
	const json_t *a = json_object_get(ev, "_recipients"), *r;
	const char *role, *ch, *dest;
	size_t i;

	json_array_foreach(a, i, r) {
		role = json_string_value(json_object_get(r, "role"));
		ch = json_string_value(json_object_get(r, "channel"));
		dest = json_string_value(json_object_get(r, "destination"));
		if (c->nrc == STORE_RECIPIENTS_MAX || role == NULL ||
		    strcmp(role, "officer") == 0 ||
		    ch == NULL || dest == NULL || strlen(role) >=
		    sizeof(c->rc[0].role) || strlen(ch) >=
		    sizeof(c->rc[0].channel) || strlen(dest) >=
		    sizeof(c->rc[0].destination))
			continue;
		snprintf(c->rc[c->nrc].role, sizeof(c->rc[0].role), "%s",
		    role);
		snprintf(c->rc[c->nrc].channel, sizeof(c->rc[0].channel), "%s",
		    ch);
		snprintf(c->rc[c->nrc].destination,
		    sizeof(c->rc[0].destination), "%s", dest);
		c->nrc++;
	}
}

/* The officers the directory's mail reaches (a submission's event). */
static void
notice_officers_of(struct tapgated *d, struct events *out,
    const struct notice_ctx *c, const json_t *ev, const char *subject,
    const char *text)
{
	const json_t *a = json_object_get(ev, "_recipients"), *r;
	const char *role, *dest;
	size_t i;

	json_array_foreach(a, i, r) {
		role = json_string_value(json_object_get(r, "role"));
		dest = json_string_value(json_object_get(r, "destination"));
		if (role != NULL && dest != NULL &&
		    strcmp(role, "officer") == 0 &&
		    eng_message_queue_about(d, out, c->id, "officer", "mail",
		    dest, subject, text) != 0)
			fprintf(stderr, "tapgated: no message to an officer "
			    "of %s\n", c->id);
	}
}

/*
 * The notifications of one hook event, posted (d->lock, after the
 * commit): the owner and the manager on record, with a fresh veto code
 * while the request can still be vetoed; officers when a new request
 * waits for their approval.  A code whose hash could not be stored is
 * not sent.
 */
static void
notify_event(struct tapgated *d, const json_t *ev)
{
	struct events out = { { NULL }, 0 };
	struct notice_ctx c;
	const json_t *t = json_object_get(ev, "target");
	const char *state;
	char subject[ENG_MSG_SUBJECT_MAX + 1], text[1536];
	size_t i;
	int r;

	memset(&c, 0, sizeof(c));
	c.n = notice_of(json_string_value(json_object_get(ev, "event")));
	c.id = json_string_value(json_object_get(ev, "request_id"));
	c.queue = json_string_value(json_object_get(ev, "queue"));
	c.account = json_string_value(json_object_get(t, "account"));
	c.system = json_string_value(json_object_get(t, "system"));
	c.url = d->cfg->console.url;
	c.hold_until = json_integer_value(json_object_get(ev, "hold_until"));
	if (c.hold_until == 0)
		c.hold_until = json_integer_value(json_object_get(ev,
		    "_hold_until"));
	c.now = (int64_t)time(NULL);
	if (c.n == NOTICE_NONE || c.id == NULL || c.queue == NULL ||
	    c.account == NULL || c.system == NULL ||
	    json_is_true(json_object_get(ev, "_quiet")) ||
	    !policy_senders_configured(d->cfg))
		return;
	if (c.n == NOTICE_SUBMITTED) {
		notice_recipients_of(&c, ev);
		c.store_recipients = 1;
	} else if (store_recipient_list(d->st, c.id, c.rc,
	    STORE_RECIPIENTS_MAX, &c.nrc) != 0)
		c.nrc = 0;
	c.forget = c.n == NOTICE_VETOED || c.n == NOTICE_DENIED ||
	    c.n == NOTICE_EXPIRED;
	/* a code while it can still stop the request: its order too */
	for (i = 0; i < c.nrc && c.n <= NOTICE_ISSUED; i++)
		if (eng_veto_code_new(c.code[i]) != 0 ||
		    eng_veto_code_hash(c.id, c.code[i], c.hash[i]) != 0)
			c.code[i][0] = '\0';
	if (c.nrc > 0 && (r = eng_txn(d, notice_steps, &c, NULL, NULL,
	    NULL)) != 0) {
		fprintf(stderr, "tapgated: cannot record the veto codes of "
		    "%s: %s\n", c.id, tg_strerror(r));
		memset(c.code, 0, sizeof(c.code));
	}
	for (i = 0; i < c.nrc; i++) {
		notice_text(&c, c.code[i], 0, subject, sizeof(subject), text,
		    sizeof(text));
		if ((r = eng_message_queue_about(d, &out, c.id,
		    c.rc[i].role, c.rc[i].channel, c.rc[i].destination,
		    subject, text)) != 0)
			fprintf(stderr, "tapgated: no message to the %s of %s: "
			    "%s\n", c.rc[i].role, c.id, tg_strerror(r));
		explicit_bzero(text, sizeof(text));
	}
	explicit_bzero(c.code, sizeof(c.code));
	state = json_string_value(json_object_get(ev, "_state"));
	if (c.n == NOTICE_SUBMITTED && state != NULL &&
	    strcmp(state, "needs_approval") == 0) {
		notice_text(&c, "", 1, subject, sizeof(subject), text,
		    sizeof(text));
		for (i = 0; i < d->cfg->senders.nofficers; i++)
			if ((r = eng_message_queue_contact(d, &out, c.id,
			    "officer", d->cfg->senders.officers[i], subject,
			    text)) != 0)
				fprintf(stderr, "tapgated: no message to "
				    "officer contact %zu: %s\n", i,
				    tg_strerror(r));
		notice_officers_of(d, &out, &c, ev, subject, text);
	}
	for (i = 0; i < out.n; i++) {
		message_post(d, out.ev[i], 0);
		json_decref(out.ev[i]);
	}
}

/* Drop the engine's own keys ("_...") before hooks see an event. */
static void
strip_private(json_t *ev)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(ev, tmp, k, v)
		if (k[0] == '_')
			json_object_del(ev, k);
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
		notify_event(d, evs->ev[i]);
		strip_private(evs->ev[i]);
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

#define SENDERS_ALARM	"alarm.notifications_unconfigured"

struct senders_change {
	int	 raised;
	int64_t	 now;
};

static int
senders_steps(struct tapgated *d, void *arg)
{
	const struct senders_change *c = arg;
	json_t *details;
	int r;

	if ((r = store_alarm_set(d->st, SENDERS_ALARM, "senders", c->raised,
	    c->now)) != 0)
		return r;
	details = json_pack("{s:s}", "detail", c->raised ? "no sender is "
	    "configured: owners, managers and officers hear of no request, "
	    "and no veto code is sent" : "a sender is configured");
	r = eng_audit(d, &eng_system, c->raised ? SENDERS_ALARM :
	    "notifications.configured", NULL, details, c->now);
	json_decref(details);
	return r;
}

void
engine_senders_check(struct tapgated *d, int64_t now)
{
	struct senders_change c = { !policy_senders_configured(d->cfg), now };
	int stored, r;

	if (c.raised)
		fprintf(stderr, "tapgated: ALARM: no sender configured "
		    "(senders): nobody hears of a request, and no veto code "
		    "can be sent\n");
	r = store_alarm_get(d->st, SENDERS_ALARM, "senders", &stored, NULL);
	if (r == TG_ERR_NOT_FOUND)
		stored = 0;	/* first start: only a missing sender raises */
	else if (r != 0)
		return;
	if (stored == c.raised)
		return;
	if ((r = eng_txn(d, senders_steps, &c, NULL, NULL, NULL)) != 0)
		fprintf(stderr, "tapgated: cannot audit the senders' alarm: "
		    "%s\n", tg_strerror(r));
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

/* SPDX-License-Identifier: ISC */
/*
 * Holds over time.  A waiting period counts only while a veto can be
 * taken: the monitor stores a heartbeat, and the time it was down (since
 * the last heartbeat) or stalled (since its last look at the clock) is
 * downtime that extends every hold it ate.  The hooks hear once that a
 * veto window is about to close.  And a request loaded for an API call
 * (eng_load) sees the clock counted first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/txn.h"

#define WARNED_MAX	256

/* Requests whose closing veto window the hooks have heard of. */
static char	warned[WARNED_MAX][STORE_ID_LEN + 1];
static size_t	warned_next;

#define HEARTBEAT_KEY	"heartbeat"
#define HELD_PAGE	500

int
eng_load_seen(struct tapgated *d, const struct engine_actor *a,
    const char *id, struct facts *f, struct engine_result *res)
{
	int r;

	if ((r = eng_load(d, id, f, res)) != 0)
		return r;
	if (a->team == NULL || (f->row->requester_team != NULL &&
	    strcmp(f->row->requester_team, a->team) == 0))
		return 0;
	eng_facts_clear(f);
	eng_error(res, 404, "not_found", "no such request");
	return TG_ERR_NOT_FOUND;
}

int
eng_evidence_open(struct tapgated *d, const struct facts *f, size_t nev,
    int64_t now, struct engine_result *res)
{
	struct policy_decision dec;
	char err[512];
	int r;

	if (f->rq.pr.nevidence + nev > POLICY_MAX_EVIDENCE) {
		snprintf(err, sizeof(err), "evidence: a request holds at most "
		    "%d items", POLICY_MAX_EVIDENCE);
		eng_error(res, 422, "too_much_evidence", err);
		return TG_ERR_TOO_LONG;
	}
	if ((r = eng_facts_evaluate(d, f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		return r;
	}
	if (f->nappr > 0) {
		/* approvals signed the evidence as it was: it is final now */
		eng_error(res, 409, "evidence_final", "officers have approved "
		    "this request: its evidence can no longer change (deny it "
		    "and submit a new request)");
		return TG_ERR_CONFLICT;
	}
	if (eng_final_state(dec.state) || dec.state == POLICY_STATE_READY) {
		snprintf(err, sizeof(err), "request is %s: evidence can no "
		    "longer change it", policy_state_name(dec.state));
		eng_error(res, 409, "request_closed", err);
		return TG_ERR_CONFLICT;
	}
	return 0;
}

int
eng_load(struct tapgated *d, const char *id, struct facts *f,
    struct engine_result *res)
{
	char err[512];
	int r;

	memset(f, 0, sizeof(*f));
	/* a stalled monitor first extends the holds it ate */
	if ((r = eng_clock(d, (int64_t)time(NULL))) != 0)
		return eng_db_error(d, res, r);
	if ((r = eng_facts_load(d, id, f, err, sizeof(err))) == 0)
		return 0;
	if (r == TG_ERR_NOT_FOUND)
		eng_error(res, 404, "not_found", "no such request");
	else if (r == TG_ERR_INVALID || r == TG_ERR_TOO_LONG)
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration; deny it");
	else
		eng_db_error(d, res, r);
	return r;
}

static int
collect_due(const struct store_request *rw, void *arg)
{
	struct due *due = arg;

	if (due->n == DUE_MAX)
		return TG_ERR_INTERNAL;	/* the store gave more than asked */
	snprintf(due->ids[due->n], sizeof(due->ids[0]), "%s", rw->id);
	due->start[due->n] = rw->hold_start;
	due->end[due->n] = rw->hold_end;
	due->n++;
	return 0;
}

int
eng_holds_due(struct tapgated *d, int64_t before, struct due *due)
{
	memset(due, 0, sizeof(*due));
	return store_request_list_hold_due(d->st, "in_hold", before, DUE_MAX,
	    collect_due, due);
}

static int
warned_before(const char *id)
{
	size_t i;

	for (i = 0; i < WARNED_MAX; i++)
		if (strcmp(warned[i], id) == 0)
			return 1;
	snprintf(warned[warned_next], sizeof(warned[0]), "%s", id);
	warned_next = (warned_next + 1) % WARNED_MAX;
	return 0;
}

/* A hold was extended: its new end deserves a new warning. */
static void
warned_forget(const char *id)
{
	size_t i;

	for (i = 0; i < WARNED_MAX; i++)
		if (strcmp(warned[i], id) == 0)
			warned[i][0] = '\0';
}

/*
 * Hooks hear once that a veto window is about to close: in its last tenth,
 * and at least the last minute.
 */
void
eng_warn_closing(struct tapgated *d, int64_t now)
{
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	struct due due;
	char err[256];
	int64_t warn;
	size_t i;

	if (eng_holds_due(d, now + 86400, &due) != 0)
		return;
	for (i = 0; i < due.n; i++) {
		warn = (due.end[i] - due.start[i]) / 10;
		if (warn < 60)
			warn = 60;
		if (due.end[i] <= now || due.end[i] - now > warn ||
		    warned_before(due.ids[i]))
			continue;
		if (eng_facts_load(d, due.ids[i], &f, err, sizeof(err)) != 0)
			continue;
		if (eng_facts_evaluate(d, &f, now, &dec) == 0) {
			json_t *ev = eng_event_new(d, "veto_window.closing",
			    due.ids[i], &f.rq.pr, now);

			if (ev != NULL)
				json_object_set_new(ev, "hold_until",
				    json_integer(due.end[i]));
			eng_events_add(&evs, ev);
		}
		eng_facts_clear(&f);
	}
	eng_events_post(d, &evs);
}

/* The requests in hold when the appliance went down, as many as there are. */
struct held {
	struct held_request {
		char	id[STORE_ID_LEN + 1];
		char	queue[STORE_MAX_NAME + 1];
		char	account[STORE_MAX_NAME + 1];
		char	system[STORE_MAX_NAME + 1];
		int64_t	start;
		int64_t	end;
	}	*v;
	size_t	 n;
	size_t	 cap;
};

static int
collect_held(const struct store_request *rw, void *arg)
{
	struct held *h = arg;
	size_t cap;
	void *p;

	if (h->n == h->cap) {
		cap = h->cap ? 2 * h->cap : 16;
		if ((p = reallocarray(h->v, cap, sizeof(*h->v))) == NULL)
			return TG_ERR_NOMEM;
		h->v = p;
		h->cap = cap;
	}
	snprintf(h->v[h->n].id, sizeof(h->v[0].id), "%s", rw->id);
	snprintf(h->v[h->n].queue, sizeof(h->v[0].queue), "%s", rw->queue);
	snprintf(h->v[h->n].account, sizeof(h->v[0].account), "%s",
	    rw->target_account);
	snprintf(h->v[h->n].system, sizeof(h->v[0].system), "%s",
	    rw->target_system);
	h->v[h->n].start = rw->hold_start;
	h->v[h->n].end = rw->hold_end;
	h->n++;
	return 0;
}

/* Every request in hold whose hold had not ended at `after`. */
static int
list_held(struct tapgated *d, int64_t after, struct held *h)
{
	size_t before;
	int r;

	for (;;) {
		before = h->n;
		if ((r = store_request_list_hold_after(d->st, "in_hold", after,
		    h->n > 0 ? h->v[h->n - 1].id : "", HELD_PAGE, collect_held,
		    h)) != 0)
			return r;
		if (h->n - before < HELD_PAGE)
			return 0;
	}
}

/* When a hold the downtime ate now ends. */
static int64_t
extended_end(const struct tapgated *d, int64_t end, int64_t down,
    int64_t now)
{
	int64_t fresh = now + d->cfg->holds.restart_veto_seconds;
	int64_t until = end + down;

	/* ran out meanwhile: the owner gets a fresh veto window */
	if (end <= now && until < fresh)
		until = fresh;
	return until > POLICY_MAX_TIME ? POLICY_MAX_TIME : until;
}

/* Tell the hooks that a hold was extended, after the commit. */
static void
post_extended(struct tapgated *d, const struct held *h, size_t i,
    int64_t until, int64_t now)
{
	struct events evs = { { NULL }, 0 };

	eng_events_add(&evs, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:I,"
	    "s:I}", "event", "hold.extended", "appliance",
	    d->cfg->appliance.id, "request_id", h->v[i].id, "queue",
	    h->v[i].queue, "target", "account", h->v[i].account, "system",
	    h->v[i].system, "time", (json_int_t)now, "hold_until",
	    (json_int_t)until));
	eng_events_post(d, &evs);
	warned_forget(h->v[i].id);
}

/* The holds a downtime extends, as the steps of its transaction. */
struct downtime_txn {
	const struct held	*h;
	int64_t			 from;
	int64_t			 now;
	const char		*cause;
};

/* Extend the hold of held request v, audited as hold.extended. */
static int
extend_hold(struct tapgated *d, const struct downtime_txn *t,
    const struct held_request *v)
{
	int64_t down = t->now - t->from;
	int64_t until = extended_end(d, v->end, down, t->now);
	json_t *details;
	int r;

	details = json_pack("{s:s,s:I,s:I,s:I,s:I,s:b}", "cause", t->cause,
	    "from", (json_int_t)v->end, "until", (json_int_t)until,
	    "downtime", (json_int_t)down, "since", (json_int_t)t->from,
	    "fresh_window", v->end <= t->now);
	if ((r = store_request_set_hold(d->st, v->id, v->start, until,
	    t->now)) == 0)
		r = eng_audit(d, &eng_system, "hold.extended", v->id, details,
		    t->now);
	json_decref(details);
	return r;
}

static int
downtime_steps(struct tapgated *d, void *arg)
{
	const struct downtime_txn *t = arg;
	size_t i;
	int r;

	for (i = 0; i < t->h->n; i++)
		if ((r = extend_hold(d, t, &t->h->v[i])) != 0)
			return r;
	return store_meta_set(d->st, HEARTBEAT_KEY, t->now);
}

/*
 * The appliance could take no veto from `from` to `now` (it was down, or
 * stalled): extend every hold still running at `from` by that time, with
 * a fresh veto window for those that ran out meanwhile, each audited, in
 * one transaction with the new heartbeat.
 */
static int
downtime(struct tapgated *d, int64_t from, int64_t now,
    const char *cause)
{
	struct downtime_txn t;
	struct held h;
	int64_t down = now - from;
	size_t i;
	int r;

	memset(&h, 0, sizeof(h));
	t = (struct downtime_txn){ &h, from, now, cause };
	if ((r = list_held(d, from, &h)) == 0)
		r = eng_txn(d, downtime_steps, &t, NULL, NULL, NULL);
	if (r != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: cannot extend the holds after %lld "
		    "s of downtime (%s): %s (%s)\n", (long long)down, cause,
		    tg_strerror(r), store_errmsg(d->st));
		free(h.v);
		return r;
	}
	d->heartbeat_at = now;
	fprintf(stderr, "tapgated: %lld s without a veto (%s, since %lld): "
	    "%zu hold(s) extended\n", (long long)down, cause,
	    (long long)from, h.n);
	for (i = 0; i < h.n; i++)
		post_extended(d, &h, i, extended_end(d, h.v[i].end, down, now),
		    now);
	free(h.v);
	return 0;
}

static int
heartbeat_step(struct tapgated *d, void *arg)
{
	const int64_t *now = arg;

	return store_meta_set(d->st, HEARTBEAT_KEY, *now);
}

static int
heartbeat_store(struct tapgated *d, int64_t now)
{
	int r;

	if ((r = eng_txn(d, heartbeat_step, &now, NULL, NULL, NULL)) != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: cannot store the heartbeat: %s\n",
		    tg_strerror(r));
		return r;
	}
	d->heartbeat_at = now;
	return 0;
}

void
eng_heartbeat_due(struct tapgated *d, int64_t now)
{
	/* every DAEMON_HEARTBEAT_SECONDS, and when the clock went back */
	if (d->clock_seen != 0 && (now - d->heartbeat_at >=
	    DAEMON_HEARTBEAT_SECONDS || now < d->heartbeat_at))
		(void)heartbeat_store(d, now);
}

int
eng_clock(struct tapgated *d, int64_t now)
{
	int r;

	if (d->clock_seen == 0)
		return 0;	/* not started (engine_start) */
	if (now - d->clock_seen > d->cfg->holds.stall_seconds &&
	    (r = downtime(d, d->clock_seen, now, "stall")) != 0)
		return r;	/* tried again on the next look */
	d->clock_seen = now;
	return 0;
}

int
engine_start(struct tapgated *d, int64_t now)
{
	int64_t hb = 0;
	int r;

	r = store_meta_get(d->st, HEARTBEAT_KEY, &hb);
	if (r != 0 && r != TG_ERR_NOT_FOUND)
		return r;
	if (r == 0 && hb > 0 && now > hb)
		r = downtime(d, hb, now, "restart");
	else
		r = heartbeat_store(d, now);
	if (r == 0)
		d->clock_seen = now;
	return r;
}

void
engine_stop(struct tapgated *d, int64_t now)
{
	/* after a stall, the older heartbeat makes the next start count it */
	if (d->st != NULL && d->clock_seen != 0 &&
	    now - d->clock_seen <= d->cfg->holds.stall_seconds)
		(void)heartbeat_store(d, now);
}

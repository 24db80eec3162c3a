/* SPDX-License-Identifier: ISC */
/*
 * The hold timer, run by the monitor's main loop every second: it counts
 * downtime and stores the heartbeat (holds.c), expires the requests that
 * had no order in their time, moves on the requests whose hold has ended
 * (to the signer when they are ready), warns the hooks of veto windows
 * about to close, raises the alarm of an order redeemed and never
 * reported, and signs the audit head when a checkpoint is due.
 */
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/redemption.h"
#include "engine/signer.h"
#include "engine/txn.h"

/*
 * Park a due request the timer cannot move on (the facts do not load or
 * evaluate, or recording the change failed for a reason that will not go
 * away), in a transaction of its own: it never blocks the timer again.
 */
struct park_txn {
	const char	*id;
	const char	*state;
	const char	*cause;
	int64_t		 now;
};

static int
park_steps(struct tapgated *d, void *arg)
{
	const struct park_txn *t = arg;

	return eng_park(d, t->id, t->state, t->cause, &eng_system, t->now);
}

static void
tick_park(struct tapgated *d, const char *id, const char *state,
    const char *cause, int64_t now)
{
	struct park_txn t = { id, state, cause, now };
	int r;

	if ((r = eng_txn(d, park_steps, &t, NULL, NULL, NULL)) != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: hold timer: cannot park request "
		    "%s: %s\n", id, tg_strerror(r));
	}
}

/* What the end of a hold changed, as the steps of its transaction. */
struct tick_txn {
	const struct facts		*f;
	const struct policy_decision	*dec;
	struct events			*evs;
	int64_t				 now;
};

static int
tick_steps(struct tapgated *d, void *arg)
{
	const struct tick_txn *t = arg;
	int r;

	if ((r = eng_facts_apply(d, t->f, t->dec, &eng_system, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, &eng_system, t->now, t->evs);
}

/* Move one request whose hold has ended on; 1 when it changed. */
static int
tick_one(struct tapgated *d, const char *id, const char *state, int64_t now)
{
	struct policy_decision dec;
	struct tick_txn t;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	char err[ENG_WHY_MAX - 64], why[ENG_WHY_MAX];
	int r;

	err[0] = '\0';
	if ((r = eng_facts_load(d, id, &f, err, sizeof(err))) != 0) {
		snprintf(why, sizeof(why), "the stored request does not "
		    "load: %s", err[0] != '\0' ? err : tg_strerror(r));
		goto park;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		snprintf(why, sizeof(why), "the policy cannot evaluate the "
		    "stored request: %s", tg_strerror(r));
		goto park;
	}
	/* ready: the directory's facts are looked up again when old */
	if (dec.state == POLICY_STATE_READY &&
	    (r = eng_facts_recheck(d, &f, now)) != 0) {
		eng_facts_clear(&f);
		if (r == ENG_NOT_NOW)
			return 0;	/* nothing signed: the next tick */
		d->errors++;
		fprintf(stderr, "tapgated: hold timer: request %s: looking "
		    "its facts up again failed: %s\n", id, tg_strerror(r));
		return 0;
	}
	if (dec.state == POLICY_STATE_READY &&
	    (r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		snprintf(why, sizeof(why), "the policy cannot evaluate the "
		    "stored request: %s", tg_strerror(r));
		goto park;
	}
	t = (struct tick_txn){ &f, &dec, &evs, now };
	if ((r = eng_txn(d, tick_steps, &t, &evs, NULL, NULL)) != 0) {
		snprintf(why, sizeof(why), "recording its new state failed: "
		    "%s (%s)", tg_strerror(r), store_errmsg(d->st));
		goto park;
	}
	eng_events_post(d, &evs);
	eng_facts_clear(&f);
	return 1;
park:
	eng_facts_clear(&f);
	if (eng_transient(r)) {
		/* the database or memory: it may work on the next tick */
		d->errors++;
		fprintf(stderr, "tapgated: hold timer: request %s: %s\n", id,
		    why);
		return 0;
	}
	tick_park(d, id, state, why, now);
	return 0;
}

/* ---- requests whose time ran out */

#define EXPIRE_MAX	32	/* requests expired in one tick, at most */

struct expiring {
	char	ids[EXPIRE_MAX][STORE_ID_LEN + 1];
	char	states[EXPIRE_MAX][ENG_NAME_MAX];
	size_t	n;
};

static int
collect_expiring(const char *id, const char *state, void *arg)
{
	struct expiring *ex = arg;

	if (ex->n == EXPIRE_MAX)
		return TG_ERR_INTERNAL;	/* the store gave more than asked */
	snprintf(ex->ids[ex->n], sizeof(ex->ids[0]), "%s", id);
	snprintf(ex->states[ex->n++], sizeof(ex->states[0]), "%s", state);
	return 0;
}

/* A request expired, as the steps of its transaction (f NULL: a request
 * whose facts do not load, from state, expired all the same). */
struct expire_txn {
	const char			*id;
	const char			*from;
	const struct facts		*f;
	const struct policy_decision	*dec;
	const json_t			*details;
	struct events			*evs;
	int64_t				 now;
};

static int
expire_steps(struct tapgated *d, void *arg)
{
	const struct expire_txn *t = arg;
	struct store_decision sd;
	int r;

	memset(&sd, 0, sizeof(sd));
	sd.request_id = t->id;
	sd.kind = ENG_EXPIRED;
	sd.actor_uid = eng_system.uid;
	sd.actor_role = eng_system.role;
	sd.actor_name = eng_system.name;
	sd.reason = "no order within holds.request_ttl_seconds of its "
	    "submission";
	sd.created = t->now;
	if ((r = store_decision_add(d->st, &sd, NULL)) != 0 ||
	    (r = eng_audit(d, &eng_system, "request.expired", sd.request_id,
	    t->details, t->now)) != 0)
		return r;
	if (t->f == NULL)
		return store_request_set_state(d->st, t->id, t->from,
		    policy_state_name(POLICY_STATE_EXPIRED), NULL, t->now);
	r = eng_facts_apply(d, t->f, t->dec, &eng_system, t->now, t->evs);
	return r == ENG_READY ? TG_ERR_INTERNAL : r;
}

/*
 * A request whose facts no longer load (a configuration that refuses what
 * was stored): expired on its row alone, so that it is final and the
 * timer never meets it again.
 */
static int
expire_unloaded(struct tapgated *d, const char *id, const char *from,
    const char *cause, int64_t now)
{
	struct expire_txn t;
	json_t *details;
	int r;

	details = json_pack("{s:s,s:I,s:s}", "from", from, "ttl_seconds",
	    (json_int_t)d->cfg->holds.request_ttl_seconds, "cause", cause);
	t = (struct expire_txn){ id, from, NULL, NULL, details, NULL, now };
	r = details != NULL ? eng_txn(d, expire_steps, &t, NULL, NULL, NULL) :
	    TG_ERR_NOMEM;
	json_decref(details);
	if (r != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: request timer: request %s: "
		    "recording its expiry failed: %s\n", id, tg_strerror(r));
	}
	return r == 0;
}

/* Expire one request that had no order in its time; 1 when it did. */
static int
expire_one(struct tapgated *d, const char *id, const char *from,
    int64_t now)
{
	struct policy_decision dec;
	struct expire_txn t;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	json_t *details = NULL;
	char err[ENG_WHY_MAX];
	int r;

	err[0] = '\0';
	if ((r = eng_facts_load(d, id, &f, err, sizeof(err))) != 0) {
		if (eng_transient(r)) {
			d->errors++;
			fprintf(stderr, "tapgated: request timer: request %s: "
			    "%s\n", id, tg_strerror(r));
			return 0;
		}
		return expire_unloaded(d, id, from, err[0] != '\0' ? err :
		    tg_strerror(r), now);
	}
	f.expired = true;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    dec.state != POLICY_STATE_EXPIRED) {
		/* never again: its row alone says it expired */
		snprintf(err, sizeof(err), "the policy cannot evaluate it: %s",
		    r != 0 ? tg_strerror(r) : policy_state_name(dec.state));
		eng_facts_clear(&f);
		return expire_unloaded(d, id, from, err, now);
	}
	if ((details = json_pack("{s:s,s:I,s:I}", "from", f.row->state,
	    "created", (json_int_t)f.row->created, "ttl_seconds",
	    (json_int_t)d->cfg->holds.request_ttl_seconds)) == NULL) {
		d->errors++;
		eng_facts_clear(&f);
		return 0;
	}
	t = (struct expire_txn){ id, f.row->state, &f, &dec, details, &evs,
	    now };
	if ((r = eng_txn(d, expire_steps, &t, &evs, NULL, NULL)) != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: request timer: request %s: "
		    "recording its expiry failed: %s\n", id, tg_strerror(r));
	} else
		eng_events_post(d, &evs);
	json_decref(details);
	eng_facts_clear(&f);
	return r == 0;
}

/*
 * Expire the requests that have no order holds.request_ttl_seconds after
 * their submission and are not final: before any hold ends in this tick,
 * so that none of them is signed.
 */
static int
tick_expire(struct tapgated *d, int64_t now)
{
	static const enum policy_state open[] = {
		POLICY_STATE_NEEDS_EVIDENCE, POLICY_STATE_NEEDS_APPROVAL,
		POLICY_STATE_MANUAL_REVIEW, POLICY_STATE_IN_HOLD,
		POLICY_STATE_READY,
	};
	const char *states[sizeof(open) / sizeof(open[0])];
	struct expiring ex;
	size_t i;
	int r, changed = 0;

	for (i = 0; i < sizeof(open) / sizeof(open[0]); i++)
		states[i] = policy_state_name(open[i]);
	ex.n = 0;
	if ((r = store_request_list_unfinished(d->st, now -
	    d->cfg->holds.request_ttl_seconds + 1, states,
	    sizeof(states) / sizeof(states[0]), EXPIRE_MAX, collect_expiring,
	    &ex)) != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: request timer: %s (%s)\n",
		    tg_strerror(r), store_errmsg(d->st));
		return 0;
	}
	for (i = 0; i < ex.n; i++)
		changed += expire_one(d, ex.ids[i], ex.states[i], now);
	return changed;
}

int
engine_tick(struct tapgated *d, int64_t now)
{
	struct due due;
	size_t i;
	int r, changed = 0;

	/* downtime first: a hold it ate must not end now */
	if ((r = eng_clock(d, now)) != 0)
		return r;
	eng_heartbeat_due(d, now);
	changed += tick_expire(d, now);
	/* a request the timer cannot move on is parked, so none blocks it */
	if ((r = eng_holds_due(d, now, &due)) != 0)
		return r;
	for (i = 0; i < due.n; i++)
		changed += tick_one(d, due.ids[i], "in_hold", now);
	eng_warn_closing(d, now);
	/* orders redeemed and never reported: an alarm, once each */
	if ((r = eng_redemption_overdue(d, now)) < 0) {
		d->errors++;
		fprintf(stderr, "tapgated: hold timer: cannot look for "
		    "unreported orders: %s\n", tg_strerror(r));
	}
	/* sign the audit head when due (and when the clock went back) */
	if (now >= d->checkpoint_next || d->checkpoint_next - now >
	    (d->checkpoint_interval > 0 ? d->checkpoint_interval :
	    DAEMON_CHECKPOINT_SECONDS))
		(void)engine_checkpoint(d, now);
	return changed;
}

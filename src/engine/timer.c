/* SPDX-License-Identifier: ISC */
/*
 * The hold timer, run by the monitor's main loop every second: it counts
 * downtime and stores the heartbeat (holds.c), moves on the requests
 * whose hold has ended (to the signer when they are ready), warns the
 * hooks of veto windows about to close, raises the alarm of an order
 * redeemed and never reported, and signs the audit head when a
 * checkpoint is due.
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

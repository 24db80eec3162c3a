/* SPDX-License-Identifier: ISC */
/*
 * What became of a redeemed order (redemption.h): the state GET
 * /v1/orders/ID shows, the redeemer recorded with each redemption, one
 * more redemption by the same caller after an operator's resume, and the
 * alarm for an order redeemed and never reported, raised once by the
 * timer and cleared when the order is settled.
 */
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "engine/redemption.h"
#include "engine/txn.h"
#include "store/alarm.h"
#include "store/orderstate.h"

/* ---- the state */

static int
state_json(const struct store_order_state *o, void *arg)
{
	json_t *out = arg, *rep;

	if (json_object_set_new(out, "state",
	    json_string(store_order_state_name(o))) != 0)
		return TG_ERR_NOMEM;
	if (o->redeemed == 0)
		return 0;
	if ((o->redeemed_by != NULL && json_object_set_new(out,
	    "redeemed_by", json_string(o->redeemed_by)) != 0) ||
	    json_object_set_new(out, "redemptions",
	    json_integer(o->redemptions)) != 0)
		return TG_ERR_NOMEM;
	if (o->outcome_json == NULL)
		return 0;
	if ((rep = json_loads(o->outcome_json, 0, NULL)) == NULL)
		return TG_ERR_CORRUPT;
	if (json_object_set_new(out, "outcome", rep) != 0 ||
	    json_object_set_new(out, "outcome_at",
	    json_integer(o->outcome_at)) != 0)
		return TG_ERR_NOMEM;
	return 0;
}

int
eng_redemption_json(struct tapgated *d, const char *id, json_t *o)
{
	return store_order_state_get(d->st, id, state_json, o);
}

int
eng_redemption_note(struct tapgated *d, const struct engine_actor *a,
    const char *jti, int64_t now)
{
	return store_order_redeemed_by(d->st, jti, a->uid, now);
}

/* ---- one more redemption after a resume */

static int
copy_state(const struct store_order_state *o, void *arg)
{
	struct store_order_state *out = arg;

	out->resumable = o->resumable;
	out->redeemed_uid = o->redeemed_uid;
	return 0;
}

struct again_txn {
	const struct engine_actor	*a;
	const char			*id;
	const char			*jti;
	const json_t			*details;
	int64_t				 now;
};

static int
again_steps(struct tapgated *d, void *arg)
{
	const struct again_txn *t = arg;
	int r;

	if ((r = store_order_redeemed_by(d->st, t->jti, t->a->uid,
	    t->now)) != 0)
		return r;
	return eng_audit(d, t->a, "order.redeemed", t->id, t->details,
	    t->now);
}

int
eng_redemption_again(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *jti, int64_t now, struct engine_result *res)
{
	struct store_order_state st;
	struct again_txn t;
	json_t *details;
	int r;

	memset(&st, 0, sizeof(st));
	if ((r = store_order_state_get(d->st, id, copy_state, &st)) != 0) {
		eng_db_error(d, res, r);
		return r;
	}
	/* never a redemption by another caller: only the redeemer's again */
	if (!st.resumable || st.redeemed_uid != a->uid)
		return TG_ERR_IMMUTABLE;
	details = json_pack("{s:s,s:s,s:b}", "jti", jti, "by", a->name,
	    "resumed", 1);
	if (details == NULL) {
		eng_db_error(d, res, TG_ERR_NOMEM);
		return TG_ERR_NOMEM;
	}
	t = (struct again_txn){ a, id, jti, details, now };
	r = eng_txn(d, again_steps, &t, NULL, res, NULL);
	json_decref(details);
	if (r != 0)
		return r;
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:I,s:b}", "request_id", id, "jti",
	    jti, "redeemed_at", (json_int_t)now, "resumed", 1);
	return 0;
}

/* ---- the alarm */

int
eng_redemption_clear_alarm(struct tapgated *d, const char *id, int64_t now,
    int *clearedp)
{
	int raised = 0, r;

	*clearedp = 0;
	r = store_alarm_get(d->st, ENG_UNREPORTED_ALARM, id, &raised, NULL);
	if (r == TG_ERR_NOT_FOUND || (r == 0 && !raised))
		return 0;
	if (r != 0)
		return r;
	*clearedp = 1;
	return store_alarm_set(d->st, ENG_UNREPORTED_ALARM, id, 0, now);
}

/* An overdue order, found by the timer's look. */
struct overdue {
	char	 id[80];
	char	 jti[40];
	char	 by[80];
	int64_t	 since;
};

struct overdue_list {
	struct overdue	 v[16];		/* at most this many per look */
	size_t		 n;
};

static int
collect_overdue(const struct store_order_state *o, void *arg)
{
	struct overdue_list *l = arg;
	struct overdue *ov;

	ov = &l->v[l->n++];
	snprintf(ov->id, sizeof(ov->id), "%s", o->request_id);
	snprintf(ov->jti, sizeof(ov->jti), "%s", o->jti);
	snprintf(ov->by, sizeof(ov->by), "%s",
	    o->redeemed_by != NULL ? o->redeemed_by : "");
	ov->since = o->last_redeemed;
	/* the rest on the next look */
	return l->n == sizeof(l->v) / sizeof(l->v[0]) ? 1 : 0;
}

struct raise_txn {
	const struct overdue	*ov;
	const json_t		*details;
	int64_t			 now;
};

static int
raise_steps(struct tapgated *d, void *arg)
{
	const struct raise_txn *t = arg;
	int r;

	/* once per redemption: the order leaves the timer's look */
	if ((r = store_alarm_set(d->st, ENG_UNREPORTED_ALARM, t->ov->id, 1,
	    t->now)) != 0 ||
	    (r = store_order_alarmed(d->st, t->ov->jti)) != 0)
		return r;
	return eng_audit(d, &eng_system, ENG_UNREPORTED_ALARM, t->ov->id,
	    t->details, t->now);
}

int
eng_redemption_overdue(struct tapgated *d, int64_t now)
{
	struct overdue_list l;
	struct raise_txn t;
	json_t *details;
	int64_t limit = d->cfg->orders.outcome_timeout_seconds;
	size_t i;
	int r, raised = 0;

	memset(&l, 0, sizeof(l));
	r = store_order_unreported(d->st, now - limit, collect_overdue, &l);
	if (r < 0)
		return r;
	for (i = 0; i < l.n; i++) {
		details = json_pack("{s:s,s:s,s:I,s:I}", "jti", l.v[i].jti,
		    "redeemed_by", l.v[i].by, "redeemed_at",
		    (json_int_t)l.v[i].since, "timeout_seconds",
		    (json_int_t)limit);
		if (details == NULL)
			return TG_ERR_NOMEM;
		t = (struct raise_txn){ &l.v[i], details, now };
		r = eng_txn(d, raise_steps, &t, NULL, NULL, NULL);
		json_decref(details);
		if (r != 0)
			return r;
		fprintf(stderr, "tapgated: ALARM: the order of request %s "
		    "(jti %s) was redeemed by %s %lld s ago and its outcome "
		    "was never reported: the change may be half made\n",
		    l.v[i].id, l.v[i].jti, l.v[i].by,
		    (long long)(now - l.v[i].since));
		raised++;
	}
	return raised;
}

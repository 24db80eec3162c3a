/* SPDX-License-Identifier: ISC */
/*
 * What became of a redeemed order, told by the downstream system that
 * redeemed it (POST /v1/orders/ID/outcome) and settled by an operator
 * (POST /v1/orders/ID/resume).  Both are audited in the request's
 * history and clear the alarm of an order redeemed and never reported
 * (redemption.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "engine/body.h"
#include "engine/redemption.h"
#include "engine/txn.h"
#include "store/orderstate.h"

#define OUTCOME_CHANGED_MAX	32	/* items of "changed" */
#define OUTCOME_ITEM_MAX	256	/* bytes of one item */
#define OUTCOME_RESULT_MAX	512	/* bytes of "directory_result" */
#define RESUME_REASON_MAX	256

/* The order's state, copied out of the store's row. */
struct order_now {
	char	 jti[40];
	char	 outcome[16];		/* "" when none */
	int64_t	 redeemed;
	int64_t	 redeemed_uid;
	int	 resumable;
};

static int
copy_now(const struct store_order_state *o, void *arg)
{
	struct order_now *n = arg;

	snprintf(n->jti, sizeof(n->jti), "%s", o->jti);
	snprintf(n->outcome, sizeof(n->outcome), "%s",
	    o->outcome != NULL ? o->outcome : "");
	n->redeemed = o->redeemed;
	n->redeemed_uid = o->redeemed_uid;
	n->resumable = o->resumable;
	return 0;
}

/* The order of request id, or res answered (404, 500). */
static int
order_now(struct tapgated *d, const char *id, struct order_now *n,
    struct engine_result *res)
{
	int r;

	memset(n, 0, sizeof(*n));
	if (!store_request_id_valid(id)) {
		eng_error(res, 404, "not_found", "no order for that request");
		return TG_ERR_NOT_FOUND;
	}
	if ((r = store_order_state_get(d->st, id, copy_now, n)) != 0) {
		if (r == TG_ERR_NOT_FOUND)
			eng_error(res, 404, "not_found", "no order for that "
			    "request");
		else
			eng_db_error(d, res, r);
	}
	return r;
}

/* Whether s (len bytes) is text to keep: no control character. */
static int
printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* A bounded string member's value, or NULL with res answered (422). */
static const char *
bounded(const json_t *v, const char *what, size_t max,
    struct engine_result *res)
{
	char msg[160];

	if (json_is_string(v) && json_string_length(v) <= max &&
	    printable(json_string_value(v), json_string_length(v)) &&
	    strlen(json_string_value(v)) == json_string_length(v))
		return json_string_value(v);
	snprintf(msg, sizeof(msg), "%s: must be a string of at most %zu "
	    "bytes without control characters", what, max);
	eng_error(res, 422, "invalid_field", msg);
	return NULL;
}

/*
 * The report in body, checked: result, changed and directory_result and
 * nothing else.  The canonical report in *repp (owned), its result in
 * *resultp.  0, or res answered.
 */
static int
parse_report(const char *body, size_t len, json_t **repp,
    const char **resultp, struct engine_result *res)
{
	json_t *in = NULL, *changed, *v;
	const char *key, *s;
	size_t i;
	char what[32];
	int r = TG_ERR_INVALID;

	*repp = NULL;
	if (eng_body_object(body, len, &in, res) != 0)
		return TG_ERR_INVALID;
	json_object_foreach(in, key, v) {
		if (strcmp(key, "result") != 0 && strcmp(key, "changed") != 0 &&
		    strcmp(key, "directory_result") != 0) {
			eng_error(res, 422, "invalid_field", "unknown member: "
			    "only result, changed and directory_result");
			goto out;
		}
	}
	s = json_string_value(json_object_get(in, "result"));
	if (s == NULL || (strcmp(s, "applied") != 0 &&
	    strcmp(s, "failed") != 0)) {
		eng_error(res, 422, "invalid_field", "result: must be "
		    "\"applied\" or \"failed\"");
		goto out;
	}
	*resultp = strcmp(s, "applied") == 0 ? "applied" : "failed";
	if ((changed = json_object_get(in, "changed")) != NULL &&
	    (!json_is_array(changed) ||
	    json_array_size(changed) > OUTCOME_CHANGED_MAX)) {
		eng_error(res, 422, "invalid_field", "changed: must be an "
		    "array of at most 32 strings");
		goto out;
	}
	json_array_foreach(changed, i, v) {
		snprintf(what, sizeof(what), "changed[%zu]", i);
		if (bounded(v, what, OUTCOME_ITEM_MAX, res) == NULL)
			goto out;
	}
	if ((v = json_object_get(in, "directory_result")) != NULL &&
	    bounded(v, "directory_result", OUTCOME_RESULT_MAX, res) == NULL)
		goto out;
	*repp = json_pack("{s:s,s:O,s:s}", "result", *resultp, "changed",
	    changed != NULL ? changed : json_array(), "directory_result",
	    v != NULL ? json_string_value(v) : "");
	if (*repp == NULL) {
		eng_error(res, 500, "internal", "out of memory");
		r = TG_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	json_decref(in);
	return r;
}

struct outcome_txn {
	const struct engine_actor	*a;
	const char			*id;
	const char			*jti;
	const char			*result;
	const char			*text;		/* the report, JSON */
	json_t				*details;
	int64_t				 now;
};

static int
outcome_steps(struct tapgated *d, void *arg)
{
	struct outcome_txn *t = arg;
	int cleared, r;

	if ((r = store_order_set_outcome(d->st, t->jti, t->result, t->text,
	    t->now)) != 0 ||
	    (r = eng_redemption_clear_alarm(d, t->id, t->now,
	    &cleared)) != 0)
		return r;
	if (cleared && json_object_set_new(t->details, "alarm_cleared",
	    json_true()) != 0)
		return TG_ERR_NOMEM;
	return eng_audit(d, t->a, strcmp(t->result, "applied") == 0 ?
	    "order.applied" : "order.failed", t->id, t->details, t->now);
}

int
engine_order_outcome(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const struct eng_refusal reported = { TG_ERR_EXISTS, 409,
	    "outcome_reported", "this redemption's outcome was reported "
	    "already" };
	struct order_now n;
	struct outcome_txn t;
	json_t *rep = NULL;
	const char *result = NULL;
	char *text = NULL;
	int r;

	if ((r = order_now(d, id, &n, res)) != 0)
		return r;
	if (n.redeemed == 0 || n.resumable) {
		eng_error(res, 409, "not_redeemed", n.redeemed == 0 ? "this "
		    "order was never redeemed: nothing to report" : "this "
		    "order was resumed: redeem it again before reporting");
		return TG_ERR_CONFLICT;
	}
	/* only the caller that redeemed it knows what it changed */
	if (n.redeemed_uid != a->uid) {
		eng_error(res, 403, "not_the_redeemer", "only the caller "
		    "that redeemed this order may report its outcome");
		return TG_ERR_POLICY;
	}
	if (n.outcome[0] != '\0') {
		eng_error(res, reported.status, reported.code, reported.msg);
		return TG_ERR_EXISTS;
	}
	if ((r = parse_report(body, len, &rep, &result, res)) != 0)
		return r;
	memset(&t, 0, sizeof(t));
	if ((text = json_dumps(rep, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (t.details = json_deep_copy(rep)) == NULL ||
	    json_object_set_new(t.details, "jti", json_string(n.jti)) != 0 ||
	    json_object_set_new(t.details, "by", json_string(a->name)) != 0) {
		eng_db_error(d, res, TG_ERR_NOMEM);
		r = TG_ERR_NOMEM;
		goto out;
	}
	t.a = a;
	t.id = id;
	t.jti = n.jti;
	t.result = result;
	t.text = text;
	t.now = now;
	if ((r = eng_txn(d, outcome_steps, &t, NULL, res, &reported)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:s}", "request_id", id, "jti", n.jti,
	    "state", result);
out:
	free(text);
	json_decref(t.details);
	json_decref(rep);
	return r;
}

struct resume_txn {
	const struct engine_actor	*a;
	const char			*id;
	const char			*jti;
	json_t				*details;
	int64_t				 now;
};

static int
resume_steps(struct tapgated *d, void *arg)
{
	struct resume_txn *t = arg;
	int cleared, r;

	if ((r = store_order_resume(d->st, t->jti)) != 0 ||
	    (r = eng_redemption_clear_alarm(d, t->id, t->now,
	    &cleared)) != 0)
		return r;
	if (cleared && json_object_set_new(t->details, "alarm_cleared",
	    json_true()) != 0)
		return TG_ERR_NOMEM;
	return eng_audit(d, t->a, "order.resumed", t->id, t->details, t->now);
}

int
engine_order_resume(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const struct eng_refusal settled = { TG_ERR_CONFLICT, 409,
	    "not_resumable", "this order is not redeemed, was applied, or "
	    "is resumed already" };
	struct order_now n;
	struct resume_txn t;
	json_t *in = NULL;
	const char *reason = "";
	const char *key;
	json_t *v;
	int r;

	if ((r = order_now(d, id, &n, res)) != 0)
		return r;
	if (len > 0) {
		if ((r = eng_body_object(body, len, &in, res)) != 0)
			return r;
		json_object_foreach(in, key, v) {
			if (strcmp(key, "reason") != 0) {
				eng_error(res, 422, "invalid_field", "unknown "
				    "member: only reason");
				r = TG_ERR_INVALID;
				goto out;
			}
		}
		if ((v = json_object_get(in, "reason")) != NULL &&
		    (reason = bounded(v, "reason", RESUME_REASON_MAX,
		    res)) == NULL) {
			r = TG_ERR_INVALID;
			goto out;
		}
	}
	if (n.redeemed == 0 || n.resumable ||
	    strcmp(n.outcome, "applied") == 0) {
		eng_error(res, settled.status, settled.code, settled.msg);
		r = TG_ERR_CONFLICT;
		goto out;
	}
	/* redeemed before redeemers were recorded: no one could redeem it */
	if (n.redeemed_uid == -1) {
		eng_error(res, 409, "not_resumable", "this order was redeemed "
		    "before the appliance recorded who redeemed it: it cannot "
		    "be redeemed again; ask for a new approval");
		r = TG_ERR_CONFLICT;
		goto out;
	}
	memset(&t, 0, sizeof(t));
	t.details = json_pack("{s:s,s:I,s:s,s:s}", "jti", n.jti,
	    "redeemer_uid", (json_int_t)n.redeemed_uid, "previous",
	    n.outcome[0] != '\0' ? n.outcome : "unreported", "reason",
	    reason);
	if (t.details == NULL) {
		eng_db_error(d, res, TG_ERR_NOMEM);
		r = TG_ERR_NOMEM;
		goto out;
	}
	t.a = a;
	t.id = id;
	t.jti = n.jti;
	t.now = now;
	r = eng_txn(d, resume_steps, &t, NULL, res, &settled);
	json_decref(t.details);
	if (r != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:s}", "request_id", id, "jti", n.jti,
	    "state", "resumed");
out:
	json_decref(in);
	return r;
}

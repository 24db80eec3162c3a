/* SPDX-License-Identifier: ISC */
/*
 * Risk raised after submission (POST /v1/requests/ID/risk): an intake
 * integration or an officer learns of a risk signal later (a new device,
 * an unusual location, a compromise) and raises it on a request.  A
 * signal once raised stays: it is recorded as a decision of kind
 * "risk:NAME" (facts.h), which every later evaluation reads, and the
 * request is evaluated again at once, as new evidence would be: it may go
 * back from ready-to-be or in_hold to manual review, more evidence or a
 * longer hold.  Never once the request is final or its order issued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/reqjson.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/signer.h"
#include "engine/txn.h"

/* What a raise records, as the steps of its transaction. */
struct risk_txn {
	const struct engine_actor	*a;
	const struct facts		*f;
	const struct policy_decision	*dec;
	const bool			*raise;	/* [POLICY_RISK_COUNT] */
	const char			*reason;
	const json_t			*details;
	struct events			*evs;
	int64_t				 now;
};

static int
risk_steps(struct tapgated *d, void *arg)
{
	const struct risk_txn *t = arg;
	struct store_decision sd;
	char kind[64];
	int k, r;

	for (k = 0; k < POLICY_RISK_COUNT; k++) {
		if (!t->raise[k])
			continue;
		snprintf(kind, sizeof(kind), "%s%s", ENG_RISK_PREFIX,
		    policy_risk_name((enum policy_risk)k));
		memset(&sd, 0, sizeof(sd));
		sd.request_id = t->f->row->id;
		sd.kind = kind;
		sd.actor_uid = t->a->uid;
		sd.actor_role = t->a->role;
		sd.actor_name = t->a->name;
		sd.reason = t->reason;
		sd.created = t->now;
		if ((r = store_decision_add(d->st, &sd, NULL)) != 0)
			return r;
	}
	if ((r = eng_audit(d, t->a, "request.risk_raised", t->f->row->id,
	    t->details, t->now)) != 0)
		return r;
	if ((r = eng_facts_apply(d, t->f, t->dec, t->a, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, t->a, t->now, t->evs);
}

/*
 * The body {"signals":["new_device",...],"reason":"..."}, exactly: the
 * signals into want[] (at least one, each known, none twice).
 */
static int
risk_body(json_t *root, bool want[POLICY_RISK_COUNT],
    const char **reason, struct engine_result *res)
{
	enum policy_risk rk;
	const json_t *sigs, *s;
	const char *name;
	char err[256];
	json_t *v;
	size_t i;

	if (!json_is_object(root)) {
		eng_error(res, 400, "malformed_body", "body: must be a JSON "
		    "object {\"signals\":[...],\"reason\":\"...\"}");
		return TG_ERR_INVALID;
	}
	json_object_foreach(root, name, v) {
		if (strcmp(name, "signals") != 0 &&
		    strcmp(name, "reason") != 0) {
			snprintf(err, sizeof(err), "%.64s: unknown member "
			    "(signals and reason only)", name);
			eng_error(res, 422, "invalid_field", err);
			return TG_ERR_INVALID;
		}
	}
	if (reqjson_reason(root, reason, err, sizeof(err)) != 0) {
		eng_error(res, 422, "invalid_field", err);
		return TG_ERR_INVALID;
	}
	sigs = json_object_get(root, "signals");
	if (!json_is_array(sigs) || json_array_size(sigs) == 0 ||
	    json_array_size(sigs) > POLICY_RISK_COUNT) {
		snprintf(err, sizeof(err), "signals: an array of 1 to %d risk "
		    "signal names", POLICY_RISK_COUNT);
		eng_error(res, 422, "invalid_field", err);
		return TG_ERR_INVALID;
	}
	memset(want, 0, sizeof(bool) * POLICY_RISK_COUNT);
	json_array_foreach(sigs, i, s) {
		if (!json_is_string(s) ||
		    policy_risk_parse(json_string_value(s), &rk) != 0) {
			snprintf(err, sizeof(err), "signals[%zu]: not a risk "
			    "signal name (new_device, unusual_geolocation, "
			    "recent_compromise, recent_factor_change)", i);
			eng_error(res, 422, "invalid_field", err);
			return TG_ERR_INVALID;
		}
		if (want[rk]) {
			snprintf(err, sizeof(err), "signals[%zu]: %s given "
			    "twice", i, policy_risk_name(rk));
			eng_error(res, 422, "invalid_field", err);
			return TG_ERR_INVALID;
		}
		want[rk] = true;
	}
	return 0;
}

static int
order_found(const struct store_order *o, void *arg)
{
	(void)o;
	(void)arg;
	return 0;
}

/* Whether request f, evaluated as dec, still takes a raise (409 not). */
static int
risk_open(struct tapgated *d, const struct facts *f,
    const struct policy_decision *dec, struct engine_result *res)
{
	char err[160];
	int r;

	if (eng_final_state(dec->state)) {
		snprintf(err, sizeof(err), "request is %s: a risk raised now "
		    "changes nothing", policy_state_name(dec->state));
		eng_error(res, 409, "request_closed", err);
		return TG_ERR_CONFLICT;
	}
	r = store_order_by_request(d->st, f->row->id, order_found, NULL);
	if (r == 0) {
		eng_error(res, 409, "order_issued", "its order is issued "
		    "already: a risk raised now cannot hold it back; an "
		    "officer can deny the request, which revokes the order");
		return TG_ERR_CONFLICT;
	}
	return r == TG_ERR_NOT_FOUND ? 0 : eng_db_error(d, res, r);
}

int
engine_risk_raise(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const struct eng_refusal changed = { TG_ERR_CONFLICT, 409,
	    "conflict", "the request changed meanwhile; retry" };
	bool want[POLICY_RISK_COUNT], raise[POLICY_RISK_COUNT];
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct risk_txn t;
	struct facts f;
	const char *reason = NULL;
	json_t *root = NULL, *raised = NULL, *already = NULL, *details = NULL;
	const char *from;
	int k, r;

	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		return r;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if ((r = risk_body(root, want, &reason, res)) != 0)
		goto out;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	if ((r = risk_open(d, &f, &dec, res)) != 0)
		goto out;
	from = policy_state_name(dec.state);
	if ((raised = json_array()) == NULL ||
	    (already = json_array()) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	for (k = 0; k < POLICY_RISK_COUNT; k++) {
		raise[k] = want[k] && !f.rq.pr.risk[k];
		if (want[k])
			json_array_append_new(raise[k] ? raised : already,
			    json_string(policy_risk_name((enum policy_risk)k)));
		if (raise[k])
			f.rq.pr.risk[k] = true;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (json_array_size(raised) > 0) {
		details = json_pack("{s:O,s:O,s:s,s:s,s:s,s:s}", "signals",
		    raised, "already_raised", already, "reason", reason,
		    "from", from, "to", policy_state_name(dec.state),
		    "route", policy_route_name(dec.route));
		t = (struct risk_txn){ a, &f, &dec, raise, reason, details,
		    &evs, now };
		if ((r = eng_txn(d, risk_steps, &t, &evs, res,
		    &changed)) != 0)
			goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
	if (res->body != NULL) {
		json_object_set(res->body, "raised", raised);
		json_object_set(res->body, "already_raised", already);
		json_object_set_new(res->body, "route_reason",
		    json_string(dec.route_reason));
	}
out:
	eng_events_post(d, &evs);
	json_decref(root);
	json_decref(raised);
	json_decref(already);
	json_decref(details);
	eng_facts_clear(&f);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * What the help desk and the officers do to a request: submit it, add
 * evidence, veto or deny it, and read it (one, or a list).  Each change
 * and its audit entry commit in one transaction; a request that became
 * ready goes to the signer in the same transaction; the hooks hear of it
 * after the commit.
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

#define IDEM_KEY_MAX	200

static int
idem_replay(struct tapgated *d, const char *key, const char *digest,
    struct engine_result *res)
{
	struct store_request *row = NULL;
	int r;

	if ((r = store_request_get_by_idem(d->st, key, &row)) != 0)
		return r;
	if (row->idem_digest == NULL || strcmp(row->idem_digest, digest) != 0) {
		eng_error(res, 409, "idempotency_key_reused", "Idempotency-Key "
		    "was used before with a different body");
	} else {
		json_decref(res->body);
		res->status = 201;
		res->body = row->response_json ? json_loads(row->response_json,
		    0, NULL) : NULL;
		if (res->body == NULL)
			eng_error(res, 500, "internal", "stored answer lost");
	}
	store_request_free(&row);
	return 0;
}

static int
idem_key_valid(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > IDEM_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] <= 0x20 || k[i] >= 0x7f)
			return 0;
	return 1;
}

static int
add_evidence_rows(struct tapgated *d, const char *id, const json_t *arr,
    int64_t uid, int64_t now, json_t *digests)
{
	struct store_evidence ev;
	char digest[STORE_DIGEST_LEN + 1], *js;
	const json_t *item;
	size_t i;
	int r;

	json_array_foreach(arr, i, item) {
		memset(&ev, 0, sizeof(ev));
		if ((r = eng_jcs_digest(item, digest)) != 0)
			return r;
		if ((js = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS)) ==
		    NULL)
			return TG_ERR_NOMEM;
		ev.request_id = id;
		ev.type = json_string_value(json_object_get(item, "type"));
		ev.result = json_string_value(json_object_get(item, "result"));
		ev.verifier = json_string_value(json_object_get(item,
		    "verifier"));
		ev.channel = json_string_value(json_object_get(item,
		    "channel"));
		ev.ref = json_string_value(json_object_get(item, "ref"));
		ev.json = js;
		ev.digest = digest;
		ev.added_uid = uid;
		ev.created = now;
		r = store_evidence_add(d->st, &ev, NULL);
		free(js);
		if (r != 0)
			return r;
		json_array_append_new(digests, json_string(digest));
	}
	return 0;
}

int
engine_submit(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, const char *idem_key, int64_t now,
    struct engine_result *res)
{
	struct store_request row;
	struct policy_decision dec;
	struct reqjson rq;
	struct events evs = { { NULL }, 0 };
	char id[STORE_ID_LEN + 1], digest[STORE_DIGEST_LEN + 1], err[512];
	char key[IDEM_KEY_MAX + 32];
	char *req_s = NULL, *dec_s = NULL, *resp_s = NULL;
	const json_t *evarr;
	json_t *dj = NULL, *resp = NULL, *digests = NULL;
	int r, status;

	memset(&rq, 0, sizeof(rq));
	if (idem_key != NULL) {
		if (!idem_key_valid(idem_key)) {
			eng_error(res, 400, "invalid_idempotency_key",
			    "Idempotency-Key: 1 to 200 printable ASCII "
			    "characters without spaces");
			return TG_ERR_INVALID;
		}
		/* keys are per caller: two clients cannot collide */
		snprintf(key, sizeof(key), "uid:%lld:%s", (long long)a->uid,
		    idem_key);
		idem_key = key;
		eng_sha256_hex(body, len, digest);
		if ((r = idem_replay(d, idem_key, digest, res)) == 0)
			return 0;
		if (r != TG_ERR_NOT_FOUND)
			return eng_db_error(d, res, r);
	}
	if ((r = reqjson_parse(d->cfg, body, len, &rq, &status, err,
	    sizeof(err))) != 0) {
		eng_error(res, status, status == 400 ? "malformed_body" :
		    status == 413 ? "body_too_large" : status == 500 ?
		    "internal" : "invalid_field", err);
		return r;
	}
	if ((r = policy_evaluate(d->cfg, &rq.pr, NULL, now, &dec)) != 0) {
		eng_error(res, 422, "invalid_request", "the request does not "
		    "fit the policy");
		goto out;
	}
	if ((r = store_request_id_new(id)) != 0 ||
	    (dj = eng_decision_json(&dec, rq.pr.nevidence, now)) == NULL ||
	    (resp = eng_summary_json(id, &dec)) == NULL ||
	    (digests = json_array()) == NULL ||
	    (req_s = strndup(body, len)) == NULL ||
	    (dec_s = json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (resp_s = json_dumps(resp, JSON_COMPACT | JSON_SORT_KEYS)) ==
	    NULL) {
		r = r ? r : TG_ERR_NOMEM;
		eng_db_error(d, res, r);
		goto out;
	}
	memset(&row, 0, sizeof(row));
	row.id = id;
	row.queue = policy_queue_name(rq.pr.queue);
	row.target_account = rq.pr.account;
	row.target_system = rq.pr.system;
	row.claimed_class = rq.claimed;
	row.effective_class = policy_class_name(dec.account_class);
	row.requester_agent = rq.pr.agent;
	row.requester_channel = rq.pr.requester_channel;
	row.requester_ticket = rq.ticket;
	row.requester_uid = a->uid;
	row.request_json = req_s;
	row.state = policy_state_name(dec.state);
	row.policy_id = dec.policy_id;
	row.policy_version = dec.policy_version;
	row.decision_json = dec_s;
	row.idem_key = idem_key;
	row.idem_digest = idem_key ? digest : NULL;
	row.response_json = resp_s;
	row.created = now;
	row.hold_start = dec.hold_start;
	row.hold_end = dec.hold_start ? dec.hold_until : 0;
	evarr = json_object_get(rq.root, "evidence");
	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_request_insert(d->st, &row)) != 0 ||
	    (evarr != NULL && json_is_array(evarr) &&
	    (r = add_evidence_rows(d, id, evarr, a->uid, now, digests)) != 0) ||
	    (r = eng_audit(d, a, "request.submitted", id, json_pack(
	    "{s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s?,s:O,s:o}",
	    "queue", row.queue, "account", row.target_account, "system",
	    row.target_system, "class", row.effective_class,
	    "claimed_class", row.claimed_class, "agent", row.requester_agent,
	    "channel", row.requester_channel, "state", row.state, "ticket",
	    row.requester_ticket, "evidence_digests", digests, "missing",
	    eng_missing_json(&dec)), now)) != 0 ||
	    (dec.hold_start != 0 && (r = eng_audit(d, a, "request.hold_started",
	    id, json_pack("{s:I,s:I}", "start", (json_int_t)dec.hold_start,
	    "until", (json_int_t)dec.hold_until), now)) != 0) ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		if (r == TG_ERR_EXISTS && idem_key != NULL &&
		    idem_replay(d, idem_key, digest, res) == 0) {
			r = 0;
			goto out;
		}
		eng_db_error(d, res, r);
		goto out;
	}
	eng_events_add(&evs, eng_event_new(d, "request.created", id, &rq.pr, now));
	if (dec.hold_start != 0) {
		json_t *ev = eng_event_new(d, "hold.started", id, &rq.pr, now);

		if (ev != NULL)
			json_object_set_new(ev, "hold_until",
			    json_integer(dec.hold_until));
		eng_events_add(&evs, ev);
	}
	json_decref(res->body);
	res->status = 201;
	res->body = resp;
	resp = NULL;
out:
	eng_events_post(d, &evs);
	json_decref(dj);
	json_decref(resp);
	json_decref(digests);
	free(req_s);
	free(dec_s);
	free(resp_s);
	reqjson_clear(&rq);
	return r;
}

int
engine_add_evidence(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	struct policy_evidence ev[POLICY_MAX_EVIDENCE];
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	json_t *root = NULL, *arr, *digests = NULL;
	json_error_t je;
	char err[512];
	size_t nev, i;
	int r;

	if ((r = eng_load(d, id, &f, res)) != 0)
		return r;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL || !json_is_object(root)) {
		eng_error(res, 400, "malformed_body", "body: must be a JSON "
		    "object {\"evidence\":[...]}");
		r = TG_ERR_INVALID;
		goto out;
	}
	arr = json_object_get(root, "evidence");
	if (arr == NULL || (r = reqjson_evidence(arr, "evidence", ev, &nev,
	    err, sizeof(err))) != 0 || nev == 0) {
		if (arr == NULL || nev == 0)
			snprintf(err, sizeof(err), "evidence: missing or empty");
		eng_error(res, 422, "invalid_field", err);
		r = TG_ERR_INVALID;
		goto out;
	}
	if (f.rq.pr.nevidence + nev > POLICY_MAX_EVIDENCE) {
		snprintf(err, sizeof(err), "evidence: a request holds at most "
		    "%d items", POLICY_MAX_EVIDENCE);
		eng_error(res, 422, "too_much_evidence", err);
		r = TG_ERR_TOO_LONG;
		goto out;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	if (f.nappr > 0) {
		/* approvals signed the evidence as it was: it is final now */
		eng_error(res, 409, "evidence_final", "officers have approved "
		    "this request: its evidence can no longer change (deny it "
		    "and submit a new request)");
		r = TG_ERR_CONFLICT;
		goto out;
	}
	if (eng_final_state(dec.state) || dec.state == POLICY_STATE_READY) {
		snprintf(err, sizeof(err), "request is %s: evidence can no "
		    "longer change it", policy_state_name(dec.state));
		eng_error(res, 409, "request_closed", err);
		r = TG_ERR_CONFLICT;
		goto out;
	}
	for (i = 0; i < nev; i++)
		f.rq.ev[f.rq.pr.nevidence + i] = ev[i];
	f.rq.pr.evidence = f.rq.ev;
	f.rq.pr.nevidence += nev;
	if ((r = policy_request_check(d->cfg, &f.rq.pr, err,
	    sizeof(err))) != 0) {
		eng_error(res, 422, "invalid_field", err);
		goto out;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    (digests = json_array()) == NULL) {
		eng_error(res, 422, "invalid_request", "the evidence does not "
		    "fit the policy");
		r = r ? r : TG_ERR_NOMEM;
		goto out;
	}
	if ((r = store_begin(d->st)) != 0 ||
	    (r = add_evidence_rows(d, id, arr, a->uid, now, digests)) != 0 ||
	    (r = eng_audit(d, a, "request.evidence_added", id, json_pack(
	    "{s:O}", "evidence_digests", digests), now)) != 0 ||
	    (r = eng_facts_apply(d, &f, &dec, a, now, &evs)) < 0 ||
	    (r == ENG_READY && (r = eng_sign_ready(d, &f, a, now,
	    &evs)) != 0) ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		eng_events_clear(&evs);
		if (r == TG_ERR_CONFLICT)
			eng_error(res, 409, "conflict", "the request changed "
			    "meanwhile; retry");
		else
			eng_db_error(d, res, r);
		goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
out:
	eng_events_post(d, &evs);
	json_decref(root);
	json_decref(digests);
	eng_facts_clear(&f);
	return r;
}

int
engine_decide(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *kind, const char *body, size_t len,
    int64_t now, struct engine_result *res)
{
	struct store_decision sd;
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	const char *reason;
	json_t *root = NULL;
	char err[512];
	int r, veto = strcmp(kind, "veto") == 0;

	if ((r = eng_load(d, id, &f, res)) != 0)
		return r;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if ((r = reqjson_reason(root, &reason, err, sizeof(err))) != 0) {
		eng_error(res, root ? 422 : 400, root ? "invalid_field" :
		    "malformed_body", err);
		goto out;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	/* a parked request can still be closed for good */
	if (eng_final_state(dec.state) &&
	    (veto || dec.state != POLICY_STATE_SIGN_FAILED)) {
		snprintf(err, sizeof(err), "request is already %s",
		    policy_state_name(dec.state));
		eng_error(res, 409, "request_closed", err);
		r = TG_ERR_CONFLICT;
		goto out;
	}
	if (veto && dec.state == POLICY_STATE_READY) {
		eng_error(res, 409, "veto_window_closed", "the waiting period "
		    "has ended: a veto is no longer possible; an officer can "
		    "still deny");
		r = TG_ERR_CONFLICT;
		goto out;
	}
	if (veto)
		f.vetoed = true;
	else
		f.denied = true;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	memset(&sd, 0, sizeof(sd));
	sd.request_id = id;
	sd.kind = kind;
	sd.actor_uid = a->uid;
	sd.actor_role = a->role;
	sd.actor_name = a->name;
	sd.reason = reason;
	sd.created = now;
	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_decision_add(d->st, &sd, NULL)) != 0 ||
	    (r = eng_audit(d, a, veto ? "request.veto" : "request.deny", id,
	    json_pack("{s:s}", "reason", reason), now)) != 0 ||
	    (r = eng_facts_apply(d, &f, &dec, a, now, &evs)) < 0 ||
	    (r == ENG_READY && (r = eng_sign_ready(d, &f, a, now,
	    &evs)) != 0) ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		eng_events_clear(&evs);
		eng_db_error(d, res, r);
		goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
out:
	eng_events_post(d, &evs);
	json_decref(root);
	eng_facts_clear(&f);
	return r;
}

static int
evidence_row_json(const struct store_evidence *ev, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:s?,"
	    "s:s,s:I,s:I}", "type", ev->type, "result", ev->result,
	    "verifier", ev->verifier, "channel", ev->channel, "ref", ev->ref,
	    "digest", ev->digest, "added_uid", (json_int_t)ev->added_uid,
	    "created", (json_int_t)ev->created)) == 0 ? 0 : TG_ERR_NOMEM;
}

static int
decision_row_json(const struct store_decision *dc, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:I,s:s,s:s,s:s,"
	    "s:I}", "kind", dc->kind, "actor_uid", (json_int_t)dc->actor_uid,
	    "actor_role", dc->actor_role, "actor_name", dc->actor_name,
	    "reason", dc->reason, "created", (json_int_t)dc->created)) == 0 ?
	    0 : TG_ERR_NOMEM;
}

int
engine_show(struct tapgated *d, const char *id, int64_t now,
    struct engine_result *res)
{
	struct policy_decision dec;
	struct facts f;
	json_t *evs = json_array(), *decs = json_array(), *out;
	int r;

	if ((r = eng_load(d, id, &f, res)) != 0)
		goto out;
	if ((r = store_evidence_list(d->st, id, evidence_row_json, evs)) != 0 ||
	    (r = store_decision_list(d->st, id, decision_row_json, decs)) !=
	    0) {
		eng_db_error(d, res, r);
		goto out;
	}
	/* evaluated now, so the hold shows the time really left */
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	out = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s?},s:{s:s,s:s,s:s?,"
	    "s:I},s:I,s:I,s:o,s:O,s:O,s:o}",
	    "id", f.row->id, "queue", f.row->queue, "state",
	    policy_state_name(dec.state),
	    "target", "account", f.row->target_account, "system",
	    f.row->target_system, "class", f.row->effective_class,
	    "claimed_class", f.row->claimed_class,
	    "requester", "agent", f.row->requester_agent, "channel",
	    f.row->requester_channel, "ticket", f.row->requester_ticket,
	    "uid", (json_int_t)f.row->requester_uid,
	    "created", (json_int_t)f.row->created,
	    "updated", (json_int_t)f.row->updated,
	    "request", json_loads(f.row->request_json, 0, NULL),
	    "evidence", evs, "decisions", decs,
	    "decision", eng_decision_json(&dec, f.rq.pr.nevidence, now));
	if (out == NULL) {
		r = TG_ERR_NOMEM;
		eng_db_error(d, res, r);
		goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = out;
out:
	json_decref(evs);
	json_decref(decs);
	eng_facts_clear(&f);
	return r;
}

static int
list_row_json(const struct store_request *rw, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s,s:I,s:I}", "id", rw->id, "queue", rw->queue, "state",
	    rw->state, "account", rw->target_account, "system",
	    rw->target_system, "class", rw->effective_class, "agent",
	    rw->requester_agent, "created", (json_int_t)rw->created,
	    "hold_until", (json_int_t)rw->hold_end)) == 0 ? 0 : TG_ERR_NOMEM;
}

int
engine_list(struct tapgated *d, const char *queue, const char *state,
    int limit, struct engine_result *res)
{
	json_t *arr = json_array();
	int r;

	if ((r = store_request_list(d->st, queue, state, limit, list_row_json,
	    arr)) != 0) {
		json_decref(arr);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o}", "requests", arr);
	return 0;
}

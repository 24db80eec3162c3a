/* SPDX-License-Identifier: ISC */
/*
 * The engine: what happens to a request.  The stored facts (the request as
 * submitted, its evidence rows, the vetoes and denials, the hold) are the
 * truth; the state is what policy_evaluate() says of them now.  Every
 * change and its audit entry commit in one transaction; hooks hear of it
 * only after the commit.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "engine/engine_int.h"
#include "daemon/reqjson.h"
#include "seal/signkey.h"
#include "store/backup.h"
#include "store/checkpoint.h"

#define IDEM_KEY_MAX	200
#define WARNED_MAX	256

/* Requests whose closing veto window the hooks have heard of. */
static char	warned[WARNED_MAX][STORE_ID_LEN + 1];
static size_t	warned_next;

void
eng_error(struct engine_result *res, int status, const char *code,
    const char *msg)
{
	json_decref(res->body);
	res->status = status;
	res->body = json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", msg);
}

/* A database failure: logged for the operator, generic to the caller. */
int
eng_db_error(struct tapgated *d, struct engine_result *res, int r)
{
	fprintf(stderr, "tapgated: database: %s (%s)\n", tg_strerror(r),
	    store_errmsg(d->st));
	d->errors++;
	if (r == TG_ERR_BUSY)
		eng_error(res, 503, "busy", "the database is busy; retry");
	else
		eng_error(res, 500, "internal", "the request could not be "
		    "recorded; nothing was changed");
	return r;
}

void
eng_sha256_hex(const void *p, size_t n, char out[STORE_DIGEST_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(p, n, md);
	hex_encode(md, sizeof(md), out);
}

/* SHA-256 (hex) of the canonical form of a JSON value. */
int
eng_jcs_digest(const json_t *v, char out[STORE_DIGEST_LEN + 1])
{
	char *c;
	size_t n;
	int r;

	if ((r = jcs_serialize(v, &c, &n)) != 0)
		return r;
	eng_sha256_hex(c, n, out);
	free(c);
	return 0;
}

static json_t *
names_of_mask(unsigned mask, const char *(*name)(enum policy_evidence_type))
{
	json_t *a = json_array();
	int t;

	for (t = 0; t < POLICY_EVIDENCE_COUNT; t++)
		if (mask & POLICY_EVIDENCE_BIT(t))
			json_array_append_new(a, json_string(name(
			    (enum policy_evidence_type)t)));
	return a;
}

json_t *
eng_missing_json(const struct policy_decision *dec)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < dec->nmissing; i++)
		json_array_append_new(a, json_pack("{s:s,s:s}", "code",
		    dec->missing[i].code, "text", dec->missing[i].text));
	return a;
}

/* The decision as JSON: what the console shows and the store keeps. */
static json_t *
decision_json(const struct policy_decision *dec, size_t nevidence,
    int64_t now)
{
	json_t *verdicts = json_array(), *groups = json_array();
	json_t *drops = json_array();
	size_t i;

	for (i = 0; i < nevidence && i < POLICY_MAX_EVIDENCE; i++)
		json_array_append_new(verdicts, json_string(
		    policy_evidence_verdict_name(dec->verdicts[i])));
	for (i = 0; i < dec->napprovals; i++)
		json_array_append_new(groups, json_pack("{s:s,s:i,s:i}",
		    "group", dec->approvals[i].group, "required",
		    (int)dec->approvals[i].required, "counted",
		    (int)dec->approvals[i].counted));
	for (i = 0; i < dec->ndrop; i++)
		json_array_append_new(drops, json_string(dec->drop[i]));
	return json_pack("{s:s,s:I,s:s,s:{s:s,s:s,s:s,s:s,s:s},"
	    "s:{s:s,s:s},s:{s:i,s:i,s:o,s:o,s:o,s:o,s:o},"
	    "s:{s:b,s:o},s:{s:I,s:I,s:I,s:I},s:I,s:{s:b,s:o},s:o}",
	    "policy_id", dec->policy_id,
	    "policy_version", (json_int_t)dec->policy_version,
	    "state", policy_state_name(dec->state),
	    "class", "effective", policy_class_name(dec->account_class),
	    "configured", policy_class_name(dec->configured_class),
	    "claimed", policy_class_name(dec->claimed_class),
	    "source", policy_class_source_name(dec->class_source),
	    "reason", dec->class_reason,
	    "route", "name", policy_route_name(dec->route),
	    "reason", dec->route_reason,
	    "evidence", "counted", (int)dec->evidence_counted,
	    "required", (int)dec->evidence_required,
	    "types_counted", names_of_mask(dec->evidence_types,
	    policy_evidence_name),
	    "types_required_count", json_integer(
	    dec->evidence_types_required),
	    "require_all", names_of_mask(dec->evidence_require_all,
	    policy_evidence_name),
	    "require_one_of", names_of_mask(dec->evidence_require_one_of,
	    policy_evidence_name),
	    "verdicts", verdicts,
	    "approvals", "required", dec->approval_required,
	    "groups", groups,
	    "hold", "seconds", (json_int_t)dec->hold_seconds,
	    "start", (json_int_t)dec->hold_start,
	    "until", (json_int_t)dec->hold_until,
	    "left", (json_int_t)(dec->hold_until > now ?
	    dec->hold_until - now : 0),
	    "order_ttl_seconds", (json_int_t)dec->order_ttl_seconds,
	    "entitlements_dropped", "all_privileged",
	    dec->drop_all_privileged, "names", drops,
	    "missing", eng_missing_json(dec));
}

json_t *
eng_event_new(struct tapgated *d, const char *event, const char *id,
    const struct policy_request *pr, int64_t now)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:I}", "event", event,
	    "appliance", d->cfg->appliance.id, "request_id", id,
	    "queue", policy_queue_name(pr->queue), "target", "account",
	    pr->account, "system", pr->system, "time", (json_int_t)now);
}

void
eng_events_add(struct events *evs, json_t *ev)
{
	if (ev == NULL)
		return;
	if (evs->n == EVENTS_MAX) {
		json_decref(ev);
		return;
	}
	evs->ev[evs->n++] = ev;
}

static void	hook_outcome_locked(struct tapgated *, const char *, const char *,
		    enum hook_outcome, int);

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

void
eng_events_clear(struct events *evs)
{
	size_t i;

	for (i = 0; i < evs->n; i++)
		json_decref(evs->ev[i]);
	evs->n = 0;
}

/* Append an audit entry; details is consumed. */
int
eng_audit(struct tapgated *d, const struct engine_actor *a, const char *event,
    const char *id, json_t *details, int64_t now)
{
	struct audit_entry e;
	char *s = NULL;
	int r;

	if (details == NULL || (s = json_dumps(details, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		json_decref(details);
		return TG_ERR_NOMEM;
	}
	json_decref(details);
	memset(&e, 0, sizeof(e));
	e.time = now;
	e.actor_uid = a->uid;
	e.actor_role = a->role;
	e.actor_name = a->name;
	e.event = event;
	e.request_id = id;
	e.details = s;
	r = audit_append(d->st, &e, NULL);
	free(s);
	return r;
}

static int
collect_evidence(const struct store_evidence *ev, void *arg)
{
	json_t *arr = arg, *v;

	if ((v = json_loads(ev->json, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return TG_ERR_CORRUPT;
	return json_array_append_new(arr, v) == 0 ? 0 : TG_ERR_NOMEM;
}

static int
collect_decision(const struct store_decision *dc, void *arg)
{
	struct facts *f = arg;

	if (strcmp(dc->kind, "veto") == 0)
		f->vetoed = true;
	else if (strcmp(dc->kind, "deny") == 0)
		f->denied = true;
	else if (strcmp(dc->kind, ENG_SIGN_FAILED) == 0)
		f->sign_failed = true;	/* oldest first: the last one wins */
	else if (strcmp(dc->kind, ENG_SIGN_RETRY) == 0)
		f->sign_failed = false;
	return 0;
}

void
eng_facts_clear(struct facts *f)
{
	store_request_free(&f->row);
	reqjson_clear(&f->rq);
	json_decref(f->evidence);
	json_decref(f->approvals);
	memset(f, 0, sizeof(*f));
}

/*
 * An approval counts only while the credential that made it belongs to
 * the approver the row names and stays enrolled: one found to be a cloned
 * key, or revoked, no longer vouches for anything.  Asked of the store
 * for each approval, so no list of revoked approvers can run out.
 */
struct approver_now {
	int64_t	id;
	int	revoked;
};

static int
approver_now(const struct store_approver *a, void *arg)
{
	struct approver_now *an = arg;

	an->id = a->id;
	an->revoked = a->revoked;
	return 0;
}

struct approval_load {
	struct store	*st;
	json_t		*arr;
};

static int
collect_approval(const struct store_approval *ap, void *arg)
{
	struct approval_load *al = arg;
	struct approver_now an = { 0, 1 };
	char *cred;
	int r, uv;

	r = store_approver_by_cred(al->st, ap->cred_id, ap->cred_id_len,
	    approver_now, &an);
	if (r == TG_ERR_NOT_FOUND || (r == 0 && (an.revoked ||
	    an.id != ap->approver_id)))
		return 0;
	if (r != 0)
		return r;
	if ((r = b64url_encode_alloc(ap->cred_id, ap->cred_id_len, &cred)) != 0)
		return r;
	uv = ap->auth_data_len > 32 && (ap->auth_data[32] & 0x04) != 0;
	r = json_array_append_new(al->arr, json_pack("{s:s,s:s,s:s,s:b,s:I}",
	    "officer", ap->approver_name, "group", ap->approver_group,
	    "cred", cred, "uv", uv, "approver_id",
	    (json_int_t)ap->approver_id)) == 0 ? 0 : TG_ERR_NOMEM;
	free(cred);
	return r;
}

static int
load_approvals(struct tapgated *d, const char *id, struct facts *f)
{
	struct approval_load al;
	const json_t *ap;
	size_t i;
	int r;

	if ((f->approvals = json_array()) == NULL)
		return TG_ERR_NOMEM;
	al.st = d->st;
	al.arr = f->approvals;
	if ((r = store_approval_list(d->st, id, collect_approval, &al)) != 0)
		return r;
	/* more than any rule can count: say so rather than drop some */
	if (json_array_size(f->approvals) > POLICY_MAX_APPROVALS) {
		fprintf(stderr, "tapgated: request %s has %zu standing "
		    "approvals, more than %d\n", id,
		    json_array_size(f->approvals), POLICY_MAX_APPROVALS);
		return TG_ERR_TOO_LONG;
	}
	json_array_foreach(f->approvals, i, ap) {
		f->appr[i].group = json_string_value(json_object_get(ap,
		    "group"));
		f->appr[i].officer = json_string_value(json_object_get(ap,
		    "officer"));
		f->appr[i].credential_id = json_string_value(json_object_get(ap,
		    "cred"));
		f->appr[i].user_verified = json_is_true(json_object_get(ap,
		    "uv"));
	}
	f->nappr = json_array_size(f->approvals);
	return 0;
}

/*
 * Load what is known of request id.  The request is re-read from the JSON
 * it was submitted with and its evidence from the evidence rows, so the
 * evaluation sees exactly what was recorded.
 */
int
eng_facts_load(struct tapgated *d, const char *id, struct facts *f, char *err,
    size_t errlen)
{
	int r, status;

	memset(f, 0, sizeof(*f));
	if (!store_request_id_valid(id))
		return TG_ERR_NOT_FOUND;
	if ((r = store_request_get(d->st, id, &f->row)) != 0)
		return r;
	if ((r = reqjson_parse(d->cfg, f->row->request_json,
	    strlen(f->row->request_json), &f->rq, &status, err,
	    errlen)) != 0) {
		/* stored by us: a changed config, or no memory, refuses it */
		if (r == TG_ERR_NOMEM)
			fprintf(stderr, "tapgated: request %s: out of memory\n",
			    id);
		else
			fprintf(stderr, "tapgated: request %s no longer passes "
			    "the configuration: %s\n", id, err);
		goto fail;
	}
	if ((f->evidence = json_array()) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	if ((r = store_evidence_list(d->st, id, collect_evidence,
	    f->evidence)) != 0 ||
	    (r = store_decision_list(d->st, id, collect_decision, f)) != 0 ||
	    (r = load_approvals(d, id, f)) != 0)
		goto fail;
	f->rq.pr.evidence = NULL;
	f->rq.pr.nevidence = 0;
	if (json_array_size(f->evidence) > 0) {
		if ((r = reqjson_evidence(f->evidence, "stored evidence",
		    f->rq.ev, &f->rq.pr.nevidence, err, errlen)) != 0)
			goto fail;
		f->rq.pr.evidence = f->rq.ev;
	}
	return 0;
fail:
	eng_facts_clear(f);
	return r;
}

int
eng_facts_evaluate(struct tapgated *d, const struct facts *f, int64_t now,
    struct policy_decision *dec)
{
	struct policy_progress prog;

	memset(&prog, 0, sizeof(prog));
	prog.hold_start = f->row->hold_start;
	prog.approvals = f->appr;
	prog.napprovals = f->nappr;
	prog.vetoed = f->vetoed;
	prog.denied = f->denied;
	prog.sign_failed = f->sign_failed;
	prog.hold_end = f->row->hold_end;
	return policy_evaluate(d->cfg, &f->rq.pr, &prog, now, dec);
}

int
eng_transient(int r)
{
	return r == TG_ERR_NOMEM || r == TG_ERR_DB || r == TG_ERR_BUSY ||
	    r == TG_ERR_IO || r == TG_ERR_TXN;
}

int
eng_park(struct tapgated *d, const char *id, const char *from,
    const char *cause, const struct engine_actor *a, int64_t now)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	struct store_decision sd;
	int r;

	memset(&sd, 0, sizeof(sd));
	sd.request_id = id;
	sd.kind = ENG_SIGN_FAILED;
	sd.actor_uid = sys.uid;
	sd.actor_role = sys.role;
	sd.actor_name = sys.name;
	sd.reason = cause[0] != '\0' ? cause : "unknown";
	sd.created = now;
	if ((r = store_decision_add(d->st, &sd, NULL)) != 0 ||
	    (r = store_request_set_state(d->st, id, from,
	    policy_state_name(POLICY_STATE_SIGN_FAILED), NULL, now)) != 0 ||
	    (r = eng_audit(d, a, "request.sign_failed", id, json_pack(
	    "{s:s,s:s,s:s}", "from", from, "to", policy_state_name(
	    POLICY_STATE_SIGN_FAILED), "cause", sd.reason), now)) != 0)
		return r;
	fprintf(stderr, "tapgated: request %s parked as sign_failed: %s\n",
	    id, sd.reason);
	return 0;
}

/* Record a hold that started, ended early (cleared) or grew. */
static int
apply_hold(struct tapgated *d, const struct facts *f,
    const struct policy_decision *dec, const struct engine_actor *a,
    int64_t now, struct events *evs)
{
	const char *id = f->row->id;
	json_t *ev;
	int r;

	if (dec->hold_start == f->row->hold_start &&
	    (dec->hold_start == 0 || dec->hold_until <= f->row->hold_end))
		return 0;
	if ((r = store_request_set_hold(d->st, id, dec->hold_start,
	    dec->hold_start ? dec->hold_until : 0, now)) != 0)
		return r;
	if (dec->hold_start == 0)
		return eng_audit(d, a, "request.hold_cleared", id,
		    json_object(), now);
	if (dec->hold_start == f->row->hold_start)
		/* the policy's hold grew (a new configuration) */
		return eng_audit(d, a, "hold.extended", id, json_pack(
		    "{s:s,s:I,s:I}", "cause", "policy", "from",
		    (json_int_t)f->row->hold_end, "until",
		    (json_int_t)dec->hold_until), now);
	if ((r = eng_audit(d, a, "request.hold_started", id,
	    json_pack("{s:I,s:I}", "start", (json_int_t)dec->hold_start,
	    "until", (json_int_t)dec->hold_until), now)) != 0)
		return r;
	ev = eng_event_new(d, "hold.started", id, &f->rq.pr, now);
	if (ev != NULL)
		json_object_set_new(ev, "hold_until",
		    json_integer(dec->hold_until));
	eng_events_add(evs, ev);
	return 0;
}

/*
 * Record what a new evaluation changed (inside the caller's transaction):
 * hold, state, decision; audit each change; queue the hook events.  A
 * request that has just become ready is reported (ENG_READY): the caller
 * hands it to the signer (eng_sign_ready).
 */
int
eng_facts_apply(struct tapgated *d, const struct facts *f,
    const struct policy_decision *dec, const struct engine_actor *a,
    int64_t now, struct events *evs)
{
	const char *id = f->row->id, *state = policy_state_name(dec->state);
	json_t *dj;
	char *ds;
	int r;

	/* the hold first: the signer reads it from the store */
	if ((r = apply_hold(d, f, dec, a, now, evs)) != 0)
		return r;
	if ((dj = decision_json(dec, f->rq.pr.nevidence, now)) == NULL ||
	    (ds = json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(dj);
		return TG_ERR_NOMEM;
	}
	json_decref(dj);
	if (strcmp(state, f->row->state) == 0) {
		r = store_request_set_state(d->st, id, f->row->state, state,
		    ds, now);
		free(ds);
		return r;
	}
	r = store_request_set_state(d->st, id, f->row->state, state, ds, now);
	free(ds);
	if (r != 0 || (r = eng_audit(d, a, "request.state_changed", id,
	    json_pack("{s:s,s:s,s:o}", "from", f->row->state, "to",
	    state, "missing", eng_missing_json(dec)), now)) != 0)
		return r;
	if (dec->state == POLICY_STATE_VETOED ||
	    dec->state == POLICY_STATE_DENIED) {
		char name[48];

		snprintf(name, sizeof(name), "request.%s", state);
		eng_events_add(evs, eng_event_new(d, name, id, &f->rq.pr, now));
	}
	return dec->state == POLICY_STATE_READY ? ENG_READY : 0;
}

/* Answer for a request: id, state, what is missing, the hold. */
json_t *
eng_summary_json(const char *id, const struct policy_decision *dec)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:I}", "id", id, "state",
	    policy_state_name(dec->state), "class",
	    policy_class_name(dec->account_class), "route",
	    policy_route_name(dec->route), "missing", eng_missing_json(dec),
	    "hold_until", (json_int_t)dec->hold_until);
}

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
	    (dj = decision_json(&dec, rq.pr.nevidence, now)) == NULL ||
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

int
eng_final_state(enum policy_state s)
{
	return s == POLICY_STATE_VETOED || s == POLICY_STATE_DENIED ||
	    s == POLICY_STATE_SIGN_FAILED;
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
	    "decision", decision_json(&dec, f.rq.pr.nevidence, now));
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

static int
audit_row_json(const struct audit_entry *e, void *arg)
{
	json_t *details = json_loads(e->details, 0, NULL);

	return json_array_append_new(arg, json_pack("{s:I,s:I,s:I,s:s,s:s,"
	    "s:s,s:s?,s:o,s:s,s:s}", "seq", (json_int_t)e->seq, "time",
	    (json_int_t)e->time, "actor_uid", (json_int_t)e->actor_uid,
	    "actor_role", e->actor_role, "actor_name", e->actor_name,
	    "event", e->event, "request_id", e->request_id, "details",
	    details ? details : json_string(e->details), "prev_hash",
	    e->prev_hash, "hash", e->hash)) == 0 ? 0 : TG_ERR_NOMEM;
}

int
engine_audit_tail(struct tapgated *d, int limit, struct engine_result *res)
{
	json_t *arr = json_array();
	int r;

	if ((r = audit_tail(d->st, limit, audit_row_json, arr)) != 0) {
		json_decref(arr);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o}", "entries", arr);
	return 0;
}

/* An audit report as JSON (shared with the console's offline verify). */
json_t *
engine_audit_report_json(const struct audit_report *rep)
{
	static const char *const why[] = { "intact", "edited", "missing",
	    "unlinked", "malformed" };

	if (rep->ok)
		return json_pack("{s:b,s:I,s:I,s:s}", "ok", 1, "count",
		    (json_int_t)rep->count, "head_seq",
		    (json_int_t)rep->head_seq, "head_hash", rep->head_hash);
	return json_pack("{s:b,s:I,s:I,s:s,s:I,s:s,s:s}", "ok", 0, "count",
	    (json_int_t)rep->count, "head_seq", (json_int_t)rep->head_seq,
	    "head_hash", rep->head_hash, "bad_seq", (json_int_t)rep->bad_seq,
	    "why", (unsigned)rep->why < 5 ? why[rep->why] : "unknown",
	    "reason", rep->reason);
}

/* ---- signed audit checkpoints and backups (checkpoint.h, backup.h) */

/*
 * The key set checkpoints are checked against: every key the appliance
 * signed with, retired ones too (a checkpoint outlives its key).
 */
static int
signer_keys(struct tapgated *d, struct jwks **setp)
{
	if (d->keyring == NULL || d->signkey == NULL)
		return TG_ERR_NOT_FOUND;
	return signkey_ring_jwks(d->keyring, SIGNKEY_ALL, setp);
}

/* A checkpoint report as JSON: the chain's, plus the checkpoints'. */
json_t *
engine_checkpoint_report_json(const struct checkpoint_report *rep)
{
	json_t *j, *cp = NULL;
	char sig[128];

	if ((j = engine_audit_report_json(&rep->chain)) == NULL)
		return NULL;
	if (!rep->ok && rep->why != CHECKPOINT_CHAIN) {
		json_object_set_new(j, "ok", json_false());
		json_object_set_new(j, "bad_seq", json_integer(rep->bad_seq));
		json_object_set_new(j, "why",
		    json_string(checkpoint_break_name(rep->why)));
		json_object_set_new(j, "reason", json_string(rep->reason));
	}
	if (rep->have_latest) {
		b64url_encode(rep->latest.sig, sizeof(rep->latest.sig), sig);
		cp = json_pack("{s:I,s:s,s:I,s:s,s:s}", "seq",
		    (json_int_t)rep->latest.seq, "hash", rep->latest.hash,
		    "time", (json_int_t)rep->latest.time, "kid",
		    rep->latest.kid, "signature", sig);
	}
	json_object_set_new(j, "checkpoint", cp != NULL ? cp : json_null());
	json_object_set_new(j, "checkpoints", json_integer(rep->count));
	json_object_set_new(j, "signatures_checked",
	    json_boolean(rep->signatures));
	return j;
}

/* "SEQ:HASH" into a; 0 or TG_ERR_INVALID. */
static int
anchor_parse(const char *s, struct audit_anchor *a)
{
	const char *colon = strchr(s, ':');
	char *end;
	long long seq;

	memset(a, 0, sizeof(*a));
	if (colon == NULL || colon == s || strspn(s, "0123456789") !=
	    (size_t)(colon - s) || strlen(colon + 1) != AUDIT_HASH_HEX ||
	    strspn(colon + 1, "0123456789abcdef") != AUDIT_HASH_HEX)
		return TG_ERR_INVALID;
	seq = strtoll(s, &end, 10);
	if (end != colon || seq < 0 || seq > JCS_INT_MAX)
		return TG_ERR_INVALID;
	a->seq = (int64_t)seq;
	memcpy(a->hash, colon + 1, AUDIT_HASH_HEX + 1);
	return 0;
}

int
engine_audit_verify(struct tapgated *d, const char *const *anchors,
    size_t n, int64_t now, struct engine_result *res)
{
	struct audit_anchor a[ENGINE_ANCHORS_MAX + 1];
	const char *src[ENGINE_ANCHORS_MAX + 1];
	struct checkpoint_report rep;
	struct jwks *keys = NULL;
	size_t i, na = 0;
	json_t *j;
	int r;

	if (n > ENGINE_ANCHORS_MAX) {
		eng_error(res, 400, "invalid_query", "anchor: too many");
		return TG_ERR_INVALID;
	}
	for (i = 0; i < n; i++, na++) {
		if (anchor_parse(anchors[i], &a[na]) != 0) {
			eng_error(res, 400, "invalid_query",
			    "anchor: SEQ:HASH (an entry's seq and its 64 hex "
			    "digit hash)");
			return TG_ERR_INVALID;
		}
		src[na] = "the caller";
	}
	if (d->have_mark) {
		auditmark_anchor(&d->mark, &a[na]);
		src[na++] = "the high-water mark";
	}
	memset(&rep, 0, sizeof(rep));
	if ((r = signer_keys(d, &keys)) != 0 && r != TG_ERR_NOT_FOUND)
		return eng_db_error(d, res, r);
	r = checkpoint_verify(d->st, keys, &rep);
	jwks_free(&keys);
	for (i = 0; r == 0 && i < na; i++)
		r = audit_hold_anchor(d->st, &a[i]);
	if (r != 0)
		return eng_db_error(d, res, r);
	checkpoint_check_stale(&rep, now, d->checkpoint_interval > 0 ?
	    d->checkpoint_interval : DAEMON_CHECKPOINT_SECONDS);
	if ((j = engine_checkpoint_report_json(&rep)) == NULL ||
	    engine_anchors_json(j, a, src, na) != 0) {
		json_decref(j);
		return eng_db_error(d, res, TG_ERR_NOMEM);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = j;
	return 0;
}

int
engine_checkpoint(struct tapgated *d, int64_t now)
{
	struct checkpoint cp;
	struct jwks *keys = NULL;
	char why[256];
	int r;

	d->checkpoint_next = now + (d->checkpoint_interval > 0 ?
	    d->checkpoint_interval : DAEMON_CHECKPOINT_SECONDS);
	if (d->st == NULL || d->signkey == NULL)
		return TG_ERR_INVALID;
	if ((r = signer_keys(d, &keys)) != 0)
		return r;
	if ((r = store_begin(d->st)) != 0)
		goto fail;
	/* the signer re-checks the chain up to the head it signs */
	r = checkpoint_prepare(d->st, keys, now, &cp);
	if (r == TG_ERR_EXISTS || r == TG_ERR_NOT_FOUND) {
		store_rollback(d->st);	/* nothing new to sign */
		jwks_free(&keys);
		return 0;
	}
	if (r != 0 || (r = checkpoint_sign(&cp, d->signkey)) != 0 ||
	    (r = checkpoint_insert(d->st, &cp)) != 0 ||
	    (r = store_commit(d->st)) != 0)
		goto fail;
	jwks_free(&keys);
	fprintf(stderr, "tapgated: audit checkpoint: entry %lld %s signed by "
	    "%s\n", (long long)cp.seq, cp.hash, cp.kid);
	/* and outside the file it protects */
	(void)eng_mark_update(d, cp.seq, cp.hash, cp.time);
	return 1;
fail:
	snprintf(why, sizeof(why), "%s", store_errmsg(d->st));
	store_rollback(d->st);
	jwks_free(&keys);
	d->errors++;
	/* an alarm: the chain no longer extends what was signed */
	fprintf(stderr, "tapgated: audit checkpoint refused: %s (%s)\n",
	    tg_strerror(r), why);
	return r;
}

/* Whether path lies in the state directory (or cannot be told). */
static int
in_state_dir(struct tapgated *d, const char *path)
{
	char dir[PATH_MAX], parent[PATH_MAX], real[PATH_MAX];
	char *slash;
	size_t n;

	if (realpath(d->cfg->appliance.state_dir, dir) == NULL)
		return 1;
	snprintf(parent, sizeof(parent), "%s", path);
	if ((slash = strrchr(parent, '/')) == NULL)
		return 1;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (realpath(parent, real) == NULL)
		return 0;	/* no such directory: the backup will say */
	n = strlen(dir);
	return strncmp(real, dir, n) == 0 && (real[n] == '\0' ||
	    real[n] == '/');
}

/* Remove a backup that is not to be trusted, and its digest. */
static void
backup_discard(const char *path)
{
	char digest[PATH_MAX + 16];

	(void)unlink(path);
	snprintf(digest, sizeof(digest), "%s%s", path,
	    STORE_BACKUP_DIGEST_SUFFIX);
	(void)unlink(digest);
}

/*
 * Open the copy as restore will and check it the same way: integrity,
 * schema, the audit chain and its checkpoints.  0 when it holds; else
 * why in msg.
 */
static int
backup_check(struct tapgated *d, const char *path,
    struct checkpoint_report *rep, int *schemap, char *msg, size_t len)
{
	struct store *copy = NULL;
	struct jwks *keys = NULL;
	char err[256];
	int ok = 0, r;

	if ((r = store_open_copy(path, &copy, err, sizeof(err))) != 0) {
		snprintf(msg, len, "the copy does not open: %s", err);
		return r;
	}
	if ((r = store_integrity(copy, &ok, err, sizeof(err))) != 0 || !ok) {
		snprintf(msg, len, "integrity check: %s", r != 0 ?
		    tg_strerror(r) : err);
		r = r != 0 ? r : TG_ERR_CORRUPT;
		goto out;
	}
	if ((r = store_schema_version(copy, schemap)) != 0 ||
	    *schemap != store_schema_latest()) {
		snprintf(msg, len, "the copy has schema %d, not %d", *schemap,
		    store_schema_latest());
		r = r != 0 ? r : TG_ERR_SCHEMA;
		goto out;
	}
	if ((r = signer_keys(d, &keys)) != 0 ||
	    (r = checkpoint_verify(copy, keys, rep)) != 0) {
		snprintf(msg, len, "audit verify: %s", tg_strerror(r));
		goto out;
	}
	if (!rep->ok) {
		snprintf(msg, len, "audit verify: %s", rep->reason);
		r = TG_ERR_CORRUPT;
	}
out:
	jwks_free(&keys);
	store_close(&copy);
	return r;
}

int
engine_backup(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, int64_t now, struct engine_result *res)
{
	struct checkpoint_report rep;
	json_t *req, *report;
	const char *path;
	char sha[STORE_DIGEST_LEN + 1], head[AUDIT_HASH_HEX + 1], msg[512];
	int64_t size = 0, seq = 0;
	int schema = 0, r;

	req = json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES,
	    NULL);
	path = json_string_value(json_object_get(req, "path"));
	if (!json_is_object(req) || json_object_size(req) != 1 ||
	    path == NULL) {
		json_decref(req);
		eng_error(res, 400, "malformed_body", "expected {\"path\": "
		    "\"/absolute/file\"}");
		return TG_ERR_INVALID;
	}
	if (path[0] != '/' || strlen(path) >= PATH_MAX - 16 ||
	    path[strlen(path) - 1] == '/') {
		json_decref(req);
		eng_error(res, 400, "invalid_path", "path: an absolute file "
		    "name is needed");
		return TG_ERR_INVALID;
	}
	if (in_state_dir(d, path)) {
		json_decref(req);
		eng_error(res, 400, "invalid_path", "path: a backup does not "
		    "belong in the state directory");
		return TG_ERR_INVALID;
	}
	/* sign the head first, so the copy is covered to its last entry */
	(void)engine_checkpoint(d, now);
	if ((r = store_backup(d->st, path, sha, &size)) != 0) {
		json_decref(req);
		if (r == TG_ERR_EXISTS)
			eng_error(res, 409, "exists", "path: the file (or its "
			    ".sha256) exists; a backup never overwrites");
		else if (r == TG_ERR_IO || r == TG_ERR_PERM ||
		    r == TG_ERR_TOO_LONG)
			eng_error(res, 400, "cannot_write", "path: tapgated "
			    "cannot create the file there");
		else
			return eng_db_error(d, res, r);
		return r;
	}
	memset(&rep, 0, sizeof(rep));
	if ((r = backup_check(d, path, &rep, &schema, msg,
	    sizeof(msg))) != 0) {
		backup_discard(path);
		json_decref(req);
		fprintf(stderr, "tapgated: backup %s discarded: %s\n", path,
		    msg);
		d->errors++;
		eng_error(res, 500, "backup_unverified", msg);
		return r;
	}
	if ((r = store_begin(d->st)) != 0 ||
	    (r = eng_audit(d, a, "store.backup", NULL, json_pack(
	    "{s:s,s:s,s:I,s:i,s:I,s:s,s:I}", "path", path, "sha256", sha,
	    "size", (json_int_t)size, "schema", schema, "audit_head_seq",
	    (json_int_t)rep.chain.head_seq, "audit_head_hash",
	    rep.chain.head_hash, "checkpoint_seq", (json_int_t)(
	    rep.have_latest ? rep.latest.seq : 0)), now)) != 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		/* no backup without its audit entry */
		backup_discard(path);
		json_decref(req);
		return eng_db_error(d, res, r);
	}
	(void)audit_head(d->st, &seq, head);
	report = engine_checkpoint_report_json(&rep);
	json_decref(res->body);
	res->status = 201;
	res->body = json_pack("{s:s,s:s,s:I,s:i,s:s,s:o,s:I}", "path", path,
	    "sha256", sha, "size", (json_int_t)size, "schema", schema,
	    "integrity", "ok", "audit", report ? report : json_null(),
	    "audit_seq", (json_int_t)seq);
	json_decref(req);
	return 0;
}

/*
 * A batch of requests whose hold ends, soonest first.  The store hands
 * over at most DUE_MAX; the rest wait for the next tick, which is safe
 * because the timer parks whatever it cannot move on.
 */
#define DUE_MAX	64

struct due {
	char	ids[DUE_MAX][STORE_ID_LEN + 1];
	int64_t	start[DUE_MAX];
	int64_t	end[DUE_MAX];
	size_t	n;
};

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
static void
warn_closing(struct tapgated *d, int64_t now)
{
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	struct due due;
	char err[256];
	int64_t warn;
	size_t i;

	memset(&due, 0, sizeof(due));
	if (store_request_list_hold_due(d->st, "in_hold", now + 86400,
	    DUE_MAX, collect_due, &due) != 0)
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

/* ---- downtime: waiting periods count only while a veto can be taken */

#define HEARTBEAT_KEY	"heartbeat"
#define HELD_PAGE	500

/* The requests in hold when the appliance went down, as many as there are. */
struct held {
	struct {
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

/*
 * The appliance could take no veto from `from` to `now` (it was down, or
 * stalled): extend every hold still running at `from` by that time, with
 * a fresh veto window for those that ran out meanwhile, each audited, in
 * one transaction with the new heartbeat.
 */
static int
eng_downtime(struct tapgated *d, int64_t from, int64_t now,
    const char *cause)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	struct held h;
	int64_t down = now - from, until;
	size_t i;
	int r;

	memset(&h, 0, sizeof(h));
	if ((r = list_held(d, from, &h)) != 0 ||
	    (r = store_begin(d->st)) != 0)
		goto out;
	for (i = 0; i < h.n; i++) {
		until = extended_end(d, h.v[i].end, down, now);
		if ((r = store_request_set_hold(d->st, h.v[i].id,
		    h.v[i].start, until, now)) != 0 ||
		    (r = eng_audit(d, &sys, "hold.extended", h.v[i].id,
		    json_pack("{s:s,s:I,s:I,s:I,s:I,s:b}", "cause", cause,
		    "from", (json_int_t)h.v[i].end, "until",
		    (json_int_t)until, "downtime", (json_int_t)down,
		    "since", (json_int_t)from, "fresh_window",
		    h.v[i].end <= now), now)) != 0)
			break;
	}
	if (r != 0 || (r = store_meta_set(d->st, HEARTBEAT_KEY, now)) != 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		goto out;
	}
	d->heartbeat_at = now;
	fprintf(stderr, "tapgated: %lld s without a veto (%s, since %lld): "
	    "%zu hold(s) extended\n", (long long)down, cause,
	    (long long)from, h.n);
	for (i = 0; i < h.n; i++)
		post_extended(d, &h, i, extended_end(d, h.v[i].end, down, now),
		    now);
out:
	if (r != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: cannot extend the holds after %lld "
		    "s of downtime (%s): %s (%s)\n", (long long)down, cause,
		    tg_strerror(r), store_errmsg(d->st));
	}
	free(h.v);
	return r;
}

static int
store_heartbeat(struct tapgated *d, int64_t now)
{
	int r;

	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_meta_set(d->st, HEARTBEAT_KEY, now)) != 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		d->errors++;
		fprintf(stderr, "tapgated: cannot store the heartbeat: %s\n",
		    tg_strerror(r));
		return r;
	}
	d->heartbeat_at = now;
	return 0;
}

int
eng_clock(struct tapgated *d, int64_t now)
{
	int r;

	if (d->clock_seen == 0)
		return 0;	/* not started (engine_start) */
	if (now - d->clock_seen > d->cfg->holds.stall_seconds &&
	    (r = eng_downtime(d, d->clock_seen, now, "stall")) != 0)
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
		r = eng_downtime(d, hb, now, "restart");
	else
		r = store_heartbeat(d, now);
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
		(void)store_heartbeat(d, now);
}

/*
 * Park a due request the timer cannot move on (the facts do not load or
 * evaluate, or recording the change failed for a reason that will not go
 * away), in a transaction of its own: it never blocks the timer again.
 */
static void
tick_park(struct tapgated *d, const char *id, const char *state,
    const char *cause, int64_t now)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	int r;

	if ((r = store_begin(d->st)) != 0 ||
	    (r = eng_park(d, id, state, cause, &sys, now)) != 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		d->errors++;
		fprintf(stderr, "tapgated: hold timer: cannot park request "
		    "%s: %s\n", id, tg_strerror(r));
	}
}

/* Move one request whose hold has ended on; 1 when it changed. */
static int
tick_one(struct tapgated *d, const char *id, const char *state, int64_t now)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	struct policy_decision dec;
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
	if ((r = store_begin(d->st)) != 0 ||
	    (r = eng_facts_apply(d, &f, &dec, &sys, now, &evs)) < 0 ||
	    (r == ENG_READY && (r = eng_sign_ready(d, &f, &sys, now,
	    &evs)) != 0) ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		eng_events_clear(&evs);
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
	if (d->clock_seen != 0 && (now - d->heartbeat_at >=
	    DAEMON_HEARTBEAT_SECONDS || now < d->heartbeat_at))
		(void)store_heartbeat(d, now);
	/* a request the timer cannot move on is parked, so none blocks it */
	memset(&due, 0, sizeof(due));
	if ((r = store_request_list_hold_due(d->st, "in_hold", now, DUE_MAX,
	    collect_due, &due)) != 0)
		return r;
	for (i = 0; i < due.n; i++)
		changed += tick_one(d, due.ids[i], "in_hold", now);
	warn_closing(d, now);
	/* sign the audit head when due (and when the clock went back) */
	if (now >= d->checkpoint_next || d->checkpoint_next - now >
	    (d->checkpoint_interval > 0 ? d->checkpoint_interval :
	    DAEMON_CHECKPOINT_SECONDS))
		(void)engine_checkpoint(d, now);
	return changed;
}

int
engine_audit_system(struct tapgated *d, const char *event, json_t *details)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	int r;

	pthread_mutex_lock(&d->lock);
	if ((r = store_begin(d->st)) != 0)
		json_decref(details);
	else if ((r = eng_audit(d, &sys, event, NULL, details,
	    (int64_t)time(NULL))) != 0 || (r = store_commit(d->st)) != 0)
		store_rollback(d->st);
	if (r != 0) {
		fprintf(stderr, "tapgated: cannot audit %s: %s\n", event,
		    tg_strerror(r));
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* A hook's outcome: counted, and audited unless it went well (d->lock). */
static void
hook_outcome_locked(struct tapgated *d, const char *program,
    const char *event_json, enum hook_outcome outcome, int status)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	json_t *ev = json_loads(event_json, 0, NULL);
	const char *name = ev ? json_string_value(json_object_get(ev,
	    "event")) : NULL;
	const char *rid = ev ? json_string_value(json_object_get(ev,
	    "request_id")) : NULL;
	int r;

	d->hook_outcomes[outcome]++;
	if (outcome != HOOK_OK) {
		fprintf(stderr, "tapgated: hook %s: %s (%d) for %s\n",
		    program ? program : "-", hooks_outcome_name(outcome),
		    status, name ? name : "?");
		if ((r = store_begin(d->st)) != 0 ||
		    (r = eng_audit(d, &sys, "hook.failed", rid, json_pack(
		    "{s:s,s:s,s:s,s:i}", "program", program ? program : "",
		    "event", name ? name : "", "outcome",
		    hooks_outcome_name(outcome), "status", status),
		    (int64_t)time(NULL))) != 0 ||
		    (r = store_commit(d->st)) != 0) {
			store_rollback(d->st);
			fprintf(stderr, "tapgated: cannot audit hook outcome: "
			    "%s\n", tg_strerror(r));
		}
	}
	json_decref(ev);
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

struct metrics_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
mprintf(struct metrics_buf *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
mprintf(struct metrics_buf *m, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(m->p ? m->p + m->len : NULL, m->p ?
		    m->cap - m->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (m->p != NULL && (size_t)n < m->cap - m->len) {
			m->len += (size_t)n;
			return;
		}
		if ((p = realloc(m->p, m->cap + (size_t)n + 4096)) == NULL)
			return;
		m->p = p;
		m->cap += (size_t)n + 4096;
	}
}

static int
metrics_count(const char *queue, const char *state, int64_t count, void *arg)
{
	mprintf(arg, "tapgate_requests{queue=\"%s\",state=\"%s\"} %lld\n",
	    queue, state, (long long)count);
	return 0;
}

char *
engine_metrics(struct tapgated *d)
{
	struct metrics_buf m = { NULL, 0, 0 };
	char head[AUDIT_HASH_HEX + 1];
	int64_t seq = 0;
	size_t i;

	mprintf(&m, "# HELP tapgate_up The daemon answers.\n"
	    "# TYPE tapgate_up gauge\ntapgate_up 1\n"
	    "# HELP tapgate_requests Requests by queue and state.\n"
	    "# TYPE tapgate_requests gauge\n");
	store_request_counts(d->st, metrics_count, &m);
	mprintf(&m, "# HELP tapgate_http_responses_total HTTP answers by "
	    "status.\n# TYPE tapgate_http_responses_total counter\n");
	for (i = 0; i < DAEMON_HTTP_CODES && d->http_code[i] != 0; i++)
		mprintf(&m, "tapgate_http_responses_total{code=\"%u\"} %llu\n",
		    d->http_code[i], (unsigned long long)d->http_count[i]);
	mprintf(&m, "# HELP tapgate_hook_runs_total Notification hook runs "
	    "by outcome.\n# TYPE tapgate_hook_runs_total counter\n");
	for (i = 0; i <= HOOK_DROPPED; i++)
		mprintf(&m, "tapgate_hook_runs_total{outcome=\"%s\"} %llu\n",
		    hooks_outcome_name((enum hook_outcome)i),
		    (unsigned long long)d->hook_outcomes[i]);
	if (audit_head(d->st, &seq, head) == 0)
		mprintf(&m, "# HELP tapgate_audit_entries Entries in the audit "
		    "chain.\n# TYPE tapgate_audit_entries gauge\n"
		    "tapgate_audit_entries %lld\n", (long long)seq);
	mprintf(&m, "# HELP tapgate_approvers_enrolled Officers enrolled per "
	    "approver group.\n# TYPE tapgate_approvers_enrolled gauge\n"
	    "# HELP tapgate_quorum_unreachable 1 when fewer officers are "
	    "enrolled in a group than some policy needs.\n"
	    "# TYPE tapgate_quorum_unreachable gauge\n");
	for (i = 0; i < d->cfg->napprover_groups; i++)
		mprintf(&m, "tapgate_approvers_enrolled{group=\"%s\"} %u\n"
		    "tapgate_quorum_unreachable{group=\"%s\"} %d\n",
		    d->cfg->approver_groups[i], d->quorum_enrolled[i],
		    d->cfg->approver_groups[i],
		    d->quorum_enrolled[i] < d->quorum_needed[i]);
	mprintf(&m, "# HELP tapgate_internal_errors_total Database or "
	    "internal failures.\n# TYPE tapgate_internal_errors_total "
	    "counter\ntapgate_internal_errors_total %llu\n",
	    (unsigned long long)d->errors);
	return m.p;
}

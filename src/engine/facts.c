/* SPDX-License-Identifier: ISC */
/*
 * A request's facts: what the store knows of it (the request as
 * submitted, its evidence rows, the standing approvals, the vetoes,
 * denials and the signer's parking, the hold) is the truth, and its
 * state is what policy_evaluate() says of them now.  Here they are
 * loaded, evaluated, and what a new evaluation changed is recorded
 * inside the caller's transaction; a request that became ready is
 * reported to the caller, which hands it to the signer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/txn.h"

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

int
eng_evidence_digests(const json_t *arr, json_t *out)
{
	char digest[STORE_DIGEST_LEN + 1];
	const json_t *ev;
	size_t i;
	int r;

	json_array_foreach(arr, i, ev) {
		if ((r = eng_jcs_digest(ev, digest)) != 0)
			return r;
		if (json_array_append_new(out, json_string(digest)) != 0)
			return TG_ERR_NOMEM;
	}
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
json_t *
eng_decision_json(const struct policy_decision *dec, size_t nevidence,
    int64_t now)
{
	json_t *verdicts = json_array(), *groups = json_array();
	json_t *drops = json_array(), *dj, *vj;
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
	dj = json_pack("{s:s,s:I,s:s,s:{s:s,s:s,s:s,s:s,s:s},"
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
	/* what the appliance verified itself, and what the rule asks */
	vj = json_pack("{s:i,s:i,s:o,s:i}", "verified",
	    (int)dec->evidence_verified, "verified_required",
	    (int)dec->evidence_verified_required, "verified_types",
	    names_of_mask(dec->evidence_verified_types, policy_evidence_name),
	    "verified_types_required",
	    (int)dec->evidence_verified_types_required);
	if (dj != NULL && (vj == NULL || json_object_update(
	    json_object_get(dj, "evidence"), vj) != 0)) {
		json_decref(dj);
		dj = NULL;
	}
	json_decref(vj);
	return dj;
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
collect_evidence(const struct store_evidence *ev, void *arg)
{
	json_t *arr = arg, *v;

	if ((v = json_loads(ev->json, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(v)) {
		json_decref(v);
		return TG_ERR_CORRUPT;
	}
	/*
	 * The row's origin column decides who vouches for it (rows stored
	 * before it existed are the agent's word and name none).
	 */
	if ((json_object_get(v, "origin") != NULL ||
	    strcmp(ev->origin, "agent") != 0) &&
	    json_object_set_new(v, "origin", json_string(ev->origin)) != 0) {
		json_decref(v);
		return TG_ERR_NOMEM;
	}
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
	else if (strcmp(dc->kind, ENG_RECLASSIFIED) == 0 &&
	    dc->created > f->reclassified)
		f->reclassified = dc->created;
	else if (strcmp(dc->kind, ENG_EXPIRED) == 0)
		f->expired = true;
	else if (strcmp(dc->kind, ENG_VETO_COOLOFF) == 0)
		f->rq.pr.veto_cooloff = true;
	else if (strncmp(dc->kind, ENG_RISK_PREFIX,
	    strlen(ENG_RISK_PREFIX)) == 0) {
		enum policy_risk rk;

		/* stored by us: an unknown name is a damaged row */
		if (policy_risk_parse(dc->kind + strlen(ENG_RISK_PREFIX),
		    &rk) != 0)
			return TG_ERR_CORRUPT;
		f->rq.pr.risk[rk] = true;
	}
	return 0;
}

void
eng_facts_clear(struct facts *f)
{
	store_request_free(&f->row);
	reqjson_clear(&f->rq);
	json_decref(f->evidence);
	json_decref(f->approvals);
	json_decref(f->dirsnap);
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
	int64_t		 after;		/* the last reclassification */
};

static int
collect_approval(const struct store_approval *ap, void *arg)
{
	struct approval_load *al = arg;
	struct approver_now an = { 0, 1 };
	char *cred;
	int r, uv;

	/* approved before the facts changed: another change (the same
	 * second counts as before: approving again is the safe side) */
	if (al->after != 0 && ap->created <= al->after)
		return 0;
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
	r = json_array_append_new(al->arr, json_pack("{s:s,s:s,s:s,s:b,s:I,"
	    "s:I}", "officer", ap->approver_name, "group", ap->approver_group,
	    "cred", cred, "uv", uv, "approver_id",
	    (json_int_t)ap->approver_id, "time", (json_int_t)ap->created)) ==
	    0 ? 0 : TG_ERR_NOMEM;
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
	al.after = f->reclassified;
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
 * The directory's facts the request was stored with, as the policy reads
 * them; none (no directory then) leaves rq.pr.directory NULL.
 */
static int
load_dirsnap(struct facts *f)
{
	if (f->row->directory_json == NULL)
		return 0;
	if ((f->dirsnap = json_loads(f->row->directory_json,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    eng_dir_snapshot_pfacts(f->dirsnap, &f->dirf) != 0) {
		fprintf(stderr, "tapgated: request %s: its directory facts "
		    "are unreadable\n", f->row->id);
		return TG_ERR_CORRUPT;
	}
	f->rq.pr.directory = &f->dirf.pf;
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
	if ((r = load_dirsnap(f)) != 0)
		goto fail;
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
	int r;

	memset(&prog, 0, sizeof(prog));
	prog.hold_start = f->row->hold_start;
	prog.approvals = f->appr;
	prog.napprovals = f->nappr;
	prog.vetoed = f->vetoed;
	prog.denied = f->denied;
	prog.sign_failed = f->sign_failed;
	prog.hold_end = f->row->hold_end;
	if ((r = policy_evaluate(d->cfg, &f->rq.pr, &prog, now, dec)) != 0)
		return r;
	/* ran out of time (timer.c): final, unless it was closed before */
	if (f->expired && !eng_final_state(dec->state))
		dec->state = POLICY_STATE_EXPIRED;
	return 0;
}

int
eng_final_state(enum policy_state s)
{
	return s == POLICY_STATE_VETOED || s == POLICY_STATE_DENIED ||
	    s == POLICY_STATE_SIGN_FAILED || s == POLICY_STATE_EXPIRED;
}

/* The audit entry of a hold that started, ended early (cleared) or grew:
 * its event, and its details (NULL without memory). */
static json_t *
hold_entry(const struct facts *f, const struct policy_decision *dec,
    const char **event)
{
	if (dec->hold_start == 0) {
		*event = "request.hold_cleared";
		return json_object();
	}
	if (dec->hold_start == f->row->hold_start) {
		/* the policy's hold grew (a new configuration) */
		*event = "hold.extended";
		return json_pack("{s:s,s:I,s:I}", "cause", "policy", "from",
		    (json_int_t)f->row->hold_end, "until",
		    (json_int_t)dec->hold_until);
	}
	*event = "request.hold_started";
	return json_pack("{s:I,s:I}", "start", (json_int_t)dec->hold_start,
	    "until", (json_int_t)dec->hold_until);
}

/* Record a hold that started, ended early (cleared) or grew. */
static int
apply_hold(struct tapgated *d, const struct facts *f,
    const struct policy_decision *dec, const struct engine_actor *a,
    int64_t now, struct events *evs)
{
	const char *id = f->row->id, *event;
	json_t *details, *ev;
	int r;

	if (dec->hold_start == f->row->hold_start &&
	    (dec->hold_start == 0 || dec->hold_until <= f->row->hold_end))
		return 0;
	details = hold_entry(f, dec, &event);
	if ((r = store_request_set_hold(d->st, id, dec->hold_start,
	    dec->hold_start ? dec->hold_until : 0, now)) == 0)
		r = eng_audit(d, a, event, id, details, now);
	json_decref(details);
	if (r != 0 || strcmp(event, "request.hold_started") != 0)
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
	json_t *dj, *details;
	char *ds;
	int r;

	/* the hold first: the signer reads it from the store */
	if ((r = apply_hold(d, f, dec, a, now, evs)) != 0)
		return r;
	if ((dj = eng_decision_json(dec, f->rq.pr.nevidence, now)) == NULL ||
	    (ds = json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(dj);
		return TG_ERR_NOMEM;
	}
	json_decref(dj);
	r = store_request_set_state(d->st, id, f->row->state, state, ds, now);
	free(ds);
	if (r != 0 || strcmp(state, f->row->state) == 0)
		return r;
	details = json_pack("{s:s,s:s,s:o}", "from", f->row->state, "to",
	    state, "missing", eng_missing_json(dec));
	r = eng_audit(d, a, "request.state_changed", id, details, now);
	json_decref(details);
	if (r != 0)
		return r;
	if (dec->state == POLICY_STATE_VETOED ||
	    dec->state == POLICY_STATE_DENIED ||
	    dec->state == POLICY_STATE_EXPIRED) {
		char name[48];

		snprintf(name, sizeof(name), "request.%s", state);
		eng_events_add(evs, eng_event_new(d, name, id, &f->rq.pr, now));
	}
	return dec->state == POLICY_STATE_READY ? ENG_READY : 0;
}

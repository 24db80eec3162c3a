/* SPDX-License-Identifier: ISC */
/*
 * An officer's approval.  It is a FIDO2 assertion whose clientDataHash is
 * the SHA-256 of a WebAuthn-shaped clientData whose challenge is the
 * SHA-256 of the canonical change (eng_change): the touch is bound to
 * exactly this change.  The daemon verifies it against the officer's
 * enrolled key (UP, UV, rpIdHash, a counter that grows; a counter that
 * did not grow suspends the key as a possible clone), checks separation
 * of duties and the officer's cooldown, and records it with its audit
 * entry; a request the approval made ready goes to the signer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "engine/body.h"
#include "engine/creds.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/signer.h"
#include "engine/txn.h"
#include "token/token.h"

/* The alarm of a possible clone: suspended, or why not (cause). */
static json_t *
clone_alarm(const struct who *w, uint32_t presented, const char *cause)
{
	json_t *j;

	j = json_pack("{s:s,s:s,s:I,s:I,s:b}", "approver", w->name, "group",
	    w->group, "stored_counter", (json_int_t)w->sign_count,
	    "presented_counter", (json_int_t)presented, "suspended",
	    cause == NULL);
	if (j != NULL && cause != NULL)
		json_object_set_new(j, "why", json_string(cause));
	return j;
}

/* A clone's suspension, as the steps of its transaction. */
struct clone_txn {
	const struct engine_actor	*a;
	const char			*id;
	const struct who		*w;
	const json_t			*alarm;
	const json_t			*refused;
	int64_t				 now;
};

static int
clone_steps(struct tapgated *d, void *arg)
{
	const struct clone_txn *t = arg;
	int r, n = 0;

	if ((r = store_approver_revoke(d->st, t->w->id, NULL, "cloned: "
	    "signature counter did not grow", t->now, &n)) != 0 ||
	    (r = eng_audit(d, &eng_system, "alarm.cloned_key", t->id,
	    t->alarm, t->now)) != 0 ||
	    (r = eng_audit(d, t->a, "approval.refused", t->id, t->refused,
	    t->now)) != 0)
		return r;
	r = engine_quorum_check(d, 1, t->now);
	return r < 0 ? r : 0;
}

/* The suspension of a possible clone failed (r): say so loudly. */
static int
clone_not_suspended(struct tapgated *d, const char *id, const struct who *w,
    uint32_t presented, int r, int64_t now, struct engine_result *res)
{
	char msg[320], cause[160];
	json_t *alarm;

	snprintf(cause, sizeof(cause), "%s (%s)", tg_strerror(r),
	    store_errmsg(d->st));
	d->errors++;
	fprintf(stderr, "tapgated: ALARM: approver %s presented counter %u, "
	    "stored %lld: a possible cloned key; suspending it FAILED: %s: "
	    "revoke it by hand\n", w->name, presented,
	    (long long)w->sign_count, cause);
	snprintf(msg, sizeof(msg), "the signature counter did not grow: this "
	    "credential may be cloned; suspending its approver failed (%s): "
	    "an operator must revoke it", cause);
	eng_error(res, 403, "cloned_key", msg);
	/* the alarm, at least, if the store takes it now */
	alarm = clone_alarm(w, presented, cause);
	(void)eng_audit_alone(d, &eng_system, "alarm.cloned_key", id, alarm,
	    now);
	json_decref(alarm);
	json_object_set_new(res->body, "suspended", json_false());
	return TG_ERR_POLICY;
}

/*
 * A key whose signature counter did not grow may be a clone: suspend its
 * approver (revoked as "cloned"), raise the alarm and refuse, in one
 * transaction.  Whether the suspension took is what the log, the audit
 * and the answer say; the approval is refused either way.  TG_ERR_POLICY.
 */
static int
suspend_clone(struct tapgated *d, const struct engine_actor *a,
    const char *id, const struct who *w, uint32_t presented, int64_t now,
    struct engine_result *res)
{
	struct clone_txn t;
	json_t *alarm, *refused;
	int r;

	alarm = clone_alarm(w, presented, NULL);
	refused = json_pack("{s:s,s:s,s:s}", "code", "cloned_key", "reason",
	    "signature counter did not grow", "officer", w->name);
	t = (struct clone_txn){ a, id, w, alarm, refused, now };
	r = eng_txn(d, clone_steps, &t, NULL, NULL, NULL);
	json_decref(alarm);
	json_decref(refused);
	if (r != 0)
		return clone_not_suspended(d, id, w, presented, r, now, res);
	fprintf(stderr, "tapgated: ALARM: approver %s presented counter "
	    "%u, stored %lld: suspended as a possible cloned key\n",
	    w->name, presented, (long long)w->sign_count);
	eng_error(res, 403, "cloned_key", "the signature counter did not "
	    "grow: this credential may be cloned; its approver is suspended");
	json_object_set_new(res->body, "suspended", json_true());
	return TG_ERR_POLICY;
}

/* Refuse an approval: answer, and audit why (own transaction). */
static int
refuse(struct tapgated *d, const struct engine_actor *a, const char *id,
    struct engine_result *res, int status, const char *code,
    const char *why, const char *officer, int64_t now)
{
	json_t *details;

	eng_error(res, status, code, why);
	details = json_pack("{s:s,s:s,s:s}", "code", code, "reason", why,
	    "officer", officer ? officer : "");
	(void)eng_audit_alone(d, a, "approval.refused", id, details, now);
	json_decref(details);
	return TG_ERR_POLICY;
}

/* An approval, and what follows from it, as the steps of a transaction. */
struct record_txn {
	const struct engine_actor	*a;
	const char			*id;
	const struct store_approval	*sap;
	const json_t			*details;
	struct facts			*f;
	struct policy_decision		*dec;
	struct events			*evs;
	char				*why;
	size_t				 whylen;
	int64_t				 now;
	int				 recorded;
};

static int
record_steps(struct tapgated *d, void *arg)
{
	struct record_txn *t = arg;
	int r;

	if ((r = store_approval_insert(d->st, t->sap)) != 0 ||
	    (r = store_approver_set_count(d->st, t->sap->approver_id,
	    t->sap->sign_count)) != 0 ||
	    (r = eng_audit(d, t->a, "request.approved", t->id, t->details,
	    t->now)) != 0)
		return r;
	t->recorded = 1;
	/* the new approval counts: evaluate and record what follows */
	eng_facts_clear(t->f);
	if ((r = eng_facts_load(d, t->id, t->f, t->why, t->whylen)) != 0 ||
	    (r = eng_facts_evaluate(d, t->f, t->now, t->dec)) != 0)
		return r;
	if ((r = eng_facts_apply(d, t->f, t->dec, t->a, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, t->a, t->now, t->evs);
}

int
engine_approval_preview(struct tapgated *d, const char *id, int64_t now,
    struct engine_result *res)
{
	struct policy_decision dec;
	struct facts f;
	uint8_t digest[32], cdh[32];
	char cd[512], dig64[48];
	json_t *change = NULL;
	int r;

	if ((r = eng_load(d, id, &f, res)) != 0)
		return r;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    (r = eng_change(d, &f, &dec, &change, digest)) != 0 ||
	    (r = eng_client_data(d, digest, cd, sizeof(cd), cdh)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	b64url_encode(digest, 32, dig64);
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:o,s:s,s:s,s:o}", "request_id", id,
	    "state", policy_state_name(dec.state), "change", change,
	    "change_digest", dig64, "client_data", cd, "missing",
	    eng_missing_json(&dec));
	change = NULL;
out:
	json_decref(change);
	eng_facts_clear(&f);
	return r;
}

int
engine_approve(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, struct engine_result *res)
{
	struct policy_decision dec;
	struct policy_approval cand;
	struct token_assertion *as = NULL;
	struct token_cred_id *allow_ids = NULL;
	struct token_assert_req ar;
	struct token_verify_req vr;
	struct store_approval sap;
	struct events evs = { { NULL }, 0 };
	enum policy_approver_fault fault;
	struct idlist al;
	struct facts f;
	struct who w;
	const char *device, *pin;
	uint8_t digest[32], digest2[32], cdh[32];
	char cd[512], why[256], prefix[17], *cred64 = NULL;
	struct record_txn t;
	json_t *j = NULL, *change = NULL, *details = NULL;
	int64_t since, recent = 0, now = eng_now();
	uint32_t count = 0;
	size_t i;
	int r;

	memset(&al, 0, sizeof(al));
	memset(&f, 0, sizeof(f));
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((device = eng_member_str(j, "device", 4096, 1, res)) == NULL ||
	    (pin = eng_member_str(j, "pin", TOKEN_PIN_MAX, 1, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	/* phase 1, locked: what is being approved */
	if ((r = eng_load(d, id, &f, res)) != 0)
		goto out;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    (r = eng_change(d, &f, &dec, &change, digest)) != 0 ||
	    (r = eng_client_data(d, digest, cd, sizeof(cd), cdh)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (dec.state != POLICY_STATE_NEEDS_APPROVAL &&
	    dec.state != POLICY_STATE_MANUAL_REVIEW) {
		snprintf(why, sizeof(why), "request is %s: it takes no "
		    "approval now", policy_state_name(dec.state));
		r = refuse(d, a, id, res, 409, "not_awaiting_approval", why,
		    NULL, now);
		goto out;
	}
	if ((r = store_approver_list(d->st, 0, eng_collect_allow, &al)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (al.n == 0) {
		r = refuse(d, a, id, res, 409, "no_approvers", "no approver is "
		    "enrolled", NULL, now);
		goto out;
	}
	if ((allow_ids = calloc(al.n, sizeof(*allow_ids))) == NULL) {
		r = TG_ERR_NOMEM;
		eng_db_error(d, res, r);
		goto out;
	}
	for (i = 0; i < al.n; i++) {
		allow_ids[i].ptr = al.ids[i];
		allow_ids[i].len = al.lens[i];
	}
	memset(&ar, 0, sizeof(ar));
	ar.rp_id = d->cfg->appliance.rp_id;
	ar.client_data_hash = cdh;
	ar.allow = allow_ids;
	ar.nallow = al.n;
	ar.pin = pin;
	/* phase 2, unlocked: the touch */
	pthread_mutex_unlock(&d->lock);
	r = tokenproc_assert(d->tokenproc, device, &ar, &as);
	pthread_mutex_lock(&d->lock);
	eng_wipe_member(j, "pin");
	now = eng_now();
	if (r != 0) {
		char code[48];
		int status;

		eng_token_answer(res, r, "assertion");
		status = res->status;
		snprintf(code, sizeof(code), "%s", json_string_value(
		    json_object_get(json_object_get(res->body, "error"),
		    "code")));
		snprintf(why, sizeof(why), "assertion: %s", tg_strerror(r));
		r = refuse(d, a, id, res, status, code, why, NULL, now);
		goto out;
	}
	/* phase 3, locked again: the request may have moved meanwhile */
	eng_facts_clear(&f);
	json_decref(change);
	change = NULL;
	if ((r = eng_load(d, id, &f, res)) != 0)
		goto out;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    (r = eng_change(d, &f, &dec, &change, digest2)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (CRYPTO_memcmp(digest, digest2, 32) != 0) {
		r = refuse(d, a, id, res, 409, "changed_meanwhile", "the "
		    "request changed while the key was touched; approve again",
		    NULL, now);
		goto out;
	}
	memset(&w, 0, sizeof(w));
	if ((r = store_approver_by_cred(d->st, as->cred_id, as->cred_id_len,
	    eng_collect_who, &w)) != 0) {
		r = refuse(d, a, id, res, 403, "not_enrolled", "the key "
		    "answered with a credential that is not enrolled", NULL,
		    now);
		goto out;
	}
	if (w.revoked) {
		r = refuse(d, a, id, res, 403, "revoked_approver", "this "
		    "approver's credential is revoked", w.name, now);
		goto out;
	}
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &w.pk;
	vr.rp_id = d->cfg->appliance.rp_id;
	vr.client_data_hash = cdh;
	vr.authdata = as->authdata;
	vr.authdata_len = as->authdata_len;
	vr.sig = as->sig;
	vr.sig_len = as->sig_len;
	vr.prev_sign_count = (uint32_t)w.sign_count;
	if (!w.pk_ok)
		r = TG_ERR_SIGNATURE;
	else
		r = token_verify_assertion(&vr, &count);
	if (r == TG_ERR_COUNTER) {
		/* a key whose counter does not grow may be a clone */
		r = suspend_clone(d, a, id, &w, as->sign_count, now, res);
		goto out;
	}
	if (r != 0) {
		snprintf(why, sizeof(why), "the assertion does not verify: %s",
		    tg_strerror(r));
		r = refuse(d, a, id, res, 403, r == TG_ERR_FLAGS ?
		    "presence_or_verification_missing" : "bad_assertion", why,
		    w.name, now);
		goto out;
	}
	if ((r = b64url_encode_alloc(as->cred_id, as->cred_id_len,
	    &cred64)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	memset(&cand, 0, sizeof(cand));
	cand.group = w.group;
	cand.officer = w.name;
	cand.credential_id = cred64;
	cand.user_verified = (as->flags & TOKEN_FLAG_UV) != 0;
	{
		struct policy_progress prog;

		memset(&prog, 0, sizeof(prog));
		prog.approvals = f.appr;
		prog.napprovals = f.nappr;
		prog.hold_start = f.row->hold_start;
		if (policy_check_approver(&f.rq.pr, &prog, &dec, &cand,
		    &fault) != 0) {
			snprintf(why, sizeof(why), "separation of duties: %s",
			    policy_approver_fault_name(fault));
			r = refuse(d, a, id, res, 403,
			    policy_approver_fault_name(fault), why, w.name, now);
			goto out;
		}
	}
	since = now - d->cfg->approvers.cooldown_seconds;
	if ((r = store_recent_recoveries(d->st, w.name, since, &recent)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (recent > 0) {
		snprintf(why, sizeof(why), "a recovery of approver %s's own "
		    "account was approved within the last %lld s", w.name,
		    (long long)d->cfg->approvers.cooldown_seconds);
		r = refuse(d, a, id, res, 403, "approver_in_cooldown", why,
		    w.name, now);
		goto out;
	}
	memset(&sap, 0, sizeof(sap));
	sap.request_id = id;
	sap.approver_id = w.id;
	sap.cred_id = as->cred_id;
	sap.cred_id_len = as->cred_id_len;
	sap.auth_data = as->authdata;
	sap.auth_data_len = as->authdata_len;
	sap.signature = as->sig;
	sap.signature_len = as->sig_len;
	sap.client_data = cd;
	sap.sign_count = count;
	sap.created = now;
	eng_cred_prefix(as->cred_id, as->cred_id_len, prefix);
	details = json_pack("{s:s,s:s,s:s,s:I,s:b}", "approver", w.name,
	    "group", w.group, "credential", prefix, "counter",
	    (json_int_t)count, "user_verified", cand.user_verified);
	t = (struct record_txn){ a, id, &sap, details, &f, &dec, &evs, why,
	    sizeof(why), now, 0 };
	r = eng_txn(d, record_steps, &t, &evs, NULL, NULL);
	if (r == TG_ERR_EXISTS && !t.recorded)
		refuse(d, a, id, res, 409, "already_approved", "this "
		    "approver has approved this request already", w.name, now);
	else if (r != 0)
		eng_db_error(d, res, r);
	if (r != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
	json_object_set_new(res->body, "approver", json_string(w.name));
	json_object_set_new(res->body, "group", json_string(w.group));
out:
	eng_events_post(d, &evs);
	if (j != NULL)
		eng_wipe_member(j, "pin");
	json_decref(j);
	json_decref(change);
	json_decref(details);
	free(cred64);
	free(allow_ids);
	eng_idlist_clear(&al);
	token_assertion_free(&as);
	eng_facts_clear(&f);
	return r;
}

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
 *
 * The touch is asked only when it can count: before it, the key is asked
 * without a touch which officer's credential it holds (a silent
 * assertion, UV by the PIN), and every check that depends only on that
 * officer and the request runs then.  That answer is not verified, so it
 * only ever refuses: after the touch every check runs again on the
 * signed assertion, whose counter is held to the last one stored (the
 * silent one, which a key may count too, is never stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "engine/body.h"
#include "engine/creds.h"
#include "engine/dirlookup.h"
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
	json_object_set_new(res->body, "touch_asked", json_true());
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
	refused = json_pack("{s:s,s:s,s:s,s:b}", "code", "cloned_key",
	    "reason", "signature counter did not grow", "officer", w->name,
	    "touch_asked", 1);
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
	json_object_set_new(res->body, "touch_asked", json_true());
	return TG_ERR_POLICY;
}

/* An approval as it goes through its phases. */
struct approval {
	const struct engine_actor	*a;
	const char			*id;
	const char			*device;
	const char			*pin;	/* wiped after use */
	const char			*via;	/* "box", "console" */
	int64_t				 now;
	int				 asked;	/* the touch was asked */
	/* phase 1: what is being approved, and who may approve it */
	struct facts			 f;
	struct policy_decision		 dec;
	uint8_t				 digest[32];	/* of the change */
	char				 cd[512];	/* its clientData */
	uint8_t				 cdh[32];
	/* from the console: the browser's clientDataJSON and the nonce */
	char				*cdj;
	uint8_t				 nonce[CLIENTDATA_NONCE_LEN];
	int				 has_nonce;
	struct idlist			 allow;
	struct token_cred_id		*allow_ids;
	/* phase 2: the credential the key holds, as it said untouched */
	uint8_t				*held;
	size_t				 held_len;
	/* phase 4: the key's answer to the touch */
	struct token_assertion		*as;
	/* phases 3 and 5: the officer behind it (verified in 5) */
	struct who			 w;
	uint32_t			 count;
	char				*cred64;
	struct policy_approval		 cand;
};

/*
 * Refuse an approval: answer, and audit why (own transaction); both say
 * whether the key was asked for a touch.
 */
static int
refuse(struct tapgated *d, const struct approval *ap,
    struct engine_result *res, int status, const char *code,
    const char *why, const char *officer)
{
	json_t *details;

	eng_error(res, status, code, why);
	json_object_set_new(res->body, "touch_asked", json_boolean(ap->asked));
	details = json_pack("{s:s,s:s,s:s,s:b,s:s}", "code", code, "reason",
	    why, "officer", officer ? officer : "", "touch_asked", ap->asked,
	    "via", ap->via != NULL ? ap->via : "box");
	(void)eng_audit_alone(d, ap->a, "approval.refused", ap->id, details,
	    ap->now);
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

static void
approval_clear(struct approval *ap)
{
	eng_facts_clear(&ap->f);
	eng_idlist_clear(&ap->allow);
	free(ap->allow_ids);
	free(ap->held);
	token_assertion_free(&ap->as);
	free(ap->cred64);
	free(ap->cdj);
	OPENSSL_cleanse(ap, sizeof(*ap));
}

/*
 * Phase 1, locked: the request awaits an approval; its change's digest
 * and clientData, and every active officer's credential for the key's
 * allow list.
 */
static int
approve_prepare(struct tapgated *d, struct approval *ap,
    struct engine_result *res)
{
	json_t *change = NULL;
	char why[256];
	size_t i;
	int r;

	if ((r = eng_load(d, ap->id, &ap->f, res)) != 0)
		return r;
	if ((r = eng_facts_evaluate(d, &ap->f, ap->now, &ap->dec)) != 0 ||
	    (r = eng_change(d, &ap->f, &ap->dec, &change, ap->digest)) != 0 ||
	    (r = eng_client_data(d, ap->digest, ap->cd, sizeof(ap->cd),
	    ap->cdh)) != 0) {
		json_decref(change);
		return eng_db_error(d, res, r);
	}
	json_decref(change);
	if (ap->dec.state != POLICY_STATE_NEEDS_APPROVAL &&
	    ap->dec.state != POLICY_STATE_MANUAL_REVIEW) {
		snprintf(why, sizeof(why), "request is %s: it takes no "
		    "approval now", policy_state_name(ap->dec.state));
		return refuse(d, ap, res, 409, "not_awaiting_approval", why,
		    NULL);
	}
	if ((r = store_approver_list(d->st, 0, eng_collect_allow,
	    &ap->allow)) != 0)
		return eng_db_error(d, res, r);
	if (ap->allow.n == 0)
		return refuse(d, ap, res, 409, "no_approvers",
		    "no approver is enrolled", NULL);
	if ((ap->allow_ids = calloc(ap->allow.n,
	    sizeof(*ap->allow_ids))) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	for (i = 0; i < ap->allow.n; i++) {
		ap->allow_ids[i].ptr = ap->allow.ids[i];
		ap->allow_ids[i].len = ap->allow.lens[i];
	}
	return 0;
}

/*
 * The key (r, from the token process) refused what `what` asked of it:
 * answered as the officer at the box needs it, with the PIN attempts
 * left (retries, -1 unknown) after a PIN error, and audited.
 */
static int
token_refused(struct tapgated *d, const struct approval *ap, int r,
    int retries, const char *what, struct engine_result *res)
{
	char code[48], why[256];
	int status;

	eng_token_answer(res, r, what);
	status = res->status;
	snprintf(code, sizeof(code), "%s", json_string_value(json_object_get(
	    json_object_get(res->body, "error"), "code")));
	snprintf(why, sizeof(why), "%s: %s", what, tg_strerror(r));
	refuse(d, ap, res, status, code, why, NULL);
	/* refuse() wrote the answer anew: the count goes into that one */
	eng_pin_retries(res, retries);
	return TG_ERR_POLICY;
}

/*
 * Phase 2, unlocked: which officer's credential the key holds, asked
 * without a touch (a silent assertion, UV by the PIN; the key does not
 * blink).  A wrong PIN, or a key that holds no active officer's
 * credential, ends the approval here, no touch asked.
 */
static int
approve_identify(struct tapgated *d, struct approval *ap,
    struct engine_result *res)
{
	struct token_assert_req ar;
	int r, retries = -1;

	memset(&ar, 0, sizeof(ar));
	ar.rp_id = d->cfg->appliance.rp_id;
	ar.allow = ap->allow_ids;
	ar.nallow = ap->allow.n;
	ar.pin = ap->pin;
	pthread_mutex_unlock(&d->lock);
	r = tokenproc_identify(d->tokenproc, ap->device, &ar, &ap->held,
	    &ap->held_len, &retries);
	pthread_mutex_lock(&d->lock);
	ap->now = eng_now();
	if (r == 0)
		return 0;
	return token_refused(d, ap, r, retries, "key check (no touch)", res);
}

/*
 * Phases 3 and 5, locked: the request may have moved while the key was
 * asked; the change must still be the one phase 1 built (the one the
 * key signs for in phase 4), and the facts are loaded afresh.
 */
static int
approve_reload(struct tapgated *d, struct approval *ap,
    struct engine_result *res)
{
	uint8_t digest[32];
	json_t *change = NULL;
	int r;

	eng_facts_clear(&ap->f);
	if ((r = eng_load(d, ap->id, &ap->f, res)) != 0)
		return r;
	if ((r = eng_facts_evaluate(d, &ap->f, ap->now, &ap->dec)) != 0 ||
	    (r = eng_change(d, &ap->f, &ap->dec, &change, digest)) != 0)
		return eng_db_error(d, res, r);
	json_decref(change);
	if (CRYPTO_memcmp(ap->digest, digest, 32) != 0)
		return refuse(d, ap, res, 409, "changed_meanwhile", ap->asked ?
		    "the request changed while the key was touched; approve "
		    "again" : "the request changed while the key was asked "
		    "which officer holds it; approve again", NULL);
	return 0;
}

/*
 * Phases 3 and 5: the officer behind credential cred is enrolled and not
 * revoked (ap->w).
 */
static int
approve_who(struct tapgated *d, struct approval *ap, const uint8_t *cred,
    size_t len, struct engine_result *res)
{
	memset(&ap->w, 0, sizeof(ap->w));
	if (store_approver_by_cred(d->st, cred, len, eng_collect_who,
	    &ap->w) != 0)
		return refuse(d, ap, res, 403, "not_enrolled",
		    "the key answered with a credential that is not enrolled",
		    NULL);
	if (ap->w.revoked)
		return refuse(d, ap, res, 403, "revoked_approver",
		    "this approver's credential is revoked", ap->w.name);
	return 0;
}

/*
 * Phase 5: the officer behind the assertion is enrolled, not revoked, and
 * the assertion verifies with their key (UP, UV, rpIdHash, the counter
 * grew past the last one stored; a counter that did not suspends the
 * key as a possible clone).
 */
static int
approve_officer(struct tapgated *d, struct approval *ap,
    struct engine_result *res)
{
	const struct token_assertion *as = ap->as;
	struct token_verify_req vr;
	char why[256];
	int r;

	if ((r = approve_who(d, ap, as->cred_id, as->cred_id_len, res)) != 0)
		return r;
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &ap->w.pk;
	vr.rp_id = d->cfg->appliance.rp_id;
	vr.client_data_hash = ap->cdh;
	vr.authdata = as->authdata;
	vr.authdata_len = as->authdata_len;
	vr.sig = as->sig;
	vr.sig_len = as->sig_len;
	vr.prev_sign_count = (uint32_t)ap->w.sign_count;
	if (!ap->w.pk_ok)
		r = TG_ERR_SIGNATURE;
	else
		r = token_verify_assertion(&vr, &ap->count);
	if (r == TG_ERR_COUNTER)
		/* a key whose counter does not grow may be a clone */
		return suspend_clone(d, ap->a, ap->id, &ap->w, as->sign_count,
		    ap->now, res);
	if (r == 0)
		return 0;
	snprintf(why, sizeof(why), "the assertion does not verify: %s",
	    tg_strerror(r));
	return refuse(d, ap, res, 403, r == TG_ERR_FLAGS ?
	    "presence_or_verification_missing" : "bad_assertion", why,
	    ap->w.name);
}

/*
 * Whether officer w is the target of request f by identity rather than
 * by the text of a name: with a directory, the officer's DN (found at
 * enrolment) is the target's (found at submission), or the names are
 * one account's (dir_name_same); with or without one, the principal of
 * the target's name is enrolled as w (its officer setting).  Why in why.
 */
static bool
officer_is_target(const struct tapgated *d, const struct who *w,
    const struct facts *f, char *why, size_t cap)
{
	const struct policy_directory *dir = &d->cfg->directory;
	const char *account = f->rq.pr.account, *dn, *mapped;
	const json_t *t;

	t = json_object_get(json_object_get(f->rq.root, "target"), "dn");
	/* target.dn is the directory's only when there is one */
	dn = dir->configured ? json_string_value(t) : NULL;
	if (dn != NULL && policy_dn_same(w->dn, dn)) {
		snprintf(why, cap, "officer %s is the target's directory entry "
		    "%.300s", w->name, dn);
		return true;
	}
	if (dir->configured && dir_name_same(dir, w->name, account)) {
		snprintf(why, cap, "officer %s is the target account %s",
		    w->name, account);
		return true;
	}
	if ((mapped = policy_officer_of(d->cfg, account)) != NULL &&
	    strcmp(mapped, w->name) == 0) {
		snprintf(why, cap, "the target %s is a principal enrolled as "
		    "officer %s", account, w->name);
		return true;
	}
	return false;
}

/*
 * Whether officer w is the requester of request f by identity: with a
 * directory, the officer's DN is the agent's entry (kept when the
 * directory admitted the agent as a help-desk member), or the officer's
 * name is, to the directory, the agent's or the officer name the
 * agent's principal is enrolled as.  Why in why.
 */
static bool
officer_is_requester(const struct tapgated *d, const struct who *w,
    const struct facts *f, char *why, size_t cap)
{
	const struct policy_directory *dir = &d->cfg->directory;
	const struct policy_request *pr = &f->rq.pr;
	const char *dn;
	const json_t *t;

	if (!dir->configured)
		return false;
	t = json_object_get(json_object_get(f->rq.root, "requester"), "dn");
	if ((dn = json_string_value(t)) != NULL && policy_dn_same(w->dn, dn)) {
		snprintf(why, cap, "officer %s is the requesting agent's "
		    "directory entry %.300s", w->name, dn);
		return true;
	}
	if (dir_name_same(dir, w->name, pr->agent) ||
	    (pr->agent_officer != NULL && dir_name_same(dir, w->name,
	    pr->agent_officer))) {
		snprintf(why, cap, "officer %s is the requesting agent %s",
		    w->name, pr->agent);
		return true;
	}
	return false;
}

/*
 * Phases 3 and 5: the officer ap->w, with credential cred (user verified
 * or not), may approve this request: separation of duties (not the
 * requester or the target, not twice, in a group the rule needs) and no
 * recovery of their own account approved within the cooldown.
 */
static int
approve_rules(struct tapgated *d, struct approval *ap, const uint8_t *cred,
    size_t len, int uv, struct engine_result *res)
{
	struct policy_progress prog;
	enum policy_approver_fault fault;
	int64_t since, recent = 0;
	char why[800], who[700];
	int r;

	if (officer_is_target(d, &ap->w, &ap->f, who, sizeof(who))) {
		snprintf(why, sizeof(why), "separation of duties: %s", who);
		return refuse(d, ap, res, 403, policy_approver_fault_name(
		    POLICY_APPROVER_IS_TARGET), why, ap->w.name);
	}
	if (officer_is_requester(d, &ap->w, &ap->f, who, sizeof(who))) {
		snprintf(why, sizeof(why), "separation of duties: %s", who);
		return refuse(d, ap, res, 403, policy_approver_fault_name(
		    POLICY_APPROVER_IS_REQUESTER), why, ap->w.name);
	}
	free(ap->cred64);
	ap->cred64 = NULL;
	if ((r = b64url_encode_alloc(cred, len, &ap->cred64)) != 0)
		return eng_db_error(d, res, r);
	memset(&ap->cand, 0, sizeof(ap->cand));
	ap->cand.group = ap->w.group;
	ap->cand.officer = ap->w.name;
	ap->cand.credential_id = ap->cred64;
	ap->cand.user_verified = uv != 0;
	memset(&prog, 0, sizeof(prog));
	prog.approvals = ap->f.appr;
	prog.napprovals = ap->f.nappr;
	prog.hold_start = ap->f.row->hold_start;
	if (policy_check_approver(&ap->f.rq.pr, &prog, &ap->dec, &ap->cand,
	    &fault) != 0) {
		snprintf(why, sizeof(why), "separation of duties: %s",
		    policy_approver_fault_name(fault));
		return refuse(d, ap, res, 403,
		    policy_approver_fault_name(fault), why, ap->w.name);
	}
	since = ap->now - d->cfg->approvers.cooldown_seconds;
	if ((r = store_recent_recoveries(d->st, ap->w.name, since,
	    &recent)) != 0)
		return eng_db_error(d, res, r);
	if (recent == 0)
		return 0;
	snprintf(why, sizeof(why), "a recovery of approver %s's own account "
	    "was approved within the last %lld s", ap->w.name,
	    (long long)d->cfg->approvers.cooldown_seconds);
	return refuse(d, ap, res, 403, "approver_in_cooldown", why,
	    ap->w.name);
}

/*
 * Phase 3, locked, before the touch: every check that depends only on
 * the officer whose credential the key named and on the request, as
 * phase 5 runs them (user verification is the PIN's, which the key took).
 * The key's word is not verified: it may only refuse, at no touch.
 */
static int
approve_preflight(struct tapgated *d, struct approval *ap,
    struct engine_result *res)
{
	int r;

	if ((r = approve_reload(d, ap, res)) != 0 ||
	    (r = approve_who(d, ap, ap->held, ap->held_len, res)) != 0)
		return r;
	return approve_rules(d, ap, ap->held, ap->held_len, 1, res);
}

/*
 * Phase 4, unlocked so the API keeps answering: the officer touches the
 * key for the clientData, with the credential it named in phase 2 (so
 * the touch is for the officer checked).  The PIN is wiped from the body
 * j right after.
 */
static int
approve_touch(struct tapgated *d, struct approval *ap, json_t *j,
    struct engine_result *res)
{
	struct token_assert_req ar;
	struct token_cred_id held;
	struct timespec t0, t1;
	int r, retries = -1;

	held.ptr = ap->held;
	held.len = ap->held_len;
	memset(&ar, 0, sizeof(ar));
	ar.rp_id = d->cfg->appliance.rp_id;
	ar.client_data_hash = ap->cdh;
	ar.allow = &held;
	ar.nallow = 1;
	ar.pin = ap->pin;
	ap->asked = 1;
	pthread_mutex_unlock(&d->lock);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	r = tokenproc_assert(d->tokenproc, ap->device, &ar, &ap->as,
	    &retries);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the metrics tell this wait from the daemon's own work */
	res->touch_ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
	    (t1.tv_nsec - t0.tv_nsec);
	pthread_mutex_lock(&d->lock);
	eng_wipe_member(j, "pin");
	ap->now = eng_now();
	if (r == 0)
		return 0;
	return token_refused(d, ap, r, retries, "assertion", res);
}

/*
 * Phase 5: record the approval and what follows from it (to the signer
 * when the request is now ready) in one transaction, and answer.
 */
static int
approve_record(struct tapgated *d, struct approval *ap, struct events *evs,
    struct engine_result *res)
{
	const struct token_assertion *as = ap->as;
	struct store_approval sap;
	struct record_txn t;
	char prefix[17], why[256];
	json_t *details;
	int r;

	memset(&sap, 0, sizeof(sap));
	sap.request_id = ap->id;
	sap.approver_id = ap->w.id;
	sap.cred_id = as->cred_id;
	sap.cred_id_len = as->cred_id_len;
	sap.auth_data = as->authdata;
	sap.auth_data_len = as->authdata_len;
	sap.signature = as->sig;
	sap.signature_len = as->sig_len;
	sap.client_data = ap->cdj != NULL ? ap->cdj : ap->cd;
	sap.nonce = ap->has_nonce ? ap->nonce : NULL;
	sap.sign_count = ap->count;
	sap.created = ap->now;
	eng_cred_prefix(as->cred_id, as->cred_id_len, prefix);
	details = json_pack("{s:s,s:s,s:s,s:I,s:b,s:s}", "approver",
	    ap->w.name, "group", ap->w.group, "credential", prefix, "counter",
	    (json_int_t)ap->count, "user_verified", ap->cand.user_verified,
	    "via", ap->via != NULL ? ap->via : "box");
	t = (struct record_txn){ ap->a, ap->id, &sap, details, &ap->f,
	    &ap->dec, evs, why, sizeof(why), ap->now, 0 };
	r = eng_txn(d, record_steps, &t, evs, NULL, NULL);
	json_decref(details);
	if (r == TG_ERR_EXISTS && !t.recorded) {
		refuse(d, ap, res, 409, "already_approved", "this approver has "
		    "approved this request already", ap->w.name);
		return r;
	}
	if (r != 0)
		return eng_db_error(d, res, r);
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(ap->id, &ap->dec);
	json_object_set_new(res->body, "approver", json_string(ap->w.name));
	json_object_set_new(res->body, "group", json_string(ap->w.group));
	return 0;
}

int
engine_approve(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, struct engine_result *res)
{
	struct approval ap;
	struct events evs = { { NULL }, 0 };
	json_t *j = NULL;
	int r;

	memset(&ap, 0, sizeof(ap));
	ap.a = a;
	ap.id = id;
	ap.via = "box";
	ap.now = eng_now();
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((ap.device = eng_member_str(j, "device", 4096, 1, res)) == NULL ||
	    (ap.pin = eng_member_str(j, "pin", TOKEN_PIN_MAX, 1,
	    res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((r = approve_prepare(d, &ap, res)) != 0 ||
	    (r = approve_identify(d, &ap, res)) != 0 ||
	    (r = approve_preflight(d, &ap, res)) != 0 ||
	    (r = approve_touch(d, &ap, j, res)) != 0 ||
	    (r = approve_reload(d, &ap, res)) != 0 ||
	    (r = approve_officer(d, &ap, res)) != 0 ||
	    (r = approve_rules(d, &ap, ap.as->cred_id, ap.as->cred_id_len,
	    ap.as->flags & TOKEN_FLAG_UV, res)) != 0)
		goto out;
	r = approve_record(d, &ap, &evs, res);
out:
	eng_events_post(d, &evs);
	if (j != NULL)
		eng_wipe_member(j, "pin");
	json_decref(j);
	approval_clear(&ap);
	return r;
}

/* ---- from the web console */

/*
 * The enrolled officer an officer caller is: the officer its principal
 * is enrolled as (its officer setting), else its principal's name, else
 * its own name; NULL when that is no canonical identity.
 */
static const char *
console_officer(const struct engine_actor *a)
{
	const char *n = a->name;

	if (a->principal != NULL)
		n = a->principal->officer[0] != '\0' ?
		    a->principal->officer : a->principal->name;
	return n != NULL && policy_identity_canonical(n) ? n : NULL;
}

/* The officer's active credentials, as a WebAuthn allowCredentials. */
struct console_creds {
	const char	*officer;
	json_t		*allow;
	uint8_t		*first;		/* the first credential, raw */
	size_t		 first_len;
	int		 err;
};

static int
collect_officer_creds(const struct store_approver *a, void *arg)
{
	struct console_creds *c = arg;

	if (a->revoked || strcmp(a->name, c->officer) != 0 || c->err != 0)
		return 0;
	c->err = eng_cred_descriptor_add(c->allow, a->cred_id,
	    a->cred_id_len);
	if (c->first == NULL && c->err == 0) {
		if ((c->first = malloc(a->cred_id_len)) == NULL)
			c->err = TG_ERR_NOMEM;
		else {
			memcpy(c->first, a->cred_id, a->cred_id_len);
			c->first_len = a->cred_id_len;
		}
	}
	return 0;
}

/*
 * The request's rule takes its approvals at the box only (approve_at):
 * refused, audited.  Called once approve_prepare decided.
 */
static int
console_where(struct tapgated *d, const struct approval *ap,
    struct engine_result *res)
{
	if (!ap->dec.approve_at_box)
		return 0;
	return refuse(d, ap, res, 409, "approve_at_box", "this request's "
	    "rule takes its approvals at the box only (approve_at): an "
	    "officer approves it there with the key", NULL);
}

/*
 * Before the officer touches the key: every check that depends only on
 * the officer (with credential cred) and the request, as at the box
 * (approve_preflight), refused and audited with "touch_asked": false.
 */
static int
console_preflight(struct tapgated *d, const struct engine_actor *a,
    const char *id, const uint8_t *cred, size_t len, int64_t now,
    struct engine_result *res)
{
	struct approval ap;
	int r;

	memset(&ap, 0, sizeof(ap));
	ap.a = a;
	ap.id = id;
	ap.via = "console";
	ap.now = now;
	if ((r = approve_prepare(d, &ap, res)) == 0 &&
	    (r = console_where(d, &ap, res)) == 0 &&
	    (r = approve_who(d, &ap, cred, len, res)) == 0)
		r = approve_rules(d, &ap, cred, len, 1, res);
	approval_clear(&ap);
	return r;
}

/*
 * A slot for officer's new nonce: the oldest of its own once it holds
 * DAEMON_OFFICER_NONCES (so no officer can take every slot), else a free
 * one (expired ones are free); NULL when none is.
 */
static struct daemon_nonce *
nonce_slot(struct tapgated *d, const char *officer, int64_t now)
{
	struct daemon_nonce *n, *oldest = NULL, *free_slot = NULL;
	size_t i, held = 0;

	for (i = 0; i < DAEMON_CONSOLE_NONCES; i++) {
		n = &d->nonces[i];
		if (n->expires <= now) {
			if (free_slot == NULL)
				free_slot = n;
			continue;
		}
		if (strcmp(n->officer, officer) != 0)
			continue;
		held++;
		if (oldest == NULL || n->expires < oldest->expires)
			oldest = n;
	}
	n = held >= DAEMON_OFFICER_NONCES ? oldest : free_slot;
	if (n != NULL)
		OPENSSL_cleanse(n, sizeof(*n));
	return n;
}

int
engine_console_begin(struct tapgated *d, const struct engine_actor *a,
    const char *id, int64_t now, struct engine_result *res)
{
	const struct policy_console *con = &d->cfg->console;
	struct console_creds c = { NULL, NULL, NULL, 0, 0 };
	struct daemon_nonce *slot;
	const char *officer, *state;
	char nonce64[48], chal[CLIENTDATA_CHALLENGE_LEN + 1], why[160];
	uint8_t *digest = NULL;
	size_t dlen = 0;
	json_t *preview = NULL, *audit;
	int r;

	if (con->norigins == 0) {
		eng_error(res, 409, "no_console", "no console origin is "
		    "configured (console.origins): approvals are taken at "
		    "the box");
		return TG_ERR_POLICY;
	}
	if ((officer = console_officer(a)) == NULL) {
		eng_error(res, 403, "no_officer_identity", "the caller is no "
		    "canonical identity: a console approval needs the "
		    "officer who approves");
		return TG_ERR_PERM;
	}
	c.officer = officer;
	if ((c.allow = json_array()) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	if ((r = store_approver_list(d->st, 0, collect_officer_creds,
	    &c)) != 0 || (r = c.err) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (json_array_size(c.allow) == 0) {
		snprintf(why, sizeof(why), "officer %s has no enrolled key",
		    officer);
		eng_error(res, 403, "not_enrolled", why);
		r = TG_ERR_PERM;
		goto out;
	}
	if ((r = console_preflight(d, a, id, c.first, c.first_len, now,
	    res)) != 0)
		goto out;
	/* what the box shows, from the same function */
	json_decref(res->body);
	res->body = NULL;
	if ((r = engine_approval_preview(d, id, now, res)) != 0)
		goto out;
	preview = res->body;
	res->body = NULL;
	state = json_string_value(json_object_get(preview, "state"));
	if (state == NULL || (strcmp(state, policy_state_name(
	    POLICY_STATE_NEEDS_APPROVAL)) != 0 && strcmp(state,
	    policy_state_name(POLICY_STATE_MANUAL_REVIEW)) != 0)) {
		snprintf(why, sizeof(why), "request is %s: it takes no "
		    "approval now", state ? state : "?");
		eng_error(res, 409, "not_awaiting_approval", why);
		r = TG_ERR_POLICY;
		goto out;
	}
	if ((r = b64url_decode(json_string_value(json_object_get(preview,
	    "change_digest")), 43, 32, &digest, &dlen)) != 0 || dlen != 32) {
		eng_db_error(d, res, r != 0 ? r : TG_ERR_INVALID);
		goto out;
	}
	if ((slot = nonce_slot(d, officer, now)) == NULL) {
		eng_error(res, 429, "too_many_attempts", "too many console "
		    "approvals are under way: try again when one ended or "
		    "expired");
		r = TG_ERR_POLICY;
		goto out;
	}
	if (RAND_bytes(slot->nonce, sizeof(slot->nonce)) != 1) {
		OPENSSL_cleanse(slot, sizeof(*slot));
		eng_db_error(d, res, r = TG_ERR_INTERNAL);
		goto out;
	}
	snprintf(slot->request_id, sizeof(slot->request_id), "%s", id);
	snprintf(slot->officer, sizeof(slot->officer), "%s", officer);
	slot->uid = a->uid;
	slot->expires = now + con->nonce_seconds;
	b64url_encode(slot->nonce, sizeof(slot->nonce), nonce64);
	clientdata_challenge(digest, slot->nonce, chal);
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:s,s:I,s:O,s:s}",
	    "request_id", id, "officer", officer, "nonce", nonce64,
	    "challenge", chal, "rp_id", d->cfg->appliance.rp_id,
	    "allow_credentials", c.allow, "user_verification", "required",
	    "expires", (json_int_t)slot->expires, "preview", preview,
	    "approve_at", "anywhere");
	if (res->body == NULL) {
		OPENSSL_cleanse(slot, sizeof(*slot));
		eng_db_error(d, res, r = TG_ERR_NOMEM);
		goto out;
	}
	/* who asked to approve what, and when the attempt lapses */
	audit = json_pack("{s:s,s:s,s:I}", "officer", officer, "via",
	    "console", "expires", (json_int_t)slot->expires);
	(void)eng_audit_alone(d, a, "approval.begun", id, audit, now);
	json_decref(audit);
out:
	free(digest);
	free(c.first);
	json_decref(c.allow);
	json_decref(preview);
	return r;
}

/*
 * Take the nonce n (consumed whatever follows) and hold it to this
 * request and this officer, before it expired.
 */
static int
console_nonce(struct tapgated *d, struct approval *ap, const char *officer,
    struct engine_result *res)
{
	struct daemon_nonce got;
	size_t i;
	int found = 0;

	for (i = 0; i < DAEMON_CONSOLE_NONCES; i++) {
		if (d->nonces[i].expires == 0 ||
		    CRYPTO_memcmp(d->nonces[i].nonce, ap->nonce,
		    sizeof(ap->nonce)) != 0)
			continue;
		got = d->nonces[i];
		OPENSSL_cleanse(&d->nonces[i], sizeof(d->nonces[i]));
		found = 1;
		break;
	}
	if (!found)
		return refuse(d, ap, res, 403, "nonce_unknown", "the nonce "
		    "was not issued, or was used already: begin again",
		    officer);
	OPENSSL_cleanse(got.nonce, sizeof(got.nonce));
	if (got.expires <= ap->now)
		return refuse(d, ap, res, 403, "nonce_expired", "the nonce "
		    "expired: begin again", officer);
	if (strcmp(got.request_id, ap->id) != 0)
		return refuse(d, ap, res, 403, "nonce_other_request", "the "
		    "nonce was issued for another request", officer);
	if (strcmp(got.officer, officer) != 0 || got.uid != ap->a->uid)
		return refuse(d, ap, res, 403, "nonce_other_officer", "the "
		    "nonce was issued to another officer", officer);
	ap->has_nonce = 1;
	return 0;
}

/* A base64url member of the body, 1 to max bytes decoded: else 400. */
static int
console_b64(struct tapgated *d, struct approval *ap, const json_t *j,
    const char *key, size_t max, uint8_t **out, size_t *outlen,
    struct engine_result *res)
{
	const char *v;
	char why[160];
	int r = 0;

	v = json_string_value(json_object_get(j, key));
	if (v != NULL && (r = b64url_decode(v, strlen(v), max, out,
	    outlen)) == 0 && *outlen > 0)
		return 0;
	free(*out);
	*out = NULL;
	if (v != NULL && r == TG_ERR_NOMEM)
		return eng_db_error(d, res, r);
	snprintf(why, sizeof(why), "%s: base64url (no padding) of 1 to %zu "
	    "bytes", key, max);
	return refuse(d, ap, res, 400, "invalid_field", why, NULL);
}

/*
 * The body ({"nonce","credential_id","authenticator_data",
 * "client_data_json","signature"}, base64url, nothing else): its nonce
 * into ap->nonce.
 */
static int
console_body_nonce(struct tapgated *d, struct approval *ap, json_t *j,
    struct engine_result *res)
{
	uint8_t *nonce = NULL;
	size_t n = 0;
	int r;

	if ((r = console_b64(d, ap, j, "nonce", CLIENTDATA_NONCE_LEN, &nonce,
	    &n, res)) != 0)
		return r;
	if (n != CLIENTDATA_NONCE_LEN) {
		free(nonce);
		return refuse(d, ap, res, 400, "invalid_field", "nonce: "
		    "base64url of 32 bytes", NULL);
	}
	memcpy(ap->nonce, nonce, n);
	free(nonce);
	return 0;
}

/*
 * The rest of the body ({"nonce","credential_id","authenticator_data",
 * "client_data_json","signature"}, base64url, nothing else): the
 * clientDataJSON (as text, ap->cdj) and ap->as.
 */
static int
console_body_assertion(struct tapgated *d, struct approval *ap,
    json_t *j, struct engine_result *res)
{
	static const char *const keys[] = { "nonce", "credential_id",
	    "authenticator_data", "client_data_json", "signature" };
	uint8_t *cdj = NULL;
	size_t cdlen = 0, i;
	const char *key;
	json_t *v;
	int r;

	json_object_foreach(j, key, v) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return refuse(d, ap, res, 400, "invalid_field", "the "
			    "body takes nonce, credential_id, "
			    "authenticator_data, client_data_json and "
			    "signature only", NULL);
	}

	if ((ap->as = calloc(1, sizeof(*ap->as))) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	if ((r = console_b64(d, ap, j, "credential_id", TOKEN_CRED_ID_MAX,
	    &ap->as->cred_id, &ap->as->cred_id_len, res)) != 0 ||
	    (r = console_b64(d, ap, j, "authenticator_data", 1024,
	    &ap->as->authdata, &ap->as->authdata_len, res)) != 0 ||
	    (r = console_b64(d, ap, j, "signature", 128, &ap->as->sig,
	    &ap->as->sig_len, res)) != 0 ||
	    (r = console_b64(d, ap, j, "client_data_json", CLIENTDATA_MAX,
	    &cdj, &cdlen, res)) != 0)
		return r;
	/* kept as text: the parser refuses a NUL before it is used */
	if ((ap->cdj = malloc(cdlen + 1)) == NULL) {
		free(cdj);
		return eng_db_error(d, res, TG_ERR_NOMEM);
	}
	memcpy(ap->cdj, cdj, cdlen);
	ap->cdj[cdlen] = '\0';
	free(cdj);
	if (ap->as->authdata_len >= 37) {
		ap->as->flags = ap->as->authdata[32];
		ap->as->sign_count = (uint32_t)ap->as->authdata[33] << 24 |
		    (uint32_t)ap->as->authdata[34] << 16 |
		    (uint32_t)ap->as->authdata[35] << 8 | ap->as->authdata[36];
	}
	return 0;
}

/*
 * The browser's clientDataJSON: parsed strictly, for this change with
 * this nonce, of type webauthn.get, from one of the console's origins.
 * ap->cdh becomes its hash.
 */
static int
console_client_data(struct tapgated *d, struct approval *ap,
    const char *officer, struct engine_result *res)
{
	const struct policy_console *con = &d->cfg->console;
	struct clientdata cd;
	enum clientdata_fault f;
	char chal[CLIENTDATA_CHALLENGE_LEN + 1], why[320];
	size_t i, len = strlen(ap->cdj);
	int r;

	if ((r = clientdata_parse((const uint8_t *)ap->cdj, len, &cd,
	    &f)) == TG_ERR_NOMEM)
		return eng_db_error(d, res, r);
	if (r != 0)
		return refuse(d, ap, res, 400, "bad_client_data",
		    clientdata_fault_text(f), officer);
	clientdata_challenge(ap->digest, ap->nonce, chal);
	if (CRYPTO_memcmp(chal, cd.challenge, sizeof(chal)) != 0)
		return refuse(d, ap, res, 409, "challenge_mismatch", "the "
		    "clientDataJSON's challenge is not this change's with "
		    "this nonce: the request changed, or the assertion is "
		    "another attempt's; begin again", officer);
	for (i = 0; i < con->norigins; i++)
		if (strcmp(cd.origin, con->origins[i]) == 0)
			break;
	if (i == con->norigins || !clientdata_origin_ok(cd.origin,
	    d->cfg->appliance.rp_id)) {
		snprintf(why, sizeof(why), "origin %.*s is not one of the "
		    "console's", 200, cd.origin);
		for (i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f ||
			    (unsigned char)why[i] > 0x7e)
				why[i] = '?';
		return refuse(d, ap, res, 403, "origin_refused", why,
		    officer);
	}
	SHA256((const unsigned char *)ap->cdj, len, ap->cdh);
	return 0;
}

int
engine_console_approve(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, struct engine_result *res)
{
	struct approval ap;
	struct events evs = { { NULL }, 0 };
	const char *officer;
	json_t *j = NULL;
	int r;

	memset(&ap, 0, sizeof(ap));
	ap.a = a;
	ap.id = id;
	ap.via = "console";
	ap.asked = 1;	/* the browser had the key touched */
	ap.now = eng_now();
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((officer = console_officer(a)) == NULL) {
		r = refuse(d, &ap, res, 403, "no_officer_identity", "the "
		    "caller is no canonical identity: a console approval "
		    "needs the officer who approves", NULL);
		goto out;
	}
	/* the nonce is spent on any attempt, right or wrong */
	if ((r = console_body_nonce(d, &ap, j, res)) != 0 ||
	    (r = console_nonce(d, &ap, officer, res)) != 0 ||
	    (r = console_body_assertion(d, &ap, j, res)) != 0 ||
	    (r = approve_prepare(d, &ap, res)) != 0 ||
	    (r = console_where(d, &ap, res)) != 0 ||
	    (r = console_client_data(d, &ap, officer, res)) != 0 ||
	    (r = approve_who(d, &ap, ap.as->cred_id, ap.as->cred_id_len,
	    res)) != 0)
		goto out;
	if (strcmp(ap.w.name, officer) != 0) {
		r = refuse(d, &ap, res, 403, "not_your_credential", "the "
		    "credential is another officer's than the caller's",
		    officer);
		goto out;
	}
	if ((r = approve_officer(d, &ap, res)) != 0 ||
	    (r = approve_rules(d, &ap, ap.as->cred_id, ap.as->cred_id_len,
	    ap.as->flags & TOKEN_FLAG_UV, res)) != 0)
		goto out;
	r = approve_record(d, &ap, &evs, res);
out:
	eng_events_post(d, &evs);
	json_decref(j);
	approval_clear(&ap);
	return r;
}

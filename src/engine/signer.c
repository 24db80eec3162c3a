/* SPDX-License-Identifier: ISC */
/*
 * The signer, the one place that co-signs.  The change officers approve
 * is derived from the stored request (eng_change) and bound into the
 * clientData of each approval (eng_client_data).  When a request becomes
 * ready, or an operator asks, the signer re-derives the change from the
 * store, re-verifies every recorded assertion against it with the
 * approver's enrolled key, holds the whole rule to the approvals that
 * verify, and only then signs the order; it signs nothing else.  A
 * request it refuses is parked as sign_failed.  The orders are read and
 * redeemed here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "daemon/reqjson.h"
#include "engine/auditguard.h"
#include "engine/creds.h"
#include "engine/dirlookup.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/redemption.h"
#include "engine/signer.h"
#include "engine/txn.h"
#include "order/jws.h"
#include "token/token.h"

/* ---- the change and its clientData */

/*
 * The approvals the policy requires, as the order states them for a
 * downstream verifier to hold it to: [{"group","count"}], [] for none.
 */
static json_t *
required_approvals(const struct policy_decision *dec)
{
	json_t *arr = json_array(), *item;
	size_t i;

	for (i = 0; arr != NULL && dec->approval_required &&
	    i < dec->napprovals; i++) {
		item = json_pack("{s:s,s:I}", "group", dec->approvals[i].group,
		    "count", (json_int_t)dec->approvals[i].required);
		if (item == NULL || json_array_append_new(arr, item) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/*
 * The privileged groups of the snapshot the decision drops: all of them
 * when it drops every privileged entitlement, else those it names.
 */
static json_t *
dropped_groups(const json_t *snap, const struct policy_decision *dec)
{
	const json_t *priv = json_object_get(snap, "privileged_groups");
	json_t *out = json_array(), *g;
	size_t i, k;
	bool drop;

	json_array_foreach(priv, i, g) {
		drop = dec->drop_all_privileged;
		for (k = 0; !drop && k < dec->ndrop; k++)
			drop = policy_dn_same(dec->drop[k],
			    json_string_value(g));
		if (out != NULL && drop &&
		    json_array_append(out, g) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/*
 * What the directory said, in the change: the target's DN and privileged
 * groups, and the groups the order takes away (as DNs).  Nothing for a
 * request without a directory.
 */
static int
change_facts(const struct facts *f, const struct policy_decision *dec,
    json_t *change)
{
	json_t *t = json_object_get(change, "target");
	json_t *e = json_object_get(change, "entitlements_dropped");
	const json_t *priv;

	if (f->dirsnap == NULL)
		return 0;
	priv = json_object_get(f->dirsnap, "privileged_groups");
	if (json_object_set(t, "dn", json_object_get(f->dirsnap, "dn")) != 0 ||
	    json_object_set_new(t, "privileged_groups", json_deep_copy(priv))
	    != 0 || json_object_set_new(e, "groups",
	    dropped_groups(f->dirsnap, dec)) != 0)
		return TG_ERR_NOMEM;
	return 0;
}

/*
 * The evidence the change rests on: each counted item's type, channel,
 * origin and who vouched for it ("tapgate" for the appliance); no ref,
 * no code, no contact detail.
 */
static json_t *
rests_on(const struct facts *f, const struct policy_decision *dec)
{
	const struct policy_evidence *e;
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < f->rq.pr.nevidence && i < POLICY_MAX_EVIDENCE; i++) {
		if (dec->verdicts[i] != POLICY_EVIDENCE_COUNTED)
			continue;
		e = &f->rq.pr.evidence[i];
		if (json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}",
		    "type", policy_evidence_name(e->type), "channel",
		    e->channel, "origin", policy_origin_name(e->origin),
		    "verified_by", e->verifier)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int
eng_change(struct tapgated *d, const struct facts *f,
    const struct policy_decision *dec, json_t **changep, uint8_t digest[32])
{
	json_t *change, *digests = json_array(), *drops = json_array();
	json_t *required = required_approvals(dec);
	const json_t *changes = json_object_get(f->rq.root, "changes");
	char *c = NULL;
	size_t i, n;
	int r;

	if (digests == NULL || drops == NULL || required == NULL ||
	    (r = eng_evidence_digests(f->evidence, digests)) != 0) {
		json_decref(digests);
		json_decref(drops);
		json_decref(required);
		return TG_ERR_NOMEM;
	}
	for (i = 0; i < dec->ndrop; i++)
		json_array_append_new(drops, json_string(dec->drop[i]));
	change = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:O,"
	    "s:{s:b,s:o},s:{s:s,s:I,s:o},s:o,s:{s:s}}",
	    "typ", "tapgate-change/v1",
	    "appliance", d->cfg->appliance.id,
	    "request_id", f->row->id,
	    "queue", policy_queue_name(f->rq.pr.queue),
	    "target", "account", f->rq.pr.account, "system", f->rq.pr.system,
	    "class", policy_class_name(dec->account_class),
	    "changes", json_is_object(changes) ? changes : json_object(),
	    "entitlements_dropped", "all_privileged",
	    dec->drop_all_privileged, "names", drops,
	    "policy", "id", dec->policy_id, "version",
	    (json_int_t)dec->policy_version, "approvals_required", required,
	    "evidence_digests", digests,
	    "requester", "agent", f->rq.pr.agent);
	if (change == NULL)
		return TG_ERR_NOMEM;
	if (!json_is_object(changes))
		json_decref(json_object_get(change, "changes"));
	if (json_object_set_new(change, "evidence", rests_on(f, dec)) != 0) {
		json_decref(change);
		return TG_ERR_NOMEM;
	}
	if (f->rq.ticket != NULL)
		json_object_set_new(json_object_get(change, "requester"),
		    "ticket", json_string(f->rq.ticket));
	if ((r = change_facts(f, dec, change)) != 0 ||
	    (r = jcs_serialize(change, &c, &n)) != 0) {
		json_decref(change);
		return r;
	}
	SHA256((const unsigned char *)c, n, digest);
	free(c);
	*changep = change;
	return 0;
}

/* The exact clientData bytes an approval signs (hash of it: cdh). */
int
eng_client_data(struct tapgated *d, const uint8_t digest[32], char *out,
    size_t len, uint8_t cdh[32])
{
	char chal[48];
	int n;

	b64url_encode(digest, 32, chal);
	n = snprintf(out, len, "{\"type\":\"webauthn.get\",\"challenge\":"
	    "\"%s\",\"origin\":\"https://%s\",\"crossOrigin\":false}", chal,
	    d->cfg->appliance.rp_id);
	if (n < 0 || (size_t)n >= len)
		return TG_ERR_TOO_LONG;
	SHA256((const unsigned char *)out, (size_t)n, cdh);
	return 0;
}

/* ---- the signer */

struct signer_ctx {
	struct tapgated		*d;
	const uint8_t		*digest;
	const char		*rp_id;
	json_t			*approvals;	/* for the order */
	json_t			*verified;	/* for the rule: who, group */
	char			 why[ENG_WHY_MAX];
	int			 bad;
};

/*
 * Whether the clientDataJSON of approval ap, taken from the console, is
 * for the change being signed: parsed strictly, its challenge the
 * change's digest with the approval's nonce, its origin https on the
 * rp_id or a subdomain.
 */
static bool
console_cd_ok(const struct signer_ctx *sc, const struct store_approval *ap)
{
	struct clientdata cd;
	enum clientdata_fault f;
	char chal[CLIENTDATA_CHALLENGE_LEN + 1];

	if (clientdata_parse((const uint8_t *)ap->client_data,
	    strlen(ap->client_data), &cd, &f) != 0)
		return false;
	clientdata_challenge(sc->digest, ap->nonce, chal);
	return strcmp(chal, cd.challenge) == 0 &&
	    clientdata_origin_ok(cd.origin, sc->rp_id);
}

/*
 * Whether the recorded approval ap verifies against the change being
 * signed, with the enrolled key of its approver w: 0, or 1 with the
 * cause in sc->why.
 */
static int
signer_verify(struct signer_ctx *sc, const struct store_approval *ap,
    const struct who *w)
{
	struct token_verify_req vr;
	uint8_t cdh[32], expect_cdh[32];
	uint32_t count;
	char cd[512];
	int r;

	if (w->id != ap->approver_id || !w->pk_ok) {
		snprintf(sc->why, sizeof(sc->why), "approval by %s: %s",
		    w->name, w->pk_ok ? "the row names another approver than "
		    "its credential's" : "the enrolled key does not parse");
		return 1;
	}
	if (ap->nonce != NULL ? !console_cd_ok(sc, ap) :
	    (eng_client_data(sc->d, sc->digest, cd, sizeof(cd),
	    expect_cdh) != 0 || strcmp(cd, ap->client_data) != 0)) {
		snprintf(sc->why, sizeof(sc->why), "approval by %s is for "
		    "another change", w->name);
		return 1;
	}
	SHA256((const unsigned char *)ap->client_data,
	    strlen(ap->client_data), cdh);
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &w->pk;
	vr.rp_id = sc->rp_id;
	vr.client_data_hash = cdh;
	vr.authdata = ap->auth_data;
	vr.authdata_len = ap->auth_data_len;
	vr.sig = ap->signature;
	vr.sig_len = ap->signature_len;
	vr.prev_sign_count = 0;
	vr.skip_counter = true;	/* checked when the approval was taken */
	if ((r = token_verify_assertion(&vr, &count)) != 0) {
		snprintf(sc->why, sizeof(sc->why), "approval by %s does not "
		    "verify: %s", w->name, tg_strerror(r));
		return 1;
	}
	return 0;
}

/*
 * Add a verified approval to the order's list (as the order carries it:
 * the assertion in base64url) and to the rule's (officer, group,
 * credential, user verified).
 */
static int
signer_add(struct signer_ctx *sc, const struct store_approval *ap,
    const struct who *w)
{
	char *cred = NULL, *ad = NULL, *sig = NULL, *cdb = NULL;
	char nonce[48];
	json_t *verified = NULL, *approval = NULL;
	int r = TG_ERR_NOMEM;

	if (b64url_encode_alloc(ap->cred_id, ap->cred_id_len, &cred) != 0 ||
	    b64url_encode_alloc(ap->auth_data, ap->auth_data_len, &ad) != 0 ||
	    b64url_encode_alloc(ap->signature, ap->signature_len, &sig) != 0 ||
	    b64url_encode_alloc((const uint8_t *)ap->client_data,
	    strlen(ap->client_data), &cdb) != 0)
		goto out;
	verified = json_pack("{s:s,s:s,s:s,s:b}", "officer", w->name, "group",
	    w->group, "cred", cred, "uv",
	    (ap->auth_data[32] & TOKEN_FLAG_UV) != 0);
	approval = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "approver",
	    w->name, "group", w->group, "credential_id", cred, "alg",
	    w->pk.alg == TOKEN_ALG_EDDSA ? "EdDSA" : "ES256",
	    "authenticator_data", ad, "client_data", cdb, "signature", sig);
	/* from the console: the nonce its challenge binds */
	if (approval != NULL && ap->nonce != NULL) {
		b64url_encode(ap->nonce, CLIENTDATA_NONCE_LEN, nonce);
		if (json_object_set_new(approval, "nonce",
		    json_string(nonce)) != 0)
			goto out;
	}
	if (json_array_append(sc->verified, verified) == 0 &&
	    json_array_append(sc->approvals, approval) == 0)
		r = 0;
out:
	json_decref(verified);
	json_decref(approval);
	free(cred);
	free(ad);
	free(sig);
	free(cdb);
	return r;
}

/*
 * store_approval_list() callback: re-verify one recorded approval against
 * the change being signed, with the approver's enrolled key, and add it
 * to the order's list.  An approval of an approver revoked since is left
 * out; one that does not verify sets sc->bad.
 */
static int
signer_check(const struct store_approval *ap, void *arg)
{
	struct signer_ctx *sc = arg;
	struct who w;
	int r;

	memset(&w, 0, sizeof(w));
	r = store_approver_by_cred(sc->d->st, ap->cred_id, ap->cred_id_len,
	    eng_collect_who, &w);
	/* an approval of a since revoked approver is not signed */
	if (r == TG_ERR_NOT_FOUND || (r == 0 && w.revoked))
		return 0;
	if (r != 0)
		return r;
	if (signer_verify(sc, ap, &w) != 0) {
		sc->bad = 1;
		return 0;
	}
	return signer_add(sc, ap, &w);
}

static int
order_exists(const struct store_order *o, void *arg)
{
	(void)o;
	(void)arg;
	return 0;
}

/*
 * The whole rule once more, over the approvals the signer verified itself
 * (each by a currently enrolled approver, against this change): the
 * policy counts them (distinct officers and credentials, neither the
 * requester nor the target, user-verified, per group, AND-ed across
 * groups) with the vetoes, denials and hold the store shows, and every
 * group must be full and the hold over.  0, or TG_ERR_POLICY with why.
 */
static int
signer_rule(struct tapgated *d, const struct facts *f,
    const json_t *verified, int64_t now, char *why, size_t whylen)
{
	struct policy_approval *appr;
	struct policy_progress prog;
	struct policy_decision dec;
	const json_t *v;
	size_t i, n = json_array_size(verified);
	int r;

	if ((appr = calloc(n + 1, sizeof(*appr))) == NULL)
		return TG_ERR_NOMEM;
	json_array_foreach(verified, i, v) {
		appr[i].officer = json_string_value(json_object_get(v,
		    "officer"));
		appr[i].group = json_string_value(json_object_get(v, "group"));
		appr[i].credential_id = json_string_value(json_object_get(v,
		    "cred"));
		appr[i].user_verified = json_is_true(json_object_get(v, "uv"));
	}
	memset(&prog, 0, sizeof(prog));
	prog.approvals = appr;
	prog.napprovals = n;
	prog.hold_start = f->row->hold_start;
	prog.hold_end = f->row->hold_end;
	prog.vetoed = f->vetoed;
	prog.denied = f->denied;
	r = policy_evaluate(d->cfg, &f->rq.pr, &prog, now, &dec);
	free(appr);
	if (r != 0) {
		snprintf(why, whylen, "the %zu verified approvals cannot be "
		    "evaluated: %s", n, tg_strerror(r));
		return TG_ERR_POLICY;
	}
	for (i = 0; i < dec.napprovals; i++) {
		if (dec.approvals[i].counted < dec.approvals[i].required) {
			snprintf(why, whylen, "the verified approvals do not "
			    "meet the rule: %u of %u from %s",
			    dec.approvals[i].counted,
			    dec.approvals[i].required, dec.approvals[i].group);
			return TG_ERR_POLICY;
		}
	}
	if (dec.state != POLICY_STATE_READY || dec.hold_until > now) {
		snprintf(why, whylen, "over the verified approvals the request "
		    "is %s, not ready%s", policy_state_name(dec.state),
		    dec.hold_until > now ? " (the hold is not over)" : "");
		return TG_ERR_POLICY;
	}
	return 0;
}

/*
 * Re-verify every stored approval of the request against the change in
 * sc, then the rule over those that verify.  0; TG_ERR_POLICY with the
 * cause in sc->why; or a failure of the database or of memory.
 */
static int
signer_approvals(struct tapgated *d, const struct facts *f, int64_t now,
    struct signer_ctx *sc)
{
	int r;

	if ((sc->approvals = json_array()) == NULL ||
	    (sc->verified = json_array()) == NULL)
		return TG_ERR_NOMEM;
	if ((r = store_approval_list(d->st, f->row->id, signer_check,
	    sc)) != 0) {
		if (eng_transient(r))
			return r;
		snprintf(sc->why, sizeof(sc->why), "the stored approvals do "
		    "not read: %s", tg_strerror(r));
		return TG_ERR_POLICY;
	}
	if (sc->bad)
		return TG_ERR_POLICY;
	return signer_rule(d, f, sc->verified, now, sc->why,
	    sizeof(sc->why));
}

/* A refusal: why, audited as order.refused in the open transaction. */
static int
signer_refuse(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *why, int64_t now)
{
	json_t *details;
	int r;

	fprintf(stderr, "tapgated: signer refuses request %s: %s\n", id, why);
	details = json_pack("{s:s}", "reason", why);
	r = eng_audit(d, a, "order.refused", id, details, now);
	json_decref(details);
	return r != 0 ? r : TG_ERR_POLICY;
}

/* ---- the signer's look again at the directory */

/* The last audit event of a request (its entries come oldest first). */
static int
last_event(const struct audit_entry *e, void *arg)
{
	char *last = arg;

	snprintf(last, 64, "%s", e->event);
	return 0;
}

/* Audit, once until something else happens, that facts were unconfirmed. */
static int
facts_unconfirmed(struct tapgated *d, const char *id,
    const struct eng_dir_lookup *lk, int64_t now)
{
	char last[64] = "";
	json_t *details;
	int r;

	if ((r = audit_request(d->st, id, last_event, last)) != 0)
		return r;
	if (strcmp(last, "request.facts_unconfirmed") == 0)
		return 0;
	details = json_pack("{s:s,s:s}", "outcome", lk->refused ?
	    "refused" : dir_outcome_name(lk->outcome), "detail", lk->detail);
	r = eng_audit_alone(d, &eng_system, "request.facts_unconfirmed", id,
	    details, now);
	json_decref(details);
	return r;
}

/*
 * The account is no longer the one entry it was: the directory has no
 * entry for its name any more, or more than one.  Whatever happened
 * (deleted, renamed, a second entry made to shadow it), no order is
 * signed for it: the request is parked as sign_failed, for an officer
 * to look at and, if it was harmless, to submit again.
 */
struct gone_txn {
	const char	*id;
	const char	*from;
	char		 why[256];
	int64_t		 now;
};

static int
gone_steps(struct tapgated *d, void *arg)
{
	const struct gone_txn *t = arg;

	return eng_park(d, t->id, t->from, t->why, &eng_system, t->now);
}

static int
facts_gone(struct tapgated *d, const char *id, const char *from,
    const char *account, const struct eng_dir_lookup *lk, int64_t now)
{
	struct gone_txn t = { id, from, "", now };

	snprintf(t.why, sizeof(t.why), "the directory no longer has one "
	    "entry for %s (%s): no order is signed for an account that is "
	    "not the one approved", account, dir_outcome_name(lk->outcome));
	return eng_txn(d, gone_steps, &t, NULL, NULL, NULL);
}

/* What a new look at the directory changes, as a transaction's steps. */
struct recheck_txn {
	const char	*id;
	char		*snap;		/* the snapshot to store */
	json_t		*reclass;	/* audit details, or NULL: no change */
	int64_t		 now;
};

static int
recheck_steps(struct tapgated *d, void *arg)
{
	const struct recheck_txn *t = arg;
	struct store_decision sd;
	int r;

	if ((r = store_request_set_directory(d->st, t->id, t->snap,
	    t->now)) != 0 || t->reclass == NULL)
		return r;
	memset(&sd, 0, sizeof(sd));
	sd.request_id = t->id;
	sd.kind = ENG_RECLASSIFIED;
	sd.actor_uid = eng_system.uid;
	sd.actor_role = eng_system.role;
	sd.actor_name = eng_system.name;
	sd.reason = json_string_value(json_object_get(t->reclass, "reason"));
	sd.created = t->now;
	if ((r = store_decision_add(d->st, &sd, NULL)) != 0)
		return r;
	return eng_audit(d, &eng_system, "request.reclassified", t->id,
	    t->reclass, t->now);
}

/*
 * The snapshot to store after a look again: the new facts, or, when they
 * would lower the class, the old ones confirmed now.  The audit details
 * of a reclassification in *reclass (NULL when the class did not rise
 * and the privileged groups are the same).
 */
static json_t *
recheck_snapshot(struct tapgated *d, const struct facts *f,
    const struct dir_facts *nf, int64_t now, json_t **reclass)
{
	struct policy_decision od, nd;
	struct policy_request pr = f->rq.pr;
	struct eng_dir_pfacts pf;
	char digest[STORE_DIGEST_LEN + 1];
	json_t *snap;
	bool same;

	*reclass = NULL;
	eng_dir_pfacts(nf, &pf);
	pr.directory = &pf.pf;
	if (eng_facts_evaluate(d, f, now, &od) != 0 ||
	    policy_evaluate(d->cfg, &pr, NULL, now, &nd) != 0)
		return NULL;
	same = eng_dir_same_privileged(d->cfg, nf, f->dirsnap);
	if (nd.account_class < od.account_class) {
		/* never lower: the old facts, confirmed now */
		if ((snap = json_deep_copy(f->dirsnap)) != NULL &&
		    json_object_set_new(snap, "time", json_integer(now)) != 0) {
			json_decref(snap);
			return NULL;
		}
		return snap;
	}
	if ((snap = eng_dir_snapshot(d->cfg, nf, &nd, now)) == NULL)
		return NULL;
	if (nd.account_class == od.account_class && same)
		return snap;
	if (eng_jcs_digest(snap, digest) != 0 ||
	    (*reclass = json_pack("{s:s,s:s,s:s,s:O,s:O,s:s}", "from",
	    policy_class_name(od.account_class), "to",
	    policy_class_name(nd.account_class), "reason", nd.account_class >
	    od.account_class ? nd.class_reason : "the privileged groups "
	    "the directory reports changed", "privileged_groups_before",
	    json_object_get(f->dirsnap, "privileged_groups"),
	    "privileged_groups", json_object_get(snap, "privileged_groups"),
	    "facts_digest", digest)) == NULL) {
		json_decref(snap);
		return NULL;
	}
	return snap;
}

/* Whether f's facts are older than the configuration allows. */
static bool
facts_stale(const struct tapgated *d, const struct facts *f, int64_t now)
{
	int64_t t;

	if (!d->cfg->directory.configured || f->dirsnap == NULL)
		return false;
	t = eng_dir_snapshot_time(f->dirsnap);
	return t < 0 || now - t > (int64_t)d->cfg->directory.
	    max_fact_age_seconds;
}

/* Load request id into *f again; a reload that fails leaves *f clear. */
static int
reload(struct tapgated *d, const char *id, struct facts *f)
{
	char err[ENG_WHY_MAX];

	eng_facts_clear(f);
	return eng_facts_load(d, id, f, err, sizeof(err));
}

int
eng_facts_recheck(struct tapgated *d, struct facts *f, int64_t now)
{
	struct recheck_txn t = { NULL, NULL, NULL, now };
	struct eng_dir_lookup lk;
	char *id = NULL, *account = NULL, *from = NULL;
	json_t *snap = NULL;
	int r;

	if (!facts_stale(d, f, now))
		return 0;
	memset(&lk, 0, sizeof(lk));
	if ((id = strdup(f->row->id)) == NULL ||
	    (account = strdup(f->row->target_account)) == NULL ||
	    (from = strdup(f->row->state)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	/* d->lock is released while the directory answers */
	if ((r = eng_directory_lookup(d, account, &lk)) != 0)
		goto out;
	if (!lk.refused && (lk.outcome == DIR_NOT_FOUND ||
	    lk.outcome == DIR_AMBIGUOUS)) {
		/* parked only from the state it had: one that moved while
		 * the lock was released (vetoed, denied) is left as it is */
		if ((r = reload(d, id, f)) != 0 ||
		    (strcmp(f->row->state, from) == 0 &&
		    (r = facts_gone(d, id, from, account, &lk, now)) != 0))
			goto out;
		r = ENG_NOT_NOW;
		goto out;
	}
	if (lk.refused || lk.outcome != DIR_FOUND) {
		fprintf(stderr, "tapgated: request %s: the directory did not "
		    "confirm its facts (%s): not signed now\n", id,
		    lk.refused ? "refused" : dir_outcome_name(lk.outcome));
		r = facts_unconfirmed(d, id, &lk, now);
		r = r != 0 ? r : ENG_NOT_NOW;
		goto out;
	}
	/* the request may have moved while the lock was released */
	if ((r = reload(d, id, f)) != 0)
		goto out;
	if (f->dirsnap == NULL)
		goto out;
	if ((snap = recheck_snapshot(d, f, lk.facts, now, &t.reclass)) ==
	    NULL || (t.snap = json_dumps(snap, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	t.id = id;
	if ((r = eng_txn(d, recheck_steps, &t, NULL, NULL, NULL)) != 0)
		goto out;
	if (t.reclass != NULL)
		fprintf(stderr, "tapgated: request %s reclassified: %s\n", id,
		    json_string_value(json_object_get(t.reclass, "reason")));
	r = reload(d, id, f);
out:
	if (r != 0 && r != ENG_NOT_NOW)
		eng_facts_clear(f);
	json_decref(snap);
	json_decref(t.reclass);
	free(t.snap);
	eng_directory_lookup_clear(&lk);
	free(id);
	free(account);
	free(from);
	return r;
}

/* What the signer sees in the store: the request, ready, and its change. */
static int
signer_facts(struct tapgated *d, const char *id, int64_t now,
    struct facts *f, struct policy_decision *dec, json_t **change,
    uint8_t digest[32], char *why, size_t whylen)
{
	char err[ENG_WHY_MAX - 64];
	int r;

	err[0] = '\0';
	if ((r = eng_facts_load(d, id, f, err, sizeof(err))) != 0) {
		snprintf(why, whylen, "the stored request does not load: %s",
		    err[0] != '\0' ? err : tg_strerror(r));
		return r;
	}
	if ((r = eng_facts_evaluate(d, f, now, dec)) != 0) {
		snprintf(why, whylen, "the policy cannot evaluate the stored "
		    "request: %s", tg_strerror(r));
		return r;
	}
	if (dec->state != POLICY_STATE_READY) {
		snprintf(why, whylen, "the store shows the request %s, not "
		    "ready", policy_state_name(dec->state));
		return TG_ERR_POLICY;
	}
	/* the callers look again first (eng_facts_recheck): never signed
	 * on old facts, whoever calls */
	if (facts_stale(d, f, now)) {
		snprintf(why, whylen, "the directory's facts are older than "
		    "directory.max_fact_age_seconds (%u s) and were not "
		    "looked up again", d->cfg->directory.max_fact_age_seconds);
		return TG_ERR_POLICY;
	}
	if ((r = reqjson_changes_check(f->rq.pr.queue,
	    json_object_get(f->rq.root, "changes"), err, sizeof(err))) != 0) {
		snprintf(why, whylen, "the change cannot be signed: %s", err);
		return r;
	}
	if ((r = eng_change(d, f, dec, change, digest)) != 0) {
		snprintf(why, whylen, "the change has no canonical form: %s",
		    tg_strerror(r));
		return r;
	}
	return 0;
}

/* An order as the signer makes it. */
struct order_draft {
	struct signer_ctx	 sc;		/* the approvals, or why not */
	struct facts		 f;
	struct policy_decision	 dec;
	json_t			*change;
	uint8_t			 digest[32];	/* of the change */
	char			 dig64[48];
	char			 jti[33];
	char			*jws;
	size_t			 jlen;
	int64_t			 now;
	int64_t			 expires;
};

static void
draft_clear(struct order_draft *o)
{
	json_decref(o->change);
	json_decref(o->sc.approvals);
	json_decref(o->sc.verified);
	free(o->jws);
	eng_facts_clear(&o->f);
}

/*
 * Sign the order: {"iss","aud","iat","nbf","exp","jti","change",
 * "change_digest","approvals","audit"} in its canonical form (JCS), as
 * a JWS with the active co-signing key.  0; TG_ERR_POLICY with the cause
 * in o->sc.why; or a failure of the database or of memory.
 */
static int
order_sign(struct tapgated *d, struct order_draft *o)
{
	uint8_t jrnd[16];
	char *payload = NULL;
	size_t plen;
	json_t *doc;
	int r;

	if (RAND_bytes(jrnd, sizeof(jrnd)) != 1) {
		snprintf(o->sc.why, sizeof(o->sc.why), "no randomness for the "
		    "jti");
		return TG_ERR_POLICY;
	}
	hex_encode(jrnd, sizeof(jrnd), o->jti);
	b64url_encode(o->digest, 32, o->dig64);
	o->expires = o->now + o->dec.order_ttl_seconds;
	doc = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:O,s:s,s:O}", "iss",
	    d->cfg->appliance.order_issuer, "aud", o->f.rq.pr.system, "iat",
	    (json_int_t)o->now, "nbf", (json_int_t)o->now, "exp",
	    (json_int_t)o->expires, "jti", o->jti, "change", o->change,
	    "change_digest", o->dig64, "approvals", o->sc.approvals);
	if (doc == NULL)
		return TG_ERR_NOMEM;
	if ((r = eng_order_anchor(d, doc)) == 0 &&
	    (r = jcs_serialize(doc, &payload, &plen)) == 0)
		r = jws_sign(d->signkey, (const uint8_t *)payload, plen,
		    &o->jws, &o->jlen);
	json_decref(doc);
	free(payload);
	if (r == 0 || eng_transient(r))
		return r;
	snprintf(o->sc.why, sizeof(o->sc.why), "the order cannot be signed: "
	    "%s", tg_strerror(r));
	return TG_ERR_POLICY;
}

/*
 * Everything the order of request id needs, from the store alone: the
 * request, ready, its change and digest; every approval re-verified and
 * the rule held to those that verify; then the signature.  0;
 * TG_ERR_POLICY with the cause in o->sc.why; or a failure of the
 * database or of memory.
 */
static int
order_prepare(struct tapgated *d, const char *id, struct order_draft *o)
{
	int r;

	if ((r = signer_facts(d, id, o->now, &o->f, &o->dec, &o->change,
	    o->digest, o->sc.why, sizeof(o->sc.why))) != 0)
		return eng_transient(r) ? r : TG_ERR_POLICY;
	o->sc.d = d;
	o->sc.digest = o->digest;
	o->sc.rp_id = d->cfg->appliance.rp_id;
	if ((r = signer_approvals(d, &o->f, o->now, &o->sc)) != 0)
		return r;
	return order_sign(d, o);
}

/*
 * Store the signed order and audit it as order.issued (inside the
 * caller's transaction); the hooks hear of it after the commit.  0;
 * TG_ERR_POLICY with the cause in o->sc.why when the store refuses the
 * order; or a failure of the database or of memory.
 */
static int
order_record(struct tapgated *d, const struct engine_actor *a,
    const char *id, struct order_draft *o, struct events *evs)
{
	struct store_order so;
	json_t *details, *ev;
	int r;

	memset(&so, 0, sizeof(so));
	so.jti = o->jti;
	so.request_id = id;
	so.jws = o->jws;
	so.issued = o->now;
	so.expires = o->expires;
	if ((r = store_order_insert(d->st, &so)) != 0) {
		if (eng_transient(r))
			return r;
		snprintf(o->sc.why, sizeof(o->sc.why), "the store refuses the "
		    "order (%zu bytes): %s", o->jlen, tg_strerror(r));
		return TG_ERR_POLICY;
	}
	details = json_pack("{s:s,s:I,s:s,s:s,s:i}", "jti", o->jti, "expires",
	    (json_int_t)o->expires, "kid", jwk_kid(d->signkey),
	    "change_digest", o->dig64, "approvals",
	    (int)json_array_size(o->sc.approvals));
	r = eng_audit(d, a, "order.issued", id, details, o->now);
	json_decref(details);
	if (r != 0)
		return r;
	ev = eng_event_new(d, "order.issued", id, &o->f.rq.pr, o->now);
	if (ev != NULL)
		json_object_set_new(ev, "expires", json_integer(o->expires));
	eng_events_add(evs, ev);
	return 0;
}

/*
 * Issue the co-signed order of request id (inside the caller's
 * transaction) when the store shows it fully approved and past its hold.
 * It re-reads the request from the store and re-checks the whole rule
 * itself, whatever the caller evaluated.  0 when issued; TG_ERR_EXISTS
 * when the request has an order already; TG_ERR_POLICY when it must not
 * or cannot be signed, audited as order.refused with the cause, which is
 * also written to why; another TG_ERR_* (eng_transient()) when the
 * database or memory failed: the caller rolls back.
 */
static int
issue_order(struct tapgated *d, const char *id,
    const struct engine_actor *a, int64_t now, struct events *evs,
    char *why, size_t whylen)
{
	struct order_draft o;
	int r;

	snprintf(why, whylen, "unknown");
	r = store_order_by_request(d->st, id, order_exists, NULL);
	if (r == 0)
		return TG_ERR_EXISTS;	/* never two orders for one request */
	if (r != TG_ERR_NOT_FOUND)
		return r;
	memset(&o, 0, sizeof(o));
	o.now = now;
	if (d->signkey == NULL) {
		snprintf(o.sc.why, sizeof(o.sc.why), "no co-signing key");
		r = TG_ERR_POLICY;
	} else if ((r = order_prepare(d, id, &o)) == 0)
		r = order_record(d, a, id, &o, evs);
	if (r == TG_ERR_POLICY) {
		snprintf(why, whylen, "%s", o.sc.why);
		r = signer_refuse(d, a, id, o.sc.why, now);
	}
	draft_clear(&o);
	return r;
}

int
eng_park(struct tapgated *d, const char *id, const char *from,
    const char *cause, const struct engine_actor *a, int64_t now)
{
	const char *parked = policy_state_name(POLICY_STATE_SIGN_FAILED);
	struct store_decision sd;
	json_t *details;
	int r;

	memset(&sd, 0, sizeof(sd));
	sd.request_id = id;
	sd.kind = ENG_SIGN_FAILED;
	sd.actor_uid = eng_system.uid;
	sd.actor_role = eng_system.role;
	sd.actor_name = eng_system.name;
	sd.reason = cause[0] != '\0' ? cause : "unknown";
	sd.created = now;
	details = json_pack("{s:s,s:s,s:s}", "from", from, "to", parked,
	    "cause", sd.reason);
	if ((r = store_decision_add(d->st, &sd, NULL)) == 0 &&
	    (r = store_request_set_state(d->st, id, from, parked, NULL,
	    now)) == 0)
		r = eng_audit(d, a, "request.sign_failed", id, details, now);
	json_decref(details);
	if (r != 0)
		return r;
	fprintf(stderr, "tapgated: request %s parked as sign_failed: %s\n",
	    id, sd.reason);
	return 0;
}

int
eng_sign_ready(struct tapgated *d, const struct facts *f,
    const struct engine_actor *a, int64_t now, struct events *evs)
{
	const char *id = f->row->id;
	char why[ENG_WHY_MAX];
	size_t nev = evs->n;
	int r;

	eng_events_add(evs, eng_event_new(d, "request.ready", id, &f->rq.pr,
	    now));
	r = issue_order(d, id, a, now, evs, why, sizeof(why));
	if (r == TG_ERR_POLICY) {
		/* the hooks hear of no ready request that is not signed */
		eng_events_drop(evs, nev);
		return eng_park(d, id, policy_state_name(POLICY_STATE_READY),
		    why, a, now);
	}
	return r == TG_ERR_EXISTS ? 0 : r;
}

/* ---- an operator asks the signer */

/* The retry of a parked request: a decision, so it is parked no more. */
static int
sign_retry(struct tapgated *d, const struct engine_actor *a, const char *id,
    int64_t now)
{
	struct store_decision sd;
	json_t *details;
	int r;

	memset(&sd, 0, sizeof(sd));
	sd.request_id = id;
	sd.kind = ENG_SIGN_RETRY;
	sd.actor_uid = a->uid;
	sd.actor_role = a->role;
	sd.actor_name = a->name;
	sd.reason = "an operator asked the signer again";
	sd.created = now;
	if ((r = store_decision_add(d->st, &sd, NULL)) != 0)
		return r;
	details = json_object();
	r = eng_audit(d, a, "order.retry", id, details, now);
	json_decref(details);
	return r;
}

/*
 * What the signer's answer means to the explicit caller (in the open
 * transaction): an order makes the request ready; a refusal of a request
 * the policy holds ready parks it (again).  TG_ERR_POLICY refused.
 */
static int
order_outcome(struct tapgated *d, const struct engine_actor *a,
    const struct facts *f, const struct policy_decision *dec, int r,
    const char *why, int64_t now)
{
	const char *ready = policy_state_name(POLICY_STATE_READY);
	json_t *details;

	if (r == TG_ERR_POLICY && dec->state == POLICY_STATE_READY)
		return (r = eng_park(d, f->row->id, f->row->state, why, a,
		    now)) == 0 ? TG_ERR_POLICY : r;
	if (r != 0 || strcmp(f->row->state, ready) == 0)
		return r;
	if ((r = store_request_set_state(d->st, f->row->id, f->row->state,
	    ready, NULL, now)) != 0)
		return r;
	details = json_pack("{s:s,s:s}", "from", f->row->state, "to", ready);
	r = eng_audit(d, a, "request.state_changed", f->row->id, details, now);
	json_decref(details);
	return r;
}

/* The explicit signing, as the steps of its transaction. */
struct issue_txn {
	const struct engine_actor	*a;
	const struct facts		*f;
	const struct policy_decision	*dec;
	int				 retry;
	int64_t				 now;
	struct events			*evs;
	char				*why;
	size_t				 whylen;
	int				 outcome;	/* 0 or TG_ERR_POLICY */
};

static int
issue_steps(struct tapgated *d, void *arg)
{
	struct issue_txn *t = arg;
	const char *id = t->f->row->id;
	int r;

	if (t->retry && t->dec->state == POLICY_STATE_READY &&
	    (r = sign_retry(d, t->a, id, t->now)) != 0)
		return r;
	r = issue_order(d, id, t->a, t->now, t->evs, t->why, t->whylen);
	if (r != TG_ERR_EXISTS)
		r = order_outcome(d, t->a, t->f, t->dec, r, t->why, t->now);
	if (r != 0 && r != TG_ERR_POLICY)
		return r;
	t->outcome = r;
	return 0;
}

/*
 * The explicit signing, in one transaction: 0 issued, TG_ERR_POLICY
 * refused (and committed: the refusal is audited, a ready request
 * parked), or another TG_ERR_* rolled back.
 */
static int
order_issue_txn(struct tapgated *d, const struct engine_actor *a,
    const struct facts *f, const struct policy_decision *dec, int retry,
    int64_t now, struct events *evs, char *why, size_t whylen)
{
	struct issue_txn t = { a, f, dec, retry, now, evs, why, whylen, 0 };
	int r;

	if ((r = eng_txn(d, issue_steps, &t, evs, NULL, NULL)) != 0)
		return r;
	return t.outcome;
}

/*
 * An operator asks the signer explicitly.  A parked request goes to the
 * signer once more (the operator has mended what failed); refused again,
 * it stays parked.
 */
int
engine_order_issue(struct tapgated *d, const struct engine_actor *a,
    const char *id, int64_t now, struct engine_result *res)
{
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	char why[ENG_WHY_MAX], msg[ENG_WHY_MAX + 64];
	int r, retry;

	if ((r = eng_load(d, id, &f, res)) != 0)
		return r;
	/* old facts are looked up again before anything is signed */
	if ((r = eng_facts_recheck(d, &f, now)) == ENG_NOT_NOW) {
		eng_error(res, 503, "directory_unavailable", "the directory "
		    "did not confirm the account's facts: nothing was signed; "
		    "try again");
		goto out;
	} else if (r != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	retry = f.sign_failed;
	f.sign_failed = false;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	r = order_issue_txn(d, a, &f, &dec, retry, now, &evs, why,
	    sizeof(why));
	if (r == 0)
		r = engine_order_get(d, id, res);
	else if (r == TG_ERR_POLICY && dec.state == POLICY_STATE_READY) {
		snprintf(msg, sizeof(msg), "the signer refuses: %s; the "
		    "request is parked as sign_failed", why);
		eng_error(res, 409, "sign_failed", msg);
	} else if (r == TG_ERR_POLICY)
		eng_error(res, 409, "not_approved", "the signer refuses: the "
		    "store does not show this request fully approved and past "
		    "its hold");
	else if (r == TG_ERR_EXISTS)
		eng_error(res, 409, "order_exists", "this request has its "
		    "order already");
	else
		eng_db_error(d, res, r);
out:
	eng_events_post(d, &evs);
	eng_facts_clear(&f);
	return r;
}

/* ---- orders */

/* An order as the store has it, copied out of the row. */
struct order_row {
	char	jti[33];
	int64_t	expires;
	int64_t	redeemed;
	json_t	*json;		/* the answer of GET, or NULL */
};

static int
order_json(const struct store_order *o, void *arg)
{
	struct order_row *or = arg;

	snprintf(or->jti, sizeof(or->jti), "%s", o->jti);
	or->expires = o->expires;
	or->redeemed = o->redeemed;
	or->json = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "request_id",
	    o->request_id, "jti", o->jti, "jws", o->jws, "issued",
	    (json_int_t)o->issued, "expires", (json_int_t)o->expires,
	    "redeemed", o->redeemed != 0);
	if (or->json != NULL && o->redeemed != 0)
		json_object_set_new(or->json, "redeemed_at",
		    json_integer(o->redeemed));
	return or->json != NULL ? 0 : TG_ERR_NOMEM;
}

/* What a revocation says, for an answer: no order, only why it is void. */
static int
revocation_json(const struct store_revocation *rv, void *arg)
{
	json_t **out = arg;

	*out = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:b}", "request_id",
	    rv->request_id, "jti", rv->jti, "state", "revoked", "revoked_at",
	    (json_int_t)rv->revoked, "kind", rv->kind, "by", rv->actor_name,
	    "reason", rv->reason, "after_redemption",
	    rv->after_redemption != 0);
	return *out != NULL ? 0 : TG_ERR_NOMEM;
}

/*
 * The order of request id into *or (or->json freed by the caller), and
 * whether it was revoked: then *revp is its revocation as JSON.  0, or
 * TG_ERR_NOT_FOUND (answered 404), or the store's error (answered).
 */
static int
order_load(struct tapgated *d, const char *id, struct order_row *or,
    json_t **revp, struct engine_result *res)
{
	int r;

	memset(or, 0, sizeof(*or));
	*revp = NULL;
	if (!store_request_id_valid(id)) {
		eng_error(res, 404, "not_found", "no order for that request");
		return TG_ERR_NOT_FOUND;
	}
	if ((r = store_order_by_request(d->st, id, order_json, or)) != 0 ||
	    (r = eng_redemption_json(d, id, or->json)) != 0) {
		json_decref(or->json);
		or->json = NULL;
		if (r == TG_ERR_NOT_FOUND)
			eng_error(res, 404, "not_found", "no order for that "
			    "request (not approved yet, refused, or unknown)");
		else
			eng_db_error(d, res, r);
		return r;
	}
	r = store_revocation_get(d->st, or->jti, revocation_json, revp);
	if (r == TG_ERR_NOT_FOUND)
		return 0;
	if (r != 0) {
		json_decref(or->json);
		or->json = NULL;
		return eng_db_error(d, res, r);
	}
	return 0;
}

/* Answer 410 for a revoked order: what revoked it, never the order. */
static void
order_revoked_answer(json_t *rev, struct engine_result *res)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "this order was revoked (the request was "
	    "%s): it must not be applied", strcmp(json_string_value(
	    json_object_get(rev, "kind")), "veto") == 0 ? "vetoed" :
	    "denied");
	eng_error(res, 410, "order_revoked", msg);
	json_object_set_new(res->body, "revocation", rev);
}

int
engine_order_get(struct tapgated *d, const char *id,
    struct engine_result *res)
{
	struct order_row or;
	json_t *rev;
	int r;

	if ((r = order_load(d, id, &or, &rev, res)) != 0)
		return r;
	if (rev != NULL) {
		json_decref(or.json);
		order_revoked_answer(rev, res);
		return TG_ERR_REVOKED;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = or.json;
	return 0;
}

struct revoke_ctx {
	struct store_revocation	 rv;
	char			 jti[33];
	int64_t			 redeemed;
};

static int
revoke_order_row(const struct store_order *o, void *arg)
{
	struct revoke_ctx *rc = arg;

	snprintf(rc->jti, sizeof(rc->jti), "%s", o->jti);
	rc->redeemed = o->redeemed;
	return 0;
}

int
eng_order_revoke(struct tapgated *d, const struct engine_actor *a,
    const struct facts *f, const char *kind, const char *reason,
    int64_t now, struct events *evs)
{
	const char *id = f->row->id;
	struct revoke_ctx rc;
	json_t *details, *ev;
	int r;

	memset(&rc, 0, sizeof(rc));
	r = store_order_by_request(d->st, id, revoke_order_row, &rc);
	if (r == TG_ERR_NOT_FOUND)
		return 0;	/* nothing was issued: nothing to revoke */
	if (r != 0)
		return r;
	rc.rv.jti = rc.jti;
	rc.rv.request_id = id;
	rc.rv.kind = kind;
	rc.rv.actor_name = a->name;
	rc.rv.reason = reason;
	rc.rv.revoked = now;
	rc.rv.after_redemption = rc.redeemed != 0;
	if ((r = store_revocation_add(d->st, &rc.rv)) != 0)
		return r == TG_ERR_EXISTS ? 0 : r;
	details = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "jti", rc.jti,
	    "kind", kind, "by", a->name, "role", a->role, "reason", reason,
	    "after_redemption", rc.redeemed != 0);
	if (details != NULL && rc.redeemed != 0)
		json_object_set_new(details, "redeemed_at",
		    json_integer(rc.redeemed));
	r = eng_audit(d, a, "order.revoked", id, details, now);
	json_decref(details);
	if (r != 0)
		return r;
	if (rc.redeemed != 0)
		fprintf(stderr, "tapgated: ALARM: order %s of request %s was "
		    "revoked after it was redeemed: downstream may have "
		    "applied it\n", rc.jti, id);
	ev = eng_event_new(d, "order.revoked", id, &f->rq.pr, now);
	if (ev != NULL) {
		json_object_set_new(ev, "jti", json_string(rc.jti));
		json_object_set_new(ev, "after_redemption",
		    json_boolean(rc.redeemed != 0));
	}
	eng_events_add(evs, ev);
	return 0;
}

/* The redemption of an order, as the steps of its transaction. */
struct redeem_txn {
	const struct engine_actor	*a;
	const char			*id;
	const char			*jti;
	const json_t			*details;
	int64_t				 now;
};

static int
redeem_steps(struct tapgated *d, void *arg)
{
	const struct redeem_txn *t = arg;
	int r;

	if ((r = store_order_redeem(d->st, t->jti, t->a->name, t->now)) != 0 ||
	    (r = eng_redemption_note(d, t->a, t->jti, t->now)) != 0)
		return r;
	return eng_audit(d, t->a, "order.redeemed", t->id, t->details, t->now);
}

/* Audit a redemption refused (r: a replay, expired, or revoked). */
static void
redeem_refused(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *jti, int r, int64_t now)
{
	json_t *details;

	details = json_pack("{s:s,s:s}", "jti", jti ? jti : "", "reason",
	    r == TG_ERR_IMMUTABLE ? "already redeemed" : r == TG_ERR_REVOKED ?
	    "revoked" : "expired");
	(void)eng_audit_alone(d, a, "order.redeem_refused", id, details, now);
	json_decref(details);
}

int
engine_order_redeem(struct tapgated *d, const struct engine_actor *a,
    const char *id, int64_t now, struct engine_result *res)
{
	static const struct eng_refusal replay = { TG_ERR_IMMUTABLE, 409,
	    "already_redeemed", "this order was redeemed before: a replay" };
	struct redeem_txn t;
	struct order_row or;
	json_t *rev, *details = NULL;
	int r;

	if ((r = order_load(d, id, &or, &rev, res)) != 0)
		return r;
	if (rev != NULL) {
		/* whatever else holds, a revoked order is never redeemed */
		order_revoked_answer(rev, res);
		res->status = 409;
		r = TG_ERR_REVOKED;
	} else if (or.redeemed != 0 &&
	    (r = eng_redemption_again(d, a, id, or.jti, now, res)) !=
	    TG_ERR_IMMUTABLE) {
		/* resumed, and redeemed again by its redeemer (or failed) */
		json_decref(or.json);
		return r;
	} else if (or.redeemed != 0) {
		eng_error(res, replay.status, replay.code, replay.msg);
		r = TG_ERR_IMMUTABLE;
	} else if (now >= or.expires) {
		eng_error(res, 409, "order_expired", "this order has expired");
		r = TG_ERR_CONFLICT;
	} else {
		details = json_pack("{s:s,s:s}", "jti", or.jti, "by", a->name);
		t = (struct redeem_txn){ a, id, or.jti, details, now };
		r = eng_txn(d, redeem_steps, &t, NULL, res, &replay);
	}
	if (r == 0) {
		json_decref(res->body);
		res->status = 200;
		res->body = json_pack("{s:s,s:s,s:I}", "request_id", id, "jti",
		    or.jti, "redeemed_at", (json_int_t)now);
	}
	if (r == TG_ERR_IMMUTABLE || r == TG_ERR_CONFLICT ||
	    r == TG_ERR_REVOKED)
		redeem_refused(d, a, id, or.jti, r, now);
	json_decref(details);
	json_decref(or.json);
	return r;
}

/* ---- the signed revocation list */

static int
revocation_entry(const struct store_revocation *rv, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:I}", "jti",
	    rv->jti, "revoked_at", (json_int_t)rv->revoked)) == 0 ? 0 :
	    TG_ERR_NOMEM;
}

int
engine_revocations(struct tapgated *d, int64_t now,
    struct engine_result *res)
{
	json_t *list = NULL, *doc = NULL;
	char *payload = NULL, *jws = NULL;
	size_t plen, jlen;
	int r, more = 0;

	if (d->signkey == NULL) {
		eng_error(res, 503, "no_signing_key", "no co-signing key: no "
		    "revocation list can be signed");
		return TG_ERR_NOT_FOUND;
	}
	/* an order expired for a day fails downstream whatever the list */
	if ((list = json_array()) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	if ((r = store_revocation_list(d->st, now - ENG_REVOCATIONS_AFTER_EXP,
	    ENG_REVOCATIONS_MAX, revocation_entry, list, &more)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (more) {
		/* never a list that leaves a revoked order out */
		fprintf(stderr, "tapgated: ALARM: more than %d revoked orders "
		    "still valid: no revocation list can hold them\n",
		    ENG_REVOCATIONS_MAX);
		eng_error(res, 503, "too_many_revocations", "more revoked "
		    "orders are still valid than one list holds");
		r = TG_ERR_TOO_LONG;
		goto out;
	}
	doc = json_pack("{s:s,s:I,s:O}", "iss",
	    d->cfg->appliance.order_issuer, "iat", (json_int_t)now, "revoked",
	    list);
	if (doc == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	if ((r = jcs_serialize(doc, &payload, &plen)) != 0 ||
	    (r = jws_sign_typ(d->signkey, JWS_TYP_REVOCATIONS,
	    (const uint8_t *)payload, plen, &jws, &jlen)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:I,s:i,s:s}", "jws", jws, "iat",
	    (json_int_t)now, "count", (int)json_array_size(list), "kid",
	    jwk_kid(d->signkey));
	if (res->body == NULL)
		r = eng_db_error(d, res, TG_ERR_NOMEM);
out:
	free(jws);
	free(payload);
	json_decref(doc);
	json_decref(list);
	return r;
}

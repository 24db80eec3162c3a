/* SPDX-License-Identifier: ISC */
/*
 * The officers who approve: enrolment of a security key (one key, one
 * officer; never a key revoked for compromise, a key revoked for another
 * cause enrolled again), the list of enrolled approvers and its export,
 * and revocation with its cause.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "daemon/reqjson.h"
#include "engine/body.h"
#include "engine/creds.h"
#include "engine/dirlookup.h"
#include "engine/txn.h"
#include "token/token.h"

/*
 * Why a credential was revoked.  A compromise cause (the key, or its
 * holder's control of it, can no longer be trusted) keeps the key out
 * for ever: enrolment puts that credential in the excludeList, so the
 * key refuses to make a new credential.  Any other cause leaves the key
 * itself trusted and it may be enrolled again (a new credential, any
 * name), audited as a re-enrolment.  The cause is stored as the first
 * word of revoke_reason ("cause: text"); a reason without a known cause
 * (written before causes existed) counts as a compromise.
 */
static const struct {
	const char	*name;
	int		 compromise;
} revoke_causes[] = {
	{ "lost", 1 },
	{ "stolen", 1 },
	{ "cloned", 1 },
	{ "compromised", 1 },
	{ "left", 0 },
	{ "role-change", 0 },
	{ "replaced", 0 },
};
#define NCAUSES	(sizeof(revoke_causes) / sizeof(revoke_causes[0]))
#define CAUSES_TEXT "lost, stolen, cloned, compromised (never enrolled " \
	"again); left, role-change, replaced (the key may be enrolled again)"

/* The cause called name (n bytes), or -1. */
static int
cause_index(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NCAUSES; i++)
		if (strlen(revoke_causes[i].name) == n &&
		    strncmp(revoke_causes[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/* The cause a stored revoke_reason starts with, or -1 (compromise). */
static int
reason_cause(const char *reason)
{
	if (reason == NULL)
		return -1;
	return cause_index(reason, strcspn(reason, ":"));
}

/* Whether a revoked credential's key may be enrolled again. */
static int
reenrollable(const struct store_approver *a)
{
	int c = reason_cause(a->revoke_reason);

	return a->revoked && c >= 0 && !revoke_causes[c].compromise;
}

/*
 * What enrolment excludes: strict holds every active credential and
 * every one revoked for compromise (the key must refuse these); again
 * holds those revoked for another cause, and who held them.
 */
struct exclusions {
	struct idlist	 strict;
	struct idlist	 again;
	json_t		*previous;
};

static int
collect_exclusions(const struct store_approver *a, void *arg)
{
	struct exclusions *ex = arg;
	char prefix[17];
	json_t *prev;
	int c;

	if (!reenrollable(a))
		return eng_idlist_add(&ex->strict, a->cred_id, a->cred_id_len);
	c = reason_cause(a->revoke_reason);
	eng_cred_prefix(a->cred_id, a->cred_id_len, prefix);
	prev = json_pack("{s:s,s:s,s:s}", "name", a->name, "credential",
	    prefix, "cause", revoke_causes[c].name);
	if (json_array_append_new(ex->previous, prev) != 0)
		return TG_ERR_NOMEM;
	return eng_idlist_add(&ex->again, a->cred_id, a->cred_id_len);
}

/*
 * All of ex's ids, strict first, into *idsp (freed by the caller): the
 * first ex->strict.n of them are the list without those of again.
 */
static int
exclusion_ids(const struct exclusions *ex, struct token_cred_id **idsp)
{
	struct token_cred_id *ids;
	size_t i, n = 0;

	if ((ids = calloc(ex->strict.n + ex->again.n + 1,
	    sizeof(*ids))) == NULL)
		return TG_ERR_NOMEM;
	for (i = 0; i < ex->strict.n; i++, n++) {
		ids[n].ptr = ex->strict.ids[i];
		ids[n].len = ex->strict.lens[i];
	}
	for (i = 0; i < ex->again.n; i++, n++) {
		ids[n].ptr = ex->again.ids[i];
		ids[n].len = ex->again.lens[i];
	}
	*idsp = ids;
	return 0;
}

static int
parse_aaguids(const struct policy_config *cfg,
    uint8_t (*out)[TOKEN_AAGUID_LEN], size_t *n)
{
	size_t i, k, o;
	const char *s;

	for (i = 0; i < cfg->approvers.naaguids; i++) {
		s = cfg->approvers.aaguids[i];
		for (k = 0, o = 0; s[k] != '\0' && o < 32; k++) {
			if (s[k] == '-')
				continue;
			if (hex_decode(s + k, 2, &out[i][o / 2], 1) != 0)
				return TG_ERR_CONFIG;
			k++;
			o += 2;
		}
	}
	*n = cfg->approvers.naaguids;
	return 0;
}

static json_t *
approver_json(const struct store_approver *a, int export)
{
	char *cred = NULL, *pk = NULL, aaguid[37] = "";
	json_t *j;

	if (b64url_encode_alloc(a->cred_id, a->cred_id_len, &cred) != 0 ||
	    b64url_encode_alloc(a->pubkey, a->pubkey_len, &pk) != 0) {
		free(cred);
		return NULL;
	}
	if (a->aaguid != NULL)
		token_aaguid_format(a->aaguid, aaguid);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:b}", "name", a->name,
	    "group", a->group, "credential_id", cred, "alg",
	    a->alg == TOKEN_ALG_EDDSA ? "EdDSA" : "ES256", "public_key", pk,
	    "aaguid", aaguid, "attestation_cert_sha256", a->attest_fpr,
	    "revoked", a->revoked != 0);
	if (j != NULL && !export) {
		if (a->dn != NULL)
			json_object_set_new(j, "dn", json_string(a->dn));
		json_object_set_new(j, "sign_count",
		    json_integer(a->sign_count));
		json_object_set_new(j, "enrolled", json_integer(a->enrolled));
		if (a->revoked) {
			json_object_set_new(j, "revoked_at",
			    json_integer(a->revoked_at));
			json_object_set_new(j, "revoke_reason", json_string(
			    a->revoke_reason ? a->revoke_reason : ""));
			json_object_set_new(j, "revoke_cause", json_string(
			    reason_cause(a->revoke_reason) >= 0 ?
			    revoke_causes[reason_cause(a->revoke_reason)].name :
			    "unspecified"));
			json_object_set_new(j, "reenrollable",
			    json_boolean(reenrollable(a)));
		}
	}
	free(cred);
	free(pk);
	return j;
}

/* An enrolment request's fields, checked; they point into its JSON. */
struct enrol_fields {
	const char	*name, *group, *device, *pin, *alg;
	const char	*dn;	/* the directory's entry for name, or NULL */
};

static int
enroll_fields(struct tapgated *d, json_t *j, struct enrol_fields *f,
    struct engine_result *res)
{
	f->name = eng_member_str(j, "name", ENG_NAME_MAX, 1, res);
	if (f->name == NULL)
		return TG_ERR_INVALID;
	f->group = eng_member_str(j, "group", ENG_NAME_MAX, 1, res);
	if (f->group == NULL)
		return TG_ERR_INVALID;
	if ((f->device = eng_member_str(j, "device", 4096, 1, res)) == NULL)
		return TG_ERR_INVALID;
	if ((f->pin = eng_member_str(j, "pin", TOKEN_PIN_MAX, 1, res)) == NULL)
		return TG_ERR_INVALID;
	if ((f->alg = eng_member_str(j, "alg", 8, 0, res)) == NULL)
		return TG_ERR_INVALID;
	if (!eng_name_ok(f->name)) {
		eng_error(res, 422, "invalid_field", "name: 1 to 64 of a-z, "
		    "0-9, '-', '_', '.' (the officer's account name)");
		return TG_ERR_INVALID;
	}
	if (!policy_approver_group_known(d->cfg, f->group)) {
		eng_error(res, 422, "invalid_field", "group: not one of the "
		    "configured approver_groups");
		return TG_ERR_INVALID;
	}
	if (*f->alg != '\0' && strcmp(f->alg, "es256") != 0 &&
	    strcmp(f->alg, "eddsa") != 0) {
		eng_error(res, 422, "invalid_field", "alg: es256 or eddsa");
		return TG_ERR_INVALID;
	}
	return 0;
}

/*
 * The key's side of the enrolment, without the lock so the API keeps
 * answering.  One key, one officer: the key refuses when it holds any
 * known credential (the list is probed in batches when it is longer than
 * the key takes).  When it does and some were revoked for a cause that
 * allows it, ask once more excluding only the active ones and those
 * revoked for compromise (strict comes first in ids): a key that then
 * makes a credential is being enrolled again (a second touch).
 */
static int
enroll_touch(struct tapgated *d, const char *device,
    struct token_enroll_req *er, const struct exclusions *ex,
    const struct token_cred_id *ids, struct token_credential **credp,
    int *again, int *retries)
{
	int r;

	er->exclude = ids;
	er->nexclude = ex->strict.n + ex->again.n;
	*again = 0;
	pthread_mutex_unlock(&d->lock);
	r = tokenproc_enroll(d->tokenproc, device, er, credp, retries);
	if (r == TG_ERR_EXISTS && ex->again.n > 0) {
		er->nexclude = ex->strict.n;
		r = tokenproc_enroll(d->tokenproc, device, er, credp, retries);
		*again = r == 0;
	}
	pthread_mutex_lock(&d->lock);
	return r;
}

/*
 * Answer and audit an enrolment the key or its checks refused; after a
 * PIN error the answer says the attempts left (retries, -1 unknown).
 */
static void
enroll_refused(struct tapgated *d, const struct engine_actor *a,
    const struct enrol_fields *f, int r, int retries,
    struct engine_result *res, int64_t now)
{
	const char *why = tg_strerror(r);
	json_t *details;
	char msg[256];

	switch (r) {
	case TG_ERR_EXISTS:
		eng_error(res, 409, "already_enrolled", "this security key "
		    "holds an enrolled credential already (one key, one "
		    "officer), or one revoked as lost, stolen, cloned or "
		    "compromised (never enrolled again)");
		why = "key already enrolled, or revoked for compromise";
		break;
	case TG_ERR_UNSUPPORTED:
		/* never enrolled unchecked: the officer needs another key */
		eng_error(res, 409, "key_unsupported", "this security key "
		    "cannot be enrolled: it lacks credProtect, or it cannot "
		    "be asked about every enrolled or compromised credential "
		    "(a credential id longer than it takes)");
		break;
	case TG_ERR_TOO_LONG:
		snprintf(msg, sizeof(msg), "this security key refused the "
		    "list of enrolled and compromised credentials it must be "
		    "checked against, or that list is over %d credentials",
		    TOKEN_LIST_MAX);
		eng_error(res, 409, "key_cannot_be_checked", msg);
		break;
	default:
		eng_token_answer(res, r, "enrolment");
		eng_pin_retries(res, retries);
		break;
	}
	details = json_pack("{s:s,s:s,s:s}", "name", f->name, "group",
	    f->group, "reason", why);
	(void)eng_audit_alone(d, a, "approver.enrol_refused", NULL, details,
	    now);
	json_decref(details);
}

/* A new approver, as the steps of its transaction. */
struct enrol_txn {
	const struct engine_actor	*a;
	struct store_approver		*sa;
	const char			*event;
	const json_t			*details;
	int64_t				 now;
};

static int
enrol_steps(struct tapgated *d, void *arg)
{
	struct enrol_txn *t = arg;
	int r;

	if ((r = store_approver_insert(d->st, t->sa, &t->sa->id)) != 0 ||
	    (r = eng_audit(d, t->a, t->event, NULL, t->details, t->now)) != 0)
		return r;
	r = engine_quorum_check(d, 1, t->now);
	return r < 0 ? r : 0;
}

/*
 * Store the new approver sa (made from f and cred; fpr the attestation
 * certificate's digest) and its audit entry, in one transaction.  A
 * re-enrolment names the revoked credentials the key may have held (a
 * key does not say which of the excluded ones it knows).
 */
static int
enroll_store(struct tapgated *d, const struct engine_actor *a,
    const struct enrol_fields *f, const struct token_credential *cred,
    const char *fpr, int again, json_t *previous, struct store_approver *sa,
    struct engine_result *res, int64_t now)
{
	static const struct eng_refusal enrolled = { TG_ERR_EXISTS, 409,
	    "already_enrolled", "this credential is enrolled already" };
	struct enrol_txn t;
	char prefix[17], aaguid[37];
	json_t *details;
	int r;

	token_aaguid_format(cred->aaguid, aaguid);
	memset(sa, 0, sizeof(*sa));
	sa->name = f->name;
	sa->group = f->group;
	sa->cred_id = cred->id;
	sa->cred_id_len = cred->id_len;
	sa->pubkey = cred->pubkey.raw;
	sa->pubkey_len = cred->pubkey.raw_len;
	sa->alg = cred->pubkey.alg;
	sa->aaguid = cred->aaguid;
	sa->attest_fpr = fpr;
	sa->sign_count = cred->sign_count;
	sa->enrolled = now;
	sa->dn = f->dn;
	eng_cred_prefix(cred->id, cred->id_len, prefix);
	details = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O*,s:s*}", "name",
	    f->name, "group", f->group, "alg", sa->alg == TOKEN_ALG_EDDSA ?
	    "EdDSA" : "ES256", "credential", prefix, "aaguid", aaguid,
	    "attestation_cert_sha256", fpr, "previous", again ? previous :
	    NULL, "dn", f->dn);
	t = (struct enrol_txn){ a, sa, again ? "approver.reenrolled" :
	    "approver.enrolled", details, now };
	r = eng_txn(d, enrol_steps, &t, NULL, res, &enrolled);
	json_decref(details);
	return r;
}

/*
 * Who officer f is in the directory, asked before the key is: the DN of
 * the one entry of that name goes with the approver (separation of
 * duties compares it with a target's DN).  An officer the directory does
 * not hold is enrolled without one (compared by name); a name that
 * matches two entries is refused (409), and so is every enrolment while
 * the directory does not answer (503): the identity must be known.
 */
static int
enroll_directory(struct tapgated *d, const struct engine_actor *a,
    struct enrol_fields *f, struct eng_dir_lookup *lk,
    struct engine_result *res)
{
	json_t *details;
	char msg[PROTO_DIR_DETAIL_MAX + 160];
	int r;

	f->dn = NULL;
	if ((r = eng_directory_lookup(d, f->name, lk)) != 0)
		return eng_db_error(d, res, r);
	if (!lk->configured || (!lk->refused &&
	    lk->outcome == DIR_NOT_FOUND))
		return 0;
	if (!lk->refused && lk->outcome == DIR_FOUND) {
		f->dn = lk->facts->dn;
		return 0;
	}
	if (!lk->refused && lk->outcome == DIR_UNAVAILABLE) {
		snprintf(msg, sizeof(msg), "the directory did not answer who "
		    "officer %s is (%s): nothing was enrolled; try again",
		    f->name, lk->detail);
		eng_error(res, 503, "directory_unavailable", msg);
	} else {
		snprintf(msg, sizeof(msg), "name: the directory cannot tell "
		    "who officer %s is (%s)", f->name, lk->refused ?
		    dir_name_fault_text(lk->fault) : "more than one entry "
		    "matches");
		eng_error(res, 409, "officer_ambiguous", msg);
	}
	details = json_pack("{s:s,s:s,s:s}", "name", f->name, "group",
	    f->group, "reason", msg);
	(void)eng_audit_alone(d, a, "approver.enrol_refused", NULL, details,
	    eng_now());
	json_decref(details);
	return TG_ERR_POLICY;
}

/* What the security key is asked to make for officer f. */
struct enrol_req {
	struct token_enroll_req	 er;
	uint8_t			 uid[16];
	uint8_t			 cdh[32];
	uint8_t			(*aaguids)[TOKEN_AAGUID_LEN];
};

/*
 * The request to the key: a non-resident credential that needs UV for
 * every use, for a random user id, bound to a fresh clientData, held to
 * the trust roots and the AAGUID allow-list (500 when that is unusable,
 * or there is no randomness).  rq->aaguids is the caller's to free.
 */
static int
enroll_request(struct tapgated *d, const struct enrol_fields *f,
    struct enrol_req *rq, struct engine_result *res)
{
	struct token_enroll_req *er = &rq->er;
	size_t naaguids = 0;
	uint8_t chal[32];
	char cd[512], chal64[48];

	if (d->cfg->approvers.naaguids > 0 &&
	    ((rq->aaguids = calloc(d->cfg->approvers.naaguids,
	    sizeof(*rq->aaguids))) == NULL ||
	    parse_aaguids(d->cfg, rq->aaguids, &naaguids) != 0)) {
		eng_error(res, 500, "internal", "AAGUID allow-list unusable");
		return TG_ERR_INTERNAL;
	}
	if (RAND_bytes(rq->uid, sizeof(rq->uid)) != 1 ||
	    RAND_bytes(chal, sizeof(chal)) != 1) {
		eng_error(res, 500, "internal", "no randomness");
		return TG_ERR_INTERNAL;
	}
	b64url_encode(chal, sizeof(chal), chal64);
	snprintf(cd, sizeof(cd), "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"%s\",\"origin\":\"https://%s\",\"crossOrigin\":false}", chal64,
	    d->cfg->appliance.rp_id);
	SHA256((const unsigned char *)cd, strlen(cd), rq->cdh);
	memset(er, 0, sizeof(*er));
	er->rp_id = d->cfg->appliance.rp_id;
	er->rp_name = d->cfg->appliance.name;
	er->user_id = rq->uid;
	er->user_id_len = sizeof(rq->uid);
	er->user_name = f->name;
	er->client_data_hash = rq->cdh;
	er->alg = strcmp(f->alg, "eddsa") == 0 ? TOKEN_ALG_EDDSA :
	    TOKEN_ALG_ES256;
	er->resident = false;
	er->cred_protect = 3;	/* UV required for every use of it */
	er->pin = f->pin;
	er->trust_roots_pem = d->cfg->approvers.trust_roots;
	er->aaguids = (const uint8_t (*)[TOKEN_AAGUID_LEN])rq->aaguids;
	er->naaguids = naaguids;
	return 0;
}

/* The 201 of an enrolment: the new approver, and what it replaced. */
static int
enroll_answer(struct tapgated *d, const struct store_approver *sa,
    int again, json_t *previous, struct engine_result *res)
{
	json_t *out;

	if ((out = approver_json(sa, 0)) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	json_object_set_new(out, "reenrolled", json_boolean(again));
	if (again)
		json_object_set(out, "previous", previous);
	json_decref(res->body);
	res->status = 201;
	res->body = out;
	return 0;
}

int
engine_enroll(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, struct engine_result *res)
{
	struct token_credential *cred = NULL;
	struct token_cred_id *excl = NULL;
	struct store_approver sa;
	struct enrol_fields f;
	struct enrol_req rq;
	struct exclusions ex;
	struct eng_dir_lookup lk;
	char fpr[65];
	json_t *j = NULL;
	size_t i;
	int64_t now;
	int r, again = 0, retries = -1;

	memset(&ex, 0, sizeof(ex));
	memset(&rq, 0, sizeof(rq));
	memset(&lk, 0, sizeof(lk));
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((ex.previous = json_array()) == NULL) {
		json_decref(j);
		eng_error(res, 500, "internal", "out of memory");
		return TG_ERR_NOMEM;
	}
	if ((r = enroll_fields(d, j, &f, res)) != 0 ||
	    (r = enroll_directory(d, a, &f, &lk, res)) != 0 ||
	    (r = enroll_request(d, &f, &rq, res)) != 0)
		goto out;
	/* every credential ever enrolled: no cap, none left out */
	if ((r = store_approver_list(d->st, 1, collect_exclusions,
	    &ex)) != 0 || (r = exclusion_ids(&ex, &excl)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	r = enroll_touch(d, f.device, &rq.er, &ex, excl, &cred, &again,
	    &retries);
	eng_wipe_member(j, "pin");
	now = eng_now();
	if (r != 0) {
		enroll_refused(d, a, &f, r, retries, res, now);
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(fpr + 2 * i, 3, "%02x", cred->cert_sha256[i]);
	if ((r = enroll_store(d, a, &f, cred, fpr, again, ex.previous, &sa,
	    res, now)) != 0)
		goto out;
	r = enroll_answer(d, &sa, again, ex.previous, res);
out:
	if (j != NULL)
		eng_wipe_member(j, "pin");
	json_decref(j);
	free(rq.aaguids);
	free(excl);
	eng_idlist_clear(&ex.strict);
	eng_idlist_clear(&ex.again);
	json_decref(ex.previous);
	token_credential_free(&cred);
	eng_directory_lookup_clear(&lk);
	return r;
}

struct approver_list {
	json_t	*arr;
	int	 export;
};

static int
approver_row(const struct store_approver *a, void *arg)
{
	struct approver_list *al = arg;
	json_t *j = approver_json(a, al->export);

	return j != NULL && json_array_append_new(al->arr, j) == 0 ? 0 :
	    TG_ERR_NOMEM;
}

int
engine_approvers(struct tapgated *d, int all, int export,
    struct engine_result *res)
{
	struct approver_list al = { json_array(), export };
	int r;

	if ((r = store_approver_list(d->st, all, approver_row, &al)) != 0) {
		json_decref(al.arr);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = export ? json_pack("{s:s,s:s,s:o}", "rp_id",
	    d->cfg->appliance.rp_id, "appliance", d->cfg->appliance.id,
	    "approvers", al.arr) : json_pack("{s:o}", "approvers", al.arr);
	return 0;
}

/* A revocation, as the steps of its transaction. */
struct revoke_txn {
	const struct engine_actor	*a;
	const char			*name;
	const char			*stored;	/* the revoke_reason */
	json_t				*details;
	int				 n;		/* credentials */
	int64_t				 now;
};

static int
revoke_steps(struct tapgated *d, void *arg)
{
	struct revoke_txn *t = arg;
	int r;

	if ((r = store_approver_revoke(d->st, 0, t->name, t->stored, t->now,
	    &t->n)) != 0)
		return r;
	/* how many credentials it revoked is known only now */
	if (json_object_set_new(t->details, "credentials",
	    json_integer(t->n)) != 0)
		return TG_ERR_NOMEM;
	if ((r = eng_audit(d, t->a, "approver.revoked", NULL, t->details,
	    t->now)) != 0)
		return r;
	r = engine_quorum_check(d, 1, t->now);
	return r < 0 ? r : 0;
}

int
engine_revoke(struct tapgated *d, const struct engine_actor *a,
    const char *name, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const struct eng_refusal unknown = { TG_ERR_NOT_FOUND, 404,
	    "not_found", "no enrolled, unrevoked approver of that name" };
	struct revoke_txn t;
	const char *reason = NULL, *cause;
	json_t *j = NULL, *details = NULL;
	char err[256], *stored = NULL;
	int r, n = 0, c;

	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((cause = eng_member_str(j, "cause", 32, 1, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((c = cause_index(cause, strlen(cause))) < 0) {
		eng_error(res, 422, "invalid_field", "cause: one of "
		    CAUSES_TEXT);
		r = TG_ERR_INVALID;
		goto out;
	}
	/* the words are optional; the cause is not */
	if (json_object_get(j, "reason") != NULL &&
	    (r = reqjson_reason(j, &reason, err, sizeof(err))) != 0) {
		eng_error(res, 422, "invalid_field", err);
		goto out;
	}
	if (!eng_name_ok(name)) {
		eng_error(res, 404, "not_found", "no such approver");
		r = TG_ERR_NOT_FOUND;
		goto out;
	}
	if (asprintf(&stored, "%s%s%s", revoke_causes[c].name,
	    reason != NULL ? ": " : "", reason != NULL ? reason : "") < 0) {
		stored = NULL;
		r = TG_ERR_NOMEM;
		eng_db_error(d, res, r);
		goto out;
	}
	details = json_pack("{s:s,s:s,s:s,s:b}", "name", name, "cause",
	    revoke_causes[c].name, "reason", reason != NULL ? reason : "",
	    "reenrollable", !revoke_causes[c].compromise);
	t = (struct revoke_txn){ a, name, stored, details, 0, now };
	if ((r = eng_txn(d, revoke_steps, &t, NULL, res, &unknown)) != 0)
		goto out;
	n = t.n;
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:b,s:i}", "revoked", name, "cause",
	    revoke_causes[c].name, "reenrollable",
	    !revoke_causes[c].compromise, "credentials", n);
	r = 0;
out:
	free(stored);
	json_decref(details);
	json_decref(j);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * Approvers, token-attested approvals and co-signed orders.
 *
 * An officer's approval is a FIDO2 assertion whose clientDataHash is the
 * SHA-256 of a WebAuthn-shaped clientData whose challenge is the SHA-256 of
 * the canonical change (eng_change): the touch is bound to exactly this
 * change.  The daemon verifies it against the officer's enrolled key (UP,
 * UV, rpIdHash, a counter that grows), checks separation of duties, and
 * records it with its audit entry.  When the policy says ready, the signer
 * (eng_issue_order) re-derives the change from the store, re-verifies every
 * recorded assertion against it and signs the order; it signs nothing
 * else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "engine/engine_int.h"
#include "order/jws.h"
#include "token/token.h"

#define PIN_MAX		TOKEN_PIN_MAX
#define NAME_MAX_LEN	64

/* ---- the change and its clientData */

static int
evidence_digests(const struct facts *f, json_t *out)
{
	char digest[STORE_DIGEST_LEN + 1];
	const json_t *ev;
	size_t i;
	int r;

	json_array_foreach(f->evidence, i, ev) {
		if ((r = eng_jcs_digest(ev, digest)) != 0)
			return r;
		if (json_array_append_new(out, json_string(digest)) != 0)
			return TG_ERR_NOMEM;
	}
	return 0;
}

int
eng_change(struct tapgated *d, const struct facts *f,
    const struct policy_decision *dec, json_t **changep, uint8_t digest[32])
{
	json_t *change, *digests = json_array(), *drops = json_array();
	const json_t *changes = json_object_get(f->rq.root, "changes");
	char *c = NULL;
	size_t i, n;
	int r;

	if (digests == NULL || drops == NULL ||
	    (r = evidence_digests(f, digests)) != 0) {
		json_decref(digests);
		json_decref(drops);
		return TG_ERR_NOMEM;
	}
	for (i = 0; i < dec->ndrop; i++)
		json_array_append_new(drops, json_string(dec->drop[i]));
	change = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:O,"
	    "s:{s:b,s:o},s:{s:s,s:I},s:o,s:{s:s}}",
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
	    (json_int_t)dec->policy_version,
	    "evidence_digests", digests,
	    "requester", "agent", f->rq.pr.agent);
	if (change == NULL)
		return TG_ERR_NOMEM;
	if (!json_is_object(changes))
		json_decref(json_object_get(change, "changes"));
	if (f->rq.ticket != NULL)
		json_object_set_new(json_object_get(change, "requester"),
		    "ticket", json_string(f->rq.ticket));
	if ((r = jcs_serialize(change, &c, &n)) != 0) {
		json_decref(change);
		return r;
	}
	SHA256((const unsigned char *)c, n, digest);
	free(c);
	*changep = change;
	return 0;
}

/* The exact clientData bytes an approval signs (hash of it: cdh). */
static int
client_data(struct tapgated *d, const uint8_t digest[32], char *out,
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

/* ---- small helpers */

static int
body_object(const char *body, size_t len, json_t **out,
    struct engine_result *res)
{
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		eng_error(res, 400, "malformed_body", "body: must be a JSON "
		    "object");
		return TG_ERR_INVALID;
	}
	*out = j;
	return 0;
}

/* A bounded string member; msg names it when missing or wrong. */
static const char *
member_str(const json_t *o, const char *key, size_t max, int required,
    struct engine_result *res)
{
	const json_t *v = json_object_get(o, key);
	char msg[128];

	if (v == NULL && !required)
		return "";
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof(msg), "%s: must be a string of 1 to %zu "
		    "bytes", key, max);
		eng_error(res, 422, "invalid_field", msg);
		return NULL;
	}
	return json_string_value(v);
}

/* Overwrite the PIN inside the parsed body before it is freed. */
static void
wipe_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/* What a token error means to the officer at the box. */
static void
token_answer(struct engine_result *res, int r, const char *what)
{
	char msg[256];
	int status = 409;
	const char *code = "token_error";

	switch (r) {
	case TG_ERR_NO_TOUCH:
	case TG_ERR_TIMEOUT:
		status = 408;
		code = "no_touch";
		break;
	case TG_ERR_DENIED:
		code = "refused_on_key";
		break;
	case TG_ERR_PIN_INVALID:
	case TG_ERR_PIN_BLOCKED:
	case TG_ERR_PIN_AUTH_BLOCKED:
	case TG_ERR_PIN_NOT_SET:
	case TG_ERR_PIN_POLICY:
		status = 403;
		code = "pin";
		break;
	case TG_ERR_DEVICE:
	case TG_ERR_DEVICE_GONE:
	case TG_ERR_INVALID:
		status = 404;
		code = "no_device";
		break;
	case TG_ERR_NO_CREDENTIAL:
		status = 403;
		code = "not_enrolled";
		break;
	case TG_ERR_ATTESTATION:
	case TG_ERR_AAGUID:
		status = 403;
		code = "attestation";
		break;
	}
	snprintf(msg, sizeof(msg), "%s: %s", what, tg_strerror(r));
	eng_error(res, status, code, msg);
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
cred_prefix(const uint8_t *cred, size_t len, char out[17])
{
	char full[64];

	/* never log a whole credential id: a prefix identifies it enough */
	b64url_encode(cred, len < 12 ? len : 12, full);
	snprintf(out, 17, "%.16s", full);
}

/*
 * Audit a refusal in a transaction of its own (nothing else changes with
 * it); a failure to audit is logged, since the refusal stands anyway.
 */
static void
audit_alone(struct tapgated *d, const struct engine_actor *a,
    const char *event, const char *id, json_t *details, int64_t now)
{
	int r;

	if ((r = store_begin(d->st)) != 0) {
		json_decref(details);
	} else if ((r = eng_audit(d, a, event, id, details, now)) != 0 ||
	    (r = store_commit(d->st)) != 0)
		store_rollback(d->st);
	if (r != 0)
		fprintf(stderr, "tapgated: cannot audit %s: %s\n", event,
		    tg_strerror(r));
}

/* ---- quorum */

static unsigned
needed_for(const struct policy_config *cfg, const char *group)
{
	const struct policy_rule *rules[POLICY_QUEUE_COUNT *
	    POLICY_CLASS_COUNT + 1];
	size_t n = 0, i, k;
	unsigned need = 0;
	int q, c;

	for (q = 0; q < POLICY_QUEUE_COUNT; q++)
		for (c = 0; c < POLICY_CLASS_COUNT; c++)
			rules[n++] = &cfg->rules[q][c];
	rules[n++] = &cfg->manual_review;
	for (i = 0; i < n; i++)
		for (k = 0; k < rules[i]->napprovals; k++)
			if (strcmp(rules[i]->approvals[k].group, group) == 0 &&
			    rules[i]->approvals[k].count > need)
				need = rules[i]->approvals[k].count;
	return need;
}

/* Distinct (officer, group) pairs enrolled now: as many as there are. */
struct names {
	struct {
		char	name[NAME_MAX_LEN + 1];
		char	group[NAME_MAX_LEN + 1];
	}	*v;
	size_t	 n;
	size_t	 cap;
};

static int
collect_names(const struct store_approver *a, void *arg)
{
	struct names *nm = arg;
	size_t i, cap;
	void *p;

	for (i = 0; i < nm->n; i++)
		if (strcmp(nm->v[i].name, a->name) == 0 &&
		    strcmp(nm->v[i].group, a->group) == 0)
			return 0;
	if (nm->n == nm->cap) {
		cap = nm->cap ? 2 * nm->cap : 16;
		if ((p = reallocarray(nm->v, cap, sizeof(*nm->v))) == NULL)
			return TG_ERR_NOMEM;
		nm->v = p;
		nm->cap = cap;
	}
	snprintf(nm->v[nm->n].name, sizeof(nm->v[0].name), "%s", a->name);
	snprintf(nm->v[nm->n].group, sizeof(nm->v[0].group), "%s", a->group);
	nm->n++;
	return 0;
}

int
engine_quorum_check(struct tapgated *d, int audit_it, int64_t now)
{
	const struct engine_actor sys = { -1, "system", "tapgated" };
	struct names nm;
	size_t g, i;
	int bad = 0, r;

	memset(&nm, 0, sizeof(nm));
	if ((r = store_approver_list(d->st, 0, collect_names, &nm)) != 0) {
		free(nm.v);
		return r;
	}
	for (g = 0; g < d->cfg->napprover_groups; g++) {
		const char *group = d->cfg->approver_groups[g];
		unsigned have = 0, need = needed_for(d->cfg, group);

		for (i = 0; i < nm.n; i++)
			if (strcmp(nm.v[i].group, group) == 0)
				have++;
		d->quorum_enrolled[g] = have;
		d->quorum_needed[g] = need;
		if (have >= need)
			continue;
		bad++;
		fprintf(stderr, "tapgated: ALARM: approver group %s has %u "
		    "enrolled officer(s); the policy needs %u: requests that "
		    "need them cannot be approved\n", group, have, need);
		if (audit_it && (eng_audit(d, &sys, "alarm.quorum_unreachable",
		    NULL, json_pack("{s:s,s:i,s:i}", "group", group,
		    "enrolled", (int)have, "needed", (int)need), now)) != 0) {
			free(nm.v);
			return TG_ERR_DB;
		}
	}
	free(nm.v);
	return bad;
}

/* ---- enrolment */

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
 * A list of credential ids that grows as long as the store is: what
 * enrolment excludes is every credential ever enrolled, and a key that
 * holds one must be refused however long the list has become; what an
 * approval allows is every active officer's credential, however many
 * officers there are.
 */
struct idlist {
	uint8_t	**ids;
	size_t	 *lens;
	size_t	  n, cap;
};

static int
idlist_add(struct idlist *l, const uint8_t *id, size_t len)
{
	uint8_t **ids;
	size_t *lens, cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 16 : 2 * l->cap;
		if ((ids = reallocarray(l->ids, cap, sizeof(*ids))) == NULL)
			return TG_ERR_NOMEM;
		l->ids = ids;
		if ((lens = reallocarray(l->lens, cap, sizeof(*lens))) == NULL)
			return TG_ERR_NOMEM;
		l->lens = lens;
		l->cap = cap;
	}
	if ((l->ids[l->n] = malloc(len)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(l->ids[l->n], id, len);
	l->lens[l->n++] = len;
	return 0;
}

static void
idlist_clear(struct idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->ids[i]);
	free(l->ids);
	free(l->lens);
	memset(l, 0, sizeof(*l));
}

/* store_approver_list callback: every active credential may approve. */
static int
collect_allow(const struct store_approver *a, void *arg)
{
	return idlist_add(arg, a->cred_id, a->cred_id_len);
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
	int c;

	if (!reenrollable(a))
		return idlist_add(&ex->strict, a->cred_id, a->cred_id_len);
	c = reason_cause(a->revoke_reason);
	cred_prefix(a->cred_id, a->cred_id_len, prefix);
	if (json_array_append_new(ex->previous, json_pack("{s:s,s:s,s:s}",
	    "name", a->name, "credential", prefix, "cause",
	    revoke_causes[c].name)) != 0)
		return TG_ERR_NOMEM;
	return idlist_add(&ex->again, a->cred_id, a->cred_id_len);
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
};

static int
enroll_fields(struct tapgated *d, json_t *j, struct enrol_fields *f,
    struct engine_result *res)
{
	if ((f->name = member_str(j, "name", NAME_MAX_LEN, 1, res)) == NULL ||
	    (f->group = member_str(j, "group", NAME_MAX_LEN, 1,
	    res)) == NULL ||
	    (f->device = member_str(j, "device", 4096, 1, res)) == NULL ||
	    (f->pin = member_str(j, "pin", PIN_MAX, 1, res)) == NULL ||
	    (f->alg = member_str(j, "alg", 8, 0, res)) == NULL)
		return TG_ERR_INVALID;
	if (!name_ok(f->name)) {
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
    int *again)
{
	int r;

	er->exclude = ids;
	er->nexclude = ex->strict.n + ex->again.n;
	*again = 0;
	pthread_mutex_unlock(&d->lock);
	r = tokenproc_enroll(d->tokenproc, device, er, credp);
	if (r == TG_ERR_EXISTS && ex->again.n > 0) {
		er->nexclude = ex->strict.n;
		r = tokenproc_enroll(d->tokenproc, device, er, credp);
		*again = r == 0;
	}
	pthread_mutex_lock(&d->lock);
	return r;
}

/* Answer and audit an enrolment the key or its checks refused. */
static void
enroll_refused(struct tapgated *d, const struct engine_actor *a,
    const struct enrol_fields *f, int r, struct engine_result *res,
    int64_t now)
{
	const char *why = tg_strerror(r);
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
		token_answer(res, r, "enrolment");
		break;
	}
	audit_alone(d, a, "approver.enrol_refused", NULL, json_pack(
	    "{s:s,s:s,s:s}", "name", f->name, "group", f->group, "reason",
	    why), now);
}

/* Store the new approver and its audit entry, in one transaction. */
static int
enroll_store(struct tapgated *d, const struct engine_actor *a,
    const struct enrol_fields *f, const struct token_credential *cred,
    const char *fpr, int again, json_t *previous, struct store_approver *sa,
    struct engine_result *res, int64_t now)
{
	char prefix[17], aaguid[37];
	int64_t id = 0;
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
	cred_prefix(cred->id, cred->id_len, prefix);
	/*
	 * A re-enrolment names the revoked credentials the key may have
	 * held (a key does not say which of the excluded ones it knows).
	 */
	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_approver_insert(d->st, sa, &id)) != 0 ||
	    (r = eng_audit(d, a, again ? "approver.reenrolled" :
	    "approver.enrolled", NULL, json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:O*}", "name", f->name, "group",
	    f->group, "alg", sa->alg == TOKEN_ALG_EDDSA ? "EdDSA" : "ES256",
	    "credential", prefix, "aaguid", aaguid, "attestation_cert_sha256",
	    fpr, "previous", again ? previous : NULL), now)) != 0 ||
	    (r = engine_quorum_check(d, 1, now)) < 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		if (r == TG_ERR_EXISTS)
			eng_error(res, 409, "already_enrolled", "this "
			    "credential is enrolled already");
		else
			eng_db_error(d, res, r);
		return r;
	}
	sa->id = id;
	return 0;
}

int
engine_enroll(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, struct engine_result *res)
{
	uint8_t (*aaguids)[TOKEN_AAGUID_LEN] = NULL;
	struct token_credential *cred = NULL;
	struct token_cred_id *excl = NULL;
	struct token_enroll_req er;
	struct store_approver sa;
	struct enrol_fields f;
	struct exclusions ex;
	uint8_t uid[16], cdh[32], chal[32];
	char cd[512], chal64[48], fpr[65];
	json_t *j = NULL, *out = NULL;
	size_t naaguids = 0, i;
	int64_t now;
	int r, again = 0;

	memset(&ex, 0, sizeof(ex));
	if ((r = body_object(body, len, &j, res)) != 0)
		return r;
	if ((ex.previous = json_array()) == NULL) {
		json_decref(j);
		eng_error(res, 500, "internal", "out of memory");
		return TG_ERR_NOMEM;
	}
	if ((r = enroll_fields(d, j, &f, res)) != 0)
		goto out;
	if (d->cfg->approvers.naaguids > 0 &&
	    ((aaguids = calloc(d->cfg->approvers.naaguids,
	    sizeof(*aaguids))) == NULL ||
	    parse_aaguids(d->cfg, aaguids, &naaguids) != 0)) {
		eng_error(res, 500, "internal", "AAGUID allow-list unusable");
		r = TG_ERR_INTERNAL;
		goto out;
	}
	if (RAND_bytes(uid, sizeof(uid)) != 1 ||
	    RAND_bytes(chal, sizeof(chal)) != 1) {
		r = TG_ERR_INTERNAL;
		eng_error(res, 500, "internal", "no randomness");
		goto out;
	}
	b64url_encode(chal, sizeof(chal), chal64);
	snprintf(cd, sizeof(cd), "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"%s\",\"origin\":\"https://%s\",\"crossOrigin\":false}", chal64,
	    d->cfg->appliance.rp_id);
	SHA256((const unsigned char *)cd, strlen(cd), cdh);
	memset(&er, 0, sizeof(er));
	er.rp_id = d->cfg->appliance.rp_id;
	er.rp_name = d->cfg->appliance.name;
	er.user_id = uid;
	er.user_id_len = sizeof(uid);
	er.user_name = f.name;
	er.client_data_hash = cdh;
	er.alg = strcmp(f.alg, "eddsa") == 0 ? TOKEN_ALG_EDDSA :
	    TOKEN_ALG_ES256;
	er.resident = false;
	er.cred_protect = 3;	/* UV required for every use of it */
	er.pin = f.pin;
	er.trust_roots_pem = d->cfg->approvers.trust_roots;
	er.aaguids = (const uint8_t (*)[TOKEN_AAGUID_LEN])aaguids;
	er.naaguids = naaguids;
	/* every credential ever enrolled: no cap, none left out */
	if ((r = store_approver_list(d->st, 1, collect_exclusions,
	    &ex)) != 0 || (r = exclusion_ids(&ex, &excl)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	r = enroll_touch(d, f.device, &er, &ex, excl, &cred, &again);
	wipe_member(j, "pin");
	now = now_s();
	if (r != 0) {
		enroll_refused(d, a, &f, r, res, now);
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(fpr + 2 * i, 3, "%02x", cred->cert_sha256[i]);
	if ((r = enroll_store(d, a, &f, cred, fpr, again, ex.previous, &sa,
	    res, now)) != 0)
		goto out;
	if ((out = approver_json(&sa, 0)) == NULL) {
		r = TG_ERR_NOMEM;
		eng_db_error(d, res, r);
		goto out;
	}
	json_object_set_new(out, "reenrolled", json_boolean(again));
	if (again)
		json_object_set(out, "previous", ex.previous);
	json_decref(res->body);
	res->status = 201;
	res->body = out;
	r = 0;
out:
	if (j != NULL)
		wipe_member(j, "pin");
	json_decref(j);
	free(aaguids);
	free(excl);
	idlist_clear(&ex.strict);
	idlist_clear(&ex.again);
	json_decref(ex.previous);
	token_credential_free(&cred);
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

int
engine_revoke(struct tapgated *d, const struct engine_actor *a,
    const char *name, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	const char *reason = NULL, *cause;
	json_t *j = NULL;
	char err[256], *stored = NULL;
	int r, n = 0, c;

	if ((r = body_object(body, len, &j, res)) != 0)
		return r;
	if ((cause = member_str(j, "cause", 32, 1, res)) == NULL) {
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
	if (!name_ok(name)) {
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
	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_approver_revoke(d->st, 0, name, stored, now,
	    &n)) != 0 ||
	    (r = eng_audit(d, a, "approver.revoked", NULL, json_pack(
	    "{s:s,s:s,s:s,s:b,s:i}", "name", name, "cause",
	    revoke_causes[c].name, "reason", reason != NULL ? reason : "",
	    "reenrollable", !revoke_causes[c].compromise, "credentials",
	    n), now)) != 0 ||
	    (r = engine_quorum_check(d, 1, now)) < 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		if (r == TG_ERR_NOT_FOUND)
			eng_error(res, 404, "not_found", "no enrolled, "
			    "unrevoked approver of that name");
		else
			eng_db_error(d, res, r);
		goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:b,s:i}", "revoked", name, "cause",
	    revoke_causes[c].name, "reenrollable",
	    !revoke_causes[c].compromise, "credentials", n);
	r = 0;
out:
	free(stored);
	json_decref(j);
	return r;
}

/* ---- approval */

/* The approver behind a credential, copied out of the row. */
struct who {
	int64_t			id;
	char			name[NAME_MAX_LEN + 1];
	char			group[NAME_MAX_LEN + 1];
	int			revoked;
	int64_t			sign_count;
	struct token_pubkey	pk;
	int			pk_ok;
};

static int
collect_who(const struct store_approver *a, void *arg)
{
	struct who *w = arg;

	w->id = a->id;
	snprintf(w->name, sizeof(w->name), "%s", a->name);
	snprintf(w->group, sizeof(w->group), "%s", a->group);
	w->revoked = a->revoked;
	w->sign_count = a->sign_count;
	w->pk_ok = token_pubkey_from_raw(a->alg, a->pubkey, a->pubkey_len,
	    &w->pk) == 0;
	return 0;
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
	const struct engine_actor sys = { -1, "system", "tapgated" };
	char msg[320], cause[160];
	int r, n = 0;

	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_approver_revoke(d->st, w->id, NULL, "cloned: "
	    "signature counter did not grow", now, &n)) != 0 ||
	    (r = eng_audit(d, &sys, "alarm.cloned_key", id, json_pack(
	    "{s:s,s:s,s:I,s:I,s:b}", "approver", w->name, "group", w->group,
	    "stored_counter", (json_int_t)w->sign_count, "presented_counter",
	    (json_int_t)presented, "suspended", 1), now)) != 0 ||
	    (r = eng_audit(d, a, "approval.refused", id, json_pack(
	    "{s:s,s:s,s:s}", "code", "cloned_key", "reason", "signature "
	    "counter did not grow", "officer", w->name), now)) != 0 ||
	    (r = engine_quorum_check(d, 1, now)) < 0 ||
	    (r = store_commit(d->st)) != 0) {
		snprintf(cause, sizeof(cause), "%s (%s)", tg_strerror(r),
		    store_errmsg(d->st));
		store_rollback(d->st);
		d->errors++;
		fprintf(stderr, "tapgated: ALARM: approver %s presented "
		    "counter %u, stored %lld: a possible cloned key; "
		    "suspending it FAILED: %s: revoke it by hand\n", w->name,
		    presented, (long long)w->sign_count, cause);
		snprintf(msg, sizeof(msg), "the signature counter did not "
		    "grow: this credential may be cloned; suspending its "
		    "approver failed (%s): an operator must revoke it", cause);
		eng_error(res, 403, "cloned_key", msg);
		/* the alarm, at least, if the store takes it now */
		audit_alone(d, &sys, "alarm.cloned_key", id, json_pack(
		    "{s:s,s:s,s:I,s:I,s:b,s:s}", "approver", w->name, "group",
		    w->group, "stored_counter", (json_int_t)w->sign_count,
		    "presented_counter", (json_int_t)presented, "suspended", 0,
		    "why", cause), now);
		json_object_set_new(res->body, "suspended", json_false());
		return TG_ERR_POLICY;
	}
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
	eng_error(res, status, code, why);
	audit_alone(d, a, "approval.refused", id, json_pack("{s:s,s:s,s:s}",
	    "code", code, "reason", why, "officer", officer ? officer : ""),
	    now);
	return TG_ERR_POLICY;
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
	    (r = client_data(d, digest, cd, sizeof(cd), cdh)) != 0) {
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
	json_t *j = NULL, *change = NULL;
	int64_t since, recent = 0, now = now_s();
	uint32_t count = 0;
	size_t i;
	int r;

	memset(&al, 0, sizeof(al));
	memset(&f, 0, sizeof(f));
	if ((r = body_object(body, len, &j, res)) != 0)
		return r;
	if ((device = member_str(j, "device", 4096, 1, res)) == NULL ||
	    (pin = member_str(j, "pin", PIN_MAX, 1, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	/* phase 1, locked: what is being approved */
	if ((r = eng_load(d, id, &f, res)) != 0)
		goto out;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    (r = eng_change(d, &f, &dec, &change, digest)) != 0 ||
	    (r = client_data(d, digest, cd, sizeof(cd), cdh)) != 0) {
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
	if ((r = store_approver_list(d->st, 0, collect_allow, &al)) != 0) {
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
	wipe_member(j, "pin");
	now = now_s();
	if (r != 0) {
		char code[48];
		int status;

		token_answer(res, r, "assertion");
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
	    collect_who, &w)) != 0) {
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
	cred_prefix(as->cred_id, as->cred_id_len, prefix);
	if ((r = store_begin(d->st)) != 0 ||
	    (r = store_approval_insert(d->st, &sap)) != 0 ||
	    (r = store_approver_set_count(d->st, w.id, count)) != 0 ||
	    (r = eng_audit(d, a, "request.approved", id, json_pack(
	    "{s:s,s:s,s:s,s:I,s:b}", "approver", w.name, "group", w.group,
	    "credential", prefix, "counter", (json_int_t)count,
	    "user_verified", cand.user_verified), now)) != 0) {
		store_rollback(d->st);
		if (r == TG_ERR_EXISTS)
			refuse(d, a, id, res, 409, "already_approved", "this "
			    "approver has approved this request already",
			    w.name, now);
		else
			eng_db_error(d, res, r);
		goto out;
	}
	/* the new approval counts: evaluate and record what follows */
	eng_facts_clear(&f);
	if ((r = eng_facts_load(d, id, &f, why, sizeof(why))) != 0 ||
	    (r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
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
	json_object_set_new(res->body, "approver", json_string(w.name));
	json_object_set_new(res->body, "group", json_string(w.group));
out:
	eng_events_post(d, &evs);
	if (j != NULL)
		wipe_member(j, "pin");
	json_decref(j);
	json_decref(change);
	free(cred64);
	free(allow_ids);
	idlist_clear(&al);
	token_assertion_free(&as);
	eng_facts_clear(&f);
	return r;
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

static int
approver_for(const struct store_approver *a, void *arg)
{
	struct who *w = arg;

	return collect_who(a, w);
}

/*
 * Re-verify one recorded approval against the change being signed, with
 * the approver's enrolled key, and add it to the order's list.
 */
static int
signer_check(const struct store_approval *ap, void *arg)
{
	struct signer_ctx *sc = arg;
	struct token_verify_req vr;
	struct who w;
	uint8_t cdh[32], expect_cdh[32];
	char cd[512], *cred = NULL, *ad = NULL, *sig = NULL, *cdb = NULL;
	uint32_t count;
	int r;

	memset(&w, 0, sizeof(w));
	r = store_approver_by_cred(sc->d->st, ap->cred_id, ap->cred_id_len,
	    approver_for, &w);
	/* an approval of a since revoked approver is not signed */
	if (r == TG_ERR_NOT_FOUND || (r == 0 && w.revoked))
		return 0;
	if (r != 0)
		return r;
	if (w.id != ap->approver_id || !w.pk_ok) {
		snprintf(sc->why, sizeof(sc->why), "approval by %s: %s",
		    w.name, w.pk_ok ? "the row names another approver than "
		    "its credential's" : "the enrolled key does not parse");
		sc->bad = 1;
		return 0;
	}
	if (client_data(sc->d, sc->digest, cd, sizeof(cd), expect_cdh) != 0 ||
	    strcmp(cd, ap->client_data) != 0) {
		snprintf(sc->why, sizeof(sc->why), "approval by %s is for "
		    "another change", w.name);
		sc->bad = 1;
		return 0;
	}
	SHA256((const unsigned char *)ap->client_data,
	    strlen(ap->client_data), cdh);
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &w.pk;
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
		    "verify: %s", w.name, tg_strerror(r));
		sc->bad = 1;
		return 0;
	}
	if (b64url_encode_alloc(ap->cred_id, ap->cred_id_len, &cred) != 0 ||
	    b64url_encode_alloc(ap->auth_data, ap->auth_data_len, &ad) != 0 ||
	    b64url_encode_alloc(ap->signature, ap->signature_len, &sig) != 0 ||
	    b64url_encode_alloc((const uint8_t *)ap->client_data,
	    strlen(ap->client_data), &cdb) != 0)
		r = TG_ERR_NOMEM;
	else if (json_array_append_new(sc->verified, json_pack(
	    "{s:s,s:s,s:s,s:b}", "officer", w.name, "group", w.group, "cred",
	    cred, "uv", (ap->auth_data[32] & TOKEN_FLAG_UV) != 0)) != 0)
		r = TG_ERR_NOMEM;
	else
		r = json_array_append_new(sc->approvals, json_pack(
		    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "approver", w.name,
		    "group", w.group, "credential_id", cred, "alg",
		    w.pk.alg == TOKEN_ALG_EDDSA ? "EdDSA" : "ES256",
		    "authenticator_data", ad, "client_data", cdb,
		    "signature", sig)) == 0 ? 0 : TG_ERR_NOMEM;
	free(cred);
	free(ad);
	free(sig);
	free(cdb);
	return r;
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
	int r;

	fprintf(stderr, "tapgated: signer refuses request %s: %s\n", id, why);
	if ((r = eng_audit(d, a, "order.refused", id, json_pack("{s:s}",
	    "reason", why), now)) != 0)
		return r;
	return TG_ERR_POLICY;
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
	if ((r = reqjson_changes_check(json_object_get(f->rq.root, "changes"),
	    err, sizeof(err))) != 0) {
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

int
eng_issue_order(struct tapgated *d, const char *id,
    const struct engine_actor *a, int64_t now, struct events *evs,
    char *why, size_t whylen)
{
	struct policy_decision dec;
	struct signer_ctx sc;
	struct store_order so;
	struct facts f;
	uint8_t digest[32], jrnd[16];
	char dig64[48], jti[33], *payload = NULL, *jws = NULL;
	json_t *change = NULL, *doc = NULL;
	size_t plen, jlen;
	int r;

	memset(&sc, 0, sizeof(sc));
	memset(&f, 0, sizeof(f));
	snprintf(why, whylen, "unknown");
	r = store_order_by_request(d->st, id, order_exists, NULL);
	if (r == 0)
		return TG_ERR_EXISTS;	/* never two orders for one request */
	if (r != TG_ERR_NOT_FOUND)
		return r;
	if (d->signkey == NULL) {
		snprintf(sc.why, sizeof(sc.why), "no co-signing key");
		goto refuse;
	}
	if ((r = signer_facts(d, id, now, &f, &dec, &change, digest, sc.why,
	    sizeof(sc.why))) != 0) {
		if (eng_transient(r))
			goto out;
		goto refuse;
	}
	sc.d = d;
	sc.digest = digest;
	sc.rp_id = d->cfg->appliance.rp_id;
	if ((r = signer_approvals(d, &f, now, &sc)) != 0) {
		if (r == TG_ERR_POLICY)
			goto refuse;
		goto out;
	}
	if (RAND_bytes(jrnd, sizeof(jrnd)) != 1) {
		snprintf(sc.why, sizeof(sc.why), "no randomness for the jti");
		goto refuse;
	}
	hex_encode(jrnd, sizeof(jrnd), jti);
	b64url_encode(digest, 32, dig64);
	doc = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:O,s:s,s:O}", "iss",
	    d->cfg->appliance.order_issuer, "aud", f.rq.pr.system, "iat",
	    (json_int_t)now, "nbf", (json_int_t)now, "exp",
	    (json_int_t)(now + dec.order_ttl_seconds), "jti", jti, "change",
	    change, "change_digest", dig64, "approvals", sc.approvals);
	if (doc == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if ((r = eng_order_anchor(d, doc)) != 0 ||
	    (r = jcs_serialize(doc, &payload, &plen)) != 0 ||
	    (r = jws_sign(d->signkey, (const uint8_t *)payload, plen, &jws,
	    &jlen)) != 0) {
		if (eng_transient(r))
			goto out;
		snprintf(sc.why, sizeof(sc.why), "the order cannot be signed: "
		    "%s", tg_strerror(r));
		goto refuse;
	}
	memset(&so, 0, sizeof(so));
	so.jti = jti;
	so.request_id = id;
	so.jws = jws;
	so.issued = now;
	so.expires = now + dec.order_ttl_seconds;
	if ((r = store_order_insert(d->st, &so)) != 0) {
		if (eng_transient(r))
			goto out;
		snprintf(sc.why, sizeof(sc.why), "the store refuses the "
		    "order (%zu bytes): %s", jlen, tg_strerror(r));
		goto refuse;
	}
	if ((r = eng_audit(d, a, "order.issued", id, json_pack(
	    "{s:s,s:I,s:s,s:s,s:i}", "jti", jti, "expires",
	    (json_int_t)so.expires, "kid", jwk_kid(d->signkey),
	    "change_digest", dig64, "approvals",
	    (int)json_array_size(sc.approvals)), now)) != 0)
		goto out;
	{
		json_t *ev = eng_event_new(d, "order.issued", id, &f.rq.pr,
		    now);

		if (ev != NULL)
			json_object_set_new(ev, "expires",
			    json_integer(so.expires));
		eng_events_add(evs, ev);
	}
	r = 0;
	goto out;
refuse:
	snprintf(why, whylen, "%s", sc.why);
	r = signer_refuse(d, a, id, sc.why, now);
out:
	json_decref(change);
	json_decref(doc);
	json_decref(sc.approvals);
	json_decref(sc.verified);
	free(payload);
	free(jws);
	eng_facts_clear(&f);
	return r;
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
	r = eng_issue_order(d, id, a, now, evs, why, sizeof(why));
	if (r == TG_ERR_POLICY) {
		/* the hooks hear of no ready request that is not signed */
		while (evs->n > nev)
			json_decref(evs->ev[--evs->n]);
		return eng_park(d, id, policy_state_name(POLICY_STATE_READY),
		    why, a, now);
	}
	return r == TG_ERR_EXISTS ? 0 : r;
}

/* The retry of a parked request: a decision, so it is parked no more. */
static int
sign_retry(struct tapgated *d, const struct engine_actor *a, const char *id,
    int64_t now)
{
	struct store_decision sd;
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
	return eng_audit(d, a, "order.retry", id, json_object(), now);
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

	if (r == TG_ERR_POLICY && dec->state == POLICY_STATE_READY)
		return (r = eng_park(d, f->row->id, f->row->state, why, a,
		    now)) == 0 ? TG_ERR_POLICY : r;
	if (r != 0 || strcmp(f->row->state, ready) == 0)
		return r;
	if ((r = store_request_set_state(d->st, f->row->id, f->row->state,
	    ready, NULL, now)) != 0)
		return r;
	return eng_audit(d, a, "request.state_changed", f->row->id,
	    json_pack("{s:s,s:s}", "from", f->row->state, "to", ready), now);
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
	int r, outcome;

	if ((r = store_begin(d->st)) != 0)
		return r;
	if (retry && dec->state == POLICY_STATE_READY &&
	    (r = sign_retry(d, a, f->row->id, now)) != 0)
		goto fail;
	r = eng_issue_order(d, f->row->id, a, now, evs, why, whylen);
	if (r != TG_ERR_EXISTS)
		r = order_outcome(d, a, f, dec, r, why, now);
	if (r != 0 && r != TG_ERR_POLICY)
		goto fail;
	outcome = r;
	if ((r = store_commit(d->st)) != 0)
		goto fail;
	return outcome;
fail:
	store_rollback(d->st);
	eng_events_clear(evs);
	return r;
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

static int
order_json(const struct store_order *o, void *arg)
{
	json_t **out = arg;

	*out = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "request_id",
	    o->request_id, "jti", o->jti, "jws", o->jws, "issued",
	    (json_int_t)o->issued, "expires", (json_int_t)o->expires,
	    "redeemed", o->redeemed != 0);
	if (*out != NULL && o->redeemed != 0)
		json_object_set_new(*out, "redeemed_at",
		    json_integer(o->redeemed));
	return *out != NULL ? 0 : TG_ERR_NOMEM;
}

int
engine_order_get(struct tapgated *d, const char *id,
    struct engine_result *res)
{
	json_t *out = NULL;
	int r;

	if (!store_request_id_valid(id)) {
		eng_error(res, 404, "not_found", "no order for that request");
		return TG_ERR_NOT_FOUND;
	}
	if ((r = store_order_by_request(d->st, id, order_json, &out)) != 0) {
		if (r == TG_ERR_NOT_FOUND)
			eng_error(res, 404, "not_found", "no order for that "
			    "request (not approved yet, refused, or unknown)");
		else
			eng_db_error(d, res, r);
		return r;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = out;
	return 0;
}

int
engine_order_redeem(struct tapgated *d, const struct engine_actor *a,
    const char *id, int64_t now, struct engine_result *res)
{
	json_t *o = NULL;
	const char *jti;
	int r;

	if ((r = engine_order_get(d, id, res)) != 0)
		return r;
	o = res->body;
	res->body = NULL;
	jti = json_string_value(json_object_get(o, "jti"));
	if (json_is_true(json_object_get(o, "redeemed"))) {
		eng_error(res, 409, "already_redeemed", "this order was "
		    "redeemed before: a replay");
		r = TG_ERR_IMMUTABLE;
	} else if (now >= json_integer_value(json_object_get(o, "expires"))) {
		eng_error(res, 409, "order_expired", "this order has expired");
		r = TG_ERR_CONFLICT;
	} else if ((r = store_begin(d->st)) != 0 ||
	    (r = store_order_redeem(d->st, jti, a->name, now)) != 0 ||
	    (r = eng_audit(d, a, "order.redeemed", id, json_pack("{s:s,s:s}",
	    "jti", jti, "by", a->name), now)) != 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		if (r == TG_ERR_IMMUTABLE)
			eng_error(res, 409, "already_redeemed", "this order "
			    "was redeemed before: a replay");
		else
			eng_db_error(d, res, r);
	} else {
		res->status = 200;
		res->body = json_pack("{s:s,s:s,s:I}", "request_id", id, "jti",
		    jti, "redeemed_at", (json_int_t)now);
	}
	if (r == TG_ERR_IMMUTABLE || r == TG_ERR_CONFLICT)
		audit_alone(d, a, "order.redeem_refused", id, json_pack(
		    "{s:s,s:s}", "jti", jti ? jti : "", "reason",
		    r == TG_ERR_IMMUTABLE ? "already redeemed" : "expired"),
		    now);
	json_decref(o);
	return r;
}

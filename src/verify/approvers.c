/* SPDX-License-Identifier: ISC */
/*
 * The pinned approvers export and the check of an order's approvals
 * against it: each approval must be a security-key assertion, with user
 * presence and user verification, by a pinned and unrevoked officer's
 * credential, over WebAuthn clientData whose challenge is this change's
 * digest.  This is what lets a downstream system see for itself that the
 * officers approved this very change, without trusting the appliance for
 * it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "verify_int.h"

#define WEBAUTHN_GET	"webauthn.get"
#define ORIGIN_PREFIX	"https://"

void
tgv_approvers_free(struct tgv_approvers **ap)
{
	struct tgv_approvers *a;
	size_t i;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].group);
		free(a->v[i].cred_id);
		EVP_PKEY_free(a->v[i].pkey);
	}
	free(a->v);
	free(a->rp_id);
	free(a->origin);
	free(a->appliance);
	free(a);
	*ap = NULL;
}

/* A string member of o that is 1..max bytes without control characters. */
static const char *
conf_str(const json_t *o, const char *name, size_t max)
{
	const json_t *v = json_object_get(o, name);
	const char *s;
	size_t i;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || i >= max)
			return NULL;
	return i > 0 ? s : NULL;
}

/* An rpId is a DNS name: lowercase letters, digits, '-' and '.'. */
static bool
is_rp_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '.'))
			return false;
	return i > 0 && i <= TGV_RP_ID_MAX;
}

/* A base64url member of o decoded into 1..max bytes, or TGV_ERR_CONFIG. */
static int
conf_b64(const json_t *o, const char *name, size_t max, uint8_t **outp,
    size_t *lenp)
{
	const json_t *v = json_object_get(o, name);
	int r;

	if (!json_is_string(v))
		return TGV_ERR_CONFIG;
	r = b64url_decode(json_string_value(v), json_string_length(v), max,
	    outp, lenp);
	if (r == TG_ERR_NOMEM)
		return TGV_ERR_NOMEM;
	if (r != 0)
		return TGV_ERR_CONFIG;
	if (*lenp == 0) {
		free(*outp);
		return TGV_ERR_CONFIG;
	}
	return 0;
}

static int
alg_from_name(const char *name)
{
	if (name != NULL && strcmp(name, "ES256") == 0)
		return TOKEN_ALG_ES256;
	if (name != NULL && strcmp(name, "EdDSA") == 0)
		return TOKEN_ALG_EDDSA;
	return 0;
}

/* Entry i of the export into *ap. */
static int
parse_approver(struct tgv_ctx *ctx, const json_t *e, size_t i,
    struct tgv_approver *ap)
{
	const char *name, *group;
	const json_t *revoked;
	uint8_t *pk = NULL;
	size_t pklen;
	int alg, r;

	if (!json_is_object(e))
		return tgv_fail(ctx, TGV_ERR_CONFIG, "approvers[%zu] is not "
		    "an object", i);
	if ((name = conf_str(e, "name", TGV_NAME_MAX)) == NULL ||
	    (group = conf_str(e, "group", TGV_NAME_MAX)) == NULL)
		return tgv_fail(ctx, TGV_ERR_CONFIG, "approvers[%zu]: name or "
		    "group missing, empty or not a plain string", i);
	if ((alg = alg_from_name(conf_str(e, "alg", 8))) == 0)
		return tgv_fail(ctx, TGV_ERR_CONFIG, "approvers[%zu]: alg is "
		    "neither ES256 nor EdDSA", i);
	revoked = json_object_get(e, "revoked");
	/* a missing flag must not read as "not revoked" */
	if (!json_is_boolean(revoked))
		return tgv_fail(ctx, TGV_ERR_CONFIG, "approvers[%zu]: revoked "
		    "is not a boolean", i);
	if ((r = conf_b64(e, "credential_id", TOKEN_CRED_ID_MAX, &ap->cred_id,
	    &ap->cred_id_len)) != 0)
		return tgv_fail(ctx, r, "approvers[%zu]: credential_id is not "
		    "base64url of 1 to %d bytes", i, TOKEN_CRED_ID_MAX);
	if ((r = conf_b64(e, "public_key", 65, &pk, &pklen)) != 0)
		return tgv_fail(ctx, r, "approvers[%zu]: public_key is not "
		    "base64url", i);
	r = tgv_pubkey_load(alg, pk, pklen, &ap->pkey);
	free(pk);
	if (r == TG_ERR_NOMEM)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	if (r != 0)
		return tgv_fail(ctx, TGV_ERR_CONFIG, "approvers[%zu]: "
		    "public_key is not a valid %s public key", i,
		    alg == TOKEN_ALG_ES256 ? "ES256" : "EdDSA");
	if ((ap->name = strdup(name)) == NULL ||
	    (ap->group = strdup(group)) == NULL)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	ap->alg = alg;
	ap->revoked = json_is_true(revoked);
	return 0;
}

int
tgv_approvers_parse(struct tgv_ctx *ctx, const char *doc, size_t len,
    struct tgv_approvers **ap)
{
	struct tgv_approvers *a = NULL;
	const char *rp_id, *appliance;
	json_t *root = NULL, *list;
	json_error_t e;
	size_t i, j, n;
	int r;

	if (len > TGV_APPROVERS_FILE_MAX)
		return tgv_fail(ctx, TGV_ERR_CONFIG, "approvers file is over "
		    "%d bytes", TGV_APPROVERS_FILE_MAX);
	if ((root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &e)) ==
	    NULL)
		return tgv_fail(ctx, TGV_ERR_CONFIG, "not JSON (line %d: %s)",
		    e.line, e.text);
	if (!json_is_object(root)) {
		r = tgv_fail(ctx, TGV_ERR_CONFIG, "not a JSON object");
		goto out;
	}
	rp_id = conf_str(root, "rp_id", TGV_RP_ID_MAX);
	if (rp_id == NULL || !is_rp_id(rp_id)) {
		r = tgv_fail(ctx, TGV_ERR_CONFIG, "rp_id is missing or not a "
		    "lowercase DNS name");
		goto out;
	}
	if ((appliance = conf_str(root, "appliance", TGV_NAME_MAX)) == NULL) {
		r = tgv_fail(ctx, TGV_ERR_CONFIG, "appliance is missing, "
		    "empty or not a plain string");
		goto out;
	}
	list = json_object_get(root, "approvers");
	if (!json_is_array(list) ||
	    (n = json_array_size(list)) > TGV_APPROVERS_MAX) {
		r = tgv_fail(ctx, TGV_ERR_CONFIG, "approvers is not an array "
		    "of at most %d entries", TGV_APPROVERS_MAX);
		goto out;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (n > 0 && (a->v = calloc(n, sizeof(*a->v))) == NULL) ||
	    (a->rp_id = strdup(rp_id)) == NULL ||
	    (a->appliance = strdup(appliance)) == NULL ||
	    asprintf(&a->origin, ORIGIN_PREFIX "%s", rp_id) == -1) {
		if (a != NULL)
			a->origin = NULL;
		r = tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
		goto out;
	}
	SHA256((const unsigned char *)rp_id, strlen(rp_id), a->rp_id_hash);
	for (i = 0; i < n; i++) {
		a->n = i + 1;	/* so that a half-filled entry is freed */
		if ((r = parse_approver(ctx, json_array_get(list, i), i,
		    &a->v[i])) != 0)
			goto out;
		/* one credential, one officer: else whose approval is it? */
		for (j = 0; j < i; j++)
			if (a->v[j].cred_id_len == a->v[i].cred_id_len &&
			    memcmp(a->v[j].cred_id, a->v[i].cred_id,
			    a->v[i].cred_id_len) == 0) {
				r = tgv_fail(ctx, TGV_ERR_CONFIG, "approvers"
				    "[%zu] and [%zu] have the same "
				    "credential_id", j, i);
				goto out;
			}
	}
	*ap = a;
	a = NULL;	/* transferred */
	r = 0;
out:
	tgv_approvers_free(&a);
	json_decref(root);
	return r;
}

static const struct tgv_approver *
find_pinned(const struct tgv_approvers *a, const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i].cred_id_len == len &&
		    CRYPTO_memcmp(a->v[i].cred_id, id, len) == 0)
			return &a->v[i];
	return NULL;
}

/*
 * The clientDataJSON of approval i, taken from the web console (it
 * carries the nonce): what a browser wrote for this change, parsed
 * strictly (common/clientdata.h), its challenge
 * base64url(SHA-256(change digest || nonce)), its type webauthn.get,
 * its origin https on the rp_id or a subdomain of it, crossOrigin false
 * if present, no topOrigin.
 */
static int
check_console_client_data(struct tgv_ctx *ctx, size_t i,
    const struct tgv_approval *ap, const char *digest_b64)
{
	char shown[TGV_SHOWN_LEN], chal[CLIENTDATA_CHALLENGE_LEN + 1];
	struct clientdata cd;
	enum clientdata_fault f;
	uint8_t *digest = NULL;
	size_t dlen = 0;
	int r;

	if ((r = clientdata_parse(ap->client_data, ap->client_data_len, &cd,
	    &f)) == TG_ERR_NOMEM)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	if (r != 0)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): %s",
		    i, tgv_shown(ap->approver, shown),
		    clientdata_fault_text(f));
	if ((r = b64url_decode(digest_b64, strlen(digest_b64), 32, &digest,
	    &dlen)) != 0 || dlen != 32) {
		free(digest);
		return tgv_fail(ctx, r == TG_ERR_NOMEM ? TGV_ERR_NOMEM :
		    TGV_ERR_MALFORMED, "change_digest is not base64url of 32 "
		    "bytes");
	}
	clientdata_challenge(digest, ap->nonce, chal);
	free(digest);
	if (strcmp(chal, cd.challenge) != 0)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "approves another change (challenge is not "
		    "SHA-256(change_digest || nonce))", i,
		    tgv_shown(ap->approver, shown));
	if (!clientdata_origin_ok(cd.origin, ctx->approvers->rp_id))
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "origin is not https on %s or a subdomain of it", i,
		    tgv_shown(ap->approver, shown), ctx->approvers->rp_id);
	return 0;
}

/*
 * The clientData of approval i must be what the appliance had the key
 * sign for this change: {"type":"webauthn.get","challenge":digest,
 * "origin":"https://" rp_id}, crossOrigin false if present.  Other
 * members are allowed, as WebAuthn allows them.
 */
static int
check_client_data(struct tgv_ctx *ctx, size_t i, const struct tgv_approval *ap,
    const char *digest_b64)
{
	char shown[TGV_SHOWN_LEN];
	const json_t *v, *cross;
	json_t *cd;
	int r = TGV_ERR_APPROVAL;

	if (ap->nonce != NULL)
		return check_console_client_data(ctx, i, ap, digest_b64);
	if ((cd = json_loadb((const char *)ap->client_data,
	    ap->client_data_len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(cd)) {
		tgv_fail(ctx, r, "approval %zu (%s): client_data is not a "
		    "JSON object", i, tgv_shown(ap->approver, shown));
		goto out;
	}
	v = json_object_get(cd, "type");
	if (!json_is_string(v) ||
	    strcmp(json_string_value(v), WEBAUTHN_GET) != 0) {
		tgv_fail(ctx, r, "approval %zu (%s): client_data type is not "
		    WEBAUTHN_GET, i, tgv_shown(ap->approver, shown));
		goto out;
	}
	v = json_object_get(cd, "challenge");
	if (!json_is_string(v) ||
	    strcmp(json_string_value(v), digest_b64) != 0) {
		tgv_fail(ctx, r, "approval %zu (%s): approves another change "
		    "(challenge is not this change_digest)", i,
		    tgv_shown(ap->approver, shown));
		goto out;
	}
	v = json_object_get(cd, "origin");
	if (!json_is_string(v) ||
	    strcmp(json_string_value(v), ctx->approvers->origin) != 0) {
		tgv_fail(ctx, r, "approval %zu (%s): origin is not %s", i,
		    tgv_shown(ap->approver, shown), ctx->approvers->origin);
		goto out;
	}
	cross = json_object_get(cd, "crossOrigin");
	if (cross != NULL && !json_is_false(cross)) {
		tgv_fail(ctx, r, "approval %zu (%s): crossOrigin is not false",
		    i, tgv_shown(ap->approver, shown));
		goto out;
	}
	r = 0;
out:
	json_decref(cd);
	return r;
}

/* Approval i: pinned credential, its officer, clientData, assertion. */
static int
check_one(struct tgv_ctx *ctx, size_t i, const struct tgv_approval *ap,
    const char *digest_b64)
{
	char s1[TGV_SHOWN_LEN], s2[TGV_SHOWN_LEN];
	const struct tgv_approvers *pins = ctx->approvers;
	const struct tgv_approver *p;
	struct tgv_assertion as;
	uint8_t cdh[SHA256_DIGEST_LENGTH];
	int r;

	if ((p = find_pinned(pins, ap->cred_id, ap->cred_id_len)) == NULL)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "credential is not among the pinned approvers", i,
		    tgv_shown(ap->approver, s1));
	if (p->revoked)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu: approver "
		    "%s is revoked", i, tgv_shown(p->name, s1));
	if (strcmp(ap->approver, p->name) != 0 ||
	    strcmp(ap->group, p->group) != 0)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu names %s "
		    "(%s), the credential is pinned to %s (%s)", i,
		    tgv_shown(ap->approver, s1), tgv_shown(ap->group, s2),
		    p->name, p->group);
	if (alg_from_name(ap->alg) != p->alg)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): alg "
		    "is not the pinned key's", i, p->name);
	if ((r = check_client_data(ctx, i, ap, digest_b64)) != 0)
		return r;
	SHA256(ap->client_data, ap->client_data_len, cdh);
	memset(&as, 0, sizeof(as));
	as.alg = p->alg;
	as.pkey = p->pkey;
	as.rp_id_hash = pins->rp_id_hash;
	as.client_data_hash = cdh;
	as.authdata = ap->authdata;
	as.authdata_len = ap->authdata_len;
	as.sig = ap->sig;
	as.sig_len = ap->sig_len;
	/* offline: no previous counter to hold this one's against */
	switch ((r = tgv_assertion_verify(&as))) {
	case 0:
		return 0;
	case TG_ERR_NOMEM:
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	case TG_ERR_RPID:
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "authenticator data is not for rpId %s", i, p->name,
		    pins->rp_id);
	case TG_ERR_FLAGS:
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "user presence or user verification missing (flags "
		    "0x%02x)", i, p->name, ap->authdata[32]);
	case TG_ERR_SIGNATURE:
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "signature does not verify with the pinned key", i,
		    p->name);
	case TG_ERR_INVALID:
	case TG_ERR_TOO_LONG:
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "authenticator data is not rpIdHash|flags|counter without "
		    "extensions, or the signature is malformed", i, p->name);
	default:
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "approval %zu (%s): "
		    "assertion refused (%s)", i, p->name, tg_strerror(r));
	}
}

int
tgv_approvals_check(struct tgv_ctx *ctx, const char *appliance,
    const char *change_digest_b64, const struct tgv_approval *a, size_t n,
    unsigned int min)
{
	char s1[TGV_SHOWN_LEN];
	const struct tgv_approvers *pins = ctx->approvers;
	size_t i, j;
	int r;

	/* the pins (and their rpId) are one appliance's */
	if (strcmp(appliance, pins->appliance) != 0)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "order is from "
		    "appliance %s, the approvers file is for %s",
		    tgv_shown(appliance, s1), pins->appliance);
	for (i = 0; i < n; i++) {
		/* M of N means M different officers and M different keys */
		for (j = 0; j < i; j++)
			if (strcmp(a[i].approver, a[j].approver) == 0 ||
			    (a[i].cred_id_len == a[j].cred_id_len &&
			    memcmp(a[i].cred_id, a[j].cred_id,
			    a[i].cred_id_len) == 0))
				return tgv_fail(ctx, TGV_ERR_APPROVAL,
				    "approvals %zu and %zu are by the same "
				    "approver or credential (%s)", j, i,
				    tgv_shown(a[i].approver, s1));
		if ((r = check_one(ctx, i, &a[i], change_digest_b64)) != 0)
			return r;
	}
	if (n < min)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "%zu approval%s, at "
		    "least %u required", n, n == 1 ? "" : "s", min);
	return 0;
}

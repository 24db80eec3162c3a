/* SPDX-License-Identifier: ISC */
/*
 * The appliance's signed revocation list (tgv_load_revocations()): read
 * strictly, held to its age, and asked by tgv_verify() for each order's
 * jti.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/jcs.h"
#include "order/jws.h"
#include "verify/verify_int.h"

#define JTI_LEN		32

static int
jti_cmp(const void *a, const void *b)
{
	return memcmp(a, b, JTI_LEN + 1);
}

static int
is_jti(const char *s, size_t n)
{
	size_t i;

	if (n != JTI_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A time as the list carries it: an integer, 0..2^53-1. */
static int
list_time(const json_t *v, int64_t *tp)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > JCS_INT_MAX)
		return -1;
	*tp = json_integer_value(v);
	return 0;
}

/* One entry {"jti","revoked_at"}, exactly: its jti into slot. */
static int
list_entry(struct tgv_ctx *ctx, const json_t *e, size_t i, char *slot)
{
	const json_t *jti;
	int64_t t;

	if (!json_is_object(e) || json_object_size(e) != 2 ||
	    !json_is_string(jti = json_object_get(e, "jti")) ||
	    list_time(json_object_get(e, "revoked_at"), &t) != 0)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: "
		    "entry %zu is not {\"jti\",\"revoked_at\"}", i);
	if (!is_jti(json_string_value(jti), json_string_length(jti)))
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: "
		    "entry %zu: jti is not 32 lower-case hex digits", i);
	memcpy(slot, json_string_value(jti), JTI_LEN + 1);
	return 0;
}

int
tgv_revocations_parse(struct tgv_ctx *ctx, const uint8_t *payload,
    size_t len, struct tgv_revocations *rl)
{
	char shown[TGV_SHOWN_LEN], *canon = NULL;
	const json_t *list;
	json_error_t e;
	json_t *root;
	size_t clen, i, n;
	int r;

	memset(rl, 0, sizeof(*rl));
	if ((root = json_loadb((const char *)payload, len,
	    JSON_REJECT_DUPLICATES, &e)) == NULL)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: "
		    "payload is not JSON (%s at byte %d)",
		    tgv_shown(e.text, shown), e.position);
	r = jcs_serialize(root, &canon, &clen);
	if (r == TG_ERR_NOMEM) {
		r = tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (r != 0 || clen != len || memcmp(canon, payload, len) != 0) {
		r = tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: "
		    "payload is not in RFC 8785 canonical form");
		goto out;
	}
	if (!json_is_object(root) || json_object_size(root) != 3 ||
	    !json_is_string(json_object_get(root, "iss")) ||
	    json_string_length(json_object_get(root, "iss")) == 0 ||
	    json_string_length(json_object_get(root, "iss")) > TGV_NAME_MAX ||
	    list_time(json_object_get(root, "iat"), &rl->iat) != 0 ||
	    !json_is_array(list = json_object_get(root, "revoked"))) {
		r = tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: not "
		    "exactly {\"iat\",\"iss\",\"revoked\":[...]}");
		goto out;
	}
	if ((n = json_array_size(list)) > TGV_REVOCATIONS_MAX) {
		r = tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: over "
		    "%d entries", TGV_REVOCATIONS_MAX);
		goto out;
	}
	if ((rl->iss = strdup(json_string_value(json_object_get(root,
	    "iss")))) == NULL ||
	    (n > 0 && (rl->jti = calloc(n, JTI_LEN + 1)) == NULL)) {
		r = tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = list_entry(ctx, json_array_get(list, i), i,
		    rl->jti[i])) != 0)
			goto out;
	rl->n = n;
	if (n > 1)
		qsort(rl->jti, n, JTI_LEN + 1, jti_cmp);
	for (i = 1; i < n; i++)
		if (memcmp(rl->jti[i - 1], rl->jti[i], JTI_LEN) == 0) {
			r = tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation "
			    "list: jti %s is listed twice", rl->jti[i]);
			goto out;
		}
	r = 0;
out:
	if (r != 0)
		tgv_revocations_clear(rl);
	free(canon);
	json_decref(root);
	return r;
}

void
tgv_revocations_clear(struct tgv_revocations *rl)
{
	free(rl->jti);
	free(rl->iss);
	memset(rl, 0, sizeof(*rl));
}

bool
tgv_revoked(const struct tgv_ctx *ctx, const char *jti)
{
	char key[JTI_LEN + 1];

	if (!ctx->revocations_loaded || jti == NULL ||
	    strlen(jti) != JTI_LEN || ctx->revocations.n == 0)
		return false;
	memcpy(key, jti, sizeof(key));
	return bsearch(key, ctx->revocations.jti, ctx->revocations.n,
	    JTI_LEN + 1, jti_cmp) != NULL;
}

/* Why the list's signature did not hold, as tgv_verify() says it. */
static int
list_signature(struct tgv_ctx *ctx, const char *doc, size_t len, int r)
{
	uint8_t *p = NULL;
	size_t plen;

	switch (r) {
	case TG_ERR_NOMEM:
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	case TG_ERR_UNKNOWN_KID:
		return tgv_fail(ctx, TGV_ERR_UNKNOWN_KID, "revocation list: "
		    "not signed by a trusted key");
	case TG_ERR_ALG_REFUSED:
	case TG_ERR_ALG_MISMATCH:
	case TG_ERR_BAD_SIGNATURE:
		return tgv_fail(ctx, TGV_ERR_BAD_SIGNATURE, "revocation "
		    "list: the signature does not verify");
	default:
		break;
	}
	/* an order, signed by a trusted key, is not a list */
	if (jws_verify(doc, len, ctx->keys, &p, &plen, NULL) == 0) {
		free(p);
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "this is an order "
		    "(typ %s), not a revocation list (typ %s)", JWS_TYP,
		    JWS_TYP_REVOCATIONS);
	}
	return tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list: not a "
	    "compact JWS with a %s header {alg,kid,typ}",
	    JWS_TYP_REVOCATIONS);
}

int
tgv_load_revocations(struct tgv_ctx *ctx, const char *doc, size_t len,
    int64_t now, int64_t max_age)
{
	struct tgv_revocations rl;
	uint8_t *payload = NULL;
	size_t plen;
	char iss[TGV_SHOWN_LEN], want[TGV_SHOWN_LEN];
	int r;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (doc == NULL && len > 0)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no revocation list");
	if (ctx->keys == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no trusted keys loaded");
	if (ctx->revocations_loaded)
		return tgv_fail(ctx, TGV_ERR_INVALID, "a revocation list is "
		    "loaded already");
	if (now < 0 || now > JCS_INT_MAX || max_age < 0 ||
	    max_age > TGV_REVOCATIONS_AGE_MAX)
		return tgv_fail(ctx, TGV_ERR_INVALID, "now or the maximum age "
		    "is out of range");
	if (len > JWS_MAX_LEN)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "revocation list is "
		    "over %d bytes", JWS_MAX_LEN);
	if ((r = jws_verify_typ(doc, len, JWS_TYP_REVOCATIONS, ctx->keys,
	    &payload, &plen, NULL)) != 0)
		return list_signature(ctx, doc, len, r);
	r = tgv_revocations_parse(ctx, payload, plen, &rl);
	free(payload);
	if (r != 0)
		return r;
	if (ctx->issuer != NULL && strcmp(rl.iss, ctx->issuer) != 0) {
		r = tgv_fail(ctx, TGV_ERR_WRONG_ISSUER, "revocation list is "
		    "from \"%s\", not \"%s\"", tgv_shown(rl.iss, iss),
		    tgv_shown(ctx->issuer, want));
		goto fail;
	}
	if (rl.iat > now + ctx->leeway) {
		r = tgv_fail(ctx, TGV_ERR_LIST_STALE, "revocation list is "
		    "from the future: issued %lld s after now (leeway %lld s)",
		    (long long)(rl.iat - now), (long long)ctx->leeway);
		goto fail;
	}
	if (now - rl.iat > max_age) {
		r = tgv_fail(ctx, TGV_ERR_LIST_STALE, "revocation list is "
		    "too old: issued %lld s ago, at most %lld s allowed; fetch "
		    "a new one", (long long)(now - rl.iat),
		    (long long)max_age);
		goto fail;
	}
	ctx->revocations = rl;
	ctx->revocations_loaded = true;
	return 0;
fail:
	tgv_revocations_clear(&rl);
	return r;
}

int
tgv_load_revocations_file(struct tgv_ctx *ctx, const char *path,
    int64_t now, int64_t max_age)
{
	char *doc = NULL;
	size_t len;
	int r;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (path == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no revocation list");
	if ((r = tgv_read_file(path, JWS_MAX_LEN + 2, &doc, &len)) != 0) {
		if (r == TGV_ERR_CONFIG)
			return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s: over %d "
			    "bytes", path, JWS_MAX_LEN);
		if (r == TGV_ERR_NOMEM)
			return tgv_fail(ctx, r, "out of memory");
		return tgv_fail(ctx, r, "%s: %s", path, strerror(errno));
	}
	/* as saved from GET /v1/revocations: one trailing newline */
	if (len > 0 && doc[len - 1] == '\n')
		len--;
	r = tgv_load_revocations(ctx, doc, len, now, max_age);
	free(doc);
	return r;
}

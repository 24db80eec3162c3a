/* SPDX-License-Identifier: ISC */
/*
 * Compact JWS orders: the RFC 8037 vector, a vector made with an
 * independent implementation, round trips for both algorithms, and each
 * way a token can be wrong, refused with its own error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "order/jwk.h"
#include "order/jws.h"
#include "tap.h"

/* RFC 8037 appendix A.1 and A.4. */
#define ED_D	"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_X	"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_KID	"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define A4_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define A4_SIG	"hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iyl" \
		"Gjg5BhVsPt9g7sVvpAr_MuM0KAg"

/*
 * The A.1 key's order token for ORDER, computed with pyca/cryptography
 * (an independent Ed25519 and base64url) over the JCS header
 * {"alg":"EdDSA","kid":ED_KID,"typ":"tapgate-order+jwt"}.
 */
#define ORDER	"{\"aud\":\"ldap.example\",\"jti\":\"6f1d\",\"request\":42}"
#define ORDER_JWS \
	"eyJhbGciOiJFZERTQSIsImtpZCI6ImtQcktfcW14VldhWVZBOXd3QkY2SXVvM3ZW" \
	"eno3VHhIQ1R3WEJ5Z3JTNGsiLCJ0eXAiOiJ0YXBnYXRlLW9yZGVyK2p3dCJ9." \
	"eyJhdWQiOiJsZGFwLmV4YW1wbGUiLCJqdGkiOiI2ZjFkIiwicmVxdWVzdCI6NDJ9." \
	"bBtFAeNDh2mAsCMkP6aBi_e1mKBab1OFwJiMtf3Isvel53V70IehAGAJ5P7wgMwf" \
	"nnlt-IdYiRhX4efUHgr5Bw"

/*
 * The same order signed with ES256 by pyca/cryptography under the RFC 7515
 * appendix A.3 key (public part below), s folded to the low half.
 */
#define EC_JWK	"{\"kty\":\"EC\",\"crv\":\"P-256\"," \
		"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
		"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"
#define ORDER_ES256_JWS \
	"eyJhbGciOiJFUzI1NiIsImtpZCI6Im9LSXl3dkdVcFRWVHl4TVEzYndJSWVRVXVk" \
	"ZnJfQ2tMTWpDRTE5RUNELVUiLCJ0eXAiOiJ0YXBnYXRlLW9yZGVyK2p3dCJ9.eyJ" \
	"hdWQiOiJsZGFwLmV4YW1wbGUiLCJqdGkiOiI2ZjFkIiwicmVxdWVzdCI6NDJ9.AS" \
	"ulSJOz3IphERRk8nhLO6kzogh1hy8eL2f-M4xk1_kbxb8DXvl4g2BOmx-QDIVnsS" \
	"DvTU9Fy8kl94zlZLRcmQ"

static struct jwk *
rfc8037_key(void)
{
	struct jwk *key = NULL;
	uint8_t *d = NULL;
	size_t n;

	if (b64url_decode(ED_D, strlen(ED_D), 32, &d, &n) == 0)
		jwk_private_import(JWK_ALG_EDDSA, d, n, &key);
	free(d);
	return key;
}

static struct jwks *
set_of(const struct jwk *a, const struct jwk *b)
{
	struct jwks *set = NULL;

	if (jwks_new(&set) != 0 || (a != NULL && jwks_add(set, a) != 0) ||
	    (b != NULL && jwks_add(set, b) != 0))
		jwks_free(&set);
	return set;
}

static char *
b64(const void *p, size_t n)
{
	char *s = NULL;

	b64url_encode_alloc(p, n, &s);
	return s;
}

/*
 * A token with any header text, properly signed by key: the refusals
 * below then owe nothing to a broken signature.
 */
static char *
forge(const struct jwk *key, const char *header, const char *payload)
{
	uint8_t sig[JWK_SIG_LEN];
	char *h, *p, *s, *out;
	size_t n;

	h = b64(header, strlen(header));
	p = b64(payload, strlen(payload));
	n = strlen(h) + strlen(p) + 2 + b64url_encoded_len(sizeof(sig)) + 1;
	out = malloc(n);
	snprintf(out, n, "%s.%s", h, p);
	if (jwk_sign(key, (const uint8_t *)out, strlen(out), sig) != 0) {
		free(out);
		out = NULL;
	} else {
		s = b64(sig, sizeof(sig));
		strcat(out, ".");
		strcat(out, s);
		free(s);
	}
	free(h);
	free(p);
	return out;
}

/* jws_verify() of a NUL-terminated token, outputs discarded. */
static int
verify(const char *tok, const struct jwks *set)
{
	uint8_t *payload = NULL;
	char *kid = NULL;
	size_t n;
	int r;

	r = jws_verify(tok, strlen(tok), set, &payload, &n, &kid);
	free(payload);
	free(kid);
	return r;
}

static int
verify_forged(const struct jwk *key, const char *header,
    const struct jwks *set)
{
	char *tok;
	int r;

	if ((tok = forge(key, header, ORDER)) == NULL)
		return -999;
	r = verify(tok, set);
	free(tok);
	return r;
}

static void
jws_rfc8037_a4_signature_is_reproduced_and_verifies(void)
{
	uint8_t sig[JWK_SIG_LEN];
	char enc[100];
	struct jwk *key;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK_EQ(jwk_sign(key, (const uint8_t *)A4_INPUT, strlen(A4_INPUT),
	    sig), 0);
	b64url_encode(sig, sizeof(sig), enc);
	CHECK(strcmp(enc, A4_SIG) == 0);
	CHECK_EQ(jwk_verify(key, (const uint8_t *)A4_INPUT, strlen(A4_INPUT),
	    sig, sizeof(sig)), 0);
	jwk_free(&key);
}

static void
jws_rfc8037_a4_token_is_refused_for_lacking_kid_and_typ(void)
{
	struct jwk *key;
	struct jwks *set;

	/* valid JOSE, but not an order: the strict reader wants kid, typ */
	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(verify(A4_INPUT "." A4_SIG, set), TG_ERR_INVALID);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_sign_matches_an_independent_implementation(void)
{
	struct jwk *key;
	struct jwks *set;
	uint8_t *payload = NULL;
	char *tok = NULL, *kid = NULL;
	size_t len, plen;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK_EQ(jws_sign(key, (const uint8_t *)ORDER, strlen(ORDER), &tok,
	    &len), 0);
	CHECK_EQ(len, strlen(ORDER_JWS));
	CHECK(strcmp(tok, ORDER_JWS) == 0);
	free(tok);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(jws_verify(ORDER_JWS, strlen(ORDER_JWS), set, &payload,
	    &plen, &kid), 0);
	CHECK_EQ(plen, strlen(ORDER));
	CHECK(memcmp(payload, ORDER, plen) == 0);
	CHECK(strcmp(kid, ED_KID) == 0);
	free(payload);
	free(kid);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_es256_token_of_an_independent_implementation_verifies(void)
{
	struct jwk *key = NULL;
	struct jwks *set = NULL;
	uint8_t *payload = NULL;
	char *kid = NULL;
	size_t plen;
	json_error_t e;
	json_t *o;

	CHECK((o = json_loads(EC_JWK, 0, &e)) != NULL);
	CHECK_EQ(jwk_from_json(o, &key), 0);
	json_decref(o);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(jws_verify(ORDER_ES256_JWS, strlen(ORDER_ES256_JWS), set,
	    &payload, &plen, &kid), 0);
	CHECK(plen == strlen(ORDER) && memcmp(payload, ORDER, plen) == 0);
	CHECK(strcmp(kid, jwk_kid(key)) == 0);
	free(payload);
	free(kid);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_round_trips_with_both_algorithms(void)
{
	static const enum jwk_alg algs[] = { JWK_ALG_EDDSA, JWK_ALG_ES256 };
	struct jwk *a = NULL, *b = NULL, *key;
	struct jwks *set = NULL;
	uint8_t *payload = NULL;
	char *tok = NULL, *kid = NULL;
	size_t i, len, plen;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &a), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &b), 0);
	CHECK((set = set_of(a, b)) != NULL);
	for (i = 0; i < 2; i++) {
		key = algs[i] == JWK_ALG_EDDSA ? a : b;
		CHECK_EQ(jws_sign(key, (const uint8_t *)ORDER, strlen(ORDER),
		    &tok, &len), 0);
		CHECK_EQ(strlen(tok), len);
		CHECK_EQ(jws_verify(tok, len, set, &payload, &plen, &kid), 0);
		CHECK(plen == strlen(ORDER) &&
		    memcmp(payload, ORDER, plen) == 0);
		CHECK(strcmp(kid, jwk_kid(key)) == 0);
		free(payload);
		free(kid);
		/* kid is optional output */
		CHECK_EQ(jws_verify(tok, len, set, &payload, &plen, NULL), 0);
		free(payload);
		free(tok);
	}
	/* an empty payload is still a payload */
	CHECK_EQ(jws_sign(a, NULL, 0, &tok, &len), 0);
	CHECK_EQ(jws_verify(tok, len, set, &payload, &plen, NULL), 0);
	CHECK_EQ(plen, 0);
	free(payload);
	free(tok);
	jwks_free(&set);
	jwk_free(&a);
	jwk_free(&b);
}

/* Flip each bit of the signature in turn: every one must be refused. */
static void
jws_signature_with_any_flipped_bit_is_refused(void)
{
	static const enum jwk_alg algs[] = { JWK_ALG_EDDSA, JWK_ALG_ES256 };
	struct jwk *key = NULL;
	struct jwks *set = NULL;
	uint8_t *sig = NULL;
	char *tok = NULL, *dot, *enc;
	size_t i, a, len, n, bad;
	int r;

	for (a = 0; a < 2; a++) {
		CHECK_EQ(jwk_generate(algs[a], &key), 0);
		CHECK((set = set_of(key, NULL)) != NULL);
		CHECK_EQ(jws_sign(key, (const uint8_t *)ORDER, strlen(ORDER),
		    &tok, &len), 0);
		dot = strrchr(tok, '.');
		CHECK_EQ(b64url_decode(dot + 1, strlen(dot + 1), 64, &sig, &n),
		    0);
		bad = 0;
		for (i = 0; i < 8 * n; i++) {
			sig[i / 8] ^= (uint8_t)(1u << (i % 8));
			b64url_encode(sig, n, dot + 1);
			bad += verify(tok, set) == TG_ERR_BAD_SIGNATURE;
			sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		b64url_encode(sig, n, dot + 1);
		CHECK_EQ(verify(tok, set), 0);	/* restored: valid again */
		/* one byte short, or one too many, is a bad signature too */
		b64url_encode(sig, n - 1, dot + 1);
		CHECK_EQ(verify(tok, set), TG_ERR_BAD_SIGNATURE);
		CHECK((enc = malloc(len + 4)) != NULL);
		memcpy(enc, tok, (size_t)(dot + 1 - tok));
		sig = realloc(sig, n + 1);
		sig[n] = 0;
		b64url_encode(sig, n + 1, enc + (dot + 1 - tok));
		r = verify(enc, set);
		free(enc);
		CHECK_EQ(r, TG_ERR_BAD_SIGNATURE);
		CHECK_EQ(bad, 8 * JWK_SIG_LEN);
		free(sig);
		free(tok);
		jwks_free(&set);
		jwk_free(&key);
	}
}

/* n - s of P-256 in place: the other valid ECDSA signature. */
static int
negate_s(uint8_t *sig)
{
	EC_GROUP *g;
	BIGNUM *s;
	int ok;

	g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	s = BN_bin2bn(sig + 32, 32, NULL);
	ok = g != NULL && s != NULL &&
	    BN_sub(s, EC_GROUP_get0_order(g), s) == 1 &&
	    BN_bn2binpad(s, sig + 32, 32) == 32;
	BN_free(s);
	EC_GROUP_free(g);
	return ok ? 0 : -1;
}

static void
jws_es256_with_the_high_s_twin_signature_is_refused(void)
{
	struct jwk *key = NULL;
	struct jwks *set = NULL;
	uint8_t *sig = NULL;
	char *tok = NULL, *dot;
	size_t len, n;

	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &key), 0);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(jws_sign(key, (const uint8_t *)ORDER, strlen(ORDER), &tok,
	    &len), 0);
	dot = strrchr(tok, '.');
	CHECK_EQ(b64url_decode(dot + 1, strlen(dot + 1), 64, &sig, &n), 0);
	CHECK_EQ(negate_s(sig), 0);
	b64url_encode(sig, n, dot + 1);
	CHECK_EQ(verify(tok, set), TG_ERR_BAD_SIGNATURE);
	free(sig);
	free(tok);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_tampered_payload_is_refused(void)
{
	struct jwk *key = NULL;
	struct jwks *set = NULL;
	char *tok = NULL, *p = NULL, *t2 = NULL, *d1, *d2;
	size_t len;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &key), 0);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(jws_sign(key, (const uint8_t *)ORDER, strlen(ORDER), &tok,
	    &len), 0);
	/* the same token with request 43 instead of 42 */
	CHECK((p = b64("{\"aud\":\"ldap.example\",\"jti\":\"6f1d\","
	    "\"request\":43}", strlen(ORDER))) != NULL);
	d1 = strchr(tok, '.');
	d2 = strchr(d1 + 1, '.');
	CHECK((t2 = malloc(len + 1)) != NULL);
	snprintf(t2, len + 1, "%.*s.%s%s", (int)(d1 - tok), tok, p, d2);
	CHECK_EQ(strlen(t2), len);
	CHECK_EQ(verify(t2, set), TG_ERR_BAD_SIGNATURE);
	free(t2);
	free(p);
	free(tok);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_alg_none_is_refused(void)
{
	struct jwk *key;
	struct jwks *set;
	char *h = NULL, *p = NULL, tok[512];

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	h = b64("{\"alg\":\"none\",\"kid\":\"" ED_KID "\",\"typ\":\""
	    JWS_TYP "\"}", strlen("{\"alg\":\"none\",\"kid\":\"" ED_KID
	    "\",\"typ\":\"" JWS_TYP "\"}"));
	p = b64(ORDER, strlen(ORDER));
	/* the unsecured form (empty signature) and a real signature */
	snprintf(tok, sizeof(tok), "%s.%s.", h, p);
	CHECK_EQ(verify(tok, set), TG_ERR_ALG_REFUSED);
	free(h);
	free(p);
	CHECK_EQ(verify_forged(key, "{\"alg\":\"none\",\"kid\":\"" ED_KID
	    "\",\"typ\":\"" JWS_TYP "\"}", set), TG_ERR_ALG_REFUSED);
	CHECK_EQ(verify_forged(key, "{\"alg\":\"None\",\"kid\":\"" ED_KID
	    "\",\"typ\":\"" JWS_TYP "\"}", set), TG_ERR_ALG_REFUSED);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_alg_hs256_keyed_by_the_public_key_is_refused(void)
{
	uint8_t mac[32], x[32], *xb = NULL;
	unsigned int maclen = sizeof(mac);
	struct jwk *key;
	struct jwks *set;
	char *h, *p, *m, tok[512];
	size_t n;

	/* the classic confusion: HMAC keyed with the published key */
	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(b64url_decode(ED_X, strlen(ED_X), 32, &xb, &n), 0);
	memcpy(x, xb, sizeof(x));
	free(xb);
	h = b64("{\"alg\":\"HS256\",\"kid\":\"" ED_KID "\",\"typ\":\""
	    JWS_TYP "\"}", strlen("{\"alg\":\"HS256\",\"kid\":\"" ED_KID
	    "\",\"typ\":\"" JWS_TYP "\"}"));
	p = b64(ORDER, strlen(ORDER));
	snprintf(tok, sizeof(tok), "%s.%s", h, p);
	CHECK(HMAC(EVP_sha256(), x, sizeof(x), (const uint8_t *)tok,
	    strlen(tok), mac, &maclen) != NULL);
	m = b64(mac, maclen);
	snprintf(tok, sizeof(tok), "%s.%s.%s", h, p, m);
	CHECK_EQ(verify(tok, set), TG_ERR_ALG_REFUSED);
	free(h);
	free(p);
	free(m);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_alg_not_matching_the_key_is_refused(void)
{
	char hdr[256];
	struct jwk *ed = NULL, *ec = NULL;
	struct jwks *set = NULL;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &ed), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &ec), 0);
	CHECK((set = set_of(ed, ec)) != NULL);
	/* signed by the Ed25519 key, claiming ES256 */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\","
	    "\"typ\":\"" JWS_TYP "\"}", jwk_kid(ed));
	CHECK_EQ(verify_forged(ed, hdr, set), TG_ERR_ALG_MISMATCH);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\","
	    "\"typ\":\"" JWS_TYP "\"}", jwk_kid(ec));
	CHECK_EQ(verify_forged(ec, hdr, set), TG_ERR_ALG_MISMATCH);
	/* and the honest headers pass, so the forge is sound */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\","
	    "\"typ\":\"" JWS_TYP "\"}", jwk_kid(ec));
	CHECK_EQ(verify_forged(ec, hdr, set), 0);
	jwks_free(&set);
	jwk_free(&ed);
	jwk_free(&ec);
}

static void
jws_with_unknown_kid_is_refused(void)
{
	struct jwk *a = NULL, *b = NULL;
	struct jwks *set = NULL;
	char *tok = NULL, hdr[256];
	size_t len;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &a), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &b), 0);
	CHECK((set = set_of(b, NULL)) != NULL);
	CHECK_EQ(jws_sign(a, (const uint8_t *)ORDER, strlen(ORDER), &tok,
	    &len), 0);
	CHECK_EQ(verify(tok, set), TG_ERR_UNKNOWN_KID);
	free(tok);
	/* a kid naming b on a token a signed is b's bad signature */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\","
	    "\"typ\":\"" JWS_TYP "\"}", jwk_kid(b));
	CHECK_EQ(verify_forged(a, hdr, set), TG_ERR_BAD_SIGNATURE);
	jwks_free(&set);
	jwk_free(&a);
	jwk_free(&b);
}

static void
jws_with_other_than_three_parts_is_refused(void)
{
	struct jwk *key;
	struct jwks *set;
	char *tok = NULL, *t2;
	size_t len;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(jws_sign(key, (const uint8_t *)ORDER, strlen(ORDER), &tok,
	    &len), 0);
	t2 = malloc(len + 8);
	snprintf(t2, len + 8, "%s.AAAA", tok);		/* four parts */
	CHECK_EQ(verify(t2, set), TG_ERR_INVALID);
	snprintf(t2, len + 8, "%s.", tok);		/* empty fourth */
	CHECK_EQ(verify(t2, set), TG_ERR_INVALID);
	*strrchr(tok, '.') = '\0';			/* two parts */
	CHECK_EQ(verify(tok, set), TG_ERR_INVALID);
	CHECK_EQ(verify("", set), TG_ERR_INVALID);
	CHECK_EQ(verify("..", set), TG_ERR_INVALID);
	free(t2);
	free(tok);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_non_canonical_base64_is_refused(void)
{
	char t[sizeof(ORDER_JWS) + 8], *d1;
	struct jwk *key;
	struct jwks *set;
	size_t hl;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(verify(ORDER_JWS, set), 0);
	d1 = strchr(ORDER_JWS, '.');
	hl = (size_t)(d1 - ORDER_JWS);
	/* "=" after the header, and the signature's own "==" padding */
	snprintf(t, sizeof(t), "%.*s=%s", (int)hl, ORDER_JWS, d1);
	CHECK_EQ(verify(t, set), TG_ERR_INVALID);
	snprintf(t, sizeof(t), "%.*s==%s", (int)hl, ORDER_JWS, d1);
	CHECK_EQ(verify(t, set), TG_ERR_INVALID);
	/* the signature padded */
	snprintf(t, sizeof(t), "%s==", ORDER_JWS);
	CHECK_EQ(verify(t, set), TG_ERR_INVALID);
	/* the standard alphabet's '/' for '_' in the signature */
	snprintf(t, sizeof(t), "%s", ORDER_JWS);
	CHECK(strrchr(t, '_') > strrchr(t, '.'));
	*strrchr(t, '_') = '/';
	CHECK_EQ(verify(t, set), TG_ERR_INVALID);
	/* whitespace inside a part */
	snprintf(t, sizeof(t), "%.*s %s", (int)hl, ORDER_JWS, d1);
	CHECK_EQ(verify(t, set), TG_ERR_INVALID);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_duplicate_header_members_is_refused(void)
{
	struct jwk *key;
	struct jwks *set;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	CHECK_EQ(verify_forged(key, "{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID
	    "\",\"typ\":\"" JWS_TYP "\"}", set), 0);
	CHECK_EQ(verify_forged(key, "{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\","
	    "\"kid\":\"" ED_KID "\",\"typ\":\"" JWS_TYP "\"}", set),
	    TG_ERR_INVALID);
	CHECK_EQ(verify_forged(key, "{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID
	    "\",\"kid\":\"other\",\"typ\":\"" JWS_TYP "\"}", set),
	    TG_ERR_INVALID);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_crit_or_key_injection_headers_is_refused(void)
{
	static const char *extra[] = {
		"\"crit\":[\"exp\"],\"exp\":1",
		"\"crit\":[]",
		"\"jku\":\"https://attacker.example/jwks.json\"",
		"\"x5u\":\"https://attacker.example/cert.pem\"",
		"\"x5c\":[\"MIIB\"]",
		"\"b64\":false",
		"\"cty\":\"JWT\"",
	};
	struct jwk *key, *evil = NULL;
	struct jwks *set;
	json_t *ej = NULL;
	char hdr[1024], *ejs = NULL;
	size_t i;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\""
		    ED_KID "\",\"typ\":\"" JWS_TYP "\",%s}", extra[i]);
		if (verify_forged(key, hdr, set) != TG_ERR_INVALID)
			printf("#   accepted %s\n", hdr);
		CHECK_EQ(verify_forged(key, hdr, set), TG_ERR_INVALID);
	}
	/* the attacker's own key embedded as "jwk", with its kid */
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &evil), 0);
	CHECK_EQ(jwk_to_json(evil, &ej), 0);
	ejs = json_dumps(ej, JSON_COMPACT);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"kid\":\"%s\","
	    "\"typ\":\"" JWS_TYP "\",\"jwk\":%s}", jwk_kid(evil), ejs);
	CHECK_EQ(verify_forged(evil, hdr, set), TG_ERR_INVALID);
	free(ejs);
	json_decref(ej);
	jwk_free(&evil);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_with_wrong_or_missing_members_is_refused(void)
{
	static const char *bad[] = {
		"{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID "\",\"typ\":\"JWT\"}",
		"{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID "\","
		    "\"typ\":\"TAPGATE-ORDER+JWT\"}",
		"{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID "\"}",
		"{\"alg\":\"EdDSA\",\"typ\":\"" JWS_TYP "\"}",
		"{\"kid\":\"" ED_KID "\",\"typ\":\"" JWS_TYP "\"}",
		"{\"alg\":[\"EdDSA\"],\"kid\":\"" ED_KID "\",\"typ\":\""
		    JWS_TYP "\"}",
		"{\"alg\":\"EdDSA\",\"kid\":7,\"typ\":\"" JWS_TYP "\"}",
		"{\"alg\":\"EdDSA\",\"kid\":null,\"typ\":\"" JWS_TYP "\"}",
		"[\"EdDSA\"]",
		"\"EdDSA\"",
		"{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID "\",\"typ\":\"" JWS_TYP
		    "\"}{}",
		"{\"alg\":\"EdDSA\",\"kid\":\"" ED_KID "\",\"typ\":\"" JWS_TYP
		    "\"",
		"",
	};
	struct jwk *key;
	struct jwks *set;
	size_t i;
	int r;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = verify_forged(key, bad[i], set);
		if (r != TG_ERR_INVALID)
			printf("#   header %s gave %d\n", bad[i], r);
		CHECK_EQ(r, TG_ERR_INVALID);
	}
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_over_64k_is_refused(void)
{
	struct jwk *key;
	struct jwks *set;
	uint8_t *payload = NULL, *out = NULL;
	char *tok = NULL, *big;
	size_t len, plen, max;
	int r;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	/* a token of JWS_MAX_LEN + 1 bytes is refused before parsing */
	big = malloc(JWS_MAX_LEN + 1);
	memset(big, 'A', JWS_MAX_LEN + 1);
	big[10] = big[20] = '.';
	r = jws_verify(big, JWS_MAX_LEN + 1, set, &out, &plen, NULL);
	free(big);
	CHECK_EQ(r, TG_ERR_TOO_LONG);
	/* the largest payload that fits signs and verifies; one more not */
	CHECK((payload = malloc(JWS_MAX_LEN)) != NULL);
	memset(payload, 'o', JWS_MAX_LEN);
	max = (JWS_MAX_LEN - 1 - 1 - b64url_encoded_len(JWK_SIG_LEN) -
	    (size_t)(strchr(ORDER_JWS, '.') - ORDER_JWS)) / 4 * 3;
	CHECK_EQ(jws_sign(key, payload, max, &tok, &len), 0);
	CHECK(len <= JWS_MAX_LEN && len > JWS_MAX_LEN - 4);
	r = jws_verify(tok, len, set, &out, &plen, NULL);
	free(tok);
	CHECK_EQ(r, 0);
	CHECK_EQ(plen, max);
	free(out);
	tok = NULL;
	CHECK_EQ(jws_sign(key, payload, max + 3, &tok, &len),
	    TG_ERR_TOO_LONG);
	CHECK(tok == NULL);
	CHECK_EQ(jws_sign(key, payload, SIZE_MAX, &tok, &len),
	    TG_ERR_TOO_LONG);
	free(payload);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_outputs_are_untouched_on_failure(void)
{
	uint8_t sentinel_p[1], *payload = sentinel_p;
	char sentinel_k[1], *kid = sentinel_k;
	size_t plen = 1234;
	struct jwk *key;
	struct jwks *set;
	char tok[sizeof(ORDER_JWS)];

	CHECK((key = rfc8037_key()) != NULL);
	CHECK((set = set_of(key, NULL)) != NULL);
	snprintf(tok, sizeof(tok), "%s", ORDER_JWS);
	tok[strlen(tok) - 3] ^= 1;	/* '5' -> '4' in the signature */
	CHECK_EQ(jws_verify(tok, strlen(tok), set, &payload, &plen, &kid),
	    TG_ERR_BAD_SIGNATURE);
	CHECK(payload == sentinel_p && kid == sentinel_k && plen == 1234);
	jwks_free(&set);
	jwk_free(&key);
}

static void
jws_sign_with_a_public_key_is_refused(void)
{
	struct jwk *key, *pub = NULL;
	char *tok = NULL;
	size_t len;

	CHECK((key = rfc8037_key()) != NULL);
	CHECK_EQ(jwk_public(key, &pub), 0);
	CHECK_EQ(jws_sign(pub, (const uint8_t *)ORDER, strlen(ORDER), &tok,
	    &len), TG_ERR_INVALID);
	CHECK(tok == NULL);
	jwk_free(&pub);
	jwk_free(&key);
}

int
main(void)
{
	RUN(jws_rfc8037_a4_signature_is_reproduced_and_verifies);
	RUN(jws_rfc8037_a4_token_is_refused_for_lacking_kid_and_typ);
	RUN(jws_sign_matches_an_independent_implementation);
	RUN(jws_es256_token_of_an_independent_implementation_verifies);
	RUN(jws_round_trips_with_both_algorithms);
	RUN(jws_signature_with_any_flipped_bit_is_refused);
	RUN(jws_es256_with_the_high_s_twin_signature_is_refused);
	RUN(jws_with_tampered_payload_is_refused);
	RUN(jws_with_alg_none_is_refused);
	RUN(jws_with_alg_hs256_keyed_by_the_public_key_is_refused);
	RUN(jws_with_alg_not_matching_the_key_is_refused);
	RUN(jws_with_unknown_kid_is_refused);
	RUN(jws_with_other_than_three_parts_is_refused);
	RUN(jws_with_non_canonical_base64_is_refused);
	RUN(jws_with_duplicate_header_members_is_refused);
	RUN(jws_with_crit_or_key_injection_headers_is_refused);
	RUN(jws_with_wrong_or_missing_members_is_refused);
	RUN(jws_over_64k_is_refused);
	RUN(jws_outputs_are_untouched_on_failure);
	RUN(jws_sign_with_a_public_key_is_refused);
	TAP_EXIT();
}

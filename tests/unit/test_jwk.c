/* SPDX-License-Identifier: ISC */
/*
 * JWK and JWKS: RFC 8037 / RFC 7515 / RFC 7638 vectors, raw private key
 * round trips, and the strict public-key and key-set parsers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "order/jwk.h"
#include "tap.h"

/* RFC 8037 appendix A.1 (private), A.2 (public) and A.3 (thumbprint). */
#define ED_D	"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_X	"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define ED_KID	"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

/* RFC 7515 appendix A.3: the ES256 key, signing input and signature. */
#define EC_X	"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define EC_Y	"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define EC_D	"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
#define EC_INPUT "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4" \
		"MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
#define EC_SIG	"DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa" \
		"8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

static int
decode32(const char *s, uint8_t out[32])
{
	uint8_t *b;
	size_t n;

	if (b64url_decode(s, strlen(s), 64, &b, &n) != 0)
		return -1;
	if (n != 32) {
		free(b);
		return -1;
	}
	memcpy(out, b, 32);
	free(b);
	return 0;
}

static int
parse_jwk(const char *text, struct jwk **keyp)
{
	json_error_t e;
	json_t *o;
	int r;

	if ((o = json_loads(text, 0, &e)) == NULL)
		return -999;	/* the test's own JSON is broken */
	r = jwk_from_json(o, keyp);
	json_decref(o);
	return r;
}

static const char *
member(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* SHA-256 + base64url of a hand-written RFC 7638 member string. */
static void
thumbprint_by_hand(const char *canonical, char out[JWK_KID_LEN + 1])
{
	uint8_t md[32];

	EVP_Digest(canonical, strlen(canonical), md, NULL, EVP_sha256(), NULL);
	b64url_encode(md, sizeof(md), out);
}

static void
jwk_rfc8037_private_key_gives_its_public_key_and_thumbprint(void)
{
	uint8_t d[32];
	struct jwk *key = NULL;
	json_t *o = NULL;

	CHECK_EQ(decode32(ED_D, d), 0);
	CHECK_EQ(jwk_private_import(JWK_ALG_EDDSA, d, sizeof(d), &key), 0);
	CHECK(jwk_has_private(key));
	CHECK(strcmp(jwk_kid(key), ED_KID) == 0);
	CHECK_EQ(jwk_to_json(key, &o), 0);
	CHECK(strcmp(member(o, "kty"), "OKP") == 0);
	CHECK(strcmp(member(o, "crv"), "Ed25519") == 0);
	CHECK(strcmp(member(o, "x"), ED_X) == 0);
	CHECK(strcmp(member(o, "kid"), ED_KID) == 0);
	CHECK(strcmp(member(o, "alg"), "EdDSA") == 0);
	CHECK(strcmp(member(o, "use"), "sig") == 0);
	CHECK(json_object_get(o, "d") == NULL);
	CHECK(json_object_get(o, "y") == NULL);
	json_decref(o);
	jwk_free(&key);
	CHECK(key == NULL);
}

static void
jwk_rfc8037_public_key_parses_to_its_thumbprint(void)
{
	struct jwk *key = NULL;
	char kid[JWK_KID_LEN + 1];

	/* the A.3 thumbprint input, written out as RFC 7638 orders it */
	thumbprint_by_hand("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\""
	    ED_X "\"}", kid);
	CHECK(strcmp(kid, ED_KID) == 0);
	CHECK_EQ(parse_jwk("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\""
	    ED_X "\"}", &key), 0);
	CHECK(!jwk_has_private(key));
	CHECK(strcmp(jwk_kid(key), ED_KID) == 0);
	CHECK_EQ(jwk_alg(key), JWK_ALG_EDDSA);
	jwk_free(&key);
}

static void
jwk_rfc7515_p256_scalar_gives_its_point_and_rfc7638_thumbprint(void)
{
	uint8_t d[32];
	char kid[JWK_KID_LEN + 1];
	struct jwk *key = NULL, *pub = NULL;
	json_t *o = NULL;

	thumbprint_by_hand("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" EC_X
	    "\",\"y\":\"" EC_Y "\"}", kid);
	CHECK_EQ(decode32(EC_D, d), 0);
	CHECK_EQ(jwk_private_import(JWK_ALG_ES256, d, sizeof(d), &key), 0);
	CHECK_EQ(jwk_alg(key), JWK_ALG_ES256);
	CHECK(strcmp(jwk_kid(key), kid) == 0);
	CHECK_EQ(jwk_to_json(key, &o), 0);
	CHECK(strcmp(member(o, "kty"), "EC") == 0);
	CHECK(strcmp(member(o, "crv"), "P-256") == 0);
	CHECK(strcmp(member(o, "x"), EC_X) == 0);
	CHECK(strcmp(member(o, "y"), EC_Y) == 0);
	CHECK(strcmp(member(o, "alg"), "ES256") == 0);
	CHECK(json_object_get(o, "d") == NULL);
	CHECK_EQ(jwk_from_json(o, &pub), 0);
	CHECK(strcmp(jwk_kid(pub), kid) == 0);
	json_decref(o);
	jwk_free(&pub);
	jwk_free(&key);
}

static void
jwk_private_key_round_trips_through_raw_bytes(void)
{
	static const enum jwk_alg algs[] = { JWK_ALG_EDDSA, JWK_ALG_ES256 };
	uint8_t raw[JWK_PRIVATE_LEN], sig[JWK_SIG_LEN];
	struct jwk *key = NULL, *back = NULL;
	size_t i;

	for (i = 0; i < 2; i++) {
		CHECK_EQ(jwk_generate(algs[i], &key), 0);
		CHECK_EQ(jwk_private_export(key, raw, sizeof(raw)), 0);
		CHECK_EQ(jwk_private_import(algs[i], raw, sizeof(raw), &back),
		    0);
		CHECK(strcmp(jwk_kid(key), jwk_kid(back)) == 0);
		/* what the rebuilt key signs, the original verifies */
		CHECK_EQ(jwk_sign(back, (const uint8_t *)"m", 1, sig), 0);
		CHECK_EQ(jwk_verify(key, (const uint8_t *)"m", 1, sig,
		    sizeof(sig)), 0);
		CHECK_EQ(jwk_verify(key, (const uint8_t *)"n", 1, sig,
		    sizeof(sig)), TG_ERR_BAD_SIGNATURE);
		jwk_free(&key);
		jwk_free(&back);
	}
}

static void
jwk_generated_keys_differ(void)
{
	struct jwk *a = NULL, *b = NULL;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &a), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &b), 0);
	CHECK(strcmp(jwk_kid(a), jwk_kid(b)) != 0);
	CHECK_EQ(strlen(jwk_kid(a)), JWK_KID_LEN);
	jwk_free(&a);
	jwk_free(&b);
}

static void
jwk_private_export_of_a_public_key_is_refused(void)
{
	uint8_t raw[JWK_PRIVATE_LEN], sig[JWK_SIG_LEN];
	struct jwk *key = NULL, *pub = NULL;

	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &key), 0);
	CHECK_EQ(jwk_public(key, &pub), 0);
	CHECK(!jwk_has_private(pub));
	CHECK(strcmp(jwk_kid(key), jwk_kid(pub)) == 0);
	CHECK_EQ(jwk_private_export(pub, raw, sizeof(raw)), TG_ERR_INVALID);
	CHECK_EQ(jwk_private_export(key, raw, sizeof(raw) - 1),
	    TG_ERR_INVALID);
	CHECK_EQ(jwk_sign(pub, (const uint8_t *)"m", 1, sig), TG_ERR_INVALID);
	jwk_free(&pub);
	jwk_free(&key);
}

static void
jwk_p256_scalar_outside_the_group_is_refused(void)
{
	/* the order n of P-256: neither n nor 0 is a private key */
	static const uint8_t n[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
		0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
	};
	uint8_t zero[32], nm1[32];
	struct jwk *key = NULL;

	memset(zero, 0, sizeof(zero));
	memcpy(nm1, n, sizeof(nm1));
	nm1[31]--;
	CHECK_EQ(jwk_private_import(JWK_ALG_ES256, n, 32, &key),
	    TG_ERR_INVALID);
	CHECK_EQ(jwk_private_import(JWK_ALG_ES256, zero, 32, &key),
	    TG_ERR_INVALID);
	CHECK(key == NULL);
	CHECK_EQ(jwk_private_import(JWK_ALG_ES256, nm1, 32, &key), 0);
	jwk_free(&key);
	CHECK_EQ(jwk_private_import(JWK_ALG_EDDSA, zero, 31, &key),
	    TG_ERR_INVALID);
}

static void
jwk_with_private_member_d_is_refused(void)
{
	struct jwk *key = NULL;

	CHECK_EQ(parse_jwk("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\""
	    ED_X "\",\"d\":\"" ED_D "\"}", &key), TG_ERR_INVALID);
	CHECK_EQ(parse_jwk("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X
	    "\",\"y\":\"" EC_Y "\",\"d\":\"" EC_D "\"}", &key),
	    TG_ERR_INVALID);
	CHECK(key == NULL);
}

static void
jwk_with_unknown_kty_or_crv_is_refused(void)
{
	static const char *bad[] = {
		"{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
		"{\"kty\":\"oct\",\"k\":\"" ED_X "\"}",
		"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" ED_X "\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" ED_X "\"}",
		"{\"kty\":\"EC\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}",
		"{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"" EC_X "\","
		    "\"y\":\"" EC_Y "\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" EC_X "\","
		    "\"y\":\"" EC_Y "\"}",
		"{\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}",
		"{\"kty\":\"OKP\",\"x\":\"" ED_X "\"}",
		"{\"kty\":1,\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}",
		"[\"OKP\"]",
	};
	struct jwk *key = NULL;
	size_t i;

	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((r = parse_jwk(bad[i], &key)) != TG_ERR_INVALID)
			printf("#   not refused as invalid: %s\n", bad[i]);
		jwk_free(&key);
		CHECK_EQ(r, TG_ERR_INVALID);
	}
}

static void
jwk_with_wrong_coordinates_is_refused(void)
{
	static const char *bad[] = {
		/* 31 and 33 bytes */
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
		    "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUQ\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "A\"}",
		/* padded, standard alphabet, non-zero trailing bits */
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "=\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
		    "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
		    "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp\"}",
		/* y where none belongs, y missing, x missing, x a number */
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\","
		    "\"y\":\"" EC_Y "\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X "\"}",
		"{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"" EC_Y "\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":7}",
		/* alg, use and kid that do not fit the key */
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\","
		    "\"alg\":\"ES256\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\","
		    "\"use\":\"enc\"}",
		"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X "\","
		    "\"kid\":\"my-key\"}",
	};
	struct jwk *key = NULL;
	size_t i;

	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((r = parse_jwk(bad[i], &key)) != TG_ERR_INVALID)
			printf("#   not refused as invalid: %s\n", bad[i]);
		jwk_free(&key);
		CHECK_EQ(r, TG_ERR_INVALID);
	}
	/* the same members, right, are accepted */
	CHECK_EQ(parse_jwk("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\""
	    ED_X "\",\"alg\":\"EdDSA\",\"use\":\"sig\",\"kid\":\"" ED_KID
	    "\",\"key_ops\":[\"verify\"]}", &key), 0);
	jwk_free(&key);
}

static void
jwk_p256_point_not_on_the_curve_is_refused(void)
{
	uint8_t y[32];
	char ys[JWK_KID_LEN + 1], text[256];
	struct jwk *key = NULL;

	CHECK_EQ(decode32(EC_Y, y), 0);
	y[31] ^= 1;
	b64url_encode(y, sizeof(y), ys);
	snprintf(text, sizeof(text), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}", EC_X, ys);
	CHECK_EQ(parse_jwk(text, &key), TG_ERR_INVALID);
	CHECK(key == NULL);
	/* x = y = 0 and coordinates >= p are no points either */
	CHECK_EQ(parse_jwk("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", &key),
	    TG_ERR_INVALID);
	CHECK_EQ(parse_jwk("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
	    "\"__________________________________________8\",\"y\":"
	    "\"" EC_Y "\"}", &key), TG_ERR_INVALID);
	/* and the unmodified point is */
	snprintf(text, sizeof(text), "{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"%s\",\"y\":\"%s\"}", EC_X, EC_Y);
	CHECK_EQ(parse_jwk(text, &key), 0);
	jwk_free(&key);
}

/* Replace the s half of sig by n - s. */
static int
negate_s(uint8_t sig[JWK_SIG_LEN])
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
jwk_es256_rfc7515_signature_verifies_only_in_low_s_form(void)
{
	uint8_t *sig = NULL;
	size_t n;
	struct jwk *key = NULL;
	int r1, r2;

	CHECK_EQ(parse_jwk("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X
	    "\",\"y\":\"" EC_Y "\"}", &key), 0);
	CHECK_EQ(b64url_decode(EC_SIG, strlen(EC_SIG), 64, &sig, &n), 0);
	CHECK_EQ(n, JWK_SIG_LEN);
	/* the RFC's s is in the high half: valid ECDSA, not canonical */
	r1 = jwk_verify(key, (const uint8_t *)EC_INPUT, strlen(EC_INPUT), sig,
	    n);
	CHECK_EQ(negate_s(sig), 0);
	r2 = jwk_verify(key, (const uint8_t *)EC_INPUT, strlen(EC_INPUT), sig,
	    n);
	sig[5] ^= 0x10;
	CHECK_EQ(jwk_verify(key, (const uint8_t *)EC_INPUT, strlen(EC_INPUT),
	    sig, n), TG_ERR_BAD_SIGNATURE);
	free(sig);
	jwk_free(&key);
	CHECK_EQ(r1, TG_ERR_BAD_SIGNATURE);
	CHECK_EQ(r2, 0);
}

static void
jwk_es256_signatures_are_low_s_and_verify(void)
{
	static const uint8_t half[32] = {
		0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00,
		0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42,
		0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
	};
	uint8_t sig[JWK_SIG_LEN];
	struct jwk *key = NULL;
	int i;

	/* half of raw ECDSA signatures are high-s: 32 draws find one */
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &key), 0);
	for (i = 0; i < 32; i++) {
		CHECK_EQ(jwk_sign(key, (const uint8_t *)&i, sizeof(i), sig), 0);
		CHECK(memcmp(sig + 32, half, 32) <= 0);
		CHECK_EQ(jwk_verify(key, (const uint8_t *)&i, sizeof(i), sig,
		    sizeof(sig)), 0);
		CHECK_EQ(jwk_verify(key, (const uint8_t *)&i, sizeof(i), sig,
		    sizeof(sig) - 1), TG_ERR_BAD_SIGNATURE);
	}
	jwk_free(&key);
}

static void
jwk_alg_names_are_an_allow_list(void)
{
	enum jwk_alg a = JWK_ALG_EDDSA;

	CHECK_EQ(jwk_alg_from_name("ES256", &a), 0);
	CHECK_EQ(a, JWK_ALG_ES256);
	CHECK_EQ(jwk_alg_from_name("EdDSA", &a), 0);
	CHECK_EQ(a, JWK_ALG_EDDSA);
	CHECK_EQ(jwk_alg_from_name("none", &a), TG_ERR_ALG_REFUSED);
	CHECK_EQ(jwk_alg_from_name("HS256", &a), TG_ERR_ALG_REFUSED);
	CHECK_EQ(jwk_alg_from_name("es256", &a), TG_ERR_ALG_REFUSED);
	CHECK_EQ(jwk_alg_from_name("", &a), TG_ERR_ALG_REFUSED);
	CHECK(strcmp(jwk_alg_name(JWK_ALG_ES256), "ES256") == 0);
	CHECK(jwk_alg_name((enum jwk_alg)7) == NULL);
}

/* A JWKS document holding the given keys, built by hand. */
static char *
jwks_text(struct jwk **keys, size_t n)
{
	json_t *root, *arr, *o;
	char *s;
	size_t i;

	root = json_object();
	arr = json_array();
	for (i = 0; i < n; i++) {
		if (jwk_to_json(keys[i], &o) != 0)
			return NULL;
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "keys", arr);
	s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return s;
}

static void
jwks_with_two_keys_finds_each(void)
{
	struct jwk *keys[2] = { NULL, NULL };
	const struct jwk *found;
	struct jwks *set = NULL;
	char *doc = NULL;
	int r;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &keys[0]), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &keys[1]), 0);
	CHECK((doc = jwks_text(keys, 2)) != NULL);
	r = jwks_parse(doc, strlen(doc), &set);
	free(doc);
	CHECK_EQ(r, 0);
	CHECK_EQ(jwks_count(set), 2);
	CHECK_EQ(jwks_find(set, jwk_kid(keys[0]), &found), 0);
	CHECK(strcmp(jwk_kid(found), jwk_kid(keys[0])) == 0);
	CHECK_EQ(jwk_alg(found), JWK_ALG_EDDSA);
	CHECK(!jwk_has_private(found));
	CHECK_EQ(jwks_find(set, jwk_kid(keys[1]), &found), 0);
	CHECK_EQ(jwk_alg(found), JWK_ALG_ES256);
	CHECK(found == jwks_key(set, 1));
	CHECK_EQ(jwks_find(set, ED_KID, &found), TG_ERR_UNKNOWN_KID);
	jwks_free(&set);
	CHECK(set == NULL);
	jwk_free(&keys[0]);
	jwk_free(&keys[1]);
}

static void
jwks_serialization_round_trips_without_private_parts(void)
{
	struct jwk *a = NULL, *b = NULL;
	struct jwks *set = NULL, *back = NULL;
	char *doc = NULL, *doc2 = NULL;
	size_t len, len2;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &a), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &b), 0);
	CHECK_EQ(jwks_new(&set), 0);
	CHECK_EQ(jwks_add(set, a), 0);
	CHECK_EQ(jwks_add(set, b), 0);
	CHECK_EQ(jwks_add(set, a), TG_ERR_INVALID);	/* same kid twice */
	CHECK_EQ(jwks_serialize(set, &doc, &len), 0);
	CHECK_EQ(strlen(doc), len);
	CHECK(strstr(doc, "\"d\"") == NULL);
	CHECK(strncmp(doc, "{\"keys\":[{", 10) == 0);
	CHECK_EQ(jwks_parse(doc, len, &back), 0);
	CHECK_EQ(jwks_count(back), 2);
	CHECK_EQ(jwks_serialize(back, &doc2, &len2), 0);
	CHECK(len == len2 && memcmp(doc, doc2, len) == 0);
	free(doc);
	free(doc2);
	jwks_free(&back);
	jwks_free(&set);
	jwk_free(&a);
	jwk_free(&b);
}

static void
jwks_refuses_more_than_32_keys(void)
{
	struct jwk *keys[JWKS_MAX_KEYS + 1];
	struct jwks *set = NULL;
	char *doc;
	size_t i;
	int r;

	memset(keys, 0, sizeof(keys));
	for (i = 0; i <= JWKS_MAX_KEYS; i++)
		CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &keys[i]), 0);
	CHECK((doc = jwks_text(keys, JWKS_MAX_KEYS + 1)) != NULL);
	r = jwks_parse(doc, strlen(doc), &set);
	free(doc);
	CHECK_EQ(r, TG_ERR_TOO_LONG);
	CHECK(set == NULL);
	CHECK((doc = jwks_text(keys, JWKS_MAX_KEYS)) != NULL);
	r = jwks_parse(doc, strlen(doc), &set);
	free(doc);
	CHECK_EQ(r, 0);
	CHECK_EQ(jwks_add(set, keys[JWKS_MAX_KEYS]), TG_ERR_TOO_LONG);
	jwks_free(&set);
	for (i = 0; i <= JWKS_MAX_KEYS; i++)
		jwk_free(&keys[i]);
}

static void
jwks_refuses_a_document_over_64k(void)
{
	struct jwk *key = NULL;
	struct jwks *set = NULL;
	char *doc, *big;
	size_t n;
	int r1, r2;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &key), 0);
	CHECK((doc = jwks_text(&key, 1)) != NULL);
	n = strlen(doc);
	/* whitespace after the value is valid JSON: only the size is wrong */
	big = malloc(JWKS_MAX_SIZE + 1);
	memcpy(big, doc, n);
	memset(big + n, ' ', JWKS_MAX_SIZE + 1 - n);
	r1 = jwks_parse(big, JWKS_MAX_SIZE + 1, &set);
	r2 = jwks_parse(big, JWKS_MAX_SIZE, &set);
	free(big);
	free(doc);
	jwk_free(&key);
	CHECK_EQ(r1, TG_ERR_TOO_LONG);
	CHECK_EQ(r2, 0);
	jwks_free(&set);
}

static void
jwks_refuses_malformed_documents(void)
{
	static const char *bad[] = {
		"",
		"[]",
		"{}",
		"{\"keys\":[]}",
		"{\"keys\":{}}",
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
		    "\"}]} x",
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
		    "\",\"x\":\"" ED_X "\"}]}",
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
		    "\"}],\"keys\":[]}",
		/* the same key twice */
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
		    "\"},{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
		    "\"}]}",
		/* one good key and one with its private half */
		"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" ED_X
		    "\"},{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" EC_X
		    "\",\"y\":\"" EC_Y "\",\"d\":\"" EC_D "\"}]}",
	};
	static const char good[] = "{\"keys\":[{\"kty\":\"OKP\","
	    "\"crv\":\"Ed25519\",\"x\":\"" ED_X "\"}]}";
	struct jwks *set = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((r = jwks_parse(bad[i], strlen(bad[i]), &set)) !=
		    TG_ERR_INVALID)
			printf("#   not refused as invalid: %s\n", bad[i]);
		jwks_free(&set);
		CHECK_EQ(r, TG_ERR_INVALID);
	}
	/* a NUL after the document is trailing data, not its end */
	CHECK_EQ(jwks_parse(good, sizeof(good), &set), TG_ERR_INVALID);
	CHECK_EQ(jwks_parse(good, sizeof(good) - 1, &set), 0);
	jwks_free(&set);
}

int
main(void)
{
	RUN(jwk_rfc8037_private_key_gives_its_public_key_and_thumbprint);
	RUN(jwk_rfc8037_public_key_parses_to_its_thumbprint);
	RUN(jwk_rfc7515_p256_scalar_gives_its_point_and_rfc7638_thumbprint);
	RUN(jwk_private_key_round_trips_through_raw_bytes);
	RUN(jwk_generated_keys_differ);
	RUN(jwk_private_export_of_a_public_key_is_refused);
	RUN(jwk_p256_scalar_outside_the_group_is_refused);
	RUN(jwk_with_private_member_d_is_refused);
	RUN(jwk_with_unknown_kty_or_crv_is_refused);
	RUN(jwk_with_wrong_coordinates_is_refused);
	RUN(jwk_p256_point_not_on_the_curve_is_refused);
	RUN(jwk_es256_rfc7515_signature_verifies_only_in_low_s_form);
	RUN(jwk_es256_signatures_are_low_s_and_verify);
	RUN(jwk_alg_names_are_an_allow_list);
	RUN(jwks_with_two_keys_finds_each);
	RUN(jwks_serialization_round_trips_without_private_parts);
	RUN(jwks_refuses_more_than_32_keys);
	RUN(jwks_refuses_a_document_over_64k);
	RUN(jwks_refuses_malformed_documents);
	TAP_EXIT();
}

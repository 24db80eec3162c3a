/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "order/jwk.h"

#define JWK_COORD_LEN	32	/* Ed25519 x; P-256 x and y */
#define JWK_EC_PUB_LEN	(1 + 2 * JWK_COORD_LEN)	/* 0x04 || x || y */
#define JWK_DER_MAX	80	/* DER ECDSA-Sig-Value over P-256: <= 72 */

struct jwk {
	EVP_PKEY	*pkey;
	enum jwk_alg	 alg;
	bool		 priv;
	uint8_t		 x[JWK_COORD_LEN];
	uint8_t		 y[JWK_COORD_LEN];	/* P-256 only */
	char		 kid[JWK_KID_LEN + 1];
};

struct jwks {
	struct jwk	*keys[JWKS_MAX_KEYS];
	size_t		 n;
};

const char *
jwk_alg_name(enum jwk_alg alg)
{
	switch (alg) {
	case JWK_ALG_EDDSA:
		return "EdDSA";
	case JWK_ALG_ES256:
		return "ES256";
	}
	return NULL;
}

int
jwk_alg_from_name(const char *name, enum jwk_alg *algp)
{
	/* An allow-list: "none", HS* and RS* never reach a key. */
	if (name != NULL && strcmp(name, "EdDSA") == 0)
		*algp = JWK_ALG_EDDSA;
	else if (name != NULL && strcmp(name, "ES256") == 0)
		*algp = JWK_ALG_ES256;
	else
		return TG_ERR_ALG_REFUSED;
	return 0;
}

static const char *
jwk_kty(enum jwk_alg alg)
{
	return alg == JWK_ALG_EDDSA ? "OKP" : "EC";
}

static const char *
jwk_crv(enum jwk_alg alg)
{
	return alg == JWK_ALG_EDDSA ? "Ed25519" : "P-256";
}

/* RFC 7638: SHA-256 over the JCS of exactly the required members. */
static int
jwk_thumbprint(const struct jwk *key, char kid[JWK_KID_LEN + 1])
{
	char x[JWK_KID_LEN + 1], y[JWK_KID_LEN + 1], *c = NULL;
	uint8_t md[32];
	json_t *o = NULL;
	size_t clen;
	int r = TG_ERR_NOMEM;

	b64url_encode(key->x, sizeof(key->x), x);
	b64url_encode(key->y, sizeof(key->y), y);
	if ((o = json_pack("{s:s, s:s, s:s}", "crv", jwk_crv(key->alg),
	    "kty", jwk_kty(key->alg), "x", x)) == NULL)
		goto out;
	if (key->alg == JWK_ALG_ES256 &&
	    json_object_set_new(o, "y", json_string(y)) != 0)
		goto out;
	if ((r = jcs_serialize(o, &c, &clen)) != 0)
		goto out;
	if (EVP_Digest(c, clen, md, NULL, EVP_sha256(), NULL) != 1) {
		r = TG_ERR_INTERNAL;
		goto out;
	}
	b64url_encode(md, sizeof(md), kid);
	r = 0;
out:
	free(c);
	json_decref(o);
	return r;
}

/* Read the public coordinates out of key->pkey and derive the kid. */
static int
jwk_finish(struct jwk *key)
{
	BIGNUM *bx = NULL, *by = NULL;
	size_t len = sizeof(key->x);
	int r = TG_ERR_INTERNAL;

	if (key->alg == JWK_ALG_EDDSA) {
		if (EVP_PKEY_get_raw_public_key(key->pkey, key->x, &len) != 1 ||
		    len != sizeof(key->x))
			goto out;
	} else {
		if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		    &bx) != 1 || EVP_PKEY_get_bn_param(key->pkey,
		    OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
		    BN_bn2binpad(bx, key->x, sizeof(key->x)) < 0 ||
		    BN_bn2binpad(by, key->y, sizeof(key->y)) < 0)
			goto out;
	}
	r = jwk_thumbprint(key, key->kid);
out:
	BN_free(bx);
	BN_free(by);
	return r;
}

/* Wrap pkey (ownership passes on success only) into a new struct jwk. */
static int
jwk_wrap(enum jwk_alg alg, EVP_PKEY *pkey, bool priv, struct jwk **keyp)
{
	struct jwk *key;
	int r;

	if ((key = calloc(1, sizeof(*key))) == NULL)
		return TG_ERR_NOMEM;
	key->alg = alg;
	key->pkey = pkey;
	key->priv = priv;
	if ((r = jwk_finish(key)) != 0) {
		free(key);
		return r;
	}
	*keyp = key;
	return 0;
}

int
jwk_generate(enum jwk_alg alg, struct jwk **keyp)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = TG_ERR_INTERNAL;

	if (jwk_alg_name(alg) == NULL)
		return TG_ERR_INVALID;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL,
	    alg == JWK_ALG_EDDSA ? "ED25519" : "EC", NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) != 1)
		goto out;
	if (alg == JWK_ALG_ES256 &&
	    EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1)
		goto out;
	if (EVP_PKEY_keygen(ctx, &pkey) != 1)
		goto out;
	if ((r = jwk_wrap(alg, pkey, true, keyp)) != 0)
		goto out;
	pkey = NULL;	/* transferred */
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * Build an EC P-256 EVP_PKEY from OSSL_PARAMs (public or key pair), then
 * have OpenSSL check the public point: on the curve, in the group.
 */
static int
jwk_ec_fromdata(OSSL_PARAM *params, int selection, EVP_PKEY **pkeyp)
{
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pkey = NULL;
	int r = TG_ERR_INTERNAL;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1) {
		r = TG_ERR_INVALID;	/* e.g. a point not on the curve */
		goto out;
	}
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_public_check(chk) != 1) {
		r = TG_ERR_INVALID;
		goto out;
	}
	*pkeyp = pkey;
	pkey = NULL;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* A public key from its raw coordinates (y ignored for Ed25519). */
static int
jwk_from_public_raw(enum jwk_alg alg, const uint8_t *x, const uint8_t *y,
    struct jwk **keyp)
{
	static char group[] = "P-256";
	uint8_t pub[JWK_EC_PUB_LEN];
	OSSL_PARAM params[3];
	EVP_PKEY *pkey = NULL;
	int r = TG_ERR_INVALID;

	if (alg == JWK_ALG_EDDSA) {
		if ((pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519",
		    NULL, x, JWK_COORD_LEN)) == NULL)
			goto out;
	} else {
		pub[0] = 0x04;	/* uncompressed point */
		memcpy(pub + 1, x, JWK_COORD_LEN);
		memcpy(pub + 1 + JWK_COORD_LEN, y, JWK_COORD_LEN);
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub));
		params[2] = OSSL_PARAM_construct_end();
		if ((r = jwk_ec_fromdata(params, EVP_PKEY_PUBLIC_KEY,
		    &pkey)) != 0)
			goto out;
	}
	if ((r = jwk_wrap(alg, pkey, false, keyp)) != 0)
		goto out;
	pkey = NULL;	/* transferred */
out:
	EVP_PKEY_free(pkey);
	return r;
}

/* The P-256 key pair of scalar raw (big endian, in [1, n-1]). */
static int
jwk_ec_private(const uint8_t *raw, EVP_PKEY **pkeyp)
{
	static char group_name[] = "P-256";
	uint8_t pub[JWK_EC_PUB_LEN], native[JWK_PRIVATE_LEN];
	EC_GROUP *group = NULL;
	EC_POINT *point = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM params[4];
	int r = TG_ERR_INTERNAL;

	if ((group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) ==
	    NULL || (d = BN_secure_new()) == NULL ||
	    BN_bin2bn(raw, JWK_PRIVATE_LEN, d) == NULL)
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
		r = TG_ERR_INVALID;
		goto out;
	}
	/*
	 * OpenSSL 3.0 does not derive the public point when importing a
	 * bare scalar, so compute it and import the pair.
	 */
	if ((point = EC_POINT_new(group)) == NULL ||
	    EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED,
	    pub, sizeof(pub), NULL) != sizeof(pub) ||
	    BN_bn2nativepad(d, native, sizeof(native)) < 0)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0);
	params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, native,
	    sizeof(native));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    pub, sizeof(pub));
	params[3] = OSSL_PARAM_construct_end();
	if (jwk_ec_fromdata(params, EVP_PKEY_KEYPAIR, pkeyp) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(native, sizeof(native));
	BN_clear_free(d);
	EC_POINT_free(point);
	EC_GROUP_free(group);
	return r;
}

int
jwk_private_import(enum jwk_alg alg, const uint8_t *raw, size_t len,
    struct jwk **keyp)
{
	EVP_PKEY *pkey = NULL;
	int r = TG_ERR_INTERNAL;

	if (jwk_alg_name(alg) == NULL || raw == NULL || len != JWK_PRIVATE_LEN)
		return TG_ERR_INVALID;
	ERR_set_mark();
	if (alg == JWK_ALG_EDDSA) {
		if ((pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519",
		    NULL, raw, len)) == NULL)
			goto out;
	} else if ((r = jwk_ec_private(raw, &pkey)) != 0)
		goto out;
	if ((r = jwk_wrap(alg, pkey, true, keyp)) != 0)
		goto out;
	pkey = NULL;	/* transferred */
out:
	EVP_PKEY_free(pkey);
	if (r != 0)
		ERR_pop_to_mark();
	else
		ERR_clear_last_mark();
	return r;
}

int
jwk_private_export(const struct jwk *key, uint8_t *out, size_t len)
{
	uint8_t buf[JWK_PRIVATE_LEN];
	BIGNUM *d = NULL;
	size_t n = sizeof(buf);
	int r = TG_ERR_INTERNAL;

	if (!key->priv || len != JWK_PRIVATE_LEN)
		return TG_ERR_INVALID;
	if (key->alg == JWK_ALG_EDDSA) {
		if (EVP_PKEY_get_raw_private_key(key->pkey, buf, &n) != 1 ||
		    n != sizeof(buf))
			goto out;
	} else {
		if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY,
		    &d) != 1 || BN_bn2binpad(d, buf, sizeof(buf)) < 0)
			goto out;
	}
	memcpy(out, buf, sizeof(buf));
	r = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	BN_clear_free(d);
	return r;
}

/*
 * Member name of o as a string: 0 with *sp NULL when absent, TG_ERR_INVALID
 * when present but not a string, or a string with an embedded NUL.
 */
static int
jwk_member_str(const json_t *o, const char *name, const char **sp)
{
	const json_t *v;

	*sp = NULL;
	if ((v = json_object_get(o, name)) == NULL)
		return 0;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return TG_ERR_INVALID;
	*sp = json_string_value(v);
	return 0;
}

/* Decode a coordinate: exactly JWK_COORD_LEN bytes, canonical base64url. */
static int
jwk_coord(const char *s, uint8_t out[JWK_COORD_LEN])
{
	uint8_t *buf = NULL;
	size_t n;

	if (s == NULL || b64url_decode(s, strlen(s), JWK_COORD_LEN, &buf,
	    &n) != 0)
		return TG_ERR_INVALID;
	if (n != JWK_COORD_LEN) {
		free(buf);
		return TG_ERR_INVALID;
	}
	memcpy(out, buf, n);
	free(buf);
	return 0;
}

int
jwk_from_json(const json_t *obj, struct jwk **keyp)
{
	const char *kty, *crv, *xs, *ys, *alg, *use, *kid;
	uint8_t x[JWK_COORD_LEN], y[JWK_COORD_LEN];
	struct jwk *key = NULL;
	enum jwk_alg a;
	int r = TG_ERR_INVALID;

	ERR_set_mark();
	if (!json_is_object(obj) || json_object_get(obj, "d") != NULL)
		goto fail;	/* a private key where a public one belongs */
	if (jwk_member_str(obj, "kty", &kty) != 0 ||
	    jwk_member_str(obj, "crv", &crv) != 0 ||
	    jwk_member_str(obj, "x", &xs) != 0 ||
	    jwk_member_str(obj, "y", &ys) != 0 ||
	    jwk_member_str(obj, "alg", &alg) != 0 ||
	    jwk_member_str(obj, "use", &use) != 0 ||
	    jwk_member_str(obj, "kid", &kid) != 0 ||
	    kty == NULL || crv == NULL)
		goto fail;
	if (strcmp(kty, "OKP") == 0 && strcmp(crv, "Ed25519") == 0)
		a = JWK_ALG_EDDSA;
	else if (strcmp(kty, "EC") == 0 && strcmp(crv, "P-256") == 0)
		a = JWK_ALG_ES256;
	else
		goto fail;
	if (jwk_coord(xs, x) != 0)
		goto fail;
	if (a == JWK_ALG_ES256) {
		if (jwk_coord(ys, y) != 0)
			goto fail;
	} else if (ys != NULL)
		goto fail;
	else
		memset(y, 0, sizeof(y));
	if ((alg != NULL && strcmp(alg, jwk_alg_name(a)) != 0) ||
	    (use != NULL && strcmp(use, "sig") != 0))
		goto fail;
	if ((r = jwk_from_public_raw(a, x, y, &key)) != 0)
		goto fail;
	/* The kid is the thumbprint by design; any other kid is a lie. */
	if (kid != NULL && strcmp(kid, key->kid) != 0) {
		r = TG_ERR_INVALID;
		goto fail;
	}
	*keyp = key;
	ERR_clear_last_mark();
	return 0;
fail:
	jwk_free(&key);
	ERR_pop_to_mark();
	return r;
}

int
jwk_to_json(const struct jwk *key, json_t **objp)
{
	char x[JWK_KID_LEN + 1], y[JWK_KID_LEN + 1];
	json_t *o;

	b64url_encode(key->x, sizeof(key->x), x);
	b64url_encode(key->y, sizeof(key->y), y);
	if ((o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	    "kty", jwk_kty(key->alg), "crv", jwk_crv(key->alg), "x", x,
	    "kid", key->kid, "alg", jwk_alg_name(key->alg), "use", "sig")) ==
	    NULL)
		return TG_ERR_NOMEM;
	if (key->alg == JWK_ALG_ES256 &&
	    json_object_set_new(o, "y", json_string(y)) != 0) {
		json_decref(o);
		return TG_ERR_NOMEM;
	}
	*objp = o;
	return 0;
}

int
jwk_public(const struct jwk *key, struct jwk **pubp)
{
	return jwk_from_public_raw(key->alg, key->x, key->y, pubp);
}

const char *
jwk_kid(const struct jwk *key)
{
	return key->kid;
}

enum jwk_alg
jwk_alg(const struct jwk *key)
{
	return key->alg;
}

bool
jwk_has_private(const struct jwk *key)
{
	return key->priv;
}

/* DER ECDSA-Sig-Value into JOSE r || s, with s folded into the low half. */
static int
jwk_der_to_jose(const uint8_t *der, size_t len, uint8_t out[JWK_SIG_LEN])
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig = NULL;
	EC_GROUP *group = NULL;
	BIGNUM *low = NULL;
	int rc = TG_ERR_INTERNAL;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if ((group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) ==
	    NULL || (low = BN_new()) == NULL ||
	    BN_rshift1(low, EC_GROUP_get0_order(group)) != 1)
		goto out;
	if (BN_cmp(s, low) > 0) {
		/* (r, n - s) is the same signature; keep the canonical one */
		if (BN_sub(low, EC_GROUP_get0_order(group), s) != 1)
			goto out;
		s = low;
	}
	if (BN_bn2binpad(r, out, JWK_SIG_LEN / 2) < 0 ||
	    BN_bn2binpad(s, out + JWK_SIG_LEN / 2, JWK_SIG_LEN / 2) < 0)
		goto out;
	rc = 0;
out:
	BN_free(low);
	EC_GROUP_free(group);
	ECDSA_SIG_free(sig);
	return rc;
}

/*
 * JOSE r || s into DER (*der, *len; freed by the caller).  TG_ERR_BAD_
 * SIGNATURE for an s in the high half: only the low one is ever produced.
 */
static int
jwk_jose_to_der(const uint8_t sig[JWK_SIG_LEN], uint8_t **derp, size_t *lenp)
{
	/* (n - 1) / 2 of P-256, big endian */
	static const uint8_t half[JWK_SIG_LEN / 2] = {
		0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00,
		0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42,
		0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
	};
	ECDSA_SIG *esig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int n, rc = TG_ERR_INTERNAL;

	/* same-length big endian: memcmp orders as the numbers do */
	if (memcmp(sig + JWK_SIG_LEN / 2, half, sizeof(half)) > 0)
		return TG_ERR_BAD_SIGNATURE;
	if ((esig = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig, JWK_SIG_LEN / 2, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + JWK_SIG_LEN / 2, JWK_SIG_LEN / 2,
	    NULL)) == NULL || ECDSA_SIG_set0(esig, r, s) != 1)
		goto out;
	r = s = NULL;	/* transferred */
	if ((n = i2d_ECDSA_SIG(esig, &der)) <= 0)
		goto out;
	*derp = der;
	*lenp = (size_t)n;
	der = NULL;
	rc = 0;
out:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(esig);
	return rc;
}

int
jwk_sign(const struct jwk *key, const uint8_t *msg, size_t len,
    uint8_t sig[JWK_SIG_LEN])
{
	uint8_t der[JWK_DER_MAX], out[JWK_SIG_LEN];
	EVP_MD_CTX *ctx = NULL;
	size_t n;
	int r = TG_ERR_INTERNAL;

	if (!key->priv)
		return TG_ERR_INVALID;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(ctx, NULL,
	    key->alg == JWK_ALG_EDDSA ? NULL : "SHA256", NULL, NULL,
	    key->pkey, NULL) != 1)
		goto out;
	if (key->alg == JWK_ALG_EDDSA) {
		n = sizeof(out);
		if (EVP_DigestSign(ctx, out, &n, msg, len) != 1 ||
		    n != sizeof(out))
			goto out;
	} else {
		n = sizeof(der);
		if (EVP_DigestSign(ctx, der, &n, msg, len) != 1 ||
		    jwk_der_to_jose(der, n, out) != 0)
			goto out;
	}
	memcpy(sig, out, sizeof(out));
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
jwk_verify(const struct jwk *key, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int r = TG_ERR_INTERNAL;

	if (siglen != JWK_SIG_LEN)
		return TG_ERR_BAD_SIGNATURE;
	ERR_set_mark();
	if (key->alg == JWK_ALG_ES256 &&
	    (r = jwk_jose_to_der(sig, &der, &derlen)) != 0)
		goto out;
	r = TG_ERR_INTERNAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(ctx, NULL,
	    key->alg == JWK_ALG_EDDSA ? NULL : "SHA256", NULL, NULL,
	    key->pkey, NULL) != 1)
		goto out;
	if (key->alg == JWK_ALG_EDDSA)
		r = EVP_DigestVerify(ctx, sig, siglen, msg, len);
	else
		r = EVP_DigestVerify(ctx, der, derlen, msg, len);
	r = r == 1 ? 0 : TG_ERR_BAD_SIGNATURE;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	ERR_pop_to_mark();	/* a refused signature is no library error */
	return r;
}

void
jwk_free(struct jwk **keyp)
{
	if (keyp == NULL || *keyp == NULL)
		return;
	/* EVP_PKEY_free() wipes the private half itself */
	EVP_PKEY_free((*keyp)->pkey);
	free(*keyp);
	*keyp = NULL;
}

int
jwks_new(struct jwks **setp)
{
	struct jwks *set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return TG_ERR_NOMEM;
	*setp = set;
	return 0;
}

void
jwks_free(struct jwks **setp)
{
	size_t i;

	if (setp == NULL || *setp == NULL)
		return;
	for (i = 0; i < (*setp)->n; i++)
		jwk_free(&(*setp)->keys[i]);
	free(*setp);
	*setp = NULL;
}

/* Take ownership of key on success. */
static int
jwks_put(struct jwks *set, struct jwk *key)
{
	const struct jwk *dup;

	if (jwks_find(set, key->kid, &dup) == 0)
		return TG_ERR_INVALID;
	if (set->n == JWKS_MAX_KEYS)
		return TG_ERR_TOO_LONG;
	set->keys[set->n++] = key;
	return 0;
}

int
jwks_add(struct jwks *set, const struct jwk *key)
{
	struct jwk *pub = NULL;
	int r;

	if ((r = jwk_public(key, &pub)) != 0)
		return r;
	if ((r = jwks_put(set, pub)) != 0)
		jwk_free(&pub);
	return r;
}

int
jwks_parse(const char *doc, size_t len, struct jwks **setp)
{
	struct jwks *set = NULL;
	struct jwk *key = NULL;
	json_error_t e;
	json_t *root = NULL, *keys, *k;
	size_t i;
	int r = TG_ERR_INVALID;

	if (doc == NULL)
		return TG_ERR_INVALID;
	if (len > JWKS_MAX_SIZE)
		return TG_ERR_TOO_LONG;
	/* jansson refuses trailing data and NUL in strings by default */
	if ((root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &e)) ==
	    NULL || !json_is_object(root) ||
	    (keys = json_object_get(root, "keys")) == NULL ||
	    !json_is_array(keys) || json_array_size(keys) == 0)
		goto fail;
	if (json_array_size(keys) > JWKS_MAX_KEYS) {
		r = TG_ERR_TOO_LONG;
		goto fail;
	}
	if ((r = jwks_new(&set)) != 0)
		goto fail;
	json_array_foreach(keys, i, k) {
		if ((r = jwk_from_json(k, &key)) != 0 ||
		    (r = jwks_put(set, key)) != 0)
			goto fail;
		key = NULL;	/* transferred */
	}
	json_decref(root);
	*setp = set;
	return 0;
fail:
	jwk_free(&key);
	jwks_free(&set);
	json_decref(root);
	return r;
}

int
jwks_serialize(const struct jwks *set, char **docp, size_t *lenp)
{
	json_t *root = NULL, *keys, *k;
	size_t i;
	int r = TG_ERR_NOMEM;

	if ((root = json_object()) == NULL || (keys = json_array()) == NULL ||
	    json_object_set_new(root, "keys", keys) != 0)
		goto out;
	for (i = 0; i < set->n; i++) {
		if ((r = jwk_to_json(set->keys[i], &k)) != 0)
			goto out;
		if (json_array_append_new(keys, k) != 0) {
			r = TG_ERR_NOMEM;
			goto out;
		}
	}
	r = jcs_serialize(root, docp, lenp);
out:
	json_decref(root);
	return r;
}

size_t
jwks_count(const struct jwks *set)
{
	return set->n;
}

const struct jwk *
jwks_key(const struct jwks *set, size_t i)
{
	return i < set->n ? set->keys[i] : NULL;
}

int
jwks_find(const struct jwks *set, const char *kid, const struct jwk **keyp)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (strcmp(set->keys[i]->kid, kid) == 0) {
			*keyp = set->keys[i];
			return 0;
		}
	}
	return TG_ERR_UNKNOWN_KID;
}

int
jwk_kid_ok(const char *kid)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";

	return kid != NULL && strlen(kid) == JWK_KID_LEN &&
	    strspn(kid, b64url) == JWK_KID_LEN;
}

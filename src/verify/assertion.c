/* SPDX-License-Identifier: ISC */
/*
 * An officer's security-key assertion, checked with OpenSSL alone: the
 * checks token_verify_assertion() (src/token) makes through libfido2 --
 * the bounds, the authenticator data's exact shape, rpIdHash, UP and UV,
 * the signature over authData || clientDataHash -- without the counter,
 * which an offline verifier never saw.  libfido2's verification is a thin
 * layer over the same OpenSSL calls; doing them here keeps libfido2,
 * libcbor and libudev out of every downstream process, and the pinned
 * keys are made into EVP_PKEYs once, when the approvers file is loaded,
 * rather than for every order.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/errors.h"
#include "verify_int.h"

/* rpIdHash | flags | counter: an assertion without extensions */
#define AUTHDATA_LEN	(32 + 1 + 4)
#define P256_POINT_LEN	65	/* 04 || x || y */
#define ED25519_PK_LEN	32

static int
p256_load(const uint8_t *raw, size_t len, EVP_PKEY **pkeyp)
{
	static char group[] = "P-256";
	uint8_t point[P256_POINT_LEN];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx = NULL, *check = NULL;
	EVP_PKEY *pkey = NULL;
	int r = TG_ERR_INVALID;

	/* x || y as the export holds it, or the uncompressed point */
	if (len == P256_POINT_LEN - 1) {
		point[0] = 0x04;
		memcpy(point + 1, raw, len);
	} else if (len == P256_POINT_LEN && raw[0] == 0x04)
		memcpy(point, raw, len);
	else
		return TG_ERR_INVALID;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
	params[2] = OSSL_PARAM_construct_end();
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/*
	 * A point off the curve, or at infinity, must never become a key
	 * (libfido2 refuses them too).  P-256 has cofactor 1: a point on
	 * the curve is in the group, and the quick check is the whole one.
	 */
	if ((check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check_quick(check) != 1)
		goto out;
	*pkeyp = pkey;
	pkey = NULL;	/* transferred */
	r = 0;
out:
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pkey);
	return r;
}

int
tgv_pubkey_load(int alg, const uint8_t *raw, size_t len, EVP_PKEY **pkeyp)
{
	EVP_PKEY *pkey;

	if (raw == NULL || pkeyp == NULL)
		return TG_ERR_INVALID;
	switch (alg) {
	case TOKEN_ALG_ES256:
		return p256_load(raw, len, pkeyp);
	case TOKEN_ALG_EDDSA:
		if (len != ED25519_PK_LEN)
			return TG_ERR_INVALID;
		if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    raw, len)) == NULL)
			return TG_ERR_INVALID;
		*pkeyp = pkey;
		return 0;
	default:
		return TG_ERR_UNSUPPORTED;
	}
}

/* The signature over msg: ES256 (DER, SHA-256) or EdDSA (the message). */
static int
sig_verify(const struct tgv_assertion *a, const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *md;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return TG_ERR_NOMEM;
	if (EVP_DigestVerifyInit(md, NULL, a->alg == TOKEN_ALG_ES256 ?
	    EVP_sha256() : NULL, NULL, a->pkey) != 1) {
		EVP_MD_CTX_free(md);
		return TG_ERR_INTERNAL;
	}
	/* OpenSSL's ECDSA refuses DER that does not re-encode exactly */
	ok = EVP_DigestVerify(md, a->sig, a->sig_len, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : TG_ERR_SIGNATURE;
}

int
tgv_assertion_verify(const struct tgv_assertion *a)
{
	uint8_t msg[AUTHDATA_LEN + TOKEN_CDH_LEN], flags;

	if (a == NULL || a->pkey == NULL || a->rp_id_hash == NULL ||
	    a->client_data_hash == NULL || a->authdata == NULL ||
	    a->sig == NULL)
		return TG_ERR_INVALID;
	if (a->alg != TOKEN_ALG_ES256 && a->alg != TOKEN_ALG_EDDSA)
		return TG_ERR_UNSUPPORTED;
	if (a->authdata_len > TOKEN_AUTHDATA_MAX || a->sig_len > TOKEN_SIG_MAX)
		return TG_ERR_TOO_LONG;
	if (a->authdata_len < AUTHDATA_LEN || a->sig_len == 0)
		return TG_ERR_INVALID;
	flags = a->authdata[32];
	/* no extension is ever requested, and an assertion attests nothing */
	if ((flags & (TOKEN_FLAG_ED | TOKEN_FLAG_AT)) != 0 ||
	    a->authdata_len != AUTHDATA_LEN)
		return TG_ERR_INVALID;
	if (CRYPTO_memcmp(a->authdata, a->rp_id_hash, 32) != 0)
		return TG_ERR_RPID;
	if ((flags & (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) !=
	    (TOKEN_FLAG_UP | TOKEN_FLAG_UV))
		return TG_ERR_FLAGS;
	memcpy(msg, a->authdata, AUTHDATA_LEN);
	memcpy(msg + AUTHDATA_LEN, a->client_data_hash, TOKEN_CDH_LEN);
	return sig_verify(a, msg, sizeof(msg));
}

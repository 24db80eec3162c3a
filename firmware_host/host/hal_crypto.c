/* SPDX-License-Identifier: ISC */
/*
 * The crypto, RNG and provisioning half of softfido's HAL on a POSIX host:
 * OpenSSL 3 EVP only.  Keys cross the HAL as raw scalars and points; every
 * EVP_PKEY made from them lives for one call and is freed before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "hal.h"
#include "provision.h"

/*
 * The void hash calls have no error path the core could act on, and a
 * silently zeroed MAC could be forged: a failure here is a broken
 * invariant (the OpenSSL default provider is missing), so stop.
 */
static void
crypto_fatal(const char *what)
{
	fprintf(stderr, "softfido: %s failed\n", what);
	abort();
}

int
hal_rng(void *buf, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return -1;
	return 0;
}

void
hal_sha256(const void *msg, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(msg, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		crypto_fatal("SHA-256");
}

void
hal_hmac_sha256(const uint8_t *key, size_t keylen, const void *msg,
    size_t len, uint8_t out[32])
{
	size_t n = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, msg,
	    len, out, 32, &n) == NULL || n != 32)
		crypto_fatal("HMAC-SHA-256");
}

int
hal_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const char *info, uint8_t out[32])
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = 32;
	int r = -1;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "HKDF", NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)saltlen) != 1 ||
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, (int)ikmlen) != 1 ||
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info,
	    (int)strlen(info)) != 1 ||
	    EVP_PKEY_derive(ctx, out, &n) != 1 || n != 32)
		goto fail;
	r = 0;
fail:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int
hal_aes256_cbc(int encrypt, const uint8_t key[32], const uint8_t iv[16],
    const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0, r = -1;

	if (len % 16 != 0 || len > INT32_MAX)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv,
	    encrypt ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len)
		goto fail;
	r = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

/*
 * An EVP_PKEY for a P-256 key from its parts: the private scalar and/or the
 * uncompressed point 04||x||y.  OpenSSL refuses a point off the curve.
 */
static EVP_PKEY *
p256_pkey(const uint8_t *priv, const uint8_t *pub)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	uint8_t point[65];
	int sel;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0))
		goto fail;
	if (priv != NULL) {
		if ((d = BN_secure_new()) == NULL ||
		    BN_bin2bn(priv, 32, d) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
			goto fail;
	}
	if (pub != NULL) {
		point[0] = 0x04;
		memcpy(point + 1, pub, 64);
		if (!OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
			goto fail;
	}
	sel = priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, sel, params) != 1)
		goto fail;
fail:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return pkey;
}

int
hal_p256_keygen(uint8_t priv[32], uint8_t pub[64])
{
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	uint8_t point[65];
	size_t n = 0;
	int r = -1;

	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
	    BN_bn2binpad(d, priv, 32) != 32 ||
	    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
	    point, sizeof(point), &n) != 1 || n != 65 || point[0] != 0x04)
		goto fail;
	memcpy(pub, point + 1, 64);
	r = 0;
fail:
	if (r != 0)
		OPENSSL_cleanse(priv, 32);
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	return r;
}

/* ECDSA or EdDSA (md NULL) with pkey; *siglen in: capacity, out: used. */
static int
pkey_sign(EVP_PKEY *pkey, const EVP_MD *md, const void *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	size_t n = 0;
	int r = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(ctx, NULL, md == NULL ? NULL :
	    EVP_MD_get0_name(md), NULL, NULL, pkey, NULL) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, msg, len) != 1 || n > *siglen)
		goto fail;
	n = *siglen;
	if (EVP_DigestSign(ctx, sig, &n, msg, len) != 1)
		goto fail;
	*siglen = n;
	r = 0;
fail:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
hal_p256_sign(const uint8_t priv[32], const void *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_PKEY *pkey;
	int r;

	if ((pkey = p256_pkey(priv, NULL)) == NULL)
		return -1;
	r = pkey_sign(pkey, EVP_sha256(), msg, len, sig, siglen);
	EVP_PKEY_free(pkey);
	return r;
}

int
hal_p256_ecdh(const uint8_t priv[32], const uint8_t peer[64], uint8_t z[32])
{
	EVP_PKEY *mine = NULL, *theirs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = 32;
	int r = -1;

	if ((mine = p256_pkey(priv, NULL)) == NULL ||
	    (theirs = p256_pkey(NULL, peer)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, theirs, 1) != 1 ||
	    EVP_PKEY_derive(ctx, z, &n) != 1 || n != 32)
		goto fail;
	r = 0;
fail:
	if (r != 0)
		OPENSSL_cleanse(z, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(theirs);
	EVP_PKEY_free(mine);
	return r;
}

int
hal_ed25519_keygen(uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *pkey = NULL;
	size_t n = 32;
	int r = -1;

	if (hal_rng(priv, 32) != 0 ||
	    (pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv,
	    32)) == NULL ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &n) != 1 || n != 32)
		goto fail;
	r = 0;
fail:
	if (r != 0)
		OPENSSL_cleanse(priv, 32);
	EVP_PKEY_free(pkey);
	return r;
}

int
hal_ed25519_sign(const uint8_t priv[32], const void *msg, size_t len,
    uint8_t sig[64])
{
	EVP_PKEY *pkey;
	size_t n = 64;
	int r = -1;

	if ((pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv,
	    32)) == NULL)
		return -1;
	if (pkey_sign(pkey, NULL, msg, len, sig, &n) == 0 && n == 64)
		r = 0;
	EVP_PKEY_free(pkey);
	return r;
}

const uint8_t *
hal_aaguid(void)
{
	return softfido_aaguid;
}

const uint8_t *
hal_attest_cert(size_t *len)
{
	*len = softfido_attest_cert_der_len;
	return softfido_attest_cert_der;
}

int
hal_attest_sign(const void *msg, size_t len, uint8_t *sig, size_t *siglen)
{
	const unsigned char *p = softfido_attest_key_der;
	EVP_PKEY *pkey;
	int r = -1;

	if (softfido_attest_key_der_len > INT32_MAX ||
	    (pkey = d2i_AutoPrivateKey(NULL, &p,
	    (long)softfido_attest_key_der_len)) == NULL)
		return -1;
	if (EVP_PKEY_is_a(pkey, "EC") &&
	    p == softfido_attest_key_der + softfido_attest_key_der_len)
		r = pkey_sign(pkey, EVP_sha256(), msg, len, sig, siglen);
	EVP_PKEY_free(pkey);
	return r;
}

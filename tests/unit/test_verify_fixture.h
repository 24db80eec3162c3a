/* SPDX-License-Identifier: ISC */
/*
 * Orders made the way tapgated makes them, for the tests of
 * libtapgate-verify (tests/unit/test_verify.c), the files the CLI test
 * drives (tests/e2e/e2e_verify_fixture.c) and the fuzz harness
 * (tests/fuzz/fuzz_order.c): an appliance key (src/order), a change
 * document, and officers' approvals made the way a FIDO2 key makes
 * assertions, with OpenSSL directly rather than with the code under test:
 * authData = SHA-256(rpId) | flags | counter, signature over authData ||
 * SHA-256(clientData), ES256 as DER over SHA-256, EdDSA raw.
 *
 * Every key is derived from a fixed seed, so that the stored fuzz corpus
 * keeps matching the harness's keys.  Functions return 0 / NULL on
 * failure; callers check.
 */
#ifndef TAPGATE_TEST_VERIFY_FIXTURE_H
#define TAPGATE_TEST_VERIFY_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/jcs.h"
#include "order/jwk.h"
#include "order/jws.h"
#include "token/token.h"

/* Not every user of this header calls every helper. */
#define FX_FN	static __attribute__((unused))

#define FX_RP_ID	"tapgate.local"
#define FX_ORIGIN	"https://" FX_RP_ID
#define FX_CONSOLE_ORIGIN "https://console." FX_RP_ID ":8443"
#define FX_APPLIANCE	"tapgate-01"
#define FX_ISS		"tapgate-01"
#define FX_AUD		"ldap-corp"
#define FX_JTI		"0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define FX_REQUEST_ID	"aa00bb11cc22dd33ee44ff5566778899"
#define FX_NOW		1800000000LL	/* a fixed "now" */
#define FX_IAT		(FX_NOW - 120)
#define FX_NBF		(FX_NOW - 60)
#define FX_EXP		(FX_NOW + 600)
#define FX_FLAGS_OK	(TOKEN_FLAG_UP | TOKEN_FLAG_UV)
#define FX_KEY_LABEL	"tapgate fixture appliance"
#define FX_ES256_LABEL	"tapgate fixture appliance es256"

/* An officer's security-key credential. */
struct fx_key {
	char		 name[32];
	char		 group[32];
	int		 alg;		/* TOKEN_ALG_ES256 or TOKEN_ALG_EDDSA */
	EVP_PKEY	*pkey;
	uint8_t		 cred_id[16];
	uint8_t		 pub[64];	/* ES256 x||y, EdDSA 32 bytes */
	size_t		 publen;
	bool		 revoked;	/* as the approvers export says */
};

/* 32 bytes of SHA-256(label), the seed of every fixture key. */
FX_FN void
fx_seed(const char *label, uint8_t seed[32])
{
	SHA256((const unsigned char *)label, strlen(label), seed);
}

/* A P-256 key pair whose private scalar is seed. */
FX_FN EVP_PKEY *
fx_p256(const uint8_t seed[32], uint8_t pub[65])
{
	EC_GROUP *g = NULL;
	EC_POINT *p = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pkey = NULL;

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (p = EC_POINT_new(g)) == NULL ||
	    (d = BN_bin2bn(seed, 32, NULL)) == NULL ||
	    EC_POINT_mul(g, p, d, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, 65,
	    NULL) != 65 ||
	    (b = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    65) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(b)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_clear_free(d);
	EC_POINT_free(p);
	EC_GROUP_free(g);
	return pkey;
}

/* An officer's credential from the seed "label". */
FX_FN int
fx_key_init(struct fx_key *k, const char *name, const char *group, int alg,
    const char *label)
{
	uint8_t seed[32], pub[65];
	size_t n = sizeof(k->pub);

	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->group, sizeof(k->group), "%s", group);
	k->alg = alg;
	fx_seed(label, seed);
	memcpy(k->cred_id, seed + 16, sizeof(k->cred_id));
	if (alg == TOKEN_ALG_ES256) {
		if ((k->pkey = fx_p256(seed, pub)) == NULL)
			return -1;
		memcpy(k->pub, pub + 1, 64);
		k->publen = 64;
	} else {
		if ((k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
		    NULL, seed, 32)) == NULL ||
		    EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &n) != 1)
			return -1;
		k->publen = n;
	}
	return 0;
}

FX_FN void
fx_key_clear(struct fx_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

/* authenticatorData of an assertion: SHA-256(rp_id) | flags | counter. */
FX_FN void
fx_authdata(uint8_t ad[37], const char *rp_id, uint8_t flags,
    uint32_t counter)
{
	SHA256((const unsigned char *)rp_id, strlen(rp_id), ad);
	ad[32] = flags;
	ad[33] = (uint8_t)(counter >> 24);
	ad[34] = (uint8_t)(counter >> 16);
	ad[35] = (uint8_t)(counter >> 8);
	ad[36] = (uint8_t)counter;
}

/* Sign authData || SHA-256(clientData) as a FIDO2 key does. */
FX_FN int
fx_fido_sign(const struct fx_key *k, const uint8_t *ad, size_t adlen,
    const char *client_data, uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *md = NULL;
	uint8_t msg[1100];
	int ok;

	if (adlen > sizeof(msg) - 32)
		return -1;
	memcpy(msg, ad, adlen);
	SHA256((const unsigned char *)client_data, strlen(client_data),
	    msg + adlen);
	ok = (md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(md, NULL, k->alg == TOKEN_ALG_ES256 ?
	    EVP_sha256() : NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(md, sig, siglen, msg, adlen + 32) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* The clientData tapgated has the key sign, challenge = change digest. */
FX_FN void
fx_client_data(char *out, size_t len, const char *type,
    const char *challenge, const char *origin)
{
	snprintf(out, len, "{\"type\":\"%s\",\"challenge\":\"%s\","
	    "\"origin\":\"%s\",\"crossOrigin\":false}", type, challenge,
	    origin);
}

/*
 * The clientDataJSON a browser writes for a console approval: challenge
 * base64url(SHA-256(digest || nonce)), computed here on its own.
 */
FX_FN void
fx_console_client_data(char *out, size_t len, const char *digest_b64,
    const uint8_t nonce[32], const char *origin)
{
	uint8_t buf[64], h[32], *d = NULL;
	size_t dlen = 0;
	char chal[44];

	memset(buf, 0, sizeof(buf));
	if (b64url_decode(digest_b64, strlen(digest_b64), 32, &d,
	    &dlen) == 0 && dlen == 32)
		memcpy(buf, d, 32);
	free(d);
	memcpy(buf + 32, nonce, 32);
	SHA256(buf, sizeof(buf), h);
	b64url_encode(h, sizeof(h), chal);
	fx_client_data(out, len, "webauthn.get", chal, origin);
}

/* How an approval is made; fx_approval_opts_default() is a good one. */
struct fx_approval_opts {
	const char		*rp_id;		/* hashed into authData */
	uint8_t			 flags;
	uint32_t		 counter;
	const char		*client_data;	/* NULL: the right one */
	const struct fx_key	*signer;	/* NULL: the credential's */
	const char		*name;		/* NULL: the credential's */
	const char		*group;
	const uint8_t		*nonce;		/* 32 bytes: an approval from
						   the console; NULL: the box */
};

FX_FN struct fx_approval_opts
fx_approval_opts_default(void)
{
	struct fx_approval_opts o;

	memset(&o, 0, sizeof(o));
	o.rp_id = FX_RP_ID;
	o.flags = FX_FLAGS_OK;
	o.counter = 42;
	return o;
}

FX_FN char *
fx_b64(const uint8_t *p, size_t n)
{
	char *s = NULL;

	if (b64url_encode_alloc(p, n, &s) != 0)
		return NULL;
	return s;
}

/* base64url(SHA-256(JCS(change))) into out (44 bytes). */
FX_FN int
fx_change_digest(const json_t *change, char out[44])
{
	uint8_t d[32];
	char *c = NULL;
	size_t n;

	if (jcs_serialize(change, &c, &n) != 0)
		return -1;
	SHA256((const unsigned char *)c, n, d);
	free(c);
	b64url_encode(d, sizeof(d), out);
	return 0;
}

/* One approval object of the order, by credential k, for digest. */
FX_FN json_t *
fx_approval(const struct fx_key *k, const char *digest_b64,
    const struct fx_approval_opts *o)
{
	const struct fx_key *signer = o->signer != NULL ? o->signer : k;
	char cd[512], *id = NULL, *adb = NULL, *cdb = NULL, *sb = NULL;
	uint8_t ad[37], sig[128];
	size_t siglen = sizeof(sig);
	json_t *a = NULL;

	if (o->client_data != NULL)
		snprintf(cd, sizeof(cd), "%s", o->client_data);
	else if (o->nonce != NULL)
		fx_console_client_data(cd, sizeof(cd), digest_b64, o->nonce,
		    FX_CONSOLE_ORIGIN);
	else
		fx_client_data(cd, sizeof(cd), "webauthn.get", digest_b64,
		    FX_ORIGIN);
	fx_authdata(ad, o->rp_id, o->flags, o->counter);
	if (fx_fido_sign(signer, ad, sizeof(ad), cd, sig, &siglen) == 0 &&
	    (id = fx_b64(k->cred_id, sizeof(k->cred_id))) != NULL &&
	    (adb = fx_b64(ad, sizeof(ad))) != NULL &&
	    (cdb = fx_b64((const uint8_t *)cd, strlen(cd))) != NULL &&
	    (sb = fx_b64(sig, siglen)) != NULL)
		a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "approver", o->name != NULL ? o->name : k->name,
		    "group", o->group != NULL ? o->group : k->group,
		    "credential_id", id,
		    "alg", k->alg == TOKEN_ALG_ES256 ? "ES256" : "EdDSA",
		    "authenticator_data", adb, "client_data", cdb,
		    "signature", sb);
	free(id);
	id = NULL;
	/* from the console: the nonce its challenge binds */
	if (a != NULL && o->nonce != NULL && ((id = fx_b64(o->nonce,
	    32)) == NULL || json_object_set_new(a, "nonce",
	    json_string(id)) != 0)) {
		json_decref(a);
		a = NULL;
	}
	free(id);
	free(adb);
	free(cdb);
	free(sb);
	return a;
}

/* The change document of an admin password reset on FX_AUD. */
FX_FN json_t *
fx_change(const char *account, const char *system)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, "
	    "s:{s:s, s:b}, "
	    "s:{s:b, s:[s, s]}, s:{s:s, s:i}, s:[s], s:{s:s, s:s}}",
	    "typ", "tapgate-change/v1", "appliance", FX_APPLIANCE,
	    "request_id", FX_REQUEST_ID, "queue", "password_reset",
	    "target", "account", account, "system", system, "class", "admin",
	    "changes", "password", "reset", "force_change_at_logon", 1,
	    "entitlements_dropped", "all_privileged", 1, "names",
	    "domain-admins", "backup-operators",
	    "policy", "id", "default", "version", 1,
	    "evidence_digests",
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	    "requester", "agent", "hd-bob", "ticket", "INC-1");
}

/*
 * An order payload around change (a reference is taken), with its
 * change_digest, the times FX_IAT/NBF/EXP and the given approvals
 * (a reference is stolen; NULL for none).
 */
FX_FN json_t *
fx_payload(json_t *change, json_t *approvals)
{
	char digest[44];

	if (approvals == NULL)
		approvals = json_array();
	if (change == NULL || approvals == NULL ||
	    fx_change_digest(change, digest) != 0) {
		json_decref(approvals);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:O, s:s, s:o}",
	    "iss", FX_ISS, "aud", FX_AUD, "iat", (json_int_t)FX_IAT,
	    "nbf", (json_int_t)FX_NBF, "exp", (json_int_t)FX_EXP,
	    "jti", FX_JTI, "change", change, "change_digest", digest,
	    "approvals", approvals);
}

/* The compact JWS of payload bytes p[0..n) under the appliance key. */
FX_FN char *
fx_sign_bytes(const struct jwk *key, const void *p, size_t n)
{
	char *jws = NULL;
	size_t len;

	if (jws_sign(key, p, n, &jws, &len) != 0)
		return NULL;
	return jws;
}

/* The order token of payload, canonically serialised as tapgated does. */
FX_FN char *
fx_sign(const struct jwk *key, const json_t *payload)
{
	char *c = NULL, *jws;
	size_t n;

	if (payload == NULL || jcs_serialize(payload, &c, &n) != 0)
		return NULL;
	jws = fx_sign_bytes(key, c, n);
	free(c);
	return jws;
}

/* The approvers export naming keys k[0..n). */
FX_FN char *
fx_approvers_doc(const char *rp_id, const char *appliance,
    const struct fx_key *k, size_t n)
{
	json_t *root, *list, *e;
	char *doc = NULL, *id, *pub;
	size_t i, len;

	if ((list = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		id = fx_b64(k[i].cred_id, sizeof(k[i].cred_id));
		pub = fx_b64(k[i].pub, k[i].publen);
		e = id == NULL || pub == NULL ? NULL :
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
		    "name", k[i].name, "group", k[i].group,
		    "credential_id", id,
		    "alg", k[i].alg == TOKEN_ALG_ES256 ? "ES256" : "EdDSA",
		    "public_key", pub,
		    "aaguid", "5f1b8a0c-1c6e-4bd0-9f7a-2f1d8c0b7e11",
		    "attestation_cert_sha256", "00ff",
		    "revoked", k[i].revoked);
		free(id);
		free(pub);
		if (e == NULL || json_array_append_new(list, e) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	root = json_pack("{s:s, s:s, s:o}", "rp_id", rp_id, "appliance",
	    appliance, "approvers", list);
	if (root != NULL && jcs_serialize(root, &doc, &len) != 0)
		doc = NULL;
	json_decref(root);
	return doc;
}

/* The JWKS document of key's public half. */
FX_FN char *
fx_jwks_doc(const struct jwk *key)
{
	struct jwks *set = NULL;
	char *doc = NULL;
	size_t len;

	if (jwks_new(&set) != 0 || jwks_add(set, key) != 0 ||
	    jwks_serialize(set, &doc, &len) != 0)
		doc = NULL;
	jwks_free(&set);
	return doc;
}

/* The appliance key from the seed "label". */
FX_FN struct jwk *
fx_appliance_key(enum jwk_alg alg, const char *label)
{
	struct jwk *key = NULL;
	uint8_t seed[32];

	fx_seed(label, seed);
	if (jwk_private_import(alg, seed, sizeof(seed), &key) != 0)
		return NULL;
	return key;
}

/*
 * The cast of the fixture: the appliance key, officers ann (ES256) and
 * ben (EdDSA), cat (ES256, revoked), and the documents a downstream
 * system pins.
 */
struct fx {
	struct jwk	*key;
	struct fx_key	 officer[3];
	char		*jwks;
	char		*approvers;
};

#define FX_ANN	0
#define FX_BEN	1
#define FX_CAT	2

FX_FN void
fx_free(struct fx *f)
{
	size_t i;

	jwk_free(&f->key);
	for (i = 0; i < 3; i++)
		fx_key_clear(&f->officer[i]);
	free(f->jwks);
	free(f->approvers);
	memset(f, 0, sizeof(*f));
}

FX_FN int
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	if ((f->key = fx_appliance_key(JWK_ALG_EDDSA, FX_KEY_LABEL)) == NULL ||
	    fx_key_init(&f->officer[FX_ANN], "officer-ann",
	    "security_officer", TOKEN_ALG_ES256, "tapgate fixture ann") != 0 ||
	    fx_key_init(&f->officer[FX_BEN], "officer-ben",
	    "security_officer", TOKEN_ALG_EDDSA, "tapgate fixture ben") != 0 ||
	    fx_key_init(&f->officer[FX_CAT], "officer-cat",
	    "security_officer", TOKEN_ALG_ES256, "tapgate fixture cat") != 0)
		goto fail;
	f->officer[FX_CAT].revoked = true;
	if ((f->jwks = fx_jwks_doc(f->key)) == NULL ||
	    (f->approvers = fx_approvers_doc(FX_RP_ID, FX_APPLIANCE,
	    f->officer, 3)) == NULL)
		goto fail;
	return 0;
fail:
	fx_free(f);
	return -1;
}

/*
 * The good payload: alice's reset, whose policy required two security
 * officers, approved by ann and ben.
 */
FX_FN json_t *
fx_good_payload(const struct fx *f)
{
	struct fx_approval_opts o = fx_approval_opts_default();
	json_t *change, *approvals, *payload;
	char digest[44];

	if ((change = fx_change("alice", FX_AUD)) == NULL ||
	    json_object_set_new(json_object_get(change, "policy"),
	    "approvals_required", json_pack("[{s:s, s:i}]", "group",
	    "security_officer", "count", 2)) != 0 ||
	    fx_change_digest(change, digest) != 0 ||
	    (approvals = json_pack("[o, o]",
	    fx_approval(&f->officer[FX_ANN], digest, &o),
	    fx_approval(&f->officer[FX_BEN], digest, &o))) == NULL) {
		json_decref(change);
		return NULL;
	}
	payload = fx_payload(change, approvals);
	json_decref(change);
	return payload;
}

#endif /* TAPGATE_TEST_VERIFY_FIXTURE_H */

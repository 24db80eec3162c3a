/* SPDX-License-Identifier: ISC */
/*
 * The appliance's co-signing keys as JSON Web Keys (RFC 7517): Ed25519
 * (kty "OKP", crv "Ed25519", RFC 8037, alg "EdDSA") and P-256 (kty "EC",
 * crv "P-256", alg "ES256").  A key's kid is always its RFC 7638
 * thumbprint, so a kid names exactly one public key.  Key sets (JWKS) are
 * what downstream systems pin; their parser is written for untrusted input
 * and is bounded.
 *
 * Every function returns 0 or a negative TG_ERR_* (src/common/errors.h);
 * output pointers are set only on success.  Nothing here prints or exits:
 * this code is linked by downstream verifiers.
 */
#ifndef TAPGATE_JWK_H
#define TAPGATE_JWK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define JWK_PRIVATE_LEN	32	/* Ed25519 seed or P-256 scalar, big endian */
#define JWK_SIG_LEN	64	/* EdDSA signature, or ES256 r || s (JOSE) */
#define JWK_KID_LEN	43	/* base64url of a SHA-256 thumbprint */
#define JWKS_MAX_KEYS	32
#define JWKS_MAX_SIZE	(64 * 1024)

enum jwk_alg {
	JWK_ALG_EDDSA = 1,	/* Ed25519, the default */
	JWK_ALG_ES256 = 2,	/* ECDSA P-256 with SHA-256 */
};

struct jwk;
struct jwks;

/* ---- algorithms */

/* The JOSE name of alg ("EdDSA", "ES256"), or NULL for an unknown value. */
const char *jwk_alg_name(enum jwk_alg alg);

/*
 * The algorithm called name: 0, or TG_ERR_ALG_REFUSED for any other name
 * ("none", "HS256", "RS256", ...).
 */
int	jwk_alg_from_name(const char *name, enum jwk_alg *algp);

/* ---- single keys */

/* Generate a new private key for alg. */
int	jwk_generate(enum jwk_alg alg, struct jwk **keyp);

/*
 * Rebuild a private key from its JWK_PRIVATE_LEN raw bytes (as
 * jwk_private_export() gave them).  TG_ERR_INVALID for a wrong length or a
 * P-256 scalar outside [1, n-1].  The caller still owns and wipes raw.
 */
int	jwk_private_import(enum jwk_alg alg, const uint8_t *raw, size_t len,
	    struct jwk **keyp);

/*
 * Copy the private key's raw bytes into out (len must be JWK_PRIVATE_LEN),
 * so a seal can protect them; the caller wipes out after use.
 * TG_ERR_INVALID for a public key or a wrong len.
 */
int	jwk_private_export(const struct jwk *key, uint8_t *out, size_t len);

/*
 * Parse one public JWK object, strictly: kty/crv of the two supported
 * kinds only, x (and y) present with their exact lengths, a P-256 point on
 * the curve, "alg" (if present) matching the key, "use" (if present) "sig",
 * "kid" (if present) equal to the thumbprint, and no private member ("d")
 * where a public key is expected.  Other members are ignored (RFC 7517).
 * TG_ERR_INVALID for anything else.
 */
int	jwk_from_json(const json_t *obj, struct jwk **keyp);

/*
 * The public JWK of key as a new jansson object: kty, crv, x[, y], kid,
 * alg, use "sig".  Never contains private material.
 */
int	jwk_to_json(const struct jwk *key, json_t **objp);

/* A new key holding only the public half of key. */
int	jwk_public(const struct jwk *key, struct jwk **pubp);

/* The key's kid: its RFC 7638 thumbprint, JWK_KID_LEN characters. */
const char *jwk_kid(const struct jwk *key);

/* 1 when kid has the shape jwk_kid() gives (JWK_KID_LEN of base64url). */
int	jwk_kid_ok(const char *kid);

/* The algorithm the key signs with. */
enum jwk_alg jwk_alg(const struct jwk *key);

/* Whether key holds a private half. */
bool	jwk_has_private(const struct jwk *key);

/*
 * Sign msg[0..len) with the private key into sig (JWK_SIG_LEN bytes, JOSE
 * form: EdDSA as is, ES256 as r || s with s in the lower half of the
 * group order, so each signature has one encoding).
 */
int	jwk_sign(const struct jwk *key, const uint8_t *msg, size_t len,
	    uint8_t sig[JWK_SIG_LEN]);

/*
 * Check a JOSE-form signature over msg[0..len) with key's public half:
 * 0, or TG_ERR_BAD_SIGNATURE (a wrong length included).  ES256 also
 * requires s in the lower half, as jwk_sign() makes it: (r, n - s) is
 * valid ECDSA too, and refusing it gives each order one token encoding,
 * so a replay cache keyed by the token's bytes cannot be dodged.
 */
int	jwk_verify(const struct jwk *key, const uint8_t *msg, size_t len,
	    const uint8_t *sig, size_t siglen);

/* Free *keyp (NULL-safe) and set it to NULL; private parts are wiped. */
void	jwk_free(struct jwk **keyp);

/* ---- key sets */

/* A new, empty key set. */
int	jwks_new(struct jwks **setp);

/* Free *setp and its keys (NULL-safe) and set it to NULL. */
void	jwks_free(struct jwks **setp);

/*
 * Add the public half of key to set.  TG_ERR_INVALID when a key with the
 * same kid is already there, TG_ERR_TOO_LONG past JWKS_MAX_KEYS.
 */
int	jwks_add(struct jwks *set, const struct jwk *key);

/*
 * Parse a JWKS document {"keys":[...]} of len bytes (no NUL needed), as
 * untrusted input: at most JWKS_MAX_SIZE bytes (else TG_ERR_TOO_LONG), no
 * duplicate object member names, no trailing data, one to JWKS_MAX_KEYS
 * keys each accepted by jwk_from_json(), no two with the same kid
 * (else TG_ERR_INVALID).
 */
int	jwks_parse(const char *doc, size_t len, struct jwks **setp);

/*
 * Serialise set as a JWKS document, canonical JSON (RFC 8785) into a new
 * NUL-terminated string (*docp, length *lenp; freed by the caller).
 */
int	jwks_serialize(const struct jwks *set, char **docp, size_t *lenp);

/* Number of keys in set. */
size_t	jwks_count(const struct jwks *set);

/* The i-th key of set (i < jwks_count()), owned by set. */
const struct jwk *jwks_key(const struct jwks *set, size_t i);

/*
 * The key of set whose kid is kid, owned by set: 0, or TG_ERR_UNKNOWN_KID.
 */
int	jwks_find(const struct jwks *set, const char *kid,
	    const struct jwk **keyp);

#endif /* TAPGATE_JWK_H */

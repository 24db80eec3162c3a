/* SPDX-License-Identifier: ISC */
/*
 * Co-signed orders as compact JWS (RFC 7515): a protected header
 * {"alg":..,"kid":..,"typ":"tapgate-order+jwt"} in canonical JSON, the
 * caller's payload bytes (the canonical order) and the signature, each
 * base64url without padding.  Any JOSE library verifies what jws_sign()
 * makes; jws_verify() is the strict reader downstream systems rely on.
 *
 * Every function returns 0 or a negative TG_ERR_* (src/common/errors.h);
 * output pointers are set only on success.  Nothing here prints or exits.
 */
#ifndef TAPGATE_JWS_H
#define TAPGATE_JWS_H

#include <stddef.h>
#include <stdint.h>

#include "order/jwk.h"

#define JWS_TYP		"tapgate-order+jwt"
/* The signed revocation list: its own typ, so that neither can pass as
 * the other. */
#define JWS_TYP_REVOCATIONS	"tapgate-revocations+jwt"
#define JWS_MAX_LEN	(64 * 1024)	/* a whole token, in bytes */

/*
 * Sign payload[0..len) with the private key into a new NUL-terminated
 * compact JWS (*jwsp, length *lenp; freed by the caller).  The header
 * names the key's algorithm and kid.  TG_ERR_INVALID for a public key,
 * TG_ERR_TOO_LONG when the token would exceed JWS_MAX_LEN (it could not
 * be verified).
 */
int	jws_sign(const struct jwk *key, const uint8_t *payload, size_t len,
	    char **jwsp, size_t *lenp);

/*
 * Verify the compact JWS jws[0..len) (no NUL needed) against the trusted
 * keys of set and, only if it holds, return its payload (*payloadp,
 * *payloadlenp; freed by the caller) and, when kidp is not NULL, the
 * signing key's kid (*kidp, a new string).
 *
 * The token is read strictly, and the first failing check names the error:
 *   TG_ERR_TOO_LONG	over JWS_MAX_LEN bytes
 *   TG_ERR_INVALID	not three canonical base64url parts; a header that
 *			is not a JSON object, repeats a member, has a
 *			member other than "alg", "kid" and "typ" (so
 *			"crit" and key-injection members such as "jku",
 *			"jwk", "x5u" or "x5c" are refused) or lacks alg
 *   TG_ERR_ALG_REFUSED	alg other than EdDSA and ES256 (none, HS256, ...)
 *   TG_ERR_INVALID	kid missing, or typ missing or not JWS_TYP
 *   TG_ERR_UNKNOWN_KID	no key of set has that kid
 *   TG_ERR_ALG_MISMATCH	alg is not the algorithm of that key
 *   TG_ERR_BAD_SIGNATURE	the signature does not verify (jwk_verify())
 */
int	jws_verify(const char *jws, size_t len, const struct jwks *set,
	    uint8_t **payloadp, size_t *payloadlenp, char **kidp);

/*
 * jws_sign() and jws_verify() for a token of another typ (the header's
 * typ must be exactly typ): JWS_TYP_REVOCATIONS.  An order does not
 * verify as one of them, nor one of them as an order.
 */
int	jws_sign_typ(const struct jwk *key, const char *typ,
	    const uint8_t *payload, size_t len, char **jwsp, size_t *lenp);
int	jws_verify_typ(const char *jws, size_t len, const char *typ,
	    const struct jwks *set, uint8_t **payloadp, size_t *payloadlenp,
	    char **kidp);

#endif /* TAPGATE_JWS_H */

/* SPDX-License-Identifier: ISC */
/*
 * The clientDataJSON of a WebAuthn assertion, as an officer's approval
 * carries it.  At the box the appliance writes it (eng_client_data: the
 * challenge is the change's digest, the origin https://rp_id); from the
 * console the browser writes it, and it is untrusted input: parsed here
 * strictly and bounded, and held to the challenge of the change and the
 * nonce the appliance issued for that attempt:
 *
 *	challenge = base64url(SHA-256(change digest || nonce))
 *
 * Shared by the daemon, its signer and libtapgate-verify.
 */
#ifndef TAPGATE_CLIENTDATA_H
#define TAPGATE_CLIENTDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENTDATA_MAX		1024	/* bytes of a clientDataJSON */
#define CLIENTDATA_ORIGIN_MAX	255	/* bytes of its origin */
#define CLIENTDATA_NONCE_LEN	32	/* a console nonce */
#define CLIENTDATA_CHALLENGE_LEN 43	/* base64url of 32 bytes */
#define CLIENTDATA_TYPE_GET	"webauthn.get"
#define CLIENTDATA_TYPE_CREATE	"webauthn.create"

/* Why a clientDataJSON was refused. */
enum clientdata_fault {
	CLIENTDATA_OK,
	CLIENTDATA_TOO_LONG,	/* over CLIENTDATA_MAX bytes */
	CLIENTDATA_NOT_JSON,	/* not one JSON object (UTF-8, no NUL, no
				   duplicate member, nothing after it) */
	CLIENTDATA_TYPE,	/* "type" is not "webauthn.get" */
	CLIENTDATA_CHALLENGE,	/* "challenge" is not 43 base64url chars */
	CLIENTDATA_ORIGIN,	/* "origin" missing, not a string, too long */
	CLIENTDATA_CROSS_ORIGIN, /* "crossOrigin" present and not false */
	CLIENTDATA_TOP_ORIGIN,	/* "topOrigin" present */
	CLIENTDATA_FAULT_COUNT
};

/* What a clientDataJSON says, once parsed. */
struct clientdata {
	char	type[sizeof(CLIENTDATA_TYPE_CREATE)];
	char	challenge[CLIENTDATA_CHALLENGE_LEN + 1];
	char	origin[CLIENTDATA_ORIGIN_MAX + 1];
};

/*
 * Parse p[0..len) strictly: at most CLIENTDATA_MAX bytes of one JSON
 * object (valid UTF-8, no NUL, no duplicate member, nothing after it)
 * whose "type" is "webauthn.get", "challenge" 43 base64url characters
 * that decode to 32 bytes, "origin" a string of 1 to
 * CLIENTDATA_ORIGIN_MAX bytes, "crossOrigin" false if present, no
 * "topOrigin".  Other members are allowed (WebAuthn lets a browser add
 * them) and ignored.  0 with *cd filled, TG_ERR_INVALID (or
 * TG_ERR_TOO_LONG) with the cause in *fault, or TG_ERR_NOMEM.  The
 * origin is not judged here: clientdata_origin_ok().
 */
int	clientdata_parse(const uint8_t *p, size_t len, struct clientdata *cd,
	    enum clientdata_fault *fault);

/*
 * clientdata_parse() of a clientDataJSON whose type must be want
 * (CLIENTDATA_TYPE_GET, or CLIENTDATA_TYPE_CREATE: a credential made at
 * enrolment); CLIENTDATA_TYPE when it is another.
 */
int	clientdata_parse_type(const uint8_t *p, size_t len, const char *want,
	    struct clientdata *cd, enum clientdata_fault *fault);

/* What fault means, in words ("?" out of range). */
const char *clientdata_fault_text(enum clientdata_fault fault);

/*
 * Whether origin is one a browser approval may come from for rp_id, as
 * WebAuthn requires: exactly "https://" host [":" port], the host rp_id
 * or a subdomain of it (lowercase letters, digits, inner '-' per label),
 * the port 1 to 65535 without a leading zero, nothing else (no path,
 * userinfo, query, trailing dot or slash).
 */
bool	clientdata_origin_ok(const char *origin, const char *rp_id);

/*
 * The challenge of a console approval: base64url(SHA-256(digest ||
 * nonce)) into out (CLIENTDATA_CHALLENGE_LEN + 1 bytes, NUL-terminated).
 * With nonce NULL, the challenge at the box: base64url(digest).
 */
void	clientdata_challenge(const uint8_t digest[32], const uint8_t *nonce,
	    char out[CLIENTDATA_CHALLENGE_LEN + 1]);

#endif

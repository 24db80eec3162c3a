/* SPDX-License-Identifier: ISC */
/*
 * One error space for all of tapgate: functions return 0 on success or a
 * negative TG_ERR_* value.  tg_strerror() names it for people.
 */
#ifndef TAPGATE_ERRORS_H
#define TAPGATE_ERRORS_H

#define TG_OK			  0
#define TG_ERR_INTERNAL		 -1	/* broken invariant, library failure */
#define TG_ERR_NOMEM		 -2
#define TG_ERR_INVALID		 -3	/* bad argument or malformed input */
#define TG_ERR_TOO_LONG		 -4	/* input over its bound */
#define TG_ERR_IO		 -5
#define TG_ERR_NOT_FOUND	 -6
#define TG_ERR_CLOSED		 -7	/* the peer process closed its end */
/* security keys */
#define TG_ERR_DEVICE		-20	/* cannot open or talk to the key */
#define TG_ERR_DEVICE_GONE	-21	/* key unplugged or its socket closed */
#define TG_ERR_TIMEOUT		-22	/* no answer within the time allowed */
#define TG_ERR_NO_TOUCH		-23	/* not touched in time */
#define TG_ERR_DENIED		-24	/* the user refused on the key */
#define TG_ERR_PIN_INVALID	-25
#define TG_ERR_PIN_BLOCKED	-26	/* PIN retries used up: reset */
#define TG_ERR_PIN_AUTH_BLOCKED	-27	/* three wrong PINs: replug the key */
#define TG_ERR_PIN_NOT_SET	-28
#define TG_ERR_PIN_POLICY	-29	/* PIN too short or too long */
#define TG_ERR_NO_CREDENTIAL	-30	/* key holds none of the ids */
#define TG_ERR_UNSUPPORTED	-31	/* the key lacks a required feature */
#define TG_ERR_ATTESTATION	-32	/* attestation did not verify */
#define TG_ERR_SIGNATURE	-33	/* assertion signature did not verify */
#define TG_ERR_FLAGS		-34	/* UP or UV flag missing */
#define TG_ERR_RPID		-35	/* rpIdHash is not ours */
#define TG_ERR_COUNTER		-36	/* signature counter did not grow */
#define TG_ERR_PROTOCOL		-37	/* a peer broke its protocol */
#define TG_ERR_CANCELLED	-38
#define TG_ERR_PIN_ALREADY_SET	-39	/* a PIN is already set */
#define TG_ERR_AAGUID		-40	/* key model not on the allow-list */

/* policy */
#define TG_ERR_CONFIG		-60	/* bad config (see message) */
#define TG_ERR_POLICY		-61	/* e.g. separation of duties */

/* store */
#define TG_ERR_DB		-80	/* database error (see store_errmsg) */
#define TG_ERR_BUSY		-81	/* database locked too long */
#define TG_ERR_SCHEMA		-82	/* db of a newer tapgate, or not ours */
#define TG_ERR_EXISTS		-83	/* id or idempotency key taken */
#define TG_ERR_CONFLICT		-84	/* changed meanwhile (stale state) */
#define TG_ERR_TXN		-85	/* needs (or forbids) a transaction */
#define TG_ERR_CORRUPT		-86	/* database file damaged */
#define TG_ERR_IMMUTABLE	-87	/* append-only or once-only record */
#define TG_ERR_PERM		-88	/* state dir/file: not ours, too open */

/* orders */
#define TG_ERR_ALG_REFUSED	-100	/* alg not allowed: none, HS256... */
#define TG_ERR_ALG_MISMATCH	-101	/* alg does not match the key's type */
#define TG_ERR_UNKNOWN_KID	-102	/* kid missing from the trusted JWKS */
#define TG_ERR_BAD_SIGNATURE	-103	/* order signature did not verify */

/* verify (libtapgate-verify; mirrored as TGV_ERR_* in tapgate_verify.h) */
#define TG_ERR_MALFORMED	-120	/* order is not what tapgate signs */
#define TG_ERR_WRONG_AUDIENCE	-121	/* aud is not this system */
#define TG_ERR_WRONG_ISSUER	-122	/* iss is not the expected appliance */
#define TG_ERR_NOT_YET_VALID	-123	/* before nbf (leeway included) */
#define TG_ERR_EXPIRED		-124	/* at or past exp (leeway included) */
#define TG_ERR_DIGEST_MISMATCH	-125	/* change_digest is not the change's */
#define TG_ERR_REDEEMED		-126	/* jti already used */
#define TG_ERR_APPROVAL		-127	/* bad or missing approver assertion */
#define TG_ERR_REVOKED		-128	/* the order was revoked (deny, veto) */
#define TG_ERR_LIST_STALE	-129	/* revocation list too old or future */

/* seal (key at rest) */
#define TG_ERR_UNSEAL		-140	/* sealed data did not authenticate */
#define TG_ERR_SEAL_KEY		-141	/* another seal kind or key file */
#define TG_ERR_NO_YUBIKEY	-142	/* no YubiKey present */
#define TG_ERR_YUBIKEY_SERIAL	-143	/* a YubiKey of another serial */
#define TG_ERR_YUBIKEY_ACCESS	-144	/* YubiKey found, USB access refused */
#define TG_ERR_YUBIKEY_SETUP	-145	/* serial not API-visible */

/* sandbox (process confinement) */
#define TG_ERR_SANDBOX		-160	/* seccomp, prctl or rlimit refused */

/* A static, human-readable name for err (never NULL). */
const char	*tg_strerror(int err);

#endif /* TAPGATE_ERRORS_H */

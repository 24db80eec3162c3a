/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	libtapgate-verify -- check tapgate co-signed orders offline
 *
 * SYNOPSIS
 *	#include <tapgate_verify.h>
 *
 *	cc -c $(pkg-config --cflags tapgate-verify) connector.c
 *	cc -o connector connector.o $(pkg-config --libs tapgate-verify)
 *
 *	The library is a shared object (libtapgate-verify.so.0) and a
 *	static archive; to link the archive, use pkg-config --static, which
 *	adds libcrypto, jansson and sqlite3 (the library needs no more).
 *
 * DESCRIPTION
 *	A tapgate appliance approves a help-desk recovery (password reset,
 *	MFA reset, ...) and then co-signs an "order": a compact JWS
 *	(RFC 7515) whose header is {"alg","kid","typ":"tapgate-order+jwt"}
 *	and whose payload is the RFC 8785 canonical JSON of
 *
 *	    {"iss","aud","iat","nbf","exp","jti","change","change_digest",
 *	     "approvals":[{"approver","group","credential_id","alg",
 *	                   "authenticator_data","client_data","signature"}],
 *	     "audit":{"seq","hash"}}
 *
 *	"audit" (absent from orders of appliances before it) is the head of
 *	the appliance's audit chain when it signed: the entry seq and its
 *	hash (64 lower-case hex digits); the order's own "order.issued"
 *	entry is seq + 1.  Keep it: "tapgatectl audit verify --anchor
 *	ORDER" on the appliance fails when its log no longer holds that
 *	entry, so a cut or rewritten log shows wherever an order went.
 *
 *	A downstream system (directory, IdP, payment system) applies the
 *	change only when tgv_verify() accepts the order, and only once:
 *	tgv_redeem() records its jti in a small sqlite file.
 *
 *	tgv_verify() checks, in this order, and stops at the first failure:
 *
 *	TGV_ERR_MALFORMED	not a strict compact JWS of at most
 *				TGV_ORDER_MAX bytes with a header of exactly
 *				alg, kid and typ
 *	TGV_ERR_UNKNOWN_KID	no trusted key has the header's kid
 *	TGV_ERR_BAD_SIGNATURE	the appliance signature does not verify, or
 *				alg is not the key's (none, HS256, ...)
 *	TGV_ERR_MALFORMED	the signed payload is not a JSON object, is
 *				not byte for byte its own RFC 8785 form (so
 *				every order has exactly one encoding), or
 *				has a member missing, of the wrong type, out
 *				of its bounds, or unknown (audit too: exactly
 *				seq and hash; the change too:
 *				typ "tapgate-change/v1", 32-hex request_id,
 *				target {account,system,class} with, from
 *				an appliance with a directory, dn and
 *				privileged_groups (and then
 *				entitlements_dropped.groups, each one of
 *				them), evidence (when present: at most
 *				256 items, each exactly {type, channel,
 *				origin: agent|appliance|officer,
 *				verified_by}: what the order rests on,
 *				no code or contact detail), ...; and
 *				changes exactly the vocabulary of its
 *				queue: password_reset {password:"reset",
 *				force_change_at_logon:bool}, mfa_reset
 *				{mfa:"reset",reenrolment_required:true},
 *				reactivation {account:"enable"},
 *				privilege_change {add_groups,remove_groups:
 *				[group DN]}, transaction_approval
 *				{transaction_id,amount:"decimal",
 *				currency:"ISO 4217",payee})
 *	TGV_ERR_REVOKED		a revocation list is loaded
 *				(tgv_load_revocations()) and lists the jti
 *	TGV_ERR_WRONG_AUDIENCE	aud is not the expected audience, or aud is
 *				not the change's target.system
 *	TGV_ERR_WRONG_ISSUER	an expected issuer was set and iss differs
 *	TGV_ERR_NOT_YET_VALID	now + leeway < nbf
 *	TGV_ERR_EXPIRED		now - leeway >= exp
 *	TGV_ERR_DIGEST_MISMATCH	change_digest is not base64url(SHA-256(
 *				RFC 8785 form of change))
 *	TGV_ERR_APPROVAL	with an approvers file loaded: an approval
 *				whose credential is not pinned or is revoked,
 *				whose approver or group differ from the pin,
 *				whose clientData is not {"type":
 *				"webauthn.get","challenge":change_digest,
 *				"origin":"https://" rp_id} (crossOrigin, if
 *				present, false), whose authenticatorData is
 *				for another rpId, lacks user presence (UP) or
 *				user verification (UV), or whose signature
 *				does not verify with the pinned public key;
 *				the same credential or approver twice; fewer
 *				approvals than tgv_set_min_approvals() asks
 *	TGV_ERR_APPROVAL	fewer verified approvals than the order's
 *				policy.approvals_required names for a group,
 *				or in all than the floor of the order's
 *				class (tgv_set_class_floor()); with no
 *				approvers file loaded, any such need at all
 *
 *	Approvals are verified only when an approvers file is loaded
 *	(tgv_load_approvers*()).  Without one the appliance signature still
 *	vouches for the order, but nothing downstream checks that officers
 *	really approved it with their security keys: pinning the approvers
 *	export ("tapgatectl approvers export") is what makes the security-
 *	key requirement verifiable downstream, independently of the
 *	appliance.  So an order that needs approvals (by its own
 *	approvals_required, or by its class's floor) verifies only with an
 *	approvers file loaded.
 *
 *	The order states the approvals its policy required:
 *	change.policy.approvals_required, [{"group","count"}] ([] when the
 *	policy asked for none; absent from orders of appliances before it).
 *	Each is held to the verified approvals of that group.  The
 *	verifying system adds a floor per class of account (change.target.
 *	class): at least that many verified approvals in all, whatever the
 *	appliance's policy says.  By default TGV_FLOOR_DEFAULT (1) for
 *	"shared", "finance" and "admin" and 0 for "standard": every class
 *	above standard needs an officer's security-key touch this system
 *	checks itself, so that a weakened or mis-edited appliance policy
 *	cannot make an untouched admin order pass, while standard recoveries
 *	(which the default policy lets through on evidence and a hold) still
 *	verify.  A class this library does not know takes the highest floor
 *	set for any class.  A floor never lowers what the order required.
 *
 *	The signature counter of an assertion is not checked (an offline
 *	verifier never saw the previous one); the appliance checks it when
 *	the officer approves.
 *
 *	Every function returns 0 or a negative TGV_ERR_* code and sets output
 *	pointers only on success.  Functions taking a context leave a
 *	one-line message naming the cause of their last failure in
 *	tgv_errmsg(); strings taken from the order are shown with control
 *	and non-ASCII bytes replaced (tgv_redeem() takes no context: its
 *	codes say it all).  Nothing here prints, exits or reads the time of
 *	day: the caller passes "now".  A context or order is used by
 *	one thread at a time; distinct ones are independent.
 *
 * EXAMPLE
 *	struct tgv_ctx *ctx = NULL;
 *	struct tgv_order *o = NULL;
 *	int r;
 *
 *	if ((r = tgv_ctx_new(&ctx)) != 0 ||
 *	    (r = tgv_load_jwks_file(ctx, "jwks.json")) != 0 ||
 *	    (r = tgv_load_approvers_file(ctx, "approvers.json")) != 0 ||
 *	    (r = tgv_set_audience(ctx, "ldap-corp")) != 0 ||
 *	    (r = tgv_verify(ctx, tok, toklen, time(NULL), &o)) != 0 ||
 *	    (r = tgv_redeem("/var/lib/conn/redeemed.db", o,
 *	    time(NULL))) != 0)
 *		warnx("%s: %s", tgv_strerror(r), tgv_errmsg(ctx));
 *	else
 *		apply(tgv_order_target_account(o),
 *		    tgv_order_change_json(o, NULL));
 *	tgv_order_free(&o);
 *	tgv_ctx_free(&ctx);
 */
#ifndef TAPGATE_VERIFY_H
#define TAPGATE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes (the same values as tapgate's TG_ERR_*). */
#define TGV_OK			   0
#define TGV_ERR_INTERNAL	  -1	/* broken invariant, library failure */
#define TGV_ERR_NOMEM		  -2
#define TGV_ERR_INVALID		  -3	/* bad argument or call sequence */
#define TGV_ERR_IO		  -5	/* a file could not be read */
#define TGV_ERR_CONFIG		 -60	/* JWKS or approvers file refused */
#define TGV_ERR_DB		 -80	/* redeem database error */
#define TGV_ERR_BUSY		 -81	/* redeem database locked too long */
#define TGV_ERR_SCHEMA		 -82	/* redeem database is not ours */
#define TGV_ERR_PERM		 -88	/* redeem database: unsafe file */
#define TGV_ERR_UNKNOWN_KID	-102
#define TGV_ERR_BAD_SIGNATURE	-103
#define TGV_ERR_MALFORMED	-120
#define TGV_ERR_WRONG_AUDIENCE	-121
#define TGV_ERR_WRONG_ISSUER	-122
#define TGV_ERR_NOT_YET_VALID	-123
#define TGV_ERR_EXPIRED		-124
#define TGV_ERR_DIGEST_MISMATCH	-125
#define TGV_ERR_REDEEMED	-126
#define TGV_ERR_APPROVAL	-127
#define TGV_ERR_REVOKED		-128
#define TGV_ERR_LIST_STALE	-129

#define TGV_ORDER_MAX		(64 * 1024)	/* a whole token, in bytes */
#define TGV_APPROVALS_MAX	16	/* approvals in one order */
#define TGV_APPROVERS_MAX	256	/* credentials in an approvers file */
#define TGV_APPROVERS_FILE_MAX	(256 * 1024)
#define TGV_LEEWAY_DEFAULT	60	/* seconds of clock skew tolerated */
#define TGV_LEEWAY_MAX		3600
#define TGV_FLOOR_DEFAULT	1	/* approvals above class standard */
#define TGV_CLASSES_MAX		16	/* classes with a floor */
#define TGV_CLASS_NAME_MAX	64
#define TGV_REVOCATIONS_MAX	4096	/* jtis in one revocation list */
#define TGV_REVOCATIONS_AGE_DEFAULT 3600 /* what tapgate-verify accepts */
#define TGV_REVOCATIONS_AGE_MAX	(366 * 86400)
/*
 * Redeemed jtis are kept until this long after their exp: well past any
 * leeway, so a clock stepped back by up to a day cannot make a forgotten
 * order acceptable again.
 */
#define TGV_PRUNE_AFTER		86400

struct tgv_ctx;
struct tgv_order;

/* ---- context: what this downstream system trusts and expects */

/*
 * A new context: no keys, no approvers, no audience, leeway
 * TGV_LEEWAY_DEFAULT, no expected issuer, default minimum approvals.
 */
int	tgv_ctx_new(struct tgv_ctx **ctxp);

/* Free *ctxp (NULL-safe) and set it to NULL. */
void	tgv_ctx_free(struct tgv_ctx **ctxp);

/*
 * Trust the keys of a JWKS document {"keys":[...]} (len bytes, no NUL
 * needed), as the appliance's GET /v1/keys serves it.  May be called
 * more than once (several appliances): the keys add up; a kid already
 * trusted is refused.  TGV_ERR_CONFIG for a document that is refused.
 */
int	tgv_load_jwks(struct tgv_ctx *ctx, const char *doc, size_t len);

/* The same from a file; TGV_ERR_IO when it cannot be read. */
int	tgv_load_jwks_file(struct tgv_ctx *ctx, const char *path);

/*
 * Pin the approvers export of one appliance:
 *   {"rp_id":"tapgate.local","appliance":"tapgate-01","approvers":[
 *    {"name","group","credential_id":b64url,"alg":"ES256"|"EdDSA",
 *     "public_key":b64url raw (ES256 x||y, EdDSA 32 bytes),
 *     "revoked":bool, ...}]}
 * Members beyond these are ignored; two entries with one credential id
 * are refused.  Once per context.  From then on every order must come
 * from that appliance (change.appliance) and carry verified approvals.
 * TGV_ERR_CONFIG for a document that is refused.
 */
int	tgv_load_approvers(struct tgv_ctx *ctx, const char *doc, size_t len);

/* The same from a file; TGV_ERR_IO when it cannot be read. */
int	tgv_load_approvers_file(struct tgv_ctx *ctx, const char *path);

/* The audience this system answers to (required before tgv_verify()). */
int	tgv_set_audience(struct tgv_ctx *ctx, const char *aud);

/* Require iss to be issuer; NULL accepts any issuer (the default). */
int	tgv_set_issuer(struct tgv_ctx *ctx, const char *issuer);

/* Clock skew tolerated on nbf and exp: 0..TGV_LEEWAY_MAX seconds. */
int	tgv_set_leeway(struct tgv_ctx *ctx, int64_t seconds);

/*
 * Require at least n verified approvals (0..TGV_APPROVALS_MAX) of every
 * order, whatever its class.  By default none beyond the class floors
 * and the order's approvals_required (see above); n > 0 without an
 * approvers file makes tgv_verify() fail with TGV_ERR_INVALID, since
 * approvals it cannot check would only be counted.
 */
int	tgv_set_min_approvals(struct tgv_ctx *ctx, unsigned int n);

/*
 * Require at least n verified approvals (0..TGV_APPROVALS_MAX) of an
 * order whose change.target.class is class_name (a name of at most
 * TGV_CLASS_NAME_MAX bytes of a-z, 0-9 and '_'; at most TGV_CLASSES_MAX
 * classes), replacing that class's floor (the defaults are above).
 * TGV_ERR_INVALID for a bad name, n or one class too many.
 */
int	tgv_set_class_floor(struct tgv_ctx *ctx, const char *class_name,
	    unsigned int n);

/*
 * Load the appliance's signed revocation list, as GET /v1/revocations
 * serves it (its "jws": a compact JWS whose header typ is
 * "tapgate-revocations+jwt", never an order's, and whose payload is the
 * RFC 8785 canonical JSON {"iat","iss","revoked":[{"jti","revoked_at"}]}),
 * at time now: from then on tgv_verify() refuses an order whose jti it
 * lists (TGV_ERR_REVOKED, right after the order's signature and form
 * checks).  Load the JWKS first, and set the leeway and issuer first if
 * they are not the defaults.  Once per context.  Refused:
 *   TGV_ERR_MALFORMED	not such a JWS (an order, for one), or a payload
 *			that is not exactly that
 *   TGV_ERR_UNKNOWN_KID	not signed by a trusted key
 *   TGV_ERR_BAD_SIGNATURE	the signature does not verify
 *   TGV_ERR_WRONG_ISSUER	an expected issuer was set and iss differs
 *   TGV_ERR_LIST_STALE	iat more than max_age seconds
 *			(0..TGV_REVOCATIONS_AGE_MAX) before now, or more
 *			than the leeway after it
 * A list too old says nothing of the orders revoked since: a system that
 * must stop every denied order fetches a new list before each apply.
 */
int	tgv_load_revocations(struct tgv_ctx *ctx, const char *doc,
	    size_t len, int64_t now, int64_t max_age);

/* The same from a file (one trailing newline allowed); TGV_ERR_IO when
 * it cannot be read. */
int	tgv_load_revocations_file(struct tgv_ctx *ctx, const char *path,
	    int64_t now, int64_t max_age);

/* Why the last call on ctx failed ("" after a success; never NULL). */
const char *tgv_errmsg(const struct tgv_ctx *ctx);

/* A short static name of err ("expired", "unknown kid", ...). */
const char *tgv_strerror(int err);

/* ---- verification */

/*
 * Verify the compact JWS token[0..len) (no NUL, no trailing newline) at
 * time now (seconds since the epoch, 0..2^53-1) and return the order.
 * TGV_ERR_INVALID without keys or audience.  The checks and their
 * errors are listed above.
 */
int	tgv_verify(struct tgv_ctx *ctx, const char *token, size_t len,
	    int64_t now, struct tgv_order **orderp);

/* Free *orderp (NULL-safe) and set it to NULL. */
void	tgv_order_free(struct tgv_order **orderp);

/* The order's claims; strings owned by the order. */
const char *tgv_order_jti(const struct tgv_order *o);
const char *tgv_order_iss(const struct tgv_order *o);
const char *tgv_order_aud(const struct tgv_order *o);
int64_t	tgv_order_iat(const struct tgv_order *o);
int64_t	tgv_order_nbf(const struct tgv_order *o);
int64_t	tgv_order_exp(const struct tgv_order *o);
/* The kid of the appliance key that signed it. */
const char *tgv_order_kid(const struct tgv_order *o);

/*
 * The approved change, as its RFC 8785 canonical JSON text (the bytes
 * change_digest covers), NUL-terminated; *lenp set when lenp is not NULL.
 * This is what a connector parses to apply the change.
 */
const char *tgv_order_change_json(const struct tgv_order *o, size_t *lenp);

/* Members of the change every connector needs. */
const char *tgv_order_request_id(const struct tgv_order *o);
const char *tgv_order_queue(const struct tgv_order *o);	/* the action */
const char *tgv_order_target_account(const struct tgv_order *o);
const char *tgv_order_target_system(const struct tgv_order *o);
/* The account's class, as the appliance decided it ("admin", ...). */
const char *tgv_order_target_class(const struct tgv_order *o);

/*
 * The approvers named by the order's approvals (i < count).  Verified
 * against the pinned approvers only when tgv_order_approvals_verified().
 */
size_t	tgv_order_approver_count(const struct tgv_order *o);
const char *tgv_order_approver(const struct tgv_order *o, size_t i);
bool	tgv_order_approvals_verified(const struct tgv_order *o);

/*
 * The order's audit anchor: true with the seq and hash (owned by the
 * order) when it has one, false for an order from before anchors.
 */
bool	tgv_order_audit_anchor(const struct tgv_order *o, int64_t *seqp,
	    const char **hashp);

/*
 * The verified order as canonical JSON, NUL-terminated (*jsonp, *lenp;
 * freed by the caller with free()):
 *   {"approvals_verified":bool,"approvers":[names],"aud",
 *    "audit":{"hash","seq"} (when the order has one),"change":{..},
 *    "exp","iat","iss","jti","kid","nbf"}
 */
int	tgv_order_to_json(const struct tgv_order *o, char **jsonp,
	    size_t *lenp);

/* ---- one-time use */

/*
 * Redeem the verified order o once, at time now: record its jti (with
 * iss, aud, exp and now) in the sqlite file db_path, created 0600 when
 * missing, in WAL mode with synchronous=FULL so that a redemption that
 * returned 0 survives a crash.  One transaction (BEGIN IMMEDIATE) checks
 * and records, so concurrent redeemers of one order see exactly one 0.
 * Rows whose exp is more than TGV_PRUNE_AFTER seconds past are pruned.
 *   TGV_ERR_REDEEMED	the jti is already recorded
 *   TGV_ERR_EXPIRED	o has expired by now (with the leeway it was
 *			verified with)
 *   TGV_ERR_PERM	db_path is a symlink, not a regular file or not
 *			owned by the caller
 *   TGV_ERR_SCHEMA	db_path is a database of something else
 *   TGV_ERR_IO, TGV_ERR_BUSY, TGV_ERR_DB
 */
int	tgv_redeem(const char *db_path, const struct tgv_order *o,
	    int64_t now);

#ifdef __cplusplus
}
#endif

#endif /* TAPGATE_VERIFY_H */

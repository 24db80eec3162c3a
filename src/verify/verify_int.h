/* SPDX-License-Identifier: ISC */
/* Private to src/verify/: shared between its files, not a contract. */
#ifndef TAPGATE_VERIFY_INT_H
#define TAPGATE_VERIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "order/jwk.h"
#include "token/token.h"
#include "verify/tapgate_verify.h"

#define TGV_ERRMSG_LEN		256
#define TGV_NAME_MAX		256	/* iss, aud, approver, account... */
#define TGV_DN_MAX		512	/* a directory DN: target.dn, groups */
#define TGV_CLIENT_DATA_MAX	2048	/* WebAuthn clientData, decoded */
#define TGV_RP_ID_MAX		253	/* a DNS name */

/* One pinned credential of the approvers export. */
struct tgv_approver {
	char			*name;
	char			*group;
	uint8_t			*cred_id;
	size_t			 cred_id_len;
	int			 alg;		/* TOKEN_ALG_* */
	EVP_PKEY		*pkey;		/* made once, at load */
	bool			 revoked;
};

struct tgv_approvers {
	char			*rp_id;
	uint8_t			 rp_id_hash[32];	/* SHA-256(rp_id) */
	char			*origin;	/* "https://" rp_id */
	char			*appliance;
	struct tgv_approver	*v;
	size_t			 n;
};

/* A loaded revocation list: its issuer, issue time and sorted jtis. */
struct tgv_revocations {
	char			*iss;
	int64_t			 iat;
	char			(*jti)[33];
	size_t			 n;
};

struct tgv_ctx {
	struct jwks		*keys;
	struct tgv_approvers	*approvers;	/* NULL: not checked */
	char			*audience;
	char			*issuer;	/* NULL: any */
	int64_t			 leeway;
	int			 min_approvals;	/* -1: the default */
	/* the approvals each class needs at least, by class name */
	struct tgv_floor {
		char		 name[TGV_CLASS_NAME_MAX + 1];
		unsigned int	 n;
	}			 floors[TGV_CLASSES_MAX];
	size_t			 nfloors;
	struct tgv_revocations	 revocations;
	bool			 revocations_loaded;
	char			 errmsg[TGV_ERRMSG_LEN];
};

/* One approval of an order, its binary members decoded. */
struct tgv_approval {
	const char	*approver;	/* point into the payload */
	const char	*group;
	const char	*alg;
	uint8_t		*client_data;	/* the exact bytes hashed */
	size_t		 client_data_len;
	uint8_t		*cred_id;
	size_t		 cred_id_len;
	uint8_t		*authdata;
	size_t		 authdata_len;
	uint8_t		*sig;
	size_t		 sig_len;
	uint8_t		*nonce;		/* from the console; NULL: the box */
	size_t		 nonce_len;
};

struct tgv_order {
	json_t		*payload;	/* strings below point into it */
	char		*kid;
	char		*change_json;	/* RFC 8785 form of change */
	size_t		 change_len;
	const char	*jti, *iss, *aud;
	const char	*appliance, *request_id, *queue, *account, *system;
	const char	*klass;		/* target.class */
	const json_t	*required;	/* policy.approvals_required, or NULL */
	int64_t		 iat, nbf, exp;
	int64_t		 leeway;	/* as verified, for tgv_redeem() */
	const char	**approvers;
	size_t		 napprovers;
	const char	*audit_hash;	/* NULL: the order has no anchor */
	int64_t		 audit_seq;
	bool		 approvals_verified;
};

/*
 * Set ctx's message from fmt and return err, so a check reads
 * "return tgv_fail(ctx, TGV_ERR_..., "why", ...)".
 */
int	tgv_fail(struct tgv_ctx *ctx, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Untrusted s, made fit for a one-line message: at most 64 bytes, bytes
 * outside printable ASCII (and quotes) replaced by '?'.  out holds 72.
 */
#define TGV_SHOWN_LEN	72
const char *tgv_shown(const char *s, char out[TGV_SHOWN_LEN]);

/*
 * Read a whole regular file of at most max bytes into a new buffer
 * (*bufp, *lenp; NUL-terminated beyond len).  TGV_ERR_IO, or
 * TGV_ERR_CONFIG when it is larger than max.
 */
int	tgv_read_file(const char *path, size_t max, char **bufp,
	    size_t *lenp);

/*
 * The payload of a revocation list (its signature checked), read strictly:
 * the canonical JSON of exactly {"iat","iss","revoked":[{"jti",
 * "revoked_at"}]}, at most TGV_REVOCATIONS_MAX entries of 32 lower-case
 * hex digits, none twice.  Into *rl (tgv_revocations_clear()), sorted.
 * TGV_ERR_MALFORMED (message in ctx) or TGV_ERR_NOMEM.
 */
int	tgv_revocations_parse(struct tgv_ctx *ctx, const uint8_t *payload,
	    size_t len, struct tgv_revocations *rl);
void	tgv_revocations_clear(struct tgv_revocations *rl);

/* Whether ctx's revocation list (if one is loaded) lists jti. */
bool	tgv_revoked(const struct tgv_ctx *ctx, const char *jti);

/* Parse an approvers export (see tgv_load_approvers()). */
int	tgv_approvers_parse(struct tgv_ctx *ctx, const char *doc, size_t len,
	    struct tgv_approvers **ap);
void	tgv_approvers_free(struct tgv_approvers **ap);

/*
 * The pinned raw public key of an approvers entry (ES256: x || y or
 * 04 || x || y, a point on P-256; EdDSA: 32 bytes) as a new EVP_PKEY.
 * TG_ERR_INVALID for anything else, TG_ERR_UNSUPPORTED for another alg.
 */
int	tgv_pubkey_load(int alg, const uint8_t *raw, size_t len,
	    EVP_PKEY **pkeyp);

/* One assertion to check against a pinned key (assertion.c). */
struct tgv_assertion {
	int		 alg;			/* TOKEN_ALG_*, pkey's */
	EVP_PKEY	*pkey;
	const uint8_t	*rp_id_hash;		/* 32 bytes */
	const uint8_t	*client_data_hash;	/* TOKEN_CDH_LEN */
	const uint8_t	*authdata;
	size_t		 authdata_len;
	const uint8_t	*sig;
	size_t		 sig_len;
};

/*
 * token_verify_assertion()'s checks without libfido2 and without the
 * counter: authData over TOKEN_AUTHDATA_MAX or a signature over
 * TOKEN_SIG_MAX (TG_ERR_TOO_LONG); authData other than exactly
 * rpIdHash|flags|counter, or with the AT or ED flag (TG_ERR_INVALID);
 * rpIdHash (TG_ERR_RPID); UP or UV clear (TG_ERR_FLAGS); the signature
 * over authData || clientDataHash (TG_ERR_SIGNATURE).
 */
int	tgv_assertion_verify(const struct tgv_assertion *a);

/*
 * Check the approvals a[0..n) of an order whose change is from appliance
 * and has change_digest_b64 (already checked against the change) against
 * the pinned approvers of ctx, and that there are at least min of them.
 * TGV_ERR_APPROVAL with a message, or another error (TGV_ERR_NOMEM, ...).
 */
int	tgv_approvals_check(struct tgv_ctx *ctx, const char *appliance,
	    const char *change_digest_b64, const struct tgv_approval *a,
	    size_t n, unsigned int min);

#endif /* TAPGATE_VERIFY_INT_H */

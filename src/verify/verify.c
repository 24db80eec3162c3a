/* SPDX-License-Identifier: ISC */
/*
 * libtapgate-verify: the context, the strict reading of an order, and its
 * checks in the order tapgate_verify.h lists them.  The token's bytes go
 * through jws_verify() first, so nothing here parses a payload that the
 * appliance did not sign.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "order/jws.h"
#include "order/vocab.h"
#include "verify_int.h"

/* The public codes are tapgate's own; keep them from drifting apart. */
_Static_assert(TGV_ERR_INTERNAL == TG_ERR_INTERNAL, "TGV_ERR_INTERNAL");
_Static_assert(TGV_ERR_NOMEM == TG_ERR_NOMEM, "TGV_ERR_NOMEM");
_Static_assert(TGV_ERR_INVALID == TG_ERR_INVALID, "TGV_ERR_INVALID");
_Static_assert(TGV_ERR_IO == TG_ERR_IO, "TGV_ERR_IO");
_Static_assert(TGV_ERR_CONFIG == TG_ERR_CONFIG, "TGV_ERR_CONFIG");
_Static_assert(TGV_ERR_DB == TG_ERR_DB, "TGV_ERR_DB");
_Static_assert(TGV_ERR_BUSY == TG_ERR_BUSY, "TGV_ERR_BUSY");
_Static_assert(TGV_ERR_SCHEMA == TG_ERR_SCHEMA, "TGV_ERR_SCHEMA");
_Static_assert(TGV_ERR_PERM == TG_ERR_PERM, "TGV_ERR_PERM");
_Static_assert(TGV_ERR_UNKNOWN_KID == TG_ERR_UNKNOWN_KID, "UNKNOWN_KID");
_Static_assert(TGV_ERR_BAD_SIGNATURE == TG_ERR_BAD_SIGNATURE, "BAD_SIG");
_Static_assert(TGV_ERR_MALFORMED == TG_ERR_MALFORMED, "MALFORMED");
_Static_assert(TGV_ERR_WRONG_AUDIENCE == TG_ERR_WRONG_AUDIENCE, "AUD");
_Static_assert(TGV_ERR_WRONG_ISSUER == TG_ERR_WRONG_ISSUER, "ISS");
_Static_assert(TGV_ERR_NOT_YET_VALID == TG_ERR_NOT_YET_VALID, "NBF");
_Static_assert(TGV_ERR_EXPIRED == TG_ERR_EXPIRED, "EXP");
_Static_assert(TGV_ERR_DIGEST_MISMATCH == TG_ERR_DIGEST_MISMATCH, "DIGEST");
_Static_assert(TGV_ERR_REDEEMED == TG_ERR_REDEEMED, "REDEEMED");
_Static_assert(TGV_ERR_APPROVAL == TG_ERR_APPROVAL, "APPROVAL");
_Static_assert(TGV_ERR_REVOKED == TG_ERR_REVOKED, "REVOKED");
_Static_assert(TGV_ERR_LIST_STALE == TG_ERR_LIST_STALE, "LIST_STALE");
_Static_assert(TGV_ORDER_MAX == JWS_MAX_LEN, "TGV_ORDER_MAX");
_Static_assert(TGV_LEEWAY_MAX < TGV_PRUNE_AFTER, "prune after any leeway");

#define CHANGE_TYP	"tapgate-change/v1"
#define HEX_ID_LEN	32	/* jti, request_id: 128 bits in hex */
#define DIGEST_HEX_LEN	64	/* evidence digests: SHA-256 in hex */
#define LIST_MAX	256	/* names, evidence digests */

/* ---- messages */

int
tgv_fail(struct tgv_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx != NULL) {
		va_start(ap, fmt);
		vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
		va_end(ap);
	}
	return err;
}

const char *
tgv_shown(const char *s, char out[TGV_SHOWN_LEN])
{
	size_t i, o = 0;
	unsigned char c;

	if (s == NULL) {
		snprintf(out, TGV_SHOWN_LEN, "(none)");
		return out;
	}
	for (i = 0; s[i] != '\0' && o < 64; i++) {
		c = (unsigned char)s[i];
		/* no terminal escapes, and no quote that fakes an end */
		out[o++] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ?
		    (char)c : '?';
	}
	if (s[i] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *
tgv_errmsg(const struct tgv_ctx *ctx)
{
	return ctx != NULL ? ctx->errmsg : "no context";
}

const char *
tgv_strerror(int err)
{
	/* short names for the causes a connector reports */
	switch (err) {
	case TGV_ERR_MALFORMED:		return "malformed";
	case TGV_ERR_UNKNOWN_KID:	return "unknown kid";
	case TGV_ERR_BAD_SIGNATURE:	return "bad signature";
	case TGV_ERR_WRONG_AUDIENCE:	return "wrong audience";
	case TGV_ERR_WRONG_ISSUER:	return "wrong issuer";
	case TGV_ERR_NOT_YET_VALID:	return "not yet valid";
	case TGV_ERR_EXPIRED:		return "expired";
	case TGV_ERR_DIGEST_MISMATCH:	return "change digest mismatch";
	case TGV_ERR_REDEEMED:		return "already redeemed";
	case TGV_ERR_REVOKED:		return "revoked";
	case TGV_ERR_LIST_STALE:	return "revocation list out of date";
	case TGV_ERR_APPROVAL:
		return "bad or missing approver assertion";
	}
	return tg_strerror(err);
}

/* ---- context */

int
tgv_ctx_new(struct tgv_ctx **ctxp)
{
	struct tgv_ctx *ctx;

	if (ctxp == NULL)
		return TGV_ERR_INVALID;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return TGV_ERR_NOMEM;
	ctx->leeway = TGV_LEEWAY_DEFAULT;
	ctx->min_approvals = -1;
	/* see tapgate_verify.h for why these */
	if (tgv_set_class_floor(ctx, "standard", 0) != 0 ||
	    tgv_set_class_floor(ctx, "shared", TGV_FLOOR_DEFAULT) != 0 ||
	    tgv_set_class_floor(ctx, "finance", TGV_FLOOR_DEFAULT) != 0 ||
	    tgv_set_class_floor(ctx, "admin", TGV_FLOOR_DEFAULT) != 0) {
		free(ctx);
		return TGV_ERR_INTERNAL;
	}
	*ctxp = ctx;
	return 0;
}

void
tgv_ctx_free(struct tgv_ctx **ctxp)
{
	struct tgv_ctx *ctx;

	if (ctxp == NULL || (ctx = *ctxp) == NULL)
		return;
	jwks_free(&ctx->keys);
	tgv_approvers_free(&ctx->approvers);
	tgv_revocations_clear(&ctx->revocations);
	free(ctx->audience);
	free(ctx->issuer);
	free(ctx);
	*ctxp = NULL;
}

int
tgv_read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, saved, r = TGV_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return TGV_ERR_IO;
	/* one byte more than allowed tells "too large" from "exactly max" */
	if ((buf = malloc(max + 2)) == NULL) {
		r = TGV_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = TGV_ERR_CONFIG;
			goto out;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	r = 0;
out:
	saved = errno;	/* for the caller's message */
	free(buf);
	close(fd);
	errno = saved;
	return r;
}

int
tgv_load_jwks(struct tgv_ctx *ctx, const char *doc, size_t len)
{
	struct jwks *set = NULL, *merged = NULL;
	size_t i;
	int r;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (doc == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no JWKS document");
	switch ((r = jwks_parse(doc, len, &set))) {
	case 0:
		break;
	case TG_ERR_NOMEM:
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	case TG_ERR_TOO_LONG:
		return tgv_fail(ctx, TGV_ERR_CONFIG, "JWKS is over %d bytes "
		    "or %d keys", JWKS_MAX_SIZE, JWKS_MAX_KEYS);
	default:
		return tgv_fail(ctx, TGV_ERR_CONFIG, "not a JWKS of Ed25519 "
		    "or P-256 public keys with distinct kids");
	}
	if (ctx->keys == NULL) {
		ctx->keys = set;
		return 0;
	}
	/* a second set adds up with the first, into a new one */
	if ((r = jwks_new(&merged)) != 0)
		goto fail;
	for (i = 0; i < jwks_count(ctx->keys) && r == 0; i++)
		r = jwks_add(merged, jwks_key(ctx->keys, i));
	for (i = 0; i < jwks_count(set) && r == 0; i++)
		r = jwks_add(merged, jwks_key(set, i));
	if (r != 0)
		goto fail;
	jwks_free(&ctx->keys);
	jwks_free(&set);
	ctx->keys = merged;
	return 0;
fail:
	jwks_free(&set);
	jwks_free(&merged);
	if (r == TG_ERR_NOMEM)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	return tgv_fail(ctx, TGV_ERR_CONFIG, "a key is trusted twice, or more "
	    "than %d keys in all", JWKS_MAX_KEYS);
}

/* Read path for a loader; the message names the file. */
static int
load_file(struct tgv_ctx *ctx, const char *what, const char *path,
    size_t max, int (*load)(struct tgv_ctx *, const char *, size_t))
{
	char *doc = NULL, msg[TGV_ERRMSG_LEN];
	size_t len;
	int r;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (path == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no %s file", what);
	if ((r = tgv_read_file(path, max, &doc, &len)) != 0) {
		if (r == TGV_ERR_CONFIG)
			return tgv_fail(ctx, r, "%s: over %zu bytes", path,
			    max);
		if (r == TGV_ERR_NOMEM)
			return tgv_fail(ctx, r, "out of memory");
		return tgv_fail(ctx, r, "%s: %s", path, strerror(errno));
	}
	if ((r = load(ctx, doc, len)) != 0) {
		snprintf(msg, sizeof(msg), "%s", ctx->errmsg);
		tgv_fail(ctx, r, "%s: %s", path, msg);
	}
	free(doc);
	return r;
}

int
tgv_load_jwks_file(struct tgv_ctx *ctx, const char *path)
{
	return load_file(ctx, "JWKS", path, JWKS_MAX_SIZE, tgv_load_jwks);
}

int
tgv_load_approvers(struct tgv_ctx *ctx, const char *doc, size_t len)
{
	struct tgv_approvers *a = NULL;
	int r;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (doc == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no approvers document");
	/* one appliance's approvers: which file counts must be obvious */
	if (ctx->approvers != NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID,
		    "an approvers file is already loaded");
	if ((r = tgv_approvers_parse(ctx, doc, len, &a)) != 0)
		return r;
	ctx->approvers = a;
	return 0;
}

int
tgv_load_approvers_file(struct tgv_ctx *ctx, const char *path)
{
	return load_file(ctx, "approvers", path, TGV_APPROVERS_FILE_MAX,
	    tgv_load_approvers);
}

/* Replace *slot with a copy of s (NULL allowed when may_clear). */
static int
set_string(struct tgv_ctx *ctx, char **slot, const char *s, bool may_clear,
    const char *what)
{
	char *copy = NULL;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (s == NULL && !may_clear)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no %s", what);
	if (s != NULL && (*s == '\0' || strlen(s) > TGV_NAME_MAX))
		return tgv_fail(ctx, TGV_ERR_INVALID, "%s empty or over %d "
		    "bytes", what, TGV_NAME_MAX);
	if (s != NULL && (copy = strdup(s)) == NULL)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

int
tgv_set_audience(struct tgv_ctx *ctx, const char *aud)
{
	return set_string(ctx, ctx != NULL ? &ctx->audience : NULL, aud,
	    false, "audience");
}

int
tgv_set_issuer(struct tgv_ctx *ctx, const char *issuer)
{
	return set_string(ctx, ctx != NULL ? &ctx->issuer : NULL, issuer,
	    true, "issuer");
}

int
tgv_set_leeway(struct tgv_ctx *ctx, int64_t seconds)
{
	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (seconds < 0 || seconds > TGV_LEEWAY_MAX)
		return tgv_fail(ctx, TGV_ERR_INVALID, "leeway must be 0 to "
		    "%d seconds", TGV_LEEWAY_MAX);
	ctx->leeway = seconds;
	return 0;
}

int
tgv_set_min_approvals(struct tgv_ctx *ctx, unsigned int n)
{
	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (n > TGV_APPROVALS_MAX)
		return tgv_fail(ctx, TGV_ERR_INVALID, "at most %d approvals "
		    "can be required", TGV_APPROVALS_MAX);
	ctx->min_approvals = (int)n;
	return 0;
}

int
tgv_set_class_floor(struct tgv_ctx *ctx, const char *class_name,
    unsigned int n)
{
	size_t i, len;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (class_name == NULL || (len = strlen(class_name)) == 0 ||
	    len > TGV_CLASS_NAME_MAX ||
	    strspn(class_name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return tgv_fail(ctx, TGV_ERR_INVALID, "a class is 1 to %d of "
		    "a-z, 0-9 and _", TGV_CLASS_NAME_MAX);
	if (n > TGV_APPROVALS_MAX)
		return tgv_fail(ctx, TGV_ERR_INVALID, "at most %d approvals "
		    "can be required", TGV_APPROVALS_MAX);
	for (i = 0; i < ctx->nfloors; i++)
		if (strcmp(ctx->floors[i].name, class_name) == 0)
			break;
	if (i == TGV_CLASSES_MAX)
		return tgv_fail(ctx, TGV_ERR_INVALID, "floors for at most %d "
		    "classes", TGV_CLASSES_MAX);
	memcpy(ctx->floors[i].name, class_name, len + 1);
	ctx->floors[i].n = n;
	if (i == ctx->nfloors)
		ctx->nfloors++;
	return 0;
}

/* ---- reading the payload: every member present, typed and bounded */

/* Whether s is text of 1..max bytes without a control character. */
static bool
is_text(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || i >= max)
			return false;
	return i > 0;
}

static bool
is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

/*
 * o must have exactly the members of names[0..n) among which those
 * before nreq are required; where names o in the message.
 */
static int
members(struct tgv_ctx *ctx, json_t *o, const char *where,
    const char *const *names, size_t n, size_t nreq)
{
	char shown[TGV_SHOWN_LEN];
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(o))
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s is %s", where,
		    o == NULL ? "missing" : "not an object");
	json_object_foreach(o, key, v) {
		for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
			;
		/* an unknown member could carry meaning we would ignore */
		if (i == n)
			return tgv_fail(ctx, TGV_ERR_MALFORMED,
			    "unknown member \"%s\" in %s",
			    tgv_shown(key, shown), where);
	}
	for (i = 0; i < nreq; i++)
		if (json_object_get(o, names[i]) == NULL)
			return tgv_fail(ctx, TGV_ERR_MALFORMED,
			    "%s has no member \"%s\"", where, names[i]);
	return 0;
}

/* str_value()'s form: a name, a DN, or else that many hex digits. */
#define AS_NAME	0
#define AS_DN	SIZE_MAX

/*
 * The string v, called where.name: a name (is_text(), TGV_NAME_MAX), a
 * DN (TGV_DN_MAX, as long as the appliance keeps one), or form lowercase
 * hex digits.
 */
static int
str_value(struct tgv_ctx *ctx, const json_t *v, const char *where,
    const char *name, size_t form, const char **sp)
{
	size_t max = form == AS_DN ? TGV_DN_MAX : TGV_NAME_MAX;
	const char *s;

	if (!json_is_string(v))
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is %s", where,
		    name, v == NULL ? "missing" : "not a string");
	s = json_string_value(v);
	if (form != AS_NAME && form != AS_DN) {
		if (!is_hex(s, form))
			return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is not "
			    "%zu lowercase hex digits", where, name, form);
	} else if (!is_text(s, max))
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is empty, over "
		    "%zu bytes or has a control character", where, name, max);
	*sp = s;
	return 0;
}

static int
get_str(struct tgv_ctx *ctx, const json_t *o, const char *where,
    const char *name, size_t form, const char **sp)
{
	return str_value(ctx, json_object_get(o, name), where, name, form,
	    sp);
}

/* An integer member in 0..2^53-1 (what RFC 8785 JSON reads exactly). */
static int
get_int(struct tgv_ctx *ctx, const json_t *o, const char *where,
    const char *name, int64_t *vp)
{
	const json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > JCS_INT_MAX)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is not an "
		    "integer from 0 to 2^53-1", where, name);
	*vp = (int64_t)json_integer_value(v);
	return 0;
}

/* An array member of at most LIST_MAX strings, each as str_value(). */
static int
get_list(struct tgv_ctx *ctx, const json_t *o, const char *where,
    const char *name, size_t form)
{
	const json_t *arr = json_object_get(o, name);
	const char *s;
	char item[48];
	size_t i;
	int r;

	if (!json_is_array(arr) || json_array_size(arr) > LIST_MAX)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is not an array "
		    "of at most %d strings", where, name, LIST_MAX);
	for (i = 0; i < json_array_size(arr); i++) {
		snprintf(item, sizeof(item), "%s[%zu]", name, i);
		if ((r = str_value(ctx, json_array_get(arr, i), where, item,
		    form, &s)) != 0)
			return r;
	}
	return 0;
}

/*
 * policy.approvals_required: at most TGV_APPROVALS_MAX items, each
 * exactly {"group": name, "count": 1..TGV_APPROVALS_MAX}, no group twice.
 */
static int
parse_required(struct tgv_ctx *ctx, json_t *p, struct tgv_order *o)
{
	static const char *const names[] = { "group", "count" };
	static const char where[] = "change.policy.approvals_required";
	json_t *arr = json_object_get(p, "approvals_required"), *item;
	char at[80];
	const char *g;
	int64_t count;
	size_t i, j;
	int r;

	if (arr == NULL)	/* an appliance from before it */
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > TGV_APPROVALS_MAX)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s is not an array "
		    "of at most %d items", where, TGV_APPROVALS_MAX);
	json_array_foreach(arr, i, item) {
		snprintf(at, sizeof(at), "%s[%zu]", where, i);
		if ((r = members(ctx, item, at, names, 2, 2)) != 0 ||
		    (r = get_str(ctx, item, at, "group", 0, &g)) != 0 ||
		    (r = get_int(ctx, item, at, "count", &count)) != 0)
			return r;
		if (count < 1 || count > TGV_APPROVALS_MAX)
			return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.count is "
			    "not 1 to %d", at, TGV_APPROVALS_MAX);
		for (j = 0; j < i; j++)
			if (strcmp(g, json_string_value(json_object_get(
			    json_array_get(arr, j), "group"))) == 0)
				return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s "
				    "names a group twice", where);
	}
	o->required = arr;
	return 0;
}

/*
 * The directory's facts in a change (an appliance with a directory
 * sends them all, one without none): target.dn a name,
 * target.privileged_groups and entitlements_dropped.groups lists of
 * names, each group dropped one the target holds.
 */
static int
target_facts(struct tgv_ctx *ctx, const json_t *t, const json_t *e)
{
	const json_t *priv = json_object_get(t, "privileged_groups"), *g, *p;
	const char *s;
	size_t i, j;
	int r, have;

	have = (json_object_get(t, "dn") != NULL) +
	    (priv != NULL) + (json_object_get(e, "groups") != NULL);
	if (have == 0)
		return 0;
	if (have != 3)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "change.target.dn, "
		    "change.target.privileged_groups and change."
		    "entitlements_dropped.groups come together");
	if ((r = get_str(ctx, t, "change.target", "dn", AS_DN, &s)) != 0 ||
	    (r = get_list(ctx, t, "change.target", "privileged_groups",
	    AS_DN)) != 0 ||
	    (r = get_list(ctx, e, "change.entitlements_dropped", "groups",
	    AS_DN)) != 0)
		return r;
	json_array_foreach(json_object_get(e, "groups"), i, g) {
		json_array_foreach(priv, j, p)
			if (json_equal(g, p))
				break;
		if (j == json_array_size(priv))
			return tgv_fail(ctx, TGV_ERR_MALFORMED, "change."
			    "entitlements_dropped.groups[%zu] is not among "
			    "change.target.privileged_groups", i);
	}
	return 0;
}

/*
 * change.evidence, the evidence the order rests on (orders from before
 * it have none): at most LIST_MAX items, each exactly {"type",
 * "channel", "origin", "verified_by"}, names, the type and origin from
 * their vocabularies.
 */
static int
parse_evidence(struct tgv_ctx *ctx, const json_t *c)
{
	static const char *const names[] = { "type", "channel", "origin",
	    "verified_by" };
	static const char *const types[] = { "pre_registered_factor",
	    "out_of_band_callback", "manager_confirmation",
	    "identity_document", "account_history" };
	static const char *const origins[] = { "agent", "appliance",
	    "officer" };
	const json_t *arr = json_object_get(c, "evidence");
	const char *t, *g, *s;
	char where[40];
	json_t *item;
	size_t i, k;
	int r;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > LIST_MAX)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "change.evidence is "
		    "not an array of at most %d items", LIST_MAX);
	json_array_foreach(arr, i, item) {
		snprintf(where, sizeof(where), "change.evidence[%zu]", i);
		if ((r = members(ctx, item, where, names, 4, 4)) != 0 ||
		    (r = get_str(ctx, item, where, "type", AS_NAME, &t)) != 0 ||
		    (r = get_str(ctx, item, where, "channel", AS_NAME,
		    &s)) != 0 ||
		    (r = get_str(ctx, item, where, "origin", AS_NAME,
		    &g)) != 0 ||
		    (r = get_str(ctx, item, where, "verified_by", AS_NAME,
		    &s)) != 0)
			return r;
		for (k = 0; k < 5 && strcmp(t, types[k]) != 0; k++)
			;
		if (k == 5)
			return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.type is no "
			    "evidence type", where);
		for (k = 0; k < 3 && strcmp(g, origins[k]) != 0; k++)
			;
		if (k == 3)
			return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.origin is "
			    "not agent, appliance or officer", where);
	}
	return 0;
}

static int
parse_change(struct tgv_ctx *ctx, json_t *c, struct tgv_order *o)
{
	static const char *const top[] = { "typ", "appliance", "request_id",
	    "queue", "target", "changes", "entitlements_dropped", "policy",
	    "evidence_digests", "requester", "evidence" };
	/* dn, privileged_groups and groups: what the directory said */
	static const char *const target[] = { "account", "system", "class",
	    "dn", "privileged_groups" };
	static const char *const ent[] = { "all_privileged", "names",
	    "groups" };
	static const char *const pol[] = { "id", "version",
	    "approvals_required" };
	static const char *const req[] = { "agent", "ticket" };
	json_t *t, *e, *p, *q;
	char msg[TGV_ERRMSG_LEN];
	const char *s;
	int64_t version;
	int r;

	if ((r = members(ctx, c, "change", top, 11, 10)) != 0 ||
	    (r = parse_evidence(ctx, c)) != 0)
		return r;
	if ((r = get_str(ctx, c, "change", "typ", 0, &s)) != 0)
		return r;
	if (strcmp(s, CHANGE_TYP) != 0)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "change.typ is not "
		    "\"%s\"", CHANGE_TYP);
	t = json_object_get(c, "target");
	e = json_object_get(c, "entitlements_dropped");
	p = json_object_get(c, "policy");
	q = json_object_get(c, "requester");
	if ((r = get_str(ctx, c, "change", "appliance", 0,
	    &o->appliance)) != 0 ||
	    (r = get_str(ctx, c, "change", "request_id", HEX_ID_LEN,
	    &o->request_id)) != 0 ||
	    (r = get_str(ctx, c, "change", "queue", 0, &o->queue)) != 0 ||
	    (r = members(ctx, t, "change.target", target, 5, 3)) != 0 ||
	    (r = target_facts(ctx, t, e)) != 0 ||
	    (r = get_str(ctx, t, "change.target", "account", 0,
	    &o->account)) != 0 ||
	    (r = get_str(ctx, t, "change.target", "system", 0,
	    &o->system)) != 0 ||
	    (r = get_str(ctx, t, "change.target", "class", 0,
	    &o->klass)) != 0 ||
	    (r = members(ctx, e, "change.entitlements_dropped", ent, 3,
	    2)) != 0 ||
	    (r = get_list(ctx, e, "change.entitlements_dropped", "names",
	    0)) != 0 ||
	    (r = members(ctx, p, "change.policy", pol, 3, 2)) != 0 ||
	    (r = get_str(ctx, p, "change.policy", "id", 0, &s)) != 0 ||
	    (r = get_int(ctx, p, "change.policy", "version",
	    &version)) != 0 ||
	    (r = parse_required(ctx, p, o)) != 0 ||
	    (r = get_list(ctx, c, "change", "evidence_digests",
	    DIGEST_HEX_LEN)) != 0 ||
	    (r = members(ctx, q, "change.requester", req, 2, 1)) != 0 ||
	    (r = get_str(ctx, q, "change.requester", "agent", 0, &s)) != 0)
		return r;
	if (!json_is_boolean(json_object_get(e, "all_privileged")))
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "change."
		    "entitlements_dropped.all_privileged is not a boolean");
	if (json_object_get(q, "ticket") != NULL &&
	    (r = get_str(ctx, q, "change.requester", "ticket", 0, &s)) != 0)
		return r;
	/* only what the queue's vocabulary allows: no key slipped in */
	if (vocab_check(o->queue, json_object_get(c, "changes"),
	    "change.changes", msg, sizeof(msg)) != 0)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s", msg);
	return 0;
}

/* A base64url string member decoded into 1..max bytes. */
static int
get_b64(struct tgv_ctx *ctx, const json_t *o, const char *where,
    const char *name, size_t max, uint8_t **outp, size_t *lenp)
{
	const json_t *v = json_object_get(o, name);
	int r;

	if (!json_is_string(v))
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is %s", where,
		    name, v == NULL ? "missing" : "not a string");
	r = b64url_decode(json_string_value(v), json_string_length(v), max,
	    outp, lenp);
	if (r == TG_ERR_NOMEM)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	if (r != 0 || *lenp == 0) {
		if (r == 0)
			free(*outp);
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.%s is not "
		    "base64url of 1 to %zu bytes", where, name, max);
	}
	return 0;
}

static void
approvals_free(struct tgv_approval *a, size_t n)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(a[i].client_data);
		free(a[i].cred_id);
		free(a[i].authdata);
		free(a[i].sig);
		free(a[i].nonce);
	}
	free(a);
}

/*
 * The approvals' shape: each an object of exactly the seven members (and
 * "nonce", 32 bytes, of an approval from the console), strings, the
 * binary ones valid base64url within their bounds.  What
 * they mean is tgv_approvals_check()'s business.
 */
static int
parse_approvals(struct tgv_ctx *ctx, json_t *arr, struct tgv_order *o,
    struct tgv_approval **ap, size_t *np)
{
	static const char *const names[] = { "approver", "group",
	    "credential_id", "alg", "authenticator_data", "client_data",
	    "signature", "nonce" };
	struct tgv_approval *a = NULL;
	char where[32];
	json_t *item;
	size_t i, n;
	int r = 0;

	if (!json_is_array(arr) ||
	    (n = json_array_size(arr)) > TGV_APPROVALS_MAX)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "approvals is not an "
		    "array of at most %d approvals", TGV_APPROVALS_MAX);
	if (n > 0 && ((a = calloc(n, sizeof(*a))) == NULL ||
	    (o->approvers = calloc(n, sizeof(*o->approvers))) == NULL)) {
		free(a);
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	}
	json_array_foreach(arr, i, item) {
		snprintf(where, sizeof(where), "approvals[%zu]", i);
		if ((r = members(ctx, item, where, names, 8, 7)) != 0 ||
		    (r = get_str(ctx, item, where, "approver", 0,
		    &a[i].approver)) != 0 ||
		    (r = get_str(ctx, item, where, "group", 0,
		    &a[i].group)) != 0 ||
		    (r = get_str(ctx, item, where, "alg", 0, &a[i].alg)) != 0 ||
		    (r = get_b64(ctx, item, where, "credential_id",
		    TOKEN_CRED_ID_MAX, &a[i].cred_id,
		    &a[i].cred_id_len)) != 0 ||
		    (r = get_b64(ctx, item, where, "authenticator_data",
		    TOKEN_AUTHDATA_MAX, &a[i].authdata,
		    &a[i].authdata_len)) != 0 ||
		    (r = get_b64(ctx, item, where, "client_data",
		    TGV_CLIENT_DATA_MAX, &a[i].client_data,
		    &a[i].client_data_len)) != 0 ||
		    (r = get_b64(ctx, item, where, "signature", TOKEN_SIG_MAX,
		    &a[i].sig, &a[i].sig_len)) != 0 ||
		    (json_object_get(item, "nonce") != NULL &&
		    (r = get_b64(ctx, item, where, "nonce",
		    CLIENTDATA_NONCE_LEN, &a[i].nonce,
		    &a[i].nonce_len)) != 0))
			break;
		if (a[i].nonce != NULL &&
		    a[i].nonce_len != CLIENTDATA_NONCE_LEN) {
			r = tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.nonce is not "
			    "32 bytes", where);
			break;
		}
		if (strcmp(a[i].alg, "ES256") != 0 &&
		    strcmp(a[i].alg, "EdDSA") != 0) {
			r = tgv_fail(ctx, TGV_ERR_MALFORMED, "%s.alg is "
			    "neither ES256 nor EdDSA", where);
			break;
		}
		o->approvers[i] = a[i].approver;
	}
	if (r != 0) {
		approvals_free(a, n);
		return r;
	}
	o->napprovers = n;
	*ap = a;
	*np = n;
	return 0;
}

/*
 * The audit anchor, when the order has one: {"seq","hash"}, the head of
 * the appliance's audit chain when it signed (a downstream keeps it to
 * hold the appliance's log to later).  Orders from before anchors have
 * none.
 */
static int
parse_audit(struct tgv_ctx *ctx, const json_t *root, struct tgv_order *o)
{
	static const char *const names[] = { "seq", "hash" };
	json_t *a = json_object_get(root, "audit");
	int r;

	if (a == NULL)
		return 0;
	if ((r = members(ctx, a, "order.audit", names, 2, 2)) != 0 ||
	    (r = get_int(ctx, a, "order.audit", "seq", &o->audit_seq)) != 0 ||
	    (r = get_str(ctx, a, "order.audit", "hash", DIGEST_HEX_LEN,
	    &o->audit_hash)) != 0)
		return r;
	return 0;
}

/*
 * The signed payload: one JSON object that is its own RFC 8785 form, with
 * exactly the order's members.
 */
static int
parse_payload(struct tgv_ctx *ctx, const uint8_t *payload, size_t len,
    struct tgv_order *o, struct tgv_approval **ap, size_t *np)
{
	static const char *const top[] = { "iss", "aud", "iat", "nbf", "exp",
	    "jti", "change", "change_digest", "approvals", "audit" };
	char shown[TGV_SHOWN_LEN], *canon = NULL;
	json_t *root;
	json_error_t e;
	size_t clen;
	int r;

	/* jansson refuses trailing data and NUL in strings by default */
	if ((o->payload = json_loadb((const char *)payload, len,
	    JSON_REJECT_DUPLICATES, &e)) == NULL)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "payload is not JSON "
		    "(%s at byte %d)", tgv_shown(e.text, shown), e.position);
	root = o->payload;
	if (!json_is_object(root))
		return tgv_fail(ctx, TGV_ERR_MALFORMED,
		    "payload is not a JSON object");
	/*
	 * One order, one encoding: a payload that is not its own canonical
	 * form (spaces, member order, escapes, floats) is refused, so what
	 * was signed is exactly what every reader sees.
	 */
	r = jcs_serialize(root, &canon, &clen);
	if (r == TG_ERR_NOMEM)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	if (r != 0 || clen != len || memcmp(canon, payload, len) != 0) {
		free(canon);
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "payload is not in "
		    "RFC 8785 canonical form");
	}
	free(canon);
	if ((r = members(ctx, root, "the order", top, 10, 9)) != 0 ||
	    (r = get_str(ctx, root, "order", "iss", 0, &o->iss)) != 0 ||
	    (r = get_str(ctx, root, "order", "aud", 0, &o->aud)) != 0 ||
	    (r = get_int(ctx, root, "order", "iat", &o->iat)) != 0 ||
	    (r = get_int(ctx, root, "order", "nbf", &o->nbf)) != 0 ||
	    (r = get_int(ctx, root, "order", "exp", &o->exp)) != 0 ||
	    (r = get_str(ctx, root, "order", "jti", HEX_ID_LEN,
	    &o->jti)) != 0 ||
	    (r = parse_change(ctx, json_object_get(root, "change"), o)) != 0 ||
	    (r = parse_audit(ctx, root, o)) != 0)
		return r;
	if (!json_is_string(json_object_get(root, "change_digest")))
		return tgv_fail(ctx, TGV_ERR_MALFORMED,
		    "order.change_digest is not a string");
	r = jcs_serialize(json_object_get(root, "change"), &o->change_json,
	    &o->change_len);
	if (r != 0)
		return tgv_fail(ctx, r == TG_ERR_NOMEM ? TGV_ERR_NOMEM :
		    TGV_ERR_INTERNAL, "cannot serialise the change");
	return parse_approvals(ctx, json_object_get(root, "approvals"), o, ap,
	    np);
}

/* ---- the checks */

/*
 * Only for messages: the alg and kid the token's header claims, shown
 * safely, or "?" when the header cannot be read.
 */
static void
header_claims(const char *token, size_t len, char alg[TGV_SHOWN_LEN],
    char kid[TGV_SHOWN_LEN])
{
	const char *dot;
	uint8_t *hdr = NULL;
	size_t hlen;
	json_t *h = NULL, *v;

	snprintf(alg, TGV_SHOWN_LEN, "?");
	snprintf(kid, TGV_SHOWN_LEN, "?");
	if (token == NULL || (dot = memchr(token, '.', len)) == NULL ||
	    b64url_decode(token, (size_t)(dot - token), JWS_MAX_LEN, &hdr,
	    &hlen) != 0)
		return;
	if ((h = json_loadb((const char *)hdr, hlen, 0, NULL)) != NULL) {
		if (json_is_string(v = json_object_get(h, "alg")))
			tgv_shown(json_string_value(v), alg);
		if (json_is_string(v = json_object_get(h, "kid")))
			tgv_shown(json_string_value(v), kid);
	}
	json_decref(h);
	free(hdr);
}

static int
check_signature(struct tgv_ctx *ctx, const char *token, size_t len,
    uint8_t **payloadp, size_t *plenp, char **kidp)
{
	char alg[TGV_SHOWN_LEN], kid[TGV_SHOWN_LEN];
	int r;

	if (len > JWS_MAX_LEN)
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "order is over %d "
		    "bytes", JWS_MAX_LEN);
	if ((r = jws_verify(token, len, ctx->keys, payloadp, plenp,
	    kidp)) == 0)
		return 0;
	header_claims(token, len, alg, kid);
	switch (r) {
	case TG_ERR_NOMEM:
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	case TG_ERR_UNKNOWN_KID:
		return tgv_fail(ctx, TGV_ERR_UNKNOWN_KID, "kid \"%s\" is not "
		    "among the %zu trusted keys", kid, jwks_count(ctx->keys));
	case TG_ERR_ALG_REFUSED:
		return tgv_fail(ctx, TGV_ERR_BAD_SIGNATURE, "alg \"%s\" is "
		    "not allowed (EdDSA or ES256 only)", alg);
	case TG_ERR_ALG_MISMATCH:
		return tgv_fail(ctx, TGV_ERR_BAD_SIGNATURE, "alg \"%s\" is "
		    "not the algorithm of key \"%s\"", alg, kid);
	case TG_ERR_BAD_SIGNATURE:
		return tgv_fail(ctx, TGV_ERR_BAD_SIGNATURE, "the signature "
		    "does not verify with key \"%s\"", kid);
	default:
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "not a compact JWS "
		    "with a %s header {alg,kid,typ}", JWS_TYP);
	}
}

static int
check_claims(struct tgv_ctx *ctx, const struct tgv_order *o, int64_t now)
{
	char a[TGV_SHOWN_LEN], b[TGV_SHOWN_LEN];

	if (strcmp(o->aud, ctx->audience) != 0)
		return tgv_fail(ctx, TGV_ERR_WRONG_AUDIENCE, "order is for "
		    "\"%s\", this system is \"%s\"", tgv_shown(o->aud, a),
		    tgv_shown(ctx->audience, b));
	/* an order for one system must not carry a change for another */
	if (strcmp(o->aud, o->system) != 0)
		return tgv_fail(ctx, TGV_ERR_WRONG_AUDIENCE, "aud \"%s\" is "
		    "not the change's target system \"%s\"",
		    tgv_shown(o->aud, a), tgv_shown(o->system, b));
	if (ctx->issuer != NULL && strcmp(o->iss, ctx->issuer) != 0)
		return tgv_fail(ctx, TGV_ERR_WRONG_ISSUER, "order is from "
		    "\"%s\", expected \"%s\"", tgv_shown(o->iss, a),
		    tgv_shown(ctx->issuer, b));
	/* all terms within 0..2^53 and leeway <= 3600: no overflow */
	if (now + ctx->leeway < o->nbf)
		return tgv_fail(ctx, TGV_ERR_NOT_YET_VALID, "valid from "
		    "%lld, now is %lld (leeway %lld s)", (long long)o->nbf,
		    (long long)now, (long long)ctx->leeway);
	if (now - ctx->leeway >= o->exp)
		return tgv_fail(ctx, TGV_ERR_EXPIRED, "expired at %lld, now "
		    "is %lld (leeway %lld s)", (long long)o->exp,
		    (long long)now, (long long)ctx->leeway);
	return 0;
}

static int
check_digest(struct tgv_ctx *ctx, const struct tgv_order *o)
{
	const json_t *v = json_object_get(o->payload, "change_digest");
	uint8_t want[SHA256_DIGEST_LENGTH], *got = NULL;
	size_t glen = 0;
	int r, same;

	SHA256((const unsigned char *)o->change_json, o->change_len, want);
	r = b64url_decode(json_string_value(v), json_string_length(v),
	    sizeof(want), &got, &glen);
	if (r == TG_ERR_NOMEM)
		return tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
	if (r != 0 || glen != sizeof(want)) {
		free(got);
		return tgv_fail(ctx, TGV_ERR_MALFORMED, "order.change_digest "
		    "is not base64url of 32 bytes");
	}
	same = CRYPTO_memcmp(got, want, sizeof(want)) == 0;
	free(got);
	if (!same)
		return tgv_fail(ctx, TGV_ERR_DIGEST_MISMATCH, "change_digest "
		    "is not SHA-256 of the change (request %s)",
		    o->request_id);
	return 0;
}

/* The floor of class klass: its own, or the highest of any class. */
static unsigned int
class_floor(const struct tgv_ctx *ctx, const char *klass)
{
	unsigned int max = 0;
	size_t i;

	for (i = 0; i < ctx->nfloors; i++) {
		if (strcmp(ctx->floors[i].name, klass) == 0)
			return ctx->floors[i].n;
		if (ctx->floors[i].n > max)
			max = ctx->floors[i].n;
	}
	return max;
}

/*
 * The approvals the order needs: its class's floor in all, and what its
 * policy required of each group, counted among the approvals that were
 * verified (none when no approvers file is loaded).
 */
static int
check_required(struct tgv_ctx *ctx, const struct tgv_order *o,
    const struct tgv_approval *ap, size_t nap, bool verified)
{
	static const char unverified[] = " (no approvers file is loaded to "
	    "verify them)";
	char s1[TGV_SHOWN_LEN], s2[TGV_SHOWN_LEN];
	unsigned int floor = class_floor(ctx, o->klass);
	const json_t *item;
	const char *group;
	json_int_t want;
	size_t i, j, got;

	if (!verified)
		nap = 0;	/* approvals nobody checked count for nothing */
	if (nap < floor)
		return tgv_fail(ctx, TGV_ERR_APPROVAL, "class %s needs at "
		    "least %u verified approval%s here, the order has %zu%s",
		    tgv_shown(o->klass, s1), floor, floor == 1 ? "" : "s",
		    nap, verified ? "" : unverified);
	json_array_foreach(o->required, i, item) {
		group = json_string_value(json_object_get(item, "group"));
		want = json_integer_value(json_object_get(item, "count"));
		for (got = 0, j = 0; j < nap; j++)
			got += strcmp(ap[j].group, group) == 0;
		if ((json_int_t)got < want)
			return tgv_fail(ctx, TGV_ERR_APPROVAL, "the order's "
			    "policy required %lld approval%s of %s, %zu "
			    "verified%s", (long long)want, want == 1 ? "" : "s",
			    tgv_shown(group, s2), got,
			    verified ? "" : unverified);
	}
	return 0;
}

int
tgv_verify(struct tgv_ctx *ctx, const char *token, size_t len, int64_t now,
    struct tgv_order **orderp)
{
	struct tgv_order *o = NULL;
	struct tgv_approval *ap = NULL;
	uint8_t *payload = NULL;
	size_t plen, nap = 0;
	char *kid = NULL;
	int min, r;

	if (ctx == NULL)
		return TGV_ERR_INVALID;
	ctx->errmsg[0] = '\0';
	if (orderp == NULL || (token == NULL && len > 0))
		return tgv_fail(ctx, TGV_ERR_INVALID, "no token or no place "
		    "for the order");
	if (ctx->keys == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no trusted keys loaded");
	if (ctx->audience == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "no audience set");
	if (now < 0 || now > JCS_INT_MAX)
		return tgv_fail(ctx, TGV_ERR_INVALID, "now is out of range");
	min = ctx->min_approvals >= 0 ? ctx->min_approvals : 0;
	if (min > 0 && ctx->approvers == NULL)
		return tgv_fail(ctx, TGV_ERR_INVALID, "a minimum of approvals "
		    "needs an approvers file to check them against");

	if ((r = check_signature(ctx, token, len, &payload, &plen,
	    &kid)) != 0)
		goto out;
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		r = tgv_fail(ctx, TGV_ERR_NOMEM, "out of memory");
		goto out;
	}
	o->kid = kid;
	kid = NULL;	/* transferred */
	if ((r = parse_payload(ctx, payload, plen, o, &ap, &nap)) != 0)
		goto out;
	if (tgv_revoked(ctx, o->jti)) {
		r = tgv_fail(ctx, TGV_ERR_REVOKED, "jti %s is on the "
		    "appliance's revocation list (issued %lld): the request "
		    "was denied or vetoed; do not apply it", o->jti,
		    (long long)ctx->revocations.iat);
		goto out;
	}
	if ((r = check_claims(ctx, o, now)) != 0 ||
	    (r = check_digest(ctx, o)) != 0)
		goto out;
	if (ctx->approvers != NULL) {
		if ((r = tgv_approvals_check(ctx, o->appliance,
		    json_string_value(json_object_get(o->payload,
		    "change_digest")), ap, nap, (unsigned int)min)) != 0)
			goto out;
		o->approvals_verified = true;
	}
	if ((r = check_required(ctx, o, ap, nap,
	    o->approvals_verified)) != 0)
		goto out;
	o->leeway = ctx->leeway;
	*orderp = o;
	o = NULL;	/* transferred */
	r = 0;
out:
	approvals_free(ap, nap);
	free(payload);
	free(kid);
	tgv_order_free(&o);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * Loading the appliance configuration with libconfig.
 *
 * libconfig gives a typed tree; this file walks it against a fixed schema.
 * Every group's keys are checked against the names it may hold, so a typo
 * ("hold_secnds") is an error instead of a silently missing rule, and every
 * value is checked for type and bounds before it is copied into the plain
 * struct policy_config.  Nothing of libconfig survives the load.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/clientdata.h"
#include "common/errors.h"
#include "policy/policy.h"

#define PATH_DEPTH_MAX	16	/* the schema is shallower; deeper = bogus */
#define DEFAULT_HOOK_TIMEOUT_MS	5000

struct loader {
	struct policy_config	*cfg;
	char			*err;
	size_t			 errlen;
};

/* What a configured string may contain. */
enum str_kind {
	STR_IDENT,	/* lowercase id: channels, groups, policy id */
	STR_NAME,	/* printable ASCII: accounts, groups, entitlements */
	STR_PATTERN,	/* STR_NAME that is also a sane fnmatch pattern */
	STR_PATH,	/* absolute path, no spaces, no ".." */
	STR_DN,		/* STR_NAME that is a DN (policy_dn_normalize) */
	STR_HOST	/* a DNS name: rp_id */
};

/*
 * Append to buf at *off without overflowing; a truncated message is still
 * NUL-terminated and still names the setting first.
 */
static void
append(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len == 0 || *off >= len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= len - *off)
		*off = len - 1;
	else
		*off += (size_t)n;
}

/* A one-line message for the caller, if it gave room for one. */
static void
errf(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
errf(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* "rules.mfa_reset.admin.approvals[0].group" for a setting. */
static void
setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[PATH_DEPTH_MAX];
	size_t n = 0, i, off = 0;
	const char *name;

	buf[0] = '\0';
	for (; s != NULL && !config_setting_is_root(s);
	    s = config_setting_parent(s)) {
		if (n == PATH_DEPTH_MAX) {
			append(buf, len, &off, "...");
			break;
		}
		chain[n++] = s;
	}
	for (i = n; i-- > 0;) {
		if ((name = config_setting_name(chain[i])) != NULL)
			append(buf, len, &off, "%s%s", off ? "." : "", name);
		else
			append(buf, len, &off, "[%d]",
			    config_setting_index(chain[i]));
	}
}

/*
 * Quote a configured value for a message: control and non-ASCII bytes
 * escaped (the message goes to a terminal and the journal), long values
 * cut.
 */
static const char *
quote(const char *v, char *buf, size_t len)
{
	size_t off = 0, i;

	append(buf, len, &off, "\"");
	for (i = 0; v[i] != '\0' && i < 64; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			append(buf, len, &off, "\\x%02x", c);
		else
			append(buf, len, &off, "%c", c);
	}
	append(buf, len, &off, "%s\"", v[i] != '\0' ? "..." : "");
	return buf;
}

/*
 * Record "config line N: SETTING[.member]: message" and return
 * TG_ERR_CONFIG.  member names a setting of group s that is absent.
 */
static int
fail(struct loader *ld, const config_setting_t *s, const char *member,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(struct loader *ld, const config_setting_t *s, const char *member,
    const char *fmt, ...)
{
	char path[256], msg[384];
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;
	size_t off = 0;
	va_list ap;

	setting_path(s, path, sizeof(path));
	off = strlen(path);
	if (member != NULL)
		append(path, sizeof(path), &off, "%s%s", off ? "." : "",
		    member);
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	off = 0;
	if (ld->errlen > 0) {
		if (line > 0)
			append(ld->err, ld->errlen, &off, "config line %u: ",
			    line);
		else
			append(ld->err, ld->errlen, &off, "config: ");
		append(ld->err, ld->errlen, &off, "%s: %s",
		    path[0] != '\0' ? path : "(top level)", msg);
	}
	return TG_ERR_CONFIG;
}

static const char *
type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:		return "an integer";
	case CONFIG_TYPE_FLOAT:		return "a floating-point number";
	case CONFIG_TYPE_STRING:	return "a string";
	case CONFIG_TYPE_BOOL:		return "a boolean";
	case CONFIG_TYPE_ARRAY:		return "an array [ ]";
	case CONFIG_TYPE_LIST:		return "a list ( )";
	}
	return "an unknown type";
}

static bool
in_list(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return true;
	return false;
}

/*
 * Refuse any member of group grp not named in allowed: a misspelt key in a
 * security policy must stop the load, not weaken the policy.
 */
static int
check_keys(struct loader *ld, const config_setting_t *grp,
    const char *const *allowed, size_t nallowed, const char *what)
{
	const config_setting_t *m;
	char q[96];
	int i, n = config_setting_length(grp);

	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(grp, (unsigned)i);
		if (m == NULL || config_setting_name(m) == NULL)
			return fail(ld, grp, NULL, "malformed group");
		if (!in_list(allowed, nallowed, config_setting_name(m)))
			return fail(ld, m, NULL, "unknown %s %s", what,
			    quote(config_setting_name(m), q, sizeof(q)));
	}
	return 0;
}

static int
expect_type(struct loader *ld, const config_setting_t *s, int type)
{
	if (config_setting_type(s) != type)
		return fail(ld, s, NULL, "expected %s, got %s",
		    type_name(type), type_name(config_setting_type(s)));
	return 0;
}

/* *out = member name of grp, or NULL if absent and optional. */
static int
member(struct loader *ld, const config_setting_t *grp, const char *name,
    bool required, const config_setting_t **out)
{
	const config_setting_t *m;

	*out = NULL;
	m = config_setting_get_member(grp, name);
	if (m == NULL && required)
		return fail(ld, grp, name, "missing required setting");
	*out = m;
	return 0;
}

static int
member_group(struct loader *ld, const config_setting_t *grp,
    const char *name, bool required, const config_setting_t **out)
{
	const config_setting_t *m;
	int r;

	if ((r = member(ld, grp, name, required, &m)) != 0)
		return r;
	if (m != NULL && (r = expect_type(ld, m, CONFIG_TYPE_GROUP)) != 0)
		return r;
	*out = m;
	return 0;
}

static int
int_value(struct loader *ld, const config_setting_t *s, int64_t min,
    int64_t max, int64_t *out)
{
	int type = config_setting_type(s);
	long long v;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return fail(ld, s, NULL, "expected an integer, got %s",
		    type_name(type));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(ld, s, NULL, "must be between %lld and %lld, "
		    "not %lld", (long long)min, (long long)max, v);
	*out = (int64_t)v;
	return 0;
}

static int
get_int(struct loader *ld, const config_setting_t *grp, const char *name,
    bool required, int64_t def, int64_t min, int64_t max, int64_t *out)
{
	const config_setting_t *m;
	int r;

	if ((r = member(ld, grp, name, required, &m)) != 0)
		return r;
	if (m == NULL) {
		*out = def;
		return 0;
	}
	return int_value(ld, m, min, max, out);
}

static int
get_uint(struct loader *ld, const config_setting_t *grp, const char *name,
    bool required, unsigned def, unsigned min, unsigned max, unsigned *out)
{
	int64_t v;
	int r;

	if ((r = get_int(ld, grp, name, required, def, min, max, &v)) != 0)
		return r;
	*out = (unsigned)v;
	return 0;
}

static int
get_bool(struct loader *ld, const config_setting_t *grp, const char *name,
    bool def, bool *out)
{
	const config_setting_t *m;
	int r;

	if ((r = member(ld, grp, name, false, &m)) != 0)
		return r;
	if (m == NULL) {
		*out = def;
		return 0;
	}
	if ((r = expect_type(ld, m, CONFIG_TYPE_BOOL)) != 0)
		return r;
	*out = config_setting_get_bool(m) != 0;
	return 0;
}

static bool
ident_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

/* Validate a configured string value v of setting s. */
static int
check_string(struct loader *ld, const config_setting_t *s, const char *v,
    enum str_kind kind, size_t max)
{
	size_t len = strlen(v), i, stars = 0;
	char q[96], dn[POLICY_FACT_DN_MAX + 1];
	int fr;

	if (len == 0 || len > max)
		return fail(ld, s, NULL, "must be 1 to %zu characters long",
		    max);
	for (i = 0; i < len; i++) {
		char c = v[i];

		switch (kind) {
		case STR_IDENT:
			if (!ident_char(c, i == 0))
				return fail(ld, s, NULL, "%s: only lowercase "
				    "letters, digits, '_', '.' and '-' "
				    "(starting with a letter or digit)",
				    quote(v, q, sizeof(q)));
			break;
		case STR_HOST:
			/* labels: letters, digits, inner '-' */
			if (!ident_char(c, i == 0) || c == '_' ||
			    ((c == '.' || c == '-') && (i + 1 == len ||
			    v[i + 1] == '.' || v[i - 1] == '.')))
				return fail(ld, s, NULL, "%s: not a lowercase "
				    "DNS name", quote(v, q, sizeof(q)));
			break;
		case STR_NAME:
		case STR_PATTERN:
		case STR_DN:
			if (c < 0x20 || c > 0x7e)
				return fail(ld, s, NULL, "%s: only printable "
				    "ASCII", quote(v, q, sizeof(q)));
			stars += c == '*';
			break;
		case STR_PATH:
			if (c <= 0x20 || c > 0x7e)
				return fail(ld, s, NULL, "%s: only printable "
				    "ASCII without spaces",
				    quote(v, q, sizeof(q)));
			break;
		}
	}
	if ((kind == STR_NAME || kind == STR_PATTERN || kind == STR_DN) &&
	    (v[0] == ' ' || v[len - 1] == ' '))
		return fail(ld, s, NULL, "%s: leading or trailing space",
		    quote(v, q, sizeof(q)));
	if (kind == STR_DN && policy_dn_normalize(v, dn, sizeof(dn)) != 0)
		return fail(ld, s, NULL, "%s: not a DN (type=value,...)",
		    quote(v, q, sizeof(q)));
	if (kind == STR_PATH && (v[0] != '/' || strstr(v, "/../") != NULL ||
	    (len >= 3 && strcmp(v + len - 3, "/..") == 0)))
		return fail(ld, s, NULL, "%s: must be an absolute path "
		    "without \"..\"", quote(v, q, sizeof(q)));
	if (kind == STR_PATTERN) {
		/* glibc fnmatch backtracks: n^stars steps per account. */
		if (stars > POLICY_MAX_PATTERN_STARS)
			return fail(ld, s, NULL, "%s: at most %d '*' per "
			    "pattern", quote(v, q, sizeof(q)),
			    POLICY_MAX_PATTERN_STARS);
		fr = fnmatch(v, "x", FNM_CASEFOLD);
		if (fr != 0 && fr != FNM_NOMATCH)
			return fail(ld, s, NULL, "%s: not a valid pattern",
			    quote(v, q, sizeof(q)));
	}
	return 0;
}

static int
get_string(struct loader *ld, const config_setting_t *grp, const char *name,
    bool required, enum str_kind kind, char *out, size_t outsz)
{
	const config_setting_t *m;
	const char *v;
	int r;

	if ((r = member(ld, grp, name, required, &m)) != 0)
		return r;
	if (m == NULL)
		return 0;
	if ((r = expect_type(ld, m, CONFIG_TYPE_STRING)) != 0)
		return r;
	if ((v = config_setting_get_string(m)) == NULL)
		return fail(ld, m, NULL, "unreadable string");
	if ((r = check_string(ld, m, v, kind, outsz - 1)) != 0)
		return r;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/*
 * *out = the array or list member name of grp (NULL if absent and
 * optional), with at most max elements.
 */
static int
member_list(struct loader *ld, const config_setting_t *grp, const char *name,
    bool required, size_t max, const config_setting_t **out)
{
	const config_setting_t *m;
	int r, type;

	if ((r = member(ld, grp, name, required, &m)) != 0)
		return r;
	if (m != NULL) {
		type = config_setting_type(m);
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return fail(ld, m, NULL, "expected a list [ ], got %s",
			    type_name(type));
		if ((size_t)config_setting_length(m) > max)
			return fail(ld, m, NULL, "too many entries (%d, at "
			    "most %zu)", config_setting_length(m), max);
	}
	*out = m;
	return 0;
}

/* The string at index i of list l, type-checked. */
static int
list_string(struct loader *ld, const config_setting_t *l, int i,
    const config_setting_t **elem, const char **v)
{
	const config_setting_t *e;
	int r;

	if ((e = config_setting_get_elem(l, (unsigned)i)) == NULL)
		return fail(ld, l, NULL, "malformed list");
	if ((r = expect_type(ld, e, CONFIG_TYPE_STRING)) != 0)
		return r;
	if ((*v = config_setting_get_string(e)) == NULL)
		return fail(ld, e, NULL, "unreadable string");
	*elem = e;
	return 0;
}

/*
 * A list of strings copied into rows of stride bytes at base; duplicates
 * are refused (ignoring case for names, as matching does).
 */
static int
get_string_list(struct loader *ld, const config_setting_t *grp,
    const char *name, bool required, bool nonempty, enum str_kind kind,
    size_t max, char *base, size_t stride, size_t *n)
{
	const config_setting_t *l, *e;
	const char *v;
	char q[96];
	int r, i, j, len;

	if ((r = member_list(ld, grp, name, required, max, &l)) != 0)
		return r;
	*n = 0;
	if (l == NULL)
		return 0;
	len = config_setting_length(l);
	if (nonempty && len == 0)
		return fail(ld, l, NULL, "must not be empty");
	for (i = 0; i < len; i++) {
		if ((r = list_string(ld, l, i, &e, &v)) != 0 ||
		    (r = check_string(ld, e, v, kind, stride - 1)) != 0)
			return r;
		for (j = 0; j < i; j++) {
			const char *prev = base + (size_t)j * stride;

			if ((kind == STR_IDENT || kind == STR_PATH) ?
			    strcmp(prev, v) == 0 : strcasecmp(prev, v) == 0)
				return fail(ld, e, NULL, "%s listed twice",
				    quote(v, q, sizeof(q)));
		}
		memcpy(base + (size_t)i * stride, v, strlen(v) + 1);
	}
	*n = (size_t)len;
	return 0;
}

/* A list of evidence type names as a POLICY_EVIDENCE_BIT mask. */
static int
get_evidence_list(struct loader *ld, const config_setting_t *grp,
    const char *name, bool required, bool nonempty, unsigned *mask)
{
	const config_setting_t *l, *e;
	enum policy_evidence_type t;
	const char *v;
	char q[96];
	int r, i, len;

	if ((r = member_list(ld, grp, name, required, POLICY_EVIDENCE_COUNT,
	    &l)) != 0)
		return r;
	*mask = 0;
	if (l == NULL)
		return 0;
	len = config_setting_length(l);
	if (nonempty && len == 0)
		return fail(ld, l, NULL, "must not be empty");
	for (i = 0; i < len; i++) {
		if ((r = list_string(ld, l, i, &e, &v)) != 0)
			return r;
		if (policy_evidence_parse(v, &t) != 0)
			return fail(ld, e, NULL, "unknown evidence type %s",
			    quote(v, q, sizeof(q)));
		if (*mask & POLICY_EVIDENCE_BIT(t))
			return fail(ld, e, NULL, "%s listed twice",
			    quote(v, q, sizeof(q)));
		*mask |= POLICY_EVIDENCE_BIT(t);
	}
	return 0;
}

static int
parse_appliance(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "id", "name", "rp_id",
	    "state_dir", "socket", "order_issuer" };
	struct policy_appliance *a = &ld->cfg->appliance;
	const config_setting_t *g;
	int r;

	if ((r = member_group(ld, root, "appliance", true, &g)) != 0 ||
	    (r = check_keys(ld, g, keys, 6, "setting")) != 0 ||
	    (r = get_string(ld, g, "id", true, STR_IDENT, a->id,
	    sizeof(a->id))) != 0 ||
	    (r = get_string(ld, g, "name", true, STR_NAME, a->name,
	    sizeof(a->name))) != 0 ||
	    (r = get_string(ld, g, "rp_id", true, STR_HOST, a->rp_id,
	    sizeof(a->rp_id))) != 0 ||
	    (r = get_string(ld, g, "state_dir", true, STR_PATH, a->state_dir,
	    sizeof(a->state_dir))) != 0 ||
	    (r = get_string(ld, g, "socket", true, STR_PATH, a->socket,
	    sizeof(a->socket))) != 0 ||
	    (r = get_string(ld, g, "order_issuer", true, STR_NAME,
	    a->order_issuer, sizeof(a->order_issuer))) != 0)
		return r;
	return 0;
}

static int
parse_policy_id(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "id", "version" };
	struct policy_config *cfg = ld->cfg;
	const config_setting_t *g;
	int r;

	/*
	 * An integer version: orders embed it in canonical JSON (integers
	 * only) and a downstream system can refuse an older policy.
	 */
	if ((r = member_group(ld, root, "policy", true, &g)) != 0 ||
	    (r = check_keys(ld, g, keys, 2, "setting")) != 0 ||
	    (r = get_string(ld, g, "id", true, STR_IDENT, cfg->policy_id,
	    sizeof(cfg->policy_id))) != 0 ||
	    (r = get_int(ld, g, "version", true, 0, 1, INT32_MAX,
	    &cfg->policy_version)) != 0)
		return r;
	return 0;
}

/*
 * A certificate's fingerprint: cert_sha256 = "64 hex digits" (colons
 * between the bytes allowed, as openssl x509 -fingerprint prints them).
 */
static int
get_cert_sha256(struct loader *ld, const config_setting_t *m,
    uint8_t out[POLICY_CERT_SHA256_LEN])
{
	const char *v;
	size_t n = 0;
	int hi = -1, x;

	if (config_setting_type(m) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(m)) == NULL)
		return fail(ld, m, NULL, "must be a string");
	for (; *v != '\0'; v++) {
		if (*v == ':' && hi < 0 && n > 0)
			continue;
		if (*v >= '0' && *v <= '9')
			x = *v - '0';
		else if (*v >= 'a' && *v <= 'f')
			x = *v - 'a' + 10;
		else if (*v >= 'A' && *v <= 'F')
			x = *v - 'A' + 10;
		else
			break;
		if (n == POLICY_CERT_SHA256_LEN)
			break;
		if (hi < 0) {
			hi = x;
			continue;
		}
		out[n++] = (uint8_t)(hi << 4 | x);
		hi = -1;
	}
	if (*v != '\0' || n != POLICY_CERT_SHA256_LEN || hi >= 0)
		return fail(ld, m, NULL, "must be the SHA-256 fingerprint of a "
		    "certificate: 64 hex digits");
	return 0;
}

/*
 * Who an entry names: exactly one of uid, gid, cert_sha256 and user (a
 * console user's name, a canonical identity, into user[POLICY_IDENT_MAX
 * + 1]).
 */
static int
get_caller(struct loader *ld, const config_setting_t *e, bool *is_gid,
    bool *is_cert, bool *is_user, uint32_t *id,
    uint8_t sha[POLICY_CERT_SHA256_LEN], char *user)
{
	const config_setting_t *uid, *gid, *cert, *usr;
	int64_t v;
	int r;

	if ((r = member(ld, e, "uid", false, &uid)) != 0 ||
	    (r = member(ld, e, "gid", false, &gid)) != 0 ||
	    (r = member(ld, e, "cert_sha256", false, &cert)) != 0 ||
	    (r = member(ld, e, "user", false, &usr)) != 0)
		return r;
	if ((uid != NULL) + (gid != NULL) + (cert != NULL) +
	    (usr != NULL) != 1)
		return fail(ld, e, NULL, "needs exactly one of uid, gid, "
		    "cert_sha256 or user");
	*is_gid = gid != NULL;
	*is_cert = cert != NULL;
	*is_user = usr != NULL;
	*id = 0;
	user[0] = '\0';
	if (cert != NULL)
		return get_cert_sha256(ld, cert, sha);
	if (usr != NULL)
		return get_string(ld, e, "user", true, STR_IDENT, user,
		    POLICY_IDENT_MAX + 1);
	if ((r = int_value(ld, uid != NULL ? uid : gid, 0,
	    (int64_t)UINT32_MAX - 1, &v)) != 0)
		return r;
	*id = (uint32_t)v;
	return 0;
}

static int
parse_role_entry(struct loader *ld, const config_setting_t *e,
    struct policy_role_entry *re)
{
	static const char *const keys[] = { "uid", "gid", "cert_sha256",
	    "user", "roles" };
	const config_setting_t *l, *s;
	enum policy_role role;
	const char *v;
	char q[96];
	int r, i, len;

	/* Numeric ids only: resolving names would need NSS at load time,
	 * and a renamed account must not silently gain a role. */
	if ((r = expect_type(ld, e, CONFIG_TYPE_GROUP)) != 0 ||
	    (r = check_keys(ld, e, keys, 5, "setting")) != 0 ||
	    (r = get_caller(ld, e, &re->is_gid, &re->is_cert, &re->is_user,
	    &re->id, re->cert_sha256, re->user)) != 0)
		return r;
	if ((r = member_list(ld, e, "roles", true, POLICY_ROLE_COUNT,
	    &l)) != 0)
		return r;
	if ((len = config_setting_length(l)) == 0)
		return fail(ld, l, NULL, "must not be empty");
	re->roles = 0;
	for (i = 0; i < len; i++) {
		if ((r = list_string(ld, l, i, &s, &v)) != 0)
			return r;
		if (policy_role_parse(v, &role) != 0)
			return fail(ld, s, NULL, "unknown role %s",
			    quote(v, q, sizeof(q)));
		if (re->roles & POLICY_ROLE_BIT(role))
			return fail(ld, s, NULL, "%s listed twice",
			    quote(v, q, sizeof(q)));
		re->roles |= POLICY_ROLE_BIT(role);
	}
	return 0;
}

static int
parse_roles(struct loader *ld, const config_setting_t *root)
{
	struct policy_config *cfg = ld->cfg;
	const config_setting_t *l, *e;
	int r, i, len;

	if ((r = member_list(ld, root, "roles", true, POLICY_MAX_ROLE_ENTRIES,
	    &l)) != 0)
		return r;
	if ((len = config_setting_length(l)) == 0)
		return fail(ld, l, NULL, "must not be empty: no one could use "
		    "the appliance");
	for (i = 0; i < len; i++) {
		if ((e = config_setting_get_elem(l, (unsigned)i)) == NULL)
			return fail(ld, l, NULL, "malformed list");
		if ((r = parse_role_entry(ld, e, &cfg->roles[i])) != 0)
			return r;
	}
	cfg->nroles = (size_t)len;
	return 0;
}

/* A list of queue or class names as a 1u << value mask. */
static int
get_name_mask(struct loader *ld, const config_setting_t *grp,
    const char *name, size_t max, int (*parse)(const char *, unsigned *),
    const char *what, unsigned *mask)
{
	const config_setting_t *l, *e;
	const char *v;
	unsigned bit;
	char q[96];
	int r, i, len;

	if ((r = member_list(ld, grp, name, false, max, &l)) != 0)
		return r;
	if (l == NULL)
		return 0;
	if ((len = config_setting_length(l)) == 0)
		return fail(ld, l, NULL, "must not be empty (leave it out to "
		    "allow every %s)", what);
	*mask = 0;
	for (i = 0; i < len; i++) {
		if ((r = list_string(ld, l, i, &e, &v)) != 0)
			return r;
		if (parse(v, &bit) != 0)
			return fail(ld, e, NULL, "unknown %s %s", what,
			    quote(v, q, sizeof(q)));
		if (*mask & (1u << bit))
			return fail(ld, e, NULL, "%s listed twice",
			    quote(v, q, sizeof(q)));
		*mask |= 1u << bit;
	}
	return 0;
}

static int
queue_bit(const char *v, unsigned *bit)
{
	enum policy_queue q;

	if (policy_queue_parse(v, &q) != 0)
		return TG_ERR_INVALID;
	*bit = (unsigned)q;
	return 0;
}

static int
class_bit(const char *v, unsigned *bit)
{
	enum policy_class c;

	if (policy_class_parse(v, &c) != 0)
		return TG_ERR_INVALID;
	*bit = (unsigned)c;
	return 0;
}

static int
parse_team(struct loader *ld, const config_setting_t *e, size_t idx)
{
	static const char *const keys[] = { "name", "queues", "classes",
	    "systems" };
	struct policy_team *t = &ld->cfg->teams[idx];
	const config_setting_t *sys;
	char q[96];
	size_t i;
	int r;

	t->queues = (1u << POLICY_QUEUE_COUNT) - 1;
	t->classes = (1u << POLICY_CLASS_COUNT) - 1;
	if ((r = expect_type(ld, e, CONFIG_TYPE_GROUP)) != 0 ||
	    (r = check_keys(ld, e, keys, 4, "setting")) != 0 ||
	    (r = get_string(ld, e, "name", true, STR_IDENT, t->name,
	    sizeof(t->name))) != 0 ||
	    (r = get_name_mask(ld, e, "queues", POLICY_QUEUE_COUNT, queue_bit,
	    "queue", &t->queues)) != 0 ||
	    (r = get_name_mask(ld, e, "classes", POLICY_CLASS_COUNT,
	    class_bit, "class", &t->classes)) != 0 ||
	    (r = get_string_list(ld, e, "systems", false, true, STR_NAME,
	    POLICY_MAX_TEAM_SYSTEMS, &t->systems[0][0],
	    sizeof(t->systems[0]), &t->nsystems)) != 0 ||
	    (r = member(ld, e, "systems", false, &sys)) != 0)
		return r;
	t->all_systems = sys == NULL;
	for (i = 0; i < idx; i++)
		if (strcmp(ld->cfg->teams[i].name, t->name) == 0)
			return fail(ld, e, "name", "team %s defined twice",
			    quote(t->name, q, sizeof(q)));
	return 0;
}

/* teams = ( { name; [queues]; [classes]; [systems] }, ... ): optional. */
static int
parse_teams(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *l, *e;
	int r, i, len;

	if ((r = member_list(ld, root, "teams", false, POLICY_MAX_TEAMS,
	    &l)) != 0 || l == NULL)
		return r;
	len = config_setting_length(l);
	for (i = 0; i < len; i++) {
		if ((e = config_setting_get_elem(l, (unsigned)i)) == NULL)
			return fail(ld, l, NULL, "malformed list");
		if ((r = parse_team(ld, e, (size_t)i)) != 0)
			return r;
	}
	ld->cfg->nteams = (size_t)len;
	return 0;
}

/* Principal idx against the entries before it: one entry per id, name. */
static int
principal_unique(struct loader *ld, const config_setting_t *e, size_t idx)
{
	const struct policy_principal *p = &ld->cfg->principals[idx], *o;
	char q[96];
	size_t i;

	for (i = 0; i < idx; i++) {
		o = &ld->cfg->principals[i];
		if (p->is_cert && o->is_cert && memcmp(o->cert_sha256,
		    p->cert_sha256, sizeof(p->cert_sha256)) == 0)
			return fail(ld, e, "cert_sha256", "this certificate "
			    "is already principal %s",
			    quote(o->name, q, sizeof(q)));
		if (p->is_user && o->is_user && strcmp(o->user,
		    p->user) == 0)
			return fail(ld, e, "user", "user %s is already "
			    "principal %s", quote(p->user, q, sizeof(q)),
			    o->name);
		if (!p->is_cert && !o->is_cert && !p->is_user &&
		    !o->is_user && o->is_gid == p->is_gid && o->id == p->id)
			return fail(ld, e, NULL, "%s %u is already principal "
			    "%s", p->is_gid ? "gid" : "uid", (unsigned)p->id,
			    quote(o->name, q, sizeof(q)));
		if (strcmp(o->name, p->name) == 0)
			return fail(ld, e, "name", "principal %s defined "
			    "twice", quote(p->name, q, sizeof(q)));
		if (p->officer[0] != '\0' && strcmp(o->officer,
		    p->officer) == 0)
			return fail(ld, e, "officer", "officer %s is already "
			    "principal %s's", quote(p->officer, q, sizeof(q)),
			    o->name);
	}
	return 0;
}

static int
parse_principal(struct loader *ld, const config_setting_t *e, size_t idx)
{
	static const char *const keys[] = { "uid", "gid", "cert_sha256",
	    "user", "name", "team", "integration", "agents", "officer" };
	struct policy_principal *p = &ld->cfg->principals[idx];
	const config_setting_t *agents;
	char q[96];
	int r;

	/* numeric ids only, as in roles: a renamed account gains nothing */
	if ((r = expect_type(ld, e, CONFIG_TYPE_GROUP)) != 0 ||
	    (r = check_keys(ld, e, keys, 9, "setting")) != 0 ||
	    (r = get_caller(ld, e, &p->is_gid, &p->is_cert, &p->is_user,
	    &p->id, p->cert_sha256, p->user)) != 0)
		return r;
	if ((r = get_string(ld, e, "name", true, STR_IDENT, p->name,
	    sizeof(p->name))) != 0 ||
	    (r = get_string(ld, e, "team", true, STR_IDENT, p->team,
	    sizeof(p->team))) != 0 ||
	    (r = get_bool(ld, e, "integration", false, &p->integration)) != 0 ||
	    (r = get_string(ld, e, "officer", false, STR_IDENT, p->officer,
	    sizeof(p->officer))) != 0 ||
	    (r = member(ld, e, "agents", false, &agents)) != 0)
		return r;
	if (policy_team_of(ld->cfg, p->team) == NULL)
		return fail(ld, e, "team", "unknown team %s (define it under "
		    "teams)", quote(p->team, q, sizeof(q)));
	if (agents != NULL && !p->integration)
		return fail(ld, agents, NULL, "only an integration "
		    "(integration = true) names agents");
	if ((r = get_string_list(ld, e, "agents", false, false, STR_IDENT,
	    POLICY_MAX_PRINCIPAL_AGENTS, &p->agents[0][0],
	    sizeof(p->agents[0]), &p->nagents)) != 0)
		return r;
	return principal_unique(ld, e, idx);
}

/*
 * principals = ( { uid | gid; name; team; [integration; agents] }, ... ):
 * optional; without it no one can submit (see engine_submit).
 */
static int
parse_principals(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *l, *e;
	int r, i, len;

	if ((r = member_list(ld, root, "principals", false,
	    POLICY_MAX_PRINCIPALS, &l)) != 0 || l == NULL)
		return r;
	len = config_setting_length(l);
	for (i = 0; i < len; i++) {
		if ((e = config_setting_get_elem(l, (unsigned)i)) == NULL)
			return fail(ld, l, NULL, "malformed list");
		if ((r = parse_principal(ld, e, (size_t)i)) != 0)
			return r;
	}
	ld->cfg->nprincipals = (size_t)len;
	return 0;
}

static int
parse_class_map(struct loader *ld, const config_setting_t *g,
    struct policy_class_map *m)
{
	static const char *const keys[] = { "accounts", "patterns", "groups",
	    "systems", "dir_groups", "dir_ous", "dir_types" };
	int r;

	if ((r = expect_type(ld, g, CONFIG_TYPE_GROUP)) != 0 ||
	    (r = check_keys(ld, g, keys, 7, "setting")) != 0 ||
	    (r = get_string_list(ld, g, "dir_groups", false, false, STR_DN,
	    POLICY_MAX_CLASS_DIR_GROUPS, &m->dir_groups[0][0],
	    sizeof(m->dir_groups[0]), &m->ndir_groups)) != 0 ||
	    (r = get_string_list(ld, g, "dir_ous", false, false, STR_DN,
	    POLICY_MAX_CLASS_DIR_OUS, &m->dir_ous[0][0],
	    sizeof(m->dir_ous[0]), &m->ndir_ous)) != 0 ||
	    (r = get_string_list(ld, g, "dir_types", false, false, STR_NAME,
	    POLICY_MAX_CLASS_DIR_TYPES, &m->dir_types[0][0],
	    sizeof(m->dir_types[0]), &m->ndir_types)) != 0 ||
	    (r = get_string_list(ld, g, "accounts", false, false, STR_NAME,
	    POLICY_MAX_CLASS_ACCOUNTS, &m->accounts[0][0],
	    sizeof(m->accounts[0]), &m->naccounts)) != 0 ||
	    (r = get_string_list(ld, g, "patterns", false, false, STR_PATTERN,
	    POLICY_MAX_CLASS_PATTERNS, &m->patterns[0][0],
	    sizeof(m->patterns[0]), &m->npatterns)) != 0 ||
	    (r = get_string_list(ld, g, "groups", false, false, STR_NAME,
	    POLICY_MAX_CLASS_GROUPS, &m->groups[0][0], sizeof(m->groups[0]),
	    &m->ngroups)) != 0 ||
	    (r = get_string_list(ld, g, "systems", false, false, STR_NAME,
	    POLICY_MAX_CLASS_SYSTEMS, &m->systems[0][0],
	    sizeof(m->systems[0]), &m->nsystems)) != 0)
		return r;
	return 0;
}

static int
parse_classes(struct loader *ld, const config_setting_t *root)
{
	const char *names[POLICY_CLASS_COUNT];
	const config_setting_t *g, *c;
	enum policy_class k;
	int r;

	if ((r = member_group(ld, root, "classes", true, &g)) != 0)
		return r;
	/* standard takes names only: the accounts known to be standard */
	if ((c = config_setting_get_member(g, "standard")) != NULL &&
	    ((r = expect_type(ld, c, CONFIG_TYPE_GROUP)) != 0 ||
	    (r = check_keys(ld, c, (const char *const[]){ "accounts" }, 1,
	    "setting (standard takes accounts only)")) != 0 ||
	    (r = get_string_list(ld, c, "accounts", false, false, STR_NAME,
	    POLICY_MAX_CLASS_ACCOUNTS,
	    &ld->cfg->classes[POLICY_CLASS_STANDARD].accounts[0][0],
	    sizeof(ld->cfg->classes[0].accounts[0]),
	    &ld->cfg->classes[POLICY_CLASS_STANDARD].naccounts)) != 0))
		return r;
	for (k = 0; k < POLICY_CLASS_COUNT; k++)
		names[k] = policy_class_name(k);
	if ((r = check_keys(ld, g, names, POLICY_CLASS_COUNT, "class")) != 0)
		return r;
	for (k = POLICY_CLASS_STANDARD + 1; k < POLICY_CLASS_COUNT; k++) {
		if ((c = config_setting_get_member(g,
		    policy_class_name(k))) == NULL)
			continue;
		if ((r = parse_class_map(ld, c, &ld->cfg->classes[k])) != 0)
			return r;
	}
	return 0;
}

static int
parse_approvals(struct loader *ld, const config_setting_t *g,
    struct policy_rule *rule)
{
	static const char *const keys[] = { "group", "count" };
	const config_setting_t *l, *e;
	struct policy_approval_rule *a;
	char q[96];
	int r, i, j, len;

	if ((r = member_list(ld, g, "approvals", true,
	    POLICY_MAX_RULE_APPROVALS, &l)) != 0)
		return r;
	len = config_setting_length(l);
	for (i = 0; i < len; i++) {
		a = &rule->approvals[i];
		if ((e = config_setting_get_elem(l, (unsigned)i)) == NULL)
			return fail(ld, l, NULL, "malformed list");
		if ((r = expect_type(ld, e, CONFIG_TYPE_GROUP)) != 0 ||
		    (r = check_keys(ld, e, keys, 2, "setting")) != 0 ||
		    (r = get_string(ld, e, "group", true, STR_IDENT, a->group,
		    sizeof(a->group))) != 0 ||
		    (r = get_uint(ld, e, "count", true, 0, 1,
		    POLICY_MAX_APPROVAL_COUNT, &a->count)) != 0)
			return r;
		if (!policy_approver_group_known(ld->cfg, a->group))
			return fail(ld, config_setting_get_member(e, "group"),
			    NULL, "unknown approver group %s (not in "
			    "approver_groups)", quote(a->group, q, sizeof(q)));
		for (j = 0; j < i; j++)
			if (strcmp(rule->approvals[j].group, a->group) == 0)
				return fail(ld, e, NULL, "group %s listed "
				    "twice", quote(a->group, q, sizeof(q)));
	}
	rule->napprovals = (size_t)len;
	return 0;
}

static int
parse_drops(struct loader *ld, const config_setting_t *g,
    struct policy_rule *rule)
{
	size_t i, n;
	int r;

	if ((r = get_string_list(ld, g, "drop_entitlements", true, false,
	    STR_NAME, POLICY_MAX_ENTITLEMENTS, &rule->drop[0][0],
	    sizeof(rule->drop[0]), &n)) != 0)
		return r;
	/* The reserved word becomes a flag, the rest stay names. */
	rule->ndrop = 0;
	for (i = 0; i < n; i++) {
		if (strcasecmp(rule->drop[i],
		    POLICY_DROP_ALL_PRIVILEGED) == 0) {
			rule->drop_all_privileged = true;
			continue;
		}
		if (rule->ndrop != i)
			memcpy(rule->drop[rule->ndrop], rule->drop[i],
			    sizeof(rule->drop[0]));
		rule->ndrop++;
	}
	for (i = rule->ndrop; i < n; i++)
		memset(rule->drop[i], 0, sizeof(rule->drop[0]));
	return 0;
}

static int
parse_evidence_rule(struct loader *ld, const config_setting_t *rs,
    struct policy_evidence_rule *ev)
{
	static const char *const keys[] = { "min_passing", "min_types",
	    "require_all", "require_one_of", "min_verified",
	    "min_verified_types" };
	const config_setting_t *g;
	int r, nall;

	if ((r = member_group(ld, rs, "evidence", true, &g)) != 0 ||
	    (r = check_keys(ld, g, keys, 6, "setting")) != 0 ||
	    (r = get_uint(ld, g, "min_verified", false, 0, 0,
	    POLICY_MAX_EVIDENCE_COUNT, &ev->min_verified)) != 0 ||
	    (r = get_uint(ld, g, "min_verified_types", false, 0, 0,
	    POLICY_EVIDENCE_COUNT, &ev->min_verified_types)) != 0 ||
	    (r = get_uint(ld, g, "min_passing", true, 0, 1,
	    POLICY_MAX_EVIDENCE_COUNT, &ev->min_passing)) != 0 ||
	    (r = get_uint(ld, g, "min_types", true, 0, 1,
	    POLICY_EVIDENCE_COUNT, &ev->min_types)) != 0 ||
	    (r = get_evidence_list(ld, g, "require_all", false, false,
	    &ev->require_all)) != 0 ||
	    (r = get_evidence_list(ld, g, "require_one_of", false, false,
	    &ev->require_one_of)) != 0)
		return r;
	/* Contradictions suggest a misunderstanding: refuse, do not guess. */
	if (ev->min_types > ev->min_passing)
		return fail(ld, config_setting_get_member(g, "min_types"),
		    NULL, "%u distinct types need min_passing >= %u, not %u",
		    ev->min_types, ev->min_types, ev->min_passing);
	if (ev->min_verified_types > ev->min_verified)
		return fail(ld, config_setting_get_member(g,
		    "min_verified_types"), NULL, "%u distinct verified types "
		    "need min_verified >= %u, not %u", ev->min_verified_types,
		    ev->min_verified_types, ev->min_verified);
	nall = __builtin_popcount(ev->require_all);
	if ((unsigned)nall > ev->min_passing)
		return fail(ld, config_setting_get_member(g, "require_all"),
		    NULL, "lists %d types but min_passing is %u", nall,
		    ev->min_passing);
	return 0;
}

/* approve_at: "anywhere" (the default) or "box". */
static int
parse_approve_at(struct loader *ld, const config_setting_t *rs,
    struct policy_rule *rule)
{
	const config_setting_t *m;
	const char *v;
	int r;

	rule->approve_at_box = false;
	if ((r = member(ld, rs, "approve_at", false, &m)) != 0 || m == NULL)
		return r;
	if ((r = expect_type(ld, m, CONFIG_TYPE_STRING)) != 0)
		return r;
	if ((v = config_setting_get_string(m)) == NULL)
		return fail(ld, m, NULL, "unreadable string");
	if (strcmp(v, "box") == 0)
		rule->approve_at_box = true;
	else if (strcmp(v, "anywhere") != 0)
		return fail(ld, m, NULL, "must be \"anywhere\" (the "
		    "default) or \"box\"");
	return 0;
}

/*
 * One rule.  strict: admin, finance and the manual route, which the design
 * says always need a physical FIDO2 approval by an officer.
 */
static int
parse_rule(struct loader *ld, const config_setting_t *rs,
    struct policy_rule *rule, bool manual, bool strict)
{
	static const char *const keys[] = { "approvals", "hold_seconds",
	    "order_ttl_seconds", "drop_entitlements", "approve_at",
	    "evidence" };
	static const char *const mkeys[] = { "approvals", "hold_seconds",
	    "order_ttl_seconds", "drop_entitlements", "approve_at",
	    "identity_proofing" };
	int r;

	if ((r = expect_type(ld, rs, CONFIG_TYPE_GROUP)) != 0 ||
	    (r = check_keys(ld, rs, manual ? mkeys : keys, 6,
	    "setting")) != 0 ||
	    (r = parse_approve_at(ld, rs, rule)) != 0 ||
	    (!manual && (r = parse_evidence_rule(ld, rs,
	    &rule->evidence)) != 0) ||
	    (manual && (r = get_bool(ld, rs, "identity_proofing", true,
	    &rule->identity_proofing)) != 0) ||
	    (r = parse_approvals(ld, rs, rule)) != 0 ||
	    (r = get_int(ld, rs, "hold_seconds", true, 0, 0,
	    POLICY_MAX_HOLD_SECONDS, &rule->hold_seconds)) != 0 ||
	    (r = get_int(ld, rs, "order_ttl_seconds", true, 0,
	    POLICY_MIN_TTL_SECONDS, POLICY_MAX_TTL_SECONDS,
	    &rule->order_ttl_seconds)) != 0 ||
	    (r = parse_drops(ld, rs, rule)) != 0)
		return r;
	if (strict && rule->napprovals == 0)
		return fail(ld, config_setting_get_member(rs, "approvals"),
		    NULL, "must name at least one approver group: %s need "
		    "an officer's security-key approval",
		    manual ? "manual reviews" : "admin and finance recoveries");
	return 0;
}

static int
parse_rules(struct loader *ld, const config_setting_t *root)
{
	const char *qnames[POLICY_QUEUE_COUNT], *cnames[POLICY_CLASS_COUNT];
	const config_setting_t *g, *qg, *rs;
	enum policy_queue q;
	enum policy_class c;
	int r;

	for (q = 0; q < POLICY_QUEUE_COUNT; q++)
		qnames[q] = policy_queue_name(q);
	for (c = 0; c < POLICY_CLASS_COUNT; c++)
		cnames[c] = policy_class_name(c);
	if ((r = member_group(ld, root, "rules", true, &g)) != 0 ||
	    (r = check_keys(ld, g, qnames, POLICY_QUEUE_COUNT,
	    "queue")) != 0)
		return r;
	/* Every queue x class is spelt out: a gap would be a hole. */
	for (q = 0; q < POLICY_QUEUE_COUNT; q++) {
		if ((r = member_group(ld, g, qnames[q], true, &qg)) != 0 ||
		    (r = check_keys(ld, qg, cnames, POLICY_CLASS_COUNT,
		    "class")) != 0)
			return r;
		for (c = 0; c < POLICY_CLASS_COUNT; c++) {
			if ((r = member(ld, qg, cnames[c], true, &rs)) != 0 ||
			    (r = parse_rule(ld, rs, &ld->cfg->rules[q][c],
			    false, c == POLICY_CLASS_ADMIN ||
			    c == POLICY_CLASS_FINANCE)) != 0)
				return r;
		}
	}
	return 0;
}

static int
parse_risk(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "extra_hold_seconds",
	    "extra_evidence", "manual_review" };
	const char *names[POLICY_RISK_COUNT];
	const config_setting_t *g, *rg;
	struct policy_risk_action *a;
	enum policy_risk k;
	int r;

	for (k = 0; k < POLICY_RISK_COUNT; k++)
		names[k] = policy_risk_name(k);
	if ((r = member_group(ld, root, "risk", true, &g)) != 0 ||
	    (r = check_keys(ld, g, names, POLICY_RISK_COUNT,
	    "risk signal")) != 0)
		return r;
	for (k = 0; k < POLICY_RISK_COUNT; k++) {
		a = &ld->cfg->risk[k];
		if ((r = member_group(ld, g, names[k], true, &rg)) != 0 ||
		    (r = check_keys(ld, rg, keys, 3, "setting")) != 0 ||
		    (r = get_int(ld, rg, "extra_hold_seconds", false, 0, 0,
		    POLICY_MAX_HOLD_SECONDS, &a->extra_hold_seconds)) != 0 ||
		    (r = get_uint(ld, rg, "extra_evidence", false, 0, 0,
		    POLICY_MAX_EXTRA_EVIDENCE, &a->extra_evidence)) != 0 ||
		    (r = get_bool(ld, rg, "manual_review", false,
		    &a->manual_review)) != 0)
			return r;
	}
	return 0;
}

static int
parse_notify(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "hooks", "timeout_ms" };
	struct policy_notify *n = &ld->cfg->notify;
	const config_setting_t *g;
	int r;

	n->timeout_ms = DEFAULT_HOOK_TIMEOUT_MS;
	if ((r = member_group(ld, root, "notify", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 2, "setting")) != 0 ||
	    (r = get_string_list(ld, g, "hooks", false, false, STR_PATH,
	    POLICY_MAX_HOOKS, &n->hooks[0][0], sizeof(n->hooks[0]),
	    &n->nhooks)) != 0 ||
	    (r = get_uint(ld, g, "timeout_ms", false, DEFAULT_HOOK_TIMEOUT_MS,
	    POLICY_MIN_HOOK_TIMEOUT_MS, POLICY_MAX_HOOK_TIMEOUT_MS,
	    &n->timeout_ms)) != 0)
		return r;
	return 0;
}

static const char *const channel_names[POLICY_CHANNEL_COUNT] = {
	"mail", "sms", "webhook"
};

int
policy_channel_of(const char *name)
{
	int i;

	for (i = 0; i < POLICY_CHANNEL_COUNT; i++)
		if (strcmp(name, channel_names[i]) == 0)
			return i;
	return -1;
}

const char *
policy_channel_name(int channel)
{
	if (channel < 0 || channel >= POLICY_CHANNEL_COUNT)
		return "?";
	return channel_names[channel];
}

int
policy_senders_configured(const struct policy_config *cfg)
{
	int i;

	for (i = 0; i < POLICY_CHANNEL_COUNT; i++)
		if (cfg->senders.program[i][0] != '\0')
			return 1;
	return 0;
}

static int
parse_senders(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "mail", "sms", "webhook",
	    "timeout_ms", "security_team", "officers" };
	struct policy_senders *s = &ld->cfg->senders;
	const config_setting_t *g;
	int i, r;

	s->timeout_ms = POLICY_DEFAULT_SENDER_TIMEOUT_MS;
	if ((r = member_group(ld, root, "senders", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 6, "setting")) != 0 ||
	    (r = get_string_list(ld, g, "security_team", false, false,
	    STR_NAME, POLICY_MAX_CONTACTS, &s->security_team[0][0],
	    sizeof(s->security_team[0]), &s->nsecurity_team)) != 0 ||
	    (r = get_string_list(ld, g, "officers", false, false, STR_NAME,
	    POLICY_MAX_CONTACTS, &s->officers[0][0], sizeof(s->officers[0]),
	    &s->nofficers)) != 0)
		return r;
	for (i = 0; i < POLICY_CHANNEL_COUNT; i++)
		if ((r = get_string(ld, g, channel_names[i], false, STR_PATH,
		    s->program[i], sizeof(s->program[i]))) != 0)
			return r;
	return get_uint(ld, g, "timeout_ms", false,
	    POLICY_DEFAULT_SENDER_TIMEOUT_MS, POLICY_MIN_HOOK_TIMEOUT_MS,
	    POLICY_MAX_HOOK_TIMEOUT_MS, &s->timeout_ms);
}

/* A canonical UUID text: 8-4-4-4-12 lower-case hex digits. */
static int
uuid_text(const char *v)
{
	size_t i;

	if (strlen(v) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (v[i] != '-')
				return 0;
		} else if (!((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'f')))
			return 0;
	}
	return 1;
}

static int
parse_approvers(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "trust_roots", "aaguids",
	    "cooldown_seconds" };
	struct policy_approvers *a = &ld->cfg->approvers;
	const config_setting_t *g, *l, *e;
	const char *v;
	int i, r;

	snprintf(a->trust_roots, sizeof(a->trust_roots), "%s",
	    "/etc/tapgate/attestation-roots.pem");
	a->cooldown_seconds = POLICY_DEFAULT_COOLDOWN;
	if ((r = member_group(ld, root, "approvers", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 3, "setting")) != 0 ||
	    (r = get_string(ld, g, "trust_roots", false, STR_PATH,
	    a->trust_roots, sizeof(a->trust_roots))) != 0 ||
	    (r = get_int(ld, g, "cooldown_seconds", false,
	    POLICY_DEFAULT_COOLDOWN, 0, POLICY_MAX_COOLDOWN,
	    &a->cooldown_seconds)) != 0 ||
	    (r = member_list(ld, g, "aaguids", false, POLICY_MAX_AAGUIDS,
	    &l)) != 0)
		return r;
	for (i = 0; l != NULL && i < config_setting_length(l); i++) {
		if ((r = list_string(ld, l, i, &e, &v)) != 0)
			return r;
		if (!uuid_text(v))
			return fail(ld, e, NULL, "not an AAGUID in canonical "
			    "UUID form (lower-case 8-4-4-4-12 hex)");
		memcpy(a->aaguids[a->naaguids++], v, 37);
	}
	return 0;
}

/*
 * console.url: https://HOST[:PORT][/PATH] of letters, digits and
 * "-._~:/", no "//" past the scheme, no trailing '/'.
 */
static int
console_url(struct loader *ld, const config_setting_t *g, char *out,
    size_t outsz)
{
	const config_setting_t *m;
	const char *v, *p;
	int r;

	if ((r = get_string(ld, g, "url", false, STR_NAME, out,
	    outsz)) != 0 || out[0] == '\0')
		return r;
	m = config_setting_get_member(g, "url");
	v = out;
	if (strncmp(v, "https://", 8) != 0 || v[8] == '\0' ||
	    v[strlen(v) - 1] == '/' || strstr(v + 8, "//") != NULL ||
	    v[8] == ':' || v[8] == '/')
		goto bad;
	for (p = v + 8; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-._~:/", *p) == NULL)
			goto bad;
	return 0;
bad:
	out[0] = '\0';
	return fail(ld, m, NULL, "must be the console's https://HOST[:PORT]"
	    "[/PATH], without a trailing /");
}

static int
parse_console(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "origins", "nonce_seconds",
	    "url", "session_seconds" };
	struct policy_console *c = &ld->cfg->console;
	const config_setting_t *g, *l;
	char q[96];
	size_t i;
	int r;

	c->nonce_seconds = POLICY_DEFAULT_NONCE_SECONDS;
	c->session_seconds = POLICY_DEFAULT_SESSION_SECONDS;
	if ((r = member_group(ld, root, "console", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, sizeof(keys) / sizeof(keys[0]),
	    "setting")) != 0 ||
	    (r = console_url(ld, g, c->url, sizeof(c->url))) != 0 ||
	    (r = get_int(ld, g, "session_seconds", false,
	    POLICY_DEFAULT_SESSION_SECONDS, 10, POLICY_MAX_SESSION_SECONDS,
	    &c->session_seconds)) != 0 ||
	    (r = get_int(ld, g, "nonce_seconds", false,
	    POLICY_DEFAULT_NONCE_SECONDS, 10, POLICY_MAX_NONCE_SECONDS,
	    &c->nonce_seconds)) != 0 ||
	    (r = get_string_list(ld, g, "origins", false, true, STR_NAME,
	    POLICY_MAX_CONSOLE_ORIGINS, &c->origins[0][0],
	    sizeof(c->origins[0]), &c->norigins)) != 0)
		return r;
	l = config_setting_get_member(g, "origins");
	for (i = 0; i < c->norigins; i++)
		if (!clientdata_origin_ok(c->origins[i],
		    ld->cfg->appliance.rp_id))
			return fail(ld, config_setting_get_elem(l,
			    (unsigned)i), NULL, "%s: not an origin of rp_id "
			    "%s (https://HOST[:PORT], HOST the rp_id or a "
			    "subdomain of it)", quote(c->origins[i], q,
			    sizeof(q)), ld->cfg->appliance.rp_id);
	return 0;
}

static int
parse_signing(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "alg", "seal", "seal_key_file" };
	struct policy_signing *sg = &ld->cfg->signing;
	const config_setting_t *g, *m;
	const char *v;
	int r;

	snprintf(sg->alg, sizeof(sg->alg), "EdDSA");
	snprintf(sg->seal, sizeof(sg->seal), "file");
	if ((r = member_group(ld, root, "signing", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 3, "setting")) != 0 ||
	    (r = get_string(ld, g, "seal_key_file", false, STR_PATH,
	    sg->seal_key_file, sizeof(sg->seal_key_file))) != 0)
		return r;
	if ((r = member(ld, g, "alg", false, &m)) != 0)
		return r;
	if (m != NULL) {
		if ((r = expect_type(ld, m, CONFIG_TYPE_STRING)) != 0)
			return r;
		v = config_setting_get_string(m);
		if (v == NULL || (strcmp(v, "EdDSA") != 0 &&
		    strcmp(v, "ES256") != 0))
			return fail(ld, m, NULL, "must be \"EdDSA\" or "
			    "\"ES256\"");
		snprintf(sg->alg, sizeof(sg->alg), "%s", v);
	}
	if ((r = member(ld, g, "seal", false, &m)) != 0)
		return r;
	if (m != NULL) {
		if ((r = expect_type(ld, m, CONFIG_TYPE_STRING)) != 0)
			return r;
		v = config_setting_get_string(m);
		if (v == NULL || (strcmp(v, "file") != 0 &&
		    strcmp(v, "yubikey") != 0))
			return fail(ld, m, NULL, "must be \"file\" or "
			    "\"yubikey\"");
		snprintf(sg->seal, sizeof(sg->seal), "%s", v);
	}
	return 0;
}

static int
parse_holds(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "restart_veto_seconds",
	    "stall_seconds", "veto_cooloff_seconds", "request_ttl_seconds" };
	struct policy_holds *h = &ld->cfg->holds;
	const config_setting_t *g;
	int r;

	h->restart_veto_seconds = POLICY_DEFAULT_RESTART_VETO;
	h->stall_seconds = POLICY_DEFAULT_STALL;
	h->veto_cooloff_seconds = POLICY_DEFAULT_VETO_COOLOFF;
	h->request_ttl_seconds = POLICY_DEFAULT_REQUEST_TTL;
	if ((r = member_group(ld, root, "holds", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, sizeof(keys) / sizeof(keys[0]),
	    "setting")) != 0 ||
	    (r = get_int(ld, g, "restart_veto_seconds", false,
	    POLICY_DEFAULT_RESTART_VETO, 0, POLICY_MAX_HOLD_SECONDS,
	    &h->restart_veto_seconds)) != 0 ||
	    (r = get_int(ld, g, "stall_seconds", false, POLICY_DEFAULT_STALL,
	    POLICY_MIN_STALL, POLICY_MAX_STALL, &h->stall_seconds)) != 0 ||
	    (r = get_int(ld, g, "veto_cooloff_seconds", false,
	    POLICY_DEFAULT_VETO_COOLOFF, 0, POLICY_MAX_VETO_COOLOFF,
	    &h->veto_cooloff_seconds)) != 0 ||
	    (r = get_int(ld, g, "request_ttl_seconds", false,
	    POLICY_DEFAULT_REQUEST_TTL, 1, POLICY_MAX_REQUEST_TTL,
	    &h->request_ttl_seconds)) != 0)
		return r;
	return 0;
}

static int
parse_orders(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "outcome_timeout_seconds" };
	struct policy_orders *o = &ld->cfg->orders;
	const config_setting_t *g;
	int r;

	o->outcome_timeout_seconds = POLICY_DEFAULT_OUTCOME_TIMEOUT;
	if ((r = member_group(ld, root, "orders", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 1, "setting")) != 0 ||
	    (r = get_int(ld, g, "outcome_timeout_seconds", false,
	    POLICY_DEFAULT_OUTCOME_TIMEOUT, 1, POLICY_MAX_OUTCOME_TIMEOUT,
	    &o->outcome_timeout_seconds)) != 0)
		return r;
	return 0;
}

static int
parse_challenges(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "expiry_seconds",
	    "max_attempts" };
	struct policy_challenges *c = &ld->cfg->challenges;
	const config_setting_t *g;
	int r;

	c->expiry_seconds = POLICY_DEFAULT_CHALLENGE_EXPIRY;
	c->max_attempts = POLICY_DEFAULT_CHALLENGE_TRIES;
	if ((r = member_group(ld, root, "challenges", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 2, "setting")) != 0 ||
	    (r = get_int(ld, g, "expiry_seconds", false,
	    POLICY_DEFAULT_CHALLENGE_EXPIRY, POLICY_MIN_CHALLENGE_EXPIRY,
	    POLICY_MAX_CHALLENGE_EXPIRY, &c->expiry_seconds)) != 0 ||
	    (r = get_int(ld, g, "max_attempts", false,
	    POLICY_DEFAULT_CHALLENGE_TRIES, 1, POLICY_MAX_CHALLENGE_TRIES,
	    &c->max_attempts)) != 0)
		return r;
	return 0;
}

/* ---- the directory */

/* An LDAP attribute description: a letter, then letters, digits, '-'. */
static bool
attr_name_ok(const char *v)
{
	size_t i;

	if (!((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z')))
		return false;
	for (i = 1; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
			return false;
	return i <= POLICY_DIR_ATTR_MAX;
}

static const struct policy_dir_attrs preset_ad = {
	"sAMAccountName", "userPrincipalName", "memberOf", "manager",
	"mobile", "telephoneNumber", "mail", "otherMailbox", "objectClass",
	"userAccountControl", "lockoutTime"
};

static const struct policy_dir_attrs preset_openldap = {
	"uid", "", "memberOf", "manager", "mobile", "telephoneNumber",
	"mail", "", "employeeType", "pwdAccountLockedTime",
	"pwdAccountLockedTime"
};

#define PRESET_AD_FILTER \
	"(&(objectCategory=person)(objectClass=user)(sAMAccountName={name}))"
#define PRESET_OPENLDAP_FILTER	"(&(objectClass=inetOrgPerson)(uid={name}))"

/*
 * The attributes group: each key names one member of struct
 * policy_dir_attrs; "" turns a lookup off, except for the name,
 * without which nothing can be decided, and member_of, which "" on
 * OpenLDAP turns into a search for the groupOfNames naming the entry.
 */
static int
parse_dir_attrs(struct loader *ld, const config_setting_t *dir)
{
	static const char *const keys[] = { "name", "upn", "member_of",
	    "manager", "mobile", "phone", "mail", "alt_mail", "type",
	    "disabled", "locked" };
	struct policy_dir_attrs *a = &ld->cfg->directory.attrs;
	char *const slots[] = { a->name, a->upn, a->member_of, a->manager,
	    a->mobile, a->phone, a->mail, a->alt_mail, a->type, a->disabled,
	    a->locked };
	const config_setting_t *g, *m;
	const char *v;
	char q[96];
	size_t i;
	int r;

	if ((r = member_group(ld, dir, "attributes", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, 11, "attribute")) != 0)
		return r;
	for (i = 0; i < 11; i++) {
		if ((m = config_setting_get_member(g, keys[i])) == NULL)
			continue;
		if ((r = expect_type(ld, m, CONFIG_TYPE_STRING)) != 0)
			return r;
		if ((v = config_setting_get_string(m)) == NULL)
			return fail(ld, m, NULL, "unreadable string");
		if (v[0] == '\0' && i == 2 && ld->cfg->directory.preset !=
		    POLICY_DIR_OPENLDAP)
			return fail(ld, m, NULL, "only OpenLDAP finds the "
			    "groups by a search (\"\"): Active Directory "
			    "lists memberOf");
		if (v[0] == '\0' && i != 0)
			;	/* not read; member_of: a group search */
		else if (!attr_name_ok(v))
			return fail(ld, m, NULL, "%s: not an attribute name "
			    "(a letter, then letters, digits and '-', at "
			    "most %d)", quote(v, q, sizeof(q)),
			    POLICY_DIR_ATTR_MAX);
		else if (i == 1 && ld->cfg->directory.preset !=
		    POLICY_DIR_ACTIVE_DIRECTORY)
			return fail(ld, m, NULL, "only Active Directory "
			    "has user principal names");
		memcpy(slots[i], v, strlen(v) + 1);
	}
	return 0;
}

/*
 * The filter template: balanced parentheses around the whole, printable
 * ASCII, and "{name}" exactly once, where the child puts the name
 * escaped as RFC 4515 says.
 */
static int
check_dir_filter(struct loader *ld, const config_setting_t *s,
    const char *v)
{
	const char *p;
	size_t i;
	int depth = 0;

	if (v[0] != '(' || v[strlen(v) - 1] != ')')
		return fail(ld, s, NULL, "must be one filter in parentheses");
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth < 0)
			break;
		if (depth == 0 && v[i + 1] != '\0')
			break;
	}
	if (depth != 0 || v[i] != '\0')
		return fail(ld, s, NULL, "unbalanced parentheses");
	if ((p = strstr(v, POLICY_DIR_NAME_PLACEHOLDER)) == NULL ||
	    strstr(p + 1, POLICY_DIR_NAME_PLACEHOLDER) != NULL)
		return fail(ld, s, NULL, "must hold %s exactly once",
		    POLICY_DIR_NAME_PLACEHOLDER);
	return 0;
}

/* The loopback hosts a directory may be reached on without TLS. */
static bool
uri_loopback(const char *host, size_t len)
{
	return (len == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
	    (len == 5 && strncmp(host, "[::1]", 5) == 0) ||
	    (len == 9 && strncasecmp(host, "localhost", 9) == 0);
}

/*
 * ldap://HOST[:PORT][/] or ldaps://...: HOST a DNS name, an IPv4
 * address or a bracketed IPv6 one; nothing after (no DN, no filter: the
 * configuration says those).  *loopback says whether HOST is loopback.
 */
static int
check_dir_uri(struct loader *ld, const config_setting_t *s, const char *v,
    bool *ldaps, bool *loopback)
{
	const char *h, *e;
	char q[96];
	size_t i, n;

	if (strncmp(v, "ldaps://", 8) == 0) {
		*ldaps = true;
		h = v + 8;
	} else if (strncmp(v, "ldap://", 7) == 0) {
		*ldaps = false;
		h = v + 7;
	} else
		return fail(ld, s, NULL, "%s: must start with ldaps:// or "
		    "ldap://", quote(v, q, sizeof(q)));
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL)
			goto bad;
		for (i = 1; h + i < e; i++)
			if (strchr("0123456789abcdefABCDEF:.", h[i]) == NULL)
				goto bad;
		e++;
	} else {
		for (e = h; (*e >= 'a' && *e <= 'z') || (*e >= 'A' &&
		    *e <= 'Z') || (*e >= '0' && *e <= '9') || *e == '.' ||
		    *e == '-'; e++)
			;
	}
	n = (size_t)(e - h);
	if (n == 0)
		goto bad;
	*loopback = uri_loopback(h, n);
	if (*e == ':') {
		for (i = 1; e[i] >= '0' && e[i] <= '9'; i++)
			;
		if (i == 1 || i > 6 || atoi(e + 1) < 1 || atoi(e + 1) > 65535)
			goto bad;
		e += i;
	}
	if (*e == '/')
		e++;
	if (*e == '\0')
		return 0;
 bad:
	return fail(ld, s, NULL, "%s: not ldap[s]://HOST[:PORT] (no DN, "
	    "no filter: base and filter say those)", quote(v, q, sizeof(q)));
}

/* A NetBIOS domain: letters, digits and '-', 15 at most ("" = none). */
static int
check_netbios(struct loader *ld, const config_setting_t *g, const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') ||
		    (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
			break;
	if (v[i] != '\0' || i > 15)
		return fail(ld, config_setting_get_member(g, "netbios_domain"),
		    NULL, "a NetBIOS domain: letters, digits and '-', at "
		    "most 15");
	return 0;
}

/* One of names[] in *out, or the default when absent. */
static int
get_choice(struct loader *ld, const config_setting_t *g, const char *name,
    const char *const *names, size_t n, int def, int *out)
{
	const config_setting_t *m;
	const char *v;
	char q[96];
	size_t i;
	int r;

	if ((r = member(ld, g, name, false, &m)) != 0)
		return r;
	*out = def;
	if (m == NULL)
		return 0;
	if ((r = expect_type(ld, m, CONFIG_TYPE_STRING)) != 0)
		return r;
	if ((v = config_setting_get_string(m)) == NULL)
		return fail(ld, m, NULL, "unreadable string");
	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return fail(ld, m, NULL, "%s: must be \"%s\"%s%s%s", quote(v, q,
	    sizeof(q)), names[0], n > 2 ? ", \"" : " or \"",
	    n > 1 ? names[1] : "", n > 2 ? "\" or \"..." : "\"");
}

static int
parse_dir_bind(struct loader *ld, const config_setting_t *dir)
{
	static const char *const keys[] = { "method", "dn", "password_file",
	    "cert_file", "key_file" };
	static const char *const methods[] = { "simple", "sasl_external" };
	struct policy_directory *d = &ld->cfg->directory;
	const config_setting_t *g, *m;
	int r, method;

	if ((r = member_group(ld, dir, "bind", true, &g)) != 0 ||
	    (r = check_keys(ld, g, keys, 5, "setting")) != 0 ||
	    (r = member(ld, g, "method", true, &m)) != 0 ||
	    (r = get_choice(ld, g, "method", methods, 2, 0, &method)) != 0)
		return r;
	d->bind = method == 0 ? POLICY_DIR_BIND_SIMPLE :
	    POLICY_DIR_BIND_SASL_EXTERNAL;
	if (d->bind == POLICY_DIR_BIND_SIMPLE) {
		if ((r = get_string(ld, g, "dn", true, STR_NAME, d->bind_dn,
		    sizeof(d->bind_dn))) != 0 ||
		    (r = get_string(ld, g, "password_file", true, STR_PATH,
		    d->password_file, sizeof(d->password_file))) != 0)
			return r;
		if (config_setting_get_member(g, "cert_file") != NULL ||
		    config_setting_get_member(g, "key_file") != NULL)
			return fail(ld, g, NULL, "cert_file and key_file "
			    "belong to method \"sasl_external\"");
		return 0;
	}
	if ((r = get_string(ld, g, "cert_file", true, STR_PATH, d->cert_file,
	    sizeof(d->cert_file))) != 0 ||
	    (r = get_string(ld, g, "key_file", true, STR_PATH, d->key_file,
	    sizeof(d->key_file))) != 0)
		return r;
	if (config_setting_get_member(g, "dn") != NULL ||
	    config_setting_get_member(g, "password_file") != NULL)
		return fail(ld, g, NULL, "dn and password_file belong to "
		    "method \"simple\"");
	if (d->tls == POLICY_DIR_TLS_NONE)
		return fail(ld, g, NULL, "sasl_external needs TLS: its "
		    "identity is the client certificate");
	return 0;
}

static int
parse_dir_tls(struct loader *ld, const config_setting_t *dir)
{
	static const char *const modes[] = { "ldaps", "starttls", "none" };
	struct policy_directory *d = &ld->cfg->directory;
	const config_setting_t *u, *t;
	bool ldaps = false, loopback = false;
	int r, mode;

	if ((r = member(ld, dir, "uri", true, &u)) != 0 ||
	    (r = get_string(ld, dir, "uri", true, STR_NAME, d->uri,
	    sizeof(d->uri))) != 0 ||
	    (r = check_dir_uri(ld, u, d->uri, &ldaps, &loopback)) != 0 ||
	    (r = get_choice(ld, dir, "tls", modes, 3, ldaps ? 0 : 1,
	    &mode)) != 0)
		return r;
	d->tls = (enum policy_dir_tls)mode;
	t = config_setting_get_member(dir, "tls");
	if (ldaps && d->tls != POLICY_DIR_TLS_LDAPS)
		return fail(ld, t, NULL, "an ldaps:// URI is TLS from the "
		    "first byte: say \"ldaps\" or leave tls out");
	if (!ldaps && d->tls == POLICY_DIR_TLS_LDAPS)
		return fail(ld, t, NULL, "\"ldaps\" needs an ldaps:// URI");
	if (d->tls == POLICY_DIR_TLS_NONE && !loopback)
		return fail(ld, t, NULL, "\"none\" only for a directory on "
		    "loopback (127.0.0.1, [::1], localhost): anywhere else "
		    "the bind password and the answers cross the network");
	if (d->tls != POLICY_DIR_TLS_NONE &&
	    config_setting_get_member(dir, "ca_file") == NULL)
		return fail(ld, dir, "ca_file", "missing required setting: "
		    "TLS checks the directory's certificate against it");
	return get_string(ld, dir, "ca_file", false, STR_PATH, d->ca_file,
	    sizeof(d->ca_file));
}

static int
parse_directory(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "preset", "uri", "tls",
	    "ca_file", "bind", "base", "filter", "domain", "netbios_domain",
	    "timeout_seconds", "max_groups", "attributes",
	    "max_fact_age_seconds", "helpdesk_group", "socket",
	    "nested_groups", "max_group_depth" };
	static const char *const presets[] = { "active_directory",
	    "openldap" };
	struct policy_directory *d = &ld->cfg->directory;
	const config_setting_t *g, *m;
	int r, preset;

	if ((r = member_group(ld, root, "directory", false, &g)) != 0)
		return r;
	if (g == NULL)
		return 0;
	if ((r = check_keys(ld, g, keys, sizeof(keys) / sizeof(keys[0]),
	    "setting")) != 0 ||
	    (r = member(ld, g, "preset", true, &m)) != 0 ||
	    (r = get_choice(ld, g, "preset", presets, 2, 0, &preset)) != 0)
		return r;
	d->preset = preset == 0 ? POLICY_DIR_ACTIVE_DIRECTORY :
	    POLICY_DIR_OPENLDAP;
	d->attrs = d->preset == POLICY_DIR_ACTIVE_DIRECTORY ? preset_ad :
	    preset_openldap;
	snprintf(d->filter, sizeof(d->filter), "%s",
	    d->preset == POLICY_DIR_ACTIVE_DIRECTORY ? PRESET_AD_FILTER :
	    PRESET_OPENLDAP_FILTER);
	if ((r = parse_dir_tls(ld, g)) != 0 ||
	    (r = parse_dir_bind(ld, g)) != 0 ||
	    (r = get_string(ld, g, "base", true, STR_NAME, d->base,
	    sizeof(d->base))) != 0 ||
	    (r = get_string(ld, g, "filter", false, STR_NAME, d->filter,
	    sizeof(d->filter))) != 0 ||
	    (r = get_string(ld, g, "domain", false, STR_HOST, d->domain,
	    sizeof(d->domain))) != 0 ||
	    (r = get_string(ld, g, "netbios_domain", false, STR_NAME,
	    d->netbios, sizeof(d->netbios))) != 0 ||
	    (r = check_netbios(ld, g, d->netbios)) != 0 ||
	    (r = get_uint(ld, g, "timeout_seconds", false,
	    POLICY_DIR_DEFAULT_TIMEOUT, POLICY_DIR_MIN_TIMEOUT,
	    POLICY_DIR_MAX_TIMEOUT, &d->timeout_seconds)) != 0 ||
	    (r = get_uint(ld, g, "max_groups", false,
	    POLICY_DIR_DEFAULT_GROUPS, 1, POLICY_DIR_MAX_GROUPS,
	    &d->max_groups)) != 0 ||
	    (r = get_bool(ld, g, "nested_groups", true,
	    &d->nested_groups)) != 0 ||
	    (r = get_uint(ld, g, "max_group_depth", false,
	    POLICY_DIR_DEFAULT_GROUP_DEPTH, 1, POLICY_DIR_MAX_GROUP_DEPTH,
	    &d->max_group_depth)) != 0 ||
	    (r = get_uint(ld, g, "max_fact_age_seconds", false,
	    POLICY_DIR_DEFAULT_FACT_AGE, 0, POLICY_DIR_MAX_FACT_AGE,
	    &d->max_fact_age_seconds)) != 0 ||
	    (r = parse_dir_attrs(ld, g)) != 0 ||
	    (r = get_string(ld, g, "helpdesk_group", false, STR_NAME,
	    d->helpdesk_group, sizeof(d->helpdesk_group))) != 0 ||
	    (r = get_string(ld, g, "socket", false, STR_PATH, d->socket,
	    sizeof(d->socket))) != 0)
		return r;
	m = config_setting_get_member(g, "filter");
	if ((r = check_dir_filter(ld, m != NULL ? m : g, d->filter)) != 0)
		return r;
	if (d->preset != POLICY_DIR_ACTIVE_DIRECTORY && (d->netbios[0] != '\0'
	    || d->domain[0] != '\0'))
		return fail(ld, g, d->domain[0] != '\0' ? "domain" :
		    "netbios_domain", "only Active Directory names accounts "
		    "as user@domain or DOMAIN\\user");
	d->configured = true;
	return 0;
}

/* "IPv4:port" or "[IPv6]:port", numeric, port 1 to 65535. */
static int
listen_ok(const char *v)
{
	const char *c, *host = v, *end;
	char buf[POLICY_HTTPS_LISTEN_MAX + 1];
	unsigned char a[16];
	long port;
	char *pe;
	int af = AF_INET;

	if (*v == '[') {
		if ((end = strchr(v, ']')) == NULL || end[1] != ':')
			return 0;
		host = v + 1;
		c = end + 1;
		af = AF_INET6;
	} else if ((c = strrchr(v, ':')) == NULL)
		return 0;
	else
		end = c;
	if ((size_t)(end - host) >= sizeof(buf))
		return 0;
	memcpy(buf, host, (size_t)(end - host));
	buf[end - host] = '\0';
	if (inet_pton(af, buf, a) != 1 || c[1] < '1' || c[1] > '9')
		return 0;
	errno = 0;
	port = strtol(c + 1, &pe, 10);
	return errno == 0 && *pe == '\0' && port >= 1 && port <= 65535;
}

/*
 * https = { listen; cert_file; key_file; client_ca_file; }: optional;
 * without it the daemon serves its Unix socket only.
 */
static int
parse_https(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "listen", "cert_file",
	    "key_file", "client_ca_file" };
	struct policy_https *h = &ld->cfg->https;
	const config_setting_t *g;
	int r;

	if ((r = member_group(ld, root, "https", false, &g)) != 0 ||
	    g == NULL)
		return r;
	if ((r = check_keys(ld, g, keys, 4, "setting")) != 0 ||
	    (r = get_string(ld, g, "listen", true, STR_NAME, h->listen,
	    sizeof(h->listen))) != 0 ||
	    (r = get_string(ld, g, "cert_file", true, STR_PATH, h->cert_file,
	    sizeof(h->cert_file))) != 0 ||
	    (r = get_string(ld, g, "key_file", true, STR_PATH, h->key_file,
	    sizeof(h->key_file))) != 0 ||
	    (r = get_string(ld, g, "client_ca_file", true, STR_PATH,
	    h->client_ca_file, sizeof(h->client_ca_file))) != 0)
		return r;
	if (!listen_ok(h->listen))
		return fail(ld, g, "listen", "must be a numeric address and "
		    "port: \"127.0.0.1:8443\" or \"[::1]:8443\"");
	h->configured = true;
	return 0;
}

static int
parse_root(struct loader *ld, const config_setting_t *root)
{
	static const char *const keys[] = { "appliance", "policy", "roles",
	    "teams", "principals", "channels", "approver_groups", "evidence",
	    "classes", "rules", "manual_review", "risk", "notify",
	    "approvers", "signing", "holds", "directory", "orders",
	    "senders", "challenges", "console",
	    "https" };
	struct policy_config *cfg = ld->cfg;
	const config_setting_t *g;
	int r;

	if ((r = check_keys(ld, root, keys,
	    sizeof(keys) / sizeof(keys[0]), "setting")) != 0 ||
	    (r = parse_appliance(ld, root)) != 0 ||
	    (r = parse_policy_id(ld, root)) != 0 ||
	    (r = parse_roles(ld, root)) != 0 ||
	    (r = parse_teams(ld, root)) != 0 ||
	    (r = parse_principals(ld, root)) != 0 ||
	    (r = get_string_list(ld, root, "channels", true, true, STR_IDENT,
	    POLICY_MAX_CHANNELS, &cfg->channels[0][0],
	    sizeof(cfg->channels[0]), &cfg->nchannels)) != 0 ||
	    (r = get_string_list(ld, root, "approver_groups", true, true,
	    STR_IDENT, POLICY_MAX_APPROVER_GROUPS, &cfg->approver_groups[0][0],
	    sizeof(cfg->approver_groups[0]), &cfg->napprover_groups)) != 0)
		return r;
	/* Without a trusted type every request would be a manual review. */
	if ((r = member_group(ld, root, "evidence", true, &g)) != 0 ||
	    (r = check_keys(ld, g, (const char *const[]){ "trusted" }, 1,
	    "setting")) != 0 ||
	    (r = get_evidence_list(ld, g, "trusted", true, true,
	    &cfg->trusted_evidence)) != 0)
		return r;
	if ((r = parse_classes(ld, root)) != 0 ||
	    (r = parse_rules(ld, root)) != 0 ||
	    (r = member_group(ld, root, "manual_review", true, &g)) != 0 ||
	    (r = parse_rule(ld, g, &cfg->manual_review, true, true)) != 0 ||
	    (r = parse_risk(ld, root)) != 0 ||
	    (r = parse_notify(ld, root)) != 0 ||
	    (r = parse_senders(ld, root)) != 0 ||
	    (r = parse_approvers(ld, root)) != 0 ||
	    (r = parse_signing(ld, root)) != 0 ||
	    (r = parse_holds(ld, root)) != 0 ||
	    (r = parse_orders(ld, root)) != 0 ||
	    (r = parse_challenges(ld, root)) != 0 ||
	    (r = parse_console(ld, root)) != 0 ||
	    (r = parse_directory(ld, root)) != 0 ||
	    (r = parse_https(ld, root)) != 0)
		return r;
	return 0;
}

/*
 * libconfig 1.5 follows "@include" from a string too, and offers no switch
 * to turn that off: refuse the directive before libconfig sees it.  Looking
 * for it anywhere (even inside a string or comment) can only refuse more.
 */
static int
refuse_include(struct loader *ld, const char *text)
{
	const char *p = strstr(text, "@include"), *s;
	unsigned line = 1;

	if (p == NULL)
		return 0;
	for (s = text; s < p; s++)
		line += *s == '\n';
	errf(ld->err, ld->errlen, "config line %u: @include is not allowed: "
	    "the policy must be one reviewable file", line);
	return TG_ERR_CONFIG;
}

static int
load_text(const char *text, struct policy_config **cfgp, char *errbuf,
    size_t errlen)
{
	struct loader ld = { NULL, errbuf, errlen };
	size_t len = strlen(text);
	char *copy = NULL;
	config_t lc;
	int r;

	if (errlen > 0)
		errbuf[0] = '\0';
	if ((r = refuse_include(&ld, text)) != 0)
		return r;
	/*
	 * libconfig's comment rule wants a newline after the comment: a file
	 * whose last line is a comment without one is a "syntax error".
	 */
	if (len == 0 || text[len - 1] != '\n') {
		if ((copy = malloc(len + 2)) == NULL) {
			errf(errbuf, errlen, "config: out of memory");
			return TG_ERR_NOMEM;
		}
		memcpy(copy, text, len);
		copy[len] = '\n';
		copy[len + 1] = '\0';
		text = copy;
	}
	config_init(&lc);
	config_set_auto_convert(&lc, 0);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		errf(errbuf, errlen, "config line %d: %s",
		    config_error_line(&lc), config_error_text(&lc) ?
		    config_error_text(&lc) : "cannot parse");
		r = TG_ERR_CONFIG;
		goto out;
	}
	if ((ld.cfg = calloc(1, sizeof(*ld.cfg))) == NULL) {
		errf(errbuf, errlen, "config: out of memory");
		r = TG_ERR_NOMEM;
		goto out;
	}
	if ((r = parse_root(&ld, config_root_setting(&lc))) != 0)
		goto out;
	*cfgp = ld.cfg;
	ld.cfg = NULL;	/* transferred */
	r = 0;
 out:
	free(ld.cfg);
	free(copy);
	config_destroy(&lc);
	return r;
}

int
policy_config_load_string(const char *text, struct policy_config **cfgp,
    char *errbuf, size_t errlen)
{
	if (errlen > 0 && errbuf == NULL)
		return TG_ERR_INVALID;
	if (text == NULL || cfgp == NULL) {
		errf(errbuf, errlen, "config: no text");
		return TG_ERR_INVALID;
	}
	if (strnlen(text, POLICY_CONFIG_MAX + 1) > POLICY_CONFIG_MAX) {
		errf(errbuf, errlen, "config: larger than %d bytes",
		    POLICY_CONFIG_MAX);
		return TG_ERR_TOO_LONG;
	}
	return load_text(text, cfgp, errbuf, errlen);
}

int
policy_config_load_file(const char *path, struct policy_config **cfgp,
    char *errbuf, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, r;

	if (errlen > 0 && errbuf == NULL)
		return TG_ERR_INVALID;
	if (path == NULL || cfgp == NULL) {
		errf(errbuf, errlen, "config: no path");
		return TG_ERR_INVALID;
	}
	/*
	 * Read it ourselves rather than config_read_file: the size is capped
	 * before parsing, and an embedded NUL (which would silently cut the
	 * policy short) is refused.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		errf(errbuf, errlen, "config: cannot open: %s",
		    strerror(errno));
		r = TG_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(errbuf, errlen, "config: not a regular file");
		r = TG_ERR_IO;
		goto out;
	}
	if ((text = malloc(POLICY_CONFIG_MAX + 2)) == NULL) {
		errf(errbuf, errlen, "config: out of memory");
		r = TG_ERR_NOMEM;
		goto out;
	}
	while (len <= POLICY_CONFIG_MAX) {
		n = read(fd, text + len, POLICY_CONFIG_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errf(errbuf, errlen, "config: cannot read: %s",
			    strerror(errno));
			r = TG_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > POLICY_CONFIG_MAX) {
		errf(errbuf, errlen, "config: larger than %d bytes",
		    POLICY_CONFIG_MAX);
		r = TG_ERR_TOO_LONG;
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		errf(errbuf, errlen, "config: contains a NUL byte");
		r = TG_ERR_CONFIG;
		goto out;
	}
	r = load_text(text, cfgp, errbuf, errlen);
 out:
	if (fd != -1)
		close(fd);
	free(text);
	return r;
}

void
policy_config_free(struct policy_config **cfgp)
{
	if (cfgp == NULL || *cfgp == NULL)
		return;
	free(*cfgp);
	*cfgp = NULL;
}

bool
policy_channel_known(const struct policy_config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return false;
	for (i = 0; i < cfg->nchannels; i++)
		if (strcmp(cfg->channels[i], name) == 0)
			return true;
	return false;
}

bool
policy_approver_group_known(const struct policy_config *cfg,
    const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return false;
	for (i = 0; i < cfg->napprover_groups; i++)
		if (strcmp(cfg->approver_groups[i], name) == 0)
			return true;
	return false;
}

unsigned
policy_roles(const struct policy_config *cfg, uint32_t uid,
    const uint32_t *gids, size_t ngids)
{
	const struct policy_role_entry *re;
	unsigned roles = 0;
	size_t i, j;

	if (cfg == NULL)
		return 0;
	for (i = 0; i < cfg->nroles; i++) {
		re = &cfg->roles[i];
		if (re->is_cert || re->is_user)
			continue;
		if (!re->is_gid) {
			if (re->id == uid)
				roles |= re->roles;
			continue;
		}
		for (j = 0; gids != NULL && j < ngids; j++)
			if (re->id == gids[j])
				roles |= re->roles;
	}
	return roles;
}

unsigned
policy_roles_cert(const struct policy_config *cfg,
    const uint8_t sha256[POLICY_CERT_SHA256_LEN])
{
	unsigned roles = 0;
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nroles; i++)
		if (cfg->roles[i].is_cert && memcmp(cfg->roles[i].cert_sha256,
		    sha256, POLICY_CERT_SHA256_LEN) == 0)
			roles |= cfg->roles[i].roles;
	return roles;
}

const struct policy_principal *
policy_principal_of_cert(const struct policy_config *cfg,
    const uint8_t sha256[POLICY_CERT_SHA256_LEN])
{
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nprincipals; i++)
		if (cfg->principals[i].is_cert &&
		    memcmp(cfg->principals[i].cert_sha256, sha256,
		    POLICY_CERT_SHA256_LEN) == 0)
			return &cfg->principals[i];
	return NULL;
}

unsigned
policy_roles_user(const struct policy_config *cfg, const char *name)
{
	unsigned roles = 0;
	size_t i;

	for (i = 0; cfg != NULL && name != NULL && i < cfg->nroles; i++)
		if (cfg->roles[i].is_user &&
		    strcmp(cfg->roles[i].user, name) == 0)
			roles |= cfg->roles[i].roles;
	return roles;
}

const struct policy_principal *
policy_principal_of_user(const struct policy_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg != NULL && name != NULL && i < cfg->nprincipals; i++)
		if (cfg->principals[i].is_user &&
		    strcmp(cfg->principals[i].user, name) == 0)
			return &cfg->principals[i];
	return NULL;
}

const struct policy_principal *
policy_principal_of(const struct policy_config *cfg, uint32_t uid,
    const uint32_t *gids, size_t ngids)
{
	const struct policy_principal *p;
	size_t i, j;

	if (cfg == NULL)
		return NULL;
	/* the uid is the more precise: it wins over any of its groups */
	for (i = 0; i < cfg->nprincipals; i++)
		if (!cfg->principals[i].is_gid &&
		    !cfg->principals[i].is_cert &&
		    !cfg->principals[i].is_user && cfg->principals[i].id == uid)
			return &cfg->principals[i];
	for (i = 0; i < cfg->nprincipals; i++) {
		p = &cfg->principals[i];
		for (j = 0; p->is_gid && gids != NULL && j < ngids; j++)
			if (p->id == gids[j])
				return p;
	}
	return NULL;
}

const char *
policy_officer_of(const struct policy_config *cfg, const char *agent)
{
	size_t i;

	if (cfg == NULL || agent == NULL)
		return NULL;
	for (i = 0; i < cfg->nprincipals; i++)
		if (strcmp(cfg->principals[i].name, agent) == 0)
			return cfg->principals[i].officer[0] != '\0' ?
			    cfg->principals[i].officer : NULL;
	return NULL;
}

const struct policy_team *
policy_team_of(const struct policy_config *cfg, const char *name)
{
	size_t i;

	if (cfg == NULL || name == NULL)
		return NULL;
	for (i = 0; i < cfg->nteams; i++)
		if (strcmp(cfg->teams[i].name, name) == 0)
			return &cfg->teams[i];
	return NULL;
}

bool
policy_principal_may_name(const struct policy_principal *p,
    const char *agent)
{
	size_t i;

	if (p == NULL || agent == NULL)
		return false;
	if (strcmp(p->name, agent) == 0)
		return true;
	if (!p->integration)
		return false;
	for (i = 0; i < p->nagents; i++)
		if (strcmp(p->agents[i], agent) == 0)
			return true;
	return false;
}

bool
policy_principal_asks_directory(const struct policy_config *cfg,
    const struct policy_principal *p)
{
	return cfg != NULL && p != NULL && p->integration &&
	    cfg->directory.configured &&
	    cfg->directory.helpdesk_group[0] != '\0';
}

bool
policy_team_allows(const struct policy_team *t, enum policy_queue q,
    enum policy_class c, const char *system, char *why, size_t whylen)
{
	size_t i;

	if (t == NULL || system == NULL) {
		errf(why, whylen, "no team");
		return false;
	}
	if ((unsigned)q >= POLICY_QUEUE_COUNT || !(t->queues & (1u << q))) {
		errf(why, whylen, "queue %s is outside team %s's scope",
		    policy_queue_name(q), t->name);
		return false;
	}
	if ((unsigned)c >= POLICY_CLASS_COUNT || !(t->classes & (1u << c))) {
		errf(why, whylen, "class %s is outside team %s's scope",
		    policy_class_name(c), t->name);
		return false;
	}
	if (t->all_systems)
		return true;
	for (i = 0; i < t->nsystems; i++)
		if (strcasecmp(t->systems[i], system) == 0)
			return true;
	/* the system is the caller's text: the message does not repeat it */
	errf(why, whylen, "the system is outside team %s's scope", t->name);
	return false;
}

bool
policy_identity_canonical(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= POLICY_IDENT_MAX || !ident_char(s[i], i == 0))
			return false;
	return true;
}

/* ---- the files the configuration names */

static int path_fail(char *, size_t, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* "setting: path: why" into err; TG_ERR_CONFIG. */
static int
path_fail(char *err, size_t len, const char *setting, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || len == 0)
		return TG_ERR_CONFIG;
	n = snprintf(err, len, "%s: ", setting);
	if (n > 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(err + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return TG_ERR_CONFIG;
}

/* How many PEM certificates the regular file at path holds (< 0: errno). */
static int
count_certs(const char *path)
{
	struct stat sb;
	X509 *x;
	BIO *bio;
	int n = 0, fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -errno;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((bio = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	ERR_clear_error();	/* the end of the file reads as an error */
	BIO_free(bio);
	return n;
}

/*
 * A secret the directory child reads: a regular file owned by the uid
 * that checks it (the daemon's), readable and writable by it alone.
 */
static int
check_secret_file(const char *setting, const char *p, char *err,
    size_t errlen)
{
	struct stat sb;

	if (stat(p, &sb) == -1)
		return path_fail(err, errlen, setting, "%s: %s", p,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return path_fail(err, errlen, setting, "%s: not a regular "
		    "file", p);
	if (sb.st_uid != geteuid())
		return path_fail(err, errlen, setting, "%s: owned by uid %u, "
		    "not by the daemon's uid %u", p, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
	if ((sb.st_mode & 07777) != 0600)
		return path_fail(err, errlen, setting, "%s: mode %04o, must "
		    "be 0600", p, (unsigned)(sb.st_mode & 07777));
	return 0;
}

static int
check_directory_paths(const struct policy_directory *d, char *err,
    size_t errlen)
{
	int n, r;

	if (!d->configured)
		return 0;
	if (d->ca_file[0] != '\0') {
		if ((n = count_certs(d->ca_file)) < 0)
			return path_fail(err, errlen, "directory.ca_file",
			    "%s: %s", d->ca_file, n == -EINVAL ?
			    "not a regular file" : strerror(-n));
		if (n == 0)
			return path_fail(err, errlen, "directory.ca_file",
			    "%s: no PEM certificate in it", d->ca_file);
	}
	if (d->bind == POLICY_DIR_BIND_SIMPLE)
		return check_secret_file("directory.bind.password_file",
		    d->password_file, err, errlen);
	if ((n = count_certs(d->cert_file)) <= 0)
		return path_fail(err, errlen, "directory.bind.cert_file",
		    "%s: %s", d->cert_file, n == 0 ? "no PEM certificate "
		    "in it" : strerror(-n));
	if ((r = check_secret_file("directory.bind.key_file", d->key_file,
	    err, errlen)) != 0)
		return r;
	return 0;
}

static int
check_https_paths(const struct policy_https *h, char *err, size_t errlen)
{
	static const char *const what[] = { "https.cert_file",
	    "https.client_ca_file" };
	const char *path[2];
	int i, n;

	if (!h->configured)
		return 0;
	path[0] = h->cert_file;
	path[1] = h->client_ca_file;
	for (i = 0; i < 2; i++)
		if ((n = count_certs(path[i])) <= 0)
			return path_fail(err, errlen, what[i], "%s: %s",
			    path[i], n == 0 ? "no PEM certificate in it" :
			    n == -EINVAL ? "not a regular file" :
			    strerror(-n));
	return check_secret_file("https.key_file", h->key_file, err, errlen);
}

int
policy_config_check_paths(const struct policy_config *cfg, char *err,
    size_t errlen)
{
	const char *p = cfg->approvers.trust_roots;
	char dir[POLICY_LONG_MAX + 1], *slash;
	struct stat sb;
	size_t i;
	int n;

	if ((n = count_certs(p)) < 0)
		return path_fail(err, errlen, "approvers.trust_roots", "%s: %s",
		    p, n == -EINVAL ? "not a regular file" : strerror(-n));
	if (n == 0)
		return path_fail(err, errlen, "approvers.trust_roots", "%s: no "
		    "PEM certificate in it", p);
	for (i = 0; i < cfg->notify.nhooks; i++) {
		p = cfg->notify.hooks[i];
		if (stat(p, &sb) == -1)
			return path_fail(err, errlen, "notify.hooks", "%s: %s",
			    p, strerror(errno));
		if (!S_ISREG(sb.st_mode) || access(p, X_OK) == -1)
			return path_fail(err, errlen, "notify.hooks", "%s: not "
			    "an executable file", p);
	}
	for (i = 0; i < POLICY_CHANNEL_COUNT; i++) {
		if ((p = cfg->senders.program[i])[0] == '\0')
			continue;
		if (stat(p, &sb) == -1 || !S_ISREG(sb.st_mode) ||
		    access(p, X_OK) == -1)
			return path_fail(err, errlen, "senders", "%s: %s: not "
			    "an executable file", channel_names[i], p);
	}
	if ((n = check_directory_paths(&cfg->directory, err, errlen)) != 0 ||
	    (n = check_https_paths(&cfg->https, err, errlen)) != 0)
		return n;
	if (strcmp(cfg->signing.seal, "file") != 0 ||
	    cfg->signing.seal_key_file[0] == '\0')
		return 0;	/* the default lies in the state directory */
	p = cfg->signing.seal_key_file;
	if (stat(p, &sb) == 0)
		return S_ISREG(sb.st_mode) ? 0 : path_fail(err, errlen,
		    "signing.seal_key_file", "%s: not a regular file", p);
	snprintf(dir, sizeof(dir), "%s", p);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode))
		return path_fail(err, errlen, "signing.seal_key_file", "%s: "
		    "its directory %s does not exist", p, dir);
	return 0;
}

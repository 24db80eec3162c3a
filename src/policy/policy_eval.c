/* SPDX-License-Identifier: ISC */
/*
 * The pure policy evaluation: request + progress + time -> decision.
 * No I/O, no clock, no globals, no allocation; everything it reads is an
 * argument, so a table of cases in the unit tests pins its behaviour down.
 * Inputs are checked in full before the decision is written, so a refused
 * input leaves *dec untouched.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/errors.h"
#include "policy/policy.h"

/* ---- input checks */

static int
req_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
req_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/*
 * A request string: bounded, free of control characters (it ends up in
 * messages, logs and the audit trail), present unless optional.  Names in
 * messages are the API's field names.
 */
static int
check_str(const char *v, bool optional, char *err, size_t errlen,
    const char *field, ...) __attribute__((format(printf, 5, 6)));

static int
check_str(const char *v, bool optional, char *err, size_t errlen,
    const char *field, ...)
{
	char name[96];
	size_t len, i;
	va_list ap;

	va_start(ap, field);
	(void)vsnprintf(name, sizeof(name), field, ap);
	va_end(ap);
	if (v == NULL || v[0] == '\0')
		return optional ? 0 : req_fail(err, errlen, TG_ERR_INVALID,
		    "%s: missing", name);
	if ((len = strnlen(v, POLICY_REQ_STRING_MAX + 1)) >
	    POLICY_REQ_STRING_MAX)
		return req_fail(err, errlen, TG_ERR_TOO_LONG,
		    "%s: longer than %d bytes", name, POLICY_REQ_STRING_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return req_fail(err, errlen, TG_ERR_INVALID,
			    "%s: contains a control character", name);
	return 0;
}

static int
check_channel(const struct policy_config *cfg, const char *v, bool optional,
    char *err, size_t errlen, const char *field, ...)
    __attribute__((format(printf, 6, 7)));

static int
check_channel(const struct policy_config *cfg, const char *v, bool optional,
    char *err, size_t errlen, const char *field, ...)
{
	char name[96];
	va_list ap;
	int r;

	va_start(ap, field);
	(void)vsnprintf(name, sizeof(name), field, ap);
	va_end(ap);
	if ((r = check_str(v, optional, err, errlen, "%s", name)) != 0)
		return r;
	if (v != NULL && v[0] != '\0' && !policy_channel_known(cfg, v))
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "%s: unknown channel \"%s\"", name, v);
	return 0;
}

/* A string of the directory's: bounded, no control characters. */
static int
check_fact(const char *v, size_t max, char *err, size_t errlen,
    const char *field, size_t i)
{
	size_t len, k;

	if (v == NULL || v[0] == '\0')
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "directory.%s[%zu]: missing", field, i);
	if ((len = strnlen(v, max + 1)) > max)
		return req_fail(err, errlen, TG_ERR_TOO_LONG,
		    "directory.%s[%zu]: longer than %zu bytes", field, i, max);
	for (k = 0; k < len; k++)
		if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f)
			return req_fail(err, errlen, TG_ERR_INVALID,
			    "directory.%s[%zu]: contains a control character",
			    field, i);
	return 0;
}

static int
check_facts(const struct policy_dir_facts *f, char *err, size_t errlen)
{
	size_t i;
	int r;

	if (f == NULL)
		return 0;
	if ((r = check_fact(f->dn, POLICY_FACT_DN_MAX, err, errlen, "dn",
	    0)) != 0)
		return r;
	if (f->ngroups > POLICY_MAX_FACT_GROUPS ||
	    f->ntypes > POLICY_MAX_FACT_TYPES)
		return req_fail(err, errlen, TG_ERR_TOO_LONG,
		    "directory: more groups or types than kept");
	if ((f->ngroups > 0 && f->groups == NULL) ||
	    (f->ntypes > 0 && f->types == NULL))
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "directory: missing groups or types");
	for (i = 0; i < f->ngroups; i++)
		if ((r = check_fact(f->groups[i], POLICY_FACT_DN_MAX, err,
		    errlen, "groups", i)) != 0)
			return r;
	for (i = 0; i < f->ntypes; i++)
		if ((r = check_fact(f->types[i], POLICY_REQ_STRING_MAX, err,
		    errlen, "types", i)) != 0)
			return r;
	return 0;
}

int
policy_request_check(const struct policy_config *cfg,
    const struct policy_request *req, char *err, size_t errlen)
{
	const struct policy_evidence *e;
	size_t i;
	int r;

	if (cfg == NULL || req == NULL)
		return req_fail(err, errlen, TG_ERR_INVALID, "no request");
	/* Enums may arrive by cast from untrusted numbers. */
	if ((unsigned)req->queue >= POLICY_QUEUE_COUNT)
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "queue: unknown queue");
	if ((unsigned)req->claimed_class >= POLICY_CLASS_COUNT)
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "target.class: unknown class");
	if ((r = check_str(req->account, false, err, errlen,
	    "target.account")) != 0 ||
	    (r = check_str(req->system, false, err, errlen,
	    "target.system")) != 0 ||
	    (r = check_str(req->agent, false, err, errlen,
	    "requester.agent")) != 0 ||
	    (r = check_str(req->agent_officer, true, err, errlen,
	    "requester.agent's officer")) != 0 ||
	    (r = check_channel(cfg, req->requester_channel, false, err,
	    errlen, "requester.channel")) != 0 ||
	    (r = check_channel(cfg, req->recovered_channel, true, err,
	    errlen, "target.recovered_channel")) != 0)
		return r;
	/* An MFA reset always recovers some channel; naming it is what
	 * keeps that channel from vouching for itself. */
	if (req->queue == POLICY_QUEUE_MFA_RESET &&
	    (req->recovered_channel == NULL ||
	    req->recovered_channel[0] == '\0'))
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "target.recovered_channel: required for mfa_reset "
		    "(the channel of the factor being reset)");
	if (req->ngroups > POLICY_MAX_TARGET_GROUPS)
		return req_fail(err, errlen, TG_ERR_TOO_LONG,
		    "target.groups: more than %d groups",
		    POLICY_MAX_TARGET_GROUPS);
	if (req->ngroups > 0 && req->groups == NULL)
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "target.groups: missing");
	for (i = 0; i < req->ngroups; i++)
		if ((r = check_str(req->groups[i], false, err, errlen,
		    "target.groups[%zu]", i)) != 0)
			return r;
	if ((r = check_facts(req->directory, err, errlen)) != 0)
		return r;
	if (req->nevidence > POLICY_MAX_EVIDENCE)
		return req_fail(err, errlen, TG_ERR_TOO_LONG,
		    "evidence: more than %d items", POLICY_MAX_EVIDENCE);
	if (req->nevidence > 0 && req->evidence == NULL)
		return req_fail(err, errlen, TG_ERR_INVALID,
		    "evidence: missing");
	for (i = 0; i < req->nevidence; i++) {
		e = &req->evidence[i];
		if ((unsigned)e->type >= POLICY_EVIDENCE_COUNT)
			return req_fail(err, errlen, TG_ERR_INVALID,
			    "evidence[%zu].type: unknown evidence type", i);
		if ((unsigned)e->origin >= POLICY_ORIGIN_COUNT)
			return req_fail(err, errlen, TG_ERR_INVALID,
			    "evidence[%zu].origin: unknown origin", i);
		if ((r = check_str(e->verifier, false, err, errlen,
		    "evidence[%zu].verifier", i)) != 0 ||
		    (r = check_channel(cfg, e->channel, false, err, errlen,
		    "evidence[%zu].channel", i)) != 0 ||
		    (r = check_str(e->ref, true, err, errlen,
		    "evidence[%zu].ref", i)) != 0)
			return r;
	}
	return 0;
}

static int
check_approval(const struct policy_approval *a, size_t i)
{
	int r;

	if ((r = check_str(a->group, false, NULL, 0, "approvals[%zu]",
	    i)) != 0 ||
	    (r = check_str(a->officer, false, NULL, 0, "approvals[%zu]",
	    i)) != 0 ||
	    (r = check_str(a->credential_id, false, NULL, 0, "approvals[%zu]",
	    i)) != 0)
		return r;
	return 0;
}

static int
check_progress(const struct policy_progress *prog)
{
	size_t i;
	int r;

	if (prog == NULL)
		return 0;
	if (prog->napprovals > POLICY_MAX_APPROVALS)
		return TG_ERR_TOO_LONG;
	if (prog->napprovals > 0 && prog->approvals == NULL)
		return TG_ERR_INVALID;
	for (i = 0; i < prog->napprovals; i++)
		if ((r = check_approval(&prog->approvals[i], i)) != 0)
			return r;
	if (prog->hold_start < 0 || prog->hold_start > POLICY_MAX_TIME ||
	    prog->hold_end < 0 || prog->hold_end > POLICY_MAX_TIME)
		return TG_ERR_INVALID;
	return 0;
}

/* ---- decision text */

static void
add_missing(struct policy_decision *dec, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
add_missing(struct policy_decision *dec, const char *code,
    const char *fmt, ...)
{
	struct policy_missing *m;
	va_list ap;

	/* POLICY_MAX_MISSING covers the worst case (1 + 5 + 1 + 4 evidence, 8
	 * approval groups, 1 hold); the test only guards the array. */
	if (dec->nmissing >= POLICY_MAX_MISSING)
		return;
	m = &dec->missing[dec->nmissing++];
	(void)snprintf(m->code, sizeof(m->code), "%s", code);
	va_start(ap, fmt);
	(void)vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
}

/* "a|b" or "a, b" for an evidence type mask. */
static const char *
type_list(unsigned mask, const char *sep, char *buf, size_t len)
{
	size_t off = 0;
	unsigned t;
	int n;

	buf[0] = '\0';
	for (t = 0; t < POLICY_EVIDENCE_COUNT; t++) {
		if (!(mask & POLICY_EVIDENCE_BIT(t)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? sep : "",
		    policy_evidence_name((enum policy_evidence_type)t));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* ---- distinguished names (policy.h) */

static bool
dn_space(char c)
{
	return c == ' ';
}

/*
 * One pass over in: each RDN's "type=value" pairs, lowercased, without
 * the spaces around ',', '=' and '+', inner space runs as one.
 */
int
policy_dn_normalize(const char *in, char *out, size_t outlen)
{
	size_t o = 0, i, n;
	bool in_value = false, seen_eq = false, pend_space = false;
	bool rdn_empty = true, at_sep = true;
	char c;

	if (in == NULL || out == NULL || outlen == 0)
		return TG_ERR_INVALID;
	n = strnlen(in, POLICY_FACT_DN_MAX + 1);
	if (n > POLICY_FACT_DN_MAX)
		return TG_ERR_TOO_LONG;
	for (i = 0; i < n; i++) {
		c = in[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			return TG_ERR_INVALID;
		if (dn_space(c)) {
			pend_space = !at_sep;
			continue;
		}
		/* '=' inside a value is the value's (RFC 4514) */
		if (c == ',' || c == '+' || (c == '=' && !in_value)) {
			pend_space = false;
			at_sep = true;
			if (c == '=') {
				if (rdn_empty)
					return TG_ERR_INVALID;
				in_value = seen_eq = true;
			} else {
				if (!seen_eq)
					return TG_ERR_INVALID;
				in_value = seen_eq = false;
				rdn_empty = true;
			}
			if (o + 1 >= outlen)
				return TG_ERR_TOO_LONG;
			out[o++] = c;
			continue;
		}
		if (pend_space) {
			if (o + 1 >= outlen)
				return TG_ERR_TOO_LONG;
			out[o++] = ' ';
			pend_space = false;
		}
		if (o + 2 >= outlen)
			return TG_ERR_TOO_LONG;
		if (c == '\\') {
			if (i + 1 >= n)
				return TG_ERR_INVALID;
			out[o++] = c;
			c = in[++i];
			if ((unsigned char)c < 0x20 || c == 0x7f)
				return TG_ERR_INVALID;
		}
		out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		rdn_empty = at_sep = false;
	}
	if (!seen_eq)
		return TG_ERR_INVALID;
	out[o] = '\0';
	return 0;
}

bool
policy_dn_same(const char *a, const char *b)
{
	char na[POLICY_FACT_DN_MAX + 1], nb[POLICY_FACT_DN_MAX + 1];

	return policy_dn_normalize(a, na, sizeof(na)) == 0 &&
	    policy_dn_normalize(b, nb, sizeof(nb)) == 0 &&
	    strcmp(na, nb) == 0;
}

bool
policy_dn_under(const char *dn, const char *base)
{
	char nd[POLICY_FACT_DN_MAX + 1], nb[POLICY_FACT_DN_MAX + 1];
	size_t ld, lb, i;

	if (policy_dn_normalize(dn, nd, sizeof(nd)) != 0 ||
	    policy_dn_normalize(base, nb, sizeof(nb)) != 0)
		return false;
	ld = strlen(nd);
	lb = strlen(nb);
	if (ld <= lb + 1 || strcmp(nd + ld - lb, nb) != 0 ||
	    nd[ld - lb - 1] != ',')
		return false;
	/* that ',' must separate RDNs, not be an escaped one */
	for (i = 0; i < ld - lb - 1; i++)
		if (nd[i] == '\\')
			i++;
	return i == ld - lb - 1;
}

bool
policy_dir_group_privileged(const struct policy_config *cfg, const char *dn)
{
	size_t i;
	int c;

	for (c = 0; cfg != NULL && dn != NULL && c < POLICY_CLASS_COUNT; c++)
		for (i = 0; i < cfg->classes[c].ndir_groups; i++)
			if (policy_dn_same(cfg->classes[c].dir_groups[i], dn))
				return true;
	return false;
}

/* ---- the evaluation steps */

static bool
name_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Whether any class names directory groups. */
static bool
groups_named(const struct policy_config *cfg)
{
	int c;

	for (c = 0; c < POLICY_CLASS_COUNT; c++)
		if (cfg->classes[c].ndir_groups > 0)
			return true;
	return false;
}

/*
 * Whether the directory's facts put the account in class c (map m,
 * named cn); *why says which fact.
 */
static bool
facts_class(const struct policy_class_map *m, const char *cn,
    const struct policy_dir_facts *f, enum policy_class_source *src,
    char *why, size_t whylen)
{
	size_t i, j;

	for (i = 0; i < m->ndir_groups; i++) {
		for (j = 0; j < f->ngroups; j++) {
			if (!policy_dn_same(m->dir_groups[i], f->groups[j]))
				continue;
			*src = POLICY_CLASS_SOURCE_DIR_GROUP;
			snprintf(why, whylen, "member of %s "
			    "(classes.%s.dir_groups)", f->groups[j], cn);
			return true;
		}
	}
	for (i = 0; i < m->ndir_ous; i++) {
		if (!policy_dn_under(f->dn, m->dir_ous[i]))
			continue;
		*src = POLICY_CLASS_SOURCE_DIR_OU;
		snprintf(why, whylen, "entry under %s (classes.%s.dir_ous)",
		    m->dir_ous[i], cn);
		return true;
	}
	for (i = 0; i < m->ndir_types; i++) {
		for (j = 0; j < f->ntypes; j++) {
			if (!name_eq(m->dir_types[i], f->types[j]))
				continue;
			*src = POLICY_CLASS_SOURCE_DIR_TYPE;
			snprintf(why, whylen, "account type %s "
			    "(classes.%s.dir_types)", f->types[j], cn);
			return true;
		}
	}
	return false;
}

/* Whether the names put the account in class c; *why says which. */
static bool
names_class(const struct policy_class_map *m, const char *cn,
    const struct policy_request *req, enum policy_class_source *src,
    char *why, size_t whylen)
{
	size_t i, j;

	for (i = 0; i < m->naccounts; i++) {
		if (name_eq(m->accounts[i], req->account)) {
			*src = POLICY_CLASS_SOURCE_ACCOUNT;
			snprintf(why, whylen, "account \"%s\" is listed in "
			    "classes.%s.accounts", m->accounts[i], cn);
			return true;
		}
	}
	for (i = 0; i < m->npatterns; i++) {
		if (fnmatch(m->patterns[i], req->account, FNM_CASEFOLD) == 0) {
			*src = POLICY_CLASS_SOURCE_PATTERN;
			snprintf(why, whylen, "account matches pattern \"%s\" "
			    "in classes.%s.patterns", m->patterns[i], cn);
			return true;
		}
	}
	for (i = 0; i < m->ngroups; i++) {
		for (j = 0; j < req->ngroups; j++) {
			if (!name_eq(m->groups[i], req->groups[j]))
				continue;
			*src = POLICY_CLASS_SOURCE_GROUP;
			snprintf(why, whylen, "target is in group \"%s\" "
			    "(classes.%s.groups)", m->groups[i], cn);
			return true;
		}
	}
	for (i = 0; i < m->nsystems; i++) {
		if (name_eq(m->systems[i], req->system)) {
			*src = POLICY_CLASS_SOURCE_SYSTEM;
			snprintf(why, whylen, "every account on system \"%s\" "
			    "is %s (classes.%s.systems)", m->systems[i], cn,
			    cn);
			return true;
		}
	}
	return false;
}

/*
 * The strictest class the configuration gives the target; *why says which
 * entry matched.  Strictest first, so the first match is the answer; in a
 * class, the directory's facts before the names.
 */
static enum policy_class
configured_class(const struct policy_config *cfg,
    const struct policy_request *req, enum policy_class_source *src,
    char *why, size_t whylen)
{
	const struct policy_dir_facts *f = req->directory;
	const struct policy_class_map *m;
	const char *cn;
	size_t i;
	int c;

	if (cfg->directory.configured && f == NULL) {
		*src = POLICY_CLASS_SOURCE_NO_FACTS;
		snprintf(why, whylen, "no directory facts are recorded for "
		    "the account: the strictest class");
		return POLICY_CLASS_ADMIN;
	}
	if (f != NULL && f->groups_truncated && groups_named(cfg)) {
		*src = POLICY_CLASS_SOURCE_NO_FACTS;
		snprintf(why, whylen, "the directory holds more groups for "
		    "the account than were kept: the strictest class");
		return POLICY_CLASS_ADMIN;
	}
	for (c = POLICY_CLASS_COUNT - 1; c > POLICY_CLASS_STANDARD; c--) {
		m = &cfg->classes[c];
		cn = policy_class_name((enum policy_class)c);
		if ((f != NULL && facts_class(m, cn, f, src, why, whylen)) ||
		    names_class(m, cn, req, src, why, whylen))
			return (enum policy_class)c;
	}
	if (cfg->directory.configured) {
		*src = POLICY_CLASS_SOURCE_DEFAULT;
		snprintf(why, whylen, "no class entry matches the account");
		return POLICY_CLASS_STANDARD;
	}
	/* no directory to say who it is: named standard, or the strictest */
	m = &cfg->classes[POLICY_CLASS_STANDARD];
	for (i = 0; i < m->naccounts; i++) {
		if (name_eq(m->accounts[i], req->account)) {
			*src = POLICY_CLASS_SOURCE_ACCOUNT;
			snprintf(why, whylen, "account \"%s\" is listed in "
			    "classes.standard.accounts", m->accounts[i]);
			return POLICY_CLASS_STANDARD;
		}
	}
	*src = POLICY_CLASS_SOURCE_NO_DIRECTORY;
	snprintf(why, whylen, "no directory is configured and no class "
	    "names the account: the strictest class");
	return POLICY_CLASS_ADMIN;
}

static void
classify(const struct policy_config *cfg, const struct policy_request *req,
    struct policy_decision *dec)
{
	char why[POLICY_REASON_MAX - 64];
	enum policy_class_source src;
	enum policy_class conf;

	conf = configured_class(cfg, req, &src, why, sizeof(why));
	dec->configured_class = conf;
	dec->claimed_class = req->claimed_class;
	if (req->claimed_class > conf) {
		dec->account_class = req->claimed_class;
		dec->class_source = POLICY_CLASS_SOURCE_CLAIM;
		snprintf(dec->class_reason, sizeof(dec->class_reason),
		    "%s: claimed by the request, stricter than the "
		    "configured %s (%s)", policy_class_name(req->claimed_class),
		    policy_class_name(conf), why);
		return;
	}
	/* A claim can raise the class, never lower it. */
	dec->account_class = conf;
	dec->class_source = src;
	snprintf(dec->class_reason, sizeof(dec->class_reason), "%s: %s%s",
	    policy_class_name(conf), why, req->claimed_class < conf ?
	    "; a claimed class can only make it stricter" : "");
}

/* Decide which evidence items count; see policy_evaluate in policy.h. */
static void
count_evidence(const struct policy_request *req, struct policy_decision *dec)
{
	const struct policy_evidence *e, *p;
	enum policy_evidence_verdict v;
	const char *rc = req->recovered_channel;
	const char *ref, *pref;
	size_t i, j;

	for (i = 0; i < req->nevidence; i++) {
		e = &req->evidence[i];
		ref = e->ref != NULL ? e->ref : "";
		if (!e->passed)
			v = POLICY_EVIDENCE_FAILED;
		else if (strcmp(e->channel, req->requester_channel) == 0)
			v = POLICY_EVIDENCE_REQUEST_CHANNEL;
		else if (rc != NULL && rc[0] != '\0' &&
		    strcmp(e->channel, rc) == 0)
			v = POLICY_EVIDENCE_RECOVERED_CHANNEL;
		else if (name_eq(e->verifier, req->account))
			v = POLICY_EVIDENCE_SELF_VERIFIED;
		else if (strcmp(e->verifier, req->agent) == 0 ||
		    (req->agent_officer != NULL &&
		    strcmp(e->verifier, req->agent_officer) == 0))
			v = POLICY_EVIDENCE_REQUESTER_VERIFIED;
		else
			v = POLICY_EVIDENCE_COUNTED;
		/* The same check entered twice is one check. */
		for (j = 0; v == POLICY_EVIDENCE_COUNTED && j < i; j++) {
			p = &req->evidence[j];
			pref = p->ref != NULL ? p->ref : "";
			if (dec->verdicts[j] == POLICY_EVIDENCE_COUNTED &&
			    p->type == e->type && strcmp(pref, ref) == 0)
				v = POLICY_EVIDENCE_DUPLICATE;
		}
		dec->verdicts[i] = v;
		if (v != POLICY_EVIDENCE_COUNTED)
			continue;
		dec->evidence_counted++;
		dec->evidence_types |= POLICY_EVIDENCE_BIT(e->type);
		if (e->origin == POLICY_ORIGIN_OFFICER &&
		    e->type == POLICY_EVIDENCE_IDENTITY_DOCUMENT)
			dec->proofed = true;
		if (e->origin == POLICY_ORIGIN_APPLIANCE ||
		    (e->origin == POLICY_ORIGIN_OFFICER &&
		    e->type == POLICY_EVIDENCE_IDENTITY_DOCUMENT)) {
			dec->evidence_verified++;
			dec->evidence_verified_types |=
			    POLICY_EVIDENCE_BIT(e->type);
		}
	}
}

static void
add_need(struct policy_decision *dec, const struct policy_approval_rule *a)
{
	size_t i;

	for (i = 0; i < dec->napprovals; i++) {
		if (strcmp(dec->approvals[i].group, a->group) == 0) {
			if (a->count > dec->approvals[i].required)
				dec->approvals[i].required = a->count;
			return;
		}
	}
	if (dec->napprovals < POLICY_MAX_DECISION_APPROVALS) {
		dec->approvals[dec->napprovals].group = a->group;
		dec->approvals[dec->napprovals].required = a->count;
		dec->napprovals++;
	}
}

static void
add_drops(struct policy_decision *dec, const struct policy_rule *rule)
{
	size_t i, j;

	dec->drop_all_privileged |= rule->drop_all_privileged;
	for (i = 0; i < rule->ndrop; i++) {
		for (j = 0; j < dec->ndrop; j++)
			if (name_eq(dec->drop[j], rule->drop[i]))
				break;
		if (j == dec->ndrop && dec->ndrop < POLICY_MAX_DECISION_DROPS)
			dec->drop[dec->ndrop++] = rule->drop[i];
	}
}

/*
 * Whether officer may be the requesting agent.  Both are canonical
 * identities (principals and officers are named so: lowercase, so the
 * comparison ignoring case is an exact one);
 * an agent that is not canonical (a request stored before principals,
 * with the agent as typed: "officer-ben ", a Cyrillic letter) cannot be
 * told apart from anyone, so it may be every officer.  The officer name
 * the agent's principal is also enrolled under is the agent too.
 */
static bool
is_requester(const char *officer, const struct policy_request *req)
{
	return !policy_identity_canonical(req->agent) ||
	    name_eq(officer, req->agent) || (req->agent_officer != NULL &&
	    name_eq(officer, req->agent_officer));
}

/* An approval that can count at all: user-verified, by a third person. */
static bool
approval_valid(const struct policy_request *req,
    const struct policy_approval *a)
{
	return a->user_verified && !is_requester(a->officer, req) &&
	    !name_eq(a->officer, req->account);
}

/* Fault of cand against the valid approvals among prior[0..n). */
static enum policy_approver_fault
approver_fault(const struct policy_request *req,
    const struct policy_approval *prior, size_t n,
    const struct policy_approval *cand)
{
	size_t i;

	if (!cand->user_verified)
		return POLICY_APPROVER_NOT_USER_VERIFIED;
	if (is_requester(cand->officer, req))
		return POLICY_APPROVER_IS_REQUESTER;
	if (name_eq(cand->officer, req->account))
		return POLICY_APPROVER_IS_TARGET;
	for (i = 0; i < n; i++) {
		if (!approval_valid(req, &prior[i]))
			continue;
		/* One person is one approval, even across groups. */
		if (name_eq(prior[i].officer, cand->officer))
			return POLICY_APPROVER_ALREADY_APPROVED;
		if (strcmp(prior[i].credential_id, cand->credential_id) == 0)
			return POLICY_APPROVER_CREDENTIAL_REUSED;
	}
	return POLICY_APPROVER_OK;
}

static void
count_approvals(const struct policy_request *req,
    const struct policy_progress *prog, struct policy_decision *dec)
{
	const struct policy_approval *a;
	size_t i, k;

	for (i = 0; prog != NULL && i < prog->napprovals; i++) {
		a = &prog->approvals[i];
		if (approver_fault(req, prog->approvals, i, a) !=
		    POLICY_APPROVER_OK)
			continue;
		for (k = 0; k < dec->napprovals; k++) {
			if (strcmp(dec->approvals[k].group, a->group) != 0)
				continue;
			if (dec->approvals[k].counted <
			    dec->approvals[k].required)
				dec->approvals[k].counted++;
			break;
		}
	}
}

static bool
evidence_missing(const struct policy_request *req,
    struct policy_decision *dec)
{
	unsigned have_types, need;
	char list[128], chans[POLICY_REASON_MAX];
	const char *rc = req->recovered_channel;
	char code[POLICY_MISSING_CODE_MAX];
	bool missing = false;
	unsigned t;

	if (dec->proofing_required && !dec->proofed) {
		add_missing(dec, "evidence:identity_proofing", "identity "
		    "proofing recorded by an officer (POST /v1/requests/ID/"
		    "proofing): the document seen, in person or on video, and "
		    "its reference");
		missing = true;
	}
	if (rc != NULL && rc[0] != '\0')
		snprintf(chans, sizeof(chans), "neither %s (the request's "
		    "channel) nor %s (the channel being recovered)",
		    req->requester_channel, rc);
	else
		snprintf(chans, sizeof(chans), "not %s (the request's "
		    "channel)", req->requester_channel);
	for (t = 0; t < POLICY_EVIDENCE_COUNT; t++) {
		if (!(dec->evidence_require_all & POLICY_EVIDENCE_BIT(t)) ||
		    (dec->evidence_types & POLICY_EVIDENCE_BIT(t)))
			continue;
		snprintf(code, sizeof(code), "evidence:%s",
		    policy_evidence_name((enum policy_evidence_type)t));
		add_missing(dec, code, "passing %s evidence, gathered over "
		    "a channel that is %s",
		    policy_evidence_name((enum policy_evidence_type)t), chans);
		missing = true;
	}
	if (dec->evidence_require_one_of != 0 &&
	    !(dec->evidence_types & dec->evidence_require_one_of)) {
		snprintf(code, sizeof(code), "evidence:any_of:%s",
		    type_list(dec->evidence_require_one_of, "|", list,
		    sizeof(list)));
		add_missing(dec, code, "passing evidence of one of: %s, "
		    "gathered over a channel that is %s",
		    type_list(dec->evidence_require_one_of, ", ", list,
		    sizeof(list)), chans);
		missing = true;
	}
	have_types = (unsigned)__builtin_popcount(dec->evidence_types);
	if (have_types < dec->evidence_types_required) {
		need = dec->evidence_types_required - have_types;
		snprintf(code, sizeof(code), "evidence:types:%u", need);
		add_missing(dec, code, "%u more distinct evidence type%s "
		    "(%u of %u counted)", need, need == 1 ? "" : "s",
		    have_types, dec->evidence_types_required);
		missing = true;
	}
	have_types = (unsigned)__builtin_popcount(dec->evidence_verified_types);
	if (have_types < dec->evidence_verified_types_required) {
		need = dec->evidence_verified_types_required - have_types;
		snprintf(code, sizeof(code), "evidence:verified_types:%u",
		    need);
		add_missing(dec, code, "needs %u appliance-verified kind%s, "
		    "has %u (a challenge the appliance checks: out-of-band "
		    "code, manager confirmation, recovery code)",
		    dec->evidence_verified_types_required,
		    dec->evidence_verified_types_required == 1 ? "" : "s",
		    have_types);
		missing = true;
	}
	if (dec->evidence_verified < dec->evidence_verified_required) {
		need = dec->evidence_verified_required -
		    dec->evidence_verified;
		snprintf(code, sizeof(code), "evidence:verified:%u", need);
		add_missing(dec, code, "needs %u appliance-verified item%s, "
		    "has %u", dec->evidence_verified_required,
		    dec->evidence_verified_required == 1 ? "" : "s",
		    dec->evidence_verified);
		missing = true;
	}
	if (dec->evidence_counted < dec->evidence_required) {
		need = dec->evidence_required - dec->evidence_counted;
		snprintf(code, sizeof(code), "evidence:count:%u", need);
		add_missing(dec, code, "%u more passing evidence item%s over "
		    "a channel that is %s (%u of %u counted)", need,
		    need == 1 ? "" : "s", chans, dec->evidence_counted,
		    dec->evidence_required);
		missing = true;
	}
	return missing;
}

static bool
approvals_missing(struct policy_decision *dec)
{
	char code[POLICY_MISSING_CODE_MAX];
	const struct policy_approval_need *n;
	bool missing = false;
	unsigned need;
	size_t i;

	for (i = 0; i < dec->napprovals; i++) {
		n = &dec->approvals[i];
		if (n->counted >= n->required)
			continue;
		need = n->required - n->counted;
		snprintf(code, sizeof(code), "approval:%s:%u", n->group, need);
		add_missing(dec, code, "%u more approval%s from %s: each a "
		    "different officer, neither the requester nor the "
		    "account holder, tapping a security key with PIN", need,
		    need == 1 ? "" : "s", n->group);
		missing = true;
	}
	return missing;
}

/*
 * t (>= 0) as "YYYY-MM-DDTHH:MM:SSZ".  Computed here rather than with
 * gmtime_r, which may load the time-zone file on first use: evaluation does
 * no I/O, and may run in a process whose sandbox forbids opening files.
 * Days to civil date: H. Hinnant's algorithm (proleptic Gregorian).
 */
static void
utc_time(int64_t t, char *buf, size_t len)
{
	int64_t z = t / 86400 + 719468, secs = t % 86400;
	int64_t era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t mon = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (mon <= 2);

	snprintf(buf, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
	    (long long)year, (long long)mon, (long long)day,
	    (long long)(secs / 3600), (long long)(secs / 60 % 60),
	    (long long)(secs % 60));
}

static void
route(const struct policy_config *cfg, const struct policy_request *req,
    struct policy_decision *dec)
{
	char list[128];
	size_t off = 0;
	int n, k;

	if (req->veto_cooloff) {
		dec->route = POLICY_ROUTE_MANUAL_REVIEW;
		snprintf(dec->route_reason, sizeof(dec->route_reason),
		    "a veto of this account within the cool-off (%lld s, "
		    "holds.veto_cooloff_seconds) calls for manual review",
		    (long long)cfg->holds.veto_cooloff_seconds);
		return;
	}
	for (k = 0; k < POLICY_RISK_COUNT; k++) {
		if (!req->risk[k] || !cfg->risk[k].manual_review)
			continue;
		n = snprintf(list + off, sizeof(list) - off, "%s%s",
		    off ? ", " : "", policy_risk_name((enum policy_risk)k));
		if (n > 0 && (size_t)n < sizeof(list) - off)
			off += (size_t)n;
	}
	if (off > 0) {
		dec->route = POLICY_ROUTE_MANUAL_REVIEW;
		snprintf(dec->route_reason, sizeof(dec->route_reason),
		    "risk signal %s calls for manual review", list);
	} else if (!(dec->evidence_types & cfg->trusted_evidence)) {
		dec->route = POLICY_ROUTE_MANUAL_REVIEW;
		snprintf(dec->route_reason, sizeof(dec->route_reason),
		    "no trusted factor verifies the request: no counted "
		    "evidence of a trusted type (%s)",
		    type_list(cfg->trusted_evidence, ", ", list,
		    sizeof(list)));
	} else {
		dec->route = POLICY_ROUTE_NORMAL;
		snprintf(dec->route_reason, sizeof(dec->route_reason),
		    "verified by trusted evidence (%s)",
		    type_list(dec->evidence_types & cfg->trusted_evidence,
		    ", ", list, sizeof(list)));
	}
}

/* Whether a raised risk signal forces the manual route. */
static bool
route_by_risk(const struct policy_config *cfg,
    const struct policy_request *req)
{
	int k;

	for (k = 0; k < POLICY_RISK_COUNT; k++)
		if (req->risk[k] && cfg->risk[k].manual_review)
			return true;
	return false;
}

/* Requirements of the route: see policy_evaluate in policy.h. */
static void
requirements(const struct policy_config *cfg,
    const struct policy_request *req, struct policy_decision *dec)
{
	const struct policy_rule *rule, *man = &cfg->manual_review;
	int64_t extra_hold = 0;
	unsigned extra_ev = 0, types;
	size_t i;
	int k;

	rule = &cfg->rules[req->queue][dec->account_class];
	for (k = 0; k < POLICY_RISK_COUNT; k++) {
		if (!req->risk[k])
			continue;
		extra_hold += cfg->risk[k].extra_hold_seconds;
		extra_ev += cfg->risk[k].extra_evidence;
	}
	for (i = 0; i < rule->napprovals; i++)
		add_need(dec, &rule->approvals[i]);
	add_drops(dec, rule);
	dec->hold_seconds = rule->hold_seconds;
	dec->order_ttl_seconds = rule->order_ttl_seconds;
	dec->approve_at_box = rule->approve_at_box;
	if (dec->route == POLICY_ROUTE_MANUAL_REVIEW) {
		/* Never weaker than the rule it replaces. */
		for (i = 0; i < man->napprovals; i++)
			add_need(dec, &man->approvals[i]);
		add_drops(dec, man);
		if (man->hold_seconds > dec->hold_seconds)
			dec->hold_seconds = man->hold_seconds;
		if (man->order_ttl_seconds < dec->order_ttl_seconds)
			dec->order_ttl_seconds = man->order_ttl_seconds;
		dec->proofing_required = man->identity_proofing;
		dec->approve_at_box |= man->approve_at_box;
	}
	/*
	 * The rule's evidence: on the normal route, and on a manual route a
	 * risk signal forced (the evidence the request had still counts, so
	 * a raised risk never lowers what it needs).
	 */
	if (dec->route == POLICY_ROUTE_NORMAL || route_by_risk(cfg, req)) {
		types = rule->evidence.min_types + extra_ev;
		dec->evidence_required = rule->evidence.min_passing + extra_ev;
		dec->evidence_types_required = types < POLICY_EVIDENCE_COUNT ?
		    types : POLICY_EVIDENCE_COUNT;
		dec->evidence_require_all = rule->evidence.require_all;
		dec->evidence_require_one_of = rule->evidence.require_one_of;
		dec->evidence_verified_required = rule->evidence.min_verified;
		dec->evidence_verified_types_required =
		    rule->evidence.min_verified_types;
	}
	dec->hold_seconds += extra_hold;
	dec->approval_required = dec->napprovals > 0;
}

int
policy_evaluate(const struct policy_config *cfg,
    const struct policy_request *req, const struct policy_progress *prog,
    int64_t now, struct policy_decision *dec)
{
	char code[POLICY_MISSING_CODE_MAX], when[64];
	bool ev_missing, ap_missing;
	int r;

	if (cfg == NULL || req == NULL || dec == NULL || now < 0 ||
	    now > POLICY_MAX_TIME)
		return TG_ERR_INVALID;
	if ((r = policy_request_check(cfg, req, NULL, 0)) != 0 ||
	    (r = check_progress(prog)) != 0)
		return r;

	memset(dec, 0, sizeof(*dec));
	dec->policy_id = cfg->policy_id;
	dec->policy_version = cfg->policy_version;
	classify(cfg, req, dec);
	count_evidence(req, dec);
	route(cfg, req, dec);
	requirements(cfg, req, dec);
	count_approvals(req, prog, dec);

	if (prog != NULL && prog->denied) {
		dec->state = POLICY_STATE_DENIED;
		return 0;
	}
	if (prog != NULL && prog->vetoed) {
		dec->state = POLICY_STATE_VETOED;
		return 0;
	}
	if (prog != NULL && prog->sign_failed) {
		dec->state = POLICY_STATE_SIGN_FAILED;
		return 0;
	}
	ev_missing = evidence_missing(req, dec);
	ap_missing = approvals_missing(dec);
	if (ev_missing || ap_missing) {
		if (ev_missing)
			dec->state = POLICY_STATE_NEEDS_EVIDENCE;
		else if (dec->route == POLICY_ROUTE_MANUAL_REVIEW)
			dec->state = POLICY_STATE_MANUAL_REVIEW;
		else
			dec->state = POLICY_STATE_NEEDS_APPROVAL;
		if (dec->hold_seconds > 0) {
			snprintf(code, sizeof(code), "hold:seconds:%lld",
			    (long long)dec->hold_seconds);
			add_missing(dec, code, "then a %lld s hold in which "
			    "the account owner or any officer can veto",
			    (long long)dec->hold_seconds);
		}
		return 0;
	}
	/* Everything is in: the veto window runs from here. */
	dec->hold_start = prog != NULL && prog->hold_start != 0 ?
	    prog->hold_start : now;
	dec->hold_until = dec->hold_start + dec->hold_seconds;
	/* an extension of a hold that has started: time it could not count */
	if (prog != NULL && prog->hold_start != 0 &&
	    prog->hold_end > dec->hold_until)
		dec->hold_until = prog->hold_end;
	if (now >= dec->hold_until) {
		dec->state = POLICY_STATE_READY;
		return 0;
	}
	dec->state = POLICY_STATE_IN_HOLD;
	utc_time(dec->hold_until, when, sizeof(when));
	snprintf(code, sizeof(code), "hold:until:%lld",
	    (long long)dec->hold_until);
	add_missing(dec, code, "the veto window is open until %s: the account "
	    "owner or any officer can still veto", when);
	return 0;
}

int
policy_check_approver(const struct policy_request *req,
    const struct policy_progress *prog, const struct policy_decision *dec,
    const struct policy_approval *cand, enum policy_approver_fault *fault)
{
	enum policy_approver_fault f;
	size_t i;
	int r;

	if (req == NULL || cand == NULL || fault == NULL)
		return TG_ERR_INVALID;
	if ((r = check_str(req->agent, false, NULL, 0, "agent")) != 0 ||
	    (r = check_str(req->agent_officer, true, NULL, 0,
	    "agent_officer")) != 0 ||
	    (r = check_str(req->account, false, NULL, 0, "account")) != 0 ||
	    (r = check_approval(cand, 0)) != 0 ||
	    (r = check_progress(prog)) != 0)
		return r;
	f = approver_fault(req, prog != NULL ? prog->approvals : NULL,
	    prog != NULL ? prog->napprovals : 0, cand);
	if (f == POLICY_APPROVER_OK && dec != NULL) {
		if (dec->state != POLICY_STATE_NEEDS_APPROVAL &&
		    dec->state != POLICY_STATE_MANUAL_REVIEW)
			f = POLICY_APPROVER_NOT_AWAITING_APPROVAL;
		else {
			f = POLICY_APPROVER_GROUP_NOT_NEEDED;
			for (i = 0; i < dec->napprovals &&
			    i < POLICY_MAX_DECISION_APPROVALS; i++) {
				if (dec->approvals[i].group != NULL &&
				    strcmp(dec->approvals[i].group,
				    cand->group) == 0 &&
				    dec->approvals[i].counted <
				    dec->approvals[i].required)
					f = POLICY_APPROVER_OK;
			}
		}
	}
	*fault = f;
	return f == POLICY_APPROVER_OK ? 0 : TG_ERR_POLICY;
}

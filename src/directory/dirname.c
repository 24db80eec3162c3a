/* SPDX-License-Identifier: ISC */
/*
 * The strict normalisation of an account name, and the search filter
 * for it.  Pure: no I/O, no globals; libunistring allocates the NFKC
 * form and the case folds, freed before returning.
 *
 * The order matters.  Characters that must never be in a name are
 * refused as sent (NFKC would keep a zero-width space, and it maps a
 * no-break space to a space someone may then trim).  Only then is the
 * name put in NFKC, and looked at again: compatibility forms can turn
 * into what was refused.  The domain forms are mapped on the NFKC form,
 * so a fullwidth '＠' is an '@' like any other.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "common/errors.h"
#include "directory/directory.h"

static const struct {
	const char	*code;
	const char	*text;
} faults[DIR_NAME_FAULT_COUNT] = {
	[DIR_NAME_OK] = { "ok", "the name is acceptable" },
	[DIR_NAME_EMPTY] = { "empty", "the account name is empty" },
	[DIR_NAME_TOO_LONG] = { "too_long", "the account name is too long" },
	[DIR_NAME_NOT_UTF8] = { "not_utf8",
	    "the account name is not valid UTF-8" },
	[DIR_NAME_CONTROL] = { "control_character",
	    "the account name holds a control character" },
	[DIR_NAME_FORMAT] = { "format_character", "the account name holds "
	    "an invisible format character (zero-width space, byte order "
	    "mark, direction mark)" },
	[DIR_NAME_INVISIBLE] = { "invalid_character", "the account name "
	    "holds an unassigned, private-use or separator character" },
	[DIR_NAME_SURROUNDING_SPACE] = { "surrounding_space",
	    "the account name starts or ends with a space" },
	[DIR_NAME_MIXED_SCRIPT] = { "mixed_script", "the account name mixes "
	    "Latin, Cyrillic or Greek letters with another script" },
	[DIR_NAME_FOREIGN_DOMAIN] = { "foreign_domain", "the account name "
	    "names a domain other than the directory's" },
	[DIR_NAME_DOMAIN_FORM] = { "domain_form", "the account name is in "
	    "a user@domain or DOMAIN\\user form this directory does not "
	    "have" },
};

const char *
dir_name_fault_code(enum dir_name_fault f)
{
	return (unsigned)f < DIR_NAME_FAULT_COUNT ? faults[f].code : "?";
}

const char *
dir_name_fault_text(enum dir_name_fault f)
{
	return (unsigned)f < DIR_NAME_FAULT_COUNT ? faults[f].text : "?";
}

const char *
dir_outcome_name(enum dir_outcome o)
{
	static const char *const names[DIR_OUTCOME_COUNT] = { "found",
	    "not_found", "ambiguous", "unavailable" };

	return (unsigned)o < DIR_OUTCOME_COUNT ? names[o] : "?";
}

/* The fault of one character, wherever it stands in the name. */
static enum dir_name_fault
char_fault(ucs4_t c)
{
	if (uc_is_general_category(c, UC_CATEGORY_Cc))
		return DIR_NAME_CONTROL;
	if (uc_is_general_category(c, UC_CATEGORY_Cf))
		return DIR_NAME_FORMAT;
	if (uc_is_general_category(c, UC_CATEGORY_Cn) ||
	    uc_is_general_category(c, UC_CATEGORY_Co) ||
	    uc_is_general_category(c, UC_CATEGORY_Cs) ||
	    uc_is_general_category(c, UC_CATEGORY_Zl) ||
	    uc_is_general_category(c, UC_CATEGORY_Zp))
		return DIR_NAME_INVISIBLE;
	/* every space but U+0020 (NFKC maps most of them to it) */
	if (uc_is_general_category(c, UC_CATEGORY_Zs) && c != 0x20)
		return DIR_NAME_INVISIBLE;
	return DIR_NAME_OK;
}

static bool
edge_space(ucs4_t c)
{
	return uc_is_general_category(c, UC_CATEGORY_Zs) || uc_is_space(c);
}

/* Every character of s (n bytes, valid UTF-8) and both ends checked. */
static enum dir_name_fault
check_chars(const uint8_t *s, size_t n)
{
	const uint8_t *p = s, *end = s + n;
	enum dir_name_fault f;
	ucs4_t c, first = 0, last = 0;
	int len;

	while (p < end) {
		if ((len = u8_mbtouc(&c, p, (size_t)(end - p))) <= 0)
			return DIR_NAME_NOT_UTF8;
		if ((f = char_fault(c)) != DIR_NAME_OK)
			return f;
		if (p == s)
			first = c;
		last = c;
		p += len;
	}
	if (n > 0 && (edge_space(first) || edge_space(last)))
		return DIR_NAME_SURROUNDING_SPACE;
	return DIR_NAME_OK;
}

/* Whether a script is one of those that confusables are drawn from. */
static bool
confusable_script(const uc_script_t *sc)
{
	return strcmp(sc->name, "Latin") == 0 ||
	    strcmp(sc->name, "Cyrillic") == 0 ||
	    strcmp(sc->name, "Greek") == 0;
}

/*
 * Whether s mixes scripts so as to pass for another name: two scripts
 * (Common and Inherited aside: digits, '-', '.', accents) one of which
 * is Latin, Cyrillic or Greek.
 */
static bool
mixed_script(const uint8_t *s, size_t n)
{
	const uint8_t *p = s, *end = s + n;
	const uc_script_t *sc, *seen = NULL;
	bool confusable = false, mixed = false;
	ucs4_t c;
	int len;

	while (p < end && (len = u8_mbtouc(&c, p, (size_t)(end - p))) > 0) {
		p += len;
		if ((sc = uc_script(c)) == NULL ||
		    strcmp(sc->name, "Common") == 0 ||
		    strcmp(sc->name, "Inherited") == 0)
			continue;
		confusable |= confusable_script(sc);
		if (seen != NULL && seen != sc)
			mixed = true;
		seen = sc;
	}
	return mixed && confusable;
}

/* Whether the len bytes at p are domain, ignoring ASCII case. */
static bool
same_domain(const char *p, size_t len, const char *domain)
{
	return domain[0] != '\0' && strlen(domain) == len &&
	    strncasecmp(p, domain, len) == 0;
}

/*
 * The account part of the NFKC name s: the whole on OpenLDAP; on Active
 * Directory, user@DOMAIN and NETBIOS\user mapped to user when the
 * domain is the configured one.
 */
static enum dir_name_fault
account_part(const struct policy_directory *d, const char *s,
    const char **acct, size_t *acctlen)
{
	const char *at = strchr(s, '@'), *bs = strchr(s, '\\');

	*acct = s;
	*acctlen = strlen(s);
	if (d == NULL || !d->configured ||
	    d->preset != POLICY_DIR_ACTIVE_DIRECTORY)
		return DIR_NAME_OK;
	if (at != NULL && bs != NULL)
		return DIR_NAME_DOMAIN_FORM;
	if (at != NULL) {
		if (strchr(at + 1, '@') != NULL)
			return DIR_NAME_DOMAIN_FORM;
		if (d->domain[0] == '\0')
			return DIR_NAME_DOMAIN_FORM;
		if (!same_domain(at + 1, strlen(at + 1), d->domain))
			return DIR_NAME_FOREIGN_DOMAIN;
		*acctlen = (size_t)(at - s);
	} else if (bs != NULL) {
		if (strchr(bs + 1, '\\') != NULL)
			return DIR_NAME_DOMAIN_FORM;
		if (d->netbios[0] == '\0')
			return DIR_NAME_DOMAIN_FORM;
		if (!same_domain(s, (size_t)(bs - s), d->netbios))
			return DIR_NAME_FOREIGN_DOMAIN;
		*acct = bs + 1;
		*acctlen = strlen(bs + 1);
	}
	return DIR_NAME_OK;
}

int
dir_name_normalize(const struct policy_directory *d, const char *in,
    char *out, size_t outlen, enum dir_name_fault *fault)
{
	enum dir_name_fault f;
	uint8_t *nf = NULL, *t;
	const char *acct;
	size_t n, nflen = 0, acctlen;
	int r;

	if (in == NULL || out == NULL || fault == NULL ||
	    outlen < DIR_NAME_MAX + 1)
		return TG_ERR_INVALID;
	n = strnlen(in, DIR_INPUT_MAX + 1);
	if (n == 0)
		f = DIR_NAME_EMPTY;
	else if (n > DIR_INPUT_MAX)
		f = DIR_NAME_TOO_LONG;
	else if (u8_check((const uint8_t *)in, n) != NULL)
		f = DIR_NAME_NOT_UTF8;
	else
		f = check_chars((const uint8_t *)in, n);
	if (f != DIR_NAME_OK)
		goto refuse;
	nf = u8_normalize(UNINORM_NFKC, (const uint8_t *)in, n, NULL,
	    &nflen);
	if (nf == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	/* NFKC output as a C string: it may not grow past the bound */
	if (nflen > DIR_INPUT_MAX) {
		f = DIR_NAME_TOO_LONG;
		goto refuse;
	}
	if ((t = realloc(nf, nflen + 1)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	nf = t;
	nf[nflen] = '\0';
	if (memchr(nf, '\0', nflen) != NULL) {
		f = DIR_NAME_CONTROL;
		goto refuse;
	}
	if ((f = check_chars(nf, nflen)) != DIR_NAME_OK ||
	    (f = account_part(d, (const char *)nf, &acct, &acctlen)) !=
	    DIR_NAME_OK)
		goto refuse;
	if (acctlen == 0)
		f = DIR_NAME_EMPTY;
	else if (acctlen > DIR_NAME_MAX)
		f = DIR_NAME_TOO_LONG;
	else if ((f = check_chars((const uint8_t *)acct, acctlen)) ==
	    DIR_NAME_OK && mixed_script((const uint8_t *)acct, acctlen))
		f = DIR_NAME_MIXED_SCRIPT;
	if (f != DIR_NAME_OK)
		goto refuse;
	memcpy(out, acct, acctlen);
	out[acctlen] = '\0';
	*fault = DIR_NAME_OK;
	r = 0;
	goto out;
 refuse:
	*fault = f;
	r = TG_ERR_INVALID;
 out:
	free(nf);
	return r;
}

int
dir_name_upn(const struct policy_directory *d, const char *in, char *out,
    size_t outlen)
{
	char acct[DIR_NAME_MAX + 1];
	enum dir_name_fault f;
	uint8_t *nf;
	size_t nflen = 0, alen, dlen;
	bool at;
	int r;

	if (out == NULL || outlen < DIR_UPN_MAX + 1)
		return TG_ERR_INVALID;
	out[0] = '\0';
	if ((r = dir_name_normalize(d, in, acct, sizeof(acct), &f)) != 0)
		return r;
	if (d == NULL || !d->configured ||
	    d->preset != POLICY_DIR_ACTIVE_DIRECTORY ||
	    d->attrs.upn[0] == '\0')
		return 0;
	/* normalised: the NFKC form holds '@' only as the domain form */
	nf = u8_normalize(UNINORM_NFKC, (const uint8_t *)in, strlen(in),
	    NULL, &nflen);
	if (nf == NULL)
		return TG_ERR_NOMEM;
	at = memchr(nf, '@', nflen) != NULL;
	free(nf);
	if (!at)
		return 0;
	alen = strlen(acct);
	dlen = strlen(d->domain);
	if (alen + 1 + dlen >= outlen)
		return TG_ERR_TOO_LONG;
	memcpy(out, acct, alen);
	out[alen] = '@';
	memcpy(out + alen + 1, d->domain, dlen + 1);
	return 1;
}

bool
dir_name_same(const struct policy_directory *d, const char *a,
    const char *b)
{
	int cmp;

	(void)d;	/* both presets ignore case */
	if (a == NULL || b == NULL)
		return false;
	if (u8_casecmp((const uint8_t *)a, strlen(a), (const uint8_t *)b,
	    strlen(b), NULL, UNINORM_NFKC, &cmp) != 0)
		return false;
	return cmp == 0;
}

int
dir_filter(const struct policy_directory *d, const char *name, char *out,
    size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const char *ph, *p;
	size_t off = 0, need;

	if (d == NULL || name == NULL || out == NULL || outlen == 0 ||
	    (ph = strstr(d->filter, POLICY_DIR_NAME_PLACEHOLDER)) == NULL)
		return TG_ERR_INVALID;
	need = (size_t)(ph - d->filter);
	if (need >= outlen)
		return TG_ERR_TOO_LONG;
	memcpy(out, d->filter, need);
	off = need;
	for (p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		bool esc = c == '*' || c == '(' || c == ')' || c == '\\' ||
		    c < 0x20 || c > 0x7e;

		if (off + (esc ? 3 : 1) >= outlen)
			return TG_ERR_TOO_LONG;
		if (esc) {
			out[off++] = '\\';
			out[off++] = hex[c >> 4];
			out[off++] = hex[c & 15];
		} else
			out[off++] = (char)c;
	}
	p = ph + strlen(POLICY_DIR_NAME_PLACEHOLDER);
	if (off + strlen(p) >= outlen)
		return TG_ERR_TOO_LONG;
	memcpy(out + off, p, strlen(p) + 1);
	return 0;
}

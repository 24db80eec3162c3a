/* SPDX-License-Identifier: ISC */
/*
 * What a directory entry's attribute values say: an account disabled or
 * locked, a value fit to keep.  Pure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unistr.h>

#include "common/errors.h"
#include "directory/directory.h"

/* ppolicy's value for an account an administrator locked for good */
#define PPOLICY_PERMANENT	"000001010000Z"
#define UAC_ACCOUNTDISABLE	0x2UL

static bool
generic_set(const char *v)
{
	return v[0] != '\0' && strcmp(v, "0") != 0 &&
	    strcasecmp(v, "false") != 0;
}

bool
dir_value_disables(const char *attr, const char *v)
{
	unsigned long uac;
	char *end;

	if (attr == NULL || v == NULL)
		return false;
	if (strcasecmp(attr, "userAccountControl") == 0) {
		/* a value that is not a number cannot say enabled */
		uac = strtoul(v, &end, 10);
		return end == v || *end != '\0' || (uac & UAC_ACCOUNTDISABLE);
	}
	if (strcasecmp(attr, "pwdAccountLockedTime") == 0)
		return strcmp(v, PPOLICY_PERMANENT) == 0;
	if (strcasecmp(attr, "lockoutTime") == 0)
		return false;
	return generic_set(v);
}

bool
dir_value_locks(const char *attr, const char *v)
{
	if (attr == NULL || v == NULL)
		return false;
	if (strcasecmp(attr, "pwdAccountLockedTime") == 0)
		return v[0] != '\0';
	if (strcasecmp(attr, "userAccountControl") == 0)
		return false;
	return generic_set(v);
}

bool
dir_value_ok(const char *v, size_t max)
{
	size_t n, i;

	if (v == NULL || (n = strnlen(v, max + 1)) > max)
		return false;
	if (u8_check((const uint8_t *)v, n) != NULL)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	return true;
}

/* Byte offset of the k-th UTF-8 character of s (n bytes), or n. */
static size_t
char_offset(const char *s, size_t n, size_t k)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t off = 0;
	int len;

	while (k-- > 0 && off < n) {
		if ((len = u8_mblen(p + off, n - off)) <= 0)
			return n;
		off += (size_t)len;
	}
	return off;
}

int
dir_mask_phone(const char *in, char *out, size_t outlen)
{
	size_t n, chars, head, tail;

	if (!dir_value_ok(in, DIR_VALUE_MAX) || out == NULL ||
	    outlen < DIR_VALUE_MAX + 4)
		return TG_ERR_INVALID;
	n = strlen(in);
	chars = u8_mbsnlen((const uint8_t *)in, n);
	if (chars <= 7) {
		snprintf(out, outlen, "%s", DIR_MASK);
		return 0;
	}
	head = char_offset(in, n, 3);
	tail = char_offset(in, n, chars - 4);
	snprintf(out, outlen, "%.*s %s %s", (int)head, in, DIR_MASK,
	    in + tail);
	return 0;
}

int
dir_mask_mail(const char *in, char *out, size_t outlen)
{
	const char *at;
	size_t first;

	if (!dir_value_ok(in, DIR_VALUE_MAX) || out == NULL ||
	    outlen < DIR_VALUE_MAX + 4)
		return TG_ERR_INVALID;
	if ((at = strrchr(in, '@')) == NULL || at == in || at[1] == '\0') {
		snprintf(out, outlen, "%s", DIR_MASK);
		return 0;
	}
	first = char_offset(in, (size_t)(at - in), 1);
	snprintf(out, outlen, "%.*s%s%s", (int)first, in, DIR_MASK, at);
	return 0;
}

void
dir_group_sources(const struct dir_facts *f, size_t g,
    bool from[DIR_MAX_GROUPS])
{
	bool reach[DIR_MAX_GROUPS];
	const struct dir_edge *e;
	size_t i, k;
	bool more = true;

	memset(reach, 0, sizeof(reach));
	memset(from, 0, DIR_MAX_GROUPS * sizeof(from[0]));
	if (g >= f->ngroups || f->ngroups > DIR_MAX_GROUPS)
		return;
	reach[g] = true;
	/* each pass reaches one level further down: ngroups at most */
	for (i = 0; more && i < f->ngroups; i++) {
		more = false;
		for (k = 0; k < f->nedges && k < DIR_MAX_EDGES; k++) {
			e = &f->edges[k];
			if (e->group < f->ngroups && e->member < f->ngroups &&
			    reach[e->group] && !reach[e->member]) {
				reach[e->member] = true;
				more = true;
			}
		}
	}
	for (i = 0; i < f->ndirect && i < f->ngroups; i++)
		from[i] = reach[i];
}

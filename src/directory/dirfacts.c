/* SPDX-License-Identifier: ISC */
/*
 * What a directory entry's attribute values say: an account disabled or
 * locked, a value fit to keep.  Pure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unistr.h>

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

/* SPDX-License-Identifier: ISC */
/*
 * Text substitution for tests that derive a configuration from another
 * (a broken key, a changed bound) by replacing one piece of it.
 */
#ifndef TAPGATE_TEST_TEXTSUB_H
#define TAPGATE_TEST_TEXTSUB_H

#include <stdlib.h>
#include <string.h>

/*
 * A copy of text with the first find replaced by repl (the caller frees
 * it); NULL when find is not in text or memory runs out.
 */
static inline char *
replace_once(const char *text, const char *find, const char *repl)
{
	const char *p = strstr(text, find);
	size_t pre, len;
	char *out;

	if (p == NULL)
		return NULL;
	pre = (size_t)(p - text);
	len = strlen(text) - strlen(find) + strlen(repl);
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(out, text, pre);
	memcpy(out + pre, repl, strlen(repl));
	strcpy(out + pre + strlen(repl), p + strlen(find));
	return out;
}

#endif

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the console's two parsers of browser input
 * (daemon/web.c): the Cookie header and application/x-www-form-urlencoded
 * bodies.  The input is a failure-injection seed (wrap.h: WRAP_SEED_LEN
 * bytes, 0 for none; the parsers allocate nothing), one byte choosing
 * the parser (bit 0: a form, else a Cookie header, cut at its first
 * NUL), then the bytes.  What is accepted must hold what web.h promises
 * (abort() makes a violation a crash): cookies within their bounds,
 * names tokens and values cookie-octets, no name twice, and the same
 * cookies again when written back the way browsers send them; form
 * fields within their bounds, keys of the key alphabet and never twice,
 * values without NUL or a control character but tab, CR and LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/web.h"
#include "goal.h"
#include "wrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long	accepted[2];

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	static const char *const names[2] = {
		"a_cookie_header_is_accepted", "a_form_is_accepted",
	};

	if (i > 1)
		return -1;
	*name = names[i];
	*hits = accepted[i];
	return 0;
}

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

static void
check_cookies(const struct web_cookie *c, size_t n)
{
	static struct web_cookie again[WEB_MAX_COOKIES];
	static char h[WEB_COOKIE_HEADER_MAX + 1];
	size_t i, j, m;
	const char *p;

	fuzz_assert(n >= 1 && n <= WEB_MAX_COOKIES);
	h[0] = '\0';
	for (i = 0; i < n; i++) {
		fuzz_assert(c[i].name[0] != '\0' &&
		    strlen(c[i].name) <= WEB_COOKIE_NAME_MAX &&
		    strlen(c[i].value) <= WEB_COOKIE_VALUE_MAX);
		for (p = c[i].name; *p != '\0'; p++)
			fuzz_assert(*p > 0x20 && *p < 0x7f && *p != '=' &&
			    *p != ';' && *p != ',' && *p != '"');
		for (p = c[i].value; *p != '\0'; p++)
			fuzz_assert(*p > 0x20 && *p < 0x7f && *p != ';' &&
			    *p != ',' && *p != '"' && *p != '\\');
		for (j = 0; j < i; j++)
			fuzz_assert(strcmp(c[i].name, c[j].name) != 0);
		strcat(h, i ? "; " : "");
		strcat(h, c[i].name);
		strcat(h, "=");
		strcat(h, c[i].value);
	}
	fuzz_assert(web_cookies_parse(h, again, &m) == 0 && m == n);
	for (i = 0; i < n; i++)
		fuzz_assert(strcmp(again[i].name, c[i].name) == 0 &&
		    strcmp(again[i].value, c[i].value) == 0);
}

static void
check_form(const struct web_form *f)
{
	const unsigned char *v;
	const char *k;
	size_t i, j;

	fuzz_assert(f->nfields <= WEB_FORM_MAX_FIELDS);
	for (i = 0; i < f->nfields; i++) {
		fuzz_assert(f->fields[i].key[0] != '\0');
		for (k = f->fields[i].key; *k != '\0'; k++)
			fuzz_assert((*k >= 'a' && *k <= 'z') || (*k >= '0' &&
			    *k <= '9') || *k == '_' || *k == '.' || *k == '-');
		for (j = 0; j < i; j++)
			fuzz_assert(strcmp(f->fields[i].key,
			    f->fields[j].key) != 0);
		fuzz_assert(f->fields[i].value >= f->store &&
		    f->fields[i].value < f->store + sizeof(f->store));
		for (v = (const unsigned char *)f->fields[i].value; *v != '\0';
		    v++)
			fuzz_assert(*v >= 0x20 || *v == '\t' || *v == '\r' ||
			    *v == '\n');
		fuzz_assert(web_form_get(f, f->fields[i].key) ==
		    f->fields[i].value);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct web_cookie c[WEB_MAX_COOKIES];
	static struct web_form f;
	uint32_t seed;
	size_t n;
	char *in;
	int r;

	if (wrap_take_seed(&data, &size, &seed) != 0 || size < 1)
		return 0;
	if (data[0] & 1) {
		wrap_start(seed);
		r = web_form_parse((const char *)data + 1, size - 1, &f);
		wrap_stop();
		fuzz_assert(r == 0 || r == TG_ERR_INVALID ||
		    r == TG_ERR_TOO_LONG);
		fuzz_assert(r != 0 || size - 1 <= WEB_FORM_BODY_MAX);
		if (r == 0) {
			check_form(&f);
			accepted[1]++;
		}
		return 0;
	}
	if (size > 2 * WEB_COOKIE_HEADER_MAX || (in = malloc(size)) == NULL)
		return 0;
	memcpy(in, data + 1, size - 1);
	in[size - 1] = '\0';
	wrap_start(seed);
	r = web_cookies_parse(in, c, &n);
	wrap_stop();
	fuzz_assert(r == 0 || r == TG_ERR_INVALID || r == TG_ERR_TOO_LONG);
	if (r == 0) {
		check_cookies(c, n);
		accepted[0]++;
	} else
		fuzz_assert(n == 0);
	free(in);
	return 0;
}

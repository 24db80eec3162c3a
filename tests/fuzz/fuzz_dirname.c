/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the strict normalisation of account names and
 * the search filter built from them (directory/dirname.c).  The input
 * is a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none),
 * one byte choosing the directory (bit 0: Active Directory with its
 * domains, else OpenLDAP), then the name as a caller sends it (cut at
 * its first NUL, as a C string).  What is accepted must hold what the
 * normalisation promises (abort() makes a violation a crash): valid
 * UTF-8 of at most DIR_NAME_MAX bytes, no control, format or separator
 * character, no space at either end, no domain form left on Active
 * Directory, the same name again when normalised again, a filter that
 * holds it with every filter character escaped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unistr.h>

#include "common/errors.h"
#include "directory/directory.h"
#include "goal.h"
#include "wrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long	accepted;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	if (i > 0)
		return -1;
	*name = "a_name_is_accepted";
	*hits = accepted;
	return 0;
}

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

static void
directory(struct policy_directory *d, int ad)
{
	memset(d, 0, sizeof(*d));
	d->configured = true;
	if (ad) {
		d->preset = POLICY_DIR_ACTIVE_DIRECTORY;
		strcpy(d->domain, "corp.example");
		strcpy(d->netbios, "CORP");
		strcpy(d->filter,
		    "(&(objectClass=user)(sAMAccountName={name}))");
		strcpy(d->attrs.upn, "userPrincipalName");
	} else {
		d->preset = POLICY_DIR_OPENLDAP;
		strcpy(d->filter, "(uid={name})");
	}
}

/* What an accepted name must be. */
static void
check_accepted(const struct policy_directory *d, const char *out)
{
	char again[DIR_NAME_MAX + 1], filter[DIR_FILTER_MAX + 1];
	const uint8_t *p, *end;
	enum dir_name_fault f;
	size_t n = strlen(out);
	ucs4_t c;
	int len;

	fuzz_assert(n > 0 && n <= DIR_NAME_MAX);
	fuzz_assert(u8_check((const uint8_t *)out, n) == NULL);
	fuzz_assert(out[0] != ' ' && out[n - 1] != ' ');
	for (p = (const uint8_t *)out, end = p + n; p < end; p += len) {
		len = u8_mbtouc(&c, p, (size_t)(end - p));
		fuzz_assert(len > 0);
		fuzz_assert(!uc_is_general_category(c, UC_CATEGORY_C));
		fuzz_assert(!uc_is_general_category(c, UC_CATEGORY_Zl) &&
		    !uc_is_general_category(c, UC_CATEGORY_Zp));
	}
	if (d->preset == POLICY_DIR_ACTIVE_DIRECTORY)
		fuzz_assert(strchr(out, '@') == NULL &&
		    strchr(out, '\\') == NULL);
	fuzz_assert(dir_name_normalize(d, out, again, sizeof(again), &f) ==
	    0);
	fuzz_assert(strcmp(again, out) == 0);
	fuzz_assert(dir_name_same(d, out, again));
	fuzz_assert(dir_filter(d, out, filter, sizeof(filter)) == 0);
	fuzz_assert(strncmp(filter, d->filter, 5) == 0);
	/* the name's own bytes never open, close or glob a filter */
	fuzz_assert(strchr(filter + (strstr(d->filter, "{name}") -
	    d->filter), '*') == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_directory d;
	char *in, out[DIR_NAME_MAX + 1], upn[DIR_UPN_MAX + 1];
	enum dir_name_fault f = DIR_NAME_FAULT_COUNT;
	uint32_t seed;
	int r, u;

	if (wrap_take_seed(&data, &size, &seed) != 0 || size < 1)
		return 0;
	directory(&d, data[0] & 1);
	data++;
	size--;
	if (size > 4 * DIR_INPUT_MAX || (in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	wrap_start(seed);
	r = dir_name_normalize(&d, in, out, sizeof(out), &f);
	wrap_stop();
	/* a UPN whole: the normalised account, '@', the configured domain */
	u = dir_name_upn(&d, in, upn, sizeof(upn));
	fuzz_assert(u == 0 || u == 1 || u == TG_ERR_INVALID);
	fuzz_assert(r == TG_ERR_NOMEM || (r == 0) == (u >= 0));
	if (u == 1 && r == 0)
		fuzz_assert(d.preset == POLICY_DIR_ACTIVE_DIRECTORY &&
		    strncmp(upn, out, strlen(out)) == 0 &&
		    strcmp(upn + strlen(out), "@corp.example") == 0);
	else if (u == 0)
		fuzz_assert(upn[0] == '\0');
	if (r == 0) {
		fuzz_assert(f == DIR_NAME_OK);
		check_accepted(&d, out);
		accepted++;
	} else if (r == TG_ERR_INVALID) {
		fuzz_assert(f > DIR_NAME_OK && f < DIR_NAME_FAULT_COUNT);
		fuzz_assert(strcmp(dir_name_fault_text(f), "?") != 0);
	} else
		fuzz_assert(r == TG_ERR_NOMEM && seed != 0);
	free(in);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the strict parser of a browser's clientDataJSON
 * and the origin rule (common/clientdata.c): untrusted bytes a console
 * approval brings.  The input is a failure-injection seed (wrap.h:
 * WRAP_SEED_LEN bytes, 0 for none), then the clientDataJSON.  What is
 * accepted must hold what the parser promises (abort() makes a violation
 * a crash): type webauthn.get, a challenge of 43 base64url characters
 * that decode to 32 bytes, an origin of 1 to CLIENTDATA_ORIGIN_MAX bytes
 * without NUL, the same answer when parsed again; an origin the rule
 * accepts is https, its host rp_id or a subdomain of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "goal.h"
#include "wrap.h"

#define RP_ID	"corp.example"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long	accepted, origins;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	if (i == 0) {
		*name = "a_clientdata_is_accepted";
		*hits = accepted;
		return 0;
	}
	if (i == 1) {
		*name = "an_origin_is_accepted";
		*hits = origins;
		return 0;
	}
	return -1;
}

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* What an accepted origin must be. */
static void
check_origin(const char *o)
{
	const char *host = o + strlen("https://"), *end;
	size_t n;

	fuzz_assert(strncmp(o, "https://", 8) == 0);
	end = strchr(host, ':');
	n = end != NULL ? (size_t)(end - host) : strlen(host);
	fuzz_assert(n >= strlen(RP_ID));
	fuzz_assert(memcmp(host + n - strlen(RP_ID), RP_ID,
	    strlen(RP_ID)) == 0);
	fuzz_assert(n == strlen(RP_ID) ||
	    host[n - strlen(RP_ID) - 1] == '.');
	fuzz_assert(strpbrk(host, "/?#@ \\") == NULL);
}

static void
check_accepted(const uint8_t *data, size_t size, const struct clientdata *cd)
{
	struct clientdata again;
	enum clientdata_fault f;
	uint8_t *raw = NULL;
	size_t rawlen = 0;

	fuzz_assert(size <= CLIENTDATA_MAX);
	fuzz_assert(strcmp(cd->type, CLIENTDATA_TYPE_GET) == 0);
	fuzz_assert(strlen(cd->challenge) == CLIENTDATA_CHALLENGE_LEN);
	if (b64url_decode(cd->challenge, CLIENTDATA_CHALLENGE_LEN, 32, &raw,
	    &rawlen) == 0) {
		fuzz_assert(rawlen == 32);
		free(raw);
	}
	fuzz_assert(cd->origin[0] != '\0' &&
	    strlen(cd->origin) <= CLIENTDATA_ORIGIN_MAX);
	if (clientdata_parse(data, size, &again, &f) == 0)
		fuzz_assert(memcmp(&again, cd, sizeof(again)) == 0);
	if (clientdata_origin_ok(cd->origin, RP_ID))
		check_origin(cd->origin);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clientdata cd;
	enum clientdata_fault f = CLIENTDATA_FAULT_COUNT;
	char *s;
	uint32_t seed;
	int r;

	if (wrap_take_seed(&data, &size, &seed) != 0 || size > 4 *
	    CLIENTDATA_MAX)
		return 0;
	wrap_start(seed);
	r = clientdata_parse(data, size, &cd, &f);
	wrap_stop();
	if (r == 0) {
		fuzz_assert(f == CLIENTDATA_OK);
		check_accepted(data, size, &cd);
		accepted++;
	} else if (r == TG_ERR_INVALID || r == TG_ERR_TOO_LONG) {
		fuzz_assert(f > CLIENTDATA_OK && f < CLIENTDATA_FAULT_COUNT);
		fuzz_assert((r == TG_ERR_TOO_LONG) ==
		    (f == CLIENTDATA_TOO_LONG));
		fuzz_assert(strcmp(clientdata_fault_text(f), "?") != 0);
	} else
		fuzz_assert(r == TG_ERR_NOMEM && seed != 0);
	/* the input as an origin, too */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (clientdata_origin_ok(s, RP_ID)) {
		check_origin(s);
		origins++;
	}
	free(s);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for what a downstream verifier reads from outside: a
 * JWKS document and a compact JWS order.  Input layout: a failure-injection
 * seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none), then byte 0 times 16 is
 * the length of the JWKS part (capped by what is there), the rest is the
 * token.  When the JWKS part does not parse, the token is still verified
 * against a fixed set (the RFC 8037 key), so the token parser is reached
 * from every input.  Failures are injected while the JWKS is parsed and
 * while the token is verified; the round trip and the fallback set run
 * without, as they check properties, not error paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "order/jwk.h"
#include "order/jws.h"
#include "wrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_SPLIT_UNIT	16

/* RFC 8037 appendix A.2. */
static const char fuzz_fallback_jwks[] =
    "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";

/* A broken invariant is a finding: crash so libFuzzer records it. */
static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* What parses must serialise and parse back to the same set. */
static void
fuzz_jwks_round_trip(const struct jwks *set)
{
	struct jwks *back = NULL;
	char *doc = NULL, *doc2 = NULL;
	size_t len, len2, i;

	fuzz_assert(jwks_serialize(set, &doc, &len) == 0);
	fuzz_assert(jwks_parse(doc, len, &back) == 0);
	fuzz_assert(jwks_count(back) == jwks_count(set));
	for (i = 0; i < jwks_count(set); i++)
		fuzz_assert(strcmp(jwk_kid(jwks_key(set, i)),
		    jwk_kid(jwks_key(back, i))) == 0);
	fuzz_assert(jwks_serialize(back, &doc2, &len2) == 0);
	fuzz_assert(len == len2 && memcmp(doc, doc2, len) == 0);
	free(doc);
	free(doc2);
	jwks_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jwks *set = NULL;
	const struct jwk *key;
	uint8_t *payload = NULL;
	char *kid = NULL;
	size_t split, plen;
	uint32_t seed;
	int r;

	if (wrap_take_seed(&data, &size, &seed) != 0 || size < 1)
		return 0;
	split = (size_t)data[0] * FUZZ_SPLIT_UNIT;
	if (split > size - 1)
		split = size - 1;
	wrap_start(seed);
	r = jwks_parse((const char *)data + 1, split, &set);
	wrap_stop();
	if (r == 0)
		fuzz_jwks_round_trip(set);
	else {
		fuzz_assert(r < 0 && set == NULL);
		fuzz_assert(jwks_parse(fuzz_fallback_jwks,
		    sizeof(fuzz_fallback_jwks) - 1, &set) == 0);
	}
	/* the same schedule again, from its start */
	wrap_start(seed);
	r = jws_verify((const char *)data + 1 + split, size - 1 - split, set,
	    &payload, &plen, &kid);
	wrap_stop();
	if (r == 0) {
		/* only a key of the set can have signed it */
		fuzz_assert(jwks_find(set, kid, &key) == 0);
		free(payload);
		free(kid);
	} else {
		fuzz_assert(r < 0 && payload == NULL && kid == NULL);
		fuzz_assert(strcmp(tg_strerror(r), "unknown error") != 0);
	}
	jwks_free(&set);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the authenticator data of a credential a key
 * made for the web console (token_attested_parse, token/token.h):
 * untrusted bytes an enrolment by invitation brings.  The input is a
 * failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none), then
 * the authenticator data.  What is accepted must hold what the parser
 * promises (abort() makes a violation a crash): at most
 * TOKEN_AUTHDATA_MAX bytes whose rpIdHash is the rp_id's with UP, UV and
 * AT set, an ES256 key of 64 bytes or an EdDSA key of 32, a credential id
 * of 1 to TOKEN_CRED_ID_MAX bytes found in the input, the same answer
 * when parsed again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/errors.h"
#include "goal.h"
#include "token/token.h"
#include "wrap.h"

#define RP_ID	"tapgate.local"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long	accepted;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	if (i == 0) {
		*name = "a_credential_is_accepted";
		*hits = accepted;
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

static void
check_accepted(const uint8_t *data, size_t size,
    const struct token_attested *at)
{
	static struct token_attested again;
	enum token_attested_fault f;
	uint8_t rph[32];

	fuzz_assert(size >= 37 && size <= TOKEN_AUTHDATA_MAX);
	SHA256((const unsigned char *)RP_ID, strlen(RP_ID), rph);
	fuzz_assert(memcmp(data, rph, 32) == 0);
	fuzz_assert((data[32] & 0x45) == 0x45);
	fuzz_assert((at->alg == TOKEN_ALG_ES256 && at->pubkey_len == 64) ||
	    (at->alg == TOKEN_ALG_EDDSA && at->pubkey_len == 32));
	fuzz_assert(at->cred_id_len >= 1 &&
	    at->cred_id_len <= TOKEN_CRED_ID_MAX);
	fuzz_assert(memmem(data, size, at->cred_id, at->cred_id_len) !=
	    NULL);
	if (token_attested_parse(RP_ID, data, size, &again, &f) == 0)
		fuzz_assert(memcmp(&again, at, sizeof(again)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_attested at;
	enum token_attested_fault f = TOKEN_ATTESTED_FAULT_COUNT;
	uint32_t seed;
	int r;

	if (wrap_take_seed(&data, &size, &seed) != 0 || size > 4 *
	    TOKEN_AUTHDATA_MAX)
		return 0;
	wrap_start(seed);
	r = token_attested_parse(RP_ID, data, size, &at, &f);
	wrap_stop();
	if (r == 0) {
		fuzz_assert(f == TOKEN_ATTESTED_OK);
		check_accepted(data, size, &at);
		accepted++;
	} else if (r == TG_ERR_INVALID) {
		fuzz_assert(f > TOKEN_ATTESTED_OK &&
		    f < TOKEN_ATTESTED_FAULT_COUNT);
		fuzz_assert(strcmp(token_attested_fault_text(f), "?") != 0);
	} else
		fuzz_assert(r == TG_ERR_NOMEM && seed != 0);
	return 0;
}

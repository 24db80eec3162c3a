/* SPDX-License-Identifier: ISC */
/*
 * Stored or received assertions handed to libfido2: arbitrary
 * authenticatorData and signature through token_verify_assertion against
 * a fixed ES256 and Ed25519 key (FIDO-NOTES: the libcbor allocation bomb
 * behind the ED flag must be refused before libfido2 sees the bytes).
 * The keys' private halves are published test vectors (RFC 6979 A.2.5,
 * RFC 8032 7.1 TEST 1), so tests/fuzz/mkcorpus_assertion.sh signs seeds
 * that verify: the fuzzer starts from the success path and the counter
 * check behind it, which no random input reaches.
 *
 * After a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none)
 * the first byte picks the key (bit 0), whether the counter is checked
 * (bit 1 set: skipped) and the previous counter (the byte >> 1); the
 * second is the length of the authData (a whole 37 bytes must be
 * reachable: any other length is refused before libfido2); the rest is
 * the signature.  The relying party is "tapgate.local", the client data
 * hash 32 zero bytes.  Failures are injected into the verification only.
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

/* RFC 6979 A.2.5: the P-256 key of x = C9AFA9D8...120F6721 */
static const uint8_t p256[64] = {
	0x60, 0xfe, 0xd4, 0xba, 0x25, 0x5a, 0x9d, 0x31, 0xc9, 0x61, 0xeb, 0x74,
	0xc6, 0x35, 0x6d, 0x68, 0xc0, 0x49, 0xb8, 0x92, 0x3b, 0x61, 0xfa, 0x6c,
	0xe6, 0x69, 0x62, 0x2e, 0x60, 0xf2, 0x9f, 0xb6, 0x79, 0x03, 0xfe, 0x10,
	0x08, 0xb8, 0xbc, 0x99, 0xa4, 0x1a, 0xe9, 0xe9, 0x56, 0x28, 0xbc, 0x64,
	0xf2, 0xf1, 0xb2, 0x0c, 0x2d, 0x7e, 0x9f, 0x51, 0x77, 0xa3, 0xc2, 0x94,
	0xd4, 0x46, 0x22, 0x99,
};
/* RFC 8032 7.1 TEST 1: the Ed25519 key of secret 9d61b19d...1cae7f60 */
static const uint8_t ed25519[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
	0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

/* inputs that reached each goal (replay.c checks the stored corpus) */
static unsigned long	verified_es256, verified_eddsa, counter_refused;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	static const char *const names[] = {
		"es256_assertion_verifies",
		"eddsa_assertion_verifies",
		"genuine_signature_with_stale_counter_is_refused",
	};

	if (i >= sizeof(names) / sizeof(names[0]))
		return -1;
	*name = names[i];
	*hits = i == 0 ? verified_es256 : i == 1 ? verified_eddsa :
	    counter_refused;
	return 0;
}

/* What an accepted assertion must be: what the contract promises. */
static void
check_accepted(const struct token_verify_req *vr, uint32_t count)
{
	uint8_t rphash[32];
	uint32_t c;

	SHA256((const unsigned char *)RP_ID, strlen(RP_ID), rphash);
	if (vr->authdata_len != 37 || memcmp(vr->authdata, rphash, 32) != 0 ||
	    (vr->authdata[32] & (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) !=
	    (TOKEN_FLAG_UP | TOKEN_FLAG_UV) ||
	    (vr->authdata[32] & (TOKEN_FLAG_AT | TOKEN_FLAG_ED)) != 0)
		abort();
	c = (uint32_t)vr->authdata[33] << 24 |
	    (uint32_t)vr->authdata[34] << 16 |
	    (uint32_t)vr->authdata[35] << 8 | vr->authdata[36];
	if (count != c || (!vr->skip_counter && c <= vr->prev_sign_count))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct token_verify_req vr;
	struct token_pubkey pk;
	uint8_t cdh[TOKEN_CDH_LEN] = { 0 };
	uint32_t count = 0, seed;
	size_t split;
	int r;

	if (wrap_take_seed(&data, &len, &seed) != 0 || len < 2)
		return 0;
	if (token_pubkey_from_raw(data[0] & 1 ? TOKEN_ALG_EDDSA :
	    TOKEN_ALG_ES256, data[0] & 1 ? ed25519 : p256, data[0] & 1 ? 32 :
	    64, &pk) != 0)
		abort();	/* the fixed keys are valid */
	split = data[1];
	if (split > len - 2)
		split = len - 2;
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &pk;
	vr.rp_id = RP_ID;
	vr.client_data_hash = cdh;
	vr.authdata = data + 2;
	vr.authdata_len = split;
	vr.sig = data + 2 + split;
	vr.sig_len = len - 2 - split;
	vr.prev_sign_count = data[0] >> 1;
	vr.skip_counter = (data[0] & 2) != 0;
	wrap_start(seed);
	r = token_verify_assertion(&vr, &count);
	wrap_stop();
	if (r == 0) {
		check_accepted(&vr, count);
		if (pk.alg == TOKEN_ALG_ES256)
			verified_es256++;
		else
			verified_eddsa++;
	} else if (r == TG_ERR_COUNTER)
		counter_refused++;	/* only after the signature verified */
	else if (r > 0)
		abort();
	return 0;
}

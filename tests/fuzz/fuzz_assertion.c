/* SPDX-License-Identifier: ISC */
/*
 * Stored or received assertions handed to libfido2: arbitrary
 * authenticatorData and signature through token_verify_assertion against
 * a fixed ES256 and Ed25519 key (FIDO-NOTES: the libcbor allocation bomb
 * behind the ED flag must be refused before libfido2 sees the bytes).
 * After a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none)
 * the first byte picks the key, the counter and whether it is checked; the
 * second is the length of the authData (a whole 37 bytes must be
 * reachable: any other length is refused before libfido2); the rest is
 * the signature.  Failures are injected into the verification only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "token/token.h"
#include "wrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* a valid P-256 point (the generator) and an Ed25519 public key */
static const uint8_t p256[64] = {
	0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
	0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
	0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2,
	0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
	0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68,
	0x37, 0xbf, 0x51, 0xf5,
};
static const uint8_t ed25519[32] = {
	0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3,
	0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
	0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct token_verify_req vr;
	struct token_pubkey pk;
	uint8_t cdh[TOKEN_CDH_LEN] = { 0 };
	uint32_t count, seed;
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
	vr.rp_id = "tapgate.local";
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
	if (r == 0)
		abort();	/* nobody holds these keys' private halves */
	return 0;
}

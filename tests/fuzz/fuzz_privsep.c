/* SPDX-License-Identifier: ISC */
/*
 * The daemon's side of the token-process protocol: replies from a child
 * that may be compromised (it parses what security keys send).  The first
 * byte picks the reply kind (and for enrolments the algorithm); the rest
 * is the message.  An enrolment reply carries the key's raw attestation,
 * which the daemon verifies itself (libfido2's authData and attStmt
 * parsers, then the packed signature).
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/errors.h"
#include "daemon/tokenproc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct msg m;
	struct token_credential *c = NULL;
	struct token_assertion *a = NULL;
	int r;

	if (len < 1 || msg_load(&m, data + 1, len - 1) != 0)
		return 0;
	if (data[0] & 1) {
		/* roots nobody can load: the chain check is the last step */
		static const uint8_t cdh[TOKEN_CDH_LEN];
		struct token_enroll_req req = { .rp_id = "tapgate.example",
		    .client_data_hash = cdh, .trust_roots_pem =
		    "/nonexistent/roots.pem", .alg = (data[0] & 2) ?
		    TOKEN_ALG_EDDSA : TOKEN_ALG_ES256 };

		r = tokenproc_enroll_reply(&m, &req, &c);
		if (r == 0 && (c == NULL || c->id == NULL ||
		    c->pubkey.raw_len > sizeof(c->pubkey.raw)))
			abort();
		token_credential_free(&c);
	} else {
		r = tokenproc_assert_reply(&m, &a);
		if (r == 0 && (a == NULL || a->authdata_len > TOKEN_AUTHDATA_MAX ||
		    a->sig_len > TOKEN_SIG_MAX))
			abort();
		token_assertion_free(&a);
	}
	if (r > 0)
		abort();	/* a status is 0 or a TG_ERR_* */
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The daemon's side of the token-process protocol: replies from a child
 * that may be compromised (it parses what security keys send).  The first
 * byte picks the reply kind (bit 0 an enrolment, bit 1 then its
 * algorithm; else bit 2 an identification, or an assertion); the rest is
 * the message.  An enrolment reply carries the key's raw attestation,
 * which the daemon verifies itself (libfido2's authData and attStmt
 * parsers, the packed signature, then the chain to the trust roots).
 *
 * The enrolment is the one the daemon asks for (credProtect 3), for
 * relying party "tapgate.example" and a client data hash of 32 zero
 * bytes, trusting the softfido CA that the stored genuine replies chain
 * to (tests/fuzz/fuzz_privsep-ca.pem, kept beside them by
 * mkcorpus_privsep.sh: every build makes its own CA).  Those replies
 * carry the fuzzer through every check to an accepted credential.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/tokenproc.h"
#include "goal.h"

#ifndef FUZZ_PRIVSEP_ROOTS	/* the Makefile names it from anywhere */
#define FUZZ_PRIVSEP_ROOTS	"tests/fuzz/fuzz_privsep-ca.pem"
#endif

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* enrolments accepted, by algorithm (replay.c checks the stored corpus) */
static unsigned long	enrolled_es256, enrolled_eddsa;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	switch (i) {
	case 0:
		*name = "es256_enrolment_reply_verifies";
		*hits = enrolled_es256;
		return 0;
	case 1:
		*name = "eddsa_enrolment_reply_verifies";
		*hits = enrolled_eddsa;
		return 0;
	default:
		return -1;
	}
}

/* What an accepted credential must be: what the daemon will store. */
static void
check_enrolled(const struct token_enroll_req *req,
    const struct token_credential *c)
{
	if (c == NULL || c->id == NULL || c->id_len == 0 ||
	    c->id_len > TOKEN_CRED_ID_MAX || c->pubkey.alg != req->alg ||
	    c->pubkey.raw_len != (req->alg == TOKEN_ALG_ES256 ? 64u : 32u) ||
	    c->cred_protect != req->cred_protect ||
	    (c->flags & (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) !=
	    (TOKEN_FLAG_UP | TOKEN_FLAG_UV) || c->authdata == NULL ||
	    c->authdata_len > TOKEN_AUTHDATA_MAX || c->attstmt == NULL ||
	    c->attstmt_len > TOKEN_ATTSTMT_MAX || strcmp(c->fmt, "packed") != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct msg m;
	static const uint8_t cdh[TOKEN_CDH_LEN];
	struct token_credential *c = NULL;
	struct token_assertion *a = NULL;
	const uint8_t *id;
	size_t idlen;
	int r, left = -1;

	if (len < 1 || msg_load(&m, data + 1, len - 1) != 0)
		return 0;
	if (data[0] & 1) {
		struct token_enroll_req req = { .rp_id = "tapgate.example",
		    .rp_name = "tapgate", .client_data_hash = cdh,
		    .cred_protect = 3, .trust_roots_pem = FUZZ_PRIVSEP_ROOTS,
		    .alg = (data[0] & 2) ? TOKEN_ALG_EDDSA : TOKEN_ALG_ES256 };

		r = tokenproc_enroll_reply(&m, &req, &c, &left);
		if (r == 0) {
			check_enrolled(&req, c);
			if (req.alg == TOKEN_ALG_ES256)
				enrolled_es256++;
			else
				enrolled_eddsa++;
		}
		token_credential_free(&c);
	} else if (data[0] & 4) {
		r = tokenproc_identify_reply(&m, &id, &idlen, &left);
		if (r == 0 && (id == NULL || idlen == 0 ||
		    idlen > TOKEN_CRED_ID_MAX || left != -1))
			abort();
	} else {
		r = tokenproc_assert_reply(&m, &a, &left);
		if (r == 0 && (a == NULL ||
		    a->authdata_len > TOKEN_AUTHDATA_MAX ||
		    a->sig_len > TOKEN_SIG_MAX))
			abort();
		token_assertion_free(&a);
	}
	/* the attempts left: a count a key can have, or none */
	if (left < -1 || left > 254)
		abort();
	if (r > 0)
		abort();	/* a status is 0 or a TG_ERR_* */
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The daemon's side of the token-process protocol: replies from a child
 * that may be compromised (it parses what security keys send).  The first
 * byte picks the reply kind; the rest is the message.
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
		r = tokenproc_enroll_reply(&m, &c);
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

/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for libtapgate-verify: the whole check of an order,
 * against a fixed JWKS (the fixture's Ed25519 and P-256 appliance keys)
 * and the fixture's approvers export, at a fixed "now", so a run depends
 * on its input alone.
 *
 * Input: a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for
 * none) for the verification, then byte 0 is a mode, the rest is the
 * body.
 *   bit 0 clear	the body is a token, verified as it is
 *   bit 0 set	the body is a payload, signed here with the fixture's
 *		Ed25519 appliance key first: random bytes cannot carry a
 *		valid signature, and this way the payload, change and
 *		approval checks behind it are fuzzed too
 *   bit 1 set	no approvers file (approvals not checked)
 * tests/e2e/e2e_verify_fixture --fuzz-corpus DIR writes the seeds.  A
 * verification that fails because of an injected failure must still refuse
 * cleanly: no order, a known error, one line saying why, nothing leaked,
 * and the context as good as before for the next input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_verify_fixture.h"
#include "common/errors.h"
#include "verify/tapgate_verify.h"
#include "wrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MODE_PAYLOAD	0x01
#define MODE_UNPINNED	0x02

static struct fx	 fz;
static struct tgv_ctx	*pinned, *unpinned;

/* A broken invariant is a finding: crash so libFuzzer records it. */
static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* Built once: the keys, the JWKS of both appliance keys, the pins. */
static void
fuzz_init(void)
{
	struct jwk *es = NULL;
	struct jwks *set = NULL;
	char *jwks = NULL;
	size_t len;

	fuzz_assert(fx_init(&fz) == 0);
	fuzz_assert((es = fx_appliance_key(JWK_ALG_ES256,
	    FX_ES256_LABEL)) != NULL);
	fuzz_assert(jwks_new(&set) == 0 && jwks_add(set, fz.key) == 0 &&
	    jwks_add(set, es) == 0 && jwks_serialize(set, &jwks, &len) == 0);
	fuzz_assert(tgv_ctx_new(&pinned) == 0 &&
	    tgv_load_jwks(pinned, jwks, len) == 0 &&
	    tgv_load_approvers(pinned, fz.approvers,
	    strlen(fz.approvers)) == 0 &&
	    tgv_set_audience(pinned, FX_AUD) == 0);
	fuzz_assert(tgv_ctx_new(&unpinned) == 0 &&
	    tgv_load_jwks(unpinned, jwks, len) == 0 &&
	    tgv_set_audience(unpinned, FX_AUD) == 0);
	free(jwks);
	jwks_free(&set);
	jwk_free(&es);
}

/* What an accepted order must satisfy, whatever the input was. */
static void
fuzz_check_order(const struct tgv_order *o, bool checked)
{
	const char *cj;
	char *json = NULL;
	size_t cjlen, jlen, i;
	json_t *back;

	fuzz_assert(strcmp(tgv_order_aud(o), FX_AUD) == 0);
	fuzz_assert(strcmp(tgv_order_target_system(o), FX_AUD) == 0);
	fuzz_assert(tgv_order_nbf(o) <= FX_NOW + TGV_LEEWAY_DEFAULT);
	fuzz_assert(tgv_order_exp(o) > FX_NOW - TGV_LEEWAY_DEFAULT);
	fuzz_assert(strlen(tgv_order_jti(o)) == 32);
	fuzz_assert(tgv_order_approvals_verified(o) == checked);
	/*
	 * Every class but standard has a default floor of one verified
	 * approval: unpinned, only standard orders pass, and pinned, the
	 * others carry one at least.
	 */
	if (strcmp(tgv_order_target_class(o), "standard") != 0)
		fuzz_assert(checked && tgv_order_approver_count(o) >= 1);
	for (i = 0; i < tgv_order_approver_count(o); i++)
		fuzz_assert(tgv_order_approver(o, i) != NULL);
	cj = tgv_order_change_json(o, &cjlen);
	fuzz_assert(cj != NULL && strlen(cj) == cjlen);
	fuzz_assert(tgv_order_to_json(o, &json, &jlen) == 0);
	fuzz_assert((back = json_loadb(json, jlen, 0, NULL)) != NULL);
	json_decref(back);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct tgv_ctx *ctx;
	struct tgv_order *o = NULL;
	char *tok = NULL;
	const char *body;
	uint32_t seed;
	size_t len;
	int r;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	if (wrap_take_seed(&data, &size, &seed) != 0 || size < 1 ||
	    size - 1 > TGV_ORDER_MAX)
		return 0;
	ctx = (data[0] & MODE_UNPINNED) ? unpinned : pinned;
	body = (const char *)data + 1;
	len = size - 1;
	if (data[0] & MODE_PAYLOAD) {
		/* a payload too large to sign is simply not a case */
		if ((tok = fx_sign_bytes(fz.key, body, len)) == NULL)
			return 0;
		body = tok;
		len = strlen(tok);
	}
	wrap_start(seed);
	r = tgv_verify(ctx, body, len, FX_NOW, &o);
	wrap_stop();
	if (r == 0) {
		fuzz_check_order(o, ctx == pinned);
		tgv_order_free(&o);
	} else {
		fuzz_assert(o == NULL && r < 0);
		fuzz_assert(strcmp(tgv_strerror(r), "unknown error") != 0);
		/* every refusal says why, on one printable line */
		fuzz_assert(*tgv_errmsg(ctx) != '\0');
		fuzz_assert(strchr(tgv_errmsg(ctx), '\n') == NULL);
	}
	free(tok);
	return 0;
}

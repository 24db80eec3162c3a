/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the revocation list reader of libtapgate-verify
 * (tgv_load_revocations()): against a fixed JWKS (the fixture's Ed25519
 * appliance key), at a fixed "now", so a run depends on its input alone.
 *
 * Input: a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for
 * none), then byte 0 is a mode, the rest is the body.
 *   bit 0 clear	the body is a token, loaded as it is
 *   bit 0 set	the body is a payload, signed here as a revocation list
 *		(typ tapgate-revocations+jwt) with the fixture's key
 *		first, so the payload parser behind the signature is
 *		fuzzed too
 *   bit 1 set	signed as an order instead (typ tapgate-order+jwt):
 *		never accepted as a list
 * A list accepted must then refuse the fixture's good order when it names
 * its jti, and accept it otherwise; a refusal must say why on one line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_verify_fixture.h"
#include "common/errors.h"
#include "order/jws.h"
#include "goal.h"
#include "verify/tapgate_verify.h"
#include "wrap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MODE_PAYLOAD	0x01
#define MODE_AS_ORDER	0x02
#define MAX_AGE		3600

static struct fx	 fz;
static char		*jwks, *good;
static size_t		 jwkslen;

/* inputs that reached each goal (replay.c checks the stored corpus) */
static unsigned long	revoked, passed, stale;

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	static const char *const names[] = {
		"list_revokes_the_order_it_names",
		"list_passes_an_order_it_does_not_name",
		"list_out_of_date_is_refused",
	};

	if (i >= sizeof(names) / sizeof(names[0]))
		return -1;
	*name = names[i];
	*hits = i == 0 ? revoked : i == 1 ? passed : stale;
	return 0;
}

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

static void
fuzz_init(void)
{
	struct jwks *set = NULL;
	json_t *payload;

	fuzz_assert(fx_init(&fz) == 0);
	fuzz_assert(jwks_new(&set) == 0 && jwks_add(set, fz.key) == 0 &&
	    jwks_serialize(set, &jwks, &jwkslen) == 0);
	jwks_free(&set);
	fuzz_assert((payload = fx_good_payload(&fz)) != NULL &&
	    (good = fx_sign(fz.key, payload)) != NULL);
	json_decref(payload);
}

/* The context of one input: the keys, the approvers, the audience. */
static struct tgv_ctx *
fuzz_ctx(void)
{
	struct tgv_ctx *ctx = NULL;

	fuzz_assert(tgv_ctx_new(&ctx) == 0 &&
	    tgv_load_jwks(ctx, jwks, jwkslen) == 0 &&
	    tgv_load_approvers(ctx, fz.approvers, strlen(fz.approvers)) == 0 &&
	    tgv_set_audience(ctx, FX_AUD) == 0);
	return ctx;
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
	int r, v;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	if (wrap_take_seed(&data, &size, &seed) != 0 || size < 1 ||
	    size - 1 > TGV_ORDER_MAX)
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	if (data[0] & MODE_PAYLOAD) {
		if (jws_sign_typ(fz.key, (data[0] & MODE_AS_ORDER) ? JWS_TYP :
		    JWS_TYP_REVOCATIONS, (const uint8_t *)body, len, &tok,
		    &len) != 0)
			return 0;
		body = tok;
	}
	ctx = fuzz_ctx();
	wrap_start(seed);
	r = tgv_load_revocations(ctx, body, len, FX_NOW, MAX_AGE);
	wrap_stop();
	if (r == 0) {
		fuzz_assert(!(data[0] & MODE_AS_ORDER));
		/* a second list is refused; the order is checked against it */
		fuzz_assert(tgv_load_revocations(ctx, body, len, FX_NOW,
		    MAX_AGE) == TGV_ERR_INVALID);
		v = tgv_verify(ctx, good, strlen(good), FX_NOW, &o);
		fuzz_assert(v == 0 || v == TGV_ERR_REVOKED);
		/* only a list that names the jti revokes the order */
		if (v == TGV_ERR_REVOKED && (data[0] & MODE_PAYLOAD))
			fuzz_assert(memmem(data + 1, size - 1, FX_JTI,
			    strlen(FX_JTI)) != NULL);
		fuzz_assert((v == 0) == (o != NULL));
		if (v == 0)
			passed++;
		else
			revoked++;
		tgv_order_free(&o);
	} else {
		if (r == TGV_ERR_LIST_STALE)
			stale++;
		fuzz_assert(r < 0);
		fuzz_assert(strcmp(tgv_strerror(r), "unknown error") != 0);
		fuzz_assert(*tgv_errmsg(ctx) != '\0');
		fuzz_assert(strchr(tgv_errmsg(ctx), '\n') == NULL);
	}
	tgv_ctx_free(&ctx);
	free(tok);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * Submitted request bodies: untrusted JSON through the daemon's parser
 * (reqjson_parse), then the policy evaluation of whatever it accepts, under
 * the shipped configuration.  Runs from the repository root.  The input is
 * a failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none), then
 * the body; failures are injected into the parse and the evaluation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/reqjson.h"
#include "policy/policy.h"
#include "wrap.h"

static struct policy_config *cfg;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct policy_decision dec;
	struct reqjson rq;
	char err[512];
	uint32_t seed;
	int r, status;

	if (cfg == NULL && policy_config_load_file("config/tapgate.conf",
	    &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_request: config/tapgate.conf: %s\n", err);
		abort();
	}
	if (wrap_take_seed(&data, &len, &seed) != 0)
		return 0;
	wrap_start(seed);
	r = reqjson_parse(cfg, (const char *)data, len, &rq, &status, err,
	    sizeof(err));
	if (r != 0) {
		wrap_stop();
		if (r > 0 || rq.root != NULL)
			abort();
		/* a client error, or out of memory (ours: 500) */
		if (status != 400 && status != 413 && status != 422 &&
		    !(status == 500 && r == TG_ERR_NOMEM))
			abort();
		if (status == 500 && wrap_injected() == 0)
			abort();
		return 0;
	}
	r = policy_evaluate(cfg, &rq.pr, NULL, 1795000000, &dec);
	wrap_stop();
	if (r == 0 && dec.nmissing > POLICY_MAX_MISSING)
		abort();
	reqjson_clear(&rq);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * Submitted request bodies: untrusted JSON through the daemon's parser
 * (reqjson_parse), then the policy evaluation of whatever it accepts, under
 * the shipped configuration.  Runs from the repository root.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/reqjson.h"
#include "policy/policy.h"

static struct policy_config *cfg;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct policy_decision dec;
	struct reqjson rq;
	char err[512];
	int status;

	if (cfg == NULL && policy_config_load_file("config/tapgate.conf",
	    &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_request: config/tapgate.conf: %s\n", err);
		abort();
	}
	if (reqjson_parse(cfg, (const char *)data, len, &rq, &status, err,
	    sizeof(err)) != 0) {
		if (status != 400 && status != 413 && status != 422)
			abort();	/* every refusal maps to a client error */
		return 0;
	}
	if (policy_evaluate(cfg, &rq.pr, NULL, 1795000000, &dec) == 0 &&
	    dec.nmissing > POLICY_MAX_MISSING)
		abort();
	reqjson_clear(&rq);
	return 0;
}

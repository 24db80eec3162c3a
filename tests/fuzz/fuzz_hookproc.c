/* SPDX-License-Identifier: ISC */
/*
 * The daemon's side of the hook runner's reports (src/daemon/hookproc.c):
 * outcome, status, program, event, from a process that runs the
 * administrator's programs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/hookproc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static uint8_t buf[70000];
	enum hook_outcome outcome;
	const char *event = NULL;
	char program[64];
	int status, r;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, data, len);
	r = hookproc_parse_report(buf, len, sizeof(buf), &outcome, &status,
	    program, sizeof(program), &event);
	if (r == 0 && (outcome > HOOK_DROPPED || event == NULL ||
	    strlen(program) >= sizeof(program) ||
	    event < (const char *)buf || event > (const char *)buf + len ||
	    strlen(event) != (size_t)((const char *)buf + len - event)))
		abort();
	if (r != 0 && r != TG_ERR_PROTOCOL)
		abort();
	return 0;
}

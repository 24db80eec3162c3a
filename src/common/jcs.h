/* SPDX-License-Identifier: ISC */
/*
 * Canonical JSON (RFC 8785, JCS) over jansson values: object members sorted
 * by the UTF-16 code units of their names, strings escaped as ECMAScript
 * does, no whitespace.  tapgate's documents carry no floating point, so
 * numbers are integers within +-(2^53 - 1), the range every JSON parser
 * reads exactly; anything else is refused rather than approximated.
 */
#ifndef TAPGATE_JCS_H
#define TAPGATE_JCS_H

#include <stddef.h>

#include <jansson.h>

#define JCS_MAX_DEPTH	32
#define JCS_MAX_SIZE	(1024 * 1024)
#define JCS_INT_MAX	9007199254740991LL	/* 2^53 - 1 */

/*
 * Serialise v canonically into a new NUL-terminated string (*out, length
 * *outlen; freed by the caller).  TG_ERR_INVALID for a real number, an
 * integer out of range or nesting deeper than JCS_MAX_DEPTH; TG_ERR_TOO_LONG
 * past JCS_MAX_SIZE; TG_ERR_NOMEM.
 */
int	jcs_serialize(const json_t *v, char **out, size_t *outlen);

#endif

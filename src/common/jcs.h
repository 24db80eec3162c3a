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

#define JCS_PATH_MAX	160	/* a path in jcs_check()'s message */
#define JCS_PATH_KEY_MAX 40	/* of one member name, then "..." */

/*
 * Whether jcs_serialize() takes v, with nesting limited to max_depth
 * (0..JCS_MAX_DEPTH) levels below v: v itself is level 0, its members
 * level 1.  Pure: no allocation, no I/O; the same per-value rule as
 * jcs_serialize(), so a value this accepts serialises (size apart).
 * 0, or TG_ERR_INVALID with errbuf naming the first refused value in
 * document order from where, e.g. "changes.limits[2]: floats are not
 * allowed" or "changes.a.a: nesting deeper than 16 levels".  Member
 * names are cut to JCS_PATH_KEY_MAX bytes with non-printable bytes
 * shown as '?'; errbuf may be NULL when errlen is 0.
 */
int	jcs_check(const json_t *v, int max_depth, const char *where,
	    char *errbuf, size_t errlen);

#endif

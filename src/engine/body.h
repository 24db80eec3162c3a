/* SPDX-License-Identifier: ISC */
/*
 * The bodies of the officers' and operators' calls (body.c).  Each reader
 * answers res with what is wrong when it refuses.
 */
#ifndef TAPGATE_ENGINE_BODY_H
#define TAPGATE_ENGINE_BODY_H

#include "engine/engine_int.h"

/* The body as a JSON object (duplicate keys refused) in *out; 400. */
int	 eng_body_object(const char *body, size_t len, json_t **out,
	    struct engine_result *res);

/*
 * The string member key of o, 1 to max bytes without a NUL; "" when it
 * is missing and not required.  NULL (422 naming it) when it is wrong.
 */
const char *eng_member_str(const json_t *o, const char *key, size_t max,
	    int required, struct engine_result *res);

/* Overwrite the string member key (the PIN) inside the parsed body
 * before it is freed. */
void	 eng_wipe_member(json_t *o, const char *key);

/* Whether s is an officer's name: 1 to ENG_NAME_MAX of a-z, 0-9, -_. */
int	 eng_name_ok(const char *s);

#endif

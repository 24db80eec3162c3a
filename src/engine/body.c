/* SPDX-License-Identifier: ISC */
/*
 * The bodies of the officers' and operators' calls (enrolment,
 * revocation, approval): a JSON object with bounded string members, the
 * PIN overwritten before the body is freed, and officers' names.  A
 * help desk request's body is reqjson.h's.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "engine/body.h"
#include "engine/txn.h"

int
eng_body_object(const char *body, size_t len, json_t **out,
    struct engine_result *res)
{
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		eng_error(res, 400, "malformed_body", "body: must be a JSON "
		    "object");
		return TG_ERR_INVALID;
	}
	*out = j;
	return 0;
}

/* A bounded string member; msg names it when missing or wrong. */
const char *
eng_member_str(const json_t *o, const char *key, size_t max, int required,
    struct engine_result *res)
{
	const json_t *v = json_object_get(o, key);
	char msg[128];

	if (v == NULL && !required)
		return "";
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(msg, sizeof(msg), "%s: must be a string of 1 to %zu "
		    "bytes", key, max);
		eng_error(res, 422, "invalid_field", msg);
		return NULL;
	}
	return json_string_value(v);
}

/* Overwrite the PIN inside the parsed body before it is freed. */
void
eng_wipe_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

int
eng_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > ENG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

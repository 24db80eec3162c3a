/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/jcs.h"
#include "daemon/reqjson.h"
#include "order/vocab.h"

#define REASON_MAX	1000

/* A string member: required or optional, bounded, no control bytes. */
static int
str_member(const json_t *obj, const char *where, const char *key,
    int required, const char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	size_t i, n;

	if (v == NULL || json_is_null(v)) {
		if (!required) {
			*out = NULL;
			return 0;
		}
		snprintf(err, errlen, "%s.%s: missing", where, key);
		return TG_ERR_INVALID;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s.%s: must be a string", where, key);
		return TG_ERR_INVALID;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > POLICY_REQ_STRING_MAX) {
		snprintf(err, errlen, "%s.%s: longer than %d bytes", where,
		    key, POLICY_REQ_STRING_MAX);
		return TG_ERR_TOO_LONG;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(err, errlen, "%s.%s: contains a control "
			    "character", where, key);
			return TG_ERR_INVALID;
		}
	}
	if (required && n == 0) {
		snprintf(err, errlen, "%s.%s: empty", where, key);
		return TG_ERR_INVALID;
	}
	*out = s;
	return 0;
}

static const json_t *
obj_member(const json_t *obj, const char *key, int required, const char *where,
    char *err, size_t errlen, int *r)
{
	const json_t *v = json_object_get(obj, key);

	*r = 0;
	if (v == NULL || json_is_null(v)) {
		if (required) {
			snprintf(err, errlen, "%s: missing", where);
			*r = TG_ERR_INVALID;
		}
		return NULL;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "%s: must be an object", where);
		*r = TG_ERR_INVALID;
		return NULL;
	}
	return v;
}

int
reqjson_attest(json_t *arr, const char *principal, char *err,
    size_t errlen)
{
	static const char *const theirs[] = { "origin", "claimed_verifier" };
	json_t *item, *v;
	size_t i, k;

	if (!json_is_array(arr) || principal == NULL)
		return TG_ERR_INVALID;
	json_array_foreach(arr, i, item) {
		for (k = 0; k < sizeof(theirs) / sizeof(theirs[0]); k++) {
			if (json_object_get(item, theirs[k]) == NULL)
				continue;
			snprintf(err, errlen, "evidence[%zu].%s: set by the "
			    "appliance, not by a caller", i, theirs[k]);
			return TG_ERR_INVALID;
		}
		v = json_object_get(item, "verifier");
		if (!json_is_string(v))
			return TG_ERR_INVALID;
		if (strcmp(json_string_value(v), principal) != 0 &&
		    json_object_set(item, "claimed_verifier", v) != 0)
			return TG_ERR_NOMEM;
		if (json_object_set_new(item, "verifier",
		    json_string(principal)) != 0 ||
		    json_object_set_new(item, "origin",
		    json_string("agent")) != 0)
			return TG_ERR_NOMEM;
	}
	return 0;
}

int
reqjson_evidence(const json_t *arr, const char *where,
    struct policy_evidence *ev, size_t *nev, char *err, size_t errlen)
{
	char at[64];
	const char *type, *result, *origin;
	const json_t *item;
	size_t i;
	int r;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: must be an array", where);
		return TG_ERR_INVALID;
	}
	if (json_array_size(arr) > POLICY_MAX_EVIDENCE) {
		snprintf(err, errlen, "%s: more than %d items", where,
		    POLICY_MAX_EVIDENCE);
		return TG_ERR_TOO_LONG;
	}
	json_array_foreach(arr, i, item) {
		snprintf(at, sizeof(at), "%s[%zu]", where, i);
		if (!json_is_object(item)) {
			snprintf(err, errlen, "%s: must be an object", at);
			return TG_ERR_INVALID;
		}
		/* its digest goes into the signed change: it must have one */
		if ((r = jcs_check(item, REQJSON_MAX_DEPTH, at, err,
		    errlen)) != 0)
			return r;
		memset(&ev[i], 0, sizeof(ev[i]));
		if ((r = str_member(item, at, "type", 1, &type, err,
		    errlen)) != 0 ||
		    (r = str_member(item, at, "result", 1, &result, err,
		    errlen)) != 0 ||
		    (r = str_member(item, at, "verifier", 1, &ev[i].verifier,
		    err, errlen)) != 0 ||
		    (r = str_member(item, at, "channel", 1, &ev[i].channel,
		    err, errlen)) != 0 ||
		    (r = str_member(item, at, "ref", 0, &ev[i].ref, err,
		    errlen)) != 0 ||
		    (r = str_member(item, at, "origin", 0, &origin, err,
		    errlen)) != 0)
			return r;
		if (origin != NULL && policy_origin_parse(origin,
		    &ev[i].origin) != 0) {
			snprintf(err, errlen, "%s.origin: unknown origin "
			    "\"%.64s\"", at, origin);
			return TG_ERR_INVALID;
		}
		if (policy_evidence_parse(type, &ev[i].type) != 0) {
			snprintf(err, errlen, "%s.type: unknown evidence type "
			    "\"%.64s\"", at, type);
			return TG_ERR_INVALID;
		}
		if (strcmp(result, "pass") == 0)
			ev[i].passed = true;
		else if (strcmp(result, "fail") == 0)
			ev[i].passed = false;
		else {
			snprintf(err, errlen, "%s.result: must be \"pass\" or "
			    "\"fail\"", at);
			return TG_ERR_INVALID;
		}
		if (ev[i].ref == NULL)
			ev[i].ref = "";
	}
	*nev = json_array_size(arr);
	return 0;
}

static int
reqjson_fields(const struct policy_config *cfg, struct reqjson *rq,
    char *err, size_t errlen)
{
	struct policy_request *pr = &rq->pr;
	const json_t *root = rq->root, *target, *requester, *v, *g;
	const char *queue, *key;
	size_t i;
	int r;

	if ((r = str_member(root, "request", "queue", 1, &queue, err,
	    errlen)) != 0)
		return r;
	if (policy_queue_parse(queue, &pr->queue) != 0) {
		snprintf(err, errlen, "queue: unknown queue \"%.64s\"", queue);
		return TG_ERR_INVALID;
	}
	if ((target = obj_member(root, "target", 1, "target", err, errlen,
	    &r)) == NULL)
		return r;
	if ((r = str_member(target, "target", "account", 1, &pr->account,
	    err, errlen)) != 0 ||
	    (r = str_member(target, "target", "system", 1, &pr->system, err,
	    errlen)) != 0 ||
	    (r = str_member(target, "target", "class", 0, &rq->claimed, err,
	    errlen)) != 0 ||
	    (r = str_member(target, "target", "recovered_channel", 0,
	    &pr->recovered_channel, err, errlen)) != 0)
		return r;
	pr->claimed_class = POLICY_CLASS_STANDARD;
	if (rq->claimed != NULL &&
	    policy_class_parse(rq->claimed, &pr->claimed_class) != 0) {
		snprintf(err, errlen, "target.class: unknown account class "
		    "\"%.64s\"", rq->claimed);
		return TG_ERR_INVALID;
	}
	if ((v = json_object_get(target, "groups")) != NULL &&
	    !json_is_null(v)) {
		if (!json_is_array(v) ||
		    json_array_size(v) > POLICY_MAX_TARGET_GROUPS) {
			snprintf(err, errlen, "target.groups: must be an array "
			    "of at most %d strings", POLICY_MAX_TARGET_GROUPS);
			return TG_ERR_INVALID;
		}
		json_array_foreach(v, i, g) {
			if (!json_is_string(g) || json_string_length(g) == 0 ||
			    json_string_length(g) > POLICY_REQ_STRING_MAX) {
				snprintf(err, errlen, "target.groups[%zu]: "
				    "must be a non-empty string of at most %d "
				    "bytes", i, POLICY_REQ_STRING_MAX);
				return TG_ERR_INVALID;
			}
			rq->groups[i] = json_string_value(g);
		}
		pr->groups = rq->groups;
		pr->ngroups = json_array_size(v);
	}
	if ((requester = obj_member(root, "requester", 1, "requester", err,
	    errlen, &r)) == NULL)
		return r;
	if ((r = str_member(requester, "requester", "agent", 1, &pr->agent,
	    err, errlen)) != 0 ||
	    (r = str_member(requester, "requester", "channel", 1,
	    &pr->requester_channel, err, errlen)) != 0 ||
	    (r = str_member(requester, "requester", "ticket", 0, &rq->ticket,
	    err, errlen)) != 0)
		return r;
	/* the officer the agent also is, for separation of duties */
	pr->agent_officer = policy_officer_of(cfg, pr->agent);
	if ((v = json_object_get(root, "evidence")) != NULL &&
	    !json_is_null(v)) {
		if ((r = reqjson_evidence(v, "evidence", rq->ev,
		    &pr->nevidence, err, errlen)) != 0)
			return r;
		pr->evidence = rq->ev;
	}
	if ((v = obj_member(root, "risk", 0, "risk", err, errlen, &r)) ==
	    NULL && r != 0)
		return r;
	if (v != NULL) {
		json_object_foreach((json_t *)(uintptr_t)v, key, g) {
			enum policy_risk rk;

			if (policy_risk_parse(key, &rk) != 0) {
				snprintf(err, errlen, "risk.%.64s: unknown "
				    "risk signal", key);
				return TG_ERR_INVALID;
			}
			if (!json_is_boolean(g)) {
				snprintf(err, errlen, "risk.%s: must be true "
				    "or false", key);
				return TG_ERR_INVALID;
			}
			pr->risk[rk] = json_is_true(g);
		}
	}
	if ((r = reqjson_changes_check(pr->queue, json_object_get(root,
	    "changes"), err, errlen)) != 0)
		return r;
	return policy_request_check(cfg, pr, err, errlen);
}

int
reqjson_changes_check(enum policy_queue queue, const json_t *v, char *err,
    size_t errlen)
{
	char *c = NULL;
	size_t n;
	int r;

	if (v == NULL || json_is_null(v)) {
		snprintf(err, errlen, "changes: missing");
		return TG_ERR_INVALID;
	}
	if (!json_is_object(v)) {
		snprintf(err, errlen, "changes: must be an object");
		return TG_ERR_INVALID;
	}
	if ((r = jcs_check(v, REQJSON_MAX_DEPTH, "changes", err,
	    errlen)) != 0)
		return r;
	if ((r = jcs_serialize(v, &c, &n)) != 0) {
		snprintf(err, errlen, "changes: %s", r == TG_ERR_NOMEM ?
		    "out of memory" : "over the canonical size limit");
		return r;
	}
	free(c);
	if (n > REQJSON_CHANGES_MAX) {
		snprintf(err, errlen, "changes: %zu bytes in canonical form, "
		    "over %d", n, REQJSON_CHANGES_MAX);
		return TG_ERR_TOO_LONG;
	}
	return vocab_check(policy_queue_name(queue), v, "changes", err,
	    errlen);
}

int
reqjson_parse(const struct policy_config *cfg, const char *body, size_t len,
    struct reqjson *rq, int *status, char *err, size_t errlen)
{
	json_error_t je;
	int r;

	memset(rq, 0, sizeof(*rq));
	if (len > REQJSON_MAX_BODY) {
		*status = 413;
		snprintf(err, errlen, "body: over %d bytes", REQJSON_MAX_BODY);
		return TG_ERR_TOO_LONG;
	}
	rq->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (rq->root == NULL &&
	    json_error_code(&je) == json_error_out_of_memory) {
		/* our trouble, not a malformed body: the client may retry */
		*status = 500;
		snprintf(err, errlen, "body: out of memory");
		return TG_ERR_NOMEM;
	}
	if (rq->root == NULL || !json_is_object(rq->root)) {
		*status = 400;
		if (rq->root == NULL)
			snprintf(err, errlen, "body: not JSON (line %d column "
			    "%d: %s)", je.line, je.column, je.text);
		else
			snprintf(err, errlen, "body: must be a JSON object");
		reqjson_clear(rq);
		return TG_ERR_INVALID;
	}
	if ((r = reqjson_fields(cfg, rq, err, errlen)) != 0) {
		*status = r == TG_ERR_NOMEM ? 500 : 422;
		reqjson_clear(rq);
		return r;
	}
	return 0;
}

void
reqjson_clear(struct reqjson *rq)
{
	json_decref(rq->root);
	memset(rq, 0, sizeof(*rq));
}

int
reqjson_reason(const json_t *body, const char **reason, char *err,
    size_t errlen)
{
	const json_t *v;
	const char *s;
	size_t i, n;

	if (!json_is_object(body) ||
	    !json_is_string(v = json_object_get(body, "reason"))) {
		snprintf(err, errlen, "reason: missing or not a string");
		return TG_ERR_INVALID;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > REASON_MAX) {
		snprintf(err, errlen, "reason: must be 1 to %d bytes",
		    REASON_MAX);
		return TG_ERR_INVALID;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n') {
			snprintf(err, errlen, "reason: contains a control "
			    "character");
			return TG_ERR_INVALID;
		}
	}
	*reason = s;
	return 0;
}

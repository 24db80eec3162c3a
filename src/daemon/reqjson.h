/* SPDX-License-Identifier: ISC */
/*
 * Recovery requests as JSON: the submitted body parsed into the policy
 * module's struct policy_request, with every field checked for type, bound
 * and vocabulary, and an error that names the field at fault.  Fields
 * beyond the known ones are allowed (ticketing systems send their own).
 */
#ifndef TAPGATE_REQJSON_H
#define TAPGATE_REQJSON_H

#include <stddef.h>

#include <jansson.h>

#include "policy/policy.h"

#define REQJSON_MAX_BODY	(64 * 1024)
/*
 * What ends up in the signed order must have a canonical form (common/
 * jcs.h): `changes` and every evidence item (whose digest is signed) hold
 * no floats, no integers beyond +-(2^53 - 1), at most REQJSON_MAX_DEPTH
 * levels of nesting, and `changes` at most REQJSON_CHANGES_MAX bytes in
 * canonical form, so the order always fits its store.  Refused at
 * submission (422 naming the field), and refused by the signer the same.
 */
#define REQJSON_MAX_DEPTH	16
#define REQJSON_CHANGES_MAX	(16 * 1024)

/* A parsed request; every string points into root. */
struct reqjson {
	json_t			*root;
	struct policy_request	 pr;
	struct policy_evidence	 ev[POLICY_MAX_EVIDENCE];
	const char		*groups[POLICY_MAX_TARGET_GROUPS];
	const char		*ticket;	/* NULL when absent */
	const char		*claimed;	/* class name or NULL */
};

/*
 * Parse and check a submission.  0, or TG_ERR_INVALID with *status 400
 * (not JSON, not an object) or 422 (a field is wrong), TG_ERR_TOO_LONG
 * (413), TG_ERR_NOMEM (500: out of memory while parsing), and a message
 * naming the field in errbuf.  On success free with reqjson_clear().
 */
int	reqjson_parse(const struct policy_config *cfg, const char *body,
	    size_t len, struct reqjson *rq, int *status, char *errbuf,
	    size_t errlen);

/*
 * Parse an "evidence" array (items as in a submission) into ev, for
 * POST /v1/requests/ID/evidence and for re-reading stored evidence;
 * *nev set on success.  where prefixes error messages ("evidence").
 * An item's "origin" ("agent", "appliance", "officer") is read when
 * present, agent otherwise; intake callers never set it (reqjson_attest).
 */
int	reqjson_evidence(const json_t *arr, const char *where,
	    struct policy_evidence *ev, size_t *nev, char *errbuf,
	    size_t errlen);

/*
 * Record the items of an intake caller's "evidence" array arr (checked
 * by reqjson_evidence first) as attested by principal: each item's
 * verifier becomes principal, the verifier the body named is kept as
 * "claimed_verifier" (a claim, never the verifier), and "origin" is
 * "agent".  A body naming "origin" or "claimed_verifier" itself is
 * refused (TG_ERR_INVALID, errbuf naming the member): only the appliance
 * says where evidence comes from.  Pointers reqjson_evidence() took into
 * arr are stale afterwards: parse it again.
 */
int	reqjson_attest(json_t *arr, const char *principal, char *errbuf,
	    size_t errlen);

/*
 * Whether a request's "changes" (NULL when it has none) can be signed
 * for queue: the intake check and the signer both ask this.  It must
 * have a canonical form (above) and be what the queue's vocabulary
 * allows (order/vocab.h), every required key present.  0, or
 * TG_ERR_INVALID / TG_ERR_TOO_LONG (TG_ERR_NOMEM) with errbuf naming the
 * member at fault ("changes.password: floats are not allowed",
 * "changes.add_groups: unknown for queue password_reset").
 */
int	reqjson_changes_check(enum policy_queue queue, const json_t *changes,
	    char *errbuf, size_t errlen);

/* Release what reqjson_parse() holds; safe on a zeroed struct. */
void	reqjson_clear(struct reqjson *rq);

/*
 * A "reason" for a veto or denial: a non-empty string of at most 1000
 * bytes without control characters.  0 or TG_ERR_INVALID with errbuf.
 */
int	reqjson_reason(const json_t *body, const char **reason, char *errbuf,
	    size_t errlen);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * A request's facts (facts.c): loaded from the store, evaluated by the
 * policy, and what an evaluation changed recorded inside the caller's
 * transaction.  Also the JSON of a decision and of a request's summary,
 * and the digests evidence and changes are named by.
 */
#ifndef TAPGATE_ENGINE_FACTS_H
#define TAPGATE_ENGINE_FACTS_H

#include "daemon/reqjson.h"
#include "engine/dirsnap.h"
#include "engine/engine_int.h"
#include "engine/events.h"

/* Decision kinds (with "veto" and "deny"): the signer parked a request,
 * and an operator asked the signer again. */
#define ENG_SIGN_FAILED	"sign_failed"
#define ENG_SIGN_RETRY	"sign_retry"
/* The directory's facts changed the class or the privileged groups: the
 * approvals made before no longer count (they approved another change). */
#define ENG_RECLASSIFIED "reclassified"
/* A risk signal raised after submission: "risk:" and its name; it stays
 * raised for every later evaluation (risk.c). */
#define ENG_RISK_PREFIX	"risk:"
/* Submitted within the veto cool-off of its account: the manual route for
 * good (requests.c). */
#define ENG_VETO_COOLOFF "veto_cooloff"
/* The timer expired a request that had no order in its time (timer.c). */
#define ENG_EXPIRED	"expired"

/* A request as the engine works on it. */
struct facts {
	struct store_request	*row;
	struct reqjson		 rq;
	json_t			*evidence;	/* stored evidence objects */
	json_t			*approvals;	/* stored approvals (strings) */
	struct policy_approval	 appr[POLICY_MAX_APPROVALS];
	size_t			 nappr;
	bool			 vetoed;
	bool			 denied;
	bool			 sign_failed;	/* parked by the signer */
	bool			 expired;	/* ran out of time */
	json_t			*dirsnap;	/* facts snapshot, or NULL */
	int64_t			 reclassified;	/* last one, or 0 */
	struct eng_dir_pfacts	 dirf;		/* rq.pr.directory */
};

/* SHA-256 (hex) of n bytes at p. */
void	 eng_sha256_hex(const void *p, size_t n,
	    char out[STORE_DIGEST_LEN + 1]);

/* SHA-256 (hex) of the canonical form (JCS) of a JSON value. */
int	 eng_jcs_digest(const json_t *v, char out[STORE_DIGEST_LEN + 1]);

/* The digests (eng_jcs_digest) of the evidence items arr, appended to
 * out in order: what names an item in its row, the audit and the change. */
int	 eng_evidence_digests(const json_t *arr, json_t *out);

/* What the decision still misses: [{"code","text"}]. */
json_t	*eng_missing_json(const struct policy_decision *dec);

/* The decision as JSON: what the console shows and the store keeps. */
json_t	*eng_decision_json(const struct policy_decision *dec,
	    size_t nevidence, int64_t now);

/* Answer for a request: id, state, class, route, missing, hold_until. */
json_t	*eng_summary_json(const char *id, const struct policy_decision *dec);

/*
 * Load what is known of request id into *f (eng_facts_clear() frees it):
 * the request re-read from the JSON it was submitted with (and the
 * directory's facts from its snapshot, when it has one), its evidence
 * from the evidence rows, its decisions, and the approvals that still
 * count (the credential is enrolled, unrevoked and the row's approver's,
 * made after the last reclassification).
 * TG_ERR_NOT_FOUND; TG_ERR_INVALID or TG_ERR_TOO_LONG (with err) when the
 * stored request no longer passes the configuration; or the store's
 * error.
 */
int	 eng_facts_load(struct tapgated *d, const char *id, struct facts *f,
	    char *err, size_t errlen);
void	 eng_facts_clear(struct facts *f);

/* The policy's decision over the facts at now. */
int	 eng_facts_evaluate(struct tapgated *d, const struct facts *f,
	    int64_t now, struct policy_decision *dec);

/*
 * Record what a new evaluation changed, inside the caller's transaction:
 * the hold, the state and the decision, each change audited, the hook
 * events queued.  0; ENG_READY when the request has just become ready,
 * which the caller then hands to the signer (eng_sign_ready); or a
 * TG_ERR_* the caller rolls back for.
 */
#define ENG_READY	1
int	 eng_facts_apply(struct tapgated *d, const struct facts *f,
	    const struct policy_decision *dec, const struct engine_actor *a,
	    int64_t now, struct events *evs);

/* Whether s is final: vetoed, denied, parked as sign_failed, expired. */
int	 eng_final_state(enum policy_state s);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Inside the engine: what engine.c (requests) and approve.c (approvers,
 * approvals, orders) share.  Not a public contract.
 */
#ifndef TAPGATE_ENGINE_INT_H
#define TAPGATE_ENGINE_INT_H

#include <stdbool.h>

#include "daemon/daemon.h"
#include "daemon/reqjson.h"
#include "engine/engine.h"

#define EVENTS_MAX	6
#define ENG_WHY_MAX	256	/* why the signer refused */
/* Decision kinds (with "veto" and "deny"): the signer parked a request,
 * and an operator asked the signer again. */
#define ENG_SIGN_FAILED	"sign_failed"
#define ENG_SIGN_RETRY	"sign_retry"

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
};

/* Hook events of one transaction, posted after it commits. */
struct events {
	json_t	*ev[EVENTS_MAX];
	size_t	 n;
};

void	 eng_error(struct engine_result *res, int status, const char *code,
	    const char *msg);
int	 eng_db_error(struct tapgated *d, struct engine_result *res, int r);
void	 eng_sha256_hex(const void *p, size_t n,
	    char out[STORE_DIGEST_LEN + 1]);
int	 eng_jcs_digest(const json_t *v, char out[STORE_DIGEST_LEN + 1]);
json_t	*eng_missing_json(const struct policy_decision *dec);
json_t	*eng_event_new(struct tapgated *d, const char *event, const char *id,
	    const struct policy_request *pr, int64_t now);
void	 eng_events_add(struct events *evs, json_t *ev);
void	 eng_events_post(struct tapgated *d, struct events *evs);
void	 eng_events_clear(struct events *evs);
/* Append an audit entry in the open transaction; details is consumed. */
int	 eng_audit(struct tapgated *d, const struct engine_actor *a,
	    const char *event, const char *id, json_t *details, int64_t now);
int	 eng_facts_load(struct tapgated *d, const char *id, struct facts *f,
	    char *err, size_t errlen);
void	 eng_facts_clear(struct facts *f);
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
json_t	*eng_summary_json(const char *id, const struct policy_decision *dec);
/*
 * 1 when r is a failure of the database, of memory or of I/O, after which
 * the caller rolls back and the same work may succeed later; 0 for
 * anything that will fail the same way again (the request is at fault).
 */
int	 eng_transient(int r);
/*
 * Park request id, now in state from, as sign_failed (inside the
 * caller's transaction): the decision "sign_failed" with the cause, the
 * state, and one audit entry "request.sign_failed" by a.  The timer never
 * picks it up again.
 */
int	 eng_park(struct tapgated *d, const char *id, const char *from,
	    const char *cause, const struct engine_actor *a, int64_t now);
/*
 * Load a request for an API call (404, 409 stale, 503 answered in res);
 * a stalled clock is counted as downtime first (eng_clock).
 */
int	 eng_load(struct tapgated *d, const char *id, struct facts *f,
	    struct engine_result *res);
/*
 * The monitor looks at the clock: a gap of more than holds.stall_seconds
 * since the last look is downtime, and extends the holds it ate before
 * anything is evaluated.  0, or a database failure (nothing may then be
 * evaluated against the clock: the holds are not extended yet).
 */
int	 eng_clock(struct tapgated *d, int64_t now);
int	 eng_final_state(enum policy_state s);

/* auditguard.c */

/*
 * Put the audit chain's head into the order doc being signed, as
 * "audit":{"seq","hash"}: read inside the signer's transaction, so it is
 * the entry before the order's own "order.issued" (seq + 1).
 */
int	 eng_order_anchor(struct tapgated *d, json_t *doc);

/*
 * Move the high-water mark to (seq, hash) at now: signed with the
 * co-signing key, written beside the sealed key, logged.  A failure is
 * logged and counted, never fatal: the old mark stays, lower.
 */
int	 eng_mark_update(struct tapgated *d, int64_t seq, const char *hash,
	    int64_t now);

/* approve.c */

/*
 * The change officers approve: the request's target, changes, dropped
 * entitlements, policy and evidence digests, as a JSON object whose JCS
 * is what gets hashed.  *digest = SHA-256(JCS(change)).
 */
int	 eng_change(struct tapgated *d, const struct facts *f,
	    const struct policy_decision *dec, json_t **change,
	    uint8_t digest[32]);

/*
 * The signer: issue the co-signed order of request id (inside the
 * caller's transaction) when the store shows it fully approved and past
 * its hold.  It re-reads the request from the store and re-checks the
 * whole rule itself, whatever the caller evaluated.  0 when issued;
 * TG_ERR_EXISTS when the request has an order already; TG_ERR_POLICY when
 * it must not or cannot be signed, audited as order.refused with the
 * cause, which is also written to why; another TG_ERR_* (eng_transient())
 * when the database or memory failed: the caller rolls back.
 */
int	 eng_issue_order(struct tapgated *d, const char *id,
	    const struct engine_actor *a, int64_t now, struct events *evs,
	    char *why, size_t whylen);

/*
 * Hand a request eng_facts_apply() found newly ready (f, as loaded before
 * that evaluation) to the signer, inside the caller's transaction: the
 * hooks get "request.ready" and the order's "order.issued".  One the
 * signer refuses is parked as sign_failed (eng_park) and the hooks hear
 * of no ready request that is not signed.  An order already issued is
 * not an error.  0, or a TG_ERR_* the caller rolls back for.
 */
int	 eng_sign_ready(struct tapgated *d, const struct facts *f,
	    const struct engine_actor *a, int64_t now, struct events *evs);

#endif

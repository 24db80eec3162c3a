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

#define EVENTS_MAX	6

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
int	 eng_facts_apply(struct tapgated *d, const struct facts *f,
	    const struct policy_decision *dec, const struct engine_actor *a,
	    int64_t now, struct events *evs);
json_t	*eng_summary_json(const char *id, const struct policy_decision *dec);
int	 eng_load(struct tapgated *d, const char *id, struct facts *f,
	    struct engine_result *res);
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
 * The signer: issue the co-signed order of a request the store shows
 * ready (inside the caller's transaction), re-checking everything it
 * signs.  0 when issued; TG_ERR_EXISTS when the request has an order
 * already; TG_ERR_POLICY (audited as order.refused) when it must not be
 * signed.
 */
int	 eng_issue_order(struct tapgated *d, const struct facts *f,
	    const struct policy_decision *dec, const struct engine_actor *a,
	    int64_t now, struct events *evs);

#endif

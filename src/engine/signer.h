/* SPDX-License-Identifier: ISC */
/*
 * The signer (signer.c): the change officers approve and its clientData,
 * and the one way to an order.  engine_order_issue(), engine_order_get()
 * and engine_order_redeem() (engine.h) are here too.
 */
#ifndef TAPGATE_ENGINE_SIGNER_H
#define TAPGATE_ENGINE_SIGNER_H

#include "engine/engine_int.h"
#include "engine/events.h"
#include "engine/facts.h"

/*
 * The change officers approve: the request's target, changes, dropped
 * entitlements, policy and evidence digests, as a JSON object whose JCS
 * is what gets hashed.  *digest = SHA-256(JCS(change)).
 */
int	 eng_change(struct tapgated *d, const struct facts *f,
	    const struct policy_decision *dec, json_t **change,
	    uint8_t digest[32]);

/*
 * The exact clientData bytes an approval of the change digest signs
 * (WebAuthn-shaped, its challenge the digest, the appliance's origin)
 * into out, and their SHA-256 into cdh.  TG_ERR_TOO_LONG when len is
 * too small.
 */
int	 eng_client_data(struct tapgated *d, const uint8_t digest[32],
	    char *out, size_t len, uint8_t cdh[32]);

/*
 * Hand a request eng_facts_apply() found newly ready (f, as loaded before
 * that evaluation) to the signer, inside the caller's transaction: the
 * hooks get "request.ready" and the order's "order.issued".  The signer
 * re-reads the request from the store and re-checks the whole rule
 * itself.  One it refuses is parked as sign_failed (eng_park) and the
 * hooks hear of no ready request that is not signed.  An order already
 * issued is not an error.  0, or a TG_ERR_* the caller rolls back for.
 */
int	 eng_sign_ready(struct tapgated *d, const struct facts *f,
	    const struct engine_actor *a, int64_t now, struct events *evs);

/*
 * Park request id, now in state from, as sign_failed (inside the
 * caller's transaction): the decision "sign_failed" with the cause, the
 * state, and one audit entry "request.sign_failed" by a.  The timer never
 * picks it up again.
 */
int	 eng_park(struct tapgated *d, const char *id, const char *from,
	    const char *cause, const struct engine_actor *a, int64_t now);

/*
 * The signer's look again at the directory, before the order of a
 * request the policy holds ready (*f, loaded, d->lock held) is signed:
 * facts older than directory.max_fact_age_seconds (or of no known age)
 * are looked up again, d->lock released while the directory answers.
 * Then the request is loaded again into *f (others may have moved it
 * meanwhile) and the new facts stored with it: a class that rose, or
 * privileged groups that changed, are audited as request.reclassified
 * and recorded as a decision after which earlier approvals no longer
 * count, so the request goes back through the policy with the new
 * rule; a class that would fall keeps the facts it had (a lookup never
 * lowers a class).  0: *f is loaded and its facts fresh (re-evaluate it);
 * ENG_NOT_NOW: the directory did not answer, nothing is signed and
 * nothing parked (the timer tries again at its next tick; audited as
 * request.facts_unconfirmed once until something else happens to the
 * request); ENG_NOT_NOW too when the directory no longer has one entry
 * for the account (none, or more than one): then the request is parked
 * as sign_failed, unless it moved meanwhile (audited request.sign_failed
 * with the cause); or a TG_ERR_* (*f cleared).  Without a directory, or a
 * request without facts, 0 and nothing asked.
 */
#define ENG_NOT_NOW	2
int	 eng_facts_recheck(struct tapgated *d, struct facts *f, int64_t now);

/*
 * Revoke the order of request f, if one was issued (inside the caller's
 * transaction, which records the deny or veto kind with reason): the
 * revocation stored, audited as order.revoked (jti, kind, by whom, why,
 * and whether the order had been redeemed before: downstream may then
 * have applied it, which is also logged as an ALARM), the hooks told.
 * From then on engine_order_get() answers 410 order_revoked and
 * engine_order_redeem() refuses.  0 when nothing was issued or it was
 * revoked before, else a TG_ERR_* the caller rolls back for.
 */
int	 eng_order_revoke(struct tapgated *d, const struct engine_actor *a,
	    const struct facts *f, const char *kind, const char *reason,
	    int64_t now, struct events *evs);

#endif

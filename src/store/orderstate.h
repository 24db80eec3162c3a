/* SPDX-License-Identifier: ISC */
/*
 * What became of a redeemed order (schema version 9): its redeemer, the
 * outcome the downstream system reported, and an operator's resume.
 * States: issued (not redeemed), redeemed (no outcome yet), applied,
 * failed, resumed (the redeemer may redeem it once more).  Every writer
 * runs inside the caller's open transaction (TG_ERR_TXN otherwise).
 */
#ifndef TAPGATE_STORE_ORDERSTATE_H
#define TAPGATE_STORE_ORDERSTATE_H

#include <stdint.h>

#include "store/store.h"

#define STORE_OUTCOME_JSON_MAX	16384	/* a reported outcome, bytes */

/* The state of one order. */
struct store_order_state {
	const char	*jti;
	const char	*request_id;
	int64_t		 redeemed;	/* first redemption, 0: none */
	int64_t		 redeemed_uid;	/* -1: not known (before v9) */
	const char	*redeemed_by;
	int64_t		 last_redeemed;	/* 0: none */
	int64_t		 redemptions;
	const char	*outcome;	/* NULL, "applied" or "failed" */
	int64_t		 outcome_at;
	const char	*outcome_json;	/* NULL when no outcome */
	int		 resumable;
};

typedef int	store_order_state_cb(const struct store_order_state *, void *);

/* The state name of o: "issued", "redeemed", "applied", "failed" or
 * "resumed". */
const char	*store_order_state_name(const struct store_order_state *o);

/* The newest order of a request; TG_ERR_NOT_FOUND if none. */
int	store_order_state_get(struct store *st, const char *request_id,
	    store_order_state_cb *cb, void *arg);

/*
 * A redemption of jti by uid at now (the first, after store_order_redeem,
 * or one more after a resume): counted, its time kept, the outcome and
 * the resume cleared.  uid is the caller's store uid: a local uid, or a
 * negative one for a certificate caller (-1, the daemon itself, is
 * refused).  TG_ERR_NOT_FOUND when jti is not redeemed.
 */
int	store_order_redeemed_by(struct store *st, const char *jti,
	    int64_t uid, int64_t now);

/*
 * Record the outcome ("applied" or "failed") of the current redemption,
 * with its JSON (at most STORE_OUTCOME_JSON_MAX bytes).  TG_ERR_EXISTS
 * when one is recorded already, TG_ERR_NOT_FOUND when jti is not
 * redeemed, TG_ERR_INVALID for anything else.
 */
int	store_order_set_outcome(struct store *st, const char *jti,
	    const char *outcome, const char *json, int64_t now);

/*
 * Let the redeemer of jti redeem it once more.  TG_ERR_CONFLICT when it
 * is not redeemed, applied, or resumed already.
 */
int	store_order_resume(struct store *st, const char *jti);

/*
 * Every order redeemed at or before `before` and not reported (nor
 * resumed since) whose alarm was not raised (store_order_alarmed),
 * oldest first; cb may stop the walk with a non-zero return, which is
 * returned.
 */
int	store_order_unreported(struct store *st, int64_t before,
	    store_order_state_cb *cb, void *arg);

/*
 * The alarm of jti's current redemption was raised: the walk above skips
 * it until it is redeemed again.  TG_ERR_NOT_FOUND when jti is not
 * redeemed.
 */
int	store_order_alarmed(struct store *st, const char *jti);

#endif /* TAPGATE_STORE_ORDERSTATE_H */

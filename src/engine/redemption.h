/* SPDX-License-Identifier: ISC */
/*
 * What became of a redeemed order (redemption.c): its state shown with
 * the order, a second redemption after an operator's resume, and the
 * alarm for an order redeemed and never reported.  store/orderstate.h
 * holds the states.
 */
#ifndef TAPGATE_ENGINE_REDEMPTION_H
#define TAPGATE_ENGINE_REDEMPTION_H

#include "engine/engine_int.h"

#define ENG_UNREPORTED_ALARM	"alarm.order_unreported"

/*
 * Add the redemption state of request id's order to o (GET
 * /v1/orders/ID): "state", and "redeemed_by", "redemptions",
 * "outcome" (the reported JSON) and "outcome_at" when known.
 * 0 or a TG_ERR_*.
 */
int	eng_redemption_json(struct tapgated *d, const char *id, json_t *o);

/*
 * Inside the redemption's transaction: who redeemed jti (the caller's
 * uid), and when.
 */
int	eng_redemption_note(struct tapgated *d, const struct engine_actor *a,
	    const char *jti, int64_t now);

/*
 * A redemption of request id's order jti that the store shows redeemed
 * already: when an operator resumed it and a is its redeemer, it is
 * redeemed once more (audited as order.redeemed with "resumed": true) and
 * res answered 200; 0.  Otherwise nothing is done and TG_ERR_IMMUTABLE
 * returned (a replay), res untouched; or another TG_ERR_* with res
 * answered.
 */
int	eng_redemption_again(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *jti, int64_t now,
	    struct engine_result *res);

/*
 * Inside a transaction that settles request id's order (an outcome
 * reported, a resume): clear its unreported alarm if it stands.
 * *clearedp 1 when it stood.
 */
int	eng_redemption_clear_alarm(struct tapgated *d, const char *id,
	    int64_t now, int *clearedp);

/*
 * The timer's look: raise alarm.order_unreported (audited, logged) once
 * for each order redeemed at least orders.outcome_timeout_seconds ago and
 * not reported.  The number raised, or a TG_ERR_*.
 */
int	eng_redemption_overdue(struct tapgated *d, int64_t now);

#endif /* TAPGATE_ENGINE_REDEMPTION_H */

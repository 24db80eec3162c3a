/* SPDX-License-Identifier: ISC */
/*
 * Hook events (events.c).  A transaction queues the events it causes in a
 * struct events (txn.h); they are posted to the hook runner after the
 * commit, and dropped when it rolls back (eng_txn).  A hook's failure
 * comes back through engine_hook_report() (engine.h) and is audited.
 */
#ifndef TAPGATE_ENGINE_EVENTS_H
#define TAPGATE_ENGINE_EVENTS_H

#include "engine/engine_int.h"
#include "engine/txn.h"

/*
 * A new event about request id: {"event","appliance","request_id",
 * "queue","target":{"account","system"},"time"}; NULL without memory.
 */
json_t	*eng_event_new(struct tapgated *d, const char *event, const char *id,
	    const struct policy_request *pr, int64_t now);

/* Post the queued events to the hook runner and empty the queue (under
 * d->lock: one the runner cannot take is counted and audited). */
void	 eng_events_post(struct tapgated *d, struct events *evs);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Hook events (events.c).  A transaction queues the events it causes in a
 * struct events; they are posted to the hook runner after the commit, and
 * dropped when it rolls back.  A hook's failure comes back through
 * engine_hook_report() (engine.h) and is audited.
 */
#ifndef TAPGATE_ENGINE_EVENTS_H
#define TAPGATE_ENGINE_EVENTS_H

#include "engine/engine_int.h"

#define EVENTS_MAX	6

/* Hook events of one transaction, posted after it commits. */
struct events {
	json_t	*ev[EVENTS_MAX];
	size_t	 n;
};

/*
 * A new event about request id: {"event","appliance","request_id",
 * "queue","target":{"account","system"},"time"}; NULL without memory.
 */
json_t	*eng_event_new(struct tapgated *d, const char *event, const char *id,
	    const struct policy_request *pr, int64_t now);

/* Queue ev (consumed; NULL is ignored, one over EVENTS_MAX dropped). */
void	 eng_events_add(struct events *evs, json_t *ev);

/* Post the queued events to the hook runner and empty the queue (under
 * d->lock: one the runner cannot take is counted and audited). */
void	 eng_events_post(struct tapgated *d, struct events *evs);

/* Drop every queued event (the transaction rolled back). */
void	 eng_events_clear(struct events *evs);

/* Drop the events queued after the first n. */
void	 eng_events_drop(struct events *evs, size_t n);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Holds over time (holds.c): the monitor's clock and heartbeat, the
 * downtime that extends holds, the requests whose hold ends, the
 * warnings of closing veto windows, and loading a request for a call
 * with the clock counted first.  engine_start() and engine_stop()
 * (engine.h) are here too.
 */
#ifndef TAPGATE_ENGINE_HOLDS_H
#define TAPGATE_ENGINE_HOLDS_H

#include "engine/engine_int.h"
#include "engine/facts.h"

/*
 * A batch of requests whose hold ends, soonest first.  The store hands
 * over at most DUE_MAX; the rest wait for the next tick, which is safe
 * because the timer parks whatever it cannot move on.
 */
#define DUE_MAX	64

struct due {
	char	ids[DUE_MAX][STORE_ID_LEN + 1];
	int64_t	start[DUE_MAX];
	int64_t	end[DUE_MAX];
	size_t	n;
};

/* The requests in hold whose hold ends before `before` (at most DUE_MAX). */
int	 eng_holds_due(struct tapgated *d, int64_t before, struct due *due);

/*
 * Load a request for an API call (404, 409 stale, 503 answered in res);
 * a stalled clock is counted as downtime first (eng_clock).
 */
int	 eng_load(struct tapgated *d, const char *id, struct facts *f,
	    struct engine_result *res);

/*
 * eng_load() of a request a may see: its own team's, or any when a has
 * no team.  Another team's request is answered 404 as for none (its
 * existence is not told), and f is cleared.
 */
int	 eng_load_seen(struct tapgated *d, const struct engine_actor *a,
	    const char *id, struct facts *f, struct engine_result *res);

/*
 * Whether request f still takes nev more items of evidence: 0, or
 * answered in res: 422 over POLICY_MAX_EVIDENCE items, 409 when stale,
 * approved already (its evidence is final), ready or final.
 */
int	 eng_evidence_open(struct tapgated *d, const struct facts *f,
	    size_t nev, int64_t now, struct engine_result *res);

/*
 * The monitor looks at the clock: a gap of more than holds.stall_seconds
 * since the last look is downtime, and extends the holds it ate before
 * anything is evaluated.  0, or a database failure (nothing may then be
 * evaluated against the clock: the holds are not extended yet).
 */
int	 eng_clock(struct tapgated *d, int64_t now);

/* Store the heartbeat when DAEMON_HEARTBEAT_SECONDS have passed (or the
 * clock went back); a failure is logged and counted. */
void	 eng_heartbeat_due(struct tapgated *d, int64_t now);

/*
 * Hooks hear once that a veto window is about to close: in its last
 * tenth, and at least the last minute.
 */
void	 eng_warn_closing(struct tapgated *d, int64_t now);

#endif

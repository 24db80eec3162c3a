/* SPDX-License-Identifier: ISC */
/*
 * The monitor's state, shared by its threads: the configuration, the
 * store, the co-signing keys, the children it talks to (token process,
 * hook runner) and the counters the metrics page shows.  d->lock
 * serialises every use of it: the HTTP handlers (api.c) and the hold
 * timer (main.c) take it around each call into the engine
 * (engine/engine.h), which is what reads and changes it.
 */
#ifndef TAPGATE_DAEMON_H
#define TAPGATE_DAEMON_H

#include <pthread.h>
#include <stdint.h>

#include "daemon/hookproc.h"
#include "daemon/tokenproc.h"
#include "daemon/web.h"
#include "order/jwk.h"
#include "policy/policy.h"
#include "store/auditmark.h"
#include "store/store.h"

#define DAEMON_HTTP_CODES	16

/* What the metrics page times, as histograms (engine/ops.c). */
enum daemon_latency {
	DAEMON_LAT_SUBMIT,	/* a submission: arrival to answer */
	DAEMON_LAT_APPROVE,	/* an approval: the daemon's own work */
	DAEMON_LAT_TOUCH,	/* an approval: the wait for the touch */
	DAEMON_LATENCIES
};
#define DAEMON_HIST_BOUNDS	12	/* finite buckets; +Inf is count */

struct daemon_histogram {
	/* each: at most its bound, above the one before */
	uint64_t	 bucket[DAEMON_HIST_BOUNDS];
	uint64_t	 count;
	uint64_t	 sum_ns;
};

/* How a redemption ended, as the audit log has it. */
enum daemon_redeem {
	DAEMON_REDEEM_OK,	/* order.redeemed */
	DAEMON_REDEEM_REPLAY,	/* refused: already redeemed */
	DAEMON_REDEEM_EXPIRED,	/* refused: expired */
	DAEMON_REDEEM_OUTCOMES
};

/*
 * A nonce the appliance issued for one attempt at approving from the
 * web console (engine_console_begin): usable once, until expires, for
 * that request and that officer (and caller uid) only.
 */
#define DAEMON_CONSOLE_NONCES	64
#define DAEMON_OFFICER_NONCES	4	/* live at once per officer */
struct daemon_nonce {
	uint8_t		 nonce[32];
	char		 request_id[STORE_ID_LEN + 1];
	char		 officer[POLICY_IDENT_MAX + 1];
	int64_t		 uid;
	int64_t		 expires;	/* 0: a free slot */
};

/*
 * A console sign-in begun (engine_signin_begin): its nonce is the
 * challenge, usable once, until expires, by that user only.  Failed
 * sign-ins are counted per user: past DAEMON_SIGNIN_MAX_FAILS within
 * DAEMON_SIGNIN_FAIL_WINDOW seconds, refusals are 429 and unaudited
 * until the window ends (engine_signin).
 */
#define DAEMON_SIGNIN_NONCES	64
#define DAEMON_USER_NONCES	4	/* live at once per user */
#define DAEMON_SIGNIN_USERS	64	/* users whose failures are counted */
#define DAEMON_SIGNIN_MAX_FAILS	5
#define DAEMON_SIGNIN_FAIL_WINDOW 300
struct daemon_signin {
	uint8_t		 nonce[32];
	char		 user[POLICY_IDENT_MAX + 1];
	int64_t		 expires;	/* 0: a free slot */
};
struct daemon_signin_fails {
	char		 user[POLICY_IDENT_MAX + 1];
	int64_t		 since;		/* the window's start; 0: free */
	unsigned	 n;
};

struct dirproc;
struct seal;
struct signkey_ring;

struct tapgated {
	struct policy_config	*cfg;
	struct store		*st;
	struct hookproc		*hooks;		/* the hook runner */
	struct jwk		*signkey;	/* keyring->active: signs */
	struct signkey_ring	*keyring;	/* active, standby, retired */
	struct seal		*seal;		/* kept open: file seal only */
	struct tokenproc	*tokenproc;	/* opens the security keys */
	struct dirproc		*dir;		/* the directory; NULL: none */
	int			 token_timeout_ms; /* touch wait budget */
	int64_t			 checkpoint_interval; /* s; 0: the default */
	int64_t			 checkpoint_next; /* next audit checkpoint */
	struct auditmark	 mark;		/* the audit high-water mark */
	int			 have_mark;	/* mark holds one we trust */
	pthread_mutex_t		 lock;
	/* approver groups whose enrolled officers cannot reach a quorum */
	unsigned		 quorum_enrolled[POLICY_MAX_APPROVER_GROUPS];
	unsigned		 quorum_needed[POLICY_MAX_APPROVER_GROUPS];
	/* metrics, under lock */
	unsigned		 http_code[DAEMON_HTTP_CODES];
	uint64_t		 http_count[DAEMON_HTTP_CODES];
	uint64_t		 hook_outcomes[HOOK_DROPPED + 1];
	uint64_t		 message_outcomes[HOOK_DROPPED + 1];
	uint64_t		 errors;
	/* counted from committed audit entries (engine_audit_committed) */
	uint64_t		 orders_issued;
	uint64_t		 redemptions[DAEMON_REDEEM_OUTCOMES];
	struct daemon_histogram	 latency[DAEMON_LATENCIES];
	/* downtime (engine_start): the monitor's last look at the clock,
	 * and the heartbeat it last stored */
	int64_t			 clock_seen;
	int64_t			 heartbeat_at;
	/* console approvals begun and not yet finished (approval.c) */
	struct daemon_nonce	 nonces[DAEMON_CONSOLE_NONCES];
	/* the console's users: sign-ins begun, failures, sessions
	   (signin.c); the key that derives an unknown user's credential
	   ids */
	struct daemon_signin	 signins[DAEMON_SIGNIN_NONCES];
	struct daemon_signin	 enrols[DAEMON_SIGNIN_NONCES];	/* by
								   invite */
	struct daemon_signin_fails signin_fails[DAEMON_SIGNIN_USERS];
	struct web_sessions	 sessions;
	uint8_t			 signin_key[32];
};

#endif

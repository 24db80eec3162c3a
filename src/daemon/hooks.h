/* SPDX-License-Identifier: ISC */
/*
 * Notification hooks: configured programs that receive each event as JSON
 * on standard input (new request, hold started, veto window closing) and
 * carry it out of band to the account owner or manager.  Hooks run on a
 * thread of their own from a bounded queue, so a slow or failing hook never
 * blocks or crashes the daemon: it is killed after its timeout, and every
 * outcome is reported back through a callback (the daemon audits it).
 */
#ifndef TAPGATE_HOOKS_H
#define TAPGATE_HOOKS_H

#include <stddef.h>

#define HOOKS_MAX_PROGRAMS	8
#define HOOKS_QUEUE_LEN		256
#define HOOKS_MAX_EVENT		(64 * 1024)

struct hooks;

enum hook_outcome {
	HOOK_OK = 0,		/* exited 0 */
	HOOK_FAILED,		/* exited non-zero or died of a signal */
	HOOK_TIMED_OUT,		/* killed after the timeout */
	HOOK_NOT_STARTED,	/* could not be executed */
	HOOK_DROPPED,		/* queue full: the event was not delivered */
};

/*
 * Called on the hook thread after each program ran (or the event was
 * dropped, then program is NULL).  status is the exit code or signal.
 */
typedef void	(*hooks_report_fn)(void *ctx, const char *program,
		    const char *event_json, enum hook_outcome outcome,
		    int status);

/* 0 when programs and timeout_ms are what hooks_start() takes. */
int	hooks_check(const char *const *programs, size_t nprog,
	    int timeout_ms);

/*
 * Start the hook thread for nprog absolute program paths (none is fine:
 * events are then discarded without a report).  0 or TG_ERR_*.
 */
int	hooks_start(const char *const *programs, size_t nprog, int timeout_ms,
	    hooks_report_fn report, void *ctx, struct hooks **out);

/*
 * Queue an event (a JSON text, copied) for every program.  Never blocks:
 * when the queue is full the event is reported as HOOK_DROPPED.
 */
void	hooks_post(struct hooks *h, const char *event_json);

/*
 * Senders: one program per channel (HOOKS_CHANNELS of them, NULL or "" for
 * none), each run with timeout_ms, for the messages of hooks_post_message.
 * Set once, before the first message.  0 or TG_ERR_INVALID (a path that is
 * not absolute, a bad timeout).
 */
#define HOOKS_CHANNELS	3
int	hooks_set_senders(struct hooks *h, const char *const *senders,
	    int timeout_ms);

/*
 * Queue a message (JSON text, copied) for the sender of channel only; its
 * outcome is reported with program the sender and event_json the tag
 * (copied), never the message.  Never blocks: without a sender for the
 * channel, or when the queue is full, it is reported as HOOK_NOT_STARTED
 * or HOOK_DROPPED (program NULL).
 */
void	hooks_post_message(struct hooks *h, int channel, const char *tag,
	    const char *message_json);

/* Deliver what is queued, stop the thread and free; NULL is fine. */
void	hooks_stop(struct hooks **h);

/* Name of an outcome, for logs and audit details. */
const char	*hooks_outcome_name(enum hook_outcome o);

#endif

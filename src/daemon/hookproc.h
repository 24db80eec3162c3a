/* SPDX-License-Identifier: ISC */
/*
 * The hook runner: tapgated's own binary re-executed with HOOKPROC_ARG,
 * started before the daemon confines itself, that runs the notification
 * hooks (hooks.h) for it.  Hooks are the administrator's programs and
 * need what the daemon's seccomp filter must not allow (a mailer, a
 * network client where the unit permits one); a filter is inherited by
 * everything a process starts, so hooks are started from a process that
 * never had the daemon's.  The runner holds no key and no database: it
 * receives each event over a SOCK_SEQPACKET socketpair and reports each
 * outcome back, in the one message format (common/msg.h) under the table
 * proto_hooks (daemon/proto.h: events one way, reports the other).  A
 * message either side does not read exactly, or that the table does not
 * permit, is a protocol violation and ends the channel: the runner stops
 * taking events, and the daemon kills the runner and hears of it as of a
 * runner that died.
 */
#ifndef TAPGATE_HOOKPROC_H
#define TAPGATE_HOOKPROC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"
#include "daemon/hooks.h"

#define HOOKPROC_ARG	"--hook-process"

struct hookproc;

/*
 * Told, once, when the runner goes away while the daemon did not stop it
 * (event "hooks.exited", detail how it ended) or breaks the protocol
 * (event "privsep.violation", detail what it sent; the runner is killed):
 * events can no longer be delivered, and a runner started now would
 * inherit the daemon's filter, so the daemon stops and its supervisor
 * starts it afresh.
 */
typedef void	(*hookproc_died_fn)(void *ctx, const char *event,
		    const char *detail);

/*
 * Start the runner from exe for nprog programs (none is fine: no runner
 * is started and events are discarded), each run with timeout_ms.
 * report(ctx, ...) hears of every outcome and died(ctx, ...) of the
 * runner's end, on a thread of the daemon's.  0 or a TG_ERR_*.
 */
int	hookproc_start(const char *exe, const char *const *programs,
	    size_t nprog, int timeout_ms, hooks_report_fn report,
	    hookproc_died_fn died, void *ctx, struct hookproc **out);

/*
 * hookproc_start() with senders too: senders[HOOKS_CHANNELS] (NULL or ""
 * for a channel without one; senders NULL for none), each run with
 * sender_timeout_ms for the messages of hookproc_post_message().  A runner
 * is started when there is a hook or a sender.
 */
int	hookproc_start_senders(const char *exe, const char *const *programs,
	    size_t nprog, int timeout_ms, const char *const *senders,
	    int sender_timeout_ms, hooks_report_fn report,
	    hookproc_died_fn died, void *ctx, struct hookproc **out);

/*
 * Hand a message (JSON, for channel's sender only) to the runner, with its
 * tag (JSON of at most PROTO_HOOK_TAG_MAX bytes: what the report carries
 * back as its event, never the message).  As hookproc_post(); with no
 * runner it is TG_ERR_NOT_FOUND.
 */
int	hookproc_post_message(struct hookproc *hp, int channel,
	    const char *tag, const char *message_json);

/*
 * Hand an event to the runner.  Never waits for the runner (its own lock
 * is held only around work in memory) and never calls back (the caller
 * may hold the lock report takes): 0 when handed over or when there is
 * nothing to run, TG_ERR_BUSY when the event was dropped (the runner's
 * socket is full, or the runner is gone or broke the protocol); the
 * caller reports the drop.
 */
int	hookproc_post(struct hookproc *hp, const char *event_json);

/*
 * Let the runner deliver what it holds (its hooks' timeouts bound the
 * wait), then stop it and free.  NULL is fine.
 */
void	hookproc_stop(struct hookproc **hp);

/*
 * Decode the payload of a report (the daemon's side) or of an event (the
 * runner's) that msg_chan_recv() or msg_chan_parse() took on ch: the
 * strings are copied into program and event, of program_cap and
 * event_cap bytes (a program of none is "").  0, or TG_ERR_PROTOCOL with
 * ch->err set and the channel dead.  Exposed for tests and fuzzing.
 */
int	hookproc_parse_report(struct msg_chan *ch, struct msg *m,
	    enum hook_outcome *outcome, int *status, char *program,
	    size_t program_cap, char *event, size_t event_cap);
int	hookproc_parse_event(struct msg_chan *ch, struct msg *m, char *event,
	    size_t event_cap);

/*
 * Decode a message's payload (the runner's side), as
 * hookproc_parse_event(): channel, tag (tag_cap bytes) and message.
 */
int	hookproc_parse_message(struct msg_chan *ch, struct msg *m,
	    int *channel, char *tag, size_t tag_cap, char *message,
	    size_t message_cap);

/*
 * The runner's main: fd its socket, then timeout and programs; the
 * programs may end with HOOKPROC_SENDERS_ARG, the senders' timeout and
 * HOOKS_CHANNELS sender paths ("-" for none).
 */
#define HOOKPROC_SENDERS_ARG	"--senders"
int	hookproc_main(int fd, int timeout_ms, char *const *programs,
	    size_t nprog);

#endif

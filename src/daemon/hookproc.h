/* SPDX-License-Identifier: ISC */
/*
 * The hook runner: tapgated's own binary re-executed with HOOKPROC_ARG,
 * started before the daemon confines itself, that runs the notification
 * hooks (hooks.h) for it.  Hooks are the administrator's programs and
 * need what the daemon's seccomp filter must not allow (a mailer, a
 * network client where the unit permits one); a filter is inherited by
 * everything a process starts, so hooks are started from a process that
 * never had the daemon's.  The runner holds no key and no database: it
 * receives each event over a socketpair and reports each outcome back.
 *
 * Messages are datagrams (SOCK_SEQPACKET).  Daemon to runner: one event,
 * a JSON text of at most HOOKS_MAX_EVENT bytes.  Runner to daemon: one
 * report, u8 outcome, u32 status, u16 program length, the program, then
 * the event text.  A report that does not parse is logged and dropped.
 */
#ifndef TAPGATE_HOOKPROC_H
#define TAPGATE_HOOKPROC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/hooks.h"

#define HOOKPROC_ARG	"--hook-process"

struct hookproc;

/*
 * Told, once, when the runner goes away while the daemon did not stop it
 * (event "hooks.exited", detail how it ended): events can no longer be
 * delivered, and a runner started now would inherit the daemon's filter,
 * so the daemon stops and its supervisor starts it afresh.
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
 * Hand an event to the runner.  Never blocks and never calls back (the
 * caller may hold the lock report takes): 0 when handed over or when
 * there is nothing to run, TG_ERR_BUSY when the event was dropped (the
 * runner's socket is full, or the runner is gone); the caller reports
 * the drop.
 */
int	hookproc_post(struct hookproc *hp, const char *event_json);

/*
 * Let the runner deliver what it holds (its hooks' timeouts bound the
 * wait), then stop it and free.  NULL is fine.
 */
void	hookproc_stop(struct hookproc **hp);

/*
 * Parse a report datagram into its parts (pointers into buf, which must
 * have room for one more byte: the event is NUL-terminated in place).
 * 0 or TG_ERR_PROTOCOL.  Exposed for tests and fuzzing.
 */
int	hookproc_parse_report(uint8_t *buf, size_t len, size_t cap,
	    enum hook_outcome *outcome, int *status, char *program,
	    size_t program_cap, const char **event);

/* The runner's main: fd its socket, then timeout and programs. */
int	hookproc_main(int fd, int timeout_ms, char *const *programs,
	    size_t nprog);

#endif

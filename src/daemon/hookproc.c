/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/child.h"
#include "daemon/hookproc.h"
#include "daemon/proto.h"
#include "sandbox/sandbox.h"

#define STOP_GRACE_MS	5000		/* beyond the hooks' own timeouts */

/*
 * Both ends share their channel between two threads (one posts, one
 * takes what comes back): each end's lock is held around every call on
 * its channel, and a receive is started only once poll() has seen the
 * datagram (or the end) there, so no call waits with the lock held but
 * the runner's blocking report.
 */
struct hookproc {
	pid_t		 pid;
	pthread_mutex_t	 lock;		/* ch and ev */
	struct msg_chan	 ch;		/* ch.fd -1: no runner */
	struct msg	 ev;		/* the event being posted */
	int		 timeout_ms;
	size_t		 nprog;
	int		 nsenders;
	int		 sender_timeout_ms;
	hooks_report_fn	 report;
	hookproc_died_fn died;
	void		*ctx;
	pthread_t	 reader;
	int		 reading;
	atomic_int	 gone;		/* the runner stopped taking events */
	atomic_int	 stopping;	/* hookproc_stop() asked it to */
};

/* Wait for what comes next on ch, then take it under lock. */
static int
recv_locked(pthread_mutex_t *lock, struct msg_chan *ch, uint8_t *type,
    struct msg *m)
{
	struct pollfd pfd = { ch->fd, POLLIN, 0 };
	int r;

	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			return TG_ERR_IO;
	pthread_mutex_lock(lock);
	r = msg_chan_recv(ch, type, m);
	pthread_mutex_unlock(lock);
	return r;
}

/* ---- the daemon's side */

int
hookproc_parse_report(struct msg_chan *ch, struct msg *m,
    enum hook_outcome *outcome, int *status, char *program,
    size_t program_cap, char *event, size_t event_cap)
{
	uint8_t o;
	int r;

	o = msg_get_u8(m);
	*status = (int)msg_get_u32(m);
	msg_get_str(m, program, program_cap);
	msg_get_str(m, event, event_cap);
	if ((r = msg_chan_end(ch, m, "report")) != 0)
		return r;
	if (o > HOOK_DROPPED)
		return msg_chan_violation(ch, "report of outcome %u", o);
	*outcome = (enum hook_outcome)o;
	return 0;
}

/* The runner is gone, or broke the protocol: the daemon hears of it. */
static void
hookproc_lost(struct hookproc *hp, int r, const char *err)
{
	char detail[sizeof(hp->ch.err) + 96], end[80];
	const char *event = "hooks.exited";
	int status;

	if (r == TG_ERR_PROTOCOL) {
		/* its channel is dead: it delivers no more events */
		event = "privsep.violation";
		kill(hp->pid, SIGKILL);
		snprintf(detail, sizeof(detail), "the hook runner broke the "
		    "protocol: %s", err);
	} else
		snprintf(detail, sizeof(detail), "the hook runner closed its "
		    "socket");
	/* how it ended, when it has within a second */
	if (child_wait(hp->pid, 1000, &status) == 1) {
		child_describe(status, end, sizeof(end));
		if (r == TG_ERR_PROTOCOL)
			snprintf(detail + strlen(detail), sizeof(detail) -
			    strlen(detail), "; it %s", end);
		else
			snprintf(detail, sizeof(detail), "the hook runner %s",
			    end);
	}
	fprintf(stderr, "tapgated: %s: %s\n", event, detail);
	hp->died(hp->ctx, event, detail);
}

/* The daemon's thread that hears the runner's reports. */
static void *
hookproc_reader(void *arg)
{
	struct hookproc *hp = arg;
	struct msg m = { 0 };
	enum hook_outcome outcome;
	char *program, *event, err[sizeof(hp->ch.err)];
	uint8_t type;
	int status, r;

	program = malloc(PROTO_HOOK_PROGRAM_MAX + 1);
	event = malloc(HOOKS_MAX_EVENT + 1);
	for (r = program && event ? 0 : TG_ERR_NOMEM; r == 0;) {
		if ((r = recv_locked(&hp->lock, &hp->ch, &type, &m)) != 0)
			break;
		pthread_mutex_lock(&hp->lock);
		r = hookproc_parse_report(&hp->ch, &m, &outcome, &status,
		    program, PROTO_HOOK_PROGRAM_MAX + 1, event,
		    HOOKS_MAX_EVENT + 1);
		pthread_mutex_unlock(&hp->lock);
		if (r == 0 && hp->report != NULL)
			hp->report(hp->ctx, program[0] ? program : NULL, event,
			    outcome, status);
	}
	atomic_store(&hp->gone, 1);
	pthread_mutex_lock(&hp->lock);
	memcpy(err, hp->ch.err, sizeof(err));
	pthread_mutex_unlock(&hp->lock);
	msg_free(&m);
	free(program);
	free(event);
	if (!atomic_load(&hp->stopping) && hp->died != NULL)
		hookproc_lost(hp, r, err);
	return NULL;
}

int
hookproc_start(const char *exe, const char *const *programs, size_t nprog,
    int timeout_ms, hooks_report_fn report, hookproc_died_fn died, void *ctx,
    struct hookproc **out)
{
	return hookproc_start_senders(exe, programs, nprog, timeout_ms, NULL,
	    0, report, died, ctx, out);
}

int
hookproc_start_senders(const char *exe, const char *const *programs,
    size_t nprog, int timeout_ms, const char *const *senders,
    int sender_timeout_ms, hooks_report_fn report, hookproc_died_fn died,
    void *ctx, struct hookproc **out)
{
	struct hookproc *hp;
	char *argv[4 + HOOKS_MAX_PROGRAMS + 2 + HOOKS_CHANNELS + 1], tmo[16];
	char stmo[16];
	sigset_t all, old;
	size_t i, n;
	int sv[2], r, nsenders = 0;

	/* refused here, before a runner is started to refuse them */
	if (hooks_check(programs, nprog, timeout_ms) != 0)
		return TG_ERR_INVALID;
	for (i = 0; senders != NULL && i < HOOKS_CHANNELS; i++) {
		if (senders[i] == NULL || senders[i][0] == '\0')
			continue;
		if (senders[i][0] != '/' || sender_timeout_ms <= 0)
			return TG_ERR_INVALID;
		nsenders++;
	}
	if ((hp = calloc(1, sizeof(*hp))) == NULL)
		return TG_ERR_NOMEM;
	hp->timeout_ms = timeout_ms;
	hp->nprog = nprog;
	hp->nsenders = nsenders;
	hp->sender_timeout_ms = sender_timeout_ms;
	hp->report = report;
	hp->died = died;
	hp->ctx = ctx;
	hp->pid = -1;
	hp->ch.fd = -1;
	pthread_mutex_init(&hp->lock, NULL);
	if (nprog == 0 && nsenders == 0) {
		*out = hp;	/* nothing to run: no runner */
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		r = TG_ERR_IO;
		goto fail;
	}
	snprintf(tmo, sizeof(tmo), "%d", timeout_ms);
	argv[0] = (char *)(uintptr_t)exe;
	argv[1] = (char *)(uintptr_t)HOOKPROC_ARG;
	argv[2] = (char *)(uintptr_t)"3";
	argv[3] = tmo;
	for (i = 0; i < nprog; i++)
		argv[4 + i] = (char *)(uintptr_t)programs[i];
	n = 4 + nprog;
	if (nsenders > 0) {
		snprintf(stmo, sizeof(stmo), "%d", sender_timeout_ms);
		argv[n++] = (char *)(uintptr_t)HOOKPROC_SENDERS_ARG;
		argv[n++] = stmo;
		for (i = 0; i < HOOKS_CHANNELS; i++)
			argv[n++] = (char *)(uintptr_t)(senders[i] != NULL &&
			    senders[i][0] != '\0' ? senders[i] : "-");
	}
	argv[n] = NULL;
	if ((hp->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		r = TG_ERR_IO;
		goto fail;
	}
	if (hp->pid == 0) {
		/* only async-signal-safe calls between fork and exec */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(sv[1], 3) != 3)
			_exit(127);
		close_range(4, ~0U, 0);
		execv(exe, argv);
		_exit(127);
	}
	close(sv[1]);
	msg_chan_init(&hp->ch, sv[0], &proto_hooks, MSG_MONITOR);
	/* the daemon's signals belong to its main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&hp->reader, NULL, hookproc_reader, hp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		*out = hp;
		hookproc_stop(out);
		return TG_ERR_NOMEM;
	}
	hp->reading = 1;
	*out = hp;
	return 0;
fail:
	pthread_mutex_destroy(&hp->lock);
	free(hp);
	return r;
}

int
hookproc_post(struct hookproc *hp, const char *event_json)
{
	size_t len = strlen(event_json);
	int r;

	if (hp == NULL || hp->nprog == 0)
		return 0;
	if (atomic_load(&hp->gone) || len > HOOKS_MAX_EVENT)
		return TG_ERR_BUSY;
	pthread_mutex_lock(&hp->lock);
	msg_init_max(&hp->ev, MSG_MAX_ANY);
	msg_put_str(&hp->ev, event_json);
	r = msg_chan_send(&hp->ch, PROTO_HOOK_EVENT, &hp->ev, MSG_CHAN_NOWAIT);
	pthread_mutex_unlock(&hp->lock);
	return r == 0 ? 0 : TG_ERR_BUSY;
}

int
hookproc_post_message(struct hookproc *hp, int channel, const char *tag,
    const char *message_json)
{
	int r;

	if (hp == NULL || hp->nsenders == 0)
		return TG_ERR_NOT_FOUND;
	if (atomic_load(&hp->gone) || strlen(message_json) > HOOKS_MAX_EVENT ||
	    strlen(tag) > PROTO_HOOK_TAG_MAX || channel < 0 ||
	    channel >= HOOKS_CHANNELS)
		return TG_ERR_BUSY;
	pthread_mutex_lock(&hp->lock);
	msg_init_max(&hp->ev, MSG_MAX_ANY);
	msg_put_u8(&hp->ev, (uint8_t)channel);
	msg_put_str(&hp->ev, tag);
	msg_put_str(&hp->ev, message_json);
	r = msg_chan_send(&hp->ch, PROTO_HOOK_MESSAGE, &hp->ev,
	    MSG_CHAN_NOWAIT);
	/* it may hold a code */
	msg_free(&hp->ev);
	pthread_mutex_unlock(&hp->lock);
	return r == 0 ? 0 : TG_ERR_BUSY;
}

void
hookproc_stop(struct hookproc **hpp)
{
	struct hookproc *hp;

	if (hpp == NULL || (hp = *hpp) == NULL)
		return;
	atomic_store(&hp->stopping, 1);
	/* no more events: the runner delivers what it holds, then exits */
	if (hp->ch.fd >= 0)
		shutdown(hp->ch.fd, SHUT_WR);
	child_stop(hp->pid, STOP_GRACE_MS + hp->timeout_ms *
	    (int)(hp->nprog + 1) + 2 * hp->sender_timeout_ms);
	if (hp->reading)
		pthread_join(hp->reader, NULL);
	if (hp->ch.fd >= 0)
		close(hp->ch.fd);
	msg_free(&hp->ev);
	pthread_mutex_destroy(&hp->lock);
	free(hp);
	*hpp = NULL;
}

/* ---- the runner */

/* Its channel, shared by the main thread and the hook thread. */
struct runner {
	pthread_mutex_t	 lock;
	struct msg_chan	 ch;
	struct msg	 out;
};

int
hookproc_parse_event(struct msg_chan *ch, struct msg *m, char *event,
    size_t event_cap)
{
	msg_get_str(m, event, event_cap);
	return msg_chan_end(ch, m, "event");
}

int
hookproc_parse_message(struct msg_chan *ch, struct msg *m, int *channel,
    char *tag, size_t tag_cap, char *message, size_t message_cap)
{
	uint8_t c;
	int r;

	c = msg_get_u8(m);
	msg_get_str(m, tag, tag_cap);
	msg_get_str(m, message, message_cap);
	if ((r = msg_chan_end(ch, m, "message")) != 0)
		return r;
	if (c >= HOOKS_CHANNELS)
		return msg_chan_violation(ch, "message for channel %u", c);
	*channel = c;
	return 0;
}

/* hooks_report_fn in the runner: the report crosses to the daemon. */
static void
runner_report(void *ctx, const char *program, const char *event_json,
    enum hook_outcome outcome, int status)
{
	struct runner *rn = ctx;

	pthread_mutex_lock(&rn->lock);
	msg_init_max(&rn->out, MSG_MAX_ANY);
	msg_put_u8(&rn->out, (uint8_t)outcome);
	msg_put_u32(&rn->out, (uint32_t)status);
	msg_put_str(&rn->out, program);
	msg_put_str(&rn->out, event_json);
	/* refused when over a bound: the daemon hears nothing of it */
	(void)msg_chan_send(&rn->ch, PROTO_HOOK_REPORT, &rn->out, 0);
	pthread_mutex_unlock(&rn->lock);
}

int
hookproc_main(int fd, int timeout_ms, char *const *programs, size_t nprog)
{
	static struct runner rn = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct msg m = { 0 };
	struct hooks *h = NULL;
	const char *senders[HOOKS_CHANNELS] = { NULL };
	char tag[PROTO_HOOK_TAG_MAX + 1];
	sigset_t none;
	uint8_t type;
	char *event;
	size_t i, nhooks = nprog;
	int r, channel, stmo = 0;

	/* the daemon's blocked signals survive exec: start clean */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/*
	 * dup2() gave us the channel without close-on-exec: hooks must not
	 * inherit it, or what they leave running keeps it open (the daemon
	 * would not see this runner die) and could write to the daemon
	 */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		fprintf(stderr, "tapgated[hooks]: %s\n", strerror(errno));
		return 1;
	}
	/* a stop is the daemon closing the socket: queued events go first */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* no seccomp here (hooks would inherit it), but no core and no gain */
	if ((r = sandbox_harden()) != 0) {
		fprintf(stderr, "tapgated[hooks]: %s\n", tg_strerror(r));
		return 1;
	}
	/* the hooks, then maybe the senders */
	for (i = 0; i < nprog; i++) {
		if (strcmp(programs[i], HOOKPROC_SENDERS_ARG) != 0)
			continue;
		if (nprog - i != 2 + HOOKS_CHANNELS ||
		    (stmo = atoi(programs[i + 1])) <= 0)
			return 1;
		for (nhooks = 0; nhooks < HOOKS_CHANNELS; nhooks++)
			if (strcmp(programs[i + 2 + nhooks], "-") != 0)
				senders[nhooks] = programs[i + 2 + nhooks];
		nhooks = i;
		break;
	}
	if ((event = malloc(HOOKS_MAX_EVENT + 1)) == NULL)
		return 1;
	msg_chan_init(&rn.ch, fd, &proto_hooks, MSG_CHILD);
	if ((r = hooks_start((const char *const *)programs, nhooks, timeout_ms,
	    runner_report, &rn, &h)) != 0 || (stmo > 0 &&
	    (r = hooks_set_senders(h, senders, stmo)) != 0)) {
		fprintf(stderr, "tapgated[hooks]: %s\n", tg_strerror(r));
		hooks_stop(&h);
		free(event);
		return 1;
	}
	for (;;) {
		if ((r = recv_locked(&rn.lock, &rn.ch, &type, &m)) != 0)
			break;		/* the daemon is done with us */
		pthread_mutex_lock(&rn.lock);
		if (type == PROTO_HOOK_MESSAGE)
			r = hookproc_parse_message(&rn.ch, &m, &channel, tag,
			    sizeof(tag), event, HOOKS_MAX_EVENT + 1);
		else
			r = hookproc_parse_event(&rn.ch, &m, event,
			    HOOKS_MAX_EVENT + 1);
		pthread_mutex_unlock(&rn.lock);
		if (r != 0)
			break;
		if (type == PROTO_HOOK_MESSAGE) {
			hooks_post_message(h, channel, tag, event);
			explicit_bzero(event, strlen(event));
		} else
			hooks_post(h, event);
	}
	if (r == TG_ERR_PROTOCOL)
		fprintf(stderr, "tapgated[hooks]: %s\n", rn.ch.err);
	/* what is queued is still delivered */
	hooks_stop(&h);
	msg_free(&m);
	msg_free(&rn.out);
	free(event);
	return r == TG_ERR_CLOSED ? 0 : 2;
}

/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "daemon/child.h"
#include "daemon/hookproc.h"
#include "sandbox/sandbox.h"

#define REPORT_HDR	7		/* outcome, status, program length */
#define REPORT_MAX	(REPORT_HDR + 4096 + HOOKS_MAX_EVENT)
#define STOP_GRACE_MS	5000		/* beyond the hooks' own timeouts */

struct hookproc {
	pid_t		 pid;
	int		 fd;
	int		 timeout_ms;
	size_t		 nprog;
	hooks_report_fn	 report;
	hookproc_died_fn died;
	void		*ctx;
	pthread_t	 reader;
	int		 reading;
	atomic_int	 gone;		/* the runner stopped taking events */
	atomic_int	 stopping;	/* hookproc_stop() asked it to */
};

/* ---- the daemon's side */

int
hookproc_parse_report(uint8_t *buf, size_t len, size_t cap,
    enum hook_outcome *outcome, int *status, char *program,
    size_t program_cap, const char **event)
{
	size_t plen;

	if (len < REPORT_HDR || len >= cap || buf[0] > HOOK_DROPPED)
		return TG_ERR_PROTOCOL;
	*outcome = (enum hook_outcome)buf[0];
	*status = (int)((uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
	    (uint32_t)buf[3] << 8 | buf[4]);
	plen = (size_t)buf[5] << 8 | buf[6];
	if (plen >= program_cap || plen > len - REPORT_HDR ||
	    memchr(buf + REPORT_HDR, '\0', plen) != NULL)
		return TG_ERR_PROTOCOL;
	memcpy(program, buf + REPORT_HDR, plen);
	program[plen] = '\0';
	buf[len] = '\0';
	if (memchr(buf + REPORT_HDR + plen, '\0', len - REPORT_HDR - plen) !=
	    NULL)
		return TG_ERR_PROTOCOL;
	*event = (const char *)buf + REPORT_HDR + plen;
	return 0;
}

/* The daemon's thread that hears the runner's reports. */
static void *
hookproc_reader(void *arg)
{
	struct hookproc *hp = arg;
	enum hook_outcome outcome;
	const char *event;
	char program[4096], end[80];
	uint8_t *buf;
	ssize_t n;
	int status;

	if ((buf = malloc(REPORT_MAX + 1)) == NULL) {
		atomic_store(&hp->gone, 1);
		return NULL;
	}
	for (;;) {
		n = recv(hp->fd, buf, REPORT_MAX + 1, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the runner is done */
		if ((size_t)n > REPORT_MAX ||
		    hookproc_parse_report(buf, (size_t)n, REPORT_MAX + 1,
		    &outcome, &status, program, sizeof(program), &event) != 0) {
			fprintf(stderr, "tapgated: hook runner sent a "
			    "malformed report; dropped\n");
			continue;
		}
		if (hp->report != NULL)
			hp->report(hp->ctx, program[0] ? program : NULL, event,
			    outcome, status);
	}
	atomic_store(&hp->gone, 1);
	free(buf);
	if (!atomic_load(&hp->stopping) && hp->died != NULL) {
		/* how it ended, when it has within a second */
		snprintf(program, sizeof(program), "the hook runner closed its "
		    "socket");
		if (child_wait(hp->pid, 1000, &status) == 1) {
			child_describe(status, end, sizeof(end));
			snprintf(program, sizeof(program), "the hook runner %s",
			    end);
		}
		fprintf(stderr, "tapgated: hooks.exited: %s\n", program);
		hp->died(hp->ctx, "hooks.exited", program);
	}
	return NULL;
}

int
hookproc_start(const char *exe, const char *const *programs, size_t nprog,
    int timeout_ms, hooks_report_fn report, hookproc_died_fn died, void *ctx,
    struct hookproc **out)
{
	struct hookproc *hp;
	char *argv[4 + HOOKS_MAX_PROGRAMS + 1], tmo[16];
	sigset_t all, old;
	size_t i;
	int sv[2], r;

	/* refused here, before a runner is started to refuse them */
	if (hooks_check(programs, nprog, timeout_ms) != 0)
		return TG_ERR_INVALID;
	if ((hp = calloc(1, sizeof(*hp))) == NULL)
		return TG_ERR_NOMEM;
	hp->timeout_ms = timeout_ms;
	hp->nprog = nprog;
	hp->report = report;
	hp->died = died;
	hp->ctx = ctx;
	hp->pid = -1;
	hp->fd = -1;
	if (nprog == 0) {
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
	argv[4 + nprog] = NULL;
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
	hp->fd = sv[0];
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
	free(hp);
	return r;
}

int
hookproc_post(struct hookproc *hp, const char *event_json)
{
	size_t len = strlen(event_json);

	if (hp == NULL || hp->nprog == 0)
		return 0;
	if (!atomic_load(&hp->gone) && len <= HOOKS_MAX_EVENT &&
	    send(hp->fd, event_json, len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)len)
		return 0;
	return TG_ERR_BUSY;
}

void
hookproc_stop(struct hookproc **hpp)
{
	struct hookproc *hp;

	if (hpp == NULL || (hp = *hpp) == NULL)
		return;
	atomic_store(&hp->stopping, 1);
	/* no more events: the runner delivers what it holds, then exits */
	if (hp->fd >= 0)
		shutdown(hp->fd, SHUT_WR);
	child_stop(hp->pid, STOP_GRACE_MS + hp->timeout_ms *
	    (int)(hp->nprog + 1));
	if (hp->reading)
		pthread_join(hp->reader, NULL);
	if (hp->fd >= 0)
		close(hp->fd);
	free(hp);
	*hpp = NULL;
}

/* ---- the runner */

/* hooks_report_fn in the runner: the report crosses to the daemon. */
static void
runner_report(void *ctx, const char *program, const char *event_json,
    enum hook_outcome outcome, int status)
{
	static uint8_t buf[REPORT_MAX];	/* the one hook thread */
	size_t plen = program ? strlen(program) : 0;
	size_t elen = strlen(event_json);
	int fd = *(int *)ctx;

	if (plen > 4095 || elen > HOOKS_MAX_EVENT)
		return;
	buf[0] = (uint8_t)outcome;
	buf[1] = (uint8_t)((uint32_t)status >> 24);
	buf[2] = (uint8_t)((uint32_t)status >> 16);
	buf[3] = (uint8_t)((uint32_t)status >> 8);
	buf[4] = (uint8_t)status;
	buf[5] = (uint8_t)(plen >> 8);
	buf[6] = (uint8_t)plen;
	memcpy(buf + REPORT_HDR, program, plen);
	memcpy(buf + REPORT_HDR + plen, event_json, elen);
	(void)send(fd, buf, REPORT_HDR + plen + elen, MSG_NOSIGNAL);
}

int
hookproc_main(int fd, int timeout_ms, char *const *programs, size_t nprog)
{
	struct hooks *h = NULL;
	sigset_t none;
	char *event;
	ssize_t n;
	int r;

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
	if ((event = malloc(HOOKS_MAX_EVENT + 1)) == NULL)
		return 1;
	if ((r = hooks_start((const char *const *)programs, nprog, timeout_ms,
	    runner_report, &fd, &h)) != 0) {
		fprintf(stderr, "tapgated[hooks]: %s\n", tg_strerror(r));
		free(event);
		return 1;
	}
	for (;;) {
		n = recv(fd, event, HOOKS_MAX_EVENT + 1, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the daemon is done with us */
		if ((size_t)n > HOOKS_MAX_EVENT) {
			fprintf(stderr, "tapgated[hooks]: oversized event "
			    "dropped\n");
			continue;
		}
		event[n] = '\0';
		hooks_post(h, event);
	}
	hooks_stop(&h);
	free(event);
	return 0;
}

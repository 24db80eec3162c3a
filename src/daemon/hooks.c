/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "daemon/hooks.h"

extern char **environ;

/* A queued event (channel -1: for every hook) or message (its sender). */
struct hook_item {
	char		*input;
	char		*tag;		/* a message's report */
	int		 channel;
};

struct hooks {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	char		*programs[HOOKS_MAX_PROGRAMS];
	size_t		 nprog;
	int		 timeout_ms;
	char		*senders[HOOKS_CHANNELS];
	int		 sender_timeout_ms;
	hooks_report_fn	 report;
	void		*ctx;
	struct hook_item queue[HOOKS_QUEUE_LEN];
	size_t		 head, count;
	int		 stopping;
};

const char *
hooks_outcome_name(enum hook_outcome o)
{
	switch (o) {
	case HOOK_OK:		return "ok";
	case HOOK_FAILED:	return "failed";
	case HOOK_TIMED_OUT:	return "timed_out";
	case HOOK_NOT_STARTED:	return "not_started";
	case HOOK_DROPPED:	return "dropped";
	}
	return "unknown";
}

static int64_t
hooks_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Run one program with event on its stdin; returns the outcome.  The
 * program's stdout and stderr go to /dev/null: what it says is not ours to
 * trust, and a chatty hook must not fill a pipe we never read.
 */
static enum hook_outcome
hooks_run_one(int timeout_ms, const char *prog, const char *event,
    int *status)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, dfl;
	char *argv[2];
	size_t len = strlen(event), off = 0;
	int64_t deadline = hooks_now_ms() + timeout_ms;
	int in[2], wst, killed = 0;
	pid_t pid;
	ssize_t n;

	*status = 0;
	if (pipe2(in, O_CLOEXEC) != 0)
		return HOOK_NOT_STARTED;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		close(in[0]);
		close(in[1]);
		return HOOK_NOT_STARTED;
	}
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	argv[0] = (char *)(uintptr_t)prog;
	argv[1] = NULL;
	/*
	 * a hook starts with no signal blocked and none ignored, whatever
	 * the daemon blocks or ignores (SIGPIPE; SIGTERM in the runner)
	 */
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&sa, &none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	*status = posix_spawn(&pid, prog, &fa, &sa, argv, environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	if (*status != 0) {
		close(in[1]);
		return HOOK_NOT_STARTED;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	/* feed the event without ever blocking past the deadline */
	while (off < len && hooks_now_ms() < deadline) {
		struct pollfd pfd = { in[1], POLLOUT, 0 };
		int64_t left = deadline - hooks_now_ms();

		if (poll(&pfd, 1, left > 100 ? 100 : (int)left) <= 0)
			continue;
		n = write(in[1], event + off, len - off);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;	/* the hook closed its stdin: its business */
		if (n > 0)
			off += (size_t)n;
	}
	close(in[1]);
	for (;;) {
		pid_t w = waitpid(pid, &wst, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return HOOK_FAILED;
		if (!killed && hooks_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		usleep(5000);
	}
	if (killed)
		return HOOK_TIMED_OUT;
	if (WIFEXITED(wst)) {
		*status = WEXITSTATUS(wst);
		return *status == 0 ? HOOK_OK : HOOK_FAILED;
	}
	*status = WIFSIGNALED(wst) ? WTERMSIG(wst) : -1;
	return HOOK_FAILED;
}

static void *
hooks_main(void *arg)
{
	struct hooks *h = arg;
	enum hook_outcome o;
	struct hook_item it;
	size_t i;
	int status;

	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (h->count == 0 && !h->stopping)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->count == 0) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		it = h->queue[h->head];
		memset(&h->queue[h->head], 0, sizeof(it));
		h->head = (h->head + 1) % HOOKS_QUEUE_LEN;
		h->count--;
		pthread_mutex_unlock(&h->lock);
		if (it.channel >= 0) {
			/* a message: its channel's sender, and only it */
			o = hooks_run_one(h->sender_timeout_ms,
			    h->senders[it.channel], it.input, &status);
			if (h->report != NULL)
				h->report(h->ctx, h->senders[it.channel],
				    it.tag, o, status);
		}
		for (i = 0; it.channel < 0 && i < h->nprog; i++) {
			o = hooks_run_one(h->timeout_ms, h->programs[i],
			    it.input, &status);
			if (h->report != NULL)
				h->report(h->ctx, h->programs[i], it.input, o,
				    status);
		}
		/* a message may hold a code: wiped */
		explicit_bzero(it.input, strlen(it.input));
		free(it.input);
		free(it.tag);
	}
	return NULL;
}

int
hooks_check(const char *const *programs, size_t nprog, int timeout_ms)
{
	size_t i;

	if (nprog > HOOKS_MAX_PROGRAMS || timeout_ms <= 0)
		return TG_ERR_INVALID;
	for (i = 0; i < nprog; i++)
		if (programs[i] == NULL || programs[i][0] != '/')
			return TG_ERR_INVALID;
	return 0;
}

int
hooks_start(const char *const *programs, size_t nprog, int timeout_ms,
    hooks_report_fn report, void *ctx, struct hooks **out)
{
	struct hooks *h;
	size_t i;
	sigset_t all, old;
	int r;

	if (hooks_check(programs, nprog, timeout_ms) != 0)
		return TG_ERR_INVALID;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return TG_ERR_NOMEM;
	for (i = 0; i < nprog; i++) {
		if ((h->programs[i] = strdup(programs[i])) == NULL) {
			r = TG_ERR_NOMEM;
			goto fail;
		}
		h->nprog++;
	}
	h->timeout_ms = timeout_ms;
	h->report = report;
	h->ctx = ctx;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	/* the daemon's signals belong to its main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&h->thread, NULL, hooks_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
		r = TG_ERR_INTERNAL;
		goto fail;
	}
	*out = h;
	return 0;
fail:
	for (i = 0; i < h->nprog; i++)
		free(h->programs[i]);
	free(h);
	return r;
}

void
hooks_post(struct hooks *h, const char *event_json)
{
	char *copy = NULL;
	int dropped = 0;

	if (h == NULL || h->nprog == 0)
		return;
	if (strlen(event_json) > HOOKS_MAX_EVENT ||
	    (copy = strdup(event_json)) == NULL)
		dropped = 1;
	pthread_mutex_lock(&h->lock);
	if (!dropped && h->count < HOOKS_QUEUE_LEN && !h->stopping) {
		h->queue[(h->head + h->count) % HOOKS_QUEUE_LEN] =
		    (struct hook_item){ copy, NULL, -1 };
		h->count++;
		copy = NULL;
		pthread_cond_signal(&h->cond);
	} else
		dropped = 1;
	pthread_mutex_unlock(&h->lock);
	free(copy);
	if (dropped && h->report != NULL)
		h->report(h->ctx, NULL, event_json, HOOK_DROPPED, 0);
}

int
hooks_set_senders(struct hooks *h, const char *const *senders,
    int timeout_ms)
{
	char *p[HOOKS_CHANNELS] = { NULL };
	int i;

	if (timeout_ms <= 0)
		return TG_ERR_INVALID;
	for (i = 0; i < HOOKS_CHANNELS; i++) {
		if (senders[i] == NULL || senders[i][0] == '\0')
			continue;
		if (senders[i][0] != '/' || (p[i] = strdup(senders[i])) ==
		    NULL) {
			while (i-- > 0)
				free(p[i]);
			return TG_ERR_INVALID;
		}
	}
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < HOOKS_CHANNELS; i++) {
		free(h->senders[i]);
		h->senders[i] = p[i];
	}
	h->sender_timeout_ms = timeout_ms;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
hooks_post_message(struct hooks *h, int channel, const char *tag,
    const char *message_json)
{
	char *copy = NULL, *tcopy = NULL;
	enum hook_outcome o = HOOK_DROPPED;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	if (channel < 0 || channel >= HOOKS_CHANNELS ||
	    h->senders[channel] == NULL)
		o = HOOK_NOT_STARTED;
	else if (strlen(message_json) <= HOOKS_MAX_EVENT &&
	    h->count < HOOKS_QUEUE_LEN && !h->stopping &&
	    (copy = strdup(message_json)) != NULL &&
	    (tcopy = strdup(tag)) != NULL) {
		h->queue[(h->head + h->count) % HOOKS_QUEUE_LEN] =
		    (struct hook_item){ copy, tcopy, channel };
		h->count++;
		copy = tcopy = NULL;
		o = HOOK_OK;
		pthread_cond_signal(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
	if (copy != NULL) {
		explicit_bzero(copy, strlen(copy));
		free(copy);
	}
	if (o != HOOK_OK && h->report != NULL)
		h->report(h->ctx, NULL, tag, o, 0);
}

void
hooks_stop(struct hooks **hp)
{
	struct hooks *h;
	size_t i;

	if (hp == NULL || (h = *hp) == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	for (i = 0; i < h->nprog; i++)
		free(h->programs[i]);
	for (i = 0; i < HOOKS_CHANNELS; i++)
		free(h->senders[i]);
	free(h);
	*hp = NULL;
}

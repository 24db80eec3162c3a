/* SPDX-License-Identifier: ISC */
/*
 * Notification hooks run real programs (sh scripts written to a temporary
 * directory): what they receive on stdin, what happens to a slow one and to
 * a failing one, and that posting never blocks the caller.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "daemon/hookproc.h"
#include "daemon/hooks.h"
#include "tap.h"

static char dir[64];

struct seen {
	pthread_mutex_t	lock;
	int		n;
	enum hook_outcome outcome[16];
	int		status[16];
};

static void
record(void *ctx, const char *prog, const char *event, enum hook_outcome o,
    int status)
{
	struct seen *s = ctx;

	(void)prog;
	(void)event;
	pthread_mutex_lock(&s->lock);
	if (s->n < 16) {
		s->outcome[s->n] = o;
		s->status[s->n] = status;
	}
	s->n++;
	pthread_mutex_unlock(&s->lock);
}

static void
script(const char *name, const char *body, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0700);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
hook_receives_the_event_on_stdin(void)
{
	struct seen s = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 } };
	struct hooks *h = NULL;
	char prog[128], out[128], buf[128] = "";
	char cmd[300];
	const char *progs[1];
	FILE *f;

	snprintf(out, sizeof(out), "%s/got", dir);
	snprintf(cmd, sizeof(cmd), "cat > %s", out);
	script("cat.sh", cmd, prog, sizeof(prog));
	progs[0] = prog;
	CHECK_EQ(hooks_start(progs, 1, 5000, record, &s, &h), 0);
	hooks_post(h, "{\"event\":\"request_created\"}");
	hooks_stop(&h);
	CHECK(h == NULL);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.outcome[0], HOOK_OK);
	CHECK((f = fopen(out, "r")) != NULL);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	CHECK(strcmp(buf, "{\"event\":\"request_created\"}") == 0);
}

static void
slow_hook_is_killed_after_its_timeout(void)
{
	struct seen s = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 } };
	struct hooks *h = NULL;
	char prog[128];
	const char *progs[1];
	double t0;

	script("slow.sh", "exec sleep 30", prog, sizeof(prog));
	progs[0] = prog;
	CHECK_EQ(hooks_start(progs, 1, 300, record, &s, &h), 0);
	t0 = now_s();
	hooks_post(h, "{}");
	/* posting returned at once although the hook sleeps */
	CHECK(now_s() - t0 < 0.25);
	hooks_stop(&h);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.outcome[0], HOOK_TIMED_OUT);
	CHECK(now_s() - t0 < 10);
}

static void
failing_and_missing_hooks_are_reported(void)
{
	struct seen s = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 } };
	struct hooks *h = NULL;
	char prog[128], missing[128];
	const char *progs[2];

	script("fail.sh", "exit 3", prog, sizeof(prog));
	snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
	progs[0] = prog;
	progs[1] = missing;
	CHECK_EQ(hooks_start(progs, 2, 2000, record, &s, &h), 0);
	hooks_post(h, "{}");
	hooks_stop(&h);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.outcome[0], HOOK_FAILED);
	CHECK_EQ(s.status[0], 3);
	CHECK_EQ(s.outcome[1], HOOK_NOT_STARTED);
}

static void
hook_that_ignores_stdin_does_not_hang_the_daemon(void)
{
	struct seen s = { PTHREAD_MUTEX_INITIALIZER, 0, { 0 }, { 0 } };
	struct hooks *h = NULL;
	char prog[128], *big;
	const char *progs[1];

	/* never reads its stdin: a large event would fill the pipe */
	script("deaf.sh", "exec sleep 30", prog, sizeof(prog));
	progs[0] = prog;
	CHECK((big = malloc(HOOKS_MAX_EVENT)) != NULL);
	memset(big, 'x', HOOKS_MAX_EVENT - 1);
	big[HOOKS_MAX_EVENT - 1] = '\0';
	CHECK_EQ(hooks_start(progs, 1, 300, record, &s, &h), 0);
	hooks_post(h, big);
	free(big);
	hooks_stop(&h);
	CHECK_EQ(s.n, 1);
	CHECK_EQ(s.outcome[0], HOOK_TIMED_OUT);
}

static void
relative_program_path_is_refused(void)
{
	struct hooks *h = NULL;
	const char *progs[1] = { "notify.sh" };

	CHECK(hooks_start(progs, 1, 1000, NULL, NULL, &h) < 0);
	CHECK(h == NULL);
}

/* A report as the hook runner writes it. */
static size_t
report(uint8_t *buf, int outcome, uint32_t status, const char *prog,
    const char *event)
{
	size_t plen = strlen(prog), elen = strlen(event);

	buf[0] = (uint8_t)outcome;
	buf[1] = (uint8_t)(status >> 24);
	buf[2] = (uint8_t)(status >> 16);
	buf[3] = (uint8_t)(status >> 8);
	buf[4] = (uint8_t)status;
	buf[5] = (uint8_t)(plen >> 8);
	buf[6] = (uint8_t)plen;
	memcpy(buf + 7, prog, plen);
	memcpy(buf + 7 + plen, event, elen);
	return 7 + plen + elen;
}

static void
runner_reports_parse_within_their_bounds(void)
{
	uint8_t buf[256];
	enum hook_outcome o;
	const char *ev;
	char prog[32];
	size_t n;
	int st;

	n = report(buf, HOOK_TIMED_OUT, 9, "/bin/notify", "{\"event\":1}");
	CHECK_EQ(hookproc_parse_report(buf, n, sizeof(buf), &o, &st, prog,
	    sizeof(prog), &ev), 0);
	CHECK_EQ(o, HOOK_TIMED_OUT);
	CHECK_EQ(st, 9);
	CHECK(strcmp(prog, "/bin/notify") == 0);
	CHECK(strcmp(ev, "{\"event\":1}") == 0);
	/* an outcome that does not exist */
	n = report(buf, HOOK_DROPPED + 1, 0, "/x", "{}");
	CHECK_EQ(hookproc_parse_report(buf, n, sizeof(buf), &o, &st, prog,
	    sizeof(prog), &ev), TG_ERR_PROTOCOL);
	/* a program longer than the caller's room, or than the report */
	n = report(buf, HOOK_OK, 0, "/a/program/name/over/thirty-two/bytes",
	    "{}");
	CHECK_EQ(hookproc_parse_report(buf, n, sizeof(buf), &o, &st, prog,
	    sizeof(prog), &ev), TG_ERR_PROTOCOL);
	n = report(buf, HOOK_OK, 0, "/x", "");
	buf[6] = 40;
	CHECK_EQ(hookproc_parse_report(buf, n, sizeof(buf), &o, &st, prog,
	    sizeof(prog), &ev), TG_ERR_PROTOCOL);
	/* a NUL inside, a header cut short, no room for the terminator */
	n = report(buf, HOOK_OK, 0, "/x", "{}");
	buf[n - 1] = '\0';
	CHECK_EQ(hookproc_parse_report(buf, n, sizeof(buf), &o, &st, prog,
	    sizeof(prog), &ev), TG_ERR_PROTOCOL);
	CHECK_EQ(hookproc_parse_report(buf, 6, sizeof(buf), &o, &st, prog,
	    sizeof(prog), &ev), TG_ERR_PROTOCOL);
	n = report(buf, HOOK_OK, 0, "/x", "{}");
	CHECK_EQ(hookproc_parse_report(buf, n, n, &o, &st, prog,
	    sizeof(prog), &ev), TG_ERR_PROTOCOL);
}

int
main(void)
{
	char cmd[100];

	snprintf(dir, sizeof(dir), "/tmp/tg-hooks.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(hook_receives_the_event_on_stdin);
	RUN(slow_hook_is_killed_after_its_timeout);
	RUN(failing_and_missing_hooks_are_reported);
	RUN(hook_that_ignores_stdin_does_not_hang_the_daemon);
	RUN(relative_program_path_is_refused);
	RUN(runner_reports_parse_within_their_bounds);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	TAP_EXIT();
}

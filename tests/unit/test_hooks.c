/* SPDX-License-Identifier: ISC */
/*
 * Notification hooks run real programs (sh scripts written to a temporary
 * directory): what they receive on stdin, what happens to a slow one and to
 * a failing one, and that posting never blocks the caller; a message goes
 * to its channel's sender alone, reported by its tag.  Then the hook
 * runner's channel, over a real SOCK_SEQPACKET socketpair in both
 * directions: a real runner takes events and reports in the one format
 * and stops on what its table does not permit; the daemon kills a runner
 * (this program re-executed, lying) that breaks the protocol, and hears
 * why.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/hookproc.h"
#include "daemon/hooks.h"
#include "daemon/proto.h"
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

/* What a report named: its program and event, for the message test. */
struct msg_heard {
	pthread_mutex_t	lock;
	int		n;
	char		prog[4][128];
	char		event[4][256];
	enum hook_outcome outcome[4];
};

static void
msg_hear(void *ctx, const char *prog, const char *event, enum hook_outcome o,
    int status)
{
	struct msg_heard *s = ctx;

	(void)status;
	pthread_mutex_lock(&s->lock);
	if (s->n < 4) {
		snprintf(s->prog[s->n], sizeof(s->prog[0]), "%s",
		    prog ? prog : "");
		snprintf(s->event[s->n], sizeof(s->event[0]), "%s", event);
		s->outcome[s->n] = o;
	}
	s->n++;
	pthread_mutex_unlock(&s->lock);
}

/*
 * A message reaches its channel's sender only, not the hooks nor another
 * channel's sender; its report names the tag, never the message; a
 * channel without a sender is reported as not started.
 */
static void
message_reaches_its_channels_sender_only(void)
{
	struct msg_heard s = { PTHREAD_MUTEX_INITIALIZER, 0, { "" }, { "" },
	    { 0 } };
	struct hooks *h = NULL;
	char hook[128], mail[128], sms[128], cmd[300], buf[128] = "";
	const char *progs[1], *senders[HOOKS_CHANNELS] = { NULL };
	struct stat sb;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "cat > %s/hook.got", dir);
	script("hook.sh", cmd, hook, sizeof(hook));
	snprintf(cmd, sizeof(cmd), "cat > %s/mail.got", dir);
	script("mail.sh", cmd, mail, sizeof(mail));
	snprintf(cmd, sizeof(cmd), "cat > %s/sms.got", dir);
	script("sms.sh", cmd, sms, sizeof(sms));
	progs[0] = hook;
	senders[0] = mail;
	senders[1] = sms;
	CHECK_EQ(hooks_start(progs, 1, 5000, msg_hear, &s, &h), 0);
	CHECK_EQ(hooks_set_senders(h, senders, 5000), 0);
	hooks_post_message(h, 0, "{\"tag\":1}", "{\"text\":\"code\"}");
	hooks_post_message(h, 2, "{\"tag\":2}", "{\"text\":\"x\"}");
	hooks_stop(&h);
	CHECK_EQ(s.n, 2);
	/* the channel without a sender is told at once, the message after */
	CHECK_EQ(s.outcome[0], HOOK_NOT_STARTED);
	CHECK(strcmp(s.event[0], "{\"tag\":2}") == 0);
	CHECK_EQ(s.outcome[1], HOOK_OK);
	CHECK(strcmp(s.prog[1], mail) == 0);
	CHECK(strcmp(s.event[1], "{\"tag\":1}") == 0);
	snprintf(cmd, sizeof(cmd), "%s/mail.got", dir);
	CHECK((f = fopen(cmd, "r")) != NULL);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	CHECK(strcmp(buf, "{\"text\":\"code\"}") == 0);
	snprintf(cmd, sizeof(cmd), "%s/hook.got", dir);
	CHECK(stat(cmd, &sb) == -1);
	snprintf(cmd, sizeof(cmd), "%s/sms.got", dir);
	CHECK(stat(cmd, &sb) == -1);
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

/* ---- the runner's channel */

static struct msg pl, in;

/* A report payload as the hook runner writes it. */
static void
report(int outcome, uint32_t status, const char *prog, const char *event)
{
	msg_init_max(&pl, MSG_MAX_ANY);
	msg_put_u8(&pl, (uint8_t)outcome);
	msg_put_u32(&pl, status);
	msg_put_str(&pl, prog);
	msg_put_str(&pl, event);
}

/* Decode pl as the daemon does a report; 0 or TG_ERR_PROTOCOL. */
static int
parse(enum hook_outcome *o, int *st, char *prog, size_t plen, char *ev,
    size_t elen, struct msg_chan *ch)
{
	msg_chan_init(ch, -1, &proto_hooks, MSG_MONITOR);
	if (msg_load(&in, pl.buf, pl.len) != 0)
		abort();
	return hookproc_parse_report(ch, &in, o, st, prog, plen, ev, elen);
}

static void
runner_reports_parse_within_their_bounds(void)
{
	struct msg_chan ch;
	enum hook_outcome o;
	char prog[32], ev[32];
	int st;

	report(HOOK_TIMED_OUT, 9, "/bin/notify", "{\"event\":1}");
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch), 0);
	CHECK_EQ(o, HOOK_TIMED_OUT);
	CHECK_EQ(st, 9);
	CHECK(strcmp(prog, "/bin/notify") == 0);
	CHECK(strcmp(ev, "{\"event\":1}") == 0);
	/* a dropped event names no program */
	report(HOOK_DROPPED, 0, NULL, "{}");
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch), 0);
	CHECK(o == HOOK_DROPPED && prog[0] == '\0');
	/* an outcome that does not exist */
	report(HOOK_DROPPED + 1, 0, "/x", "{}");
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch),
	    TG_ERR_PROTOCOL);
	CHECK(strstr(ch.err, "report of outcome 5") != NULL && ch.dead);
	/* a program or an event longer than the daemon's room */
	report(HOOK_OK, 0, "/a/program/name/over/thirty-two/bytes", "{}");
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch),
	    TG_ERR_PROTOCOL);
	CHECK(strstr(ch.err, "malformed report") != NULL);
	report(HOOK_OK, 0, "/x", "{\"an event\":\"of thirty-two bytes\"}");
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch),
	    TG_ERR_PROTOCOL);
	/* a NUL inside, a payload cut short, a byte after the event */
	report(HOOK_OK, 0, "/x", "{}");
	pl.buf[pl.len - 1] = '\0';
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch),
	    TG_ERR_PROTOCOL);
	report(HOOK_OK, 0, "/x", "{}");
	pl.len--;
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch),
	    TG_ERR_PROTOCOL);
	report(HOOK_OK, 0, "/x", "{}");
	msg_put_u8(&pl, 0);
	CHECK_EQ(parse(&o, &st, prog, sizeof(prog), ev, sizeof(ev), &ch),
	    TG_ERR_PROTOCOL);
	CHECK(strstr(ch.err, "malformed report") != NULL);
}

/* A message as a broken peer writes it: any type and number, pl after. */
static void
raw(int fd, uint8_t type, uint32_t seq)
{
	static uint8_t b[MSG_HDR_LEN + HOOKS_MAX_EVENT + 64];
	uint32_t v[2] = { seq, (uint32_t)pl.len };
	size_t i;

	b[0] = type;
	for (i = 0; i < 2; i++) {
		b[1 + 4 * i] = (uint8_t)(v[i] >> 24);
		b[2 + 4 * i] = (uint8_t)(v[i] >> 16);
		b[3 + 4 * i] = (uint8_t)(v[i] >> 8);
		b[4 + 4 * i] = (uint8_t)v[i];
	}
	if (pl.len > 0)
		memcpy(b + MSG_HDR_LEN, pl.buf, pl.len);
	if (send(fd, b, MSG_HDR_LEN + pl.len, MSG_NOSIGNAL) !=
	    (ssize_t)(MSG_HDR_LEN + pl.len))
		abort();
}

/* A real runner (hookproc_main) on one end of a socketpair; the other. */
static pid_t
runner_start(const char *prog, int *fd)
{
	char *progs[1];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		abort();
	progs[0] = (char *)(uintptr_t)prog;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(hookproc_main(sv[1], 2000, progs, 1));
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* The runner's exit status, within ten seconds; -1 if it did not end. */
static int
runner_end(pid_t pid)
{
	int i, st;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void
runner_takes_events_and_reports_in_the_one_format(void)
{
	struct msg_chan ch;
	enum hook_outcome o;
	char prog[128], ev[64], got[PROTO_HOOK_PROGRAM_MAX + 1];
	uint8_t type;
	pid_t pid;
	int fd, st, i;

	script("exit3.sh", "cat >/dev/null; exit 3", prog, sizeof(prog));
	pid = runner_start(prog, &fd);
	msg_chan_init(&ch, fd, &proto_hooks, MSG_MONITOR);
	for (i = 1; i <= 2; i++) {
		msg_init(&pl);
		msg_put_str(&pl, i == 1 ? "{\"n\":1}" : "{\"n\":2}");
		CHECK_EQ(msg_chan_send(&ch, PROTO_HOOK_EVENT, &pl, 0), 0);
	}
	for (i = 1; i <= 2; i++) {
		CHECK_EQ(msg_chan_recv(&ch, &type, &in), 0);
		CHECK_EQ(type, PROTO_HOOK_REPORT);
		CHECK_EQ(ch.received, i);
		CHECK_EQ(hookproc_parse_report(&ch, &in, &o, &st, got,
		    sizeof(got), ev, sizeof(ev)), 0);
		CHECK(o == HOOK_FAILED && st == 3);
		CHECK(strcmp(got, prog) == 0);
		CHECK(strcmp(ev, i == 1 ? "{\"n\":1}" : "{\"n\":2}") == 0);
	}
	/* the daemon closing is the runner's end, after what it holds */
	shutdown(fd, SHUT_WR);
	CHECK_EQ(msg_chan_recv(&ch, &type, &in), TG_ERR_CLOSED);
	CHECK_EQ(runner_end(pid), 0);
	close(fd);
}

/*
 * A runner sent one message, then the daemon's end: its exit status (0
 * when it took the message and ended at the close, 2 when it broke off).
 */
static int
runner_after(uint8_t type, uint32_t seq, int trailing, const char *what)
{
	char prog[128];
	pid_t pid;
	int fd, st;

	script("true.sh", "cat >/dev/null", prog, sizeof(prog));
	pid = runner_start(prog, &fd);
	msg_init(&pl);
	msg_put_str(&pl, "{}");
	if (trailing)
		msg_put_u8(&pl, 0);
	raw(fd, type, seq);
	shutdown(fd, SHUT_WR);
	st = runner_end(pid);
	close(fd);
	printf("# %s: the runner ended with status %d\n", what, st);
	return st;
}

static void
runner_stops_on_what_its_table_does_not_permit(void)
{
	CHECK_EQ(runner_after(PROTO_HOOK_REPORT, 1, 0, "a report to it"), 2);
	CHECK_EQ(runner_after(PROTO_TOKEN_ASSERT, 1, 0, "another channel's"),
	    2);
	CHECK_EQ(runner_after(PROTO_HOOK_EVENT, 2, 0, "a skipped number"), 2);
	CHECK_EQ(runner_after(PROTO_HOOK_EVENT, 1, 1, "trailing bytes"), 2);
	/* the control: the same event, well formed, is taken */
	CHECK_EQ(runner_after(PROTO_HOOK_EVENT, 1, 0, "well formed"), 0);
}

/* ---- a lying runner, for hookproc_start() (the test re-executed) */

struct heard {
	pthread_mutex_t	 lock;
	char		 event[64];
	char		 detail[512];
	int		 reports;
};

static void
heard_report(void *ctx, const char *prog, const char *event,
    enum hook_outcome o, int status)
{
	struct heard *h = ctx;

	(void)prog;
	(void)event;
	(void)status;
	pthread_mutex_lock(&h->lock);
	h->reports += o == HOOK_OK;
	pthread_mutex_unlock(&h->lock);
}

static void
heard_died(void *ctx, const char *event, const char *detail)
{
	struct heard *h = ctx;

	pthread_mutex_lock(&h->lock);
	snprintf(h->event, sizeof(h->event), "%s", event);
	snprintf(h->detail, sizeof(h->detail), "%s", detail);
	pthread_mutex_unlock(&h->lock);
}

/* The runner's side, lying as TG_TEST_HOOK_LIE says, on its first event. */
static int
lying_runner(int fd)
{
	const char *how = getenv("TG_TEST_HOOK_LIE");
	struct msg_chan ch;
	uint8_t type;

	msg_chan_init(&ch, fd, &proto_hooks, MSG_CHILD);
	if (how == NULL || msg_chan_recv(&ch, &type, &in) != 0)
		return 1;
	report(HOOK_OK, 0, "/bin/true", "{}");
	if (strcmp(how, "skip") == 0)
		raw(fd, PROTO_HOOK_REPORT, 2);
	else if (strcmp(how, "type") == 0)
		raw(fd, PROTO_FRONT_REPLY, 1);
	else if (strcmp(how, "outcome") == 0) {
		report(HOOK_DROPPED + 1, 0, "/bin/true", "{}");
		raw(fd, PROTO_HOOK_REPORT, 1);
	} else
		raw(fd, PROTO_HOOK_REPORT, 1);	/* the control: no lie */
	/* until the daemon kills it, or closes its end */
	while (msg_chan_recv(&ch, &type, &in) == 0)
		;
	return 0;
}

/* Start a lying runner, post one event; what the daemon heard. */
static void
daemon_hears(const char *how, struct heard *h)
{
	struct hookproc *hp = NULL;
	const char *progs[1] = { "/bin/true" };
	int i, done = 0;

	memset(h->event, 0, sizeof(h->event));
	memset(h->detail, 0, sizeof(h->detail));
	h->reports = 0;
	setenv("TG_TEST_HOOK_LIE", how, 1);
	if (hookproc_start("/proc/self/exe", progs, 1, 1000, heard_report,
	    heard_died, h, &hp) != 0)
		abort();
	unsetenv("TG_TEST_HOOK_LIE");
	if (hookproc_post(hp, "{}") != 0)
		abort();
	/* a death or a report, within five seconds */
	for (i = 0; i < 500 && !done; i++) {
		usleep(10000);
		pthread_mutex_lock(&h->lock);
		done = h->event[0] != '\0' || h->reports > 0;
		pthread_mutex_unlock(&h->lock);
	}
	hookproc_stop(&hp);
}

static void
daemon_kills_a_runner_that_breaks_the_protocol(void)
{
	static struct heard h = { PTHREAD_MUTEX_INITIALIZER, "", "", 0 };
	const char *how[] = { "skip", "type", "outcome" };
	const char *why[] = { "report numbered 2 after 0",
	    "message type 2 is not one of the hook runner channel's",
	    "report of outcome 5" };
	size_t i;

	/* the control: a runner keeping to the table is heard out */
	daemon_hears("none", &h);
	CHECK_EQ(h.reports, 1);
	CHECK(h.event[0] == '\0');
	for (i = 0; i < 3; i++) {
		daemon_hears(how[i], &h);
		if (strcmp(h.event, "privsep.violation") != 0 ||
		    strstr(h.detail, why[i]) == NULL ||
		    strstr(h.detail, "killed by signal 9") == NULL)
			printf("# %s: heard \"%s\": \"%s\"\n", how[i], h.event,
			    h.detail);
		CHECK(strcmp(h.event, "privsep.violation") == 0);
		CHECK(strstr(h.detail, why[i]) != NULL);
		CHECK(strstr(h.detail, "killed by signal 9") != NULL);
	}
}

int
main(int argc, char **argv)
{
	char cmd[100];

	if (argc > 2 && strcmp(argv[1], HOOKPROC_ARG) == 0)
		return lying_runner(atoi(argv[2]));
	snprintf(dir, sizeof(dir), "/tmp/tg-hooks.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(hook_receives_the_event_on_stdin);
	RUN(message_reaches_its_channels_sender_only);
	RUN(slow_hook_is_killed_after_its_timeout);
	RUN(failing_and_missing_hooks_are_reported);
	RUN(hook_that_ignores_stdin_does_not_hang_the_daemon);
	RUN(relative_program_path_is_refused);
	RUN(runner_reports_parse_within_their_bounds);
	RUN(runner_takes_events_and_reports_in_the_one_format);
	RUN(runner_stops_on_what_its_table_does_not_permit);
	RUN(daemon_kills_a_runner_that_breaks_the_protocol);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	msg_free(&pl);
	msg_free(&in);
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * The token process's channel, over a real SOCK_SEQPACKET socketpair in
 * both directions.  The real child (tokenproc_main, forked) answers each
 * request with the reply of its kind, numbered, in the one format, and
 * exits on whatever its table does not permit.  The daemon's side
 * (tokenproc_*), talking to this program re-executed as a token process
 * that lies, refuses a reply of another kind, replayed, over its bound or
 * with trailing bytes, reports the violation and carries on with a new
 * token process.  No security key is needed: the device name is one the
 * token process refuses at once, and its refusal is the reply.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/proto.h"
#include "daemon/tokenproc.h"
#include "tap.h"

#define NO_DEVICE	"not-a-device"	/* token_open(): TG_ERR_INVALID */

static const uint8_t cdh[TOKEN_CDH_LEN];
static const uint8_t id1[16] = { 1 }, id2[16] = { 2 };
static struct msg pl, in;

/* An assertion request's payload, for NO_DEVICE and nallow ids. */
static void
assert_request(uint32_t nallow)
{
	msg_init(&pl);
	msg_put_u32(&pl, 1000);
	msg_put_str(&pl, NO_DEVICE);
	msg_put_str(&pl, "tapgate.example");
	msg_put_bytes(&pl, cdh, sizeof(cdh));
	msg_put_u32(&pl, nallow);
	msg_put_str(&pl, "1234");
}

/* An identification request's payload, for NO_DEVICE and nallow ids. */
static void
identify_request(uint32_t nallow)
{
	msg_init(&pl);
	msg_put_u32(&pl, 1000);
	msg_put_str(&pl, NO_DEVICE);
	msg_put_str(&pl, "tapgate.example");
	msg_put_u32(&pl, nallow);
	msg_put_str(&pl, "1234");
}

/* A message as a broken peer writes it: any type and number, pl after. */
static void
raw(int fd, uint8_t type, uint32_t seq)
{
	uint8_t b[MSG_HDR_LEN + MSG_MAX];
	uint32_t v[2] = { seq, (uint32_t)pl.len };
	size_t i;

	b[0] = type;
	for (i = 0; i < 2; i++) {
		b[1 + 4 * i] = (uint8_t)(v[i] >> 24);
		b[2 + 4 * i] = (uint8_t)(v[i] >> 16);
		b[3 + 4 * i] = (uint8_t)(v[i] >> 8);
		b[4 + 4 * i] = (uint8_t)v[i];
	}
	if (pl.len > MSG_MAX)
		abort();
	if (pl.len > 0)
		memcpy(b + MSG_HDR_LEN, pl.buf, pl.len);
	if (send(fd, b, MSG_HDR_LEN + pl.len, MSG_NOSIGNAL) !=
	    (ssize_t)(MSG_HDR_LEN + pl.len))
		abort();
}

/* ---- the real child */

static pid_t
child_start(int *fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		abort();
	fflush(stdout);		/* the child exits through exit() */
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(tokenproc_main(sv[1], NULL));
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

/* The child's exit status, within ten seconds; -1 if it did not end. */
static int
child_end(pid_t pid)
{
	int i, st;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void
token_process_answers_in_the_one_format(void)
{
	struct token_assertion *a = NULL;
	struct msg_chan ch;
	uint8_t type;
	pid_t pid;
	int fd, i;

	pid = child_start(&fd);
	msg_chan_init(&ch, fd, &proto_token, MSG_MONITOR);
	for (i = 1; i <= 2; i++) {
		/* a list part, answered with its status */
		msg_init(&pl);
		msg_put_u32(&pl, 1);
		msg_put_bytes(&pl, id1, sizeof(id1));
		CHECK_EQ(msg_chan_send(&ch, PROTO_TOKEN_LIST, &pl, 0), 0);
		CHECK_EQ(msg_chan_recv(&ch, &type, &in), 0);
		CHECK_EQ(type, PROTO_TOKEN_LISTED);
		CHECK_EQ(msg_get_u32(&in), 0);
		CHECK_EQ(msg_end(&in), 0);
		/* the assertion it was for: the key's refusal, as its reply */
		assert_request(1);
		CHECK_EQ(msg_chan_send(&ch, PROTO_TOKEN_ASSERT, &pl, 0), 0);
		CHECK_EQ(msg_chan_recv(&ch, &type, &in), 0);
		CHECK_EQ(type, PROTO_TOKEN_ASSERTED);
		CHECK_EQ(ch.received, 2 * i);
		CHECK_EQ(tokenproc_assert_reply(&in, &a, NULL), TG_ERR_INVALID);
		CHECK(a == NULL);
		CHECK_EQ(msg_end(&in), 0);
	}
	close(fd);
	CHECK_EQ(child_end(pid), 0);
}

/*
 * The real child sent one message, then the daemon's end: its exit status
 * (0 when it took the message and ended at the close, 2 when it broke
 * off).
 */
static int
child_after(uint8_t type, uint32_t seq, int trailing, const char *what)
{
	pid_t pid;
	int fd, st;

	pid = child_start(&fd);
	if (type == PROTO_TOKEN_LIST) {
		msg_init(&pl);
		msg_put_u32(&pl, 0);	/* a list part of no ids */
	} else
		assert_request(0);
	if (trailing)
		msg_put_u8(&pl, 0);
	raw(fd, type, seq);
	shutdown(fd, SHUT_WR);	/* then the daemon's end */
	st = child_end(pid);
	close(fd);
	printf("# %s: the token process ended with status %d\n", what, st);
	return st;
}

/* The real child answers an identification with its kind of reply. */
static void
token_process_answers_an_identification(void)
{
	const uint8_t *id = NULL;
	struct msg_chan ch;
	uint8_t type;
	size_t len = 0;
	pid_t pid;
	int fd, left = 0;

	pid = child_start(&fd);
	msg_chan_init(&ch, fd, &proto_token, MSG_MONITOR);
	msg_init(&pl);
	msg_put_u32(&pl, 1);
	msg_put_bytes(&pl, id1, sizeof(id1));
	CHECK_EQ(msg_chan_send(&ch, PROTO_TOKEN_LIST, &pl, 0), 0);
	CHECK_EQ(msg_chan_recv(&ch, &type, &in), 0);
	CHECK_EQ(type, PROTO_TOKEN_LISTED);
	identify_request(1);
	CHECK_EQ(msg_chan_send(&ch, PROTO_TOKEN_IDENTIFY, &pl, 0), 0);
	CHECK_EQ(msg_chan_recv(&ch, &type, &in), 0);
	CHECK_EQ(type, PROTO_TOKEN_IDENTIFIED);
	CHECK_EQ(tokenproc_identify_reply(&in, &id, &len, &left),
	    TG_ERR_INVALID);
	CHECK_EQ(left, -1);
	CHECK_EQ(msg_end(&in), 0);
	close(fd);
	CHECK_EQ(child_end(pid), 0);
}

static void
token_process_exits_on_what_its_table_does_not_permit(void)
{
	pid_t pid;
	int fd;

	/* an identification of no credential at all */
	pid = child_start(&fd);
	identify_request(0);
	raw(fd, PROTO_TOKEN_IDENTIFY, 1);
	shutdown(fd, SHUT_WR);
	CHECK_EQ(child_end(pid), 2);
	close(fd);
	CHECK_EQ(child_after(PROTO_TOKEN_IDENTIFIED, 1, 0, "a reply to an "
	    "identification"), 2);
	CHECK_EQ(child_after(PROTO_TOKEN_ASSERTED, 1, 0, "a reply to it"), 2);
	CHECK_EQ(child_after(PROTO_HOOK_EVENT, 1, 0, "another channel's"), 2);
	CHECK_EQ(child_after(PROTO_TOKEN_ASSERT, 2, 0, "a skipped number"), 2);
	CHECK_EQ(child_after(PROTO_TOKEN_ASSERT, 1, 1, "trailing bytes"), 2);
	CHECK_EQ(child_after(PROTO_TOKEN_LIST, 1, 0, "an empty list part"), 2);
	/* the control: the same request, well formed, is answered */
	CHECK_EQ(child_after(PROTO_TOKEN_ASSERT, 1, 0, "well formed"), 0);
}

/* ---- the daemon's side, against a lying token process */

struct heard {
	pthread_mutex_t	lock;
	int		n;
	char		detail[256];
};

static void
heard_report(void *ctx, const char *event, const char *detail)
{
	struct heard *h = ctx;

	pthread_mutex_lock(&h->lock);
	if (strcmp(event, "privsep.violation") == 0) {
		h->n++;
		snprintf(h->detail, sizeof(h->detail), "%s", detail);
	}
	pthread_mutex_unlock(&h->lock);
}

/*
 * This program as the token process: with TG_TEST_TOKEN_LIE, a child
 * that takes requests as the real one does and lies in its replies as
 * the variable says; without it, the real token process.
 */
/*
 * The lies told with whole, well-numbered replies (list parts answered
 * as the real child does): a credential that was not on the list
 * ("stranger"), PIN errors with the attempts left ("pin": 5,
 * "pin-unknown") and one without them ("pin-short").  0, or -1 for a
 * lie of another kind.
 */
static int
lie_in_a_reply(int fd, const char *how, uint8_t type)
{
	static uint32_t seq;

	if (strcmp(how, "stranger") != 0 && strncmp(how, "pin", 3) != 0)
		return -1;
	msg_init(&pl);
	if (type == PROTO_TOKEN_LIST)
		msg_put_u32(&pl, 0);
	else if (strcmp(how, "stranger") == 0) {
		msg_put_u32(&pl, 0);
		msg_put_bytes(&pl, id2, sizeof(id2));
	} else if (strcmp(how, "pin") == 0) {
		msg_put_u32(&pl, (uint32_t)TG_ERR_PIN_INVALID);
		msg_put_u8(&pl, 5);
	} else if (strcmp(how, "pin-unknown") == 0) {
		msg_put_u32(&pl, (uint32_t)TG_ERR_PIN_AUTH_BLOCKED);
		msg_put_u8(&pl, PROTO_TOKEN_RETRIES_UNKNOWN);
	} else
		msg_put_u32(&pl, (uint32_t)TG_ERR_PIN_INVALID);
	raw(fd, type + 1, ++seq);	/* the reply's type */
	return 0;
}

static int
lying_child(int fd)
{
	const char *how = getenv("TG_TEST_TOKEN_LIE");
	struct msg_chan ch;
	uint8_t type;

	if (how == NULL)
		return tokenproc_main(fd, NULL);
	msg_chan_init(&ch, fd, &proto_token, MSG_CHILD);
	while (msg_chan_recv(&ch, &type, &in) == 0) {
		if (lie_in_a_reply(fd, how, type) == 0) {
			ch.state = PROTO_TOKEN_IDLE;
			continue;
		}
		msg_init(&pl);
		msg_put_u32(&pl, (uint32_t)TG_ERR_INVALID);
		if (strcmp(how, "kind") == 0)
			raw(fd, PROTO_TOKEN_ENROLLED, 1);
		else if (strcmp(how, "replay") == 0)
			raw(fd, type + 1, 1);	/* the reply's type */
		else if (strcmp(how, "size") == 0) {
			msg_put_u32(&pl, 0);
			raw(fd, PROTO_TOKEN_LISTED, 1);
		} else if (strcmp(how, "trailing") == 0) {
			msg_put_u8(&pl, 0);
			raw(fd, PROTO_TOKEN_ASSERTED, 1);
		} else if (strcmp(how, "nomem") == 0) {
			/* the status a daemon short of memory would have */
			msg_init(&pl);
			msg_put_u32(&pl, (uint32_t)TG_ERR_NOMEM);
			msg_put_u8(&pl, 0);
			raw(fd, PROTO_TOKEN_ASSERTED, 1);
		} else
			return 1;
		/* as if it had sent a reply: the next request is taken */
		ch.state = PROTO_TOKEN_IDLE;
	}
	return 0;
}

static struct tokenproc *
tp_start(const char *lie, struct heard *h)
{
	struct tokenproc *tp = NULL;

	h->n = 0;
	h->detail[0] = '\0';
	if (lie != NULL)
		setenv("TG_TEST_TOKEN_LIE", lie, 1);
	if (tokenproc_start("/proc/self/exe", 5000, NULL, heard_report, h,
	    &tp) != 0)
		abort();
	unsetenv("TG_TEST_TOKEN_LIE");
	return tp;
}

static int
assert_on(struct tokenproc *tp, size_t nallow)
{
	struct token_cred_id ids[1] = { { id1, sizeof(id1) } };
	struct token_assert_req req;
	struct token_assertion *a = NULL;
	int r;

	memset(&req, 0, sizeof(req));
	req.rp_id = "tapgate.example";
	req.client_data_hash = cdh;
	req.allow = ids;
	req.nallow = nallow;
	req.pin = "1234";
	r = tokenproc_assert(tp, NO_DEVICE, &req, &a, NULL);
	token_assertion_free(&a);
	return r;
}

/* An assertion or (identify) an identification of id1; *left its count. */
static int
ask(struct tokenproc *tp, int identify, int *left)
{
	struct token_cred_id ids[1] = { { id1, sizeof(id1) } };
	struct token_assert_req req;
	struct token_assertion *a = NULL;
	uint8_t *id = NULL;
	size_t len = 0;
	int r;

	memset(&req, 0, sizeof(req));
	req.rp_id = "tapgate.example";
	req.client_data_hash = cdh;
	req.allow = ids;
	req.nallow = 1;
	req.pin = "1234";
	if (identify)
		r = tokenproc_identify(tp, NO_DEVICE, &req, &id, &len, left);
	else
		r = tokenproc_assert(tp, NO_DEVICE, &req, &a, left);
	token_assertion_free(&a);
	free(id);
	return r;
}

/*
 * A token process lying as lie does: the daemon refuses, reports why
 * (want), and the next call reaches a new, real token process.
 */
static void
refused_and_replaced(const char *lie, size_t nallow, int calls,
    const char *want)
{
	static struct heard h = { PTHREAD_MUTEX_INITIALIZER, 0, "" };
	struct tokenproc *tp = tp_start(lie, &h);
	int i, r = 0, after, heard;

	for (i = 0; i < calls; i++)
		r = assert_on(tp, nallow);
	after = assert_on(tp, nallow);
	tokenproc_stop(&tp);
	/* the report came on this thread, before tokenproc_assert returned */
	heard = h.n == 1 && strstr(h.detail, want) != NULL;
	if (!heard)
		printf("# %s: heard %d: \"%s\"\n", lie, h.n, h.detail);
	CHECK_EQ(r, TG_ERR_PROTOCOL);
	CHECK(heard);
	CHECK_EQ(after, TG_ERR_INVALID);
}

static void
daemon_refuses_a_reply_of_another_kind(void)
{
	refused_and_replaced("kind", 0, 1, "enrolment reply from the token "
	    "process is not permitted while the channel is asserting");
}

static void
daemon_refuses_a_replayed_reply(void)
{
	/* the first reply is numbered right; the second is numbered 1 too */
	refused_and_replaced("replay", 0, 2, "assertion reply numbered 1 "
	    "after 1: replayed");
}

static void
daemon_refuses_a_reply_over_its_bound(void)
{
	refused_and_replaced("size", 1, 1, "list reply of 8 bytes (at most "
	    "4)");
}

static void
daemon_refuses_a_reply_with_trailing_bytes(void)
{
	refused_and_replaced("trailing", 0, 1, "malformed assertion reply");
}

static void
daemon_hears_an_honest_token_process_out(void)
{
	static struct heard h = { PTHREAD_MUTEX_INITIALIZER, 0, "" };
	struct tokenproc *tp = tp_start(NULL, &h);
	int r1, r2;

	/* the control: the real child's refusal, and no violation */
	r1 = assert_on(tp, 1);
	r2 = assert_on(tp, 0);
	tokenproc_stop(&tp);
	CHECK_EQ(r1, TG_ERR_INVALID);
	CHECK_EQ(r2, TG_ERR_INVALID);
	CHECK_EQ(h.n, 0);
}

static void
daemon_reads_a_reply_whole_whatever_its_status(void)
{
	/* a status of TG_ERR_NOMEM once let trailing bytes through */
	refused_and_replaced("nomem", 0, 1, "malformed assertion reply");
}

static void
daemon_refuses_an_identified_credential_not_on_the_list(void)
{
	static struct heard h = { PTHREAD_MUTEX_INITIALIZER, 0, "" };
	struct tokenproc *tp = tp_start("stranger", &h);
	int r, after, left = 0;

	r = ask(tp, 1, &left);
	after = ask(tp, 1, NULL);
	tokenproc_stop(&tp);
	if (h.n != 1)
		printf("# heard %d: \"%s\"\n", h.n, h.detail);
	CHECK_EQ(r, TG_ERR_PROTOCOL);
	CHECK_EQ(left, -1);
	CHECK(h.n == 1 && strstr(h.detail, "identified a credential not on "
	    "the list") != NULL);
	/* the control: a real token process answers the same question */
	CHECK_EQ(after, TG_ERR_INVALID);
}

static void
daemon_takes_the_attempts_left_with_a_pin_error(void)
{
	static struct heard h = { PTHREAD_MUTEX_INITIALIZER, 0, "" };
	struct tokenproc *tp = tp_start("pin", &h);
	int r1, r2, left1 = 0, left2 = 0, heard;

	r1 = ask(tp, 0, &left1);
	r2 = ask(tp, 1, &left2);
	tokenproc_stop(&tp);
	heard = h.n;
	CHECK_EQ(r1, TG_ERR_PIN_INVALID);
	CHECK_EQ(left1, 5);
	CHECK_EQ(r2, TG_ERR_PIN_INVALID);
	CHECK_EQ(left2, 5);
	CHECK_EQ(heard, 0);
	/* a key that did not say: no count */
	tp = tp_start("pin-unknown", &h);
	r1 = ask(tp, 1, &left1);
	tokenproc_stop(&tp);
	CHECK_EQ(r1, TG_ERR_PIN_AUTH_BLOCKED);
	CHECK_EQ(left1, -1);
	CHECK_EQ(h.n, 0);
}

static void
daemon_refuses_a_pin_error_without_its_count(void)
{
	static struct heard h = { PTHREAD_MUTEX_INITIALIZER, 0, "" };
	struct tokenproc *tp = tp_start("pin-short", &h);
	int r, left = 0;

	r = ask(tp, 0, &left);
	tokenproc_stop(&tp);
	CHECK_EQ(r, TG_ERR_PROTOCOL);
	CHECK_EQ(left, -1);
	CHECK(h.n == 1 && strstr(h.detail, "malformed assertion reply") !=
	    NULL);
}

int
main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], TOKENPROC_ARG) == 0)
		return lying_child(atoi(argv[2]));
	RUN(token_process_answers_in_the_one_format);
	RUN(token_process_exits_on_what_its_table_does_not_permit);
	RUN(daemon_hears_an_honest_token_process_out);
	RUN(daemon_refuses_a_reply_of_another_kind);
	RUN(daemon_refuses_a_replayed_reply);
	RUN(daemon_refuses_a_reply_over_its_bound);
	RUN(daemon_refuses_a_reply_with_trailing_bytes);
	RUN(daemon_reads_a_reply_whole_whatever_its_status);
	RUN(token_process_answers_an_identification);
	RUN(daemon_refuses_an_identified_credential_not_on_the_list);
	RUN(daemon_takes_the_attempts_left_with_a_pin_error);
	RUN(daemon_refuses_a_pin_error_without_its_count);
	msg_free(&pl);
	msg_free(&in);
	TAP_EXIT();
}

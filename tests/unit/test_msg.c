/* SPDX-License-Identifier: ISC */
/*
 * The one message format between tapgate's processes: the typed payload
 * readers and writers, then channels over real socketpairs of both kinds
 * the children use (SOCK_STREAM and SOCK_SEQPACKET), in both directions:
 * what a table permits crosses whole; an unknown type, a type from the
 * wrong side or in the wrong state, a replayed or skipped number, a
 * payload over its type's bound, a message cut short or longer than its
 * header says, and trailing bytes are each refused with a message naming
 * the fault, after which the channel stays dead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "tap.h"

static struct msg m, r;

static void
message_round_trips_every_type(void)
{
	const uint8_t *p;
	char s[16];

	msg_init(&m);
	msg_put_u8(&m, 7);
	msg_put_u32(&m, 0xdeadbeef);
	msg_put_bytes(&m, "abc", 3);
	msg_put_str(&m, "pin");
	msg_put_str(&m, NULL);
	CHECK_EQ(m.bad, 0);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	CHECK_EQ(msg_get_u8(&r), 7);
	CHECK_EQ(msg_get_u32(&r), 0xdeadbeef);
	CHECK_EQ(msg_get_bytes(&r, &p, 16), 3);
	CHECK(memcmp(p, "abc", 3) == 0);
	msg_get_str(&r, s, sizeof(s));
	CHECK(strcmp(s, "pin") == 0);
	msg_get_str(&r, s, sizeof(s));
	CHECK(strcmp(s, "") == 0);
	CHECK_EQ(msg_end(&r), 0);
}

static void
trailing_bytes_are_a_protocol_error(void)
{
	msg_init(&m);
	msg_put_u32(&m, 1);
	msg_put_u8(&m, 0);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	(void)msg_get_u32(&r);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
short_message_is_a_protocol_error(void)
{
	const uint8_t *p;

	msg_init(&m);
	msg_put_u32(&m, 100);	/* announces 100 bytes, carries 2 */
	msg_put_u8(&m, 1);
	msg_put_u8(&m, 2);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	CHECK_EQ(msg_get_bytes(&r, &p, 1000), 0);
	CHECK(p == NULL);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
	/* and nothing can be read from an empty message */
	CHECK_EQ(msg_load(&r, "", 0), 0);
	CHECK_EQ(msg_get_u8(&r), 0);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
byte_string_over_its_bound_is_refused(void)
{
	const uint8_t *p;

	msg_init(&m);
	msg_put_bytes(&m, "0123456789", 10);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	CHECK_EQ(msg_get_bytes(&r, &p, 9), 0);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
string_with_a_nul_is_refused(void)
{
	char s[16];

	msg_init(&m);
	msg_put_bytes(&m, "a\0b", 3);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	msg_get_str(&r, s, sizeof(s));
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
writer_overflow_marks_the_message_bad(void)
{
	static uint8_t big[MSG_MAX];

	msg_init(&m);
	msg_put_bytes(&m, big, sizeof(big));	/* 4 + MSG_MAX: too much */
	CHECK_EQ(m.bad, 1);
	CHECK_EQ(m.nomem, 0);
	CHECK(m.len <= MSG_MAX);
	CHECK_EQ(msg_load(&r, big, MSG_MAX + 1), TG_ERR_TOO_LONG);
	/* a writer's own bound, above or below the default */
	msg_init_max(&m, 4 + MSG_MAX);
	msg_put_bytes(&m, big, sizeof(big));
	CHECK_EQ(m.bad, 0);
	CHECK_EQ(m.len, 4 + MSG_MAX);
	msg_init_max(&m, 3);
	msg_put_u32(&m, 1);
	CHECK_EQ(m.bad, 1);
}

static void
message_grows_and_keeps_what_it_holds(void)
{
	struct msg g = { 0 };
	uint32_t i;
	int ok = 1;

	/* from nothing to well past the first allocation */
	msg_init_max(&g, 1 << 20);
	for (i = 0; i < 50000; i++)
		msg_put_u32(&g, i);
	CHECK_EQ(g.bad, 0);
	CHECK_EQ(g.len, 200000);
	CHECK(g.cap >= g.len);
	g.off = 0;
	for (i = 0; i < 50000; i++)
		ok &= msg_get_u32(&g) == i;
	CHECK(ok);
	CHECK_EQ(msg_end(&g), 0);
	msg_free(&g);
	CHECK(g.frame == NULL && g.buf == NULL && g.cap == 0);
}

static void
wipe_clears_the_buffer(void)
{
	size_t i;

	msg_init(&m);
	msg_put_str(&m, "482913");
	msg_wipe(&m);
	CHECK_EQ(m.len, 0);
	for (i = 0; i < 16; i++)
		CHECK_EQ(m.buf[i], 0);
}

/* ---- channels */

enum { T_ASK = 1, T_ANSWER = 2, T_NOTE = 3 };
enum { S_IDLE, S_BUSY };

#define ASK_MAX		64
#define ANSWER_MAX	8
#define NOTE_MAX	100000

static const char *const states[] = { "idle", "busy" };

/*
 * A small protocol of the kind the children speak: the child asks while
 * the channel is idle, the monitor answers; the monitor may also leave
 * a note while idle (large: beyond one default socket buffer).
 */
static const struct msg_rule rules[] = {
	{ T_ASK, MSG_CHILD, S_IDLE, S_BUSY, ASK_MAX, "question" },
	{ T_ANSWER, MSG_MONITOR, S_BUSY, S_IDLE, ANSWER_MAX, "answer" },
	{ T_NOTE, MSG_MONITOR, S_IDLE, S_IDLE, NOTE_MAX, "note" },
};

static const struct msg_proto stream_proto = {
	"tester", SOCK_STREAM, rules, 3, states, 2,
};
static const struct msg_proto packet_proto = {
	"tester", SOCK_SEQPACKET, rules, 3, states, 2,
};

static const struct msg_proto *proto;	/* the one under test */
static struct msg_chan mon, kid;	/* the monitor's end, the child's */
static int sv[2] = { -1, -1 };
static struct msg out, in;

static void
unpair(void)
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

static void
pair(void)
{
	unpair();
	if (socketpair(AF_UNIX, proto->sock_type, 0, sv) != 0) {
		perror("socketpair");
		exit(1);
	}
	msg_chan_init(&mon, sv[0], proto, MSG_MONITOR);
	msg_chan_init(&kid, sv[1], proto, MSG_CHILD);
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0)
			exit(1);
		p += w;
		n -= (size_t)w;
	}
}

/*
 * A message as a broken or hostile peer writes it: any type, number and
 * announced length, with body bytes after (one datagram on SEQPACKET).
 */
static void
raw(int fd, uint8_t type, uint32_t seq, uint32_t len, const void *body,
    size_t n)
{
	static uint8_t b[MSG_HDR_LEN + NOTE_MAX + 64];
	uint32_t v[2] = { seq, len };
	size_t i;

	b[0] = type;
	for (i = 0; i < 2; i++) {
		b[1 + 4 * i] = (uint8_t)(v[i] >> 24);
		b[2 + 4 * i] = (uint8_t)(v[i] >> 16);
		b[3 + 4 * i] = (uint8_t)(v[i] >> 8);
		b[4 + 4 * i] = (uint8_t)v[i];
	}
	if (n > sizeof(b) - MSG_HDR_LEN)
		exit(1);
	if (n > 0)
		memcpy(b + MSG_HDR_LEN, body, n);
	if (proto->sock_type == SOCK_SEQPACKET) {
		if (send(fd, b, MSG_HDR_LEN + n, 0) != (ssize_t)(MSG_HDR_LEN +
		    n))
			exit(1);
	} else
		write_all(fd, b, MSG_HDR_LEN + n);
}

/* Receive on ch and expect a refusal naming why; the channel is dead. */
static int
refused(struct msg_chan *ch, const char *why)
{
	uint8_t type = 0;
	int rc;

	rc = msg_chan_recv(ch, &type, &in);
	if (rc != TG_ERR_PROTOCOL || strstr(ch->err, why) == NULL) {
		printf("# %s: %s: got %d \"%s\", wanted \"%s\"\n",
		    proto->sock_type == SOCK_STREAM ? "stream" : "seqpacket",
		    ch == &mon ? "monitor" : "child", rc, ch->err, why);
		return 0;
	}
	/* dead: the next call fails without reading (nor waiting) */
	if (fcntl(ch->fd, F_SETFL, O_NONBLOCK) != 0)
		exit(1);
	return ch->dead && msg_chan_recv(ch, &type, &in) == TG_ERR_PROTOCOL;
}

static int
ask(const char *text)
{
	msg_init(&out);
	msg_put_str(&out, text);
	return msg_chan_send(&kid, T_ASK, &out, 0);
}

static int
answer(uint32_t v)
{
	msg_init(&out);
	msg_put_u32(&out, v);
	return msg_chan_send(&mon, T_ANSWER, &out, 0);
}

static void
permitted_messages_cross_whole_both_ways(void)
{
	char s[ASK_MAX];
	uint8_t type;
	int i;

	pair();
	for (i = 1; i <= 3; i++) {
		CHECK_EQ(ask("what time is it"), 0);
		CHECK_EQ(kid.state, S_BUSY);
		CHECK_EQ(msg_chan_recv(&mon, &type, &in), 0);
		CHECK_EQ(type, T_ASK);
		CHECK_EQ(mon.received, i);
		CHECK_EQ(mon.state, S_BUSY);
		msg_get_str(&in, s, sizeof(s));
		CHECK_EQ(msg_chan_end(&mon, &in, "question"), 0);
		CHECK(strcmp(s, "what time is it") == 0);
		CHECK_EQ(answer(1000 + (uint32_t)i), 0);
		CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
		CHECK_EQ(type, T_ANSWER);
		CHECK_EQ(msg_get_u32(&in), 1000 + (uint32_t)i);
		CHECK_EQ(msg_end(&in), 0);
		CHECK_EQ(kid.received, i);
		CHECK(kid.state == S_IDLE && mon.state == S_IDLE);
	}
	/* an empty payload is a message too */
	msg_init(&out);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, 0), 0);
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	CHECK(type == T_NOTE && in.len == 0 && msg_end(&in) == 0);
	/* the peer closing between messages is an end, not a fault */
	close(sv[0]);
	sv[0] = -1;
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), TG_ERR_CLOSED);
}

static void
unknown_type_is_refused(void)
{
	pair();
	raw(sv[1], 99, 1, 0, NULL, 0);
	CHECK(refused(&mon, "message type 99 is not one of the tester"));
	pair();
	raw(sv[0], 0, 1, 0, NULL, 0);
	CHECK(refused(&kid, "message type 0 is not one of"));
}

static void
type_from_the_wrong_side_is_refused(void)
{
	pair();
	raw(sv[1], T_NOTE, 1, 0, NULL, 0);	/* the child poses as monitor */
	CHECK(refused(&mon, "note from the tester is not permitted"));
	pair();
	raw(sv[0], T_ASK, 1, 0, NULL, 0);
	CHECK(refused(&kid, "question from the monitor is not permitted"));
}

static void
message_out_of_order_is_refused(void)
{
	uint8_t type;

	/* a second question before the answer */
	pair();
	raw(sv[1], T_ASK, 1, 0, NULL, 0);
	raw(sv[1], T_ASK, 2, 0, NULL, 0);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), 0);
	CHECK(refused(&mon, "question from the tester is not permitted "
	    "while the channel is busy"));
	/* an answer nobody asked for */
	pair();
	raw(sv[0], T_ANSWER, 1, 0, NULL, 0);
	CHECK(refused(&kid, "answer from the monitor is not permitted while "
	    "the channel is idle"));
	/* a note where an answer is due */
	pair();
	CHECK_EQ(ask("?"), 0);
	raw(sv[0], T_NOTE, 1, 0, NULL, 0);
	CHECK(refused(&kid, "note from the monitor is not permitted while "
	    "the channel is busy"));
}

static void
own_message_out_of_order_is_not_sent(void)
{
	uint8_t type;

	pair();
	/* refused here, nothing crosses, and the channel lives on */
	CHECK_EQ(answer(1), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "answer from the monitor is not permitted "
	    "while the channel is idle") != NULL);
	CHECK_EQ(ask("a"), 0);
	CHECK_EQ(ask("b"), TG_ERR_PROTOCOL);
	CHECK(strstr(kid.err, "while the channel is busy") != NULL);
	msg_init(&out);
	CHECK_EQ(msg_chan_send(&kid, T_NOTE, &out, 0), TG_ERR_PROTOCOL);
	CHECK(!mon.dead && !kid.dead);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), 0);
	CHECK_EQ(type, T_ASK);
	CHECK_EQ(mon.received, 1);
	CHECK_EQ(answer(7), 0);
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	CHECK_EQ(kid.received, 1);
}

static void
replayed_or_skipped_number_is_refused(void)
{
	uint8_t type;

	/* replayed: the child's first question again */
	pair();
	raw(sv[1], T_ASK, 1, 0, NULL, 0);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), 0);
	CHECK_EQ(answer(0), 0);
	raw(sv[1], T_ASK, 1, 0, NULL, 0);
	CHECK(refused(&mon, "question numbered 1 after 1: replayed or "
	    "skipped"));
	/* skipped */
	pair();
	raw(sv[1], T_ASK, 2, 0, NULL, 0);
	CHECK(refused(&mon, "question numbered 2 after 0"));
	/* and the other way */
	pair();
	raw(sv[0], T_NOTE, 1, 0, NULL, 0);
	raw(sv[0], T_NOTE, 1, 0, NULL, 0);
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	CHECK(refused(&kid, "note numbered 1 after 1"));
	pair();
	raw(sv[0], T_NOTE, 0, 0, NULL, 0);
	CHECK(refused(&kid, "note numbered 0 after 0"));
}

static void
payload_over_its_types_bound_is_refused(void)
{
	static uint8_t body[NOTE_MAX + 1];
	uint8_t type;

	/* at the bound it crosses, one byte over it does not */
	pair();
	raw(sv[1], T_ASK, 1, ASK_MAX, body, ASK_MAX);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), 0);
	CHECK_EQ(in.len, ASK_MAX);
	pair();
	raw(sv[1], T_ASK, 1, ASK_MAX + 1, body, ASK_MAX + 1);
	CHECK(refused(&mon, "question of 65 bytes (at most 64)"));
	/* a bound per type: 9 bytes are too many for an answer alone */
	pair();
	CHECK_EQ(ask("?"), 0);
	raw(sv[0], T_ANSWER, 1, ANSWER_MAX + 1, body, ANSWER_MAX + 1);
	CHECK(refused(&kid, "answer of 9 bytes (at most 8)"));
	/* a large type crosses at its bound */
	pair();
	msg_init_max(&out, NOTE_MAX);
	msg_put_bytes(&out, body, NOTE_MAX - 4);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, 0), 0);
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	CHECK_EQ(in.len, NOTE_MAX);
	/* the sender does not send its own message over the bound */
	pair();
	msg_init_max(&out, NOTE_MAX + 1);
	msg_put_bytes(&out, body, NOTE_MAX - 3);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, 0), TG_ERR_TOO_LONG);
	CHECK(strstr(mon.err, "note of 100001 bytes (at most 100000)"));
	CHECK_EQ(mon.sent, 0);
	CHECK(!mon.dead);
	msg_init(&out);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, 0), 0);
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	CHECK_EQ(kid.received, 1);
}

static void
message_cut_short_or_with_trailing_bytes_is_refused(void)
{
	uint8_t type;

	if (proto->sock_type == SOCK_SEQPACKET) {
		/* the datagram is the message, as long as its header says */
		pair();
		raw(sv[1], T_ASK, 1, 10, "0123456789ab", 12);
		CHECK(refused(&mon, "question of 12 bytes where its header "
		    "says 10"));
		pair();
		raw(sv[1], T_ASK, 1, 10, "01234", 5);
		CHECK(refused(&mon, "question of 5 bytes where its header "
		    "says 10"));
		pair();
		if (send(sv[1], "\001\000\000\000", 4, 0) != 4)
			exit(1);
		CHECK(refused(&mon, "a message of 4 bytes, short of a header"));
		pair();
		raw(sv[0], T_NOTE, 1, 1, "xy", 2);
		CHECK(refused(&kid, "note of 2 bytes where its header says 1"));
	} else {
		/* a stream ends inside a message: cut short */
		pair();
		raw(sv[1], T_ASK, 1, 10, "01234", 5);
		shutdown(sv[1], SHUT_WR);
		CHECK_EQ(msg_chan_recv(&mon, &type, &in), TG_ERR_IO);
		CHECK(mon.dead);
		pair();
		write_all(sv[1], (const uint8_t *)"\001\000", 2);
		shutdown(sv[1], SHUT_WR);
		CHECK_EQ(msg_chan_recv(&mon, &type, &in), TG_ERR_IO);
	}
	/* the payload's own decoder refuses bytes it did not read */
	pair();
	raw(sv[1], T_ASK, 1, 5, "\000\000\000\000!", 5);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), 0);
	CHECK_EQ(msg_get_u32(&in), 0);
	CHECK_EQ(msg_chan_end(&mon, &in, "question"), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "malformed question") != NULL);
	CHECK(mon.dead);
}

static void
datagram_over_every_bound_is_refused(void)
{
	static uint8_t big[NOTE_MAX + 1024];

	pair();
	/* more than any type the monitor may send; its header says less */
	if (send(sv[0], big, sizeof(big), 0) != (ssize_t)sizeof(big))
		exit(1);
	CHECK(refused(&kid, "a datagram of 101024 bytes, over every bound"));
}

static void
dead_channel_sends_and_reads_nothing(void)
{
	uint8_t type;

	pair();
	raw(sv[1], 42, 1, 0, NULL, 0);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), TG_ERR_PROTOCOL);
	raw(sv[1], T_ASK, 2, 0, NULL, 0);	/* waiting, unread */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0)
		exit(1);
	msg_init(&out);
	msg_put_u32(&out, 1);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, 0), TG_ERR_PROTOCOL);
	CHECK_EQ(msg_chan_recv(&mon, &type, &in), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "message type 42") != NULL);
}

static void
nowait_on_a_stream_is_refused(void)
{
	/* a partial write would leave half a message on the stream */
	pair();
	msg_init(&out);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, MSG_CHAN_NOWAIT),
	    TG_ERR_INVALID);
	CHECK_EQ(mon.sent, 0);
}

static void
full_socket_with_nowait_sends_nothing(void)
{
	static uint8_t body[ASK_MAX];
	uint8_t type;
	int n = 0, rc;

	pair();
	msg_init(&out);
	msg_put_bytes(&out, body, sizeof(body) - 4);
	while ((rc = msg_chan_send(&mon, T_NOTE, &out, MSG_CHAN_NOWAIT)) == 0)
		if (++n > 1000000)
			break;
	CHECK_EQ(rc, TG_ERR_BUSY);
	CHECK(n > 0);
	CHECK_EQ(mon.sent, (uint32_t)n);
	CHECK(!mon.dead);
	/* nothing was lost from the numbering: every note reads in order */
	while (n-- > 0)
		CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	msg_init(&out);
	CHECK_EQ(msg_chan_send(&mon, T_NOTE, &out, MSG_CHAN_NOWAIT), 0);
	CHECK_EQ(msg_chan_recv(&kid, &type, &in), 0);
	CHECK_EQ(kid.received, mon.sent);
}

static void
parser_in_memory_checks_as_a_socket_does(void)
{
	static const uint8_t ok[] = { T_ASK, 0, 0, 0, 1, 0, 0, 0, 2, 'h',
	    'i' };
	uint8_t type;

	msg_chan_init(&mon, -1, proto, MSG_MONITOR);
	CHECK_EQ(msg_chan_parse(&mon, ok, sizeof(ok), &type, &in), 0);
	CHECK(type == T_ASK && in.len == 2 && memcmp(in.buf, "hi", 2) == 0);
	CHECK_EQ(mon.state, S_BUSY);
	/* the same message again: out of order, and numbered 1 again */
	CHECK_EQ(msg_chan_parse(&mon, ok, sizeof(ok), &type, &in),
	    TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "while the channel is busy") != NULL);
	msg_chan_init(&mon, -1, proto, MSG_MONITOR);
	CHECK_EQ(msg_chan_parse(&mon, ok, sizeof(ok) - 1, &type, &in),
	    TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "of 1 bytes where its header says 2") != NULL);
}

/* RUN, with the socket type in the test's name */
#define RUN_ON(fn, kind) do {						\
	tap_failed = 0;							\
	fn();								\
	printf("%s %s_%s\n", tap_failed ? "not ok" : "ok", #fn, kind);	\
	fflush(stdout);							\
	tap_total_failed += tap_failed != 0;				\
} while (0)

static void
run_channel_tests(const struct msg_proto *p)
{
	const char *k = p->sock_type == SOCK_STREAM ? "stream" : "seqpacket";

	proto = p;
	RUN_ON(permitted_messages_cross_whole_both_ways, k);
	RUN_ON(unknown_type_is_refused, k);
	RUN_ON(type_from_the_wrong_side_is_refused, k);
	RUN_ON(message_out_of_order_is_refused, k);
	RUN_ON(own_message_out_of_order_is_not_sent, k);
	RUN_ON(replayed_or_skipped_number_is_refused, k);
	RUN_ON(payload_over_its_types_bound_is_refused, k);
	RUN_ON(message_cut_short_or_with_trailing_bytes_is_refused, k);
	RUN_ON(dead_channel_sends_and_reads_nothing, k);
	RUN_ON(parser_in_memory_checks_as_a_socket_does, k);
	if (p->sock_type == SOCK_SEQPACKET) {
		RUN_ON(datagram_over_every_bound_is_refused, k);
		RUN_ON(full_socket_with_nowait_sends_nothing, k);
	} else
		RUN_ON(nowait_on_a_stream_is_refused, k);
	unpair();
}

int
main(void)
{
	RUN(message_round_trips_every_type);
	RUN(trailing_bytes_are_a_protocol_error);
	RUN(short_message_is_a_protocol_error);
	RUN(byte_string_over_its_bound_is_refused);
	RUN(string_with_a_nul_is_refused);
	RUN(writer_overflow_marks_the_message_bad);
	RUN(message_grows_and_keeps_what_it_holds);
	RUN(wipe_clears_the_buffer);
	run_channel_tests(&stream_proto);
	run_channel_tests(&packet_proto);
	msg_free(&m);
	msg_free(&r);
	msg_free(&out);
	msg_free(&in);
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * The cost of the one message format (common/msg.h) on a round trip
 * between two threads, against a raw write and read of the same bytes on
 * the same kind of socketpair, measured in the same run:
 *
 * - the front's channel (SOCK_STREAM): fc_send_request, fc_recv_request,
 *   fc_send_reply, fc_recv_reply, for a small API request and a 1 KiB
 *   JSON answer;
 * - the token process's channel (SOCK_SEQPACKET): a list part of one
 *   credential id and its reply, through msg_chan_send and msg_chan_recv.
 *
 * The ratio says what the header, the table, the numbering and the
 * typed payload cost on top of the system calls; absolute times on a
 * shared machine mean little.  Rounds alternate between the two.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"
#include "daemon/proto.h"
#include "token/token.h"

#define ROUNDS		5
#define TRIPS		20000

static int	 sv[2];
static size_t	 ask_bytes, answer_bytes;	/* on the wire, each way */
static char	 answer[1024 + 1];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fail(const char *what)
{
	fprintf(stderr, "bench_msg: %s\n", what);
	exit(1);
}

static void
pair(int type)
{
	if (socketpair(AF_UNIX, type, 0, sv) != 0)
		fail("socketpair");
}

static void
unpair(void)
{
	close(sv[0]);
	close(sv[1]);
}

static void
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = read(fd, p, n)) <= 0)
			fail("read");
		p += r;
		n -= (size_t)r;
	}
}

static void
write_full(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0)
			fail("write");
		p += w;
		n -= (size_t)w;
	}
}

/* ---- raw: the same bytes each way, no format */

static void *
raw_peer(void *arg)
{
	static uint8_t b[65536];
	int i, dgram = *(int *)arg;

	for (i = 0; i < TRIPS; i++) {
		if (dgram) {
			if (recv(sv[1], b, sizeof(b), 0) !=
			    (ssize_t)ask_bytes || send(sv[1], b, answer_bytes,
			    0) != (ssize_t)answer_bytes)
				fail("raw datagram");
		} else {
			read_full(sv[1], b, ask_bytes);
			write_full(sv[1], b, answer_bytes);
		}
	}
	return NULL;
}

static double
raw_trips(int type)
{
	static uint8_t b[65536];
	pthread_t th;
	double t0;
	int i, dgram = type == SOCK_SEQPACKET;

	pair(type);
	if (pthread_create(&th, NULL, raw_peer, &dgram) != 0)
		fail("thread");
	t0 = now_s();
	for (i = 0; i < TRIPS; i++) {
		if (dgram) {
			if (send(sv[0], b, ask_bytes, 0) !=
			    (ssize_t)ask_bytes || recv(sv[0], b, sizeof(b),
			    0) != (ssize_t)answer_bytes)
				fail("raw datagram");
		} else {
			write_full(sv[0], b, ask_bytes);
			read_full(sv[0], b, answer_bytes);
		}
	}
	t0 = now_s() - t0;
	pthread_join(th, NULL);
	unpair();
	return t0 / TRIPS;
}

/* ---- the front's channel */

static struct http_request
request(void)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/v1/requests/r-1/veto";
	req.peer.uid = 1000;
	req.peer.gid = 1000;
	req.peer.pid = 4242;
	req.content_type = "application/json";
	req.body = "{\"reason\":\"the caller could not say the account's "
	    "manager\"}";
	req.body_len = strlen(req.body);
	return req;
}

static void *
front_monitor(void *arg)
{
	struct http_response res;
	struct fc_request rq;
	struct msg_chan mon;
	int i;

	(void)arg;
	fc_chan_init(&mon, sv[1], MSG_MONITOR);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = answer;
	res.content_type = "application/json";
	for (i = 0; i < TRIPS; i++) {
		if (fc_recv_request(&mon, FC_MAX_BODY, &rq) != 0 ||
		    fc_send_reply(&mon, &res) != 0)
			fail("the monitor's end");
		fc_request_clear(&rq);
	}
	return NULL;
}

static double
front_trips(void)
{
	struct http_request req = request();
	struct fc_reply rep;
	struct msg_chan front;
	pthread_t th;
	double t0;
	int i;

	pair(SOCK_STREAM);
	fc_chan_init(&front, sv[0], MSG_CHILD);
	if (pthread_create(&th, NULL, front_monitor, NULL) != 0)
		fail("thread");
	t0 = now_s();
	for (i = 0; i < TRIPS; i++) {
		if (fc_send_request(&front, &req, FC_MAX_BODY) != 0 ||
		    fc_recv_reply(&front, &rep) != 0)
			fail("the front's end");
		fc_reply_clear(&rep);
	}
	t0 = now_s() - t0;
	pthread_join(th, NULL);
	unpair();
	return t0 / TRIPS;
}

/* The bytes one front request and its answer take on the wire. */
static void
front_sizes(void)
{
	struct http_request req = request();
	struct http_response res;
	struct fc_request rq;
	struct msg_chan front, mon;
	int n;

	pair(SOCK_STREAM);
	fc_chan_init(&front, sv[0], MSG_CHILD);
	fc_chan_init(&mon, sv[1], MSG_MONITOR);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = answer;
	res.content_type = "application/json";
	if (fc_send_request(&front, &req, FC_MAX_BODY) != 0 ||
	    ioctl(sv[1], FIONREAD, &n) != 0)
		fail("sizes");
	ask_bytes = (size_t)n;
	if (fc_recv_request(&mon, FC_MAX_BODY, &rq) != 0 ||
	    fc_send_reply(&mon, &res) != 0 || ioctl(sv[0], FIONREAD, &n) != 0)
		fail("sizes");
	answer_bytes = (size_t)n;
	fc_request_clear(&rq);
	unpair();
}

/* ---- the token process's channel */

static const uint8_t cred_id[64] = { 1 };

static void *
token_child(void *arg)
{
	struct msg_chan ch;
	struct msg rq = { 0 }, rp = { 0 };
	const uint8_t *p;
	uint8_t type;
	int i;

	(void)arg;
	msg_chan_init(&ch, sv[1], &proto_token, MSG_CHILD);
	for (i = 0; i < TRIPS; i++) {
		if (msg_chan_recv(&ch, &type, &rq) != 0 ||
		    msg_get_u32(&rq) != 1 ||
		    msg_get_bytes(&rq, &p, TOKEN_CRED_ID_MAX) !=
		    sizeof(cred_id) || msg_end(&rq) != 0)
			fail("the token process's end");
		msg_init(&rp);
		msg_put_u32(&rp, 0);
		if (msg_chan_send(&ch, PROTO_TOKEN_LISTED, &rp, 0) != 0)
			fail("the token process's reply");
	}
	msg_free(&rq);
	msg_free(&rp);
	return NULL;
}

static double
token_trips(void)
{
	struct msg_chan ch;
	struct msg rq = { 0 }, rp = { 0 };
	pthread_t th;
	uint8_t type;
	double t0;
	int i;

	pair(SOCK_SEQPACKET);
	msg_chan_init(&ch, sv[0], &proto_token, MSG_MONITOR);
	if (pthread_create(&th, NULL, token_child, NULL) != 0)
		fail("thread");
	t0 = now_s();
	for (i = 0; i < TRIPS; i++) {
		msg_init(&rq);
		msg_put_u32(&rq, 1);
		msg_put_bytes(&rq, cred_id, sizeof(cred_id));
		if (msg_chan_send(&ch, PROTO_TOKEN_LIST, &rq, 0) != 0 ||
		    msg_chan_recv(&ch, &type, &rp) != 0 ||
		    msg_get_u32(&rp) != 0 || msg_end(&rp) != 0)
			fail("the daemon's end");
	}
	t0 = now_s() - t0;
	pthread_join(th, NULL);
	unpair();
	msg_free(&rq);
	msg_free(&rp);
	return t0 / TRIPS;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, ROUNDS, sizeof(v[0]), cmp);
	return v[ROUNDS / 2];
}

int
main(void)
{
	double msg[ROUNDS], raw[ROUNDS], m, r;
	int i;

	memset(answer, 'a', sizeof(answer) - 1);
	front_sizes();
	for (i = 0; i < ROUNDS; i++) {
		raw[i] = raw_trips(SOCK_STREAM);
		msg[i] = front_trips();
	}
	m = median(msg);
	r = median(raw);
	printf("front channel, SOCK_STREAM (%zu + %zu bytes, %d trips x %d):\n"
	    "  baseline   (raw write/read, same bytes, same run): %7.2f us\n"
	    "  messages   (fc_send_request ... fc_recv_reply):    %7.2f us\n"
	    "  ratio      messages/baseline = %.2f\n", ask_bytes,
	    answer_bytes, TRIPS, ROUNDS, r * 1e6, m * 1e6, m / r);
	ask_bytes = MSG_HDR_LEN + 4 + 4 + sizeof(cred_id);
	answer_bytes = MSG_HDR_LEN + 4;
	for (i = 0; i < ROUNDS; i++) {
		raw[i] = raw_trips(SOCK_SEQPACKET);
		msg[i] = token_trips();
	}
	m = median(msg);
	r = median(raw);
	printf("token channel, SOCK_SEQPACKET (%zu + %zu bytes):\n"
	    "  baseline   (raw send/recv, same bytes, same run):  %7.2f us\n"
	    "  messages   (msg_chan_send ... msg_chan_recv):      %7.2f us\n"
	    "  ratio      messages/baseline = %.2f\n", ask_bytes,
	    answer_bytes, r * 1e6, m * 1e6, m / r);
	return 0;
}

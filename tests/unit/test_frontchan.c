/* SPDX-License-Identifier: ISC */
/*
 * The channel between the front process and the monitor, over a real
 * socketpair: what crosses arrives whole, and a front that sends anything
 * the table of permitted frames does not allow (a second request before
 * the answer, a replayed sequence number, a field over its bound, a
 * frame of another kind) is refused with a message naming the fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"
#include "tap.h"

#define MAX_BODY	1024

static struct fc_chan front, mon;
static int sv[2];
static struct msg hdr;

static void
pair(void)
{
	if (sv[0] > 0) {
		close(sv[0]);
		close(sv[1]);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("socketpair");
		exit(1);
	}
	fc_chan_init(&front, sv[0], FC_FRONT);
	fc_chan_init(&mon, sv[1], FC_MONITOR);
}

static void
put_be32(int fd, size_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	if (write(fd, b, 4) != 4)
		exit(1);
}

/* A frame as a compromised front would write it: any header, payload. */
static void
raw_frame(int fd, const struct msg *h, const char *payload)
{
	size_t n = payload ? strlen(payload) : 0;

	put_be32(fd, h->len);
	if (write(fd, h->buf, h->len) != (ssize_t)h->len)
		exit(1);
	put_be32(fd, n);
	if (n > 0 && write(fd, payload, n) != (ssize_t)n)
		exit(1);
}

/* A well-formed request header with seq, method and path. */
static void
request_header(uint32_t seq, const char *method, const char *path)
{
	msg_init(&hdr);
	msg_put_u8(&hdr, FC_REQUEST);
	msg_put_u32(&hdr, seq);
	msg_put_str(&hdr, method);
	msg_put_str(&hdr, path);
	msg_put_u32(&hdr, 1000);
	msg_put_u32(&hdr, 1000);
	msg_put_u32(&hdr, 42);
	msg_put_u8(&hdr, 0);
	msg_put_str(&hdr, NULL);
	msg_put_u8(&hdr, 0);
	msg_put_str(&hdr, NULL);
	msg_put_u8(&hdr, 0);
}

/* A reply frame as the monitor (or something posing as it) writes it. */
static void
monitor_reply(uint32_t seq, uint32_t status, uint8_t ctype)
{
	msg_init(&hdr);
	msg_put_u8(&hdr, FC_REPLY);
	msg_put_u32(&hdr, seq);
	msg_put_u32(&hdr, status);
	msg_put_u8(&hdr, ctype);
	msg_put_u8(&hdr, 0);
	raw_frame(sv[1], &hdr, "{}");
}

static struct http_request
sample_request(void)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/v1/requests/r-1/veto";
	req.peer.uid = 1001;
	req.peer.gid = 1002;
	req.peer.pid = 1003;
	req.body = "{\"reason\":\"caller unknown\"}";
	req.body_len = strlen(req.body);
	req.content_type = "application/json";
	req.idempotency_key = "k-7";
	req.query[0].key = "queue";
	req.query[0].value = "admin";
	req.query[1].key = "all";
	req.query[1].value = "";
	req.nquery = 2;
	return req;
}

static void
request_and_reply_cross_whole(void)
{
	struct http_request req = sample_request(), got;
	struct http_response res;
	struct fc_request rq;
	struct fc_reply rep;

	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_view(&rq, &got);
	CHECK(strcmp(got.method, "POST") == 0);
	CHECK(strcmp(got.path, req.path) == 0);
	CHECK_EQ(got.peer.uid, 1001);
	CHECK_EQ(got.peer.gid, 1002);
	CHECK_EQ(got.peer.pid, 1003);
	CHECK_EQ(got.body_len, req.body_len);
	CHECK(strcmp(got.body, req.body) == 0);
	CHECK(got.content_type && strcmp(got.content_type,
	    "application/json") == 0);
	CHECK(got.idempotency_key && strcmp(got.idempotency_key, "k-7") == 0);
	CHECK(strcmp(http_query(&got, "queue"), "admin") == 0);
	CHECK(strcmp(http_query(&got, "all"), "") == 0);
	CHECK(http_query(&got, "state") == NULL);

	memset(&res, 0, sizeof(res));
	res.status = 405;
	res.json = json_pack("{s:s}", "error", "method_not_allowed");
	res.allow = "GET, POST";
	CHECK_EQ(fc_send_reply(&mon, &res), 0);
	json_decref(res.json);
	CHECK_EQ(fc_recv_reply(&front, &rep), 0);
	CHECK_EQ(rep.status, 405);
	CHECK(strcmp(rep.content_type, "application/json") == 0);
	CHECK(rep.allow && strcmp(rep.allow, "GET, POST") == 0);
	CHECK(strcmp(rep.body, "{\"error\":\"method_not_allowed\"}") == 0);
	fc_reply_clear(&rep);
	fc_request_clear(&rq);

	/* absent headers stay absent; the next request is the next seq */
	req.content_type = NULL;
	req.idempotency_key = NULL;
	req.nquery = 0;
	req.body = "";
	req.body_len = 0;
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_view(&rq, &got);
	CHECK(got.content_type == NULL && got.idempotency_key == NULL);
	CHECK_EQ(got.body_len, 0);
	CHECK_EQ(mon.seq, 2);
	fc_request_clear(&rq);
}

static void
closed_channel_between_frames_is_eof(void)
{
	struct fc_request rq;

	pair();
	close(sv[0]);
	sv[0] = -1;
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), TG_ERR_CLOSED);
	close(sv[1]);
	sv[1] = sv[0] = 0;
}

/* A frame from the front that the monitor must refuse, and why. */
static void
refused(const char *what, const char *payload, const char *why)
{
	struct fc_request rq;
	int r;

	raw_frame(sv[0], &hdr, payload);
	r = fc_recv_request(&mon, MAX_BODY, &rq);
	CHECK_EQ(r, TG_ERR_PROTOCOL);
	if (strstr(mon.err, why) == NULL) {
		printf("# %s: \"%s\" does not say \"%s\"\n", what, mon.err, why);
		CHECK(0);
	}
}

static void
second_request_before_the_answer_is_refused(void)
{
	struct fc_request rq;

	pair();
	request_header(1, "GET", "/healthz");
	raw_frame(sv[0], &hdr, NULL);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);
	request_header(2, "GET", "/healthz");
	refused("request while busy", NULL, "not permitted while the "
	    "channel is busy");
}

static void
replayed_or_skipped_sequence_is_refused(void)
{
	struct http_response res;
	struct fc_request rq;

	pair();
	request_header(1, "GET", "/healthz");
	raw_frame(sv[0], &hdr, NULL);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = (char *)(uintptr_t)"ok";
	CHECK_EQ(fc_send_reply(&mon, &res), 0);
	request_header(1, "GET", "/healthz");	/* the same seq again */
	refused("replay", NULL, "request sequence 1 after 1");

	pair();
	request_header(5, "GET", "/healthz");
	refused("skip", NULL, "request sequence 5 after 0");
}

static void
fields_over_their_bounds_are_refused(void)
{
	char path[HTTP_MAX_PATH + 2], body[MAX_BODY + 2];
	size_t i;

	pair();
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	request_header(1, "GET", path);
	refused("long path", NULL, "malformed request header");

	pair();
	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	request_header(1, "POST", "/v1/requests");
	refused("big body", body, "payload of 1025 bytes");

	pair();
	request_header(1, "GET", "/v1/requests");
	hdr.len--;			/* the query count cut off */
	refused("short header", NULL, "malformed request header");

	pair();
	request_header(1, "GET", "/v1/requests");
	hdr.len--;			/* nquery 9, with 9 parameters */
	msg_put_u8(&hdr, HTTP_MAX_QUERY + 1);
	for (i = 0; i < HTTP_MAX_QUERY + 1; i++) {
		msg_put_str(&hdr, "k");
		msg_put_str(&hdr, "v");
	}
	refused("many params", NULL, "9 query parameters");

	pair();
	put_be32(sv[0], MSG_MAX + 1);
	{
		struct fc_request rq;

		CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq),
		    TG_ERR_PROTOCOL);
		CHECK(strstr(mon.err, "header of") != NULL);
	}
}

static void
malformed_fields_and_foreign_frames_are_refused(void)
{
	pair();
	request_header(1, "get", "/healthz");
	refused("lower-case method", NULL, "fields out of range");

	pair();
	request_header(1, "GET", "healthz");
	refused("relative path", NULL, "fields out of range");

	pair();
	request_header(1, "GET", "/healthz");
	hdr.buf[0] = FC_REPLY;		/* a reply from the front */
	refused("reply kind", NULL, "frame type 2 from the front");

	pair();
	request_header(1, "GET", "/healthz");
	hdr.buf[0] = 99;
	refused("unknown kind", NULL, "frame type 99");
}

static void
front_refuses_a_reply_it_did_not_ask_for(void)
{
	struct http_request req = sample_request();
	struct fc_reply rep;

	pair();
	monitor_reply(0, 200, 0);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "not permitted while the channel is idle")
	    != NULL);

	/* an answer to another request, or a status out of range */
	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	monitor_reply(7, 200, 0);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "reply to request 7, 1 outstanding") != NULL);

	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	monitor_reply(1, 700, 9);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "reply fields out of range") != NULL);
}

static void
monitor_sends_only_what_the_front_may_pass_on(void)
{
	struct http_request req = sample_request();
	struct http_response res;
	struct fc_request rq;
	struct fc_reply rep;

	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = (char *)(uintptr_t)"x";
	res.content_type = "text/html";	/* not one the API uses */
	CHECK_EQ(fc_send_reply(&mon, &res), TG_ERR_PROTOCOL);
	res.content_type = NULL;
	res.status = 99;
	CHECK_EQ(fc_send_reply(&mon, &res), TG_ERR_PROTOCOL);
	/* a request is answered once */
	res.status = 200;
	CHECK_EQ(fc_send_reply(&mon, &res), 0);
	CHECK_EQ(fc_send_reply(&mon, &res), TG_ERR_PROTOCOL);
	/* and the front does not send a second request while one is out */
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
	CHECK_EQ(fc_recv_reply(&front, &rep), 0);
	fc_reply_clear(&rep);
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
}

int
main(void)
{
	RUN(request_and_reply_cross_whole);
	RUN(closed_channel_between_frames_is_eof);
	RUN(second_request_before_the_answer_is_refused);
	RUN(replayed_or_skipped_sequence_is_refused);
	RUN(fields_over_their_bounds_are_refused);
	RUN(malformed_fields_and_foreign_frames_are_refused);
	RUN(front_refuses_a_reply_it_did_not_ask_for);
	RUN(monitor_sends_only_what_the_front_may_pass_on);
	if (sv[0] > 0) {
		close(sv[0]);
		close(sv[1]);
	}
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * The channels between the front process and the monitor, over real
 * stream socketpairs: what crosses arrives whole, and a front that sends
 * anything the table of permitted messages does not allow (a second
 * request before the answer, a replayed number, a field over its bound,
 * a message of another kind or channel) is refused with a message naming
 * the fault; so is a monitor doing the like to the front.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"
#include "daemon/proto.h"
#include "tap.h"

#define MAX_BODY	1024

static struct msg_chan front, mon;
static int sv[2];
static struct msg pl;		/* a payload as the test writes it */

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
	fc_chan_init(&front, sv[0], MSG_CHILD);
	fc_chan_init(&mon, sv[1], MSG_MONITOR);
}

/*
 * A message as a compromised front (or something posing as the monitor)
 * writes it: any type and number, with the payload in pl.
 */
static void
raw(int fd, uint8_t type, uint32_t seq)
{
	uint8_t h[MSG_HDR_LEN] = { type, (uint8_t)(seq >> 24),
	    (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq,
	    (uint8_t)(pl.len >> 24), (uint8_t)(pl.len >> 16),
	    (uint8_t)(pl.len >> 8), (uint8_t)pl.len };

	if (write(fd, h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    (pl.len > 0 && write(fd, pl.buf, pl.len) != (ssize_t)pl.len))
		exit(1);
}

/* No session, CSRF token or Origin: what the Unix socket sends. */
static void
browser_none(void)
{
	msg_put_str(&pl, "");
	msg_put_str(&pl, "");
	msg_put_str(&pl, "");
}

/* A well-formed request payload with method and path, body to follow. */
static void
request_fields(const char *method, const char *path)
{
	msg_init_max(&pl, MSG_MAX_ANY);
	msg_put_str(&pl, method);
	msg_put_str(&pl, path);
	msg_put_u32(&pl, 1000);
	msg_put_u32(&pl, 1000);
	msg_put_u32(&pl, 42);
	msg_put_u8(&pl, 0);
	msg_put_bytes(&pl, NULL, 0);
	browser_none();
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
}

/* A request's payload with this caller identity and nothing else. */
static void
identity_payload(uint32_t uid, uint32_t gid, uint8_t tls, size_t certlen)
{
	static const uint8_t cert[HTTP_CERT_SHA256_LEN + 1] = { 0xc5 };

	msg_init(&pl);
	msg_put_str(&pl, "GET");
	msg_put_str(&pl, "/v1/keys");
	msg_put_u32(&pl, uid);
	msg_put_u32(&pl, gid);
	msg_put_u32(&pl, 0);
	msg_put_u8(&pl, tls);
	msg_put_bytes(&pl, cert, certlen);
	browser_none();
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
	msg_put_bytes(&pl, NULL, 0);
}

/* ... and a whole request, with an empty body. */
static void
request_payload(const char *method, const char *path)
{
	request_fields(method, path);
	msg_put_bytes(&pl, NULL, 0);
}

/* A reply as the monitor (or something posing as it) writes it. */
static void
monitor_reply(uint32_t seq, uint32_t status, uint8_t ctype)
{
	msg_init(&pl);
	msg_put_u32(&pl, status);
	msg_put_u8(&pl, ctype);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, "");
	msg_put_str(&pl, "{}");
	raw(sv[1], PROTO_FRONT_REPLY, seq);
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
	CHECK_EQ(mon.received, 2);
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

/* A request (pl) from the front that the monitor must refuse, and why. */
static void
refused(const char *what, uint32_t seq, const char *why)
{
	struct fc_request rq;
	int r;

	raw(sv[0], PROTO_FRONT_REQUEST, seq);
	r = fc_recv_request(&mon, MAX_BODY, &rq);
	CHECK_EQ(r, TG_ERR_PROTOCOL);
	CHECK(mon.dead);
	if (strstr(mon.err, why) == NULL) {
		printf("# %s: \"%s\" does not say \"%s\"\n", what, mon.err,
		    why);
		CHECK(0);
	}
}

static void
second_request_before_the_answer_is_refused(void)
{
	struct fc_request rq;

	pair();
	request_payload("GET", "/healthz");
	raw(sv[0], PROTO_FRONT_REQUEST, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);
	refused("request while busy", 2, "request from the front is not "
	    "permitted while the channel is busy");
}

static void
replayed_or_skipped_sequence_is_refused(void)
{
	struct http_response res;
	struct fc_request rq;

	pair();
	request_payload("GET", "/healthz");
	raw(sv[0], PROTO_FRONT_REQUEST, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = (char *)(uintptr_t)"ok";
	CHECK_EQ(fc_send_reply(&mon, &res), 0);
	refused("replay", 1, "request numbered 1 after 1: replayed");

	pair();
	request_payload("GET", "/healthz");
	refused("skip", 5, "request numbered 5 after 0");
}

static void
fields_over_their_bounds_are_refused(void)
{
	char path[HTTP_MAX_PATH + 2], body[MAX_BODY + 2];
	static uint8_t huge[80000];
	size_t i;

	pair();
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	request_payload("GET", path);
	refused("long path", 1, "malformed request");

	/* the monitor's body bound, and the channel's */
	pair();
	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	request_fields("POST", "/v1/requests");
	msg_put_str(&pl, body);
	refused("big body", 1, "body of 1025 bytes (at most 1024)");
	pair();
	request_fields("POST", "/v1/requests");
	msg_put_bytes(&pl, huge, FC_MAX_BODY + 1);
	refused("body over the channel's", 1, "malformed request");
	pair();
	request_fields("POST", "/v1/requests");
	msg_put_bytes(&pl, huge, sizeof(huge));
	refused("over any request", 1, "request of 80068 bytes (at most ");

	pair();
	request_payload("GET", "/v1/requests");
	pl.len--;			/* the body's length cut short */
	refused("short payload", 1, "malformed request");

	pair();
	request_payload("GET", "/v1/requests");
	msg_put_u8(&pl, 0);		/* a byte after the body */
	refused("trailing byte", 1, "malformed request");

	pair();
	request_fields("GET", "/v1/requests");
	pl.len--;			/* nquery 9, with 9 parameters */
	msg_put_u8(&pl, HTTP_MAX_QUERY + 1);
	for (i = 0; i < HTTP_MAX_QUERY + 1; i++) {
		msg_put_str(&pl, "k");
		msg_put_str(&pl, "v");
	}
	msg_put_bytes(&pl, NULL, 0);
	refused("many params", 1, "9 query parameters");
}

static void
malformed_fields_and_foreign_messages_are_refused(void)
{
	struct fc_request rq;

	pair();
	request_payload("get", "/healthz");
	refused("lower-case method", 1, "fields out of range");

	pair();
	request_payload("GET", "healthz");
	refused("relative path", 1, "fields out of range");

	pair();
	request_fields("GET", "/healthz");
	pl.buf[pl.len - 5] = 0;		/* no content type ... */
	pl.buf[pl.len - 1] = 0;		/* ... and no query */
	msg_put_bytes(&pl, NULL, 0);
	CHECK(pl.len > 4);
	raw(sv[0], PROTO_FRONT_REQUEST, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);

	/* a flag that says "absent" over a value that is there */
	pair();
	msg_init(&pl);
	msg_put_str(&pl, "GET");
	msg_put_str(&pl, "/healthz");
	msg_put_u32(&pl, 0);
	msg_put_u32(&pl, 0);
	msg_put_u32(&pl, 0);
	msg_put_u8(&pl, 0);
	msg_put_bytes(&pl, NULL, 0);
	browser_none();
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, "text/plain");
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
	msg_put_bytes(&pl, NULL, 0);
	refused("hidden content type", 1, "fields out of range");

	pair();
	request_payload("GET", "/healthz");
	raw(sv[0], PROTO_FRONT_REPLY, 1);	/* a reply from the front */
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "reply from the front is not permitted") !=
	    NULL);

	pair();
	raw(sv[0], 99, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "message type 99 is not one of the front "
	    "channel's") != NULL);

	/* the control channel's message on a worker's */
	pair();
	msg_init(&pl);
	msg_put_u32(&pl, 0);
	msg_put_u32(&pl, 0);
	raw(sv[0], PROTO_FRONT_PRIVILEGED, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "message type 3 is not one") != NULL);

	/* a header announcing more than any request may be */
	pair();
	msg_init(&pl);
	{
		uint8_t h[MSG_HDR_LEN] = { PROTO_FRONT_REQUEST, 0, 0, 0, 1,
		    0xff, 0xff, 0xff, 0xff };

		if (write(sv[0], h, sizeof(h)) != (ssize_t)sizeof(h))
			exit(1);
	}
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "request of 4294967295 bytes") != NULL);
}

static void
front_refuses_a_reply_it_did_not_ask_for(void)
{
	struct http_request req = sample_request();
	struct fc_reply rep;

	pair();
	monitor_reply(1, 200, 0);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "not permitted while the channel is idle")
	    != NULL);

	/* an answer to another request, or a status out of range */
	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	monitor_reply(7, 200, 0);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "reply numbered 7 after 0") != NULL);

	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	monitor_reply(1, 700, 9);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "reply fields out of range") != NULL);

	/* and a reply with a byte after its body */
	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	msg_init(&pl);
	msg_put_u32(&pl, 200);
	msg_put_u8(&pl, 0);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, "{}");
	msg_put_u8(&pl, 0);
	raw(sv[1], PROTO_FRONT_REPLY, 1);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "malformed reply") != NULL);
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
	CHECK(strstr(mon.err, "reply from the monitor is not permitted "
	    "while the channel is idle") != NULL);
	/* and the front does not send a second request while one is out */
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
	CHECK_EQ(fc_recv_reply(&front, &rep), 0);
	fc_reply_clear(&rep);
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
	/* nor one over the bounds it promised */
	pair();
	req.body_len = MAX_BODY + 1;
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
	CHECK_EQ(front.sent, 0);
}

static void
largest_reply_crosses_and_one_byte_more_does_not(void)
{
	struct http_request req = sample_request();
	struct http_response res;
	struct fc_request rq;
	struct fc_reply rep;
	char *big;
	pid_t pid;
	int got, status;

	CHECK((big = malloc(FC_MAX_REPLY + 2)) != NULL);
	memset(big, 'r', FC_MAX_REPLY + 1);
	big[FC_MAX_REPLY + 1] = '\0';
	pair();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = big;
	CHECK_EQ(fc_send_reply(&mon, &res), TG_ERR_PROTOCOL);
	CHECK(strstr(mon.err, "reply out of range") != NULL);
	big[FC_MAX_REPLY] = '\0';
	/* 4 MiB: a stream carries it, while the front reads at once */
	if ((pid = fork()) == 0)
		_exit(fc_send_reply(&mon, &res) == 0 ? 0 : 1);
	CHECK(pid > 0);
	got = fc_recv_reply(&front, &rep);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	CHECK_EQ(got, 0);
	CHECK_EQ(rep.body_len, FC_MAX_REPLY);
	CHECK(rep.body[0] == 'r' && rep.body[FC_MAX_REPLY] == '\0');
	fc_reply_clear(&rep);
	free(big);
}

static void
https_caller_identity_crosses_and_no_other(void)
{
	struct http_request req, got;
	struct fc_request rq;

	/* a verified client certificate's fingerprint, and no uid */
	pair();
	req = sample_request();
	req.peer.uid = (uid_t)HTTP_NO_ID;
	req.peer.gid = (gid_t)HTTP_NO_ID;
	req.peer.pid = 0;
	req.peer.tls = 1;
	req.peer.has_cert = 1;
	memset(req.peer.cert_sha256, 0xab, HTTP_CERT_SHA256_LEN);
	req.peer.cert_sha256[31] = 0x01;
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_view(&rq, &got);
	CHECK(got.peer.tls == 1 && got.peer.has_cert == 1);
	CHECK(memcmp(got.peer.cert_sha256, req.peer.cert_sha256,
	    HTTP_CERT_SHA256_LEN) == 0);
	CHECK(got.peer.uid == (uid_t)HTTP_NO_ID);
	fc_request_clear(&rq);

	/* HTTPS without a certificate; the Unix socket never has one */
	pair();
	identity_payload(HTTP_NO_ID, HTTP_NO_ID, 1, 0);
	raw(sv[0], PROTO_FRONT_REQUEST, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_view(&rq, &got);
	CHECK(got.peer.tls == 1 && got.peer.has_cert == 0);
	fc_request_clear(&rq);

	pair();
	identity_payload(0, 0, 0, HTTP_CERT_SHA256_LEN);
	refused("fingerprint on the Unix socket", 1, "caller identity out of "
	    "range");
	pair();
	identity_payload(0, 0, 1, HTTP_CERT_SHA256_LEN);
	refused("HTTPS caller as uid 0", 1, "caller identity out of range");
	pair();
	identity_payload(HTTP_NO_ID, 0, 1, 0);
	refused("HTTPS caller with gid 0", 1, "caller identity out of range");
	pair();
	identity_payload(HTTP_NO_ID, HTTP_NO_ID, 1, HTTP_CERT_SHA256_LEN - 1);
	refused("short fingerprint", 1, "caller identity out of range");
	pair();
	identity_payload(HTTP_NO_ID, HTTP_NO_ID, 2, 0);
	refused("transport 2", 1, "caller identity out of range");
	pair();
	identity_payload(HTTP_NO_ID, HTTP_NO_ID, 1, HTTP_CERT_SHA256_LEN + 1);
	refused("long fingerprint", 1, "malformed request");
}

/* A browser's payload over HTTPS: session, token and origin given. */
static void
browser_payload(uint8_t tls, const char *session, const char *csrf,
    const char *origin)
{
	msg_init(&pl);
	msg_put_str(&pl, "POST");
	msg_put_str(&pl, "/v1/console/signout");
	msg_put_u32(&pl, tls ? HTTP_NO_ID : 1000);
	msg_put_u32(&pl, tls ? HTTP_NO_ID : 1000);
	msg_put_u32(&pl, 0);
	msg_put_u8(&pl, tls);
	msg_put_bytes(&pl, NULL, 0);
	msg_put_str(&pl, session);
	msg_put_str(&pl, csrf);
	msg_put_str(&pl, origin);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, NULL);
	msg_put_u8(&pl, 0);
	msg_put_bytes(&pl, NULL, 0);
}

static void
browser_headers_cross_over_https_only_and_bounded(void)
{
	char longer[HTTP_MAX_SESSION + 2];
	struct http_request req, got;
	struct http_response res;
	struct fc_request rq;
	struct fc_reply rep;

	/* over HTTPS: the session, its token and the origin cross */
	pair();
	req = sample_request();
	req.peer.uid = (uid_t)HTTP_NO_ID;
	req.peer.gid = (gid_t)HTTP_NO_ID;
	req.peer.pid = 0;
	req.peer.tls = 1;
	req.session = "s3ss10n";
	req.csrf = "t0ken";
	req.origin = "https://console.tapgate.local:8443";
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_view(&rq, &got);
	CHECK(got.session && strcmp(got.session, "s3ss10n") == 0);
	CHECK(got.csrf && strcmp(got.csrf, "t0ken") == 0);
	CHECK(got.origin && strcmp(got.origin, req.origin) == 0);
	CHECK(got.cookie == NULL);
	fc_request_clear(&rq);

	/* and the answer's Set-Cookie comes back */
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.json = json_pack("{}");
	snprintf(res.set_cookie, sizeof(res.set_cookie), "__Host-tapgate=x; "
	    "Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
	CHECK_EQ(fc_send_reply(&mon, &res), 0);
	CHECK_EQ(fc_recv_reply(&front, &rep), 0);
	CHECK(strcmp(rep.set_cookie, res.set_cookie) == 0);
	fc_reply_clear(&rep);
	/* a Set-Cookie that would split the header is not sent */
	snprintf(res.set_cookie, sizeof(res.set_cookie), "a=b\r\nX-Evil: 1");
	CHECK_EQ(fc_send_reply(&mon, &res), TG_ERR_PROTOCOL);
	json_decref(res.json);

	/* the front refuses to send them on the Unix socket, or too long */
	pair();
	req = sample_request();
	req.session = "s";
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
	req.peer.tls = 1;
	req.peer.uid = (uid_t)HTTP_NO_ID;
	req.peer.gid = (gid_t)HTTP_NO_ID;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	req.session = longer;
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);
	req.session = NULL;
	req.origin = "https://a\nb";
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), TG_ERR_PROTOCOL);

	/* and the monitor refuses what a compromised front sends so */
	pair();
	browser_payload(0, "stolen", "", "");
	refused("a session on the Unix socket", 1, "browser headers out of "
	    "range");
	pair();
	browser_payload(0, "", "", "https://x.tapgate.local");
	refused("an origin on the Unix socket", 1, "browser headers out of "
	    "range");
	pair();
	browser_payload(1, "", "tok\x01", "");
	refused("a control byte in the token", 1, "browser headers out of "
	    "range");
	pair();
	browser_payload(1, longer, "", "");
	refused("a session over its bound", 1, "malformed request");
	pair();
	browser_payload(1, "s", "t", "https://o.tapgate.local");
	raw(sv[0], PROTO_FRONT_REQUEST, 1);
	CHECK_EQ(fc_recv_request(&mon, MAX_BODY, &rq), 0);
	fc_request_clear(&rq);

	/* a reply whose Set-Cookie holds a line break is a violation */
	pair();
	req = sample_request();
	CHECK_EQ(fc_send_request(&front, &req, MAX_BODY), 0);
	msg_init(&pl);
	msg_put_u32(&pl, 200);
	msg_put_u8(&pl, 0);
	msg_put_u8(&pl, 0);
	msg_put_str(&pl, "a=b\r\nX-Evil: 1");
	msg_put_str(&pl, "{}");
	raw(sv[1], PROTO_FRONT_REPLY, 1);
	CHECK_EQ(fc_recv_reply(&front, &rep), TG_ERR_PROTOCOL);
	CHECK(strstr(front.err, "reply fields out of range") != NULL);
}

static void
https_credentials_cross_the_control_channel(void)
{
	struct http_limits lim;
	struct msg_chan ctl_mon, ctl_front;
	struct fc_tls tls, got;
	static char big[HTTP_TLS_MAX_PEM + 2];

	pair();
	memset(&lim, 0, sizeof(lim));
	fc_ctl_init(&ctl_mon, sv[1], MSG_MONITOR);
	fc_ctl_init(&ctl_front, sv[0], MSG_CHILD);
	tls.cert_pem = (char *)(uintptr_t)"CERT";
	tls.key_pem = (char *)(uintptr_t)"KEY";
	tls.ca_pem = (char *)(uintptr_t)"CA";
	/* not before the privileged callers */
	CHECK_EQ(fc_send_tls(&ctl_mon, &tls), TG_ERR_PROTOCOL);
	CHECK_EQ(fc_send_privileged(&ctl_mon, &lim), 0);
	CHECK_EQ(fc_recv_privileged(&ctl_front, &lim), 0);
	/* then at the start and on each reload */
	CHECK_EQ(fc_send_tls(&ctl_mon, &tls), 0);
	tls.ca_pem = (char *)(uintptr_t)"";
	CHECK_EQ(fc_send_tls(&ctl_mon, &tls), 0);
	CHECK_EQ(fc_recv_tls(&ctl_front, &got), 0);
	CHECK(strcmp(got.cert_pem, "CERT") == 0 &&
	    strcmp(got.key_pem, "KEY") == 0 && strcmp(got.ca_pem, "CA") == 0);
	fc_tls_clear(&got);
	CHECK_EQ(fc_recv_tls(&ctl_front, &got), 0);
	CHECK(got.ca_pem != NULL && got.ca_pem[0] == '\0');
	fc_tls_clear(&got);
	/* a PEM over its bound is not sent */
	memset(big, 'A', sizeof(big) - 1);
	tls.cert_pem = big;
	CHECK_EQ(fc_send_tls(&ctl_mon, &tls), TG_ERR_PROTOCOL);
	/* and one with a NUL, as a broken monitor sends it, is refused */
	msg_init(&pl);
	msg_put_bytes(&pl, "CE\0RT", 5);
	msg_put_str(&pl, "KEY");
	msg_put_str(&pl, "");
	raw(sv[1], PROTO_FRONT_TLS, 4);
	CHECK_EQ(fc_recv_tls(&ctl_front, &got), TG_ERR_PROTOCOL);
	CHECK(strstr(ctl_front.err, "malformed credentials") != NULL);
}

static void
privileged_callers_cross_the_control_channel_once(void)
{
	struct http_limits lim, got;
	struct msg_chan ctl_mon, ctl_front;
	size_t i;

	pair();
	memset(&lim, 0, sizeof(lim));
	for (i = 0; i < HTTP_MAX_PRIVILEGED; i++) {
		lim.uids[i] = (uid_t)(1000 + i);
		lim.gids[i] = (gid_t)(2000 + i);
	}
	lim.nuids = HTTP_MAX_PRIVILEGED;
	lim.ngids = 3;
	fc_ctl_init(&ctl_mon, sv[1], MSG_MONITOR);
	fc_ctl_init(&ctl_front, sv[0], MSG_CHILD);
	CHECK_EQ(fc_send_privileged(&ctl_mon, &lim), 0);
	memset(&got, 0, sizeof(got));
	CHECK_EQ(fc_recv_privileged(&ctl_front, &got), 0);
	CHECK_EQ(got.nuids, HTTP_MAX_PRIVILEGED);
	CHECK_EQ(got.ngids, 3);
	CHECK_EQ(got.uids[HTTP_MAX_PRIVILEGED - 1], 1000 + HTTP_MAX_PRIVILEGED
	    - 1);
	CHECK_EQ(got.gids[2], 2002);
	/* once: then the table permits nothing but the end */
	CHECK_EQ(fc_send_privileged(&ctl_mon, &lim), TG_ERR_PROTOCOL);
	CHECK(strstr(ctl_mon.err, "while the channel is running") != NULL);
	lim.nuids = HTTP_MAX_PRIVILEGED + 1;
	fc_ctl_init(&ctl_mon, sv[1], MSG_MONITOR);
	CHECK_EQ(fc_send_privileged(&ctl_mon, &lim), TG_ERR_PROTOCOL);

	/* a list longer than the front takes, as a broken monitor sends it */
	pair();
	fc_ctl_init(&ctl_front, sv[0], MSG_CHILD);
	msg_init(&pl);
	msg_put_u32(&pl, HTTP_MAX_PRIVILEGED + 1);
	for (i = 0; i < HTTP_MAX_PRIVILEGED + 1; i++)
		msg_put_u32(&pl, 7);
	msg_put_u32(&pl, 0);
	raw(sv[1], PROTO_FRONT_PRIVILEGED, 1);
	CHECK_EQ(fc_recv_privileged(&ctl_front, &got), TG_ERR_PROTOCOL);
	CHECK(strstr(ctl_front.err, "malformed list of privileged callers")
	    != NULL);
}

int
main(void)
{
	RUN(request_and_reply_cross_whole);
	RUN(closed_channel_between_frames_is_eof);
	RUN(second_request_before_the_answer_is_refused);
	RUN(replayed_or_skipped_sequence_is_refused);
	RUN(fields_over_their_bounds_are_refused);
	RUN(malformed_fields_and_foreign_messages_are_refused);
	RUN(front_refuses_a_reply_it_did_not_ask_for);
	RUN(monitor_sends_only_what_the_front_may_pass_on);
	RUN(largest_reply_crosses_and_one_byte_more_does_not);
	RUN(privileged_callers_cross_the_control_channel_once);
	RUN(https_caller_identity_crosses_and_no_other);
	RUN(https_credentials_cross_the_control_channel);
	RUN(browser_headers_cross_over_https_only_and_bounded);
	if (sv[0] > 0) {
		close(sv[0]);
		close(sv[1]);
	}
	msg_free(&pl);
	TAP_EXIT();
}

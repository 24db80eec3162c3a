/* SPDX-License-Identifier: ISC */
/*
 * Seeds for fuzz_msg: genuine messages of every channel, as their real
 * writers put them on the wire, read raw from the other end of a real
 * socketpair.  The front's come from frontchan.c's writers; the token
 * process's replies from the real token process (tokenproc_main,
 * forked), its requests from tokenproc_*() talking to this program
 * re-executed as a recording token process; the hook runner's reports
 * from the real runner, its events from hookproc_post() to this program
 * re-executed as a recording runner.  Each seed is fuzz_msg's input: no
 * failure injection, the channel and end byte, then the messages.  (The
 * corpus also keeps a few of these with a failure-injection seed, named
 * *_failing_*, and inputs the fuzzer found.)
 *
 *	mkcorpus_msg DIR	(from the repository root, after a build)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"
#include "daemon/hookproc.h"
#include "daemon/hooks.h"
#include "daemon/proto.h"
#include "daemon/tokenproc.h"

enum { FRONT, CTL, TOKEN, HOOKS };
#define KEY		"softfido:/run/key.sock"	/* never opened */
#define CHILD_END	4	/* the selector's bit: the child reads */

static const char	*dir;
static uint8_t		 seed[1 << 20];
static size_t		 seedlen;
static int		 failed;

static void
die(const char *what)
{
	fprintf(stderr, "mkcorpus_msg: %s\n", what);
	exit(1);
}

static void
seed_start(int which, int child)
{
	memset(seed, 0, 4);	/* no failure injection */
	seed[4] = (uint8_t)(which | (child ? CHILD_END : 0));
	seedlen = 5;
}

static void
seed_add(const void *p, size_t n)
{
	if (n > sizeof(seed) - seedlen)
		die("seed too long");
	memcpy(seed + seedlen, p, n);
	seedlen += n;
}

/* What waits on fd (a datagram, or what a stream holds), left there. */
static void
seed_peek(int fd)
{
	static uint8_t b[1 << 20];
	ssize_t n;

	if ((n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT)) <= 0)
		die("nothing to read");
	seed_add(b, (size_t)n);
}

static void
seed_write(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(seed, 1, seedlen, f) != seedlen || fclose(f) != 0) {
		fprintf(stderr, "mkcorpus_msg: cannot write %s\n", path);
		failed = 1;
	}
}

static void
pair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type, 0, sv) != 0)
		die("socketpair");
}

/* ---- the front */

static struct http_request
request(const char *method, const char *path)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.peer.uid = 1000;
	req.peer.gid = 1000;
	req.peer.pid = 4242;
	req.body = "";
	return req;
}

static void
front_requests(void)
{
	struct http_request req[4];
	struct http_response res;
	struct fc_request rq;
	struct fc_reply rep;
	struct msg_chan f, m;
	int sv[2], i;

	req[0] = request("GET", "/healthz");
	req[1] = request("POST", "/v1/requests");
	req[1].content_type = "application/json";
	req[1].idempotency_key = "k-1";
	req[1].body = "{\"action\":\"password_reset\",\"target\":"
	    "{\"account\":\"alice\"}}";
	req[1].body_len = strlen(req[1].body);
	req[2] = request("GET", "/v1/requests");
	req[2].query[0].key = "queue";
	req[2].query[0].value = "admin";
	req[2].query[1].key = "all";
	req[2].query[1].value = "";
	req[2].nquery = 2;
	/* an HTTPS caller with a client certificate */
	req[3] = request("GET", "/v1/orders/r-1");
	req[3].peer.uid = (uid_t)HTTP_NO_ID;
	req[3].peer.gid = (gid_t)HTTP_NO_ID;
	req[3].peer.pid = 0;
	req[3].peer.tls = 1;
	req[3].peer.has_cert = 1;
	memset(req[3].peer.cert_sha256, 0xc5, HTTP_CERT_SHA256_LEN);
	pair(SOCK_STREAM, sv);
	fc_chan_init(&f, sv[0], MSG_CHILD);
	fc_chan_init(&m, sv[1], MSG_MONITOR);
	memset(&res, 0, sizeof(res));
	res.status = 200;
	res.text = (char *)(uintptr_t)"ok";
	/* the monitor's end reads the requests; the replies are dropped */
	seed_start(FRONT, 0);
	for (i = 0; i < 4; i++) {
		if (fc_send_request(&f, &req[i], FC_MAX_BODY) != 0)
			die("fc_send_request");
		seed_peek(sv[1]);
		if (fc_recv_request(&m, FC_MAX_BODY, &rq) != 0 ||
		    fc_send_reply(&m, &res) != 0 ||
		    fc_recv_reply(&f, &rep) != 0)
			die("the monitor's end");
		fc_request_clear(&rq);
		fc_reply_clear(&rep);
		if (i == 0) {
			seed_write("front_request_get");
			/* and the same again: a replayed request */
			seed_add(seed + 5, seedlen - 5);
			seed_write("front_request_replayed");
			seedlen -= (seedlen - 5) / 2;
		}
		if (i == 2)
			seed_write("front_requests_post_and_query");
	}
	seed_write("front_requests_and_https_caller");
	close(sv[0]);
	close(sv[1]);
}

static void
front_replies(void)
{
	struct http_request req = request("GET", "/metrics");
	struct http_response res[4];
	struct fc_request rq;
	struct fc_reply rep;
	struct msg_chan f, m;
	int sv[2], i;

	memset(res, 0, sizeof(res));
	res[0].status = 200;
	res[0].json = json_pack("{s:s}", "id", "r-1");
	res[1].status = 405;
	res[1].json = json_pack("{s:{s:s}}", "error", "code",
	    "method_not_allowed");
	res[1].allow = "GET, POST";
	res[2].status = 200;
	res[2].text = (char *)(uintptr_t)"tapgate_requests_total 3\n";
	res[2].content_type = "text/plain; version=0.0.4";
	res[3].status = 503;
	res[3].text = (char *)(uintptr_t)"unavailable";
	pair(SOCK_STREAM, sv);
	fc_chan_init(&f, sv[0], MSG_CHILD);
	fc_chan_init(&m, sv[1], MSG_MONITOR);
	/* the front's end reads the replies to its requests */
	seed_start(FRONT, 1);
	for (i = 0; i < 4; i++) {
		if (fc_send_request(&f, &req, FC_MAX_BODY) != 0 ||
		    fc_recv_request(&m, FC_MAX_BODY, &rq) != 0 ||
		    fc_send_reply(&m, &res[i]) != 0)
			die("a reply");
		fc_request_clear(&rq);
		seed_peek(sv[0]);
		if (fc_recv_reply(&f, &rep) != 0)
			die("the reply");
		fc_reply_clear(&rep);
		json_decref(res[i].json);
		if (i == 0)
			seed_write("front_reply_json");
	}
	seed_write("front_replies_405_metrics_503");
	close(sv[0]);
	close(sv[1]);
}

static void
front_privileged(void)
{
	struct fc_tls tls;
	struct http_limits lim;
	size_t base;
	struct msg_chan m;
	int sv[2];

	memset(&lim, 0, sizeof(lim));
	lim.uids[0] = 0;
	lim.uids[1] = 1001;
	lim.nuids = 2;
	lim.gids[0] = 999;
	lim.ngids = 1;
	pair(SOCK_STREAM, sv);
	fc_ctl_init(&m, sv[1], MSG_MONITOR);
	if (fc_send_privileged(&m, &lim) != 0)
		die("fc_send_privileged");
	seed_start(CTL, 1);
	base = seedlen;
	seed_peek(sv[0]);
	seed_write("front_ctl_privileged");
	/* then the HTTPS credentials, and a reload */
	tls.cert_pem = (char *)(uintptr_t)"-----BEGIN CERTIFICATE-----\n"
	    "MIIB\n-----END CERTIFICATE-----\n";
	tls.key_pem = (char *)(uintptr_t)"-----BEGIN PRIVATE KEY-----\n"
	    "MIGH\n-----END PRIVATE KEY-----\n";
	tls.ca_pem = tls.cert_pem;
	if (fc_send_tls(&m, &tls) != 0)
		die("fc_send_tls");
	tls.ca_pem = (char *)(uintptr_t)"";
	if (fc_send_tls(&m, &tls) != 0)
		die("fc_send_tls");
	seedlen = base;		/* the stream holds all three */
	seed_peek(sv[0]);
	seed_write("front_ctl_privileged_tls_reload");
	close(sv[0]);
	close(sv[1]);
}

/* ---- the token process */

static struct msg pl, in;

/* A reply of the token process on ch (fd), added to the seed. */
static void
token_reply_taken(struct msg_chan *ch, int fd, const char *what)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	uint8_t type;

	if (poll(&pfd, 1, 5000) != 1)
		die(what);
	seed_peek(fd);
	if (msg_chan_recv(ch, &type, &in) != 0)
		die(what);
}

/*
 * The real token process's replies to a list part and the request of
 * type (an assertion or an identification) for it, as seed name.
 */
static void
token_replies(uint8_t type, const char *name)
{
	static const uint8_t cdh[TOKEN_CDH_LEN], id[16] = { 7 };
	struct msg_chan ch;
	pid_t pid;
	int sv[2], st;

	pair(SOCK_SEQPACKET, sv);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(tokenproc_main(sv[1], NULL));
	}
	close(sv[1]);
	msg_chan_init(&ch, sv[0], &proto_token, MSG_MONITOR);
	seed_start(TOKEN, 0);
	msg_init(&pl);
	msg_put_u32(&pl, 1);
	msg_put_bytes(&pl, id, sizeof(id));
	if (msg_chan_send(&ch, PROTO_TOKEN_LIST, &pl, 0) != 0)
		die("list");
	token_reply_taken(&ch, sv[0], "no list reply");
	msg_init(&pl);
	msg_put_u32(&pl, 1000);
	msg_put_str(&pl, "not-a-device");
	msg_put_str(&pl, "tapgate.example");
	if (type == PROTO_TOKEN_ASSERT)
		msg_put_bytes(&pl, cdh, sizeof(cdh));
	msg_put_u32(&pl, 1);
	msg_put_str(&pl, "1234");
	if (msg_chan_send(&ch, type, &pl, 0) != 0)
		die("request");
	token_reply_taken(&ch, sv[0], "no reply to the request");
	seed_write(name);
	close(sv[0]);
	waitpid(pid, &st, 0);
}

/* One reply of type, its payload the status r and then p[0..n). */
static void
token_reply_made(const char *name, uint8_t type, int r, const void *p,
    size_t n)
{
	uint8_t h[MSG_HDR_LEN] = { type, 0, 0, 0, 1 };
	uint8_t st[4] = { (uint8_t)((uint32_t)r >> 24),
	    (uint8_t)((uint32_t)r >> 16), (uint8_t)((uint32_t)r >> 8),
	    (uint8_t)r };

	h[8] = (uint8_t)(4 + n);
	seed_start(TOKEN, 0);
	seed_add(h, sizeof(h));
	seed_add(st, sizeof(st));
	seed_add(p, n);
	seed_write(name);
}

/*
 * Replies the real token process sends only with a key at hand: a PIN
 * error with the attempts left, an identification that names a
 * credential (in a message: the monitor asks first).
 */
static void
token_replies_of_a_key(void)
{
	static const uint8_t left[1] = { 7 };
	static const uint8_t named[4 + 16] = { 0, 0, 0, 16, 7 };

	token_reply_made("token_assertion_reply_pin_7_left",
	    PROTO_TOKEN_ASSERTED, TG_ERR_PIN_INVALID, left, sizeof(left));
	token_reply_made("token_identification_reply_ok",
	    PROTO_TOKEN_IDENTIFIED, 0, named, sizeof(named));
}

/*
 * An assertion reply of status 0, for the decoder's whole path: the
 * payload of fuzz_privsep's assert_ok seed in a message (not a genuine
 * one: that needs a key, and fuzz_privsep has them).
 */
static void
token_reply_ok(void)
{
	static uint8_t b[4096];
	FILE *f;
	size_t n;
	uint8_t h[MSG_HDR_LEN] = { PROTO_TOKEN_ASSERTED, 0, 0, 0, 1 };

	if ((f = fopen("tests/fuzz/corpus/fuzz_privsep/assert_ok", "rb")) ==
	    NULL) {
		fprintf(stderr, "mkcorpus_msg: no fuzz_privsep/assert_ok: "
		    "token_assertion_reply_ok left as it is\n");
		return;
	}
	n = fread(b, 1, sizeof(b), f);
	fclose(f);
	if (n < 1 || b[0] != 0)
		die("fuzz_privsep/assert_ok is not an assertion reply");
	n--;		/* its kind byte */
	h[5] = (uint8_t)(n >> 24);
	h[6] = (uint8_t)(n >> 16);
	h[7] = (uint8_t)(n >> 8);
	h[8] = (uint8_t)n;
	seed_start(TOKEN, 0);
	seed_add(h, sizeof(h));
	seed_add(b + 1, n);
	seed_write("token_assertion_reply_ok");
}

/*
 * This program as the token process: each request it is sent is added
 * to the seed, and answered as the real one answers a key it cannot
 * open.
 */
static int
recording_token_process(int fd)
{
	static const char *const names[] = { "token_requests_list_enroll",
	    "token_requests_list_enroll_assert",
	    "token_requests_list_enroll_assert_identify" };
	struct msg_chan ch;
	struct pollfd pfd = { fd, POLLIN, 0 };
	uint8_t type, reply;
	int k = 0;

	msg_chan_init(&ch, fd, &proto_token, MSG_CHILD);
	seed_start(TOKEN, 1);
	while (poll(&pfd, 1, -1) == 1) {
		if (recv(fd, &type, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
			break;		/* the daemon closed */
		seed_peek(fd);
		if (msg_chan_recv(&ch, &type, &in) != 0)
			return 2;
		reply = (uint8_t)(type + 1);	/* the request's reply */
		msg_init(&pl);
		msg_put_u32(&pl, type == PROTO_TOKEN_LIST ? 0 :
		    (uint32_t)TG_ERR_DEVICE_GONE);
		if (msg_chan_send(&ch, reply, &pl, 0) != 0)
			return 1;
		if (type != PROTO_TOKEN_LIST) {
			seed_write(names[k]);
			k += k < 2;
		}
	}
	return failed;
}

static void
token_requests(void)
{
	static const uint8_t cdh[TOKEN_CDH_LEN];
	static const uint8_t aaguid[1][TOKEN_AAGUID_LEN] = { { 0xaa } };
	static const uint8_t uid[8] = { 'o', 'f', 'f', 'i', 'c', 'e', 'r' };
	struct token_cred_id ids[2] = { { cdh, 16 }, { aaguid[0], 16 } };
	struct token_credential *c = NULL;
	struct token_assertion *a = NULL;
	struct token_enroll_req er;
	struct token_assert_req ar;
	struct tokenproc *tp = NULL;
	uint8_t *id = NULL;
	size_t idlen;

	memset(&er, 0, sizeof(er));
	er.rp_id = "tapgate.example";
	er.rp_name = "tapgate";
	er.user_id = uid;
	er.user_id_len = sizeof(uid);
	er.user_name = "officer-ann";
	er.user_display_name = "Ann";
	er.client_data_hash = cdh;
	er.alg = TOKEN_ALG_ES256;
	er.cred_protect = 3;
	er.pin = "4711";
	er.trust_roots_pem = "/etc/tapgate/roots.pem";
	er.aaguids = aaguid;
	er.naaguids = 1;
	er.exclude = ids;
	er.nexclude = 1;
	memset(&ar, 0, sizeof(ar));
	ar.rp_id = "tapgate.example";
	ar.client_data_hash = cdh;
	ar.allow = ids;
	ar.nallow = 2;
	ar.pin = "4711";
	setenv("MKCORPUS_MSG_DIR", dir, 1);
	if (tokenproc_start("/proc/self/exe", 5000, NULL, NULL, NULL, &tp) != 0)
		die("tokenproc_start");
	if (tokenproc_enroll(tp, KEY, &er, &c, NULL) != TG_ERR_DEVICE_GONE ||
	    tokenproc_assert(tp, KEY, &ar, &a, NULL) != TG_ERR_DEVICE_GONE ||
	    tokenproc_identify(tp, KEY, &ar, &id, &idlen, NULL) !=
	    TG_ERR_DEVICE_GONE)
		die("the recording token process");
	tokenproc_stop(&tp);
}

/* ---- the hook runner */

static void
hook_reports(void)
{
	char *progs[2] = { (char *)(uintptr_t)"/bin/true",
	    (char *)(uintptr_t)"/bin/false" };
	struct msg_chan ch;
	struct pollfd pfd;
	uint8_t type;
	pid_t pid;
	int sv[2], i, st;

	pair(SOCK_SEQPACKET, sv);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(hookproc_main(sv[1], 2000, progs, 2));
	}
	close(sv[1]);
	msg_chan_init(&ch, sv[0], &proto_hooks, MSG_MONITOR);
	msg_init(&pl);
	msg_put_str(&pl, "{\"event\":\"request.created\",\"request_id\":"
	    "\"r-1\"}");
	if (msg_chan_send(&ch, PROTO_HOOK_EVENT, &pl, 0) != 0)
		die("event");
	seed_start(HOOKS, 0);
	pfd.fd = sv[0];
	pfd.events = POLLIN;
	for (i = 0; i < 2; i++) {
		if (poll(&pfd, 1, 10000) != 1)
			die("no report");
		seed_peek(sv[0]);
		if (msg_chan_recv(&ch, &type, &in) != 0)
			die("report");
	}
	seed_write("hook_reports_ok_and_failed");
	close(sv[0]);
	waitpid(pid, &st, 0);
}

/* This program as the hook runner: each event it is sent is recorded. */
static int
recording_runner(int fd)
{
	uint8_t b[MSG_HDR_LEN + 4096];
	ssize_t n;

	seed_start(HOOKS, 1);
	while ((n = recv(fd, b, sizeof(b), 0)) > 0)
		seed_add(b, (size_t)n);
	seed_write("hook_events");
	return failed;
}

static void
hook_events(void)
{
	const char *progs[1] = { "/bin/true" };
	const char *senders[HOOKS_CHANNELS] = { "/bin/true" };
	struct hookproc *hp = NULL;

	setenv("MKCORPUS_MSG_DIR", dir, 1);
	if (hookproc_start_senders("/proc/self/exe", progs, 1, 1000, senders,
	    1000, NULL, NULL, NULL, &hp) != 0 ||
	    hookproc_post(hp, "{\"event\":\"hold.started\",\"hold_until\":"
	    "1795000000}") != 0 ||
	    hookproc_post_message(hp, 0, "{\"recipient\":\"owner\"}",
	    "{\"destination\":\"a@corp.example\",\"channel\":\"mail\","
	    "\"subject\":\"s\",\"text\":\"t\"}") != 0 ||
	    hookproc_post(hp, "{\"event\":\"request.vetoed\"}") != 0)
		die("the recording runner");
	hookproc_stop(&hp);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 && strcmp(argv[1], TOKENPROC_ARG) == 0) {
		dir = getenv("MKCORPUS_MSG_DIR");
		return dir ? recording_token_process(atoi(argv[2])) : 2;
	}
	if (argc > 2 && strcmp(argv[1], HOOKPROC_ARG) == 0) {
		dir = getenv("MKCORPUS_MSG_DIR");
		return dir ? recording_runner(atoi(argv[2])) : 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus_msg DIR\n");
		return 2;
	}
	dir = argv[1];
	front_requests();
	front_replies();
	front_privileged();
	token_replies(PROTO_TOKEN_ASSERT, "token_list_and_assertion_replies");
	token_replies(PROTO_TOKEN_IDENTIFY,
	    "token_list_and_identification_replies");
	token_reply_ok();
	token_replies_of_a_key();
	token_requests();
	hook_reports();
	hook_events();
	msg_free(&pl);
	msg_free(&in);
	return failed;
}

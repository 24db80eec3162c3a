/* SPDX-License-Identifier: ISC */
/*
 * The HTTP front and the console's client, over a real Unix socket: peer
 * credentials reach the handler, bodies are bounded, errors are JSON; a
 * uid holds a bounded share of the connections, the last ones are kept
 * for privileged callers, and a request must arrive within its deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/uhttp.h"
#include "daemon/http.h"
#include "daemon/listen.h"
#include "tap.h"

#define MAX_BODY	1024
/* the limits server: 6 connections, 2 kept, 3 per uid */
#define LIM_MAX		6
#define LIM_RESERVED	2
#define LIM_PER_UID	3
#define PRIV_UID	65534	/* privileged by uid */
#define PRIV_GID	2002	/* privileged by primary gid */
/* the deadline server */
#define DEADLINE_MS	300
#define SLOW_MS		(4 * DEADLINE_MS)	/* the handler's own time */

static char sock[108];
static char lim_sock[108];
static char dl_sock[108];

static void
echo(void *ctx, const struct http_request *req, struct http_response *res)
{
	const char *q = http_query(req, "q");

	(*(int *)ctx)++;
	if (strcmp(req->path, "/slow") == 0)
		nanosleep(&(struct timespec){ SLOW_MS / 1000,
		    (SLOW_MS % 1000) * 1000000L }, NULL);
	if (strcmp(req->path, "/fail") == 0) {
		http_error(res, 422, "bad_field", "field %s is wrong", "x");
		return;
	}
	res->status = 200;
	res->json = json_pack("{s:s,s:s,s:I,s:I,s:s?,s:s?}", "method",
	    req->method, "path", req->path, "uid", (json_int_t)req->peer.uid,
	    "len", (json_int_t)req->body_len, "q", q, "idem",
	    req->idempotency_key);
}

static json_t *
body_json(const struct uhttp_response *res)
{
	return json_loads(res->body, 0, NULL);
}

static void
handler_sees_peer_uid_path_query_and_body(struct http_server *srv)
{
	struct uhttp_response res;
	const char *hdr[1] = { "Idempotency-Key: k-1" };
	json_t *j;

	(void)srv;
	CHECK_EQ(uhttp_request(sock, "POST", "/v1/x?q=hello", "{\"a\":1}", hdr,
	    1, 5000, &res), 0);
	CHECK_EQ(res.status, 200);
	CHECK((j = body_json(&res)) != NULL);
	CHECK(strcmp(json_string_value(json_object_get(j, "method")), "POST")
	    == 0);
	CHECK(strcmp(json_string_value(json_object_get(j, "path")), "/v1/x")
	    == 0);
	CHECK(strcmp(json_string_value(json_object_get(j, "q")), "hello") == 0);
	CHECK(strcmp(json_string_value(json_object_get(j, "idem")), "k-1")
	    == 0);
	CHECK_EQ(json_integer_value(json_object_get(j, "uid")), getuid());
	CHECK_EQ(json_integer_value(json_object_get(j, "len")), 7);
	json_decref(j);
	uhttp_response_clear(&res);
}

static void
body_over_the_bound_gets_413_without_reaching_the_handler(int *calls)
{
	struct uhttp_response res;
	char *big;
	int before = *calls;
	json_t *j;

	CHECK((big = malloc(MAX_BODY + 2)) != NULL);
	memset(big, 'a', MAX_BODY + 1);
	big[MAX_BODY + 1] = '\0';
	CHECK_EQ(uhttp_request(sock, "POST", "/v1/x", big, NULL, 0, 5000,
	    &res), 0);
	free(big);
	CHECK_EQ(res.status, 413);
	CHECK_EQ(*calls, before);
	CHECK((j = body_json(&res)) != NULL);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(j,
	    "error"), "code")), "body_too_large") == 0);
	json_decref(j);
	uhttp_response_clear(&res);
}

static void
handler_error_is_json_with_code_and_message(void)
{
	struct uhttp_response res;
	json_t *j, *e;

	CHECK_EQ(uhttp_request(sock, "GET", "/fail", NULL, NULL, 0, 5000,
	    &res), 0);
	CHECK_EQ(res.status, 422);
	CHECK((j = body_json(&res)) != NULL);
	e = json_object_get(j, "error");
	CHECK(strcmp(json_string_value(json_object_get(e, "code")),
	    "bad_field") == 0);
	CHECK(strstr(json_string_value(json_object_get(e, "message")),
	    "field x") != NULL);
	json_decref(j);
	uhttp_response_clear(&res);
}

static void
second_daemon_on_a_live_socket_is_refused(void)
{
	char err[256];
	int bound;

	CHECK(listen_open(sock, 0600, &bound, err, sizeof(err)) < 0);
	CHECK(strstr(err, "another daemon") != NULL);
}

/* ---- connections by hand: who connects, what comes back, when */

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A connection made with uid and gid as its peer credentials: the kernel
 * records the effective ids at connect(), and the raw calls change this
 * thread's only (the server's threads keep theirs).
 */
static int
connect_as(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un sa;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (syscall(SYS_setresgid, -1, gid, -1) != 0 ||
	    syscall(SYS_setresuid, -1, uid, -1) != 0) {
		close(fd);
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (syscall(SYS_setresuid, -1, 0, -1) != 0 ||
	    syscall(SYS_setresgid, -1, 0, -1) != 0)
		abort();	/* the test would go on as another user */
	if (r != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_str(int fd, const char *s)
{
	return send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s) ?
	    0 : -1;
}

/*
 * One answer on fd within ms: its status (the body is read and, when
 * code is not NULL, its error code copied), 0 on EOF or a reset before
 * any byte, -1 on a timeout.
 */
static int
read_answer(int fd, int ms, char *code, size_t codelen)
{
	char buf[4096], *hend, *cl, *c;
	size_t len = 0, need = 0;
	int64_t end = ms_now() + ms;
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;
	int status;

	for (;;) {
		if (poll(&p, 1, (int)(end - ms_now())) <= 0)
			return -1;
		if ((n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) <= 0)
			return len == 0 ? 0 : -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strstr(buf, "Content-Length: ");
		need = (size_t)(hend + 4 - buf) +
		    (cl != NULL ? strtoul(cl + 16, NULL, 10) : 0);
		if (len >= need || len == sizeof(buf) - 1)
			break;
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	if (code != NULL && codelen > 0) {
		code[0] = '\0';
		if ((c = strstr(hend, "\"code\":\"")) != NULL)
			sscanf(c + 8, "%63[^\"]", code);
	}
	return status;
}

/* A keep-alive GET on fd: its status (see read_answer()). */
static int
get(int fd, const char *path, char *code, size_t codelen)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
	    path);
	if (send_str(fd, req) != 0)
		return 0;
	return read_answer(fd, 5000, code, codelen);
}

/* A new connection as uid/gid and one GET on it: its status. */
static int
get_as(uid_t uid, gid_t gid, int *fdp, char *code, size_t codelen)
{
	if ((*fdp = connect_as(lim_sock, uid, gid)) < 0)
		return -2;
	return get(*fdp, "/x", code, codelen);
}

/*
 * A refused connection: closed unserved.  The server writes a 503 and
 * shuts the socket down at once; a client that writes its request after
 * that gets EPIPE before it reads the 503 (status 0 here).
 */
static int
refused(int st, char *code, size_t codelen, int fd)
{
	int i;

	/* the 503 may still wait to be read after EPIPE; then EOF */
	for (i = 0; i < 2 && st != 0; i++) {
		if (st != 503 || strcmp(code, "too_many_connections") != 0) {
			printf("#   status %d (%s), expected refused\n", st,
			    code);
			close(fd);
			return 0;
		}
		st = read_answer(fd, 5000, code, codelen);
	}
	close(fd);
	return st == 0;
}

/*
 * Four connections from one unprivileged uid (root is not privileged in
 * this server): three are served, the fourth is refused.
 */
static void
one_uid_gets_its_share_then_503(int *held)
{
	char code[64] = "";
	int fd, i, ok = 0, nrefused = 0, st;

	for (i = 0; i < LIM_PER_UID + 1; i++) {
		st = get_as(0, 0, &fd, code, sizeof(code));
		if (st == 200) {
			held[ok++] = fd;
			continue;
		}
		CHECK(refused(st, code, sizeof(code), fd));
		nrefused++;
	}
	CHECK_EQ(ok, LIM_PER_UID);
	CHECK_EQ(nrefused, 1);
}

/*
 * With 3 of 6 taken: another unprivileged uid gets one, then the two
 * left are kept; a uid and a primary gid on the privileged lists get
 * them; then nobody gets in.
 */
static void
reserve_is_kept_for_privileged_callers(int *held)
{
	char code[64] = "";
	int fd, st;

	CHECK_EQ(get_as(65533, 65533, &held[3], NULL, 0), 200);
	st = get_as(65532, 65532, &fd, code, sizeof(code));
	CHECK(refused(st, code, sizeof(code), fd));
	CHECK_EQ(get_as(PRIV_UID, PRIV_UID, &held[4], NULL, 0), 200);
	CHECK_EQ(get_as(3003, PRIV_GID, &held[5], NULL, 0), 200);
	st = get_as(PRIV_UID, PRIV_UID, &fd, code, sizeof(code));
	CHECK(refused(st, code, sizeof(code), fd));
}

/* The server frees a closed connection's slot: a new one gets it. */
static void
closed_connections_free_their_slots(int *held)
{
	int64_t end;
	int fd, i, st = 0;

	for (i = 0; i < LIM_MAX; i++)
		if (held[i] >= 0)
			close(held[i]);
	/* the server learns of the closes as it polls: retry a while */
	for (end = ms_now() + 5000; ms_now() < end && st != 200; ) {
		st = get_as(65531, 65531, &fd, NULL, 0);
		close(fd);
	}
	CHECK_EQ(st, 200);
	for (i = 0; i < LIM_PER_UID; i++) {
		CHECK_EQ(get_as(0, 0, &held[i], NULL, 0), 200);
	}
	for (i = 0; i < LIM_PER_UID; i++)
		close(held[i]);
}

/*
 * A header line every 50 ms keeps a timer that each byte restarts from
 * ever firing; the request's deadline (300 ms from accept) still ends
 * it, unanswered.
 */
static void
request_trickling_past_its_deadline_is_cut(void)
{
	char line[64];
	int64_t end = ms_now() + 5000, last, gap = 0;
	int fd, lines = 0, st = -1;

	CHECK((fd = connect_as(dl_sock, 0, 0)) >= 0);
	CHECK(send_str(fd, "GET /x HTTP/1.1\r\nHost: t\r\n") == 0);
	last = ms_now();
	while (ms_now() < end) {
		if ((st = read_answer(fd, 50, NULL, 0)) != -1)
			break;
		snprintf(line, sizeof(line), "X-Line-%d: 1\r\n", lines++);
		if (send_str(fd, line) != 0) {
			st = 0;		/* shut down under us: cut too */
			break;
		}
		if (ms_now() - last > gap)
			gap = ms_now() - last;
		last = ms_now();
	}
	close(fd);
	CHECK_EQ(st, 0);		/* cut, not answered */
	CHECK(lines >= 2);		/* it did trickle ... */
	CHECK(gap < DEADLINE_MS);	/* ... never idle for a deadline */
}

/*
 * The handler takes four deadlines: it is answered, and the next request
 * on the connection has a deadline of its own; idle after it, the
 * connection is closed.
 */
static void
time_at_the_handler_does_not_count(void)
{
	int fd;

	CHECK((fd = connect_as(dl_sock, 0, 0)) >= 0);
	CHECK_EQ(get(fd, "/slow", NULL, 0), 200);
	CHECK_EQ(get(fd, "/x", NULL, 0), 200);
	CHECK_EQ(read_answer(fd, 5000, NULL, 0), 0);	/* idle: closed */
	close(fd);
}

static int
limits_server(const char *path, const struct http_limits *lim, int *calls,
    struct http_server **srv)
{
	char err[256];
	int fd, bound;

	if ((fd = listen_open(path, 0666, &bound, err, sizeof(err))) < 0) {
		printf("# %s: %s\n", path, err);
		return -1;
	}
	return http_server_start(fd, MAX_BODY, lim, echo, calls, srv);
}

static void
limits_are_checked(void)
{
	struct http_limits lim;
	struct http_server *srv = NULL;
	int calls = 0;

	http_limits_default(&lim);
	lim.reserved = lim.max_conns;
	CHECK_EQ(http_server_start(0, MAX_BODY, &lim, echo, &calls, &srv),
	    TG_ERR_INVALID);
	http_limits_default(&lim);
	lim.deadline_ms = 0;
	CHECK_EQ(http_server_start(0, MAX_BODY, &lim, echo, &calls, &srv),
	    TG_ERR_INVALID);
	CHECK(srv == NULL);
}

static void
run_limits(const char *dir)
{
	struct http_server *lsrv = NULL, *dsrv = NULL;
	struct http_limits lim;
	int held[LIM_MAX], calls = 0, i;

	for (i = 0; i < LIM_MAX; i++)
		held[i] = -1;
	snprintf(lim_sock, sizeof(lim_sock), "%s/lim.sock", dir);
	snprintf(dl_sock, sizeof(dl_sock), "%s/dl.sock", dir);
	http_limits_default(&lim);
	lim.max_conns = LIM_MAX;
	lim.reserved = LIM_RESERVED;
	lim.per_uid = LIM_PER_UID;
	lim.uids[lim.nuids++] = PRIV_UID;
	lim.gids[lim.ngids++] = PRIV_GID;
	if (limits_server(lim_sock, &lim, &calls, &lsrv) != 0) {
		printf("not ok limits_server_starts\n");
		tap_total_failed++;
		return;
	}
	http_limits_default(&lim);
	lim.deadline_ms = DEADLINE_MS;
	if (limits_server(dl_sock, &lim, &calls, &dsrv) != 0) {
		printf("not ok deadline_server_starts\n");
		tap_total_failed++;
		http_server_stop(&lsrv);
		return;
	}
	RUN(limits_are_checked);
	tap_failed = 0;
	one_uid_gets_its_share_then_503(held);
	printf("%s one_uid_gets_its_share_then_503\n",
	    tap_failed ? "not ok" : "ok");
	tap_total_failed += tap_failed != 0;
	tap_failed = 0;
	reserve_is_kept_for_privileged_callers(held);
	printf("%s reserve_is_kept_for_privileged_callers\n",
	    tap_failed ? "not ok" : "ok");
	tap_total_failed += tap_failed != 0;
	tap_failed = 0;
	closed_connections_free_their_slots(held);
	printf("%s closed_connections_free_their_slots\n",
	    tap_failed ? "not ok" : "ok");
	tap_total_failed += tap_failed != 0;
	RUN(request_trickling_past_its_deadline_is_cut);
	RUN(time_at_the_handler_does_not_count);
	http_server_stop(&dsrv);
	http_server_stop(&lsrv);
	unlink(lim_sock);
	unlink(dl_sock);
}

int
main(void)
{
	struct http_server *srv = NULL;
	char dir[] = "/tmp/tg-http.XXXXXX", err[256];
	int fd, bound, calls = 0;

	if (mkdtemp(dir) == NULL || chmod(dir, 0711) != 0)
		return 1;
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	if ((fd = listen_open(sock, 0600, &bound, err, sizeof(err))) < 0 ||
	    http_server_start(fd, MAX_BODY, NULL, echo, &calls, &srv) != 0) {
		printf("not ok http_server_starts (%s)\n", err);
		return 1;
	}
	handler_sees_peer_uid_path_query_and_body(srv);
	printf("%s handler_sees_peer_uid_path_query_and_body\n",
	    tap_failed ? "not ok" : "ok");
	tap_total_failed += tap_failed;
	RUN(handler_error_is_json_with_code_and_message);
	tap_failed = 0;
	body_over_the_bound_gets_413_without_reaching_the_handler(&calls);
	printf("%s body_over_the_bound_gets_413_without_reaching_the_handler\n",
	    tap_failed ? "not ok" : "ok");
	tap_total_failed += tap_failed;
	RUN(second_daemon_on_a_live_socket_is_refused);
	http_server_stop(&srv);
	run_limits(dir);
	unlink(sock);
	rmdir(dir);
	TAP_EXIT();
}

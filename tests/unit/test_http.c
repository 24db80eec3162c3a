/* SPDX-License-Identifier: ISC */
/*
 * The HTTP front and the console's client, over a real Unix socket: peer
 * credentials reach the handler, bodies are bounded, errors are JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/uhttp.h"
#include "daemon/http.h"
#include "daemon/listen.h"
#include "tap.h"

#define MAX_BODY	1024

static char sock[108];

static void
echo(void *ctx, const struct http_request *req, struct http_response *res)
{
	const char *q = http_query(req, "q");

	(*(int *)ctx)++;
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

int
main(void)
{
	struct http_server *srv = NULL;
	char dir[] = "/tmp/tg-http.XXXXXX", err[256];
	int fd, bound, calls = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	if ((fd = listen_open(sock, 0600, &bound, err, sizeof(err))) < 0 ||
	    http_server_start(fd, MAX_BODY, echo, &calls, &srv) != 0) {
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
	unlink(sock);
	rmdir(dir);
	TAP_EXIT();
}

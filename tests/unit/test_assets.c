/* SPDX-License-Identifier: ISC */
/*
 * The console's pages as the front serves them (daemon/assets.h): only
 * over HTTPS, only the embedded files by their whole name (no path is
 * ever built from the request), each with its type, "/" leading to the
 * console, GET and HEAD only.
 */
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/assets.h"
#include "tap.h"

static struct http_request	req;
static struct http_response	res;

/* Ask for path with method, over HTTPS when tls; assets_answer's result */
static int
ask(const char *method, const char *path, int tls)
{
	json_decref(res.json);
	free(res.text);
	memset(&res, 0, sizeof(res));
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.peer.tls = tls;
	req.body = "";
	return assets_answer(&req, &res);
}

static const char *
error_code(void)
{
	return json_string_value(json_object_get(json_object_get(res.json,
	    "error"), "code"));
}

static void
embedded_files_are_served_with_their_type(void)
{
	const struct console_asset *a;

	CHECK((a = assets_find("index.html")) != NULL);
	CHECK(a != NULL && strcmp(a->content_type,
	    "text/html; charset=utf-8") == 0);
	CHECK(assets_find("app.js") != NULL && strcmp(assets_find(
	    "app.js")->content_type, "text/javascript") == 0);
	CHECK(assets_find("app.css") != NULL && strcmp(assets_find(
	    "app.css")->content_type, "text/css") == 0);
	CHECK_EQ(ask("GET", "/console/", 1), 1);
	CHECK_EQ(res.status, 200);
	CHECK(res.text != NULL && a != NULL && strlen(res.text) == a->len &&
	    memcmp(res.text, a->data, a->len) == 0);
	CHECK_EQ(ask("HEAD", "/console/app.js", 1), 1);
	CHECK(res.status == 200 && strcmp(res.content_type,
	    "text/javascript") == 0);
}

static void
root_leads_to_the_console(void)
{
	CHECK_EQ(ask("GET", "/", 1), 1);
	CHECK(res.status == 303 && res.location != NULL &&
	    strcmp(res.location, "/console/") == 0);
	CHECK_EQ(ask("GET", "/console", 1), 1);
	CHECK_EQ(res.status, 303);
}

static void
names_are_whole_and_paths_never_built(void)
{
	static const char *const bad[] = { "/console/../Makefile",
	    "/console/./app.js", "/console//app.js", "/console/app.js/",
	    "/console/APP.JS", "/console/app.js\n", "/console/%2e%2e/x",
	    "/console/index.html/../app.js", "/console/nothing" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(ask("GET", bad[i], 1), 1);
		CHECK(res.status == 404 && error_code() != NULL &&
		    strcmp(error_code(), "not_found") == 0);
	}
	CHECK(assets_find("") == NULL && assets_find("../app.js") == NULL);
}

static void
only_get_and_head_over_https(void)
{
	CHECK_EQ(ask("POST", "/console/app.js", 1), 1);
	CHECK(res.status == 405 && res.allow != NULL &&
	    strcmp(res.allow, "GET, HEAD") == 0);
	CHECK_EQ(ask("DELETE", "/", 1), 1);
	CHECK_EQ(res.status, 405);
	/* the Unix socket: never the console's, the monitor answers */
	CHECK_EQ(ask("GET", "/console/", 0), 0);
	CHECK_EQ(ask("GET", "/", 0), 0);
	CHECK_EQ(res.status, 0);
	/* the API over HTTPS is not the console's either */
	CHECK_EQ(ask("GET", "/healthz", 1), 0);
	CHECK_EQ(ask("GET", "/consoles", 1), 0);
	CHECK_EQ(ask("POST", "/v1/console/signin", 1), 0);
}

int
main(void)
{
	RUN(embedded_files_are_served_with_their_type);
	RUN(root_leads_to_the_console);
	RUN(names_are_whole_and_paths_never_built);
	RUN(only_get_and_head_over_https);
	ask("GET", "/healthz", 0);
	TAP_EXIT();
}

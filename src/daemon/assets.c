/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/assets.h"

#define CONSOLE_DIR	"/console/"

const struct console_asset *
assets_find(const char *name)
{
	const struct console_asset *a;

	for (a = console_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static int
assets_redirect(struct http_response *res)
{
	if ((res->text = strdup("")) == NULL)
		return TG_ERR_NOMEM;
	res->status = 303;
	res->content_type = "text/plain; charset=utf-8";
	res->location = CONSOLE_DIR;
	return 1;
}

int
assets_answer(const struct http_request *req, struct http_response *res)
{
	const struct console_asset *a;
	const char *name;

	if (!req->peer.tls)
		return 0;
	if (strcmp(req->path, "/") != 0 &&
	    strcmp(req->path, "/console") != 0 &&
	    strncmp(req->path, CONSOLE_DIR, strlen(CONSOLE_DIR)) != 0)
		return 0;
	if (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0) {
		http_error(res, 405, "method_not_allowed", "the console's "
		    "pages are read with GET");
		res->allow = "GET, HEAD";
		return 1;
	}
	if (strcmp(req->path, "/") == 0 || strcmp(req->path, "/console") == 0)
		return assets_redirect(res);
	name = req->path + strlen(CONSOLE_DIR);
	if (*name == '\0')
		name = "index.html";
	if ((a = assets_find(name)) == NULL) {
		http_error(res, 404, "not_found", "no such page");
		return 1;
	}
	if ((res->text = malloc(a->len + 1)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(res->text, a->data, a->len + 1);
	res->status = 200;
	res->content_type = a->content_type;
	return 1;
}

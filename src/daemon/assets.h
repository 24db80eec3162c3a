/* SPDX-License-Identifier: ISC */
/*
 * The browser console's static files (the repository's console/
 * directory, embedded at build time by scripts/gen-console.sh), served by
 * the front process itself over HTTPS only: no page reaches the monitor,
 * and none is served on the Unix socket, where no browser comes.
 */
#ifndef TAPGATE_ASSETS_H
#define TAPGATE_ASSETS_H

#include <stddef.h>

#include "daemon/http.h"

struct console_asset {
	const char	*name;		/* "index.html": no directory */
	const char	*content_type;
	const char	*data;		/* NUL-terminated text */
	size_t		 len;
};

/* The embedded files, ended by a NULL name (generated). */
extern const struct console_asset	console_assets[];

/* The file called name, or NULL. */
const struct console_asset	*assets_find(const char *name);

/*
 * Answer req if it asks for the console and came over HTTPS: "/" and
 * "/console" redirect (303) to "/console/", which is index.html;
 * "/console/NAME" is that file or 404 (names are compared whole: no path
 * is ever built from the request); GET and HEAD only (else 405).  1 when
 * res holds the answer, 0 when the request is not the console's (the
 * monitor answers it), TG_ERR_NOMEM.
 */
int	assets_answer(const struct http_request *req,
	    struct http_response *res);

#endif

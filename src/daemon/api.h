/* SPDX-License-Identifier: ISC */
/* tapgated's HTTP API: routes, roles, and the answers of the engine. */
#ifndef TAPGATE_API_H
#define TAPGATE_API_H

#include "daemon/http.h"

struct tapgated;

/* The http_handler_fn of the daemon; ctx is the struct tapgated. */
void	api_handle(void *ctx, const struct http_request *req,
	    struct http_response *res);

#endif

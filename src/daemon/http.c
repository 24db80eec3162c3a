/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "common/errors.h"
#include "daemon/http.h"

struct http_server {
	struct MHD_Daemon	*mhd;
	http_handler_fn		 fn;
	void			*ctx;
	size_t			 max_body;
};

/* Per-request state between libmicrohttpd's calls. */
struct http_upload {
	char	*body;
	size_t	 len;
	size_t	 cap;
	int	 too_large;
};

void
http_error(struct http_response *res, unsigned int status, const char *code,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(res->json);
	res->status = status;
	res->json = json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", msg);
}

const char *
http_query(const struct http_request *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value;
	return NULL;
}

/* MHD_KeyValueIterator: collect the query into the request, bounded. */
static enum MHD_Result
http_param_add(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_request *req = cls;

	(void)kind;
	if (value == NULL)
		value = "";
	if (req->nquery == HTTP_MAX_QUERY ||
	    strlen(key) > HTTP_MAX_QUERY_KEY ||
	    strlen(value) > HTTP_MAX_QUERY_VALUE) {
		req->nquery = HTTP_MAX_QUERY + 1;	/* too much: refuse */
		return MHD_NO;
	}
	req->query[req->nquery].key = key;
	req->query[req->nquery].value = value;
	req->nquery++;
	return MHD_YES;
}

static int
http_field_ok(const char *v)
{
	return v == NULL || strlen(v) <= HTTP_MAX_FIELD;
}

static int
http_peer_of(struct MHD_Connection *c, struct http_peer *peer)
{
	const union MHD_ConnectionInfo *ci;
	struct ucred cr;
	socklen_t len = sizeof(cr);

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED,
	    &cr, &len) != 0 || len != sizeof(cr))
		return -1;
	peer->uid = cr.uid;
	peer->gid = cr.gid;
	peer->pid = cr.pid;
	return 0;
}

static enum MHD_Result
http_send(struct MHD_Connection *c, struct http_response *res)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *ctype;
	char *text;

	if (res->json != NULL) {
		text = json_dumps(res->json, JSON_COMPACT | JSON_SORT_KEYS);
		ctype = "application/json";
		if (text == NULL)
			return MHD_NO;
	} else {
		text = res->text;
		res->text = NULL;
		ctype = res->content_type ? res->content_type : "text/plain";
		if (text == NULL && (text = strdup("")) == NULL)
			return MHD_NO;
	}
	r = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (res->allow != NULL)
		MHD_add_response_header(r, "Allow", res->allow);
	ret = MHD_queue_response(c, res->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_upload *up = *con_cls;
	struct http_response res = { 500, NULL, NULL, NULL, NULL };
	struct http_request req;
	const char *clen;
	enum MHD_Result ret;
	size_t cap;
	char *p;

	(void)version;
	if (up == NULL) {
		/* first call: headers only */
		if ((up = calloc(1, sizeof(*up))) == NULL)
			return MHD_NO;
		clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen != NULL && strtoull(clen, NULL, 10) > srv->max_body)
			up->too_large = 1;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		/* count what streams in; keep nothing past the bound */
		if (!up->too_large && *upload_size > srv->max_body - up->len)
			up->too_large = 1;
		if (!up->too_large) {
			if (up->len + *upload_size + 1 > up->cap) {
				cap = up->len + *upload_size + 1;
				cap = cap < 1024 ? 1024 : cap * 2;
				if (cap > srv->max_body + 1)
					cap = srv->max_body + 1;
				/* no realloc: the old copy is wiped first */
				if ((p = malloc(cap)) == NULL)
					return MHD_NO;
				if (up->body != NULL) {
					memcpy(p, up->body, up->len);
					OPENSSL_cleanse(up->body, up->cap);
					free(up->body);
				}
				up->body = p;
				up->cap = cap;
			}
			memcpy(up->body + up->len, upload_data, *upload_size);
			up->len += *upload_size;
			up->body[up->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&req, 0, sizeof(req));
	if (up->too_large) {
		http_error(&res, 413, "body_too_large",
		    "request body is over %zu bytes", srv->max_body);
	} else if (strlen(url) > HTTP_MAX_PATH) {
		http_error(&res, 414, "path_too_long",
		    "request path is over %d bytes", HTTP_MAX_PATH);
	} else if (http_peer_of(c, &req.peer) != 0) {
		http_error(&res, 403, "no_peer_credentials",
		    "caller's peer credentials are unavailable");
	} else if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
	    http_param_add, &req) < 0 || req.nquery > HTTP_MAX_QUERY) {
		http_error(&res, 400, "invalid_query", "query: at most %d "
		    "parameters, names up to %d and values up to %d bytes",
		    HTTP_MAX_QUERY, HTTP_MAX_QUERY_KEY, HTTP_MAX_QUERY_VALUE);
	} else if (!http_field_ok(req.content_type =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE)) ||
	    !http_field_ok(req.idempotency_key =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Idempotency-Key"))) {
		http_error(&res, 400, "header_too_long", "Content-Type and "
		    "Idempotency-Key: at most %d bytes", HTTP_MAX_FIELD);
	} else {
		req.method = method;
		req.path = url;
		req.body = up->body ? up->body : "";
		req.body_len = up->len;
		res.status = 0;
		srv->fn(srv->ctx, &req, &res);
		if (res.status == 0)
			http_error(&res, 500, "internal",
			    "handler gave no answer");
	}
	ret = http_send(c, &res);
	json_decref(res.json);
	free(res.text);
	return ret;
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_upload *up = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (up != NULL) {
		/* bodies may carry a PIN on its way to a security key */
		if (up->body != NULL)
			OPENSSL_cleanse(up->body, up->cap);
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

int
http_server_start(int listen_fd, size_t max_body, http_handler_fn fn,
    void *ctx, struct http_server **out)
{
	struct http_server *srv;

	if (listen_fd < 0 || fn == NULL)
		return TG_ERR_INVALID;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return TG_ERR_NOMEM;
	srv->fn = fn;
	srv->ctx = ctx;
	srv->max_body = max_body;
	srv->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    http_access, srv,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MAX_HEADER_BYTES,
	    MHD_OPTION_CONNECTION_LIMIT, 256u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 120u,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
	    MHD_OPTION_END);
	if (srv->mhd == NULL) {
		free(srv);
		return TG_ERR_IO;
	}
	*out = srv;
	return 0;
}

void
http_server_stop(struct http_server **srvp)
{
	struct http_server *srv;

	if (srvp == NULL || (srv = *srvp) == NULL)
		return;
	MHD_stop_daemon(srv->mhd);
	free(srv);
	*srvp = NULL;
}

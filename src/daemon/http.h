/* SPDX-License-Identifier: ISC */
/*
 * The daemon's HTTP/1.1 front over a Unix socket (libmicrohttpd).  It owns
 * framing only: peer credentials, bounded bodies, and JSON error replies;
 * what a request means is the handler's business.  Handlers run on a
 * small pool of threads (one may wait for a touch on a security key while
 * others answer), so a handler locks what it shares.
 */
#ifndef TAPGATE_HTTP_H
#define TAPGATE_HTTP_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define HTTP_MAX_PATH		256
#define HTTP_MAX_HEADER_BYTES	(16 * 1024)
#define HTTP_THREADS		4
#define HTTP_MAX_QUERY		8	/* query parameters per request */
#define HTTP_MAX_QUERY_KEY	32
#define HTTP_MAX_QUERY_VALUE	256
#define HTTP_MAX_FIELD		1024	/* Content-Type, Idempotency-Key */

struct http_server;

/* Who is calling: the peer credentials of the Unix-socket connection. */
struct http_peer {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
};

/* One query parameter, as decoded from the URL. */
struct http_param {
	const char	*key;
	const char	*value;		/* "" for "?key" */
};

/*
 * A request as a handler sees it.  Every field is bounded by the server
 * before the handler runs: the path by HTTP_MAX_PATH, the query by
 * HTTP_MAX_QUERY parameters of bounded size, the two headers a handler
 * reads by HTTP_MAX_FIELD, the body by the server's max_body.
 */
struct http_request {
	const char		*method;	/* "GET", "POST", ... */
	const char		*path;		/* without the query */
	struct http_peer	 peer;
	const char		*body;		/* NUL-terminated copy */
	size_t			 body_len;
	const char		*content_type;	/* NULL if absent */
	const char		*idempotency_key; /* NULL if absent */
	struct http_param	 query[HTTP_MAX_QUERY];
	size_t			 nquery;
};

/*
 * What a handler answers: a status and a JSON body (owned by the response,
 * freed after sending), or a text body with its content type.
 */
struct http_response {
	unsigned int	 status;
	json_t		*json;
	char		*text;		/* malloc'd; used when json is NULL */
	const char	*content_type;	/* for text */
	const char	*allow;		/* Allow header for 405 */
};

typedef void	(*http_handler_fn)(void *ctx, const struct http_request *,
		    struct http_response *);

/*
 * Serve HTTP on listen_fd (a bound, listening AF_UNIX stream socket, which
 * the server takes over and closes on stop).  Bodies over max_body bytes get
 * 413 without reaching the handler.  0 or a TG_ERR_*.
 */
int	http_server_start(int listen_fd, size_t max_body, http_handler_fn fn,
	    void *ctx, struct http_server **out);

/* Stop serving, wait for the handler thread, free the server; NULL is ok. */
void	http_server_stop(struct http_server **srv);

/* Value of query parameter key (the first, if repeated), or NULL. */
const char	*http_query(const struct http_request *req, const char *key);

/*
 * Fill res with the JSON error {"error":{"code":code,"message":...}};
 * the message is printf-formatted.
 */
void	http_error(struct http_response *res, unsigned int status,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The daemon's HTTP/1.1 front over a Unix socket (libmicrohttpd).  It owns
 * framing only: peer credentials, bounded bodies, and JSON error replies;
 * what a request means is the handler's business.  Handlers run on a
 * small pool of threads (one may wait for a touch on a security key while
 * others answer), so a handler locks what it shares.
 *
 * No local caller can take the API from the others (issue 9: 300
 * connections trickling a header line every 10 s held every slot).  The
 * server reads a new connection's peer credentials before it parses a
 * byte of it: a uid holds at most per_uid connections (over HTTPS a
 * client address does, an IPv6 client's /64), and the last `reserved`
 * of max_conns are kept for privileged callers (uid 0 and the officers
 * and operators on the Unix socket, by uid or primary gid).  A connection over
 * a bound gets 503 and is closed at once.  Each request must arrive,
 * headers and body, within deadline_ms of the connection's accept or of
 * the end of the previous request on it, however slowly its bytes
 * trickle in; then its connection is shut down.  The time a request
 * spends with its handler (an approval waits up to a minute for a touch)
 * does not count, and it holds no I/O thread: the connection is
 * suspended meanwhile.  Privileged callers' requests reach a handler
 * thread before others'.
 */
#ifndef TAPGATE_HTTP_H
#define TAPGATE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define HTTP_MAX_PATH		256
#define HTTP_MAX_HEADER_BYTES	(16 * 1024)
#define HTTP_THREADS		4	/* handler threads */
#define HTTP_IO_THREADS		2	/* libmicrohttpd's: they never wait */
/*
 * The appliance's limits (http_limits_default()).  Callers sit at the box
 * (the console, the help-desk bridge, the TLS terminator, connectors):
 * tens of connections at a time between them, not hundreds, and each
 * sends a request of at most 64 KiB over a local socket in milliseconds.
 * 32 per uid covers a connector's parallel calls; the 64 kept in reserve
 * are more than the officers and operators at one box use at once.  10 s
 * for one request's headers and body leaves a loaded box two orders of
 * magnitude of slack, and closes an idle keep-alive connection after as
 * long (clients reconnect).
 */
#define HTTP_MAX_CONNS		256
#define HTTP_RESERVED_CONNS	64
#define HTTP_CONNS_PER_UID	32
#define HTTP_REQUEST_DEADLINE_MS 10000
/* Uids, and gids, a server may know as privileged: every roles entry of
   the configuration (64) and uid 0 */
#define HTTP_MAX_PRIVILEGED	65
#define HTTP_MAX_QUERY		8	/* query parameters per request */
#define HTTP_MAX_QUERY_KEY	32
#define HTTP_MAX_QUERY_VALUE	256
#define HTTP_MAX_FIELD		1024	/* Content-Type, Idempotency-Key */
#define HTTP_MAX_COOKIE		4096	/* the Cookie header, over HTTPS */
#define HTTP_MAX_SESSION	256	/* the session cookie's value */
#define HTTP_MAX_CSRF		64	/* X-CSRF-Token */
#define HTTP_MAX_ORIGIN		255	/* Origin */
#define HTTP_MAX_SET_COOKIE	255	/* an answer's Set-Cookie */

struct http_server;

#define HTTP_CERT_SHA256_LEN	32
#define HTTP_TLS_MAX_PEM	(64 * 1024)	/* a chain, a key, the CAs */
#define HTTP_TLS_MAX_CHAIN	8		/* certificates served */
/* No one: the uid and gid an HTTPS caller has (no configuration names
   them: ids there end at 2^32 - 2) */
#define HTTP_NO_ID		((uint32_t)-1)

/*
 * Who is calling: on the Unix socket, the peer credentials of the
 * connection (tls 0); over HTTPS (tls 1), the SHA-256 fingerprint of the
 * client certificate's DER when the caller presented one the server
 * verified (has_cert 1), and uid and gid HTTP_NO_ID, pid 0.
 */
struct http_peer {
	uid_t	uid;
	gid_t	gid;
	pid_t	pid;
	int	tls;
	int	has_cert;
	uint8_t	cert_sha256[HTTP_CERT_SHA256_LEN];
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
 * reads by HTTP_MAX_FIELD, the body by the server's max_body.  Over
 * HTTPS only, the browser's headers: Cookie (HTTP_MAX_COOKIE), X-CSRF-
 * Token and Origin (HTTP_MAX_FIELD here; the front holds them to
 * HTTP_MAX_CSRF and HTTP_MAX_ORIGIN), and session, the value of the
 * session cookie, which the front finds in Cookie (the server leaves it
 * NULL).
 */
struct http_request {
	const char		*method;	/* "GET", "POST", ... */
	const char		*path;		/* without the query */
	struct http_peer	 peer;
	const char		*body;		/* NUL-terminated copy */
	size_t			 body_len;
	const char		*content_type;	/* NULL if absent */
	const char		*idempotency_key; /* NULL if absent */
	const char		*cookie;	/* NULL if absent */
	const char		*session;	/* NULL if absent */
	const char		*csrf;		/* NULL if absent */
	const char		*origin;	/* NULL if absent */
	struct http_param	 query[HTTP_MAX_QUERY];
	size_t			 nquery;
};

/*
 * What a handler answers: a status and a JSON body (owned by the response,
 * freed after sending), or a text body with its content type.
 */
struct http_response {
	unsigned int	 status;
	char		 set_cookie[HTTP_MAX_SET_COOKIE + 1]; /* "": none */
	json_t		*json;
	char		*text;		/* malloc'd; used when json is NULL */
	const char	*content_type;	/* for text */
	const char	*allow;		/* Allow header for 405 */
	const char	*location;	/* Location header for 3xx */
};

typedef void	(*http_handler_fn)(void *ctx, const struct http_request *,
		    struct http_response *);

/* Who may use which connections, and how long a request may take. */
struct http_limits {
	unsigned int	max_conns;	/* open at once, all callers */
	unsigned int	reserved;	/* of those, for privileged callers */
	unsigned int	per_uid;	/* one unprivileged uid's, at once */
	unsigned int	deadline_ms;	/* one request's headers and body */
	uid_t		uids[HTTP_MAX_PRIVILEGED];	/* privileged uids */
	size_t		nuids;
	gid_t		gids[HTTP_MAX_PRIVILEGED];	/* by primary gid */
	size_t		ngids;
};

/* The appliance's figures (HTTP_MAX_CONNS ...), no privileged caller. */
void	http_limits_default(struct http_limits *lim);

/*
 * Serve HTTP on listen_fd (a bound, listening AF_UNIX stream socket, which
 * the server takes over and closes on stop) within lim (copied; NULL: the
 * defaults).  Bodies over max_body bytes get 413 without reaching the
 * handler.  0 or a TG_ERR_* (TG_ERR_INVALID: reserved not below
 * max_conns, a zero bound).
 */
int	http_server_start(int listen_fd, size_t max_body,
	    const struct http_limits *lim, http_handler_fn fn, void *ctx,
	    struct http_server **out);

/*
 * As http_server_start(), serving HTTPS on listen_fd (a listening TCP
 * socket): TLS 1.3 only, the certificate chain cert_pem with its key
 * key_pem (PEM text, NUL-terminated, each at most HTTP_TLS_MAX_PEM
 * bytes).  A caller may present a client certificate: the handshake
 * fails unless it verifies against ca_pem; a caller without one is
 * served with no identity (has_cert 0).  Connections are not admitted
 * by peer credentials: every caller is unprivileged and lim's per_uid
 * bound counts them all.  One such server per process (the handshake's
 * certificate callback has no context).  TG_ERR_INVALID: a PEM that
 * does not parse.
 */
int	http_server_start_tls(int listen_fd, size_t max_body,
	    const struct http_limits *lim, const char *cert_pem,
	    const char *key_pem, const char *ca_pem, http_handler_fn fn,
	    void *ctx, struct http_server **out);

/*
 * Serve cert_pem and key_pem from the next handshake on (a SIGHUP's
 * reload); handshakes under way keep the old pair, which stays in
 * memory until the server stops.  0, or TG_ERR_INVALID (the PEM does
 * not parse: the old pair is still served), TG_ERR_NOMEM; errbuf says
 * why.
 */
int	http_server_reload_tls(struct http_server *srv, const char *cert_pem,
	    const char *key_pem, char *errbuf, size_t errlen);

/*
 * Stop serving: no new connection; requests waiting for a handler get
 * 503, those at a handler are answered; then every connection closes and
 * the threads end.  Frees the server; NULL is ok.
 */
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

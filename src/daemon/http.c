/* SPDX-License-Identifier: ISC */
/*
 * Threads: HTTP_IO_THREADS of libmicrohttpd's (accept, parse, send; they
 * never wait for a handler), HTTP_THREADS handler threads, and one reaper
 * that shuts down connections whose request is past its deadline.  A
 * connection is admitted, by its peer credentials, when libmicrohttpd
 * announces it; a complete request is queued for a handler thread while
 * its connection is suspended, and the handler's answer resumes it.  One
 * lock guards the connection table, the queues and the stopping flag; no
 * libmicrohttpd call is made under it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

#include "common/errors.h"
#include "daemon/http.h"
#include "daemon/web.h"

/* libmicrohttpd's idle timeout: only an answer nobody reads meets it */
#define HTTP_IDLE_TIMEOUT_S	30
/*
 * libmicrohttpd's own connection limit, per I/O thread: above ours, so
 * that it accepts and we refuse (with an answer), refused connections
 * living only until their 503 is written.
 */
#define HTTP_MHD_CONNS(lim)	(2 * (lim)->max_conns)
/* how often at most refusals, cuts and libmicrohttpd's messages are logged */
#define HTTP_LOG_PERIOD_MS	10000
#define HTTP_LOG_BURST		10	/* libmicrohttpd's lines per period */
/* TLS 1.3 only: its cipher suites are all AEAD with forward secrecy */
#define HTTP_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3"

/* A certificate chain and its key, as served; kept until the stop. */
struct http_cred {
	gnutls_pcert_st		 pcert[HTTP_TLS_MAX_CHAIN];
	unsigned int		 npcert;
	gnutls_privkey_t	 key;
	struct http_cred	*older;
};

static void	http_cred_free(struct http_cred *);

/* A connection from its accept to its close: a slot of the table. */
struct http_conn {
	int		 fd;		/* -1: the slot is free */
	uid_t		 uid;
	int		 privileged;
	int64_t		 deadline;	/* CLOCK_MONOTONIC ms; 0: not running */
	int		 cut;		/* shut down at its deadline */
};

enum upload_state {
	UP_READING,	/* headers and body arriving */
	UP_QUEUED,	/* suspended, waiting for or at a handler thread */
	UP_ANSWERED,	/* res holds the answer to send */
};

/* Per-request state between libmicrohttpd's calls. */
struct http_upload {
	char			*body;
	size_t			 len;
	size_t			 cap;
	int			 too_large;
	enum upload_state	 state;
	struct MHD_Connection	*c;
	struct http_conn	*conn;	/* its slot */
	struct http_request	 req;	/* from the final call on */
	struct http_response	 res;
	struct http_upload	*next;	/* in a queue */
};

/* A queue of requests for the handler threads. */
struct http_queue {
	struct http_upload	*head;
	struct http_upload	*tail;
};

struct http_server {
	struct MHD_Daemon	*mhd;
	http_handler_fn		 fn;
	void			*ctx;
	size_t			 max_body;
	struct http_limits	 lim;
	int			 stop_fd;	/* eventfd: the reaper ends */
	pthread_t		 reaper;
	int			 reaper_started;
	pthread_t		 handlers[HTTP_THREADS];
	int			 nhandlers;
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;
	struct http_conn	*conns;		/* lim.max_conns slots */
	unsigned int		 nconns;
	struct http_queue	 queue[2];	/* [1]: privileged callers' */
	int			 stopping;
	/* what the reaper logs now and then */
	unsigned long		 refused_uid;
	unsigned long		 refused_all;
	unsigned long		 cut;
	int64_t			 logged;
	/* libmicrohttpd's messages: a flood of callers is not a log flood */
	pthread_mutex_t		 log_lock;
	int64_t			 log_since;
	unsigned int		 log_lines;
	unsigned long		 log_dropped;
	/* HTTPS: the pair served now (under tls_lock), and the older ones */
	int			 tls;
	pthread_mutex_t		 tls_lock;
	struct http_cred	*cred;
	char			*ca_pem;	/* libmicrohttpd keeps it */
};

/* The one HTTPS server of the process: the certificate callback's. */
static pthread_mutex_t	 tls_server_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_server *tls_server;

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

void
http_limits_default(struct http_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->max_conns = HTTP_MAX_CONNS;
	lim->reserved = HTTP_RESERVED_CONNS;
	lim->per_uid = HTTP_CONNS_PER_UID;
	lim->deadline_ms = HTTP_REQUEST_DEADLINE_MS;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- admission: who may hold which connections */

static int
http_privileged(const struct http_limits *lim, uid_t uid, gid_t gid)
{
	size_t i;

	for (i = 0; i < lim->nuids; i++)
		if (lim->uids[i] == uid)
			return 1;
	for (i = 0; i < lim->ngids; i++)
		if (lim->gids[i] == gid)
			return 1;
	return 0;
}

/*
 * A slot for fd, or NULL with *why set when the caller is over a bound.
 * Called with the lock held.
 */
static struct http_conn *
conn_admit(struct http_server *srv, int fd, uid_t uid, int privileged,
    const char **why)
{
	struct http_conn *free_slot = NULL, *k;
	unsigned int i, mine = 0;

	for (i = 0; i < srv->lim.max_conns; i++) {
		k = &srv->conns[i];
		if (k->fd < 0) {
			if (free_slot == NULL)
				free_slot = k;
			continue;
		}
		if (k->uid == uid)
			mine++;
	}
	*why = NULL;
	if (free_slot == NULL)
		*why = "the daemon is at its connection limit";
	else if (!privileged && srv->nconns >= srv->lim.max_conns -
	    srv->lim.reserved)
		*why = "the connections left are kept for officers and "
		    "operators";
	else if (!privileged && mine >= srv->lim.per_uid) {
		*why = srv->tls ? "this address holds as many connections "
		    "as one may" : "this uid holds as many connections as "
		    "one may";
		srv->refused_uid++;
		return NULL;
	}
	if (*why != NULL) {
		srv->refused_all++;
		return NULL;
	}
	free_slot->fd = fd;
	free_slot->uid = uid;
	free_slot->privileged = privileged;
	free_slot->deadline = now_ms() + srv->lim.deadline_ms;
	free_slot->cut = 0;
	srv->nconns++;
	return free_slot;
}

static void
conn_release(struct http_server *srv, struct http_conn *k)
{
	pthread_mutex_lock(&srv->lock);
	if (k->fd >= 0) {
		k->fd = -1;
		srv->nconns--;
	}
	pthread_mutex_unlock(&srv->lock);
}

/*
 * Over a bound: a 503 the caller can read (best effort), and the socket
 * shut down; libmicrohttpd, which owns it, reads EOF and closes it.
 */
static void
http_refuse(int fd, const char *why)
{
	char body[256], buf[512];
	int n;

	snprintf(body, sizeof(body), "{\"error\":{\"code\":"
	    "\"too_many_connections\",\"message\":\"%s\"}}", why);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
	    strlen(body), body);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_RDWR);
}

/* ---- deadlines */

/*
 * Shut down the connections whose request is past its deadline (a slot's
 * socket is open until libmicrohttpd's CLOSED notice frees the slot);
 * the time (ms) until the next deadline, at most deadline_ms (a deadline
 * set later is always that far away).
 */
static int
http_reap(struct http_server *srv)
{
	struct http_conn *k;
	int64_t now = now_ms(), next = srv->lim.deadline_ms;
	unsigned int i;

	pthread_mutex_lock(&srv->lock);
	for (i = 0; i < srv->lim.max_conns; i++) {
		k = &srv->conns[i];
		if (k->fd < 0 || k->deadline == 0)
			continue;
		if (k->deadline > now) {
			if (k->deadline - now < next)
				next = k->deadline - now;
			continue;
		}
		k->deadline = 0;
		shutdown(k->fd, SHUT_RDWR);
		k->cut = 1;
		srv->cut++;
	}
	pthread_mutex_unlock(&srv->lock);
	return (int)next;
}

/* Now and then, what the bounds turned away: an operator sees a flood. */
static void
http_log_bounds(struct http_server *srv)
{
	unsigned long uid, all, cut;
	int64_t now = now_ms();

	pthread_mutex_lock(&srv->lock);
	uid = srv->refused_uid;
	all = srv->refused_all;
	cut = srv->cut;
	if (uid + all + cut == 0 || now - srv->logged < HTTP_LOG_PERIOD_MS) {
		pthread_mutex_unlock(&srv->lock);
		return;
	}
	srv->refused_uid = srv->refused_all = srv->cut = 0;
	srv->logged = now;
	pthread_mutex_unlock(&srv->lock);
	fprintf(stderr, "tapgated[front]: refused %lu connections over the "
	    "per-uid bound and %lu over the total; cut %lu requests at their "
	    "%u ms deadline\n", uid, all, cut, srv->lim.deadline_ms);
}

static void *
http_reaper(void *arg)
{
	struct http_server *srv = arg;
	struct pollfd pfd;
	int timeout;

	pfd.fd = srv->stop_fd;
	pfd.events = POLLIN;
	for (;;) {
		timeout = http_reap(srv);
		http_log_bounds(srv);
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd.revents != 0)
			break;
	}
	return NULL;
}

/* ---- libmicrohttpd's callbacks */

/*
 * The count an HTTPS connection is held against: its client's address
 * (an IPv6 client's /64, which one host commonly holds whole; an
 * IPv4-mapped one as IPv4), hashed into the ids no configuration names
 * (2^31 and up; never HTTP_NO_ID), so that one address holding per_uid
 * connections leaves the others served.  A collision only shares a
 * count.  HTTP_NO_ID without an address.
 */
static uid_t
http_addr_bucket(const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	const struct sockaddr_in6 *s6;
	const uint8_t *b;
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i, n;

	if (sa == NULL)
		return (uid_t)HTTP_NO_ID;
	if (sa->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		b = s6->sin6_addr.s6_addr;
		n = 8;
		if (memcmp(b, mapped, sizeof(mapped)) == 0) {
			b += sizeof(mapped);
			n = 4;
		}
	} else
		return (uid_t)HTTP_NO_ID;
	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	h |= 0x80000000u;
	return (uid_t)(h == HTTP_NO_ID ? h - 1 : h);
}

/*
 * MHD_NotifyConnectionCallback: admit a new connection by its peer
 * credentials (a slot), or refuse it; free its slot when it closes.
 */
static void
http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *k;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	const char *why;
	int fd;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* before libmicrohttpd closes the socket */
		if ((k = *socket_context) != NULL)
			conn_release(srv, k);
		*socket_context = NULL;
		return;
	}
	*socket_context = NULL;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;		/* no slot: http_access() drops it */
	fd = ci->connect_fd;
	if (srv->tls) {
		/* no peer credentials over TCP: a count per client address */
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		cr.uid = http_addr_bucket(ci != NULL ? ci->client_addr :
		    NULL);
		cr.gid = (gid_t)HTTP_NO_ID;
	} else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr)) {
		shutdown(fd, SHUT_RDWR);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	k = conn_admit(srv, fd, cr.uid, !srv->tls &&
	    http_privileged(&srv->lim, cr.uid, cr.gid), &why);
	pthread_mutex_unlock(&srv->lock);
	if (k == NULL)
		http_refuse(fd, why);
	*socket_context = k;
}

/*
 * MHD_LogCallback: libmicrohttpd's messages to stderr, HTTP_LOG_BURST per
 * period at most (each cut or refused connection can make one); the
 * rest are counted.
 */
static void
http_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *srv = cls;
	unsigned long dropped = 0;
	int64_t now = now_ms();
	char line[512];
	int print;

	pthread_mutex_lock(&srv->log_lock);
	if (now - srv->log_since >= HTTP_LOG_PERIOD_MS) {
		dropped = srv->log_dropped;
		srv->log_dropped = 0;
		srv->log_lines = 0;
		srv->log_since = now;
	}
	if (!(print = srv->log_lines < HTTP_LOG_BURST))
		srv->log_dropped++;
	else
		srv->log_lines++;
	pthread_mutex_unlock(&srv->log_lock);
	if (dropped > 0)
		fprintf(stderr, "libmicrohttpd: %lu more messages not "
		    "shown\n", dropped);
	if (print) {
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "libmicrohttpd: %s", line);
	}
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
http_text_ok(const char *v, size_t max)
{
	return v == NULL || strlen(v) <= max;
}

static int
http_field_ok(const char *v)
{
	return http_text_ok(v, HTTP_MAX_FIELD);
}

/*
 * An HTTPS caller: the fingerprint of the client certificate the
 * handshake verified, if it presented one.  -1 when one is there but
 * does not verify (the handshake should have refused it).
 */
static int
http_tls_peer_of(struct MHD_Connection *c, struct http_peer *peer)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *certs;
	unsigned int n = 0, status = 0;
	size_t len = HTTP_CERT_SHA256_LEN;

	memset(peer, 0, sizeof(*peer));
	peer->uid = (uid_t)HTTP_NO_ID;
	peer->gid = (gid_t)HTTP_NO_ID;
	peer->tls = 1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return -1;
	certs = gnutls_certificate_get_peers(ci->tls_session, &n);
	if (certs == NULL || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(ci->tls_session, &status) != 0 ||
	    status != 0 || gnutls_fingerprint(GNUTLS_DIG_SHA256, &certs[0],
	    peer->cert_sha256, &len) != 0 || len != HTTP_CERT_SHA256_LEN)
		return -1;
	peer->has_cert = 1;
	return 0;
}

static int
http_peer_of(struct http_server *srv, struct MHD_Connection *c,
    struct http_peer *peer)
{
	const union MHD_ConnectionInfo *ci;
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (srv->tls)
		return http_tls_peer_of(c, peer);
	memset(peer, 0, sizeof(*peer));
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
http_send(const struct http_server *srv, struct MHD_Connection *c,
    struct http_response *res)
{
	const struct web_header *h;
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
	if (res->set_cookie[0] != '\0')
		MHD_add_response_header(r, "Set-Cookie", res->set_cookie);
	MHD_add_response_header(r, "Content-Type", ctype);
	/* over HTTPS a browser may read any answer: the page headers */
	if (srv->tls)
		for (h = web_page_headers; h->name != NULL; h++)
			MHD_add_response_header(r, h->name, h->value);
	else
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (res->allow != NULL)
		MHD_add_response_header(r, "Allow", res->allow);
	if (res->location != NULL)
		MHD_add_response_header(r, "Location", res->location);
	ret = MHD_queue_response(c, res->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A body chunk: count what streams in; keep nothing past the bound. */
static enum MHD_Result
http_upload_add(struct http_server *srv, struct http_upload *up,
    const char *data, size_t n)
{
	size_t cap;
	char *p;

	if (!up->too_large && n > srv->max_body - up->len)
		up->too_large = 1;
	if (up->too_large)
		return MHD_YES;
	if (up->len + n + 1 > up->cap) {
		cap = up->len + n + 1;
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
	memcpy(up->body + up->len, data, n);
	up->len += n;
	up->body[up->len] = '\0';
	return MHD_YES;
}

/*
 * The request is whole: fill up->req, or up->res with the error that
 * answers it without a handler.  1 when a handler is to run.
 */
static int
http_request_check(struct http_server *srv, struct MHD_Connection *c,
    const char *url, const char *method, struct http_upload *up)
{
	struct http_request *req = &up->req;
	struct http_response *res = &up->res;

	memset(req, 0, sizeof(*req));
	if (up->too_large) {
		http_error(res, 413, "body_too_large",
		    "request body is over %zu bytes", srv->max_body);
	} else if (strlen(url) > HTTP_MAX_PATH) {
		http_error(res, 414, "path_too_long",
		    "request path is over %d bytes", HTTP_MAX_PATH);
	} else if (http_peer_of(srv, c, &req->peer) != 0) {
		http_error(res, 403, "no_peer_credentials", srv->tls ?
		    "caller's client certificate does not verify" :
		    "caller's peer credentials are unavailable");
	} else if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND,
	    http_param_add, req) < 0 || req->nquery > HTTP_MAX_QUERY) {
		http_error(res, 400, "invalid_query", "query: at most %d "
		    "parameters, names up to %d and values up to %d bytes",
		    HTTP_MAX_QUERY, HTTP_MAX_QUERY_KEY, HTTP_MAX_QUERY_VALUE);
	} else if (!http_field_ok(req->content_type =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE)) ||
	    !http_field_ok(req->idempotency_key =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Idempotency-Key"))) {
		http_error(res, 400, "header_too_long", "Content-Type and "
		    "Idempotency-Key: at most %d bytes", HTTP_MAX_FIELD);
	} else if (srv->tls && (!http_text_ok(req->cookie =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie"),
	    HTTP_MAX_COOKIE) || !http_field_ok(req->csrf =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-CSRF-Token")) || !http_field_ok(req->origin =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin")))) {
		http_error(res, 400, "header_too_long", "Cookie: at most %d "
		    "bytes; X-CSRF-Token and Origin: at most %d",
		    HTTP_MAX_COOKIE, HTTP_MAX_FIELD);
	} else {
		req->method = method;
		req->path = url;
		req->body = up->body ? up->body : "";
		req->body_len = up->len;
		return 1;
	}
	return 0;
}

/*
 * Hand a whole request to the handler threads: its deadline stops, its
 * connection is suspended (no I/O thread waits), and it is queued,
 * privileged callers' first.  MHD_NO drops a connection cut meanwhile.
 */
static enum MHD_Result
http_request_queue(struct http_server *srv, struct MHD_Connection *c,
    struct http_upload *up)
{
	struct http_queue *q;
	int stopping;

	pthread_mutex_lock(&srv->lock);
	if (up->conn->cut) {
		pthread_mutex_unlock(&srv->lock);
		return MHD_NO;
	}
	up->conn->deadline = 0;
	pthread_mutex_unlock(&srv->lock);
	/* suspended before any handler thread can see it, so resumed after */
	up->c = c;
	MHD_suspend_connection(c);
	pthread_mutex_lock(&srv->lock);
	if (!(stopping = srv->stopping)) {
		up->state = UP_QUEUED;
		q = &srv->queue[up->conn->privileged != 0];
		up->next = NULL;
		if (q->tail != NULL)
			q->tail->next = up;
		else
			q->head = up;
		q->tail = up;
		pthread_cond_signal(&srv->work);
	}
	pthread_mutex_unlock(&srv->lock);
	if (stopping) {
		http_error(&up->res, 503, "unavailable", "the daemon is "
		    "stopping");
		up->state = UP_ANSWERED;
		MHD_resume_connection(c);
	}
	return MHD_YES;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_upload *up = *con_cls;
	const union MHD_ConnectionInfo *ci;
	const char *clen;
	enum MHD_Result ret;

	(void)version;
	if (up == NULL) {
		/* first call: headers only */
		if ((up = calloc(1, sizeof(*up))) == NULL)
			return MHD_NO;
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		/* a connection refused at its start says nothing more */
		if (ci == NULL || (up->conn = ci->socket_context) == NULL) {
			free(up);
			return MHD_NO;
		}
		clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen != NULL && strtoull(clen, NULL, 10) > srv->max_body)
			up->too_large = 1;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		ret = http_upload_add(srv, up, upload_data, *upload_size);
		*upload_size = 0;
		return ret;
	}
	/* the final call; called again once a handler has answered */
	if (up->state == UP_READING) {
		up->res.status = 500;
		if (http_request_check(srv, c, url, method, up))
			return http_request_queue(srv, c, up);
		up->state = UP_ANSWERED;
	}
	if (up->state != UP_ANSWERED)
		return MHD_NO;		/* resumed without an answer */
	ret = http_send(srv, c, &up->res);
	json_decref(up->res.json);
	up->res.json = NULL;
	free(up->res.text);
	up->res.text = NULL;
	return ret;
}

/* MHD_RequestCompletedCallback: free the request; the next one's clock. */
static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_upload *up = *con_cls;

	(void)c;
	(void)toe;
	if (up == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	if (!up->conn->cut && up->conn->fd >= 0)
		up->conn->deadline = now_ms() + srv->lim.deadline_ms;
	pthread_mutex_unlock(&srv->lock);
	/* bodies may carry a PIN on its way to a security key */
	if (up->body != NULL)
		OPENSSL_cleanse(up->body, up->cap);
	free(up->body);
	json_decref(up->res.json);
	free(up->res.text);
	free(up);
	*con_cls = NULL;
}

/* ---- handler threads */

/* The next request, privileged callers' first; NULL: stop. */
static struct http_upload *
http_next(struct http_server *srv, int *stopping)
{
	struct http_upload *up = NULL;
	struct http_queue *q;
	int i;

	pthread_mutex_lock(&srv->lock);
	for (;;) {
		for (i = 1; i >= 0 && up == NULL; i--) {
			q = &srv->queue[i];
			if ((up = q->head) == NULL)
				continue;
			if ((q->head = up->next) == NULL)
				q->tail = NULL;
		}
		if (up != NULL || srv->stopping)
			break;
		pthread_cond_wait(&srv->work, &srv->lock);
	}
	*stopping = srv->stopping;
	pthread_mutex_unlock(&srv->lock);
	return up;
}

static void *
http_handler(void *arg)
{
	struct http_server *srv = arg;
	struct http_upload *up;
	int stopping;

	while ((up = http_next(srv, &stopping)) != NULL) {
		if (stopping) {
			http_error(&up->res, 503, "unavailable", "the daemon "
			    "is stopping");
		} else {
			up->res.status = 0;
			srv->fn(srv->ctx, &up->req, &up->res);
			if (up->res.status == 0)
				http_error(&up->res, 500, "internal",
				    "handler gave no answer");
		}
		pthread_mutex_lock(&srv->lock);
		up->state = UP_ANSWERED;
		pthread_mutex_unlock(&srv->lock);
		MHD_resume_connection(up->c);
	}
	return NULL;
}

/* ---- start and stop */

static int
http_limits_ok(const struct http_limits *lim)
{
	return lim->max_conns > 0 && lim->reserved < lim->max_conns &&
	    lim->per_uid > 0 && lim->deadline_ms > 0 &&
	    lim->deadline_ms <= 3600 * 1000 &&
	    lim->nuids <= HTTP_MAX_PRIVILEGED &&
	    lim->ngids <= HTTP_MAX_PRIVILEGED;
}

static void
http_server_free(struct http_server *srv)
{
	struct http_cred *cr;

	if (srv->tls) {
		pthread_mutex_lock(&tls_server_lock);
		if (tls_server == srv)
			tls_server = NULL;
		pthread_mutex_unlock(&tls_server_lock);
	}
	while ((cr = srv->cred) != NULL) {
		srv->cred = cr->older;
		http_cred_free(cr);
	}
	free(srv->ca_pem);
	if (srv->stop_fd >= 0)
		close(srv->stop_fd);
	pthread_cond_destroy(&srv->work);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->log_lock);
	pthread_mutex_destroy(&srv->tls_lock);
	free(srv->conns);
	free(srv);
}

static int
http_threads_start(struct http_server *srv)
{
	int i;

	for (i = 0; i < HTTP_THREADS; i++) {
		if (pthread_create(&srv->handlers[i], NULL, http_handler,
		    srv) != 0)
			return TG_ERR_NOMEM;
		srv->nhandlers++;
	}
	if (pthread_create(&srv->reaper, NULL, http_reaper, srv) != 0)
		return TG_ERR_NOMEM;
	srv->reaper_started = 1;
	return 0;
}

/* ---- TLS */

static void
http_cred_free(struct http_cred *cr)
{
	unsigned int i;

	if (cr == NULL)
		return;
	for (i = 0; i < cr->npcert; i++)
		gnutls_pcert_deinit(&cr->pcert[i]);
	if (cr->key != NULL)
		gnutls_privkey_deinit(cr->key);
	free(cr);
}

/* A chain and its key from PEM text; NULL with errbuf set. */
static struct http_cred *
http_cred_new(const char *cert_pem, const char *key_pem, char *errbuf,
    size_t errlen)
{
	struct http_cred *cr;
	gnutls_datum_t d;
	int g;

	if (strlen(cert_pem) > HTTP_TLS_MAX_PEM ||
	    strlen(key_pem) > HTTP_TLS_MAX_PEM) {
		snprintf(errbuf, errlen, "a PEM file over %d bytes",
		    HTTP_TLS_MAX_PEM);
		return NULL;
	}
	if ((cr = calloc(1, sizeof(*cr))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	cr->npcert = HTTP_TLS_MAX_CHAIN;
	d.data = (unsigned char *)(uintptr_t)cert_pem;
	d.size = (unsigned int)strlen(cert_pem);
	if ((g = gnutls_pcert_list_import_x509_raw(cr->pcert, &cr->npcert, &d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || cr->npcert == 0) {
		cr->npcert = 0;
		snprintf(errbuf, errlen, "certificate chain: %s",
		    gnutls_strerror(g));
		goto fail;
	}
	d.data = (unsigned char *)(uintptr_t)key_pem;
	d.size = (unsigned int)strlen(key_pem);
	if ((g = gnutls_privkey_init(&cr->key)) < 0 ||
	    (g = gnutls_privkey_import_x509_raw(cr->key, &d,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		snprintf(errbuf, errlen, "private key: %s", gnutls_strerror(g));
		goto fail;
	}
	return cr;
fail:
	http_cred_free(cr);
	return NULL;
}

/*
 * A caller's certificate, if it sent one, must verify against the
 * client CAs or the handshake fails; none is no identity, not an error.
 */
static int
http_tls_verify(gnutls_session_t session)
{
	unsigned int n = 0, status = 0;

	if (gnutls_certificate_get_peers(session, &n) == NULL || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(session, &status) != 0 ||
	    status != 0)
		return -1;
	return 0;
}

/*
 * gnutls_certificate_retrieve_function2: the pair served now.  Called
 * on the ClientHello, before the caller's certificate arrives: the
 * place to ask for its verification in the handshake.
 */
static int
http_tls_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct http_server *srv;
	struct http_cred *cr = NULL;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	pthread_mutex_lock(&tls_server_lock);
	if ((srv = tls_server) != NULL) {
		pthread_mutex_lock(&srv->tls_lock);
		cr = srv->cred;
		pthread_mutex_unlock(&srv->tls_lock);
	}
	pthread_mutex_unlock(&tls_server_lock);
	if (cr == NULL)
		return -1;
	gnutls_session_set_verify_function(session, http_tls_verify);
	*pcert = cr->pcert;
	*pcert_length = cr->npcert;
	*privkey = cr->key;
	return 0;
}

int
http_server_reload_tls(struct http_server *srv, const char *cert_pem,
    const char *key_pem, char *errbuf, size_t errlen)
{
	struct http_cred *cr;

	if (!srv->tls) {
		snprintf(errbuf, errlen, "not an HTTPS server");
		return TG_ERR_INVALID;
	}
	if ((cr = http_cred_new(cert_pem, key_pem, errbuf, errlen)) == NULL)
		return TG_ERR_INVALID;
	/* sessions may still point at the old pair: it stays */
	pthread_mutex_lock(&srv->tls_lock);
	cr->older = srv->cred;
	srv->cred = cr;
	pthread_mutex_unlock(&srv->tls_lock);
	return 0;
}

static int
http_server_open(int listen_fd, size_t max_body,
    const struct http_limits *lim, const char *cert_pem,
    const char *key_pem, const char *ca_pem, http_handler_fn fn,
    void *ctx, struct http_server **out)
{
	struct http_server *srv;
	unsigned int i, flags;
	char err[256];
	int r;

	if (listen_fd < 0 || fn == NULL ||
	    (lim != NULL && !http_limits_ok(lim)))
		return TG_ERR_INVALID;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return TG_ERR_NOMEM;
	srv->stop_fd = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->log_lock, NULL);
	pthread_mutex_init(&srv->tls_lock, NULL);
	pthread_cond_init(&srv->work, NULL);
	if (cert_pem != NULL) {
		srv->tls = 1;
		if (strlen(ca_pem) > HTTP_TLS_MAX_PEM ||
		    (srv->ca_pem = strdup(ca_pem)) == NULL ||
		    (srv->cred = http_cred_new(cert_pem, key_pem, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "tapgated[front]: HTTPS: %s\n", err);
			http_server_free(srv);
			return TG_ERR_INVALID;
		}
	}
	srv->fn = fn;
	srv->ctx = ctx;
	srv->max_body = max_body;
	if (lim != NULL)
		srv->lim = *lim;
	else
		http_limits_default(&srv->lim);
	if ((srv->conns = calloc(srv->lim.max_conns,
	    sizeof(*srv->conns))) == NULL) {
		http_server_free(srv);
		return TG_ERR_NOMEM;
	}
	for (i = 0; i < srv->lim.max_conns; i++)
		srv->conns[i].fd = -1;
	if ((srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		http_server_free(srv);
		return TG_ERR_IO;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (srv->tls) {
		pthread_mutex_lock(&tls_server_lock);
		if (tls_server != NULL) {
			pthread_mutex_unlock(&tls_server_lock);
			srv->tls = 0;	/* not the process's: leave it */
			http_server_free(srv);
			return TG_ERR_INVALID;
		}
		tls_server = srv;
		pthread_mutex_unlock(&tls_server_lock);
	}
	srv->mhd = MHD_start_daemon(flags | (srv->tls ? MHD_USE_TLS : 0), 0,
	    NULL, NULL, http_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, srv,	/* first, it says */
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MAX_HEADER_BYTES,
	    MHD_OPTION_CONNECTION_LIMIT, HTTP_MHD_CONNS(&srv->lim) *
	    HTTP_IO_THREADS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_IO_THREADS,
	    /* with no TLS, the end of the options */
	    srv->tls ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END,
	    HTTP_TLS_PRIORITIES,
	    MHD_OPTION_HTTPS_MEM_TRUST, srv->ca_pem,
	    MHD_OPTION_HTTPS_CERT_CALLBACK, http_tls_cert,
	    MHD_OPTION_END);
	if (srv->mhd == NULL) {
		http_server_free(srv);
		return TG_ERR_IO;
	}
	if ((r = http_threads_start(srv)) != 0) {
		http_server_stop(&srv);
		return r;
	}
	*out = srv;
	return 0;
}

int
http_server_start(int listen_fd, size_t max_body,
    const struct http_limits *lim, http_handler_fn fn, void *ctx,
    struct http_server **out)
{
	return http_server_open(listen_fd, max_body, lim, NULL, NULL, NULL,
	    fn, ctx, out);
}

int
http_server_start_tls(int listen_fd, size_t max_body,
    const struct http_limits *lim, const char *cert_pem,
    const char *key_pem, const char *ca_pem, http_handler_fn fn,
    void *ctx, struct http_server **out)
{
	if (cert_pem == NULL || key_pem == NULL || ca_pem == NULL)
		return TG_ERR_INVALID;
	return http_server_open(listen_fd, max_body, lim, cert_pem, key_pem,
	    ca_pem, fn, ctx, out);
}

void
http_server_stop(struct http_server **srvp)
{
	struct http_server *srv;
	uint64_t one = 1;
	int i;

	if (srvp == NULL || (srv = *srvp) == NULL)
		return;
	if (srv->reaper_started) {
		while (write(srv->stop_fd, &one, sizeof(one)) < 0 &&
		    errno == EINTR)
			;
		pthread_join(srv->reaper, NULL);
	}
	/* queued requests get 503; those at a handler are answered */
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	pthread_cond_broadcast(&srv->work);
	pthread_mutex_unlock(&srv->lock);
	for (i = 0; i < srv->nhandlers; i++)
		pthread_join(srv->handlers[i], NULL);
	/*
	 * Every connection is resumed by now: libmicrohttpd may stop.  It
	 * closes the listening socket and every connection (each CLOSED
	 * notice frees its slot).
	 */
	MHD_stop_daemon(srv->mhd);
	http_server_free(srv);
	*srvp = NULL;
}

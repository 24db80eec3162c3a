/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/assets.h"
#include "daemon/child.h"
#include "daemon/front.h"
#include "daemon/frontchan.h"
#include "daemon/proto.h"
#include "daemon/reqjson.h"
#include "daemon/web.h"
#include "sandbox/sandbox.h"

#define NCHAN		HTTP_THREADS
#define FD_LISTEN	3
#define FD_CONTROL	4
#define FD_CHAN0	5
#define STOP_GRACE_MS	2000
/* the roles whose holders may use the connections kept in reserve */
#define PRIVILEGED_ROLES (POLICY_ROLE_BIT(POLICY_ROLE_OFFICER) | \
			 POLICY_ROLE_BIT(POLICY_ROLE_OPERATOR))
_Static_assert(HTTP_MAX_PRIVILEGED >= POLICY_MAX_ROLE_ENTRIES + 1,
    "every roles entry and uid 0 fit the front's privileged lists");
_Static_assert(REQJSON_MAX_BODY <= FC_MAX_BODY,
    "a request body the front takes crosses its channel");

/* ---- monitor side */

struct front;

struct front_worker {
	struct front	*f;
	struct msg_chan	 ch;
	pthread_t	 thread;
	int		 started;
};

struct front {
	pid_t			 pid;
	struct msg_chan		 ctl;		/* closing it stops the front */
	size_t			 max_body;
	http_handler_fn		 fn;
	void			*ctx;
	front_report_fn		 report;
	void			*rctx;
	atomic_int		 stopping;
	atomic_int		 reported;
	struct front_worker	 w[NCHAN];
};

static void
front_report_once(struct front *f, const char *event, const char *detail)
{
	char end[80], how[96], msg[320];
	int st;

	if (atomic_load(&f->stopping) || atomic_exchange(&f->reported, 1))
		return;
	/* how it ended, when it has within a second; front_stop() then
	   finds no child to wait for */
	how[0] = '\0';
	if (child_wait(f->pid, 1000, &st) == 1) {
		child_describe(st, end, sizeof(end));
		snprintf(how, sizeof(how), "; the front %s", end);
	}
	snprintf(msg, sizeof(msg), "%s%s", detail, how);
	fprintf(stderr, "tapgated: front process: %s: %s\n", event, msg);
	if (f->report != NULL)
		f->report(f->rctx, event, msg);
}

/* One channel: a request in, the handler's answer out, until it ends. */
static void *
front_channel(void *arg)
{
	struct front_worker *w = arg;
	struct front *f = w->f;
	struct fc_request rq;
	struct http_request req;
	struct http_response res;
	int r;

	for (;;) {
		r = fc_recv_request(&w->ch, f->max_body, &rq);
		if (r == TG_ERR_CLOSED) {
			front_report_once(f, "front.exited", "the front "
			    "process closed its channel");
			break;
		}
		if (r != 0) {
			front_report_once(f, r == TG_ERR_PROTOCOL ?
			    "privsep.violation" : "front.exited",
			    r == TG_ERR_PROTOCOL ? w->ch.err : tg_strerror(r));
			break;
		}
		fc_request_view(&rq, &req);
		memset(&res, 0, sizeof(res));
		f->fn(f->ctx, &req, &res);
		if (res.status == 0)
			http_error(&res, 500, "internal", "handler gave no "
			    "answer");
		if ((r = fc_send_reply(&w->ch, &res)) == TG_ERR_PROTOCOL) {
			/* ours, not the front's: an answer over the bounds */
			fprintf(stderr, "tapgated: %s %s: %s\n", req.method,
			    req.path, w->ch.err);
			free(res.text);
			res.text = NULL;
			http_error(&res, 500, "reply_too_large", "the answer "
			    "is over %u bytes; ask for less", FC_MAX_REPLY);
			r = fc_send_reply(&w->ch, &res);
		}
		json_decref(res.json);
		free(res.text);
		fc_request_clear(&rq);
		if (r != 0) {
			front_report_once(f, "front.exited", r ==
			    TG_ERR_PROTOCOL ? w->ch.err : tg_strerror(r));
			break;
		}
	}
	/* a dead channel is not read again: the front sees EOF on it */
	shutdown(w->ch.fd, SHUT_RDWR);
	return NULL;
}

/*
 * In the child between fork and exec (async-signal-safe calls only):
 * move the listening socket, the control socket and the channels to
 * fds 3, 4, 5.. and close everything else.
 */
static void
front_exec(const char *exe, const int *fds, int n, const char *nchan,
    int https)
{
	int hi[3 + NCHAN], i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < n; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64)) < 0)
			_exit(127);
	for (i = 0; i < n; i++)
		if (dup2(hi[i], FD_LISTEN + i) != FD_LISTEN + i)
			_exit(127);
	close_range((unsigned)(FD_LISTEN + n), ~0U, 0);
	if (https)
		execl(exe, exe, FRONT_ARG, nchan, "https", (char *)NULL);
	else
		execl(exe, exe, FRONT_ARG, nchan, (char *)NULL);
	_exit(127);
}

static void
front_free(struct front *f)
{
	int i;

	for (i = 0; i < NCHAN; i++)
		if (f->w[i].ch.fd >= 0)
			close(f->w[i].ch.fd);
	if (f->ctl.fd >= 0)
		close(f->ctl.fd);
	free(f);
}

/*
 * The privileged callers: uid 0 (every role, in the default configuration
 * and at the box) and each roles entry granting officer or operator.
 */
static void
front_privileged(const struct policy_config *cfg, struct http_limits *lim)
{
	const struct policy_role_entry *e;
	size_t i;

	/* nroles <= POLICY_MAX_ROLE_ENTRIES: everything fits (above) */
	lim->uids[lim->nuids++] = 0;
	for (i = 0; i < cfg->nroles; i++) {
		e = &cfg->roles[i];
		if ((e->roles & PRIVILEGED_ROLES) == 0 || e->is_cert ||
		    e->is_user)
			continue;
		if (e->is_gid)
			lim->gids[lim->ngids++] = (gid_t)e->id;
		else if (e->id != 0)
			lim->uids[lim->nuids++] = (uid_t)e->id;
	}
}

/* Tell the front its privileged callers: the first message on ctl. */
static int
front_send_privileged(struct msg_chan *ctl, const struct policy_config *cfg)
{
	struct http_limits *lim;
	int r;

	if ((lim = calloc(1, sizeof(*lim))) == NULL)
		return TG_ERR_NOMEM;
	front_privileged(cfg, lim);
	if ((r = fc_send_privileged(ctl, lim)) == TG_ERR_PROTOCOL)
		r = TG_ERR_INTERNAL;	/* ours: front_privileged() fits */
	free(lim);
	return r;
}

int
front_start(const char *exe, int listen_fd, const struct policy_config *cfg,
    struct front **out)
{
	return front_start_https(exe, listen_fd, -1, NULL, cfg, out);
}

int
front_reload_tls(struct front *f, const struct fc_tls *tls)
{
	struct fc_tls t = *tls;

	t.ca_pem = (char *)(uintptr_t)"";
	return f->ctl.fd < 0 ? TG_ERR_CLOSED : fc_send_tls(&f->ctl, &t);
}

int
front_start_https(const char *exe, int listen_fd, int https_fd,
    const struct fc_tls *tls, const struct policy_config *cfg,
    struct front **out)
{
	struct front *f;
	int fds[3 + NCHAN], peer[1 + NCHAN], sv[2], i, r = TG_ERR_IO;
	int n = 2 + NCHAN;
	char nchan[8];

	if ((https_fd >= 0) != (tls != NULL)) {
		close(listen_fd);
		if (https_fd >= 0)
			close(https_fd);
		return TG_ERR_INVALID;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		close(listen_fd);
		if (https_fd >= 0)
			close(https_fd);
		return TG_ERR_NOMEM;
	}
	f->pid = -1;
	f->ctl.fd = -1;
	for (i = 0; i < NCHAN; i++)
		f->w[i].ch.fd = -1;
	for (i = 0; i < 1 + NCHAN; i++)
		peer[i] = -1;
	fds[0] = listen_fd;
	for (i = 0; i < 1 + NCHAN; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			goto fail;
		peer[i] = sv[1];
		fds[1 + i] = sv[1];
		if (i == 0)
			fc_ctl_init(&f->ctl, sv[0], MSG_MONITOR);
		else
			fc_chan_init(&f->w[i - 1].ch, sv[0], MSG_MONITOR);
	}
	if (https_fd >= 0)
		fds[n++] = https_fd;
	snprintf(nchan, sizeof(nchan), "%d", NCHAN);
	if ((f->pid = fork()) < 0)
		goto fail;
	if (f->pid == 0)
		front_exec(exe, fds, n, nchan, https_fd >= 0);
	for (i = 0; i < 1 + NCHAN; i++)
		close(peer[i]);
	close(listen_fd);
	if (https_fd >= 0)
		close(https_fd);
	if ((r = front_send_privileged(&f->ctl, cfg)) != 0 ||
	    (tls != NULL && (r = fc_send_tls(&f->ctl, tls)) != 0)) {
		/* the front reads EOF instead, and exits */
		front_stop(&f);
		return r;
	}
	*out = f;
	return 0;
fail:
	for (i = 0; i < 1 + NCHAN; i++)
		if (peer[i] >= 0)
			close(peer[i]);
	close(listen_fd);
	if (https_fd >= 0)
		close(https_fd);
	front_free(f);
	return r;
}

int
front_serve(struct front *f, size_t max_body, http_handler_fn fn, void *ctx,
    front_report_fn report, void *rctx)
{
	int i;

	f->max_body = max_body;
	f->fn = fn;
	f->ctx = ctx;
	f->report = report;
	f->rctx = rctx;
	for (i = 0; i < NCHAN; i++) {
		f->w[i].f = f;
		if (f->w[i].started)
			return TG_ERR_INVALID;
		if (pthread_create(&f->w[i].thread, NULL, front_channel,
		    &f->w[i]) != 0)
			return TG_ERR_NOMEM;
		f->w[i].started = 1;
	}
	return 0;
}

int
front_pid(const struct front *f)
{
	return f != NULL ? (int)f->pid : -1;
}

void
front_stop(struct front **fp)
{
	struct front *f;
	int i;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	atomic_store(&f->stopping, 1);
	if (f->ctl.fd >= 0) {
		close(f->ctl.fd);
		f->ctl.fd = -1;
	}
	child_stop(f->pid, STOP_GRACE_MS);
	/* the front is gone: every channel reads EOF */
	for (i = 0; i < NCHAN; i++)
		if (f->w[i].started)
			pthread_join(f->w[i].thread, NULL);
	front_free(f);
	*fp = NULL;
}

/* ---- front side */

struct front_pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 freed;
	struct msg_chan	 ch[NCHAN];
	int		 busy[NCHAN];
	int		 dead[NCHAN];
	int		 nchan;
};

/* A free, live channel (waiting for one), or -1 when none is left. */
static int
pool_take(struct front_pool *p)
{
	int i, live;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		live = 0;
		for (i = 0; i < p->nchan; i++) {
			if (p->dead[i])
				continue;
			live++;
			if (!p->busy[i]) {
				p->busy[i] = 1;
				pthread_mutex_unlock(&p->lock);
				return i;
			}
		}
		if (live == 0)
			break;
		pthread_cond_wait(&p->freed, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return -1;
}

static void
pool_give(struct front_pool *p, int i, int dead)
{
	pthread_mutex_lock(&p->lock);
	p->busy[i] = 0;
	if (dead) {
		p->dead[i] = 1;
		shutdown(p->ch[i].fd, SHUT_RDWR);
	}
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

_Static_assert(WEB_COOKIE_VALUE_MAX <= HTTP_MAX_SESSION,
    "a session cookie's value crosses whole");

/*
 * What a browser's headers carry over HTTPS: the session cookie's value,
 * found in the Cookie header (a header that does not parse is refused
 * here, 400 bad_cookie), X-CSRF-Token and Origin, each within what the
 * channel carries; on the Unix socket, none of them.  0 with fwd the
 * request to forward (its session in session[HTTP_MAX_SESSION + 1]), or
 * -1 with res the refusal.
 */
static int
front_browser(const struct http_request *req, struct http_request *fwd,
    char *session, struct http_response *res)
{
	struct web_cookie jar[WEB_MAX_COOKIES];
	const char *v;
	size_t n = 0;

	*fwd = *req;
	fwd->cookie = fwd->session = fwd->csrf = fwd->origin = NULL;
	if (!req->peer.tls)
		return 0;
	if (req->cookie != NULL && web_cookies_parse(req->cookie, jar,
	    &n) != 0) {
		OPENSSL_cleanse(jar, sizeof(jar));
		http_error(res, 400, "bad_cookie", "the Cookie header does not "
		    "parse (RFC 6265 4.2.1, each name once)");
		return -1;
	}
	if ((v = web_cookie_get(jar, n, WEB_SESSION_COOKIE)) != NULL) {
		snprintf(session, HTTP_MAX_SESSION + 1, "%s", v);
		fwd->session = session;
	}
	OPENSSL_cleanse(jar, sizeof(jar));
	if ((req->csrf != NULL && strlen(req->csrf) > HTTP_MAX_CSRF) ||
	    (req->origin != NULL && strlen(req->origin) > HTTP_MAX_ORIGIN)) {
		http_error(res, 400, "header_too_long", "X-CSRF-Token: at "
		    "most %d bytes; Origin: at most %d", HTTP_MAX_CSRF,
		    HTTP_MAX_ORIGIN);
		return -1;
	}
	fwd->csrf = req->csrf;
	fwd->origin = req->origin;
	return 0;
}

/* The front's handler: the monitor answers. */
static void
front_forward(void *ctx, const struct http_request *req,
    struct http_response *res)
{
	struct front_pool *p = ctx;
	struct http_request fwd;
	struct fc_reply rep;
	char session[HTTP_MAX_SESSION + 1];
	int i, r;

	/* the console's pages are the front's own: no monitor, no caller */
	if ((r = assets_answer(req, res)) != 0) {
		if (r < 0)
			http_error(res, 500, "internal", "%s", tg_strerror(r));
		return;
	}
	if (strlen(req->method) > FC_MAX_METHOD) {
		http_error(res, 501, "not_implemented", "no such method");
		return;
	}
	if (front_browser(req, &fwd, session, res) != 0)
		return;
	if ((i = pool_take(p)) < 0) {
		http_error(res, 503, "unavailable", "the daemon is stopping");
		return;
	}
	if ((r = fc_send_request(&p->ch[i], &fwd, REQJSON_MAX_BODY)) != 0 ||
	    (r = fc_recv_reply(&p->ch[i], &rep)) != 0) {
		pool_give(p, i, 1);
		fprintf(stderr, "tapgated[front]: channel %d: %s\n", i,
		    r == TG_ERR_PROTOCOL ? p->ch[i].err : tg_strerror(r));
		http_error(res, 503, "unavailable", "the daemon did not "
		    "answer");
		return;
	}
	pool_give(p, i, 0);
	res->status = rep.status;
	res->text = rep.body;
	res->content_type = rep.content_type;
	res->allow = rep.allow;
	memcpy(res->set_cookie, rep.set_cookie, sizeof(res->set_cookie));
	rep.body = NULL;
	fc_reply_clear(&rep);
}

/*
 * The front's limits: the appliance's figures, and the privileged callers
 * the monitor sends first on the control channel.
 */
static int
front_read_limits(struct msg_chan *ctl, struct http_limits *lim)
{
	http_limits_default(lim);
	return fc_recv_privileged(ctl, lim);
}

static int
is_socket(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/*
 * The HTTPS callers' limits: no one is privileged, and per_uid bounds
 * each client address (http.h), so one host trickling connections leaves
 * the listener to the others; the listener's own connections leave the
 * Unix socket's alone.
 */
static void
front_https_limits(struct http_limits *lim)
{
	http_limits_default(lim);
	lim->reserved = 0;
}

/* Reloads from the monitor, until it closes the control channel. */
static void
front_control(struct msg_chan *ctl, struct http_server *https)
{
	struct fc_tls tls;
	char err[256];
	int r;

	for (;;) {
		if ((r = fc_recv_tls(ctl, &tls)) != 0) {
			if (r != TG_ERR_CLOSED)
				fprintf(stderr, "tapgated[front]: control: "
				    "%s%s%s\n", tg_strerror(r),
				    ctl->err[0] ? ": " : "", ctl->err);
			return;
		}
		if (https == NULL)
			fprintf(stderr, "tapgated[front]: HTTPS credentials "
			    "without an HTTPS listener: ignored\n");
		else if (http_server_reload_tls(https, tls.cert_pem,
		    tls.key_pem, err, sizeof(err)) != 0)
			fprintf(stderr, "tapgated[front]: HTTPS reload "
			    "failed, the old certificate is still served: "
			    "%s\n", err);
		else
			fprintf(stderr, "tapgated[front]: HTTPS certificate "
			    "reloaded\n");
		fc_tls_clear(&tls);
	}
}

int
front_main(int nchan, int https)
{
	static struct front_pool pool;
	static struct http_limits lim, tlim;
	struct http_server *srv = NULL, *tsrv = NULL;
	struct fc_tls tls = { 0 };
	struct msg_chan ctl;
	sigset_t none;
	int i, r, nfd = FD_CHAN0 + nchan + (https != 0);

	/* the daemon's blocked signals survive exec: start clean */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (nchan < 1 || nchan > NCHAN) {
		fprintf(stderr, "tapgated[front]: 1 to %d channels\n", NCHAN);
		return 2;
	}
	for (i = FD_LISTEN; i < nfd; i++) {
		if (!is_socket(i)) {
			fprintf(stderr, "tapgated[front]: fd %d is not a "
			    "socket: start it from tapgated\n", i);
			return 2;
		}
		(void)fcntl(i, F_SETFD, FD_CLOEXEC);
	}
	fc_ctl_init(&ctl, FD_CONTROL, MSG_CHILD);
	if ((r = front_read_limits(&ctl, &lim)) != 0) {
		fprintf(stderr, "tapgated[front]: who is privileged: %s%s%s\n",
		    tg_strerror(r), ctl.err[0] ? ": " : "", ctl.err);
		return 1;
	}
	if (https && (r = fc_recv_tls(&ctl, &tls)) != 0) {
		fprintf(stderr, "tapgated[front]: HTTPS credentials: %s%s%s\n",
		    tg_strerror(r), ctl.err[0] ? ": " : "", ctl.err);
		return 1;
	}
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.freed, NULL);
	pool.nchan = nchan;
	for (i = 0; i < nchan; i++)
		fc_chan_init(&pool.ch[i], FD_CHAN0 + i, MSG_CHILD);
	/*
	 * jansson seeds its hash tables from /dev/urandom, and the filter
	 * has no open() to do it later; the C library's lazy reads (the
	 * time zone libmicrohttpd's dates need, malloc's) are settled by
	 * sandbox_apply(), before the first thread.
	 */
	json_object_seed(0);
	/* nothing of value here; confined before the first byte is read */
	if ((r = sandbox_harden()) != 0 ||
	    (r = sandbox_limit_as(SANDBOX_AS_FRONT)) != 0 ||
	    (r = sandbox_apply(SANDBOX_ROLE_FRONT)) != 0) {
		fprintf(stderr, "tapgated[front]: cannot confine the front "
		    "process: %s\n", tg_strerror(r));
		return 1;
	}
	if ((r = http_server_start(FD_LISTEN, REQJSON_MAX_BODY, &lim,
	    front_forward, &pool, &srv)) != 0) {
		fprintf(stderr, "tapgated[front]: cannot serve HTTP: %s\n",
		    tg_strerror(r));
		fc_tls_clear(&tls);
		return 1;
	}
	if (https) {
		front_https_limits(&tlim);
		r = http_server_start_tls(nfd - 1, REQJSON_MAX_BODY, &tlim,
		    tls.cert_pem, tls.key_pem, tls.ca_pem, front_forward,
		    &pool, &tsrv);
		fc_tls_clear(&tls);
		if (r != 0) {
			fprintf(stderr, "tapgated[front]: cannot serve "
			    "HTTPS: %s\n", tg_strerror(r));
			http_server_stop(&srv);
			return 1;
		}
	}
	/*
	 * reloads, until the monitor closes the control channel, or dies
	 * (anything its table does not permit ends the front as well)
	 */
	front_control(&ctl, tsrv);
	http_server_stop(&tsrv);
	http_server_stop(&srv);
	for (i = 0; i < nchan; i++)
		close(pool.ch[i].fd);
	close(FD_CONTROL);
	pthread_cond_destroy(&pool.freed);
	pthread_mutex_destroy(&pool.lock);
	return 0;
}

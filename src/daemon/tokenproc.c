/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/proto.h"
#include "daemon/tokenproc.h"
#include "sandbox/sandbox.h"

#define GRACE_MS	10000	/* beyond the key's own budget */

struct tokenproc {
	pthread_mutex_t	 lock;
	char		*exe;
	char		*roots;		/* NULL: none */
	tokenproc_report_fn report;
	void		*ctx;
	int		 timeout_ms;
	pid_t		 pid;
	struct msg_chan	 ch;		/* ch.fd -1: no child */
};

/* ---- parent */

/*
 * The status that opens every reply: 0 or a TG_ERR_*; anything else is a
 * broken child (the message is marked bad).
 */
static int
reply_status(struct msg *rp)
{
	int r = (int32_t)msg_get_u32(rp);

	if (r > 0 || r < -1000) {
		rp->bad = 1;
		return TG_ERR_PROTOCOL;
	}
	return r;
}

/* A PIN error's reply says the attempts the key has left (proto.h). */
static int
pin_error(int r)
{
	return r == TG_ERR_PIN_INVALID || r == TG_ERR_PIN_AUTH_BLOCKED ||
	    r == TG_ERR_PIN_BLOCKED;
}

/*
 * The status of a reply to a key operation, and after a PIN error the
 * attempts left (*retries, when not NULL; -1 otherwise or when the key
 * did not say).
 */
static int
reply_error(struct msg *rp, int *retries)
{
	uint8_t left;
	int r = reply_status(rp);

	if (retries != NULL)
		*retries = -1;
	if (!pin_error(r))
		return r;
	left = msg_get_u8(rp);
	if (rp->bad)
		return TG_ERR_PROTOCOL;
	if (retries != NULL && left != PROTO_TOKEN_RETRIES_UNKNOWN)
		*retries = left;
	return r;
}

int
tokenproc_enroll_reply(struct msg *rp, const struct token_enroll_req *req,
    struct token_credential **cp, int *retries)
{
	const uint8_t *ad, *att;
	char fmt[TOKEN_FMT_MAX + 1];
	size_t adlen, attlen;
	int r;

	if ((r = reply_error(rp, retries)) != 0)
		return r;
	adlen = msg_get_bytes(rp, &ad, TOKEN_AUTHDATA_MAX);
	msg_get_str(rp, fmt, sizeof(fmt));
	attlen = msg_get_bytes(rp, &att, TOKEN_ATTSTMT_MAX);
	if (rp->bad || ad == NULL || att == NULL)
		return TG_ERR_PROTOCOL;
	/* what the key sent, checked here: the child's word is not enough */
	r = token_verify_enrolment(req, ad, adlen, fmt, att, attlen, cp);
	return r > 0 ? TG_ERR_INTERNAL : r;
}


static int
tp_spawn(struct tokenproc *tp)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return TG_ERR_IO;
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return TG_ERR_IO;
	}
	if (pid == 0) {
		/* only the socket crosses into the child's fresh image */
		if (dup2(sv[1], 3) != 3)
			_exit(127);
		/* only async-signal-safe calls between fork and exec */
		close_range(4, ~0U, 0);
		execl(tp->exe, tp->exe, TOKENPROC_ARG, "3", tp->roots,
		    (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	tp->pid = pid;
	msg_chan_init(&tp->ch, sv[0], &proto_token, MSG_MONITOR);
	return 0;
}

static void
tp_kill(struct tokenproc *tp)
{
	if (tp->pid > 0) {
		kill(tp->pid, SIGKILL);
		waitpid(tp->pid, NULL, 0);
	}
	if (tp->ch.fd >= 0)
		close(tp->ch.fd);
	tp->pid = -1;
	tp->ch.fd = -1;
}

int
tokenproc_start(const char *exe, int timeout_ms, const char *roots,
    tokenproc_report_fn report, void *ctx, struct tokenproc **out)
{
	struct tokenproc *tp;
	int r;

	if ((tp = calloc(1, sizeof(*tp))) == NULL ||
	    (tp->exe = strdup(exe)) == NULL ||
	    (roots != NULL && roots[0] != '\0' &&
	    (tp->roots = strdup(roots)) == NULL)) {
		if (tp != NULL)
			free(tp->exe);
		free(tp);
		return TG_ERR_NOMEM;
	}
	tp->timeout_ms = timeout_ms;
	tp->report = report;
	tp->ctx = ctx;
	tp->pid = -1;
	tp->ch.fd = -1;
	pthread_mutex_init(&tp->lock, NULL);
	if ((r = tp_spawn(tp)) != 0) {
		pthread_mutex_destroy(&tp->lock);
		free(tp->roots);
		free(tp->exe);
		free(tp);
		return r;
	}
	*out = tp;
	return 0;
}

void
tokenproc_stop(struct tokenproc **tpp)
{
	struct tokenproc *tp;

	if (tpp == NULL || (tp = *tpp) == NULL)
		return;
	/* closing its socket ends the child's loop; then make sure */
	if (tp->ch.fd >= 0) {
		close(tp->ch.fd);
		tp->ch.fd = -1;
	}
	if (tp->pid > 0 && waitpid(tp->pid, NULL, WNOHANG) == 0) {
		usleep(100000);
		tp_kill(tp);
	}
	pthread_mutex_destroy(&tp->lock);
	free(tp->roots);
	free(tp->exe);
	free(tp);
	*tpp = NULL;
}

/* The child broke the protocol: replaced, logged, and the daemon told. */
static void
tp_violation(struct tokenproc *tp, const char *what)
{
	char detail[sizeof(tp->ch.err)];

	/* what may be the channel's own account, gone with the channel */
	snprintf(detail, sizeof(detail), "%s", what);
	fprintf(stderr, "tapgated: token process broke the protocol (%s): "
	    "restarting it\n", detail);
	tp_kill(tp);
	tp_spawn(tp);
	if (tp->report != NULL)
		tp->report(tp->ctx, "privsep.violation", detail);
}

/*
 * One exchange: send req as type, wait for the reply into rep (the table
 * lets only the reply of its kind through).  A child that is gone,
 * silent past the budget or sends nothing sensible is killed and
 * replaced, and the operation fails.
 */
static int
tp_call(struct tokenproc *tp, uint8_t type, struct msg *req, struct msg *rep)
{
	struct pollfd pfd;
	uint8_t got;
	int n, r;

	/* a child that died since the last call is replaced first */
	if (tp->pid > 0 && waitpid(tp->pid, NULL, WNOHANG) == tp->pid) {
		fprintf(stderr, "tapgated: token process exited; restarting "
		    "it\n");
		tp->pid = -1;
		tp_kill(tp);
	}
	if (tp->pid < 0 && (r = tp_spawn(tp)) != 0)
		return r;
	r = msg_chan_send(&tp->ch, type, req, 0);
	if (r == TG_ERR_TOO_LONG || r == TG_ERR_NOMEM)
		return r;	/* ours, and nothing was sent */
	pfd.fd = tp->ch.fd;
	pfd.events = POLLIN;
	while (r == 0) {
		n = poll(&pfd, 1, tp->timeout_ms + GRACE_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = TG_ERR_TIMEOUT;
		else
			r = msg_chan_recv(&tp->ch, &got, rep);
		break;
	}
	if (r == TG_ERR_TIMEOUT || r == TG_ERR_NOMEM) {
		fprintf(stderr, "tapgated: token process %s: restarting it\n",
		    r == TG_ERR_TIMEOUT ? "silent past its budget" :
		    "reply with no memory to take it");
		tp_kill(tp);
		tp_spawn(tp);
	} else if (r != 0) {
		tp_violation(tp, r == TG_ERR_PROTOCOL ? tp->ch.err :
		    "no reply");
		r = TG_ERR_PROTOCOL;
	}
	return r;
}

/*
 * A reply must be read exactly; one that is not is a child breaking the
 * protocol: it is replaced.
 */
static int
tp_reply_end(struct tokenproc *tp, const struct msg *rp, const char *what)
{
	if (msg_chan_end(&tp->ch, rp, what) == 0)
		return 0;
	tp_violation(tp, tp->ch.err);
	return TG_ERR_PROTOCOL;
}

/* A list the child would refuse, refused here (nothing sent). */
static int
list_check(const struct token_cred_id *ids, size_t n)
{
	size_t i;

	if (n > TOKEN_LIST_MAX)
		return TG_ERR_TOO_LONG;
	if (n > 0 && ids == NULL)
		return TG_ERR_INVALID;
	for (i = 0; i < n; i++)
		if (ids[i].ptr == NULL || ids[i].len == 0 ||
		    ids[i].len > TOKEN_CRED_ID_MAX)
			return TG_ERR_INVALID;
	return 0;
}

/*
 * A credential list travels ahead of its request, in as many TOKEN_LIST
 * messages as its ids take (an exclude list grows with every credential
 * ever revoked for compromise); the request then names how many there
 * are.  Each part is answered with a status.  ids passed list_check().
 */
static int
tp_send_list(struct tokenproc *tp, const struct token_cred_id *ids,
    size_t n)
{
	static struct msg lq, lr;	/* under tp->lock */
	size_t i = 0, k, room;
	int r;

	while (i < n) {
		msg_init(&lq);
		room = MSG_MAX - 4;	/* after the count */
		for (k = i; k < n && 4 + ids[k].len <= room; k++)
			room -= 4 + ids[k].len;
		msg_put_u32(&lq, (uint32_t)(k - i));
		for (; i < k; i++)
			msg_put_bytes(&lq, ids[i].ptr, ids[i].len);
		if ((r = tp_call(tp, PROTO_TOKEN_LIST, &lq, &lr)) != 0)
			return r;
		r = reply_status(&lr);
		if (tp_reply_end(tp, &lr, "list reply") != 0)
			return TG_ERR_PROTOCOL;
		if (r != 0) {
			tp_violation(tp, "a list part refused");
			return TG_ERR_PROTOCOL;
		}
	}
	return 0;
}

static int
str_ok(const char *s, size_t max)
{
	return s == NULL || strlen(s) <= max;
}

/* A request the child would refuse as malformed, refused here. */
static int
enroll_in_bounds(const char *device, const struct token_enroll_req *req)
{
	if (!str_ok(device, PROTO_TOKEN_PATH_MAX) ||
	    !str_ok(req->rp_id, PROTO_TOKEN_NAME_MAX) ||
	    !str_ok(req->rp_name, PROTO_TOKEN_NAME_MAX) ||
	    req->user_id_len > PROTO_TOKEN_USER_ID_MAX ||
	    !str_ok(req->user_name, PROTO_TOKEN_NAME_MAX) ||
	    !str_ok(req->user_display_name, PROTO_TOKEN_NAME_MAX) ||
	    !str_ok(req->pin, TOKEN_PIN_MAX) ||
	    !str_ok(req->trust_roots_pem, PROTO_TOKEN_PATH_MAX) ||
	    req->naaguids > PROTO_TOKEN_AAGUIDS_MAX)
		return TG_ERR_TOO_LONG;
	return 0;
}

static int
assert_in_bounds(const char *device, const struct token_assert_req *req)
{
	if (!str_ok(device, PROTO_TOKEN_PATH_MAX) ||
	    !str_ok(req->rp_id, PROTO_TOKEN_NAME_MAX) ||
	    !str_ok(req->pin, TOKEN_PIN_MAX))
		return TG_ERR_TOO_LONG;
	return 0;
}

int
tokenproc_enroll(struct tokenproc *tp, const char *device,
    const struct token_enroll_req *req, struct token_credential **credp,
    int *retries)
{
	static struct msg rq, rp;	/* under tp->lock */
	struct token_credential *c = NULL;
	size_t i;
	int r, left = -1;

	pthread_mutex_lock(&tp->lock);
	if ((r = enroll_in_bounds(device, req)) != 0)
		goto out;
	msg_init(&rq);
	msg_put_u32(&rq, (uint32_t)tp->timeout_ms);
	msg_put_str(&rq, device);
	msg_put_str(&rq, req->rp_id);
	msg_put_str(&rq, req->rp_name);
	msg_put_bytes(&rq, req->user_id, req->user_id_len);
	msg_put_str(&rq, req->user_name);
	msg_put_str(&rq, req->user_display_name);
	msg_put_bytes(&rq, req->client_data_hash, TOKEN_CDH_LEN);
	msg_put_u32(&rq, (uint32_t)req->alg);
	msg_put_u8(&rq, req->resident);
	msg_put_u8(&rq, (uint8_t)req->cred_protect);
	msg_put_str(&rq, req->pin);
	msg_put_str(&rq, req->trust_roots_pem);
	msg_put_u32(&rq, (uint32_t)req->naaguids);
	for (i = 0; i < req->naaguids; i++)
		msg_put_bytes(&rq, req->aaguids[i], TOKEN_AAGUID_LEN);
	msg_put_u32(&rq, (uint32_t)req->nexclude);
	if (rq.bad) {
		r = rq.nomem ? TG_ERR_NOMEM : TG_ERR_TOO_LONG;
		goto out;
	}
	/* the request is whole: its list goes first */
	if ((r = list_check(req->exclude, req->nexclude)) != 0 ||
	    (r = tp_send_list(tp, req->exclude, req->nexclude)) != 0 ||
	    (r = tp_call(tp, PROTO_TOKEN_ENROLL, &rq, &rp)) != 0)
		goto out;
	/*
	 * The reply is read whole before anything is allocated, so that a
	 * status of TG_ERR_NOMEM from the child, or our own, still has its
	 * trailing bytes checked.
	 */
	r = tokenproc_enroll_reply(&rp, req, &c, &left);
	if (tp_reply_end(tp, &rp, "enrolment reply") != 0) {
		r = TG_ERR_PROTOCOL;
		left = -1;
	} else if (r != 0 && r != TG_ERR_NOMEM && rp.len >= 4 &&
	    rp.buf[0] == 0 && rp.buf[1] == 0 && rp.buf[2] == 0 &&
	    rp.buf[3] == 0)
		/* it called good what the key did not attest: it lies */
		tp_violation(tp, "enrolment reported good does not verify");
	if (r == 0) {
		*credp = c;
		c = NULL;	/* transferred */
	}
out:
	msg_wipe(&rq);
	token_credential_free(&c);
	pthread_mutex_unlock(&tp->lock);
	if (retries != NULL)
		*retries = left;
	return r;
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d;

	if (p == NULL || n == 0 || (d = malloc(n)) == NULL)
		return NULL;
	memcpy(d, p, n);
	return d;
}

int
tokenproc_assert_reply(struct msg *rp, struct token_assertion **ap,
    int *retries)
{
	struct token_assertion *a;
	const uint8_t *id, *ad, *sig;
	size_t idlen, adlen, siglen;
	uint32_t count;
	uint8_t flags;
	int r;

	if ((r = reply_error(rp, retries)) != 0)
		return r;
	/* read whole before anything is allocated: see tokenproc_assert() */
	idlen = msg_get_bytes(rp, &id, TOKEN_CRED_ID_MAX);
	adlen = msg_get_bytes(rp, &ad, TOKEN_AUTHDATA_MAX);
	siglen = msg_get_bytes(rp, &sig, TOKEN_SIG_MAX);
	count = msg_get_u32(rp);
	flags = msg_get_u8(rp);
	if (rp->bad || idlen == 0 || adlen == 0 || siglen == 0)
		return TG_ERR_PROTOCOL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return TG_ERR_NOMEM;
	a->cred_id = dup_bytes(id, a->cred_id_len = idlen);
	a->authdata = dup_bytes(ad, a->authdata_len = adlen);
	a->sig = dup_bytes(sig, a->sig_len = siglen);
	a->sign_count = count;
	a->flags = flags;
	if (a->cred_id == NULL || a->authdata == NULL || a->sig == NULL) {
		token_assertion_free(&a);
		return TG_ERR_NOMEM;
	}
	*ap = a;
	return 0;
}

int
tokenproc_assert(struct tokenproc *tp, const char *device,
    const struct token_assert_req *req, struct token_assertion **asp,
    int *retries)
{
	static struct msg rq, rp;	/* under tp->lock */
	struct token_assertion *a = NULL;
	int r, left = -1;

	pthread_mutex_lock(&tp->lock);
	if ((r = assert_in_bounds(device, req)) != 0)
		goto out;
	msg_init(&rq);
	msg_put_u32(&rq, (uint32_t)tp->timeout_ms);
	msg_put_str(&rq, device);
	msg_put_str(&rq, req->rp_id);
	msg_put_bytes(&rq, req->client_data_hash, TOKEN_CDH_LEN);
	msg_put_u32(&rq, (uint32_t)req->nallow);
	msg_put_str(&rq, req->pin);
	if (rq.bad) {
		r = rq.nomem ? TG_ERR_NOMEM : TG_ERR_TOO_LONG;
		goto out;
	}
	if ((r = list_check(req->allow, req->nallow)) != 0 ||
	    (r = tp_send_list(tp, req->allow, req->nallow)) != 0 ||
	    (r = tp_call(tp, PROTO_TOKEN_ASSERT, &rq, &rp)) != 0)
		goto out;
	r = tokenproc_assert_reply(&rp, &a, &left);
	if (tp_reply_end(tp, &rp, "assertion reply") != 0) {
		r = TG_ERR_PROTOCOL;
		left = -1;
	}
	if (r == 0) {
		*asp = a;
		a = NULL;	/* transferred */
	}
out:
	msg_wipe(&rq);
	token_assertion_free(&a);
	pthread_mutex_unlock(&tp->lock);
	if (retries != NULL)
		*retries = left;
	return r;
}

int
tokenproc_identify_reply(struct msg *rp, const uint8_t **idp, size_t *lenp,
    int *retries)
{
	const uint8_t *id;
	size_t len;
	int r;

	if ((r = reply_error(rp, retries)) != 0)
		return r;
	len = msg_get_bytes(rp, &id, TOKEN_CRED_ID_MAX);
	if (rp->bad || id == NULL || len == 0)
		return TG_ERR_PROTOCOL;
	*idp = id;
	*lenp = len;
	return 0;
}

/* Whether id is one of the credentials the request allowed. */
static int
allowed(const struct token_assert_req *req, const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < req->nallow; i++)
		if (req->allow[i].len == len &&
		    memcmp(req->allow[i].ptr, id, len) == 0)
			return 1;
	return 0;
}

/* The child's answer to an identification, read whole and checked. */
static int
identify_answer(struct tokenproc *tp, const struct token_assert_req *req,
    struct msg *rp, uint8_t **cred_id, size_t *cred_id_len, int *left)
{
	const uint8_t *id = NULL;
	uint8_t *copy;
	size_t len = 0;
	int r;

	r = tokenproc_identify_reply(rp, &id, &len, left);
	if (tp_reply_end(tp, rp, "identification reply") != 0) {
		*left = -1;
		return TG_ERR_PROTOCOL;
	}
	if (r != 0)
		return r;
	if (!allowed(req, id, len)) {
		/* a credential it was not asked about: it lies */
		tp_violation(tp, "identified a credential not on the list");
		return TG_ERR_PROTOCOL;
	}
	if ((copy = malloc(len)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(copy, id, len);
	*cred_id = copy;
	*cred_id_len = len;
	return 0;
}

int
tokenproc_identify(struct tokenproc *tp, const char *device,
    const struct token_assert_req *req, uint8_t **cred_id,
    size_t *cred_id_len, int *retries)
{
	static struct msg rq, rp;	/* under tp->lock */
	int r, left = -1;

	pthread_mutex_lock(&tp->lock);
	if ((r = assert_in_bounds(device, req)) != 0)
		goto out;
	if (req->nallow == 0) {
		r = TG_ERR_INVALID;	/* no credential to ask about */
		goto out;
	}
	msg_init(&rq);
	msg_put_u32(&rq, (uint32_t)tp->timeout_ms);
	msg_put_str(&rq, device);
	msg_put_str(&rq, req->rp_id);
	msg_put_u32(&rq, (uint32_t)req->nallow);
	msg_put_str(&rq, req->pin);
	if (rq.bad) {
		r = rq.nomem ? TG_ERR_NOMEM : TG_ERR_TOO_LONG;
		goto out;
	}
	if ((r = list_check(req->allow, req->nallow)) != 0 ||
	    (r = tp_send_list(tp, req->allow, req->nallow)) != 0 ||
	    (r = tp_call(tp, PROTO_TOKEN_IDENTIFY, &rq, &rp)) != 0)
		goto out;
	r = identify_answer(tp, req, &rp, cred_id, cred_id_len, &left);
out:
	msg_wipe(&rq);
	pthread_mutex_unlock(&tp->lock);
	if (retries != NULL)
		*retries = left;
	return r;
}

/* ---- child */

/* The list the next request uses, gathered from TOKEN_LIST messages. */
static struct token_cred_id	pending[TOKEN_LIST_MAX];
static size_t			npending;

static void
pending_clear(void)
{
	size_t i;

	for (i = 0; i < npending; i++)
		free((void *)(uintptr_t)pending[i].ptr);
	memset(pending, 0, npending * sizeof(pending[0]));
	npending = 0;
}

/*
 * A reply's status; after a PIN error, the attempts the key has left,
 * asked of it at once (getPINRetries: no PIN, no touch).
 */
static void
child_status(struct msg *rp, int r, struct token *tok)
{
	int left = -1;

	msg_init(rp);
	msg_put_u32(rp, (uint32_t)r);
	if (!pin_error(r))
		return;
	if (tok == NULL || token_pin_retries(tok, &left) != 0 || left < 0 ||
	    left >= PROTO_TOKEN_RETRIES_UNKNOWN)
		left = PROTO_TOKEN_RETRIES_UNKNOWN;
	msg_put_u8(rp, (uint8_t)left);
}

/*
 * The end of a request: one the daemon did not write exactly is a broken
 * daemon, and the token process has nothing better to do than exit.
 */
static void
child_end(struct msg_chan *ch, const struct msg *rq, const char *what)
{
	if (msg_chan_end(ch, rq, what) != 0) {
		fprintf(stderr, "tapgated[token]: %s\n", ch->err);
		exit(2);
	}
}

/* One part of a list; the daemon broke the protocol if it overflows. */
static void
child_list(struct msg_chan *ch, struct msg *rq, struct msg *rp)
{
	const uint8_t *p;
	uint8_t *copy;
	uint32_t i, n = msg_get_u32(rq);
	size_t len;

	if (n == 0 || n > TOKEN_LIST_MAX - npending)
		rq->bad = 1;
	for (i = 0; i < n && !rq->bad; i++) {
		len = msg_get_bytes(rq, &p, TOKEN_CRED_ID_MAX);
		if (rq->bad || len == 0)
			rq->bad = 1;
		else if ((copy = malloc(len)) == NULL) {
			fprintf(stderr, "tapgated[token]: out of memory\n");
			exit(1);
		} else {
			memcpy(copy, p, len);
			pending[npending].ptr = copy;
			pending[npending++].len = len;
		}
	}
	child_end(ch, rq, "list part");
	msg_init(rp);
	msg_put_u32(rp, 0);
}

/* A request names how long its list is: what came before, exactly. */
static void
get_ids(struct msg *m, const struct token_cred_id **ids, size_t *n)
{
	if (msg_get_u32(m) != npending)
		m->bad = 1;
	*ids = pending;
	*n = npending;
}

static void
child_enroll(struct msg_chan *ch, struct msg *rq, struct msg *rp)
{
	static char dev[PROTO_TOKEN_PATH_MAX + 1];
	static char rp_id[PROTO_TOKEN_NAME_MAX + 1];
	static char rp_name[PROTO_TOKEN_NAME_MAX + 1];
	static char uname[PROTO_TOKEN_NAME_MAX + 1];
	static char dname[PROTO_TOKEN_NAME_MAX + 1];
	static char pin[TOKEN_PIN_MAX + 1];
	static char roots[PROTO_TOKEN_PATH_MAX + 1];
	uint8_t aaguids[PROTO_TOKEN_AAGUIDS_MAX][TOKEN_AAGUID_LEN];
	struct token_credential *c = NULL;
	struct token_enroll_req er;
	struct token_opts opts = { 0, 2000 };
	struct token *tok = NULL;
	const uint8_t *p;
	uint32_t i, na;
	int r;

	memset(&er, 0, sizeof(er));
	opts.timeout_ms = (int)msg_get_u32(rq);
	msg_get_str(rq, dev, sizeof(dev));
	msg_get_str(rq, rp_id, sizeof(rp_id));
	msg_get_str(rq, rp_name, sizeof(rp_name));
	er.user_id_len = msg_get_bytes(rq, &er.user_id,
	    PROTO_TOKEN_USER_ID_MAX);
	msg_get_str(rq, uname, sizeof(uname));
	msg_get_str(rq, dname, sizeof(dname));
	if (msg_get_bytes(rq, &p, TOKEN_CDH_LEN) != TOKEN_CDH_LEN)
		rq->bad = 1;
	er.client_data_hash = p;
	er.alg = (int32_t)msg_get_u32(rq);
	er.resident = msg_get_u8(rq) != 0;
	er.cred_protect = msg_get_u8(rq);
	msg_get_str(rq, pin, sizeof(pin));
	msg_get_str(rq, roots, sizeof(roots));
	if ((na = msg_get_u32(rq)) > PROTO_TOKEN_AAGUIDS_MAX)
		rq->bad = 1;
	for (i = 0; i < na && !rq->bad; i++) {
		if (msg_get_bytes(rq, &p, TOKEN_AAGUID_LEN) != TOKEN_AAGUID_LEN)
			rq->bad = 1;
		else
			memcpy(aaguids[i], p, TOKEN_AAGUID_LEN);
	}
	get_ids(rq, &er.exclude, &er.nexclude);
	if (opts.timeout_ms <= 0)
		rq->bad = 1;
	child_end(ch, rq, "enrolment request");
	er.rp_id = rp_id;
	er.rp_name = rp_name;
	er.user_name = uname;
	er.user_display_name = dname[0] ? dname : NULL;
	er.pin = pin;
	er.trust_roots_pem = roots;
	er.aaguids = (const uint8_t (*)[TOKEN_AAGUID_LEN])aaguids;
	er.naaguids = na;
	if ((r = token_open(dev, &opts, &tok)) == 0)
		r = token_enroll(tok, &er, &c);
	child_status(rp, r, tok);
	token_free(&tok);
	pending_clear();
	explicit_bzero(pin, sizeof(pin));
	if (r == 0) {
		msg_put_bytes(rp, c->authdata, c->authdata_len);
		msg_put_str(rp, c->fmt);
		msg_put_bytes(rp, c->attstmt, c->attstmt_len);
	}
	token_credential_free(&c);
}

static void
child_assert(struct msg_chan *ch, struct msg *rq, struct msg *rp)
{
	static char dev[PROTO_TOKEN_PATH_MAX + 1];
	static char rp_id[PROTO_TOKEN_NAME_MAX + 1];
	static char pin[TOKEN_PIN_MAX + 1];
	struct token_assertion *a = NULL;
	struct token_assert_req ar;
	struct token_opts opts = { 0, 2000 };
	struct token *tok = NULL;
	const uint8_t *p;
	int r;

	memset(&ar, 0, sizeof(ar));
	opts.timeout_ms = (int)msg_get_u32(rq);
	msg_get_str(rq, dev, sizeof(dev));
	msg_get_str(rq, rp_id, sizeof(rp_id));
	if (msg_get_bytes(rq, &p, TOKEN_CDH_LEN) != TOKEN_CDH_LEN)
		rq->bad = 1;
	ar.client_data_hash = p;
	get_ids(rq, &ar.allow, &ar.nallow);
	msg_get_str(rq, pin, sizeof(pin));
	if (opts.timeout_ms <= 0)
		rq->bad = 1;
	child_end(ch, rq, "assertion request");
	ar.rp_id = rp_id;
	ar.pin = pin;
	if ((r = token_open(dev, &opts, &tok)) == 0)
		r = token_assert(tok, &ar, &a);
	child_status(rp, r, tok);
	token_free(&tok);
	pending_clear();
	explicit_bzero(pin, sizeof(pin));
	if (r == 0) {
		msg_put_bytes(rp, a->cred_id, a->cred_id_len);
		msg_put_bytes(rp, a->authdata, a->authdata_len);
		msg_put_bytes(rp, a->sig, a->sig_len);
		msg_put_u32(rp, a->sign_count);
		msg_put_u8(rp, a->flags);
	}
	token_assertion_free(&a);
}

static void
child_identify(struct msg_chan *ch, struct msg *rq, struct msg *rp)
{
	static char dev[PROTO_TOKEN_PATH_MAX + 1];
	static char rp_id[PROTO_TOKEN_NAME_MAX + 1];
	static char pin[TOKEN_PIN_MAX + 1];
	struct token_assert_req ar;
	struct token_opts opts = { 0, 2000 };
	struct token *tok = NULL;
	uint8_t *id = NULL;
	size_t idlen = 0;
	int r;

	memset(&ar, 0, sizeof(ar));
	opts.timeout_ms = (int)msg_get_u32(rq);
	msg_get_str(rq, dev, sizeof(dev));
	msg_get_str(rq, rp_id, sizeof(rp_id));
	get_ids(rq, &ar.allow, &ar.nallow);
	msg_get_str(rq, pin, sizeof(pin));
	if (opts.timeout_ms <= 0 || ar.nallow == 0)
		rq->bad = 1;
	child_end(ch, rq, "identification request");
	ar.rp_id = rp_id;
	ar.pin = pin;
	if ((r = token_open(dev, &opts, &tok)) == 0)
		r = token_identify(tok, &ar, &id, &idlen);
	child_status(rp, r, tok);
	token_free(&tok);
	pending_clear();
	explicit_bzero(pin, sizeof(pin));
	if (r == 0)
		msg_put_bytes(rp, id, idlen);
	free(id);
}

int
tokenproc_main(int fd, const char *roots)
{
	static struct msg rq, rp;
	const struct sandbox_path rootsp = { roots, 0 };
	struct msg_chan ch;
	sigset_t none;
	uint8_t type, reply;
	int r;

	/* the daemon's blocked signals survive exec: start clean */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* die with the daemon; hold nothing worth a core dump */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	/* asked before the filter, which has no landlock_*() calls */
	if (sandbox_landlock_abi() < 1)
		fprintf(stderr, "tapgated[token]: the kernel has no Landlock: "
		    "the token process's opens are limited by seccomp only\n");
	/* OpenSSL reads its configuration once, while it still can */
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	/* it parses what keys send: confined before the first request */
	if (sandbox_harden() != 0 || sandbox_limit_as(SANDBOX_AS_TOKEN) != 0 ||
	    sandbox_apply_paths(SANDBOX_ROLE_TOKEN, &rootsp, roots ? 1 : 0) !=
	    0) {
		fprintf(stderr, "tapgated[token]: cannot confine the token "
		    "process\n");
		return 1;
	}
	msg_chan_init(&ch, fd, &proto_token, MSG_CHILD);
	for (;;) {
		if ((r = msg_chan_recv(&ch, &type, &rq)) == TG_ERR_CLOSED)
			return 0;	/* the daemon closed: done */
		if (r != 0) {
			fprintf(stderr, "tapgated[token]: %s\n", r ==
			    TG_ERR_PROTOCOL ? ch.err : tg_strerror(r));
			return r == TG_ERR_PROTOCOL ? 2 : 1;
		}
		/* the table let through a request, in the idle state */
		switch (type) {
		case PROTO_TOKEN_LIST:
			child_list(&ch, &rq, &rp);
			reply = PROTO_TOKEN_LISTED;
			break;
		case PROTO_TOKEN_ENROLL:
			child_enroll(&ch, &rq, &rp);
			reply = PROTO_TOKEN_ENROLLED;
			break;
		case PROTO_TOKEN_ASSERT:
			child_assert(&ch, &rq, &rp);
			reply = PROTO_TOKEN_ASSERTED;
			break;
		case PROTO_TOKEN_IDENTIFY:
			child_identify(&ch, &rq, &rp);
			reply = PROTO_TOKEN_IDENTIFIED;
			break;
		default:
			fprintf(stderr, "tapgated[token]: the table let "
			    "through a message of type %u\n", type);
			return 2;
		}
		msg_wipe(&rq);
		r = msg_chan_send(&ch, reply, &rp, 0);
		msg_wipe(&rp);
		if (r != 0)
			return 1;
	}
}

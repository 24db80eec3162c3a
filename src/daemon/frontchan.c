/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"
#include "daemon/proto.h"

/* The content types and Allow values a reply may carry, by code. */
static const char *const ctypes[] = {
	"application/json",
	"text/plain",
	"text/plain; version=0.0.4",
};
static const char *const allows[] = {
	NULL, "GET", "POST", "GET, POST",
};
#define NCTYPES	(sizeof(ctypes) / sizeof(ctypes[0]))
#define NALLOWS	(sizeof(allows) / sizeof(allows[0]))

void
fc_chan_init(struct msg_chan *ch, int fd, enum msg_side side)
{
	msg_chan_init(ch, fd, &proto_front, side);
}

void
fc_ctl_init(struct msg_chan *ch, int fd, enum msg_side side)
{
	msg_chan_init(ch, fd, &proto_front_ctl, side);
}

/* This side's own message refused: nothing crosses, the channel lives. */
static int
refuse(struct msg_chan *ch, const char *what)
{
	snprintf(ch->err, sizeof(ch->err), "%s", what);
	return TG_ERR_PROTOCOL;
}

/* msg_chan_send()'s refusals of this side's own message, as ours. */
static int
send_status(int r)
{
	return r == TG_ERR_TOO_LONG || r == TG_ERR_INVALID ? TG_ERR_PROTOCOL :
	    r;
}

static int
field_ok(const char *s, size_t max)
{
	return s == NULL || strlen(s) <= max;
}

/* Printable ASCII, spaces too: what a header's value may carry here. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

/* A browser's header: over HTTPS only, printable, within max. */
static int
header_ok(const char *s, size_t max, int tls)
{
	return s == NULL || (tls && strlen(s) <= max && printable(s));
}

/* What the monitor would refuse, refused here. */
static int
request_in_bounds(const struct http_request *req, size_t max_body)
{
	size_t i;

	if (!header_ok(req->session, HTTP_MAX_SESSION, req->peer.tls) ||
	    !header_ok(req->csrf, HTTP_MAX_CSRF, req->peer.tls) ||
	    !header_ok(req->origin, HTTP_MAX_ORIGIN, req->peer.tls))
		return 0;
	if (!field_ok(req->method, FC_MAX_METHOD) ||
	    !field_ok(req->path, HTTP_MAX_PATH) ||
	    !field_ok(req->content_type, HTTP_MAX_FIELD) ||
	    !field_ok(req->idempotency_key, HTTP_MAX_FIELD) ||
	    req->nquery > HTTP_MAX_QUERY || max_body > FC_MAX_BODY ||
	    req->body_len > max_body)
		return 0;
	for (i = 0; i < req->nquery; i++)
		if (!field_ok(req->query[i].key, HTTP_MAX_QUERY_KEY) ||
		    !field_ok(req->query[i].value, HTTP_MAX_QUERY_VALUE))
			return 0;
	return 1;
}

int
fc_send_request(struct msg_chan *ch, const struct http_request *req,
    size_t max_body)
{
	struct msg m = { 0 };
	size_t i;
	int r;

	if (!request_in_bounds(req, max_body))
		return refuse(ch, "request field over its bound");
	msg_init_max(&m, MSG_MAX_ANY);
	msg_put_str(&m, req->method);
	msg_put_str(&m, req->path);
	msg_put_u32(&m, (uint32_t)req->peer.uid);
	msg_put_u32(&m, (uint32_t)req->peer.gid);
	msg_put_u32(&m, (uint32_t)req->peer.pid);
	msg_put_u8(&m, req->peer.tls != 0);
	msg_put_bytes(&m, req->peer.cert_sha256, req->peer.has_cert ?
	    HTTP_CERT_SHA256_LEN : 0);
	msg_put_str(&m, req->session != NULL ? req->session : "");
	msg_put_str(&m, req->csrf != NULL ? req->csrf : "");
	msg_put_str(&m, req->origin != NULL ? req->origin : "");
	msg_put_u8(&m, req->content_type != NULL);
	msg_put_str(&m, req->content_type);
	msg_put_u8(&m, req->idempotency_key != NULL);
	msg_put_str(&m, req->idempotency_key);
	msg_put_u8(&m, (uint8_t)req->nquery);
	for (i = 0; i < req->nquery; i++) {
		msg_put_str(&m, req->query[i].key);
		msg_put_str(&m, req->query[i].value);
	}
	msg_put_bytes(&m, req->body, req->body_len);
	r = send_status(msg_chan_send(ch, PROTO_FRONT_REQUEST, &m, 0));
	msg_free(&m);
	return r;
}

void
fc_request_view(const struct fc_request *req, struct http_request *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->method = req->method;
	out->path = req->path;
	out->peer = req->peer;
	out->body = req->body ? req->body : "";
	out->body_len = req->body_len;
	out->content_type = req->has_ctype ? req->ctype : NULL;
	out->idempotency_key = req->has_idem ? req->idem : NULL;
	out->session = req->session[0] != '\0' ? req->session : NULL;
	out->csrf = req->csrf[0] != '\0' ? req->csrf : NULL;
	out->origin = req->origin[0] != '\0' ? req->origin : NULL;
	for (i = 0; i < req->nquery; i++) {
		out->query[i].key = req->qkey[i];
		out->query[i].value = req->qval[i];
	}
	out->nquery = req->nquery;
}

void
fc_request_clear(struct fc_request *req)
{
	if (req->body != NULL) {
		OPENSSL_cleanse(req->body, req->body_len + 1);
		free(req->body);
	}
	OPENSSL_cleanse(req, sizeof(*req));
}

void
fc_reply_clear(struct fc_reply *rep)
{
	free(rep->body);
	memset(rep, 0, sizeof(*rep));
}

/* An HTTP method token: upper-case letters only. */
static int
method_ok(const char *m)
{
	if (*m == '\0')
		return 0;
	for (; *m != '\0'; m++)
		if (*m < 'A' || *m > 'Z')
			return 0;
	return 1;
}

/* A copy of n bytes at p with a NUL after them. */
static char *
text_dup(const uint8_t *p, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int
fc_parse_request(struct msg_chan *ch, struct msg *m, size_t max_body,
    struct fc_request *req)
{
	const uint8_t *body, *cert;
	size_t i, blen, clen;
	uint8_t tls;
	int r;

	memset(req, 0, sizeof(*req));
	msg_get_str(m, req->method, sizeof(req->method));
	msg_get_str(m, req->path, sizeof(req->path));
	req->peer.uid = (uid_t)msg_get_u32(m);
	req->peer.gid = (gid_t)msg_get_u32(m);
	req->peer.pid = (pid_t)msg_get_u32(m);
	tls = msg_get_u8(m);
	clen = msg_get_bytes(m, &cert, HTTP_CERT_SHA256_LEN);
	/* over HTTPS no one is a uid; a fingerprint only over HTTPS */
	if (!m->bad && (tls > 1 || (clen != 0 &&
	    clen != HTTP_CERT_SHA256_LEN) || (tls == 0 && clen != 0) ||
	    (tls == 1 && (req->peer.uid != (uid_t)HTTP_NO_ID ||
	    req->peer.gid != (gid_t)HTTP_NO_ID)))) {
		r = msg_chan_violation(ch, "caller identity out of range");
		goto fail;
	}
	req->peer.tls = tls;
	req->peer.has_cert = clen == HTTP_CERT_SHA256_LEN;
	if (req->peer.has_cert)
		memcpy(req->peer.cert_sha256, cert, clen);
	msg_get_str(m, req->session, sizeof(req->session));
	msg_get_str(m, req->csrf, sizeof(req->csrf));
	msg_get_str(m, req->origin, sizeof(req->origin));
	/* a browser's headers: over HTTPS only, printable */
	if (!m->bad && (!printable(req->session) || !printable(req->csrf) ||
	    !printable(req->origin) || (tls == 0 && (req->session[0] != '\0' ||
	    req->csrf[0] != '\0' || req->origin[0] != '\0')))) {
		r = msg_chan_violation(ch, "browser headers out of range");
		goto fail;
	}
	req->has_ctype = msg_get_u8(m);
	msg_get_str(m, req->ctype, sizeof(req->ctype));
	req->has_idem = msg_get_u8(m);
	msg_get_str(m, req->idem, sizeof(req->idem));
	req->nquery = msg_get_u8(m);
	if (req->nquery > HTTP_MAX_QUERY) {
		r = msg_chan_violation(ch, "%zu query parameters (at most %d)",
		    req->nquery, HTTP_MAX_QUERY);
		goto fail;
	}
	for (i = 0; i < req->nquery; i++) {
		msg_get_str(m, req->qkey[i], sizeof(req->qkey[i]));
		msg_get_str(m, req->qval[i], sizeof(req->qval[i]));
	}
	blen = msg_get_bytes(m, &body, FC_MAX_BODY);
	if ((r = msg_chan_end(ch, m, "request")) != 0)
		goto fail;
	if (blen > max_body) {
		r = msg_chan_violation(ch, "body of %zu bytes (at most %zu)",
		    blen, max_body);
		goto fail;
	}
	if (req->has_ctype > 1 || req->has_idem > 1 ||
	    (!req->has_ctype && req->ctype[0] != '\0') ||
	    (!req->has_idem && req->idem[0] != '\0') ||
	    !method_ok(req->method) || req->path[0] != '/') {
		r = msg_chan_violation(ch, "request fields out of range");
		goto fail;
	}
	if ((req->body = text_dup(body, blen)) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	req->body_len = blen;
	return 0;
fail:
	fc_request_clear(req);
	return r;
}

int
fc_recv_request(struct msg_chan *ch, size_t max_body, struct fc_request *req)
{
	struct msg m = { 0 };
	uint8_t type;
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = msg_chan_recv(ch, &type, &m)) == 0)
		r = fc_parse_request(ch, &m, max_body, req);
	msg_free(&m);
	return r;
}

static int
code_of(const char *const *set, size_t n, const char *v, uint8_t *code)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((set[i] == NULL && v == NULL) || (set[i] != NULL &&
		    v != NULL && strcmp(set[i], v) == 0)) {
			*code = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}

int
fc_send_reply(struct msg_chan *ch, const struct http_response *res)
{
	struct msg m = { 0 };
	const char *ctype = "application/json";
	uint8_t cc, ac;
	char *text;
	size_t len;
	int r;

	if (res->json != NULL)
		text = json_dumps(res->json, JSON_COMPACT | JSON_SORT_KEYS);
	else {
		text = strdup(res->text != NULL ? res->text : "");
		ctype = res->content_type != NULL ? res->content_type :
		    "text/plain";
	}
	if (text == NULL)
		return TG_ERR_NOMEM;
	len = strlen(text);
	if (res->status < 100 || res->status > 599 || len > FC_MAX_REPLY ||
	    !printable(res->set_cookie) ||
	    code_of(ctypes, NCTYPES, ctype, &cc) != 0 ||
	    code_of(allows, NALLOWS, res->allow, &ac) != 0) {
		free(text);
		snprintf(ch->err, sizeof(ch->err), "reply out of range "
		    "(status %u, %zu bytes)", res->status, len);
		return TG_ERR_PROTOCOL;
	}
	msg_init_max(&m, MSG_MAX_ANY);
	msg_put_u32(&m, res->status);
	msg_put_u8(&m, cc);
	msg_put_u8(&m, ac);
	msg_put_str(&m, res->set_cookie);
	msg_put_bytes(&m, text, len);
	free(text);
	r = send_status(msg_chan_send(ch, PROTO_FRONT_REPLY, &m, 0));
	msg_free(&m);
	return r;
}

int
fc_parse_reply(struct msg_chan *ch, struct msg *m, struct fc_reply *rep)
{
	const uint8_t *body;
	uint8_t cc, ac;
	size_t blen;
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->status = msg_get_u32(m);
	cc = msg_get_u8(m);
	ac = msg_get_u8(m);
	msg_get_str(m, rep->set_cookie, sizeof(rep->set_cookie));
	blen = msg_get_bytes(m, &body, FC_MAX_REPLY);
	if ((r = msg_chan_end(ch, m, "reply")) != 0)
		return r;
	if (rep->status < 100 || rep->status > 599 || cc >= NCTYPES ||
	    ac >= NALLOWS || !printable(rep->set_cookie)) {
		memset(rep, 0, sizeof(*rep));
		return msg_chan_violation(ch, "reply fields out of range");
	}
	if ((rep->body = text_dup(body, blen)) == NULL) {
		memset(rep, 0, sizeof(*rep));
		return TG_ERR_NOMEM;
	}
	rep->body_len = blen;
	rep->content_type = ctypes[cc];
	rep->allow = allows[ac];
	return 0;
}

int
fc_recv_reply(struct msg_chan *ch, struct fc_reply *rep)
{
	struct msg m = { 0 };
	uint8_t type;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = msg_chan_recv(ch, &type, &m)) == 0)
		r = fc_parse_reply(ch, &m, rep);
	msg_free(&m);
	return r;
}

int
fc_send_privileged(struct msg_chan *ch, const struct http_limits *lim)
{
	struct msg m = { 0 };
	size_t i;
	int r;

	if (lim->nuids > HTTP_MAX_PRIVILEGED ||
	    lim->ngids > HTTP_MAX_PRIVILEGED)
		return refuse(ch, "more privileged callers than the front "
		    "takes");
	msg_init(&m);
	msg_put_u32(&m, (uint32_t)lim->nuids);
	for (i = 0; i < lim->nuids; i++)
		msg_put_u32(&m, (uint32_t)lim->uids[i]);
	msg_put_u32(&m, (uint32_t)lim->ngids);
	for (i = 0; i < lim->ngids; i++)
		msg_put_u32(&m, (uint32_t)lim->gids[i]);
	r = send_status(msg_chan_send(ch, PROTO_FRONT_PRIVILEGED, &m, 0));
	msg_free(&m);
	return r;
}

int
fc_parse_privileged(struct msg_chan *ch, struct msg *m,
    struct http_limits *lim)
{
	uid_t uids[HTTP_MAX_PRIVILEGED];
	gid_t gids[HTTP_MAX_PRIVILEGED];
	uint32_t nu, ng, i;
	int r;

	if ((nu = msg_get_u32(m)) > HTTP_MAX_PRIVILEGED)
		m->bad = 1;
	for (i = 0; i < nu && !m->bad; i++)
		uids[i] = (uid_t)msg_get_u32(m);
	if ((ng = msg_get_u32(m)) > HTTP_MAX_PRIVILEGED)
		m->bad = 1;
	for (i = 0; i < ng && !m->bad; i++)
		gids[i] = (gid_t)msg_get_u32(m);
	if ((r = msg_chan_end(ch, m, "list of privileged callers")) != 0)
		return r;
	memcpy(lim->uids, uids, nu * sizeof(uids[0]));
	lim->nuids = nu;
	memcpy(lim->gids, gids, ng * sizeof(gids[0]));
	lim->ngids = ng;
	return 0;
}

int
fc_recv_privileged(struct msg_chan *ch, struct http_limits *lim)
{
	struct msg m = { 0 };
	uint8_t type;
	int r;

	if ((r = msg_chan_recv(ch, &type, &m)) == 0)
		r = fc_parse_privileged(ch, &m, lim);
	msg_free(&m);
	return r;
}

void
fc_tls_clear(struct fc_tls *tls)
{
	if (tls->key_pem != NULL) {
		OPENSSL_cleanse(tls->key_pem, strlen(tls->key_pem));
		free(tls->key_pem);
	}
	free(tls->cert_pem);
	free(tls->ca_pem);
	memset(tls, 0, sizeof(*tls));
}

int
fc_send_tls(struct msg_chan *ch, const struct fc_tls *tls)
{
	struct msg m = { 0 };
	int r;

	if (strlen(tls->cert_pem) > HTTP_TLS_MAX_PEM ||
	    strlen(tls->key_pem) > HTTP_TLS_MAX_PEM ||
	    strlen(tls->ca_pem) > HTTP_TLS_MAX_PEM)
		return refuse(ch, "a PEM file over its bound");
	msg_init_max(&m, MSG_MAX_ANY);
	msg_put_str(&m, tls->cert_pem);
	msg_put_str(&m, tls->key_pem);
	msg_put_str(&m, tls->ca_pem);
	r = send_status(msg_chan_send(ch, PROTO_FRONT_TLS, &m, 0));
	msg_free(&m);
	return r;
}

/* A str field of at most HTTP_TLS_MAX_PEM bytes, as a malloc'd string. */
static char *
pem_get(struct msg *m)
{
	const uint8_t *p;
	size_t n;

	n = msg_get_bytes(m, &p, HTTP_TLS_MAX_PEM);
	if (m->bad || (n > 0 && memchr(p, '\0', n) != NULL)) {
		m->bad = 1;
		return NULL;
	}
	return text_dup(p, n);
}

int
fc_parse_tls(struct msg_chan *ch, struct msg *m, struct fc_tls *tls)
{
	int r;

	memset(tls, 0, sizeof(*tls));
	tls->cert_pem = pem_get(m);
	tls->key_pem = pem_get(m);
	tls->ca_pem = pem_get(m);
	if ((r = msg_chan_end(ch, m, "credentials")) != 0) {
		fc_tls_clear(tls);
		return r;
	}
	if (tls->cert_pem == NULL || tls->key_pem == NULL ||
	    tls->ca_pem == NULL) {
		fc_tls_clear(tls);
		return TG_ERR_NOMEM;
	}
	return 0;
}

int
fc_recv_tls(struct msg_chan *ch, struct fc_tls *tls)
{
	struct msg m = { 0 };
	uint8_t type;
	int r;

	memset(tls, 0, sizeof(*tls));
	if ((r = msg_chan_recv(ch, &type, &m)) == 0)
		r = fc_parse_tls(ch, &m, tls);
	msg_free(&m);
	return r;
}

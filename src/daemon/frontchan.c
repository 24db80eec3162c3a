/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"

/*
 * The permitted frames: who may send which frame when the channel is in
 * which state, and the state that follows.  Nothing else crosses.
 */
static const struct {
	enum fc_type	type;
	enum fc_side	from;
	int		busy_before;
	int		busy_after;
} permitted[] = {
	{ FC_REQUEST,	FC_FRONT,	0, 1 },
	{ FC_REPLY,	FC_MONITOR,	1, 0 },
};

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

static int
violation(struct fc_chan *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
violation(struct fc_chan *ch, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ch->err, sizeof(ch->err), fmt, ap);
	va_end(ap);
	return TG_ERR_PROTOCOL;
}

void
fc_chan_init(struct fc_chan *ch, int fd, enum fc_side side)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->side = side;
}

/* May ch's peer (incoming) or ch itself (outgoing) move by type now? */
static int
fc_step(struct fc_chan *ch, enum fc_type type, int incoming)
{
	enum fc_side from = ch->side;
	size_t i;

	if (incoming)
		from = ch->side == FC_FRONT ? FC_MONITOR : FC_FRONT;
	for (i = 0; i < sizeof(permitted) / sizeof(permitted[0]); i++) {
		if (permitted[i].type == type && permitted[i].from == from &&
		    permitted[i].busy_before == ch->busy) {
			ch->busy = permitted[i].busy_after;
			return 0;
		}
	}
	return violation(ch, "frame type %d from the %s is not permitted "
	    "while the channel is %s", (int)type, from == FC_FRONT ? "front" :
	    "monitor", ch->busy ? "busy" : "idle");
}

static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return TG_ERR_IO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0, TG_ERR_CLOSED (EOF before the first byte, when eof_ok) or TG_ERR_IO. */
static int
read_all(int fd, void *p, size_t n, int eof_ok)
{
	uint8_t *b = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, b + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && got == 0 && eof_ok)
			return TG_ERR_CLOSED;
		if (r <= 0)
			return TG_ERR_IO;
		got += (size_t)r;
	}
	return 0;
}

static void
put_be32(uint8_t b[4], size_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static size_t
get_be32(const uint8_t b[4])
{
	return (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 |
	    b[3];
}

static int
send_frame(struct fc_chan *ch, const struct msg *hdr, const void *payload,
    size_t plen)
{
	uint8_t len[4];
	int r;

	if (hdr->bad)
		return violation(ch, "a header field is over its bound");
	put_be32(len, hdr->len);
	if ((r = write_all(ch->fd, len, 4)) != 0 ||
	    (r = write_all(ch->fd, hdr->buf, hdr->len)) != 0)
		return r;
	put_be32(len, plen);
	if ((r = write_all(ch->fd, len, 4)) != 0 ||
	    (plen > 0 && (r = write_all(ch->fd, payload, plen)) != 0))
		return r;
	return 0;
}

/*
 * Read one frame: the header into hdr (at most MSG_MAX), the payload into
 * a new buffer of at most max_payload bytes (+1 for a NUL).
 */
static int
recv_frame(struct fc_chan *ch, struct msg *hdr, uint8_t **payload,
    size_t *plen, size_t max_payload)
{
	uint8_t len[4];
	size_t n;
	int r;

	*payload = NULL;
	*plen = 0;
	if ((r = read_all(ch->fd, len, 4, 1)) != 0)
		return r;
	if ((n = get_be32(len)) > MSG_MAX)
		return violation(ch, "header of %zu bytes (at most %d)", n,
		    MSG_MAX);
	msg_init(hdr);
	if ((r = read_all(ch->fd, hdr->buf, n, 0)) != 0)
		return r;
	hdr->len = n;
	if ((r = read_all(ch->fd, len, 4, 0)) != 0)
		return r;
	if ((n = get_be32(len)) > max_payload)
		return violation(ch, "payload of %zu bytes (at most %zu)", n,
		    max_payload);
	if ((*payload = malloc(n + 1)) == NULL)
		return TG_ERR_NOMEM;
	if ((r = read_all(ch->fd, *payload, n, 0)) != 0) {
		OPENSSL_cleanse(*payload, n + 1);
		free(*payload);
		*payload = NULL;
		return r;
	}
	*plen = n;
	return 0;
}

int
fc_send_request(struct fc_chan *ch, const struct http_request *req,
    size_t max_body)
{
	static __thread struct msg m;	/* wiped after use */
	size_t i;
	int r;

	if (strlen(req->method) > FC_MAX_METHOD ||
	    strlen(req->path) > HTTP_MAX_PATH ||
	    req->nquery > HTTP_MAX_QUERY || req->body_len > max_body)
		return violation(ch, "request field over its bound");
	if ((r = fc_step(ch, FC_REQUEST, 0)) != 0)
		return r;
	msg_init(&m);
	msg_put_u8(&m, FC_REQUEST);
	msg_put_u32(&m, ++ch->seq);
	msg_put_str(&m, req->method);
	msg_put_str(&m, req->path);
	msg_put_u32(&m, (uint32_t)req->peer.uid);
	msg_put_u32(&m, (uint32_t)req->peer.gid);
	msg_put_u32(&m, (uint32_t)req->peer.pid);
	msg_put_u8(&m, req->content_type != NULL);
	msg_put_str(&m, req->content_type);
	msg_put_u8(&m, req->idempotency_key != NULL);
	msg_put_str(&m, req->idempotency_key);
	msg_put_u8(&m, (uint8_t)req->nquery);
	for (i = 0; i < req->nquery; i++) {
		msg_put_str(&m, req->query[i].key);
		msg_put_str(&m, req->query[i].value);
	}
	r = send_frame(ch, &m, req->body, req->body_len);
	msg_wipe(&m);
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

int
fc_parse_request(struct fc_chan *ch, const uint8_t *hdr, size_t hlen,
    const uint8_t *payload, size_t plen, size_t max_body,
    struct fc_request *req)
{
	static __thread struct msg m;
	uint32_t seq;
	size_t i;
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = msg_load(&m, hdr, hlen)) != 0)
		return violation(ch, "header over %d bytes", MSG_MAX);
	if ((r = fc_step(ch, (enum fc_type)msg_get_u8(&m), 1)) != 0)
		goto out;
	seq = msg_get_u32(&m);
	msg_get_str(&m, req->method, sizeof(req->method));
	msg_get_str(&m, req->path, sizeof(req->path));
	req->peer.uid = (uid_t)msg_get_u32(&m);
	req->peer.gid = (gid_t)msg_get_u32(&m);
	req->peer.pid = (pid_t)msg_get_u32(&m);
	req->has_ctype = msg_get_u8(&m);
	msg_get_str(&m, req->ctype, sizeof(req->ctype));
	req->has_idem = msg_get_u8(&m);
	msg_get_str(&m, req->idem, sizeof(req->idem));
	req->nquery = msg_get_u8(&m);
	if (req->nquery > HTTP_MAX_QUERY) {
		r = violation(ch, "%zu query parameters (at most %d)",
		    req->nquery, HTTP_MAX_QUERY);
		goto out;
	}
	for (i = 0; i < req->nquery; i++) {
		msg_get_str(&m, req->qkey[i], sizeof(req->qkey[i]));
		msg_get_str(&m, req->qval[i], sizeof(req->qval[i]));
	}
	if (msg_end(&m) != 0) {
		r = violation(ch, "malformed request header");
		goto out;
	}
	if (seq != ch->seq + 1) {
		r = violation(ch, "request sequence %u after %u", seq, ch->seq);
		goto out;
	}
	if (req->has_ctype > 1 || req->has_idem > 1 ||
	    !method_ok(req->method) || req->path[0] != '/') {
		r = violation(ch, "request fields out of range");
		goto out;
	}
	if (plen > max_body) {
		r = violation(ch, "body of %zu bytes (at most %zu)", plen,
		    max_body);
		goto out;
	}
	if ((req->body = malloc(plen + 1)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if (plen > 0)
		memcpy(req->body, payload, plen);
	req->body[plen] = '\0';
	req->body_len = plen;
	ch->seq = seq;
	r = 0;
out:
	msg_wipe(&m);
	if (r != 0)
		fc_request_clear(req);
	return r;
}

int
fc_recv_request(struct fc_chan *ch, size_t max_body, struct fc_request *req)
{
	static __thread struct msg hdr;
	uint8_t *payload;
	size_t plen;
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = recv_frame(ch, &hdr, &payload, &plen, max_body)) == 0)
		r = fc_parse_request(ch, hdr.buf, hdr.len, payload, plen,
		    max_body, req);
	msg_wipe(&hdr);
	if (payload != NULL) {
		OPENSSL_cleanse(payload, plen + 1);
		free(payload);
	}
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
fc_send_reply(struct fc_chan *ch, const struct http_response *res)
{
	static __thread struct msg m;
	const char *ctype = "application/json";
	uint8_t cc, ac;
	char *text;
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
	if (res->status < 100 || res->status > 599 ||
	    strlen(text) > FC_MAX_REPLY ||
	    code_of(ctypes, NCTYPES, ctype, &cc) != 0 ||
	    code_of(allows, NALLOWS, res->allow, &ac) != 0) {
		free(text);
		return violation(ch, "reply out of range (status %u)",
		    res->status);
	}
	if ((r = fc_step(ch, FC_REPLY, 0)) != 0) {
		free(text);
		return r;
	}
	msg_init(&m);
	msg_put_u8(&m, FC_REPLY);
	msg_put_u32(&m, ch->seq);
	msg_put_u32(&m, res->status);
	msg_put_u8(&m, cc);
	msg_put_u8(&m, ac);
	r = send_frame(ch, &m, text, strlen(text));
	free(text);
	return r;
}

int
fc_parse_reply(struct fc_chan *ch, const uint8_t *hdr, size_t hlen,
    const uint8_t *payload, size_t plen, struct fc_reply *rep)
{
	static __thread struct msg m;
	uint32_t seq;
	uint8_t cc, ac;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (msg_load(&m, hdr, hlen) != 0)
		return violation(ch, "header over %d bytes", MSG_MAX);
	if ((r = fc_step(ch, (enum fc_type)msg_get_u8(&m), 1)) != 0)
		return r;
	seq = msg_get_u32(&m);
	rep->status = msg_get_u32(&m);
	cc = msg_get_u8(&m);
	ac = msg_get_u8(&m);
	if (msg_end(&m) != 0)
		return violation(ch, "malformed reply header");
	if (seq != ch->seq)
		return violation(ch, "reply to request %u, %u outstanding",
		    seq, ch->seq);
	if (rep->status < 100 || rep->status > 599 || cc >= NCTYPES ||
	    ac >= NALLOWS || plen > FC_MAX_REPLY)
		return violation(ch, "reply fields out of range");
	if ((rep->body = malloc(plen + 1)) == NULL)
		return TG_ERR_NOMEM;
	if (plen > 0)
		memcpy(rep->body, payload, plen);
	rep->body[plen] = '\0';
	rep->body_len = plen;
	rep->content_type = ctypes[cc];
	rep->allow = allows[ac];
	return 0;
}

int
fc_recv_reply(struct fc_chan *ch, struct fc_reply *rep)
{
	static __thread struct msg hdr;
	uint8_t *payload;
	size_t plen;
	int r;

	memset(rep, 0, sizeof(*rep));
	if ((r = recv_frame(ch, &hdr, &payload, &plen, FC_MAX_REPLY)) == 0)
		r = fc_parse_reply(ch, hdr.buf, hdr.len, payload, plen, rep);
	free(payload);
	return r;
}

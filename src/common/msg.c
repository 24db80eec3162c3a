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

#define MSG_MIN_CAP	256

/* ---- the buffer */

static void
put_be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/*
 * Room for n payload bytes.  A new buffer each time, the old one wiped:
 * a message may carry a PIN, and realloc() could leave a copy behind.
 */
static int
msg_reserve(struct msg *m, size_t n)
{
	uint8_t *f;

	if (m->frame != NULL && n <= m->cap)
		return 0;
	if (n > MSG_MAX_ANY)
		return TG_ERR_TOO_LONG;
	if ((f = malloc(MSG_HDR_LEN + n)) == NULL)
		return TG_ERR_NOMEM;
	if (m->frame != NULL) {
		memcpy(f, m->frame, MSG_HDR_LEN + m->len);
		OPENSSL_cleanse(m->frame, MSG_HDR_LEN + m->cap);
		free(m->frame);
	}
	m->frame = f;
	m->buf = f + MSG_HDR_LEN;
	m->cap = n;
	return 0;
}

void
msg_init_max(struct msg *m, size_t max)
{
	m->len = 0;
	m->off = 0;
	m->max = max < MSG_MAX_ANY ? max : MSG_MAX_ANY;
	m->bad = 0;
	m->nomem = 0;
}

void
msg_init(struct msg *m)
{
	msg_init_max(m, MSG_MAX);
}

static void
msg_put(struct msg *m, const void *p, size_t n)
{
	size_t want;

	if (m->bad || n > m->max - m->len) {
		m->bad = 1;
		return;
	}
	if (m->frame == NULL || n > m->cap - m->len) {
		want = m->cap < MSG_MIN_CAP / 2 ? MSG_MIN_CAP : 2 * m->cap;
		if (want < m->len + n)
			want = m->len + n;
		if (want > m->max)
			want = m->max;
		if (msg_reserve(m, want) != 0) {
			m->bad = 1;
			m->nomem = 1;
			return;
		}
	}
	if (n > 0)
		memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void
msg_put_u8(struct msg *m, uint8_t v)
{
	msg_put(m, &v, 1);
}

void
msg_put_u32(struct msg *m, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	msg_put(m, b, 4);
}

void
msg_put_bytes(struct msg *m, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		m->bad = 1;
		return;
	}
	msg_put_u32(m, (uint32_t)n);
	msg_put(m, p, n);
}

void
msg_put_str(struct msg *m, const char *s)
{
	msg_put_bytes(m, s, s ? strlen(s) : 0);
}

int
msg_load(struct msg *m, const void *p, size_t n)
{
	int r;

	msg_init(m);
	if (n > MSG_MAX)
		return TG_ERR_TOO_LONG;
	if ((r = msg_reserve(m, n)) != 0)
		return r;
	if (n > 0)
		memcpy(m->buf, p, n);
	m->len = n;
	return 0;
}

static const uint8_t *
msg_get(struct msg *m, size_t n)
{
	const uint8_t *p;

	if (m->bad || m->buf == NULL || n > m->len - m->off) {
		m->bad = 1;
		return NULL;
	}
	p = m->buf + m->off;
	m->off += n;
	return p;
}

uint8_t
msg_get_u8(struct msg *m)
{
	const uint8_t *p = msg_get(m, 1);

	return p ? p[0] : 0;
}

uint32_t
msg_get_u32(struct msg *m)
{
	const uint8_t *p = msg_get(m, 4);

	return p ? get_be32(p) : 0;
}

size_t
msg_get_bytes(struct msg *m, const uint8_t **pp, size_t max)
{
	uint32_t n = msg_get_u32(m);
	const uint8_t *p;

	if (n > max) {
		m->bad = 1;
		*pp = NULL;
		return 0;
	}
	p = msg_get(m, n);
	*pp = p;
	return p ? n : 0;
}

void
msg_get_str(struct msg *m, char *out, size_t cap)
{
	const uint8_t *p;
	size_t n = msg_get_bytes(m, &p, cap - 1);

	if (p == NULL || memchr(p, '\0', n) != NULL) {
		m->bad = 1;
		out[0] = '\0';
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

int
msg_end(const struct msg *m)
{
	return m->bad || m->off != m->len ? TG_ERR_PROTOCOL : 0;
}

void
msg_wipe(struct msg *m)
{
	if (m->frame != NULL)
		OPENSSL_cleanse(m->frame, MSG_HDR_LEN + m->cap);
	m->len = m->off = 0;
}

void
msg_free(struct msg *m)
{
	msg_wipe(m);
	free(m->frame);
	memset(m, 0, sizeof(*m));
}

/* ---- channels */

void
msg_chan_init(struct msg_chan *ch, int fd, const struct msg_proto *p,
    enum msg_side side)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->proto = p;
	ch->side = side;
}

static void
msg_chan_verr(struct msg_chan *ch, const char *fmt, va_list ap)
{
	vsnprintf(ch->err, sizeof(ch->err), fmt, ap);
}

/* This end's own refusal: nothing crossed, the channel lives on. */
static int
msg_chan_refuse(struct msg_chan *ch, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
msg_chan_refuse(struct msg_chan *ch, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_chan_verr(ch, fmt, ap);
	va_end(ap);
	return r;
}

int
msg_chan_violation(struct msg_chan *ch, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_chan_verr(ch, fmt, ap);
	va_end(ap);
	ch->dead = 1;
	return TG_ERR_PROTOCOL;
}

int
msg_chan_end(struct msg_chan *ch, const struct msg *m, const char *what)
{
	if (msg_end(m) != 0)
		return msg_chan_violation(ch, "malformed %s", what);
	return 0;
}

static const char *
side_name(const struct msg_chan *ch, int side)
{
	return side == MSG_MONITOR ? "monitor" : ch->proto->name;
}

static const char *
state_name(const struct msg_chan *ch)
{
	const struct msg_proto *p = ch->proto;

	return ch->state < p->nstates ? p->states[ch->state] : "in no state";
}

/*
 * The table's rule letting side from send type in the channel's state;
 * NULL, with ch->err saying why, when there is none.
 */
static const struct msg_rule *
msg_rule_find(struct msg_chan *ch, uint8_t type, int from)
{
	const struct msg_proto *p = ch->proto;
	const struct msg_rule *known = NULL;
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		if (p->rules[i].type != type)
			continue;
		if (p->rules[i].from == from && p->rules[i].in == ch->state)
			return &p->rules[i];
		known = &p->rules[i];
	}
	if (known == NULL)
		snprintf(ch->err, sizeof(ch->err), "message type %u is not "
		    "one of the %s channel's", type, p->name);
	else
		snprintf(ch->err, sizeof(ch->err), "%s from the %s is not "
		    "permitted while the channel is %s", known->name,
		    side_name(ch, from), state_name(ch));
	return NULL;
}

/* The largest payload the table lets the peer of ch send. */
static size_t
msg_peer_most(const struct msg_chan *ch)
{
	const struct msg_proto *p = ch->proto;
	size_t i, most = 0;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].from != ch->side && p->rules[i].max > most)
			most = p->rules[i].max;
	return most;
}

/*
 * The parser: a header from the peer, followed by body bytes (a whole
 * message in memory or a datagram) or by the stream (body SIZE_MAX).
 * Checked against the table, the type's bound and the numbering; the
 * channel moves on only when it passes.
 */
static int
msg_hdr_accept(struct msg_chan *ch, const uint8_t *h, size_t body,
    uint8_t *type, size_t *len)
{
	const struct msg_rule *r;
	int peer = ch->side == MSG_MONITOR ? MSG_CHILD : MSG_MONITOR;
	uint32_t seq = get_be32(h + 1), n = get_be32(h + 5);

	if ((r = msg_rule_find(ch, h[0], peer)) == NULL) {
		ch->dead = 1;
		return TG_ERR_PROTOCOL;
	}
	if (n > r->max)
		return msg_chan_violation(ch, "%s of %u bytes (at most %zu)",
		    r->name, n, r->max);
	if (body != SIZE_MAX && body != n)
		return msg_chan_violation(ch, "%s of %zu bytes where its "
		    "header says %u", r->name, body, n);
	if (ch->received == UINT32_MAX || seq != ch->received + 1)
		return msg_chan_violation(ch, "%s numbered %u after %u: "
		    "replayed or skipped", r->name, seq, ch->received);
	ch->received = seq;
	ch->state = r->next;
	*type = h[0];
	*len = n;
	return 0;
}

static int
msg_frame_accept(struct msg_chan *ch, const uint8_t *p, size_t n,
    uint8_t *type, size_t *len)
{
	if (n < MSG_HDR_LEN)
		return msg_chan_violation(ch, "a message of %zu bytes, short "
		    "of a header", n);
	return msg_hdr_accept(ch, p, n - MSG_HDR_LEN, type, len);
}

int
msg_chan_parse(struct msg_chan *ch, const uint8_t *p, size_t n,
    uint8_t *type, struct msg *m)
{
	size_t len;
	int r;

	msg_init_max(m, 0);
	if (ch->dead)
		return TG_ERR_PROTOCOL;
	if ((r = msg_frame_accept(ch, p, n, type, &len)) != 0)
		return r;
	if ((r = msg_reserve(m, len)) != 0) {
		ch->dead = 1;
		return r;
	}
	memcpy(m->frame, p, n);
	m->len = m->max = len;
	return 0;
}

/* 0, TG_ERR_CLOSED (EOF before the first byte, when eof_ok) or TG_ERR_IO. */
static int
read_full(int fd, uint8_t *p, size_t n, int eof_ok)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, p + got, n - got, 0);
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

/* A stream: the header, then exactly the payload it announces. */
static int
msg_recv_stream(struct msg_chan *ch, uint8_t *type, struct msg *m)
{
	uint8_t h[MSG_HDR_LEN];
	size_t len;
	int r;

	if ((r = read_full(ch->fd, h, sizeof(h), 1)) != 0 ||
	    (r = msg_hdr_accept(ch, h, SIZE_MAX, type, &len)) != 0 ||
	    (r = msg_reserve(m, len)) != 0)
		return r;
	memcpy(m->frame, h, sizeof(h));
	if ((r = read_full(ch->fd, m->buf, len, 0)) != 0)
		return r;
	m->len = m->max = len;
	return 0;
}

/* A datagram: one message, in one read, as long as its header says. */
static int
msg_recv_packet(struct msg_chan *ch, uint8_t *type, struct msg *m)
{
	size_t len;
	ssize_t n;
	int r;

	if ((r = msg_reserve(m, msg_peer_most(ch))) != 0)
		return r;
	do
		n = recv(ch->fd, m->frame, MSG_HDR_LEN + m->cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return TG_ERR_CLOSED;
	if (n < 0)
		return TG_ERR_IO;
	if ((size_t)n > MSG_HDR_LEN + m->cap)
		return msg_chan_violation(ch, "a datagram of %zd bytes, over "
		    "every bound of the %s channel", n, ch->proto->name);
	if ((r = msg_frame_accept(ch, m->frame, (size_t)n, type, &len)) != 0)
		return r;
	m->len = m->max = len;
	return 0;
}

int
msg_chan_recv(struct msg_chan *ch, uint8_t *type, struct msg *m)
{
	int r;

	msg_init_max(m, 0);
	if (ch->dead)
		return TG_ERR_PROTOCOL;
	if (ch->proto->sock_type == SOCK_SEQPACKET)
		r = msg_recv_packet(ch, type, m);
	else
		r = msg_recv_stream(ch, type, m);
	if (r != 0) {
		ch->dead = 1;
		m->len = 0;
	}
	return r;
}

int
msg_chan_send(struct msg_chan *ch, uint8_t type, struct msg *m, int flags)
{
	const struct msg_rule *rule;
	int seqpacket = ch->proto->sock_type == SOCK_SEQPACKET;
	size_t total, done = 0;
	ssize_t w;
	int r;

	if (ch->dead)
		return TG_ERR_PROTOCOL;
	if (m->nomem)
		return TG_ERR_NOMEM;
	if (m->bad)
		return msg_chan_refuse(ch, TG_ERR_TOO_LONG, "a message over "
		    "its writer's bound");
	if ((rule = msg_rule_find(ch, type, (int)ch->side)) == NULL)
		return TG_ERR_PROTOCOL;
	if (m->len > rule->max)
		return msg_chan_refuse(ch, TG_ERR_TOO_LONG, "%s of %zu bytes "
		    "(at most %zu)", rule->name, m->len, rule->max);
	if ((flags & MSG_CHAN_NOWAIT) && !seqpacket)
		return TG_ERR_INVALID;	/* a partial write would desync */
	if (ch->sent == UINT32_MAX)
		return msg_chan_refuse(ch, TG_ERR_PROTOCOL, "no numbers left");
	if ((r = msg_reserve(m, m->len)) != 0)
		return r;
	m->frame[0] = type;
	put_be32(m->frame + 1, ch->sent + 1);
	put_be32(m->frame + 5, (uint32_t)m->len);
	total = MSG_HDR_LEN + m->len;
	while (done < total) {
		w = send(ch->fd, m->frame + done, total - done, MSG_NOSIGNAL |
		    ((flags & MSG_CHAN_NOWAIT) ? MSG_DONTWAIT : 0));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && done == 0 && (flags & MSG_CHAN_NOWAIT) &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			return TG_ERR_BUSY;
		if (w <= 0 || (seqpacket && (size_t)w != total)) {
			ch->dead = 1;
			return TG_ERR_IO;
		}
		done += (size_t)w;
	}
	ch->sent++;
	ch->state = rule->next;
	return 0;
}

/* SPDX-License-Identifier: ISC */
#include <string.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "common/msg.h"

void
msg_init(struct msg *m)
{
	m->len = 0;
	m->off = 0;
	m->bad = 0;
}

static void
msg_put(struct msg *m, const void *p, size_t n)
{
	if (m->bad || n > MSG_MAX - m->len) {
		m->bad = 1;
		return;
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
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

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
	msg_init(m);
	if (n > MSG_MAX)
		return TG_ERR_TOO_LONG;
	memcpy(m->buf, p, n);
	m->len = n;
	return 0;
}

static const uint8_t *
msg_get(struct msg *m, size_t n)
{
	const uint8_t *p;

	if (m->bad || n > m->len - m->off) {
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

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3] : 0;
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
	OPENSSL_cleanse(m->buf, sizeof(m->buf));
	m->len = m->off = 0;
}

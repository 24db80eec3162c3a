/* SPDX-License-Identifier: ISC */
/*
 * Bounded CBOR reader and writer (see cbor_rw.h).  Every read checks the bytes
 * left before touching them; every length taken from the input is compared
 * against what remains, so a hostile length can never move the reader past
 * the end or make it loop long.
 */
#include <string.h>

#include "cbor_rw.h"

void
cb_rd_init(struct cb_rd *rd, const void *buf, size_t len)
{
	rd->buf = buf;
	rd->len = buf == NULL ? 0 : len;
	rd->pos = 0;
}

int
cb_rd_end(const struct cb_rd *rd)
{
	return rd->pos == rd->len ? CB_OK : CB_ERR_TRAILING;
}

/*
 * Decode the head of the next item: major type and argument.  Indefinite
 * lengths and the reserved additional-information values are refused, as are
 * arguments not in their shortest form (CTAP2 canonical encoding).  For
 * major type 7 the argument is the simple value or the float's bits.  On
 * error the reader does not move.
 */
static int
head(struct cb_rd *rd, int *major, uint64_t *arg)
{
	size_t left = rd->len - rd->pos, n, i;
	const uint8_t *p = rd->buf + rd->pos;
	uint64_t v;
	int ai;

	if (left < 1)
		return CB_ERR_MALFORMED;
	*major = p[0] >> 5;
	ai = p[0] & 0x1f;
	if (ai < 24) {
		*arg = (uint64_t)ai;
		rd->pos++;
		return CB_OK;
	}
	if (ai > 27)
		return CB_ERR_MALFORMED;
	n = (size_t)1 << (ai - 24);
	if (left < 1 + n)
		return CB_ERR_MALFORMED;
	for (v = 0, i = 0; i < n; i++)
		v = v << 8 | p[1 + i];
	if (*major == CB_SIMPLE) {
		/* a one-byte simple value below 32 has a shorter form */
		if (ai == 24 && v < 32)
			return CB_ERR_MALFORMED;
	} else if ((ai == 24 && v < 24) || (ai == 25 && v <= 0xff) ||
	    (ai == 26 && v <= 0xffff) || (ai == 27 && v <= 0xffffffff))
		return CB_ERR_MALFORMED;
	*arg = v;
	rd->pos += 1 + n;
	return CB_OK;
}

/* Read a head of the wanted major type; the reader stays put otherwise. */
static int
head_of(struct cb_rd *rd, int want, uint64_t *arg)
{
	size_t pos = rd->pos;
	int major, r;

	if ((r = head(rd, &major, arg)) != CB_OK)
		return r;
	if (major != want) {
		rd->pos = pos;
		return CB_ERR_TYPE;
	}
	return CB_OK;
}

int
cb_peek(const struct cb_rd *rd, int *major)
{
	if (rd->pos >= rd->len)
		return CB_ERR_MALFORMED;
	*major = rd->buf[rd->pos] >> 5;
	return CB_OK;
}

int
cb_get_uint(struct cb_rd *rd, uint64_t *v)
{
	return head_of(rd, CB_UINT, v);
}

int
cb_get_negint(struct cb_rd *rd, uint64_t *n)
{
	return head_of(rd, CB_NEGINT, n);
}

int
cb_get_int(struct cb_rd *rd, int64_t *v)
{
	size_t pos = rd->pos;
	uint64_t arg;
	int major, r;

	if ((r = head(rd, &major, &arg)) != CB_OK)
		return r;
	if (major != CB_UINT && major != CB_NEGINT) {
		rd->pos = pos;
		return CB_ERR_TYPE;
	}
	if (arg > INT64_MAX) {
		rd->pos = pos;
		return CB_ERR_RANGE;
	}
	*v = major == CB_UINT ? (int64_t)arg : -1 - (int64_t)arg;
	return CB_OK;
}

static int
get_string(struct cb_rd *rd, int major, const uint8_t **p, size_t *len)
{
	size_t pos = rd->pos;
	uint64_t n;
	int r;

	if ((r = head_of(rd, major, &n)) != CB_OK)
		return r;
	if (n > rd->len - rd->pos) {
		rd->pos = pos;
		return CB_ERR_MALFORMED;
	}
	*p = rd->buf + rd->pos;
	*len = (size_t)n;
	rd->pos += (size_t)n;
	return CB_OK;
}

int
cb_get_bytes(struct cb_rd *rd, const uint8_t **p, size_t *len)
{
	return get_string(rd, CB_BYTES, p, len);
}

int
cb_get_text(struct cb_rd *rd, const char **p, size_t *len)
{
	const uint8_t *u;
	int r;

	if ((r = get_string(rd, CB_TEXT, &u, len)) == CB_OK)
		*p = (const char *)u;
	return r;
}

/* A container of n items, each at least min bytes long. */
static int
get_container(struct cb_rd *rd, int major, size_t min, size_t *n)
{
	size_t pos = rd->pos;
	uint64_t v;
	int r;

	if ((r = head_of(rd, major, &v)) != CB_OK)
		return r;
	if (v > (rd->len - rd->pos) / min) {
		rd->pos = pos;
		return CB_ERR_MALFORMED;
	}
	*n = (size_t)v;
	return CB_OK;
}

int
cb_get_array(struct cb_rd *rd, size_t *n)
{
	return get_container(rd, CB_ARRAY, 1, n);
}

int
cb_get_map(struct cb_rd *rd, size_t *n)
{
	return get_container(rd, CB_MAP, 2, n);
}

int
cb_get_bool(struct cb_rd *rd, int *v)
{
	size_t pos = rd->pos;
	uint64_t arg;
	int r;

	if ((r = head_of(rd, CB_SIMPLE, &arg)) != CB_OK)
		return r;
	if (rd->pos != pos + 1 || (arg != 20 && arg != 21)) {
		rd->pos = pos;
		return CB_ERR_TYPE;
	}
	*v = arg == 21;
	return CB_OK;
}

/*
 * CTAP2 canonical key order: lower major type first, then the shorter
 * encoding, then bytewise.  The major type is the top of the first byte, so
 * comparing the first bytes' top bits, then lengths, then bytes does it.
 * Returns < 0, 0, > 0 like memcmp.
 */
static int
key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if ((a[0] >> 5) != (b[0] >> 5))
		return (a[0] >> 5) < (b[0] >> 5) ? -1 : 1;
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int	skip_item(struct cb_rd *, int);

/* Skip n map pairs whose keys must ascend strictly. */
static int
skip_pairs(struct cb_rd *rd, size_t n, int depth)
{
	size_t prev = 0, prevlen = 0, key;
	int r;

	while (n-- > 0) {
		key = rd->pos;
		if ((r = skip_item(rd, depth)) != CB_OK)
			return r;
		if (prevlen != 0 && key_cmp(rd->buf + prev, prevlen,
		    rd->buf + key, rd->pos - key) >= 0)
			return CB_ERR_ORDER;
		prev = key;
		prevlen = rd->pos - key;
		if ((r = skip_item(rd, depth)) != CB_OK)
			return r;
	}
	return CB_OK;
}

static int
skip_item(struct cb_rd *rd, int depth)
{
	const uint8_t *p;
	size_t pos = rd->pos, n;
	uint64_t arg;
	int major, r;

	if ((r = cb_peek(rd, &major)) != CB_OK)
		return r;
	switch (major) {
	case CB_UINT:
	case CB_NEGINT:
	case CB_SIMPLE:
		r = head(rd, &major, &arg);
		break;
	case CB_BYTES:
	case CB_TEXT:
		r = get_string(rd, major, &p, &n);
		break;
	case CB_ARRAY:
		if (depth >= CB_MAX_DEPTH)
			return CB_ERR_DEPTH;
		if ((r = cb_get_array(rd, &n)) != CB_OK)
			break;
		while (r == CB_OK && n-- > 0)
			r = skip_item(rd, depth + 1);
		break;
	case CB_MAP:
		if (depth >= CB_MAX_DEPTH)
			return CB_ERR_DEPTH;
		if ((r = cb_get_map(rd, &n)) == CB_OK)
			r = skip_pairs(rd, n, depth + 1);
		break;
	default:	/* tags: CTAP2 messages carry none */
		r = CB_ERR_TYPE;
		break;
	}
	if (r != CB_OK)
		rd->pos = pos;
	return r;
}

int
cb_skip(struct cb_rd *rd)
{
	return skip_item(rd, 0);
}

int
cb_map_open(struct cb_rd *rd, struct cb_map *m)
{
	int r;

	if ((r = cb_get_map(rd, &m->left)) != CB_OK)
		return r;
	m->rd = rd;
	m->prev_off = 0;
	m->prev_len = 0;
	return CB_OK;
}

int
cb_map_next(struct cb_map *m, struct cb_key *k)
{
	struct cb_rd *rd = m->rd;
	size_t off = rd->pos;
	int major, r;

	if (m->left == 0)
		return 0;
	if ((r = cb_peek(rd, &major)) != CB_OK)
		return r;
	memset(k, 0, sizeof(*k));
	k->kind = major;
	if (major == CB_UINT || major == CB_NEGINT) {
		r = cb_get_int(rd, &k->i);
		if (r == CB_ERR_RANGE) {
			/* a key beyond int64_t: no key we know, but legal */
			k->kind = CB_SIMPLE;
			r = skip_item(rd, 0);
		}
	} else if (major == CB_TEXT)
		r = cb_get_text(rd, &k->s, &k->slen);
	else
		r = skip_item(rd, 0);
	if (r != CB_OK)
		return r;
	if (m->prev_len != 0 && key_cmp(rd->buf + m->prev_off, m->prev_len,
	    rd->buf + off, rd->pos - off) >= 0) {
		rd->pos = off;
		return CB_ERR_ORDER;
	}
	m->prev_off = off;
	m->prev_len = rd->pos - off;
	m->left--;
	return 1;
}

int
cb_key_is(const struct cb_key *k, const char *s)
{
	size_t n = strlen(s);

	return k->kind == CB_TEXT && k->slen == n &&
	    memcmp(k->s, s, n) == 0;
}

void
cb_wr_init(struct cb_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf == NULL ? 0 : cap;
	w->len = 0;
	w->overflow = 0;
}

int
cb_wr_error(const struct cb_wr *w)
{
	return w->overflow ? -1 : 0;
}

void
cb_put_raw(struct cb_wr *w, const void *p, size_t len)
{
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (len > 0)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

/* A head in its shortest form. */
static void
put_head(struct cb_wr *w, int major, uint64_t v)
{
	uint8_t b[9];
	size_t n, i;

	if (v < 24) {
		b[0] = (uint8_t)(major << 5 | (int)v);
		cb_put_raw(w, b, 1);
		return;
	}
	if (v <= 0xff) {
		b[0] = (uint8_t)(major << 5 | 24);
		n = 1;
	} else if (v <= 0xffff) {
		b[0] = (uint8_t)(major << 5 | 25);
		n = 2;
	} else if (v <= 0xffffffff) {
		b[0] = (uint8_t)(major << 5 | 26);
		n = 4;
	} else {
		b[0] = (uint8_t)(major << 5 | 27);
		n = 8;
	}
	for (i = 0; i < n; i++)
		b[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	cb_put_raw(w, b, 1 + n);
}

void
cb_put_uint(struct cb_wr *w, uint64_t v)
{
	put_head(w, CB_UINT, v);
}

void
cb_put_int(struct cb_wr *w, int64_t v)
{
	if (v >= 0)
		put_head(w, CB_UINT, (uint64_t)v);
	else
		put_head(w, CB_NEGINT, (uint64_t)(-1 - v));
}

void
cb_put_bytes(struct cb_wr *w, const void *p, size_t len)
{
	put_head(w, CB_BYTES, len);
	cb_put_raw(w, p, len);
}

void
cb_put_text(struct cb_wr *w, const char *p, size_t len)
{
	put_head(w, CB_TEXT, len);
	cb_put_raw(w, p, len);
}

void
cb_put_str(struct cb_wr *w, const char *s)
{
	cb_put_text(w, s, strlen(s));
}

void
cb_put_array(struct cb_wr *w, size_t n)
{
	put_head(w, CB_ARRAY, n);
}

void
cb_put_map(struct cb_wr *w, size_t n)
{
	put_head(w, CB_MAP, n);
}

void
cb_put_bool(struct cb_wr *w, int v)
{
	uint8_t b = v ? 0xf5 : 0xf4;

	cb_put_raw(w, &b, 1);
}

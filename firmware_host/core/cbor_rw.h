/* SPDX-License-Identifier: ISC */
/*
 * A bounded CBOR (RFC 8949) reader and writer for the CTAP2 core, limited to
 * what CTAP2 uses: integers, byte and text strings, arrays, maps and the
 * simple values false/true/null.  The reader only accepts CTAP2 canonical
 * form (definite lengths, shortest integer encodings, map keys in canonical
 * order without duplicates); the writer writes into a fixed buffer and
 * records an overflow instead of writing past its end.  No allocation.
 *
 * Names use cb_/CB_ and the file is not cbor.h: programs that link the core
 * also link libcbor (through libfido2), whose cbor_* symbols and <cbor.h>
 * must stay reachable and must not be interposed.
 */
#ifndef SOFTFIDO_CBOR_RW_H
#define SOFTFIDO_CBOR_RW_H

#include <stddef.h>
#include <stdint.h>

/* Reader results (negative); the core maps them onto CTAP status codes. */
#define CB_OK			 0
#define CB_ERR_MALFORMED	-1	/* truncated, indefinite, long form */
#define CB_ERR_TYPE		-2	/* well formed, another type */
#define CB_ERR_RANGE		-3	/* does not fit the caller's type */
#define CB_ERR_DEPTH		-4	/* nested deeper than CB_MAX_DEPTH */
#define CB_ERR_ORDER		-5	/* map keys out of order or repeated */
#define CB_ERR_TRAILING	-6	/* bytes left after the last item */

/* Deepest nesting of arrays and maps the reader follows. */
#define CB_MAX_DEPTH		8

/* Major types. */
#define CB_UINT	0
#define CB_NEGINT	1
#define CB_BYTES	2
#define CB_TEXT	3
#define CB_ARRAY	4
#define CB_MAP	5
#define CB_TAG	6
#define CB_SIMPLE	7

struct cb_rd {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 pos;
};

/* One map being read: keys must arrive in strictly ascending order. */
struct cb_map {
	struct cb_rd	*rd;
	size_t		 left;		/* pairs not yet read */
	size_t		 prev_off;	/* encoded previous key */
	size_t		 prev_len;	/* 0 before the first key */
};

/* A map key: an integer, a text string, or another item (kind CB_*). */
struct cb_key {
	int		 kind;		/* CB_UINT/NEGINT -> i, CB_TEXT */
	int64_t		 i;
	const char	*s;
	size_t		 slen;
};

/* Read buf[0..len). */
void	cb_rd_init(struct cb_rd *rd, const void *buf, size_t len);
/* CB_ERR_TRAILING unless every byte was consumed. */
int	cb_rd_end(const struct cb_rd *rd);
/* Major type of the next item, without consuming it. */
int	cb_peek(const struct cb_rd *rd, int *major);

int	cb_get_uint(struct cb_rd *rd, uint64_t *v);
/* A negative integer -1 - n, returned as n. */
int	cb_get_negint(struct cb_rd *rd, uint64_t *n);
/* Either kind, in int64_t range (CB_ERR_RANGE otherwise). */
int	cb_get_int(struct cb_rd *rd, int64_t *v);
/* Strings point into the reader's buffer; text is not NUL-terminated. */
int	cb_get_bytes(struct cb_rd *rd, const uint8_t **p, size_t *len);
int	cb_get_text(struct cb_rd *rd, const char **p, size_t *len);
int	cb_get_array(struct cb_rd *rd, size_t *n);
int	cb_get_map(struct cb_rd *rd, size_t *n);
int	cb_get_bool(struct cb_rd *rd, int *v);
/* Consume one whole item, checking it is canonical and depth-bounded. */
int	cb_skip(struct cb_rd *rd);

/* Read a map header into m. */
int	cb_map_open(struct cb_rd *rd, struct cb_map *m);
/*
 * Next key of m: 1 with *k filled and the reader at the value, 0 when the
 * map is done, negative on error (CB_ERR_ORDER for an out-of-order or
 * repeated key).  The caller must consume the value before the next call.
 */
int	cb_map_next(struct cb_map *m, struct cb_key *k);
/* 1 when k is the text key s. */
int	cb_key_is(const struct cb_key *k, const char *s);

struct cb_wr {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;
	int		 overflow;	/* something did not fit */
};

void	cb_wr_init(struct cb_wr *w, uint8_t *buf, size_t cap);
/* 0 when everything written so far fit, -1 otherwise. */
int	cb_wr_error(const struct cb_wr *w);
void	cb_put_uint(struct cb_wr *w, uint64_t v);
void	cb_put_int(struct cb_wr *w, int64_t v);
void	cb_put_bytes(struct cb_wr *w, const void *p, size_t len);
void	cb_put_text(struct cb_wr *w, const char *p, size_t len);
/* A NUL-terminated string as text. */
void	cb_put_str(struct cb_wr *w, const char *s);
void	cb_put_array(struct cb_wr *w, size_t n);
void	cb_put_map(struct cb_wr *w, size_t n);
void	cb_put_bool(struct cb_wr *w, int v);
/* Already-encoded CBOR (or any bytes), copied as is. */
void	cb_put_raw(struct cb_wr *w, const void *p, size_t len);

#endif /* SOFTFIDO_CBOR_RW_H */

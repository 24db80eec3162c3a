/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "common/errors.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
b64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t
b64url_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

int
b64url_encode_alloc(const uint8_t *in, size_t n, char **out)
{
	char *s;

	if (n > (SIZE_MAX - 4) / 4 * 3 ||
	    (s = malloc(b64url_encoded_len(n) + 1)) == NULL)
		return TG_ERR_NOMEM;
	b64url_encode(in, n, s);
	*out = s;
	return 0;
}

/*
 * Each byte's 6-bit value, or 0xff for a byte outside the alphabet: a
 * table rather than ranges of comparisons, whose branches mispredict on
 * random data (signatures, keys) and made decoding a visible part of
 * verifying an order.
 */
static const uint8_t b64url_rev[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0x3e, 0xff, 0xff,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
	0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0x3f,
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
	0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
	0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

int
b64url_decode(const char *s, size_t len, size_t max, uint8_t **out,
    size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	uint8_t *buf = NULL, a, b, c, d;
	size_t i, n, o = 0;
	int r = TG_ERR_INVALID;

	if (len % 4 == 1)
		goto fail;	/* no byte string encodes to this length */
	n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
	if (n > max) {
		r = TG_ERR_TOO_LONG;
		goto fail;
	}
	if ((buf = malloc(n == 0 ? 1 : n)) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i + 4 <= len; i += 4) {
		a = b64url_rev[p[i]];
		b = b64url_rev[p[i + 1]];
		c = b64url_rev[p[i + 2]];
		d = b64url_rev[p[i + 3]];
		if ((a | b | c | d) & 0x80)
			goto fail;
		buf[o++] = (uint8_t)(a << 2 | b >> 4);
		buf[o++] = (uint8_t)(b << 4 | c >> 2);
		buf[o++] = (uint8_t)(c << 6 | d);
	}
	/* 2 or 3 characters left; the bits past the last byte must be 0 */
	if (len - i >= 2) {
		a = b64url_rev[p[i]];
		b = b64url_rev[p[i + 1]];
		c = len - i == 3 ? b64url_rev[p[i + 2]] : 0;
		if ((a | b | c) & 0x80)
			goto fail;
		buf[o++] = (uint8_t)(a << 2 | b >> 4);
		if (len - i == 2 && (b & 0x0f) != 0)
			goto fail;	/* not canonical */
		if (len - i == 3) {
			buf[o++] = (uint8_t)(b << 4 | c >> 2);
			if ((c & 0x03) != 0)
				goto fail;
		}
	}
	*out = buf;
	*outlen = o;
	return 0;
fail:
	free(buf);
	return r;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * n)
		return TG_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if ((hi = hex_value(s[2 * i])) < 0 ||
		    (lo = hex_value(s[2 * i + 1])) < 0)
			return TG_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

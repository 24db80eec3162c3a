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
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
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

static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
b64url_decode(const char *s, size_t len, size_t max, uint8_t **out,
    size_t *outlen)
{
	uint8_t *buf = NULL;
	size_t i, n, o = 0;
	uint32_t acc = 0;
	int bits = 0, v, r = TG_ERR_INVALID;

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
	for (i = 0; i < len; i++) {
		if ((v = b64url_value(s[i])) < 0)
			goto fail;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		goto fail;	/* non-zero padding bits: not canonical */
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

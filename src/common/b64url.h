/* SPDX-License-Identifier: ISC */
/*
 * base64url without padding (RFC 4648 section 5, as JOSE and WebAuthn use
 * it) and lowercase hex.  Decoders are strict: they refuse padding,
 * characters outside the alphabet and non-zero trailing bits, so every byte
 * string has exactly one accepted encoding.
 */
#ifndef TAPGATE_B64URL_H
#define TAPGATE_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes, without the terminating NUL. */
size_t	b64url_encoded_len(size_t n);

/*
 * Encode in[0..n) into out, which has room for b64url_encoded_len(n) + 1
 * bytes; out is NUL-terminated.  Returns the length written.
 */
size_t	b64url_encode(const uint8_t *in, size_t n, char *out);

/* Encode into a new NUL-terminated string (*out); 0 or TG_ERR_NOMEM. */
int	b64url_encode_alloc(const uint8_t *in, size_t n, char **out);

/*
 * Decode s[0..len) into a new buffer (*out, *outlen; freed by the caller).
 * TG_ERR_INVALID on any non-canonical input, TG_ERR_TOO_LONG past max bytes.
 */
int	b64url_decode(const char *s, size_t len, size_t max, uint8_t **out,
	    size_t *outlen);

/* Lowercase hex of in[0..n) into out (2n + 1 bytes, NUL-terminated). */
void	hex_encode(const uint8_t *in, size_t n, char *out);

/* Decode exactly 2n hex digits into out[0..n); 0 or TG_ERR_INVALID. */
int	hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);

#endif

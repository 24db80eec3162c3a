/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "daemon/web.h"

/* ---- Cookie */

/* RFC 9110 tchar */
static int
tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 6265 cookie-octet */
static int
cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

int
web_cookies_parse(const char *header, struct web_cookie *out, size_t *n)
{
	const char *p = header, *s;
	size_t i, k = 0, len;

	*n = 0;
	if (strlen(header) > WEB_COOKIE_HEADER_MAX)
		return TG_ERR_TOO_LONG;
	for (;;) {
		if (k == WEB_MAX_COOKIES)
			return TG_ERR_TOO_LONG;
		for (s = p; tchar((unsigned char)*p); p++)
			;
		if ((len = (size_t)(p - s)) == 0 || *p != '=')
			return TG_ERR_INVALID;
		if (len > WEB_COOKIE_NAME_MAX)
			return TG_ERR_TOO_LONG;
		memcpy(out[k].name, s, len);
		out[k].name[len] = '\0';
		for (s = ++p; cookie_octet((unsigned char)*p); p++)
			;
		if ((len = (size_t)(p - s)) > WEB_COOKIE_VALUE_MAX)
			return TG_ERR_TOO_LONG;
		memcpy(out[k].value, s, len);
		out[k].value[len] = '\0';
		for (i = 0; i < k; i++)
			if (strcmp(out[i].name, out[k].name) == 0)
				return TG_ERR_INVALID;
		k++;
		if (*p == '\0')
			break;
		if (p[0] != ';' || p[1] != ' ')
			return TG_ERR_INVALID;
		p += 2;
	}
	*n = k;
	return 0;
}

const char *
web_cookie_get(const struct web_cookie *c, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].value;
	return NULL;
}

/* ---- form bodies */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/*
 * Whether s[0..n) is UTF-8 (shortest forms, no surrogate, at most
 * U+10FFFF) without NUL or control characters but tab, CR and LF.
 */
static int
text_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' &&
			    s[i] != '\n') || s[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			need = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 &&
		    cp <= 0xdfff))) || (need == 3 && (cp < 0x10000 ||
		    cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

int
web_form_parse(const char *body, size_t len, struct web_form *out)
{
	const char *p = body, *end = body + len, *s;
	char *w;
	size_t i, klen;
	int hi, lo;

	memset(out, 0, sizeof(*out));
	if (len > WEB_FORM_BODY_MAX)
		return TG_ERR_TOO_LONG;
	if (len == 0)
		return 0;
	w = out->store;
	for (;;) {
		if (out->nfields == WEB_FORM_MAX_FIELDS)
			return TG_ERR_TOO_LONG;
		for (s = p; p < end && key_char((unsigned char)*p); p++)
			;
		if ((klen = (size_t)(p - s)) == 0 || p == end || *p != '=')
			return TG_ERR_INVALID;
		if (klen > WEB_FORM_KEY_MAX)
			return TG_ERR_TOO_LONG;
		memcpy(out->fields[out->nfields].key, s, klen);
		out->fields[out->nfields].key[klen] = '\0';
		for (i = 0; i < out->nfields; i++)
			if (strcmp(out->fields[i].key,
			    out->fields[out->nfields].key) == 0)
				return TG_ERR_INVALID;
		/* values decode in place into the store: never longer */
		out->fields[out->nfields].value = w;
		s = w;
		for (p++; p < end && *p != '&'; p++) {
			if (*p == '+')
				*w++ = ' ';
			else if (*p == '%') {
				if (end - p < 3 || (hi = hexval((unsigned char)
				    p[1])) < 0 || (lo = hexval((unsigned char)
				    p[2])) < 0)
					return TG_ERR_INVALID;
				*w++ = (char)(hi << 4 | lo);
				p += 2;
			} else if ((unsigned char)*p > 0x20 &&
			    (unsigned char)*p < 0x7f && *p != '=')
				*w++ = *p;
			else
				return TG_ERR_INVALID;
		}
		if (!text_ok((const unsigned char *)s, (size_t)(w - s)))
			return TG_ERR_INVALID;
		*w++ = '\0';
		out->nfields++;
		if (p == end)
			break;
		p++;			/* '&', and then a pair must follow */
	}
	return 0;
}

const char *
web_form_get(const struct web_form *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].key, key) == 0)
			return f->fields[i].value;
	return NULL;
}

/* ---- sessions */

/* A session id as the browser holds it: 43 base64url characters. */
static int
id_ok(const char *id)
{
	size_t i;

	for (i = 0; i < WEB_SESSION_ID_CHARS; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' &&
		    id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') ||
		    id[i] == '-' || id[i] == '_'))
			return 0;
	return id[i] == '\0';
}

int
web_sessions_init(struct web_sessions *t)
{
	memset(t, 0, sizeof(*t));
	return RAND_bytes(t->csrf_key, sizeof(t->csrf_key)) == 1 ? 0 :
	    TG_ERR_INTERNAL;
}

void
web_sessions_clear(struct web_sessions *t)
{
	OPENSSL_cleanse(t, sizeof(*t));
}

int
web_session_new(struct web_sessions *t, const char *principal,
    unsigned int seconds, int64_t now, char *id)
{
	struct web_session *free_slot = NULL;
	uint8_t raw[32];
	size_t i, plen = strlen(principal);

	if (plen == 0 || plen > WEB_PRINCIPAL_MAX || seconds == 0 ||
	    seconds > WEB_SESSION_MAX_SECONDS)
		return TG_ERR_INVALID;
	for (i = 0; i < WEB_MAX_SESSIONS; i++) {
		if (t->s[i].expires != 0 && t->s[i].expires <= now)
			memset(&t->s[i], 0, sizeof(t->s[i]));
		if (t->s[i].expires == 0 && free_slot == NULL)
			free_slot = &t->s[i];
	}
	if (free_slot == NULL)
		return TG_ERR_BUSY;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return TG_ERR_INTERNAL;
	b64url_encode(raw, sizeof(raw), id);
	SHA256((const unsigned char *)id, WEB_SESSION_ID_CHARS,
	    free_slot->id_hash);
	OPENSSL_cleanse(raw, sizeof(raw));
	memcpy(free_slot->principal, principal, plen + 1);
	free_slot->expires = now + seconds;
	return 0;
}

/* The live slot of id, or NULL; compares hashes in constant time. */
static struct web_session *
session_of(struct web_sessions *t, const char *id)
{
	struct web_session *hit = NULL;
	uint8_t h[32];
	size_t i;

	if (!id_ok(id))
		return NULL;
	SHA256((const unsigned char *)id, WEB_SESSION_ID_CHARS, h);
	for (i = 0; i < WEB_MAX_SESSIONS; i++)
		if (t->s[i].expires != 0 &&
		    CRYPTO_memcmp(t->s[i].id_hash, h, sizeof(h)) == 0)
			hit = &t->s[i];
	return hit;
}

const char *
web_session_principal(struct web_sessions *t, const char *id, int64_t now)
{
	struct web_session *s;

	if ((s = session_of(t, id)) == NULL)
		return NULL;
	if (s->expires <= now) {
		memset(s, 0, sizeof(*s));
		return NULL;
	}
	return s->principal;
}

int
web_session_end(struct web_sessions *t, const char *id)
{
	struct web_session *s;

	if ((s = session_of(t, id)) == NULL)
		return TG_ERR_NOT_FOUND;
	memset(s, 0, sizeof(*s));
	return 0;
}

int
web_csrf_token(const struct web_sessions *t, const char *id, char *token)
{
	uint8_t mac[32];
	unsigned int mlen = sizeof(mac);

	if (!id_ok(id))
		return TG_ERR_INVALID;
	if (HMAC(EVP_sha256(), t->csrf_key, sizeof(t->csrf_key),
	    (const unsigned char *)id, WEB_SESSION_ID_CHARS, mac,
	    &mlen) == NULL || mlen != sizeof(mac))
		return TG_ERR_INTERNAL;
	b64url_encode(mac, sizeof(mac), token);
	return 0;
}

int
web_csrf_check(const struct web_sessions *t, const char *id,
    const char *token)
{
	char want[WEB_SESSION_ID_CHARS + 1];

	if (token == NULL || strlen(token) != WEB_SESSION_ID_CHARS ||
	    web_csrf_token(t, id, want) != 0)
		return 0;
	return CRYPTO_memcmp(want, token, WEB_SESSION_ID_CHARS) == 0;
}

/* ---- headers */

const struct web_header web_page_headers[] = {
	{ "Content-Security-Policy", "default-src 'none'; script-src 'self'; "
	    "style-src 'self'; img-src 'self'; connect-src 'self'; "
	    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Cache-Control", "no-store" },
	{ "Strict-Transport-Security", "max-age=31536000" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ NULL, NULL },
};

int
web_session_cookie(const char *id, unsigned int seconds, char *out,
    size_t len)
{
	int n;

	if (!id_ok(id) || seconds > WEB_SESSION_MAX_SECONDS)
		return TG_ERR_INVALID;
	n = snprintf(out, len, "%s=%s; Path=/; Max-Age=%u; Secure; HttpOnly; "
	    "SameSite=Strict", WEB_SESSION_COOKIE, id, seconds);
	return n < 0 || (size_t)n >= len ? TG_ERR_TOO_LONG : 0;
}

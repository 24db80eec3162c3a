/* SPDX-License-Identifier: ISC */
/*
 * The browser console's primitives, each a bounded, strict parser or a
 * small piece of state, none of them tied to HTTP plumbing: the Cookie
 * header, application/x-www-form-urlencoded bodies, sessions and their
 * CSRF tokens, and the headers every console page carries.  Nothing here
 * serves a page yet.
 */
#ifndef TAPGATE_WEB_H
#define TAPGATE_WEB_H

#include <stddef.h>
#include <stdint.h>

#define WEB_COOKIE_HEADER_MAX	4096
#define WEB_MAX_COOKIES		16
#define WEB_COOKIE_NAME_MAX	64
#define WEB_COOKIE_VALUE_MAX	256

struct web_cookie {
	char	name[WEB_COOKIE_NAME_MAX + 1];
	char	value[WEB_COOKIE_VALUE_MAX + 1];
};

/*
 * Parse a Cookie request header as RFC 6265 section 4.2.1 has browsers
 * send it: "name=value" pairs joined by "; ", names HTTP tokens, values
 * cookie-octets (no quotes, no space, comma, semicolon or backslash),
 * nothing before, after or between but those separators.  At most
 * WEB_MAX_COOKIES pairs within WEB_COOKIE_HEADER_MAX bytes, each within
 * its bound; a name given twice is refused (a second cookie of that name
 * set by a sibling domain must not shadow ours).  0 with *n set, or
 * TG_ERR_INVALID (malformed, a duplicate) or TG_ERR_TOO_LONG.
 */
int	web_cookies_parse(const char *header, struct web_cookie *out,
	    size_t *n);

/* The value of cookie name among the n parsed, or NULL. */
const char	*web_cookie_get(const struct web_cookie *c, size_t n,
		    const char *name);

#define WEB_FORM_BODY_MAX	16384
#define WEB_FORM_MAX_FIELDS	32
#define WEB_FORM_KEY_MAX	64

struct web_field {
	char	 key[WEB_FORM_KEY_MAX + 1];
	char	*value;		/* into the form's storage, NUL-terminated */
};

struct web_form {
	struct web_field	fields[WEB_FORM_MAX_FIELDS];
	size_t			nfields;
	char			store[WEB_FORM_BODY_MAX + 1];
};

/*
 * Parse an application/x-www-form-urlencoded body of len bytes (at most
 * WEB_FORM_BODY_MAX): "key=value" pairs joined by '&', '+' a space and
 * %XX an octet.  Keys are lowercase letters, digits, '_', '.' and '-'
 * (never encoded); every key at most once (a second value could pass a
 * check made on the first); values decode to UTF-8 without NUL or other
 * control characters but tab, CR and LF.  No empty pair, no pair without
 * '='.  0, or TG_ERR_INVALID, TG_ERR_TOO_LONG.
 */
int	web_form_parse(const char *body, size_t len, struct web_form *out);

/* The value of key, or NULL. */
const char	*web_form_get(const struct web_form *f, const char *key);

/*
 * Sessions: a 256-bit random id (base64url, WEB_SESSION_ID_CHARS
 * characters) that only the browser holds; the table keeps its SHA-256,
 * the principal it belongs to and when it expires (at most
 * WEB_SESSION_MAX_SECONDS after its start).  At most WEB_MAX_SESSIONS at
 * once.  Not locked: the caller serialises.
 */
#define WEB_SESSION_ID_CHARS	43
#define WEB_SESSION_MAX_SECONDS	900
#define WEB_MAX_SESSIONS	256
#define WEB_PRINCIPAL_MAX	64

struct web_session {
	uint8_t		id_hash[32];
	char		principal[WEB_PRINCIPAL_MAX + 1];
	int64_t		expires;	/* 0: the slot is free */
};

struct web_sessions {
	struct web_session	s[WEB_MAX_SESSIONS];
	uint8_t			csrf_key[32];	/* random, per table */
};

/* A fresh table with a random CSRF key.  0 or TG_ERR_INTERNAL. */
int	web_sessions_init(struct web_sessions *t);

/* Wipe the table. */
void	web_sessions_clear(struct web_sessions *t);

/*
 * A new session for principal (1 to WEB_PRINCIPAL_MAX bytes) lasting
 * seconds (1 to WEB_SESSION_MAX_SECONDS) from now; its id into
 * id[WEB_SESSION_ID_CHARS + 1].  Expired sessions make room; with none,
 * TG_ERR_BUSY.  0 or TG_ERR_INVALID, TG_ERR_BUSY, TG_ERR_INTERNAL.
 */
int	web_session_new(struct web_sessions *t, const char *principal,
	    unsigned int seconds, int64_t now, char *id);

/*
 * The principal of session id at now, or NULL: unknown, malformed or
 * expired (an expired one is removed).  Points into the table.
 */
const char	*web_session_principal(struct web_sessions *t, const char *id,
		    int64_t now);

/* End session id (sign-out).  0, or TG_ERR_NOT_FOUND. */
int	web_session_end(struct web_sessions *t, const char *id);

/*
 * The CSRF token of session id: base64url of HMAC-SHA-256 under the
 * table's key of the session id, WEB_SESSION_ID_CHARS characters, into
 * token[WEB_SESSION_ID_CHARS + 1].  A page puts it in its forms; a POST
 * must bring it back (web_csrf_check, constant time).  0 or
 * TG_ERR_INVALID (id malformed), TG_ERR_INTERNAL.
 */
int	web_csrf_token(const struct web_sessions *t, const char *id,
	    char *token);
int	web_csrf_check(const struct web_sessions *t, const char *id,
	    const char *token);		/* 1: it matches */

/* One response header every console page carries. */
struct web_header {
	const char	*name;
	const char	*value;
};

/*
 * The console pages' headers: a Content Security Policy allowing only
 * the appliance's own scripts, styles, images and fetches (no inline
 * script, no framing, no plugin, forms to itself), X-Frame-Options DENY,
 * Referrer-Policy no-referrer, nosniff, no caching, HSTS.  NULL-ended.
 */
extern const struct web_header	web_page_headers[];

/*
 * The Set-Cookie value of the session cookie: "__Host-tapgate=id; Path=/;
 * Max-Age=seconds; Secure; HttpOnly; SameSite=Strict" (seconds 0 ends it
 * in the browser).  0, or TG_ERR_INVALID (id malformed), TG_ERR_TOO_LONG.
 */
#define WEB_SESSION_COOKIE	"__Host-tapgate"
int	web_session_cookie(const char *id, unsigned int seconds, char *out,
	    size_t len);

#endif

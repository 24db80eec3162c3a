/* SPDX-License-Identifier: ISC */
/*
 * The console's primitives (daemon/web.h): the strict Cookie and form
 * parsers, sessions stored hashed with a short life and bound to their
 * principal, CSRF tokens bound to the session, and the page headers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/errors.h"
#include "daemon/web.h"
#include "tap.h"

static struct web_cookie	c[WEB_MAX_COOKIES];
static struct web_form		form;
static struct web_sessions	tab;

static int
cookies(const char *h, size_t *n)
{
	return web_cookies_parse(h, c, n);
}

static void
cookie_header_is_parsed_strictly(void)
{
	char big[WEB_COOKIE_HEADER_MAX + 64];
	size_t n = 99, i;

	CHECK_EQ(cookies("__Host-tapgate=abc_DEF-123; theme=dark", &n), 0);
	CHECK_EQ(n, 2);
	CHECK(strcmp(web_cookie_get(c, n, "__Host-tapgate"), "abc_DEF-123")
	    == 0);
	CHECK(strcmp(web_cookie_get(c, n, "theme"), "dark") == 0);
	CHECK(web_cookie_get(c, n, "other") == NULL);
	CHECK_EQ(cookies("a=", &n), 0);
	CHECK(n == 1 && c[0].value[0] == '\0');
	/* what browsers never send, refused */
	CHECK_EQ(cookies("", &n), TG_ERR_INVALID);
	CHECK_EQ(n, 0);
	CHECK_EQ(cookies("a=1;b=2", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=1; ", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies(" a=1", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=1;  b=2", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("=1", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=\"1\"", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=1 2", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=1,b=2", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=x\\y", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a b=1", &n), TG_ERR_INVALID);
	CHECK_EQ(cookies("a=\x80", &n), TG_ERR_INVALID);
	/* a second session cookie (a sibling domain's) shadows nothing */
	CHECK_EQ(cookies("__Host-tapgate=abc; __Host-tapgate=evil", &n),
	    TG_ERR_INVALID);
	CHECK_EQ(n, 0);
	/* the bounds: 16 cookies, 64-byte names, 256-byte values, 4 KiB */
	big[0] = '\0';
	for (i = 0; i < WEB_MAX_COOKIES; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "%sc%zu=v", i ? "; " : "", i);
	CHECK_EQ(cookies(big, &n), 0);
	CHECK_EQ(n, WEB_MAX_COOKIES);
	strcat(big, "; x=y");
	CHECK_EQ(cookies(big, &n), TG_ERR_TOO_LONG);
	memset(big, 'n', WEB_COOKIE_NAME_MAX + 1);
	strcpy(big + WEB_COOKIE_NAME_MAX + 1, "=v");
	CHECK_EQ(cookies(big, &n), TG_ERR_TOO_LONG);
	strcpy(big + WEB_COOKIE_NAME_MAX, "=v");
	CHECK_EQ(cookies(big, &n), 0);
	big[0] = 'a';
	big[1] = '=';
	memset(big + 2, 'v', WEB_COOKIE_VALUE_MAX + 1);
	big[WEB_COOKIE_VALUE_MAX + 3] = '\0';
	CHECK_EQ(cookies(big, &n), TG_ERR_TOO_LONG);
	big[WEB_COOKIE_VALUE_MAX + 2] = '\0';
	CHECK_EQ(cookies(big, &n), 0);
	memset(big, 'v', sizeof(big) - 1);
	big[0] = 'a';
	big[1] = '=';
	big[WEB_COOKIE_HEADER_MAX + 1] = '\0';
	CHECK_EQ(cookies(big, &n), TG_ERR_TOO_LONG);
}

static int
parse_form(const char *body)
{
	return web_form_parse(body, strlen(body), &form);
}

static void
form_body_is_parsed_strictly(void)
{
	static char big[WEB_FORM_BODY_MAX + 2];
	size_t i;

	CHECK_EQ(parse_form("queue=password_reset&account=alice+smith&"
	    "note=caf%C3%A9%0Aline+2&csrf=abc"), 0);
	CHECK_EQ(form.nfields, 4);
	CHECK(strcmp(web_form_get(&form, "queue"), "password_reset") == 0);
	CHECK(strcmp(web_form_get(&form, "account"), "alice smith") == 0);
	CHECK(strcmp(web_form_get(&form, "note"), "caf\xc3\xa9\nline 2") ==
	    0);
	CHECK(web_form_get(&form, "missing") == NULL);
	CHECK_EQ(parse_form(""), 0);
	CHECK_EQ(form.nfields, 0);
	CHECK_EQ(parse_form("empty="), 0);
	CHECK(strcmp(web_form_get(&form, "empty"), "") == 0);
	/* a key twice: the check and the use could see different values */
	CHECK_EQ(parse_form("account=alice&account=root"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("csrf=a&x=1&csrf=b"), TG_ERR_INVALID);
	/* malformed */
	CHECK_EQ(parse_form("a=1&"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("&a=1"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=1&&b=2"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("=1"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("A=1"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a%62=1"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=1=2"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%4"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%zz"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=b c"), TG_ERR_INVALID);
	/* decoded: UTF-8 without NUL or control characters */
	CHECK_EQ(parse_form("a=%00"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%1B"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%7F"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%C2%85"), TG_ERR_INVALID);	/* NEL */
	CHECK_EQ(parse_form("a=%C3"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%C0%AF"), TG_ERR_INVALID);	/* overlong */
	CHECK_EQ(parse_form("a=%ED%A0%80"), TG_ERR_INVALID);	/* surrogate */
	CHECK_EQ(parse_form("a=%F4%90%80%80"), TG_ERR_INVALID);
	CHECK_EQ(parse_form("a=%F0%9F%94%91%09"), 0);
	/* a body with a NUL is not text */
	CHECK_EQ(web_form_parse("a=1\0b=2", 7, &form), TG_ERR_INVALID);
	/* the bounds */
	big[0] = '\0';
	for (i = 0; i < WEB_FORM_MAX_FIELDS; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "%sk%zu=v", i ? "&" : "", i);
	CHECK_EQ(parse_form(big), 0);
	CHECK_EQ(form.nfields, WEB_FORM_MAX_FIELDS);
	strcat(big, "&x=y");
	CHECK_EQ(parse_form(big), TG_ERR_TOO_LONG);
	memset(big, 'k', WEB_FORM_KEY_MAX + 1);
	strcpy(big + WEB_FORM_KEY_MAX + 1, "=v");
	CHECK_EQ(parse_form(big), TG_ERR_TOO_LONG);
	memset(big, 'v', WEB_FORM_BODY_MAX);
	big[0] = 'a';
	big[1] = '=';
	big[WEB_FORM_BODY_MAX] = '\0';
	CHECK_EQ(parse_form(big), 0);
	CHECK_EQ(strlen(web_form_get(&form, "a")), WEB_FORM_BODY_MAX - 2);
	big[WEB_FORM_BODY_MAX] = 'v';
	CHECK_EQ(web_form_parse(big, WEB_FORM_BODY_MAX + 1, &form),
	    TG_ERR_TOO_LONG);
}

static void
session_is_random_hashed_short_and_bound_to_its_principal(void)
{
	char id[WEB_SESSION_ID_CHARS + 1], id2[WEB_SESSION_ID_CHARS + 1];
	uint8_t h[32];
	const char *p;
	size_t i, live;

	CHECK_EQ(web_sessions_init(&tab), 0);
	CHECK_EQ(web_session_new(&tab, "officer-ann", 600, 1000, id), 0);
	CHECK_EQ(strlen(id), WEB_SESSION_ID_CHARS);
	CHECK_EQ(web_session_new(&tab, "hd-bob", 600, 1000, id2), 0);
	CHECK(strcmp(id, id2) != 0);
	CHECK((p = web_session_principal(&tab, id, 1001)) != NULL &&
	    strcmp(p, "officer-ann") == 0);
	CHECK((p = web_session_principal(&tab, id2, 1001)) != NULL &&
	    strcmp(p, "hd-bob") == 0);
	/* the table holds the id's hash, never the id */
	SHA256((const unsigned char *)id, WEB_SESSION_ID_CHARS, h);
	for (i = 0, live = 0; i < WEB_MAX_SESSIONS; i++) {
		if (tab.s[i].expires == 0)
			continue;
		live++;
		CHECK(memmem(&tab.s[i], sizeof(tab.s[i]), id,
		    WEB_SESSION_ID_CHARS) == NULL);
	}
	CHECK_EQ(live, 2);
	CHECK(memmem(&tab, sizeof(tab), h, sizeof(h)) != NULL);
	/* a changed character, a prefix, a longer id are no one */
	id2[0] = id2[0] == 'A' ? 'B' : 'A';
	CHECK(web_session_principal(&tab, id2, 1001) == NULL);
	id2[WEB_SESSION_ID_CHARS - 1] = '\0';
	CHECK(web_session_principal(&tab, id2, 1001) == NULL);
	CHECK(web_session_principal(&tab, "", 1001) == NULL);
	/* short: it ends at its expiry, and is gone */
	CHECK(web_session_principal(&tab, id, 1599) != NULL);
	CHECK(web_session_principal(&tab, id, 1600) == NULL);
	CHECK(web_session_principal(&tab, id, 1001) == NULL);
	CHECK_EQ(web_session_new(&tab, "a", WEB_SESSION_MAX_SECONDS + 1,
	    1000, id), TG_ERR_INVALID);
	CHECK_EQ(web_session_new(&tab, "", 60, 1000, id), TG_ERR_INVALID);
	/* sign-out ends it */
	CHECK_EQ(web_session_new(&tab, "op-carl", 60, 2000, id), 0);
	CHECK_EQ(web_session_end(&tab, id), 0);
	CHECK(web_session_principal(&tab, id, 2001) == NULL);
	CHECK_EQ(web_session_end(&tab, id), TG_ERR_NOT_FOUND);
	/* full: expired sessions make room, live ones are never evicted */
	web_sessions_clear(&tab);
	CHECK_EQ(web_sessions_init(&tab), 0);
	for (i = 0; i < WEB_MAX_SESSIONS; i++)
		CHECK_EQ(web_session_new(&tab, "x", i == 0 ? 10 : 600, 0,
		    id), 0);
	CHECK_EQ(web_session_new(&tab, "y", 60, 5, id), TG_ERR_BUSY);
	CHECK_EQ(web_session_new(&tab, "y", 60, 10, id), 0);
	CHECK_EQ(web_session_new(&tab, "z", 60, 10, id), TG_ERR_BUSY);
	web_sessions_clear(&tab);
}

static void
csrf_token_belongs_to_its_session_and_table(void)
{
	char id[WEB_SESSION_ID_CHARS + 1], id2[WEB_SESSION_ID_CHARS + 1];
	char tok[WEB_SESSION_ID_CHARS + 1], tok2[WEB_SESSION_ID_CHARS + 1];
	static struct web_sessions other;

	CHECK_EQ(web_sessions_init(&tab), 0);
	CHECK_EQ(web_sessions_init(&other), 0);
	CHECK_EQ(web_session_new(&tab, "officer-ann", 600, 0, id), 0);
	CHECK_EQ(web_session_new(&tab, "officer-ann", 600, 0, id2), 0);
	CHECK_EQ(web_csrf_token(&tab, id, tok), 0);
	CHECK_EQ(strlen(tok), WEB_SESSION_ID_CHARS);
	CHECK(web_csrf_check(&tab, id, tok));
	/* another session's token, the same person's: refused */
	CHECK_EQ(web_csrf_token(&tab, id2, tok2), 0);
	CHECK(strcmp(tok, tok2) != 0);
	CHECK(!web_csrf_check(&tab, id, tok2));
	/* a token of another daemon's key (a restart): refused */
	CHECK_EQ(web_csrf_token(&other, id, tok2), 0);
	CHECK(!web_csrf_check(&tab, id, tok2));
	/* altered, cut, absent */
	strcpy(tok2, tok);
	tok2[5] = tok2[5] == 'A' ? 'B' : 'A';
	CHECK(!web_csrf_check(&tab, id, tok2));
	tok2[5] = '\0';
	CHECK(!web_csrf_check(&tab, id, tok2));
	CHECK(!web_csrf_check(&tab, id, NULL));
	CHECK(!web_csrf_check(&tab, id, ""));
	CHECK_EQ(web_csrf_token(&tab, "not an id", tok2), TG_ERR_INVALID);
	web_sessions_clear(&tab);
	web_sessions_clear(&other);
}

static const char *
header(const char *name)
{
	size_t i;

	for (i = 0; web_page_headers[i].name != NULL; i++)
		if (strcmp(web_page_headers[i].name, name) == 0)
			return web_page_headers[i].value;
	return NULL;
}

static void
page_headers_and_cookie_refuse_framing_inline_script_and_leaks(void)
{
	char id[WEB_SESSION_ID_CHARS + 1], ck[256];
	const char *csp;

	CHECK((csp = header("Content-Security-Policy")) != NULL);
	CHECK(strncmp(csp, "default-src 'none';", 19) == 0);
	CHECK(strstr(csp, "script-src 'self'") != NULL);
	CHECK(strstr(csp, "frame-ancestors 'none'") != NULL);
	CHECK(strstr(csp, "unsafe-inline") == NULL &&
	    strstr(csp, "unsafe-eval") == NULL && strstr(csp, "*") == NULL);
	CHECK(header("X-Frame-Options") != NULL &&
	    strcmp(header("X-Frame-Options"), "DENY") == 0);
	CHECK(header("Referrer-Policy") != NULL &&
	    strcmp(header("Referrer-Policy"), "no-referrer") == 0);
	CHECK(header("X-Content-Type-Options") != NULL);
	CHECK(header("Cache-Control") != NULL &&
	    strcmp(header("Cache-Control"), "no-store") == 0);
	CHECK_EQ(web_sessions_init(&tab), 0);
	CHECK_EQ(web_session_new(&tab, "officer-ann", 600, 0, id), 0);
	CHECK_EQ(web_session_cookie(id, 600, ck, sizeof(ck)), 0);
	CHECK(strncmp(ck, "__Host-tapgate=", 15) == 0);
	CHECK(strstr(ck, "; Secure") != NULL && strstr(ck, "; HttpOnly") !=
	    NULL && strstr(ck, "; SameSite=Strict") != NULL &&
	    strstr(ck, "; Path=/") != NULL && strstr(ck, "Domain") == NULL);
	CHECK_EQ(web_session_cookie(id, 600, ck, 40), TG_ERR_TOO_LONG);
	CHECK_EQ(web_session_cookie("x; Domain=evil", 600, ck, sizeof(ck)),
	    TG_ERR_INVALID);
	web_sessions_clear(&tab);
}

int
main(void)
{
	RUN(cookie_header_is_parsed_strictly);
	RUN(form_body_is_parsed_strictly);
	RUN(session_is_random_hashed_short_and_bound_to_its_principal);
	RUN(csrf_token_belongs_to_its_session_and_table);
	RUN(page_headers_and_cookie_refuse_framing_inline_script_and_leaks);
	TAP_EXIT();
}

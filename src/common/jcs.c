/* SPDX-License-Identifier: ISC */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/jcs.h"

struct jcs_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static int
jcs_put(struct jcs_buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (n > JCS_MAX_SIZE - b->len)
		return TG_ERR_TOO_LONG;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return TG_ERR_NOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int
jcs_string(struct jcs_buf *b, const char *s, size_t n)
{
	char esc[8];
	size_t i, run;
	int r;

	if ((r = jcs_put(b, "\"", 1)) != 0)
		return r;
	for (i = 0; i < n; i += run) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;

		/* copy the longest run that needs no escaping at once */
		for (run = 0; i + run < n; run++) {
			c = (unsigned char)s[i + run];
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		if (run > 0) {
			if ((r = jcs_put(b, s + i, run)) != 0)
				return r;
			continue;
		}
		switch (c) {
		case '"':	e = "\\\""; break;
		case '\\':	e = "\\\\"; break;
		case '\b':	e = "\\b"; break;
		case '\f':	e = "\\f"; break;
		case '\n':	e = "\\n"; break;
		case '\r':	e = "\\r"; break;
		case '\t':	e = "\\t"; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		if ((r = jcs_put(b, e, strlen(e))) != 0)
			return r;
		run = 1;
	}
	return jcs_put(b, "\"", 1);
}

/*
 * Next UTF-16 code unit of a UTF-8 string (jansson has validated it).
 * *pend carries the low surrogate of a pair across calls.
 */
static uint32_t
jcs_next_unit(const unsigned char **pp, const unsigned char *end,
    uint32_t *pend)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	int extra;

	if (*pend != 0) {
		cp = *pend;
		*pend = 0;
		return cp;
	}
	if (p[0] < 0x80) {
		cp = p[0];
		extra = 0;
	} else if (p[0] < 0xe0) {
		cp = p[0] & 0x1f;
		extra = 1;
	} else if (p[0] < 0xf0) {
		cp = p[0] & 0x0f;
		extra = 2;
	} else {
		cp = p[0] & 0x07;
		extra = 3;
	}
	for (p++; extra > 0 && p < end; extra--, p++)
		cp = cp << 6 | (*p & 0x3f);
	*pp = p;
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*pend = 0xdc00 | (cp & 0x3ff);
		return 0xd800 | (cp >> 10);
	}
	return cp;
}

static int
jcs_key_cmp(const void *a, const void *b)
{
	const char *ka = *(const char *const *)a, *kb = *(const char *const *)b;
	const unsigned char *pa = (const unsigned char *)ka;
	const unsigned char *pb = (const unsigned char *)kb;
	const unsigned char *ea = pa + strlen(ka), *eb = pb + strlen(kb);
	uint32_t ua, ub, pend_a = 0, pend_b = 0;

	while ((pa < ea || pend_a) && (pb < eb || pend_b)) {
		ua = jcs_next_unit(&pa, ea, &pend_a);
		ub = jcs_next_unit(&pb, eb, &pend_b);
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
	if (pa < ea || pend_a)
		return 1;
	if (pb < eb || pend_b)
		return -1;
	return 0;
}

/*
 * Why a single value (not its members) has no canonical form, or NULL.
 * jcs_value() and jcs_check() both ask this, so what the signer refuses
 * and what the intake check refuses cannot drift apart.
 */
static const char *
jcs_refusal(const json_t *v)
{
	json_int_t iv;

	switch (json_typeof(v)) {
	case JSON_REAL:
		return "floats are not allowed";
	case JSON_INTEGER:
		iv = json_integer_value(v);
		if (iv > JCS_INT_MAX || iv < -JCS_INT_MAX)
			return "integers beyond +-(2^53 - 1) are not allowed";
		return NULL;
	default:
		return NULL;
	}
}

static int
jcs_value(struct jcs_buf *b, const json_t *v, int depth)
{
	const char **keys = NULL, *key;
	char num[32];
	json_t *item;
	size_t i, n;
	int r = 0;

	if (depth > JCS_MAX_DEPTH || jcs_refusal(v) != NULL)
		return TG_ERR_INVALID;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return jcs_put(b, "null", 4);
	case JSON_TRUE:
		return jcs_put(b, "true", 4);
	case JSON_FALSE:
		return jcs_put(b, "false", 5);
	case JSON_REAL:
		return TG_ERR_INVALID;
	case JSON_INTEGER:
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return jcs_put(b, num, n);
	case JSON_STRING:
		return jcs_string(b, json_string_value(v),
		    json_string_length(v));
	case JSON_ARRAY:
		if ((r = jcs_put(b, "[", 1)) != 0)
			return r;
		json_array_foreach(v, i, item) {
			if ((i > 0 && (r = jcs_put(b, ",", 1)) != 0) ||
			    (r = jcs_value(b, item, depth + 1)) != 0)
				return r;
		}
		return jcs_put(b, "]", 1);
	case JSON_OBJECT:
		break;
	}
	n = json_object_size(v);
	if (n > 0 && (keys = calloc(n, sizeof(*keys))) == NULL)
		return TG_ERR_NOMEM;
	i = 0;
	json_object_foreach((json_t *)(uintptr_t)v, key, item)
		keys[i++] = key;
	if (n > 1)
		qsort(keys, n, sizeof(*keys), jcs_key_cmp);
	if ((r = jcs_put(b, "{", 1)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((i > 0 && (r = jcs_put(b, ",", 1)) != 0) ||
		    (r = jcs_string(b, keys[i], strlen(keys[i]))) != 0 ||
		    (r = jcs_put(b, ":", 1)) != 0 ||
		    (r = jcs_value(b, json_object_get(v, keys[i]),
		    depth + 1)) != 0)
			goto out;
	}
	r = jcs_put(b, "}", 1);
out:
	free(keys);
	return r;
}

int
jcs_serialize(const json_t *v, char **out, size_t *outlen)
{
	struct jcs_buf b = { NULL, 0, 0 };
	int r;

	if (v == NULL)
		return TG_ERR_INVALID;
	if ((r = jcs_value(&b, v, 0)) != 0) {
		free(b.p);
		return r;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* A path being walked: "changes.limits[2]", truncated to fit. */
struct jcs_path {
	char	buf[JCS_PATH_MAX];
	size_t	len;
};

/* Append a member name (printable ASCII kept, the rest as '?'). */
static void
path_key(struct jcs_path *p, const char *key)
{
	size_t i;

	if (p->len + 1 < sizeof(p->buf))
		p->buf[p->len++] = '.';
	for (i = 0; key[i] != '\0' && i < JCS_PATH_KEY_MAX &&
	    p->len + 1 < sizeof(p->buf); i++)
		p->buf[p->len++] = key[i] > 0x20 && key[i] < 0x7f ? key[i] :
		    '?';
	if (key[i] != '\0' && p->len + 3 < sizeof(p->buf)) {
		memcpy(p->buf + p->len, "...", 3);
		p->len += 3;
	}
	p->buf[p->len] = '\0';
}

static void
path_index(struct jcs_path *p, size_t i)
{
	int n;

	n = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "[%zu]", i);
	if (n > 0 && (size_t)n < sizeof(p->buf) - p->len)
		p->len += (size_t)n;
	else
		p->buf[p->len] = '\0';
}

static int
check_value(const json_t *v, int level, int max_depth, struct jcs_path *p,
    char *err, size_t errlen)
{
	const char *why, *key;
	const json_t *item;
	size_t i, mark = p->len;
	int r;

	if (level > max_depth) {
		snprintf(err, errlen, "%s: nesting deeper than %d levels",
		    p->buf, max_depth);
		return TG_ERR_INVALID;
	}
	if ((why = jcs_refusal(v)) != NULL) {
		snprintf(err, errlen, "%s: %s", p->buf, why);
		return TG_ERR_INVALID;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			path_index(p, i);
			r = check_value(item, level + 1, max_depth, p, err,
			    errlen);
			p->len = mark;
			p->buf[mark] = '\0';
			if (r != 0)
				return r;
		}
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)(uintptr_t)v, key, item) {
			path_key(p, key);
			r = check_value(item, level + 1, max_depth, p, err,
			    errlen);
			p->len = mark;
			p->buf[mark] = '\0';
			if (r != 0)
				return r;
		}
	}
	return 0;
}

int
jcs_check(const json_t *v, int max_depth, const char *where, char *err,
    size_t errlen)
{
	struct jcs_path p;
	char dummy[1];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (v == NULL || where == NULL || max_depth < 0 ||
	    max_depth > JCS_MAX_DEPTH) {
		snprintf(err, errlen, "%s: no value", where ? where : "?");
		return TG_ERR_INVALID;
	}
	p.len = strnlen(where, sizeof(p.buf) - 1);
	memcpy(p.buf, where, p.len);
	p.buf[p.len] = '\0';
	return check_value(v, 0, max_depth, &p, err, errlen);
}

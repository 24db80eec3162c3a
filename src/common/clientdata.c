/* SPDX-License-Identifier: ISC */
/*
 * clientDataJSON, parsed strictly and bounded (clientdata.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"

static int
refuse(enum clientdata_fault *fault, enum clientdata_fault f)
{
	*fault = f;
	return f == CLIENTDATA_TOO_LONG ? TG_ERR_TOO_LONG : TG_ERR_INVALID;
}

/* A string member of at most max bytes, no NUL: else NULL. */
static const char *
member_str(const json_t *o, const char *name, size_t max)
{
	const json_t *v = json_object_get(o, name);
	const char *s;

	if (!json_is_string(v) || (s = json_string_value(v)) == NULL ||
	    json_string_length(v) != strlen(s) || *s == '\0' ||
	    strlen(s) > max)
		return NULL;
	return s;
}

int
clientdata_parse(const uint8_t *p, size_t len, struct clientdata *cd,
    enum clientdata_fault *fault)
{
	return clientdata_parse_type(p, len, CLIENTDATA_TYPE_GET, cd, fault);
}

int
clientdata_parse_type(const uint8_t *p, size_t len, const char *want,
    struct clientdata *cd, enum clientdata_fault *fault)
{
	const char *type, *chal, *origin;
	const json_t *cross;
	json_error_t err;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	json_t *o;
	int r;

	memset(cd, 0, sizeof(*cd));
	*fault = CLIENTDATA_OK;
	if (len > CLIENTDATA_MAX)
		return refuse(fault, CLIENTDATA_TOO_LONG);
	/* jansson refuses NUL, bad UTF-8 and anything after the object */
	if (p == NULL || len == 0 || memchr(p, '\0', len) != NULL ||
	    (o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES,
	    &err)) == NULL)
		return refuse(fault, CLIENTDATA_NOT_JSON);
	if (!json_is_object(o)) {
		r = refuse(fault, CLIENTDATA_NOT_JSON);
		goto out;
	}
	if ((type = member_str(o, "type", sizeof(cd->type) - 1)) == NULL ||
	    strcmp(type, want) != 0) {
		r = refuse(fault, CLIENTDATA_TYPE);
		goto out;
	}
	if ((chal = member_str(o, "challenge", CLIENTDATA_CHALLENGE_LEN)) ==
	    NULL || strlen(chal) != CLIENTDATA_CHALLENGE_LEN) {
		r = refuse(fault, CLIENTDATA_CHALLENGE);
		goto out;
	}
	if ((r = b64url_decode(chal, CLIENTDATA_CHALLENGE_LEN, 32, &raw,
	    &rawlen)) == TG_ERR_NOMEM)
		goto out;
	free(raw);
	if (r != 0 || rawlen != 32) {
		r = refuse(fault, CLIENTDATA_CHALLENGE);
		goto out;
	}
	if ((origin = member_str(o, "origin", CLIENTDATA_ORIGIN_MAX)) ==
	    NULL) {
		r = refuse(fault, CLIENTDATA_ORIGIN);
		goto out;
	}
	cross = json_object_get(o, "crossOrigin");
	if (cross != NULL && !json_is_false(cross)) {
		r = refuse(fault, CLIENTDATA_CROSS_ORIGIN);
		goto out;
	}
	if (json_object_get(o, "topOrigin") != NULL) {
		r = refuse(fault, CLIENTDATA_TOP_ORIGIN);
		goto out;
	}
	memcpy(cd->type, type, strlen(type) + 1);
	memcpy(cd->challenge, chal, CLIENTDATA_CHALLENGE_LEN + 1);
	memcpy(cd->origin, origin, strlen(origin) + 1);
	r = 0;
out:
	json_decref(o);
	return r;
}

const char *
clientdata_fault_text(enum clientdata_fault fault)
{
	static const char *const text[CLIENTDATA_FAULT_COUNT] = {
		"accepted",
		"clientDataJSON is longer than 1024 bytes",
		"clientDataJSON is not one JSON object (UTF-8, no NUL, no "
		    "duplicate member, nothing after it)",
		"clientDataJSON type is not webauthn.get",
		"clientDataJSON challenge is not 43 base64url characters of "
		    "32 bytes",
		"clientDataJSON origin is missing, empty or too long",
		"clientDataJSON crossOrigin is not false",
		"clientDataJSON has a topOrigin (an embedded frame)",
	};

	if ((unsigned)fault >= CLIENTDATA_FAULT_COUNT)
		return "?";
	return text[fault];
}

/* Whether h[0..n) is a lowercase DNS name: LDH labels of 1 to 63. */
static bool
dns_name(const char *h, size_t n)
{
	size_t i, label = 0;
	char c;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		c = h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && label > 0)) || ++label > 63)
			return false;
	}
	return label > 0 && h[n - 1] != '-';
}

bool
clientdata_origin_ok(const char *origin, const char *rp_id)
{
	static const char scheme[] = "https://";
	const char *host, *colon;
	size_t hn, rn, i;
	unsigned long port = 0;

	if (origin == NULL || rp_id == NULL ||
	    strncmp(origin, scheme, sizeof(scheme) - 1) != 0)
		return false;
	host = origin + sizeof(scheme) - 1;
	if ((colon = strchr(host, ':')) != NULL) {
		hn = (size_t)(colon - host);
		/* a port: 1 to 65535, digits only, no leading zero */
		if (colon[1] < '1' || colon[1] > '9')
			return false;
		for (i = 1; colon[i] != '\0'; i++) {
			if (colon[i] < '0' || colon[i] > '9' || i > 5)
				return false;
			port = port * 10 + (unsigned long)(colon[i] - '0');
		}
		if (port > 65535)
			return false;
	} else
		hn = strlen(host);
	rn = strlen(rp_id);
	if (!dns_name(host, hn) || !dns_name(rp_id, rn) || hn < rn ||
	    memcmp(host + hn - rn, rp_id, rn) != 0)
		return false;
	/* rp_id itself, or a subdomain: a label boundary before it */
	return hn == rn || host[hn - rn - 1] == '.';
}

void
clientdata_challenge(const uint8_t digest[32], const uint8_t *nonce,
    char out[CLIENTDATA_CHALLENGE_LEN + 1])
{
	uint8_t buf[32 + CLIENTDATA_NONCE_LEN], h[32];

	if (nonce == NULL) {
		b64url_encode(digest, 32, out);
		return;
	}
	memcpy(buf, digest, 32);
	memcpy(buf + 32, nonce, CLIENTDATA_NONCE_LEN);
	SHA256(buf, sizeof(buf), h);
	b64url_encode(h, 32, out);
}

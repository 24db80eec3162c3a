/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "order/jwk.h"
#include "order/jws.h"

int
jws_sign(const struct jwk *key, const uint8_t *payload, size_t len,
    char **jwsp, size_t *lenp)
{
	return jws_sign_typ(key, JWS_TYP, payload, len, jwsp, lenp);
}

int
jws_sign_typ(const struct jwk *key, const char *typ, const uint8_t *payload,
    size_t len, char **jwsp, size_t *lenp)
{
	uint8_t sig[JWK_SIG_LEN];
	char *hdr = NULL, *out = NULL;
	json_t *h = NULL;
	size_t hlen, n, total;
	int r;

	if (key == NULL || !jwk_has_private(key) || jwsp == NULL ||
	    lenp == NULL || (payload == NULL && len != 0) || typ == NULL)
		return TG_ERR_INVALID;
	if (len > JWS_MAX_LEN)
		return TG_ERR_TOO_LONG;	/* before any length arithmetic */
	if ((h = json_pack("{s:s, s:s, s:s}", "alg",
	    jwk_alg_name(jwk_alg(key)), "kid", jwk_kid(key), "typ",
	    typ)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if ((r = jcs_serialize(h, &hdr, &hlen)) != 0)
		goto out;
	total = b64url_encoded_len(hlen) + 1 + b64url_encoded_len(len) + 1 +
	    b64url_encoded_len(sizeof(sig));
	if (total > JWS_MAX_LEN) {
		r = TG_ERR_TOO_LONG;
		goto out;
	}
	if ((out = malloc(total + 1)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	n = b64url_encode((const uint8_t *)hdr, hlen, out);
	out[n++] = '.';
	n += b64url_encode(payload, len, out + n);
	/* RFC 7515 5.1: the signing input is ASCII(header "." payload) */
	if ((r = jwk_sign(key, (const uint8_t *)out, n, sig)) != 0)
		goto out;
	out[n++] = '.';
	n += b64url_encode(sig, sizeof(sig), out + n);
	if (n != total) {
		r = TG_ERR_INTERNAL;
		goto out;
	}
	*jwsp = out;
	*lenp = n;
	out = NULL;
	r = 0;
out:
	free(out);
	free(hdr);
	json_decref(h);
	return r;
}

/*
 * Check the decoded protected header and find its key: exactly alg, kid
 * and typ, all strings.  *kidp points into h.
 */
static int
jws_header(json_t *h, const char *want_typ, const struct jwks *set,
    const struct jwk **keyp, const char **kidp)
{
	const char *name, *alg = NULL, *kid = NULL, *typ = NULL, **slot;
	const struct jwk *key;
	enum jwk_alg a;
	json_t *v;
	int r;

	if (!json_is_object(h))
		return TG_ERR_INVALID;
	/*
	 * An allow-list of members rather than a deny-list: tapgate writes
	 * only these three, so "crit", "jku", "jwk", "x5u", "x5c", "b64" and
	 * whatever a later RFC invents are refused without being named.
	 */
	json_object_foreach(h, name, v) {
		if (strcmp(name, "alg") == 0)
			slot = &alg;
		else if (strcmp(name, "kid") == 0)
			slot = &kid;
		else if (strcmp(name, "typ") == 0)
			slot = &typ;
		else
			return TG_ERR_INVALID;
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return TG_ERR_INVALID;
		*slot = json_string_value(v);
	}
	if (alg == NULL)
		return TG_ERR_INVALID;
	if ((r = jwk_alg_from_name(alg, &a)) != 0)
		return r;
	if (kid == NULL || typ == NULL || strcmp(typ, want_typ) != 0)
		return TG_ERR_INVALID;
	if ((r = jwks_find(set, kid, &key)) != 0)
		return r;
	if (jwk_alg(key) != a)
		return TG_ERR_ALG_MISMATCH;
	*keyp = key;
	*kidp = kid;
	return 0;
}

int
jws_verify(const char *jws, size_t len, const struct jwks *set,
    uint8_t **payloadp, size_t *payloadlenp, char **kidp)
{
	return jws_verify_typ(jws, len, JWS_TYP, set, payloadp, payloadlenp,
	    kidp);
}

int
jws_verify_typ(const char *jws, size_t len, const char *typ,
    const struct jwks *set, uint8_t **payloadp, size_t *payloadlenp,
    char **kidp)
{
	const char *d1, *d2, *kid;
	const struct jwk *key;
	uint8_t *hdr = NULL, *payload = NULL, *sig = NULL;
	size_t hlen, plen, slen;
	char *kidcopy = NULL;
	json_error_t e;
	json_t *h = NULL;
	int r = TG_ERR_INVALID;

	if (set == NULL || payloadp == NULL || payloadlenp == NULL ||
	    typ == NULL)
		return TG_ERR_INVALID;
	if (len > JWS_MAX_LEN)
		return TG_ERR_TOO_LONG;
	if (jws == NULL || (d1 = memchr(jws, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws))) == NULL)
		goto out;
	/* a third dot lands in the signature part, which the decoder refuses */
	if ((r = b64url_decode(jws, (size_t)(d1 - jws), JWS_MAX_LEN, &hdr,
	    &hlen)) != 0 ||
	    (r = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), JWS_MAX_LEN,
	    &payload, &plen)) != 0 ||
	    (r = b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - jws),
	    JWS_MAX_LEN, &sig, &slen)) != 0)
		goto out;
	/* jansson refuses trailing data and NUL in strings by default */
	if ((h = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES,
	    &e)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((r = jws_header(h, typ, set, &key, &kid)) != 0)
		goto out;
	if ((r = jwk_verify(key, (const uint8_t *)jws, (size_t)(d2 - jws), sig,
	    slen)) != 0)
		goto out;
	if (kidp != NULL && (kidcopy = strdup(kid)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	*payloadp = payload;
	*payloadlenp = plen;
	payload = NULL;
	if (kidp != NULL)
		*kidp = kidcopy;
	r = 0;
out:
	json_decref(h);
	free(hdr);
	free(payload);
	free(sig);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * Assertions: getAssertion with touch and PIN, which credential a key
 * holds (asked without a touch), and the verification that turns an
 * assertion into an accepted approval.
 */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/sha.h>

#include "common/errors.h"
#include "token_int.h"

/* a getAssertion's fixed parts: hashes, options, PIN auth */
#define REQ_RESERVE	128
/* rpIdHash | flags | counter: an assertion without extensions. */
#define AUTHDATA_LEN	(32 + 1 + 4)

/*
 * libfido2 1.12 hands out authenticatorData CBOR-wrapped (a byte string);
 * take the raw bytes, refusing anything but exactly one definite byte
 * string no longer than TOKEN_AUTHDATA_MAX.
 */
static int
authdata_unwrap(const unsigned char *cbor, size_t len, uint8_t **outp,
    size_t *outlen)
{
	struct cbor_load_result	 res;
	cbor_item_t		*item = NULL;
	uint8_t			*out;
	size_t			 n;
	int			 r = TG_ERR_PROTOCOL;

	/* 3 bytes of CBOR header at most for this size. */
	if (cbor == NULL || len == 0 || len > TOKEN_AUTHDATA_MAX + 3)
		return TG_ERR_PROTOCOL;
	item = cbor_load(cbor, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != len || !cbor_isa_bytestring(item) ||
	    !cbor_bytestring_is_definite(item) ||
	    (n = cbor_bytestring_length(item)) == 0 ||
	    n > TOKEN_AUTHDATA_MAX)
		goto out;
	if ((out = malloc(n)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	memcpy(out, cbor_bytestring_handle(item), n);
	*outp = out;
	*outlen = n;
	r = 0;
out:
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

/* need_cdh: the request must have its client data hash. */
static int
assert_req_check(const struct token_assert_req *req, int need_cdh)
{
	size_t pinlen;

	if (req == NULL || req->rp_id == NULL || *req->rp_id == '\0' ||
	    (need_cdh && req->client_data_hash == NULL) || req->pin == NULL ||
	    (req->nallow > 0 && req->allow == NULL))
		return TG_ERR_INVALID;
	if (req->nallow > TOKEN_LIST_MAX)
		return TG_ERR_TOO_LONG;
	for (size_t i = 0; i < req->nallow; i++)
		if (req->allow[i].ptr == NULL || req->allow[i].len == 0 ||
		    req->allow[i].len > TOKEN_CRED_ID_MAX)
			return TG_ERR_INVALID;
	pinlen = strnlen(req->pin, TOKEN_PIN_MAX + 1);
	if (pinlen == 0 || pinlen > TOKEN_PIN_MAX)
		return TG_ERR_PIN_INVALID;
	return 0;
}

int
token_assert(struct token *tok, const struct token_assert_req *req,
    struct token_assertion **assertp)
{
	fido_assert_t		*a = NULL;
	struct token_assertion	*out = NULL;
	const unsigned char	*id, *sig;
	size_t			 idlen, siglen, first, end;
	int			 r, fr, allowed, hit;

	if (tok == NULL || assertp == NULL)
		return TG_ERR_INVALID;
	if ((r = assert_req_check(req, 1)) != 0)
		return r;
	if ((a = fido_assert_new()) == NULL ||
	    (out = calloc(1, sizeof(*out))) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	/* UV comes from the PIN; "up" is asked for explicitly. */
	if (fido_assert_set_clientdata_hash(a, req->client_data_hash,
	    TOKEN_CDH_LEN) != FIDO_OK ||
	    fido_assert_set_rp(a, req->rp_id) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK) {
		r = TG_ERR_INVALID;
		goto out;
	}
	/* a list longer than the key takes: which batch goes with the touch */
	if ((r = token_list_pick(tok, req->rp_id, req->pin, REQ_RESERVE +
	    strlen(req->rp_id), req->allow, req->nallow, &first, &end,
	    &hit)) != 0)
		goto out;
	for (size_t i = first; i < end; i++)
		if (fido_assert_allow_cred(a, req->allow[i].ptr,
		    req->allow[i].len) != FIDO_OK) {
			r = TG_ERR_NOMEM;
			goto out;
		}
	token_op_begin(tok);
	if ((fr = fido_dev_get_assert(tok->dev, a, req->pin)) != FIDO_OK) {
		r = token_map_err(tok, fr);
		goto out;
	}
	if (fido_assert_count(a) < 1) {
		r = TG_ERR_PROTOCOL;
		goto out;
	}
	id = fido_assert_id_ptr(a, 0);
	idlen = fido_assert_id_len(a, 0);
	sig = fido_assert_sig_ptr(a, 0);
	siglen = fido_assert_sig_len(a, 0);
	if (id == NULL || idlen == 0 || idlen > TOKEN_CRED_ID_MAX ||
	    sig == NULL || siglen == 0 || siglen > TOKEN_SIG_MAX) {
		r = TG_ERR_PROTOCOL;
		goto out;
	}
	/* A key answering for a credential we did not offer is broken. */
	if (req->nallow > 0) {
		allowed = 0;
		for (size_t i = first; i < end; i++)
			if (req->allow[i].len == idlen &&
			    memcmp(req->allow[i].ptr, id, idlen) == 0)
				allowed = 1;
		if (!allowed) {
			r = TG_ERR_PROTOCOL;
			goto out;
		}
	}
	if ((r = authdata_unwrap(fido_assert_authdata_ptr(a, 0),
	    fido_assert_authdata_len(a, 0), &out->authdata,
	    &out->authdata_len)) != 0)
		goto out;
	if ((out->cred_id = malloc(idlen)) == NULL ||
	    (out->sig = malloc(siglen)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	memcpy(out->cred_id, id, idlen);
	out->cred_id_len = idlen;
	memcpy(out->sig, sig, siglen);
	out->sig_len = siglen;
	out->sign_count = fido_assert_sigcount(a, 0);
	out->flags = fido_assert_flags(a, 0);
	*assertp = out;
	out = NULL;	/* transferred */
	r = 0;
out:
	token_assertion_free(&out);
	fido_assert_free(&a);
	return r;
}

int
token_identify(struct token *tok, const struct token_assert_req *req,
    uint8_t **cred_id, size_t *cred_id_len)
{
	uint8_t	*id;
	size_t	 i;
	int	 r;

	if (tok == NULL || cred_id == NULL || cred_id_len == NULL)
		return TG_ERR_INVALID;
	if ((r = assert_req_check(req, 0)) != 0)
		return r;
	if (req->nallow == 0)
		return TG_ERR_INVALID;
	if ((r = token_list_find(tok, req->rp_id, req->pin, REQ_RESERVE +
	    strlen(req->rp_id), req->allow, req->nallow, &i)) != 0)
		return r;
	if ((id = malloc(req->allow[i].len)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(id, req->allow[i].ptr, req->allow[i].len);
	*cred_id = id;
	*cred_id_len = req->allow[i].len;
	return 0;
}

void
token_assertion_free(struct token_assertion **assertp)
{
	struct token_assertion *a;

	if (assertp == NULL || (a = *assertp) == NULL)
		return;
	free(a->cred_id);
	free(a->authdata);
	free(a->sig);
	free(a);
	*assertp = NULL;
}

/* libfido2's signature check; 0, TG_ERR_SIGNATURE or another error. */
static int
sig_verify(const struct token_verify_req *req)
{
	fido_assert_t	*a = NULL;
	es256_pk_t	*es = NULL;
	eddsa_pk_t	*ed = NULL;
	const void	*pk;
	int		 r, fr;

	switch (req->pubkey->alg) {
	case TOKEN_ALG_ES256:
		if ((es = es256_pk_new()) == NULL)
			return TG_ERR_NOMEM;
		if (es256_pk_from_ptr(es, req->pubkey->raw,
		    req->pubkey->raw_len) != FIDO_OK) {
			r = TG_ERR_INVALID;
			goto out;
		}
		pk = es;
		break;
	case TOKEN_ALG_EDDSA:
		if ((ed = eddsa_pk_new()) == NULL)
			return TG_ERR_NOMEM;
		if (eddsa_pk_from_ptr(ed, req->pubkey->raw,
		    req->pubkey->raw_len) != FIDO_OK) {
			r = TG_ERR_INVALID;
			goto out;
		}
		pk = ed;
		break;
	default:
		return TG_ERR_UNSUPPORTED;
	}
	if ((a = fido_assert_new()) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	/*
	 * Without set_up/set_uv TRUE libfido2 accepts flags 0x00
	 * (FIDO-NOTES); they are set although the flags were checked above.
	 */
	if (fido_assert_set_clientdata_hash(a, req->client_data_hash,
	    TOKEN_CDH_LEN) != FIDO_OK ||
	    fido_assert_set_rp(a, req->rp_id) != FIDO_OK ||
	    fido_assert_set_count(a, 1) != FIDO_OK ||
	    fido_assert_set_extensions(a, 0) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(a, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_authdata_raw(a, 0, req->authdata,
	    req->authdata_len) != FIDO_OK ||
	    fido_assert_set_sig(a, 0, req->sig, req->sig_len) != FIDO_OK) {
		r = TG_ERR_INVALID;
		goto out;
	}
	switch ((fr = fido_assert_verify(a, 0, req->pubkey->alg, pk))) {
	case FIDO_OK:
		r = 0;
		break;
	case FIDO_ERR_INVALID_SIG:
		r = TG_ERR_SIGNATURE;
		break;
	case FIDO_ERR_INVALID_PARAM:
		/* rpIdHash and flags were checked; what is left is ours. */
		r = TG_ERR_INVALID;
		break;
	default:
		r = TG_ERR_INTERNAL;
		break;
	}
out:
	fido_assert_free(&a);
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	return r;
}

int
token_verify_assertion(const struct token_verify_req *req,
    uint32_t *sign_count)
{
	uint8_t		rphash[32], flags;
	uint32_t	counter;
	int		r;

	if (req == NULL || sign_count == NULL || req->pubkey == NULL ||
	    req->rp_id == NULL || req->client_data_hash == NULL ||
	    req->authdata == NULL || req->sig == NULL)
		return TG_ERR_INVALID;
	/* Bound everything before any parser (libcbor) sees it. */
	if (req->authdata_len > TOKEN_AUTHDATA_MAX ||
	    req->sig_len > TOKEN_SIG_MAX)
		return TG_ERR_TOO_LONG;
	if (req->authdata_len < AUTHDATA_LEN || req->sig_len == 0)
		return TG_ERR_INVALID;
	flags = req->authdata[32];
	/*
	 * No extension is ever requested, and an assertion attests no
	 * credential: ED or AT set, or trailing bytes, are refused before
	 * libcbor could be made to allocate gigabytes (FIDO-NOTES).
	 */
	if ((flags & (TOKEN_FLAG_ED | TOKEN_FLAG_AT)) != 0 ||
	    req->authdata_len != AUTHDATA_LEN)
		return TG_ERR_INVALID;
	SHA256((const unsigned char *)req->rp_id, strlen(req->rp_id), rphash);
	if (!token_memeq(req->authdata, rphash, sizeof(rphash)))
		return TG_ERR_RPID;
	if ((flags & (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) !=
	    (TOKEN_FLAG_UP | TOKEN_FLAG_UV))
		return TG_ERR_FLAGS;
	if ((r = sig_verify(req)) != 0)
		return r;
	/* The counter is covered by the signature: check it now. */
	counter = (uint32_t)req->authdata[33] << 24 |
	    (uint32_t)req->authdata[34] << 16 |
	    (uint32_t)req->authdata[35] << 8 | (uint32_t)req->authdata[36];
	if (!req->skip_counter && counter <= req->prev_sign_count)
		return TG_ERR_COUNTER;
	*sign_count = counter;
	return 0;
}

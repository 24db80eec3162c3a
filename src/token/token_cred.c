/* SPDX-License-Identifier: ISC */
/*
 * Enrolment: makeCredential, then everything a relying party must check
 * that libfido2 leaves to it (FIDO-NOTES): the attestation chain up to
 * pinned roots, the certificate's AAGUID, the UP/UV flags and rpIdHash.
 */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/errors.h"
#include "token_int.h"

#define USER_ID_MAX	64
#define ATTSTMT_MAX	8192	/* a packed statement with a short chain */
#define X5C_MAX		4	/* certificates in a chain we accept */
#define CERT_MAX	4096
/* authData up to the credential id: rpIdHash|flags|counter|aaguid|len */
#define AUTHDATA_AT_HDR	(32 + 1 + 4 + TOKEN_AAGUID_LEN + 2)
#define OID_FIDO_AAGUID	"1.3.6.1.4.1.45724.1.1.4"
/* a makeCredential's fixed parts: hashes, params, options, PIN auth */
#define REQ_RESERVE	256
#define ATTEST_OU	"Authenticator Attestation"

/* ---- public keys */

int
token_pubkey_from_raw(int alg, const uint8_t *raw, size_t len,
    struct token_pubkey *pk)
{
	es256_pk_t	*es = NULL;
	eddsa_pk_t	*ed = NULL;
	EVP_PKEY	*pkey = NULL;
	struct token_pubkey tmp;
	int		 r = TG_ERR_INVALID;

	if (raw == NULL || pk == NULL)
		return TG_ERR_INVALID;
	memset(&tmp, 0, sizeof(tmp));
	tmp.alg = alg;
	switch (alg) {
	case TOKEN_ALG_ES256:
		if (len == 65 && raw[0] == 0x04) {
			raw++;
			len--;
		}
		if (len != 64)
			goto out;
		/* libfido2 refuses points off the curve here. */
		if ((es = es256_pk_new()) == NULL) {
			r = TG_ERR_NOMEM;
			goto out;
		}
		if (es256_pk_from_ptr(es, raw, len) != FIDO_OK ||
		    (pkey = es256_pk_to_EVP_PKEY(es)) == NULL)
			goto out;
		break;
	case TOKEN_ALG_EDDSA:
		if (len != 32)
			goto out;
		if ((ed = eddsa_pk_new()) == NULL) {
			r = TG_ERR_NOMEM;
			goto out;
		}
		if (eddsa_pk_from_ptr(ed, raw, len) != FIDO_OK ||
		    (pkey = eddsa_pk_to_EVP_PKEY(ed)) == NULL)
			goto out;
		break;
	default:
		r = TG_ERR_UNSUPPORTED;
		goto out;
	}
	memcpy(tmp.raw, raw, len);
	tmp.raw_len = len;
	*pk = tmp;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	return r;
}

int
token_pubkey_to_cose(const struct token_pubkey *pk, uint8_t *out,
    size_t cap, size_t *outlen)
{
	/*
	 * The two key shapes are fixed, so their CTAP2 canonical encodings
	 * are too: {1:kty, 3:alg, -1:crv, -2:x[, -3:y]}.
	 */
	static const uint8_t es256_hdr[] = {
		0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20,
	};
	static const uint8_t es256_y[] = { 0x22, 0x58, 0x20 };
	static const uint8_t eddsa_hdr[] = {
		0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20,
	};
	size_t n;

	if (pk == NULL || out == NULL)
		return TG_ERR_INVALID;
	if (pk->alg == TOKEN_ALG_ES256 && pk->raw_len == 64) {
		n = sizeof(es256_hdr) + 32 + sizeof(es256_y) + 32;
		if (cap < n)
			return TG_ERR_TOO_LONG;
		memcpy(out, es256_hdr, sizeof(es256_hdr));
		memcpy(out + sizeof(es256_hdr), pk->raw, 32);
		memcpy(out + sizeof(es256_hdr) + 32, es256_y, sizeof(es256_y));
		memcpy(out + sizeof(es256_hdr) + 32 + sizeof(es256_y),
		    pk->raw + 32, 32);
	} else if (pk->alg == TOKEN_ALG_EDDSA && pk->raw_len == 32) {
		n = sizeof(eddsa_hdr) + 32;
		if (cap < n)
			return TG_ERR_TOO_LONG;
		memcpy(out, eddsa_hdr, sizeof(eddsa_hdr));
		memcpy(out + sizeof(eddsa_hdr), pk->raw, 32);
	} else
		return TG_ERR_INVALID;
	*outlen = n;
	return 0;
}

/* ---- attestation */

/*
 * The x5c array of a packed attStmt: leaf DER into *leaf, the rest into a
 * new stack of untrusted intermediates.  libfido2 1.12 only keeps x5c[0].
 */
static int
attstmt_x5c(const uint8_t *stmt, size_t len, X509 **leafp,
    STACK_OF(X509) **chainp)
{
	struct cbor_load_result	 res;
	cbor_item_t		*item = NULL, *x5c = NULL, **certs;
	struct cbor_pair	*pairs;
	STACK_OF(X509)		*chain = NULL;
	X509			*leaf = NULL, *c;
	const unsigned char	*p;
	size_t			 n;
	int			 r = TG_ERR_ATTESTATION;

	if (stmt == NULL || len == 0 || len > ATTSTMT_MAX)
		return TG_ERR_ATTESTATION;
	item = cbor_load(stmt, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE ||
	    res.read != len || !cbor_isa_map(item) ||
	    !cbor_map_is_definite(item))
		goto out;
	pairs = cbor_map_handle(item);
	for (size_t i = 0; i < cbor_map_size(item); i++) {
		cbor_item_t *k = pairs[i].key;

		if (cbor_isa_string(k) && cbor_string_is_definite(k) &&
		    cbor_string_length(k) == 3 &&
		    memcmp(cbor_string_handle(k), "x5c", 3) == 0)
			x5c = pairs[i].value;
	}
	if (x5c == NULL || !cbor_isa_array(x5c) ||
	    !cbor_array_is_definite(x5c) || (n = cbor_array_size(x5c)) == 0 ||
	    n > X5C_MAX)
		goto out;
	certs = cbor_array_handle(x5c);
	if ((chain = sk_X509_new_null()) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!cbor_isa_bytestring(certs[i]) ||
		    !cbor_bytestring_is_definite(certs[i]) ||
		    cbor_bytestring_length(certs[i]) > CERT_MAX)
			goto out;
		p = cbor_bytestring_handle(certs[i]);
		/* d2i must consume the whole byte string. */
		if ((c = d2i_X509(NULL, &p,
		    (long)cbor_bytestring_length(certs[i]))) == NULL)
			goto out;
		if (p != cbor_bytestring_handle(certs[i]) +
		    cbor_bytestring_length(certs[i])) {
			X509_free(c);
			goto out;
		}
		if (i == 0)
			leaf = c;
		else if (sk_X509_push(chain, c) == 0) {
			X509_free(c);
			r = TG_ERR_NOMEM;
			goto out;
		}
	}
	*leafp = leaf;
	*chainp = chain;
	leaf = NULL;
	chain = NULL;	/* transferred */
	r = 0;
out:
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

static int
chain_verify(X509 *leaf, STACK_OF(X509) *chain, const char *roots_pem)
{
	X509_STORE	*store = NULL;
	X509_STORE_CTX	*ctx = NULL;
	int		 r;

	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if (X509_STORE_load_file(store, roots_pem) != 1) {
		r = TG_ERR_IO;
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) {
		r = TG_ERR_INTERNAL;
		goto out;
	}
	r = X509_verify_cert(ctx) == 1 ? 0 : TG_ERR_ATTESTATION;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

/*
 * WebAuthn 8.2.1: a packed attestation certificate is X.509 v3, not a CA,
 * has OU "Authenticator Attestation", and when it carries the FIDO AAGUID
 * extension that is non-critical and equals authData's AAGUID.
 */
static int
leaf_check(X509 *leaf, const uint8_t aaguid[TOKEN_AAGUID_LEN])
{
	ASN1_OBJECT		*oid = NULL;
	ASN1_OCTET_STRING	*inner = NULL;
	X509_EXTENSION		*ext;
	const ASN1_OCTET_STRING	*data;
	const unsigned char	*p;
	X509_NAME		*subj;
	char			 ou[64];
	int			 idx, r = TG_ERR_ATTESTATION;

	if (X509_get_version(leaf) != X509_VERSION_3)
		goto out;
	if (X509_check_ca(leaf) != 0)
		goto out;
	subj = X509_get_subject_name(leaf);
	if (X509_NAME_get_text_by_NID(subj, NID_organizationalUnitName, ou,
	    sizeof(ou)) < 0 || strcmp(ou, ATTEST_OU) != 0)
		goto out;
	if ((oid = OBJ_txt2obj(OID_FIDO_AAGUID, 1)) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if ((idx = X509_get_ext_by_OBJ(leaf, oid, -1)) >= 0) {
		/* Once only. */
		if (X509_get_ext_by_OBJ(leaf, oid, idx) >= 0)
			goto out;
		ext = X509_get_ext(leaf, idx);
		if (X509_EXTENSION_get_critical(ext))
			goto out;
		data = X509_EXTENSION_get_data(ext);
		p = ASN1_STRING_get0_data(data);
		if ((inner = d2i_ASN1_OCTET_STRING(NULL, &p,
		    ASN1_STRING_length(data))) == NULL ||
		    p != ASN1_STRING_get0_data(data) +
		    ASN1_STRING_length(data) ||
		    ASN1_STRING_length(inner) != TOKEN_AAGUID_LEN ||
		    memcmp(ASN1_STRING_get0_data(inner), aaguid,
		    TOKEN_AAGUID_LEN) != 0)
			goto out;
	}
	r = 0;
out:
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
	return r;
}

/* What verifying an enrolment needs of req (no PIN). */
static int
enroll_fields_check(const struct token_enroll_req *req)
{
	if (req == NULL || req->rp_id == NULL || *req->rp_id == '\0' ||
	    req->client_data_hash == NULL || req->trust_roots_pem == NULL ||
	    (req->naaguids > 0 && req->aaguids == NULL))
		return TG_ERR_INVALID;
	if (req->alg != TOKEN_ALG_ES256 && req->alg != TOKEN_ALG_EDDSA)
		return TG_ERR_UNSUPPORTED;
	if (req->cred_protect < 0 || req->cred_protect > 3)
		return TG_ERR_INVALID;
	return 0;
}

/* What making a credential needs of req: the above, a user and a PIN. */
static int
enroll_req_check(const struct token_enroll_req *req)
{
	size_t pinlen;
	int r;

	if (req == NULL || req->user_id == NULL || req->user_id_len == 0 ||
	    req->user_id_len > USER_ID_MAX || req->user_name == NULL ||
	    req->pin == NULL)
		return TG_ERR_INVALID;
	if ((r = enroll_fields_check(req)) != 0)
		return r;
	if (req->nexclude > 0 && req->exclude == NULL)
		return TG_ERR_INVALID;
	if (req->nexclude > TOKEN_LIST_MAX)
		return TG_ERR_TOO_LONG;
	for (size_t i = 0; i < req->nexclude; i++)
		if (req->exclude[i].ptr == NULL || req->exclude[i].len == 0 ||
		    req->exclude[i].len > TOKEN_CRED_ID_MAX)
			return TG_ERR_INVALID;
	pinlen = strnlen(req->pin, TOKEN_PIN_MAX + 1);
	/* No such PIN can be right; do not spend a retry on it. */
	if (pinlen == 0 || pinlen > TOKEN_PIN_MAX)
		return TG_ERR_PIN_INVALID;
	return 0;
}

/* What a makeCredential request takes besides its exclude list. */
static size_t
enroll_reserve(const struct token_enroll_req *req)
{
	return REQ_RESERVE + strlen(req->rp_id) + (req->rp_name != NULL ?
	    strlen(req->rp_name) : 0) + req->user_id_len +
	    strlen(req->user_name) + (req->user_display_name != NULL ?
	    strlen(req->user_display_name) : 0);
}

/*
 * A credential as a relying party rebuilds it from the bytes a key sent
 * (authenticatorData, format, attStmt), parsed by libfido2, with what was
 * asked (type, client data hash, relying party, credProtect, UV).
 * TG_ERR_INVALID when req does not fit, TG_ERR_PROTOCOL when the bytes do
 * not parse.
 */
static int
cred_from_raw(const struct token_enroll_req *req, const uint8_t *ad,
    size_t adlen, const char *fmt, const uint8_t *att, size_t attlen,
    fido_cred_t **credp)
{
	fido_cred_t	*c;
	int		 r = 0;

	if ((c = fido_cred_new()) == NULL)
		return TG_ERR_NOMEM;
	if (fido_cred_set_type(c, req->alg) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(c, req->client_data_hash,
	    TOKEN_CDH_LEN) != FIDO_OK ||
	    fido_cred_set_rp(c, req->rp_id, req->rp_name) != FIDO_OK ||
	    (req->cred_protect > 0 &&
	    fido_cred_set_prot(c, req->cred_protect) != FIDO_OK) ||
	    fido_cred_set_uv(c, FIDO_OPT_TRUE) != FIDO_OK)
		r = TG_ERR_INVALID;
	else if (fido_cred_set_authdata_raw(c, ad, adlen) != FIDO_OK ||
	    fido_cred_set_fmt(c, fmt) != FIDO_OK ||
	    fido_cred_set_attstmt(c, att, attlen) != FIDO_OK)
		r = TG_ERR_PROTOCOL;
	if (r != 0) {
		fido_cred_free(&c);
		return r;
	}
	*credp = c;
	return 0;
}

/*
 * Rebuild the credential from the bytes the key sent, as a remote relying
 * party would, and let libfido2 check the packed attestation signature.
 */
static int
attestation_sig_verify(const fido_cred_t *made,
    const struct token_enroll_req *req, fido_cred_t **vcredp)
{
	fido_cred_t	*v = NULL;

	if (cred_from_raw(req, fido_cred_authdata_raw_ptr(made),
	    fido_cred_authdata_raw_len(made), fido_cred_fmt(made),
	    fido_cred_attstmt_ptr(made), fido_cred_attstmt_len(made), &v) != 0 ||
	    fido_cred_verify(v) != FIDO_OK) {
		fido_cred_free(&v);
		return TG_ERR_ATTESTATION;
	}
	*vcredp = v;
	return 0;
}

/* Everything after makeCredential; fills out on success. */
static int
enroll_verify(const fido_cred_t *made, const struct token_enroll_req *req,
    struct token_credential *out)
{
	fido_cred_t		*v = NULL;
	X509			*leaf = NULL;
	STACK_OF(X509)		*chain = NULL;
	unsigned char		*der = NULL;
	const unsigned char	*ad, *x5c;
	uint8_t			 rphash[32];
	const char		*fmt;
	size_t			 adlen;
	int			 derlen, r;

	ad = fido_cred_authdata_raw_ptr(made);
	adlen = fido_cred_authdata_raw_len(made);
	if (ad == NULL || adlen < AUTHDATA_AT_HDR) {
		r = TG_ERR_PROTOCOL;
		goto out;
	}
	/* Precise errors first: which relying party, which flags. */
	SHA256((const unsigned char *)req->rp_id, strlen(req->rp_id), rphash);
	if (!token_memeq(ad, rphash, sizeof(rphash))) {
		r = TG_ERR_RPID;
		goto out;
	}
	if ((ad[32] & (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) !=
	    (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) {
		r = TG_ERR_FLAGS;
		goto out;
	}
	if ((ad[32] & TOKEN_FLAG_AT) == 0 || fido_cred_type(made) != req->alg ||
	    fido_cred_id_len(made) == 0 ||
	    fido_cred_id_len(made) > TOKEN_CRED_ID_MAX ||
	    fido_cred_aaguid_len(made) != TOKEN_AAGUID_LEN) {
		r = TG_ERR_PROTOCOL;
		goto out;
	}
	if ((fmt = fido_cred_fmt(made)) == NULL || strcmp(fmt, "packed") != 0) {
		r = TG_ERR_ATTESTATION;
		goto out;
	}
	if ((r = attestation_sig_verify(made, req, &v)) != 0)
		goto out;
	if ((r = attstmt_x5c(fido_cred_attstmt_ptr(made),
	    fido_cred_attstmt_len(made), &leaf, &chain)) != 0)
		goto out;
	/* The certificate libfido2 checked the signature with is our leaf. */
	if ((derlen = i2d_X509(leaf, &der)) <= 0) {
		r = TG_ERR_ATTESTATION;
		goto out;
	}
	x5c = fido_cred_x5c_ptr(v);
	if (x5c == NULL || fido_cred_x5c_len(v) != (size_t)derlen ||
	    memcmp(x5c, der, (size_t)derlen) != 0) {
		r = TG_ERR_ATTESTATION;
		goto out;
	}
	if ((r = chain_verify(leaf, chain, req->trust_roots_pem)) != 0 ||
	    (r = leaf_check(leaf, fido_cred_aaguid_ptr(made))) != 0)
		goto out;
	if (req->naaguids > 0) {
		r = TG_ERR_AAGUID;
		for (size_t i = 0; i < req->naaguids; i++)
			if (memcmp(req->aaguids[i], fido_cred_aaguid_ptr(made),
			    TOKEN_AAGUID_LEN) == 0)
				r = 0;
		if (r != 0)
			goto out;
	}
	if ((r = token_pubkey_from_raw(req->alg, fido_cred_pubkey_ptr(made),
	    fido_cred_pubkey_len(made), &out->pubkey)) != 0) {
		r = TG_ERR_PROTOCOL;
		goto out;
	}
	if ((r = token_pubkey_to_cose(&out->pubkey, out->cose,
	    sizeof(out->cose), &out->cose_len)) != 0)
		goto out;
	if ((out->id = malloc(fido_cred_id_len(made))) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	memcpy(out->id, fido_cred_id_ptr(made), fido_cred_id_len(made));
	out->id_len = fido_cred_id_len(made);
	memcpy(out->aaguid, fido_cred_aaguid_ptr(made), TOKEN_AAGUID_LEN);
	SHA256(der, (size_t)derlen, out->cert_sha256);
	out->sign_count = fido_cred_sigcount(made);
	out->flags = ad[32];
	out->cred_protect = fido_cred_prot(made);
	if (adlen > TOKEN_AUTHDATA_MAX ||
	    fido_cred_attstmt_len(made) > TOKEN_ATTSTMT_MAX ||
	    strlen(fmt) > TOKEN_FMT_MAX) {
		r = TG_ERR_TOO_LONG;
		goto out;
	}
	if ((out->authdata = malloc(adlen)) == NULL ||
	    (out->attstmt = malloc(fido_cred_attstmt_len(made))) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	memcpy(out->authdata, ad, out->authdata_len = adlen);
	memcpy(out->attstmt, fido_cred_attstmt_ptr(made),
	    out->attstmt_len = fido_cred_attstmt_len(made));
	memcpy(out->fmt, fmt, strlen(fmt) + 1);
	r = 0;
out:
	OPENSSL_free(der);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	fido_cred_free(&v);
	return r;
}

int
token_enroll(struct token *tok, const struct token_enroll_req *req,
    struct token_credential **credp)
{
	fido_cred_t		*cred = NULL;
	struct token_credential	*out = NULL;
	size_t			 first, end;
	int			 r, fr, hit;

	if (tok == NULL || credp == NULL)
		return TG_ERR_INVALID;
	if ((r = enroll_req_check(req)) != 0)
		return r;
	if (req->cred_protect > 0 && !fido_dev_supports_cred_prot(tok->dev))
		return TG_ERR_UNSUPPORTED;
	if ((cred = fido_cred_new()) == NULL ||
	    (out = calloc(1, sizeof(*out))) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	/*
	 * UV comes from the PIN (pinUvAuthParam); the "uv" option stays
	 * unset, as CTAP 2.1 wants when a pinUvAuthParam is sent.
	 */
	if (fido_cred_set_type(cred, req->alg) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(cred, req->client_data_hash,
	    TOKEN_CDH_LEN) != FIDO_OK ||
	    fido_cred_set_rp(cred, req->rp_id, req->rp_name) != FIDO_OK ||
	    fido_cred_set_user(cred, req->user_id, req->user_id_len,
	    req->user_name, req->user_display_name, NULL) != FIDO_OK ||
	    (req->resident &&
	    fido_cred_set_rk(cred, FIDO_OPT_TRUE) != FIDO_OK) ||
	    (req->cred_protect > 0 &&
	    fido_cred_set_prot(cred, req->cred_protect) != FIDO_OK)) {
		r = TG_ERR_INVALID;
		goto out;
	}
	/* a list longer than the key takes: which batch goes with the touch */
	if ((r = token_list_pick(tok, req->rp_id, req->pin,
	    enroll_reserve(req), req->exclude, req->nexclude, &first, &end,
	    &hit)) != 0)
		goto out;
	for (size_t i = first; i < end; i++)
		if (fido_cred_exclude(cred, req->exclude[i].ptr,
		    req->exclude[i].len) != FIDO_OK) {
			r = TG_ERR_INVALID;
			goto out;
		}
	token_op_begin(tok);
	if ((fr = fido_dev_make_cred(tok->dev, cred, req->pin)) != FIDO_OK) {
		r = token_map_err(tok, fr);
		goto out;
	}
	/* the key holds an excluded credential, whatever it just did */
	if (hit) {
		r = TG_ERR_EXISTS;
		goto out;
	}
	if ((r = enroll_verify(cred, req, out)) != 0)
		goto out;
	*credp = out;
	out = NULL;	/* transferred */
	r = 0;
out:
	token_credential_free(&out);
	fido_cred_free(&cred);
	return r;
}

void
token_credential_free(struct token_credential **credp)
{
	struct token_credential *c;

	if (credp == NULL || (c = *credp) == NULL)
		return;
	free(c->id);
	free(c->authdata);
	free(c->attstmt);
	free(c);
	*credp = NULL;
}

/*
 * Is there one well-formed CBOR item at p[*off..len) whose declared sizes
 * fit in the bytes that follow (every element takes at least one), nested
 * at most depth_left deep?  Definite lengths only, as CTAP2 canonical
 * CBOR has.  libcbor allocates what a header declares before it reads a
 * byte of it (FIDO-NOTES: a few bytes ask for gigabytes), so bytes from
 * another process are walked here first.
 */
static int
cbor_item_ok(const uint8_t *p, size_t len, size_t *off, int depth_left)
{
	uint64_t v = 0, items;
	uint8_t mt, ai;
	size_t i, n;

	if (depth_left < 0 || *off >= len)
		return 0;
	mt = p[*off] >> 5;
	ai = p[*off] & 31;
	(*off)++;
	if (ai < 24)
		v = ai;
	else if (ai <= 27) {
		n = (size_t)1 << (ai - 24);
		if (n > len - *off)
			return 0;
		for (i = 0; i < n; i++)
			v = v << 8 | p[(*off)++];
	} else
		return 0;	/* indefinite length, or reserved */
	switch (mt) {
	case 2:			/* byte string */
	case 3:			/* text string */
		if (v > len - *off)
			return 0;
		*off += (size_t)v;
		return 1;
	case 4:			/* array */
	case 5:			/* map: two items an entry */
		if (v > (len - *off) / (mt == 5 ? 2 : 1))
			return 0;
		items = v * (mt == 5 ? 2 : 1);
		for (i = 0; i < items; i++)
			if (!cbor_item_ok(p, len, off, depth_left - 1))
				return 0;
		return 1;
	case 6:			/* tag */
		return cbor_item_ok(p, len, off, depth_left - 1);
	default:		/* integers, simple values, floats */
		return 1;
	}
}

/* Exactly nitems well-formed CBOR items in p[off..len). */
static int
cbor_items_ok(const uint8_t *p, size_t len, size_t off, int nitems)
{
	while (nitems-- > 0)
		if (!cbor_item_ok(p, len, &off, 8))
			return 0;
	return off == len;
}

/*
 * The CBOR inside an enrolment's authenticatorData (the credential's
 * COSE key, then the extensions when ED is set) and its attStmt.
 */
static int
enrolment_shape_ok(const uint8_t *ad, size_t adlen, const uint8_t *att,
    size_t attlen)
{
	size_t off = AUTHDATA_AT_HDR;

	if (adlen < AUTHDATA_AT_HDR || (ad[32] & TOKEN_FLAG_AT) == 0)
		return 0;
	off += (size_t)ad[AUTHDATA_AT_HDR - 2] << 8 | ad[AUTHDATA_AT_HDR - 1];
	if (off > adlen || !cbor_items_ok(ad, adlen, off,
	    (ad[32] & TOKEN_FLAG_ED) ? 2 : 1))
		return 0;
	return cbor_items_ok(att, attlen, 0, 1);
}

int
token_verify_enrolment(const struct token_enroll_req *req,
    const uint8_t *authdata, size_t authdata_len, const char *fmt,
    const uint8_t *attstmt, size_t attstmt_len,
    struct token_credential **credp)
{
	fido_cred_t		*made = NULL;
	struct token_credential	*out = NULL;
	int			 r;

	if (credp == NULL || authdata == NULL || fmt == NULL ||
	    attstmt == NULL)
		return TG_ERR_INVALID;
	if ((r = enroll_fields_check(req)) != 0)
		return r;
	if (authdata_len > TOKEN_AUTHDATA_MAX ||
	    attstmt_len > TOKEN_ATTSTMT_MAX || strlen(fmt) > TOKEN_FMT_MAX)
		return TG_ERR_TOO_LONG;
	if (!enrolment_shape_ok(authdata, authdata_len, attstmt, attstmt_len))
		return TG_ERR_PROTOCOL;
	if ((out = calloc(1, sizeof(*out))) == NULL)
		return TG_ERR_NOMEM;
	/* the credential as the key described it, parsed by libfido2 */
	if ((r = cred_from_raw(req, authdata, authdata_len, fmt, attstmt,
	    attstmt_len, &made)) != 0)
		goto out;
	if ((r = enroll_verify(made, req, out)) != 0)
		goto out;
	*credp = out;
	out = NULL;	/* transferred */
out:
	token_credential_free(&out);
	fido_cred_free(&made);
	return r;
}

/*
 * A credential a key made for the web console: the authenticator data a
 * browser's getAuthenticatorData() gives at enrolment, untrusted.  Its
 * shape is checked here (cbor_items_ok: the COSE key, the extensions
 * when ED is set, nothing after them), then libfido2 parses the attested
 * credential data and its key (fido_cred_set_authdata_raw), as at the
 * box.
 */
#define AD_FLAGS	32

static int
attested_fault(enum token_attested_fault *f, enum token_attested_fault v)
{
	*f = v;
	return TG_ERR_INVALID;
}

int
token_attested_parse(const char *rp_id, const uint8_t *ad, size_t len,
    struct token_attested *out, enum token_attested_fault *f)
{
	static const int types[] = { COSE_ES256, COSE_EDDSA };
	fido_cred_t *c = NULL;
	const uint8_t *id, *pk;
	uint8_t rph[32];
	size_t i, idlen, pklen, off;
	int r;

	memset(out, 0, sizeof(*out));
	*f = TOKEN_ATTESTED_OK;
	if (len > TOKEN_AUTHDATA_MAX)
		return attested_fault(f, TOKEN_ATTESTED_SHORT);
	if (ad == NULL || len < 37)
		return attested_fault(f, TOKEN_ATTESTED_SHORT);
	SHA256((const unsigned char *)rp_id, strlen(rp_id), rph);
	if (CRYPTO_memcmp(ad, rph, sizeof(rph)) != 0)
		return attested_fault(f, TOKEN_ATTESTED_RPID);
	if ((ad[AD_FLAGS] & (TOKEN_FLAG_UP | TOKEN_FLAG_UV)) !=
	    (TOKEN_FLAG_UP | TOKEN_FLAG_UV))
		return attested_fault(f, TOKEN_ATTESTED_FLAGS);
	if ((ad[AD_FLAGS] & TOKEN_FLAG_AT) == 0)
		return attested_fault(f, TOKEN_ATTESTED_NO_CREDENTIAL);
	/* the shape first, ours: the COSE key (and the extensions when ED
	   is set) and nothing after them */
	off = AUTHDATA_AT_HDR;
	if (len < AUTHDATA_AT_HDR)
		return attested_fault(f, TOKEN_ATTESTED_SHORT);
	off += (size_t)ad[AUTHDATA_AT_HDR - 2] << 8 | ad[AUTHDATA_AT_HDR - 1];
	if (off > len || !cbor_items_ok(ad, len, off,
	    (ad[AD_FLAGS] & TOKEN_FLAG_ED) ? 2 : 1))
		return attested_fault(f, TOKEN_ATTESTED_SHAPE);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fido_cred_free(&c);
		if ((c = fido_cred_new()) == NULL)
			return TG_ERR_NOMEM;
		if (fido_cred_set_type(c, types[i]) == FIDO_OK &&
		    fido_cred_set_authdata_raw(c, ad, len) == FIDO_OK)
			break;
	}
	if (i == sizeof(types) / sizeof(types[0])) {
		r = attested_fault(f, TOKEN_ATTESTED_KEY);
		goto out;
	}
	id = fido_cred_id_ptr(c);
	idlen = fido_cred_id_len(c);
	pk = fido_cred_pubkey_ptr(c);
	pklen = fido_cred_pubkey_len(c);
	if (id == NULL || idlen == 0 || idlen > TOKEN_CRED_ID_MAX) {
		r = attested_fault(f, TOKEN_ATTESTED_ID);
		goto out;
	}
	if (pk == NULL || pklen != (types[i] == COSE_ES256 ? 64u : 32u)) {
		r = attested_fault(f, TOKEN_ATTESTED_KEY);
		goto out;
	}
	out->alg = types[i] == COSE_ES256 ? TOKEN_ALG_ES256 :
	    TOKEN_ALG_EDDSA;
	memcpy(out->cred_id, id, idlen);
	out->cred_id_len = idlen;
	memcpy(out->pubkey, pk, pklen);
	out->pubkey_len = pklen;
	out->sign_count = fido_cred_sigcount(c);
	r = 0;
out:
	fido_cred_free(&c);
	return r;
}

const char *
token_attested_fault_text(enum token_attested_fault f)
{
	static const char *const text[] = {
		"ok",
		"authenticator data too short or too long",
		"authenticator data not for this rp_id",
		"the key did not report user presence and verification "
		    "(UP and UV)",
		"no attested credential data",
		"authenticator data: malformed CBOR, or bytes after it",
		"no ES256 or EdDSA key that parses",
		"a credential id of 1 to 1023 bytes",
	};

	return (unsigned)f < sizeof(text) / sizeof(text[0]) ? text[f] : "?";
}

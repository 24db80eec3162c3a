/* SPDX-License-Identifier: ISC */
/*
 * The seal interface and the blob format both kinds share (seal.h): the
 * header, the HKDF blob key, AES-256-GCM with the header and the label as
 * additional data, and the strict blob parser.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "common/errors.h"
#include "seal/seal_int.h"

/* A blob, taken apart; pointers into the caller's bytes. */
struct blob {
	uint8_t		 version;
	uint8_t		 kind;
	const uint8_t	*keyid;		/* SEAL_FILE */
	const uint8_t	*salt;		/* SEAL_FILE */
	uint32_t	 serial;	/* SEAL_YUBIKEY */
	const uint8_t	*chal;		/* SEAL_YUBIKEY */
	const uint8_t	*nonce;
	const uint8_t	*ct;
	size_t		 ctlen;
	const uint8_t	*tag;
	size_t		 headlen;	/* bytes before ct: the AAD's start */
};

/* Bounded reader over untrusted bytes; every getter checks the bound. */
struct reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
};

static int
rd_bytes(struct reader *rd, size_t n, const uint8_t **pp)
{
	if (rd->len - rd->off < n)
		return TG_ERR_INVALID;
	*pp = rd->p + rd->off;
	rd->off += n;
	return 0;
}

static int
rd_u8(struct reader *rd, uint8_t *vp)
{
	const uint8_t *p;
	int r;

	if ((r = rd_bytes(rd, 1, &p)) != 0)
		return r;
	*vp = p[0];
	return 0;
}

static int
rd_u32(struct reader *rd, uint32_t *vp)
{
	const uint8_t *p;
	int r;

	if ((r = rd_bytes(rd, 4, &p)) != 0)
		return r;
	*vp = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
seal_seterr(struct seal *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
}

const char *
seal_errmsg(const struct seal *s)
{
	if (s == NULL || s->errmsg[0] == '\0')
		return "no error";
	return s->errmsg;
}

int
seal_kind_parse(const char *name, enum seal_kind *kindp)
{
	if (name == NULL || kindp == NULL)
		return TG_ERR_INVALID;
	if (strcmp(name, "file") == 0)
		*kindp = SEAL_FILE;
	else if (strcmp(name, "yubikey") == 0)
		*kindp = SEAL_YUBIKEY;
	else
		return TG_ERR_INVALID;
	return 0;
}

const char *
seal_kind_name(enum seal_kind kind)
{
	switch (kind) {
	case SEAL_FILE:
		return "file";
	case SEAL_YUBIKEY:
		return "yubikey";
	}
	return NULL;
}

enum seal_kind
seal_kind(const struct seal *s)
{
	return s->kind;
}

static int
label_ok(const char *label)
{
	size_t i, n;

	if (label == NULL || (n = strlen(label)) == 0 || n > SEAL_LABEL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

int
seal_hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
    size_t saltlen, const char *info, const char *label, uint8_t *out,
    size_t outlen)
{
	uint8_t ibuf[sizeof(SEAL_KEYID_INFO) + SEAL_LABEL_MAX];
	EVP_PKEY_CTX *ctx;
	size_t ilen, llen, n = outlen;
	int r = TG_ERR_INTERNAL;

	ilen = strlen(info);
	llen = label != NULL ? strlen(label) : 0;
	if (ilen + llen > sizeof(ibuf) || ikmlen > INT32_MAX ||
	    saltlen > INT32_MAX)
		return TG_ERR_INTERNAL;
	memcpy(ibuf, info, ilen);
	if (llen > 0)
		memcpy(ibuf + ilen, label, llen);
	if ((ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL)) == NULL)
		return TG_ERR_NOMEM;
	if (EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm, (int)ikmlen) <= 0 ||
	    (saltlen > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)saltlen) <= 0) ||
	    EVP_PKEY_CTX_add1_hkdf_info(ctx, ibuf, (int)(ilen + llen)) <= 0 ||
	    EVP_PKEY_derive(ctx, out, &n) <= 0 || n != outlen)
		goto out;
	r = 0;
out:
	if (r != 0)
		OPENSSL_cleanse(out, outlen);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * Seal or open with AES-256-GCM.  enc: in -> out, tag written; !enc:
 * in -> out, tag checked (TG_ERR_UNSEAL, out wiped).
 */
static int
gcm(int enc, const uint8_t key[SEAL_KEK_LEN],
    const uint8_t nonce[SEAL_NONCE_LEN], const uint8_t *aad1, size_t aad1len,
    const char *label, const uint8_t *in, size_t len, uint8_t *out,
    uint8_t tag[SEAL_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx;
	int n, r = TG_ERR_INTERNAL;

	if (len > INT32_MAX || aad1len > INT32_MAX)
		return TG_ERR_INTERNAL;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return TG_ERR_NOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad1, (int)aad1len) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)label,
	    (int)strlen(label)) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len)
		goto out;
	if (enc) {
		if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1 || n != 0 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
		    SEAL_TAG_LEN, tag) != 1)
			goto out;
	} else {
		/* OpenSSL compares the tag in constant time. */
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
		    SEAL_TAG_LEN, tag) != 1)
			goto out;
		if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1) {
			r = TG_ERR_UNSEAL;
			goto out;
		}
	}
	r = 0;
out:
	if (r != 0 && !enc)
		OPENSSL_cleanse(out, len);
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

/* The file seal's key id: names the key file without revealing it. */
static int
file_keyid(struct seal *s)
{
	return seal_hkdf(s->filekey, sizeof(s->filekey), NULL, 0,
	    SEAL_KEYID_INFO, NULL, s->keyid, sizeof(s->keyid));
}

int
seal_open(enum seal_kind kind, const char *param, struct seal **sp)
{
	struct seal *s;
	int r;

	if (sp == NULL || seal_kind_name(kind) == NULL)
		return TG_ERR_INVALID;
	if (kind == SEAL_FILE && (param == NULL || *param == '\0'))
		return TG_ERR_INVALID;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TG_ERR_NOMEM;
	s->kind = kind;
	if (kind == SEAL_FILE) {
		if ((r = seal_file_open(param, s)) != 0 ||
		    (r = file_keyid(s)) != 0)
			goto fail;
	} else if ((r = seal_yk_open(param, s)) != 0)
		goto fail;
	*sp = s;
	return 0;
fail:
	seal_free(&s);
	return r;
}

void
seal_free(struct seal **sp)
{
	struct seal *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	if (s->kind == SEAL_YUBIKEY)
		seal_yk_close(s);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	*sp = NULL;
}

/*
 * The blob key for a header: HKDF over the file key or the YubiKey's
 * answer to the header's challenge.
 */
static int
blob_key(struct seal *s, const struct blob *b, const char *label,
    uint8_t kek[SEAL_KEK_LEN])
{
	uint8_t hmac[SEAL_YK_HMAC_LEN];
	int r;

	if (s->kind == SEAL_FILE)
		return seal_hkdf(s->filekey, sizeof(s->filekey), b->salt,
		    SEAL_SALT_LEN, SEAL_HKDF_INFO, label, kek, SEAL_KEK_LEN);
	if ((r = seal_yk_respond(s, b->chal, hmac)) == 0)
		r = seal_hkdf(hmac, sizeof(hmac), b->chal, SEAL_YK_CHAL_LEN,
		    SEAL_HKDF_INFO, label, kek, SEAL_KEK_LEN);
	OPENSSL_cleanse(hmac, sizeof(hmac));
	return r;
}

int
seal_seal(struct seal *s, const char *label, const uint8_t *secret,
    size_t len, uint8_t **blobp, size_t *bloblenp)
{
	uint8_t kek[SEAL_KEK_LEN], *blob = NULL, *p;
	struct blob b;
	size_t head, total;
	int r;

	if (s == NULL || blobp == NULL || bloblenp == NULL ||
	    (secret == NULL && len > 0))
		return TG_ERR_INVALID;
	s->errmsg[0] = '\0';
	if (!label_ok(label)) {
		seal_seterr(s, "label must be 1 to %d of [A-Za-z0-9._-]",
		    SEAL_LABEL_MAX);
		return TG_ERR_INVALID;
	}
	if (len == 0 || len > SEAL_SECRET_MAX) {
		seal_seterr(s, "secret must be 1 to %d bytes", SEAL_SECRET_MAX);
		return len == 0 ? TG_ERR_INVALID : TG_ERR_TOO_LONG;
	}
	head = SEAL_MAGIC_LEN + 2 + (s->kind == SEAL_FILE ?
	    SEAL_KEYID_LEN + SEAL_SALT_LEN : 4 + SEAL_YK_CHAL_LEN) +
	    SEAL_NONCE_LEN + 4;
	total = head + len + SEAL_TAG_LEN;
	if ((blob = calloc(1, total)) == NULL)
		return TG_ERR_NOMEM;
	memset(&b, 0, sizeof(b));
	p = blob;
	memcpy(p, SEAL_MAGIC, SEAL_MAGIC_LEN);
	p += SEAL_MAGIC_LEN;
	*p++ = SEAL_VERSION;
	*p++ = (uint8_t)s->kind;
	if (s->kind == SEAL_FILE) {
		memcpy(p, s->keyid, SEAL_KEYID_LEN);
		p += SEAL_KEYID_LEN;
		b.salt = p;
		if (RAND_bytes(p, SEAL_SALT_LEN) != 1) {
			r = TG_ERR_INTERNAL;
			goto fail;
		}
		p += SEAL_SALT_LEN;
	} else {
		put_u32(p, s->serial);
		p += 4;
		b.chal = p;
		if (RAND_bytes(p, SEAL_YK_CHAL_LEN) != 1) {
			r = TG_ERR_INTERNAL;
			goto fail;
		}
		/*
		 * With hmac-lt64 the key takes the challenge to end before
		 * the run of bytes equal to the last of its 64; libykpers
		 * pads ours with one 0, so a non-zero last byte keeps all 63.
		 */
		while (p[SEAL_YK_CHAL_LEN - 1] == 0)
			if (RAND_bytes(p + SEAL_YK_CHAL_LEN - 1, 1) != 1) {
				r = TG_ERR_INTERNAL;
				goto fail;
			}
		p += SEAL_YK_CHAL_LEN;
	}
	b.nonce = p;
	if (RAND_bytes(p, SEAL_NONCE_LEN) != 1) {
		r = TG_ERR_INTERNAL;
		goto fail;
	}
	p += SEAL_NONCE_LEN;
	put_u32(p, (uint32_t)len);
	p += 4;
	if ((r = blob_key(s, &b, label, kek)) != 0)
		goto fail;
	r = gcm(1, kek, b.nonce, blob, head, label, secret, len, blob + head,
	    blob + head + len);
	OPENSSL_cleanse(kek, sizeof(kek));
	if (r != 0)
		goto fail;
	*blobp = blob;
	*bloblenp = total;
	return 0;
fail:
	if (s->errmsg[0] == '\0')
		seal_seterr(s, "cannot seal: %s", tg_strerror(r));
	free(blob);
	return r;
}

/* Take blob apart, strictly: known version and kind, exact length. */
static int
blob_parse(const uint8_t *blob, size_t len, struct blob *b)
{
	struct reader rd = { blob, len, 0 };
	const uint8_t *magic;
	uint32_t ctlen;
	int r;

	memset(b, 0, sizeof(*b));
	if (len > SEAL_BLOB_MAX)
		return TG_ERR_TOO_LONG;
	if ((r = rd_bytes(&rd, SEAL_MAGIC_LEN, &magic)) != 0 ||
	    (r = rd_u8(&rd, &b->version)) != 0 ||
	    (r = rd_u8(&rd, &b->kind)) != 0)
		return r;
	if (memcmp(magic, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
		return TG_ERR_INVALID;
	if (b->version != SEAL_VERSION)
		return TG_ERR_UNSUPPORTED;
	switch (b->kind) {
	case SEAL_FILE:
		if ((r = rd_bytes(&rd, SEAL_KEYID_LEN, &b->keyid)) != 0 ||
		    (r = rd_bytes(&rd, SEAL_SALT_LEN, &b->salt)) != 0)
			return r;
		break;
	case SEAL_YUBIKEY:
		if ((r = rd_u32(&rd, &b->serial)) != 0 ||
		    (r = rd_bytes(&rd, SEAL_YK_CHAL_LEN, &b->chal)) != 0)
			return r;
		if (b->chal[SEAL_YK_CHAL_LEN - 1] == 0)
			return TG_ERR_INVALID;
		break;
	default:
		return TG_ERR_INVALID;
	}
	if ((r = rd_bytes(&rd, SEAL_NONCE_LEN, &b->nonce)) != 0 ||
	    (r = rd_u32(&rd, &ctlen)) != 0)
		return r;
	if (ctlen == 0 || ctlen > SEAL_SECRET_MAX)
		return TG_ERR_INVALID;
	b->headlen = rd.off;
	b->ctlen = ctlen;
	if ((r = rd_bytes(&rd, b->ctlen, &b->ct)) != 0 ||
	    (r = rd_bytes(&rd, SEAL_TAG_LEN, &b->tag)) != 0)
		return r;
	if (rd.off != rd.len)
		return TG_ERR_INVALID;	/* trailing data */
	return 0;
}

int
seal_unseal(struct seal *s, const char *label, const uint8_t *blob,
    size_t bloblen, uint8_t *out, size_t cap, size_t *outlenp)
{
	uint8_t kek[SEAL_KEK_LEN], tag[SEAL_TAG_LEN];
	struct blob b;
	int r;

	if (s == NULL || blob == NULL || out == NULL || outlenp == NULL)
		return TG_ERR_INVALID;
	s->errmsg[0] = '\0';
	if (!label_ok(label)) {
		seal_seterr(s, "label must be 1 to %d of [A-Za-z0-9._-]",
		    SEAL_LABEL_MAX);
		return TG_ERR_INVALID;
	}
	if ((r = blob_parse(blob, bloblen, &b)) != 0) {
		seal_seterr(s, "%s", r == TG_ERR_UNSUPPORTED ?
		    "sealed blob of an unknown format version" :
		    "malformed sealed blob");
		return r;
	}
	if (b.kind != s->kind) {
		seal_seterr(s, "sealed by a %s seal, this is a %s seal",
		    seal_kind_name(b.kind), seal_kind_name(s->kind));
		return TG_ERR_SEAL_KEY;
	}
	if (s->kind == SEAL_FILE &&
	    memcmp(b.keyid, s->keyid, SEAL_KEYID_LEN) != 0) {
		seal_seterr(s, "sealed with another seal key file");
		return TG_ERR_SEAL_KEY;
	}
	if (s->kind == SEAL_YUBIKEY && b.serial != s->serial) {
		seal_seterr(s, "sealed by the YubiKey with serial %u, but the "
		    "YubiKey present has serial %u", b.serial, s->serial);
		return TG_ERR_YUBIKEY_SERIAL;
	}
	if (cap < b.ctlen) {
		seal_seterr(s, "sealed secret of %zu bytes, room for %zu",
		    b.ctlen, cap);
		return TG_ERR_TOO_LONG;
	}
	if ((r = blob_key(s, &b, label, kek)) != 0)
		return r;
	memcpy(tag, b.tag, sizeof(tag));
	r = gcm(0, kek, b.nonce, blob, b.headlen, label, b.ct, b.ctlen, out,
	    tag);
	OPENSSL_cleanse(kek, sizeof(kek));
	if (r == TG_ERR_UNSEAL) {
		seal_seterr(s, "sealed data did not authenticate: sealed for "
		    "another label than \"%s\", with another %s, or damaged",
		    label, s->kind == SEAL_FILE ? "seal key file" :
		    "YubiKey secret in slot 2");
		return r;
	}
	if (r != 0)
		return r;
	*outlenp = b.ctlen;
	return 0;
}

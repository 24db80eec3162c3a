/* SPDX-License-Identifier: ISC */
/*
 * CTAP 2.1 authenticator commands of the softfido core: makeCredential,
 * getAssertion, getNextAssertion, getInfo, clientPIN (PIN/UV auth protocols
 * 1 and 2), reset and selection.  Requests are parsed in place with the
 * bounded CBOR reader, responses written into the caller's buffer; there is
 * no I/O and no allocation, and everything outside the state machine goes
 * through hal.h.
 *
 * Internal functions return 0 or a negated CTAP status code
 * (-CTAP2_ERR_...); ctap2_dispatch() turns that into the status byte.
 */
#include <stddef.h>
#include <string.h>

#include "cbor_rw.h"
#include "ctap2.h"
#include "hal.h"
#include "state.h"

/* pinUvAuthToken permissions */
#define PERM_MC			0x01
#define PERM_GA			0x02
#define PERM_LBW		0x10

/* authenticatorData flags */
#define FLAG_UP			0x01
#define FLAG_UV			0x04
#define FLAG_AT			0x40
#define FLAG_ED			0x80

#define RESET_WINDOW_MS		10000	/* reset window after power-up */
#define NEXT_ASSERTION_MS	30000	/* getNextAssertion timer */
#define TOKEN_FIRST_USE_MS	30000	/* initial usage time limit */
#define TOKEN_MAX_USE_MS	600000	/* maximum usage time period */
#define MAX_PIN_MISMATCHES	3	/* then PIN_AUTH_BLOCKED */
/* maxCredentialCountInList, as many keys */
#define MAX_LIST		8
#define PADDED_PIN		64
#define FIRMWARE_VERSION	1

/* rpIdHash flags counter aaguid idlen id COSE-key extensions */
#define AUTHDATA_MAX		(32 + 1 + 4 + 16 + 2 + SF_CRED_ID_LEN + 80 + 16)
#define SIG_MAX			80	/* DER ECDSA P-256 <= 72, Ed25519 64 */

/* rpIdHash of the relying party a WRONG_RPID fault claims */
static const char fault_rp_id[] = "fault.softfido.invalid";

static struct sf_state	st;	/* persistent: mirrors the flash blob */

/* Volatile state: lost at power-down, drawn anew by ctap2_init(). */
static struct {
	int		ready;
	uint64_t	boot_ms;
	uint8_t		ka_priv[32];	/* key-agreement key */
	uint8_t		ka_pub[64];
	int		mismatches;	/* consecutive wrong PINs */
	struct {
		uint8_t		key[32];
		int		in_use;
		int		used;
		uint8_t		perms;
		int		has_rp;
		uint8_t		rp_hash[32];
		uint64_t	start_ms;
	} tok;
	struct {			/* pending getNextAssertion */
		int		active;
		uint8_t		cdh[32];
		uint8_t		rp_hash[32];
		uint8_t		flags;
		int		uv;
		uint8_t		idx[SF_MAX_CREDS];
		int		n;
		int		next;
		uint64_t	last_ms;
	} ga;
} rt;

/* A secret in memory the compiler cannot prove dead is really erased. */
static void
wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* Compare MACs and PIN hashes in time independent of their contents. */
static int
ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static int
cb_status(int r)
{
	switch (r) {
	case CB_OK:
		return 0;
	case CB_ERR_TYPE:
		return -CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	case CB_ERR_RANGE:
		return -CTAP1_ERR_INVALID_PARAMETER;
	default:
		return -CTAP2_ERR_INVALID_CBOR;
	}
}

static int
touch(void)
{
	switch (hal_user_presence()) {
	case HAL_UP_OK:
		return 0;
	case HAL_UP_TIMEOUT:
		return -CTAP2_ERR_USER_ACTION_TIMEOUT;
	case HAL_UP_CANCELLED:
		return -CTAP2_ERR_KEEPALIVE_CANCEL;
	case HAL_UP_DENIED:
	default:
		return -CTAP2_ERR_OPERATION_DENIED;
	}
}

/* Write the state to flash; callers undo their change when this fails. */
static int
commit(void)
{
	hal_sha256(&st, offsetof(struct sf_state, digest), st.digest);
	if (hal_flash_store(&st, sizeof(st)) != 0)
		return -CTAP1_ERR_OTHER;
	return 0;
}

static void
state_fresh(void)
{
	wipe(&st, sizeof(st));
	st.magic = SF_STATE_MAGIC;
	st.version = SF_STATE_VERSION;
	st.size = sizeof(st);
	st.pin_retries = SF_PIN_RETRIES;
	st.min_pin_len = SF_MIN_PIN;
}

static int
state_valid(void)
{
	uint8_t d[32];
	int i;

	hal_sha256(&st, offsetof(struct sf_state, digest), d);
	if (!ct_equal(d, st.digest, sizeof(d)) || st.magic != SF_STATE_MAGIC ||
	    st.version != SF_STATE_VERSION || st.size != sizeof(st) ||
	    st.pin_retries > SF_PIN_RETRIES || st.pin_set > 1)
		return 0;
	for (i = 0; i < SF_MAX_CREDS; i++) {
		const struct sf_cred *c = &st.creds[i];

		if (!c->in_use)
			continue;
		if ((c->alg != SF_ALG_ES256 && c->alg != SF_ALG_EDDSA) ||
		    c->rp_id_len > SF_MAX_RPID ||
		    c->user_id_len > SF_MAX_USER_ID ||
		    c->user_name_len > SF_MAX_NAME ||
		    c->display_name_len > SF_MAX_NAME ||
		    c->cred_protect < 1 || c->cred_protect > 3)
			return 0;
	}
	return 1;
}

static void
token_stop(void)
{
	rt.tok.in_use = 0;
	rt.tok.used = 0;
	rt.tok.perms = 0;
	rt.tok.has_rp = 0;
	wipe(rt.tok.rp_hash, sizeof(rt.tok.rp_hash));
}

/* resetPinUvAuthToken(): a new token, and the old one is worthless. */
static int
token_reset(void)
{
	token_stop();
	return hal_rng(rt.tok.key, sizeof(rt.tok.key)) == 0 ? 0 :
	    -CTAP1_ERR_OTHER;
}

/* The usage timer observer of CTAP 2.1 section 6.5.2.1. */
static void
token_timers(void)
{
	uint64_t age;

	if (!rt.tok.in_use)
		return;
	age = hal_millis() - rt.tok.start_ms;
	if (age > TOKEN_MAX_USE_MS ||
	    (!rt.tok.used && age > TOKEN_FIRST_USE_MS))
		token_stop();
}

static int
ka_regenerate(void)
{
	if (hal_p256_keygen(rt.ka_priv, rt.ka_pub) != 0) {
		wipe(rt.ka_priv, sizeof(rt.ka_priv));
		return -CTAP1_ERR_OTHER;
	}
	return 0;
}

int
ctap2_init(void)
{
	int r;

	wipe(&rt, sizeof(rt));
	rt.boot_ms = hal_millis();
	if ((r = hal_flash_load(&st, sizeof(st))) < 0)
		goto fail;
	if (r == 1) {
		state_fresh();
		if (commit() != 0)
			goto fail;
	} else if (!state_valid())
		goto fail;
	if (ka_regenerate() != 0 || token_reset() != 0)
		goto fail;
	rt.ready = 1;
	return 0;
fail:
	wipe(&st, sizeof(st));
	wipe(&rt, sizeof(rt));
	return -1;
}

/* ---- PIN/UV auth protocols 1 and 2 (CTAP 2.1 sections 6.5.6, 6.5.7) */

struct pin_secret {
	uint64_t	proto;
	uint8_t		hmac[32];	/* protocol 1: both are SHA-256(Z) */
	uint8_t		aes[32];
};

static int
proto_ok(uint64_t proto)
{
	return proto == 1 || proto == 2;
}

static int
decapsulate(uint64_t proto, const uint8_t peer[64], struct pin_secret *s)
{
	static const uint8_t zeros[32];
	uint8_t z[32];
	int r = -CTAP1_ERR_INVALID_PARAMETER;

	s->proto = proto;
	if (hal_p256_ecdh(rt.ka_priv, peer, z) != 0)
		goto out;
	if (proto == 1) {
		hal_sha256(z, sizeof(z), s->hmac);
		memcpy(s->aes, s->hmac, sizeof(s->aes));
	} else if (hal_hkdf_sha256(zeros, sizeof(zeros), z, sizeof(z),
	    "CTAP2 HMAC key", s->hmac) != 0 || hal_hkdf_sha256(zeros,
	    sizeof(zeros), z, sizeof(z), "CTAP2 AES key", s->aes) != 0) {
		r = -CTAP1_ERR_OTHER;
		goto out;
	}
	r = 0;
out:
	wipe(z, sizeof(z));
	if (r != 0)
		wipe(s, sizeof(*s));
	return r;
}

/* out holds len (+16 for protocol 2) bytes; len is a multiple of 16. */
static int
pin_encrypt(const struct pin_secret *s, const uint8_t *pt, size_t len,
    uint8_t *out, size_t *outlen)
{
	static const uint8_t iv0[16];

	if (s->proto == 1) {
		if (hal_aes256_cbc(1, s->aes, iv0, pt, len, out) != 0)
			return -CTAP1_ERR_OTHER;
		*outlen = len;
		return 0;
	}
	if (hal_rng(out, 16) != 0 ||
	    hal_aes256_cbc(1, s->aes, out, pt, len, out + 16) != 0)
		return -CTAP1_ERR_OTHER;
	*outlen = 16 + len;
	return 0;
}

static int
pin_decrypt(const struct pin_secret *s, const uint8_t *ct, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	static const uint8_t iv0[16];
	const uint8_t *iv = iv0;

	if (s->proto == 2) {
		if (len < 16)
			return -1;
		iv = ct;
		ct += 16;
		len -= 16;
	}
	if (len == 0 || len % 16 != 0 || len > cap ||
	    hal_aes256_cbc(0, s->aes, iv, ct, len, out) != 0)
		return -1;
	*outlen = len;
	return 0;
}

/* verify(): protocol 1 MACs are LEFT(HMAC, 16), protocol 2 the whole. */
static int
pin_verify(uint64_t proto, const uint8_t key[32], const void *msg,
    size_t len, const uint8_t *mac, size_t maclen)
{
	uint8_t want[32];
	size_t n = proto == 1 ? 16 : 32;
	int ok;

	hal_hmac_sha256(key, 32, msg, len, want);
	ok = maclen == n && ct_equal(want, mac, n);
	wipe(want, sizeof(want));
	return ok;
}

/* ---- request parsing */

struct opts {
	int	rk, up, uv;	/* -1 absent, else 0 or 1 */
};

struct cred_list {
	size_t		 n;
	const uint8_t	*id[MAX_LIST];
	size_t		 len[MAX_LIST];
};

/*
 * The parameters of a command: exactly one well-formed, canonical CBOR
 * map.  Checking the whole request first means that later type errors are
 * type errors, not truncation in disguise.
 */
static int
open_params(const uint8_t *p, size_t len, struct cb_rd *rd,
    struct cb_map *m)
{
	struct cb_rd chk;

	cb_rd_init(&chk, p, len);
	if (len == 0 || cb_skip(&chk) != CB_OK ||
	    cb_rd_end(&chk) != CB_OK)
		return -CTAP2_ERR_INVALID_CBOR;
	cb_rd_init(rd, p, len);
	return cb_status(cb_map_open(rd, m));
}

static int
get_text_is(struct cb_rd *rd, const char *want, int *is)
{
	const char *s;
	size_t n;
	int r;

	if ((r = cb_status(cb_get_text(rd, &s, &n))) != 0)
		return r;
	*is = n == strlen(want) && memcmp(s, want, n) == 0;
	return 0;
}

/* A list of PublicKeyCredentialDescriptors; other types are skipped. */
static int
parse_cred_list(struct cb_rd *rd, struct cred_list *l)
{
	struct cb_map m;
	struct cb_key k;
	const uint8_t *id;
	size_t n, i, idlen;
	int r, has_id, has_type, pubkey;

	l->n = 0;
	if ((r = cb_status(cb_get_array(rd, &n))) != 0)
		return r;
	if (n > MAX_LIST)
		return -CTAP2_ERR_LIMIT_EXCEEDED;
	for (i = 0; i < n; i++) {
		has_id = has_type = pubkey = 0;
		id = NULL;
		idlen = 0;
		if ((r = cb_status(cb_map_open(rd, &m))) != 0)
			return r;
		while ((r = cb_map_next(&m, &k)) == 1) {
			if (cb_key_is(&k, "id")) {
				r = cb_status(cb_get_bytes(rd, &id,
				    &idlen));
				has_id = 1;
			} else if (cb_key_is(&k, "type")) {
				r = get_text_is(rd, "public-key", &pubkey);
				has_type = 1;
			} else
				r = cb_status(cb_skip(rd));
			if (r != 0)
				return r;
		}
		if (r < 0)
			return cb_status(r);
		if (!has_id || !has_type)
			return -CTAP2_ERR_MISSING_PARAMETER;
		if (pubkey) {
			l->id[l->n] = id;
			l->len[l->n] = idlen;
			l->n++;
		}
	}
	return 0;
}

static int
parse_options(struct cb_rd *rd, struct opts *o)
{
	struct cb_map m;
	struct cb_key k;
	int r, *v;

	o->rk = o->up = o->uv = -1;
	if ((r = cb_status(cb_map_open(rd, &m))) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (cb_key_is(&k, "rk"))
			v = &o->rk;
		else if (cb_key_is(&k, "up"))
			v = &o->up;
		else if (cb_key_is(&k, "uv"))
			v = &o->uv;
		else
			v = NULL;	/* options we do not know are ignored */
		if (v != NULL)
			r = cb_status(cb_get_bool(rd, v));
		else
			r = cb_status(cb_skip(rd));
		if (r != 0)
			return r;
	}
	return r < 0 ? cb_status(r) : 0;
}

/* The first of ES256 and EdDSA in the platform's order, or 0. */
static int
parse_alg_list(struct cb_rd *rd, int32_t *alg)
{
	struct cb_map m;
	struct cb_key k;
	size_t n, i;
	int64_t a;
	int r, has_alg, has_type, pubkey, known;

	*alg = 0;
	if ((r = cb_status(cb_get_array(rd, &n))) != 0)
		return r;
	for (i = 0; i < n; i++) {
		has_alg = has_type = pubkey = known = 0;
		a = 0;
		if ((r = cb_status(cb_map_open(rd, &m))) != 0)
			return r;
		while ((r = cb_map_next(&m, &k)) == 1) {
			if (cb_key_is(&k, "alg")) {
				has_alg = 1;
				r = cb_get_int(rd, &a);
				if (r == CB_ERR_RANGE) /* no COSE alg */
					r = cb_skip(rd);
				else if (r == CB_OK)
					known = a == SF_ALG_ES256 ||
					    a == SF_ALG_EDDSA;
				r = cb_status(r);
			} else if (cb_key_is(&k, "type")) {
				has_type = 1;
				r = get_text_is(rd, "public-key", &pubkey);
			} else
				r = cb_status(cb_skip(rd));
			if (r != 0)
				return r;
		}
		if (r < 0)
			return cb_status(r);
		if (!has_alg || !has_type)
			return -CTAP2_ERR_MISSING_PARAMETER;
		if (*alg == 0 && pubkey && known)
			*alg = (int32_t)a;
	}
	return 0;
}

/* COSE_Key of the platform's key-agreement key (ECDH-ES+HKDF-256). */
static int
parse_cose_ka(struct cb_rd *rd, uint8_t pub[64])
{
	struct cb_map m;
	struct cb_key k;
	const uint8_t *x = NULL, *y = NULL;
	size_t xlen = 0, ylen = 0;
	int64_t kty = 0, crv = 0, alg = -25;
	int r, has_kty = 0, has_crv = 0;

	if ((r = cb_status(cb_map_open(rd, &m))) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (k.kind == CB_UINT && k.i == 1) {
			has_kty = 1;
			r = cb_status(cb_get_int(rd, &kty));
		} else if (k.kind == CB_UINT && k.i == 3)
			r = cb_status(cb_get_int(rd, &alg));
		else if (k.kind == CB_NEGINT && k.i == -1) {
			has_crv = 1;
			r = cb_status(cb_get_int(rd, &crv));
		} else if (k.kind == CB_NEGINT && k.i == -2)
			r = cb_status(cb_get_bytes(rd, &x, &xlen));
		else if (k.kind == CB_NEGINT && k.i == -3)
			r = cb_status(cb_get_bytes(rd, &y, &ylen));
		else
			r = cb_status(cb_skip(rd));
		if (r != 0)
			return r;
	}
	if (r < 0)
		return cb_status(r);
	if (!has_kty || !has_crv || x == NULL || y == NULL)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (kty != 2 || crv != 1 || alg != -25 || xlen != 32 || ylen != 32)
		return -CTAP1_ERR_INVALID_PARAMETER;
	memcpy(pub, x, 32);
	memcpy(pub + 32, y, 32);
	return 0;
}

/* ---- credentials */

static int
find_cred(const uint8_t rp_hash[32], const uint8_t *id, size_t len)
{
	int i;

	if (len != SF_CRED_ID_LEN)
		return -1;
	for (i = 0; i < SF_MAX_CREDS; i++)
		if (st.creds[i].in_use &&
		    memcmp(st.creds[i].rp_id_hash, rp_hash, 32) == 0 &&
		    memcmp(st.creds[i].id, id, SF_CRED_ID_LEN) == 0)
			return i;
	return -1;
}

/* credProtect: level 3 needs UV even when the platform names the id. */
static int
listed_visible(int i, int uv)
{
	return st.creds[i].cred_protect < 3 || uv;
}

/* ... and without a list, level 2 needs UV too. */
static int
discoverable_visible(int i, int uv)
{
	return st.creds[i].resident && (st.creds[i].cred_protect < 2 || uv);
}

/* Keep a UTF-8 string's first max bytes without cutting a character. */
static size_t
utf8_trunc(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((uint8_t)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

static size_t
utf8_chars(const uint8_t *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += (s[i] & 0xc0) != 0x80;
	return n;
}

static int
cred_sign(const struct sf_cred *c, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	if (c->alg == SF_ALG_EDDSA) {
		if (*siglen < 64 || hal_ed25519_sign(c->priv, msg, len,
		    sig) != 0)
			return -CTAP1_ERR_OTHER;
		*siglen = 64;
		return 0;
	}
	if (hal_p256_sign(c->priv, msg, len, sig, siglen) != 0)
		return -CTAP1_ERR_OTHER;
	return 0;
}

/* Faults that change authenticatorData: rpIdHash and flags. */
static void
fault_authdata(uint8_t *ad)
{
	uint32_t f = hal_faults();

	if (f & HAL_FAULT_WRONG_RPID)
		hal_sha256(fault_rp_id, sizeof(fault_rp_id) - 1, ad);
	if (f & HAL_FAULT_NO_UP)
		ad[32] &= (uint8_t)~FLAG_UP;
	if (f & HAL_FAULT_NO_UV)
		ad[32] &= (uint8_t)~FLAG_UV;
}

static void
fault_signature(uint8_t *sig, size_t len)
{
	/* the last byte is inside s (ECDSA) or S (EdDSA): still parses */
	if ((hal_faults() & HAL_FAULT_BAD_SIGNATURE) && len > 0)
		sig[len - 1] ^= 0x01;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A 2.1 platform probing for a PIN sends an empty pinUvAuthParam. */
static int
empty_pin_param(void)
{
	int r;

	if ((r = touch()) != 0)
		return r;
	return st.pin_set ? -CTAP2_ERR_PIN_INVALID : -CTAP2_ERR_PIN_NOT_SET;
}

/* Check pinUvAuthParam over the clientDataHash with the token. */
static int
check_token(uint64_t proto, const uint8_t cdh[32], const uint8_t *param,
    size_t len, uint8_t perm, const uint8_t rp_hash[32])
{
	if (!st.pin_set)
		return -CTAP2_ERR_PIN_NOT_SET;
	if (!rt.tok.in_use ||
	    !pin_verify(proto, rt.tok.key, cdh, 32, param, len) ||
	    (rt.tok.perms & perm) == 0 ||
	    (rt.tok.has_rp && memcmp(rt.tok.rp_hash, rp_hash, 32) != 0))
		return -CTAP2_ERR_PIN_AUTH_INVALID;
	if (!rt.tok.has_rp) {
		memcpy(rt.tok.rp_hash, rp_hash, 32);
		rt.tok.has_rp = 1;
	}
	rt.tok.used = 1;
	return 0;
}

/* After a user presence check the token is spent (all but lbw). */
static void
token_consume(void)
{
	rt.tok.perms &= PERM_LBW;
}

/* ---- authenticatorMakeCredential (0x01) */

struct mc_req {
	const uint8_t	*cdh;
	size_t		 cdh_len;
	const char	*rp_id;
	size_t		 rp_id_len;
	const uint8_t	*user_id;
	size_t		 user_id_len;
	const char	*user_name;
	size_t		 user_name_len;
	const char	*display_name;
	size_t		 display_name_len;
	int		 has_rp, has_user, has_algs;
	int32_t		 alg;
	struct cred_list excl;
	int		 cred_protect;		/* 0: not requested */
	struct opts	 o;
	int		 has_param;
	const uint8_t	*param;
	size_t		 param_len;
	int		 has_proto;
	uint64_t	 proto;
	int		 has_ep;
};

static int
parse_rp(struct cb_rd *rd, struct mc_req *q)
{
	struct cb_map m;
	struct cb_key k;
	const char *s;
	size_t n;
	int r;

	if ((r = cb_status(cb_map_open(rd, &m))) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (cb_key_is(&k, "id")) {
			r = cb_status(cb_get_text(rd, &q->rp_id,
			    &q->rp_id_len));
			q->has_rp = 1;
		} else if (cb_key_is(&k, "name") ||
		    cb_key_is(&k, "icon"))
			r = cb_status(cb_get_text(rd, &s, &n));
		else
			r = cb_status(cb_skip(rd));
		if (r != 0)
			return r;
	}
	if (r < 0)
		return cb_status(r);
	return q->has_rp ? 0 : -CTAP2_ERR_MISSING_PARAMETER;
}

static int
parse_user(struct cb_rd *rd, struct mc_req *q)
{
	struct cb_map m;
	struct cb_key k;
	const char *s;
	size_t n;
	int r;

	if ((r = cb_status(cb_map_open(rd, &m))) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (cb_key_is(&k, "id")) {
			r = cb_status(cb_get_bytes(rd, &q->user_id,
			    &q->user_id_len));
			q->has_user = 1;
		} else if (cb_key_is(&k, "name"))
			r = cb_status(cb_get_text(rd, &q->user_name,
			    &q->user_name_len));
		else if (cb_key_is(&k, "displayName"))
			r = cb_status(cb_get_text(rd, &q->display_name,
			    &q->display_name_len));
		else if (cb_key_is(&k, "icon"))
			r = cb_status(cb_get_text(rd, &s, &n));
		else
			r = cb_status(cb_skip(rd));
		if (r != 0)
			return r;
	}
	if (r < 0)
		return cb_status(r);
	if (!q->has_user)
		return -CTAP2_ERR_MISSING_PARAMETER;
	/* WebAuthn caps user handles at 64 bytes */
	return q->user_id_len > SF_MAX_USER_ID ?
	    -CTAP2_ERR_LIMIT_EXCEEDED : 0;
}

static int
parse_mc_ext(struct cb_rd *rd, int *cred_protect)
{
	struct cb_map m;
	struct cb_key k;
	uint64_t v;
	int r;

	if ((r = cb_status(cb_map_open(rd, &m))) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (cb_key_is(&k, "credProtect")) {
			if ((r = cb_status(cb_get_uint(rd, &v))) != 0)
				return r;
			if (v < 1 || v > 3)
				return -CTAP1_ERR_INVALID_PARAMETER;
			*cred_protect = (int)v;
		} else if ((r = cb_status(cb_skip(rd))) != 0)
			return r;
	}
	return r < 0 ? cb_status(r) : 0;
}

static int
parse_mc(const uint8_t *p, size_t len, struct mc_req *q)
{
	struct cb_rd rd;
	struct cb_map m;
	struct cb_key k;
	int r;

	memset(q, 0, sizeof(*q));
	q->o.rk = q->o.up = q->o.uv = -1;
	if ((r = open_params(p, len, &rd, &m)) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (k.kind != CB_UINT) {
			r = cb_status(cb_skip(&rd));
		} else switch (k.i) {
		case 1:
			r = cb_status(cb_get_bytes(&rd, &q->cdh,
			    &q->cdh_len));
			break;
		case 2:
			r = parse_rp(&rd, q);
			break;
		case 3:
			r = parse_user(&rd, q);
			break;
		case 4:
			q->has_algs = 1;
			r = parse_alg_list(&rd, &q->alg);
			break;
		case 5:
			r = parse_cred_list(&rd, &q->excl);
			break;
		case 6:
			r = parse_mc_ext(&rd, &q->cred_protect);
			break;
		case 7:
			r = parse_options(&rd, &q->o);
			break;
		case 8:
			q->has_param = 1;
			r = cb_status(cb_get_bytes(&rd, &q->param,
			    &q->param_len));
			break;
		case 9:
			q->has_proto = 1;
			r = cb_status(cb_get_uint(&rd, &q->proto));
			break;
		case 10:
			q->has_ep = 1;
			r = cb_status(cb_skip(&rd));
			break;
		default:
			r = cb_status(cb_skip(&rd));
			break;
		}
		if (r != 0)
			return r;
	}
	if (r < 0)
		return cb_status(r);
	if (q->cdh == NULL || !q->has_rp || !q->has_user || !q->has_algs)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (q->cdh_len != 32)
		return -CTAP1_ERR_INVALID_LENGTH;
	return 0;
}

/* A slot for the new credential: the rp's resident one for this user. */
static int
cred_slot(const uint8_t rp_hash[32], const struct mc_req *q)
{
	int i, free_slot = -1;

	for (i = 0; i < SF_MAX_CREDS; i++) {
		const struct sf_cred *c = &st.creds[i];

		if (!c->in_use) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (q->o.rk == 1 && c->resident &&
		    memcmp(c->rp_id_hash, rp_hash, 32) == 0 &&
		    c->user_id_len == q->user_id_len &&
		    memcmp(c->user_id, q->user_id, q->user_id_len) == 0)
			return i;
	}
	return free_slot;
}

static void
put_cose_key(struct cb_wr *w, int32_t alg, const uint8_t *pub)
{
	if (alg == SF_ALG_EDDSA) {
		cb_put_map(w, 4);
		cb_put_uint(w, 1);
		cb_put_uint(w, 1);	/* OKP */
		cb_put_uint(w, 3);
		cb_put_int(w, SF_ALG_EDDSA);
		cb_put_int(w, -1);
		cb_put_uint(w, 6);	/* Ed25519 */
		cb_put_int(w, -2);
		cb_put_bytes(w, pub, 32);
		return;
	}
	cb_put_map(w, 5);
	cb_put_uint(w, 1);
	cb_put_uint(w, 2);		/* EC2 */
	cb_put_uint(w, 3);
	cb_put_int(w, alg);
	cb_put_int(w, -1);
	cb_put_uint(w, 1);		/* P-256 */
	cb_put_int(w, -2);
	cb_put_bytes(w, pub, 32);
	cb_put_int(w, -3);
	cb_put_bytes(w, pub + 32, 32);
}

static int
cred_create(struct sf_cred *c, const uint8_t rp_hash[32],
    const struct mc_req *q, uint8_t pub[64])
{
	memset(c, 0, sizeof(*c));
	if (hal_rng(c->id, sizeof(c->id)) != 0)
		return -CTAP1_ERR_OTHER;
	if (q->alg == SF_ALG_EDDSA) {
		if (hal_ed25519_keygen(c->priv, pub) != 0)
			return -CTAP1_ERR_OTHER;
	} else if (hal_p256_keygen(c->priv, pub) != 0)
		return -CTAP1_ERR_OTHER;
	c->alg = q->alg;
	c->resident = q->o.rk == 1;
	c->cred_protect = (uint8_t)(q->cred_protect ? q->cred_protect : 1);
	c->created = st.next_created++;
	memcpy(c->rp_id_hash, rp_hash, 32);
	/* names are for display: CTAP 2.1 lets us keep their first 64 bytes */
	c->rp_id_len = (uint8_t)utf8_trunc(q->rp_id, q->rp_id_len,
	    SF_MAX_RPID);
	memcpy(c->rp_id, q->rp_id, c->rp_id_len);
	c->user_id_len = (uint8_t)q->user_id_len;
	if (q->user_id_len > 0)
		memcpy(c->user_id, q->user_id, q->user_id_len);
	if (q->user_name != NULL) {
		c->user_name_len = (uint8_t)utf8_trunc(q->user_name,
		    q->user_name_len, SF_MAX_NAME);
		memcpy(c->user_name, q->user_name, c->user_name_len);
	}
	if (q->display_name != NULL) {
		c->display_name_len = (uint8_t)utf8_trunc(q->display_name,
		    q->display_name_len, SF_MAX_NAME);
		memcpy(c->display_name, q->display_name,
		    c->display_name_len);
	}
	c->in_use = 1;
	return 0;
}

static int
cmd_make_credential(const uint8_t *p, size_t len, struct cb_wr *w)
{
	struct mc_req q;
	struct sf_cred saved, *c;
	struct cb_wr aw;
	uint8_t rp_hash[32], pub[64], tbs[AUTHDATA_MAX + 32], sig[SIG_MAX];
	const uint8_t *cert;
	size_t i, adlen, siglen = sizeof(sig), certlen;
	uint8_t flags;
	int r, slot, uv = 0;

	memset(&saved, 0, sizeof(saved));
	if ((r = parse_mc(p, len, &q)) != 0)
		return r;
	if (q.has_param && q.param_len == 0)
		return empty_pin_param();
	if (q.has_param && !q.has_proto)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (q.has_param && !proto_ok(q.proto))
		return -CTAP1_ERR_INVALID_PARAMETER;
	if (q.alg == 0)
		return -CTAP2_ERR_UNSUPPORTED_ALGORITHM;
	if (q.has_ep)		/* no enterprise attestation here */
		return -CTAP1_ERR_INVALID_PARAMETER;
	if (q.o.up == 0)
		return -CTAP2_ERR_INVALID_OPTION;
	hal_sha256(q.rp_id, q.rp_id_len, rp_hash);
	if (!q.has_param) {
		if (q.o.uv == 1)	/* no built-in user verification */
			return -CTAP2_ERR_INVALID_OPTION;
		if (st.pin_set)		/* makeCredUvNotRqd is false */
			return -CTAP2_ERR_PUAT_REQUIRED;
	} else {
		if ((r = check_token(q.proto, q.cdh, q.param, q.param_len,
		    PERM_MC, rp_hash)) != 0)
			return r;
		uv = 1;
	}
	for (i = 0; i < q.excl.n; i++) {
		int j = find_cred(rp_hash, q.excl.id[i], q.excl.len[i]);

		if (j >= 0 && listed_visible(j, uv)) {
			/* a touch, so nobody probes ids without a user */
			(void)touch();
			return -CTAP2_ERR_CREDENTIAL_EXCLUDED;
		}
	}
	if ((slot = cred_slot(rp_hash, &q)) < 0)
		return -CTAP2_ERR_KEY_STORE_FULL;
	if ((r = touch()) != 0)
		return r;
	token_consume();

	c = &st.creds[slot];
	saved = *c;
	if ((r = cred_create(c, rp_hash, &q, pub)) != 0 ||
	    (r = commit()) != 0) {
		*c = saved;
		goto out;
	}

	/* authenticatorData with attested credential data */
	flags = FLAG_UP | FLAG_AT | (uv ? FLAG_UV : 0) |
	    (q.cred_protect ? FLAG_ED : 0);
	memcpy(tbs, rp_hash, 32);
	tbs[32] = flags;
	put_be32(tbs + 33, c->counter);
	memcpy(tbs + 37, hal_aaguid(), 16);
	tbs[53] = 0;
	tbs[54] = SF_CRED_ID_LEN;
	memcpy(tbs + 55, c->id, SF_CRED_ID_LEN);
	cb_wr_init(&aw, tbs + 55 + SF_CRED_ID_LEN,
	    AUTHDATA_MAX - 55 - SF_CRED_ID_LEN);
	put_cose_key(&aw, c->alg, pub);
	if (q.cred_protect) {
		cb_put_map(&aw, 1);
		cb_put_str(&aw, "credProtect");
		cb_put_uint(&aw, (uint64_t)q.cred_protect);
	}
	if (cb_wr_error(&aw) != 0) {
		r = -CTAP1_ERR_OTHER;
		goto out;
	}
	adlen = 55 + SF_CRED_ID_LEN + aw.len;
	fault_authdata(tbs);
	memcpy(tbs + adlen, q.cdh, 32);
	if (hal_attest_sign(tbs, adlen + 32, sig, &siglen) != 0) {
		r = -CTAP1_ERR_OTHER;
		goto out;
	}
	fault_signature(sig, siglen);
	cert = hal_attest_cert(&certlen);

	cb_put_map(w, 3);
	cb_put_uint(w, 1);
	cb_put_str(w, "packed");
	cb_put_uint(w, 2);
	cb_put_bytes(w, tbs, adlen);
	cb_put_uint(w, 3);
	cb_put_map(w, 3);
	cb_put_str(w, "alg");
	cb_put_int(w, SF_ALG_ES256);
	cb_put_str(w, "sig");
	cb_put_bytes(w, sig, siglen);
	cb_put_str(w, "x5c");
	cb_put_array(w, 1);
	cb_put_bytes(w, cert, certlen);
	r = 0;
out:
	wipe(&saved, sizeof(saved));
	wipe(pub, sizeof(pub));
	return r;
}

/* ---- authenticatorGetAssertion (0x02), getNextAssertion (0x08) */

struct ga_req {
	const char	*rp_id;
	size_t		 rp_id_len;
	const uint8_t	*cdh;
	size_t		 cdh_len;
	int		 has_rp;
	int		 has_allow;
	struct cred_list allow;
	struct opts	 o;
	int		 has_param;
	const uint8_t	*param;
	size_t		 param_len;
	int		 has_proto;
	uint64_t	 proto;
};

static int
skip_map(struct cb_rd *rd)
{
	int major, r;

	if ((r = cb_status(cb_peek(rd, &major))) != 0)
		return r;
	if (major != CB_MAP)
		return -CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	return cb_status(cb_skip(rd));
}

static int
parse_ga(const uint8_t *p, size_t len, struct ga_req *q)
{
	struct cb_rd rd;
	struct cb_map m;
	struct cb_key k;
	int r;

	memset(q, 0, sizeof(*q));
	q->o.rk = q->o.up = q->o.uv = -1;
	if ((r = open_params(p, len, &rd, &m)) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (k.kind != CB_UINT) {
			r = cb_status(cb_skip(&rd));
		} else switch (k.i) {
		case 1:
			q->has_rp = 1;
			r = cb_status(cb_get_text(&rd, &q->rp_id,
			    &q->rp_id_len));
			break;
		case 2:
			r = cb_status(cb_get_bytes(&rd, &q->cdh,
			    &q->cdh_len));
			break;
		case 3:
			q->has_allow = 1;
			r = parse_cred_list(&rd, &q->allow);
			break;
		case 4:		/* no assertion extension is supported */
			r = skip_map(&rd);
			break;
		case 5:
			r = parse_options(&rd, &q->o);
			break;
		case 6:
			q->has_param = 1;
			r = cb_status(cb_get_bytes(&rd, &q->param,
			    &q->param_len));
			break;
		case 7:
			q->has_proto = 1;
			r = cb_status(cb_get_uint(&rd, &q->proto));
			break;
		default:
			r = cb_status(cb_skip(&rd));
			break;
		}
		if (r != 0)
			return r;
	}
	if (r < 0)
		return cb_status(r);
	if (!q->has_rp || q->cdh == NULL)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (q->cdh_len != 32)
		return -CTAP1_ERR_INVALID_LENGTH;
	return 0;
}

/*
 * Sign one assertion with credential i and write its response.  The
 * counter grows and is on flash before the signature leaves.
 */
static int
put_assertion(struct cb_wr *w, int i, const uint8_t cdh[32],
    const uint8_t rp_hash[32], uint8_t flags, int uv, int total)
{
	struct sf_cred *c = &st.creds[i];
	uint8_t tbs[37 + 32], sig[SIG_MAX];
	size_t siglen = sizeof(sig), nuser;
	uint32_t old = c->counter, shown;
	int r, show_names;

	if (c->counter != UINT32_MAX)	/* saturate, never wrap to 0 */
		c->counter++;
	if ((r = commit()) != 0) {
		c->counter = old;
		return r;
	}
	shown = c->counter;
	if (hal_faults() & HAL_FAULT_COUNTER_BACKWARDS)
		shown = old > 0 ? old - 1 : 0;
	memcpy(tbs, rp_hash, 32);
	tbs[32] = flags;
	put_be32(tbs + 33, shown);
	fault_authdata(tbs);
	memcpy(tbs + 37, cdh, 32);
	if ((r = cred_sign(c, tbs, sizeof(tbs), sig, &siglen)) != 0)
		return r;
	fault_signature(sig, siglen);

	cb_put_map(w, 3 + (c->resident ? 1 : 0) + (total > 1 ? 1 : 0));
	cb_put_uint(w, 1);
	cb_put_map(w, 2);
	cb_put_str(w, "id");
	cb_put_bytes(w, c->id, SF_CRED_ID_LEN);
	cb_put_str(w, "type");
	cb_put_str(w, "public-key");
	cb_put_uint(w, 2);
	cb_put_bytes(w, tbs, 37);
	cb_put_uint(w, 3);
	cb_put_bytes(w, sig, siglen);
	if (c->resident) {
		/* names identify the user: only after user verification */
		show_names = uv;
		nuser = 1 + (show_names && c->user_name_len > 0) +
		    (show_names && c->display_name_len > 0);
		cb_put_uint(w, 4);
		cb_put_map(w, nuser);
		cb_put_str(w, "id");
		cb_put_bytes(w, c->user_id, c->user_id_len);
		if (show_names && c->user_name_len > 0) {
			cb_put_str(w, "name");
			cb_put_text(w, c->user_name, c->user_name_len);
		}
		if (show_names && c->display_name_len > 0) {
			cb_put_str(w, "displayName");
			cb_put_text(w, c->display_name,
			    c->display_name_len);
		}
	}
	if (total > 1) {
		cb_put_uint(w, 5);
		cb_put_uint(w, (uint64_t)total);
	}
	return 0;
}

static int
cmd_get_assertion(const uint8_t *p, size_t len, struct cb_wr *w)
{
	struct ga_req q;
	uint8_t rp_hash[32], flags;
	uint8_t idx[SF_MAX_CREDS];
	int r, i, j, n = 0, uv = 0, up;

	if ((r = parse_ga(p, len, &q)) != 0)
		return r;
	if (q.has_param && q.param_len == 0)
		return empty_pin_param();
	if (q.has_param && !q.has_proto)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (q.has_param && !proto_ok(q.proto))
		return -CTAP1_ERR_INVALID_PARAMETER;
	if (q.o.rk != -1)
		return -CTAP2_ERR_UNSUPPORTED_OPTION;
	up = q.o.up != 0;
	hal_sha256(q.rp_id, q.rp_id_len, rp_hash);
	if (q.has_param) {
		if ((r = check_token(q.proto, q.cdh, q.param, q.param_len,
		    PERM_GA, rp_hash)) != 0)
			return r;
		uv = 1;
	} else if (q.o.uv == 1)
		return -CTAP2_ERR_INVALID_OPTION;

	if (q.has_allow) {
		for (i = 0; i < (int)q.allow.n && n == 0; i++) {
			j = find_cred(rp_hash, q.allow.id[i],
			    q.allow.len[i]);
			if (j >= 0 && listed_visible(j, uv))
				idx[n++] = (uint8_t)j;
		}
	} else {
		/* the rp's discoverable credentials, newest first */
		for (i = 0; i < SF_MAX_CREDS; i++) {
			if (!st.creds[i].in_use ||
			    memcmp(st.creds[i].rp_id_hash, rp_hash, 32) != 0 ||
			    !discoverable_visible(i, uv))
				continue;
			for (j = n; j > 0 && st.creds[idx[j - 1]].created <
			    st.creds[i].created; j--)
				idx[j] = idx[j - 1];
			idx[j] = (uint8_t)i;
			n++;
		}
	}
	if (n == 0)
		return -CTAP2_ERR_NO_CREDENTIALS;
	if (up) {
		if ((r = touch()) != 0)
			return r;
		token_consume();
	}
	flags = (up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0);
	if ((r = put_assertion(w, idx[0], q.cdh, rp_hash, flags, uv, n)) != 0)
		return r;
	if (n > 1) {
		rt.ga.active = 1;
		memcpy(rt.ga.cdh, q.cdh, 32);
		memcpy(rt.ga.rp_hash, rp_hash, 32);
		rt.ga.flags = flags;
		rt.ga.uv = uv;
		memcpy(rt.ga.idx, idx, (size_t)n);
		rt.ga.n = n;
		rt.ga.next = 1;
		rt.ga.last_ms = hal_millis();
	}
	return 0;
}

static void
ga_clear(void)
{
	wipe(&rt.ga, sizeof(rt.ga));
}

static int
cmd_get_next_assertion(size_t len, struct cb_wr *w)
{
	int i, r;

	if (len != 0)
		return -CTAP1_ERR_INVALID_LENGTH;
	if (!rt.ga.active || rt.ga.next >= rt.ga.n ||
	    hal_millis() - rt.ga.last_ms > NEXT_ASSERTION_MS) {
		ga_clear();
		return -CTAP2_ERR_NOT_ALLOWED;
	}
	i = rt.ga.idx[rt.ga.next++];
	if (!st.creds[i].in_use)
		return -CTAP2_ERR_NOT_ALLOWED;
	if ((r = put_assertion(w, i, rt.ga.cdh, rt.ga.rp_hash, rt.ga.flags,
	    rt.ga.uv, 0)) != 0)
		return r;
	rt.ga.last_ms = hal_millis();
	return 0;
}

/* ---- authenticatorGetInfo (0x04) */

static int
cmd_get_info(size_t len, struct cb_wr *w)
{
	if (len != 0)
		return -CTAP1_ERR_INVALID_LENGTH;
	cb_put_map(w, 12);
	cb_put_uint(w, 0x01);		/* versions */
	cb_put_array(w, 2);
	cb_put_str(w, "FIDO_2_0");
	cb_put_str(w, "FIDO_2_1");
	cb_put_uint(w, 0x02);		/* extensions */
	cb_put_array(w, 1);
	cb_put_str(w, "credProtect");
	cb_put_uint(w, 0x03);		/* aaguid */
	cb_put_bytes(w, hal_aaguid(), 16);
	cb_put_uint(w, 0x04);		/* options, in canonical order */
	cb_put_map(w, 5);
	cb_put_str(w, "rk");
	cb_put_bool(w, 1);
	cb_put_str(w, "up");
	cb_put_bool(w, 1);
	cb_put_str(w, "plat");
	cb_put_bool(w, 0);
	cb_put_str(w, "clientPin");
	cb_put_bool(w, st.pin_set);
	cb_put_str(w, "pinUvAuthToken");
	cb_put_bool(w, 1);
	cb_put_uint(w, 0x05);		/* maxMsgSize */
	cb_put_uint(w, CTAP2_MAX_MSG);
	cb_put_uint(w, 0x06);		/* pinUvAuthProtocols */
	cb_put_array(w, 2);
	cb_put_uint(w, 2);
	cb_put_uint(w, 1);
	cb_put_uint(w, 0x07);		/* maxCredentialCountInList */
	cb_put_uint(w, MAX_LIST);
	cb_put_uint(w, 0x08);		/* maxCredentialIdLength */
	cb_put_uint(w, SF_CRED_ID_LEN);
	cb_put_uint(w, 0x09);		/* transports */
	cb_put_array(w, 1);
	cb_put_str(w, "usb");
	cb_put_uint(w, 0x0a);		/* algorithms */
	cb_put_array(w, 2);
	cb_put_map(w, 2);
	cb_put_str(w, "alg");
	cb_put_int(w, SF_ALG_ES256);
	cb_put_str(w, "type");
	cb_put_str(w, "public-key");
	cb_put_map(w, 2);
	cb_put_str(w, "alg");
	cb_put_int(w, SF_ALG_EDDSA);
	cb_put_str(w, "type");
	cb_put_str(w, "public-key");
	cb_put_uint(w, 0x0d);		/* minPINLength */
	cb_put_uint(w, st.min_pin_len);
	cb_put_uint(w, 0x0e);		/* firmwareVersion */
	cb_put_uint(w, FIRMWARE_VERSION);
	return 0;
}

/* ---- authenticatorClientPIN (0x06) */

#define CP_GET_RETRIES		1
#define CP_GET_KEY_AGREEMENT	2
#define CP_SET_PIN		3
#define CP_CHANGE_PIN		4
#define CP_GET_PIN_TOKEN	5
#define CP_GET_TOKEN_PERMS	9

struct cp_req {
	int		 has_proto;
	uint64_t	 proto;
	int		 has_sub;
	uint64_t	 sub;
	int		 has_ka;
	struct cb_rd	 ka;		/* positioned at the COSE_Key */
	int		 has_param;
	const uint8_t	*param;
	size_t		 param_len;
	int		 has_new_pin;
	const uint8_t	*new_pin;
	size_t		 new_pin_len;
	int		 has_pin_hash;
	const uint8_t	*pin_hash;
	size_t		 pin_hash_len;
	int		 has_perms;
	uint64_t	 perms;
	int		 has_rp;
	const char	*rp_id;
	size_t		 rp_id_len;
};

static int
parse_cp(const uint8_t *p, size_t len, struct cp_req *q)
{
	struct cb_rd rd;
	struct cb_map m;
	struct cb_key k;
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = open_params(p, len, &rd, &m)) != 0)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		if (k.kind != CB_UINT) {
			r = cb_status(cb_skip(&rd));
		} else switch (k.i) {
		case 1:
			q->has_proto = 1;
			r = cb_status(cb_get_uint(&rd, &q->proto));
			break;
		case 2:
			q->has_sub = 1;
			r = cb_status(cb_get_uint(&rd, &q->sub));
			break;
		case 3:
			q->has_ka = 1;
			q->ka = rd;
			r = skip_map(&rd);
			break;
		case 4:
			q->has_param = 1;
			r = cb_status(cb_get_bytes(&rd, &q->param,
			    &q->param_len));
			break;
		case 5:
			q->has_new_pin = 1;
			r = cb_status(cb_get_bytes(&rd, &q->new_pin,
			    &q->new_pin_len));
			break;
		case 6:
			q->has_pin_hash = 1;
			r = cb_status(cb_get_bytes(&rd, &q->pin_hash,
			    &q->pin_hash_len));
			break;
		case 9:
			q->has_perms = 1;
			r = cb_status(cb_get_uint(&rd, &q->perms));
			break;
		case 10:
			q->has_rp = 1;
			r = cb_status(cb_get_text(&rd, &q->rp_id,
			    &q->rp_id_len));
			break;
		default:
			r = cb_status(cb_skip(&rd));
			break;
		}
		if (r != 0)
			return r;
	}
	if (r < 0)
		return cb_status(r);
	if (!q->has_sub)
		return -CTAP2_ERR_MISSING_PARAMETER;
	return 0;
}

/* The shared secret with the platform's key in the request. */
static int
cp_secret(struct cp_req *q, struct pin_secret *s)
{
	uint8_t peer[64];
	int r;

	if ((r = parse_cose_ka(&q->ka, peer)) != 0)
		return r;
	return decapsulate(q->proto, peer, s);
}

/*
 * Decrypt, check and store a new PIN (setPIN, changePIN).  The padded PIN
 * is 64 bytes; the PIN ends at its first zero byte.
 */
static int
store_new_pin(const struct pin_secret *s, const uint8_t *enc, size_t len)
{
	uint8_t pad[PADDED_PIN], hash[32], old_hash[16];
	uint8_t old_set = st.pin_set, old_retries = st.pin_retries;
	size_t n = 0, pinlen;
	int r;

	memcpy(old_hash, st.pin_hash, sizeof(old_hash));
	if (pin_decrypt(s, enc, len, pad, sizeof(pad), &n) != 0 ||
	    n != PADDED_PIN) {
		r = -CTAP1_ERR_INVALID_PARAMETER;
		goto out;
	}
	for (pinlen = 0; pinlen < PADDED_PIN && pad[pinlen] != 0; pinlen++)
		;
	if (pinlen > SF_MAX_PIN || utf8_chars(pad, pinlen) < st.min_pin_len) {
		r = -CTAP2_ERR_PIN_POLICY_VIOLATION;
		goto out;
	}
	hal_sha256(pad, pinlen, hash);
	memcpy(st.pin_hash, hash, sizeof(st.pin_hash));
	st.pin_set = 1;
	st.pin_retries = SF_PIN_RETRIES;
	if ((r = commit()) != 0) {
		memcpy(st.pin_hash, old_hash, sizeof(old_hash));
		st.pin_set = old_set;
		st.pin_retries = old_retries;
	}
out:
	wipe(pad, sizeof(pad));
	wipe(hash, sizeof(hash));
	wipe(old_hash, sizeof(old_hash));
	return r;
}

/*
 * Check pinHashEnc against the stored PIN hash.  The retry counter goes
 * down on flash before the comparison, so pulling the plug mid-check
 * costs the attacker a try.
 */
static int
check_pin(const struct pin_secret *s, const uint8_t *enc, size_t len)
{
	uint8_t pt[32];
	size_t n = 0;
	int ok, r;

	if (rt.mismatches >= MAX_PIN_MISMATCHES)
		return -CTAP2_ERR_PIN_AUTH_BLOCKED;
	st.pin_retries--;
	if ((r = commit()) != 0) {
		st.pin_retries++;
		return r;
	}
	ok = pin_decrypt(s, enc, len, pt, sizeof(pt), &n) == 0 && n == 16 &&
	    ct_equal(pt, st.pin_hash, 16);
	wipe(pt, sizeof(pt));
	if (!ok) {
		/* a new key agreement: the platform must start over */
		if ((r = ka_regenerate()) != 0)
			return r;
		rt.mismatches++;
		if (st.pin_retries == 0)
			return -CTAP2_ERR_PIN_BLOCKED;
		if (rt.mismatches >= MAX_PIN_MISMATCHES)
			return -CTAP2_ERR_PIN_AUTH_BLOCKED;
		return -CTAP2_ERR_PIN_INVALID;
	}
	rt.mismatches = 0;
	st.pin_retries = SF_PIN_RETRIES;
	if ((r = commit()) != 0) {
		st.pin_retries--;	/* as on flash */
		return r;
	}
	return 0;
}

static int
cp_get_retries(struct cb_wr *w)
{
	cb_put_map(w, 2);
	cb_put_uint(w, 3);
	cb_put_uint(w, st.pin_retries);
	cb_put_uint(w, 4);		/* powerCycleState */
	cb_put_bool(w, rt.mismatches >= MAX_PIN_MISMATCHES);
	return 0;
}

static int
cp_get_key_agreement(struct cb_wr *w)
{
	cb_put_map(w, 1);
	cb_put_uint(w, 1);
	cb_put_map(w, 5);
	cb_put_uint(w, 1);
	cb_put_uint(w, 2);		/* EC2 */
	cb_put_uint(w, 3);
	cb_put_int(w, -25);		/* ECDH-ES+HKDF-256 */
	cb_put_int(w, -1);
	cb_put_uint(w, 1);		/* P-256 */
	cb_put_int(w, -2);
	cb_put_bytes(w, rt.ka_pub, 32);
	cb_put_int(w, -3);
	cb_put_bytes(w, rt.ka_pub + 32, 32);
	return 0;
}

static int
cp_set_pin(struct cp_req *q)
{
	struct pin_secret s;
	int r;

	if (!q->has_ka || !q->has_param || !q->has_new_pin)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (st.pin_set)
		return -CTAP2_ERR_PIN_AUTH_INVALID;
	if ((r = cp_secret(q, &s)) != 0)
		return r;
	if (!pin_verify(s.proto, s.hmac, q->new_pin, q->new_pin_len,
	    q->param, q->param_len))
		r = -CTAP2_ERR_PIN_AUTH_INVALID;
	else
		r = store_new_pin(&s, q->new_pin, q->new_pin_len);
	wipe(&s, sizeof(s));
	return r;
}

static int
cp_change_pin(struct cp_req *q)
{
	struct pin_secret s;
	uint8_t msg[PADDED_PIN + 16 + 32];
	int r;

	if (!q->has_ka || !q->has_param || !q->has_new_pin ||
	    !q->has_pin_hash)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (!st.pin_set)
		return -CTAP2_ERR_PIN_NOT_SET;
	if (st.pin_retries == 0)
		return -CTAP2_ERR_PIN_BLOCKED;
	/* longer than any protocol's newPinEnc or pinHashEnc */
	if (q->new_pin_len > PADDED_PIN + 16 || q->pin_hash_len > 32)
		return -CTAP1_ERR_INVALID_PARAMETER;
	if ((r = cp_secret(q, &s)) != 0)
		return r;
	memcpy(msg, q->new_pin, q->new_pin_len);
	memcpy(msg + q->new_pin_len, q->pin_hash, q->pin_hash_len);
	if (!pin_verify(s.proto, s.hmac, msg, q->new_pin_len +
	    q->pin_hash_len, q->param, q->param_len))
		r = -CTAP2_ERR_PIN_AUTH_INVALID;
	else if ((r = check_pin(&s, q->pin_hash, q->pin_hash_len)) == 0 &&
	    (r = store_new_pin(&s, q->new_pin, q->new_pin_len)) == 0)
		r = token_reset();
	wipe(&s, sizeof(s));
	return r;
}

static int
cp_get_token(struct cp_req *q, struct cb_wr *w)
{
	struct pin_secret s;
	uint8_t enc[16 + 32], perms = PERM_MC | PERM_GA;
	size_t enclen = 0;
	int r;

	if (!q->has_ka || !q->has_pin_hash)
		return -CTAP2_ERR_MISSING_PARAMETER;
	if (q->sub == CP_GET_PIN_TOKEN) {
		if (q->has_perms || q->has_rp)
			return -CTAP1_ERR_INVALID_PARAMETER;
	} else {
		if (!q->has_perms)
			return -CTAP2_ERR_MISSING_PARAMETER;
		if (q->perms == 0)
			return -CTAP1_ERR_INVALID_PARAMETER;
		if ((q->perms & ~(uint64_t)(PERM_MC | PERM_GA)) != 0)
			return -CTAP2_ERR_UNAUTHORIZED_PERMISSION;
		/* mc and ga tokens are bound to one relying party */
		if (!q->has_rp)
			return -CTAP1_ERR_INVALID_PARAMETER;
		perms = (uint8_t)q->perms;
	}
	if (!st.pin_set)
		return -CTAP2_ERR_PIN_NOT_SET;
	if (st.pin_retries == 0)
		return -CTAP2_ERR_PIN_BLOCKED;
	if (rt.mismatches >= MAX_PIN_MISMATCHES)
		return -CTAP2_ERR_PIN_AUTH_BLOCKED;
	if ((r = cp_secret(q, &s)) != 0)
		return r;
	if ((r = check_pin(&s, q->pin_hash, q->pin_hash_len)) != 0 ||
	    (r = token_reset()) != 0)
		goto out;
	rt.tok.in_use = 1;
	rt.tok.perms = perms;
	rt.tok.start_ms = hal_millis();
	if (q->has_rp) {
		hal_sha256(q->rp_id, q->rp_id_len, rt.tok.rp_hash);
		rt.tok.has_rp = 1;
	}
	if ((r = pin_encrypt(&s, rt.tok.key, sizeof(rt.tok.key), enc,
	    &enclen)) != 0) {
		token_stop();
		goto out;
	}
	cb_put_map(w, 1);
	cb_put_uint(w, 2);
	cb_put_bytes(w, enc, enclen);
out:
	wipe(&s, sizeof(s));
	wipe(enc, sizeof(enc));
	return r;
}

static int
cmd_client_pin(const uint8_t *p, size_t len, struct cb_wr *w)
{
	struct cp_req q;
	int r;

	if ((r = parse_cp(p, len, &q)) != 0)
		return r;
	if (q.sub != CP_GET_RETRIES) {
		if (!q.has_proto)
			return -CTAP2_ERR_MISSING_PARAMETER;
		if (!proto_ok(q.proto))
			return -CTAP1_ERR_INVALID_PARAMETER;
	}
	switch (q.sub) {
	case CP_GET_RETRIES:
		return cp_get_retries(w);
	case CP_GET_KEY_AGREEMENT:
		return cp_get_key_agreement(w);
	case CP_SET_PIN:
		return cp_set_pin(&q);
	case CP_CHANGE_PIN:
		return cp_change_pin(&q);
	case CP_GET_PIN_TOKEN:
	case CP_GET_TOKEN_PERMS:
		return cp_get_token(&q, w);
	default:	/* no built-in UV: 6 and 7 are unsupported too */
		return -CTAP2_ERR_INVALID_SUBCOMMAND;
	}
}

/* ---- authenticatorReset (0x07), authenticatorSelection (0x0B) */

static int
cmd_reset(size_t len)
{
	int r;

	if (len != 0)
		return -CTAP1_ERR_INVALID_LENGTH;
	if (hal_millis() - rt.boot_ms > RESET_WINDOW_MS)
		return -CTAP2_ERR_NOT_ALLOWED;
	if ((r = touch()) != 0)
		return r;
	state_fresh();
	rt.mismatches = 0;
	if ((r = commit()) != 0 || (r = ka_regenerate()) != 0 ||
	    (r = token_reset()) != 0)
		return r;
	return 0;
}

static int
cmd_selection(size_t len)
{
	if (len != 0)
		return -CTAP1_ERR_INVALID_LENGTH;
	return touch();
}

size_t
ctap2_dispatch(const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	struct cb_wr w;
	const uint8_t *p;
	size_t plen, n;
	int r;

	if (resp == NULL || cap == 0)
		return 0;
	if (req == NULL || len == 0 || len > CTAP2_MAX_MSG) {
		resp[0] = CTAP1_ERR_INVALID_LENGTH;
		return 1;
	}
	if (!rt.ready) {
		resp[0] = CTAP1_ERR_OTHER;
		return 1;
	}
	p = req + 1;
	plen = len - 1;
	token_timers();
	/* getNextAssertion must follow getAssertion directly */
	if (req[0] != CTAP2_CMD_GET_NEXT_ASSERTION)
		ga_clear();
	cb_wr_init(&w, resp + 1, cap - 1);
	switch (req[0]) {
	case CTAP2_CMD_MAKE_CREDENTIAL:
		r = cmd_make_credential(p, plen, &w);
		break;
	case CTAP2_CMD_GET_ASSERTION:
		r = cmd_get_assertion(p, plen, &w);
		break;
	case CTAP2_CMD_GET_INFO:
		r = cmd_get_info(plen, &w);
		break;
	case CTAP2_CMD_CLIENT_PIN:
		r = cmd_client_pin(p, plen, &w);
		break;
	case CTAP2_CMD_RESET:
		r = cmd_reset(plen);
		break;
	case CTAP2_CMD_GET_NEXT_ASSERTION:
		r = cmd_get_next_assertion(plen, &w);
		break;
	case CTAP2_CMD_SELECTION:
		r = cmd_selection(plen);
		break;
	default:
		r = -CTAP1_ERR_INVALID_COMMAND;
		break;
	}
	if (r == 0 && cb_wr_error(&w) != 0)
		r = -CTAP1_ERR_OTHER;
	if (r != 0) {
		resp[0] = (uint8_t)-r;
		return 1;
	}
	resp[0] = CTAP2_OK;
	n = w.len;
	if ((hal_faults() & HAL_FAULT_MALFORMED_CBOR) && n > 0 &&
	    (req[0] == CTAP2_CMD_MAKE_CREDENTIAL ||
	    req[0] == CTAP2_CMD_GET_ASSERTION ||
	    req[0] == CTAP2_CMD_GET_NEXT_ASSERTION ||
	    req[0] == CTAP2_CMD_GET_INFO))
		n /= 2;
	return 1 + n;
}

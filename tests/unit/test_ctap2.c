/* SPDX-License-Identifier: ISC */
/*
 * The softfido CTAP2 core on the fake board.  Two kinds of client drive it:
 * hand-built requests (to reach every error path) whose responses are
 * decoded with libcbor and checked for CTAP2 canonical form, and stock
 * libfido2 itself, attached in-process through fido_dev_set_transport_
 * functions(), so its own CBOR parsing, PIN protocol and verification run
 * against the core exactly as they would over USB.
 */
#include <stdint.h>
#include <string.h>

#include <cbor/../cbor.h>	/* libcbor: the core's header dir shadows it */
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cbor_rw.h"
#include "ctap2.h"
#include "fake_board.h"
#include "hal.h"
#include "state.h"
#include "tap.h"

static const uint8_t cdh[32] = {
	0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
};

static int
boot(void)
{
	fake_board_reset();
	return ctap2_init();
}

/* Power cycle: the flash stays, the volatile state goes. */
static int
power_cycle(void)
{
	return ctap2_init();
}

/* ---- raw requests */

static uint8_t	rbuf[8192];
static size_t	rlen;

/* Send cmd with CBOR parameters; the status byte, or -1. */
static int
xfer(uint8_t cmd, const void *params, size_t len)
{
	uint8_t req[CTAP2_MAX_MSG + 64];

	if (len + 1 > sizeof(req))
		return -1;
	req[0] = cmd;
	if (len > 0)
		memcpy(req + 1, params, len);
	rlen = ctap2_dispatch(req, len + 1, rbuf, sizeof(rbuf));
	return rlen >= 1 ? rbuf[0] : -1;
}

/* libfido2's key order rule (src/cbor.c, ctap_check_cbor). */
static int
key_less(const cbor_item_t *a, const cbor_item_t *b)
{
	size_t la, lb;

	if (cbor_typeof(a) != cbor_typeof(b))
		return cbor_typeof(a) < cbor_typeof(b);
	switch (cbor_typeof(a)) {
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		return cbor_get_int(a) < cbor_get_int(b);
	case CBOR_TYPE_STRING:
		la = cbor_string_length(a);
		lb = cbor_string_length(b);
		if (la != lb)
			return la < lb;
		return memcmp(cbor_string_handle(a), cbor_string_handle(b),
		    la) < 0;
	default:
		return 0;
	}
}

static int
canonical(const cbor_item_t *it)
{
	struct cbor_pair *p;
	cbor_item_t **v;
	uint64_t x;
	size_t i, n;

	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		x = cbor_get_int(it);
		switch (cbor_int_get_width(it)) {
		case CBOR_INT_8:
			return 1;
		case CBOR_INT_16:
			return x > 0xff;
		case CBOR_INT_32:
			return x > 0xffff;
		default:
			return x > 0xffffffffULL;
		}
	case CBOR_TYPE_BYTESTRING:
		return cbor_bytestring_is_definite(it);
	case CBOR_TYPE_STRING:
		return cbor_string_is_definite(it);
	case CBOR_TYPE_ARRAY:
		if (!cbor_array_is_definite(it))
			return 0;
		v = cbor_array_handle(it);
		for (i = 0, n = cbor_array_size(it); i < n; i++)
			if (!canonical(v[i]))
				return 0;
		return 1;
	case CBOR_TYPE_MAP:
		if (!cbor_map_is_definite(it))
			return 0;
		p = cbor_map_handle(it);
		for (i = 0, n = cbor_map_size(it); i < n; i++) {
			if (!canonical(p[i].key) || !canonical(p[i].value))
				return 0;
			if (i > 0 && !key_less(p[i - 1].key, p[i].key))
				return 0;
		}
		return 1;
	case CBOR_TYPE_FLOAT_CTRL:
		return cbor_float_ctrl_is_ctrl(it);
	default:
		return 0;
	}
}

/*
 * The CBOR of a successful response, or NULL unless it is exactly one
 * canonical item (checked with libcbor and with the core's own reader).
 */
static cbor_item_t *
decode(void)
{
	struct cbor_load_result res;
	struct cb_rd rd;
	cbor_item_t *it;

	if (rlen < 2 || rbuf[0] != CTAP2_OK)
		return NULL;
	cb_rd_init(&rd, rbuf + 1, rlen - 1);
	if (cb_skip(&rd) != CB_OK || cb_rd_end(&rd) != CB_OK)
		return NULL;
	it = cbor_load(rbuf + 1, rlen - 1, &res);
	if (it == NULL)
		return NULL;
	if (res.error.code != CBOR_ERR_NONE || res.read != rlen - 1 ||
	    !canonical(it)) {
		cbor_decref(&it);
		return NULL;
	}
	return it;
}

/* Value of the integer key k in map m (borrowed), or NULL. */
static cbor_item_t *
map_get(const cbor_item_t *m, int64_t k)
{
	struct cbor_pair *p;
	size_t i;

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	p = cbor_map_handle(m);
	for (i = 0; i < cbor_map_size(m); i++) {
		if (k >= 0 && cbor_isa_uint(p[i].key) &&
		    cbor_get_int(p[i].key) == (uint64_t)k)
			return p[i].value;
		if (k < 0 && cbor_isa_negint(p[i].key) &&
		    cbor_get_int(p[i].key) == (uint64_t)(-1 - k))
			return p[i].value;
	}
	return NULL;
}

static cbor_item_t *
map_str(const cbor_item_t *m, const char *k)
{
	struct cbor_pair *p;
	size_t i, n = strlen(k);

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	p = cbor_map_handle(m);
	for (i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_string(p[i].key) &&
		    cbor_string_length(p[i].key) == n &&
		    memcmp(cbor_string_handle(p[i].key), k, n) == 0)
			return p[i].value;
	return NULL;
}

static int
is_bytes(const cbor_item_t *it, size_t len)
{
	return it != NULL && cbor_isa_bytestring(it) &&
	    cbor_bytestring_is_definite(it) &&
	    cbor_bytestring_length(it) == len;
}

static int
is_text(const cbor_item_t *it, const char *s)
{
	return it != NULL && cbor_isa_string(it) &&
	    cbor_string_length(it) == strlen(s) &&
	    memcmp(cbor_string_handle(it), s, strlen(s)) == 0;
}

static int
is_uint(const cbor_item_t *it, uint64_t v)
{
	return it != NULL && cbor_isa_uint(it) && cbor_get_int(it) == v;
}

static int
is_bool(const cbor_item_t *it, int v)
{
	return it != NULL && cbor_isa_float_ctrl(it) && cbor_is_bool(it) &&
	    cbor_get_bool(it) == (v != 0);
}

/* ---- hand-built makeCredential and getAssertion */

struct mc {
	const char	*rp;
	uint8_t		 user;		/* user.id is 16 bytes of this */
	size_t		 uid_len;	/* 0: 16 */
	int		 alg;		/* 0: ES256 */
	int		 rk;
	int		 prot;
	const uint8_t	*excl;		/* one credential id to exclude */
	const uint8_t	*param;		/* pinUvAuthParam */
	size_t		 param_len;
	int		 has_param;
	int		 proto;
	size_t		 cdh_len;	/* 0: 32 */
};

static size_t
mc_build(const struct mc *m, uint8_t *out, size_t cap)
{
	uint8_t uid[128];
	struct cb_wr w;
	size_t n = 4;

	n += (m->excl != NULL) + (m->prot != 0) + (m->rk != 0) +
	    (m->has_param != 0) + (m->proto != 0);
	memset(uid, m->user, sizeof(uid));
	cb_wr_init(&w, out, cap);
	cb_put_map(&w, n);
	cb_put_uint(&w, 1);
	cb_put_bytes(&w, cdh, m->cdh_len ? m->cdh_len : 32);
	cb_put_uint(&w, 2);
	cb_put_map(&w, 2);
	cb_put_str(&w, "id");
	cb_put_str(&w, m->rp);
	cb_put_str(&w, "name");
	cb_put_str(&w, "Relying Party");
	cb_put_uint(&w, 3);
	cb_put_map(&w, 3);
	cb_put_str(&w, "id");
	cb_put_bytes(&w, uid, m->uid_len ? m->uid_len : 16);
	cb_put_str(&w, "name");
	cb_put_str(&w, "alice");
	cb_put_str(&w, "displayName");
	cb_put_str(&w, "Alice");
	cb_put_uint(&w, 4);
	cb_put_array(&w, 1);
	cb_put_map(&w, 2);
	cb_put_str(&w, "alg");
	cb_put_int(&w, m->alg ? m->alg : -7);
	cb_put_str(&w, "type");
	cb_put_str(&w, "public-key");
	if (m->excl != NULL) {
		cb_put_uint(&w, 5);
		cb_put_array(&w, 1);
		cb_put_map(&w, 2);
		cb_put_str(&w, "id");
		cb_put_bytes(&w, m->excl, SF_CRED_ID_LEN);
		cb_put_str(&w, "type");
		cb_put_str(&w, "public-key");
	}
	if (m->prot) {
		cb_put_uint(&w, 6);
		cb_put_map(&w, 1);
		cb_put_str(&w, "credProtect");
		cb_put_uint(&w, (uint64_t)m->prot);
	}
	if (m->rk) {
		cb_put_uint(&w, 7);
		cb_put_map(&w, 1);
		cb_put_str(&w, "rk");
		cb_put_bool(&w, 1);
	}
	if (m->has_param) {
		cb_put_uint(&w, 8);
		cb_put_bytes(&w, m->param, m->param_len);
	}
	if (m->proto) {
		cb_put_uint(&w, 9);
		cb_put_uint(&w, (uint64_t)m->proto);
	}
	return cb_wr_error(&w) ? 0 : w.len;
}

/* makeCredential; on success the new credential id goes to id. */
static int
mc_send(const struct mc *m, uint8_t id[SF_CRED_ID_LEN])
{
	uint8_t req[1024];
	cbor_item_t *r, *ad;
	size_t n;
	int st;

	if ((n = mc_build(m, req, sizeof(req))) == 0)
		return -1;
	if ((st = xfer(CTAP2_CMD_MAKE_CREDENTIAL, req, n)) != CTAP2_OK)
		return st;
	if ((r = decode()) == NULL)
		return -1;
	ad = map_get(r, 2);
	if (ad == NULL || !cbor_isa_bytestring(ad) ||
	    cbor_bytestring_length(ad) < 55 + SF_CRED_ID_LEN) {
		cbor_decref(&r);
		return -1;
	}
	if (id != NULL)
		memcpy(id, cbor_bytestring_handle(ad) + 55, SF_CRED_ID_LEN);
	cbor_decref(&r);
	return CTAP2_OK;
}

static int
mc_simple(const char *rp, uint8_t user, int rk, int prot,
    uint8_t id[SF_CRED_ID_LEN])
{
	struct mc m;

	memset(&m, 0, sizeof(m));
	m.rp = rp;
	m.user = user;
	m.rk = rk;
	m.prot = prot;
	return mc_send(&m, id);
}

struct ga {
	const char	*rp;
	const uint8_t	*allow;		/* one credential id, or NULL */
	int		 empty_allow;	/* an empty allowList */
	int		 up;		/* -1 omitted */
	int		 uv;		/* -1 omitted */
	int		 rk;		/* -1 omitted */
	const uint8_t	*param;
	size_t		 param_len;
	int		 has_param;
	int		 proto;
};

static void
ga_init(struct ga *g, const char *rp, const uint8_t *allow)
{
	memset(g, 0, sizeof(*g));
	g->rp = rp;
	g->allow = allow;
	g->up = g->uv = g->rk = -1;
}

static size_t
ga_build(const struct ga *g, uint8_t *out, size_t cap)
{
	struct cb_wr w;
	size_t n = 2, no;

	no = (g->up >= 0) + (g->uv >= 0) + (g->rk >= 0);
	n += (g->allow != NULL || g->empty_allow) + (no > 0) +
	    (g->has_param != 0) + (g->proto != 0);
	cb_wr_init(&w, out, cap);
	cb_put_map(&w, n);
	cb_put_uint(&w, 1);
	cb_put_str(&w, g->rp);
	cb_put_uint(&w, 2);
	cb_put_bytes(&w, cdh, sizeof(cdh));
	if (g->allow != NULL || g->empty_allow) {
		cb_put_uint(&w, 3);
		cb_put_array(&w, g->allow != NULL);
		if (g->allow != NULL) {
			cb_put_map(&w, 2);
			cb_put_str(&w, "id");
			cb_put_bytes(&w, g->allow, SF_CRED_ID_LEN);
			cb_put_str(&w, "type");
			cb_put_str(&w, "public-key");
		}
	}
	if (no > 0) {
		cb_put_uint(&w, 5);
		cb_put_map(&w, no);
		if (g->rk >= 0) {
			cb_put_str(&w, "rk");
			cb_put_bool(&w, g->rk);
		}
		if (g->up >= 0) {
			cb_put_str(&w, "up");
			cb_put_bool(&w, g->up);
		}
		if (g->uv >= 0) {
			cb_put_str(&w, "uv");
			cb_put_bool(&w, g->uv);
		}
	}
	if (g->has_param) {
		cb_put_uint(&w, 6);
		cb_put_bytes(&w, g->param, g->param_len);
	}
	if (g->proto) {
		cb_put_uint(&w, 7);
		cb_put_uint(&w, (uint64_t)g->proto);
	}
	return cb_wr_error(&w) ? 0 : w.len;
}

static int
ga_send(const struct ga *g)
{
	uint8_t req[1024];
	size_t n;

	if ((n = ga_build(g, req, sizeof(req))) == 0)
		return -1;
	return xfer(CTAP2_CMD_GET_ASSERTION, req, n);
}

/* From the last (decoded) assertion: flags, counter, credential id. */
struct asr {
	uint8_t		flags;
	uint32_t	counter;
	uint8_t		id[SF_CRED_ID_LEN];
	uint8_t		user0;		/* first byte of user.id, or 0 */
	int		has_user;
	int		user_has_name;
	uint64_t	count;		/* numberOfCredentials, 0 if absent */
};

static int
asr_parse(struct asr *a)
{
	cbor_item_t *r, *cred, *ad, *user, *n;
	const uint8_t *p;
	int ok = 0;

	memset(a, 0, sizeof(*a));
	if ((r = decode()) == NULL)
		return 0;
	cred = map_get(r, 1);
	ad = map_get(r, 2);
	user = map_get(r, 4);
	n = map_get(r, 5);
	if (!is_bytes(map_str(cred, "id"), SF_CRED_ID_LEN) ||
	    !is_text(map_str(cred, "type"), "public-key") ||
	    !is_bytes(ad, 37) || map_get(r, 3) == NULL)
		goto out;
	p = cbor_bytestring_handle(ad);
	a->flags = p[32];
	a->counter = (uint32_t)p[33] << 24 | (uint32_t)p[34] << 16 |
	    (uint32_t)p[35] << 8 | p[36];
	memcpy(a->id, cbor_bytestring_handle(map_str(cred, "id")),
	    SF_CRED_ID_LEN);
	if (user != NULL) {
		cbor_item_t *uid = map_str(user, "id");

		if (uid == NULL || !cbor_isa_bytestring(uid) ||
		    cbor_bytestring_length(uid) == 0)
			goto out;
		a->has_user = 1;
		a->user0 = cbor_bytestring_handle(uid)[0];
		a->user_has_name = map_str(user, "name") != NULL;
	}
	if (n != NULL) {
		if (!cbor_isa_uint(n))
			goto out;
		a->count = cbor_get_int(n);
	}
	ok = 1;
out:
	cbor_decref(&r);
	return ok;
}

/* ---- the platform side of PIN/UV auth protocols 1 and 2 */

struct pc {
	int	proto;
	uint8_t	hmac[32];
	uint8_t	aes[32];
	uint8_t	pub[64];	/* the platform's key-agreement key */
	uint8_t	auth_x[32];	/* the authenticator's, for comparison */
};

/*
 * getKeyAgreement and the shared secret as CTAP 2.1 sections 6.5.6/6.5.7
 * define it.  The primitives are the host HAL's: libfido2 talking to the
 * core (below) already proves them against an independent implementation.
 */
static int
pc_begin(struct pc *c, int proto)
{
	static const uint8_t zeros[32];
	uint8_t req[16], priv[32], peer[64], z[32];
	struct cb_wr w;
	cbor_item_t *r, *k;
	int ok = 0;

	memset(c, 0, sizeof(*c));
	c->proto = proto;
	cb_wr_init(&w, req, sizeof(req));
	cb_put_map(&w, 2);
	cb_put_uint(&w, 1);
	cb_put_uint(&w, (uint64_t)proto);
	cb_put_uint(&w, 2);
	cb_put_uint(&w, 2);
	if (xfer(CTAP2_CMD_CLIENT_PIN, req, w.len) != CTAP2_OK ||
	    (r = decode()) == NULL)
		return 0;
	k = map_get(r, 1);
	if (is_uint(map_get(k, 1), 2) && map_get(k, 3) != NULL &&
	    cbor_isa_negint(map_get(k, 3)) &&
	    cbor_get_int(map_get(k, 3)) == 24 &&
	    is_uint(map_get(k, -1), 1) && is_bytes(map_get(k, -2), 32) &&
	    is_bytes(map_get(k, -3), 32)) {
		memcpy(peer, cbor_bytestring_handle(map_get(k, -2)), 32);
		memcpy(peer + 32, cbor_bytestring_handle(map_get(k, -3)), 32);
		memcpy(c->auth_x, peer, 32);
		ok = 1;
	}
	cbor_decref(&r);
	if (!ok || hal_p256_keygen(priv, c->pub) != 0 ||
	    hal_p256_ecdh(priv, peer, z) != 0)
		return 0;
	if (proto == 1) {
		hal_sha256(z, sizeof(z), c->hmac);
		memcpy(c->aes, c->hmac, 32);
	} else if (hal_hkdf_sha256(zeros, 32, z, 32, "CTAP2 HMAC key",
	    c->hmac) != 0 || hal_hkdf_sha256(zeros, 32, z, 32,
	    "CTAP2 AES key", c->aes) != 0)
		return 0;
	return 1;
}

static size_t
pc_encrypt(const struct pc *c, const uint8_t *pt, size_t len, uint8_t *out)
{
	static const uint8_t iv0[16];

	if (c->proto == 1)
		return hal_aes256_cbc(1, c->aes, iv0, pt, len, out) == 0 ?
		    len : 0;
	if (hal_rng(out, 16) != 0 ||
	    hal_aes256_cbc(1, c->aes, out, pt, len, out + 16) != 0)
		return 0;
	return 16 + len;
}

static size_t
pc_decrypt(const struct pc *c, const uint8_t *ct, size_t len, uint8_t *out)
{
	static const uint8_t iv0[16];

	if (c->proto == 1)
		return hal_aes256_cbc(0, c->aes, iv0, ct, len, out) == 0 ?
		    len : 0;
	if (len < 16 ||
	    hal_aes256_cbc(0, c->aes, ct, ct + 16, len - 16, out) != 0)
		return 0;
	return len - 16;
}

/* authenticate(): LEFT(HMAC, 16) for protocol 1, all 32 bytes for 2. */
static size_t
pc_mac(int proto, const uint8_t key[32], const void *msg, size_t len,
    uint8_t out[32])
{
	hal_hmac_sha256(key, 32, msg, len, out);
	return proto == 1 ? 16 : 32;
}

struct cpq {
	int		 proto;
	int		 sub;
	const struct pc	*ka;
	const uint8_t	*param;
	size_t		 param_len;
	const uint8_t	*new_pin;
	size_t		 new_pin_len;
	const uint8_t	*pin_hash;
	size_t		 pin_hash_len;
	int		 perms;		/* -1 omitted */
	const char	*rp_id;
};

static int
cp_send(const struct cpq *q)
{
	uint8_t req[512];
	struct cb_wr w;
	size_t n = 2;

	n += (q->ka != NULL) + (q->param != NULL) + (q->new_pin != NULL) +
	    (q->pin_hash != NULL) + (q->perms >= 0) + (q->rp_id != NULL);
	cb_wr_init(&w, req, sizeof(req));
	cb_put_map(&w, n);
	cb_put_uint(&w, 1);
	cb_put_uint(&w, (uint64_t)q->proto);
	cb_put_uint(&w, 2);
	cb_put_uint(&w, (uint64_t)q->sub);
	if (q->ka != NULL) {
		cb_put_uint(&w, 3);
		cb_put_map(&w, 5);
		cb_put_uint(&w, 1);
		cb_put_uint(&w, 2);
		cb_put_uint(&w, 3);
		cb_put_int(&w, -25);
		cb_put_int(&w, -1);
		cb_put_uint(&w, 1);
		cb_put_int(&w, -2);
		cb_put_bytes(&w, q->ka->pub, 32);
		cb_put_int(&w, -3);
		cb_put_bytes(&w, q->ka->pub + 32, 32);
	}
	if (q->param != NULL) {
		cb_put_uint(&w, 4);
		cb_put_bytes(&w, q->param, q->param_len);
	}
	if (q->new_pin != NULL) {
		cb_put_uint(&w, 5);
		cb_put_bytes(&w, q->new_pin, q->new_pin_len);
	}
	if (q->pin_hash != NULL) {
		cb_put_uint(&w, 6);
		cb_put_bytes(&w, q->pin_hash, q->pin_hash_len);
	}
	if (q->perms >= 0) {
		cb_put_uint(&w, 9);
		cb_put_uint(&w, (uint64_t)q->perms);
	}
	if (q->rp_id != NULL) {
		cb_put_uint(&w, 10);
		cb_put_str(&w, q->rp_id);
	}
	if (cb_wr_error(&w) != 0)
		return -1;
	return xfer(CTAP2_CMD_CLIENT_PIN, req, w.len);
}

/* setPIN with a PIN of len bytes (padded to 64). */
static int
pc_set_pin_len(int proto, const char *pin, size_t len)
{
	uint8_t pad[64], enc[80], mac[32];
	struct cpq q;
	struct pc c;
	size_t n;

	if (!pc_begin(&c, proto) || len > sizeof(pad))
		return -1;
	memset(pad, 0, sizeof(pad));
	memcpy(pad, pin, len);
	if ((n = pc_encrypt(&c, pad, sizeof(pad), enc)) == 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.proto = proto;
	q.sub = 3;
	q.ka = &c;
	q.new_pin = enc;
	q.new_pin_len = n;
	q.param = mac;
	q.param_len = pc_mac(proto, c.hmac, enc, n, mac);
	q.perms = -1;
	return cp_send(&q);
}

static int
pc_set_pin(int proto, const char *pin)
{
	return pc_set_pin_len(proto, pin, strlen(pin));
}

/* getPinToken (sub 5) or sub 9 with permissions; token on success. */
static int
pc_get_token_with(struct pc *c, int proto, const char *pin, int sub,
    int perms, const char *rp_id, uint8_t tok[32])
{
	uint8_t hash[32], enc[48], tk[64];
	cbor_item_t *r, *t;
	struct cpq q;
	size_t n;
	int st;

	hal_sha256(pin, strlen(pin), hash);
	if ((n = pc_encrypt(c, hash, 16, enc)) == 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.proto = proto;
	q.sub = sub;
	q.ka = c;
	q.pin_hash = enc;
	q.pin_hash_len = n;
	q.perms = perms;
	q.rp_id = rp_id;
	if ((st = cp_send(&q)) != CTAP2_OK)
		return st;
	if ((r = decode()) == NULL)
		return -1;
	t = map_get(r, 2);
	st = -1;
	if (is_bytes(t, proto == 1 ? 32 : 48) &&
	    pc_decrypt(c, cbor_bytestring_handle(t),
	    cbor_bytestring_length(t), tk) == 32) {
		memcpy(tok, tk, 32);
		st = CTAP2_OK;
	}
	cbor_decref(&r);
	return st;
}

static int
pc_get_token(int proto, const char *pin, int sub, int perms,
    const char *rp_id, uint8_t tok[32])
{
	struct pc c;

	if (!pc_begin(&c, proto))
		return -1;
	return pc_get_token_with(&c, proto, pin, sub, perms, rp_id, tok);
}

static int
pc_retries(void)
{
	static const uint8_t req[] = { 0xa2, 0x01, 0x02, 0x02, 0x01 };
	cbor_item_t *r, *v;
	int n = -1;

	if (xfer(CTAP2_CMD_CLIENT_PIN, req, sizeof(req)) != CTAP2_OK ||
	    (r = decode()) == NULL)
		return -1;
	v = map_get(r, 3);
	if (v != NULL && cbor_isa_uint(v) && is_bool(map_get(r, 4), 0) +
	    is_bool(map_get(r, 4), 1) == 1)
		n = (int)cbor_get_int(v);
	cbor_decref(&r);
	return n;
}

/* getAssertion for rp with a pinUvAuthParam made with tok. */
static int
ga_with_token(const char *rp, const uint8_t *allow, int proto,
    const uint8_t tok[32])
{
	uint8_t mac[32];
	struct ga g;

	ga_init(&g, rp, allow);
	g.param = mac;
	g.param_len = pc_mac(proto, tok, cdh, sizeof(cdh), mac);
	g.has_param = 1;
	g.proto = proto;
	return ga_send(&g);
}

static int
mc_with_token(const char *rp, uint8_t user, int rk, int prot, int proto,
    const uint8_t tok[32], uint8_t id[SF_CRED_ID_LEN])
{
	uint8_t mac[32];
	struct mc m;

	memset(&m, 0, sizeof(m));
	m.rp = rp;
	m.user = user;
	m.rk = rk;
	m.prot = prot;
	m.param = mac;
	m.param_len = pc_mac(proto, tok, cdh, sizeof(cdh), mac);
	m.has_param = 1;
	m.proto = proto;
	return mc_send(&m, id);
}

/* ---- libfido2, attached in-process */

static uint8_t	tr_out[8192];
static size_t	tr_len;
static uint8_t	tr_cmd;
static int	tr_handle;

static void *
tr_open(const char *path)
{
	(void)path;
	return &tr_handle;
}

static void
tr_close(void *h)
{
	(void)h;
}

static int
tr_read(void *h, unsigned char *buf, size_t len, int ms)
{
	(void)h;
	(void)buf;
	(void)len;
	(void)ms;
	return -1;	/* everything goes through tr_tx/tr_rx */
}

static int
tr_write(void *h, const unsigned char *buf, size_t len)
{
	(void)h;
	(void)buf;
	(void)len;
	return -1;
}

static int
tr_tx(fido_dev_t *d, uint8_t cmd, const unsigned char *buf, size_t len)
{
	(void)d;
	tr_cmd = cmd;
	switch (cmd) {
	case CTAP_CMD_INIT:
		/* what softfido's CTAPHID layer answers: nonce, cid, caps */
		if (len != 8)
			return -1;
		memcpy(tr_out, buf, 8);
		tr_out[8] = 0x00;
		tr_out[9] = 0x00;
		tr_out[10] = 0x00;
		tr_out[11] = 0x01;
		tr_out[12] = 2;
		tr_out[13] = 1;
		tr_out[14] = 0;
		tr_out[15] = 0;
		tr_out[16] = FIDO_CAP_CBOR | FIDO_CAP_NMSG;
		tr_len = 17;
		return 0;
	case CTAP_CMD_CBOR:
		tr_len = ctap2_dispatch(buf, len, tr_out, sizeof(tr_out));
		return 0;
	case CTAP_CMD_CANCEL:
		return 0;
	default:
		return -1;
	}
}

static int
tr_rx(fido_dev_t *d, uint8_t cmd, unsigned char *buf, size_t len, int ms)
{
	(void)d;
	(void)ms;
	if (cmd != tr_cmd || tr_len > len)
		return -1;
	memcpy(buf, tr_out, tr_len);
	return (int)tr_len;
}

static fido_dev_t *
dev_open(void)
{
	const fido_dev_io_t io = { tr_open, tr_close, tr_read, tr_write };
	const fido_dev_transport_t t = { tr_rx, tr_tx };
	fido_dev_t *dev;

	if ((dev = fido_dev_new()) == NULL)
		return NULL;
	if (fido_dev_set_io_functions(dev, &io) != FIDO_OK ||
	    fido_dev_set_transport_functions(dev, &t) != FIDO_OK ||
	    fido_dev_open(dev, "softfido:in-process") != FIDO_OK) {
		fido_dev_free(&dev);
		return NULL;
	}
	return dev;
}

static void
dev_close(fido_dev_t **dev)
{
	if (*dev != NULL) {
		fido_dev_close(*dev);
		fido_dev_free(dev);
	}
}

/* makeCredential through libfido2, checked with fido_cred_verify(). */
static int
lf_make_cred(fido_dev_t *dev, int type, const char *rp, uint8_t user,
    int rk, int prot, const char *pin, fido_cred_t **out)
{
	uint8_t uid[16];
	fido_cred_t *c;
	int r;

	memset(uid, user, sizeof(uid));
	if ((c = fido_cred_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_cred_set_type(c, type)) != FIDO_OK ||
	    (r = fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh))) !=
	    FIDO_OK ||
	    (r = fido_cred_set_rp(c, rp, "Relying Party")) != FIDO_OK ||
	    (r = fido_cred_set_user(c, uid, sizeof(uid), "alice", "Alice",
	    NULL)) != FIDO_OK)
		goto fail;
	if (rk && (r = fido_cred_set_rk(c, FIDO_OPT_TRUE)) != FIDO_OK)
		goto fail;
	if (prot && (r = fido_cred_set_prot(c, prot)) != FIDO_OK)
		goto fail;
	if ((r = fido_dev_make_cred(dev, c, pin)) != FIDO_OK ||
	    (r = fido_cred_verify(c)) != FIDO_OK)
		goto fail;
	*out = c;
	return FIDO_OK;
fail:
	fido_cred_free(&c);
	return r;
}

static int
lf_get_assert(fido_dev_t *dev, const char *rp, const fido_cred_t *allow,
    const char *pin, fido_opt_t up, fido_assert_t **out)
{
	fido_assert_t *a;
	int r;

	if ((a = fido_assert_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_assert_set_rp(a, rp)) != FIDO_OK ||
	    (r = fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh))) !=
	    FIDO_OK ||
	    (r = fido_assert_set_up(a, up)) != FIDO_OK)
		goto fail;
	if (allow != NULL && (r = fido_assert_allow_cred(a,
	    fido_cred_id_ptr(allow), fido_cred_id_len(allow))) != FIDO_OK)
		goto fail;
	if (pin != NULL && (r = fido_assert_set_uv(a, FIDO_OPT_TRUE)) !=
	    FIDO_OK)
		goto fail;
	if ((r = fido_dev_get_assert(dev, a, pin)) != FIDO_OK)
		goto fail;
	*out = a;
	return FIDO_OK;
fail:
	fido_assert_free(&a);
	return r;
}

/* fido_assert_verify() of assertion i with the credential's public key. */
static int
lf_verify(const fido_assert_t *a, size_t i, const fido_cred_t *c)
{
	es256_pk_t *es = NULL;
	eddsa_pk_t *ed = NULL;
	int r = FIDO_ERR_INTERNAL;

	if (fido_cred_type(c) == COSE_ES256) {
		if ((es = es256_pk_new()) != NULL &&
		    es256_pk_from_ptr(es, fido_cred_pubkey_ptr(c),
		    fido_cred_pubkey_len(c)) == FIDO_OK)
			r = fido_assert_verify(a, i, COSE_ES256, es);
		es256_pk_free(&es);
	} else {
		if ((ed = eddsa_pk_new()) != NULL &&
		    eddsa_pk_from_ptr(ed, fido_cred_pubkey_ptr(c),
		    fido_cred_pubkey_len(c)) == FIDO_OK)
			r = fido_assert_verify(a, i, COSE_EDDSA, ed);
		eddsa_pk_free(&ed);
	}
	return r;
}

/* ---- getInfo */

static void
getinfo_is_canonical_and_has_every_field(void)
{
	cbor_item_t *r = NULL, *v, *o, *a;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(xfer(CTAP2_CMD_GET_INFO, NULL, 0), CTAP2_OK);
	CHECK((r = decode()) != NULL);
	v = map_get(r, 1);
	CHECK(v != NULL && cbor_isa_array(v) && cbor_array_size(v) == 2);
	CHECK(is_text(cbor_array_handle(v)[0], "FIDO_2_0"));
	CHECK(is_text(cbor_array_handle(v)[1], "FIDO_2_1"));
	v = map_get(r, 2);
	CHECK(v != NULL && cbor_array_size(v) == 1 &&
	    is_text(cbor_array_handle(v)[0], "credProtect"));
	CHECK(is_bytes(map_get(r, 3), 16));
	CHECK(memcmp(cbor_bytestring_handle(map_get(r, 3)), hal_aaguid(),
	    16) == 0);
	o = map_get(r, 4);
	CHECK(o != NULL && cbor_map_size(o) == 5);
	CHECK(is_bool(map_str(o, "rk"), 1));
	CHECK(is_bool(map_str(o, "up"), 1));
	CHECK(is_bool(map_str(o, "plat"), 0));
	CHECK(is_bool(map_str(o, "clientPin"), 0));
	CHECK(is_bool(map_str(o, "pinUvAuthToken"), 1));
	CHECK(is_uint(map_get(r, 5), 1200));
	v = map_get(r, 6);
	CHECK(v != NULL && cbor_array_size(v) == 2 &&
	    is_uint(cbor_array_handle(v)[0], 2) &&
	    is_uint(cbor_array_handle(v)[1], 1));
	CHECK(is_uint(map_get(r, 7), 8));	/* lists: 8 ids, as many keys */
	CHECK(is_uint(map_get(r, 8), SF_CRED_ID_LEN));
	v = map_get(r, 9);
	CHECK(v != NULL && cbor_array_size(v) == 1 &&
	    is_text(cbor_array_handle(v)[0], "usb"));
	v = map_get(r, 10);
	CHECK(v != NULL && cbor_array_size(v) == 2);
	a = cbor_array_handle(v)[0];
	CHECK(is_text(map_str(a, "type"), "public-key"));
	CHECK(cbor_isa_negint(map_str(a, "alg")) &&
	    cbor_get_int(map_str(a, "alg")) == 6);
	a = cbor_array_handle(v)[1];
	CHECK(cbor_isa_negint(map_str(a, "alg")) &&
	    cbor_get_int(map_str(a, "alg")) == 7);
	CHECK(is_uint(map_get(r, 13), 4));
	CHECK(is_uint(map_get(r, 14), 1));
	cbor_decref(&r);

	/* clientPin turns true once a PIN is set */
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	CHECK_EQ(xfer(CTAP2_CMD_GET_INFO, NULL, 0), CTAP2_OK);
	CHECK((r = decode()) != NULL);
	o = map_get(r, 4);
	CHECK(is_bool(map_str(o, "clientPin"), 1));
	cbor_decref(&r);
}

static void
libfido2_opens_the_core_and_reads_getinfo(void)
{
	fido_dev_t *dev = NULL;
	fido_cbor_info_t *ci = NULL;
	char * const *s;
	const bool *b;
	size_t i, n;
	int seen = 0;

	CHECK_EQ(boot(), 0);
	CHECK((dev = dev_open()) != NULL);
	CHECK(fido_dev_is_fido2(dev));
	CHECK(fido_dev_supports_pin(dev));
	CHECK(!fido_dev_has_pin(dev));
	CHECK(fido_dev_supports_cred_prot(dev));
	CHECK(fido_dev_supports_permissions(dev));
	if ((ci = fido_cbor_info_new()) == NULL ||
	    fido_dev_get_cbor_info(dev, ci) != FIDO_OK) {
		fido_cbor_info_free(&ci);
		dev_close(&dev);
		CHECK(!"fido_dev_get_cbor_info");
	}
	n = fido_cbor_info_options_len(ci);
	s = fido_cbor_info_options_name_ptr(ci);
	b = fido_cbor_info_options_value_ptr(ci);
	for (i = 0; i < n; i++)
		if ((strcmp(s[i], "rk") == 0 && b[i]) ||
		    (strcmp(s[i], "up") == 0 && b[i]) ||
		    (strcmp(s[i], "pinUvAuthToken") == 0 && b[i]))
			seen++;
	if (seen != 3 || fido_cbor_info_maxmsgsiz(ci) != 1200 ||
	    fido_cbor_info_protocols_len(ci) != 2 ||
	    fido_cbor_info_protocols_ptr(ci)[0] != 2 ||
	    fido_cbor_info_aaguid_len(ci) != 16 ||
	    memcmp(fido_cbor_info_aaguid_ptr(ci), hal_aaguid(), 16) != 0 ||
	    fido_cbor_info_algorithm_count(ci) != 2 ||
	    fido_cbor_info_algorithm_cose(ci, 1) != COSE_EDDSA ||
	    fido_cbor_info_minpinlen(ci) != 4 ||
	    fido_cbor_info_fwversion(ci) != 1 ||
	    fido_cbor_info_maxcredidlen(ci) != SF_CRED_ID_LEN) {
		fido_cbor_info_free(&ci);
		dev_close(&dev);
		CHECK(!"getInfo as libfido2 reads it");
	}
	fido_cbor_info_free(&ci);
	dev_close(&dev);
}

/* ---- makeCredential, getAssertion */

static int
cert_names_aaguid(const fido_cred_t *c)
{
	const unsigned char *der = fido_cred_x5c_ptr(c);
	ASN1_OBJECT *oid = NULL;
	X509 *x = NULL;
	X509_EXTENSION *e;
	const ASN1_OCTET_STRING *os;
	int i, ok = 0;

	if (der == NULL || (x = d2i_X509(NULL, &der,
	    (long)fido_cred_x5c_len(c))) == NULL ||
	    (oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1)) == NULL ||
	    (i = X509_get_ext_by_OBJ(x, oid, -1)) < 0 ||
	    (e = X509_get_ext(x, i)) == NULL ||
	    X509_EXTENSION_get_critical(e) != 0 ||
	    (os = X509_EXTENSION_get_data(e)) == NULL)
		goto out;
	/* DER 04 10 <16 bytes>, a non-CA leaf, version 3 */
	ok = ASN1_STRING_length(os) == 18 &&
	    ASN1_STRING_get0_data(os)[0] == 0x04 &&
	    ASN1_STRING_get0_data(os)[1] == 0x10 &&
	    memcmp(ASN1_STRING_get0_data(os) + 2, hal_aaguid(), 16) == 0 &&
	    X509_check_ca(x) == 0 && X509_get_version(x) == 2;
out:
	ASN1_OBJECT_free(oid);
	X509_free(x);
	return ok;
}

static void
makecredential_packed_attestation_verifies_and_names_the_aaguid(void)
{
	fido_dev_t *dev = NULL;
	fido_cred_t *c = NULL;
	int ok;

	CHECK_EQ(boot(), 0);
	CHECK((dev = dev_open()) != NULL);
	if (lf_make_cred(dev, COSE_ES256, "tapgate.test", 1, 0, 0, NULL,
	    &c) != FIDO_OK) {
		dev_close(&dev);
		CHECK(!"makeCredential verified by libfido2");
	}
	ok = strcmp(fido_cred_fmt(c), "packed") == 0 &&
	    fido_cred_aaguid_len(c) == 16 &&
	    memcmp(fido_cred_aaguid_ptr(c), hal_aaguid(), 16) == 0 &&
	    fido_cred_id_len(c) == SF_CRED_ID_LEN &&
	    (fido_cred_flags(c) & 0x45) == 0x41 &&	/* UP AT, no UV */
	    cert_names_aaguid(c) && fake_up_calls == 1;
	fido_cred_free(&c);
	dev_close(&dev);
	CHECK(ok);
}

static void
assertion_signatures_verify_for_es256_and_eddsa(void)
{
	static const int types[] = { COSE_ES256, COSE_EDDSA };
	fido_dev_t *dev = NULL;
	fido_cred_t *c = NULL;
	fido_assert_t *a = NULL;
	size_t i;
	int ok = 1;

	CHECK_EQ(boot(), 0);
	CHECK((dev = dev_open()) != NULL);
	for (i = 0; i < 2 && ok; i++) {
		ok = lf_make_cred(dev, types[i], "tapgate.test", 2, 0, 0,
		    NULL, &c) == FIDO_OK && fido_cred_type(c) == types[i] &&
		    lf_get_assert(dev, "tapgate.test", c, NULL,
		    FIDO_OPT_TRUE, &a) == FIDO_OK &&
		    fido_assert_count(a) == 1 &&
		    lf_verify(a, 0, c) == FIDO_OK &&
		    fido_assert_sigcount(a, 0) == 1 &&
		    (fido_assert_flags(a, 0) & 0x05) == 0x01;
		/* the same assertion for another rp does not verify */
		if (ok)
			ok = fido_assert_set_rp(a, "other.test") == FIDO_OK &&
			    lf_verify(a, 0, c) != FIDO_OK;
		fido_assert_free(&a);
		fido_cred_free(&c);
	}
	dev_close(&dev);
	CHECK(ok);
}

static void
counters_grow_per_credential_and_survive_power_cycle(void)
{
	uint8_t id1[SF_CRED_ID_LEN], id2[SF_CRED_ID_LEN];
	struct asr a;
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, id1), CTAP2_OK);
	CHECK_EQ(mc_simple("rp.test", 2, 0, 0, id2), CTAP2_OK);
	ga_init(&g, "rp.test", id1);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a) && a.counter == 1);
	CHECK(memcmp(a.id, id1, SF_CRED_ID_LEN) == 0);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a) && a.counter == 2);
	ga_init(&g, "rp.test", id2);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a) && a.counter == 1);
	CHECK(!a.has_user);		/* not resident */
	CHECK_EQ(power_cycle(), 0);
	ga_init(&g, "rp.test", id1);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a) && a.counter == 3);
	/* a credential of another rp is not found by id alone */
	ga_init(&g, "other.test", id1);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
}

static void
resident_credentials_come_newest_first_with_next_assertion(void)
{
	fido_dev_t *dev = NULL;
	fido_assert_t *fa = NULL;
	struct asr a;
	struct ga g;
	int ok;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rk.test", 0x11, 1, 0, NULL), CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 0x22, 1, 0, NULL), CTAP2_OK);
	CHECK_EQ(mc_simple("other.test", 0x44, 1, 0, NULL), CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 0x33, 1, 0, NULL), CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 0x55, 0, 0, NULL), CTAP2_OK);
	fake_up_calls = 0;
	ga_init(&g, "rk.test", NULL);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a));
	CHECK_EQ(a.count, 3);
	CHECK(a.has_user && a.user0 == 0x33);
	CHECK(!a.user_has_name);	/* no names without UV */
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0), CTAP2_OK);
	CHECK(asr_parse(&a) && a.user0 == 0x22 && a.count == 0);
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0), CTAP2_OK);
	CHECK(asr_parse(&a) && a.user0 == 0x11);
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0),
	    CTAP2_ERR_NOT_ALLOWED);
	CHECK_EQ(fake_up_calls, 1);	/* one touch for the whole set */

	/* libfido2 collects them the same way */
	CHECK((dev = dev_open()) != NULL);
	ok = lf_get_assert(dev, "rk.test", NULL, NULL, FIDO_OPT_TRUE,
	    &fa) == FIDO_OK && fido_assert_count(fa) == 3 &&
	    fido_assert_user_id_len(fa, 0) == 16 &&
	    fido_assert_user_id_ptr(fa, 0)[0] == 0x33 &&
	    fido_assert_user_id_ptr(fa, 2)[0] == 0x11;
	fido_assert_free(&fa);
	dev_close(&dev);
	CHECK(ok);
}

static void
next_assertion_needs_a_fresh_getassertion_just_before(void)
{
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0),
	    CTAP2_ERR_NOT_ALLOWED);
	CHECK_EQ(mc_simple("rk.test", 1, 1, 0, NULL), CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 2, 1, 0, NULL), CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 3, 1, 0, NULL), CTAP2_OK);
	ga_init(&g, "rk.test", NULL);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	fake_now_ms += 30001;
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0),
	    CTAP2_ERR_NOT_ALLOWED);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK_EQ(xfer(CTAP2_CMD_GET_INFO, NULL, 0), CTAP2_OK);
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0),
	    CTAP2_ERR_NOT_ALLOWED);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	fake_now_ms += 29000;
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0), CTAP2_OK);
	fake_now_ms += 29000;	/* the timer restarts with each answer */
	CHECK_EQ(xfer(CTAP2_CMD_GET_NEXT_ASSERTION, NULL, 0), CTAP2_OK);
}

static void
resident_credential_for_the_same_user_is_replaced(void)
{
	uint8_t id1[SF_CRED_ID_LEN], id2[SF_CRED_ID_LEN];
	struct asr a;
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rk.test", 7, 1, 0, id1), CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 7, 1, 0, id2), CTAP2_OK);
	CHECK(memcmp(id1, id2, SF_CRED_ID_LEN) != 0);
	ga_init(&g, "rk.test", NULL);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a) && a.count == 0);
	CHECK(memcmp(a.id, id2, SF_CRED_ID_LEN) == 0);
	ga_init(&g, "rk.test", id1);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
}

static void
up_false_assertion_needs_no_touch_and_clears_up(void)
{
	uint8_t id[SF_CRED_ID_LEN];
	struct asr a;
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, id), CTAP2_OK);
	fake_up_calls = 0;
	fake_up = HAL_UP_DENIED;	/* would refuse, if asked */
	ga_init(&g, "rp.test", id);
	g.up = 0;
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a));
	CHECK_EQ(a.flags & 0x05, 0);
	CHECK_EQ(fake_up_calls, 0);
	g.up = 1;
	CHECK_EQ(ga_send(&g), CTAP2_ERR_OPERATION_DENIED);
	/* rk is no getAssertion option, uv needs built-in UV we lack */
	g.up = -1;
	g.rk = 1;
	CHECK_EQ(ga_send(&g), CTAP2_ERR_UNSUPPORTED_OPTION);
	g.rk = -1;
	g.uv = 1;
	CHECK_EQ(ga_send(&g), CTAP2_ERR_INVALID_OPTION);
}

static void
user_presence_outcomes_map_to_ctap_errors(void)
{
	static const struct {
		enum hal_up	up;
		int		st;
	} tab[] = {
		{ HAL_UP_DENIED, CTAP2_ERR_OPERATION_DENIED },
		{ HAL_UP_TIMEOUT, CTAP2_ERR_USER_ACTION_TIMEOUT },
		{ HAL_UP_CANCELLED, CTAP2_ERR_KEEPALIVE_CANCEL },
		{ HAL_UP_OK, CTAP2_OK },
	};
	uint8_t id[SF_CRED_ID_LEN];
	struct ga g;
	size_t i;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, id), CTAP2_OK);
	ga_init(&g, "rp.test", id);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		fake_up = tab[i].up;
		CHECK_EQ(mc_simple("rp.test", 2, 0, 0, NULL), tab[i].st);
		CHECK_EQ(ga_send(&g), tab[i].st);
		CHECK_EQ(xfer(CTAP2_CMD_SELECTION, NULL, 0), tab[i].st);
	}
	fake_up = HAL_UP_OK;
	fake_up_calls = 0;
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK_EQ(fake_up_calls, 1);
	CHECK_EQ(xfer(CTAP2_CMD_SELECTION, "\xa0", 1),
	    CTAP1_ERR_INVALID_LENGTH);
}

static void
exclude_list_match_touches_then_refuses(void)
{
	uint8_t id[SF_CRED_ID_LEN], other[SF_CRED_ID_LEN];
	struct mc m;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, id), CTAP2_OK);
	memset(&m, 0, sizeof(m));
	m.rp = "rp.test";
	m.user = 1;
	m.excl = id;
	fake_up_calls = 0;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_CREDENTIAL_EXCLUDED);
	CHECK_EQ(fake_up_calls, 1);
	/* the same id means nothing to another rp */
	m.rp = "other.test";
	CHECK_EQ(mc_send(&m, NULL), CTAP2_OK);
	memset(other, 0xab, sizeof(other));
	m.rp = "rp.test";
	m.excl = other;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_OK);
}

static void
key_store_full_after_64_credentials(void)
{
	uint8_t first[SF_CRED_ID_LEN];
	struct ga g;
	int i;

	CHECK_EQ(boot(), 0);
	for (i = 0; i < SF_MAX_CREDS; i++)
		CHECK_EQ(mc_simple("rp.test", (uint8_t)i, 0, 0,
		    i == 0 ? first : NULL), CTAP2_OK);
	fake_up_calls = 0;
	CHECK_EQ(mc_simple("rp.test", 0xff, 0, 0, NULL),
	    CTAP2_ERR_KEY_STORE_FULL);
	CHECK_EQ(fake_up_calls, 0);	/* refused before asking the user */
	ga_init(&g, "rp.test", first);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	/* replacing a resident credential still works when full */
	CHECK_EQ(boot(), 0);
	for (i = 0; i < SF_MAX_CREDS; i++)
		CHECK_EQ(mc_simple("rk.test", (uint8_t)i, 1, 0, NULL),
		    CTAP2_OK);
	CHECK_EQ(mc_simple("rk.test", 5, 1, 0, NULL), CTAP2_OK);
}

static void
flash_failure_changes_nothing(void)
{
	uint8_t id[SF_CRED_ID_LEN];
	struct asr a;
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, id), CTAP2_OK);
	fake_flash_fail = 1;
	CHECK_EQ(mc_simple("rp.test", 2, 1, 0, NULL), CTAP1_ERR_OTHER);
	ga_init(&g, "rp.test", id);
	CHECK_EQ(ga_send(&g), CTAP1_ERR_OTHER);
	fake_flash_fail = 0;
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	CHECK(asr_parse(&a) && a.counter == 1);
	ga_init(&g, "rp.test", NULL);	/* the resident one never was */
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
	/* a PIN try that cannot be recorded is not made */
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	fake_flash_fail = 1;
	{
		uint8_t tok[32];

		CHECK_EQ(pc_get_token(2, "1234", 5, -1, NULL, tok),
		    CTAP1_ERR_OTHER);
	}
	fake_flash_fail = 0;
	CHECK_EQ(pc_retries(), 8);
	CHECK_EQ(power_cycle(), 0);
	CHECK_EQ(pc_retries(), 8);
}

static void
corrupt_or_foreign_flash_is_refused_at_power_up(void)
{
	static struct sf_state blob;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, NULL), CTAP2_OK);
	CHECK_EQ(hal_flash_load(&blob, sizeof(blob)), 0);
	blob.creds[0].counter ^= 1;	/* a silent bit flip */
	CHECK_EQ(hal_flash_store(&blob, sizeof(blob)), 0);
	CHECK(power_cycle() != 0);
	/* every command then fails cleanly */
	CHECK_EQ(xfer(CTAP2_CMD_GET_INFO, NULL, 0), CTAP1_ERR_OTHER);
	blob.creds[0].counter ^= 1;
	CHECK_EQ(hal_flash_store(&blob, sizeof(blob)), 0);
	CHECK_EQ(power_cycle(), 0);
	/* a blob of another size (another state version) */
	CHECK_EQ(hal_flash_store(&blob, sizeof(blob) - 4), 0);
	CHECK(power_cycle() != 0);
}

/* ---- PIN */

static void
makecredential_without_pin_token_is_refused_when_pin_set(void)
{
	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	fake_up_calls = 0;
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, NULL),
	    CTAP2_ERR_PUAT_REQUIRED);
	CHECK_EQ(mc_simple("rp.test", 1, 1, 0, NULL),
	    CTAP2_ERR_PUAT_REQUIRED);
	CHECK_EQ(fake_up_calls, 0);
}

static void
pin_token_sets_uv_and_one_touch_spends_it(void)
{
	uint8_t tok[32], id[SF_CRED_ID_LEN];
	struct asr a;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	CHECK_EQ(pc_retries(), 8);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x01, "rp.test", tok), CTAP2_OK);
	CHECK_EQ(mc_with_token("rp.test", 1, 1, 0, 2, tok, id), CTAP2_OK);
	/* the token's mc permission went with the touch */
	CHECK_EQ(mc_with_token("rp.test", 2, 1, 0, 2, tok, NULL),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x02, "rp.test", tok), CTAP2_OK);
	CHECK_EQ(ga_with_token("rp.test", id, 2, tok), CTAP2_OK);
	CHECK(asr_parse(&a));
	CHECK_EQ(a.flags & 0x05, 0x05);
	CHECK(a.has_user && a.user_has_name);	/* UV: names shown */
	CHECK_EQ(ga_with_token("rp.test", id, 2, tok),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	/* without a token an assertion is still possible, without UV */
	{
		struct ga g;

		ga_init(&g, "rp.test", id);
		CHECK_EQ(ga_send(&g), CTAP2_OK);
		CHECK(asr_parse(&a));
		CHECK_EQ(a.flags & 0x05, 0x01);
	}
	/* a forged pinUvAuthParam */
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x02, "rp.test", tok), CTAP2_OK);
	tok[0] ^= 1;
	CHECK_EQ(ga_with_token("rp.test", id, 2, tok),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	tok[0] ^= 1;
	/* a token must be used within 30 s of being issued */
	fake_now_ms += 30001;
	CHECK_EQ(ga_with_token("rp.test", id, 2, tok),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x02, "rp.test", tok), CTAP2_OK);
	fake_now_ms += 29000;
	CHECK_EQ(ga_with_token("rp.test", id, 2, tok), CTAP2_OK);
}

static void
pin_token_is_bound_to_its_rp_and_permissions(void)
{
	uint8_t tok[32], id[SF_CRED_ID_LEN];

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("a.test", 1, 0, 0, id), CTAP2_OK);
	CHECK_EQ(mc_simple("b.test", 1, 0, 0, NULL), CTAP2_OK);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x03, "b.test", tok), CTAP2_OK);
	CHECK_EQ(ga_with_token("a.test", id, 2, tok),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x02, "a.test", tok), CTAP2_OK);
	CHECK_EQ(mc_with_token("a.test", 2, 0, 0, 2, tok, NULL),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	/* getPinToken (5): mc and ga, bound to the first rp it is used for */
	CHECK_EQ(pc_get_token(2, "1234", 5, -1, NULL, tok), CTAP2_OK);
	CHECK_EQ(ga_with_token("a.test", id, 2, tok), CTAP2_OK);
	/* unsupported or malformed permission requests */
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x04, "a.test", tok),
	    CTAP2_ERR_UNAUTHORIZED_PERMISSION);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0, "a.test", tok),
	    CTAP1_ERR_INVALID_PARAMETER);
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x02, NULL, tok),
	    CTAP1_ERR_INVALID_PARAMETER);
	CHECK_EQ(pc_get_token(2, "1234", 9, -1, "a.test", tok),
	    CTAP2_ERR_MISSING_PARAMETER);
	CHECK_EQ(pc_get_token(2, "1234", 5, 0x01, NULL, tok),
	    CTAP1_ERR_INVALID_PARAMETER);
	CHECK_EQ(pc_get_token(3, "1234", 5, -1, NULL, tok), -1);
	CHECK_EQ(pc_retries(), 8);	/* none of these cost a try */
}

static void
pin_protocol_one_sets_pin_and_gets_token(void)
{
	uint8_t tok[32], id[SF_CRED_ID_LEN], mac[32];
	struct asr a;
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, id), CTAP2_OK);
	CHECK_EQ(pc_set_pin(1, "4321"), CTAP2_OK);
	CHECK_EQ(pc_get_token(1, "4321", 9, 0x02, "rp.test", tok), CTAP2_OK);
	/* a protocol 1 MAC is 16 bytes; the full HMAC is refused */
	ga_init(&g, "rp.test", id);
	hal_hmac_sha256(tok, 32, cdh, sizeof(cdh), mac);
	g.param = mac;
	g.param_len = 32;
	g.has_param = 1;
	g.proto = 1;
	CHECK_EQ(ga_send(&g), CTAP2_ERR_PIN_AUTH_INVALID);
	CHECK_EQ(ga_with_token("rp.test", id, 1, tok), CTAP2_OK);
	CHECK(asr_parse(&a) && (a.flags & 0x04));
	/* the PIN set under protocol 1 works under protocol 2 */
	CHECK_EQ(pc_get_token(2, "4321", 9, 0x02, "rp.test", tok), CTAP2_OK);
	/* a pinUvAuthParam without its protocol */
	g.proto = 0;
	CHECK_EQ(ga_send(&g), CTAP2_ERR_MISSING_PARAMETER);
	g.proto = 7;
	CHECK_EQ(ga_send(&g), CTAP1_ERR_INVALID_PARAMETER);
}

static void
libfido2_sets_changes_and_uses_the_pin(void)
{
	fido_dev_t *dev = NULL;
	fido_cred_t *c = NULL;
	fido_assert_t *a = NULL;
	int n = -1, ok;

	CHECK_EQ(boot(), 0);
	CHECK((dev = dev_open()) != NULL);
	ok = fido_dev_set_pin(dev, "1234", NULL) == FIDO_OK &&
	    fido_dev_get_retry_count(dev, &n) == FIDO_OK && n == 8;
	dev_close(&dev);
	CHECK(ok);
	/* libfido2 sees the PIN on the next open and uses protocol 2 */
	CHECK((dev = dev_open()) != NULL);
	ok = fido_dev_has_pin(dev) &&
	    lf_make_cred(dev, COSE_ES256, "pin.test", 1, 1, 0, "1234",
	    &c) == FIDO_OK && (fido_cred_flags(c) & 0x04) &&
	    lf_get_assert(dev, "pin.test", c, "1234", FIDO_OPT_TRUE,
	    &a) == FIDO_OK && lf_verify(a, 0, c) == FIDO_OK &&
	    (fido_assert_flags(a, 0) & 0x05) == 0x05;
	fido_assert_free(&a);
	if (ok)
		ok = fido_dev_set_pin(dev, "56789", "1234") == FIDO_OK &&
		    lf_get_assert(dev, "pin.test", c, "1234", FIDO_OPT_TRUE,
		    &a) == FIDO_ERR_PIN_INVALID &&
		    lf_get_assert(dev, "pin.test", c, "56789", FIDO_OPT_TRUE,
		    &a) == FIDO_OK && lf_verify(a, 0, c) == FIDO_OK &&
		    fido_dev_get_retry_count(dev, &n) == FIDO_OK && n == 8;
	fido_assert_free(&a);
	fido_cred_free(&c);
	dev_close(&dev);
	CHECK(ok);
}

static void
wrong_pins_count_down_and_three_in_a_row_need_a_power_cycle(void)
{
	fido_dev_t *dev = NULL;
	fido_cred_t *c = NULL;
	fido_assert_t *a = NULL;
	int n = -1, ok;

	CHECK_EQ(boot(), 0);
	CHECK((dev = dev_open()) != NULL);
	ok = fido_dev_set_pin(dev, "1234", NULL) == FIDO_OK;
	dev_close(&dev);
	CHECK(ok);
	CHECK((dev = dev_open()) != NULL);
	ok = lf_make_cred(dev, COSE_ES256, "pin.test", 1, 0, 0, "1234",
	    &c) == FIDO_OK &&
	    lf_get_assert(dev, "pin.test", c, "0000", FIDO_OPT_TRUE,
	    &a) == FIDO_ERR_PIN_INVALID &&
	    fido_dev_get_retry_count(dev, &n) == FIDO_OK && n == 7 &&
	    lf_get_assert(dev, "pin.test", c, "0000", FIDO_OPT_TRUE,
	    &a) == FIDO_ERR_PIN_INVALID &&
	    lf_get_assert(dev, "pin.test", c, "0000", FIDO_OPT_TRUE,
	    &a) == FIDO_ERR_PIN_AUTH_BLOCKED &&
	    /* even the right PIN, until the power cycle */
	    lf_get_assert(dev, "pin.test", c, "1234", FIDO_OPT_TRUE,
	    &a) == FIDO_ERR_PIN_AUTH_BLOCKED &&
	    fido_dev_get_retry_count(dev, &n) == FIDO_OK && n == 5;
	dev_close(&dev);
	if (ok && power_cycle() == 0 && (dev = dev_open()) != NULL)
		ok = lf_get_assert(dev, "pin.test", c, "1234", FIDO_OPT_TRUE,
		    &a) == FIDO_OK && lf_verify(a, 0, c) == FIDO_OK &&
		    fido_dev_get_retry_count(dev, &n) == FIDO_OK && n == 8;
	else
		ok = 0;
	fido_assert_free(&a);
	fido_cred_free(&c);
	dev_close(&dev);
	CHECK(ok);
}

static void
eight_wrong_pins_block_the_pin_for_good(void)
{
	uint8_t tok[32];
	int i, round, want;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	for (i = 0, round = 0; i < 8; i++) {
		if (i == 3 || i == 6) {
			CHECK_EQ(power_cycle(), 0);
			round = 0;
		}
		round++;
		want = i == 7 ? CTAP2_ERR_PIN_BLOCKED : round == 3 ?
		    CTAP2_ERR_PIN_AUTH_BLOCKED : CTAP2_ERR_PIN_INVALID;
		CHECK_EQ(pc_get_token(2, "9999", 9, 0x02, "rp.test", tok),
		    want);
		CHECK_EQ(pc_retries(), 7 - i);
	}
	CHECK_EQ(pc_get_token(2, "1234", 9, 0x02, "rp.test", tok),
	    CTAP2_ERR_PIN_BLOCKED);
	CHECK_EQ(power_cycle(), 0);
	CHECK_EQ(pc_retries(), 0);
	CHECK_EQ(pc_get_token(2, "1234", 5, -1, NULL, tok),
	    CTAP2_ERR_PIN_BLOCKED);
}

static void
key_agreement_changes_after_a_wrong_pin(void)
{
	uint8_t tok[32];
	struct pc c, d;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	CHECK(pc_begin(&c, 2));
	CHECK_EQ(pc_get_token_with(&c, 2, "1111", 9, 2, "rp.test", tok),
	    CTAP2_ERR_PIN_INVALID);
	/* the old shared secret no longer decrypts: another mismatch */
	CHECK_EQ(pc_get_token_with(&c, 2, "1234", 9, 2, "rp.test", tok),
	    CTAP2_ERR_PIN_INVALID);
	CHECK(pc_begin(&d, 2));
	CHECK(memcmp(c.auth_x, d.auth_x, 32) != 0);
	CHECK_EQ(pc_get_token_with(&d, 2, "1234", 9, 2, "rp.test", tok),
	    CTAP2_OK);
	CHECK_EQ(pc_retries(), 8);
}

static void
pin_policy_and_setpin_checks(void)
{
	uint8_t pad[64], enc[80], mac[32];
	char pin[65];
	struct cpq q;
	struct pc c;
	size_t n;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin(2, "123"), CTAP2_ERR_PIN_POLICY_VIOLATION);
	/* four code points in more bytes is long enough */
	memset(pin, 'x', sizeof(pin));
	CHECK_EQ(pc_set_pin_len(2, pin, 64), CTAP2_ERR_PIN_POLICY_VIOLATION);
	CHECK_EQ(pc_set_pin(2, "\xc3\xa9\xc3\xa9\xc3\xa9"),
	    CTAP2_ERR_PIN_POLICY_VIOLATION);
	/* a forged pinUvAuthParam */
	CHECK(pc_begin(&c, 2));
	memset(pad, 0, sizeof(pad));
	memcpy(pad, "1234", 4);
	CHECK((n = pc_encrypt(&c, pad, sizeof(pad), enc)) == 80);
	memset(&q, 0, sizeof(q));
	q.proto = 2;
	q.sub = 3;
	q.ka = &c;
	q.new_pin = enc;
	q.new_pin_len = n;
	q.param = mac;
	q.param_len = pc_mac(2, c.hmac, enc, n, mac);
	q.perms = -1;
	mac[0] ^= 1;
	CHECK_EQ(cp_send(&q), CTAP2_ERR_PIN_AUTH_INVALID);
	mac[0] ^= 1;
	/* newPinEnc of 48 bytes: no 64-byte padded PIN */
	q.new_pin_len = 48;
	q.param_len = pc_mac(2, c.hmac, enc, 48, mac);
	CHECK_EQ(cp_send(&q), CTAP1_ERR_INVALID_PARAMETER);
	q.new_pin = NULL;
	CHECK_EQ(cp_send(&q), CTAP2_ERR_MISSING_PARAMETER);
	q.new_pin = enc;
	q.new_pin_len = n;
	q.param_len = pc_mac(2, c.hmac, enc, n, mac);
	CHECK_EQ(cp_send(&q), CTAP2_OK);
	/* setPIN again is refused: that is changePIN's job */
	CHECK_EQ(pc_set_pin(2, "5678"), CTAP2_ERR_PIN_AUTH_INVALID);
	CHECK_EQ(pc_set_pin_len(2, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8),
	    CTAP2_ERR_PIN_AUTH_INVALID);
	memset(pin, 'y', 63);
	pin[63] = '\0';
	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin(2, pin), CTAP2_OK);	/* 63 bytes fit */
	CHECK_EQ(boot(), 0);
	CHECK_EQ(pc_set_pin_len(2, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8),
	    CTAP2_OK);
	/* unknown and unsupported subcommands */
	memset(&q, 0, sizeof(q));
	q.proto = 2;
	q.perms = -1;
	q.sub = 6;
	CHECK_EQ(cp_send(&q), CTAP2_ERR_INVALID_SUBCOMMAND);
	q.sub = 0x42;
	CHECK_EQ(cp_send(&q), CTAP2_ERR_INVALID_SUBCOMMAND);
	q.sub = 2;
	q.proto = 3;
	CHECK_EQ(cp_send(&q), CTAP1_ERR_INVALID_PARAMETER);
	/* a platform key off the curve */
	CHECK(pc_begin(&c, 2));
	memset(c.pub, 0x01, sizeof(c.pub));
	{
		uint8_t tok[32];

		CHECK_EQ(pc_get_token_with(&c, 2, "1234", 5, -1, NULL, tok),
		    CTAP1_ERR_INVALID_PARAMETER);
	}
}

static void
empty_pin_auth_param_touches_then_reports_pin_state(void)
{
	struct mc m;
	struct ga g;

	CHECK_EQ(boot(), 0);
	memset(&m, 0, sizeof(m));
	m.rp = "rp.test";
	m.user = 1;
	m.has_param = 1;
	m.param = (const uint8_t *)"";
	m.param_len = 0;
	fake_up_calls = 0;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_PIN_NOT_SET);
	CHECK_EQ(fake_up_calls, 1);
	ga_init(&g, "rp.test", NULL);
	g.has_param = 1;
	g.param = (const uint8_t *)"";
	CHECK_EQ(ga_send(&g), CTAP2_ERR_PIN_NOT_SET);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_PIN_INVALID);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_PIN_INVALID);
	fake_up = HAL_UP_DENIED;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_OPERATION_DENIED);
	CHECK_EQ(fake_up_calls, 5);
}

/* ---- credProtect */

static void
credprotect_three_is_hidden_without_uv(void)
{
	uint8_t id3[SF_CRED_ID_LEN], id2[SF_CRED_ID_LEN], tok[32];
	fido_dev_t *dev = NULL;
	fido_cred_t *c = NULL;
	struct asr a;
	struct ga g;
	int ok;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("p3.test", 1, 1, 3, id3), CTAP2_OK);
	CHECK_EQ(mc_simple("p2.test", 1, 1, 2, id2), CTAP2_OK);
	ga_init(&g, "p3.test", id3);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
	ga_init(&g, "p3.test", NULL);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
	/* level 2: by id yes, discovered no */
	ga_init(&g, "p2.test", id2);
	CHECK_EQ(ga_send(&g), CTAP2_OK);
	ga_init(&g, "p2.test", NULL);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
	/* level 3 does not stop an exclude list without UV either */
	{
		struct mc m;

		memset(&m, 0, sizeof(m));
		m.rp = "p3.test";
		m.user = 9;
		m.excl = id3;
		CHECK_EQ(mc_send(&m, NULL), CTAP2_OK);
	}
	/* with UV both are there */
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	CHECK_EQ(pc_get_token(2, "1234", 9, 2, "p3.test", tok), CTAP2_OK);
	CHECK_EQ(ga_with_token("p3.test", id3, 2, tok), CTAP2_OK);
	CHECK(asr_parse(&a) && memcmp(a.id, id3, SF_CRED_ID_LEN) == 0);
	CHECK_EQ(pc_get_token(2, "1234", 9, 2, "p2.test", tok), CTAP2_OK);
	CHECK_EQ(ga_with_token("p2.test", NULL, 2, tok), CTAP2_OK);
	CHECK(asr_parse(&a) && memcmp(a.id, id2, SF_CRED_ID_LEN) == 0);

	/* libfido2 sees the policy echoed in the authData extensions */
	CHECK((dev = dev_open()) != NULL);
	ok = lf_make_cred(dev, COSE_ES256, "p3.test", 2, 1,
	    FIDO_CRED_PROT_UV_REQUIRED, "1234", &c) == FIDO_OK &&
	    fido_cred_prot(c) == FIDO_CRED_PROT_UV_REQUIRED &&
	    (fido_cred_flags(c) & 0x80);
	fido_cred_free(&c);
	dev_close(&dev);
	CHECK(ok);
	{
		struct mc m;

		memset(&m, 0, sizeof(m));
		m.rp = "p3.test";
		m.user = 1;
		m.prot = 4;	/* no such level */
		CHECK_EQ(mc_send(&m, NULL), CTAP1_ERR_INVALID_PARAMETER);
	}
}

/* ---- malformed requests */

static void
malformed_requests_get_the_ctap_error(void)
{
	static const struct {
		const char	*name;
		uint8_t		 cmd;
		const char	*cbor;
		size_t		 len;
		int		 st;
	} tab[] = {
#define T(n, c, s, st) { n, c, s, sizeof(s) - 1, st }
#define CDH32 "\x58\x20" "0123456789abcdef" "0123456789abcdef"
		T("no parameters", 0x01, "", CTAP2_ERR_INVALID_CBOR),
		T("not a map", 0x01, "\x80", CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("empty map", 0x01, "\xa0", CTAP2_ERR_MISSING_PARAMETER),
		T("truncated", 0x02, "\xa2\x01\x61", CTAP2_ERR_INVALID_CBOR),
		T("trailing byte", 0x02, "\xa0\x00", CTAP2_ERR_INVALID_CBOR),
		T("indefinite map", 0x02, "\xbf\xff", CTAP2_ERR_INVALID_CBOR),
		T("keys out of order", 0x02, "\xa2\x02\x40\x01\x61x",
		    CTAP2_ERR_INVALID_CBOR),
		T("duplicate key", 0x02, "\xa2\x01\x61x\x01\x61y",
		    CTAP2_ERR_INVALID_CBOR),
		T("long integer", 0x06, "\xa1\x18\x02\x01",
		    CTAP2_ERR_INVALID_CBOR),
		T("rpId not text", 0x02,
		    "\xa2\x01\x01\x02" CDH32,
		    CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("no clientDataHash", 0x02, "\xa1\x01\x61x",
		    CTAP2_ERR_MISSING_PARAMETER),
		T("short clientDataHash", 0x02, "\xa2\x01\x61x\x02\x41z",
		    CTAP1_ERR_INVALID_LENGTH),
		T("allowList not array", 0x02,
		    "\xa3\x01\x61x\x02" CDH32
		    "\x03\xa0", CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("descriptor without id", 0x02,
		    "\xa3\x01\x61x\x02" CDH32
		    "\x03\x81\xa1\x64type\x6apublic-key",
		    CTAP2_ERR_MISSING_PARAMETER),
		T("option not bool", 0x02,
		    "\xa3\x01\x61x\x02" CDH32
		    "\x05\xa1\x62up\x01", CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("extensions not map", 0x02,
		    "\xa3\x01\x61x\x02" CDH32
		    "\x04\x80", CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("no subcommand", 0x06, "\xa1\x01\x02",
		    CTAP2_ERR_MISSING_PARAMETER),
		T("subcommand not uint", 0x06, "\xa2\x01\x02\x02\x61x",
		    CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("no protocol", 0x06, "\xa1\x02\x02",
		    CTAP2_ERR_MISSING_PARAMETER),
		T("keyAgreement not map", 0x06, "\xa3\x01\x02\x02\x05\x03\x01",
		    CTAP2_ERR_CBOR_UNEXPECTED_TYPE),
		T("getInfo with data", 0x04, "\xa0", CTAP1_ERR_INVALID_LENGTH),
		T("reset with data", 0x07, "\xa0", CTAP1_ERR_INVALID_LENGTH),
		T("unknown command", 0x0a, "", CTAP1_ERR_INVALID_COMMAND),
		T("vendor command", 0x41, "", CTAP1_ERR_INVALID_COMMAND),
		T("deep nesting", 0x02,
		    "\xa1\x08\x81\x81\x81\x81\x81\x81\x81\x81\x81\x00",
		    CTAP2_ERR_INVALID_CBOR),
#undef CDH32
#undef T
	};
	static uint8_t big[CTAP2_MAX_MSG + 1];
	size_t i;

	CHECK_EQ(boot(), 0);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		int st = xfer(tab[i].cmd, tab[i].cbor, tab[i].len);

		if (st != tab[i].st)
			printf("#   %s: 0x%02x, expected 0x%02x\n",
			    tab[i].name, st, tab[i].st);
		CHECK_EQ(st, tab[i].st);
		CHECK_EQ(rlen, 1);
	}
	big[0] = CTAP2_CMD_GET_INFO;
	CHECK_EQ(ctap2_dispatch(big, sizeof(big), rbuf, sizeof(rbuf)), 1);
	CHECK_EQ(rbuf[0], CTAP1_ERR_INVALID_LENGTH);
	CHECK_EQ(ctap2_dispatch(big, 0, rbuf, sizeof(rbuf)), 1);
	CHECK_EQ(rbuf[0], CTAP1_ERR_INVALID_LENGTH);
	/* a response that does not fit the caller's buffer */
	CHECK_EQ(ctap2_dispatch(big, 1, rbuf, 16), 1);
	CHECK_EQ(rbuf[0], CTAP1_ERR_OTHER);
}

static void
makecredential_parameters_are_checked(void)
{
	struct mc m;

	CHECK_EQ(boot(), 0);
	memset(&m, 0, sizeof(m));
	m.rp = "rp.test";
	m.user = 1;
	m.alg = -257;		/* RS256: not ours */
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_UNSUPPORTED_ALGORITHM);
	m.alg = -8;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_OK);
	m.uid_len = 65;		/* WebAuthn caps user handles at 64 */
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_LIMIT_EXCEEDED);
	m.uid_len = 64;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_OK);
	m.cdh_len = 31;
	CHECK_EQ(mc_send(&m, NULL), CTAP1_ERR_INVALID_LENGTH);
	m.cdh_len = 0;
	m.has_param = 1;	/* pinUvAuthParam without protocol */
	m.param = cdh;
	m.param_len = 32;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_ERR_MISSING_PARAMETER);
	/* rp names may be long: kept shortened, hashed in full */
	memset(&m, 0, sizeof(m));
	m.rp = "a-relying-party-identifier-well-beyond-sixty-four-bytes."
	    "tapgate.example.test";
	m.user = 3;
	m.rk = 1;
	CHECK_EQ(mc_send(&m, NULL), CTAP2_OK);
	{
		struct ga g;

		ga_init(&g, m.rp, NULL);
		CHECK_EQ(ga_send(&g), CTAP2_OK);
	}
}

/* ---- faults */

static void
faults_change_the_output_as_specified(void)
{
	fido_dev_t *dev = NULL;
	fido_cred_t *c = NULL, *c2 = NULL;
	fido_assert_t *a = NULL;
	uint32_t last;
	int ok = 0;

	CHECK_EQ(boot(), 0);
	CHECK((dev = dev_open()) != NULL);
	if (lf_make_cred(dev, COSE_ES256, "f.test", 1, 0, 0, NULL,
	    &c) != FIDO_OK || lf_get_assert(dev, "f.test", c, NULL,
	    FIDO_OPT_TRUE, &a) != FIDO_OK || lf_verify(a, 0, c) != FIDO_OK)
		goto out;
	last = fido_assert_sigcount(a, 0);
	fido_assert_free(&a);

	fake_fault_bits = HAL_FAULT_BAD_SIGNATURE;
	if (lf_get_assert(dev, "f.test", c, NULL, FIDO_OPT_TRUE,
	    &a) != FIDO_OK || lf_verify(a, 0, c) != FIDO_ERR_INVALID_SIG)
		goto out;
	fido_assert_free(&a);
	/* the attestation signature too */
	if (lf_make_cred(dev, COSE_EDDSA, "f.test", 2, 0, 0, NULL,
	    &c2) != FIDO_ERR_INVALID_SIG)
		goto out;

	fake_fault_bits = HAL_FAULT_WRONG_RPID;
	if (lf_get_assert(dev, "f.test", c, NULL, FIDO_OPT_TRUE,
	    &a) != FIDO_OK || lf_verify(a, 0, c) == FIDO_OK)
		goto out;
	fido_assert_free(&a);

	fake_fault_bits = HAL_FAULT_NO_UP;
	fake_up_calls = 0;
	if (lf_get_assert(dev, "f.test", c, NULL, FIDO_OPT_TRUE,
	    &a) != FIDO_OK || fake_up_calls != 1 ||
	    (fido_assert_flags(a, 0) & 0x01) != 0 ||
	    lf_verify(a, 0, c) == FIDO_OK)
		goto out;
	last = fido_assert_sigcount(a, 0);
	fido_assert_free(&a);

	fake_fault_bits = HAL_FAULT_COUNTER_BACKWARDS;
	if (lf_get_assert(dev, "f.test", c, NULL, FIDO_OPT_TRUE,
	    &a) != FIDO_OK || lf_verify(a, 0, c) != FIDO_OK ||
	    fido_assert_sigcount(a, 0) >= last)
		goto out;
	fido_assert_free(&a);
	fake_fault_bits = 0;
	if (lf_get_assert(dev, "f.test", c, NULL, FIDO_OPT_TRUE,
	    &a) != FIDO_OK || fido_assert_sigcount(a, 0) <= last)
		goto out;
	fido_assert_free(&a);

	fake_fault_bits = HAL_FAULT_MALFORMED_CBOR;
	if (lf_get_assert(dev, "f.test", c, NULL, FIDO_OPT_TRUE,
	    &a) == FIDO_OK)
		goto out;
	fido_cred_free(&c2);
	if (lf_make_cred(dev, COSE_ES256, "f.test", 3, 0, 0, NULL,
	    &c2) == FIDO_OK)
		goto out;
	dev_close(&dev);
	if ((dev = dev_open()) != NULL)	/* getInfo does not parse */
		goto out;
	fake_fault_bits = 0;

	/* NO_UV: a verified PIN, yet the flag says otherwise */
	if ((dev = dev_open()) == NULL ||
	    fido_dev_set_pin(dev, "1234", NULL) != FIDO_OK)
		goto out;
	dev_close(&dev);
	if ((dev = dev_open()) == NULL)
		goto out;
	fake_fault_bits = HAL_FAULT_NO_UV;
	if (lf_get_assert(dev, "f.test", c, "1234", FIDO_OPT_TRUE,
	    &a) != FIDO_OK || (fido_assert_flags(a, 0) & 0x04) != 0 ||
	    lf_verify(a, 0, c) == FIDO_OK)
		goto out;
	fake_fault_bits = 0;
	ok = 1;
out:
	fake_fault_bits = 0;
	fido_assert_free(&a);
	fido_cred_free(&c);
	fido_cred_free(&c2);
	dev_close(&dev);
	CHECK(ok);
}

static void
malformed_cbor_fault_cuts_the_response_short(void)
{
	size_t full;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(xfer(CTAP2_CMD_GET_INFO, NULL, 0), CTAP2_OK);
	full = rlen;
	fake_fault_bits = HAL_FAULT_MALFORMED_CBOR;
	CHECK_EQ(xfer(CTAP2_CMD_GET_INFO, NULL, 0), CTAP2_OK);
	CHECK(rlen < full);
	CHECK(decode() == NULL);
	/* other responses stay whole */
	CHECK_EQ(pc_retries(), 8);
	fake_fault_bits = 0;
}

/* ---- reset */

static void
reset_wipes_within_ten_seconds_and_is_refused_later(void)
{
	uint8_t id[SF_CRED_ID_LEN];
	struct ga g;

	CHECK_EQ(boot(), 0);
	CHECK_EQ(mc_simple("rp.test", 1, 1, 0, id), CTAP2_OK);
	CHECK_EQ(pc_set_pin(2, "1234"), CTAP2_OK);
	fake_now_ms += 10001;
	CHECK_EQ(xfer(CTAP2_CMD_RESET, NULL, 0), CTAP2_ERR_NOT_ALLOWED);
	CHECK_EQ(power_cycle(), 0);	/* the window opens again */
	fake_up = HAL_UP_DENIED;
	CHECK_EQ(xfer(CTAP2_CMD_RESET, NULL, 0), CTAP2_ERR_OPERATION_DENIED);
	fake_up = HAL_UP_OK;
	fake_now_ms += 9000;
	CHECK_EQ(xfer(CTAP2_CMD_RESET, NULL, 0), CTAP2_OK);
	ga_init(&g, "rp.test", id);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
	CHECK_EQ(mc_simple("rp.test", 1, 0, 0, NULL), CTAP2_OK);
	CHECK_EQ(pc_retries(), 8);
	/* the wipe is on flash */
	CHECK_EQ(power_cycle(), 0);
	CHECK_EQ(pc_set_pin(2, "5678"), CTAP2_OK);
	ga_init(&g, "rp.test", id);
	CHECK_EQ(ga_send(&g), CTAP2_ERR_NO_CREDENTIALS);
}

int
main(void)
{
	fido_init(FIDO_DISABLE_U2F_FALLBACK);
	RUN(getinfo_is_canonical_and_has_every_field);
	RUN(libfido2_opens_the_core_and_reads_getinfo);
	RUN(makecredential_packed_attestation_verifies_and_names_the_aaguid);
	RUN(assertion_signatures_verify_for_es256_and_eddsa);
	RUN(counters_grow_per_credential_and_survive_power_cycle);
	RUN(resident_credentials_come_newest_first_with_next_assertion);
	RUN(next_assertion_needs_a_fresh_getassertion_just_before);
	RUN(resident_credential_for_the_same_user_is_replaced);
	RUN(up_false_assertion_needs_no_touch_and_clears_up);
	RUN(user_presence_outcomes_map_to_ctap_errors);
	RUN(exclude_list_match_touches_then_refuses);
	RUN(key_store_full_after_64_credentials);
	RUN(flash_failure_changes_nothing);
	RUN(corrupt_or_foreign_flash_is_refused_at_power_up);
	RUN(makecredential_without_pin_token_is_refused_when_pin_set);
	RUN(pin_token_sets_uv_and_one_touch_spends_it);
	RUN(pin_token_is_bound_to_its_rp_and_permissions);
	RUN(pin_protocol_one_sets_pin_and_gets_token);
	RUN(libfido2_sets_changes_and_uses_the_pin);
	RUN(wrong_pins_count_down_and_three_in_a_row_need_a_power_cycle);
	RUN(eight_wrong_pins_block_the_pin_for_good);
	RUN(key_agreement_changes_after_a_wrong_pin);
	RUN(pin_policy_and_setpin_checks);
	RUN(empty_pin_auth_param_touches_then_reports_pin_state);
	RUN(credprotect_three_is_hidden_without_uv);
	RUN(malformed_requests_get_the_ctap_error);
	RUN(makecredential_parameters_are_checked);
	RUN(faults_change_the_output_as_specified);
	RUN(malformed_cbor_fault_cuts_the_response_short);
	RUN(reset_wipes_within_ten_seconds_and_is_refused_later);
	TAP_EXIT();
}

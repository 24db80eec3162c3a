/* SPDX-License-Identifier: ISC */
/*
 * src/token/ without a key: device names, the PIN policy, public keys,
 * token_verify_assertion() against assertions this test signs itself (so a
 * refusal is proved to come from the check named, not from a bad
 * signature), how long credential lists are cut into batches a key
 * takes, and the softfido transport against misbehaving peers.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/errors.h"
#include "tap.h"
#include "token/token.h"

static const char *RP = "tapgate.example";

/* ---- names, PIN policy, formatting */

static void
device_names_are_checked_before_anything_is_opened(void)
{
	char long_name[200];

	CHECK_EQ(token_name_check("/dev/hidraw0"), 0);
	CHECK_EQ(token_name_check("/dev/hidraw12"), 0);
	CHECK_EQ(token_name_check("softfido:/run/sf.sock"), 0);
	CHECK_EQ(token_name_check("softfido:rel.sock"), 0);
	CHECK_EQ(token_name_check("softfido:"), TG_ERR_INVALID);
	CHECK_EQ(token_name_check("/dev/hidraw"), TG_ERR_INVALID);
	CHECK_EQ(token_name_check("/dev/hidraw1x"), TG_ERR_INVALID);
	CHECK_EQ(token_name_check("/dev/sda"), TG_ERR_INVALID);
	CHECK_EQ(token_name_check("hidraw0"), TG_ERR_INVALID);
	CHECK_EQ(token_name_check(""), TG_ERR_INVALID);
	CHECK_EQ(token_name_check(NULL), TG_ERR_INVALID);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memcpy(long_name, "softfido:", 9);
	CHECK_EQ(token_name_check(long_name), TG_ERR_TOO_LONG);
}

static void
open_refuses_malformed_names(void)
{
	struct token *tok = NULL;

	CHECK_EQ(token_open("usb:1", NULL, &tok), TG_ERR_INVALID);
	CHECK(tok == NULL);
	CHECK_EQ(token_open("softfido:", NULL, &tok), TG_ERR_INVALID);
	CHECK(tok == NULL);
}

static void
pin_policy_counts_code_points_and_bytes(void)
{
	char pin[80];

	CHECK_EQ(token_pin_policy_check("1234", 0), 0);
	CHECK_EQ(token_pin_policy_check("123", 0), TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("", 0), TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check(NULL, 0), TG_ERR_PIN_POLICY);
	/* the key's minPINLength raises the floor, never lowers it */
	CHECK_EQ(token_pin_policy_check("12345", 6), TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("123456", 6), 0);
	CHECK_EQ(token_pin_policy_check("123", 2), TG_ERR_PIN_POLICY);
	/* three two-byte characters are three code points: too short */
	CHECK_EQ(token_pin_policy_check("\xc3\xa9\xc3\xa9\xc3\xa9", 0),
	    TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    0), 0);
	/* not UTF-8: stray continuation, overlong '/', surrogate, > U+10FFFF */
	CHECK_EQ(token_pin_policy_check("\x80" "1234", 0), TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("\xc0\xaf" "1234", 0),
	    TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("\xed\xa0\x80" "1234", 0),
	    TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("\xf4\x90\x80\x80" "1234", 0),
	    TG_ERR_PIN_POLICY);
	CHECK_EQ(token_pin_policy_check("1234\xc3", 0), TG_ERR_PIN_POLICY);
	/* 63 bytes fit, 64 do not */
	memset(pin, '7', 63);
	pin[63] = '\0';
	CHECK_EQ(token_pin_policy_check(pin, 0), 0);
	pin[63] = '7';
	pin[64] = '\0';
	CHECK_EQ(token_pin_policy_check(pin, 0), TG_ERR_PIN_POLICY);
}

static void
aaguid_is_formatted_as_canonical_uuid(void)
{
	static const uint8_t a[16] = {
		0xcc, 0x3c, 0xa4, 0x83, 0x7a, 0xc0, 0xa9, 0xc5,
		0x0f, 0x5f, 0xfe, 0xe9, 0x6e, 0xc4, 0xfa, 0xc7,
	};
	char s[37];

	token_aaguid_format(a, s);
	CHECK(strcmp(s, "cc3ca483-7ac0-a9c5-0f5f-fee96ec4fac7") == 0);
}

/* ---- keys this test signs with */

struct tkey {
	EVP_PKEY		*pkey;
	struct token_pubkey	 pk;
};

static int
tkey_new(int alg, struct tkey *k)
{
	uint8_t	buf[65];
	size_t	len = 0;

	memset(k, 0, sizeof(*k));
	if (alg == TOKEN_ALG_ES256) {
		if ((k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256")) == NULL ||
		    EVP_PKEY_get_octet_string_param(k->pkey,
		    OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof(buf), &len) != 1)
			return -1;
	} else {
		len = 32;
		if ((k->pkey = EVP_PKEY_Q_keygen(NULL, NULL,
		    "ED25519")) == NULL ||
		    EVP_PKEY_get_raw_public_key(k->pkey, buf, &len) != 1)
			return -1;
	}
	return token_pubkey_from_raw(alg, buf, len, &k->pk);
}

/* Sign authData || cdh as an authenticator would. */
static int
tkey_sign(const struct tkey *k, const uint8_t *ad, size_t adlen,
    const uint8_t cdh[32], uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX	*ctx;
	uint8_t		 msg[1100];
	int		 ok;

	memcpy(msg, ad, adlen);
	memcpy(msg + adlen, cdh, 32);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(ctx, NULL, k->pk.alg == TOKEN_ALG_ES256 ?
	    EVP_sha256() : NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, siglen, msg, adlen + 32) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void
tkey_free(struct tkey *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}

/* rpIdHash | flags | counter */
static void
make_authdata(const char *rp, uint8_t flags, uint32_t counter, uint8_t ad[37])
{
	SHA256((const unsigned char *)rp, strlen(rp), ad);
	ad[32] = flags;
	ad[33] = (uint8_t)(counter >> 24);
	ad[34] = (uint8_t)(counter >> 16);
	ad[35] = (uint8_t)(counter >> 8);
	ad[36] = (uint8_t)counter;
}

struct signed_case {
	uint8_t			ad[1100];
	size_t			adlen;
	uint8_t			cdh[32];
	uint8_t			sig[200];
	size_t			siglen;
	struct token_verify_req	req;
};

/* An assertion over ad[0..adlen) (already filled), signed by k. */
static int
sign_case(const struct tkey *k, struct signed_case *c, uint32_t prev)
{
	memset(c->cdh, 0x5a, sizeof(c->cdh));
	c->siglen = sizeof(c->sig);
	if (tkey_sign(k, c->ad, c->adlen, c->cdh, c->sig, &c->siglen) != 0)
		return -1;
	memset(&c->req, 0, sizeof(c->req));
	c->req.pubkey = &k->pk;
	c->req.rp_id = RP;
	c->req.client_data_hash = c->cdh;
	c->req.authdata = c->ad;
	c->req.authdata_len = c->adlen;
	c->req.sig = c->sig;
	c->req.sig_len = c->siglen;
	c->req.prev_sign_count = prev;
	return 0;
}

static int
case_new(const struct tkey *k, uint8_t flags, uint32_t counter,
    uint32_t prev, struct signed_case *c)
{
	make_authdata(RP, flags, counter, c->ad);
	c->adlen = 37;
	return sign_case(k, c, prev);
}

static void
check_verify_rules(int alg)
{
	struct tkey		k, other;
	struct signed_case	c;
	uint32_t		n = 0;

	CHECK_EQ(tkey_new(alg, &k), 0);
	CHECK_EQ(tkey_new(alg, &other), 0);

	CHECK_EQ(case_new(&k, TOKEN_FLAG_UP | TOKEN_FLAG_UV, 5, 4, &c), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), 0);
	CHECK_EQ(n, 5);
	/* the same assertion again: the counter did not grow */
	c.req.prev_sign_count = 5;
	n = 99;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_COUNTER);
	CHECK_EQ(n, 99);	/* untouched on failure */
	c.req.prev_sign_count = 6;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_COUNTER);
	/* another key, another client data hash, a flipped bit */
	c.req.prev_sign_count = 4;
	c.req.pubkey = &other.pk;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_SIGNATURE);
	c.req.pubkey = &k.pk;
	c.cdh[0] ^= 1;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_SIGNATURE);
	c.cdh[0] ^= 1;
	c.sig[c.siglen - 1] ^= 1;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_SIGNATURE);
	c.sig[c.siglen - 1] ^= 1;
	CHECK_EQ(token_verify_assertion(&c.req, &n), 0);
	/* the signature is good; the relying party is not ours */
	c.req.rp_id = "evil.example";
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_RPID);

	/* validly signed, but flags 0x00, UP only, UV only */
	CHECK_EQ(case_new(&k, 0x00, 5, 4, &c), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_FLAGS);
	CHECK_EQ(case_new(&k, TOKEN_FLAG_UP, 5, 4, &c), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_FLAGS);
	CHECK_EQ(case_new(&k, TOKEN_FLAG_UV, 5, 4, &c), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_FLAGS);
	tkey_free(&k);
	tkey_free(&other);
}

static void
verify_accepts_only_up_uv_growing_counter_es256(void)
{
	check_verify_rules(TOKEN_ALG_ES256);
}

static void
verify_accepts_only_up_uv_growing_counter_eddsa(void)
{
	check_verify_rules(TOKEN_ALG_EDDSA);
}

static void
verify_refuses_extension_data_before_libcbor_sees_it(void)
{
	struct tkey		k;
	struct signed_case	c;
	uint32_t		n;

	CHECK_EQ(tkey_new(TOKEN_ALG_ES256, &k), 0);
	/* ED with the bytes that make libcbor ask for ~20 GB */
	make_authdata(RP, TOKEN_FLAG_UP | TOKEN_FLAG_UV | TOKEN_FLAG_ED, 9,
	    c.ad);
	memcpy(c.ad + 37, "\x9a\x9a\x9a\x9a\x9a", 5);
	c.adlen = 42;
	CHECK_EQ(sign_case(&k, &c, 1), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_INVALID);
	/* AT has no place in an assertion */
	CHECK_EQ(case_new(&k, TOKEN_FLAG_UP | TOKEN_FLAG_UV | TOKEN_FLAG_AT,
	    9, 1, &c), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_INVALID);
	/* trailing bytes without ED */
	make_authdata(RP, TOKEN_FLAG_UP | TOKEN_FLAG_UV, 9, c.ad);
	c.ad[37] = 0;
	c.adlen = 38;
	CHECK_EQ(sign_case(&k, &c, 1), 0);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_INVALID);
	/* too short */
	CHECK_EQ(case_new(&k, TOKEN_FLAG_UP | TOKEN_FLAG_UV, 9, 1, &c), 0);
	c.req.authdata_len = 36;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_INVALID);
	tkey_free(&k);
}

static void
verify_caps_authdata_and_signature_sizes(void)
{
	struct tkey		k;
	struct signed_case	c;
	static uint8_t		big[TOKEN_AUTHDATA_MAX + 1];
	uint32_t		n;

	CHECK_EQ(tkey_new(TOKEN_ALG_ES256, &k), 0);
	CHECK_EQ(case_new(&k, TOKEN_FLAG_UP | TOKEN_FLAG_UV, 9, 1, &c), 0);
	memcpy(big, c.ad, 37);
	c.req.authdata = big;
	c.req.authdata_len = sizeof(big);
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_TOO_LONG);
	c.req.authdata = c.ad;
	c.req.authdata_len = 37;
	c.req.sig_len = TOKEN_SIG_MAX + 1;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_TOO_LONG);
	c.req.sig_len = 0;
	CHECK_EQ(token_verify_assertion(&c.req, &n), TG_ERR_INVALID);
	c.req.sig_len = c.siglen;
	CHECK_EQ(token_verify_assertion(&c.req, &n), 0);
	CHECK_EQ(token_verify_assertion(NULL, &n), TG_ERR_INVALID);
	CHECK_EQ(token_verify_assertion(&c.req, NULL), TG_ERR_INVALID);
	tkey_free(&k);
}

static void
public_keys_are_validated_and_encoded_as_cose(void)
{
	struct tkey		k;
	struct token_pubkey	pk;
	uint8_t			raw[65], cose[80];
	size_t			n;

	CHECK_EQ(tkey_new(TOKEN_ALG_ES256, &k), 0);
	/* 04||x||y and x||y name the same key */
	raw[0] = 0x04;
	memcpy(raw + 1, k.pk.raw, 64);
	CHECK_EQ(token_pubkey_from_raw(TOKEN_ALG_ES256, raw, 65, &pk), 0);
	CHECK_EQ(pk.raw_len, 64);
	CHECK(memcmp(pk.raw, k.pk.raw, 64) == 0);
	CHECK_EQ(token_pubkey_to_cose(&pk, cose, sizeof(cose), &n), 0);
	CHECK_EQ(n, 77);
	CHECK(memcmp(cose, "\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20", 10)
	    == 0);
	CHECK(memcmp(cose + 10, pk.raw, 32) == 0);
	CHECK(memcmp(cose + 42, "\x22\x58\x20", 3) == 0);
	CHECK(memcmp(cose + 45, pk.raw + 32, 32) == 0);
	CHECK_EQ(token_pubkey_to_cose(&pk, cose, 76, &n), TG_ERR_TOO_LONG);
	/* a point off the curve, a wrong length, an unknown algorithm */
	memcpy(raw, k.pk.raw, 64);
	raw[63] ^= 1;
	CHECK(token_pubkey_from_raw(TOKEN_ALG_ES256, raw, 64, &pk) != 0);
	CHECK_EQ(token_pubkey_from_raw(TOKEN_ALG_ES256, k.pk.raw, 63, &pk),
	    TG_ERR_INVALID);
	CHECK_EQ(token_pubkey_from_raw(-257, k.pk.raw, 64, &pk),
	    TG_ERR_UNSUPPORTED);
	tkey_free(&k);

	CHECK_EQ(tkey_new(TOKEN_ALG_EDDSA, &k), 0);
	CHECK_EQ(k.pk.raw_len, 32);
	CHECK_EQ(token_pubkey_to_cose(&k.pk, cose, sizeof(cose), &n), 0);
	CHECK_EQ(n, 42);
	CHECK(memcmp(cose, "\xa4\x01\x01\x03\x27\x20\x06\x21\x58\x20", 10)
	    == 0);
	CHECK(memcmp(cose + 10, k.pk.raw, 32) == 0);
	CHECK_EQ(token_pubkey_from_raw(TOKEN_ALG_EDDSA, k.pk.raw, 31, &pk),
	    TG_ERR_INVALID);
	tkey_free(&k);
}

/* ---- lists longer than a key takes */

static void
list_batches_follow_count_id_length_and_bytes(void)
{
	static const uint8_t id[64];
	struct token_cred_id ids[40];
	struct token_list_limits lim = { 8, 32, 1024 };
	size_t end = 0, i, s, seen;

	for (i = 0; i < 40; i++) {
		ids[i].ptr = id;
		ids[i].len = 32;
	}
	/* by count: 8 at a time, the last batch what is left */
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), 0);
	CHECK_EQ(end, 8);
	CHECK_EQ(token_list_batch(ids, 40, 32, &lim, &end), 0);
	CHECK_EQ(end, 40);
	CHECK_EQ(token_list_batch(ids, 37, 32, &lim, &end), 0);
	CHECK_EQ(end, 37);
	/* every id in exactly one batch, in order */
	for (s = 0, seen = 0; s < 37; s = end) {
		CHECK_EQ(token_list_batch(ids, 37, s, &lim, &end), 0);
		CHECK(end > s && end - s <= 8);
		seen += end - s;
	}
	CHECK_EQ(seen, 37);
	/* by bytes: an id takes its length and 24 bytes of CBOR */
	lim.max_bytes = 3 * (32 + 24);
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), 0);
	CHECK_EQ(end, 3);
	lim.max_bytes--;
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), 0);
	CHECK_EQ(end, 2);
	/* one id alone over the budget: the key cannot be asked about it */
	lim.max_bytes = 32 + 23;
	end = 99;
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), TG_ERR_UNSUPPORTED);
	CHECK_EQ(end, 99);
	lim.max_bytes = 0;
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), TG_ERR_UNSUPPORTED);
	/* an id longer than the key takes ends a batch, and starts none */
	lim.max_bytes = 1024;
	ids[5].len = 33;
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), 0);
	CHECK_EQ(end, 5);
	CHECK_EQ(token_list_batch(ids, 40, 5, &lim, &end), TG_ERR_UNSUPPORTED);
	/* ... unless the key reported no bound */
	lim.max_id_len = 0;
	ids[5].len = 64;
	CHECK_EQ(token_list_batch(ids, 40, 5, &lim, &end), 0);
	CHECK_EQ(end, 13);
	/* a key that reports no count is asked one id at a time */
	lim.max_count = 1;
	CHECK_EQ(token_list_batch(ids, 40, 7, &lim, &end), 0);
	CHECK_EQ(end, 8);
	/* misuse */
	CHECK_EQ(token_list_batch(ids, 40, 40, &lim, &end), TG_ERR_INVALID);
	CHECK_EQ(token_list_batch(NULL, 40, 0, &lim, &end), TG_ERR_INVALID);
	CHECK_EQ(token_list_batch(ids, 40, 0, NULL, &end), TG_ERR_INVALID);
	lim.max_count = 0;
	CHECK_EQ(token_list_batch(ids, 40, 0, &lim, &end), TG_ERR_INVALID);
}

/* ---- the softfido transport against peers that misbehave */

enum peer_mode {
	PEER_CLOSE,	/* accept, then hang up */
	PEER_SHORT,	/* answer INIT with a 32-byte packet */
	PEER_SILENT,	/* accept and say nothing */
};

struct peer {
	int		lfd;
	enum peer_mode	mode;
	char		path[108];
};

static void *
peer_run(void *arg)
{
	struct peer	*p = arg;
	uint8_t		 buf[64];
	int		 fd;

	if ((fd = accept(p->lfd, NULL, NULL)) == -1)
		return NULL;
	switch (p->mode) {
	case PEER_CLOSE:
		break;
	case PEER_SHORT:
		if (recv(fd, buf, sizeof(buf), 0) == 64)
			(void)send(fd, buf, 32, MSG_NOSIGNAL);
		(void)recv(fd, buf, sizeof(buf), 0);	/* until closed */
		break;
	case PEER_SILENT:
		while (recv(fd, buf, sizeof(buf), 0) > 0)
			continue;
		break;
	}
	close(fd);
	return NULL;
}

static int
peer_start(struct peer *p, const char *dir, enum peer_mode mode,
    pthread_t *th)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(p->path, sizeof(p->path), "%s/peer%d.sock", dir, (int)mode);
	memcpy(sa.sun_path, p->path, strlen(p->path));
	p->mode = mode;
	if ((p->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0)) == -1 ||
	    bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(p->lfd, 1) == -1)
		return -1;
	return pthread_create(th, NULL, peer_run, p) == 0 ? 0 : -1;
}

static void
peer_stop(struct peer *p, pthread_t th)
{
	pthread_join(th, NULL);
	close(p->lfd);
	unlink(p->path);
}

static char tmpdir[64];

static int
open_peer(enum peer_mode mode, int timeout_ms)
{
	struct token_opts	 o = { timeout_ms, 0 };
	struct token		*tok = NULL;
	struct peer		 p;
	pthread_t		 th;
	char			 name[128];
	int			 r;

	if (peer_start(&p, tmpdir, mode, &th) != 0)
		return 1;
	snprintf(name, sizeof(name), "softfido:%s", p.path);
	r = token_open(name, &o, &tok);
	token_free(&tok);
	peer_stop(&p, th);
	return r;
}

static void
transport_tells_gone_timeout_and_bad_frames_apart(void)
{
	struct token	*tok = NULL;
	char		 name[128];

	/* nothing listens: ENOENT */
	snprintf(name, sizeof(name), "softfido:%s/none.sock", tmpdir);
	CHECK_EQ(token_open(name, NULL, &tok), TG_ERR_DEVICE_GONE);
	CHECK(tok == NULL);
	CHECK_EQ(open_peer(PEER_CLOSE, 2000), TG_ERR_DEVICE_GONE);
	CHECK_EQ(open_peer(PEER_SHORT, 2000), TG_ERR_PROTOCOL);
	CHECK_EQ(open_peer(PEER_SILENT, 300), TG_ERR_TIMEOUT);
}

static void
connect_wait_is_bounded(void)
{
	struct token_opts	 o = { 1000, 300 };
	struct token		*tok = NULL;
	char			 name[128];
	uint64_t		 t0;
	struct timespec		 ts;

	snprintf(name, sizeof(name), "softfido:%s/late.sock", tmpdir);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	CHECK_EQ(token_open(name, &o, &tok), TG_ERR_DEVICE_GONE);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	CHECK((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 -
	    t0 >= 280);
}

static void
list_without_softfido_names_is_not_an_error(void)
{
	struct token_list	*l = NULL;
	const char		*bad[] = { "/dev/hidraw0" };

	CHECK_EQ(token_list_new(NULL, 0, NULL, &l), 0);
	CHECK(l != NULL);
	for (size_t i = 0; i < l->count; i++)
		CHECK(strncmp(l->entries[i].name, "softfido:", 9) != 0);
	token_list_free(&l);
	CHECK(l == NULL);
	token_list_free(&l);	/* NULL-safe */
	CHECK_EQ(token_list_new(bad, 1, NULL, &l), TG_ERR_INVALID);
	CHECK(l == NULL);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/tg-token.XXXXXX",
	    t != NULL && strlen(t) < 40 ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(device_names_are_checked_before_anything_is_opened);
	RUN(open_refuses_malformed_names);
	RUN(pin_policy_counts_code_points_and_bytes);
	RUN(aaguid_is_formatted_as_canonical_uuid);
	RUN(verify_accepts_only_up_uv_growing_counter_es256);
	RUN(verify_accepts_only_up_uv_growing_counter_eddsa);
	RUN(verify_refuses_extension_data_before_libcbor_sees_it);
	RUN(verify_caps_authdata_and_signature_sizes);
	RUN(public_keys_are_validated_and_encoded_as_cose);
	RUN(list_batches_follow_count_id_length_and_bytes);
	RUN(transport_tells_gone_timeout_and_bad_frames_apart);
	RUN(connect_wait_is_bounded);
	RUN(list_without_softfido_names_is_not_an_error);
	rmdir(tmpdir);
	TAP_EXIT();
}

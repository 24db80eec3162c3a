/* SPDX-License-Identifier: ISC */
/*
 * libtapgate-verify: orders are made here as tapgated makes them (see
 * test_verify_fixture.h: the appliance signs with src/order, the officers'
 * assertions come from OpenSSL directly), and each way an order can be
 * wrong must be refused with its own error.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/errors.h"
#include "tap.h"
#include "test_verify_fixture.h"
#include "verify/tapgate_verify.h"

static struct fx	F;
static char		lastmsg[256];	/* tgv_errmsg() of the last try */
static char		tmpdir[64];

/* A context trusting F's key, for FX_AUD, with F's approvers if asked. */
static struct tgv_ctx *
ctx_new(bool approvers)
{
	struct tgv_ctx *ctx = NULL;

	if (tgv_ctx_new(&ctx) != 0 ||
	    tgv_load_jwks(ctx, F.jwks, strlen(F.jwks)) != 0 ||
	    tgv_set_audience(ctx, FX_AUD) != 0 ||
	    (approvers && tgv_load_approvers(ctx, F.approvers,
	    strlen(F.approvers)) != 0))
		tgv_ctx_free(&ctx);
	return ctx;
}

/* Verify tok with ctx at now; the order is freed unless op is given. */
static int
verify_with(struct tgv_ctx *ctx, const char *tok, int64_t now,
    struct tgv_order **op)
{
	struct tgv_order *o = NULL;
	int r;

	r = tgv_verify(ctx, tok, tok != NULL ? strlen(tok) : 0, now, &o);
	snprintf(lastmsg, sizeof(lastmsg), "%s", tgv_errmsg(ctx));
	if (r != 0 && o != NULL)
		return -9999;	/* an output set on failure */
	if (r == 0 && strcmp(lastmsg, "") != 0)
		return -9998;	/* a message left after success */
	if (op != NULL)
		*op = o;
	else
		tgv_order_free(&o);
	return r;
}

/* Verify tok with a fresh context (approvers pinned or not) at FX_NOW. */
static int
verify_tok(const char *tok, bool approvers)
{
	struct tgv_ctx *ctx = ctx_new(approvers);
	int r;

	if (ctx == NULL)
		return -9997;
	r = verify_with(ctx, tok, FX_NOW, NULL);
	tgv_ctx_free(&ctx);
	return r;
}

/* Sign payload (a reference is stolen) with F's key and verify it. */
static int
verify_payload(json_t *payload, bool approvers)
{
	char *tok;
	int r;

	if (payload == NULL)
		return -9996;
	tok = fx_sign(F.key, payload);
	json_decref(payload);
	if (tok == NULL)
		return -9995;
	r = verify_tok(tok, approvers);
	free(tok);
	return r;
}

/* The token of the good order (fx_good_payload()). */
static char *
good_token(void)
{
	json_t *payload = fx_good_payload(&F);
	char *tok = fx_sign(F.key, payload);

	json_decref(payload);
	return tok;
}

/*
 * The good change approved by officers who[0..n) with opts[i] each,
 * verified against the pinned approvers with at least min (or the
 * default when min < 0).
 */
static int
try_approvals(size_t n, const int *who, const struct fx_approval_opts *opts,
    int min)
{
	struct tgv_ctx *ctx = NULL;
	json_t *change, *approvals, *payload;
	char digest[44], *tok = NULL;
	size_t i;
	int r = -9990;

	change = fx_change("alice", FX_AUD);
	approvals = json_array();
	if (change == NULL || approvals == NULL ||
	    fx_change_digest(change, digest) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(approvals,
		    fx_approval(&F.officer[who[i]], digest, &opts[i])) != 0)
			goto out;
	payload = fx_payload(change, approvals);
	approvals = NULL;
	tok = fx_sign(F.key, payload);
	json_decref(payload);
	if (tok == NULL || (ctx = ctx_new(true)) == NULL ||
	    (min >= 0 && tgv_set_min_approvals(ctx, (unsigned int)min) != 0))
		goto out;
	r = verify_with(ctx, tok, FX_NOW, NULL);
out:
	tgv_ctx_free(&ctx);
	free(tok);
	json_decref(change);
	json_decref(approvals);
	return r;
}

/* One approval by officer who, made with opts. */
static int
try_one(int who, struct fx_approval_opts opts)
{
	return try_approvals(1, &who, &opts, -1);
}

/* ---- the good order */

static void
good_order_verifies_and_returns_the_change(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	struct tgv_order *o = NULL;
	json_t *payload = fx_good_payload(&F), *back = NULL;
	char *tok = fx_sign(F.key, payload), *want = NULL, *json = NULL;
	const char *cj;
	size_t wlen, cjlen, jlen;

	CHECK(ctx != NULL && tok != NULL);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK(o != NULL);
	CHECK(strcmp(tgv_order_jti(o), FX_JTI) == 0);
	CHECK(strcmp(tgv_order_iss(o), FX_ISS) == 0);
	CHECK(strcmp(tgv_order_aud(o), FX_AUD) == 0);
	CHECK_EQ(tgv_order_iat(o), FX_IAT);
	CHECK_EQ(tgv_order_nbf(o), FX_NBF);
	CHECK_EQ(tgv_order_exp(o), FX_EXP);
	CHECK(strcmp(tgv_order_kid(o), jwk_kid(F.key)) == 0);
	CHECK(strcmp(tgv_order_request_id(o), FX_REQUEST_ID) == 0);
	CHECK(strcmp(tgv_order_queue(o), "password_reset") == 0);
	CHECK(strcmp(tgv_order_target_account(o), "alice") == 0);
	CHECK(strcmp(tgv_order_target_system(o), FX_AUD) == 0);
	CHECK_EQ(tgv_order_approver_count(o), 2);
	CHECK(strcmp(tgv_order_approver(o, 0), "officer-ann") == 0);
	CHECK(strcmp(tgv_order_approver(o, 1), "officer-ben") == 0);
	CHECK(tgv_order_approver(o, 2) == NULL);
	CHECK(tgv_order_approvals_verified(o));
	/* the change comes back as exactly the bytes change_digest covers */
	CHECK(jcs_serialize(json_object_get(payload, "change"), &want,
	    &wlen) == 0);
	cj = tgv_order_change_json(o, &cjlen);
	CHECK(cjlen == wlen && memcmp(cj, want, wlen) == 0 &&
	    cj[cjlen] == '\0');
	CHECK(tgv_order_to_json(o, &json, &jlen) == 0);
	CHECK((back = json_loads(json, 0, NULL)) != NULL);
	CHECK(json_equal(json_object_get(back, "change"),
	    json_object_get(payload, "change")));
	CHECK(strcmp(json_string_value(json_object_get(back, "jti")),
	    FX_JTI) == 0);
	CHECK(json_integer_value(json_object_get(back, "exp")) == FX_EXP);
	CHECK(json_integer_value(json_object_get(back, "nbf")) == FX_NBF);
	CHECK(json_is_true(json_object_get(back, "approvals_verified")));
	CHECK(json_array_size(json_object_get(back, "approvers")) == 2);
	json_decref(back);
	free(json);
	free(want);
	free(tok);
	json_decref(payload);
	tgv_order_free(&o);
	tgv_order_free(&o);	/* NULL-safe */
	tgv_ctx_free(&ctx);
	tgv_ctx_free(&ctx);
}

static void
es256_appliance_key_verifies_too(void)
{
	struct jwk *key = fx_appliance_key(JWK_ALG_ES256, "another box");
	struct tgv_ctx *ctx = NULL;
	char *jwks = NULL, *tok = NULL;
	json_t *payload = fx_good_payload(&F);

	CHECK(key != NULL && payload != NULL);
	CHECK((jwks = fx_jwks_doc(key)) != NULL);
	CHECK((tok = fx_sign(key, payload)) != NULL);
	CHECK((ctx = ctx_new(true)) != NULL);
	/* not trusted yet */
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), TGV_ERR_UNKNOWN_KID);
	/* a second JWKS adds its keys to the first */
	CHECK_EQ(tgv_load_jwks(ctx, jwks, strlen(jwks)), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), 0);
	/* and the same key twice is refused */
	CHECK_EQ(tgv_load_jwks(ctx, jwks, strlen(jwks)), TGV_ERR_CONFIG);
	free(tok);
	free(jwks);
	json_decref(payload);
	jwk_free(&key);
	tgv_ctx_free(&ctx);
}

static void
approvals_are_not_checked_without_an_approvers_file(void)
{
	struct fx_approval_opts bad = fx_approval_opts_default();
	struct tgv_ctx *ctx = ctx_new(false);
	struct tgv_order *o = NULL;
	json_t *change = fx_change("alice", FX_AUD), *payload;
	char *tok;

	/* an approval without UV: only a pinned verifier can notice */
	bad.flags = TOKEN_FLAG_UP;
	CHECK(ctx != NULL && change != NULL);
	/* a class without a floor: nothing needs verified approvals */
	json_object_set_new(json_object_get(change, "target"), "class",
	    json_string("standard"));
	json_object_set_new(json_object_get(change, "policy"),
	    "approvals_required", json_array());
	payload = fx_payload(change, json_pack("[o]",
	    fx_approval(&F.officer[FX_ANN], "x", &bad)));
	CHECK((tok = fx_sign(F.key, payload)) != NULL);
	json_decref(payload);
	json_decref(change);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK(!tgv_order_approvals_verified(o));
	CHECK_EQ(tgv_order_approver_count(o), 1);
	tgv_order_free(&o);
	/* nor can a minimum be asked for what is not checked */
	CHECK_EQ(tgv_set_min_approvals(ctx, 1), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), TGV_ERR_INVALID);
	/* and the same order fails once the approvers are pinned */
	CHECK_EQ(verify_tok(tok, true), TGV_ERR_APPROVAL);
	free(tok);
	tgv_ctx_free(&ctx);
}

/* ---- the appliance signature */

static void
tampered_payload_is_refused(void)
{
	char *tok = good_token(), *dot;

	CHECK(tok != NULL);
	dot = strchr(tok, '.');
	/* one base64url character of the payload changed */
	dot[10] = dot[10] == 'A' ? 'B' : 'A';
	CHECK_EQ(verify_tok(tok, true), TGV_ERR_BAD_SIGNATURE);
	free(tok);
}

static void
order_signed_by_another_key_is_refused(void)
{
	struct jwk *other = NULL;
	json_t *payload = fx_good_payload(&F);
	char *good = fx_sign(F.key, payload), *forged = NULL, *mix = NULL;

	CHECK(jwk_generate(JWK_ALG_EDDSA, &other) == 0 && good != NULL);
	CHECK((forged = fx_sign(other, payload)) != NULL);
	/* its own kid: unknown */
	CHECK_EQ(verify_tok(forged, true), TGV_ERR_UNKNOWN_KID);
	CHECK(strstr(lastmsg, jwk_kid(other)) != NULL);
	/* the trusted kid in the header, another key's signature */
	CHECK((mix = malloc(strlen(good) + 100)) != NULL);
	strcpy(mix, good);
	strcpy(strrchr(mix, '.'), strrchr(forged, '.'));
	CHECK_EQ(verify_tok(mix, true), TGV_ERR_BAD_SIGNATURE);
	free(mix);
	free(forged);
	free(good);
	json_decref(payload);
	jwk_free(&other);
}

static void
alg_none_is_refused(void)
{
	char hdr[200], *h64 = NULL, *tok = good_token();
	char *none = NULL;

	CHECK(tok != NULL);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\","
	    "\"typ\":\"tapgate-order+jwt\"}", jwk_kid(F.key));
	CHECK(b64url_encode_alloc((const uint8_t *)hdr, strlen(hdr),
	    &h64) == 0);
	CHECK((none = malloc(strlen(h64) + strlen(tok) + 1)) != NULL);
	strcpy(none, h64);
	strcat(none, strchr(tok, '.'));
	CHECK_EQ(verify_tok(none, true), TGV_ERR_BAD_SIGNATURE);
	CHECK(strstr(lastmsg, "none") != NULL);
	free(none);
	free(h64);
	free(tok);
}

/* ---- malformed */

static void
not_a_jws_is_malformed(void)
{
	static char big[TGV_ORDER_MAX + 2];

	CHECK_EQ(verify_tok("", true), TGV_ERR_MALFORMED);
	CHECK_EQ(verify_tok("hello", true), TGV_ERR_MALFORMED);
	CHECK_EQ(verify_tok("a.b", true), TGV_ERR_MALFORMED);
	CHECK_EQ(verify_tok("a.b.c.d", true), TGV_ERR_MALFORMED);
	memset(big, 'A', sizeof(big) - 1);
	CHECK_EQ(verify_tok(big, true), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "over") != NULL);
}

static void
token_with_trailing_newline_is_malformed(void)
{
	char *tok = good_token(), *nl;

	CHECK(tok != NULL && (nl = malloc(strlen(tok) + 2)) != NULL);
	strcpy(nl, tok);
	strcat(nl, "\n");
	/* the library is strict; the CLI drops one newline of a file */
	CHECK_EQ(verify_tok(nl, true), TGV_ERR_MALFORMED);
	free(nl);
	free(tok);
}

static void
payload_not_json_is_malformed(void)
{
	static const char *const bad[] = {
		"not json", "{\"a\":1}x", "[1,2]", "\"str\"",
		"{\"a\":1,\"a\":1}", "{\"a\":1.5}", "",
	};
	char *tok;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK((tok = fx_sign_bytes(F.key, bad[i], strlen(bad[i]))) !=
		    NULL);
		CHECK_EQ(verify_tok(tok, true), TGV_ERR_MALFORMED);
		free(tok);
	}
}

static void
non_canonical_payload_encoding_is_malformed(void)
{
	json_t *payload = fx_good_payload(&F);
	char *pretty = NULL, *canon = NULL, *tok = NULL, *esc = NULL, *p;
	size_t clen;

	CHECK(payload != NULL);
	CHECK(jcs_serialize(payload, &canon, &clen) == 0);
	/* the canonical bytes verify */
	CHECK((tok = fx_sign_bytes(F.key, canon, clen)) != NULL);
	CHECK_EQ(verify_tok(tok, true), 0);
	free(tok);
	/* the same JSON with spaces and another member order does not */
	CHECK((pretty = json_dumps(payload, JSON_INDENT(1))) != NULL);
	CHECK((tok = fx_sign_bytes(F.key, pretty, strlen(pretty))) != NULL);
	CHECK_EQ(verify_tok(tok, true), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "canonical") != NULL);
	free(tok);
	/* nor does an escape where RFC 8785 writes the character */
	CHECK((esc = malloc(clen + 8)) != NULL);
	p = strstr(canon, "alice");
	CHECK(p != NULL);
	snprintf(esc, clen + 8, "%.*s\\u0061%s", (int)(p - canon), canon,
	    p + 1);
	CHECK((tok = fx_sign_bytes(F.key, esc, strlen(esc))) != NULL);
	CHECK_EQ(verify_tok(tok, true), TGV_ERR_MALFORMED);
	free(tok);
	free(esc);
	free(pretty);
	free(canon);
	json_decref(payload);
}

static void
missing_ill_typed_or_unknown_members_are_malformed(void)
{
	json_t *p;

	p = fx_good_payload(&F);
	json_object_del(p, "jti");
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "jti") != NULL);

	p = fx_good_payload(&F);
	json_object_set_new(p, "exp", json_string("tomorrow"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);

	p = fx_good_payload(&F);
	json_object_set_new(p, "exp", json_integer(-5));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);

	p = fx_good_payload(&F);
	json_object_set_new(p, "jti", json_string("not-hex"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);

	p = fx_good_payload(&F);
	json_object_set_new(p, "admin", json_true());
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "admin") != NULL);

	p = fx_good_payload(&F);
	json_object_set_new(p, "approvals", json_object());
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);

	p = fx_good_payload(&F);
	json_object_set_new(json_array_get(json_object_get(p, "approvals"),
	    0), "signature", json_string("not base64!"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);

	p = fx_good_payload(&F);
	json_object_set_new(json_array_get(json_object_get(p, "approvals"),
	    1), "alg", json_string("RS256"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);

	p = fx_good_payload(&F);
	json_object_set_new(p, "change_digest", json_string("AAAA"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
}

static void
audit_anchor_is_read_shown_and_checked(void)
{
	static const char hash[] =
	    "05bdfd92042f7c5be27f99ef4ada563d185fafd892cbad1af87224b713f1fb15";
	struct tgv_ctx *ctx = NULL;
	struct tgv_order *o = NULL;
	json_t *p, *back = NULL;
	const char *h = NULL;
	char *tok = NULL, *json = NULL;
	int64_t seq = -1;
	size_t len;

	/* an order from before anchors has none */
	CHECK((ctx = ctx_new(true)) != NULL);
	CHECK((tok = good_token()) != NULL);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK(!tgv_order_audit_anchor(o, &seq, &h));
	CHECK_EQ(tgv_order_to_json(o, &json, &len), 0);
	CHECK(strstr(json, "\"audit\"") == NULL);
	free(json);
	json = NULL;
	tgv_order_free(&o);
	free(tok);
	/* with one: under the signature, read and shown */
	p = fx_good_payload(&F);
	json_object_set_new(p, "audit", json_pack("{s:i,s:s}", "seq", 41,
	    "hash", hash));
	CHECK((tok = fx_sign(F.key, p)) != NULL);
	json_decref(p);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK(tgv_order_audit_anchor(o, &seq, &h));
	CHECK_EQ(seq, 41);
	CHECK(strcmp(h, hash) == 0);
	CHECK_EQ(tgv_order_to_json(o, &json, &len), 0);
	CHECK((back = json_loads(json, 0, NULL)) != NULL);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(back,
	    "audit"), "seq")), 41);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(back,
	    "audit"), "hash")), hash) == 0);
	json_decref(back);
	free(json);
	tgv_order_free(&o);
	free(tok);
	tgv_ctx_free(&ctx);
	/* its shape is checked like every member */
	p = fx_good_payload(&F);
	json_object_set_new(p, "audit", json_pack("{s:i,s:s,s:b}", "seq", 41,
	    "hash", hash, "extra", 1));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "order.audit") != NULL);
	p = fx_good_payload(&F);
	json_object_set_new(p, "audit", json_pack("{s:i}", "seq", 41));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
	p = fx_good_payload(&F);
	json_object_set_new(p, "audit", json_pack("{s:i,s:s}", "seq", -1,
	    "hash", hash));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
	p = fx_good_payload(&F);
	json_object_set_new(p, "audit", json_pack("{s:i,s:s}", "seq", 41,
	    "hash", "05BDFD92"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
	p = fx_good_payload(&F);
	json_object_set_new(p, "audit", json_string("41:abc"));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_MALFORMED);
}

static void
malformed_change_is_refused(void)
{
	json_t *c, *p;

	/* each variant gets a matching change_digest: only the shape fails */
	c = fx_change("alice", FX_AUD);
	json_object_set_new(c, "typ", json_string("tapgate-change/v2"));
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);

	c = fx_change("alice", FX_AUD);
	json_object_del(json_object_get(c, "target"), "account");
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "account") != NULL);

	c = fx_change("alice", FX_AUD);
	json_object_set_new(c, "changes", json_string("all"));
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);

	c = fx_change("ali\x01" "ce", FX_AUD);
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);

	/* requester.ticket may be absent */
	c = fx_change("alice", FX_AUD);
	json_object_del(json_object_get(c, "requester"), "ticket");
	json_object_set_new(json_object_get(c, "target"), "class",
	    json_string("standard"));
	json_object_set_new(json_object_get(c, "policy"),
	    "approvals_required", json_array());
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), 0);
}

/* change (a fixture change) with member "evidence" set to ev, verified */
static int
verify_with_evidence(json_t *ev)
{
	json_t *c, *p;

	c = fx_change("alice", FX_AUD);
	json_object_set_new(c, "evidence", ev);
	/* a standard account without approvals: only the shape is judged */
	json_object_set_new(json_object_get(c, "target"), "class",
	    json_string("standard"));
	json_object_set_new(json_object_get(c, "policy"),
	    "approvals_required", json_array());
	p = fx_payload(c, NULL);
	json_decref(c);
	return verify_payload(p, false);
}

/*
 * change.evidence, the evidence an order rests on: absent (older orders)
 * or exactly {type, channel, origin, verified_by} per item, from their
 * vocabularies; anything else is refused, not ignored.
 */
static void
order_evidence_list_is_checked_strictly(void)
{
	CHECK_EQ(verify_with_evidence(json_pack("[{s:s,s:s,s:s,s:s},"
	    "{s:s,s:s,s:s,s:s}]", "type", "out_of_band_callback", "channel",
	    "sms", "origin", "appliance", "verified_by", "tapgate", "type",
	    "identity_document", "channel", "video", "origin", "officer",
	    "verified_by", "officer-ann")), 0);
	CHECK_EQ(verify_with_evidence(json_array()), 0);
	/* a member beyond the four: a code or a contact would hide there */
	CHECK_EQ(verify_with_evidence(json_pack("[{s:s,s:s,s:s,s:s,s:s}]",
	    "type", "out_of_band_callback", "channel", "sms", "origin",
	    "appliance", "verified_by", "tapgate", "destination",
	    "+1555")), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "unknown member \"destination\" in "
	    "change.evidence[0]") != NULL);
	CHECK_EQ(verify_with_evidence(json_pack("[{s:s,s:s,s:s,s:s}]",
	    "type", "out_of_band_callback", "channel", "sms", "origin",
	    "oracle", "verified_by", "tapgate")), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "change.evidence[0].origin") != NULL);
	CHECK_EQ(verify_with_evidence(json_pack("[{s:s,s:s,s:s,s:s}]",
	    "type", "fax", "channel", "sms", "origin", "agent",
	    "verified_by", "root")), TGV_ERR_MALFORMED);
	CHECK_EQ(verify_with_evidence(json_pack("[{s:s,s:s,s:s}]",
	    "type", "fax", "channel", "sms", "origin", "agent")),
	    TGV_ERR_MALFORMED);
	CHECK_EQ(verify_with_evidence(json_string("all")), TGV_ERR_MALFORMED);
}

/*
 * The appliance signed it, and the digest matches, but the change is not
 * what its queue allows: a password reset that also adds the account to
 * Domain Admins is refused downstream too.
 */
static void
change_outside_its_queue_vocabulary_is_refused(void)
{
	json_t *c, *p;

	c = fx_change("alice", FX_AUD);
	json_object_set_new(json_object_get(c, "changes"), "add_groups",
	    json_pack("[s]", "cn=Domain Admins,cn=Users,dc=corp,dc=test"));
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	CHECK(strcmp(lastmsg, "change.changes.add_groups: unknown for queue "
	    "password_reset") == 0);

	c = fx_change("alice", FX_AUD);
	json_object_del(json_object_get(c, "changes"),
	    "force_change_at_logon");
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	CHECK(strcmp(lastmsg, "change.changes.force_change_at_logon: missing "
	    "(required for queue password_reset)") == 0);

	/* the same change under another queue is judged by that queue */
	c = fx_change("alice", FX_AUD);
	json_object_set_new(c, "queue", json_string("reactivation"));
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "unknown for queue reactivation") != NULL);

	c = fx_change("alice", FX_AUD);
	json_object_set_new(c, "queue", json_string("fax_reset"));
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "no change vocabulary") != NULL);
}

/* ---- change and digest */

static void
changed_change_is_refused(void)
{
	json_t *p = fx_good_payload(&F);

	CHECK(p != NULL);
	/* signed by the appliance, but not the change that was approved */
	json_object_set_new(json_object_get(json_object_get(p, "change"),
	    "target"), "account", json_string("mallory"));
	CHECK_EQ(verify_payload(p, false), TGV_ERR_DIGEST_MISMATCH);
	CHECK(strstr(lastmsg, FX_REQUEST_ID) != NULL);
}

static void
changed_digest_is_refused(void)
{
	json_t *p = fx_good_payload(&F), *other = fx_change("bob", FX_AUD);
	char digest[44];

	CHECK(p != NULL && other != NULL);
	CHECK(fx_change_digest(other, digest) == 0);
	json_object_set_new(p, "change_digest", json_string(digest));
	CHECK_EQ(verify_payload(p, false), TGV_ERR_DIGEST_MISMATCH);
	json_decref(other);
}

/* ---- audience, issuer, time */

static void
order_for_another_audience_is_refused(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	char *tok = good_token();

	CHECK(ctx != NULL && tok != NULL);
	CHECK_EQ(tgv_set_audience(ctx, "payments"), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), TGV_ERR_WRONG_AUDIENCE);
	CHECK(strstr(lastmsg, "payments") != NULL);
	free(tok);
	tgv_ctx_free(&ctx);
}

static void
aud_other_than_target_system_is_refused(void)
{
	json_t *c = fx_change("alice", "payments"), *p = fx_payload(c, NULL);

	json_decref(c);
	CHECK(p != NULL);
	/* aud is ours, but the change is for another system */
	CHECK_EQ(verify_payload(p, false), TGV_ERR_WRONG_AUDIENCE);
	CHECK(strstr(lastmsg, "target system") != NULL);
}

static void
order_from_another_issuer_is_refused(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	char *tok = good_token();

	CHECK(ctx != NULL && tok != NULL);
	CHECK_EQ(tgv_set_issuer(ctx, "tapgate-02"), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), TGV_ERR_WRONG_ISSUER);
	CHECK_EQ(tgv_set_issuer(ctx, FX_ISS), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), 0);
	CHECK_EQ(tgv_set_issuer(ctx, NULL), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, NULL), 0);
	free(tok);
	tgv_ctx_free(&ctx);
}

static void
order_not_yet_valid_is_refused_with_leeway_edges(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	char *tok = good_token();

	CHECK(ctx != NULL && tok != NULL);
	/* default leeway 60: valid from FX_NBF - 60 */
	CHECK_EQ(verify_with(ctx, tok, FX_NBF - 60, NULL), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NBF - 61, NULL),
	    TGV_ERR_NOT_YET_VALID);
	CHECK_EQ(verify_with(ctx, tok, 0, NULL), TGV_ERR_NOT_YET_VALID);
	CHECK_EQ(tgv_set_leeway(ctx, 0), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NBF, NULL), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_NBF - 1, NULL),
	    TGV_ERR_NOT_YET_VALID);
	CHECK_EQ(tgv_set_leeway(ctx, TGV_LEEWAY_MAX + 1), TGV_ERR_INVALID);
	CHECK_EQ(tgv_set_leeway(ctx, -1), TGV_ERR_INVALID);
	free(tok);
	tgv_ctx_free(&ctx);
}

static void
expired_order_is_refused_with_leeway_edges(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	char *tok = good_token();

	CHECK(ctx != NULL && tok != NULL);
	/* default leeway 60: expired from FX_EXP + 60 on */
	CHECK_EQ(verify_with(ctx, tok, FX_EXP + 59, NULL), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_EXP + 60, NULL), TGV_ERR_EXPIRED);
	CHECK(strstr(lastmsg, "expired at") != NULL);
	CHECK_EQ(tgv_set_leeway(ctx, 0), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_EXP - 1, NULL), 0);
	CHECK_EQ(verify_with(ctx, tok, FX_EXP, NULL), TGV_ERR_EXPIRED);
	CHECK_EQ(verify_with(ctx, tok, -1, NULL), TGV_ERR_INVALID);
	free(tok);
	tgv_ctx_free(&ctx);
}

/* ---- approvals */

static void
approval_for_another_change_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();
	json_t *other = fx_change("bob", FX_AUD);
	char digest[44], cd[256];

	CHECK(other != NULL && fx_change_digest(other, digest) == 0);
	json_decref(other);
	fx_client_data(cd, sizeof(cd), "webauthn.get", digest, FX_ORIGIN);
	o.client_data = cd;
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "another change") != NULL);
}

static void
approval_with_wrong_origin_or_type_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();
	json_t *c = fx_change("alice", FX_AUD);
	char digest[44], cd[256];

	CHECK(c != NULL && fx_change_digest(c, digest) == 0);
	json_decref(c);
	o.client_data = cd;
	fx_client_data(cd, sizeof(cd), "webauthn.get", digest,
	    "https://evil.example");
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "origin") != NULL);
	fx_client_data(cd, sizeof(cd), "webauthn.create", digest, FX_ORIGIN);
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	snprintf(cd, sizeof(cd), "{\"type\":\"webauthn.get\",\"challenge\":"
	    "\"%s\",\"origin\":\"%s\",\"crossOrigin\":true}", digest,
	    FX_ORIGIN);
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	snprintf(cd, sizeof(cd), "not json");
	CHECK_EQ(try_one(FX_BEN, o), TGV_ERR_APPROVAL);
	/* members WebAuthn may add are fine */
	snprintf(cd, sizeof(cd), "{\"type\":\"webauthn.get\",\"challenge\":"
	    "\"%s\",\"origin\":\"%s\",\"other_keys_can_be_added_here\":1}",
	    digest, FX_ORIGIN);
	CHECK_EQ(try_one(FX_BEN, o), 0);
}

static const uint8_t console_nonce[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
    29, 30, 31, 32 };

static void
console_approval_verifies_with_its_nonce(void)
{
	struct fx_approval_opts o[2] = { fx_approval_opts_default(),
	    fx_approval_opts_default() };
	int who[2] = { FX_ANN, FX_BEN };

	o[0].nonce = console_nonce;
	CHECK_EQ(try_one(FX_ANN, o[0]), 0);
	CHECK_EQ(try_one(FX_BEN, o[0]), 0);
	/* one from the console, one at the box */
	CHECK_EQ(try_approvals(2, who, o, 2), 0);
}

static void
console_approval_is_held_to_its_nonce_and_origin(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();
	json_t *c = fx_change("alice", FX_AUD);
	uint8_t other[32];
	char digest[44], cd[400];

	CHECK(c != NULL && fx_change_digest(c, digest) == 0);
	json_decref(c);
	o.nonce = console_nonce;
	o.client_data = cd;
	/* the nonce the order carries is not the one signed */
	memcpy(other, console_nonce, sizeof(other));
	other[0] ^= 1;
	fx_console_client_data(cd, sizeof(cd), digest, other,
	    FX_CONSOLE_ORIGIN);
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "another change") != NULL);
	/* the box's challenge (the digest alone) under a nonce */
	fx_client_data(cd, sizeof(cd), "webauthn.get", digest,
	    FX_CONSOLE_ORIGIN);
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	/* origins: not https, another site, a look-alike of the rp_id */
	fx_console_client_data(cd, sizeof(cd), digest, console_nonce,
	    "http://console." FX_RP_ID);
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "origin") != NULL);
	fx_console_client_data(cd, sizeof(cd), digest, console_nonce,
	    "https://evil.example");
	CHECK_EQ(try_one(FX_BEN, o), TGV_ERR_APPROVAL);
	fx_console_client_data(cd, sizeof(cd), digest, console_nonce,
	    "https://evil" FX_RP_ID);
	CHECK_EQ(try_one(FX_BEN, o), TGV_ERR_APPROVAL);
	/* an embedded frame's */
	fx_console_client_data(cd, sizeof(cd), digest, console_nonce,
	    FX_CONSOLE_ORIGIN "\",\"topOrigin\":\"https://evil.example");
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "topOrigin") != NULL);
	/* the rp_id itself is an origin too */
	fx_console_client_data(cd, sizeof(cd), digest, console_nonce,
	    FX_ORIGIN);
	CHECK_EQ(try_one(FX_ANN, o), 0);
}

static void
approval_without_uv_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	o.flags = TOKEN_FLAG_UP;
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "verification") != NULL);
	CHECK_EQ(try_one(FX_BEN, o), TGV_ERR_APPROVAL);
}

static void
approval_without_up_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	o.flags = TOKEN_FLAG_UV;
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK_EQ(try_one(FX_BEN, o), TGV_ERR_APPROVAL);
}

static void
approval_with_flags_zero_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	/* libfido2 alone would accept this one (FIDO-NOTES) */
	o.flags = 0x00;
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK_EQ(try_one(FX_BEN, o), TGV_ERR_APPROVAL);
	o.flags = FX_FLAGS_OK | TOKEN_FLAG_ED;
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
}

static void
approval_with_wrong_rpid_hash_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	o.rp_id = "tapgate.evil";
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "rpId") != NULL);
}

static void
approval_with_any_counter_verifies_offline(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	/* the counter is the appliance's to check; offline it cannot be */
	o.counter = 0;
	CHECK_EQ(try_one(FX_ANN, o), 0);
	o.counter = 0xffffffffu;
	CHECK_EQ(try_one(FX_BEN, o), 0);
}

static void
approval_signed_by_unpinned_key_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();
	struct fx_key rogue;
	int who[1] = { FX_ANN }, r;

	CHECK(fx_key_init(&rogue, "officer-ann", "security_officer",
	    TOKEN_ALG_ES256, "rogue key") == 0);
	/* ann's credential id, a key that is not ann's */
	o.signer = &rogue;
	r = try_one(FX_ANN, o);
	CHECK_EQ(r, TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "signature") != NULL);
	fx_key_clear(&rogue);
	/* a credential that is not pinned at all */
	F.officer[FX_ANN].cred_id[0] ^= 1;
	o = fx_approval_opts_default();
	r = try_approvals(1, who, &o, -1);
	F.officer[FX_ANN].cred_id[0] ^= 1;
	CHECK_EQ(r, TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "not among the pinned") != NULL);
}

static void
tampered_approval_signature_is_refused(void)
{
	json_t *p = fx_good_payload(&F), *a;
	uint8_t *sig = NULL;
	size_t n;
	char *s = NULL;

	CHECK(p != NULL);
	a = json_array_get(json_object_get(p, "approvals"), 1);
	CHECK(b64url_decode(json_string_value(json_object_get(a,
	    "signature")), json_string_length(json_object_get(a,
	    "signature")), 128, &sig, &n) == 0);
	sig[5] ^= 0x40;
	CHECK(b64url_encode_alloc(sig, n, &s) == 0);
	json_object_set_new(a, "signature", json_string(s));
	CHECK_EQ(verify_payload(p, true), TGV_ERR_APPROVAL);
	free(s);
	free(sig);
}

static void
revoked_approver_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	CHECK_EQ(try_one(FX_CAT, o), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "revoked") != NULL);
}

static void
approval_naming_another_officer_or_group_is_refused(void)
{
	struct fx_approval_opts o = fx_approval_opts_default();

	o.name = "officer-ben";
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
	o = fx_approval_opts_default();
	o.group = "finance_officer";
	CHECK_EQ(try_one(FX_ANN, o), TGV_ERR_APPROVAL);
}

static void
duplicated_approver_is_refused(void)
{
	struct fx_approval_opts o[2];
	int same[2] = { FX_ANN, FX_ANN }, two[2] = { FX_ANN, FX_BEN };

	o[0] = o[1] = fx_approval_opts_default();
	o[1].counter = 43;	/* a second tap, still the same key */
	CHECK_EQ(try_approvals(2, same, o, 2), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "same approver") != NULL);
	/* two officers approve: accepted with a minimum of two */
	CHECK_EQ(try_approvals(2, two, o, 2), 0);
}

static void
fewer_than_min_approvals_is_refused(void)
{
	struct fx_approval_opts o[2];
	int two[2] = { FX_ANN, FX_BEN };

	o[0] = o[1] = fx_approval_opts_default();
	CHECK_EQ(try_approvals(1, two, o, 2), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "at least 2") != NULL);
	CHECK_EQ(try_approvals(2, two, o, 3), TGV_ERR_APPROVAL);
	CHECK_EQ(try_approvals(2, two, o, 2), 0);
	/* an admin order: one approval is the class's default floor */
	CHECK_EQ(try_approvals(0, two, o, -1), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "class admin needs at least 1") != NULL);
	/* which no minimum of 0 lowers */
	CHECK_EQ(try_approvals(0, two, o, 0), TGV_ERR_APPROVAL);
	CHECK_EQ(try_approvals(1, two, o, 0), 0);
}

/*
 * An order of class klass whose policy object carries approvals_required
 * req (JSON text; NULL: the member is absent, as from older appliances),
 * approved by the first n of ann and ben, verified with the approvers
 * pinned or not and, when fclass is not NULL, that class's floor set to
 * fn.
 */
static int
try_required(const char *klass, const char *req, size_t n, bool pinned,
    const char *fclass, unsigned int fn)
{
	struct fx_approval_opts opts = fx_approval_opts_default();
	struct tgv_ctx *ctx = NULL;
	json_t *change, *approvals = json_array(), *payload;
	char digest[44], *tok = NULL;
	size_t i;
	int r = -9990;

	change = fx_change("alice", FX_AUD);
	if (change == NULL || approvals == NULL)
		goto out;
	json_object_set_new(json_object_get(change, "target"), "class",
	    json_string(klass));
	if (req == NULL)
		json_object_del(json_object_get(change, "policy"),
		    "approvals_required");
	else if (json_object_set_new(json_object_get(change, "policy"),
	    "approvals_required", json_loads(req, 0, NULL)) != 0)
		goto out;
	if (fx_change_digest(change, digest) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(approvals, fx_approval(
		    &F.officer[i == 0 ? FX_ANN : FX_BEN], digest, &opts)) != 0)
			goto out;
	payload = fx_payload(change, approvals);
	approvals = NULL;
	tok = fx_sign(F.key, payload);
	json_decref(payload);
	if (tok == NULL || (ctx = ctx_new(pinned)) == NULL ||
	    (fclass != NULL && tgv_set_class_floor(ctx, fclass, fn) != 0))
		goto out;
	r = verify_with(ctx, tok, FX_NOW, NULL);
out:
	tgv_ctx_free(&ctx);
	free(tok);
	json_decref(change);
	json_decref(approvals);
	return r;
}

/*
 * An order whose change carries the directory's facts: target.dn and
 * privileged_groups, entitlements_dropped.groups (each JSON text, NULL:
 * absent), approved by ann and ben, verified pinned.
 */
static int
try_facts(const char *dn, const char *priv, const char *groups)
{
	struct fx_approval_opts opts = fx_approval_opts_default();
	struct tgv_ctx *ctx = NULL;
	json_t *change, *approvals = json_array(), *payload, *t, *e;
	char digest[44], *tok = NULL;
	int r = -9990;

	change = fx_change("alice", FX_AUD);
	if (change == NULL || approvals == NULL)
		goto out;
	t = json_object_get(change, "target");
	e = json_object_get(change, "entitlements_dropped");
	if ((dn != NULL && json_object_set_new(t, "dn", json_string(dn))) ||
	    (priv != NULL && json_object_set_new(t, "privileged_groups",
	    json_loads(priv, 0, NULL))) || (groups != NULL &&
	    json_object_set_new(e, "groups", json_loads(groups, 0, NULL))))
		goto out;
	if (fx_change_digest(change, digest) != 0 ||
	    json_array_append_new(approvals, fx_approval(&F.officer[FX_ANN],
	    digest, &opts)) != 0 || json_array_append_new(approvals,
	    fx_approval(&F.officer[FX_BEN], digest, &opts)) != 0)
		goto out;
	payload = fx_payload(change, approvals);
	approvals = NULL;
	tok = fx_sign(F.key, payload);
	json_decref(payload);
	if (tok == NULL || (ctx = ctx_new(true)) == NULL)
		goto out;
	r = verify_with(ctx, tok, FX_NOW, NULL);
out:
	tgv_ctx_free(&ctx);
	free(tok);
	json_decref(change);
	json_decref(approvals);
	return r;
}

#define FDN	"uid=alice,ou=people,dc=corp"
#define FDA	"[\"cn=Domain Admins,ou=groups,dc=corp\"]"

static void
order_names_the_dn_and_the_groups_it_drops(void)
{
	/* the facts, all three together, or none (an older appliance) */
	CHECK_EQ(try_facts(FDN, FDA, FDA), 0);
	CHECK_EQ(try_facts(FDN, FDA, "[]"), 0);
	CHECK_EQ(try_facts(NULL, NULL, NULL), 0);
	CHECK_EQ(try_facts(FDN, NULL, NULL), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "come together") != NULL);
	CHECK_EQ(try_facts(FDN, FDA, NULL), TGV_ERR_MALFORMED);
	/* a group dropped that the target does not hold */
	CHECK_EQ(try_facts(FDN, "[]", FDA), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "not among") != NULL);
	CHECK_EQ(try_facts(FDN, FDA, "[1]"), TGV_ERR_MALFORMED);
	CHECK_EQ(try_facts("", FDA, FDA), TGV_ERR_MALFORMED);
}

/*
 * A DN as long as the appliance keeps one (DIR_DN_MAX, 512 bytes) is
 * read, in target.dn and in the group lists; one byte more is not.
 */
static void
order_takes_dns_as_long_as_the_appliance_keeps(void)
{
	char dn[600], groups[700];
	size_t n;

	memcpy(dn, "uid=", 4);
	for (n = 4; n < 512 - strlen(",dc=corp"); n++)
		dn[n] = 'a';
	strcpy(dn + n, ",dc=corp");
	CHECK_EQ(strlen(dn), 512);
	snprintf(groups, sizeof(groups), "[\"cn=%.*s,dc=corp\"]",
	    (int)(512 - strlen("cn=,dc=corp")), dn + 4);
	CHECK_EQ(try_facts(dn, groups, groups), 0);
	strcat(dn, "a");
	CHECK_EQ(try_facts(dn, FDA, FDA), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "512") != NULL);
}

#define SO2	"[{\"group\":\"security_officer\",\"count\":2}]"

static void
order_needs_the_approvals_its_policy_required(void)
{
	/* what the policy required, held to the verified approvals */
	CHECK_EQ(try_required("admin", SO2, 2, true, NULL, 0), 0);
	CHECK_EQ(try_required("admin", SO2, 1, true, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK(strcmp(lastmsg, "the order's policy required 2 approvals of "
	    "security_officer, 1 verified") == 0);
	CHECK_EQ(try_required("admin", "[{\"group\":\"finance_controller\","
	    "\"count\":1}]", 2, true, NULL, 0), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "1 approval of finance_controller, 0 verified")
	    != NULL);
	/* a standard order the policy let through untouched passes, pinned
	 * or not */
	CHECK_EQ(try_required("standard", "[]", 0, true, NULL, 0), 0);
	CHECK_EQ(try_required("standard", "[]", 0, false, NULL, 0), 0);
	/* one that needed approvals does not pass unpinned */
	CHECK_EQ(try_required("standard", SO2, 2, false, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "no approvers file") != NULL);
	/* an order from before approvals_required: the floor alone */
	CHECK_EQ(try_required("admin", NULL, 1, true, NULL, 0), 0);
	CHECK_EQ(try_required("standard", NULL, 0, true, NULL, 0), 0);
}

static void
class_floor_refuses_untouched_privileged_orders(void)
{
	/* an appliance whose policy asked for nothing: the floor still does */
	CHECK_EQ(try_required("admin", "[]", 0, true, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK(strcmp(lastmsg, "class admin needs at least 1 verified approval "
	    "here, the order has 0") == 0);
	CHECK_EQ(try_required("finance", "[]", 0, true, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK_EQ(try_required("shared", "[]", 0, true, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK_EQ(try_required("admin", "[]", 1, true, NULL, 0), 0);
	/* approvals nobody checked count for nothing */
	CHECK_EQ(try_required("admin", "[]", 2, false, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "no approvers file") != NULL);
	/* a class this verifier does not know takes the highest floor */
	CHECK_EQ(try_required("delegated_admin", "[]", 0, true, NULL, 0),
	    TGV_ERR_APPROVAL);
	CHECK_EQ(try_required("delegated_admin", "[]", 0, true, "admin", 2),
	    TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "at least 2") != NULL);
	/* the verifying system raises a floor ... */
	CHECK_EQ(try_required("admin", SO2, 2, true, "admin", 3),
	    TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "class admin needs at least 3") != NULL);
	CHECK_EQ(try_required("standard", "[]", 0, true, "standard", 1),
	    TGV_ERR_APPROVAL);
	/* ... and a lower floor lowers nothing the order required */
	CHECK_EQ(try_required("admin", SO2, 1, true, "admin", 0),
	    TGV_ERR_APPROVAL);
	CHECK_EQ(try_required("admin", "[]", 0, true, "admin", 0), 0);
}

static void
malformed_approvals_required_is_refused(void)
{
	static const char *const bad[] = {
		"{}",
		"[{\"group\":\"security_officer\",\"count\":0}]",
		"[{\"group\":\"security_officer\",\"count\":17}]",
		"[{\"group\":\"security_officer\",\"count\":\"2\"}]",
		"[{\"group\":\"\",\"count\":1}]",
		"[{\"group\":\"security_officer\"}]",
		"[{\"group\":\"a\",\"count\":1,\"any\":true}]",
		"[{\"group\":\"a\",\"count\":1},"
		    "{\"group\":\"a\",\"count\":1}]",
	};
	struct tgv_ctx *ctx = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (try_required("admin", bad[i], 2, true, NULL, 0) !=
		    TGV_ERR_MALFORMED)
			printf("#   %s: %s\n", bad[i], lastmsg);
		CHECK_EQ(try_required("admin", bad[i], 2, true, NULL, 0),
		    TGV_ERR_MALFORMED);
	}
	/* the floors a system may set */
	CHECK_EQ(tgv_ctx_new(&ctx), 0);
	CHECK_EQ(tgv_set_class_floor(ctx, "Admin", 1), TGV_ERR_INVALID);
	CHECK_EQ(tgv_set_class_floor(ctx, "", 1), TGV_ERR_INVALID);
	CHECK_EQ(tgv_set_class_floor(ctx, NULL, 1), TGV_ERR_INVALID);
	CHECK_EQ(tgv_set_class_floor(ctx, "admin", TGV_APPROVALS_MAX + 1),
	    TGV_ERR_INVALID);
	for (i = 0; i < TGV_CLASSES_MAX - 4; i++) {
		char name[16];

		snprintf(name, sizeof(name), "class_%zu", i);
		CHECK_EQ(tgv_set_class_floor(ctx, name, 1), 0);
	}
	CHECK_EQ(tgv_set_class_floor(ctx, "one_too_many", 1),
	    TGV_ERR_INVALID);
	CHECK_EQ(tgv_set_class_floor(ctx, "admin", 2), 0);
	tgv_ctx_free(&ctx);
}

static void
order_from_another_appliance_is_refused_by_its_pins(void)
{
	json_t *c = fx_change("alice", FX_AUD), *p;

	CHECK(c != NULL);
	json_object_set_new(c, "appliance", json_string("tapgate-02"));
	p = fx_payload(c, NULL);
	json_decref(c);
	CHECK_EQ(verify_payload(p, true), TGV_ERR_APPROVAL);
	CHECK(strstr(lastmsg, "tapgate-02") != NULL);
}

/* ---- the approvers file and the JWKS */

static void
bad_approvers_files_are_refused(void)
{
	static const char *const bad[] = {
		"", "[]", "{}",
		"{\"rp_id\":\"Tapgate.Local\",\"appliance\":\"a\","
		"\"approvers\":[]}",
		"{\"rp_id\":\"x\",\"appliance\":\"a\",\"approvers\":{}}",
		/* no revoked flag */
		"{\"rp_id\":\"x\",\"appliance\":\"a\",\"approvers\":[{\"name\":"
		"\"n\",\"group\":\"g\",\"credential_id\":\"AQ\",\"alg\":"
		"\"EdDSA\",\"public_key\":"
		"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
		/* a P-256 "key" that is not on the curve */
		"{\"rp_id\":\"x\",\"appliance\":\"a\",\"approvers\":[{\"name\":"
		"\"n\",\"group\":\"g\",\"credential_id\":\"AQ\",\"alg\":"
		"\"ES256\",\"public_key\":"
		"\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"\",\"revoked\":false}]}",
	};
	struct tgv_ctx *ctx = NULL;
	struct fx_key dup[2];
	char *doc;
	size_t i;

	CHECK(tgv_ctx_new(&ctx) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(tgv_load_approvers(ctx, bad[i], strlen(bad[i])),
		    TGV_ERR_CONFIG);
		CHECK(*tgv_errmsg(ctx) != '\0');
	}
	/* two entries, one credential */
	dup[0] = F.officer[FX_ANN];
	dup[1] = F.officer[FX_ANN];
	snprintf(dup[1].name, sizeof(dup[1].name), "officer-zed");
	CHECK((doc = fx_approvers_doc(FX_RP_ID, FX_APPLIANCE, dup, 2)) !=
	    NULL);
	CHECK_EQ(tgv_load_approvers(ctx, doc, strlen(doc)), TGV_ERR_CONFIG);
	CHECK(strstr(tgv_errmsg(ctx), "same credential_id") != NULL);
	free(doc);
	/* a good one loads, once */
	CHECK_EQ(tgv_load_approvers(ctx, F.approvers, strlen(F.approvers)),
	    0);
	CHECK_EQ(tgv_load_approvers(ctx, F.approvers, strlen(F.approvers)),
	    TGV_ERR_INVALID);
	CHECK_EQ(tgv_load_approvers_file(ctx, "/nonexistent/approvers.json"),
	    TGV_ERR_IO);
	CHECK_EQ(tgv_load_jwks(ctx, "{\"keys\":[]}", 11), TGV_ERR_CONFIG);
	CHECK_EQ(tgv_load_jwks_file(ctx, "/nonexistent/jwks.json"),
	    TGV_ERR_IO);
	tgv_ctx_free(&ctx);
}

static void
verify_needs_keys_and_audience(void)
{
	struct tgv_ctx *ctx = NULL;
	struct tgv_order *o = NULL;
	char *tok = good_token();

	CHECK(tok != NULL && tgv_ctx_new(&ctx) == 0);
	CHECK_EQ(tgv_verify(ctx, tok, strlen(tok), FX_NOW, &o),
	    TGV_ERR_INVALID);
	CHECK_EQ(tgv_load_jwks(ctx, F.jwks, strlen(F.jwks)), 0);
	CHECK_EQ(tgv_verify(ctx, tok, strlen(tok), FX_NOW, &o),
	    TGV_ERR_INVALID);
	CHECK(strstr(tgv_errmsg(ctx), "audience") != NULL);
	CHECK_EQ(tgv_set_audience(ctx, ""), TGV_ERR_INVALID);
	CHECK_EQ(tgv_set_audience(ctx, FX_AUD), 0);
	CHECK_EQ(tgv_verify(ctx, tok, strlen(tok), FX_NOW, NULL),
	    TGV_ERR_INVALID);
	/* an admin order's approvals count only once they are verified */
	CHECK_EQ(tgv_verify(ctx, tok, strlen(tok), FX_NOW, &o),
	    TGV_ERR_APPROVAL);
	CHECK(o == NULL &&
	    strstr(tgv_errmsg(ctx), "no approvers file") != NULL);
	CHECK_EQ(tgv_load_approvers(ctx, F.approvers, strlen(F.approvers)),
	    0);
	CHECK_EQ(tgv_verify(ctx, tok, strlen(tok), FX_NOW, &o), 0);
	CHECK(o != NULL);
	CHECK(strcmp(tgv_order_target_class(o), "admin") == 0);
	CHECK_EQ(tgv_verify(NULL, tok, strlen(tok), FX_NOW, &o),
	    TGV_ERR_INVALID);
	CHECK(strcmp(tgv_strerror(TGV_ERR_EXPIRED), "expired") == 0);
	CHECK(strcmp(tgv_strerror(TGV_ERR_APPROVAL),
	    "bad or missing approver assertion") == 0);
	tgv_order_free(&o);
	tgv_ctx_free(&ctx);
	free(tok);
}

static void
messages_do_not_carry_control_characters(void)
{
	json_t *c = fx_change("alice", FX_AUD), *p;
	size_t i;

	CHECK(c != NULL);
	p = fx_payload(c, NULL);
	json_decref(c);
	json_object_set_new(p, "aud", json_string("\x1b]0;pwned\x07"));
	/* rejected as malformed (control characters) before any echo */
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	p = fx_good_payload(&F);
	json_object_set_new(p, "x\x1b[31m", json_true());
	CHECK_EQ(verify_payload(p, false), TGV_ERR_MALFORMED);
	for (i = 0; lastmsg[i] != '\0'; i++)
		CHECK((unsigned char)lastmsg[i] >= 0x20 &&
		    (unsigned char)lastmsg[i] < 0x7f);
}

/* ---- redemption */

static void
redeemed_twice_is_refused_and_the_first_is_durable(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	struct tgv_order *o = NULL;
	char *tok = good_token(), db[128];
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;

	CHECK(ctx != NULL && tok != NULL);
	snprintf(db, sizeof(db), "%s/redeemed.db", tmpdir);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK_EQ(tgv_redeem(db, o, FX_NOW), 0);
	CHECK(stat(db, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK_EQ(tgv_redeem(db, o, FX_NOW + 1), TGV_ERR_REDEEMED);
	tgv_order_free(&o);
	/* a fresh verification of the same token changes nothing */
	CHECK_EQ(verify_with(ctx, tok, FX_NOW + 5, &o), 0);
	CHECK_EQ(tgv_redeem(db, o, FX_NOW + 5), TGV_ERR_REDEEMED);
	/* the record is on disk, as another process sees it */
	CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK);
	CHECK(sqlite3_prepare_v2(h, "SELECT iss, aud, exp, redeemed_at FROM "
	    "redeemed WHERE jti = ?1", -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_bind_text(st, 1, FX_JTI, -1, SQLITE_STATIC) ==
	    SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK(strcmp((const char *)sqlite3_column_text(st, 0), FX_ISS) == 0);
	CHECK(strcmp((const char *)sqlite3_column_text(st, 1), FX_AUD) == 0);
	CHECK_EQ(sqlite3_column_int64(st, 2), FX_EXP);
	CHECK_EQ(sqlite3_column_int64(st, 3), FX_NOW);
	CHECK(sqlite3_step(st) == SQLITE_DONE);
	sqlite3_finalize(st);
	st = NULL;
	CHECK(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
	CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	/* an expired order is neither verified nor recorded */
	CHECK_EQ(tgv_redeem(db, o, FX_EXP + 60), TGV_ERR_EXPIRED);
	tgv_order_free(&o);
	free(tok);
	tgv_ctx_free(&ctx);
}

/* Insert a row straight into the redeem database. */
static int
db_put(const char *db, const char *jti, int64_t exp)
{
	sqlite3 *h = NULL;
	char sql[256];
	int rc;

	snprintf(sql, sizeof(sql), "INSERT INTO redeemed VALUES ('%s', 'i', "
	    "'a', %lld, 0)", jti, (long long)exp);
	if (sqlite3_open(db, &h) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc == SQLITE_OK ? 0 : -1;
}

static int
db_has(const char *db, const char *jti)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int found = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT 1 FROM redeemed WHERE jti = ?1", -1,
	    &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC) == SQLITE_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	sqlite3_close(h);
	return found;
}

static void
redeem_prunes_only_long_expired_orders(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	struct tgv_order *o = NULL;
	json_t *p = fx_good_payload(&F);
	char *tok = NULL, db[128];

	CHECK(ctx != NULL && p != NULL);
	snprintf(db, sizeof(db), "%s/prune.db", tmpdir);
	/* a first redemption creates the file */
	json_object_set_new(p, "jti", json_string(
	    "11111111111111111111111111111111"));
	CHECK((tok = fx_sign(F.key, p)) != NULL);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK_EQ(tgv_redeem(db, o, FX_NOW), 0);
	tgv_order_free(&o);
	free(tok);
	CHECK(db_put(db, "old", FX_NOW - TGV_PRUNE_AFTER - 1) == 0);
	CHECK(db_put(db, "edge", FX_NOW - TGV_PRUNE_AFTER) == 0);
	CHECK(db_put(db, "recent", FX_NOW - 10) == 0);
	json_object_set_new(p, "jti", json_string(
	    "22222222222222222222222222222222"));
	CHECK((tok = fx_sign(F.key, p)) != NULL);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	CHECK_EQ(tgv_redeem(db, o, FX_NOW), 0);
	CHECK_EQ(db_has(db, "old"), 0);
	CHECK_EQ(db_has(db, "edge"), 1);
	CHECK_EQ(db_has(db, "recent"), 1);
	CHECK_EQ(db_has(db, "11111111111111111111111111111111"), 1);
	CHECK_EQ(db_has(db, "22222222222222222222222222222222"), 1);
	tgv_order_free(&o);
	free(tok);
	json_decref(p);
	tgv_ctx_free(&ctx);
}

static void
redeem_refuses_unsafe_or_foreign_files(void)
{
	struct tgv_ctx *ctx = ctx_new(true);
	struct tgv_order *o = NULL;
	char *tok = good_token(), path[128], db[128];
	sqlite3 *h = NULL;
	FILE *f;

	CHECK(ctx != NULL && tok != NULL);
	CHECK_EQ(verify_with(ctx, tok, FX_NOW, &o), 0);
	/* a symlink planted where the database goes */
	snprintf(path, sizeof(path), "%s/link.db", tmpdir);
	snprintf(db, sizeof(db), "%s/target.db", tmpdir);
	CHECK(symlink(db, path) == 0);
	CHECK_EQ(tgv_redeem(path, o, FX_NOW), TGV_ERR_PERM);
	/* another application's database is left alone */
	snprintf(path, sizeof(path), "%s/other.db", tmpdir);
	CHECK(sqlite3_open(path, &h) == SQLITE_OK);
	CHECK(sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_close(h);
	CHECK_EQ(tgv_redeem(path, o, FX_NOW), TGV_ERR_SCHEMA);
	/* a file that is no database at all */
	snprintf(path, sizeof(path), "%s/text.db", tmpdir);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("this is not a database, not even close to one, no\n", f);
	fputs("really, it is just some text that happens to be here\n", f);
	fclose(f);
	CHECK(tgv_redeem(path, o, FX_NOW) == TGV_ERR_SCHEMA);
	CHECK_EQ(tgv_redeem("/nonexistent/dir/x.db", o, FX_NOW), TGV_ERR_IO);
	CHECK_EQ(tgv_redeem(NULL, o, FX_NOW), TGV_ERR_INVALID);
	tgv_order_free(&o);
	free(tok);
	tgv_ctx_free(&ctx);
}

/* Remove what the tests left in tmpdir. */
static void
cleanup(void)
{
	static const char *const names[] = { "redeemed.db", "prune.db",
	    "link.db", "other.db", "text.db" };
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[200];
	size_t i, j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (j = 0; j < sizeof(sfx) / sizeof(sfx[0]); j++) {
			snprintf(p, sizeof(p), "%s/%s%s", tmpdir, names[i],
			    sfx[j]);
			unlink(p);
		}
	rmdir(tmpdir);
}

/* ---- the signed revocation list */

/* A revocation list of jti (NULL: none) issued at iat, signed with typ. */
static char *
revocation_list(const char *jti, int64_t iat, const char *typ)
{
	json_t *doc;
	char *c = NULL, *jws = NULL;
	size_t n, len;

	doc = json_pack("{s:s,s:I,s:[]}", "iss", FX_ISS, "iat",
	    (json_int_t)iat, "revoked");
	if (doc != NULL && jti != NULL)
		json_array_append_new(json_object_get(doc, "revoked"),
		    json_pack("{s:s,s:I}", "jti", jti, "revoked_at",
		    (json_int_t)iat));
	if (doc != NULL && jcs_serialize(doc, &c, &n) == 0 &&
	    jws_sign_typ(F.key, typ, (const uint8_t *)c, n, &jws, &len) != 0)
		jws = NULL;
	free(c);
	json_decref(doc);
	return jws;
}

/* Load list into a fresh pinned context at now with max_age, then verify
 * the good order: the first failure. */
static int
try_list(const char *list, int64_t now, int64_t max_age)
{
	struct tgv_ctx *ctx = ctx_new(true);
	char *tok = good_token();
	int r = -9990;

	if (ctx == NULL || tok == NULL || list == NULL)
		goto out;
	r = tgv_load_revocations(ctx, list, strlen(list), now, max_age);
	snprintf(lastmsg, sizeof(lastmsg), "%s", tgv_errmsg(ctx));
	if (r == 0)
		r = verify_with(ctx, tok, FX_NOW, NULL);
out:
	tgv_ctx_free(&ctx);
	free(tok);
	return r;
}

static void
revocation_list_refuses_the_orders_it_lists(void)
{
	char *named = revocation_list(FX_JTI, FX_NOW - 10,
	    JWS_TYP_REVOCATIONS);
	char *other = revocation_list("00000000000000000000000000000001",
	    FX_NOW - 10, JWS_TYP_REVOCATIONS);
	char *empty = revocation_list(NULL, FX_NOW, JWS_TYP_REVOCATIONS);

	CHECK_EQ(try_list(named, FX_NOW, 3600), TGV_ERR_REVOKED);
	CHECK(strstr(lastmsg, FX_JTI) != NULL);
	CHECK_EQ(try_list(other, FX_NOW, 3600), 0);
	CHECK_EQ(try_list(empty, FX_NOW, 3600), 0);
	free(named);
	free(other);
	free(empty);
}

static void
revocation_list_out_of_date_is_refused(void)
{
	char *list = revocation_list(NULL, FX_NOW, JWS_TYP_REVOCATIONS);

	/* as old as allowed passes; one second more does not */
	CHECK_EQ(try_list(list, FX_NOW + 600, 600), 0);
	CHECK_EQ(try_list(list, FX_NOW + 601, 600), TGV_ERR_LIST_STALE);
	CHECK(strstr(lastmsg, "too old") != NULL);
	/* from the future: beyond the leeway (60 s by default) */
	CHECK_EQ(try_list(list, FX_NOW - 60, 600), 0);
	CHECK_EQ(try_list(list, FX_NOW - 61, 600), TGV_ERR_LIST_STALE);
	CHECK(strstr(lastmsg, "future") != NULL);
	free(list);
}

static void
revocation_list_and_order_never_pass_as_each_other(void)
{
	char *as_order = revocation_list(FX_JTI, FX_NOW, JWS_TYP);
	char *list = revocation_list(NULL, FX_NOW, JWS_TYP_REVOCATIONS);
	char *tok = good_token();

	CHECK_EQ(try_list(as_order, FX_NOW, 3600), TGV_ERR_MALFORMED);
	CHECK_EQ(try_list(tok, FX_NOW, 3600), TGV_ERR_MALFORMED);
	CHECK(strstr(lastmsg, "is an order") != NULL);
	CHECK_EQ(verify_tok(list, true), TGV_ERR_MALFORMED);
	free(as_order);
	free(list);
	free(tok);
}

static void
revocation_list_is_read_strictly(void)
{
	static const char *const bad[] = {
		/* not canonical, members missing or unknown, bad jti */
		"{\"iss\":\"tapgate-01\",\"iat\":1800000000,\"revoked\":[]}",
		"{\"iat\":1800000000,\"iss\":\"tapgate-01\"}",
		"{\"iat\":1800000000,\"iss\":\"tapgate-01\",\"revoked\":[],"
		"\"x\":1}",
		"{\"iat\":1800000000,\"iss\":\"tapgate-01\",\"revoked\":"
		"[{\"jti\":\"0F1E2D3C4B5A69788796A5B4C3D2E1F0\","
		"\"revoked_at\":1}]}",
		"{\"iat\":1800000000,\"iss\":\"tapgate-01\",\"revoked\":"
		"[{\"jti\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"}]}",
		"{\"iat\":-1,\"iss\":\"tapgate-01\",\"revoked\":[]}",
		/* the same jti twice */
		"{\"iat\":1800000000,\"iss\":\"tapgate-01\",\"revoked\":"
		"[{\"jti\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
		"\"revoked_at\":1},"
		"{\"jti\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
		"\"revoked_at\":2}]}",
	};
	char *jws;
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(jws_sign_typ(F.key, JWS_TYP_REVOCATIONS,
		    (const uint8_t *)bad[i], strlen(bad[i]), &jws, &len) == 0);
		CHECK_EQ(try_list(jws, FX_NOW, 3600), TGV_ERR_MALFORMED);
		free(jws);
	}
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/tg-verify.XXXXXX",
	    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 40 ?
	    getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL || fx_init(&F) != 0) {
		printf("not ok fixture_setup\n");
		return 1;
	}
	RUN(good_order_verifies_and_returns_the_change);
	RUN(es256_appliance_key_verifies_too);
	RUN(approvals_are_not_checked_without_an_approvers_file);
	RUN(tampered_payload_is_refused);
	RUN(order_signed_by_another_key_is_refused);
	RUN(alg_none_is_refused);
	RUN(not_a_jws_is_malformed);
	RUN(token_with_trailing_newline_is_malformed);
	RUN(payload_not_json_is_malformed);
	RUN(non_canonical_payload_encoding_is_malformed);
	RUN(missing_ill_typed_or_unknown_members_are_malformed);
	RUN(audit_anchor_is_read_shown_and_checked);
	RUN(malformed_change_is_refused);
	RUN(order_evidence_list_is_checked_strictly);
	RUN(change_outside_its_queue_vocabulary_is_refused);
	RUN(changed_change_is_refused);
	RUN(changed_digest_is_refused);
	RUN(order_for_another_audience_is_refused);
	RUN(aud_other_than_target_system_is_refused);
	RUN(order_from_another_issuer_is_refused);
	RUN(order_not_yet_valid_is_refused_with_leeway_edges);
	RUN(expired_order_is_refused_with_leeway_edges);
	RUN(approval_for_another_change_is_refused);
	RUN(approval_with_wrong_origin_or_type_is_refused);
	RUN(console_approval_verifies_with_its_nonce);
	RUN(console_approval_is_held_to_its_nonce_and_origin);
	RUN(approval_without_uv_is_refused);
	RUN(approval_without_up_is_refused);
	RUN(approval_with_flags_zero_is_refused);
	RUN(approval_with_wrong_rpid_hash_is_refused);
	RUN(approval_with_any_counter_verifies_offline);
	RUN(approval_signed_by_unpinned_key_is_refused);
	RUN(tampered_approval_signature_is_refused);
	RUN(revoked_approver_is_refused);
	RUN(approval_naming_another_officer_or_group_is_refused);
	RUN(duplicated_approver_is_refused);
	RUN(fewer_than_min_approvals_is_refused);
	RUN(order_needs_the_approvals_its_policy_required);
	RUN(order_names_the_dn_and_the_groups_it_drops);
	RUN(order_takes_dns_as_long_as_the_appliance_keeps);
	RUN(class_floor_refuses_untouched_privileged_orders);
	RUN(malformed_approvals_required_is_refused);
	RUN(order_from_another_appliance_is_refused_by_its_pins);
	RUN(bad_approvers_files_are_refused);
	RUN(verify_needs_keys_and_audience);
	RUN(messages_do_not_carry_control_characters);
	RUN(redeemed_twice_is_refused_and_the_first_is_durable);
	RUN(redeem_prunes_only_long_expired_orders);
	RUN(redeem_refuses_unsafe_or_foreign_files);
	RUN(revocation_list_refuses_the_orders_it_lists);
	RUN(revocation_list_out_of_date_is_refused);
	RUN(revocation_list_and_order_never_pass_as_each_other);
	RUN(revocation_list_is_read_strictly);
	cleanup();
	fx_free(&F);
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * The inputs of tests/e2e/verify_cli.sh: the fixture's JWKS, approvers
 * exports and orders (tests/unit/test_verify_fixture.h), written as files
 * into the directory given as argument or in $VERIFY_FIXTURE_DIR (a
 * scratch directory, removed again, when neither is given).  Each order is
 * checked with the library before it is written, and the verdict printed
 * as a test line, so tests/run.sh runs this program as a test too.
 *
 * With --fuzz-corpus DIR it writes the seed corpus of
 * tests/fuzz/fuzz_order.c instead (same keys, same "now"), each input
 * with a zero failure-injection seed in front.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/test_verify_fixture.h"
#include "common/errors.h"
#include "verify/tapgate_verify.h"

static struct fx	 F;
static struct jwk	*es_key;	/* the fixture's P-256 appliance key */
static const char	*dir;
static int		 failed;	/* checks that did not hold */

static int
put(const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;
	int ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || (f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
put_str(const char *name, const char *s)
{
	return s != NULL ? put(name, s, strlen(s)) : -1;
}

/* The fixture's change approved by who[0..n), each made with opts[i]. */
static json_t *
payload_by(const char *account, size_t n, const int *who,
    const struct fx_approval_opts *opts)
{
	json_t *change = fx_change(account, FX_AUD), *arr = json_array();
	json_t *p = NULL;
	char digest[44];
	size_t i;

	if (change == NULL || arr == NULL ||
	    fx_change_digest(change, digest) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, fx_approval(&F.officer[who[i]],
		    digest, &opts[i])) != 0)
			goto out;
	p = fx_payload(change, arr);
	arr = NULL;
out:
	json_decref(arr);
	json_decref(change);
	return p;
}

/*
 * An order of class klass whose policy required req (JSON text), approved
 * by the first n of ann and ben, each made with o.
 */
static json_t *
payload_req(const char *klass, const char *req, size_t n,
    struct fx_approval_opts o)
{
	json_t *change = fx_change("alice", FX_AUD), *arr = json_array();
	json_t *p = NULL;
	char digest[44];
	size_t i;

	if (change == NULL || arr == NULL ||
	    json_object_set_new(json_object_get(change, "target"), "class",
	    json_string(klass)) != 0 ||
	    json_object_set_new(json_object_get(change, "policy"),
	    "approvals_required", json_loads(req, 0, NULL)) != 0 ||
	    fx_change_digest(change, digest) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, fx_approval(
		    &F.officer[i == 0 ? FX_ANN : FX_BEN], digest, &o)) != 0)
			goto out;
	p = fx_payload(change, arr);
	arr = NULL;
out:
	json_decref(arr);
	json_decref(change);
	return p;
}

/* One approval, by ann, made with o. */
static json_t *
payload_one(struct fx_approval_opts o)
{
	int who = FX_ANN;

	return payload_by("alice", 1, &who, &o);
}

/* Verify tok as the CLI would with the pinned approvers: the code. */
static int
lib_verify(const char *tok, const char *jwks, bool pinned)
{
	struct tgv_ctx *ctx = NULL;
	struct tgv_order *o = NULL;
	int r = TGV_ERR_INTERNAL;

	if (tgv_ctx_new(&ctx) == 0 &&
	    tgv_load_jwks(ctx, jwks, strlen(jwks)) == 0 &&
	    tgv_set_audience(ctx, FX_AUD) == 0 &&
	    (!pinned || tgv_load_approvers(ctx, F.approvers,
	    strlen(F.approvers)) == 0))
		r = tgv_verify(ctx, tok, strlen(tok), FX_NOW, &o);
	tgv_order_free(&o);
	tgv_ctx_free(&ctx);
	return r;
}

/*
 * Sign payload (a reference is stolen), check the library says want,
 * and write the token as name.
 */
static void
order_file(const char *name, json_t *payload, const struct jwk *key,
    int want)
{
	char *tok = payload != NULL ? fx_sign(key, payload) : NULL, *nl;
	char verdict[64], *sp;
	int r;

	json_decref(payload);
	r = tok != NULL ? lib_verify(tok, F.jwks, true) : TGV_ERR_INTERNAL;
	if (r != want)
		printf("#   %s: library says %d (%s), expected %d\n", name, r,
		    tgv_strerror(r), want);
	/* a file as a connector gets it: with a final newline */
	if ((nl = tok != NULL ? malloc(strlen(tok) + 2) : NULL) != NULL) {
		strcpy(nl, tok);
		strcat(nl, "\n");
	}
	/* a test name is one word: "unknown kid" becomes unknown_kid */
	snprintf(verdict, sizeof(verdict), "%s", want == 0 ? "accepted" :
	    tgv_strerror(want));
	for (sp = verdict; (sp = strchr(sp, ' ')) != NULL; )
		*sp = '_';
	printf("%s fixture_%s_is_%s\n", r == want && put_str(name, nl) == 0 ?
	    "ok" : "not ok", name, verdict);
	if (r != want || nl == NULL)
		failed++;
	free(nl);
	free(tok);
}

static int
write_e2e_files(void)
{
	struct fx_approval_opts o[2];
	struct jwk *other = NULL;
	struct fx_key pins[3];
	json_t *p, *c;
	char *doc = NULL, *pretty, *tok, cd[256], digest[44];
	int two[2] = { FX_ANN, FX_BEN };

	o[0] = o[1] = fx_approval_opts_default();
	if (jwk_generate(JWK_ALG_EDDSA, &other) != 0)
		return -1;
	/* what a downstream system pins */
	if (put_str("jwks.json", F.jwks) != 0 ||
	    put_str("approvers.json", F.approvers) != 0 ||
	    put_str("other_jwks.json", doc = fx_jwks_doc(other)) != 0) {
		free(doc);
		jwk_free(&other);
		return -1;
	}
	free(doc);
	if (put_str("es256_jwks.json", doc = fx_jwks_doc(es_key)) != 0) {
		free(doc);
		jwk_free(&other);
		return -1;
	}
	free(doc);
	memcpy(pins, F.officer, sizeof(pins));
	pins[FX_BEN].revoked = true;	/* ben's key reported lost */
	doc = fx_approvers_doc(FX_RP_ID, FX_APPLIANCE, pins, 3);
	if (put_str("approvers_ben_revoked.json", doc) != 0) {
		free(doc);
		jwk_free(&other);
		return -1;
	}
	free(doc);
	printf("ok fixture_jwks_and_approvers_written\n");

	order_file("good.jws", payload_by("alice", 2, two, o), F.key, 0);
	order_file("es256.jws", payload_by("alice", 2, two, o), es_key,
	    TGV_ERR_UNKNOWN_KID);
	order_file("forged.jws", payload_by("alice", 2, two, o), other,
	    TGV_ERR_UNKNOWN_KID);
	/* approved for bob, then pointed at alice */
	c = fx_change("bob", FX_AUD);
	fx_change_digest(c, digest);
	json_decref(c);
	fx_client_data(cd, sizeof(cd), "webauthn.get", digest, FX_ORIGIN);
	o[0].client_data = cd;
	order_file("other_change.jws", payload_one(o[0]), F.key,
	    TGV_ERR_APPROVAL);
	o[0] = fx_approval_opts_default();
	o[0].flags = TOKEN_FLAG_UP;
	order_file("no_uv.jws", payload_one(o[0]), F.key, TGV_ERR_APPROVAL);
	order_file("no_approvals.jws", payload_by("alice", 0, two, o), F.key,
	    TGV_ERR_APPROVAL);
	/* the approvals the order's policy required, and the class floor */
	o[0] = fx_approval_opts_default();
	order_file("standard_untouched.jws", payload_req("standard", "[]", 0,
	    o[0]), F.key, 0);
	order_file("admin_untouched.jws", payload_req("admin", "[]", 0, o[0]),
	    F.key, TGV_ERR_APPROVAL);
	order_file("admin_one_of_two.jws", payload_req("admin",
	    "[{\"group\":\"security_officer\",\"count\":2}]", 1, o[0]),
	    F.key, TGV_ERR_APPROVAL);
	order_file("admin_two_of_two.jws", payload_req("admin",
	    "[{\"group\":\"security_officer\",\"count\":2}]", 2, o[0]),
	    F.key, 0);
	o[0].flags = TOKEN_FLAG_UP;
	order_file("standard_no_uv.jws", payload_req("standard", "[]", 1,
	    o[0]), F.key, TGV_ERR_APPROVAL);
	/* signed, but the change is not the one its digest names */
	o[0] = fx_approval_opts_default();
	p = payload_by("alice", 2, two, o);
	if (p != NULL)
		json_object_set_new(json_object_get(json_object_get(p,
		    "change"), "target"), "account", json_string("mallory"));
	order_file("digest_mismatch.jws", p, F.key, TGV_ERR_DIGEST_MISMATCH);

	/* the good order's JSON, pretty-printed: one order, one encoding */
	p = payload_by("alice", 2, two, o);
	pretty = p != NULL ? json_dumps(p, JSON_INDENT(2)) : NULL;
	json_decref(p);
	tok = pretty != NULL ? fx_sign_bytes(F.key, pretty, strlen(pretty)) :
	    NULL;
	if (tok == NULL || lib_verify(tok, F.jwks, true) != TGV_ERR_MALFORMED ||
	    put_str("noncanonical.jws", tok) != 0) {
		printf("not ok fixture_noncanonical.jws_is_malformed\n");
		failed++;
	} else
		printf("ok fixture_noncanonical.jws_is_malformed\n");
	free(tok);
	free(pretty);
	jwk_free(&other);
	return 0;
}

/* The failure-injection seed in front of every input (tests/fuzz/wrap.h). */
#define FUZZ_WRAP_SEED_LEN	4

/*
 * Seed i of the corpus: a zero failure-injection seed (no failures), the
 * mode byte, then the body.
 */
static int
seed(const char *name, uint8_t mode, const char *body, size_t len)
{
	uint8_t *buf;
	int r;

	if (body == NULL ||
	    (buf = calloc(1, FUZZ_WRAP_SEED_LEN + len + 1)) == NULL)
		return -1;
	buf[FUZZ_WRAP_SEED_LEN] = mode;
	memcpy(buf + FUZZ_WRAP_SEED_LEN + 1, body, len);
	r = put(name, buf, FUZZ_WRAP_SEED_LEN + len + 1);
	free(buf);
	return r;
}

/* A payload seed: mode 1 (or 3), the canonical payload (stolen). */
static int
seed_payload(const char *name, uint8_t mode, json_t *p)
{
	char *c = NULL;
	size_t n;
	int r;

	if (p == NULL || jcs_serialize(p, &c, &n) != 0)
		r = -1;
	else
		r = seed(name, mode, c, n);
	free(c);
	json_decref(p);
	return r;
}

static int
seed_token(const char *name, const struct jwk *key, json_t *p)
{
	char *tok = p != NULL ? fx_sign(key, p) : NULL;
	int r;

	json_decref(p);
	r = tok != NULL ? seed(name, 0, tok, strlen(tok)) : -1;
	free(tok);
	return r;
}

static int
write_corpus(void)
{
	struct fx_approval_opts o[2], one;
	struct fx_key rogue;
	json_t *p, *c;
	char *tok, *dot, cd[256], digest[44];
	int two[2] = { FX_ANN, FX_BEN }, same[2] = { FX_ANN, FX_ANN };
	int cat = FX_CAT, r = 0;

	o[0] = o[1] = fx_approval_opts_default();
	r |= seed_token("tok_good", F.key, payload_by("alice", 2, two, o));
	r |= seed_token("tok_good_es256", es_key,
	    payload_by("alice", 2, two, o));
	p = payload_by("alice", 2, two, o);
	tok = p != NULL ? fx_sign(F.key, p) : NULL;
	json_decref(p);
	if (tok != NULL) {
		dot = strchr(tok, '.');
		dot[5] ^= 1;
		r |= seed("tok_tampered", 0, tok, strlen(tok));
		r |= seed("tok_truncated", 0, tok, strlen(tok) / 2);
		free(tok);
	} else
		r = -1;
	r |= seed("tok_garbage", 0, "a.b.c", 5);
	/* the approvals the order's policy required: met, and not */
	r |= seed_payload("pay_required_met", 1, fx_good_payload(&F));
	r |= seed_payload("pay_required_short", 1, payload_req("admin",
	    "[{\"group\":\"security_officer\",\"count\":2}]", 1, o[0]));
	r |= seed_payload("pay_standard_untouched", 1, payload_req("standard",
	    "[]", 0, o[0]));
	r |= seed_payload("pay_good", 1, payload_by("alice", 2, two, o));
	r |= seed_payload("pay_good_unpinned", 3,
	    payload_by("alice", 2, two, o));
	r |= seed_payload("pay_no_approvals", 1,
	    payload_by("alice", 0, two, o));
	r |= seed_payload("pay_same_approver_twice", 1,
	    payload_by("alice", 2, same, o));
	r |= seed_payload("pay_revoked", 1, payload_by("alice", 1, &cat, o));
	one = fx_approval_opts_default();
	one.flags = TOKEN_FLAG_UP;
	r |= seed_payload("pay_no_uv", 1, payload_one(one));
	one.flags = 0;
	r |= seed_payload("pay_flags_zero", 1, payload_one(one));
	one.flags = FX_FLAGS_OK | TOKEN_FLAG_ED;
	r |= seed_payload("pay_ed_flag", 1, payload_one(one));
	one = fx_approval_opts_default();
	one.rp_id = "tapgate.evil";
	r |= seed_payload("pay_wrong_rpid", 1, payload_one(one));
	c = fx_change("bob", FX_AUD);
	fx_change_digest(c, digest);
	json_decref(c);
	one = fx_approval_opts_default();
	fx_client_data(cd, sizeof(cd), "webauthn.get", digest, FX_ORIGIN);
	one.client_data = cd;
	r |= seed_payload("pay_other_change", 1, payload_one(one));
	r |= fx_change_digest(c = fx_change("alice", FX_AUD), digest);
	json_decref(c);
	fx_client_data(cd, sizeof(cd), "webauthn.get", digest,
	    "https://evil.example");
	r |= seed_payload("pay_wrong_origin", 1, payload_one(one));
	one = fx_approval_opts_default();
	r |= fx_key_init(&rogue, "officer-ann", "security_officer",
	    TOKEN_ALG_ES256, "rogue key");
	one.signer = &rogue;
	r |= seed_payload("pay_unpinned_signer", 1, payload_one(one));
	fx_key_clear(&rogue);
	p = payload_by("alice", 2, two, o);
	json_object_set_new(p, "exp", json_integer(FX_NOW - 3600));
	r |= seed_payload("pay_expired", 1, p);
	p = payload_by("alice", 2, two, o);
	json_object_set_new(p, "aud", json_string("payments"));
	r |= seed_payload("pay_wrong_aud", 1, p);
	p = payload_by("alice", 2, two, o);
	json_object_set_new(json_object_get(json_object_get(p, "change"),
	    "target"), "account", json_string("mallory"));
	r |= seed_payload("pay_digest_mismatch", 1, p);
	p = payload_by("alice", 2, two, o);
	json_object_del(p, "jti");
	r |= seed_payload("pay_missing_jti", 1, p);
	r |= seed("pay_not_canonical", 1, "{ \"iss\": 1 }", 12);
	return r == 0 ? 0 : -1;
}

/* Remove the scratch directory of a run without one given. */
static void
remove_dir(const char *d)
{
	struct dirent *e;
	char path[512];
	DIR *dp;

	if ((dp = opendir(d)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(d);
}

int
main(int argc, char **argv)
{
	char scratch[64];
	bool corpus = false, own = false;
	int r;

	if (argc == 3 && strcmp(argv[1], "--fuzz-corpus") == 0) {
		corpus = true;
		dir = argv[2];
	} else if (argc == 2)
		dir = argv[1];
	else if (argc == 1 && getenv("VERIFY_FIXTURE_DIR") != NULL)
		dir = getenv("VERIFY_FIXTURE_DIR");
	else if (argc == 1) {
		snprintf(scratch, sizeof(scratch), "%s/tg-vfix.XXXXXX",
		    getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 40 ?
		    getenv("TMPDIR") : "/tmp");
		if (mkdtemp(scratch) == NULL) {
			printf("not ok fixture_scratch_dir (%s)\n",
			    strerror(errno));
			return 1;
		}
		dir = scratch;
		own = true;
	} else {
		fprintf(stderr, "usage: %s [DIR | --fuzz-corpus DIR]\n",
		    argv[0]);
		return 2;
	}
	if ((mkdir(dir, 0755) == -1 && errno != EEXIST) || fx_init(&F) != 0 ||
	    (es_key = fx_appliance_key(JWK_ALG_ES256,
	    FX_ES256_LABEL)) == NULL) {
		printf("not ok fixture_setup\n");
		return 1;
	}
	if (corpus) {
		r = write_corpus();
		printf("%s fixture_fuzz_corpus_written\n", r == 0 ? "ok" :
		    "not ok");
		failed += r != 0;
	} else if (write_e2e_files() != 0) {
		printf("not ok fixture_files_written\n");
		failed++;
	}
	if (own)
		remove_dir(dir);
	jwk_free(&es_key);
	fx_free(&F);
	return failed != 0;
}

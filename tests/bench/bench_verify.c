/* SPDX-License-Identifier: ISC */
/*
 * What checking a co-signed order costs a downstream system.
 *
 * 1. Orders verified per second by libtapgate-verify (tgv_verify() with
 *    the approvers export pinned, so the appliance's EdDSA signature, the
 *    strict parse, the change digest and both officers' ES256 assertions
 *    are all checked) against the same cryptographic work done with
 *    OpenSSL alone in the same run: one Ed25519 verification of the
 *    token's signing input and two P-256 verifications of authData ||
 *    clientDataHash.  The ratio is what the library adds to the
 *    signatures it must check; goal 0.8 or more.  The order is made here
 *    the way tapgated makes one: an appliance key from jwk_generate(), an
 *    admin password reset, and two approvals signed with OpenSSL as a
 *    FIDO2 key signs them (ES256 over authData || SHA-256(clientData)).
 *
 * 2. One `tapgate-verify` run (process start included) against one
 *    `minisign -V` run on a file of the same size (the order file itself):
 *    what a shell connector pays per order, next to a common signature
 *    check tool; goal 1.5 times or less.  Skipped, with a message, when
 *    minisign is not installed (Debian package minisign, which make deps
 *    installs) or $BUILD/tapgate-verify is missing.
 *
 * usage: bench_verify [CLI_RUNS]	(default 50)
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "bench.h"
#include "common/b64url.h"
#include "common/jcs.h"
#include "order/jwk.h"
#include "order/jws.h"
#include "verify/tapgate_verify.h"

#define RP_ID		"tapgate.local"
#define APPLIANCE	"tapgate-01"
#define AUD		"ldap-corp"
#define FLAG_UP		0x01
#define FLAG_UV		0x04
#define ROUNDS		4	/* baseline and library alternate */
#define ROUND_S		0.6	/* seconds per round and side */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = NULL;

	return b64url_encode_alloc(p, n, &s) == 0 ? s : NULL;
}

/* ---- the order */

/* An officer's security-key credential: P-256, as most FIDO2 keys. */
struct officer {
	const char	*name;
	EVP_PKEY	*pkey;
	uint8_t		 cred_id[32];
	uint8_t		 pub[65];	/* 04 || x || y */
};

static int
officer_init(struct officer *o, const char *name)
{
	size_t n = 0;

	o->name = name;
	return (o->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) !=
	    NULL && RAND_bytes(o->cred_id, sizeof(o->cred_id)) == 1 &&
	    EVP_PKEY_get_octet_string_param(o->pkey, OSSL_PKEY_PARAM_PUB_KEY,
	    o->pub, sizeof(o->pub), &n) == 1 && n == sizeof(o->pub) ? 0 : -1;
}

/*
 * The approval officer o gives the change whose digest is dig64: an
 * assertion over authData || SHA-256(clientData), ES256 (DER), as the key
 * returns it.
 */
static json_t *
approval(const struct officer *o, const char *dig64, uint32_t counter)
{
	uint8_t ad[37], msg[37 + 32], sig[80];
	char cd[256], *id = NULL, *adb = NULL, *cdb = NULL, *sb = NULL;
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	json_t *a = NULL;

	snprintf(cd, sizeof(cd), "{\"type\":\"webauthn.get\",\"challenge\":"
	    "\"%s\",\"origin\":\"https://%s\",\"crossOrigin\":false}",
	    dig64, RP_ID);
	SHA256((const unsigned char *)RP_ID, strlen(RP_ID), ad);
	ad[32] = FLAG_UP | FLAG_UV;
	ad[33] = (uint8_t)(counter >> 24);
	ad[34] = (uint8_t)(counter >> 16);
	ad[35] = (uint8_t)(counter >> 8);
	ad[36] = (uint8_t)counter;
	memcpy(msg, ad, sizeof(ad));
	SHA256((const unsigned char *)cd, strlen(cd), msg + sizeof(ad));
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, o->pkey) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) == 1 &&
	    (id = b64(o->cred_id, sizeof(o->cred_id))) != NULL &&
	    (adb = b64(ad, sizeof(ad))) != NULL &&
	    (cdb = b64((const uint8_t *)cd, strlen(cd))) != NULL &&
	    (sb = b64(sig, siglen)) != NULL)
		a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "approver", o->name, "group", "security_officer",
		    "credential_id", id, "alg", "ES256",
		    "authenticator_data", adb, "client_data", cdb,
		    "signature", sb);
	EVP_MD_CTX_free(md);
	free(id);
	free(adb);
	free(cdb);
	free(sb);
	return a;
}

/* The approvers export ("tapgatectl approvers export") naming o[0..n). */
static char *
approvers_doc(const struct officer *o, size_t n)
{
	json_t *list = json_array(), *root = NULL, *e;
	char *doc = NULL, *id, *pub;
	size_t i, len;

	for (i = 0; list != NULL && i < n; i++) {
		id = b64(o[i].cred_id, sizeof(o[i].cred_id));
		pub = b64(o[i].pub + 1, 64);
		e = id && pub ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}",
		    "name", o[i].name, "group", "security_officer",
		    "credential_id", id, "alg", "ES256", "public_key", pub,
		    "revoked", 0) : NULL;
		free(id);
		free(pub);
		if (e == NULL || json_array_append_new(list, e) != 0)
			goto out;
	}
	if ((root = json_pack("{s:s, s:s, s:O}", "rp_id", RP_ID,
	    "appliance", APPLIANCE, "approvers", list)) != NULL &&
	    jcs_serialize(root, &doc, &len) != 0)
		doc = NULL;
out:
	json_decref(root);
	json_decref(list);
	return doc;
}

struct fixture {
	struct jwk	*key;		/* the appliance's co-signing key */
	struct officer	 off[2];
	char		*token;		/* the co-signed order */
	size_t		 toklen;
	char		*jwks, *approvers;
	int64_t		 now;
};

/*
 * An admin password reset of adm-carol on ldap-corp, approved by two
 * security officers (what the shipped policy asks for), co-signed.
 */
static int
fixture_init(struct fixture *f)
{
	json_t *change = NULL, *order = NULL, *a1, *a2;
	struct jwks *set = NULL;
	uint8_t d[32], rnd[16];
	char dig64[48], jti[33], *c = NULL;
	size_t n, i;
	int ok = 0;

	memset(f, 0, sizeof(*f));
	f->now = (int64_t)time(NULL);
	if (jwk_generate(JWK_ALG_EDDSA, &f->key) != 0 ||
	    officer_init(&f->off[0], "officer-ann") != 0 ||
	    officer_init(&f->off[1], "officer-ben") != 0 ||
	    RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	change = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, "
	    "s:{s:b, s:s}, s:{s:b, s:[s, s, s]}, s:{s:s, s:i}, "
	    "s:[s, s], s:{s:s, s:s}}",
	    "typ", "tapgate-change/v1", "appliance", APPLIANCE,
	    "request_id", "3f9a0c4e8b7d61a2c5e4f30918b7d6a5",
	    "queue", "password_reset",
	    "target", "account", "adm-carol", "system", AUD, "class", "admin",
	    "changes", "force_change_at_logon", 1, "password", "reset",
	    "entitlements_dropped", "all_privileged", 1, "names",
	    "domain-admins", "backup-operators", "vpn-admin",
	    "policy", "id", "default", "version", 1,
	    "evidence_digests",
	    "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592",
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	    "requester", "agent", "hd-bob", "ticket", "INC-20417");
	if (change == NULL || jcs_serialize(change, &c, &n) != 0)
		goto out;
	SHA256((const unsigned char *)c, n, d);
	free(c);
	c = NULL;
	b64url_encode(d, sizeof(d), dig64);
	a1 = approval(&f->off[0], dig64, 17);
	a2 = approval(&f->off[1], dig64, 230);
	if (a1 == NULL || a2 == NULL) {
		json_decref(a1);
		json_decref(a2);
		goto out;
	}
	/* the approvals are stolen by the order, even when it fails */
	if ((order = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:O, s:s, "
	    "s:[o, o]}", "iss", APPLIANCE, "aud", AUD,
	    "iat", (json_int_t)f->now, "nbf", (json_int_t)f->now,
	    "exp", (json_int_t)f->now + 900, "jti", jti, "change", change,
	    "change_digest", dig64, "approvals", a1, a2)) == NULL)
		goto out;
	if (jcs_serialize(order, &c, &n) != 0 ||
	    jws_sign(f->key, (const uint8_t *)c, n, &f->token,
	    &f->toklen) != 0 ||
	    jwks_new(&set) != 0 || jwks_add(set, f->key) != 0 ||
	    jwks_serialize(set, &f->jwks, &n) != 0 ||
	    (f->approvers = approvers_doc(f->off, 2)) == NULL)
		goto out;
	ok = 1;
out:
	free(c);
	jwks_free(&set);
	json_decref(change);
	json_decref(order);
	return ok ? 0 : -1;
}

static void
fixture_free(struct fixture *f)
{
	jwk_free(&f->key);
	EVP_PKEY_free(f->off[0].pkey);
	EVP_PKEY_free(f->off[1].pkey);
	free(f->token);
	free(f->jwks);
	free(f->approvers);
}

/* A downstream context pinning the appliance key and its approvers. */
static int
ctx_init(const struct fixture *f, struct tgv_ctx **ctxp)
{
	int r;

	if ((r = tgv_ctx_new(ctxp)) != 0 ||
	    (r = tgv_load_jwks(*ctxp, f->jwks, strlen(f->jwks))) != 0 ||
	    (r = tgv_load_approvers(*ctxp, f->approvers,
	    strlen(f->approvers))) != 0 ||
	    (r = tgv_set_audience(*ctxp, AUD)) != 0 ||
	    (r = tgv_set_issuer(*ctxp, APPLIANCE)) != 0 ||
	    (r = tgv_set_min_approvals(*ctxp, 2)) != 0)
		fprintf(stderr, "bench_verify: context: %s: %s\n",
		    tgv_strerror(r), *ctxp ? tgv_errmsg(*ctxp) : "");
	return r;
}

/*
 * Before timing anything: the order verifies with both approvals, and the
 * same order with one byte of the token changed does not, so what is
 * timed really is a full verification.
 */
static int
sanity(struct tgv_ctx *ctx, const struct fixture *f)
{
	struct tgv_order *o = NULL;
	char *bad;
	int r, ok;

	if ((r = tgv_verify(ctx, f->token, f->toklen, f->now, &o)) != 0) {
		fprintf(stderr, "bench_verify: the order does not verify: "
		    "%s: %s\n", tgv_strerror(r), tgv_errmsg(ctx));
		return -1;
	}
	ok = tgv_order_approvals_verified(o) &&
	    tgv_order_approver_count(o) == 2;
	tgv_order_free(&o);
	if (!ok) {
		fprintf(stderr, "bench_verify: approvals not verified\n");
		return -1;
	}
	if ((bad = strdup(f->token)) == NULL)
		return -1;
	bad[f->toklen - 2] = bad[f->toklen - 2] == 'A' ? 'B' : 'A';
	r = tgv_verify(ctx, bad, f->toklen, f->now, &o);
	free(bad);
	tgv_order_free(&o);
	if (r == 0) {
		fprintf(stderr, "bench_verify: a changed order verifies\n");
		return -1;
	}
	return 0;
}

struct rate {
	long	 n;
	double	 s;
};

/* tgv_verify() for about ROUND_S seconds. */
static int
run_tgv(struct tgv_ctx *ctx, const struct fixture *f, struct rate *rt)
{
	struct tgv_order *o = NULL;
	double t0 = now_s(), t;
	int i, r;

	do {
		for (i = 0; i < 20; i++) {
			if ((r = tgv_verify(ctx, f->token, f->toklen, f->now,
			    &o)) != 0) {
				fprintf(stderr, "bench_verify: %s: %s\n",
				    tgv_strerror(r), tgv_errmsg(ctx));
				return -1;
			}
			tgv_order_free(&o);
		}
		rt->n += i;
	} while ((t = now_s()) - t0 < ROUND_S);
	rt->s += t - t0;
	return 0;
}

/*
 * The same cryptographic work as one order, done with OpenSSL alone: one
 * Ed25519 verification of a message the size of the token's signing input
 * (the appliance's signature) and two ECDSA P-256 / SHA-256 verifications
 * (DER signatures) of authData || clientDataHash, 69 bytes (the officers'
 * assertions), each with its own digest context as a verifier makes one,
 * against keys made beforehand as a verifier holds its pinned keys.
 */
struct raw_work {
	EVP_PKEY	*ed;
	uint8_t		*ed_msg, ed_sig[64];
	size_t		 ed_len;
	EVP_PKEY	*p256[2];
	uint8_t		 p_msg[2][37 + 32], p_sig[2][80];
	size_t		 p_sig_len[2];
};

static int
sign_one(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *c;
	int ok;

	ok = (c = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(c, NULL, md, NULL, pk) == 1 &&
	    EVP_DigestSign(c, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static int
verify_one(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *c;
	int ok;

	ok = (c = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(c, NULL, md, NULL, pk) == 1 &&
	    EVP_DigestVerify(c, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static int
raw_init(struct raw_work *w, size_t ed_len)
{
	size_t n = sizeof(w->ed_sig);
	int i;

	memset(w, 0, sizeof(*w));
	w->ed_len = ed_len;
	if ((w->ed_msg = malloc(ed_len)) == NULL ||
	    RAND_bytes(w->ed_msg, (int)ed_len) != 1 ||
	    (w->ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL ||
	    sign_one(w->ed, NULL, w->ed_msg, ed_len, w->ed_sig, &n) != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		w->p_sig_len[i] = sizeof(w->p_sig[i]);
		if (RAND_bytes(w->p_msg[i], sizeof(w->p_msg[i])) != 1 ||
		    (w->p256[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256")) == NULL ||
		    sign_one(w->p256[i], EVP_sha256(), w->p_msg[i],
		    sizeof(w->p_msg[i]), w->p_sig[i], &w->p_sig_len[i]) != 0)
			return -1;
	}
	return 0;
}

static void
raw_free(struct raw_work *w)
{
	EVP_PKEY_free(w->ed);
	EVP_PKEY_free(w->p256[0]);
	EVP_PKEY_free(w->p256[1]);
	free(w->ed_msg);
}

/* The raw work of one order, about ROUND_S seconds of them. */
static int
run_raw(struct raw_work *w, struct rate *rt)
{
	double t0 = now_s(), t;
	int i;

	do {
		for (i = 0; i < 20; i++)
			if (verify_one(w->ed, NULL, w->ed_msg, w->ed_len,
			    w->ed_sig, sizeof(w->ed_sig)) != 0 ||
			    verify_one(w->p256[0], EVP_sha256(), w->p_msg[0],
			    sizeof(w->p_msg[0]), w->p_sig[0],
			    w->p_sig_len[0]) != 0 ||
			    verify_one(w->p256[1], EVP_sha256(), w->p_msg[1],
			    sizeof(w->p_msg[1]), w->p_sig[1],
			    w->p_sig_len[1]) != 0)
				return -1;
		rt->n += i;
	} while ((t = now_s()) - t0 < ROUND_S);
	rt->s += t - t0;
	return 0;
}

static int
library_bench(struct tgv_ctx *ctx, const struct fixture *f)
{
	struct rate lib = { 0, 0 }, raw = { 0, 0 };
	struct raw_work w;
	const char *dot;
	char fig[160], base[160];
	int i, rc = -1;

	memset(&w, 0, sizeof(w));
	/* the appliance signs ASCII(header "." payload) */
	if ((dot = strrchr(f->token, '.')) == NULL ||
	    raw_init(&w, (size_t)(dot - f->token)) != 0)
		goto out;
	for (i = 0; i < ROUNDS; i++)
		if (run_raw(&w, &raw) != 0 || run_tgv(ctx, f, &lib) != 0)
			goto out;
	snprintf(fig, sizeof(fig), "orders verified by tgv_verify() (EdDSA "
	    "order of %zu bytes, 2 ES256 approvals pinned): %.0f/s",
	    f->toklen, lib.n / lib.s);
	snprintf(base, sizeof(base), "OpenSSL alone, 1 Ed25519 verify of "
	    "%zu bytes + 2 P-256 verifies of 69 bytes: %.0f/s", w.ed_len,
	    raw.n / raw.s);
	bench_line("verify library", fig, base, (lib.n / lib.s) /
	    (raw.n / raw.s), BENCH_AT_LEAST, 0.8);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_verify: library benchmark failed\n");
	raw_free(&w);
	return rc;
}

/* ---- the command line tools */

/*
 * Run argv (NULL-terminated, searched in PATH) with stdin, stdout and
 * stderr on /dev/null, or with stderr kept when show_err; its exit
 * status, 127 when it could not be run, -1 when it died.
 */
static int
run(const char *const *argv, int show_err)
{
	char *v[24];
	pid_t pid;
	int fd, st, i;

	for (i = 0; argv[i] != NULL && i < 23; i++)
		v[i] = (char *)(uintptr_t)argv[i];
	v[i] = NULL;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (!show_err)
				dup2(fd, 2);
		}
		execvp(v[0], v);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
write_file(const char *dir, const char *name, const char *s, char *path,
    size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(s, f);
	return fclose(f);
}

static int
cli_bench(const struct fixture *f, const char *build, int runs)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[256], bin[512], order[300], jwks[300], appr[300], pub[300],
	    sec[300], fig[200], base[200], *tok = NULL;
	double t, tv = 0, ms = 0, st = 0;
	int i, r, rc = -1;

	snprintf(bin, sizeof(bin), "%s/tapgate-verify", build);
	if (access(bin, X_OK) != 0) {
		printf("cli: %s not built; CLI comparison skipped\n", bin);
		return 0;
	}
	{
		const char *const probe[] = { "minisign", "-v", NULL };

		if (run(probe, 0) == 127) {
			printf("cli: minisign not installed (Debian package "
			    "minisign); CLI comparison skipped\n");
			return 0;
		}
	}
	snprintf(dir, sizeof(dir), "%s/tg-bench-verify.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL ||
	    (tok = malloc(f->toklen + 2)) == NULL)
		goto out;
	snprintf(tok, f->toklen + 2, "%s\n", f->token);
	snprintf(pub, sizeof(pub), "%s/minisign.pub", dir);
	snprintf(sec, sizeof(sec), "%s/minisign.key", dir);
	if (write_file(dir, "order.jws", tok, order, sizeof(order)) != 0 ||
	    write_file(dir, "jwks.json", f->jwks, jwks, sizeof(jwks)) != 0 ||
	    write_file(dir, "approvers.json", f->approvers, appr,
	    sizeof(appr)) != 0)
		goto out;
	{
		const char *const tgv[] = { bin, "--jwks", jwks, "--aud", AUD,
		    "--iss", APPLIANCE, "--approvers", appr,
		    "--min-approvals", "2", order, NULL };
		const char *const keygen[] = { "minisign", "-G", "-W", "-p",
		    pub, "-s", sec, NULL };
		const char *const sign[] = { "minisign", "-S", "-s", sec,
		    "-m", order, NULL };
		const char *const check[] = { "minisign", "-V", "-q", "-p",
		    pub, "-m", order, NULL };
		/* the program's start and exit alone: what no work can save */
		const char *const help[] = { bin, "--help", NULL };

		if ((r = run(keygen, 1)) != 0 || (r = run(sign, 1)) != 0) {
			fprintf(stderr, "bench_verify: minisign key or "
			    "signature: exit %d\n", r);
			goto out;
		}
		/* both must accept, once before timing (and warm caches) */
		if ((r = run(tgv, 1)) != 0) {
			fprintf(stderr, "bench_verify: tapgate-verify refused "
			    "the order: exit %d\n", r);
			goto out;
		}
		if ((r = run(check, 1)) != 0) {
			fprintf(stderr, "bench_verify: minisign -V refused "
			    "the order: exit %d\n", r);
			goto out;
		}
		/* alternate, so that machine noise hits both alike */
		for (i = 0; i < runs; i++) {
			t = now_s();
			if (run(tgv, 1) != 0)
				goto out;
			tv += now_s() - t;
			t = now_s();
			if (run(check, 1) != 0)
				goto out;
			ms += now_s() - t;
			t = now_s();
			if (run(help, 1) != 0)
				goto out;
			st += now_s() - t;
		}
	}
	snprintf(fig, sizeof(fig), "one tapgate-verify call (2 approvals "
	    "pinned, process start included): %.2f ms (mean of %d)",
	    tv / runs * 1e3, runs);
	snprintf(base, sizeof(base), "one minisign -V call on the same "
	    "%zu-byte file: %.2f ms", f->toklen + 1, ms / runs * 1e3);
	bench_line("verify CLI", fig, base, tv / ms, BENCH_AT_MOST, 1.5);
	snprintf(fig, sizeof(fig), "tapgate-verify --help (start, dynamic "
	    "linking, exit; no OpenSSL, no work): %.2f ms", st / runs * 1e3);
	bench_line("verify CLI start-up alone", fig, base, st / ms,
	    BENCH_NO_GOAL, 0);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_verify: CLI benchmark failed\n");
	free(tok);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	int runs = argc > 1 ? atoi(argv[1]) : 50;
	struct tgv_ctx *ctx = NULL;
	struct fixture f;
	int rc = 1;

	if (runs <= 0) {
		fprintf(stderr, "usage: bench_verify [CLI_RUNS]\n");
		return 2;
	}
	if (fixture_init(&f) != 0) {
		fprintf(stderr, "bench_verify: cannot make the order\n");
		goto out;
	}
	if (ctx_init(&f, &ctx) != 0 || sanity(ctx, &f) != 0 ||
	    library_bench(ctx, &f) != 0 || cli_bench(&f, build, runs) != 0)
		goto out;
	rc = 0;
out:
	tgv_ctx_free(&ctx);
	fixture_free(&f);
	if (rc != 0)
		printf("bench_verify: failed\n");
	return rc;
}

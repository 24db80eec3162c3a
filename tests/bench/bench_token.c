/* SPDX-License-Identifier: ISC */
/*
 * Assertions per second through the whole stack an approval uses (libfido2
 * over custom I/O -> CTAPHID -> softfido's CTAP2 core -> ES256 signature ->
 * token_verify_assertion), against the raw cost of one ES256 sign + verify
 * with OpenSSL measured in the same run.  The ratio says how much the
 * protocol stack costs on top of the cryptography; absolute numbers on a
 * shared machine mean little.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bench.h"
#include "common/errors.h"
#include "token/token.h"

#define PIN	"4711-bench"
#define RP	"bench.tapgate.local"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t
start_softfido(const char *build, const char *dir, char *name, size_t len)
{
	char bin[512], sock[256], state[256];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/softfido", build);
	snprintf(sock, sizeof(sock), "%s/key.sock", dir);
	snprintf(state, sizeof(state), "%s/key.state", dir);
	snprintf(name, len, "softfido:%s", sock);
	if ((pid = fork()) == 0) {
		execl(bin, bin, "--socket", sock, "--state", state,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* ES256 sign + verify of a 69-byte message (authData || cdh sized). */
static double
openssl_es256_per_s(int n)
{
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	unsigned char msg[69] = { 1 }, sig[80];
	size_t siglen;
	double t0, dt;
	int i;

	if (kctx == NULL || EVP_PKEY_keygen_init(kctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(kctx, "P-256") <= 0 ||
	    EVP_PKEY_keygen(kctx, &pk) <= 0)
		return -1;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();

		msg[0] = (unsigned char)i;
		siglen = sizeof(sig);
		if (EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, pk) != 1 ||
		    EVP_DigestSign(c, sig, &siglen, msg, sizeof(msg)) != 1 ||
		    EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL,
		    pk) != 1 ||
		    EVP_DigestVerify(c, sig, siglen, msg, sizeof(msg)) != 1)
			return -1;
		EVP_MD_CTX_free(c);
	}
	dt = now_s() - t0;
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(kctx);
	return n / dt;
}

static double
token_assertions_per_s(const char *name, int n)
{
	struct token_opts opts = { 10000, 5000 };
	struct token *tok = NULL;
	struct token_credential *cred = NULL;
	struct token_assertion *as = NULL;
	uint8_t cdh[TOKEN_CDH_LEN] = { 7 }, uid[8] = { 1, 2, 3 };
	struct token_enroll_req er;
	struct token_assert_req ar;
	struct token_verify_req vr;
	struct token_cred_id allow;
	uint32_t count = 0;
	double t0, dt = -1;
	int i, r;

	if ((r = token_open(name, &opts, &tok)) != 0 ||
	    (r = token_set_pin(tok, PIN, NULL)) != 0)
		goto out;
	memset(&er, 0, sizeof(er));
	er.rp_id = RP;
	er.rp_name = "bench";
	er.user_id = uid;
	er.user_id_len = sizeof(uid);
	er.user_name = "bench";
	er.client_data_hash = cdh;
	er.alg = TOKEN_ALG_ES256;
	er.pin = PIN;
	er.trust_roots_pem = "build/gen/softfido-ca.pem";
	if ((r = token_enroll(tok, &er, &cred)) != 0)
		goto out;
	allow.ptr = cred->id;
	allow.len = cred->id_len;
	memset(&ar, 0, sizeof(ar));
	ar.rp_id = RP;
	ar.client_data_hash = cdh;
	ar.allow = &allow;
	ar.nallow = 1;
	ar.pin = PIN;
	count = cred->sign_count;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		cdh[1] = (uint8_t)i;
		if ((r = token_assert(tok, &ar, &as)) != 0)
			goto out;
		memset(&vr, 0, sizeof(vr));
		vr.pubkey = &cred->pubkey;
		vr.rp_id = RP;
		vr.client_data_hash = cdh;
		vr.authdata = as->authdata;
		vr.authdata_len = as->authdata_len;
		vr.sig = as->sig;
		vr.sig_len = as->sig_len;
		vr.prev_sign_count = count;
		r = token_verify_assertion(&vr, &count);
		token_assertion_free(&as);
		if (r != 0)
			goto out;
	}
	dt = n / (now_s() - t0);
out:
	if (r != 0)
		fprintf(stderr, "bench_token: %s\n", tg_strerror(r));
	token_credential_free(&cred);
	token_free(&tok);
	return dt;
}

int
main(int argc, char **argv)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char dir[] = "/tmp/tg-bench.XXXXXX", name[300], cmd[64], fig[160],
	    bs[160];
	int n = argc > 1 ? atoi(argv[1]) : 200;
	double base, stack;
	pid_t pid;

	if (n <= 0 || mkdtemp(dir) == NULL)
		return 2;
	pid = start_softfido(build, dir, name, sizeof(name));
	base = openssl_es256_per_s(n * 4);
	stack = token_assertions_per_s(name, n);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0 || base <= 0 || stack <= 0) {
		printf("bench_token: failed\n");
		return 1;
	}
	snprintf(fig, sizeof(fig), "assertions through libfido2 -> softfido "
	    "(PIN token, verified): %.0f/s", stack);
	snprintf(bs, sizeof(bs), "OpenSSL ES256 sign+verify of 69 bytes: "
	    "%.0f/s", base);
	bench_line("token stack", fig, bs, stack / base, BENCH_NO_GOAL, 0);
	return 0;
}

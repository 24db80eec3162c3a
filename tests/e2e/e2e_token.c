/* SPDX-License-Identifier: ISC */
/*
 * End to end: stock libfido2, through src/token/, drives real softfido
 * processes ($BUILD/softfido) on a private state directory.  Every CTAPHID
 * frame, CBOR map and signature crosses the real code on both sides.
 *
 * The tests share one key (sf_a) and run in order: PIN, enrolment,
 * assertions, restarts, the button, the faults, and finally the key being
 * killed.  A second key (sf_b) is worn out by wrong PINs.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../unit/tap.h"
#include "common/errors.h"
#include "common/msg.h"
#include "daemon/tokenproc.h"
#include "token/token.h"

#define RP		"tapgate.example"
#define PIN		"246810"
#define WRONG_PIN	"135790"
#define UP_TIMEOUT	"1500"	/* ms the key waits for a touch */

struct sf {
	char	dir[200];
	char	sock[260];
	char	ctl[270];
	char	state[260];
	char	log[260];
	char	name[280];	/* softfido:SOCK */
	pid_t	pid;
};

static char		 topdir[128];
static char		 softfido_bin[256];
static const char	*ca_pem;	/* softfido's test attestation CA */
static char		 attest_pem[300];	/* and its leaf certificate */
static char		 other_ca_pem[200];
static struct sf	 sf_a, sf_b;
static uint8_t		 cdh[32];
static uint8_t		 aaguid[16];	/* what getInfo said */
static struct token_credential *cred_es, *cred_ed;
static uint32_t		 count_es, count_ed;	/* last verified counters */

/* ---- softfido processes */

static int
sf_init(struct sf *s, const char *label)
{
	snprintf(s->dir, sizeof(s->dir), "%s/%s", topdir, label);
	snprintf(s->sock, sizeof(s->sock), "%s/sf.sock", s->dir);
	snprintf(s->ctl, sizeof(s->ctl), "%s.ctl", s->sock);
	snprintf(s->state, sizeof(s->state), "%s/state", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/softfido.log", s->dir);
	snprintf(s->name, sizeof(s->name), "softfido:%s", s->sock);
	s->pid = -1;
	return mkdir(s->dir, 0700);
}

static int
sf_start(struct sf *s)
{
	pid_t	pid, parent = getpid();
	int	fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		/* a test that crashes must not leave keys running */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(127);
		if ((fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(softfido_bin, "softfido", "--socket", s->sock,
		    "--state", s->state, "--up-timeout", UP_TIMEOUT,
		    (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	return 0;
}

/* Stop with SIGTERM (SIGKILL after 3 s); 0 when it exited cleanly. */
static int
sf_stop(struct sf *s)
{
	int status = 0;

	if (s->pid <= 0)
		return 0;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = -1;
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
			    0 : -1;
		}
		usleep(10000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	s->pid = -1;
	return -1;
}

static int
sf_restart(struct sf *s)
{
	if (sf_stop(s) != 0)
		return -1;
	return sf_start(s);
}

/* `softfido --ctl CTL word arg`: the exit status. */
static int
sf_ctl(const struct sf *s, const char *word, const char *arg)
{
	pid_t	pid;
	int	status, fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open(s->log, O_WRONLY | O_APPEND)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(softfido_bin, "softfido", "--ctl", s->ctl, word, arg,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
open_key(const struct sf *s, int timeout_ms, struct token **tok)
{
	/* a softfido just (re)started may not listen yet */
	struct token_opts o = { timeout_ms, 5000 };

	return token_open(s->name, &o, tok);
}

/* ---- helpers */

static int
enroll(struct token *tok, int alg, const char *roots, const char *pin,
    const uint8_t (*allow)[16], size_t nallow,
    struct token_credential **cred)
{
	static const uint8_t uid[] = "officer-1";
	struct token_enroll_req req;

	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.rp_name = "tapgate";
	req.user_id = uid;
	req.user_id_len = sizeof(uid) - 1;
	req.user_name = "officer1";
	req.user_display_name = "Officer One";
	req.client_data_hash = cdh;
	req.alg = alg;
	req.pin = pin;
	req.trust_roots_pem = roots;
	req.aaguids = allow;
	req.naaguids = nallow;
	return token_enroll(tok, &req, cred);
}

static int
assert_with(struct token *tok, const struct token_credential *c,
    const char *pin, struct token_assertion **a)
{
	struct token_cred_id	id = { c->id, c->id_len };
	struct token_assert_req	req;

	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.client_data_hash = cdh;
	req.allow = &id;
	req.nallow = 1;
	req.pin = pin;
	return token_assert(tok, &req, a);
}

static int
verify(const struct token_credential *c, const struct token_assertion *a,
    uint32_t prev, uint32_t *count)
{
	struct token_verify_req v;

	memset(&v, 0, sizeof(v));
	v.pubkey = &c->pubkey;
	v.rp_id = RP;
	v.client_data_hash = cdh;
	v.authdata = a->authdata;
	v.authdata_len = a->authdata_len;
	v.sig = a->sig;
	v.sig_len = a->sig_len;
	v.prev_sign_count = prev;
	return token_verify_assertion(&v, count);
}

/* One assertion with the right PIN: its verification result. */
static int
assert_and_verify(const struct token_credential *c, uint32_t *last)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	uint32_t		 n;
	int			 r;

	if ((r = open_key(&sf_a, 0, &tok)) != 0 ||
	    (r = assert_with(tok, c, PIN, &a)) != 0)
		goto out;
	if ((r = verify(c, a, *last, &n)) == 0)
		*last = n;
out:
	token_assertion_free(&a);
	token_free(&tok);
	return r;
}

/* libfido2's own verification, set up the way FIDO-NOTES asks. */
static int
fido_verify(const struct token_credential *c, const struct token_assertion *a)
{
	fido_assert_t	*fa = fido_assert_new();
	es256_pk_t	*es = es256_pk_new();
	eddsa_pk_t	*ed = eddsa_pk_new();
	const void	*pk = c->pubkey.alg == TOKEN_ALG_ES256 ?
			    (const void *)es : (const void *)ed;
	int		 r = -1;

	if (fa == NULL || es == NULL || ed == NULL)
		goto out;
	if ((c->pubkey.alg == TOKEN_ALG_ES256 ? es256_pk_from_ptr(es,
	    c->pubkey.raw, c->pubkey.raw_len) : eddsa_pk_from_ptr(ed,
	    c->pubkey.raw, c->pubkey.raw_len)) != FIDO_OK)
		goto out;
	if (fido_assert_set_clientdata_hash(fa, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_rp(fa, RP) != FIDO_OK ||
	    fido_assert_set_count(fa, 1) != FIDO_OK ||
	    fido_assert_set_authdata_raw(fa, 0, a->authdata,
	    a->authdata_len) != FIDO_OK ||
	    fido_assert_set_sig(fa, 0, a->sig, a->sig_len) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_set_uv(fa, FIDO_OPT_TRUE) != FIDO_OK)
		goto out;
	r = fido_assert_verify(fa, 0, c->pubkey.alg, pk);
out:
	fido_assert_free(&fa);
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	return r;
}

/* A self-signed CA that has nothing to do with softfido. */
static int
make_other_ca(const char *path)
{
	EVP_PKEY	*k = NULL;
	X509		*x = NULL;
	X509_NAME	*n;
	X509_EXTENSION	*e = NULL;
	X509V3_CTX	 v3;
	FILE		*fp = NULL;
	int		 r = -1;

	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 7) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    X509_set_pubkey(x, k) != 1)
		goto out;
	n = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"not the softfido CA", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, n) != 1)
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    "critical,CA:TRUE")) == NULL || X509_add_ext(x, e, -1) != 1 ||
	    X509_sign(x, k, EVP_sha256()) == 0)
		goto out;
	if ((fp = fopen(path, "w")) == NULL || PEM_write_X509(fp, x) != 1)
		goto out;
	r = 0;
out:
	if (fp != NULL && fclose(fp) != 0)
		r = -1;
	X509_EXTENSION_free(e);
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

/* SHA-256 of the DER of the first certificate in a PEM file. */
static int
cert_sha256(const char *path, uint8_t out[32])
{
	FILE		*fp;
	X509		*x = NULL;
	unsigned char	*der = NULL;
	int		 len, r = -1;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL &&
	    (len = i2d_X509(x, &der)) > 0) {
		SHA256(der, (size_t)len, out);
		r = 0;
	}
	OPENSSL_free(der);
	X509_free(x);
	fclose(fp);
	return r;
}

static int
has_str(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* ---- tests: getInfo and PIN */

static void
info_shows_fido_2_1_aaguid_algorithms_and_pin_protocols(void)
{
	struct token		*tok = NULL;
	struct token_info	*in = NULL;
	static const uint8_t	 zero[16];
	int			 es = 0, ed = 0, p2 = 0;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	CHECK_EQ(token_info_new(tok, &in), 0);
	token_free(&tok);
	CHECK(has_str(in->versions, in->nversions, "FIDO_2_1"));
	CHECK(memcmp(in->aaguid, zero, 16) != 0);
	memcpy(aaguid, in->aaguid, 16);
	for (size_t i = 0; i < in->nalgorithms; i++) {
		es |= in->algorithms[i].cose == TOKEN_ALG_ES256;
		ed |= in->algorithms[i].cose == TOKEN_ALG_EDDSA;
		CHECK(strcmp(in->algorithms[i].type, "public-key") == 0);
	}
	for (size_t i = 0; i < in->npin_protocols; i++)
		p2 |= in->pin_protocols[i] == 2;
	CHECK(es && ed && p2);
	CHECK(in->max_msg_size >= 1024);
	CHECK(in->pin_supported);
	CHECK(!in->pin_set);
	CHECK(token_info_option(in, "up"));
	token_info_free(&in);
	CHECK(in == NULL);
}

static void
pin_rules_are_checked_before_the_key_is_asked(void)
{
	struct token *tok = NULL;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	CHECK_EQ(token_set_pin(tok, "123", NULL), TG_ERR_PIN_POLICY);
	CHECK_EQ(token_set_pin(tok, PIN, "000000"), TG_ERR_PIN_NOT_SET);
	token_free(&tok);
}

static void
set_pin_then_info_shows_pin_set_and_8_retries(void)
{
	struct token		*tok = NULL;
	struct token_info	*in = NULL;
	int			 r;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	CHECK_EQ(token_set_pin(tok, PIN, NULL), 0);
	r = token_info_new(tok, &in);
	CHECK_EQ(r, 0);
	CHECK(in->pin_set);
	CHECK_EQ(in->pin_retries, 8);
	token_info_free(&in);
	CHECK_EQ(token_set_pin(tok, "999999", NULL), TG_ERR_PIN_ALREADY_SET);
	/* changing it needs the current PIN; a wrong one costs a retry */
	CHECK_EQ(token_set_pin(tok, "999999", WRONG_PIN), TG_ERR_PIN_INVALID);
	CHECK_EQ(token_pin_retries(tok, &r), 0);
	CHECK_EQ(r, 7);
	CHECK_EQ(token_set_pin(tok, "999999", PIN), 0);
	CHECK_EQ(token_set_pin(tok, PIN, "999999"), 0);
	CHECK_EQ(token_pin_retries(tok, &r), 0);
	CHECK_EQ(r, 8);
	token_free(&tok);
}

/* ---- tests: enrolment */

static void
check_enroll(int alg, struct token_credential **out)
{
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	uint8_t			 fp[32];
	int			 r;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = enroll(tok, alg, ca_pem, PIN, (const uint8_t (*)[16])aaguid, 1,
	    &c);
	token_free(&tok);
	CHECK_EQ(r, 0);
	*out = c;
	CHECK_EQ(c->pubkey.alg, alg);
	CHECK_EQ(c->pubkey.raw_len, alg == TOKEN_ALG_ES256 ? 64 : 32);
	CHECK_EQ(c->cose_len, alg == TOKEN_ALG_ES256 ? 77 : 42);
	CHECK(c->id_len >= 16);
	CHECK(memcmp(c->aaguid, aaguid, 16) == 0);
	CHECK_EQ(c->flags & (TOKEN_FLAG_UP | TOKEN_FLAG_UV | TOKEN_FLAG_AT),
	    TOKEN_FLAG_UP | TOKEN_FLAG_UV | TOKEN_FLAG_AT);
	CHECK_EQ(cert_sha256(attest_pem, fp), 0);
	CHECK(memcmp(c->cert_sha256, fp, 32) == 0);
}

static void
enroll_es256_attestation_chains_to_softfido_ca(void)
{
	check_enroll(TOKEN_ALG_ES256, &cred_es);
	if (cred_es != NULL)
		count_es = cred_es->sign_count;
}

static void
enroll_eddsa_attestation_chains_to_softfido_ca(void)
{
	check_enroll(TOKEN_ALG_EDDSA, &cred_ed);
	if (cred_ed != NULL)
		count_ed = cred_ed->sign_count;
}

static void
enroll_against_another_ca_is_refused(void)
{
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	int			 r;

	CHECK_EQ(make_other_ca(other_ca_pem), 0);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = enroll(tok, TOKEN_ALG_ES256, other_ca_pem, PIN, NULL, 0, &c);
	CHECK_EQ(r, TG_ERR_ATTESTATION);
	CHECK(c == NULL);
	/* the same key, the right roots: accepted */
	r = enroll(tok, TOKEN_ALG_ES256, ca_pem, PIN, NULL, 0, &c);
	token_free(&tok);
	CHECK_EQ(r, 0);
	token_credential_free(&c);
	CHECK(c == NULL);
}

static void
enroll_with_aaguid_not_on_allow_list_is_refused(void)
{
	static const uint8_t	 other[1][16] = { { 0xee, 0x88 } };
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	int			 r;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = enroll(tok, TOKEN_ALG_EDDSA, ca_pem, PIN, other, 1, &c);
	token_free(&tok);
	CHECK_EQ(r, TG_ERR_AAGUID);
	CHECK(c == NULL);
}

static void
enroll_with_unreadable_roots_fails(void)
{
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	char			 path[300];
	int			 r;

	snprintf(path, sizeof(path), "%s/no-such-roots.pem", topdir);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = enroll(tok, TOKEN_ALG_ES256, path, PIN, NULL, 0, &c);
	token_free(&tok);
	CHECK_EQ(r, TG_ERR_IO);
	CHECK(c == NULL);
}

static void
resident_credential_with_cred_protect_asserts_without_allow_list(void)
{
	static const uint8_t	 uid[] = { 1, 2, 3, 4 };
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	struct token_assertion	*a = NULL;
	struct token_enroll_req	 req;
	struct token_assert_req	 areq;
	uint32_t		 n;
	int			 r;

	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.user_id = uid;
	req.user_id_len = sizeof(uid);
	req.user_name = "resident";
	req.client_data_hash = cdh;
	req.alg = TOKEN_ALG_ES256;
	req.resident = true;
	req.cred_protect = 2;
	req.pin = PIN;
	req.trust_roots_pem = ca_pem;
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = token_enroll(tok, &req, &c);
	if (r != 0)
		token_free(&tok);
	CHECK_EQ(r, 0);
	CHECK_EQ(c->cred_protect, 2);
	memset(&areq, 0, sizeof(areq));
	areq.rp_id = RP;
	areq.client_data_hash = cdh;
	areq.pin = PIN;
	r = token_assert(tok, &areq, &a);
	token_free(&tok);
	if (r == 0) {
		r = a->cred_id_len == c->id_len &&
		    memcmp(a->cred_id, c->id, c->id_len) == 0 ?
		    verify(c, a, c->sign_count, &n) : -1;
	}
	token_assertion_free(&a);
	token_credential_free(&c);
	CHECK_EQ(r, 0);
}

/* ---- tests: assertions */

static void
check_assertions(const struct token_credential *c, uint32_t *last)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL, *b = NULL;
	uint32_t		 n1 = 0, n2 = 0;
	int			 r1, r2;

	CHECK(c != NULL);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r1 = assert_with(tok, c, PIN, &a);
	r2 = assert_with(tok, c, PIN, &b);
	token_free(&tok);
	if (r1 == 0 && r2 == 0) {
		CHECK_EQ(a->flags & (TOKEN_FLAG_UP | TOKEN_FLAG_UV),
		    TOKEN_FLAG_UP | TOKEN_FLAG_UV);
		CHECK(a->cred_id_len == c->id_len &&
		    memcmp(a->cred_id, c->id, c->id_len) == 0);
		r1 = verify(c, a, *last, &n1);
		r2 = verify(c, b, n1, &n2);
		CHECK_EQ(fido_verify(c, a), FIDO_OK);
		CHECK_EQ(fido_verify(c, b), FIDO_OK);
		CHECK_EQ(a->sign_count, n1);
	}
	token_assertion_free(&a);
	token_assertion_free(&b);
	CHECK_EQ(r1, 0);
	CHECK_EQ(r2, 0);
	CHECK(n1 > *last);
	CHECK(n2 > n1);
	*last = n2;
}

static void
assertion_es256_verifies_with_up_uv_and_counter_grows(void)
{
	check_assertions(cred_es, &count_es);
}

static void
assertion_eddsa_verifies_with_up_uv_and_counter_grows(void)
{
	check_assertions(cred_ed, &count_ed);
}

static void
replayed_assertion_and_foreign_key_are_refused(void)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	uint32_t		 n = 0;
	int			 r;

	CHECK(cred_es != NULL && cred_ed != NULL);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = assert_with(tok, cred_es, PIN, &a);
	token_free(&tok);
	CHECK_EQ(r, 0);
	r = verify(cred_es, a, count_es, &n);
	if (r == 0) {
		count_es = n;
		/* the very same assertion a second time */
		r = verify(cred_es, a, count_es, &n) == TG_ERR_COUNTER &&
		    verify(cred_ed, a, 0, &n) == TG_ERR_SIGNATURE ? 0 : -1;
	}
	token_assertion_free(&a);
	CHECK_EQ(r, 0);
}

static void
assertion_for_unknown_credential_gives_no_credential(void)
{
	static const uint8_t	 bogus[48] = { 0x42 };
	struct token_cred_id	 id = { bogus, sizeof(bogus) };
	struct token_assert_req	 req;
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	int			 r;

	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.client_data_hash = cdh;
	req.allow = &id;
	req.nallow = 1;
	req.pin = PIN;
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = token_assert(tok, &req, &a);
	token_free(&tok);
	CHECK_EQ(r, TG_ERR_NO_CREDENTIAL);
	CHECK(a == NULL);
}

static void
real_authdata_with_flags_cleared_is_refused(void)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	uint32_t		 n = 0;
	int			 r, r0;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = assert_with(tok, cred_es, PIN, &a);
	token_free(&tok);
	CHECK_EQ(r, 0);
	a->authdata[32] = 0x00;
	r0 = verify(cred_es, a, count_es, &n);
	a->authdata[32] = TOKEN_FLAG_UP;
	r = verify(cred_es, a, count_es, &n);
	token_assertion_free(&a);
	CHECK_EQ(r0, TG_ERR_FLAGS);
	CHECK_EQ(r, TG_ERR_FLAGS);
}

/* ---- tests: PIN errors */

static void
wrong_pin_is_refused_and_retries_drop(void)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	int			 n = 0, r;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = assert_with(tok, cred_es, WRONG_PIN, &a);
	if (r == TG_ERR_PIN_INVALID)
		r = token_pin_retries(tok, &n);
	token_free(&tok);
	CHECK_EQ(r, 0);
	CHECK(a == NULL);
	CHECK_EQ(n, 7);
	/* the right PIN works and restores the retries */
	CHECK_EQ(assert_and_verify(cred_es, &count_es), 0);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = token_pin_retries(tok, &n);
	token_free(&tok);
	CHECK_EQ(r, 0);
	CHECK_EQ(n, 8);
}

static void
three_wrong_pins_block_pin_auth_until_replug(void)
{
	struct token		*tok = NULL;
	struct token_assertion	*a[4] = { NULL, NULL, NULL, NULL };
	int			 r1, r2, r3, r4;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r1 = assert_with(tok, cred_es, WRONG_PIN, &a[0]);
	r2 = assert_with(tok, cred_es, WRONG_PIN, &a[1]);
	r3 = assert_with(tok, cred_es, WRONG_PIN, &a[2]);
	/* now even the right PIN is refused until a power cycle */
	r4 = assert_with(tok, cred_es, PIN, &a[3]);
	token_free(&tok);
	for (int i = 0; i < 4; i++)
		token_assertion_free(&a[i]);
	CHECK_EQ(r1, TG_ERR_PIN_INVALID);
	CHECK_EQ(r2, TG_ERR_PIN_INVALID);
	CHECK_EQ(r3, TG_ERR_PIN_AUTH_BLOCKED);
	CHECK_EQ(r4, TG_ERR_PIN_AUTH_BLOCKED);
	CHECK_EQ(sf_restart(&sf_a), 0);
	CHECK_EQ(assert_and_verify(cred_es, &count_es), 0);
}

/* ---- tests: persistence */

static void
state_survives_restart(void)
{
	struct token		*tok = NULL;
	struct token_info	*in = NULL;
	int			 r;

	CHECK_EQ(sf_restart(&sf_a), 0);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	r = token_info_new(tok, &in);
	token_free(&tok);
	CHECK_EQ(r, 0);
	CHECK(in->pin_set);
	CHECK_EQ(in->pin_retries, 8);
	CHECK(memcmp(in->aaguid, aaguid, 16) == 0);
	token_info_free(&in);
	/* credentials and counters: the counter keeps growing */
	CHECK_EQ(assert_and_verify(cred_es, &count_es), 0);
	CHECK_EQ(assert_and_verify(cred_ed, &count_ed), 0);
}

/* ---- tests: the button */

static void
button_refuse_gives_denied(void)
{
	uint32_t	last = count_es;
	int		r;

	CHECK_EQ(sf_ctl(&sf_a, "button", "refuse"), 0);
	r = assert_and_verify(cred_es, &last);
	CHECK_EQ(sf_ctl(&sf_a, "button", "auto"), 0);
	CHECK_EQ(r, TG_ERR_DENIED);
	CHECK_EQ(last, count_es);
}

static void
button_never_gives_no_touch(void)
{
	uint32_t	last = count_es;
	int		r;

	CHECK_EQ(sf_ctl(&sf_a, "button", "never"), 0);
	r = assert_and_verify(cred_es, &last);
	CHECK_EQ(sf_ctl(&sf_a, "button", "auto"), 0);
	CHECK_EQ(r, TG_ERR_NO_TOUCH);
}

static void
touch_slower_than_host_budget_gives_timeout(void)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	int			 r;

	CHECK_EQ(sf_ctl(&sf_a, "button", "delay:1200"), 0);
	CHECK_EQ(open_key(&sf_a, 500, &tok), 0);
	r = assert_with(tok, cred_es, PIN, &a);
	token_free(&tok);
	CHECK_EQ(sf_ctl(&sf_a, "button", "auto"), 0);
	CHECK_EQ(r, TG_ERR_TIMEOUT);
	CHECK(a == NULL);
	/* the key is usable again once it has given up */
	CHECK_EQ(assert_and_verify(cred_es, &count_es), 0);
}

/* ---- tests: a key that misbehaves */

/*
 * One assertion with fault switched on after the key was opened (so that
 * getInfo at open is not what breaks): the token_assert or verify error.
 */
static int
assert_under_fault(const char *fault, const struct token_credential *c,
    uint32_t *last)
{
	struct token		*tok = NULL;
	struct token_assertion	*a = NULL;
	uint32_t		 n;
	int			 r;

	if ((r = open_key(&sf_a, 0, &tok)) != 0)
		return r;
	if (sf_ctl(&sf_a, "fault", fault) != 0) {
		token_free(&tok);
		return 1;
	}
	if ((r = assert_with(tok, c, PIN, &a)) == 0 &&
	    (r = verify(c, a, *last, &n)) == 0)
		*last = n;
	token_assertion_free(&a);
	token_free(&tok);
	if (sf_ctl(&sf_a, "fault", "none") != 0)
		return 1;
	return r;
}

static int
enroll_under_fault(const char *fault)
{
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	int			 r;

	if ((r = open_key(&sf_a, 0, &tok)) != 0)
		return r;
	if (sf_ctl(&sf_a, "fault", fault) != 0) {
		token_free(&tok);
		return 1;
	}
	r = enroll(tok, TOKEN_ALG_ES256, ca_pem, PIN, NULL, 0, &c);
	token_free(&tok);
	token_credential_free(&c);
	if (sf_ctl(&sf_a, "fault", "none") != 0)
		return 1;
	return r;
}

static void
fault_bad_signature_is_detected(void)
{
	CHECK_EQ(assert_under_fault("bad-signature", cred_es, &count_es),
	    TG_ERR_SIGNATURE);
	CHECK_EQ(assert_under_fault("bad-signature", cred_ed, &count_ed),
	    TG_ERR_SIGNATURE);
	CHECK_EQ(enroll_under_fault("bad-signature"), TG_ERR_ATTESTATION);
	CHECK_EQ(assert_and_verify(cred_es, &count_es), 0);
}

static void
fault_counter_backwards_is_detected(void)
{
	CHECK_EQ(assert_under_fault("counter-backwards", cred_es, &count_es),
	    TG_ERR_COUNTER);
	CHECK_EQ(assert_under_fault("counter-backwards", cred_ed, &count_ed),
	    TG_ERR_COUNTER);
}

static void
fault_wrong_rpid_is_detected(void)
{
	CHECK_EQ(assert_under_fault("wrong-rpid", cred_es, &count_es),
	    TG_ERR_RPID);
	CHECK_EQ(enroll_under_fault("wrong-rpid"), TG_ERR_RPID);
}

static void
fault_no_up_is_detected(void)
{
	CHECK_EQ(assert_under_fault("no-up", cred_es, &count_es),
	    TG_ERR_FLAGS);
	CHECK_EQ(enroll_under_fault("no-up"), TG_ERR_FLAGS);
}

static void
fault_no_uv_is_detected(void)
{
	CHECK_EQ(assert_under_fault("no-uv", cred_ed, &count_ed),
	    TG_ERR_FLAGS);
	CHECK_EQ(enroll_under_fault("no-uv"), TG_ERR_FLAGS);
}

static void
fault_malformed_cbor_is_detected(void)
{
	struct token	*tok = NULL;
	int		 r;

	CHECK_EQ(assert_under_fault("malformed-cbor", cred_es, &count_es),
	    TG_ERR_PROTOCOL);
	CHECK_EQ(enroll_under_fault("malformed-cbor"), TG_ERR_PROTOCOL);
	/* getInfo cut short: the key does not even open */
	CHECK_EQ(sf_ctl(&sf_a, "fault", "malformed-cbor"), 0);
	r = open_key(&sf_a, 0, &tok);
	token_free(&tok);
	CHECK_EQ(sf_ctl(&sf_a, "fault", "none"), 0);
	CHECK_EQ(r, TG_ERR_PROTOCOL);
	/* and the key is fine once the fault is off */
	CHECK_EQ(assert_and_verify(cred_es, &count_es), 0);
}

/* ---- tests: the key disappears */

static void *
killer(void *arg)
{
	struct sf *s = arg;

	usleep(400 * 1000);
	kill(s->pid, SIGKILL);
	return NULL;
}

static void
killing_softfido_mid_session_gives_device_gone(void)
{
	struct token		*tok = NULL, *again = NULL;
	struct token_assertion	*a = NULL;
	struct token_info	*in = NULL;
	pthread_t		 th;
	int			 r1, r2, r3, status;

	CHECK_EQ(sf_ctl(&sf_a, "button", "delay:5000"), 0);
	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	CHECK_EQ(pthread_create(&th, NULL, killer, &sf_a), 0);
	/* waiting for the touch when the key dies */
	r1 = assert_with(tok, cred_es, PIN, &a);
	pthread_join(th, NULL);
	waitpid(sf_a.pid, &status, 0);
	sf_a.pid = -1;
	/* the same session stays dead; a new one finds nobody */
	r2 = token_info_new(tok, &in);
	token_free(&tok);
	r3 = token_open(sf_a.name, NULL, &again);
	CHECK_EQ(r1, TG_ERR_DEVICE_GONE);
	CHECK(a == NULL);
	CHECK_EQ(r2, TG_ERR_DEVICE_GONE);
	CHECK(in == NULL);
	CHECK_EQ(r3, TG_ERR_DEVICE_GONE);
	CHECK(again == NULL);
}

/* ---- tests: the daemon re-verifies what its token process reports */

/* The enrolment reply a token process sends, from parts it may forge. */
static int
child_reply(const uint8_t *ad, size_t adlen, const char *fmt,
    const uint8_t *att, size_t attlen, const uint8_t *want_cdh,
    struct token_credential **out)
{
	static struct msg m, r;
	struct token_enroll_req req;

	msg_init(&m);
	msg_put_u32(&m, 0);
	msg_put_bytes(&m, ad, adlen);
	msg_put_str(&m, fmt);
	msg_put_bytes(&m, att, attlen);
	if (msg_load(&r, m.buf, m.len) != 0)
		return -1000;
	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.rp_name = "tapgate";
	req.client_data_hash = want_cdh;
	req.alg = TOKEN_ALG_ES256;
	req.trust_roots_pem = ca_pem;
	return tokenproc_enroll_reply(&r, &req, out, NULL);
}

/* fuzz_privsep's input for an enrolment reply: kind byte, then the reply */
static void
write_privsep_seed(const struct token_credential *c)
{
	static struct msg m;
	const char *dir = getenv("TAPGATE_FUZZ_SEED_DIR");
	char path[512];
	uint8_t kind = 1;	/* an enrolment, ES256 */
	FILE *f;

	if (dir == NULL)
		return;
	msg_init(&m);
	msg_put_u32(&m, 0);
	msg_put_bytes(&m, c->authdata, c->authdata_len);
	msg_put_str(&m, c->fmt);
	msg_put_bytes(&m, c->attstmt, c->attstmt_len);
	snprintf(path, sizeof(path), "%s/enroll_genuine_es256", dir);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(&kind, 1, 1, f) != 1 ||
	    fwrite(m.buf, 1, m.len, f) != m.len || fclose(f) != 0)
		printf("# cannot write %s\n", path);
}

static void
forged_enrolment_reports_are_refused_by_the_daemon(void)
{
	struct token		*tok = NULL;
	struct token_credential	*a = NULL, *b = NULL, *v = NULL;
	uint8_t			 ad[TOKEN_AUTHDATA_MAX], other_cdh[32];
	int			 ra, rb;

	CHECK_EQ(open_key(&sf_a, 0, &tok), 0);
	ra = enroll(tok, TOKEN_ALG_ES256, ca_pem, PIN, NULL, 0, &a);
	rb = enroll(tok, TOKEN_ALG_ES256, ca_pem, PIN, NULL, 0, &b);
	token_free(&tok);
	CHECK_EQ(ra, 0);
	CHECK_EQ(rb, 0);
	if (ra != 0 || rb != 0)
		goto out;
	/* with TAPGATE_FUZZ_SEED_DIR, keep the genuine one for fuzz_privsep */
	write_privsep_seed(a);
	/* the genuine report: the daemon derives the same credential */
	CHECK_EQ(child_reply(a->authdata, a->authdata_len, a->fmt, a->attstmt,
	    a->attstmt_len, cdh, &v), 0);
	CHECK(v != NULL && v->id_len == a->id_len &&
	    memcmp(v->id, a->id, a->id_len) == 0 &&
	    v->pubkey.raw_len == a->pubkey.raw_len &&
	    memcmp(v->pubkey.raw, a->pubkey.raw, a->pubkey.raw_len) == 0 &&
	    memcmp(v->cert_sha256, a->cert_sha256, 32) == 0);
	token_credential_free(&v);
	/* another credential's key under this attestation: a swapped key */
	CHECK_EQ(child_reply(b->authdata, b->authdata_len, a->fmt, a->attstmt,
	    a->attstmt_len, cdh, &v), TG_ERR_ATTESTATION);
	/* one bit of the public key changed */
	memcpy(ad, a->authdata, a->authdata_len);
	ad[a->authdata_len - 1] ^= 1;
	CHECK(child_reply(ad, a->authdata_len, a->fmt, a->attstmt,
	    a->attstmt_len, cdh, &v) != 0 && v == NULL);
	/* a genuine attestation replayed for another enrolment's challenge */
	memset(other_cdh, 0x5a, sizeof(other_cdh));
	CHECK_EQ(child_reply(a->authdata, a->authdata_len, a->fmt, a->attstmt,
	    a->attstmt_len, other_cdh, &v), TG_ERR_ATTESTATION);
	/* no attestation at all */
	CHECK_EQ(child_reply(a->authdata, a->authdata_len, "none",
	    (const uint8_t *)"\xa0", 1, cdh, &v), TG_ERR_ATTESTATION);
	/* a map header that declares 35 M entries (libcbor would allocate) */
	{
		uint8_t bomb[TOKEN_ATTSTMT_MAX];

		CHECK(a->attstmt_len + 8 <= sizeof(bomb));
		bomb[0] = 0xbb;		/* map, 8-byte count */
		memset(bomb + 1, 0, 8);
		bomb[5] = 0x02;
		bomb[6] = 0x20;
		memcpy(bomb + 9, a->attstmt + 1, a->attstmt_len - 1);
		CHECK_EQ(child_reply(a->authdata, a->authdata_len, a->fmt,
		    bomb, a->attstmt_len + 8, cdh, &v), TG_ERR_PROTOCOL);
	}
	/* the flags say no user verification */
	memcpy(ad, a->authdata, a->authdata_len);
	ad[32] &= (uint8_t)~TOKEN_FLAG_UV;
	CHECK_EQ(child_reply(ad, a->authdata_len, a->fmt, a->attstmt,
	    a->attstmt_len, cdh, &v), TG_ERR_FLAGS);
	CHECK(v == NULL);
out:
	token_credential_free(&a);
	token_credential_free(&b);
}

/* ---- tests: wearing a PIN out (second key) */

static void
eight_wrong_pins_block_the_pin_for_good(void)
{
	struct token		*tok = NULL;
	struct token_credential	*c = NULL;
	int			 r[9], left = -1;

	CHECK_EQ(sf_start(&sf_b), 0);
	CHECK_EQ(open_key(&sf_b, 0, &tok), 0);
	CHECK_EQ(token_set_pin(tok, PIN, NULL), 0);
	for (int i = 0; i < 8; i++) {
		if (i == 3 || i == 6) {
			/* PIN auth blocked: power-cycle the key */
			token_free(&tok);
			CHECK_EQ(sf_restart(&sf_b), 0);
			CHECK_EQ(open_key(&sf_b, 0, &tok), 0);
		}
		r[i] = enroll(tok, TOKEN_ALG_ES256, ca_pem, WRONG_PIN, NULL, 0,
		    &c);
	}
	r[8] = enroll(tok, TOKEN_ALG_ES256, ca_pem, PIN, NULL, 0, &c);
	(void)token_pin_retries(tok, &left);
	token_free(&tok);
	CHECK(c == NULL);
	CHECK_EQ(r[0], TG_ERR_PIN_INVALID);
	CHECK_EQ(r[1], TG_ERR_PIN_INVALID);
	CHECK_EQ(r[2], TG_ERR_PIN_AUTH_BLOCKED);
	CHECK_EQ(r[3], TG_ERR_PIN_INVALID);
	CHECK_EQ(r[5], TG_ERR_PIN_AUTH_BLOCKED);
	CHECK_EQ(r[6], TG_ERR_PIN_INVALID);
	CHECK_EQ(r[7], TG_ERR_PIN_BLOCKED);
	CHECK_EQ(r[8], TG_ERR_PIN_BLOCKED);
	CHECK_EQ(left, 0);
}

/* ---- setup */

static void
rm_tree(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	char		 p[600];
	struct stat	 st;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
setup(void)
{
	const char	*build = getenv("BUILD"), *t = getenv("TMPDIR");
	const char	*slash;
	static const char clientdata[] = "{\"type\":\"webauthn.get\","
	    "\"challenge\":\"dGFwZ2F0ZSBlMmU\",\"origin\":\"https://" RP "\"}";

	if (build == NULL)
		build = "build";
	snprintf(softfido_bin, sizeof(softfido_bin), "%s/softfido", build);
	if (access(softfido_bin, X_OK) != 0) {
		printf("# %s: %s\n", softfido_bin, strerror(errno));
		return -1;
	}
	/* mkattest.sh writes the CA and the leaf side by side */
	if ((ca_pem = getenv("SOFTFIDO_CA")) == NULL)
		ca_pem = "build/gen/softfido-ca.pem";
	slash = strrchr(ca_pem, '/');
	snprintf(attest_pem, sizeof(attest_pem), "%.*s%ssoftfido-attest.pem",
	    slash != NULL ? (int)(slash - ca_pem) : 0, ca_pem,
	    slash != NULL ? "/" : "");
	if (access(ca_pem, R_OK) != 0 || access(attest_pem, R_OK) != 0) {
		printf("# %s or %s: missing\n", ca_pem, attest_pem);
		return -1;
	}
	snprintf(topdir, sizeof(topdir), "%s/tg-e2e-token.XXXXXX",
	    t != NULL && strlen(t) < 60 ? t : "/tmp");
	if (mkdtemp(topdir) == NULL)
		return -1;
	snprintf(other_ca_pem, sizeof(other_ca_pem), "%s/other-ca.pem",
	    topdir);
	SHA256((const unsigned char *)clientdata, sizeof(clientdata) - 1,
	    cdh);
	if (sf_init(&sf_a, "a") != 0 || sf_init(&sf_b, "b") != 0 ||
	    sf_start(&sf_a) != 0)
		return -1;
	return 0;
}

int
main(void)
{
	if (setup() != 0) {
		printf("not ok e2e_token_setup\n");
		if (topdir[0] != '\0')
			rm_tree(topdir);
		return 1;
	}
	RUN(info_shows_fido_2_1_aaguid_algorithms_and_pin_protocols);
	RUN(pin_rules_are_checked_before_the_key_is_asked);
	RUN(set_pin_then_info_shows_pin_set_and_8_retries);
	RUN(enroll_es256_attestation_chains_to_softfido_ca);
	RUN(enroll_eddsa_attestation_chains_to_softfido_ca);
	RUN(enroll_against_another_ca_is_refused);
	RUN(enroll_with_aaguid_not_on_allow_list_is_refused);
	RUN(enroll_with_unreadable_roots_fails);
	RUN(forged_enrolment_reports_are_refused_by_the_daemon);
	RUN(resident_credential_with_cred_protect_asserts_without_allow_list);
	RUN(assertion_es256_verifies_with_up_uv_and_counter_grows);
	RUN(assertion_eddsa_verifies_with_up_uv_and_counter_grows);
	RUN(replayed_assertion_and_foreign_key_are_refused);
	RUN(assertion_for_unknown_credential_gives_no_credential);
	RUN(real_authdata_with_flags_cleared_is_refused);
	RUN(wrong_pin_is_refused_and_retries_drop);
	RUN(three_wrong_pins_block_pin_auth_until_replug);
	RUN(state_survives_restart);
	RUN(button_refuse_gives_denied);
	RUN(button_never_gives_no_touch);
	RUN(touch_slower_than_host_budget_gives_timeout);
	RUN(fault_bad_signature_is_detected);
	RUN(fault_counter_backwards_is_detected);
	RUN(fault_wrong_rpid_is_detected);
	RUN(fault_no_up_is_detected);
	RUN(fault_no_uv_is_detected);
	RUN(fault_malformed_cbor_is_detected);
	RUN(killing_softfido_mid_session_gives_device_gone);
	RUN(eight_wrong_pins_block_the_pin_for_good);
	if (tap_total_failed != 0) {
		printf("# softfido logs: %s/a/softfido.log %s/b/softfido.log\n",
		    topdir, topdir);
	}
	sf_stop(&sf_a);
	sf_stop(&sf_b);
	token_credential_free(&cred_es);
	token_credential_free(&cred_ed);
	if (tap_total_failed == 0)
		rm_tree(topdir);
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * Credential lists longer than a key takes, end to end: src/token/ and the
 * token process drive a real softfido process ($BUILD/softfido), which
 * takes at most 8 credential ids in a list (getInfo's
 * maxCredentialCountInList) and answers CTAP2_ERR_LIMIT_EXCEEDED past
 * that, as many hardware keys do.  The ids the key does not hold are
 * random 32-byte strings, the shape of softfido's own.
 *
 * Last, the replies a token process sends for enrolments as the daemon
 * asks for them (credProtect 3) must verify in the daemon; with
 * TAPGATE_FUZZ_SEED_DIR set they are kept there as fuzz_privsep's
 * genuine seeds (tests/fuzz/mkcorpus_privsep.sh).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "../unit/tap.h"
#include "common/errors.h"
#include "daemon/tokenproc.h"
#include "token/token.h"
#include "token/token_int.h"	/* softfido's libfido2 I/O, for the control */

#define RP		"tapgate.example"
#define PIN		"246810"
#define WRONG_PIN	"135790"
#define NLIST		40	/* five batches of the key's 8 */
/* more ids than one message between processes holds */
#define NPROC		600
#define ID_LEN		32

static char		 dir[128], sock[200], ctl[210], state[200], sf_log[200];
static char		 name[220], softfido_bin[256], tapgated_bin[256];
static const char	*ca_pem;
static pid_t		 sf_pid = -1;
static uint8_t		 cdh[32];
static struct token_credential *held;	/* a credential the key holds */
static uint8_t		 foreign[NPROC][ID_LEN];	/* ids nobody holds */
static struct token_cred_id list[TOKEN_LIST_MAX + 1];

/* ---- the key */

static int
sf_start(void)
{
	pid_t	pid, parent = getpid();
	int	fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(127);
		if ((fd = open(sf_log, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(softfido_bin, "softfido", "--socket", sock, "--state",
		    state, "--up-timeout", "1500", (char *)NULL);
		_exit(127);
	}
	sf_pid = pid;
	return 0;
}

static void
sf_stop(void)
{
	if (sf_pid > 0) {
		kill(sf_pid, SIGTERM);
		waitpid(sf_pid, NULL, 0);
		sf_pid = -1;
	}
}

/* `softfido --ctl CTL button MODE`: 0 when it worked. */
static int
sf_button(const char *mode)
{
	pid_t	pid;
	int	status, fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		/* its answer is for people, not for the TAP stream */
		if ((fd = open("/dev/null", O_WRONLY)) != -1)
			dup2(fd, 1);
		execl(softfido_bin, "softfido", "--ctl", ctl, "button", mode,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
open_key(struct token **tok)
{
	struct token_opts o = { 0, 5000 };

	return token_open(name, &o, tok);
}

/* ---- lists */

#define NOWHERE	((size_t)-1)

/* n foreign ids, and the held credential at index at (or NOWHERE). */
static size_t
make_list(size_t n, size_t at)
{
	size_t i, k = 0;

	for (i = 0; i <= n; i++) {
		if (i == at) {
			list[k].ptr = held->id;
			list[k++].len = held->id_len;
		}
		if (i < n) {
			list[k].ptr = foreign[i];
			list[k++].len = ID_LEN;
		}
	}
	return k;
}

static void
enroll_req(struct token_enroll_req *req, const char *pin, size_t nexcl)
{
	static const uint8_t uid[] = "officer-lists";

	memset(req, 0, sizeof(*req));
	req->rp_id = RP;
	req->rp_name = "tapgate";
	req->user_id = uid;
	req->user_id_len = sizeof(uid) - 1;
	req->user_name = "officer-lists";
	req->client_data_hash = cdh;
	req->alg = TOKEN_ALG_ES256;
	req->cred_protect = 3;
	req->pin = pin;
	req->trust_roots_pem = ca_pem;
	req->exclude = list;
	req->nexclude = nexcl;
}

static int
enroll(const char *pin, size_t nexcl, struct token_credential **c)
{
	struct token_enroll_req	 req;
	struct token		*tok = NULL;
	int			 r;

	enroll_req(&req, pin, nexcl);
	if ((r = open_key(&tok)) == 0)
		r = token_enroll(tok, &req, c);
	token_free(&tok);
	return r;
}

static int
assert_list(size_t nallow, struct token_assertion **a)
{
	struct token_assert_req	 req;
	struct token		*tok = NULL;
	int			 r;

	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.client_data_hash = cdh;
	req.allow = list;
	req.nallow = nallow;
	req.pin = PIN;
	if ((r = open_key(&tok)) == 0)
		r = token_assert(tok, &req, a);
	token_free(&tok);
	return r;
}

/* ---- tests */

/*
 * The control: the key says it takes 8 ids of at most 32 bytes, and
 * refuses a ninth id like a hardware key (libfido2 alone, no batching).
 */
static void
key_advertises_and_enforces_a_list_limit_of_8(void)
{
	struct token		*tok = NULL;
	struct token_info	*in = NULL;
	fido_dev_t		*dev = NULL;
	fido_assert_t		*a = NULL;
	int			 r8 = 0, r9 = 0;

	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_info_new(tok, &in), 0);
	token_free(&tok);
	CHECK_EQ(in->max_cred_count_in_list, 8);
	CHECK_EQ(in->max_cred_id_len, ID_LEN);
	token_info_free(&in);

	token_fido_init();
	sf_io_prepare(0);
	CHECK((dev = fido_dev_new()) != NULL);
	CHECK((a = fido_assert_new()) != NULL);
	if (fido_dev_set_io_functions(dev, &sf_io) == FIDO_OK &&
	    fido_dev_open(dev, sock) == FIDO_OK &&
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) == FIDO_OK &&
	    fido_assert_set_rp(a, RP) == FIDO_OK &&
	    fido_assert_set_up(a, FIDO_OPT_FALSE) == FIDO_OK) {
		for (int i = 0; i < 8; i++)
			fido_assert_allow_cred(a, foreign[i], ID_LEN);
		r8 = fido_dev_get_assert(dev, a, NULL);
		fido_assert_allow_cred(a, foreign[8], ID_LEN);
		r9 = fido_dev_get_assert(dev, a, NULL);
		fido_dev_close(dev);
	}
	fido_assert_free(&a);
	fido_dev_free(&dev);
	CHECK_EQ(r8, FIDO_ERR_NO_CREDENTIALS);
	CHECK_EQ(r9, FIDO_ERR_LIMIT_EXCEEDED);
}

static void
enrolment_refuses_a_key_holding_a_credential_of_any_batch(void)
{
	static const size_t at[] = { 0, 9, 20, 31, NLIST - 1 };
	struct token_credential *c = NULL;
	size_t n;

	CHECK_EQ(enroll(PIN, 0, &held), 0);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		n = make_list(NLIST - 1, at[i]);
		CHECK_EQ(n, NLIST);
		CHECK_EQ(enroll(PIN, n, &c), TG_ERR_EXISTS);
		CHECK(c == NULL);
	}
}

static void
enrolment_passes_a_long_list_the_key_holds_none_of(void)
{
	struct token_credential *c = NULL;

	CHECK_EQ(enroll(PIN, make_list(NLIST, NOWHERE), &c), 0);
	CHECK(c != NULL && c->id_len == ID_LEN);
	token_credential_free(&c);
}

static void
assertion_finds_the_credential_past_the_first_batch(void)
{
	struct token_assertion	*a = NULL;
	struct token_verify_req	 v;
	uint32_t		 count = 0;

	CHECK_EQ(assert_list(make_list(NLIST - 1, 20), &a), 0);
	CHECK(a->cred_id_len == held->id_len &&
	    memcmp(a->cred_id, held->id, held->id_len) == 0);
	memset(&v, 0, sizeof(v));
	v.pubkey = &held->pubkey;
	v.rp_id = RP;
	v.client_data_hash = cdh;
	v.authdata = a->authdata;
	v.authdata_len = a->authdata_len;
	v.sig = a->sig;
	v.sig_len = a->sig_len;
	v.prev_sign_count = held->sign_count;
	CHECK_EQ(token_verify_assertion(&v, &count), 0);
	token_assertion_free(&a);
}

static void
assertion_over_foreign_ids_only_gives_no_credential(void)
{
	struct token_assertion *a = NULL;

	CHECK_EQ(assert_list(make_list(NLIST, NOWHERE), &a),
	    TG_ERR_NO_CREDENTIAL);
	CHECK(a == NULL);
}

/* token_identify() over list[0..n) on a key of its own; id its answer. */
static int
identify_list(size_t n, const char *pin, uint8_t **id, size_t *len)
{
	struct token_assert_req	 req;
	struct token		*tok = NULL;
	int			 r;

	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.allow = list;
	req.nallow = n;
	req.pin = pin;
	if ((r = open_key(&tok)) == 0)
		r = token_identify(tok, &req, id, len);
	token_free(&tok);
	return r;
}

/*
 * Which credential the key holds, asked without a touch: found in any
 * batch, the last one too, while the button never touches (a touch
 * asked would end in TG_ERR_NO_TOUCH); a list of none it holds gives
 * no credential.
 */
static void
identification_finds_the_credential_without_a_touch(void)
{
	static const size_t at[] = { 0, 20, NLIST - 1 };
	uint8_t *id = NULL;
	size_t i, len = 0;
	int r[3], none;

	CHECK_EQ(sf_button("never"), 0);
	for (i = 0; i < 3; i++) {
		r[i] = identify_list(make_list(NLIST - 1, at[i]), PIN, &id,
		    &len);
		CHECK(r[i] != 0 || (len == held->id_len &&
		    memcmp(id, held->id, len) == 0));
		free(id);
		id = NULL;
	}
	none = identify_list(make_list(NLIST, NOWHERE), PIN, &id, &len);
	CHECK_EQ(sf_button("auto"), 0);
	CHECK_EQ(r[0], 0);
	CHECK_EQ(r[1], 0);
	CHECK_EQ(r[2], 0);
	CHECK_EQ(none, TG_ERR_NO_CREDENTIAL);
	CHECK(id == NULL);
}

/* A wrong PIN ends the identification at once, for one retry. */
static void
identification_with_a_wrong_pin_costs_one_retry(void)
{
	struct token *tok = NULL;
	uint8_t *id = NULL;
	size_t len = 0;
	int before = -1, after = -1, r;

	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_pin_retries(tok, &before), 0);
	token_free(&tok);
	r = identify_list(make_list(NLIST - 1, NLIST - 1), WRONG_PIN, &id,
	    &len);
	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_pin_retries(tok, &after), 0);
	token_free(&tok);
	CHECK_EQ(r, TG_ERR_PIN_INVALID);
	CHECK_EQ(after, before - 1);
	CHECK(id == NULL);
}

/*
 * An id longer than the key's maxCredentialIdLength cannot be asked
 * about: refused loudly, before anything waits for a touch (the button
 * never touches, so a request that did would end in TG_ERR_NO_TOUCH).
 */
static void
id_longer_than_the_key_takes_is_refused_before_any_touch(void)
{
	static uint8_t long_id[ID_LEN + 1];
	struct token_credential *c = NULL;
	struct token_assertion *a = NULL;
	int re, ra;

	memset(long_id, 0x5c, sizeof(long_id));
	make_list(NLIST, NOWHERE);
	list[NLIST - 1].ptr = long_id;
	list[NLIST - 1].len = sizeof(long_id);
	CHECK_EQ(sf_button("never"), 0);
	re = enroll(PIN, NLIST, &c);
	ra = assert_list(NLIST, &a);
	CHECK_EQ(sf_button("auto"), 0);
	CHECK_EQ(re, TG_ERR_UNSUPPORTED);
	CHECK_EQ(ra, TG_ERR_UNSUPPORTED);
	CHECK(c == NULL && a == NULL);
}

/* Probing batch after batch with a wrong PIN would burn the retries. */
static void
wrong_pin_costs_one_retry_however_many_batches(void)
{
	struct token_credential *c = NULL;
	struct token *tok = NULL;
	int before = -1, after = -1, r;

	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_pin_retries(tok, &before), 0);
	token_free(&tok);
	r = enroll(WRONG_PIN, make_list(NLIST, NOWHERE), &c);
	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_pin_retries(tok, &after), 0);
	token_free(&tok);
	CHECK_EQ(r, TG_ERR_PIN_INVALID);
	CHECK_EQ(after, before - 1);
}

/*
 * The daemon's token process takes a list longer than one message
 * between the processes (MSG_MAX): sent in parts, none dropped.
 */
static void
token_process_carries_a_list_over_one_message(void)
{
	struct tokenproc	*tp = NULL;
	struct token_credential	*c = NULL;
	struct token_enroll_req	 req;
	size_t			 n;
	int			 hit, clean, over;

	CHECK_EQ(tokenproc_start(tapgated_bin, 5000, ca_pem, NULL, NULL,
	    &tp), 0);
	n = make_list(NPROC - 1, 500);
	CHECK(n * (4 + ID_LEN) > MSG_MAX);
	enroll_req(&req, PIN, n);
	hit = tokenproc_enroll(tp, name, &req, &c, NULL);
	token_credential_free(&c);
	enroll_req(&req, PIN, make_list(NPROC, NOWHERE));
	clean = tokenproc_enroll(tp, name, &req, &c, NULL);
	token_credential_free(&c);
	req.nexclude = TOKEN_LIST_MAX + 1;
	over = tokenproc_enroll(tp, name, &req, &c, NULL);
	tokenproc_stop(&tp);
	CHECK_EQ(hit, TG_ERR_EXISTS);
	CHECK_EQ(clean, 0);
	CHECK_EQ(over, TG_ERR_TOO_LONG);
}

/*
 * The token process says which credential the key holds, over a list
 * longer than one message, and after a wrong PIN the attempts the key
 * has left, as the key itself counts them.
 */
static void
token_process_identifies_and_says_the_attempts_left(void)
{
	struct tokenproc	*tp = NULL;
	struct token_assert_req	 req;
	struct token		*tok = NULL;
	uint8_t			*id = NULL;
	size_t			 len = 0;
	int			 found, wrong, left1 = 0, left2 = 0;
	int			 before = -1, after = -1;

	CHECK_EQ(tokenproc_start(tapgated_bin, 5000, ca_pem, NULL, NULL,
	    &tp), 0);
	memset(&req, 0, sizeof(req));
	req.rp_id = RP;
	req.allow = list;
	req.nallow = make_list(NPROC - 1, 500);
	req.pin = PIN;
	found = tokenproc_identify(tp, name, &req, &id, &len, &left1);
	CHECK(found != 0 || (len == held->id_len &&
	    memcmp(id, held->id, len) == 0));
	free(id);
	id = NULL;
	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_pin_retries(tok, &before), 0);
	token_free(&tok);
	req.pin = WRONG_PIN;
	wrong = tokenproc_identify(tp, name, &req, &id, &len, &left2);
	tokenproc_stop(&tp);
	CHECK_EQ(open_key(&tok), 0);
	CHECK_EQ(token_pin_retries(tok, &after), 0);
	token_free(&tok);
	CHECK_EQ(found, 0);
	CHECK_EQ(left1, -1);
	CHECK_EQ(wrong, TG_ERR_PIN_INVALID);
	CHECK_EQ(after, before - 1);
	CHECK_EQ(left2, after);
	CHECK(id == NULL);
}

/*
 * fuzz_privsep's input for an enrolment reply: the kind byte (bit 0 an
 * enrolment, bit 1 EdDSA), then what the token process sends.
 */
static int
privsep_reply(const struct token_credential *c, uint8_t kind, struct msg *m)
{
	msg_init(m);
	msg_put_u8(m, kind);
	msg_put_u32(m, 0);
	msg_put_bytes(m, c->authdata, c->authdata_len);
	msg_put_str(m, c->fmt);
	msg_put_bytes(m, c->attstmt, c->attstmt_len);
	return m->bad ? -1 : 0;
}

static int
keep_seed(const struct msg *m, const char *file)
{
	const char	*d = getenv("TAPGATE_FUZZ_SEED_DIR");
	char		 path[512];
	FILE		*f;

	if (d == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", d, file);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(m->buf, 1, m->len, f) != m->len) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* The daemon's enrolment as fuzz_privsep replays it; 0 when it verifies. */
static int
enrolment_reply_verifies(int alg, const char *file)
{
	static const uint8_t zero[TOKEN_CDH_LEN];
	static struct msg m, r;
	struct token_credential	*c = NULL, *v = NULL;
	struct token_enroll_req	 req;
	struct token		*tok = NULL;
	int			 rc = -1;

	enroll_req(&req, PIN, 0);
	req.alg = alg;
	req.client_data_hash = zero;
	if (open_key(&tok) != 0 || token_enroll(tok, &req, &c) != 0 ||
	    privsep_reply(c, alg == TOKEN_ALG_EDDSA ? 3 : 1, &m) != 0 ||
	    msg_load(&r, m.buf + 1, m.len - 1) != 0)
		goto out;
	if (tokenproc_enroll_reply(&r, &req, &v, NULL) != 0 ||
	    msg_end(&r) != 0 || v->id_len != c->id_len ||
	    memcmp(v->id, c->id, c->id_len) != 0 || v->cred_protect != 3)
		goto out;
	rc = keep_seed(&m, file);
out:
	token_free(&tok);
	token_credential_free(&c);
	token_credential_free(&v);
	return rc;
}

static void
enrolment_replies_with_cred_protect_verify_in_the_daemon(void)
{
	CHECK_EQ(enrolment_reply_verifies(TOKEN_ALG_ES256,
	    "enroll_verifies_es256"), 0);
	CHECK_EQ(enrolment_reply_verifies(TOKEN_ALG_EDDSA,
	    "enroll_verifies_eddsa"), 0);
}

/* ---- setup */

static void
rm_tree(const char *d)
{
	DIR		*dp;
	struct dirent	*e;
	char		 p[400];

	if ((dp = opendir(d)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
		unlink(p);
	}
	closedir(dp);
	rmdir(d);
}

static int
setup(void)
{
	const char	*build = getenv("BUILD"), *t = getenv("TMPDIR");
	struct token	*tok = NULL;
	int		 r;

	if (build == NULL)
		build = "build";
	snprintf(softfido_bin, sizeof(softfido_bin), "%s/softfido", build);
	snprintf(tapgated_bin, sizeof(tapgated_bin), "%s/tapgated", build);
	if ((ca_pem = getenv("SOFTFIDO_CA")) == NULL)
		ca_pem = "build/gen/softfido-ca.pem";
	if (access(softfido_bin, X_OK) != 0 ||
	    access(tapgated_bin, X_OK) != 0 || access(ca_pem, R_OK) != 0) {
		printf("# %s, %s or %s: %s\n", softfido_bin, tapgated_bin,
		    ca_pem, strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/tg-lists.XXXXXX",
	    t != NULL && strlen(t) < 60 ? t : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/sf.sock", dir);
	snprintf(ctl, sizeof(ctl), "%s.ctl", sock);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(sf_log, sizeof(sf_log), "%s/softfido.log", dir);
	snprintf(name, sizeof(name), "softfido:%s", sock);
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    RAND_bytes(&foreign[0][0], sizeof(foreign)) != 1 ||
	    sf_start() != 0)
		return -1;
	if ((r = open_key(&tok)) == 0)
		r = token_set_pin(tok, PIN, NULL);
	token_free(&tok);
	return r;
}

int
main(void)
{
	if (setup() != 0) {
		printf("not ok e2e_token_lists_setup\n");
		sf_stop();
		if (dir[0] != '\0')
			rm_tree(dir);
		return 1;
	}
	RUN(key_advertises_and_enforces_a_list_limit_of_8);
	RUN(enrolment_refuses_a_key_holding_a_credential_of_any_batch);
	if (held != NULL) {
		RUN(enrolment_passes_a_long_list_the_key_holds_none_of);
		RUN(assertion_finds_the_credential_past_the_first_batch);
		RUN(assertion_over_foreign_ids_only_gives_no_credential);
		RUN(id_longer_than_the_key_takes_is_refused_before_any_touch);
		RUN(wrong_pin_costs_one_retry_however_many_batches);
		RUN(identification_finds_the_credential_without_a_touch);
		RUN(identification_with_a_wrong_pin_costs_one_retry);
		RUN(token_process_carries_a_list_over_one_message);
		RUN(token_process_identifies_and_says_the_attempts_left);
		RUN(enrolment_replies_with_cred_protect_verify_in_the_daemon);
	}
	sf_stop();
	token_credential_free(&held);
	if (tap_total_failed != 0)
		printf("# softfido log: %s\n", sf_log);
	else
		rm_tree(dir);
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * The approval path without the human.  A real tapgated (with a hook, so
 * that all four of its processes run) and two officers' softfido keys
 * answering at once (button auto), enrolled through the API.  Each
 * approval is POST /v1/requests/ID/approve with the device and PIN: the
 * token process runs getAssertion with PIN on the key, the monitor checks
 * the assertion, applies the policy and commits the approval with its
 * audit entry.  Against it, in the same run and alternating with it, the
 * token's own time: the same getAssertion with PIN from this process
 * through libfido2 against the same softfido, opened and closed each time
 * as the token process does (token_open, token_assert, token_free).  The
 * goal: an approval's p99 at most 5 ms above the token's p99.
 *
 * Then the same through `tapgatectl approve` (an officer's command, PIN
 * on standard input, process start included), against the same baseline,
 * and the resident memory of each of the daemon's processes.
 *
 * usage: bench_approve [APPROVALS]	(default 100, even)
 * Needs $BUILD/tapgated, $BUILD/tapgatectl, $BUILD/softfido and
 * build/gen/softfido-ca.pem; run from the top of the source tree.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"
#include "benchd.h"
#include "common/b64url.h"
#include "common/errors.h"
#include "common/uhttp.h"
#include "token/token.h"

#define PIN		"739251"
#define GROUP		"security_officer"
#define NKEYS		2
#define WARMUP		2	/* requests approved before timing */
#define TIMEOUT_MS	20000
#define GOAL_MS		5.0	/* p99 above the token's own p99 */

static const char *const json_hdr[] = { "Content-Type: application/json" };

struct key {
	const char	*officer;
	char		 name[320];	/* softfido:PATH */
	pid_t		 pid;
	uint8_t		*cred_id;	/* from the approvers export */
	size_t		 cred_id_len;
};

struct bench {
	const char	*build;
	char		 dir[256], sock[300], rp_id[256];
	pid_t		 daemon;
	struct key	 key[NKEYS];
	struct token_cred_id allow[NKEYS];
	int		 next;		/* requests made */
};

/* ---- the parts */

static pid_t
start_softfido(const char *build, const char *dir, struct key *k, int i)
{
	char bin[512], sock[300], state[300];
	pid_t pid;
	int fd;

	snprintf(bin, sizeof(bin), "%s/softfido", build);
	snprintf(sock, sizeof(sock), "%s/key%d.sock", dir, i);
	snprintf(state, sizeof(state), "%s/key%d.state", dir, i);
	snprintf(k->name, sizeof(k->name), "softfido:%s", sock);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execl(bin, bin, "--socket", sock, "--state", state,
		    "--button", "auto", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* A PIN on a new key, once its socket answers. */
static int
set_pin(const struct key *k)
{
	struct token_opts opts = { 10000, 5000 };
	struct token *tok = NULL;
	int r;

	if ((r = token_open(k->name, &opts, &tok)) == 0)
		r = token_set_pin(tok, PIN, NULL);
	token_free(&tok);
	if (r != 0)
		fprintf(stderr, "bench_approve: PIN on %s: %s\n", k->name,
		    tg_strerror(r));
	return r;
}

/* method target body, expecting status want; *outp the parsed body */
static int
call(const struct bench *b, const char *method, const char *target,
    const char *body, int want, json_t **outp)
{
	struct uhttp_response res;
	int r;

	memset(&res, 0, sizeof(res));
	r = uhttp_request(b->sock, method, target, body, json_hdr,
	    body != NULL ? 1 : 0, TIMEOUT_MS, &res);
	if (r != 0 || res.status != want) {
		fprintf(stderr, "bench_approve: %s %s: %s %d %.400s\n", method,
		    target, r != 0 ? tg_strerror(r) : "status", res.status,
		    res.body != NULL ? res.body : "");
		uhttp_response_clear(&res);
		return -1;
	}
	if (outp != NULL &&
	    (*outp = json_loadb(res.body, res.body_len, 0, NULL)) == NULL)
		r = -1;
	uhttp_response_clear(&res);
	return r;
}

static int
enrol(struct bench *b, const struct key *k)
{
	char body[600];

	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"group\":\"" GROUP
	    "\",\"device\":\"%s\",\"pin\":\"" PIN "\"}", k->officer, k->name);
	return call(b, "POST", "/v1/approvers", body, 201, NULL);
}

/* The rpId and the credential ids, as the approvers export gives them. */
static int
read_export(struct bench *b)
{
	json_t *ex = NULL, *list, *e;
	const char *rp, *id, *name;
	size_t i, n;
	int j, found = 0;

	if (call(b, "GET", "/v1/approvers/export", NULL, 200, &ex) != 0)
		return -1;
	rp = json_string_value(json_object_get(ex, "rp_id"));
	list = json_object_get(ex, "approvers");
	if (rp == NULL || !json_is_array(list))
		goto out;
	snprintf(b->rp_id, sizeof(b->rp_id), "%s", rp);
	json_array_foreach(list, i, e) {
		name = json_string_value(json_object_get(e, "name"));
		id = json_string_value(json_object_get(e, "credential_id"));
		for (j = 0; name != NULL && id != NULL && j < NKEYS; j++)
			if (strcmp(name, b->key[j].officer) == 0 &&
			    b64url_decode(id, strlen(id), TOKEN_CRED_ID_MAX,
			    &b->key[j].cred_id, &n) == 0) {
				b->key[j].cred_id_len = n;
				b->allow[j].ptr = b->key[j].cred_id;
				b->allow[j].len = n;
				found++;
			}
	}
out:
	json_decref(ex);
	return found == NKEYS ? 0 : -1;
}

/* An admin password reset with the evidence the default policy wants. */
static int
new_request(struct bench *b, char id[64])
{
	char body[1200];
	json_t *out = NULL;
	const char *s;
	int n = b->next++, r = -1;

	snprintf(body, sizeof(body),
	    "{\"queue\":\"password_reset\",\"target\":{\"account\":"
	    "\"adm-bench-%d\",\"system\":\"ldap-corp\",\"class\":\"admin\"},"
	    "\"requester\":{\"agent\":\"hd-bob\",\"channel\":\"phone\","
	    "\"ticket\":\"INC-%d\"},\"evidence\":["
	    "{\"type\":\"out_of_band_callback\",\"result\":\"pass\","
	    "\"verifier\":\"hd-bob\",\"channel\":\"email\",\"ref\":\"cb-%d\"},"
	    "{\"type\":\"pre_registered_factor\",\"result\":\"pass\","
	    "\"verifier\":\"hd-bob\",\"channel\":\"push\",\"ref\":\"push-%d\"},"
	    "{\"type\":\"identity_document\",\"result\":\"pass\","
	    "\"verifier\":\"hd-carol\",\"channel\":\"video\",\"ref\":"
	    "\"id-%d\"}],\"changes\":{\"password\":\"reset\","
	    "\"force_change_at_logon\":true}}", n, n, n, n, n);
	if (call(b, "POST", "/v1/requests", body, 201, &out) == 0 &&
	    (s = json_string_value(json_object_get(out, "id"))) != NULL &&
	    strlen(s) < 64) {
		snprintf(id, 64, "%s", s);
		r = 0;
	}
	json_decref(out);
	return r;
}

/* ---- what is timed */

/* One approval through the API; seconds, or -1. */
static double
approve_api(struct bench *b, const char *id, const struct key *k)
{
	char target[128], body[600];
	json_t *out = NULL;
	const char *who;
	double t0, t;
	int ok;

	snprintf(target, sizeof(target), "/v1/requests/%s/approve", id);
	snprintf(body, sizeof(body), "{\"device\":\"%s\",\"pin\":\"" PIN
	    "\"}", k->name);
	t0 = now_s();
	if (call(b, "POST", target, body, 200, &out) != 0)
		return -1;
	t = now_s() - t0;
	who = json_string_value(json_object_get(out, "approver"));
	ok = who != NULL && strcmp(who, k->officer) == 0;
	json_decref(out);
	return ok ? t : -1;
}

/* One approval by `tapgatectl approve`, PIN on its stdin; seconds or -1. */
static double
approve_ctl(struct bench *b, const char *id, const struct key *k)
{
	char bin[512];
	double t0, t;
	pid_t pid;
	int p[2], fd, st;

	snprintf(bin, sizeof(bin), "%s/tapgatectl", b->build);
	if (pipe(p) != 0)
		return -1;
	t0 = now_s();
	if ((pid = fork()) == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(bin, bin, "-s", b->sock, "approve", id, "--device",
		    k->name, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	if (pid < 0 || write(p[1], PIN "\n", sizeof(PIN)) != sizeof(PIN)) {
		close(p[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(p[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_approve: tapgatectl approve %s failed "
		    "(status %d)\n", id, st);
		return -1;
	}
	t = now_s() - t0;
	return t;
}

/*
 * The token's own time: what the token process does for one approval,
 * from here, against the same key and its enrolled credential.
 */
static double
token_own(struct bench *b, int i)
{
	struct token_opts opts = { 10000, 2000 };
	struct token_assertion *as = NULL;
	struct token_assert_req ar;
	struct token *tok = NULL;
	uint8_t cdh[TOKEN_CDH_LEN];
	double t0, t;
	int r;

	memset(cdh, 0x5a, sizeof(cdh));
	cdh[0] = (uint8_t)b->next;
	memset(&ar, 0, sizeof(ar));
	ar.rp_id = b->rp_id;
	ar.client_data_hash = cdh;
	ar.allow = b->allow;
	ar.nallow = NKEYS;	/* the daemon offers every officer's */
	ar.pin = PIN;
	t0 = now_s();
	if ((r = token_open(b->key[i].name, &opts, &tok)) == 0)
		r = token_assert(tok, &ar, &as);
	token_free(&tok);
	t = now_s() - t0;
	token_assertion_free(&as);
	if (r != 0) {
		fprintf(stderr, "bench_approve: getAssertion: %s\n",
		    tg_strerror(r));
		return -1;
	}
	return t;
}

struct series {
	double	*v;
	int	 n;
};

static void
report(const char *name, const char *how, struct series *s,
    struct series *base, int goal)
{
	char fig[300], bs[200];
	double p50, p99, b50, b99;

	qsort(s->v, (size_t)s->n, sizeof(double), benchd_cmp_double);
	qsort(base->v, (size_t)base->n, sizeof(double), benchd_cmp_double);
	p50 = benchd_quantile(s->v, s->n, 0.50) * 1e3;
	p99 = benchd_quantile(s->v, s->n, 0.99) * 1e3;
	b50 = benchd_quantile(base->v, base->n, 0.50) * 1e3;
	b99 = benchd_quantile(base->v, base->n, 0.99) * 1e3;
	snprintf(fig, sizeof(fig), "%d approvals %s: p50 %.2f ms, p99 %.2f "
	    "ms", s->n, how, p50, p99);
	snprintf(bs, sizeof(bs), "the token's own getAssertion with PIN "
	    "(open, PIN token, assertion, close): p50 %.2f ms, p99 %.2f ms",
	    b50, b99);
	bench_line_diff(name, fig, bs, p99 - b99, goal ? BENCH_AT_MOST :
	    BENCH_NO_GOAL, GOAL_MS, "ms beyond the token's p99");
}

/*
 * n approvals (two per request, one by each officer) by approve(),
 * alternating with the token's own time.
 */
static int
run(struct bench *b, int n, double (*approve)(struct bench *, const char *,
    const struct key *), struct series *s, struct series *base)
{
	char id[64];
	double t;
	int i, k;

	for (i = 0; i < n; i += NKEYS) {
		if (new_request(b, id) != 0)
			return -1;
		for (k = 0; k < NKEYS; k++) {
			if ((t = approve(b, id, &b->key[k])) < 0)
				return -1;
			if (s != NULL)
				s->v[s->n++] = t;
			if ((t = token_own(b, k)) < 0)
				return -1;
			if (base != NULL)
				base->v[base->n++] = t;
		}
	}
	return 0;
}

/* A hook that reads its event and exits, so the hook runner runs. */
static int
write_hook(const char *dir, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/hook.sh", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("#!/bin/sh\nexec cat >/dev/null\n", f);
	if (fclose(f) != 0 || chmod(path, 0755) != 0)
		return -1;
	return 0;
}

static int
setup(struct bench *b)
{
	char conf[300], hook[300];
	int i;

	snprintf(b->sock, sizeof(b->sock), "%s/api.sock", b->dir);
	if (strlen(b->sock) >= 100) {
		fprintf(stderr, "bench_approve: %s: path too long for a "
		    "socket; set TMPDIR\n", b->sock);
		return -1;
	}
	if (write_hook(b->dir, hook, sizeof(hook)) != 0 ||
	    benchd_config(b->dir, "\"intake\", \"officer\", \"operator\"",
	    hook, conf, sizeof(conf)) != 0) {
		fprintf(stderr, "bench_approve: cannot write the configuration "
		    "(run from the top of the source tree)\n");
		return -1;
	}
	b->key[0].officer = "officer-ann";
	b->key[1].officer = "officer-ben";
	for (i = 0; i < NKEYS; i++)
		if ((b->key[i].pid = start_softfido(b->build, b->dir,
		    &b->key[i], i)) < 0 || set_pin(&b->key[i]) != 0)
			return -1;
	if ((b->daemon = benchd_start(b->build, conf, b->dir,
	    b->sock)) < 0) {
		fprintf(stderr, "bench_approve: %s/tapgated did not start\n",
		    b->build);
		return -1;
	}
	for (i = 0; i < NKEYS; i++)
		if (enrol(b, &b->key[i]) != 0)
			return -1;
	return read_export(b);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int n = argc > 1 ? atoi(argv[1]) : 100, i, rc = 1, nproc;
	struct series api = { NULL, 0 }, ctl = { NULL, 0 };
	struct series base1 = { NULL, 0 }, base2 = { NULL, 0 };
	struct benchd_proc procs[BENCHD_PROCS];
	struct bench b;

	memset(&b, 0, sizeof(b));
	b.build = getenv("BUILD") ? getenv("BUILD") : "build";
	b.daemon = -1;
	if (n <= 0 || n % NKEYS != 0 || n > 10000) {
		fprintf(stderr, "usage: bench_approve [APPROVALS (even)]\n");
		return 2;
	}
	snprintf(b.dir, sizeof(b.dir), "%s/tg-bench-approve.XXXXXX", tmp);
	if (mkdtemp(b.dir) == NULL) {
		perror("bench_approve: mkdtemp");
		return 1;
	}
	if ((api.v = calloc((size_t)n, sizeof(double))) == NULL ||
	    (ctl.v = calloc((size_t)n, sizeof(double))) == NULL ||
	    (base1.v = calloc((size_t)n, sizeof(double))) == NULL ||
	    (base2.v = calloc((size_t)n, sizeof(double))) == NULL ||
	    setup(&b) != 0 ||
	    run(&b, WARMUP * NKEYS, approve_api, NULL, NULL) != 0 ||
	    run(&b, n, approve_api, &api, &base1) != 0 ||
	    run(&b, n, approve_ctl, &ctl, &base2) != 0) {
		if (b.daemon > 0)
			benchd_show_log(b.dir);
		goto out;
	}
	report("approval path", "through the API (POST /v1/requests/ID/"
	    "approve, softfido answering at once)", &api, &base1, 1);
	report("approval path, console", "by tapgatectl approve (process "
	    "start and PIN prompt included)", &ctl, &base2, 0);
	nproc = benchd_procs(b.daemon, procs, BENCHD_PROCS);
	printf("resident memory after %d approvals (hook configured):\n",
	    n * 2 + WARMUP * NKEYS);
	benchd_print_procs("  ", procs, nproc);
	rc = 0;
out:
	if (b.daemon > 0 && benchd_stop(b.daemon) != 0) {
		fprintf(stderr, "bench_approve: tapgated did not stop cleanly "
		    "on SIGTERM\n");
		benchd_show_log(b.dir);
		rc = 1;
	}
	for (i = 0; i < NKEYS; i++) {
		if (b.key[i].pid > 0) {
			kill(b.key[i].pid, SIGTERM);
			waitpid(b.key[i].pid, NULL, 0);
		}
		free(b.key[i].cred_id);
	}
	benchd_rm_tree(b.dir);
	free(api.v);
	free(ctl.v);
	free(base1.v);
	free(base2.v);
	if (rc != 0)
		printf("bench_approve: failed\n");
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * Recovery requests submitted per second to a real tapgated over its Unix
 * socket (several concurrent clients, one connection per request, as
 * uhttp_request() makes them), with p50/p99 latency, against the raw cost
 * of what each submission must at least do: one sqlite transaction that
 * inserts a row and commits with journal_mode=WAL and synchronous=FULL, on
 * the same disk (the same scratch directory) in the same run.  The ratio
 * says how much the daemon (HTTP, JSON, policy, state row and audit entry
 * in one transaction) costs on top of a durable commit; absolute numbers
 * on a shared machine mean little.  The daemon's resident memory after the
 * run is printed too.
 *
 * usage: bench_daemon [REQUESTS_PER_CLIENT [CLIENTS]]	(default 500 4)
 * Needs $BUILD/tapgated (BUILD defaults to "build") and config/tapgate.conf,
 * run from the top of the source tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <sqlite3.h>

#include "common/errors.h"
#include "common/uhttp.h"

#define CONF		"config/tapgate.conf"
#define ROUNDS		5	/* baseline and daemon alternate */
#define BUDGET_S	2.4	/* s per round and side (slow disks) */
#define WARMUP		10
#define TIMEOUT_MS	15000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- scratch directory */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * The configuration the daemon runs with: the shipped one.  Only uid 0
 * holds a role there, so when the benchmark does not run as root a copy
 * gives this uid the intake role, the one submitting needs.
 */
static int
write_config(const char *dir, char *path, size_t len)
{
	static const char anchor[] = "\nroles = (";
	FILE *in, *out;
	char *buf, *p;
	long n;
	int ok;

	if (getuid() == 0) {
		snprintf(path, len, "%s", CONF);
		return access(path, R_OK);
	}
	snprintf(path, len, "%s/tapgate.conf", dir);
	if ((in = fopen(CONF, "r")) == NULL)
		return -1;
	if (fseek(in, 0, SEEK_END) != 0 || (n = ftell(in)) < 0 ||
	    fseek(in, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(in);
		return -1;
	}
	ok = fread(buf, 1, (size_t)n, in) == (size_t)n;
	fclose(in);
	buf[ok ? n : 0] = '\0';
	if (!ok || (p = strstr(buf, anchor)) == NULL ||
	    (out = fopen(path, "w")) == NULL) {
		free(buf);
		return -1;
	}
	p += sizeof(anchor) - 1;
	fwrite(buf, 1, (size_t)(p - buf), out);
	fprintf(out, "\n    { uid = %u; roles = [\"intake\"]; },", getuid());
	fputs(p, out);
	free(buf);
	return fclose(out) == 0 ? 0 : -1;
}

/* ---- the daemon */

static pid_t
start_daemon(const char *build, const char *conf, const char *dir,
    const char *sock)
{
	char bin[512], state[512], log[512], cwd[512], roots[600];
	struct uhttp_response res;
	pid_t pid;
	int fd, st, i;

	/* the daemon refuses to start without its trust roots file */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	snprintf(roots, sizeof(roots), "%s/build/gen/softfido-ca.pem", cwd);
	snprintf(bin, sizeof(bin), "%s/tapgated", build);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/daemon.log", dir);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		/* never outlive the benchmark, even when it is killed */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		execl(bin, bin, "-c", conf, "--state-dir", state, "--socket",
		    sock, "--trust-roots", roots, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		memset(&res, 0, sizeof(res));
		if (uhttp_request(sock, "GET", "/healthz", NULL, NULL, 0, 1000,
		    &res) == 0 && res.status == 200) {
			uhttp_response_clear(&res);
			return pid;
		}
		uhttp_response_clear(&res);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* SIGTERM, then SIGKILL after 5 s; whether it stopped cleanly. */
static int
stop_daemon(pid_t pid)
{
	double t0 = now_s();
	int st;

	kill(pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_s() - t0 > 5) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(10000);
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void
show_log(const char *dir)
{
	char path[512], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/daemon.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	fprintf(stderr, "bench_daemon: tapgated said:\n");
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  %s", line);
	fclose(f);
}

/* VmRSS and VmHWM (kB) of pid. */
static int
proc_mem(pid_t pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss += atol(line + 6);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm += atol(line + 6);
	}
	fclose(f);
	return 0;
}

/*
 * The memory of pid and of every process below it, should the daemon
 * ever split into privilege-separated processes.
 */
static int
tree_mem(pid_t pid, long *rss, long *hwm, int *nproc)
{
	char path[96];
	DIR *d;
	struct dirent *e;
	FILE *f;
	int child;

	if (proc_mem(pid, rss, hwm) != 0)
		return -1;
	(*nproc)++;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children",
		    (int)pid, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fscanf(f, "%d", &child) == 1)
			tree_mem((pid_t)child, rss, hwm, nproc);
		fclose(f);
	}
	closedir(d);
	return 0;
}

/* ---- the submissions */

/* A standard password reset with a trusted out-of-band callback. */
static void
request_body(char *out, size_t len, int client, int i)
{
	snprintf(out, len,
	    "{\"queue\":\"password_reset\","
	    "\"target\":{\"account\":\"bench-%d-%d\",\"system\":\"ldap-corp\"},"
	    "\"requester\":{\"agent\":\"hd-bob\",\"channel\":\"phone\","
	    "\"ticket\":\"INC-%d-%d\"},"
	    "\"evidence\":[{\"type\":\"out_of_band_callback\",\"result\":"
	    "\"pass\",\"verifier\":\"hd-bob\",\"channel\":\"email\","
	    "\"ref\":\"cb-%d-%d\"}]}", client, i, client, i, client, i);
}

static const char *const json_hdr[] = { "Content-Type: application/json" };

static int
submit(const char *sock, int client, int i, char *err, size_t errlen)
{
	struct uhttp_response res;
	char body[1024];
	int r;

	request_body(body, sizeof(body), client, i);
	memset(&res, 0, sizeof(res));
	r = uhttp_request(sock, "POST", "/v1/requests", body, json_hdr, 1,
	    TIMEOUT_MS, &res);
	if (r != 0)
		snprintf(err, errlen, "%s", tg_strerror(r));
	else if (res.status != 201)
		snprintf(err, errlen, "status %d: %.300s", res.status,
		    res.body ? res.body : "");
	uhttp_response_clear(&res);
	return r == 0 && res.status == 201 ? 0 : -1;
}

struct client {
	pthread_t		 th;
	const char		*sock;
	pthread_barrier_t	*start;
	const double		*deadline;
	int			 id, first, n, done, failed;
	double			*lat;	/* seconds, n of them */
	char			 err[400];
};

static void *
client_run(void *arg)
{
	struct client *c = arg;
	double t;
	int i;

	pthread_barrier_wait(c->start);
	for (i = 0; i < c->n && now_s() < *c->deadline; i++) {
		t = now_s();
		if (submit(c->sock, c->id, c->first + i, c->err,
		    sizeof(c->err)) != 0) {
			c->failed = 1;
			break;
		}
		c->lat[c->done++] = now_s() - t;
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[0..n), nearest rank. */
static double
quantile(const double *v, int n, double q)
{
	int k = (int)(q * n + 0.999999);

	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

/* What the clients did over all rounds. */
struct daemon_run {
	int	 requests, cap;
	double	 seconds, *lat;	/* cap latencies, requests of them set */
};

/*
 * One round: nclients threads start together and each submits requests
 * first..first+n-1 (fewer past deadline); their latencies are appended to
 * dr->lat and the round's wall time added to dr->seconds.
 */
static int
run_clients(const char *sock, int nclients, int first, int n,
    double deadline, struct daemon_run *dr)
{
	struct client c[64];
	pthread_barrier_t start;
	double t0;
	int i, j, failed = 0;

	if (pthread_barrier_init(&start, NULL, (unsigned)nclients + 1) != 0)
		return -1;
	memset(c, 0, sizeof(c));
	for (i = 0; i < nclients; i++) {
		c[i].sock = sock;
		c[i].start = &start;
		c[i].deadline = &deadline;
		c[i].id = i;
		c[i].first = first;
		c[i].n = n;
		if ((c[i].lat = calloc((size_t)n, sizeof(double))) == NULL ||
		    pthread_create(&c[i].th, NULL, client_run, &c[i]) != 0)
			abort();
	}
	pthread_barrier_wait(&start);
	t0 = now_s();
	for (i = 0; i < nclients; i++)
		pthread_join(c[i].th, NULL);
	dr->seconds += now_s() - t0;
	pthread_barrier_destroy(&start);
	for (i = 0; i < nclients; i++) {
		for (j = 0; j < c[i].done && dr->requests < dr->cap; j++)
			dr->lat[dr->requests++] = c[i].lat[j];
		if (c[i].failed) {
			fprintf(stderr, "bench_daemon: client %d, request "
			    "%d: %s\n", i, first + c[i].done, c[i].err);
			failed = 1;
		}
		free(c[i].lat);
	}
	return failed ? -1 : 0;
}

/* ---- the baseline */

struct raw {
	sqlite3		*db;
	sqlite3_stmt	*ins;
	int		 rows;
	double		 seconds;
};

static int
raw_open(struct raw *w, const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/raw.db", dir);
	memset(w, 0, sizeof(*w));
	if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(w->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;"
	    "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, body TEXT);",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->db, "INSERT INTO t(k, body) VALUES (?, ?)",
	    -1, &w->ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_daemon: raw sqlite: %s\n",
		    sqlite3_errmsg(w->db));
		return -1;
	}
	return 0;
}

/*
 * n transactions of one insert each (the same body a submission sends),
 * fewer past deadline.
 */
static int
raw_commits(struct raw *w, int n, double deadline)
{
	char key[32], body[1024];
	double t0 = now_s();
	int i;

	for (i = 0; i < n && now_s() < deadline; i++) {
		snprintf(key, sizeof(key), "raw-%d", w->rows);
		request_body(body, sizeof(body), 99, w->rows);
		if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL,
		    NULL) != SQLITE_OK ||
		    sqlite3_bind_text(w->ins, 1, key, -1,
		    SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_bind_text(w->ins, 2, body, -1,
		    SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(w->ins) != SQLITE_DONE ||
		    sqlite3_reset(w->ins) != SQLITE_OK ||
		    sqlite3_exec(w->db, "COMMIT", NULL, NULL,
		    NULL) != SQLITE_OK) {
			fprintf(stderr, "bench_daemon: raw sqlite: %s\n",
			    sqlite3_errmsg(w->db));
			return -1;
		}
		w->rows++;
	}
	w->seconds += now_s() - t0;
	return 0;
}

static void
raw_close(struct raw *w)
{
	sqlite3_finalize(w->ins);
	sqlite3_close(w->db);
}

int
main(int argc, char **argv)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[256], sock[300], conf[300], err[400];
	int per = argc > 1 ? atoi(argv[1]) : 500;
	int nclients = argc > 2 ? atoi(argv[2]) : 4;
	struct daemon_run dr;
	struct raw raw;
	long rss = 0, hwm = 0;
	int i, nproc = 0, rc = 1, stopped;
	double base, subs;
	pid_t pid = -1;

	memset(&dr, 0, sizeof(dr));
	memset(&raw, 0, sizeof(raw));
	if (per <= 0 || nclients <= 0 || nclients > 64) {
		fprintf(stderr, "usage: bench_daemon [REQUESTS_PER_CLIENT "
		    "[CLIENTS]]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/tg-bench-daemon.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("bench_daemon: mkdtemp");
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/api.sock", dir);
	if (strlen(sock) >= 100) {
		fprintf(stderr, "bench_daemon: %s: path too long for a "
		    "socket; set TMPDIR\n", sock);
		goto out;
	}
	if (write_config(dir, conf, sizeof(conf)) != 0) {
		fprintf(stderr, "bench_daemon: cannot read %s (run from the "
		    "top of the source tree)\n", CONF);
		goto out;
	}
	if ((pid = start_daemon(build, conf, dir, sock)) < 0) {
		fprintf(stderr, "bench_daemon: %s/tapgated did not start\n",
		    build);
		show_log(dir);
		goto out;
	}
	for (i = 0; i < WARMUP; i++)
		if (submit(sock, 1000, i, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_daemon: warm-up: %s\n", err);
			show_log(dir);
			goto out;
		}
	/*
	 * Baseline and daemon alternate in ROUNDS rounds, the same number of
	 * rows as submissions each, so that a disk or machine getting faster
	 * or slower during the run affects both sides alike.
	 */
	dr.cap = per * nclients;
	if ((dr.lat = calloc((size_t)dr.cap, sizeof(double))) == NULL ||
	    raw_open(&raw, dir) != 0 ||
	    raw_commits(&raw, WARMUP, now_s() + BUDGET_S) != 0)
		goto out_raw;
	raw.rows = 0;		/* the warm-up does not count */
	raw.seconds = 0;
	for (i = 0; i < ROUNDS; i++) {
		int first = per * i / ROUNDS;
		int n = per * (i + 1) / ROUNDS - first;

		if (n == 0)
			continue;
		if (raw_commits(&raw, n * nclients,
		    now_s() + BUDGET_S) != 0 ||
		    run_clients(sock, nclients, first, n, now_s() + BUDGET_S,
		    &dr) != 0) {
			show_log(dir);
			goto out_raw;
		}
	}
	if (dr.requests == 0 || raw.rows == 0)
		goto out_raw;
	qsort(dr.lat, (size_t)dr.requests, sizeof(double), cmp_double);
	tree_mem(pid, &rss, &hwm, &nproc);
	base = raw.rows / raw.seconds;
	subs = dr.requests / dr.seconds;
	printf("submissions (%d clients, %d standard password resets, "
	    "POST /v1/requests): %.0f/s\n", nclients, dr.requests, subs);
	printf("  latency   p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
	    quantile(dr.lat, dr.requests, 0.50) * 1e3,
	    quantile(dr.lat, dr.requests, 0.99) * 1e3,
	    dr.lat[dr.requests - 1] * 1e3);
	printf("baseline    (sqlite insert+commit per row, WAL, "
	    "synchronous=FULL, same dir, %d rows): %.0f/s\n", raw.rows, base);
	printf("ratio       daemon/baseline = %.3f  (each submission costs "
	    "%.2f raw commits of wall time)\n", subs / base, base / subs);
	printf("daemon RSS after %d submissions: %.1f MiB (peak %.1f MiB, "
	    "%d process%s)\n", dr.requests + WARMUP, rss / 1024.0,
	    hwm / 1024.0, nproc, nproc == 1 ? "" : "es");
	rc = 0;
out_raw:
	raw_close(&raw);
	free(dr.lat);
out:
	if (pid > 0) {
		stopped = stop_daemon(pid);
		if (stopped != 0) {
			fprintf(stderr, "bench_daemon: tapgated did not stop "
			    "cleanly on SIGTERM\n");
			show_log(dir);
			rc = 1;
		}
	}
	rm_tree(dir);
	if (rc != 0)
		printf("bench_daemon: failed\n");
	return rc;
}

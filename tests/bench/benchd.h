/* SPDX-License-Identifier: ISC */
/*
 * A real tapgated for the benchmarks that need one: a scratch directory,
 * the shipped configuration (with roles for this uid and hooks when
 * asked), start, stop, its log, and the resident memory of each of its
 * processes.  Header-only: each benchmark is one program.
 */
#ifndef TAPGATE_BENCHD_H
#define TAPGATE_BENCHD_H

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/uhttp.h"

#define BENCHD_CONF	"config/tapgate.conf"
#define BENCHD_ROOTS	"build/gen/softfido-ca.pem"
#define BENCHD_PROCS	16

static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int
benchd_rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

static inline void
benchd_rm_tree(const char *dir)
{
	nftw(dir, benchd_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int
benchd_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[0..n), nearest rank. */
static inline double
benchd_quantile(const double *v, int n, double q)
{
	int k = (int)(q * n + 0.999999);

	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

/*
 * The configuration the daemon runs with, written to dir/tapgate.conf:
 * the shipped one, with roles (a JSON list such as "\"intake\"") for this
 * uid when it is not root (only uid 0 holds roles there) and the
 * principal hd-bob, the agent the benchmarks name, and the hook program
 * given, if any.  The benchmarks submit typed evidence and measure
 * submissions and approvals, not challenges: the minimums of
 * appliance-verified evidence (one digit each) are set to 0, as the e2e
 * tests' make_config does.
 */
static inline int
benchd_config(const char *dir, const char *roles, const char *hook,
    char *path, size_t len)
{
	static const char anchor[] = "\nroles = (", hooks[] = "hooks = [];";
	static const char principals[] = "\nprincipals = (";
	FILE *in, *out;
	char *buf, *p, *h, *q, *v;
	long n;
	int ok;

	snprintf(path, len, "%s/tapgate.conf", dir);
	if ((in = fopen(BENCHD_CONF, "r")) == NULL)
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
	    (h = strstr(buf, hooks)) == NULL || h < p ||
	    (q = strstr(p, principals)) == NULL || h < q ||
	    (out = fopen(path, "w")) == NULL) {
		free(buf);
		return -1;
	}
	for (v = buf; (v = strstr(v, "min_verified")) != NULL; v++) {
		v += strcspn(v, "=;");
		if (v[0] == '=' && v[1] == ' ' && v[2] >= '0' &&
		    v[2] <= '9' && v[3] == ';')
			v[2] = '0';
	}
	p += sizeof(anchor) - 1;
	q += sizeof(principals) - 1;
	fwrite(buf, 1, (size_t)(p - buf), out);
	if (getuid() != 0)
		fprintf(out, "\n    { uid = %u; roles = [%s]; },", getuid(),
		    roles);
	fwrite(p, 1, (size_t)(q - p), out);
	if (getuid() != 0)
		fprintf(out, "\n    { uid = %u; name = \"hd-bob\"; "
		    "team = \"appliance\"; },", getuid());
	fwrite(q, 1, (size_t)(h - q), out);
	if (hook != NULL)
		fprintf(out, "hooks = [ \"%s\" ];", hook);
	else
		fputs(hooks, out);
	fputs(h + sizeof(hooks) - 1, out);
	free(buf);
	return fclose(out) == 0 ? 0 : -1;
}

/* tapgated on sock with its state in dir, once it answers; or -1. */
static inline pid_t
benchd_start(const char *build, const char *conf, const char *dir,
    const char *sock)
{
	char bin[512], state[512], log[512], cwd[512], roots[600];
	struct uhttp_response res;
	pid_t pid;
	int fd, st, i;

	/* the daemon refuses to start without its trust roots file */
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	snprintf(roots, sizeof(roots), "%s/%s", cwd, BENCHD_ROOTS);
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
		    sock, "--trust-roots", roots, "--token-timeout", "10000",
		    (char *)NULL);
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
static inline int
benchd_stop(pid_t pid)
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

static inline void
benchd_show_log(const char *dir)
{
	char path[512], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/daemon.log", dir);
	if ((f = fopen(path, "r")) == NULL)
		return;
	fprintf(stderr, "tapgated said:\n");
	while (fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "  %s", line);
	fclose(f);
}

/* One process of the daemon, as /proc shows it. */
struct benchd_proc {
	pid_t	 pid;
	char	 role[32];	/* monitor, front, token process, ... */
	long	 rss_kb, hwm_kb;
	long	 anon_kb;	/* the private part: heap, stacks */
};

/* VmRSS, VmHWM and RssAnon (kB) of pid. */
static inline int
benchd_mem(pid_t pid, long *rss, long *hwm, long *anon)
{
	char path[64], line[256];
	FILE *f;

	*rss = *hwm = *anon = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = atol(line + 6);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
		else if (strncmp(line, "RssAnon:", 8) == 0)
			*anon = atol(line + 8);
	}
	fclose(f);
	return *rss >= 0 ? 0 : -1;
}

/* What a child of the daemon is, from the role argument it was run with. */
static inline void
benchd_role(pid_t pid, char *out, size_t len)
{
	char path[64], argv[256];
	size_t n;
	FILE *f;

	snprintf(out, len, "child");
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	n = fread(argv, 1, sizeof(argv) - 1, f);
	fclose(f);
	argv[n] = '\0';
	/* argv[1], after the NUL that ends argv[0] */
	n = strlen(argv) + 1;
	if (n >= sizeof(argv))
		return;
	if (strstr(argv + n, "token") != NULL)
		snprintf(out, len, "token process");
	else if (strstr(argv + n, "front") != NULL)
		snprintf(out, len, "front");
	else if (strstr(argv + n, "hook") != NULL)
		snprintf(out, len, "hook runner");
}

/*
 * The daemon (the monitor) and its direct children (front, token process,
 * hook runner), at most max of them; the number found.
 */
static inline int
benchd_procs(pid_t pid, struct benchd_proc *p, int max)
{
	char path[96];
	struct dirent *e;
	DIR *d;
	FILE *f;
	int n = 0, child;

	if (max < 1 || benchd_mem(pid, &p[0].rss_kb, &p[0].hwm_kb,
	    &p[0].anon_kb) != 0)
		return 0;
	p[0].pid = pid;
	snprintf(p[0].role, sizeof(p[0].role), "monitor");
	n = 1;
	/* a child is listed under the thread that forked it */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return n;
	while (n < max && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children",
		    (int)pid, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (n < max && fscanf(f, "%d", &child) == 1) {
			p[n].pid = (pid_t)child;
			if (benchd_mem(p[n].pid, &p[n].rss_kb,
			    &p[n].hwm_kb, &p[n].anon_kb) != 0)
				continue;
			benchd_role(p[n].pid, p[n].role, sizeof(p[n].role));
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * One line per process: role, pid, RSS, its private (anonymous) part --
 * the rest are pages of the program and its libraries, shared with the
 * other processes -- and the peak.
 */
static inline void
benchd_print_procs(const char *prefix, const struct benchd_proc *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("%s%-14s pid %-7d RSS %5.1f MiB (private %4.1f MiB, "
		    "peak %.1f MiB)\n", prefix, p[i].role, (int)p[i].pid,
		    p[i].rss_kb / 1024.0, p[i].anon_kb / 1024.0,
		    p[i].hwm_kb / 1024.0);
}

#endif /* TAPGATE_BENCHD_H */

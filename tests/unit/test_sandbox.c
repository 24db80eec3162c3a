/* SPDX-License-Identifier: ISC */
/*
 * The sandbox: each role's filter lets its process do its work and kills
 * the whole process with SIGSYS on what the role forbids; every filter
 * checks the architecture before anything else; the address-space limit
 * turns a huge allocation (libcbor's, say) into an error.  A filter cannot
 * be taken back, so each case runs in a forked child.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fido.h>
#include <seccomp.h>
#include <sqlite3.h>

#include "common/errors.h"
#include "sandbox/sandbox.h"
#include "tap.h"

extern char **environ;

static char dir[64];		/* scratch directory (short: socket paths) */
static char keyfile[128];	/* stands for the sealed key */

static const enum sandbox_role all_roles[] = { SANDBOX_ROLE_DAEMON,
    SANDBOX_ROLE_TOKEN, SANDBOX_ROLE_FRONT, SANDBOX_ROLE_VERIFY,
    SANDBOX_ROLE_DIRECTORY };
#define NROLES	(sizeof(all_roles) / sizeof(all_roles[0]))

#define SKIP(why) do {							\
	printf("ok %s # SKIP %s\n", __func__, (why));			\
	fflush(stdout);							\
	tap_failed = -1;						\
	return;								\
} while (0)

/* RUN() for tests that may SKIP (which already printed their line). */
#define RUN_MAY_SKIP(fn) do {						\
	tap_failed = 0;							\
	fn();								\
	if (tap_failed >= 0) {						\
		printf("%s %s\n", tap_failed ? "not ok" : "ok", #fn);	\
		fflush(stdout);						\
		tap_total_failed += tap_failed != 0;			\
	}								\
} while (0)

/* ---- children */

static int
confine(enum sandbox_role role)
{
	return sandbox_harden() == 0 && sandbox_apply(role) == 0 ? 0 : -1;
}

/* Fork, run fn in the child, exit with what it returns: the wait status. */
static int
in_child(int (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		_exit(fn());
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return st;
}

static int
exited_0(int st)
{
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (st != -1 && WIFEXITED(st))
		printf("#   child exited %d\n", WEXITSTATUS(st));
	else if (st != -1 && WIFSIGNALED(st))
		printf("#   child killed by signal %d\n", WTERMSIG(st));
	return 0;
}

static int
killed_by_sigsys(int st)
{
	if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
		return 1;
	if (st != -1 && WIFEXITED(st))
		printf("#   child exited %d, expected SIGSYS\n",
		    WEXITSTATUS(st));
	else if (st != -1 && WIFSIGNALED(st))
		printf("#   child killed by signal %d, expected SIGSYS\n",
		    WTERMSIG(st));
	return 0;
}

/* ---- allowed work, as each process does it */

/* sqlite as the store and the redemption database use it */
static int
db_work(const char *name)
{
	char path[300];
	sqlite3 *db = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "CREATE TABLE IF NOT EXISTS t(x); BEGIN; INSERT INTO t VALUES(1);"
	    "COMMIT; SELECT count(*) FROM t;", NULL, NULL, NULL) != SQLITE_OK;
	if (sqlite3_close(db) != SQLITE_OK)
		r = 1;
	return r;
}

static void *
thread_noop(void *arg)
{
	return arg;
}

static int
thread_work(void)
{
	pthread_t t;
	void *v = NULL;

	return pthread_create(&t, NULL, thread_noop, &v) != 0 ||
	    pthread_join(t, &v) != 0 || v != &v;
}

/* a softfido-style client: AF_UNIX seqpacket to a socket that is absent */
static int
unix_client_work(void)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/absent.sock", dir);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno == ENOENT ? 0 : 1;
	close(fd);
	return r;
}

/* the token process started again: fork, a socketpair, execve of itself */
static int
fork_exec_work(void)
{
	pid_t pid;
	int sv[2], st;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return 1;
	if ((pid = fork()) == -1)
		return 1;
	if (pid == 0) {
		execl("/proc/self/exe", "test_sandbox", "--exit-4",
		    (char *)NULL);
		_exit(127);
	}
	close(sv[0]);
	close(sv[1]);
	if (waitpid(pid, &st, 0) != pid)
		return 1;
	return !(WIFEXITED(st) && WEXITSTATUS(st) == 4);
}

static int
daemon_work(void)
{
	if (confine(SANDBOX_ROLE_DAEMON) != 0)
		return 100;
	if (db_work("daemon.db") != 0)
		return 2;
	if (thread_work() != 0)
		return 3;
	if (unix_client_work() != 0)
		return 4;
	/* hooks are the hook runner's (no filter); the token process here */
	if (fork_exec_work() != 0)
		return 6;
	if (getpid() <= 0 || time(NULL) <= 0)
		return 7;
	return 0;
}

static int
token_work(void)
{
	struct pollfd pfd;
	char buf[8];
	int sv[2], fd;

	/* the daemon's channel, handed over before the filter */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return 101;
	if (confine(SANDBOX_ROLE_TOKEN) != 0)
		return 100;
	if (send(sv[0], "req", 3, MSG_NOSIGNAL) != 3)
		return 2;
	pfd.fd = sv[1];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) != 1 || recv(sv[1], buf, sizeof(buf), 0) != 3)
		return 3;
	/* a key node exists already: opened read-write, never created */
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return 4;
	close(fd);
	if (unix_client_work() != 0)
		return 5;
	return 0;
}

static int
front_pair(int *lfd, int *cfd)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/front-%d.sock", dir,
	    (int)getpid());
	unlink(sa.sun_path);
	if ((*lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(*lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(*lfd, 4) != 0 ||
	    (*cfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(*cfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	return 0;
}

static int front_lfd = -1;

/* one libmicrohttpd worker: epoll, accept, peer credentials, reply */
static void *
front_worker(void *arg)
{
	struct epoll_event ev;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char buf[16];
	int ep, fd, efd;

	(void)arg;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return NULL;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, front_lfd, &ev) != 0 ||
	    epoll_wait(ep, &ev, 1, 1000) != 1 ||
	    (fd = accept4(front_lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.pid != getpid() ||
	    recv(fd, buf, sizeof(buf), 0) != 4 ||
	    send(fd, "200 ", 4, MSG_NOSIGNAL) != 4)
		return NULL;
	shutdown(fd, SHUT_RDWR);
	close(fd);
	close(efd);
	close(ep);
	return &front_lfd;
}

static int
front_work(void)
{
	pthread_t t;
	void *v = NULL;
	char buf[8];
	int cfd;

	if (front_pair(&front_lfd, &cfd) != 0)
		return 101;
	if (confine(SANDBOX_ROLE_FRONT) != 0)
		return 100;
	if (send(cfd, "GET ", 4, MSG_NOSIGNAL) != 4)
		return 2;
	if (pthread_create(&t, NULL, front_worker, NULL) != 0 ||
	    pthread_join(t, &v) != 0 || v != &front_lfd)
		return 3;
	if (recv(cfd, buf, sizeof(buf), 0) != 4 || memcmp(buf, "200 ", 4) != 0)
		return 4;
	return 0;
}

static int
verify_work(void)
{
	char buf[16];
	FILE *f;

	/* its inputs and the redemption database's directory, named */
	const struct sandbox_path paths[] = { { keyfile, 0 }, { dir, 1 } };
	int landlock = sandbox_landlock_abi() >= 1;	/* asked unconfined */

	if (sandbox_harden() != 0 || sandbox_apply_paths(SANDBOX_ROLE_VERIFY,
	    paths, 2) != 0)
		return 100;
	/* the order, JWKS and approvers files */
	if ((f = fopen(keyfile, "r")) == NULL)
		return 2;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return 3;
	}
	fclose(f);
	if (db_work("redeem.db") != 0)
		return 4;
	/* ... and nothing else (where the kernel has Landlock) */
	if (landlock && ((f = fopen("/etc/passwd", "r")) != NULL ||
	    errno != EACCES))
		return 5;
	return 0;
}

/* ---- forbidden calls; returning at all is a failure */

static int
ip_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) == -1 ? 90 : 91;
}

static int
ip6_socket(void)
{
	return socket(AF_INET6, SOCK_DGRAM, 0) == -1 ? 90 : 91;
}

static int
do_accept(void)
{
	return accept4(0, NULL, NULL, 0) == -1 ? 90 : 91;
}

static int
netlink_socket(void)
{
	return socket(AF_NETLINK, SOCK_RAW, 0) == -1 ? 90 : 91;
}

static int
unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) == -1 ? 90 : 91;
}

static int
exec_true(void)
{
	char name[] = "true";
	char *argv[] = { name, NULL };

	execve("/bin/true", argv, environ);
	return 90;
}

static int
do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 90;
}

static int
do_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1 ? 90 : 91;
}

static int
open_key_ro(void)
{
	int fd = open(keyfile, O_RDONLY);

	return fd == -1 ? 90 : 91;
}

/* a hidraw node is a character device opened read-write */
static int
open_device_rw(void)
{
	int fd = open("/dev/null", O_RDWR);

	return fd == -1 ? 90 : 91;
}

static int
create_file(void)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/new-%d", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	return fd == -1 ? 90 : 91;
}

static int
new_user_ns(void)
{
	return unshare(CLONE_NEWUSER) == -1 ? 90 : 91;
}

static int
clone_new_ns(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	return 90;
}

static int
wx_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? 90 : 91;
}

static int
start_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_noop, NULL) != 0)
		return 90;
	pthread_join(t, NULL);
	return 91;
}

static const struct forbidden {
	const char	*what;
	int		(*fn)(void);
} daemon_forbidden[] = {
	{ "socket(AF_INET)", ip_socket },
	{ "socket(AF_INET6)", ip6_socket },
	{ "accept4() (HTTP is the front's)", do_accept },
	{ "socket(AF_NETLINK)", netlink_socket },
	{ "ptrace(PTRACE_TRACEME)", do_ptrace },
	{ "unshare(CLONE_NEWUSER)", new_user_ns },
	{ "clone(CLONE_NEWUSER)", clone_new_ns },
	{ "mmap(PROT_WRITE|PROT_EXEC)", wx_mapping },
}, token_forbidden[] = {
	{ "open(O_CREAT)", create_file },
	{ "fork()", do_fork },
	{ "execve()", exec_true },
	{ "socket(AF_INET)", ip_socket },
	{ "socket(AF_INET6)", ip6_socket },
	{ "ptrace(PTRACE_TRACEME)", do_ptrace },
}, front_forbidden[] = {
	{ "open(O_RDWR) of a device node", open_device_rw },
	{ "open(O_CREAT)", create_file },
	{ "socket(AF_UNIX)", unix_socket },
	{ "socket(AF_INET)", ip_socket },
	{ "socket(AF_INET6)", ip6_socket },
	{ "execve()", exec_true },
	{ "fork()", do_fork },
	{ "ptrace(PTRACE_TRACEME)", do_ptrace },
}, directory_forbidden[] = {
	{ "open(O_CREAT)", create_file },
	{ "execve()", exec_true },
	{ "fork()", do_fork },
	{ "pthread_create()", start_thread },
	{ "accept4()", do_accept },
	{ "ptrace(PTRACE_TRACEME)", do_ptrace },
}, verify_forbidden[] = {
	{ "socket(AF_UNIX)", unix_socket },
	{ "socket(AF_INET)", ip_socket },
	{ "execve()", exec_true },
	{ "fork()", do_fork },
	{ "pthread_create()", start_thread },
	{ "ptrace(PTRACE_TRACEME)", do_ptrace },
};

static enum sandbox_role forbid_role;
static int (*forbid_fn)(void);

static int
forbidden_child(void)
{
	if (confine(forbid_role) != 0)
		return 100;
	return forbid_fn();
}

/* Each call, in a child of its own under role: killed by SIGSYS. */
static int
all_killed(enum sandbox_role role, const struct forbidden *f, size_t n)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < n; i++) {
		forbid_role = role;
		forbid_fn = f[i].fn;
		if (!killed_by_sigsys(in_child(forbidden_child))) {
			printf("#   %s: %s was not killed\n",
			    sandbox_role_name(role), f[i].what);
			bad++;
		}
	}
	return bad;
}

#define ALL_KILLED(role, list) \
	all_killed((role), (list), sizeof(list) / sizeof((list)[0]))

/* ---- tests: the filters */

/* role's filter as libseccomp's pseudo-filter code, or NULL */
static char *
pfc_text(enum sandbox_role role)
{
	char path[300], *text = NULL;
	off_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/pfc-%s", dir,
	    sandbox_role_name(role));
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		return NULL;
	if (sandbox_export(role, fd) == 0 &&
	    (n = lseek(fd, 0, SEEK_END)) > 0 &&
	    (text = calloc(1, (size_t)n + 1)) != NULL &&
	    pread(fd, text, (size_t)n, 0) != n) {
		free(text);
		text = NULL;
	}
	close(fd);
	return text;
}

/* whether the statement on the line after comment is a process kill */
static int
kills_after(const char *text, const char *comment)
{
	const char *p;

	if ((p = strstr(text, comment)) == NULL ||
	    (p = strchr(p, '\n')) == NULL)
		return 0;
	p += strspn(p, " \t\n");
	return strncmp(p, "action KILL_PROCESS;", 20) == 0;
}

static void
every_filter_checks_the_architecture_first(void)
{
	char want[64], *text;
	const char *arch, *sys;
	size_t i;
	int good;

	snprintf(want, sizeof(want), "if ($arch == %u)", seccomp_arch_native());
	for (i = 0; i < NROLES; i++) {
		CHECK((text = pfc_text(all_roles[i])) != NULL);
		arch = strstr(text, want);
		sys = strstr(text, "$syscall");
		/* the arch test comes before any system call number test */
		good = arch != NULL && sys != NULL && arch < sys &&
		    kills_after(text, "# invalid architecture action") &&
		    kills_after(text, "# default action");
		if (!good)
			printf("#   role %s:\n%s",
			    sandbox_role_name(all_roles[i]), text);
		free(text);
		CHECK(good);
	}
}

static int
has_rule(const char *text, const char *name)
{
	char q[64];

	snprintf(q, sizeof(q), "syscall \"%s\"", name);
	return strstr(text, q) != NULL;
}

static void
front_filter_lists_no_open_socket_or_exec(void)
{
	char *text;
	int bad;

	CHECK((text = pfc_text(SANDBOX_ROLE_FRONT)) != NULL);
	bad = has_rule(text, "socket") || has_rule(text, "connect") ||
	    has_rule(text, "socketpair") || has_rule(text, "execve") ||
	    has_rule(text, "kill") || (!sandbox_asan() &&
	    (has_rule(text, "openat") || has_rule(text, "open")));
	if (bad)
		printf("#   front filter:\n%s", text);
	free(text);
	CHECK(!bad);
}

static void
unknown_role_is_refused(void)
{
	CHECK_EQ(sandbox_apply((enum sandbox_role)42), TG_ERR_INVALID);
	CHECK_EQ(sandbox_export((enum sandbox_role)42, 1), TG_ERR_INVALID);
	CHECK(strcmp(sandbox_role_name((enum sandbox_role)42), "?") == 0);
	CHECK(strcmp(sandbox_role_name(SANDBOX_ROLE_DAEMON), "daemon") == 0);
	CHECK(strcmp(sandbox_role_name(SANDBOX_ROLE_FRONT), "front") == 0);
	CHECK(strcmp(tg_strerror(TG_ERR_SANDBOX), "unknown error") != 0);
}

#if defined(__x86_64__)
/*
 * getpid through the other entry points of x86_64: the i386 one (int
 * 0x80) and as an x32 call.  Both reach seccomp, which must kill them,
 * wherever the kernel takes them at all: unfiltered, such a call returns
 * (the pid, or -ENOSYS where the kernel has the entry point but not the
 * ABI).  A kernel without IA32 emulation (CONFIG_IA32_EMULATION off, or
 * booted with ia32_emulation=0) has no int 0x80 gate: the instruction
 * faults with SIGSEGV before any filter sees a call.  So each case runs
 * the same call unfiltered first, as the control.
 */
static long
i386_getpid(void)
{
	long r = 20;	/* __NR_getpid on i386 */

	__asm__ volatile("int $0x80" : "+a"(r) : : "r8", "r9", "r10", "r11",
	    "memory");
	return r;
}

static long
x32_getpid(void)
{
	long r = syscall(0x40000000L | SYS_getpid);

	return r == -1 ? -errno : r;
}

/*
 * A fault must end the child by its signal: ASan's handler would turn
 * SIGSEGV into an exit with a report.
 */
static void
default_segv(void)
{
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
}

/* The control's answer: 0 the pid, 1 -ENOSYS, 2 something else. */
static int
answer_kind(long r)
{
	if (r == (long)getpid())
		return 0;
	return r == -ENOSYS ? 1 : 2;
}

static int
i386_unfiltered(void)
{
	default_segv();
	return answer_kind(i386_getpid());
}

static int
i386_filtered(void)
{
	if (confine(SANDBOX_ROLE_DAEMON) != 0)
		return 100;
	default_segv();
	(void)i386_getpid();
	return 90;
}

static int
x32_unfiltered(void)
{
	default_segv();
	return answer_kind(x32_getpid());
}

static int
x32_filtered(void)
{
	if (confine(SANDBOX_ROLE_DAEMON) != 0)
		return 100;
	default_segv();
	(void)x32_getpid();
	return 90;
}

/*
 * Runs the control; 1 when the call reached the kernel (the filtered
 * child must then die by SIGSYS), 0 when the machine cannot deliver it
 * (why says so), -1 when the control itself failed.
 */
static int
reaches_the_kernel(int (*control)(void), const char *abi, char *why,
    size_t len)
{
	static const char *const kinds[] = { "returned the pid",
	    "returned -ENOSYS", "returned something else" };
	int st = in_child(control);

	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) <= 2) {
		printf("#   control: getpid as an %s call without a filter "
		    "%s\n", abi, kinds[WEXITSTATUS(st)]);
		return 1;
	}
	if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
		snprintf(why, len, "the kernel does not deliver %s system "
		    "calls: the control, without a filter, was killed by "
		    "SIGSEGV (%s)", abi, strcmp(abi, "i386") == 0 ?
		    "no IA32 emulation: CONFIG_IA32_EMULATION off or "
		    "ia32_emulation=0" : "no such entry point");
		return 0;
	}
	if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
		snprintf(why, len, "a seccomp filter around this test already "
		    "kills %s calls: the control, without ours, died by "
		    "SIGSYS, so ours cannot be told apart", abi);
		return 0;
	}
	if (st == -1)
		printf("#   control: %s call: fork or wait failed\n", abi);
	else if (WIFSIGNALED(st))
		printf("#   control: %s call without a filter: killed by "
		    "signal %d\n", abi, WTERMSIG(st));
	else
		printf("#   control: %s call without a filter: exit %d\n", abi,
		    WEXITSTATUS(st));
	return -1;
}
#endif

static void
other_architecture_i386_calls_are_killed(void)
{
#if defined(__x86_64__)
	char why[256];
	int r;

	if ((r = reaches_the_kernel(i386_unfiltered, "i386", why,
	    sizeof(why))) == 0)
		SKIP(why);
	CHECK(r == 1);
	CHECK(killed_by_sigsys(in_child(i386_filtered)));
#else
	SKIP("the other-ABI entry points tested are x86_64's");
#endif
}

static void
other_architecture_x32_calls_are_killed(void)
{
#if defined(__x86_64__)
	char why[256];
	int r;

	if ((r = reaches_the_kernel(x32_unfiltered, "x32", why,
	    sizeof(why))) == 0)
		SKIP(why);
	CHECK(r == 1);
	CHECK(killed_by_sigsys(in_child(x32_filtered)));
#else
	SKIP("the other-ABI entry points tested are x86_64's");
#endif
}

/* ---- tests: each role at work, and what kills it */

static void
daemon_role_does_its_work(void)
{
	CHECK(exited_0(in_child(daemon_work)));
}

static void
daemon_role_forbidden_calls_kill(void)
{
	CHECK_EQ(ALL_KILLED(SANDBOX_ROLE_DAEMON, daemon_forbidden), 0);
}

static void
token_role_does_its_work(void)
{
	CHECK(exited_0(in_child(token_work)));
}

/* the key file is beyond the token role's reach (Landlock): EACCES */
static int
token_opens_key_file(void)
{
	int fd;

	if (confine(SANDBOX_ROLE_TOKEN) != 0)
		return 100;
	if ((fd = open(keyfile, O_RDONLY | O_CLOEXEC)) != -1)
		return 1;
	if (errno != EACCES)
		return 2;
	/* ... while the control reads: the file is there, /proc is not out */
	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		return 3;
	close(fd);
	return 0;
}

static void
token_role_cannot_open_the_key_file(void)
{
	int fd;

	if (sandbox_landlock_abi() < 1)
		SKIP("the kernel has no Landlock");
	/* readable outside the sandbox: what the child is refused is real */
	CHECK((fd = open(keyfile, O_RDONLY | O_CLOEXEC)) != -1);
	if (fd != -1)
		close(fd);
	CHECK(exited_0(in_child(token_opens_key_file)));
}

static void
token_role_forbidden_calls_kill(void)
{
	CHECK_EQ(ALL_KILLED(SANDBOX_ROLE_TOKEN, token_forbidden), 0);
}

static void
front_role_does_its_work(void)
{
	CHECK(exited_0(in_child(front_work)));
}

static void
front_role_forbidden_calls_kill(void)
{
	CHECK_EQ(ALL_KILLED(SANDBOX_ROLE_FRONT, front_forbidden), 0);
}

static void
front_cannot_read_the_key_file(void)
{
	if (sandbox_asan())
		SKIP("ASan build: every role may open read-only, "
		    "LeakSanitizer reads /proc/self/task at exit");
	forbid_role = SANDBOX_ROLE_FRONT;
	forbid_fn = open_key_ro;
	CHECK(killed_by_sigsys(in_child(forbidden_child)));
}

static void
verify_role_does_its_work(void)
{
	CHECK(exited_0(in_child(verify_work)));
}

static void
verify_role_forbidden_calls_kill(void)
{
	CHECK_EQ(ALL_KILLED(SANDBOX_ROLE_VERIFY, verify_forbidden), 0);
}

static void
directory_role_forbidden_calls_kill(void)
{
	CHECK_EQ(ALL_KILLED(SANDBOX_ROLE_DIRECTORY, directory_forbidden), 0);
}

/*
 * The directory role makes IP sockets, and is refused (not killed) an
 * AF_UNIX or netlink one: the C library's name lookups try them first.
 */
static int
directory_sockets(void)
{
	int fd;

	if (confine(SANDBOX_ROLE_DIRECTORY) != 0)
		return 100;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 1;
	close(fd);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 2;
	close(fd);
	if (socket(AF_UNIX, SOCK_STREAM, 0) != -1 || errno != EACCES)
		return 3;
	if (socket(AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EACCES)
		return 4;
	return 0;
}

static void
directory_role_makes_ip_sockets_only(void)
{
	int st = in_child(directory_sockets);

	if (!exited_0(st))
		printf("#   status %d\n", st);
	CHECK(exited_0(st));
}

/* the key file is beyond the directory role's reach; /etc/hosts is not */
static int
directory_opens_key_file(void)
{
	int fd;

	if (confine(SANDBOX_ROLE_DIRECTORY) != 0)
		return 100;
	if ((fd = open(keyfile, O_RDONLY | O_CLOEXEC)) != -1)
		return 1;
	if (errno != EACCES)
		return 2;
	if ((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) == -1)
		return 3;
	close(fd);
	return 0;
}

static void
directory_role_cannot_open_the_key_file(void)
{
	int fd;

	if (sandbox_landlock_abi() < 1)
		SKIP("the kernel has no Landlock");
	if (access("/etc/hosts", R_OK) != 0)
		SKIP("no /etc/hosts to read as the control");
	CHECK((fd = open(keyfile, O_RDONLY | O_CLOEXEC)) != -1);
	if (fd != -1)
		close(fd);
	CHECK(exited_0(in_child(directory_opens_key_file)));
}

/* exit() runs atexit handlers and, in ASan builds, the leak check */
static enum sandbox_role exit_role;

static int
exit_child(void)
{
	void *p;

	if (confine(exit_role) != 0)
		return 100;
	if ((p = malloc(4096)) == NULL)
		return 2;
	free(p);
	exit(0);
}

static void
every_role_exits_normally_under_its_filter(void)
{
	size_t i;

	for (i = 0; i < NROLES; i++) {
		exit_role = all_roles[i];
		if (!exited_0(in_child(exit_child))) {
			printf("#   role %s\n", sandbox_role_name(exit_role));
			CHECK(0);
		}
	}
}

/*
 * ASan builds: a sanitizer report from inside any filter comes out whole
 * (symbolized, with its summary) and ends the process the sanitizer's way,
 * not by SIGSYS halfway through.
 */
static enum sandbox_role report_role;
static int report_ubsan;

static int
report_child(void)
{
	char path[128];
	volatile char *p;
	volatile size_t size = 8;	/* unknown to UBSan's object-size */
	volatile int i = 8, big = 0x7fffffff;
	int fd;

	snprintf(path, sizeof(path), "%s/report-%s-%d", dir,
	    sandbox_role_name(report_role), report_ubsan);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    dup2(fd, 2) != 2)
		return 101;
	if (confine(report_role) != 0)
		return 100;
	if (report_ubsan)
		return big + i == 0 ? 90 : 91;	/* signed overflow */
	if ((p = malloc(size)) == NULL)
		return 102;
	p[i] = 1;				/* heap-buffer-overflow */
	return 90;
}

static int
report_is_whole(int st)
{
	char path[128], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/report-%s-%d", dir,
	    sandbox_role_name(report_role), report_ubsan);
	if (st == -1 || (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) ||
	    (WIFEXITED(st) && WEXITSTATUS(st) >= 90)) {
		printf("#   %s: status %#x\n", sandbox_role_name(report_role),
		    (unsigned int)st);
		return 0;
	}
	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (report_ubsan ? strstr(buf, "runtime error: signed integer "
	    "overflow") != NULL : strstr(buf, "AddressSanitizer: "
	    "heap-buffer-overflow") != NULL && strstr(buf, "report_child") !=
	    NULL && strstr(buf, "SUMMARY: AddressSanitizer") != NULL)
		return 1;
	printf("#   %s:\n%s", sandbox_role_name(report_role), buf);
	return 0;
}

static void
sanitizer_reports_survive_every_filter(void)
{
	size_t i;

	if (!sandbox_asan())
		SKIP("not an ASan build");
	for (i = 0; i < NROLES; i++) {
		report_role = all_roles[i];
		for (report_ubsan = 0; report_ubsan < 2; report_ubsan++)
			CHECK(report_is_whole(in_child(report_child)));
	}
}

/* ---- tests: threads, stacking */

static int sigsys_pipe[2];

static void *
thread_forbidden(void *arg)
{
	char c;

	/* wait until the main thread has applied the filter */
	if (arg != NULL && read(sigsys_pipe[0], &c, 1) != 1)
		return NULL;
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return NULL;
}

/* a forbidden call on another thread ends the whole process */
static int
thread_kill_child(void)
{
	pthread_t t;

	if (confine(SANDBOX_ROLE_FRONT) != 0)
		return 100;
	if (pthread_create(&t, NULL, thread_forbidden, NULL) != 0)
		return 101;
	pthread_join(t, NULL);
	return 90;
}

/* a thread that existed before sandbox_apply() is confined too */
static int
thread_tsync_child(void)
{
	pthread_t t;

	if (pipe(sigsys_pipe) != 0 ||
	    pthread_create(&t, NULL, thread_forbidden, sigsys_pipe) != 0)
		return 101;
	if (confine(SANDBOX_ROLE_FRONT) != 0)
		return 100;
	if (write(sigsys_pipe[1], "x", 1) != 1)
		return 102;
	pthread_join(t, NULL);
	return 90;
}

static void
forbidden_call_on_any_thread_kills_the_process(void)
{
	CHECK(killed_by_sigsys(in_child(thread_kill_child)));
	CHECK(killed_by_sigsys(in_child(thread_tsync_child)));
}

/* the token process: forks fine under the daemon's filter, not after */
static int
stacked_child(void)
{
	pid_t pid;
	int st;

	if (confine(SANDBOX_ROLE_DAEMON) != 0)
		return 100;
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid == -1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 2;
	if (sandbox_apply(SANDBOX_ROLE_TOKEN) != 0)
		return 3;
	if (unix_client_work() != 0)
		return 4;
	(void)fork();
	return 90;
}

static void
token_filter_stacks_on_the_daemons(void)
{
	CHECK(killed_by_sigsys(in_child(stacked_child)));
}

/*
 * Why the confined monitor cannot start a new directory process: what it
 * forks keeps its filter, and no filter stacked on it gives back an IP
 * socket.  The control: the same child before the monitor's filter.
 */
static int
net_after_fork_child(int confined)
{
	pid_t pid;
	int st, fd;

	if (confined && confine(SANDBOX_ROLE_DAEMON) != 0)
		return 100;
	if ((pid = fork()) == 0) {
		if (sandbox_apply(SANDBOX_ROLE_DIRECTORY) != 0)
			_exit(100);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		_exit(fd >= 0 ? 0 : 1);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid)
		return 101;
	if (confined)
		return killed_by_sigsys(st) ? 0 : 2;
	return exited_0(st) ? 0 : 3;
}

static int
net_before_confine_child(void)
{
	return net_after_fork_child(0);
}

static int
net_after_confine_child(void)
{
	return net_after_fork_child(1);
}

static void
directory_process_started_by_the_confined_daemon_has_no_network(void)
{
	CHECK(exited_0(in_child(net_before_confine_child)));
	CHECK(exited_0(in_child(net_after_confine_child)));
}

/* ---- tests: hardening and the address-space limit */

static int
harden_child(void)
{
	struct rlimit rl;

	if (sandbox_harden() != 0)
		return 100;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 2;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 3;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return 4;
	return 0;
}

static void
harden_sets_no_new_privs_not_dumpable_no_core(void)
{
	CHECK(exited_0(in_child(harden_child)));
}

static int
huge_malloc_child(void)
{
	void *p;

	if (sandbox_limit_as(256ULL << 20) != 0)
		return 100;
	errno = 0;
	if ((p = malloc((size_t)1 << 30)) != NULL) {
		free(p);
		return 2;
	}
	if (errno != ENOMEM)
		return 3;
	if ((p = malloc(1 << 20)) == NULL)
		return 4;
	free(p);
	return 0;
}

static void
address_space_limit_makes_a_huge_malloc_fail(void)
{
	if (sandbox_asan())
		SKIP("ASan build: sandbox_limit_as() is a no-op, ASan's "
		    "shadow memory alone reserves terabytes of address space");
	CHECK(exited_0(in_child(huge_malloc_child)));
}

/* the process's peak address-space size, from /proc/self/status */
static unsigned long long
vm_peak(void)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmPeak: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

/*
 * FIDO-NOTES.md: authenticatorData with the ED flag and the extension
 * bytes 9a 9a9a9a9a make libcbor ask malloc for ~20 GB inside
 * fido_assert_set_authdata_raw().
 */
static int
cbor_bomb(void)
{
	unsigned char ad[32 + 1 + 4 + 5];
	fido_assert_t *a;
	int r;

	memset(ad, 0, sizeof(ad));
	ad[32] = 0x81;				/* UP | ED */
	ad[36] = 1;				/* counter */
	memcpy(ad + 37, "\x9a\x9a\x9a\x9a\x9a", 5);
	fido_init(0);
	if ((a = fido_assert_new()) == NULL ||
	    fido_assert_set_count(a, 1) != FIDO_OK)
		return -1;
	r = fido_assert_set_authdata_raw(a, 0, ad, sizeof(ad));
	fido_assert_free(&a);
	return r;
}

/* under the token process's limit: an error, and no such reservation */
static int
cbor_bomb_limited_child(void)
{
	if (sandbox_limit_as(SANDBOX_AS_TOKEN) != 0)
		return 100;
	if (cbor_bomb() == FIDO_OK)
		return 2;
	return vm_peak() < SANDBOX_AS_TOKEN ? 0 : 3;
}

static void
libcbor_allocation_bomb_is_an_error_not_an_oom(void)
{
	if (sandbox_asan())
		SKIP("ASan build: sandbox_limit_as() is a no-op, and ASan "
		    "reports the 20 GB request itself");
	/*
	 * Only under the limit: without one, libcbor does not just reserve
	 * the 20 GB but fills them, which takes half a minute and most of
	 * the RAM of a test machine shared with others.
	 */
	CHECK(exited_0(in_child(cbor_bomb_limited_child)));
}

static int
lower_hard_limit_child(void)
{
	struct rlimit rl = { 128ULL << 20, 128ULL << 20 };

	if (setrlimit(RLIMIT_AS, &rl) != 0)
		return 100;
	if (sandbox_limit_as(SANDBOX_AS_DAEMON) != 0)
		return 2;
	if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_max != 128ULL << 20 ||
	    rl.rlim_cur != 128ULL << 20)
		return 3;
	return 0;
}

static void
address_space_limit_keeps_a_lower_hard_limit(void)
{
	if (sandbox_asan())
		SKIP("ASan build: sandbox_limit_as() is a no-op");
	CHECK(exited_0(in_child(lower_hard_limit_child)));
	CHECK_EQ(sandbox_limit_as(0), TG_ERR_INVALID);
}

/* ---- scratch directory */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	/* fork_exec_work()'s child: a program that starts and exits */
	if (argc == 2 && strcmp(argv[1], "--exit-4") == 0)
		return 4;

	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/tg-sandbox.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		printf("not ok scratch_directory\n");
		return 1;
	}
	snprintf(keyfile, sizeof(keyfile), "%s/seal.key", dir);
	if ((f = fopen(keyfile, "w")) == NULL || fputs("secret\n", f) < 0 ||
	    fclose(f) != 0) {
		printf("not ok scratch_key_file\n");
		return 1;
	}
	RUN(every_filter_checks_the_architecture_first);
	RUN(front_filter_lists_no_open_socket_or_exec);
	RUN(unknown_role_is_refused);
	RUN_MAY_SKIP(other_architecture_i386_calls_are_killed);
	RUN_MAY_SKIP(other_architecture_x32_calls_are_killed);
	RUN(daemon_role_does_its_work);
	RUN(daemon_role_forbidden_calls_kill);
	RUN(token_role_does_its_work);
	RUN(token_role_forbidden_calls_kill);
	RUN_MAY_SKIP(token_role_cannot_open_the_key_file);
	RUN(front_role_does_its_work);
	RUN(front_role_forbidden_calls_kill);
	RUN_MAY_SKIP(front_cannot_read_the_key_file);
	RUN(verify_role_does_its_work);
	RUN(verify_role_forbidden_calls_kill);
	RUN(directory_role_forbidden_calls_kill);
	RUN(directory_role_makes_ip_sockets_only);
	RUN_MAY_SKIP(directory_role_cannot_open_the_key_file);
	RUN(every_role_exits_normally_under_its_filter);
	RUN_MAY_SKIP(sanitizer_reports_survive_every_filter);
	RUN(forbidden_call_on_any_thread_kills_the_process);
	RUN(token_filter_stacks_on_the_daemons);
	RUN(directory_process_started_by_the_confined_daemon_has_no_network);
	RUN(harden_sets_no_new_privs_not_dumpable_no_core);
	RUN_MAY_SKIP(address_space_limit_makes_a_huge_malloc_fail);
	RUN_MAY_SKIP(libcbor_allocation_bomb_is_an_error_not_an_oom);
	RUN_MAY_SKIP(address_space_limit_keeps_a_lower_hard_limit);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	TAP_EXIT();
}

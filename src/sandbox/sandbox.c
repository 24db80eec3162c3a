/* SPDX-License-Identifier: ISC */
/*
 * The allow-lists, after OpenSSH's sandbox-seccomp-filter.c: the
 * architecture is checked first, and anything not listed kills the
 * process.  Each entry says why it is there.  The lists were measured on
 * the real programs (strace -f of tapgated through tests/e2e, then the
 * kernel's seccomp audit records with SANDBOX_DISCOVER below), in plain and
 * in ASan+UBSan builds; a new code path that needs more shows up as a
 * SIGSYS in the tests.
 *
 * seccomp cannot see path names (they are pointers), so a role that may
 * open files may open any file its uid can; the roles that must not touch
 * the key file or a hidraw node (front) get no open at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/hidraw.h>
#include <linux/landlock.h>
#include <malloc.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/errors.h"
#include "sandbox/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif
#ifndef SANDBOX_ASAN
#define SANDBOX_ASAN	0
#endif

/*
 * Developers only: with -DSANDBOX_DISCOVER an unlisted call is logged by
 * the kernel (dmesg | grep 'type=1326', syscall=N) instead of killing the
 * process, to find what a new code path needs.  Never in a release.
 */
#ifdef SANDBOX_DISCOVER
#define DEFAULT_ACTION	SCMP_ACT_LOG
#else
#define DEFAULT_ACTION	SCMP_ACT_KILL_PROCESS
#endif

#define LOW32		0xffffffffULL
#define NS_FLAGS	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | \
			 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			 CLONE_NEWCGROUP)
/* glibc's pthread_create(): whatever else, a thread of this process */
#define THREAD_FLAGS	CLONE_THREAD
/* LeakSanitizer's StopTheWorld tracer task (ASan builds only) */
#define LSAN_TRACER	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)
#define CREATE_FLAGS	(O_CREAT | O_TRUNC | (O_TMPFILE & ~O_DIRECTORY))
#define WX		(PROT_WRITE | PROT_EXEC)

/* What a role may do beyond the core every process needs. */
#define G_THREADS	0x001	/* create threads */
#define G_SOCKIO	0x002	/* talk on sockets it holds */
#define G_SERVER	0x004	/* accept and multiplex (libmicrohttpd) */
#define G_CONNECT	0x008	/* make and connect AF_UNIX sockets */
#define G_FILES		0x010	/* open and read files */
#define G_DB		0x020	/* write files durably (sqlite) */
#define G_HID		0x040	/* hidraw security keys (libfido2) */
#define G_PROCS		0x080	/* start, wait for and kill children */
#define G_CREATE	0x100	/* open may create and truncate */
#define G_KEYS		0x200	/* replace and remove key files */
#define G_NET		0x400	/* make and connect IP sockets */

static const struct {
	const char	*name;
	unsigned int	 groups;
} roles[] = {
	[SANDBOX_ROLE_DAEMON] = { "daemon", G_THREADS | G_SOCKIO |
	    G_CONNECT | G_FILES | G_DB | G_HID | G_PROCS | G_CREATE |
	    G_KEYS },
	[SANDBOX_ROLE_TOKEN] = { "token", G_SOCKIO | G_CONNECT | G_FILES |
	    G_HID },
	[SANDBOX_ROLE_FRONT] = { "front", G_THREADS | G_SOCKIO | G_SERVER },
	[SANDBOX_ROLE_VERIFY] = { "verify", G_FILES | G_DB | G_CREATE },
	[SANDBOX_ROLE_DIRECTORY] = { "directory", G_SOCKIO | G_FILES |
	    G_NET },
};
#define NROLES	(sizeof(roles) / sizeof(roles[0]))

/* Every role: the C library, malloc and stdio at work. */
static const int sys_core[] = {
	SCMP_SYS(read),			/* descriptors the process holds */
	SCMP_SYS(readv),
	SCMP_SYS(write),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(lseek),		/* stdio */
	SCMP_SYS(fstat),		/* stdio buffering, libraries */
	SCMP_SYS(newfstatat),		/* glibc's fstat(); metadata only */
	SCMP_SYS(fcntl),		/* fd flags, O_NONBLOCK, sqlite locks */
	SCMP_SYS(brk),			/* malloc */
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),		/* realloc of large blocks */
	SCMP_SYS(madvise),		/* free() returning pages */
	SCMP_SYS(futex),		/* mutexes, condition variables */
	SCMP_SYS(clock_gettime),	/* when the vDSO cannot answer */
	SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep),	/* usleep(), retry pauses */
	SCMP_SYS(nanosleep),
	SCMP_SYS(sched_yield),		/* spinning locks */
	SCMP_SYS(rt_sigreturn),		/* return from a signal handler */
	SCMP_SYS(rt_sigprocmask),	/* pthread and abort() masks */
	SCMP_SYS(rt_sigaction),		/* abort() resets SIGABRT */
	SCMP_SYS(getpid),
	SCMP_SYS(gettid),
	SCMP_SYS(getuid),		/* sqlite, OpenSSL secure_getenv() */
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(getrandom),		/* OpenSSL's DRBG, sqlite */
	SCMP_SYS(sysinfo),		/* qsort() of over 1 KiB sizes its
					   buffer by the RAM (JSON_SORT_KEYS,
					   jcs.c): load and memory figures */
	SCMP_SYS(restart_syscall),	/* an interrupted sleep resumes */
	SCMP_SYS(exit),			/* a thread ends */
	SCMP_SYS(exit_group),		/* the process ends */
};

/* G_THREADS: beyond clone() itself (see add_arg_rules()) */
static const int sys_threads[] = {
	SCMP_SYS(set_robust_list),	/* glibc, in each new thread */
	SCMP_SYS(rseq),			/* glibc 2.35+, in each new thread */
};

/* G_SOCKIO */
static const int sys_sockio[] = {
	SCMP_SYS(sendto),		/* send() */
	SCMP_SYS(recvfrom),		/* recv() */
	SCMP_SYS(sendmsg),		/* HTTP replies (iovecs), journald */
	SCMP_SYS(recvmsg),
	SCMP_SYS(shutdown),		/* closing HTTP connections */
	SCMP_SYS(poll),			/* waits with a deadline */
	SCMP_SYS(ppoll),		/* libfido2's waits */
};

/* G_SERVER: libmicrohttpd's thread pool on the listening socket */
static const int sys_server[] = {
	SCMP_SYS(accept4),		/* the only new sockets */
	SCMP_SYS(epoll_create1),	/* one epoll set per worker */
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(eventfd2),		/* inter-thread wake-up channel */
	SCMP_SYS(pipe2),		/* the same where eventfd is off */
	SCMP_SYS(getsockname),		/* MHD checks its listening socket */
};

/* G_CONNECT: beyond socket(AF_UNIX) itself (see add_arg_rules()) */
static const int sys_connect[] = {
	SCMP_SYS(connect),		/* softfido, journald, nscd */
};

/* G_NET: beyond socket(AF_INET, AF_INET6) itself (add_arg_rules()) */
static const int sys_net[] = {
	SCMP_SYS(connect),		/* the directory; DNS servers */
	SCMP_SYS(getsockname),		/* libldap, the resolver */
	SCMP_SYS(getpeername),		/* libldap names its peer */
	SCMP_SYS(setsockopt),		/* TCP_NODELAY, SO_KEEPALIVE */
	SCMP_SYS(sendmmsg),		/* the resolver's A and AAAA */
	SCMP_SYS(bind),			/* the resolver's source port */
	SCMP_SYS(uname),		/* libldap names its own host */
};

/* G_FILES: beyond openat() itself (see add_arg_rules()) */
static const int sys_files[] = {
	SCMP_SYS(pread64),		/* sqlite pages, ELF headers */
	SCMP_SYS(access),		/* sqlite journal, libfido2 node check */
	SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(readlink),		/* sqlite resolves symlinked paths */
	SCMP_SYS(getcwd),		/* sqlite, relative paths */
};

/* G_DB: sqlite in WAL mode with synchronous=FULL */
static const int sys_db[] = {
	SCMP_SYS(pwrite64),		/* pages, WAL frames */
	SCMP_SYS(fsync),		/* durability of db and directory */
	SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate),		/* WAL reset, shm sizing */
	SCMP_SYS(unlink),		/* journal files; the socket at exit */
	SCMP_SYS(fchmod),		/* a new journal gets the db's mode */
	SCMP_SYS(fchown),		/* ... and, as root, the db's owner */
};

/*
 * G_KEYS: co-signing key rotation (signkey.h): the old blob linked aside,
 * the standby renamed over it, the old one wiped and removed
 */
static const int sys_keys[] = {
	SCMP_SYS(linkat),
	SCMP_SYS(renameat),
	SCMP_SYS(renameat2),		/* what renameat() may use */
	SCMP_SYS(unlinkat),
};

/* G_HID: beyond the ioctl()s (see add_arg_rules()) */
static const int sys_hid[] = {
	SCMP_SYS(flock),		/* libfido2 locks the hidraw node */
};

/*
 * G_PROCS: the token process, started again when it dies (fork + execve
 * of /proc/self/exe), under this filter and then its own: what the
 * dynamic loader and its start need is here too.  Hooks are not started
 * here but by the hook runner, which never has this filter.
 */
static const int sys_procs[] = {
	SCMP_SYS(rt_sigtimedwait),	/* the main loop waits for signals */
	SCMP_SYS(execve),		/* the token process */
	SCMP_SYS(wait4),		/* reaping children */
	SCMP_SYS(waitid),
	SCMP_SYS(kill),			/* SIGKILL to a silent child */
	SCMP_SYS(tgkill),		/* raise(), pthread_kill() */
	SCMP_SYS(landlock_create_ruleset), /* a new token process confines */
	SCMP_SYS(landlock_add_rule),	/* ... its file-system reach */
	SCMP_SYS(landlock_restrict_self),
	SCMP_SYS(dup2),			/* the child's fd 3 */
	SCMP_SYS(dup3),
	SCMP_SYS(close_range),		/* the child closes what it inherited */
	SCMP_SYS(arch_prctl),		/* ld.so of an exec'd program: TLS */
	SCMP_SYS(set_tid_address),	/* ... and its thread setup */
	SCMP_SYS(memfd_create),		/* sd_journal_send: large entries */
};

/* ASan, LSan and UBSan: reports and the leak check at exit */
static const int sys_asan[] = {
	SCMP_SYS(wait4),		/* LSan waits for the threads to stop */
	SCMP_SYS(getdents),		/* ... lists /proc/self/task */
	SCMP_SYS(sched_getaffinity),	/* ... sizes its work to the CPUs */
	SCMP_SYS(getppid),		/* ... the tracer watches its parent */
	SCMP_SYS(sigaltstack),		/* ... and handles its own faults */
	SCMP_SYS(readlink),		/* /proc/self/exe, symbolizing */
	SCMP_SYS(pread64),		/* debug info */
};

static int
allow_list(scmp_filter_ctx ctx, const int *nr, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (nr[i] < 0)
			continue;	/* not a call of this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr[i], 0);
		/* a duplicate (the ASan list repeats a few) is fine */
		if (r != 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/* Allow nr when (argument arg & mask) == datum. */
static int
allow_if(scmp_filter_ctx ctx, int nr, unsigned int arg, uint64_t mask,
    uint64_t datum)
{
	if (nr < 0)
		return 0;	/* not a call of this architecture */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
	    SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, datum));
}

/* The rules that look at arguments, per group. */
static int
add_arg_rules(scmp_filter_ctx ctx, unsigned int g)
{
	int r = 0;

	/*
	 * W^X: no mapping is ever writable and executable at once (the
	 * dynamic loader of an exec'd child maps code read+exec).
	 */
	/*
	 * libmicrohttpd on a TCP connection (HTTPS) sets TCP_NODELAY and
	 * TCP_CORK on it; no other option, no other level
	 */
	if ((g & G_SERVER) != 0 && (r = seccomp_rule_add(ctx,
	    SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP),
	    SCMP_A2(SCMP_CMP_EQ, TCP_NODELAY))) != 0)
		return r;
	if ((g & G_SERVER) != 0 && (r = seccomp_rule_add(ctx,
	    SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP),
	    SCMP_A2(SCMP_CMP_EQ, TCP_CORK))) != 0)
		return r;
	if ((r = allow_if(ctx, SCMP_SYS(mmap), 2, WX, 0)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(mmap), 2, WX, PROT_WRITE)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(mmap), 2, WX, PROT_EXEC)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(mprotect), 2, WX, 0)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(mprotect), 2, WX, PROT_WRITE)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(mprotect), 2, WX, PROT_EXEC)) != 0)
		return r;
	/* isatty() from stdio; nothing else of the terminal */
	if ((r = allow_if(ctx, SCMP_SYS(ioctl), 1, LOW32, TCGETS)) != 0)
		return r;
	/*
	 * prctl: MHD names its threads; a child may drop dumpability and ask
	 * to die with its parent; no-new-privs before stacking a filter.
	 */
	if ((r = allow_if(ctx, SCMP_SYS(prctl), 0, LOW32, PR_SET_NAME)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(prctl), 0, LOW32,
	    PR_SET_PDEATHSIG)) != 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 2,
	    SCMP_CMP(0, SCMP_CMP_MASKED_EQ, LOW32, PR_SET_DUMPABLE),
	    SCMP_CMP(1, SCMP_CMP_EQ, 0, 0))) != 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 2,
	    SCMP_CMP(0, SCMP_CMP_MASKED_EQ, LOW32, PR_SET_NO_NEW_PRIVS),
	    SCMP_CMP(1, SCMP_CMP_EQ, 1, 0))) != 0)
		return r;
	/*
	 * seccomp(): a process may only add filters, which can only narrow
	 * what it may do (a token process stacks its own on the daemon's).
	 */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp),
	    0)) != 0)
		return r;
	/*
	 * glibc tries clone3() first for threads and posix_spawn() and falls
	 * back to clone() on ENOSYS; clone3's flags sit behind a pointer
	 * that seccomp cannot read, clone's are checked below.
	 */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
	    SCMP_SYS(clone3), 0)) != 0)
		return r;
	/* libcap's constructor in an exec'd child probes the bounding set */
	if ((g & G_PROCS) != 0 && (r = allow_if(ctx, SCMP_SYS(prctl), 0, LOW32,
	    PR_CAPBSET_READ)) != 0)
		return r;
	/* limits: read our own; only a parent of children sets them */
	if ((g & G_PROCS) != 0)
		r = allow_if(ctx, SCMP_SYS(prlimit64), 0, LOW32, 0);
	else
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64),
		    2, SCMP_CMP(0, SCMP_CMP_EQ, 0, 0),
		    SCMP_CMP(2, SCMP_CMP_EQ, 0, 0));
	if (r != 0)
		return r;
	/* signals: to other processes only for a parent of children */
	if ((g & G_PROCS) == 0 && (r = allow_if(ctx, SCMP_SYS(tgkill), 0,
	    LOW32, (uint64_t)getpid())) != 0)
		return r;
	/*
	 * clone(): a parent of children may fork (flags without CLONE_VM)
	 * and vfork; others only add threads.  Never a new namespace.
	 */
	if ((g & G_PROCS) != 0)
		r = allow_if(ctx, SCMP_SYS(clone), 0, NS_FLAGS, 0);
	else if ((g & G_THREADS) != 0)
		r = allow_if(ctx, SCMP_SYS(clone), 0, NS_FLAGS | THREAD_FLAGS,
		    THREAD_FLAGS);
	if (r != 0)
		return r;
	/* AF_UNIX only: never an IP or netlink socket */
	if ((g & G_CONNECT) != 0 && (r = allow_if(ctx, SCMP_SYS(socket), 0,
	    LOW32, AF_UNIX)) != 0)
		return r;
	/* IP only for the network role: never AF_UNIX, netlink, packet */
	if ((g & G_NET) != 0 && ((r = allow_if(ctx, SCMP_SYS(socket), 0,
	    LOW32, AF_INET)) != 0 || (r = allow_if(ctx, SCMP_SYS(socket), 0,
	    LOW32, AF_INET6)) != 0))
		return r;
	/*
	 * ... where the C library's name lookups try nscd (AF_UNIX) and
	 * the addresses of the interfaces (netlink) first, and go on
	 * without: refused, not killed.  An AF_UNIX socket would reach the
	 * daemon's own API as the daemon's uid.
	 */
	if ((g & G_NET) != 0 && ((r = seccomp_rule_add(ctx,
	    SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    SCMP_CMP(0, SCMP_CMP_MASKED_EQ, LOW32, AF_UNIX))) != 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
	    SCMP_SYS(socket), 1, SCMP_CMP(0, SCMP_CMP_MASKED_EQ, LOW32,
	    AF_NETLINK))) != 0))
		return r;
	if ((g & G_PROCS) != 0 && (r = allow_if(ctx, SCMP_SYS(socketpair), 0,
	    LOW32, AF_UNIX)) != 0)
		return r;
	/* SO_PEERCRED (who is calling), SO_DOMAIN; journald's SO_SNDBUF */
	if ((g & G_SOCKIO) != 0 && (r = allow_if(ctx, SCMP_SYS(getsockopt), 1,
	    LOW32, SOL_SOCKET)) != 0)
		return r;
	if ((g & G_CONNECT) != 0 && (r = allow_if(ctx, SCMP_SYS(setsockopt), 1,
	    LOW32, SOL_SOCKET)) != 0)
		return r;
	/* libfido2 reads a hidraw node's report descriptor */
	if ((g & G_HID) != 0 &&
	    ((r = allow_if(ctx, SCMP_SYS(ioctl), 1, LOW32,
	    HIDIOCGRDESCSIZE)) != 0 ||
	    (r = allow_if(ctx, SCMP_SYS(ioctl), 1, LOW32, HIDIOCGRDESC)) != 0))
		return r;
	/*
	 * openat: any file when the role may create; the token process only
	 * opens what exists (hidraw nodes, openssl.cnf) and never truncates.
	 */
	if ((g & G_FILES) != 0) {
		if ((g & G_CREATE) != 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(openat), 0);
		else
			r = allow_if(ctx, SCMP_SYS(openat), 2, CREATE_FLAGS, 0);
	}
	return r;
}

/*
 * What the sanitizers need on top, in ASan builds only.  LeakSanitizer's
 * exit-time check clones a tracer task that makes the process dumpable for
 * a moment, ptrace-attaches to each of its threads (listed from
 * /proc/self/task) and reads their registers; reports read /proc/self/maps
 * and the binaries to symbolize.
 */
static int
add_asan_rules(scmp_filter_ctx ctx, unsigned int g)
{
	/* attach to, read the registers of and release its own threads */
	static const long ptrace_ops[] = { PTRACE_ATTACH, PTRACE_CONT,
	    PTRACE_GETREGS, PTRACE_GETREGSET, PTRACE_DETACH };
	static const int prctl_ops[] = { PR_GET_DUMPABLE, PR_SET_DUMPABLE,
	    PR_SET_PTRACER };
	size_t i;
	int r;

	if ((r = allow_list(ctx, sys_asan, sizeof(sys_asan) /
	    sizeof(sys_asan[0]))) != 0)
		return r;
	for (i = 0; i < sizeof(ptrace_ops) / sizeof(ptrace_ops[0]); i++)
		if ((r = allow_if(ctx, SCMP_SYS(ptrace), 0, LOW32,
		    (uint64_t)ptrace_ops[i])) != 0)
			return r;
	for (i = 0; i < sizeof(prctl_ops) / sizeof(prctl_ops[0]); i++)
		if ((r = allow_if(ctx, SCMP_SYS(prctl), 0, LOW32,
		    (uint64_t)prctl_ops[i])) != 0)
			return r;
	if ((g & G_PROCS) == 0 && (r = allow_if(ctx, SCMP_SYS(clone), 0, LOW32,
	    LSAN_TRACER)) != 0)
		return r;
	/*
	 * read-only opens of /proc/self/{task,maps} and the binaries; the
	 * sanitizers use the old open() on x86_64
	 */
	if ((r = allow_if(ctx, SCMP_SYS(open), 1, O_ACCMODE | CREATE_FLAGS,
	    O_RDONLY)) != 0 || ((g & G_FILES) == 0 &&
	    (r = allow_if(ctx, SCMP_SYS(openat), 2, O_ACCMODE | CREATE_FLAGS,
	    O_RDONLY)) != 0))
		return r;
	return 0;
}

static int
build(enum sandbox_role role, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	unsigned int g;
	int r;

	if ((unsigned int)role >= NROLES)
		return TG_ERR_INVALID;
	g = roles[role].groups;
	/* seccomp_init() adds the native architecture and only it */
	if ((ctx = seccomp_init(DEFAULT_ACTION)) == NULL)
		return TG_ERR_SANDBOX;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    seccomp_arch_exist(ctx, seccomp_arch_native()) != 0)
		goto fail;
	/* a binary tree: the daemon's list is long and read() is hot */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#define LIST(a)	allow_list(ctx, (a), sizeof(a) / sizeof((a)[0]))
	if ((r = LIST(sys_core)) != 0 ||
	    ((g & G_THREADS) && (r = LIST(sys_threads)) != 0) ||
	    ((g & G_SOCKIO) && (r = LIST(sys_sockio)) != 0) ||
	    ((g & G_SERVER) && (r = LIST(sys_server)) != 0) ||
	    ((g & G_CONNECT) && (r = LIST(sys_connect)) != 0) ||
	    ((g & G_NET) && (r = LIST(sys_net)) != 0) ||
	    ((g & G_FILES) && (r = LIST(sys_files)) != 0) ||
	    ((g & G_DB) && (r = LIST(sys_db)) != 0) ||
	    ((g & G_KEYS) && (r = LIST(sys_keys)) != 0) ||
	    ((g & G_HID) && (r = LIST(sys_hid)) != 0) ||
	    ((g & G_PROCS) && (r = LIST(sys_procs)) != 0) ||
	    (r = add_arg_rules(ctx, g)) != 0 ||
	    (SANDBOX_ASAN && (r = add_asan_rules(ctx, g)) != 0))
		goto fail;
#undef LIST
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return TG_ERR_SANDBOX;
}

int
sandbox_harden(void)
{
	const struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &none) != 0)
		return TG_ERR_SANDBOX;
	return 0;
}

int
sandbox_limit_as(uint64_t bytes)
{
	struct rlimit rl;

	if (bytes == 0)
		return TG_ERR_INVALID;
	if (SANDBOX_ASAN)
		return 0;	/* the shadow memory alone is terabytes */
	if (getrlimit(RLIMIT_AS, &rl) != 0)
		return TG_ERR_SANDBOX;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes)
		bytes = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)bytes;
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		return TG_ERR_SANDBOX;
	return 0;
}

/* ---- Landlock: where in the file system a role's opens may reach */

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#endif
#define LL_READ		(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_DEVICE	(LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_IOCTL_DEV)

struct fs_rule {
	const char	*path;
	uint64_t	 access;	/* beneath path */
};

/*
 * The token process: security keys and what libfido2 and libudev read
 * about them; /proc for the C library (and the sanitizers).  Not the
 * state directory, not the configuration, not the co-signing key.
 */
static const struct fs_rule token_fs[] = {
	{ "/dev", LL_DEVICE },		/* hidraw nodes, /dev/urandom */
	{ "/sys", LL_READ },		/* device attributes */
	{ "/run/udev", LL_READ },	/* udev's device database */
	{ "/proc", LL_READ },
};

/*
 * tapgate-verify: its inputs and redemption database come as paths
 * (sandbox_apply_paths); sqlite seeds itself from /dev/urandom.
 */
static const struct fs_rule verify_fs[] = {
	{ "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE },
};

/*
 * The directory process: name resolution reads these; its own files
 * (CA, password, certificate, key) come as paths.
 */
static const struct fs_rule directory_fs[] = {
	{ "/etc/hosts", LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/etc/resolv.conf", LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/etc/nsswitch.conf", LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/etc/host.conf", LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/etc/gai.conf", LANDLOCK_ACCESS_FS_READ_FILE },
	{ "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE },
};

/* The roles whose opens Landlock holds, and their fixed rules. */
static const struct {
	const struct fs_rule	*rules;
	size_t			 n;
} landlock_roles[] = {
	[SANDBOX_ROLE_TOKEN] = { token_fs,
	    sizeof(token_fs) / sizeof(token_fs[0]) },
	[SANDBOX_ROLE_VERIFY] = { verify_fs,
	    sizeof(verify_fs) / sizeof(verify_fs[0]) },
	[SANDBOX_ROLE_DIRECTORY] = { directory_fs,
	    sizeof(directory_fs) / sizeof(directory_fs[0]) },
};
#define NLANDLOCK	(sizeof(landlock_roles) / sizeof(landlock_roles[0]))

/* What a sandbox_path grants: one file to read, or a directory to keep. */
#define LL_FILE		LANDLOCK_ACCESS_FS_READ_FILE
#define LL_DB_DIR	(LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | \
			 LANDLOCK_ACCESS_FS_MAKE_REG | \
			 LANDLOCK_ACCESS_FS_REMOVE_FILE | \
			 LANDLOCK_ACCESS_FS_TRUNCATE)

int
sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* Every file-system access right the kernel's Landlock ABI knows. */
static uint64_t
landlock_handled(int abi)
{
	uint64_t h = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return h;
}

/* Allow access beneath path; a path that does not exist is skipped. */
static int
landlock_rule(int rs, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb;
	int fd, r = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : TG_ERR_SANDBOX;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb,
	    0) != 0)
		r = TG_ERR_SANDBOX;
	close(fd);
	return r;
}

/* ASan builds: read what the leak check and a report take (not state). */
static int
landlock_asan(int rs, uint64_t handled)
{
	/* LeakSanitizer walks /proc/self/task; reports read the libraries */
	static const char *const libs[] = { "/proc", "/usr", "/lib",
	    "/lib64" };
	char exe[4096];
	ssize_t n;
	size_t i;
	int r = 0;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		r = landlock_rule(rs, exe, LANDLOCK_ACCESS_FS_READ_FILE,
		    handled);
	}
	for (i = 0; i < sizeof(libs) / sizeof(libs[0]) && r == 0; i++)
		r = landlock_rule(rs, libs[i], LL_READ, handled);
	return r;
}

/*
 * Restrict the calling thread (and what it starts) to rules and paths:
 * any other path opens with EACCES.  No-new-privs must be set already.  Landlock is per thread: call it while
 * the process has one.  A kernel without Landlock leaves seccomp alone in
 * charge (0); sandbox_landlock_abi() tells.
 */
static int
landlock_apply(const struct fs_rule *rules, size_t n,
    const struct sandbox_path *paths, size_t npaths)
{
	struct landlock_ruleset_attr attr;
	int abi, rs, r = 0;
	size_t i;

	if ((abi = sandbox_landlock_abi()) < 1)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = landlock_handled(abi);
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) < 0)
		return TG_ERR_SANDBOX;
	for (i = 0; i < n && r == 0; i++)
		r = landlock_rule(rs, rules[i].path, rules[i].access,
		    attr.handled_access_fs);
	for (i = 0; i < npaths && r == 0; i++)
		r = landlock_rule(rs, paths[i].path, paths[i].db_dir ?
		    LL_DB_DIR : LL_FILE, attr.handled_access_fs);
	/* sanitizer reports name functions: the binary and libraries */
	if (SANDBOX_ASAN && r == 0)
		r = landlock_asan(rs, attr.handled_access_fs);
	if (r == 0 && syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		r = TG_ERR_SANDBOX;
	close(rs);
	return r;
}

/*
 * Settle what the C library would otherwise fetch lazily, on a path no
 * filter allows, when any caller can make a confined process take it
 * (see sandbox.h for the list of paths checked).
 */
static void
settle_libc(void)
{
	/*
	 * One malloc arena.  A thread arena's heap is shrunk in free() and,
	 * the first time, glibc opens /proc/sys/vm/overcommit_memory to
	 * choose how; past 8 arenas glibc counts the CPUs from
	 * /sys/devices/system/cpu/online.  The main arena shrinks with
	 * brk() and needs neither; its lock costs little next to the
	 * daemon's own.  It binds threads started from now on (one that
	 * exists keeps its arena): call this before the first thread.
	 * The trim and mmap thresholds stay glibc's: trimming the main
	 * heap and mapping large blocks use calls every filter allows.
	 */
	(void)mallopt(M_ARENA_MAX, 1);
	/*
	 * The time zone, read once for good: with TZ unset, tzset(),
	 * localtime() and mktime() look at /etc/localtime again on every
	 * call and re-read it when it changed; naming it makes the next
	 * look a string compare.  ":/etc/localtime" means what unset means.
	 */
	if (getenv("TZ") == NULL)
		(void)setenv("TZ", ":/etc/localtime", 0);
	tzset();
}

int
sandbox_apply(enum sandbox_role role)
{
	return sandbox_apply_paths(role, NULL, 0);
}

int
sandbox_apply_paths(enum sandbox_role role, const struct sandbox_path *paths,
    size_t npaths)
{
	scmp_filter_ctx ctx;
	int ll, r;

	if ((r = build(role, &ctx)) != 0)
		return r;
	settle_libc();
	ll = (size_t)role < NLANDLOCK && landlock_roles[role].rules != NULL;
	/* no new privileges first: Landlock and seccomp both require it */
	if (!ll && npaths != 0)
		r = TG_ERR_INVALID;
	else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		r = TG_ERR_SANDBOX;
	else if (ll)
		r = landlock_apply(landlock_roles[role].rules,
		    landlock_roles[role].n, paths, npaths);
	if (r == 0 && seccomp_load(ctx) != 0)
		r = TG_ERR_SANDBOX;
	seccomp_release(ctx);
	return r;
}

int
sandbox_export(enum sandbox_role role, int fd)
{
	scmp_filter_ctx ctx;
	int r;

	if ((r = build(role, &ctx)) != 0)
		return r;
	if (seccomp_export_pfc(ctx, fd) != 0)
		r = TG_ERR_SANDBOX;
	seccomp_release(ctx);
	return r;
}

const char *
sandbox_role_name(enum sandbox_role role)
{
	if ((unsigned int)role >= NROLES)
		return "?";
	return roles[role].name;
}

int
sandbox_asan(void)
{
	return SANDBOX_ASAN;
}

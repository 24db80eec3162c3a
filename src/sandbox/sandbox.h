/* SPDX-License-Identifier: ISC */
/*
 * Confinement of tapgate's processes: no new privileges, no core dumps, an
 * address-space limit, and a seccomp allow-list per process role.
 *
 * Every filter first checks the architecture (only the one the program was
 * built for passes: a 32-bit int 0x80 or x32 call is not a way around the
 * list) and kills the whole process with SIGSYS on any system call it does
 * not list.  The kernel audits each kill (audit type 1326 "SECCOMP": pid,
 * comm, arch, syscall number) to the journal or dmesg, and a parent sees
 * WTERMSIG == SIGSYS, so the reason survives the victim.
 *
 * Filters are inherited across fork and execve and they stack: a child
 * started after sandbox_apply() (a token process started again) runs
 * under its parent's list and under whatever it applies itself.  The same
 * holds for the limits of sandbox_harden() and sandbox_limit_as().
 *
 * AddressSanitizer builds (make check): RLIMIT_AS is not set, because ASan
 * reserves terabytes of shadow address space up front, and every filter
 * also admits what ASan, LeakSanitizer and UBSan need to print a report
 * and run the leak check at exit (ptrace attach, register reads and
 * detach, meant for the process's own threads; read-only open() of
 * /proc/self/... and of the binaries; under Landlock, reads of /proc,
 * the executable and /usr and /lib for the leak check and reports).  sandbox_asan() says which build
 * this is.  Sanitizer builds are for tests, not for the appliance.
 */
#ifndef TAPGATE_SANDBOX_H
#define TAPGATE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

enum sandbox_role {
	/*
	 * tapgated, the monitor: sqlite in the state dir, journald, its
	 * children's channels, a token process started again (fork,
	 * execve, wait, kill).  It parses no HTTP: no accept() and no epoll
	 * (that is the front's), and starts no hook (the hook runner does,
	 * from outside this filter).  No IP sockets, no namespaces, no
	 * ptrace, no bpf, no mount.
	 */
	SANDBOX_ROLE_DAEMON,
	/*
	 * tapgated --token-process: libfido2 on a hidraw node or a softfido
	 * Unix socket, talking to the daemon over the socketpair it was given.
	 * Opens files but never creates or truncates one; no threads, no
	 * fork, no exec.  Where the kernel has Landlock, its opens reach
	 * only /dev (read, write, ioctl), /sys, /run/udev and /proc (read):
	 * not the state directory, the configuration or the key files,
	 * which seccomp cannot tell from a hidraw node.  Call it while the
	 * process has a single thread (Landlock binds the calling thread).
	 */
	SANDBOX_ROLE_TOKEN,
	/*
	 * The privilege-separated front: HTTP and JSON on descriptors it
	 * already has.  accept() is its only way to a new socket; no open of
	 * any file, no socket(), no connect(), no fork, no exec.
	 */
	SANDBOX_ROLE_FRONT,
	/*
	 * tapgate-verify: reads the order, JWKS and approvers files, keeps
	 * the redemption database (sqlite); where the kernel has Landlock,
	 * it reaches those paths only (and /dev/urandom); no socket of any
	 * kind, no
	 * threads, no fork, no exec.
	 */
	SANDBOX_ROLE_VERIFY,
	/*
	 * tapgated --directory-process: libldap talking to the directory,
	 * the one process of tapgated with the network: IPv4 and IPv6
	 * sockets it makes and connects (the directory, DNS), no AF_UNIX
	 * socket of its own, no listening, no threads, no fork, no exec.
	 * Where the kernel has Landlock its opens reach only the name
	 * service files of /etc (hosts, resolv.conf, nsswitch.conf,
	 * host.conf, gai.conf), /dev/urandom, and the paths given: the
	 * directory's CA, password, certificate and key files.
	 */
	SANDBOX_ROLE_DIRECTORY,
};

/*
 * Address-space limits (RLIMIT_AS) that leave room for normal work.  The
 * daemon's figure covers its threads' stacks and malloc arenas (64 MiB of
 * address space each); a libcbor allocation bomb asks for gigabytes.
 */
#define SANDBOX_AS_DAEMON	(1024ULL << 20)
#define SANDBOX_AS_TOKEN	(512ULL << 20)
#define SANDBOX_AS_FRONT	(512ULL << 20)
#define SANDBOX_AS_VERIFY	(512ULL << 20)
#define SANDBOX_AS_DIRECTORY	(512ULL << 20)

/*
 * No new privileges (setuid bits and file capabilities stop working for
 * this process and its children), not dumpable (no ptrace attach by the
 * same user, no core), RLIMIT_CORE 0.  Call it early: before any secret
 * is in memory.  0 or TG_ERR_SANDBOX.
 */
int	sandbox_harden(void);

/*
 * Limit the address space to bytes (soft and hard limit; an existing lower
 * hard limit is kept), so that an oversized allocation fails with ENOMEM
 * and malloc() returns NULL instead of waking the OOM killer.  Inherited
 * by children.  Does nothing and returns 0 in ASan builds.  0,
 * TG_ERR_INVALID (bytes is 0) or TG_ERR_SANDBOX.
 */
int	sandbox_limit_as(uint64_t bytes);

/*
 * Install role's allow-list on every thread of the process (TSYNC), after
 * setting no-new-privs.  Irreversible.  Call it after the process has
 * opened what it needs that its role forbids, before it reads untrusted
 * input, and before it starts its first thread (see below).  0,
 * TG_ERR_INVALID (unknown role) or TG_ERR_SANDBOX.
 *
 * First it settles what the C library (glibc 2.36) fetches lazily, so
 * that no caller can steer a confined process onto a call its filter
 * kills: one malloc arena (mallopt M_ARENA_MAX 1; it binds threads
 * started afterwards), TZ set to ":/etc/localtime" when unset, tzset().
 * The lazy paths checked, in the monitor, the front and the token
 * process, and how each ends:
 *  - free() shrinking a thread arena's heap opens
 *    /proc/sys/vm/overcommit_memory once (a chunked POST did it in the
 *    front): one arena, whose heap shrinks with brk().
 *  - a ninth arena counts CPUs from /sys/devices/system/cpu/online:
 *    one arena.
 *  - qsort() over 1 KiB (JSON_SORT_KEYS, jcs.c; an object of 128 keys
 *    in a request killed the monitor) asks sysinfo() for the RAM: allowed.
 *  - gmtime_r() loads the time zone on first use, and tzset(),
 *    localtime() and mktime() re-read it when TZ is unset: settled here.
 *  - getpwuid() and the other NSS lookups (nss_systemd reads links and
 *    talks varlink; nss_sss and nss_ldap connect): never called after
 *    confinement; the monitor names callers from /etc/passwd read as a
 *    plain file (api.c).  No getaddrinfo (no IP anywhere).
 *  - locale, strerror() translations, iconv/gconv: the processes never
 *    call setlocale() and stay in the "C" locale, where strerror() and
 *    gettext read no file; nothing converts character sets.
 *  - syslog(): not called; the monitor logs to stderr and journald
 *    (sd_journal_send: an AF_UNIX datagram and, for large entries, a
 *    memfd; both allowed).
 *  - get_nprocs()/sysconf(_SC_NPROCESSORS_*): read /sys; called by
 *    nothing in these processes (libmicrohttpd is given its thread count).
 *  - threads: stacks are mmap()ed and cached by glibc, threads are named
 *    with prctl(PR_SET_NAME) on themselves; no pthread_cancel() or
 *    pthread_exit(), which would dlopen libgcc_s.
 * A path the list misses ends the process with SIGSYS, logged with the
 * call's number (audit type 1326): tests/unit/test_sandbox_libc.c and
 * tests/e2e/front_limits.sh pin the ones above.
 */
int	sandbox_apply(enum sandbox_role role);

/* A path a process may reach besides its role's own (Landlock). */
struct sandbox_path {
	const char	*path;
	int		 db_dir;	/* 0: read this one file; 1: read,
					   write, create and remove files
					   beneath this directory (sqlite) */
};

/*
 * sandbox_apply() for a role whose opens Landlock holds (TOKEN, VERIFY,
 * DIRECTORY), letting it also reach the npaths paths given: the token
 * process's trust roots, tapgate-verify's inputs and its redemption
 * database's directory, the directory process's files.  Other roles
 * take no paths (TG_ERR_INVALID).  A path that does not exist is
 * skipped.
 */
int	sandbox_apply_paths(enum sandbox_role role,
	    const struct sandbox_path *paths, size_t npaths);

/*
 * Write role's filter, as libseccomp's pseudo-filter code, to fd: what an
 * auditor (or a test) reads to see what the process may do.  Installs
 * nothing.  0, TG_ERR_INVALID or TG_ERR_SANDBOX.
 */
int	sandbox_export(enum sandbox_role role, int fd);

/*
 * The role's name ("daemon", "token", "front", "verify", "directory";
 * "?" if unknown).
 */
const char	*sandbox_role_name(enum sandbox_role role);

/*
 * The kernel's Landlock ABI version, 0 without Landlock (then the TOKEN
 * role's file-system rules are not in force; seccomp's still are).
 */
int	sandbox_landlock_abi(void);

/* 1 in an AddressSanitizer build (see above), else 0. */
int	sandbox_asan(void);

#endif /* TAPGATE_SANDBOX_H */

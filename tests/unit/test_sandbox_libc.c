/* SPDX-License-Identifier: ISC */
/*
 * The C library under each role's filter: what glibc fetches lazily (the
 * overcommit policy when a thread's heap shrinks, the CPU count when a
 * ninth malloc arena is wanted, the RAM size for a large qsort, the time
 * zone) must not reach a call the filter kills, since any local caller
 * can make the front or the monitor take those paths (issue 9: a chunked
 * POST made free() open /proc/sys/vm/overcommit_memory in the front).
 * Each case runs in a forked child that confines itself first.
 *
 * The parent starts no thread and sorts nothing large: the children must
 * begin as the daemon's processes do, with glibc's lazy state unsettled.
 * The malloc cases need glibc's allocator, which ASan replaces: they skip
 * in ASan builds and run in the plain build (make check-opt).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "tap.h"

static const enum sandbox_role all_roles[] = { SANDBOX_ROLE_DAEMON,
    SANDBOX_ROLE_TOKEN, SANDBOX_ROLE_FRONT, SANDBOX_ROLE_VERIFY };
#define NROLES	(sizeof(all_roles) / sizeof(all_roles[0]))
/* the roles that may start threads (the others have no clone()) */
static const enum sandbox_role threaded_roles[] = { SANDBOX_ROLE_DAEMON,
    SANDBOX_ROLE_FRONT };
#define NTHREADED	(sizeof(threaded_roles) / sizeof(threaded_roles[0]))

#define SKIP(why) do {							\
	printf("ok %s # SKIP %s\n", __func__, (why));			\
	fflush(stdout);							\
	tap_failed = -1;						\
	return;								\
} while (0)

#define RUN_MAY_SKIP(fn) do {						\
	tap_failed = 0;							\
	fn();								\
	if (tap_failed >= 0) {						\
		printf("%s %s\n", tap_failed ? "not ok" : "ok", #fn);	\
		fflush(stdout);						\
		tap_total_failed += tap_failed != 0;			\
	}								\
} while (0)

static enum sandbox_role child_role;

/* Fork, confine the child to child_role, run fn: the wait status. */
static int
in_confined_child(enum sandbox_role role, int (*fn)(void))
{
	pid_t pid;
	int st;

	child_role = role;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (sandbox_harden() != 0 || sandbox_apply(role) != 0)
			_exit(100);
		_exit(fn());
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return st;
}

/* The child ended with status 0; else say how it ended, for which role. */
static int
exited_0(int st)
{
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (st != -1 && WIFEXITED(st))
		printf("#   role %s: child exited %d\n",
		    sandbox_role_name(child_role), WEXITSTATUS(st));
	else if (st != -1 && WIFSIGNALED(st))
		printf("#   role %s: child killed by signal %d%s\n",
		    sandbox_role_name(child_role), WTERMSIG(st),
		    WTERMSIG(st) == SIGSYS ? " (a call the filter forbids)" :
		    "");
	return 0;
}

/* ---- malloc: a thread's heap shrinking, and many arenas */

/*
 * Grow the calling thread's heap well past the trim threshold (128 KiB)
 * in blocks under the mmap threshold, then free it all: glibc shrinks a
 * thread arena's heap in free() and, the first time, reads
 * /proc/sys/vm/overcommit_memory to decide how.
 */
static void *
heap_churn(void *arg)
{
	enum { NBLOCKS = 24, BLOCK = 60 * 1024 };
	char *b[NBLOCKS];
	size_t i;

	for (i = 0; i < NBLOCKS; i++) {
		if ((b[i] = malloc(BLOCK)) == NULL)
			return NULL;
		memset(b[i], (int)i, BLOCK);
	}
	for (i = NBLOCKS; i > 0; i--)
		free(b[i - 1]);
	return arg;
}

static int
heap_trim_child(void)
{
	pthread_t t;
	void *v = NULL;
	int ok = 1;

	/* the main heap (trimmed with brk), then a new thread's heap */
	if (heap_churn(&ok) != &ok)
		return 2;
	if (child_role != SANDBOX_ROLE_DAEMON &&
	    child_role != SANDBOX_ROLE_FRONT)
		return 0;	/* no threads in these roles */
	if (pthread_create(&t, NULL, heap_churn, &ok) != 0 ||
	    pthread_join(t, &v) != 0 || v != &ok)
		return 3;
	return 0;
}

static void
freeing_a_grown_heap_survives_every_filter(void)
{
	size_t i;

	if (sandbox_asan())
		SKIP("ASan's allocator stands in for glibc's malloc; the plain "
		    "build runs this");
	for (i = 0; i < NROLES; i++)
		CHECK(exited_0(in_confined_child(all_roles[i],
		    heap_trim_child)));
}

/*
 * Threads that allocate at the same time, more than glibc's arena_test
 * (8 on 64-bit): past it, glibc sizes the number of arenas from
 * /sys/devices/system/cpu/online.
 */
#define NBUSY	12

static pthread_barrier_t busy_barrier;
static void *volatile busy_block[NBUSY];	/* escapes: never elided */

static void *
busy_alloc(void *arg)
{
	size_t i = (size_t)(*(int *)arg);

	/* every thread holds its first allocation while the others ask */
	busy_block[i] = malloc(64);
	pthread_barrier_wait(&busy_barrier);
	free(busy_block[i]);
	return busy_block[i] != NULL ? arg : NULL;
}

static int
many_threads_child(void)
{
	pthread_t t[NBUSY];
	int idx[NBUSY], r = 0;
	void *v;
	size_t i;

	if (pthread_barrier_init(&busy_barrier, NULL, NBUSY) != 0)
		return 2;
	for (i = 0; i < NBUSY; i++) {
		idx[i] = (int)i;
		if (pthread_create(&t[i], NULL, busy_alloc, &idx[i]) != 0)
			return 3;
	}
	for (i = 0; i < NBUSY; i++)
		if (pthread_join(t[i], &v) != 0 || v != &idx[i])
			r = 4;
	return r;
}

static void
many_allocating_threads_survive_every_threaded_filter(void)
{
	size_t i;

	if (sandbox_asan())
		SKIP("ASan's allocator stands in for glibc's malloc; the plain "
		    "build runs this");
	for (i = 0; i < NTHREADED; i++)
		CHECK(exited_0(in_confined_child(threaded_roles[i],
		    many_threads_child)));
}

/* ---- qsort and the time zone */

static int
cmp_ptr(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return strcmp(x, y);
}

/*
 * 200 keys, as jansson's JSON_SORT_KEYS and jcs.c sort an object's: over
 * 1 KiB of pointers, glibc's qsort asks for the machine's RAM (sysinfo)
 * before it allocates its buffer.
 */
static int
qsort_child(void)
{
	enum { N = 200 };
	static char keys[N][8];
	const char *k[N];
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "x%zu", (N - i) * 7 % N);
		k[i] = keys[i];
	}
	qsort(k, N, sizeof(k[0]), cmp_ptr);
	for (i = 1; i < N; i++)
		if (strcmp(k[i - 1], k[i]) > 0)
			return 2;
	return 0;
}

static void
large_qsort_survives_every_filter(void)
{
	size_t i;

	for (i = 0; i < NROLES; i++)
		CHECK(exited_0(in_confined_child(all_roles[i], qsort_child)));
}

/*
 * Dates, as libmicrohttpd writes them into every answer (gmtime_r) and
 * as a log line might (localtime_r, localtime): the zone file is read
 * before the filter, never after.
 */
static int
time_child(void)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL || localtime_r(&now, &tm) == NULL ||
	    localtime(&now) == NULL || mktime(&tm) == (time_t)-1)
		return 2;
	return 0;
}

static void
dates_survive_every_filter(void)
{
	size_t i;

	for (i = 0; i < NROLES; i++)
		CHECK(exited_0(in_confined_child(all_roles[i], time_child)));
}

int
main(void)
{
	/* the time zone must be the children's to load, not ours */
	unsetenv("TZ");
	RUN_MAY_SKIP(freeing_a_grown_heap_survives_every_filter);
	RUN_MAY_SKIP(many_allocating_threads_survive_every_threaded_filter);
	RUN(large_qsort_survives_every_filter);
	RUN(dates_survive_every_filter);
	TAP_EXIT();
}

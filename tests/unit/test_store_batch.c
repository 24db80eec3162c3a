/* SPDX-License-Identifier: ISC */
/*
 * Shared commits (store_batch_run(), store.h) on real sqlite files, with
 * real threads.  To make who commits with whom certain, a third
 * connection holds the database's write lock while the callers line up:
 * the first caller then waits in its begin as the one committing, the
 * others queue behind it in a known order, and the lock's release lets
 * the first commit alone and the rest together.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/errors.h"
#include "store/audit.h"
#include "store/store.h"
#include "tap.h"

#define MEMBERS		6
#define WAIT_MS		10000	/* bound on every wait for a state */

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

static char tmpdir[1024];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
tmp_remove(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

static void
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-batch.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static const char *
db_file(const char *suffix)
{
	static char p[1200];

	snprintf(p, sizeof(p), "%s/%s%s", tmpdir, STORE_DB_NAME, suffix);
	return p;
}

/* ---- members: a request and its audit entry, as a submission */

struct member {
	pthread_t	 th;
	struct store	*st;
	char		 id[STORE_ID_LEN + 1];
	char		 account[32];
	const char	*idem;		/* Idempotency-Key, or NULL */
	int		 runs;		/* times its steps ran */
	int		 r;		/* what store_batch_run() returned */
};

static int
member_steps(struct store *wst, void *arg)
{
	struct member *m = arg;
	struct store_request rq;
	struct audit_entry e;
	int r;

	m->runs++;
	memset(&rq, 0, sizeof(rq));
	rq.id = m->id;
	rq.queue = "password_reset";
	rq.target_account = m->account;
	rq.target_system = "ldap-corp";
	rq.effective_class = "standard";
	rq.requester_agent = "hd-bob";
	rq.requester_channel = "phone";
	rq.requester_uid = 1000;
	rq.request_json = "{}";
	rq.state = "pending_evidence";
	rq.policy_id = "default";
	rq.policy_version = 1;
	rq.idem_key = m->idem;
	rq.idem_digest = m->idem != NULL ? "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" : NULL;
	rq.created = 1700000000;
	if ((r = store_request_insert(wst, &rq)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	e.time = 1700000000;
	e.actor_uid = 1000;
	e.actor_role = "intake";
	e.actor_name = "hd-bob";
	e.event = "request.submitted";
	e.request_id = m->id;
	return audit_append(wst, &e, NULL);
}

static void *
member_run(void *arg)
{
	struct member *m = arg;

	m->r = store_batch_run(m->st, member_steps, m);
	return NULL;
}

static void
member_init(struct member *m, struct store *st, int i, const char *idem)
{
	memset(m, 0, sizeof(*m));
	m->st = st;
	m->idem = idem;
	snprintf(m->id, sizeof(m->id), "%032x", 0x100 + i);
	snprintf(m->account, sizeof(m->account), "user-%d", i);
	m->r = 1;	/* not run yet */
}

/* ---- the lock a third connection holds */

static sqlite3 *
lock_take(void)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(db_file(""), &db, SQLITE_OPEN_READWRITE,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int
lock_release(sqlite3 *db)
{
	int rc = sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);

	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait (within WAIT_MS) until st shows running and waiting callers. */
static int
wait_batch(struct store *st, unsigned running, unsigned waiting)
{
	struct store_batch_stats s;
	int i;

	for (i = 0; i < WAIT_MS; i++) {
		store_batch_stats(st, &s);
		if (s.running == running && s.waiting == waiting)
			return 0;
		sleep_ms(1);
	}
	printf("#   stats: running %u waiting %u, expected %u and %u\n",
	    s.running, s.waiting, running, waiting);
	return -1;
}

/*
 * Start the n members in order behind a held write lock: the first
 * commits (waiting for the lock), the others queue in order.  0 with
 * the lock in *lockp, or -1.
 */
static int
line_up(struct store *st, struct member *m, int n, sqlite3 **lockp)
{
	int i;

	if ((*lockp = lock_take()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (pthread_create(&m[i].th, NULL, member_run, &m[i]) != 0 ||
		    wait_batch(st, 1, (unsigned)i) != 0)
			return -1;
	}
	return 0;
}

static void
join_all(struct member *m, int n)
{
	int i;

	for (i = 0; i < n; i++)
		pthread_join(m[i].th, NULL);
}

/* ---- what the chain holds */

struct seen {
	char	 ids[2 * MEMBERS + 4][STORE_ID_LEN + 1];
	int	 n;
};

static int
seen_entry(const struct audit_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < (int)(sizeof(s->ids) / sizeof(s->ids[0])))
		snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s",
		    e->request_id != NULL ? e->request_id : "-");
	return 0;
}

/* The sink: committed entries, in the order they are handed over. */
static struct seen sunk;

static void
sink_entry(const struct audit_entry *e, void *arg)
{
	(void)arg;
	(void)seen_entry(e, &sunk);
}

static int
request_count(struct store *st, const char *id)
{
	struct store_request *rq = NULL;
	int r = store_request_get(st, id, &rq);

	store_request_free(&rq);
	return r == 0 ? 1 : r == TG_ERR_NOT_FOUND ? 0 : -1;
}

static int
open_batched(struct store **stp)
{
	int r;

	tmp_make();
	memset(&sunk, 0, sizeof(sunk));
	if ((r = store_open(tmpdir, stp)) != 0)
		return r;
	(void)audit_set_journal(*stp, 0);
	(void)audit_set_sink(*stp, sink_entry, NULL);
	return store_batch_open(*stp);
}

/* ---- tests */

static void
batch_run_needs_a_committers_connection(void)
{
	struct store *st = NULL;
	struct store_batch_stats s;
	struct member m;

	tmp_make();
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK(!store_batch_enabled(st));
	member_init(&m, st, 0, NULL);
	CHECK_EQ(store_batch_run(st, member_steps, &m), TG_ERR_INVALID);
	CHECK_EQ(m.runs, 0);
	CHECK_EQ(store_batch_open(st), 0);
	CHECK(store_batch_enabled(st));
	CHECK_EQ(store_batch_open(st), 0);	/* once is enough */
	CHECK_EQ(store_batch_run(st, member_steps, &m), 0);
	CHECK_EQ(request_count(st, m.id), 1);
	store_batch_stats(st, &s);
	CHECK_EQ(s.commits, 1);
	CHECK_EQ(s.members, 1);
	store_close(&st);
	tmp_remove();
}

static void
callers_waiting_together_share_one_commit(void)
{
	struct store *st = NULL;
	struct member m[MEMBERS];
	struct store_batch_stats s;
	struct audit_report rep;
	struct seen chain;
	sqlite3 *lock = NULL;
	int i;

	CHECK_EQ(open_batched(&st), 0);
	for (i = 0; i < MEMBERS; i++)
		member_init(&m[i], st, i, NULL);
	CHECK_EQ(line_up(st, m, MEMBERS, &lock), 0);
	CHECK_EQ(lock_release(lock), 0);
	join_all(m, MEMBERS);
	for (i = 0; i < MEMBERS; i++) {
		CHECK_EQ(m[i].r, 0);
		CHECK_EQ(m[i].runs, 1);
		CHECK_EQ(request_count(st, m[i].id), 1);
	}
	/* the first alone, then all the others in one transaction */
	store_batch_stats(st, &s);
	CHECK_EQ(s.commits, 2);
	CHECK_EQ(s.members, MEMBERS);
	CHECK_EQ(s.largest, MEMBERS - 1);
	CHECK_EQ(s.failed, 0);
	CHECK_EQ(s.waiting, 0);
	/* each its own entry, in the order they came, chained */
	memset(&chain, 0, sizeof(chain));
	CHECK_EQ(audit_tail(st, 100, seen_entry, &chain), 0);
	CHECK_EQ(chain.n, MEMBERS);
	CHECK_EQ(sunk.n, MEMBERS);
	for (i = 0; i < MEMBERS; i++) {
		CHECK(strcmp(chain.ids[i], m[i].id) == 0);
		CHECK(strcmp(sunk.ids[i], m[i].id) == 0);
	}
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, MEMBERS);
	store_close(&st);
	tmp_remove();
}

static void
a_member_whose_steps_fail_leaves_the_others_in(void)
{
	struct store *st = NULL;
	struct member first, m[MEMBERS];
	struct store_batch_stats s;
	struct audit_report rep;
	struct seen chain;
	sqlite3 *lock = NULL;
	int i, j;

	CHECK_EQ(open_batched(&st), 0);
	/* "k-early" is taken by a committed request ... */
	member_init(&first, st, 99, "k-early");
	CHECK_EQ(store_batch_run(st, member_steps, &first), 0);
	/*
	 * ... and the batch holds a retry of it (2), and two callers with
	 * one key (3 and 5): the later of them fails, as a second insert of
	 * a key does
	 */
	for (i = 0; i < MEMBERS; i++)
		member_init(&m[i], st, i, i == 2 ? "k-early" :
		    i == 3 || i == 5 ? "k-same" : NULL);
	CHECK_EQ(line_up(st, m, MEMBERS, &lock), 0);
	CHECK_EQ(lock_release(lock), 0);
	join_all(m, MEMBERS);
	for (i = 0; i < MEMBERS; i++) {
		CHECK_EQ(m[i].r, i == 2 || i == 5 ? TG_ERR_EXISTS : 0);
		CHECK_EQ(request_count(st, m[i].id), m[i].r == 0);
	}
	store_batch_stats(st, &s);
	CHECK_EQ(s.failed, 2);
	/* the ones before a failure ran again, without it */
	CHECK(m[1].runs >= 2);
	/* what was rolled back is neither in the chain nor handed over */
	memset(&chain, 0, sizeof(chain));
	CHECK_EQ(audit_tail(st, 100, seen_entry, &chain), 0);
	CHECK_EQ(chain.n, 1 + MEMBERS - 2);
	CHECK_EQ(sunk.n, chain.n);
	CHECK(strcmp(chain.ids[0], first.id) == 0);
	for (i = 0, j = 1; i < MEMBERS; i++) {
		if (m[i].r != 0)
			continue;
		CHECK(strcmp(chain.ids[j], m[i].id) == 0);
		CHECK(strcmp(sunk.ids[j], m[i].id) == 0);
		j++;
	}
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	store_close(&st);
	tmp_remove();
}

/* Whether writes past RLIMIT_FSIZE fail here (EFBIG), on a scratch file. */
static int
fsize_limit_works(void)
{
	struct rlimit old, lim;
	char path[1200], buf[64];
	ssize_t w;
	int fd;

	snprintf(path, sizeof(path), "%s/fsize-probe", tmpdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    getrlimit(RLIMIT_FSIZE, &old) != 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	memset(buf, 0, sizeof(buf));
	lim = old;
	lim.rlim_cur = 16;
	if (setrlimit(RLIMIT_FSIZE, &lim) != 0) {
		close(fd);
		return 0;
	}
	w = write(fd, buf, sizeof(buf));
	(void)setrlimit(RLIMIT_FSIZE, &old);
	close(fd);
	unlink(path);
	return w == 16 || (w < 0 && errno == EFBIG);
}

/* Cap this process's file size at the log's size now: it cannot grow. */
static int
log_stops_growing(struct rlimit *old)
{
	struct rlimit lim;
	struct stat sb;

	if (stat(db_file("-wal"), &sb) != 0 || getrlimit(RLIMIT_FSIZE,
	    old) != 0)
		return -1;
	lim = *old;
	lim.rlim_cur = (rlim_t)sb.st_size;
	return setrlimit(RLIMIT_FSIZE, &lim);
}

static void
a_failed_commit_fails_every_member(void)
{
	struct store *st = NULL;
	struct member m[MEMBERS], after;
	struct store_batch_stats s;
	struct audit_report rep;
	struct seen chain;
	struct rlimit old;
	sqlite3 *lock = NULL;
	int i;

	CHECK_EQ(open_batched(&st), 0);
	/* a write past the limit must fail with EFBIG, not end us */
	signal(SIGXFSZ, SIG_IGN);
	if (!fsize_limit_works()) {
		store_close(&st);
		tmp_remove();
		SKIP("RLIMIT_FSIZE does not stop writes here");
	}
	for (i = 0; i < MEMBERS; i++)
		member_init(&m[i], st, i, NULL);
	CHECK_EQ(line_up(st, m, MEMBERS, &lock), 0);
	/* what the transactions write cannot reach the disk */
	CHECK_EQ(log_stops_growing(&old), 0);
	CHECK_EQ(lock_release(lock), 0);
	join_all(m, MEMBERS);
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
	for (i = 0; i < MEMBERS; i++) {
		CHECK_EQ(m[i].r, TG_ERR_IO);
		CHECK_EQ(request_count(st, m[i].id), 0);
	}
	store_batch_stats(st, &s);
	CHECK_EQ(s.commits, 2);
	CHECK_EQ(s.largest, MEMBERS - 1);
	CHECK_EQ(s.failed, MEMBERS);
	memset(&chain, 0, sizeof(chain));
	CHECK_EQ(audit_tail(st, 100, seen_entry, &chain), 0);
	CHECK_EQ(chain.n, 0);
	CHECK_EQ(sunk.n, 0);
	/* the disk back: the next shared commit stands */
	member_init(&after, st, 42, NULL);
	CHECK_EQ(store_batch_run(st, member_steps, &after), 0);
	CHECK_EQ(request_count(st, after.id), 1);
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 1);
	store_close(&st);
	tmp_remove();
}

/* The store's own transactions and shared ones take turns on one chain. */
static void
own_and_shared_transactions_keep_one_chain(void)
{
	struct store *st = NULL;
	struct member m[3];
	struct audit_entry e;
	struct audit_report rep;
	int i;

	CHECK_EQ(open_batched(&st), 0);
	memset(&e, 0, sizeof(e));
	e.actor_uid = -1;
	e.actor_role = "system";
	e.actor_name = "tapgated";
	e.event = "daemon.heartbeat";
	for (i = 0; i < 3; i++) {
		member_init(&m[i], st, i, NULL);
		CHECK_EQ(pthread_create(&m[i].th, NULL, member_run, &m[i]), 0);
		CHECK_EQ(store_begin(st), 0);
		CHECK_EQ(audit_append(st, &e, NULL), 0);
		CHECK_EQ(store_commit(st), 0);
	}
	join_all(m, 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(m[i].r, 0);
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 6);
	store_close(&st);
	tmp_remove();
}

/*
 * Opening the committer's connection leaves this process's locks on the
 * database in place: another process's connection that comes and goes
 * does not take itself for the last one and delete the log (which would
 * lose what is committed after).
 */
static void
another_connection_leaves_the_log_to_us(void)
{
	struct store *st = NULL;
	struct member m;
	struct stat sb;
	pid_t pid;
	int status;

	CHECK_EQ(open_batched(&st), 0);
	member_init(&m, st, 0, NULL);
	CHECK_EQ(store_batch_run(st, member_steps, &m), 0);
	CHECK_EQ(stat(db_file("-wal"), &sb), 0);
	/*
	 * another program (locks are per process; and a fork would share
	 * our sqlite's idea of them): opens, reads, closes
	 */
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 1) < 0)
			_exit(1);
		execlp("sqlite3", "sqlite3", db_file(""),
		    "SELECT count(*) FROM requests", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		store_close(&st);
		tmp_remove();
		SKIP("no sqlite3 program to open the database with");
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(stat(db_file("-wal"), &sb), 0);
	member_init(&m, st, 1, NULL);
	CHECK_EQ(store_batch_run(st, member_steps, &m), 0);
	store_close(&st);
	/* both requests are in the file, as a fresh connection reads it */
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(request_count(st, m.id), 1);
	store_close(&st);
	tmp_remove();
}

int
main(void)
{
	RUN(batch_run_needs_a_committers_connection);
	RUN(callers_waiting_together_share_one_commit);
	RUN(a_member_whose_steps_fail_leaves_the_others_in);
	RUN_MAY_SKIP(a_failed_commit_fails_every_member);
	RUN(own_and_shared_transactions_keep_one_chain);
	RUN_MAY_SKIP(another_connection_leaves_the_log_to_us);
	tmp_remove();
	TAP_EXIT();
}

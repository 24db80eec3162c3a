/* SPDX-License-Identifier: ISC */
/*
 * Crash safety: a child commits requests, each with its audit entry, and
 * reports each id only after its commit returned; the parent kills it with
 * SIGKILL at a random point of the burst.  Every reported id must be in the
 * database exactly once, with exactly one audit entry, nothing half-written,
 * and the chain must verify.  Several rounds on the same database, so each
 * round also recovers the previous round's hot WAL and chains onto it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "store/audit.h"
#include "store/store.h"
#include "tap.h"

#define ROUNDS		5
#define MAX_IDS		20000
#define CHILD_MAX	1000000	/* the child never gets there: it is killed */

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

static const char *
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-crash.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return tmpdir;
}

/* The child: submit until killed, one line per acknowledged request. */
static void
child(int fd)
{
	struct store *st = NULL;
	struct store_request r;
	struct audit_entry e = {
		.actor_uid = 1000,
		.actor_role = "intake",
		.actor_name = "hd-bob",
		.event = "request.submitted",
		.details = "{\"queue\":\"password_reset\"}",
	};
	char id[STORE_ID_LEN + 1], line[STORE_ID_LEN + 2];
	int i;

	if (store_open(tmpdir, &st) != 0)
		_exit(2);
	memset(&r, 0, sizeof(r));
	r.queue = "password_reset";
	r.target_account = "alice";
	r.target_system = "ldap-corp";
	r.effective_class = "standard";
	r.requester_agent = "hd-bob";
	r.requester_channel = "phone";
	r.requester_uid = 1000;
	r.request_json = "{\"queue\":\"password_reset\",\"target\":"
	    "{\"account\":\"alice\",\"system\":\"ldap-corp\"}}";
	r.state = "pending_evidence";
	r.policy_id = "default";
	r.policy_version = 1;
	for (i = 0; i < CHILD_MAX; i++) {
		if (store_request_id_new(id) != 0)
			_exit(3);
		r.id = id;
		e.request_id = id;
		if (store_begin(st) != 0 ||
		    store_request_insert(st, &r) != 0 ||
		    audit_append(st, &e, NULL) != 0 ||
		    store_commit(st) != 0)
			_exit(4);
		/* Acknowledged only now, like a 201 after the commit. */
		snprintf(line, sizeof(line), "%s\n", id);
		if (write(fd, line, STORE_ID_LEN + 1) != STORE_ID_LEN + 1)
			_exit(5);
	}
	_exit(0);
}

struct seen {
	int	 n;
	char	 rid[STORE_ID_LEN + 1];
};

static int
count_cb(const struct audit_entry *e, void *arg)
{
	struct seen *s = arg;

	if (e->request_id == NULL || strcmp(e->request_id, s->rid) != 0)
		return TG_ERR_INTERNAL;
	s->n++;
	return 0;
}

struct total {
	int64_t	n;
};

static int
total_cb(const char *queue, const char *state, int64_t n, void *arg)
{
	(void)queue;
	(void)state;
	((struct total *)arg)->n += n;
	return 0;
}

static void
acknowledged_requests_survive_kill_9_with_a_verified_chain(void)
{
	static char ids[MAX_IDS][STORE_ID_LEN + 1];
	struct store *st = NULL;
	struct store_request *got = NULL;
	struct audit_report rep;
	struct seen seen;
	struct total tot;
	char buf[4096], partial[STORE_ID_LEN + 2];
	size_t plen;
	ssize_t n;
	unsigned seed;
	int nids = 0, round, fds[2], status, want, got_lines, i, j;
	pid_t pid;

	seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("# seed %u\n", seed);
	srand(seed);
	tmp_make();
	for (round = 0; round < ROUNDS; round++) {
		CHECK(pipe(fds) == 0);
		fflush(stdout);
		CHECK((pid = fork()) != -1);
		if (pid == 0) {
			close(fds[0]);
			child(fds[1]);
		}
		close(fds[1]);
		/*
		 * Kill after a random number of acknowledgements and a
		 * random delay, so the kill lands anywhere in a commit.
		 */
		want = 1 + rand() % 40;
		got_lines = 0;
		plen = 0;
		for (;;) {
			if (got_lines >= want && pid != 0) {
				usleep((useconds_t)(rand() % 3000));
				kill(pid, SIGKILL);
				CHECK(waitpid(pid, &status, 0) == pid);
				CHECK(WIFSIGNALED(status));
				CHECK_EQ(WTERMSIG(status), SIGKILL);
				pid = 0;
			}
			n = read(fds[0], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			CHECK(n >= 0);
			if (n == 0)
				break;
			for (i = 0; i < n; i++) {
				if (buf[i] != '\n') {
					CHECK(plen < STORE_ID_LEN);
					partial[plen++] = buf[i];
					continue;
				}
				CHECK_EQ(plen, STORE_ID_LEN);
				CHECK(nids < MAX_IDS);
				memcpy(ids[nids], partial, STORE_ID_LEN);
				ids[nids++][STORE_ID_LEN] = '\0';
				plen = 0;
				got_lines++;
			}
		}
		close(fds[0]);
		if (pid != 0) {
			/* The child died on its own: an error, not our kill. */
			CHECK(waitpid(pid, &status, 0) == pid);
			printf("#   child exit status %d\n", status);
			CHECK(0);
		}
		CHECK_EQ(plen, 0);	/* a line is one write: never torn */
		printf("# round %d: %d acknowledged so far\n", round, nids);

		/* Every acknowledged request, once, with one entry. */
		CHECK_EQ(store_open(tmpdir, &st), 0);
		for (j = 0; j < nids; j++) {
			CHECK_EQ(store_request_get(st, ids[j], &got), 0);
			store_request_free(&got);
			memset(&seen, 0, sizeof(seen));
			memcpy(seen.rid, ids[j], sizeof(seen.rid));
			CHECK_EQ(audit_request(st, ids[j], count_cb, &seen), 0);
			CHECK_EQ(seen.n, 1);
		}
		CHECK_EQ(audit_verify(st, &rep), 0);
		if (!rep.ok)
			printf("#   %s\n", rep.reason);
		CHECK(rep.ok);
		/*
		 * Committed but killed before the ack: at most one per round;
		 * and never a request without its entry or the reverse.
		 */
		memset(&tot, 0, sizeof(tot));
		CHECK_EQ(store_request_counts(st, total_cb, &tot), 0);
		CHECK_EQ(tot.n, rep.count);
		CHECK(rep.count >= nids && rep.count <= nids + round + 1);
		store_close(&st);
	}
	tmp_remove();
}

int
main(void)
{
	RUN(acknowledged_requests_survive_kill_9_with_a_verified_chain);
	tmp_remove();
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
/*
 * The hash-chained audit log on real sqlite files: the documented encoding,
 * the append-only triggers, and audit_verify() against the tampering a
 * person with the database file and the sqlite3 tool could do.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/errors.h"
#include "store/audit.h"
#include "store/store.h"
#include "tap.h"

#define ZERO_HASH							\
	"0000000000000000000000000000000000000000000000000000000000000000"
#define RID	"0123456789abcdef0123456789abcdef"
/* Computed apart from this code (Python hashlib over the audit.h text). */
#define KAT_HASH1							\
	"87dcee1bd9c7353789132c6695df9d83c3b127463f59c63cd371e653edb16d59"
#define KAT_HASH2							\
	"00654248adb84fb82617bc616cd98fa0c42aaab0038a37cf70c1979e0fead3fb"

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

/* A fresh private directory, like mktemp -d. */
static const char *
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();	/* what a failed test left */
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-audit.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return tmpdir;
}

/* Raw SQL on the file, as with the sqlite3 tool; sqlite's message in msg. */
static int
raw_exec_msg(const char *sql, char *msg, size_t len)
{
	char path[1100];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, STORE_DB_NAME);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (msg != NULL)
		snprintf(msg, len, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static int
raw_exec(const char *sql)
{
	return raw_exec_msg(sql, NULL, 0);
}

/* n entries, entry i (1-based) about request RID when i is odd. */
static int
append_n(struct store *st, int n)
{
	struct audit_entry e = {
		.actor_uid = 1000,
		.actor_role = "intake",
		.actor_name = "hd-bob",
		.event = "request.submitted",
	};
	char details[64];
	int i, r;

	if ((r = store_begin(st)) != 0)
		return r;
	for (i = 1; i <= n; i++) {
		snprintf(details, sizeof(details), "{\"n\":%d}", i);
		e.details = details;
		e.request_id = i % 2 ? RID : NULL;
		e.time = 1700000000 + i;
		if ((r = audit_append(st, &e, NULL)) != 0) {
			store_rollback(st);
			return r;
		}
	}
	return store_commit(st);
}

/* A store on a fresh directory holding n entries, closed again. */
static int
fresh_log(int n)
{
	struct store *st = NULL;
	int r;

	tmp_make();
	if ((r = store_open(tmpdir, &st)) != 0)
		return r;
	r = append_n(st, n);
	store_close(&st);
	return r;
}

static int
verify(struct audit_report *rep)
{
	struct store *st = NULL;
	int r;

	if ((r = store_open(tmpdir, &st)) != 0)
		return r;
	r = audit_verify(st, rep);
	store_close(&st);
	return r;
}

struct tail {
	int		 n;
	int64_t		 seq[16];
	char		 hash[16][AUDIT_HASH_HEX + 1];
	char		 prev[16][AUDIT_HASH_HEX + 1];
	int		 has_rid[16];
};

static int
tail_cb(const struct audit_entry *e, void *arg)
{
	struct tail *t = arg;

	if (t->n >= 16)
		return TG_ERR_INTERNAL;
	t->seq[t->n] = e->seq;
	snprintf(t->hash[t->n], sizeof(t->hash[0]), "%s", e->hash);
	snprintf(t->prev[t->n], sizeof(t->prev[0]), "%s", e->prev_hash);
	t->has_rid[t->n] = e->request_id != NULL;
	t->n++;
	return 0;
}

static void
audit_hash_matches_the_documented_encoding(void)
{
	struct store *st = NULL;
	struct audit_entry e1 = {
		.time = 1700000000,
		.actor_uid = 1000,
		.actor_role = "intake",
		.actor_name = "hd-bob",
		.event = "request.submitted",
		.request_id = RID,
		.details = "{\"queue\":\"password_reset\"}",
	};
	struct audit_entry e2 = {
		.time = 1700000001,
		.actor_uid = -1,
		.actor_role = "system",
		.actor_name = "tapgated",
		.event = "hold.started",
	};
	struct tail t;
	char h[AUDIT_HASH_HEX + 1];
	int64_t seq = 0;

	tmp_make();
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(audit_append(st, &e1, &seq), 0);
	CHECK_EQ(seq, 1);
	CHECK_EQ(audit_append(st, &e2, &seq), 0);
	CHECK_EQ(seq, 2);
	CHECK_EQ(store_commit(st), 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_tail(st, 10, tail_cb, &t), 0);
	CHECK_EQ(t.n, 2);
	CHECK(strcmp(t.prev[0], ZERO_HASH) == 0);
	CHECK(strcmp(t.hash[0], KAT_HASH1) == 0);
	CHECK(strcmp(t.prev[1], KAT_HASH1) == 0);
	CHECK(strcmp(t.hash[1], KAT_HASH2) == 0);

	/* The same from the fields alone, as an outside verifier would. */
	e1.seq = 1;
	e1.prev_hash = ZERO_HASH;
	CHECK_EQ(audit_entry_hash(&e1, h), 0);
	CHECK(strcmp(h, KAT_HASH1) == 0);
	e2.seq = 2;
	e2.details = "{}";
	e2.prev_hash = KAT_HASH1;
	CHECK_EQ(audit_entry_hash(&e2, h), 0);
	CHECK(strcmp(h, KAT_HASH2) == 0);
	e2.prev_hash = "not hex";
	CHECK_EQ(audit_entry_hash(&e2, h), TG_ERR_INVALID);
	store_close(&st);
	tmp_remove();
}

static void
audit_hash_encoding_is_unambiguous(void)
{
	struct audit_entry a = {
		.seq = 7, .time = 1, .actor_uid = 2,
		.actor_role = "ab", .actor_name = "c", .event = "e",
		.details = "{}", .prev_hash = ZERO_HASH,
	};
	struct audit_entry b;
	char ha[AUDIT_HASH_HEX + 1], hb[AUDIT_HASH_HEX + 1];

	CHECK_EQ(audit_entry_hash(&a, ha), 0);
	/* Bytes moved from one field to the next. */
	b = a;
	b.actor_role = "a";
	b.actor_name = "bc";
	CHECK_EQ(audit_entry_hash(&b, hb), 0);
	CHECK(strcmp(ha, hb) != 0);
	/* No request id against an empty one. */
	b = a;
	b.request_id = "";
	CHECK_EQ(audit_entry_hash(&b, hb), 0);
	CHECK(strcmp(ha, hb) != 0);
	/* Every integer field counts. */
	b = a;
	b.seq = 8;
	CHECK_EQ(audit_entry_hash(&b, hb), 0);
	CHECK(strcmp(ha, hb) != 0);
	b = a;
	b.actor_uid = -2;
	CHECK_EQ(audit_entry_hash(&b, hb), 0);
	CHECK(strcmp(ha, hb) != 0);
	b = a;
	b.time = 2;
	CHECK_EQ(audit_entry_hash(&b, hb), 0);
	CHECK(strcmp(ha, hb) != 0);
	/* And the previous hash. */
	b = a;
	b.prev_hash = KAT_HASH1;
	CHECK_EQ(audit_entry_hash(&b, hb), 0);
	CHECK(strcmp(ha, hb) != 0);
}

static void
audit_append_refuses_bad_details_and_missing_fields(void)
{
	static const char *const bad[] = {
		"[1]", "{", "{\"a\":1,\"a\":2}", "{\"a\":1} x", "\"s\"", "",
	};
	struct store *st = NULL;
	struct audit_entry e = {
		.actor_role = "officer", .actor_name = "carol",
		.event = "request.vetoed",
	};
	struct audit_report rep;
	char *big;
	size_t i;

	tmp_make();
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(store_begin(st), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.details = bad[i];
		CHECK_EQ(audit_append(st, &e, NULL), TG_ERR_INVALID);
	}
	CHECK((big = malloc(AUDIT_MAX_DETAILS + 2)) != NULL);
	memset(big, ' ', AUDIT_MAX_DETAILS + 1);
	memcpy(big, "{}", 2);
	big[AUDIT_MAX_DETAILS + 1] = '\0';
	e.details = big;
	CHECK_EQ(audit_append(st, &e, NULL), TG_ERR_TOO_LONG);
	free(big);
	e.details = NULL;
	e.event = NULL;
	CHECK_EQ(audit_append(st, &e, NULL), TG_ERR_INVALID);
	e.event = "request.vetoed";
	e.actor_name = "";
	CHECK_EQ(audit_append(st, &e, NULL), TG_ERR_INVALID);
	e.actor_name = "carol";
	CHECK_EQ(audit_append(st, &e, NULL), 0);	/* details: {} */
	CHECK_EQ(store_commit(st), 0);
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 1);
	store_close(&st);
	tmp_remove();
}

static void
audit_empty_log_verifies_with_zero_head(void)
{
	struct audit_report rep;
	struct store *st = NULL;
	char head[AUDIT_HASH_HEX + 1];
	int64_t seq = -1;

	CHECK_EQ(fresh_log(0), 0);
	CHECK_EQ(verify(&rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 0);
	CHECK_EQ(rep.head_seq, 0);
	CHECK(strcmp(rep.head_hash, ZERO_HASH) == 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(audit_head(st, &seq, head), 0);
	CHECK_EQ(seq, 0);
	CHECK(strcmp(head, ZERO_HASH) == 0);
	store_close(&st);
	tmp_remove();
}

static void
audit_chain_verifies_with_count_and_head(void)
{
	struct audit_report rep;
	struct store *st = NULL;
	struct tail t;
	char head[AUDIT_HASH_HEX + 1];
	int64_t seq = 0;

	CHECK_EQ(fresh_log(6), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(append_n(st, 3), 0);	/* a later transaction chains on */
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 9);
	CHECK_EQ(rep.head_seq, 9);
	CHECK_EQ(audit_head(st, &seq, head), 0);
	CHECK_EQ(seq, 9);
	CHECK(strcmp(head, rep.head_hash) == 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_tail(st, 9, tail_cb, &t), 0);
	CHECK(strcmp(t.prev[6], t.hash[5]) == 0);
	store_close(&st);
	tmp_remove();
}

static void
audit_tail_returns_the_last_entries_oldest_first(void)
{
	struct store *st = NULL;
	struct tail t;

	CHECK_EQ(fresh_log(7), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_tail(st, 3, tail_cb, &t), 0);
	CHECK_EQ(t.n, 3);
	CHECK_EQ(t.seq[0], 5);
	CHECK_EQ(t.seq[2], 7);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_tail(st, 100, tail_cb, &t), 0);
	CHECK_EQ(t.n, 7);
	CHECK_EQ(audit_tail(st, 0, tail_cb, &t), TG_ERR_INVALID);
	CHECK_EQ(audit_tail(st, AUDIT_TAIL_MAX + 1, tail_cb, &t),
	    TG_ERR_INVALID);

	/* One request's entries: 1, 3, 5, 7. */
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_request(st, RID, tail_cb, &t), 0);
	CHECK_EQ(t.n, 4);
	CHECK_EQ(t.seq[0], 1);
	CHECK_EQ(t.seq[3], 7);
	CHECK(t.has_rid[0]);
	store_close(&st);
	tmp_remove();
}

static void
audit_request_pages_one_requests_history_oldest_first(void)
{
	struct store *st = NULL;
	struct tail t;

	/* 9 entries, those of RID are 1, 3, 5, 7, 9 */
	CHECK_EQ(fresh_log(9), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_request_page(st, RID, 0, 2, tail_cb, &t), 0);
	CHECK_EQ(t.n, 2);
	CHECK_EQ(t.seq[0], 1);
	CHECK_EQ(t.seq[1], 3);
	/* the next page starts after the last entry of the one before */
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_request_page(st, RID, 3, 2, tail_cb, &t), 0);
	CHECK_EQ(t.n, 2);
	CHECK_EQ(t.seq[0], 5);
	CHECK_EQ(t.seq[1], 7);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_request_page(st, RID, 4, 100, tail_cb, &t), 0);
	CHECK_EQ(t.n, 3);
	CHECK_EQ(t.seq[0], 5);
	CHECK_EQ(t.seq[2], 9);
	CHECK(t.has_rid[2]);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_request_page(st, RID, 9, 1, tail_cb, &t), 0);
	CHECK_EQ(t.n, 0);
	CHECK_EQ(audit_request_page(st, "fedcba9876543210fedcba9876543210",
	    0, 10, tail_cb, &t), 0);
	CHECK_EQ(t.n, 0);
	CHECK_EQ(audit_request_page(st, RID, 0, 0, tail_cb, &t),
	    TG_ERR_INVALID);
	CHECK_EQ(audit_request_page(st, RID, 0, AUDIT_TAIL_MAX + 1, tail_cb,
	    &t), TG_ERR_INVALID);
	CHECK_EQ(audit_request_page(st, RID, -1, 1, tail_cb, &t),
	    TG_ERR_INVALID);
	CHECK_EQ(audit_request_page(st, "", 0, 1, tail_cb, &t),
	    TG_ERR_INVALID);
	store_close(&st);
	tmp_remove();
}

/* The query the history runs goes through the index, not the table. */
static void
audit_request_page_uses_the_request_index(void)
{
	char path[1100], plan[512] = "";
	sqlite3_stmt *s = NULL;
	sqlite3 *db = NULL;
	const char *detail;

	CHECK_EQ(fresh_log(3), 0);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, STORE_DB_NAME);
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT * FROM audit "
	    "WHERE request_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3", -1,
	    &s, NULL) == SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		if ((detail = (const char *)sqlite3_column_text(s, 3)) != NULL)
			snprintf(plan + strlen(plan), sizeof(plan) -
			    strlen(plan), "%s;", detail);
	sqlite3_finalize(s);
	sqlite3_close(db);
	tmp_remove();
	if (strstr(plan, "USING INDEX audit_request") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		printf("#   plan: %s\n", plan);
	CHECK(strstr(plan, "USING INDEX audit_request (request_id=? AND "
	    "rowid>?)") != NULL);
	CHECK(strstr(plan, "TEMP B-TREE") == NULL);
}

/* Alarms stand out in journald; everything else is routine. */
static void
audit_journal_priority_raises_alarms_above_routine(void)
{
	static const struct {
		const char	*event;
		int		 priority;
	} cases[] = {
		{ "alarm.cloned_key", 2 },		/* LOG_CRIT */
		{ "alarm.quorum_unreachable", 3 },	/* LOG_ERR */
		{ "alarm.something_new", 2 },		/* at its worst */
		{ "quorum.restored", 5 },		/* LOG_NOTICE */
		{ "request.submitted", 5 },
		{ "order.redeem_refused", 5 },
		{ "alarm", 5 },				/* not an alarm. */
		{ "alarms.cloned_key", 5 },
		{ "", 5 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (audit_journal_priority(cases[i].event) != cases[i].priority)
			printf("#   %s\n", cases[i].event);
		CHECK_EQ(audit_journal_priority(cases[i].event),
		    cases[i].priority);
	}
	CHECK_EQ(audit_journal_priority(NULL), 5);
}

static void
audit_update_and_delete_are_refused_by_triggers(void)
{
	struct audit_report rep;
	char msg[256];

	CHECK_EQ(fresh_log(3), 0);
	CHECK_EQ(raw_exec_msg("UPDATE audit SET details = '{}' WHERE seq = 2",
	    msg, sizeof(msg)), SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "audit log is append-only") != NULL);
	CHECK_EQ(raw_exec_msg("DELETE FROM audit WHERE seq = 3", msg,
	    sizeof(msg)), SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "audit log is append-only") != NULL);
	CHECK_EQ(raw_exec("DELETE FROM audit"), SQLITE_CONSTRAINT);
	/* REPLACE deletes too (recursive triggers) and breaks the chain. */
	CHECK_EQ(raw_exec("INSERT OR REPLACE INTO audit SELECT * FROM audit "
	    "WHERE seq = 1"), SQLITE_CONSTRAINT);
	CHECK_EQ(verify(&rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 3);
	tmp_remove();
}

static void
audit_insert_that_does_not_extend_the_chain_is_refused(void)
{
	struct audit_report rep;
	char msg[256];

	CHECK_EQ(fresh_log(2), 0);
	/* A forged entry linked to the zero hash, then one skipping a seq. */
	CHECK_EQ(raw_exec_msg("INSERT INTO audit VALUES (3, 1, 0, 'officer', "
	    "'mallory', 'request.approved', NULL, '{}', '" ZERO_HASH "', '"
	    ZERO_HASH "')", msg, sizeof(msg)), SQLITE_CONSTRAINT);
	CHECK(strstr(msg, "does not extend the chain") != NULL);
	CHECK_EQ(raw_exec("INSERT INTO audit SELECT seq + 2, time, actor_uid, "
	    "actor_role, actor_name, event, request_id, details, hash, hash "
	    "FROM audit WHERE seq = 2"), SQLITE_CONSTRAINT);
	CHECK_EQ(verify(&rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 2);
	tmp_remove();
}

static void
audit_verify_finds_edited_entry(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_update; "
	    "UPDATE audit SET details = '{\"n\":33}' WHERE seq = 3"),
	    SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 3);
	CHECK_EQ(rep.why, AUDIT_EDITED);
	CHECK_EQ(rep.count, 2);
	CHECK_EQ(rep.head_seq, 2);
	CHECK(strstr(rep.reason, "edited") != NULL);
	tmp_remove();
}

static void
audit_verify_finds_edited_actor_and_time(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_update; "
	    "UPDATE audit SET actor_name = 'carol' WHERE seq = 4"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 4);
	CHECK_EQ(rep.why, AUDIT_EDITED);

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_update; "
	    "UPDATE audit SET time = time + 3600 WHERE seq = 1"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 1);
	CHECK_EQ(rep.why, AUDIT_EDITED);
	CHECK_EQ(rep.count, 0);
	tmp_remove();
}

/* Whoever rehashes an edited entry breaks the link to the next one. */
static void
audit_verify_finds_rehashed_edit_at_the_next_entry(void)
{
	struct audit_report rep;
	struct store *st = NULL;
	struct tail t;
	struct audit_entry e = {
		.seq = 3, .time = 1700000003, .actor_uid = 1000,
		.actor_role = "intake", .actor_name = "hd-bob",
		.event = "request.submitted", .request_id = RID,
		.details = "{\"n\":333}",
	};
	char h[AUDIT_HASH_HEX + 1], sql[512];

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	memset(&t, 0, sizeof(t));
	CHECK_EQ(audit_tail(st, 5, tail_cb, &t), 0);
	store_close(&st);
	e.prev_hash = t.prev[2];
	CHECK_EQ(audit_entry_hash(&e, h), 0);
	snprintf(sql, sizeof(sql), "DROP TRIGGER audit_no_update; "
	    "UPDATE audit SET details = '{\"n\":333}', hash = '%s' "
	    "WHERE seq = 3", h);
	CHECK_EQ(raw_exec(sql), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 4);
	CHECK_EQ(rep.why, AUDIT_UNLINKED);
	CHECK_EQ(rep.count, 3);
	tmp_remove();
}

static void
audit_verify_finds_deleted_middle_entry(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_delete; "
	    "DELETE FROM audit WHERE seq = 3"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 3);
	CHECK_EQ(rep.why, AUDIT_MISSING);
	CHECK_EQ(rep.count, 2);
	CHECK(strstr(rep.reason, "deleted") != NULL);
	tmp_remove();
}

static void
audit_verify_finds_deleted_first_entry(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(3), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_delete; "
	    "DELETE FROM audit WHERE seq = 1"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 1);
	CHECK_EQ(rep.why, AUDIT_MISSING);
	CHECK_EQ(rep.count, 0);
	tmp_remove();
}

/* Deleting and renumbering hides the gap, not the broken link. */
static void
audit_verify_finds_deleted_and_renumbered_entry(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_delete; "
	    "DROP TRIGGER audit_no_update; "
	    "DELETE FROM audit WHERE seq = 3; "
	    "UPDATE audit SET seq = seq - 1 WHERE seq > 3"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 3);
	CHECK_EQ(rep.why, AUDIT_UNLINKED);
	CHECK_EQ(rep.count, 2);
	tmp_remove();
}

static void
audit_verify_finds_swapped_pair(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(5), 0);
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_update; "
	    "UPDATE audit SET seq = 1000 WHERE seq = 3; "
	    "UPDATE audit SET seq = 3 WHERE seq = 4; "
	    "UPDATE audit SET seq = 4 WHERE seq = 1000"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 3);
	CHECK_EQ(rep.why, AUDIT_UNLINKED);
	CHECK_EQ(rep.count, 2);
	CHECK(strstr(rep.reason, "reordered") != NULL);
	tmp_remove();
}

static void
audit_verify_finds_malformed_entry(void)
{
	struct audit_report rep;

	CHECK_EQ(fresh_log(3), 0);
	/* Hashes are lower-case hex; anything else is not ours. */
	CHECK_EQ(raw_exec("DROP TRIGGER audit_no_update; "
	    "UPDATE audit SET hash = upper(hash) WHERE seq = 2"), SQLITE_OK);
	CHECK_EQ(verify(&rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.bad_seq, 2);
	CHECK_EQ(rep.why, AUDIT_MALFORMED);
	tmp_remove();
}

struct sunk {
	struct tail	 t;
	struct store	*st;		/* when set: the sink uses the store */
	int		 nested;
};

static void
sink_cb(const struct audit_entry *e, void *arg)
{
	struct sunk *s = arg;
	struct audit_entry n = {
		.actor_role = "system", .actor_name = "tapgated",
		.event = "hook.ran",
	};

	(void)tail_cb(e, &s->t);
	/* A sink reacting to a commit with a transaction of its own. */
	if (s->st != NULL && strcmp(e->event, "hook.ran") != 0 &&
	    store_begin(s->st) == 0) {
		if (audit_append(s->st, &n, NULL) == 0 &&
		    store_commit(s->st) == 0)
			s->nested++;
		else
			store_rollback(s->st);
	}
}

static void
audit_entries_reach_the_sink_only_after_commit(void)
{
	struct store *st = NULL;
	struct audit_report rep;
	struct audit_entry e = {
		.actor_role = "officer", .actor_name = "carol",
		.event = "request.vetoed", .request_id = RID,
	};
	struct sunk s;

	tmp_make();
	memset(&s, 0, sizeof(s));
	CHECK_EQ(store_open(tmpdir, &st), 0);
	/* On or off, journald that is not there changes nothing. */
	CHECK_EQ(audit_set_journal(st, 1), 0);
	CHECK_EQ(audit_set_sink(st, sink_cb, &s), 0);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(audit_append(st, &e, NULL), 0);
	CHECK_EQ(audit_append(st, &e, NULL), 0);
	CHECK_EQ(s.t.n, 0);
	CHECK_EQ(store_commit(st), 0);
	CHECK_EQ(s.t.n, 2);
	CHECK_EQ(s.t.seq[0], 1);
	CHECK_EQ(s.t.seq[1], 2);
	CHECK(strcmp(s.t.prev[1], s.t.hash[0]) == 0);

	/* Rolled back, refused at commit, or never committed: not seen. */
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(audit_append(st, &e, NULL), 0);
	CHECK_EQ(store_rollback(st), 0);
	CHECK_EQ(store_commit(st), TG_ERR_TXN);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(audit_append(st, &e, NULL), 0);
	CHECK_EQ(audit_set_journal(st, 0), 0);
	store_close(&st);
	CHECK_EQ(s.t.n, 2);

	/* A sink may use the store; its own entries come after. */
	CHECK_EQ(store_open(tmpdir, &st), 0);
	s.st = st;
	CHECK_EQ(audit_set_sink(st, sink_cb, &s), 0);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(audit_append(st, &e, NULL), 0);
	CHECK_EQ(store_commit(st), 0);
	CHECK_EQ(s.nested, 1);
	CHECK_EQ(s.t.n, 4);
	CHECK_EQ(s.t.seq[2], 3);
	CHECK_EQ(s.t.seq[3], 4);
	CHECK_EQ(audit_set_sink(st, NULL, NULL), 0);
	CHECK_EQ(audit_verify(st, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 4);
	store_close(&st);
	tmp_remove();
}

int
main(void)
{
	RUN(audit_hash_matches_the_documented_encoding);
	RUN(audit_hash_encoding_is_unambiguous);
	RUN(audit_append_refuses_bad_details_and_missing_fields);
	RUN(audit_empty_log_verifies_with_zero_head);
	RUN(audit_chain_verifies_with_count_and_head);
	RUN(audit_tail_returns_the_last_entries_oldest_first);
	RUN(audit_request_pages_one_requests_history_oldest_first);
	RUN(audit_request_page_uses_the_request_index);
	RUN(audit_journal_priority_raises_alarms_above_routine);
	RUN(audit_update_and_delete_are_refused_by_triggers);
	RUN(audit_insert_that_does_not_extend_the_chain_is_refused);
	RUN(audit_verify_finds_edited_entry);
	RUN(audit_verify_finds_edited_actor_and_time);
	RUN(audit_verify_finds_rehashed_edit_at_the_next_entry);
	RUN(audit_verify_finds_deleted_middle_entry);
	RUN(audit_verify_finds_deleted_first_entry);
	RUN(audit_verify_finds_deleted_and_renumbered_entry);
	RUN(audit_verify_finds_swapped_pair);
	RUN(audit_verify_finds_malformed_entry);
	RUN(audit_entries_reach_the_sink_only_after_commit);
	tmp_remove();
	TAP_EXIT();
}

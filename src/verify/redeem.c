/* SPDX-License-Identifier: ISC */
/*
 * One-time use of orders: the jti of each redeemed order in a small
 * sqlite file owned by the downstream system.  The check and the record
 * are one IMMEDIATE transaction, so of two connectors redeeming the same
 * order at once exactly one succeeds; WAL with synchronous=FULL makes a
 * redemption that was reported durable before the change is applied.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/jcs.h"
#include "verify_int.h"

/* "TGVR": marks the file as ours, so another database is never altered. */
#define REDEEM_APP_ID	0x54475652
#define REDEEM_BUSY_MS	10000

static const char redeem_schema[] =
    "CREATE TABLE redeemed ("
    " jti TEXT PRIMARY KEY NOT NULL,"
    " iss TEXT NOT NULL,"
    " aud TEXT NOT NULL,"
    " exp INTEGER NOT NULL,"
    " redeemed_at INTEGER NOT NULL);"
    "CREATE INDEX redeemed_exp ON redeemed (exp);";

/*
 * Create the file 0600 ourselves (sqlite would use 0644; its -wal and
 * -shm files take the database's mode), refuse a symlink, a non-regular
 * file or another user's file, and tighten one left too open.
 */
static int
prepare_file(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[PATH_MAX];
	struct stat sb;
	size_t i;
	int fd, flags, r = 0;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]) && r == 0; i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path,
		    suffix[i]) >= sizeof(p))
			return TGV_ERR_INVALID;
		flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
		if (i == 0)
			flags |= O_CREAT;
		if ((fd = open(p, flags, 0600)) == -1) {
			if (i > 0 && errno == ENOENT)
				continue;
			return errno == ELOOP ? TGV_ERR_PERM : TGV_ERR_IO;
		}
		if (fstat(fd, &sb) == -1)
			r = TGV_ERR_IO;
		else if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid())
			r = TGV_ERR_PERM;
		else if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) == -1)
			r = TGV_ERR_IO;
		close(fd);
	}
	return r;
}

static int
sqlerr(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TGV_ERR_BUSY;
	case SQLITE_NOMEM:
		return TGV_ERR_NOMEM;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
		return TGV_ERR_IO;
	case SQLITE_NOTADB:
		return TGV_ERR_SCHEMA;
	default:
		return TGV_ERR_DB;
	}
}

static int
exec(sqlite3 *db, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return sqlerr(rc);
	return 0;
}

/* The single integer or text row of sql (a pragma). */
static int
query(sqlite3 *db, const char *sql, int64_t *intp, char *text,
    size_t textlen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, r;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return sqlerr(rc);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? TGV_ERR_DB : sqlerr(rc);
		goto out;
	}
	if (intp != NULL)
		*intp = sqlite3_column_int64(st, 0);
	if (text != NULL) {
		t = sqlite3_column_text(st, 0);
		snprintf(text, textlen, "%s", t != NULL ? (const char *)t : "");
	}
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

static int
configure(sqlite3 *db)
{
	char mode[16];
	int64_t v;
	int r;

	/* the file is data, never code */
	if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL) != SQLITE_OK)
		return TGV_ERR_DB;
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_busy_timeout(db, REDEEM_BUSY_MS);
	if ((r = query(db, "PRAGMA journal_mode = WAL", NULL, mode,
	    sizeof(mode))) != 0)
		return r;
	if (strcmp(mode, "wal") != 0)
		return TGV_ERR_IO;
	/*
	 * FULL: the commit returns only after the WAL is synced, so a
	 * redemption reported is one a crash cannot undo.
	 */
	if ((r = exec(db, "PRAGMA synchronous = FULL")) != 0 ||
	    (r = query(db, "PRAGMA synchronous", &v, NULL, 0)) != 0)
		return r;
	return v == 2 ? 0 : TGV_ERR_DB;
}

/* Inside the transaction: a new file becomes ours, another is refused. */
static int
check_schema(sqlite3 *db)
{
	char sql[64];
	int64_t id, ntables;
	int r;

	if ((r = query(db, "PRAGMA application_id", &id, NULL, 0)) != 0)
		return r;
	if (id == REDEEM_APP_ID)
		return 0;
	if (id != 0)
		return TGV_ERR_SCHEMA;
	if ((r = query(db, "SELECT count(*) FROM sqlite_master", &ntables,
	    NULL, 0)) != 0)
		return r;
	if (ntables != 0)
		return TGV_ERR_SCHEMA;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
	    REDEEM_APP_ID);
	if ((r = exec(db, redeem_schema)) != 0 || (r = exec(db, sql)) != 0)
		return r;
	return 0;
}

/* Prune what no clock can make valid again, then record o's jti. */
static int
record(sqlite3 *db, const struct tgv_order *o, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(db, "DELETE FROM redeemed WHERE exp < ?1",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(rc);
	if ((rc = sqlite3_bind_int64(st, 1, now - TGV_PRUNE_AFTER)) !=
	    SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = sqlerr(rc);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(db, "INSERT INTO redeemed (jti, iss, aud, "
	    "exp, redeemed_at) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlerr(rc);
	if ((rc = sqlite3_bind_text(st, 1, o->jti, -1, SQLITE_STATIC)) !=
	    SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, o->iss, -1, SQLITE_STATIC)) !=
	    SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 3, o->aud, -1, SQLITE_STATIC)) !=
	    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 4, o->exp)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 5, now)) != SQLITE_OK) {
		r = sqlerr(rc);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = 0;
	else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TGV_ERR_REDEEMED;
	else
		r = sqlerr(rc);
out:
	sqlite3_finalize(st);
	return r;
}

/* One attempt: open, configure, then check and record in one transaction. */
static int
redeem_once(const char *path, const struct tgv_order *o, int64_t now)
{
	sqlite3 *db = NULL;
	int rc, r;

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = db != NULL ? sqlerr(rc) : TGV_ERR_NOMEM;
		goto out;
	}
	if ((r = configure(db)) != 0 ||
	    (r = exec(db, "BEGIN IMMEDIATE")) != 0)
		goto out;
	if ((r = check_schema(db)) != 0 || (r = record(db, o, now)) != 0) {
		exec(db, "ROLLBACK");
		goto out;
	}
	if ((r = exec(db, "COMMIT")) != 0)
		exec(db, "ROLLBACK");
out:
	sqlite3_close_v2(db);
	return r;
}

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tgv_redeem(const char *db_path, const struct tgv_order *o, int64_t now)
{
	struct timespec pause = { 0, 0 };
	char *path = NULL;
	int64_t start;
	int r, tries = 0;

	if (db_path == NULL || *db_path == '\0' || o == NULL ||
	    now < 0 || now > JCS_INT_MAX)
		return TGV_ERR_INVALID;
	/* what could not verify now must not be recorded (nor pruned) now */
	if (now - o->leeway >= o->exp)
		return TGV_ERR_EXPIRED;
	/* "./" keeps a relative name like "file:x" from reading as a URI */
	if (asprintf(&path, "%s%s", db_path[0] == '/' ? "" : "./",
	    db_path) == -1)
		return TGV_ERR_NOMEM;
	if ((r = prepare_file(path)) != 0)
		goto out;
	/*
	 * sqlite returns SQLITE_BUSY without waiting where waiting could
	 * deadlock (two connections turning a new file to WAL at once);
	 * nothing was recorded then, so the whole attempt is tried again.
	 */
	start = monotonic_ms();
	while ((r = redeem_once(path, o, now)) == TGV_ERR_BUSY &&
	    monotonic_ms() - start < REDEEM_BUSY_MS) {
		tries++;
		pause.tv_nsec = (tries < 10 ? tries : 10) * 5 * 1000000L;
		nanosleep(&pause, NULL);
	}
out:
	free(path);
	return r;
}

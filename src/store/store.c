/* SPDX-License-Identifier: ISC */
/*
 * Opening the state database safely, migrating its schema, transactions,
 * and the helpers the typed operations (request.c, audit.c) share.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "store/store_int.h"

#define STORE_BUSY_MS	5000		/* wait this long for the write lock */
#define STORE_SQLITE_MIN 3037000	/* STRICT tables */
/* No single value, row or statement may exceed this (defence in depth). */
#define STORE_LIMIT_LENGTH (1024 * 1024)
#define STORE_BATCH_MAX	64		/* members of one shared transaction */

static void	batch_close(struct store *);

int
store_sqlerr(struct store *st, int rc)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s",
	    st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return TG_ERR_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return TG_ERR_NOT_FOUND;
	case SQLITE_CONSTRAINT_TRIGGER:
		/* Only our RAISE(ABORT) triggers: append-only, once-only. */
		return TG_ERR_IMMUTABLE;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TG_ERR_BUSY;
	case SQLITE_NOMEM:
		return TG_ERR_NOMEM;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return TG_ERR_IO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return TG_ERR_CORRUPT;
	case SQLITE_TOOBIG:
		return TG_ERR_TOO_LONG;
	case SQLITE_CONSTRAINT:
		return TG_ERR_INVALID;	/* CHECK, NOT NULL: a caller's bug */
	}
	return TG_ERR_DB;
}

const char *
store_errmsg(const struct store *st)
{
	if (st == NULL || st->errmsg[0] == '\0')
		return "no error";
	return st->errmsg;
}

int
store_prepare(struct store *st, enum store_slot slot, const char *sql,
    sqlite3_stmt **sp)
{
	sqlite3_stmt *s;
	int rc;

	if (slot >= SLOT_MAX)
		return TG_ERR_INTERNAL;
	s = st->stmt[slot];
	if (s != NULL && !sqlite3_stmt_busy(s)) {
		*sp = s;
		return 0;
	}
	/*
	 * Cache the first; a busy one means the caller is inside one of our
	 * callbacks and uses the same query again: give it its own.
	 */
	rc = sqlite3_prepare_v3(st->db, sql, -1,
	    s == NULL ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc);
	if (s == NULL)
		return TG_ERR_INTERNAL;	/* empty SQL: our bug */
	if (st->stmt[slot] == NULL)
		st->stmt[slot] = s;
	*sp = s;
	return 0;
}

void
store_done(struct store *st, enum store_slot slot, sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	if (slot < SLOT_MAX && st->stmt[slot] == s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	} else
		sqlite3_finalize(s);
}

int
store_in_txn(const struct store *st)
{
	return sqlite3_get_autocommit(st->db) == 0;
}

int
store_bind_text(struct store *st, sqlite3_stmt *s, int i, const char *v)
{
	int rc;

	/* SQLITE_STATIC: store_done() unbinds before the string can go. */
	if (v == NULL)
		rc = sqlite3_bind_null(s, i);
	else
		rc = sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : store_sqlerr(st, rc);
}

int
store_bind_int(struct store *st, sqlite3_stmt *s, int i, int64_t v)
{
	int rc;

	rc = sqlite3_bind_int64(s, i, v);
	return rc == SQLITE_OK ? 0 : store_sqlerr(st, rc);
}

int
store_bind_int_or_null(struct store *st, sqlite3_stmt *s, int i, int64_t v)
{
	int rc;

	if (v == 0)
		rc = sqlite3_bind_null(s, i);
	else
		rc = sqlite3_bind_int64(s, i, v);
	return rc == SQLITE_OK ? 0 : store_sqlerr(st, rc);
}

int
store_check_str(const char *s, size_t max, int optional)
{
	if (s == NULL)
		return optional ? 0 : TG_ERR_INVALID;
	if (s[0] == '\0')
		return TG_ERR_INVALID;
	if (strnlen(s, max + 1) > max)
		return TG_ERR_TOO_LONG;
	return 0;
}

int
store_is_hex(const char *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

int64_t
store_now(void)
{
	return (int64_t)time(NULL);
}

int
store_copy_record(const void *src, size_t size, const size_t *offs,
    size_t noffs, void **outp)
{
	const char *s;
	char *blob, *p;
	size_t total = size, i, n;

	for (i = 0; i < noffs; i++) {
		memcpy(&s, (const char *)src + offs[i], sizeof(s));
		if (s != NULL)
			total += strlen(s) + 1;
	}
	if ((blob = malloc(total)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(blob, src, size);
	p = blob + size;
	for (i = 0; i < noffs; i++) {
		memcpy(&s, (const char *)src + offs[i], sizeof(s));
		if (s != NULL) {
			n = strlen(s) + 1;
			memcpy(p, s, n);
			s = p;
			p += n;
		}
		memcpy(blob + offs[i], &s, sizeof(s));
	}
	*outp = blob;
	return 0;
}

/* Run a fixed SQL text of one or more statements (schema, pragmas). */
static int
exec_script(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	const char *tail = sql;
	int rc, r = 0;

	while (*tail != '\0') {
		rc = sqlite3_prepare_v2(st->db, tail, -1, &s, &tail);
		if (rc != SQLITE_OK) {
			r = store_sqlerr(st, rc);
			goto out;
		}
		if (s == NULL)		/* only blanks or a comment left */
			break;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			r = store_sqlerr(st, rc);
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
out:
	sqlite3_finalize(s);
	return r;
}

/* The integer a fixed query (a pragma, a count) answers. */
static int
query_int(struct store *st, const char *sql, int64_t *vp)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? TG_ERR_INTERNAL : store_sqlerr(st, rc);
		goto out;
	}
	*vp = sqlite3_column_int64(s, 0);
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

/* The text a fixed query answers, into buf. */
static int
query_text(struct store *st, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int rc, r;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? TG_ERR_INTERNAL : store_sqlerr(st, rc);
		goto out;
	}
	t = sqlite3_column_text(s, 0);
	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

/*
 * Is this file ours?  An empty database is (it is about to be); one with
 * our application_id is; anything else, even an unmarked database with
 * tables, is not, and we leave it alone.
 */
static int
check_identity(struct store *st, int64_t *versionp)
{
	int64_t app, version, ntables;
	int r;

	if ((r = query_int(st, "PRAGMA application_id", &app)) != 0 ||
	    (r = query_int(st, "PRAGMA user_version", &version)) != 0 ||
	    (r = query_int(st, "SELECT count(*) FROM sqlite_schema",
	    &ntables)) != 0)
		return r;
	if (app == 0 && (version != 0 || ntables != 0)) {
		snprintf(st->errmsg, sizeof(st->errmsg),
		    "not a tapgate database");
		return TG_ERR_SCHEMA;
	}
	if (app != 0 && app != STORE_APP_ID) {
		snprintf(st->errmsg, sizeof(st->errmsg),
		    "not a tapgate database (application_id %lld)",
		    (long long)app);
		return TG_ERR_SCHEMA;
	}
	if (version < 0 || version > store_nmigrations) {
		snprintf(st->errmsg, sizeof(st->errmsg),
		    "database schema version %lld is newer than this "
		    "tapgate's %d", (long long)version, store_nmigrations);
		return TG_ERR_SCHEMA;
	}
	*versionp = version;
	return 0;
}

/*
 * Apply the missing migrations, each in its own transaction.  The version
 * is read again under the write lock: another process may have migrated
 * meanwhile.
 */
static int
migrate(struct store *st)
{
	const char *const *step;
	char sql[64];
	int64_t version;
	int r;

	for (;;) {
		if ((r = exec_script(st, "BEGIN IMMEDIATE")) != 0)
			return r;
		if ((r = check_identity(st, &version)) != 0)
			goto fail;
		if (version == store_nmigrations)
			break;
		if (version == 0) {
			snprintf(sql, sizeof(sql),
			    "PRAGMA application_id = %d", STORE_APP_ID);
			if ((r = exec_script(st, sql)) != 0)
				goto fail;
		}
		for (step = store_migrations[version]; *step != NULL; step++)
			if ((r = exec_script(st, *step)) != 0)
				goto fail;
		/* Pragmas take no parameters; the number is ours. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		    (long long)version + 1);
		if ((r = exec_script(st, sql)) != 0 ||
		    (r = exec_script(st, "COMMIT")) != 0)
			goto fail;
	}
	return exec_script(st, "COMMIT");
fail:
	if (store_in_txn(st))
		(void)exec_script(st, "ROLLBACK");
	return r;
}

static int
configure(struct store *st)
{
	char mode[16];
	int64_t v;
	int r;

	/*
	 * No schema tricks, no extension loading, no functions from the
	 * schema: the file is data, never code.
	 */
	if (sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1,
	    NULL) != SQLITE_OK)
		return store_sqlerr(st, sqlite3_errcode(st->db));
	sqlite3_limit(st->db, SQLITE_LIMIT_LENGTH, STORE_LIMIT_LENGTH);
	sqlite3_limit(st->db, SQLITE_LIMIT_SQL_LENGTH, STORE_LIMIT_LENGTH);
	sqlite3_limit(st->db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);

	if ((r = check_identity(st, &v)) != 0)
		return r;
	if ((r = query_text(st, "PRAGMA journal_mode = WAL", mode,
	    sizeof(mode))) != 0)
		return r;
	if (strcmp(mode, "wal") != 0) {
		snprintf(st->errmsg, sizeof(st->errmsg),
		    "cannot use WAL mode (journal_mode is %s)", mode);
		return TG_ERR_IO;
	}
	/*
	 * FULL: a commit returns only after the WAL is synced, so what we
	 * acknowledged survives a crash or power loss.
	 */
	if ((r = exec_script(st, "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA recursive_triggers = ON;")) != 0)
		return r;
	/* Pragmas fail silently; make sure these took. */
	if ((r = query_int(st, "PRAGMA synchronous", &v)) != 0)
		return r;
	if (v != 2) {
		snprintf(st->errmsg, sizeof(st->errmsg),
		    "synchronous is not FULL");
		return TG_ERR_DB;
	}
	if ((r = query_int(st, "PRAGMA foreign_keys", &v)) != 0)
		return r;
	if (v != 1) {
		snprintf(st->errmsg, sizeof(st->errmsg), "no foreign keys");
		return TG_ERR_DB;
	}
	return migrate(st);
}

/*
 * The directory must be ours and closed to others: requests, evidence and
 * the officers' credentials are nobody else's to read, and a directory
 * others may search lets them open whatever file is left readable.
 */
static int
check_dir(const char *dir)
{
	struct stat sb;
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno == ENOTDIR ? TG_ERR_INVALID :
		    errno == ENOENT ? TG_ERR_NOT_FOUND : TG_ERR_IO;
	if (fstat(fd, &sb) == -1)
		r = TG_ERR_IO;
	else if (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0)
		r = TG_ERR_PERM;
	else
		r = 0;
	close(fd);
	return r;
}

/*
 * Create the database file 0600 ourselves (sqlite would use 0644) and
 * tighten files left too open; sqlite gives the -wal and -shm files the
 * database file's mode.  Never follow a symlink planted in their place.
 */
static int
check_files(const char *db, int create)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	struct stat sb;
	char path[PATH_MAX];
	size_t i;
	int fd, flags, r = 0;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]) && r == 0; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", db,
		    suffix[i]) >= sizeof(path))
			return TG_ERR_TOO_LONG;
		flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
		if (i == 0 && create)
			flags |= O_CREAT;
		if ((fd = open(path, flags, 0600)) == -1) {
			if (i > 0 && errno == ENOENT)
				continue;
			if (errno == ENOENT)
				return TG_ERR_NOT_FOUND;
			return errno == ELOOP ? TG_ERR_PERM : TG_ERR_IO;
		}
		if (fstat(fd, &sb) == -1)
			r = TG_ERR_IO;
		else if (!S_ISREG(sb.st_mode))
			r = TG_ERR_INVALID;
		else if (sb.st_uid != geteuid())
			r = TG_ERR_PERM;
		else if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) == -1)
			r = TG_ERR_IO;
		close(fd);
	}
	return r;
}

/*
 * From the state directory or database path, the database path; create
 * the directory and the file only when create is set.
 */
static int
prepare_files(const char *path, int create, char **dbp)
{
	struct stat sb;
	char *db = NULL, *dir = NULL, *slash;
	size_t len;
	int r, isdir;

	len = strlen(path);
	if (len == 0)
		return TG_ERR_INVALID;
	if (len >= PATH_MAX - sizeof(STORE_DB_NAME) - 16)
		return TG_ERR_TOO_LONG;
	isdir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (!isdir && len > 3 && strcmp(path + len - 3, ".db") == 0) {
		/* "./" keeps a name like "file:x.db" from reading as a URI. */
		if (asprintf(&db, "%s%s", path[0] == '/' ? "" : "./",
		    path) == -1) {
			db = NULL;
			r = TG_ERR_NOMEM;
			goto fail;
		}
		if ((dir = strdup(db)) == NULL) {
			r = TG_ERR_NOMEM;
			goto fail;
		}
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	} else {
		if (!isdir && !create) {
			r = TG_ERR_NOT_FOUND;
			goto fail;
		}
		if (!isdir && mkdir(path, 0700) == -1 && errno != EEXIST) {
			r = TG_ERR_IO;
			goto fail;
		}
		if (asprintf(&db, "%s%s/%s", path[0] == '/' ? "" : "./",
		    path, STORE_DB_NAME) == -1) {
			db = NULL;
			r = TG_ERR_NOMEM;
			goto fail;
		}
		if ((dir = strdup(path)) == NULL) {
			r = TG_ERR_NOMEM;
			goto fail;
		}
	}
	if ((r = check_dir(dir)) != 0 || (r = check_files(db, create)) != 0)
		goto fail;
	free(dir);
	*dbp = db;
	return 0;
fail:
	free(dir);
	free(db);
	return r;
}

/*
 * A connection to the database file db (checked, prepare_files()), which
 * it takes.  No file of the database may be opened here other than by
 * sqlite: closing it would drop the locks this process's connections
 * hold on it (POSIX locks are the process's), and another connection
 * would then take itself for the last and delete the log.
 */
static int
open_conn(char *db, struct store **stp)
{
	struct store *st = NULL;
	int rc, r;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	st->pending_tail = &st->pending;
	st->journal = audit_journal_default();
	rc = sqlite3_open_v2(db, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = st->db != NULL ? store_sqlerr(st, rc) : TG_ERR_NOMEM;
		goto fail;
	}
	if ((r = configure(st)) != 0)
		goto fail;
	st->path = db;		/* for store_batch_open() */
	*stp = st;
	return 0;
fail:
	free(db);
	store_close(&st);
	return r;
}

static int
open_state(const char *path, int create, struct store **stp)
{
	char *db = NULL;
	int r;

	if (path == NULL || stp == NULL)
		return TG_ERR_INVALID;
	if (sqlite3_libversion_number() < STORE_SQLITE_MIN)
		return TG_ERR_UNSUPPORTED;
	if ((r = prepare_files(path, create, &db)) != 0)
		return r;
	return open_conn(db, stp);
}

int
store_open(const char *path, struct store **stp)
{
	return open_state(path, 1, stp);
}

int
store_open_existing(const char *path, struct store **stp)
{
	return open_state(path, 0, stp);
}

/* The pid a lock file names, or 0. */
static long
lock_holder(int fd)
{
	char buf[24];
	ssize_t n;
	long pid;
	char *end;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

int
store_lock(const char *dir, int *fdp, long *holderp)
{
	char path[PATH_MAX], buf[24];
	struct stat sb;
	int fd, n, r;

	if (dir == NULL || fdp == NULL)
		return TG_ERR_INVALID;
	if (holderp != NULL)
		*holderp = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_LOCK_NAME) >= sizeof(path))
		return TG_ERR_TOO_LONG;
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600)) == -1)
		return errno == ELOOP ? TG_ERR_PERM : errno == ENOENT ?
		    TG_ERR_NOT_FOUND : TG_ERR_IO;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		close(fd);
		return TG_ERR_PERM;
	}
	/* flock: not lost when another descriptor of the file closes */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		r = errno == EWOULDBLOCK ? TG_ERR_BUSY : TG_ERR_IO;
		if (r == TG_ERR_BUSY && holderp != NULL)
			*holderp = lock_holder(fd);
		close(fd);
		return r;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return TG_ERR_IO;
	}
	*fdp = fd;
	return 0;
}

void
store_close(struct store **stp)
{
	struct store *st;
	size_t i;

	if (stp == NULL || (st = *stp) == NULL)
		return;
	audit_pending_flush(st, 0);
	batch_close(st);
	for (i = 0; i < SLOT_MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	/* Rolls back an open transaction; checkpoints the WAL if last. */
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
	*stp = NULL;
}

int
store_schema_latest(void)
{
	return store_nmigrations;
}

int
store_schema_version(struct store *st, int *versionp)
{
	int64_t v;
	int r;

	if (st == NULL || versionp == NULL)
		return TG_ERR_INVALID;
	if ((r = query_int(st, "PRAGMA user_version", &v)) != 0)
		return r;
	*versionp = (int)v;
	return 0;
}

/* Step a cached statement that returns no rows. */
static int
step_fixed(struct store *st, enum store_slot slot, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = store_prepare(st, slot, sql, &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	r = rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
	store_done(st, slot, s);
	return r;
}

int
store_begin(struct store *st)
{
	if (st == NULL)
		return TG_ERR_INVALID;
	if (store_in_txn(st))
		return TG_ERR_TXN;
	/* Left over from a transaction sqlite rolled back on its own. */
	audit_pending_flush(st, 0);
	return step_fixed(st, SLOT_BEGIN, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	int r;

	if (st == NULL)
		return TG_ERR_INVALID;
	if (!store_in_txn(st)) {
		audit_pending_flush(st, 0);
		return TG_ERR_TXN;
	}
	if ((r = step_fixed(st, SLOT_COMMIT, "COMMIT")) != 0) {
		/* Leave no half-open transaction behind a failed commit. */
		if (store_in_txn(st))
			(void)step_fixed(st, SLOT_ROLLBACK, "ROLLBACK");
		audit_pending_flush(st, 0);
		return r;
	}
	audit_pending_flush(st, 1);
	return 0;
}

int
store_rollback(struct store *st)
{
	int r = 0;

	if (st == NULL)
		return 0;
	if (store_in_txn(st))
		r = step_fixed(st, SLOT_ROLLBACK, "ROLLBACK");
	audit_pending_flush(st, 0);
	return r;
}

/* ---- shared commits */

/* One store_batch_run() call, on its caller's stack. */
struct batch_member {
	store_batch_fn		*fn;
	void			*arg;
	int			 r;		/* its result, once done */
	int			 out;		/* its fn failed: left out */
	int			 done;
	struct batch_member	*next;
};

struct store_batch {
	pthread_mutex_t		 mu;		/* guards what follows */
	pthread_cond_t		 cv;		/* a transaction ended */
	struct store		*wst;		/* the committer's connection */
	struct batch_member	*head;		/* waiting, in order */
	struct batch_member	**tail;
	int			 committing;	/* a caller runs a batch */
	struct store_batch_stats stats;
};

int
store_batch_open(struct store *st)
{
	struct store_batch *b;
	char *path;
	int r;

	if (st == NULL || st->path == NULL)
		return TG_ERR_INVALID;
	if (st->batch != NULL)
		return 0;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return TG_ERR_NOMEM;
	/* the files were checked when st was opened, and are in use */
	if ((path = strdup(st->path)) == NULL) {
		free(b);
		return TG_ERR_NOMEM;
	}
	if ((r = open_conn(path, &b->wst)) != 0) {
		free(b);
		return r;
	}
	b->wst->journal = st->journal;
	b->wst->sink = st->sink;
	b->wst->sink_arg = st->sink_arg;
	b->tail = &b->head;
	if (pthread_mutex_init(&b->mu, NULL) != 0) {
		store_close(&b->wst);
		free(b);
		return TG_ERR_NOMEM;
	}
	if (pthread_cond_init(&b->cv, NULL) != 0) {
		pthread_mutex_destroy(&b->mu);
		store_close(&b->wst);
		free(b);
		return TG_ERR_NOMEM;
	}
	st->batch = b;
	return 0;
}

/* Close st's committer's connection (no store_batch_run() may be on). */
static void
batch_close(struct store *st)
{
	struct store_batch *b = st->batch;

	if (b == NULL)
		return;
	store_close(&b->wst);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	free(b);
	st->batch = NULL;
}

int
store_batch_enabled(const struct store *st)
{
	return st != NULL && st->batch != NULL;
}

/* The members of the list at m that are still in, and their steps' error. */
static int
batch_steps(struct store *wst, struct batch_member *m, unsigned *inp)
{
	int r;

	*inp = 0;
	for (; m != NULL; m = m->next) {
		if (m->out)
			continue;
		if ((r = m->fn(wst, m->arg)) != 0) {
			/* its own failure: the others go on without it */
			m->r = r;
			m->out = 1;
			return r;
		}
		(*inp)++;
	}
	return 0;
}

/*
 * One shared transaction for the members listed at first: each one's
 * steps in turn, then one commit.  A member whose steps fail is left
 * out and the transaction run again without it; a failed begin or
 * commit is every remaining member's error.  Their results in r; the
 * number of commits tried in *ncommits.
 */
static void
batch_commit(struct store *wst, struct batch_member *first,
    unsigned *ncommits)
{
	struct batch_member *m;
	unsigned in;
	int r;

	*ncommits = 0;
	do {
		if ((r = store_begin(wst)) != 0)
			break;
		if (batch_steps(wst, first, &in) != 0) {
			store_rollback(wst);
			in = 1;		/* tell: try again */
			continue;
		}
		if (in == 0) {
			store_rollback(wst);
			return;
		}
		(*ncommits)++;
		r = store_commit(wst);
		break;
	} while (in != 0);
	for (m = first; m != NULL; m = m->next)
		if (!m->out)
			m->r = r;
}

/*
 * Lead: take the waiting calls (at most STORE_BATCH_MAX, in order), run
 * them as one transaction with the lock released, and tell them.  Called
 * and returns with b->mu held.
 */
static void
batch_lead(struct store_batch *b)
{
	struct batch_member *first = b->head, *last = first, *m, *next;
	unsigned n = 1, ncommits;

	while (n < STORE_BATCH_MAX && last->next != NULL) {
		last = last->next;
		n++;
	}
	b->head = last->next;
	if (b->head == NULL)
		b->tail = &b->head;
	last->next = NULL;
	b->stats.waiting -= n;
	b->stats.running = n;
	b->committing = 1;
	pthread_mutex_unlock(&b->mu);
	batch_commit(b->wst, first, &ncommits);
	pthread_mutex_lock(&b->mu);
	b->committing = 0;
	b->stats.running = 0;
	b->stats.commits += ncommits;
	b->stats.members += n;
	if (n > b->stats.largest)
		b->stats.largest = n;
	/* a member's thread may return (and its member go) once done */
	for (m = first; m != NULL; m = next) {
		next = m->next;
		if (m->r != 0)
			b->stats.failed++;
		m->done = 1;
	}
	pthread_cond_broadcast(&b->cv);
}

int
store_batch_run(struct store *st, store_batch_fn *fn, void *arg)
{
	struct store_batch *b;
	struct batch_member self;

	if (st == NULL || fn == NULL || (b = st->batch) == NULL)
		return TG_ERR_INVALID;
	memset(&self, 0, sizeof(self));
	self.fn = fn;
	self.arg = arg;
	pthread_mutex_lock(&b->mu);
	*b->tail = &self;
	b->tail = &self.next;
	b->stats.waiting++;
	/*
	 * Whoever finds no transaction running commits all that wait; the
	 * others wait for it, and whoever came meanwhile goes next.
	 */
	while (!self.done) {
		if (b->committing)
			pthread_cond_wait(&b->cv, &b->mu);
		else
			batch_lead(b);
	}
	pthread_mutex_unlock(&b->mu);
	return self.r;
}

void
store_batch_stats(struct store *st, struct store_batch_stats *sp)
{
	struct store_batch *b;

	memset(sp, 0, sizeof(*sp));
	if (st == NULL || (b = st->batch) == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	*sp = b->stats;
	pthread_mutex_unlock(&b->mu);
}

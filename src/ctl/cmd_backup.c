/* SPDX-License-Identifier: ISC */
/*
 * `tapgatectl backup` and `tapgatectl restore`.  A backup is the daemon's
 * job (it owns the database and takes a consistent copy while serving);
 * a restore is done offline, with the daemon stopped, by someone who may
 * write the state directory.  A restore trusts nothing it is given: the
 * file's digest, sqlite's integrity check, the schema and the audit chain
 * with its checkpoints are checked on the very bytes that get installed,
 * and the database it replaces is kept beside it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/uhttp.h"
#include "ctl/ctl.h"
#include "engine/engine.h"
#include "order/jwk.h"
#include "store/audit.h"
#include "store/auditmark.h"
#include "store/backup.h"
#include "store/checkpoint.h"
#include "store/store.h"

#define RESTORE_PROBE_MS	2000	/* how long a live daemon may take */

static long long
ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

int
ctl_backup(int argc, char **argv)
{
	char path[PATH_MAX], cwd[PATH_MAX];
	const char *file = NULL;
	json_t *body, *out = NULL;
	int i, json = 0, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (file == NULL && argv[i][0] != '-' &&
		    argv[i][0] != '\0')
			file = argv[i];
		else {
			file = NULL;
			break;
		}
	}
	if (file == NULL || i != argc) {
		ctl_err("usage: tapgatectl backup FILE [--json]");
		return CTL_EXIT_USAGE;
	}
	/* the daemon has its own working directory: send an absolute name */
	if (file[0] == '/')
		r = snprintf(path, sizeof(path), "%s", file);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		r = snprintf(path, sizeof(path), "%s/%s", cwd, file);
	else
		r = -1;
	if (r < 0 || (size_t)r >= sizeof(path)) {
		ctl_err("backup: %s: cannot make an absolute path of it",
		    file);
		return CTL_EXIT_USAGE;
	}
	if ((body = json_pack("{s:s}", "path", path)) == NULL) {
		ctl_err("backup: the file name is not valid UTF-8");
		return CTL_EXIT_USAGE;
	}
	r = ctl_api("POST", "/v1/backup", body, &out);
	json_decref(body);
	if (r != 0)
		return ctl_exit_code(r);
	if (json) {
		ctl_print_json(out);
		json_decref(out);
		return CTL_EXIT_OK;
	}
	printf("backup written to %s (%lld bytes, schema %lld)\n"
	    "  sha256 %s (also in %s%s)\n  integrity %s\n",
	    ctl_js(out, "path"), ji(out, "size"), ji(out, "schema"),
	    ctl_js(out, "sha256"), ctl_js(out, "path"),
	    STORE_BACKUP_DIGEST_SUFFIX, ctl_js(out, "integrity"));
	ctl_print_audit_report(json_object_get(out, "audit"), 0);
	printf("audited as entry %lld (store.backup)\n", ji(out, "audit_seq"));
	json_decref(out);
	return CTL_EXIT_OK;
}

/* Whether a daemon answers on the console's socket. */
static int
daemon_answers(void)
{
	struct uhttp_response res;

	memset(&res, 0, sizeof(res));
	if (uhttp_request(ctl_socket(), "GET", "/healthz", NULL, NULL, 0,
	    RESTORE_PROBE_MS, &res) != 0)
		return 0;
	uhttp_response_clear(&res);
	return 1;
}

/* The state directory: made 0700 when missing, else ours and closed. */
static int
state_dir_ready(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		ctl_err("restore: %s: cannot create: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		ctl_err("restore: %s is not a directory", dir);
		return -1;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		ctl_err("restore: %s must belong to this user and be closed "
		    "to group and others (mode %04o; chmod 700 %s)", dir,
		    (unsigned)(sb.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

/* The state's lock, held until the restore is done: no daemon starts. */
static int
state_lock(const char *dir, int *fdp)
{
	long holder = 0;
	int r;

	if ((r = store_lock(dir, fdp, &holder)) == 0)
		return 0;
	if (r == TG_ERR_BUSY)
		ctl_err("restore: refused: %s is in use (pid %ld holds %s)",
		    dir, holder, STORE_LOCK_NAME);
	else
		ctl_err("restore: %s: cannot take its lock: %s", dir,
		    tg_strerror(r));
	return -1;
}

/*
 * The daemon holds the log to its high-water mark beside the key: tell
 * the operator when the restored log will not hold it.
 */
static void
mark_note(const char *dir, const json_t *rep)
{
	struct auditmark m;

	if (auditmark_read(dir, &m) != 0) {
		printf("no audit high-water mark in %s: start tapgated once "
		    "with --accept-audit-head (audited)\n", dir);
		return;
	}
	if (m.seq == ji(rep, "head_seq") &&
	    strcmp(m.hash, ctl_js(rep, "head_hash")) == 0)
		return;
	printf("the audit high-water mark in %s is entry %lld, not this "
	    "backup's head %lld: if tapgated refuses to start on it, start "
	    "it once with --accept-audit-head (audited)\n", dir,
	    (long long)m.seq, ji(rep, "head_seq"));
}

/* Copy src into a new private file in dir, synced; its name in tmp. */
static int
copy_in(const char *src, const char *dir, char *tmp, size_t len)
{
	char buf[65536];
	ssize_t n, w, off;
	int in = -1, out = -1, r = -1;

	/* ".db": store_open() takes it for a database file, not a dir */
	if ((size_t)snprintf(tmp, len, "%s/tapgate.restore-XXXXXX.db",
	    dir) >= len) {
		ctl_err("restore: %s: name too long", dir);
		tmp[0] = '\0';
		return -1;
	}
	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		ctl_err("restore: %s: %s", src, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	if ((out = mkostemps(tmp, 3, O_CLOEXEC)) == -1) {
		ctl_err("restore: cannot create a file in %s: %s", dir,
		    strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				goto io;
		}
	}
	if (n == -1 || fsync(out) == -1)
		goto io;
	r = 0;
	goto out;
io:
	ctl_err("restore: copying %s: %s", src, strerror(errno));
out:
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	return r;
}

/* Whether the database header says WAL (file format versions 2). */
static int
wal_mode(const char *path)
{
	unsigned char h[20];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, h, sizeof(h));
	close(fd);
	return n == (ssize_t)sizeof(h) &&
	    memcmp(h, "SQLite format 3", 16) == 0 && (h[18] == 2 || h[19] == 2);
}

/*
 * Check the copy about to be installed, as the daemon checks a backup it
 * made: it opens as a tapgate database, sqlite finds it sound, and its
 * audit chain and checkpoints hold (signatures with keys).  The report
 * as JSON in *repp.
 */
static int
check_copy(const char *tmp, const char *file, const struct jwks *keys,
    int *schemap, json_t **repp)
{
	struct checkpoint_report rep;
	struct store *st = NULL;
	char err[256];
	int ok = 0, r;

	memset(&rep, 0, sizeof(rep));
	if (wal_mode(tmp)) {
		ctl_err("restore: refused: %s is in WAL mode: not a file "
		    "tapgatectl backup wrote (a copy of a live database may "
		    "lack what its -wal file held)", file);
		return -1;
	}
	if ((r = store_open_copy(tmp, &st, err, sizeof(err))) != 0) {
		ctl_err("restore: refused: %s is not a usable tapgate "
		    "database: %s", file, err);
		return -1;
	}
	if ((r = store_integrity(st, &ok, err, sizeof(err))) != 0 || !ok) {
		ctl_err("restore: refused: %s fails sqlite's integrity "
		    "check: %s", file, r != 0 ? tg_strerror(r) : err);
		goto fail;
	}
	if ((r = store_schema_version(st, schemap)) != 0 ||
	    (r = checkpoint_verify(st, keys, &rep)) != 0) {
		ctl_err("restore: refused: %s cannot be verified: %s", file,
		    tg_strerror(r));
		goto fail;
	}
	if ((*repp = engine_checkpoint_report_json(&rep)) == NULL)
		goto fail;
	store_close(&st);
	if (!rep.ok) {
		ctl_print_audit_report(*repp, 0);
		ctl_err("restore: refused: the audit log of %s does not "
		    "verify: %s", file, rep.reason);
		json_decref(*repp);
		*repp = NULL;
		return -1;
	}
	return 0;
fail:
	store_close(&st);
	return -1;
}

static int pathf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A path from parts; -1 (ENAMETOOLONG) when it does not fit. */
static int
pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Rename from to to, which must not exist; ENOENT of from is fine. */
static int
move_if_there(const char *from, const char *to)
{
	struct stat sb;

	if (lstat(from, &sb) == -1)
		return errno == ENOENT ? 0 : -1;
	if (lstat(to, &sb) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/*
 * The name DIR/tapgate.db is moved aside to: tapgate.db.replaced-TIME
 * (UTC), one not taken yet; "" when there is no database.
 */
static int
aside_name(const char *dir, char *aside, size_t len)
{
	char db[PATH_MAX], stamp[32];
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;
	int n;

	aside[0] = '\0';
	if (pathf(db, sizeof(db), "%s/%s", dir, STORE_DB_NAME) == -1)
		return -1;
	if (lstat(db, &sb) == -1)
		return errno == ENOENT ? 0 : -1;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (n = 0; n < 100; n++) {
		if ((n == 0 ? pathf(aside, len, "%s.replaced-%s", db, stamp) :
		    pathf(aside, len, "%s.replaced-%s-%d", db, stamp,
		    n)) == -1)
			return -1;
		if (lstat(aside, &sb) == -1 && errno == ENOENT)
			return 0;
	}
	aside[0] = '\0';
	errno = EEXIST;
	return -1;
}

/*
 * Move DIR/tapgate.db and its -wal to aside (and aside-wal, so sqlite
 * still finds them together); drop the -shm, which only caches the WAL's
 * index.  The -wal goes first: left behind, it would be replayed into the
 * database installed next.
 */
static int
move_aside(const char *dir, const char *aside)
{
	static const char *const side[] = { "-wal", "-journal" };
	char db[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	size_t i;

	if (pathf(db, sizeof(db), "%s/%s", dir, STORE_DB_NAME) == -1)
		return -1;
	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		if (pathf(from, sizeof(from), "%s%s", db, side[i]) == -1 ||
		    pathf(to, sizeof(to), "%s%s", aside, side[i]) == -1 ||
		    move_if_there(from, to) == -1)
			return -1;
	}
	if (pathf(from, sizeof(from), "%s-shm", db) == -1)
		return -1;
	if (unlink(from) == -1 && errno != ENOENT)
		return -1;
	return move_if_there(db, aside);
}

static int
sync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/*
 * Audit the restore in the copy itself, before it is installed, so the
 * database in place is never one whose restore went unrecorded.  Opening
 * it migrates an older schema as the daemon would; closing it folds the
 * WAL back into the one file.
 */
static int
audit_restored(const char *path, json_t *details, int64_t *seqp)
{
	struct audit_entry e;
	struct store *st = NULL;
	struct passwd *pw = getpwuid(getuid());
	char name[64], *s = NULL;
	int r;

	if (pw != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "uid:%u", (unsigned)getuid());
	if ((s = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return TG_ERR_NOMEM;
	memset(&e, 0, sizeof(e));
	e.actor_uid = (int64_t)getuid();
	e.actor_role = "operator";
	e.actor_name = name;
	e.event = "store.restored";
	e.details = s;
	if ((r = store_open(path, &st)) == 0 && (r = store_begin(st)) == 0 &&
	    (r = audit_append(st, &e, seqp)) == 0)
		r = store_commit(st);
	if (r != 0 && st != NULL)
		ctl_err("restore: %s", store_errmsg(st));
	store_rollback(st);
	store_close(&st);
	free(s);
	return r;
}

int
ctl_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "jwks", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL, *jwks = NULL, *file;
	char want[STORE_DIGEST_LEN + 1], got[STORE_DIGEST_LEN + 1];
	char tmp[PATH_MAX], db[PATH_MAX], aside[PATH_MAX];
	struct jwks *keys = NULL;
	json_t *rep = NULL, *details;
	int64_t size = 0, seq = 0;
	int c, r, schema = 0, digest, rc = CTL_EXIT_FAIL, lockfd = -1;

	tmp[0] = '\0';
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'k': jwks = optarg; break;
		default: return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || dir == NULL) {
		ctl_err("usage: tapgatectl restore FILE --state-dir DIR "
		    "[--jwks JWKS]");
		return CTL_EXIT_USAGE;
	}
	file = argv[optind];
	if ((size_t)snprintf(db, sizeof(db), "%s/%s", dir,
	    STORE_DB_NAME) >= sizeof(db)) {
		ctl_err("restore: %s: name too long", dir);
		return CTL_EXIT_USAGE;
	}
	/* the daemon must be stopped: it answers, or it holds the file */
	if (daemon_answers()) {
		ctl_err("restore: refused: tapgated answers at %s; stop it "
		    "first", ctl_socket());
		return CTL_EXIT_FAIL;
	}
	if ((r = store_file_in_use(db)) == TG_ERR_BUSY) {
		ctl_err("restore: refused: %s is in use (is tapgated "
		    "running?)", db);
		return CTL_EXIT_FAIL;
	}
	if (jwks != NULL && ctl_read_jwks(jwks, &keys) != 0)
		return CTL_EXIT_FAIL;
	if (state_dir_ready(dir) != 0 || state_lock(dir, &lockfd) != 0)
		goto out;
	/* from here on, everything is checked on the copy to install */
	r = store_backup_read_digest(file, want);
	if (r != 0 && r != TG_ERR_NOT_FOUND) {
		ctl_err("restore: refused: %s%s is not a digest file (%s)",
		    file, STORE_BACKUP_DIGEST_SUFFIX, tg_strerror(r));
		goto out;
	}
	digest = r == 0;
	if (copy_in(file, dir, tmp, sizeof(tmp)) != 0)
		goto out;
	if ((r = store_file_sha256(tmp, got, &size)) != 0) {
		ctl_err("restore: %s: %s", tmp, tg_strerror(r));
		goto out;
	}
	if (digest && strcmp(want, got) != 0) {
		ctl_err("restore: refused: %s does not match its digest in "
		    "%s%s (damaged or altered)", file, file,
		    STORE_BACKUP_DIGEST_SUFFIX);
		goto out;
	}
	if (check_copy(tmp, file, keys, &schema, &rep) != 0)
		goto out;
	/* checked again now: the daemon may have started meanwhile */
	if (daemon_answers() ||
	    (r = store_file_in_use(db)) == TG_ERR_BUSY) {
		ctl_err("restore: refused: tapgated started meanwhile");
		goto out;
	}
	if (r != 0 && r != TG_ERR_NOT_FOUND)
		fprintf(stderr, "tapgatectl: restore: %s cannot be opened "
		    "(%s); it is moved aside as it is\n", db, tg_strerror(r));
	if (aside_name(dir, aside, sizeof(aside)) != 0) {
		ctl_err("restore: no name to move %s aside to: %s", db,
		    strerror(errno));
		goto out;
	}
	details = json_pack("{s:s,s:s,s:I,s:i,s:s?,s:b,s:I,s:s,s:I}",
	    "from", file, "sha256", got, "size", (json_int_t)size, "schema",
	    schema, "replaced", aside[0] ? aside : NULL, "digest_checked",
	    digest, "backup_head_seq", (json_int_t)ji(rep, "head_seq"),
	    "backup_head_hash", ctl_js(rep, "head_hash"), "checkpoint_seq",
	    (json_int_t)ji(json_object_get(rep, "checkpoint"), "seq"));
	if (details == NULL || (r = audit_restored(tmp, details, &seq)) != 0) {
		json_decref(details);
		ctl_err("restore: the restore cannot be audited in the copy; "
		    "nothing was changed");
		goto out;
	}
	json_decref(details);
	if (aside[0] != '\0' && move_aside(dir, aside) != 0) {
		ctl_err("restore: cannot move %s aside: %s", db,
		    strerror(errno));
		goto out;
	}
	if (rename(tmp, db) == -1 || sync_dir(dir) == -1) {
		ctl_err("restore: cannot install %s: %s%s%s", db,
		    strerror(errno), aside[0] ? "; the old database is " : "",
		    aside);
		goto out;
	}
	tmp[0] = '\0';
	printf("restored %s (%lld bytes, schema %d)\n", file, (long long)size,
	    schema);
	if (digest)
		printf("  sha256 %s matches %s%s\n", got, file,
		    STORE_BACKUP_DIGEST_SUFFIX);
	else
		printf("  sha256 %s (no %s%s: the digest was not checked)\n",
		    got, file, STORE_BACKUP_DIGEST_SUFFIX);
	printf("  integrity ok\n");
	ctl_print_audit_report(rep, 0);
	if (aside[0] != '\0')
		printf("the old database was moved aside to %s\n", aside);
	printf("installed as %s; audited as entry %lld (store.restored)\n",
	    db, (long long)seq);
	mark_note(dir, rep);
	rc = CTL_EXIT_OK;
out:
	if (tmp[0] != '\0') {
		(void)unlink(tmp);
		if (pathf(aside, sizeof(aside), "%s-wal", tmp) == 0)
			(void)unlink(aside);
		if (pathf(aside, sizeof(aside), "%s-shm", tmp) == 0)
			(void)unlink(aside);
	}
	json_decref(rep);
	jwks_free(&keys);
	if (lockfd != -1)
		close(lockfd);
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * Online backups of the state database and read-only checks of copies
 * (backup.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "store/backup.h"
#include "store/store_int.h"

#define BACKUP_DIGEST_LINE_MAX	(STORE_DIGEST_LEN + 2 + NAME_MAX + 2)

/* Create path 0600, which must not exist; never through a symlink. */
static int
create_new(const char *path, int *fdp)
{
	struct stat sb;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		if (errno == EEXIST)
			return lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) ?
			    TG_ERR_PERM : TG_ERR_EXISTS;
		return errno == EACCES || errno == EPERM ? TG_ERR_PERM :
		    errno == ENAMETOOLONG ? TG_ERR_TOO_LONG : TG_ERR_IO;
	}
	/* umask may have narrowed it further; never widened. */
	if (fchmod(fd, 0600) == -1) {
		close(fd);
		(void)unlink(path);
		return TG_ERR_IO;
	}
	*fdp = fd;
	return 0;
}

/* Make a rename or a new file in path's directory durable. */
static int
sync_parent(const char *path)
{
	char *copy, *dir;
	int fd, r = 0;

	if ((copy = strdup(path)) == NULL)
		return TG_ERR_NOMEM;
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		r = TG_ERR_IO;
	if (fd != -1)
		close(fd);
	free(copy);
	return r;
}

int
store_file_sha256(const char *path, char sha256[STORE_DIGEST_LEN + 1],
    int64_t *sizep)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 0;
	struct stat sb;
	ssize_t n;
	int64_t size = 0;
	int fd, r = TG_ERR_IO;

	if (path == NULL || sha256 == NULL)
		return TG_ERR_INVALID;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? TG_ERR_NOT_FOUND : errno == ELOOP ?
		    TG_ERR_PERM : TG_ERR_IO;
	if (fstat(fd, &sb) == -1)
		goto out;
	if (!S_ISREG(sb.st_mode)) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = TG_ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = TG_ERR_INTERNAL;
		goto out;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = TG_ERR_INTERNAL;
			goto out;
		}
		size += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(md)) {
		r = TG_ERR_INTERNAL;
		goto out;
	}
	hex_encode(md, sizeof(md), sha256);
	if (sizep != NULL)
		*sizep = size;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return r;
}

/* path + suffix into out; TG_ERR_TOO_LONG past PATH_MAX. */
static int
with_suffix(const char *path, const char *suffix, char out[PATH_MAX])
{
	if ((size_t)snprintf(out, PATH_MAX, "%s%s", path, suffix) >= PATH_MAX)
		return TG_ERR_TOO_LONG;
	return 0;
}

/* "HEX  NAME\n", as sha256sum -c reads it, synced. */
static int
write_digest(int fd, const char *path, const char *sha256)
{
	char line[BACKUP_DIGEST_LINE_MAX + 1], *copy;
	size_t len, off = 0;
	ssize_t n;
	int r = 0;

	if ((copy = strdup(path)) == NULL)
		return TG_ERR_NOMEM;
	len = (size_t)snprintf(line, sizeof(line), "%s  %s\n", sha256,
	    basename(copy));
	free(copy);
	if (len >= sizeof(line))
		return TG_ERR_TOO_LONG;
	while (off < len) {
		n = write(fd, line + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return TG_ERR_IO;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		r = TG_ERR_IO;
	return r;
}

int
store_backup_read_digest(const char *path, char sha256[STORE_DIGEST_LEN + 1])
{
	char name[PATH_MAX], line[BACKUP_DIGEST_LINE_MAX + 1];
	ssize_t n;
	int fd, r;

	if (path == NULL || sha256 == NULL)
		return TG_ERR_INVALID;
	if ((r = with_suffix(path, STORE_BACKUP_DIGEST_SUFFIX, name)) != 0)
		return r;
	if ((fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? TG_ERR_NOT_FOUND : TG_ERR_IO;
	do
		n = read(fd, line, sizeof(line) - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n == -1)
		return TG_ERR_IO;
	line[n] = '\0';
	/* One line: the digest, two blanks (or " *"), a name, a newline. */
	if (n < STORE_DIGEST_LEN + 3 || line[n - 1] != '\n' ||
	    strchr(line, '\n') != line + n - 1 ||
	    line[STORE_DIGEST_LEN] != ' ' ||
	    (line[STORE_DIGEST_LEN + 1] != ' ' &&
	    line[STORE_DIGEST_LEN + 1] != '*'))
		return TG_ERR_INVALID;
	line[STORE_DIGEST_LEN] = '\0';
	if (!store_is_hex(line, STORE_DIGEST_LEN))
		return TG_ERR_INVALID;
	memcpy(sha256, line, STORE_DIGEST_LEN + 1);
	return 0;
}

/* sqlite's backup of st into the empty database file at path. */
static int
copy_database(struct store *st, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *bk;
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc, r;

	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = dst != NULL ? TG_ERR_IO : TG_ERR_NOMEM;
		goto out;
	}
	sqlite3_busy_timeout(dst, 5000);
	if ((bk = sqlite3_backup_init(dst, "main", st->db, "main")) == NULL) {
		r = store_sqlerr(st, sqlite3_errcode(dst));
		goto out;
	}
	/* All pages in one step: one consistent read of the source. */
	rc = sqlite3_backup_step(bk, -1);
	if (sqlite3_backup_finish(bk) != SQLITE_OK || rc != SQLITE_DONE) {
		r = store_sqlerr(st, rc != SQLITE_DONE ? rc :
		    sqlite3_errcode(dst));
		goto out;
	}
	/*
	 * The copy came out in WAL mode, as its source: make it one
	 * self-contained file, which a copy or a checksum covers whole.
	 */
	if ((rc = sqlite3_prepare_v2(dst, "PRAGMA journal_mode = DELETE", -1,
	    &s, NULL)) != SQLITE_OK || (rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = TG_ERR_IO;
		goto out;
	}
	mode = sqlite3_column_text(s, 0);
	r = mode != NULL && strcmp((const char *)mode, "delete") == 0 ? 0 :
	    TG_ERR_IO;
out:
	sqlite3_finalize(s);
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && r == 0)
		r = TG_ERR_IO;
	return r;
}

int
store_backup(struct store *st, const char *path,
    char sha256[STORE_DIGEST_LEN + 1], int64_t *sizep)
{
	char digest[PATH_MAX], hex[STORE_DIGEST_LEN + 1];
	int64_t size = 0;
	int fd = -1, dfd = -1, made = 0, r;

	if (st == NULL || path == NULL || path[0] != '/' || sha256 == NULL ||
	    sizep == NULL)
		return TG_ERR_INVALID;
	if (store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = with_suffix(path, STORE_BACKUP_DIGEST_SUFFIX, digest)) != 0)
		return r;
	if ((r = create_new(path, &fd)) != 0)
		return r;
	made = 1;
	if ((r = create_new(digest, &dfd)) != 0) {
		made = 2;	/* the digest file is someone else's */
		goto fail;
	}
	/* sqlite opens the file itself: an empty file is an empty database. */
	close(fd);
	fd = -1;
	if ((r = copy_database(st, path)) != 0)
		goto fail;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		r = TG_ERR_IO;
		goto fail;
	}
	if ((r = store_file_sha256(path, hex, &size)) != 0 ||
	    (r = write_digest(dfd, path, hex)) != 0 ||
	    (r = sync_parent(path)) != 0)
		goto fail;
	close(fd);
	close(dfd);
	memcpy(sha256, hex, sizeof(hex));
	*sizep = size;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (made >= 1)
		(void)unlink(path);
	if (made == 1)
		(void)unlink(digest);
	return r;
}

int
store_open_copy(const char *path, struct store **stp, char *err,
    size_t errlen)
{
	struct store *st = NULL;
	sqlite3_stmt *s = NULL;
	int64_t app = 0, version = 0;
	int rc, r;

	if (path == NULL || stp == NULL || err == NULL || errlen == 0)
		return TG_ERR_INVALID;
	err[0] = '\0';
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return TG_ERR_NOMEM;
	st->pending_tail = &st->pending;
	st->journal = 0;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		r = st->db != NULL ? store_sqlerr(st, rc) : TG_ERR_NOMEM;
		goto fail;
	}
	/* A copy is data from outside: no schema code, no extensions. */
	if (sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    NULL) != SQLITE_OK ||
	    sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
	    NULL) != SQLITE_OK) {
		r = store_sqlerr(st, sqlite3_errcode(st->db));
		goto fail;
	}
	sqlite3_limit(st->db, SQLITE_LIMIT_ATTACHED, 0);
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT * FROM "
	    "pragma_application_id, pragma_user_version", -1, &s,
	    NULL)) != SQLITE_OK || (rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = store_sqlerr(st, rc);
		goto fail;
	}
	app = sqlite3_column_int64(s, 0);
	version = sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	s = NULL;
	if (app != STORE_APP_ID) {
		snprintf(st->errmsg, sizeof(st->errmsg), "not a tapgate "
		    "database (application_id %lld)", (long long)app);
		r = TG_ERR_SCHEMA;
		goto fail;
	}
	if (version < 1 || version > store_nmigrations) {
		snprintf(st->errmsg, sizeof(st->errmsg), "schema version %lld "
		    "is not one this tapgate knows (1 to %d)",
		    (long long)version, store_nmigrations);
		r = TG_ERR_SCHEMA;
		goto fail;
	}
	*stp = st;
	return 0;
fail:
	sqlite3_finalize(s);
	snprintf(err, errlen, "%s", st->errmsg[0] != '\0' ? st->errmsg :
	    tg_strerror(r));
	store_close(&st);
	return r;
}

int
store_integrity(struct store *st, int *okp, char *msg, size_t len)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int rc, r;

	if (st == NULL || okp == NULL || msg == NULL || len == 0)
		return TG_ERR_INVALID;
	/* The first complaint is enough to refuse the file. */
	if ((rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check(1)", -1,
	    &s, NULL)) != SQLITE_OK) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(s, 0);
		snprintf(msg, len, "%s", t != NULL ? (const char *)t : "");
		*okp = t != NULL && strcmp((const char *)t, "ok") == 0;
		r = 0;
	} else if ((rc & 0xff) == SQLITE_CORRUPT ||
	    (rc & 0xff) == SQLITE_NOTADB) {
		/* So damaged the check itself cannot read it. */
		snprintf(msg, len, "%s", sqlite3_errmsg(st->db));
		*okp = 0;
		r = 0;
	} else
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_file_in_use(const char *path)
{
	static const char *const steps[] = {
		"PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE", "COMMIT"
	};
	struct stat sb;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc, r = 0;

	if (path == NULL)
		return TG_ERR_INVALID;
	if (lstat(path, &sb) == -1)
		return errno == ENOENT ? TG_ERR_NOT_FOUND : TG_ERR_IO;
	if (!S_ISREG(sb.st_mode))
		return TG_ERR_INVALID;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK || db == NULL) {
		r = db != NULL ? TG_ERR_IO : TG_ERR_NOMEM;
		goto out;
	}
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* a little patience for a transaction in flight, not for a holder */
	sqlite3_busy_timeout(db, 500);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((rc = sqlite3_prepare_v2(db, steps[i], -1, &s,
		    NULL)) == SQLITE_OK) {
			while ((rc = sqlite3_step(s)) == SQLITE_ROW)
				;
			if (rc == SQLITE_DONE)
				rc = SQLITE_OK;
		}
		sqlite3_finalize(s);
		s = NULL;
		if (rc != SQLITE_OK) {
			switch (rc & 0xff) {
			case SQLITE_BUSY:
			case SQLITE_LOCKED:
				r = TG_ERR_BUSY;
				break;
			case SQLITE_CORRUPT:
			case SQLITE_NOTADB:
				r = TG_ERR_CORRUPT;
				break;
			default:
				r = TG_ERR_DB;
			}
			break;
		}
	}
out:
	/* the last connection folds the WAL back into the file and drops it */
	sqlite3_close(db);
	return r;
}

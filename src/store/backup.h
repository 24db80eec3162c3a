/* SPDX-License-Identifier: ISC */
/*
 * Copies of the state database: an online backup taken with sqlite's
 * backup API (a consistent snapshot while the daemon serves), and a
 * read-only opening of a copy to check it before anyone trusts it:
 * sqlite's integrity check, the schema, and the audit chain with its
 * checkpoints (checkpoint.h) on the copy itself.
 *
 * Beside each backup FILE lies FILE.sha256, its SHA-256 in sha256sum's
 * format ("HEX  NAME\n"), so damage to the bytes shows even where sqlite's
 * own checks do not look (free pages, unused space).
 */
#ifndef TAPGATE_BACKUP_H
#define TAPGATE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_BACKUP_DIGEST_SUFFIX	".sha256"

/*
 * Copy the open database (outside a transaction: TG_ERR_TXN) into a new
 * file at path, an absolute path, and write path.sha256 beside it.
 * Neither may exist (TG_ERR_EXISTS); both are created 0600 and never
 * through a symlink (TG_ERR_PERM).  The copy is a self-contained database
 * (rollback journal, no -wal file) synced to disk; its SHA-256 (hex) in
 * sha256 and size in *sizep.  On failure nothing is left behind.
 */
int	store_backup(struct store *st, const char *path,
	    char sha256[STORE_DIGEST_LEN + 1], int64_t *sizep);

/*
 * Open a database file read-only to check it: never written, never
 * migrated, nothing sent to journald.  TG_ERR_SCHEMA when it is not a
 * tapgate database or has a schema newer than this code's; sqlite's
 * errors otherwise (TG_ERR_CORRUPT for a damaged file).  Why, for people,
 * in err.  Close with store_close().
 */
int	store_open_copy(const char *path, struct store **stp, char *err,
	    size_t errlen);

/*
 * sqlite's PRAGMA integrity_check over the whole file: *okp 1 when sound,
 * else 0 with its first complaint in msg.  Negative when it cannot run.
 */
int	store_integrity(struct store *st, int *okp, char *msg, size_t len);

/* The SHA-256 (hex) and size of a file, not read through a symlink. */
int	store_file_sha256(const char *path, char sha256[STORE_DIGEST_LEN + 1],
	    int64_t *sizep);

/*
 * Read path.sha256 (sha256sum's format, one line) into sha256.
 * TG_ERR_NOT_FOUND when there is none, TG_ERR_INVALID when malformed.
 */
int	store_backup_read_digest(const char *path,
	    char sha256[STORE_DIGEST_LEN + 1]);

/*
 * Whether a process (a running daemon) has the database file at path
 * open: TG_ERR_BUSY when one does, 0 when none does, TG_ERR_NOT_FOUND
 * when there is no such file; sqlite's error when it cannot be told (a
 * damaged file).  Asks sqlite for an exclusive lock, which every open
 * connection to a WAL database prevents, and lets it go.
 */
int	store_file_in_use(const char *path);

#endif /* TAPGATE_BACKUP_H */

/* SPDX-License-Identifier: ISC */
/*
 * Files that hold secrets: the file seal's key and the sealed co-signing
 * key.  Read only when they are ours and closed to everyone else; written
 * only as new files, 0600, atomically and durably, never over an existing
 * one (losing a sealed key to a race would lose the key).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/errors.h"
#include "seal/seal_int.h"

int
sealio_open_dir(const char *dir, int *dirfdp)
{
	struct stat sb;
	int fd;

	if (dir == NULL || *dir == '\0')
		return TG_ERR_INVALID;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return TG_ERR_NOT_FOUND;
		return errno == ENOTDIR ? TG_ERR_INVALID : TG_ERR_IO;
	}
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return TG_ERR_IO;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
		close(fd);
		return TG_ERR_PERM;
	}
	*dirfdp = fd;
	return 0;
}

int
sealio_read_private(int dirfd, const char *name, uint8_t *buf, size_t cap,
    size_t *lenp)
{
	struct stat sb;
	size_t off = 0;
	ssize_t n;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted here must not hang us before fstat. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT)
			return TG_ERR_NOT_FOUND;
		return errno == ELOOP ? TG_ERR_PERM : TG_ERR_IO;
	}
	if (fstat(fd, &sb) == -1) {
		r = TG_ERR_IO;
		goto fail;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0) {
		r = TG_ERR_PERM;
		goto fail;
	}
	if (sb.st_size < 0 || (unsigned long long)sb.st_size > cap) {
		r = TG_ERR_TOO_LONG;
		goto fail;
	}
	for (;;) {
		if (off == cap) {
			/* Full: anything more means the file grew. */
			uint8_t extra;

			n = read(fd, &extra, 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n != 0) {
				r = n == -1 ? TG_ERR_IO : TG_ERR_TOO_LONG;
				goto fail;
			}
			break;
		}
		n = read(fd, buf + off, cap - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = TG_ERR_IO;
			goto fail;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	*lenp = off;
	return 0;
fail:
	OPENSSL_cleanse(buf, cap);
	close(fd);
	return r;
}

static int
write_all(int fd, const uint8_t *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return TG_ERR_IO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Split path into its directory (opened) and its last component. */
static int
open_parent(const char *path, int *dirfdp, const char **basep)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t n;
	int fd;

	if ((slash = strrchr(path, '/')) == NULL) {
		(void)snprintf(dir, sizeof(dir), ".");
		*basep = path;
	} else {
		n = (size_t)(slash - path);
		if (n == 0)
			n = 1;	/* "/name": the root directory */
		if (n >= sizeof(dir))
			return TG_ERR_TOO_LONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
		*basep = slash + 1;
	}
	if (**basep == '\0')
		return TG_ERR_INVALID;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? TG_ERR_NOT_FOUND : TG_ERR_IO;
	*dirfdp = fd;
	return 0;
}

int
sealio_create_private(int dirfd, const char *name, const uint8_t *data,
    size_t len)
{
	char tmp[NAME_MAX + 1];
	const char *base = name;
	uint8_t rnd[8];
	int pfd = -1, fd = -1, made = 0, r;

	if (dirfd == AT_FDCWD) {
		if ((r = open_parent(name, &pfd, &base)) != 0)
			return r;
		dirfd = pfd;
	} else if (strchr(name, '/') != NULL)
		return TG_ERR_INVALID;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		r = TG_ERR_INTERNAL;
		goto out;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp),
	    ".%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", base, rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]) >= sizeof(tmp)) {
		r = TG_ERR_TOO_LONG;
		goto out;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		r = TG_ERR_IO;
		goto out;
	}
	made = 1;
	/* A umask cannot widen 0600, but one like 0277 could narrow it. */
	if (fchmod(fd, 0600) == -1 || (r = write_all(fd, data, len)) != 0 ||
	    fsync(fd) == -1) {
		r = TG_ERR_IO;
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r == -1) {
		r = TG_ERR_IO;
		goto out;
	}
	/*
	 * link(2), not rename(2): it fails when name exists instead of
	 * replacing it, so two creators cannot overwrite each other's key.
	 */
	if (linkat(dirfd, tmp, dirfd, base, 0) == -1) {
		r = errno == EEXIST ? TG_ERR_EXISTS : TG_ERR_IO;
		goto out;
	}
	(void)unlinkat(dirfd, tmp, 0);
	made = 0;
	r = fsync(dirfd) == -1 ? TG_ERR_IO : 0;
out:
	if (fd != -1)
		close(fd);
	if (made)
		(void)unlinkat(dirfd, tmp, 0);
	if (pfd != -1)
		close(pfd);
	return r;
}

/* A new temporary file beside name, 0600, holding data, fsync()ed. */
static int
write_temp(int dirfd, const char *name, const uint8_t *data, size_t len,
    char tmp[NAME_MAX + 1])
{
	uint8_t rnd[8];
	int fd, r;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return TG_ERR_INTERNAL;
	if ((size_t)snprintf(tmp, NAME_MAX + 1,
	    ".%s.tmp-%02x%02x%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]) >= NAME_MAX + 1)
		return TG_ERR_TOO_LONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return TG_ERR_IO;
	if (fchmod(fd, 0600) == -1 || (r = write_all(fd, data, len)) != 0 ||
	    fsync(fd) == -1)
		r = TG_ERR_IO;
	if (close(fd) == -1 && r == 0)
		r = TG_ERR_IO;
	if (r != 0)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int
sealio_replace_private(int dirfd, const char *name, const uint8_t *data,
    size_t len)
{
	char tmp[NAME_MAX + 1];
	int r;

	if (dirfd < 0 || name == NULL || strchr(name, '/') != NULL)
		return TG_ERR_INVALID;
	if ((r = write_temp(dirfd, name, data, len, tmp)) != 0)
		return r;
	if (renameat(dirfd, tmp, dirfd, name) == -1) {
		(void)unlinkat(dirfd, tmp, 0);
		return TG_ERR_IO;
	}
	return fsync(dirfd) == -1 ? TG_ERR_IO : 0;
}

int
sealio_destroy(int dirfd, const char *name)
{
	static const uint8_t zeros[512];
	struct stat sb;
	off_t left;
	size_t n;
	int fd, r = 0;

	fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1)
		return errno == ENOENT ? 0 : TG_ERR_IO;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		close(fd);
		return TG_ERR_PERM;
	}
	for (left = sb.st_size; left > 0 && r == 0; left -= (off_t)n) {
		n = (size_t)left < sizeof(zeros) ? (size_t)left :
		    sizeof(zeros);
		r = write_all(fd, zeros, n);
	}
	if (r == 0 && fsync(fd) == -1)
		r = TG_ERR_IO;
	close(fd);
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		return TG_ERR_IO;
	if (fsync(dirfd) == -1)
		return TG_ERR_IO;
	return r;
}

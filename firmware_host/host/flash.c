/* SPDX-License-Identifier: ISC */
/*
 * softfido's "flash": one file holding the core's state blob behind a
 * header, so that a damaged or foreign file is recognised and refused
 * instead of being taken for a first boot (which would silently replace
 * every credential of the key):
 *
 *	magic "softfido" (8) | format version (4, big-endian) |
 *	blob length (4, big-endian) | SHA-256 of the blob (32) | blob
 *
 * Writes go to FILE.tmp, are fsynced, renamed over FILE, and the directory
 * is fsynced: after a crash FILE is the old state or the new one, whole.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "hal.h"

#define FLASH_MAGIC	"softfido"
#define FLASH_VERSION	1
#define FLASH_HDR_LEN	(8 + 4 + 4 + 32)

static char	state_path[PATH_MAX];

int
flash_set_path(const char *path)
{
	size_t	len = strlen(path);

	/* room for the ".tmp" hal_flash_store() appends */
	if (len + sizeof(".tmp") > sizeof(state_path))
		return -1;
	memcpy(state_path, path, len + 1);
	return 0;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Read exactly len bytes; the count actually read, or -1. */
static ssize_t
read_full(int fd, void *buf, size_t len)
{
	uint8_t	*p = buf;
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
wipe(void *p, size_t len)
{
	volatile uint8_t	*v = p;

	while (len-- > 0)
		*v++ = 0;
}

int
hal_flash_load(void *buf, size_t len)
{
	uint8_t		 hdr[FLASH_HDR_LEN], digest[32], extra;
	struct stat	 st;
	const char	*why = NULL;
	ssize_t		 n;
	int		 fd, r = -1;

	if ((fd = open(state_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT) {
			board_debug("%s: no state yet: first boot",
			    state_path);
			return 1;
		}
		board_warn("state file %s: %s", state_path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		why = "not a regular file";
		goto fail;
	}
	if ((n = read_full(fd, hdr, sizeof(hdr))) < 0) {
		why = strerror(errno);
		goto fail;
	}
	if ((size_t)n < sizeof(hdr)) {
		why = "truncated header (corrupt)";
		goto fail;
	}
	if (memcmp(hdr, FLASH_MAGIC, 8) != 0) {
		why = "not a softfido state file";
		goto fail;
	}
	if (get_be32(hdr + 8) != FLASH_VERSION) {
		board_warn("state file %s: format version %lu, this softfido "
		    "reads version %d", state_path,
		    (unsigned long)get_be32(hdr + 8), FLASH_VERSION);
		goto fail;
	}
	if (get_be32(hdr + 12) != len) {
		board_warn("state file %s: holds a %lu-byte state, this "
		    "softfido's state is %zu bytes", state_path,
		    (unsigned long)get_be32(hdr + 12), len);
		goto fail;
	}
	if ((uintmax_t)st.st_size != FLASH_HDR_LEN + (uintmax_t)len) {
		board_warn("state file %s: %jd bytes where %zu belong "
		    "(truncated or trailing data)", state_path,
		    (intmax_t)st.st_size, FLASH_HDR_LEN + len);
		goto fail;
	}
	if ((n = read_full(fd, buf, len)) < 0 || (size_t)n != len ||
	    read_full(fd, &extra, 1) != 0) {
		why = "changed while being read";
		goto fail;
	}
	hal_sha256(buf, len, digest);
	/* an integrity check, not a secret: memcmp's timing is harmless */
	if (memcmp(digest, hdr + 16, sizeof(digest)) != 0) {
		why = "checksum mismatch (corrupt)";
		goto fail;
	}
	r = 0;
fail:
	if (why != NULL)
		board_warn("state file %s: %s", state_path, why);
	if (r != 0)
		wipe(buf, len);
	close(fd);
	return r;
}

/* Make the rename durable: fsync the directory holding the file. */
static int
sync_dir(const char *path)
{
	char		 dir[PATH_MAX];
	const char	*slash;
	int		 fd, r;

	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
hal_flash_store(const void *buf, size_t len)
{
	char		tmp[PATH_MAX];
	uint8_t		hdr[FLASH_HDR_LEN];
	int		fd = -1, n, made = 0;

	if (len > UINT32_MAX) {
		board_warn("state of %zu bytes does not fit the file format",
		    len);
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		board_warn("%s: path too long", state_path);
		return -1;
	}
	memcpy(hdr, FLASH_MAGIC, 8);
	put_be32(hdr + 8, FLASH_VERSION);
	put_be32(hdr + 12, (uint32_t)len);
	hal_sha256(buf, len, hdr + 16);
	/* O_EXCL after unlink: a leftover tmp's owner, mode never carry over */
	if ((unlink(tmp) != 0 && errno != ENOENT) ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0)
		goto fail;
	made = 1;
	if (write_full(fd, hdr, sizeof(hdr)) != 0 ||
	    write_full(fd, buf, len) != 0 || fsync(fd) != 0)
		goto fail;
	n = close(fd);
	fd = -1;
	if (n != 0 || rename(tmp, state_path) != 0)
		goto fail;
	made = 0;
	if (sync_dir(state_path) != 0)
		goto fail;
	return 0;
fail:
	board_warn("cannot write state file %s: %s", state_path,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlink(tmp);
	return -1;
}

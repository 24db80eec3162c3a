/* SPDX-License-Identifier: ISC */
/*
 * Start-up checks of tapgated (startup.h): run in this order before the
 * token process, the database, the co-signing key or the socket exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/errors.h"
#include "daemon/startup.h"
#include "store/store.h"

int
startup_state_dir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;
	int fd, r = 0;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "state directory %s: cannot create: %s",
		    dir, strerror(errno));
		return TG_ERR_IO;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "state directory %s: %s", dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return TG_ERR_IO;
	}
	close(fd);
	if (sb.st_uid != geteuid()) {
		snprintf(err, errlen, "state directory %s belongs to uid %u, "
		    "not to this daemon's uid %u (chown it)", dir,
		    (unsigned)sb.st_uid, (unsigned)geteuid());
		r = TG_ERR_PERM;
	} else if ((sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "state directory %s has mode %04o: it "
		    "must be closed to group and others (chmod 700 %s)", dir,
		    (unsigned)(sb.st_mode & 07777), dir);
		r = TG_ERR_PERM;
	}
	return r;
}

int
startup_lock(const char *dir, int *fdp, char *err, size_t errlen)
{
	long holder = 0;
	int r;

	if ((r = store_lock(dir, fdp, &holder)) == 0)
		return 0;
	if (r == TG_ERR_BUSY && holder > 0)
		snprintf(err, errlen, "state directory %s is in use by another "
		    "tapgated (pid %ld holds %s/%s)", dir, holder, dir,
		    STORE_LOCK_NAME);
	else if (r == TG_ERR_BUSY)
		snprintf(err, errlen, "state directory %s is in use (%s/%s is "
		    "locked)", dir, dir, STORE_LOCK_NAME);
	else
		snprintf(err, errlen, "state directory %s: cannot take the "
		    "lock %s: %s", dir, STORE_LOCK_NAME, tg_strerror(r));
	return r;
}

int
startup_socket_free(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, live;

	/* systemd owns the socket it passes: nothing to check here */
	if (sd_listen_fds(0) > 0)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || *path == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path is empty or longer than "
		    "%zu bytes", sizeof(sun.sun_path) - 1);
		return TG_ERR_INVALID;
	}
	if (lstat(path, &sb) == -1)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return TG_ERR_INVALID;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return TG_ERR_IO;
	}
	live = connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "%s: a daemon answers on this socket "
		    "(another state directory?): not starting a second one",
		    path);
		return TG_ERR_BUSY;
	}
	return 0;
}

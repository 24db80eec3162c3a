/* SPDX-License-Identifier: ISC */
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
#include "daemon/listen.h"

/* Is somebody accepting on the socket file at path? */
static int
listen_is_live(const struct sockaddr_un *sun)
{
	int fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

int
listen_open(const char *path, mode_t mode, int *bound, char *errbuf,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	int fd, n;

	*bound = 0;
	if ((n = sd_listen_fds(1)) > 0) {
		if (n != 1 || sd_is_socket_unix(SD_LISTEN_FDS_START,
		    SOCK_STREAM, 1, NULL, 0) <= 0) {
			snprintf(errbuf, errlen, "systemd passed %d sockets; "
			    "expected one listening AF_UNIX stream socket", n);
			return TG_ERR_INVALID;
		}
		return SD_LISTEN_FDS_START;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || *path == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(errbuf, errlen, "socket path is empty or longer than "
		    "%zu bytes", sizeof(sun.sun_path) - 1);
		return TG_ERR_INVALID;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(errbuf, errlen, "%s exists and is not a "
			    "socket", path);
			return TG_ERR_INVALID;
		}
		if (listen_is_live(&sun)) {
			snprintf(errbuf, errlen, "%s: another daemon is "
			    "listening there", path);
			return TG_ERR_INVALID;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(errbuf, errlen, "socket: %s", strerror(errno));
		return TG_ERR_IO;
	}
	/* bind under a umask so the socket never exists with wider rights */
	{
		mode_t old = umask(~mode & 0777);

		n = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
		umask(old);
	}
	if (n != 0 || listen(fd, 64) != 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return TG_ERR_IO;
	}
	*bound = 1;
	return fd;
}

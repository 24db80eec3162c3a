/* SPDX-License-Identifier: ISC */
/* The daemon's listening socket: systemd's, or one it binds itself. */
#ifndef TAPGATE_LISTEN_H
#define TAPGATE_LISTEN_H

#include <sys/types.h>

/*
 * A listening AF_UNIX stream socket: the one systemd passed (socket
 * activation, LISTEN_FDS) when there is one, else path bound with mode
 * (a stale socket file nobody listens on is replaced; a live one is an
 * error).  *bound is set to 1 when we created path (so we unlink it on
 * exit).  Returns the fd, or a TG_ERR_* with errbuf naming the reason.
 */
int	listen_open(const char *path, mode_t mode, int *bound, char *errbuf,
	    size_t errlen);

#endif

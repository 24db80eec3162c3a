/* SPDX-License-Identifier: ISC */
/*
 * What tapgated makes sure of before it touches its state: the state
 * directory is closed to others and used by this daemon alone, and
 * nothing answers on its socket yet.  (That the files its configuration
 * names exist was checked before, by policy_config_check_paths().)  Each
 * check writes a one-line reason (naming the path and what to do) into
 * err and returns a negative TG_ERR_* when it refuses.
 */
#ifndef TAPGATE_STARTUP_H
#define TAPGATE_STARTUP_H

#include <stddef.h>

/*
 * The state directory dir: created 0700 when missing; it must be a
 * directory owned by the effective user with no permission for group or
 * others (mode & 077 == 0), else TG_ERR_PERM naming the mode and the fix.
 */
int	startup_state_dir(const char *dir, char *err, size_t errlen);

/*
 * Take the state directory's exclusive lock (store_lock()) before the
 * database, the key or the socket are touched: a second daemon on the
 * same state stops here, with the holder's pid in the message
 * (TG_ERR_BUSY).  The descriptor to keep open for the daemon's life in
 * *fdp.
 */
int	startup_lock(const char *dir, int *fdp, char *err, size_t errlen);

/*
 * The API socket path is free: nothing is there, or a stale socket file
 * that nobody accepts on (listen_open() replaces it, under the lock).  A
 * socket a process answers on, or a path that is not a socket, is
 * TG_ERR_BUSY / TG_ERR_INVALID.  Nothing to check when systemd passes
 * the socket.
 */
int	startup_socket_free(const char *path, char *err, size_t errlen);

#endif /* TAPGATE_STARTUP_H */

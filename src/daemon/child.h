/* SPDX-License-Identifier: ISC */
/*
 * The daemon's children (the front, the hook runner): waiting for one
 * with a deadline, stopping one, and saying how one ended.
 */
#ifndef TAPGATE_CHILD_H
#define TAPGATE_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Wait up to ms milliseconds for pid to end.  1 when it ended (*status,
 * if not NULL, says how), 0 when it still runs, -1 when it is not a child
 * to wait for (reaped already).
 */
int	child_wait(pid_t pid, int ms, int *status);

/* Give pid grace_ms to end, then kill it (SIGKILL); reaped either way. */
void	child_stop(pid_t pid, int grace_ms);

/* "was killed by signal N (name)" or "exited with status N". */
void	child_describe(int status, char *out, size_t len);

#endif

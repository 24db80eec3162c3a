/* SPDX-License-Identifier: ISC */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/child.h"

#define POLL_MS		20

int
child_wait(pid_t pid, int ms, int *status)
{
	pid_t w;
	int st, waited = 0;

	for (;;) {
		if ((w = waitpid(pid, &st, WNOHANG)) == pid) {
			if (status != NULL)
				*status = st;
			return 1;
		}
		if (w < 0)
			return -1;
		if (waited >= ms)
			return 0;
		usleep(POLL_MS * 1000);
		waited += POLL_MS;
	}
}

void
child_stop(pid_t pid, int grace_ms)
{
	if (pid > 0 && child_wait(pid, grace_ms, NULL) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

void
child_describe(int status, char *out, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(out, len, "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "exited with status %d",
		    WEXITSTATUS(status));
}

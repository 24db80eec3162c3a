/* SPDX-License-Identifier: ISC */
/*
 * libfido2 custom I/O for softfido: one 64-byte CTAPHID report per
 * SOCK_SEQPACKET packet, no report-ID byte on the wire.  libfido2 keeps
 * doing the CTAPHID framing itself, so the code path under test is the one
 * real keys go through.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "token_int.h"

#define SF_REPORT	64
#define SF_RETRY_MS	20

struct sf_conn {
	int		fd;
	enum sf_state	state;
};

static _Thread_local int sf_connect_wait_ms;
static _Thread_local int sf_open_errno;
static _Thread_local enum sf_state sf_closed_state;

void
sf_io_prepare(int connect_wait_ms)
{
	sf_connect_wait_ms = connect_wait_ms > 0 ? connect_wait_ms : 0;
	sf_open_errno = 0;
	sf_closed_state = SF_OK;
}

int
sf_io_open_errno(void)
{
	return sf_open_errno;
}

enum sf_state
sf_io_closed_state(void)
{
	return sf_closed_state;
}

enum sf_state
sf_conn_state(const void *handle)
{
	const struct sf_conn *c = handle;

	return c == NULL ? SF_GONE : c->state;
}

void
sf_conn_clear(void *handle)
{
	struct sf_conn *c = handle;

	/* A vanished peer stays vanished; a timeout is per operation. */
	if (c != NULL && c->state != SF_GONE)
		c->state = SF_OK;
}

static int
sf_connect(const char *path)
{
	struct sockaddr_un	sa;
	uint64_t		deadline;
	int			fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	deadline = token_now_ms() + (uint64_t)sf_connect_wait_ms;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd == -1)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		e = errno;
		close(fd);
		/* Only "nobody listens yet" is worth waiting for. */
		if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) ||
		    token_now_ms() >= deadline) {
			errno = e;
			return -1;
		}
		usleep(SF_RETRY_MS * 1000);
	}
}

static void *
sf_open(const char *path)
{
	struct sf_conn	*c;
	int		 fd;

	if ((fd = sf_connect(path)) == -1) {
		sf_open_errno = errno;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		sf_open_errno = ENOMEM;
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->state = SF_OK;
	sf_open_errno = 0;
	return c;
}

static void
sf_close(void *handle)
{
	struct sf_conn *c = handle;

	if (c == NULL)
		return;
	/* libfido2 closes on a failed open: keep why for the caller. */
	sf_closed_state = c->state;
	close(c->fd);
	free(c);
}

static int
sf_gone_errno(int e)
{
	return e == EPIPE || e == ECONNRESET || e == ENOTCONN ||
	    e == ECONNREFUSED || e == EBADF;
}

static int
sf_write(void *handle, const unsigned char *buf, size_t len)
{
	struct sf_conn	*c = handle;
	ssize_t		 n;

	/* libfido2 prepends report ID 0; the socket carries the frame. */
	if (len != SF_REPORT + 1 || buf[0] != 0)
		return -1;
	if (c->state == SF_GONE)
		return -1;
	do {
		n = send(c->fd, buf + 1, SF_REPORT, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (sf_gone_errno(errno))
			c->state = SF_GONE;
		return -1;
	}
	if (n != SF_REPORT)
		return -1;
	return (int)len;
}

static int
sf_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct sf_conn	*c = handle;
	struct pollfd	 pfd;
	uint64_t	 deadline = 0;
	ssize_t		 n;
	int		 left, r;

	if (len != SF_REPORT || c->state == SF_GONE)
		return -1;
	if (ms >= 0)
		deadline = token_now_ms() + (uint64_t)ms;
	for (;;) {
		left = -1;
		if (ms >= 0) {
			uint64_t t = token_now_ms();

			left = t >= deadline ? 0 : (int)(deadline - t);
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			c->state = SF_GONE;
			return -1;
		}
		if (r == 0) {
			c->state = SF_TIMEOUT;
			return -1;
		}
		break;
	}
	/* MSG_TRUNC reports the real size: a longer packet is an error. */
	do {
		n = recv(c->fd, buf, len, MSG_TRUNC);
	} while (n == -1 && errno == EINTR);
	if (n == 0 || (n == -1 && sf_gone_errno(errno))) {
		c->state = SF_GONE;
		return -1;
	}
	if (n != SF_REPORT) {
		c->state = SF_BADFRAME;
		return -1;
	}
	return (int)n;
}

const fido_dev_io_t sf_io = {
	sf_open,
	sf_close,
	sf_read,
	sf_write,
};

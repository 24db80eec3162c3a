/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/uhttp.h"

static long long
uhttp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
uhttp_wait(int fd, short ev, long long deadline)
{
	struct pollfd pfd = { fd, ev, 0 };
	long long left;
	int n;

	for (;;) {
		if ((left = deadline - uhttp_now_ms()) <= 0)
			return TG_ERR_TIMEOUT;
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return TG_ERR_IO;
	}
}

static int
uhttp_send_all(int fd, const char *p, size_t len, long long deadline)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((r = uhttp_wait(fd, POLLOUT, deadline)) != 0)
			return r;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return TG_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Parse "HTTP/1.x SSS ..." headers; find Content-Length and the body. */
static int
uhttp_parse(char *buf, size_t len, struct uhttp_response *res)
{
	char *hend, *line, *next, *body;
	long long clen = -1;
	size_t blen;
	int status;

	if ((hend = strstr(buf, "\r\n\r\n")) == NULL)
		return TG_ERR_PROTOCOL;
	*hend = '\0';
	body = hend + 4;
	blen = len - (size_t)(body - buf);
	if (sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 ||
	    status > 599)
		return TG_ERR_PROTOCOL;
	for (line = strstr(buf, "\r\n"); line != NULL; line = next) {
		line += 2;
		next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		if (strncasecmp(line, "Content-Length:", 15) == 0) {
			char *end;

			clen = strtoll(line + 15, &end, 10);
			if (clen < 0 || *end != '\0')
				return TG_ERR_PROTOCOL;
		}
	}
	if (clen >= 0) {
		if ((size_t)clen > blen)
			return TG_ERR_PROTOCOL;	/* cut short */
		blen = (size_t)clen;
	}
	if ((res->body = malloc(blen + 1)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(res->body, body, blen);
	res->body[blen] = '\0';
	res->body_len = blen;
	res->status = status;
	return 0;
}

int
uhttp_request(const char *path, const char *method, const char *target,
    const char *body, const char *const *headers, size_t nheaders,
    int timeout_ms, struct uhttp_response *res)
{
	struct sockaddr_un sun;
	long long deadline = uhttp_now_ms() + timeout_ms;
	char head[4096], *buf = NULL, *p;
	size_t blen = body ? strlen(body) : 0, len = 0, cap = 0, i;
	int fd = -1, r, n;
	ssize_t got;

	memset(res, 0, sizeof(*res));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return TG_ERR_TOO_LONG;
	memcpy(sun.sun_path, path, strlen(path));
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: tapgated\r\n"
	    "Connection: close\r\n", method, target);
	if (n < 0 || (size_t)n >= sizeof(head))
		return TG_ERR_TOO_LONG;
	for (i = 0; i < nheaders; i++) {
		r = snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n",
		    headers[i]);
		if (r < 0 || (size_t)r >= sizeof(head) - (size_t)n)
			return TG_ERR_TOO_LONG;
		n += r;
	}
	r = snprintf(head + n, sizeof(head) - (size_t)n, body ?
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n" :
	    "\r\n", blen);
	if (r < 0 || (size_t)r >= sizeof(head) - (size_t)n)
		return TG_ERR_TOO_LONG;
	n += r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		res->sys_errno = errno;
		r = TG_ERR_IO;
		goto out;
	}
	res->connected = 1;
	if ((r = uhttp_send_all(fd, head, (size_t)n, deadline)) != 0 ||
	    (blen > 0 && (r = uhttp_send_all(fd, body, blen, deadline)) != 0))
		goto io;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			if (cap >= UHTTP_MAX_RESPONSE) {
				r = TG_ERR_TOO_LONG;
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if ((p = realloc(buf, cap)) == NULL) {
				r = TG_ERR_NOMEM;
				goto out;
			}
			buf = p;
		}
		if ((r = uhttp_wait(fd, POLLIN, deadline)) != 0)
			goto io;
		got = recv(fd, buf + len, cap - len - 1, 0);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0) {
			r = TG_ERR_IO;
			goto io;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (buf == NULL) {
		r = TG_ERR_PROTOCOL;
		goto out;
	}
	buf[len] = '\0';
	r = uhttp_parse(buf, len, res);
	goto out;
io:
	/* errno of the send, poll or recv that failed; 0 for a timeout */
	res->sys_errno = r == TG_ERR_IO ? errno : 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

void
uhttp_response_clear(struct uhttp_response *res)
{
	if (res == NULL)
		return;
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
}

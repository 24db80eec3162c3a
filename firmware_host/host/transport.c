/* SPDX-License-Identifier: ISC */
/*
 * softfido's "USB": a Unix SOCK_SEQPACKET socket carrying one 64-byte HID
 * report per packet in both directions.  A host process connecting is a
 * host opening the device; it may close and come back, and the device, which
 * stays plugged in, keeps its channels meanwhile.  One host at a time: the
 * next connection waits in the backlog until the current one closes.
 *
 * The control socket (SOCK_STREAM, one text line per command) lets tests
 * press, refuse or ignore the button and switch faults on, also while a
 * command waits for a touch.  A few control clients are served at once, so
 * one that keeps its connection open does not lock the others out.
 *
 * Every socket is non-blocking: softfido must never hang on a host that
 * stopped reading, nor die of one that went away (MSG_NOSIGNAL).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "ctaphid.h"
#include "hal.h"

#define LISTEN_BACKLOG		8
#define SEND_STALL_MS		2000	/* a host not reading for this long */
/* --ctl: how long to wait for softfido */
#define CTL_CLIENT_WAIT_MS	5000
#define CTL_CONNS		4	/* control clients served at once */

struct listener {
	int		 fd;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t		 dev;		/* the file we created, to unlink it */
	ino_t		 ino;		/* only if it is still ours */
};

static struct listener	hid_l = { .fd = -1 };
static struct listener	ctl_l = { .fd = -1 };
static int		hid_conn = -1;
static int		hid_lost;	/* hal_hid_send dropped the host */
static struct ctl_conn {
	int		 fd;
	size_t		 len;
	char		 buf[BOARD_CTL_LINE_MAX];
}			ctl[CTL_CONNS];	/* fd -1: free (transport_open) */

static int
make_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/*
 * Refuse to take over a path that is not a stale socket: a regular file, or
 * a socket somebody still serves.
 */
static int
check_path_free(const char *path, int type)
{
	struct sockaddr_un	sa;
	struct stat		st;
	int			fd, r = -1;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		board_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		board_warn("%s exists and is not a socket; not replacing it",
		    path);
		return -1;
	}
	if (make_addr(path, &sa) != 0 ||
	    (fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0)) < 0) {
		board_warn("%s: cannot probe: %s", path, strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		board_warn("%s: another process serves this socket", path);
	else if (errno == ECONNREFUSED)
		r = 0;		/* left over from a process that died */
	else
		board_warn("%s: in use or unusable: %s", path,
		    strerror(errno));
	close(fd);
	return r;
}

/*
 * Bind under a temporary name, listen, then rename into place: the path only
 * ever appears once it accepts connections, so clients that wait for it
 * never see a refused connect, and a stale socket is replaced atomically.
 */
static int
listen_at(struct listener *l, const char *path, int type)
{
	struct sockaddr_un	sa;
	struct stat		st;
	char			tmp[sizeof(sa.sun_path)];
	mode_t			omask;
	int			fd = -1, n, bound = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) || make_addr(tmp, &sa) != 0) {
		board_warn("%s: socket path too long (at most %zu bytes)",
		    path, sizeof(tmp) - 20);
		return -1;
	}
	if (check_path_free(path, type) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0) {
		board_warn("socket: %s", strerror(errno));
		goto fail;
	}
	(void)unlink(tmp);
	omask = umask(0077);	/* the key answers its owner only */
	n = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(omask);
	if (n != 0) {
		board_warn("bind %s: %s", tmp, strerror(errno));
		goto fail;
	}
	bound = 1;
	if (listen(fd, LISTEN_BACKLOG) != 0 || rename(tmp, path) != 0 ||
	    lstat(path, &st) != 0) {
		board_warn("%s: %s", path, strerror(errno));
		goto fail;
	}
	l->fd = fd;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
fail:
	if (bound)
		(void)unlink(tmp);
	if (fd >= 0)
		close(fd);
	return -1;
}

static void
listener_close(struct listener *l)
{
	struct stat	st;

	if (l->fd < 0)
		return;
	close(l->fd);
	l->fd = -1;
	/* someone may have replaced it meanwhile: leave theirs alone */
	if (lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		(void)unlink(l->path);
}

int
transport_open(const char *hid_path, const char *ctl_path)
{
	size_t	i;

	for (i = 0; i < CTL_CONNS; i++)
		ctl[i].fd = -1;
	if (listen_at(&hid_l, hid_path, SOCK_SEQPACKET) != 0)
		return -1;
	if (listen_at(&ctl_l, ctl_path, SOCK_STREAM) != 0) {
		listener_close(&hid_l);
		return -1;
	}
	return 0;
}

static void
hid_drop(const char *why)
{
	if (hid_conn < 0)
		return;
	close(hid_conn);
	hid_conn = -1;
	board_debug("host %s", why);
}

static void
ctl_drop(struct ctl_conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void
transport_close(void)
{
	size_t	i;

	hid_drop("dropped: shutting down");
	for (i = 0; i < CTL_CONNS; i++)
		ctl_drop(&ctl[i]);
	listener_close(&hid_l);
	listener_close(&ctl_l);
}

static void
log_frame(const char *dir, const uint8_t *r)
{
	unsigned long	cid;

	if (!board_verbose)
		return;
	cid = (unsigned long)r[0] << 24 | (unsigned long)r[1] << 16 |
	    (unsigned long)r[2] << 8 | r[3];
	if (r[4] & 0x80)
		board_debug("%s cid=%08lx cmd=0x%02x len=%u%s%02x", dir, cid,
		    r[4], (unsigned)r[5] << 8 | r[6],
		    r[4] == CTAPHID_CBOR ? " ctap=0x" :
		    r[4] == CTAPHID_ERROR || r[4] == CTAPHID_KEEPALIVE ?
		    " code=0x" : " data=0x", r[7]);
	else
		board_debug("%s cid=%08lx seq=%u", dir, cid, r[4]);
}

void
hal_hid_send(const uint8_t report[64])
{
	struct pollfd	pfd;
	ssize_t		n;

	if (hid_conn < 0) {
		board_debug("no host connected: report dropped");
		return;
	}
	log_frame("tx", report);
	for (;;) {
		n = send(hid_conn, report, CTAPHID_REPORT,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == CTAPHID_REPORT)
			return;
		if (n >= 0) {		/* a datagram goes whole or not */
			errno = EIO;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		pfd.fd = hid_conn;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, SEND_STALL_MS) <= 0 ||
		    (pfd.revents & POLLOUT) == 0) {
			errno = ETIMEDOUT;
			break;
		}
	}
	board_debug("send: %s", strerror(errno));
	/* tell whoever waits (hal_user_presence) that the host is gone */
	hid_drop("gone while we were sending");
	hid_lost = 1;
}

static void
ctl_send(struct ctl_conn *c, const char *ans)
{
	size_t	len = strlen(ans);

	/* answers are short: a client with a full buffer is dropped */
	if (send(c->fd, ans, len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)len)
		ctl_drop(c);
}

/* Read what a control client sent and answer each complete line. */
static void
ctl_read(struct ctl_conn *c)
{
	char		 ans[512];
	char		*nl;
	ssize_t		 n;
	size_t		 linelen;
	int		 nul;

	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		ctl_drop(c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		linelen = (size_t)(nl - c->buf);
		nul = memchr(c->buf, '\0', linelen) != NULL;
		*nl = '\0';
		if (linelen > 0 && c->buf[linelen - 1] == '\r')
			c->buf[linelen - 1] = '\0';
		if (nul)
			snprintf(ans, sizeof(ans),
			    "error: NUL byte in command\n");
		else
			board_control(c->buf, ans, sizeof(ans));
		board_debug("control: %s -> %.*s", c->buf,
		    (int)strcspn(ans, "\n"), ans);
		ctl_send(c, ans);
		if (c->fd < 0)
			return;
		memmove(c->buf, nl + 1, c->len - linelen - 1);
		c->len -= linelen + 1;
	}
	if (c->len == sizeof(c->buf)) {
		snprintf(ans, sizeof(ans), "error: line too long (at most "
		    "%d bytes)\n", BOARD_CTL_LINE_MAX - 1);
		ctl_send(c, ans);
		ctl_drop(c);
	}
}

static int
accept_one(int lfd)
{
	int	fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR && errno != ECONNABORTED)
		board_warn("accept: %s", strerror(errno));
	return fd;
}

/* Read one packet from the host. */
static enum transport_event
hid_read(short revents, uint8_t report[CTAPHID_REPORT])
{
	ssize_t	n;

	/* MSG_TRUNC: the packet's real size, so a long one is noticed */
	n = recv(hid_conn, report, CTAPHID_REPORT, MSG_DONTWAIT | MSG_TRUNC);
	if (n == CTAPHID_REPORT) {
		log_frame("rx", report);
		return TRANSPORT_REPORT;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return TRANSPORT_NONE;
	if (n < 0 || (n == 0 && (revents & (POLLHUP | POLLRDHUP | POLLERR))))
	{
		hid_drop("disconnected");
		return TRANSPORT_HANGUP;
	}
	board_warn("dropped a %zd-byte packet: reports are %d bytes", n,
	    CTAPHID_REPORT);
	return TRANSPORT_NONE;
}

enum transport_event
transport_wait(int timeout_ms, uint8_t report[CTAPHID_REPORT])
{
	struct pollfd	 pfd[3 + CTL_CONNS];
	struct timespec	 ts, *tsp = NULL;
	sigset_t	 none;
	size_t		 i, free_slot = CTL_CONNS;
	int		 fd, r;

	if (hid_lost) {
		hid_lost = 0;
		return TRANSPORT_HANGUP;
	}
	if (board_stop)
		return TRANSPORT_NONE;
	/* a negative fd is skipped by poll: each socket when it matters */
	memset(pfd, 0, sizeof(pfd));
	for (i = 0; i < CTL_CONNS; i++) {
		pfd[3 + i].fd = ctl[i].fd;
		if (ctl[i].fd < 0)
			free_slot = i;
	}
	pfd[0].fd = hid_conn < 0 ? hid_l.fd : -1;
	pfd[1].fd = hid_conn;
	pfd[2].fd = free_slot < CTL_CONNS ? ctl_l.fd : -1;
	for (i = 0; i < 3 + CTL_CONNS; i++)
		pfd[i].events = POLLIN | (i == 1 ? POLLRDHUP : 0);
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	/* SIGTERM and SIGINT are blocked except right here: no lost wakeup */
	sigemptyset(&none);
	if ((r = ppoll(pfd, 3 + CTL_CONNS, tsp, &none)) <= 0) {
		if (r < 0 && errno != EINTR)
			board_warn("poll: %s", strerror(errno));
		return TRANSPORT_NONE;
	}
	for (i = 0; i < CTL_CONNS; i++)
		if (pfd[3 + i].revents != 0)
			ctl_read(&ctl[i]);
	if (pfd[2].revents != 0 && (fd = accept_one(ctl_l.fd)) >= 0)
		ctl[free_slot].fd = fd;
	if (pfd[0].revents != 0 && (fd = accept_one(hid_l.fd)) >= 0) {
		hid_conn = fd;
		board_debug("host connected");
	}
	if (pfd[1].revents != 0 && hid_conn >= 0)
		return hid_read(pfd[1].revents, report);
	return TRANSPORT_NONE;
}

int
transport_ctl_client(const char *ctl_path, const char *line)
{
	struct sockaddr_un	 sa;
	struct pollfd		 pfd;
	struct iovec		 iov[2];
	struct msghdr		 mh;
	char			 ans[512], nl[1] = { '\n' };
	size_t			 got = 0, len = strlen(line);
	ssize_t			 n;
	int			 fd = -1, rc = 1;

	if (make_addr(ctl_path, &sa) != 0) {
		fprintf(stderr, "softfido: %s: path too long\n", ctl_path);
		return 1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "softfido: cannot connect to %s: %s\n",
		    ctl_path, strerror(errno));
		goto out;
	}
	/* one call: softfido may close as soon as it saw too long a line */
	iov[0].iov_base = (void *)(uintptr_t)line;
	iov[0].iov_len = len;
	iov[1].iov_base = nl;
	iov[1].iov_len = 1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)len + 1) {
		fprintf(stderr, "softfido: %s: send: %s\n", ctl_path,
		    strerror(errno));
		goto out;
	}
	(void)shutdown(fd, SHUT_WR);
	while (got < sizeof(ans) - 1 && memchr(ans, '\n', got) == NULL) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, CTL_CLIENT_WAIT_MS) <= 0) {
			fprintf(stderr, "softfido: %s: no answer\n", ctl_path);
			goto out;
		}
		if ((n = recv(fd, ans + got, sizeof(ans) - 1 - got, 0)) <= 0)
			break;
		got += (size_t)n;
	}
	ans[got] = '\0';
	if (got == 0 || ans[got - 1] != '\n') {
		fprintf(stderr, "softfido: %s: truncated answer\n", ctl_path);
		goto out;
	}
	fputs(ans, stdout);
	if (strncmp(ans, "ok", 2) == 0 && (ans[2] == '\n' || ans[2] == ' '))
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * PIN input.  Like OpenBSD's readpassphrase(3): echo off on /dev/tty, and
 * a signal during the prompt restores the terminal before it takes effect.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "errors.h"
#include "pinread.h"

static const int pin_signals[] = {
	SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP,
	SIGTTIN, SIGTTOU,
};
#define NSIG_PIN (sizeof(pin_signals) / sizeof(pin_signals[0]))

static volatile sig_atomic_t pin_caught;

static void
pin_handler(int sig)
{
	pin_caught = sig;
}

bool
pinread_interactive(void)
{
	return isatty(STDIN_FILENO) == 1;
}

/*
 * One line from fd into buf, one byte per read(2) so nothing after the
 * newline is consumed and no copy is left in a stdio buffer.
 */
static int
read_line(int fd, char *buf, size_t size)
{
	size_t	n = 0;
	int	too_long = 0, any = 0;
	char	c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r == -1 && errno == EINTR) {
			if (pin_caught != 0)
				return TG_ERR_CANCELLED;
			continue;
		}
		if (r == -1)
			return TG_ERR_IO;
		if (r == 0) {
			if (!any)
				return TG_ERR_IO;
			break;
		}
		any = 1;
		if (c == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = c;
		else
			too_long = 1;
	}
	c = 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return too_long ? TG_ERR_TOO_LONG : 0;
}

static int
read_tty(const char *prompt, char *buf, size_t size)
{
	struct sigaction	sa, saved[NSIG_PIN];
	struct termios		old, noecho;
	int			fd, r, sig;

restart:
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return TG_ERR_IO;
	if (tcgetattr(fd, &old) == -1) {
		close(fd);
		return TG_ERR_IO;
	}
	pin_caught = 0;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: read(2) must see EINTR */
	sa.sa_handler = pin_handler;
	for (size_t i = 0; i < NSIG_PIN; i++)
		sigaction(pin_signals[i], &sa, &saved[i]);
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &noecho) == -1) {
		r = TG_ERR_IO;
		goto restore;
	}
	if (prompt != NULL)
		(void)!write(fd, prompt, strlen(prompt));
	r = read_line(fd, buf, size);
	(void)!write(fd, "\n", 1);
restore:
	while (tcsetattr(fd, TCSAFLUSH, &old) == -1 && errno == EINTR &&
	    pin_caught != SIGTTOU)
		continue;
	for (size_t i = 0; i < NSIG_PIN; i++)
		sigaction(pin_signals[i], &saved[i], NULL);
	close(fd);
	/* Let the signal act now that the terminal echoes again. */
	if ((sig = pin_caught) != 0) {
		explicit_bzero(buf, size);
		kill(getpid(), sig);
		if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			goto restart;	/* stopped, then continued */
		return TG_ERR_CANCELLED;
	}
	return r;
}

int
pinread_line(const char *prompt, char *buf, size_t size)
{
	int r;

	if (buf == NULL || size < 2)
		return TG_ERR_INVALID;
	if (pinread_interactive())
		r = read_tty(prompt, buf, size);
	else
		r = read_line(STDIN_FILENO, buf, size);
	if (r != 0)
		explicit_bzero(buf, size);
	return r;
}

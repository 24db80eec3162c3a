/* SPDX-License-Identifier: ISC */
/*
 * Reading a PIN from a person or a pipe, never from argv: from the
 * controlling terminal without echo when standard input is a terminal,
 * otherwise one line of standard input.  Nothing is buffered by stdio, so
 * the caller's buffer is the only copy; wipe it with explicit_bzero().
 */
#ifndef TAPGATE_PINREAD_H
#define TAPGATE_PINREAD_H

#include <stdbool.h>
#include <stddef.h>

/* Whether pinread_line() will prompt on a terminal (stdin is a tty). */
bool	pinread_interactive(void);

/*
 * Read one PIN into buf (size bytes, NUL-terminated; the newline, and a
 * CR before it, dropped).  prompt is shown on the terminal only.  Returns
 * 0; TG_ERR_TOO_LONG when the line does not fit (the rest of the line is
 * consumed); TG_ERR_IO at end of input before any character or when the
 * terminal cannot be used; TG_ERR_CANCELLED when a signal interrupted the
 * prompt (the terminal is restored first).  buf is wiped on failure.
 */
int	pinread_line(const char *prompt, char *buf, size_t size);

#endif /* TAPGATE_PINREAD_H */

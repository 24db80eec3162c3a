/* SPDX-License-Identifier: ISC */
/*
 * softfido's host board: what main.c, the transport, the button and the
 * flash file share.  Nothing here is seen by the portable core, which only
 * knows hal.h.
 */
#ifndef SOFTFIDO_BOARD_H
#define SOFTFIDO_BOARD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ctaphid.h"

#define BOARD_UP_TIMEOUT_MS	30000	/* default touch window */
#define BOARD_KEEPALIVE_MS	100	/* KEEPALIVE interval while waiting */
#define BOARD_DELAY_MAX_MS	3600000	/* bound on delay:MS and the window */
#define BOARD_CTL_LINE_MAX	256	/* a control line, newline included */

enum button_mode {
	BUTTON_AUTO,	/* touched at once */
	BUTTON_REFUSE,	/* the user refuses: HAL_UP_DENIED */
	BUTTON_NEVER,	/* nobody touches: HAL_UP_TIMEOUT after the window */
	BUTTON_DELAY,	/* touched delay_ms after the wait (or change) began */
};

struct button {
	enum button_mode	mode;
	uint32_t		delay_ms;
};

/* The one CTAPHID instance of the device. */
extern struct ctaphid		board_hid;
/* Set by SIGTERM and SIGINT: stop serving. */
extern volatile sig_atomic_t	board_stop;
/* -v: log frames and commands to stderr. */
extern int			board_verbose;
/* The touch window for every mode (--up-timeout). */
extern uint32_t			board_up_timeout_ms;

/* Log to stderr, always (warnings) or only with -v. */
void	board_warn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	board_debug(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * Button and faults (board.c).  The parsers return 0 or -1 and set their
 * output only on success.
 */
int	board_button_parse(const char *s, struct button *b);
/* Milliseconds: decimal digits only, at most BOARD_DELAY_MAX_MS. */
int	board_parse_ms(const char *s, uint32_t *ms);
void	board_button_set(const struct button *b);
int	board_fault_parse(const char *name, uint32_t *bit);
void	board_faults_set(uint32_t bits);
uint32_t board_faults_get(void);

/*
 * Run one control command line (no newline).  Writes the answer, one line
 * ending in "\n" that starts with "ok" or "error: ", to ans (cap bytes).
 */
void	board_control(const char *line, char *ans, size_t cap);

/* The state file (flash.c); set before ctap2_init().  -1: too long. */
int	flash_set_path(const char *path);

/*
 * Transport (transport.c): the HID socket, SOCK_SEQPACKET with one 64-byte
 * report per packet, one connection at a time; and the control socket,
 * SOCK_STREAM with one text line per command.
 */
enum transport_event {
	TRANSPORT_NONE,		/* timeout, signal, or only housekeeping */
	TRANSPORT_REPORT,	/* a report from the host */
	TRANSPORT_HANGUP,	/* the host closed its connection */
};

/* Bind and listen on both paths; -1 with a message on error. */
int	transport_open(const char *hid_path, const char *ctl_path);
/* Close every socket and unlink the paths we created. */
void	transport_close(void);
/*
 * Wait up to timeout_ms (with SIGTERM/SIGINT deliverable meanwhile) and
 * serve the listening and control sockets on the way.  Returns
 * TRANSPORT_REPORT with the report copied out when one arrived.
 */
enum transport_event transport_wait(int timeout_ms,
	    uint8_t report[CTAPHID_REPORT]);
/* The client mode: send one command line, print the answer; exit status. */
int	transport_ctl_client(const char *ctl_path, const char *line);

#endif /* SOFTFIDO_BOARD_H */

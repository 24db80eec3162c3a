/* SPDX-License-Identifier: ISC */
/*
 * softfido's board: the scriptable button, the fault switches, the clock,
 * the wink "LED", logging, and the text commands of the control socket.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "board.h"
#include "ctaphid.h"
#include "hal.h"

struct ctaphid			board_hid;
volatile sig_atomic_t		board_stop;
int				board_verbose;
uint32_t			board_up_timeout_ms = BOARD_UP_TIMEOUT_MS;

static struct button		button = { BUTTON_AUTO, 0 };
/* the button's delay counts from here */
static uint64_t			button_changed_ms;
static uint32_t			fault_bits;

static const struct {
	const char	*name;
	uint32_t	 bit;
} faults[] = {
	{ "bad-signature",	HAL_FAULT_BAD_SIGNATURE },
	{ "counter-backwards",	HAL_FAULT_COUNTER_BACKWARDS },
	{ "wrong-rpid",		HAL_FAULT_WRONG_RPID },
	{ "no-up",		HAL_FAULT_NO_UP },
	{ "no-uv",		HAL_FAULT_NO_UV },
	{ "malformed-cbor",	HAL_FAULT_MALFORMED_CBOR },
};
#define NFAULTS	(sizeof(faults) / sizeof(faults[0]))

#define BUTTON_MODES	"auto, refuse, never, delay:MS"

static void
vlog(const char *fmt, va_list ap)
{
	char	line[512];

	/* one write per line, so lines of concurrent tests do not interleave */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "softfido: %s\n", line);
}

void
board_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
board_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!board_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

uint64_t
hal_millis(void)
{
	struct timespec	ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
hal_wink(void)
{
	board_warn("wink");
}

uint32_t
hal_faults(void)
{
	return fault_bits;
}

int
board_parse_ms(const char *s, uint32_t *ms)
{
	uint32_t	v = 0;
	size_t		i;

	/* digits only: strtoul would take "-1", " 5" and "0x10" */
	if (s[0] == '\0' || strlen(s) > 7)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > BOARD_DELAY_MAX_MS)
		return -1;
	*ms = v;
	return 0;
}

int
board_button_parse(const char *s, struct button *b)
{
	struct button	nb = { BUTTON_AUTO, 0 };

	if (strcmp(s, "auto") == 0)
		nb.mode = BUTTON_AUTO;
	else if (strcmp(s, "refuse") == 0)
		nb.mode = BUTTON_REFUSE;
	else if (strcmp(s, "never") == 0)
		nb.mode = BUTTON_NEVER;
	else if (strncmp(s, "delay:", 6) == 0 &&
	    board_parse_ms(s + 6, &nb.delay_ms) == 0)
		nb.mode = BUTTON_DELAY;
	else
		return -1;
	*b = nb;
	return 0;
}

static void
button_name(const struct button *b, char *out, size_t cap)
{
	switch (b->mode) {
	case BUTTON_AUTO:
		snprintf(out, cap, "auto");
		break;
	case BUTTON_REFUSE:
		snprintf(out, cap, "refuse");
		break;
	case BUTTON_NEVER:
		snprintf(out, cap, "never");
		break;
	case BUTTON_DELAY:
		snprintf(out, cap, "delay:%lu", (unsigned long)b->delay_ms);
		break;
	}
}

void
board_button_set(const struct button *b)
{
	char	name[32];

	button = *b;
	button_changed_ms = hal_millis();
	button_name(b, name, sizeof(name));
	board_debug("button %s", name);
}

int
board_fault_parse(const char *name, uint32_t *bit)
{
	size_t	i;

	if (strcmp(name, "none") == 0) {
		*bit = 0;
		return 0;
	}
	for (i = 0; i < NFAULTS; i++)
		if (strcmp(name, faults[i].name) == 0) {
			*bit = faults[i].bit;
			return 0;
		}
	return -1;
}

void
board_faults_set(uint32_t bits)
{
	fault_bits = bits;
	board_debug("faults 0x%02lx", (unsigned long)bits);
}

uint32_t
board_faults_get(void)
{
	return fault_bits;
}

static void
fault_names(uint32_t bits, char *out, size_t cap)
{
	size_t	i, n = 0;

	out[0] = '\0';
	for (i = 0; i < NFAULTS; i++)
		if ((bits & faults[i].bit) != 0 && n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%s",
			    n > 0 ? "," : "", faults[i].name);
	if (n == 0)
		snprintf(out, cap, "none");
}

/* Quote untrusted text in an answer: printable ASCII only, bounded. */
static void
quote(const char *s, char *out, size_t cap)
{
	size_t	i, n = cap - 4;	/* room for "..." and the NUL */

	for (i = 0; s[i] != '\0' && i < n; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

void
board_control(const char *line, char *ans, size_t cap)
{
	char		 cmd[BOARD_CTL_LINE_MAX], q[40];
	char		*arg, *extra;
	struct button	 b;
	uint32_t	 bit;
	char		 bname[32], fnames[128];

	snprintf(cmd, sizeof(cmd), "%s", line);
	if ((arg = strchr(cmd, ' ')) != NULL) {
		*arg++ = '\0';
		if ((extra = strchr(arg, ' ')) != NULL) {
			quote(extra + 1, q, sizeof(q));
			snprintf(ans, cap, "error: unexpected argument '%s'\n",
			    q);
			return;
		}
	}
	if (strcmp(cmd, "button") == 0) {
		if (arg == NULL || board_button_parse(arg, &b) != 0) {
			quote(arg != NULL ? arg : "", q, sizeof(q));
			snprintf(ans, cap, "error: button mode '%s' is none of "
			    BUTTON_MODES " (MS <= %u)\n", q,
			    BOARD_DELAY_MAX_MS);
			return;
		}
		board_button_set(&b);
	} else if (strcmp(cmd, "fault") == 0) {
		if (arg == NULL || board_fault_parse(arg, &bit) != 0) {
			quote(arg != NULL ? arg : "", q, sizeof(q));
			snprintf(ans, cap, "error: unknown fault '%s' (bad-"
			    "signature, counter-backwards, wrong-rpid, no-up, "
			    "no-uv, malformed-cbor, none)\n", q);
			return;
		}
		board_faults_set(bit == 0 ? 0 : fault_bits | bit);
	} else if (strcmp(cmd, "status") == 0) {
		if (arg != NULL) {
			snprintf(ans, cap, "error: status takes no argument\n");
			return;
		}
		button_name(&button, bname, sizeof(bname));
		fault_names(fault_bits, fnames, sizeof(fnames));
		snprintf(ans, cap, "ok button=%s faults=%s up-timeout=%lu\n",
		    bname, fnames, (unsigned long)board_up_timeout_ms);
		return;
	} else {
		quote(cmd, q, sizeof(q));
		snprintf(ans, cap, "error: unknown command '%s' (button MODE, "
		    "fault NAME, fault none, status)\n", q);
		return;
	}
	snprintf(ans, cap, "ok\n");
}

/*
 * Wait for the touch the button mode promises, for at most the touch window,
 * while the host hears a KEEPALIVE every BOARD_KEEPALIVE_MS and the control
 * socket stays served (a test may change the button meanwhile).
 */
enum hal_up
hal_user_presence(void)
{
	uint8_t		 report[CTAPHID_REPORT];
	uint64_t	 start = hal_millis(), now, next_ka = start, from, end;
	enum hal_up	 r;

	board_debug("waiting for a touch");
	for (;;) {
		now = hal_millis();
		if (board_stop) {
			r = HAL_UP_CANCELLED;
			goto out;
		}
		from = button_changed_ms > start ? button_changed_ms : start;
		if (button.mode == BUTTON_AUTO ||
		    (button.mode == BUTTON_DELAY &&
		    now - from >= button.delay_ms)) {
			r = HAL_UP_OK;
			goto out;
		}
		if (button.mode == BUTTON_REFUSE) {
			r = HAL_UP_DENIED;
			goto out;
		}
		if (now - start >= board_up_timeout_ms) {
			r = HAL_UP_TIMEOUT;
			goto out;
		}
		if (now >= next_ka) {
			ctaphid_keepalive(&board_hid,
			    CTAPHID_KEEPALIVE_UPNEEDED);
			next_ka = now + BOARD_KEEPALIVE_MS;
		}
		end = start + board_up_timeout_ms;
		if (end > next_ka)
			end = next_ka;
		if (button.mode == BUTTON_DELAY && from + button.delay_ms < end)
			end = from + button.delay_ms;
		switch (transport_wait(end > now ? (int)(end - now) : 0,
		    report)) {
		case TRANSPORT_REPORT:
			if (ctaphid_rx_busy(&board_hid, report)) {
				r = HAL_UP_CANCELLED;
				goto out;
			}
			break;
		case TRANSPORT_HANGUP:
			r = HAL_UP_CANCELLED;
			goto out;
		case TRANSPORT_NONE:
			break;
		}
	}
out:
	board_debug("touch wait ends: %s", r == HAL_UP_OK ? "touched" :
	    r == HAL_UP_DENIED ? "refused" : r == HAL_UP_TIMEOUT ?
	    "timed out" : "cancelled");
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * softfido: a FIDO2 authenticator's firmware run on the host.  It serves
 * CTAPHID reports on a Unix socket until SIGTERM or SIGINT.
 *
 *	softfido --socket PATH --state FILE [--control PATH]
 *	    [--button auto|refuse|never|delay:MS] [--fault NAME]...
 *	    [--up-timeout MS] [-v]
 *	softfido --ctl PATH COMMAND...
 */
#include <sys/resource.h>

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "ctap2.h"
#include "ctaphid.h"
#include "hal.h"

#define MAIN_TICK_MS	100	/* how often ctaphid_tick runs when idle */
#define CTL_CLIENT_LINE_MAX	4096	/* --ctl: over softfido's bound */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: softfido --socket PATH --state FILE [--control PATH]\n"
	    "           [--button auto|refuse|never|delay:MS] "
	    "[--fault NAME]...\n"
	    "           [--up-timeout MS] [-v]\n"
	    "       softfido --ctl PATH COMMAND...\n"
	    "       softfido --help | --version\n"
	    "faults: bad-signature counter-backwards wrong-rpid no-up no-uv\n"
	    "        malformed-cbor none\n"
	    "control commands: button MODE | fault NAME | fault none | "
	    "status\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	board_stop = 1;
}

/*
 * SIGTERM and SIGINT stay blocked except inside transport_wait's ppoll, so
 * a signal can never slip in between the check of board_stop and the wait.
 */
static int
setup_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Join argv into one control line; -1 when it is too long. */
static int
join_args(int argc, char **argv, char *line, size_t cap)
{
	size_t	n = 0, len;
	int	i;

	line[0] = '\0';
	for (i = 0; i < argc; i++) {
		len = strlen(argv[i]);
		if (n + len + 2 > cap)
			return -1;
		if (i > 0)
			line[n++] = ' ';
		memcpy(line + n, argv[i], len + 1);
		n += len;
	}
	return 0;
}

static int
serve(const char *sock, const char *ctl)
{
	uint8_t	report[CTAPHID_REPORT];

	ctaphid_init(&board_hid);
	/*
	 * Load (or, on first boot, create) the state before listening: once
	 * the socket path exists the key is ready, and a state file we refuse
	 * leaves no socket behind for clients to hang on.
	 */
	if (ctap2_init() != 0) {
		board_warn("cannot load or create the key's state; not "
		    "starting (the state file is left as it is)");
		return 1;
	}
	if (transport_open(sock, ctl) != 0)
		return 1;
	board_debug("serving %s (control %s)", sock, ctl);
	while (!board_stop) {
		if (transport_wait(MAIN_TICK_MS, report) == TRANSPORT_REPORT)
			ctaphid_rx(&board_hid, report);
		ctaphid_tick(&board_hid);
	}
	board_debug("stopping");
	transport_close();
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket",	required_argument, NULL, 's' },
		{ "state",	required_argument, NULL, 'S' },
		{ "control",	required_argument, NULL, 'c' },
		{ "button",	required_argument, NULL, 'b' },
		{ "fault",	required_argument, NULL, 'f' },
		{ "up-timeout",	required_argument, NULL, 't' },
		{ "ctl",	required_argument, NULL, 'C' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL,		0,		   NULL, 0 }
	};
	const char	*sock = NULL, *state = NULL, *ctl = NULL;
	const char	*client = NULL;
	char		 ctlbuf[PATH_MAX], line[CTL_CLIENT_LINE_MAX];
	struct button	 b;
	struct rlimit	 rl = { 0, 0 };
	uint32_t	 bit, faults = 0;
	int		 ch, server_opts = 0;

	opterr = 0;	/* our own messages, which name the option */
	while ((ch = getopt_long(argc, argv, "+:hvV", longopts, NULL)) != -1) {
		server_opts += ch != 'C' && ch != 'h' && ch != 'V';
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'c':
			ctl = optarg;
			break;
		case 'b':
			if (board_button_parse(optarg, &b) != 0) {
				fprintf(stderr, "softfido: --button '%s': not "
				    "auto, refuse, never or delay:MS (MS <= "
				    "%d)\n", optarg, BOARD_DELAY_MAX_MS);
				return 2;
			}
			board_button_set(&b);
			break;
		case 'f':
			if (board_fault_parse(optarg, &bit) != 0) {
				fprintf(stderr, "softfido: --fault '%s': "
				    "unknown fault\n", optarg);
				usage(stderr);
				return 2;
			}
			faults = bit == 0 ? 0 : faults | bit;
			break;
		case 't':
			if (board_parse_ms(optarg, &board_up_timeout_ms) != 0) {
				fprintf(stderr, "softfido: --up-timeout '%s': "
				    "not a number of milliseconds <= %d\n",
				    optarg, BOARD_DELAY_MAX_MS);
				return 2;
			}
			break;
		case 'C':
			client = optarg;
			break;
		case 'v':
			board_verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		case 'V':
			printf("softfido %s\n", TAPGATE_VERSION);
			return fflush(stdout) == 0 ? 0 : 1;
		case ':':
			fprintf(stderr, "softfido: option '%s' needs an "
			    "argument\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			if (optopt != 0)
				fprintf(stderr, "softfido: unknown option "
				    "'-%c'\n", optopt);
			else
				fprintf(stderr, "softfido: unknown option "
				    "'%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (client != NULL) {
		if (server_opts != 0) {
			fprintf(stderr, "softfido: --ctl takes no other "
			    "option\n");
			return 2;
		}
		if (argc == 0) {
			fprintf(stderr, "softfido: --ctl PATH needs a "
			    "command\n");
			usage(stderr);
			return 2;
		}
		/* softfido itself bounds the line: let it say so */
		if (join_args(argc, argv, line, sizeof(line)) != 0) {
			fprintf(stderr, "softfido: command too long\n");
			return 1;
		}
		return transport_ctl_client(client, line);
	}
	if (argc != 0) {
		fprintf(stderr, "softfido: unexpected argument '%s'\n",
		    argv[0]);
		usage(stderr);
		return 2;
	}
	if (sock == NULL || state == NULL) {
		fprintf(stderr, "softfido: %s is required\n",
		    sock == NULL ? "--socket PATH" : "--state FILE");
		usage(stderr);
		return 2;
	}
	if (flash_set_path(state) != 0) {
		fprintf(stderr, "softfido: --state: path too long\n");
		return 2;
	}
	if (ctl == NULL) {
		if ((size_t)snprintf(ctlbuf, sizeof(ctlbuf), "%s.ctl", sock) >=
		    sizeof(ctlbuf)) {
			fprintf(stderr, "softfido: --socket: path too long\n");
			return 2;
		}
		ctl = ctlbuf;
	}
	board_faults_set(faults);
	/* the process holds every private key of the authenticator */
	(void)setrlimit(RLIMIT_CORE, &rl);
	if (setup_signals() != 0) {
		perror("softfido: signals");
		return 1;
	}
	return serve(sock, ctl);
}

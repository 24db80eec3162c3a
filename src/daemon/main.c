/* SPDX-License-Identifier: ISC */
/*
 * tapgated: the approval appliance's daemon.  Serves the HTTP API on a
 * Unix socket (systemd's, or one it binds), keeps the state database and
 * runs the hold timer.  Runs in the foreground; logs to stderr (journald
 * under systemd).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/errors.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/listen.h"
#include "daemon/reqjson.h"

extern const char tapgated_default_config[];

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tapgated [-c CONFIG] [--state-dir DIR] [--socket PATH]\n"
	    "       tapgated --check-config [-c CONFIG]\n"
	    "       tapgated --print-default-config\n"
	    "Without -c the embedded default configuration is used.\n"
	    "Exit status: 0 stopped cleanly, 1 runtime failure, 2 usage or "
	    "configuration error.\n");
	exit(2);
}

static int
set_path(char *dst, size_t cap, const char *src, const char *what)
{
	if (src[0] != '/' || strlen(src) >= cap) {
		fprintf(stderr, "tapgated: %s must be an absolute path shorter "
		    "than %zu bytes\n", what, cap);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "print-default-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tapgated d;
	struct http_server *srv = NULL;
	const char *config = NULL, *state_dir = NULL, *sock = NULL;
	const char *hooks[POLICY_MAX_HOOKS];
	char err[512];
	sigset_t sigs;
	struct timespec tick = { 1, 0 };
	int c, check = 0, fd, bound = 0, r, rc = 1, sig;
	size_t i;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': state_dir = optarg; break;
		case 's': sock = optarg; break;
		case 'k': check = 1; break;
		case 'p':
			fputs(tapgated_default_config, stdout);
			return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	memset(&d, 0, sizeof(d));
	r = config ? policy_config_load_file(config, &d.cfg, err, sizeof(err)) :
	    policy_config_load_string(tapgated_default_config, &d.cfg, err,
	    sizeof(err));
	if (r != 0) {
		fprintf(stderr, "tapgated: %s: %s\n", config ? config :
		    "embedded default", err);
		return 2;
	}
	if (check) {
		printf("%s: configuration OK (policy %s version %lld)\n",
		    config ? config : "embedded default", d.cfg->policy_id,
		    (long long)d.cfg->policy_version);
		policy_config_free(&d.cfg);
		return 0;
	}
	if ((state_dir && set_path(d.cfg->appliance.state_dir,
	    sizeof(d.cfg->appliance.state_dir), state_dir, "--state-dir")) ||
	    (sock && set_path(d.cfg->appliance.socket,
	    sizeof(d.cfg->appliance.socket), sock, "--socket"))) {
		policy_config_free(&d.cfg);
		return 2;
	}
	/* the daemon will hold signing keys: no core dumps, nothing shared */
	prctl(PR_SET_DUMPABLE, 0);
	umask(077);
	pthread_mutex_init(&d.lock, NULL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* threads started below inherit the mask: signals come to sigwait */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = store_open(d.cfg->appliance.state_dir, &d.st)) != 0) {
		fprintf(stderr, "tapgated: state %s: %s\n",
		    d.cfg->appliance.state_dir, tg_strerror(r));
		goto out;
	}
	for (i = 0; i < d.cfg->notify.nhooks; i++)
		hooks[i] = d.cfg->notify.hooks[i];
	if ((r = hooks_start(hooks, d.cfg->notify.nhooks,
	    (int)d.cfg->notify.timeout_ms, engine_hook_report, &d,
	    &d.hooks)) != 0) {
		fprintf(stderr, "tapgated: hooks: %s\n", tg_strerror(r));
		goto out;
	}
	if ((fd = listen_open(d.cfg->appliance.socket, 0666, &bound, err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "tapgated: %s\n", err);
		goto out;
	}
	if ((r = http_server_start(fd, REQJSON_MAX_BODY, api_handle, &d,
	    &srv)) != 0) {
		fprintf(stderr, "tapgated: cannot serve HTTP: %s\n",
		    tg_strerror(r));
		close(fd);
		goto out;
	}
	fprintf(stderr, "tapgated: policy %s version %lld; state %s; "
	    "listening on %s\n", d.cfg->policy_id,
	    (long long)d.cfg->policy_version, d.cfg->appliance.state_dir,
	    bound ? d.cfg->appliance.socket : "the socket systemd passed");
	sd_notify(0, "READY=1");
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			break;
		pthread_mutex_lock(&d.lock);
		engine_tick(&d, (int64_t)time(NULL));
		pthread_mutex_unlock(&d.lock);
	}
	sd_notify(0, "STOPPING=1");
	rc = 0;
out:
	http_server_stop(&srv);
	if (bound)
		unlink(d.cfg->appliance.socket);
	hooks_stop(&d.hooks);
	store_close(&d.st);
	policy_config_free(&d.cfg);
	pthread_mutex_destroy(&d.lock);
	return rc;
}

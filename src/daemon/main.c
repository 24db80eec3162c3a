/* SPDX-License-Identifier: ISC */
/*
 * tapgated: the approval appliance's daemon.  Three processes, by trust:
 * this one, the monitor, keeps the state database and the co-signing key
 * and runs the engine and the hold timer; the front (front.c) serves the
 * HTTP API on a Unix socket (systemd's, or one the monitor binds) and
 * passes each request here; the token process (tokenproc.c) talks to the
 * security keys.  Runs in the foreground; logs to stderr (journald under
 * systemd).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/errors.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/front.h"
#include "daemon/listen.h"
#include "daemon/reqjson.h"
#include "daemon/startup.h"
#include "engine/engine.h"
#include "sandbox/sandbox.h"
#include "seal/seal.h"
#include "seal/signkey.h"

extern const char tapgated_default_config[];

/* Set when the front or the hook runner failed: the daemon stops, fails. */
static volatile sig_atomic_t child_failure;

/* tokenproc_report_fn: audit; the token process was replaced already. */
static void
token_report(void *ctx, const char *event, const char *detail)
{
	(void)engine_audit_system(ctx, event, json_pack("{s:s,s:s}",
	    "process", "token", "detail", detail));
}

/* A child the daemon cannot do without failed: audit, stop, status 1. */
static void
child_failed(struct tapgated *d, const char *process, const char *event,
    const char *detail)
{
	(void)engine_audit_system(d, event, json_pack("{s:s,s:s}",
	    "process", process, "detail", detail));
	child_failure = 1;
	kill(getpid(), SIGTERM);
}

/* front_report_fn */
static void
front_report(void *ctx, const char *event, const char *detail)
{
	child_failed(ctx, "front", event, detail);
}

/* hookproc_died_fn */
static void
hooks_died(void *ctx, const char *event, const char *detail)
{
	child_failed(ctx, "hooks", event, detail);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: tapgated [-c CONFIG] [--state-dir DIR] [--socket PATH]\n"
	    "                [--socket-mode MODE] [--trust-roots PEM]\n"
	    "                [--token-timeout MS]\n"
	    "                [--checkpoint-interval SECONDS] "
	    "[--accept-audit-head]\n"
	    "       tapgated --check-config [-c CONFIG]\n"
	    "       tapgated --print-default-config\n"
	    "Without -c the embedded default configuration is used.\n"
	    "Exit status: 0 stopped cleanly, 1 runtime failure, 2 usage or "
	    "configuration error.\n");
	exit(2);
}

/* The files the configuration names: 0, or the message and -1. */
static int
check_paths(const struct policy_config *cfg, const char *config)
{
	char err[512];

	if (policy_config_check_paths(cfg, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "tapgated: %s: %s\n", config, err);
	return -1;
}

/*
 * Before the token process, the database, the key or the socket: the
 * state directory is ours and closed to others, this daemon alone holds
 * its lock (*lockfd, kept open), and nothing answers on the socket.
 */
static int
claim_state(const struct policy_config *cfg, int *lockfd)
{
	char err[512];

	if (startup_state_dir(cfg->appliance.state_dir, err,
	    sizeof(err)) != 0 ||
	    startup_lock(cfg->appliance.state_dir, lockfd, err,
	    sizeof(err)) != 0 ||
	    startup_socket_free(cfg->appliance.socket, err, sizeof(err)) != 0) {
		fprintf(stderr, "tapgated: %s\n", err);
		return -1;
	}
	return 0;
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

/*
 * --socket-mode: octal, read and write for the owner and at most that for
 * group and others (no execute, no special bits).  0 or -1.
 */
static int
parse_socket_mode(const char *s, mode_t *out)
{
	unsigned long m;
	char *end;

	m = strtoul(s, &end, 8);
	if (*s < '0' || *s > '7' || *end != '\0' || (m & ~0666UL) != 0 ||
	    (m & 0600UL) != 0600UL)
		return -1;
	*out = (mode_t)m;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, 'm' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "trust-roots", required_argument, NULL, 't' },
		{ "token-timeout", required_argument, NULL, 'T' },
		{ "checkpoint-interval", required_argument, NULL, 'C' },
		{ "accept-audit-head", no_argument, NULL, 'A' },
		{ "print-default-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tapgated d;
	struct front *front = NULL;
	const char *config = NULL, *state_dir = NULL, *sock = NULL;
	const char *roots = NULL, *timeout = NULL;
	const char *ckpt = NULL;	/* audit checkpoint period */
	const char *smode = NULL;	/* of a socket bound here */
	mode_t sock_mode = 0660;
	struct seal *seal = NULL;
	struct signkey_report keyrep;
	enum seal_kind sk;
	char keyfile[POLICY_LONG_MAX + 32];
	const char *hooks[POLICY_MAX_HOOKS];
	char err[512];
	sigset_t sigs;
	struct timespec tick = { 1, 0 };
	int c, check = 0, fd, bound = 0, r, rc = 1, sig;
	int accept_head = 0, lockfd = -1;
	size_t i;

	/* the token process: the daemon's own binary with a role */
	if ((argc == 3 || argc == 4) && strcmp(argv[1], TOKENPROC_ARG) == 0)
		return tokenproc_main(atoi(argv[2]), argc == 4 ? argv[3] :
		    NULL);
	/* the hook runner: starts the administrator's programs */
	if (argc >= 4 && strcmp(argv[1], HOOKPROC_ARG) == 0)
		return hookproc_main(atoi(argv[2]), atoi(argv[3]), argv + 4,
		    (size_t)(argc - 4));
	/* the front process: HTTP, nothing else */
	if (argc == 3 && strcmp(argv[1], FRONT_ARG) == 0)
		return front_main(atoi(argv[2]));
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': state_dir = optarg; break;
		case 's': sock = optarg; break;
		case 'm': smode = optarg; break;
		case 'k': check = 1; break;
		case 't': roots = optarg; break;
		case 'T': timeout = optarg; break;
		case 'C': ckpt = optarg; break;
		case 'A': accept_head = 1; break;
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
	if ((state_dir && set_path(d.cfg->appliance.state_dir,
	    sizeof(d.cfg->appliance.state_dir), state_dir, "--state-dir")) ||
	    (sock && set_path(d.cfg->appliance.socket,
	    sizeof(d.cfg->appliance.socket), sock, "--socket")) ||
	    (roots && set_path(d.cfg->approvers.trust_roots,
	    sizeof(d.cfg->approvers.trust_roots), roots, "--trust-roots")) ||
	    check_paths(d.cfg, config ? config : "embedded default") != 0) {
		policy_config_free(&d.cfg);
		return 2;
	}
	if (check) {
		printf("%s: configuration OK (policy %s version %lld)\n",
		    config ? config : "embedded default", d.cfg->policy_id,
		    (long long)d.cfg->policy_version);
		policy_config_free(&d.cfg);
		return 0;
	}
	if (smode != NULL && parse_socket_mode(smode, &sock_mode) != 0) {
		fprintf(stderr, "tapgated: --socket-mode: an octal mode from "
		    "0600 to 0666\n");
		policy_config_free(&d.cfg);
		return 2;
	}
	d.token_timeout_ms = 60000;
	if (timeout != NULL && ((d.token_timeout_ms = atoi(timeout)) < 1000 ||
	    d.token_timeout_ms > 600000)) {
		fprintf(stderr, "tapgated: --token-timeout: 1000 to 600000 ms\n");
		policy_config_free(&d.cfg);
		return 2;
	}
	/* signed audit checkpoints: every minute the head moved, by default */
	if (ckpt != NULL && ((d.checkpoint_interval = atoi(ckpt)) < 1 ||
	    d.checkpoint_interval > 86400)) {
		fprintf(stderr, "tapgated: --checkpoint-interval: 1 to 86400 "
		    "seconds\n");
		policy_config_free(&d.cfg);
		return 2;
	}
	/* the daemon holds the co-signing key: no core dumps, nothing shared */
	if ((r = sandbox_harden()) != 0 ||
	    (r = sandbox_limit_as(SANDBOX_AS_DAEMON)) != 0) {
		fprintf(stderr, "tapgated: %s\n", tg_strerror(r));
		policy_config_free(&d.cfg);
		return 1;
	}
	umask(077);
	pthread_mutex_init(&d.lock, NULL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	/* threads started below inherit the mask: signals come to sigwait */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (claim_state(d.cfg, &lockfd) != 0)
		goto out;
	if ((r = tokenproc_start("/proc/self/exe", d.token_timeout_ms,
	    d.cfg->approvers.trust_roots, token_report, &d,
	    &d.tokenproc)) != 0) {
		fprintf(stderr, "tapgated: cannot start the token process: "
		    "%s\n", tg_strerror(r));
		goto out;
	}
	if ((r = store_open(d.cfg->appliance.state_dir, &d.st)) != 0) {
		fprintf(stderr, "tapgated: state %s: %s\n",
		    d.cfg->appliance.state_dir, tg_strerror(r));
		goto out;
	}
	/* the co-signing key, unsealed for the life of the process */
	if (d.cfg->signing.seal_key_file[0] != '\0')
		snprintf(keyfile, sizeof(keyfile), "%s",
		    d.cfg->signing.seal_key_file);
	else
		snprintf(keyfile, sizeof(keyfile), "%s/seal.key",
		    d.cfg->appliance.state_dir);
	if (seal_kind_parse(d.cfg->signing.seal, &sk) != 0 ||
	    (r = seal_open(sk, sk == SEAL_FILE ? keyfile : NULL, &seal)) != 0 ||
	    (r = signkey_ring_open(seal, d.cfg->appliance.state_dir,
	    strcmp(d.cfg->signing.alg, "ES256") == 0 ? JWK_ALG_ES256 :
	    JWK_ALG_EDDSA, &d.keyring, &keyrep)) != 0) {
		fprintf(stderr, "tapgated: co-signing key (%s seal): %s%s%s\n",
		    d.cfg->signing.seal, tg_strerror(r), seal ? ": " : "",
		    seal ? seal_errmsg(seal) : "");
		seal_free(&seal);
		goto out;
	}
	d.signkey = d.keyring->active;
	/*
	 * A file seal stays open to seal the next standby key after a
	 * rotation; the YubiKey goes back to the kernel (and its USB node
	 * is out of the sandbox's reach anyway).
	 */
	if (seal_kind(seal) == SEAL_FILE)
		d.seal = seal;
	else
		seal_free(&seal);
	seal = NULL;
	fprintf(stderr, "tapgated: co-signing key %s %s (%s)\n",
	    jwk_alg_name(jwk_alg(d.signkey)), jwk_kid(d.signkey),
	    keyrep.created ? "created and sealed" : keyrep.completed ?
	    "made active: an interrupted rotation completed" : "unsealed");
	/* before anything is appended or signed: the chain went forward */
	pthread_mutex_lock(&d.lock);
	r = engine_audit_mark_open(&d, accept_head, (int64_t)time(NULL));
	pthread_mutex_unlock(&d.lock);
	if (r != 0)
		goto out;
	pthread_mutex_lock(&d.lock);
	if (keyrep.completed && (r = engine_keys_opened(&d, &keyrep,
	    (int64_t)time(NULL))) != 0)
		fprintf(stderr, "tapgated: cannot audit the completed "
		    "rotation: %s\n", tg_strerror(r));
	pthread_mutex_unlock(&d.lock);
	pthread_mutex_lock(&d.lock);
	engine_quorum_check(&d, 0, (int64_t)time(NULL));
	pthread_mutex_unlock(&d.lock);
	/* sign the audit head found at start (refused if the chain was cut) */
	pthread_mutex_lock(&d.lock);
	(void)engine_checkpoint(&d, (int64_t)time(NULL));
	pthread_mutex_unlock(&d.lock);
	for (i = 0; i < d.cfg->notify.nhooks; i++)
		hooks[i] = d.cfg->notify.hooks[i];
	/* hooks run from a process that never gets the daemon's filter */
	if ((r = hookproc_start("/proc/self/exe", hooks, d.cfg->notify.nhooks,
	    (int)d.cfg->notify.timeout_ms, engine_hook_report, hooks_died, &d,
	    &d.hooks)) != 0) {
		fprintf(stderr, "tapgated: hooks: %s\n", tg_strerror(r));
		goto out;
	}
	/* holds the downtime ate are extended (and the hooks told) first */
	pthread_mutex_lock(&d.lock);
	r = engine_start(&d, (int64_t)time(NULL));
	pthread_mutex_unlock(&d.lock);
	if (r != 0) {
		fprintf(stderr, "tapgated: cannot account for the downtime: "
		    "%s\n", tg_strerror(r));
		goto out;
	}
	if ((fd = listen_open(d.cfg->appliance.socket, sock_mode, &bound, err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "tapgated: %s\n", err);
		goto out;
	}
	/* HTTP is parsed in the front process, started before the filter */
	if ((r = front_start("/proc/self/exe", fd, d.cfg, &front)) != 0) {
		fprintf(stderr, "tapgated: cannot start the front process: "
		    "%s\n", tg_strerror(r));
		goto out;
	}
	/* everything is open and no thread serves yet: confine, then serve */
	if ((r = sandbox_apply(SANDBOX_ROLE_DAEMON)) != 0) {
		fprintf(stderr, "tapgated: cannot confine the daemon: %s\n",
		    tg_strerror(r));
		goto out;
	}
	if ((r = front_serve(front, REQJSON_MAX_BODY, api_handle, &d,
	    front_report, &d)) != 0) {
		fprintf(stderr, "tapgated: cannot serve the front: %s\n",
		    tg_strerror(r));
		goto out;
	}
	fprintf(stderr, "tapgated: policy %s version %lld; state %s; "
	    "listening on %s (front process %d)\n", d.cfg->policy_id,
	    (long long)d.cfg->policy_version, d.cfg->appliance.state_dir,
	    bound ? d.cfg->appliance.socket : "the socket systemd passed",
	    front_pid(front));
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
	rc = child_failure ? 1 : 0;
out:
	front_stop(&front);
	if (bound)
		unlink(d.cfg->appliance.socket);
	hookproc_stop(&d.hooks);
	tokenproc_stop(&d.tokenproc);
	/* a clean stop signs the final audit head: nothing writes any more */
	if (rc == 0) {
		pthread_mutex_lock(&d.lock);
		engine_stop(&d, (int64_t)time(NULL));
		(void)engine_checkpoint(&d, (int64_t)time(NULL));
		pthread_mutex_unlock(&d.lock);
	}
	store_close(&d.st);
	d.signkey = NULL;
	signkey_ring_free(&d.keyring);
	seal_free(&d.seal);
	policy_config_free(&d.cfg);
	pthread_mutex_destroy(&d.lock);
	if (lockfd != -1)
		close(lockfd);	/* the state is free for the next daemon */
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * tapgated: the approval appliance's daemon.  Four processes, by trust:
 * this one, the monitor, keeps the state database and the co-signing key
 * and runs the engine (src/engine) and the hold timer; the front
 * (front.c) serves the HTTP API on a Unix socket (systemd's, or one the
 * monitor binds) and passes each request here; the token process
 * (tokenproc.c) talks to the security keys; the hook runner (hookproc.c)
 * starts the notification hooks.  The children are this binary started
 * again with a role.  Runs in the foreground; logs to stderr (journald
 * under systemd).
 *
 * main() reads the command line and the configuration, then starts the
 * monitor phase by phase (phases[] below), serves until a signal or a
 * failed child stops it, and stops in the reverse order.
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

#include <openssl/rand.h>

#include "common/errors.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/dirproc.h"
#include "daemon/front.h"
#include "daemon/https.h"
#include "daemon/listen.h"
#include "daemon/proto.h"
#include "daemon/reqjson.h"
#include "daemon/startup.h"
#include "engine/engine.h"
#include "sandbox/sandbox.h"
#include "seal/seal.h"
#include "seal/signkey.h"

extern const char tapgated_default_config[];

/* Set when the front or the hook runner failed: the daemon stops, fails. */
static volatile sig_atomic_t child_failure;

/* The command line. */
struct options {
	const char	*config;	/* NULL: the embedded default */
	const char	*state_dir;
	const char	*sock;
	const char	*roots;
	const char	*timeout;	/* touch wait, ms */
	const char	*ckpt;		/* audit checkpoint period */
	const char	*smode;		/* of a socket bound here */
	int		 check;		/* --check-config */
	int		 accept_head;	/* --accept-audit-head */
};

/* What the monitor holds while it runs; stop() releases it. */
struct run {
	struct tapgated		 d;
	struct front		*front;
	struct signkey_report	 keyrep;
	int			 accept_head;
	mode_t			 sock_mode;
	int			 bound;		/* the socket is ours */
	int			 lockfd;	/* the state's lock */
	sigset_t		 sigs;		/* the ones that stop it */
};

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
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tapgated [-c CONFIG] [--state-dir DIR] [--socket PATH]\n"
	    "                [--socket-mode MODE] [--trust-roots PEM]\n"
	    "                [--token-timeout MS]\n"
	    "                [--checkpoint-interval SECONDS] "
	    "[--accept-audit-head]\n"
	    "       tapgated --check-config [-c CONFIG]\n"
	    "       tapgated --print-default-config\n"
	    "       tapgated --help | --version\n"
	    "Without -c the embedded default configuration is used.\n"
	    "Exit status: 0 stopped cleanly, 1 runtime failure, 2 usage or "
	    "configuration error.\n");
	exit(fp == stdout ? 0 : 2);
}

/* ---- the command line and the configuration */

/*
 * A child process: this binary started again by the monitor with a role.
 * 1 with the child's exit status in *status, or 0 when argv names no
 * role.
 */
static int
child_role(int argc, char **argv, int *status)
{
	/* the token process: opens the security keys */
	if ((argc == 3 || argc == 4) && strcmp(argv[1], TOKENPROC_ARG) == 0)
		*status = tokenproc_main(atoi(argv[2]), argc == 4 ? argv[3] :
		    NULL);
	/* the hook runner: starts the administrator's programs */
	else if (argc >= 4 && strcmp(argv[1], HOOKPROC_ARG) == 0)
		*status = hookproc_main(atoi(argv[2]), atoi(argv[3]),
		    argv + 4, (size_t)(argc - 4));
	/* the directory process: the one with the network */
	else if (argc == 3 && strcmp(argv[1], DIRPROC_ARG) == 0)
		*status = dirproc_main(atoi(argv[2]));
	/* the front process: HTTP, nothing else */
	else if ((argc == 3 || (argc == 4 && strcmp(argv[3], "https") ==
	    0)) && strcmp(argv[1], FRONT_ARG) == 0)
		*status = front_main(atoi(argv[2]), argc == 4);
	else
		return 0;
	return 1;
}

/* The options into o; usage (status 2) when they are wrong. */
static void
parse_options(int argc, char **argv, struct options *o)
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
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'd': o->state_dir = optarg; break;
		case 's': o->sock = optarg; break;
		case 'm': o->smode = optarg; break;
		case 'k': o->check = 1; break;
		case 't': o->roots = optarg; break;
		case 'T': o->timeout = optarg; break;
		case 'C': o->ckpt = optarg; break;
		case 'A': o->accept_head = 1; break;
		case 'p':
			fputs(tapgated_default_config, stdout);
			exit(0);
		case 'h': usage(stdout); break;
		case 'V':
			printf("tapgated %s\n", TAPGATE_VERSION);
			exit(0);
		default: usage(stderr);
		}
	}
	if (optind != argc)
		usage(stderr);
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

/* The paths the command line sets instead of the configuration's. */
static int
override_paths(const struct options *o, struct policy_config *cfg)
{
	const struct {
		const char	*value;
		char		*dst;
		size_t		 cap;
		const char	*what;
	} paths[] = {
		{ o->state_dir, cfg->appliance.state_dir,
		    sizeof(cfg->appliance.state_dir), "--state-dir" },
		{ o->sock, cfg->appliance.socket,
		    sizeof(cfg->appliance.socket), "--socket" },
		{ o->roots, cfg->approvers.trust_roots,
		    sizeof(cfg->approvers.trust_roots), "--trust-roots" },
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (paths[i].value != NULL && set_path(paths[i].dst,
		    paths[i].cap, paths[i].value, paths[i].what) != 0)
			return -1;
	return 0;
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
 * The configuration (-c, or the embedded default) into *cfgp, with the
 * paths the command line overrides, and the files it names checked.  0,
 * or exit status 2 (logged; nothing is left to free).
 */
/*
 * Tell the operator of the callers given the intake role that no
 * principal names: they cannot submit.  A uid's principal may also come
 * from its primary group, which only its caller shows.
 */
static void
note_unnamed_intake(const struct policy_config *cfg)
{
	const struct policy_role_entry *re;
	size_t i;

	for (i = 0; i < cfg->nroles; i++) {
		re = &cfg->roles[i];
		if ((re->roles & POLICY_ROLE_BIT(POLICY_ROLE_INTAKE)) == 0 ||
		    (re->is_cert && policy_principal_of_cert(cfg,
		    re->cert_sha256) != NULL) ||
		    (re->is_user && policy_principal_of_user(cfg,
		    re->user) != NULL) || (!re->is_cert && !re->is_user &&
		    policy_principal_of(cfg, re->is_gid ? UINT32_MAX : re->id,
		    &re->id, re->is_gid ? 1 : 0) != NULL))
			continue;
		if (re->is_user) {
			fprintf(stderr, "tapgated: user %s holds the intake "
			    "role but no principal names it: it cannot "
			    "submit\n", re->user);
			continue;
		}
		if (re->is_cert) {
			fprintf(stderr, "tapgated: a certificate holds the "
			    "intake role but no principal names it: it cannot "
			    "submit\n");
			continue;
		}
		fprintf(stderr, "tapgated: %s %u holds the intake role but no "
		    "principal names it: %s\n", re->is_gid ? "gid" : "uid",
		    (unsigned)re->id, re->is_gid ? "its members cannot "
		    "submit unless their uid is a principal" : "it cannot "
		    "submit unless its primary group is a principal");
	}
}

static int
load_config(const struct options *o, struct policy_config **cfgp)
{
	const char *name = o->config ? o->config : "embedded default";
	struct policy_config *cfg = NULL;
	char err[512];
	int r;

	r = o->config ? policy_config_load_file(o->config, &cfg, err,
	    sizeof(err)) : policy_config_load_string(tapgated_default_config,
	    &cfg, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "tapgated: %s: %s\n", name, err);
		return 2;
	}
	if (override_paths(o, cfg) != 0 || check_paths(cfg, name) != 0) {
		policy_config_free(&cfg);
		return 2;
	}
	note_unnamed_intake(cfg);
	*cfgp = cfg;
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

/* The settings of the command line that are not paths: 0, or status 2. */
static int
parse_settings(const struct options *o, struct run *rn)
{
	struct tapgated *d = &rn->d;

	rn->sock_mode = 0660;
	if (o->smode != NULL && parse_socket_mode(o->smode,
	    &rn->sock_mode) != 0) {
		fprintf(stderr, "tapgated: --socket-mode: an octal mode from "
		    "0600 to 0666\n");
		return 2;
	}
	d->token_timeout_ms = 60000;
	if (o->timeout != NULL && ((d->token_timeout_ms = atoi(o->timeout)) <
	    1000 || d->token_timeout_ms > 600000)) {
		fprintf(stderr, "tapgated: --token-timeout: 1000 to 600000 "
		    "ms\n");
		return 2;
	}
	/* signed audit checkpoints: every minute the head moved, by default */
	if (o->ckpt != NULL && ((d->checkpoint_interval = atoi(o->ckpt)) < 1 ||
	    d->checkpoint_interval > 86400)) {
		fprintf(stderr, "tapgated: --checkpoint-interval: 1 to 86400 "
		    "seconds\n");
		return 2;
	}
	return 0;
}

/*
 * The daemon holds the co-signing key: no core dumps, nothing shared, a
 * bounded address space, files for its owner alone.  The stopping
 * signals are blocked (the threads started later inherit the mask) and
 * come to sigwait in serve().  0, or status 1.
 */
static int
harden(struct run *rn)
{
	int r;

	if ((r = sandbox_harden()) != 0 ||
	    (r = sandbox_limit_as(SANDBOX_AS_DAEMON)) != 0) {
		fprintf(stderr, "tapgated: %s\n", tg_strerror(r));
		return 1;
	}
	umask(077);
	pthread_mutex_init(&rn->d.lock, NULL);
	/* the console's sessions, and the key of unknown users' ids */
	if (web_sessions_init(&rn->d.sessions) != 0 ||
	    RAND_bytes(rn->d.signin_key, sizeof(rn->d.signin_key)) != 1) {
		fprintf(stderr, "tapgated: no random bytes for the console's "
		    "sessions\n");
		return 1;
	}
	sigemptyset(&rn->sigs);
	sigaddset(&rn->sigs, SIGTERM);
	sigaddset(&rn->sigs, SIGINT);
	sigaddset(&rn->sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &rn->sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- the start-up phases: each logs why it fails and returns -1 */

/*
 * Before the token process, the database, the key or the socket: the
 * state directory is ours and closed to others, this daemon alone holds
 * its lock (kept open), and nothing answers on the socket.
 */
static int
claim_state(struct run *rn)
{
	const struct policy_config *cfg = rn->d.cfg;
	char err[512];

	if (startup_state_dir(cfg->appliance.state_dir, err,
	    sizeof(err)) != 0 ||
	    startup_lock(cfg->appliance.state_dir, &rn->lockfd, err,
	    sizeof(err)) != 0 ||
	    startup_socket_free(cfg->appliance.socket, err, sizeof(err)) != 0) {
		fprintf(stderr, "tapgated: %s\n", err);
		return -1;
	}
	return 0;
}

static int
start_token_process(struct run *rn)
{
	struct tapgated *d = &rn->d;
	int r;

	if ((r = tokenproc_start("/proc/self/exe", d->token_timeout_ms,
	    d->cfg->approvers.trust_roots, token_report, d,
	    &d->tokenproc)) != 0) {
		fprintf(stderr, "tapgated: cannot start the token process: "
		    "%s\n", tg_strerror(r));
		return -1;
	}
	return 0;
}

static int
open_store(struct run *rn)
{
	struct tapgated *d = &rn->d;
	int r;

	/* and the connection that commits concurrent submissions together */
	if ((r = store_open(d->cfg->appliance.state_dir, &d->st)) != 0 ||
	    (r = store_batch_open(d->st)) != 0) {
		fprintf(stderr, "tapgated: state %s: %s\n",
		    d->cfg->appliance.state_dir, tg_strerror(r));
		return -1;
	}
	/* the metrics count orders and redemptions that committed */
	(void)audit_set_sink(d->st, engine_audit_committed, d);
	return 0;
}

/*
 * The co-signing keys, unsealed for the life of the process.  A file
 * seal stays open to seal the next standby key after a rotation; the
 * YubiKey goes back to the kernel (and its USB node is out of the
 * sandbox's reach anyway).
 */
static int
open_signing_key(struct run *rn)
{
	struct tapgated *d = &rn->d;
	const struct policy_config *cfg = d->cfg;
	struct seal *seal = NULL;
	char keyfile[POLICY_LONG_MAX + 32];
	enum seal_kind sk;
	int r = TG_ERR_CONFIG;

	if (cfg->signing.seal_key_file[0] != '\0')
		snprintf(keyfile, sizeof(keyfile), "%s",
		    cfg->signing.seal_key_file);
	else
		snprintf(keyfile, sizeof(keyfile), "%s/seal.key",
		    cfg->appliance.state_dir);
	if (seal_kind_parse(cfg->signing.seal, &sk) != 0 ||
	    (r = seal_open(sk, sk == SEAL_FILE ? keyfile : NULL, &seal)) != 0 ||
	    (r = signkey_ring_open(seal, cfg->appliance.state_dir,
	    strcmp(cfg->signing.alg, "ES256") == 0 ? JWK_ALG_ES256 :
	    JWK_ALG_EDDSA, &d->keyring, &rn->keyrep)) != 0) {
		fprintf(stderr, "tapgated: co-signing key (%s seal): %s%s%s\n",
		    cfg->signing.seal, tg_strerror(r), seal ? ": " : "",
		    seal ? seal_errmsg(seal) : "");
		seal_free(&seal);
		return -1;
	}
	d->signkey = d->keyring->active;
	if (seal_kind(seal) == SEAL_FILE)
		d->seal = seal;
	else
		seal_free(&seal);
	fprintf(stderr, "tapgated: co-signing key %s %s (%s)\n",
	    jwk_alg_name(jwk_alg(d->signkey)), jwk_kid(d->signkey),
	    rn->keyrep.created ? "created and sealed" : rn->keyrep.completed ?
	    "made active: an interrupted rotation completed" : "unsealed");
	return 0;
}

/*
 * Before anything is appended or signed: the audit chain went forward
 * (its high-water mark), a rotation a crash interrupted is audited, the
 * quorum is counted, and the head found at start is signed (refused if
 * the chain was cut).
 */
static int
open_audit(struct run *rn)
{
	struct tapgated *d = &rn->d;
	int r;

	pthread_mutex_lock(&d->lock);
	r = engine_audit_mark_open(d, rn->accept_head, (int64_t)time(NULL));
	pthread_mutex_unlock(&d->lock);
	if (r != 0)
		return -1;
	pthread_mutex_lock(&d->lock);
	if (rn->keyrep.completed && (r = engine_keys_opened(d, &rn->keyrep,
	    (int64_t)time(NULL))) != 0)
		fprintf(stderr, "tapgated: cannot audit the completed "
		    "rotation: %s\n", tg_strerror(r));
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_lock(&d->lock);
	engine_quorum_check(d, 0, (int64_t)time(NULL));
	engine_senders_check(d, (int64_t)time(NULL));
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_lock(&d->lock);
	(void)engine_checkpoint(d, (int64_t)time(NULL));
	pthread_mutex_unlock(&d->lock);
	return 0;
}

_Static_assert(HOOKS_CHANNELS == POLICY_CHANNEL_COUNT,
    "the runner numbers the channels as the config does");

/* Hooks run from a process that never gets the daemon's filter. */
static int
start_hooks(struct run *rn)
{
	struct tapgated *d = &rn->d;
	const char *hooks[POLICY_MAX_HOOKS], *senders[HOOKS_CHANNELS];
	size_t i;
	int r;

	for (i = 0; i < d->cfg->notify.nhooks; i++)
		hooks[i] = d->cfg->notify.hooks[i];
	/* the config's channels are the runner's, in the same order */
	for (i = 0; i < HOOKS_CHANNELS; i++)
		senders[i] = d->cfg->senders.program[i];
	if ((r = hookproc_start_senders("/proc/self/exe", hooks,
	    d->cfg->notify.nhooks, (int)d->cfg->notify.timeout_ms, senders,
	    (int)d->cfg->senders.timeout_ms, engine_hook_report, hooks_died,
	    d, &d->hooks)) != 0) {
		fprintf(stderr, "tapgated: hooks: %s\n", tg_strerror(r));
		return -1;
	}
	return 0;
}

/*
 * The directory process reaches the network, which the monitor's filter
 * forbids to whatever it starts: started before it confines itself (and
 * its end stops the daemon: check_directory()).  Without a directory
 * the daemon says so, in the log and the audit: every account the
 * configuration does not name is then treated as admin.
 */
static int
start_directory(struct run *rn)
{
	struct tapgated *d = &rn->d;
	int r;

	if (!d->cfg->directory.configured) {
		fprintf(stderr, "tapgated: no directory configured: an account "
		    "the configuration does not name is treated as admin\n");
		(void)engine_audit_system(d, "directory.none",
		    json_pack("{s:s}", "detail", "no directory configured: "
		    "an account the configuration does not name is treated "
		    "as admin"));
		return 0;
	}
	if ((r = dirproc_start("/proc/self/exe", &d->cfg->directory,
	    &d->dir)) != 0) {
		fprintf(stderr, "tapgated: cannot start the directory "
		    "process: %s\n", tg_strerror(r));
		return -1;
	}
	fprintf(stderr, "tapgated: directory %s (%s)\n",
	    d->cfg->directory.uri, d->cfg->directory.preset ==
	    POLICY_DIR_ACTIVE_DIRECTORY ? "Active Directory" : "OpenLDAP");
	return 0;
}

/* The holds the downtime ate are extended (and the hooks told) first. */
static int
start_engine(struct run *rn)
{
	struct tapgated *d = &rn->d;
	int r;

	pthread_mutex_lock(&d->lock);
	r = engine_start(d, (int64_t)time(NULL));
	pthread_mutex_unlock(&d->lock);
	if (r != 0) {
		fprintf(stderr, "tapgated: cannot account for the downtime: "
		    "%s\n", tg_strerror(r));
		return -1;
	}
	return 0;
}

/* The API socket, and the front process that parses HTTP on it (started
 * before the monitor's filter). */
static int
start_front(struct run *rn)
{
	const struct policy_config *cfg = rn->d.cfg;
	char err[512];
	struct fc_tls tls;
	int fd, tfd = -1, r;

	if (cfg->https.configured) {
		if ((r = https_load(&cfg->https, 1, &tls, err,
		    sizeof(err))) != 0) {
			fprintf(stderr, "tapgated: %s\n", err);
			return -1;
		}
		if ((tfd = https_listen(cfg->https.listen, err,
		    sizeof(err))) < 0) {
			fprintf(stderr, "tapgated: %s\n", err);
			fc_tls_clear(&tls);
			return -1;
		}
	}
	if ((fd = listen_open(cfg->appliance.socket, rn->sock_mode,
	    &rn->bound, err, sizeof(err))) < 0) {
		fprintf(stderr, "tapgated: %s\n", err);
		if (tfd >= 0) {
			close(tfd);
			fc_tls_clear(&tls);
		}
		return -1;
	}
	r = front_start_https("/proc/self/exe", fd, tfd, tfd >= 0 ? &tls :
	    NULL, cfg, &rn->front);
	if (tfd >= 0)
		fc_tls_clear(&tls);
	if (r != 0) {
		fprintf(stderr, "tapgated: cannot start the front process: "
		    "%s\n", tg_strerror(r));
		return -1;
	}
	return 0;
}

/* Everything is open and no thread serves yet: confine, then serve. */
static int
confine(struct run *rn)
{
	int r;

	(void)rn;
	if ((r = sandbox_apply(SANDBOX_ROLE_DAEMON)) != 0) {
		fprintf(stderr, "tapgated: cannot confine the daemon: %s\n",
		    tg_strerror(r));
		return -1;
	}
	return 0;
}

/* The front's requests go to the API (api.c); systemd hears READY. */
static int
serve_front(struct run *rn)
{
	struct tapgated *d = &rn->d;
	int r;

	if ((r = front_serve(rn->front, REQJSON_MAX_BODY, api_handle, d,
	    front_report, d)) != 0) {
		fprintf(stderr, "tapgated: cannot serve the front: %s\n",
		    tg_strerror(r));
		return -1;
	}
	fprintf(stderr, "tapgated: policy %s version %lld; state %s; "
	    "listening on %s%s%s (front process %d)\n", d->cfg->policy_id,
	    (long long)d->cfg->policy_version, d->cfg->appliance.state_dir,
	    rn->bound ? d->cfg->appliance.socket : "the socket systemd passed",
	    d->cfg->https.configured ? " and HTTPS on " : "",
	    d->cfg->https.configured ? d->cfg->https.listen : "",
	    front_pid(rn->front));
	sd_notify(0, "READY=1");
	return 0;
}

/* The start-up, in order. */
static int (*const phases[])(struct run *) = {
	claim_state,		/* the state directory, its lock, the socket */
	start_token_process,	/* before the store and the key exist */
	open_store,
	open_signing_key,
	start_hooks,		/* before the first alarm: senders tell it */
	open_audit,		/* the mark, the quorum, a first checkpoint */
	start_directory,	/* the one process with the network */
	start_engine,		/* downtime extends the holds */
	start_front,		/* the socket and the front process */
	confine,		/* the monitor's own filter */
	serve_front,
};

/* ---- serving and stopping */

/*
 * The directory process cannot be started again by the confined monitor
 * (dirproc.h): one that died or was killed stops the daemon, audited,
 * for its supervisor to start both afresh, rather than answer 503 to
 * every submission until someone notices.  One of its own unit
 * (directory.socket) is only audited: the next lookup connects again.
 */
static void
check_directory(struct tapgated *d)
{
	char detail[PROTO_DIR_DETAIL_MAX + 64];
	const char *event;

	int r;

	/* one of its own unit: the next lookup connects to a new one */
	while ((r = dirproc_check(d->dir, &event, detail,
	    sizeof(detail))) > 0) {
		fprintf(stderr, "tapgated: %s: %s\n", event, detail);
		(void)engine_audit_system(d, event, json_pack("{s:s,s:s}",
		    "process", "directory", "detail", detail));
	}
	if (r == 0)
		return;
	fprintf(stderr, "tapgated: ALARM: %s: %s; the daemon stops (status "
	    "1) for its supervisor to start it and a new directory process\n",
	    event, detail);
	child_failed(d, "directory", event, detail);
}

/*
 * SIGHUP: the HTTPS certificate and key read again and checked; the
 * front serves them from its next handshake.  A pair that does not load
 * leaves the old one served, and says so.
 */
static void
reload_https(struct run *rn)
{
	const struct policy_https *h = &rn->d.cfg->https;
	struct fc_tls tls;
	char err[512];
	int r;

	if (!h->configured)
		return;
	if ((r = https_load(h, 0, &tls, err, sizeof(err))) != 0) {
		fprintf(stderr, "tapgated: SIGHUP: HTTPS reload failed, the "
		    "old certificate is still served: %s\n", err);
		return;
	}
	if ((r = front_reload_tls(rn->front, &tls)) != 0)
		fprintf(stderr, "tapgated: SIGHUP: HTTPS reload: the front "
		    "did not take it: %s\n", tg_strerror(r));
	else
		fprintf(stderr, "tapgated: SIGHUP: HTTPS certificate %s "
		    "read again and sent to the front\n", h->cert_file);
	fc_tls_clear(&tls);
}

/*
 * Serve until SIGTERM or SIGINT (a failed child sends SIGTERM), running
 * the hold timer every second; SIGHUP reloads the HTTPS certificate.
 * The exit status: 1 when a child failed.
 */
static int
serve(struct run *rn)
{
	struct timespec tick = { 1, 0 };
	int sig;

	for (;;) {
		sig = sigtimedwait(&rn->sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			break;
		if (sig == SIGHUP)
			reload_https(rn);
		pthread_mutex_lock(&rn->d.lock);
		engine_tick(&rn->d, (int64_t)time(NULL));
		pthread_mutex_unlock(&rn->d.lock);
		if (!child_failure)
			check_directory(&rn->d);
	}
	sd_notify(0, "STOPPING=1");
	return child_failure ? 1 : 0;
}

/*
 * Stop what was started, in the reverse order; a clean stop (rc 0)
 * stores the last heartbeat and signs the final audit head: nothing
 * writes any more.
 */
static void
stop(struct run *rn, int rc)
{
	struct tapgated *d = &rn->d;

	front_stop(&rn->front);
	if (rn->bound)
		unlink(d->cfg->appliance.socket);
	hookproc_stop(&d->hooks);
	dirproc_stop(&d->dir);
	tokenproc_stop(&d->tokenproc);
	if (rc == 0) {
		pthread_mutex_lock(&d->lock);
		engine_stop(d, (int64_t)time(NULL));
		(void)engine_checkpoint(d, (int64_t)time(NULL));
		pthread_mutex_unlock(&d->lock);
	}
	store_close(&d->st);
	d->signkey = NULL;
	signkey_ring_free(&d->keyring);
	seal_free(&d->seal);
	policy_config_free(&d->cfg);
	pthread_mutex_destroy(&d->lock);
	if (rn->lockfd != -1)
		close(rn->lockfd);	/* the state is free for the next one */
}

int
main(int argc, char **argv)
{
	struct options o;
	struct run rn;
	size_t i;
	int rc;

	if (child_role(argc, argv, &rc))
		return rc;
	parse_options(argc, argv, &o);
	memset(&rn, 0, sizeof(rn));
	rn.lockfd = -1;
	rn.accept_head = o.accept_head;
	if ((rc = load_config(&o, &rn.d.cfg)) != 0)
		return rc;
	if (o.check) {
		if (!policy_senders_configured(rn.d.cfg))
			printf("warning: no sender configured (senders): "
			    "nobody hears of a request, and no veto code can "
			    "be sent\n");
		printf("%s: configuration OK (policy %s version %lld)\n",
		    o.config ? o.config : "embedded default",
		    rn.d.cfg->policy_id, (long long)rn.d.cfg->policy_version);
		policy_config_free(&rn.d.cfg);
		return 0;
	}
	if ((rc = parse_settings(&o, &rn)) != 0 || (rc = harden(&rn)) != 0) {
		policy_config_free(&rn.d.cfg);
		return rc;
	}
	rc = 0;
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]) && rc == 0; i++)
		if (phases[i](&rn) != 0)
			rc = 1;
	if (rc == 0)
		rc = serve(&rn);
	stop(&rn, rc);
	return rc;
}

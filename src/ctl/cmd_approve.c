/* SPDX-License-Identifier: ISC */
/*
 * The officer's commands at the box: `tapgatectl approve`, `approvers ...`,
 * `orders ...` and `keys`.  Approval and enrolment happen on the security
 * key plugged into the appliance: the console shows what is approved, asks
 * for the PIN (terminal without echo, or stdin), and counts down the
 * daemon's touch window (its /healthz says it) while the daemon waits for
 * the touch.  After a wrong PIN it says the attempts left, as the daemon
 * counted them on the key: the console opens no key for an approval.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/pinread.h"
#include "ctl/ctl.h"
#include "token/token.h"

/*
 * The daemon answers a touch call once its token process is done: within
 * its touch window (tapgated --token-timeout), for up to two touches (a
 * re-enrolment), each with the token process's grace.  The console waits
 * that long and a margin more; for a daemon that does not say its window,
 * as long as the longest window it can have.
 */
#define TOUCH_GRACE_MS		10000
#define TOUCH_MARGIN_MS		30000
#define TOUCH_WINDOW_MAX_MS	600000

#define TICK_NS		100000000L	/* the countdown's step */

struct call {
	const char		*method;
	const char		*target;
	json_t			*body;
	int			 timeout_ms;
	json_t			*out;
	struct ctl_refusal	 ref;
	int			 r;
	int			 done;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
};

static void *
call_main(void *arg)
{
	struct call *c = arg;
	int r = ctl_call(c->method, c->target, c->body, c->timeout_ms,
	    &c->out, &c->ref);

	pthread_mutex_lock(&c->lock);
	c->r = r;
	c->done = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * The daemon's touch window in ms, from /healthz; 0 when it does not say
 * (a daemon from before it did).  -1 when it cannot be reached (said).
 */
static int
touch_window_ms(void)
{
	struct ctl_refusal ref;
	json_t *out = NULL;
	json_int_t v;

	if (ctl_call("GET", "/healthz", NULL, CTL_API_TIMEOUT_MS, &out,
	    &ref) != 0) {
		if (ref.status != 0)
			ctl_refusal_print(&ref, NULL);
		return -1;
	}
	v = json_integer_value(json_object_get(out, "token_timeout_ms"));
	json_decref(out);
	return v >= 1000 && v <= TOUCH_WINDOW_MAX_MS ? (int)v : 0;
}

/*
 * Call the daemon while it waits for a touch, counting down the window
 * meanwhile (window_ms 0: unknown, the seconds waited are shown).  The
 * wait ends when the answer arrives, not at the next step of the
 * countdown: a key that is touched at once costs no 100 ms.
 */
static int
call_with_touch(const char *method, const char *target, json_t *body,
    int window_ms, json_t **out, struct ctl_refusal *ref)
{
	pthread_condattr_t attr;
	struct timespec next;
	struct call c;
	pthread_t t;
	int ticks = 0, tty = isatty(2), secs = window_ms / 1000;

	memset(ref, 0, sizeof(*ref));
	memset(&c, 0, sizeof(c));
	c.method = method;
	c.target = target;
	c.body = body;
	c.timeout_ms = 2 * ((window_ms > 0 ? window_ms :
	    TOUCH_WINDOW_MAX_MS) + TOUCH_GRACE_MS) + TOUCH_MARGIN_MS;
	if (pthread_mutex_init(&c.lock, NULL) != 0)
		return TG_ERR_INTERNAL;
	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&c.cond, &attr) != 0) {
		pthread_mutex_destroy(&c.lock);
		return TG_ERR_INTERNAL;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_create(&t, NULL, call_main, &c) != 0) {
		pthread_cond_destroy(&c.cond);
		pthread_mutex_destroy(&c.lock);
		return TG_ERR_INTERNAL;
	}
	if (!tty && secs > 0)
		fprintf(stderr, "touch your security key (within %d s)\n",
		    secs);
	else if (!tty)
		fprintf(stderr, "touch your security key\n");
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&c.lock);
	while (!c.done) {
		if (tty && ticks % 10 == 0 && secs > 0 && ticks / 10 <= secs)
			fprintf(stderr, "\rtouch your security key ... %3d s ",
			    secs - ticks / 10);
		else if (tty && ticks % 10 == 0 && secs == 0)
			fprintf(stderr, "\rtouch your security key (%d s) ",
			    ticks / 10);
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		/* until the answer or the next step, whichever comes first */
		while (!c.done && pthread_cond_timedwait(&c.cond, &c.lock,
		    &next) != ETIMEDOUT)
			;
		ticks++;
	}
	pthread_mutex_unlock(&c.lock);
	pthread_join(t, NULL);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	if (tty)
		fprintf(stderr, "\r%40s\r", "");
	*out = c.out;
	*ref = c.ref;
	return c.r;
}

static int
read_pin_into(json_t *body)
{
	char pin[TOKEN_PIN_MAX + 2];
	int r;

	if ((r = pinread_line("PIN of your security key: ", pin,
	    sizeof(pin))) != 0) {
		if (r == TG_ERR_TOO_LONG)
			ctl_err("PIN longer than %d bytes", TOKEN_PIN_MAX);
		else if (r == TG_ERR_IO)
			ctl_err("no PIN: %s", pinread_interactive() ?
			    "cannot read the terminal" :
			    "standard input ended (one PIN per line)");
		else
			ctl_err("PIN entry: %s", tg_strerror(r));
		return r;
	}
	r = json_object_set_new(body, "pin", json_string(pin)) == 0 ? 0 :
	    TG_ERR_INVALID;
	explicit_bzero(pin, sizeof(pin));
	return r;
}

/* Wipe the PIN member before the body is freed. */
static void
drop_body(json_t *body)
{
	json_t *v = json_object_get(body, "pin");

	if (json_is_string(v))
		explicit_bzero((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
	json_decref(body);
}

/* A device name of the right form, or why not (exit 2). */
static int
device_ok(const char *what, const char *dev)
{
	int r = token_name_check(dev);

	if (r == TG_ERR_TOO_LONG)
		ctl_err("%s: %s: socket path too long", what, dev);
	else if (r != 0)
		ctl_err("%s: '%s' is not a device name: use /dev/hidrawN or "
		    "softfido:PATH", what, dev);
	return r == 0;
}

/*
 * Which PIN error the daemon's message names ("assertion: wrong PIN"):
 * both sides name them with tg_strerror().
 */
static int
pin_error(const struct ctl_refusal *ref)
{
	static const int errs[] = { TG_ERR_PIN_INVALID, TG_ERR_PIN_BLOCKED,
	    TG_ERR_PIN_AUTH_BLOCKED, TG_ERR_PIN_NOT_SET, TG_ERR_PIN_POLICY };
	size_t i, n = strlen(ref->message), k;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		k = strlen(tg_strerror(errs[i]));
		if (n >= k && strcmp(ref->message + n - k,
		    tg_strerror(errs[i])) == 0)
			return errs[i];
	}
	return TG_ERR_PIN_INVALID;
}

/*
 * Say why a touch call was refused, with what the console knows more:
 * the attempts left after a PIN error, the device and the window.
 */
static void
touch_refused(const struct ctl_refusal *ref, int r, const char *dev,
    int window_ms)
{
	char more[256];
	int left, pe;

	switch (r) {
	case TG_ERR_PIN_INVALID:
		pe = pin_error(ref);
		/* the daemon asked the key right after the wrong PIN */
		left = pe == TG_ERR_PIN_NOT_SET || pe == TG_ERR_PIN_POLICY ?
		    -1 : ref->retries;
		if (left == 0)
			snprintf(more, sizeof(more), "no attempts left: the "
			    "PIN is blocked, and only a reset of the key "
			    "(which deletes its credentials) unblocks it");
		else if (left > 0)
			snprintf(more, sizeof(more), "%d attempt%s left before "
			    "the key blocks its PIN", left, left == 1 ? "" :
			    "s");
		else
			more[0] = '\0';
		break;
	case TG_ERR_DEVICE:
		snprintf(more, sizeof(more), "no security key answers at %s: "
		    "is it plugged in? (tapgatectl token list)", dev);
		break;
	case TG_ERR_NO_TOUCH:
		if (window_ms > 0)
			snprintf(more, sizeof(more), "the key waited %d s for "
			    "a touch", window_ms / 1000);
		else
			more[0] = '\0';
		break;
	default:
		more[0] = '\0';
	}
	ctl_refusal_print(ref, more[0] ? more : NULL);
}

/* ---- approve */

int
ctl_approve(int argc, char **argv)
{
	const char *arg = NULL, *dev = NULL;
	const json_t *ch, *t, *drops;
	struct ctl_refusal ref;
	json_t *prev = NULL, *body = NULL, *out = NULL;
	char target[128], id[33], *changes;
	int r, i, window;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			dev = argv[++i];
		else if (argv[i][0] != '-' && arg == NULL)
			arg = argv[i];
		else {
			ctl_err("usage: tapgatectl approve ID --device DEVICE");
			return CTL_EXIT_USAGE;
		}
	}
	if (arg == NULL || dev == NULL) {
		ctl_err("usage: tapgatectl approve ID --device DEVICE (ID: the "
		    "request id, or its first %d or more hex digits)",
		    CTL_ID_PREFIX_MIN);
		return CTL_EXIT_USAGE;
	}
	if (!device_ok("approve", dev))
		return CTL_EXIT_USAGE;
	if ((r = ctl_resolve_id("approve", arg, id)) != 0)
		return ctl_exit_code(r);
	snprintf(target, sizeof(target), "/v1/requests/%s/approval", id);
	if ((r = ctl_api("GET", target, NULL, &prev)) != 0)
		return ctl_exit_code(r);
	ch = json_object_get(prev, "change");
	t = json_object_get(ch, "target");
	drops = json_object_get(ch, "entitlements_dropped");
	changes = json_dumps(json_object_get(ch, "changes"), JSON_COMPACT |
	    JSON_SORT_KEYS);
	printf("You are approving, with your security key:\n"
	    "  request      %s (%s)\n"
	    "  %-12s %s on %s, class %s\n"
	    "  changes      %s\n"
	    "  drops        %s%s\n"
	    "  requested by %s\n"
	    "  evidence     %zu item(s)\n"
	    "  policy       %s version %lld\n"
	    "  digest       %s\n", id, ctl_js(prev, "state"), ctl_js(ch, "queue"),
	    ctl_js(t, "account"), ctl_js(t, "system"), ctl_js(t, "class"),
	    changes ? changes : "{}", json_is_true(json_object_get(drops,
	    "all_privileged")) ? "all privileged entitlements " : "",
	    json_array_size(json_object_get(drops, "names")) ? "(and named "
	    "ones)" : "", ctl_js(json_object_get(ch, "requester"), "agent"),
	    json_array_size(json_object_get(ch, "evidence_digests")),
	    ctl_js(json_object_get(ch, "policy"), "id"),
	    (long long)json_integer_value(json_object_get(json_object_get(ch,
	    "policy"), "version")), ctl_js(prev, "change_digest"));
	free(changes);
	json_decref(prev);
	/* what the appliance found of the target, never the caller's claim */
	snprintf(target, sizeof(target), "/v1/requests/%s", id);
	if ((r = ctl_api("GET", target, NULL, &prev)) != 0)
		return ctl_exit_code(r);
	printf("  directory    what the appliance found:\n");
	ctl_show_directory(json_object_get(prev, "directory"),
	    "               ");
	json_decref(prev);
	fflush(stdout);
	if ((window = touch_window_ms()) < 0)
		return CTL_EXIT_FAIL;
	if ((body = json_pack("{s:s}", "device", dev)) == NULL ||
	    read_pin_into(body) != 0) {
		drop_body(body);
		return CTL_EXIT_PIN;
	}
	snprintf(target, sizeof(target), "/v1/requests/%s/approve", id);
	r = call_with_touch("POST", target, body, window, &out, &ref);
	drop_body(body);
	if (r != 0) {
		if (ref.status != 0)
			touch_refused(&ref, r, dev, window);
		return ctl_exit_code(r);
	}
	printf("approved by %s (%s): request is now %s\n", ctl_js(out, "approver"),
	    ctl_js(out, "group"), ctl_js(out, "state"));
	json_decref(out);
	return CTL_EXIT_OK;
}

/* ---- approvers */

static int
approvers_enroll(int argc, char **argv)
{
	const char *name = NULL, *group = NULL, *dev = NULL, *alg = NULL;
	struct ctl_refusal ref;
	json_t *body, *out = NULL;
	int r, i, window;

	for (i = 2; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--name") == 0)
			name = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--group") == 0)
			group = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--device") == 0)
			dev = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--alg") == 0)
			alg = argv[++i];
		else {
			ctl_err("approvers enroll: unexpected '%s'", argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if (name == NULL || group == NULL || dev == NULL) {
		ctl_err("usage: tapgatectl approvers enroll --name NAME --group "
		    "GROUP --device DEVICE [--alg es256|eddsa]");
		return CTL_EXIT_USAGE;
	}
	if (!device_ok("approvers enroll", dev))
		return CTL_EXIT_USAGE;
	if ((body = json_pack("{s:s,s:s,s:s}", "name", name, "group", group,
	    "device", dev)) == NULL) {
		ctl_err("approvers enroll: arguments are not valid UTF-8");
		return CTL_EXIT_USAGE;
	}
	if (alg != NULL)
		json_object_set_new(body, "alg", json_string(alg));
	if ((window = touch_window_ms()) < 0) {
		json_decref(body);
		return CTL_EXIT_FAIL;
	}
	if (read_pin_into(body) != 0) {
		drop_body(body);
		return CTL_EXIT_PIN;
	}
	r = call_with_touch("POST", "/v1/approvers", body, window, &out, &ref);
	drop_body(body);
	if (r != 0) {
		if (ref.status != 0)
			touch_refused(&ref, r, dev, window);
		return ctl_exit_code(r);
	}
	printf("%s %s in %s: %s credential, AAGUID %s, attestation "
	    "certificate %s\n", json_is_true(json_object_get(out,
	    "reenrolled")) ? "re-enrolled (a key revoked before)" :
	    "enrolled", ctl_js(out, "name"), ctl_js(out, "group"),
	    ctl_js(out, "alg"), ctl_js(out, "aaguid"),
	    ctl_js(out, "attestation_cert_sha256"));
	json_decref(out);
	return CTL_EXIT_OK;
}

static int
approvers_list(int argc, char **argv)
{
	char when[CTL_TIME_LEN];
	const json_t *a;
	json_t *out = NULL;
	size_t i;
	int r, k, all = 0, json = 0;

	for (k = 2; k < argc; k++) {
		if (strcmp(argv[k], "--all") == 0)
			all = 1;
		else if (strcmp(argv[k], "--json") == 0)
			json = 1;
		else {
			ctl_err("approvers list: unexpected '%s'", argv[k]);
			return CTL_EXIT_USAGE;
		}
	}
	if ((r = ctl_api("GET", all ? "/v1/approvers?all=1" : "/v1/approvers",
	    NULL, &out)) != 0)
		return ctl_exit_code(r);
	if (json) {
		ctl_print_json(out);
		json_decref(out);
		return CTL_EXIT_OK;
	}
	printf("%-20s  %-20s  %-6s  %-8s  %-16s  %-20s  %s\n", "NAME",
	    "GROUP", "ALG", "COUNTER", "CREDENTIAL", "ENROLLED", "STATUS");
	json_array_foreach(json_object_get(out, "approvers"), i, a)
		printf("%-20s  %-20s  %-6s  %8lld  %-16.16s  %-20s  %s%s\n",
		    ctl_js(a, "name"), ctl_js(a, "group"), ctl_js(a, "alg"),
		    (long long)json_integer_value(json_object_get(a,
		    "sign_count")), ctl_js(a, "credential_id"),
		    ctl_time(json_integer_value(json_object_get(a,
		    "enrolled")), when),
		    json_is_true(json_object_get(a, "revoked")) ? "revoked: " :
		    "active", json_is_true(json_object_get(a, "revoked")) ?
		    ctl_js(a, "revoke_reason") : "");
	json_decref(out);
	return CTL_EXIT_OK;
}

static int
approvers_revoke(int argc, char **argv)
{
	const char *reason = NULL, *cause = NULL;
	char target[160];
	json_t *body, *out = NULL;
	int i, r;

	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--cause") == 0 && cause == NULL)
			cause = argv[i + 1];
		else if (strcmp(argv[i], "--reason") == 0 && reason == NULL)
			reason = argv[i + 1];
		else
			break;
	}
	if (i != argc || cause == NULL || strlen(argv[2]) > 64) {
		ctl_err("usage: tapgatectl approvers revoke NAME --cause CAUSE "
		    "[--reason TEXT]\n  CAUSE: lost, stolen, cloned, "
		    "compromised (the key is never enrolled again);\n"
		    "         left, role-change, replaced (it may be)");
		return CTL_EXIT_USAGE;
	}
	if (strspn(argv[2], "abcdefghijklmnopqrstuvwxyz0123456789-_.") !=
	    strlen(argv[2])) {
		ctl_err("approvers revoke: '%s' is not an approver name",
		    argv[2]);
		return CTL_EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/approvers/%s/revoke", argv[2]);
	if ((body = json_pack("{s:s}", "cause", cause)) == NULL ||
	    (reason != NULL && json_object_set_new(body, "reason",
	    json_string(reason)) != 0)) {
		json_decref(body);
		return CTL_EXIT_USAGE;
	}
	r = ctl_api("POST", target, body, &out);
	json_decref(body);
	if (r != 0)
		return ctl_exit_code(r);
	printf("revoked %s (%lld credential(s)), cause %s: %s\n", argv[2],
	    (long long)json_integer_value(json_object_get(out, "credentials")),
	    ctl_js(out, "cause"), json_is_true(json_object_get(out,
	    "reenrollable")) ? "the key may be enrolled again" :
	    "the key is never enrolled again");
	json_decref(out);
	return CTL_EXIT_OK;
}

/* Write the JSON of an API GET to a file (or stdout). */
static int
fetch_to(const char *target, const char *path)
{
	json_t *out = NULL;
	FILE *f;
	int r;

	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return ctl_exit_code(r);
	if (path == NULL) {
		ctl_print_json(out);
	} else if ((f = fopen(path, "w")) == NULL ||
	    json_dumpf(out, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 ||
	    fclose(f) != 0) {
		ctl_err("%s: cannot write", path);
		json_decref(out);
		return CTL_EXIT_FAIL;
	}
	json_decref(out);
	return CTL_EXIT_OK;
}

int
ctl_approvers(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "enroll") == 0)
		return approvers_enroll(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return approvers_list(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "revoke") == 0)
		return approvers_revoke(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "export") == 0) {
		if (argc == 2)
			return fetch_to("/v1/approvers/export", NULL);
		if (argc == 4 && strcmp(argv[2], "-o") == 0)
			return fetch_to("/v1/approvers/export", argv[3]);
	}
	ctl_err("usage: tapgatectl approvers enroll|list|revoke|export ...");
	return CTL_EXIT_USAGE;
}

/* ---- orders and keys */

int
ctl_orders(int argc, char **argv)
{
	char target[128], what[32], id[33];
	json_t *body, *out = NULL;
	int resume, r;

	/* the signed revocation list, as tapgate-verify --revocations reads
	 * it */
	if (argc == 2 && strcmp(argv[1], "revocations") == 0) {
		if ((r = ctl_api("GET", "/v1/revocations", NULL, &out)) != 0)
			return ctl_exit_code(r);
		printf("%s\n", ctl_js(out, "jws"));
		json_decref(out);
		return CTL_EXIT_OK;
	}
	resume = argc >= 2 && strcmp(argv[1], "resume") == 0;
	if ((resume && argc != 3 && (argc != 5 ||
	    strcmp(argv[3], "--reason") != 0)) || (!resume && (argc != 3 ||
	    (strcmp(argv[1], "issue") != 0 && strcmp(argv[1], "show") != 0 &&
	    strcmp(argv[1], "jws") != 0)))) {
		ctl_err("usage: tapgatectl orders show|jws|issue ID | "
		    "orders resume ID [--reason TEXT] | orders revocations");
		return CTL_EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "orders %s", argv[1]);
	if ((r = ctl_resolve_id(what, argv[2], id)) != 0)
		return ctl_exit_code(r);
	if (strcmp(argv[1], "issue") == 0) {
		snprintf(target, sizeof(target), "/v1/requests/%s/order", id);
		if ((body = json_object()) == NULL)
			return CTL_EXIT_FAIL;
		r = ctl_api("POST", target, body, &out);
		json_decref(body);
	} else if (resume) {
		/* the redeemer may redeem it once more (and no one else) */
		snprintf(target, sizeof(target), "/v1/orders/%s/resume", id);
		if ((body = argc == 5 ? json_pack("{s:s}", "reason",
		    argv[4]) : json_object()) == NULL)
			return CTL_EXIT_FAIL;
		r = ctl_api("POST", target, body, &out);
		json_decref(body);
	} else {
		snprintf(target, sizeof(target), "/v1/orders/%s", id);
		r = ctl_api("GET", target, NULL, &out);
	}
	if (r != 0)
		return ctl_exit_code(r);
	if (strcmp(argv[1], "jws") == 0)
		printf("%s\n", ctl_js(out, "jws"));
	else
		ctl_print_json(out);
	json_decref(out);
	return CTL_EXIT_OK;
}

/* `tapgatectl keys rotate [--json]`: the operator's rotation. */
static int
keys_rotate(int argc, char **argv)
{
	char when[CTL_TIME_LEN];
	json_t *body, *out = NULL;
	int json = 0, r;

	if (argc == 3 && strcmp(argv[2], "--json") == 0)
		json = 1;
	else if (argc != 2) {
		ctl_err("usage: tapgatectl keys rotate [--json]");
		return CTL_EXIT_USAGE;
	}
	if ((body = json_object()) == NULL)
		return CTL_EXIT_FAIL;
	r = ctl_api("POST", "/v1/keys/rotate", body, &out);
	json_decref(body);
	if (r != 0)
		return ctl_exit_code(r);
	if (json)
		ctl_print_json(out);
	else
		printf("co-signing key rotated: %s is active; %s is retired "
		    "and stays published until %s\n", ctl_js(out, "kid"),
		    ctl_js(out, "retired_kid"), ctl_time(json_integer_value(
		    json_object_get(out, "retired_published_until")), when));
	json_decref(out);
	return CTL_EXIT_OK;
}

int
ctl_keys(int argc, char **argv)
{
	const char *target = "/v1/keys", *path = NULL;
	int i;

	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return keys_rotate(argc, argv);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			target = "/v1/keys?all=1";
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc &&
		    path == NULL)
			path = argv[++i];
		else {
			ctl_err("usage: tapgatectl keys [--all] [-o FILE] | "
			    "keys rotate [--json]");
			return CTL_EXIT_USAGE;
		}
	}
	return fetch_to(target, path);
}

/*
 * `tapgatectl recovery-codes issue|revoke ACCOUNT [--json]`: an account's
 * saved recovery codes.  issue prints the new set once; nothing keeps it
 * but what the person is given.
 */
int
ctl_recovery_codes(int argc, char **argv)
{
	char target[64];
	json_t *body, *out = NULL, *codes;
	size_t i;
	int json = 0, r;

	if (argc == 4 && strcmp(argv[3], "--json") == 0)
		json = 1;
	if ((argc != 3 && !json) || (strcmp(argv[1], "issue") != 0 &&
	    strcmp(argv[1], "revoke") != 0)) {
		ctl_err("usage: tapgatectl recovery-codes issue|revoke ACCOUNT "
		    "[--json]");
		return CTL_EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/recovery-codes/%s", argv[1]);
	if ((body = json_pack("{s:s}", "account", argv[2])) == NULL)
		return CTL_EXIT_FAIL;
	r = ctl_api("POST", target, body, &out);
	json_decref(body);
	if (r != 0)
		return ctl_exit_code(r);
	if (json)
		ctl_print_json(out);
	else if (strcmp(argv[1], "revoke") == 0)
		printf("recovery codes of %s revoked\n", ctl_js(out,
		    "account"));
	else {
		printf("recovery codes of %s (set %s), each usable once; "
		    "shown only now:\n", ctl_js(out, "account"),
		    ctl_js(out, "set"));
		codes = json_object_get(out, "codes");
		for (i = 0; i < json_array_size(codes); i++)
			printf("  %s\n", json_string_value(
			    json_array_get(codes, i)));
	}
	json_decref(out);
	return CTL_EXIT_OK;
}

/* SPDX-License-Identifier: ISC */
/*
 * The officer's commands at the box: `tapgatectl approve`, `approvers ...`,
 * `orders ...` and `keys`.  Approval and enrolment happen on the security
 * key plugged into the appliance: the console shows what is approved, asks
 * for the PIN (terminal without echo, or stdin), and counts down while the
 * daemon waits for the touch.
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

#define TOUCH_SECONDS	60

#define TICK_NS		100000000L	/* the countdown's step */

struct call {
	const char	*method;
	const char	*target;
	json_t		*body;
	json_t		*out;
	int		 r;
	int		 done;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
};

static void *
call_main(void *arg)
{
	struct call *c = arg;
	int r = ctl_api(c->method, c->target, c->body, &c->out);

	pthread_mutex_lock(&c->lock);
	c->r = r;
	c->done = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * Call the daemon while it waits for a touch, counting down meanwhile.
 * The wait ends when the answer arrives, not at the next step of the
 * countdown: a key that is touched at once costs no 100 ms.
 */
static int
call_with_touch(const char *method, const char *target, json_t *body,
    json_t **out)
{
	struct call c = { method, target, body, NULL, 0, 0,
	    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
	pthread_condattr_t attr;
	struct timespec next;
	pthread_t t;
	int ticks = 0, tty = isatty(2);

	if (pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&c.cond, &attr) != 0)
		return TG_ERR_INTERNAL;
	pthread_condattr_destroy(&attr);
	if (pthread_create(&t, NULL, call_main, &c) != 0) {
		pthread_cond_destroy(&c.cond);
		return TG_ERR_INTERNAL;
	}
	if (!tty)
		fprintf(stderr, "touch your security key (within %d s)\n",
		    TOUCH_SECONDS);
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&c.lock);
	while (!c.done) {
		if (tty && ticks % 10 == 0 && ticks / 10 <= TOUCH_SECONDS)
			fprintf(stderr, "\rtouch your security key ... %2d s ",
			    TOUCH_SECONDS - ticks / 10);
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
	if (tty)
		fprintf(stderr, "\r%40s\r", "");
	*out = c.out;
	return c.r;
}

static int
read_pin_into(json_t *body)
{
	char pin[TOKEN_PIN_MAX + 2];
	int r;

	if ((r = pinread_line("PIN of your security key: ", pin,
	    sizeof(pin))) != 0) {
		ctl_err("no PIN: %s", tg_strerror(r));
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

/* ---- approve */

int
ctl_approve(int argc, char **argv)
{
	const char *id = NULL, *dev = NULL;
	const json_t *ch, *t, *drops;
	json_t *prev = NULL, *body = NULL, *out = NULL;
	char target[128], *changes;
	int r, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			dev = argv[++i];
		else if (argv[i][0] != '-' && id == NULL)
			id = argv[i];
		else {
			ctl_err("usage: tapgatectl approve ID --device DEVICE");
			return CTL_EXIT_USAGE;
		}
	}
	if (id == NULL || dev == NULL || !ctl_id_ok(id)) {
		ctl_err("usage: tapgatectl approve ID --device DEVICE (ID: 32 "
		    "hex digits)");
		return CTL_EXIT_USAGE;
	}
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
	fflush(stdout);
	if ((body = json_pack("{s:s}", "device", dev)) == NULL ||
	    read_pin_into(body) != 0) {
		drop_body(body);
		return CTL_EXIT_PIN;
	}
	snprintf(target, sizeof(target), "/v1/requests/%s/approve", id);
	r = call_with_touch("POST", target, body, &out);
	drop_body(body);
	if (r != 0)
		return ctl_exit_code(r);
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
	json_t *body, *out = NULL;
	int r, i;

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
	if ((body = json_pack("{s:s,s:s,s:s}", "name", name, "group", group,
	    "device", dev)) == NULL) {
		ctl_err("approvers enroll: arguments are not valid UTF-8");
		return CTL_EXIT_USAGE;
	}
	if (alg != NULL)
		json_object_set_new(body, "alg", json_string(alg));
	if (read_pin_into(body) != 0) {
		drop_body(body);
		return CTL_EXIT_PIN;
	}
	r = call_with_touch("POST", "/v1/approvers", body, &out);
	drop_body(body);
	if (r != 0)
		return ctl_exit_code(r);
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
	printf("%-20s  %-20s  %-6s  %-8s  %-16s  %s\n", "NAME", "GROUP", "ALG",
	    "COUNTER", "CREDENTIAL", "STATUS");
	json_array_foreach(json_object_get(out, "approvers"), i, a)
		printf("%-20s  %-20s  %-6s  %8lld  %-16.16s  %s%s\n",
		    ctl_js(a, "name"), ctl_js(a, "group"), ctl_js(a, "alg"),
		    (long long)json_integer_value(json_object_get(a,
		    "sign_count")), ctl_js(a, "credential_id"),
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
	char target[128];
	json_t *out = NULL;
	int r;

	if (argc < 3 || !ctl_id_ok(argv[2])) {
		ctl_err("usage: tapgatectl orders show|jws|issue ID");
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "issue") == 0) {
		snprintf(target, sizeof(target), "/v1/requests/%s/order",
		    argv[2]);
		r = ctl_api("POST", target, json_object(), &out);
	} else if (strcmp(argv[1], "show") == 0 ||
	    strcmp(argv[1], "jws") == 0) {
		snprintf(target, sizeof(target), "/v1/orders/%s", argv[2]);
		r = ctl_api("GET", target, NULL, &out);
	} else {
		ctl_err("orders: show, jws or issue");
		return CTL_EXIT_USAGE;
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
		    "and stays published until %lld\n", ctl_js(out, "kid"),
		    ctl_js(out, "retired_kid"), (long long)json_integer_value(
		    json_object_get(out, "retired_published_until")));
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

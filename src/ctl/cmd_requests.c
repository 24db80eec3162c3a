/* SPDX-License-Identifier: ISC */
/*
 * `tapgatectl requests ...`: the officers' view of the queues, over the
 * daemon's API (and the API client the other groups share).  Readable
 * tables by default, the API's JSON with --json.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/uhttp.h"
#include "ctl/ctl.h"
#include "engine/engine.h"
#include "order/jwk.h"
#include "store/checkpoint.h"

#define CTL_API_TIMEOUT_MS	30000
#define CTL_DEFAULT_SOCKET	"/run/tapgate/tapgate.sock"

const char *ctl_socket_path;

static const char *
socket_path(void)
{
	const char *env = getenv("TAPGATE_SOCKET");

	if (ctl_socket_path != NULL)
		return ctl_socket_path;
	return env != NULL && *env != '\0' ? env : CTL_DEFAULT_SOCKET;
}

const char *
ctl_socket(void)
{
	return socket_path();
}

int
ctl_read_jwks(const char *path, struct jwks **setp)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp;
	int r;

	if ((fp = fopen(path, "re")) == NULL) {
		ctl_err("%s: cannot open", path);
		return TG_ERR_IO;
	}
	/* one byte more than a key set may hold, to tell it is too long */
	if ((buf = malloc(JWKS_MAX_SIZE + 1)) == NULL) {
		fclose(fp);
		return TG_ERR_NOMEM;
	}
	n = fread(buf, 1, JWKS_MAX_SIZE + 1, fp);
	r = ferror(fp) ? TG_ERR_IO : jwks_parse(buf, n, setp);
	fclose(fp);
	free(buf);
	if (r != 0)
		ctl_err("%s: not a key set tapgate can use: %s", path,
		    tg_strerror(r));
	return r;
}

int
ctl_api(const char *method, const char *target, const json_t *body,
    json_t **out)
{
	struct uhttp_response res;
	json_t *j = NULL;
	char *b = NULL;
	int r;

	if (body != NULL && (b = json_dumps(body, JSON_COMPACT)) == NULL)
		return TG_ERR_NOMEM;
	r = uhttp_request(socket_path(), method, target, b, NULL, 0,
	    CTL_API_TIMEOUT_MS, &res);
	/* a body may carry a PIN to the daemon's security-key code */
	if (b != NULL)
		explicit_bzero(b, strlen(b));
	free(b);
	if (r != 0) {
		ctl_err("cannot reach tapgated at %s: %s", socket_path(),
		    tg_strerror(r));
		return TG_ERR_IO;
	}
	j = json_loads(res.body, 0, NULL);
	if (res.status >= 300) {
		const json_t *e = json_object_get(j, "error");

		ctl_err("%s (HTTP %d %s)", e ? json_string_value(
		    json_object_get(e, "message")) : res.body, res.status,
		    e ? json_string_value(json_object_get(e, "code")) : "");
		json_decref(j);
		uhttp_response_clear(&res);
		return res.status == 404 ? TG_ERR_NOT_FOUND : TG_ERR_INVALID;
	}
	uhttp_response_clear(&res);
	if (j == NULL) {
		ctl_err("tapgated sent a reply that is not JSON");
		return TG_ERR_PROTOCOL;
	}
	*out = j;
	return 0;
}

const char *
ctl_js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static long long
ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* "3h12m", "45s": a duration for people. */
static void
duration(long long s, char *out, size_t len)
{
	if (s <= 0)
		snprintf(out, len, "-");
	else if (s < 120)
		snprintf(out, len, "%llds", s);
	else if (s < 7200)
		snprintf(out, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 172800)
		snprintf(out, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(out, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

void
ctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s != NULL)
		puts(s);
	free(s);
}

static int
requests_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *queue = NULL, *state = NULL, *limit = "100";
	char target[512], age[48], hold[48];
	const json_t *row;
	json_t *out = NULL;
	time_t now = time(NULL);
	size_t i;
	int c, json = 0, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q': queue = optarg; break;
		case 's': state = optarg; break;
		case 'n': limit = optarg; break;
		case 'j': json = 1; break;
		default: return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ctl_err("requests list: unexpected argument '%s'",
		    argv[optind]);
		return CTL_EXIT_USAGE;
	}
	/* the daemon checks the names; only URL-safe ones get through */
	if ((queue && strspn(queue, "abcdefghijklmnopqrstuvwxyz_") !=
	    strlen(queue)) || (state && strspn(state,
	    "abcdefghijklmnopqrstuvwxyz_") != strlen(state)) ||
	    strspn(limit, "0123456789") != strlen(limit)) {
		ctl_err("requests list: --queue and --state take names like "
		    "password_reset and in_hold; --limit a number");
		return CTL_EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/requests?limit=%s%s%s%s%s",
	    limit, queue ? "&queue=" : "", queue ? queue : "",
	    state ? "&state=" : "", state ? state : "");
	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return ctl_exit_code(r);
	if (json) {
		ctl_print_json(out);
		json_decref(out);
		return CTL_EXIT_OK;
	}
	printf("%-32s  %-20s  %-8s  %-14s  %-24s  %-10s  %6s  %8s\n", "ID",
	    "QUEUE", "CLASS", "STATE", "ACCOUNT@SYSTEM", "AGENT", "AGE",
	    "HOLD");
	json_array_foreach(json_object_get(out, "requests"), i, row) {
		char who[128];

		snprintf(who, sizeof(who), "%s@%s", ctl_js(row, "account"),
		    ctl_js(row, "system"));
		duration((long long)now - ji(row, "created"), age, sizeof(age));
		duration(ji(row, "hold_until") - (long long)now, hold,
		    sizeof(hold));
		printf("%-32s  %-20s  %-8s  %-14s  %-24.24s  %-10.10s  %6s  "
		    "%8s\n", ctl_js(row, "id"), ctl_js(row, "queue"), ctl_js(row, "class"),
		    ctl_js(row, "state"), who, ctl_js(row, "agent"), age,
		    strcmp(ctl_js(row, "state"), "in_hold") == 0 ? hold : "-");
	}
	if (json_array_size(json_object_get(out, "requests")) == 0)
		printf("(no requests)\n");
	json_decref(out);
	return CTL_EXIT_OK;
}

int
ctl_id_ok(const char *id)
{
	return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

static void
show_text(const json_t *j)
{
	const json_t *t = json_object_get(j, "target");
	const json_t *rq = json_object_get(j, "requester");
	const json_t *dec = json_object_get(j, "decision");
	const json_t *cls = json_object_get(dec, "class");
	const json_t *route = json_object_get(dec, "route");
	const json_t *hold = json_object_get(dec, "hold");
	const json_t *evd = json_object_get(dec, "evidence");
	const json_t *risk = json_object_get(json_object_get(j, "request"),
	    "risk");
	const json_t *v, *item;
	const char *key;
	char left[48];
	size_t i;

	printf("request   %s\n", ctl_js(j, "id"));
	printf("queue     %s\n", ctl_js(j, "queue"));
	printf("state     %s\n", ctl_js(j, "state"));
	if (strcmp(ctl_js(j, "state"), "sign_failed") == 0)
		printf("          parked: the signer refused it (the "
		    "sign_failed decision below says why); once mended,\n"
		    "          `tapgatectl orders issue %s` asks it again, "
		    "`requests deny` closes it\n", ctl_js(j, "id"));
	printf("target    %s on %s\n", ctl_js(t, "account"), ctl_js(t, "system"));
	printf("class     %s (claimed %s; %s: %s)\n", ctl_js(cls, "effective"),
	    ctl_js(t, "claimed_class"), ctl_js(cls, "source"), ctl_js(cls, "reason"));
	printf("requester %s over %s, ticket %s, uid %lld\n", ctl_js(rq, "agent"),
	    ctl_js(rq, "channel"), ctl_js(rq, "ticket"), ji(rq, "uid"));
	printf("route     %s (%s)\n", ctl_js(route, "name"), ctl_js(route, "reason"));
	printf("risk     ");
	i = 0;
	json_object_foreach((json_t *)(uintptr_t)risk, key, v)
		if (json_is_true(v)) {
			printf(" %s", key);
			i++;
		}
	printf("%s\n", i ? "" : " none");
	printf("evidence  %lld of %lld counted\n", ji(evd, "counted"),
	    ji(evd, "required"));
	json_array_foreach(json_object_get(j, "evidence"), i, item)
		printf("  - %-22s %-4s by %s over %s ref %s: %s\n",
		    ctl_js(item, "type"), ctl_js(item, "result"), ctl_js(item, "verifier"),
		    ctl_js(item, "channel"), ctl_js(item, "ref"),
		    json_string_value(json_array_get(json_object_get(evd,
		    "verdicts"), i)) ? json_string_value(json_array_get(
		    json_object_get(evd, "verdicts"), i)) : "-");
	json_array_foreach(json_object_get(json_object_get(dec, "approvals"),
	    "groups"), i, item)
		printf("approvals %s: %lld of %lld\n", ctl_js(item, "group"),
		    ji(item, "counted"), ji(item, "required"));
	duration(ji(hold, "left"), left, sizeof(left));
	printf("hold      %lld s%s%s\n", ji(hold, "seconds"),
	    ji(hold, "start") ? ", time left " : " (not started)",
	    ji(hold, "start") ? left : "");
	json_array_foreach(json_object_get(j, "decisions"), i, item)
		printf("decision  %s by %s (%s): %s\n", ctl_js(item, "kind"),
		    ctl_js(item, "actor_name"), ctl_js(item, "actor_role"),
		    ctl_js(item, "reason"));
	if (json_array_size(json_object_get(dec, "missing")) > 0)
		printf("missing:\n");
	json_array_foreach(json_object_get(dec, "missing"), i, item)
		printf("  - %s\n    %s\n", ctl_js(item, "code"), ctl_js(item, "text"));
}

static int
requests_show(int argc, char **argv)
{
	char target[128];
	json_t *out = NULL;
	int json = 0, r;

	if (argc == 4 && strcmp(argv[3], "--json") == 0)
		json = 1;
	else if (argc != 3) {
		ctl_err("usage: tapgatectl requests show ID [--json]");
		return CTL_EXIT_USAGE;
	}
	if (!ctl_id_ok(argv[2])) {
		ctl_err("requests show: '%s' is not a request id (32 hex "
		    "digits)", argv[2]);
		return CTL_EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/requests/%s", argv[2]);
	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return ctl_exit_code(r);
	if (json)
		ctl_print_json(out);
	else
		show_text(out);
	json_decref(out);
	return CTL_EXIT_OK;
}

static int
requests_decide(int argc, char **argv, const char *kind)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	const char *reason = NULL;
	char target[128];
	json_t *body, *out = NULL;
	int c, json = 0, r;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': reason = optarg; break;
		case 'j': json = 1; break;
		default: return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || reason == NULL) {
		ctl_err("usage: tapgatectl requests %s ID --reason TEXT", kind);
		return CTL_EXIT_USAGE;
	}
	if (!ctl_id_ok(argv[optind])) {
		ctl_err("requests %s: '%s' is not a request id", kind,
		    argv[optind]);
		return CTL_EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/requests/%s/%s", argv[optind],
	    kind);
	if ((body = json_pack("{s:s}", "reason", reason)) == NULL) {
		ctl_err("requests %s: the reason is not valid UTF-8", kind);
		return CTL_EXIT_USAGE;
	}
	r = ctl_api("POST", target, body, &out);
	json_decref(body);
	if (r != 0)
		return ctl_exit_code(r);
	if (json)
		ctl_print_json(out);
	else
		printf("%s: %s\n", ctl_js(out, "id"), ctl_js(out, "state"));
	json_decref(out);
	return CTL_EXIT_OK;
}

int
ctl_requests(int argc, char **argv)
{
	if (argc < 2) {
		ctl_err("usage: tapgatectl requests list|show|deny|veto ...");
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "list") == 0)
		return requests_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return requests_show(argc, argv);
	if (strcmp(argv[1], "deny") == 0 || strcmp(argv[1], "veto") == 0)
		return requests_decide(argc, argv, argv[1]);
	ctl_err("requests: unknown subcommand '%s'", argv[1]);
	return CTL_EXIT_USAGE;
}

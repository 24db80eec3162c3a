/* SPDX-License-Identifier: ISC */
/*
 * `tapgatectl requests ...`: the officers' view of the queues and of a
 * request's history, over the daemon's API, and request ids by unique
 * prefix for every command that takes one.  Readable tables by default,
 * the API's JSON with --json.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/errors.h"
#include "ctl/ctl.h"
#include "engine/engine.h"
#include "order/jwk.h"
#include "store/checkpoint.h"

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
	printf("%-32s  %-20s  %-8s  %-14s  %-24s  %-10s  %-12s  %6s  %8s\n",
	    "ID", "QUEUE", "CLASS", "STATE", "ACCOUNT@SYSTEM", "AGENT",
	    "TICKET", "AGE", "HOLD");
	json_array_foreach(json_object_get(out, "requests"), i, row) {
		char who[128];

		snprintf(who, sizeof(who), "%s@%s", ctl_js(row, "account"),
		    ctl_js(row, "system"));
		duration((long long)now - ji(row, "created"), age, sizeof(age));
		duration(ji(row, "hold_until") - (long long)now, hold,
		    sizeof(hold));
		printf("%-32s  %-20s  %-8s  %-14s  %-24.24s  %-10.10s  "
		    "%-12.12s  %6s  %8s\n", ctl_js(row, "id"),
		    ctl_js(row, "queue"), ctl_js(row, "class"),
		    ctl_js(row, "state"), who, ctl_js(row, "agent"),
		    ctl_js(row, "ticket"), age,
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

/*
 * The one request whose id starts with prefix, asked of the daemon (which
 * searches every request, not a page of the newest); several are listed.
 */
static int
prefix_matches(const char *what, const char *prefix, char id[33])
{
	char target[96];
	const json_t *list, *row;
	json_t *out = NULL;
	size_t i, n;
	int r;

	/* one more than shown, to tell "and more" */
	snprintf(target, sizeof(target), "/v1/requests?prefix=%s&limit=9",
	    prefix);
	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return r;
	list = json_object_get(out, "requests");
	n = json_array_size(list);
	json_array_foreach(list, i, row) {
		if (!ctl_id_ok(ctl_js(row, "id")) || strncmp(ctl_js(row, "id"),
		    prefix, strlen(prefix)) != 0) {
			/* an older daemon: it listed the newest instead */
			ctl_err("%s: this tapgated does not look up request "
			    "ids by prefix: give the whole id", what);
			json_decref(out);
			return TG_ERR_INVALID;
		}
	}
	if (n == 1) {
		memcpy(id, ctl_js(json_array_get(list, 0), "id"), 33);
		r = 0;
	} else if (n == 0) {
		ctl_err("%s: no request id starts with %s", what, prefix);
		r = TG_ERR_NOT_FOUND;
	} else {
		ctl_err("%s: %s is ambiguous: %s requests have ids that start "
		    "with it; give more digits:", what, prefix, n > 8 ?
		    "more than 8" : "several");
		json_array_foreach(list, i, row)
			if (i < 8)
				fprintf(stderr, "  %s  %s  %s@%s  %s\n",
				    ctl_js(row, "id"), ctl_js(row, "state"),
				    ctl_js(row, "account"),
				    ctl_js(row, "system"),
				    ctl_js(row, "queue"));
		r = TG_ERR_INVALID;
	}
	json_decref(out);
	return r;
}

int
ctl_resolve_id(const char *what, const char *arg, char id[33])
{
	char p[33];
	size_t i, n = strlen(arg);

	for (i = 0; i < n && i < 32; i++)
		p[i] = arg[i] >= 'A' && arg[i] <= 'F' ? (char)(arg[i] -
		    'A' + 'a') : arg[i];
	p[i] = '\0';
	if (n > 32 || strspn(p, "0123456789abcdef") != n) {
		ctl_err("%s: '%s' is not a request id (32 hex digits, or the "
		    "first %d or more of them)", what, arg, CTL_ID_PREFIX_MIN);
		return TG_ERR_INVALID;
	}
	if (n < CTL_ID_PREFIX_MIN) {
		ctl_err("%s: '%s' is too short: give at least %d hex digits "
		    "of the request id", what, arg, CTL_ID_PREFIX_MIN);
		return TG_ERR_INVALID;
	}
	if (n == 32) {
		memcpy(id, p, 33);
		return 0;
	}
	return prefix_matches(what, p, id);
}

/* Why an evidence item did or did not count, in words. */
static const char *
verdict_words(const char *v)
{
	static const struct {
		const char *name, *words;
	} verdicts[] = {
		{ "counted", "counted" },
		{ "failed", "not counted: the check failed" },
		{ "request_channel", "not counted: made over the channel the "
		    "request came by" },
		{ "recovered_channel", "not counted: made over the channel "
		    "being recovered" },
		{ "self_verified", "not counted: verified by the account "
		    "holder" },
		{ "duplicate", "not counted: the same check entered again" },
		{ "requester_verified", "not counted: verified by the "
		    "requester" },
	};
	size_t i;

	for (i = 0; v != NULL && i < sizeof(verdicts) / sizeof(verdicts[0]);
	    i++)
		if (strcmp(verdicts[i].name, v) == 0)
			return verdicts[i].words;
	return v != NULL ? v : "-";
}

/* "none", "1", "3": a count in a sentence. */
static const char *
count_words(long long n, char *buf, size_t len)
{
	if (n <= 0)
		return "none";
	snprintf(buf, len, "%lld", n);
	return buf;
}

/*
 * The evidence as the policy weighs it: items listed, counted, needed
 * (none on a manual review route no risk forced: the officers judge
 * it), and how many the appliance verified itself.  Each item says who
 * vouches for it: the appliance, an officer, or the agent's word.
 */
static void
show_evidence(const json_t *j, const json_t *dec)
{
	const json_t *evd = json_object_get(dec, "evidence"), *item;
	const json_t *items = json_object_get(j, "evidence");
	char a[24], b[24];
	size_t i;

	printf("evidence  %zu listed, %s counted, ", json_array_size(items),
	    count_words(ji(evd, "counted"), a, sizeof(a)));
	if (ji(evd, "required") == 0 && strcmp(ctl_js(json_object_get(dec,
	    "route"), "name"), "manual_review") == 0)
		printf("none needed: on the manual review route the officers "
		    "judge it\n");
	else if (ji(evd, "types_required_count") > 1)
		printf("%s needed, of %lld different types\n", count_words(
		    ji(evd, "required"), b, sizeof(b)),
		    ji(evd, "types_required_count"));
	else
		printf("%s needed\n", count_words(ji(evd, "required"), b,
		    sizeof(b)));
	if (ji(evd, "verified_required") > 0)
		printf("verified  %s of %lld by the appliance, of %lld "
		    "different types\n", count_words(ji(evd, "verified"), a,
		    sizeof(a)), ji(evd, "verified_required"),
		    ji(evd, "verified_types_required"));
	json_array_foreach(items, i, item)
		printf("  - %-22s %-4s by %s (%s) over %s ref %s: %s\n",
		    ctl_js(item, "type"), ctl_js(item, "result"),
		    ctl_js(item, "verifier"), json_object_get(item,
		    "origin") != NULL ? ctl_js(item, "origin") : "agent",
		    ctl_js(item, "channel"), ctl_js(item, "ref"),
		    verdict_words(json_string_value(json_array_get(
		    json_object_get(evd, "verdicts"), i))));
}

/* Each group's count, and who approved (a daemon that says so). */
static void
show_approvals(const json_t *j, const json_t *dec)
{
	const json_t *g, *ap, *list = json_object_get(j, "approvals");
	char when[CTL_TIME_LEN];
	size_t i, k;

	json_array_foreach(json_object_get(json_object_get(dec, "approvals"),
	    "groups"), i, g)
		printf("approvals %s: %lld of %lld\n", ctl_js(g, "group"),
		    ji(g, "counted"), ji(g, "required"));
	if (list == NULL)
		return;		/* a daemon from before it listed them */
	if (json_array_size(list) == 0)
		printf("approved  by nobody yet\n");
	json_array_foreach(list, k, ap)
		printf("approved  by %s (%s) at %s%s\n", ctl_js(ap, "officer"),
		    ctl_js(ap, "group"), ctl_time(ji(ap, "time"), when),
		    json_is_true(json_object_get(ap, "user_verified")) ?
		    ", PIN verified" : ", PIN NOT verified");
}

/* The strings of array a joined by sep, or "none". */
static void
print_list(const json_t *a, const char *sep)
{
	const json_t *v;
	size_t i;

	if (json_array_size(a) == 0) {
		printf("none");
		return;
	}
	json_array_foreach(a, i, v)
		printf("%s%s", i ? sep : "", json_is_string(v) ?
		    json_string_value(v) : "?");
}

void
ctl_show_directory(const json_t *snap, const char *indent)
{
	static const char *const kinds[] = { "mobile", "phone", "mail",
	    "alt_mail" };
	const json_t *c = json_object_get(snap, "contacts"), *v;
	size_t i, n;

	if (!json_is_object(snap)) {
		printf("%snone: no directory (the configuration names the "
		    "class)\n", indent);
		return;
	}
	printf("%sdn        %s\n", indent, ctl_js(snap, "dn"));
	printf("%sfound     %s\n", indent, ctl_js(snap, "class_reason"));
	printf("%sprivileged groups: ", indent);
	print_list(json_object_get(snap, "privileged_groups"), "; ");
	printf("%s\n", json_is_true(json_object_get(snap,
	    "groups_truncated")) ? " (more groups than kept)" : "");
	json_array_foreach(json_object_get(snap, "privileged_through"), i,
	    v) {
		printf("%s  %s through ", indent, ctl_js(v, "group"));
		print_list(json_object_get(v, "through"), "; ");
		printf("\n");
	}
	printf("%smanager   %s\n", indent, ctl_js(snap, "manager")[0] ?
	    ctl_js(snap, "manager") : "none");
	printf("%scontacts ", indent);
	for (i = 0, n = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		v = json_object_get(c, kinds[i]);
		if (json_array_size(v) == 0)
			continue;
		printf("%s%s ", n++ ? "; " : " ", kinds[i]);
		print_list(v, ", ");
	}
	printf("%s (masked)\n%stype      ", n ? "" : " none", indent);
	print_list(json_object_get(snap, "types"), ", ");
	printf("; %s, %s\n", json_is_true(json_object_get(snap, "disabled")) ?
	    "disabled" : "enabled", json_is_true(json_object_get(snap,
	    "locked")) ? "locked" : "not locked");
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
	const json_t *risk = json_object_get(json_object_get(j, "request"),
	    "risk");
	const json_t *v, *item;
	const char *key;
	char left[48], when[CTL_TIME_LEN], upd[CTL_TIME_LEN];
	size_t i;

	printf("request   %s\n", ctl_js(j, "id"));
	printf("queue     %s\n", ctl_js(j, "queue"));
	printf("state     %s\n", ctl_js(j, "state"));
	if (strcmp(ctl_js(j, "state"), "sign_failed") == 0)
		printf("          parked: the signer refused it (the "
		    "sign_failed decision below says why); once mended,\n"
		    "          `tapgatectl orders issue %s` asks it again, "
		    "`requests deny` closes it\n", ctl_js(j, "id"));
	if (strcmp(ctl_js(j, "state"), "expired") == 0)
		printf("          expired: it had no order within "
		    "holds.request_ttl_seconds of its submission;\n"
		    "          nothing moves it on: submit a new request\n");
	printf("created   %s, last changed %s\n", ctl_time(ji(j, "created"),
	    when), ctl_time(ji(j, "updated"), upd));
	printf("target    %s on %s\n", ctl_js(t, "account"),
	    ctl_js(t, "system"));
	printf("class     %s (claimed %s; %s: %s)\n",
	    ctl_js(cls, "effective"), ctl_js(t, "claimed_class"),
	    ctl_js(cls, "source"), ctl_js(cls, "reason"));
	printf("directory what the appliance found (not what was claimed):\n");
	ctl_show_directory(json_object_get(j, "directory"), "          ");
	printf("requester %s over %s, ticket %s, uid %lld\n",
	    ctl_js(rq, "agent"), ctl_js(rq, "channel"), ctl_js(rq, "ticket"),
	    ji(rq, "uid"));
	printf("route     %s (%s)\n", ctl_js(route, "name"),
	    ctl_js(route, "reason"));
	printf("risk     ");
	i = 0;
	json_object_foreach((json_t *)(uintptr_t)risk, key, v)
		if (json_is_true(v)) {
			printf(" %s", key);
			i++;
		}
	printf("%s\n", i ? "" : " none");
	show_evidence(j, dec);
	show_approvals(j, dec);
	duration(ji(hold, "left"), left, sizeof(left));
	if (ji(hold, "start") == 0)
		printf("hold      %lld s (not started)\n", ji(hold, "seconds"));
	else
		printf("hold      %lld s, started %s, ends %s%s%s\n",
		    ji(hold, "seconds"), ctl_time(ji(hold, "start"), when),
		    ctl_time(ji(hold, "until"), upd), ji(hold, "left") > 0 ?
		    ", time left " : " (over)", ji(hold, "left") > 0 ? left :
		    "");
	json_array_foreach(json_object_get(j, "decisions"), i, item)
		printf("decision  %s by %s (%s): %s\n          at %s\n",
		    ctl_js(item, "kind"), ctl_js(item, "actor_name"),
		    ctl_js(item, "actor_role"), ctl_js(item, "reason"),
		    ctl_time(ji(item, "created"), when));
	if (json_array_size(json_object_get(dec, "missing")) > 0)
		printf("missing:\n");
	json_array_foreach(json_object_get(dec, "missing"), i, item)
		printf("  - %s\n", ctl_js(item, "text"));
}

static int
requests_show(int argc, char **argv)
{
	char target[128], id[33];
	json_t *out = NULL;
	int json = 0, r;

	if (argc == 4 && strcmp(argv[3], "--json") == 0)
		json = 1;
	else if (argc != 3) {
		ctl_err("usage: tapgatectl requests show ID [--json]");
		return CTL_EXIT_USAGE;
	}
	if ((r = ctl_resolve_id("requests show", argv[2], id)) != 0)
		return ctl_exit_code(r);
	snprintf(target, sizeof(target), "/v1/requests/%s", id);
	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return ctl_exit_code(r);
	if (json)
		ctl_print_json(out);
	else
		show_text(out);
	json_decref(out);
	return CTL_EXIT_OK;
}

/*
 * What an audit entry about a request says, in words: the event's phrase
 * around the detail that matters (a time, a reason, a name), so an agent
 * reads the history without knowing the event names (--json has them).
 */
static const struct {
	const char	*event;
	const char	*before;
	const char	*detail;	/* member of details, or NULL */
	const char	*after;
	int		 is_time;	/* the detail is a time */
} history_words[] = {
	{ "request.submitted", "submitted by agent ", "agent", "", 0 },
	{ "request.evidence_added", "evidence added", NULL, "", 0 },
	{ "challenge.issued", "a code was sent to ", "destination", "", 0 },
	{ "challenge.answered", "a challenge was answered: ", "type", "",
	    0 },
	{ "challenge.failed", "a wrong code was given", NULL, "", 0 },
	{ "challenge.expired", "a challenge expired unanswered", NULL, "",
	    0 },
	{ "request.proofing_recorded", "identity proofing recorded by ",
	    "officer", "", 0 },
	{ "request.state_changed", "state changed from ", "from", "", 0 },
	{ "request.approved", "approved for group ", "group", "", 0 },
	{ "approval.begun", "an approval was begun in the console by ",
	    "officer", "", 0 },
	{ "approval.refused", "an approval was refused: ", "reason", "", 0 },
	{ "request.hold_started", "waiting period started, until ", "until",
	    "", 1 },
	{ "request.hold_cleared", "waiting period ended early", NULL, "", 0 },
	{ "hold.extended", "waiting period extended, until ", "until", "",
	    1 },
	{ "request.veto", "vetoed: ", "reason", "", 0 },
	{ "request.deny", "denied: ", "reason", "", 0 },
	{ "request.sign_failed", "the signer refused it (parked): ", "cause",
	    "", 0 },
	{ "order.issued", "order co-signed, valid until ", "expires", "", 1 },
	{ "order.refused", "the signer refused the order: ", "reason", "",
	    0 },
	{ "order.retry", "the signer was asked again", NULL, "", 0 },
	{ "order.redeemed", "order redeemed", NULL, "", 0 },
	{ "order.redeem_refused", "a redemption was refused: ", "reason", "",
	    0 },
	{ "order.revoked", "order revoked: ", "reason", "", 0 },
	{ "request.risk_raised", "risk raised: ", "reason", "", 0 },
	{ "request.expired", "expired: no order in its time", NULL, "", 0 },
	{ "alarm.cloned_key", "ALARM: the key of ", "approver", " may be "
	    "cloned (its counter did not grow)", 0 },
	{ "hook.failed", "a notification hook failed: ", "outcome", "", 0 },
};

/* One entry of a request's history, on one line. */
static void
history_line(const json_t *e)
{
	const json_t *details = json_object_get(e, "details");
	const char *event = ctl_js(e, "event");
	char when[CTL_TIME_LEN], t[CTL_TIME_LEN], what[512];
	size_t i;

	/* an event this console does not know: its name */
	snprintf(what, sizeof(what), "%s", event);
	for (i = 0; i < sizeof(history_words) / sizeof(history_words[0]);
	    i++) {
		if (strcmp(history_words[i].event, event) != 0)
			continue;
		snprintf(what, sizeof(what), "%s%s%s",
		    history_words[i].before, history_words[i].detail == NULL ?
		    "" : history_words[i].is_time ? ctl_time(ji(details,
		    history_words[i].detail), t) : ctl_js(details,
		    history_words[i].detail), history_words[i].after);
		break;
	}
	if (strcmp(event, "request.state_changed") == 0)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
		    " to %s", ctl_js(details, "to"));
	printf("%s  %s  (%s, %s)\n", ctl_time(ji(e, "time"), when), what,
	    ctl_js(e, "actor_name"), ctl_js(e, "actor_role"));
}

/*
 * `requests history ID [--json]`: every audit entry about the request,
 * oldest first, fetched a page at a time (each page after the last
 * entry of the one before).
 */
static int
requests_history(int argc, char **argv)
{
	char target[128], id[33];
	const json_t *e;
	json_t *out = NULL, *all;
	long long after = 0;
	size_t i;
	int json = 0, more = 1, r = 0;

	if (argc == 4 && strcmp(argv[3], "--json") == 0)
		json = 1;
	else if (argc != 3) {
		ctl_err("usage: tapgatectl requests history ID [--json]");
		return CTL_EXIT_USAGE;
	}
	if ((r = ctl_resolve_id("requests history", argv[2], id)) != 0)
		return ctl_exit_code(r);
	if ((all = json_array()) == NULL)
		return CTL_EXIT_FAIL;
	while (more && r == 0) {
		snprintf(target, sizeof(target), "/v1/audit?request=%s"
		    "&after=%lld", id, after);
		if ((r = ctl_api("GET", target, NULL, &out)) != 0)
			break;
		json_array_foreach(json_object_get(out, "entries"), i, e) {
			/* an older daemon answers with the log's tail */
			if (strcmp(ctl_js(e, "request_id"), id) != 0) {
				ctl_err("requests history: this tapgated does "
				    "not serve a request's history");
				r = TG_ERR_PROTOCOL;
				break;
			}
			/* a page that does not move on would never end */
			if (ji(e, "seq") <= after) {
				ctl_err("requests history: the daemon "
				    "answered out of order");
				r = TG_ERR_PROTOCOL;
				break;
			}
			after = ji(e, "seq");
			json_array_append(all, (json_t *)(uintptr_t)e);
		}
		more = json_is_true(json_object_get(out, "more")) &&
		    json_array_size(json_object_get(out, "entries")) > 0;
		json_decref(out);
		out = NULL;
	}
	if (r == 0 && json) {
		out = json_pack("{s:s,s:O}", "request_id", id, "entries", all);
		ctl_print_json(out);
		json_decref(out);
	} else if (r == 0) {
		printf("request   %s\n", id);
		json_array_foreach(all, i, e)
			history_line(e);
	}
	json_decref(all);
	return ctl_exit_code(r);
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
	char target[128], what[32], id[33];
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
	snprintf(what, sizeof(what), "requests %s", kind);
	if ((r = ctl_resolve_id(what, argv[optind], id)) != 0)
		return ctl_exit_code(r);
	snprintf(target, sizeof(target), "/v1/requests/%s/%s", id, kind);
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
		ctl_err("usage: tapgatectl requests "
		    "list|show|history|deny|veto ...");
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "list") == 0)
		return requests_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return requests_show(argc, argv);
	if (strcmp(argv[1], "history") == 0)
		return requests_history(argc, argv);
	if (strcmp(argv[1], "deny") == 0 || strcmp(argv[1], "veto") == 0)
		return requests_decide(argc, argv, argv[1]);
	ctl_err("requests: unknown subcommand '%s'", argv[1]);
	return CTL_EXIT_USAGE;
}

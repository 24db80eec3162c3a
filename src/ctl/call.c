/* SPDX-License-Identifier: ISC */
/*
 * Calling tapgated: the socket, the answer, and what a refusal means.
 * A socket that cannot be reached is explained from its errno and what
 * the path holds; a refusal keeps the daemon's code for scripts (the
 * "(HTTP 403 code)" suffix) and says in words what a bare code names.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/uhttp.h"
#include "ctl/ctl.h"

#define CTL_DEFAULT_SOCKET	"/run/tapgate/tapgate.sock"
/* A caller without a role is told where roles come from. */
#define ROLES_HINT	"the roles of uids and groups are set by `roles` in " \
			"tapgate.conf"

const char *ctl_socket_path;

const char *
ctl_socket(void)
{
	const char *env = getenv("TAPGATE_SOCKET");

	if (ctl_socket_path != NULL)
		return ctl_socket_path;
	return env != NULL && *env != '\0' ? env : CTL_DEFAULT_SOCKET;
}

/*
 * What the daemon's error codes mean to the console: the error they
 * stand for (its exit code comes from ctl_exit_code(), the one table of
 * exit codes) and, for a code the daemon's message merely names (the
 * separation-of-duties faults), the words that say it.  The token codes
 * are the reverse of the daemon's token_answer().  A code not listed is a
 * refusal (TG_ERR_POLICY), or by its HTTP status in refusal_err().
 */
static const struct {
	const char	*code;
	int		 err;
	const char	*words;
} daemon_codes[] = {
	/* the security key, as the token process met it */
	{ "no_touch", TG_ERR_NO_TOUCH, NULL },
	{ "no_device", TG_ERR_DEVICE, NULL },
	{ "pin", TG_ERR_PIN_INVALID, NULL },
	{ "refused_on_key", TG_ERR_DENIED, NULL },
	{ "token_error", TG_ERR_DEVICE, NULL },
	{ "attestation", TG_ERR_ATTESTATION, NULL },
	{ "not_enrolled", TG_ERR_NO_CREDENTIAL, NULL },
	/* the command line named something the daemon does not take */
	{ "invalid_field", TG_ERR_INVALID, NULL },
	{ "invalid_query", TG_ERR_INVALID, NULL },
	{ "invalid_path", TG_ERR_INVALID, NULL },
	{ "malformed_body", TG_ERR_INVALID, NULL },
	{ "not_found", TG_ERR_NOT_FOUND, NULL },
	{ "forbidden", TG_ERR_PERM, NULL },	/* and ROLES_HINT */
	/* separation of duties (policy_approver_fault_name()) */
	{ "not_user_verified", TG_ERR_POLICY, "the key did not verify "
	    "the PIN (no user verification), so the approval cannot count" },
	{ "is_requester", TG_ERR_POLICY, "you submitted this request; "
	    "other officers must approve it" },
	{ "is_target", TG_ERR_POLICY, "this request recovers your own "
	    "account; other officers must approve it" },
	{ "already_approved", TG_ERR_POLICY, "you have approved this "
	    "request already; the next approval must come from another "
	    "officer" },
	{ "credential_reused", TG_ERR_POLICY, "this security key has "
	    "approved this request already, for another officer" },
	{ "not_awaiting_approval", TG_ERR_POLICY, "the request is not "
	    "waiting for approvals" },
	{ "group_not_needed", TG_ERR_POLICY, "the policy needs no more "
	    "approvals from your group for this request (see `tapgatectl "
	    "requests show` for the groups still missing)" },
};

static int
code_row(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(daemon_codes) / sizeof(daemon_codes[0]); i++)
		if (strcmp(daemon_codes[i].code, code) == 0)
			return (int)i;
	return -1;
}

/* The error a refusal stands for. */
static int
refusal_err(const struct ctl_refusal *ref)
{
	int i = code_row(ref->code);

	if (i >= 0)
		return daemon_codes[i].err;
	if (ref->status == 400 || ref->status == 413 || ref->status == 414 ||
	    ref->status == 422)
		return TG_ERR_INVALID;
	if (ref->status == 404)
		return TG_ERR_NOT_FOUND;
	if (ref->status >= 500)
		return TG_ERR_INTERNAL;
	return TG_ERR_POLICY;
}

/*
 * Where a message merely names the code ("separation of duties:
 * is_target", or the bare code): the length of what comes before it, or
 * -1 when the message says more than the code.
 */
static int
code_named_at(const char *msg, const char *code)
{
	size_t n = strlen(msg), c = strlen(code);

	if (c == 0 || n < c || strcmp(msg + n - c, code) != 0)
		return -1;
	if (n == c)
		return 0;
	if (n >= c + 2 && strncmp(msg + n - c - 2, ": ", 2) == 0)
		return (int)(n - c);
	return -1;
}

void
ctl_refusal_print(const struct ctl_refusal *ref, const char *more)
{
	const char *msg = ref->message, *words = NULL;
	int i = code_row(ref->code), at;

	if (i >= 0)
		words = daemon_codes[i].words;
	if (more == NULL && strcmp(ref->code, "forbidden") == 0)
		more = ROLES_HINT;
	at = code_named_at(msg, ref->code);
	if (words != NULL && at >= 0)
		ctl_err("%.*s%s%s%s (HTTP %d %s)", at, msg, words,
		    more ? "; " : "", more ? more : "", ref->status,
		    ref->code);
	else
		ctl_err("%s%s%s (HTTP %d%s%s)", msg[0] ? msg : "refused",
		    more ? "; " : "", more ? more : "", ref->status,
		    ref->code[0] ? " " : "", ref->code);
}

/* The kind of file at path, for a socket that is none. */
static const char *
file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a socket";
}

/* No permission to connect: say who may. */
static void
explain_access(const char *path, int e)
{
	struct stat sb;
	struct group *gr;
	struct passwd *pw;
	char gname[64], uname[64];

	if (stat(path, &sb) != 0) {
		ctl_err("cannot reach tapgated at %s: %s (a directory on the "
		    "way is closed to this user)", path, strerror(e));
		return;
	}
	if ((gr = getgrgid(sb.st_gid)) != NULL)
		snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	else
		snprintf(gname, sizeof(gname), "%u", (unsigned)sb.st_gid);
	if ((pw = getpwuid(sb.st_uid)) != NULL)
		snprintf(uname, sizeof(uname), "%s", pw->pw_name);
	else
		snprintf(uname, sizeof(uname), "%u", (unsigned)sb.st_uid);
	if ((sb.st_mode & 020) != 0)
		ctl_err("cannot reach tapgated at %s: %s: the socket "
		    "(owner %s, group %s, mode %04o) is for %s and group %s: "
		    "run tapgatectl as a member of group %s", path,
		    strerror(e), uname, gname, (unsigned)(sb.st_mode & 07777),
		    uname, gname, gname);
	else
		ctl_err("cannot reach tapgated at %s: %s: the socket "
		    "(owner %s, group %s, mode %04o) is for %s alone", path,
		    strerror(e), uname, gname, (unsigned)(sb.st_mode & 07777),
		    uname);
}

/* connect() failed: why, from errno and what the path holds. */
static void
explain_connect(const char *path, int e)
{
	struct stat sb;

	switch (e) {
	case ENOENT:
		ctl_err("cannot reach tapgated: no socket at %s: is tapgated "
		    "running? (another socket: -s SOCKET or "
		    "$TAPGATE_SOCKET)", path);
		return;
	case EACCES:
	case EPERM:
		explain_access(path, e);
		return;
	case ECONNREFUSED:
	case ENOTSOCK:
		if (stat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode))
			ctl_err("cannot reach tapgated: %s is %s, not a socket "
			    "(%s)", path, file_kind(sb.st_mode), strerror(e));
		else
			ctl_err("cannot reach tapgated: nothing listens on %s "
			    "(%s): tapgated is not running, and the socket "
			    "was left behind", path, strerror(e));
		return;
	case EPROTOTYPE:
		ctl_err("cannot reach tapgated: %s is a socket of another "
		    "type (%s): not tapgated's socket", path, strerror(e));
		return;
	case ENOTDIR:
		ctl_err("cannot reach tapgated at %s: %s (a part of the path "
		    "is a file)", path, strerror(e));
		return;
	default:
		ctl_err("cannot reach tapgated at %s: %s", path, strerror(e));
	}
}

/* The call failed below HTTP: say where and why. */
static void
explain_transport(const char *path, int r, const struct uhttp_response *res,
    int timeout_ms)
{
	if (r == TG_ERR_TOO_LONG && !res->connected)
		ctl_err("cannot reach tapgated: the socket path %s is too long "
		    "(at most %zu bytes)", path,
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	else if (!res->connected && r == TG_ERR_IO)
		explain_connect(path, res->sys_errno);
	else if (r == TG_ERR_PROTOCOL)
		ctl_err("%s is not tapgated's socket: what listens there did "
		    "not answer in HTTP (or tapgated failed mid-answer: see "
		    "its log)", path);
	else if (r == TG_ERR_TIMEOUT)
		ctl_err("%s did not answer within %d s: tapgated is stuck (see "
		    "its log), or this is not its socket", path,
		    timeout_ms / 1000);
	else if (r == TG_ERR_IO)
		ctl_err("the connection to %s broke: %s (tapgated stopped, or "
		    "it is not tapgated's socket)", path, res->sys_errno ?
		    strerror(res->sys_errno) : tg_strerror(r));
	else
		ctl_err("calling tapgated at %s: %s", path, tg_strerror(r));
}

/* A string member of the error object, copied bounded. */
static void
copy_member(const json_t *e, const char *key, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(e, key));

	snprintf(out, len, "%s", s != NULL ? s : "");
}

/* The refusal in an answer's body: {"error":{"code","message"}}. */
static void
read_refusal(int status, const char *body, struct ctl_refusal *ref)
{
	json_t *j = json_loads(body, 0, NULL);
	const json_t *e = json_object_get(j, "error"), *n;

	memset(ref, 0, sizeof(*ref));
	ref->status = status;
	ref->retries = -1;
	if (json_is_object(e)) {
		copy_member(e, "code", ref->code, sizeof(ref->code));
		copy_member(e, "message", ref->message, sizeof(ref->message));
		n = json_object_get(e, "retries");
		if (json_is_integer(n) && json_integer_value(n) >= 0 &&
		    json_integer_value(n) <= 255)
			ref->retries = (int)json_integer_value(n);
	} else
		snprintf(ref->message, sizeof(ref->message), "tapgated "
		    "refused without saying why: %.200s", body);
	json_decref(j);
}

int
ctl_call(const char *method, const char *target, const json_t *body,
    int timeout_ms, json_t **out, struct ctl_refusal *ref)
{
	struct uhttp_response res;
	json_t *j;
	char *b = NULL;
	int r;

	memset(ref, 0, sizeof(*ref));
	ref->retries = -1;
	if (body != NULL && (b = json_dumps(body, JSON_COMPACT)) == NULL)
		return TG_ERR_NOMEM;
	r = uhttp_request(ctl_socket(), method, target, b, NULL, 0,
	    timeout_ms, &res);
	/* a body may carry a PIN to the daemon's security-key code */
	if (b != NULL)
		explicit_bzero(b, strlen(b));
	free(b);
	if (r != 0) {
		explain_transport(ctl_socket(), r, &res, timeout_ms);
		return TG_ERR_IO;
	}
	if (res.status >= 300) {
		read_refusal(res.status, res.body, ref);
		uhttp_response_clear(&res);
		return refusal_err(ref);
	}
	j = json_loads(res.body, 0, NULL);
	uhttp_response_clear(&res);
	if (j == NULL) {
		ctl_err("tapgated sent a reply that is not JSON");
		return TG_ERR_PROTOCOL;
	}
	*out = j;
	return 0;
}

int
ctl_api(const char *method, const char *target, const json_t *body,
    json_t **out)
{
	struct ctl_refusal ref;
	int r;

	if ((r = ctl_call(method, target, body, CTL_API_TIMEOUT_MS, out,
	    &ref)) != 0 && ref.status != 0)
		ctl_refusal_print(&ref, NULL);
	return r;
}

const char *
ctl_js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

void
ctl_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s != NULL)
		puts(s);
	free(s);
}

const char *
ctl_time(long long t, char out[CTL_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, CTL_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, CTL_TIME_LEN, "-");
	return out;
}

/* SPDX-License-Identifier: ISC */
/*
 * Routes of the v1 API.  Each route names the roles that may call it; the
 * caller's roles come from its peer credentials through the configuration,
 * never from anything it sends, and so does its principal: who submits,
 * and which team's requests a caller acting for intake only reaches.
 *
 *	GET  /healthz				anyone connected
 *	GET  /metrics				operator
 *	POST /v1/requests			intake
 *	GET  /v1/requests?queue=&state=&limit=	intake, officer, operator
 *	GET  /v1/requests?prefix=HEX&limit=	(ids that start so)
 *	GET  /v1/requests/ID			intake, officer, operator
 *	POST /v1/requests/ID/evidence		intake, officer
 *	POST /v1/requests/ID/veto		officer, intake (for the owner);
 *						anyone connected with
 *						{"code"}: a notification's
 *						veto code is the authority
 *	POST /v1/requests/ID/veto/view		anyone connected with
 *						{"code"}: what the owner sees
 *	GET  /v1/requests/ID/timeline		officer, operator; intake
 *						its own team's
 *	GET  /v1/queues				intake (its team's scope),
 *						officer, operator
 *	GET  /v1/dashboard			operator, officer
 *	POST /v1/requests/ID/deny		officer
 *	POST /v1/requests/ID/risk		intake, officer: raise risk
 *	GET  /v1/audit?limit=N			operator, officer
 *	GET  /v1/audit?request=ID[&after=SEQ][&limit=N]
 *						operator, officer; intake
 *						for a request it submitted
 *	GET  /v1/audit/verify[?anchor=SEQ:HASH]	operator, officer
 *	GET  /v1/requests/ID/approval		officer: what a touch approves
 *	POST /v1/requests/ID/approve		officer: {"device","pin"}
 *	POST /v1/requests/ID/console-approval/begin  officer: a nonce
 *	POST /v1/requests/ID/console-approval	officer: {"nonce",
 *						"credential_id",...}
 *	POST /v1/requests/ID/order		operator: ask the signer
 *	POST /v1/requests/ID/challenges		intake, officer: {"kind",...}
 *	POST /v1/requests/ID/challenges/CID/answer  intake, officer:
 *						{"code"}
 *	POST /v1/requests/ID/proofing		officer: {"document","seen",
 *						"reference"}
 *	POST /v1/recovery-codes/issue		operator, officer:
 *	POST /v1/recovery-codes/revoke		{"account"}
 *	POST /v1/approvers			operator: enrol
 *	GET  /v1/approvers[?all=1]		operator, officer
 *	GET  /v1/approvers/export		operator, officer, downstream
 *	POST /v1/approvers/NAME/revoke		operator
 *	GET  /v1/orders/ID			downstream, officer, operator
 *						(410 once revoked)
 *	POST /v1/orders/ID/redeem		downstream
 *	GET  /v1/revocations			downstream, officer, operator:
 *						the signed revocation list
 *	POST /v1/orders/ID/outcome		downstream: its redeemer
 *	POST /v1/orders/ID/resume		operator
 *	GET  /v1/keys[?all=1]			anyone connected (the JWKS;
 *						all: retired keys too)
 *	POST /v1/keys/rotate			operator: rotate the key
 *	POST /v1/backup				operator: {"path"}
 *	POST /v1/console/signin/begin		anyone, over HTTPS: {"user"}
 *	POST /v1/console/signin			anyone, over HTTPS: the
 *						assertion; opens a session
 *	GET  /v1/console/session		the session's user
 *	POST /v1/console/signout		the session's user
 *	POST /v1/console/invites		operator: {"user"}, a code
 *	POST /v1/console/revoke			operator: {"user"}
 *	POST /v1/console/enrol/begin		anyone, over HTTPS: {"user",
 *						"code"}
 *	POST /v1/console/enrol			anyone, over HTTPS: the new
 *						credential
 *
 * Over HTTPS a caller without a client certificate whose request carries
 * a live session cookie acts as the session's console user: its roles
 * and principal are the configuration's for that name, and every
 * request but GET and HEAD must bring the session's CSRF token
 * (X-CSRF-Token) and an Origin that is one of console.origins, else 403
 * csrf.  A client certificate wins over a cookie.
 *
 * Each route names the query parameters it takes; any other, or one
 * given twice (but anchor), is refused with 400 naming it, so that a
 * misspelt filter never silently widens what a caller reads.
 */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/errors.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "engine/engine.h"

#define R(x)	POLICY_ROLE_BIT(POLICY_ROLE_##x)

enum route_kind {
	ROUTE_HEALTH,
	ROUTE_METRICS,
	ROUTE_REQUESTS,		/* collection */
	ROUTE_REQUEST,		/* one request */
	ROUTE_EVIDENCE,
	ROUTE_VETO,
	ROUTE_VETO_CODE,	/* the same path, a body with "code" */
	ROUTE_VETO_VIEW,
	ROUTE_TIMELINE,
	ROUTE_QUEUES,
	ROUTE_DASHBOARD,
	ROUTE_DENY,
	ROUTE_RISK,
	ROUTE_AUDIT,
	ROUTE_AUDIT_VERIFY,
	ROUTE_PREVIEW,
	ROUTE_APPROVE,
	ROUTE_ISSUE,
	ROUTE_APPROVERS,
	ROUTE_EXPORT,
	ROUTE_REVOKE,
	ROUTE_ORDER,
	ROUTE_REDEEM,
	ROUTE_REVOCATIONS,
	ROUTE_OUTCOME,
	ROUTE_RESUME,
	ROUTE_KEYS,
	ROUTE_KEY_ROTATE,
	ROUTE_BACKUP,
	ROUTE_CHALLENGES,
	ROUTE_ANSWER,
	ROUTE_RC_ISSUE,
	ROUTE_RC_REVOKE,
	ROUTE_PROOFING,
	ROUTE_CONSOLE_BEGIN,
	ROUTE_CONSOLE_APPROVE,
	ROUTE_SIGNIN_BEGIN,
	ROUTE_SIGNIN,
	ROUTE_SESSION,
	ROUTE_SIGNOUT,
	ROUTE_INVITE,
	ROUTE_USER_REVOKE,
	ROUTE_ENROL_BEGIN,
	ROUTE_ENROL,
	ROUTE_NONE
};

struct route {
	enum route_kind	 kind;
	const char	*method;
	unsigned	 roles;		/* 0: anyone connected */
	const char	*allow;		/* methods of this path, for 405 */
	const char	*params;	/* query parameters it takes, by
					   spaces; "*" after a name: it
					   may repeat; NULL: none */
};

static const struct route routes[] = {
	{ ROUTE_HEALTH,   "GET",  0,			"GET",	NULL },
	{ ROUTE_METRICS,  "GET",  R(OPERATOR),		"GET",	NULL },
	{ ROUTE_REQUESTS, "POST", R(INTAKE),		"GET, POST", NULL },
	{ ROUTE_REQUESTS, "GET",  R(INTAKE) | R(OFFICER) | R(OPERATOR),
	    "GET, POST", "queue state limit prefix" },
	{ ROUTE_REQUEST,  "GET",  R(INTAKE) | R(OFFICER) | R(OPERATOR),
	    "GET", NULL },
	{ ROUTE_EVIDENCE, "POST", R(INTAKE) | R(OFFICER), "POST", NULL },
	/* challenges the appliance checks itself; saved recovery codes */
	{ ROUTE_CHALLENGES, "POST", R(INTAKE) | R(OFFICER), "POST", NULL },
	{ ROUTE_ANSWER,   "POST", R(INTAKE) | R(OFFICER), "POST", NULL },
	{ ROUTE_RC_ISSUE, "POST", R(OPERATOR) | R(OFFICER), "POST", NULL },
	{ ROUTE_RC_REVOKE, "POST", R(OPERATOR) | R(OFFICER), "POST", NULL },
	{ ROUTE_PROOFING, "POST", R(OFFICER),		"POST",	NULL },
	{ ROUTE_VETO,     "POST", R(OFFICER) | R(INTAKE), "POST", NULL },
	{ ROUTE_VETO_CODE, "POST", 0,			"POST",	NULL },
	{ ROUTE_VETO_VIEW, "POST", 0,			"POST",	NULL },
	{ ROUTE_TIMELINE, "GET",  R(INTAKE) | R(OFFICER) | R(OPERATOR),
	    "GET", NULL },
	{ ROUTE_QUEUES,   "GET",  R(INTAKE) | R(OFFICER) | R(OPERATOR),
	    "GET", NULL },
	{ ROUTE_DASHBOARD, "GET", R(OPERATOR) | R(OFFICER), "GET", NULL },
	{ ROUTE_DENY,     "POST", R(OFFICER),		"POST",	NULL },
	{ ROUTE_RISK,     "POST", R(INTAKE) | R(OFFICER), "POST", NULL },
	/* intake: the history of a request it submitted (api_audit) */
	{ ROUTE_AUDIT,    "GET",  R(OPERATOR) | R(OFFICER) | R(INTAKE),
	    "GET", "limit request after" },
	{ ROUTE_AUDIT_VERIFY, "GET", R(OPERATOR) | R(OFFICER), "GET",
	    "anchor*" },
	{ ROUTE_PREVIEW,  "GET",  R(OFFICER),		"GET",	NULL },
	{ ROUTE_APPROVE,  "POST", R(OFFICER),		"POST",	NULL },
	{ ROUTE_CONSOLE_BEGIN, "POST", R(OFFICER),	"POST",	NULL },
	{ ROUTE_CONSOLE_APPROVE, "POST", R(OFFICER),	"POST",	NULL },
	{ ROUTE_ISSUE,    "POST", R(OPERATOR),		"POST",	NULL },
	{ ROUTE_APPROVERS, "POST", R(OPERATOR),		"GET, POST", NULL },
	{ ROUTE_APPROVERS, "GET", R(OPERATOR) | R(OFFICER), "GET, POST",
	    "all" },
	{ ROUTE_EXPORT,   "GET",  R(OPERATOR) | R(OFFICER) | R(DOWNSTREAM),
	    "GET", NULL },
	{ ROUTE_REVOKE,   "POST", R(OPERATOR),		"POST",	NULL },
	{ ROUTE_ORDER,    "GET",  R(DOWNSTREAM) | R(OFFICER) | R(OPERATOR),
	    "GET", NULL },
	{ ROUTE_REDEEM,   "POST", R(DOWNSTREAM),	"POST",	NULL },
	{ ROUTE_REVOCATIONS, "GET", R(DOWNSTREAM) | R(OFFICER) | R(OPERATOR),
	    "GET", NULL },
	{ ROUTE_OUTCOME,  "POST", R(DOWNSTREAM),	"POST",	NULL },
	{ ROUTE_RESUME,   "POST", R(OPERATOR),		"POST",	NULL },
	{ ROUTE_KEYS,     "GET",  0,			"GET",	"all" },
	{ ROUTE_KEY_ROTATE, "POST", R(OPERATOR),	"POST",	NULL },
	{ ROUTE_BACKUP,   "POST", R(OPERATOR),		"POST",	NULL },
	/* the console's users: anyone may try; the engine says who */
	{ ROUTE_SIGNIN_BEGIN, "POST", 0,		"POST",	NULL },
	{ ROUTE_SIGNIN,   "POST", 0,			"POST",	NULL },
	{ ROUTE_SESSION,  "GET",  0,			"GET",	NULL },
	{ ROUTE_SIGNOUT,  "POST", 0,			"POST",	NULL },
	{ ROUTE_INVITE,   "POST", R(OPERATOR),		"POST",	NULL },
	{ ROUTE_USER_REVOKE, "POST", R(OPERATOR),	"POST",	NULL },
	{ ROUTE_ENROL_BEGIN, "POST", 0,			"POST",	NULL },
	{ ROUTE_ENROL,    "POST", 0,			"POST",	NULL },
};

/* "/PREFIX/X[/SUFFIX]": copy X into id; *rest is what follows X. */
static int
path_id(const char *path, const char *prefix, char *id, size_t idlen,
    const char **rest)
{
	const char *p, *slash;
	size_t n, plen = strlen(prefix);

	if (strncmp(path, prefix, plen) != 0)
		return 0;
	p = path + plen;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= idlen)
		return 0;
	memcpy(id, p, n);
	id[n] = '\0';
	*rest = slash ? slash : "";
	return 1;
}

/*
 * "/v1/requests/ID/challenges/CID/answer": "ID/CID" into id (the
 * dispatch splits it).
 */
static int
answer_path(const char *path, char *id, size_t idlen)
{
	static const char pre[] = "/v1/requests/";
	static const char mid[] = "/challenges/";
	static const char end[] = "/answer";
	const char *p, *q, *cid;
	size_t n, m;

	if (strncmp(path, pre, sizeof(pre) - 1) != 0)
		return 0;
	p = path + sizeof(pre) - 1;
	if ((q = strchr(p, '/')) == NULL || q == p ||
	    strncmp(q, mid, sizeof(mid) - 1) != 0)
		return 0;
	cid = q + sizeof(mid) - 1;
	n = (size_t)(q - p);
	if ((q = strchr(cid, '/')) == NULL || q == cid ||
	    strcmp(q, end) != 0)
		return 0;
	m = (size_t)(q - cid);
	if (n + 1 + m >= idlen)
		return 0;
	memcpy(id, p, n);
	id[n] = '/';
	memcpy(id + n + 1, cid, m);
	id[n + 1 + m] = '\0';
	return 1;
}

/* Split the path into a route kind and, for one item, its id. */
static enum route_kind
route_of(const char *path, char *id, size_t idlen)
{
	static const struct {
		const char	*prefix;
		const char	*rest;
		enum route_kind	 kind;
	} items[] = {
		{ "/v1/requests/", "", ROUTE_REQUEST },
		{ "/v1/requests/", "/evidence", ROUTE_EVIDENCE },
		{ "/v1/requests/", "/challenges", ROUTE_CHALLENGES },
		{ "/v1/requests/", "/proofing", ROUTE_PROOFING },
		{ "/v1/requests/", "/veto", ROUTE_VETO },
		{ "/v1/requests/", "/veto/view", ROUTE_VETO_VIEW },
		{ "/v1/requests/", "/timeline", ROUTE_TIMELINE },
		{ "/v1/requests/", "/deny", ROUTE_DENY },
		{ "/v1/requests/", "/risk", ROUTE_RISK },
		{ "/v1/requests/", "/approval", ROUTE_PREVIEW },
		{ "/v1/requests/", "/approve", ROUTE_APPROVE },
		{ "/v1/requests/", "/console-approval/begin",
		    ROUTE_CONSOLE_BEGIN },
		{ "/v1/requests/", "/console-approval", ROUTE_CONSOLE_APPROVE },
		{ "/v1/requests/", "/order", ROUTE_ISSUE },
		{ "/v1/approvers/", "/revoke", ROUTE_REVOKE },
		{ "/v1/orders/", "", ROUTE_ORDER },
		{ "/v1/orders/", "/redeem", ROUTE_REDEEM },
		{ "/v1/orders/", "/outcome", ROUTE_OUTCOME },
		{ "/v1/orders/", "/resume", ROUTE_RESUME },
	};
	const char *rest;
	size_t i;

	if (strcmp(path, "/healthz") == 0)
		return ROUTE_HEALTH;
	if (strcmp(path, "/metrics") == 0)
		return ROUTE_METRICS;
	if (strcmp(path, "/v1/requests") == 0)
		return ROUTE_REQUESTS;
	if (strcmp(path, "/v1/audit") == 0)
		return ROUTE_AUDIT;
	if (strcmp(path, "/v1/queues") == 0)
		return ROUTE_QUEUES;
	if (strcmp(path, "/v1/dashboard") == 0)
		return ROUTE_DASHBOARD;
	if (strcmp(path, "/v1/audit/verify") == 0)
		return ROUTE_AUDIT_VERIFY;
	if (strcmp(path, "/v1/approvers") == 0)
		return ROUTE_APPROVERS;
	if (strcmp(path, "/v1/approvers/export") == 0)
		return ROUTE_EXPORT;
	if (strcmp(path, "/v1/revocations") == 0)
		return ROUTE_REVOCATIONS;
	if (strcmp(path, "/v1/keys") == 0)
		return ROUTE_KEYS;
	if (strcmp(path, "/v1/keys/rotate") == 0)
		return ROUTE_KEY_ROTATE;
	if (strcmp(path, "/v1/backup") == 0)
		return ROUTE_BACKUP;
	if (strcmp(path, "/v1/recovery-codes/issue") == 0)
		return ROUTE_RC_ISSUE;
	if (strcmp(path, "/v1/recovery-codes/revoke") == 0)
		return ROUTE_RC_REVOKE;
	if (strcmp(path, "/v1/console/signin/begin") == 0)
		return ROUTE_SIGNIN_BEGIN;
	if (strcmp(path, "/v1/console/signin") == 0)
		return ROUTE_SIGNIN;
	if (strcmp(path, "/v1/console/session") == 0)
		return ROUTE_SESSION;
	if (strcmp(path, "/v1/console/signout") == 0)
		return ROUTE_SIGNOUT;
	if (strcmp(path, "/v1/console/invites") == 0)
		return ROUTE_INVITE;
	if (strcmp(path, "/v1/console/revoke") == 0)
		return ROUTE_USER_REVOKE;
	if (strcmp(path, "/v1/console/enrol/begin") == 0)
		return ROUTE_ENROL_BEGIN;
	if (strcmp(path, "/v1/console/enrol") == 0)
		return ROUTE_ENROL;
	if (answer_path(path, id, idlen))
		return ROUTE_ANSWER;
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (path_id(path, items[i].prefix, id, idlen, &rest) &&
		    strcmp(rest, items[i].rest) == 0)
			return items[i].kind;
	return ROUTE_NONE;
}

static void
count_status(struct tapgated *d, unsigned status)
{
	size_t i;

	for (i = 0; i < DAEMON_HTTP_CODES; i++) {
		if (d->http_code[i] == status || d->http_code[i] == 0) {
			d->http_code[i] = status;
			d->http_count[i]++;
			return;
		}
	}
}

/*
 * The name the audit log shows for a peer: the uid's entry in /etc/passwd,
 * read as a plain file, else uid:N.  Not getpwuid(): the monitor is
 * confined, and an NSS module asked about a uid without a local entry
 * (nss_systemd under Debian's "passwd: files systemd"; nss_sss, nss_ldap)
 * makes calls its filter kills.  So uids from LDAP or SSSD, DynamicUser
 * services and user namespaces show as uid:N.  Read at each call, so a
 * renamed account shows the name it has now; the uid, which decides the
 * roles, is logged beside it.
 */
static void
peer_name(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	FILE *f;

	snprintf(out, len, "uid:%u", (unsigned)uid);
	if ((f = fopen("/etc/passwd", "re")) == NULL)
		return;
	/* a line over buf ends the search: the caller stays uid:N */
	while (fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0) {
		/* "+" and "-" lines are nss_compat's, uid 0 to the parser */
		if (pw.pw_name[0] == '+' || pw.pw_name[0] == '-' ||
		    pw.pw_uid != uid)
			continue;
		snprintf(out, len, "%s", pw.pw_name);
		break;
	}
	fclose(f);
}

/*
 * The role the caller acts in, for the audit log: of the route's roles it
 * holds, the most accountable one (an officer vetoing is an officer, even
 * when the same uid could also submit).
 */
static const char *
acting_role(unsigned held, unsigned allowed)
{
	static const enum policy_role pref[] = { POLICY_ROLE_OFFICER,
	    POLICY_ROLE_OPERATOR, POLICY_ROLE_INTAKE, POLICY_ROLE_DOWNSTREAM };
	size_t i;

	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (held & allowed & POLICY_ROLE_BIT(pref[i]))
			return policy_role_name(pref[i]);
	return "none";
}

/*
 * Who the caller is beyond its roles: the principal its uid or gid names
 * (intake callers are named principals), and which requests it sees.
 * Officers and operators see every request; a caller acting for intake
 * only sees its own team's.  Such a caller without a principal is
 * refused here (403 no_principal), -1, on every route of requests but
 * the submission, whose refusal the engine audits.
 */
_Static_assert(HTTP_CERT_SHA256_LEN == POLICY_CERT_SHA256_LEN,
    "a caller's fingerprint is the configuration's");

/*
 * The roles a caller holds: by its uid and gid on the Unix socket, by its
 * client certificate over HTTPS, else by its session's user (user, ""
 * for none: an unknown caller).
 */
static unsigned
caller_roles(const struct tapgated *d, const struct http_request *req,
    const char *user)
{
	uint32_t gid = req->peer.gid;

	if (req->peer.tls && !req->peer.has_cert)
		return user[0] != '\0' ? policy_roles_user(d->cfg, user) : 0;
	if (req->peer.tls)
		return policy_roles_cert(d->cfg, req->peer.cert_sha256);
	return policy_roles(d->cfg, req->peer.uid, &gid, 1);
}

/*
 * The uid an HTTPS caller acts as in the store (its requests, its
 * idempotency keys, the orders it redeems): negative, so no local uid,
 * and one per certificate: -1 minus the first 62 bits of the fingerprint;
 * a console user's below those (engine_user_uid).
 */
static int64_t
caller_uid(const struct http_request *req, const char *user)
{
	uint64_t v = 0;
	size_t i;

	if (!req->peer.tls)
		return (int64_t)req->peer.uid;
	if (!req->peer.has_cert && user[0] != '\0')
		return engine_user_uid(user);
	for (i = 0; req->peer.has_cert && i < 8; i++)
		v = v << 8 | req->peer.cert_sha256[i];
	return -1 - (int64_t)(v >> 2);
}

/*
 * How the audit log names a caller: its uid's, its certificate's, or
 * its session's user's.
 */
static void
caller_name(const struct http_request *req, const char *user, int lookup,
    char *out, size_t len)
{
	if (req->peer.tls && !req->peer.has_cert && user[0] != '\0')
		snprintf(out, len, "user:%s", user);
	else if (req->peer.tls && req->peer.has_cert)
		snprintf(out, len, "cert:%02x%02x%02x%02x%02x%02x%02x%02x",
		    req->peer.cert_sha256[0], req->peer.cert_sha256[1],
		    req->peer.cert_sha256[2], req->peer.cert_sha256[3],
		    req->peer.cert_sha256[4], req->peer.cert_sha256[5],
		    req->peer.cert_sha256[6], req->peer.cert_sha256[7]);
	else if (req->peer.tls)
		snprintf(out, len, "https:no-certificate");
	else if (lookup)
		peer_name(req->peer.uid, out, len);
	else
		snprintf(out, len, "uid:%u", (unsigned)req->peer.uid);
}

static int
actor_identity(struct tapgated *d, const struct http_request *req,
    const char *user, const struct route *rt, unsigned held,
    struct engine_actor *a, struct http_response *res)
{
	uint32_t gid = req->peer.gid;

	if (req->peer.tls && !req->peer.has_cert)
		a->principal = user[0] != '\0' ? policy_principal_of_user(
		    d->cfg, user) : NULL;
	else if (req->peer.tls)
		a->principal = policy_principal_of_cert(d->cfg,
		    req->peer.cert_sha256);
	else
		a->principal = policy_principal_of(d->cfg, req->peer.uid,
		    &gid, 1);
	a->team = NULL;
	if ((held & (R(OFFICER) | R(OPERATOR))) ||
	    (rt->roles & R(INTAKE)) == 0)
		return 0;
	if (a->principal != NULL) {
		a->team = a->principal->team;
		return 0;
	}
	if (rt->kind == ROUTE_REQUESTS && strcmp(rt->method, "POST") == 0)
		return 0;
	if (req->peer.tls)
		http_error(res, 403, "no_principal", "%s is no principal: "
		    "intake callers are named under principals in the "
		    "configuration", a->name);
	else
		http_error(res, 403, "no_principal", "uid %u is no principal: "
		    "intake callers are named under principals in the "
		    "configuration", (unsigned)req->peer.uid);
	return -1;
}

static int
is_json(const char *ctype)
{
	size_t n = strlen("application/json");

	return ctype != NULL && strncasecmp(ctype, "application/json", n) ==
	    0 && (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

static void
answer(struct http_response *res, struct engine_result *er)
{
	res->status = (unsigned)er->status;
	res->json = er->body;
	er->body = NULL;
}

/*
 * A caller's string for an error message, at most len - 1 bytes: bytes
 * that are not printable ASCII become '?', so the JSON answer can always
 * be made (a message that is not UTF-8 would leave the answer empty).
 */
static const char *
shown(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	return out;
}

/*
 * Whether name is one of the route's parameters (params, by spaces), and
 * may repeat (a "*" after it).
 */
static int
param_known(const char *params, const char *name, int *repeats)
{
	size_t n = strlen(name), len;
	const char *p = params;

	while (p != NULL && *p != '\0') {
		len = strcspn(p, " *");
		if (len == n && strncmp(p, name, n) == 0) {
			*repeats = p[len] == '*';
			return 1;
		}
		p += len;
		p += strspn(p, " *");
	}
	return 0;
}

/*
 * Every query parameter is one the route takes, and given once (unless
 * it may repeat): else 400 naming it, and -1.
 */
static int
check_params(const struct route *rt, const struct http_request *req,
    struct http_response *res)
{
	char name[HTTP_MAX_QUERY_KEY + 1], path[HTTP_MAX_PATH + 1];
	const char *key;
	size_t i, k;
	int repeats = 0;

	for (i = 0; i < req->nquery && i < HTTP_MAX_QUERY; i++) {
		key = req->query[i].key;
		if (!param_known(rt->params, key, &repeats)) {
			http_error(res, 400, "invalid_query", "%s: no such "
			    "parameter here (%s %s takes %s)",
			    shown(key, name, sizeof(name)), rt->method,
			    shown(req->path, path, sizeof(path)),
			    rt->params != NULL ? rt->params : "none");
			return -1;
		}
		for (k = 0; k < i && !repeats; k++)
			if (strcmp(req->query[k].key, key) == 0) {
				http_error(res, 400, "invalid_query", "%s: "
				    "given twice", shown(key, name,
				    sizeof(name)));
				return -1;
			}
	}
	return 0;
}

/* A decimal parameter from lo to hi into *v: else 400 and -1. */
static int
param_num(const struct http_request *req, const char *key, long long lo,
    long long hi, long long *v, struct http_response *res)
{
	const char *q;
	char *end;

	if ((q = http_query(req, key)) == NULL)
		return 0;
	errno = 0;
	*v = strtoll(q, &end, 10);
	if (*q < '0' || *q > '9' || *end != '\0' || errno != 0 || *v < lo ||
	    *v > hi) {
		http_error(res, 400, "invalid_query", "%s: must be %lld to "
		    "%lld", key, lo, hi);
		return -1;
	}
	return 0;
}

/*
 * GET /v1/audit?limit=N: the tail (officers, operators); with
 * request=ID[&after=SEQ], that request's history from its first entry
 * (or after entry SEQ), also for intake (engine_audit_history says
 * which).  -1 when res holds the refusal, else 0 and er the answer.
 */
static int
api_audit(struct tapgated *d, const struct http_request *req,
    const struct engine_actor *a, struct http_response *res,
    struct engine_result *er)
{
	const char *rid = http_query(req, "request");
	long long limit = rid != NULL ? 1000 : 50, after = 0;

	if (param_num(req, "limit", 1, AUDIT_TAIL_MAX, &limit, res) != 0 ||
	    param_num(req, "after", 0, INT64_MAX, &after, res) != 0)
		return -1;
	if (rid == NULL && http_query(req, "after") != NULL) {
		http_error(res, 400, "invalid_query", "after: only with "
		    "request");
		return -1;
	}
	if (rid != NULL) {
		engine_audit_history(d, a, rid, after, (int)limit, er);
		return 0;
	}
	if (strcmp(a->role, policy_role_name(POLICY_ROLE_INTAKE)) == 0) {
		http_error(res, 403, "forbidden", "the audit log is for "
		    "officers and operators; intake may read the history of "
		    "a request it submitted (?request=ID)");
		return -1;
	}
	engine_audit_tail(d, (int)limit, er);
	return 0;
}

/* GET /v1/audit/verify[?anchor=SEQ:HASH...]: every anchor given. */
static void
api_audit_verify(struct tapgated *d, const struct http_request *req,
    int64_t now, struct engine_result *er)
{
	const char *anchors[HTTP_MAX_QUERY];
	size_t i, n = 0;

	for (i = 0; i < req->nquery && i < HTTP_MAX_QUERY; i++)
		if (strcmp(req->query[i].key, "anchor") == 0)
			anchors[n++] = req->query[i].value;
	engine_audit_verify(d, anchors, n, now, er);
}

/*
 * GET /v1/requests?prefix=HEX: the requests whose id starts with it, for
 * the console's abbreviated ids; it searches all, so no match can hide
 * behind the limit, and takes no queue or state.  -1 when res holds the
 * refusal, else 0 and er the answer.
 */
static int
api_list_prefix(struct tapgated *d, const struct engine_actor *a,
    const struct http_request *req, const char *prefix, int limit,
    struct http_response *res, struct engine_result *er)
{
	size_t n = strlen(prefix);

	if (http_query(req, "queue") != NULL ||
	    http_query(req, "state") != NULL) {
		http_error(res, 400, "invalid_query", "prefix: not together "
		    "with queue or state");
		return -1;
	}
	if (n == 0 || n > STORE_ID_LEN ||
	    strspn(prefix, "0123456789abcdef") != n) {
		http_error(res, 400, "invalid_query", "prefix: 1 to %d "
		    "lower-case hex digits", STORE_ID_LEN);
		return -1;
	}
	engine_list_prefix(d, a, prefix, limit, er);
	return 0;
}

/* Run the route; *touch_ns: how long it waited for a key's touch. */
static void
dispatch(struct tapgated *d, const struct route *rt, const char *id,
    const struct http_request *req, const char *user,
    const struct engine_actor *a, struct http_response *res,
    int64_t *touch_ns)
{
	struct engine_result er = { 0, NULL, 0 };
	int64_t now = (int64_t)time(NULL);
	const char *q, *s;
	enum policy_queue qq;
	enum policy_state ss;
	long limit = 100;
	char *end, v[65], pair[80];
	int schema = 0;

	switch (rt->kind) {
	case ROUTE_HEALTH:
		store_schema_version(d->st, &schema);
		res->status = 200;
		/* the touch window, for the console's countdown and wait */
		res->json = json_pack("{s:s,s:s,s:i,s:i}", "status", "ok",
		    "appliance", d->cfg->appliance.id, "schema", schema,
		    "token_timeout_ms", d->token_timeout_ms);
		return;
	case ROUTE_METRICS:
		res->status = 200;
		res->text = engine_metrics(d);
		res->content_type = "text/plain; version=0.0.4";
		return;
	case ROUTE_REQUESTS:
		if (strcmp(req->method, "POST") == 0) {
			engine_submit(d, a, req->body, req->body_len,
			    req->idempotency_key, now, &er);
			break;
		}
		q = http_query(req, "queue");
		s = http_query(req, "state");
		if (q != NULL && policy_queue_parse(q, &qq) != 0) {
			http_error(res, 400, "invalid_query", "queue: unknown "
			    "queue \"%s\"", shown(q, v, sizeof(v)));
			return;
		}
		if (s != NULL && policy_state_parse(s, &ss) != 0) {
			http_error(res, 400, "invalid_query", "state: unknown "
			    "state \"%s\"", shown(s, v, sizeof(v)));
			return;
		}
		if ((q = http_query(req, "limit")) != NULL) {
			limit = strtol(q, &end, 10);
			if (*q == '\0' || *end != '\0' || limit < 1 ||
			    limit > STORE_LIST_MAX) {
				http_error(res, 400, "invalid_query", "limit: "
				    "must be 1 to %d", STORE_LIST_MAX);
				return;
			}
		}
		if ((q = http_query(req, "prefix")) != NULL) {
			if (api_list_prefix(d, a, req, q, (int)limit, res,
			    &er) != 0)
				return;
		} else
			engine_list(d, a, http_query(req, "queue"), s,
			    (int)limit, &er);
		break;
	case ROUTE_REQUEST:
		engine_show(d, a, id, now, &er);
		break;
	case ROUTE_EVIDENCE:
		engine_add_evidence(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_CHALLENGES:
		engine_challenge_issue(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_ANSWER:
		/* "ID/CID" (answer_path): split in a copy */
		snprintf(pair, sizeof(pair), "%s", id);
		if ((end = strchr(pair, '/')) == NULL)
			return;
		*end = '\0';
		engine_challenge_answer(d, a, pair, end + 1, req->body,
		    req->body_len, now, &er);
		break;
	case ROUTE_PROOFING:
		engine_proofing(d, a, id, req->body, req->body_len, now, &er);
		break;
	case ROUTE_RC_ISSUE:
	case ROUTE_RC_REVOKE:
		engine_recovery_codes(d, a, req->body, req->body_len,
		    rt->kind == ROUTE_RC_ISSUE, now, &er);
		break;
	case ROUTE_VETO_CODE:
		engine_veto_code(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_VETO_VIEW:
		engine_veto_view(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_TIMELINE:
		engine_timeline(d, a, id, &er);
		break;
	case ROUTE_QUEUES:
		engine_queues(d, a, &er);
		break;
	case ROUTE_DASHBOARD:
		engine_dashboard(d, now, &er);
		break;
	case ROUTE_VETO:
	case ROUTE_DENY:
		engine_decide(d, a, id, rt->kind == ROUTE_VETO ? "veto" :
		    "deny", req->body, req->body_len, now, &er);
		break;
	case ROUTE_RISK:
		engine_risk_raise(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_AUDIT:
		if (api_audit(d, req, a, res, &er) != 0)
			return;
		break;
	case ROUTE_AUDIT_VERIFY:
		api_audit_verify(d, req, now, &er);
		break;
	case ROUTE_PREVIEW:
		engine_approval_preview(d, id, now, &er);
		break;
	case ROUTE_APPROVE:
		engine_approve(d, a, id, req->body, req->body_len, &er);
		break;
	case ROUTE_CONSOLE_BEGIN:
		engine_console_begin(d, a, id, now, &er);
		break;
	case ROUTE_CONSOLE_APPROVE:
		engine_console_approve(d, a, id, req->body, req->body_len,
		    &er);
		break;
	case ROUTE_ISSUE:
		engine_order_issue(d, a, id, now, &er);
		break;
	case ROUTE_APPROVERS:
		if (strcmp(req->method, "POST") == 0)
			engine_enroll(d, a, req->body, req->body_len, &er);
		else
			engine_approvers(d, (q = http_query(req, "all")) !=
			    NULL && strcmp(q, "1") == 0, 0, &er);
		break;
	case ROUTE_EXPORT:
		engine_approvers(d, 1, 1, &er);
		break;
	case ROUTE_REVOKE:
		engine_revoke(d, a, id, req->body, req->body_len, now, &er);
		break;
	case ROUTE_ORDER:
		engine_order_get(d, id, &er);
		break;
	case ROUTE_REDEEM:
		engine_order_redeem(d, a, id, now, &er);
		break;
	case ROUTE_REVOCATIONS:
		engine_revocations(d, now, &er);
		break;
	case ROUTE_OUTCOME:
		engine_order_outcome(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_RESUME:
		engine_order_resume(d, a, id, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_KEYS:
		engine_keys(d, (q = http_query(req, "all")) != NULL &&
		    strcmp(q, "1") == 0, now, &er);
		break;
	case ROUTE_KEY_ROTATE:
		engine_key_rotate(d, a, now, &er);
		break;
	case ROUTE_BACKUP:
		engine_backup(d, a, req->body, req->body_len, now, &er);
		break;
	case ROUTE_SIGNIN_BEGIN:
	case ROUTE_SIGNIN:
		if (!req->peer.tls) {
			http_error(res, 403, "https_only", "console users sign "
			    "in over HTTPS");
			return;
		}
		if (rt->kind == ROUTE_SIGNIN_BEGIN)
			engine_signin_begin(d, req->body, req->body_len, now,
			    &er);
		else
			engine_signin(d, req->body, req->body_len, now,
			    res->set_cookie, sizeof(res->set_cookie), &er);
		break;
	case ROUTE_INVITE:
		engine_console_invite(d, a, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_USER_REVOKE:
		engine_console_revoke(d, a, req->body, req->body_len, now,
		    &er);
		break;
	case ROUTE_ENROL_BEGIN:
	case ROUTE_ENROL:
		if (!req->peer.tls) {
			http_error(res, 403, "https_only", "console users "
			    "enrol over HTTPS");
			return;
		}
		if (rt->kind == ROUTE_ENROL_BEGIN)
			engine_enrol_begin(d, req->body, req->body_len, now,
			    &er);
		else
			engine_enrol(d, req->body, req->body_len, now, &er);
		break;
	case ROUTE_SESSION:
	case ROUTE_SIGNOUT:
		if (user[0] == '\0' || req->session == NULL) {
			http_error(res, 401, "no_session", "no live session: "
			    "sign in");
			return;
		}
		if (rt->kind == ROUTE_SESSION)
			engine_session(d, req->session, user, now, &er);
		else
			engine_signout(d, a, req->session, now,
			    res->set_cookie, sizeof(res->set_cookie), &er);
		break;
	case ROUTE_NONE:
		break;
	}
	*touch_ns = er.touch_ns;
	answer(res, &er);
}

static int64_t
clock_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The latencies the metrics page shows: a submission from its arrival
 * here (start, before the lock) to its answer; an approval the same,
 * split into the wait for the key's touch and the daemon's own work.
 */
static void
observe(struct tapgated *d, const struct route *rt, int64_t start,
    int64_t touch_ns)
{
	int64_t took = clock_ns() - start;

	if (rt->kind == ROUTE_REQUESTS && strcmp(rt->method, "POST") == 0)
		engine_observe(d, DAEMON_LAT_SUBMIT, took);
	if (rt->kind != ROUTE_APPROVE)
		return;
	engine_observe(d, DAEMON_LAT_APPROVE, took - touch_ns);
	if (touch_ns > 0)
		engine_observe(d, DAEMON_LAT_TOUCH, touch_ns);
}

/*
 * The console user the request's session is (HTTPS, no client
 * certificate, a live session cookie) into user, else "".
 */
static void
session_user(struct tapgated *d, const struct http_request *req,
    char *user, size_t len)
{
	const char *u;

	user[0] = '\0';
	if (!req->peer.tls || req->peer.has_cert || req->session == NULL)
		return;
	if ((u = web_session_principal(&d->sessions, req->session,
	    (int64_t)time(NULL))) != NULL)
		snprintf(user, len, "%s", u);
}

/*
 * Under a session, a request that may change anything (not GET or HEAD)
 * carries the session's CSRF token and an Origin of the console: a page
 * of another site can make the browser send the cookie, but neither
 * read the token nor forge the Origin.
 */
static int
session_request_ok(const struct tapgated *d, const struct http_request *req)
{
	const struct policy_console *con = &d->cfg->console;
	size_t i;

	if (strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0)
		return 1;
	if (req->csrf == NULL || req->origin == NULL ||
	    web_csrf_check(&d->sessions, req->session, req->csrf) != 1)
		return 0;
	for (i = 0; i < con->norigins; i++)
		if (strcmp(req->origin, con->origins[i]) == 0)
			return 1;
	return 0;
}

/* A veto whose body carries a code: for anyone who holds one. */
static int
veto_by_code(const struct http_request *req)
{
	json_t *root;
	int yes;

	if (req->body_len == 0)
		return 0;
	root = json_loadb(req->body, req->body_len, 0, NULL);
	yes = json_object_get(root, "code") != NULL;
	json_decref(root);
	return yes;
}

void
api_handle(void *ctx, const struct http_request *req,
    struct http_response *res)
{
	struct tapgated *d = ctx;
	const struct route *rt = NULL;
	struct engine_actor a;
	enum route_kind kind;
	char id[80], name[POLICY_IDENT_MAX + 8];
	char user[POLICY_IDENT_MAX + 1];
	unsigned held;
	size_t i;
	int64_t start = clock_ns(), touch_ns = 0;
	int path_known = 0;

	kind = route_of(req->path, id, sizeof(id));
	if (kind == ROUTE_VETO && veto_by_code(req))
		kind = ROUTE_VETO_CODE;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].kind != kind)
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, req->method) == 0) {
			rt = &routes[i];
			break;
		}
	}
	pthread_mutex_lock(&d->lock);
	session_user(d, req, user, sizeof(user));
	held = caller_roles(d, req, user);
	if (user[0] != '\0' && !session_request_ok(d, req)) {
		http_error(res, 403, "csrf", "a request under a session that "
		    "changes anything carries the session's X-CSRF-Token and "
		    "an Origin of the console");
	} else if (!path_known) {
		http_error(res, 404, "not_found", "no such resource: %.100s",
		    req->path);
	} else if (rt == NULL) {
		for (i = 0; routes[i].kind != kind; i++)
			;
		http_error(res, 405, "method_not_allowed", "%s is not allowed "
		    "here (allowed: %s)", req->method, routes[i].allow);
		res->allow = routes[i].allow;
	} else if (rt->roles != 0 && (held & rt->roles) == 0) {
		if (req->peer.tls)
			caller_name(req, user, 0, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "uid %u",
			    (unsigned)req->peer.uid);
		http_error(res, 403, "forbidden", "%s holds no role that "
		    "may do this", name);
	} else if (check_params(rt, req, res) != 0) {
		/* refused, the parameter named */
	} else if (strcmp(rt->method, "POST") == 0 && req->body_len > 0 &&
	    !is_json(req->content_type)) {
		http_error(res, 415, "unsupported_media_type", "Content-Type "
		    "must be application/json");
	} else {
		/* only a route that needs a role audits who called it */
		caller_name(req, user, rt->roles != 0, name, sizeof(name));
		a.uid = caller_uid(req, user);
		a.role = acting_role(held, rt->roles);
		a.name = name;
		if (actor_identity(d, req, user, rt, held, &a, res) == 0)
			dispatch(d, rt, id, req, user, &a, res, &touch_ns);
		observe(d, rt, start, touch_ns);
	}
	if (res->status == 0)
		http_error(res, 500, "internal", "no answer");
	count_status(d, res->status);
	pthread_mutex_unlock(&d->lock);
}

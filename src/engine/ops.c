/* SPDX-License-Identifier: ISC */
/*
 * What an operator asks of the appliance besides requests, officers and
 * keys: a verified backup of the database (store/backup.h), and the
 * metrics page with the latencies it times (engine_observe()).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errors.h"
#include "engine/auditguard.h"
#include "engine/txn.h"
#include "store/backup.h"
#include "store/checkpoint.h"

/* ---- backups */

/* Whether path lies in the state directory (or cannot be told). */
static int
in_state_dir(struct tapgated *d, const char *path)
{
	char dir[PATH_MAX], parent[PATH_MAX], real[PATH_MAX];
	char *slash;
	size_t n;

	if (realpath(d->cfg->appliance.state_dir, dir) == NULL)
		return 1;
	snprintf(parent, sizeof(parent), "%s", path);
	if ((slash = strrchr(parent, '/')) == NULL)
		return 1;
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (realpath(parent, real) == NULL)
		return 0;	/* no such directory: the backup will say */
	n = strlen(dir);
	return strncmp(real, dir, n) == 0 && (real[n] == '\0' ||
	    real[n] == '/');
}

/* Remove a backup that is not to be trusted, and its digest. */
static void
backup_discard(const char *path)
{
	char digest[PATH_MAX + 16];

	(void)unlink(path);
	snprintf(digest, sizeof(digest), "%s%s", path,
	    STORE_BACKUP_DIGEST_SUFFIX);
	(void)unlink(digest);
}

/*
 * Open the copy as restore will and check it the same way: integrity,
 * schema, the audit chain and its checkpoints.  0 when it holds; else
 * why in msg.
 */
static int
backup_check(struct tapgated *d, const char *path,
    struct checkpoint_report *rep, int *schemap, char *msg, size_t len)
{
	struct store *copy = NULL;
	struct jwks *keys = NULL;
	char err[256];
	int ok = 0, r;

	if ((r = store_open_copy(path, &copy, err, sizeof(err))) != 0) {
		snprintf(msg, len, "the copy does not open: %s", err);
		return r;
	}
	if ((r = store_integrity(copy, &ok, err, sizeof(err))) != 0 || !ok) {
		snprintf(msg, len, "integrity check: %s", r != 0 ?
		    tg_strerror(r) : err);
		r = r != 0 ? r : TG_ERR_CORRUPT;
		goto out;
	}
	if ((r = store_schema_version(copy, schemap)) != 0 ||
	    *schemap != store_schema_latest()) {
		snprintf(msg, len, "the copy has schema %d, not %d", *schemap,
		    store_schema_latest());
		r = r != 0 ? r : TG_ERR_SCHEMA;
		goto out;
	}
	if ((r = eng_signer_keys(d, &keys)) != 0 ||
	    (r = checkpoint_verify(copy, keys, rep)) != 0) {
		snprintf(msg, len, "audit verify: %s", tg_strerror(r));
		goto out;
	}
	if (!rep->ok) {
		snprintf(msg, len, "audit verify: %s", rep->reason);
		r = TG_ERR_CORRUPT;
	}
out:
	jwks_free(&keys);
	store_close(&copy);
	return r;
}

/*
 * The file a backup's body ({"path":"/absolute/file"}) names, in *pathp
 * (pointing into *reqp, which the caller frees): 400 when it is not one
 * a backup may go to.
 */
static int
backup_path(struct tapgated *d, const char *body, size_t len, json_t **reqp,
    const char **pathp, struct engine_result *res)
{
	const char *path;
	json_t *req;

	req = json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES,
	    NULL);
	*reqp = req;
	path = json_string_value(json_object_get(req, "path"));
	if (!json_is_object(req) || json_object_size(req) != 1 ||
	    path == NULL) {
		eng_error(res, 400, "malformed_body", "expected {\"path\": "
		    "\"/absolute/file\"}");
		return TG_ERR_INVALID;
	}
	if (path[0] != '/' || strlen(path) >= PATH_MAX - 16 ||
	    path[strlen(path) - 1] == '/') {
		eng_error(res, 400, "invalid_path", "path: an absolute file "
		    "name is needed");
		return TG_ERR_INVALID;
	}
	if (in_state_dir(d, path)) {
		eng_error(res, 400, "invalid_path", "path: a backup does not "
		    "belong in the state directory");
		return TG_ERR_INVALID;
	}
	*pathp = path;
	return 0;
}

/*
 * Write the copy to path, its digest in sha and its size in *size: 409
 * when the file (or its digest) exists, 400 when it cannot be written
 * there.
 */
static int
backup_write(struct tapgated *d, const char *path, int64_t now,
    char sha[STORE_DIGEST_LEN + 1], int64_t *size, struct engine_result *res)
{
	int r;

	/* sign the head first, so the copy is covered to its last entry */
	(void)engine_checkpoint(d, now);
	if ((r = store_backup(d->st, path, sha, size)) == 0)
		return 0;
	if (r == TG_ERR_EXISTS)
		eng_error(res, 409, "exists", "path: the file (or its .sha256) "
		    "exists; a backup never overwrites");
	else if (r == TG_ERR_IO || r == TG_ERR_PERM || r == TG_ERR_TOO_LONG)
		eng_error(res, 400, "cannot_write", "path: tapgated cannot "
		    "create the file there");
	else
		eng_db_error(d, res, r);
	return r;
}

int
engine_backup(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, int64_t now, struct engine_result *res)
{
	struct checkpoint_report rep;
	struct eng_entry e;
	json_t *req = NULL, *details = NULL, *report;
	const char *path = NULL;
	char sha[STORE_DIGEST_LEN + 1], head[AUDIT_HASH_HEX + 1], msg[512];
	int64_t size = 0, seq = 0;
	int schema = 0, r;

	if ((r = backup_path(d, body, len, &req, &path, res)) != 0 ||
	    (r = backup_write(d, path, now, sha, &size, res)) != 0)
		goto out;
	memset(&rep, 0, sizeof(rep));
	if ((r = backup_check(d, path, &rep, &schema, msg,
	    sizeof(msg))) != 0) {
		backup_discard(path);
		fprintf(stderr, "tapgated: backup %s discarded: %s\n", path,
		    msg);
		d->errors++;
		eng_error(res, 500, "backup_unverified", msg);
		goto out;
	}
	details = json_pack("{s:s,s:s,s:I,s:i,s:I,s:s,s:I}", "path", path,
	    "sha256", sha, "size", (json_int_t)size, "schema", schema,
	    "audit_head_seq", (json_int_t)rep.chain.head_seq,
	    "audit_head_hash", rep.chain.head_hash, "checkpoint_seq",
	    (json_int_t)(rep.have_latest ? rep.latest.seq : 0));
	e = (struct eng_entry){ a, "store.backup", NULL, details, now };
	if ((r = eng_txn(d, eng_audit_entry, &e, NULL, res, NULL)) != 0) {
		/* no backup without its audit entry */
		backup_discard(path);
		goto out;
	}
	(void)audit_head(d->st, &seq, head);
	report = engine_checkpoint_report_json(&rep);
	json_decref(res->body);
	res->status = 201;
	res->body = json_pack("{s:s,s:s,s:I,s:i,s:s,s:o,s:I}", "path", path,
	    "sha256", sha, "size", (json_int_t)size, "schema", schema,
	    "integrity", "ok", "audit", report ? report : json_null(),
	    "audit_seq", (json_int_t)seq);
out:
	json_decref(details);
	json_decref(req);
	return r;
}

/* ---- metrics */

struct metrics_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
mprintf(struct metrics_buf *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
mprintf(struct metrics_buf *m, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(m->p ? m->p + m->len : NULL, m->p ?
		    m->cap - m->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (m->p != NULL && (size_t)n < m->cap - m->len) {
			m->len += (size_t)n;
			return;
		}
		if ((p = realloc(m->p, m->cap + (size_t)n + 4096)) == NULL)
			return;
		m->p = p;
		m->cap += (size_t)n + 4096;
	}
}

static int
metrics_count(const char *queue, const char *state, int64_t count, void *arg)
{
	mprintf(arg, "tapgate_requests{queue=\"%s\",state=\"%s\"} %lld\n",
	    queue, state, (long long)count);
	return 0;
}

/* A family's HELP and TYPE lines, before all of its samples. */
static void
family(struct metrics_buf *m, const char *name, const char *type,
    const char *help)
{
	mprintf(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define MS	1000000LL		/* ns */
#define SEC	1000000000LL

/*
 * The histograms, each with the upper bounds of its buckets (in ns):
 * what the daemon does takes milliseconds (a submission commits with
 * synchronous=FULL); a person at the key takes seconds, up to the touch
 * window (tapgated --token-timeout, 60 s by default).
 */
static const struct {
	const char	*name;
	const char	*help;
	int64_t		 bound[DAEMON_HIST_BOUNDS];
} histograms[DAEMON_LATENCIES] = {
	[DAEMON_LAT_SUBMIT] = { "tapgate_submission_seconds",
	    "Submissions (POST /v1/requests), from the request's arrival "
	    "at the monitor to its answer.",
	    { 1 * MS, 2500000, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS,
	    250 * MS, 500 * MS, 1 * SEC, 2500 * MS, 5 * SEC } },
	[DAEMON_LAT_APPROVE] = { "tapgate_approval_seconds",
	    "Approvals, from the request's arrival at the monitor to its "
	    "answer, less the wait for the touch: the daemon's own work.",
	    { 1 * MS, 2500000, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS,
	    250 * MS, 500 * MS, 1 * SEC, 2500 * MS, 5 * SEC } },
	[DAEMON_LAT_TOUCH] = { "tapgate_approval_touch_wait_seconds",
	    "Approvals that asked for the touch: the wait for the key's "
	    "signed answer.",
	    { 250 * MS, 500 * MS, 1 * SEC, 2 * SEC, 3 * SEC, 5 * SEC,
	    10 * SEC, 15 * SEC, 20 * SEC, 30 * SEC, 60 * SEC, 120 * SEC } },
};

void
engine_observe(struct tapgated *d, int which, int64_t ns)
{
	struct daemon_histogram *h;
	size_t i;

	if (which < 0 || which >= DAEMON_LATENCIES)
		return;
	h = &d->latency[which];
	ns = ns < 0 ? 0 : ns;
	for (i = 0; i < DAEMON_HIST_BOUNDS; i++)
		if (ns <= histograms[which].bound[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum_ns += (uint64_t)ns;
}

/* One histogram: cumulative buckets, then +Inf, sum and count. */
static void
metrics_histogram(struct metrics_buf *m, struct tapgated *d,
    enum daemon_latency which)
{
	const struct daemon_histogram *h = &d->latency[which];
	const char *name = histograms[which].name;
	uint64_t below = 0;
	size_t i;

	family(m, name, "histogram", histograms[which].help);
	for (i = 0; i < DAEMON_HIST_BOUNDS; i++) {
		below += h->bucket[i];
		mprintf(m, "%s_bucket{le=\"%g\"} %llu\n", name,
		    (double)histograms[which].bound[i] / SEC,
		    (unsigned long long)below);
	}
	mprintf(m, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n"
	    "%s_count %llu\n", name, (unsigned long long)h->count, name,
	    (double)h->sum_ns / SEC, name, (unsigned long long)h->count);
}

/* The officers per approver group, and whether each can reach quorum. */
static void
metrics_quorum(struct metrics_buf *m, struct tapgated *d)
{
	const struct policy_config *cfg = d->cfg;
	size_t i;

	family(m, "tapgate_approvers_enrolled", "gauge", "Officers enrolled "
	    "per approver group.");
	for (i = 0; i < cfg->napprover_groups; i++)
		mprintf(m, "tapgate_approvers_enrolled{group=\"%s\"} %u\n",
		    cfg->approver_groups[i], d->quorum_enrolled[i]);
	family(m, "tapgate_quorum_unreachable", "gauge", "1 when fewer "
	    "officers are enrolled in a group than some policy needs.");
	for (i = 0; i < cfg->napprover_groups; i++)
		mprintf(m, "tapgate_quorum_unreachable{group=\"%s\"} %d\n",
		    cfg->approver_groups[i],
		    d->quorum_enrolled[i] < d->quorum_needed[i]);
}

/* Orders signed and redeemed, from the audit entries that committed. */
static void
metrics_orders(struct metrics_buf *m, struct tapgated *d)
{
	static const char *const outcome[DAEMON_REDEEM_OUTCOMES] = {
		[DAEMON_REDEEM_OK] = "redeemed",
		[DAEMON_REDEEM_REPLAY] = "replayed",
		[DAEMON_REDEEM_EXPIRED] = "expired",
	};
	size_t i;

	family(m, "tapgate_orders_issued_total", "counter", "Co-signed "
	    "orders issued.");
	mprintf(m, "tapgate_orders_issued_total %llu\n",
	    (unsigned long long)d->orders_issued);
	family(m, "tapgate_redemptions_total", "counter", "Redemptions of "
	    "orders by outcome (a replay or an expired order is refused).");
	for (i = 0; i < DAEMON_REDEEM_OUTCOMES; i++)
		mprintf(m, "tapgate_redemptions_total{outcome=\"%s\"} %llu\n",
		    outcome[i], (unsigned long long)d->redemptions[i]);
}

char *
engine_metrics(struct tapgated *d)
{
	struct metrics_buf m = { NULL, 0, 0 };
	char head[AUDIT_HASH_HEX + 1];
	int64_t seq = 0;
	size_t i;

	family(&m, "tapgate_build_info", "gauge", "The daemon's version.");
	mprintf(&m, "tapgate_build_info{version=\"%s\"} 1\n",
	    TAPGATE_VERSION);
	family(&m, "tapgate_up", "gauge", "The daemon answers.");
	mprintf(&m, "tapgate_up 1\n");
	family(&m, "tapgate_requests", "gauge", "Requests by queue and "
	    "state.");
	store_request_counts(d->st, metrics_count, &m);
	family(&m, "tapgate_http_responses_total", "counter", "HTTP answers "
	    "by status.");
	for (i = 0; i < DAEMON_HTTP_CODES && d->http_code[i] != 0; i++)
		mprintf(&m, "tapgate_http_responses_total{code=\"%u\"} %llu\n",
		    d->http_code[i], (unsigned long long)d->http_count[i]);
	family(&m, "tapgate_hook_runs_total", "counter", "Notification hook "
	    "runs by outcome.");
	for (i = 0; i <= HOOK_DROPPED; i++)
		mprintf(&m, "tapgate_hook_runs_total{outcome=\"%s\"} %llu\n",
		    hooks_outcome_name((enum hook_outcome)i),
		    (unsigned long long)d->hook_outcomes[i]);
	family(&m, "tapgate_messages_total", "counter", "Messages to people "
	    "(senders) by outcome.");
	for (i = 0; i <= HOOK_DROPPED; i++)
		mprintf(&m, "tapgate_messages_total{outcome=\"%s\"} %llu\n",
		    hooks_outcome_name((enum hook_outcome)i),
		    (unsigned long long)d->message_outcomes[i]);
	family(&m, "tapgate_notifications_configured", "gauge", "1 when a "
	    "sender is configured, 0 when nobody hears of a request.");
	mprintf(&m, "tapgate_notifications_configured %d\n",
	    policy_senders_configured(d->cfg));
	if (audit_head(d->st, &seq, head) == 0) {
		family(&m, "tapgate_audit_entries", "gauge", "Entries in the "
		    "audit chain.");
		mprintf(&m, "tapgate_audit_entries %lld\n", (long long)seq);
	}
	metrics_quorum(&m, d);
	metrics_orders(&m, d);
	for (i = 0; i < DAEMON_LATENCIES; i++)
		metrics_histogram(&m, d, (enum daemon_latency)i);
	family(&m, "tapgate_internal_errors_total", "counter", "Database or "
	    "internal failures.");
	mprintf(&m, "tapgate_internal_errors_total %llu\n",
	    (unsigned long long)d->errors);
	return m.p;
}

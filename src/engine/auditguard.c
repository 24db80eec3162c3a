/* SPDX-License-Identifier: ISC */
/*
 * What holds the audit chain: the signed checkpoints of its head, and
 * what holds it from outside the database it lives in: the head each
 * order carries, the high-water mark beside the sealed key
 * (store/auditmark.h), checked at start and moved with every checkpoint,
 * and the anchors an operator brings to "audit verify".  A checkpoint in
 * the database proves nothing against whoever holds the file; these do.
 * And the log's reading side: its tail, a request's history, and its
 * verification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "engine/auditguard.h"
#include "engine/txn.h"
#include "seal/signkey.h"
#include "store/checkpoint.h"

#define ZERO_HASH							\
	"0000000000000000000000000000000000000000000000000000000000000000"

int
eng_order_anchor(struct tapgated *d, json_t *doc)
{
	char hash[AUDIT_HASH_HEX + 1];
	json_t *head;
	int64_t seq;
	int r;

	if ((r = audit_head(d->st, &seq, hash)) != 0)
		return r;
	head = json_pack("{s:I,s:s}", "seq", (json_int_t)seq, "hash", hash);
	if (json_object_set_new(doc, "audit", head) != 0)
		return TG_ERR_NOMEM;
	return 0;
}

static const char *
utc(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
	return out;
}

/*
 * Move the high-water mark to (seq, hash) at now: signed with the
 * co-signing key, written beside the sealed key, logged.  A failure is
 * logged and counted, never fatal: the old mark stays, lower.
 */
static int
mark_update(struct tapgated *d, int64_t seq, const char *hash,
    int64_t now)
{
	struct auditmark m;
	char when[32];
	int r;

	if (d->signkey == NULL)
		return TG_ERR_INVALID;
	memset(&m, 0, sizeof(m));
	snprintf(m.appliance, sizeof(m.appliance), "%s", d->cfg->appliance.id);
	m.seq = seq;
	snprintf(m.hash, sizeof(m.hash), "%s", hash);
	m.time = now;
	if ((r = auditmark_sign(&m, d->signkey)) != 0 ||
	    (r = auditmark_write(d->cfg->appliance.state_dir, &m)) != 0) {
		d->errors++;
		fprintf(stderr, "tapgated: cannot write the audit high-water "
		    "mark %s/%s: %s (it stays at entry %lld)\n",
		    d->cfg->appliance.state_dir, AUDITMARK_FILE,
		    tg_strerror(r), (long long)(d->have_mark ? d->mark.seq :
		    0));
		return r;
	}
	d->mark = m;
	d->have_mark = 1;
	/* journald's copy under systemd: a cut shows against it too */
	fprintf(stderr, "tapgated: audit high-water mark: appliance %s "
	    "entry %lld hash %s time %s signed by %s\n", m.appliance,
	    (long long)m.seq, m.hash, utc(m.time, when), m.kid);
	return 0;
}

/* Every key the appliance signed with, retired ones too. */
static int
all_keys(struct tapgated *d, struct jwks **setp)
{
	if (d->keyring == NULL)
		return TG_ERR_NOT_FOUND;
	return signkey_ring_jwks(d->keyring, SIGNKEY_ALL, setp);
}

/*
 * Read and check the mark: 0 with it in *m when it verifies and the
 * chain holds it, else a description of what is wrong in why and 1.
 * *found says whether a mark file was there.  Negative for errors.
 */
static int
mark_check(struct tapgated *d, struct auditmark *m, int *found, char *why,
    size_t len)
{
	struct audit_anchor a;
	struct jwks *keys = NULL;
	char head_hash[AUDIT_HASH_HEX + 1], when[32];
	const char *dir = d->cfg->appliance.state_dir;
	int64_t head;
	int r;

	*found = 0;
	if ((r = audit_head(d->st, &head, head_hash)) != 0)
		return r;
	if ((r = auditmark_read(dir, m)) == TG_ERR_NOT_FOUND) {
		snprintf(why, len, "no audit high-water mark %s/%s, but the "
		    "log has entries up to %lld (%s): the mark was deleted, "
		    "or this is the first start of a tapgated that keeps one",
		    dir, AUDITMARK_FILE, (long long)head, head_hash);
		return head == 0 ? 0 : 1;
	}
	*found = 1;
	if (r != 0) {
		snprintf(why, len, "the audit high-water mark %s/%s cannot "
		    "be read: %s", dir, AUDITMARK_FILE, tg_strerror(r));
		return 1;
	}
	if ((r = all_keys(d, &keys)) != 0)
		return r;
	r = auditmark_verify(m, keys);
	jwks_free(&keys);
	if (r != 0) {
		snprintf(why, len, "the audit high-water mark %s/%s (entry "
		    "%lld) does not verify under this appliance's keys (kid "
		    "%s): %s", dir, AUDITMARK_FILE, (long long)m->seq, m->kid,
		    tg_strerror(r));
		return 1;
	}
	if (strcmp(m->appliance, d->cfg->appliance.id) != 0) {
		snprintf(why, len, "the audit high-water mark is appliance "
		    "%s's, this is %s", m->appliance, d->cfg->appliance.id);
		return 1;
	}
	auditmark_anchor(m, &a);
	if ((r = audit_hold_anchor(d->st, &a)) != 0)
		return r;
	if (a.held)
		return 0;
	snprintf(why, len, "the audit chain went backwards: the high-water "
	    "mark signed entry %lld hash %s at %s, but %s; the chain's head "
	    "is entry %lld hash %s", (long long)m->seq, m->hash,
	    utc(m->time, when), a.reason, (long long)head, head_hash);
	return 1;
}

/* Audit that the operator accepted the head found, what it replaced. */
static int
audit_accepted(struct tapgated *d, const struct auditmark *m, int found,
    const char *why, int64_t now)
{
	char hash[AUDIT_HASH_HEX + 1];
	struct eng_entry e;
	json_t *old, *details;
	int64_t head;
	int r;

	if ((r = audit_head(d->st, &head, hash)) != 0)
		return r;
	old = found ? json_pack("{s:I,s:s,s:I,s:s}", "seq",
	    (json_int_t)m->seq, "hash", m->hash, "time", (json_int_t)m->time,
	    "kid", m->kid) : json_null();
	details = json_pack("{s:s,s:o,s:{s:I,s:s}}", "reason", why, "mark",
	    old, "head", "seq", (json_int_t)head, "hash", hash);
	e = (struct eng_entry){ &eng_system, "audit.head_accepted", NULL,
	    details, now };
	r = eng_txn(d, eng_audit_entry, &e, NULL, NULL, NULL);
	json_decref(details);
	return r;
}

int
engine_audit_mark_open(struct tapgated *d, int accept, int64_t now)
{
	struct auditmark m;
	char why[768], hash[AUDIT_HASH_HEX + 1];
	int64_t head;
	int r, found;

	memset(&m, 0, sizeof(m));
	if ((r = mark_check(d, &m, &found, why, sizeof(why))) < 0) {
		fprintf(stderr, "tapgated: audit high-water mark: %s (%s)\n",
		    tg_strerror(r), store_errmsg(d->st));
		return r;
	}
	if (r == 0 && found) {
		d->mark = m;
		d->have_mark = 1;
		return 0;
	}
	if (r == 0)		/* a fresh state: the mark of the empty chain */
		return mark_update(d, 0, ZERO_HASH, now);
	fprintf(stderr, "tapgated: ALARM: %s\n", why);
	if (!accept) {
		fprintf(stderr, "tapgated: refusing to start: nothing is "
		    "signed over this log.  Find out what happened to it; "
		    "when the log is known to be right (restored from a "
		    "backup, or the first start after an upgrade), start "
		    "once with --accept-audit-head, which is audited\n");
		return TG_ERR_CORRUPT;
	}
	if ((r = audit_accepted(d, &m, found, why, now)) != 0) {
		fprintf(stderr, "tapgated: cannot audit the accepted audit "
		    "head: %s\n", tg_strerror(r));
		return r;
	}
	fprintf(stderr, "tapgated: ALARM: the audit head was accepted "
	    "(--accept-audit-head), audited as audit.head_accepted\n");
	if ((r = audit_head(d->st, &head, hash)) != 0)
		return r;
	return mark_update(d, head, hash, now);
}

/* ---- signed audit checkpoints (checkpoint.h) */

/*
 * The key set checkpoints are checked against: every key the appliance
 * signed with, retired ones too (a checkpoint outlives its key).
 */
int
eng_signer_keys(struct tapgated *d, struct jwks **setp)
{
	if (d->keyring == NULL || d->signkey == NULL)
		return TG_ERR_NOT_FOUND;
	return signkey_ring_jwks(d->keyring, SIGNKEY_ALL, setp);
}

/* A checkpoint of the audit head, as the steps of its transaction. */
struct checkpoint_txn {
	const struct jwks	*keys;
	int64_t			 now;
	struct checkpoint	 cp;
	int			 nothing_new;
};

static int
checkpoint_steps(struct tapgated *d, void *arg)
{
	struct checkpoint_txn *t = arg;
	int r;

	/* the signer re-checks the chain up to the head it signs */
	r = checkpoint_prepare(d->st, t->keys, t->now, &t->cp);
	if (r == TG_ERR_EXISTS || r == TG_ERR_NOT_FOUND) {
		t->nothing_new = 1;	/* rolled back: nothing to sign */
		return r;
	}
	if (r != 0)
		return r;
	if ((r = checkpoint_sign(&t->cp, d->signkey)) != 0)
		return r;
	return checkpoint_insert(d->st, &t->cp);
}

int
engine_checkpoint(struct tapgated *d, int64_t now)
{
	struct checkpoint_txn t;
	struct jwks *keys = NULL;
	int r;

	d->checkpoint_next = now + (d->checkpoint_interval > 0 ?
	    d->checkpoint_interval : DAEMON_CHECKPOINT_SECONDS);
	if (d->st == NULL || d->signkey == NULL)
		return TG_ERR_INVALID;
	if ((r = eng_signer_keys(d, &keys)) != 0)
		return r;
	memset(&t, 0, sizeof(t));
	t.keys = keys;
	t.now = now;
	r = eng_txn(d, checkpoint_steps, &t, NULL, NULL, NULL);
	jwks_free(&keys);
	if (t.nothing_new)
		return 0;
	if (r != 0) {
		d->errors++;
		/* an alarm: the chain no longer extends what was signed */
		fprintf(stderr, "tapgated: audit checkpoint refused: %s (%s)\n",
		    tg_strerror(r), store_errmsg(d->st));
		return r;
	}
	fprintf(stderr, "tapgated: audit checkpoint: entry %lld %s signed by "
	    "%s\n", (long long)t.cp.seq, t.cp.hash, t.cp.kid);
	/* and outside the file it protects */
	(void)mark_update(d, t.cp.seq, t.cp.hash, t.cp.time);
	return 1;
}

/* ---- the audit log read and verified */

static int
audit_row_json(const struct audit_entry *e, void *arg)
{
	json_t *details = json_loads(e->details, 0, NULL);

	return json_array_append_new(arg, json_pack("{s:I,s:I,s:I,s:s,s:s,"
	    "s:s,s:s?,s:o,s:s,s:s}", "seq", (json_int_t)e->seq, "time",
	    (json_int_t)e->time, "actor_uid", (json_int_t)e->actor_uid,
	    "actor_role", e->actor_role, "actor_name", e->actor_name,
	    "event", e->event, "request_id", e->request_id, "details",
	    details ? details : json_string(e->details), "prev_hash",
	    e->prev_hash, "hash", e->hash)) == 0 ? 0 : TG_ERR_NOMEM;
}

int
engine_audit_tail(struct tapgated *d, int limit, struct engine_result *res)
{
	json_t *arr = json_array();
	int r;

	if ((r = audit_tail(d->st, limit, audit_row_json, arr)) != 0) {
		json_decref(arr);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o}", "entries", arr);
	return 0;
}

/* A page of a request's history, and the seq of its last entry. */
struct history {
	json_t	*entries;
	int64_t	 last;
};

static int
history_row(const struct audit_entry *e, void *arg)
{
	struct history *h = arg;

	h->last = e->seq;
	return audit_row_json(e, h->entries);
}

static int
history_more(const struct audit_entry *e, void *arg)
{
	(void)e;
	*(int *)arg = 1;
	return 0;
}

/*
 * Whether a may read request id's history: 0, or the refusal in res.
 * Officers and operators read every request's; intake, those of its own
 * team (a help-desk agent follows its team's requests, as it lists and
 * shows them, not the other teams' approvals, vetoes and hook failures):
 * another team's request is not found, as it is for requests show.
 */
static int
history_allowed(struct tapgated *d, const struct engine_actor *a,
    const char *id, struct engine_result *res)
{
	struct store_request *row = NULL;
	int r;

	if (!store_request_id_valid(id)) {
		eng_error(res, 400, "invalid_query", "request: a request id "
		    "is 32 lower-case hex digits");
		return TG_ERR_INVALID;
	}
	if ((r = store_request_get(d->st, id, &row)) == TG_ERR_NOT_FOUND) {
		eng_error(res, 404, "not_found", "no such request");
		return r;
	}
	if (r != 0)
		return eng_db_error(d, res, r);
	if (a->team != NULL && (row->requester_team == NULL ||
	    strcmp(row->requester_team, a->team) != 0)) {
		eng_error(res, 404, "not_found", "no such request");
		r = TG_ERR_NOT_FOUND;
	}
	store_request_free(&row);
	return r;
}

int
engine_audit_history(struct tapgated *d, const struct engine_actor *a,
    const char *id, int64_t after, int limit, struct engine_result *res)
{
	struct history h = { NULL, 0 };
	int more = 0, r;

	if ((r = history_allowed(d, a, id, res)) != 0)
		return r;
	if ((h.entries = json_array()) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	if ((r = audit_request_page(d->st, id, after, limit, history_row,
	    &h)) == 0 && json_array_size(h.entries) == (size_t)limit)
		/* one more entry after the page tells there are more */
		r = audit_request_page(d->st, id, h.last, 1, history_more,
		    &more);
	if (r != 0) {
		json_decref(h.entries);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:o,s:b}", "request_id", id, "entries",
	    h.entries, "more", more);
	return 0;
}

static int
timeline_row(const struct audit_entry *e, void *arg)
{
	json_t *details = json_loads(e->details, 0, NULL);

	return json_array_append_new(arg, json_pack("{s:I,s:I,s:s,s:s,s:o}",
	    "seq", (json_int_t)e->seq, "time", (json_int_t)e->time, "event",
	    e->event, "actor", e->actor_name, "detail", details ? details :
	    json_string(e->details))) == 0 ? 0 : TG_ERR_NOMEM;
}

int
engine_timeline(struct tapgated *d, const struct engine_actor *a,
    const char *id, struct engine_result *res)
{
	json_t *events;
	int r;

	if ((r = history_allowed(d, a, id, res)) != 0)
		return r;
	if ((events = json_array()) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	if ((r = audit_request(d->st, id, timeline_row, events)) != 0) {
		json_decref(events);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:o}", "id", id, "events", events);
	return res->body != NULL ? 0 : eng_db_error(d, res, TG_ERR_NOMEM);
}

/* An audit report as JSON (shared with the console's offline verify). */
json_t *
engine_audit_report_json(const struct audit_report *rep)
{
	static const char *const why[] = { "intact", "edited", "missing",
	    "unlinked", "malformed" };

	if (rep->ok)
		return json_pack("{s:b,s:I,s:I,s:s}", "ok", 1, "count",
		    (json_int_t)rep->count, "head_seq",
		    (json_int_t)rep->head_seq, "head_hash", rep->head_hash);
	return json_pack("{s:b,s:I,s:I,s:s,s:I,s:s,s:s}", "ok", 0, "count",
	    (json_int_t)rep->count, "head_seq", (json_int_t)rep->head_seq,
	    "head_hash", rep->head_hash, "bad_seq", (json_int_t)rep->bad_seq,
	    "why", (unsigned)rep->why < 5 ? why[rep->why] : "unknown",
	    "reason", rep->reason);
}

/* A checkpoint report as JSON: the chain's, plus the checkpoints'. */
json_t *
engine_checkpoint_report_json(const struct checkpoint_report *rep)
{
	json_t *j, *cp = NULL;
	char sig[128];

	if ((j = engine_audit_report_json(&rep->chain)) == NULL)
		return NULL;
	if (!rep->ok && rep->why != CHECKPOINT_CHAIN) {
		json_object_set_new(j, "ok", json_false());
		json_object_set_new(j, "bad_seq", json_integer(rep->bad_seq));
		json_object_set_new(j, "why",
		    json_string(checkpoint_break_name(rep->why)));
		json_object_set_new(j, "reason", json_string(rep->reason));
	}
	if (rep->have_latest) {
		b64url_encode(rep->latest.sig, sizeof(rep->latest.sig), sig);
		cp = json_pack("{s:I,s:s,s:I,s:s,s:s}", "seq",
		    (json_int_t)rep->latest.seq, "hash", rep->latest.hash,
		    "time", (json_int_t)rep->latest.time, "kid",
		    rep->latest.kid, "signature", sig);
	}
	json_object_set_new(j, "checkpoint", cp != NULL ? cp : json_null());
	json_object_set_new(j, "checkpoints", json_integer(rep->count));
	json_object_set_new(j, "signatures_checked",
	    json_boolean(rep->signatures));
	return j;
}

int
engine_anchors_json(json_t *rep, const struct audit_anchor *a,
    const char *const *sources, size_t n)
{
	json_t *arr, *o;
	size_t i;
	int failed = 0;

	if ((arr = json_array()) == NULL)
		return TG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		o = json_pack("{s:I,s:s,s:s,s:b}", "seq", (json_int_t)a[i].seq,
		    "hash", a[i].hash, "source", sources[i], "held",
		    a[i].held);
		if (o != NULL && !a[i].held)
			json_object_set_new(o, "reason",
			    json_string(a[i].reason));
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return TG_ERR_NOMEM;
		}
		if (a[i].held || failed++ > 0 ||
		    !json_is_true(json_object_get(rep, "ok")))
			continue;
		json_object_set_new(rep, "ok", json_false());
		json_object_set_new(rep, "bad_seq", json_integer(a[i].seq));
		json_object_set_new(rep, "why",
		    json_string(checkpoint_break_name(CHECKPOINT_ANCHOR)));
		json_object_set_new(rep, "reason", json_sprintf("the log does "
		    "not hold the anchor of %s: %s", sources[i],
		    a[i].reason));
	}
	return json_object_set_new(rep, "anchors", arr) == 0 ? 0 :
	    TG_ERR_NOMEM;
}

/* "SEQ:HASH" into a; 0 or TG_ERR_INVALID. */
static int
anchor_parse(const char *s, struct audit_anchor *a)
{
	const char *colon = strchr(s, ':');
	char *end;
	long long seq;

	memset(a, 0, sizeof(*a));
	if (colon == NULL || colon == s || strspn(s, "0123456789") !=
	    (size_t)(colon - s) || strlen(colon + 1) != AUDIT_HASH_HEX ||
	    strspn(colon + 1, "0123456789abcdef") != AUDIT_HASH_HEX)
		return TG_ERR_INVALID;
	seq = strtoll(s, &end, 10);
	if (end != colon || seq < 0 || seq > JCS_INT_MAX)
		return TG_ERR_INVALID;
	a->seq = (int64_t)seq;
	memcpy(a->hash, colon + 1, AUDIT_HASH_HEX + 1);
	return 0;
}

int
engine_audit_verify(struct tapgated *d, const char *const *anchors,
    size_t n, int64_t now, struct engine_result *res)
{
	struct audit_anchor a[ENGINE_ANCHORS_MAX + 1];
	const char *src[ENGINE_ANCHORS_MAX + 1];
	struct checkpoint_report rep;
	struct jwks *keys = NULL;
	size_t i, na = 0;
	json_t *j;
	int r;

	if (n > ENGINE_ANCHORS_MAX) {
		eng_error(res, 400, "invalid_query", "anchor: too many");
		return TG_ERR_INVALID;
	}
	for (i = 0; i < n; i++, na++) {
		if (anchor_parse(anchors[i], &a[na]) != 0) {
			eng_error(res, 400, "invalid_query",
			    "anchor: SEQ:HASH (an entry's seq and its 64 hex "
			    "digit hash)");
			return TG_ERR_INVALID;
		}
		src[na] = "the caller";
	}
	if (d->have_mark) {
		auditmark_anchor(&d->mark, &a[na]);
		src[na++] = "the high-water mark";
	}
	memset(&rep, 0, sizeof(rep));
	if ((r = eng_signer_keys(d, &keys)) != 0 && r != TG_ERR_NOT_FOUND)
		return eng_db_error(d, res, r);
	r = checkpoint_verify(d->st, keys, &rep);
	jwks_free(&keys);
	for (i = 0; r == 0 && i < na; i++)
		r = audit_hold_anchor(d->st, &a[i]);
	if (r != 0)
		return eng_db_error(d, res, r);
	checkpoint_check_stale(&rep, now, d->checkpoint_interval > 0 ?
	    d->checkpoint_interval : DAEMON_CHECKPOINT_SECONDS);
	if ((j = engine_checkpoint_report_json(&rep)) == NULL ||
	    engine_anchors_json(j, a, src, na) != 0) {
		json_decref(j);
		return eng_db_error(d, res, TG_ERR_NOMEM);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = j;
	return 0;
}

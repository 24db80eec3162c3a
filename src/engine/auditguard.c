/* SPDX-License-Identifier: ISC */
/*
 * What holds the audit chain from outside the database it lives in: the
 * head each order carries, the high-water mark beside the sealed key
 * (store/auditmark.h), checked at start and moved with every checkpoint,
 * and the anchors an operator brings to "audit verify".  A checkpoint in
 * the database proves nothing against whoever holds the file; these do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errors.h"
#include "engine/engine_int.h"
#include "seal/signkey.h"
#include "store/checkpoint.h"

#define ZERO_HASH							\
	"0000000000000000000000000000000000000000000000000000000000000000"

int
eng_order_anchor(struct tapgated *d, json_t *doc)
{
	char hash[AUDIT_HASH_HEX + 1];
	int64_t seq;
	int r;

	if ((r = audit_head(d->st, &seq, hash)) != 0)
		return r;
	if (json_object_set_new(doc, "audit", json_pack("{s:I,s:s}", "seq",
	    (json_int_t)seq, "hash", hash)) != 0)
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

int
eng_mark_update(struct tapgated *d, int64_t seq, const char *hash,
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
	const struct engine_actor sys = { -1, "system", "tapgated" };
	char hash[AUDIT_HASH_HEX + 1];
	json_t *old;
	int64_t head;
	int r;

	if ((r = audit_head(d->st, &head, hash)) != 0)
		return r;
	old = found ? json_pack("{s:I,s:s,s:I,s:s}", "seq",
	    (json_int_t)m->seq, "hash", m->hash, "time", (json_int_t)m->time,
	    "kid", m->kid) : json_null();
	if ((r = store_begin(d->st)) != 0) {
		json_decref(old);
		return r;
	}
	if ((r = eng_audit(d, &sys, "audit.head_accepted", NULL,
	    json_pack("{s:s,s:o,s:{s:I,s:s}}", "reason", why, "mark", old,
	    "head", "seq", (json_int_t)head, "hash", hash), now)) != 0 ||
	    (r = store_commit(d->st)) != 0) {
		store_rollback(d->st);
		return r;
	}
	return 0;
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
		return eng_mark_update(d, 0, ZERO_HASH, now);
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
	return eng_mark_update(d, head, hash, now);
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

/* SPDX-License-Identifier: ISC */
/*
 * The hash-chained audit log (audit.h has the encoding), its verification,
 * and its copy to journald.
 */
#include <sys/stat.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <syslog.h>
#include <systemd/sd-journal.h>

#include "common/errors.h"
#include "store/store_int.h"

#define AUDIT_DOMAIN	"tapgate-audit-v1"	/* hashed with its NUL */
#define AUDIT_ZERO_HASH							\
	"0000000000000000000000000000000000000000000000000000000000000000"
/* journalctl MESSAGE_ID=... finds every audit entry. */
#define AUDIT_MESSAGE_ID "b6dfd9cec9e80d0b42304b19ee7a24b8"
#define AUDIT_JOURNAL_SOCKET "/run/systemd/journal/socket"

#define AUDIT_COLS							\
	"seq, time, actor_uid, actor_role, actor_name, event, "	\
	"request_id, details, prev_hash, hash"

/* An entry waiting for its transaction to commit before journald. */
struct audit_pending {
	struct audit_pending	*next;
	struct audit_entry	 e;
};

static const size_t pending_strings[] = {
	offsetof(struct audit_pending, e.actor_role),
	offsetof(struct audit_pending, e.actor_name),
	offsetof(struct audit_pending, e.event),
	offsetof(struct audit_pending, e.request_id),
	offsetof(struct audit_pending, e.details),
	offsetof(struct audit_pending, e.prev_hash),
	offsetof(struct audit_pending, e.hash),
};

static int
hex_decode32(const char *hex, unsigned char out[32])
{
	size_t i;
	int hi, lo;
	char c;

	if (!store_is_hex(hex, AUDIT_HASH_HEX))
		return TG_ERR_INVALID;
	for (i = 0; i < 32; i++) {
		c = hex[2 * i];
		hi = c <= '9' ? c - '0' : c - 'a' + 10;
		c = hex[2 * i + 1];
		lo = c <= '9' ? c - '0' : c - 'a' + 10;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static void
hex_encode32(const unsigned char in[32], char out[AUDIT_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[AUDIT_HASH_HEX] = '\0';
}

static int
put_int(EVP_MD_CTX *ctx, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;	/* two's complement, by C11 7.20.1.1 */
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
	return EVP_DigestUpdate(ctx, b, sizeof(b));
}

static int
put_str(EVP_MD_CTX *ctx, const char *s)
{
	unsigned char b[5];
	size_t len;

	if (s == NULL) {
		b[0] = 0;
		return EVP_DigestUpdate(ctx, b, 1);
	}
	len = strlen(s);
	if (len > UINT32_MAX)
		return 0;
	b[0] = 1;
	b[1] = (unsigned char)(len >> 24);
	b[2] = (unsigned char)(len >> 16);
	b[3] = (unsigned char)(len >> 8);
	b[4] = (unsigned char)len;
	return EVP_DigestUpdate(ctx, b, sizeof(b)) &&
	    EVP_DigestUpdate(ctx, s, len);
}

int
audit_entry_hash(const struct audit_entry *e, char hash[AUDIT_HASH_HEX + 1])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char prev[32], md[32];
	unsigned int mdlen = 0;
	int r = TG_ERR_INTERNAL;

	if (e == NULL || hash == NULL || e->actor_role == NULL ||
	    e->actor_name == NULL || e->event == NULL || e->details == NULL ||
	    hex_decode32(e->prev_hash, prev) != 0)
		return TG_ERR_INVALID;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TG_ERR_NOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, AUDIT_DOMAIN, sizeof(AUDIT_DOMAIN)) != 1 ||
	    put_int(ctx, e->seq) != 1 ||
	    put_int(ctx, e->time) != 1 ||
	    put_int(ctx, e->actor_uid) != 1 ||
	    put_str(ctx, e->actor_role) != 1 ||
	    put_str(ctx, e->actor_name) != 1 ||
	    put_str(ctx, e->event) != 1 ||
	    put_str(ctx, e->request_id) != 1 ||
	    put_str(ctx, e->details) != 1 ||
	    EVP_DigestUpdate(ctx, prev, sizeof(prev)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(md))
		goto out;
	hex_encode32(md, hash);
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* A JSON object, no duplicate keys, nothing after it. */
static int
check_details(const char *details)
{
	json_error_t err;
	json_t *j;
	int r;

	j = json_loads(details, JSON_REJECT_DUPLICATES, &err);
	/* Out of memory is ours, not the caller's malformed details. */
	if (j == NULL && json_error_code(&err) == json_error_out_of_memory)
		return TG_ERR_NOMEM;
	r = j != NULL && json_is_object(j) ? 0 : TG_ERR_INVALID;
	json_decref(j);
	return r;
}

static int
check_entry(const struct audit_entry *e)
{
	int r;

	if ((r = store_check_str(e->actor_role, AUDIT_MAX_NAME, 0)) != 0 ||
	    (r = store_check_str(e->actor_name, AUDIT_MAX_NAME, 0)) != 0 ||
	    (r = store_check_str(e->event, AUDIT_MAX_NAME, 0)) != 0 ||
	    (r = store_check_str(e->request_id, AUDIT_MAX_NAME, 1)) != 0 ||
	    (r = store_check_str(e->details, AUDIT_MAX_DETAILS, 1)) != 0)
		return r;
	if (e->details != NULL && (r = check_details(e->details)) != 0)
		return r;
	return 0;
}

int
audit_head(struct store *st, int64_t *seqp, char hash[AUDIT_HASH_HEX + 1])
{
	sqlite3_stmt *s = NULL;
	const char *h;
	int64_t seq = 0;
	int rc, r = 0;

	if (st == NULL || seqp == NULL || hash == NULL)
		return TG_ERR_INVALID;
	if ((r = store_prepare(st, SLOT_AUDIT_LAST, "SELECT seq, hash FROM "
	    "audit ORDER BY seq DESC LIMIT 1", &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		seq = sqlite3_column_int64(s, 0);
		h = (const char *)sqlite3_column_text(s, 1);
		if (!store_is_hex(h, AUDIT_HASH_HEX)) {
			r = TG_ERR_CORRUPT;
			goto out;
		}
		memcpy(hash, h, AUDIT_HASH_HEX + 1);
	} else if (rc == SQLITE_DONE)
		memcpy(hash, AUDIT_ZERO_HASH, AUDIT_HASH_HEX + 1);
	else {
		r = store_sqlerr(st, rc);
		goto out;
	}
	*seqp = seq;
out:
	store_done(st, SLOT_AUDIT_LAST, s);
	return r;
}

int
audit_hash_at(struct store *st, int64_t seq, char hash[AUDIT_HASH_HEX + 1])
{
	sqlite3_stmt *s = NULL;
	const char *h;
	int rc, r;

	if (st == NULL || hash == NULL)
		return TG_ERR_INVALID;
	if (seq < 1)
		return TG_ERR_NOT_FOUND;
	/* rare (anchors, marks): prepared when used, not cached */
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT hash FROM audit "
	    "WHERE seq = ?1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_int(st, s, 1, seq)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_DONE) {
		r = TG_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	h = (const char *)sqlite3_column_text(s, 0);
	if (sqlite3_column_type(s, 0) != SQLITE_TEXT ||
	    !store_is_hex(h, AUDIT_HASH_HEX)) {
		r = TG_ERR_CORRUPT;
		goto out;
	}
	memcpy(hash, h, AUDIT_HASH_HEX + 1);
	r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

int
audit_hold_anchor(struct store *st, struct audit_anchor *a)
{
	char hash[AUDIT_HASH_HEX + 1], head_hash[AUDIT_HASH_HEX + 1];
	int64_t head;
	int r;

	if (st == NULL || a == NULL || a->seq < 0 ||
	    !store_is_hex(a->hash, AUDIT_HASH_HEX))
		return TG_ERR_INVALID;
	a->held = 0;
	a->reason[0] = '\0';
	if (a->seq == 0) {
		a->held = 1;	/* the empty chain: a prefix of every chain */
		return 0;
	}
	r = audit_hash_at(st, a->seq, hash);
	if (r == TG_ERR_NOT_FOUND) {
		if ((r = audit_head(st, &head, head_hash)) != 0)
			return r;
		snprintf(a->reason, sizeof(a->reason), "the log has no entry "
		    "%lld: it ends at entry %lld (cut after the anchor)",
		    (long long)a->seq, (long long)head);
		return 0;
	}
	if (r == TG_ERR_CORRUPT) {
		snprintf(a->reason, sizeof(a->reason), "entry %lld has a "
		    "malformed hash", (long long)a->seq);
		return 0;
	}
	if (r != 0)
		return r;
	if (CRYPTO_memcmp(hash, a->hash, AUDIT_HASH_HEX) != 0) {
		snprintf(a->reason, sizeof(a->reason), "entry %lld has hash "
		    "%.16s..., the anchor %.16s... (rewritten)",
		    (long long)a->seq, hash, a->hash);
		return 0;
	}
	a->held = 1;
	return 0;
}

/* Keep a copy of the entry for journald until the commit. */
static int
queue_pending(struct store *st, const struct audit_entry *e)
{
	struct audit_pending p;
	void *copy;
	int r;

	memset(&p, 0, sizeof(p));
	p.e = *e;
	if ((r = store_copy_record(&p, sizeof(p), pending_strings,
	    sizeof(pending_strings) / sizeof(pending_strings[0]), &copy)) != 0)
		return r;
	*st->pending_tail = copy;
	st->pending_tail = &((struct audit_pending *)copy)->next;
	return 0;
}

int
audit_append(struct store *st, const struct audit_entry *in, int64_t *seqp)
{
	static const char sql[] = "INSERT INTO audit (" AUDIT_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
	struct audit_entry e;
	sqlite3_stmt *s = NULL;
	char prev[AUDIT_HASH_HEX + 1], hash[AUDIT_HASH_HEX + 1];
	int64_t last;
	int rc, r;

	if (st == NULL || in == NULL)
		return TG_ERR_INVALID;
	if ((r = check_entry(in)) != 0)
		return r;
	/* Reading the head and inserting must be one atomic step. */
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = audit_head(st, &last, prev)) != 0)
		return r;
	e = *in;
	e.seq = last + 1;
	if (e.time == 0)
		e.time = store_now();
	if (e.details == NULL)
		e.details = "{}";
	e.prev_hash = prev;
	if ((r = audit_entry_hash(&e, hash)) != 0)
		return r;
	e.hash = hash;
	if ((r = store_prepare(st, SLOT_AUDIT_INSERT, sql, &s)) != 0 ||
	    (r = store_bind_int(st, s, 1, e.seq)) != 0 ||
	    (r = store_bind_int(st, s, 2, e.time)) != 0 ||
	    (r = store_bind_int(st, s, 3, e.actor_uid)) != 0 ||
	    (r = store_bind_text(st, s, 4, e.actor_role)) != 0 ||
	    (r = store_bind_text(st, s, 5, e.actor_name)) != 0 ||
	    (r = store_bind_text(st, s, 6, e.event)) != 0 ||
	    (r = store_bind_text(st, s, 7, e.request_id)) != 0 ||
	    (r = store_bind_text(st, s, 8, e.details)) != 0 ||
	    (r = store_bind_text(st, s, 9, e.prev_hash)) != 0 ||
	    (r = store_bind_text(st, s, 10, e.hash)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
		r = store_sqlerr(st, rc);
		/* Our chain trigger refused our own insert: a bug here. */
		if (r == TG_ERR_IMMUTABLE)
			r = TG_ERR_INTERNAL;
		goto out;
	}
	if ((st->journal || st->sink != NULL) &&
	    (r = queue_pending(st, &e)) != 0)
		goto out;
	if (seqp != NULL)
		*seqp = e.seq;
out:
	store_done(st, SLOT_AUDIT_INSERT, s);
	return r;
}

/* The current row as an entry; strings valid until the next step. */
static void
row_entry(sqlite3_stmt *s, struct audit_entry *e)
{
	e->seq = sqlite3_column_int64(s, 0);
	e->time = sqlite3_column_int64(s, 1);
	e->actor_uid = sqlite3_column_int64(s, 2);
	e->actor_role = (const char *)sqlite3_column_text(s, 3);
	e->actor_name = (const char *)sqlite3_column_text(s, 4);
	e->event = (const char *)sqlite3_column_text(s, 5);
	e->request_id = (const char *)sqlite3_column_text(s, 6);
	e->details = (const char *)sqlite3_column_text(s, 7);
	e->prev_hash = (const char *)sqlite3_column_text(s, 8);
	e->hash = (const char *)sqlite3_column_text(s, 9);
}

/* A row the schema should never have let in (a rebuilt table). */
static int
row_malformed(sqlite3_stmt *s, const struct audit_entry *e)
{
	static const int ints[] = { 0, 1, 2 };
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (sqlite3_column_type(s, ints[i]) != SQLITE_INTEGER)
			return 1;
	return e->actor_role == NULL || e->actor_name == NULL ||
	    e->event == NULL || e->details == NULL ||
	    !store_is_hex(e->prev_hash, AUDIT_HASH_HEX) ||
	    !store_is_hex(e->hash, AUDIT_HASH_HEX);
}

static void report_break(struct audit_report *, int64_t, enum audit_break,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
report_break(struct audit_report *rep, int64_t seq, enum audit_break why,
    const char *fmt, ...)
{
	va_list ap;

	rep->ok = 0;
	rep->bad_seq = seq;
	rep->why = why;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

/*
 * Walk the chain from entry `from` (1: the whole chain).  From a later
 * entry, that entry's stored hash must be `from_hash` and is taken as the
 * link to what precedes it: what a checkpoint vouches for.
 */
static int
verify_walk(struct store *st, int64_t from, const char *from_hash,
    struct audit_report *report)
{
	struct audit_report rep;
	struct audit_entry e;
	sqlite3_stmt *s = NULL;
	char want[AUDIT_HASH_HEX + 1];
	int64_t expect = from;
	int rc, r;

	memset(&rep, 0, sizeof(rep));
	rep.ok = 1;
	memcpy(rep.head_hash, AUDIT_ZERO_HASH, sizeof(rep.head_hash));
	/* One statement reads one snapshot, even while others append. */
	if ((r = store_prepare(st, SLOT_AUDIT_ALL, "SELECT " AUDIT_COLS
	    " FROM audit WHERE seq >= ?1 ORDER BY seq", &s)) != 0)
		return r;
	/* The whole chain: rows the CHECK should have kept out too. */
	if ((r = store_bind_int(st, s, 1, from > 1 ? from : INT64_MIN)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_entry(s, &e);
		if (e.seq != expect) {
			/* Checked first: a gap explains what follows it. */
			if (e.seq > expect)
				report_break(&rep, expect, AUDIT_MISSING,
				    "entry %lld is missing (deleted): the next "
				    "entry is %lld", (long long)expect,
				    (long long)e.seq);
			else
				report_break(&rep, e.seq, AUDIT_MALFORMED,
				    "entry %lld out of sequence (expected "
				    "%lld)", (long long)e.seq,
				    (long long)expect);
			break;
		}
		if (row_malformed(s, &e)) {
			report_break(&rep, e.seq, AUDIT_MALFORMED,
			    "entry %lld is malformed (a field of the wrong "
			    "type or shape)", (long long)e.seq);
			break;
		}
		if (from_hash != NULL && e.seq == from &&
		    CRYPTO_memcmp(e.hash, from_hash, AUDIT_HASH_HEX) != 0) {
			report_break(&rep, e.seq, AUDIT_EDITED,
			    "entry %lld is not the entry that was signed "
			    "(rewritten)", (long long)e.seq);
			break;
		}
		/* From a later entry, the signed hash stands for its past. */
		if ((e.seq != from || from == 1) &&
		    CRYPTO_memcmp(e.prev_hash, rep.head_hash,
		    AUDIT_HASH_HEX) != 0) {
			report_break(&rep, e.seq, AUDIT_UNLINKED,
			    "entry %lld does not follow entry %lld (deleted, "
			    "inserted or reordered)", (long long)e.seq,
			    (long long)rep.head_seq);
			break;
		}
		if ((r = audit_entry_hash(&e, want)) != 0)
			goto out;
		if (CRYPTO_memcmp(want, e.hash, AUDIT_HASH_HEX) != 0) {
			report_break(&rep, e.seq, AUDIT_EDITED,
			    "entry %lld does not match its hash (edited)",
			    (long long)e.seq);
			break;
		}
		rep.count++;
		rep.head_seq = e.seq;
		memcpy(rep.head_hash, e.hash, sizeof(rep.head_hash));
		expect++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	/* The entry a checkpoint signed is gone: the tail was cut. */
	if (rep.ok && from_hash != NULL && rep.count == 0)
		report_break(&rep, from, AUDIT_MISSING, "entry %lld is "
		    "missing (deleted): the log ends before it",
		    (long long)from);
	*report = rep;
	r = 0;
out:
	store_done(st, SLOT_AUDIT_ALL, s);
	return r;
}

int
audit_verify(struct store *st, struct audit_report *report)
{
	if (st == NULL || report == NULL)
		return TG_ERR_INVALID;
	return verify_walk(st, 1, NULL, report);
}

int
audit_verify_from(struct store *st, int64_t seq,
    const char hash[AUDIT_HASH_HEX + 1], struct audit_report *report)
{
	if (st == NULL || report == NULL || seq < 1 ||
	    !store_is_hex(hash, AUDIT_HASH_HEX))
		return TG_ERR_INVALID;
	return verify_walk(st, seq, hash, report);
}

static int
each_entry(struct store *st, enum store_slot slot, sqlite3_stmt *s,
    audit_cb *cb, void *arg)
{
	struct audit_entry e;
	int rc, r = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_entry(s, &e);
		if ((r = cb(&e, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
	store_done(st, slot, s);
	return r;
}

int
audit_tail(struct store *st, int n, audit_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " AUDIT_COLS " FROM (SELECT "
	    AUDIT_COLS " FROM audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq";
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || cb == NULL || n < 1 || n > AUDIT_TAIL_MAX)
		return TG_ERR_INVALID;
	if ((r = store_prepare(st, SLOT_AUDIT_TAIL, sql, &s)) != 0)
		return r;
	if ((r = store_bind_int(st, s, 1, n)) != 0) {
		store_done(st, SLOT_AUDIT_TAIL, s);
		return r;
	}
	return each_entry(st, SLOT_AUDIT_TAIL, s, cb, arg);
}

int
audit_alarms(struct store *st, int n, audit_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " AUDIT_COLS " FROM (SELECT "
	    AUDIT_COLS " FROM audit WHERE substr(event, 1, 6) = 'alarm.' "
	    "ORDER BY seq DESC LIMIT ?1) ORDER BY seq";
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || cb == NULL || n < 1 || n > AUDIT_TAIL_MAX)
		return TG_ERR_INVALID;
	if ((r = store_prepare(st, SLOT_AUDIT_ALARMS, sql, &s)) != 0)
		return r;
	if ((r = store_bind_int(st, s, 1, n)) != 0) {
		store_done(st, SLOT_AUDIT_ALARMS, s);
		return r;
	}
	return each_entry(st, SLOT_AUDIT_ALARMS, s, cb, arg);
}

int
audit_request(struct store *st, const char *request_id, audit_cb *cb,
    void *arg)
{
	static const char sql[] = "SELECT " AUDIT_COLS " FROM audit "
	    "WHERE request_id = ?1 ORDER BY seq LIMIT "
	    STORE_STR(AUDIT_TAIL_MAX);
	sqlite3_stmt *s = NULL;
	int r;

	if (st == NULL || cb == NULL)
		return TG_ERR_INVALID;
	if ((r = store_check_str(request_id, AUDIT_MAX_NAME, 0)) != 0)
		return r;
	if ((r = store_prepare(st, SLOT_AUDIT_REQUEST, sql, &s)) != 0)
		return r;
	if ((r = store_bind_text(st, s, 1, request_id)) != 0) {
		store_done(st, SLOT_AUDIT_REQUEST, s);
		return r;
	}
	return each_entry(st, SLOT_AUDIT_REQUEST, s, cb, arg);
}

int
audit_request_page(struct store *st, const char *request_id, int64_t after,
    int n, audit_cb *cb, void *arg)
{
	/* the index audit_request: request_id, then seq (the rowid) */
	static const char sql[] = "SELECT " AUDIT_COLS " FROM audit "
	    "WHERE request_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
	struct audit_entry e;
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || cb == NULL || after < 0 || n < 1 ||
	    n > AUDIT_TAIL_MAX)
		return TG_ERR_INVALID;
	if ((r = store_check_str(request_id, AUDIT_MAX_NAME, 0)) != 0)
		return r;
	/* asked for by people, now and then: prepared when used */
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) != 0 ||
	    (r = store_bind_int(st, s, 2, after)) != 0 ||
	    (r = store_bind_int(st, s, 3, n)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_entry(s, &e);
		if ((r = cb(&e, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

/* Alarms by name; other "alarm." events are LOG_CRIT (audit.h). */
static const struct {
	const char	*event;
	int		 priority;
} journal_priorities[] = {
	{ "alarm.cloned_key",		LOG_CRIT },
	{ "alarm.quorum_unreachable",	LOG_ERR },
};

int
audit_journal_priority(const char *event)
{
	size_t i;

	if (event == NULL || strncmp(event, "alarm.", 6) != 0)
		return LOG_NOTICE;
	for (i = 0; i < sizeof(journal_priorities) /
	    sizeof(journal_priorities[0]); i++)
		if (strcmp(event, journal_priorities[i].event) == 0)
			return journal_priorities[i].priority;
	return LOG_CRIT;
}

/*
 * Structured fields, so the SIEM can rebuild and re-verify the chain from
 * the journal alone (an empty TAPGATE_REQUEST_ID is an absent one: the
 * store refuses empty ids).  A journal that is down must not stop the
 * appliance: the database holds the entry; errors are ignored.
 */
static void
journal_send(const struct audit_entry *e)
{
	(void)sd_journal_send(
	    "MESSAGE=audit %" PRId64 " %s request=%s actor=%s/%s uid=%" PRId64,
	    e->seq, e->event, e->request_id != NULL ? e->request_id : "-",
	    e->actor_role, e->actor_name, e->actor_uid,
	    "MESSAGE_ID=" AUDIT_MESSAGE_ID,
	    "PRIORITY=%d", audit_journal_priority(e->event),
	    "TAPGATE_AUDIT_SEQ=%" PRId64, e->seq,
	    "TAPGATE_AUDIT_TIME=%" PRId64, e->time,
	    "TAPGATE_ACTOR_UID=%" PRId64, e->actor_uid,
	    "TAPGATE_ACTOR_ROLE=%s", e->actor_role,
	    "TAPGATE_ACTOR_NAME=%s", e->actor_name,
	    "TAPGATE_EVENT=%s", e->event,
	    "TAPGATE_REQUEST_ID=%s", e->request_id != NULL ? e->request_id : "",
	    "TAPGATE_DETAILS=%s", e->details,
	    "TAPGATE_PREV_HASH=%s", e->prev_hash,
	    "TAPGATE_HASH=%s", e->hash,
	    NULL);
}

void
audit_pending_flush(struct store *st, int send)
{
	struct audit_pending *p, *next;

	/* Detached first: a sink may open the next transaction. */
	p = st->pending;
	st->pending = NULL;
	st->pending_tail = &st->pending;
	for (; p != NULL; p = next) {
		next = p->next;
		if (send && st->journal)
			journal_send(&p->e);
		if (send && st->sink != NULL)
			st->sink(&p->e, st->sink_arg);
		free(p);
	}
}

int
audit_journal_default(void)
{
	struct stat sb;

	/* No journald (a container, a test): nothing to send to. */
	return stat(AUDIT_JOURNAL_SOCKET, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

int
audit_set_journal(struct store *st, int on)
{
	if (st == NULL)
		return TG_ERR_INVALID;
	st->journal = on != 0;
	return 0;
}

int
audit_set_sink(struct store *st, audit_sink *sink, void *arg)
{
	if (st == NULL)
		return TG_ERR_INVALID;
	st->sink = sink;
	st->sink_arg = arg;
	return 0;
}

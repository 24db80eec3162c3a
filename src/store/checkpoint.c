/* SPDX-License-Identifier: ISC */
/*
 * Signed audit checkpoints (checkpoint.h has the signed encoding): the
 * signer's side, which re-checks the chain before it vouches for a head,
 * and the verifier's, which holds the chain to every checkpoint.
 * Checkpoints are rare (a minute apart at most), so their statements are
 * prepared when used rather than cached.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "store/checkpoint.h"
#include "store/store_int.h"

#define CHECKPOINT_COLS	"id, seq, hash, time, kid, signature, created"
#define CHECKPOINT_SCHEMA 3	/* the schema version that made the table */

static const char *const break_names[] = {
	"intact", "chain", "truncated", "mismatch", "bad_signature",
	"unknown_key", "bad_checkpoint", "stale", "anchor"
};

const char *
checkpoint_break_name(enum checkpoint_break why)
{
	if ((unsigned)why >= sizeof(break_names) / sizeof(break_names[0]))
		return "unknown";
	return break_names[why];
}

static void
put_be64(uint8_t *p, int64_t v)
{
	uint64_t u = (uint64_t)v;	/* two's complement, by C11 7.20.1.1 */
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(u & 0xff);
		u >>= 8;
	}
}

int
checkpoint_message(const struct checkpoint *cp,
    uint8_t out[CHECKPOINT_MSG_LEN])
{
	uint8_t *p = out;

	if (cp == NULL || out == NULL || cp->seq < 1 ||
	    !store_is_hex(cp->hash, AUDIT_HASH_HEX))
		return TG_ERR_INVALID;
	memcpy(p, CHECKPOINT_DOMAIN, sizeof(CHECKPOINT_DOMAIN));
	p += sizeof(CHECKPOINT_DOMAIN);
	put_be64(p, cp->seq);
	p += 8;
	if (hex_decode(cp->hash, AUDIT_HASH_HEX, p, 32) != 0)
		return TG_ERR_INVALID;
	p += 32;
	put_be64(p, cp->time);
	return 0;
}

static int
prep(struct store *st, const char *sql, sqlite3_stmt **sp)
{
	int rc;

	*sp = NULL;
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, sp, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	return *sp != NULL ? 0 : TG_ERR_INTERNAL;
}

/* Run a fixed statement without rows (BEGIN, COMMIT). */
static int
exec_fixed(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = prep(st, sql, &s)) != 0)
		return r;
	rc = sqlite3_step(s);
	r = rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return r;
}

/* The current row as a checkpoint; 0, or 1 when it is malformed. */
static int
row_checkpoint(sqlite3_stmt *s, struct checkpoint *cp)
{
	static const int ints[] = { 0, 1, 3, 6 };
	const char *hash, *kid;
	const void *sig;
	size_t i;

	memset(cp, 0, sizeof(*cp));
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (sqlite3_column_type(s, ints[i]) != SQLITE_INTEGER)
			return 1;
	cp->id = sqlite3_column_int64(s, 0);
	cp->seq = sqlite3_column_int64(s, 1);
	cp->time = sqlite3_column_int64(s, 3);
	cp->created = sqlite3_column_int64(s, 6);
	hash = (const char *)sqlite3_column_text(s, 2);
	kid = (const char *)sqlite3_column_text(s, 4);
	if (cp->seq < 1 || sqlite3_column_type(s, 2) != SQLITE_TEXT ||
	    !store_is_hex(hash, AUDIT_HASH_HEX) ||
	    sqlite3_column_type(s, 4) != SQLITE_TEXT || !jwk_kid_ok(kid) ||
	    sqlite3_column_type(s, 5) != SQLITE_BLOB ||
	    sqlite3_column_bytes(s, 5) != JWK_SIG_LEN ||
	    (sig = sqlite3_column_blob(s, 5)) == NULL)
		return 1;
	memcpy(cp->hash, hash, sizeof(cp->hash));
	memcpy(cp->kid, kid, sizeof(cp->kid));
	memcpy(cp->sig, sig, sizeof(cp->sig));
	return 0;
}

int
checkpoint_latest(struct store *st, struct checkpoint *out)
{
	struct checkpoint cp;
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || out == NULL)
		return TG_ERR_INVALID;
	if ((r = prep(st, "SELECT " CHECKPOINT_COLS " FROM checkpoints "
	    "ORDER BY seq DESC, id DESC LIMIT 1", &s)) != 0)
		return r;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		r = row_checkpoint(s, &cp) ? TG_ERR_CORRUPT : 0;
	else if (rc == SQLITE_DONE)
		r = TG_ERR_NOT_FOUND;
	else
		r = store_sqlerr(st, rc);
	sqlite3_finalize(s);
	if (r == 0)
		*out = cp;
	return r;
}

/* 0 when cp's signature holds under the key of keys its kid names. */
static int
check_signature(const struct jwks *keys, const struct checkpoint *cp)
{
	uint8_t msg[CHECKPOINT_MSG_LEN];
	const struct jwk *key;
	int r;

	if ((r = jwks_find(keys, cp->kid, &key)) != 0)
		return TG_ERR_UNKNOWN_KID;
	if ((r = checkpoint_message(cp, msg)) != 0)
		return TG_ERR_BAD_SIGNATURE;
	/* Whatever else goes wrong, this signature does not hold. */
	if (jwk_verify(key, msg, sizeof(msg), cp->sig, sizeof(cp->sig)) != 0)
		return TG_ERR_BAD_SIGNATURE;
	return 0;
}

int
checkpoint_check_signature(const struct checkpoint *cp,
    const struct jwks *keys)
{
	if (cp == NULL || keys == NULL)
		return TG_ERR_INVALID;
	return check_signature(keys, cp);
}

static void refuse(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
refuse(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
}

int
checkpoint_prepare(struct store *st, const struct jwks *keys, int64_t now,
    struct checkpoint *out)
{
	struct checkpoint last, cp;
	struct audit_report rep;
	const struct jwk *key;
	char hash[AUDIT_HASH_HEX + 1];
	int64_t head;
	int r, have, ours;

	if (st == NULL || out == NULL)
		return TG_ERR_INVALID;
	/* Reading the head and recording its checkpoint: one step. */
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = audit_head(st, &head, hash)) != 0)
		return r;
	if (head == 0)
		return TG_ERR_NOT_FOUND;
	r = checkpoint_latest(st, &last);
	if (r != 0 && r != TG_ERR_NOT_FOUND)
		return r;
	have = r == 0;
	if (have && last.seq == head &&
	    CRYPTO_memcmp(last.hash, hash, AUDIT_HASH_HEX) == 0)
		return TG_ERR_EXISTS;
	ours = have && keys != NULL && jwks_find(keys, last.kid, &key) == 0;
	if (ours && check_signature(keys, &last) != 0) {
		refuse(st, "the checkpoint of entry %lld does not verify "
		    "(forged or altered)", (long long)last.seq);
		return TG_ERR_BAD_SIGNATURE;
	}
	/*
	 * A checkpoint we cannot check (no key, or another key's: a
	 * restored database) vouches for nothing: walk the whole chain,
	 * and still require it to hold that checkpoint's entry.
	 */
	if (!ours) {
		if ((r = audit_verify(st, &rep)) != 0)
			return r;
		if (!rep.ok) {
			refuse(st, "the audit chain breaks at entry %lld: %s",
			    (long long)rep.bad_seq, rep.reason);
			return TG_ERR_CORRUPT;
		}
	}
	if (have) {
		if ((r = audit_verify_from(st, last.seq, last.hash,
		    &rep)) != 0)
			return r;
		if (!rep.ok) {
			refuse(st, "the audit chain does not extend the "
			    "checkpoint of entry %lld: %s",
			    (long long)last.seq, rep.reason);
			return TG_ERR_CORRUPT;
		}
	}
	/* Inside our transaction nobody appends: the walk ends at head. */
	if (rep.head_seq != head ||
	    CRYPTO_memcmp(rep.head_hash, hash, AUDIT_HASH_HEX) != 0) {
		refuse(st, "the audit head moved during the walk");
		return TG_ERR_INTERNAL;
	}
	memset(&cp, 0, sizeof(cp));
	cp.seq = head;
	memcpy(cp.hash, hash, sizeof(cp.hash));
	cp.time = now != 0 ? now : store_now();
	*out = cp;
	return 0;
}

int
checkpoint_sign(struct checkpoint *cp, const struct jwk *key)
{
	uint8_t msg[CHECKPOINT_MSG_LEN], sig[JWK_SIG_LEN];
	int r;

	if (cp == NULL || key == NULL)
		return TG_ERR_INVALID;
	if ((r = checkpoint_message(cp, msg)) != 0 ||
	    (r = jwk_sign(key, msg, sizeof(msg), sig)) != 0)
		return r;
	memcpy(cp->sig, sig, sizeof(sig));
	snprintf(cp->kid, sizeof(cp->kid), "%s", jwk_kid(key));
	return 0;
}

int
checkpoint_insert(struct store *st, const struct checkpoint *cp)
{
	static const char sql[] = "INSERT INTO checkpoints (seq, hash, time, "
	    "kid, signature, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || cp == NULL || cp->seq < 1 ||
	    !store_is_hex(cp->hash, AUDIT_HASH_HEX) || !jwk_kid_ok(cp->kid))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = prep(st, sql, &s)) != 0)
		return r;
	if ((r = store_bind_int(st, s, 1, cp->seq)) != 0 ||
	    (r = store_bind_text(st, s, 2, cp->hash)) != 0 ||
	    (r = store_bind_int(st, s, 3, cp->time)) != 0 ||
	    (r = store_bind_text(st, s, 4, cp->kid)) != 0 ||
	    (r = store_bind_int(st, s, 6, store_now())) != 0)
		goto out;
	if ((rc = sqlite3_bind_blob(s, 5, cp->sig, sizeof(cp->sig),
	    SQLITE_STATIC)) != SQLITE_OK) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

static void report_break(struct checkpoint_report *, int64_t,
    enum checkpoint_break, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
report_break(struct checkpoint_report *rep, int64_t seq,
    enum checkpoint_break why, const char *fmt, ...)
{
	va_list ap;

	rep->ok = 0;
	rep->why = why;
	rep->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
}

/* The hash the chain holds at seq into hash; TG_ERR_NOT_FOUND if none. */
static int
chain_hash_at(struct store *st, sqlite3_stmt *s, int64_t seq,
    char hash[AUDIT_HASH_HEX + 1])
{
	const char *h;
	int rc, r;

	sqlite3_reset(s);
	if ((r = store_bind_int(st, s, 1, seq)) != 0)
		return r;
	if ((rc = sqlite3_step(s)) == SQLITE_DONE)
		return TG_ERR_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return store_sqlerr(st, rc);
	h = (const char *)sqlite3_column_text(s, 0);
	if (!store_is_hex(h, AUDIT_HASH_HEX))
		return TG_ERR_CORRUPT;	/* audit_verify() passed it: no */
	memcpy(hash, h, AUDIT_HASH_HEX + 1);
	return 0;
}

/* The integer a fixed query answers. */
static int
query_int(struct store *st, const char *sql, int64_t *vp)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = prep(st, sql, &s)) != 0)
		return r;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*vp = sqlite3_column_int64(s, 0);
		r = 0;
	} else
		r = rc == SQLITE_DONE ? TG_ERR_INTERNAL : store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return r;
}

/*
 * The entries after the newest checkpoint (all of them without one) in a
 * chain that holds: how many, and the first one's seq and time.
 */
static int
uncovered_tail(struct store *st, struct checkpoint_report *rep)
{
	sqlite3_stmt *s = NULL;
	int64_t first;
	int rc, r;

	first = (rep->have_latest ? rep->latest.seq : 0) + 1;
	if (first > rep->chain.head_seq)
		return 0;
	if ((r = prep(st, "SELECT time FROM audit WHERE seq = ?1", &s)) != 0)
		return r;
	if ((r = store_bind_int(st, s, 1, first)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		/* the verified chain holds every seq up to its head */
		r = rc == SQLITE_DONE ? TG_ERR_INTERNAL : store_sqlerr(st, rc);
		goto out;
	}
	rep->uncovered = rep->chain.head_seq - first + 1;
	rep->uncovered_seq = first;
	rep->uncovered_since = sqlite3_column_int64(s, 0);
out:
	sqlite3_finalize(s);
	return r;
}

void
checkpoint_check_stale(struct checkpoint_report *rep, int64_t now,
    int64_t interval)
{
	int64_t age;

	if (rep == NULL || !rep->ok || rep->uncovered == 0 || interval < 0 ||
	    now < rep->uncovered_since)
		return;
	age = now - rep->uncovered_since;
	if (age <= interval + CHECKPOINT_STALE_SLACK)
		return;
	report_break(rep, rep->uncovered_seq, CHECKPOINT_STALE, "stale tail: "
	    "entries %lld to %lld are signed by no checkpoint after %lld s "
	    "(the signer's period is %lld s, plus %d s): checkpoints deleted, "
	    "or the daemon stopped without signing and has not started since",
	    (long long)rep->uncovered_seq, (long long)rep->chain.head_seq,
	    (long long)age, (long long)interval, CHECKPOINT_STALE_SLACK);
}

/* Each checkpoint against the keys and the (verified) chain. */
static int
walk_checkpoints(struct store *st, const struct jwks *keys,
    struct checkpoint_report *rep)
{
	struct checkpoint cp;
	sqlite3_stmt *s = NULL, *at = NULL;
	char hash[AUDIT_HASH_HEX + 1];
	int64_t version, table;
	int rc, r;

	/* A copy from before checkpoints (schema 1 and 2) has none. */
	if ((r = query_int(st, "PRAGMA user_version", &version)) != 0 ||
	    (r = query_int(st, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name = 'checkpoints'", &table)) != 0)
		return r;
	if (table == 0) {
		if (version >= CHECKPOINT_SCHEMA)
			report_break(rep, 0, CHECKPOINT_MALFORMED, "the "
			    "checkpoints table is missing (dropped)");
		return 0;
	}
	if ((r = prep(st, "SELECT " CHECKPOINT_COLS " FROM checkpoints "
	    "ORDER BY seq, id", &s)) != 0 ||
	    (r = prep(st, "SELECT hash FROM audit WHERE seq = ?1", &at)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rep->count++;
		if (row_checkpoint(s, &cp)) {
			report_break(rep, sqlite3_column_int64(s, 1),
			    CHECKPOINT_MALFORMED, "checkpoint %lld is "
			    "malformed (a field of the wrong type or shape)",
			    (long long)sqlite3_column_int64(s, 1));
			break;
		}
		if (keys != NULL && (r = check_signature(keys, &cp)) != 0) {
			if (r == TG_ERR_UNKNOWN_KID)
				report_break(rep, cp.seq,
				    CHECKPOINT_UNKNOWN_KEY, "checkpoint %lld "
				    "is signed by key %s, which is not in the "
				    "key set", (long long)cp.seq, cp.kid);
			else
				report_break(rep, cp.seq,
				    CHECKPOINT_BAD_SIGNATURE, "checkpoint "
				    "%lld has a bad signature (forged or "
				    "altered)", (long long)cp.seq);
			r = 0;
			break;
		}
		if (cp.seq <= rep->chain.head_seq) {
			if ((r = chain_hash_at(st, at, cp.seq, hash)) != 0)
				goto out;
			if (CRYPTO_memcmp(hash, cp.hash,
			    AUDIT_HASH_HEX) != 0) {
				report_break(rep, cp.seq, CHECKPOINT_MISMATCH,
				    "entry %lld is not the entry checkpoint "
				    "%lld signed (rewritten after it)",
				    (long long)cp.seq, (long long)cp.seq);
				break;
			}
		}
		rep->latest = cp;
		rep->have_latest = 1;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	if (rep->ok && rep->have_latest &&
	    rep->latest.seq > rep->chain.head_seq)
		report_break(rep, rep->latest.seq, CHECKPOINT_TRUNCATED,
		    "truncated after checkpoint %lld: it signed entry %lld, "
		    "but the log ends at entry %lld",
		    (long long)rep->latest.seq, (long long)rep->latest.seq,
		    (long long)rep->chain.head_seq);
	r = rep->ok ? uncovered_tail(st, rep) : 0;
out:
	sqlite3_finalize(at);
	sqlite3_finalize(s);
	return r;
}

int
checkpoint_verify(struct store *st, const struct jwks *keys,
    struct checkpoint_report *report)
{
	struct checkpoint_report rep;
	int r, own = 0;

	if (st == NULL || report == NULL)
		return TG_ERR_INVALID;
	memset(&rep, 0, sizeof(rep));
	rep.ok = 1;
	rep.signatures = keys != NULL;
	/*
	 * One read snapshot for the chain and the checkpoints: a checkpoint
	 * written meanwhile must not look like one past the end.
	 */
	if (!store_in_txn(st)) {
		if ((r = exec_fixed(st, "BEGIN")) != 0)
			return r;
		own = 1;
	}
	if ((r = audit_verify(st, &rep.chain)) != 0)
		goto out;
	if (!rep.chain.ok) {
		rep.ok = 0;
		rep.why = CHECKPOINT_CHAIN;
		rep.bad_seq = rep.chain.bad_seq;
		snprintf(rep.reason, sizeof(rep.reason), "%s",
		    rep.chain.reason);
	} else if ((r = walk_checkpoints(st, keys, &rep)) != 0)
		goto out;
	*report = rep;
out:
	if (own && exec_fixed(st, "COMMIT") != 0)
		(void)exec_fixed(st, "ROLLBACK");
	return r;
}

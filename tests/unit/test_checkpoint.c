/* SPDX-License-Identifier: ISC */
/*
 * Signed audit checkpoints and backups of the store, on real sqlite files:
 * the documented signed encoding, the signer's re-check of the chain, and
 * checkpoint_verify() against what a person with the database file and
 * the sqlite3 tool could do (cut the tail with the triggers dropped,
 * rewrite and re-hash the chain, forge a checkpoint); then an online
 * backup, its digest, its checks and the in-use probe restore relies on.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "order/jwk.h"
#include "store/audit.h"
#include "store/backup.h"
#include "store/checkpoint.h"
#include "store/store.h"
#include "tap.h"

/* Computed apart from this code (Python, cryptography) for the KAT. */
#define KAT_HASH							\
	"05bdfd92042f7c5be27f99ef4ada563d185fafd892cbad1af87224b713f1fb15"
#define KAT_MSG								\
	"746170676174652d61756469742d636865636b706f696e742d7631000000"	\
	"00000000000505bdfd92042f7c5be27f99ef4ada563d185fafd892cbad1a"	\
	"f87224b713f1fb15000000006553f100"
#define KAT_SIG								\
	"1d00202a46de524cccdb7a506466d2065cb221673ea16e79fc7f596103eb"	\
	"7e4abd6bfeac6f0651cad43d93fa85c6b6678b66370291fd867ae807b3a5"	\
	"22b1ef02"

static char tmpdir[1024];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
tmp_remove(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

static const char *
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-ckpt.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return tmpdir;
}

/* Raw SQL on the state database, as with the sqlite3 tool. */
static int
raw_exec(const char *sql)
{
	char path[1100];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, STORE_DB_NAME);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* What the attacker does first: every append-only trigger gone. */
static int
drop_triggers(void)
{
	return raw_exec("DROP TRIGGER audit_no_update;"
	    "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_chain;"
	    "DROP TRIGGER checkpoints_no_update;"
	    "DROP TRIGGER checkpoints_no_delete;"
	    "DROP TRIGGER checkpoints_of_the_chain;");
}

static int
append_n(struct store *st, int n)
{
	struct audit_entry e = {
		.actor_uid = 1000,
		.actor_role = "intake",
		.actor_name = "hd-bob",
		.event = "request.submitted",
	};
	char details[64];
	int i, r;

	if ((r = store_begin(st)) != 0)
		return r;
	for (i = 1; i <= n; i++) {
		snprintf(details, sizeof(details), "{\"n\":%d}", i);
		e.details = details;
		e.time = 1700000000 + i;
		if ((r = audit_append(st, &e, NULL)) != 0) {
			store_rollback(st);
			return r;
		}
	}
	return store_commit(st);
}

/* What the daemon does: prepare, sign and record in one transaction. */
static int
checkpoint_now(struct store *st, const struct jwks *keys,
    const struct jwk *key, struct checkpoint *out)
{
	struct checkpoint cp;
	int r;

	if ((r = store_begin(st)) != 0)
		return r;
	if ((r = checkpoint_prepare(st, keys, 1800000000, &cp)) != 0 ||
	    (r = checkpoint_sign(&cp, key)) != 0 ||
	    (r = checkpoint_insert(st, &cp)) != 0 ||
	    (r = store_commit(st)) != 0) {
		store_rollback(st);
		return r;
	}
	if (out != NULL)
		*out = cp;
	return 0;
}

static int
keyset(const struct jwk *key, struct jwks **setp)
{
	int r;

	if ((r = jwks_new(setp)) != 0)
		return r;
	if ((r = jwks_add(*setp, key)) != 0)
		jwks_free(setp);
	return r;
}

/* A fresh log of n entries with one checkpoint of its head, closed. */
static int
signed_log(int n, struct jwk **keyp, struct jwks **setp)
{
	struct store *st = NULL;
	int r;

	tmp_make();
	if ((r = jwk_generate(JWK_ALG_EDDSA, keyp)) != 0)
		return r;
	if ((r = keyset(*keyp, setp)) != 0)
		return r;
	if ((r = store_open(tmpdir, &st)) != 0)
		return r;
	if ((r = append_n(st, n)) == 0)
		r = checkpoint_now(st, *setp, *keyp, NULL);
	store_close(&st);
	return r;
}

static int
verify(const struct jwks *keys, struct checkpoint_report *rep)
{
	struct store *st = NULL;
	int r;

	if ((r = store_open(tmpdir, &st)) != 0)
		return r;
	r = checkpoint_verify(st, keys, rep);
	store_close(&st);
	return r;
}

static void
checkpoint_message_and_signature_match_the_documented_encoding(void)
{
	struct checkpoint cp;
	struct jwk *key = NULL;
	uint8_t msg[CHECKPOINT_MSG_LEN], want[CHECKPOINT_MSG_LEN], seed[32];
	uint8_t sig[JWK_SIG_LEN];
	size_t i;

	CHECK_EQ(CHECKPOINT_MSG_LEN, 76);
	memset(&cp, 0, sizeof(cp));
	cp.seq = 5;
	cp.time = 1700000000;
	memcpy(cp.hash, KAT_HASH, sizeof(cp.hash));
	CHECK_EQ(checkpoint_message(&cp, msg), 0);
	CHECK_EQ(hex_decode(KAT_MSG, strlen(KAT_MSG), want, sizeof(want)), 0);
	CHECK(memcmp(msg, want, sizeof(msg)) == 0);
	/* Ed25519 is deterministic: the signature is known too. */
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	CHECK_EQ(jwk_private_import(JWK_ALG_EDDSA, seed, sizeof(seed), &key),
	    0);
	CHECK_EQ(checkpoint_sign(&cp, key), 0);
	CHECK_EQ(hex_decode(KAT_SIG, strlen(KAT_SIG), sig, sizeof(sig)), 0);
	CHECK(memcmp(cp.sig, sig, sizeof(sig)) == 0);
	CHECK(strcmp(cp.kid, jwk_kid(key)) == 0);
	jwk_free(&key);
	/* A seq of 0 or a hash that is not one is never signed. */
	cp.seq = 0;
	CHECK_EQ(checkpoint_message(&cp, msg), TG_ERR_INVALID);
	cp.seq = 5;
	cp.hash[3] = 'X';
	CHECK_EQ(checkpoint_message(&cp, msg), TG_ERR_INVALID);
}

static void
checkpoint_of_the_head_verifies_and_is_written_once(void)
{
	struct checkpoint_report rep;
	struct checkpoint cp, latest;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;
	char head[AUDIT_HASH_HEX + 1];
	int64_t seq = 0;

	tmp_make();
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &key), 0);
	CHECK_EQ(keyset(key, &keys), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	/* Nothing to sign in an empty log, and never outside a txn. */
	CHECK_EQ(checkpoint_prepare(st, keys, 0, &cp), TG_ERR_TXN);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), TG_ERR_NOT_FOUND);
	CHECK_EQ(checkpoint_latest(st, &latest), TG_ERR_NOT_FOUND);
	CHECK_EQ(append_n(st, 5), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, &cp), 0);
	CHECK_EQ(audit_head(st, &seq, head), 0);
	CHECK_EQ(cp.seq, 5);
	CHECK(strcmp(cp.hash, head) == 0);
	CHECK_EQ(cp.time, 1800000000);
	/* The head has not moved: nothing new to sign. */
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), TG_ERR_EXISTS);
	CHECK_EQ(append_n(st, 2), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), 0);
	CHECK_EQ(checkpoint_latest(st, &latest), 0);
	CHECK_EQ(latest.seq, 7);
	/* Checkpoints are no audit entries: the head is still 7. */
	CHECK_EQ(audit_head(st, &seq, head), 0);
	CHECK_EQ(seq, 7);
	CHECK_EQ(checkpoint_verify(st, keys, &rep), 0);
	CHECK(rep.ok);
	CHECK(rep.signatures);
	CHECK_EQ(rep.count, 2);
	CHECK(rep.have_latest);
	CHECK_EQ(rep.latest.seq, 7);
	CHECK_EQ(rep.chain.head_seq, 7);
	/* Without keys the signatures go unchecked, and say so. */
	CHECK_EQ(checkpoint_verify(st, NULL, &rep), 0);
	CHECK(rep.ok);
	CHECK(!rep.signatures);
	store_close(&st);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
cut_tail_after_a_checkpoint_is_reported_as_truncation(void)
{
	struct checkpoint_report rep;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;

	CHECK_EQ(signed_log(6, &key, &keys), 0);
	CHECK_EQ(raw_exec("DELETE FROM audit WHERE seq > 4"),
	    SQLITE_CONSTRAINT);
	CHECK_EQ(drop_triggers(), SQLITE_OK);
	CHECK_EQ(raw_exec("DELETE FROM audit WHERE seq > 4"), SQLITE_OK);
	CHECK_EQ(verify(keys, &rep), 0);
	/* The chain alone does not show it ... */
	CHECK(rep.chain.ok);
	CHECK_EQ(rep.chain.head_seq, 4);
	/* ... the checkpoint does, by its seq. */
	CHECK(!rep.ok);
	CHECK_EQ(rep.why, CHECKPOINT_TRUNCATED);
	CHECK_EQ(rep.bad_seq, 6);
	CHECK(strstr(rep.reason, "truncated after checkpoint 6") != NULL);
	CHECK(strcmp(checkpoint_break_name(rep.why), "truncated") == 0);
	/* Without the keys the rows still say where the log ended. */
	CHECK_EQ(verify(NULL, &rep), 0);
	CHECK_EQ(rep.why, CHECKPOINT_TRUNCATED);
	/* Everything deleted: still the same finding. */
	CHECK_EQ(raw_exec("DELETE FROM audit"), SQLITE_OK);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK_EQ(rep.why, CHECKPOINT_TRUNCATED);
	CHECK_EQ(rep.chain.head_seq, 0);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

struct entries {
	int	 n;
	int64_t	 seq[16], time[16], uid[16];
	char	*role[16], *name[16], *event[16], *details[16];
};

static int
collect(const struct audit_entry *e, void *arg)
{
	struct entries *t = arg;

	if (t->n >= 16)
		return TG_ERR_INTERNAL;
	t->seq[t->n] = e->seq;
	t->time[t->n] = e->time;
	t->uid[t->n] = e->actor_uid;
	t->role[t->n] = strdup(e->actor_role);
	t->name[t->n] = strdup(e->actor_name);
	t->event[t->n] = strdup(e->event);
	t->details[t->n] = strdup(e->details);
	t->n++;
	return 0;
}

static void
entries_free(struct entries *t)
{
	int i;

	for (i = 0; i < t->n; i++) {
		free(t->role[i]);
		free(t->name[i]);
		free(t->event[i]);
		free(t->details[i]);
	}
	t->n = 0;
}

/*
 * Rewrite entry `at` with new details and re-hash every entry after it,
 * as anyone can: the chain's hashes have no key.
 */
static int
rewrite_and_rehash(struct entries *t, int at, const char *details)
{
	struct audit_entry e;
	char prev[AUDIT_HASH_HEX + 1], hash[AUDIT_HASH_HEX + 1], sql[512];
	char path[1100];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int i, r = -1;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, STORE_DB_NAME);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		goto out;
	memset(prev, '0', AUDIT_HASH_HEX);
	prev[AUDIT_HASH_HEX] = '\0';
	for (i = 0; i < t->n; i++) {
		memset(&e, 0, sizeof(e));
		e.seq = t->seq[i];
		e.time = t->time[i];
		e.actor_uid = t->uid[i];
		e.actor_role = t->role[i];
		e.actor_name = t->name[i];
		e.event = t->event[i];
		e.details = e.seq == at ? details : t->details[i];
		e.prev_hash = prev;
		if (audit_entry_hash(&e, hash) != 0)
			goto out;
		snprintf(sql, sizeof(sql), "UPDATE audit SET details = ?1, "
		    "prev_hash = ?2, hash = ?3 WHERE seq = %lld",
		    (long long)e.seq);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(s, 1, e.details, -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(s, 2, prev, -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC) ||
		    sqlite3_step(s) != SQLITE_DONE)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
		memcpy(prev, hash, sizeof(prev));
	}
	r = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return r;
}

static void
rewritten_and_rehashed_chain_does_not_match_its_checkpoint(void)
{
	struct checkpoint_report rep;
	struct entries t;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;
	int r;

	memset(&t, 0, sizeof(t));
	CHECK_EQ(signed_log(6, &key, &keys), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	r = audit_tail(st, 16, collect, &t);
	store_close(&st);
	CHECK_EQ(r, 0);
	CHECK_EQ(drop_triggers(), SQLITE_OK);
	r = rewrite_and_rehash(&t, 2, "{\"reason\":\"nothing to see\"}");
	entries_free(&t);
	CHECK_EQ(r, 0);
	CHECK_EQ(verify(keys, &rep), 0);
	/* A consistent chain, but not the one that was signed. */
	CHECK(rep.chain.ok);
	CHECK(!rep.ok);
	CHECK_EQ(rep.why, CHECKPOINT_MISMATCH);
	CHECK_EQ(rep.bad_seq, 6);
	/* And the signer will not sign its head. */
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(append_n(st, 1), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), TG_ERR_CORRUPT);
	CHECK(strstr(store_errmsg(st), "entry 6") != NULL);
	store_close(&st);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
forged_checkpoints_are_found(void)
{
	struct checkpoint_report rep;
	struct checkpoint cp;
	struct store *st = NULL;
	struct jwk *key = NULL, *other = NULL;
	struct jwks *keys = NULL, *others = NULL;
	char sql[512];

	CHECK_EQ(signed_log(3, &key, &keys), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &other), 0);
	CHECK_EQ(keyset(other, &others), 0);

	/* Signed by a key the appliance does not publish. */
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(append_n(st, 1), 0);
	CHECK_EQ(checkpoint_now(st, others, other, &cp), 0);
	CHECK_EQ(checkpoint_verify(st, keys, &rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.why, CHECKPOINT_UNKNOWN_KEY);
	CHECK_EQ(rep.bad_seq, 4);
	store_close(&st);

	/* Our kid, but a signature of other bytes (a moved time). */
	CHECK_EQ(drop_triggers(), SQLITE_OK);
	snprintf(sql, sizeof(sql), "DELETE FROM checkpoints WHERE seq = 4;"
	    "UPDATE checkpoints SET time = time + 1");
	CHECK_EQ(raw_exec(sql), SQLITE_OK);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK(!rep.ok);
	CHECK_EQ(rep.why, CHECKPOINT_BAD_SIGNATURE);
	CHECK_EQ(rep.bad_seq, 3);
	/* Unchecked without keys: the report says so. */
	CHECK_EQ(verify(NULL, &rep), 0);
	CHECK(rep.ok);
	CHECK(!rep.signatures);
	/* The signer refuses to extend a forged checkpoint of its kid. */
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), TG_ERR_BAD_SIGNATURE);
	store_close(&st);

	/* Random bytes where the signature goes, and a malformed row. */
	snprintf(sql, sizeof(sql), "UPDATE checkpoints SET time = time - 1,"
	    " signature = randomblob(64)");
	CHECK_EQ(raw_exec(sql), SQLITE_OK);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK_EQ(rep.why, CHECKPOINT_BAD_SIGNATURE);
	CHECK_EQ(raw_exec("UPDATE checkpoints SET signature = x'00'"),
	    SQLITE_CONSTRAINT);
	CHECK_EQ(raw_exec("UPDATE checkpoints SET kid = 'short'"),
	    SQLITE_CONSTRAINT);
	CHECK_EQ(raw_exec("DROP TABLE checkpoints"), SQLITE_OK);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK_EQ(rep.why, CHECKPOINT_MALFORMED);
	jwks_free(&others);
	jwk_free(&other);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
signer_refuses_to_sign_over_a_cut_chain(void)
{
	struct checkpoint cp;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;

	CHECK_EQ(signed_log(5, &key, &keys), 0);
	CHECK_EQ(drop_triggers(), SQLITE_OK);
	CHECK_EQ(raw_exec("DELETE FROM audit WHERE seq > 3"), SQLITE_OK);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), TG_ERR_CORRUPT);
	/* Appended past the old head again: entry 5 is another entry. */
	CHECK_EQ(append_n(st, 4), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), TG_ERR_CORRUPT);
	CHECK(strstr(store_errmsg(st), "checkpoint of entry 5") != NULL);
	/* Nor when the key of the last checkpoint is unknown to it. */
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(checkpoint_prepare(st, NULL, 0, &cp), TG_ERR_CORRUPT);
	store_rollback(st);
	store_close(&st);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

/* Entry 2's hash into arg. */
static int
hash_of_2(const struct audit_entry *e, void *arg)
{
	if (e->seq == 2)
		memcpy(arg, e->hash, AUDIT_HASH_HEX + 1);
	return 0;
}

static void
schema_keeps_checkpoints_append_only_and_on_the_chain(void)
{
	struct checkpoint cp;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;

	CHECK_EQ(signed_log(3, &key, &keys), 0);
	CHECK_EQ(raw_exec("UPDATE checkpoints SET time = 0"),
	    SQLITE_CONSTRAINT);
	CHECK_EQ(raw_exec("DELETE FROM checkpoints"), SQLITE_CONSTRAINT);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(append_n(st, 2), 0);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(checkpoint_prepare(st, keys, 0, &cp), 0);
	CHECK_EQ(checkpoint_sign(&cp, key), 0);
	/* Not the hash of the entry it names ... */
	cp.hash[0] = cp.hash[0] == 'a' ? 'b' : 'a';
	CHECK_EQ(checkpoint_insert(st, &cp), TG_ERR_IMMUTABLE);
	/* ... nor older than the last checkpoint. */
	CHECK_EQ(store_rollback(st), 0);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(checkpoint_prepare(st, keys, 0, &cp), 0);
	CHECK_EQ(audit_tail(st, 5, hash_of_2, cp.hash), 0);
	cp.seq = 2;
	CHECK_EQ(checkpoint_sign(&cp, key), 0);
	CHECK_EQ(checkpoint_insert(st, &cp), TG_ERR_IMMUTABLE);
	CHECK_EQ(store_rollback(st), 0);
	store_close(&st);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
es256_checkpoints_verify_too(void)
{
	struct checkpoint_report rep;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;

	tmp_make();
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &key), 0);
	CHECK_EQ(keyset(key, &keys), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(append_n(st, 2), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), 0);
	CHECK_EQ(append_n(st, 2), 0);
	CHECK_EQ(checkpoint_now(st, keys, key, NULL), 0);
	CHECK_EQ(checkpoint_verify(st, keys, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.count, 2);
	store_close(&st);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
stale_tail_is_counted_from_the_first_unsigned_entry(void)
{
	struct checkpoint_report rep, copy;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;
	int64_t limit;

	CHECK_EQ(signed_log(4, &key, &keys), 0);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.uncovered, 0);
	/* a signed head is never stale, whatever the clock says */
	checkpoint_check_stale(&rep, 4000000000, 60);
	CHECK(rep.ok);
	/* three entries after the checkpoint, the first at 1700000001 */
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(append_n(st, 3), 0);
	store_close(&st);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.uncovered, 3);
	CHECK_EQ(rep.uncovered_seq, 5);
	CHECK_EQ(rep.uncovered_since, 1700000001);
	limit = 1700000001 + 60 + CHECKPOINT_STALE_SLACK;
	copy = rep;
	checkpoint_check_stale(&copy, limit, 60);
	CHECK(copy.ok);
	copy = rep;
	checkpoint_check_stale(&copy, limit + 1, 60);
	CHECK(!copy.ok);
	CHECK_EQ(copy.why, CHECKPOINT_STALE);
	CHECK_EQ(copy.bad_seq, 5);
	CHECK(strstr(copy.reason, "entries 5 to 7") != NULL);
	CHECK(strcmp(checkpoint_break_name(copy.why), "stale") == 0);
	/* a longer period, or a clock set back, is not stale */
	copy = rep;
	checkpoint_check_stale(&copy, limit + 1, 61);
	CHECK(copy.ok);
	copy = rep;
	checkpoint_check_stale(&copy, 1600000000, 60);
	CHECK(copy.ok);
	/* every checkpoint deleted: stale from the first entry on */
	CHECK_EQ(drop_triggers(), SQLITE_OK);
	CHECK_EQ(raw_exec("DELETE FROM checkpoints"), SQLITE_OK);
	CHECK_EQ(verify(keys, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.uncovered, 7);
	checkpoint_check_stale(&rep, limit + 1, 60);
	CHECK_EQ(rep.why, CHECKPOINT_STALE);
	CHECK_EQ(rep.bad_seq, 1);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
anchors_hold_only_while_the_chain_keeps_their_entry(void)
{
	struct audit_anchor a;
	struct store *st = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;

	CHECK_EQ(signed_log(6, &key, &keys), 0);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	memset(&a, 0, sizeof(a));
	a.seq = 4;
	CHECK_EQ(audit_hash_at(st, 4, a.hash), 0);
	CHECK_EQ(audit_hold_anchor(st, &a), 0);
	CHECK(a.held);
	/* the empty chain's anchor: held by every chain */
	a.seq = 0;
	CHECK_EQ(audit_hold_anchor(st, &a), 0);
	CHECK(a.held);
	a.seq = 9;
	CHECK_EQ(audit_hold_anchor(st, &a), 0);
	CHECK(!a.held);
	CHECK(strstr(a.reason, "no entry 9: it ends at entry 6") != NULL);
	a.seq = 4;
	a.hash[0] = 'X';
	CHECK_EQ(audit_hold_anchor(st, &a), TG_ERR_INVALID);
	CHECK_EQ(audit_hash_at(st, 4, a.hash), 0);
	CHECK_EQ(audit_hash_at(st, 7, a.hash), TG_ERR_NOT_FOUND);
	CHECK_EQ(audit_hash_at(st, 0, a.hash), TG_ERR_NOT_FOUND);
	store_close(&st);
	/* rewritten: entry 4 holds another hash */
	CHECK_EQ(drop_triggers(), SQLITE_OK);
	CHECK_EQ(raw_exec("UPDATE audit SET hash = '"
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000001' WHERE seq = 4"), SQLITE_OK);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(audit_hold_anchor(st, &a), 0);
	CHECK(!a.held);
	CHECK(strstr(a.reason, "entry 4 has hash 0000000000000000...") != NULL);
	CHECK(strstr(a.reason, "(rewritten)") != NULL);
	/* cut: entry 4 gone */
	store_close(&st);
	CHECK_EQ(raw_exec("DELETE FROM audit WHERE seq >= 4"), SQLITE_OK);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(audit_hold_anchor(st, &a), 0);
	CHECK(!a.held);
	CHECK(strstr(a.reason, "no entry 4: it ends at entry 3") != NULL);
	store_close(&st);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

static void
backup_copy_checks_out_and_never_overwrites(void)
{
	struct checkpoint_report rep;
	struct store *st = NULL, *copy = NULL;
	struct jwk *key = NULL;
	struct jwks *keys = NULL;
	struct stat sb;
	char path[1100], db[1100], sha[STORE_DIGEST_LEN + 1];
	char again[STORE_DIGEST_LEN + 1], err[256];
	int64_t size = 0, size2 = 0;
	int ok = 0, v = 0, fd;

	CHECK_EQ(signed_log(4, &key, &keys), 0);
	snprintf(path, sizeof(path), "%s/backup.db", tmpdir);
	snprintf(db, sizeof(db), "%s/%s", tmpdir, STORE_DB_NAME);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(store_backup(st, "relative.db", sha, &size),
	    TG_ERR_INVALID);
	CHECK_EQ(store_backup(st, path, sha, &size), 0);
	/* A daemon holding the database is seen; the copy is its own. */
	CHECK_EQ(store_file_in_use(db), TG_ERR_BUSY);
	CHECK_EQ(store_file_in_use(path), 0);
	CHECK_EQ(store_backup(st, path, again, &size2), TG_ERR_EXISTS);
	store_close(&st);
	CHECK_EQ(store_file_in_use(db), 0);
	CHECK_EQ(lstat(path, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);
	CHECK_EQ(sb.st_size, size);
	CHECK_EQ(store_file_sha256(path, again, &size2), 0);
	CHECK(strcmp(sha, again) == 0);
	CHECK_EQ(store_backup_read_digest(path, again), 0);
	CHECK(strcmp(sha, again) == 0);
	CHECK_EQ(store_open_copy(path, &copy, err, sizeof(err)), 0);
	CHECK_EQ(store_integrity(copy, &ok, err, sizeof(err)), 0);
	CHECK(ok);
	CHECK_EQ(store_schema_version(copy, &v), 0);
	CHECK_EQ(v, store_schema_latest());
	CHECK_EQ(checkpoint_verify(copy, keys, &rep), 0);
	CHECK(rep.ok);
	CHECK_EQ(rep.chain.head_seq, 4);
	CHECK_EQ(rep.latest.seq, 4);
	store_close(&copy);

	/* One flipped byte: the digest no longer matches. */
	CHECK((fd = open(path, O_RDWR)) != -1);
	CHECK(pwrite(fd, "\xff", 1, size / 2) == 1);
	close(fd);
	CHECK_EQ(store_file_sha256(path, again, &size2), 0);
	CHECK(strcmp(sha, again) != 0);
	/* The first page's header gone: not a database any more. */
	CHECK((fd = open(path, O_RDWR)) != -1);
	CHECK(pwrite(fd, "garbage garbage!", 16, 0) == 16);
	close(fd);
	CHECK(store_open_copy(path, &copy, err, sizeof(err)) != 0 ||
	    store_integrity(copy, &ok, err, sizeof(err)) != 0 || !ok);
	store_close(&copy);
	/* Not tapgate's at all. */
	CHECK_EQ(raw_exec("PRAGMA application_id = 42"), SQLITE_OK);
	CHECK_EQ(store_open_copy(db, &copy, err, sizeof(err)),
	    TG_ERR_SCHEMA);
	CHECK(strstr(err, "not a tapgate database") != NULL);
	jwks_free(&keys);
	jwk_free(&key);
	tmp_remove();
}

int
main(void)
{
	RUN(checkpoint_message_and_signature_match_the_documented_encoding);
	RUN(checkpoint_of_the_head_verifies_and_is_written_once);
	RUN(cut_tail_after_a_checkpoint_is_reported_as_truncation);
	RUN(rewritten_and_rehashed_chain_does_not_match_its_checkpoint);
	RUN(forged_checkpoints_are_found);
	RUN(signer_refuses_to_sign_over_a_cut_chain);
	RUN(schema_keeps_checkpoints_append_only_and_on_the_chain);
	RUN(es256_checkpoints_verify_too);
	RUN(stale_tail_is_counted_from_the_first_unsigned_entry);
	RUN(anchors_hold_only_while_the_chain_keeps_their_entry);
	RUN(backup_copy_checks_out_and_never_overwrites);
	tmp_remove();
	TAP_EXIT();
}

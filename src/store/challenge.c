/* SPDX-License-Identifier: ISC */
/*
 * Challenges and saved recovery codes (challenge.h), in the tables
 * challenges and recovery_codes (schema version 9).
 */
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "store/challenge.h"
#include "store/store_int.h"

static int
word_ok(const char *s)
{
	return store_check_str(s, STORE_CHALLENGE_WORD, 0) == 0;
}

static int
bind_blob(struct store *st, sqlite3_stmt *s, int i, const void *p,
    size_t n)
{
	int rc;

	if ((rc = sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC)) !=
	    SQLITE_OK)
		return store_sqlerr(st, rc);
	return 0;
}

/* Copy column i (text) into out (cap bytes): TG_ERR_CORRUPT if it does
 * not fit. */
static int
col_copy(sqlite3_stmt *s, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	int n;

	if (t == NULL)
		return TG_ERR_CORRUPT;
	n = snprintf(out, cap, "%s", (const char *)t);
	return n < 0 || (size_t)n >= cap ? TG_ERR_CORRUPT : 0;
}

static int
col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t n)
{
	const void *b = sqlite3_column_blob(s, i);

	if (b == NULL || (size_t)sqlite3_column_bytes(s, i) != n)
		return TG_ERR_CORRUPT;
	memcpy(out, b, n);
	return 0;
}

int
store_challenge_add(struct store *st, const struct store_challenge *c)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || c == NULL ||
	    !store_is_hex(c->id, STORE_CHALLENGE_ID_LEN) ||
	    !store_request_id_valid(c->request_id) || !word_ok(c->kind) ||
	    !word_ok(c->channel) ||
	    store_check_str(c->destination, STORE_CHALLENGE_DEST, 0) != 0 ||
	    c->max_attempts < 1 || c->expires <= c->created)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO challenges (id, "
	    "request_id, kind, channel, destination, salt, code_hash, "
	    "attempts, max_attempts, state, created, expires) VALUES (?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, 'open', ?9, ?10)", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, c->id)) != 0 ||
	    (r = store_bind_text(st, s, 2, c->request_id)) != 0 ||
	    (r = store_bind_text(st, s, 3, c->kind)) != 0 ||
	    (r = store_bind_text(st, s, 4, c->channel)) != 0 ||
	    (r = store_bind_text(st, s, 5, c->destination)) != 0 ||
	    (r = bind_blob(st, s, 6, c->salt, sizeof(c->salt))) != 0 ||
	    (r = bind_blob(st, s, 7, c->code_hash,
	    sizeof(c->code_hash))) != 0 ||
	    (r = store_bind_int(st, s, 8, c->max_attempts)) != 0 ||
	    (r = store_bind_int(st, s, 9, c->created)) != 0 ||
	    (r = store_bind_int(st, s, 10, c->expires)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = TG_ERR_EXISTS;
	else if (rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_challenge_get(struct store *st, const char *id,
    struct store_challenge *c)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || c == NULL || id == NULL ||
	    !store_is_hex(id, STORE_CHALLENGE_ID_LEN))
		return TG_ERR_INVALID;
	memset(c, 0, sizeof(*c));
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT id, request_id, kind, "
	    "channel, destination, salt, code_hash, attempts, max_attempts, "
	    "state, created, expires FROM challenges WHERE id = ?1", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, id)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_DONE) {
		r = TG_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	if ((r = col_copy(s, 0, c->id, sizeof(c->id))) != 0 ||
	    (r = col_copy(s, 1, c->request_id, sizeof(c->request_id))) != 0 ||
	    (r = col_copy(s, 2, c->kind, sizeof(c->kind))) != 0 ||
	    (r = col_copy(s, 3, c->channel, sizeof(c->channel))) != 0 ||
	    (r = col_copy(s, 4, c->destination,
	    sizeof(c->destination))) != 0 ||
	    (r = col_blob(s, 5, c->salt, sizeof(c->salt))) != 0 ||
	    (r = col_blob(s, 6, c->code_hash, sizeof(c->code_hash))) != 0 ||
	    (r = col_copy(s, 9, c->state, sizeof(c->state))) != 0)
		goto out;
	c->attempts = sqlite3_column_int64(s, 7);
	c->max_attempts = sqlite3_column_int64(s, 8);
	c->created = sqlite3_column_int64(s, 10);
	c->expires = sqlite3_column_int64(s, 11);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_challenge_set(struct store *st, const char *id, int64_t attempts,
    const char *state)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || id == NULL ||
	    !store_is_hex(id, STORE_CHALLENGE_ID_LEN) || !word_ok(state) ||
	    attempts < 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "UPDATE challenges SET attempts "
	    "= ?2, state = ?3 WHERE id = ?1 AND state = 'open'", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, id)) != 0 ||
	    (r = store_bind_int(st, s, 2, attempts)) != 0 ||
	    (r = store_bind_text(st, s, 3, state)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		r = store_sqlerr(st, rc);
	else if (sqlite3_changes(st->db) != 1)
		r = TG_ERR_CONFLICT;
out:
	sqlite3_finalize(s);
	return r;
}

/* ---- saved recovery codes */

int
store_recovery_add(struct store *st, const char *account,
    const char *set_id, const uint8_t salt[STORE_RECOVERY_SALT],
    const uint8_t hash[STORE_RECOVERY_HASH], int64_t now)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || salt == NULL || hash == NULL ||
	    store_check_str(account, STORE_MAX_NAME, 0) != 0 ||
	    store_check_str(set_id, STORE_MAX_NAME, 0) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO recovery_codes "
	    "(account, set_id, salt, hash, created) VALUES (?1, ?2, ?3, ?4, "
	    "?5)", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, account)) != 0 ||
	    (r = store_bind_text(st, s, 2, set_id)) != 0 ||
	    (r = bind_blob(st, s, 3, salt, STORE_RECOVERY_SALT)) != 0 ||
	    (r = bind_blob(st, s, 4, hash, STORE_RECOVERY_HASH)) != 0 ||
	    (r = store_bind_int(st, s, 5, now)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_recovery_revoke(struct store *st, const char *account, int64_t now,
    int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || store_check_str(account, STORE_MAX_NAME, 0) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "UPDATE recovery_codes SET "
	    "revoked = ?2 WHERE account = ?1 AND revoked IS NULL AND used IS "
	    "NULL", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, account)) != 0 ||
	    (r = store_bind_int(st, s, 2, now)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		r = store_sqlerr(st, rc);
	else if (n != NULL)
		*n = sqlite3_changes(st->db);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_recovery_list(struct store *st, const char *account,
    store_recovery_cb *cb, void *arg)
{
	struct store_recovery_code rc_;
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || cb == NULL ||
	    store_check_str(account, STORE_MAX_NAME, 0) != 0)
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT id, salt, hash FROM "
	    "recovery_codes WHERE account = ?1 AND revoked IS NULL AND used "
	    "IS NULL ORDER BY id LIMIT 64", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, account)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rc_.id = sqlite3_column_int64(s, 0);
		if ((r = col_blob(s, 1, rc_.salt, sizeof(rc_.salt))) != 0 ||
		    (r = col_blob(s, 2, rc_.hash, sizeof(rc_.hash))) != 0 ||
		    (r = cb(&rc_, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_recovery_use(struct store *st, int64_t id, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || id < 1)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "UPDATE recovery_codes SET used "
	    "= ?2 WHERE id = ?1 AND used IS NULL AND revoked IS NULL", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_int(st, s, 1, id)) != 0 ||
	    (r = store_bind_int(st, s, 2, now)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		r = store_sqlerr(st, rc);
	else if (sqlite3_changes(st->db) != 1)
		r = TG_ERR_CONFLICT;
out:
	sqlite3_finalize(s);
	return r;
}

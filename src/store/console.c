/* SPDX-License-Identifier: ISC */
/*
 * The web console's users who are no officers: their invitations (the
 * code's hash, how many wrong codes, open, used or revoked) and the
 * credentials they enrolled with one.  Rows reach callers through
 * callbacks, valid during the call only.
 */
#include <string.h>

#include "common/errors.h"
#include "store/store_int.h"

#define CRED_COLS	"id, user, cred_id, pubkey, alg, sign_count, revoked"

static int
bind_blob(struct store *st, sqlite3_stmt *s, int i, const void *p, size_t n)
{
	int rc = sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC);

	return rc == SQLITE_OK ? 0 : store_sqlerr(st, rc);
}

static int
exec_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
}

int
store_console_invite_put(struct store *st, const char *user,
    const uint8_t code_hash[32], int64_t expires, int64_t now)
{
	static const char sql[] = "INSERT OR REPLACE INTO console_invites "
	    "(user, code_hash, expires, wrong, state, created) VALUES "
	    "(?1, ?2, ?3, 0, 'open', ?4)";
	sqlite3_stmt *s = NULL;
	int e;

	if (st == NULL || code_hash == NULL ||
	    store_check_str(user, STORE_MAX_NAME, 0) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_CONSOLE_INVITE_PUT, sql, &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, user)) == 0 &&
	    (e = bind_blob(st, s, 2, code_hash, 32)) == 0 &&
	    (e = store_bind_int(st, s, 3, expires)) == 0 &&
	    (e = store_bind_int(st, s, 4, now)) == 0)
		e = exec_done(st, s);
	store_done(st, SLOT_CONSOLE_INVITE_PUT, s);
	return e;
}

int
store_console_invite_get(struct store *st, const char *user,
    store_console_invite_cb *cb, void *arg)
{
	static const char sql[] = "SELECT user, code_hash, expires, wrong, "
	    "state FROM console_invites WHERE user = ?1";
	struct store_console_invite v;
	sqlite3_stmt *s = NULL;
	int e, rc;

	if (st == NULL || cb == NULL || user == NULL)
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_CONSOLE_INVITE_GET, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, user)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, 1) == 32) {
		memset(&v, 0, sizeof(v));
		v.user = (const char *)sqlite3_column_text(s, 0);
		v.code_hash = sqlite3_column_blob(s, 1);
		v.expires = sqlite3_column_int64(s, 2);
		v.wrong = sqlite3_column_int64(s, 3);
		v.state = (const char *)sqlite3_column_text(s, 4);
		e = cb(&v, arg);
	} else
		e = rc == SQLITE_DONE || rc == SQLITE_ROW ? TG_ERR_NOT_FOUND :
		    store_sqlerr(st, rc);
out:
	store_done(st, SLOT_CONSOLE_INVITE_GET, s);
	return e;
}

int
store_console_invite_set(struct store *st, const char *user, int64_t wrong,
    const char *state)
{
	static const char sql[] = "UPDATE console_invites SET wrong = ?2, "
	    "state = ?3 WHERE user = ?1";
	sqlite3_stmt *s = NULL;
	int e;

	if (st == NULL || user == NULL || state == NULL)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_CONSOLE_INVITE_SET, sql, &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, user)) == 0 &&
	    (e = store_bind_int(st, s, 2, wrong)) == 0 &&
	    (e = store_bind_text(st, s, 3, state)) == 0 &&
	    (e = exec_done(st, s)) == 0 && sqlite3_changes(st->db) == 0)
		e = TG_ERR_NOT_FOUND;
	store_done(st, SLOT_CONSOLE_INVITE_SET, s);
	return e;
}

int
store_console_cred_insert(struct store *st,
    const struct store_console_cred *c, int64_t now)
{
	static const char sql[] = "INSERT INTO console_credentials (user, "
	    "cred_id, pubkey, alg, sign_count, revoked, enrolled) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, 0, ?6)";
	sqlite3_stmt *s = NULL;
	int e;

	if (st == NULL || c == NULL || c->cred_id == NULL ||
	    c->cred_id_len == 0 || c->cred_id_len > 1024 ||
	    c->pubkey == NULL || (c->pubkey_len != 32 &&
	    c->pubkey_len != 64) ||
	    store_check_str(c->user, STORE_MAX_NAME, 0) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_CONSOLE_CRED_INSERT, sql, &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, c->user)) == 0 &&
	    (e = bind_blob(st, s, 2, c->cred_id, c->cred_id_len)) == 0 &&
	    (e = bind_blob(st, s, 3, c->pubkey, c->pubkey_len)) == 0 &&
	    (e = store_bind_int(st, s, 4, c->alg)) == 0 &&
	    (e = store_bind_int(st, s, 5, c->sign_count)) == 0 &&
	    (e = store_bind_int(st, s, 6, now)) == 0)
		e = exec_done(st, s);
	store_done(st, SLOT_CONSOLE_CRED_INSERT, s);
	return e;
}

static int
cred_rows(struct store *st, sqlite3_stmt *s, store_console_cred_cb *cb,
    void *arg, int *n)
{
	struct store_console_cred c;
	int rc, e;

	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.id = sqlite3_column_int64(s, 0);
		c.user = (const char *)sqlite3_column_text(s, 1);
		c.cred_id = sqlite3_column_blob(s, 2);
		c.cred_id_len = (size_t)sqlite3_column_bytes(s, 2);
		c.pubkey = sqlite3_column_blob(s, 3);
		c.pubkey_len = (size_t)sqlite3_column_bytes(s, 3);
		c.alg = sqlite3_column_int(s, 4);
		c.sign_count = sqlite3_column_int64(s, 5);
		c.revoked = sqlite3_column_int(s, 6);
		(*n)++;
		if ((e = cb(&c, arg)) != 0)
			return e;
	}
	return rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
}

int
store_console_cred_list(struct store *st, const char *user,
    store_console_cred_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " CRED_COLS " FROM "
	    "console_credentials WHERE user = ?1 AND revoked = 0 ORDER BY id";
	sqlite3_stmt *s = NULL;
	int e, n;

	if (st == NULL || cb == NULL || user == NULL)
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_CONSOLE_CRED_LIST, sql, &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, user)) == 0)
		e = cred_rows(st, s, cb, arg, &n);
	store_done(st, SLOT_CONSOLE_CRED_LIST, s);
	return e;
}

int
store_console_cred_by_id(struct store *st, const uint8_t *cred, size_t len,
    store_console_cred_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " CRED_COLS " FROM "
	    "console_credentials WHERE cred_id = ?1";
	sqlite3_stmt *s = NULL;
	int e, n = 0;

	if (st == NULL || cb == NULL || cred == NULL || len == 0 ||
	    len > 1024)
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_CONSOLE_CRED_BY_ID, sql, &s)) == 0 &&
	    (e = bind_blob(st, s, 1, cred, len)) == 0 &&
	    (e = cred_rows(st, s, cb, arg, &n)) == 0 && n == 0)
		e = TG_ERR_NOT_FOUND;
	store_done(st, SLOT_CONSOLE_CRED_BY_ID, s);
	return e;
}

int
store_console_cred_set_count(struct store *st, int64_t id, int64_t count)
{
	sqlite3_stmt *s = NULL;
	int e;

	if (st == NULL || count < 0 || count > 0xffffffffLL)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_CONSOLE_CRED_COUNT, "UPDATE "
	    "console_credentials SET sign_count = ?2 WHERE id = ?1",
	    &s)) == 0 && (e = store_bind_int(st, s, 1, id)) == 0 &&
	    (e = store_bind_int(st, s, 2, count)) == 0 &&
	    (e = exec_done(st, s)) == 0 && sqlite3_changes(st->db) == 0)
		e = TG_ERR_NOT_FOUND;
	store_done(st, SLOT_CONSOLE_CRED_COUNT, s);
	return e;
}

int
store_console_cred_revoke(struct store *st, int64_t id, const char *user,
    int64_t now, int *n)
{
	static const char sql_id[] = "UPDATE console_credentials SET "
	    "revoked = 1, revoked_at = ?3 WHERE id = ?1 AND revoked = 0";
	static const char sql_user[] = "UPDATE console_credentials SET "
	    "revoked = 1, revoked_at = ?3 WHERE user = ?2 AND revoked = 0";
	const enum store_slot slot = id > 0 ? SLOT_CONSOLE_CRED_REVOKE_ID :
	    SLOT_CONSOLE_CRED_REVOKE_USER;
	sqlite3_stmt *s = NULL;
	int e;

	if (st == NULL || n == NULL || (id <= 0 && user == NULL))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, slot, id > 0 ? sql_id : sql_user,
	    &s)) == 0 && (e = store_bind_int(st, s, 1, id)) == 0 &&
	    (e = store_bind_text(st, s, 2, user)) == 0 &&
	    (e = store_bind_int(st, s, 3, now)) == 0 &&
	    (e = exec_done(st, s)) == 0) {
		*n = sqlite3_changes(st->db);
		if (*n == 0)
			e = TG_ERR_NOT_FOUND;
	}
	store_done(st, slot, s);
	return e;
}

/* SPDX-License-Identifier: ISC */
/*
 * Approvers (officers' enrolled credentials), their approvals, and the
 * co-signed orders.  Rows reach callers through callbacks, valid during
 * the call only.
 */
#include <string.h>

#include "common/errors.h"
#include "store/store_int.h"

#define APPROVER_COLS							\
	"id, name, approver_group, cred_id, pubkey, alg, aaguid, "	\
	"attest_fpr, sign_count, revoked, revoke_reason, yk_serial, "	\
	"enrolled, revoked_at, dn"

/*
 * The cached statement of slot (store_prepare()); give it back with
 * store_done() on every path.  A NULL store is the caller's error.
 */
static int
prep(struct store *st, enum store_slot slot, const char *sql,
    sqlite3_stmt **s)
{
	if (st == NULL)
		return TG_ERR_INVALID;
	return store_prepare(st, slot, sql, s);
}

static int
bind_blob(struct store *st, sqlite3_stmt *s, int i, const void *p, size_t n)
{
	int rc;

	if (p == NULL)
		rc = sqlite3_bind_null(s, i);
	else
		rc = sqlite3_bind_blob(s, i, p, (int)n, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : store_sqlerr(st, rc);
}

static const char *
text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Step a statement that returns no rows; require a change if asked. */
static int
exec_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
}

int
store_approver_insert(struct store *st, const struct store_approver *a,
    int64_t *idp)
{
	static const char sql[] = "INSERT INTO approvers (name, "
	    "approver_group, cred_id, pubkey, alg, aaguid, attest_fpr, "
	    "sign_count, revoked, yk_serial, enrolled, dn) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11)";
	sqlite3_stmt *s = NULL;
	int e;

	if (a == NULL || a->cred_id == NULL || a->cred_id_len == 0 ||
	    a->cred_id_len > 1024 || a->pubkey == NULL ||
	    (a->pubkey_len != 32 && a->pubkey_len != 64) ||
	    (e = store_check_str(a->name, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(a->group, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(a->dn, STORE_MAX_DN, 1)) != 0 ||
	    (a->attest_fpr != NULL && !store_is_hex(a->attest_fpr, 64)))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = prep(st, SLOT_APPROVER_INSERT, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, a->name)) != 0 ||
	    (e = store_bind_text(st, s, 2, a->group)) != 0 ||
	    (e = bind_blob(st, s, 3, a->cred_id, a->cred_id_len)) != 0 ||
	    (e = bind_blob(st, s, 4, a->pubkey, a->pubkey_len)) != 0 ||
	    (e = store_bind_int(st, s, 5, a->alg)) != 0 ||
	    (e = bind_blob(st, s, 6, a->aaguid, 16)) != 0 ||
	    (e = store_bind_text(st, s, 7, a->attest_fpr)) != 0 ||
	    (e = store_bind_int(st, s, 8, a->sign_count)) != 0 ||
	    (e = store_bind_int_or_null(st, s, 9, a->yk_serial)) != 0 ||
	    (e = store_bind_int(st, s, 10, a->enrolled ? a->enrolled :
	    store_now())) != 0 ||
	    (e = store_bind_text(st, s, 11, a->dn)) != 0 ||
	    (e = exec_done(st, s)) != 0)
		goto out;
	if (idp != NULL)
		*idp = sqlite3_last_insert_rowid(st->db);
out:
	store_done(st, SLOT_APPROVER_INSERT, s);
	return e;
}

static int
approver_rows(struct store *st, sqlite3_stmt *s, store_approver_cb *cb,
    void *arg, int *n)
{
	struct store_approver a;
	int rc, e;

	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(s, 0);
		a.name = text(s, 1);
		a.group = text(s, 2);
		a.cred_id = sqlite3_column_blob(s, 3);
		a.cred_id_len = (size_t)sqlite3_column_bytes(s, 3);
		a.pubkey = sqlite3_column_blob(s, 4);
		a.pubkey_len = (size_t)sqlite3_column_bytes(s, 4);
		a.alg = sqlite3_column_int(s, 5);
		a.aaguid = sqlite3_column_bytes(s, 6) == 16 ?
		    sqlite3_column_blob(s, 6) : NULL;
		a.attest_fpr = text(s, 7);
		a.sign_count = sqlite3_column_int64(s, 8);
		a.revoked = sqlite3_column_int(s, 9);
		a.revoke_reason = text(s, 10);
		a.yk_serial = sqlite3_column_int64(s, 11);
		a.enrolled = sqlite3_column_int64(s, 12);
		a.revoked_at = sqlite3_column_int64(s, 13);
		a.dn = text(s, 14);
		(*n)++;
		if ((e = cb(&a, arg)) != 0)
			return e;
	}
	return rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
}

int
store_approver_list(struct store *st, int all, store_approver_cb *cb,
    void *arg)
{
	static const char sql_all[] = "SELECT " APPROVER_COLS " FROM "
	    "approvers ORDER BY id";
	static const char sql_active[] = "SELECT " APPROVER_COLS " FROM "
	    "approvers WHERE revoked = 0 ORDER BY id";
	const enum store_slot slot = all ? SLOT_APPROVER_LIST_ALL :
	    SLOT_APPROVER_LIST_ACTIVE;
	sqlite3_stmt *s = NULL;
	int e, n;

	if (cb == NULL)
		return TG_ERR_INVALID;
	if ((e = prep(st, slot, all ? sql_all : sql_active, &s)) == 0)
		e = approver_rows(st, s, cb, arg, &n);
	store_done(st, slot, s);
	return e;
}

int
store_approver_by_cred(struct store *st, const uint8_t *cred, size_t len,
    store_approver_cb *cb, void *arg)
{
	sqlite3_stmt *s = NULL;
	int e, n = 0;

	if (cred == NULL || len == 0 || len > 1024 || cb == NULL)
		return TG_ERR_INVALID;
	if ((e = prep(st, SLOT_APPROVER_BY_CRED, "SELECT " APPROVER_COLS
	    " FROM approvers WHERE cred_id = ?1", &s)) == 0 &&
	    (e = bind_blob(st, s, 1, cred, len)) == 0 &&
	    (e = approver_rows(st, s, cb, arg, &n)) == 0 && n == 0)
		e = TG_ERR_NOT_FOUND;
	store_done(st, SLOT_APPROVER_BY_CRED, s);
	return e;
}

int
store_approver_set_count(struct store *st, int64_t id, int64_t count)
{
	sqlite3_stmt *s = NULL;
	int e;

	if (count < 0 || count > 0xffffffffLL)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = prep(st, SLOT_APPROVER_SET_COUNT, "UPDATE approvers SET "
	    "sign_count = ?2 WHERE id = ?1", &s)) == 0 &&
	    (e = store_bind_int(st, s, 1, id)) == 0 &&
	    (e = store_bind_int(st, s, 2, count)) == 0 &&
	    (e = exec_done(st, s)) == 0 && sqlite3_changes(st->db) == 0)
		e = TG_ERR_NOT_FOUND;
	store_done(st, SLOT_APPROVER_SET_COUNT, s);
	return e;
}

int
store_approver_revoke(struct store *st, int64_t id, const char *name,
    const char *reason, int64_t now, int *n)
{
	/* by id when one is given, else by name */
	static const char sql_id[] = "UPDATE approvers SET revoked = 1, "
	    "revoke_reason = ?3, revoked_at = ?4 WHERE id = ?1 AND "
	    "revoked = 0";
	static const char sql_name[] = "UPDATE approvers SET revoked = 1, "
	    "revoke_reason = ?3, revoked_at = ?4 WHERE name = ?2 AND "
	    "revoked = 0";
	const enum store_slot slot = id > 0 ? SLOT_APPROVER_REVOKE_ID :
	    SLOT_APPROVER_REVOKE_NAME;
	sqlite3_stmt *s = NULL;
	int e;

	if ((id <= 0 && name == NULL) ||
	    (e = store_check_str(reason, STORE_MAX_TEXT, 0)) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = prep(st, slot, id > 0 ? sql_id : sql_name, &s)) != 0 ||
	    (e = store_bind_int(st, s, 1, id)) != 0 ||
	    (e = store_bind_text(st, s, 2, name)) != 0 ||
	    (e = store_bind_text(st, s, 3, reason)) != 0 ||
	    (e = store_bind_int(st, s, 4, now ? now : store_now())) != 0 ||
	    (e = exec_done(st, s)) != 0)
		goto out;
	*n = sqlite3_changes(st->db);
	if (*n == 0)
		e = TG_ERR_NOT_FOUND;
out:
	store_done(st, slot, s);
	return e;
}

int
store_approval_insert(struct store *st, const struct store_approval *a)
{
	static const char sql[] = "INSERT INTO approvals (request_id, "
	    "approver_id, cred_id, auth_data, signature, client_data, "
	    "sign_count, created, nonce) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9)";
	sqlite3_stmt *s = NULL;
	int e;

	if (a == NULL || !store_request_id_valid(a->request_id) ||
	    a->cred_id == NULL || a->auth_data == NULL ||
	    a->signature == NULL || a->auth_data_len > 1024 ||
	    a->signature_len > 128 ||
	    (e = store_check_str(a->client_data, STORE_MAX_TEXT, 0)) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = prep(st, SLOT_APPROVAL_INSERT, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, a->request_id)) != 0 ||
	    (e = store_bind_int(st, s, 2, a->approver_id)) != 0 ||
	    (e = bind_blob(st, s, 3, a->cred_id, a->cred_id_len)) != 0 ||
	    (e = bind_blob(st, s, 4, a->auth_data, a->auth_data_len)) != 0 ||
	    (e = bind_blob(st, s, 5, a->signature, a->signature_len)) != 0 ||
	    (e = store_bind_text(st, s, 6, a->client_data)) != 0 ||
	    (e = store_bind_int(st, s, 7, a->sign_count)) != 0 ||
	    (e = store_bind_int(st, s, 8, a->created ? a->created :
	    store_now())) != 0 ||
	    (e = bind_blob(st, s, 9, a->nonce, 32)) != 0)
		goto out;
	e = exec_done(st, s);
out:
	store_done(st, SLOT_APPROVAL_INSERT, s);
	return e;
}

int
store_approval_list(struct store *st, const char *request_id,
    store_approval_cb *cb, void *arg)
{
	static const char sql[] = "SELECT p.id, p.request_id, p.approver_id, "
	    "a.name, a.approver_group, a.alg, p.cred_id, p.auth_data, "
	    "p.signature, p.client_data, p.sign_count, p.created, p.nonce "
	    "FROM approvals p JOIN approvers a ON a.id = p.approver_id WHERE "
	    "p.request_id = ?1 ORDER BY p.id";
	struct store_approval a;
	sqlite3_stmt *s = NULL;
	int e, rc;

	if (!store_request_id_valid(request_id) || cb == NULL)
		return TG_ERR_INVALID;
	if ((e = prep(st, SLOT_APPROVAL_LIST, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(s, 0);
		a.request_id = text(s, 1);
		a.approver_id = sqlite3_column_int64(s, 2);
		a.approver_name = text(s, 3);
		a.approver_group = text(s, 4);
		a.alg = sqlite3_column_int(s, 5);
		a.cred_id = sqlite3_column_blob(s, 6);
		a.cred_id_len = (size_t)sqlite3_column_bytes(s, 6);
		a.auth_data = sqlite3_column_blob(s, 7);
		a.auth_data_len = (size_t)sqlite3_column_bytes(s, 7);
		a.signature = sqlite3_column_blob(s, 8);
		a.signature_len = (size_t)sqlite3_column_bytes(s, 8);
		a.client_data = text(s, 9);
		a.sign_count = sqlite3_column_int64(s, 10);
		a.created = sqlite3_column_int64(s, 11);
		if (sqlite3_column_bytes(s, 12) == 32)
			a.nonce = sqlite3_column_blob(s, 12);
		if ((e = cb(&a, arg)) != 0)
			goto out;
	}
	e = rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
out:
	store_done(st, SLOT_APPROVAL_LIST, s);
	return e;
}

int
store_order_insert(struct store *st, const struct store_order *o)
{
	sqlite3_stmt *s = NULL;
	int e;

	if (o == NULL || !store_is_hex(o->jti, 32) ||
	    !store_request_id_valid(o->request_id) ||
	    (e = store_check_str(o->jws, STORE_MAX_JSON, 0)) != 0 ||
	    o->expires <= o->issued)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = prep(st, SLOT_ORDER_INSERT, "INSERT INTO orders (jti, "
	    "request_id, jws, issued, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
	    &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, o->jti)) == 0 &&
	    (e = store_bind_text(st, s, 2, o->request_id)) == 0 &&
	    (e = store_bind_text(st, s, 3, o->jws)) == 0 &&
	    (e = store_bind_int(st, s, 4, o->issued)) == 0 &&
	    (e = store_bind_int(st, s, 5, o->expires)) == 0)
		e = exec_done(st, s);
	store_done(st, SLOT_ORDER_INSERT, s);
	return e;
}

int
store_order_by_request(struct store *st, const char *request_id,
    store_order_cb *cb, void *arg)
{
	struct store_order o;
	sqlite3_stmt *s = NULL;
	int e, rc;

	if (!store_request_id_valid(request_id) || cb == NULL)
		return TG_ERR_INVALID;
	if ((e = prep(st, SLOT_ORDER_BY_REQUEST, "SELECT jti, request_id, "
	    "jws, issued, expires, coalesce(redeemed, 0), redeemed_by FROM "
	    "orders WHERE request_id = ?1 ORDER BY issued DESC, rowid DESC "
	    "LIMIT 1", &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&o, 0, sizeof(o));
		o.jti = text(s, 0);
		o.request_id = text(s, 1);
		o.jws = text(s, 2);
		o.issued = sqlite3_column_int64(s, 3);
		o.expires = sqlite3_column_int64(s, 4);
		o.redeemed = sqlite3_column_int64(s, 5);
		o.redeemed_by = text(s, 6);
		e = cb(&o, arg);
	} else
		e = rc == SQLITE_DONE ? TG_ERR_NOT_FOUND : store_sqlerr(st, rc);
out:
	store_done(st, SLOT_ORDER_BY_REQUEST, s);
	return e;
}

int
store_order_redeem(struct store *st, const char *jti, const char *by,
    int64_t now)
{
	sqlite3_stmt *s = NULL;
	int e;

	if (!store_is_hex(jti, 32) ||
	    (e = store_check_str(by, STORE_MAX_NAME, 0)) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = prep(st, SLOT_ORDER_REDEEM, "UPDATE orders SET redeemed = ?2, "
	    "redeemed_by = ?3 WHERE jti = ?1", &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, jti)) == 0 &&
	    (e = store_bind_int(st, s, 2, now ? now : store_now())) == 0 &&
	    (e = store_bind_text(st, s, 3, by)) == 0 &&
	    (e = exec_done(st, s)) == 0 && sqlite3_changes(st->db) == 0)
		e = TG_ERR_NOT_FOUND;
	store_done(st, SLOT_ORDER_REDEEM, s);
	return e;
}

int
store_recent_recoveries(struct store *st, const char *account, int64_t since,
    int64_t *count)
{
	sqlite3_stmt *s = NULL;
	int e, rc;

	if ((e = store_check_str(account, STORE_MAX_NAME, 0)) != 0)
		return e;
	/* approved: co-signed, not merely asked for */
	if ((e = prep(st, SLOT_RECENT_RECOVERIES, "SELECT count(*) FROM "
	    "orders o JOIN requests r ON r.id = o.request_id WHERE "
	    "r.target_account = ?1 COLLATE NOCASE AND o.issued >= ?2",
	    &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, account)) == 0 &&
	    (e = store_bind_int(st, s, 2, since)) == 0) {
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			*count = sqlite3_column_int64(s, 0);
		else
			e = store_sqlerr(st, rc);
	}
	store_done(st, SLOT_RECENT_RECOVERIES, s);
	return e;
}

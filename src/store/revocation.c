/* SPDX-License-Identifier: ISC */
/*
 * Revoked orders: a deny or a veto that came after the order was issued.
 * Rows reach callers through callbacks, valid during the call only.
 */
#include <string.h>

#include "common/errors.h"
#include "store/store_int.h"

#define REVOCATION_COLS							\
	"v.jti, v.request_id, v.kind, v.actor_name, v.reason, v.revoked, "\
	"v.after_redemption"

static void
row(sqlite3_stmt *s, struct store_revocation *rv)
{
	memset(rv, 0, sizeof(*rv));
	rv->jti = (const char *)sqlite3_column_text(s, 0);
	rv->request_id = (const char *)sqlite3_column_text(s, 1);
	rv->kind = (const char *)sqlite3_column_text(s, 2);
	rv->actor_name = (const char *)sqlite3_column_text(s, 3);
	rv->reason = (const char *)sqlite3_column_text(s, 4);
	rv->revoked = sqlite3_column_int64(s, 5);
	rv->after_redemption = sqlite3_column_int(s, 6) != 0;
}

int
store_revocation_add(struct store *st, const struct store_revocation *rv)
{
	static const char sql[] = "INSERT INTO revocations (jti, request_id, "
	    "kind, actor_name, reason, revoked, after_redemption) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *s = NULL;
	int e, rc;

	if (st == NULL || rv == NULL || !store_is_hex(rv->jti, 32) ||
	    !store_request_id_valid(rv->request_id) || rv->revoked < 0)
		return TG_ERR_INVALID;
	if ((e = store_check_str(rv->kind, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(rv->actor_name, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(rv->reason, STORE_MAX_TEXT, 0)) != 0)
		return e;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_REVOCATION_INSERT, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, rv->jti)) != 0 ||
	    (e = store_bind_text(st, s, 2, rv->request_id)) != 0 ||
	    (e = store_bind_text(st, s, 3, rv->kind)) != 0 ||
	    (e = store_bind_text(st, s, 4, rv->actor_name)) != 0 ||
	    (e = store_bind_text(st, s, 5, rv->reason)) != 0 ||
	    (e = store_bind_int(st, s, 6, rv->revoked)) != 0 ||
	    (e = store_bind_int(st, s, 7, rv->after_redemption ? 1 : 0)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		e = TG_ERR_EXISTS;
	else
		e = rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
out:
	store_done(st, SLOT_REVOCATION_INSERT, s);
	return e;
}

int
store_revocation_get(struct store *st, const char *jti,
    store_revocation_cb *cb, void *arg)
{
	struct store_revocation rv;
	sqlite3_stmt *s = NULL;
	int e, rc;

	if (st == NULL || cb == NULL || !store_is_hex(jti, 32))
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_REVOCATION_GET, "SELECT "
	    REVOCATION_COLS " FROM revocations v WHERE v.jti = ?1", &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, jti)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row(s, &rv);
		e = cb(&rv, arg);
	} else
		e = rc == SQLITE_DONE ? TG_ERR_NOT_FOUND : store_sqlerr(st, rc);
out:
	store_done(st, SLOT_REVOCATION_GET, s);
	return e;
}

int
store_revocation_list(struct store *st, int64_t since, int limit,
    store_revocation_cb *cb, void *arg, int *more)
{
	struct store_revocation rv;
	sqlite3_stmt *s = NULL;
	int e, rc, n = 0;

	if (st == NULL || cb == NULL || more == NULL || limit < 1 ||
	    limit > STORE_LIST_MAX)
		return TG_ERR_INVALID;
	*more = 0;
	/* one row past the limit says whether there were more */
	if ((e = store_prepare(st, SLOT_REVOCATION_LIST, "SELECT "
	    REVOCATION_COLS " FROM revocations v JOIN orders o ON o.jti = "
	    "v.jti WHERE o.expires > ?1 ORDER BY v.revoked, v.jti "
	    "LIMIT ?2", &s)) != 0 ||
	    (e = store_bind_int(st, s, 1, since)) != 0 ||
	    (e = store_bind_int(st, s, 2, (int64_t)limit + 1)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n++ == limit) {
			*more = 1;
			break;
		}
		row(s, &rv);
		if ((e = cb(&rv, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
out:
	store_done(st, SLOT_REVOCATION_LIST, s);
	return e;
}

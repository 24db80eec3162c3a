/* SPDX-License-Identifier: ISC */
/*
 * What became of a redeemed order (orderstate.h), in the columns schema
 * version 9 adds to orders.  Used at a redemption, a report, a resume and
 * by the timer's look for unreported orders: the statements are prepared
 * when used, not cached.
 */
#include <stddef.h>
#include <string.h>

#include "common/errors.h"
#include "store/orderstate.h"
#include "store/store_int.h"

#define STATE_COLUMNS	"jti, request_id, coalesce(redeemed, 0), " \
	"coalesce(redeemed_uid, -1), redeemed_by, " \
	"coalesce(last_redeemed, 0), redemptions, outcome, " \
	"coalesce(outcome_at, 0), outcome_json, resumable"

const char *
store_order_state_name(const struct store_order_state *o)
{
	if (o->redeemed == 0)
		return "issued";
	if (o->resumable)
		return "resumed";
	if (o->outcome == NULL)
		return "redeemed";
	return o->outcome;
}

/* The row s is on, as a state. */
static void
state_of(sqlite3_stmt *s, struct store_order_state *o)
{
	memset(o, 0, sizeof(*o));
	o->jti = (const char *)sqlite3_column_text(s, 0);
	o->request_id = (const char *)sqlite3_column_text(s, 1);
	o->redeemed = sqlite3_column_int64(s, 2);
	o->redeemed_uid = sqlite3_column_int64(s, 3);
	o->redeemed_by = (const char *)sqlite3_column_text(s, 4);
	o->last_redeemed = sqlite3_column_int64(s, 5);
	o->redemptions = sqlite3_column_int64(s, 6);
	o->outcome = (const char *)sqlite3_column_text(s, 7);
	o->outcome_at = sqlite3_column_int64(s, 8);
	o->outcome_json = (const char *)sqlite3_column_text(s, 9);
	o->resumable = sqlite3_column_int64(s, 10) != 0;
}

int
store_order_state_get(struct store *st, const char *request_id,
    store_order_state_cb *cb, void *arg)
{
	struct store_order_state o;
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || cb == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT " STATE_COLUMNS " FROM "
	    "orders WHERE request_id = ?1 ORDER BY issued DESC, rowid DESC "
	    "LIMIT 1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state_of(s, &o);
		r = cb(&o, arg);
	} else
		r = rc == SQLITE_DONE ? TG_ERR_NOT_FOUND : store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

/*
 * Run one statement on the order jti (?1), with ?2 an integer, ?3 and ?4
 * texts and ?5 an integer, each bound only when the statement numbers it;
 * *n the rows it changed (an UPDATE) or the first column of its row (a
 * SELECT count).
 */
static int
run(struct store *st, const char *sql, const char *jti, int64_t i2,
    const char *t3, const char *t4, int64_t i5, int *n)
{
	sqlite3_stmt *s = NULL;
	int rc, r, np;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	np = sqlite3_bind_parameter_count(s);
	if ((r = store_bind_text(st, s, 1, jti)) != 0 ||
	    (np >= 2 && (r = store_bind_int(st, s, 2, i2)) != 0) ||
	    (np >= 3 && (r = store_bind_text(st, s, 3, t3)) != 0) ||
	    (np >= 4 && (r = store_bind_text(st, s, 4, t4)) != 0) ||
	    (np >= 5 && (r = store_bind_int(st, s, 5, i5)) != 0))
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int(s, 0);
	else if (rc == SQLITE_DONE)
		*n = sqlite3_changes(st->db);
	else
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_order_redeemed_by(struct store *st, const char *jti, int64_t uid,
    int64_t now)
{
	int n = 0, r;

	if (st == NULL || !store_is_hex(jti, 32) || uid == -1 || now <= 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = run(st, "UPDATE orders SET redeemed_uid = ?2, "
	    "last_redeemed = ?5, redemptions = redemptions + 1, "
	    "outcome = NULL, outcome_at = NULL, outcome_json = NULL, "
	    "resumable = 0, alarmed = 0 WHERE jti = ?1 AND "
	    "redeemed IS NOT NULL", jti, uid,
	    NULL, NULL, now, &n)) != 0)
		return r;
	return n == 1 ? 0 : TG_ERR_NOT_FOUND;
}

int
store_order_set_outcome(struct store *st, const char *jti,
    const char *outcome, const char *json, int64_t now)
{
	int n = 0, r;

	if (st == NULL || !store_is_hex(jti, 32) || outcome == NULL ||
	    (strcmp(outcome, "applied") != 0 &&
	    strcmp(outcome, "failed") != 0) ||
	    store_check_str(json, STORE_OUTCOME_JSON_MAX, 0) != 0 ||
	    now <= 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = run(st, "UPDATE orders SET outcome = ?3, outcome_json = ?4, "
	    "outcome_at = ?5 WHERE jti = ?1 AND redeemed IS NOT NULL AND "
	    "outcome IS NULL AND resumable = 0", jti, 0, outcome, json, now,
	    &n)) != 0)
		return r;
	if (n == 1)
		return 0;
	/* why not: no such redeemed order, or reported already */
	if ((r = run(st, "SELECT count(*) FROM orders WHERE jti = ?1 AND "
	    "redeemed IS NOT NULL", jti, 0, NULL, NULL, 0, &n)) != 0)
		return r;
	return n == 1 ? TG_ERR_EXISTS : TG_ERR_NOT_FOUND;
}

int
store_order_resume(struct store *st, const char *jti)
{
	int n = 0, r;

	if (st == NULL || !store_is_hex(jti, 32))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = run(st, "UPDATE orders SET resumable = 1 WHERE jti = ?1 "
	    "AND redeemed IS NOT NULL AND resumable = 0 AND (outcome IS NULL "
	    "OR outcome = 'failed')", jti, 0, NULL, NULL, 0, &n)) != 0)
		return r;
	return n == 1 ? 0 : TG_ERR_CONFLICT;
}

int
store_order_alarmed(struct store *st, const char *jti)
{
	int n = 0, r;

	if (st == NULL || !store_is_hex(jti, 32))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((r = run(st, "UPDATE orders SET alarmed = 1 WHERE jti = ?1 AND "
	    "redeemed IS NOT NULL", jti, 0, NULL, NULL, 0, &n)) != 0)
		return r;
	return n == 1 ? 0 : TG_ERR_NOT_FOUND;
}

int
store_order_unreported(struct store *st, int64_t before,
    store_order_state_cb *cb, void *arg)
{
	struct store_order_state o;
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	if (st == NULL || cb == NULL)
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT " STATE_COLUMNS " FROM "
	    "orders WHERE redeemed IS NOT NULL AND outcome IS NULL AND "
	    "resumable = 0 AND alarmed = 0 AND last_redeemed <= ?1 "
	    "ORDER BY last_redeemed",
	    -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_int(st, s, 1, before)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state_of(s, &o);
		if ((r = cb(&o, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

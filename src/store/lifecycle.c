/* SPDX-License-Identifier: ISC */
/*
 * A request's life beyond its own row: the vetoes of its account (a reset
 * its owner stopped is not simply asked for again: the veto cool-off,
 * policy holds.veto_cooloff_seconds), and the requests whose time ran out
 * (holds.request_ttl_seconds).
 */
#include "common/errors.h"
#include "store/store_int.h"

int
store_recent_vetoes(struct store *st, const char *account, const char *system,
    const char *dn, int64_t since, int64_t *count)
{
	sqlite3_stmt *s = NULL;
	int e, rc;

	if (st == NULL || count == NULL)
		return TG_ERR_INVALID;
	if ((e = store_check_str(account, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(system, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(dn, STORE_MAX_TEXT, 1)) != 0)
		return e;
	*count = 0;
	if ((e = store_prepare(st, SLOT_RECENT_VETOES, "SELECT count(*) FROM "
	    "decisions d JOIN requests r ON r.id = d.request_id WHERE "
	    "d.kind = 'veto' AND d.created >= ?4 AND ((r.target_account = ?1 "
	    "COLLATE NOCASE AND r.target_system = ?2) OR (?3 IS NOT NULL AND "
	    "r.directory_json IS NOT NULL AND json_valid(r.directory_json) "
	    "AND json_extract(r.directory_json, '$.dn') = ?3 COLLATE NOCASE))",
	    &s)) == 0 &&
	    (e = store_bind_text(st, s, 1, account)) == 0 &&
	    (e = store_bind_text(st, s, 2, system)) == 0 &&
	    (e = store_bind_text(st, s, 3, dn)) == 0 &&
	    (e = store_bind_int(st, s, 4, since)) == 0) {
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			*count = sqlite3_column_int64(s, 0);
		else
			e = store_sqlerr(st, rc);
	}
	store_done(st, SLOT_RECENT_VETOES, s);
	return e;
}

#define UNFINISHED_STATES_MAX	8

int
store_request_list_unfinished(struct store *st, int64_t before,
    const char *const *states, size_t nstates, int limit, store_id_cb *cb,
    void *arg)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int e, rc;

	if (st == NULL || cb == NULL || states == NULL || nstates == 0 ||
	    nstates > UNFINISHED_STATES_MAX || limit < 1 ||
	    limit > STORE_LIST_MAX)
		return TG_ERR_INVALID;
	for (i = 0; i < nstates; i++)
		if ((e = store_check_str(states[i], STORE_MAX_NAME, 0)) != 0)
			return e;
	/* unused state slots repeat the first */
	if ((e = store_prepare(st, SLOT_REQ_UNFINISHED, "SELECT id, state "
	    "FROM requests r WHERE created < ?1 AND state IN (?3, ?4, ?5, ?6, "
	    "?7, ?8, ?9, ?10) AND NOT EXISTS (SELECT 1 FROM orders o WHERE "
	    "o.request_id = r.id) ORDER BY created, n LIMIT ?2", &s)) != 0)
		return e;
	if ((e = store_bind_int(st, s, 1, before)) != 0 ||
	    (e = store_bind_int(st, s, 2, limit)) != 0)
		goto out;
	for (i = 0; i < UNFINISHED_STATES_MAX; i++)
		if ((e = store_bind_text(st, s, 3 + (int)i,
		    states[i < nstates ? i : 0])) != 0)
			goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((e = cb((const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1), arg)) != 0)
			goto out;
	if (rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
out:
	store_done(st, SLOT_REQ_UNFINISHED, s);
	return e;
}

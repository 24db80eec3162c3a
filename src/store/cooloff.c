/* SPDX-License-Identifier: ISC */
/*
 * Vetoes of an account: a reset its owner stopped is not simply asked for
 * again (the veto cool-off, policy holds.veto_cooloff_seconds).
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

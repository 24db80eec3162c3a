/* SPDX-License-Identifier: ISC */
/*
 * The alarms' last states (alarm.h), in the table alarm_state (schema
 * version 5).  Asked at start and at enrolments and revocations, rarely:
 * the statements are prepared when used, not cached.
 */
#include <stddef.h>

#include "common/errors.h"
#include "store/alarm.h"
#include "store/store_int.h"

static int
names_ok(const char *alarm, const char *subject)
{
	return store_check_str(alarm, STORE_ALARM_MAX, 0) == 0 &&
	    store_check_str(subject, STORE_ALARM_SUBJECT_MAX, 0) == 0;
}

int
store_alarm_get(struct store *st, const char *alarm, const char *subject,
    int *raisedp, int64_t *sincep)
{
	sqlite3_stmt *s = NULL;
	int64_t raised;
	int rc, r;

	if (st == NULL || raisedp == NULL || !names_ok(alarm, subject))
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT raised, changed FROM "
	    "alarm_state WHERE alarm = ?1 AND subject = ?2", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, alarm)) != 0 ||
	    (r = store_bind_text(st, s, 2, subject)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_DONE) {
		r = TG_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	raised = sqlite3_column_int64(s, 0);
	if (raised != 0 && raised != 1) {
		r = TG_ERR_CORRUPT;
		goto out;
	}
	*raisedp = (int)raised;
	if (sincep != NULL)
		*sincep = sqlite3_column_int64(s, 1);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_alarm_set(struct store *st, const char *alarm, const char *subject,
    int raised, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || !names_ok(alarm, subject) ||
	    (raised != 0 && raised != 1))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO alarm_state "
	    "(alarm, subject, raised, changed) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (alarm, subject) DO UPDATE SET raised = "
	    "excluded.raised, changed = excluded.changed", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, alarm)) != 0 ||
	    (r = store_bind_text(st, s, 2, subject)) != 0 ||
	    (r = store_bind_int(st, s, 3, raised)) != 0 ||
	    (r = store_bind_int(st, s, 4, now)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * Recipients, veto code hashes and wrong codes tried (notify.h), in the
 * tables notify_recipients, veto_codes and veto_attempts (schema version
 * 9).  Used at a request's notifications and at a veto by code, rarely:
 * the statements are prepared when used, not cached.
 */
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "store/notify.h"
#include "store/store_int.h"

static int
role_ok(const char *role)
{
	return role != NULL && (strcmp(role, "owner") == 0 ||
	    strcmp(role, "manager") == 0);
}

/* Run s to its end (one write); 0 or the store's error. */
static int
step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
}

int
store_recipient_set(struct store *st, const char *request_id,
    const struct store_recipient *rcp, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || !store_request_id_valid(request_id) ||
	    !role_ok(rcp->role) || store_check_str(rcp->channel, 15, 0) != 0 ||
	    store_check_str(rcp->destination, STORE_DEST_MAX, 0) != 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO notify_recipients "
	    "(request_id, role, channel, destination, created) VALUES (?1, "
	    "?2, ?3, ?4, ?5) ON CONFLICT (request_id, role) DO UPDATE SET "
	    "channel = excluded.channel, destination = excluded.destination, "
	    "created = excluded.created", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) == 0 &&
	    (r = store_bind_text(st, s, 2, rcp->role)) == 0 &&
	    (r = store_bind_text(st, s, 3, rcp->channel)) == 0 &&
	    (r = store_bind_text(st, s, 4, rcp->destination)) == 0 &&
	    (r = store_bind_int(st, s, 5, now)) == 0)
		r = step_done(st, s);
	sqlite3_finalize(s);
	return r;
}

/* Copy column i of s into out (cap bytes); TG_ERR_CORRUPT if it does not
 * fit or is no text. */
static int
column(sqlite3_stmt *s, int i, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	size_t n;

	if (v == NULL || (n = strlen((const char *)v)) >= cap)
		return TG_ERR_CORRUPT;
	memcpy(out, v, n + 1);
	return 0;
}

int
store_recipient_forget(struct store *st, const char *request_id)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "DELETE FROM notify_recipients "
	    "WHERE request_id = ?1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) == 0)
		r = step_done(st, s);
	sqlite3_finalize(s);
	return r;
}

int
store_recipient_list(struct store *st, const char *request_id,
    struct store_recipient *out, size_t max, size_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	*n = 0;
	if (st == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT role, channel, "
	    "destination FROM notify_recipients WHERE request_id = ?1 "
	    "ORDER BY role DESC", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = column(s, 0, out[*n].role, sizeof(out[*n].role))) !=
		    0 || (r = column(s, 1, out[*n].channel,
		    sizeof(out[*n].channel))) != 0 || (r = column(s, 2,
		    out[*n].destination, sizeof(out[*n].destination))) != 0)
			goto out;
		(*n)++;
	}
	if (*n < max && rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_veto_code_add(struct store *st, const char *request_id,
    const char *role, const char *hash, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int64_t have = 0;
	int rc, r;

	if (st == NULL || !store_request_id_valid(request_id) ||
	    !role_ok(role) || !store_is_hex(hash, STORE_CODE_HASH_LEN))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT count(*) FROM veto_codes "
	    "WHERE request_id = ?1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		r = store_sqlerr(st, rc);
		goto out;
	}
	have = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (have >= STORE_VETO_CODES_MAX)
		return TG_ERR_TOO_LONG;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO veto_codes "
	    "(request_id, role, code_hash, created) VALUES (?1, ?2, ?3, ?4)",
	    -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) == 0 &&
	    (r = store_bind_text(st, s, 2, role)) == 0 &&
	    (r = store_bind_text(st, s, 3, hash)) == 0 &&
	    (r = store_bind_int(st, s, 4, now)) == 0)
		r = step_done(st, s);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_veto_code_list(struct store *st, const char *request_id,
    struct store_veto_code *out, size_t max, size_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	*n = 0;
	if (st == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT role, code_hash FROM "
	    "veto_codes WHERE request_id = ?1 ORDER BY id", -1, &s,
	    NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((r = column(s, 0, out[*n].role, sizeof(out[*n].role))) !=
		    0 || (r = column(s, 1, out[*n].hash,
		    sizeof(out[*n].hash))) != 0)
			goto out;
		(*n)++;
	}
	if (*n < max && rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_veto_failed(struct store *st, const char *request_id, int64_t *failed)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	*failed = 0;
	if (st == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT failed FROM "
	    "veto_attempts WHERE request_id = ?1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*failed = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE)
		r = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

int
store_veto_failed_add(struct store *st, const char *request_id,
    int64_t *failed)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO veto_attempts "
	    "(request_id, failed) VALUES (?1, 1) ON CONFLICT (request_id) DO "
	    "UPDATE SET failed = failed + 1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((r = store_bind_text(st, s, 1, request_id)) == 0)
		r = step_done(st, s);
	sqlite3_finalize(s);
	if (r == 0)
		r = store_veto_failed(st, request_id, failed);
	return r;
}

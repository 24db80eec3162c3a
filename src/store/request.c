/* SPDX-License-Identifier: ISC */
/*
 * Requests, their evidence and the decisions on them: the typed operations
 * over the state database.  Every write needs the caller's transaction, in
 * which the caller also appends the audit entry.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/errors.h"
#include "store/store_int.h"

#define REQ_COLS							\
	"id, queue, target_account, target_system, claimed_class, "	\
	"effective_class, requester_agent, requester_channel, "		\
	"requester_ticket, requester_uid, request_json, state, "	\
	"policy_id, policy_version, decision_json, idem_key, "		\
	"idem_digest, response_json, created, updated, hold_start, "	\
	"hold_end, requester_principal, requester_team, directory_json"

#define EV_COLS								\
	"id, request_id, type, result, verifier, channel, ref, "	\
	"evidence_json, digest, added_uid, created, origin"

#define DEC_COLS							\
	"id, request_id, kind, actor_uid, actor_role, actor_name, "	\
	"reason, created"

static const size_t request_strings[] = {
	offsetof(struct store_request, id),
	offsetof(struct store_request, queue),
	offsetof(struct store_request, target_account),
	offsetof(struct store_request, target_system),
	offsetof(struct store_request, claimed_class),
	offsetof(struct store_request, effective_class),
	offsetof(struct store_request, requester_agent),
	offsetof(struct store_request, requester_channel),
	offsetof(struct store_request, requester_ticket),
	offsetof(struct store_request, request_json),
	offsetof(struct store_request, state),
	offsetof(struct store_request, policy_id),
	offsetof(struct store_request, decision_json),
	offsetof(struct store_request, idem_key),
	offsetof(struct store_request, idem_digest),
	offsetof(struct store_request, response_json),
	offsetof(struct store_request, requester_principal),
	offsetof(struct store_request, requester_team),
	offsetof(struct store_request, directory_json),
};

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int
store_request_id_new(char id[STORE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[STORE_ID_LEN / 2];
	size_t i;

	if (id == NULL)
		return TG_ERR_INVALID;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return TG_ERR_INTERNAL;
	for (i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	id[STORE_ID_LEN] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

int
store_request_id_valid(const char *s)
{
	return store_is_hex(s, STORE_ID_LEN);
}

static int
check_request(const struct store_request *r)
{
	int e;

	if (!store_request_id_valid(r->id))
		return TG_ERR_INVALID;
	if ((e = store_check_str(r->queue, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->target_account, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->target_system, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->claimed_class, STORE_MAX_NAME, 1)) != 0 ||
	    (e = store_check_str(r->effective_class, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->requester_agent, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->requester_channel, STORE_MAX_NAME,
	    0)) != 0 ||
	    (e = store_check_str(r->requester_ticket, STORE_MAX_NAME,
	    1)) != 0 ||
	    (e = store_check_str(r->request_json, STORE_MAX_JSON, 0)) != 0 ||
	    (e = store_check_str(r->state, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->policy_id, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(r->decision_json, STORE_MAX_JSON, 1)) != 0 ||
	    (e = store_check_str(r->idem_key, STORE_MAX_NAME, 1)) != 0 ||
	    (e = store_check_str(r->response_json, STORE_MAX_JSON, 1)) != 0 ||
	    (e = store_check_str(r->requester_principal, STORE_MAX_NAME,
	    1)) != 0 ||
	    (e = store_check_str(r->requester_team, STORE_MAX_NAME, 1)) != 0 ||
	    (e = store_check_str(r->directory_json, STORE_MAX_JSON, 1)) != 0)
		return e;
	/* The digest lets a retry with a different body be told apart. */
	if ((r->idem_key == NULL) != (r->idem_digest == NULL))
		return TG_ERR_INVALID;
	if (r->idem_digest != NULL &&
	    !store_is_hex(r->idem_digest, STORE_DIGEST_LEN))
		return TG_ERR_INVALID;
	if (r->policy_version < 0 || r->created < 0)
		return TG_ERR_INVALID;
	if ((r->hold_start == 0) != (r->hold_end == 0) ||
	    r->hold_start < 0 || r->hold_end < r->hold_start)
		return TG_ERR_INVALID;
	return 0;
}

int
store_request_insert(struct store *st, const struct store_request *r)
{
	static const char sql[] = "INSERT INTO requests (" REQ_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)";
	sqlite3_stmt *s = NULL;
	int64_t created;
	int rc, e;

	if (st == NULL || r == NULL)
		return TG_ERR_INVALID;
	if ((e = check_request(r)) != 0)
		return e;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	created = r->created != 0 ? r->created : store_now();
	if ((e = store_prepare(st, SLOT_REQ_INSERT, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, r->id)) != 0 ||
	    (e = store_bind_text(st, s, 2, r->queue)) != 0 ||
	    (e = store_bind_text(st, s, 3, r->target_account)) != 0 ||
	    (e = store_bind_text(st, s, 4, r->target_system)) != 0 ||
	    (e = store_bind_text(st, s, 5, r->claimed_class)) != 0 ||
	    (e = store_bind_text(st, s, 6, r->effective_class)) != 0 ||
	    (e = store_bind_text(st, s, 7, r->requester_agent)) != 0 ||
	    (e = store_bind_text(st, s, 8, r->requester_channel)) != 0 ||
	    (e = store_bind_text(st, s, 9, r->requester_ticket)) != 0 ||
	    (e = store_bind_int(st, s, 10, r->requester_uid)) != 0 ||
	    (e = store_bind_text(st, s, 11, r->request_json)) != 0 ||
	    (e = store_bind_text(st, s, 12, r->state)) != 0 ||
	    (e = store_bind_text(st, s, 13, r->policy_id)) != 0 ||
	    (e = store_bind_int(st, s, 14, r->policy_version)) != 0 ||
	    (e = store_bind_text(st, s, 15, r->decision_json)) != 0 ||
	    (e = store_bind_text(st, s, 16, r->idem_key)) != 0 ||
	    (e = store_bind_text(st, s, 17, r->idem_digest)) != 0 ||
	    (e = store_bind_text(st, s, 18, r->response_json)) != 0 ||
	    (e = store_bind_int(st, s, 19, created)) != 0 ||
	    (e = store_bind_int(st, s, 20, created)) != 0 ||
	    (e = store_bind_int_or_null(st, s, 21, r->hold_start)) != 0 ||
	    (e = store_bind_int_or_null(st, s, 22, r->hold_end)) != 0 ||
	    (e = store_bind_text(st, s, 23, r->requester_principal)) != 0 ||
	    (e = store_bind_text(st, s, 24, r->requester_team)) != 0 ||
	    (e = store_bind_text(st, s, 25, r->directory_json)) != 0)
		goto out;
	rc = sqlite3_step(s);
	e = rc == SQLITE_DONE ? 0 : store_sqlerr(st, rc);
out:
	store_done(st, SLOT_REQ_INSERT, s);
	return e;
}

/* The current row as a request; strings valid until the next step. */
static void
row_request(sqlite3_stmt *s, struct store_request *r)
{
	memset(r, 0, sizeof(*r));
	r->id = col_text(s, 0);
	r->queue = col_text(s, 1);
	r->target_account = col_text(s, 2);
	r->target_system = col_text(s, 3);
	r->claimed_class = col_text(s, 4);
	r->effective_class = col_text(s, 5);
	r->requester_agent = col_text(s, 6);
	r->requester_channel = col_text(s, 7);
	r->requester_ticket = col_text(s, 8);
	r->requester_uid = sqlite3_column_int64(s, 9);
	r->request_json = col_text(s, 10);
	r->state = col_text(s, 11);
	r->policy_id = col_text(s, 12);
	r->policy_version = sqlite3_column_int64(s, 13);
	r->decision_json = col_text(s, 14);
	r->idem_key = col_text(s, 15);
	r->idem_digest = col_text(s, 16);
	r->response_json = col_text(s, 17);
	r->created = sqlite3_column_int64(s, 18);
	r->updated = sqlite3_column_int64(s, 19);
	r->hold_start = sqlite3_column_int64(s, 20);
	r->hold_end = sqlite3_column_int64(s, 21);
	r->requester_principal = col_text(s, 22);
	r->requester_team = col_text(s, 23);
	r->directory_json = col_text(s, 24);
}

static int
get_one(struct store *st, enum store_slot slot, const char *sql,
    const char *key, struct store_request **rp)
{
	struct store_request r;
	sqlite3_stmt *s = NULL;
	void *copy;
	int rc, e;

	if ((e = store_prepare(st, slot, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, key)) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		e = rc == SQLITE_DONE ? TG_ERR_NOT_FOUND : store_sqlerr(st, rc);
		goto out;
	}
	row_request(s, &r);
	if ((e = store_copy_record(&r, sizeof(r), request_strings,
	    sizeof(request_strings) / sizeof(request_strings[0]),
	    &copy)) != 0)
		goto out;
	*rp = copy;
out:
	store_done(st, slot, s);
	return e;
}

int
store_request_get(struct store *st, const char *id, struct store_request **rp)
{
	if (st == NULL || rp == NULL || !store_request_id_valid(id))
		return TG_ERR_INVALID;
	return get_one(st, SLOT_REQ_GET,
	    "SELECT " REQ_COLS " FROM requests WHERE id = ?1", id, rp);
}

int
store_request_get_by_idem(struct store *st, const char *idem_key,
    struct store_request **rp)
{
	int e;

	if (st == NULL || rp == NULL)
		return TG_ERR_INVALID;
	if ((e = store_check_str(idem_key, STORE_MAX_NAME, 0)) != 0)
		return e;
	return get_one(st, SLOT_REQ_GET_IDEM,
	    "SELECT " REQ_COLS " FROM requests WHERE idem_key = ?1", idem_key,
	    rp);
}

void
store_request_free(struct store_request **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	free(*rp);	/* one allocation: the strings follow the struct */
	*rp = NULL;
}

/* After an UPDATE that touched nothing: no such request, or 0. */
static int
request_exists(struct store *st, const char *id)
{
	sqlite3_stmt *s = NULL;
	int rc, e;

	if ((e = store_prepare(st, SLOT_REQ_EXISTS,
	    "SELECT 1 FROM requests WHERE id = ?1", &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, id)) != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		e = 0;
	else
		e = rc == SQLITE_DONE ? TG_ERR_NOT_FOUND : store_sqlerr(st, rc);
out:
	store_done(st, SLOT_REQ_EXISTS, s);
	return e;
}

int
store_request_set_state(struct store *st, const char *id, const char *expect,
    const char *state, const char *decision_json, int64_t now)
{
	static const char sql[] = "UPDATE requests SET state = ?3, "
	    "decision_json = coalesce(?4, decision_json), updated = ?5 "
	    "WHERE id = ?1 AND state = ?2";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || !store_request_id_valid(id))
		return TG_ERR_INVALID;
	if ((e = store_check_str(expect, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(state, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(decision_json, STORE_MAX_JSON, 1)) != 0)
		return e;
	if (now < 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_REQ_SET_STATE, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, id)) != 0 ||
	    (e = store_bind_text(st, s, 2, expect)) != 0 ||
	    (e = store_bind_text(st, s, 3, state)) != 0 ||
	    (e = store_bind_text(st, s, 4, decision_json)) != 0)
		goto out;
	if ((rc = sqlite3_bind_int64(s, 5, now ? now : store_now())) !=
	    SQLITE_OK) {
		e = store_sqlerr(st, rc);
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_DONE) {
		e = store_sqlerr(st, rc);
		goto out;
	}
	if (sqlite3_changes(st->db) == 0) {
		/* Someone moved it first, or it never was. */
		e = request_exists(st, id);
		if (e == 0)
			e = TG_ERR_CONFLICT;
	}
out:
	store_done(st, SLOT_REQ_SET_STATE, s);
	return e;
}

int
store_request_set_hold(struct store *st, const char *id, int64_t start,
    int64_t end, int64_t now)
{
	static const char sql[] = "UPDATE requests SET hold_start = ?2, "
	    "hold_end = ?3, updated = ?4 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || !store_request_id_valid(id))
		return TG_ERR_INVALID;
	if ((start == 0) != (end == 0) || start < 0 || end < start || now < 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_REQ_SET_HOLD, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, id)) != 0 ||
	    (e = store_bind_int_or_null(st, s, 2, start)) != 0 ||
	    (e = store_bind_int_or_null(st, s, 3, end)) != 0)
		goto out;
	if ((rc = sqlite3_bind_int64(s, 4, now ? now : store_now())) !=
	    SQLITE_OK) {
		e = store_sqlerr(st, rc);
		goto out;
	}
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	else if (sqlite3_changes(st->db) == 0)
		e = TG_ERR_NOT_FOUND;
out:
	store_done(st, SLOT_REQ_SET_HOLD, s);
	return e;
}

int
store_request_set_directory(struct store *st, const char *id,
    const char *directory_json, int64_t now)
{
	static const char sql[] = "UPDATE requests SET directory_json = ?2, "
	    "updated = ?3 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || !store_request_id_valid(id) || now < 0 ||
	    directory_json == NULL)
		return TG_ERR_INVALID;
	if ((e = store_check_str(directory_json, STORE_MAX_JSON, 0)) != 0)
		return e;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_REQ_SET_DIRECTORY, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, id)) != 0 ||
	    (e = store_bind_text(st, s, 2, directory_json)) != 0 ||
	    (e = store_bind_int(st, s, 3, now ? now : store_now())) != 0)
		goto out;
	if ((rc = sqlite3_step(s)) != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	else if (sqlite3_changes(st->db) == 0)
		e = TG_ERR_NOT_FOUND;
out:
	store_done(st, SLOT_REQ_SET_DIRECTORY, s);
	return e;
}

/* Hand each row of a bound request query to cb. */
static int
each_request(struct store *st, enum store_slot slot, sqlite3_stmt *s,
    store_request_cb *cb, void *arg)
{
	struct store_request r;
	int rc, e = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_request(s, &r);
		if ((e = cb(&r, arg)) != 0)
			break;
	}
	if (e == 0 && rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	store_done(st, slot, s);
	return e;
}

int
store_request_list(struct store *st, const char *queue, const char *state,
    int limit, store_request_cb *cb, void *arg)
{
	/* One query per filter, so each can use its index. */
	static const char *const sql[] = {
		"SELECT " REQ_COLS " FROM requests "
		    "ORDER BY n DESC LIMIT ?3",
		"SELECT " REQ_COLS " FROM requests WHERE queue = ?1 "
		    "ORDER BY n DESC LIMIT ?3",
		"SELECT " REQ_COLS " FROM requests WHERE state = ?2 "
		    "ORDER BY n DESC LIMIT ?3",
		"SELECT " REQ_COLS " FROM requests WHERE queue = ?1 "
		    "AND state = ?2 ORDER BY n DESC LIMIT ?3",
	};
	static const enum store_slot slots[] = {
		SLOT_REQ_LIST_ALL, SLOT_REQ_LIST_QUEUE, SLOT_REQ_LIST_STATE,
		SLOT_REQ_LIST_BOTH,
	};
	sqlite3_stmt *s = NULL;
	int which, rc, e;

	if (st == NULL || cb == NULL || limit < 1 || limit > STORE_LIST_MAX)
		return TG_ERR_INVALID;
	if ((e = store_check_str(queue, STORE_MAX_NAME, 1)) != 0 ||
	    (e = store_check_str(state, STORE_MAX_NAME, 1)) != 0)
		return e;
	which = (queue != NULL ? 1 : 0) | (state != NULL ? 2 : 0);
	if ((e = store_prepare(st, slots[which], sql[which], &s)) != 0)
		return e;
	if ((queue != NULL && (e = store_bind_text(st, s, 1, queue)) != 0) ||
	    (state != NULL && (e = store_bind_text(st, s, 2, state)) != 0)) {
		store_done(st, slots[which], s);
		return e;
	}
	if ((rc = sqlite3_bind_int(s, 3, limit)) != SQLITE_OK) {
		e = store_sqlerr(st, rc);
		store_done(st, slots[which], s);
		return e;
	}
	return each_request(st, slots[which], s, cb, arg);
}

/* The requests whose id starts with prefix, of team only when not NULL. */
static int
list_prefix(struct store *st, const char *prefix, const char *team,
    int limit, store_request_cb *cb, void *arg)
{
	/* a GLOB with a literal prefix runs on the id's unique index */
	static const char sql[] = "SELECT " REQ_COLS " FROM requests "
	    "WHERE id GLOB ?1 AND (?3 IS NULL OR requester_team = ?3) "
	    "ORDER BY id LIMIT ?2";
	char pattern[STORE_ID_LEN + 2];
	struct store_request r;
	sqlite3_stmt *s = NULL;
	size_t n;
	int rc, e;

	if (st == NULL || cb == NULL || prefix == NULL || limit < 1 ||
	    limit > STORE_LIST_MAX || (n = strlen(prefix)) == 0 ||
	    n > STORE_ID_LEN || !store_is_hex(prefix, n))
		return TG_ERR_INVALID;
	if ((e = store_check_str(team, STORE_MAX_NAME, 1)) != 0)
		return e;
	memcpy(pattern, prefix, n);
	pattern[n] = '*';
	pattern[n + 1] = '\0';
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((rc = sqlite3_bind_text(s, 1, pattern, -1, SQLITE_STATIC)) !=
	    SQLITE_OK || (rc = sqlite3_bind_int(s, 2, limit)) != SQLITE_OK ||
	    (team != NULL && (rc = sqlite3_bind_text(s, 3, team, -1,
	    SQLITE_STATIC)) != SQLITE_OK)) {
		e = store_sqlerr(st, rc);
		sqlite3_finalize(s);
		return e;
	}
	e = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_request(s, &r);
		if ((e = cb(&r, arg)) != 0)
			break;
	}
	if (e == 0 && rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return e;
}

int
store_request_list_prefix(struct store *st, const char *prefix, int limit,
    store_request_cb *cb, void *arg)
{
	return list_prefix(st, prefix, NULL, limit, cb, arg);
}

int
store_request_list_prefix_team(struct store *st, const char *prefix,
    const char *team, int limit, store_request_cb *cb, void *arg)
{
	if (team == NULL)
		return TG_ERR_INVALID;
	return list_prefix(st, prefix, team, limit, cb, arg);
}

int
store_request_list_team(struct store *st, const char *team,
    const char *queue, const char *state, int limit, store_request_cb *cb,
    void *arg)
{
	/* the team's index; queue and state filter what it gives */
	static const char sql[] = "SELECT " REQ_COLS " FROM requests "
	    "WHERE requester_team = ?4 AND (?1 IS NULL OR queue = ?1) "
	    "AND (?2 IS NULL OR state = ?2) ORDER BY n DESC LIMIT ?3";
	struct store_request r;
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || cb == NULL || team == NULL || limit < 1 ||
	    limit > STORE_LIST_MAX)
		return TG_ERR_INVALID;
	if ((e = store_check_str(team, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(queue, STORE_MAX_NAME, 1)) != 0 ||
	    (e = store_check_str(state, STORE_MAX_NAME, 1)) != 0)
		return e;
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((queue != NULL && (rc = sqlite3_bind_text(s, 1, queue, -1,
	    SQLITE_STATIC)) != SQLITE_OK) ||
	    (state != NULL && (rc = sqlite3_bind_text(s, 2, state, -1,
	    SQLITE_STATIC)) != SQLITE_OK) ||
	    (rc = sqlite3_bind_int(s, 3, limit)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(s, 4, team, -1, SQLITE_STATIC)) !=
	    SQLITE_OK) {
		e = store_sqlerr(st, rc);
		sqlite3_finalize(s);
		return e;
	}
	e = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_request(s, &r);
		if ((e = cb(&r, arg)) != 0)
			break;
	}
	if (e == 0 && rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return e;
}

int
store_request_list_hold_due(struct store *st, const char *state,
    int64_t now, int limit, store_request_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " REQ_COLS " FROM requests "
	    "WHERE state = ?1 AND hold_end IS NOT NULL AND hold_end <= ?2 "
	    "ORDER BY hold_end, n LIMIT ?3";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || cb == NULL || limit < 1 || limit > STORE_LIST_MAX)
		return TG_ERR_INVALID;
	if ((e = store_check_str(state, STORE_MAX_NAME, 0)) != 0)
		return e;
	if ((e = store_prepare(st, SLOT_REQ_HOLD_DUE, sql, &s)) != 0)
		return e;
	if ((e = store_bind_text(st, s, 1, state)) != 0) {
		store_done(st, SLOT_REQ_HOLD_DUE, s);
		return e;
	}
	if ((rc = sqlite3_bind_int64(s, 2, now)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(s, 3, limit)) != SQLITE_OK) {
		e = store_sqlerr(st, rc);
		store_done(st, SLOT_REQ_HOLD_DUE, s);
		return e;
	}
	return each_request(st, SLOT_REQ_HOLD_DUE, s, cb, arg);
}

int
store_request_counts(struct store *st, store_count_cb *cb, void *arg)
{
	static const char sql[] = "SELECT queue, state, count(*) FROM requests "
	    "GROUP BY queue, state ORDER BY queue, state";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || cb == NULL)
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_REQ_COUNTS, sql, &s)) != 0)
		return e;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((e = cb(col_text(s, 0), col_text(s, 1),
		    sqlite3_column_int64(s, 2), arg)) != 0)
			break;
	if (e == 0 && rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	store_done(st, SLOT_REQ_COUNTS, s);
	return e;
}

int
store_evidence_add(struct store *st, const struct store_evidence *ev,
    int64_t *idp)
{
	static const char sql[] = "INSERT INTO evidence (request_id, type, "
	    "result, verifier, channel, ref, evidence_json, digest, "
	    "added_uid, created, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11)";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || ev == NULL || !store_request_id_valid(ev->request_id))
		return TG_ERR_INVALID;
	if ((e = store_check_str(ev->type, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(ev->result, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(ev->verifier, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(ev->channel, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(ev->ref, STORE_MAX_TEXT, 1)) != 0 ||
	    (e = store_check_str(ev->json, STORE_MAX_JSON, 0)) != 0)
		return e;
	if (!store_is_hex(ev->digest, STORE_DIGEST_LEN) || ev->created < 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_EV_INSERT, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, ev->request_id)) != 0 ||
	    (e = store_bind_text(st, s, 2, ev->type)) != 0 ||
	    (e = store_bind_text(st, s, 3, ev->result)) != 0 ||
	    (e = store_bind_text(st, s, 4, ev->verifier)) != 0 ||
	    (e = store_bind_text(st, s, 5, ev->channel)) != 0 ||
	    (e = store_bind_text(st, s, 6, ev->ref)) != 0 ||
	    (e = store_bind_text(st, s, 7, ev->json)) != 0 ||
	    (e = store_bind_text(st, s, 8, ev->digest)) != 0 ||
	    (e = store_bind_text(st, s, 11, ev->origin != NULL ? ev->origin :
	    "agent")) != 0)
		goto out;
	if ((rc = sqlite3_bind_int64(s, 9, ev->added_uid)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(s, 10, ev->created ? ev->created :
	    store_now())) != SQLITE_OK ||
	    (rc = sqlite3_step(s)) != SQLITE_DONE) {
		e = store_sqlerr(st, rc);
		goto out;
	}
	if (idp != NULL)
		*idp = sqlite3_last_insert_rowid(st->db);
out:
	store_done(st, SLOT_EV_INSERT, s);
	return e;
}

int
store_evidence_list(struct store *st, const char *request_id,
    store_evidence_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " EV_COLS " FROM evidence "
	    "WHERE request_id = ?1 ORDER BY id LIMIT "
	    STORE_STR(STORE_LIST_MAX);
	struct store_evidence ev;
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || cb == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_EV_LIST, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ev.id = sqlite3_column_int64(s, 0);
		ev.request_id = col_text(s, 1);
		ev.type = col_text(s, 2);
		ev.result = col_text(s, 3);
		ev.verifier = col_text(s, 4);
		ev.channel = col_text(s, 5);
		ev.ref = col_text(s, 6);
		ev.json = col_text(s, 7);
		ev.digest = col_text(s, 8);
		ev.added_uid = sqlite3_column_int64(s, 9);
		ev.created = sqlite3_column_int64(s, 10);
		ev.origin = col_text(s, 11);
		if ((e = cb(&ev, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
out:
	store_done(st, SLOT_EV_LIST, s);
	return e;
}

int
store_decision_add(struct store *st, const struct store_decision *d,
    int64_t *idp)
{
	static const char sql[] = "INSERT INTO decisions (request_id, kind, "
	    "actor_uid, actor_role, actor_name, reason, created) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || d == NULL || !store_request_id_valid(d->request_id))
		return TG_ERR_INVALID;
	if ((e = store_check_str(d->kind, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(d->actor_role, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(d->actor_name, STORE_MAX_NAME, 0)) != 0 ||
	    (e = store_check_str(d->reason, STORE_MAX_TEXT, 0)) != 0)
		return e;
	if (d->created < 0)
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((e = store_prepare(st, SLOT_DEC_INSERT, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, d->request_id)) != 0 ||
	    (e = store_bind_text(st, s, 2, d->kind)) != 0 ||
	    (e = store_bind_text(st, s, 4, d->actor_role)) != 0 ||
	    (e = store_bind_text(st, s, 5, d->actor_name)) != 0 ||
	    (e = store_bind_text(st, s, 6, d->reason)) != 0)
		goto out;
	if ((rc = sqlite3_bind_int64(s, 3, d->actor_uid)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(s, 7, d->created ? d->created :
	    store_now())) != SQLITE_OK ||
	    (rc = sqlite3_step(s)) != SQLITE_DONE) {
		e = store_sqlerr(st, rc);
		goto out;
	}
	if (idp != NULL)
		*idp = sqlite3_last_insert_rowid(st->db);
out:
	store_done(st, SLOT_DEC_INSERT, s);
	return e;
}

int
store_decision_list(struct store *st, const char *request_id,
    store_decision_cb *cb, void *arg)
{
	static const char sql[] = "SELECT " DEC_COLS " FROM decisions "
	    "WHERE request_id = ?1 ORDER BY id LIMIT "
	    STORE_STR(STORE_LIST_MAX);
	struct store_decision d;
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || cb == NULL || !store_request_id_valid(request_id))
		return TG_ERR_INVALID;
	if ((e = store_prepare(st, SLOT_DEC_LIST, sql, &s)) != 0 ||
	    (e = store_bind_text(st, s, 1, request_id)) != 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		d.id = sqlite3_column_int64(s, 0);
		d.request_id = col_text(s, 1);
		d.kind = col_text(s, 2);
		d.actor_uid = sqlite3_column_int64(s, 3);
		d.actor_role = col_text(s, 4);
		d.actor_name = col_text(s, 5);
		d.reason = col_text(s, 6);
		d.created = sqlite3_column_int64(s, 7);
		if ((e = cb(&d, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
out:
	store_done(st, SLOT_DEC_LIST, s);
	return e;
}

/*
 * The statements below run rarely (at start, every few seconds, or when
 * the clock jumped), so they are prepared when used.
 */
int
store_request_list_hold_after(struct store *st, const char *state,
    int64_t after, const char *after_id, int limit, store_request_cb *cb,
    void *arg)
{
	static const char sql[] = "SELECT " REQ_COLS " FROM requests "
	    "WHERE state = ?1 AND hold_end IS NOT NULL AND hold_end > ?2 "
	    "AND id > ?3 ORDER BY id LIMIT ?4";
	struct store_request r;
	sqlite3_stmt *s = NULL;
	int rc, e = 0;

	if (st == NULL || cb == NULL || limit < 1 || limit > STORE_LIST_MAX ||
	    after_id == NULL || (after_id[0] != '\0' &&
	    !store_request_id_valid(after_id)))
		return TG_ERR_INVALID;
	if ((e = store_check_str(state, STORE_MAX_NAME, 0)) != 0)
		return e;
	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((rc = sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC)) !=
	    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(s, 2, after)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(s, 3, after_id, -1, SQLITE_STATIC)) !=
	    SQLITE_OK ||
	    (rc = sqlite3_bind_int(s, 4, limit)) != SQLITE_OK) {
		e = store_sqlerr(st, rc);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_request(s, &r);
		if ((e = cb(&r, arg)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		e = store_sqlerr(st, rc);
out:
	sqlite3_finalize(s);
	return e;
}

static int
meta_key_ok(const char *key)
{
	return key != NULL && key[0] != '\0' && strlen(key) <= 64;
}

int
store_meta_get(struct store *st, const char *key, int64_t *vp)
{
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || vp == NULL || !meta_key_ok(key))
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE "
	    "key = ?1", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC)) !=
	    SQLITE_OK)
		e = store_sqlerr(st, rc);
	else if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*vp = sqlite3_column_int64(s, 0);
		e = 0;
	} else
		e = rc == SQLITE_DONE ? TG_ERR_NOT_FOUND : store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return e;
}

int
store_meta_set(struct store *st, const char *key, int64_t v)
{
	sqlite3_stmt *s = NULL;
	int rc, e = 0;

	if (st == NULL || !meta_key_ok(key))
		return TG_ERR_INVALID;
	if (!store_in_txn(st))
		return TG_ERR_TXN;
	if ((rc = sqlite3_prepare_v2(st->db, "INSERT INTO meta (key, value) "
	    "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
	    "excluded.value", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((rc = sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC)) !=
	    SQLITE_OK || (rc = sqlite3_bind_int64(s, 2, v)) != SQLITE_OK ||
	    (rc = sqlite3_step(s)) != SQLITE_DONE)
		e = store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return e;
}

/*
 * Here rather than with the other order statements: key rotation asks
 * it, rarely, so it is prepared when used.
 */
int
store_order_last_expiry(struct store *st, int64_t *expp)
{
	sqlite3_stmt *s = NULL;
	int rc, e;

	if (st == NULL || expp == NULL)
		return TG_ERR_INVALID;
	if ((rc = sqlite3_prepare_v2(st->db, "SELECT coalesce(max(expires), "
	    "0) FROM orders", -1, &s, NULL)) != SQLITE_OK)
		return store_sqlerr(st, rc);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*expp = sqlite3_column_int64(s, 0);
		e = 0;
	} else
		e = store_sqlerr(st, rc);
	sqlite3_finalize(s);
	return e;
}

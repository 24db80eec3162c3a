/* SPDX-License-Identifier: ISC */
/*
 * Private to src/store/: what store.c, request.c and audit.c share.  Not
 * part of any contract; other modules include store.h and audit.h only.
 */
#ifndef TAPGATE_STORE_INT_H
#define TAPGATE_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/audit.h"
#include "store/store.h"

/* PRAGMA application_id of every tapgate database: "tapg". */
#define STORE_APP_ID	0x74617067

/* One cached prepared statement per slot; the SQL lives at its user. */
enum store_slot {
	SLOT_BEGIN,
	SLOT_COMMIT,
	SLOT_ROLLBACK,
	SLOT_REQ_INSERT,
	SLOT_REQ_GET,
	SLOT_REQ_GET_IDEM,
	SLOT_REQ_EXISTS,
	SLOT_REQ_SET_STATE,
	SLOT_REQ_SET_HOLD,
	SLOT_REQ_SET_DIRECTORY,
	SLOT_REQ_LIST_ALL,
	SLOT_REQ_LIST_QUEUE,
	SLOT_REQ_LIST_STATE,
	SLOT_REQ_LIST_BOTH,
	SLOT_REQ_HOLD_DUE,
	SLOT_REQ_COUNTS,
	SLOT_EV_INSERT,
	SLOT_EV_LIST,
	SLOT_DEC_INSERT,
	SLOT_DEC_LIST,
	SLOT_AUDIT_LAST,
	SLOT_AUDIT_INSERT,
	SLOT_AUDIT_ALL,
	SLOT_AUDIT_TAIL,
	SLOT_AUDIT_REQUEST,
	SLOT_AUDIT_ALARMS,
	SLOT_APPROVER_INSERT,
	SLOT_APPROVER_LIST_ALL,
	SLOT_APPROVER_LIST_ACTIVE,
	SLOT_APPROVER_BY_CRED,
	SLOT_APPROVER_SET_COUNT,
	SLOT_APPROVER_REVOKE_ID,
	SLOT_APPROVER_REVOKE_NAME,
	SLOT_APPROVAL_INSERT,
	SLOT_APPROVAL_LIST,
	SLOT_ORDER_INSERT,
	SLOT_ORDER_BY_REQUEST,
	SLOT_ORDER_REDEEM,
	SLOT_RECENT_RECOVERIES,
	SLOT_REVOCATION_INSERT,
	SLOT_REVOCATION_GET,
	SLOT_REVOCATION_LIST,
	SLOT_RECENT_VETOES,
	SLOT_REQ_UNFINISHED,
	SLOT_CONSOLE_INVITE_PUT,
	SLOT_CONSOLE_INVITE_GET,
	SLOT_CONSOLE_INVITE_SET,
	SLOT_CONSOLE_CRED_INSERT,
	SLOT_CONSOLE_CRED_LIST,
	SLOT_CONSOLE_CRED_BY_ID,
	SLOT_CONSOLE_CRED_COUNT,
	SLOT_CONSOLE_CRED_REVOKE_ID,
	SLOT_CONSOLE_CRED_REVOKE_USER,
	SLOT_MAX
};

struct audit_pending;
struct store_batch;

struct store {
	sqlite3			*db;
	char			*path;		/* the database file */
	struct store_batch	*batch;		/* shared commits, or NULL */
	sqlite3_stmt		*stmt[SLOT_MAX];
	int			 journal;	/* audit to journald too */
	audit_sink		*sink;		/* and to this, after commit */
	void			*sink_arg;
	struct audit_pending	*pending;	/* this transaction's entries */
	struct audit_pending	**pending_tail;
	char			 errmsg[256];
};

/*
 * The migrations, in order: step i, a NULL-terminated list of statements,
 * takes user_version i to i + 1.
 */
extern const char *const *const store_migrations[];
extern const int	 store_nmigrations;

/*
 * The statement for `slot`, reset and unbound.  When the cached one is in
 * use further up the stack (a callback calling back into the store), a
 * private one is prepared; store_done() tells them apart.
 */
int	store_prepare(struct store *st, enum store_slot slot, const char *sql,
	    sqlite3_stmt **sp);

/* Finish with a statement from store_prepare() (NULL is fine). */
void	store_done(struct store *st, enum store_slot slot, sqlite3_stmt *s);

/* Keep sqlite's message for store_errmsg() and map rc to TG_ERR_*. */
int	store_sqlerr(struct store *st, int rc);

/* 1 inside a transaction. */
int	store_in_txn(const struct store *st);

/* Bind a string, or NULL when s is NULL; TG_ERR_* on failure. */
int	store_bind_text(struct store *st, sqlite3_stmt *s, int i,
	    const char *s_val);

/* Bind an integer. */
int	store_bind_int(struct store *st, sqlite3_stmt *s, int i, int64_t v);

/* Bind an integer, or NULL when v is 0. */
int	store_bind_int_or_null(struct store *st, sqlite3_stmt *s, int i,
	    int64_t v);

/*
 * A string field: TG_ERR_INVALID when missing (and required) or empty,
 * TG_ERR_TOO_LONG over `max` bytes.
 */
int	store_check_str(const char *s, size_t max, int optional);

/* 1 if s is exactly n lower-case hex digits. */
int	store_is_hex(const char *s, size_t n);

/* A number macro as a string literal, for fixed SQL. */
#define STORE_STR_(x)	#x
#define STORE_STR(x)	STORE_STR_(x)

/* Now, in Unix seconds. */
int64_t	store_now(void);

/*
 * Copy a struct of `size` bytes and the strings its `const char *` members
 * at `offs` point to into one allocation, in *outp.
 */
int	store_copy_record(const void *src, size_t size, const size_t *offs,
	    size_t noffs, void **outp);

/* Send (when `send`) and free the pending journald entries. */
void	audit_pending_flush(struct store *st, int send);

/* Whether journald looks present: the default for st->journal. */
int	audit_journal_default(void);

#endif /* TAPGATE_STORE_INT_H */

/* SPDX-License-Identifier: ISC */
/*
 * Who hears of a request, and the veto codes they were sent (schema
 * version 9): the owner and the manager on record, each reached by one
 * channel and destination; every veto code only as its hash (the engine
 * hashes and compares); the wrong codes tried on a request, counted.
 * Writes need the caller's open transaction (TG_ERR_TXN otherwise).
 */
#ifndef TAPGATE_STORE_NOTIFY_H
#define TAPGATE_STORE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_RECIPIENTS_MAX	2	/* owner, manager */
#define STORE_VETO_CODES_MAX	16	/* codes kept per request */
#define STORE_DEST_MAX		256
#define STORE_CODE_HASH_LEN	64	/* hex SHA-256 */

struct store_recipient {
	char	role[16];		/* "owner", "manager" */
	char	channel[16];		/* "mail", "sms", "webhook" */
	char	destination[STORE_DEST_MAX + 1];
};

struct store_veto_code {
	char	role[16];
	char	hash[STORE_CODE_HASH_LEN + 1];
};

/* Record (or replace) who plays role for request_id. */
int	store_recipient_set(struct store *st, const char *request_id,
	    const struct store_recipient *r, int64_t now);

/*
 * Forget who hears of request_id (in a transaction): their contacts are
 * the directory's, kept only while there is something left to tell.
 */
int	store_recipient_forget(struct store *st, const char *request_id);

/* The recipients of request_id, at most max, in *n.  0 or TG_ERR_*. */
int	store_recipient_list(struct store *st, const char *request_id,
	    struct store_recipient *out, size_t max, size_t *n);

/* Record a code's hash for role; TG_ERR_TOO_LONG past
 * STORE_VETO_CODES_MAX codes for the request. */
int	store_veto_code_add(struct store *st, const char *request_id,
	    const char *role, const char *hash, int64_t now);

/* The codes of request_id, at most max, in *n. */
int	store_veto_code_list(struct store *st, const char *request_id,
	    struct store_veto_code *out, size_t max, size_t *n);

/* The wrong codes tried on request_id so far (0 when none). */
int	store_veto_failed(struct store *st, const char *request_id,
	    int64_t *failed);

/* One more wrong code tried on request_id; the new count in *failed. */
int	store_veto_failed_add(struct store *st, const char *request_id,
	    int64_t *failed);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Challenges the appliance issues and checks itself, and the saved
 * recovery codes of accounts (schema version 9, tables challenges and
 * recovery_codes).  Neither table ever holds a code: a challenge keeps
 * an HMAC-SHA256 of its code under a salt of its own, a recovery code
 * an scrypt hash under a salt of its own.  Writes happen inside a
 * transaction (TG_ERR_TXN otherwise).  Rarely used: the statements are
 * prepared when used, not cached.
 */
#ifndef TAPGATE_STORE_CHALLENGE_H
#define TAPGATE_STORE_CHALLENGE_H

#include <stdint.h>

#include "store/store.h"

#define STORE_CHALLENGE_ID_LEN	32	/* hex */
#define STORE_CHALLENGE_SALT	16	/* bytes */
#define STORE_CHALLENGE_HASH	32	/* bytes */
#define STORE_CHALLENGE_WORD	32	/* kind, channel, state: bytes */
#define STORE_CHALLENGE_DEST	256	/* a masked destination, bytes */

/* One challenge, as stored (strings NUL-terminated copies). */
struct store_challenge {
	char		id[STORE_CHALLENGE_ID_LEN + 1];
	char		request_id[STORE_CHALLENGE_ID_LEN + 1];
	char		kind[STORE_CHALLENGE_WORD + 1];
	char		channel[STORE_CHALLENGE_WORD + 1];  /* evidence's */
	char		destination[STORE_CHALLENGE_DEST + 1]; /* masked */
	uint8_t		salt[STORE_CHALLENGE_SALT];
	uint8_t		code_hash[STORE_CHALLENGE_HASH];
	int64_t		attempts;
	int64_t		max_attempts;
	char		state[STORE_CHALLENGE_WORD + 1]; /* open, answered, */
	int64_t		created;			 /* failed, expired */
	int64_t		expires;
};

/*
 * Record challenge c (state "open", attempts 0) in the open transaction.
 * 0, TG_ERR_INVALID (an id not 32 hex digits, an empty or over-long
 * string), TG_ERR_EXISTS (that id again) or the store's error.
 */
int	store_challenge_add(struct store *st, const struct store_challenge *c);

/* Challenge id into *c: 0, TG_ERR_NOT_FOUND, TG_ERR_INVALID. */
int	store_challenge_get(struct store *st, const char *id,
	    struct store_challenge *c);

/*
 * Set challenge id's attempts and state ("open", "answered", "failed",
 * "expired"), in the open transaction, only while it is open:
 * TG_ERR_CONFLICT when it is no longer (a second answer raced it).
 */
int	store_challenge_set(struct store *st, const char *id,
	    int64_t attempts, const char *state);

/* ---- saved recovery codes */

#define STORE_RECOVERY_SALT	16
#define STORE_RECOVERY_HASH	32

/* One code of an account's standing set (neither used nor revoked). */
struct store_recovery_code {
	int64_t		id;
	uint8_t		salt[STORE_RECOVERY_SALT];
	uint8_t		hash[STORE_RECOVERY_HASH];
};
typedef int	store_recovery_cb(const struct store_recovery_code *,
		    void *);

/* Add one code of set set_id for account (open transaction). */
int	store_recovery_add(struct store *st, const char *account,
	    const char *set_id, const uint8_t salt[STORE_RECOVERY_SALT],
	    const uint8_t hash[STORE_RECOVERY_HASH], int64_t now);

/*
 * Revoke every standing code of account (open transaction); *n (may be
 * NULL) says how many were.
 */
int	store_recovery_revoke(struct store *st, const char *account,
	    int64_t now, int64_t *n);

/* The standing codes of account, oldest first; cb's non-zero stops. */
int	store_recovery_list(struct store *st, const char *account,
	    store_recovery_cb *cb, void *arg);

/*
 * Spend code id (open transaction): TG_ERR_CONFLICT when it was used or
 * revoked meanwhile.
 */
int	store_recovery_use(struct store *st, int64_t id, int64_t now);

#endif

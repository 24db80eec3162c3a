/* SPDX-License-Identifier: ISC */
/* Private to src/token/: shared between its files, not a contract. */
#ifndef TAPGATE_TOKEN_INT_H
#define TAPGATE_TOKEN_INT_H

#include <fido.h>

#include "token.h"

#define SOFTFIDO_PREFIX		"softfido:"

enum token_kind {
	TOKEN_HID = 1,
	TOKEN_SOFTFIDO,
};

struct token {
	fido_dev_t	*dev;
	char		*name;		/* as given to token_open() */
	char		*path;		/* hidraw node or socket path */
	enum token_kind	 kind;
	int		 timeout_ms;
	uint64_t	 op_start_ms;	/* when the current operation began */
};

/* Why the last softfido I/O call failed (sf_conn_state()). */
enum sf_state {
	SF_OK = 0,
	SF_GONE,	/* peer closed, reset, or nobody listening */
	SF_TIMEOUT,	/* read budget ran out */
	SF_BADFRAME,	/* a packet that is not one 64-byte report */
};

/* libfido2 custom I/O hooks speaking to softfido (token_io.c). */
extern const fido_dev_io_t sf_io;

/*
 * Parameters for the next sf_io.open on this thread: libfido2 passes open
 * only the path, so the connect wait travels beside it.
 */
void		sf_io_prepare(int connect_wait_ms);
/* errno of the last failed sf_io.open on this thread (0 if it worked). */
int		sf_io_open_errno(void);
/* State of the last connection closed on this thread. */
enum sf_state	sf_io_closed_state(void);
/* State of an open connection (the handle from fido_dev_io_handle()). */
enum sf_state	sf_conn_state(const void *handle);
/* Forget a transient state (timeout) before the next operation. */
void		sf_conn_clear(void *handle);

/* One-time libfido2 initialisation (thread-safe). */
void		token_fido_init(void);

/*
 * Translate a libfido2 result into TG_ERR_*, looking at the transport to
 * tell a vanished device or an expired budget from a malformed reply.
 */
int		token_map_err(const struct token *tok, int fido_r);

/* Reset per-operation transport state; call before each operation. */
void		token_op_begin(struct token *tok);

/*
 * Which part of a credential list goes into the request that needs the
 * touch (token_list.c): [*first, *end) of ids[0..n).  The whole list when
 * the key takes it at once; else the first batch a silent getAssertion
 * finds one of the key's credentials in (*hit set), or the last batch.
 * reserve is what the rest of that request takes besides its list.
 * TG_ERR_UNSUPPORTED for an id the key cannot be asked about,
 * TG_ERR_TOO_LONG past TOKEN_LIST_MAX, else what the key answered.
 */
int		token_list_pick(struct token *tok, const char *rp_id,
		    const char *pin, size_t reserve,
		    const struct token_cred_id *ids, size_t n, size_t *first,
		    size_t *end, int *hit);

/*
 * Which credential of ids[0..n) (n at least 1) the key holds, asked with
 * a silent getAssertion over every batch in turn: *found is its index.
 * TG_ERR_NO_CREDENTIAL when it holds none; else as token_list_pick().
 */
int		token_list_find(struct token *tok, const char *rp_id,
		    const char *pin, size_t reserve,
		    const struct token_cred_id *ids, size_t n, size_t *found);

/* Monotonic clock in ms. */
uint64_t	token_now_ms(void);

/* Constant-time equality of two byte strings of the same length. */
int		token_memeq(const void *a, const void *b, size_t len);

#endif /* TAPGATE_TOKEN_INT_H */

/* SPDX-License-Identifier: ISC */
/*
 * The token process: the only part of tapgated that opens security keys.
 * libfido2 parses what a key sends (CTAPHID frames, CBOR) in a process of
 * its own that holds neither the co-signing key nor the database; the
 * daemon asks it for an enrolment, an assertion or which credential a
 * key holds (without a touch) over a SOCK_SEQPACKET socketpair in the
 * one message format (common/msg.h) under the table proto_token
 * (daemon/proto.h: one reply of the request's kind to each request), and
 * verifies what comes back itself.  The child is the
 * daemon's own binary re-executed with a role, so it starts from a clean
 * image.  A malformed or unpermitted message from either side ends the
 * exchange: the child exits, the parent kills and restarts it.
 */
#ifndef TAPGATE_TOKENPROC_H
#define TAPGATE_TOKENPROC_H

#include "common/msg.h"
#include "token/token.h"

/* The hidden role argument: `tapgated --token-process FD [ROOTS]`. */
#define TOKENPROC_ARG	"--token-process"

struct tokenproc;

/*
 * Told when the token process broke the protocol (a malformed or oversized
 * reply, or an enrolment it called good that the key did not attest) and
 * was replaced: event "privsep.violation", detail what happened.  Called
 * without the daemon's lock held, from the thread that asked.
 */
typedef void	(*tokenproc_report_fn)(void *ctx, const char *event,
		    const char *detail);

/*
 * Start the token process from the binary at exe.  timeout_ms is the
 * budget of one key operation (touch included).  roots (may be NULL) is
 * the attestation trust roots file, the one file outside the devices that
 * the process may read (enrolment requests must name it).  0 or TG_ERR_*.
 */
int	tokenproc_start(const char *exe, int timeout_ms, const char *roots,
	    tokenproc_report_fn report, void *ctx, struct tokenproc **tp);

/* Stop the child and free; NULL is fine. */
void	tokenproc_stop(struct tokenproc **tp);

/*
 * Enrolment and assertion on the key named device, done by the token
 * process; same contracts as token_enroll() / token_assert(), plus
 * TG_ERR_PROTOCOL when the child broke the protocol (it is restarted).
 * An exclude or allow list of any length up to TOKEN_LIST_MAX goes to the
 * child in as many messages as it takes.  *retries (when retries is not
 * NULL) is always set: after a PIN error (TG_ERR_PIN_INVALID,
 * TG_ERR_PIN_AUTH_BLOCKED, TG_ERR_PIN_BLOCKED) the PIN attempts the key
 * has left, as it said right after (0 to 254), else -1.  Thread-safe:
 * one operation at a time.
 */
int	tokenproc_enroll(struct tokenproc *tp, const char *device,
	    const struct token_enroll_req *req, struct token_credential **credp,
	    int *retries);
int	tokenproc_assert(struct tokenproc *tp, const char *device,
	    const struct token_assert_req *req, struct token_assertion **asp,
	    int *retries);

/*
 * Which of the allowed credentials the key named device holds, asked by
 * the token process without a touch: token_identify()'s contract (req's
 * client data hash is not used), *retries as above, plus TG_ERR_PROTOCOL
 * when the child broke the protocol or named a credential that is not
 * in req->allow.  On success *cred_id (malloc'd, *cred_id_len bytes) is
 * that credential's id.  The answer says which officer to check before
 * the touch, and nothing more: it is not verified.
 */
int	tokenproc_identify(struct tokenproc *tp, const char *device,
	    const struct token_assert_req *req, uint8_t **cred_id,
	    size_t *cred_id_len, int *retries);

/*
 * Parse the payload of the child's reply to an enrolment, an assertion
 * or an identification (the daemon's side of the protocol; exposed for
 * fuzzing and tests).  Returns the child's status, or TG_ERR_PROTOCOL
 * for a malformed reply; *out is set when 0, *retries (may be NULL) as
 * above.  The caller still checks msg_end() for trailing bytes.  An
 * enrolment reply carries what the key sent (authenticatorData, format,
 * attStmt), and the credential comes from token_verify_enrolment() on it
 * against req: a token process that reports a credential the key did not
 * attest gets the verification's error, not an officer.  An
 * identification reply's id is only checked against its bound (1 to
 * TOKEN_CRED_ID_MAX bytes); *id points into rp.
 */
int	tokenproc_enroll_reply(struct msg *rp,
	    const struct token_enroll_req *req, struct token_credential **out,
	    int *retries);
int	tokenproc_assert_reply(struct msg *rp, struct token_assertion **out,
	    int *retries);
int	tokenproc_identify_reply(struct msg *rp, const uint8_t **id,
	    size_t *idlen, int *retries);

/*
 * The child's main loop on fd, confined to the devices and roots (may be
 * NULL); returns the process exit status.
 */
int	tokenproc_main(int fd, const char *roots);

#endif

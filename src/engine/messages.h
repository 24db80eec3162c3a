/* SPDX-License-Identifier: ISC */
/*
 * Messages to people (messages.c): one message {"destination","channel",
 * "subject","text"} for the sender program of its channel (config
 * senders), queued in a transaction's events (txn.h) like a hook event:
 * handed to the hook runner after the commit (eng_events_post), dropped
 * when it rolls back.  Its outcome is audited as message.sent or
 * message.failed by the system, with the channel, the destination masked
 * (dir_mask_mail, dir_mask_phone) and the recipient's role, never the
 * text: it may hold a code.
 */
#ifndef TAPGATE_ENGINE_MESSAGES_H
#define TAPGATE_ENGINE_MESSAGES_H

#include "engine/engine_int.h"
#include "engine/txn.h"

#define ENG_MSG_DEST_MAX	256	/* a destination, in bytes */
#define ENG_MSG_SUBJECT_MAX	200	/* one line */
#define ENG_MSG_TEXT_MAX	4096	/* lines of printable text */

/*
 * Queue one message on channel ("mail", "sms", "webhook") to destination
 * (printable, no control character), with subject (one printable line)
 * and text (printable lines).  0; TG_ERR_NOT_FOUND when no sender serves
 * that channel (the caller may refuse in words); TG_ERR_INVALID for a
 * channel, destination, subject or text out of its bounds; TG_ERR_NOMEM
 * (also when the transaction's queue is full).
 */
int	eng_message_queue(struct tapgated *d, struct events *evs,
	    const char *channel, const char *destination, const char *subject,
	    const char *text);

/*
 * eng_message_queue() about request id (NULL for none) to a recipient
 * named by role ("owner", "manager", "officer", "security_team", or NULL):
 * both are recorded in the audit entry of its outcome.
 */
int	eng_message_queue_about(struct tapgated *d, struct events *evs,
	    const char *id, const char *recipient, const char *channel,
	    const char *destination, const char *subject, const char *text);

/*
 * eng_message_queue_about() to a configured contact: "mail:ADDR",
 * "sms:NUMBER", "webhook:NAME", or a bare mail address.
 */
int	eng_message_queue_contact(struct tapgated *d, struct events *evs,
	    const char *id, const char *recipient, const char *contact,
	    const char *subject, const char *text);

/*
 * The queued form of a message (what eng_events_post() hands to the
 * runner), in *out: for a caller that posts it itself.  As
 * eng_message_queue_about().
 */
int	eng_message_new(struct tapgated *d, const char *id,
	    const char *recipient, const char *channel,
	    const char *destination, const char *subject, const char *text,
	    json_t **out);

/*
 * Veto codes: ENG_VETO_CODE_CHARS characters of an alphabet without
 * look-alikes (no 0, 1, I, O), 60 bits from the CSPRNG, written in groups
 * of four ("K7PQ-RX2M-9WHT", ENG_VETO_CODE_LEN bytes and a NUL).  0 or
 * TG_ERR_INTERNAL (no randomness).
 */
#define ENG_VETO_CODE_CHARS	12
#define ENG_VETO_CODE_LEN	14
int	eng_veto_code_new(char code[ENG_VETO_CODE_LEN + 1]);

/*
 * The hash a code is kept as, for request id: hex SHA-256 (65 bytes with
 * the NUL) of the code as typed, upper-cased, without '-' and spaces.
 * 0, or TG_ERR_INVALID when what is left is not ENG_VETO_CODE_CHARS
 * characters of the alphabet.
 */
int	eng_veto_code_hash(const char *id, const char *code, char hex[65]);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The change vocabulary of each queue: the exact JSON an order's
 * "changes" may hold for its queue, and nothing else.  One table, read
 * by the daemon at submission and by the signer (src/daemon/reqjson.c)
 * and by libtapgate-verify downstream, so what the appliance accepts and
 * what a connector accepts cannot drift apart.  Pure: no I/O, no
 * allocation.
 *
 *   password_reset        {"password": "reset",
 *                          "force_change_at_logon": true | false}
 *   mfa_reset             {"mfa": "reset", "reenrolment_required": true}
 *   reactivation          {"account": "enable"}
 *   privilege_change      {"add_groups": [DN, ...],
 *                          "remove_groups": [DN, ...]}
 *                         each optional, at least one group in all, at
 *                         most VOCAB_GROUPS_MAX per list, no DN twice
 *   transaction_approval  {"transaction_id": ID, "amount": "1234.50",
 *                          "currency": "EUR", "payee": TEXT}
 *
 * Every key listed is required unless said otherwise; any other key is
 * refused.  A DN is RFC 4514 text: type=value RDNs joined by ',' (or
 * '+'), the type a name or an OID, special characters of a value
 * escaped with '\', 3 to VOCAB_DN_MAX bytes.  An ID is 1 to VOCAB_ID_MAX
 * of A-Z a-z 0-9 . _ : / -.  An amount is a decimal string above zero:
 * at most VOCAB_AMOUNT_INT digits, no leading zero, then optionally '.'
 * and 1 to VOCAB_AMOUNT_FRAC digits.  A currency is an ISO 4217
 * alphabetic code: three capitals.  A payee is 1 to VOCAB_PAYEE_MAX
 * bytes of text without control characters or surrounding spaces.
 */
#ifndef TAPGATE_VOCAB_H
#define TAPGATE_VOCAB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define VOCAB_GROUPS_MAX	16	/* DNs in add_groups, remove_groups */
#define VOCAB_DN_MAX		256
#define VOCAB_ID_MAX		64	/* transaction_id */
#define VOCAB_AMOUNT_INT	15	/* digits before the point */
#define VOCAB_AMOUNT_FRAC	4	/* digits after it */
#define VOCAB_PAYEE_MAX		128

/* Whether queue has a vocabulary (one of the five queues above). */
bool	vocab_queue_known(const char *queue);

/*
 * Check changes (NULL when the request or order has none) against the
 * vocabulary of queue.  0, or TG_ERR_INVALID with errbuf naming the
 * member at fault after where: "changes.add_groups: unknown for queue
 * password_reset", "changes.password: missing (required for queue
 * password_reset)", "changes: missing".  errbuf may be NULL when errlen
 * is 0.
 */
int	vocab_check(const char *queue, const json_t *changes,
	    const char *where, char *errbuf, size_t errlen);

#endif

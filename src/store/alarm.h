/* SPDX-License-Identifier: ISC */
/*
 * The last state of each alarm the daemon raises once per change of
 * state, not at every look (an approver group that cannot reach its
 * quorum): whether it stands, and since when.  An alarm is named by its
 * event and the subject it is about ("alarm.quorum_unreachable",
 * "security_officer"); the audit log holds each change, this table only
 * the latest, so that a restart or the next enrolment does not raise
 * the same alarm again.
 */
#ifndef TAPGATE_STORE_ALARM_H
#define TAPGATE_STORE_ALARM_H

#include <stdint.h>

#include "store/store.h"

#define STORE_ALARM_MAX		64	/* an alarm's event name, bytes */
#define STORE_ALARM_SUBJECT_MAX	128	/* what it is about, bytes */

/*
 * Whether alarm stands for subject: *raisedp 1 or 0, and the time it
 * last changed in *sincep (may be NULL).  TG_ERR_NOT_FOUND when no state
 * was ever recorded; TG_ERR_INVALID for an empty or over-long name.
 */
int	store_alarm_get(struct store *st, const char *alarm,
	    const char *subject, int *raisedp, int64_t *sincep);

/*
 * Record alarm's state for subject (raised 0 or 1) as of now, inside the
 * caller's open transaction (TG_ERR_TXN otherwise): inserts or replaces.
 */
int	store_alarm_set(struct store *st, const char *alarm,
	    const char *subject, int raised, int64_t now);

#endif /* TAPGATE_STORE_ALARM_H */

/* SPDX-License-Identifier: ISC */
/*
 * The alarms' last states (store/alarm.h) on real sqlite files: unknown
 * until recorded, recorded only inside a transaction, replaced, kept
 * across a reopen, and gone with a transaction that rolls back.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "store/alarm.h"
#include "store/store.h"
#include "tap.h"

#define QUORUM	"alarm.quorum_unreachable"

static char tmpdir[1024];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
tmp_remove(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

static void
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-alarm.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

/* store_alarm_set() in a transaction of its own. */
static int
set_committed(struct store *st, const char *subject, int raised, int64_t t)
{
	int r;

	if ((r = store_begin(st)) != 0)
		return r;
	if ((r = store_alarm_set(st, QUORUM, subject, raised, t)) != 0) {
		store_rollback(st);
		return r;
	}
	return store_commit(st);
}

static void
alarm_state_is_unknown_until_recorded_and_kept_after(void)
{
	struct store *st = NULL;
	int64_t since = 0;
	int raised = -1;

	tmp_make();
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(store_alarm_get(st, QUORUM, "security_officer", &raised,
	    &since), TG_ERR_NOT_FOUND);
	CHECK_EQ(raised, -1);
	CHECK_EQ(set_committed(st, "security_officer", 1, 1700000000), 0);
	CHECK_EQ(store_alarm_get(st, QUORUM, "security_officer", &raised,
	    &since), 0);
	CHECK_EQ(raised, 1);
	CHECK_EQ(since, 1700000000);
	/* another subject, another alarm: their own states */
	CHECK_EQ(store_alarm_get(st, QUORUM, "it_manager", &raised, NULL),
	    TG_ERR_NOT_FOUND);
	CHECK_EQ(store_alarm_get(st, "alarm.other", "security_officer",
	    &raised, NULL), TG_ERR_NOT_FOUND);
	CHECK_EQ(set_committed(st, "security_officer", 0, 1700000060), 0);
	store_close(&st);
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(store_alarm_get(st, QUORUM, "security_officer", &raised,
	    &since), 0);
	CHECK_EQ(raised, 0);
	CHECK_EQ(since, 1700000060);
	store_close(&st);
	tmp_remove();
}

static void
alarm_state_changes_only_with_its_transaction(void)
{
	struct store *st = NULL;
	int raised = -1;

	tmp_make();
	CHECK_EQ(store_open(tmpdir, &st), 0);
	CHECK_EQ(store_alarm_set(st, QUORUM, "security_officer", 1, 1),
	    TG_ERR_TXN);
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(store_alarm_set(st, QUORUM, "security_officer", 1, 1), 0);
	CHECK_EQ(store_rollback(st), 0);
	CHECK_EQ(store_alarm_get(st, QUORUM, "security_officer", &raised,
	    NULL), TG_ERR_NOT_FOUND);
	store_close(&st);
	tmp_remove();
}

static void
alarm_state_refuses_bad_names_and_states(void)
{
	struct store *st = NULL;
	char longname[STORE_ALARM_SUBJECT_MAX + 2];
	int raised;

	tmp_make();
	CHECK_EQ(store_open(tmpdir, &st), 0);
	memset(longname, 'g', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(store_alarm_set(st, QUORUM, "", 1, 1), TG_ERR_INVALID);
	CHECK_EQ(store_alarm_set(st, QUORUM, NULL, 1, 1), TG_ERR_INVALID);
	CHECK_EQ(store_alarm_set(st, "", "g", 1, 1), TG_ERR_INVALID);
	CHECK_EQ(store_alarm_set(st, QUORUM, longname, 1, 1),
	    TG_ERR_INVALID);
	CHECK_EQ(store_alarm_set(st, QUORUM, "g", 2, 1), TG_ERR_INVALID);
	/* the longest name it takes, exactly */
	longname[STORE_ALARM_SUBJECT_MAX] = '\0';
	CHECK_EQ(store_alarm_set(st, QUORUM, longname, 1, 1), 0);
	CHECK_EQ(store_commit(st), 0);
	CHECK_EQ(store_alarm_get(st, QUORUM, longname, &raised, NULL), 0);
	CHECK_EQ(raised, 1);
	CHECK_EQ(store_alarm_get(st, QUORUM, "g", NULL, NULL),
	    TG_ERR_INVALID);
	store_close(&st);
	tmp_remove();
}

int
main(void)
{
	RUN(alarm_state_is_unknown_until_recorded_and_kept_after);
	RUN(alarm_state_changes_only_with_its_transaction);
	RUN(alarm_state_refuses_bad_names_and_states);
	tmp_remove();
	TAP_EXIT();
}

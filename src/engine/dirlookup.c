/* SPDX-License-Identifier: ISC */
/*
 * Who an account is, asked of the directory (dirlookup.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/dirproc.h"
#include "engine/dirlookup.h"
#include "engine/txn.h"

int
eng_directory_lookup(struct tapgated *d, const char *account,
    struct eng_dir_lookup *lk)
{
	const struct policy_directory *dir = &d->cfg->directory;
	int r;

	memset(lk, 0, sizeof(*lk));
	lk->outcome = DIR_UNAVAILABLE;
	if (!dir->configured)
		return 0;
	lk->configured = true;
	r = dir_name_normalize(dir, account, lk->name, sizeof(lk->name),
	    &lk->fault);
	if (r == TG_ERR_INVALID) {
		lk->refused = true;
		return 0;
	}
	if (r != 0)
		return r;
	if ((lk->facts = calloc(1, sizeof(*lk->facts))) == NULL)
		return TG_ERR_NOMEM;
	/* the network is slow next to the monitor: others go on meanwhile */
	pthread_mutex_unlock(&d->lock);
	r = dirproc_lookup(d->dir, lk->name, &lk->outcome, lk->facts,
	    lk->detail, sizeof(lk->detail));
	pthread_mutex_lock(&d->lock);
	if (r != 0) {
		lk->outcome = DIR_UNAVAILABLE;
		if (lk->detail[0] == '\0')
			snprintf(lk->detail, sizeof(lk->detail), "the "
			    "directory process is gone");
	}
	return 0;
}

void
eng_directory_lookup_clear(struct eng_dir_lookup *lk)
{
	free(lk->facts);
	memset(lk, 0, sizeof(*lk));
}

void
eng_directory_refusal(const struct eng_dir_lookup *lk, const char *account,
    struct engine_result *res, json_t **details)
{
	char msg[512];
	const char *code, *reason;
	int status = 422;

	if (lk->refused) {
		code = "account_refused";
		reason = dir_name_fault_code(lk->fault);
		snprintf(msg, sizeof(msg), "target.account: %s (%s)",
		    dir_name_fault_text(lk->fault), reason);
	} else if (lk->outcome == DIR_NOT_FOUND) {
		code = "account_not_found";
		reason = "not_found";
		snprintf(msg, sizeof(msg), "target.account: the directory has "
		    "no account \"%s\"", lk->name);
	} else if (lk->outcome == DIR_AMBIGUOUS) {
		code = "account_ambiguous";
		reason = "ambiguous";
		snprintf(msg, sizeof(msg), "target.account: more than one "
		    "directory entry matches \"%s\"", lk->name);
	} else {
		status = 503;
		code = "directory_unavailable";
		reason = "directory_unavailable";
		snprintf(msg, sizeof(msg), "the directory did not answer (%s): "
		    "nothing was stored; try again", lk->detail);
	}
	eng_error(res, status, code, msg);
	*details = json_pack("{s:s,s:s,s:s,s:s}", "account_as_sent", account,
	    "account", lk->name, "reason", reason, "detail", status == 503 ?
	    lk->detail : msg);
}

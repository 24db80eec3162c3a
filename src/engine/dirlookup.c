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
	char upn[DIR_UPN_MAX + 1];
	int r, isupn;

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
	/* a UPN is the directory's to match: its prefix is no account */
	if ((isupn = dir_name_upn(dir, account, upn, sizeof(upn))) < 0)
		return isupn;
	if ((lk->facts = calloc(1, sizeof(*lk->facts))) == NULL)
		return TG_ERR_NOMEM;
	/* the network is slow next to the monitor: others go on meanwhile */
	pthread_mutex_unlock(&d->lock);
	r = dirproc_lookup(d->dir, isupn == 1 ? upn : lk->name, &lk->outcome,
	    lk->facts, lk->detail, sizeof(lk->detail));
	pthread_mutex_lock(&d->lock);
	if (r != 0) {
		lk->outcome = DIR_UNAVAILABLE;
		if (lk->detail[0] == '\0')
			snprintf(lk->detail, sizeof(lk->detail), "the "
			    "directory process is gone");
	}
	return 0;
}

int
eng_directory_lookup_dn(struct tapgated *d, const char *dn,
    struct eng_dir_lookup *lk)
{
	int r;

	memset(lk, 0, sizeof(*lk));
	lk->outcome = DIR_UNAVAILABLE;
	if (!d->cfg->directory.configured)
		return 0;
	lk->configured = true;
	if (dn[0] == '\0' || !dir_value_ok(dn, DIR_DN_MAX)) {
		lk->refused = true;
		return 0;
	}
	if ((lk->facts = calloc(1, sizeof(*lk->facts))) == NULL)
		return TG_ERR_NOMEM;
	pthread_mutex_unlock(&d->lock);
	r = dirproc_lookup_dn(d->dir, dn, &lk->outcome, lk->facts,
	    lk->detail, sizeof(lk->detail));
	pthread_mutex_lock(&d->lock);
	if (r != 0)
		lk->outcome = DIR_UNAVAILABLE;
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

int
eng_directory_agent(struct tapgated *d, const char *agent,
    enum eng_agent_verdict *verdict, char *why, size_t cap, char *dn,
    size_t dncap)
{
	const char *group = d->cfg->directory.helpdesk_group;
	struct eng_dir_lookup lk;
	const struct dir_facts *f;
	size_t i;
	int r;

	*verdict = ENG_AGENT_REFUSED;
	if (dncap > 0)
		dn[0] = '\0';
	if ((r = eng_directory_lookup(d, agent, &lk)) != 0)
		return r;
	f = lk.facts;
	if (!lk.configured)
		snprintf(why, cap, "no directory is configured");
	else if (lk.refused)
		snprintf(why, cap, "\"%s\" is no account name: %s", agent,
		    dir_name_fault_text(lk.fault));
	else if (lk.outcome == DIR_UNAVAILABLE) {
		*verdict = ENG_AGENT_UNAVAILABLE;
		snprintf(why, cap, "%s", lk.detail);
	} else if (lk.outcome == DIR_NOT_FOUND)
		snprintf(why, cap, "the directory has no account \"%s\"",
		    agent);
	else if (lk.outcome != DIR_FOUND)
		snprintf(why, cap, "more than one directory entry matches "
		    "\"%s\"", agent);
	else if (strcmp(f->name, agent) != 0)
		snprintf(why, cap, "the directory's account is \"%s\", not "
		    "\"%s\"", f->name, agent);
	else if (f->disabled)
		snprintf(why, cap, "%s is disabled in the directory", f->dn);
	else {
		for (i = 0; i < f->ngroups &&
		    !policy_dn_same(f->groups[i], group); i++)
			;
		if (i < f->ngroups) {
			*verdict = ENG_AGENT_MEMBER;
			if (dncap > 0)
				snprintf(dn, dncap, "%s", f->dn);
		} else if (f->truncated_groups)
			snprintf(why, cap, "%s has more groups than max_groups "
			    "keeps: membership of %s is not known", f->dn,
			    group);
		else
			snprintf(why, cap, "%s is not a member of %s", f->dn,
			    group);
	}
	eng_directory_lookup_clear(&lk);
	return 0;
}

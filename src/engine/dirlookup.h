/* SPDX-License-Identifier: ISC */
/*
 * Who an account is, asked of the directory (dirlookup.c): the name a
 * caller sent, normalised strictly, then looked up by the directory
 * process with the monitor's lock released while the directory answers.
 * Submission calls it before its transaction; the signer's look again
 * before an order is signed will call it too.
 */
#ifndef TAPGATE_ENGINE_DIRLOOKUP_H
#define TAPGATE_ENGINE_DIRLOOKUP_H

#include "daemon/proto.h"
#include "directory/directory.h"
#include "engine/engine_int.h"

/* What a lookup found (eng_directory_lookup). */
struct eng_dir_lookup {
	bool			 configured;	/* false: no directory */
	bool			 refused;	/* the name itself: fault */
	enum dir_name_fault	 fault;
	enum dir_outcome	 outcome;	/* when not refused */
	char			 name[DIR_NAME_MAX + 1];   /* normalised */
	char			 detail[PROTO_DIR_DETAIL_MAX + 1];
	struct dir_facts	*facts;		/* DIR_FOUND: the entry's */
};

/*
 * Look account (as the caller sent it) up in the directory, d->lock held
 * on entry and on return, released while the directory process answers
 * (bounded by its budget, dirproc.h).  Without a directory configured,
 * lk->configured is false and nothing is asked.  Else the name is
 * normalised (dir_name_normalize): refused, lk->refused and lk->fault say
 * why; accepted, lk->outcome is the directory's answer (DIR_UNAVAILABLE
 * when the directory process is gone) and lk->facts the entry's facts
 * when DIR_FOUND.  0, or TG_ERR_NOMEM.  Free with
 * eng_directory_lookup_clear().
 */
int	eng_directory_lookup(struct tapgated *d, const char *account,
	    struct eng_dir_lookup *lk);

/*
 * The entry at dn (a manager's, as the account's entry names it), read at
 * its DN by the directory process (its groups not walked), d->lock as for
 * eng_directory_lookup().  lk->configured false without a directory;
 * lk->refused for a dn that is empty, over DIR_DN_MAX or not text;
 * else lk->outcome, and lk->facts when DIR_FOUND.  0 or TG_ERR_NOMEM.
 */
int	eng_directory_lookup_dn(struct tapgated *d, const char *dn,
	    struct eng_dir_lookup *lk);

/* Release what a lookup holds; safe on a zeroed struct. */
void	eng_directory_lookup_clear(struct eng_dir_lookup *lk);

/*
 * A lookup that did not find exactly one entry, as an answer: 422
 * account_refused (the name: why), account_not_found,
 * account_ambiguous; 503 directory_unavailable.  Also its audit
 * details (new object: account as sent, the reason), in *details.
 */
void	eng_directory_refusal(const struct eng_dir_lookup *lk,
	    const char *account, struct engine_result *res,
	    json_t **details);

/* What the directory says of an agent an integration names. */
enum eng_agent_verdict {
	ENG_AGENT_MEMBER,	/* its account, in the help-desk group */
	ENG_AGENT_REFUSED,	/* not a member, or not that account */
	ENG_AGENT_UNAVAILABLE	/* the directory did not answer */
};

/*
 * Whether agent (requester.agent as an integration sent it) is an
 * account of the directory in its help-desk group
 * (directory.helpdesk_group): looked up as eng_directory_lookup() does
 * (d->lock likewise), then admitted only when exactly one entry matches,
 * its canonical name is agent exactly (no variant of case, space or
 * script), it is not disabled, and one of its groups is the help-desk
 * group (policy_dn_same).  0 with *verdict and, unless a member, why (cap
 * bytes), and the entry's DN in dn (dncap bytes; "" unless a member); or
 * TG_ERR_NOMEM.
 */
int	eng_directory_agent(struct tapgated *d, const char *agent,
	    enum eng_agent_verdict *verdict, char *why, size_t cap, char *dn,
	    size_t dncap);

#endif

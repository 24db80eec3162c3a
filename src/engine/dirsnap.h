/* SPDX-License-Identifier: ISC */
/*
 * The directory's facts about a request's target (dirsnap.c): as the
 * policy reads them (struct policy_dir_facts), and as the snapshot the
 * request stores, audits by digest and shows to officers: the DN, the
 * class and why, the privileged groups, the manager, the contacts
 * masked (never whole), the account type and state.
 */
#ifndef TAPGATE_ENGINE_DIRSNAP_H
#define TAPGATE_ENGINE_DIRSNAP_H

#include <jansson.h>

#include "directory/directory.h"
#include "store/store.h"

/* The policy's view of the facts; its pointers point into the source. */
struct eng_dir_pfacts {
	struct policy_dir_facts	 pf;
	const char		*groups[POLICY_MAX_FACT_GROUPS];
	const char		*types[POLICY_MAX_FACT_TYPES];
};

/* The policy's view of a lookup's facts f (every group). */
void	 eng_dir_pfacts(const struct dir_facts *f, struct eng_dir_pfacts *pf);

/*
 * The snapshot of f under cfg with the decision dec made on it, looked
 * up at time: {account, dn, class, class_reason, privileged_groups,
 * privileged_through, groups_truncated, manager, contacts: {mobile,
 * phone, mail, alt_mail} masked, types, disabled, locked, time};
 * privileged_groups are the groups a class names and the account's own
 * groups that bring one (nested groups); privileged_through says, for
 * each privileged group the account is in only through others,
 * [{group, through: [its own groups that bring it]}].  NULL without
 * memory.
 */
json_t	*eng_dir_snapshot(const struct policy_config *cfg,
	    const struct dir_facts *f, const struct policy_decision *dec,
	    int64_t time);

/* When a snapshot's facts were looked up; -1 when it does not say. */
int64_t	 eng_dir_snapshot_time(const json_t *snap);

/*
 * Whether the privileged groups of f under cfg are those of snapshot
 * snap (the same DNs, in any order).
 */
bool	 eng_dir_same_privileged(const struct policy_config *cfg,
	    const struct dir_facts *f, const json_t *snap);

/*
 * The policy's view of a stored snapshot (its privileged groups, which
 * are every group a class rule names): 0, or TG_ERR_CORRUPT when snap
 * is not one.  pf points into snap.
 */
int	 eng_dir_snapshot_pfacts(const json_t *snap,
	    struct eng_dir_pfacts *pf);

#endif

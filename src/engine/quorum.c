/* SPDX-License-Identifier: ISC */
/*
 * Whether the enrolled officers can reach the quorum the policy needs:
 * counted at start and after every enrolment, revocation and clone
 * suspension, alarmed (and audited) for every approver group that falls
 * short, and shown on the metrics page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "engine/txn.h"

static unsigned
needed_for(const struct policy_config *cfg, const char *group)
{
	const struct policy_rule *rules[POLICY_QUEUE_COUNT *
	    POLICY_CLASS_COUNT + 1];
	size_t n = 0, i, k;
	unsigned need = 0;
	int q, c;

	for (q = 0; q < POLICY_QUEUE_COUNT; q++)
		for (c = 0; c < POLICY_CLASS_COUNT; c++)
			rules[n++] = &cfg->rules[q][c];
	rules[n++] = &cfg->manual_review;
	for (i = 0; i < n; i++)
		for (k = 0; k < rules[i]->napprovals; k++)
			if (strcmp(rules[i]->approvals[k].group, group) == 0 &&
			    rules[i]->approvals[k].count > need)
				need = rules[i]->approvals[k].count;
	return need;
}

/* Distinct (officer, group) pairs enrolled now: as many as there are. */
struct names {
	struct {
		char	name[ENG_NAME_MAX + 1];
		char	group[ENG_NAME_MAX + 1];
	}	*v;
	size_t	 n;
	size_t	 cap;
};

static int
collect_names(const struct store_approver *a, void *arg)
{
	struct names *nm = arg;
	size_t i, cap;
	void *p;

	for (i = 0; i < nm->n; i++)
		if (strcmp(nm->v[i].name, a->name) == 0 &&
		    strcmp(nm->v[i].group, a->group) == 0)
			return 0;
	if (nm->n == nm->cap) {
		cap = nm->cap ? 2 * nm->cap : 16;
		if ((p = reallocarray(nm->v, cap, sizeof(*nm->v))) == NULL)
			return TG_ERR_NOMEM;
		nm->v = p;
		nm->cap = cap;
	}
	snprintf(nm->v[nm->n].name, sizeof(nm->v[0].name), "%s", a->name);
	snprintf(nm->v[nm->n].group, sizeof(nm->v[0].group), "%s", a->group);
	nm->n++;
	return 0;
}

int
engine_quorum_check(struct tapgated *d, int audit_it, int64_t now)
{
	struct names nm;
	json_t *details;
	size_t g, i;
	int bad = 0, r;

	memset(&nm, 0, sizeof(nm));
	if ((r = store_approver_list(d->st, 0, collect_names, &nm)) != 0) {
		free(nm.v);
		return r;
	}
	for (g = 0; g < d->cfg->napprover_groups; g++) {
		const char *group = d->cfg->approver_groups[g];
		unsigned have = 0, need = needed_for(d->cfg, group);

		for (i = 0; i < nm.n; i++)
			if (strcmp(nm.v[i].group, group) == 0)
				have++;
		d->quorum_enrolled[g] = have;
		d->quorum_needed[g] = need;
		if (have >= need)
			continue;
		bad++;
		fprintf(stderr, "tapgated: ALARM: approver group %s has %u "
		    "enrolled officer(s); the policy needs %u: requests that "
		    "need them cannot be approved\n", group, have, need);
		if (!audit_it)
			continue;
		details = json_pack("{s:s,s:i,s:i}", "group", group,
		    "enrolled", (int)have, "needed", (int)need);
		r = eng_audit(d, &eng_system, "alarm.quorum_unreachable", NULL,
		    details, now);
		json_decref(details);
		if (r != 0) {
			free(nm.v);
			return TG_ERR_DB;
		}
	}
	free(nm.v);
	return bad;
}

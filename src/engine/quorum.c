/* SPDX-License-Identifier: ISC */
/*
 * Whether the enrolled officers can reach the quorum the policy needs:
 * counted at start and after every enrolment, revocation and clone
 * suspension, and shown on the metrics page.  The alarm is raised (logged
 * and audited) once per change of state of an approver group, which the
 * store keeps (store/alarm.h): when the group falls short, and
 * "quorum.restored" when it reaches its count again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "engine/txn.h"
#include "store/alarm.h"

#define QUORUM_ALARM	"alarm.quorum_unreachable"

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

/* One approver group's count, and the alarm's state it changes. */
struct quorum_change {
	const char	*group;
	unsigned	 have;
	unsigned	 need;
	const char	*event;		/* what to audit; NULL: nothing */
	const json_t	*details;	/* its details */
	int		 raised;	/* the alarm's new state */
	int64_t		 now;
};

/* The steps of a change: the new state, and its audit entry. */
static int
quorum_steps(struct tapgated *d, void *arg)
{
	const struct quorum_change *c = arg;
	int r;

	if ((r = store_alarm_set(d->st, QUORUM_ALARM, c->group, c->raised,
	    c->now)) != 0 || c->event == NULL)
		return r;
	return eng_audit(d, &eng_system, c->event, NULL, c->details, c->now);
}

static void
quorum_log(const struct quorum_change *c, const char *how)
{
	if (c->raised)
		fprintf(stderr, "tapgated: ALARM: approver group %s has %u "
		    "enrolled officer(s); the policy needs %u: requests that "
		    "need them cannot be approved%s\n", c->group, c->have,
		    c->need, how);
	else
		fprintf(stderr, "tapgated: approver group %s has %u enrolled "
		    "officer(s) again, as many as the policy needs (%u)\n",
		    c->group, c->have, c->need);
}

/*
 * Hold one group's state to the stored one: a change is recorded and
 * audited (an alarm when it became short, quorum.restored when it no
 * longer is; a group seen for the first time raises only when short),
 * in the caller's transaction (in_txn) or in one of its own.
 */
static int
quorum_note(struct tapgated *d, struct quorum_change *c, int in_txn)
{
	json_t *details;
	int stored, r;

	r = store_alarm_get(d->st, QUORUM_ALARM, c->group, &stored, NULL);
	if (r == TG_ERR_NOT_FOUND)
		stored = -1;
	else if (r != 0)
		return r;
	if (stored == c->raised) {
		/* a restart reminds the operator of an alarm that stands */
		if (c->raised && !in_txn)
			quorum_log(c, " (raised before, still so)");
		return 0;
	}
	if (c->raised)
		c->event = QUORUM_ALARM;
	else if (stored == 1)
		c->event = "quorum.restored";
	if (c->event != NULL)
		quorum_log(c, "");
	details = json_pack("{s:s,s:i,s:i}", "group", c->group, "enrolled",
	    (int)c->have, "needed", (int)c->need);
	c->details = details;
	if (in_txn)
		r = quorum_steps(d, c);
	else
		r = eng_txn(d, quorum_steps, c, NULL, NULL, NULL);
	json_decref(details);
	return r;
}

int
engine_quorum_check(struct tapgated *d, int in_txn, int64_t now)
{
	struct quorum_change c;
	struct names nm;
	size_t g, i;
	int bad = 0, r = 0;

	memset(&nm, 0, sizeof(nm));
	if ((r = store_approver_list(d->st, 0, collect_names, &nm)) != 0) {
		free(nm.v);
		return r;
	}
	for (g = 0; g < d->cfg->napprover_groups; g++) {
		memset(&c, 0, sizeof(c));
		c.group = d->cfg->approver_groups[g];
		c.need = needed_for(d->cfg, c.group);
		c.now = now;
		for (i = 0; i < nm.n; i++)
			if (strcmp(nm.v[i].group, c.group) == 0)
				c.have++;
		d->quorum_enrolled[g] = c.have;
		d->quorum_needed[g] = c.need;
		c.raised = c.have < c.need;
		bad += c.raised;
		if ((r = quorum_note(d, &c, in_txn)) != 0) {
			fprintf(stderr, "tapgated: cannot record the quorum "
			    "of approver group %s: %s\n", c.group,
			    tg_strerror(r));
			break;
		}
	}
	free(nm.v);
	return r != 0 ? r : bad;
}

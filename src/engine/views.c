/* SPDX-License-Identifier: ISC */
/*
 * What the web console's pages read: the queues' vocabulary (what a form
 * may ask for, within the caller's team scope) and the operators'
 * dashboard (requests per queue and state, holds with their time left,
 * the last alarms, the quorum of each approver group).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "engine/txn.h"
#include "store/audit.h"

#define VIEWS_ALARMS	20	/* alarm entries the dashboard shows */

/* One member of a queue's "changes", as the form asks for it. */
struct change_field {
	const char	*name;
	const char	*type;	/* "const", "boolean", "dn_list", "id",
				   "amount", "currency", "text" */
	const char	*value;	/* for "const": its JSON text */
	int		 required;
};

static const struct change_field fields_password[] = {
	{ "password", "const", "\"reset\"", 1 },
	{ "force_change_at_logon", "boolean", NULL, 1 },
};
static const struct change_field fields_mfa[] = {
	{ "mfa", "const", "\"reset\"", 1 },
	{ "reenrolment_required", "const", "true", 1 },
};
static const struct change_field fields_reactivation[] = {
	{ "account", "const", "\"enable\"", 1 },
};
static const struct change_field fields_privilege[] = {
	{ "add_groups", "dn_list", NULL, 0 },
	{ "remove_groups", "dn_list", NULL, 0 },
};
static const struct change_field fields_transaction[] = {
	{ "transaction_id", "id", NULL, 1 },
	{ "amount", "amount", NULL, 1 },
	{ "currency", "currency", NULL, 1 },
	{ "payee", "text", NULL, 1 },
};

/* The vocabulary of src/order/vocab.h, for forms: one list a queue. */
static const struct {
	const struct change_field	*f;
	size_t				 n;
} vocab[POLICY_QUEUE_COUNT] = {
	[POLICY_QUEUE_PASSWORD_RESET] = { fields_password, 2 },
	[POLICY_QUEUE_MFA_RESET] = { fields_mfa, 2 },
	[POLICY_QUEUE_REACTIVATION] = { fields_reactivation, 1 },
	[POLICY_QUEUE_PRIVILEGE_CHANGE] = { fields_privilege, 2 },
	[POLICY_QUEUE_TRANSACTION_APPROVAL] = { fields_transaction, 4 },
};

static const char *const challenge_kinds[] = { "out_of_band",
    "manager_confirmation", "recovery_code" };

static json_t *
changes_json(enum policy_queue q)
{
	const struct change_field *f;
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; arr != NULL && i < vocab[q].n; i++) {
		f = &vocab[q].f[i];
		o = json_pack("{s:s,s:s,s:b}", "name", f->name, "type",
		    f->type, "required", f->required);
		if (o != NULL && f->value != NULL)
			json_object_set_new(o, "value", json_loads(f->value,
			    JSON_DECODE_ANY, NULL));
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The queue's entry: its changes, and what a request of it may carry. */
static json_t *
queue_json(const struct policy_config *cfg, enum policy_queue q,
    unsigned classes)
{
	json_t *cl = json_array(), *ch = json_array(), *ev = json_array();
	json_t *kinds = json_array();
	size_t i;
	int c;

	if (cl == NULL || ch == NULL || ev == NULL || kinds == NULL)
		goto fail;
	for (c = 0; c < POLICY_CLASS_COUNT; c++)
		if (classes & (1u << c))
			json_array_append_new(cl, json_string(
			    policy_class_name(c)));
	for (i = 0; i < cfg->nchannels; i++)
		json_array_append_new(ch, json_string(cfg->channels[i]));
	for (c = 0; c < POLICY_EVIDENCE_COUNT; c++)
		json_array_append_new(ev, json_string(
		    policy_evidence_name(c)));
	for (i = 0; i < sizeof(challenge_kinds) / sizeof(challenge_kinds[0]);
	    i++)
		json_array_append_new(kinds, json_string(challenge_kinds[i]));
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "queue",
	    policy_queue_name(q), "changes", changes_json(q), "classes", cl,
	    "channels", ch, "evidence_types", ev, "challenge_kinds", kinds);
fail:
	json_decref(cl);
	json_decref(ch);
	json_decref(ev);
	json_decref(kinds);
	return NULL;
}

int
engine_queues(struct tapgated *d, const struct engine_actor *a,
    struct engine_result *res)
{
	const struct policy_team *t = NULL;
	unsigned queues = ~0u, classes = ~0u;
	json_t *arr, *q;
	int i;

	/* intake: its team's scope; a team not configured reaches nothing */
	if (a->team != NULL) {
		t = policy_team_of(d->cfg, a->team);
		queues = t != NULL ? t->queues : 0;
		classes = t != NULL ? t->classes : 0;
	}
	if ((arr = json_array()) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	for (i = 0; i < POLICY_QUEUE_COUNT; i++) {
		if (!(queues & (1u << i)))
			continue;
		if ((q = queue_json(d->cfg, i, classes)) == NULL ||
		    json_array_append_new(arr, q) != 0) {
			json_decref(arr);
			return eng_db_error(d, res, TG_ERR_NOMEM);
		}
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o}", "queues", arr);
	return res->body != NULL ? 0 : eng_db_error(d, res, TG_ERR_NOMEM);
}

/* ---- the dashboard */

struct dash {
	json_t	*states;	/* queue name -> {state: count} */
	json_t	*holds;
	json_t	*alarms;
	int64_t	 now;
};

static int
count_row(const char *queue, const char *state, int64_t count, void *arg)
{
	struct dash *ds = arg;
	json_t *q = json_object_get(ds->states, queue);

	if (q == NULL) {
		if ((q = json_object()) == NULL ||
		    json_object_set_new(ds->states, queue, q) != 0)
			return TG_ERR_NOMEM;
	}
	return json_object_set_new(q, state, json_integer(count)) == 0 ? 0 :
	    TG_ERR_NOMEM;
}

static int
hold_row(const struct store_request *rw, void *arg)
{
	struct dash *ds = arg;

	return json_array_append_new(ds->holds, json_pack("{s:s,s:s,s:s,s:s,"
	    "s:s,s:I,s:I}", "id", rw->id, "account", rw->target_account,
	    "queue", rw->queue, "class", rw->effective_class, "state",
	    rw->state, "hold_until", (json_int_t)rw->hold_end, "seconds_left",
	    (json_int_t)(rw->hold_end > ds->now ? rw->hold_end - ds->now :
	    0))) == 0 ? 0 : TG_ERR_NOMEM;
}

/* Newest first. */
static int
alarm_row(const struct audit_entry *e, void *arg)
{
	struct dash *ds = arg;
	json_t *details = json_loads(e->details, 0, NULL);

	return json_array_insert_new(ds->alarms, 0, json_pack("{s:I,s:I,s:s,"
	    "s:o}", "seq", (json_int_t)e->seq, "time", (json_int_t)e->time,
	    "event", e->event, "detail", details ? details :
	    json_string(e->details))) == 0 ? 0 : TG_ERR_NOMEM;
}

/* Officers per group: every one enrolled, and those holding a live key. */
struct officers {
	const char	*group;
	json_t		*all;	/* name -> active (bool) */
};

static int
officer_row(const struct store_approver *ap, void *arg)
{
	struct officers *o = arg;

	if (strcmp(ap->group, o->group) != 0)
		return 0;
	if (json_is_true(json_object_get(o->all, ap->name)))
		return 0;
	return json_object_set_new(o->all, ap->name,
	    json_boolean(!ap->revoked)) == 0 ? 0 : TG_ERR_NOMEM;
}

static json_t *
quorum_json(struct tapgated *d, int *err)
{
	struct officers o;
	json_t *arr = json_array(), *v;
	const char *name;
	unsigned active;
	size_t g;

	*err = arr == NULL ? TG_ERR_NOMEM : 0;
	for (g = 0; *err == 0 && g < d->cfg->napprover_groups; g++) {
		o.group = d->cfg->approver_groups[g];
		if ((o.all = json_object()) == NULL) {
			*err = TG_ERR_NOMEM;
			break;
		}
		if ((*err = store_approver_list(d->st, 1, officer_row,
		    &o)) == 0) {
			active = 0;
			json_object_foreach(o.all, name, v)
				active += json_is_true(v);
			if (json_array_append_new(arr, json_pack("{s:s,s:I,"
			    "s:I,s:I}", "group", o.group, "enrolled",
			    (json_int_t)json_object_size(o.all), "active",
			    (json_int_t)active, "needed",
			    (json_int_t)d->quorum_needed[g])) != 0)
				*err = TG_ERR_NOMEM;
		}
		json_decref(o.all);
	}
	if (*err != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int
engine_dashboard(struct tapgated *d, int64_t now, struct engine_result *res)
{
	struct dash ds = { json_object(), json_array(), json_array(), now };
	json_t *queues = json_array(), *quorum = NULL, *st;
	int i, r;

	if (ds.states == NULL || ds.holds == NULL || ds.alarms == NULL ||
	    queues == NULL) {
		r = TG_ERR_NOMEM;
		goto fail;
	}
	if ((r = store_request_counts(d->st, count_row, &ds)) != 0 ||
	    (r = store_request_list(d->st, NULL, policy_state_name(
	    POLICY_STATE_IN_HOLD), STORE_LIST_MAX, hold_row, &ds)) != 0 ||
	    (r = audit_alarms(d->st, VIEWS_ALARMS, alarm_row, &ds)) != 0 ||
	    (quorum = quorum_json(d, &r)) == NULL)
		goto fail;
	for (i = 0; i < POLICY_QUEUE_COUNT; i++) {
		st = json_object_get(ds.states, policy_queue_name(i));
		st = st != NULL ? json_incref(st) : json_object();
		if (json_array_append_new(queues, json_pack("{s:s,s:o}",
		    "queue", policy_queue_name(i), "states", st)) != 0) {
			r = TG_ERR_NOMEM;
			goto fail;
		}
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o,s:o,s:o,s:o}", "queues", queues, "holds",
	    ds.holds, "alarms", ds.alarms, "quorum", quorum);
	json_decref(ds.states);
	return res->body != NULL ? 0 : eng_db_error(d, res, TG_ERR_NOMEM);
fail:
	json_decref(ds.states);
	json_decref(ds.holds);
	json_decref(ds.alarms);
	json_decref(queues);
	json_decref(quorum);
	return eng_db_error(d, res, r);
}

/* SPDX-License-Identifier: ISC */
/*
 * The directory's facts about a request's target (dirsnap.h).
 */
#include <string.h>

#include "common/errors.h"
#include "engine/dirsnap.h"

void
eng_dir_pfacts(const struct dir_facts *f, struct eng_dir_pfacts *pf)
{
	size_t i;

	memset(pf, 0, sizeof(*pf));
	for (i = 0; i < f->ngroups && i < POLICY_MAX_FACT_GROUPS; i++)
		pf->groups[i] = f->groups[i];
	for (i = 0; i < f->ntypes && i < POLICY_MAX_FACT_TYPES; i++)
		pf->types[i] = f->types[i];
	pf->pf.dn = f->dn;
	pf->pf.groups = pf->groups;
	pf->pf.ngroups = f->ngroups < POLICY_MAX_FACT_GROUPS ? f->ngroups :
	    POLICY_MAX_FACT_GROUPS;
	pf->pf.groups_truncated = f->truncated_groups ||
	    f->ngroups > POLICY_MAX_FACT_GROUPS;
	pf->pf.types = pf->types;
	pf->pf.ntypes = f->ntypes < POLICY_MAX_FACT_TYPES ? f->ntypes :
	    POLICY_MAX_FACT_TYPES;
}

/* The values v[0..n) masked by mask, as a JSON array. */
static json_t *
masked(const char v[][DIR_VALUE_MAX + 1], size_t n,
    int (*mask)(const char *, char *, size_t))
{
	char out[DIR_VALUE_MAX + 8];
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (mask(v[i], out, sizeof(out)) != 0)
			snprintf(out, sizeof(out), "%s", DIR_MASK);
		if (json_array_append_new(a, json_string(out)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
strings(const char v[][DIR_VALUE_MAX + 1], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/*
 * The account's privileged groups: those a class names, and of its own
 * groups those that bring one of them (a group it is in only through
 * another is left by leaving that one).
 */
static void
privileged_set(const struct policy_config *cfg, const struct dir_facts *f,
    bool take[DIR_MAX_GROUPS])
{
	bool from[DIR_MAX_GROUPS];
	size_t i, j;

	memset(take, 0, DIR_MAX_GROUPS * sizeof(take[0]));
	for (i = 0; i < f->ngroups && i < DIR_MAX_GROUPS; i++) {
		if (!policy_dir_group_privileged(cfg, f->groups[i]))
			continue;
		take[i] = true;
		dir_group_sources(f, i, from);
		for (j = 0; j < f->ndirect; j++)
			take[j] = take[j] || from[j];
	}
}

static json_t *
privileged(const struct policy_config *cfg, const struct dir_facts *f)
{
	bool take[DIR_MAX_GROUPS];
	json_t *a = json_array();
	size_t i;

	privileged_set(cfg, f, take);
	for (i = 0; a != NULL && i < f->ngroups && i < DIR_MAX_GROUPS; i++)
		if (take[i] &&
		    json_array_append_new(a, json_string(f->groups[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/*
 * How the account holds each privileged group it is not in itself:
 * [{group, through: [its own groups that bring it]}].
 */
static json_t *
privileged_through(const struct policy_config *cfg,
    const struct dir_facts *f)
{
	bool from[DIR_MAX_GROUPS];
	json_t *a = json_array(), *t, *o;
	size_t i, j;

	for (i = f->ndirect; a != NULL && i < f->ngroups &&
	    i < DIR_MAX_GROUPS; i++) {
		if (!policy_dir_group_privileged(cfg, f->groups[i]))
			continue;
		dir_group_sources(f, i, from);
		if ((t = json_array()) == NULL)
			goto fail;
		for (j = 0; j < f->ndirect; j++)
			if (from[j] && json_array_append_new(t,
			    json_string(f->groups[j])) != 0) {
				json_decref(t);
				goto fail;
			}
		o = json_pack("{s:s,s:o}", "group", f->groups[i], "through",
		    t);
		if (o == NULL || json_array_append_new(a, o) != 0)
			goto fail;
	}
	return a;
 fail:
	json_decref(a);
	return NULL;
}

json_t *
eng_dir_snapshot(const struct policy_config *cfg, const struct dir_facts *f,
    const struct policy_decision *dec, int64_t time)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:s,s:{s:o,s:o,"
	    "s:o,s:o},s:o,s:b,s:b}", "time", (json_int_t)time, "account",
	    f->name, "dn", f->dn, "class",
	    policy_class_name(dec->account_class), "class_reason",
	    dec->class_reason, "privileged_groups", privileged(cfg, f),
	    "privileged_through", privileged_through(cfg, f),
	    "groups_truncated", f->truncated_groups, "manager", f->manager,
	    "contacts", "mobile", masked(f->mobile, f->nmobile,
	    dir_mask_phone), "phone", masked(f->phone, f->nphone,
	    dir_mask_phone), "mail", masked(f->mail, f->nmail, dir_mask_mail),
	    "alt_mail", masked(f->alt_mail, f->nalt_mail, dir_mask_mail),
	    "types", strings(f->types, f->ntypes), "disabled", f->disabled,
	    "locked", f->locked);
}

int64_t
eng_dir_snapshot_time(const json_t *snap)
{
	const json_t *t = json_object_get(snap, "time");

	return json_is_integer(t) && json_integer_value(t) >= 0 ?
	    (int64_t)json_integer_value(t) : -1;
}

/* Whether DN dn is among the strings of array a. */
static bool
dn_in(const char *dn, const json_t *a)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (policy_dn_same(dn, json_string_value(v)))
			return true;
	return false;
}

bool
eng_dir_same_privileged(const struct policy_config *cfg,
    const struct dir_facts *f, const json_t *snap)
{
	const json_t *priv = json_object_get(snap, "privileged_groups");
	bool take[DIR_MAX_GROUPS];
	size_t i, n = 0;

	privileged_set(cfg, f, take);
	for (i = 0; i < f->ngroups && i < DIR_MAX_GROUPS; i++) {
		if (!take[i])
			continue;
		if (!dn_in(f->groups[i], priv))
			return false;
		n++;
	}
	return n == json_array_size(priv);
}

/* The strings of array a into out[0..max); their count, or -1. */
static long
string_array(const json_t *a, const char **out, size_t max)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	json_array_foreach(a, i, v) {
		if ((out[i] = json_string_value(v)) == NULL)
			return -1;
	}
	return (long)json_array_size(a);
}

int
eng_dir_snapshot_pfacts(const json_t *snap, struct eng_dir_pfacts *pf)
{
	long ng, nt;

	memset(pf, 0, sizeof(*pf));
	pf->pf.dn = json_string_value(json_object_get(snap, "dn"));
	ng = string_array(json_object_get(snap, "privileged_groups"),
	    pf->groups, POLICY_MAX_FACT_GROUPS);
	nt = string_array(json_object_get(snap, "types"), pf->types,
	    POLICY_MAX_FACT_TYPES);
	if (pf->pf.dn == NULL || ng < 0 || nt < 0 ||
	    !json_is_boolean(json_object_get(snap, "groups_truncated")))
		return TG_ERR_CORRUPT;
	pf->pf.groups = pf->groups;
	pf->pf.ngroups = (size_t)ng;
	pf->pf.types = pf->types;
	pf->pf.ntypes = (size_t)nt;
	pf->pf.groups_truncated = json_is_true(json_object_get(snap,
	    "groups_truncated"));
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The names of the policy's enumerations, as they appear in the
 * configuration, the API and the audit log.  One table per enumeration,
 * indexed by value, so a name and its value cannot drift apart.
 */
#include <string.h>

#include "common/errors.h"
#include "policy/policy.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const queue_names[] = {
	[POLICY_QUEUE_PASSWORD_RESET] = "password_reset",
	[POLICY_QUEUE_MFA_RESET] = "mfa_reset",
	[POLICY_QUEUE_REACTIVATION] = "reactivation",
	[POLICY_QUEUE_PRIVILEGE_CHANGE] = "privilege_change",
	[POLICY_QUEUE_TRANSACTION_APPROVAL] = "transaction_approval",
};

static const char *const class_names[] = {
	[POLICY_CLASS_STANDARD] = "standard",
	[POLICY_CLASS_SHARED] = "shared",
	[POLICY_CLASS_FINANCE] = "finance",
	[POLICY_CLASS_ADMIN] = "admin",
};

static const char *const evidence_names[] = {
	[POLICY_EVIDENCE_PRE_REGISTERED_FACTOR] = "pre_registered_factor",
	[POLICY_EVIDENCE_OUT_OF_BAND_CALLBACK] = "out_of_band_callback",
	[POLICY_EVIDENCE_MANAGER_CONFIRMATION] = "manager_confirmation",
	[POLICY_EVIDENCE_IDENTITY_DOCUMENT] = "identity_document",
	[POLICY_EVIDENCE_ACCOUNT_HISTORY] = "account_history",
};

static const char *const risk_names[] = {
	[POLICY_RISK_NEW_DEVICE] = "new_device",
	[POLICY_RISK_UNUSUAL_GEOLOCATION] = "unusual_geolocation",
	[POLICY_RISK_RECENT_COMPROMISE] = "recent_compromise",
	[POLICY_RISK_RECENT_FACTOR_CHANGE] = "recent_factor_change",
};

static const char *const role_names[] = {
	[POLICY_ROLE_INTAKE] = "intake",
	[POLICY_ROLE_OFFICER] = "officer",
	[POLICY_ROLE_DOWNSTREAM] = "downstream",
	[POLICY_ROLE_OPERATOR] = "operator",
};

static const char *const state_names[] = {
	[POLICY_STATE_NEEDS_EVIDENCE] = "needs_evidence",
	[POLICY_STATE_NEEDS_APPROVAL] = "needs_approval",
	[POLICY_STATE_MANUAL_REVIEW] = "manual_review",
	[POLICY_STATE_IN_HOLD] = "in_hold",
	[POLICY_STATE_READY] = "ready",
	[POLICY_STATE_VETOED] = "vetoed",
	[POLICY_STATE_DENIED] = "denied",
	[POLICY_STATE_SIGN_FAILED] = "sign_failed",
	[POLICY_STATE_EXPIRED] = "expired",
};

static const char *const route_names[] = {
	[POLICY_ROUTE_NORMAL] = "normal",
	[POLICY_ROUTE_MANUAL_REVIEW] = "manual_review",
};

static const char *const class_source_names[] = {
	[POLICY_CLASS_SOURCE_DEFAULT] = "default",
	[POLICY_CLASS_SOURCE_CLAIM] = "claim",
	[POLICY_CLASS_SOURCE_ACCOUNT] = "account",
	[POLICY_CLASS_SOURCE_PATTERN] = "pattern",
	[POLICY_CLASS_SOURCE_GROUP] = "group",
	[POLICY_CLASS_SOURCE_SYSTEM] = "system",
	[POLICY_CLASS_SOURCE_NO_DIRECTORY] = "no_directory",
	[POLICY_CLASS_SOURCE_DIR_GROUP] = "directory_group",
	[POLICY_CLASS_SOURCE_DIR_OU] = "directory_ou",
	[POLICY_CLASS_SOURCE_DIR_TYPE] = "directory_type",
	[POLICY_CLASS_SOURCE_NO_FACTS] = "no_facts",
};

static const char *const verdict_names[] = {
	[POLICY_EVIDENCE_COUNTED] = "counted",
	[POLICY_EVIDENCE_FAILED] = "failed",
	[POLICY_EVIDENCE_REQUEST_CHANNEL] = "request_channel",
	[POLICY_EVIDENCE_RECOVERED_CHANNEL] = "recovered_channel",
	[POLICY_EVIDENCE_SELF_VERIFIED] = "self_verified",
	[POLICY_EVIDENCE_DUPLICATE] = "duplicate",
	[POLICY_EVIDENCE_REQUESTER_VERIFIED] = "requester_verified",
};

static const char *const origin_names[] = {
	[POLICY_ORIGIN_AGENT] = "agent",
	[POLICY_ORIGIN_APPLIANCE] = "appliance",
	[POLICY_ORIGIN_OFFICER] = "officer",
};

static const char *const fault_names[] = {
	[POLICY_APPROVER_OK] = "ok",
	[POLICY_APPROVER_NOT_USER_VERIFIED] = "not_user_verified",
	[POLICY_APPROVER_IS_REQUESTER] = "is_requester",
	[POLICY_APPROVER_IS_TARGET] = "is_target",
	[POLICY_APPROVER_ALREADY_APPROVED] = "already_approved",
	[POLICY_APPROVER_CREDENTIAL_REUSED] = "credential_reused",
	[POLICY_APPROVER_NOT_AWAITING_APPROVAL] = "not_awaiting_approval",
	[POLICY_APPROVER_GROUP_NOT_NEEDED] = "group_not_needed",
};

/* The tables must cover their enumerations exactly. */
_Static_assert(NELEM(queue_names) == POLICY_QUEUE_COUNT, "queue names");
_Static_assert(NELEM(class_names) == POLICY_CLASS_COUNT, "class names");
_Static_assert(NELEM(evidence_names) == POLICY_EVIDENCE_COUNT,
    "evidence names");
_Static_assert(NELEM(risk_names) == POLICY_RISK_COUNT, "risk names");
_Static_assert(NELEM(origin_names) == POLICY_ORIGIN_COUNT, "origin names");
_Static_assert(NELEM(role_names) == POLICY_ROLE_COUNT, "role names");
_Static_assert(NELEM(state_names) == POLICY_STATE_COUNT, "state names");

/* An enum value is untrusted here (it may come from a cast): unsigned. */
static const char *
name_of(const char *const *names, size_t n, unsigned v)
{
	if (v >= n || names[v] == NULL)
		return "?";
	return names[v];
}

static int
parse_in(const char *const *names, size_t n, const char *s, unsigned *v)
{
	size_t i;

	if (s == NULL)
		return TG_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], s) == 0) {
			*v = (unsigned)i;
			return 0;
		}
	}
	return TG_ERR_INVALID;
}

const char *
policy_queue_name(enum policy_queue q)
{
	return name_of(queue_names, NELEM(queue_names), (unsigned)q);
}

int
policy_queue_parse(const char *s, enum policy_queue *q)
{
	unsigned v;
	int r;

	if ((r = parse_in(queue_names, NELEM(queue_names), s, &v)) != 0)
		return r;
	*q = (enum policy_queue)v;
	return 0;
}

const char *
policy_class_name(enum policy_class c)
{
	return name_of(class_names, NELEM(class_names), (unsigned)c);
}

int
policy_class_parse(const char *s, enum policy_class *c)
{
	unsigned v;
	int r;

	if ((r = parse_in(class_names, NELEM(class_names), s, &v)) != 0)
		return r;
	*c = (enum policy_class)v;
	return 0;
}

const char *
policy_evidence_name(enum policy_evidence_type t)
{
	return name_of(evidence_names, NELEM(evidence_names), (unsigned)t);
}

int
policy_evidence_parse(const char *s, enum policy_evidence_type *t)
{
	unsigned v;
	int r;

	if ((r = parse_in(evidence_names, NELEM(evidence_names), s, &v)) != 0)
		return r;
	*t = (enum policy_evidence_type)v;
	return 0;
}

const char *
policy_origin_name(enum policy_evidence_origin o)
{
	return name_of(origin_names, NELEM(origin_names), (unsigned)o);
}

int
policy_origin_parse(const char *s, enum policy_evidence_origin *o)
{
	unsigned v;
	int r;

	if ((r = parse_in(origin_names, NELEM(origin_names), s, &v)) != 0)
		return r;
	*o = (enum policy_evidence_origin)v;
	return 0;
}

const char *
policy_risk_name(enum policy_risk r)
{
	return name_of(risk_names, NELEM(risk_names), (unsigned)r);
}

int
policy_risk_parse(const char *s, enum policy_risk *rp)
{
	unsigned v;
	int r;

	if ((r = parse_in(risk_names, NELEM(risk_names), s, &v)) != 0)
		return r;
	*rp = (enum policy_risk)v;
	return 0;
}

const char *
policy_role_name(enum policy_role r)
{
	return name_of(role_names, NELEM(role_names), (unsigned)r);
}

int
policy_role_parse(const char *s, enum policy_role *rp)
{
	unsigned v;
	int r;

	if ((r = parse_in(role_names, NELEM(role_names), s, &v)) != 0)
		return r;
	*rp = (enum policy_role)v;
	return 0;
}

const char *
policy_state_name(enum policy_state s)
{
	return name_of(state_names, NELEM(state_names), (unsigned)s);
}

int
policy_state_parse(const char *s, enum policy_state *st)
{
	unsigned v;
	int r;

	if ((r = parse_in(state_names, NELEM(state_names), s, &v)) != 0)
		return r;
	*st = (enum policy_state)v;
	return 0;
}

const char *
policy_route_name(enum policy_route r)
{
	return name_of(route_names, NELEM(route_names), (unsigned)r);
}

const char *
policy_class_source_name(enum policy_class_source s)
{
	return name_of(class_source_names, NELEM(class_source_names),
	    (unsigned)s);
}

const char *
policy_evidence_verdict_name(enum policy_evidence_verdict v)
{
	return name_of(verdict_names, NELEM(verdict_names), (unsigned)v);
}

const char *
policy_approver_fault_name(enum policy_approver_fault f)
{
	return name_of(fault_names, NELEM(fault_names), (unsigned)f);
}

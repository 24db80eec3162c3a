/* SPDX-License-Identifier: ISC */
/*
 * A verified order: what tgv_verify() hands a connector.  Its strings
 * point into the parsed payload, which the order owns.
 */
#include <stdlib.h>

#include "common/errors.h"
#include "common/jcs.h"
#include "verify_int.h"

void
tgv_order_free(struct tgv_order **orderp)
{
	struct tgv_order *o;

	if (orderp == NULL || (o = *orderp) == NULL)
		return;
	json_decref(o->payload);
	free(o->kid);
	free(o->change_json);
	free(o->approvers);
	free(o);
	*orderp = NULL;
}

const char *
tgv_order_jti(const struct tgv_order *o)
{
	return o != NULL ? o->jti : NULL;
}

const char *
tgv_order_iss(const struct tgv_order *o)
{
	return o != NULL ? o->iss : NULL;
}

const char *
tgv_order_aud(const struct tgv_order *o)
{
	return o != NULL ? o->aud : NULL;
}

int64_t
tgv_order_iat(const struct tgv_order *o)
{
	return o != NULL ? o->iat : -1;
}

int64_t
tgv_order_nbf(const struct tgv_order *o)
{
	return o != NULL ? o->nbf : -1;
}

int64_t
tgv_order_exp(const struct tgv_order *o)
{
	return o != NULL ? o->exp : -1;
}

const char *
tgv_order_kid(const struct tgv_order *o)
{
	return o != NULL ? o->kid : NULL;
}

const char *
tgv_order_change_json(const struct tgv_order *o, size_t *lenp)
{
	if (o == NULL)
		return NULL;
	if (lenp != NULL)
		*lenp = o->change_len;
	return o->change_json;
}

const char *
tgv_order_request_id(const struct tgv_order *o)
{
	return o != NULL ? o->request_id : NULL;
}

const char *
tgv_order_queue(const struct tgv_order *o)
{
	return o != NULL ? o->queue : NULL;
}

const char *
tgv_order_target_account(const struct tgv_order *o)
{
	return o != NULL ? o->account : NULL;
}

const char *
tgv_order_target_system(const struct tgv_order *o)
{
	return o != NULL ? o->system : NULL;
}

const char *
tgv_order_target_class(const struct tgv_order *o)
{
	return o != NULL ? o->klass : NULL;
}

size_t
tgv_order_approver_count(const struct tgv_order *o)
{
	return o != NULL ? o->napprovers : 0;
}

const char *
tgv_order_approver(const struct tgv_order *o, size_t i)
{
	return o != NULL && i < o->napprovers ? o->approvers[i] : NULL;
}

bool
tgv_order_approvals_verified(const struct tgv_order *o)
{
	return o != NULL && o->approvals_verified;
}

bool
tgv_order_audit_anchor(const struct tgv_order *o, int64_t *seqp,
    const char **hashp)
{
	if (o == NULL || o->audit_hash == NULL)
		return false;
	if (seqp != NULL)
		*seqp = o->audit_seq;
	if (hashp != NULL)
		*hashp = o->audit_hash;
	return true;
}

int
tgv_order_to_json(const struct tgv_order *o, char **jsonp, size_t *lenp)
{
	json_t *root = NULL, *names = NULL;
	size_t i;
	int r = TGV_ERR_NOMEM;

	if (o == NULL || jsonp == NULL || lenp == NULL)
		return TGV_ERR_INVALID;
	if ((names = json_array()) == NULL)
		goto out;
	for (i = 0; i < o->napprovers; i++)
		if (json_array_append_new(names,
		    json_string(o->approvers[i])) != 0)
			goto out;
	if ((root = json_pack("{s:b, s:O, s:s, s:O, s:I, s:I, s:s, s:s, "
	    "s:s, s:I}", "approvals_verified", o->approvals_verified,
	    "approvers", names, "aud", o->aud, "change",
	    json_object_get(o->payload, "change"), "exp", (json_int_t)o->exp,
	    "iat", (json_int_t)o->iat, "iss", o->iss, "jti", o->jti, "kid",
	    o->kid, "nbf", (json_int_t)o->nbf)) == NULL)
		goto out;
	if (o->audit_hash != NULL && json_object_set_new(root, "audit",
	    json_pack("{s:I,s:s}", "seq", (json_int_t)o->audit_seq, "hash",
	    o->audit_hash)) != 0)
		goto out;
	if ((r = jcs_serialize(root, jsonp, lenp)) != 0)
		r = r == TG_ERR_NOMEM ? TGV_ERR_NOMEM : TGV_ERR_INTERNAL;
out:
	json_decref(names);
	json_decref(root);
	return r;
}

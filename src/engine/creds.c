/* SPDX-License-Identifier: ISC */
/*
 * Officers' credentials as enrolment, approval and the signer share
 * them: lists of credential ids that grow as long as the store is, the
 * approver behind a credential, the short prefix that names one in the
 * logs, and what a security key's error means to the officer at the box.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "engine/creds.h"
#include "engine/txn.h"

int
eng_idlist_add(struct idlist *l, const uint8_t *id, size_t len)
{
	uint8_t **ids;
	size_t *lens, cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 16 : 2 * l->cap;
		if ((ids = reallocarray(l->ids, cap, sizeof(*ids))) == NULL)
			return TG_ERR_NOMEM;
		l->ids = ids;
		if ((lens = reallocarray(l->lens, cap, sizeof(*lens))) == NULL)
			return TG_ERR_NOMEM;
		l->lens = lens;
		l->cap = cap;
	}
	if ((l->ids[l->n] = malloc(len)) == NULL)
		return TG_ERR_NOMEM;
	memcpy(l->ids[l->n], id, len);
	l->lens[l->n++] = len;
	return 0;
}

void
eng_idlist_clear(struct idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->ids[i]);
	free(l->ids);
	free(l->lens);
	memset(l, 0, sizeof(*l));
}

/* store_approver_list callback: every active credential may approve. */
int
eng_collect_allow(const struct store_approver *a, void *arg)
{
	return eng_idlist_add(arg, a->cred_id, a->cred_id_len);
}

int
eng_collect_who(const struct store_approver *a, void *arg)
{
	struct who *w = arg;

	w->id = a->id;
	snprintf(w->name, sizeof(w->name), "%s", a->name);
	snprintf(w->group, sizeof(w->group), "%s", a->group);
	w->revoked = a->revoked;
	w->sign_count = a->sign_count;
	w->pk_ok = token_pubkey_from_raw(a->alg, a->pubkey, a->pubkey_len,
	    &w->pk) == 0;
	snprintf(w->dn, sizeof(w->dn), "%s", a->dn != NULL ? a->dn : "");
	return 0;
}

int
eng_cred_descriptor_add(json_t *list, const uint8_t *id, size_t len)
{
	char *b = NULL;
	int r = 0;

	if (b64url_encode_alloc(id, len, &b) != 0 ||
	    json_array_append_new(list, json_pack("{s:s,s:s}", "type",
	    "public-key", "id", b)) != 0)
		r = TG_ERR_NOMEM;
	free(b);
	return r;
}

void
eng_cred_prefix(const uint8_t *cred, size_t len, char out[17])
{
	char full[64];

	/* never log a whole credential id: a prefix identifies it enough */
	b64url_encode(cred, len < 12 ? len : 12, full);
	snprintf(out, 17, "%.16s", full);
}

/* What a token error means to the officer at the box. */
void
eng_token_answer(struct engine_result *res, int r, const char *what)
{
	char msg[256];
	int status = 409;
	const char *code = "token_error";

	switch (r) {
	case TG_ERR_NO_TOUCH:
	case TG_ERR_TIMEOUT:
		status = 408;
		code = "no_touch";
		break;
	case TG_ERR_DENIED:
		code = "refused_on_key";
		break;
	case TG_ERR_PIN_INVALID:
	case TG_ERR_PIN_BLOCKED:
	case TG_ERR_PIN_AUTH_BLOCKED:
	case TG_ERR_PIN_NOT_SET:
	case TG_ERR_PIN_POLICY:
		status = 403;
		code = "pin";
		break;
	case TG_ERR_DEVICE:
	case TG_ERR_DEVICE_GONE:
	case TG_ERR_INVALID:
		status = 404;
		code = "no_device";
		break;
	case TG_ERR_NO_CREDENTIAL:
		status = 403;
		code = "not_enrolled";
		break;
	case TG_ERR_ATTESTATION:
	case TG_ERR_AAGUID:
		status = 403;
		code = "attestation";
		break;
	}
	snprintf(msg, sizeof(msg), "%s: %s", what, tg_strerror(r));
	eng_error(res, status, code, msg);
}

void
eng_pin_retries(struct engine_result *res, int retries)
{
	json_t *e = json_object_get(res->body, "error");
	const char *code = json_string_value(json_object_get(e, "code"));

	if (retries < 0 || code == NULL || strcmp(code, "pin") != 0)
		return;
	json_object_set_new(e, "retries", json_integer(retries));
}

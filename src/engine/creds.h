/* SPDX-License-Identifier: ISC */
/*
 * Officers' credentials as enrolment, approval and the signer share them
 * (creds.c).
 */
#ifndef TAPGATE_ENGINE_CREDS_H
#define TAPGATE_ENGINE_CREDS_H

#include "engine/engine_int.h"
#include "token/token.h"

/*
 * A list of credential ids that grows as long as the store is: what
 * enrolment excludes is every credential ever enrolled, and a key that
 * holds one must be refused however long the list has become; what an
 * approval allows is every active officer's credential, however many
 * officers there are.
 */
struct idlist {
	uint8_t	**ids;
	size_t	 *lens;
	size_t	  n, cap;
};

/* Add a copy of id; 0 or TG_ERR_NOMEM. */
int	 eng_idlist_add(struct idlist *l, const uint8_t *id, size_t len);
/* Free the ids and empty the list. */
void	 eng_idlist_clear(struct idlist *l);
/* store_approver_list() callback (arg a struct idlist): every active
 * credential may approve. */
int	 eng_collect_allow(const struct store_approver *a, void *arg);

/* The approver behind a credential, copied out of the row. */
struct who {
	int64_t			id;
	char			name[ENG_NAME_MAX + 1];
	char			group[ENG_NAME_MAX + 1];
	int			revoked;
	int64_t			sign_count;
	struct token_pubkey	pk;
	int			pk_ok;
	char			dn[STORE_MAX_DN + 1];	/* "": none */
};

/* store_approver_by_cred() callback (arg a struct who). */
int	 eng_collect_who(const struct store_approver *a, void *arg);

/* Append credential id's WebAuthn descriptor, {"type":"public-key",
 * "id":base64url(id)}, to list (an allowCredentials or
 * excludeCredentials array).  0 or TG_ERR_NOMEM. */
int	 eng_cred_descriptor_add(json_t *list, const uint8_t *id, size_t len);

/* The first 16 characters of a credential id in base64url: what the
 * logs and the audit name a credential by, never the whole id. */
void	 eng_cred_prefix(const uint8_t *cred, size_t len, char out[17]);

/* Answer res with what token error r of `what` means to the officer at
 * the box (408 no touch, 403 PIN, 404 no device, ...). */
void	 eng_token_answer(struct engine_result *res, int r, const char *what);

/* After a PIN error's answer (code "pin", from eng_token_answer() or a
 * refusal built on it): add the PIN attempts the key has left, its
 * "retries", when known (retries >= 0); any other answer is left as it
 * is. */
void	 eng_pin_retries(struct engine_result *res, int retries);

#endif

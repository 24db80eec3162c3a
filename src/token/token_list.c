/* SPDX-License-Identifier: ISC */
/*
 * Credential lists longer than a key takes.  A key says in getInfo how
 * many credential ids one request may carry (maxCredentialCountInList,
 * often 8) and how long one may be; past that it answers
 * CTAP2_ERR_LIMIT_EXCEEDED.  A longer exclude or allow list is cut into
 * batches the key takes, and each batch but the last is asked about with
 * a silent getAssertion (up false, UV by the PIN, so credProtect level 3
 * credentials count): the first batch the key holds a credential of, or
 * else the last one, goes into the request that needs the touch.  No
 * credential is ever left out of the check.  Asked about every batch,
 * the same silent getAssertion says which credential the key holds
 * before any touch is asked (token_identify()).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/errors.h"
#include "token_int.h"

/*
 * CBOR of one PublicKeyCredentialDescriptor besides the id's bytes:
 * {"id": h'..', "type": "public-key"} with a 3-byte length header.
 */
#define DESC_OVERHEAD	24
/* CTAP 2.1: a key that reports no maxMsgSize takes 1024 bytes. */
#define CTAP_MSG_DEFAULT 1024
/* more than any request of ours could fill */
#define CTAP_MSG_CAP	(1024 * 1024)

int
token_list_batch(const struct token_cred_id *ids, size_t n, size_t start,
    const struct token_list_limits *lim, size_t *end)
{
	size_t i, bytes = 0;

	if (ids == NULL || lim == NULL || end == NULL || start >= n ||
	    lim->max_count == 0)
		return TG_ERR_INVALID;
	for (i = start; i < n && i - start < lim->max_count; i++) {
		if ((lim->max_id_len > 0 && ids[i].len > lim->max_id_len) ||
		    ids[i].len > lim->max_bytes - bytes ||
		    DESC_OVERHEAD > lim->max_bytes - bytes - ids[i].len)
			break;
		bytes += ids[i].len + DESC_OVERHEAD;
	}
	if (i == start)
		return TG_ERR_UNSUPPORTED;
	*end = i;
	return 0;
}

/*
 * The key's limits, from a fresh getInfo.  reserve is what the rest of
 * the request takes besides its list.  A key that reports no count is
 * asked one id at a time: any key takes a list of one.
 */
static int
list_limits(struct token *tok, size_t reserve, struct token_list_limits *lim)
{
	fido_cbor_info_t	*ci;
	uint64_t		 count, idlen, msg;
	int			 fr, r = 0;

	if ((ci = fido_cbor_info_new()) == NULL)
		return TG_ERR_NOMEM;
	token_op_begin(tok);
	if ((fr = fido_dev_get_cbor_info(tok->dev, ci)) != FIDO_OK) {
		r = token_map_err(tok, fr);
		goto out;
	}
	count = fido_cbor_info_maxcredcntlst(ci);
	idlen = fido_cbor_info_maxcredidlen(ci);
	msg = fido_cbor_info_maxmsgsiz(ci);
	if (msg == 0)
		msg = CTAP_MSG_DEFAULT;
	else if (msg > CTAP_MSG_CAP)
		msg = CTAP_MSG_CAP;
	lim->max_count = count == 0 ? 1 : count > TOKEN_LIST_MAX ?
	    TOKEN_LIST_MAX : (size_t)count;
	/* an id bound over any id we keep bounds nothing */
	lim->max_id_len = idlen > TOKEN_CRED_ID_MAX ? 0 : (size_t)idlen;
	lim->max_bytes = msg > reserve ? (size_t)msg - reserve : 0;
out:
	fido_cbor_info_free(&ci);
	return r;
}

/*
 * Which of ids[0..n) the key answered with: its index, or n.  CTAP lets
 * a key leave the credential out when it was asked about one only.
 */
static size_t
answered(const fido_assert_t *a, const struct token_cred_id *ids, size_t n)
{
	const unsigned char	*id = fido_assert_id_ptr(a, 0);
	size_t			 i, len = fido_assert_id_len(a, 0);

	if (id == NULL || len == 0)
		return n == 1 ? 0 : n;
	for (i = 0; i < n; i++)
		if (ids[i].len == len && memcmp(ids[i].ptr, id, len) == 0)
			break;
	return i;
}

/*
 * The silent getAssertion over one batch: 0 when the key holds one of its
 * credentials (*which, when not NULL, its index in ids), and
 * TG_ERR_NO_CREDENTIAL when it holds none, else the error (a wrong PIN
 * ends the probing at once: each try costs a retry).  A key that answers
 * with a credential it was not asked about is broken: TG_ERR_PROTOCOL.
 */
static int
probe(struct token *tok, const char *rp_id, const char *pin,
    const struct token_cred_id *ids, size_t n, size_t *which)
{
	fido_assert_t	*a;
	uint8_t		 cdh[TOKEN_CDH_LEN];
	size_t		 i;
	int		 fr, r = 0;

	/* nothing is verified: the challenge only has to be fresh */
	if (RAND_bytes(cdh, sizeof(cdh)) != 1)
		return TG_ERR_INTERNAL;
	if ((a = fido_assert_new()) == NULL)
		return TG_ERR_NOMEM;
	if (fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_rp(a, rp_id) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_FALSE) != FIDO_OK) {
		r = TG_ERR_INVALID;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (fido_assert_allow_cred(a, ids[i].ptr, ids[i].len) !=
		    FIDO_OK) {
			r = TG_ERR_NOMEM;
			goto out;
		}
	token_op_begin(tok);
	if ((fr = fido_dev_get_assert(tok->dev, a, pin)) != FIDO_OK)
		r = token_map_err(tok, fr);
	else if (fido_assert_count(a) < 1 || (i = answered(a, ids, n)) == n)
		r = TG_ERR_PROTOCOL;
	else if (which != NULL)
		*which = i;
out:
	fido_assert_free(&a);
	return r;
}

/*
 * The key's limits, and every id of ids[0..n) checked to fit in a
 * request before the key is asked anything: *last is where the last
 * batch starts.
 */
static int
list_plan(struct token *tok, size_t reserve, const struct token_cred_id *ids,
    size_t n, struct token_list_limits *lim, size_t *last)
{
	size_t s, e;
	int r;

	if ((r = list_limits(tok, reserve, lim)) != 0)
		return r;
	*last = 0;
	for (s = 0; s < n; s = e) {
		if ((r = token_list_batch(ids, n, s, lim, &e)) != 0)
			return r;
		*last = s;
	}
	return 0;
}

int
token_list_pick(struct token *tok, const char *rp_id, const char *pin,
    size_t reserve, const struct token_cred_id *ids, size_t n,
    size_t *first, size_t *end, int *hit)
{
	struct token_list_limits lim;
	size_t s, e, last;
	int r;

	*first = 0;
	*end = n;
	*hit = 0;
	if (n > TOKEN_LIST_MAX)
		return TG_ERR_TOO_LONG;
	/* a list of one is what every key takes */
	if (n <= 1)
		return 0;
	if ((r = list_plan(tok, reserve, ids, n, &lim, &last)) != 0)
		return r;
	for (s = 0; s < last; s = e) {
		(void)token_list_batch(ids, n, s, &lim, &e);
		if ((r = probe(tok, rp_id, pin, ids + s, e - s, NULL)) == 0) {
			*first = s;
			*end = e;
			*hit = 1;
			return 0;
		}
		if (r != TG_ERR_NO_CREDENTIAL)
			return r;
	}
	*first = last;
	(void)token_list_batch(ids, n, last, &lim, end);
	return 0;
}

int
token_list_find(struct token *tok, const char *rp_id, const char *pin,
    size_t reserve, const struct token_cred_id *ids, size_t n,
    size_t *found)
{
	struct token_list_limits lim;
	size_t s, e, last, i;
	int r;

	if (n == 0)
		return TG_ERR_INVALID;
	if (n > TOKEN_LIST_MAX)
		return TG_ERR_TOO_LONG;
	if ((r = list_plan(tok, reserve, ids, n, &lim, &last)) != 0)
		return r;
	/* every batch, the last one too: none answers with a touch */
	for (s = 0; s < n; s = e) {
		(void)token_list_batch(ids, n, s, &lim, &e);
		if ((r = probe(tok, rp_id, pin, ids + s, e - s, &i)) == 0) {
			*found = s + i;
			return 0;
		}
		if (r != TG_ERR_NO_CREDENTIAL)
			return r;
	}
	return TG_ERR_NO_CREDENTIAL;
}

/* SPDX-License-Identifier: ISC */
/*
 * The queues' change vocabulary (vocab.h): one table of keys per queue,
 * each key a type with its bounds, checked in the table's order.  Pure:
 * no I/O, no allocation, no globals but the constant table.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/errors.h"
#include "order/vocab.h"

enum vocab_type {
	VT_WORD,	/* the string named in word, exactly */
	VT_TRUE,	/* the JSON true */
	VT_BOOL,	/* true or false */
	VT_DN_LIST,	/* an array of DNs */
	VT_ID,
	VT_AMOUNT,
	VT_CURRENCY,
	VT_TEXT		/* a payee */
};

struct vocab_key {
	const char	*name;
	enum vocab_type	 type;
	const char	*word;		/* VT_WORD */
	bool		 optional;
};

struct vocab_queue {
	const char		*queue;
	const struct vocab_key	*keys;
	size_t			 nkeys;
	bool			 needs_a_group;	/* the DN lists, in all */
};

static const struct vocab_key password_keys[] = {
	{ "password", VT_WORD, "reset", false },
	{ "force_change_at_logon", VT_BOOL, NULL, false },
};
static const struct vocab_key mfa_keys[] = {
	{ "mfa", VT_WORD, "reset", false },
	{ "reenrolment_required", VT_TRUE, NULL, false },
};
static const struct vocab_key reactivation_keys[] = {
	{ "account", VT_WORD, "enable", false },
};
static const struct vocab_key privilege_keys[] = {
	{ "add_groups", VT_DN_LIST, NULL, true },
	{ "remove_groups", VT_DN_LIST, NULL, true },
};
static const struct vocab_key transaction_keys[] = {
	{ "transaction_id", VT_ID, NULL, false },
	{ "amount", VT_AMOUNT, NULL, false },
	{ "currency", VT_CURRENCY, NULL, false },
	{ "payee", VT_TEXT, NULL, false },
};

#define KEYS(k)	(k), sizeof(k) / sizeof((k)[0])

static const struct vocab_queue queues[] = {
	{ "password_reset", KEYS(password_keys), false },
	{ "mfa_reset", KEYS(mfa_keys), false },
	{ "reactivation", KEYS(reactivation_keys), false },
	{ "privilege_change", KEYS(privilege_keys), true },
	{ "transaction_approval", KEYS(transaction_keys), false },
};

static const struct vocab_queue *
find_queue(const char *queue)
{
	size_t i;

	for (i = 0; queue != NULL && i < sizeof(queues) / sizeof(queues[0]);
	    i++)
		if (strcmp(queue, queues[i].queue) == 0)
			return &queues[i];
	return NULL;
}

bool
vocab_queue_known(const char *queue)
{
	return find_queue(queue) != NULL;
}

/* A caller's member name, fit for a message: 40 printable bytes at most. */
static const char *
shown(const char *s, char out[48])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 40; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static bool
no_control(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* An attribute type of a DN: a name (ALPHA *(ALPHA/DIGIT/-)) or an OID. */
static bool
dn_type(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	if (is_alpha(s[0])) {
		for (i = 1; i < n; i++)
			if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-')
				return false;
		return true;
	}
	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && (s[i] != '.' || i == 0 ||
		    i == n - 1 || s[i - 1] == '.'))
			return false;
	return true;
}

/*
 * RFC 4514 text: type=value pairs joined by ',' or '+'; a value is not
 * empty, and '"', ';', '<', '>' and the separators appear in it only
 * escaped.  No control characters, no space around the whole.
 */
static bool
is_dn(const char *s, size_t n)
{
	size_t i = 0, start;

	if (n < 3 || n > VOCAB_DN_MAX || !no_control(s, n) || s[0] == ' ' ||
	    s[n - 1] == ' ')
		return false;
	while (i < n) {
		for (start = i; i < n && s[i] != '='; i++)
			;
		if (i == n || !dn_type(s + start, i - start))
			return false;
		for (start = ++i; i < n && s[i] != ',' && s[i] != '+'; i++) {
			if (s[i] == '\\') {
				if (++i == n)
					return false;
			} else if (strchr("\";<>", s[i]) != NULL)
				return false;
		}
		if (i == start)
			return false;
		if (i < n && ++i == n)
			return false;	/* a separator ends the DN */
	}
	return true;
}

static bool
is_id(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > VOCAB_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) &&
		    strchr("._:/-", s[i]) == NULL)
			return false;
	return true;
}

static bool
is_amount(const char *s, size_t n)
{
	size_t i, frac;
	bool nonzero = false;

	for (i = 0; i < n && is_digit(s[i]); i++)
		nonzero |= s[i] != '0';
	if (i == 0 || i > VOCAB_AMOUNT_INT || (s[0] == '0' && i > 1))
		return false;
	if (i < n) {
		if (s[i++] != '.')
			return false;
		for (frac = 0; i < n && is_digit(s[i]); i++, frac++)
			nonzero |= s[i] != '0';
		if (frac == 0 || frac > VOCAB_AMOUNT_FRAC || i < n)
			return false;
	}
	return nonzero;
}

static bool
is_currency(const char *s, size_t n)
{
	return n == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static bool
is_text(const char *s, size_t n)
{
	return n > 0 && n <= VOCAB_PAYEE_MAX && no_control(s, n) &&
	    s[0] != ' ' && s[n - 1] != ' ';
}

/* The strings a type takes, for the message when a value is not one. */
static const char *
wanted(const struct vocab_key *k)
{
	switch (k->type) {
	case VT_ID:
		return "must be 1 to 64 of A-Z a-z 0-9 . _ : / -";
	case VT_AMOUNT:
		return "must be a decimal string above zero (\"1234.50\": at "
		    "most 15 digits, no leading zero, at most 4 decimals)";
	case VT_CURRENCY:
		return "must be an ISO 4217 code of three capitals";
	case VT_TEXT:
		return "must be 1 to 128 bytes without control characters or "
		    "surrounding spaces";
	default:
		return "is not allowed";
	}
}

/* One DN list; *ngroups counts its members. */
static int
check_dn_list(const json_t *v, const char *where, const char *name,
    size_t *ngroups, char *err, size_t errlen)
{
	const json_t *g;
	size_t i, j;

	if (!json_is_array(v) || json_array_size(v) > VOCAB_GROUPS_MAX) {
		snprintf(err, errlen, "%s.%s: must be an array of at most %d "
		    "group DNs", where, name, VOCAB_GROUPS_MAX);
		return TG_ERR_INVALID;
	}
	json_array_foreach(v, i, g) {
		if (!json_is_string(g) || !is_dn(json_string_value(g),
		    json_string_length(g))) {
			snprintf(err, errlen, "%s.%s[%zu]: must be a group DN "
			    "(RFC 4514, 3 to %d bytes)", where, name, i,
			    VOCAB_DN_MAX);
			return TG_ERR_INVALID;
		}
		for (j = 0; j < i; j++)
			if (strcasecmp(json_string_value(g),
			    json_string_value(json_array_get(v, j))) == 0) {
				snprintf(err, errlen, "%s.%s[%zu]: the same "
				    "group as [%zu]", where, name, i, j);
				return TG_ERR_INVALID;
			}
	}
	*ngroups += json_array_size(v);
	return 0;
}

static int
check_key(const struct vocab_key *k, const json_t *v, const char *where,
    size_t *ngroups, char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	bool good;

	switch (k->type) {
	case VT_WORD:
		if (json_is_string(v) && strcmp(s, k->word) == 0)
			return 0;
		snprintf(err, errlen, "%s.%s: must be \"%s\"", where, k->name,
		    k->word);
		return TG_ERR_INVALID;
	case VT_TRUE:
		if (json_is_true(v))
			return 0;
		snprintf(err, errlen, "%s.%s: must be true", where, k->name);
		return TG_ERR_INVALID;
	case VT_BOOL:
		if (json_is_boolean(v))
			return 0;
		snprintf(err, errlen, "%s.%s: must be true or false", where,
		    k->name);
		return TG_ERR_INVALID;
	case VT_DN_LIST:
		return check_dn_list(v, where, k->name, ngroups, err, errlen);
	case VT_ID:
		good = json_is_string(v) && is_id(s, n);
		break;
	case VT_AMOUNT:
		good = json_is_string(v) && is_amount(s, n);
		break;
	case VT_CURRENCY:
		good = json_is_string(v) && is_currency(s, n);
		break;
	case VT_TEXT:
		good = json_is_string(v) && is_text(s, n);
		break;
	default:
		good = false;
		break;
	}
	if (good)
		return 0;
	snprintf(err, errlen, "%s.%s: %s", where, k->name, wanted(k));
	return TG_ERR_INVALID;
}

/* A privilege change may not add and remove one group. */
static int
check_both_lists(const json_t *changes, const char *where, char *err,
    size_t errlen)
{
	const json_t *add = json_object_get(changes, "add_groups");
	const json_t *rm = json_object_get(changes, "remove_groups");
	size_t i, j;

	for (i = 0; i < json_array_size(add); i++)
		for (j = 0; j < json_array_size(rm); j++)
			if (strcasecmp(json_string_value(json_array_get(add,
			    i)), json_string_value(json_array_get(rm,
			    j))) == 0) {
				snprintf(err, errlen, "%s.remove_groups[%zu]: "
				    "also in add_groups", where, j);
				return TG_ERR_INVALID;
			}
	return 0;
}

int
vocab_check(const char *queue, const json_t *changes, const char *where,
    char *err, size_t errlen)
{
	const struct vocab_queue *q;
	const json_t *v;
	const char *key;
	char buf[48];
	size_t i, ngroups = 0;
	int r;

	if ((q = find_queue(queue)) == NULL) {
		snprintf(err, errlen, "%s: no change vocabulary for queue "
		    "\"%s\"", where, queue != NULL ? shown(queue, buf) : "");
		return TG_ERR_INVALID;
	}
	if (changes == NULL || json_is_null(changes)) {
		snprintf(err, errlen, "%s: missing", where);
		return TG_ERR_INVALID;
	}
	if (!json_is_object(changes)) {
		snprintf(err, errlen, "%s: must be an object", where);
		return TG_ERR_INVALID;
	}
	/* unknown keys first: a key slipped in must never go unnamed */
	json_object_foreach((json_t *)(uintptr_t)changes, key, v) {
		for (i = 0; i < q->nkeys && strcmp(key, q->keys[i].name) != 0;
		    i++)
			;
		if (i == q->nkeys) {
			snprintf(err, errlen, "%s.%s: unknown for queue %s",
			    where, shown(key, buf), q->queue);
			return TG_ERR_INVALID;
		}
	}
	for (i = 0; i < q->nkeys; i++) {
		if ((v = json_object_get(changes, q->keys[i].name)) == NULL) {
			if (q->keys[i].optional)
				continue;
			snprintf(err, errlen, "%s.%s: missing (required for "
			    "queue %s)", where, q->keys[i].name, q->queue);
			return TG_ERR_INVALID;
		}
		if ((r = check_key(&q->keys[i], v, where, &ngroups, err,
		    errlen)) != 0)
			return r;
	}
	if (q->needs_a_group) {
		if (ngroups == 0) {
			snprintf(err, errlen, "%s: names no group in "
			    "add_groups or remove_groups", where);
			return TG_ERR_INVALID;
		}
		return check_both_lists(changes, where, err, errlen);
	}
	return 0;
}

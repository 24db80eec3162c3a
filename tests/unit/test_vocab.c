/* SPDX-License-Identifier: ISC */
/*
 * The queues' change vocabulary (src/order/vocab.h): a table of changes
 * per queue, each accepted or refused with the exact message naming the
 * key at fault.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/errors.h"
#include "order/vocab.h"
#include "tap.h"

struct vcase {
	const char	*queue;
	const char	*changes;	/* JSON, NULL for none */
	const char	*err;		/* NULL: accepted */
};

#define PW	"password_reset"
#define MFA	"mfa_reset"
#define RE	"reactivation"
#define PRIV	"privilege_change"
#define TX	"transaction_approval"
#define DA	"\"cn=Domain Admins,cn=Users,dc=corp,dc=test\""
#define TXOK	"\"transaction_id\":\"TX-2026/11:7\",\"currency\":\"EUR\"," \
		"\"payee\":\"ACME Supplies Ltd\""

static const struct vcase cases[] = {
	/* password_reset */
	{ PW, "{\"password\":\"reset\",\"force_change_at_logon\":true}", NULL },
	{ PW, "{\"password\":\"reset\",\"force_change_at_logon\":false}",
	    NULL },
	/* the attack: a reset that also grants Domain Admins */
	{ PW, "{\"password\":\"reset\",\"force_change_at_logon\":true,"
	    "\"add_groups\":[" DA "]}",
	    "changes.add_groups: unknown for queue password_reset" },
	{ PW, "{\"password\":\"reset\"}", "changes.force_change_at_logon: "
	    "missing (required for queue password_reset)" },
	{ PW, "{\"force_change_at_logon\":true}",
	    "changes.password: missing (required for queue password_reset)" },
	{ PW, "{\"password\":\"set\",\"force_change_at_logon\":true}",
	    "changes.password: must be \"reset\"" },
	{ PW, "{\"password\":\"reset\",\"force_change_at_logon\":\"yes\"}",
	    "changes.force_change_at_logon: must be true or false" },
	{ PW, "{\"password\":\"reset\",\"force_change_at_logon\":1}",
	    "changes.force_change_at_logon: must be true or false" },
	{ PW, "{\"password\":\"reset\",\"force_change_at_logon\":true,"
	    "\"new_password\":\"hunter2\"}",
	    "changes.new_password: unknown for queue password_reset" },
	{ PW, NULL, "changes: missing" },
	{ PW, "[]", "changes: must be an object" },
	/* mfa_reset */
	{ MFA, "{\"mfa\":\"reset\",\"reenrolment_required\":true}", NULL },
	{ MFA, "{\"mfa\":\"reset\",\"reenrolment_required\":false}",
	    "changes.reenrolment_required: must be true" },
	{ MFA, "{\"mfa\":\"reset\",\"reenrolment_required\":true,"
	    "\"password\":\"reset\"}",
	    "changes.password: unknown for queue mfa_reset" },
	{ MFA, "{}", "changes.mfa: missing (required for queue mfa_reset)" },
	/* reactivation */
	{ RE, "{\"account\":\"enable\"}", NULL },
	{ RE, "{\"account\":\"disable\"}", "changes.account: must be "
	    "\"enable\"" },
	{ RE, "{\"account\":\"enable\",\"remove_groups\":[" DA "]}",
	    "changes.remove_groups: unknown for queue reactivation" },
	/* privilege_change */
	{ PRIV, "{\"add_groups\":[\"cn=vpn-users,ou=groups,dc=corp,dc=test\"]}",
	    NULL },
	{ PRIV, "{\"remove_groups\":[" DA "],\"add_groups\":[]}", NULL },
	{ PRIV, "{\"add_groups\":[\"cn=a\\\\,b+uid=x,dc=t\","
	    "\"1.2.3=x,o=y\"]}", NULL },
	{ PRIV, "{}", "changes: names no group in add_groups or "
	    "remove_groups" },
	{ PRIV, "{\"add_groups\":[],\"remove_groups\":[]}",
	    "changes: names no group in add_groups or remove_groups" },
	{ PRIV, "{\"add_groups\":[\"Domain Admins\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"cn=x,\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"cn=\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"cn=x;o=y\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\" cn=x\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"cn=x\\n,o=y\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"9cn=x\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"cn=x\\\\\"]}",
	    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 "
	    "bytes)" },
	{ PRIV, "{\"add_groups\":[\"cn=x,o=y\",\"CN=X,O=Y\"]}",
	    "changes.add_groups[1]: the same group as [0]" },
	{ PRIV, "{\"add_groups\":[" DA "],\"remove_groups\":[" DA "]}",
	    "changes.remove_groups[0]: also in add_groups" },
	{ PRIV, "{\"add_groups\":\"" "cn=x,o=y" "\"}",
	    "changes.add_groups: must be an array of at most 16 group DNs" },
	{ PRIV, "{\"add_groups\":[\"cn=x\"],\"reason\":\"promotion\"}",
	    "changes.reason: unknown for queue privilege_change" },
	/* transaction_approval */
	{ TX, "{" TXOK ",\"amount\":\"1234.50\"}", NULL },
	{ TX, "{" TXOK ",\"amount\":\"999999999999999.9999\"}", NULL },
	{ TX, "{" TXOK ",\"amount\":\"0.01\"}", NULL },
	{ TX, "{" TXOK ",\"amount\":1234}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"1000000000000000\"}", "changes.amount: "
	    "must be a decimal string above zero (\"1234.50\": at most 15 "
	    "digits, no leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"1.00001\"}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"0.00\"}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"-5\"}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"012\"}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"1e3\"}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{" TXOK ",\"amount\":\"12.\"}", "changes.amount: must be a "
	    "decimal string above zero (\"1234.50\": at most 15 digits, no "
	    "leading zero, at most 4 decimals)" },
	{ TX, "{\"transaction_id\":\"TX-1\",\"amount\":\"5\","
	    "\"currency\":\"eur\",\"payee\":\"P\"}",
	    "changes.currency: must be an ISO 4217 code of three capitals" },
	{ TX, "{\"transaction_id\":\"TX-1\",\"amount\":\"5\","
	    "\"currency\":\"EURO\",\"payee\":\"P\"}",
	    "changes.currency: must be an ISO 4217 code of three capitals" },
	{ TX, "{\"transaction_id\":\"TX 1\",\"amount\":\"5\","
	    "\"currency\":\"EUR\",\"payee\":\"P\"}",
	    "changes.transaction_id: must be 1 to 64 of A-Z a-z 0-9 . _ : / "
	    "-" },
	{ TX, "{\"transaction_id\":\"TX-1\",\"amount\":\"5\","
	    "\"currency\":\"EUR\",\"payee\":\"P\\u0007\"}",
	    "changes.payee: must be 1 to 128 bytes without control characters "
	    "or surrounding spaces" },
	{ TX, "{\"transaction_id\":\"TX-1\",\"amount\":\"5\","
	    "\"currency\":\"EUR\"}",
	    "changes.payee: missing (required for queue "
	    "transaction_approval)" },
	{ TX, "{" TXOK ",\"amount\":\"5\",\"iban\":\"DE00\"}",
	    "changes.iban: unknown for queue transaction_approval" },
	/* no vocabulary, no change */
	{ "fax_reset", "{}", "changes: no change vocabulary for queue "
	    "\"fax_reset\"" },
};

static void
each_queue_takes_its_vocabulary_and_names_the_key_at_fault(void)
{
	char err[256];
	json_t *v;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = NULL;
		if (cases[i].changes != NULL &&
		    (v = json_loads(cases[i].changes, JSON_DECODE_ANY,
		    NULL)) == NULL) {
			printf("#   case %zu: not JSON\n", i);
			CHECK(0);
		}
		err[0] = '\0';
		r = vocab_check(cases[i].queue, v, "changes", err,
		    sizeof(err));
		json_decref(v);
		if (cases[i].err == NULL ? r != 0 : r != TG_ERR_INVALID ||
		    strcmp(err, cases[i].err) != 0) {
			printf("#   case %zu (%s %s): %d \"%s\"\n", i,
			    cases[i].queue, cases[i].changes != NULL ?
			    cases[i].changes : "NULL", r, err);
			CHECK(0);
		}
	}
}

static void
dn_lists_and_payee_are_bounded(void)
{
	char err[256], dn[300];
	json_t *c, *list;
	int i;

	/* VOCAB_GROUPS_MAX groups pass, one more does not */
	c = json_object();
	list = json_array();
	json_object_set_new(c, "add_groups", list);
	for (i = 0; i < VOCAB_GROUPS_MAX; i++) {
		snprintf(dn, sizeof(dn), "cn=g%d,ou=groups,dc=corp,dc=test",
		    i);
		json_array_append_new(list, json_string(dn));
	}
	CHECK_EQ(vocab_check(PRIV, c, "changes", err, sizeof(err)), 0);
	json_array_append_new(list, json_string("cn=one-more,dc=test"));
	CHECK_EQ(vocab_check(PRIV, c, "changes", err, sizeof(err)),
	    TG_ERR_INVALID);
	json_array_clear(list);
	/* a DN of VOCAB_DN_MAX bytes passes, one byte more does not */
	memset(dn, 'x', sizeof(dn));
	memcpy(dn, "cn=", 3);
	dn[VOCAB_DN_MAX] = '\0';
	json_array_append_new(list, json_string(dn));
	CHECK_EQ(vocab_check(PRIV, c, "changes", err, sizeof(err)), 0);
	dn[VOCAB_DN_MAX] = 'x';
	dn[VOCAB_DN_MAX + 1] = '\0';
	json_array_set_new(list, 0, json_string(dn));
	CHECK_EQ(vocab_check(PRIV, c, "changes", err, sizeof(err)),
	    TG_ERR_INVALID);
	json_decref(c);
	CHECK(vocab_queue_known(PW) && vocab_queue_known(TX) &&
	    !vocab_queue_known("Password_reset") && !vocab_queue_known(NULL));
}

static void
unknown_key_is_shown_safely(void)
{
	char err[256];
	json_t *c;

	c = json_pack("{s:s,s:b,s:b}", "password", "reset",
	    "force_change_at_logon", 1,
	    "\x1b[2Jadd_groups_and_a_very_long_name_beyond_forty_bytes", 1);
	CHECK_EQ(vocab_check(PW, c, "changes", err, sizeof(err)),
	    TG_ERR_INVALID);
	json_decref(c);
	CHECK(strcmp(err, "changes.?[2Jadd_groups_and_a_very_long_name_beyo"
	    "...: unknown for queue password_reset") == 0);
}

int
main(void)
{
	RUN(each_queue_takes_its_vocabulary_and_names_the_key_at_fault);
	RUN(dn_lists_and_payee_are_bounded);
	RUN(unknown_key_is_shown_safely);
	TAP_EXIT();
}

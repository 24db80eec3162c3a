/* SPDX-License-Identifier: ISC */
/*
 * policy: configuration loading and the pure evaluation, as tables.
 *
 * The evaluation tables run against TEST_CONF below, whose numbers differ
 * per queue x class (hold 100*queue + 10*class, ttl 500 + that) so a rule
 * looked up in the wrong cell shows.  The shipped config/tapgate.conf is
 * loaded and checked for its invariants separately (tests run from the
 * repository root).
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errors.h"
#include "policy/policy.h"
#include "tap.h"
#include "textsub.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NOW		INT64_C(1700000000)
#define SHIPPED_CONF	"config/tapgate.conf"

/* A failed row prints its name and why, then the test fails. */
#define ROW_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		printf("#   %s:%d: row \"%s\": ", __FILE__, __LINE__,	\
		    row_name);						\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		return false;						\
	}								\
} while (0)

#define SO(n)	"{ group = \"security_officer\"; count = " #n "; }"
#define FC(n)	"{ group = \"finance_controller\"; count = " #n "; }"
#define IT(n)	"{ group = \"it_manager\"; count = " #n "; }"
#define EV(n, t)	"min_passing = " #n "; min_types = " #t ";"
#define RULE(cls, ev, ap, hold, ttl, drop)				\
	"\t\t" cls " = { evidence = { " ev " }; approvals = ( " ap	\
	" ); hold_seconds = " #hold "; order_ttl_seconds = " #ttl	\
	"; drop_entitlements = [ " drop " ]; };\n"
#define ALLPRIV	"\"all_privileged\""

#define FP64	"00112233445566778899aabbccddeeff" \
		"00112233445566778899aabbccddeeff"
#define FP64_BAD "00112233445566778899aabbccddeeff" \
		"00112233445566778899aabbccddeefg"

static const char TEST_CONF[] =
	"# test policy\n"
	"appliance = { id = \"test-01\"; name = \"test appliance\";\n"
	"\trp_id = \"tapgate.test\"; state_dir = \"/var/lib/tapgate-test\";\n"
	"\tsocket = \"/run/tapgate-test.sock\";\n"
	"\torder_issuer = \"tapgate-test\"; };\n"
	"policy = { id = \"test-policy\"; version = 7; };\n"
	"roles = (\n"
	"\t{ uid = 0; roles = [\"intake\", \"officer\", \"downstream\",\n"
	"\t    \"operator\"]; },\n"
	"\t{ uid = 1001; roles = [\"intake\"]; },\n"
	"\t{ gid = 2002; roles = [\"officer\"]; },\n"
	"\t{ gid = 2003; roles = [\"officer\", \"operator\"]; }\n"
	");\n"
	"teams = (\n"
	"\t{ name = \"helpdesk\"; },\n"
	"\t{ name = \"outsourced\"; queues = [\"password_reset\",\n"
	"\t    \"mfa_reset\"]; classes = [\"standard\"];\n"
	"\t    systems = [\"ldap-corp\"]; }\n"
	");\n"
	"principals = (\n"
	"\t{ uid = 1001; name = \"hd-bob\"; team = \"helpdesk\"; },\n"
	"\t{ gid = 3000; name = \"ticketing\"; team = \"helpdesk\";\n"
	"\t    integration = true; agents = [\"hd-amy\", \"hd-bob\"]; },\n"
	"\t{ uid = 1002; name = \"ext-olga\"; team = \"outsourced\"; },\n"
	"\t{ uid = 1003; name = \"ben\"; team = \"helpdesk\";\n"
	"\t    officer = \"officer-ben\"; }\n"
	");\n"
	"channels = [\"phone\", \"email\", \"sms\", \"chat\", \"in_person\",\n"
	"\t\"ticket\", \"video\", \"push\", \"totp\"];\n"
	"approver_groups = [\"security_officer\", \"finance_controller\",\n"
	"\t\"it_manager\"];\n"
	"evidence = { trusted = [\"pre_registered_factor\",\n"
	"\t\"out_of_band_callback\", \"identity_document\"]; };\n"
	"classes = {\n"
	"\tstandard = { accounts = [\"alice\", \"bob\"]; };\n"
	"\tshared = { patterns = [\"svc-*\"];\n"
	"\t\tgroups = [\"Shared Mailboxes\"]; };\n"
	"\tfinance = { accounts = [\"carol\"]; patterns = [\"fin-*\"];\n"
	"\t\tsystems = [\"payments\"]; };\n"
	"\tadmin = { accounts = [\"root\"]; patterns = [\"adm-*\"];\n"
	"\t\tgroups = [\"Domain Admins\"]; };\n"
	"};\n"
	"rules = {\n"
	"\tpassword_reset = {\n"
	RULE("standard", EV(1, 1), "", 0, 600, "")
	RULE("shared", EV(1, 1), SO(1), 110, 610, "")
	RULE("finance", EV(2, 2), SO(1) ", " FC(1), 120, 620,
	    "\"payment_release\"")
	RULE("admin", EV(2, 2) " require_all = [\"identity_document\"];",
	    SO(2), 130, 630, ALLPRIV)
	"\t};\n"
	"\tmfa_reset = {\n"
	RULE("standard", EV(2, 2) " require_one_of = [\"out_of_band_callback\","
	    " \"identity_document\"];", SO(1), 200, 700, "")
	RULE("shared", EV(2, 2), SO(1), 210, 710, "")
	RULE("finance", EV(2, 2), SO(1) ", " FC(1), 220, 720, ALLPRIV)
	RULE("admin", EV(3, 3) " require_all = [\"identity_document\"];",
	    SO(2), 230, 730, ALLPRIV)
	"\t};\n"
	"\treactivation = {\n"
	RULE("standard", EV(1, 1), "", 300, 800, ALLPRIV)
	RULE("shared", EV(1, 1), SO(1), 310, 810, ALLPRIV)
	RULE("finance", EV(2, 2), SO(1) ", " FC(1), 320, 820, ALLPRIV)
	RULE("admin", EV(2, 2), SO(2), 330, 830, ALLPRIV)
	"\t};\n"
	"\tprivilege_change = {\n"
	RULE("standard", EV(1, 1), IT(1), 400, 900, "")
	RULE("shared", EV(1, 1), IT(1) ", " SO(1), 410, 910, "")
	RULE("finance", EV(2, 2), FC(1) ", " SO(1), 420, 920, "")
	RULE("admin", EV(2, 2), SO(2), 430, 930, "")
	"\t};\n"
	"\ttransaction_approval = {\n"
	RULE("standard", EV(1, 1), FC(1), 500, 1000, "")
	RULE("shared", EV(1, 1), FC(1), 510, 1010, "")
	RULE("finance", EV(2, 2) " require_all = [\"manager_confirmation\"];",
	    FC(2), 520, 1020, "")
	RULE("admin", EV(2, 2), FC(1) ", " SO(1), 530, 1030, "")
	"\t};\n"
	"};\n"
	"manual_review = { approvals = ( " SO(2) " ); hold_seconds = 5000;\n"
	"\torder_ttl_seconds = 300; drop_entitlements = [" ALLPRIV "];\n"
	"\tidentity_proofing = false; };\n"
	"risk = {\n"
	"\tnew_device = { extra_hold_seconds = 1000; extra_evidence = 1; };\n"
	"\tunusual_geolocation = { extra_hold_seconds = 2000; };\n"
	"\trecent_compromise = { manual_review = true; };\n"
	"\trecent_factor_change = { };\n"
	"};\n"
	"notify = { hooks = [\"/usr/libexec/tapgate/notify\"];\n"
	"\ttimeout_ms = 2500; };\n";

static struct policy_config *tcfg;	/* TEST_CONF, loaded once */

/* Evidence that satisfies every rule of TEST_CONF over a phone request. */
#define AG POLICY_ORIGIN_AGENT
#define PRF POLICY_EVIDENCE_PRE_REGISTERED_FACTOR
#define OOB POLICY_EVIDENCE_OUT_OF_BAND_CALLBACK
#define MGR POLICY_EVIDENCE_MANAGER_CONFIRMATION
#define IDD POLICY_EVIDENCE_IDENTITY_DOCUMENT
#define HIS POLICY_EVIDENCE_ACCOUNT_HISTORY

static const struct policy_evidence strong[] = {
	{ POLICY_EVIDENCE_PRE_REGISTERED_FACTOR, true, "hd-amy", "push",
	    "push-1", AG },
	{ POLICY_EVIDENCE_OUT_OF_BAND_CALLBACK, true, "hd-amy", "email",
	    "cb-1", AG },
	{ POLICY_EVIDENCE_IDENTITY_DOCUMENT, true, "hd-amy", "video", "id-1",
	    AG },
	{ POLICY_EVIDENCE_MANAGER_CONFIRMATION, true, "mgr-dave", "chat",
	    "mgr-1", AG },
};

/* Approvals from every group, distinct officers and keys. */
static const struct policy_approval everyone[] = {
	{ "security_officer", "so-ann", "cred-ann", true },
	{ "security_officer", "so-ben", "cred-ben", true },
	{ "finance_controller", "fc-cat", "cred-cat", true },
	{ "finance_controller", "fc-dan", "cred-dan", true },
	{ "it_manager", "it-eve", "cred-eve", true },
};

static void
base_request(struct policy_request *req, enum policy_queue q,
    const char *account)
{
	memset(req, 0, sizeof(*req));
	req->queue = q;
	req->account = account;
	req->system = "ldap-corp";
	req->claimed_class = POLICY_CLASS_STANDARD;
	req->recovered_channel = q == POLICY_QUEUE_MFA_RESET ? "sms" : NULL;
	req->agent = "hd-bob";
	req->requester_channel = "phone";
	req->evidence = strong;
	req->nevidence = NELEM(strong);
}

/* The missing codes joined by spaces. */
static const char *
codes(const struct policy_decision *d)
{
	static char buf[2048];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < d->nmissing; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i ? " " : "", d->missing[i].code);
	return buf;
}

static char *
read_text(const char *path)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	buf = calloc(1, POLICY_CONFIG_MAX + 1);
	n = buf != NULL ? fread(buf, 1, POLICY_CONFIG_MAX, f) : 0;
	fclose(f);
	if (buf != NULL && n == 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* ==== configuration ==== */

static void
shipped_config_loads(void)
{
	struct policy_config *cfg = NULL;
	char err[512] = "";
	int r;

	r = policy_config_load_file(SHIPPED_CONF, &cfg, err, sizeof(err));
	if (r != 0)
		printf("#   %s\n", err);
	CHECK_EQ(r, 0);
	CHECK(cfg != NULL);
	CHECK(cfg->policy_version >= 1);
	CHECK(cfg->trusted_evidence != 0);
	CHECK(cfg->manual_review.napprovals > 0);
	CHECK(cfg->appliance.socket[0] == '/');
	policy_config_free(&cfg);
	CHECK(cfg == NULL);
}

static void
shipped_config_gives_uid0_every_role(void)
{
	struct policy_config *cfg = NULL;
	unsigned all = 0;
	int k;

	CHECK_EQ(policy_config_load_file(SHIPPED_CONF, &cfg, NULL, 0), 0);
	for (k = 0; k < POLICY_ROLE_COUNT; k++)
		all |= POLICY_ROLE_BIT(k);
	CHECK_EQ(policy_roles(cfg, 0, NULL, 0), all);
	CHECK_EQ(policy_roles(cfg, 12345, NULL, 0), 0);
	policy_config_free(&cfg);
}

static void
shipped_config_admin_and_finance_always_need_approval(void)
{
	struct policy_config *cfg = NULL;
	int q;

	CHECK_EQ(policy_config_load_file(SHIPPED_CONF, &cfg, NULL, 0), 0);
	for (q = 0; q < POLICY_QUEUE_COUNT; q++) {
		CHECK(cfg->rules[q][POLICY_CLASS_ADMIN].napprovals > 0);
		CHECK(cfg->rules[q][POLICY_CLASS_FINANCE].napprovals > 0);
	}
	policy_config_free(&cfg);
}

/*
 * The shipped policy: every shared, finance and admin rule needs two
 * appliance-verified kinds of evidence.
 */
static void
shipped_config_privileged_classes_need_verified_evidence(void)
{
	struct policy_config *cfg = NULL;
	const struct policy_evidence_rule *e;
	int q, c;

	CHECK_EQ(policy_config_load_file(SHIPPED_CONF, &cfg, NULL, 0), 0);
	for (q = 0; q < POLICY_QUEUE_COUNT; q++)
		for (c = POLICY_CLASS_SHARED; c < POLICY_CLASS_COUNT; c++) {
			e = &cfg->rules[q][c].evidence;
			CHECK(e->min_verified >= 2);
			CHECK(e->min_verified_types >= 2);
		}
	/* and short-lived challenges with few attempts, by default too */
	CHECK_EQ(cfg->challenges.expiry_seconds, 600);
	CHECK_EQ(cfg->challenges.max_attempts, 3);
	CHECK_EQ(tcfg->challenges.expiry_seconds,
	    POLICY_DEFAULT_CHALLENGE_EXPIRY);
	CHECK_EQ(tcfg->challenges.max_attempts,
	    POLICY_DEFAULT_CHALLENGE_TRIES);
	policy_config_free(&cfg);
}

/*
 * Against the shipped policy: an admin password reset on evidence the
 * agent only typed stays in needs_evidence and says, in words, how many
 * appliance-verified kinds it has; appliance items of two kinds (and an
 * identity document an officer recorded) are what moves it on.
 */
static void
typed_evidence_never_makes_an_admin_request_ready(void)
{
	struct policy_evidence ev[6] = {
		{ PRF, true, "hd-amy", "push", "p-1", AG },
		{ OOB, true, "hd-amy", "email", "cb-1", AG },
		{ IDD, true, "hd-amy", "video", "id-1", AG },
		{ MGR, true, "hd-amy", "chat", "m-1", AG },
	};
	const struct policy_approval ap[] = {
		{ "security_officer", "so-ann", "cred-ann", true },
		{ "security_officer", "so-ben", "cred-ben", true } };
	struct policy_progress prog = { ap, 2, 0, false, false, false, 0 };
	struct policy_config *cfg = NULL;
	struct policy_decision d;
	struct policy_request req;

	CHECK_EQ(policy_config_load_file(SHIPPED_CONF, &cfg, NULL, 0), 0);
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	req.evidence = ev;
	req.nevidence = 4;
	CHECK(policy_evaluate(cfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	CHECK_EQ(d.evidence_counted, 4);
	CHECK_EQ(d.evidence_verified, 0);
	CHECK(strcmp(codes(&d), "evidence:verified_types:2 "
	    "evidence:verified:2 hold:seconds:14400") == 0);
	CHECK(strstr(d.missing[0].text, "needs 2 appliance-verified kinds, "
	    "has 0") != NULL);
	/* one appliance-verified kind: has 1 */
	ev[4] = (struct policy_evidence){ OOB, true, "tapgate", "sms",
	    "challenge:1", POLICY_ORIGIN_APPLIANCE };
	req.nevidence = 5;
	CHECK(policy_evaluate(cfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	CHECK(strstr(d.missing[0].text, "needs 2 appliance-verified kinds, "
	    "has 1") != NULL);
	/* an officer's record counts only as an identity document */
	ev[5] = (struct policy_evidence){ MGR, true, "so-cat", "chat",
	    "m-2", POLICY_ORIGIN_OFFICER };
	req.nevidence = 6;
	CHECK(policy_evaluate(cfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	CHECK_EQ(d.evidence_verified, 1);
	ev[5] = (struct policy_evidence){ IDD, true, "so-cat", "video",
	    "passport", POLICY_ORIGIN_OFFICER };
	CHECK(policy_evaluate(cfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.evidence_verified, 2);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	/* the same two kinds, both from the appliance */
	ev[5] = (struct policy_evidence){ MGR, true, "tapgate", "mail",
	    "challenge:2", POLICY_ORIGIN_APPLIANCE };
	ev[5].channel = "email";
	CHECK(policy_evaluate(cfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	policy_config_free(&cfg);
}

/*
 * An item whose verifier is the requester (the agent, or the officer the
 * agent also is) never counts, whatever its origin says.
 */
static void
evidence_verified_by_the_requester_never_counts(void)
{
	const struct policy_evidence ev[] = {
		{ PRF, true, "hd-bob", "push", "p-1", AG },
		{ OOB, true, "officer-ben", "email", "cb-1",
		    POLICY_ORIGIN_OFFICER },
		{ IDD, true, "hd-amy", "video", "id-1", AG },
	};
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "alice");
	req.evidence = ev;
	req.nevidence = NELEM(ev);
	CHECK(policy_evaluate(tcfg, &req, NULL, NOW, &d) == 0);
	CHECK_EQ(d.verdicts[0], POLICY_EVIDENCE_REQUESTER_VERIFIED);
	CHECK_EQ(d.verdicts[1], POLICY_EVIDENCE_COUNTED);
	CHECK_EQ(d.verdicts[2], POLICY_EVIDENCE_COUNTED);
	req.agent = "ben";
	req.agent_officer = policy_officer_of(tcfg, req.agent);
	CHECK(policy_evaluate(tcfg, &req, NULL, NOW, &d) == 0);
	CHECK_EQ(d.verdicts[0], POLICY_EVIDENCE_COUNTED);
	CHECK_EQ(d.verdicts[1], POLICY_EVIDENCE_REQUESTER_VERIFIED);
	CHECK_EQ(d.evidence_counted, 2);
	CHECK(strcmp(policy_evidence_verdict_name(d.verdicts[1]),
	    "requester_verified") == 0);
}

/*
 * The manual route needs identity proofing an officer recorded before its
 * approvals count (shipped policy); and recent_compromise, which forces
 * it, keeps the evidence the rule asks: the request's verified items
 * still count, and their absence is still missing.
 */
static void
manual_route_needs_proofing_and_keeps_the_evidence(void)
{
	struct policy_evidence ev[6] = {
		{ PRF, true, "hd-amy", "push", "p-1", AG },
		{ OOB, true, "hd-amy", "email", "cb-1", AG },
		{ IDD, true, "hd-amy", "video", "id-1", AG },
	};
	const struct policy_approval ap[] = {
		{ "security_officer", "so-ann", "cred-ann", true } };
	struct policy_progress prog = { ap, 1, 0, false, false, false, 0 };
	struct policy_config *cfg = NULL;
	enum policy_approver_fault fault;
	struct policy_decision d;
	struct policy_request req;

	CHECK_EQ(policy_config_load_file(SHIPPED_CONF, &cfg, NULL, 0), 0);
	CHECK(cfg->manual_review.identity_proofing);
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	req.evidence = ev;
	req.nevidence = 3;
	req.risk[POLICY_RISK_RECENT_COMPROMISE] = true;
	CHECK(policy_evaluate(cfg, &req, NULL, NOW, &d) == 0);
	CHECK_EQ(d.route, POLICY_ROUTE_MANUAL_REVIEW);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	/* the admin rule's verified minimum is still asked (was dropped) */
	CHECK_EQ(d.evidence_verified_types_required, 2);
	CHECK_EQ(d.evidence_required, 3);
	CHECK(strstr(codes(&d), "evidence:identity_proofing "
	    "evidence:verified_types:2") == codes(&d));
	/* approvals wait for the evidence */
	CHECK(policy_check_approver(&req, NULL, &d, &ap[0], &fault) ==
	    TG_ERR_POLICY);
	CHECK_EQ(fault, POLICY_APPROVER_NOT_AWAITING_APPROVAL);
	/* two appliance-verified kinds and an officer's proofing */
	ev[3] = (struct policy_evidence){ OOB, true, "tapgate", "sms",
	    "challenge:1", POLICY_ORIGIN_APPLIANCE };
	ev[4] = (struct policy_evidence){ MGR, true, "tapgate", "email",
	    "challenge:2", POLICY_ORIGIN_APPLIANCE };
	req.nevidence = 5;
	CHECK(policy_evaluate(cfg, &req, NULL, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	CHECK(strcmp(codes(&d), "evidence:identity_proofing "
	    "approval:security_officer:2 hold:seconds:345600") == 0);
	ev[5] = (struct policy_evidence){ IDD, true, "so-cat", "in_person",
	    "passport P123", POLICY_ORIGIN_OFFICER };
	req.nevidence = 6;
	CHECK(policy_evaluate(cfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_MANUAL_REVIEW);
	CHECK(d.proofed);
	CHECK_EQ(d.approvals[0].counted, 1);
	/* an identity document the agent typed is no proofing */
	ev[5].origin = AG;
	CHECK(policy_evaluate(cfg, &req, NULL, NOW, &d) == 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	policy_config_free(&cfg);
}

static void
shipped_config_loads_from_memory_too(void)
{
	struct policy_config *a = NULL, *b = NULL;
	char *text = read_text(SHIPPED_CONF);

	CHECK(text != NULL);
	CHECK_EQ(policy_config_load_string(text, &a, NULL, 0), 0);
	free(text);
	CHECK_EQ(policy_config_load_file(SHIPPED_CONF, &b, NULL, 0), 0);
	/* Both paths give the same plain struct (calloc'ed, so padding is
	 * zero in both). */
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	policy_config_free(&a);
	policy_config_free(&b);
}

static void
config_values_are_loaded(void)
{
	const struct policy_rule *r;

	CHECK(strcmp(tcfg->appliance.id, "test-01") == 0);
	CHECK(strcmp(tcfg->appliance.rp_id, "tapgate.test") == 0);
	CHECK(strcmp(tcfg->policy_id, "test-policy") == 0);
	CHECK_EQ(tcfg->policy_version, 7);
	CHECK_EQ(tcfg->nchannels, 9);
	CHECK_EQ(tcfg->notify.nhooks, 1);
	CHECK_EQ(tcfg->notify.timeout_ms, 2500);
	CHECK(strcmp(tcfg->notify.hooks[0], "/usr/libexec/tapgate/notify") ==
	    0);
	r = &tcfg->rules[POLICY_QUEUE_PASSWORD_RESET][POLICY_CLASS_FINANCE];
	CHECK_EQ(r->napprovals, 2);
	CHECK(strcmp(r->approvals[1].group, "finance_controller") == 0);
	CHECK_EQ(r->ndrop, 1);
	CHECK(!r->drop_all_privileged);
	r = &tcfg->rules[POLICY_QUEUE_MFA_RESET][POLICY_CLASS_ADMIN];
	CHECK_EQ(r->evidence.min_passing, 3);
	CHECK_EQ(r->evidence.require_all,
	    POLICY_EVIDENCE_BIT(POLICY_EVIDENCE_IDENTITY_DOCUMENT));
	CHECK(r->drop_all_privileged);
	CHECK_EQ(r->ndrop, 0);
	CHECK_EQ(tcfg->risk[POLICY_RISK_NEW_DEVICE].extra_hold_seconds, 1000);
	CHECK(tcfg->risk[POLICY_RISK_RECENT_COMPROMISE].manual_review);
	CHECK_EQ(tcfg->classes[POLICY_CLASS_STANDARD].npatterns, 0);
	/* not in TEST_CONF: the defaults */
	CHECK_EQ(tcfg->holds.restart_veto_seconds,
	    POLICY_DEFAULT_RESTART_VETO);
	CHECK_EQ(tcfg->holds.stall_seconds, POLICY_DEFAULT_STALL);
}

static void
roles_come_from_uid_and_gids(void)
{
	const uint32_t officer[] = { 100, 2002 };
	const uint32_t both[] = { 2003, 2002 };

	CHECK_EQ(policy_roles(tcfg, 1001, NULL, 0),
	    POLICY_ROLE_BIT(POLICY_ROLE_INTAKE));
	CHECK_EQ(policy_roles(tcfg, 500, officer, 2),
	    POLICY_ROLE_BIT(POLICY_ROLE_OFFICER));
	CHECK_EQ(policy_roles(tcfg, 500, both, 2),
	    POLICY_ROLE_BIT(POLICY_ROLE_OFFICER) |
	    POLICY_ROLE_BIT(POLICY_ROLE_OPERATOR));
	/* gid 1001 is not uid 1001 */
	CHECK_EQ(policy_roles(tcfg, 500, (const uint32_t[]){ 1001 }, 1), 0);
	CHECK_EQ(policy_roles(tcfg, 500, NULL, 0), 0);
}

static void
principal_comes_from_uid_before_gid(void)
{
	const struct policy_principal *p;
	const uint32_t tix[] = { 3000 };

	CHECK((p = policy_principal_of(tcfg, 1001, NULL, 0)) != NULL);
	CHECK(strcmp(p->name, "hd-bob") == 0 && !p->integration);
	CHECK(strcmp(p->team, "helpdesk") == 0);
	/* a uid with its own entry is that principal, whatever its group */
	CHECK((p = policy_principal_of(tcfg, 1001, tix, 1)) != NULL);
	CHECK(strcmp(p->name, "hd-bob") == 0);
	CHECK((p = policy_principal_of(tcfg, 4000, tix, 1)) != NULL);
	CHECK(strcmp(p->name, "ticketing") == 0 && p->integration);
	/* gid 1001 is not uid 1001; no entry is no principal */
	CHECK(policy_principal_of(tcfg, 5, (const uint32_t[]){ 1001 }, 1) ==
	    NULL);
	CHECK(policy_principal_of(tcfg, 0, NULL, 0) == NULL);
}

static void
certificate_callers_are_their_fingerprint_and_no_uid(void)
{
	static const uint8_t fp[POLICY_CERT_SHA256_LEN] = { 0x00, 0x11, 0x22,
	    0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
	    0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	uint8_t other[POLICY_CERT_SHA256_LEN];
	const struct policy_principal *p;
	struct policy_config *cfg = NULL;
	char err[256], *a, *b, *c;

	/* a role and an integration by fingerprint (colons, upper case) */
	a = replace_once(TEST_CONF, "\t{ uid = 1001; roles = [\"intake\"]; },",
	    "\t{ uid = 1001; roles = [\"intake\"]; },\n\t{ cert_sha256 = \""
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:"
	    "55:66:77:88:99:AA:BB:CC:DD:EE:FF\"; roles = [\"intake\", "
	    "\"downstream\"]; },");
	b = a == NULL ? NULL : replace_once(a, "principals = (\n",
	    "principals = (\n\t{ cert_sha256 = \"" FP64 "\"; name = "
	    "\"web-tix\"; team = \"helpdesk\"; integration = true; },\n");
	c = b == NULL ? NULL : replace_once(b, "policy = {", "https = { "
	    "listen = \"[::1]:8443\"; cert_file = \"/etc/t/c.pem\"; "
	    "key_file = \"/etc/t/k.pem\"; client_ca_file = \"/etc/t/ca.pem\";"
	    " }; policy = {");
	CHECK(c != NULL);
	if (c == NULL || policy_config_load_string(c, &cfg, err,
	    sizeof(err)) != 0) {
		printf("# %s\n", c == NULL ? "edit failed" : err);
		CHECK(0);
		goto out;
	}
	CHECK(cfg->https.configured);
	CHECK(strcmp(cfg->https.listen, "[::1]:8443") == 0);
	CHECK(strcmp(cfg->https.client_ca_file, "/etc/t/ca.pem") == 0);
	CHECK_EQ(policy_roles_cert(cfg, fp),
	    POLICY_ROLE_BIT(POLICY_ROLE_INTAKE) |
	    POLICY_ROLE_BIT(POLICY_ROLE_DOWNSTREAM));
	CHECK((p = policy_principal_of_cert(cfg, fp)) != NULL &&
	    strcmp(p->name, "web-tix") == 0 && p->integration);
	/* another certificate is no one */
	memcpy(other, fp, sizeof(other));
	other[31] ^= 1;
	CHECK_EQ(policy_roles_cert(cfg, other), 0);
	CHECK(policy_principal_of_cert(cfg, other) == NULL);
	/* and a certificate entry is no uid or gid (its id field is 0) */
	CHECK_EQ(policy_roles(cfg, 0, (const uint32_t[]){ 0 }, 1),
	    POLICY_ROLE_BIT(POLICY_ROLE_INTAKE) |
	    POLICY_ROLE_BIT(POLICY_ROLE_OFFICER) |
	    POLICY_ROLE_BIT(POLICY_ROLE_DOWNSTREAM) |
	    POLICY_ROLE_BIT(POLICY_ROLE_OPERATOR));
	CHECK_EQ(policy_roles(cfg, 7, (const uint32_t[]){ 0 }, 1), 0);
	CHECK(policy_principal_of(cfg, 0, (const uint32_t[]){ 0 }, 1) ==
	    NULL);
	/* nor does a uid or gid entry match a certificate */
	CHECK_EQ(policy_roles_cert(tcfg, fp), 0);
	CHECK(policy_principal_of_cert(tcfg, fp) == NULL);
	CHECK(!tcfg->https.configured);
out:
	policy_config_free(&cfg);
	free(a);
	free(b);
	free(c);
}

/*
 * Console users: by name, each kind of entry matching only its own
 * callers; a user's principal names the officer it is.
 */
static void
console_users_are_their_name_and_no_uid(void)
{
	const struct policy_principal *p;
	struct policy_config *cfg = NULL;
	char err[256], *a, *b, *c;

	a = replace_once(TEST_CONF, "\t{ uid = 1001; roles = [\"intake\"]; },",
	    "\t{ uid = 1001; roles = [\"intake\"]; },\n"
	    "\t{ user = \"ann\"; roles = [\"officer\"]; },\n"
	    "\t{ user = \"bob\"; roles = [\"intake\"]; },");
	b = a == NULL ? NULL : replace_once(a, "principals = (\n",
	    "principals = (\n\t{ user = \"ann\"; name = \"ann\"; team = "
	    "\"helpdesk\"; officer = \"officer-ann\"; },\n"
	    "\t{ user = \"bob\"; name = \"bob\"; team = \"outsourced\"; },\n");
	c = b == NULL ? NULL : replace_once(b, "policy = {", "console = { "
	    "session_seconds = 300; }; policy = {");
	CHECK(c != NULL);
	if (c == NULL || policy_config_load_string(c, &cfg, err,
	    sizeof(err)) != 0) {
		printf("# %s\n", c == NULL ? "edit failed" : err);
		CHECK(0);
		goto out;
	}
	CHECK_EQ(cfg->console.session_seconds, 300);
	CHECK_EQ(tcfg->console.session_seconds,
	    POLICY_DEFAULT_SESSION_SECONDS);
	CHECK_EQ(policy_roles_user(cfg, "ann"),
	    POLICY_ROLE_BIT(POLICY_ROLE_OFFICER));
	CHECK_EQ(policy_roles_user(cfg, "bob"),
	    POLICY_ROLE_BIT(POLICY_ROLE_INTAKE));
	CHECK((p = policy_principal_of_user(cfg, "ann")) != NULL &&
	    strcmp(p->name, "ann") == 0 &&
	    strcmp(p->officer, "officer-ann") == 0);
	CHECK((p = policy_principal_of_user(cfg, "bob")) != NULL &&
	    strcmp(p->team, "outsourced") == 0);
	/* names compare exactly; an unknown user is no one */
	CHECK_EQ(policy_roles_user(cfg, "Ann"), 0);
	CHECK_EQ(policy_roles_user(cfg, "carol"), 0);
	CHECK(policy_principal_of_user(cfg, "ann ") == NULL);
	CHECK(policy_principal_of_user(cfg, NULL) == NULL);
	/* a user entry is no uid 0, and a principal's name no user */
	CHECK_EQ(policy_roles(cfg, 7, (const uint32_t[]){ 0 }, 1), 0);
	CHECK(policy_principal_of(cfg, 0, NULL, 0) == NULL);
	CHECK(policy_principal_of_user(cfg, "hd-bob") == NULL);
	CHECK_EQ(policy_roles_user(tcfg, "ann"), 0);
out:
	policy_config_free(&cfg);
	free(a);
	free(b);
	free(c);
}

static void
only_an_integration_names_other_agents(void)
{
	const struct policy_principal *bob, *tix;

	bob = policy_principal_of(tcfg, 1001, NULL, 0);
	tix = policy_principal_of(tcfg, 7, (const uint32_t[]){ 3000 }, 1);
	CHECK(bob != NULL && tix != NULL);
	CHECK(policy_principal_may_name(bob, "hd-bob"));
	CHECK(!policy_principal_may_name(bob, "hd-amy"));
	CHECK(policy_principal_may_name(tix, "ticketing"));
	CHECK(policy_principal_may_name(tix, "hd-amy"));
	CHECK(policy_principal_may_name(tix, "hd-bob"));
	CHECK(!policy_principal_may_name(tix, "ext-olga"));
	/* variants of a listed name are other names */
	CHECK(!policy_principal_may_name(bob, "hd-bob "));
	CHECK(!policy_principal_may_name(bob, "HD-BOB"));
	CHECK(!policy_principal_may_name(tix, "hd-\xd0\xb0my"));
	CHECK(!policy_principal_may_name(tix, "hd-amy\xe2\x80\x8b"));
	CHECK(!policy_principal_may_name(NULL, "hd-bob"));
}

static void
team_scope_bounds_queue_class_and_system(void)
{
	const struct policy_team *hd, *out;
	char why[160];

	CHECK((hd = policy_team_of(tcfg, "helpdesk")) != NULL);
	CHECK((out = policy_team_of(tcfg, "outsourced")) != NULL);
	CHECK(policy_team_of(tcfg, "Outsourced") == NULL);
	CHECK(policy_team_allows(hd, POLICY_QUEUE_PRIVILEGE_CHANGE,
	    POLICY_CLASS_ADMIN, "anything", why, sizeof(why)));
	CHECK(policy_team_allows(out, POLICY_QUEUE_PASSWORD_RESET,
	    POLICY_CLASS_STANDARD, "LDAP-corp", why, sizeof(why)));
	CHECK(!policy_team_allows(out, POLICY_QUEUE_PASSWORD_RESET,
	    POLICY_CLASS_ADMIN, "ldap-corp", why, sizeof(why)));
	CHECK(strcmp(why, "class admin is outside team outsourced's scope") ==
	    0);
	CHECK(!policy_team_allows(out, POLICY_QUEUE_PASSWORD_RESET,
	    POLICY_CLASS_FINANCE, "ldap-corp", why, sizeof(why)));
	CHECK(!policy_team_allows(out, POLICY_QUEUE_TRANSACTION_APPROVAL,
	    POLICY_CLASS_STANDARD, "ldap-corp", why, sizeof(why)));
	CHECK(strstr(why, "queue transaction_approval") != NULL);
	CHECK(!policy_team_allows(out, POLICY_QUEUE_PASSWORD_RESET,
	    POLICY_CLASS_STANDARD, "sap-fin", why, sizeof(why)));
	CHECK(strstr(why, "system") != NULL);
}

/*
 * Every queue, claim, account (by name, pattern, group and system) of
 * the test policy: the outsourced team's scope, held to the class the
 * evaluation decides, takes exactly its queues for standard accounts on
 * its system, and never a request the configuration or the claim makes
 * stricter.
 */
static void
team_scope_holds_the_decided_class_never_the_claim(void)
{
	static const struct {
		const char	*account;
		const char	*system;
		const char	*group;
	} acc[] = {
		{ "alice", "ldap-corp", NULL }, { "carol", "ldap-corp", NULL },
		{ "fin-kim", "ldap-corp", NULL }, { "root", "ldap-corp", NULL },
		{ "adm-x", "ldap-corp", NULL }, { "svc-y", "ldap-corp", NULL },
		{ "dave", "ldap-corp", "Domain Admins" },
		{ "erin", "payments", NULL }, { "frank", "sap", NULL },
	};
	const struct policy_team *out = policy_team_of(tcfg, "outsourced");
	struct policy_decision d;
	struct policy_request req;
	const char *grp[1];
	size_t i;
	int q, c;
	bool allowed, want;

	CHECK(out != NULL);
	for (q = 0; q < POLICY_QUEUE_COUNT; q++)
		for (c = 0; c < POLICY_CLASS_COUNT; c++)
			for (i = 0; i < NELEM(acc); i++) {
				base_request(&req, (enum policy_queue)q,
				    acc[i].account);
				req.system = acc[i].system;
				req.claimed_class = (enum policy_class)c;
				grp[0] = acc[i].group;
				req.groups = grp;
				req.ngroups = acc[i].group != NULL;
				CHECK(policy_evaluate(tcfg, &req, NULL, NOW,
				    &d) == 0);
				CHECK(d.account_class >= req.claimed_class);
				allowed = policy_team_allows(out, req.queue,
				    d.account_class, req.system, NULL, 0);
				want = (q == POLICY_QUEUE_PASSWORD_RESET ||
				    q == POLICY_QUEUE_MFA_RESET) &&
				    c == POLICY_CLASS_STANDARD &&
				    strcmp(acc[i].system, "ldap-corp") == 0 &&
				    strcmp(acc[i].account, "alice") == 0;
				if (allowed != want)
					printf("#   q %d claim %d %s: %d\n",
					    q, c, acc[i].account, allowed);
				CHECK(allowed == want);
			}
}

static void
canonical_identities_are_lowercase_idents(void)
{
	CHECK(policy_identity_canonical("officer-ben"));
	CHECK(policy_identity_canonical("hd.bob_2"));
	CHECK(!policy_identity_canonical(""));
	CHECK(!policy_identity_canonical(NULL));
	CHECK(!policy_identity_canonical("officer-ben "));
	CHECK(!policy_identity_canonical(" officer-ben"));
	CHECK(!policy_identity_canonical("Officer-Ben"));
	CHECK(!policy_identity_canonical("officer-b\xd0\xb5n"));
	CHECK(!policy_identity_canonical("officer-ben\xe2\x80\x8b"));
	CHECK(!policy_identity_canonical("-ben"));
	/* 65 characters, one over POLICY_IDENT_MAX */
	CHECK(!policy_identity_canonical("a234567890123456789012345678901234"
	    "5678901234567890123456789012345"));
}

static const char NINE_HOOKS[] =
	"hooks = [\"/a\", \"/b\", \"/c\", \"/d\", \"/e\", \"/f\", \"/g\", "
	"\"/h\", \"/i\"]";

static const char LONG_ACCOUNT[] =
	"accounts = [\"carol-"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"\"]";

/*
 * Broken configurations: TEST_CONF with one edit, and what the error
 * must mention (the setting's name, and why).
 */
static const struct broken {
	const char	*name;
	const char	*find;
	const char	*repl;
	const char	*want1;
	const char	*want2;
	int		 rc;
} broken[] = {
	{ "unknown_key", "hold_seconds = 110;", "hold_secnds = 110;",
	    "rules.password_reset.shared.hold_secnds", "unknown setting",
	    TG_ERR_CONFIG },
	{ "unknown_top_level_key", "policy = {", "polcy = { }; policy = {",
	    "polcy", "unknown setting", TG_ERR_CONFIG },
	{ "unknown_queue", "\ttransaction_approval = {",
	    "\ttransaction_aproval = {", "rules.transaction_aproval",
	    "unknown queue", TG_ERR_CONFIG },
	{ "dir_group_that_is_no_dn", "groups = [\"Domain Admins\"]; };",
	    "groups = [\"Domain Admins\"]; dir_groups = [\"Domain Admins\"];"
	    " };", "classes.admin.dir_groups[0]", "not a DN", TG_ERR_CONFIG },
	{ "dir_ou_listed_twice_in_another_case",
	    "groups = [\"Domain Admins\"]; };", "groups = [\"Domain Admins\"];"
	    " dir_ous = [\"ou=a,dc=corp\", \"OU=A,DC=corp\"]; };",
	    "classes.admin.dir_ous[1]", "twice", TG_ERR_CONFIG },
	{ "standard_takes_no_dir_groups", "standard = { accounts = "
	    "[\"alice\", \"bob\"]; };", "standard = { dir_groups = "
	    "[\"cn=x,dc=corp\"]; };", "classes.standard", "accounts only",
	    TG_ERR_CONFIG },
	{ "unknown_class_in_classes", "admin = { accounts",
	    "admn = { accounts", "classes.admn", "unknown class",
	    TG_ERR_CONFIG },
	{ "unknown_class_in_rules",
	    RULE("admin", EV(2, 2), SO(2), 430, 930, ""),
	    RULE("admins", EV(2, 2), SO(2), 430, 930, ""),
	    "rules.privilege_change.admins", "unknown class", TG_ERR_CONFIG },
	{ "standard_class_takes_accounts_only", "standard = { accounts",
	    "standard = { patterns = [\"x*\"]; accounts",
	    "classes.standard.patterns", "accounts only", TG_ERR_CONFIG },
	{ "unknown_evidence_type", "require_all = [\"identity_document\"]",
	    "require_all = [\"fax\"]",
	    "rules.password_reset.admin.evidence.require_all[0]",
	    "unknown evidence type \"fax\"", TG_ERR_CONFIG },
	{ "unknown_trusted_evidence", "trusted = [\"pre_registered_factor\"",
	    "trusted = [\"pre_registered_fax\"", "evidence.trusted[0]",
	    "unknown evidence type", TG_ERR_CONFIG },
	{ "unknown_risk_signal", "recent_factor_change = { };",
	    "recent_factor_change = { }; sunspots = { };", "risk.sunspots",
	    "unknown risk signal", TG_ERR_CONFIG },
	{ "missing_risk_signal", "recent_factor_change = { };", "",
	    "risk.recent_factor_change", "missing", TG_ERR_CONFIG },
	{ "unknown_role", "roles = [\"intake\"]", "roles = [\"intaker\"]",
	    "roles[1].roles[0]", "unknown role", TG_ERR_CONFIG },
	{ "unknown_approver_group", IT(1),
	    "{ group = \"it_managers\"; count = 1; }",
	    "rules.privilege_change.standard.approvals[0].group",
	    "unknown approver group", TG_ERR_CONFIG },
	{ "negative_hold", "hold_seconds = 120;", "hold_seconds = -5;",
	    "rules.password_reset.finance.hold_seconds", "between",
	    TG_ERR_CONFIG },
	{ "hold_over_bound", "hold_seconds = 5000;",
	    "hold_seconds = 99999999;", "manual_review.hold_seconds",
	    "between", TG_ERR_CONFIG },
	{ "ttl_zero", "order_ttl_seconds = 600;", "order_ttl_seconds = 0;",
	    "rules.password_reset.standard.order_ttl_seconds", "between",
	    TG_ERR_CONFIG },
	{ "too_many_hooks", "hooks = [\"/usr/libexec/tapgate/notify\"]",
	    NINE_HOOKS, "notify.hooks", "too many", TG_ERR_CONFIG },
	{ "too_many_approvals", "count = 2;", "count = 9;",
	    "rules.password_reset.admin.approvals[0].count", "between",
	    TG_ERR_CONFIG },
	{ "too_long_account", "accounts = [\"carol\"]", LONG_ACCOUNT,
	    "classes.finance.accounts[0]", "1 to 128", TG_ERR_CONFIG },
	{ "wrong_type_string_for_integer", "order_ttl_seconds = 610;",
	    "order_ttl_seconds = \"610\";",
	    "rules.password_reset.shared.order_ttl_seconds",
	    "expected an integer", TG_ERR_CONFIG },
	{ "wrong_type_float_for_integer", "version = 7;", "version = 7.5;",
	    "policy.version", "expected an integer", TG_ERR_CONFIG },
	{ "wrong_type_string_for_boolean", "manual_review = true;",
	    "manual_review = \"yes\";", "risk.recent_compromise.manual_review",
	    "expected a boolean", TG_ERR_CONFIG },
	{ "wrong_type_string_for_list", "channels = [\"phone\", \"email\", "
	    "\"sms\", \"chat\", \"in_person\",\n\t\"ticket\", \"video\", "
	    "\"push\", \"totp\"];", "channels = \"phone\";", "channels",
	    "expected a list", TG_ERR_CONFIG },
	{ "missing_rule", RULE("standard", EV(1, 1), FC(1), 500, 1000, ""),
	    "", "rules.transaction_approval.standard", "missing",
	    TG_ERR_CONFIG },
	{ "admin_rule_without_approval", "approvals = ( " SO(2)
	    " ); hold_seconds = 130;", "approvals = ( ); hold_seconds = 130;",
	    "rules.password_reset.admin.approvals", "at least one",
	    TG_ERR_CONFIG },
	{ "manual_review_without_approval", "manual_review = { approvals = ( "
	    SO(2) " );", "manual_review = { approvals = ( );",
	    "manual_review.approvals", "at least one", TG_ERR_CONFIG },
	{ "manual_review_takes_no_evidence", "manual_review = {",
	    "manual_review = { evidence = { min_passing = 1; min_types = 1; };",
	    "manual_review.evidence", "unknown setting", TG_ERR_CONFIG },
	{ "min_types_over_min_passing", EV(1, 1) " }; approvals = ( " SO(1)
	    " ); hold_seconds = 110;", EV(1, 2) " }; approvals = ( " SO(1)
	    " ); hold_seconds = 110;",
	    "rules.password_reset.shared.evidence.min_types", "min_passing",
	    TG_ERR_CONFIG },
	{ "challenge_expiry_below_two_seconds",
	    "policy = { id = \"test-policy\"; version = 7; };",
	    "policy = { id = \"test-policy\"; version = 7; };\n"
	    "challenges = { expiry_seconds = 1; };",
	    "challenges.expiry_seconds", "", TG_ERR_CONFIG },
	{ "challenge_attempts_over_ten",
	    "policy = { id = \"test-policy\"; version = 7; };",
	    "policy = { id = \"test-policy\"; version = 7; };\n"
	    "challenges = { max_attempts = 11; };",
	    "challenges.max_attempts", "", TG_ERR_CONFIG },
	{ "challenge_setting_unknown",
	    "policy = { id = \"test-policy\"; version = 7; };",
	    "policy = { id = \"test-policy\"; version = 7; };\n"
	    "challenges = { digits = 4; };",
	    "challenges.digits", "unknown setting", TG_ERR_CONFIG },
	{ "identity_proofing_is_the_manual_routes", "hold_seconds = 110;",
	    "hold_seconds = 110; identity_proofing = true;",
	    "rules.password_reset.shared.identity_proofing",
	    "unknown setting", TG_ERR_CONFIG },
	{ "console_url_is_https",
	    "policy = { id = \"test-policy\"; version = 7; };",
	    "policy = { id = \"test-policy\"; version = 7; };\n"
	    "console = { url = \"http://console.tapgate.test\"; };",
	    "console.url", "https://HOST", TG_ERR_CONFIG },
	{ "console_url_has_no_trailing_slash",
	    "policy = { id = \"test-policy\"; version = 7; };",
	    "policy = { id = \"test-policy\"; version = 7; };\n"
	    "console = { url = \"https://console.tapgate.test/\"; };",
	    "console.url", "trailing", TG_ERR_CONFIG },
	{ "console_url_has_no_query",
	    "policy = { id = \"test-policy\"; version = 7; };",
	    "policy = { id = \"test-policy\"; version = 7; };\n"
	    "console = { url = \"https://c.tapgate.test/?a=b\"; };",
	    "console.url", "https://HOST", TG_ERR_CONFIG },
	{ "approve_at_is_anywhere_or_box", "hold_seconds = 110;",
	    "hold_seconds = 110; approve_at = \"desk\";",
	    "rules.password_reset.shared.approve_at", "\"box\"",
	    TG_ERR_CONFIG },
	{ "approve_at_is_a_string", "hold_seconds = 110;",
	    "hold_seconds = 110; approve_at = true;",
	    "rules.password_reset.shared.approve_at", "", TG_ERR_CONFIG },
	{ "manual_approve_at_is_anywhere_or_box", "hold_seconds = 5000;",
	    "hold_seconds = 5000; approve_at = \"Box\";",
	    "manual_review.approve_at", "\"anywhere\"", TG_ERR_CONFIG },
	{ "min_verified_types_over_min_verified", EV(1, 1) " }; approvals "
	    "= ( " SO(1) " ); hold_seconds = 110;", EV(1, 1) " min_verified "
	    "= 1; min_verified_types = 2; }; approvals = ( " SO(1) " ); "
	    "hold_seconds = 110;",
	    "rules.password_reset.shared.evidence.min_verified_types",
	    "min_verified", TG_ERR_CONFIG },
	{ "relative_hook_path", "\"/usr/libexec/tapgate/notify\"",
	    "\"notify.sh\"", "notify.hooks[0]", "absolute", TG_ERR_CONFIG },
	{ "dotdot_state_dir", "\"/var/lib/tapgate-test\"",
	    "\"/var/lib/../tmp\"", "appliance.state_dir", "absolute",
	    TG_ERR_CONFIG },
	{ "uppercase_channel", "\"phone\", \"email\"",
	    "\"Phone\", \"email\"", "channels[0]", "lowercase",
	    TG_ERR_CONFIG },
	{ "duplicate_channel", "\"phone\", \"email\"", "\"phone\", \"phone\"",
	    "channels[1]", "twice", TG_ERR_CONFIG },
	{ "duplicate_account_ignoring_case", "accounts = [\"carol\"]",
	    "accounts = [\"carol\", \"CAROL\"]", "classes.finance.accounts[1]",
	    "twice", TG_ERR_CONFIG },
	{ "pattern_with_too_many_stars", "\"fin-*\"", "\"*f*i*n\"",
	    "classes.finance.patterns[0]", "'*'", TG_ERR_CONFIG },
	{ "uid_and_gid_together", "{ uid = 1001;", "{ uid = 1001; gid = 1;",
	    "roles[1]", "exactly one of uid, gid, cert_sha256 or user",
	    TG_ERR_CONFIG },
	{ "uid_out_of_range", "{ uid = 1001;", "{ uid = -1;", "roles[1].uid",
	    "between", TG_ERR_CONFIG },
	{ "bad_rp_id", "\"tapgate.test\"", "\"tapgate..test\"",
	    "appliance.rp_id", "DNS", TG_ERR_CONFIG },
	{ "control_character_in_name", "\"test appliance\"",
	    "\"test\\nappliance\"", "appliance.name", "printable",
	    TG_ERR_CONFIG },
	{ "misspelt_section", "risk = {", "rsk = {", "rsk",
	    "unknown setting", TG_ERR_CONFIG },
	{ "include_refused", "# test policy\n",
	    "# test policy\n@include \"/etc/passwd\"\n", "config line 2",
	    "@include", TG_ERR_CONFIG },
	{ "syntax_error_names_line", "policy = { id", "policy = { { id",
	    "config line 6", "", TG_ERR_CONFIG },
	{ "stall_too_short", "policy = {", "holds = { stall_seconds = 1; "
	    "}; policy = {", "holds.stall_seconds", "between",
	    TG_ERR_CONFIG },
	{ "negative_restart_veto", "policy = {", "holds = { "
	    "restart_veto_seconds = -1; }; policy = {",
	    "holds.restart_veto_seconds", "between", TG_ERR_CONFIG },
	{ "unknown_holds_key", "policy = {", "holds = { restart_veto = 5; "
	    "}; policy = {", "holds.restart_veto", "unknown setting",
	    TG_ERR_CONFIG },
	/* HTTPS, and callers by their client certificate */
	{ "https_listen_by_name", "policy = {", "https = { listen = "
	    "\"localhost:8443\"; cert_file = \"/c\"; key_file = \"/k\"; "
	    "client_ca_file = \"/ca\"; }; policy = {", "https.listen",
	    "numeric address and port", TG_ERR_CONFIG },
	{ "https_listen_port_zero", "policy = {", "https = { listen = "
	    "\"127.0.0.1:0\"; cert_file = \"/c\"; key_file = \"/k\"; "
	    "client_ca_file = \"/ca\"; }; policy = {", "https.listen",
	    "numeric address and port", TG_ERR_CONFIG },
	{ "https_without_client_ca", "policy = {", "https = { listen = "
	    "\"[::1]:8443\"; cert_file = \"/c\"; key_file = \"/k\"; }; "
	    "policy = {", "https.client_ca_file", "", TG_ERR_CONFIG },
	{ "role_by_short_fingerprint", "{ uid = 1001;", "{ cert_sha256 = "
	    "\"abcd\";", "roles[1].cert_sha256", "64 hex digits",
	    TG_ERR_CONFIG },
	{ "role_by_uid_and_fingerprint", "{ uid = 1001;", "{ uid = 1001; "
	    "cert_sha256 = \"" FP64 "\";", "roles[1]",
	    "exactly one of uid, gid, cert_sha256 or user", TG_ERR_CONFIG },
	{ "principal_fingerprint_not_hex", "{ uid = 1001; name",
	    "{ cert_sha256 = \"" FP64_BAD "\"; name",
	    "principals[0].cert_sha256", "64 hex digits", TG_ERR_CONFIG },
	/* console users */
	{ "role_by_uid_and_user", "{ uid = 1001;", "{ uid = 1001; "
	    "user = \"bob\";", "roles[1]",
	    "exactly one of uid, gid, cert_sha256 or user", TG_ERR_CONFIG },
	{ "role_by_user_in_capitals", "{ uid = 1001;", "{ user = \"Bob\";",
	    "roles[1].user", "lowercase", TG_ERR_CONFIG },
	{ "principal_user_twice", "{ uid = 1001; name",
	    "{ user = \"bo\"; name = \"b1\"; team = \"helpdesk\"; }, "
	    "{ user = \"bo\"; name", "principals[1].user",
	    "already principal", TG_ERR_CONFIG },
	{ "session_too_long", "policy = {", "console = { session_seconds "
	    "= 901; }; policy = {", "console.session_seconds", "between",
	    TG_ERR_CONFIG },
	/* principals and teams */
	{ "principal_with_uid_and_gid", "{ uid = 1001; name",
	    "{ uid = 1001; gid = 5; name", "principals[0]",
	    "exactly one of uid, gid, cert_sha256 or user", TG_ERR_CONFIG },
	{ "principal_without_team", "name = \"hd-bob\"; team = "
	    "\"helpdesk\";", "name = \"hd-bob\";", "principals[0].team",
	    "missing", TG_ERR_CONFIG },
	{ "principal_of_unknown_team", "team = \"outsourced\"; }",
	    "team = \"outsorced\"; }", "principals[2].team",
	    "unknown team \"outsorced\"", TG_ERR_CONFIG },
	{ "principal_name_with_trailing_space", "\"ext-olga\"",
	    "\"ext-olga \"", "principals[2].name", "lowercase",
	    TG_ERR_CONFIG },
	{ "principal_name_in_capitals", "\"ext-olga\"", "\"Ext-Olga\"",
	    "principals[2].name", "lowercase", TG_ERR_CONFIG },
	{ "principal_name_with_cyrillic_letter", "\"ext-olga\"",
	    "\"ext-\xd0\xbelga\"", "principals[2].name", "lowercase",
	    TG_ERR_CONFIG },
	{ "agent_with_trailing_space", "\"hd-amy\"", "\"hd-amy \"",
	    "principals[1].agents[0]", "lowercase", TG_ERR_CONFIG },
	{ "agents_of_a_non_integration", "team = \"outsourced\"; }",
	    "team = \"outsourced\"; agents = [\"hd-amy\"]; }",
	    "principals[2].agents", "only an integration", TG_ERR_CONFIG },
	{ "principal_uid_twice", "{ uid = 1002; name",
	    "{ uid = 1001; name", "principals[2]",
	    "uid 1001 is already principal \"hd-bob\"", TG_ERR_CONFIG },
	{ "principal_name_twice", "\"ext-olga\"", "\"hd-bob\"",
	    "principals[2].name", "defined twice", TG_ERR_CONFIG },
	{ "unknown_principal_key", "integration = true;",
	    "integration = true; agnets = [];", "principals[1].agnets",
	    "unknown setting", TG_ERR_CONFIG },
	{ "integration_not_a_boolean", "integration = true;",
	    "integration = \"yes\";", "principals[1].integration",
	    "expected a boolean", TG_ERR_CONFIG },
	{ "team_unknown_queue", "\"mfa_reset\"]; classes",
	    "\"mfa_rest\"]; classes", "teams[1].queues[1]",
	    "unknown queue \"mfa_rest\"", TG_ERR_CONFIG },
	{ "team_unknown_class", "classes = [\"standard\"];",
	    "classes = [\"normal\"];", "teams[1].classes[0]",
	    "unknown class", TG_ERR_CONFIG },
	{ "team_empty_classes", "classes = [\"standard\"];",
	    "classes = [];", "teams[1].classes", "must not be empty",
	    TG_ERR_CONFIG },
	{ "team_empty_systems", "systems = [\"ldap-corp\"];",
	    "systems = [];", "teams[1].systems", "must not be empty",
	    TG_ERR_CONFIG },
	{ "officer_of_two_principals", "team = \"outsourced\"; }",
	    "team = \"outsourced\"; officer = \"officer-ben\"; }",
	    "principals[3].officer", "already principal ext-olga's",
	    TG_ERR_CONFIG },
	{ "officer_not_canonical", "officer = \"officer-ben\"",
	    "officer = \"Officer-Ben\"", "principals[3].officer",
	    "lowercase", TG_ERR_CONFIG },
	{ "team_defined_twice", "{ name = \"outsourced\";",
	    "{ name = \"helpdesk\";", "teams[1].name", "defined twice",
	    TG_ERR_CONFIG },
	{ "team_class_twice", "classes = [\"standard\"];",
	    "classes = [\"standard\", \"standard\"];", "teams[1].classes[1]",
	    "twice", TG_ERR_CONFIG },
};

static void
broken_configs_fail_naming_the_setting(void)
{
	struct policy_config *sentinel = (struct policy_config *)&sentinel;
	struct policy_config *cfg;
	char err[512], *text;
	size_t i;
	int r;

	for (i = 0; i < NELEM(broken); i++) {
		const struct broken *b = &broken[i];

		text = replace_once(TEST_CONF, b->find, b->repl);
		if (text == NULL)
			printf("#   %s: anchor not found\n", b->name);
		CHECK(text != NULL);
		cfg = sentinel;
		err[0] = '\0';
		r = policy_config_load_string(text, &cfg, err, sizeof(err));
		free(text);
		if (r != b->rc || strstr(err, b->want1) == NULL ||
		    strstr(err, b->want2) == NULL || strchr(err, '\n') != NULL)
			printf("#   %s: rc %d, message: %s\n", b->name, r, err);
		CHECK_EQ(r, b->rc);
		CHECK(strstr(err, b->want1) != NULL);
		CHECK(strstr(err, b->want2) != NULL);
		CHECK(strchr(err, '\n') == NULL);
		/* output pointers are set only on success */
		CHECK(cfg == sentinel);
	}
}

static void
config_error_names_the_line(void)
{
	const char *anchor = "hold_seconds = 420;", *p;
	struct policy_config *cfg = NULL;
	char err[512], want[64], *text;
	unsigned line = 1;

	p = strstr(TEST_CONF, anchor);
	CHECK(p != NULL);
	for (const char *s = TEST_CONF; s < p; s++)
		line += *s == '\n';
	text = replace_once(TEST_CONF, anchor, "hold_seconds = -1;");
	CHECK(text != NULL);
	CHECK_EQ(policy_config_load_string(text, &cfg, err, sizeof(err)),
	    TG_ERR_CONFIG);
	free(text);
	snprintf(want, sizeof(want), "config line %u: ", line);
	if (strncmp(err, want, strlen(want)) != 0)
		printf("#   want \"%s\", got \"%s\"\n", want, err);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	CHECK(cfg == NULL);
}

static void
config_over_size_limit_is_refused(void)
{
	struct policy_config *cfg = NULL;
	size_t n = strlen(TEST_CONF);
	char err[256], *text;

	/* A valid config padded with a comment past the limit. */
	CHECK((text = malloc(POLICY_CONFIG_MAX + 2)) != NULL);
	memcpy(text, TEST_CONF, n);
	text[n] = '#';
	memset(text + n + 1, 'x', POLICY_CONFIG_MAX - n);
	text[POLICY_CONFIG_MAX + 1] = '\0';
	CHECK_EQ(policy_config_load_string(text, &cfg, err, sizeof(err)),
	    TG_ERR_TOO_LONG);
	/* the same text exactly at the limit loads */
	text[POLICY_CONFIG_MAX] = '\0';
	CHECK_EQ(policy_config_load_string(text, &cfg, err, sizeof(err)), 0);
	free(text);
	policy_config_free(&cfg);
}

static void
config_file_errors_are_io_or_config(void)
{
	struct policy_config *cfg = NULL;
	char path[] = "/tmp/tapgate-policy-test-XXXXXX";
	char err[256];
	int fd;

	CHECK_EQ(policy_config_load_file("no/such/tapgate.conf", &cfg, err,
	    sizeof(err)), TG_ERR_IO);
	CHECK(strstr(err, "cannot open") != NULL);
	CHECK_EQ(policy_config_load_file("config", &cfg, err, sizeof(err)),
	    TG_ERR_IO);
	CHECK(strstr(err, "not a regular file") != NULL);
	/* An embedded NUL would cut the policy short: refused. */
	CHECK((fd = mkstemp(path)) != -1);
	CHECK(write(fd, TEST_CONF, 40) == 40);
	CHECK(write(fd, "\0", 1) == 1);
	CHECK(write(fd, TEST_CONF + 40, strlen(TEST_CONF) - 40) ==
	    (ssize_t)(strlen(TEST_CONF) - 40));
	close(fd);
	CHECK_EQ(policy_config_load_file(path, &cfg, err, sizeof(err)),
	    TG_ERR_CONFIG);
	unlink(path);
	CHECK(strstr(err, "NUL") != NULL);
	CHECK(cfg == NULL);
}

static void
config_free_accepts_null(void)
{
	struct policy_config *cfg = NULL;

	policy_config_free(NULL);
	policy_config_free(&cfg);
	CHECK(cfg == NULL);
}

/* ==== evaluation ==== */

/*
 * Each queue x class with evidence that satisfies every rule: before any
 * approval (state0, what is missing), and with approvals from everyone
 * (state1: in the hold, or ready when the rule has none).
 */
static const struct qc_row {
	enum policy_queue	 q;
	const char		*account;
	enum policy_class	 cls;
	enum policy_state	 state0;
	const char		*missing0;
	enum policy_state	 state1;
	int64_t			 hold;
	int64_t			 ttl;
	bool			 drop_all;
} qc_rows[] = {
#define PR POLICY_QUEUE_PASSWORD_RESET
#define MR POLICY_QUEUE_MFA_RESET
#define RA POLICY_QUEUE_REACTIVATION
#define PC POLICY_QUEUE_PRIVILEGE_CHANGE
#define TA POLICY_QUEUE_TRANSACTION_APPROVAL
#define STD POLICY_CLASS_STANDARD
#define SHR POLICY_CLASS_SHARED
#define FIN POLICY_CLASS_FINANCE
#define ADM POLICY_CLASS_ADMIN
#define NA POLICY_STATE_NEEDS_APPROVAL
#define IH POLICY_STATE_IN_HOLD
#define RD POLICY_STATE_READY
	{ PR, "alice", STD, RD, "", RD, 0, 600, false },
	{ PR, "svc-backup", SHR, NA,
	    "approval:security_officer:1 hold:seconds:110", IH, 110, 610,
	    false },
	{ PR, "carol", FIN, NA, "approval:security_officer:1 "
	    "approval:finance_controller:1 hold:seconds:120", IH, 120, 620,
	    false },
	{ PR, "root", ADM, NA, "approval:security_officer:2 hold:seconds:130",
	    IH, 130, 630, true },
	{ MR, "alice", STD, NA, "approval:security_officer:1 hold:seconds:200",
	    IH, 200, 700, false },
	{ MR, "svc-backup", SHR, NA,
	    "approval:security_officer:1 hold:seconds:210", IH, 210, 710,
	    false },
	{ MR, "carol", FIN, NA, "approval:security_officer:1 "
	    "approval:finance_controller:1 hold:seconds:220", IH, 220, 720,
	    true },
	{ MR, "root", ADM, NA, "approval:security_officer:2 hold:seconds:230",
	    IH, 230, 730, true },
	{ RA, "alice", STD, IH, "hold:until:1700000300", IH, 300, 800, true },
	{ RA, "svc-backup", SHR, NA,
	    "approval:security_officer:1 hold:seconds:310", IH, 310, 810,
	    true },
	{ RA, "carol", FIN, NA, "approval:security_officer:1 "
	    "approval:finance_controller:1 hold:seconds:320", IH, 320, 820,
	    true },
	{ RA, "root", ADM, NA, "approval:security_officer:2 hold:seconds:330",
	    IH, 330, 830, true },
	{ PC, "alice", STD, NA, "approval:it_manager:1 hold:seconds:400", IH,
	    400, 900, false },
	{ PC, "svc-backup", SHR, NA, "approval:it_manager:1 "
	    "approval:security_officer:1 hold:seconds:410", IH, 410, 910,
	    false },
	{ PC, "carol", FIN, NA, "approval:finance_controller:1 "
	    "approval:security_officer:1 hold:seconds:420", IH, 420, 920,
	    false },
	{ PC, "root", ADM, NA, "approval:security_officer:2 hold:seconds:430",
	    IH, 430, 930, false },
	{ TA, "alice", STD, NA,
	    "approval:finance_controller:1 hold:seconds:500", IH, 500, 1000,
	    false },
	{ TA, "svc-backup", SHR, NA,
	    "approval:finance_controller:1 hold:seconds:510", IH, 510, 1010,
	    false },
	{ TA, "carol", FIN, NA,
	    "approval:finance_controller:2 hold:seconds:520", IH, 520, 1020,
	    false },
	{ TA, "root", ADM, NA, "approval:finance_controller:1 "
	    "approval:security_officer:1 hold:seconds:530", IH, 530, 1030,
	    false },
};

static bool
run_qc_row(const struct qc_row *row)
{
	struct policy_progress prog = { everyone, NELEM(everyone), 0, false,
	    false, false, 0 };
	struct policy_decision d;
	struct policy_request req;
	char row_name[64];
	int r;

	snprintf(row_name, sizeof(row_name), "%s/%s",
	    policy_queue_name(row->q), row->account);
	base_request(&req, row->q, row->account);
	r = policy_evaluate(tcfg, &req, NULL, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	ROW_CHECK(d.account_class == row->cls, "class %s",
	    policy_class_name(d.account_class));
	ROW_CHECK(d.route == POLICY_ROUTE_NORMAL, "route %s: %s",
	    policy_route_name(d.route), d.route_reason);
	ROW_CHECK(d.state == row->state0, "state %s",
	    policy_state_name(d.state));
	ROW_CHECK(strcmp(codes(&d), row->missing0) == 0, "missing \"%s\"",
	    codes(&d));
	ROW_CHECK(d.hold_seconds == row->hold, "hold %lld",
	    (long long)d.hold_seconds);
	ROW_CHECK(d.order_ttl_seconds == row->ttl, "ttl %lld",
	    (long long)d.order_ttl_seconds);
	ROW_CHECK(d.drop_all_privileged == row->drop_all, "drop_all %d",
	    d.drop_all_privileged);
	ROW_CHECK(d.approval_required == (row->missing0[0] == 'a'),
	    "approval_required %d", d.approval_required);
	ROW_CHECK(strcmp(d.policy_id, "test-policy") == 0 &&
	    d.policy_version == 7, "policy id/version");

	r = policy_evaluate(tcfg, &req, &prog, NOW, &d);
	ROW_CHECK(r == 0, "evaluate with approvals returned %d", r);
	ROW_CHECK(d.state == row->state1, "with approvals: state %s (%s)",
	    policy_state_name(d.state), codes(&d));
	ROW_CHECK(d.hold_start == NOW && d.hold_until == NOW + row->hold,
	    "hold %lld..%lld", (long long)d.hold_start,
	    (long long)d.hold_until);
	/* the daemon records hold_start; at its end the request is ready */
	prog.hold_start = d.hold_start;
	r = policy_evaluate(tcfg, &req, &prog, NOW + row->hold, &d);
	ROW_CHECK(r == 0 && d.state == POLICY_STATE_READY && d.nmissing == 0,
	    "at hold end: state %s", policy_state_name(d.state));
	if (row->hold > 0) {
		r = policy_evaluate(tcfg, &req, &prog, NOW + row->hold - 1,
		    &d);
		ROW_CHECK(r == 0 && d.state == POLICY_STATE_IN_HOLD,
		    "one second before the hold end: state %s",
		    policy_state_name(d.state));
	}
	return true;
}

static void
each_queue_and_class_reaches_the_state_the_policy_says(void)
{
	size_t i;

	CHECK_EQ(NELEM(qc_rows), POLICY_QUEUE_COUNT * POLICY_CLASS_COUNT);
	for (i = 0; i < NELEM(qc_rows); i++)
		CHECK(run_qc_row(&qc_rows[i]));
}

/* Account class resolution. */
static const struct class_row {
	const char		*name;
	const char		*account;
	const char		*system;
	enum policy_class	 claim;
	const char		*group;		/* one target group or NULL */
	enum policy_class	 want;
	enum policy_class_source src;
} class_rows[] = {
	{ "admin_claimed_as_standard_stays_admin", "root", "ldap-corp", STD,
	    NULL, ADM, POLICY_CLASS_SOURCE_ACCOUNT },
	{ "admin_claimed_as_finance_stays_admin", "root", "ldap-corp", FIN,
	    NULL, ADM, POLICY_CLASS_SOURCE_ACCOUNT },
	{ "account_name_ignores_case", "ROOT", "ldap-corp", STD, NULL, ADM,
	    POLICY_CLASS_SOURCE_ACCOUNT },
	{ "pattern_makes_admin", "adm-bob", "ldap-corp", STD, NULL, ADM,
	    POLICY_CLASS_SOURCE_PATTERN },
	{ "pattern_ignores_case", "ADM-Bob", "ldap-corp", STD, NULL, ADM,
	    POLICY_CLASS_SOURCE_PATTERN },
	{ "group_makes_admin", "bob", "ldap-corp", STD, "domain admins", ADM,
	    POLICY_CLASS_SOURCE_GROUP },
	{ "system_makes_finance", "bob", "Payments", STD, NULL, FIN,
	    POLICY_CLASS_SOURCE_SYSTEM },
	{ "strictest_of_several_matches_wins", "svc-payroll", "payments", STD,
	    "Domain Admins", ADM, POLICY_CLASS_SOURCE_GROUP },
	{ "shared_pattern_below_finance_system", "svc-payroll", "payments",
	    STD, NULL, FIN, POLICY_CLASS_SOURCE_SYSTEM },
	{ "claim_can_raise_the_class", "alice", "ldap-corp", FIN, NULL, FIN,
	    POLICY_CLASS_SOURCE_CLAIM },
	{ "claim_above_configured", "svc-x", "ldap-corp", ADM, NULL, ADM,
	    POLICY_CLASS_SOURCE_CLAIM },
	{ "listed_standard_account_is_standard", "alice", "ldap-corp", STD,
	    "Everyone", STD, POLICY_CLASS_SOURCE_ACCOUNT },
	{ "unnamed_account_without_directory_is_admin", "zoe", "ldap-corp",
	    STD, "Everyone", ADM, POLICY_CLASS_SOURCE_NO_DIRECTORY },
	{ "stricter_entry_wins_over_standard_list", "bob", "payments", STD,
	    NULL, FIN, POLICY_CLASS_SOURCE_SYSTEM },
};

static bool
run_class_row(const struct class_row *row)
{
	const char *row_name = row->name;
	const char *groups[1];
	struct policy_decision d;
	struct policy_request req;
	int r;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, row->account);
	req.system = row->system;
	req.claimed_class = row->claim;
	if (row->group != NULL) {
		groups[0] = row->group;
		req.groups = groups;
		req.ngroups = 1;
	}
	r = policy_evaluate(tcfg, &req, NULL, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	ROW_CHECK(d.account_class == row->want, "class %s (%s)",
	    policy_class_name(d.account_class), d.class_reason);
	ROW_CHECK(d.class_source == row->src, "source %s (%s)",
	    policy_class_source_name(d.class_source), d.class_reason);
	ROW_CHECK(d.claimed_class == row->claim, "claimed class not echoed");
	/* the rule applied is the effective class's */
	ROW_CHECK(d.order_ttl_seconds == 600 + 10 * (int)row->want,
	    "ttl %lld is not the %s rule's", (long long)d.order_ttl_seconds,
	    policy_class_name(row->want));
	return true;
}

static void
account_class_is_the_strictest_of_claim_and_configuration(void)
{
	size_t i;

	for (i = 0; i < NELEM(class_rows); i++)
		CHECK(run_class_row(&class_rows[i]));
}

static void
admin_claimed_as_standard_stays_admin(void)
{
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_MFA_RESET, "adm-mallory");
	req.claimed_class = POLICY_CLASS_STANDARD;
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, NOW, &d), 0);
	CHECK_EQ(d.account_class, POLICY_CLASS_ADMIN);
	CHECK_EQ(d.configured_class, POLICY_CLASS_ADMIN);
	CHECK(strstr(d.class_reason, "adm-*") != NULL);
	CHECK(strstr(codes(&d), "approval:security_officer:2") != NULL);
}

/*
 * Evidence rules.  Each row: the queue and account, the evidence, the
 * verdicts expected per item, the route, state, and the missing codes.
 */
#define C_ POLICY_EVIDENCE_COUNTED
#define F_ POLICY_EVIDENCE_FAILED
#define RQ_ POLICY_EVIDENCE_REQUEST_CHANNEL
#define RC_ POLICY_EVIDENCE_RECOVERED_CHANNEL
#define SV_ POLICY_EVIDENCE_SELF_VERIFIED
#define DU_ POLICY_EVIDENCE_DUPLICATE
#define NORMAL POLICY_ROUTE_NORMAL
#define MANUAL POLICY_ROUTE_MANUAL_REVIEW

static const struct ev_row {
	const char			*name;
	enum policy_queue		 q;
	const char			*account;
	struct policy_evidence		 ev[4];
	size_t				 nev;
	enum policy_evidence_verdict	 verdicts[4];
	enum policy_route		 route;
	enum policy_state		 state;
	const char			*missing;
} ev_rows[] = {
	{ "evidence_over_the_request_channel_does_not_count", PR, "alice",
	    { { OOB, true, "hd-amy", "phone", "cb-1", AG } }, 1, { RQ_ },
	    MANUAL, POLICY_STATE_MANUAL_REVIEW,
	    "approval:security_officer:2 hold:seconds:5000" },
	{ "request_channel_item_ignored_other_counts", PR, "alice",
	    { { OOB, true, "hd-amy", "phone", "cb-1", AG },
	      { PRF, true, "hd-amy", "push", "p-1", AG } }, 2, { RQ_, C_ },
	    NORMAL, POLICY_STATE_READY, "" },
	{ "evidence_over_the_recovered_channel_does_not_count", MR, "alice",
	    { { OOB, true, "hd-amy", "sms", "cb-1", AG },
	      { IDD, true, "hd-amy", "video", "id-1", AG } }, 2, { RC_, C_ },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE,
	    "evidence:types:1 evidence:count:1 approval:security_officer:1 "
	    "hold:seconds:200" },
	{ "failed_evidence_does_not_count", PR, "carol",
	    { { IDD, false, "hd-amy", "video", "id-1", AG },
	      { PRF, true, "hd-amy", "push", "p-1", AG } }, 2, { F_, C_ },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE,
	    "evidence:types:1 evidence:count:1 approval:security_officer:1 "
	    "approval:finance_controller:1 hold:seconds:120" },
	{ "evidence_verified_by_the_target_does_not_count", PR, "alice",
	    { { PRF, true, "Alice", "push", "p-1", AG } }, 1, { SV_ }, MANUAL,
	    POLICY_STATE_MANUAL_REVIEW,
	    "approval:security_officer:2 hold:seconds:5000" },
	{ "the_same_check_twice_counts_once", PR, "carol",
	    { { PRF, true, "hd-amy", "push", "p-1", AG },
	      { PRF, true, "hd-amy", "totp", "p-1", AG } }, 2, { C_, DU_ },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE,
	    "evidence:types:1 evidence:count:1 approval:security_officer:1 "
	    "approval:finance_controller:1 hold:seconds:120" },
	{ "two_items_of_one_type_are_one_type", PR, "carol",
	    { { PRF, true, "hd-amy", "push", "p-1", AG },
	      { PRF, true, "hd-amy", "totp", "t-1", AG } }, 2, { C_, C_ },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE,
	    "evidence:types:1 approval:security_officer:1 "
	    "approval:finance_controller:1 hold:seconds:120" },
	{ "required_type_is_named_when_missing", PR, "root",
	    { { PRF, true, "hd-amy", "push", "p-1", AG },
	      { OOB, true, "hd-amy", "email", "cb-1", AG } }, 2, { C_, C_ },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE,
	    "evidence:identity_document approval:security_officer:2 "
	    "hold:seconds:130" },
	{ "one_of_types_is_named_when_missing", MR, "alice",
	    { { PRF, true, "hd-amy", "push", "p-1", AG },
	      { HIS, true, "hd-amy", "chat", "h-1", AG } }, 2, { C_, C_ },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE,
	    "evidence:any_of:out_of_band_callback|identity_document "
	    "approval:security_officer:1 hold:seconds:200" },
	{ "no_trusted_factor_goes_to_manual_review", PR, "alice",
	    { { MGR, true, "mgr-dave", "chat", "m-1", AG },
	      { HIS, true, "hd-amy", "email", "h-1", AG } }, 2, { C_, C_ },
	    MANUAL, POLICY_STATE_MANUAL_REVIEW,
	    "approval:security_officer:2 hold:seconds:5000" },
	{ "no_evidence_at_all_goes_to_manual_review", RA, "alice", { { 0 } },
	    0, { 0 }, MANUAL, POLICY_STATE_MANUAL_REVIEW,
	    "approval:security_officer:2 hold:seconds:5000" },
	{ "manual_route_keeps_the_rule_s_approvals", PR, "carol",
	    { { HIS, true, "hd-amy", "email", "h-1", AG } }, 1, { C_ }, MANUAL,
	    POLICY_STATE_MANUAL_REVIEW, "approval:security_officer:2 "
	    "approval:finance_controller:1 hold:seconds:5000" },
};

static bool
run_ev_row(const struct ev_row *row)
{
	const char *row_name = row->name;
	struct policy_decision d;
	struct policy_request req;
	size_t i;
	int r;

	base_request(&req, row->q, row->account);
	req.evidence = row->ev;
	req.nevidence = row->nev;
	r = policy_evaluate(tcfg, &req, NULL, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	for (i = 0; i < row->nev; i++)
		ROW_CHECK(d.verdicts[i] == row->verdicts[i],
		    "item %zu: %s", i,
		    policy_evidence_verdict_name(d.verdicts[i]));
	ROW_CHECK(d.route == row->route, "route %s (%s)",
	    policy_route_name(d.route), d.route_reason);
	ROW_CHECK(d.state == row->state, "state %s",
	    policy_state_name(d.state));
	ROW_CHECK(strcmp(codes(&d), row->missing) == 0, "missing \"%s\"",
	    codes(&d));
	for (i = 0; i < d.nmissing; i++)
		ROW_CHECK(d.missing[i].text[0] != '\0', "no text for %s",
		    d.missing[i].code);
	return true;
}

static void
evidence_counts_only_when_independent_and_passing(void)
{
	size_t i;

	for (i = 0; i < NELEM(ev_rows); i++)
		CHECK(run_ev_row(&ev_rows[i]));
}

static void
manual_route_is_never_weaker_than_the_rule(void)
{
	const struct policy_evidence weak[] = {
		{ HIS, true, "hd-amy", "email", "h-1", AG },
	};
	struct policy_decision d;
	struct policy_request req;

	/* finance reactivation: so x1 + fc x1, hold 320, ttl 820, drop all;
	 * manual: so x2, hold 5000, ttl 300, drop all */
	base_request(&req, POLICY_QUEUE_REACTIVATION, "carol");
	req.evidence = weak;
	req.nevidence = 1;
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, NOW, &d), 0);
	CHECK_EQ(d.route, POLICY_ROUTE_MANUAL_REVIEW);
	CHECK(strstr(d.route_reason, "no trusted factor") != NULL);
	CHECK_EQ(d.napprovals, 2);
	CHECK_EQ(d.hold_seconds, 5000);
	CHECK_EQ(d.order_ttl_seconds, 300);
	CHECK(d.drop_all_privileged);
	CHECK_EQ(d.evidence_required, 0);
	/* evidence arriving later moves it to the normal route */
	req.evidence = strong;
	req.nevidence = NELEM(strong);
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, NOW, &d), 0);
	CHECK_EQ(d.route, POLICY_ROUTE_NORMAL);
	CHECK_EQ(d.hold_seconds, 320);
}

/*
 * approve_at = "box" holds for its queue and class only; the manual
 * route's adds to the rule it replaces, never takes it away.
 */
static void
approve_at_box_is_per_queue_and_class(void)
{
	struct policy_config *cfg = NULL;
	struct policy_decision d;
	struct policy_request req;
	char err[256], *t1, *text;

	CHECK(!tcfg->rules[POLICY_QUEUE_MFA_RESET][POLICY_CLASS_ADMIN]
	    .approve_at_box);
	/* the 230 s hold is mfa_reset/admin's alone */
	t1 = replace_once(TEST_CONF, "hold_seconds = 230;",
	    "hold_seconds = 230; approve_at = \"box\";");
	CHECK(t1 != NULL);
	text = t1 != NULL ? replace_once(t1, "hold_seconds = 430;",
	    "hold_seconds = 430; approve_at = \"anywhere\";") : NULL;
	CHECK(text != NULL);
	CHECK_EQ(policy_config_load_string(text, &cfg, err, sizeof(err)), 0);
	free(t1);
	free(text);
	if (cfg == NULL)
		return;
	CHECK(cfg->rules[POLICY_QUEUE_MFA_RESET][POLICY_CLASS_ADMIN]
	    .approve_at_box);
	CHECK(!cfg->rules[POLICY_QUEUE_PASSWORD_RESET][POLICY_CLASS_ADMIN]
	    .approve_at_box);
	CHECK(!cfg->rules[POLICY_QUEUE_PRIVILEGE_CHANGE][POLICY_CLASS_ADMIN]
	    .approve_at_box);
	CHECK(!cfg->rules[POLICY_QUEUE_MFA_RESET][POLICY_CLASS_FINANCE]
	    .approve_at_box);
	base_request(&req, POLICY_QUEUE_MFA_RESET, "root");
	req.evidence = strong;
	req.nevidence = NELEM(strong);
	CHECK_EQ(policy_evaluate(cfg, &req, NULL, NOW, &d), 0);
	CHECK(d.approve_at_box);
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	req.evidence = strong;
	req.nevidence = NELEM(strong);
	CHECK_EQ(policy_evaluate(cfg, &req, NULL, NOW, &d), 0);
	CHECK(!d.approve_at_box);
	/* the manual route's setting reaches every request routed there */
	cfg->manual_review.approve_at_box = true;
	base_request(&req, POLICY_QUEUE_REACTIVATION, "carol");
	req.evidence = NULL;
	req.nevidence = 0;
	CHECK_EQ(policy_evaluate(cfg, &req, NULL, NOW, &d), 0);
	CHECK_EQ(d.route, POLICY_ROUTE_MANUAL_REVIEW);
	CHECK(d.approve_at_box);
	policy_config_free(&cfg);
}

/* Risk signals (TEST_CONF: new_device +1000 s +1 evidence, unusual_geo
 * +2000 s, recent_compromise manual, recent_factor_change nothing). */
static const struct risk_row {
	const char		*name;
	bool			 risk[POLICY_RISK_COUNT];
	enum policy_route	 route;
	enum policy_state	 state;
	int64_t			 hold;
	const char		*missing;
} risk_rows[] = {
	{ "no_risk", { false, false, false, false }, NORMAL,
	    POLICY_STATE_READY, 0, "" },
	{ "new_device_adds_hold_and_evidence", { true, false, false, false },
	    NORMAL, POLICY_STATE_NEEDS_EVIDENCE, 1000,
	    "evidence:types:1 evidence:count:1 hold:seconds:1000" },
	{ "unusual_geolocation_adds_hold", { false, true, false, false },
	    NORMAL, POLICY_STATE_IN_HOLD, 2000, "hold:until:1700002000" },
	{ "holds_add_up", { true, true, false, false }, NORMAL,
	    POLICY_STATE_NEEDS_EVIDENCE, 3000,
	    "evidence:types:1 evidence:count:1 hold:seconds:3000" },
	{ "recent_compromise_forces_manual_review",
	    { false, false, true, false }, MANUAL,
	    POLICY_STATE_MANUAL_REVIEW, 5000,
	    "approval:security_officer:2 hold:seconds:5000" },
	{ "manual_route_still_adds_risk_holds", { false, true, true, false },
	    MANUAL, POLICY_STATE_MANUAL_REVIEW, 7000,
	    "approval:security_officer:2 hold:seconds:7000" },
	/* a forced manual route keeps the rule's and the risks' evidence */
	{ "forced_manual_route_keeps_what_evidence_a_risk_asks",
	    { true, false, true, false }, MANUAL, POLICY_STATE_NEEDS_EVIDENCE,
	    6000, "evidence:types:1 evidence:count:1 "
	    "approval:security_officer:2 hold:seconds:6000" },
	{ "signal_without_actions_changes_nothing",
	    { false, false, false, true }, NORMAL, POLICY_STATE_READY, 0,
	    "" },
};

static bool
run_risk_row(const struct risk_row *row)
{
	const struct policy_evidence one[] = {
		{ PRF, true, "hd-amy", "push", "p-1", AG },
	};
	const char *row_name = row->name;
	struct policy_decision d;
	struct policy_request req;
	int r;

	/* standard password reset: 1 item, no approval, no hold */
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "alice");
	req.evidence = one;
	req.nevidence = 1;
	memcpy(req.risk, row->risk, sizeof(req.risk));
	r = policy_evaluate(tcfg, &req, NULL, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	ROW_CHECK(d.route == row->route, "route %s (%s)",
	    policy_route_name(d.route), d.route_reason);
	ROW_CHECK(d.state == row->state, "state %s",
	    policy_state_name(d.state));
	ROW_CHECK(d.hold_seconds == row->hold, "hold %lld",
	    (long long)d.hold_seconds);
	ROW_CHECK(strcmp(codes(&d), row->missing) == 0, "missing \"%s\"",
	    codes(&d));
	if (row->risk[POLICY_RISK_RECENT_COMPROMISE])
		ROW_CHECK(strstr(d.route_reason, "recent_compromise") != NULL,
		    "reason \"%s\"", d.route_reason);
	return true;
}

static void
risk_signals_add_hold_evidence_or_manual_route(void)
{
	size_t i;

	for (i = 0; i < NELEM(risk_rows); i++)
		CHECK(run_risk_row(&risk_rows[i]));
}

/*
 * Approvals, for a finance password reset (security_officer x1 AND
 * finance_controller x1) and an admin one (security_officer x2).
 */
static const struct ap_row {
	const char		*name;
	const char		*account;
	struct policy_approval	 ap[4];
	size_t			 nap;
	enum policy_state	 state;
	const char		*missing;
} ap_rows[] = {
	{ "approvals_are_anded_across_groups", "carol",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "so-ben", "k2", true } }, 2,
	    NA, "approval:finance_controller:1 hold:seconds:120" },
	{ "both_groups_complete_the_approvals", "carol",
	    { { "security_officer", "so-ann", "k1", true },
	      { "finance_controller", "fc-cat", "k2", true } }, 2,
	    IH, "hold:until:1700000120" },
	{ "approvals_are_counted_per_group", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "finance_controller", "fc-cat", "k2", true } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "self_approval_does_not_count", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "HD-Bob", "k2", true } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "target_approval_does_not_count", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "root", "k2", true } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "one_officer_counts_once", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "SO-ANN", "k2", true } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "one_officer_cannot_fill_two_groups", "carol",
	    { { "security_officer", "x-both", "k1", true },
	      { "finance_controller", "x-both", "k2", true } }, 2,
	    NA, "approval:finance_controller:1 hold:seconds:120" },
	{ "one_credential_counts_once", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "so-ben", "k1", true } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "approval_without_user_verification_does_not_count", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "so-ben", "k2", false } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "approval_for_an_unrequired_group_does_not_count", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "it_manager", "it-eve", "k2", true } }, 2,
	    NA, "approval:security_officer:1 hold:seconds:130" },
	{ "retry_with_user_verification_counts", "root",
	    { { "security_officer", "so-ann", "k1", false },
	      { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "so-ben", "k2", true } }, 3,
	    IH, "hold:until:1700000130" },
	{ "two_distinct_officers_complete_admin", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "so-ben", "k2", true } }, 2,
	    IH, "hold:until:1700000130" },
};

static bool
run_ap_row(const struct ap_row *row)
{
	const char *row_name = row->name;
	struct policy_progress prog = { row->ap, row->nap, 0, false, false,
	    false, 0 };
	struct policy_decision d;
	struct policy_request req;
	size_t i;
	int r;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, row->account);
	r = policy_evaluate(tcfg, &req, &prog, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	ROW_CHECK(d.state == row->state, "state %s",
	    policy_state_name(d.state));
	ROW_CHECK(strcmp(codes(&d), row->missing) == 0, "missing \"%s\"",
	    codes(&d));
	/* a group never shows more approvals than it needs */
	for (i = 0; i < d.napprovals; i++)
		ROW_CHECK(d.approvals[i].counted <= d.approvals[i].required,
		    "%s counted %u of %u", d.approvals[i].group,
		    d.approvals[i].counted, d.approvals[i].required);
	return true;
}

/*
 * The agent is compared as a canonical identity: a request whose agent
 * was stored as typed ("officer-ben " with a space, capitals, a Cyrillic
 * letter, a zero-width space) may be any officer's, so no approval on
 * it counts and every officer is refused as its requester.
 */
static void
agent_variants_cannot_hide_the_requester(void)
{
	static const char *const variants[] = { "officer-ben ",
	    " officer-ben", "Officer-Ben", "officer-b\xd0\xb5n",
	    "officer-ben\xe2\x80\x8b", "\xef\xbd\x8f" "fficer-ben" };
	const struct policy_approval ap[] = {
		{ "security_officer", "officer-ben", "k1", true },
		{ "security_officer", "officer-ann", "k2", true } };
	struct policy_progress prog = { ap, 2, 0, false, false, false, 0 };
	enum policy_approver_fault fault;
	struct policy_decision d;
	struct policy_request req;
	size_t i;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	req.agent = "officer-ben";
	CHECK(policy_check_approver(&req, NULL, NULL, &ap[0], &fault) ==
	    TG_ERR_POLICY);
	CHECK_EQ(fault, POLICY_APPROVER_IS_REQUESTER);
	CHECK(policy_check_approver(&req, NULL, NULL, &ap[1], &fault) == 0);
	for (i = 0; i < NELEM(variants); i++) {
		req.agent = variants[i];
		CHECK(policy_check_approver(&req, NULL, NULL, &ap[0],
		    &fault) == TG_ERR_POLICY);
		CHECK_EQ(fault, POLICY_APPROVER_IS_REQUESTER);
		CHECK(policy_evaluate(tcfg, &req, &prog, NOW, &d) == 0);
		CHECK_EQ(d.state, POLICY_STATE_NEEDS_APPROVAL);
		CHECK_EQ(d.approvals[0].counted, 0);
	}
}

/*
 * A principal enrolled as an officer under another name (officer =
 * "officer-ben" for principal ben) is the requester under both.
 */
static void
agents_officer_name_is_the_requester_too(void)
{
	const struct policy_approval ap[] = {
		{ "security_officer", "officer-ben", "k1", true },
		{ "security_officer", "officer-ann", "k2", true } };
	struct policy_progress prog = { ap, 2, 0, false, false, false, 0 };
	enum policy_approver_fault fault;
	struct policy_decision d;
	struct policy_request req;

	CHECK(strcmp(policy_officer_of(tcfg, "ben"), "officer-ben") == 0);
	CHECK(policy_officer_of(tcfg, "hd-bob") == NULL);
	CHECK(policy_officer_of(tcfg, "officer-ben") == NULL);
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	req.agent = "ben";
	req.agent_officer = policy_officer_of(tcfg, req.agent);
	CHECK(policy_check_approver(&req, NULL, NULL, &ap[0], &fault) ==
	    TG_ERR_POLICY);
	CHECK_EQ(fault, POLICY_APPROVER_IS_REQUESTER);
	CHECK(policy_check_approver(&req, NULL, NULL, &ap[1], &fault) == 0);
	CHECK(policy_evaluate(tcfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.approvals[0].counted, 1);
	/* the control: without the mapping both count */
	req.agent_officer = NULL;
	CHECK(policy_evaluate(tcfg, &req, &prog, NOW, &d) == 0);
	CHECK_EQ(d.approvals[0].counted, 2);
}

static void
approvals_count_per_group_with_separation_of_duties(void)
{
	size_t i;

	for (i = 0; i < NELEM(ap_rows); i++)
		CHECK(run_ap_row(&ap_rows[i]));
}

/*
 * policy_check_approver on a password reset of root (admin: security_officer
 * x2) or carol (finance: security_officer x1 AND finance_controller x1).
 */
static const struct approver_row {
	const char			*name;
	const char			*account;
	struct policy_approval		 prior[2];
	size_t				 nprior;
	struct policy_approval		 cand;
	bool				 with_decision;
	enum policy_approver_fault	 want;
} approver_rows[] = {
	{ "first_approval_is_accepted", "root", { { 0 } }, 0,
	    { "security_officer", "so-ann", "k1", true }, true,
	    POLICY_APPROVER_OK },
	{ "self_approval_is_refused", "root", { { 0 } }, 0,
	    { "security_officer", "hd-bob", "k1", true }, true,
	    POLICY_APPROVER_IS_REQUESTER },
	{ "target_approval_is_refused", "root", { { 0 } }, 0,
	    { "security_officer", "Root", "k1", true }, false,
	    POLICY_APPROVER_IS_TARGET },
	{ "approval_without_uv_is_refused", "root", { { 0 } }, 0,
	    { "security_officer", "so-ann", "k1", false }, false,
	    POLICY_APPROVER_NOT_USER_VERIFIED },
	{ "second_approval_by_the_same_officer_is_refused", "root",
	    { { "security_officer", "so-ann", "k1", true } }, 1,
	    { "security_officer", "so-ann", "k2", true }, true,
	    POLICY_APPROVER_ALREADY_APPROVED },
	{ "same_officer_for_another_group_is_refused", "root",
	    { { "finance_controller", "so-ann", "k1", true } }, 1,
	    { "security_officer", "so-ann", "k2", true }, false,
	    POLICY_APPROVER_ALREADY_APPROVED },
	{ "reused_credential_is_refused", "root",
	    { { "security_officer", "so-ann", "k1", true } }, 1,
	    { "security_officer", "so-ben", "k1", true }, true,
	    POLICY_APPROVER_CREDENTIAL_REUSED },
	{ "retry_after_an_unverified_attempt_is_accepted", "root",
	    { { "security_officer", "so-ann", "k1", false } }, 1,
	    { "security_officer", "so-ann", "k1", true }, true,
	    POLICY_APPROVER_OK },
	{ "distinct_second_officer_is_accepted", "root",
	    { { "security_officer", "so-ann", "k1", true } }, 1,
	    { "security_officer", "so-ben", "k2", true }, true,
	    POLICY_APPROVER_OK },
	{ "group_not_required_is_refused", "root", { { 0 } }, 0,
	    { "finance_controller", "fc-cat", "k1", true }, true,
	    POLICY_APPROVER_GROUP_NOT_NEEDED },
	{ "approval_for_a_full_group_is_refused", "carol",
	    { { "security_officer", "so-ann", "k1", true } }, 1,
	    { "security_officer", "so-ben", "k2", true }, true,
	    POLICY_APPROVER_GROUP_NOT_NEEDED },
	{ "approval_for_the_open_group_is_accepted", "carol",
	    { { "security_officer", "so-ann", "k1", true } }, 1,
	    { "finance_controller", "fc-cat", "k2", true }, true,
	    POLICY_APPROVER_OK },
	{ "approval_once_complete_is_refused", "root",
	    { { "security_officer", "so-ann", "k1", true },
	      { "security_officer", "so-ben", "k2", true } }, 2,
	    { "security_officer", "so-cy", "k3", true }, true,
	    POLICY_APPROVER_NOT_AWAITING_APPROVAL },
};

static bool
run_approver_row(const struct approver_row *row)
{
	const char *row_name = row->name;
	struct policy_progress prog = { row->prior, row->nprior, 0, false,
	    false, false, 0 };
	enum policy_approver_fault f = (enum policy_approver_fault)99;
	struct policy_decision d;
	struct policy_request req;
	int r;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, row->account);
	r = policy_evaluate(tcfg, &req, &prog, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	r = policy_check_approver(&req, &prog, row->with_decision ? &d : NULL,
	    &row->cand, &f);
	ROW_CHECK(f == row->want, "fault %s", policy_approver_fault_name(f));
	ROW_CHECK(r == (row->want == POLICY_APPROVER_OK ? 0 : TG_ERR_POLICY),
	    "returned %d", r);
	return true;
}

static void
check_approver_reports_which_rule_failed(void)
{
	size_t i;

	for (i = 0; i < NELEM(approver_rows); i++)
		CHECK(run_approver_row(&approver_rows[i]));
}

static void
approvals_wait_until_evidence_is_complete(void)
{
	const struct policy_evidence one[] = {
		{ PRF, true, "hd-amy", "push", "p-1", AG },
	};
	struct policy_approval cand = { "security_officer", "so-ann", "k1",
	    true };
	enum policy_approver_fault f;
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	req.evidence = one;
	req.nevidence = 1;
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, NOW, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	CHECK_EQ(policy_check_approver(&req, NULL, &d, &cand, &f),
	    TG_ERR_POLICY);
	CHECK_EQ(f, POLICY_APPROVER_NOT_AWAITING_APPROVAL);
}

static void
missing_list_names_what_is_missing_in_order(void)
{
	const struct policy_evidence ev[] = {
		{ OOB, true, "hd-amy", "email", "cb-1", AG },
	};
	const struct policy_approval ap[] = {
		{ "security_officer", "so-ann", "k1", true },
	};
	struct policy_progress prog = { ap, 1, 0, false, false, false,
	    0 };
	struct policy_decision d;
	struct policy_request req;

	/* mfa admin: 3 items of 3 types incl. identity_document; so x2 */
	base_request(&req, POLICY_QUEUE_MFA_RESET, "root");
	req.evidence = ev;
	req.nevidence = 1;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_EVIDENCE);
	CHECK(strcmp(codes(&d), "evidence:identity_document evidence:types:2 "
	    "evidence:count:2 approval:security_officer:1 hold:seconds:230")
	    == 0);
	CHECK(strstr(d.missing[0].text, "identity_document") != NULL);
	CHECK(strstr(d.missing[0].text, "phone") != NULL);
	CHECK(strstr(d.missing[0].text, "sms") != NULL);
	CHECK(strstr(d.missing[3].text, "security_officer") != NULL);
	CHECK_EQ(d.evidence_counted, 1);
	CHECK_EQ(d.evidence_required, 3);
	CHECK_EQ(d.evidence_types_required, 3);
	CHECK_EQ(d.approvals[0].counted, 1);
	CHECK_EQ(d.approvals[0].required, 2);
	CHECK_EQ(d.hold_start, 0);
	CHECK_EQ(d.hold_until, 0);
}

static void
veto_and_deny_are_final(void)
{
	struct policy_progress prog = { everyone, NELEM(everyone), NOW, false,
	    false, false, 0 };
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 10, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	/* 1700000130 in UTC, for people */
	CHECK(strstr(d.missing[0].text, "2023-11-14T22:15:30Z") != NULL);
	prog.vetoed = true;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 10, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_VETOED);
	CHECK_EQ(d.nmissing, 0);
	/* a veto stays a veto after the hold would have ended */
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 100000, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_VETOED);
	prog.denied = true;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 10, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_DENIED);
}

static void
request_the_signer_refused_stays_parked(void)
{
	struct policy_progress prog = { everyone, NELEM(everyone), NOW, false,
	    false, true, 0 };
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	/* parked: neither in hold nor ready, however late it is */
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 10, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_SIGN_FAILED);
	CHECK_EQ(d.nmissing, 0);
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 100000, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_SIGN_FAILED);
	CHECK(strcmp(policy_state_name(d.state), "sign_failed") == 0);
	/* a denial still closes it */
	prog.denied = true;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 10, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_DENIED);
}

static void
hold_restarts_when_the_request_falls_back(void)
{
	struct policy_progress prog = { everyone, NELEM(everyone), NOW, false,
	    false, false, 0 };
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 50, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	CHECK_EQ(d.hold_until, NOW + 130);
	/* an approval withdrawn: back to needs_approval, hold cleared */
	prog.napprovals = 1;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 60, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_NEEDS_APPROVAL);
	CHECK_EQ(d.hold_start, 0);
	/* the caller stores hold_start = 0; complete again: a full hold */
	prog.hold_start = d.hold_start;
	prog.napprovals = NELEM(everyone);
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 70, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	CHECK_EQ(d.hold_until, NOW + 70 + 130);
}

static void
extended_hold_ends_later_never_sooner(void)
{
	struct policy_progress prog = { everyone, NELEM(everyone), NOW, false,
	    false, false, NOW + 500 };
	struct policy_decision d;
	struct policy_request req;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "root");
	/* the 130 s hold would be over; extended, it runs to NOW + 500 */
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 200, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	CHECK_EQ(d.hold_start, NOW);
	CHECK_EQ(d.hold_until, NOW + 500);
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 500, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_READY);
	/* an earlier end never shortens the hold */
	prog.hold_end = NOW + 10;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 100, &d), 0);
	CHECK_EQ(d.state, POLICY_STATE_IN_HOLD);
	CHECK_EQ(d.hold_until, NOW + 130);
	/* an extension of a hold that has not started means nothing */
	prog.hold_start = 0;
	prog.hold_end = NOW + 5000;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 100, &d), 0);
	CHECK_EQ(d.hold_until, NOW + 100 + 130);
	/* out of range */
	prog.hold_end = -1;
	CHECK_EQ(policy_evaluate(tcfg, &req, &prog, NOW + 100, &d),
	    TG_ERR_INVALID);
}

/* Requests the policy refuses to evaluate, and the field it names. */
static void
bad_requests_are_refused_naming_the_field(void)
{
	struct policy_evidence ev[1] = { { PRF, true, "hd-amy", "push",
	    "p-1", AG } };
	struct policy_evidence many[POLICY_MAX_EVIDENCE + 1];
	struct policy_decision d;
	struct policy_request req;
	char err[256];
	size_t i;

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "alice");
	req.requester_channel = "fax";
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "requester.channel: unknown channel") != NULL);
	/* channels are exact: a capital letter is another channel */
	req.requester_channel = "Phone";
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);

	base_request(&req, POLICY_QUEUE_MFA_RESET, "alice");
	req.recovered_channel = "";
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "target.recovered_channel") != NULL);

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "alice");
	ev[0].channel = "carrier_pigeon";
	req.evidence = ev;
	req.nevidence = 1;
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "evidence[0].channel") != NULL);
	ev[0].channel = "push";
	ev[0].type = (enum policy_evidence_type)POLICY_EVIDENCE_COUNT;
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "evidence[0].type") != NULL);
	ev[0].type = PRF;
	ev[0].verifier = "";
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "evidence[0].verifier") != NULL);

	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "ali\nce");
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "target.account") != NULL);

	base_request(&req, (enum policy_queue)42, "alice");
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_INVALID);
	CHECK(strstr(err, "queue") != NULL);

	for (i = 0; i < NELEM(many); i++)
		many[i] = strong[0];
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "alice");
	req.evidence = many;
	req.nevidence = NELEM(many);
	CHECK_EQ(policy_request_check(tcfg, &req, err, sizeof(err)),
	    TG_ERR_TOO_LONG);
	CHECK(strstr(err, "evidence") != NULL);
	/* evaluate refuses the same and leaves the decision untouched */
	memset(&d, 0x5a, sizeof(d));
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, NOW, &d), TG_ERR_TOO_LONG);
	CHECK_EQ(((unsigned char *)&d)[0], 0x5a);
	CHECK_EQ(((unsigned char *)&d)[sizeof(d) - 1], 0x5a);
	/* and a time outside its range */
	req.nevidence = 1;
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, -1, &d), TG_ERR_INVALID);
	CHECK_EQ(policy_evaluate(tcfg, &req, NULL, POLICY_MAX_TIME + 1, &d),
	    TG_ERR_INVALID);
}

static void
names_round_trip(void)
{
	enum policy_queue q;
	enum policy_class c;
	enum policy_evidence_type t;
	enum policy_risk r;
	enum policy_role ro;
	enum policy_state s;
	int i;

	for (i = 0; i < POLICY_QUEUE_COUNT; i++) {
		CHECK_EQ(policy_queue_parse(policy_queue_name(i), &q), 0);
		CHECK_EQ(q, i);
	}
	for (i = 0; i < POLICY_CLASS_COUNT; i++) {
		CHECK_EQ(policy_class_parse(policy_class_name(i), &c), 0);
		CHECK_EQ(c, i);
	}
	for (i = 0; i < POLICY_EVIDENCE_COUNT; i++) {
		CHECK_EQ(policy_evidence_parse(policy_evidence_name(i), &t), 0);
		CHECK_EQ(t, i);
	}
	for (i = 0; i < POLICY_RISK_COUNT; i++) {
		CHECK_EQ(policy_risk_parse(policy_risk_name(i), &r), 0);
		CHECK_EQ(r, i);
	}
	for (i = 0; i < POLICY_ROLE_COUNT; i++) {
		CHECK_EQ(policy_role_parse(policy_role_name(i), &ro), 0);
		CHECK_EQ(ro, i);
	}
	for (i = 0; i < POLICY_STATE_COUNT; i++) {
		CHECK_EQ(policy_state_parse(policy_state_name(i), &s), 0);
		CHECK_EQ(s, i);
	}
	q = POLICY_QUEUE_MFA_RESET;
	CHECK_EQ(policy_queue_parse("Password_Reset", &q), TG_ERR_INVALID);
	CHECK_EQ(q, POLICY_QUEUE_MFA_RESET);
	CHECK_EQ(policy_class_parse(NULL, &c), TG_ERR_INVALID);
	CHECK(strcmp(policy_queue_name((enum policy_queue)99), "?") == 0);
	CHECK(strcmp(policy_approver_fault_name(POLICY_APPROVER_IS_TARGET),
	    "is_target") == 0);
	CHECK(strcmp(tg_strerror(TG_ERR_CONFIG), "unknown error") != 0);
	CHECK(strcmp(tg_strerror(TG_ERR_POLICY), "unknown error") != 0);
}

/* ---- class from the directory's facts */

#define DA_DN	"cn=Domain Admins,ou=groups,dc=corp"
#define DEL_DN	"cn=Delegated Admins,ou=groups,dc=corp"
#define FIN_DN	"cn=Finance,ou=groups,dc=corp"
#define STAFF_DN "cn=Staff,ou=groups,dc=corp"

static struct policy_config *
facts_config(void)
{
	struct policy_config *cfg = NULL;
	char err[512], *a, *b, *c;

	a = replace_once(TEST_CONF, "\tshared = { patterns = [\"svc-*\"];\n",
	    "\tshared = { patterns = [\"svc-*\"];\n"
	    "\t\tdir_types = [\"sharedMailbox\", \"serviceAccount\"];\n");
	b = a == NULL ? NULL : replace_once(a, "\tfinance = { accounts",
	    "\tfinance = { dir_groups = [\"" FIN_DN "\"]; accounts");
	c = b == NULL ? NULL : replace_once(b, "\tadmin = { accounts",
	    "\tadmin = { dir_groups = [\"CN=Domain Admins, OU=Groups,"
	    "DC=corp\", \"" DEL_DN "\"];\n\t\tdir_ous = [\"ou=admins,"
	    "dc=corp\"]; accounts");
	free(a);
	free(b);
	if (c == NULL)
		return NULL;
	a = malloc(strlen(c) + 512);
	if (a != NULL)
		snprintf(a, strlen(c) + 512, "%sdirectory = { preset = "
		    "\"openldap\"; uri = \"ldap://127.0.0.1:3890\";\n"
		    "\ttls = \"none\"; bind = { method = \"simple\";\n"
		    "\tdn = \"cn=tapgate,dc=corp\";\n\tpassword_file = "
		    "\"/etc/tapgate/directory.pw\"; };\n"
		    "\tbase = \"dc=corp\"; };\n", c);
	free(c);
	if (a != NULL && policy_config_load_string(a, &cfg, err,
	    sizeof(err)) != 0) {
		printf("# facts config: %s\n", err);
		cfg = NULL;
	}
	free(a);
	return cfg;
}

static void
dns_compare_as_directories_do(void)
{
	char out[POLICY_FACT_DN_MAX + 1];

	CHECK(policy_dn_same("CN=Domain Admins, OU=Groups,DC=corp", DA_DN));
	CHECK(policy_dn_same("cn = domain  admins ,ou=groups,dc=corp", DA_DN));
	CHECK(!policy_dn_same("cn=Domain Admins2,ou=groups,dc=corp", DA_DN));
	CHECK(!policy_dn_same("cn=DomainAdmins,ou=groups,dc=corp", DA_DN));
	CHECK(!policy_dn_same("cn=Domain Admins,ou=groups", DA_DN));
	CHECK(policy_dn_same("cn=a\\,b,dc=corp", "CN=A\\,B,DC=CORP"));
	CHECK(!policy_dn_same("cn=a\\,b,dc=corp", "cn=a,b,dc=corp"));
	CHECK(policy_dn_under("uid=bob,ou=Admins,dc=corp",
	    "ou=admins,dc=corp"));
	CHECK(!policy_dn_under("ou=admins,dc=corp", "ou=admins,dc=corp"));
	CHECK(!policy_dn_under("uid=bob,ou=xadmins,dc=corp",
	    "ou=admins,dc=corp"));
	/* an escaped ',' joins its RDN: no OU boundary there */
	CHECK(!policy_dn_under("uid=bob\\,ou=admins,dc=corp",
	    "ou=admins,dc=corp"));
	CHECK_EQ(policy_dn_normalize("", out, sizeof(out)), TG_ERR_INVALID);
	CHECK_EQ(policy_dn_normalize("Domain Admins", out, sizeof(out)),
	    TG_ERR_INVALID);
	CHECK_EQ(policy_dn_normalize("cn=x,", out, sizeof(out)),
	    TG_ERR_INVALID);
	CHECK_EQ(policy_dn_normalize("=x", out, sizeof(out)), TG_ERR_INVALID);
	CHECK_EQ(policy_dn_normalize("cn=x\\", out, sizeof(out)),
	    TG_ERR_INVALID);
	CHECK_EQ(policy_dn_normalize("cn=x\ty", out, sizeof(out)),
	    TG_ERR_INVALID);
	CHECK_EQ(policy_dn_normalize("cn=a=b, dc=corp", out, sizeof(out)), 0);
	CHECK(strcmp(out, "cn=a=b,dc=corp") == 0);
	CHECK_EQ(policy_dn_normalize(DA_DN, out, 8), TG_ERR_TOO_LONG);
}

static const struct facts_row {
	const char		*name;
	const char		*account;
	const char		*dn;
	const char		*group;		/* one directory group */
	const char		*type;		/* one account type */
	enum policy_class	 claim;
	enum policy_class	 want;
	enum policy_class_source src;
	const char		*reason;	/* in class_reason */
} facts_rows[] = {
	{ "domain_admin_without_a_hint_in_her_name_is_admin", "alice",
	    "uid=alice,ou=people,dc=corp", DA_DN, "person", STD, ADM,
	    POLICY_CLASS_SOURCE_DIR_GROUP, "member of " DA_DN },
	{ "group_dn_in_other_case_and_spacing_matches", "alice",
	    "uid=alice,ou=people,dc=corp",
	    "CN=DOMAIN ADMINS,  ou=groups, DC=Corp", NULL, STD, ADM,
	    POLICY_CLASS_SOURCE_DIR_GROUP, "classes.admin.dir_groups" },
	{ "delegated_admin_is_admin", "dora", "uid=dora,ou=people,dc=corp",
	    DEL_DN, NULL, STD, ADM, POLICY_CLASS_SOURCE_DIR_GROUP,
	    "member of " DEL_DN },
	{ "entry_under_admin_ou_is_admin", "opal",
	    "uid=opal,ou=Admins,dc=corp", NULL, NULL, STD, ADM,
	    POLICY_CLASS_SOURCE_DIR_OU, "entry under ou=admins,dc=corp" },
	{ "finance_clerk_is_finance", "fiona", "uid=fiona,ou=people,dc=corp",
	    FIN_DN, "person", STD, FIN, POLICY_CLASS_SOURCE_DIR_GROUP,
	    "member of " FIN_DN },
	{ "shared_mailbox_is_shared", "sales", "uid=sales,ou=people,dc=corp",
	    NULL, "SharedMailbox", STD, SHR, POLICY_CLASS_SOURCE_DIR_TYPE,
	    "account type SharedMailbox" },
	{ "service_account_is_shared", "backup",
	    "uid=backup,ou=people,dc=corp", STAFF_DN, "serviceAccount", STD,
	    SHR, POLICY_CLASS_SOURCE_DIR_TYPE, "classes.shared.dir_types" },
	{ "standard_user_is_standard", "sam", "uid=sam,ou=people,dc=corp",
	    STAFF_DN, "person", STD, STD, POLICY_CLASS_SOURCE_DEFAULT,
	    "no class entry" },
	{ "claim_raises_a_standard_user", "sam", "uid=sam,ou=people,dc=corp",
	    STAFF_DN, "person", FIN, FIN, POLICY_CLASS_SOURCE_CLAIM,
	    "claimed" },
	{ "claim_cannot_lower_a_domain_admin", "alice",
	    "uid=alice,ou=people,dc=corp", DA_DN, NULL, STD, ADM,
	    POLICY_CLASS_SOURCE_DIR_GROUP, "can only make it stricter" },
	{ "facts_win_over_a_weaker_name", "svc-alice",
	    "uid=svc-alice,ou=people,dc=corp", DA_DN, NULL, SHR, ADM,
	    POLICY_CLASS_SOURCE_DIR_GROUP, "member of" },
	{ "names_still_raise_above_facts", "root",
	    "uid=root,ou=people,dc=corp", FIN_DN, NULL, STD, ADM,
	    POLICY_CLASS_SOURCE_ACCOUNT, "classes.admin.accounts" },
};

static bool
run_facts_row(const struct policy_config *cfg, const struct facts_row *row)
{
	const char *row_name = row->name;
	const char *groups[1], *types[1];
	struct policy_dir_facts f;
	struct policy_decision d;
	struct policy_request req;
	int r;

	memset(&f, 0, sizeof(f));
	f.dn = row->dn;
	groups[0] = row->group;
	types[0] = row->type;
	f.groups = groups;
	f.ngroups = row->group != NULL;
	f.types = types;
	f.ntypes = row->type != NULL;
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, row->account);
	req.claimed_class = row->claim;
	req.directory = &f;
	r = policy_evaluate(cfg, &req, NULL, NOW, &d);
	ROW_CHECK(r == 0, "evaluate returned %d", r);
	ROW_CHECK(d.account_class == row->want, "class %s (%s)",
	    policy_class_name(d.account_class), d.class_reason);
	ROW_CHECK(d.class_source == row->src, "source %s (%s)",
	    policy_class_source_name(d.class_source), d.class_reason);
	ROW_CHECK(strstr(d.class_reason, row->reason) != NULL,
	    "reason \"%s\" lacks \"%s\"", d.class_reason, row->reason);
	return true;
}

static void
class_comes_from_the_directorys_facts(void)
{
	struct policy_config *cfg = facts_config();
	size_t i;

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_EQ(cfg->classes[POLICY_CLASS_ADMIN].ndir_groups, 2);
	CHECK_EQ(cfg->classes[POLICY_CLASS_SHARED].ndir_types, 2);
	for (i = 0; i < NELEM(facts_rows); i++)
		CHECK(run_facts_row(cfg, &facts_rows[i]));
	policy_config_free(&cfg);
}

static void
privileged_groups_are_those_a_class_names(void)
{
	struct policy_config *cfg = facts_config();

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK(policy_dir_group_privileged(cfg, DA_DN));
	CHECK(policy_dir_group_privileged(cfg, "CN=FINANCE, OU=Groups,"
	    "DC=corp"));
	CHECK(!policy_dir_group_privileged(cfg, STAFF_DN));
	CHECK(!policy_dir_group_privileged(cfg, "not a dn"));
	CHECK(!policy_dir_group_privileged(cfg, NULL));
	CHECK(!policy_dir_group_privileged(NULL, DA_DN));
	policy_config_free(&cfg);
}

static void
truncated_groups_are_the_strictest_class(void)
{
	struct policy_config *cfg = facts_config();
	const char *groups[1] = { STAFF_DN };
	struct policy_dir_facts f = { "uid=sam,ou=people,dc=corp", groups, 1,
	    true, NULL, 0 };
	struct policy_decision d;
	struct policy_request req;

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	base_request(&req, POLICY_QUEUE_PASSWORD_RESET, "sam");
	req.directory = &f;
	CHECK_EQ(policy_evaluate(cfg, &req, NULL, NOW, &d), 0);
	CHECK_EQ(d.account_class, POLICY_CLASS_ADMIN);
	CHECK_EQ(d.class_source, POLICY_CLASS_SOURCE_NO_FACTS);
	/* a directory's facts out of bounds are refused */
	f.groups_truncated = false;
	f.dn = "uid=sam\n,dc=corp";
	CHECK_EQ(policy_evaluate(cfg, &req, NULL, NOW, &d), TG_ERR_INVALID);
	policy_config_free(&cfg);
}

/*
 * Every combination, in a small universe, of claimed class, directory
 * groups (a subset of four, each written as the directory may write
 * it), account type, OU and account name form: the decided class is
 * never below what the facts demand (computed here from the universe,
 * not by the policy), nor below the claim, and never above the stricter
 * of the two when the name says nothing.
 */
static void
class_is_never_below_what_the_facts_demand(void)
{
	static const char *const gdn[4][2] = {
		{ DA_DN, "CN=DOMAIN ADMINS, OU=GROUPS, DC=CORP" },
		{ DEL_DN, "cn=delegated admins ,ou=groups,dc=corp" },
		{ FIN_DN, "CN=Finance,OU=Groups,DC=Corp" },
		{ STAFF_DN, "cn=staff,ou=groups,dc=corp" },
	};
	static const enum policy_class gcls[4] = { ADM, ADM, FIN, STD };
	static const char *const types[] = { NULL, "person",
	    "sharedMailbox", "SERVICEACCOUNT" };
	static const enum policy_class tcls[] = { STD, STD, SHR, SHR };
	static const char *const dns[] = { "uid=%s,ou=people,dc=corp",
	    "uid=%s,OU=Admins,dc=corp", "uid=%s\\,ou=admins,dc=corp" };
	static const enum policy_class ocls[] = { STD, ADM, STD };
	static const char *const names[] = { "alice", "ALICE", "Alice",
	    "a.lice" };
	struct policy_config *cfg = facts_config();
	const char *groups[4], *tv[1];
	struct policy_dir_facts f;
	struct policy_decision d;
	struct policy_request req;
	enum policy_class demand, want;
	unsigned claim, set, form, t, o, n, g;
	char dn[128];
	size_t bad = 0, runs = 0;

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	for (claim = 0; claim < POLICY_CLASS_COUNT; claim++)
	for (set = 0; set < 16; set++)
	for (form = 0; form < 2; form++)
	for (t = 0; t < NELEM(types); t++)
	for (o = 0; o < NELEM(dns); o++)
	for (n = 0; n < NELEM(names); n++) {
		memset(&f, 0, sizeof(f));
		demand = STD;
		for (g = 0; g < 4; g++) {
			if (!(set & (1u << g)))
				continue;
			groups[f.ngroups++] = gdn[g][form];
			if (gcls[g] > demand)
				demand = gcls[g];
		}
		if (tcls[t] > demand)
			demand = tcls[t];
		if (ocls[o] > demand)
			demand = ocls[o];
		snprintf(dn, sizeof(dn), dns[o], names[n]);
		f.dn = dn;
		f.groups = groups;
		tv[0] = types[t];
		f.types = tv;
		f.ntypes = types[t] != NULL;
		base_request(&req, POLICY_QUEUE_MFA_RESET, names[n]);
		req.claimed_class = (enum policy_class)claim;
		req.directory = &f;
		runs++;
		if (policy_evaluate(cfg, &req, NULL, NOW, &d) != 0) {
			bad++;
			continue;
		}
		want = demand > (enum policy_class)claim ? demand :
		    (enum policy_class)claim;
		if (d.account_class != want) {
			if (bad++ < 5)
				printf("#   claim %s groups %u form %u type %s "
				    "dn %s name %s: %s, want %s (%s)\n",
				    policy_class_name(claim), set, form,
				    types[t] ? types[t] : "-", dn, names[n],
				    policy_class_name(d.account_class),
				    policy_class_name(want), d.class_reason);
		}
	}
	printf("# %zu combinations, %zu wrong\n", runs, bad);
	CHECK_EQ(runs, 4u * 16 * 2 * 4 * 3 * 4);
	CHECK_EQ(bad, 0);
	policy_config_free(&cfg);
}

int
main(void)
{
	char err[512];

	if (policy_config_load_string(TEST_CONF, &tcfg, err,
	    sizeof(err)) != 0) {
		printf("# TEST_CONF: %s\nnot ok test_config_loads\n", err);
		return 1;
	}
	RUN(shipped_config_loads);
	RUN(shipped_config_gives_uid0_every_role);
	RUN(shipped_config_admin_and_finance_always_need_approval);
	RUN(shipped_config_loads_from_memory_too);
	RUN(shipped_config_privileged_classes_need_verified_evidence);
	RUN(typed_evidence_never_makes_an_admin_request_ready);
	RUN(evidence_verified_by_the_requester_never_counts);
	RUN(manual_route_needs_proofing_and_keeps_the_evidence);
	RUN(config_values_are_loaded);
	RUN(roles_come_from_uid_and_gids);
	RUN(principal_comes_from_uid_before_gid);
	RUN(certificate_callers_are_their_fingerprint_and_no_uid);
	RUN(console_users_are_their_name_and_no_uid);
	RUN(only_an_integration_names_other_agents);
	RUN(team_scope_bounds_queue_class_and_system);
	RUN(team_scope_holds_the_decided_class_never_the_claim);
	RUN(canonical_identities_are_lowercase_idents);
	RUN(broken_configs_fail_naming_the_setting);
	RUN(config_error_names_the_line);
	RUN(config_over_size_limit_is_refused);
	RUN(config_file_errors_are_io_or_config);
	RUN(config_free_accepts_null);
	RUN(each_queue_and_class_reaches_the_state_the_policy_says);
	RUN(account_class_is_the_strictest_of_claim_and_configuration);
	RUN(admin_claimed_as_standard_stays_admin);
	RUN(dns_compare_as_directories_do);
	RUN(class_comes_from_the_directorys_facts);
	RUN(privileged_groups_are_those_a_class_names);
	RUN(truncated_groups_are_the_strictest_class);
	RUN(class_is_never_below_what_the_facts_demand);
	RUN(evidence_counts_only_when_independent_and_passing);
	RUN(manual_route_is_never_weaker_than_the_rule);
	RUN(approve_at_box_is_per_queue_and_class);
	RUN(risk_signals_add_hold_evidence_or_manual_route);
	RUN(approvals_count_per_group_with_separation_of_duties);
	RUN(check_approver_reports_which_rule_failed);
	RUN(agent_variants_cannot_hide_the_requester);
	RUN(agents_officer_name_is_the_requester_too);
	RUN(approvals_wait_until_evidence_is_complete);
	RUN(missing_list_names_what_is_missing_in_order);
	RUN(veto_and_deny_are_final);
	RUN(request_the_signer_refused_stays_parked);
	RUN(extended_hold_ends_later_never_sooner);
	RUN(hold_restarts_when_the_request_falls_back);
	RUN(bad_requests_are_refused_naming_the_field);
	RUN(names_round_trip);
	policy_config_free(&tcfg);
	TAP_EXIT();
}

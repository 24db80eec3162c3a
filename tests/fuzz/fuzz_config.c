/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the configuration loader.  The input is a
 * failure-injection seed (wrap.h: WRAP_SEED_LEN bytes, 0 for none), then
 * config text for policy_config_load_string, which runs with failures
 * injected: a load that fails for want of memory must still refuse cleanly
 * (no config, one line naming the config).  Whatever loads is then put to
 * work, without injection: requests for every queue against several
 * accounts and claims are evaluated, with and without approvals, and the
 * decision's invariants are checked (abort() makes a violation a crash), so
 * a config that loads but breaks the evaluation shows up too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "policy/policy.h"
#include "wrap.h"

#define FUZZ_MAX	(64 * 1024)
#define NOW		INT64_C(1700000000)

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__lsan_default_suppressions(void);

/*
 * libconfig 1.5 (Debian's) leaks the text of a string token that is the
 * lookahead at a syntax error ("a = 0 \"x\";"): its grammar has no
 * %destructor.  That is libconfig's leak, on a config the daemon refuses
 * (and then exits), so only allocations made inside libconfig are
 * suppressed; a leak of ours still fails the run.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static const char *const accounts[] = { "alice", "root", "adm-x",
    "svc-backup", "fin-bob", "carol", "Administrator" };
static const char *const groups[] = { "Domain Admins", "Finance",
    "Shared Mailboxes" };

static const struct policy_approval approvals[] = {
	{ "security_officer", "so-ann", "k1", true },
	{ "security_officer", "so-ben", "k2", true },
	{ "finance_controller", "fc-cat", "k3", true },
	{ "it_manager", "it-eve", "k4", true },
	{ "security_officer", "hd-bob", "k5", true },	/* the requester */
	{ "security_officer", "so-cy", "k6", false },	/* no UV */
};

static void
check_decision(const struct policy_config *cfg,
    const struct policy_request *req, const struct policy_decision *d)
{
	size_t i;

	if (d->account_class < req->claimed_class ||
	    d->account_class < d->configured_class ||
	    (unsigned)d->account_class >= POLICY_CLASS_COUNT)
		abort();	/* a claim or a match was lost */
	if ((unsigned)d->state >= POLICY_STATE_COUNT ||
	    d->nmissing > POLICY_MAX_MISSING ||
	    d->napprovals > POLICY_MAX_DECISION_APPROVALS ||
	    d->ndrop > POLICY_MAX_DECISION_DROPS)
		abort();
	if ((d->state == POLICY_STATE_READY ||
	    d->state == POLICY_STATE_VETOED ||
	    d->state == POLICY_STATE_DENIED ||
	    d->state == POLICY_STATE_SIGN_FAILED) && d->nmissing != 0)
		abort();
	if (d->state == POLICY_STATE_IN_HOLD &&
	    (d->nmissing != 1 || d->hold_until <= NOW))
		abort();
	/*
	 * The manual route always takes an officer.  It may still ask for
	 * evidence: the identity proofing an officer records, and what the
	 * rule and the risks asked before a risk forced the route (a forced
	 * manual route waives none of it).
	 */
	if (d->route == POLICY_ROUTE_MANUAL_REVIEW && !d->approval_required)
		abort();
	if ((d->account_class == POLICY_CLASS_ADMIN ||
	    d->account_class == POLICY_CLASS_FINANCE) && !d->approval_required)
		abort();
	if (d->route == POLICY_ROUTE_NORMAL &&
	    !(d->evidence_types & cfg->trusted_evidence))
		abort();	/* untrusted requests never go the fast route */
	for (i = 0; i < d->napprovals; i++)
		if (d->approvals[i].counted > d->approvals[i].required ||
		    !policy_approver_group_known(cfg, d->approvals[i].group))
			abort();
	for (i = 0; i < d->nmissing; i++)
		if (d->missing[i].code[0] == '\0' ||
		    d->missing[i].text[0] == '\0')
			abort();
}

static void	check_principals(const struct policy_config *,
		    const uint32_t *);

static void
exercise(const struct policy_config *cfg)
{
	struct policy_evidence ev[POLICY_EVIDENCE_COUNT + 1];
	struct policy_progress prog = { approvals,
	    sizeof(approvals) / sizeof(approvals[0]), 0, false, false, false,
	    0 };
	const uint32_t gids[] = { 0, 100, 2002 };
	enum policy_approver_fault fault;
	struct policy_decision d;
	struct policy_request req;
	size_t i, a, n = cfg->nchannels;
	int q, c;

	/* The request must be valid for this config: use its channels.
	 * Every member is set: stack garbage would make runs differ. */
	memset(ev, 0, sizeof(ev));
	for (i = 0; i < POLICY_EVIDENCE_COUNT + 1; i++) {
		ev[i].type = (enum policy_evidence_type)(i %
		    POLICY_EVIDENCE_COUNT);
		ev[i].passed = i != 2;
		ev[i].verifier = i == 4 ? "alice" : "hd-bob";
		ev[i].channel = cfg->channels[i % n];
		ev[i].ref = i == 5 ? "r0" : (i == 0 ? "r0" : "r");
		ev[i].origin = (enum policy_evidence_origin)(i %
		    POLICY_ORIGIN_COUNT);
	}
	for (q = 0; q < POLICY_QUEUE_COUNT; q++) {
		for (a = 0; a < sizeof(accounts) / sizeof(accounts[0]); a++) {
			for (c = 0; c < POLICY_CLASS_COUNT; c++) {
				memset(&req, 0, sizeof(req));
				req.queue = (enum policy_queue)q;
				req.account = accounts[a];
				req.system = a % 2 ? "payments" : "ldap-corp";
				req.claimed_class = (enum policy_class)c;
				req.groups = groups;
				req.ngroups = a % 3;
				req.recovered_channel = cfg->channels[n - 1];
				req.agent = "hd-bob";
				req.requester_channel = cfg->channels[0];
				req.evidence = ev;
				req.nevidence = (a + (size_t)q) %
				    (POLICY_EVIDENCE_COUNT + 2);
				req.risk[(a + (size_t)c) % POLICY_RISK_COUNT] =
				    (a & 1) != 0;
				if (policy_evaluate(cfg, &req, NULL, NOW,
				    &d) != 0)
					abort();
				check_decision(cfg, &req, &d);
				(void)policy_check_approver(&req, NULL, &d,
				    &approvals[0], &fault);
				if (policy_evaluate(cfg, &req, &prog, NOW,
				    &d) != 0)
					abort();
				check_decision(cfg, &req, &d);
			}
		}
	}
	(void)policy_roles(cfg, 0, gids, 3);
	(void)policy_roles(cfg, 1000, gids, 3);
	check_principals(cfg, gids);
}

/*
 * Every loaded principal is found, is canonical, names itself, belongs
 * to a loaded team, and names only canonical agents; a team's scope is
 * total over every queue, class and system.
 */
static void
check_principals(const struct policy_config *cfg, const uint32_t *gids)
{
	const struct policy_principal *p;
	const struct policy_team *t;
	char why[160];
	size_t i, j;
	int q, c;

	for (i = 0; i < cfg->nprincipals; i++) {
		p = &cfg->principals[i];
		if (!policy_identity_canonical(p->name) ||
		    !policy_principal_may_name(p, p->name) ||
		    (t = policy_team_of(cfg, p->team)) == NULL ||
		    (p->is_cert ? policy_principal_of_cert(cfg,
		    p->cert_sha256) : policy_principal_of(cfg, p->is_gid ?
		    4000000000u : p->id, &p->id, p->is_gid ? 1 : 0)) == NULL)
			abort();
		if ((p->officer[0] != '\0') != (policy_officer_of(cfg,
		    p->name) != NULL))
			abort();
		for (j = 0; j < p->nagents; j++)
			if (!policy_identity_canonical(p->agents[j]) ||
			    !policy_principal_may_name(p, p->agents[j]))
				abort();
		if (policy_principal_may_name(p, "hd-bob ") ||
		    policy_principal_may_name(p, ""))
			abort();
		for (q = 0; q <= POLICY_QUEUE_COUNT; q++)
			for (c = 0; c <= POLICY_CLASS_COUNT; c++)
				if (policy_team_allows(t, (enum policy_queue)q,
				    (enum policy_class)c, "ldap-corp", why,
				    sizeof(why)) && (q == POLICY_QUEUE_COUNT ||
				    c == POLICY_CLASS_COUNT))
					abort();
	}
	(void)policy_principal_of(cfg, 0, gids, 3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_config *cfg = NULL;
	char err[512];
	char *text;
	uint32_t seed;
	int r;

	if (wrap_take_seed(&data, &size, &seed) != 0 || size > FUZZ_MAX ||
	    (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	wrap_start(seed);
	r = policy_config_load_string(text, &cfg, err, sizeof(err));
	wrap_stop();
	free(text);
	if (r != 0) {
		/* refused: one line, naming the config, and no config */
		if (cfg != NULL || strncmp(err, "config", 6) != 0 ||
		    strchr(err, '\n') != NULL)
			abort();
		return 0;
	}
	exercise(cfg);
	policy_config_free(&cfg);
	return 0;
}

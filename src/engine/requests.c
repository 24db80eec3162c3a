/* SPDX-License-Identifier: ISC */
/*
 * What the help desk and the officers do to a request: submit it, add
 * evidence, veto or deny it, and read it (one, or a list).  Each change
 * and its audit entry commit in one transaction; a request that became
 * ready goes to the signer in the same transaction; the hooks hear of it
 * after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "daemon/reqjson.h"
#include "engine/dirlookup.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/messages.h"
#include "engine/signer.h"
#include "engine/txn.h"
#include "store/notify.h"

#define IDEM_KEY_MAX	200

static int
idem_replay(struct tapgated *d, const char *key, const char *digest,
    struct engine_result *res)
{
	struct store_request *row = NULL;
	int r;

	if ((r = store_request_get_by_idem(d->st, key, &row)) != 0)
		return r;
	if (row->idem_digest == NULL || strcmp(row->idem_digest, digest) != 0) {
		eng_error(res, 409, "idempotency_key_reused", "Idempotency-Key "
		    "was used before with a different body");
	} else {
		json_decref(res->body);
		res->status = 201;
		res->body = row->response_json ? json_loads(row->response_json,
		    0, NULL) : NULL;
		if (res->body == NULL)
			eng_error(res, 500, "internal", "stored answer lost");
	}
	store_request_free(&row);
	return 0;
}

static int
idem_key_valid(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n > IDEM_KEY_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (k[i] <= 0x20 || k[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * A submission with an Idempotency-Key: the caller's own key (keys are
 * per uid: two clients cannot collide) into key, the body's digest into
 * digest.  1 when the key was used before (answered: the first answer
 * again, or a conflict), 0 when it is new, a TG_ERR_* (answered) when it
 * is malformed or the store failed.
 */
static int
idem_check(struct tapgated *d, const struct engine_actor *a,
    const char *idem_key, const char *body, size_t len, char *key,
    size_t keylen, char digest[STORE_DIGEST_LEN + 1],
    struct engine_result *res)
{
	int r;

	if (!idem_key_valid(idem_key)) {
		eng_error(res, 400, "invalid_idempotency_key",
		    "Idempotency-Key: 1 to 200 printable ASCII characters "
		    "without spaces");
		return TG_ERR_INVALID;
	}
	snprintf(key, keylen, "uid:%lld:%s", (long long)a->uid, idem_key);
	eng_sha256_hex(body, len, digest);
	if ((r = idem_replay(d, key, digest, res)) == 0)
		return 1;
	if (r != TG_ERR_NOT_FOUND)
		return eng_db_error(d, res, r);
	return 0;
}

/* Store the evidence items arr of request id, named by their digests. */
static int
add_evidence_rows(struct store *st, const char *id, const json_t *arr,
    const json_t *digests, int64_t uid, int64_t now)
{
	struct store_evidence ev;
	const json_t *item;
	char *js;
	size_t i;
	int r;

	json_array_foreach(arr, i, item) {
		memset(&ev, 0, sizeof(ev));
		if ((js = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS)) ==
		    NULL)
			return TG_ERR_NOMEM;
		ev.request_id = id;
		ev.type = json_string_value(json_object_get(item, "type"));
		ev.result = json_string_value(json_object_get(item, "result"));
		ev.verifier = json_string_value(json_object_get(item,
		    "verifier"));
		ev.channel = json_string_value(json_object_get(item,
		    "channel"));
		ev.ref = json_string_value(json_object_get(item, "ref"));
		ev.origin = json_string_value(json_object_get(item, "origin"));
		ev.json = js;
		ev.digest = json_string_value(json_array_get(digests, i));
		ev.added_uid = uid;
		ev.created = now;
		r = store_evidence_add(st, &ev, NULL);
		free(js);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * The evidence items in root's "evidence" (if any) recorded as attested
 * by the caller's principal (reqjson_attest; an officer without one: by
 * its name), and parsed again into ev[0..*nev).
 */
static int
intake_attest(struct tapgated *d, const struct engine_actor *a,
    json_t *root, struct policy_evidence *ev, size_t *nev,
    struct engine_result *res)
{
	json_t *arr = json_object_get(root, "evidence");
	char err[512];
	int r;

	if (arr == NULL || json_is_null(arr))
		return 0;
	/* the caller's principal; an officer without one: its own name */
	if ((r = reqjson_attest(arr, a->principal != NULL ?
	    a->principal->name : a->name, err,
	    sizeof(err))) != 0 || (r = reqjson_evidence(arr, "evidence", ev,
	    nev, err, sizeof(err))) != 0) {
		if (r == TG_ERR_NOMEM)
			return eng_db_error(d, res, r);
		eng_error(res, 422, "invalid_field", err);
		return r;
	}
	return 0;
}

/* ---- submit */

/* A new request as it is recorded: its row, evidence and audit entries. */
struct submission {
	const struct engine_actor	*a;
	char				 id[STORE_ID_LEN + 1];
	struct store_request		 row;
	const json_t			*evidence;	/* the items, or NULL */
	json_t				*digests;	/* of the items */
	json_t				*submitted;	/* audit details */
	int				 held;		/* a hold started */
	json_t				*hold;		/* its audit details */
	json_t				*answer;	/* the 201's body */
	char				*req_s, *dec_s, *resp_s;
	char				*facts_s;	/* snapshot */
	int				 cooloff;	/* after a veto */
	int64_t				 now;
};

static void
submission_clear(struct submission *sub)
{
	json_decref(sub->digests);
	json_decref(sub->submitted);
	json_decref(sub->hold);
	json_decref(sub->answer);
	free(sub->req_s);
	free(sub->dec_s);
	free(sub->resp_s);
	free(sub->facts_s);
	memset(sub, 0, sizeof(*sub));
}

/* The row of a new request, pointing into rq, dec and sub. */
static void
submission_row(struct submission *sub, const struct reqjson *rq,
    const struct policy_decision *dec, const char *idem_key,
    const char *digest)
{
	struct store_request *row = &sub->row;

	memset(row, 0, sizeof(*row));
	row->id = sub->id;
	row->queue = policy_queue_name(rq->pr.queue);
	row->target_account = rq->pr.account;
	row->target_system = rq->pr.system;
	row->claimed_class = rq->claimed;
	row->effective_class = policy_class_name(dec->account_class);
	row->requester_agent = rq->pr.agent;	/* checked: canonical */
	row->requester_principal = sub->a->principal->name;
	row->requester_team = sub->a->principal->team;
	row->requester_channel = rq->pr.requester_channel;
	row->requester_ticket = rq->ticket;
	row->requester_uid = sub->a->uid;
	row->request_json = sub->req_s;
	row->state = policy_state_name(dec->state);
	row->policy_id = dec->policy_id;
	row->policy_version = dec->policy_version;
	row->decision_json = sub->dec_s;
	row->idem_key = idem_key;
	row->idem_digest = idem_key ? digest : NULL;
	row->response_json = sub->resp_s;
	row->created = sub->now;
	row->hold_start = dec->hold_start;
	row->hold_end = dec->hold_start ? dec->hold_until : 0;
}

/* The audit entries of a new request: submitted, and its hold. */
static void
submission_audit(struct submission *sub, const struct policy_decision *dec)
{
	const struct store_request *row = &sub->row;

	sub->submitted = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s,"
	    "s:s,s:s?,s:O,s:o}", "queue", row->queue, "account",
	    row->target_account, "system", row->target_system, "class",
	    row->effective_class, "claimed_class", row->claimed_class,
	    "agent", row->requester_agent, "principal",
	    row->requester_principal, "team", row->requester_team,
	    "channel", row->requester_channel, "state", row->state, "ticket",
	    row->requester_ticket, "evidence_digests", sub->digests,
	    "missing", eng_missing_json(dec));
	sub->held = dec->hold_start != 0;
	if (sub->held)
		sub->hold = json_pack("{s:I,s:I}", "start",
		    (json_int_t)dec->hold_start, "until",
		    (json_int_t)dec->hold_until);
}

/*
 * Everything a new request records, built before its transaction: a new
 * id, the request as received, its decision, the answer, its evidence's
 * digests, the row and the audit details.
 */
static int
submission_new(const char *body, size_t len,
    const struct reqjson *rq, const struct policy_decision *dec,
    const char *idem_key, const char *digest, struct submission *sub)
{
	const json_t *evidence = json_object_get(rq->root, "evidence");
	json_t *dj;
	int r;

	if ((r = store_request_id_new(sub->id)) != 0)
		return r;
	if ((dj = eng_decision_json(dec, rq->pr.nevidence, sub->now)) == NULL)
		return TG_ERR_NOMEM;
	sub->dec_s = json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(dj);
	if (sub->dec_s == NULL ||
	    (sub->answer = eng_summary_json(sub->id, dec)) == NULL ||
	    (sub->resp_s = json_dumps(sub->answer, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL ||
	    (sub->req_s = strndup(body, len)) == NULL ||
	    (sub->digests = json_array()) == NULL)
		return TG_ERR_NOMEM;
	if (json_is_array(evidence)) {
		sub->evidence = evidence;
		if ((r = eng_evidence_digests(evidence, sub->digests)) != 0)
			return r;
	}
	submission_row(sub, rq, dec, idem_key, digest);
	submission_audit(sub, dec);
	return 0;
}

/*
 * A new request for an account vetoed within the cool-off: the decision
 * that keeps it on the manual route for every later evaluation.
 */
static int
submission_cooloff_row(struct store *st, const struct submission *sub)
{
	struct store_decision sd;

	memset(&sd, 0, sizeof(sd));
	sd.request_id = sub->id;
	sd.kind = ENG_VETO_COOLOFF;
	sd.actor_uid = sub->a->uid;
	sd.actor_role = sub->a->role;
	sd.actor_name = sub->a->name;
	sd.reason = "the account was vetoed within the cool-off "
	    "(holds.veto_cooloff_seconds): manual review";
	sd.created = sub->now;
	return store_decision_add(st, &sd, NULL);
}

/*
 * Whether the account (canonical name on its system, or its directory
 * entry dn) was vetoed within the cool-off: then the request takes the
 * manual route (rq->pr.veto_cooloff) and says so when recorded.
 */
static int
submission_cooloff(struct tapgated *d, struct reqjson *rq, const char *dn,
    int64_t now, struct submission *sub)
{
	int64_t n = 0, cool = d->cfg->holds.veto_cooloff_seconds;
	int r;

	if (cool <= 0)
		return 0;
	if ((r = store_recent_vetoes(d->st, rq->pr.account, rq->pr.system, dn,
	    now - cool, &n)) != 0)
		return r;
	rq->pr.veto_cooloff = n > 0;
	sub->cooloff = n > 0;
	return 0;
}

/*
 * The steps of a new request's transaction: its row, evidence and audit
 * entries, on st alone (a shared transaction's, eng_txn_shared()).
 */
static int
submit_steps(struct store *st, void *arg)
{
	const struct submission *sub = arg;
	const char *id = sub->id;
	int r;

	if ((r = store_request_insert(st, &sub->row)) != 0)
		return r;
	if (sub->evidence != NULL && (r = add_evidence_rows(st, id,
	    sub->evidence, sub->digests, sub->a->uid, sub->now)) != 0)
		return r;
	if (sub->cooloff && (r = submission_cooloff_row(st, sub)) != 0)
		return r;
	if ((r = eng_audit_in(st, sub->a, "request.submitted", id,
	    sub->submitted, sub->now)) != 0)
		return r;
	if (!sub->held)
		return 0;
	return eng_audit_in(st, sub->a, "request.hold_started", id, sub->hold,
	    sub->now);
}

/*
 * Who hears of a request besides the hooks (events.c's "_" keys, never
 * shown to hooks): the account's owner by the directory's contacts on
 * record, mail preferred, else a mobile number by sms.
 */
static void
recipient_add(json_t *a, const char *role, const struct dir_facts *f)
{
	if (f == NULL)
		return;
	if (f->nmail > 0)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "role",
		    role, "channel", "mail", "destination", f->mail[0]));
	else if (f->nmobile > 0)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "role",
		    role, "channel", "sms", "destination", f->mobile[0]));
}

/*
 * The owner, the manager the owner's entry names (looked up), and the
 * officers told by the directory's mail (officers, a JSON array of
 * addresses, or NULL).
 */
static json_t *
submission_recipients(const struct dir_facts *owner,
    const struct dir_facts *manager, const json_t *officers)
{
	json_t *a = json_array(), *v;
	size_t i;

	if (a != NULL) {
		recipient_add(a, "owner", owner);
		recipient_add(a, "manager", manager);
	}
	json_array_foreach(officers, i, v)
		json_array_append_new(a, json_pack("{s:s,s:s,s:O}", "role",
		    "officer", "channel", "mail", "destination", v));
	return a;
}

#define OFFICER_LOOKUPS_MAX	8	/* officers asked of the directory */

/* The DNs of the officers enrolled with one (officer_dn_cb). */
struct officer_dns {
	char	dn[OFFICER_LOOKUPS_MAX][DIR_DN_MAX + 1];
	size_t	n;
};

static int
officer_dn_cb(const struct store_approver *ap, void *arg)
{
	struct officer_dns *o = arg;
	size_t i;

	if (ap->revoked || ap->dn == NULL || ap->dn[0] == '\0' ||
	    strlen(ap->dn) > DIR_DN_MAX || o->n == OFFICER_LOOKUPS_MAX)
		return 0;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->dn[i], ap->dn) == 0)
			return 0;	/* one officer, several keys */
	snprintf(o->dn[o->n++], sizeof(o->dn[0]), "%s", ap->dn);
	return 0;
}

/*
 * The directory's mail of the officers enrolled with a DN, for a request
 * that waits for an approval (d->lock released while each is read): a
 * JSON array, or NULL.  What cannot be read is left out.
 */
static json_t *
officer_mails(struct tapgated *d)
{
	struct officer_dns *o;
	struct eng_dir_lookup lk;
	json_t *a;
	size_t i;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	if (store_approver_list(d->st, 0, officer_dn_cb, o) != 0 ||
	    (a = json_array()) == NULL) {
		free(o);
		return NULL;
	}
	for (i = 0; i < o->n; i++) {
		if (eng_directory_lookup_dn(d, o->dn[i], &lk) == 0 &&
		    lk.outcome == DIR_FOUND && lk.facts->nmail > 0)
			json_array_append_new(a,
			    json_string(lk.facts->mail[0]));
		eng_directory_lookup_clear(&lk);
	}
	free(o);
	return a;
}

/* The hooks hear of a new request, and of its hold. */
static void
submission_events(struct tapgated *d, const struct submission *sub,
    const struct policy_request *pr, const struct policy_decision *dec,
    const struct dir_facts *facts, const struct dir_facts *manager,
    const json_t *officers, struct events *evs)
{
	json_t *ev;

	ev = eng_event_new(d, "request.created", sub->id, pr, sub->now);
	if (ev != NULL) {
		json_object_set_new(ev, "_recipients",
		    submission_recipients(facts, manager, officers));
		json_object_set_new(ev, "_state",
		    json_string(policy_state_name(dec->state)));
		if (sub->held)
			json_object_set_new(ev, "_hold_until",
			    json_integer(dec->hold_until));
	}
	eng_events_add(evs, ev);
	if (!sub->held)
		return;
	ev = eng_event_new(d, "hold.started", sub->id, pr, sub->now);
	if (ev != NULL) {
		json_object_set_new(ev, "hold_until",
		    json_integer(dec->hold_until));
		/* the owner heard of it with the request */
		json_object_set_new(ev, "_quiet", json_true());
	}
	eng_events_add(evs, ev);
}

/* ---- who is asking */

/*
 * A submission refused for who asks or what it asks for: 403 with code
 * and why, audited as request.refused with the agent as it was sent;
 * nothing else is stored.  Returns TG_ERR_PERM.
 */
static int
intake_refuse(struct tapgated *d, const struct engine_actor *a,
    const struct reqjson *rq, const char *code, const char *why,
    int64_t now, struct engine_result *res)
{
	json_t *details;

	details = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?}", "code",
	    code, "why", why, "agent", rq != NULL ? rq->pr.agent : NULL,
	    "queue", rq != NULL ? policy_queue_name(rq->pr.queue) : NULL,
	    "system", rq != NULL ? rq->pr.system : NULL, "principal",
	    a->principal != NULL ? a->principal->name : NULL, "team",
	    a->principal != NULL ? a->principal->team : NULL);
	(void)eng_audit_alone(d, a, "request.refused", NULL, details, now);
	json_decref(details);
	eng_error(res, 403, code, why);
	return TG_ERR_PERM;
}

/*
 * An agent an integration names that the configuration does not list:
 * admitted only as a member of the directory's help-desk group; 403 when
 * not, 503 when the directory does not answer (both audited).
 */
static int
intake_agent_directory(struct tapgated *d, const struct engine_actor *a,
    const struct reqjson *rq, int64_t now, struct engine_result *res)
{
	enum eng_agent_verdict v;
	char detail[400], why[900], dn[DIR_DN_MAX + 1];
	int r;

	if ((r = eng_directory_agent(d, rq->pr.agent, &v, detail,
	    sizeof(detail), dn, sizeof(dn))) != 0)
		return eng_db_error(d, res, r);
	/* the agent's entry, which separation of duties compares */
	if (v == ENG_AGENT_MEMBER && json_object_set_new(json_object_get(
	    rq->root, "requester"), "dn", json_string(dn)) != 0)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	if (v == ENG_AGENT_MEMBER)
		return 0;
	snprintf(why, sizeof(why), "requester.agent: integration %s may "
	    "not name this agent (neither listed for it nor a member of the "
	    "directory's help-desk group: %s)", a->principal->name, detail);
	if (v == ENG_AGENT_REFUSED)
		return intake_refuse(d, a, rq, "agent_not_allowed", why, now,
		    res);
	snprintf(why, sizeof(why), "requester.agent: the directory did not "
	    "answer whether the agent is in its help-desk group (%s): "
	    "nothing was stored; try again", detail);
	r = intake_refuse(d, a, rq, "directory_unavailable", why, now, res);
	eng_error(res, 503, "directory_unavailable", why);
	return r;
}

/*
 * The agent the request names is the caller's principal, or one its
 * integration lists: never the caller's free text.
 */
static int
intake_agent(struct tapgated *d, const struct engine_actor *a,
    const struct reqjson *rq, int64_t now, struct engine_result *res)
{
	const struct policy_principal *p = a->principal;
	char why[320];

	/* requester.dn is the directory's, never the caller's */
	if (d->cfg->directory.configured)
		(void)json_object_del(json_object_get(rq->root, "requester"),
		    "dn");
	if (policy_principal_may_name(p, rq->pr.agent))
		return 0;
	if (policy_principal_asks_directory(d->cfg, p))
		return intake_agent_directory(d, a, rq, now, res);
	if (p->integration)
		snprintf(why, sizeof(why), "requester.agent: integration %s "
		    "may not name this agent (only its own name or an agent "
		    "the configuration lists for it)", p->name);
	else
		snprintf(why, sizeof(why), "requester.agent: must be your "
		    "own principal, %s (only an integration names other "
		    "agents)", p->name);
	return intake_refuse(d, a, rq, "agent_not_allowed", why, now, res);
}

/*
 * The request, evaluated, is in the scope of the principal's team: its
 * queue, its effective class (what the policy decided, not the claim)
 * and its system.
 */
static int
intake_scope(struct tapgated *d, const struct engine_actor *a,
    const struct reqjson *rq, const struct policy_decision *dec,
    int64_t now, struct engine_result *res)
{
	const struct policy_team *t;
	char why[320], msg[400];

	t = policy_team_of(d->cfg, a->principal->team);
	if (policy_team_allows(t, rq->pr.queue, dec->account_class,
	    rq->pr.system, why, sizeof(why)))
		return 0;
	snprintf(msg, sizeof(msg), "not in your team's scope: %s", why);
	return intake_refuse(d, a, rq, "out_of_scope", msg, now, res);
}

/* ---- the directory */

/*
 * What the directory said of the target, for the audit: its entry,
 * groups, manager and state (no contacts: they are personal data).
 */
static json_t *
directory_json(const struct dir_facts *f)
{
	json_t *groups = json_array(), *o;
	size_t i;

	for (i = 0; groups != NULL && i < f->ngroups; i++)
		if (json_array_append_new(groups, json_string(f->groups[i])) !=
		    0) {
			json_decref(groups);
			return NULL;
		}
	o = json_pack("{s:s,s:o,s:b,s:s,s:b,s:b}", "dn", f->dn, "groups",
	    groups, "groups_truncated", f->truncated_groups, "manager",
	    f->manager, "disabled", f->disabled, "locked", f->locked);
	return o;
}

/*
 * The directory's word on the target, before anything is recorded: a
 * name refused, not found or ambiguous is answered (422, 503 when the
 * directory does not answer) and audited as a refusal; a found one
 * replaces the name the caller sent, in the request and in what is
 * stored (*stored: the body again, with target.account the directory's
 * canonical name and target.dn its entry).  Without a directory,
 * nothing changes.  0 to go on; > 0 refused and answered; < 0 an error.
 */
static int
submission_lookup(struct tapgated *d, const struct engine_actor *a,
    struct reqjson *rq, struct eng_dir_lookup *lk, char **stored,
    int64_t *now, struct engine_result *res)
{
	json_t *target = json_object_get(rq->root, "target"), *details;
	int r;

	if ((r = eng_directory_lookup(d, rq->pr.account, lk)) != 0)
		return eng_db_error(d, res, r);
	if (!lk->configured)
		return 0;
	*now = eng_now();
	if (lk->refused || lk->outcome != DIR_FOUND) {
		eng_directory_refusal(lk, rq->pr.account, res, &details);
		if (details != NULL)
			(void)eng_audit_alone(d, a, "request.refused", NULL,
			    details, *now);
		json_decref(details);
		return 1;
	}
	if (json_object_set_new(target, "account",
	    json_string(lk->facts->name)) != 0 ||
	    json_object_set_new(target, "dn", json_string(lk->facts->dn)) !=
	    0 || (*stored = json_dumps(rq->root, JSON_COMPACT)) == NULL)
		return eng_db_error(d, res, TG_ERR_NOMEM);
	/* the old string went with the member it was */
	rq->pr.account = lk->facts->name;
	return 0;
}

/*
 * What the directory found, recorded with a new request: the snapshot in
 * its row, its digest and what the directory said (no contacts) in the
 * request.submitted entry, with the account as it was sent.
 */
static int
submission_facts(struct tapgated *d, struct submission *sub,
    const struct eng_dir_lookup *lk, const struct policy_decision *dec,
    const char *as_sent)
{
	char digest[STORE_DIGEST_LEN + 1];
	json_t *snap;
	int r;

	if ((snap = eng_dir_snapshot(d->cfg, lk->facts, dec, sub->now)) ==
	    NULL)
		return TG_ERR_NOMEM;
	if ((r = eng_jcs_digest(snap, digest)) != 0) {
		json_decref(snap);
		return r;
	}
	sub->facts_s = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(snap);
	if (sub->facts_s == NULL)
		return TG_ERR_NOMEM;
	sub->row.directory_json = sub->facts_s;
	if (json_object_set_new(sub->submitted, "directory",
	    directory_json(lk->facts)) != 0 ||
	    json_object_set_new(sub->submitted, "account_as_sent",
	    json_string(as_sent)) != 0 ||
	    json_object_set_new(sub->submitted, "facts_digest",
	    json_string(digest)) != 0)
		return TG_ERR_NOMEM;
	return 0;
}

int
engine_submit(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, const char *idem_key, int64_t now,
    struct engine_result *res)
{
	struct submission sub;
	struct policy_decision dec;
	struct reqjson rq;
	struct events evs = { { NULL }, 0 };
	struct eng_dir_lookup lk, mk;
	struct eng_dir_pfacts pf;
	char digest[STORE_DIGEST_LEN + 1], err[512];
	char key[IDEM_KEY_MAX + 32], *stored = NULL, *as_sent = NULL;
	json_t *officers = NULL;
	int r, status;

	memset(&rq, 0, sizeof(rq));
	memset(&lk, 0, sizeof(lk));
	memset(&mk, 0, sizeof(mk));
	memset(&sub, 0, sizeof(sub));
	sub.a = a;
	sub.now = now;
	if (a->principal == NULL) {
		snprintf(err, sizeof(err), "uid %lld is no principal: intake "
		    "callers are named under principals in the configuration",
		    (long long)a->uid);
		return intake_refuse(d, a, NULL, "no_principal", err, now,
		    res);
	}
	if (idem_key != NULL) {
		if ((r = idem_check(d, a, idem_key, body, len, key, sizeof(key),
		    digest, res)) != 0)
			return r > 0 ? 0 : r;
		idem_key = key;
	}
	if ((r = reqjson_parse(d->cfg, body, len, &rq, &status, err,
	    sizeof(err))) != 0) {
		eng_error(res, status, status == 400 ? "malformed_body" :
		    status == 413 ? "body_too_large" : status == 500 ?
		    "internal" : "invalid_field", err);
		return r;
	}
	if ((r = intake_agent(d, a, &rq, now, res)) != 0 ||
	    (r = intake_attest(d, a, rq.root, rq.ev, &rq.pr.nevidence,
	    res)) != 0)
		goto out;
	if ((as_sent = strdup(rq.pr.account)) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	if ((r = submission_lookup(d, a, &rq, &lk, &stored, &now, res)) != 0) {
		r = r > 0 ? TG_ERR_POLICY : r;
		goto out;
	}
	sub.now = now;
	/* the manager on record hears of it too: a failed look is no refusal */
	if (lk.configured && lk.facts->manager[0] != '\0' &&
	    policy_senders_configured(d->cfg) &&
	    eng_directory_lookup_dn(d, lk.facts->manager, &mk) != 0)
		eng_directory_lookup_clear(&mk);
	if (lk.configured) {
		eng_dir_pfacts(lk.facts, &pf);
		rq.pr.directory = &pf.pf;
	}
	if ((r = submission_cooloff(d, &rq, lk.configured ? lk.facts->dn :
	    NULL, now, &sub)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if ((r = policy_evaluate(d->cfg, &rq.pr, NULL, now, &dec)) != 0) {
		eng_error(res, 422, "invalid_request", "the request does not "
		    "fit the policy");
		goto out;
	}
	if ((r = intake_scope(d, a, &rq, &dec, now, res)) != 0)
		goto out;
	/* officers enrolled with a DN hear by the directory's mail */
	if (lk.configured && dec.state == POLICY_STATE_NEEDS_APPROVAL &&
	    policy_senders_configured(d->cfg))
		officers = officer_mails(d);
	if ((r = submission_new(stored != NULL ? stored : body, stored !=
	    NULL ? strlen(stored) : len, &rq, &dec, idem_key, digest,
	    &sub)) != 0 || (sub.cooloff && json_object_set_new(sub.submitted,
	    "veto_cooloff", json_true()) != 0) || (lk.configured &&
	    (r = submission_facts(d, &sub, &lk, &dec, as_sent)) != 0)) {
		eng_db_error(d, res, r < 0 ? r : TG_ERR_NOMEM);
		goto out;
	}
	/* d->lock is released while the commit is shared */
	r = eng_txn_shared(d, submit_steps, &sub, NULL, NULL, NULL);
	/* the same key, submitted meanwhile: its answer */
	if (r == TG_ERR_EXISTS && idem_key != NULL &&
	    idem_replay(d, idem_key, digest, res) == 0) {
		r = 0;
		goto out;
	}
	if (r != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	submission_events(d, &sub, &rq.pr, &dec, lk.configured &&
	    lk.outcome == DIR_FOUND ? lk.facts : NULL, mk.outcome ==
	    DIR_FOUND ? mk.facts : NULL, officers, &evs);
	json_decref(res->body);
	res->status = 201;
	res->body = sub.answer;
	sub.answer = NULL;
out:
	eng_events_post(d, &evs);
	submission_clear(&sub);
	reqjson_clear(&rq);
	eng_directory_lookup_clear(&lk);
	eng_directory_lookup_clear(&mk);
	json_decref(officers);
	free(stored);
	free(as_sent);
	return r;
}

/* ---- evidence */

/*
 * The evidence a body ({"evidence":[...]}) adds, checked: the parsed
 * body in *rootp (the caller frees it), its items in *arrp and ev[0..*nev).
 */
static int
evidence_body(const char *body, size_t len, json_t **rootp,
    const json_t **arrp, struct policy_evidence *ev, size_t *nev,
    struct engine_result *res)
{
	const json_t *arr;
	json_t *root;
	char err[512];
	int r;

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	*rootp = root;
	if (root == NULL || !json_is_object(root)) {
		eng_error(res, 400, "malformed_body", "body: must be a JSON "
		    "object {\"evidence\":[...]}");
		return TG_ERR_INVALID;
	}
	*nev = 0;
	if ((arr = json_object_get(root, "evidence")) == NULL) {
		eng_error(res, 422, "invalid_field", "evidence: missing or "
		    "empty");
		return TG_ERR_INVALID;
	}
	if ((r = reqjson_evidence(arr, "evidence", ev, nev, err,
	    sizeof(err))) != 0) {
		eng_error(res, 422, "invalid_field", err);
		return TG_ERR_INVALID;
	}
	if (*nev == 0) {
		eng_error(res, 422, "invalid_field", "evidence: missing or "
		    "empty");
		return TG_ERR_INVALID;
	}
	*arrp = arr;
	return 0;
}

/* Evidence added to a request, as the steps of its transaction. */
struct evidence_txn {
	const struct engine_actor	*a;
	const struct facts		*f;
	const struct policy_decision	*dec;
	const json_t			*arr;
	const json_t			*digests;
	const json_t			*details;
	struct events			*evs;
	int64_t				 now;
};

static int
evidence_steps(struct tapgated *d, void *arg)
{
	const struct evidence_txn *t = arg;
	const char *id = t->f->row->id;
	int r;

	if ((r = add_evidence_rows(d->st, id, t->arr, t->digests, t->a->uid,
	    t->now)) != 0)
		return r;
	if ((r = eng_audit(d, t->a, "request.evidence_added", id, t->details,
	    t->now)) != 0)
		return r;
	if ((r = eng_facts_apply(d, t->f, t->dec, t->a, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, t->a, t->now, t->evs);
}

int
engine_add_evidence(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const struct eng_refusal changed = { TG_ERR_CONFLICT, 409,
	    "conflict", "the request changed meanwhile; retry" };
	struct policy_evidence ev[POLICY_MAX_EVIDENCE];
	struct policy_decision dec;
	struct evidence_txn t;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	const json_t *arr = NULL;
	json_t *root = NULL, *digests = NULL, *details = NULL;
	char err[512];
	size_t nev = 0, i;
	int r;

	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		return r;
	if ((r = evidence_body(body, len, &root, &arr, ev, &nev, res)) != 0 ||
	    (r = intake_attest(d, a, root, ev, &nev, res)) != 0 ||
	    (r = eng_evidence_open(d, &f, nev, now, res)) != 0)
		goto out;
	for (i = 0; i < nev; i++)
		f.rq.ev[f.rq.pr.nevidence + i] = ev[i];
	f.rq.pr.evidence = f.rq.ev;
	f.rq.pr.nevidence += nev;
	if ((r = policy_request_check(d->cfg, &f.rq.pr, err,
	    sizeof(err))) != 0) {
		eng_error(res, 422, "invalid_field", err);
		goto out;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0 ||
	    (digests = json_array()) == NULL) {
		eng_error(res, 422, "invalid_request", "the evidence does not "
		    "fit the policy");
		r = r ? r : TG_ERR_NOMEM;
		goto out;
	}
	if ((r = eng_evidence_digests(arr, digests)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	details = json_pack("{s:O}", "evidence_digests", digests);
	t = (struct evidence_txn){ a, &f, &dec, arr, digests, details, &evs,
	    now };
	if ((r = eng_txn(d, evidence_steps, &t, &evs, res, &changed)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
out:
	eng_events_post(d, &evs);
	json_decref(root);
	json_decref(digests);
	json_decref(details);
	eng_facts_clear(&f);
	return r;
}

/* ---- veto and deny */

/*
 * Whether request f, evaluated as dec, can still be vetoed or denied.
 * veto: 1 a veto by role, which ends with the hold; 2 a veto by the
 * code the owner or manager was sent, which stops a ready request too
 * (its order, issued or not, is revoked: the person the change is made
 * to says it is not theirs).
 */
static int
decide_open(const struct policy_decision *dec, int veto,
    struct engine_result *res)
{
	char err[128];

	/* a parked request can still be closed for good */
	if (eng_final_state(dec->state) &&
	    (veto || dec->state != POLICY_STATE_SIGN_FAILED)) {
		snprintf(err, sizeof(err), "request is already %s",
		    policy_state_name(dec->state));
		eng_error(res, 409, "request_closed", err);
		return TG_ERR_CONFLICT;
	}
	if (veto == 1 && dec->state == POLICY_STATE_READY) {
		eng_error(res, 409, "veto_window_closed", "the waiting period "
		    "has ended: a veto is no longer possible; an officer can "
		    "still deny");
		return TG_ERR_CONFLICT;
	}
	return 0;
}

/* A veto or a denial, as the steps of its transaction. */
struct decide_txn {
	const struct engine_actor	*a;
	const struct facts		*f;
	const struct policy_decision	*dec;
	const struct store_decision	*sd;
	const char			*event;
	const json_t			*details;
	struct events			*evs;
	int64_t				 now;
};

static int
decide_steps(struct tapgated *d, void *arg)
{
	const struct decide_txn *t = arg;
	int r;

	if ((r = store_decision_add(d->st, t->sd, NULL)) != 0)
		return r;
	if ((r = eng_audit(d, t->a, t->event, t->sd->request_id, t->details,
	    t->now)) != 0)
		return r;
	/* an order already issued is void from now on */
	if ((r = eng_order_revoke(d, t->a, t->f, t->sd->kind, t->sd->reason,
	    t->now, t->evs)) != 0)
		return r;
	if ((r = eng_facts_apply(d, t->f, t->dec, t->a, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, t->a, t->now, t->evs);
}

int
engine_decide(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *kind, const char *body, size_t len,
    int64_t now, struct engine_result *res)
{
	struct store_decision sd;
	struct policy_decision dec;
	struct decide_txn t;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	const char *reason;
	json_t *root = NULL, *details = NULL;
	char err[512];
	int r, veto = strcmp(kind, "veto") == 0;

	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		return r;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if ((r = reqjson_reason(root, &reason, err, sizeof(err))) != 0) {
		eng_error(res, root ? 422 : 400, root ? "invalid_field" :
		    "malformed_body", err);
		goto out;
	}
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	if ((r = decide_open(&dec, veto, res)) != 0)
		goto out;
	if (veto)
		f.vetoed = true;
	else
		f.denied = true;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	memset(&sd, 0, sizeof(sd));
	sd.request_id = id;
	sd.kind = kind;
	sd.actor_uid = a->uid;
	sd.actor_role = a->role;
	sd.actor_name = a->name;
	sd.reason = reason;
	sd.created = now;
	details = json_pack("{s:s}", "reason", reason);
	t = (struct decide_txn){ a, &f, &dec, &sd, veto ? "request.veto" :
	    "request.deny", details, &evs, now };
	if ((r = eng_txn(d, decide_steps, &t, &evs, res, NULL)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
out:
	eng_events_post(d, &evs);
	json_decref(root);
	json_decref(details);
	eng_facts_clear(&f);
	return r;
}

/* ---- a veto by code */

/* A wrong code, counted and audited in one transaction. */
struct wrong_code_txn {
	const struct engine_actor	*a;
	const char			*id;
	int64_t				 failed;
	int64_t				 now;
};

static int
wrong_code_steps(struct tapgated *d, void *arg)
{
	struct wrong_code_txn *t = arg;
	json_t *details;
	int r;

	if ((r = store_veto_failed_add(d->st, t->id, &t->failed)) != 0)
		return r;
	details = json_pack("{s:s,s:s,s:I}", "by", "veto_code", "reason",
	    "wrong_code", "failed", (json_int_t)t->failed);
	r = eng_audit(d, t->a, "request.veto_refused", t->id, details, t->now);
	json_decref(details);
	return r;
}

/* The recipient whose code hash is, or NULL: every hash compared. */
static const char *
code_owner(const struct store_veto_code *codes, size_t n, const char *hash)
{
	const char *who = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (CRYPTO_memcmp(codes[i].hash, hash, 64) == 0)
			who = codes[i].role;
	return who;
}

/*
 * The veto code of body ({"code": "..."}) checked against request id's
 * (f loaded): 0 with *who the recipient whose code it is; else the
 * answer is set: malformed, too many tries (429), or wrong (403, counted
 * and audited).  Every try counts, whatever is asked with it.
 */
static int
veto_code_check(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    const char **who, struct engine_result *res)
{
	struct store_veto_code codes[STORE_VETO_CODES_MAX];
	struct wrong_code_txn w;
	const char *code;
	json_t *root, *details;
	char hash[65];
	int64_t failed = 0;
	size_t n = 0;
	int r;

	*who = NULL;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	code = json_string_value(json_object_get(root, "code"));
	if (!json_is_object(root) || json_object_size(root) != 1 ||
	    code == NULL || strlen(code) > 64) {
		eng_error(res, root ? 422 : 400, root ? "invalid_field" :
		    "malformed_body", "the body is {\"code\": \"...\"}, the "
		    "veto code of a notification");
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((r = store_veto_failed(d->st, id, &failed)) != 0 ||
	    (r = store_veto_code_list(d->st, id, codes, STORE_VETO_CODES_MAX,
	    &n)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (failed >= ENGINE_VETO_CODE_TRIES) {
		details = json_pack("{s:s,s:s,s:I}", "by", "veto_code",
		    "reason", "too_many_tries", "failed", (json_int_t)failed);
		(void)eng_audit_alone(d, a, "request.veto_refused", id, details,
		    now);
		json_decref(details);
		eng_error(res, 429, "too_many_tries", "too many wrong veto "
		    "codes for this request: an officer can still veto or "
		    "deny it");
		r = TG_ERR_PERM;
		goto out;
	}
	/* a code of the wrong form is wrong too: every try counts */
	*who = eng_veto_code_hash(id, code, hash) == 0 ?
	    code_owner(codes, n, hash) : NULL;
	explicit_bzero(hash, sizeof(hash));
	if (*who == NULL) {
		w = (struct wrong_code_txn){ a, id, 0, now };
		if ((r = eng_txn(d, wrong_code_steps, &w, NULL, res,
		    NULL)) != 0)
			goto out;
		eng_error(res, 403, "wrong_code", "that is not a veto code of "
		    "this request");
		r = TG_ERR_PERM;
		goto out;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

int
engine_veto_code(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	struct store_decision sd;
	struct policy_decision dec;
	struct decide_txn t;
	struct events evs = { { NULL }, 0 };
	struct facts f;
	const char *who;
	json_t *details = NULL;
	char reason[64];
	int r;

	if ((r = eng_load(d, id, &f, res)) != 0)
		return r;
	if ((r = veto_code_check(d, a, id, body, len, now, &who, res)) != 0)
		goto out;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	if ((r = decide_open(&dec, 2, res)) != 0)
		goto out;
	f.vetoed = true;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	snprintf(reason, sizeof(reason), "veto code of the %.15s", who);
	memset(&sd, 0, sizeof(sd));
	sd.request_id = id;
	sd.kind = "veto";
	sd.actor_uid = a->uid;
	sd.actor_role = a->role;
	sd.actor_name = a->name;
	sd.reason = reason;
	sd.created = now;
	details = json_pack("{s:s,s:s,s:s}", "by", "veto_code", "recipient",
	    who, "reason", reason);
	t = (struct decide_txn){ a, &f, &dec, &sd, "request.vetoed", details,
	    &evs, now };
	if ((r = eng_txn(d, decide_steps, &t, &evs, res, NULL)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(id, &dec);
out:
	eng_events_post(d, &evs);
	json_decref(details);
	eng_facts_clear(&f);
	return r;
}

/* One change of a request's "changes", in words, appended to arr. */
static void
change_words(json_t *arr, const char *key, const json_t *v)
{
	const char *s = json_string_value(v);
	char w[320];
	size_t i;
	json_t *e;

	w[0] = '\0';
	if (strcmp(key, "password") == 0)
		snprintf(w, sizeof(w), "the password is reset");
	else if (strcmp(key, "force_change_at_logon") == 0)
		snprintf(w, sizeof(w), "%s", json_is_true(v) ? "a new "
		    "password must be chosen at the next logon" : "the new "
		    "password need not be changed at the next logon");
	else if (strcmp(key, "mfa") == 0)
		snprintf(w, sizeof(w), "the second factor is reset");
	else if (strcmp(key, "reenrolment_required") == 0)
		snprintf(w, sizeof(w), "a new second factor must be enrolled");
	else if (strcmp(key, "account") == 0)
		snprintf(w, sizeof(w), "the account is enabled again");
	else if (strcmp(key, "add_groups") == 0 ||
	    strcmp(key, "remove_groups") == 0) {
		json_array_foreach(v, i, e) {
			if (json_string_value(e) == NULL)
				continue;
			snprintf(w, sizeof(w), "%s the group %.260s",
			    key[0] == 'a' ? "added to" : "removed from",
			    json_string_value(e));
			json_array_append_new(arr, json_string(w));
		}
		return;
	} else if (strcmp(key, "transaction_id") == 0)
		snprintf(w, sizeof(w), "transaction %.64s is released",
		    s ? s : "?");
	else if (strcmp(key, "amount") == 0)
		snprintf(w, sizeof(w), "amount %.40s", s ? s : "?");
	else if (strcmp(key, "currency") == 0)
		snprintf(w, sizeof(w), "currency %.8s", s ? s : "?");
	else if (strcmp(key, "payee") == 0)
		snprintf(w, sizeof(w), "payee %.130s", s ? s : "?");
	if (w[0] != '\0')
		json_array_append_new(arr, json_string(w));
}

int
engine_veto_view(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	struct policy_decision dec;
	struct facts f;
	const char *who, *key;
	json_t *rq = NULL, *words = NULL, *v;
	int r;

	if ((r = eng_load(d, id, &f, res)) != 0)
		return r;
	if ((r = veto_code_check(d, a, id, body, len, now, &who, res)) != 0)
		goto out;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	if ((words = json_array()) == NULL) {
		eng_db_error(d, res, r = TG_ERR_NOMEM);
		goto out;
	}
	rq = json_loads(f.row->request_json, 0, NULL);
	json_object_foreach(json_object_get(rq, "changes"), key, v)
		change_words(words, key, v);
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:s,s:O,s:s,s:I,s:I,s:I,s:b}",
	    "id", f.row->id, "account", f.row->target_account, "queue",
	    f.row->queue, "changes", words, "state",
	    policy_state_name(dec.state), "hold_until",
	    (json_int_t)dec.hold_until, "seconds_left",
	    (json_int_t)(dec.hold_until > now ? dec.hold_until - now : 0),
	    "requested_at", (json_int_t)f.row->created, "can_veto",
	    !eng_final_state(dec.state));
	if (res->body == NULL)
		eng_db_error(d, res, r = TG_ERR_NOMEM);
out:
	json_decref(rq);
	json_decref(words);
	eng_facts_clear(&f);
	return r;
}

/* ---- a request read, requests listed */

static int
evidence_row_json(const struct store_evidence *ev, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:s?,"
	    "s:s,s:I,s:I,s:s}", "type", ev->type, "result", ev->result,
	    "verifier", ev->verifier, "channel", ev->channel, "ref", ev->ref,
	    "digest", ev->digest, "added_uid", (json_int_t)ev->added_uid,
	    "created", (json_int_t)ev->created, "origin", ev->origin)) == 0 ?
	    0 : TG_ERR_NOMEM;
}

/* The standing approvals for people: who, in which group, when. */
static json_t *
approvals_shown(const json_t *approvals)
{
	json_t *arr = json_array(), *row;
	const json_t *ap;
	size_t i;

	json_array_foreach(approvals, i, ap) {
		if (arr == NULL)
			break;
		row = json_pack("{s:O,s:O,s:O,s:O}", "officer",
		    json_object_get(ap, "officer"), "group",
		    json_object_get(ap, "group"), "user_verified",
		    json_object_get(ap, "uv"), "time",
		    json_object_get(ap, "time"));
		if (json_array_append_new(arr, row) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static int
decision_row_json(const struct store_decision *dc, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:I,s:s,s:s,s:s,"
	    "s:I}", "kind", dc->kind, "actor_uid", (json_int_t)dc->actor_uid,
	    "actor_role", dc->actor_role, "actor_name", dc->actor_name,
	    "reason", dc->reason, "created", (json_int_t)dc->created)) == 0 ?
	    0 : TG_ERR_NOMEM;
}

int
engine_show(struct tapgated *d, const struct engine_actor *a,
    const char *id, int64_t now, struct engine_result *res)
{
	struct policy_decision dec;
	struct facts f;
	json_t *evs = json_array(), *decs = json_array(), *out;
	int r;

	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		goto out;
	if ((r = store_evidence_list(d->st, id, evidence_row_json, evs)) != 0 ||
	    (r = store_decision_list(d->st, id, decision_row_json, decs)) !=
	    0) {
		eng_db_error(d, res, r);
		goto out;
	}
	/* evaluated now, so the hold shows the time really left */
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the request no longer "
		    "passes the appliance configuration");
		goto out;
	}
	out = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s?},"
	    "s:{s:s,s:s?,s:s?,s:s,s:s?,s:I},s:I,s:I,s:o,s:O,s:O,s:o,s:o,"
	    "s:O?}",
	    "id", f.row->id, "queue", f.row->queue, "state",
	    policy_state_name(dec.state),
	    "approve_at", dec.approve_at_box ? "box" : "anywhere",
	    "target", "account", f.row->target_account, "system",
	    f.row->target_system, "class", f.row->effective_class,
	    "claimed_class", f.row->claimed_class,
	    "requester", "agent", f.row->requester_agent, "principal",
	    f.row->requester_principal, "team", f.row->requester_team,
	    "channel",
	    f.row->requester_channel, "ticket", f.row->requester_ticket,
	    "uid", (json_int_t)f.row->requester_uid,
	    "created", (json_int_t)f.row->created,
	    "updated", (json_int_t)f.row->updated,
	    "request", json_loads(f.row->request_json, 0, NULL),
	    "evidence", evs, "decisions", decs,
	    "decision", eng_decision_json(&dec, f.rq.pr.nevidence, now),
	    "approvals", approvals_shown(f.approvals),
	    "directory", f.dirsnap);
	if (out == NULL) {
		r = TG_ERR_NOMEM;
		eng_db_error(d, res, r);
		goto out;
	}
	json_decref(res->body);
	res->status = 200;
	res->body = out;
out:
	json_decref(evs);
	json_decref(decs);
	eng_facts_clear(&f);
	return r;
}

static int
list_row_json(const struct store_request *rw, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s,s:s?,s:s?,s:I,s:I}", "id", rw->id, "queue", rw->queue,
	    "state", rw->state, "account", rw->target_account, "system",
	    rw->target_system, "class", rw->effective_class, "agent",
	    rw->requester_agent, "team", rw->requester_team, "ticket",
	    rw->requester_ticket, "created", (json_int_t)rw->created,
	    "hold_until", (json_int_t)rw->hold_end)) == 0 ? 0 : TG_ERR_NOMEM;
}

int
engine_list(struct tapgated *d, const struct engine_actor *a,
    const char *queue, const char *state, int limit,
    struct engine_result *res)
{
	json_t *arr = json_array();
	int r;

	if (a->team != NULL)
		r = store_request_list_team(d->st, a->team, queue, state,
		    limit, list_row_json, arr);
	else
		r = store_request_list(d->st, queue, state, limit,
		    list_row_json, arr);
	if (r != 0) {
		json_decref(arr);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o}", "requests", arr);
	return 0;
}

int
engine_list_prefix(struct tapgated *d, const struct engine_actor *a,
    const char *prefix, int limit, struct engine_result *res)
{
	json_t *arr = json_array();
	int r;

	if (a->team != NULL)
		r = store_request_list_prefix_team(d->st, prefix, a->team,
		    limit, list_row_json, arr);
	else
		r = store_request_list_prefix(d->st, prefix, limit,
		    list_row_json, arr);
	if (r != 0) {
		json_decref(arr);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:o}", "requests", arr);
	return 0;
}

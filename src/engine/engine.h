/* SPDX-License-Identifier: ISC */
/*
 * The engine: every change to a request goes through it.  It re-evaluates
 * the policy over the stored facts, records the new state and its audit
 * entry in one transaction, and tells the notification hooks after the
 * commit.  The HTTP handlers (daemon/api.c) and the monitor's main loop
 * (daemon/main.c) call it with d->lock held (daemon/daemon.h); enrolment
 * and approval release the lock while a security key waits for a touch,
 * a submission while the directory answers and while its commit is
 * shared.
 * Every call answers in res (an HTTP status and a JSON body) and returns
 * 0 or the TG_ERR_* behind the answer.
 *
 * The engine's files, by layer: a file calls only files of a lower
 * layer, never one of its own (tests/e2e/engine_layers.sh holds the
 * objects to this map).  Each file below the top has a header of the
 * same name, its contract with the files above; engine_int.h is what
 * they all share.
 *
 *   5  requests.c    submit, evidence, veto and deny; show, list
 *   5  risk.c        risk signals raised after submission
 *   5  challenges.c  challenges the appliance checks; recovery codes
 *   5  approval.c    an officer's approval: one function per phase
 *   5  officers.c    enrolment, the approvers and their export, revocation
 *   5  timer.c       the hold timer's tick; requests that ran out of time
 *   5  keys.c        the published keys (JWKS), key rotation
 *   5  ops.c         backups, the metrics page, the latencies it times
 *   5  views.c       the console's reads: queues' vocabulary, dashboard
 *   5  outcome.c     a redeemed order's outcome reported; its resume
 *   5  signin.c      console users' sign-in with a security key, their
 *                    sessions and sign-out; invitations, enrolment
 *   4  signer.c      the change and its clientData; the order, issued
 *                    only for what the store shows approved; parking;
 *                    orders read, redeemed and revoked; the signed
 *                    revocation list
 *   3  holds.c       the clock, heartbeat and downtime; holds due; veto
 *                    window warnings; loading a request for a call
 *   3  auditguard.c  checkpoints, the high-water mark, the order's
 *                    anchor; the audit log's tail, a request's history,
 *                    and verification
 *   3  creds.c       officers' credential lists, who holds one, token
 *                    errors as answers
 *   3  body.c        the bodies of officers' and operators' calls
 *   3  quorum.c      whether the enrolled officers reach the quorum;
 *                    its alarm, once per change of state
 *   3  redemption.c  a redeemed order's state, its redeemer, one more
 *                    redemption after a resume; the unreported alarm
 *   3  dirlookup.c   who an account is, asked of the directory; an
 *                    agent in its help-desk group; DNs compared
 *   2  facts.c       a request's facts: load, evaluate, apply
 *   1  dirsnap.c     the directory's facts: the policy's view, the
 *                    snapshot a request stores (contacts masked)
 *   1  events.c      hook events; hook outcomes and system audits;
 *                    counts of committed audit entries
 *   0  txn.c         answers, the audit entry, the one transaction helper
 *   0  messages.c    messages to people, for the senders, queued with
 *                    a transaction's events
 *
 * So requests, approval and the timer call the signer, the signer calls
 * the facts, and the facts call the store: applying a request's facts
 * reports "ready" to its caller, which then hands it to the signer.
 */
#ifndef TAPGATE_ENGINE_H
#define TAPGATE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/hooks.h"
#include "store/audit.h"

#define DAEMON_CHECKPOINT_SECONDS 60	/* audit checkpoint period (default) */
#define DAEMON_HEARTBEAT_SECONDS 2	/* how often the heartbeat is stored */

struct checkpoint_report;
struct policy_principal;
struct signkey_report;
struct tapgated;

/*
 * Who does something: the peer and the name the audit log shows; the
 * principal its peer credentials name (NULL: none), and, for a caller
 * that sees only its team's requests, that team (NULL: sees all).
 */
struct engine_actor {
	int64_t				 uid;
	const char			*role;	/* intake, ..., system */
	const char			*name;
	const struct policy_principal	*principal;
	const char			*team;
};

/* The result of an engine call, for the HTTP answer. */
struct engine_result {
	int	 status;		/* HTTP status */
	json_t	*body;			/* answer (owned) */
	int64_t	 touch_ns;		/* of the call's time, the wait for
					   a security key's touch (0: none) */
};

/* ---- requests (requests.c) */

/*
 * Submit a request (body as received).  With an idempotency key, a retry
 * with the same body gets the first answer again; the same key with
 * another body is a conflict.  With a directory, the target is looked up
 * first (d->lock released while the directory answers, dirlookup.h):
 * only a name that normalises and matches exactly one entry is stored,
 * under the entry's canonical name and DN; else 422 or 503, audited as
 * request.refused, nothing stored.  Who is asking is a->principal: none is
 * 403 no_principal; requester.agent must be the principal's own name or
 * one its integration lists (403 agent_not_allowed), and the request,
 * once evaluated, must be in the scope of the principal's team (queue,
 * effective class, system: 403 out_of_scope).  A refusal stores
 * nothing and is audited as request.refused.  The new request commits
 * together with those other threads submit at the same time (one sync
 * of the log for all): d->lock is released while it waits for that
 * commit.
 */
int	engine_submit(struct tapgated *d, const struct engine_actor *a,
	    const char *body, size_t len, const char *idem_key, int64_t now,
	    struct engine_result *res);

/*
 * The calls below on one request answer 404, as for a request that does
 * not exist, when a->team is set and the request is not that team's.
 */

/*
 * Add evidence ({"evidence":[...]}) to a request and re-evaluate it.  The
 * items are the caller's word: origin agent, the caller's principal (an
 * officer without one: its name) as verifier, the verifier the body
 * named kept as claimed_verifier; a body naming an origin is refused.
 */
int	engine_add_evidence(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * Issue a challenge on request id ({"kind":"out_of_band","contact":
 * "mobile"|"mail"|"alt_mail"}, {"kind":"manager_confirmation"} or
 * {"kind":"recovery_code"}): the code goes, through the sender of its
 * channel (messages.h), to the contact the directory holds for the
 * account or for its manager (looked up again, never taken from the
 * caller); a recovery_code challenge takes one of the account's saved
 * codes as its answer.  Refused with 422 channel_refused when the
 * contact's channel is the one being recovered or the one the request
 * came over, 409 no_sender when no sender serves it, 409 no_directory,
 * 422 no_contact / no_manager, 409 when the request takes no more
 * evidence.  Audited as challenge.issued with the destination masked.
 * 201 {"challenge","request","kind","channel","destination" (masked),
 * "expires","max_attempts"}.
 */
int	engine_challenge_issue(struct tapgated *d,
	    const struct engine_actor *a, const char *id, const char *body,
	    size_t len, int64_t now, struct engine_result *res);

/*
 * Answer challenge cid of request id ({"code":"..."}): compared in
 * constant time with the stored HMAC (a recovery code: with the scrypt
 * hash of each standing code, spent when it matches).  Right: an
 * evidence item of origin appliance (verifier "tapgate", the channel
 * from the record) and the request evaluated again (200, as evidence
 * added); audited as challenge.answered.  Wrong: 422 wrong_code with the
 * attempts left, audited as challenge.failed, dead after max_attempts.
 * Expired: 409 challenge_expired, audited as challenge.expired.  Closed
 * (answered, failed, expired): 409 challenge_closed.  Another request's
 * challenge: 404.  No code is ever audited.
 */
int	engine_challenge_answer(struct tapgated *d,
	    const struct engine_actor *a, const char *id, const char *cid,
	    const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * Saved recovery codes of the account a body {"account":"..."} names
 * (resolved through the directory as a submission is): issue (a new
 * set of 10 codes of 12 characters, shown once in the answer, stored
 * only as scrypt hashes; the standing set is revoked) or revoke the
 * standing set.  Audited as recovery_codes.issued or
 * recovery_codes.revoked, without codes.
 */
int	engine_recovery_codes(struct tapgated *d,
	    const struct engine_actor *a, const char *body, size_t len,
	    bool issue, int64_t now, struct engine_result *res);

/*
 * An officer records identity proofing on request id ({"document":
 * "passport"|"national_id"|"driving_licence"|"residence_permit", "seen":
 * "in_person"|"video", "reference":"..." (1..64)}): an evidence item of
 * type identity_document, origin officer, verifier the officer's name
 * (the caller's, a canonical identity); refused (403) when that officer
 * is the requester or the account.  The manual route needs it before its
 * approvals count.  Audited as request.proofing_recorded; 200 as
 * evidence added.
 */
int	engine_proofing(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/* Veto or deny ({"reason":"..."}) a request; kind is "veto" or "deny".
 * An order already issued for it is revoked (eng_order_revoke()). */
int	engine_decide(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *kind, const char *body, size_t len,
	    int64_t now, struct engine_result *res);

/*
 * Veto a request with a veto code its owner or manager was sent
 * ({"code":"..."}), from any caller: the code is the authority.  The code
 * is compared, in constant time, with the hashes of every code the
 * request's notifications carried; a wrong one is counted and audited
 * (request.veto_refused), and after ENGINE_VETO_CODE_TRIES wrong ones
 * every code is refused (429).  A right one vetoes the request as an
 * officer's veto does, audited as request.vetoed with by "veto_code" and
 * the recipient whose code it was.
 */
#define ENGINE_VETO_CODE_TRIES	5
int	engine_veto_code(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * What the owner may see of a request with one of its veto codes
 * ({"code":"..."}), checked and counted as engine_veto_code checks it
 * (the same wrong-code counter): {"id", "account", "queue", "changes" (in
 * words), "state", "hold_until", "seconds_left", "requested_at",
 * "can_veto"}; no evidence, no contacts, no codes.
 */
int	engine_veto_view(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * One request in detail (request, evidence, decisions, decision, and the
 * approvals that count: officer, group, user_verified, time).
 */
int	engine_show(struct tapgated *d, const struct engine_actor *a,
	    const char *id, int64_t now, struct engine_result *res);

/*
 * Requests, newest first, filtered by queue and state (may be NULL); of
 * a->team only when it is set.
 */
int	engine_list(struct tapgated *d, const struct engine_actor *a,
	    const char *queue, const char *state, int limit,
	    struct engine_result *res);

/* Requests whose id starts with prefix (1 to 32 hex digits), by id; of
 * a->team only when it is set. */
int	engine_list_prefix(struct tapgated *d, const struct engine_actor *a,
	    const char *prefix, int limit, struct engine_result *res);

/*
 * Raise risk signals on a request after its submission
 * ({"signals":["new_device",...],"reason":"..."}), by intake (its own
 * team's requests, as above) or an officer: each signal not raised
 * before is recorded for good (a signal once raised stays) and the
 * request is evaluated again at once, audited as request.risk_raised
 * (signals, reason, from and to state).  409 once the request is final
 * (request_closed) or its order is issued (order_issued: an officer can
 * deny it).  The answer is the request's summary with the route's
 * reason, "raised" and "already_raised".  (risk.c)
 */
int	engine_risk_raise(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/* ---- approval (approval.c) */

/* What an approver is asked to approve: the change and its digest. */
int	engine_approval_preview(struct tapgated *d, const char *id,
	    int64_t now, struct engine_result *res);

/*
 * An officer approves request id ({"device","pin"}): the key is asked
 * without a touch which officer's credential it holds, and an approval
 * the rules of separation and cooldown refuse is refused then, before
 * any touch ("touch_asked": false in the answer and the audit); else the
 * key is touched for the change's clientData, with d->lock released
 * while the key is asked (held on entry and exit), the assertion is
 * verified against the officer's enrolled key and the rules again, and
 * recorded.  A PIN error's answer carries the attempts the key has left
 * (error.retries).  A request the approval made ready goes to the
 * signer.
 */
int	engine_approve(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len,
	    struct engine_result *res);

/*
 * An officer approves request id from the web console, in two calls.
 * Begin: a nonce of 32 random bytes for this attempt, usable once within
 * console.nonce_seconds, bound to the request and the officer asking
 * (the officer the caller's principal is enrolled as, else its name);
 * the answer has the nonce, the challenge the browser's key signs
 * (base64url(SHA-256(change digest || nonce))), the rp_id, the caller's
 * enrolled credentials (allow_credentials), the preview the box shows
 * (engine_approval_preview) and when the nonce expires; audited as
 * approval.begun (the officer, when it lapses).  Before any
 * touch, the checks of the officer and the request run as at the box
 * (approval.refused, "touch_asked": false).  409 no_console
 * without console.origins, 403 for a caller that is no enrolled officer,
 * 409 when the request takes no approval, 429 when
 * DAEMON_CONSOLE_NONCES attempts are under way.  An officer holds at most
 * DAEMON_OFFICER_NONCES live nonces: a new one replaces its oldest.
 */
int	engine_console_begin(struct tapgated *d, const struct engine_actor *a,
	    const char *id, int64_t now, struct engine_result *res);

/*
 * Finish ({"nonce","credential_id","authenticator_data",
 * "client_data_json","signature"}, base64url, what the browser's
 * navigator.credentials.get() gave): the nonce is spent whatever
 * follows, and must be this request's and this officer's, unexpired;
 * the clientDataJSON is parsed strictly (common/clientdata.h), its
 * challenge this change's with that nonce, its origin one of
 * console.origins; the credential the caller's own; then every check
 * of an approval at the box (UP, UV, rpIdHash, a counter that grows or
 * the key is suspended, separation of duties, group, cooldown, request
 * state), and the approval recorded with its clientDataJSON and nonce.
 * Every refusal is audited (approval.refused, "via": "console") and
 * answered in words; a recorded approval is audited as request.approved
 * with "via": "console".
 */
int	engine_console_approve(struct tapgated *d,
	    const struct engine_actor *a, const char *id, const char *body,
	    size_t len, struct engine_result *res);

/* ---- the console's users (signin.c) */

/*
 * The uid a console user acts as in the store: negative, below every
 * certificate caller's, one per name.
 */
int64_t	engine_user_uid(const char *user);

/*
 * Begin a sign-in ({"user"}): a nonce of 32 random bytes, usable once
 * within console.nonce_seconds by that user, which is the challenge the
 * browser's key signs; the answer has it, the rp_id, the user's
 * credentials (allow_credentials: the active ones of the officer it is,
 * enrolled at the box: its principal's officer setting, else for an
 * officer user its principal's name or its own) and when it expires.
 * A user the configuration does not know, or one without a credential,
 * gets the same shape with a credential id derived from its name under
 * a key of this run (no enumeration of users).  400 for a body that is
 * not {"user"} with a canonical identity, 409 no_console without
 * console.origins.  Never refused for failures: a user locked out by
 * anyone who types its name could not sign in with its own key.
 */
int	engine_signin_begin(struct tapgated *d, const char *body, size_t len,
	    int64_t now, struct engine_result *res);

/*
 * Finish ({"user","nonce","credential_id","authenticator_data",
 * "client_data_json","signature"}, base64url): the nonce is spent on
 * any attempt and must be this user's, unexpired; the clientDataJSON
 * strict (common/clientdata.h), type webauthn.get, its challenge the
 * nonce, its origin one of console.origins; the credential one of the
 * user's; the assertion verified with its key (rpIdHash, UP, UV, the
 * signature, a counter that grows: else the credential is suspended as
 * at the box, alarm.cloned_key).  Then a session of
 * console.session_seconds: its cookie into set_cookie (len bytes), the
 * answer engine_session's.  Every refusal is 401 signin_refused with the
 * reason in words, audited as console.signin_refused and counted
 * against the user; from DAEMON_SIGNIN_MAX_FAILS on, until the window
 * ends, a refusal is 429 too_many_attempts, neither audited nor counted
 * (anyone may send a user's name: the log must not fill), while an
 * assertion that verifies still signs in.  A sign-in is audited as
 * console.signin.
 */
int	engine_signin(struct tapgated *d, const char *body, size_t len,
	    int64_t now, char *set_cookie, size_t cookie_len,
	    struct engine_result *res);

/*
 * The signed-in user's session (session: the cookie's value, user the
 * name it holds): {"user","roles","principal","team","csrf","expires"}.
 */
int	engine_session(struct tapgated *d, const char *session,
	    const char *user, int64_t now, struct engine_result *res);

/*
 * End the session (sign-out), audited as console.signout; its cookie,
 * expired, into set_cookie.
 */
int	engine_signout(struct tapgated *d, const struct engine_actor *a,
	    const char *session, int64_t now, char *set_cookie,
	    size_t cookie_len, struct engine_result *res);

/*
 * An operator invites user ({"user"}, a configured user that is no
 * officer: officers sign in with the key enrolled at the box) to enrol
 * its security key: 201 {"user","code","expires"}, a code of 12
 * characters from the CSPRNG, stored only as its hash, valid an hour
 * and once; a new invitation replaces the last (console.invited).
 */
int	engine_console_invite(struct tapgated *d,
	    const struct engine_actor *a, const char *body, size_t len,
	    int64_t now, struct engine_result *res);

/*
 * Revoke user's console credentials and invitation ({"user"}), and end
 * its sessions (console.revoked).
 */
int	engine_console_revoke(struct tapgated *d,
	    const struct engine_actor *a, const char *body, size_t len,
	    int64_t now, struct engine_result *res);

/*
 * Enrol by invitation: begin ({"user","code"}) issues a nonce as
 * engine_signin_begin does, with what navigator.credentials.create()
 * takes (rp, user, pub_key_cred_params, exclude_credentials); finish
 * ({"user","code","nonce","client_data_json","authenticator_data"})
 * spends the nonce, checks the code, a webauthn.create clientDataJSON
 * for the nonce from a console origin, and the authenticator data
 * (rpIdHash, UP, UV, the attested credential: ES256 or EdDSA, parsed by
 * libfido2), then stores the credential and uses the invitation up:
 * 201 {"user","credential_id"} (console.enrolled).  A wrong code is
 * counted (console.invite_refused); the fifth revokes the invitation.
 * Refusals are 403 enrol_refused with the reason in words.
 */
int	engine_enrol_begin(struct tapgated *d, const char *body, size_t len,
	    int64_t now, struct engine_result *res);
int	engine_enrol(struct tapgated *d, const char *body, size_t len,
	    int64_t now, struct engine_result *res);

/* ---- officers (officers.c, quorum.c) */

/*
 * Enrol an officer's security key ({"name","group","device","pin"
 * [,"alg"]}), d->lock released while the key waits for a touch (held on
 * entry and exit).  A key that holds an enrolled credential, or one
 * revoked for compromise, is refused; one revoked for another cause is
 * enrolled again, audited as approver.reenrolled.  A PIN error's answer
 * carries the attempts the key has left (error.retries).
 */
int	engine_enroll(struct tapgated *d, const struct engine_actor *a,
	    const char *body, size_t len, struct engine_result *res);

/* The approvers (all: revoked ones too); export: what downstream needs
 * to check the approvals an order carries, with the rp_id. */
int	engine_approvers(struct tapgated *d, int all, int export,
	    struct engine_result *res);

/* Revoke every credential of approver name ({"cause"[,"reason"]}). */
int	engine_revoke(struct tapgated *d, const struct engine_actor *a,
	    const char *name, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * Count enrolled officers per approver group against what the policy
 * needs, and hold each group's state to the one stored: a group that
 * falls short raises "alarm.quorum_unreachable" (logged and audited), one
 * that reaches its count again "quorum.restored"; a state that did not
 * change raises nothing (at start, a standing alarm is logged again).
 * in_txn: called from the steps of the caller's transaction, where the
 * change commits or rolls back with it; else (at start) in a transaction
 * of its own.  The number of groups short of their quorum, or a TG_ERR_*.
 */
int	engine_quorum_check(struct tapgated *d, int in_txn, int64_t now);

/* ---- orders (signer.c) */

/* The signer, asked explicitly (refuses what the store does not show). */
int	engine_order_issue(struct tapgated *d, const struct engine_actor *a,
	    const char *id, int64_t now, struct engine_result *res);

/* The order of request id: its JWS, times, and whether it was redeemed;
 * 410 order_revoked (TG_ERR_REVOKED) with its revocation, not the order,
 * once a deny or veto revoked it. */
int	engine_order_get(struct tapgated *d, const char *id,
	    struct engine_result *res);

/* Redeem the order of request id once, before it expires (a replay, an
 * expired or a revoked order is refused and audited). */
int	engine_order_redeem(struct tapgated *d, const struct engine_actor *a,
	    const char *id, int64_t now, struct engine_result *res);

/*
 * The signed revocation list: a compact JWS (typ JWS_TYP_REVOCATIONS,
 * the active co-signing key, as orders) of the canonical JSON
 * {"iss","iat":now,"revoked":[{"jti","revoked_at"}]}, every order revoked
 * that expired less than ENG_REVOCATIONS_AFTER_EXP ago, oldest first:
 * {"jws","iat","count","kid"}.  503 without a signing key, or when more
 * than ENG_REVOCATIONS_MAX such orders were revoked (never a list that
 * leaves one out).
 */
#define ENG_REVOCATIONS_MAX		800
#define ENG_REVOCATIONS_AFTER_EXP	86400
int	engine_revocations(struct tapgated *d, int64_t now,
	    struct engine_result *res);

/* ---- what became of a redeemed order (outcome.c) */

/*
 * The outcome of request id's order, reported by the caller that
 * redeemed it: {"result": "applied"|"failed", "changed": [up to 32
 * strings of 1 to 256 bytes], "directory_result": up to 512 bytes}.
 * Stored, audited (order.applied or order.failed, in the request's
 * history) and its unreported alarm cleared.  409 when not redeemed,
 * resumed and not redeemed again, or reported already; 403 for another
 * caller.
 */
int	engine_order_outcome(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * An operator resumes request id's order, redeemed and not applied
 * (body {} or {"reason": up to 256 bytes}): its redeemer, and no one
 * else, may redeem it once more.  Audited as order.resumed; 409 when it
 * is not redeemed, applied, or resumed already.
 */
int	engine_order_resume(struct tapgated *d, const struct engine_actor *a,
	    const char *id, const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/* ---- time (holds.c, timer.c) */

/*
 * At start, before the API is served: the time since the last stored
 * heartbeat was downtime, in which no veto could be taken.  Every hold
 * still running at the heartbeat is extended by it, and one that ran out
 * meanwhile runs at least holds.restart_veto_seconds more; each audited
 * as hold.extended and told to the hooks, in one transaction with the
 * new heartbeat.  A failure must stop the daemon: it would otherwise
 * sign what no one could veto.
 */
int	engine_start(struct tapgated *d, int64_t now);

/* At a clean stop: the last heartbeat, so a restart counts only the time
 * it was really down. */
void	engine_stop(struct tapgated *d, int64_t now);

/*
 * The timer: count a stalled clock as downtime (holds, see engine_start),
 * store the heartbeat every DAEMON_HEARTBEAT_SECONDS, expire the requests
 * with no order holds.request_ttl_seconds after their submission (final
 * state "expired", audited as request.expired), move requests whose hold
 * has ended on, and warn the hooks of veto windows about to close.
 * Returns how many requests changed.
 */
int	engine_tick(struct tapgated *d, int64_t now);

/* ---- the audit chain (auditguard.c) */

/* The last limit audit entries, oldest first. */
int	engine_audit_tail(struct tapgated *d, int limit,
	    struct engine_result *res);

/*
 * A request's history: the audit entries about request id (32 hex
 * digits; 400 otherwise, 404 for no such request), oldest first, those
 * after entry seq after (0: from the first), at most limit
 * (1..AUDIT_TAIL_MAX): {"request_id","entries":[...],"more"}, more true
 * when later entries did not fit.  An actor acting only as intake reads
 * only the requests its uid submitted (403 otherwise).
 */
int	engine_audit_history(struct tapgated *d, const struct engine_actor *a,
	    const char *id, int64_t after, int limit,
	    struct engine_result *res);

/*
 * A request's timeline for the console: {"id", "events": [{"seq",
 * "time", "event", "actor", "detail"}]} from its audit entries, oldest
 * first; who may read it as for engine_audit_history (intake: its own
 * team's requests only, another's is not found).
 */
int	engine_timeline(struct tapgated *d, const struct engine_actor *a,
	    const char *id, struct engine_result *res);

/* ---- the console's reads (views.c) */

/*
 * The queues and their change vocabulary (src/order/vocab.h, as form
 * fields: {"name", "type", "value" for a constant, "required"}), with
 * the classes, channels, evidence types and challenge kinds a request
 * may carry: {"queues": [{"queue", "changes", "classes", "channels",
 * "evidence_types", "challenge_kinds"}]}.  A caller acting for a team
 * (a->team) sees its team's queues and classes only.
 */
int	engine_queues(struct tapgated *d, const struct engine_actor *a,
	    struct engine_result *res);

/*
 * The operators' dashboard: {"queues": [{"queue", "states": {state:
 * count}}], "holds": [{"id", "account", "queue", "class", "state",
 * "hold_until", "seconds_left"}], "alarms": [the last 20 alarm.* audit
 * entries, newest first: {"seq", "time", "event", "detail"}], "quorum":
 * [{"group", "enrolled" (officers ever enrolled), "active" (holding an
 * unrevoked key), "needed"}]}.
 */
int	engine_dashboard(struct tapgated *d, int64_t now,
	    struct engine_result *res);

/* An audit_verify() report as JSON: ok, count, head, and the break. */
json_t	*engine_audit_report_json(const struct audit_report *rep);

/*
 * Walk the audit chain and report where it breaks, if it does, and hold
 * it to its signed checkpoints (store/checkpoint.h) under the co-signing
 * key: a tail cut after a checkpoint, a rewritten entry or a forged
 * checkpoint fails too, and so does a stale tail (checkpoint_check_stale()
 * with the daemon's period).  It is also held to the high-water mark and
 * to the anchors[0..n) the caller brings ("SEQ:HASH", what an order or an
 * exported checkpoint carries; at most ENGINE_ANCHORS_MAX; 400 for a
 * malformed one).
 */
#define ENGINE_ANCHORS_MAX	8
int	engine_audit_verify(struct tapgated *d, const char *const *anchors,
	    size_t n, int64_t now, struct engine_result *res);

/* A checkpoint_verify() report as JSON: the chain's, plus checkpoint. */
json_t	*engine_checkpoint_report_json(const struct checkpoint_report *rep);

/*
 * Add the anchors a[0..n) (audit_hold_anchor() done), named by
 * sources[i], to a report made by engine_checkpoint_report_json():
 * "anchors":[{"seq","hash","source","held"[,"reason"]}], and when one is
 * not held and the report was ok, ok false with why "anchor", bad_seq and
 * reason.  0, or TG_ERR_NOMEM.
 */
int	engine_anchors_json(json_t *rep, const struct audit_anchor *a,
	    const char *const *sources, size_t n);

/*
 * At start, once the co-signing keys are open and before anything is
 * appended or signed: hold the audit chain to the high-water mark beside
 * the sealed key (auditmark.h).  A fresh state (no mark, no entry) gets
 * the mark of the empty chain.  A chain that went backwards (the mark's
 * entry is gone or has another hash), a mark that does not verify under
 * the appliance's keys, or a missing mark while the log has entries
 * (deleted, or the first start of a version that keeps one: the daemon
 * cannot tell them apart) raises an ALARM on stderr and refuses
 * (TG_ERR_CORRUPT), unless accept: then "audit.head_accepted" is audited
 * with what was found and the mark moves to the chain's head.
 */
int	engine_audit_mark_open(struct tapgated *d, int accept, int64_t now);

/*
 * Sign the audit chain's head with the co-signing key as a checkpoint,
 * when it moved since the last one and the chain still extends that one
 * (refused, logged and counted as an error otherwise).  Checkpoints are
 * not audited: that entry would move the head just signed.  Sets the
 * next due time.  1 written, 0 nothing new, negative refused or failed.
 * Called at start, from engine_tick() every checkpoint_interval seconds,
 * before a backup, around a key rotation and at a clean stop.
 */
int	engine_checkpoint(struct tapgated *d, int64_t now);

/* ---- co-signing keys (keys.c) */

/*
 * The JWKS: the active key and the retired ones still published at now
 * (until the last order they signed expires); with all, every key the
 * appliance ever signed with (what audit checkpoints verify against).
 */
int	engine_keys(struct tapgated *d, int all, int64_t now,
	    struct engine_result *res);

/*
 * Rotate the co-signing key (operator): the standby key becomes active,
 * the old one is retired (public half kept, published until its last
 * order expires; private half wiped and its blob destroyed), audited as
 * "key.rotate".  The audit head is checkpointed with the old key before
 * and with the new one after.  409 no_standby_key when no standby key is
 * sealed (YubiKey seal: one rotation per start).
 */
int	engine_key_rotate(struct tapgated *d, const struct engine_actor *a,
	    int64_t now, struct engine_result *res);

/*
 * At start, after signkey_ring_open(): audit a rotation that a crash
 * interrupted and that was completed now.
 */
int	engine_keys_opened(struct tapgated *d,
	    const struct signkey_report *rep, int64_t now);

/* ---- operations (ops.c) */

/*
 * Back the database up ({"path":"/absolute/file"}) with sqlite's online
 * backup into a new 0600 file (never over one) and FILE.sha256; open the
 * copy and check it (integrity, schema, audit chain and checkpoints),
 * and audit "store.backup" with the copy's audit head.  A copy that does
 * not check out is removed.
 */
int	engine_backup(struct tapgated *d, const struct engine_actor *a,
	    const char *body, size_t len, int64_t now,
	    struct engine_result *res);

/*
 * The metrics page (Prometheus text format 0.0.4, each family's samples
 * together after its HELP and TYPE), malloc'd.
 */
char	*engine_metrics(struct tapgated *d);

/* Count ns in the histogram of which, an enum daemon_latency
 * (daemon/daemon.h), under d->lock. */
void	engine_observe(struct tapgated *d, int which, int64_t ns);

/* ---- the daemon's own processes and hooks (events.c) */

/*
 * Audit what happened to one of the daemon's own processes (the front
 * broke the channel's protocol, or went away): event and details (an
 * object, consumed) as the system.  Takes d->lock.  0 or a TG_ERR_*.
 */
int	engine_audit_system(struct tapgated *d, const char *event,
	    json_t *details);

/*
 * The store's audit sink (audit_set_sink(), arg the struct tapgated):
 * counts the orders issued and the redemptions by outcome from the
 * entries that committed, so the metrics never count what rolled back.
 * Runs at the commit, under d->lock.
 */
void	engine_audit_committed(const struct audit_entry *e, void *arg);

/*
 * At start (d->lock held): without any sender configured, nobody hears of
 * a request: logged as an alarm at every start, and audited as
 * alarm.notifications_unconfigured once per change of state (a later
 * start with senders audits notifications.configured).
 */
void	engine_senders_check(struct tapgated *d, int64_t now);

/* Hook outcome reporter (hooks_report_fn, ctx the struct tapgated) that
 * counts every outcome and audits failures.  Takes d->lock. */
void	engine_hook_report(void *ctx, const char *program,
	    const char *event_json, enum hook_outcome outcome, int status);

#endif

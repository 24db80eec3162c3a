/* SPDX-License-Identifier: ISC */
/*
 * policy: the appliance configuration and the pure recovery-policy
 * evaluation.  This header is the module's whole contract.
 *
 * Configuration format: libconfig.  It is typed (integers, booleans,
 * strings, arrays, lists and groups are distinct, so "900" is not 900 and
 * "no" is not false, unlike YAML), it has comments for the security team
 * that reviews the policy, every setting carries its line number so an error
 * can point at the exact line, it parses from a memory buffer (the daemon
 * embeds its default), and it is a small, long-maintained C library packaged
 * everywhere (Debian libconfig-dev).  JSON has no comments; the TOML and
 * YAML C libraries are either less maintained or untyped.
 *
 * Loading is strict because a typo in a security policy must not be
 * silently ignored: unknown keys and unknown queue, class, evidence, risk,
 * role, channel and approver-group names are refused; every number, string
 * and count has a bound; "@include" is refused (the policy is one reviewable
 * file, and loading must not open other files); every queue x class rule
 * must be present.  Errors read
 *   config line 42: rules.mfa_reset.admin.evidence.require_all[0]:
 *   unknown evidence type "fax"
 * (one line) so the operator sees the setting and its line.
 *
 * Evaluation (policy_evaluate, policy_check_approver, policy_roles) is pure:
 * no I/O, no clock, no globals, no allocation, no time-zone lookup.  The
 * caller passes the time.
 *
 * The requesting agent and the officers are canonical identities
 * (policy_identity_canonical), compared exactly: the agent is the
 * caller's principal or an agent its integration lists, never free text.
 * Other names (target account, class names and patterns, target groups,
 * systems) ignore ASCII case, because directories do: "Alice" and
 * "alice" are the same person, so a class downgrade cannot hide behind a
 * capital letter.
 * Channels and approver groups are lowercase identifiers compared exactly;
 * credential ids and evidence refs are compared exactly.
 */
#ifndef TAPGATE_POLICY_H
#define TAPGATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- bounds (every string length excludes the NUL) */
#define POLICY_CONFIG_MAX		(256 * 1024)	/* config text bytes */
#define POLICY_IDENT_MAX		64	/* ids, channels, groups */
#define POLICY_NAME_MAX			128	/* accounts, patterns, ... */
#define POLICY_LONG_MAX			255	/* rp_id, issuer, paths */
#define POLICY_SOCKET_MAX		107	/* sizeof(sun_path) - 1 */
#define POLICY_MAX_ROLE_ENTRIES		64
#define POLICY_MAX_PRINCIPALS		128	/* uid or gid -> principal */
#define POLICY_MAX_PRINCIPAL_AGENTS	32	/* one integration's agents */
#define POLICY_MAX_TEAMS		32
#define POLICY_MAX_TEAM_SYSTEMS		32
#define POLICY_MAX_CHANNELS		32
#define POLICY_MAX_APPROVER_GROUPS	16
#define POLICY_MAX_CLASS_ACCOUNTS	256
#define POLICY_MAX_CLASS_PATTERNS	64
#define POLICY_MAX_CLASS_GROUPS		64
#define POLICY_MAX_CLASS_SYSTEMS	32
#define POLICY_MAX_CLASS_DIR_GROUPS	32	/* group DNs, per class */
#define POLICY_MAX_CLASS_DIR_OUS	16	/* OU DNs, per class */
#define POLICY_MAX_CLASS_DIR_TYPES	16	/* account types, per class */
#define POLICY_CLASS_DN_MAX		255	/* a configured DN */
#define POLICY_FACT_DN_MAX		512	/* a DN the directory reports */
#define POLICY_MAX_FACT_GROUPS		256	/* an account's groups */
#define POLICY_MAX_FACT_TYPES		8	/* its account type values */
#define POLICY_MAX_PATTERN_STARS	2	/* fnmatch is O(n^stars) */
#define POLICY_MAX_RULE_APPROVALS	4	/* groups per rule */
#define POLICY_MAX_APPROVAL_COUNT	5	/* approvals per group */
#define POLICY_MAX_ENTITLEMENTS		32	/* dropped, per rule */
#define POLICY_MAX_EVIDENCE_COUNT	8	/* min_passing bound */
#define POLICY_MAX_EXTRA_EVIDENCE	4
#define POLICY_MAX_HOLD_SECONDS		(30 * 86400)
#define POLICY_MIN_TTL_SECONDS		60
#define POLICY_MAX_TTL_SECONDS		(7 * 86400)
#define POLICY_MAX_HOOKS		8
#define POLICY_MAX_AAGUIDS		32
#define POLICY_DEFAULT_COOLDOWN		(30 * 86400)
#define POLICY_MAX_COOLDOWN		(365 * 86400)
#define POLICY_DEFAULT_RESTART_VETO	3600	/* fresh veto window */
#define POLICY_DEFAULT_STALL		30	/* clock gap = downtime */
#define POLICY_DEFAULT_OUTCOME_TIMEOUT	900	/* redeemed, unreported */
#define POLICY_MAX_OUTCOME_TIMEOUT	604800
#define POLICY_MIN_STALL		2
#define POLICY_MAX_STALL		3600
#define POLICY_DEFAULT_VETO_COOLOFF	(7 * 86400)	/* after a veto */
#define POLICY_MAX_VETO_COOLOFF		(365 * 86400)
#define POLICY_DEFAULT_REQUEST_TTL	(7 * 86400)	/* then expired */
#define POLICY_MAX_REQUEST_TTL		(365 * 86400)
#define POLICY_MIN_HOOK_TIMEOUT_MS	100
#define POLICY_MAX_HOOK_TIMEOUT_MS	60000
#define POLICY_DEFAULT_SENDER_TIMEOUT_MS 10000
/* requests and progress */
#define POLICY_MAX_EVIDENCE		32	/* items in one request */
#define POLICY_MAX_TARGET_GROUPS	64
#define POLICY_MAX_APPROVALS		64	/* standing approvals */
#define POLICY_REQ_STRING_MAX		256	/* any request string */
#define POLICY_MAX_TIME			INT64_C(253402300799) /* 9999-12-31 */
/* decisions */
#define POLICY_MAX_DECISION_APPROVALS	(2 * POLICY_MAX_RULE_APPROVALS)
#define POLICY_MAX_DECISION_DROPS	(2 * POLICY_MAX_ENTITLEMENTS)
#define POLICY_MAX_MISSING		24
#define POLICY_MISSING_CODE_MAX		160
#define POLICY_MISSING_TEXT_MAX		320
#define POLICY_REASON_MAX		320

/* Every approval any rule can count fits in a request's progress. */
_Static_assert(POLICY_MAX_APPROVALS >=
    POLICY_MAX_DECISION_APPROVALS * POLICY_MAX_APPROVAL_COUNT,
    "POLICY_MAX_APPROVALS below what a rule can count");

/* The reserved entitlement name meaning "every privileged entitlement". */
#define POLICY_DROP_ALL_PRIVILEGED	"all_privileged"

/* ---- names */

enum policy_queue {
	POLICY_QUEUE_PASSWORD_RESET,
	POLICY_QUEUE_MFA_RESET,
	POLICY_QUEUE_REACTIVATION,
	POLICY_QUEUE_PRIVILEGE_CHANGE,
	POLICY_QUEUE_TRANSACTION_APPROVAL,
	POLICY_QUEUE_COUNT
};

/*
 * Account classes, ordered by strictness: a larger value is stricter, and
 * the effective class is the maximum of everything that applies.
 * standard < shared < finance < admin: a shared identity (shared mailbox,
 * service account, delegated role) has no single owner to notice and veto
 * a takeover; a finance account moves money; an admin account can grant
 * itself any of the others.
 */
enum policy_class {
	POLICY_CLASS_STANDARD,
	POLICY_CLASS_SHARED,
	POLICY_CLASS_FINANCE,
	POLICY_CLASS_ADMIN,
	POLICY_CLASS_COUNT
};

enum policy_evidence_type {
	POLICY_EVIDENCE_PRE_REGISTERED_FACTOR,
	POLICY_EVIDENCE_OUT_OF_BAND_CALLBACK,
	POLICY_EVIDENCE_MANAGER_CONFIRMATION,	/* manager or delegate */
	POLICY_EVIDENCE_IDENTITY_DOCUMENT,
	POLICY_EVIDENCE_ACCOUNT_HISTORY,
	POLICY_EVIDENCE_COUNT
};
#define POLICY_EVIDENCE_BIT(t)	(1u << (t))

/*
 * Who vouches for an evidence item.  AGENT (the zero value): typed by an
 * intake caller, attested by the caller's principal (its verifier).
 * APPLIANCE: a challenge the appliance issued and checked itself
 * (verifier "tapgate").  OFFICER: recorded by an officer through an
 * officer route (verifier: the officer's canonical identity).  Only
 * APPLIANCE items, and OFFICER items of type identity_document, are
 * verified: they count towards a rule's min_verified.
 */
enum policy_evidence_origin {
	POLICY_ORIGIN_AGENT,
	POLICY_ORIGIN_APPLIANCE,
	POLICY_ORIGIN_OFFICER,
	POLICY_ORIGIN_COUNT
};

enum policy_risk {
	POLICY_RISK_NEW_DEVICE,
	POLICY_RISK_UNUSUAL_GEOLOCATION,
	POLICY_RISK_RECENT_COMPROMISE,
	POLICY_RISK_RECENT_FACTOR_CHANGE,
	POLICY_RISK_COUNT
};

/* API roles, granted by peer credentials (SO_PEERCRED uid and gids). */
enum policy_role {
	POLICY_ROLE_INTAKE,
	POLICY_ROLE_OFFICER,
	POLICY_ROLE_DOWNSTREAM,
	POLICY_ROLE_OPERATOR,
	POLICY_ROLE_COUNT
};
#define POLICY_ROLE_BIT(r)	(1u << (r))

enum policy_route {
	POLICY_ROUTE_NORMAL,
	POLICY_ROUTE_MANUAL_REVIEW	/* no trusted factor, or risk */
};

/*
 * Where a request stands.  The non-final states are ordered: evidence
 * first, then approvals (NEEDS_APPROVAL on the normal route, MANUAL_REVIEW
 * on the manual route), then the veto hold, then READY (the daemon may
 * co-sign).  VETOED and DENIED are final and win over everything.
 * SIGN_FAILED is a request the policy held ready but the signer refused
 * (a corrupt row, a check that failed, a crypto error): parked where
 * everyone sees it, never signed unless an operator asks the signer
 * again, and final otherwise (only a denial still moves it).
 */
enum policy_state {
	POLICY_STATE_NEEDS_EVIDENCE,
	POLICY_STATE_NEEDS_APPROVAL,
	POLICY_STATE_MANUAL_REVIEW,
	POLICY_STATE_IN_HOLD,
	POLICY_STATE_READY,
	POLICY_STATE_VETOED,
	POLICY_STATE_DENIED,
	POLICY_STATE_SIGN_FAILED,
	POLICY_STATE_EXPIRED,		/* never completed in its time */
	POLICY_STATE_COUNT
};

/* What set the effective class. */
enum policy_class_source {
	POLICY_CLASS_SOURCE_DEFAULT,	/* nothing matched: standard */
	POLICY_CLASS_SOURCE_CLAIM,	/* the request's claim was stricter */
	POLICY_CLASS_SOURCE_ACCOUNT,	/* exact account name */
	POLICY_CLASS_SOURCE_PATTERN,	/* fnmatch pattern on the account */
	POLICY_CLASS_SOURCE_GROUP,	/* a group listed in target.groups */
	POLICY_CLASS_SOURCE_SYSTEM,	/* every account of that system */
	POLICY_CLASS_SOURCE_NO_DIRECTORY, /* none to ask, not named: admin */
	POLICY_CLASS_SOURCE_DIR_GROUP,	/* a directory group (by DN) */
	POLICY_CLASS_SOURCE_DIR_OU,	/* the entry's DN under an OU */
	POLICY_CLASS_SOURCE_DIR_TYPE,	/* the entry's account type */
	POLICY_CLASS_SOURCE_NO_FACTS	/* a directory, no facts: admin */
};

/* Why an evidence item did or did not count. */
enum policy_evidence_verdict {
	POLICY_EVIDENCE_COUNTED,
	POLICY_EVIDENCE_FAILED,			/* result was "fail" */
	POLICY_EVIDENCE_REQUEST_CHANNEL,	/* the request's own channel */
	POLICY_EVIDENCE_RECOVERED_CHANNEL,	/* the channel recovered */
	POLICY_EVIDENCE_SELF_VERIFIED,		/* verifier is the target */
	POLICY_EVIDENCE_DUPLICATE,		/* same type and ref again */
	POLICY_EVIDENCE_REQUESTER_VERIFIED	/* verifier is the requester */
};

/* Why policy_check_approver refused an approver. */
enum policy_approver_fault {
	POLICY_APPROVER_OK,
	POLICY_APPROVER_NOT_USER_VERIFIED,	/* no PIN/biometric (UV) */
	POLICY_APPROVER_IS_REQUESTER,		/* officer is the agent */
	POLICY_APPROVER_IS_TARGET,		/* officer is the account */
	POLICY_APPROVER_ALREADY_APPROVED,	/* officer already counted */
	POLICY_APPROVER_CREDENTIAL_REUSED,	/* credential already used */
	POLICY_APPROVER_NOT_AWAITING_APPROVAL,	/* state takes no approval */
	POLICY_APPROVER_GROUP_NOT_NEEDED	/* group not required or full */
};

/* "password_reset", ... (static, never NULL; "?" when out of range). */
const char	*policy_queue_name(enum policy_queue q);
/* Parse a queue name: 0, or TG_ERR_INVALID (*q untouched). */
int		 policy_queue_parse(const char *s, enum policy_queue *q);
/* "standard", "shared", "finance", "admin" ("?" when out of range). */
const char	*policy_class_name(enum policy_class c);
/* Parse a class name: 0, or TG_ERR_INVALID (*c untouched). */
int		 policy_class_parse(const char *s, enum policy_class *c);
/* "pre_registered_factor", ... ("?" when out of range). */
const char	*policy_evidence_name(enum policy_evidence_type t);
/* Parse an evidence type name: 0, or TG_ERR_INVALID (*t untouched). */
int		 policy_evidence_parse(const char *s,
		    enum policy_evidence_type *t);
/* "agent", "appliance", "officer" ("?" when out of range). */
const char	*policy_origin_name(enum policy_evidence_origin o);
/* Parse an origin name: 0, or TG_ERR_INVALID (*o untouched). */
int		 policy_origin_parse(const char *s,
		    enum policy_evidence_origin *o);
/* "new_device", ... ("?" when out of range). */
const char	*policy_risk_name(enum policy_risk r);
/* Parse a risk signal name: 0, or TG_ERR_INVALID (*r untouched). */
int		 policy_risk_parse(const char *s, enum policy_risk *r);
/* "intake", "officer", "downstream", "operator" ("?" when out of range). */
const char	*policy_role_name(enum policy_role r);
/* Parse a role name: 0, or TG_ERR_INVALID (*r untouched). */
int		 policy_role_parse(const char *s, enum policy_role *r);
/* "needs_evidence", ..., "denied" ("?" when out of range). */
const char	*policy_state_name(enum policy_state s);
/* Parse a state name (query filters): 0, or TG_ERR_INVALID. */
int		 policy_state_parse(const char *s, enum policy_state *st);
/* "normal" or "manual_review" ("?" when out of range). */
const char	*policy_route_name(enum policy_route r);
/*
 * "default", "claim", "account", "pattern", "group", "system",
 * "no_directory", "directory_group", "directory_ou", "directory_type",
 * "no_facts".
 */
const char	*policy_class_source_name(enum policy_class_source s);
/* "counted", "failed", "request_channel", ... ("?" when out of range). */
const char	*policy_evidence_verdict_name(enum policy_evidence_verdict v);
/* "ok", "not_user_verified", "is_requester", ... ("?" when out of range). */
const char	*policy_approver_fault_name(enum policy_approver_fault f);

/* ---- configuration (plain data; strings are NUL-terminated copies) */

struct policy_appliance {
	char	id[POLICY_IDENT_MAX + 1];
	char	name[POLICY_NAME_MAX + 1];
	char	rp_id[POLICY_LONG_MAX + 1];	/* WebAuthn RP ID (a domain) */
	char	state_dir[POLICY_LONG_MAX + 1];	/* absolute */
	char	socket[POLICY_SOCKET_MAX + 1];	/* absolute */
	char	order_issuer[POLICY_LONG_MAX + 1];
};

/*
 * One roles entry: a uid, a gid, (is_cert) a client certificate's
 * SHA-256 fingerprint (of its DER, over HTTPS) or (is_user) a console
 * user who signs in in the browser with a security key, by name (a
 * canonical identity), and the roles it grants.  An entry of one kind
 * matches no caller of another.
 */
#define POLICY_CERT_SHA256_LEN	32
struct policy_role_entry {
	bool		is_gid;
	bool		is_cert;
	bool		is_user;
	uint32_t	id;		/* 0 for a certificate or a user */
	uint8_t		cert_sha256[POLICY_CERT_SHA256_LEN];
	char		user[POLICY_IDENT_MAX + 1];	/* "": not a user */
	unsigned	roles;		/* POLICY_ROLE_BIT() mask */
};

/*
 * One principals entry: an intake caller by uid or gid, named.  name and
 * team are canonical identities (policy_identity_canonical).  An
 * integration (a ticketing system) may name as requester.agent any of
 * agents[0..nagents) besides itself; anyone else only itself.  officer,
 * when set, is the name the same person is enrolled under as an officer,
 * when it is not the principal's own: separation of duties then refuses
 * that officer too on this principal's requests.
 */
struct policy_principal {
	bool		is_gid;
	bool		is_cert;	/* by cert_sha256, as in roles */
	bool		is_user;	/* by user, as in roles */
	uint32_t	id;
	uint8_t		cert_sha256[POLICY_CERT_SHA256_LEN];
	char		user[POLICY_IDENT_MAX + 1];
	char		name[POLICY_IDENT_MAX + 1];
	char		team[POLICY_IDENT_MAX + 1];
	bool		integration;
	char	agents[POLICY_MAX_PRINCIPAL_AGENTS][POLICY_IDENT_MAX + 1];
	size_t		nagents;
	char		officer[POLICY_IDENT_MAX + 1];	/* "": none */
};

/*
 * What a team may submit to: a request's queue, its effective class (as
 * evaluated, never the claim) and its system must each be in the team's
 * scope.  A list absent from the configuration leaves that dimension
 * open (queues and classes: every bit set, systems: all_systems).  A
 * team sees only its own team's requests.
 */
struct policy_team {
	char		name[POLICY_IDENT_MAX + 1];
	unsigned	queues;		/* 1u << enum policy_queue */
	unsigned	classes;	/* 1u << enum policy_class */
	bool		all_systems;
	char		systems[POLICY_MAX_TEAM_SYSTEMS][POLICY_NAME_MAX + 1];
	size_t		nsystems;
};

/*
 * How the appliance itself recognises accounts of one class.  With a
 * directory, its facts come first: dir_groups (group DNs the account is
 * a member of), dir_ous (OU DNs the account's entry lies under) and
 * dir_types (values of the directory's account type attribute,
 * directory.attributes.type: objectClass on Active Directory, or
 * msExchRecipientTypeDetails when configured so; employeeType on
 * OpenLDAP), then the names (accounts, patterns, caller's groups,
 * systems).  DNs compare as policy_dn_same() says; types ignoring ASCII
 * case (objectClass and employeeType values compare so).
 */
struct policy_class_map {
	char	dir_groups[POLICY_MAX_CLASS_DIR_GROUPS]
		    [POLICY_CLASS_DN_MAX + 1];
	size_t	ndir_groups;
	char	dir_ous[POLICY_MAX_CLASS_DIR_OUS][POLICY_CLASS_DN_MAX + 1];
	size_t	ndir_ous;
	char	dir_types[POLICY_MAX_CLASS_DIR_TYPES][POLICY_NAME_MAX + 1];
	size_t	ndir_types;
	char	accounts[POLICY_MAX_CLASS_ACCOUNTS][POLICY_NAME_MAX + 1];
	size_t	naccounts;
	char	patterns[POLICY_MAX_CLASS_PATTERNS][POLICY_NAME_MAX + 1];
	size_t	npatterns;
	char	groups[POLICY_MAX_CLASS_GROUPS][POLICY_NAME_MAX + 1];
	size_t	ngroups;
	char	systems[POLICY_MAX_CLASS_SYSTEMS][POLICY_NAME_MAX + 1];
	size_t	nsystems;
};

/* Evidence one rule needs (counted items only, see policy_evaluate). */
struct policy_evidence_rule {
	unsigned	min_passing;	/* counted items, >= min_types */
	unsigned	min_types;	/* distinct types among them */
	unsigned	require_all;	/* POLICY_EVIDENCE_BIT mask: each */
	unsigned	require_one_of;	/* mask: at least one (0 = none) */
	unsigned	min_verified;	/* counted verified items */
	unsigned	min_verified_types; /* distinct types among them */
};

/* count approvals from officers of group, each with user verification. */
struct policy_approval_rule {
	char		group[POLICY_IDENT_MAX + 1];
	unsigned	count;
};

/*
 * One queue x class rule; also the manual-review route (whose evidence
 * member is unused: that route exists for requests evidence cannot carry;
 * identity_proofing, the manual route's alone, default true: it needs
 * an identity document an officer recorded, origin officer, before its
 * approvals count).  napprovals == 0 means no FIDO approval is needed at
 * all.  approve_at_box (approve_at = "box"; default "anywhere"): its
 * approvals are taken at the box only, never from the web console.
 */
struct policy_rule {
	struct policy_evidence_rule	evidence;
	bool				identity_proofing;
	struct policy_approval_rule	approvals[POLICY_MAX_RULE_APPROVALS];
	size_t				napprovals;
	int64_t				hold_seconds;	/* veto window */
	int64_t				order_ttl_seconds;
	bool				approve_at_box;
	bool				drop_all_privileged;
	char	drop[POLICY_MAX_ENTITLEMENTS][POLICY_NAME_MAX + 1];
	size_t	ndrop;
};

/* What one risk signal adds when the request raises it. */
struct policy_risk_action {
	int64_t		extra_hold_seconds;
	unsigned	extra_evidence;	/* more items and more distinct types */
	bool		manual_review;	/* force the manual route */
};

/* Who may enrol as an approver, and when an officer may not approve. */
struct policy_approvers {
	char		trust_roots[POLICY_LONG_MAX + 1]; /* attestation PEM */
	char		aaguids[POLICY_MAX_AAGUIDS][37];  /* allow-list, UUID */
	size_t		naaguids;			  /* 0: any attested */
	int64_t		cooldown_seconds;	/* after their own recovery */
};

/*
 * Waiting periods count only while the appliance can take a veto.  Time
 * it was down (from its last heartbeat to its start), or stalled (its
 * clock moved on by more than stall_seconds between two looks: a
 * suspended VM), is added to every hold still running then; a hold that
 * ran out meanwhile runs at least restart_veto_seconds more.
 */
struct policy_holds {
	int64_t		restart_veto_seconds;
	int64_t		stall_seconds;
	/* after a veto, new requests for that account go to manual review
	 * for this long (0: never) */
	int64_t		veto_cooloff_seconds;
	/* a request with no order this long after its submission expires
	 * (final), distinct from an order's validity */
	int64_t		request_ttl_seconds;
};

/*
 * Orders after their redemption: an order redeemed and not reported
 * (POST /v1/orders/ID/outcome) within outcome_timeout_seconds raises
 * alarm.order_unreported.
 */
struct policy_orders {
	int64_t		outcome_timeout_seconds;
};

/*
 * Challenges the appliance issues (a one-time code to a contact on
 * record, to the manager, or a saved recovery code read back): how long
 * a code lives and how many wrong answers kill it.
 */
#define POLICY_DEFAULT_CHALLENGE_EXPIRY	600
#define POLICY_MIN_CHALLENGE_EXPIRY	2
#define POLICY_MAX_CHALLENGE_EXPIRY	3600
#define POLICY_DEFAULT_CHALLENGE_TRIES	3
#define POLICY_MAX_CHALLENGE_TRIES	10
struct policy_challenges {
	int64_t		expiry_seconds;
	int64_t		max_attempts;
};

/*
 * The web console's officers approve from the browser: the origins a
 * browser approval may come from (https, the host the rp_id or a
 * subdomain of it, as WebAuthn requires) and how long the nonce of an
 * attempt lives.  No origin: no console approval.  url: the console's
 * public address (https://HOST[:PORT][/PATH], no trailing '/'; "" none),
 * which the owner's and manager's notifications link to.
 */
#define POLICY_MAX_CONSOLE_ORIGINS	8
#define POLICY_DEFAULT_NONCE_SECONDS	120
#define POLICY_MAX_NONCE_SECONDS	600
/* a signed-in user's session: session_seconds, at most 900 */
#define POLICY_DEFAULT_SESSION_SECONDS	600
#define POLICY_MAX_SESSION_SECONDS	900
struct policy_console {
	char	origins[POLICY_MAX_CONSOLE_ORIGINS][POLICY_LONG_MAX + 1];
	size_t	norigins;
	int64_t	nonce_seconds;
	char	url[POLICY_LONG_MAX + 1];
	int64_t	session_seconds;
};

/* The appliance's co-signing key and how it is sealed at rest. */
struct policy_signing {
	char		alg[8];				/* "EdDSA", "ES256" */
	char		seal[8];			/* "file", "yubikey" */
	char		seal_key_file[POLICY_LONG_MAX + 1]; /* "" = default */
};

struct policy_notify {
	char		hooks[POLICY_MAX_HOOKS][POLICY_LONG_MAX + 1];
	size_t		nhooks;
	unsigned	timeout_ms;
};

/*
 * The sender programs, one per channel ("" when that channel has none):
 * each gets one message {"destination","channel","subject","text"} as
 * JSON on standard input and delivers it; it is killed after timeout_ms.
 */
enum policy_channel {
	POLICY_CHANNEL_MAIL,
	POLICY_CHANNEL_SMS,
	POLICY_CHANNEL_WEBHOOK,
	POLICY_CHANNEL_COUNT
};

#define POLICY_MAX_CONTACTS	16	/* security_team, officers */

/*
 * security_team and officers: who hears of every alarm, and of a request
 * that waits for an approval; each a destination "mail:ADDR", "sms:NUMBER",
 * "webhook:NAME", or a bare mail address.
 */
struct policy_senders {
	char		program[POLICY_CHANNEL_COUNT][POLICY_LONG_MAX + 1];
	unsigned	timeout_ms;
	char		security_team[POLICY_MAX_CONTACTS][POLICY_LONG_MAX + 1];
	size_t		nsecurity_team;
	char		officers[POLICY_MAX_CONTACTS][POLICY_LONG_MAX + 1];
	size_t		nofficers;
};

/* ---- the directory (optional: see struct policy_directory) */

#define POLICY_DIR_URI_MAX		255
#define POLICY_DIR_DN_MAX		255	/* configured DNs */
#define POLICY_DIR_FILTER_MAX		255	/* the filter template */
#define POLICY_DIR_ATTR_MAX		64	/* an attribute name */
#define POLICY_DIR_DOMAIN_MAX		128	/* DNS or NetBIOS domain */
#define POLICY_DIR_MIN_TIMEOUT		1	/* seconds */
#define POLICY_DIR_MAX_TIMEOUT		30
#define POLICY_DIR_DEFAULT_TIMEOUT	5
#define POLICY_DIR_MAX_GROUPS		256	/* memberOf values kept */
#define POLICY_DIR_DEFAULT_GROUPS	128
#define POLICY_DIR_MAX_GROUP_DEPTH	8	/* nesting levels followed */
#define POLICY_DIR_DEFAULT_GROUP_DEPTH	4
#define POLICY_DIR_DEFAULT_FACT_AGE	300	/* seconds */
#define POLICY_DIR_MAX_FACT_AGE		86400
/* The placeholder the filter template holds exactly once. */
#define POLICY_DIR_NAME_PLACEHOLDER	"{name}"

/* What kind of directory: it decides the defaults and name forms. */
enum policy_dir_preset {
	POLICY_DIR_ACTIVE_DIRECTORY,	/* sAMAccountName, UPN, DOMAIN\user */
	POLICY_DIR_OPENLDAP		/* uid */
};

/*
 * How the connection is protected.  LDAPS (ldaps://) and StartTLS
 * (ldap://, the default there) check the server's certificate against
 * ca_file and its name against the URI's host.  NONE is refused unless the
 * URI's host is loopback (127.0.0.1, ::1, localhost): a directory on the
 * appliance itself, or a test.
 */
enum policy_dir_tls {
	POLICY_DIR_TLS_LDAPS,
	POLICY_DIR_TLS_STARTTLS,
	POLICY_DIR_TLS_NONE
};

enum policy_dir_bind {
	POLICY_DIR_BIND_SIMPLE,		/* dn + password_file (0600) */
	POLICY_DIR_BIND_SASL_EXTERNAL	/* the TLS client certificate */
};

/*
 * The attributes read from an entry ("" = not read).  Every value is
 * an attribute description: a letter, then letters, digits and '-'.
 */
struct policy_dir_attrs {
	char	name[POLICY_DIR_ATTR_MAX + 1];		/* canonical name */
	char	upn[POLICY_DIR_ATTR_MAX + 1];		/* userPrincipalName */
	char	member_of[POLICY_DIR_ATTR_MAX + 1];	/* group DNs */
	char	manager[POLICY_DIR_ATTR_MAX + 1];	/* a DN */
	char	mobile[POLICY_DIR_ATTR_MAX + 1];
	char	phone[POLICY_DIR_ATTR_MAX + 1];
	char	mail[POLICY_DIR_ATTR_MAX + 1];
	char	alt_mail[POLICY_DIR_ATTR_MAX + 1];
	char	type[POLICY_DIR_ATTR_MAX + 1];		/* account type */
	char	disabled[POLICY_DIR_ATTR_MAX + 1];	/* see below */
	char	locked[POLICY_DIR_ATTR_MAX + 1];
};

/*
 * The directory the appliance asks who an account is (configured ==
 * false: none, and the appliance fails closed, see tapgated(8)).  The
 * preset fills the filter and every attribute the configuration leaves
 * out: Active Directory reads sAMAccountName, userPrincipalName,
 * memberOf, manager, mobile, telephoneNumber, mail, otherMailbox,
 * objectClass, userAccountControl (disabled: bit 2) and lockoutTime
 * (locked: not 0); OpenLDAP reads uid, memberOf, manager, mobile,
 * telephoneNumber, mail, employeeType, pwdAccountLockedTime (locked,
 * and disabled when "000001010000Z", ppolicy's permanent lock).
 * Names compare ignoring case on both: AD's sAMAccountName and the
 * uid attribute's equality rule (caseIgnoreMatch) both do.
 */
struct policy_directory {
	bool			configured;
	enum policy_dir_preset	preset;
	char			uri[POLICY_DIR_URI_MAX + 1];
	enum policy_dir_tls	tls;
	char			ca_file[POLICY_LONG_MAX + 1];
	enum policy_dir_bind	bind;
	char			bind_dn[POLICY_DIR_DN_MAX + 1];
	char			password_file[POLICY_LONG_MAX + 1];
	char			cert_file[POLICY_LONG_MAX + 1];	/* SASL */
	char			key_file[POLICY_LONG_MAX + 1];	/* EXTERNAL */
	char			base[POLICY_DIR_DN_MAX + 1];
	char			filter[POLICY_DIR_FILTER_MAX + 1];
	char			domain[POLICY_DIR_DOMAIN_MAX + 1]; /* UPN */
	char			netbios[POLICY_DIR_DOMAIN_MAX + 1]; /* D\u */
	unsigned		timeout_seconds;
	unsigned		max_groups;
	/*
	 * Groups of groups: Active Directory asks for the transitive
	 * memberships (LDAP_MATCHING_RULE_IN_CHAIN); OpenLDAP walks the
	 * groups holding each group, max_group_depth levels at most.
	 */
	bool			nested_groups;
	unsigned		max_group_depth;
	/* no order is signed on facts older: the signer looks again */
	unsigned		max_fact_age_seconds;
	struct policy_dir_attrs	attrs;
	/* members may be named agents by integrations; "": none */
	char			helpdesk_group[POLICY_DIR_DN_MAX + 1];
	/* the directory process's socket (its own unit); "": a child */
	char			socket[POLICY_SOCKET_MAX + 1];
};

/*
 * The HTTPS listener (configured == false: none).  listen is a numeric
 * "IPv4:port" or "[IPv6]:port"; the certificate chain and its key are
 * PEM files the daemon reads at start and again on SIGHUP; callers'
 * client certificates are verified against client_ca_file (PEM), and
 * are who they are by their fingerprint (roles and principals entries
 * with cert_sha256).
 */
#define POLICY_HTTPS_LISTEN_MAX	64
struct policy_https {
	bool	configured;
	char	listen[POLICY_HTTPS_LISTEN_MAX + 1];
	char	cert_file[POLICY_LONG_MAX + 1];
	char	key_file[POLICY_LONG_MAX + 1];
	char	client_ca_file[POLICY_LONG_MAX + 1];
};

/*
 * A loaded configuration.  classes[POLICY_CLASS_STANDARD] holds accounts
 * only: without a directory (directory.configured false) an account is
 * standard only when named there, and admin when no class names it
 * (fail closed); with one, standard is what an account is when nothing
 * stricter applies.
 */
struct policy_config {
	struct policy_appliance		appliance;
	char				policy_id[POLICY_IDENT_MAX + 1];
	int64_t				policy_version;	/* >= 1 */
	struct policy_role_entry	roles[POLICY_MAX_ROLE_ENTRIES];
	size_t				nroles;
	struct policy_principal		principals[POLICY_MAX_PRINCIPALS];
	size_t				nprincipals;	/* 0: no intake */
	struct policy_team		teams[POLICY_MAX_TEAMS];
	size_t				nteams;
	char	channels[POLICY_MAX_CHANNELS][POLICY_IDENT_MAX + 1];
	size_t	nchannels;
	char	approver_groups[POLICY_MAX_APPROVER_GROUPS]
		    [POLICY_IDENT_MAX + 1];
	size_t	napprover_groups;
	unsigned			trusted_evidence; /* type mask */
	struct policy_class_map		classes[POLICY_CLASS_COUNT];
	struct policy_rule		rules[POLICY_QUEUE_COUNT]
					    [POLICY_CLASS_COUNT];
	struct policy_rule		manual_review;
	struct policy_risk_action	risk[POLICY_RISK_COUNT];
	struct policy_notify		notify;
	struct policy_senders		senders;
	struct policy_approvers		approvers;
	struct policy_signing		signing;
	struct policy_holds		holds;
	struct policy_orders		orders;
	struct policy_directory		directory;
	struct policy_challenges	challenges;
	struct policy_console		console;
	struct policy_https		https;
};

/*
 * Load and validate the configuration file at path.  On success *cfgp is a
 * new configuration (free with policy_config_free) and 0 is returned.  On
 * failure returns TG_ERR_CONFIG (invalid content), TG_ERR_TOO_LONG (over
 * POLICY_CONFIG_MAX bytes), TG_ERR_IO (unreadable) or TG_ERR_NOMEM, leaves
 * *cfgp untouched, and writes a one-line message naming the line and the
 * setting to errbuf (which may be NULL when errlen is 0).  Messages start
 * with "config"; callers prefix the path.
 */
int	policy_config_load_file(const char *path, struct policy_config **cfgp,
	    char *errbuf, size_t errlen);

/*
 * As policy_config_load_file, from NUL-terminated text in memory (the
 * daemon's embedded default, tests, the fuzzer).
 */
int	policy_config_load_string(const char *text,
	    struct policy_config **cfgp, char *errbuf, size_t errlen);

/*
 * Check the files the configuration names, as the caller's user sees
 * them: approvers.trust_roots is a readable regular file holding at
 * least one PEM certificate, every notify.hooks and senders program an
 * executable regular file, the directory of signing.seal_key_file (file seal)
 * exists, and with a directory: its ca_file (and cert_file) hold a PEM
 * certificate, its password_file (or key_file) is a regular file of
 * mode 0600 owned by the calling uid (the daemon's); with https, its
 * cert_file and client_ca_file hold a PEM certificate and its key_file
 * is such a file.  0, or
 * TG_ERR_CONFIG with "setting: path: why" in errbuf.
 * Loading never touches these files; the daemon checks them at
 * --check-config and at start.
 */
int	policy_config_check_paths(const struct policy_config *cfg,
	    char *errbuf, size_t errlen);

/* Free a configuration and NULL the pointer; accepts NULL and *cfgp NULL. */
void	policy_config_free(struct policy_config **cfgp);

/*
 * The sender channel called name ("mail", "sms", "webhook"), or -1.
 * policy_channel_name() is its name ("?" out of range).
 */
int	policy_channel_of(const char *name);
const char	*policy_channel_name(int channel);

/* 1 when at least one sender program is configured, else 0. */
int	policy_senders_configured(const struct policy_config *cfg);

/* True if name is one of the configured channels (exact match). */
bool	policy_channel_known(const struct policy_config *cfg,
	    const char *name);

/* True if name is one of the configured approver groups (exact match). */
bool	policy_approver_group_known(const struct policy_config *cfg,
	    const char *name);

/*
 * The roles (POLICY_ROLE_BIT mask) a peer holds: the union over every
 * entry naming its uid or one of its ngids gids.  0 means no role.
 */
unsigned policy_roles(const struct policy_config *cfg, uint32_t uid,
	    const uint32_t *gids, size_t ngids);

/* The roles a client certificate holds by its fingerprint (0: none). */
unsigned policy_roles_cert(const struct policy_config *cfg,
	    const uint8_t sha256[POLICY_CERT_SHA256_LEN]);

/* The principal a client certificate is, by its fingerprint, or NULL. */
const struct policy_principal *policy_principal_of_cert(
	    const struct policy_config *cfg,
	    const uint8_t sha256[POLICY_CERT_SHA256_LEN]);

/* The roles a console user holds by its name (0: none). */
unsigned policy_roles_user(const struct policy_config *cfg,
	    const char *name);

/* The principal a console user is, by its name, or NULL. */
const struct policy_principal *policy_principal_of_user(
	    const struct policy_config *cfg, const char *name);

/*
 * The principal a peer is: the entry naming its uid, else the first
 * entry naming one of its ngids gids, else NULL (no principal: it may
 * not submit).  Points into cfg.
 */
const struct policy_principal *policy_principal_of(
	    const struct policy_config *cfg, uint32_t uid,
	    const uint32_t *gids, size_t ngids);

/*
 * The officer name the principal named agent is also enrolled under
 * (its officer setting), or NULL: what a request's agent_officer is.
 */
const char *policy_officer_of(const struct policy_config *cfg,
	    const char *agent);

/* The team named name, or NULL.  Points into cfg. */
const struct policy_team *policy_team_of(const struct policy_config *cfg,
	    const char *name);

/*
 * Whether principal p may submit with requester.agent agent: agent is
 * p's own name, or p is an integration and agent is one it lists.
 * Exact comparison: both sides are canonical, so a variant ("hd-bob ",
 * "HD-BOB", a Cyrillic letter) is someone else and refused.  The
 * directory's help-desk group is a second source of agents an
 * integration may name: policy_principal_asks_directory().
 */
bool	policy_principal_may_name(const struct policy_principal *p,
	    const char *agent);

/*
 * Whether an agent policy_principal_may_name() refused for p may still
 * be admitted by the directory: p is an integration and cfg names a
 * directory with a help-desk group (directory.helpdesk_group).  The
 * caller then looks the agent up and admits it only when the entry's
 * canonical name is the agent exactly and the entry is a member of that
 * group.
 */
bool	policy_principal_asks_directory(const struct policy_config *cfg,
	    const struct policy_principal *p);

/*
 * Whether team t's scope takes a request to queue q, of effective class
 * c, on system (compared ignoring ASCII case, as class systems are).
 * When not, and why is not NULL, a sentence naming the dimension
 * ("class admin is outside team outsourced's scope") goes to why.
 */
bool	policy_team_allows(const struct policy_team *t, enum policy_queue q,
	    enum policy_class c, const char *system, char *why, size_t whylen);

/*
 * Whether s is a canonical identity: 1 to POLICY_IDENT_MAX characters,
 * lowercase ASCII letters, digits, '_', '.', '-', starting with a letter
 * or a digit.  Principals, teams, agents and officers are named so;
 * separation of duties compares such names exactly, and treats a name
 * that is not canonical as no one it can tell apart (see
 * policy_check_approver).
 */
bool	policy_identity_canonical(const char *s);

/*
 * Distinguished names.  A DN is compared the way both Active Directory
 * and OpenLDAP compare the attributes DNs of accounts and groups are
 * made of (cn, ou, dc, uid: caseIgnoreMatch): attribute types and
 * values ignore ASCII case, spaces around ',', '=' and '+' do not
 * count and a run of spaces inside a value is one space.  Escapes are
 * compared as written (ignoring the case of hex digits): configure a DN
 * as the directory reports it.
 *
 * policy_dn_normalize writes that comparable form of in to out (outlen
 * bytes): 0; TG_ERR_INVALID when in is no DN (empty, an RDN without
 * "type=", a dangling '\', a control character); TG_ERR_TOO_LONG.
 */
int	policy_dn_normalize(const char *in, char *out, size_t outlen);

/* Whether a and b are the same DN (false when either is no DN). */
bool	policy_dn_same(const char *a, const char *b);

/* Whether DN dn lies below DN base (strictly: dn != base). */
bool	policy_dn_under(const char *dn, const char *base);

/*
 * Whether group DN dn is privileged: some class's dir_groups names it.
 * The privileged groups an account holds are what its facts snapshot
 * keeps and what a recovery drops.
 */
bool	policy_dir_group_privileged(const struct policy_config *cfg,
	    const char *dn);

/* ---- a request, as the daemon parsed it (strings borrowed, NUL-ended) */

/*
 * What the directory says of the target account: its entry's DN, the
 * DNs of the groups it is a member of (groups_truncated: it holds more
 * than were kept), and the values of its account type attribute.  Set
 * by the appliance from its own lookup (or the snapshot it stored),
 * never from what a caller sent.
 */
struct policy_dir_facts {
	const char			*dn;
	const char *const		*groups;
	size_t				 ngroups;
	bool				 groups_truncated;
	const char *const		*types;
	size_t				 ntypes;
};

struct policy_evidence {
	enum policy_evidence_type	type;
	bool				passed;		/* "pass" / "fail" */
	const char			*verifier;	/* who checked it */
	const char			*channel;	/* configured channel */
	const char			*ref;		/* may be "" */
	enum policy_evidence_origin	 origin;
};

/*
 * A recovery request.  recovered_channel names the channel being recovered
 * (the MFA factor being reset: "sms", "totp", ...); it is required for
 * mfa_reset, optional elsewhere (NULL or "" = none), and evidence gathered
 * over it never counts: an sms code cannot prove the right to reset the
 * sms factor.  Evidence over requester_channel never counts either: a
 * caller cannot vouch for themselves on the call they are making.
 * groups are the target's groups as the caller states them; they can only
 * make the class stricter.  claimed_class defaults to standard (no claim).
 * agent_officer is the officer name the agent is also enrolled under
 * (policy_officer_of), NULL when none: that officer is the requester too.
 * directory is what the directory says of the account (NULL: nothing;
 * with a directory configured, the strictest class then).
 */
struct policy_request {
	enum policy_queue		 queue;
	const char			*account;
	const char			*system;
	enum policy_class		 claimed_class;
	const char *const		*groups;
	size_t				 ngroups;
	const char			*recovered_channel;
	const char			*agent;		/* requesting agent */
	const char			*agent_officer;	/* or NULL */
	const char			*requester_channel;
	const struct policy_evidence	*evidence;
	size_t				 nevidence;
	bool				 risk[POLICY_RISK_COUNT];
	const struct policy_dir_facts	*directory;	/* or NULL */
	/* submitted within holds.veto_cooloff_seconds of a veto of the same
	 * account: the manual route */
	bool				 veto_cooloff;
};

/* One recorded officer approval (the token module verified it). */
struct policy_approval {
	const char	*group;		/* approver group it counts for */
	const char	*officer;	/* officer identity */
	const char	*credential_id;	/* e.g. base64url; compared exactly */
	bool		 user_verified;	/* UV flag of the assertion */
};

/*
 * What has happened to a request so far.  hold_start is 0 until the hold
 * has started; the caller stores decision.hold_start back after every
 * evaluation (it becomes 0 again if the request falls back to an earlier
 * state, so a hold always runs in full after the last change).  hold_end,
 * when later than hold_start plus the hold's length, is when a started
 * hold ends instead: the appliance extended it (downtime, see struct
 * policy_holds); it never shortens a hold.
 */
struct policy_progress {
	const struct policy_approval	*approvals;
	size_t				 napprovals;
	int64_t				 hold_start;
	bool				 vetoed;
	bool				 denied;
	bool				 sign_failed;	/* parked */
	int64_t				 hold_end;	/* 0: no extension */
};

/* ---- the decision */

/* One machine code ("approval:security_officer:1") and a sentence. */
struct policy_missing {
	char	code[POLICY_MISSING_CODE_MAX];
	char	text[POLICY_MISSING_TEXT_MAX];
};

struct policy_approval_need {
	const char	*group;		/* points into the config */
	unsigned	 required;
	unsigned	 counted;
};

/*
 * The outcome of policy_evaluate.  const char * members point into the
 * configuration and live as long as it does.
 */
struct policy_decision {
	const char			*policy_id;
	int64_t				 policy_version;
	enum policy_class		 account_class;	/* effective */
	enum policy_class		 configured_class;
	enum policy_class		 claimed_class;
	enum policy_class_source	 class_source;
	char				 class_reason[POLICY_REASON_MAX];
	enum policy_route		 route;
	char				 route_reason[POLICY_REASON_MAX];
	enum policy_state		 state;
	/* evidence: one verdict per request item, in request order */
	enum policy_evidence_verdict	 verdicts[POLICY_MAX_EVIDENCE];
	unsigned			 evidence_counted;
	unsigned			 evidence_types;	/* mask */
	unsigned			 evidence_required;
	unsigned			 evidence_types_required;
	unsigned			 evidence_require_all;	/* mask */
	unsigned			 evidence_require_one_of; /* mask */
	/* verified: counted items from the appliance (or an officer's ID) */
	unsigned			 evidence_verified;
	unsigned			 evidence_verified_types;  /* mask */
	unsigned			 evidence_verified_required;
	unsigned			 evidence_verified_types_required;
	bool				 proofing_required; /* manual route */
	bool				 proofed;	/* officer's ID seen */
	/* approvals, AND-ed across groups */
	bool				 approval_required;
	/* taken at the box only: the rule's approve_at (or manual's) */
	bool				 approve_at_box;
	struct policy_approval_need
			     approvals[POLICY_MAX_DECISION_APPROVALS];
	size_t				 napprovals;
	/* hold: 0 start/until while the hold has not started */
	int64_t				 hold_seconds;
	int64_t				 hold_start;
	int64_t				 hold_until;
	int64_t				 order_ttl_seconds;
	bool				 drop_all_privileged;
	const char		*drop[POLICY_MAX_DECISION_DROPS];
	size_t			 ndrop;
	/* what is still missing, evidence first, then approvals, then hold */
	struct policy_missing		 missing[POLICY_MAX_MISSING];
	size_t				 nmissing;
};

/*
 * Check a request against the configuration without evaluating it: every
 * string present (ref and recovered_channel may be empty), bounded and free
 * of control characters, every enum in range, channels configured, counts
 * bounded, mfa_reset naming its recovered channel, the directory's facts
 * (when given) bounded and free of control characters too.  Returns 0, or
 * TG_ERR_INVALID / TG_ERR_TOO_LONG with a message naming the field
 * ("evidence[2].channel: unknown channel \"fax\"") in errbuf.
 */
int	policy_request_check(const struct policy_config *cfg,
	    const struct policy_request *req, char *errbuf, size_t errlen);

/*
 * Evaluate a request.  Pure: the result depends only on the arguments.
 * prog may be NULL (nothing recorded yet).  now is Unix time, 0..
 * POLICY_MAX_TIME.  Returns 0 and fills *dec, or TG_ERR_INVALID /
 * TG_ERR_TOO_LONG for a request failing policy_request_check or bad
 * progress (*dec untouched).
 *
 * Class: the strictest of the claim and every configured match: the
 * directory's facts (a group by DN, the entry under an OU, an account
 * type), then the names (exact account, pattern, listed group, system);
 * class_reason says which ("admin: member of cn=Domain Admins,...").
 * With a directory configured, a request without facts, or whose
 * groups were truncated while a class names groups, is admin: a group
 * not seen is not a group not held.  Evidence counts only if it
 * passed, was gathered over neither the request's channel nor the
 * recovered channel, was verified neither by the target account itself
 * nor by the requester (the agent, or the officer the agent also is),
 * and is not a repeat of an earlier item of the same type and ref.  A
 * counted item is verified when its origin is the appliance, or an
 * officer for identity_document; the rule's min_verified and
 * min_verified_types count verified items only, and say what is missing
 * in words ("needs 2 appliance-verified kinds, has 1").  Route:
 * manual_review when a raised risk signal says so, or when no counted item
 * is of a trusted type; otherwise normal.  The manual route is never weaker
 * than the rule it replaces: the union of approval groups with the larger
 * count, the longer hold, the shorter order ttl, the union of dropped
 * entitlements; when a risk signal forced it, the rule's evidence
 * requirements (and the risks' extra evidence) still hold: the evidence
 * the request had keeps counting.  With manual_review.identity_proofing
 * it needs an identity document an officer recorded (origin officer)
 * before its approvals count (state needs_evidence until then).  Risk
 * signals add their holds (both routes) and their extra evidence (the
 * rule's, wherever it holds).  Approvals count in
 * recorded order when user-verified, not from the requesting agent or the
 * target account, from an officer and a credential not already counted,
 * for a required group not yet full.  The hold starts when evidence and
 * approvals are complete (prog->hold_start, or now if not yet started).
 */
int	policy_evaluate(const struct policy_config *cfg,
	    const struct policy_request *req,
	    const struct policy_progress *prog, int64_t now,
	    struct policy_decision *dec);

/*
 * Separation of duties for one more approval cand on request req with
 * progress prog (may be NULL).  Refused when: no user verification; the
 * officer is the requesting agent or its agent_officer (or the agent is
 * not a canonical identity: then it may be anyone) or the target account;
 * the officer or
 * the credential is already in a valid recorded approval; and, when dec
 * (the current decision) is given, the request is not awaiting approvals
 * (approvals sign the final evidence, so they come after it) or cand's
 * group is not required or already full.  Returns 0 (accepted, *fault =
 * POLICY_APPROVER_OK), TG_ERR_POLICY (refused, *fault says which rule), or
 * TG_ERR_INVALID for missing or over-long arguments (*fault untouched).
 */
int	policy_check_approver(const struct policy_request *req,
	    const struct policy_progress *prog,
	    const struct policy_decision *dec,
	    const struct policy_approval *cand,
	    enum policy_approver_fault *fault);

#endif /* TAPGATE_POLICY_H */

/* SPDX-License-Identifier: ISC */
/*
 * The console's users: sign-in with a security key (WebAuthn, user
 * verification required), the session it opens, and sign-out.  An
 * officer signs in with the credential enrolled at the box (the same
 * rp_id: one key serves both), and its signature counter is the box's:
 * a counter that did not grow suspends the credential as at the box.
 * The nonce of a sign-in is its challenge, issued here, usable once.
 * Sessions live in the monitor (d->sessions, web.h): the browser holds
 * the id, the table its hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "engine/body.h"
#include "engine/creds.h"
#include "engine/txn.h"
#include "token/token.h"

#define SIGNIN_TIMEOUT_MS	60000	/* what the browser waits */
#define SIGNIN_FAKE_ID_LEN	64	/* an unknown user's credential id */
#define SIGNIN_MAX_BODY		4096

int64_t
engine_user_uid(const char *user)
{
	uint8_t h[32];
	uint64_t v = 0;
	size_t i;

	SHA256((const unsigned char *)user, strlen(user), h);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	/* below every certificate caller's (-1 - 62 bits) */
	return -1 - (int64_t)(UINT64_C(1) << 62) - (int64_t)(v >> 3);
}

/* The audit's actor for user, before it has a session. */
static void
user_actor(const char *user, char *name, size_t len, struct engine_actor *a)
{
	snprintf(name, len, "user:%s", user);
	memset(a, 0, sizeof(*a));
	a->uid = engine_user_uid(user);
	a->role = "none";
	a->name = name;
}

/*
 * The officer enrolled at the box that user is, whose credentials it
 * signs in with: its principal's officer setting; else, for a user that
 * holds the officer role, its principal's name or its own; else NULL.
 */
static const char *
user_officer(const struct tapgated *d, const char *user)
{
	const struct policy_principal *p;

	p = policy_principal_of_user(d->cfg, user);
	if (p != NULL && p->officer[0] != '\0')
		return p->officer;
	if ((policy_roles_user(d->cfg, user) &
	    POLICY_ROLE_BIT(POLICY_ROLE_OFFICER)) == 0)
		return NULL;
	return p != NULL ? p->name : user;
}

/* ---- failures, per user */

static struct daemon_signin_fails *
fails_of(struct tapgated *d, const char *user, int64_t now, int take)
{
	struct daemon_signin_fails *f, *free_slot = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < DAEMON_SIGNIN_USERS; i++) {
		f = &d->signin_fails[i];
		if (f->since != 0 && f->since + DAEMON_SIGNIN_FAIL_WINDOW <=
		    now)
			memset(f, 0, sizeof(*f));
		if (f->since == 0) {
			if (free_slot == NULL)
				free_slot = f;
			continue;
		}
		if (strcmp(f->user, user) == 0)
			return f;
		if (oldest == NULL || f->since < oldest->since)
			oldest = f;
	}
	if (!take)
		return NULL;
	f = free_slot != NULL ? free_slot : oldest;
	memset(f, 0, sizeof(*f));
	snprintf(f->user, sizeof(f->user), "%s", user);
	f->since = now;
	return f;
}

static int
signin_blocked(struct tapgated *d, const char *user, int64_t now)
{
	const struct daemon_signin_fails *f = fails_of(d, user, now, 0);

	return f != NULL && f->n >= DAEMON_SIGNIN_MAX_FAILS;
}

static int
too_many(struct engine_result *res)
{
	eng_error(res, 429, "too_many_attempts", "too many failed sign-ins "
	    "for this user: only a sign-in the user's key signs is taken for "
	    "a few minutes");
	return TG_ERR_POLICY;
}

/*
 * A refused sign-in: 401 with why, counted against user and audited with
 * the count (throttled from DAEMON_SIGNIN_MAX_FAILS on).
 */
static int
refuse(struct tapgated *d, const char *user, const char *why,
    const char *officer, int64_t now, struct engine_result *res)
{
	struct daemon_signin_fails *f;
	struct engine_actor a;
	char name[POLICY_IDENT_MAX + 8];
	json_t *details;

	user_actor(user, name, sizeof(name), &a);
	f = fails_of(d, user, now, 1);
	f->n++;
	details = json_pack("{s:s,s:s,s:i}", "user", user, "reason", why,
	    "failures", (int)f->n);
	if (details != NULL && officer != NULL)
		json_object_set_new(details, "officer", json_string(officer));
	if (details != NULL && f->n >= DAEMON_SIGNIN_MAX_FAILS)
		json_object_set_new(details, "throttled", json_true());
	(void)eng_audit_alone(d, &a, "console.signin_refused", NULL, details,
	    now);
	json_decref(details);
	eng_error(res, 401, "signin_refused", why);
	return TG_ERR_PERM;
}

/* ---- credentials */

struct user_creds {
	const char	*officer;
	json_t		*allow;
	int		 err;
};

static int
collect_creds(const struct store_approver *a, void *arg)
{
	struct user_creds *c = arg;

	if (!a->revoked && strcmp(a->name, c->officer) == 0 && c->err == 0)
		c->err = eng_cred_descriptor_add(c->allow, a->cred_id,
		    a->cred_id_len);
	return 0;
}

static int
collect_console_creds(const struct store_console_cred *cc, void *arg)
{
	struct user_creds *c = arg;

	if (c->err == 0)
		c->err = eng_cred_descriptor_add(c->allow, cc->cred_id,
		    cc->cred_id_len);
	return 0;
}

/*
 * The credentials user signs in with, as allowCredentials, into allow:
 * the officer's it is (enrolled at the box), else its console ones (a
 * configured user's, enrolled by invitation).  0 or a TG_ERR_*.
 */
static int
user_creds(struct tapgated *d, const char *user, json_t *allow)
{
	struct user_creds c = { NULL, allow, 0 };
	int r;

	if ((c.officer = user_officer(d, user)) != NULL)
		r = store_approver_list(d->st, 0, collect_creds, &c);
	else if (policy_roles_user(d->cfg, user) != 0)
		r = store_console_cred_list(d->st, user,
		    collect_console_creds, &c);
	else
		r = 0;
	return r != 0 ? r : c.err;
}

/* An unknown user's credential id: derived from its name, this run. */
static int
fake_cred(const struct tapgated *d, const char *user, json_t *allow)
{
	uint8_t id[SIGNIN_FAKE_ID_LEN], *p = id;
	unsigned int n = 0;
	char label[POLICY_IDENT_MAX + 8], *s = NULL;
	int i, r;

	for (i = 0; i < 2; i++, p += 32) {
		snprintf(label, sizeof(label), "%d:%s", i, user);
		if (HMAC(EVP_sha256(), d->signin_key, sizeof(d->signin_key),
		    (const unsigned char *)label, strlen(label), p,
		    &n) == NULL)
			return TG_ERR_INTERNAL;
	}
	if ((r = b64url_encode_alloc(id, sizeof(id), &s)) != 0)
		return r;
	r = json_array_append_new(allow, json_pack("{s:s,s:s}", "type",
	    "public-key", "id", s)) != 0 ? TG_ERR_NOMEM : 0;
	free(s);
	return r;
}

/*
 * A slot of tab (DAEMON_SIGNIN_NONCES) for user's nonce: as approval.c's
 * nonce_slot.
 */
static struct daemon_signin *
signin_slot(struct daemon_signin *tab, const char *user, int64_t now)
{
	struct daemon_signin *n, *oldest = NULL, *free_slot = NULL;
	size_t i, held = 0;

	for (i = 0; i < DAEMON_SIGNIN_NONCES; i++) {
		n = &tab[i];
		if (n->expires <= now) {
			if (free_slot == NULL)
				free_slot = n;
			continue;
		}
		if (strcmp(n->user, user) != 0)
			continue;
		held++;
		if (oldest == NULL || n->expires < oldest->expires)
			oldest = n;
	}
	n = held >= DAEMON_USER_NONCES ? oldest : free_slot;
	if (n != NULL)
		OPENSSL_cleanse(n, sizeof(*n));
	return n;
}

/* The body's "user": a canonical identity, else 400 and NULL. */
static const char *
body_user(const json_t *j, struct engine_result *res)
{
	const char *user = json_string_value(json_object_get(j, "user"));

	if (user == NULL || strlen(user) > POLICY_IDENT_MAX ||
	    !policy_identity_canonical(user)) {
		eng_error(res, 400, "invalid_field", "user: a user's name "
		    "(lowercase, as the configuration names it)");
		return NULL;
	}
	return user;
}

/* Every member of j is one of keys (n of them): else 400. */
static int
only_keys(const json_t *j, const char *const *keys, size_t n,
    const char *say, struct engine_result *res)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)(uintptr_t)j, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == n) {
			eng_error(res, 400, "invalid_field", say);
			return TG_ERR_INVALID;
		}
	}
	return 0;
}

int
engine_signin_begin(struct tapgated *d, const char *body, size_t len,
    int64_t now, struct engine_result *res)
{
	static const char *const keys[] = { "user" };
	const struct policy_console *con = &d->cfg->console;
	struct daemon_signin *slot;
	const char *user;
	char nonce64[48];
	json_t *j = NULL, *allow = NULL;
	int r;

	if (con->norigins == 0) {
		eng_error(res, 409, "no_console", "no console origin is "
		    "configured (console.origins)");
		return TG_ERR_POLICY;
	}
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((r = only_keys(j, keys, 1, "the body takes user only",
	    res)) != 0)
		goto out;
	if ((user = body_user(j, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((allow = json_array()) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	if ((r = user_creds(d, user, allow)) != 0 ||
	    (json_array_size(allow) == 0 &&
	    (r = fake_cred(d, user, allow)) != 0)) {
		eng_db_error(d, res, r);
		goto out;
	}
	if ((slot = signin_slot(d->signins, user, now)) == NULL) {
		eng_error(res, 429, "too_many_attempts", "too many sign-ins "
		    "are under way: try again in a minute");
		r = TG_ERR_POLICY;
		goto out;
	}
	if (RAND_bytes(slot->nonce, sizeof(slot->nonce)) != 1) {
		OPENSSL_cleanse(slot, sizeof(*slot));
		r = eng_db_error(d, res, TG_ERR_INTERNAL);
		goto out;
	}
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->expires = now + con->nonce_seconds;
	b64url_encode(slot->nonce, sizeof(slot->nonce), nonce64);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:s,s:O,s:s,s:i,s:I}", "nonce",
	    nonce64, "challenge", nonce64, "rp_id", d->cfg->appliance.rp_id,
	    "allow_credentials", allow, "user_verification", "required",
	    "timeout_ms", SIGNIN_TIMEOUT_MS, "expires",
	    (json_int_t)slot->expires);
	if (res->body == NULL) {
		OPENSSL_cleanse(slot, sizeof(*slot));
		r = eng_db_error(d, res, TG_ERR_NOMEM);
	}
out:
	json_decref(allow);
	json_decref(j);
	return r;
}

/*
 * Take the nonce from tab (spent whatever follows): 1 when it is user's,
 * live.
 */
static int
take_nonce(struct daemon_signin *tab, const uint8_t *nonce,
    const char *user, int64_t now, const char **why)
{
	struct daemon_signin got;
	size_t i;

	for (i = 0; i < DAEMON_SIGNIN_NONCES; i++) {
		if (tab[i].expires == 0 ||
		    CRYPTO_memcmp(tab[i].nonce, nonce, 32) != 0)
			continue;
		got = tab[i];
		OPENSSL_cleanse(&tab[i], sizeof(tab[i]));
		OPENSSL_cleanse(got.nonce, sizeof(got.nonce));
		if (got.expires <= now) {
			*why = "the nonce expired: begin again";
			return 0;
		}
		if (strcmp(got.user, user) != 0) {
			*why = "the nonce was issued to another user";
			return 0;
		}
		return 1;
	}
	*why = "the nonce was not issued, or was used already: begin again";
	return 0;
}

/* A sign-in's body, decoded. */
struct signin_body {
	uint8_t	*nonce, *cred, *authdata, *sig, *cdj;
	size_t	 nonce_len, cred_len, authdata_len, sig_len, cdj_len;
};

static void
signin_body_clear(struct signin_body *b)
{
	free(b->nonce);
	free(b->cred);
	free(b->authdata);
	free(b->sig);
	free(b->cdj);
	memset(b, 0, sizeof(*b));
}

/* A base64url member, 1 to max bytes: 0, or why it is not. */
static int
b64_field(const json_t *j, const char *key, size_t max, uint8_t **out,
    size_t *len)
{
	const char *v = json_string_value(json_object_get(j, key));
	int r;

	if (v == NULL)
		return TG_ERR_INVALID;
	if ((r = b64url_decode(v, strlen(v), max, out, len)) != 0)
		return r;
	return *len > 0 ? 0 : TG_ERR_INVALID;
}

/* The assertion's clientDataJSON: for this nonce, from the console. */
static const char *
signin_client_data(const struct tapgated *d, const struct signin_body *b,
    const char *type, char *why, size_t cap)
{
	const struct policy_console *con = &d->cfg->console;
	char chal[CLIENTDATA_CHALLENGE_LEN + 1];
	struct clientdata cd;
	enum clientdata_fault f;
	size_t i;

	if (clientdata_parse_type(b->cdj, b->cdj_len, type, &cd, &f) != 0) {
		if (f == CLIENTDATA_TYPE)
			snprintf(why, cap, "clientDataJSON: its type is not "
			    "%s", type);
		else
			snprintf(why, cap, "clientDataJSON: %s",
			    clientdata_fault_text(f));
		return why;
	}
	b64url_encode(b->nonce, CLIENTDATA_NONCE_LEN, chal);
	if (CRYPTO_memcmp(chal, cd.challenge, sizeof(chal)) != 0)
		return "the clientDataJSON's challenge is not the nonce";
	for (i = 0; i < con->norigins; i++)
		if (strcmp(cd.origin, con->origins[i]) == 0)
			break;
	if (i == con->norigins || !clientdata_origin_ok(cd.origin,
	    d->cfg->appliance.rp_id))
		return "the clientDataJSON's origin is not one of the "
		    "console's";
	return NULL;
}

/* A sign-in's record: the counter stored, the audit entry. */
struct signin_txn {
	const struct engine_actor	*a;
	const struct who		*w;
	int				 console;	/* w: a console
							   credential */
	uint32_t			 count;
	const json_t			*details;
	const char			*event;
	int				 clone;
	int64_t				 now;
};

static int
signin_steps(struct tapgated *d, void *arg)
{
	const struct signin_txn *t = arg;
	int r, n = 0;

	if (t->clone) {
		if ((r = t->console ? store_console_cred_revoke(d->st,
		    t->w->id, NULL, t->now, &n) : store_approver_revoke(d->st,
		    t->w->id, NULL, "cloned: signature counter did not grow",
		    t->now, &n)) != 0 ||
		    (r = eng_audit(d, &eng_system, "alarm.cloned_key", NULL,
		    t->details, t->now)) != 0)
			return r;
		r = engine_quorum_check(d, 1, t->now);
		return r < 0 ? r : 0;
	}
	if ((r = t->console ? store_console_cred_set_count(d->st, t->w->id,
	    t->count) : store_approver_set_count(d->st, t->w->id,
	    t->count)) != 0)
		return r;
	return eng_audit(d, t->a, t->event, NULL, t->details, t->now);
}

/*
 * The assertion, verified with the credential's key: 0 with the new
 * counter in *count, else why in words (a counter that did not grow
 * suspends the credential first).
 */
static const char *
signin_verify(struct tapgated *d, const struct engine_actor *a,
    const char *user, const struct who *w, int console,
    const struct signin_body *b, uint32_t *count, int64_t now)
{
	struct token_verify_req vr;
	struct signin_txn t;
	uint8_t cdh[32];
	json_t *details;
	int r;

	SHA256(b->cdj, b->cdj_len, cdh);
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &w->pk;
	vr.rp_id = d->cfg->appliance.rp_id;
	vr.client_data_hash = cdh;
	vr.authdata = b->authdata;
	vr.authdata_len = b->authdata_len;
	vr.sig = b->sig;
	vr.sig_len = b->sig_len;
	vr.prev_sign_count = (uint32_t)w->sign_count;
	r = w->pk_ok ? token_verify_assertion(&vr, count) : TG_ERR_SIGNATURE;
	if (r == 0)
		return NULL;
	if (r == TG_ERR_FLAGS)
		return "the key did not report user presence and "
		    "verification (UP and UV)";
	if (r != TG_ERR_COUNTER)
		return "the assertion does not verify with the "
		    "credential's key";
	details = json_pack("{s:s,s:s,s:I,s:b,s:s}", "approver", w->name,
	    "user", user, "stored_counter", (json_int_t)w->sign_count,
	    "suspended", 1, "via", "console sign-in");
	t = (struct signin_txn){ a, w, console, 0, details, NULL, 1, now };
	if (details == NULL || eng_txn(d, signin_steps, &t, NULL, NULL,
	    NULL) != 0)
		fprintf(stderr, "tapgated: ALARM: approver %s: counter did "
		    "not grow at a console sign-in; suspending it FAILED: "
		    "revoke it by hand\n", w->name);
	else
		fprintf(stderr, "tapgated: ALARM: approver %s: counter did "
		    "not grow at a console sign-in: suspended as a possible "
		    "cloned key\n", w->name);
	json_decref(details);
	return "the signature counter did not grow: this credential may be "
	    "cloned; it is suspended";
}

/* The expiry of session id in the table, 0 when it has none. */
static int64_t
session_expires(const struct tapgated *d, const char *id)
{
	uint8_t h[32];
	size_t i;

	if (strlen(id) != WEB_SESSION_ID_CHARS)
		return 0;
	SHA256((const unsigned char *)id, WEB_SESSION_ID_CHARS, h);
	for (i = 0; i < WEB_MAX_SESSIONS; i++)
		if (d->sessions.s[i].expires != 0 &&
		    CRYPTO_memcmp(d->sessions.s[i].id_hash, h, 32) == 0)
			return d->sessions.s[i].expires;
	return 0;
}

int
engine_session(struct tapgated *d, const char *session, const char *user,
    int64_t now, struct engine_result *res)
{
	const struct policy_principal *p = policy_principal_of_user(d->cfg,
	    user);
	unsigned roles = policy_roles_user(d->cfg, user);
	char csrf[WEB_SESSION_ID_CHARS + 1];
	json_t *list;
	int i;

	(void)now;
	if (web_csrf_token(&d->sessions, session, csrf) != 0 ||
	    (list = json_array()) == NULL)
		return eng_db_error(d, res, TG_ERR_INTERNAL);
	for (i = 0; i < POLICY_ROLE_COUNT; i++)
		if (roles & POLICY_ROLE_BIT(i))
			json_array_append_new(list, json_string(
			    policy_role_name((enum policy_role)i)));
	json_decref(res->body);
	res->status = 200;
	res->body = json_pack("{s:s,s:o,s:s?,s:s?,s:s,s:I}", "user", user,
	    "roles", list, "principal", p != NULL ? p->name : NULL, "team",
	    p != NULL ? p->team : NULL, "csrf", csrf, "expires",
	    (json_int_t)session_expires(d, session));
	OPENSSL_cleanse(csrf, sizeof(csrf));
	return res->body != NULL ? 0 : eng_db_error(d, res, TG_ERR_NOMEM);
}

/* A console credential as the approvers' struct who holds one. */
static int
console_who(const struct store_console_cred *c, void *arg)
{
	struct who *w = arg;

	w->id = c->id;
	snprintf(w->name, sizeof(w->name), "%s", c->user);
	w->revoked = c->revoked;
	w->sign_count = c->sign_count;
	w->pk_ok = token_pubkey_from_raw(c->alg, c->pubkey, c->pubkey_len,
	    &w->pk) == 0;
	return 0;
}

/* The user's credential the assertion names: NULL and *w, else why. */
static const char *
signin_who(struct tapgated *d, const char *user, const char *officer,
    const struct signin_body *b, struct who *w)
{
	memset(w, 0, sizeof(*w));
	if (officer == NULL) {
		if (policy_roles_user(d->cfg, user) == 0)
			return "no such user, or no credential of this user";
		if (store_console_cred_by_id(d->st, b->cred, b->cred_len,
		    console_who, w) != 0 || strcmp(w->name, user) != 0)
			return "the credential is not one of this user's";
		return w->revoked ? "this credential is revoked" : NULL;
	}
	if (store_approver_by_cred(d->st, b->cred, b->cred_len,
	    eng_collect_who, w) != 0 || strcmp(w->name, officer) != 0)
		return "the credential is not one of this user's";
	if (w->revoked)
		return "this credential is revoked";
	return NULL;
}

/*
 * Everything before the signature: the nonce (spent on any attempt:
 * first), the fields, the clientDataJSON, the credential.  NULL, or why
 * not.
 */
static const char *
signin_check(struct tapgated *d, const json_t *j, const char *user,
    const char *officer, int64_t now, struct signin_body *b, struct who *w,
    char *whybuf, size_t cap)
{
	const char *why;

	if (b64_field(j, "nonce", 32, &b->nonce, &b->nonce_len) != 0 ||
	    b->nonce_len != 32)
		return "nonce: base64url of 32 bytes";
	if (!take_nonce(d->signins, b->nonce, user, now, &why))
		return why;
	if (b64_field(j, "credential_id", TOKEN_CRED_ID_MAX, &b->cred,
	    &b->cred_len) != 0 || b64_field(j, "authenticator_data",
	    TOKEN_AUTHDATA_MAX, &b->authdata, &b->authdata_len) != 0 ||
	    b64_field(j, "signature", TOKEN_SIG_MAX, &b->sig,
	    &b->sig_len) != 0 || b64_field(j, "client_data_json",
	    CLIENTDATA_MAX, &b->cdj, &b->cdj_len) != 0)
		return "credential_id, authenticator_data, signature and "
		    "client_data_json: base64url (no padding), each within "
		    "its bound";
	if ((why = signin_client_data(d, b, CLIENTDATA_TYPE_GET, whybuf,
	    cap)) != NULL)
		return why;
	return signin_who(d, user, officer, b, w);
}

int
engine_signin(struct tapgated *d, const char *body, size_t len,
    int64_t now, char *set_cookie, size_t cookie_len,
    struct engine_result *res)
{
	static const char *const keys[] = { "user", "nonce", "credential_id",
	    "authenticator_data", "client_data_json", "signature" };
	struct signin_body b;
	struct signin_txn t;
	struct engine_actor a;
	struct who w;
	const char *user, *why = NULL, *officer;
	char name[POLICY_IDENT_MAX + 8], id[WEB_SESSION_ID_CHARS + 1] = "";
	char whybuf[160], prefix[17];
	uint32_t count = 0;
	json_t *j = NULL, *details = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	memset(&w, 0, sizeof(w));
	if (d->cfg->console.norigins == 0) {
		eng_error(res, 409, "no_console", "no console origin is "
		    "configured (console.origins)");
		return TG_ERR_POLICY;
	}
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((r = only_keys(j, keys, 6, "the body takes user, nonce, "
	    "credential_id, authenticator_data, client_data_json and "
	    "signature only", res)) != 0)
		goto out;
	if ((user = body_user(j, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	officer = user_officer(d, user);
	why = signin_check(d, j, user, officer, now, &b, &w, whybuf,
	    sizeof(whybuf));
	user_actor(user, name, sizeof(name), &a);
	if (why == NULL)
		why = signin_verify(d, &a, user, &w, officer == NULL, &b,
		    &count, now);
	/*
	 * Past the limit a refusal is neither audited nor counted: anyone
	 * may send a user's name, and its failures must not fill the log.
	 * Nor is the user locked out: an assertion its key made signs in.
	 */
	if (why != NULL && signin_blocked(d, user, now)) {
		r = too_many(res);
		goto out;
	}
	if (why != NULL) {
		r = refuse(d, user, why, officer, now, res);
		goto out;
	}
	eng_cred_prefix(b.cred, b.cred_len, prefix);
	details = json_pack("{s:s,s:s?,s:s,s:I}", "user", user, "officer",
	    officer, "credential", prefix, "sign_count", (json_int_t)count);
	t = (struct signin_txn){ &a, &w, officer == NULL, count, details,
	    "console.signin", 0, now };
	if (details == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	if ((r = eng_txn(d, signin_steps, &t, NULL, res, NULL)) != 0)
		goto out;
	if ((r = web_session_new(&d->sessions, user,
	    (unsigned)d->cfg->console.session_seconds, now, id)) != 0) {
		eng_error(res, 503, "busy", "too many sessions are open: try "
		    "again later");
		goto out;
	}
	if ((r = web_session_cookie(id, (unsigned)
	    d->cfg->console.session_seconds, set_cookie, cookie_len)) != 0 ||
	    (r = engine_session(d, id, user, now, res)) != 0) {
		(void)web_session_end(&d->sessions, id);
		set_cookie[0] = '\0';
		if (res->status < 400)
			eng_db_error(d, res, r);
	}
out:
	OPENSSL_cleanse(id, sizeof(id));
	json_decref(details);
	json_decref(j);
	signin_body_clear(&b);
	return r;
}

int
engine_signout(struct tapgated *d, const struct engine_actor *a,
    const char *session, int64_t now, char *set_cookie, size_t cookie_len,
    struct engine_result *res)
{
	json_t *details;

	if (web_session_cookie(session, 0, set_cookie, cookie_len) != 0 ||
	    web_session_end(&d->sessions, session) != 0) {
		set_cookie[0] = '\0';
		eng_error(res, 401, "no_session", "no session to end");
		return TG_ERR_NOT_FOUND;
	}
	details = json_object();
	(void)eng_audit_alone(d, a, "console.signout", NULL, details, now);
	json_decref(details);
	res->status = 200;
	res->body = json_pack("{s:b}", "signed_out", 1);
	return res->body != NULL ? 0 : eng_db_error(d, res, TG_ERR_NOMEM);
}

/* ---- invitations and enrolment */

#define INVITE_CODE_LEN		12
#define INVITE_SECONDS		3600
#define INVITE_MAX_WRONG	5

/* An operator's call on user ({"user"}): a configured user, else 400. */
static const char *
body_configured_user(struct tapgated *d, const json_t *j,
    struct engine_result *res)
{
	static const char *const keys[] = { "user" };
	const char *user;

	if (only_keys(j, keys, 1, "the body takes user only", res) != 0 ||
	    (user = body_user(j, res)) == NULL)
		return NULL;
	if (policy_roles_user(d->cfg, user) == 0) {
		eng_error(res, 404, "unknown_user", "no roles entry names this "
		    "user (user = \"NAME\")");
		return NULL;
	}
	return user;
}

struct invite_txn {
	const struct engine_actor	*a;
	const char			*user;
	const uint8_t			*hash;
	int64_t				 expires;
	const json_t			*details;
	int64_t				 now;
};

static int
invite_steps(struct tapgated *d, void *arg)
{
	const struct invite_txn *t = arg;
	int r;

	if ((r = store_console_invite_put(d->st, t->user, t->hash,
	    t->expires, t->now)) != 0)
		return r;
	return eng_audit(d, t->a, "console.invited", NULL, t->details,
	    t->now);
}

int
engine_console_invite(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, int64_t now, struct engine_result *res)
{
	static const char abc[] = "abcdefghijkmnpqrstuvwxyz23456789";
	uint8_t raw[INVITE_CODE_LEN], hash[32];
	char code[INVITE_CODE_LEN + 1];
	struct invite_txn t;
	const char *user;
	json_t *j = NULL, *details = NULL;
	size_t i;
	int r;

	_Static_assert(sizeof(abc) - 1 == 32, "5 bits a character");
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((user = body_configured_user(d, j, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if (user_officer(d, user) != NULL) {
		eng_error(res, 409, "officer_enrols_at_the_box", "this user "
		    "signs in with the officer's key enrolled at the box");
		r = TG_ERR_POLICY;
		goto out;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		r = eng_db_error(d, res, TG_ERR_INTERNAL);
		goto out;
	}
	for (i = 0; i < INVITE_CODE_LEN; i++)
		code[i] = abc[raw[i] & 31];
	code[INVITE_CODE_LEN] = '\0';
	SHA256((const unsigned char *)code, INVITE_CODE_LEN, hash);
	details = json_pack("{s:s,s:I}", "user", user, "expires",
	    (json_int_t)(now + INVITE_SECONDS));
	t = (struct invite_txn){ a, user, hash, now + INVITE_SECONDS,
	    details, now };
	if (details == NULL)
		r = eng_db_error(d, res, TG_ERR_NOMEM);
	else if ((r = eng_txn(d, invite_steps, &t, NULL, res, NULL)) == 0) {
		res->status = 201;
		res->body = json_pack("{s:s,s:s,s:I}", "user", user, "code",
		    code, "expires", (json_int_t)(now + INVITE_SECONDS));
		if (res->body == NULL)
			r = eng_db_error(d, res, TG_ERR_NOMEM);
	}
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(code, sizeof(code));
	json_decref(details);
	json_decref(j);
	return r;
}

/* An invitation as read. */
struct invite_seen {
	uint8_t		hash[32];
	int64_t		expires;
	int64_t		wrong;
	char		state[16];
};

static int
invite_copy(const struct store_console_invite *v, void *arg)
{
	struct invite_seen *s = arg;

	memcpy(s->hash, v->code_hash, 32);
	s->expires = v->expires;
	s->wrong = v->wrong;
	snprintf(s->state, sizeof(s->state), "%s", v->state);
	return 0;
}

struct invite_mark {
	const char	*user;
	int64_t		 wrong;
	const char	*state;
	const json_t	*details;
	const char	*event;
	const struct engine_actor *a;
	int64_t		 now;
};

static int
invite_mark_steps(struct tapgated *d, void *arg)
{
	const struct invite_mark *m = arg;
	int r;

	if ((r = store_console_invite_set(d->st, m->user, m->wrong,
	    m->state)) != 0)
		return r;
	return eng_audit(d, m->a, m->event, NULL, m->details, m->now);
}

/*
 * The code for user's open invitation: NULL when it is the one, else
 * why not (a wrong one counted; the fifth revokes the invitation).
 */
static const char *
invite_check(struct tapgated *d, const char *user, const json_t *j,
    int64_t now)
{
	struct invite_seen seen;
	struct invite_mark m;
	struct engine_actor a;
	const char *code = json_string_value(json_object_get(j, "code"));
	char name[POLICY_IDENT_MAX + 8];
	uint8_t hash[32];
	json_t *details;

	memset(&seen, 0, sizeof(seen));
	if (store_console_invite_get(d->st, user, invite_copy, &seen) != 0)
		return "no invitation for this user";
	if (strcmp(seen.state, "open") != 0)
		return strcmp(seen.state, "used") == 0 ? "the invitation was "
		    "used already" : "the invitation is revoked";
	if (seen.expires <= now)
		return "the invitation expired";
	if (code != NULL && strlen(code) == INVITE_CODE_LEN) {
		SHA256((const unsigned char *)code, INVITE_CODE_LEN, hash);
		if (CRYPTO_memcmp(hash, seen.hash, 32) == 0)
			return NULL;
	}
	user_actor(user, name, sizeof(name), &a);
	details = json_pack("{s:s,s:I}", "user", user, "wrong",
	    (json_int_t)(seen.wrong + 1));
	m = (struct invite_mark){ user, seen.wrong + 1, seen.wrong + 1 >=
	    INVITE_MAX_WRONG ? "revoked" : "open", details,
	    "console.invite_refused", &a, now };
	if (details == NULL || eng_txn(d, invite_mark_steps, &m, NULL, NULL,
	    NULL) != 0)
		fprintf(stderr, "tapgated: a wrong invitation code for %s was "
		    "not counted\n", user);
	json_decref(details);
	return seen.wrong + 1 >= INVITE_MAX_WRONG ? "wrong code: the "
	    "invitation is revoked" : "wrong code";
}

static int
enrol_refuse(struct engine_result *res, const char *why)
{
	eng_error(res, 403, "enrol_refused", why);
	return TG_ERR_PERM;
}

int
engine_enrol_begin(struct tapgated *d, const char *body, size_t len,
    int64_t now, struct engine_result *res)
{
	static const char *const keys[] = { "user", "code" };
	struct user_creds x = { NULL, NULL, 0 };
	struct daemon_signin *slot;
	const char *user, *why;
	char nonce64[48], uid64[32];
	uint8_t uid[32];
	json_t *j = NULL;
	int r;

	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((r = only_keys(j, keys, 2, "the body takes user and code only",
	    res)) != 0)
		goto out;
	if ((user = body_user(j, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((why = invite_check(d, user, j, now)) != NULL) {
		r = enrol_refuse(res, why);
		goto out;
	}
	if ((x.allow = json_array()) == NULL ||
	    (r = store_console_cred_list(d->st, user, collect_console_creds,
	    &x)) != 0 || (r = x.err) != 0) {
		r = eng_db_error(d, res, r != 0 ? r : TG_ERR_NOMEM);
		goto out;
	}
	if ((slot = signin_slot(d->enrols, user, now)) == NULL ||
	    RAND_bytes(slot->nonce, sizeof(slot->nonce)) != 1) {
		eng_error(res, 429, "too_many_attempts", "too many enrolments "
		    "are under way: try again in a minute");
		r = TG_ERR_POLICY;
		goto out;
	}
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->expires = now + d->cfg->console.nonce_seconds;
	b64url_encode(slot->nonce, sizeof(slot->nonce), nonce64);
	/* the user handle: no name in it, the same at each enrolment */
	SHA256((const unsigned char *)user, strlen(user), uid);
	b64url_encode(uid, 16, uid64);
	res->status = 200;
	res->body = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},"
	    "s:[{s:s,s:i},{s:s,s:i}],s:O,s:i,s:I}", "nonce", nonce64,
	    "challenge", nonce64, "rp", "id", d->cfg->appliance.rp_id, "name",
	    d->cfg->appliance.name, "user", "id", uid64, "name", user,
	    "display_name", user, "pub_key_cred_params", "type",
	    "public-key", "alg", -7, "type", "public-key", "alg", -8,
	    "exclude_credentials", x.allow, "timeout_ms", SIGNIN_TIMEOUT_MS,
	    "expires", (json_int_t)slot->expires);
	if (res->body == NULL) {
		OPENSSL_cleanse(slot, sizeof(*slot));
		r = eng_db_error(d, res, TG_ERR_NOMEM);
	}
out:
	json_decref(x.allow);
	json_decref(j);
	return r;
}

/*
 * The authenticator data of a new credential (the browser's
 * response.getAuthenticatorData()): token_attested_parse.  NULL with
 * *at and c's fields pointing into it, else why not.
 */
static const char *
enrol_authdata(const struct tapgated *d, const struct signin_body *b,
    struct token_attested *at, struct store_console_cred *c)
{
	enum token_attested_fault f;

	if (token_attested_parse(d->cfg->appliance.rp_id, b->authdata,
	    b->authdata_len, at, &f) != 0)
		return f == TOKEN_ATTESTED_OK ? "out of memory" :
		    token_attested_fault_text(f);
	c->alg = at->alg;
	c->cred_id = at->cred_id;
	c->cred_id_len = at->cred_id_len;
	c->pubkey = at->pubkey;
	c->pubkey_len = at->pubkey_len;
	c->sign_count = at->sign_count;
	return NULL;
}

struct enrol_txn {
	const struct engine_actor	*a;
	const struct store_console_cred	*c;
	const json_t			*details;
	int64_t				 now;
};

static int
enrol_steps(struct tapgated *d, void *arg)
{
	const struct enrol_txn *t = arg;
	int r;

	if ((r = store_console_cred_insert(d->st, t->c, t->now)) != 0 ||
	    (r = store_console_invite_set(d->st, t->c->user, 0, "used")) != 0)
		return r;
	return eng_audit(d, t->a, "console.enrolled", NULL, t->details,
	    t->now);
}

/*
 * Everything an enrolment checks: the nonce (spent first), the
 * invitation's code, the clientDataJSON (webauthn.create), the
 * authenticator data.  NULL, or why not.
 */
static const char *
enrol_check(struct tapgated *d, const json_t *j, const char *user,
    int64_t now, struct signin_body *b, struct token_attested *at,
    struct store_console_cred *c, char *whybuf, size_t cap)
{
	const char *why;

	if (b64_field(j, "nonce", 32, &b->nonce, &b->nonce_len) != 0 ||
	    b->nonce_len != 32)
		return "nonce: base64url of 32 bytes";
	if (!take_nonce(d->enrols, b->nonce, user, now, &why))
		return why;
	if ((why = invite_check(d, user, j, now)) != NULL)
		return why;
	if (b64_field(j, "client_data_json", CLIENTDATA_MAX, &b->cdj,
	    &b->cdj_len) != 0 || b64_field(j, "authenticator_data",
	    TOKEN_AUTHDATA_MAX, &b->authdata, &b->authdata_len) != 0)
		return "client_data_json and authenticator_data: base64url "
		    "(no padding), each within its bound";
	if ((why = signin_client_data(d, b, CLIENTDATA_TYPE_CREATE, whybuf,
	    cap)) != NULL)
		return why;
	return enrol_authdata(d, b, at, c);
}

int
engine_enrol(struct tapgated *d, const char *body, size_t len,
    int64_t now, struct engine_result *res)
{
	static const char *const keys[] = { "user", "code", "nonce",
	    "client_data_json", "authenticator_data" };
	static const struct eng_refusal known = { TG_ERR_EXISTS, 409,
	    "already_enrolled", "this credential is enrolled already" };
	struct store_console_cred c;
	struct signin_body b;
	struct engine_actor a;
	struct enrol_txn t;
	struct token_attested at;
	const char *user, *why;
	char name[POLICY_IDENT_MAX + 8], whybuf[160], *id64 = NULL;
	json_t *j = NULL, *details = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((r = only_keys(j, keys, 5, "the body takes user, code, nonce, "
	    "client_data_json and authenticator_data only", res)) != 0)
		goto out;
	if ((user = body_user(j, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	why = enrol_check(d, j, user, now, &b, &at, &c, whybuf,
	    sizeof(whybuf));
	if (why != NULL) {
		r = enrol_refuse(res, why);
		goto out;
	}
	c.user = user;
	user_actor(user, name, sizeof(name), &a);
	if (b64url_encode_alloc(c.cred_id, c.cred_id_len, &id64) != 0 ||
	    (details = json_pack("{s:s,s:s,s:s}", "user", user,
	    "credential_id", id64, "alg", c.alg == TOKEN_ALG_EDDSA ? "EdDSA" :
	    "ES256")) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	t = (struct enrol_txn){ &a, &c, details, now };
	if ((r = eng_txn(d, enrol_steps, &t, NULL, res, &known)) != 0)
		goto out;
	res->status = 201;
	res->body = json_pack("{s:s,s:s}", "user", user, "credential_id",
	    id64);
	if (res->body == NULL)
		r = eng_db_error(d, res, TG_ERR_NOMEM);
out:
	free(id64);
	json_decref(details);
	json_decref(j);
	signin_body_clear(&b);
	return r;
}

struct revoke_txn {
	const struct engine_actor	*a;
	const char			*user;
	int				 n;
	const json_t			*details;
	int64_t				 now;
};

static int
revoke_steps(struct tapgated *d, void *arg)
{
	struct revoke_txn *t = arg;
	int r;

	r = store_console_cred_revoke(d->st, 0, t->user, t->now, &t->n);
	if (r != 0 && r != TG_ERR_NOT_FOUND)
		return r;
	r = store_console_invite_set(d->st, t->user, INVITE_MAX_WRONG,
	    "revoked");
	if (r != 0 && r != TG_ERR_NOT_FOUND)
		return r;
	return eng_audit(d, t->a, "console.revoked", NULL, t->details,
	    t->now);
}

int
engine_console_revoke(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, int64_t now, struct engine_result *res)
{
	struct revoke_txn t;
	const char *user;
	json_t *j = NULL, *details = NULL;
	size_t i;
	int r, ended = 0;

	if ((r = eng_body_object(body, len, &j, res)) != 0)
		return r;
	if ((user = body_configured_user(d, j, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((details = json_pack("{s:s}", "user", user)) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	t = (struct revoke_txn){ a, user, 0, details, now };
	if ((r = eng_txn(d, revoke_steps, &t, NULL, res, NULL)) != 0)
		goto out;
	/* and the user's sessions end now */
	for (i = 0; i < WEB_MAX_SESSIONS; i++)
		if (d->sessions.s[i].expires != 0 &&
		    strcmp(d->sessions.s[i].principal, user) == 0) {
			OPENSSL_cleanse(&d->sessions.s[i],
			    sizeof(d->sessions.s[i]));
			ended++;
		}
	res->status = 200;
	res->body = json_pack("{s:s,s:i,s:i}", "user", user, "revoked", t.n,
	    "sessions_ended", ended);
	if (res->body == NULL)
		r = eng_db_error(d, res, TG_ERR_NOMEM);
out:
	json_decref(details);
	json_decref(j);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * Challenges the appliance issues and checks itself (engine.h): a
 * one-time code to a contact the directory holds for the account, to the
 * account's manager on record, or a saved recovery code the person reads
 * back.  The destination comes from the directory, never from the
 * caller; the code from the CSPRNG, stored only as an HMAC-SHA256 under a
 * salt of its own and compared in constant time; a right answer becomes
 * an evidence item of origin appliance.  Saved recovery codes are issued
 * here too, stored only as scrypt hashes.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/errors.h"
#include "directory/directory.h"
#include "engine/dirlookup.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/facts.h"
#include "engine/holds.h"
#include "engine/messages.h"
#include "engine/signer.h"
#include "engine/txn.h"
#include "store/challenge.h"

#define STR_(x)		#x
#define STR_OF(x)	STR_(x)
#define CODE_DIGITS	8		/* an issued code: 10^8 values */
#define ANSWER_MAX	64		/* what an answer may hold, bytes */
#define APPLIANCE	"tapgate"	/* the verifier of its own checks */

/* Saved recovery codes: 10 of 12 characters from an unambiguous
 * alphabet (no 0/O, 1/I/L, 2/Z, 5/S, 8/B): 26^12, about 56 bits each. */
#define RC_COUNT	10
#define RC_LEN		12
static const char rc_alphabet[] = "ACDEFGHJKMNPQRTUVWXY34679";
#define RC_ALPHABET_LEN	(sizeof(rc_alphabet) - 1)
/* scrypt: N = 2^15, r = 8, p = 1: 32 MiB and tens of ms per hash */
#define RC_SCRYPT_N	(1u << 15)
#define RC_SCRYPT_R	8
#define RC_SCRYPT_P	1
#define RC_SCRYPT_MEM	(64u << 20)

enum ch_kind { CH_OUT_OF_BAND, CH_MANAGER, CH_RECOVERY };

static const char *const kind_names[] = { "out_of_band",
    "manager_confirmation", "recovery_code" };
static const enum policy_evidence_type kind_types[] = {
	POLICY_EVIDENCE_OUT_OF_BAND_CALLBACK,
	POLICY_EVIDENCE_MANAGER_CONFIRMATION,
	POLICY_EVIDENCE_PRE_REGISTERED_FACTOR };

/* What a challenge is about to be: its kind, where its code goes. */
struct ch_plan {
	enum ch_kind	 kind;
	const char	*contact;	/* mobile, mail, alt_mail, NULL */
	const char	*sender;	/* "mail", "sms"; NULL: none */
	const char	*channel;	/* of the evidence: sms, email, ... */
	const char	*recipient;	/* "owner", "manager" */
	char		 destination[DIR_VALUE_MAX + 1];
	char		 masked[STORE_CHALLENGE_DEST + 1];
};

/* The body as a JSON object of only the members names[0..n). */
static json_t *
strict_body(const char *body, size_t len, const char *const *names,
    size_t n, struct engine_result *res)
{
	const char *key;
	json_t *root, *v;
	char err[160];
	size_t i;

	root = json_loadb(body != NULL ? body : "", len,
	    JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		eng_error(res, 400, "malformed_body", "body: must be a JSON "
		    "object");
		return NULL;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
			;
		if (i == n) {
			snprintf(err, sizeof(err), "%.64s: unknown member",
			    key);
			eng_error(res, 422, "invalid_field", err);
			json_decref(root);
			return NULL;
		}
	}
	return root;
}

/* The kind (and contact) a POST .../challenges body asks for. */
static int
parse_plan(const char *body, size_t len, struct ch_plan *p,
    struct engine_result *res)
{
	static const char *const names[] = { "kind", "contact" };
	const char *kind, *contact;
	json_t *root;
	size_t k;
	int r = TG_ERR_INVALID;

	memset(p, 0, sizeof(*p));
	if ((root = strict_body(body, len, names, 2, res)) == NULL)
		return TG_ERR_INVALID;
	kind = json_string_value(json_object_get(root, "kind"));
	contact = json_string_value(json_object_get(root, "contact"));
	for (k = 0; kind != NULL && k < 3 && strcmp(kind, kind_names[k]) != 0;
	    k++)
		;
	if (kind == NULL || k == 3) {
		eng_error(res, 422, "invalid_field", "kind: must be "
		    "\"out_of_band\", \"manager_confirmation\" or "
		    "\"recovery_code\"");
		goto out;
	}
	p->kind = (enum ch_kind)k;
	if (p->kind != CH_OUT_OF_BAND) {
		if (json_object_get(root, "contact") != NULL) {
			eng_error(res, 422, "invalid_field", "contact: only "
			    "an out_of_band challenge names a contact");
			goto out;
		}
		p->recipient = p->kind == CH_MANAGER ? "manager" : "owner";
		p->channel = p->kind == CH_RECOVERY ? "recovery_code" : NULL;
		r = 0;
		goto out;
	}
	p->recipient = "owner";
	if (contact != NULL && strcmp(contact, "mobile") == 0) {
		p->contact = "mobile";
		p->sender = "sms";
		p->channel = "sms";
	} else if (contact != NULL && (strcmp(contact, "mail") == 0 ||
	    strcmp(contact, "alt_mail") == 0)) {
		p->contact = strcmp(contact, "mail") == 0 ? "mail" :
		    "alt_mail";
		p->sender = "mail";
		p->channel = "email";
	} else {
		eng_error(res, 422, "invalid_field", "contact: must be "
		    "\"mobile\", \"mail\" or \"alt_mail\"");
		goto out;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

/*
 * Whether the evidence channel p->channel may carry a challenge of
 * request pr: configured, neither the channel being recovered nor the
 * one the request came over (a code sent there proves nothing).
 */
static int
channel_allowed(struct tapgated *d, const struct policy_request *pr,
    const struct ch_plan *p, struct engine_result *res)
{
	const char *rc = pr->recovered_channel;
	char err[320];

	if (!policy_channel_known(d->cfg, p->channel)) {
		snprintf(err, sizeof(err), "channel %s is not configured "
		    "(channels): the evidence could not be recorded",
		    p->channel);
		eng_error(res, 422, "channel_unknown", err);
		return TG_ERR_POLICY;
	}
	if (rc != NULL && (strcmp(rc, p->channel) == 0 ||
	    (strcmp(rc, "mail") == 0 && strcmp(p->channel, "email") == 0))) {
		snprintf(err, sizeof(err), "%s%s: %s is the channel being "
		    "recovered: a code sent there proves nothing",
		    p->contact != NULL ? "contact " : "", p->contact != NULL ?
		    p->contact : p->recipient, p->channel);
		eng_error(res, 422, "channel_refused", err);
		return TG_ERR_POLICY;
	}
	if (strcmp(pr->requester_channel, p->channel) == 0) {
		snprintf(err, sizeof(err), "%s%s: the request came over %s: "
		    "a code sent there proves nothing", p->contact != NULL ?
		    "contact " : "", p->contact != NULL ? p->contact :
		    p->recipient, p->channel);
		eng_error(res, 422, "channel_refused", err);
		return TG_ERR_POLICY;
	}
	return 0;
}

static bool
has_sender(struct tapgated *d, const char *sender)
{
	int ch = policy_channel_of(sender);

	return ch >= 0 && d->cfg->senders.program[ch][0] != '\0';
}

/* Whether a sender serves channel sender (409 naming it when not). */
static int
sender_serves(struct tapgated *d, const char *sender,
    struct engine_result *res)
{
	char err[200];

	if (has_sender(d, sender))
		return 0;
	snprintf(err, sizeof(err), "no sender serves channel %s: configure "
	    "senders.%s", sender, sender);
	eng_error(res, 409, "no_sender", err);
	return TG_ERR_NOT_FOUND;
}

/* The first of n values, masked, into p (0; TG_ERR_NOT_FOUND: none). */
static int
take_contact(struct ch_plan *p, const char (*vals)[DIR_VALUE_MAX + 1],
    size_t n, bool phone)
{
	char masked[DIR_VALUE_MAX + 4];	/* what dir_mask_* take */

	if (n == 0 || vals[0][0] == '\0')
		return TG_ERR_NOT_FOUND;
	snprintf(p->destination, sizeof(p->destination), "%s", vals[0]);
	if ((phone ? dir_mask_phone(vals[0], masked, sizeof(masked)) :
	    dir_mask_mail(vals[0], masked, sizeof(masked))) != 0 ||
	    strlen(masked) >= sizeof(p->masked))
		snprintf(masked, sizeof(masked), DIR_MASK);
	memcpy(p->masked, masked, strlen(masked) + 1);
	return 0;
}

/*
 * Where the code goes, from the directory (d->lock released while it
 * answers): the account's contact on record, or its manager's.
 */
static int
destination(struct tapgated *d, const struct facts *f, struct ch_plan *p,
    struct engine_result *res)
{
	const struct policy_request *pr = &f->rq.pr;
	struct eng_dir_lookup lk, mk;
	const struct dir_facts *x;
	json_t *details = NULL;
	char err[320];
	int r;

	memset(&mk, 0, sizeof(mk));
	if (!d->cfg->directory.configured) {
		eng_error(res, 409, "no_directory", "without a directory the "
		    "appliance has no contact on record to send a code to");
		return TG_ERR_POLICY;
	}
	if ((r = eng_directory_lookup(d, pr->account, &lk)) != 0)
		return eng_db_error(d, res, r);
	if (lk.refused || lk.outcome != DIR_FOUND) {
		eng_directory_refusal(&lk, pr->account, res, &details);
		json_decref(details);
		r = TG_ERR_POLICY;
		goto out;
	}
	x = lk.facts;
	if (p->kind == CH_MANAGER) {
		if (x->manager[0] == '\0') {
			eng_error(res, 422, "no_manager", "the directory "
			    "names no manager for this account");
			r = TG_ERR_POLICY;
			goto out;
		}
		if ((r = eng_directory_lookup_dn(d, x->manager, &mk)) != 0) {
			eng_db_error(d, res, r);
			goto out;
		}
		if (mk.refused || mk.outcome != DIR_FOUND) {
			snprintf(err, sizeof(err), "the account's manager on "
			    "record cannot be read (%s)", mk.detail);
			eng_error(res, mk.outcome == DIR_UNAVAILABLE ? 503 :
			    422, "manager_not_found", err);
			r = TG_ERR_POLICY;
			goto out;
		}
		x = mk.facts;
		/* the requester or the account cannot confirm for itself */
		if (strcmp(x->name, pr->agent) == 0 ||
		    (pr->agent_officer != NULL &&
		    strcmp(x->name, pr->agent_officer) == 0) ||
		    strcasecmp(x->name, pr->account) == 0) {
			eng_error(res, 422, "manager_refused", "the manager on "
			    "record is the requester or the account itself");
			r = TG_ERR_POLICY;
			goto out;
		}
		/* mail if a sender takes it, else the mobile */
		if (x->nmail > 0 && has_sender(d, "mail")) {
			p->sender = "mail";
			p->channel = "email";
			r = take_contact(p, x->mail, x->nmail, false);
		} else if (x->nmobile > 0) {
			p->sender = "sms";
			p->channel = "sms";
			r = take_contact(p, x->mobile, x->nmobile, true);
		} else
			r = TG_ERR_NOT_FOUND;
	} else if (strcmp(p->contact, "mobile") == 0)
		r = take_contact(p, x->mobile, x->nmobile, true);
	else if (strcmp(p->contact, "mail") == 0)
		r = take_contact(p, x->mail, x->nmail, false);
	else
		r = take_contact(p, x->alt_mail, x->nalt_mail, false);
	if (r == TG_ERR_NOT_FOUND) {
		snprintf(err, sizeof(err), "the directory holds no %s for the "
		    "%s", p->contact != NULL ? p->contact : "mail or mobile",
		    p->kind == CH_MANAGER ? "manager" : "account");
		eng_error(res, 422, "no_contact", err);
		r = TG_ERR_POLICY;
	}
out:
	eng_directory_lookup_clear(&lk);
	eng_directory_lookup_clear(&mk);
	return r;
}

/* A code of CODE_DIGITS digits, uniform, from the CSPRNG. */
static int
new_code(char out[CODE_DIGITS + 1])
{
	uint32_t v;

	do {
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return TG_ERR_INTERNAL;
	} while (v >= 4000000000u);	/* 40 x 10^8: no modulo bias */
	snprintf(out, CODE_DIGITS + 1, "%08u", (unsigned)(v % 100000000u));
	v = 0;
	return 0;
}

static int
code_hmac(const uint8_t salt[STORE_CHALLENGE_SALT], const char *code,
    uint8_t out[STORE_CHALLENGE_HASH])
{
	unsigned n = 0;

	if (HMAC(EVP_sha256(), salt, STORE_CHALLENGE_SALT,
	    (const unsigned char *)code, strlen(code), out, &n) == NULL ||
	    n != STORE_CHALLENGE_HASH)
		return TG_ERR_INTERNAL;
	return 0;
}

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
rc_count(const struct store_recovery_code *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
	return 0;
}

/* Whether account holds standing recovery codes (409 when not). */
static int
rc_standing(struct tapgated *d, const char *account,
    struct engine_result *res)
{
	size_t n = 0;
	int r;

	if ((r = store_recovery_list(d->st, account, rc_count, &n)) != 0)
		return eng_db_error(d, res, r);
	if (n > 0)
		return 0;
	eng_error(res, 409, "no_recovery_codes", "the account holds no "
	    "standing recovery codes (tapgatectl recovery-codes issue)");
	return TG_ERR_NOT_FOUND;
}

/* ---- issuing */

struct issue_txn {
	const struct engine_actor	*a;
	const struct store_challenge	*c;
	const struct ch_plan		*p;
	const char			*subject;
	const char			*text;
	struct events			*evs;
	int64_t				 now;
};

static int
issue_steps(struct tapgated *d, void *arg)
{
	const struct issue_txn *t = arg;
	json_t *details;
	int r;

	if ((r = store_challenge_add(d->st, t->c)) != 0)
		return r;
	details = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "challenge",
	    t->c->id, "kind", t->c->kind, "channel", t->c->channel,
	    "recipient", t->p->recipient, "destination", t->c->destination,
	    "expires", (json_int_t)t->c->expires, "max_attempts",
	    (json_int_t)t->c->max_attempts);
	if (details != NULL && t->p->contact != NULL)
		json_object_set_new(details, "contact",
		    json_string(t->p->contact));
	r = eng_audit(d, t->a, "challenge.issued", t->c->request_id, details,
	    t->now);
	json_decref(details);
	if (r != 0 || t->p->sender == NULL)
		return r;
	return eng_message_queue_about(d, t->evs, t->c->request_id,
	    t->p->recipient, t->p->sender, t->p->destination, t->subject,
	    t->text);
}

int
engine_challenge_issue(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const struct eng_refusal no_sender = { TG_ERR_NOT_FOUND, 409,
	    "no_sender", "no sender serves the challenge's channel" };
	struct store_challenge c;
	struct events evs = { { NULL }, 0 };
	struct issue_txn t;
	struct ch_plan p;
	struct facts f;
	uint8_t rnd[16];
	char code[CODE_DIGITS + 1] = "", subject[160], text[600];
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		return r;
	if ((r = parse_plan(body, len, &p, res)) != 0 ||
	    (r = eng_evidence_open(d, &f, 1, now, res)) != 0)
		goto out;
	if (p.kind == CH_OUT_OF_BAND &&
	    ((r = channel_allowed(d, &f.rq.pr, &p, res)) != 0 ||
	    (r = sender_serves(d, p.sender, res)) != 0))
		goto out;
	if (p.kind == CH_RECOVERY &&
	    (r = channel_allowed(d, &f.rq.pr, &p, res)) != 0)
		goto out;
	if (p.kind != CH_RECOVERY) {
		if ((r = destination(d, &f, &p, res)) != 0)
			goto out;
		if ((r = channel_allowed(d, &f.rq.pr, &p, res)) != 0 ||
		    (r = sender_serves(d, p.sender, res)) != 0)
			goto out;
	} else {
		if ((r = rc_standing(d, f.rq.pr.account, res)) != 0)
			goto out;
		snprintf(p.masked, sizeof(p.masked), "saved recovery codes");
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    RAND_bytes(c.salt, sizeof(c.salt)) != 1 ||
	    (p.kind != CH_RECOVERY && ((r = new_code(code)) != 0 ||
	    (r = code_hmac(c.salt, code, c.code_hash)) != 0))) {
		r = r != 0 ? r : TG_ERR_INTERNAL;
		eng_error(res, 500, "internal", "no challenge could be made");
		goto out;
	}
	hex_of(rnd, sizeof(rnd), c.id);
	snprintf(c.request_id, sizeof(c.request_id), "%s", f.row->id);
	snprintf(c.kind, sizeof(c.kind), "%s", kind_names[p.kind]);
	snprintf(c.channel, sizeof(c.channel), "%s", p.channel);
	snprintf(c.destination, sizeof(c.destination), "%s", p.masked);
	c.max_attempts = d->cfg->challenges.max_attempts;
	c.created = now;
	c.expires = now + d->cfg->challenges.expiry_seconds;
	snprintf(subject, sizeof(subject), "Your help-desk verification "
	    "code");
	snprintf(text, sizeof(text), "A help-desk request (%.8s) asks to "
	    "recover the account %.64s.\n%s: %s\nRead it to the help desk "
	    "only if you%s asked for this. It expires in %lld seconds.\n",
	    f.row->id, f.rq.pr.account, p.kind == CH_MANAGER ? "If you "
	    "confirm it, the code" : "The code", code, p.kind == CH_MANAGER ?
	    " (the manager on record)" : "",
	    (long long)d->cfg->challenges.expiry_seconds);
	t = (struct issue_txn){ a, &c, &p, subject, text, &evs, now };
	if ((r = eng_txn(d, issue_steps, &t, &evs, res, &no_sender)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 201;
	res->body = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "challenge",
	    c.id, "request", c.request_id, "kind", c.kind, "channel",
	    c.channel, "destination", c.destination, "expires",
	    (json_int_t)c.expires, "max_attempts", (json_int_t)c.max_attempts);
out:
	eng_events_post(d, &evs);
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(&p, sizeof(p));
	eng_facts_clear(&f);
	return r;
}

/* ---- saved recovery codes: hashing */

static int
rc_hash(const char *code, const uint8_t salt[STORE_RECOVERY_SALT],
    uint8_t out[STORE_RECOVERY_HASH])
{
	if (EVP_PBE_scrypt(code, strlen(code), salt, STORE_RECOVERY_SALT,
	    RC_SCRYPT_N, RC_SCRYPT_R, RC_SCRYPT_P, RC_SCRYPT_MEM, out,
	    STORE_RECOVERY_HASH) != 1)
		return TG_ERR_INTERNAL;
	return 0;
}

/*
 * A recovery code as a person reads it: letters of either case, spaces
 * and dashes between groups; into out (RC_LEN + 1) in upper case.  0, or
 * TG_ERR_INVALID when it is no code of the alphabet.
 */
static int
rc_normalize(const char *in, char out[RC_LEN + 1])
{
	size_t n = 0;
	int c;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		c = toupper((unsigned char)*in);
		if (n == RC_LEN || strchr(rc_alphabet, c) == NULL || c == 0)
			return TG_ERR_INVALID;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n == RC_LEN ? 0 : TG_ERR_INVALID;
}

struct rc_set {
	struct store_recovery_code	 codes[64];
	size_t				 n;
};

static int
rc_collect(const struct store_recovery_code *c, void *arg)
{
	struct rc_set *s = arg;

	if (s->n < sizeof(s->codes) / sizeof(s->codes[0]))
		s->codes[s->n++] = *c;
	return 0;
}

/*
 * The standing recovery code of account that code is: its id in *idp
 * (0: none).  The hashing runs with d->lock released: scrypt is slow on
 * purpose, and the monitor serves others meanwhile.
 */
static int
rc_match(struct tapgated *d, const char *account, const char *code,
    int64_t *idp)
{
	struct rc_set *s;
	char norm[RC_LEN + 1];
	uint8_t h[STORE_RECOVERY_HASH];
	size_t i;
	int r = 0, hit = -1;

	*idp = 0;
	if (rc_normalize(code, norm) != 0)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TG_ERR_NOMEM;
	if ((r = store_recovery_list(d->st, account, rc_collect, s)) != 0)
		goto out;
	pthread_mutex_unlock(&d->lock);
	/* every standing code is hashed: the time says nothing of which */
	for (i = 0; i < s->n && r == 0; i++) {
		if ((r = rc_hash(norm, s->codes[i].salt, h)) == 0 &&
		    CRYPTO_memcmp(h, s->codes[i].hash, sizeof(h)) == 0)
			hit = (int)i;
	}
	pthread_mutex_lock(&d->lock);
	if (r == 0 && hit >= 0)
		*idp = s->codes[hit].id;
out:
	OPENSSL_cleanse(norm, sizeof(norm));
	OPENSSL_cleanse(h, sizeof(h));
	free(s);
	return r;
}

/* ---- answering */

struct answer_txn {
	const struct engine_actor	*a;
	struct facts			*f;
	const struct store_challenge	*c;
	const char			*state;	/* what the challenge becomes */
	int64_t				 attempts;
	const char			*event;	/* its audit entry */
	json_t				*details;
	/* a right answer: the evidence item it becomes */
	const json_t			*item;
	const char			*digest;
	int64_t				 rc_id;	/* recovery code spent, or 0 */
	const struct policy_decision	*dec;
	struct events			*evs;
	int64_t				 now;
};

static int
answer_steps(struct tapgated *d, void *arg)
{
	const struct answer_txn *t = arg;
	struct store_evidence ev;
	char *js;
	int r;

	if ((r = store_challenge_set(d->st, t->c->id, t->attempts,
	    t->state)) != 0 ||
	    (r = eng_audit(d, t->a, t->event, t->c->request_id, t->details,
	    t->now)) != 0 || t->item == NULL)
		return r;
	if (t->rc_id != 0 && (r = store_recovery_use(d->st, t->rc_id,
	    t->now)) != 0)
		return r;
	if ((js = json_dumps(t->item, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return TG_ERR_NOMEM;
	memset(&ev, 0, sizeof(ev));
	ev.request_id = t->c->request_id;
	ev.type = json_string_value(json_object_get(t->item, "type"));
	ev.result = "pass";
	ev.verifier = APPLIANCE;
	ev.channel = t->c->channel;
	ev.ref = json_string_value(json_object_get(t->item, "ref"));
	ev.json = js;
	ev.digest = t->digest;
	ev.origin = "appliance";
	ev.added_uid = t->a->uid;
	ev.created = t->now;
	r = store_evidence_add(d->st, &ev, NULL);
	free(js);
	if (r != 0)
		return r;
	if ((r = eng_facts_apply(d, t->f, t->dec, t->a, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, t->a, t->now, t->evs);
}

/* The answer's code: a string of 1..ANSWER_MAX printable bytes. */
static int
parse_answer(const char *body, size_t len, char *code, size_t cap,
    struct engine_result *res)
{
	static const char *const names[] = { "code" };
	const char *s;
	json_t *root;
	size_t i, n;
	int r = TG_ERR_INVALID;

	if ((root = strict_body(body, len, names, 1, res)) == NULL)
		return TG_ERR_INVALID;
	s = json_string_value(json_object_get(root, "code"));
	n = s != NULL ? strlen(s) : 0;
	if (s == NULL || n == 0 || n > ANSWER_MAX || n >= cap ||
	    n != json_string_length(json_object_get(root, "code"))) {
		eng_error(res, 422, "invalid_field", "code: must be a string "
		    "of 1 to " STR_OF(ANSWER_MAX) " characters");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			eng_error(res, 422, "invalid_field", "code: contains "
			    "a control character");
			goto out;
		}
	memcpy(code, s, n + 1);
	r = 0;
out:
	json_decref(root);
	return r;
}

/* The evidence item a right answer to c becomes, in f (and *item). */
static int
answer_item(struct facts *f, const struct store_challenge *c,
    enum policy_evidence_type type, json_t **itemp, char *digest)
{
	json_t *item, *one;
	char ref[64], err[200];
	size_t n = f->rq.pr.nevidence, k;
	int r;

	snprintf(ref, sizeof(ref), "challenge:%s", c->id);
	item = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    policy_evidence_name(type), "result", "pass", "verifier",
	    APPLIANCE, "channel", c->channel, "ref", ref, "origin",
	    "appliance");
	if (item == NULL || (one = json_array()) == NULL) {
		json_decref(item);
		return TG_ERR_NOMEM;
	}
	json_array_append(one, item);
	r = eng_jcs_digest(item, digest);
	/* the item joins the request's facts: what the policy now sees */
	if (r == 0 && (f->evidence == NULL ||
	    json_array_append(f->evidence, item) != 0))
		r = TG_ERR_NOMEM;
	if (r == 0)
		r = reqjson_evidence(one, "evidence", &f->rq.ev[n], &k, err,
		    sizeof(err));
	json_decref(one);
	if (r != 0) {
		json_decref(item);
		return r;
	}
	f->rq.pr.evidence = f->rq.ev;
	f->rq.pr.nevidence = n + 1;
	*itemp = item;
	return 0;
}

int
engine_challenge_answer(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *cid, const char *body, size_t len,
    int64_t now, struct engine_result *res)
{
	static const struct eng_refusal changed = { TG_ERR_CONFLICT, 409,
	    "challenge_closed", "the challenge was answered meanwhile" };
	struct policy_decision dec;
	struct store_challenge c;
	struct events evs = { { NULL }, 0 };
	struct answer_txn t;
	struct facts f;
	json_t *item = NULL;
	uint8_t h[STORE_CHALLENGE_HASH];
	char code[ANSWER_MAX + 1] = "", err[240];
	char digest[STORE_DIGEST_LEN + 1];
	enum policy_evidence_type type;
	int64_t left, rc_id = 0;
	bool right = false;
	size_t k;
	int r;

	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		return r;
	memset(&t, 0, sizeof(t));
	if ((r = parse_answer(body, len, code, sizeof(code), res)) != 0)
		goto out;
	r = store_challenge_get(d->st, cid, &c);
	if (r == TG_ERR_NOT_FOUND || r == TG_ERR_INVALID ||
	    (r == 0 && strcmp(c.request_id, f.row->id) != 0)) {
		eng_error(res, 404, "not_found", "no such challenge on this "
		    "request");
		r = TG_ERR_NOT_FOUND;
		goto out;
	}
	if (r != 0) {
		eng_db_error(d, res, r);
		goto out;
	}
	if (strcmp(c.state, "open") != 0) {
		snprintf(err, sizeof(err), "the challenge is %s: issue a new "
		    "one", c.state);
		eng_error(res, 409, "challenge_closed", err);
		r = TG_ERR_CONFLICT;
		goto out;
	}
	t.a = a;
	t.f = &f;
	t.c = &c;
	t.evs = &evs;
	t.now = now;
	if (now >= c.expires) {
		t.state = "expired";
		t.attempts = c.attempts;
		t.event = "challenge.expired";
		t.details = json_pack("{s:s,s:s,s:I}", "challenge", c.id,
		    "kind", c.kind, "expired", (json_int_t)c.expires);
		if ((r = eng_txn(d, answer_steps, &t, &evs, res,
		    &changed)) != 0)
			goto out;
		eng_error(res, 409, "challenge_expired", "the challenge "
		    "expired: issue a new one");
		r = TG_ERR_CONFLICT;
		goto out;
	}
	if ((r = eng_evidence_open(d, &f, 1, now, res)) != 0)
		goto out;
	for (k = 0; k < 3 && strcmp(c.kind, kind_names[k]) != 0; k++)
		;
	if (k == 3) {
		r = eng_db_error(d, res, TG_ERR_CORRUPT);
		goto out;
	}
	type = kind_types[k];
	if (k == CH_RECOVERY) {
		if ((r = rc_match(d, f.rq.pr.account, code, &rc_id)) != 0) {
			eng_db_error(d, res, r);
			goto out;
		}
		right = rc_id != 0;
	} else {
		if ((r = code_hmac(c.salt, code, h)) != 0) {
			eng_error(res, 500, "internal", "the answer could not "
			    "be checked");
			goto out;
		}
		right = CRYPTO_memcmp(h, c.code_hash, sizeof(h)) == 0;
	}
	t.attempts = c.attempts + 1;
	if (!right) {
		left = c.max_attempts - t.attempts;
		t.state = left > 0 ? "open" : "failed";
		t.event = "challenge.failed";
		t.details = json_pack("{s:s,s:s,s:I,s:I,s:b}", "challenge",
		    c.id, "kind", c.kind, "attempts", (json_int_t)t.attempts,
		    "left", (json_int_t)(left > 0 ? left : 0), "dead",
		    left <= 0);
		if ((r = eng_txn(d, answer_steps, &t, &evs, res,
		    &changed)) != 0)
			goto out;
		if (left > 0)
			snprintf(err, sizeof(err), "wrong code: %lld attempt%s "
			    "left", (long long)left, left == 1 ? "" : "s");
		else
			snprintf(err, sizeof(err), "wrong code: the challenge "
			    "is dead after %lld attempts: issue a new one",
			    (long long)t.attempts);
		eng_error(res, 422, "wrong_code", err);
		r = TG_ERR_POLICY;
		goto out;
	}
	if ((r = answer_item(&f, &c, type, &item, digest)) != 0 ||
	    (r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the evidence does not "
		    "fit the policy");
		goto out;
	}
	t.state = "answered";
	t.event = "challenge.answered";
	t.details = json_pack("{s:s,s:s,s:s,s:s,s:s}", "challenge", c.id,
	    "kind", c.kind, "channel", c.channel, "type",
	    policy_evidence_name(type), "evidence_digest", digest);
	t.item = item;
	t.digest = digest;
	t.rc_id = rc_id;
	t.dec = &dec;
	if ((r = eng_txn(d, answer_steps, &t, &evs, res, &changed)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(f.row->id, &dec);
out:
	eng_events_post(d, &evs);
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(h, sizeof(h));
	json_decref(t.details);
	json_decref(item);
	eng_facts_clear(&f);
	return r;
}

/* ---- saved recovery codes: issue and revoke */

/*
 * The account a recovery-codes call names, as the directory's canonical
 * name (or, without a directory, as given: a name the configuration may
 * hold), into out.
 */
static int
rc_account(struct tapgated *d, const char *account, char *out, size_t cap,
    struct engine_result *res)
{
	struct eng_dir_lookup lk;
	json_t *details = NULL;
	int r;

	if (account == NULL || account[0] == '\0' ||
	    strlen(account) > POLICY_NAME_MAX) {
		eng_error(res, 422, "invalid_field", "account: 1 to "
		    STR_OF(POLICY_NAME_MAX) " bytes");
		return TG_ERR_INVALID;
	}
	if ((r = eng_directory_lookup(d, account, &lk)) != 0)
		return eng_db_error(d, res, r);
	if (!lk.configured) {
		if (!policy_identity_canonical(account)) {
			eng_error(res, 422, "invalid_field", "account: without "
			    "a directory, a lowercase name");
			return TG_ERR_INVALID;
		}
		snprintf(out, cap, "%s", account);
		return 0;
	}
	if (lk.refused || lk.outcome != DIR_FOUND) {
		eng_directory_refusal(&lk, account, res, &details);
		json_decref(details);
		eng_directory_lookup_clear(&lk);
		return TG_ERR_POLICY;
	}
	snprintf(out, cap, "%s", lk.facts->name);
	eng_directory_lookup_clear(&lk);
	return 0;
}

struct rc_txn {
	const struct engine_actor	*a;
	const char			*account;
	const char			*set_id;
	uint8_t (*salts)[STORE_RECOVERY_SALT];
	uint8_t (*hashes)[STORE_RECOVERY_HASH];
	size_t				 n;	/* 0: revoke only */
	int64_t				 now;
};

static int
rc_steps(struct tapgated *d, void *arg)
{
	const struct rc_txn *t = arg;
	json_t *details;
	int64_t revoked = 0;
	size_t i;
	int r;

	if ((r = store_recovery_revoke(d->st, t->account, t->now,
	    &revoked)) != 0)
		return r;
	for (i = 0; i < t->n; i++)
		if ((r = store_recovery_add(d->st, t->account, t->set_id,
		    t->salts[i], t->hashes[i], t->now)) != 0)
			return r;
	if (t->n > 0)
		details = json_pack("{s:s,s:s,s:i,s:I}", "account",
		    t->account, "set", t->set_id, "codes", (int)t->n,
		    "revoked", (json_int_t)revoked);
	else
		details = json_pack("{s:s,s:I}", "account", t->account,
		    "revoked", (json_int_t)revoked);
	r = eng_audit(d, t->a, t->n > 0 ? "recovery_codes.issued" :
	    "recovery_codes.revoked", NULL, details, t->now);
	json_decref(details);
	return r;
}

static int
recovery_codes(struct tapgated *d, const struct engine_actor *a,
    const char *account, bool issue, int64_t now,
    struct engine_result *res)
{
	uint8_t salts[RC_COUNT][STORE_RECOVERY_SALT];
	uint8_t hashes[RC_COUNT][STORE_RECOVERY_HASH];
	char codes[RC_COUNT][RC_LEN + 1], name[POLICY_NAME_MAX + 1];
	char set_id[33], shown[RC_LEN + 4];
	uint8_t rnd[16], b;
	struct rc_txn t;
	json_t *list = NULL;
	size_t i, j;
	int r;

	if ((r = rc_account(d, account, name, sizeof(name), res)) != 0)
		return r;
	memset(codes, 0, sizeof(codes));
	t = (struct rc_txn){ a, name, NULL, salts, hashes, 0, now };
	if (issue) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
		    RAND_bytes(&salts[0][0], sizeof(salts)) != 1) {
			r = TG_ERR_INTERNAL;
			goto crypto;
		}
		hex_of(rnd, sizeof(rnd), set_id);
		for (i = 0; i < RC_COUNT; i++)
			for (j = 0; j < RC_LEN; j++) {
				/* 250 = 10 x 25: no modulo bias */
				do {
					if (RAND_bytes(&b, 1) != 1) {
						r = TG_ERR_INTERNAL;
						goto crypto;
					}
				} while (b >= 250);
				codes[i][j] = rc_alphabet[b % RC_ALPHABET_LEN];
			}
		/* scrypt is slow on purpose: others go on meanwhile */
		pthread_mutex_unlock(&d->lock);
		for (i = 0; i < RC_COUNT && r == 0; i++)
			r = rc_hash(codes[i], salts[i], hashes[i]);
		pthread_mutex_lock(&d->lock);
		if (r != 0)
			goto crypto;
		t.set_id = set_id;
		t.n = RC_COUNT;
	}
	if ((r = eng_txn(d, rc_steps, &t, NULL, res, NULL)) != 0)
		goto out;
	json_decref(res->body);
	res->status = issue ? 201 : 200;
	if (!issue) {
		res->body = json_pack("{s:s,s:b}", "account", name, "revoked",
		    1);
		goto out;
	}
	if ((list = json_array()) == NULL) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	for (i = 0; i < RC_COUNT; i++) {
		/* shown in groups of four: ACDE-FGHJ-KMNP */
		snprintf(shown, sizeof(shown), "%.4s-%.4s-%.4s", codes[i],
		    codes[i] + 4, codes[i] + 8);
		json_array_append_new(list, json_string(shown));
		OPENSSL_cleanse(shown, sizeof(shown));
	}
	res->body = json_pack("{s:s,s:s,s:o}", "account", name, "set",
	    set_id, "codes", list);
	goto out;
crypto:
	eng_error(res, 500, "internal", "no recovery codes could be made");
out:
	OPENSSL_cleanse(codes, sizeof(codes));
	return r;
}

int
engine_recovery_codes(struct tapgated *d, const struct engine_actor *a,
    const char *body, size_t len, bool issue, int64_t now,
    struct engine_result *res)
{
	static const char *const names[] = { "account" };
	json_t *root;
	int r;

	if ((root = strict_body(body, len, names, 1, res)) == NULL)
		return TG_ERR_INVALID;
	r = recovery_codes(d, a, json_string_value(json_object_get(root,
	    "account")), issue, now, res);
	json_decref(root);
	return r;
}

/* ---- identity proofing an officer records (the manual route) */

struct item_txn {
	const struct engine_actor	*a;
	struct facts			*f;
	const json_t			*item;
	const char			*digest;
	const char			*origin;
	const char			*event;
	const json_t			*details;
	const struct policy_decision	*dec;
	struct events			*evs;
	int64_t				 now;
};

static int
item_steps(struct tapgated *d, void *arg)
{
	const struct item_txn *t = arg;
	struct store_evidence ev;
	char *js;
	int r;

	if ((js = json_dumps(t->item, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return TG_ERR_NOMEM;
	memset(&ev, 0, sizeof(ev));
	ev.request_id = t->f->row->id;
	ev.type = json_string_value(json_object_get(t->item, "type"));
	ev.result = "pass";
	ev.verifier = json_string_value(json_object_get(t->item,
	    "verifier"));
	ev.channel = json_string_value(json_object_get(t->item, "channel"));
	ev.ref = json_string_value(json_object_get(t->item, "ref"));
	ev.json = js;
	ev.digest = t->digest;
	ev.origin = t->origin;
	ev.added_uid = t->a->uid;
	ev.created = t->now;
	r = store_evidence_add(d->st, &ev, NULL);
	free(js);
	if (r != 0 || (r = eng_audit(d, t->a, t->event, t->f->row->id,
	    t->details, t->now)) != 0)
		return r;
	if ((r = eng_facts_apply(d, t->f, t->dec, t->a, t->now,
	    t->evs)) != ENG_READY)
		return r;
	return eng_sign_ready(d, t->f, t->a, t->now, t->evs);
}

/* Whether s is one of names[0..n). */
static bool
one_of(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

int
engine_proofing(struct tapgated *d, const struct engine_actor *a,
    const char *id, const char *body, size_t len, int64_t now,
    struct engine_result *res)
{
	static const char *const names[] = { "document", "seen",
	    "reference" };
	static const char *const documents[] = { "passport", "national_id",
	    "driving_licence", "residence_permit" };
	static const char *const seen[] = { "in_person", "video" };
	static const struct eng_refusal changed = { TG_ERR_CONFLICT, 409,
	    "conflict", "the request changed meanwhile; retry" };
	const struct policy_request *pr;
	struct policy_decision dec;
	struct events evs = { { NULL }, 0 };
	struct item_txn t;
	struct ch_plan p;
	struct facts f;
	json_t *root = NULL, *item = NULL, *one = NULL, *details = NULL;
	const char *doc, *how, *ref;
	char refbuf[POLICY_REQ_STRING_MAX + 1], err[240];
	char digest[STORE_DIGEST_LEN + 1];
	size_t i, n, k;
	int r;

	if ((r = eng_load_seen(d, a, id, &f, res)) != 0)
		return r;
	pr = &f.rq.pr;
	if ((root = strict_body(body, len, names, 3, res)) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	doc = json_string_value(json_object_get(root, "document"));
	how = json_string_value(json_object_get(root, "seen"));
	ref = json_string_value(json_object_get(root, "reference"));
	n = ref != NULL ? strlen(ref) : 0;
	r = TG_ERR_INVALID;
	if (!one_of(doc, documents, 4)) {
		eng_error(res, 422, "invalid_field", "document: must be "
		    "\"passport\", \"national_id\", \"driving_licence\" or "
		    "\"residence_permit\"");
		goto out;
	}
	if (!one_of(how, seen, 2)) {
		eng_error(res, 422, "invalid_field", "seen: must be "
		    "\"in_person\" or \"video\"");
		goto out;
	}
	if (ref == NULL || n == 0 || n > 64 ||
	    n != json_string_length(json_object_get(root, "reference"))) {
		eng_error(res, 422, "invalid_field", "reference: a string of "
		    "1 to 64 characters (the document's number, a case id)");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)ref[i] < 0x20 || ref[i] == 0x7f) {
			eng_error(res, 422, "invalid_field", "reference: "
			    "contains a control character");
			goto out;
		}
	/* who saw it: the officer calling, a canonical identity */
	if (!policy_identity_canonical(a->name)) {
		eng_error(res, 403, "no_officer_identity", "the caller's name "
		    "is no canonical identity: proofing needs the officer "
		    "who saw the document");
		r = TG_ERR_PERM;
		goto out;
	}
	if (strcmp(a->name, pr->agent) == 0 || (pr->agent_officer != NULL &&
	    strcmp(a->name, pr->agent_officer) == 0)) {
		eng_error(res, 403, "is_requester", "the officer is the "
		    "requester of this request");
		r = TG_ERR_PERM;
		goto out;
	}
	if (strcasecmp(a->name, pr->account) == 0) {
		eng_error(res, 403, "is_target", "the officer is the account "
		    "being recovered");
		r = TG_ERR_PERM;
		goto out;
	}
	if ((r = eng_evidence_open(d, &f, 1, now, res)) != 0)
		goto out;
	memset(&p, 0, sizeof(p));
	p.channel = how;
	p.recipient = "officer";
	if ((r = channel_allowed(d, pr, &p, res)) != 0)
		goto out;
	snprintf(refbuf, sizeof(refbuf), "%s: %s", doc, ref);
	item = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type",
	    "identity_document", "result", "pass", "verifier", a->name,
	    "channel", how, "ref", refbuf, "origin", "officer", "document",
	    doc);
	if (item == NULL || (one = json_array()) == NULL ||
	    json_array_append(one, item) != 0 ||
	    (r = eng_jcs_digest(item, digest)) != 0 ||
	    json_array_append(f.evidence, item) != 0) {
		r = eng_db_error(d, res, TG_ERR_NOMEM);
		goto out;
	}
	k = f.rq.pr.nevidence;
	if ((r = reqjson_evidence(one, "proofing", &f.rq.ev[k], &n, err,
	    sizeof(err))) != 0) {
		eng_error(res, 422, "invalid_field", err);
		goto out;
	}
	f.rq.pr.evidence = f.rq.ev;
	f.rq.pr.nevidence = k + 1;
	if ((r = eng_facts_evaluate(d, &f, now, &dec)) != 0) {
		eng_error(res, 409, "stale_request", "the proofing does not "
		    "fit the policy");
		goto out;
	}
	details = json_pack("{s:s,s:s,s:s,s:s}", "officer", a->name,
	    "document", doc, "seen", how, "evidence_digest", digest);
	t = (struct item_txn){ a, &f, item, digest, "officer",
	    "request.proofing_recorded", details, &dec, &evs, now };
	if ((r = eng_txn(d, item_steps, &t, &evs, res, &changed)) != 0)
		goto out;
	json_decref(res->body);
	res->status = 200;
	res->body = eng_summary_json(f.row->id, &dec);
out:
	eng_events_post(d, &evs);
	json_decref(root);
	json_decref(item);
	json_decref(one);
	json_decref(details);
	eng_facts_clear(&f);
	return r;
}

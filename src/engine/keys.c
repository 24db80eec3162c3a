/* SPDX-License-Identifier: ISC */
/*
 * The co-signing keys as the daemon serves and rotates them (engine.h).
 * The files and their crash-safe order are signkey.h's; here are the
 * policy (how long a retired key stays published), the audit entries and
 * the checkpoints around a rotation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "engine/txn.h"
#include "seal/signkey.h"

int
engine_keys(struct tapgated *d, int all, int64_t now,
    struct engine_result *res)
{
	struct jwks *set = NULL;
	char *doc = NULL;
	size_t len;
	int r;

	if (d->keyring == NULL || d->signkey == NULL) {
		eng_error(res, 503, "no_key", "no co-signing key loaded");
		return TG_ERR_NOT_FOUND;
	}
	if ((r = signkey_ring_jwks(d->keyring, all ? SIGNKEY_ALL : now,
	    &set)) != 0 || (r = jwks_serialize(set, &doc, &len)) != 0) {
		jwks_free(&set);
		return eng_db_error(d, res, r);
	}
	json_decref(res->body);
	res->status = 200;
	res->body = json_loadb(doc, len, 0, NULL);
	free(doc);
	jwks_free(&set);
	return 0;
}

/*
 * Until when a key retired at now stays published: past the expiry of
 * every order it signed.  Every order issued so far was signed by it or
 * by an older key, so the latest expiry in the store bounds them all.
 */
static int
publish_until(struct tapgated *d, int64_t now, int64_t *untilp)
{
	int64_t last = 0;
	int r;

	if ((r = store_order_last_expiry(d->st, &last)) != 0)
		return r;
	*untilp = last > now ? last : now;
	return 0;
}

/* Whether a rotation can happen now (503 or 409 when not). */
static int
rotate_possible(struct tapgated *d, struct engine_result *res)
{
	if (d->keyring == NULL || d->signkey == NULL) {
		eng_error(res, 503, "no_key", "no co-signing key loaded");
		return TG_ERR_NOT_FOUND;
	}
	if (d->keyring->standby == NULL) {
		eng_error(res, 409, "no_standby_key", "no standby key is "
		    "sealed (the YubiKey seal seals one at start): restart "
		    "tapgated, then rotate");
		return TG_ERR_CONFLICT;
	}
	if (d->keyring->nretired == SIGNKEY_RETIRED_MAX) {
		eng_error(res, 409, "too_many_keys", "the appliance has "
		    "retired as many keys as its key set holds");
		return TG_ERR_TOO_LONG;
	}
	return 0;
}

/*
 * The rotation's audit entry.  When it cannot be written, the retirement
 * already recorded is undone (or, failing that, completed by the next
 * start) and the caller gets the database failure.
 */
static int
rotate_audit(struct tapgated *d, const struct engine_actor *a,
    const char *old_kid, const char *new_kid, int64_t until, int64_t now,
    struct engine_result *res)
{
	struct eng_entry e;
	json_t *details;
	int r;

	details = json_pack("{s:s,s:s,s:s,s:I}", "old_kid", old_kid,
	    "new_kid", new_kid, "alg", jwk_alg_name(jwk_alg(d->signkey)),
	    "old_published_until", (json_int_t)until);
	e = (struct eng_entry){ a, "key.rotate", NULL, details, now };
	r = eng_txn(d, eng_audit_entry, &e, NULL, NULL, NULL);
	json_decref(details);
	if (r == 0)
		return 0;
	if (signkey_retire_undo(d->cfg->appliance.state_dir, d->keyring) != 0)
		fprintf(stderr, "tapgated: key rotation: not audited and not "
		    "undone: the next start completes it\n");
	return eng_db_error(d, res, r);
}

int
engine_key_rotate(struct tapgated *d, const struct engine_actor *a,
    int64_t now, struct engine_result *res)
{
	const char *dir = d->cfg->appliance.state_dir;
	char old_kid[JWK_KID_LEN + 1], new_kid[JWK_KID_LEN + 1];
	int64_t until = 0;
	int r;

	if ((r = rotate_possible(d, res)) != 0)
		return r;
	snprintf(old_kid, sizeof(old_kid), "%s", jwk_kid(d->signkey));
	snprintf(new_kid, sizeof(new_kid), "%s",
	    jwk_kid(d->keyring->standby));
	/* everything up to the rotation is vouched for by the old key */
	(void)engine_checkpoint(d, now);
	if ((r = publish_until(d, now, &until)) != 0)
		return eng_db_error(d, res, r);
	/* 1: recorded retired (a crash from here on completes at start) */
	if ((r = signkey_retire(dir, d->keyring, now, until)) != 0) {
		fprintf(stderr, "tapgated: key rotation: cannot record the "
		    "retired key: %s\n", tg_strerror(r));
		eng_error(res, 500, "rotation_failed", "cannot record the "
		    "retired key");
		return r;
	}
	/* 2: audited */
	if ((r = rotate_audit(d, a, old_kid, new_kid, until, now, res)) != 0)
		return r;
	/* 3: the commit point */
	if ((r = signkey_promote(dir, d->keyring)) != 0) {
		fprintf(stderr, "tapgated: key rotation: cannot make %s "
		    "active: %s (the next start completes it)\n", new_kid,
		    tg_strerror(r));
		d->errors++;
		eng_error(res, 500, "rotation_failed", "the new key could not "
		    "be made active; restart tapgated to complete the "
		    "rotation");
		return r;
	}
	d->signkey = d->keyring->active;
	fprintf(stderr, "tapgated: co-signing key rotated: %s retired "
	    "(published until %lld), %s active\n", old_kid, (long long)until,
	    new_kid);
	/* the next standby key, when the seal is at hand */
	if (d->seal != NULL && (r = signkey_standby_create(d->seal, dir,
	    d->keyring)) != 0)
		fprintf(stderr, "tapgated: no new standby key: %s\n",
		    tg_strerror(r));
	/* and the rotation's entry is vouched for by the new key */
	(void)engine_checkpoint(d, now);
	json_decref(res->body);
	res->status = 200;
	/* the next kid is public: downstream may pin it ahead of time */
	res->body = json_pack("{s:s,s:s,s:I,s:s?}", "kid", new_kid,
	    "retired_kid", old_kid, "retired_published_until",
	    (json_int_t)until, "next_kid", d->keyring->standby != NULL ?
	    jwk_kid(d->keyring->standby) : NULL);
	return 0;
}

int
engine_keys_opened(struct tapgated *d, const struct signkey_report *rep,
    int64_t now)
{
	struct eng_entry e;
	json_t *details;
	int r;

	if (!rep->completed)
		return 0;
	/* the audit entry of the rotation may be missing: say it again */
	details = json_pack("{s:s,s:s,s:s,s:b}", "old_kid", rep->old_kid,
	    "new_kid", jwk_kid(d->signkey), "alg",
	    jwk_alg_name(jwk_alg(d->signkey)), "completed_at_start", 1);
	e = (struct eng_entry){ &eng_system, "key.rotate", NULL, details, now };
	r = eng_txn(d, eng_audit_entry, &e, NULL, NULL, NULL);
	json_decref(details);
	return r;
}

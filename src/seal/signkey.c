/* SPDX-License-Identifier: ISC */
/*
 * The co-signing key at rest (signkey.h): unsealed from the state
 * directory, or made, sealed and stored on the appliance's first start.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <jansson.h>

#include "common/errors.h"
#include "seal/seal_int.h"
#include "seal/signkey.h"

#define SIGNKEY_FORMAT	1
#define SIGNKEY_PLAIN_LEN (2 + JWK_PRIVATE_LEN)

static int
load_file(struct seal *s, int dirfd, const char *file, enum jwk_alg alg,
    struct jwk **keyp)
{
	uint8_t plain[SIGNKEY_PLAIN_LEN + 1], *blob;
	size_t len, plen = 0;
	int r;

	if ((blob = malloc(SEAL_PRIVATE_FILE_MAX)) == NULL)
		return TG_ERR_NOMEM;
	if ((r = sealio_read_private(dirfd, file, blob,
	    SEAL_PRIVATE_FILE_MAX, &len)) != 0)
		goto out;
	/* One byte of room more than a key: a longer secret is refused. */
	r = seal_unseal(s, SIGNKEY_LABEL, blob, len, plain, sizeof(plain),
	    &plen);
	if (r == TG_ERR_TOO_LONG)
		r = TG_ERR_INVALID;
	if (r != 0)
		goto out;
	if (plen != SIGNKEY_PLAIN_LEN || plain[0] != SIGNKEY_FORMAT ||
	    jwk_alg_name((enum jwk_alg)plain[1]) == NULL) {
		r = TG_ERR_INVALID;
		goto out;
	}
	if ((enum jwk_alg)plain[1] != alg) {
		r = TG_ERR_ALG_MISMATCH;
		goto out;
	}
	r = jwk_private_import(alg, plain + 2, JWK_PRIVATE_LEN, keyp);
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	free(blob);
	return r;
}

/* A new key for alg, sealed into a new file; its kid in kid. */
static int
create_file(struct seal *s, int dirfd, const char *file, enum jwk_alg alg,
    char kid[JWK_KID_LEN + 1])
{
	uint8_t plain[SIGNKEY_PLAIN_LEN], *blob = NULL;
	struct jwk *key = NULL;
	size_t bloblen;
	int r;

	if ((r = jwk_generate(alg, &key)) != 0)
		return r;
	plain[0] = SIGNKEY_FORMAT;
	plain[1] = (uint8_t)alg;
	if ((r = jwk_private_export(key, plain + 2, JWK_PRIVATE_LEN)) != 0)
		goto out;
	(void)snprintf(kid, JWK_KID_LEN + 1, "%s", jwk_kid(key));
	r = seal_seal(s, SIGNKEY_LABEL, plain, sizeof(plain), &blob,
	    &bloblen);
	OPENSSL_cleanse(plain, sizeof(plain));
	if (r != 0)
		goto out;
	r = sealio_create_private(dirfd, file, blob, bloblen);
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	free(blob);
	jwk_free(&key);
	return r;
}

/* Load file, or make it first; *createdp says which. */
static int
load_or_create_file(struct seal *s, int dirfd, const char *file,
    enum jwk_alg alg, struct jwk **keyp, int *createdp)
{
	char kid[JWK_KID_LEN + 1];
	struct jwk *key = NULL;
	int created = 0, r;

	r = load_file(s, dirfd, file, alg, &key);
	if (r == TG_ERR_NOT_FOUND) {
		r = create_file(s, dirfd, file, alg, kid);
		created = r == 0;
		/*
		 * Load what is on disk now: it proves the stored blob
		 * unseals before anyone publishes its kid, and when another
		 * process created the file first (TG_ERR_EXISTS), its key
		 * is the appliance's key.
		 */
		if (r == 0 || r == TG_ERR_EXISTS)
			r = load_file(s, dirfd, file, alg, &key);
		if (r == 0 && created && strcmp(jwk_kid(key), kid) != 0)
			r = TG_ERR_INTERNAL;
	}
	if (r != 0) {
		jwk_free(&key);
		return r;
	}
	*keyp = key;
	*createdp = created;
	return 0;
}

int
signkey_load_or_create(struct seal *s, const char *state_dir,
    enum jwk_alg alg, struct jwk **keyp, int *createdp)
{
	struct jwk *key = NULL;
	int dirfd = -1, created = 0, r;

	if (s == NULL || state_dir == NULL || keyp == NULL ||
	    jwk_alg_name(alg) == NULL)
		return TG_ERR_INVALID;
	if ((r = sealio_open_dir(state_dir, &dirfd)) != 0)
		return r;
	r = load_or_create_file(s, dirfd, SIGNKEY_FILE, alg, &key, &created);
	close(dirfd);
	if (r != 0)
		return r;
	*keyp = key;
	if (createdp != NULL)
		*createdp = created;
	return 0;
}

/* ---- rotation */

#define RETIRED_VERSION	1
#define RETIRED_FILE_MAX (64 * 1024)

static void
retired_clear(struct signkey_retired *rk)
{
	jwk_free(&rk->pub);
	memset(rk, 0, sizeof(*rk));
}

void
signkey_ring_free(struct signkey_ring **ringp)
{
	struct signkey_ring *ring;
	size_t i;

	if (ringp == NULL || (ring = *ringp) == NULL)
		return;
	jwk_free(&ring->active);
	jwk_free(&ring->standby);
	for (i = 0; i < ring->nretired; i++)
		retired_clear(&ring->retired[i]);
	free(ring);
	*ringp = NULL;
}

/*
 * Parse the retired list:
 *	{"version":1,"retired":[{"key":JWK,"retired":T,
 *	    "publish_until":T,"successor":KID},...]}
 * strictly (written by us only; anything else is damage).
 */
static int
retired_parse(const char *doc, size_t len, struct signkey_ring *ring)
{
	json_t *root, *arr, *e, *k;
	json_int_t version;
	const char *succ;
	size_t i;
	int r = TG_ERR_CORRUPT;

	root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || json_unpack(root, "{s:I,s:o!}", "version",
	    &version, "retired", &arr) != 0 || version != RETIRED_VERSION ||
	    !json_is_array(arr) || json_array_size(arr) > SIGNKEY_RETIRED_MAX)
		goto out;
	json_array_foreach(arr, i, e) {
		struct signkey_retired *rk = &ring->retired[ring->nretired];
		json_int_t when, until;

		if (json_unpack(e, "{s:o,s:I,s:I,s:s!}", "key", &k, "retired",
		    &when, "publish_until", &until, "successor", &succ) != 0 ||
		    !jwk_kid_ok(succ) || jwk_from_json(k, &rk->pub) != 0)
			goto out;
		rk->retired = when;
		rk->publish_until = until;
		(void)snprintf(rk->successor, sizeof(rk->successor), "%s",
		    succ);
		ring->nretired++;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

static int
retired_load(int dirfd, struct signkey_ring *ring)
{
	uint8_t *buf;
	size_t len;
	int r;

	if ((buf = malloc(RETIRED_FILE_MAX)) == NULL)
		return TG_ERR_NOMEM;
	r = sealio_read_private(dirfd, SIGNKEY_RETIRED_FILE, buf,
	    RETIRED_FILE_MAX, &len);
	if (r == TG_ERR_NOT_FOUND)
		r = 0;		/* never rotated */
	else if (r == 0)
		r = retired_parse((const char *)buf, len, ring);
	free(buf);
	return r;
}

/* Write the first n retired records of ring as the retired list. */
static int
retired_write(int dirfd, const struct signkey_ring *ring, size_t n)
{
	json_t *root, *arr, *k;
	char *doc = NULL;
	size_t i;
	int r;

	if ((arr = json_array()) == NULL)
		return TG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		const struct signkey_retired *rk = &ring->retired[i];

		if ((r = jwk_to_json(rk->pub, &k)) != 0) {
			json_decref(arr);
			return r;
		}
		if (json_array_append_new(arr, json_pack("{s:o,s:I,s:I,s:s}",
		    "key", k, "retired", (json_int_t)rk->retired,
		    "publish_until", (json_int_t)rk->publish_until,
		    "successor", rk->successor)) != 0) {
			json_decref(arr);
			return TG_ERR_NOMEM;
		}
	}
	root = json_pack("{s:i,s:o}", "version", RETIRED_VERSION, "retired",
	    arr);
	if (root == NULL || (doc = json_dumps(root, JSON_SORT_KEYS |
	    JSON_INDENT(1))) == NULL) {
		json_decref(root);
		return TG_ERR_NOMEM;
	}
	r = sealio_replace_private(dirfd, SIGNKEY_RETIRED_FILE,
	    (const uint8_t *)doc, strlen(doc));
	free(doc);
	json_decref(root);
	return r;
}

/* The newest record retiring kid, or NULL. */
static const struct signkey_retired *
retired_find(const struct signkey_ring *ring, const char *kid)
{
	size_t i;

	for (i = ring->nretired; i > 0; i--)
		if (strcmp(jwk_kid(ring->retired[i - 1].pub), kid) == 0)
			return &ring->retired[i - 1];
	return NULL;
}

/*
 * Make the standby key the active one on disk: the old blob is linked
 * aside first (so there is always one active file), the standby renamed
 * over it, then the old blob destroyed.
 */
static int
promote_files(int dirfd)
{
	int r;

	if ((r = sealio_destroy(dirfd, SIGNKEY_RETIRING_FILE)) != 0)
		return r;
	if (linkat(dirfd, SIGNKEY_FILE, dirfd, SIGNKEY_RETIRING_FILE, 0) == -1)
		return TG_ERR_IO;
	if (renameat(dirfd, SIGNKEY_NEXT_FILE, dirfd, SIGNKEY_FILE) == -1) {
		(void)unlinkat(dirfd, SIGNKEY_RETIRING_FILE, 0);
		return TG_ERR_IO;
	}
	if (fsync(dirfd) == -1)
		return TG_ERR_IO;
	/* committed: a failure to wipe the old blob is left for next start */
	(void)sealio_destroy(dirfd, SIGNKEY_RETIRING_FILE);
	return 0;
}

/* Swap in memory: the standby key signs, the old private key is wiped. */
static void
promote_memory(struct signkey_ring *ring)
{
	jwk_free(&ring->active);
	ring->active = ring->standby;
	ring->standby = NULL;
}

int
signkey_ring_open(struct seal *s, const char *state_dir, enum jwk_alg alg,
    struct signkey_ring **ringp, struct signkey_report *report)
{
	struct signkey_ring *ring = NULL;
	struct signkey_report rep;
	const struct signkey_retired *rk;
	int dirfd = -1, r;

	if (s == NULL || state_dir == NULL || ringp == NULL ||
	    jwk_alg_name(alg) == NULL)
		return TG_ERR_INVALID;
	memset(&rep, 0, sizeof(rep));
	if ((ring = calloc(1, sizeof(*ring))) == NULL)
		return TG_ERR_NOMEM;
	if ((r = sealio_open_dir(state_dir, &dirfd)) != 0)
		goto out;
	/* a crash after a rotation committed left the old blob behind */
	if ((r = sealio_destroy(dirfd, SIGNKEY_RETIRING_FILE)) != 0 ||
	    (r = load_or_create_file(s, dirfd, SIGNKEY_FILE, alg,
	    &ring->active, &rep.created)) != 0 ||
	    (r = retired_load(dirfd, ring)) != 0)
		goto out;
	if ((rk = retired_find(ring, jwk_kid(ring->active))) != NULL) {
		/* retired, not yet replaced: finish, never sign with it */
		r = load_file(s, dirfd, SIGNKEY_NEXT_FILE, alg, &ring->standby);
		if (r == 0 && strcmp(jwk_kid(ring->standby),
		    rk->successor) != 0)
			r = TG_ERR_CORRUPT;
		if (r == TG_ERR_NOT_FOUND)
			r = TG_ERR_CORRUPT;
		if (r != 0 || (r = promote_files(dirfd)) != 0)
			goto out;
		(void)snprintf(rep.old_kid, sizeof(rep.old_kid), "%s",
		    jwk_kid(ring->active));
		promote_memory(ring);
		rep.completed = 1;
	}
	r = load_or_create_file(s, dirfd, SIGNKEY_NEXT_FILE, alg,
	    &ring->standby, &rep.standby_created);
out:
	if (dirfd != -1)
		close(dirfd);
	if (r != 0) {
		signkey_ring_free(&ring);
		return r;
	}
	*ringp = ring;
	if (report != NULL)
		*report = rep;
	return 0;
}

int
signkey_ring_jwks(const struct signkey_ring *ring, int64_t now,
    struct jwks **setp)
{
	struct jwks *set = NULL;
	size_t i;
	int r;

	if (ring == NULL || ring->active == NULL || setp == NULL)
		return TG_ERR_INVALID;
	if ((r = jwks_new(&set)) != 0 || (r = jwks_add(set,
	    ring->active)) != 0)
		goto fail;
	/* newest first: a kid retired twice (restored state) counts once */
	for (i = ring->nretired; i > 0; i--) {
		const struct signkey_retired *rk = &ring->retired[i - 1];
		const struct jwk *have;

		if (now != SIGNKEY_ALL && rk->publish_until <= now)
			continue;
		if (jwks_find(set, jwk_kid(rk->pub), &have) == 0)
			continue;
		if ((r = jwks_add(set, rk->pub)) != 0)
			goto fail;
	}
	*setp = set;
	return 0;
fail:
	jwks_free(&set);
	return r;
}

int
signkey_standby_create(struct seal *s, const char *state_dir,
    struct signkey_ring *ring)
{
	int dirfd = -1, created, r;

	if (s == NULL || state_dir == NULL || ring == NULL ||
	    ring->active == NULL)
		return TG_ERR_INVALID;
	if (ring->standby != NULL)
		return 0;
	if ((r = sealio_open_dir(state_dir, &dirfd)) != 0)
		return r;
	r = load_or_create_file(s, dirfd, SIGNKEY_NEXT_FILE,
	    jwk_alg(ring->active), &ring->standby, &created);
	close(dirfd);
	return r;
}

int
signkey_retire(const char *state_dir, struct signkey_ring *ring,
    int64_t now, int64_t publish_until)
{
	struct signkey_retired *rk;
	int dirfd = -1, r;

	if (state_dir == NULL || ring == NULL || ring->active == NULL)
		return TG_ERR_INVALID;
	if (ring->standby == NULL)
		return TG_ERR_NOT_FOUND;
	if (ring->nretired == SIGNKEY_RETIRED_MAX)
		return TG_ERR_TOO_LONG;
	rk = &ring->retired[ring->nretired];
	memset(rk, 0, sizeof(*rk));
	if ((r = jwk_public(ring->active, &rk->pub)) != 0)
		return r;
	rk->retired = now;
	rk->publish_until = publish_until;
	(void)snprintf(rk->successor, sizeof(rk->successor), "%s",
	    jwk_kid(ring->standby));
	if ((r = sealio_open_dir(state_dir, &dirfd)) == 0) {
		r = retired_write(dirfd, ring, ring->nretired + 1);
		close(dirfd);
	}
	if (r != 0) {
		retired_clear(rk);
		return r;
	}
	ring->nretired++;
	return 0;
}

int
signkey_retire_undo(const char *state_dir, struct signkey_ring *ring)
{
	int dirfd = -1, r;

	if (state_dir == NULL || ring == NULL || ring->nretired == 0 ||
	    ring->active == NULL || strcmp(jwk_kid(ring->active),
	    jwk_kid(ring->retired[ring->nretired - 1].pub)) != 0)
		return TG_ERR_INVALID;
	if ((r = sealio_open_dir(state_dir, &dirfd)) != 0)
		return r;
	r = retired_write(dirfd, ring, ring->nretired - 1);
	close(dirfd);
	if (r == 0)
		retired_clear(&ring->retired[--ring->nretired]);
	return r;
}

int
signkey_promote(const char *state_dir, struct signkey_ring *ring)
{
	const struct signkey_retired *rk;
	int dirfd = -1, r;

	if (state_dir == NULL || ring == NULL || ring->active == NULL ||
	    ring->standby == NULL || ring->nretired == 0)
		return TG_ERR_INVALID;
	rk = &ring->retired[ring->nretired - 1];
	if (strcmp(jwk_kid(rk->pub), jwk_kid(ring->active)) != 0 ||
	    strcmp(rk->successor, jwk_kid(ring->standby)) != 0)
		return TG_ERR_INVALID;	/* step 1 first */
	if ((r = sealio_open_dir(state_dir, &dirfd)) != 0)
		return r;
	r = promote_files(dirfd);
	close(dirfd);
	if (r == 0)
		promote_memory(ring);
	return r;
}

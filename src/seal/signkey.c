/* SPDX-License-Identifier: ISC */
/*
 * The co-signing key at rest (signkey.h): unsealed from the state
 * directory, or made, sealed and stored on the appliance's first start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/errors.h"
#include "seal/seal_int.h"
#include "seal/signkey.h"

#define SIGNKEY_FORMAT	1
#define SIGNKEY_PLAIN_LEN (2 + JWK_PRIVATE_LEN)

static int
load(struct seal *s, int dirfd, enum jwk_alg alg, struct jwk **keyp)
{
	uint8_t plain[SIGNKEY_PLAIN_LEN + 1], *blob;
	size_t len, plen = 0;
	int r;

	if ((blob = malloc(SEAL_PRIVATE_FILE_MAX)) == NULL)
		return TG_ERR_NOMEM;
	if ((r = sealio_read_private(dirfd, SIGNKEY_FILE, blob,
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

/* A new key for alg, sealed into a new SIGNKEY_FILE; its kid in kid. */
static int
create(struct seal *s, int dirfd, enum jwk_alg alg,
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
	r = sealio_create_private(dirfd, SIGNKEY_FILE, blob, bloblen);
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	free(blob);
	jwk_free(&key);
	return r;
}

int
signkey_load_or_create(struct seal *s, const char *state_dir,
    enum jwk_alg alg, struct jwk **keyp, int *createdp)
{
	char kid[JWK_KID_LEN + 1];
	struct jwk *key = NULL;
	int dirfd = -1, created = 0, r;

	if (s == NULL || state_dir == NULL || keyp == NULL ||
	    jwk_alg_name(alg) == NULL)
		return TG_ERR_INVALID;
	if ((r = sealio_open_dir(state_dir, &dirfd)) != 0)
		return r;
	r = load(s, dirfd, alg, &key);
	if (r == TG_ERR_NOT_FOUND) {
		r = create(s, dirfd, alg, kid);
		created = r == 0;
		/*
		 * Load what is on disk now: it proves the stored blob
		 * unseals before anyone publishes its kid, and when another
		 * process created the file first (TG_ERR_EXISTS), its key
		 * is the appliance's key.
		 */
		if (r == 0 || r == TG_ERR_EXISTS)
			r = load(s, dirfd, alg, &key);
		if (r == 0 && created && strcmp(jwk_kid(key), kid) != 0)
			r = TG_ERR_INTERNAL;
	}
	close(dirfd);
	if (r != 0) {
		jwk_free(&key);
		return r;
	}
	*keyp = key;
	if (createdp != NULL)
		*createdp = created;
	return 0;
}

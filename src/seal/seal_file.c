/* SPDX-License-Identifier: ISC */
/*
 * The file seal's key: SEAL_FILE_KEY_LEN random bytes in a private file,
 * made on first use.  Read straight into the seal object, never through
 * stdio buffers, and wiped when the seal is freed.
 */
#include <fcntl.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/errors.h"
#include "seal/seal_int.h"

static int
read_key(const char *path, struct seal *s)
{
	/* One byte more than a key: a longer file is refused, not cut. */
	uint8_t buf[SEAL_FILE_KEY_LEN + 1];
	size_t len;
	int r;

	r = sealio_read_private(AT_FDCWD, path, buf, sizeof(buf), &len);
	if (r == TG_ERR_TOO_LONG)
		r = TG_ERR_INVALID;
	if (r == 0 && len != SEAL_FILE_KEY_LEN)
		r = TG_ERR_INVALID;
	if (r == 0)
		memcpy(s->filekey, buf, SEAL_FILE_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

int
seal_file_open(const char *path, struct seal *s)
{
	uint8_t key[SEAL_FILE_KEY_LEN];
	int r;

	if ((r = read_key(path, s)) != TG_ERR_NOT_FOUND)
		return r;
	if (RAND_bytes(key, sizeof(key)) != 1)
		return TG_ERR_INTERNAL;
	r = sealio_create_private(AT_FDCWD, path, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	/* Created just now, by us or by a concurrent first start: read it. */
	if (r == 0 || r == TG_ERR_EXISTS)
		r = read_key(path, s);
	return r;
}

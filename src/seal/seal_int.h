/* SPDX-License-Identifier: ISC */
/*
 * Private to src/seal: the seal object, the per-kind operations, and the
 * private-file helpers the file seal and signkey share.
 */
#ifndef TAPGATE_SEAL_INT_H
#define TAPGATE_SEAL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "seal/seal.h"

#define SEAL_MAGIC	"TGSEAL"
#define SEAL_MAGIC_LEN	6
#define SEAL_VERSION	1
#define SEAL_KEYID_LEN	8
#define SEAL_SALT_LEN	32
#define SEAL_NONCE_LEN	12
#define SEAL_TAG_LEN	16
#define SEAL_KEK_LEN	32	/* AES-256 */
#define SEAL_YK_RESP_LEN 64	/* libykpers' response buffer */
#define SEAL_YK_HMAC_LEN 20	/* the HMAC-SHA1 at its start */
#define SEAL_HKDF_INFO	"tapgate seal v1"
#define SEAL_KEYID_INFO	"tapgate seal key id v1"

/* The largest kind part (yubikey) and so the largest blob. */
#define SEAL_KIND_PART_MAX (4 + SEAL_YK_CHAL_LEN)
#define SEAL_HEAD_MAX	(SEAL_MAGIC_LEN + 2 + SEAL_KIND_PART_MAX + \
			    SEAL_NONCE_LEN + 4)
#define SEAL_BLOB_MAX	(SEAL_HEAD_MAX + SEAL_SECRET_MAX + SEAL_TAG_LEN)

/* A private file is never larger than this (key file, sealed key). */
#define SEAL_PRIVATE_FILE_MAX SEAL_BLOB_MAX

struct yk_key_st;

struct seal {
	enum seal_kind	 kind;
	/* SEAL_FILE */
	uint8_t		 filekey[SEAL_FILE_KEY_LEN];
	uint8_t		 keyid[SEAL_KEYID_LEN];
	/* SEAL_YUBIKEY */
	struct yk_key_st *yk;
	uint32_t	 serial;
	char		 errmsg[256];
};

/* seal.c */
int	seal_hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
	    size_t saltlen, const char *info, const char *label,
	    uint8_t *out, size_t outlen);
void	seal_seterr(struct seal *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* seal_file.c: the file seal's key */
int	seal_file_open(const char *path, struct seal *s);

/* seal_yubikey.c */
int	seal_yk_open(const char *param, struct seal *s);
/*
 * Ask the open YubiKey for HMAC-SHA1(slot 2 secret, chal): the 20-byte
 * answer into hmac (wiped by the caller).
 */
int	seal_yk_respond(struct seal *s, const uint8_t chal[SEAL_YK_CHAL_LEN],
	    uint8_t hmac[SEAL_YK_HMAC_LEN]);
void	seal_yk_close(struct seal *s);

/* sealio.c: files that hold secrets (even sealed ones) */

/*
 * Open directory dir, which must be ours and not writable by group or
 * others (TG_ERR_PERM), into *dirfdp.
 */
int	sealio_open_dir(const char *dir, int *dirfdp);

/*
 * Read name (relative to dirfd, or a path when dirfd is AT_FDCWD) into
 * buf[0..cap) and its length into *lenp: a regular file owned by the
 * effective uid with no group or other permission bits, not a symlink
 * (TG_ERR_PERM), at most cap bytes (TG_ERR_TOO_LONG).  TG_ERR_NOT_FOUND
 * when it does not exist.  On failure buf is wiped.
 */
int	sealio_read_private(int dirfd, const char *name, uint8_t *buf,
	    size_t cap, size_t *lenp);

/*
 * Create name (relative to dirfd, or a path when dirfd is AT_FDCWD) with
 * data[0..len), mode 0600, atomically and durably: a temporary file in the
 * same directory, written and fsync()ed, linked to name (which never
 * replaces an existing file: TG_ERR_EXISTS), the temporary name removed,
 * the directory fsync()ed.
 */
int	sealio_create_private(int dirfd, const char *name, const uint8_t *data,
	    size_t len);

/*
 * Replace name (relative to dirfd) with data[0..len), mode 0600,
 * atomically and durably: a temporary file written and fsync()ed, then
 * rename(2)d over name, then the directory fsync()ed.  A crash leaves
 * either the old file or the new one.  For files that are meant to
 * change (the retired keys' list), never for a sealed key.
 */
int	sealio_replace_private(int dirfd, const char *name, const uint8_t *data,
	    size_t len);

/*
 * Overwrite name (relative to dirfd; a regular file of ours) with zeros,
 * fsync() it, remove it and fsync() the directory.  0 also when it does
 * not exist.  The best a file system offers for destroying a blob.
 */
int	sealio_destroy(int dirfd, const char *name);

#endif /* TAPGATE_SEAL_INT_H */

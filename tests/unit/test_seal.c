/* SPDX-License-Identifier: ISC */
/*
 * Seals and the co-signing key at rest, on real files in fresh private
 * directories.  The YubiKey seal runs on tests/stub/ykpers_stub.c, a
 * software HMAC-SHA1 challenge-response key below the libykpers API,
 * described by TAPGATE_YKSTUB_* environment variables.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "common/errors.h"
#include "order/jwk.h"
#include "seal/seal.h"
#include "seal/signkey.h"
#include "tap.h"

#define SECRET_A	"00112233445566778899aabbccddeeff00112233"
#define SECRET_B	"ffeeddccbbaa99887766554433221100ffeeddcc"
#define SERIAL_A	"12345678"
#define SERIAL_B	"87654321"

/* Offsets of the documented blob format (seal.h). */
#define OFF_KIND_PART	8
#define FILE_HEAD	(OFF_KIND_PART + 8 + 32 + 12 + 4)
#define YK_HEAD		(OFF_KIND_PART + 4 + 63 + 12 + 4)

static char tmpdir[1024];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
tmp_remove(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

/* A fresh private directory, like mktemp -d. */
static const char *
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();	/* what a failed test left */
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-seal.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return tmpdir;
}

/* tmpdir/name into buf. */
static const char *
tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
	return buf;
}

/* The whole file into a new buffer; -1 when it cannot be read. */
static int
slurp(const char *path, uint8_t **bufp, size_t *lenp)
{
	FILE *f;
	uint8_t *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*bufp = buf;
	*lenp = (size_t)n;
	return 0;
}

static int
spit(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1)
		return -1;
	if (fchmod(fd, mode) == -1 ||
	    write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Entries of tmpdir but . and .. */
static int
count_entries(void)
{
	struct dirent *e;
	DIR *d;
	int n = 0;

	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
contains(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen) != NULL;
}

/*
 * The YubiKey seals of the running test: one per process at a time, so
 * stub_reset() frees what a failed test left open, lest one failure
 * cascade into the next tests.
 */
static struct seal *ys, *ys2;

/* The stub key: present, secret A, serial A, no touch needed. */
static void
stub_reset(void)
{
	seal_free(&ys);
	seal_free(&ys2);
	unsetenv("TAPGATE_YKSTUB_ABSENT");
	unsetenv("TAPGATE_YKSTUB_NOACCESS");
	unsetenv("TAPGATE_YKSTUB_NOTOUCH");
	unsetenv("TAPGATE_YKSTUB_VERSION");
	setenv("TAPGATE_YKSTUB_SECRET", SECRET_A, 1);
	setenv("TAPGATE_YKSTUB_SERIAL", SERIAL_A, 1);
}

/* A file seal with its key file in tmpdir. */
static int
file_seal(const char *name, struct seal **sp)
{
	char path[1200];

	return seal_open(SEAL_FILE, tmp_path(path, sizeof(path), name), sp);
}

/*
 * Open a blob the way seal.h documents it, with nothing of src/seal:
 * HKDF-SHA256(ikm, salt, "tapgate seal v1" || label), AES-256-GCM with
 * the bytes before the ciphertext, then the label, as additional data.
 */
static int
open_by_the_book(const uint8_t *blob, size_t len, size_t head,
    const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
    const char *label, uint8_t *out)
{
	uint8_t info[128], kek[32], tag[16];
	EVP_PKEY_CTX *kctx;
	EVP_CIPHER_CTX *c;
	size_t klen = sizeof(kek), ctlen = len - head - 16;
	int n, ok;

	n = snprintf((char *)info, sizeof(info), "tapgate seal v1%s", label);
	kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	ok = kctx != NULL && EVP_PKEY_derive_init(kctx) > 0 &&
	    EVP_PKEY_CTX_set_hkdf_md(kctx, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_key(kctx, ikm, (int)ikmlen) > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(kctx, salt, (int)saltlen) > 0 &&
	    EVP_PKEY_CTX_add1_hkdf_info(kctx, info, n) > 0 &&
	    EVP_PKEY_derive(kctx, kek, &klen) > 0;
	EVP_PKEY_CTX_free(kctx);
	if (!ok)
		return -1;
	memcpy(tag, blob + len - 16, 16);
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL &&
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, kek,
	    blob + head - 16) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &n, blob, (int)head) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)label,
	    (int)strlen(label)) == 1 &&
	    EVP_DecryptUpdate(c, out, &n, blob + head, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptFinal_ex(c, out + n, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? (int)ctlen : -1;
}

static const uint8_t msg[] = "the co-signing key, or any secret";

/* ---- the file seal */

static void
file_seal_round_trip(void)
{
	struct seal *s = NULL;
	uint8_t *blob = NULL, out[64];
	size_t len, outlen = 0;
	char path[1200];
	struct stat sb;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_kind(s), SEAL_FILE);
	CHECK_EQ(stat(tmp_path(path, sizeof(path), "seal.key"), &sb), 0);
	CHECK_EQ(sb.st_mode & 07777, 0600);
	CHECK_EQ(sb.st_size, SEAL_FILE_KEY_LEN);
	CHECK_EQ(seal_seal(s, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	CHECK_EQ(len, FILE_HEAD + sizeof(msg) + 16);
	CHECK(memcmp(blob, "TGSEAL\x01\x01", 8) == 0);
	CHECK(!contains(blob, len, msg, sizeof(msg)));
	CHECK_EQ(seal_unseal(s, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), 0);
	CHECK_EQ(outlen, sizeof(msg));
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	free(blob);
	seal_free(&s);
	CHECK(s == NULL);
	seal_free(&s);
	seal_free(NULL);

	/* The same key file again (a restart) opens the same blobs. */
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_seal(s, "x", msg, sizeof(msg), &blob, &len), 0);
	seal_free(&s);
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_unseal(s, "x", blob, len, out, sizeof(out), &outlen), 0);
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	free(blob);
	seal_free(&s);
	tmp_remove();
}

static void
file_seal_blob_opens_by_its_documentation(void)
{
	struct seal *s = NULL;
	uint8_t *blob = NULL, *key = NULL, out[64];
	size_t len, klen;
	char path[1200];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_seal(s, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	CHECK_EQ(slurp(tmp_path(path, sizeof(path), "seal.key"), &key, &klen),
	    0);
	CHECK_EQ(open_by_the_book(blob, len, FILE_HEAD, key, klen,
	    blob + OFF_KIND_PART + 8, 32, "cosign-key", out),
	    (int)sizeof(msg));
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	free(key);
	free(blob);
	seal_free(&s);
	tmp_remove();
}

static void
unseal_under_another_label_fails(void)
{
	struct seal *s = NULL;
	uint8_t *blob = NULL, out[64];
	size_t len, outlen = 7;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_seal(s, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	memset(out, 0, sizeof(out));
	CHECK_EQ(seal_unseal(s, "cosign-kez", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_UNSEAL);
	CHECK_EQ(seal_unseal(s, "cosign-key-2", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_UNSEAL);
	CHECK(strstr(seal_errmsg(s), "label") != NULL);
	CHECK_EQ(outlen, 7);
	CHECK(!contains(out, sizeof(out), msg, 8));
	free(blob);
	seal_free(&s);
	tmp_remove();
}

static void
unseal_refuses_every_flipped_bit(void)
{
	struct seal *s = NULL;
	uint8_t *blob = NULL, out[64];
	size_t len, i, outlen = 7;
	int bit;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_seal(s, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			blob[i] ^= (uint8_t)(1u << bit);
			memset(out, 0, sizeof(out));
			if (seal_unseal(s, "cosign-key", blob, len, out,
			    sizeof(out), &outlen) >= 0) {
				printf("#   byte %zu bit %d accepted\n", i,
				    bit);
				CHECK(0);
			}
			CHECK(!contains(out, sizeof(out), msg, 8));
			blob[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK_EQ(outlen, 7);
	/* the payload's bytes are the tag's business, the rest the parser's */
	blob[FILE_HEAD] ^= 1;
	CHECK_EQ(seal_unseal(s, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_UNSEAL);
	blob[FILE_HEAD] ^= 1;
	blob[0] ^= 1;
	CHECK_EQ(seal_unseal(s, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_INVALID);
	blob[0] ^= 1;
	blob[6] = 2;	/* a version from the future */
	CHECK_EQ(seal_unseal(s, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_UNSUPPORTED);
	blob[6] = 1;
	CHECK_EQ(seal_unseal(s, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), 0);
	free(blob);
	seal_free(&s);
	tmp_remove();
}

static void
unseal_refuses_truncated_and_extended_blobs(void)
{
	struct seal *s = NULL;
	uint8_t *blob = NULL, *big = NULL, out[64];
	size_t len, n, outlen = 7;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_seal(s, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	for (n = 0; n < len; n++)
		CHECK(seal_unseal(s, "cosign-key", blob, n, out, sizeof(out),
		    &outlen) < 0);
	CHECK((big = malloc(len + 1)) != NULL);
	memcpy(big, blob, len);
	big[len] = 0;
	CHECK_EQ(seal_unseal(s, "cosign-key", big, len + 1, out, sizeof(out),
	    &outlen), TG_ERR_INVALID);
	CHECK_EQ(outlen, 7);
	/* no room for the secret: refused before anything is written */
	CHECK_EQ(seal_unseal(s, "cosign-key", blob, len, out, sizeof(msg) - 1,
	    &outlen), TG_ERR_TOO_LONG);
	free(big);
	free(blob);
	seal_free(&s);
	tmp_remove();
}

static void
unseal_with_another_key_file_fails(void)
{
	struct seal *s1 = NULL, *s2 = NULL;
	uint8_t *b1 = NULL, *b2 = NULL, out[64];
	size_t l1, l2, outlen;

	tmp_make();
	CHECK_EQ(file_seal("one.key", &s1), 0);
	CHECK_EQ(file_seal("two.key", &s2), 0);
	CHECK_EQ(seal_seal(s1, "cosign-key", msg, sizeof(msg), &b1, &l1), 0);
	CHECK_EQ(seal_seal(s2, "cosign-key", msg, sizeof(msg), &b2, &l2), 0);
	CHECK_EQ(seal_unseal(s2, "cosign-key", b1, l1, out, sizeof(out),
	    &outlen), TG_ERR_SEAL_KEY);
	CHECK(strstr(seal_errmsg(s2), "another seal key file") != NULL);
	/* With the key id forged to match, the tag still refuses it. */
	memcpy(b1 + OFF_KIND_PART, b2 + OFF_KIND_PART, 8);
	CHECK_EQ(seal_unseal(s2, "cosign-key", b1, l1, out, sizeof(out),
	    &outlen), TG_ERR_UNSEAL);
	free(b1);
	free(b2);
	seal_free(&s1);
	seal_free(&s2);
	tmp_remove();
}

static void
key_file_open_to_group_or_others_is_refused(void)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602, 0610,
	    0601 };
	struct seal *s = NULL;
	char path[1200];
	size_t i;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	seal_free(&s);
	tmp_path(path, sizeof(path), "seal.key");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		CHECK_EQ(chmod(path, modes[i]), 0);
		CHECK_EQ(file_seal("seal.key", &s), TG_ERR_PERM);
		CHECK(s == NULL);
	}
	CHECK_EQ(chmod(path, 0400), 0);
	CHECK_EQ(file_seal("seal.key", &s), 0);
	seal_free(&s);
	tmp_remove();
}

static void
key_file_must_be_a_regular_file_of_32_bytes(void)
{
	struct seal *s = NULL;
	char path[1200], link[1200];
	uint8_t k[33] = { 0 };

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	seal_free(&s);
	/* a symlink to a good key file */
	CHECK_EQ(symlink(tmp_path(path, sizeof(path), "seal.key"),
	    tmp_path(link, sizeof(link), "link.key")), 0);
	CHECK_EQ(file_seal("link.key", &s), TG_ERR_PERM);
	/* a directory, a FIFO */
	CHECK_EQ(mkdir(tmp_path(path, sizeof(path), "dir.key"), 0700), 0);
	CHECK_EQ(file_seal("dir.key", &s), TG_ERR_PERM);
	CHECK_EQ(mkfifo(tmp_path(path, sizeof(path), "fifo.key"), 0600), 0);
	CHECK_EQ(file_seal("fifo.key", &s), TG_ERR_PERM);
	/* too short, too long, empty */
	CHECK_EQ(spit(tmp_path(path, sizeof(path), "short.key"), k, 31, 0600),
	    0);
	CHECK_EQ(file_seal("short.key", &s), TG_ERR_INVALID);
	CHECK_EQ(spit(tmp_path(path, sizeof(path), "long.key"), k, 33, 0600),
	    0);
	CHECK_EQ(file_seal("long.key", &s), TG_ERR_INVALID);
	CHECK_EQ(spit(tmp_path(path, sizeof(path), "empty.key"), k, 0, 0600),
	    0);
	CHECK_EQ(file_seal("empty.key", &s), TG_ERR_INVALID);
	CHECK(s == NULL);
	/* a missing directory */
	CHECK_EQ(file_seal("nodir/seal.key", &s), TG_ERR_NOT_FOUND);
	CHECK_EQ(seal_open(SEAL_FILE, NULL, &s), TG_ERR_INVALID);
	CHECK_EQ(seal_open(SEAL_FILE, "", &s), TG_ERR_INVALID);
	tmp_remove();
}

static void
seal_refuses_bad_labels_and_sizes(void)
{
	static uint8_t big[SEAL_SECRET_MAX + 1];
	struct seal *s = NULL;
	uint8_t *blob = NULL;
	size_t len;
	char label[SEAL_LABEL_MAX + 2];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(seal_seal(s, "", msg, sizeof(msg), &blob, &len),
	    TG_ERR_INVALID);
	CHECK_EQ(seal_seal(s, NULL, msg, sizeof(msg), &blob, &len),
	    TG_ERR_INVALID);
	CHECK_EQ(seal_seal(s, "a b", msg, sizeof(msg), &blob, &len),
	    TG_ERR_INVALID);
	CHECK_EQ(seal_seal(s, "a/b", msg, sizeof(msg), &blob, &len),
	    TG_ERR_INVALID);
	memset(label, 'a', sizeof(label));
	label[SEAL_LABEL_MAX + 1] = '\0';
	CHECK_EQ(seal_seal(s, label, msg, sizeof(msg), &blob, &len),
	    TG_ERR_INVALID);
	label[SEAL_LABEL_MAX] = '\0';
	CHECK_EQ(seal_seal(s, label, msg, sizeof(msg), &blob, &len), 0);
	free(blob);
	blob = NULL;
	CHECK_EQ(seal_seal(s, "x", msg, 0, &blob, &len), TG_ERR_INVALID);
	CHECK_EQ(seal_seal(s, "x", big, sizeof(big), &blob, &len),
	    TG_ERR_TOO_LONG);
	CHECK_EQ(seal_seal(s, "x", big, SEAL_SECRET_MAX, &blob, &len), 0);
	free(blob);
	CHECK(blob != NULL);
	seal_free(&s);
	tmp_remove();
}

static void
seal_kind_names_parse(void)
{
	enum seal_kind k;

	CHECK_EQ(seal_kind_parse("file", &k), 0);
	CHECK_EQ(k, SEAL_FILE);
	CHECK_EQ(seal_kind_parse("yubikey", &k), 0);
	CHECK_EQ(k, SEAL_YUBIKEY);
	CHECK_EQ(seal_kind_parse("YubiKey", &k), TG_ERR_INVALID);
	CHECK_EQ(seal_kind_parse("tpm", &k), TG_ERR_INVALID);
	CHECK_EQ(seal_kind_parse("", &k), TG_ERR_INVALID);
	CHECK(strcmp(seal_kind_name(SEAL_YUBIKEY), "yubikey") == 0);
	CHECK(seal_kind_name((enum seal_kind)7) == NULL);
}

/* ---- the co-signing key at rest */

static void
signkey_is_created_once_then_reloaded(void)
{
	static const enum jwk_alg algs[] = { JWK_ALG_EDDSA, JWK_ALG_ES256 };
	struct seal *s = NULL;
	struct jwk *k1 = NULL, *k2 = NULL;
	char path[1200], kid[JWK_KID_LEN + 1];
	uint8_t sig[JWK_SIG_LEN];
	struct stat sb;
	size_t i;
	int created = -1;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		tmp_make();
		CHECK_EQ(file_seal("seal.key", &s), 0);
		CHECK_EQ(signkey_load_or_create(s, tmpdir, algs[i], &k1,
		    &created), 0);
		CHECK_EQ(created, 1);
		CHECK_EQ(jwk_alg(k1), algs[i]);
		CHECK(jwk_has_private(k1));
		CHECK_EQ(stat(tmp_path(path, sizeof(path), SIGNKEY_FILE), &sb),
		    0);
		CHECK(S_ISREG(sb.st_mode));
		CHECK_EQ(sb.st_mode & 07777, 0600);
		snprintf(kid, sizeof(kid), "%s", jwk_kid(k1));
		jwk_free(&k1);
		/* a restart: a new seal object over the same key file */
		seal_free(&s);
		CHECK_EQ(file_seal("seal.key", &s), 0);
		CHECK_EQ(signkey_load_or_create(s, tmpdir, algs[i], &k2,
		    &created), 0);
		CHECK_EQ(created, 0);
		CHECK(strcmp(jwk_kid(k2), kid) == 0);
		CHECK_EQ(jwk_sign(k2, msg, sizeof(msg), sig), 0);
		CHECK_EQ(jwk_verify(k2, msg, sizeof(msg), sig, sizeof(sig)), 0);
		jwk_free(&k2);
		CHECK_EQ(signkey_load_or_create(s, tmpdir, algs[i], &k2,
		    NULL), 0);
		CHECK(strcmp(jwk_kid(k2), kid) == 0);
		jwk_free(&k2);
		seal_free(&s);
		tmp_remove();
	}
}

/* ---- rotation: standby, retired list, promotion, crash recovery */

static int
set_has(const struct jwks *set, const char *kid)
{
	const struct jwk *k;

	return jwks_find(set, kid, &k) == 0;
}

static void
signkey_rotation_keeps_one_active_key_and_the_old_public_half(void)
{
	struct seal *s = NULL;
	struct signkey_ring *ring = NULL;
	struct signkey_report rep;
	struct jwks *set = NULL;
	char k1[JWK_KID_LEN + 1], k2[JWK_KID_LEN + 1], path[1200];
	uint8_t *doc = NULL;
	size_t len;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_EDDSA, &ring, &rep), 0);
	CHECK(rep.created && rep.standby_created && !rep.completed);
	CHECK(ring->standby != NULL && ring->nretired == 0);
	snprintf(k1, sizeof(k1), "%s", jwk_kid(ring->active));
	snprintf(k2, sizeof(k2), "%s", jwk_kid(ring->standby));
	CHECK(strcmp(k1, k2) != 0);
	CHECK_EQ(signkey_ring_jwks(ring, 100, &set), 0);
	CHECK_EQ(jwks_count(set), 1);	/* never the standby */
	jwks_free(&set);
	/* promotion before the retirement is recorded is refused */
	CHECK_EQ(signkey_promote(tmpdir, ring), TG_ERR_INVALID);
	CHECK_EQ(signkey_retire(tmpdir, ring, 100, 200), 0);
	CHECK_EQ(signkey_promote(tmpdir, ring), 0);
	CHECK(strcmp(jwk_kid(ring->active), k2) == 0);
	CHECK(ring->standby == NULL);
	CHECK_EQ(access(tmp_path(path, sizeof(path), SIGNKEY_RETIRING_FILE),
	    F_OK), -1);
	CHECK_EQ(access(tmp_path(path, sizeof(path), SIGNKEY_NEXT_FILE),
	    F_OK), -1);
	/* published until its last order expires, then only for audit */
	CHECK_EQ(signkey_ring_jwks(ring, 199, &set), 0);
	CHECK(set_has(set, k1) && set_has(set, k2));
	jwks_free(&set);
	CHECK_EQ(signkey_ring_jwks(ring, 200, &set), 0);
	CHECK(!set_has(set, k1) && set_has(set, k2));
	jwks_free(&set);
	CHECK_EQ(signkey_ring_jwks(ring, SIGNKEY_ALL, &set), 0);
	CHECK(set_has(set, k1) && set_has(set, k2));
	jwks_free(&set);
	/* only the public half of the old key is kept */
	CHECK_EQ(slurp(tmp_path(path, sizeof(path), SIGNKEY_RETIRED_FILE),
	    &doc, &len), 0);
	CHECK(!contains(doc, len, (const uint8_t *)"\"d\"", 3));
	free(doc);
	signkey_ring_free(&ring);
	/* a restart: the new key is active, a new standby is sealed */
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_EDDSA, &ring, &rep), 0);
	CHECK(!rep.created && rep.standby_created && !rep.completed);
	CHECK(strcmp(jwk_kid(ring->active), k2) == 0);
	CHECK_EQ(ring->nretired, 1);
	CHECK(strcmp(jwk_kid(ring->retired[0].pub), k1) == 0);
	CHECK(!jwk_has_private(ring->retired[0].pub));
	CHECK_EQ(ring->retired[0].publish_until, 200);
	signkey_ring_free(&ring);
	CHECK(ring == NULL);
	seal_free(&s);
	tmp_remove();
}

static void
signkey_interrupted_rotation_completes_at_start(void)
{
	struct seal *s = NULL;
	struct signkey_ring *ring = NULL;
	struct signkey_report rep;
	char k1[JWK_KID_LEN + 1], k2[JWK_KID_LEN + 1], path[1200];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_ES256, &ring, &rep), 0);
	snprintf(k1, sizeof(k1), "%s", jwk_kid(ring->active));
	snprintf(k2, sizeof(k2), "%s", jwk_kid(ring->standby));
	/* step 1 done, then the crash */
	CHECK_EQ(signkey_retire(tmpdir, ring, 100, 200), 0);
	signkey_ring_free(&ring);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_ES256, &ring, &rep), 0);
	CHECK(rep.completed && !rep.created);
	CHECK(strcmp(rep.old_kid, k1) == 0);
	CHECK(strcmp(jwk_kid(ring->active), k2) == 0);
	CHECK(ring->standby != NULL && rep.standby_created);
	signkey_ring_free(&ring);
	/* an active key recorded retired without its successor: refused */
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_ES256, &ring, &rep), 0);
	CHECK_EQ(signkey_retire(tmpdir, ring, 300, 400), 0);
	signkey_ring_free(&ring);
	CHECK_EQ(unlink(tmp_path(path, sizeof(path), SIGNKEY_NEXT_FILE)), 0);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_ES256, &ring, &rep),
	    TG_ERR_CORRUPT);
	CHECK(ring == NULL);
	/* and a retired list that does not parse is damage */
	CHECK_EQ(spit(tmp_path(path, sizeof(path),
	    SIGNKEY_RETIRED_FILE), (const uint8_t *)"{\"version\":1}", 13,
	    0600), 0);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_ES256, &ring, &rep),
	    TG_ERR_CORRUPT);
	seal_free(&s);
	tmp_remove();
}

static void
signkey_abandoned_retirement_is_undone(void)
{
	struct seal *s = NULL;
	struct signkey_ring *ring = NULL;
	struct signkey_report rep;
	char k1[JWK_KID_LEN + 1];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_EDDSA, &ring, &rep), 0);
	snprintf(k1, sizeof(k1), "%s", jwk_kid(ring->active));
	CHECK_EQ(signkey_retire(tmpdir, ring, 100, 200), 0);
	CHECK_EQ(signkey_retire_undo(tmpdir, ring), 0);
	CHECK_EQ(ring->nretired, 0);
	signkey_ring_free(&ring);
	CHECK_EQ(signkey_ring_open(s, tmpdir, JWK_ALG_EDDSA, &ring, &rep), 0);
	CHECK(!rep.completed);
	CHECK(strcmp(jwk_kid(ring->active), k1) == 0);
	signkey_ring_free(&ring);
	seal_free(&s);
	tmp_remove();
}

static void
signkey_file_never_holds_the_raw_private_key(void)
{
	struct seal *s = NULL;
	struct jwk *k = NULL;
	uint8_t raw[JWK_PRIVATE_LEN], *file = NULL, *kf = NULL;
	size_t len, klen;
	char path[1200];
	int created;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k,
	    &created), 0);
	CHECK_EQ(jwk_private_export(k, raw, sizeof(raw)), 0);
	CHECK_EQ(slurp(tmp_path(path, sizeof(path), SIGNKEY_FILE), &file,
	    &len), 0);
	CHECK(len > sizeof(raw));
	CHECK(!contains(file, len, raw, sizeof(raw)));
	/* not even a quarter of it, anywhere */
	CHECK(!contains(file, len, raw, 8));
	CHECK(!contains(file, len, raw + 8, 8));
	CHECK(!contains(file, len, raw + 16, 8));
	CHECK(!contains(file, len, raw + 24, 8));
	/* nor in the seal's key file, nor a stray temporary file */
	CHECK_EQ(slurp(tmp_path(path, sizeof(path), "seal.key"), &kf, &klen),
	    0);
	CHECK(!contains(kf, klen, raw, 8));
	CHECK_EQ(count_entries(), 2);
	explicit_bzero(raw, sizeof(raw));
	free(kf);
	free(file);
	jwk_free(&k);
	seal_free(&s);
	tmp_remove();
}

static void
signkey_of_another_algorithm_is_refused(void)
{
	struct seal *s = NULL;
	struct jwk *k = NULL;
	uint8_t *before = NULL, *after = NULL;
	size_t lb, la;
	char path[1200];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    0);
	jwk_free(&k);
	CHECK_EQ(slurp(tmp_path(path, sizeof(path), SIGNKEY_FILE), &before,
	    &lb), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_ES256, &k, NULL),
	    TG_ERR_ALG_MISMATCH);
	CHECK(k == NULL);
	/* and the key on disk is left alone */
	CHECK_EQ(slurp(path, &after, &la), 0);
	CHECK(lb == la && memcmp(before, after, lb) == 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    0);
	jwk_free(&k);
	free(before);
	free(after);
	seal_free(&s);
	tmp_remove();
}

static void
signkey_with_another_seal_fails_and_keeps_the_file(void)
{
	struct seal *s = NULL, *other = NULL;
	struct jwk *k = NULL;
	uint8_t *before = NULL, *after = NULL;
	size_t lb, la;
	char path[1200];
	int created = -1;

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(file_seal("other.key", &other), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    0);
	jwk_free(&k);
	CHECK_EQ(slurp(tmp_path(path, sizeof(path), SIGNKEY_FILE), &before,
	    &lb), 0);
	/* never a new key over one that does not unseal */
	CHECK_EQ(signkey_load_or_create(other, tmpdir, JWK_ALG_EDDSA, &k,
	    &created), TG_ERR_SEAL_KEY);
	CHECK(k == NULL);
	CHECK_EQ(created, -1);
	CHECK_EQ(slurp(path, &after, &la), 0);
	CHECK(lb == la && memcmp(before, after, lb) == 0);
	free(before);
	free(after);
	seal_free(&s);
	seal_free(&other);
	tmp_remove();
}

static void
signkey_refuses_a_blob_sealed_for_another_purpose(void)
{
	struct seal *s = NULL;
	struct jwk *k = NULL;
	uint8_t raw[2 + JWK_PRIVATE_LEN], *blob = NULL;
	size_t len;
	char path[1200];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &k), 0);
	raw[0] = 1;
	raw[1] = JWK_ALG_EDDSA;
	CHECK_EQ(jwk_private_export(k, raw + 2, JWK_PRIVATE_LEN), 0);
	jwk_free(&k);
	CHECK_EQ(seal_seal(s, "backup-key", raw, sizeof(raw), &blob, &len),
	    0);
	explicit_bzero(raw, sizeof(raw));
	CHECK_EQ(spit(tmp_path(path, sizeof(path), SIGNKEY_FILE), blob, len,
	    0600), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    TG_ERR_UNSEAL);
	CHECK(k == NULL);
	free(blob);
	seal_free(&s);
	tmp_remove();
}

static void
signkey_refuses_unsafe_files_and_directories(void)
{
	struct seal *s = NULL;
	struct jwk *k = NULL;
	char path[1200], sub[1200];

	tmp_make();
	CHECK_EQ(file_seal("seal.key", &s), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    0);
	jwk_free(&k);
	tmp_path(path, sizeof(path), SIGNKEY_FILE);
	CHECK_EQ(chmod(path, 0640), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    TG_ERR_PERM);
	CHECK_EQ(chmod(path, 0600), 0);
	/* a state directory others may write to */
	CHECK_EQ(chmod(tmpdir, 0777), 0);
	CHECK_EQ(signkey_load_or_create(s, tmpdir, JWK_ALG_EDDSA, &k, NULL),
	    TG_ERR_PERM);
	CHECK_EQ(chmod(tmpdir, 0700), 0);
	/* a symlink in the key's place */
	CHECK_EQ(mkdir(tmp_path(sub, sizeof(sub), "state"), 0700), 0);
	snprintf(sub, sizeof(sub), "%s/state/%s", tmpdir, SIGNKEY_FILE);
	CHECK_EQ(symlink(path, sub), 0);
	snprintf(sub, sizeof(sub), "%s/state", tmpdir);
	CHECK_EQ(signkey_load_or_create(s, sub, JWK_ALG_EDDSA, &k, NULL),
	    TG_ERR_PERM);
	/* a state directory that does not exist */
	snprintf(sub, sizeof(sub), "%s/none", tmpdir);
	CHECK_EQ(signkey_load_or_create(s, sub, JWK_ALG_EDDSA, &k, NULL),
	    TG_ERR_NOT_FOUND);
	CHECK(k == NULL);
	seal_free(&s);
	tmp_remove();
}

/* ---- the YubiKey seal, on the stub key */


static void
yubikey_seal_round_trip(void)
{
	uint8_t *blob = NULL, out[64];
	size_t len, outlen = 0;

	stub_reset();
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_kind(ys), SEAL_YUBIKEY);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	CHECK_EQ(len, YK_HEAD + sizeof(msg) + 16);
	CHECK(memcmp(blob, "TGSEAL\x01\x02", 8) == 0);
	/* the serial, big endian: 12345678 = 0x00bc614e */
	CHECK(memcmp(blob + OFF_KIND_PART, "\x00\xbc\x61\x4e", 4) == 0);
	CHECK(blob[OFF_KIND_PART + 4 + 62] != 0);
	CHECK_EQ(seal_unseal(ys, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), 0);
	CHECK_EQ(outlen, sizeof(msg));
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	seal_free(&ys);
	/* a restart, pinned to the key's serial this time */
	CHECK_EQ(seal_open(SEAL_YUBIKEY, SERIAL_A, &ys), 0);
	CHECK_EQ(seal_unseal(ys, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), 0);
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	CHECK_EQ(seal_unseal(ys, "other", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_UNSEAL);
	free(blob);
	seal_free(&ys);
}

static void
yubikey_blob_opens_by_its_documentation(void)
{
	uint8_t *blob = NULL, out[64], secret[20], hmac[20];
	const uint8_t *chal;
	unsigned int hlen = 0;
	size_t len, i;

	stub_reset();
	for (i = 0; i < 20; i++)
		secret[i] = (uint8_t)strtoul((char[]){ SECRET_A[2 * i],
		    SECRET_A[2 * i + 1], 0 }, NULL, 16);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	/* what a key programmed with -ohmac-lt64 computes: all 63 bytes */
	chal = blob + OFF_KIND_PART + 4;
	CHECK(HMAC(EVP_sha1(), secret, sizeof(secret), chal, 63, hmac,
	    &hlen) != NULL);
	CHECK_EQ(open_by_the_book(blob, len, YK_HEAD, hmac, sizeof(hmac),
	    chal, 63, "cosign-key", out), (int)sizeof(msg));
	CHECK(memcmp(out, msg, sizeof(msg)) == 0);
	free(blob);
	seal_free(&ys);
}

static void
unseal_with_another_yubikey_secret_fails(void)
{
	uint8_t *blob = NULL, out[64];
	size_t len, outlen = 7;

	stub_reset();
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	seal_free(&ys);
	/* same serial (slot 2 reprogrammed), another secret */
	setenv("TAPGATE_YKSTUB_SECRET", SECRET_B, 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_unseal(ys, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_UNSEAL);
	CHECK(strstr(seal_errmsg(ys), "YubiKey secret") != NULL);
	CHECK_EQ(outlen, 7);
	free(blob);
	seal_free(&ys);
	stub_reset();
}

static void
unseal_with_another_yubikey_serial_fails_naming_both(void)
{
	uint8_t *blob = NULL, out[64];
	size_t len, outlen;

	stub_reset();
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	seal_free(&ys);
	setenv("TAPGATE_YKSTUB_SERIAL", SERIAL_B, 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_unseal(ys, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), TG_ERR_YUBIKEY_SERIAL);
	printf("#   %s\n", seal_errmsg(ys));
	CHECK(strstr(seal_errmsg(ys), SERIAL_A) != NULL);
	CHECK(strstr(seal_errmsg(ys), SERIAL_B) != NULL);
	seal_free(&ys);
	/* pinned to a serial that is not there */
	CHECK_EQ(seal_open(SEAL_YUBIKEY, SERIAL_A, &ys), TG_ERR_YUBIKEY_SERIAL);
	CHECK(ys == NULL);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, "12a", &ys), TG_ERR_INVALID);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, "0", &ys), TG_ERR_INVALID);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, "4294967296", &ys), TG_ERR_INVALID);
	free(blob);
	stub_reset();
}

static void
no_yubikey_present_is_a_clear_error(void)
{

	stub_reset();
	setenv("TAPGATE_YKSTUB_ABSENT", "1", 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), TG_ERR_NO_YUBIKEY);
	CHECK(ys == NULL);
	CHECK(strcmp(tg_strerror(TG_ERR_NO_YUBIKEY), "no YubiKey present") ==
	    0);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, SERIAL_A, &ys), TG_ERR_NO_YUBIKEY);
	/* the failed opens released libykpers: the next one works */
	stub_reset();
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	seal_free(&ys);
}

static void
yubikey_setup_problems_are_named(void)
{
	uint8_t *blob = NULL;
	size_t len;

	stub_reset();
	setenv("TAPGATE_YKSTUB_NOACCESS", "1", 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), TG_ERR_YUBIKEY_ACCESS);
	stub_reset();
	unsetenv("TAPGATE_YKSTUB_SERIAL");
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), TG_ERR_YUBIKEY_SETUP);
	/* looking for a serial, a key that hides its own is passed over */
	CHECK_EQ(seal_open(SEAL_YUBIKEY, SERIAL_A, &ys),
	    TG_ERR_YUBIKEY_SERIAL);
	stub_reset();
	setenv("TAPGATE_YKSTUB_VERSION", "2.1.7", 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), TG_ERR_UNSUPPORTED);
	CHECK(ys == NULL);
	/* slot 2 not programmed: the key does not answer */
	stub_reset();
	unsetenv("TAPGATE_YKSTUB_SECRET");
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len),
	    TG_ERR_TIMEOUT);
	CHECK(strstr(seal_errmsg(ys), "slot 2") != NULL);
	/* one YubiKey seal at a time in a process */
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys2), TG_ERR_BUSY);
	seal_free(&ys);
	/* a touch that never comes */
	stub_reset();
	setenv("TAPGATE_YKSTUB_NOTOUCH", "1", 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len),
	    TG_ERR_TIMEOUT);
	CHECK(blob == NULL);
	seal_free(&ys);
	stub_reset();
}

static void
yubikey_unseal_refuses_every_flipped_bit(void)
{
	uint8_t *blob = NULL, out[64];
	size_t len, i, outlen = 7;
	int bit;

	stub_reset();
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &blob, &len), 0);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			blob[i] ^= (uint8_t)(1u << bit);
			memset(out, 0, sizeof(out));
			if (seal_unseal(ys, "cosign-key", blob, len, out,
			    sizeof(out), &outlen) >= 0) {
				printf("#   byte %zu bit %d accepted\n", i,
				    bit);
				CHECK(0);
			}
			CHECK(!contains(out, sizeof(out), msg, 8));
			blob[i] ^= (uint8_t)(1u << bit);
		}
	}
	CHECK_EQ(outlen, 7);
	for (i = 0; i < len; i++)
		CHECK(seal_unseal(ys, "cosign-key", blob, i, out, sizeof(out),
		    &outlen) < 0);
	CHECK_EQ(seal_unseal(ys, "cosign-key", blob, len, out, sizeof(out),
	    &outlen), 0);
	free(blob);
	seal_free(&ys);
}

static void
blob_of_one_seal_kind_is_refused_by_the_other(void)
{
	struct seal *f = NULL;
	uint8_t *fb = NULL, *yb = NULL, out[64];
	size_t fl, yl, outlen;

	tmp_make();
	stub_reset();
	CHECK_EQ(file_seal("seal.key", &f), 0);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(seal_seal(f, "cosign-key", msg, sizeof(msg), &fb, &fl), 0);
	CHECK_EQ(seal_seal(ys, "cosign-key", msg, sizeof(msg), &yb, &yl), 0);
	CHECK_EQ(seal_unseal(ys, "cosign-key", fb, fl, out, sizeof(out),
	    &outlen), TG_ERR_SEAL_KEY);
	CHECK(strstr(seal_errmsg(ys), "file seal") != NULL);
	CHECK_EQ(seal_unseal(f, "cosign-key", yb, yl, out, sizeof(out),
	    &outlen), TG_ERR_SEAL_KEY);
	free(fb);
	free(yb);
	seal_free(&f);
	seal_free(&ys);
	tmp_remove();
}

static void
signkey_on_the_yubikey_seal(void)
{
	struct jwk *k = NULL;
	char kid[JWK_KID_LEN + 1];
	int created = -1;

	tmp_make();
	stub_reset();
	CHECK_EQ(seal_open(SEAL_YUBIKEY, SERIAL_A, &ys), 0);
	CHECK_EQ(signkey_load_or_create(ys, tmpdir, JWK_ALG_EDDSA, &k,
	    &created), 0);
	CHECK_EQ(created, 1);
	snprintf(kid, sizeof(kid), "%s", jwk_kid(k));
	jwk_free(&k);
	seal_free(&ys);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(signkey_load_or_create(ys, tmpdir, JWK_ALG_EDDSA, &k,
	    &created), 0);
	CHECK_EQ(created, 0);
	CHECK(strcmp(jwk_kid(k), kid) == 0);
	jwk_free(&k);
	seal_free(&ys);
	/* the appliance's YubiKey replaced: the key is gone, by design */
	setenv("TAPGATE_YKSTUB_SERIAL", SERIAL_B, 1);
	setenv("TAPGATE_YKSTUB_SECRET", SECRET_B, 1);
	CHECK_EQ(seal_open(SEAL_YUBIKEY, NULL, &ys), 0);
	CHECK_EQ(signkey_load_or_create(ys, tmpdir, JWK_ALG_EDDSA, &k,
	    &created), TG_ERR_YUBIKEY_SERIAL);
	seal_free(&ys);
	stub_reset();
	tmp_remove();
}

int
main(void)
{
	RUN(file_seal_round_trip);
	RUN(file_seal_blob_opens_by_its_documentation);
	RUN(unseal_under_another_label_fails);
	RUN(unseal_refuses_every_flipped_bit);
	RUN(unseal_refuses_truncated_and_extended_blobs);
	RUN(unseal_with_another_key_file_fails);
	RUN(key_file_open_to_group_or_others_is_refused);
	RUN(key_file_must_be_a_regular_file_of_32_bytes);
	RUN(seal_refuses_bad_labels_and_sizes);
	RUN(seal_kind_names_parse);
	RUN(signkey_is_created_once_then_reloaded);
	RUN(signkey_file_never_holds_the_raw_private_key);
	RUN(signkey_rotation_keeps_one_active_key_and_the_old_public_half);
	RUN(signkey_interrupted_rotation_completes_at_start);
	RUN(signkey_abandoned_retirement_is_undone);
	RUN(signkey_of_another_algorithm_is_refused);
	RUN(signkey_with_another_seal_fails_and_keeps_the_file);
	RUN(signkey_refuses_a_blob_sealed_for_another_purpose);
	RUN(signkey_refuses_unsafe_files_and_directories);
	RUN(yubikey_seal_round_trip);
	RUN(yubikey_blob_opens_by_its_documentation);
	RUN(unseal_with_another_yubikey_secret_fails);
	RUN(unseal_with_another_yubikey_serial_fails_naming_both);
	RUN(no_yubikey_present_is_a_clear_error);
	RUN(yubikey_setup_problems_are_named);
	RUN(yubikey_unseal_refuses_every_flipped_bit);
	RUN(blob_of_one_seal_kind_is_refused_by_the_other);
	RUN(signkey_on_the_yubikey_seal);
	stub_reset();
	tmp_remove();
	TAP_EXIT();
}

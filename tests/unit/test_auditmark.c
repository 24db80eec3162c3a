/* SPDX-License-Identifier: ISC */
/*
 * The audit high-water mark on real files: the documented signed bytes,
 * signatures that hold only for the appliance, seq, hash and time signed
 * and under the key named, a reader that takes exactly the documented
 * file and nothing else, and a writer that replaces the mark atomically.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "order/jwk.h"
#include "store/auditmark.h"
#include "tap.h"

#define HASH								\
	"05bdfd92042f7c5be27f99ef4ada563d185fafd892cbad1af87224b713f1fb15"

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

static void
tmp_make(void)
{
	const char *base = getenv("TMPDIR");

	tmp_remove();
	snprintf(tmpdir, sizeof(tmpdir), "%s/tapgate-mark.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void
mark_fill(struct auditmark *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->appliance, sizeof(m->appliance), "tapgate-01");
	m->seq = 5;
	memcpy(m->hash, HASH, sizeof(m->hash));
	m->time = 1700000000;
}

/* Write text as the mark file of tmpdir. */
static int
put_file(const char *text)
{
	char path[1100];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, AUDITMARK_FILE);
	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static void
mark_signs_exactly_the_documented_bytes(void)
{
	static const uint8_t want_head[] = "tapgate-audit-mark-v1\0\012"
	    "tapgate-01\0\0\0\0\0\0\0\005";
	static const uint8_t want_time[] = { 0, 0, 0, 0, 0x65, 0x53, 0xf1,
	    0x00 };
	struct auditmark m;
	uint8_t msg[AUDITMARK_MSG_MAX], hash[32];
	size_t len;

	mark_fill(&m);
	CHECK_EQ(auditmark_message(&m, msg, &len), 0);
	/* preamble with NUL, id length and id, seq, hash, time */
	CHECK_EQ(len, 22 + 1 + 10 + 8 + 32 + 8);
	CHECK(memcmp(msg, want_head, sizeof(want_head) - 1) == 0);
	CHECK_EQ(hex_decode(HASH, 64, hash, sizeof(hash)), 0);
	CHECK(memcmp(msg + 41, hash, 32) == 0);
	CHECK(memcmp(msg + 73, want_time, 8) == 0);
	/* a checkpoint's preamble is another: neither passes for the other */
	CHECK(memcmp(msg, "tapgate-audit-checkpoint-v1", 20) != 0);
	/* no appliance, a negative seq or a hash that is none: not signed */
	m.appliance[0] = '\0';
	CHECK_EQ(auditmark_message(&m, msg, &len), TG_ERR_INVALID);
	mark_fill(&m);
	m.seq = -1;
	CHECK_EQ(auditmark_message(&m, msg, &len), TG_ERR_INVALID);
	mark_fill(&m);
	m.hash[0] = 'X';
	CHECK_EQ(auditmark_message(&m, msg, &len), TG_ERR_INVALID);
}

static void
mark_verifies_only_as_signed(void)
{
	struct auditmark m, alt;
	struct jwk *key = NULL, *other = NULL;
	struct jwks *keys = NULL;

	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &key), 0);
	CHECK_EQ(jwk_generate(JWK_ALG_ES256, &other), 0);
	CHECK_EQ(jwks_new(&keys), 0);
	CHECK_EQ(jwks_add(keys, key), 0);
	mark_fill(&m);
	CHECK_EQ(auditmark_sign(&m, key), 0);
	CHECK(strcmp(m.kid, jwk_kid(key)) == 0);
	CHECK_EQ(auditmark_verify(&m, keys), 0);
	alt = m;
	alt.seq = 4;		/* lowered to a cut chain */
	CHECK_EQ(auditmark_verify(&alt, keys), TG_ERR_BAD_SIGNATURE);
	alt = m;
	alt.hash[63] = '0';
	CHECK_EQ(auditmark_verify(&alt, keys), TG_ERR_BAD_SIGNATURE);
	alt = m;
	alt.time++;
	CHECK_EQ(auditmark_verify(&alt, keys), TG_ERR_BAD_SIGNATURE);
	alt = m;
	snprintf(alt.appliance, sizeof(alt.appliance), "tapgate-02");
	CHECK_EQ(auditmark_verify(&alt, keys), TG_ERR_BAD_SIGNATURE);
	/* another key's mark: not this appliance's */
	CHECK_EQ(auditmark_sign(&alt, other), 0);
	CHECK_EQ(auditmark_verify(&alt, keys), TG_ERR_UNKNOWN_KID);
	/* a retired key stays in the set: its mark still verifies */
	CHECK_EQ(jwks_add(keys, other), 0);
	CHECK_EQ(auditmark_verify(&alt, keys), 0);
	jwks_free(&keys);
	jwk_free(&key);
	jwk_free(&other);
}

static void
mark_round_trips_through_its_file_atomically(void)
{
	struct auditmark m, back;
	struct jwk *key = NULL;
	struct stat sb;
	char path[1100];
	int n = 0;
	FILE *fp;

	tmp_make();
	CHECK_EQ(auditmark_read(tmpdir, &back), TG_ERR_NOT_FOUND);
	CHECK_EQ(jwk_generate(JWK_ALG_EDDSA, &key), 0);
	mark_fill(&m);
	CHECK_EQ(auditmark_sign(&m, key), 0);
	CHECK_EQ(auditmark_write(tmpdir, &m), 0);
	CHECK_EQ(auditmark_read(tmpdir, &back), 0);
	CHECK(memcmp(&m, &back, sizeof(m)) == 0);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, AUDITMARK_FILE);
	CHECK(stat(path, &sb) == 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);
	/* a second write replaces it and leaves no temporary file */
	m.seq = 9;
	CHECK_EQ(auditmark_sign(&m, key), 0);
	CHECK_EQ(auditmark_write(tmpdir, &m), 0);
	CHECK_EQ(auditmark_read(tmpdir, &back), 0);
	CHECK_EQ(back.seq, 9);
	snprintf(path, sizeof(path), "ls -A %s | wc -l", tmpdir);
	CHECK((fp = popen(path, "r")) != NULL);
	CHECK_EQ(fscanf(fp, "%d", &n), 1);
	pclose(fp);
	CHECK_EQ(n, 1);
	/* the empty chain's mark: seq 0 */
	m.seq = 0;
	memset(m.hash, '0', 64);
	CHECK_EQ(auditmark_sign(&m, key), 0);
	CHECK_EQ(auditmark_write(tmpdir, &m), 0);
	CHECK_EQ(auditmark_read(tmpdir, &back), 0);
	CHECK_EQ(back.seq, 0);
	jwk_free(&key);
	tmp_remove();
}

static void
mark_reader_takes_the_format_and_nothing_else(void)
{
	static const char *const bad[] = {
		"",
		"{}",
		"[]",
		/* trailing data */
		"{\"appliance\":\"a\",\"hash\":\"" HASH "\",\"kid\":"
		"\"YFdRkPEZb3Bx6onJwpvekvcm5v8igSp3LkAV059LZeU\",\"seq\":5,"
		"\"signature\":\"%s\",\"time\":1,\"v\":1} {}",
		/* an unknown member */
		"{\"appliance\":\"a\",\"hash\":\"" HASH "\",\"kid\":"
		"\"YFdRkPEZb3Bx6onJwpvekvcm5v8igSp3LkAV059LZeU\",\"seq\":5,"
		"\"signature\":\"%s\",\"time\":1,\"v\":1,\"x\":0}",
		/* another version */
		"{\"appliance\":\"a\",\"hash\":\"" HASH "\",\"kid\":"
		"\"YFdRkPEZb3Bx6onJwpvekvcm5v8igSp3LkAV059LZeU\",\"seq\":5,"
		"\"signature\":\"%s\",\"time\":1,\"v\":2}",
		/* a negative seq */
		"{\"appliance\":\"a\",\"hash\":\"" HASH "\",\"kid\":"
		"\"YFdRkPEZb3Bx6onJwpvekvcm5v8igSp3LkAV059LZeU\",\"seq\":-1,"
		"\"signature\":\"%s\",\"time\":1,\"v\":1}",
		/* a member twice */
		"{\"appliance\":\"a\",\"hash\":\"" HASH "\",\"kid\":"
		"\"YFdRkPEZb3Bx6onJwpvekvcm5v8igSp3LkAV059LZeU\",\"seq\":5,"
		"\"seq\":4,\"signature\":\"%s\",\"time\":1,\"v\":1}",
	};
	char sig[128], text[1024], path[1100];
	uint8_t raw[JWK_SIG_LEN];
	struct auditmark back;
	size_t i;

	tmp_make();
	memset(raw, 7, sizeof(raw));
	b64url_encode(raw, sizeof(raw), sig);
	/* control: the same text well formed is read */
	snprintf(text, sizeof(text), "{\"appliance\":\"a\",\"hash\":\"" HASH
	    "\",\"kid\":\"YFdRkPEZb3Bx6onJwpvekvcm5v8igSp3LkAV059LZeU\","
	    "\"seq\":5,\"signature\":\"%s\",\"time\":1,\"v\":1}\n", sig);
	CHECK_EQ(put_file(text), 0);
	CHECK_EQ(auditmark_read(tmpdir, &back), 0);
	CHECK_EQ(back.seq, 5);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), bad[i], sig);
		CHECK_EQ(put_file(text), 0);
		if (auditmark_read(tmpdir, &back) != TG_ERR_INVALID) {
			printf("#   accepted: %s\n", text);
			CHECK(0);
		}
	}
	/* a symlink in its place is refused, not followed */
	snprintf(path, sizeof(path), "%s/%s", tmpdir, AUDITMARK_FILE);
	CHECK(unlink(path) == 0);
	CHECK(symlink("/etc/passwd", path) == 0);
	CHECK_EQ(auditmark_read(tmpdir, &back), TG_ERR_PERM);
	tmp_remove();
}

int
main(void)
{
	RUN(mark_signs_exactly_the_documented_bytes);
	RUN(mark_verifies_only_as_signed);
	RUN(mark_round_trips_through_its_file_atomically);
	RUN(mark_reader_takes_the_format_and_nothing_else);
	tmp_remove();
	TAP_EXIT();
}

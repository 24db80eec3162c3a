/* SPDX-License-Identifier: ISC */
/*
 * softfido's state file (firmware_host/host/flash.c) on real files in a
 * temporary directory.  Unit tests link the fake board, whose hal_flash_*
 * is memory, so flash.c is compiled into this test under other names.
 */
#define hal_flash_load	file_flash_load
#define hal_flash_store	file_flash_store
#include "../../firmware_host/host/flash.c"
#undef hal_flash_load
#undef hal_flash_store

#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

#define BLOB	5000

static char	dir[256], path[300], msg[1024];
static uint8_t	blob[BLOB], back[BLOB + 1], file[BLOB + 100];

/* flash.c reports through the board's log; keep the last message. */
void
board_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
}

void
board_debug(const char *fmt, ...)
{
	(void)fmt;
}

static void
empty_dir(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[600];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			(void)rmdir(p);
	}
	closedir(d);
}

static void
setup(void)
{
	size_t	i;

	empty_dir();
	msg[0] = '\0';
	for (i = 0; i < BLOB; i++)
		blob[i] = (uint8_t)(i * 13 + 7);
	memset(back, 0, sizeof(back));
}

static long
read_file(const char *p, uint8_t *buf, size_t cap)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(p, "rb")) == NULL)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

static int
write_file(const char *p, const uint8_t *buf, size_t len)
{
	FILE	*f;
	int	 r;

	if ((f = fopen(p, "wb")) == NULL)
		return -1;
	r = fwrite(buf, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? r : -1;
}

/* Store the blob, let edit damage the file, check load refuses it. */
static int
refused_after(void (*edit)(long *len), const char *why)
{
	long	len, len2;
	uint8_t	after[BLOB + 100];

	if (file_flash_store(blob, BLOB) != 0 ||
	    (len = read_file(path, file, sizeof(file))) < 0)
		return 0;
	edit(&len);
	if (write_file(path, file, (size_t)len) != 0)
		return 0;
	memset(back, 0xee, sizeof(back));
	if (file_flash_load(back, BLOB) != -1)
		return 0;
	/* named, explained, wiped, and the file left as it was */
	len2 = read_file(path, after, sizeof(after));
	return strstr(msg, path) != NULL && strstr(msg, why) != NULL &&
	    back[0] == 0 && back[BLOB - 1] == 0 && back[BLOB] == 0xee &&
	    len2 == len && memcmp(after, file, (size_t)len) == 0;
}

static void
flip_blob_byte(long *len)
{
	file[48 + 1234] ^= 0x01;
	(void)len;
}

static void
flip_digest_byte(long *len)
{
	file[16] ^= 0x80;
	(void)len;
}

static void
cut_last_byte(long *len)
{
	(*len)--;
}

static void
add_trailing_byte(long *len)
{
	file[(*len)++] = 0;
}

static void
cut_into_header(long *len)
{
	*len = 30;
}

static void
cut_to_empty(long *len)
{
	*len = 0;
}

static void
change_magic(long *len)
{
	memcpy(file, "softfidO", 8);
	(void)len;
}

static void
bump_version(long *len)
{
	file[11] = 2;
	(void)len;
}

static void
missing_file_is_first_boot(void)
{
	setup();
	memset(back, 0x55, sizeof(back));
	CHECK_EQ(file_flash_load(back, BLOB), 1);
	CHECK_EQ(back[0], 0x55);		/* nothing touched */
	CHECK(access(path, F_OK) != 0);		/* nothing created */
}

static void
store_then_load_round_trips(void)
{
	setup();
	CHECK_EQ(file_flash_store(blob, BLOB), 0);
	CHECK_EQ(file_flash_load(back, BLOB), 0);
	CHECK(memcmp(back, blob, BLOB) == 0);
	CHECK_EQ(read_file(path, file, sizeof(file)), 48 + BLOB);
	CHECK(memcmp(file, "softfido", 8) == 0);
}

static void
store_replaces_state_and_leaves_no_tmp(void)
{
	char	tmp[320];

	setup();
	CHECK_EQ(file_flash_store(blob, BLOB), 0);
	blob[0] ^= 0xff;
	blob[BLOB - 1] ^= 0xff;
	CHECK_EQ(file_flash_store(blob, BLOB), 0);
	CHECK_EQ(file_flash_load(back, BLOB), 0);
	CHECK(memcmp(back, blob, BLOB) == 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0);
}

static void
state_file_is_0600_whatever_the_umask(void)
{
	struct stat	st;
	mode_t		old;
	int		r;

	setup();
	old = umask(0);
	r = file_flash_store(blob, BLOB);
	umask(old);
	CHECK_EQ(r, 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
}

static void
leftover_tmp_file_does_not_leak_into_state(void)
{
	char		tmp[320];
	struct stat	st;
	uint8_t		junk[10] = { 0 };

	setup();
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK_EQ(write_file(tmp, junk, sizeof(junk)), 0);
	CHECK_EQ(chmod(tmp, 0666), 0);
	CHECK_EQ(file_flash_store(blob, BLOB), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(file_flash_load(back, BLOB), 0);
	CHECK(memcmp(back, blob, BLOB) == 0);
}

static void
corrupt_blob_is_refused_and_named(void)
{
	setup();
	CHECK(refused_after(flip_blob_byte, "checksum"));
}

static void
corrupt_digest_is_refused(void)
{
	setup();
	CHECK(refused_after(flip_digest_byte, "checksum"));
}

static void
truncated_file_is_refused(void)
{
	setup();
	CHECK(refused_after(cut_last_byte, "truncated or trailing"));
}

static void
trailing_data_is_refused(void)
{
	setup();
	CHECK(refused_after(add_trailing_byte, "truncated or trailing"));
}

static void
short_header_is_refused(void)
{
	setup();
	CHECK(refused_after(cut_into_header, "truncated header"));
}

static void
empty_file_is_refused_not_first_boot(void)
{
	setup();
	CHECK(refused_after(cut_to_empty, "truncated header"));
}

static void
foreign_magic_is_refused(void)
{
	setup();
	CHECK(refused_after(change_magic, "not a softfido state file"));
}

static void
other_format_version_is_refused(void)
{
	setup();
	CHECK(refused_after(bump_version, "format version 2"));
}

static void
state_of_other_length_is_refused(void)
{
	setup();
	CHECK_EQ(file_flash_store(blob, BLOB), 0);
	CHECK_EQ(file_flash_load(back, BLOB + 1), -1);
	CHECK(strstr(msg, "5000-byte state") != NULL);
	CHECK_EQ(file_flash_load(back, BLOB - 1), -1);
	CHECK_EQ(file_flash_load(back, BLOB), 0);
}

static void
symlink_and_directory_are_refused(void)
{
	char	other[300];

	setup();
	snprintf(other, sizeof(other), "%s/real", dir);
	CHECK_EQ(flash_set_path(other), 0);
	CHECK_EQ(file_flash_store(blob, BLOB), 0);
	CHECK_EQ(flash_set_path(path), 0);
	CHECK_EQ(symlink(other, path), 0);
	CHECK_EQ(file_flash_load(back, BLOB), -1);
	CHECK(strstr(msg, path) != NULL);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mkdir(path, 0700), 0);
	CHECK_EQ(file_flash_load(back, BLOB), -1);
	CHECK(strstr(msg, path) != NULL);
}

static void
store_into_missing_directory_fails(void)
{
	char	p[300];
	int	r;

	setup();
	snprintf(p, sizeof(p), "%s/nodir/state", dir);
	CHECK_EQ(flash_set_path(p), 0);
	r = file_flash_store(blob, BLOB);
	CHECK_EQ(flash_set_path(path), 0);
	CHECK_EQ(r, -1);
	CHECK(strstr(msg, p) != NULL);
}

int
main(void)
{
	const char	*t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_flash.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("not ok test_flash_tmpdir\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	if (flash_set_path(path) != 0) {
		printf("not ok test_flash_path\n");
		return 1;
	}
	RUN(missing_file_is_first_boot);
	RUN(store_then_load_round_trips);
	RUN(store_replaces_state_and_leaves_no_tmp);
	RUN(state_file_is_0600_whatever_the_umask);
	RUN(leftover_tmp_file_does_not_leak_into_state);
	RUN(corrupt_blob_is_refused_and_named);
	RUN(corrupt_digest_is_refused);
	RUN(truncated_file_is_refused);
	RUN(trailing_data_is_refused);
	RUN(short_header_is_refused);
	RUN(empty_file_is_refused_not_first_boot);
	RUN(foreign_magic_is_refused);
	RUN(other_format_version_is_refused);
	RUN(state_of_other_length_is_refused);
	RUN(symlink_and_directory_are_refused);
	RUN(store_into_missing_directory_fails);
	empty_dir();
	rmdir(dir);
	TAP_EXIT();
}

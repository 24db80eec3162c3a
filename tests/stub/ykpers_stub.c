/* SPDX-License-Identifier: ISC */
/*
 * A software YubiKey below the libykpers 1.20 API, for tests only: it
 * implements the libykpers symbols src/seal uses, with libykpers' calling
 * conventions (1 on success; 0 or NULL on failure with yk_errno set), and
 * answers HMAC-SHA1 challenge-response in slot 2 as a key programmed with
 * `ykpersonalize -2 -ochal-resp -ochal-hmac -ohmac-lt64
 * -oserial-api-visible` does: the 64-byte payload libykpers sends (the
 * challenge padded with zeros) loses its trailing run of bytes equal to
 * its last byte, and the answer is HMAC-SHA1(secret, rest), followed by
 * the key's CRC.  Test programs link this object instead of -lykpers-1.
 *
 * The device is described by the environment, read at every call, so a
 * test can change it between calls:
 *   TAPGATE_YKSTUB_ABSENT=1	no key: yk_open_first_key() NULL, YK_ENOKEY
 *   TAPGATE_YKSTUB_NOACCESS=1	key present but not openable (no udev
 *				rule): NULL, YK_EUSBERR
 *   TAPGATE_YKSTUB_SECRET=HEX	the slot 2 secret, 20 bytes; unset: slot 2
 *				not programmed, challenges time out
 *   TAPGATE_YKSTUB_SERIAL=N	the serial; unset: not API-visible, so
 *				yk_get_serial() times out
 *   TAPGATE_YKSTUB_VERSION=M.m.b firmware version (default 5.4.3)
 *   TAPGATE_YKSTUB_NOTOUCH=1	slot 2 waits for a touch that never comes
 * There is one key (index 0).  Misuse a real library would not survive
 * (calls before yk_init(), yk_release() with a key open, a foreign
 * handle) aborts, so tests catch it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* libykpers' own name for its status block (ykcore_lcl.h). */
#define yk_status_st status_st

#include <ykcore.h>
#include <ykdef.h>
#include <ykstatus.h>

#define STUB_SECRET_LEN	20
#define STUB_PAYLOAD	64	/* the frame's payload: the challenge, padded */
#define STUB_HMAC_LEN	20
/* Bytes libykpers reads for a 20-byte answer: 5 reports of 7, plus one. */
#define STUB_RESP_MIN	36

struct yk_key_st {
	uint32_t	magic;
};
#define STUB_MAGIC	0x796b7374u

static _Thread_local int stub_errno;
static int stub_inited;
static int stub_open;
static int stub_usb_denied;

int *
_yk_errno_location(void)
{
	return &stub_errno;
}

static int
env_on(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && strcmp(v, "1") == 0;
}

static void
stub_abort(const char *why)
{
	fprintf(stderr, "ykpers_stub: %s\n", why);
	abort();
}

static void
check_key(const YK_KEY *k)
{
	if (!stub_inited)
		stub_abort("libykpers used before yk_init()");
	if (k == NULL || k->magic != STUB_MAGIC)
		stub_abort("not a key this library opened");
}

int
yk_init(void)
{
	stub_inited = 1;
	return 1;
}

int
yk_release(void)
{
	if (!stub_inited) {
		yk_errno = YK_EUSBERR;
		return 0;
	}
	if (stub_open != 0)
		stub_abort("yk_release() with a key still open");
	stub_inited = 0;
	return 1;
}

int
yk_get_status(YK_KEY *k, YK_STATUS *st)
{
	unsigned int a = 5, b = 4, c = 3;
	const char *v;

	check_key(k);
	if (st == NULL) {
		yk_errno = YK_ENOSTATUS;
		return 0;
	}
	if ((v = getenv("TAPGATE_YKSTUB_VERSION")) != NULL &&
	    sscanf(v, "%u.%u.%u", &a, &b, &c) != 3)
		stub_abort("TAPGATE_YKSTUB_VERSION is not M.m.b");
	memset(st, 0, sizeof(*st));
	st->versionMajor = (unsigned char)a;
	st->versionMinor = (unsigned char)b;
	st->versionBuild = (unsigned char)c;
	st->pgmSeq = 1;
	if (getenv("TAPGATE_YKSTUB_SECRET") != NULL)
		st->touchLevel = CONFIG2_VALID |
		    (env_on("TAPGATE_YKSTUB_NOTOUCH") ? CONFIG2_TOUCH : 0);
	return 1;
}

YK_KEY *
yk_open_key(int index)
{
	YK_KEY *k;
	YK_STATUS st;

	if (!stub_inited)
		stub_abort("yk_open_key() before yk_init()");
	stub_usb_denied = 0;
	if (env_on("TAPGATE_YKSTUB_ABSENT") || index != 0) {
		yk_errno = YK_ENOKEY;
		return NULL;
	}
	if (env_on("TAPGATE_YKSTUB_NOACCESS")) {
		stub_usb_denied = 1;
		yk_errno = YK_EUSBERR;
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		yk_errno = YK_ENOMEM;
		return NULL;
	}
	k->magic = STUB_MAGIC;
	stub_open++;
	/* As libykpers does: a key that gives no status is not opened. */
	if (!yk_get_status(k, &st)) {
		yk_close_key(k);
		return NULL;
	}
	yk_errno = 0;
	return k;
}

YK_KEY *
yk_open_first_key(void)
{
	return yk_open_key(0);
}

int
yk_close_key(YK_KEY *k)
{
	check_key(k);
	k->magic = 0;
	free(k);
	stub_open--;
	return 1;
}

int
yk_get_serial(YK_KEY *k, uint8_t slot, unsigned int flags,
    unsigned int *serial)
{
	const char *v;
	char *end;
	unsigned long n;

	(void)slot;
	(void)flags;
	check_key(k);
	if ((v = getenv("TAPGATE_YKSTUB_SERIAL")) == NULL) {
		yk_errno = YK_ETIMEOUT;
		return 0;
	}
	n = strtoul(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n > UINT32_MAX)
		stub_abort("TAPGATE_YKSTUB_SERIAL is not a 32-bit number");
	*serial = (unsigned int)n;
	return 1;
}

/* The CRC the key appends (ISO 13239, as yubikey_crc16()). */
static uint16_t
crc16(const unsigned char *p, size_t n)
{
	uint16_t crc = 0xffff;
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (j = 0; j < 8; j++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) :
			    (uint16_t)(crc >> 1);
	}
	return crc;
}

static void
read_secret(unsigned char secret[STUB_SECRET_LEN])
{
	const char *v = getenv("TAPGATE_YKSTUB_SECRET");
	unsigned int b;
	size_t i;

	if (v == NULL || strlen(v) != 2 * STUB_SECRET_LEN)
		stub_abort("TAPGATE_YKSTUB_SECRET is not 40 hex digits");
	for (i = 0; i < STUB_SECRET_LEN; i++) {
		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			stub_abort("TAPGATE_YKSTUB_SECRET is not hex");
		secret[i] = (unsigned char)b;
	}
}

int
yk_challenge_response(YK_KEY *k, uint8_t cmd, int may_block,
    unsigned int challenge_len, const unsigned char *challenge,
    unsigned int response_len, unsigned char *response)
{
	unsigned char payload[STUB_PAYLOAD], secret[STUB_SECRET_LEN];
	unsigned int mdlen = 0;
	size_t n;
	uint16_t crc;

	check_key(k);
	switch (cmd) {
	case SLOT_CHAL_HMAC1:
	case SLOT_CHAL_HMAC2:
	case SLOT_CHAL_OTP1:
	case SLOT_CHAL_OTP2:
		break;
	default:
		yk_errno = YK_EINVALIDCMD;
		return 0;
	}
	if (challenge_len > STUB_PAYLOAD) {
		yk_errno = YK_EWRONGSIZ;
		return 0;
	}
	memset(response, 0, response_len);
	/* Only slot 2 is programmed, and only for HMAC-SHA1. */
	if (cmd != SLOT_CHAL_HMAC2 ||
	    getenv("TAPGATE_YKSTUB_SECRET") == NULL) {
		yk_errno = YK_ETIMEOUT;
		return 0;
	}
	if (env_on("TAPGATE_YKSTUB_NOTOUCH")) {
		yk_errno = may_block ? YK_ETIMEOUT : YK_EWOULDBLOCK;
		return 0;
	}
	if (response_len < STUB_RESP_MIN) {
		yk_errno = YK_EWRONGSIZ;
		return 0;
	}
	memset(payload, 0, sizeof(payload));
	memcpy(payload, challenge, challenge_len);
	/* hmac-lt64: the challenge ends before the run equal to byte 63. */
	n = STUB_PAYLOAD;
	while (n > 0 && payload[n - 1] == payload[STUB_PAYLOAD - 1])
		n--;
	read_secret(secret);
	if (HMAC(EVP_sha1(), secret, sizeof(secret), payload, n, response,
	    &mdlen) == NULL || mdlen != STUB_HMAC_LEN)
		stub_abort("HMAC-SHA1 failed");
	crc = (uint16_t)~crc16(response, STUB_HMAC_LEN);
	response[STUB_HMAC_LEN] = (unsigned char)(crc & 0xff);
	response[STUB_HMAC_LEN + 1] = (unsigned char)(crc >> 8);
	memset(secret, 0, sizeof(secret));
	return 1;
}

const char *
yk_strerror(int errnum)
{
	static const char *const text[] = {
		"", "USB error", "wrong size", "write error", "timeout",
		"no yubikey present", "unsupported firmware version",
		"out of memory", "no status structure given",
		"not yet implemented", "checksum mismatch",
		"operation would block", "invalid command for operation",
		"expect only one YubiKey but several present",
		"no data returned from device",
	};

	if (errnum >= 0 && (size_t)errnum < sizeof(text) / sizeof(text[0]))
		return text[errnum];
	return NULL;
}

const char *
yk_usb_strerror(void)
{
	return stub_usb_denied ? "Access denied (insufficient permissions)" :
	    "Success (no error)";
}

YK_STATUS *
ykds_alloc(void)
{
	YK_STATUS *st;

	if ((st = malloc(sizeof(*st))) == NULL)
		yk_errno = YK_ENOMEM;
	return st;
}

void
ykds_free(YK_STATUS *st)
{
	free(st);
}

int
ykds_version_major(const YK_STATUS *st)
{
	if (st != NULL)
		return st->versionMajor;
	yk_errno = YK_ENOSTATUS;
	return 0;
}

int
ykds_version_minor(const YK_STATUS *st)
{
	if (st != NULL)
		return st->versionMinor;
	yk_errno = YK_ENOSTATUS;
	return 0;
}

int
ykds_version_build(const YK_STATUS *st)
{
	if (st != NULL)
		return st->versionBuild;
	yk_errno = YK_ENOSTATUS;
	return 0;
}

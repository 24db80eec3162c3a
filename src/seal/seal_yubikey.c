/* SPDX-License-Identifier: ISC */
/*
 * The YubiKey seal's device side, through libykpers (1.20, libusb-1.0):
 * find the appliance's key, check that it can do HMAC-SHA1
 * challenge-response and read its serial, and ask slot 2 for the answer
 * to a blob's challenge.  libykpers calls return 0 or NULL on failure
 * with the reason in yk_errno; it keeps one global USB context, hence one
 * open YubiKey seal per process.
 */
#include <string.h>

#include <openssl/crypto.h>

#include <ykcore.h>
#include <ykdef.h>
#include <ykstatus.h>

#include "common/errors.h"
#include "seal/seal_int.h"

#define YK_MAX_KEYS	8	/* keys looked at for a given serial */

static int yk_inited;		/* yk_init() done, for the one open seal */

/* The name libykpers gives err, never NULL. */
static const char *
yk_errname(int err)
{
	const char *s = yk_strerror(err);

	return s != NULL && *s != '\0' ? s : "unknown libykpers error";
}

/* Map a failure of a call on an open key to ours, with words in s. */
static int
yk_failed(struct seal *s, const char *what)
{
	int e = yk_errno;

	switch (e) {
	case YK_ETIMEOUT:
		seal_seterr(s, "%s: the YubiKey did not answer: slot 2 is not "
		    "programmed for HMAC-SHA1 challenge-response, or it wants "
		    "a touch that did not come", what);
		return TG_ERR_TIMEOUT;
	case YK_EWOULDBLOCK:
		seal_seterr(s, "%s: the YubiKey waits for a touch", what);
		return TG_ERR_NO_TOUCH;
	case YK_EUSBERR:
		seal_seterr(s, "%s: USB error (YubiKey unplugged?): %s", what,
		    yk_usb_strerror() != NULL ? yk_usb_strerror() : "unknown");
		return TG_ERR_DEVICE_GONE;
	}
	seal_seterr(s, "%s: %s", what, yk_errname(e));
	return TG_ERR_DEVICE;
}

/* NULL, or a decimal serial 1..UINT32_MAX. */
static int
parse_serial(const char *param, uint32_t *serialp)
{
	unsigned long long v = 0;
	const char *p;

	*serialp = 0;
	if (param == NULL)
		return 0;
	if (*param == '\0' || strlen(param) > 10)
		return TG_ERR_INVALID;
	for (p = param; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return TG_ERR_INVALID;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return TG_ERR_INVALID;
	*serialp = (uint32_t)v;
	return 0;
}

/*
 * On the opened key k: firmware able to do challenge-response (2.2 and
 * later) and a readable serial.
 */
static int
check_key(YK_KEY *k, uint32_t *serialp)
{
	YK_STATUS *st;
	unsigned int serial = 0;
	int major, minor, r;

	if ((st = ykds_alloc()) == NULL)
		return TG_ERR_NOMEM;
	if (!yk_get_status(k, st)) {
		r = yk_errno == YK_EUSBERR ? TG_ERR_DEVICE_GONE : TG_ERR_DEVICE;
		goto out;
	}
	major = ykds_version_major(st);
	minor = ykds_version_minor(st);
	if (major < 2 || (major == 2 && minor < 2)) {
		r = TG_ERR_UNSUPPORTED;
		goto out;
	}
	/* Fails when the key was not programmed with serial-api-visible. */
	if (!yk_get_serial(k, 0, 0, &serial) || serial == 0) {
		r = yk_errno == YK_EUSBERR ? TG_ERR_DEVICE_GONE :
		    TG_ERR_YUBIKEY_SETUP;
		goto out;
	}
	*serialp = serial;
	r = 0;
out:
	ykds_free(st);
	return r;
}

/* Why yk_open_*() returned NULL. */
static int
open_failed(void)
{
	switch (yk_errno) {
	case YK_ENOKEY:
		return TG_ERR_NO_YUBIKEY;
	case YK_EUSBERR:
		/* Found but not opened: nearly always the device's mode. */
		return TG_ERR_YUBIKEY_ACCESS;
	}
	return TG_ERR_DEVICE;
}

int
seal_yk_open(const char *param, struct seal *s)
{
	YK_KEY *k = NULL;
	uint32_t want, serial = 0;
	int i, r;

	if ((r = parse_serial(param, &want)) != 0)
		return r;
	if (yk_inited)
		return TG_ERR_BUSY;
	if (!yk_init())
		return TG_ERR_DEVICE;
	yk_inited = 1;
	for (i = 0; i < (want != 0 ? YK_MAX_KEYS : 1); i++) {
		k = i == 0 ? yk_open_first_key() : yk_open_key(i);
		if (k == NULL) {
			r = open_failed();
			/* Keys there, none of them the one asked for. */
			if (r == TG_ERR_NO_YUBIKEY && i > 0)
				r = TG_ERR_YUBIKEY_SERIAL;
			goto fail;
		}
		r = check_key(k, &serial);
		if (r == 0 && (want == 0 || serial == want))
			break;
		/*
		 * Looking for a serial, pass over other keys, including
		 * ones we could not use (an officer's key with a hidden
		 * serial is not the appliance's).
		 */
		if (want == 0 || (r != 0 && r != TG_ERR_YUBIKEY_SETUP &&
		    r != TG_ERR_UNSUPPORTED))
			goto fail;
		yk_close_key(k);
		k = NULL;
	}
	if (k == NULL) {
		r = TG_ERR_YUBIKEY_SERIAL;
		goto fail;
	}
	s->yk = k;
	s->serial = serial;
	return 0;
fail:
	if (k != NULL)
		yk_close_key(k);
	yk_release();
	yk_inited = 0;
	return r;
}

int
seal_yk_respond(struct seal *s, const uint8_t chal[SEAL_YK_CHAL_LEN],
    uint8_t hmac[SEAL_YK_HMAC_LEN])
{
	unsigned char resp[SEAL_YK_RESP_LEN];
	int r;

	if (s->yk == NULL)
		return TG_ERR_INTERNAL;
	memset(resp, 0, sizeof(resp));
	/* may_block: slot 2 may be programmed to wait for a touch. */
	if (!yk_challenge_response(s->yk, SLOT_CHAL_HMAC2, 1,
	    SEAL_YK_CHAL_LEN, chal, sizeof(resp), resp)) {
		r = yk_failed(s, "challenge-response");
		goto out;
	}
	memcpy(hmac, resp, SEAL_YK_HMAC_LEN);
	r = 0;
out:
	OPENSSL_cleanse(resp, sizeof(resp));
	return r;
}

void
seal_yk_close(struct seal *s)
{
	if (s->yk == NULL)
		return;
	yk_close_key(s->yk);
	s->yk = NULL;
	yk_release();
	yk_inited = 0;
}

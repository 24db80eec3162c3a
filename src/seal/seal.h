/* SPDX-License-Identifier: ISC */
/*
 * Seals: how the appliance keeps a secret (its co-signing key) at rest.
 * One interface, two kinds:
 *
 *  - SEAL_FILE: a 32-byte random key-encryption key in a file of its own,
 *    created 0600 on first use and refused when it is not a regular file
 *    owned by us or when group or others have any access to it.  For the
 *    demo and tests: whoever can read both files has the secret.
 *
 *  - SEAL_YUBIKEY: the appliance's own YubiKey, HMAC-SHA1
 *    challenge-response in slot 2 through libykpers.  The secret that
 *    unseals never leaves the key; the sealed blob is useless without that
 *    very YubiKey.  The production seal.
 *
 * Blob format, version 1 (integers big endian):
 *
 *	"TGSEAL" | version 1 | kind (1 file, 2 yubikey) | kind part |
 *	nonce (12) | ciphertext length (4) | ciphertext | GCM tag (16)
 *
 *	kind part, file:    key id (8) | salt (32)
 *	kind part, yubikey: serial (4) | challenge (63, last byte non-zero)
 *
 * The blob key is HKDF-SHA256(ikm, salt, info = "tapgate seal v1" || label)
 * where ikm is the file's key (salt: the random salt), or the HMAC-SHA1
 * response of the YubiKey to the blob's random challenge (salt: the
 * challenge).  AES-256-GCM encrypts the secret under it with a random
 * nonce; the additional data is every byte of the blob before the
 * ciphertext, then the label.  So a blob opens only with its seal and only
 * under the label it was sealed for ("cosign-key" cannot be unsealed as
 * anything else), and any change to any byte is refused.  The key id
 * (the first 8 bytes of HKDF(file key, info "tapgate seal key id v1"))
 * and the serial only serve clear errors: the tag decides.
 *
 * Every function returns 0 or a negative TG_ERR_* (src/common/errors.h);
 * output pointers are set only on success; after a failure of seal_seal()
 * or seal_unseal(), seal_errmsg() says why in words.  Nothing here prints or
 * exits.  A struct seal is used by one thread at a time; at most one
 * SEAL_YUBIKEY seal is open in a process at a time (libykpers keeps one
 * global USB context).
 *
 * ---- The YubiKey seal on real hardware
 *
 * Program slot 2 of the appliance's own YubiKey once, on a trusted
 * machine or on the appliance itself (Debian: yubikey-personalization):
 *
 *	ykpersonalize -2 -ochal-resp -ochal-hmac -ohmac-lt64 \
 *	    -oserial-api-visible
 *
 * -ochal-btn-trig in addition makes every unseal wait for a touch (the
 * daemon then needs someone at the box when it starts); without it the
 * key answers at once.  ykpersonalize shows the HMAC secret it generated
 * in its summary before it commits: do not record it anywhere, or a copy
 * of the seal exists outside the key.  -oserial-api-visible lets us read the
 * serial, which the blob names so a wrong key gives a clear error.
 * Check it with `ykchalresp -2 test` (prints an answer) and `ykinfo -s`
 * (prints the serial).
 *
 * libykpers talks to the key through libusb and needs write access to its
 * USB device node.  The stock udev rules grant that to the logged-in seat
 * user only, so the service account needs a rule of its own, e.g. in
 * /etc/udev/rules.d/70-tapgate-yubikey.rules:
 *
 *	ACTION=="add|change", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", \
 *	    ATTR{idVendor}=="1050", MODE="0660", GROUP="tapgate"
 *
 * then `udevadm control --reload && udevadm trigger`.  Without it,
 * seal_open() fails with TG_ERR_YUBIKEY_ACCESS.  A systemd unit with
 * PrivateDevices= or DevicePolicy=closed also needs
 * DeviceAllow=char-usb_device rw.  While the seal is open the key's OTP
 * interface is detached from the kernel (no keyboard output) and other
 * programs cannot use the key; seal_free() hands it back, so open the
 * seal, unseal, and free it.
 *
 * Officers' FIDO keys plugged into the box are often YubiKeys too, and
 * libykpers finds them as well: give the appliance key's serial to
 * seal_open() (tapgate config) so the right one is used.
 *
 * If the appliance's YubiKey is lost, broken or reprogrammed, the sealed
 * co-signing key is unrecoverable, by design: there is no escrow and no
 * back door.  Program a new YubiKey, move the old cosign.key.sealed aside
 * (signkey.h never replaces it by itself), let the appliance create a new
 * co-signing key (a new kid), publish the new JWKS to every downstream
 * system and withdraw the old key from it; orders signed by the old key
 * stay verifiable only as long as downstream keeps its public key.  Sites
 * that cannot accept that run a second appliance with its own key.
 */
#ifndef TAPGATE_SEAL_H
#define TAPGATE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_SECRET_MAX	4096	/* the largest secret a seal takes */
#define SEAL_LABEL_MAX	64	/* labels: 1..64 of [A-Za-z0-9._-] */
#define SEAL_FILE_KEY_LEN 32	/* the file seal's key file, exactly */
#define SEAL_YK_CHAL_LEN 63	/* the YubiKey seal's challenge */

enum seal_kind {
	SEAL_FILE = 1,
	SEAL_YUBIKEY = 2,
};

struct seal;

/*
 * The seal kind called name ("file" or "yubikey"): 0, or TG_ERR_INVALID.
 */
int	seal_kind_parse(const char *name, enum seal_kind *kindp);

/* The name of kind ("file", "yubikey"), or NULL for an unknown value. */
const char *seal_kind_name(enum seal_kind kind);

/*
 * Open a seal of the given kind.
 *
 * SEAL_FILE: param is the key file's path (required).  A missing file is
 * created with SEAL_FILE_KEY_LEN random bytes, mode 0600, atomically (a
 * temporary file, fsync, link into place without replacing, fsync of the
 * directory); an existing one must be a regular file owned by the
 * effective uid with no group or other permission bits (TG_ERR_PERM;
 * TG_ERR_PERM also for a symlink) and exactly SEAL_FILE_KEY_LEN bytes
 * long (TG_ERR_INVALID).  TG_ERR_NOT_FOUND when its directory is missing.
 *
 * SEAL_YUBIKEY: param is NULL for the first YubiKey libykpers finds, or
 * the decimal serial of the YubiKey to use (looked for among the first 8
 * keys present).  Errors: TG_ERR_NO_YUBIKEY (none present),
 * TG_ERR_YUBIKEY_SERIAL (none with that serial), TG_ERR_YUBIKEY_ACCESS
 * (USB access refused: see the udev rule above), TG_ERR_UNSUPPORTED
 * (firmware before 2.2, which has no challenge-response),
 * TG_ERR_YUBIKEY_SETUP (serial not readable: program the key with
 * -oserial-api-visible), TG_ERR_BUSY (another YubiKey seal is open in
 * this process), TG_ERR_DEVICE (anything else).
 */
int	seal_open(enum seal_kind kind, const char *param, struct seal **sp);

/* The kind of s. */
enum seal_kind seal_kind(const struct seal *s);

/*
 * Seal secret[0..len) (1..SEAL_SECRET_MAX bytes) for label into a new
 * blob (*blobp, *bloblenp; not secret, freed by the caller with free()).
 * The YubiKey seal asks the key once (a touch, if slot 2 wants one):
 * TG_ERR_TIMEOUT when it does not answer (not touched, or slot 2 not
 * programmed for HMAC-SHA1 challenge-response), TG_ERR_DEVICE_GONE when
 * it was unplugged.
 */
int	seal_seal(struct seal *s, const char *label, const uint8_t *secret,
	    size_t len, uint8_t **blobp, size_t *bloblenp);

/*
 * Unseal blob[0..bloblen) sealed for label into out[0..cap), its length
 * in *outlenp.  The caller owns out and wipes it after use; on failure
 * nothing of the secret is left in out.  Errors:
 *  TG_ERR_INVALID	malformed blob (bad magic, lengths, trailing bytes)
 *  TG_ERR_UNSUPPORTED	a blob format version we do not know
 *  TG_ERR_SEAL_KEY	sealed by another kind of seal, or with another
 *			key file (key id differs)
 *  TG_ERR_YUBIKEY_SERIAL sealed by another YubiKey; seal_errmsg() names
 *			both serials
 *  TG_ERR_UNSEAL	the tag does not verify: another label, another
 *			key (file or YubiKey secret), or a damaged blob
 *  TG_ERR_TOO_LONG	cap is smaller than the sealed secret
 *  and the YubiKey errors of seal_seal().
 */
int	seal_unseal(struct seal *s, const char *label, const uint8_t *blob,
	    size_t bloblen, uint8_t *out, size_t cap, size_t *outlenp);

/*
 * Why the last seal_seal() or seal_unseal() on s failed, in words (for
 * logs and the operator; never contains secret material), or "no error".
 */
const char *seal_errmsg(const struct seal *s);

/*
 * Free *sp (NULL-safe) and set it to NULL: the file key is wiped, the
 * YubiKey closed and handed back to the kernel.
 */
void	seal_free(struct seal **sp);

#endif /* TAPGATE_SEAL_H */

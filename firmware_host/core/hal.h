/* SPDX-License-Identifier: ISC */
/*
 * What the portable CTAP core needs from the board it runs on.  The core
 * never does I/O itself and never allocates: everything outside the CTAP
 * state machine goes through these calls.  firmware_host/host/ implements
 * them on a POSIX host with OpenSSL; a microcontroller port would implement
 * them on its own peripherals.
 */
#ifndef SOFTFIDO_HAL_H
#define SOFTFIDO_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds since an arbitrary origin. */
uint64_t	hal_millis(void);

/* Fill buf with len bytes from a CSPRNG; 0 on success, -1 on failure. */
int		hal_rng(void *buf, size_t len);

/* Send one 64-byte HID input report to the host. */
void		hal_hid_send(const uint8_t report[64]);

/* Blink or otherwise identify the device (CTAPHID_WINK). */
void		hal_wink(void);

/*
 * Wait for the user's touch.  While waiting, the implementation sends a
 * KEEPALIVE (status UPNEEDED) through ctaphid_keepalive() about every 100 ms
 * and hands every report that arrives to ctaphid_rx_busy(), which answers
 * other channels with ERR_CHANNEL_BUSY and reports a CANCEL on ours.
 */
enum hal_up {
	HAL_UP_OK = 0,		/* the user touched the key */
	HAL_UP_DENIED,		/* refused: CTAP2_ERR_OPERATION_DENIED */
	HAL_UP_TIMEOUT,		/* untouched: CTAP2_ERR_USER_ACTION_TIMEOUT */
	HAL_UP_CANCELLED,	/* CTAPHID_CANCEL: CTAP2_ERR_KEEPALIVE_CANCEL */
};
enum hal_up	hal_user_presence(void);

/*
 * Faults a broken or malicious key could show; tests switch them on to prove
 * the host side notices.  A bit set means the core misbehaves that way.
 */
#define HAL_FAULT_BAD_SIGNATURE		0x01u	/* each signature bit-flipped */
#define HAL_FAULT_COUNTER_BACKWARDS	0x02u	/* counter goes down (clone) */
#define HAL_FAULT_WRONG_RPID		0x04u	/* rpIdHash of another RP */
#define HAL_FAULT_NO_UP			0x08u	/* authData's UP flag cleared */
#define HAL_FAULT_MALFORMED_CBOR	0x10u	/* response CBOR cut short */
#define HAL_FAULT_NO_UV			0x20u	/* UV cleared though verified */
uint32_t	hal_faults(void);

/*
 * Persistent storage ("flash") for the core's state blob.  load returns 0
 * when a valid blob of exactly len bytes was read, 1 when there is none yet
 * (first boot), -1 on error.  store replaces the blob atomically and returns
 * 0 once it is durable.
 */
int		hal_flash_load(void *buf, size_t len);
int		hal_flash_store(const void *buf, size_t len);

/* Hashes and MACs. */
void		hal_sha256(const void *msg, size_t len, uint8_t out[32]);
void		hal_hmac_sha256(const uint8_t *key, size_t keylen,
		    const void *msg, size_t len, uint8_t out[32]);
/* HKDF-SHA-256 (RFC 5869) with a 32-byte output. */
int		hal_hkdf_sha256(const uint8_t *salt, size_t saltlen,
		    const uint8_t *ikm, size_t ikmlen, const char *info,
		    uint8_t out[32]);

/* AES-256-CBC without padding; len is a multiple of 16. 0 on success. */
int		hal_aes256_cbc(int encrypt, const uint8_t key[32],
		    const uint8_t iv[16], const uint8_t *in, size_t len,
		    uint8_t *out);

/* P-256: keys are a 32-byte scalar and a 64-byte x||y point. */
int		hal_p256_keygen(uint8_t priv[32], uint8_t pub[64]);
/* ECDSA over SHA-256(msg); DER signature, *siglen in: capacity, out: used. */
int		hal_p256_sign(const uint8_t priv[32], const void *msg,
		    size_t len, uint8_t *sig, size_t *siglen);
/* ECDH: x coordinate of priv * peer. */
int		hal_p256_ecdh(const uint8_t priv[32], const uint8_t peer[64],
		    uint8_t z[32]);

/* Ed25519 (RFC 8032). */
int		hal_ed25519_keygen(uint8_t priv[32], uint8_t pub[32]);
int		hal_ed25519_sign(const uint8_t priv[32], const void *msg,
		    size_t len, uint8_t sig[64]);

/*
 * Factory provisioning: the AAGUID and the packed-attestation key and
 * certificate (DER).  hal_attest_sign signs like hal_p256_sign with the
 * attestation key.
 */
const uint8_t  *hal_aaguid(void);
const uint8_t  *hal_attest_cert(size_t *len);
int		hal_attest_sign(const void *msg, size_t len, uint8_t *sig,
		    size_t *siglen);

#endif /* SOFTFIDO_HAL_H */

/* SPDX-License-Identifier: ISC */
/*
 * The persistent state of the softfido core: one fixed-size blob that
 * hal_flash_load()/hal_flash_store() move as a whole.  Every credential,
 * resident or not, lives in the table, so each has its own signature
 * counter and its private key never leaves the authenticator.
 */
#ifndef SOFTFIDO_STATE_H
#define SOFTFIDO_STATE_H

#include <stdint.h>

#define SF_STATE_MAGIC		0x53464944u	/* "SFID" */
#define SF_STATE_VERSION	1u

#define SF_MAX_CREDS		64
#define SF_CRED_ID_LEN		32	/* random credential ids */
#define SF_MAX_RPID		64	/* bytes of an rp id we store */
#define SF_MAX_USER_ID		64	/* WebAuthn's limit for user.id */
#define SF_MAX_NAME		64	/* user.name and displayName */
#define SF_PIN_RETRIES		8
#define SF_MIN_PIN		4	/* code points */
#define SF_MAX_PIN		63	/* bytes */

#define SF_ALG_ES256		(-7)
#define SF_ALG_EDDSA		(-8)

struct sf_cred {
	uint8_t		in_use;
	uint8_t		resident;
	uint8_t		cred_protect;	/* 1..3 */
	uint8_t		rp_id_len;
	uint8_t		user_id_len;
	uint8_t		user_name_len;
	uint8_t		display_name_len;
	uint8_t		pad;
	int32_t		alg;		/* SF_ALG_ES256 or SF_ALG_EDDSA */
	uint32_t	counter;	/* last signature counter reported */
	uint32_t	created;	/* creation order, grows */
	uint8_t		id[SF_CRED_ID_LEN];
	uint8_t		rp_id_hash[32];
	uint8_t		priv[32];	/* P-256 scalar or Ed25519 seed */
	char		rp_id[SF_MAX_RPID];
	uint8_t		user_id[SF_MAX_USER_ID];
	char		user_name[SF_MAX_NAME];
	char		display_name[SF_MAX_NAME];
};

struct sf_state {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	size;		/* sizeof(struct sf_state) */
	uint8_t		pin_set;
	uint8_t		pin_retries;
	uint8_t		min_pin_len;
	uint8_t		pad;
	uint8_t		pin_hash[16];	/* LEFT(SHA-256(pin), 16) */
	uint32_t	next_created;	/* creation order of the next one */
	struct sf_cred	creds[SF_MAX_CREDS];
	/* SHA-256 of everything above: a torn or foreign blob is refused */
	uint8_t		digest[32];
};

#endif /* SOFTFIDO_STATE_H */

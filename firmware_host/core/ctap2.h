/* SPDX-License-Identifier: ISC */
/* CTAP 2.1 authenticator API: the part of the core that speaks CBOR. */
#ifndef SOFTFIDO_CTAP2_H
#define SOFTFIDO_CTAP2_H

#include <stddef.h>
#include <stdint.h>

/* Largest CTAP2 message the core accepts (getInfo maxMsgSize). */
#define CTAP2_MAX_MSG	1200

/* Command bytes (CTAP 2.1 section 6). */
#define CTAP2_CMD_MAKE_CREDENTIAL	0x01
#define CTAP2_CMD_GET_ASSERTION		0x02
#define CTAP2_CMD_GET_INFO		0x04
#define CTAP2_CMD_CLIENT_PIN		0x06
#define CTAP2_CMD_RESET			0x07
#define CTAP2_CMD_GET_NEXT_ASSERTION	0x08
#define CTAP2_CMD_SELECTION		0x0b

/* Status codes (CTAP 2.1 section 8.2), the first byte of every response. */
#define CTAP2_OK				0x00
#define CTAP1_ERR_INVALID_COMMAND		0x01
#define CTAP1_ERR_INVALID_PARAMETER		0x02
#define CTAP1_ERR_INVALID_LENGTH		0x03
#define CTAP2_ERR_CBOR_UNEXPECTED_TYPE		0x11
#define CTAP2_ERR_INVALID_CBOR			0x12
#define CTAP2_ERR_MISSING_PARAMETER		0x14
#define CTAP2_ERR_LIMIT_EXCEEDED		0x15
#define CTAP2_ERR_CREDENTIAL_EXCLUDED		0x19
#define CTAP2_ERR_UNSUPPORTED_ALGORITHM		0x26
#define CTAP2_ERR_OPERATION_DENIED		0x27
#define CTAP2_ERR_KEY_STORE_FULL		0x28
#define CTAP2_ERR_UNSUPPORTED_OPTION		0x2b
#define CTAP2_ERR_INVALID_OPTION		0x2c
#define CTAP2_ERR_KEEPALIVE_CANCEL		0x2d
#define CTAP2_ERR_NO_CREDENTIALS		0x2e
#define CTAP2_ERR_USER_ACTION_TIMEOUT		0x2f
#define CTAP2_ERR_NOT_ALLOWED			0x30
#define CTAP2_ERR_PIN_INVALID			0x31
#define CTAP2_ERR_PIN_BLOCKED			0x32
#define CTAP2_ERR_PIN_AUTH_INVALID		0x33
#define CTAP2_ERR_PIN_AUTH_BLOCKED		0x34
#define CTAP2_ERR_PIN_NOT_SET			0x35
#define CTAP2_ERR_PUAT_REQUIRED			0x36
#define CTAP2_ERR_PIN_POLICY_VIOLATION		0x37
#define CTAP2_ERR_INVALID_SUBCOMMAND		0x3e
#define CTAP2_ERR_UNAUTHORIZED_PERMISSION	0x40
#define CTAP1_ERR_OTHER				0x7f

/*
 * Power-up: load the persistent state through hal_flash_load() (creating
 * it on first boot) and draw fresh per-boot secrets (PIN/UV auth token,
 * key-agreement key).  0 on success, -1 when the state cannot be loaded.
 */
int	ctap2_init(void);

/*
 * Run one CTAP2 command.  req is the CTAPHID_CBOR payload (command byte then
 * CBOR parameters).  The response (status byte, then CBOR on success) is
 * written to resp; returns its length (at least 1, at most cap).  May block
 * in hal_user_presence().  Never reads outside req[0..len).
 */
size_t	ctap2_dispatch(const uint8_t *req, size_t len, uint8_t *resp,
	    size_t cap);

#endif /* SOFTFIDO_CTAP2_H */

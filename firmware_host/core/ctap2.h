/* SPDX-License-Identifier: ISC */
/* CTAP 2.1 authenticator API: the part of the core that speaks CBOR. */
#ifndef SOFTFIDO_CTAP2_H
#define SOFTFIDO_CTAP2_H

#include <stddef.h>
#include <stdint.h>

/* Largest CTAP2 message the core accepts (getInfo maxMsgSize). */
#define CTAP2_MAX_MSG	1200

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

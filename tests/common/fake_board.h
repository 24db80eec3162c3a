/* SPDX-License-Identifier: ISC */
/*
 * A board for driving the softfido core in-process (unit tests, fuzzing):
 * reports the core sends are captured, time is a settable clock, the button
 * answers what the test says and "flash" is memory.  Crypto is the real host
 * HAL (firmware_host/host/hal_crypto.c).
 */
#ifndef TAPGATE_FAKE_BOARD_H
#define TAPGATE_FAKE_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"

#define FAKE_MAX_SENT	256
#define FAKE_FLASH_MAX	(128 * 1024)

extern uint8_t		fake_sent[FAKE_MAX_SENT][64];	/* reports sent */
extern size_t		fake_nsent;
extern uint64_t		fake_now_ms;	/* hal_millis() */
extern enum hal_up	fake_up;	/* what hal_user_presence() answers */
extern unsigned		fake_up_calls;
extern uint32_t		fake_fault_bits;	/* hal_faults() */
extern int		fake_flash_fail;	/* hal_flash_store() fails */

/* Empty the captured reports, the flash, and restore the defaults. */
void	fake_board_reset(void);

#endif

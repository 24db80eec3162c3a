/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "fake_board.h"

uint8_t		fake_sent[FAKE_MAX_SENT][64];
size_t		fake_nsent;
uint64_t	fake_now_ms = 1000;
enum hal_up	fake_up = HAL_UP_OK;
unsigned	fake_up_calls;
uint32_t	fake_fault_bits;
int		fake_flash_fail;

static uint8_t	flash[FAKE_FLASH_MAX];
static size_t	flash_len;	/* 0: erased */

void
fake_board_reset(void)
{
	memset(fake_sent, 0, sizeof(fake_sent));
	fake_nsent = 0;
	fake_now_ms = 1000;
	fake_up = HAL_UP_OK;
	fake_up_calls = 0;
	fake_fault_bits = 0;
	fake_flash_fail = 0;
	memset(flash, 0, sizeof(flash));
	flash_len = 0;
}

uint64_t
hal_millis(void)
{
	return fake_now_ms;
}

void
hal_hid_send(const uint8_t report[64])
{
	/* keep the last reports when a test sends more than fit */
	if (fake_nsent == FAKE_MAX_SENT) {
		memmove(fake_sent[0], fake_sent[1],
		    sizeof(fake_sent) - sizeof(fake_sent[0]));
		fake_nsent--;
	}
	memcpy(fake_sent[fake_nsent++], report, 64);
}

void
hal_wink(void)
{
}

enum hal_up
hal_user_presence(void)
{
	fake_up_calls++;
	return fake_up;
}

uint32_t
hal_faults(void)
{
	return fake_fault_bits;
}

int
hal_flash_load(void *buf, size_t len)
{
	if (flash_len == 0)
		return 1;
	if (flash_len != len)
		return -1;
	memcpy(buf, flash, len);
	return 0;
}

int
hal_flash_store(const void *buf, size_t len)
{
	if (fake_flash_fail || len > sizeof(flash))
		return -1;
	memcpy(flash, buf, len);
	flash_len = len;
	return 0;
}

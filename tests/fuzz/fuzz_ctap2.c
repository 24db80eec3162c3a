/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the softfido CTAP2 core on the fake board.
 *
 * Input: one byte of board behaviour (bits 0-5: HAL_FAULT_* bits, bits
 * 6-7: what the button answers), one byte of seconds the clock moves after
 * each command, then commands as 2-byte big-endian length + CTAP message
 * (command byte and CBOR); a short tail is the last command.  Every input
 * starts from erased flash and a fresh power-up, so runs are independent;
 * a sequence can still create credentials and then assert with them.
 *
 * Beyond memory errors it checks what every response must satisfy: a
 * length in [1, cap], and on success a single canonical CBOR item (unless
 * the MALFORMED_CBOR fault is on) or nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_rw.h"
#include "ctap2.h"
#include "fake_board.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	resp[8192];

static void
check_response(const uint8_t *req, size_t n)
{
	struct cb_rd rd;

	if (n < 1 || n > sizeof(resp))
		abort();
	if (resp[0] != CTAP2_OK || n == 1 ||
	    (fake_fault_bits & HAL_FAULT_MALFORMED_CBOR))
		return;
	cb_rd_init(&rd, resp + 1, n - 1);
	if (cb_skip(&rd) != CB_OK || cb_rd_end(&rd) != CB_OK)
		abort();
	/* only these commands answer with CBOR */
	if (req[0] != CTAP2_CMD_MAKE_CREDENTIAL &&
	    req[0] != CTAP2_CMD_GET_ASSERTION &&
	    req[0] != CTAP2_CMD_GET_INFO &&
	    req[0] != CTAP2_CMD_CLIENT_PIN &&
	    req[0] != CTAP2_CMD_GET_NEXT_ASSERTION)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum hal_up ups[4] = { HAL_UP_OK, HAL_UP_DENIED,
	    HAL_UP_TIMEOUT, HAL_UP_CANCELLED };
	uint64_t step;
	size_t len, n;

	if (size < 2)
		return 0;
	fake_board_reset();
	if (ctap2_init() != 0)
		abort();	/* erased flash must always boot */
	fake_fault_bits = data[0] & 0x3f;
	fake_up = ups[data[0] >> 6];
	step = (uint64_t)data[1] * 1000;
	data += 2;
	size -= 2;
	while (size > 0) {
		if (size >= 2 && (len = (size_t)data[0] << 8 | data[1]) <=
		    size - 2) {
			data += 2;
			size -= 2;
		} else
			len = size;
		n = ctap2_dispatch(data, len, resp, sizeof(resp));
		if (len > 0)
			check_response(data, n);
		else if (n != 1)
			abort();
		data += len;
		size -= len;
		fake_now_ms += step;
	}
	return 0;
}

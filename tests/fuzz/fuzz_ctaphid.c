/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer harness for the CTAPHID framing (firmware_host/core/ctaphid.c)
 * on the fake board, with the real CTAP2 core behind it.
 *
 * The input is a sequence of 65-byte chunks, the last one zero-padded:
 *
 *	byte 0		steering: bits 0-5 advance the clock by that many
 *			times 100 ms, bit 6 then calls ctaphid_tick(), bit 7
 *			delivers the report while a command "runs"
 *			(ctaphid_rx_busy with the newest channel busy)
 *	bytes 1-64	one HID report from the host
 *
 * After every chunk the reports the device sent are checked: each reply is
 * an init frame followed by exactly the continuation frames its length
 * needs, in sequence, on the same channel.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctap2.h"
#include "ctaphid.h"
#include "fake_board.h"

#define CHUNK	(1 + CTAPHID_REPORT)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ctaphid	h;
static int		core_used = 1;	/* the CTAP2 core needs a fresh boot */

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Every reply the device sent is well framed; abort() otherwise. */
static void
check_sent(void)
{
	size_t		i = 0, len, have, seq;
	uint32_t	cid;

	/* it lost the oldest: nothing can be told */
	if (fake_nsent == FAKE_MAX_SENT)
		abort();
	while (i < fake_nsent) {
		const uint8_t *r = fake_sent[i++];

		if ((r[4] & 0x80) == 0)
			abort();	/* continuation without its init */
		cid = be32(r);
		len = (size_t)r[5] << 8 | r[6];
		if (len > CTAPHID_MAX_MSG)
			abort();
		if ((r[4] == CTAPHID_ERROR || r[4] == CTAPHID_KEEPALIVE) &&
		    len != 1)
			abort();
		if (r[4] == CTAPHID_INIT && len != 17)
			abort();
		if (r[4] == CTAPHID_CBOR)	/* ctap2_dispatch ran */
			core_used = 1;
		have = len < CTAPHID_INIT_DATA ? len : CTAPHID_INIT_DATA;
		for (seq = 0; have < len; seq++) {
			if (i >= fake_nsent || be32(fake_sent[i]) != cid ||
			    fake_sent[i][4] != seq)
				abort();
			i++;
			have += CTAPHID_CONT_DATA;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	chunk[CHUNK];
	size_t	off, n;

	/*
	 * Every input starts on a freshly booted key.  Booting (key
	 * generation) costs more than the framing itself, so the core is
	 * booted again only after an input that reached it: inputs that never
	 * complete a CBOR message leave its state as it was.
	 */
	if (core_used) {
		fake_board_reset();
		if (ctap2_init() != 0)
			abort();
		core_used = 0;
	}
	fake_now_ms = 1000;
	fake_up = HAL_UP_OK;
	fake_nsent = 0;
	ctaphid_init(&h);
	for (off = 0; off < size; off += n) {
		n = size - off < CHUNK ? size - off : CHUNK;
		memset(chunk, 0, sizeof(chunk));
		memcpy(chunk, data + off, n);
		fake_nsent = 0;
		fake_now_ms += (uint64_t)(chunk[0] & 0x3f) * 100;
		if (chunk[0] & 0x40)
			ctaphid_tick(&h);
		if ((chunk[0] & 0x80) && h.cid == 0 && h.next_cid != 0) {
			/*
			 * What run_cbor() sets while ctap2_dispatch waits for
			 * a touch: no message assembles meanwhile.
			 */
			h.busy_cid = h.next_cid;
			(void)ctaphid_rx_busy(&h, chunk + 1);
			h.busy_cid = 0;
			h.cancelled = 0;
			h.resynced = 0;
		} else
			ctaphid_rx(&h, chunk + 1);
		check_sent();
	}
	return 0;
}

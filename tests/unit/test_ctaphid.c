/* SPDX-License-Identifier: ISC */
/*
 * CTAPHID framing (firmware_host/core/ctaphid.c) on the fake board: the
 * tests play the host, frame by frame, and read back the reports the
 * device sent.
 */
#include <stdint.h>
#include <string.h>

#include "ctap2.h"
#include "ctaphid.h"
#include "fake_board.h"
#include "tap.h"

static struct ctaphid	h;	/* 15 KB: not on the stack */
static uint8_t		msg[CTAPHID_MAX_MSG], got[CTAPHID_MAX_MSG];

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_cid(uint8_t *r, uint32_t cid)
{
	r[0] = (uint8_t)(cid >> 24);
	r[1] = (uint8_t)(cid >> 16);
	r[2] = (uint8_t)(cid >> 8);
	r[3] = (uint8_t)cid;
}

static void
setup(void)
{
	fake_board_reset();
	ctaphid_init(&h);
}

/* One init frame announcing len bytes, carrying the first n of data. */
static void
send_init(uint32_t cid, uint8_t cmd, size_t len, const uint8_t *data,
    size_t n)
{
	uint8_t	r[64] = { 0 };

	put_cid(r, cid);
	r[4] = cmd;
	r[5] = (uint8_t)(len >> 8);
	r[6] = (uint8_t)len;
	if (n > 0)
		memcpy(r + 7, data, n);
	ctaphid_rx(&h, r);
}

static void
send_cont(uint32_t cid, uint8_t seq, const uint8_t *data, size_t n)
{
	uint8_t	r[64] = { 0 };

	put_cid(r, cid);
	r[4] = seq;
	if (n > 0)
		memcpy(r + 5, data, n);
	ctaphid_rx(&h, r);
}

/* Send a whole message the way a host fragments it. */
static void
send_msg(uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	size_t	off, n;
	uint8_t	seq = 0;

	n = len < 57 ? len : 57;
	send_init(cid, cmd, len, data, n);
	for (off = n; off < len; off += n) {
		n = len - off < 59 ? len - off : 59;
		send_cont(cid, seq++, data + off, n);
	}
}

/*
 * Reassemble the reply that starts at fake_sent[first], the way a host
 * does; the number of frames it took, or -1 when its framing is wrong.
 */
static int
read_reply(size_t first, uint32_t cid, uint8_t cmd, uint8_t *buf,
    size_t *len)
{
	size_t	i = first, n, want;

	if (i >= fake_nsent || be32(fake_sent[i]) != cid ||
	    fake_sent[i][4] != cmd)
		return -1;
	want = (size_t)fake_sent[i][5] << 8 | fake_sent[i][6];
	if (want > CTAPHID_MAX_MSG)
		return -1;
	n = want < 57 ? want : 57;
	memcpy(buf, fake_sent[i] + 7, n);
	*len = n;
	for (i++; *len < want; i++) {
		if (i >= fake_nsent || be32(fake_sent[i]) != cid ||
		    fake_sent[i][4] != i - first - 1)
			return -1;
		n = want - *len < 59 ? want - *len : 59;
		memcpy(buf + *len, fake_sent[i] + 5, n);
		*len += n;
	}
	return (int)(i - first);
}

/* The report at idx is CTAPHID_ERROR code on cid. */
static int
is_error(size_t idx, uint32_t cid, uint8_t code)
{
	return idx < fake_nsent && be32(fake_sent[idx]) == cid &&
	    fake_sent[idx][4] == CTAPHID_ERROR && fake_sent[idx][5] == 0 &&
	    fake_sent[idx][6] == 1 && fake_sent[idx][7] == code;
}

/* INIT on the broadcast channel; the channel the device handed out. */
static uint32_t
new_channel(void)
{
	static const uint8_t	nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t		cid;

	fake_nsent = 0;
	send_init(CTAPHID_BROADCAST, CTAPHID_INIT, 8, nonce, 8);
	if (fake_nsent != 1 || fake_sent[0][4] != CTAPHID_INIT)
		return 0;
	cid = be32(fake_sent[0] + 15);
	fake_nsent = 0;
	return cid;
}

static void
fill(uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
}

static void
init_on_broadcast_allocates_channel_and_echoes_nonce(void)
{
	static const uint8_t	nonce[8] = { 0xde, 0xad, 0xbe, 0xef, 9, 8, 7,
				    6 };
	uint32_t		cid1, cid2;
	size_t			len;

	setup();
	send_init(CTAPHID_BROADCAST, CTAPHID_INIT, 8, nonce, 8);
	CHECK_EQ(fake_nsent, 1);
	CHECK_EQ(read_reply(0, CTAPHID_BROADCAST, CTAPHID_INIT, got, &len), 1);
	CHECK_EQ(len, 17);
	CHECK(memcmp(got, nonce, 8) == 0);
	cid1 = be32(got + 8);
	CHECK(cid1 != 0 && cid1 != CTAPHID_BROADCAST);
	CHECK_EQ(got[12], 2);			/* CTAPHID protocol version */
	CHECK_EQ(got[16], 0x01 | 0x04 | 0x08);	/* WINK | CBOR | NMSG */
	cid2 = new_channel();
	CHECK(cid2 != 0 && cid2 != CTAPHID_BROADCAST && cid2 != cid1);
}

static void
init_on_allocated_channel_resyncs_it(void)
{
	static const uint8_t	nonce[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	uint32_t		cid;
	size_t			len;

	setup();
	cid = new_channel();
	fill(msg, 100);
	send_init(cid, CTAPHID_PING, 100, msg, 57);	/* message half sent */
	CHECK_EQ(fake_nsent, 0);
	send_init(cid, CTAPHID_INIT, 8, nonce, 8);
	CHECK_EQ(read_reply(0, cid, CTAPHID_INIT, got, &len), 1);
	CHECK_EQ(len, 17);
	CHECK(memcmp(got, nonce, 8) == 0);
	CHECK_EQ(be32(got + 8), cid);		/* same channel, no new one */
	/* the aborted message's continuation is now an orphan: ignored */
	send_cont(cid, 0, msg + 57, 43);
	CHECK_EQ(fake_nsent, 1);
	/* and the channel works */
	send_msg(cid, CTAPHID_PING, msg, 10);
	CHECK_EQ(read_reply(1, cid, CTAPHID_PING, got, &len), 1);
	CHECK_EQ(len, 10);
}

static void
init_with_wrong_length_gives_invalid_len(void)
{
	uint8_t	nonce[9] = { 0 };

	setup();
	send_init(CTAPHID_BROADCAST, CTAPHID_INIT, 9, nonce, 9);
	CHECK_EQ(fake_nsent, 1);
	CHECK(is_error(0, CTAPHID_BROADCAST, CTAPHID_ERR_INVALID_LEN));
	send_init(CTAPHID_BROADCAST, CTAPHID_INIT, 7, nonce, 7);
	CHECK(is_error(1, CTAPHID_BROADCAST, CTAPHID_ERR_INVALID_LEN));
}

static void
ping_echoes_multi_frame_message(void)
{
	uint32_t	cid;
	size_t		len;

	setup();
	cid = new_channel();
	fill(msg, 300);
	send_msg(cid, CTAPHID_PING, msg, 300);
	/* 57 + 5 * 59 >= 300: one init frame and five continuations */
	CHECK_EQ(read_reply(0, cid, CTAPHID_PING, got, &len), 6);
	CHECK_EQ(fake_nsent, 6);
	CHECK_EQ(len, 300);
	CHECK(memcmp(got, msg, 300) == 0);
}

static void
ping_of_largest_message_uses_seq_0_to_127(void)
{
	uint32_t	cid;
	size_t		len;

	setup();
	cid = new_channel();
	fill(msg, CTAPHID_MAX_MSG);
	send_msg(cid, CTAPHID_PING, msg, CTAPHID_MAX_MSG);
	CHECK_EQ(read_reply(0, cid, CTAPHID_PING, got, &len), 129);
	CHECK_EQ(len, CTAPHID_MAX_MSG);
	CHECK(memcmp(got, msg, CTAPHID_MAX_MSG) == 0);
	CHECK_EQ(fake_sent[128][4], 127);
}

static void
empty_ping_echoes_empty(void)
{
	uint32_t	cid;
	size_t		len = 99;

	setup();
	cid = new_channel();
	send_msg(cid, CTAPHID_PING, msg, 0);
	CHECK_EQ(read_reply(0, cid, CTAPHID_PING, got, &len), 1);
	CHECK_EQ(len, 0);
}

static void
wink_replies_empty_wink(void)
{
	uint32_t	cid;
	size_t		len = 99;

	setup();
	cid = new_channel();
	send_msg(cid, CTAPHID_WINK, msg, 0);
	CHECK_EQ(fake_nsent, 1);
	CHECK_EQ(read_reply(0, cid, CTAPHID_WINK, got, &len), 1);
	CHECK_EQ(len, 0);
	/* WINK carries no data */
	send_init(cid, CTAPHID_WINK, 1, msg, 1);
	CHECK(is_error(1, cid, CTAPHID_ERR_INVALID_LEN));
}

static void
cont_frame_with_wrong_seq_gives_invalid_seq(void)
{
	uint32_t	cid;

	setup();
	cid = new_channel();
	fill(msg, 200);
	send_init(cid, CTAPHID_PING, 200, msg, 57);
	send_cont(cid, 0, msg + 57, 59);
	send_cont(cid, 2, msg + 116, 59);	/* seq 1 skipped */
	CHECK_EQ(fake_nsent, 1);
	CHECK(is_error(0, cid, CTAPHID_ERR_INVALID_SEQ));
	/* the message was dropped: its late continuation is ignored */
	send_cont(cid, 1, msg + 116, 59);
	CHECK_EQ(fake_nsent, 1);
}

static void
new_request_before_last_complete_gives_invalid_seq(void)
{
	uint32_t	cid;
	size_t		len;

	setup();
	cid = new_channel();
	fill(msg, 200);
	send_init(cid, CTAPHID_PING, 200, msg, 57);
	send_init(cid, CTAPHID_PING, 5, msg, 5);
	CHECK(is_error(0, cid, CTAPHID_ERR_INVALID_SEQ));
	send_msg(cid, CTAPHID_PING, msg, 5);
	CHECK_EQ(read_reply(1, cid, CTAPHID_PING, got, &len), 1);
	CHECK_EQ(len, 5);
}

static void
over_long_length_gives_invalid_len(void)
{
	uint32_t	cid;
	size_t		len;

	setup();
	cid = new_channel();
	send_init(cid, CTAPHID_PING, CTAPHID_MAX_MSG + 1, msg, 57);
	CHECK(is_error(0, cid, CTAPHID_ERR_INVALID_LEN));
	send_init(cid, CTAPHID_PING, 0xffff, msg, 57);
	CHECK(is_error(1, cid, CTAPHID_ERR_INVALID_LEN));
	/* CBOR is bounded by the core's maxMsgSize, and needs a command */
	send_init(cid, CTAPHID_CBOR, CTAP2_MAX_MSG + 1, msg, 57);
	CHECK(is_error(2, cid, CTAPHID_ERR_INVALID_LEN));
	send_init(cid, CTAPHID_CBOR, 0, msg, 0);
	CHECK(is_error(3, cid, CTAPHID_ERR_INVALID_LEN));
	CHECK_EQ(fake_nsent, 4);
	/* nothing was left half-assembled */
	send_msg(cid, CTAPHID_PING, msg, 3);
	CHECK_EQ(read_reply(4, cid, CTAPHID_PING, got, &len), 1);
}

static void
other_channel_while_assembling_gets_channel_busy(void)
{
	uint32_t	a, b;
	size_t		len;

	setup();
	a = new_channel();
	b = new_channel();
	fill(msg, 100);
	send_init(a, CTAPHID_PING, 100, msg, 57);
	send_init(b, CTAPHID_PING, 4, msg, 4);
	CHECK_EQ(fake_nsent, 1);
	CHECK(is_error(0, b, CTAPHID_ERR_CHANNEL_BUSY));
	send_cont(b, 0, msg, 59);
	CHECK(is_error(1, b, CTAPHID_ERR_CHANNEL_BUSY));
	/* INIT still works meanwhile, and disturbs nobody */
	CHECK(new_channel() != 0);
	/* a's message goes on undisturbed */
	send_cont(a, 0, msg + 57, 43);
	CHECK_EQ(read_reply(0, a, CTAPHID_PING, got, &len), 2);
	CHECK_EQ(len, 100);
	CHECK(memcmp(got, msg, 100) == 0);
}

static void
zero_broadcast_and_unallocated_channels_give_invalid_channel(void)
{
	uint32_t	cid;

	setup();
	send_init(0, CTAPHID_PING, 1, msg, 1);
	CHECK(is_error(0, 0, CTAPHID_ERR_INVALID_CHANNEL));
	send_init(0, CTAPHID_INIT, 8, msg, 8);
	CHECK(is_error(1, 0, CTAPHID_ERR_INVALID_CHANNEL));
	send_init(CTAPHID_BROADCAST, CTAPHID_PING, 1, msg, 1);
	CHECK(is_error(2, CTAPHID_BROADCAST, CTAPHID_ERR_INVALID_CHANNEL));
	send_init(CTAPHID_BROADCAST, CTAPHID_CBOR, 1, msg, 1);
	CHECK(is_error(3, CTAPHID_BROADCAST, CTAPHID_ERR_INVALID_CHANNEL));
	/* never allocated, even when it looks plausible */
	send_init(1, CTAPHID_PING, 1, msg, 1);
	CHECK(is_error(4, 1, CTAPHID_ERR_INVALID_CHANNEL));
	send_init(0x12345678, CTAPHID_INIT, 8, msg, 8);
	CHECK(is_error(5, 0x12345678, CTAPHID_ERR_INVALID_CHANNEL));
	cid = new_channel();
	send_init(cid + 1, CTAPHID_PING, 1, msg, 1);
	CHECK(is_error(0, cid + 1, CTAPHID_ERR_INVALID_CHANNEL));
	CHECK_EQ(fake_nsent, 1);
}

static void
stalled_message_times_out_via_tick(void)
{
	uint32_t	cid;

	setup();
	cid = new_channel();
	fill(msg, 100);
	send_init(cid, CTAPHID_PING, 100, msg, 57);
	fake_now_ms += CTAPHID_TIMEOUT_MS;
	ctaphid_tick(&h);
	CHECK_EQ(fake_nsent, 0);		/* not overdue yet */
	fake_now_ms += 1;
	ctaphid_tick(&h);
	CHECK_EQ(fake_nsent, 1);
	CHECK(is_error(0, cid, CTAPHID_ERR_MSG_TIMEOUT));
	ctaphid_tick(&h);
	CHECK_EQ(fake_nsent, 1);		/* said once */
	send_cont(cid, 0, msg + 57, 43);	/* too late: ignored */
	CHECK_EQ(fake_nsent, 1);
}

static void
each_frame_restarts_the_timeout(void)
{
	uint32_t	cid;
	size_t		len;

	setup();
	cid = new_channel();
	fill(msg, 200);
	send_init(cid, CTAPHID_PING, 200, msg, 57);
	fake_now_ms += CTAPHID_TIMEOUT_MS - 10;
	ctaphid_tick(&h);
	send_cont(cid, 0, msg + 57, 59);
	fake_now_ms += CTAPHID_TIMEOUT_MS - 10;
	ctaphid_tick(&h);
	CHECK_EQ(fake_nsent, 0);
	send_cont(cid, 1, msg + 116, 59);
	send_cont(cid, 2, msg + 175, 25);
	CHECK_EQ(read_reply(0, cid, CTAPHID_PING, got, &len), 4);
	CHECK(memcmp(got, msg, 200) == 0);
}

static void
cont_frame_without_init_is_ignored(void)
{
	uint32_t	cid;

	setup();
	cid = new_channel();
	send_cont(cid, 0, msg, 59);
	send_cont(cid, 5, msg, 59);
	send_cont(0, 0, msg, 59);
	send_cont(CTAPHID_BROADCAST, 0, msg, 59);
	CHECK_EQ(fake_nsent, 0);
}

static void
cbor_get_info_passes_through_and_comes_back_fragmented(void)
{
	static uint8_t	direct[CTAPHID_MAX_MSG];
	const uint8_t	req[1] = { 0x04 };	/* authenticatorGetInfo */
	uint32_t	cid;
	size_t		len, dlen;
	int		frames;

	setup();
	CHECK_EQ(ctap2_init(), 0);
	cid = new_channel();
	send_msg(cid, CTAPHID_CBOR, req, 1);
	frames = read_reply(0, cid, CTAPHID_CBOR, got, &len);
	CHECK(frames > 1);			/* getInfo needs several */
	CHECK_EQ((size_t)frames, fake_nsent);
	CHECK_EQ(frames, 1 + (len - 57 + 58) / 59);
	CHECK_EQ(got[0], 0x00);			/* CTAP2_OK */
	CHECK_EQ(got[1] & 0xe0, 0xa0);		/* a CBOR map follows */
	/* exactly what the core answers when asked directly */
	dlen = ctap2_dispatch(req, 1, direct, sizeof(direct));
	CHECK_EQ(len, dlen);
	CHECK(memcmp(got, direct, len) == 0);
}

static void
cbor_error_status_comes_back_in_a_cbor_reply(void)
{
	const uint8_t	req[1] = { 0x7e };	/* no such CTAP2 command */
	uint32_t	cid;
	size_t		len;

	setup();
	CHECK_EQ(ctap2_init(), 0);
	cid = new_channel();
	send_msg(cid, CTAPHID_CBOR, req, 1);
	/* libfido2 treats CTAPHID_ERROR to a CBOR request as a dead key */
	CHECK_EQ(read_reply(0, cid, CTAPHID_CBOR, got, &len), 1);
	CHECK_EQ(len, 1);
	CHECK(got[0] != 0x00);
}

static void
unknown_command_and_lock_give_invalid_cmd(void)
{
	uint32_t	cid;
	size_t		len;

	setup();
	cid = new_channel();
	send_init(cid, 0xa5, 70, msg, 57);
	CHECK_EQ(fake_nsent, 1);
	CHECK(is_error(0, cid, CTAPHID_ERR_INVALID_CMD));
	send_cont(cid, 0, msg, 13);	/* the rest of it: ignored */
	CHECK_EQ(fake_nsent, 1);
	send_init(cid, CTAPHID_LOCK, 1, msg, 1);
	CHECK(is_error(1, cid, CTAPHID_ERR_INVALID_CMD));
	send_init(cid, CTAPHID_KEEPALIVE, 1, msg, 1);	/* device to host */
	CHECK(is_error(2, cid, CTAPHID_ERR_INVALID_CMD));
	send_msg(cid, CTAPHID_PING, msg, 2);
	CHECK_EQ(read_reply(3, cid, CTAPHID_PING, got, &len), 1);
}

static void
msg_gives_invalid_cmd(void)
{
	uint32_t	cid;

	setup();
	cid = new_channel();
	send_init(cid, CTAPHID_MSG, 10, msg, 10);	/* U2F: not spoken */
	CHECK_EQ(fake_nsent, 1);
	CHECK(is_error(0, cid, CTAPHID_ERR_INVALID_CMD));
}

static void
cancel_while_idle_gets_no_reply(void)
{
	uint32_t	cid;

	setup();
	cid = new_channel();
	send_init(cid, CTAPHID_CANCEL, 0, msg, 0);
	CHECK_EQ(fake_nsent, 0);
}

static void
cancel_while_assembling_drops_the_message_silently(void)
{
	uint32_t	a, b;
	size_t		len;

	setup();
	a = new_channel();
	b = new_channel();
	fill(msg, 100);
	send_init(a, CTAPHID_PING, 100, msg, 57);
	send_init(b, CTAPHID_CANCEL, 0, msg, 0);	/* not a's: no effect */
	send_init(a, CTAPHID_CANCEL, 0, msg, 0);
	CHECK_EQ(fake_nsent, 0);
	send_cont(a, 0, msg + 57, 43);			/* orphan now */
	CHECK_EQ(fake_nsent, 0);
	send_msg(b, CTAPHID_PING, msg, 3);		/* nobody is busy */
	CHECK_EQ(read_reply(0, b, CTAPHID_PING, got, &len), 1);
}

/*
 * The fake board's button answers at once, so a running command is
 * simulated the way ctaphid.c marks one: busy_cid names its channel.
 */
static void
rx_busy_cancel_on_busy_channel_returns_1(void)
{
	uint8_t		r[64] = { 0 };
	uint32_t	cid, other;

	setup();
	cid = new_channel();
	other = new_channel();
	h.busy_cid = cid;
	put_cid(r, other);
	r[4] = CTAPHID_CANCEL;
	CHECK_EQ(ctaphid_rx_busy(&h, r), 0);	/* not the running one */
	CHECK_EQ(h.cancelled, 0);
	put_cid(r, cid);
	CHECK_EQ(ctaphid_rx_busy(&h, r), 1);
	CHECK_EQ(h.cancelled, 1);
	CHECK_EQ(fake_nsent, 0);		/* CANCEL is never answered */
}

static void
rx_busy_other_frames_get_channel_busy(void)
{
	uint8_t		r[64] = { 0 };
	uint32_t	cid, other;

	setup();
	cid = new_channel();
	other = new_channel();
	h.busy_cid = cid;
	put_cid(r, other);
	r[4] = CTAPHID_PING;
	r[6] = 1;
	CHECK_EQ(ctaphid_rx_busy(&h, r), 0);
	CHECK(is_error(0, other, CTAPHID_ERR_CHANNEL_BUSY));
	put_cid(r, cid);
	r[4] = CTAPHID_CBOR;
	CHECK_EQ(ctaphid_rx_busy(&h, r), 0);
	CHECK(is_error(1, cid, CTAPHID_ERR_CHANNEL_BUSY));
	r[4] = 0;			/* a continuation frame */
	CHECK_EQ(ctaphid_rx_busy(&h, r), 0);
	CHECK(is_error(2, cid, CTAPHID_ERR_CHANNEL_BUSY));
	put_cid(r, 0x7777);
	r[4] = CTAPHID_PING;
	CHECK_EQ(ctaphid_rx_busy(&h, r), 0);
	CHECK(is_error(3, 0x7777, CTAPHID_ERR_INVALID_CHANNEL));
	CHECK_EQ(h.cancelled, 0);
}

static void
rx_busy_init_allocates_on_broadcast_and_aborts_busy_channel(void)
{
	static const uint8_t	nonce[8] = { 4, 4, 4, 4, 4, 4, 4, 4 };
	uint8_t			r[64] = { 0 };
	uint32_t		cid, fresh;
	size_t			len;

	setup();
	cid = new_channel();
	h.busy_cid = cid;
	put_cid(r, CTAPHID_BROADCAST);
	r[4] = CTAPHID_INIT;
	r[6] = 8;
	memcpy(r + 7, nonce, 8);
	CHECK_EQ(ctaphid_rx_busy(&h, r), 0);
	CHECK_EQ(read_reply(0, CTAPHID_BROADCAST, CTAPHID_INIT, got, &len), 1);
	fresh = be32(got + 8);
	CHECK(fresh != cid && fresh != 0 && fresh != CTAPHID_BROADCAST);
	CHECK(memcmp(got, nonce, 8) == 0);
	/* INIT on the busy channel: the command must stop */
	put_cid(r, cid);
	CHECK_EQ(ctaphid_rx_busy(&h, r), 1);
	CHECK_EQ(read_reply(1, cid, CTAPHID_INIT, got, &len), 1);
	CHECK_EQ(be32(got + 8), cid);
	/* and the host, resynced, hears nothing more of it */
	ctaphid_keepalive(&h, CTAPHID_KEEPALIVE_UPNEEDED);
	CHECK_EQ(fake_nsent, 2);
}

static void
keepalive_goes_to_busy_channel_only_while_busy(void)
{
	uint32_t	cid;

	setup();
	cid = new_channel();
	ctaphid_keepalive(&h, CTAPHID_KEEPALIVE_UPNEEDED);
	CHECK_EQ(fake_nsent, 0);
	h.busy_cid = cid;
	ctaphid_keepalive(&h, CTAPHID_KEEPALIVE_UPNEEDED);
	CHECK_EQ(fake_nsent, 1);
	CHECK_EQ(be32(fake_sent[0]), cid);
	CHECK_EQ(fake_sent[0][4], CTAPHID_KEEPALIVE);
	CHECK_EQ(fake_sent[0][6], 1);
	CHECK_EQ(fake_sent[0][7], CTAPHID_KEEPALIVE_UPNEEDED);
}

static void
channels_survive_and_stay_distinct_over_many_inits(void)
{
	uint32_t	prev = 0, cid;
	size_t		len;
	int		i;

	setup();
	for (i = 0; i < 1000; i++) {
		cid = new_channel();
		CHECK(cid != 0 && cid != CTAPHID_BROADCAST && cid != prev);
		prev = cid;
	}
	/* an old channel is still allocated, as on a device left plugged in */
	send_msg(1, CTAPHID_PING, msg, 1);
	CHECK_EQ(read_reply(0, 1, CTAPHID_PING, got, &len), 1);
}

int
main(void)
{
	RUN(init_on_broadcast_allocates_channel_and_echoes_nonce);
	RUN(init_on_allocated_channel_resyncs_it);
	RUN(init_with_wrong_length_gives_invalid_len);
	RUN(ping_echoes_multi_frame_message);
	RUN(ping_of_largest_message_uses_seq_0_to_127);
	RUN(empty_ping_echoes_empty);
	RUN(wink_replies_empty_wink);
	RUN(cont_frame_with_wrong_seq_gives_invalid_seq);
	RUN(new_request_before_last_complete_gives_invalid_seq);
	RUN(over_long_length_gives_invalid_len);
	RUN(other_channel_while_assembling_gets_channel_busy);
	RUN(zero_broadcast_and_unallocated_channels_give_invalid_channel);
	RUN(stalled_message_times_out_via_tick);
	RUN(each_frame_restarts_the_timeout);
	RUN(cont_frame_without_init_is_ignored);
	RUN(cbor_get_info_passes_through_and_comes_back_fragmented);
	RUN(cbor_error_status_comes_back_in_a_cbor_reply);
	RUN(unknown_command_and_lock_give_invalid_cmd);
	RUN(msg_gives_invalid_cmd);
	RUN(cancel_while_idle_gets_no_reply);
	RUN(cancel_while_assembling_drops_the_message_silently);
	RUN(rx_busy_cancel_on_busy_channel_returns_1);
	RUN(rx_busy_other_frames_get_channel_busy);
	RUN(rx_busy_init_allocates_on_broadcast_and_aborts_busy_channel);
	RUN(keepalive_goes_to_busy_channel_only_while_busy);
	RUN(channels_survive_and_stay_distinct_over_many_inits);
	TAP_EXIT();
}

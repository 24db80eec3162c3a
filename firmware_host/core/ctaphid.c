/* SPDX-License-Identifier: ISC */
/*
 * CTAPHID (CTAP 2.1 section 11.2) over 64-byte HID reports without a report
 * ID.  One message is reassembled at a time, as the specification allows:
 * a device that is busy with one channel answers the others with
 * ERR_CHANNEL_BUSY.  INIT is the exception, because it is a single frame and
 * is how a host that lost track of its channel gets back in sync.
 *
 * Channel ids are handed out in increasing order, so "allocated" is simply
 * 1 <= cid <= next_cid; after 2^32 - 2 INITs every id counts as allocated,
 * which only weakens the INVALID_CHANNEL check, never the framing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctap2.h"
#include "ctaphid.h"
#include "hal.h"

/* Device version reported in the INIT reply. */
#define SOFTFIDO_VERSION_MAJOR	1
#define SOFTFIDO_VERSION_MINOR	0
#define SOFTFIDO_VERSION_BUILD	0

#define CTAPHID_PROTOCOL	2
#define CAPABILITY_WINK		0x01
#define CAPABILITY_CBOR		0x04
#define CAPABILITY_NMSG		0x08

#define INIT_NONCE_LEN		8
#define INIT_REPLY_LEN		17

/* CTAP status for a CBOR reply the core failed to produce. */
#define CTAP1_ERR_OTHER		0x7f

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Requests and replies may carry PIN and key material (encrypted, but still
 * nothing to leave lying in a static buffer); a volatile pointer keeps the
 * compiler from dropping the wipe of a buffer that is not read again.
 */
static void
wipe(void *p, size_t len)
{
	volatile uint8_t *v = p;

	while (len-- > 0)
		*v++ = 0;
}

static int
is_allocated(const struct ctaphid *h, uint32_t cid)
{
	return cid != 0 && cid != CTAPHID_BROADCAST && cid <= h->next_cid;
}

/* Fragment one message into an init frame and continuation frames. */
static void
send_msg(uint32_t cid, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint8_t	 r[CTAPHID_REPORT];
	size_t	 off, n;
	uint8_t	 seq = 0;

	if (len > CTAPHID_MAX_MSG)	/* callers never do; keep frames sane */
		len = 0;
	memset(r, 0, sizeof(r));
	put_be32(r, cid);
	r[4] = cmd;
	r[5] = (uint8_t)(len >> 8);
	r[6] = (uint8_t)len;
	n = len < CTAPHID_INIT_DATA ? len : CTAPHID_INIT_DATA;
	if (n > 0)
		memcpy(r + 7, data, n);
	hal_hid_send(r);
	for (off = n; off < len; off += n) {
		memset(r, 0, sizeof(r));
		put_be32(r, cid);
		r[4] = seq++;
		n = len - off < CTAPHID_CONT_DATA ? len - off :
		    CTAPHID_CONT_DATA;
		memcpy(r + 5, data + off, n);
		hal_hid_send(r);
	}
	wipe(r, sizeof(r));
}

static void
send_error(uint32_t cid, uint8_t code)
{
	send_msg(cid, CTAPHID_ERROR, &code, 1);
}

static void
abort_msg(struct ctaphid *h)
{
	wipe(h->buf, h->got);
	h->cid = 0;
	h->cmd = 0;
	h->seq = 0;
	h->len = 0;
	h->got = 0;
	h->last_ms = 0;
}

void
ctaphid_init(struct ctaphid *h)
{
	memset(h, 0, sizeof(*h));
}

static int
init_len_ok(const uint8_t *report)
{
	return report[5] == 0 && report[6] == INIT_NONCE_LEN;
}

/*
 * INIT: on the broadcast channel allocate a new channel and answer on the
 * broadcast channel; on an allocated channel resynchronise it (abort what it
 * was sending us) and answer on it.  The caller checked the channel.
 */
static void
do_init(struct ctaphid *h, uint32_t cid, const uint8_t *report)
{
	uint8_t		 reply[INIT_REPLY_LEN];
	uint32_t	 newcid = cid;

	if (!init_len_ok(report)) {
		send_error(cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	if (cid == h->cid)
		abort_msg(h);
	if (cid == CTAPHID_BROADCAST) {
		newcid = h->next_cid + 1;
		if (newcid == CTAPHID_BROADCAST)
			newcid = 1;	/* wrapped: see the note on top */
		h->next_cid = newcid;
	}
	memcpy(reply, report + 7, INIT_NONCE_LEN);
	put_be32(reply + 8, newcid);
	reply[12] = CTAPHID_PROTOCOL;
	reply[13] = SOFTFIDO_VERSION_MAJOR;
	reply[14] = SOFTFIDO_VERSION_MINOR;
	reply[15] = SOFTFIDO_VERSION_BUILD;
	reply[16] = CAPABILITY_WINK | CAPABILITY_CBOR | CAPABILITY_NMSG;
	send_msg(cid, CTAPHID_INIT, reply, sizeof(reply));
}

/* 0 when the channel may talk to us, else the CTAPHID error to send. */
static uint8_t
check_channel(const struct ctaphid *h, uint32_t cid, uint8_t cmd)
{
	if (cid == CTAPHID_BROADCAST)
		return cmd == CTAPHID_INIT ? 0 : CTAPHID_ERR_INVALID_CHANNEL;
	if (!is_allocated(h, cid))
		return CTAPHID_ERR_INVALID_CHANNEL;
	return 0;
}

/*
 * The longest payload each command may announce, or -1 for a command we do
 * not serve.  MSG is CTAP1/U2F, which softfido does not speak (NMSG); LOCK
 * is optional and no FIDO2 host uses it, so it is refused too.
 */
static long
max_len(uint8_t cmd)
{
	switch (cmd) {
	case CTAPHID_PING:
		return CTAPHID_MAX_MSG;
	case CTAPHID_WINK:
		return 0;
	case CTAPHID_CBOR:
		return CTAP2_MAX_MSG;
	default:
		return -1;
	}
}

static void
run_cbor(struct ctaphid *h, uint32_t cid)
{
	size_t	 n;
	uint8_t	 status = CTAP1_ERR_OTHER;

	h->busy_cid = cid;
	h->cancelled = 0;
	h->resynced = 0;
	n = ctap2_dispatch(h->buf, h->len, h->out, sizeof(h->out));
	wipe(h->buf, h->len);
	if (!h->resynced) {
		if (n == 0 || n > sizeof(h->out))	/* broken core */
			send_msg(cid, CTAPHID_CBOR, &status, 1);
		else
			send_msg(cid, CTAPHID_CBOR, h->out, n);
	}
	wipe(h->out, n < sizeof(h->out) ? n : sizeof(h->out));
	h->busy_cid = 0;
	h->cancelled = 0;
	h->resynced = 0;
}

/* A message is complete: run it and clear the reassembly state. */
static void
run_msg(struct ctaphid *h)
{
	uint32_t	cid = h->cid;

	switch (h->cmd) {
	case CTAPHID_PING:
		send_msg(cid, CTAPHID_PING, h->buf, h->len);
		break;
	case CTAPHID_WINK:
		hal_wink();
		send_msg(cid, CTAPHID_WINK, NULL, 0);
		break;
	case CTAPHID_CBOR:
		/* idle the reassembler first: rx_busy must see no message */
		h->cid = 0;
		run_cbor(h, cid);
		break;
	default:	/* max_len() let no other command in */
		send_error(cid, CTAPHID_ERR_INVALID_CMD);
		break;
	}
	abort_msg(h);
}

static void
rx_init_frame(struct ctaphid *h, uint32_t cid, const uint8_t *report)
{
	uint8_t		cmd = report[4], err;
	unsigned	len = (unsigned)report[5] << 8 | report[6];
	long		max;

	if ((err = check_channel(h, cid, cmd)) != 0) {
		send_error(cid, err);
		return;
	}
	if (cmd == CTAPHID_INIT) {
		do_init(h, cid, report);
		return;
	}
	if (cmd == CTAPHID_CANCEL) {
		/* never answered; ends a message this channel was sending */
		if (cid == h->cid)
			abort_msg(h);
		return;
	}
	if (h->cid != 0) {
		if (cid == h->cid) {
			/* a new request before the last one was complete */
			abort_msg(h);
			send_error(cid, CTAPHID_ERR_INVALID_SEQ);
		} else
			send_error(cid, CTAPHID_ERR_CHANNEL_BUSY);
		return;
	}
	if ((max = max_len(cmd)) < 0) {
		send_error(cid, CTAPHID_ERR_INVALID_CMD);
		return;
	}
	if (len > (unsigned long)max || (cmd == CTAPHID_CBOR && len == 0)) {
		send_error(cid, CTAPHID_ERR_INVALID_LEN);
		return;
	}
	h->cid = cid;
	h->cmd = cmd;
	h->seq = 0;
	h->len = (uint16_t)len;
	h->got = (uint16_t)(len < CTAPHID_INIT_DATA ? len : CTAPHID_INIT_DATA);
	h->last_ms = hal_millis();
	memcpy(h->buf, report + 7, h->got);
	if (h->got == h->len)
		run_msg(h);
}

static void
rx_cont_frame(struct ctaphid *h, uint32_t cid, const uint8_t *report)
{
	uint8_t	seq = report[4];
	size_t	n;

	if (h->cid == 0)	/* the rest of a message we refused or lost */
		return;
	if (cid != h->cid) {
		if (cid == CTAPHID_BROADCAST || !is_allocated(h, cid))
			send_error(cid, CTAPHID_ERR_INVALID_CHANNEL);
		else
			send_error(cid, CTAPHID_ERR_CHANNEL_BUSY);
		return;
	}
	if (seq != h->seq) {
		abort_msg(h);
		send_error(cid, CTAPHID_ERR_INVALID_SEQ);
		return;
	}
	/*
	 * got < len here, and len <= CTAPHID_MAX_MSG = 57 + 128 * 59 makes
	 * seq 127 the last frame any message can need: seq never wraps.
	 */
	n = (size_t)(h->len - h->got);
	if (n > CTAPHID_CONT_DATA)
		n = CTAPHID_CONT_DATA;
	memcpy(h->buf + h->got, report + 5, n);
	h->got = (uint16_t)(h->got + n);
	h->seq++;
	h->last_ms = hal_millis();
	if (h->got == h->len)
		run_msg(h);
}

void
ctaphid_rx(struct ctaphid *h, const uint8_t report[CTAPHID_REPORT])
{
	uint32_t	cid = get_be32(report);

	if (report[4] & 0x80)
		rx_init_frame(h, cid, report);
	else
		rx_cont_frame(h, cid, report);
}

void
ctaphid_tick(struct ctaphid *h)
{
	uint32_t	cid = h->cid;

	if (cid == 0 || hal_millis() - h->last_ms <= CTAPHID_TIMEOUT_MS)
		return;
	abort_msg(h);
	send_error(cid, CTAPHID_ERR_MSG_TIMEOUT);
}

void
ctaphid_keepalive(struct ctaphid *h, uint8_t status)
{
	if (h->busy_cid == 0 || h->resynced)
		return;
	send_msg(h->busy_cid, CTAPHID_KEEPALIVE, &status, 1);
}

int
ctaphid_rx_busy(struct ctaphid *h, const uint8_t report[CTAPHID_REPORT])
{
	uint32_t	cid = get_be32(report);
	uint8_t		cmd = report[4], err;

	if (h->busy_cid == 0) {		/* misuse: nothing runs */
		ctaphid_rx(h, report);
		return 0;
	}
	if (!(cmd & 0x80)) {
		/* the continuation of a request we cannot take now */
		if (cid == CTAPHID_BROADCAST || !is_allocated(h, cid))
			send_error(cid, CTAPHID_ERR_INVALID_CHANNEL);
		else
			send_error(cid, CTAPHID_ERR_CHANNEL_BUSY);
		return 0;
	}
	if ((err = check_channel(h, cid, cmd)) != 0) {
		send_error(cid, err);
		return 0;
	}
	if (cmd == CTAPHID_INIT) {
		if (cid == h->busy_cid && init_len_ok(report))
			h->resynced = 1;
		/* h->buf, h->out belong to the command: do_init uses neither */
		do_init(h, cid, report);
		return h->resynced;
	}
	if (cmd == CTAPHID_CANCEL) {
		if (cid != h->busy_cid)
			return 0;	/* CANCEL never gets an answer */
		h->cancelled = 1;
		return 1;
	}
	send_error(cid, CTAPHID_ERR_CHANNEL_BUSY);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * CTAPHID (CTAP 2.1 section 11.2): the framing layer between 64-byte HID
 * reports and CTAP messages.  No heap: one struct holds every buffer.
 */
#ifndef SOFTFIDO_CTAPHID_H
#define SOFTFIDO_CTAPHID_H

#include <stddef.h>
#include <stdint.h>

#define CTAPHID_REPORT		64
#define CTAPHID_INIT_DATA	(CTAPHID_REPORT - 7)
#define CTAPHID_CONT_DATA	(CTAPHID_REPORT - 5)
/* 57 + 128 * 59: the largest message the framing can carry. */
#define CTAPHID_MAX_MSG		(CTAPHID_INIT_DATA + 128 * CTAPHID_CONT_DATA)
#define CTAPHID_TIMEOUT_MS	3000	/* between frames of one message */

#define CTAPHID_BROADCAST	0xffffffffu

/* Commands (with the INIT bit 0x80 set). */
#define CTAPHID_PING		0x81
#define CTAPHID_MSG		0x83
#define CTAPHID_LOCK		0x84
#define CTAPHID_INIT		0x86
#define CTAPHID_WINK		0x88
#define CTAPHID_CBOR		0x90
#define CTAPHID_CANCEL		0x91
#define CTAPHID_KEEPALIVE	0xbb
#define CTAPHID_ERROR		0xbf

/* CTAPHID_ERROR codes. */
#define CTAPHID_ERR_INVALID_CMD		0x01
#define CTAPHID_ERR_INVALID_PAR		0x02
#define CTAPHID_ERR_INVALID_LEN		0x03
#define CTAPHID_ERR_INVALID_SEQ		0x04
#define CTAPHID_ERR_MSG_TIMEOUT		0x05
#define CTAPHID_ERR_CHANNEL_BUSY	0x06
#define CTAPHID_ERR_LOCK_REQUIRED	0x0a
#define CTAPHID_ERR_INVALID_CHANNEL	0x0b
#define CTAPHID_ERR_OTHER		0x7f

/* KEEPALIVE status bytes. */
#define CTAPHID_KEEPALIVE_PROCESSING	1
#define CTAPHID_KEEPALIVE_UPNEEDED	2

struct ctaphid {
	uint32_t	next_cid;	/* last channel id handed out */
	/* message being reassembled */
	uint32_t	cid;		/* 0 when idle */
	uint8_t		cmd;
	uint8_t		seq;		/* next expected continuation seq */
	uint16_t	len;		/* announced payload length */
	uint16_t	got;		/* payload bytes received so far */
	uint64_t	last_ms;	/* time of the last frame */
	/* set while a CBOR command runs (hal_user_presence may be waiting) */
	uint32_t	busy_cid;
	int		cancelled;	/* CANCEL came: command ends early */
	int		resynced;	/* INIT resynced it: drop the reply */
	uint8_t		buf[CTAPHID_MAX_MSG];
	uint8_t		out[CTAPHID_MAX_MSG];
};

/* Reset every channel and buffer. */
void	ctaphid_init(struct ctaphid *h);

/*
 * Handle one report from the host while idle: reassemble, and when a message
 * is complete run it (CBOR through ctap2_dispatch) and send the reply with
 * hal_hid_send().
 */
void	ctaphid_rx(struct ctaphid *h, const uint8_t report[CTAPHID_REPORT]);

/* Abort a message whose next frame is overdue (call every few ms). */
void	ctaphid_tick(struct ctaphid *h);

/* While a command runs: tell the host we are alive (status byte). */
void	ctaphid_keepalive(struct ctaphid *h, uint8_t status);

/*
 * While a command runs: handle a report that arrived meanwhile.  Returns 1
 * when the running command should stop: a CANCEL on its channel (its reply
 * then carries CTAP2_ERR_KEEPALIVE_CANCEL), or an INIT that resynchronised
 * its channel (its reply is then dropped).  Else 0: other frames are told
 * ERR_CHANNEL_BUSY, INIT on another channel still works.
 */
int	ctaphid_rx_busy(struct ctaphid *h,
	    const uint8_t report[CTAPHID_REPORT]);

#endif /* SOFTFIDO_CTAPHID_H */

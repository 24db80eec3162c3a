/* SPDX-License-Identifier: ISC */
/*
 * Bounded messages between tapgate's processes: a fixed-capacity buffer
 * with typed writers and readers (big-endian integers, length-prefixed byte
 * strings).  A writer that would overflow, or a reader asked for more than
 * is there, marks the message bad; msg_end() then fails, as it does on
 * trailing bytes.  Receivers treat a bad message from a peer process as a
 * protocol violation.
 */
#ifndef TAPGATE_MSG_H
#define TAPGATE_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MSG_MAX		16384

struct msg {
	uint8_t	buf[MSG_MAX];
	size_t	len;	/* bytes written, or received */
	size_t	off;	/* read position */
	int	bad;	/* an overflow or a short read happened */
};

/* Start an empty message for writing. */
void	msg_init(struct msg *m);

void	msg_put_u8(struct msg *m, uint8_t v);
void	msg_put_u32(struct msg *m, uint32_t v);
/* A byte string: u32 length then the bytes (p may be NULL when n is 0). */
void	msg_put_bytes(struct msg *m, const void *p, size_t n);
/* A NUL-free string, as bytes; NULL is written as an empty string. */
void	msg_put_str(struct msg *m, const char *s);

/* Start reading n received bytes (copied into m). 0 or TG_ERR_TOO_LONG. */
int	msg_load(struct msg *m, const void *p, size_t n);

uint8_t	msg_get_u8(struct msg *m);
uint32_t msg_get_u32(struct msg *m);
/* Point *p at a byte string of at most max bytes inside m; its length. */
size_t	msg_get_bytes(struct msg *m, const uint8_t **p, size_t max);
/* Copy a string of at most cap - 1 bytes without NULs into out. */
void	msg_get_str(struct msg *m, char *out, size_t cap);

/* 0 when nothing went wrong and every byte was read, else TG_ERR_PROTOCOL. */
int	msg_end(const struct msg *m);

/* Wipe the buffer (messages may carry PINs). */
void	msg_wipe(struct msg *m);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The one message format between tapgate's processes (the monitor and
 * each of its children), in the spirit of OpenSMTPD's imsg and OpenSSH's
 * monitor.  A message is a header and a payload:
 *
 *	u8 type, u32 sequence number, u32 payload length	(MSG_HDR_LEN)
 *	payload							(length bytes)
 *
 * all integers big-endian.  The payload is written and read with the
 * typed writers and readers below (integers, length-prefixed byte
 * strings): a writer that would pass the message's bound, or a reader
 * asked for more than is there, marks the message bad, and msg_end()
 * then fails, as it does on trailing bytes.
 *
 * A channel (struct msg_chan) carries messages over a connected AF_UNIX
 * socket: SOCK_STREAM (header, then exactly the payload) or
 * SOCK_SEQPACKET (one datagram per message, as long as its header says).
 * Its protocol's table (struct msg_proto) is the whole protocol: which
 * side may send which type in which state, the state that follows, and
 * the type's largest payload.  Each side numbers its messages 1, 2, 3...
 * A received message of a type the table does not permit from the peer
 * in the channel's state, over its type's bound, numbered other than
 * next (replayed or skipped), cut short or followed by more bytes than
 * its header says, is a protocol violation: the reader gets
 * TG_ERR_PROTOCOL, ch->err says what was wrong, and the channel is dead
 * (every later call on it fails).  The payload's own decoder reports its
 * violations the same way (msg_chan_violation, msg_chan_end).
 */
#ifndef TAPGATE_MSG_H
#define TAPGATE_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MSG_HDR_LEN	9		/* type, sequence number, length */
#define MSG_MAX		16384		/* a payload's bound unless raised */
#define MSG_MAX_ANY	(8u << 20)	/* no message's bound is higher */

/*
 * A message: its payload at buf (the header's MSG_HDR_LEN bytes sit just
 * before it, so a message crosses in one write).  A struct msg starts
 * zeroed (static, or = { 0 }); msg_init() readies it for writing, a load
 * or a receive for reading.  The buffer grows as written, up to max, and
 * is kept for the next use until msg_free().
 */
struct msg {
	uint8_t	*frame;	/* header then payload; NULL until needed */
	uint8_t	*buf;	/* frame + MSG_HDR_LEN: the payload */
	size_t	 len;	/* payload bytes written, or received */
	size_t	 off;	/* read position in the payload */
	size_t	 cap;	/* payload bytes allocated */
	size_t	 max;	/* bound on len */
	int	 bad;	/* an overflow, a short read or no memory */
	int	 nomem;	/* ... and it was no memory */
};

/* Start an empty message for writing, of at most MSG_MAX bytes. */
void	msg_init(struct msg *m);
/* The same, of at most max (<= MSG_MAX_ANY) bytes. */
void	msg_init_max(struct msg *m, size_t max);

void	msg_put_u8(struct msg *m, uint8_t v);
void	msg_put_u32(struct msg *m, uint32_t v);
/* A byte string: u32 length then the bytes (p may be NULL when n is 0). */
void	msg_put_bytes(struct msg *m, const void *p, size_t n);
/* A NUL-free string, as bytes; NULL is written as an empty string. */
void	msg_put_str(struct msg *m, const char *s);

/*
 * Start reading n bytes of payload (copied into m).  0, TG_ERR_TOO_LONG
 * (over MSG_MAX) or TG_ERR_NOMEM.
 */
int	msg_load(struct msg *m, const void *p, size_t n);

uint8_t	msg_get_u8(struct msg *m);
uint32_t msg_get_u32(struct msg *m);
/* Point *p at a byte string of at most max bytes inside m; its length. */
size_t	msg_get_bytes(struct msg *m, const uint8_t **p, size_t max);
/* Copy a string of at most cap - 1 bytes without NULs into out. */
void	msg_get_str(struct msg *m, char *out, size_t cap);

/* 0 when nothing went wrong and every byte was read, else TG_ERR_PROTOCOL. */
int	msg_end(const struct msg *m);

/* Wipe the payload (messages may carry PINs); the buffer is kept. */
void	msg_wipe(struct msg *m);

/* Wipe and free the buffer: m is an empty, zeroed message again. */
void	msg_free(struct msg *m);

/* ---- channels */

/* The two ends of every channel. */
enum msg_side {
	MSG_MONITOR = 0,	/* the daemon holding the database and key */
	MSG_CHILD = 1,		/* the front, token process or hook runner */
};

/* One permitted message: type from side, in state in, then next. */
struct msg_rule {
	uint8_t		 type;
	uint8_t		 from;	/* enum msg_side */
	uint8_t		 in;
	uint8_t		 next;
	size_t		 max;	/* the payload's bound */
	const char	*name;	/* for messages: "request" */
};

/* A protocol: its table and the socket type it runs over. */
struct msg_proto {
	const char		*name;		/* the child: "front" */
	int			 sock_type;	/* SOCK_STREAM or _SEQPACKET */
	const struct msg_rule	*rules;
	size_t			 nrules;
	const char *const	*states;	/* names, by number */
	size_t			 nstates;	/* channels start in state 0 */
};

/*
 * One end of a channel.  Used by one thread at a time; nothing in it is
 * shared with the peer but the socket.
 */
struct msg_chan {
	int			 fd;
	const struct msg_proto	*proto;
	enum msg_side		 side;		/* this end's */
	uint8_t			 state;
	uint32_t		 sent;		/* last number sent */
	uint32_t		 received;	/* last number received */
	int			 dead;		/* a violation or I/O error */
	char			 err[160];	/* what the last refusal was */
};

/* A fresh channel on fd (the proto's socket type) for side. */
void	msg_chan_init(struct msg_chan *ch, int fd, const struct msg_proto *p,
	    enum msg_side side);

#define MSG_CHAN_NOWAIT	0x1	/* msg_chan_send: do not wait for room */

/*
 * Send m as the next message of type on ch (m's header is written here).
 * 0; TG_ERR_PROTOCOL when the table does not let this side send type now
 * (nothing sent; ch->err says why) or the channel is dead; TG_ERR_TOO_LONG
 * when m is over its writer's bound or the type's (nothing sent);
 * TG_ERR_NOMEM when writing m ran out of memory; TG_ERR_INVALID for
 * MSG_CHAN_NOWAIT on a stream; TG_ERR_BUSY with MSG_CHAN_NOWAIT when the
 * socket has no room (nothing sent); TG_ERR_IO when the write failed (the
 * channel is dead).
 */
int	msg_chan_send(struct msg_chan *ch, uint8_t type, struct msg *m,
	    int flags);

/*
 * Receive the next message into m (its payload, ready to read) and its
 * type into *type.  0; TG_ERR_CLOSED when the peer closed the channel
 * between messages; TG_ERR_PROTOCOL on a violation (ch->err says what;
 * the channel is dead); TG_ERR_IO or TG_ERR_NOMEM (dead as well).
 */
int	msg_chan_recv(struct msg_chan *ch, uint8_t *type, struct msg *m);

/*
 * The parser msg_chan_recv() uses, on one whole message held in memory
 * (a datagram, or a header and its payload): checks it against the
 * table and the numbering exactly as a received one, moves the channel
 * on, and loads the payload into m.  0, TG_ERR_PROTOCOL (dead) or
 * TG_ERR_NOMEM.  For tests and the fuzz harness.
 */
int	msg_chan_parse(struct msg_chan *ch, const uint8_t *p, size_t n,
	    uint8_t *type, struct msg *m);

/*
 * A violation found in a payload by its decoder: records it in ch->err,
 * kills the channel; returns TG_ERR_PROTOCOL.
 */
int	msg_chan_violation(struct msg_chan *ch, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The decoder's last step: msg_end(m), a failure being a violation
 * ("malformed " what).  0 or TG_ERR_PROTOCOL.
 */
int	msg_chan_end(struct msg_chan *ch, const struct msg *m,
	    const char *what);

#endif

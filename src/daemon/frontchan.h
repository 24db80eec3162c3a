/* SPDX-License-Identifier: ISC */
/*
 * The channel between the front process (HTTP on the API socket, no key,
 * no database, no devices) and the monitor (the daemon that holds them).
 *
 * A channel is one connected stream socket carrying frames:
 *
 *	u32 header length (at most MSG_MAX), header (a struct msg),
 *	u32 payload length (bounded per frame type), payload (opaque bytes)
 *
 * The front sends FC_REQUEST frames (an HTTP request with its peer
 * credentials, bounded query and body) and the monitor answers each with
 * one FC_REPLY frame (status, content type, body).  A table of permitted
 * frames says which side may send which frame in which channel state, and
 * what state follows: a request only when the channel is idle, a reply
 * only to the request outstanding, carrying its sequence number, and each
 * sequence number once.  Whatever breaks the table, a bound or the header
 * encoding is a protocol violation: the reader gets TG_ERR_PROTOCOL and a
 * message naming what was wrong, and the channel is not used again.
 */
#ifndef TAPGATE_FRONTCHAN_H
#define TAPGATE_FRONTCHAN_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/http.h"

#define FC_MAX_REPLY	(4u << 20)	/* an answer's body */
#define FC_MAX_METHOD	15

enum fc_type {
	FC_REQUEST = 1,		/* front -> monitor */
	FC_REPLY = 2,		/* monitor -> front */
};

/* Which side an endpoint of a channel is. */
enum fc_side {
	FC_FRONT,
	FC_MONITOR,
};

/* One endpoint: its socket, its side, and the channel's state. */
struct fc_chan {
	int		 fd;
	enum fc_side	 side;
	int		 busy;		/* a request is outstanding */
	uint32_t	 seq;		/* of the last request */
	char		 err[160];	/* what the last violation was */
};

/*
 * A request as it crosses the channel: the http_request fields with their
 * storage.  fc_request_view() gives the handler's http_request.
 */
struct fc_request {
	char			 method[FC_MAX_METHOD + 1];
	char			 path[HTTP_MAX_PATH + 1];
	struct http_peer	 peer;
	int			 has_ctype;
	char			 ctype[HTTP_MAX_FIELD + 1];
	int			 has_idem;
	char			 idem[HTTP_MAX_FIELD + 1];
	size_t			 nquery;
	char			 qkey[HTTP_MAX_QUERY][HTTP_MAX_QUERY_KEY + 1];
	char			 qval[HTTP_MAX_QUERY][HTTP_MAX_QUERY_VALUE + 1];
	char			*body;		/* malloc'd, NUL-terminated */
	size_t			 body_len;
};

/* A reply: status, body and the two header values the front may send. */
struct fc_reply {
	unsigned int	 status;
	const char	*content_type;	/* one of the few the API uses */
	const char	*allow;		/* NULL, or one of the route's sets */
	char		*body;		/* malloc'd, NUL-terminated */
	size_t		 body_len;
};

void	fc_chan_init(struct fc_chan *ch, int fd, enum fc_side side);

/*
 * Front: send req (max_body bounds its body) as the next request.  0,
 * TG_ERR_PROTOCOL (the channel is busy or a field is over its bound) or
 * TG_ERR_IO.
 */
int	fc_send_request(struct fc_chan *ch, const struct http_request *req,
	    size_t max_body);

/*
 * Monitor: read the next request into *req (cleared first; free it with
 * fc_request_clear).  0, TG_ERR_CLOSED (the front closed the channel
 * between frames), TG_ERR_PROTOCOL (ch->err says what) or TG_ERR_IO.
 */
int	fc_recv_request(struct fc_chan *ch, size_t max_body,
	    struct fc_request *req);

/* Monitor: answer the outstanding request with res (JSON or text). */
int	fc_send_reply(struct fc_chan *ch, const struct http_response *res);

/* Front: read the reply to the outstanding request into *rep. */
int	fc_recv_reply(struct fc_chan *ch, struct fc_reply *rep);

/* The handler's view of a received request (pointers into req). */
void	fc_request_view(const struct fc_request *req, struct http_request *out);

void	fc_request_clear(struct fc_request *req);	/* wipes the body */
void	fc_reply_clear(struct fc_reply *rep);

/*
 * Parse one frame held in memory (header and payload as they arrived) as
 * what side expects next; the readers above use it, and so does the fuzz
 * harness.  0 or TG_ERR_PROTOCOL with ch->err set.
 */
int	fc_parse_request(struct fc_chan *ch, const uint8_t *hdr, size_t hlen,
	    const uint8_t *payload, size_t plen, size_t max_body,
	    struct fc_request *req);
int	fc_parse_reply(struct fc_chan *ch, const uint8_t *hdr, size_t hlen,
	    const uint8_t *payload, size_t plen, struct fc_reply *rep);

#endif

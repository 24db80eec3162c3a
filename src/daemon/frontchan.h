/* SPDX-License-Identifier: ISC */
/*
 * The channels between the front process (HTTP on the API socket, no key,
 * no database, no devices) and the monitor (the daemon that holds them):
 * connected stream sockets carrying the one message format of
 * common/msg.h under the tables proto_front and proto_front_ctl
 * (daemon/proto.h, which also gives the payloads).
 *
 * One channel per HTTP worker: the front sends a request (an HTTP
 * request with its peer credentials, bounded query and body) only while
 * the channel is idle, and the monitor answers it with one reply
 * (status, content type, body).  The control channel carries one message,
 * from the monitor before the front serves: who the privileged callers
 * are; then, when the front serves HTTPS, its credentials, at the start
 * and on each reload; it closes to stop the front.
 * Whatever breaks a table, a bound, the numbering or a payload's encoding
 * is a protocol violation: the reader gets TG_ERR_PROTOCOL, ch->err names
 * what was wrong, and the channel is dead.  A side's own message that its
 * table does not permit now, or that is over a bound, is refused before
 * anything is sent (TG_ERR_PROTOCOL, ch->err says why), and the channel
 * lives on.
 */
#ifndef TAPGATE_FRONTCHAN_H
#define TAPGATE_FRONTCHAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"
#include "daemon/http.h"

#define FC_MAX_BODY	(64u * 1024)	/* a request's body, at most */
#define FC_MAX_REPLY	(4u << 20)	/* an answer's body */
#define FC_MAX_METHOD	15

/*
 * A request as it crosses the channel: the http_request fields with their
 * storage.  fc_request_view() gives the handler's http_request.
 */
struct fc_request {
	char			 method[FC_MAX_METHOD + 1];
	char			 path[HTTP_MAX_PATH + 1];
	struct http_peer	 peer;
	char			 session[HTTP_MAX_SESSION + 1];	/* "": none */
	char			 csrf[HTTP_MAX_CSRF + 1];
	char			 origin[HTTP_MAX_ORIGIN + 1];
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

/*
 * A reply: status, body and the three header values the front may send
 * (Set-Cookie: printable ASCII, "" for none).
 */
struct fc_reply {
	unsigned int	 status;
	const char	*content_type;	/* one of the few the API uses */
	const char	*allow;		/* NULL, or one of the route's sets */
	char		 set_cookie[HTTP_MAX_SET_COOKIE + 1];
	char		*body;		/* malloc'd, NUL-terminated */
	size_t		 body_len;
};

/* A worker's channel on fd, for the front (MSG_CHILD) or the monitor. */
void	fc_chan_init(struct msg_chan *ch, int fd, enum msg_side side);

/* The control channel on fd, for either side. */
void	fc_ctl_init(struct msg_chan *ch, int fd, enum msg_side side);

/*
 * Front: send req (max_body, at most FC_MAX_BODY, bounds its body) as the
 * next request.  Its session, csrf and origin (HTTPS only; NULL: none)
 * are printable ASCII within HTTP_MAX_SESSION, HTTP_MAX_CSRF and
 * HTTP_MAX_ORIGIN.  0, TG_ERR_PROTOCOL (refused: the channel is busy or
 * dead, or a field is over its bound), TG_ERR_NOMEM or TG_ERR_IO.
 */
int	fc_send_request(struct msg_chan *ch, const struct http_request *req,
	    size_t max_body);

/*
 * Monitor: read the next request into *req (cleared first; free it with
 * fc_request_clear).  0, TG_ERR_CLOSED (the front closed the channel
 * between messages), TG_ERR_PROTOCOL (ch->err says what), TG_ERR_NOMEM
 * or TG_ERR_IO.
 */
int	fc_recv_request(struct msg_chan *ch, size_t max_body,
	    struct fc_request *req);

/*
 * Monitor: answer the outstanding request with res (JSON or text).  0,
 * TG_ERR_PROTOCOL (refused: no request is outstanding, or the answer is
 * out of what a reply carries: ch->err says which), TG_ERR_NOMEM or
 * TG_ERR_IO.
 */
int	fc_send_reply(struct msg_chan *ch, const struct http_response *res);

/*
 * Front: read the reply to the outstanding request into *rep (free it
 * with fc_reply_clear).  0, TG_ERR_CLOSED, TG_ERR_PROTOCOL, TG_ERR_NOMEM
 * or TG_ERR_IO.
 */
int	fc_recv_reply(struct msg_chan *ch, struct fc_reply *rep);

/* The handler's view of a received request (pointers into req). */
void	fc_request_view(const struct fc_request *req, struct http_request *out);

void	fc_request_clear(struct fc_request *req);	/* wipes the body */
void	fc_reply_clear(struct fc_reply *rep);

/*
 * Monitor, on the control channel: tell the front the privileged uids and
 * gids of lim.  0 or a TG_ERR_* (as msg_chan_send).
 */
int	fc_send_privileged(struct msg_chan *ch, const struct http_limits *lim);

/*
 * Front: set lim's privileged uids and gids to what the monitor sends
 * first (the other limits are left as they are).  0, TG_ERR_CLOSED,
 * TG_ERR_PROTOCOL, TG_ERR_NOMEM or TG_ERR_IO.
 */
int	fc_recv_privileged(struct msg_chan *ch, struct http_limits *lim);

/*
 * The HTTPS listener's credentials, PEM text: the certificate chain and
 * its key (served), and the CAs client certificates must chain to.  The
 * monitor sends them after the privileged callers when the front serves
 * HTTPS, and again (ca_pem "") on each reload.
 */
struct fc_tls {
	char	*cert_pem;	/* malloc'd, NUL-terminated */
	char	*key_pem;	/* malloc'd, wiped by fc_tls_clear */
	char	*ca_pem;	/* malloc'd; "" on a reload */
};

/*
 * Monitor, on the control channel: send tls (each PEM at most
 * HTTP_TLS_MAX_PEM bytes, holding no NUL).  0 or a TG_ERR_*.
 */
int	fc_send_tls(struct msg_chan *ch, const struct fc_tls *tls);
/*
 * Front: the next control message.  0 with *tls filled (free it with
 * fc_tls_clear), TG_ERR_CLOSED (the monitor stops the front),
 * TG_ERR_PROTOCOL, TG_ERR_NOMEM or TG_ERR_IO.
 */
int	fc_recv_tls(struct msg_chan *ch, struct fc_tls *tls);
void	fc_tls_clear(struct fc_tls *tls);

/*
 * Decode the payload of a request, reply or privileged-callers message
 * that msg_chan_recv() or msg_chan_parse() took on ch; the readers above
 * use them, and so does the fuzz harness.  0, TG_ERR_PROTOCOL (ch->err
 * set, the channel dead) or TG_ERR_NOMEM; *req and *rep are cleared
 * first and hold nothing to free after a failure.
 */
int	fc_parse_request(struct msg_chan *ch, struct msg *m, size_t max_body,
	    struct fc_request *req);
int	fc_parse_reply(struct msg_chan *ch, struct msg *m,
	    struct fc_reply *rep);
int	fc_parse_privileged(struct msg_chan *ch, struct msg *m,
	    struct http_limits *lim);
int	fc_parse_tls(struct msg_chan *ch, struct msg *m, struct fc_tls *tls);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Both ends of the front channel (src/daemon/frontchan.c): the monitor
 * reading what a compromised front sends, and the front reading what
 * comes back.  Input: one byte picking the side, two bytes of header
 * length, the header, then the payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "daemon/frontchan.h"

#define MAX_BODY	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_request(const struct fc_request *rq)
{
	struct http_request v;
	size_t i;

	fc_request_view(rq, &v);
	if (v.nquery > HTTP_MAX_QUERY || v.body_len > MAX_BODY ||
	    v.body[v.body_len] != '\0' || v.path[0] != '/' ||
	    strlen(v.path) > HTTP_MAX_PATH ||
	    strlen(v.method) > FC_MAX_METHOD)
		abort();
	for (i = 0; i < v.nquery; i++)
		if (strlen(v.query[i].key) > HTTP_MAX_QUERY_KEY ||
		    strlen(v.query[i].value) > HTTP_MAX_QUERY_VALUE)
			abort();
	if ((v.content_type && strlen(v.content_type) > HTTP_MAX_FIELD) ||
	    (v.idempotency_key && strlen(v.idempotency_key) > HTTP_MAX_FIELD))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fc_chan ch;
	struct fc_request rq;
	struct fc_reply rep;
	size_t hlen;
	int r;

	if (len < 3)
		return 0;
	hlen = (size_t)data[1] << 8 | data[2];
	if (hlen > len - 3)
		hlen = len - 3;
	if (data[0] & 1) {
		/* the front, waiting for the answer to its request 1 */
		fc_chan_init(&ch, -1, FC_FRONT);
		ch.busy = 1;
		ch.seq = 1;
		r = fc_parse_reply(&ch, data + 3, hlen, data + 3 + hlen,
		    len - 3 - hlen, &rep);
		if (r == 0 && (rep.status < 100 || rep.status > 599 ||
		    rep.content_type == NULL || rep.body == NULL ||
		    rep.body_len > FC_MAX_REPLY || ch.busy))
			abort();
		fc_reply_clear(&rep);
	} else {
		/* the monitor, idle after request data[0] >> 1 */
		fc_chan_init(&ch, -1, FC_MONITOR);
		ch.seq = data[0] >> 1;
		r = fc_parse_request(&ch, data + 3, hlen, data + 3 + hlen,
		    len - 3 - hlen, MAX_BODY, &rq);
		if (r == 0) {
			check_request(&rq);
			if (!ch.busy || ch.seq != (uint32_t)(data[0] >> 1) + 1)
				abort();
		} else if (ch.err[0] == '\0' && r == TG_ERR_PROTOCOL)
			abort();	/* a refusal names its reason */
		fc_request_clear(&rq);
	}
	if (r != 0 && r != TG_ERR_PROTOCOL && r != TG_ERR_NOMEM)
		abort();
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The one message format's parser (common/msg.c: msg_chan_parse) and the
 * four tables of daemon/proto.h, with each channel's payload decoders,
 * from either end: the monitor reading what a compromised child sends
 * (front requests, token replies, hook reports) and a child reading what
 * the monitor sends (front replies and privileged callers, token
 * requests, hook events).  Between messages the end under test answers
 * with its real writer when its table lets it (over a socketpair whose
 * other end is drained), so a conversation goes on as long as the input
 * keeps to the table.
 *
 * Input: a failure-injection seed (wrap.h, WRAP_SEED_LEN bytes, 0 for
 * none); one byte choosing the channel (bits 0-1: front, front control,
 * token process, hook runner) and the end reading (bit 2 set: the
 * child); then messages as they cross the socket, each MSG_HDR_LEN
 * bytes of header and as many bytes as it says (the last one may be cut
 * short).  Failures are injected into everything after the seed.
 *
 * The stored corpus (tests/fuzz/mkcorpus_msg.c records it from the real
 * writers) must carry the fuzzer through every channel's decoders, from
 * both ends: each is a goal (goal.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/frontchan.h"
#include "daemon/hookproc.h"
#include "daemon/proto.h"
#include "daemon/tokenproc.h"
#include "goal.h"
#include "wrap.h"

#define MAX_MESSAGES	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct msg_proto *const protos[] = {
	&proto_front, &proto_front_ctl, &proto_token, &proto_hooks,
};

static struct msg	 in, out;
static int		 sv[2] = { -1, -1 };

/* inputs of which the end under test took a message, by channel and end */
static unsigned long	 taken[4][2];
static unsigned long	 tls_taken;	/* inputs with HTTPS credentials */
static int		 tls_took;

static const char *const goals[4][2] = {
	{ "monitor_takes_a_front_request", "front_takes_a_reply" },
	{ NULL, "front_takes_its_privileged_callers" },
	{ "monitor_takes_a_token_reply", "token_process_takes_a_request" },
	{ "monitor_takes_a_hook_report", "hook_runner_takes_an_event" },
};

int
fuzz_goal(size_t i, const char **name, unsigned long *hits)
{
	size_t k;

	for (k = 0; k < 8; k++) {
		if (goals[k / 2][k % 2] == NULL || i-- > 0)
			continue;
		*name = goals[k / 2][k % 2];
		*hits = taken[k / 2][k % 2];
		return 0;
	}
	if (i == 0) {
		*name = "front_takes_https_credentials";
		*hits = tls_taken;
		return 0;
	}
	return -1;
}

static void
fuzz_assert(int ok)
{
	if (!ok)
		abort();
}

/* What is sent to the other end is read and dropped. */
static void
drain(void)
{
	static uint8_t sink[65536];

	while (recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

/* A result other than 0 must be a refusal with its reason, or no memory. */
static void
check_result(const struct msg_chan *ch, int r)
{
	if (r == TG_ERR_PROTOCOL)
		fuzz_assert(ch->dead && ch->err[0] != '\0');
	else if (r == TG_ERR_NOMEM)
		fuzz_assert(wrap_injected() > 0);
	else
		fuzz_assert(r == 0);
}

/* ---- the front's channels */

static void
check_request(const struct fc_request *rq)
{
	struct http_request v;
	size_t i;

	fc_request_view(rq, &v);
	fuzz_assert(v.nquery <= HTTP_MAX_QUERY && v.body_len <= FC_MAX_BODY &&
	    v.body[v.body_len] == '\0' && v.path[0] == '/' &&
	    strlen(v.path) <= HTTP_MAX_PATH &&
	    strlen(v.method) <= FC_MAX_METHOD);
	for (i = 0; i < v.nquery; i++)
		fuzz_assert(strlen(v.query[i].key) <= HTTP_MAX_QUERY_KEY &&
		    strlen(v.query[i].value) <= HTTP_MAX_QUERY_VALUE);
	fuzz_assert(v.content_type == NULL ||
	    strlen(v.content_type) <= HTTP_MAX_FIELD);
	fuzz_assert(v.idempotency_key == NULL ||
	    strlen(v.idempotency_key) <= HTTP_MAX_FIELD);
	/* over HTTPS no uid; a fingerprint only there */
	fuzz_assert(v.peer.tls ? v.peer.uid == (uid_t)HTTP_NO_ID &&
	    v.peer.gid == (gid_t)HTTP_NO_ID : !v.peer.has_cert);
}

/* The monitor: a request in, the handler's answer out. */
static int
front_monitor(struct msg_chan *ch)
{
	struct http_response res = { .status = 200 };
	struct fc_request rq;
	int r;

	if ((r = fc_parse_request(ch, &in, FC_MAX_BODY, &rq)) != 0)
		return r;
	check_request(&rq);
	fc_request_clear(&rq);
	res.text = (char *)(uintptr_t)"ok";
	return fc_send_reply(ch, &res);
}

/* The front: a request out whenever the channel is idle. */
static int
front_ask(struct msg_chan *ch)
{
	struct http_request req;

	if (ch->state != PROTO_FRONT_IDLE)
		return 0;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/healthz";
	req.body = "";
	return fc_send_request(ch, &req, FC_MAX_BODY);
}

static int
front_child(struct msg_chan *ch)
{
	struct fc_reply rep;
	int r;

	if ((r = fc_parse_reply(ch, &in, &rep)) != 0)
		return r;
	fuzz_assert(rep.status >= 100 && rep.status <= 599 &&
	    rep.content_type != NULL && rep.body != NULL &&
	    rep.body_len <= FC_MAX_REPLY && rep.body[rep.body_len] == '\0' &&
	    ch->state == PROTO_FRONT_IDLE);
	fc_reply_clear(&rep);
	return 0;
}

static int
ctl_child(struct msg_chan *ch, uint8_t type)
{
	static struct http_limits lim;
	struct fc_tls tls;
	int r;

	if (type == PROTO_FRONT_TLS) {
		if ((r = fc_parse_tls(ch, &in, &tls)) != 0)
			return r;
		tls_took = 1;
		fuzz_assert(strlen(tls.cert_pem) <= HTTP_TLS_MAX_PEM &&
		    strlen(tls.key_pem) <= HTTP_TLS_MAX_PEM &&
		    strlen(tls.ca_pem) <= HTTP_TLS_MAX_PEM &&
		    ch->state == PROTO_CTL_RUNNING);
		fc_tls_clear(&tls);
		return 0;
	}
	if ((r = fc_parse_privileged(ch, &in, &lim)) == 0)
		fuzz_assert(lim.nuids <= HTTP_MAX_PRIVILEGED &&
		    lim.ngids <= HTTP_MAX_PRIVILEGED);
	return r;
}

/* ---- the token process */

/*
 * The monitor asks before each reply: for a list, an enrolment, an
 * assertion or an identification as the reply's type would answer (so
 * that the fuzzer reaches each reply's decoder, and replies of another
 * kind).
 */
static int
token_ask(struct msg_chan *ch, uint8_t next)
{
	static const uint8_t kinds[] = {
		PROTO_TOKEN_LIST, PROTO_TOKEN_ENROLL, PROTO_TOKEN_ASSERT,
		PROTO_TOKEN_IDENTIFY,
	};

	msg_init(&out);
	msg_put_u32(&out, 0);
	return msg_chan_send(ch, kinds[(uint8_t)(next - PROTO_TOKEN_LIST) /
	    2u % 4], &out, 0);
}

static int
token_monitor(struct msg_chan *ch, uint8_t type)
{
	static const uint8_t cdh[TOKEN_CDH_LEN];
	const struct token_enroll_req req = { .rp_id = "tapgate.example",
	    .rp_name = "tapgate", .client_data_hash = cdh, .cred_protect = 3,
	    .alg = TOKEN_ALG_ES256 };
	struct token_credential *c = NULL;
	struct token_assertion *a = NULL;
	const uint8_t *id;
	size_t len;
	int r, left;

	/* a status the child reports is no failure of ours: r is not */
	switch (type) {
	case PROTO_TOKEN_LISTED:
		(void)msg_get_u32(&in);
		break;
	case PROTO_TOKEN_ENROLLED:
		/* without trust roots: fuzz_privsep verifies enrolments */
		r = tokenproc_enroll_reply(&in, &req, &c, NULL);
		fuzz_assert(r <= 0 && (r != 0 || c != NULL));
		token_credential_free(&c);
		break;
	case PROTO_TOKEN_ASSERTED:
		r = tokenproc_assert_reply(&in, &a, &left);
		fuzz_assert(r <= 0 && (r != 0 || (a != NULL &&
		    a->cred_id_len <= TOKEN_CRED_ID_MAX &&
		    a->authdata_len <= TOKEN_AUTHDATA_MAX &&
		    a->sig_len <= TOKEN_SIG_MAX)));
		fuzz_assert(left >= -1 && left < PROTO_TOKEN_RETRIES_UNKNOWN);
		token_assertion_free(&a);
		break;
	case PROTO_TOKEN_IDENTIFIED:
		r = tokenproc_identify_reply(&in, &id, &len, &left);
		fuzz_assert(r <= 0 && (r != 0 || (id != NULL && len > 0 &&
		    len <= TOKEN_CRED_ID_MAX)));
		fuzz_assert(left >= -1 && left < PROTO_TOKEN_RETRIES_UNKNOWN &&
		    (left == -1 || r < 0));
		break;
	default:
		abort();	/* the table lets only replies through */
	}
	/* whatever the status, the reply is read whole */
	return msg_chan_end(ch, &in, "reply");
}

/* The token process takes a request and answers with its kind's reply. */
static int
token_child(struct msg_chan *ch, uint8_t type)
{
	/* each request's reply is the type after it */
	uint8_t reply = (uint8_t)(type + 1);

	fuzz_assert(type == PROTO_TOKEN_LIST || type == PROTO_TOKEN_ENROLL ||
	    type == PROTO_TOKEN_ASSERT || type == PROTO_TOKEN_IDENTIFY);
	msg_init(&out);
	msg_put_u32(&out, (uint32_t)TG_ERR_INVALID);
	return msg_chan_send(ch, reply, &out, 0);
}

/* ---- the hook runner */

static int
hooks_end(struct msg_chan *ch, int child, uint8_t type)
{
	static char program[PROTO_HOOK_PROGRAM_MAX + 1];
	static char event[HOOKS_MAX_EVENT + 1];
	static char tag[PROTO_HOOK_TAG_MAX + 1];
	enum hook_outcome o;
	int r, status, channel;

	if (child && type == PROTO_HOOK_MESSAGE) {
		r = hookproc_parse_message(ch, &in, &channel, tag,
		    sizeof(tag), event, sizeof(event));
		fuzz_assert(r != 0 || (channel >= 0 &&
		    channel < HOOKS_CHANNELS));
		return r;
	}
	if (child)
		return hookproc_parse_event(ch, &in, event, sizeof(event));
	r = hookproc_parse_report(ch, &in, &o, &status, program,
	    sizeof(program), event, sizeof(event));
	fuzz_assert(r != 0 || o <= HOOK_DROPPED);
	return r;
}

/* ---- the conversation */

/* The end under test: what it makes of one message it took. */
static int
take(struct msg_chan *ch, int which, int child, uint8_t type)
{
	switch (which) {
	case 0:
		return child ? front_child(ch) : front_monitor(ch);
	case 1:
		fuzz_assert(child);	/* the monitor hears nothing on it */
		return ctl_child(ch, type);
	case 2:
		return child ? token_child(ch, type) : token_monitor(ch, type);
	default:
		return hooks_end(ch, child, type);
	}
}

/* ... and what it says before the next one may come. */
static int
ask(struct msg_chan *ch, int which, int child, uint8_t next)
{
	if (which == 0 && child)
		return front_ask(ch);
	if (which == 2 && !child && ch->state == PROTO_TOKEN_IDLE)
		return token_ask(ch, next);
	return 0;
}

static void
converse(struct msg_chan *ch, int which, int child, const uint8_t *p,
    size_t n)
{
	uint32_t before;
	size_t len, k;
	uint8_t type;
	int r, i, took = 0;

	for (i = 0; i < MAX_MESSAGES && n > 0; i++) {
		if ((r = ask(ch, which, child, p[0])) != 0) {
			fuzz_assert(r == TG_ERR_NOMEM && wrap_injected() > 0);
			return;
		}
		drain();
		len = n < MSG_HDR_LEN ? n : MSG_HDR_LEN +
		    ((size_t)p[5] << 24 | (size_t)p[6] << 16 |
		    (size_t)p[7] << 8 | p[8]);
		k = len < n ? len : n;
		before = ch->received;
		r = msg_chan_parse(ch, p, k, &type, &in);
		check_result(ch, r);
		if (r != 0)
			return;
		fuzz_assert(ch->received == before + 1 &&
		    in.len == k - MSG_HDR_LEN && in.len <= in.max);
		r = take(ch, which, child, type);
		drain();
		check_result(ch, r);
		if (r != 0)
			break;
		if (!took++)
			taken[which][child]++;
		p += k;
		n -= k;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct msg_proto *proto;
	struct msg_chan ch;
	uint32_t seed;
	int which, child;

	if (wrap_take_seed(&data, &len, &seed) != 0 || len < 1)
		return 0;
	which = data[0] & 3;
	child = (data[0] >> 2) & 1;
	proto = protos[which];
	if (which == 1 && !child)
		child = 1;	/* the control channel is read by the front */
	if (socketpair(AF_UNIX, proto->sock_type, 0, sv) != 0)
		abort();
	msg_chan_init(&ch, sv[0], proto, child ? MSG_CHILD : MSG_MONITOR);
	wrap_start(seed);
	tls_took = 0;
	converse(&ch, which, child, data + 1, len - 1);
	tls_taken += tls_took;
	wrap_stop();
	close(sv[0]);
	close(sv[1]);
	sv[0] = sv[1] = -1;
	/* a dead channel stays dead */
	if (ch.dead) {
		uint8_t type;
		static const uint8_t any[MSG_HDR_LEN];

		fuzz_assert(msg_chan_parse(&ch, any, sizeof(any), &type, &in) ==
		    TG_ERR_PROTOCOL);
	}
	msg_free(&in);
	msg_free(&out);
	return 0;
}

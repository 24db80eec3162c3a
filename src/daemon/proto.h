/* SPDX-License-Identifier: ISC */
/*
 * The protocols between the monitor and its children, all on the one
 * message format of common/msg.h: every message type, and per channel its
 * table of permitted messages (proto.c), which is that channel's whole
 * protocol.  A type belongs to one channel; a message of another
 * channel's type is unknown there.  Payloads, in msg.h's encoding (str
 * and bytes: u32 length, then the bytes; strings hold no NUL):
 *
 * The front's channels (frontchan.h), SOCK_STREAM: answers go up to
 * FC_MAX_REPLY, past what one datagram of a default kernel carries.
 *  front, one channel per HTTP worker: idle -> busy -> idle ...
 *	FRONT_REQUEST	front, idle -> busy: str method, str path,
 *			u32 uid, u32 gid, u32 pid, u8 tls (0: the Unix
 *			socket, 1: HTTPS, uid and gid then 2^32 - 1), bytes
 *			cert_sha256 (0 bytes, or 32 over HTTPS: the verified
 *			client certificate's), str session (the session
 *			cookie's value), str csrf (X-CSRF-Token), str origin
 *			(Origin): each printable ASCII, "" for none and
 *			always "" on the Unix socket, at most
 *			HTTP_MAX_SESSION, HTTP_MAX_CSRF and HTTP_MAX_ORIGIN
 *			bytes; u8 has_ctype, str ctype,
 *			u8 has_idem, str idem, u8 nquery, nquery x
 *			(str key, str value), bytes body
 *	FRONT_REPLY	monitor, busy -> idle: u32 status, u8 content type
 *			code, u8 Allow code, str set_cookie (printable
 *			ASCII, at most HTTP_MAX_SET_COOKIE bytes, "" for
 *			none), bytes body
 *  front control, the front's fd 4: start -> running, then only EOF
 *	FRONT_PRIVILEGED monitor, start -> running: u32 n, n x u32 uid,
 *			u32 n, n x u32 gid
 *	FRONT_TLS	monitor, running -> running: str cert_pem, str
 *			key_pem, str ca_pem (each at most HTTP_TLS_MAX_PEM;
 *			ca_pem "" on a reload)
 *
 * The token process (tokenproc.h), SOCK_SEQPACKET: the monitor asks, the
 * child answers each request with the reply of its kind.
 *	TOKEN_LIST	monitor, idle -> list: u32 n, n x bytes credential id
 *	TOKEN_LISTED	child, list -> idle: u32 status
 *	TOKEN_ENROLL	monitor, idle -> enroll: u32 timeout_ms, str device,
 *			str rp_id, str rp_name, bytes user_id, str user_name,
 *			str display_name, bytes cdh, u32 alg, u8 resident,
 *			u8 cred_protect, str pin, str roots, u32 naaguids,
 *			naaguids x bytes aaguid, u32 nexclude (the ids the
 *			TOKEN_LIST messages since the last request carried)
 *	TOKEN_ENROLLED	child, enroll -> idle: u32 status; when 0, bytes
 *			authdata, str fmt, bytes attstmt; after a PIN error,
 *			u8 retries (below)
 *	TOKEN_ASSERT	monitor, idle -> assert: u32 timeout_ms, str device,
 *			str rp_id, bytes cdh, u32 nallow, str pin
 *	TOKEN_ASSERTED	child, assert -> idle: u32 status; when 0, bytes
 *			cred_id, bytes authdata, bytes sig, u32 sign_count,
 *			u8 flags; after a PIN error, u8 retries
 *	TOKEN_IDENTIFY	monitor, idle -> identify: u32 timeout_ms, str device,
 *			str rp_id, u32 nallow (at least 1), str pin: which
 *			allowed credential the key holds, asked without a
 *			touch
 *	TOKEN_IDENTIFIED child, identify -> idle: u32 status; when 0, bytes
 *			cred_id; after a PIN error, u8 retries
 *  A PIN error is status TG_ERR_PIN_INVALID, TG_ERR_PIN_AUTH_BLOCKED or
 *  TG_ERR_PIN_BLOCKED; retries is the PIN attempts the key has left, or
 *  PROTO_TOKEN_RETRIES_UNKNOWN when it did not say.
 *
 * The hook runner (hookproc.h), SOCK_SEQPACKET, one state: events go one
 * way, reports the other, each side numbering its own.
 *	HOOK_EVENT	monitor: str event (JSON)
 *	HOOK_REPORT	child: u8 outcome, u32 status, str program ("" for
 *			none), str event (of a message: its tag)
 *	HOOK_MESSAGE	monitor: u8 channel, str tag (JSON, what the report
 *			names), str message (JSON, for the sender only)
 *
 * The directory process (dirproc.h), SOCK_STREAM (a found entry's facts
 * pass what one datagram carries): set up once, then one answer to each
 * lookup.
 *	DIR_SETUP	monitor, start -> idle: str uri, u8 tls, str ca_file,
 *			u8 bind, str bind_dn, str password_file, str
 *			cert_file, str key_file, str base, str filter, u32
 *			timeout_seconds, u32 max_groups, 11 x str attribute
 *			(struct policy_dir_attrs, in its order), u8 preset,
 *			u8 nested_groups, u32 max_group_depth
 *	DIR_LOOKUP	monitor, idle -> lookup: str name (normalised; on
 *			Active Directory a UPN whole: dir_name_upn)
 *	DIR_LOOKUP_DN	monitor, idle -> lookup: str dn (an entry read by
 *			its DN: a manager's; its groups are not walked)
 *	DIR_ANSWER	child, lookup -> idle: u8 outcome (enum dir_outcome),
 *			str detail; when found: str name, str dn, u8
 *			truncated_groups, u32 n, n x str group dn, u32
 *			ndirect, u32 e, e x (u32 member, u32 group), str
 *			manager, then mobile, phone, mail, alt_mail and type
 *			each as u32 n, n x str value, then u8 disabled, u8
 *			locked
 */
#ifndef TAPGATE_PROTO_H
#define TAPGATE_PROTO_H

#include "common/msg.h"

enum proto_type {
	PROTO_FRONT_REQUEST = 1,
	PROTO_FRONT_REPLY,
	PROTO_FRONT_PRIVILEGED,
	PROTO_FRONT_TLS,
	PROTO_TOKEN_LIST = 16,
	PROTO_TOKEN_LISTED,
	PROTO_TOKEN_ENROLL,
	PROTO_TOKEN_ENROLLED,
	PROTO_TOKEN_ASSERT,
	PROTO_TOKEN_ASSERTED,
	PROTO_TOKEN_IDENTIFY,
	PROTO_TOKEN_IDENTIFIED,
	PROTO_HOOK_EVENT = 32,
	PROTO_HOOK_REPORT,
	PROTO_HOOK_MESSAGE,
	PROTO_DIR_SETUP = 48,
	PROTO_DIR_LOOKUP,
	PROTO_DIR_ANSWER,
	PROTO_DIR_LOOKUP_DN,
};

/* The channels' states; each starts in its first. */
enum { PROTO_FRONT_IDLE, PROTO_FRONT_BUSY };
enum { PROTO_CTL_START, PROTO_CTL_RUNNING };
enum {
	PROTO_TOKEN_IDLE,
	PROTO_TOKEN_LISTING,
	PROTO_TOKEN_ENROLLING,
	PROTO_TOKEN_ASSERTING,
	PROTO_TOKEN_IDENTIFYING,
};
enum { PROTO_HOOK_RUNNING };
enum { PROTO_DIR_START, PROTO_DIR_IDLE, PROTO_DIR_LOOKING };

/* Field bounds the tables and the codecs share. */
#define PROTO_TOKEN_PATH_MAX	4095	/* a device name, the roots file */
#define PROTO_TOKEN_NAME_MAX	255	/* rp id and name, user names */
#define PROTO_TOKEN_USER_ID_MAX	64
#define PROTO_TOKEN_AAGUIDS_MAX	64
#define PROTO_TOKEN_RETRIES_UNKNOWN 255	/* the key did not say */
#define PROTO_HOOK_PROGRAM_MAX	4095
#define PROTO_HOOK_TAG_MAX	1024	/* a message's tag */
#define PROTO_DIR_DETAIL_MAX	255	/* why a directory did not answer */

extern const struct msg_proto	proto_front;
extern const struct msg_proto	proto_front_ctl;
extern const struct msg_proto	proto_token;
extern const struct msg_proto	proto_hooks;
extern const struct msg_proto	proto_directory;
/* The largest DIR_ANSWER payload (the writer's msg_init_max bound). */
extern const size_t		proto_dir_answer_max;

#endif

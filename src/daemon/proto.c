/* SPDX-License-Identifier: ISC */
/*
 * The tables of permitted messages (proto.h), with each type's largest
 * payload worked out from its fields' bounds.
 */
#include <sys/socket.h>

#include "daemon/frontchan.h"
#include "daemon/hooks.h"
#include "daemon/http.h"
#include "daemon/proto.h"
#include "directory/directory.h"
#include "token/token.h"

#define U8		1
#define U32		4
#define STR(n)		(4 + (size_t)(n))	/* and bytes */
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- front */

#define FRONT_REQUEST_MAX						\
	(STR(FC_MAX_METHOD) + STR(HTTP_MAX_PATH) + 3 * U32 +		\
	U8 + STR(HTTP_CERT_SHA256_LEN) + STR(HTTP_MAX_SESSION) +	\
	STR(HTTP_MAX_CSRF) + STR(HTTP_MAX_ORIGIN) +			\
	U8 + STR(HTTP_MAX_FIELD) + U8 + STR(HTTP_MAX_FIELD) + U8 +	\
	HTTP_MAX_QUERY * (STR(HTTP_MAX_QUERY_KEY) +			\
	STR(HTTP_MAX_QUERY_VALUE)) + STR(FC_MAX_BODY))
#define FRONT_REPLY_MAX							\
	(U32 + U8 + U8 + STR(HTTP_MAX_SET_COOKIE) + STR(FC_MAX_REPLY))
#define FRONT_PRIVILEGED_MAX	(2 * (U32 + HTTP_MAX_PRIVILEGED * U32))
#define FRONT_TLS_MAX		(3 * STR(HTTP_TLS_MAX_PEM))

static const char *const front_states[] = { "idle", "busy" };

static const struct msg_rule front_rules[] = {
	{ PROTO_FRONT_REQUEST, MSG_CHILD, PROTO_FRONT_IDLE, PROTO_FRONT_BUSY,
	  FRONT_REQUEST_MAX, "request" },
	{ PROTO_FRONT_REPLY, MSG_MONITOR, PROTO_FRONT_BUSY, PROTO_FRONT_IDLE,
	  FRONT_REPLY_MAX, "reply" },
};

const struct msg_proto proto_front = {
	"front", SOCK_STREAM, front_rules, NELEM(front_rules),
	front_states, NELEM(front_states),
};

static const char *const ctl_states[] = { "starting", "running" };

static const struct msg_rule ctl_rules[] = {
	{ PROTO_FRONT_PRIVILEGED, MSG_MONITOR, PROTO_CTL_START,
	  PROTO_CTL_RUNNING, FRONT_PRIVILEGED_MAX, "privileged callers" },
	{ PROTO_FRONT_TLS, MSG_MONITOR, PROTO_CTL_RUNNING,
	  PROTO_CTL_RUNNING, FRONT_TLS_MAX, "HTTPS credentials" },
};

const struct msg_proto proto_front_ctl = {
	"front", SOCK_STREAM, ctl_rules, NELEM(ctl_rules),
	ctl_states, NELEM(ctl_states),
};

/* ---- token process */

#define TOKEN_LIST_MAX_BYTES	MSG_MAX	/* a long list takes several */
#define TOKEN_LISTED_MAX	U32
#define TOKEN_ENROLL_MAX						\
	(U32 + STR(PROTO_TOKEN_PATH_MAX) + 2 * STR(PROTO_TOKEN_NAME_MAX) + \
	STR(PROTO_TOKEN_USER_ID_MAX) + 2 * STR(PROTO_TOKEN_NAME_MAX) +	\
	STR(TOKEN_CDH_LEN) + U32 + U8 + U8 + STR(TOKEN_PIN_MAX) +	\
	STR(PROTO_TOKEN_PATH_MAX) + U32 +				\
	PROTO_TOKEN_AAGUIDS_MAX * STR(TOKEN_AAGUID_LEN) + U32)
#define TOKEN_ENROLLED_MAX						\
	(U32 + STR(TOKEN_AUTHDATA_MAX) + STR(TOKEN_FMT_MAX) +		\
	STR(TOKEN_ATTSTMT_MAX))
#define TOKEN_ASSERT_MAX						\
	(U32 + STR(PROTO_TOKEN_PATH_MAX) + STR(PROTO_TOKEN_NAME_MAX) +	\
	STR(TOKEN_CDH_LEN) + U32 + STR(TOKEN_PIN_MAX))
#define TOKEN_ASSERTED_MAX						\
	(U32 + STR(TOKEN_CRED_ID_MAX) + STR(TOKEN_AUTHDATA_MAX) +	\
	STR(TOKEN_SIG_MAX) + U32 + U8)
#define TOKEN_IDENTIFY_MAX						\
	(U32 + STR(PROTO_TOKEN_PATH_MAX) + STR(PROTO_TOKEN_NAME_MAX) +	\
	U32 + STR(TOKEN_PIN_MAX))
#define TOKEN_IDENTIFIED_MAX	(U32 + STR(TOKEN_CRED_ID_MAX))
/* a PIN error's reply: the status, then the attempts left */
#define TOKEN_PIN_ERROR_MAX	(U32 + U8)

/* what the token process's own messages (msg_init) can hold */
_Static_assert(TOKEN_ENROLL_MAX <= MSG_MAX && TOKEN_ENROLLED_MAX <=
    MSG_MAX && TOKEN_ASSERT_MAX <= MSG_MAX && TOKEN_ASSERTED_MAX <= MSG_MAX &&
    TOKEN_IDENTIFY_MAX <= MSG_MAX && TOKEN_IDENTIFIED_MAX <= MSG_MAX,
    "every token message fits msg_init()'s bound");
/* and each reply's bound takes a PIN error */
_Static_assert(TOKEN_PIN_ERROR_MAX <= TOKEN_ENROLLED_MAX &&
    TOKEN_PIN_ERROR_MAX <= TOKEN_ASSERTED_MAX &&
    TOKEN_PIN_ERROR_MAX <= TOKEN_IDENTIFIED_MAX,
    "a PIN error's reply fits every reply's bound");

/* tests/stub/exploit.c knows an enrolment reply by its number */
_Static_assert(PROTO_TOKEN_ENROLLED == 19, "tests/stub/exploit.c agrees");

static const char *const token_states[] = {
	"idle", "taking a list", "enrolling", "asserting", "identifying",
};

static const struct msg_rule token_rules[] = {
	{ PROTO_TOKEN_LIST, MSG_MONITOR, PROTO_TOKEN_IDLE,
	  PROTO_TOKEN_LISTING, TOKEN_LIST_MAX_BYTES, "list part" },
	{ PROTO_TOKEN_LISTED, MSG_CHILD, PROTO_TOKEN_LISTING,
	  PROTO_TOKEN_IDLE, TOKEN_LISTED_MAX, "list reply" },
	{ PROTO_TOKEN_ENROLL, MSG_MONITOR, PROTO_TOKEN_IDLE,
	  PROTO_TOKEN_ENROLLING, TOKEN_ENROLL_MAX, "enrolment request" },
	{ PROTO_TOKEN_ENROLLED, MSG_CHILD, PROTO_TOKEN_ENROLLING,
	  PROTO_TOKEN_IDLE, TOKEN_ENROLLED_MAX, "enrolment reply" },
	{ PROTO_TOKEN_ASSERT, MSG_MONITOR, PROTO_TOKEN_IDLE,
	  PROTO_TOKEN_ASSERTING, TOKEN_ASSERT_MAX, "assertion request" },
	{ PROTO_TOKEN_ASSERTED, MSG_CHILD, PROTO_TOKEN_ASSERTING,
	  PROTO_TOKEN_IDLE, TOKEN_ASSERTED_MAX, "assertion reply" },
	{ PROTO_TOKEN_IDENTIFY, MSG_MONITOR, PROTO_TOKEN_IDLE,
	  PROTO_TOKEN_IDENTIFYING, TOKEN_IDENTIFY_MAX,
	  "identification request" },
	{ PROTO_TOKEN_IDENTIFIED, MSG_CHILD, PROTO_TOKEN_IDENTIFYING,
	  PROTO_TOKEN_IDLE, TOKEN_IDENTIFIED_MAX, "identification reply" },
};

const struct msg_proto proto_token = {
	"token process", SOCK_SEQPACKET, token_rules, NELEM(token_rules),
	token_states, NELEM(token_states),
};

/* ---- hook runner */

#define HOOK_EVENT_MAX		STR(HOOKS_MAX_EVENT)
#define HOOK_REPORT_MAX							\
	(U8 + U32 + STR(PROTO_HOOK_PROGRAM_MAX) + STR(HOOKS_MAX_EVENT))

#define HOOK_MESSAGE_MAX						\
	(U8 + STR(PROTO_HOOK_TAG_MAX) + STR(HOOKS_MAX_EVENT))

static const char *const hook_states[] = { "running" };

static const struct msg_rule hook_rules[] = {
	{ PROTO_HOOK_EVENT, MSG_MONITOR, PROTO_HOOK_RUNNING,
	  PROTO_HOOK_RUNNING, HOOK_EVENT_MAX, "event" },
	{ PROTO_HOOK_REPORT, MSG_CHILD, PROTO_HOOK_RUNNING,
	  PROTO_HOOK_RUNNING, HOOK_REPORT_MAX, "report" },
	{ PROTO_HOOK_MESSAGE, MSG_MONITOR, PROTO_HOOK_RUNNING,
	  PROTO_HOOK_RUNNING, HOOK_MESSAGE_MAX, "message" },
};

const struct msg_proto proto_hooks = {
	"hook runner", SOCK_SEQPACKET, hook_rules, NELEM(hook_rules),
	hook_states, NELEM(hook_states),
};

/* ---- directory process */

#define DIR_SETUP_MAX							\
	(STR(POLICY_DIR_URI_MAX) + U8 + STR(POLICY_LONG_MAX) + U8 +	\
	STR(POLICY_DIR_DN_MAX) + 3 * STR(POLICY_LONG_MAX) +		\
	STR(POLICY_DIR_DN_MAX) + STR(POLICY_DIR_FILTER_MAX) + 2 * U32 +	\
	11 * STR(POLICY_DIR_ATTR_MAX) + 2 * U8 + U32)
#define DIR_LOOKUP_MAX		STR(DIR_UPN_MAX)
#define DIR_LOOKUP_DN_MAX	STR(DIR_DN_MAX)
#define DIR_VALUES_MAX(n)	(U32 + (n) * STR(DIR_VALUE_MAX))
#define DIR_ANSWER_MAX							\
	(U8 + STR(PROTO_DIR_DETAIL_MAX) + STR(DIR_NAME_MAX) +		\
	STR(DIR_DN_MAX) + U8 + U32 + DIR_MAX_GROUPS * STR(DIR_DN_MAX) +	\
	2 * U32 + DIR_MAX_EDGES * 2 * U32 +				\
	STR(DIR_DN_MAX) + 4 * DIR_VALUES_MAX(DIR_MAX_CONTACTS) +	\
	DIR_VALUES_MAX(DIR_MAX_TYPES) + 2 * U8)

_Static_assert(DIR_SETUP_MAX <= MSG_MAX && DIR_LOOKUP_MAX <= MSG_MAX,
    "the directory's requests fit msg_init()'s bound");
_Static_assert(DIR_ANSWER_MAX <= MSG_MAX_ANY,
    "a directory answer fits a message");

static const char *const dir_states[] = { "starting", "idle", "looking up" };

static const struct msg_rule dir_rules[] = {
	{ PROTO_DIR_SETUP, MSG_MONITOR, PROTO_DIR_START, PROTO_DIR_IDLE,
	  DIR_SETUP_MAX, "setup" },
	{ PROTO_DIR_LOOKUP, MSG_MONITOR, PROTO_DIR_IDLE, PROTO_DIR_LOOKING,
	  DIR_LOOKUP_MAX, "lookup" },
	{ PROTO_DIR_ANSWER, MSG_CHILD, PROTO_DIR_LOOKING, PROTO_DIR_IDLE,
	  DIR_ANSWER_MAX, "answer" },
	{ PROTO_DIR_LOOKUP_DN, MSG_MONITOR, PROTO_DIR_IDLE, PROTO_DIR_LOOKING,
	  DIR_LOOKUP_DN_MAX, "lookup by DN" },
};

const size_t proto_dir_answer_max = DIR_ANSWER_MAX;

const struct msg_proto proto_directory = {
	"directory process", SOCK_STREAM, dir_rules, NELEM(dir_rules),
	dir_states, NELEM(dir_states),
};

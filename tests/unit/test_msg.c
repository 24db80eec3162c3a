/* SPDX-License-Identifier: ISC */
/* The bounded messages between tapgate's processes. */
#include <string.h>

#include "common/errors.h"
#include "common/msg.h"
#include "tap.h"

static struct msg m, r;

static void
message_round_trips_every_type(void)
{
	const uint8_t *p;
	char s[16];

	msg_init(&m);
	msg_put_u8(&m, 7);
	msg_put_u32(&m, 0xdeadbeef);
	msg_put_bytes(&m, "abc", 3);
	msg_put_str(&m, "pin");
	msg_put_str(&m, NULL);
	CHECK_EQ(m.bad, 0);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	CHECK_EQ(msg_get_u8(&r), 7);
	CHECK_EQ(msg_get_u32(&r), 0xdeadbeef);
	CHECK_EQ(msg_get_bytes(&r, &p, 16), 3);
	CHECK(memcmp(p, "abc", 3) == 0);
	msg_get_str(&r, s, sizeof(s));
	CHECK(strcmp(s, "pin") == 0);
	msg_get_str(&r, s, sizeof(s));
	CHECK(strcmp(s, "") == 0);
	CHECK_EQ(msg_end(&r), 0);
}

static void
trailing_bytes_are_a_protocol_error(void)
{
	msg_init(&m);
	msg_put_u32(&m, 1);
	msg_put_u8(&m, 0);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	(void)msg_get_u32(&r);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
short_message_is_a_protocol_error(void)
{
	const uint8_t *p;

	msg_init(&m);
	msg_put_u32(&m, 100);	/* announces 100 bytes, carries 2 */
	msg_put_u8(&m, 1);
	msg_put_u8(&m, 2);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	CHECK_EQ(msg_get_bytes(&r, &p, 1000), 0);
	CHECK(p == NULL);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
byte_string_over_its_bound_is_refused(void)
{
	const uint8_t *p;

	msg_init(&m);
	msg_put_bytes(&m, "0123456789", 10);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	CHECK_EQ(msg_get_bytes(&r, &p, 9), 0);
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
string_with_a_nul_is_refused(void)
{
	char s[16];

	msg_init(&m);
	msg_put_bytes(&m, "a\0b", 3);
	CHECK_EQ(msg_load(&r, m.buf, m.len), 0);
	msg_get_str(&r, s, sizeof(s));
	CHECK_EQ(msg_end(&r), TG_ERR_PROTOCOL);
}

static void
writer_overflow_marks_the_message_bad(void)
{
	static uint8_t big[MSG_MAX];

	msg_init(&m);
	msg_put_bytes(&m, big, sizeof(big));	/* 4 + MSG_MAX: too much */
	CHECK_EQ(m.bad, 1);
	CHECK(m.len <= MSG_MAX);
	CHECK_EQ(msg_load(&r, big, MSG_MAX + 1), TG_ERR_TOO_LONG);
}

static void
wipe_clears_the_buffer(void)
{
	size_t i;

	msg_init(&m);
	msg_put_str(&m, "482913");
	msg_wipe(&m);
	for (i = 0; i < 16; i++)
		CHECK_EQ(m.buf[i], 0);
}

int
main(void)
{
	RUN(message_round_trips_every_type);
	RUN(trailing_bytes_are_a_protocol_error);
	RUN(short_message_is_a_protocol_error);
	RUN(byte_string_over_its_bound_is_refused);
	RUN(string_with_a_nul_is_refused);
	RUN(writer_overflow_marks_the_message_bad);
	RUN(wipe_clears_the_buffer);
	TAP_EXIT();
}

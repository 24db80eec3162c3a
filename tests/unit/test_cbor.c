/* SPDX-License-Identifier: ISC */
/*
 * The softfido core's CBOR reader and writer: every type, CTAP2 canonical
 * form (shortest integers, definite lengths, ordered unique map keys),
 * bounds, trailing data and the nesting limit.
 */
#include <stdint.h>
#include <string.h>

#include "cbor_rw.h"
#include "tap.h"

#define RD(rd, ...) do {						\
	static const uint8_t rd_buf_[] = { __VA_ARGS__ };		\
	cb_rd_init(&(rd), rd_buf_, sizeof(rd_buf_));			\
} while (0)

static void
reader_reads_integers_of_every_width(void)
{
	static const uint8_t in[] = {
		0x00, 0x17, 0x18, 0x18, 0x18, 0xff, 0x19, 0x01, 0x00,
		0x1a, 0x00, 0x01, 0x00, 0x00,
		0x1b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x20, 0x38, 0x18, 0x39, 0x01, 0x00,
	};
	static const uint64_t want[] = { 0, 23, 24, 255, 256, 65536,
	    4294967296ULL };
	struct cb_rd rd;
	uint64_t v;
	int64_t i;
	size_t k;

	cb_rd_init(&rd, in, sizeof(in));
	for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		CHECK_EQ(cb_get_uint(&rd, &v), CB_OK);
		CHECK(v == want[k]);
	}
	CHECK_EQ(cb_get_negint(&rd, &v), CB_OK);
	CHECK_EQ(v, 0);
	CHECK_EQ(cb_get_int(&rd, &i), CB_OK);
	CHECK_EQ(i, -25);
	CHECK_EQ(cb_get_int(&rd, &i), CB_OK);
	CHECK_EQ(i, -257);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
}

static void
reader_reads_strings_containers_and_bools(void)
{
	struct cb_rd rd;
	const uint8_t *b;
	const char *t;
	size_t n;
	int v;

	RD(rd, 0x42, 0xaa, 0xbb, 0x63, 'a', 'b', 'c', 0x82, 0xf5, 0xf4,
	    0xa1, 0x01, 0x40);
	CHECK_EQ(cb_get_bytes(&rd, &b, &n), CB_OK);
	CHECK(n == 2 && b[0] == 0xaa && b[1] == 0xbb);
	CHECK_EQ(cb_get_text(&rd, &t, &n), CB_OK);
	CHECK(n == 3 && memcmp(t, "abc", 3) == 0);
	CHECK_EQ(cb_get_array(&rd, &n), CB_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(cb_get_bool(&rd, &v), CB_OK);
	CHECK_EQ(v, 1);
	CHECK_EQ(cb_get_bool(&rd, &v), CB_OK);
	CHECK_EQ(v, 0);
	CHECK_EQ(cb_get_map(&rd, &n), CB_OK);
	CHECK_EQ(n, 1);
	CHECK_EQ(cb_skip(&rd), CB_OK);
	CHECK_EQ(cb_skip(&rd), CB_OK);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
}

static void
reader_refuses_integers_not_in_shortest_form(void)
{
	struct cb_rd rd;
	const uint8_t *b;
	uint64_t v;
	size_t n;

	RD(rd, 0x18, 0x17);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_MALFORMED);
	RD(rd, 0x19, 0x00, 0xff);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_MALFORMED);
	RD(rd, 0x1a, 0x00, 0x00, 0xff, 0xff);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_MALFORMED);
	RD(rd, 0x1b, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_MALFORMED);
	RD(rd, 0x38, 0x00);
	CHECK_EQ(cb_get_negint(&rd, &v), CB_ERR_MALFORMED);
	/* a string length is an integer too */
	RD(rd, 0x58, 0x01, 0xaa);
	CHECK_EQ(cb_get_bytes(&rd, &b, &n), CB_ERR_MALFORMED);
	/* a one-byte simple value below 32 has a shorter form */
	RD(rd, 0xf8, 0x14);
	CHECK_EQ(cb_skip(&rd), CB_ERR_MALFORMED);
}

static void
reader_refuses_indefinite_lengths_and_reserved_values(void)
{
	static const uint8_t bad[] = { 0x5f, 0x7f, 0x9f, 0xbf, 0x1c, 0x1d,
	    0x1e, 0x1f, 0xff };
	struct cb_rd rd;
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		cb_rd_init(&rd, &bad[i], 1);
		CHECK_EQ(cb_skip(&rd), CB_ERR_MALFORMED);
		CHECK_EQ(rd.pos, 0);
	}
}

static void
reader_refuses_truncated_items_without_moving(void)
{
	struct cb_rd rd;
	const uint8_t *b;
	uint64_t v;
	size_t n;

	RD(rd, 0x19, 0x01);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_MALFORMED);
	CHECK_EQ(rd.pos, 0);
	RD(rd, 0x43, 0x01, 0x02);
	CHECK_EQ(cb_get_bytes(&rd, &b, &n), CB_ERR_MALFORMED);
	CHECK_EQ(rd.pos, 0);
	RD(rd, 0x83, 0x01, 0x02);
	CHECK_EQ(cb_skip(&rd), CB_ERR_MALFORMED);
	CHECK_EQ(rd.pos, 0);
	cb_rd_init(&rd, NULL, 0);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_MALFORMED);
}

static void
reader_refuses_counts_larger_than_the_input(void)
{
	struct cb_rd rd;
	size_t n;

	/* 2^64-1 items claimed: refused at once, not looped over */
	RD(rd, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00);
	CHECK_EQ(cb_get_array(&rd, &n), CB_ERR_MALFORMED);
	/* three pairs need at least six bytes */
	RD(rd, 0xa3, 0x01, 0x02, 0x03, 0x04, 0x05);
	CHECK_EQ(cb_get_map(&rd, &n), CB_ERR_MALFORMED);
	RD(rd, 0x5b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xaa);
	CHECK_EQ(cb_skip(&rd), CB_ERR_MALFORMED);
}

static void
reader_reports_the_wrong_type_without_moving(void)
{
	struct cb_rd rd;
	const char *t;
	uint64_t v;
	size_t n;
	int b;

	RD(rd, 0x61, 'x');
	CHECK_EQ(cb_get_uint(&rd, &v), CB_ERR_TYPE);
	CHECK_EQ(rd.pos, 0);
	RD(rd, 0x01);
	CHECK_EQ(cb_get_text(&rd, &t, &n), CB_ERR_TYPE);
	CHECK_EQ(cb_get_map(&rd, &n), CB_ERR_TYPE);
	CHECK_EQ(cb_get_bool(&rd, &b), CB_ERR_TYPE);
	RD(rd, 0xf6);		/* null is no bool */
	CHECK_EQ(cb_get_bool(&rd, &b), CB_ERR_TYPE);
	CHECK_EQ(rd.pos, 0);
	CHECK_EQ(cb_skip(&rd), CB_OK);
	RD(rd, 0xc1, 0x01);	/* tags have no place in CTAP2 */
	CHECK_EQ(cb_skip(&rd), CB_ERR_TYPE);
}

static void
reader_int_range_is_int64(void)
{
	struct cb_rd rd;
	int64_t i;

	RD(rd, 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	CHECK_EQ(cb_get_int(&rd, &i), CB_OK);
	CHECK(i == INT64_MIN);
	RD(rd, 0x3b, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
	CHECK_EQ(cb_get_int(&rd, &i), CB_ERR_RANGE);
	CHECK_EQ(rd.pos, 0);
	RD(rd, 0x1b, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
	CHECK_EQ(cb_get_int(&rd, &i), CB_ERR_RANGE);
}

/* Read all keys of the one map in rd; the result of the last call. */
static int
walk_keys(struct cb_rd *rd, int *nkeys)
{
	struct cb_map m;
	struct cb_key k;
	int r;

	*nkeys = 0;
	if ((r = cb_map_open(rd, &m)) != CB_OK)
		return r;
	while ((r = cb_map_next(&m, &k)) == 1) {
		(*nkeys)++;
		if ((r = cb_skip(rd)) != CB_OK)
			return r;
	}
	return r;
}

static void
map_keys_in_ctap2_canonical_order_are_accepted(void)
{
	struct cb_rd rd;
	int n;

	/* 1, 3, 24, -1, -2, "up", "uv", "plat", "clientPin" */
	RD(rd, 0xa9, 0x01, 0x00, 0x03, 0x00, 0x18, 0x18, 0x00, 0x20, 0x00,
	    0x21, 0x00, 0x62, 'u', 'p', 0xf5, 0x62, 'u', 'v', 0xf5,
	    0x64, 'p', 'l', 'a', 't', 0xf4,
	    0x69, 'c', 'l', 'i', 'e', 'n', 't', 'P', 'i', 'n', 0xf4);
	CHECK_EQ(walk_keys(&rd, &n), 0);
	CHECK_EQ(n, 9);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
	cb_rd_init(&rd, rd.buf, rd.len);
	CHECK_EQ(cb_skip(&rd), CB_OK);
}

static void
map_keys_out_of_order_or_repeated_are_refused(void)
{
	struct cb_rd rd;
	int n;

	RD(rd, 0xa2, 0x02, 0x00, 0x01, 0x00);		/* 2, 1 */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	CHECK_EQ(n, 1);
	RD(rd, 0xa2, 0x01, 0x00, 0x01, 0x00);		/* 1, 1 */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	RD(rd, 0xa2, 0x20, 0x00, 0x01, 0x00);		/* -1, 1 */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	RD(rd, 0xa2, 0x18, 0x18, 0x00, 0x17, 0x00);	/* 24, 23 */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	RD(rd, 0xa2, 0x62, 'a', 'a', 0x00, 0x61, 'b', 0x00); /* "aa", "b" */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	RD(rd, 0xa2, 0x61, 'b', 0x00, 0x61, 'a', 0x00);	/* "b", "a" */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	RD(rd, 0xa2, 0x61, 'a', 0x00, 0x01, 0x00);	/* "a", 1 */
	CHECK_EQ(walk_keys(&rd, &n), CB_ERR_ORDER);
	/* skip applies the same rule inside nested maps */
	RD(rd, 0x81, 0xa2, 0x61, 'b', 0x00, 0x61, 'a', 0x00);
	CHECK_EQ(cb_skip(&rd), CB_ERR_ORDER);
	CHECK_EQ(rd.pos, 0);
}

static void
map_next_decodes_integer_and_text_keys(void)
{
	struct cb_rd rd;
	struct cb_map m;
	struct cb_key k;

	RD(rd, 0xa3, 0x05, 0xf5, 0x38, 0x18, 0xf4, 0x62, 'i', 'd', 0x40);
	CHECK_EQ(cb_map_open(&rd, &m), CB_OK);
	CHECK_EQ(cb_map_next(&m, &k), 1);
	CHECK(k.kind == CB_UINT && k.i == 5);
	CHECK_EQ(cb_skip(&rd), CB_OK);
	CHECK_EQ(cb_map_next(&m, &k), 1);
	CHECK(k.kind == CB_NEGINT && k.i == -25);
	CHECK_EQ(cb_skip(&rd), CB_OK);
	CHECK_EQ(cb_map_next(&m, &k), 1);
	CHECK(cb_key_is(&k, "id"));
	CHECK(!cb_key_is(&k, "i"));
	CHECK(!cb_key_is(&k, "idx"));
	CHECK_EQ(cb_skip(&rd), CB_OK);
	CHECK_EQ(cb_map_next(&m, &k), 0);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
}

static void
reader_nesting_is_limited(void)
{
	uint8_t buf[CB_MAX_DEPTH + 2];
	struct cb_rd rd;
	size_t i;

	/* CB_MAX_DEPTH nested arrays around an integer: accepted */
	for (i = 0; i < CB_MAX_DEPTH; i++)
		buf[i] = 0x81;
	buf[CB_MAX_DEPTH] = 0x00;
	cb_rd_init(&rd, buf, CB_MAX_DEPTH + 1);
	CHECK_EQ(cb_skip(&rd), CB_OK);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
	/* one more level: refused */
	for (i = 0; i < CB_MAX_DEPTH + 1; i++)
		buf[i] = 0x81;
	buf[CB_MAX_DEPTH + 1] = 0x00;
	cb_rd_init(&rd, buf, CB_MAX_DEPTH + 2);
	CHECK_EQ(cb_skip(&rd), CB_ERR_DEPTH);
	CHECK_EQ(rd.pos, 0);
	/* maps count too */
	for (i = 0; i < CB_MAX_DEPTH + 1; i++)
		buf[i] = i % 2 ? 0x81 : 0xa1;
	cb_rd_init(&rd, buf, sizeof(buf));
	CHECK(cb_skip(&rd) != CB_OK);
}

static void
reader_end_reports_trailing_data(void)
{
	struct cb_rd rd;
	uint64_t v;

	RD(rd, 0x01, 0x02);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_OK);
	CHECK_EQ(cb_rd_end(&rd), CB_ERR_TRAILING);
	CHECK_EQ(cb_get_uint(&rd, &v), CB_OK);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
}

static void
writer_uses_the_shortest_encoding(void)
{
	static const uint8_t want[] = {
		0x00, 0x17, 0x18, 0x18, 0x18, 0xff, 0x19, 0x01, 0x00,
		0x19, 0xff, 0xff, 0x1a, 0x00, 0x01, 0x00, 0x00,
		0x1b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x20, 0x26, 0x38, 0x18,
		0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x42, 0x01, 0x02, 0x62, 'h', 'i', 0x82, 0xa1, 0xf5, 0xf4,
	};
	static const uint8_t two[] = { 1, 2 };
	uint8_t buf[64];
	struct cb_wr w;

	cb_wr_init(&w, buf, sizeof(buf));
	cb_put_uint(&w, 0);
	cb_put_uint(&w, 23);
	cb_put_uint(&w, 24);
	cb_put_uint(&w, 255);
	cb_put_uint(&w, 256);
	cb_put_uint(&w, 65535);
	cb_put_uint(&w, 65536);
	cb_put_uint(&w, 4294967296ULL);
	cb_put_int(&w, -1);
	cb_put_int(&w, -7);
	cb_put_int(&w, -25);
	cb_put_int(&w, INT64_MIN);
	cb_put_bytes(&w, two, 2);
	cb_put_str(&w, "hi");
	cb_put_array(&w, 2);
	cb_put_map(&w, 1);
	cb_put_bool(&w, 1);
	cb_put_bool(&w, 0);
	CHECK_EQ(cb_wr_error(&w), 0);
	CHECK_EQ(w.len, sizeof(want));
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
}

static void
writer_records_overflow_and_never_writes_past_the_end(void)
{
	static const uint8_t ten[10] = { 0 };
	uint8_t buf[16];
	struct cb_wr w;
	size_t i;

	memset(buf, 0xee, sizeof(buf));
	cb_wr_init(&w, buf, 4);
	cb_put_uint(&w, 1);
	CHECK_EQ(cb_wr_error(&w), 0);
	cb_put_bytes(&w, ten, sizeof(ten));
	CHECK_EQ(cb_wr_error(&w), -1);
	/* later items that would fit stay out: the output is cut */
	cb_put_uint(&w, 2);
	CHECK_EQ(cb_wr_error(&w), -1);
	CHECK(w.len <= 4);
	for (i = 4; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xee);
	cb_wr_init(&w, NULL, 100);
	cb_put_uint(&w, 1);
	CHECK_EQ(cb_wr_error(&w), -1);
}

static void
writer_output_reads_back(void)
{
	uint8_t buf[128];
	struct cb_wr w;
	struct cb_rd rd;
	struct cb_map m;
	struct cb_key k;
	const uint8_t *b;
	const char *t;
	size_t n;
	int64_t i;

	cb_wr_init(&w, buf, sizeof(buf));
	cb_put_map(&w, 3);
	cb_put_uint(&w, 1);
	cb_put_str(&w, "packed");
	cb_put_int(&w, -2);
	cb_put_bytes(&w, "xyz", 3);
	cb_put_str(&w, "alg");
	cb_put_int(&w, -8);
	CHECK_EQ(cb_wr_error(&w), 0);
	cb_rd_init(&rd, buf, w.len);
	CHECK_EQ(cb_map_open(&rd, &m), CB_OK);
	CHECK_EQ(cb_map_next(&m, &k), 1);
	CHECK_EQ(cb_get_text(&rd, &t, &n), CB_OK);
	CHECK(n == 6 && memcmp(t, "packed", 6) == 0);
	CHECK_EQ(cb_map_next(&m, &k), 1);
	CHECK(k.kind == CB_NEGINT && k.i == -2);
	CHECK_EQ(cb_get_bytes(&rd, &b, &n), CB_OK);
	CHECK(n == 3 && memcmp(b, "xyz", 3) == 0);
	CHECK_EQ(cb_map_next(&m, &k), 1);
	CHECK(cb_key_is(&k, "alg"));
	CHECK_EQ(cb_get_int(&rd, &i), CB_OK);
	CHECK_EQ(i, -8);
	CHECK_EQ(cb_map_next(&m, &k), 0);
	CHECK_EQ(cb_rd_end(&rd), CB_OK);
}

int
main(void)
{
	RUN(reader_reads_integers_of_every_width);
	RUN(reader_reads_strings_containers_and_bools);
	RUN(reader_refuses_integers_not_in_shortest_form);
	RUN(reader_refuses_indefinite_lengths_and_reserved_values);
	RUN(reader_refuses_truncated_items_without_moving);
	RUN(reader_refuses_counts_larger_than_the_input);
	RUN(reader_reports_the_wrong_type_without_moving);
	RUN(reader_int_range_is_int64);
	RUN(map_keys_in_ctap2_canonical_order_are_accepted);
	RUN(map_keys_out_of_order_or_repeated_are_refused);
	RUN(map_next_decodes_integer_and_text_keys);
	RUN(reader_nesting_is_limited);
	RUN(reader_end_reports_trailing_data);
	RUN(writer_uses_the_shortest_encoding);
	RUN(writer_records_overflow_and_never_writes_past_the_end);
	RUN(writer_output_reads_back);
	TAP_EXIT();
}

/* SPDX-License-Identifier: ISC */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "common/jcs.h"
#include "tap.h"

static int
jcs_of(const char *json, char **out)
{
	json_error_t e;
	json_t *v;
	size_t n;
	int r;

	if ((v = json_loads(json, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &e)) == NULL)
		return TG_ERR_INVALID;
	r = jcs_serialize(v, out, &n);
	json_decref(v);
	if (r == 0 && strlen(*out) != n)
		r = TG_ERR_INTERNAL;
	return r;
}

static void
b64url_round_trips_every_length(void)
{
	uint8_t in[64], *dec;
	char enc[100];
	size_t n, dlen;

	for (n = 0; n < sizeof(in); n++)
		in[n] = (uint8_t)(n * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		CHECK_EQ(b64url_encode(in, n, enc), b64url_encoded_len(n));
		CHECK(strchr(enc, '=') == NULL);
		CHECK_EQ(b64url_decode(enc, strlen(enc), 64, &dec, &dlen), 0);
		CHECK_EQ(dlen, n);
		CHECK(memcmp(dec, in, n) == 0);
		free(dec);
	}
}

static void
b64url_matches_rfc4648_vectors(void)
{
	char enc[16];

	b64url_encode((const uint8_t *)"foob", 4, enc);
	CHECK(strcmp(enc, "Zm9vYg") == 0);
	b64url_encode((const uint8_t *)"\xfb\xff", 2, enc);
	CHECK(strcmp(enc, "-_8") == 0);
}

static void
b64url_refuses_noncanonical_input(void)
{
	uint8_t *dec;
	size_t dlen;

	/* padding, standard-alphabet characters, impossible length */
	CHECK_EQ(b64url_decode("Zg==", 4, 64, &dec, &dlen), TG_ERR_INVALID);
	CHECK_EQ(b64url_decode("+/8", 3, 64, &dec, &dlen), TG_ERR_INVALID);
	CHECK_EQ(b64url_decode("Zm9vY", 5, 64, &dec, &dlen), TG_ERR_INVALID);
	/* "Zh" decodes to "f" only with non-zero trailing bits */
	CHECK_EQ(b64url_decode("Zh", 2, 64, &dec, &dlen), TG_ERR_INVALID);
	CHECK_EQ(b64url_decode("Zm9vYg", 6, 3, &dec, &dlen), TG_ERR_TOO_LONG);
}

static void
hex_round_trips_and_refuses_bad_digits(void)
{
	uint8_t in[3] = { 0x00, 0xab, 0xff }, out[3];
	char s[7];

	hex_encode(in, 3, s);
	CHECK(strcmp(s, "00abff") == 0);
	CHECK_EQ(hex_decode(s, 6, out, 3), 0);
	CHECK(memcmp(in, out, 3) == 0);
	CHECK_EQ(hex_decode("00abfg", 6, out, 3), TG_ERR_INVALID);
	CHECK_EQ(hex_decode("00ab", 4, out, 3), TG_ERR_INVALID);
}

static void
jcs_sorts_members_by_utf16_code_units(void)
{
	/* RFC 8785 section 3.2.3: U+1F600 sorts before U+FB33 in UTF-16 */
	const char *in = "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage "
	    "Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
	    "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
	    "\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With "
	    "Diaeresis\"}";
	const char *want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\","
	    "\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With "
	    "Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":"
	    "\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet "
	    "With Dagesh\"}";
	char *out = NULL;

	CHECK_EQ(jcs_of(in, &out), 0);
	CHECK(strcmp(out, want) == 0);
	free(out);
}

static void
jcs_escapes_strings_like_ecmascript(void)
{
	char *out = NULL;

	CHECK_EQ(jcs_of("[\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\\u007f\"]", &out),
	    0);
	CHECK(strcmp(out, "[\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\x7f\"]") == 0);
	free(out);
}

static void
jcs_writes_nested_values_without_whitespace(void)
{
	char *out = NULL;

	CHECK_EQ(jcs_of("{ \"b\" : [ 1, -2, true, null, { \"z\": {}, "
	    "\"a\": [] } ], \"a\": \"x\" }", &out), 0);
	CHECK(strcmp(out, "{\"a\":\"x\",\"b\":[1,-2,true,null,{\"a\":[],"
	    "\"z\":{}}]}") == 0);
	free(out);
}

static void
jcs_refuses_floats_and_unsafe_integers(void)
{
	char *out = NULL;

	CHECK_EQ(jcs_of("{\"a\":1.5}", &out), TG_ERR_INVALID);
	CHECK_EQ(jcs_of("[9007199254740992]", &out), TG_ERR_INVALID);
	CHECK_EQ(jcs_of("[-9007199254740992]", &out), TG_ERR_INVALID);
	CHECK_EQ(jcs_of("[9007199254740991]", &out), 0);
	CHECK(strcmp(out, "[9007199254740991]") == 0);
	free(out);
}

static void
jcs_refuses_nesting_past_the_limit(void)
{
	char deep[2 * (JCS_MAX_DEPTH + 2) + 1];
	char *out = NULL;
	size_t i, n = JCS_MAX_DEPTH + 2;

	for (i = 0; i < n; i++) {
		deep[i] = '[';
		deep[n + i] = ']';
	}
	deep[2 * n] = '\0';
	CHECK_EQ(jcs_of(deep, &out), TG_ERR_INVALID);
	deep[0] = ' ';
	deep[2 * n - 1] = ' ';
	deep[1] = ' ';
	deep[2 * n - 2] = ' ';
	CHECK_EQ(jcs_of(deep, &out), 0);
	free(out);
}

/* jcs_check's verdict on one document, and its message. */
static const struct {
	const char	*json;
	int		 max_depth;
	int		 rc;
	const char	*msg;
} jcs_check_cases[] = {
	{ "{\"password\":\"reset\"}", 16, 0, "" },
	{ "{\"password\":1.5}", 16, TG_ERR_INVALID,
	    "changes.password: floats are not allowed" },
	{ "{\"n\":1e3}", 16, TG_ERR_INVALID,
	    "changes.n: floats are not allowed" },
	{ "{\"n\":-0.0}", 16, TG_ERR_INVALID,
	    "changes.n: floats are not allowed" },
	{ "{\"n\":9007199254740991,\"m\":-9007199254740991}", 16, 0, "" },
	{ "{\"n\":9007199254740992}", 16, TG_ERR_INVALID,
	    "changes.n: integers beyond +-(2^53 - 1) are not allowed" },
	{ "{\"n\":-9007199254740992}", 16, TG_ERR_INVALID,
	    "changes.n: integers beyond +-(2^53 - 1) are not allowed" },
	{ "{\"a\":[1,2,{\"b\":[true,0.5]}]}", 16, TG_ERR_INVALID,
	    "changes.a[2].b[1]: floats are not allowed" },
	/* the first refused value in document order */
	{ "{\"a\":1,\"b\":2.5,\"c\":1e99}", 16, TG_ERR_INVALID,
	    "changes.b: floats are not allowed" },
	{ "{\"a\":{\"b\":{}}}", 2, 0, "" },
	{ "{\"a\":{\"b\":{\"c\":1}}}", 2, TG_ERR_INVALID,
	    "changes.a.b.c: nesting deeper than 2 levels" },
	{ "[[[]]]", 2, 0, "" },
	{ "[[[[]]]]", 2, TG_ERR_INVALID,
	    "changes[0][0][0]: nesting deeper than 2 levels" },
	/* member names: control bytes shown as '?', long ones cut */
	{ "{\"a\\nb\":0.1}", 16, TG_ERR_INVALID,
	    "changes.a?b: floats are not allowed" },
	{ "{\"0123456789012345678901234567890123456789XYZ\":0.1}", 16,
	    TG_ERR_INVALID, "changes.0123456789012345678901234567890123456789"
	    "...: floats are not allowed" },
	{ "\"just a string\"", 0, 0, "" },
	{ "3.25", 0, TG_ERR_INVALID, "changes: floats are not allowed" },
	{ "[]", 0, 0, "" },
	{ "[1]", 0, TG_ERR_INVALID,
	    "changes[0]: nesting deeper than 0 levels" },
};

static void
jcs_check_names_what_jcs_refuses(void)
{
	json_error_t e;
	json_t *v;
	char err[256], *out = NULL;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(jcs_check_cases) /
	    sizeof(jcs_check_cases[0]); i++) {
		v = json_loads(jcs_check_cases[i].json, JSON_DECODE_ANY, &e);
		CHECK(v != NULL);
		err[0] = '\0';
		rc = jcs_check(v, jcs_check_cases[i].max_depth, "changes",
		    err, sizeof(err));
		if (rc != jcs_check_cases[i].rc ||
		    strcmp(err, jcs_check_cases[i].msg) != 0)
			printf("#   case %zu: %d \"%s\"\n", i, rc, err);
		CHECK_EQ(rc, jcs_check_cases[i].rc);
		CHECK(strcmp(err, jcs_check_cases[i].msg) == 0);
		/* what the check accepts within the depth, JCS serialises */
		if (rc == 0) {
			CHECK_EQ(jcs_serialize(v, &out, &n), 0);
			free(out);
			out = NULL;
		}
		json_decref(v);
	}
}

static void
jcs_check_agrees_with_serialize_at_its_depth_limit(void)
{
	char deep[2 * (JCS_MAX_DEPTH + 2) + 1];
	char *out = NULL;
	json_t *v;
	size_t i, n, len;

	for (n = JCS_MAX_DEPTH; n <= JCS_MAX_DEPTH + 2; n++) {
		for (i = 0; i < n; i++) {
			deep[i] = '[';
			deep[n + i] = ']';
		}
		deep[2 * n] = '\0';
		CHECK((v = json_loads(deep, 0, NULL)) != NULL);
		/* n brackets: the innermost array is at level n - 1 */
		CHECK_EQ(jcs_check(v, JCS_MAX_DEPTH, "x", NULL, 0) == 0,
		    jcs_serialize(v, &out, &len) == 0);
		free(out);
		out = NULL;
		json_decref(v);
	}
}

int
main(void)
{
	RUN(b64url_round_trips_every_length);
	RUN(b64url_matches_rfc4648_vectors);
	RUN(b64url_refuses_noncanonical_input);
	RUN(hex_round_trips_and_refuses_bad_digits);
	RUN(jcs_sorts_members_by_utf16_code_units);
	RUN(jcs_escapes_strings_like_ecmascript);
	RUN(jcs_writes_nested_values_without_whitespace);
	RUN(jcs_refuses_floats_and_unsafe_integers);
	RUN(jcs_refuses_nesting_past_the_limit);
	RUN(jcs_check_names_what_jcs_refuses);
	RUN(jcs_check_agrees_with_serialize_at_its_depth_limit);
	TAP_EXIT();
}

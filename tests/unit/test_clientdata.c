/* SPDX-License-Identifier: ISC */
/*
 * The strict parser of a browser's clientDataJSON, the origin rule and
 * the console challenge (common/clientdata.c).
 */
#include <string.h>

#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/clientdata.h"
#include "common/errors.h"
#include "tap.h"

#define CHAL	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int
parse(const char *s, enum clientdata_fault *f, struct clientdata *cd)
{
	return clientdata_parse((const uint8_t *)s, strlen(s), cd, f);
}

static void
clientdata_accepts_what_browsers_write(void)
{
	struct clientdata cd;
	enum clientdata_fault f;

	CHECK_EQ(parse("{\"type\":\"webauthn.get\",\"challenge\":\"" CHAL
	    "\",\"origin\":\"https://tapgate.corp.example:8443\","
	    "\"crossOrigin\":false,\"other_keys_can_be_added_here\":"
	    "\"do not compare\"}", &f, &cd), 0);
	CHECK(strcmp(cd.origin, "https://tapgate.corp.example:8443") == 0);
	CHECK(strcmp(cd.challenge, CHAL) == 0);
	CHECK_EQ(parse("{\"challenge\":\"" CHAL "\",\"type\":\"webauthn.get\","
	    "\"origin\":\"https://corp.example\"}", &f, &cd), 0);
}

static void
clientdata_refuses_each_fault(void)
{
	static const struct {
		const char		*in;
		enum clientdata_fault	 f;
	} t[] = {
		{ "[]", CLIENTDATA_NOT_JSON },
		{ "{\"type\":\"webauthn.get\"} {}", CLIENTDATA_NOT_JSON },
		{ "{\"type\":\"webauthn.get\",\"type\":\"webauthn.get\"}",
		    CLIENTDATA_NOT_JSON },
		{ "{\"type\":\"webauthn.create\",\"challenge\":\"" CHAL "\","
		    "\"origin\":\"https://corp.example\"}", CLIENTDATA_TYPE },
		{ "{\"type\":\"webauthn.get\\u0000\",\"challenge\":\"" CHAL
		    "\",\"origin\":\"https://corp.example\"}",
		    CLIENTDATA_NOT_JSON },
		{ "{\"type\":\"webauthn.get\",\"challenge\":\"" CHAL "=\","
		    "\"origin\":\"https://corp.example\"}",
		    CLIENTDATA_CHALLENGE },
		{ "{\"type\":\"webauthn.get\",\"challenge\":\"" CHAL "\"}",
		    CLIENTDATA_ORIGIN },
		{ "{\"type\":\"webauthn.get\",\"challenge\":\"" CHAL "\","
		    "\"origin\":\"https://corp.example\",\"crossOrigin\":true}",
		    CLIENTDATA_CROSS_ORIGIN },
		{ "{\"type\":\"webauthn.get\",\"challenge\":\"" CHAL "\","
		    "\"origin\":\"https://corp.example\",\"crossOrigin\":"
		    "\"false\"}", CLIENTDATA_CROSS_ORIGIN },
		{ "{\"type\":\"webauthn.get\",\"challenge\":\"" CHAL "\","
		    "\"origin\":\"https://corp.example\",\"topOrigin\":"
		    "\"https://corp.example\"}", CLIENTDATA_TOP_ORIGIN },
	};
	char big[CLIENTDATA_MAX + 2];
	struct clientdata cd;
	enum clientdata_fault f;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		f = CLIENTDATA_OK;
		if (parse(t[i].in, &f, &cd) != TG_ERR_INVALID ||
		    f != t[i].f)
			printf("#   input %zu: fault %d\n", i, (int)f);
		CHECK_EQ(f, t[i].f);
	}
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(parse(big, &f, &cd), TG_ERR_TOO_LONG);
	CHECK_EQ(f, CLIENTDATA_TOO_LONG);
}

static void
origin_is_https_on_the_rp_id_or_a_subdomain(void)
{
	static const char *const ok[] = { "https://corp.example",
	    "https://tapgate.corp.example:8443", "https://a.b.corp.example",
	    "https://corp.example:1", "https://corp.example:65535" };
	static const char *const bad[] = { "http://corp.example",
	    "https://evilcorp.example", "https://corp.example.evil",
	    "https://corp.example/", "https://corp.example:0",
	    "https://corp.example:08443", "https://corp.example:65536",
	    "https://user@corp.example", "https://Corp.example",
	    "https://corp.example.", "https://.corp.example",
	    "https://a..corp.example", "https://-a.corp.example",
	    "https://corp.example:", "https://corp.example:443/x",
	    "HTTPS://corp.example", "https://example", "" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(clientdata_origin_ok(ok[i], "corp.example"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (clientdata_origin_ok(bad[i], "corp.example"))
			printf("#   accepted %s\n", bad[i]);
		CHECK(!clientdata_origin_ok(bad[i], "corp.example"));
	}
}

static void
challenge_binds_digest_and_nonce(void)
{
	uint8_t digest[32], nonce[32], buf[64], h[32];
	char a[CLIENTDATA_CHALLENGE_LEN + 1], b[sizeof(a)], e[sizeof(a)];

	memset(digest, 0x11, sizeof(digest));
	memset(nonce, 0x22, sizeof(nonce));
	memcpy(buf, digest, 32);
	memcpy(buf + 32, nonce, 32);
	SHA256(buf, sizeof(buf), h);
	b64url_encode(h, 32, e);
	clientdata_challenge(digest, nonce, a);
	CHECK(strcmp(a, e) == 0);
	clientdata_challenge(digest, NULL, b);
	b64url_encode(digest, 32, e);
	CHECK(strcmp(b, e) == 0);
	nonce[31] ^= 1;
	clientdata_challenge(digest, nonce, b);
	CHECK(strcmp(a, b) != 0);
}

int
main(void)
{
	RUN(clientdata_accepts_what_browsers_write);
	RUN(clientdata_refuses_each_fault);
	RUN(origin_is_https_on_the_rp_id_or_a_subdomain);
	RUN(challenge_binds_digest_and_nonce);
	TAP_EXIT();
}

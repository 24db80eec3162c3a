/* SPDX-License-Identifier: ISC */
/*
 * What a browser does for an officer approving from the web console,
 * with stock libfido2 and a real softfido in place of the browser's
 * security key: the SHA-256 of a clientDataJSON (which the browser
 * writes, here the test) goes to the key as the clientDataHash
 * (fido_assert_set_clientdata_hash), for the rp_id, with the officer's
 * allowed credential, the PIN for user verification (or none: no UV).
 * Printed: the body of POST /v1/requests/ID/console-approval without its
 * nonce, {"credential_id","authenticator_data","client_data_json",
 * "signature"}, each base64url, the authenticator data raw (as
 * navigator.credentials.get() gives it, not CBOR-wrapped).
 *
 *	e2e_console_assert DEVICE PIN|- RP_ID CLIENTDATA_FILE CRED_B64URL
 *
 * PIN "-" asks without user verification.  tests/e2e/console_approval.sh
 * drives it; run without arguments (as tests/run.sh runs every program
 * here) it says so in one skip line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fido.h>
#include <openssl/sha.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "token/token.h"
#include "token/token_int.h"

/* The raw authenticator data inside libfido2's CBOR byte string. */
static int
unwrap(const uint8_t *p, size_t n, const uint8_t **out, size_t *outlen)
{
	size_t len, hdr;

	if (n < 1 || (p[0] & 0xe0) != 0x40)
		return -1;
	if (p[0] < 0x58) {
		len = p[0] & 0x1f;
		hdr = 1;
	} else if (p[0] == 0x58 && n >= 2) {
		len = p[1];
		hdr = 2;
	} else if (p[0] == 0x59 && n >= 3) {
		len = (size_t)p[1] << 8 | p[2];
		hdr = 3;
	} else
		return -1;
	if (hdr + len != n)
		return -1;
	*out = p + hdr;
	*outlen = len;
	return 0;
}

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = NULL;

	if (b64url_encode_alloc(p, n, &s) != 0) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return s;
}

int
main(int argc, char **argv)
{
	struct token *tok = NULL;
	fido_assert_t *a = NULL;
	const uint8_t *ad;
	uint8_t cd[4096], cdh[32], *cred = NULL;
	size_t cdlen, adlen, credlen = 0;
	char *id, *ad64, *cd64, *sig;
	FILE *f;
	int r, fr, rc = 1;

	if (argc == 1) {
		printf("ok console_assert_is_driven_by_its_script # SKIP a "
		    "helper of tests/e2e/console_approval.sh\n");
		return 0;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: %s DEVICE PIN|- RP_ID CLIENTDATA_FILE "
		    "CRED_B64URL\n", argv[0]);
		return 2;
	}
	if ((f = fopen(argv[4], "rb")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	cdlen = fread(cd, 1, sizeof(cd), f);
	fclose(f);
	SHA256(cd, cdlen, cdh);
	if (b64url_decode(argv[5], strlen(argv[5]), TOKEN_CRED_ID_MAX, &cred,
	    &credlen) != 0) {
		fprintf(stderr, "credential id: not base64url\n");
		return 1;
	}
	if ((r = token_open(argv[1], NULL, &tok)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[1], tg_strerror(r));
		goto out;
	}
	if ((a = fido_assert_new()) == NULL ||
	    fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_assert_set_rp(a, argv[3]) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
	    fido_assert_allow_cred(a, cred, credlen) != FIDO_OK) {
		fprintf(stderr, "libfido2: cannot set up the assertion\n");
		goto out;
	}
	fr = fido_dev_get_assert(tok->dev, a, strcmp(argv[2], "-") == 0 ?
	    NULL : argv[2]);
	if (fr != FIDO_OK || fido_assert_count(a) != 1 ||
	    unwrap(fido_assert_authdata_ptr(a, 0), fido_assert_authdata_len(a,
	    0), &ad, &adlen) != 0) {
		fprintf(stderr, "getAssertion: %s\n", fido_strerr(fr));
		goto out;
	}
	id = b64(fido_assert_id_ptr(a, 0), fido_assert_id_len(a, 0));
	ad64 = b64(ad, adlen);
	cd64 = b64(cd, cdlen);
	sig = b64(fido_assert_sig_ptr(a, 0), fido_assert_sig_len(a, 0));
	printf("{\"credential_id\":\"%s\",\"authenticator_data\":\"%s\","
	    "\"client_data_json\":\"%s\",\"signature\":\"%s\"}\n", id,
	    ad64, cd64, sig);
	free(id);
	free(ad64);
	free(cd64);
	free(sig);
	rc = 0;
out:
	fido_assert_free(&a);
	token_free(&tok);
	free(cred);
	return rc;
}

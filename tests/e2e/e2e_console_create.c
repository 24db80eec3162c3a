/* SPDX-License-Identifier: ISC */
/*
 * What a browser does for a console user enrolling its security key by
 * invitation, with stock libfido2 and a real softfido in place of the
 * browser's key: makeCredential over the SHA-256 of a clientDataJSON
 * (type webauthn.create, which the test writes), for the rp_id, with the
 * user handle and name the appliance gave, ES256, the PIN for user
 * verification.  Printed: {"authenticator_data","credential_id"}, each
 * base64url, the authenticator data raw (as the browser's
 * response.getAuthenticatorData() gives it).
 *
 *	e2e_console_create DEVICE PIN RP_ID CLIENTDATA_FILE USER_ID_B64URL NAME
 *
 * tests/e2e/console_enrol.sh drives it; run without arguments (as
 * tests/run.sh runs every program here) it says so in one skip line.
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
	fido_cred_t *c = NULL;
	uint8_t cd[4096], cdh[32], *uid = NULL;
	size_t cdlen, uidlen = 0;
	char *ad64, *id64;
	FILE *f;
	int r, fr, rc = 1;

	if (argc == 1) {
		printf("ok console_create_is_driven_by_its_script # SKIP a "
		    "helper of tests/e2e/console_enrol.sh\n");
		return 0;
	}
	if (argc != 7) {
		fprintf(stderr, "usage: %s DEVICE PIN RP_ID CLIENTDATA_FILE "
		    "USER_ID_B64URL NAME\n", argv[0]);
		return 2;
	}
	if ((f = fopen(argv[4], "rb")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	cdlen = fread(cd, 1, sizeof(cd), f);
	fclose(f);
	SHA256(cd, cdlen, cdh);
	if (b64url_decode(argv[5], strlen(argv[5]), 64, &uid, &uidlen) != 0) {
		fprintf(stderr, "user id: not base64url\n");
		return 1;
	}
	if ((r = token_open(argv[1], NULL, &tok)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[1], tg_strerror(r));
		goto out;
	}
	if ((c = fido_cred_new()) == NULL ||
	    fido_cred_set_type(c, COSE_ES256) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_cred_set_rp(c, argv[3], "tapgate") != FIDO_OK ||
	    fido_cred_set_user(c, uid, uidlen, argv[6], argv[6], NULL) !=
	    FIDO_OK) {
		fprintf(stderr, "libfido2: cannot set up the credential\n");
		goto out;
	}
	if ((fr = fido_dev_make_cred(tok->dev, c, argv[2])) != FIDO_OK) {
		fprintf(stderr, "makeCredential: %s\n", fido_strerr(fr));
		goto out;
	}
	ad64 = b64(fido_cred_authdata_raw_ptr(c),
	    fido_cred_authdata_raw_len(c));
	id64 = b64(fido_cred_id_ptr(c), fido_cred_id_len(c));
	printf("{\"authenticator_data\":\"%s\",\"credential_id\":\"%s\"}\n",
	    ad64, id64);
	free(ad64);
	free(id64);
	rc = 0;
out:
	fido_cred_free(&c);
	token_free(&tok);
	free(uid);
	return rc;
}

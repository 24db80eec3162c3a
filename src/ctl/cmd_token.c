/* SPDX-License-Identifier: ISC */
/* `tapgatectl token list | info | set-pin`: no daemon needed. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include <jansson.h>

#include "common/errors.h"
#include "common/pinread.h"
#include "ctl.h"
#include "token/token.h"

/* A softfido that was just started gets this long to start listening. */
#define CTL_CONNECT_WAIT_MS	1500
#define PIN_BUF			(TOKEN_PIN_MAX + 2)

static const struct token_opts ctl_opts = {
	.timeout_ms = 0,
	.connect_wait_ms = CTL_CONNECT_WAIT_MS,
};

static int
bad_name(const char *name)
{
	int r = token_name_check(name);

	if (r == TG_ERR_TOO_LONG)
		ctl_err("%s: socket path too long", name);
	else if (r != 0)
		ctl_err("'%s' is not a device name: use /dev/hidrawN or "
		    "softfido:PATH", name);
	return r;
}

static int
open_dev(const char *name, struct token **tokp)
{
	int r;

	if (bad_name(name) != 0)
		return CTL_EXIT_USAGE;
	if ((r = token_open(name, &ctl_opts, tokp)) != 0) {
		if (r == TG_ERR_DEVICE_GONE)
			ctl_err("%s: no security key there (not plugged in, "
			    "or no softfido listening)", name);
		else
			ctl_err("%s: %s", name, tg_strerror(r));
		return ctl_exit_code(r);
	}
	return CTL_EXIT_OK;
}

/* ---- list */

static int
cmd_list(int argc, char **argv)
{
	struct token_list	*list = NULL;
	const struct token_entry *e;
	int			 r, rc = CTL_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			ctl_err("token list: unknown option '%s'", argv[i]);
			return CTL_EXIT_USAGE;
		}
		if (bad_name(argv[i]) != 0)
			return CTL_EXIT_USAGE;
		if (strncmp(argv[i], "softfido:", 9) != 0) {
			ctl_err("token list: '%s': only softfido:PATH names "
			    "are probed; hidraw keys are found by themselves",
			    argv[i]);
			return CTL_EXIT_USAGE;
		}
	}
	if ((r = token_list_new((const char *const *)argv + 1,
	    (size_t)argc - 1, &ctl_opts, &list)) != 0) {
		ctl_err("token list: %s", tg_strerror(r));
		return ctl_exit_code(r);
	}
	for (size_t i = 0; i < list->count; i++) {
		e = &list->entries[i];
		if (e->status != 0) {
			ctl_err("%s: %s", e->name, tg_strerror(e->status));
			if (rc == CTL_EXIT_OK)
				rc = ctl_exit_code(e->status);
			continue;
		}
		if (e->vendor_id != 0 || e->product_id != 0)
			printf("%s\t%s %s (%04x:%04x)\n", e->name,
			    e->manufacturer, e->product, e->vendor_id,
			    e->product_id);
		else
			printf("%s\t%s %s\n", e->name, e->manufacturer,
			    e->product);
	}
	if (list->count == 0)
		fprintf(stderr, "no security keys found\n");
	token_list_free(&list);
	return rc;
}

/* ---- info */

static const char *
alg_name(int cose)
{
	switch (cose) {
	case TOKEN_ALG_ES256:
		return "ES256";
	case TOKEN_ALG_EDDSA:
		return "EdDSA";
	case -35:
		return "ES384";
	case -257:
		return "RS256";
	default:
		return "?";
	}
}

static void
info_text(const char *name, const struct token_info *in)
{
	char aaguid[37];

	token_aaguid_format(in->aaguid, aaguid);
	printf("device:        %s\n", name);
	printf("versions:     ");
	for (size_t i = 0; i < in->nversions; i++)
		printf(" %s", in->versions[i]);
	printf("\nextensions:   ");
	for (size_t i = 0; i < in->nextensions; i++)
		printf(" %s", in->extensions[i]);
	printf("\naaguid:        %s\n", aaguid);
	printf("options:      ");
	for (size_t i = 0; i < in->noptions; i++)
		printf(" %s=%s", in->options[i].name,
		    in->options[i].value ? "true" : "false");
	printf("\nalgorithms:   ");
	for (size_t i = 0; i < in->nalgorithms; i++)
		printf(" %s (%d)", alg_name(in->algorithms[i].cose),
		    in->algorithms[i].cose);
	printf("\nmax msg size:  %llu\n", (unsigned long long)in->max_msg_size);
	printf("pin protocols:");
	for (size_t i = 0; i < in->npin_protocols; i++)
		printf(" %u", in->pin_protocols[i]);
	printf("\nfirmware:      %u.%u.%u (CTAPHID protocol %u)\n",
	    in->fw_major, in->fw_minor, in->fw_build, in->ctaphid_protocol);
	if (!in->pin_supported)
		printf("PIN:           not supported\n");
	else if (in->pin_set)
		printf("PIN:           set, %d attempts left\n",
		    in->pin_retries);
	else
		printf("PIN:           not set\n");
}

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Add v under k to o; set_new takes v's reference even when it fails. */
static int
put(json_t *o, const char *k, json_t *v)
{
	return v == NULL || json_object_set_new(o, k, v) != 0 ? -1 : 0;
}

static json_t *
info_json(const char *name, const struct token_info *in)
{
	json_t	*o, *opts, *algs, *prots, *x;
	char	 aaguid[37];

	token_aaguid_format(in->aaguid, aaguid);
	if ((o = json_object()) == NULL)
		return NULL;
	if (put(o, "device", json_string(name)) != 0 ||
	    put(o, "versions", strv_json(in->versions, in->nversions)) != 0 ||
	    put(o, "extensions", strv_json(in->extensions,
	    in->nextensions)) != 0 ||
	    put(o, "aaguid", json_string(aaguid)) != 0 ||
	    put(o, "options", opts = json_object()) != 0 ||
	    put(o, "algorithms", algs = json_array()) != 0 ||
	    put(o, "max_msg_size", json_integer(
	    (json_int_t)in->max_msg_size)) != 0 ||
	    put(o, "pin_protocols", prots = json_array()) != 0 ||
	    put(o, "pin_retries", in->pin_retries >= 0 ?
	    json_integer(in->pin_retries) : json_null()) != 0 ||
	    put(o, "pin_supported", json_boolean(in->pin_supported)) != 0 ||
	    put(o, "pin_set", json_boolean(in->pin_set)) != 0 ||
	    put(o, "min_pin_length", json_integer(
	    (json_int_t)in->min_pin_length)) != 0)
		goto fail;
	for (size_t i = 0; i < in->noptions; i++)
		if (put(opts, in->options[i].name,
		    json_boolean(in->options[i].value)) != 0)
			goto fail;
	for (size_t i = 0; i < in->nalgorithms; i++) {
		if ((x = json_object()) == NULL ||
		    json_array_append_new(algs, x) != 0 ||
		    put(x, "type", json_string(in->algorithms[i].type)) != 0 ||
		    put(x, "alg", json_integer(in->algorithms[i].cose)) != 0)
			goto fail;
	}
	for (size_t i = 0; i < in->npin_protocols; i++)
		if (json_array_append_new(prots,
		    json_integer(in->pin_protocols[i])) != 0)
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int
cmd_info(int argc, char **argv)
{
	struct token		*tok = NULL;
	struct token_info	*info = NULL;
	const char		*name = NULL;
	json_t			*j = NULL;
	bool			 as_json = false;
	int			 r, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (argv[i][0] == '-') {
			ctl_err("token info: unknown option '%s'", argv[i]);
			return CTL_EXIT_USAGE;
		} else if (name == NULL)
			name = argv[i];
		else {
			ctl_err("token info: one DEVICE only");
			return CTL_EXIT_USAGE;
		}
	}
	if (name == NULL) {
		ctl_err("token info: DEVICE missing (see tapgatectl help)");
		return CTL_EXIT_USAGE;
	}
	if ((rc = open_dev(name, &tok)) != CTL_EXIT_OK)
		return rc;
	if ((r = token_info_new(tok, &info)) != 0) {
		ctl_err("%s: getInfo: %s", name, tg_strerror(r));
		rc = ctl_exit_code(r);
		goto out;
	}
	if (as_json) {
		if ((j = info_json(name, info)) == NULL ||
		    json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
			ctl_err("token info: %s", tg_strerror(TG_ERR_NOMEM));
			rc = CTL_EXIT_FAIL;
			goto out;
		}
		putchar('\n');
	} else
		info_text(name, info);
	rc = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
out:
	json_decref(j);
	token_info_free(&info);
	token_free(&tok);
	return rc;
}

/* ---- set-pin */

static int
read_pin(const char *prompt, char *buf)
{
	int r;

	if ((r = pinread_line(prompt, buf, PIN_BUF)) == 0)
		return 0;
	if (r == TG_ERR_TOO_LONG)
		ctl_err("PIN longer than %d bytes", TOKEN_PIN_MAX);
	else if (r == TG_ERR_IO)
		ctl_err("no PIN: %s", pinread_interactive() ?
		    "cannot read the terminal" :
		    "standard input ended (one PIN per line)");
	else
		ctl_err("PIN entry: %s", tg_strerror(r));
	return r;
}

static int
cmd_set_pin(int argc, char **argv)
{
	struct token		*tok = NULL;
	struct token_info	*info = NULL;
	const char		*name = NULL;
	char			 oldp[PIN_BUF], newp[PIN_BUF], again[PIN_BUF];
	bool			 change = false;
	int			 r, rc, left;

	memset(oldp, 0, sizeof(oldp));
	memset(newp, 0, sizeof(newp));
	memset(again, 0, sizeof(again));
	for (int i = 1; i < argc; i++) {
		/* Never echo arguments here: one could be a PIN. */
		if (strcmp(argv[i], "--change") == 0)
			change = true;
		else if (argv[i][0] == '-') {
			ctl_err("token set-pin: unknown option (only --change; "
			    "PINs are never taken from the command line)");
			return CTL_EXIT_USAGE;
		} else if (name == NULL)
			name = argv[i];
		else {
			ctl_err("token set-pin: unexpected argument after "
			    "DEVICE (PINs are never taken from the command "
			    "line: they are read from the terminal or "
			    "standard input)");
			return CTL_EXIT_USAGE;
		}
	}
	if (name == NULL) {
		ctl_err("token set-pin: DEVICE missing (see tapgatectl help)");
		return CTL_EXIT_USAGE;
	}
	if ((rc = open_dev(name, &tok)) != CTL_EXIT_OK)
		return rc;
	/* Say what is wrong before asking for any PIN. */
	if ((r = token_info_new(tok, &info)) != 0) {
		ctl_err("%s: getInfo: %s", name, tg_strerror(r));
		rc = ctl_exit_code(r);
		goto out;
	}
	if (!info->pin_supported) {
		ctl_err("%s: this key does not support a PIN", name);
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	if (info->pin_set && !change) {
		ctl_err("%s: the key already has a PIN; use --change",
		    name);
		rc = CTL_EXIT_PIN;
		goto out;
	}
	if (!info->pin_set && change) {
		ctl_err("%s: the key has no PIN yet; drop --change", name);
		rc = CTL_EXIT_PIN;
		goto out;
	}
	rc = CTL_EXIT_PIN;
	if (change && read_pin("Current PIN: ", oldp) != 0)
		goto out;
	if (read_pin("New PIN: ", newp) != 0)
		goto out;
	if (pinread_interactive()) {
		if (read_pin("New PIN again: ", again) != 0)
			goto out;
		if (strcmp(newp, again) != 0) {
			ctl_err("the two new PINs differ; nothing changed");
			goto out;
		}
	}
	if ((r = token_pin_policy_check(newp, info->min_pin_length)) != 0) {
		ctl_err("new PIN refused: it needs %llu to %d characters",
		    (unsigned long long)(info->min_pin_length > TOKEN_PIN_MIN ?
		    info->min_pin_length : TOKEN_PIN_MIN), TOKEN_PIN_MAX);
		goto out;
	}
	if ((r = token_set_pin(tok, newp, change ? oldp : NULL)) != 0) {
		if (r == TG_ERR_PIN_INVALID &&
		    token_pin_retries(tok, &left) == 0)
			ctl_err("%s: wrong current PIN, %d attempts left",
			    name, left);
		else
			ctl_err("%s: %s", name, tg_strerror(r));
		rc = ctl_exit_code(r);
		goto out;
	}
	printf("%s: PIN %s\n", name, change ? "changed" : "set");
	rc = CTL_EXIT_OK;
out:
	explicit_bzero(oldp, sizeof(oldp));
	explicit_bzero(newp, sizeof(newp));
	explicit_bzero(again, sizeof(again));
	token_info_free(&info);
	token_free(&tok);
	return rc;
}

/* ---- check */

/*
 * An enrolment dry run: make a credential with touch and PIN, verify its
 * attestation against the given roots, then get an assertion with it and
 * verify that the way an approval is verified.  Nothing is stored: this
 * answers "will this key work as an approver's key on this appliance?".
 */
static int
cmd_check(int argc, char **argv)
{
	struct token		*tok = NULL;
	struct token_credential	*cred = NULL;
	struct token_assertion	*as = NULL;
	struct token_enroll_req	 er;
	struct token_assert_req	 ar;
	struct token_verify_req	 vr;
	struct token_cred_id	 allow;
	const char		*name = NULL, *roots = NULL;
	const char		*rp = "tapgate.local";
	char			 pin[PIN_BUF], aaguid[37], fp[65];
	uint8_t			 cdh[TOKEN_CDH_LEN], uid[16];
	uint32_t		 count;
	int			 alg = TOKEN_ALG_ES256, r, rc;

	memset(pin, 0, sizeof(pin));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--roots") == 0 && i + 1 < argc)
			roots = argv[++i];
		else if (strcmp(argv[i], "--rp") == 0 && i + 1 < argc)
			rp = argv[++i];
		else if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "es256") == 0)
				alg = TOKEN_ALG_ES256;
			else if (strcmp(argv[i], "eddsa") == 0)
				alg = TOKEN_ALG_EDDSA;
			else {
				ctl_err("token check: --alg es256 or eddsa");
				return CTL_EXIT_USAGE;
			}
		} else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else {
			ctl_err("token check: usage: token check DEVICE "
			    "--roots PEM [--rp RPID] [--alg es256|eddsa]");
			return CTL_EXIT_USAGE;
		}
	}
	if (name == NULL || roots == NULL) {
		ctl_err("token check: DEVICE and --roots PEM are required");
		return CTL_EXIT_USAGE;
	}
	if ((rc = open_dev(name, &tok)) != CTL_EXIT_OK)
		return rc;
	rc = CTL_EXIT_PIN;
	if (read_pin("PIN: ", pin) != 0)
		goto out;
	if (RAND_bytes(cdh, sizeof(cdh)) != 1 ||
	    RAND_bytes(uid, sizeof(uid)) != 1) {
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	memset(&er, 0, sizeof(er));
	er.rp_id = rp;
	er.rp_name = "tapgate";
	er.user_id = uid;
	er.user_id_len = sizeof(uid);
	er.user_name = "tapgate-check";
	er.client_data_hash = cdh;
	er.alg = alg;
	er.cred_protect = 3;
	er.pin = pin;
	er.trust_roots_pem = roots;
	printf("1. enrolment: touch your security key...\n");
	fflush(stdout);
	if ((r = token_enroll(tok, &er, &cred)) != 0) {
		ctl_err("%s: enrolment: %s", name, tg_strerror(r));
		rc = ctl_exit_code(r);
		goto out;
	}
	token_aaguid_format(cred->aaguid, aaguid);
	for (size_t i = 0; i < sizeof(cred->cert_sha256); i++)
		snprintf(fp + 2 * i, 3, "%02x", cred->cert_sha256[i]);
	printf("   credential made (%s, credProtect %d), attestation "
	    "verified against %s\n   AAGUID %s\n   attestation "
	    "certificate SHA-256 %s\n", alg == TOKEN_ALG_ES256 ? "ES256" :
	    "EdDSA", cred->cred_protect, roots, aaguid, fp);
	if (RAND_bytes(cdh, sizeof(cdh)) != 1) {
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	allow.ptr = cred->id;
	allow.len = cred->id_len;
	memset(&ar, 0, sizeof(ar));
	ar.rp_id = rp;
	ar.client_data_hash = cdh;
	ar.allow = &allow;
	ar.nallow = 1;
	ar.pin = pin;
	printf("2. assertion: touch your security key again...\n");
	fflush(stdout);
	if ((r = token_assert(tok, &ar, &as)) != 0) {
		ctl_err("%s: assertion: %s", name, tg_strerror(r));
		rc = ctl_exit_code(r);
		goto out;
	}
	memset(&vr, 0, sizeof(vr));
	vr.pubkey = &cred->pubkey;
	vr.rp_id = rp;
	vr.client_data_hash = cdh;
	vr.authdata = as->authdata;
	vr.authdata_len = as->authdata_len;
	vr.sig = as->sig;
	vr.sig_len = as->sig_len;
	vr.prev_sign_count = cred->sign_count;
	if ((r = token_verify_assertion(&vr, &count)) != 0) {
		ctl_err("%s: the assertion does not verify: %s", name,
		    tg_strerror(r));
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	printf("   assertion verified: signature, rpIdHash of %s, user "
	    "present, user verified, counter %u > %u\n%s: this key can "
	    "approve on this appliance\n", rp, count, cred->sign_count, name);
	rc = CTL_EXIT_OK;
out:
	explicit_bzero(pin, sizeof(pin));
	token_assertion_free(&as);
	token_credential_free(&cred);
	token_free(&tok);
	return rc;
}

static const struct ctl_cmd token_cmds[] = {
	{ "list", cmd_list, "list security keys" },
	{ "info", cmd_info, "show a key's capabilities" },
	{ "set-pin", cmd_set_pin, "set or change a key's PIN" },
	{ "check", cmd_check, "enrol and assert once, verify both" },
};

int
ctl_token(int argc, char **argv)
{
	if (argc < 2) {
		ctl_err("token: which one? list, info, set-pin or check "
		    "(see tapgatectl help)");
		return CTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(token_cmds) / sizeof(token_cmds[0]);
	    i++)
		if (strcmp(argv[1], token_cmds[i].name) == 0)
			return token_cmds[i].run(argc - 1, argv + 1);
	ctl_err("token: unknown subcommand '%s' (list, info, set-pin, check)",
	    argv[1]);
	return CTL_EXIT_USAGE;
}

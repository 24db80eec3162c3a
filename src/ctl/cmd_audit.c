/* SPDX-License-Identifier: ISC */
/*
 * `tapgatectl audit ...`: check the audit log, through the daemon or by
 * reading the state directly, and hold it to what others keep of it
 * (orders and exported checkpoints, "anchors"); export the latest
 * checkpoint to keep one; show the newest entries.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/b64url.h"
#include "common/errors.h"
#include "ctl/ctl.h"
#include "engine/engine.h"
#include "order/jwk.h"
#include "order/jws.h"
#include "store/auditmark.h"
#include "store/checkpoint.h"

#define ANCHORS_MAX		ENGINE_ANCHORS_MAX
#define ANCHOR_FILE_MAX		JWS_MAX_LEN
#define CHECKPOINT_TYP		"tapgate-audit-checkpoint/v1"

/* An anchor as given on the command line, checked and named. */
struct anchor_in {
	struct audit_anchor	 a;
	char			 source[256];
};

struct verify_args {
	const char		*dir;		/* NULL: through the daemon */
	const char		*jwks;
	const char		*files[ANCHORS_MAX];
	size_t			 nfiles;
	int64_t			 interval;	/* the signer's period */
	int			 json;
};

static long long
ji(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Whether why names a break of the chain itself (not a checkpoint's). */
static int
chain_break(const char *why)
{
	return strcmp(why, "edited") == 0 || strcmp(why, "missing") == 0 ||
	    strcmp(why, "unlinked") == 0 || strcmp(why, "malformed") == 0;
}

static void
print_anchors(const json_t *rep)
{
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(rep, "anchors"), i, a) {
		if (json_is_true(json_object_get(a, "held")))
			printf("anchor held: entry %lld of %s\n",
			    ji(a, "seq"), ctl_js(a, "source"));
		else
			printf("anchor NOT HELD: entry %lld of %s: %s\n",
			    ji(a, "seq"), ctl_js(a, "source"),
			    ctl_js(a, "reason"));
	}
}

void
ctl_print_audit_report(const json_t *rep, int json)
{
	const json_t *cp = json_object_get(rep, "checkpoint");
	char when[CTL_TIME_LEN];

	if (json) {
		ctl_print_json(rep);
		return;
	}
	if (json_is_true(json_object_get(rep, "ok")))
		printf("audit chain OK: %lld entries, head %lld %s\n",
		    ji(rep, "count"), ji(rep, "head_seq"),
		    ctl_js(rep, "head_hash"));
	else if (chain_break(ctl_js(rep, "why")))
		printf("audit chain BROKEN at entry %lld (%s): %s\n"
		    "  %lld entries verify before it\n", ji(rep, "bad_seq"),
		    ctl_js(rep, "why"), ctl_js(rep, "reason"),
		    ji(rep, "count"));
	else
		printf("audit chain BROKEN at entry %lld (%s): %s\n"
		    "  the chain alone verifies: %lld entries, head %lld\n",
		    ji(rep, "bad_seq"), ctl_js(rep, "why"),
		    ctl_js(rep, "reason"), ji(rep, "count"),
		    ji(rep, "head_seq"));
	print_anchors(rep);
	if (json_object_get(rep, "checkpoints") == NULL)
		return;		/* a daemon from before checkpoints */
	if (json_is_object(cp)) {
		printf("latest checkpoint: entry %lld, signed %s by %s "
		    "(%lld checkpoints%s)\n", ji(cp, "seq"),
		    ctl_time(ji(cp, "time"), when),
		    ctl_js(cp, "kid"), ji(rep, "checkpoints"),
		    json_is_true(json_object_get(rep, "signatures_checked")) ?
		    ", signatures verified" : "; signatures NOT checked: "
		    "give --jwks");
	} else if (json_is_true(json_object_get(rep, "ok")))
		printf("no signed checkpoint yet: a cut tail would not "
		    "show\n");
}

/*
 * The exit code of a verify report: the n anchors given first (the
 * high-water mark after them fails the report like any break), then the
 * rest.
 */
static int
verify_exit(const json_t *rep, size_t n)
{
	const json_t *a;
	size_t i;

	json_array_foreach(json_object_get(rep, "anchors"), i, a)
		if (i < n && !json_is_true(json_object_get(a, "held")))
			return CTL_EXIT_ANCHOR;
	return json_is_true(json_object_get(rep, "ok")) ? CTL_EXIT_OK :
	    CTL_EXIT_FAIL;
}

/* A whole file of at most max bytes, NUL-terminated, trailing space cut. */
static int
read_small(const char *path, size_t max, char **bufp, size_t *lenp)
{
	char *buf;
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		ctl_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(max + 2)) == NULL) {
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, max + 1, fp);
	if (ferror(fp) || n > max) {
		ctl_err("%s: %s", path, ferror(fp) ? "cannot read" :
		    "too long for an order or a checkpoint");
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	*bufp = buf;
	*lenp = n;
	return 0;
}

/* 64 lower-case hex digits. */
static int
hash_ok(const char *s)
{
	return s != NULL && strlen(s) == AUDIT_HASH_HEX &&
	    strspn(s, "0123456789abcdef") == AUDIT_HASH_HEX;
}

/*
 * An order: its signature must verify under the appliance's keys before
 * the head it carries means anything.
 */
static int
order_anchor(const char *path, const char *buf, size_t len,
    const struct jwks *keys, struct anchor_in *out)
{
	json_t *root = NULL;
	const char *jti = NULL, *hash = NULL;
	json_int_t seq = -1;
	uint8_t *payload = NULL;
	size_t plen;
	int r, ret = -1;

	if ((r = jws_verify(buf, len, keys, &payload, &plen, NULL)) != 0) {
		ctl_err("%s: not an order of this appliance: %s", path,
		    tg_strerror(r));
		return -1;
	}
	if ((root = json_loadb((const char *)payload, plen,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    json_unpack(root, "{s:s}", "jti", &jti) != 0) {
		ctl_err("%s: the order's payload is not an order", path);
		goto out;
	}
	if (json_object_get(root, "audit") == NULL) {
		ctl_err("%s: order %s carries no audit anchor (signed before "
		    "orders carried one)", path, jti);
		goto out;
	}
	if (json_unpack(root, "{s:{s:I,s:s!}}", "audit", "seq", &seq,
	    "hash", &hash) != 0 || seq < 0 || !hash_ok(hash)) {
		ctl_err("%s: order %s: its audit anchor is malformed", path,
		    jti);
		goto out;
	}
	out->a.seq = (int64_t)seq;
	memcpy(out->a.hash, hash, AUDIT_HASH_HEX + 1);
	snprintf(out->source, sizeof(out->source), "order %.32s (%s)", jti,
	    path);
	ret = 0;
out:
	json_decref(root);
	free(payload);
	return ret;
}

/* An exported checkpoint: its signature by one of the appliance's keys. */
static int
checkpoint_anchor(const char *path, const char *buf, size_t len,
    const struct jwks *keys, struct anchor_in *out)
{
	struct checkpoint cp;
	json_t *root;
	const char *typ, *hash, *kid, *sig;
	json_int_t seq, t;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int r, ret = -1;

	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || json_unpack(root, "{s:s,s:I,s:s,s:I,s:s,s:s!}",
	    "typ", &typ, "seq", &seq, "hash", &hash, "time", &t, "kid", &kid,
	    "signature", &sig) != 0 || strcmp(typ, CHECKPOINT_TYP) != 0 ||
	    seq < 1 || !hash_ok(hash) || !jwk_kid_ok(kid) ||
	    b64url_decode(sig, strlen(sig), JWK_SIG_LEN, &raw, &rawlen) != 0 ||
	    rawlen != JWK_SIG_LEN) {
		ctl_err("%s: neither an order nor an exported checkpoint (%s)",
		    path, CHECKPOINT_TYP);
		goto out;
	}
	memset(&cp, 0, sizeof(cp));
	cp.seq = (int64_t)seq;
	memcpy(cp.hash, hash, sizeof(cp.hash));
	cp.time = (int64_t)t;
	memcpy(cp.kid, kid, sizeof(cp.kid));
	memcpy(cp.sig, raw, sizeof(cp.sig));
	if ((r = checkpoint_check_signature(&cp, keys)) != 0) {
		ctl_err("%s: the checkpoint of entry %lld is not signed by "
		    "this appliance: %s", path, (long long)cp.seq,
		    tg_strerror(r));
		goto out;
	}
	out->a.seq = cp.seq;
	memcpy(out->a.hash, cp.hash, sizeof(out->a.hash));
	snprintf(out->source, sizeof(out->source), "checkpoint of entry "
	    "%lld (%s)", (long long)cp.seq, path);
	ret = 0;
out:
	free(raw);
	json_decref(root);
	return ret;
}

/* One --anchor FILE: an order (compact JWS) or an exported checkpoint. */
static int
load_anchor(const char *path, const struct jwks *keys, struct anchor_in *out)
{
	char *buf = NULL;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	if (read_small(path, ANCHOR_FILE_MAX, &buf, &len) != 0)
		return -1;
	if (len > 0 && buf[0] == '{')
		r = checkpoint_anchor(path, buf, len, keys, out);
	else
		r = order_anchor(path, buf, len, keys, out);
	free(buf);
	return r;
}

/* The appliance's keys, every one it ever signed with: file or daemon. */
static int
load_keys(const char *jwks, struct jwks **setp)
{
	json_t *out = NULL;
	char *doc;
	int r;

	if (jwks != NULL)
		return ctl_read_jwks(jwks, setp) == 0 ? 0 : -1;
	if ((r = ctl_api("GET", "/v1/keys?all=1", NULL, &out)) != 0)
		return -1;
	doc = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	r = doc != NULL ? jwks_parse(doc, strlen(doc), setp) : TG_ERR_NOMEM;
	free(doc);
	if (r != 0)
		ctl_err("the daemon's key set: %s", tg_strerror(r));
	return r == 0 ? 0 : -1;
}

/*
 * The high-water mark of the state in dir, as an anchor (*have 0 when
 * there is none).  With keys its signature is checked; without, it is
 * named unchecked.  A mark whose signature does not verify with the keys
 * given is no anchor: bad says why, and the report fails on it.
 */
static int
mark_anchor(const char *dir, const struct jwks *keys, struct anchor_in *out,
    int *have, char *bad, size_t badlen)
{
	struct auditmark m;
	int r;

	*have = 0;
	bad[0] = '\0';
	if ((r = auditmark_read(dir, &m)) == TG_ERR_NOT_FOUND)
		return 0;
	if (r != 0) {
		ctl_err("%s/%s: not a high-water mark: %s", dir,
		    AUDITMARK_FILE, tg_strerror(r));
		return -1;
	}
	if (keys != NULL && (r = auditmark_verify(&m, keys)) != 0) {
		snprintf(bad, badlen, "%s/%s: the high-water mark (entry %lld, "
		    "kid %s) does not verify with the keys given: %s", dir,
		    AUDITMARK_FILE, (long long)m.seq, m.kid, tg_strerror(r));
		return 0;
	}
	auditmark_anchor(&m, &out->a);
	snprintf(out->source, sizeof(out->source), "the high-water mark "
	    "%s/%s%s", dir, AUDITMARK_FILE, keys != NULL ? "" :
	    " (signature not checked: give --jwks)");
	*have = 1;
	return 0;
}

/*
 * Verify the database directly, without the daemon: for an operator who
 * does not want to trust the process whose log it is.  Checkpoint and
 * mark signatures need the appliance's public keys (its JWKS, --jwks).
 */
static int
verify_offline(const struct verify_args *va, const struct jwks *keys,
    struct anchor_in in[ANCHORS_MAX + 1], size_t n, json_t **repp)
{
	struct checkpoint_report rep;
	struct audit_anchor a[ANCHORS_MAX + 1];
	const char *src[ANCHORS_MAX + 1];
	struct store *st = NULL;
	char bad[512];
	json_t *j;
	size_t i;
	int r, have;

	if (mark_anchor(va->dir, keys, &in[n], &have, bad, sizeof(bad)) != 0)
		return CTL_EXIT_FAIL;
	n += (size_t)have;
	if ((r = store_open_existing(va->dir, &st)) != 0) {
		ctl_err("audit verify: %s: %s", va->dir, r == TG_ERR_NOT_FOUND ?
		    "no tapgate state there (no " STORE_DB_NAME ")" :
		    tg_strerror(r));
		return r == TG_ERR_NOT_FOUND ? CTL_EXIT_FAIL :
		    ctl_exit_code(r);
	}
	memset(&rep, 0, sizeof(rep));
	r = checkpoint_verify(st, keys, &rep);
	for (i = 0; r == 0 && i < n; i++) {
		a[i] = in[i].a;
		src[i] = in[i].source;
		r = audit_hold_anchor(st, &a[i]);
	}
	store_close(&st);
	if (r != 0) {
		ctl_err("audit verify: %s", tg_strerror(r));
		return CTL_EXIT_FAIL;
	}
	checkpoint_check_stale(&rep, (int64_t)time(NULL), va->interval);
	if ((j = engine_checkpoint_report_json(&rep)) == NULL ||
	    engine_anchors_json(j, a, src, n) != 0) {
		json_decref(j);
		return CTL_EXIT_FAIL;
	}
	if (bad[0] != '\0') {
		/* the chain's own why, when it has one, comes first */
		if (json_is_true(json_object_get(j, "ok")))
			json_object_set_new(j, "why",
			    json_string("mark_unverified"));
		json_object_set_new(j, "ok", json_false());
		json_object_set_new(j, "mark_error", json_string(bad));
	} else if (!have)
		json_object_set_new(j, "mark", json_false());
	*repp = j;
	return CTL_EXIT_OK;
}

/* Through the daemon: it holds the chain to the anchors it is given. */
static int
verify_daemon(struct anchor_in *in, size_t n, json_t **repp)
{
	char target[64 + ANCHORS_MAX * (AUDIT_HASH_HEX + 32)];
	json_t *out = NULL, *a;
	size_t i, off;
	int r;

	off = (size_t)snprintf(target, sizeof(target), "/v1/audit/verify");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(target + off, sizeof(target) - off,
		    "%sanchor=%lld:%s", i == 0 ? "?" : "&",
		    (long long)in[i].a.seq, in[i].a.hash);
	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return ctl_exit_code(r);
	/* the daemon lists ours first, in order: name them as we know them */
	for (i = 0; i < n; i++)
		if ((a = json_array_get(json_object_get(out, "anchors"),
		    i)) != NULL)
			json_object_set_new(a, "source",
			    json_string(in[i].source));
	*repp = out;
	return CTL_EXIT_OK;
}

static int
cmd_verify(const struct verify_args *va)
{
	struct anchor_in in[ANCHORS_MAX + 1];
	struct jwks *keys = NULL;
	json_t *rep = NULL;
	size_t i;
	int rc = CTL_EXIT_FAIL;

	if (va->dir == NULL && va->jwks != NULL) {
		ctl_err("audit verify: --jwks goes with --state-dir (the "
		    "daemon checks with its own keys)");
		return CTL_EXIT_USAGE;
	}
	if (va->dir != NULL && va->nfiles > 0 && va->jwks == NULL) {
		ctl_err("audit verify: --anchor with --state-dir needs --jwks: "
		    "an anchor counts only once its signature verifies");
		return CTL_EXIT_USAGE;
	}
	if ((va->jwks != NULL || va->nfiles > 0) &&
	    load_keys(va->jwks, &keys) != 0)
		return CTL_EXIT_FAIL;
	for (i = 0; i < va->nfiles; i++)
		if (load_anchor(va->files[i], keys, &in[i]) != 0)
			goto out;
	rc = va->dir != NULL ? verify_offline(va, keys, in, va->nfiles, &rep) :
	    verify_daemon(in, va->nfiles, &rep);
	if (rc != CTL_EXIT_OK)
		goto out;
	ctl_print_audit_report(rep, va->json);
	if (json_is_false(json_object_get(rep, "mark")) && !va->json)
		printf("no high-water mark in %s\n", va->dir);
	if (json_object_get(rep, "mark_error") != NULL && !va->json)
		printf("%s\n", ctl_js(rep, "mark_error"));
	rc = verify_exit(rep, va->nfiles);
out:
	json_decref(rep);
	jwks_free(&keys);
	return rc;
}

/*
 * The latest checkpoint of a log that verifies, as a document to keep
 * away from the box: `audit verify --anchor FILE` holds the log to it.
 */
static int
cmd_checkpoint(const struct verify_args *va, const char *outfile)
{
	struct anchor_in in[ANCHORS_MAX + 1];
	struct jwks *keys = NULL;
	json_t *rep = NULL, *cp, *doc = NULL;
	FILE *fp = stdout;
	char *text = NULL;
	int rc = CTL_EXIT_FAIL;

	if (va->jwks != NULL && load_keys(va->jwks, &keys) != 0)
		return CTL_EXIT_FAIL;
	if ((va->dir != NULL ? verify_offline(va, keys, in, 0, &rep) :
	    verify_daemon(NULL, 0, &rep)) != CTL_EXIT_OK)
		goto out;
	if (!json_is_true(json_object_get(rep, "ok"))) {
		ctl_print_audit_report(rep, 0);
		ctl_err("audit checkpoint: refused: the log does not verify");
		goto out;
	}
	if (!json_is_object(cp = json_object_get(rep, "checkpoint"))) {
		ctl_err("audit checkpoint: no signed checkpoint yet");
		goto out;
	}
	if ((doc = json_pack("{s:s,s:O,s:O,s:O,s:O,s:O}", "typ",
	    CHECKPOINT_TYP, "seq", json_object_get(cp, "seq"), "hash",
	    json_object_get(cp, "hash"), "time", json_object_get(cp, "time"),
	    "kid", json_object_get(cp, "kid"), "signature",
	    json_object_get(cp, "signature"))) == NULL ||
	    (text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	/* public, and never over a file kept earlier */
	if (outfile != NULL && (fp = fopen(outfile, "wxe")) == NULL) {
		ctl_err("audit checkpoint: %s: %s", outfile, strerror(errno));
		goto out;
	}
	if (fprintf(fp, "%s\n", text) < 0 || fflush(fp) != 0) {
		ctl_err("audit checkpoint: cannot write");
		goto out;
	}
	if (outfile != NULL)
		fprintf(stderr, "checkpoint of entry %lld written to %s\n",
		    (long long)json_integer_value(json_object_get(cp, "seq")),
		    outfile);
	rc = CTL_EXIT_OK;
out:
	if (fp != stdout && fp != NULL && fclose(fp) != 0)
		rc = CTL_EXIT_FAIL;
	free(text);
	json_decref(doc);
	json_decref(rep);
	jwks_free(&keys);
	return rc;
}

static int
cmd_tail(const char *n, int json)
{
	const json_t *e;
	json_t *out = NULL;
	char target[64], when[CTL_TIME_LEN];
	size_t i;
	int r;

	if (strspn(n, "0123456789") != strlen(n) || *n == '\0') {
		ctl_err("audit tail: -n takes a number");
		return CTL_EXIT_USAGE;
	}
	snprintf(target, sizeof(target), "/v1/audit?limit=%.8s", n);
	if ((r = ctl_api("GET", target, NULL, &out)) != 0)
		return ctl_exit_code(r);
	if (json) {
		ctl_print_json(out);
		json_decref(out);
		return CTL_EXIT_OK;
	}
	json_array_foreach(json_object_get(out, "entries"), i, e) {
		char *details = json_dumps(json_object_get(e, "details"),
		    JSON_COMPACT | JSON_SORT_KEYS);

		printf("%6lld %s %-24s %-9s %-12.12s %-32s %s\n",
		    ji(e, "seq"), ctl_time(ji(e, "time"), when),
		    ctl_js(e, "event"),
		    ctl_js(e, "actor_role"), ctl_js(e, "actor_name"),
		    ctl_js(e, "request_id"), details ? details : "");
		free(details);
	}
	json_decref(out);
	return CTL_EXIT_OK;
}

static void
audit_usage(void)
{
	ctl_err("usage: audit verify [--state-dir DIR [--jwks FILE]] "
	    "[--anchor FILE]... [--checkpoint-interval S] [--json] | "
	    "audit checkpoint [-o FILE] [--state-dir DIR [--jwks FILE]] | "
	    "audit tail [-n N] [--json]");
}

int
ctl_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "jwks", required_argument, NULL, 'k' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "checkpoint-interval", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct verify_args va;
	const char *n = NULL, *outfile = NULL, *sub;
	char *end;
	long v;
	int c;

	if (argc < 2) {
		audit_usage();
		return CTL_EXIT_USAGE;
	}
	sub = argv[1];
	memset(&va, 0, sizeof(va));
	va.interval = DAEMON_CHECKPOINT_SECONDS;
	optind = 2;
	while ((c = getopt_long(argc, argv, "n:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': va.dir = optarg; break;
		case 'k': va.jwks = optarg; break;
		case 'j': va.json = 1; break;
		case 'n': n = optarg; break;
		case 'o': outfile = optarg; break;
		case 'a':
			if (va.nfiles == ANCHORS_MAX) {
				ctl_err("audit verify: at most %d --anchor",
				    ANCHORS_MAX);
				return CTL_EXIT_USAGE;
			}
			va.files[va.nfiles++] = optarg;
			break;
		case 'C':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *optarg == '\0' || *end != '\0' ||
			    v < 1 || v > 86400) {
				ctl_err("--checkpoint-interval: 1 to 86400 "
				    "seconds");
				return CTL_EXIT_USAGE;
			}
			va.interval = v;
			break;
		default: return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ctl_err("audit: unexpected argument '%s'", argv[optind]);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(sub, "verify") == 0 && n == NULL && outfile == NULL)
		return cmd_verify(&va);
	if (strcmp(sub, "checkpoint") == 0 && n == NULL && va.nfiles == 0 &&
	    !va.json && (va.jwks == NULL || va.dir != NULL))
		return cmd_checkpoint(&va, outfile);
	if (strcmp(sub, "tail") == 0 && va.dir == NULL && va.jwks == NULL &&
	    va.nfiles == 0 && outfile == NULL)
		return cmd_tail(n != NULL ? n : "20", va.json);
	audit_usage();
	return CTL_EXIT_USAGE;
}

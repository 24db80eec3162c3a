/* SPDX-License-Identifier: ISC */
/*
 * tapgate-verify: what a downstream system runs before applying a change.
 * It checks a co-signed order offline with libtapgate-verify (and only
 * through its public header, as any connector would), optionally redeems
 * it once, and prints the verified order as JSON.  Each cause of refusal
 * has its own exit code, so a shell connector can tell them apart.
 *
 * The order, the JWKS and the approvers file come from elsewhere and are
 * parsed by a program the downstream system trusts, so the program confines
 * itself (src/sandbox, the verify role) before it reads any of them: what
 * a parser bug could then do is read files, write the redemption database
 * and print; no network, no other program, no debugger.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sandbox/sandbox.h"
#include "verify/tapgate_verify.h"

enum {
	EXIT_OTHER = 1,
	EXIT_USAGE = 2,
	EXIT_MALFORMED = 3,
	EXIT_UNKNOWN_KID = 4,
	EXIT_BAD_SIGNATURE = 5,
	EXIT_AUDIENCE = 6,
	EXIT_NOT_YET_VALID = 7,
	EXIT_EXPIRED = 8,
	EXIT_REDEEMED = 9,
	EXIT_APPROVAL = 10,
	EXIT_OUTPUT_LOST = 11,
	EXIT_REVOKED = 12,
	EXIT_REVOCATIONS = 13,
};

#define JWKS_FILES_MAX	8

static const char usage_text[] =
"usage: tapgate-verify --jwks FILE --aud SYSTEM [--iss ISSUER]\n"
"           [--approvers FILE] [--min-approvals N]\n"
"           [--require CLASS=N[,CLASS=N...]] [--redeem-db FILE]\n"
"           [--revocations FILE [--revocations-max-age S]]\n"
"           [--now UNIX] [--leeway S] ORDER|-\n"
"       tapgate-verify --help | --version  (alone)\n"
"\n"
"Verify a tapgate co-signed order (a compact JWS in the file ORDER, or on\n"
"standard input for -; one trailing newline allowed) and print it as JSON:\n"
"  {\"approvals_verified\",\"approvers\",\"aud\",\"change\",\"exp\",\"iat\",\n"
"   \"iss\",\"jti\",\"kid\",\"nbf\"}\n"
"With --redeem-db the JSON is written (and flushed) before the order is\n"
"redeemed: an order whose output cannot be written is not spent.  Act on\n"
"it only when the exit status is 0.\n"
"\n"
"  --jwks FILE          the appliance keys to trust (repeat for several)\n"
"  --aud SYSTEM         this system: the order's aud and target system\n"
"  --iss ISSUER         require this issuer (default: any)\n"
"  --approvers FILE     the appliance's approvers export: verify every\n"
"                       approval's security-key assertion against it.\n"
"                       Without it approvals are NOT checked.\n"
"  --min-approvals N    at least N verified approvals of every order\n"
"                       (needs --approvers when N > 0)\n"
"  --require CLASS=N    at least N verified approvals of an order whose\n"
"                       account class is CLASS (repeatable; default\n"
"                       shared=1,finance=1,admin=1, standard=0); the\n"
"                       approvals the order's policy required are\n"
"                       always required too\n"
"  --redeem-db FILE     redeem the order once: record its jti in FILE\n"
"                       (sqlite, created 0600); a second redemption fails\n"
"  --revocations FILE   the appliance's signed revocation list (the jws\n"
"                       of GET /v1/revocations): refuse an order it lists\n"
"  --revocations-max-age S\n"
"                       refuse a list issued more than S seconds ago\n"
"                       (default 3600)\n"
"  --now UNIX           verify at this time (tests, audits of old orders)\n"
"  --leeway S           clock skew tolerated, 0 to 3600 s (default 60)\n"
"\n"
"exit status:\n"
"   0  verified (and redeemed with --redeem-db)\n"
"   1  other error (unreadable file, bad JWKS or approvers file, database)\n"
"   2  usage\n"
"   3  malformed order (includes a change_digest that is not the change's)\n"
"   4  unknown kid: not signed by a trusted key\n"
"   5  bad signature\n"
"   6  wrong audience or issuer\n"
"   7  not yet valid\n"
"   8  expired\n"
"   9  already redeemed\n"
"  10  bad or missing approver assertion\n"
"  11  redeemed, but standard output failed as it was closed: the order\n"
"      is spent and what was printed may be lost\n"
"  12  revoked: the revocation list lists the order (denied or vetoed)\n"
"  13  revocation list refused: too old, from the future, badly signed,\n"
"      malformed, or not a revocation list\n";

static void
fail_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("tapgate-verify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
usage(const char *why)
{
	if (why != NULL)
		fail_msg("%s", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int
exit_code(int err)
{
	switch (err) {
	case TGV_ERR_MALFORMED:
	case TGV_ERR_DIGEST_MISMATCH:
		return EXIT_MALFORMED;
	case TGV_ERR_UNKNOWN_KID:
		return EXIT_UNKNOWN_KID;
	case TGV_ERR_BAD_SIGNATURE:
		return EXIT_BAD_SIGNATURE;
	case TGV_ERR_WRONG_AUDIENCE:
	case TGV_ERR_WRONG_ISSUER:
		return EXIT_AUDIENCE;
	case TGV_ERR_NOT_YET_VALID:
		return EXIT_NOT_YET_VALID;
	case TGV_ERR_EXPIRED:
		return EXIT_EXPIRED;
	case TGV_ERR_REDEEMED:
		return EXIT_REDEEMED;
	case TGV_ERR_APPROVAL:
		return EXIT_APPROVAL;
	case TGV_ERR_REVOKED:
		return EXIT_REVOKED;
	default:
		return EXIT_OTHER;
	}
}

/*
 * No new privileges, no core dump, RLIMIT_AS, then the verify role's
 * seccomp filter.  Everything the program still does (open and read the
 * input files, sqlite in the redemption database, stdio) is within the
 * role; nothing needs opening beforehand.  0 or EXIT_OTHER, message printed.
 */
/*
 * Confine the process to its inputs: no new privileges, no core, an
 * address-space limit, the VERIFY seccomp role, and (where the kernel has
 * Landlock) opens only of the files named here and beneath the redemption
 * database's directory.
 */
static int
confine(const char *const *jwks, size_t njwks, const char *approvers,
    const char *revocations, const char *order, const char *db)
{
	struct sandbox_path paths[JWKS_FILES_MAX + 4];
	static char dbdir[PATH_MAX];
	const char *slash;
	size_t n = 0, i;

	for (i = 0; i < njwks; i++)
		paths[n++] = (struct sandbox_path){ jwks[i], 0 };
	if (approvers != NULL)
		paths[n++] = (struct sandbox_path){ approvers, 0 };
	if (revocations != NULL)
		paths[n++] = (struct sandbox_path){ revocations, 0 };
	if (strcmp(order, "-") != 0)
		paths[n++] = (struct sandbox_path){ order, 0 };
	if (db != NULL) {
		/* sqlite keeps a journal beside the database */
		if ((slash = strrchr(db, '/')) == NULL)
			snprintf(dbdir, sizeof(dbdir), ".");
		else if (slash == db)
			snprintf(dbdir, sizeof(dbdir), "/");
		else
			snprintf(dbdir, sizeof(dbdir), "%.*s",
			    (int)(slash - db), db);
		paths[n++] = (struct sandbox_path){ dbdir, 1 };
	}
	/*
	 * OpenSSL as this program uses it: its built-in default provider
	 * only, so no openssl.cnf (nor OPENSSL_CONF) loads modules into a
	 * confined process or changes what a signature check means; no
	 * error strings (none is printed); no table of the legacy cipher
	 * and digest names (every algorithm here is fetched from the
	 * provider, which knows its own names); no clean-up at exit of what
	 * the exit frees anyway.  Each of these cost a part of every run's
	 * start.  The C library's lazy reads are settled by the sandbox.
	 */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
	    OPENSSL_INIT_NO_ATEXIT, NULL);
	if (sandbox_harden() != 0 ||
	    sandbox_limit_as(SANDBOX_AS_VERIFY) != 0 ||
	    sandbox_apply_paths(SANDBOX_ROLE_VERIFY, paths, n) != 0) {
		fail_msg("cannot confine the process (no-new-privs, "
		    "rlimits, seccomp filter, Landlock)");
		return EXIT_OTHER;
	}
	return 0;
}

/* A decimal integer in min..max, the whole of s. */
static int
parse_num(const char *s, long long min, long long max, long long *vp)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*vp = v;
	return 0;
}

/*
 * The order from path (or standard input for "-"), at most TGV_ORDER_MAX
 * bytes plus one trailing newline, which is dropped.  0, 1 (I/O, message
 * printed) or 3 (too large).
 */
static int
read_order(const char *path, char **bufp, size_t *lenp)
{
	const size_t cap = TGV_ORDER_MAX + 2;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		fail_msg("cannot read order %s: %s", path, strerror(errno));
		return EXIT_OTHER;
	}
	if ((buf = malloc(cap + 1)) == NULL) {
		fail_msg("out of memory");
		goto fail;
	}
	for (;;) {
		n = read(fd, buf + len, cap + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fail_msg("cannot read order %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > cap)
			break;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > TGV_ORDER_MAX) {
		fail_msg("%s: order is over %d bytes",
		    tgv_strerror(TGV_ERR_MALFORMED), TGV_ORDER_MAX);
		free(buf);
		if (fd != STDIN_FILENO)
			close(fd);
		return EXIT_MALFORMED;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return EXIT_OTHER;
}

enum {
	OPT_JWKS = 256, OPT_AUD, OPT_ISS, OPT_APPROVERS, OPT_MIN, OPT_DB,
	OPT_NOW, OPT_LEEWAY, OPT_REQUIRE, OPT_REVOCATIONS, OPT_MAX_AGE,
	OPT_HELP = 'h', OPT_VERSION = 'V',
};

/* The floors of --require, as given. */
struct floors {
	char		name[TGV_CLASSES_MAX][TGV_CLASS_NAME_MAX + 1];
	long long	n[TGV_CLASSES_MAX];
	size_t		count;
};

/*
 * One --require: CLASS=N[,CLASS=N...], a class of a-z, 0-9 and _, N from
 * 0 to TGV_APPROVALS_MAX; a class given again takes the last N.  0, or
 * -1 for anything else.
 */
static int
parse_require(const char *arg, struct floors *f)
{
	const char *p = arg, *eq, *end;
	char num[8];
	size_t len, i;
	long long n;

	for (;;) {
		if ((eq = strchr(p, '=')) == NULL)
			return -1;
		end = eq + strcspn(eq, ",");
		len = (size_t)(eq - p);
		if (len == 0 || len > TGV_CLASS_NAME_MAX || strspn(p,
		    "abcdefghijklmnopqrstuvwxyz0123456789_") != len ||
		    (size_t)(end - eq - 1) >= sizeof(num))
			return -1;
		memcpy(num, eq + 1, (size_t)(end - eq - 1));
		num[end - eq - 1] = '\0';
		if (parse_num(num, 0, TGV_APPROVALS_MAX, &n) != 0)
			return -1;
		for (i = 0; i < f->count; i++)
			if (strlen(f->name[i]) == len &&
			    memcmp(f->name[i], p, len) == 0)
				break;
		if (i == TGV_CLASSES_MAX)
			return -1;
		memcpy(f->name[i], p, len);
		f->name[i][len] = '\0';
		f->n[i] = n;
		if (i == f->count)
			f->count++;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static const struct option longopts[] = {
	{ "jwks", required_argument, NULL, OPT_JWKS },
	{ "aud", required_argument, NULL, OPT_AUD },
	{ "iss", required_argument, NULL, OPT_ISS },
	{ "approvers", required_argument, NULL, OPT_APPROVERS },
	{ "min-approvals", required_argument, NULL, OPT_MIN },
	{ "redeem-db", required_argument, NULL, OPT_DB },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "leeway", required_argument, NULL, OPT_LEEWAY },
	{ "require", required_argument, NULL, OPT_REQUIRE },
	{ "revocations", required_argument, NULL, OPT_REVOCATIONS },
	{ "revocations-max-age", required_argument, NULL, OPT_MAX_AGE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	const char *jwks[JWKS_FILES_MAX], *aud = NULL, *iss = NULL;
	const char *approvers = NULL, *db = NULL, *revocations = NULL;
	struct tgv_ctx *ctx = NULL;
	struct tgv_order *o = NULL;
	struct floors floors;
	long long v, now = -1, leeway = TGV_LEEWAY_DEFAULT, min = -1;
	long long max_age = -1;
	char *token = NULL, *json = NULL;
	size_t njwks = 0, toklen, jsonlen, i;
	int c, r, rc = EXIT_OTHER;

	memset(&floors, 0, sizeof(floors));
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JWKS:
			if (njwks == JWKS_FILES_MAX)
				return usage("too many --jwks");
			jwks[njwks++] = optarg;
			break;
		case OPT_AUD:
			aud = optarg;
			break;
		case OPT_ISS:
			iss = optarg;
			break;
		case OPT_APPROVERS:
			approvers = optarg;
			break;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_MIN:
			if (parse_num(optarg, 0, TGV_APPROVALS_MAX, &min) != 0)
				return usage("--min-approvals: not a number "
				    "from 0 to 16");
			break;
		case OPT_REQUIRE:
			if (parse_require(optarg, &floors) != 0)
				return usage("--require: not CLASS=N[,CLASS=N"
				    "...] with N from 0 to 16");
			break;
		case OPT_REVOCATIONS:
			revocations = optarg;
			break;
		case OPT_MAX_AGE:
			if (parse_num(optarg, 0, TGV_REVOCATIONS_AGE_MAX,
			    &max_age) != 0)
				return usage("--revocations-max-age: not 0 to "
				    "31622400 seconds");
			break;
		case OPT_NOW:
			/* 2^53 - 1: the range the order's times have */
			if (parse_num(optarg, 0, 9007199254740991LL,
			    &now) != 0)
				return usage("--now: not a Unix time");
			break;
		case OPT_LEEWAY:
			if (parse_num(optarg, 0, TGV_LEEWAY_MAX, &v) != 0)
				return usage("--leeway: not 0 to 3600 seconds");
			leeway = v;
			break;
		case OPT_HELP:
			if (argc != 2)
				return usage("--help takes no other argument");
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? 0 : EXIT_OTHER;
		case OPT_VERSION:
			if (argc != 2)
				return usage("--version takes no other "
				    "argument");
			printf("tapgate-verify %s\n", TAPGATE_VERSION);
			return fflush(stdout) == 0 ? 0 : EXIT_OTHER;
		default:
			return usage(NULL);
		}
	}
	if (optind != argc - 1)
		return usage("exactly one ORDER (or -) is needed");
	if (njwks == 0 || aud == NULL)
		return usage("--jwks and --aud are required");
	if (min > 0 && approvers == NULL)
		return usage("--min-approvals needs --approvers: approvals "
		    "are only counted once verified");
	if (max_age >= 0 && revocations == NULL)
		return usage("--revocations-max-age needs --revocations");
	if (max_age < 0)
		max_age = TGV_REVOCATIONS_AGE_DEFAULT;
	if (now < 0)
		now = (long long)time(NULL);
	/* before the first byte of input: the JWKS files are read below */
	if (confine(jwks, njwks, approvers, revocations, argv[optind],
	    db) != 0)
		return EXIT_OTHER;

	if ((r = tgv_ctx_new(&ctx)) != 0) {
		fail_msg("%s", tgv_strerror(r));
		goto out;
	}
	for (i = 0; i < njwks; i++)
		if ((r = tgv_load_jwks_file(ctx, jwks[i])) != 0) {
			fail_msg("cannot load JWKS: %s", tgv_errmsg(ctx));
			goto out;
		}
	if (approvers != NULL &&
	    (r = tgv_load_approvers_file(ctx, approvers)) != 0) {
		fail_msg("cannot load approvers: %s", tgv_errmsg(ctx));
		goto out;
	}
	if ((r = tgv_set_audience(ctx, aud)) != 0 ||
	    (iss != NULL && (r = tgv_set_issuer(ctx, iss)) != 0) ||
	    (r = tgv_set_leeway(ctx, leeway)) != 0 ||
	    (min >= 0 && (r = tgv_set_min_approvals(ctx,
	    (unsigned int)min)) != 0)) {
		rc = usage(tgv_errmsg(ctx));
		goto out;
	}
	for (i = 0; i < floors.count; i++)
		if ((r = tgv_set_class_floor(ctx, floors.name[i],
		    (unsigned int)floors.n[i])) != 0) {
			rc = usage(tgv_errmsg(ctx));
			goto out;
		}
	if (revocations != NULL && (r = tgv_load_revocations_file(ctx,
	    revocations, now, max_age)) != 0) {
		fail_msg("%s: %s", r == TGV_ERR_LIST_STALE ? tgv_strerror(r) :
		    "revocation list refused", tgv_errmsg(ctx));
		rc = r == TGV_ERR_IO || r == TGV_ERR_NOMEM ? EXIT_OTHER :
		    EXIT_REVOCATIONS;
		goto out;
	}
	if ((rc = read_order(argv[optind], &token, &toklen)) != 0)
		goto out;
	rc = EXIT_OTHER;
	if ((r = tgv_verify(ctx, token, toklen, now, &o)) != 0) {
		fail_msg("%s: %s", tgv_strerror(r), tgv_errmsg(ctx));
		rc = exit_code(r);
		goto out;
	}
	/*
	 * The order is printed before it is redeemed: a connector whose
	 * output is gone (a closed pipe, a full disk) never finds an order
	 * spent that it could not read.
	 */
	if ((r = tgv_order_to_json(o, &json, &jsonlen)) != 0) {
		fail_msg("%s", tgv_strerror(r));
		goto out;
	}
	if (fwrite(json, 1, jsonlen, stdout) != jsonlen ||
	    fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
		fail_msg("cannot write the order: %s%s", strerror(errno),
		    db != NULL ? " (not redeemed)" : "");
		goto out;
	}
	if (db != NULL && (r = tgv_redeem(db, o, now)) != 0) {
		if (r == TGV_ERR_REDEEMED)
			fail_msg("%s: jti %s is already recorded in %s",
			    tgv_strerror(r), tgv_order_jti(o), db);
		else
			fail_msg("cannot redeem in %s: %s", db,
			    tgv_strerror(r));
		rc = exit_code(r);
		goto out;
	}
	/* what a file system reports only at close (NFS, quotas) */
	if (fclose(stdout) == EOF) {
		fail_msg("output lost: %s%s", strerror(errno), db != NULL ?
		    ": the order IS redeemed" : "");
		rc = db != NULL ? EXIT_OUTPUT_LOST : EXIT_OTHER;
		goto out;
	}
	rc = 0;
out:
	free(json);
	free(token);
	tgv_order_free(&o);
	tgv_ctx_free(&ctx);
	return rc;
}

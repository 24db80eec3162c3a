/* SPDX-License-Identifier: ISC */
/*
 * tapgatectl: dispatch the first word to its command group.  New groups
 * (requests, approve, approvers, audit) add a line to ctl_cmds[] and a
 * paragraph to the usage text.
 */
#include <sys/resource.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/errors.h"
#include "ctl.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ "token", ctl_token, "security keys: list, info, set-pin" },
	{ "requests", ctl_requests, "queues: list, show, history, deny, "
	    "veto" },
	{ "audit", ctl_audit, "audit log: verify, checkpoint, tail" },
	{ "approve", ctl_approve, "approve a request with a security key" },
	{ "approvers", ctl_approvers,
	    "officers: enroll, list, revoke, export" },
	{ "orders", ctl_orders, "co-signed orders: show, jws, issue, "
	    "resume; the revocation list" },
	{ "keys", ctl_keys, "the appliance's JWKS; key rotation" },
	{ "recovery-codes", ctl_recovery_codes,
	    "an account's saved recovery codes: issue, revoke" },
	{ "console", ctl_console, "web console users: invite, revoke" },
	{ "backup", ctl_backup, "online backup of the database, verified" },
	{ "restore", ctl_restore, "install a checked backup (daemon stopped)" },
};
#define NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

void
ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tapgatectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The one table from outcomes to exit codes (tapgatectl(8), EXIT STATUS).
 * Local operations return TG_ERR_* values; the daemon's refusals come
 * back from ctl_call() as the TG_ERR_* their code stands for.  Anything
 * not listed (a refusal, a broken connection, an unreachable daemon, a
 * request that does not exist) is 1.  Exit 5 is audit verify's verdict
 * on a report, not an error (cmd_audit.c).
 */
static const struct {
	int	err;
	int	code;
} exit_codes[] = {
	{ 0,				CTL_EXIT_OK },
	/* the command line: malformed, or naming what the daemon lacks */
	{ TG_ERR_INVALID,		CTL_EXIT_USAGE },
	{ TG_ERR_TOO_LONG,		CTL_EXIT_USAGE },
	/* the security key: absent, gone, silent, untouched */
	{ TG_ERR_DEVICE,		CTL_EXIT_NODEV },
	{ TG_ERR_DEVICE_GONE,		CTL_EXIT_NODEV },
	{ TG_ERR_TIMEOUT,		CTL_EXIT_NODEV },
	{ TG_ERR_NO_TOUCH,		CTL_EXIT_NODEV },
	/* its PIN */
	{ TG_ERR_PIN_INVALID,		CTL_EXIT_PIN },
	{ TG_ERR_PIN_BLOCKED,		CTL_EXIT_PIN },
	{ TG_ERR_PIN_AUTH_BLOCKED,	CTL_EXIT_PIN },
	{ TG_ERR_PIN_NOT_SET,		CTL_EXIT_PIN },
	{ TG_ERR_PIN_POLICY,		CTL_EXIT_PIN },
	{ TG_ERR_PIN_ALREADY_SET,	CTL_EXIT_PIN },
};

int
ctl_exit_code(int err)
{
	size_t i;

	for (i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++)
		if (exit_codes[i].err == err)
			return exit_codes[i].code;
	return CTL_EXIT_FAIL;
}

void
ctl_usage(FILE *fp)
{
	fputs(
"usage: tapgatectl [-s SOCKET] COMMAND ...\n"
"       tapgatectl --help | --version\n"
"\n"
"  tapgatectl requests list [--queue Q] [--state S] [--limit N] [--json]\n"
"      The requests in the queues, newest first, with their tickets.\n"
"  tapgatectl requests show ID [--json]\n"
"      Target, class, evidence, risk, the policy decision, who approved,\n"
"      what is still missing and the time left in the hold.\n"
"  tapgatectl requests history ID [--json]\n"
"      Everything the audit log holds about the request, oldest first:\n"
"      what happened, when and by whom.\n"
"  tapgatectl requests deny|veto ID --reason TEXT\n"
"      Stop a request (veto: only until its waiting period ends).\n"
"  tapgatectl audit verify [--state-dir DIR [--jwks FILE]] [--anchor FILE]...\n"
"                          [--checkpoint-interval S] [--json]\n"
"      Check the hash chain of the audit log and hold it to its signed\n"
"      checkpoints (a cut tail fails too, and so do entries no checkpoint\n"
"      signed for longer than S seconds, default 60, plus 60): through\n"
"      the daemon, or reading the database in DIR directly (never created;\n"
"      also held to DIR's high-water mark), checking signatures with the\n"
"      appliance's public keys in FILE (from tapgatectl keys --all -o\n"
"      FILE: retired keys signed older checkpoints).  Each --anchor FILE,\n"
"      an order or an exported checkpoint (at most 8), must verify under\n"
"      those keys, and the log must still hold the entry it names.\n"
"  tapgatectl audit checkpoint [-o FILE] [--state-dir DIR [--jwks FILE]]\n"
"      The latest signed checkpoint of a log that verifies, as a document\n"
"      to keep off the box (FILE is never overwritten): --anchor FILE.\n"
"  tapgatectl audit tail [-n N] [--json]\n"
"      The last N audit entries.\n"
"  tapgatectl approve ID --device DEVICE\n"
"      Show what is being approved, ask for the key's PIN, and approve with\n"
"      a touch of the security key plugged into the box (within the\n"
"      daemon's touch window, counted down).\n"
"  tapgatectl approvers enroll --name NAME --group GROUP --device DEVICE\n"
"                              [--alg es256|eddsa]\n"
"  tapgatectl approvers list [--all] [--json]\n"
"  tapgatectl approvers revoke NAME --cause CAUSE [--reason TEXT]\n"
"      CAUSE lost, stolen, cloned or compromised: the key is never\n"
"      enrolled again; left, role-change or replaced: it may be (a new\n"
"      credential, audited as a re-enrolment).\n"
"  tapgatectl approvers export [-o FILE]\n"
"      Officers' credentials; the export is what downstream systems pin.\n"
"  tapgatectl orders show|jws|issue ID\n"
"  tapgatectl orders resume ID [--reason TEXT]\n"
"      A request's co-signed order (issue: ask the signer explicitly).\n"
"  tapgatectl orders revocations\n"
"      The signed revocation list, for tapgate-verify --revocations.\n"
"  tapgatectl keys [--all] [-o FILE]\n"
"      The appliance's public co-signing keys (JWKS): the active key and\n"
"      retired ones until their last order expires; --all: every key it\n"
"      ever signed with (for audit verify).\n"
"  tapgatectl keys rotate [--json]\n"
"      Make the standby key the co-signing key; the old one is retired\n"
"      (its private half destroyed, its public half kept).\n"
"  tapgatectl recovery-codes issue|revoke ACCOUNT [--json]\n"
"      An account's saved recovery codes: issue prints a new set once\n"
"      (the old set is revoked); revoke revokes the standing set.\n"
"  tapgatectl console invite|revoke USER [--json]\n"
"      invite: a code (shown once, valid an hour) with which USER, a\n"
"      console user who is no officer, enrols its security key in the\n"
"      browser; revoke: USER's console credentials and sessions.\n"
"  tapgatectl backup FILE [--json]\n"
"      Have the daemon copy its database to FILE (a new file; FILE.sha256\n"
"      beside it), check the copy and audit the backup.\n"
"  tapgatectl restore FILE --state-dir DIR [--jwks JWKS]\n"
"      With the daemon stopped: check the backup (digest, integrity,\n"
"      schema, audit chain), move the database in DIR aside with a time\n"
"      suffix, install the copy and audit the restore in it.\n"
"\n"
"  -s SOCKET  the daemon's socket (default $TAPGATE_SOCKET, else\n"
"             /run/tapgate/tapgate.sock); needed by requests and audit.\n"
"\n"
"  tapgatectl token list [softfido:PATH ...]\n"
"      List the FIDO security keys plugged in (hidraw), and probe the\n"
"      software keys named.\n"
"  tapgatectl token info DEVICE [--json]\n"
"      Show what the key supports (getInfo) and its PIN state.\n"
"  tapgatectl token set-pin DEVICE [--change]\n"
"      Set the key's first PIN, or change it with --change.  PINs are\n"
"      read from the terminal without echo (the new one twice), or one\n"
"      line each from standard input when it is not a terminal (with\n"
"      --change: the current PIN, then the new one).  They are never\n"
"      taken from the command line.\n"
"  tapgatectl token check DEVICE --roots PEM [--rp RPID] [--alg es256|eddsa]\n"
"      Will this key work for an approver?  Makes a credential (touch and\n"
"      PIN), verifies its attestation against the roots in PEM, gets an\n"
"      assertion and verifies it as an approval is verified.  Stores\n"
"      nothing.\n"
"\n"
"ID is a request id, or its first 4 or more hex digits when no other\n"
"request's id starts with them.  DEVICE is a hidraw node (/dev/hidraw3)\n"
"or softfido:PATH, the socket of a softfido software key.  Times are\n"
"ISO 8601, in UTC.\n"
"\n"
"Exit status: 0 success; 1 the operation failed or was refused (by the\n"
"daemon or the key), the request does not exist, or tapgated cannot be\n"
"reached; 2 usage error (including a malformed device name or id, and\n"
"an id prefix several requests share); 3 security key absent,\n"
"disconnected, not answering or not touched in time; 4 PIN wrong,\n"
"blocked, not set, not accepted by the key's policy, not given, or the\n"
"two entries differ; 5 audit verify: the log lacks, or has another hash\n"
"at, an anchor's entry.\n", fp);
}

int
main(int argc, char **argv)
{
	struct rlimit rl = { 0, 0 };

	/* PINs pass through this process: never dump them to a core. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	if (argc >= 3 && strcmp(argv[1], "-s") == 0) {
		ctl_socket_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* help asked for, before or right after a command */
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0 || (argc == 3 &&
	    (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0))) {
		ctl_usage(stdout);
		return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("tapgatectl %s\n", TAPGATE_VERSION);
		return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].run(argc - 1, argv + 1);
	ctl_err("unknown command '%s' (try: tapgatectl help)", argv[1]);
	return CTL_EXIT_USAGE;
}

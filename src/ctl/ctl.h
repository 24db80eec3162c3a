/* SPDX-License-Identifier: ISC */
/*
 * tapgatectl: the console.  main.c dispatches the first word to a command
 * group; each group (cmd_*.c) parses the rest and returns an exit code.
 */
#ifndef TAPGATE_CTL_H
#define TAPGATE_CTL_H

#include <stdio.h>

/*
 * Exit codes, as tapgatectl(8) and the usage text list them;
 * ctl_exit_code() is the one table from outcomes to these.
 */
#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1	/* operation failed or refused */
#define CTL_EXIT_USAGE		2	/* bad command line */
#define CTL_EXIT_NODEV		3	/* key absent, gone or silent */
#define CTL_EXIT_PIN		4	/* PIN wrong, blocked, refused */
#define CTL_EXIT_ANCHOR		5	/* the audit log lacks an anchor */

/* How long a call without a touch may take. */
#define CTL_API_TIMEOUT_MS	30000

struct ctl_cmd {
	const char	*name;
	int		(*run)(int argc, char **argv);	/* argv[0]: name */
	const char	*summary;
};

/* Print "tapgatectl: " and the message to stderr. */
void	ctl_err(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * The exit code of an outcome: 0, or the TG_ERR_* value a local operation
 * or ctl_call() returned (a refusal of the daemon is mapped to one).
 */
int	ctl_exit_code(int err);

/* The whole usage text (every group). */
void	ctl_usage(FILE *fp);

/* `tapgatectl token ...` (cmd_token.c). */
int	ctl_token(int argc, char **argv);

/* The daemon's socket: -s SOCKET, else $TAPGATE_SOCKET, else the default. */
extern const char *ctl_socket_path;

/* The daemon's socket path as ctl_call() uses it. */
const char *ctl_socket(void);

/* What the daemon answered when it refused a call. */
struct ctl_refusal {
	int	 status;	/* HTTP status; 0: no answer came */
	char	 code[64];	/* error.code, "" when none */
	char	 message[512];	/* error.message */
	int	 retries;	/* error.retries (PIN attempts left), or -1 */
};

/*
 * Call the daemon: method target with an optional JSON body, waiting up
 * to timeout_ms.  On a 2xx answer 0 and *out its JSON (caller frees).  A
 * refusal fills *ref (printed by the caller, e.g. ctl_refusal_print())
 * and returns what its code stands for: TG_ERR_INVALID (the daemon does
 * not take what the command line named), TG_ERR_NOT_FOUND, the security
 * key's error (TG_ERR_NO_TOUCH, TG_ERR_PIN_INVALID, TG_ERR_DEVICE ...),
 * TG_ERR_PERM (no role), TG_ERR_INTERNAL (5xx) or TG_ERR_POLICY.  A
 * daemon that cannot be reached, or does not speak HTTP, is explained
 * on stderr (the errno of the socket, and what the path holds) and gives
 * TG_ERR_IO (ref->status 0); a 2xx answer that is not JSON,
 * TG_ERR_PROTOCOL.
 */
struct json_t;
int	ctl_call(const char *method, const char *target,
	    const struct json_t *body, int timeout_ms, struct json_t **out,
	    struct ctl_refusal *ref);

/*
 * Print a refusal: the daemon's message (a bare code in it said in
 * words), then "; more" when more is not NULL, then "(HTTP status
 * code)" for scripts.
 */
void	ctl_refusal_print(const struct ctl_refusal *ref, const char *more);

/* ctl_call() with CTL_API_TIMEOUT_MS, printing any refusal. */
int	ctl_api(const char *method, const char *target,
	    const struct json_t *body, struct json_t **out);

/* A time for people: ISO 8601 in UTC ("2026-11-26T09:30:00Z"); "-" <= 0. */
#define CTL_TIME_LEN	32
const char *ctl_time(long long t, char out[CTL_TIME_LEN]);

/* A string member of o, or "-" when absent (for tables). */
const char *ctl_js(const struct json_t *o, const char *key);

/*
 * Print what the directory found of a request's target (its facts
 * snapshot: DN, class and why, privileged groups, manager, contacts as
 * masked, type and state), each line after indent; "none" when snap
 * is NULL (no directory).
 */
void	ctl_show_directory(const struct json_t *snap, const char *indent);

/* Print JSON indented with sorted keys (--json output). */
void	ctl_print_json(const struct json_t *j);

/* Whether id has the form of a request id (32 lower-case hex digits). */
int	ctl_id_ok(const char *id);

/*
 * The request arg names, into id: a whole id, or a unique prefix of at
 * least CTL_ID_PREFIX_MIN hex digits (upper case is taken as lower), as
 * git takes an abbreviated hash.  0, or what is wrong said on stderr and
 * TG_ERR_INVALID (not an id; a prefix that names several: the candidates
 * are listed), TG_ERR_NOT_FOUND (no request has it), or ctl_call()'s
 * error.  what names the command in messages.
 */
#define CTL_ID_PREFIX_MIN	4
int	ctl_resolve_id(const char *what, const char *arg, char id[33]);

/* `tapgatectl requests ...` (cmd_requests.c). */
int	ctl_requests(int argc, char **argv);

/* `tapgatectl audit ...` (cmd_audit.c). */
int	ctl_audit(int argc, char **argv);

/* Read and parse a JWKS file (bounded); errors are printed. */
struct jwks;
int	ctl_read_jwks(const char *path, struct jwks **setp);

/*
 * Print an audit verify report (the daemon's or an offline one): the
 * chain, where it breaks, and the latest signed checkpoint.
 */
void	ctl_print_audit_report(const struct json_t *rep, int json);

/* `tapgatectl backup` (through the daemon) and `restore` (offline). */
int	ctl_backup(int argc, char **argv);
int	ctl_restore(int argc, char **argv);

/* `tapgatectl approve`, `approvers`, `orders`, `keys` (cmd_approve.c). */
int	ctl_approve(int argc, char **argv);
int	ctl_approvers(int argc, char **argv);
int	ctl_orders(int argc, char **argv);
int	ctl_keys(int argc, char **argv);
/* `tapgatectl recovery-codes issue|revoke ACCOUNT` (cmd_approve.c). */
int	ctl_recovery_codes(int argc, char **argv);

/* console invite|revoke USER (cmd_console.c) */
int	ctl_console(int argc, char **argv);

#endif /* TAPGATE_CTL_H */

/* SPDX-License-Identifier: ISC */
/*
 * tapgatectl: the console.  main.c dispatches the first word to a command
 * group; each group (cmd_*.c) parses the rest and returns an exit code.
 */
#ifndef TAPGATE_CTL_H
#define TAPGATE_CTL_H

#include <stdio.h>

/* Exit codes, also listed in the usage text. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1	/* operation failed or refused */
#define CTL_EXIT_USAGE		2	/* bad command line */
#define CTL_EXIT_NODEV		3	/* key absent, gone or silent */
#define CTL_EXIT_PIN		4	/* PIN wrong, blocked, refused */
#define CTL_EXIT_ANCHOR		5	/* the audit log lacks an anchor */

struct ctl_cmd {
	const char	*name;
	int		(*run)(int argc, char **argv);	/* argv[0]: name */
	const char	*summary;
};

/* Print "tapgatectl: " and the message to stderr. */
void	ctl_err(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* The exit code for a TG_ERR_* value. */
int	ctl_exit_code(int err);

/* The whole usage text (every group). */
void	ctl_usage(FILE *fp);

/* `tapgatectl token ...` (cmd_token.c). */
int	ctl_token(int argc, char **argv);

/* The daemon's socket: -s SOCKET, else $TAPGATE_SOCKET, else the default. */
extern const char *ctl_socket_path;

/*
 * Call the daemon: method target with an optional JSON body.  On a 2xx
 * answer *out is its JSON (caller frees); otherwise the error is printed
 * and TG_ERR_NOT_FOUND (404), TG_ERR_INVALID (other refusals), TG_ERR_IO
 * (unreachable) or TG_ERR_PROTOCOL returned.
 */
struct json_t;
int	ctl_api(const char *method, const char *target,
	    const struct json_t *body, struct json_t **out);

/* A string member of o, or "-" when absent (for tables). */
const char *ctl_js(const struct json_t *o, const char *key);

/* Print JSON indented with sorted keys (--json output). */
void	ctl_print_json(const struct json_t *j);

/* Whether id has the form of a request id (32 lower-case hex digits). */
int	ctl_id_ok(const char *id);

/* `tapgatectl requests ...` (cmd_requests.c). */
int	ctl_requests(int argc, char **argv);

/* `tapgatectl audit ...` (cmd_audit.c). */
int	ctl_audit(int argc, char **argv);

/* The daemon's socket path as ctl_api() uses it. */
const char *ctl_socket(void);

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

#endif /* TAPGATE_CTL_H */

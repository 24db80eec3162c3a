/* SPDX-License-Identifier: ISC */
/*
 * The directory process: tapgated's own binary re-executed with
 * DIRPROC_ARG, the only process of the appliance that reaches the
 * network.  It speaks LDAP to the directory through libldap (LDAPS or
 * StartTLS with the configured CA, a simple bind with the password file
 * or SASL EXTERNAL, a search of at most two entries under a time limit)
 * and answers the monitor's lookups over a SOCK_STREAM socketpair in the
 * one message format (common/msg.h) under the table proto_directory
 * (daemon/proto.h): a setup once, then one answer to each lookup.  The
 * monitor never talks to the network and believes the child only as far
 * as the answer parses: bounded counts and lengths, valid UTF-8 without
 * control characters, nothing after the last field.
 *
 * It is started before the monitor confines itself: the monitor's
 * filter has no IP socket, and a filter is inherited by what a process
 * starts.  So it cannot be started again: a child that dies, breaks the
 * protocol or is silent past its budget is killed, the lookup answers
 * DIR_UNAVAILABLE (the submission gets 503), and dirproc_check() tells
 * the monitor, which stops (status 1) for its supervisor to start the
 * daemon and a new child afresh.
 *
 * With directory.socket the directory process runs in a unit of its own
 * (tapgated-directory.socket, Accept=yes: the same binary, one process
 * per connection, its network that unit's), and the monitor connects to
 * it instead of starting a child, as the daemon's uid or root only.
 * That works confined too: a process there that dies, or is silent past
 * its budget (its connection is closed, which ends it once it reads),
 * costs at most that lookup, and the next one connects again; the daemon
 * never stops for it.
 */
#ifndef TAPGATE_DIRPROC_H
#define TAPGATE_DIRPROC_H

#include <stddef.h>

#include "common/msg.h"
#include "directory/directory.h"
#include "policy/policy.h"

#define DIRPROC_ARG	"--directory-process"

struct dirproc;

/*
 * Start the directory process from exe for directory dir (configured),
 * or connect to dir->socket, and send it its setup.  dir must outlive
 * the handle.  0 or a TG_ERR_*.
 */
int	dirproc_start(const char *exe, const struct policy_directory *dir,
	    struct dirproc **out);

/* Stop the child and free; NULL is fine. */
void	dirproc_stop(struct dirproc **dp);

/*
 * Look the normalised name up.  0 with *outcome the directory's answer
 * (the facts in *facts when DIR_FOUND; why in detail otherwise, of
 * detail_cap bytes), or, with no answer, TG_ERR_CLOSED (the child is
 * gone), TG_ERR_TIMEOUT (silent past its budget: killed) or
 * TG_ERR_PROTOCOL (it broke the protocol: killed; detail says how), and
 * *outcome DIR_UNAVAILABLE.  A found entry whose canonical name is not
 * a name dir_name_normalize() keeps as it is counts as a broken answer.
 * One lookup at a time (callers are serialised inside); it waits at
 * most 3 x timeout_seconds + 5 s.
 */
int	dirproc_lookup(struct dirproc *dp, const char *name,
	    enum dir_outcome *outcome, struct dir_facts *facts, char *detail,
	    size_t detail_cap);

/*
 * dirproc_lookup() of the entry named by dn (at most DIR_DN_MAX bytes):
 * read at its DN, its groups not walked (a manager's contacts).
 */
int	dirproc_lookup_dn(struct dirproc *dp, const char *dn,
	    enum dir_outcome *outcome, struct dir_facts *facts, char *detail,
	    size_t detail_cap);

/*
 * Whether the child is still there: 0 (also while a lookup is in
 * flight), or TG_ERR_CLOSED when it ended or was killed, with the event
 * to audit ("directory.exited", or "privsep.violation" when it broke the
 * protocol) in *event and how it ended in detail (detail_cap bytes).
 * Reaps it; never waits.  For a socket's process (directory.socket),
 * never TG_ERR_CLOSED: 1, with *event and detail, for the oldest process
 * lost and not yet told (the last four are kept), and 0 when none is.
 */
int	dirproc_check(struct dirproc *dp, const char **event, char *detail,
	    size_t detail_cap);

/*
 * Decode the payload of an answer that msg_chan_recv() or
 * msg_chan_parse() took on ch (the monitor's side; exposed for tests and
 * fuzzing): the outcome, detail (detail_cap bytes) and, when found, the
 * facts.  0, or TG_ERR_PROTOCOL with ch->err set and the channel dead.
 */
int	dirproc_parse_answer(struct msg_chan *ch, struct msg *m,
	    enum dir_outcome *outcome, struct dir_facts *facts, char *detail,
	    size_t detail_cap);

/* Write an answer's payload (the child's side; for tests and corpora). */
void	dirproc_put_answer(struct msg *m, enum dir_outcome outcome,
	    const char *detail, const struct dir_facts *facts);

/* The child's main on fd; returns the process exit status. */
int	dirproc_main(int fd);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The directory process and the monitor's side of it (dirproc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define LDAP_DEPRECATED	0
#include <ldap.h>

#include "common/errors.h"
#include "common/msg.h"
#include "daemon/child.h"
#include "daemon/dirproc.h"
#include "daemon/proto.h"
#include "sandbox/sandbox.h"

#define GRACE_MS	5000	/* beyond the child's own time limits */
#define PASSWORD_MAX	1024	/* bytes of the bind password file */

struct dirproc {
	const struct policy_directory *dir;
	pid_t		 pid;		/* the child; -1: none (or a socket) */
	pthread_mutex_t	 lock;		/* one lookup at a time */
	struct msg_chan	 ch;		/* ch.fd -1: no child any more */
	struct msg	 rq, rp;
	int		 budget_ms;
	const char	*event;		/* why it was killed; NULL: alive */
	char		 lost[PROTO_DIR_DETAIL_MAX + 64];
	/* a socket's processes lost since dirproc_check() told them */
	struct {
		const char	*event;
		char		 detail[PROTO_DIR_DETAIL_MAX + 64];
	}		 untold[4];
	int		 nuntold;
};

/* The attributes of struct policy_dir_attrs, in message order. */
static const char *
attr_slot(const struct policy_dir_attrs *a, size_t i)
{
	const char *const slots[] = { a->name, a->upn, a->member_of,
	    a->manager, a->mobile, a->phone, a->mail, a->alt_mail, a->type,
	    a->disabled, a->locked };

	return i < sizeof(slots) / sizeof(slots[0]) ? slots[i] : NULL;
}
#define NATTRS	11

/* ---- the answer, both ends */

static void
put_values(struct msg *m, char (*v)[DIR_VALUE_MAX + 1], size_t n)
{
	size_t i;

	msg_put_u32(m, (uint32_t)n);
	for (i = 0; i < n; i++)
		msg_put_str(m, v[i]);
}

void
dirproc_put_answer(struct msg *m, enum dir_outcome outcome,
    const char *detail, const struct dir_facts *f)
{
	size_t i;

	msg_put_u8(m, (uint8_t)outcome);
	msg_put_str(m, detail);
	if (outcome != DIR_FOUND)
		return;
	msg_put_str(m, f->name);
	msg_put_str(m, f->dn);
	msg_put_u8(m, f->truncated_groups);
	msg_put_u32(m, (uint32_t)f->ngroups);
	for (i = 0; i < f->ngroups; i++)
		msg_put_str(m, f->groups[i]);
	msg_put_u32(m, (uint32_t)f->ndirect);
	msg_put_u32(m, (uint32_t)f->nedges);
	for (i = 0; i < f->nedges; i++) {
		msg_put_u32(m, f->edges[i].member);
		msg_put_u32(m, f->edges[i].group);
	}
	msg_put_str(m, f->manager);
	put_values(m, (char (*)[DIR_VALUE_MAX + 1])f->mobile, f->nmobile);
	put_values(m, (char (*)[DIR_VALUE_MAX + 1])f->phone, f->nphone);
	put_values(m, (char (*)[DIR_VALUE_MAX + 1])f->mail, f->nmail);
	put_values(m, (char (*)[DIR_VALUE_MAX + 1])f->alt_mail,
	    f->nalt_mail);
	put_values(m, (char (*)[DIR_VALUE_MAX + 1])f->types, f->ntypes);
	msg_put_u8(m, f->disabled);
	msg_put_u8(m, f->locked);
}

/* A count of at most max, or the message is bad (*n 0). */
static size_t
get_count(struct msg *m, size_t max)
{
	uint32_t n = msg_get_u32(m);

	if (n > max) {
		m->bad = 1;
		return 0;
	}
	return n;
}

static size_t
get_values(struct msg *m, char (*v)[DIR_VALUE_MAX + 1], size_t max)
{
	size_t i, n = get_count(m, max);

	for (i = 0; i < n; i++)
		msg_get_str(m, v[i], DIR_VALUE_MAX + 1);
	return n;
}

/* Every string of the facts is one a person may be shown. */
static int
facts_ok(const struct dir_facts *f, const char **what)
{
	char again[DIR_NAME_MAX + 1];
	enum dir_name_fault nf;
	size_t i;

	*what = "name";
	if (dir_name_normalize(NULL, f->name, again, sizeof(again),
	    &nf) != 0 || strcmp(again, f->name) != 0)
		return 0;
	*what = "dn";
	if (f->dn[0] == '\0' || !dir_value_ok(f->dn, DIR_DN_MAX))
		return 0;
	*what = "group";
	for (i = 0; i < f->ngroups; i++)
		if (f->groups[i][0] == '\0' ||
		    !dir_value_ok(f->groups[i], DIR_DN_MAX))
			return 0;
	*what = "group link";
	for (i = 0; i < f->nedges; i++)
		if (f->edges[i].member >= f->ngroups ||
		    f->edges[i].group >= f->ngroups)
			return 0;
	*what = "manager";
	if (!dir_value_ok(f->manager, DIR_DN_MAX))
		return 0;
	*what = "contact";
	for (i = 0; i < f->nmobile; i++)
		if (!dir_value_ok(f->mobile[i], DIR_VALUE_MAX))
			return 0;
	for (i = 0; i < f->nphone; i++)
		if (!dir_value_ok(f->phone[i], DIR_VALUE_MAX))
			return 0;
	for (i = 0; i < f->nmail; i++)
		if (!dir_value_ok(f->mail[i], DIR_VALUE_MAX))
			return 0;
	for (i = 0; i < f->nalt_mail; i++)
		if (!dir_value_ok(f->alt_mail[i], DIR_VALUE_MAX))
			return 0;
	*what = "type";
	for (i = 0; i < f->ntypes; i++)
		if (!dir_value_ok(f->types[i], DIR_VALUE_MAX))
			return 0;
	return 1;
}

int
dirproc_parse_answer(struct msg_chan *ch, struct msg *m,
    enum dir_outcome *outcome, struct dir_facts *f, char *detail,
    size_t detail_cap)
{
	char d[PROTO_DIR_DETAIL_MAX + 1];
	const char *what;
	uint8_t o, trunc = 0, dis = 0, lock = 0;
	size_t i;
	int r;

	o = msg_get_u8(m);
	msg_get_str(m, d, sizeof(d));
	if (o == DIR_FOUND) {
		memset(f, 0, sizeof(*f));
		msg_get_str(m, f->name, sizeof(f->name));
		msg_get_str(m, f->dn, sizeof(f->dn));
		trunc = msg_get_u8(m);
		f->ngroups = get_count(m, DIR_MAX_GROUPS);
		for (i = 0; i < f->ngroups; i++)
			msg_get_str(m, f->groups[i], sizeof(f->groups[i]));
		f->ndirect = get_count(m, f->ngroups);
		f->nedges = get_count(m, DIR_MAX_EDGES);
		for (i = 0; i < f->nedges; i++) {
			f->edges[i].member = msg_get_u32(m);
			f->edges[i].group = msg_get_u32(m);
		}
		msg_get_str(m, f->manager, sizeof(f->manager));
		f->nmobile = get_values(m, f->mobile, DIR_MAX_CONTACTS);
		f->nphone = get_values(m, f->phone, DIR_MAX_CONTACTS);
		f->nmail = get_values(m, f->mail, DIR_MAX_CONTACTS);
		f->nalt_mail = get_values(m, f->alt_mail, DIR_MAX_CONTACTS);
		f->ntypes = get_values(m, f->types, DIR_MAX_TYPES);
		dis = msg_get_u8(m);
		lock = msg_get_u8(m);
	}
	if ((r = msg_chan_end(ch, m, "answer")) != 0)
		return r;
	if (o >= DIR_OUTCOME_COUNT)
		return msg_chan_violation(ch, "answer of outcome %u", o);
	if (!dir_value_ok(d, PROTO_DIR_DETAIL_MAX))
		return msg_chan_violation(ch, "answer with an unprintable "
		    "detail");
	if (o == DIR_FOUND) {
		if (trunc > 1 || dis > 1 || lock > 1)
			return msg_chan_violation(ch, "answer with a flag "
			    "other than 0 or 1");
		if (!facts_ok(f, &what))
			return msg_chan_violation(ch, "answer with a bad %s",
			    what);
		f->truncated_groups = trunc;
		f->disabled = dis;
		f->locked = lock;
	}
	*outcome = (enum dir_outcome)o;
	if (detail_cap > 0)
		snprintf(detail, detail_cap, "%s", d);
	return 0;
}

/* ---- the monitor's side */

static void
put_setup(struct msg *m, const struct policy_directory *d)
{
	size_t i;

	msg_put_str(m, d->uri);
	msg_put_u8(m, (uint8_t)d->tls);
	msg_put_str(m, d->ca_file);
	msg_put_u8(m, (uint8_t)d->bind);
	msg_put_str(m, d->bind_dn);
	msg_put_str(m, d->password_file);
	msg_put_str(m, d->cert_file);
	msg_put_str(m, d->key_file);
	msg_put_str(m, d->base);
	msg_put_str(m, d->filter);
	msg_put_u32(m, d->timeout_seconds);
	msg_put_u32(m, d->max_groups);
	for (i = 0; i < NATTRS; i++)
		msg_put_str(m, attr_slot(&d->attrs, i));
	msg_put_u8(m, (uint8_t)d->preset);
	msg_put_u8(m, d->nested_groups);
	msg_put_u32(m, d->max_group_depth);
}

static void
dp_kill(struct dirproc *dp)
{
	if (dp->pid > 0) {
		kill(dp->pid, SIGKILL);
		(void)child_wait(dp->pid, 5000, NULL);
	}
	if (dp->ch.fd >= 0)
		close(dp->ch.fd);
	dp->pid = -1;
	dp->ch.fd = -1;
}

/* A socket's process lost (dp->event, dp->lost), for dirproc_check(). */
static void
dp_tell(struct dirproc *dp)
{
	size_t n = sizeof(dp->untold) / sizeof(dp->untold[0]);

	if (dp->dir->socket[0] == '\0')
		return;
	if ((size_t)dp->nuntold == n) {	/* the oldest goes: the log has it */
		memmove(&dp->untold[0], &dp->untold[1],
		    (n - 1) * sizeof(dp->untold[0]));
		dp->nuntold--;
	}
	dp->untold[dp->nuntold].event = dp->event;
	snprintf(dp->untold[dp->nuntold].detail,
	    sizeof(dp->untold[0].detail), "%s", dp->lost);
	dp->nuntold++;
}

/* A channel on fd, its reads bounded by the budget, and the setup sent. */
static int
dp_open(struct dirproc *dp, int fd)
{
	struct timeval tv;

	/* a child that stops mid-message cannot hold a reader for good */
	tv.tv_sec = dp->budget_ms / 1000;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	msg_chan_init(&dp->ch, fd, &proto_directory, MSG_MONITOR);
	msg_init(&dp->rq);
	put_setup(&dp->rq, dp->dir);
	return msg_chan_send(&dp->ch, PROTO_DIR_SETUP, &dp->rq, 0);
}

/*
 * The directory process of its own unit, reached on dir->socket (a
 * systemd socket with Accept=yes: each connection is a new process)
 * that the daemon's uid or root listens on (SO_PEERCRED names the
 * listener until the connection is taken: never a pid to kill).  Works
 * after the monitor confined itself.
 */
static int
dp_connect(struct dirproc *dp)
{
	struct sockaddr_un sa;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(dp->dir->socket) >= sizeof(sa.sun_path))
		return TG_ERR_TOO_LONG;
	memcpy(sa.sun_path, dp->dir->socket, strlen(dp->dir->socket));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return TG_ERR_IO;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0) {
		close(fd);
		return TG_ERR_CLOSED;
	}
	if (uc.uid != getuid() && uc.uid != 0) {
		fprintf(stderr, "tapgated: %s is served by uid %u, not ours: "
		    "not the directory process\n", dp->dir->socket,
		    (unsigned)uc.uid);
		close(fd);
		return TG_ERR_PERM;
	}
	if ((r = dp_open(dp, fd)) != 0) {
		dp_kill(dp);
		return TG_ERR_CLOSED;
	}
	return 0;
}

int
dirproc_start(const char *exe, const struct policy_directory *dir,
    struct dirproc **out)
{
	struct dirproc *dp;
	int sv[2], r;
	pid_t pid;

	if (!dir->configured)
		return TG_ERR_INVALID;
	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		return TG_ERR_NOMEM;
	dp->dir = dir;
	dp->pid = -1;
	dp->ch.fd = -1;
	dp->budget_ms = 3 * (int)dir->timeout_seconds * 1000 + GRACE_MS;
	pthread_mutex_init(&dp->lock, NULL);
	if (dir->socket[0] != '\0') {
		if ((r = dp_connect(dp)) != 0)
			goto fail;
		*out = dp;
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		r = TG_ERR_IO;
		goto fail;
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		r = TG_ERR_IO;
		goto fail;
	}
	if (pid == 0) {
		/* only the socket crosses into the child's fresh image */
		if (dup2(sv[1], 3) != 3)
			_exit(127);
		close_range(4, ~0U, 0);
		execl(exe, exe, DIRPROC_ARG, "3", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	dp->pid = pid;
	if ((r = dp_open(dp, sv[0])) != 0)
		goto fail;
	*out = dp;
	return 0;
 fail:
	dp_kill(dp);
	msg_free(&dp->rq);
	pthread_mutex_destroy(&dp->lock);
	free(dp);
	return r;
}

void
dirproc_stop(struct dirproc **dpp)
{
	struct dirproc *dp;

	if (dpp == NULL || (dp = *dpp) == NULL)
		return;
	/* closing its socket ends the child's loop */
	if (dp->ch.fd >= 0) {
		close(dp->ch.fd);
		dp->ch.fd = -1;
	}
	if (dp->pid > 0)
		child_stop(dp->pid, 1000);
	dp->pid = -1;
	msg_free(&dp->rq);
	msg_free(&dp->rp);
	pthread_mutex_destroy(&dp->lock);
	free(dp);
	*dpp = NULL;
}

/* Send the lookup and wait, within the budget, for the answer. */
static int
dp_exchange(struct dirproc *dp, uint8_t what, const char *name)
{
	struct pollfd pfd;
	uint8_t type;
	int n, r;

	msg_init(&dp->rq);
	msg_put_str(&dp->rq, name);
	if ((r = msg_chan_send(&dp->ch, what, &dp->rq, 0)) != 0)
		return r == TG_ERR_PROTOCOL || r == TG_ERR_IO ? TG_ERR_CLOSED :
		    r;
	pfd.fd = dp->ch.fd;
	pfd.events = POLLIN;
	while ((n = poll(&pfd, 1, dp->budget_ms)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return TG_ERR_TIMEOUT;
	r = msg_chan_recv(&dp->ch, &type, &dp->rp);
	return r == TG_ERR_IO ? TG_ERR_CLOSED : r;
}

static int
dp_lookup(struct dirproc *dp, uint8_t what, const char *name,
    enum dir_outcome *outcome, struct dir_facts *facts, char *detail,
    size_t detail_cap)
{
	int r;

	*outcome = DIR_UNAVAILABLE;
	if (detail_cap > 0)
		detail[0] = '\0';
	if (dp == NULL)
		return TG_ERR_CLOSED;
	pthread_mutex_lock(&dp->lock);
	/* a unit of its own: a new connection is a new process */
	if (dp->ch.fd < 0 && dp->dir->socket[0] != '\0' &&
	    (r = dp_connect(dp)) != 0)
		goto lost;
	if (dp->ch.fd < 0) {
		r = TG_ERR_CLOSED;
		goto out;
	}
	r = dp_exchange(dp, what, name);
	/* one that ended while idle: once more, on a new connection */
	if (r == TG_ERR_CLOSED && dp->dir->socket[0] != '\0') {
		fprintf(stderr, "tapgated: the directory process on %s is "
		    "gone: connecting again\n", dp->dir->socket);
		snprintf(dp->lost, sizeof(dp->lost), "the directory process "
		    "on %.200s ended while idle; connected again",
		    dp->dir->socket);
		dp->event = "directory.exited";
		dp_tell(dp);
		dp_kill(dp);
		if ((r = dp_connect(dp)) == 0)
			r = dp_exchange(dp, what, name);
	}
	if (r == 0)
		r = dirproc_parse_answer(&dp->ch, &dp->rp, outcome, facts,
		    detail, detail_cap);
	if (r == 0)
		goto out;
 lost:
	*outcome = DIR_UNAVAILABLE;
	snprintf(dp->lost, sizeof(dp->lost), "the directory process %s",
	    r == TG_ERR_TIMEOUT ? "was silent past its budget: killed" :
	    r == TG_ERR_CLOSED ? "is gone" : r == TG_ERR_PROTOCOL ?
	    dp->ch.err : "cannot be reached");
	dp->event = r == TG_ERR_PROTOCOL ? "privsep.violation" :
	    "directory.exited";
	if (detail_cap > 0)
		snprintf(detail, detail_cap, "%s", dp->lost);
	fprintf(stderr, "tapgated: %s\n", dp->lost);
	dp_tell(dp);
	dp_kill(dp);
 out:
	msg_wipe(&dp->rp);
	pthread_mutex_unlock(&dp->lock);
	return r;
}

int
dirproc_lookup(struct dirproc *dp, const char *name,
    enum dir_outcome *outcome, struct dir_facts *facts, char *detail,
    size_t detail_cap)
{
	return dp_lookup(dp, PROTO_DIR_LOOKUP, name, outcome, facts, detail,
	    detail_cap);
}

int
dirproc_lookup_dn(struct dirproc *dp, const char *dn,
    enum dir_outcome *outcome, struct dir_facts *facts, char *detail,
    size_t detail_cap)
{
	return dp_lookup(dp, PROTO_DIR_LOOKUP_DN, dn, outcome, facts, detail,
	    detail_cap);
}

int
dirproc_check(struct dirproc *dp, const char **event, char *detail,
    size_t detail_cap)
{
	char end[80];
	int st, r = 0;

	if (dp == NULL || pthread_mutex_trylock(&dp->lock) != 0)
		return 0;	/* a lookup in flight reports its own end */
	/* its own unit: the next lookup connects; a loss is told once */
	if (dp->dir->socket[0] != '\0') {
		if (dp->nuntold > 0) {
			*event = dp->untold[0].event;
			if (detail_cap > 0)
				snprintf(detail, detail_cap, "%s",
				    dp->untold[0].detail);
			memmove(&dp->untold[0], &dp->untold[1],
			    (size_t)--dp->nuntold * sizeof(dp->untold[0]));
			r = 1;
		}
		pthread_mutex_unlock(&dp->lock);
		return r;
	}
	if (dp->ch.fd >= 0 && dp->pid > 0 &&
	    waitpid(dp->pid, &st, WNOHANG) == dp->pid) {
		child_describe(st, end, sizeof(end));
		snprintf(dp->lost, sizeof(dp->lost), "the directory process "
		    "%s", end);
		dp->event = "directory.exited";
		dp->pid = -1;
		dp_kill(dp);
	}
	if (dp->ch.fd < 0) {
		*event = dp->event != NULL ? dp->event : "directory.exited";
		if (detail_cap > 0)
			snprintf(detail, detail_cap, "%s", dp->lost[0] ?
			    dp->lost : "the directory process is gone");
		r = TG_ERR_CLOSED;
	}
	pthread_mutex_unlock(&dp->lock);
	return r;
}

/* ---- the child */

/*
 * Active Directory keeps the account's primary group (primaryGroupID, a
 * RID of the account's own domain) out of memberOf and out of the
 * group's member: an account whose primary group is Domain Admins is
 * listed in neither.  Its SID is the account's objectSid with the last
 * sub-authority replaced by that RID.
 */
static char	ad_primary_group_id[] = "primaryGroupID";
static char	ad_object_sid[] = "objectSid";

struct setup {
	struct policy_directory	 d;
	/* for the search: and, on Active Directory, the primary group's */
	char			*attrs[NATTRS + 3];
};

static void
get_setup(struct msg *m, struct setup *s)
{
	struct policy_directory *d = &s->d;
	char *const slots[NATTRS] = { d->attrs.name, d->attrs.upn,
	    d->attrs.member_of, d->attrs.manager, d->attrs.mobile,
	    d->attrs.phone, d->attrs.mail, d->attrs.alt_mail, d->attrs.type,
	    d->attrs.disabled, d->attrs.locked };
	size_t i, n = 0, j;

	memset(s, 0, sizeof(*s));
	msg_get_str(m, d->uri, sizeof(d->uri));
	d->tls = (enum policy_dir_tls)msg_get_u8(m);
	msg_get_str(m, d->ca_file, sizeof(d->ca_file));
	d->bind = (enum policy_dir_bind)msg_get_u8(m);
	msg_get_str(m, d->bind_dn, sizeof(d->bind_dn));
	msg_get_str(m, d->password_file, sizeof(d->password_file));
	msg_get_str(m, d->cert_file, sizeof(d->cert_file));
	msg_get_str(m, d->key_file, sizeof(d->key_file));
	msg_get_str(m, d->base, sizeof(d->base));
	msg_get_str(m, d->filter, sizeof(d->filter));
	d->timeout_seconds = msg_get_u32(m);
	d->max_groups = msg_get_u32(m);
	for (i = 0; i < NATTRS; i++)
		msg_get_str(m, slots[i], POLICY_DIR_ATTR_MAX + 1);
	d->preset = msg_get_u8(m) == POLICY_DIR_OPENLDAP ?
	    POLICY_DIR_OPENLDAP : POLICY_DIR_ACTIVE_DIRECTORY;
	d->nested_groups = msg_get_u8(m) != 0;
	d->max_group_depth = msg_get_u32(m);
	if (d->max_group_depth > POLICY_DIR_MAX_GROUP_DEPTH)
		d->max_group_depth = POLICY_DIR_MAX_GROUP_DEPTH;
	/* each attribute asked for once (disabled and locked may agree) */
	for (i = 0; i < NATTRS; i++) {
		if (slots[i][0] == '\0')
			continue;
		for (j = 0; j < n && strcasecmp(s->attrs[j], slots[i]) != 0;
		    j++)
			;
		if (j == n)
			s->attrs[n++] = slots[i];
	}
	if (d->preset == POLICY_DIR_ACTIVE_DIRECTORY) {
		s->attrs[n++] = ad_primary_group_id;
		s->attrs[n++] = ad_object_sid;
	}
	s->attrs[n] = NULL;
	d->configured = true;
}

/* The bind password: the file's first line, at most PASSWORD_MAX. */
static int
read_password(const char *path, char *pw, size_t cap, size_t *len)
{
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return TG_ERR_IO;
	while (off < cap && (n = read(fd, pw + off, cap - off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (off == cap) {
		explicit_bzero(pw, cap);
		return TG_ERR_TOO_LONG;
	}
	*len = strcspn(pw, "\r\n");
	if (*len > off)
		*len = off;
	return *len > 0 ? 0 : TG_ERR_INVALID;
}

static LDAP	*ld;	/* the connection, bound; NULL: none yet */

static void
drop_connection(void)
{
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ld = NULL;
}

/* Per-connection options: version 3, no referrals, the timeouts, TLS. */
static int
set_options(LDAP *l, const struct policy_directory *d, char *why,
    size_t cap)
{
	struct timeval tv = { (time_t)d->timeout_seconds, 0 };
	int v3 = LDAP_VERSION3, hard = LDAP_OPT_X_TLS_HARD, zero = 0;
	int tlsmin = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;

	if (ldap_set_option(l, LDAP_OPT_PROTOCOL_VERSION, &v3) != 0 ||
	    ldap_set_option(l, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(l, LDAP_OPT_NETWORK_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(l, LDAP_OPT_TIMEOUT, &tv) != 0) {
		snprintf(why, cap, "cannot set the connection's options");
		return -1;
	}
	if (d->tls == POLICY_DIR_TLS_NONE)
		return 0;
	if (ldap_set_option(l, LDAP_OPT_X_TLS_CACERTFILE, d->ca_file) != 0 ||
	    ldap_set_option(l, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard) != 0 ||
	    ldap_set_option(l, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tlsmin) != 0 ||
	    (d->bind == POLICY_DIR_BIND_SASL_EXTERNAL &&
	    (ldap_set_option(l, LDAP_OPT_X_TLS_CERTFILE, d->cert_file) != 0 ||
	    ldap_set_option(l, LDAP_OPT_X_TLS_KEYFILE, d->key_file) != 0)) ||
	    ldap_set_option(l, LDAP_OPT_X_TLS_NEWCTX, &zero) != 0) {
		snprintf(why, cap, "cannot set up TLS with %.160s",
		    d->ca_file);
		return -1;
	}
	return 0;
}

static int
bind_connection(LDAP *l, const struct policy_directory *d, char *why,
    size_t cap)
{
	static char empty[] = "";
	struct berval cred = { 0, NULL };
	char pw[PASSWORD_MAX + 1];
	size_t len = 0;
	int rc;

	if (d->bind == POLICY_DIR_BIND_SASL_EXTERNAL) {
		/*
		 * an empty initial response, present: without one slapd
		 * answers with a challenge (saslBindInProgress) first
		 */
		cred.bv_val = empty;
		rc = ldap_sasl_bind_s(l, NULL, "EXTERNAL", &cred, NULL, NULL,
		    NULL);
	} else {
		memset(pw, 0, sizeof(pw));
		if (read_password(d->password_file, pw, sizeof(pw) - 1,
		    &len) != 0) {
			explicit_bzero(pw, sizeof(pw));
			snprintf(why, cap, "cannot read the bind password "
			    "file");
			return -1;
		}
		cred.bv_val = pw;
		cred.bv_len = len;
		rc = ldap_sasl_bind_s(l, d->bind_dn, LDAP_SASL_SIMPLE, &cred,
		    NULL, NULL, NULL);
		explicit_bzero(pw, sizeof(pw));
	}
	if (rc != LDAP_SUCCESS) {
		snprintf(why, cap, "bind refused: %s", ldap_err2string(rc));
		return -1;
	}
	return 0;
}

/* A connection, TLS up and bound: 0, or -1 with why. */
static int
connect_directory(const struct policy_directory *d, char *why, size_t cap)
{
	LDAP *l = NULL;
	int rc;

	if (ld != NULL)
		return 0;
	if ((rc = ldap_initialize(&l, d->uri)) != LDAP_SUCCESS) {
		snprintf(why, cap, "%s", ldap_err2string(rc));
		return -1;
	}
	if (set_options(l, d, why, cap) != 0)
		goto fail;
	if (d->tls == POLICY_DIR_TLS_STARTTLS &&
	    (rc = ldap_start_tls_s(l, NULL, NULL)) != LDAP_SUCCESS) {
		snprintf(why, cap, "StartTLS failed: %s", ldap_err2string(rc));
		goto fail;
	}
	if (bind_connection(l, d, why, cap) != 0)
		goto fail;
	ld = l;
	return 0;
 fail:
	ldap_unbind_ext_s(l, NULL, NULL);
	return -1;
}

/* The values of attribute attr of entry e, each checked; a count. */
static size_t
take_values(LDAP *l, LDAPMessage *e, const char *attr, size_t bound,
    size_t max, char *out, size_t stride, bool *more)
{
	struct berval **vals;
	size_t i, n = 0;

	if (attr[0] == '\0' || (vals = ldap_get_values_len(l, e, attr)) ==
	    NULL)
		return 0;
	for (i = 0; vals[i] != NULL; i++) {
		char *dst = out + n * stride;

		if (n == max || vals[i]->bv_len == 0 ||
		    vals[i]->bv_len > bound ||
		    memchr(vals[i]->bv_val, '\0', vals[i]->bv_len) != NULL) {
			if (more != NULL)
				*more = true;
			continue;
		}
		memcpy(dst, vals[i]->bv_val, vals[i]->bv_len);
		dst[vals[i]->bv_len] = '\0';
		if (!dir_value_ok(dst, bound)) {
			if (more != NULL)
				*more = true;
			continue;
		}
		n++;
	}
	ldap_value_free_len(vals);
	return n;
}

/* Whether any value of attr says disabled (locks: locked). */
static bool
flag(LDAP *l, LDAPMessage *e, const char *attr, bool locks)
{
	char v[8][DIR_VALUE_MAX + 1];
	size_t i, n;
	bool more = false;

	n = take_values(l, e, attr, DIR_VALUE_MAX, 8, &v[0][0], sizeof(v[0]),
	    &more);
	for (i = 0; i < n; i++)
		if (locks ? dir_value_locks(attr, v[i]) :
		    dir_value_disables(attr, v[i]))
			return true;
	return false;
}

/*
 * The facts of the one entry found for name: its canonical name is the
 * value of the name attribute that is name (ignoring case), or its
 * first.  -1 with why when the entry cannot be told.
 */
static int
entry_facts(LDAP *l, LDAPMessage *e, const struct setup *s,
    const char *name, struct dir_facts *f, char *why, size_t cap)
{
	const struct policy_dir_attrs *a = &s->d.attrs;
	char names[8][DIR_VALUE_MAX + 1], again[DIR_NAME_MAX + 1], *dn;
	enum dir_name_fault nf;
	size_t i, n;

	memset(f, 0, sizeof(*f));
	if ((dn = ldap_get_dn(l, e)) == NULL) {
		snprintf(why, cap, "the entry has no DN");
		return -1;
	}
	if (!dir_value_ok(dn, DIR_DN_MAX) || dn[0] == '\0') {
		ldap_memfree(dn);
		snprintf(why, cap, "the entry's DN is too long or not text");
		return -1;
	}
	snprintf(f->dn, sizeof(f->dn), "%s", dn);
	ldap_memfree(dn);
	n = take_values(l, e, a->name, DIR_NAME_MAX, 8, &names[0][0],
	    sizeof(names[0]), NULL);
	for (i = 0; i < n && !dir_name_same(&s->d, names[i], name); i++)
		;
	if (n == 0) {
		snprintf(why, cap, "the entry has no %s", a->name);
		return -1;
	}
	snprintf(f->name, sizeof(f->name), "%.*s", DIR_NAME_MAX,
	    names[i < n ? i : 0]);
	/* a name the monitor would refuse: the directory's data, not us */
	if (dir_name_normalize(NULL, f->name, again, sizeof(again),
	    &nf) != 0 || strcmp(again, f->name) != 0) {
		snprintf(why, cap, "the entry's %s is not a valid account "
		    "name", a->name);
		return -1;
	}
	f->ngroups = take_values(l, e, a->member_of, DIR_DN_MAX,
	    s->d.max_groups, &f->groups[0][0], sizeof(f->groups[0]),
	    &f->truncated_groups);
	f->ndirect = f->ngroups;
	(void)take_values(l, e, a->manager, DIR_DN_MAX, 1, f->manager,
	    sizeof(f->manager), NULL);
	f->nmobile = take_values(l, e, a->mobile, DIR_VALUE_MAX,
	    DIR_MAX_CONTACTS, &f->mobile[0][0], sizeof(f->mobile[0]), NULL);
	f->nphone = take_values(l, e, a->phone, DIR_VALUE_MAX,
	    DIR_MAX_CONTACTS, &f->phone[0][0], sizeof(f->phone[0]), NULL);
	f->nmail = take_values(l, e, a->mail, DIR_VALUE_MAX,
	    DIR_MAX_CONTACTS, &f->mail[0][0], sizeof(f->mail[0]), NULL);
	f->nalt_mail = take_values(l, e, a->alt_mail, DIR_VALUE_MAX,
	    DIR_MAX_CONTACTS, &f->alt_mail[0][0], sizeof(f->alt_mail[0]),
	    NULL);
	f->ntypes = take_values(l, e, a->type, DIR_VALUE_MAX, DIR_MAX_TYPES,
	    &f->types[0][0], sizeof(f->types[0]), NULL);
	f->disabled = a->disabled[0] != '\0' && flag(l, e, a->disabled,
	    false);
	f->locked = a->locked[0] != '\0' && flag(l, e, a->locked, true);
	return 0;
}

/* Errors after which the connection is not worth keeping. */
static bool
connection_lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
	    rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY ||
	    rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_OTHER ||
	    rc == LDAP_LOCAL_ERROR || rc == LDAP_PROTOCOL_ERROR ||
	    rc == LDAP_DECODING_ERROR;
}

/* ---- groups of groups */

/* Active Directory's transitive membership (LDAP_MATCHING_RULE_IN_CHAIN) */
#define IN_CHAIN_FILTER \
	"(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=%s))"
/* the groups that hold one group, one level up */
#define PARENT_FILTER	"(&(objectClass=groupOfNames)(member=%s))"
#define GROUP_FILTER_MAX	(3 * DIR_DN_MAX + 128)
#define NO_LINK		((size_t)-1)	/* the entry's own groups */

/*
 * fmt with its "%s" replaced by dn escaped as RFC 4515 says, in out
 * (cap bytes).  0, or -1.
 */
static int
member_filter(const char *fmt, const char *dn, char *out, size_t cap)
{
	char v[DIR_DN_MAX + 1];
	struct berval in, esc = { 0, NULL };
	int n;

	n = snprintf(v, sizeof(v), "%s", dn);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -1;
	in.bv_val = v;
	in.bv_len = (ber_len_t)n;
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
		return -1;
	n = snprintf(out, cap, fmt, esc.bv_val);
	ber_memfree(esc.bv_val);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/*
 * On Active Directory, where the groups of the domain of the entry at dn
 * are: its domain's naming context, the DC= components that end dn (an
 * account found below an OU is in groups outside it); base when dn has
 * none.
 */
static const char *
domain_root(const char *dn, const char *base)
{
	const char *p;

	for (p = strchr(dn, ','); p != NULL; p = strchr(p + 1, ','))
		if (p > dn && p[-1] != '\\' &&
		    strncasecmp(p + 1, "DC=", 3) == 0)
			return p + 1;
	return base;
}

/* The index of group dn in f; f->ngroups: not there. */
static size_t
group_index(const struct dir_facts *f, const char *dn)
{
	size_t i;

	for (i = 0; i < f->ngroups && !policy_dn_same(f->groups[i], dn);
	    i++)
		;
	return i;
}

/* groups[member] is in groups[group]; past DIR_MAX_EDGES: truncated. */
static void
add_edge(struct dir_facts *f, size_t member, size_t group)
{
	if (f->nedges >= DIR_MAX_EDGES) {
		f->truncated_groups = true;
		return;
	}
	f->edges[f->nedges].member = (unsigned)member;
	f->edges[f->nedges].group = (unsigned)group;
	f->nedges++;
}

/*
 * The groups filter matches, each holding groups[member] (NO_LINK: the
 * entry): added to f with that link when add is set (a group past
 * max_groups, or one whose DN cannot be reported, sets
 * truncated_groups), else only *found set when one is new.  0, or -1
 * with why (the walk cannot be finished: no class may be decided).
 */
static int
group_search(const struct setup *s, const char *base, const char *filter,
    struct dir_facts *f, size_t member, bool add, bool *found, char *why,
    size_t cap)
{
	struct timeval tv = { (time_t)s->d.timeout_seconds, 0 };
	static char none[] = "1.1";	/* no attribute: DNs only */
	char *attrs[] = { none, NULL }, *dn;
	LDAPMessage *res = NULL, *e;
	size_t j;
	int rc;

	rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, (int)s->d.max_groups + 1, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		snprintf(why, cap, "group search failed: %s",
		    ldap_err2string(rc));
		if (connection_lost(rc) || rc == LDAP_TIMELIMIT_EXCEEDED)
			drop_connection();
		ldap_msgfree(res);
		return -1;
	}
	if (rc == LDAP_SIZELIMIT_EXCEEDED)
		f->truncated_groups = true;
	for (e = ldap_first_entry(ld, res); e != NULL;
	    e = ldap_next_entry(ld, e)) {
		if ((dn = ldap_get_dn(ld, e)) == NULL)
			continue;
		if (dn[0] == '\0' || !dir_value_ok(dn, DIR_DN_MAX))
			f->truncated_groups = true;
		else if ((j = group_index(f, dn)) < f->ngroups) {
			if (add && member != NO_LINK)
				add_edge(f, member, j);
		} else if (!add)
			*found = true;
		else if (f->ngroups >= s->d.max_groups)
			f->truncated_groups = true;
		else {
			snprintf(f->groups[f->ngroups++], sizeof(f->groups[0]),
			    "%s", dn);
			if (member != NO_LINK)
				add_edge(f, member, j);
		}
		ldap_memfree(dn);
	}
	ldap_msgfree(res);
	return 0;
}

/*
 * The entry's own groups, found by a search when no attribute lists
 * them (member_of ""), then the groups that hold them, added to f with
 * the links that say which of its own groups brings each.  Active
 * Directory answers the whole chain of each of them at once.  Elsewhere
 * the groups holding each group are searched breadth first,
 * max_group_depth levels above the account's own; a group seen before
 * is not searched again (a cycle ends), and a level past the depth that
 * would add a group marks the facts truncated rather than passing as
 * absent.  0, or -1 with why.
 */
static int
walk_groups(const struct setup *s, struct dir_facts *f, char *why,
    size_t cap)
{
	char filter[GROUP_FILTER_MAX + 1];
	size_t start = 0, end, i;
	unsigned depth;
	bool beyond = false;

	/* no memberOf: the entry's own groups are those that name it */
	if (s->d.attrs.member_of[0] == '\0') {
		if (member_filter(PARENT_FILTER, f->dn, filter,
		    sizeof(filter)) != 0) {
			snprintf(why, cap, "the entry's DN does not fit the "
			    "group filter");
			return -1;
		}
		if (group_search(s, s->d.base, filter, f, NO_LINK, true,
		    &beyond, why, cap) != 0)
			return -1;
		f->ndirect = f->ngroups;
	}
	end = f->ngroups;
	if (!s->d.nested_groups)
		return 0;
	for (i = 0; s->d.preset == POLICY_DIR_ACTIVE_DIRECTORY &&
	    i < end && !f->truncated_groups; i++) {
		if (member_filter(IN_CHAIN_FILTER, f->groups[i], filter,
		    sizeof(filter)) != 0)
			f->truncated_groups = true;
		else if (group_search(s, domain_root(f->dn, s->d.base),
		    filter, f, i, true, &beyond, why, cap) != 0)
			return -1;
	}
	if (s->d.preset == POLICY_DIR_ACTIVE_DIRECTORY)
		return 0;
	for (depth = 1; start < end && !beyond && !f->truncated_groups;
	    depth++) {
		for (i = start; i < end && !beyond && !f->truncated_groups;
		    i++) {
			if (member_filter(PARENT_FILTER, f->groups[i], filter,
			    sizeof(filter)) != 0) {
				f->truncated_groups = true;
				break;
			}
			if (group_search(s, s->d.base, filter, f, i,
			    depth <= s->d.max_group_depth, &beyond, why,
			    cap) != 0)
				return -1;
		}
		start = end;
		end = f->ngroups;
	}
	if (beyond)
		f->truncated_groups = true;
	return 0;
}

/*
 * The SID of entry e's primary group as an RFC 4515 filter value (each
 * byte \XX) in out: 1; 0 when e has no primaryGroupID (not Active
 * Directory's data); -1 when it has one that cannot be resolved (no
 * objectSid, or either malformed).
 */
static int
primary_group_sid(LDAP *l, LDAPMessage *e, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sid[8 + 4 * 15];
	char rid[16];
	struct berval **vals;
	unsigned long v;
	size_t i, len, nsub;
	char *end;

	if (take_values(l, e, ad_primary_group_id, sizeof(rid) - 1, 1, rid,
	    sizeof(rid), NULL) != 1)
		return 0;
	errno = 0;
	v = strtoul(rid, &end, 10);
	if (rid[0] < '0' || rid[0] > '9' || *end != '\0' || errno != 0 ||
	    v > 0xffffffffUL)
		return -1;
	if ((vals = ldap_get_values_len(l, e, ad_object_sid)) == NULL)
		return -1;
	/* revision 1, n sub-authorities, 6 bytes of authority, n * 4 */
	len = vals[0] != NULL ? vals[0]->bv_len : 0;
	nsub = len >= 8 ? (unsigned char)vals[0]->bv_val[1] : 0;
	if (vals[1] != NULL || len < 12 || len > sizeof(sid) ||
	    vals[0]->bv_val[0] != 1 || nsub < 1 || len != 8 + 4 * nsub ||
	    cap < 3 * len + 1) {
		ldap_value_free_len(vals);
		return -1;
	}
	memcpy(sid, vals[0]->bv_val, len);
	ldap_value_free_len(vals);
	for (i = 0; i < 4; i++)	/* little-endian, like every sub-authority */
		sid[len - 4 + i] = (unsigned char)(v >> (8 * i));
	for (i = 0; i < len; i++) {
		out[3 * i] = '\\';
		out[3 * i + 1] = hex[sid[i] >> 4];
		out[3 * i + 2] = hex[sid[i] & 15];
	}
	out[3 * len] = '\0';
	return 1;
}

/*
 * On Active Directory, entry e's primary group, one of its own groups
 * (before the walk, which then finds the groups that hold it).  A
 * primary group that cannot be told marks the groups truncated: it is
 * unknown, not absent.  0, or -1 with why (the search failed).
 */
static int
primary_group(const struct setup *s, LDAPMessage *e, struct dir_facts *f,
    char *why, size_t cap)
{
	struct timeval tv = { (time_t)s->d.timeout_seconds, 0 };
	char value[3 * (8 + 4 * 15) + 1], filter[sizeof(value) + 48];
	static char none[] = "1.1";	/* no attribute: the DN only */
	char *attrs[] = { none, NULL }, *dn = NULL;
	LDAPMessage *res = NULL, *g;
	int r, rc;

	if (s->d.preset != POLICY_DIR_ACTIVE_DIRECTORY)
		return 0;
	if ((r = primary_group_sid(ld, e, value, sizeof(value))) <= 0) {
		if (r < 0)
			f->truncated_groups = true;
		return 0;
	}
	snprintf(filter, sizeof(filter), "(&(objectClass=group)"
	    "(objectSid=%s))", value);
	rc = ldap_search_ext_s(ld, domain_root(f->dn, s->d.base),
	    LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 2, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		snprintf(why, cap, "primary group search failed: %s",
		    ldap_err2string(rc));
		if (connection_lost(rc) || rc == LDAP_TIMELIMIT_EXCEEDED)
			drop_connection();
		ldap_msgfree(res);
		return -1;
	}
	/* exactly one group, reportable, and room for it: else unknown */
	if (rc != LDAP_SUCCESS || ldap_count_entries(ld, res) != 1 ||
	    (g = ldap_first_entry(ld, res)) == NULL ||
	    (dn = ldap_get_dn(ld, g)) == NULL || dn[0] == '\0' ||
	    !dir_value_ok(dn, DIR_DN_MAX))
		f->truncated_groups = true;
	else if (group_index(f, dn) < f->ngroups)
		;	/* listed already */
	else if (f->ngroups >= s->d.max_groups)
		f->truncated_groups = true;
	else
		snprintf(f->groups[f->ngroups++], sizeof(f->groups[0]), "%s",
		    dn);
	f->ndirect = f->ngroups;
	if (dn != NULL)
		ldap_memfree(dn);
	ldap_msgfree(res);
	return 0;
}

/*
 * The entry name finds, or (dn not NULL) the entry at dn: its facts, and
 * its groups walked unless read at its DN.
 */
/*
 * On Active Directory, the filter for upn (user@domain, as dir_name_upn
 * makes it): the entry whose upn attribute it is, or the one the filter
 * finds for user (the implicit UPN, sAMAccountName@domain).  Two such
 * entries are two: ambiguous, never the sAMAccountName's by default.
 * The account part in acct.  0, or -1.
 */
static int
upn_filter(const struct setup *s, const char *upn, char *acct,
    size_t acctcap, char *out, size_t cap)
{
	char own[DIR_FILTER_MAX + 1];
	struct berval in, esc = { 0, NULL };
	const char *at = strchr(upn, '@');
	int n;

	if (at == NULL || (size_t)(at - upn) >= acctcap)
		return -1;
	memcpy(acct, upn, (size_t)(at - upn));
	acct[at - upn] = '\0';
	if (dir_filter(&s->d, acct, own, sizeof(own)) != 0)
		return -1;
	in.bv_val = (char *)(uintptr_t)upn;
	in.bv_len = (ber_len_t)strlen(upn);
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
		return -1;
	n = snprintf(out, cap, "(|%s(&(objectCategory=person)"
	    "(objectClass=user)(%s=%s)))", own, s->d.attrs.upn, esc.bv_val);
	ber_memfree(esc.bv_val);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static enum dir_outcome
search(struct setup *s, const char *name, const char *dn,
    struct dir_facts *f, char *why, size_t cap)
{
	struct timeval tv = { (time_t)s->d.timeout_seconds, 0 };
	char filter[DIR_FILTER_MAX + 3 * DIR_UPN_MAX + 96];
	char acct[DIR_NAME_MAX + 1];
	LDAPMessage *res = NULL, *e;
	enum dir_outcome o;
	int rc, n;

	if (dn != NULL)
		snprintf(filter, sizeof(filter), "(objectClass=*)");
	else if (s->d.preset == POLICY_DIR_ACTIVE_DIRECTORY &&
	    s->d.attrs.upn[0] != '\0' && strchr(name, '@') != NULL) {
		if (upn_filter(s, name, acct, sizeof(acct), filter,
		    sizeof(filter)) != 0) {
			snprintf(why, cap, "the name does not fit the filter");
			return DIR_UNAVAILABLE;
		}
		name = acct;
	} else if (dir_filter(&s->d, name, filter, sizeof(filter)) != 0) {
		snprintf(why, cap, "the name does not fit the filter");
		return DIR_UNAVAILABLE;
	}
	/* a connection the directory closed meanwhile: once more afresh */
	for (n = 0; n < 2; n++) {
		if (connect_directory(&s->d, why, cap) != 0)
			return DIR_UNAVAILABLE;
		rc = ldap_search_ext_s(ld, dn != NULL ? dn : s->d.base,
		    dn != NULL ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE,
		    filter, s->attrs, 0, NULL, NULL, &tv, 2, &res);
		if (rc != LDAP_SERVER_DOWN)
			break;
		ldap_msgfree(res);
		res = NULL;
		drop_connection();
	}
	if (dn != NULL && (rc == LDAP_NO_SUCH_OBJECT ||
	    rc == LDAP_INVALID_DN_SYNTAX)) {
		snprintf(why, cap, "no entry at that DN");
		ldap_msgfree(res);
		return DIR_NOT_FOUND;
	}
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		snprintf(why, cap, "search failed: %s", ldap_err2string(rc));
		if (connection_lost(rc) || rc == LDAP_TIMELIMIT_EXCEEDED)
			drop_connection();
		ldap_msgfree(res);
		return DIR_UNAVAILABLE;
	}
	n = res != NULL ? ldap_count_entries(ld, res) : 0;
	if (rc == LDAP_SIZELIMIT_EXCEEDED || n > 1) {
		snprintf(why, cap, "more than one entry matches");
		o = DIR_AMBIGUOUS;
	} else if (n <= 0) {
		snprintf(why, cap, "no entry matches");
		o = DIR_NOT_FOUND;
	} else if ((e = ldap_first_entry(ld, res)) == NULL ||
	    entry_facts(ld, e, s, name, f, why, cap) != 0 ||
	    (dn == NULL && (primary_group(s, e, f, why, cap) != 0 ||
	    walk_groups(s, f, why, cap) != 0)))
		o = DIR_UNAVAILABLE;
	else
		o = DIR_FOUND;
	ldap_msgfree(res);
	return o;
}

/* Resolve the directory's host once while the files may be read. */
static void
warm_resolver(const char *uri)
{
	LDAPURLDesc *lud = NULL;
	struct addrinfo hints, *ai = NULL;

	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (lud->lud_host != NULL && lud->lud_host[0] != '\0' &&
	    getaddrinfo(lud->lud_host, NULL, &hints, &ai) == 0)
		freeaddrinfo(ai);
	ldap_free_urldesc(lud);
}

/*
 * What libldap would load lazily, on paths the filter refuses, loaded
 * while it may: the SASL library lists and loads its plugins (a
 * directory read, dlopen), and TLS reads its configuration and the CA.
 */
static void
warm_libldap(const struct policy_directory *d)
{
	char **mechs = NULL;
	char why[128];
	LDAP *l = NULL;

	(void)ldap_get_option(NULL, LDAP_OPT_X_SASL_MECHLIST, &mechs);
	if (d->tls == POLICY_DIR_TLS_NONE ||
	    ldap_initialize(&l, d->uri) != LDAP_SUCCESS)
		return;
	(void)set_options(l, d, why, sizeof(why));
	ldap_unbind_ext_s(l, NULL, NULL);
}

static int
child_confine(const struct setup *s)
{
	struct sandbox_path paths[4];
	size_t n = 0;

	if (s->d.ca_file[0] != '\0')
		paths[n++] = (struct sandbox_path){ s->d.ca_file, 0 };
	if (s->d.password_file[0] != '\0')
		paths[n++] = (struct sandbox_path){ s->d.password_file, 0 };
	if (s->d.cert_file[0] != '\0')
		paths[n++] = (struct sandbox_path){ s->d.cert_file, 0 };
	if (s->d.key_file[0] != '\0')
		paths[n++] = (struct sandbox_path){ s->d.key_file, 0 };
	if (sandbox_landlock_abi() < 1)
		fprintf(stderr, "tapgated[directory]: the kernel has no "
		    "Landlock: the directory process's opens are limited by "
		    "seccomp only\n");
	warm_resolver(s->d.uri);
	warm_libldap(&s->d);
	if (sandbox_harden() != 0 ||
	    sandbox_limit_as(SANDBOX_AS_DIRECTORY) != 0 ||
	    sandbox_apply_paths(SANDBOX_ROLE_DIRECTORY, paths, n) != 0) {
		fprintf(stderr, "tapgated[directory]: cannot confine the "
		    "directory process\n");
		return -1;
	}
	return 0;
}

/* One lookup: the request read exactly, the answer written. */
static int
child_lookup(struct msg_chan *ch, uint8_t type, struct setup *s,
    struct msg *rq, struct msg *rp, struct dir_facts *f)
{
	char name[DIR_DN_MAX + 1], why[PROTO_DIR_DETAIL_MAX + 1] = "";
	enum dir_outcome o;

	msg_get_str(rq, name, type == PROTO_DIR_LOOKUP_DN ? DIR_DN_MAX + 1 :
	    DIR_UPN_MAX + 1);
	if (msg_chan_end(ch, rq, "lookup") != 0)
		return -1;
	if (type == PROTO_DIR_LOOKUP_DN)
		o = name[0] != '\0' ? search(s, "", name, f, why,
		    sizeof(why)) : DIR_NOT_FOUND;
	else
		o = search(s, name, NULL, f, why, sizeof(why));
	/* what the answer says must read back: control bytes go */
	if (!dir_value_ok(why, PROTO_DIR_DETAIL_MAX))
		snprintf(why, sizeof(why), "the directory's error is not text");
	msg_init_max(rp, proto_dir_answer_max);
	dirproc_put_answer(rp, o, why, f);
	return 0;
}

int
dirproc_main(int fd)
{
	static struct msg rq, rp;
	static struct setup s;
	struct dir_facts *f;
	struct msg_chan ch;
	sigset_t none;
	uint8_t type;
	int r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	/* libldap reads no ldap.conf or .ldaprc: the setup says it all */
	setenv("LDAPNOINIT", "1", 1);
	if ((f = malloc(sizeof(*f))) == NULL)
		return 1;
	msg_chan_init(&ch, fd, &proto_directory, MSG_CHILD);
	if ((r = msg_chan_recv(&ch, &type, &rq)) != 0) {
		fprintf(stderr, "tapgated[directory]: no setup: %s\n",
		    r == TG_ERR_PROTOCOL ? ch.err : tg_strerror(r));
		free(f);
		return r == TG_ERR_CLOSED ? 0 : 2;
	}
	get_setup(&rq, &s);
	if (msg_chan_end(&ch, &rq, "setup") != 0 || child_confine(&s) != 0) {
		fprintf(stderr, "tapgated[directory]: %s\n", ch.err[0] ?
		    ch.err : "cannot start");
		free(f);
		return 2;
	}
	for (;;) {
		if ((r = msg_chan_recv(&ch, &type, &rq)) == TG_ERR_CLOSED)
			break;	/* the daemon closed: done */
		if (r != 0 || child_lookup(&ch, type, &s, &rq, &rp, f) != 0) {
			fprintf(stderr, "tapgated[directory]: %s\n", r ==
			    TG_ERR_PROTOCOL || r == 0 ? ch.err :
			    tg_strerror(r));
			r = 2;
			goto out;
		}
		r = msg_chan_send(&ch, PROTO_DIR_ANSWER, &rp, 0);
		msg_wipe(&rp);
		if (r != 0) {
			r = 1;
			goto out;
		}
	}
	r = 0;
 out:
	drop_connection();
	free(f);
	return r;
}

/* SPDX-License-Identifier: ISC */
/*
 * The front process: tapgated's own binary re-executed with FRONT_ARG.
 * It serves HTTP on the API socket (libmicrohttpd: the largest parser of
 * untrusted bytes in the appliance) and holds nothing else: no database,
 * no co-signing key, no security key, no configuration.  It runs under
 * the FRONT seccomp role (no open, no socket, no connect, no exec), so a
 * flaw in the HTTP parser reaches neither the key nor the store.
 *
 * Each request, with the caller's peer credentials read from the
 * connection, goes to the monitor (the daemon) over one of HTTP_THREADS
 * channels (frontchan.h); the monitor checks the caller's roles, runs the
 * request and sends the answer back.  The monitor never trusts the front
 * beyond the channel's table: a malformed, oversized or out-of-order
 * message ends the channel and is reported, as is the front's exit.
 *
 * Process layout of the child: fd 3 the listening socket, fd 4 the
 * control channel (its end at the monitor closes to stop the front), fds
 * 5.. the channels, and after them the HTTPS listener when there is one
 * (its third argument is "https").  Over HTTPS the caller is who its
 * client certificate says, never a uid (http.h).  The monitor first
 * sends on the control channel who may use the connections kept in
 * reserve (http.h): uid 0 and the uids and gids the configuration gives
 * the officer or operator role; then the HTTPS credentials, if any, and
 * again on each reload.
 */
#ifndef TAPGATE_FRONT_H
#define TAPGATE_FRONT_H

#include "daemon/frontchan.h"
#include "daemon/http.h"
#include "policy/policy.h"

#define FRONT_ARG	"--front-process"

struct front;

/*
 * Called once, from a channel thread, when the front breaks the protocol
 * (event "privsep.violation") or goes away while the monitor did not stop
 * it (event "front.exited"); detail says what happened.
 */
typedef void	(*front_report_fn)(void *ctx, const char *event,
		    const char *detail);

/*
 * Start the front from exe on listen_fd (closed here: the front owns it),
 * telling it the privileged callers of cfg.  Call it before the monitor
 * confines itself: the front must not inherit the monitor's filter, which
 * has no accept() and no epoll.  0 or a TG_ERR_*.
 */
int	front_start(const char *exe, int listen_fd,
	    const struct policy_config *cfg, struct front **out);

/*
 * As front_start(), and the front serves HTTPS on https_fd as well (a
 * listening TCP socket the monitor bound; closed here), with tls's
 * credentials.  The front binds nothing itself.
 */
int	front_start_https(const char *exe, int listen_fd, int https_fd,
	    const struct fc_tls *tls, const struct policy_config *cfg,
	    struct front **out);

/*
 * Give the front's HTTPS listener a new certificate chain and key (a
 * reload; tls->ca_pem is ignored).  The front keeps serving the old pair
 * when the new one does not parse, and says so on its stderr.  0 or a
 * TG_ERR_*.
 */
int	front_reload_tls(struct front *f, const struct fc_tls *tls);

/*
 * Serve the front's requests with fn(ctx, ...) on HTTP_THREADS threads;
 * max_body bounds request bodies.  Call it once, when the monitor is
 * ready (and confined).  0 or a TG_ERR_*.
 */
int	front_serve(struct front *f, size_t max_body, http_handler_fn fn,
	    void *ctx, front_report_fn report, void *rctx);

/* The front's process id (for logs and tests); -1 if none. */
int	front_pid(const struct front *f);

/*
 * Stop the front (it finishes the HTTP exchanges under way and exits; it
 * is killed if it has not within two seconds), wait for the channel
 * threads, free.  NULL is ok.
 */
void	front_stop(struct front **f);

/*
 * The front process's main: nchan channels from fd 5, and the HTTPS
 * listener after them when https.  Its exit status.
 */
int	front_main(int nchan, int https);

#endif

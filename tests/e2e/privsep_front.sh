#!/bin/sh
# SPDX-License-Identifier: ISC
# tapgated parses HTTP in a separate front process (src/daemon/front.c)
# that holds no database, no co-signing key and no device, and runs under
# the front's seccomp filter.  Seen from the attacker's side: a front made
# to open the key file (gdb plays the exploited parser) is killed by the
# kernel, and the monitor audits that and stops with a failure instead of
# serving on without its front; a front killed outright is treated alike.
. tests/e2e/lib/daemon.sh

ASAN=0
nm "$BUILD/tapgated" 2>/dev/null | grep -q ' __asan_init$' && ASAN=1
make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

front_of() { pgrep -P "$1" -f -- '--front-process' | head -n 1; }

FP=$(front_of "$DAEMON_PID")
check front_process_runs [ -n "$FP" ]
check_confined front "$FP" 536870912

# beyond stdio the front holds sockets and epoll sets, nothing else ...
held() {	# pid: descriptors 3 and up that are not sockets or anon inodes
	if [ -z "$1" ] || [ ! -r "/proc/$1/fd" ]; then
		echo "no process '$1' to look at"
		return
	fi
	for f in /proc/"$1"/fd/*; do
		n=${f##*/}
		[ "$n" -le 2 ] && continue
		l=$(readlink "$f") || continue
		case $l in
		socket:*|anon_inode:*|pipe:*) ;;
		*) echo "$n -> $l" ;;
		esac
	done
}
FRONT_FILES=$(held "$FP")
check front_holds_no_file_or_device [ -z "$FRONT_FILES" ]
[ -n "$FRONT_FILES" ] && echo "# front holds: $FRONT_FILES"
# ... while the monitor does hold the database (so the check above can fail)
check monitor_holds_the_database sh -c \
    "ls -l /proc/$DAEMON_PID/fd | grep -q 'state/tapgate.db'"
check front_maps_no_state_file sh -c \
    "[ -n '$FP' ] && [ -r /proc/$FP/maps ] && ! grep -q '$T/state' /proc/$FP/maps"

# requests cross the front with the caller's own credentials
api POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$(ev out_of_band_callback pass hd-bob email cb-1)]")"
check request_is_taken_through_the_front [ "$STATUS" = 201 ]
ID=$(jbody .id)
api GET "/v1/requests/$ID"
check request_is_read_back_through_the_front \
    [ "$STATUS" = 200 -a "$(jbody .id)" = "$ID" ]
api_as 65534 GET /v1/requests
check caller_without_role_is_refused_by_the_monitor [ "$STATUS" = 403 ]
api GET '/v1/requests?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9'
check too_many_query_parameters_get_400 \
    [ "$STATUS" = 400 -a "$(jbody .error.code)" = invalid_query ]

# The exploited parser: code running in the front opens the key file, or
# a device node as it would a security key (tests/stub/exploit.c,
# preloaded, does it for requests that ask).
audited() {	# event text: the audit holds that event with that text
	# shellcheck disable=SC2016 # $e, $t: jq variables
	"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json \
	    >"$T/audit.json" 2>/dev/null &&
	    jqtrue --arg e "$1" --arg t "$2" '[.entries[] | select(.event ==
	    $e and (.details.detail | contains($t)))] | length >= 1' \
	    "$T/audit.json"
}
exploited() {	# name path [write]: the front opens path, the kernel kills it
	daemon_stop
	: >"$T/daemon.log"
	LD_PRELOAD=$PWD/$BUILD/tests/exploit.so
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0
	export LD_PRELOAD ASAN_OPTIONS
	daemon_start "$T/tapgate.conf" || { notok "$1"_daemon_starts; exit 1; }
	unset LD_PRELOAD
	curl -s --unix-socket "$T/api.sock" -H "X-Tapgate-Test-Open: $2" \
	    ${3:+-H "X-Tapgate-Test-Write: 1"} -o /dev/null \
	    http://tapgated/healthz
	wait_exit "$DAEMON_PID"
	rc=$?
	DAEMON_PID=
	check "$1" grep -q 'front.exited: .*killed by signal 31' "$T/daemon.log"
	check "$1"_stops_the_daemon_with_failure [ "$rc" = 1 ]
}
# read-only open() is admitted in ASan builds (the sanitizer's own reads)
exploited front_opening_the_key_file_is_killed "$T/state/seal.key" \
    ${ASAN#0}
exploited front_opening_a_device_node_is_killed /dev/null write
daemon_start "$T/tapgate.conf" || { notok daemon_restarts; exit 1; }
check front_kill_is_audited audited front.exited "signal 31"

FP=$(front_of "$DAEMON_PID")
kill_pid front_is_killed KILL "$FP"
wait_exit "$DAEMON_PID"
rc=$?
DAEMON_PID=
check monitor_stops_with_failure_when_the_front_dies [ "$rc" = 1 ]
check front_death_is_logged grep -q 'front.exited: .*killed by signal 9' \
    "$T/daemon.log"
daemon_start "$T/tapgate.conf" || { notok daemon_restarts; exit 1; }
check front_death_is_audited audited front.exited "signal 9"
"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >"$T/verify.out" 2>&1
check audit_chain_intact_after_front_failures [ $? = 0 ]
daemon_stop
check sanitizers_found_nothing sh -c "! grep -q Sanitizer '$T/daemon.log'"

#!/bin/sh
# SPDX-License-Identifier: ISC
# What tapgated makes sure of before it touches its state: a state
# directory closed to others, one daemon per state directory (an exclusive
# lock taken before the database, the key or the socket), no second daemon
# on a socket that answers, and every file the configuration names present
# (trust roots, hooks), at --check-config and at start.  The console never
# creates a state it was only asked to read.
. tests/e2e/lib/daemon.sh
OFF="$BUILD/tapgatectl"
CA=$PWD/build/gen/softfido-ca.pem

make_config "$T/tapgate.conf"
# tapgated expected to refuse: its exit status, or 99 when it served
# instead (on a socket that was free; then it is stopped) or was still
# running after 5 s
run() {	# config state socket [args]
	cf=$1 st=$2 so=$3; shift 3
	probe=1
	[ -e "$so" ] && probe=0
	"$BUILD/tapgated" -c "$cf" --state-dir "$st" --socket "$so" "$@" \
	    2>"$T/run.log" &
	p=$!
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
		if [ $probe = 1 ] && curl -s --unix-socket "$so" \
		    http://tapgated/healthz >/dev/null 2>&1; then
			kill "$p"; wait "$p"; return 99
		fi
		sleep 0.05
		i=$((i + 1))
	done
	kill -0 "$p" 2>/dev/null && { kill "$p"; wait "$p"; return 99; }
	wait "$p"
}
# start_once state socket: start, wait until it serves (bounded), stop;
# its exit status (0: it served and stopped cleanly)
start_once() {
	"$BUILD/tapgated" -c "$T/tapgate.conf" --state-dir "$1" \
	    --socket "$2" 2>"$T/run.log" &
	p=$!
	i=0
	while [ $i -lt 100 ]; do
		curl -s --unix-socket "$2" http://tapgated/healthz \
		    >/dev/null 2>&1 && { kill "$p"; break; }
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	wait "$p"
}
nothing_made() {	# dir: no database, no key
	[ ! -e "$1/tapgate.db" ] && [ ! -e "$1/cosign.key.sealed" ]
}

# a state directory others may read or search
mkdir -m 755 "$T/open"
run "$T/tapgate.conf" "$T/open" "$T/open.sock"
rc=$?
check state_dir_open_to_others_is_refused sh -c "
    [ $rc -eq 1 ] && grep -q 'state directory $T/open has mode 0755: .*chmod 700 $T/open' $T/run.log"
check nothing_is_made_in_an_open_state_dir nothing_made "$T/open"
mkdir -m 701 "$T/search"
run "$T/tapgate.conf" "$T/search" "$T/search.sock"
check state_dir_searchable_by_others_is_refused \
    sh -c "[ $? -eq 1 ] && grep -q 'has mode 0701' $T/run.log"
chmod 700 "$T/open"
start_once "$T/open" "$T/open.sock"
check control_the_same_state_dir_closed_serves [ $? -eq 0 ]

# one daemon per state directory
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
FIRST=$DAEMON_PID
run "$T/tapgate.conf" "$T/state" "$T/second.sock"
rc=$?
check second_daemon_on_the_state_is_refused_naming_the_holder sh -c "
    [ $rc -eq 1 ] && grep -q 'state directory $T/state is in use by another tapgated (pid $FIRST ' $T/run.log"
curl -s --unix-socket "$T/api.sock" http://tapgated/healthz >/dev/null
check first_daemon_serves_on [ $? -eq 0 ]

# a socket a daemon answers on: refused before the key or the database
run "$T/tapgate.conf" "$T/other" "$T/api.sock"
rc=$?
check second_daemon_on_a_live_socket_is_refused sh -c "
    [ $rc -eq 1 ] && grep -q '$T/api.sock: a daemon answers on this socket' $T/run.log"
check nothing_is_made_before_the_socket_check nothing_made "$T/other"

# a daemon killed leaves its socket file: the next one replaces it
kill -9 "$FIRST"
wait "$FIRST" 2>/dev/null
DAEMON_PID=
check killed_daemon_leaves_a_stale_socket [ -S "$T/api.sock" ]
check daemon_starts_over_a_stale_socket daemon_start "$T/tapgate.conf"
daemon_stop

# the console never creates a state it was asked to read
$OFF audit verify --state-dir "$T/typo" >"$T/v.out" 2>"$T/v.err"
rc=$?
check audit_verify_of_a_missing_state_fails sh -c "
    [ $rc -ne 0 ] && grep -q 'no tapgate state there' $T/v.err && ! grep -q 'chain OK' $T/v.out"
check audit_verify_creates_nothing [ ! -e "$T/typo" ]
mkdir -m 700 "$T/empty"
$OFF audit verify --state-dir "$T/empty" >/dev/null 2>&1
check audit_verify_of_a_dir_without_database_fails \
    sh -c "[ $? -ne 0 ] && [ ! -e $T/empty/tapgate.db ]"
$OFF audit verify --state-dir "$T/state" >/dev/null 2>&1
check control_audit_verify_of_the_real_state_passes [ $? -eq 0 ]

# every file the configuration names, at --check-config and at start
"$BUILD/tapgated" --check-config -c "$T/tapgate.conf" >/dev/null 2>&1
check control_check_config_passes_with_its_files [ $? -eq 0 ]
sed "s|$CA|$T/missing-roots.pem|" "$T/tapgate.conf" >"$T/noroots.conf"
"$BUILD/tapgated" --check-config -c "$T/noroots.conf" >/dev/null 2>"$T/cc.err"
check check_config_names_a_missing_trust_roots_file sh -c "
    [ $? -eq 2 ] && grep -q 'approvers.trust_roots: $T/missing-roots.pem: No such file' $T/cc.err"
run "$T/noroots.conf" "$T/noroots" "$T/noroots.sock"
check start_names_a_missing_trust_roots_file sh -c "
    [ $? -eq 2 ] && grep -q 'approvers.trust_roots: $T/missing-roots.pem' $T/run.log && [ ! -e $T/noroots ]"
: >"$T/empty.pem"
"$BUILD/tapgated" --check-config -c "$T/tapgate.conf" \
    --trust-roots "$T/empty.pem" >/dev/null 2>"$T/cc.err"
check check_config_refuses_trust_roots_without_a_certificate sh -c "
    [ $? -eq 2 ] && grep -q '$T/empty.pem: no PEM certificate' $T/cc.err"
printf '#!/bin/sh\ncat >/dev/null\n' >"$T/hook.sh"
chmod 644 "$T/hook.sh"
sed -E "s|hooks = \[\];.*|hooks = [ \"$T/hook.sh\" ];|" "$T/tapgate.conf" >"$T/hook.conf"
"$BUILD/tapgated" --check-config -c "$T/hook.conf" >/dev/null 2>"$T/cc.err"
check check_config_names_a_hook_that_cannot_run sh -c "
    [ $? -eq 2 ] && grep -q 'notify.hooks: $T/hook.sh: not an executable file' $T/cc.err"
chmod 755 "$T/hook.sh"
"$BUILD/tapgated" --check-config -c "$T/hook.conf" >/dev/null 2>&1
check control_check_config_passes_with_an_executable_hook [ $? -eq 0 ]

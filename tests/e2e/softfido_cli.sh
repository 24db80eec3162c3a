#!/bin/sh
# SPDX-License-Identifier: ISC
# softfido as a program: start-up and arguments, the control socket and its
# client mode, the state file (kept, refused when damaged, never replaced),
# and a clean stop on SIGTERM.
set -u
BUILD=${BUILD:-build}
SF=$BUILD/softfido

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok $1"; }
notok() { echo "not ok $1${2:+: $2}"; }

if [ ! -x "$SF" ]; then
	notok softfido_is_built "$SF missing"
	exit 1
fi

# The socket path appears only once softfido listens on it; a stale one
# left by a killed softfido refuses connections until it is replaced, so
# wait for the control socket to answer too.
wait_ready() {	# socket, control socket
	i=0
	while [ ! -S "$1" ] ||
	    ! "$SF" --ctl "$2" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -gt 200 ] && return 1
		sleep 0.05
	done
	return 0
}

# start NAME [ARGS...]: softfido on $tmp/NAME.sock with $tmp/NAME.state;
# sets $pid; fails when it does not come up within 10 s.
start() {
	n=$1
	shift
	"$SF" --socket "$tmp/$n.sock" --state "$tmp/$n.state" "$@" \
	    2>"$tmp/$n.err" &
	pid=$!
	pids="$pids $pid"
	ctlpath=$tmp/$n.sock.ctl
	[ "${1:-}" = --control ] && ctlpath=$2
	wait_ready "$tmp/$n.sock" "$ctlpath"
}

# stop PID: SIGTERM and return its exit status.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

# ---- start, control, stop
start a
apid=$pid
if [ -S "$tmp/a.sock" ] && [ -S "$tmp/a.sock.ctl" ]; then
	ok starts_and_listens_on_socket_and_default_control_path
else
	notok starts_and_listens_on_socket_and_default_control_path \
	    "$(cat "$tmp/a.err")"
fi

if out=$("$SF" --ctl "$tmp/a.sock.ctl" status) &&
    [ "$out" = "ok button=auto faults=none up-timeout=30000" ]; then
	ok status_reports_defaults
else
	notok status_reports_defaults "$out"
fi

"$SF" --ctl "$tmp/a.sock.ctl" button delay:250 >/dev/null &&
"$SF" --ctl "$tmp/a.sock.ctl" fault no-up >/dev/null &&
"$SF" --ctl "$tmp/a.sock.ctl" fault wrong-rpid >/dev/null
out=$("$SF" --ctl "$tmp/a.sock.ctl" status)
if [ "$out" = "ok button=delay:250 faults=wrong-rpid,no-up up-timeout=30000" ]
then
	ok ctl_sets_button_and_adds_faults
else
	notok ctl_sets_button_and_adds_faults "$out"
fi

"$SF" --ctl "$tmp/a.sock.ctl" fault none >/dev/null
"$SF" --ctl "$tmp/a.sock.ctl" button never >/dev/null
out=$("$SF" --ctl "$tmp/a.sock.ctl" status)
if [ "$out" = "ok button=never faults=none up-timeout=30000" ]; then
	ok ctl_fault_none_clears_all
else
	notok ctl_fault_none_clears_all "$out"
fi

out=$("$SF" --ctl "$tmp/a.sock.ctl" frobnicate now)
rc=$?
case "$rc:$out" in
1:"error: unknown command 'frobnicate'"*)
	ok ctl_refuses_unknown_command ;;
*)	notok ctl_refuses_unknown_command "rc=$rc $out" ;;
esac

out=$("$SF" --ctl "$tmp/a.sock.ctl" button sometimes)
rc=$?
out2=$("$SF" --ctl "$tmp/a.sock.ctl" fault explode)
rc2=$?
out3=$("$SF" --ctl "$tmp/a.sock.ctl" button delay:12x)
rc3=$?
if [ "$rc" -eq 1 ] && [ "$rc2" -eq 1 ] && [ "$rc3" -eq 1 ] &&
    expr "$out" : "error: button mode 'sometimes'" >/dev/null &&
    expr "$out2" : "error: unknown fault 'explode'" >/dev/null &&
    [ "$("$SF" --ctl "$tmp/a.sock.ctl" status)" = \
    "ok button=never faults=none up-timeout=30000" ]; then
	ok ctl_refuses_bad_mode_and_fault_and_changes_nothing
else
	notok ctl_refuses_bad_mode_and_fault_and_changes_nothing \
	    "$rc $out / $rc2 $out2 / $rc3 $out3"
fi

long=$(printf '%0300d' 0)
out=$("$SF" --ctl "$tmp/a.sock.ctl" button "$long" 2>&1)
if [ $? -eq 1 ] && expr "$out" : "error: line too long" >/dev/null &&
    "$SF" --ctl "$tmp/a.sock.ctl" status >/dev/null; then
	ok ctl_refuses_over_long_line_and_keeps_serving
else
	notok ctl_refuses_over_long_line_and_keeps_serving "$out"
fi

"$SF" --socket "$tmp/a.sock" --state "$tmp/b2.state" 2>"$tmp/b2.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "another process serves" "$tmp/b2.err" &&
    "$SF" --ctl "$tmp/a.sock.ctl" status >/dev/null; then
	ok second_softfido_on_a_live_socket_is_refused
else
	notok second_softfido_on_a_live_socket_is_refused \
	    "rc=$rc $(cat "$tmp/b2.err")"
fi

mode=$(stat -c %a "$tmp/a.state")
magic=$(head -c 8 "$tmp/a.state")
if [ "$mode" = 600 ] && [ "$magic" = softfido ] &&
    [ ! -e "$tmp/a.state.tmp" ]; then
	ok state_file_is_private_with_header_and_no_leftover
else
	notok state_file_is_private_with_header_and_no_leftover \
	    "mode=$mode magic=$magic"
fi

stop "$apid"
rc=$?
if [ "$rc" -eq 0 ] && [ ! -e "$tmp/a.sock" ] && [ ! -e "$tmp/a.sock.ctl" ]
then
	ok sigterm_exits_0_and_removes_sockets
else
	notok sigterm_exits_0_and_removes_sockets "rc=$rc"
fi
if [ ! -s "$tmp/a.err" ]; then
	ok quiet_without_v
else
	notok quiet_without_v "$(head -3 "$tmp/a.err")"
fi

# ---- restart on the same state, also after a crash left a stale socket
cp "$tmp/a.state" "$tmp/a.state.first"
if start a; then
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	if [ -S "$tmp/a.sock" ] && start a &&
	    "$SF" --ctl "$tmp/a.sock.ctl" status >/dev/null; then
		ok restarts_on_its_state_and_replaces_a_stale_socket
	else
		notok restarts_on_its_state_and_replaces_a_stale_socket \
		    "$(cat "$tmp/a.err")"
	fi
	stop "$pid"
else
	notok restarts_on_its_state_and_replaces_a_stale_socket \
	    "$(cat "$tmp/a.err")"
fi

# ---- damaged state files are refused, named, and left alone
# refused NAME: softfido must exit 1 at once, name the file, say why
# (the grep pattern $2), create no socket and leave the file unchanged.
refused() {
	cp "$tmp/$1.state" "$tmp/$1.before"
	"$SF" --socket "$tmp/$1.sock" --state "$tmp/$1.state" \
	    2>"$tmp/$1.err" &
	p=$!
	pids="$pids $p"
	i=0
	while kill -0 "$p" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 200 ]; then
			notok "$1" "still running"
			return
		fi
		sleep 0.05
	done
	wait "$p"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -qF "$tmp/$1.state" "$tmp/$1.err" &&
	    grep -q "$2" "$tmp/$1.err" && grep -q "not starting" "$tmp/$1.err" &&
	    [ ! -e "$tmp/$1.sock" ] && cmp -s "$tmp/$1.state" "$tmp/$1.before"
	then
		ok "$1"
	else
		notok "$1" "rc=$rc $(cat "$tmp/$1.err")"
	fi
}

good=$tmp/a.state.first
size=$(wc -c <"$good")

cp "$good" "$tmp/corrupt_state_is_refused.state"
# flip one byte of the blob, whatever it was
b=$(od -An -tu1 -j 200 -N 1 "$good" | tr -d ' ')
printf '%b' "\\0$(printf '%03o' $(((b + 1) % 256)))" |
    dd of="$tmp/corrupt_state_is_refused.state" bs=1 seek=200 conv=notrunc \
    2>/dev/null
refused corrupt_state_is_refused "checksum"

head -c $((size - 1)) "$good" >"$tmp/truncated_state_is_refused.state"
refused truncated_state_is_refused "truncated or trailing"

{ cat "$good"; printf x; } >"$tmp/state_with_trailing_data_is_refused.state"
refused state_with_trailing_data_is_refused "truncated or trailing"

head -c 20 "$good" >"$tmp/state_with_short_header_is_refused.state"
refused state_with_short_header_is_refused "truncated header"

cp "$good" "$tmp/foreign_file_is_refused.state"
printf 'notsoft!' | dd of="$tmp/foreign_file_is_refused.state" bs=1 \
    conv=notrunc 2>/dev/null
refused foreign_file_is_refused "not a softfido state file"

: >"$tmp/empty_state_is_refused.state"
refused empty_state_is_refused "truncated header"

cp "$good" "$tmp/state_of_other_length_is_refused.state"
# blob length field (bytes 12..15) one larger than this build's state
len=$(od -An -tu1 -j 15 -N 1 "$good" | tr -d ' ')
printf '%b' "\\0$(printf '%03o' $(((len + 1) % 256)))" |
    dd of="$tmp/state_of_other_length_is_refused.state" bs=1 seek=15 \
    conv=notrunc 2>/dev/null
refused state_of_other_length_is_refused "byte state"

# ---- first boot where the state cannot be written
"$SF" --socket "$tmp/n.sock" --state "$tmp/nodir/n.state" 2>"$tmp/n.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qF "$tmp/nodir/n.state" "$tmp/n.err" &&
    [ ! -e "$tmp/n.sock" ]; then
	ok unwritable_state_stops_start
else
	notok unwritable_state_stops_start "rc=$rc $(cat "$tmp/n.err")"
fi

# ---- arguments
args_refused() {	# name, grep pattern, args...
	n=$1 pat=$2
	shift 2
	"$SF" "$@" >"$tmp/args.out" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q -- "$pat" "$tmp/args.out"; then
		ok "$n"
	else
		notok "$n" "rc=$rc $(head -2 "$tmp/args.out")"
	fi
}
args_refused missing_state_is_refused "state FILE is required" \
    --socket "$tmp/x.sock"
args_refused missing_socket_is_refused "socket PATH is required" \
    --state "$tmp/x.state"
args_refused bad_button_is_refused "button 'sometimes'" \
    --socket "$tmp/x.sock" --state "$tmp/x.state" --button sometimes
args_refused bad_fault_is_refused "fault 'explode'" \
    --socket "$tmp/x.sock" --state "$tmp/x.state" --fault explode
args_refused bad_up_timeout_is_refused "up-timeout '-5'" \
    --socket "$tmp/x.sock" --state "$tmp/x.state" --up-timeout -5
args_refused unknown_option_is_refused "unknown option '--frob'" \
    --socket "$tmp/x.sock" --state "$tmp/x.state" --frob
args_refused missing_option_argument_is_refused "needs an argument" \
    --socket
args_refused ctl_with_server_options_is_refused "takes no other" \
    --ctl "$tmp/x.ctl" --socket "$tmp/x.sock" status
args_refused ctl_without_command_is_refused "needs a command" \
    --ctl "$tmp/x.ctl"
if [ ! -e "$tmp/x.state" ] && [ ! -e "$tmp/x.sock" ]; then
	ok refused_arguments_touch_nothing
else
	notok refused_arguments_touch_nothing
fi

# ---- settings given at start
if start c --control "$tmp/c.control" --button refuse \
    --fault bad-signature --fault no-uv --up-timeout 1500; then
	out=$("$SF" --ctl "$tmp/c.control" status)
	if [ "$out" = \
	    "ok button=refuse faults=bad-signature,no-uv up-timeout=1500" ]
	then
		ok start_flags_set_button_faults_timeout_and_control_path
	else
		notok start_flags_set_button_faults_timeout_and_control_path \
		    "$out"
	fi
	stop "$pid"
	if [ ! -e "$tmp/c.control" ]; then
		ok explicit_control_socket_removed_at_exit
	else
		notok explicit_control_socket_removed_at_exit
	fi
else
	notok start_flags_set_button_faults_timeout_and_control_path \
	    "$(cat "$tmp/c.err")"
fi

out=$("$SF" --ctl "$tmp/nobody.ctl" status 2>&1)
if [ $? -eq 1 ] && expr "$out" : ".*cannot connect" >/dev/null; then
	ok ctl_client_without_softfido_fails
else
	notok ctl_client_without_softfido_fails "$out"
fi

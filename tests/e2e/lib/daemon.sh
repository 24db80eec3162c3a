# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Shared by the end-to-end shell tests of tapgated: a scratch directory, a
# daemon on a private socket, an HTTP client, and TAP-style results.
# Source it; it sets T (scratch dir) and removes it on exit (KEEP_T=1
# keeps it, to look into a failure).
#
# Every helper is bounded in time: a daemon that hangs or dies makes the
# checks that need it fail or time out, never pass and never hang.
#
#   ok NAME / notok NAME [WHY...]	one result line
#   skip NAME WHY...		"ok NAME # SKIP WHY": a counted skip, for a
#				check the machine cannot run (say why)
#   check NAME COMMAND...	ok when COMMAND succeeds
#   unchanged BEFORE AFTER	true when BEFORE is not empty and equals
#				AFTER: a "nothing changed" comparison that a
#				failed measurement cannot pass
#   wait_for SECONDS COMMAND...	poll (every 0.05 s) until COMMAND succeeds;
#				false when it never did within SECONDS
#   alive PID			the process exists and is no zombie
#   kill_pid NAME SIGNAL PID	kill -SIGNAL PID; an empty PID or a failed
#				kill is reported as "not ok NAME" and returns
#				1 (never "kill ... 0", the process group)
#   wait_exit PID [SECONDS]	wait, at most SECONDS (default 10), for a
#				process to end by itself; its status, or
#				124 (after SIGKILL, reported as not ok)
#   make_config OUT [SED...]	a configuration with short holds
#   daemon_start CONFIG [ARGS]	tapgated on $T/api.sock; sets DAEMON_PID
#   daemon_stop			SIGTERM; it must exit 0 within 30 s with no
#				sanitizer report
#   api METHOD PATH [BODY [CURL-ARGS...]]
#				HTTP status in $STATUS, body in $T/body;
#				000 and an empty body when nothing answered
#				(API_TIMEOUT seconds at most, default 60)
#   api_as UID METHOD PATH [BODY]	the same, as another user
#   jbody JQ-FILTER		the filter over $T/body
#   jqtrue [JQ-ARGS...] FILTER FILE
#				true when the filter gives exactly "true" on
#				FILE (not jq -e: jq 1.6, Debian 12's, exits
#				0 on an empty file, so a failed read passed)
#   answered WANT FILTER [JQ-ARGS...]
#				$STATUS is WANT and jqtrue FILTER $T/body
#   status_is WANT METHOD PATH [BODY]
#				api, then true when $STATUS is WANT
#   request_in_state ID STATE	GET /v1/requests/ID answers 200 with that
#				state (for wait_for: a hold running out)
#   req ..., ev ...		request and evidence bodies; changes_of QUEUE,
#				a queue's plain "changes"
#   check_confined WHO PID BYTES	marks of a confined process
#   landlock_probe		what test_sandbox says of Landlock here

BUILD=${BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-e2e.XXXXXX")
chmod 755 "$T"
DAEMON_PID=
trap 'daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
# tests/run.sh's timeout (SIGTERM): the EXIT trap still cleans up
trap 'exit 143' TERM
trap 'exit 130' INT

ok() { echo "ok $1"; }
notok() { echo "not ok $1"; shift; [ $# -gt 0 ] && echo "#   $*"; return 0; }
skip() { sk_n=$1; shift; echo "ok $sk_n # SKIP $*"; }
# check NAME COMMAND...: ok when COMMAND succeeds
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else notok "$name" "failed: $*"; fi
}
unchanged() {
	if [ -z "$1" ]; then
		echo "#   nothing was measured before: no comparison"
		return 1
	fi
	[ "$1" = "$2" ] || { echo "#   before '$1', after '$2'"; return 1; }
}
wait_for() {
	wf_end=$(($(date +%s) + $1)); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$wf_end" ] || return 1
		sleep 0.05
	done
}
alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
kill_pid() {
	case $3 in
	''|*[!0-9]*|0)
		notok "$1" "no process to send SIG$2 to (pid '$3')"
		return 1 ;;
	esac
	kill -"$2" "$3" 2>/dev/null && return 0
	notok "$1" "kill -$2 $3 failed: no such process"
	return 1
}
# proc_status PID FIELD / proc_limit PID LIMIT: from /proc/PID/status, limits
proc_status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
proc_limit() { sed -n "s/^$2  *\([0-9a-z]*\) .*/\1/p" "/proc/$1/limits"; }

# check_confined WHO PID BYTES: marks of a confined process:
# a seccomp filter, no new privileges, no core dumps and (not in ASan
# builds, where the shadow memory needs the address space) RLIMIT_AS.
check_confined() {
	check "$1"_runs_under_a_seccomp_filter \
	    [ "$(proc_status "$2" Seccomp)" = 2 ]
	check "$1"_has_no_new_privileges [ "$(proc_status "$2" NoNewPrivs)" = 1 ]
	check "$1"_dumps_no_core [ "$(proc_limit "$2" 'Max core file size')" = 0 ]
	if nm "$BUILD/tapgated" 2>/dev/null | grep -q ' __asan_init$'; then
		echo "ok $1_address_space_is_limited # SKIP ASan build: no" \
		    "RLIMIT_AS next to ASan's shadow memory"
	else
		check "$1"_address_space_is_limited \
		    [ "$(proc_limit "$2" 'Max address space')" = "$3" ]
	fi
}

# wait_exit PID [SECONDS]: a process that ends by itself, such as a daemon
# stopping on a child's failure.  Returns its status as wait does (128 + N
# for signal N; 127 when it is not this shell's child).  One still running
# after SECONDS is killed (SIGKILL) and reported, and 124 is returned.
wait_exit() {
	we_pid=$1 we_end=$(($(date +%s) + ${2:-10}))
	case $we_pid in
	''|*[!0-9]*|0)
		notok wait_exit_has_a_process "no pid ('$we_pid') to wait for"
		return 127 ;;
	esac
	while alive "$we_pid"; do
		if [ "$(date +%s)" -ge "$we_end" ]; then
			notok "process_${we_pid}_ends_within_${2:-10}s" "$(tr \
			    '\0' ' ' <"/proc/$we_pid/cmdline" 2>/dev/null)" \
			    "still runs: killed"
			kill -KILL "$we_pid" 2>/dev/null
			wait "$we_pid" 2>/dev/null
			return 124
		fi
		sleep 0.05
	done
	wait "$we_pid" 2>/dev/null
}

# A configuration derived from the default: short holds so tests can watch
# them end, softfido's attestation CA as trust roots, the standard
# accounts the tests submit named as such (without a directory, an
# account no class names is admin), and whatever sed expressions the
# caller adds.  The shipped minimum of appliance-verified evidence for
# shared, finance and admin accounts, and the manual route's identity
# proofing by an officer, are lowered to none unless TEST_VERIFIED=keep:
# those tests are about approvals, holds, orders and the rest, and
# submit typed evidence; the challenge and proofing tests keep them.
TEST_STANDARD='"alice", "bob", "carol", "carl", "dave", "erin", "gina", "hank", "ivan",
	"fred", "judy", "lena", "mike", "mike2", "victim", "a", "warm-up",
	"after-full"'
make_config() {	# out [sed-expr...]
	out=$1; shift
	cp config/tapgate.conf "$out"
	sed -i -E "s/^classes = \{$/&\n    standard = { accounts = [ $(echo \
	    "$TEST_STANDARD" | tr -s ' \n' ' ') ]; };/" "$out"
	[ "${TEST_VERIFIED:-}" = keep ] ||
		sed -i -E -e 's/min_verified = [0-9]+; min_verified_types = [0-9]+;/min_verified = 0; min_verified_types = 0;/' \
		    -e 's/identity_proofing = true;/identity_proofing = false;/' "$out"
	sed -i -E 's/hold_seconds = [0-9]+;/hold_seconds = 2;/' "$out"
	sed -i -E 's/extra_hold_seconds = [0-9]+;/extra_hold_seconds = 1;/' "$out"
	sed -i -E 's/restart_veto_seconds = [0-9]+;/restart_veto_seconds = 2;/' "$out"
	# the daemon refuses to start without its trust roots file
	sed -i -E "s|trust_roots = \"[^\"]*\";|trust_roots = \"$PWD/build/gen/softfido-ca.pem\";|" "$out"
	# who is asking: root files for the agents the tests name, and
	# uid 65534 is hd-bob of the helpdesk team
	sed -i -E 's/^(      agents = )\[ "hd-bob" \];/\1[ "hd-bob", "officer-ann" ];/' "$out"
	sed -i -E 's/^(teams = \()$/\1\n    { name = "helpdesk"; },/' "$out"
	sed -i -E 's/^(principals = \()$/\1\n    { uid = 65534; name = "hd-bob"; team = "helpdesk"; },/' "$out"
	for e in "$@"; do sed -i -E "$e" "$out"; done
}

# daemon_start CONFIG [ARGS]: true once /healthz answers (10 s at most).
# The socket is open to every local uid (the daemon's own default is
# 0660), so that tests can call as users without a role; a later
# --socket-mode in ARGS wins.
daemon_start() {
	cfg=$1; shift
	"$BUILD/tapgated" -c "$cfg" --state-dir "$T/state" \
	    --socket "$T/api.sock" --socket-mode 0666 "$@" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	ds_end=$(($(date +%s) + 10))
	while [ "$(date +%s)" -lt "$ds_end" ]; do
		curl -s --max-time 2 --unix-socket "$T/api.sock" \
		    http://tapgated/healthz >/dev/null 2>&1 && return 0
		alive "$DAEMON_PID" || break
		sleep 0.05
	done
	echo "# tapgated did not start:"; sed 's/^/#   /' "$T/daemon.log"
	return 1
}

# Stop the daemon; it must exit 0 within 30 s and its log must hold no
# sanitizer report (a leak or an error in the daemon fails the test that
# ran it).
daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	wait_exit "$DAEMON_PID" 30
	rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 0 ] ||
	    grep -q 'Sanitizer' "$T/daemon.log" 2>/dev/null; then
		echo "not ok daemon_exits_cleanly (status $rc)"
		grep -A20 'Sanitizer' "$T/daemon.log" 2>/dev/null |
		    sed 's/^/#   /' | head -40
	fi
}

# api METHOD PATH [BODY [curl args...]]: status in $STATUS, body in $T/body
# (000 and an empty body when the daemon does not answer at all)
api() {
	m=$1 p=$2; shift 2
	: >"$T/body"
	if [ $# -gt 0 ]; then
		b=$1; shift
		set -- -H 'Content-Type: application/json' \
		    --data-binary "$b" "$@"
	fi
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' \
	    --max-time "${API_TIMEOUT:-60}" --unix-socket "$T/api.sock" \
	    -X "$m" "$@" "http://tapgated$p")
	[ -n "$STATUS" ] || STATUS=000
}

# api_as UID METHOD PATH [BODY]: the same, as another user (whose curl
# cannot write into $T: the body comes through a pipe)
api_as() {
	u=$1; shift
	m=$1 p=$2; shift 2
	: >"$T/body"
	STATUS=$(setpriv --reuid="$u" --regid="$u" --clear-groups \
	    curl -s -o - -w '\n%{http_code}' --max-time "${API_TIMEOUT:-60}" \
	    --unix-socket "$T/api.sock" \
	    -X "$m" -H 'Content-Type: application/json' \
	    ${1:+--data-binary "$1"} "http://tapgated$p" | tee "$T/body.as" |
	    tail -n 1)
	case $STATUS in
	''|000) STATUS=000 ;;
	*) sed '$d' "$T/body.as" >"$T/body" ;;
	esac
}

jbody() { jq -r "$1" "$T/body"; }
jqtrue() { [ "$(jq "$@" 2>/dev/null)" = true ]; }
answered() {
	an_want=$1 an_filter=$2; shift 2
	[ "$STATUS" = "$an_want" ] && jqtrue "$@" "$an_filter" "$T/body"
}
status_is() { si_want=$1; shift; api "$@"; [ "$STATUS" = "$si_want" ]; }
request_in_state() {
	api GET "/v1/requests/$1"
	[ "$STATUS" = 200 ] && [ "$(jbody .state)" = "$2" ]
}

# landlock_probe: "yes" where test_sandbox confined a process with
# Landlock, "no: WHY" where it skipped that for want of Landlock, and
# "unknown: WHY" otherwise (test_sandbox missing or failing: a failure of
# the caller's check, never a skip)
landlock_probe() {
	lp_t=$BUILD/tests/test_sandbox
	[ -x "$lp_t" ] || { echo "unknown: $lp_t is not built"; return; }
	lp_l=$("$lp_t" 2>/dev/null |
	    grep -E '^(not )?ok token_role_cannot_open_the_key_file( |$)')
	case $lp_l in
	'ok token_role_cannot_open_the_key_file') echo yes ;;
	'ok token_role_cannot_open_the_key_file # SKIP '*)
		echo "no: ${lp_l#*# SKIP }" ;;
	'') echo "unknown: $lp_t reported no" \
	    "token_role_cannot_open_the_key_file" ;;
	*) echo "unknown: $lp_t says: $lp_l" ;;
	esac
}

# The plain "changes" of each queue's vocabulary (src/order/vocab.h)
changes_of() {
	case $1 in
	password_reset)
		echo '{"password":"reset","force_change_at_logon":true}' ;;
	mfa_reset) echo '{"mfa":"reset","reenrolment_required":true}' ;;
	reactivation) echo '{"account":"enable"}' ;;
	privilege_change)
		echo '{"add_groups":["cn=vpn-users,ou=groups,dc=corp,dc=test"]}' ;;
	transaction_approval)
		printf '%s%s\n' '{"transaction_id":"TX-1","amount":"1200.00",' \
		    '"currency":"EUR","payee":"ACME Supplies Ltd"}' ;;
	*) echo '{}' ;;
	esac
}

# A request body: queue account class agent channel evidence-json [extra]
# (extra without "changes": the queue's plain changes are added)
req() {
	printf '{"queue":"%s","target":{"account":"%s","system":"ldap-corp"%s},' \
	    "$1" "$2" "${3:+,\"class\":\"$3\"}"
	printf '"requester":{"agent":"%s","channel":"%s","ticket":"INC-1"},' \
	    "$4" "$5"
	case ${7:-} in
	*'"changes"'*) printf '"evidence":%s%s}' "$6" "$7" ;;
	*) printf '"evidence":%s%s,"changes":%s}' "$6" "${7:-}" \
	    "$(changes_of "$1")" ;;
	esac
}

# An evidence item: type result verifier channel ref
ev() {
	printf '{"type":"%s","result":"%s","verifier":"%s","channel":"%s","ref":"%s"}' \
	    "$1" "$2" "$3" "$4" "$5"
}

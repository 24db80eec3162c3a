# SPDX-License-Identifier: ISC
# Shared by the end-to-end shell tests of tapgated: a scratch directory, a
# daemon on a private socket, an HTTP client, and TAP-style results.
# Source it; it sets T (scratch dir) and removes it on exit.

BUILD=${BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-e2e.XXXXXX")
chmod 755 "$T"
DAEMON_PID=
trap 'daemon_stop; rm -rf "$T"' EXIT

ok() { echo "ok $1"; }
notok() { echo "not ok $1"; shift; [ $# -gt 0 ] && echo "#   $*"; }
# check NAME COMMAND...: ok when COMMAND succeeds
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else notok "$name" "failed: $*"; fi
}

# proc_status PID FIELD / proc_limit PID LIMIT: from /proc/PID/status, limits
proc_status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
proc_limit() { sed -n "s/^$2  *\([0-9a-z]*\) .*/\1/p" "/proc/$1/limits"; }

# check_confined WHO PID BYTES: the marks of a process src/sandbox confined:
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

# A configuration derived from the default: short holds so tests can watch
# them end, softfido's attestation CA as trust roots, and whatever sed
# expressions the caller adds.
make_config() {	# out [sed-expr...]
	out=$1; shift
	cp config/tapgate.conf "$out"
	sed -i -E 's/hold_seconds = [0-9]+;/hold_seconds = 2;/' "$out"
	sed -i -E 's/extra_hold_seconds = [0-9]+;/extra_hold_seconds = 1;/' "$out"
	sed -i -E 's/restart_veto_seconds = [0-9]+;/restart_veto_seconds = 2;/' "$out"
	# the daemon refuses to start without its trust roots file
	sed -i -E "s|trust_roots = \"[^\"]*\";|trust_roots = \"$PWD/build/gen/softfido-ca.pem\";|" "$out"
	for e in "$@"; do sed -i -E "$e" "$out"; done
}

# The socket is open to every local uid (the daemon's own default is
# 0660), so that tests can call as users without a role; a later
# --socket-mode in the extra args wins.
daemon_start() {	# config [extra args]
	cfg=$1; shift
	"$BUILD/tapgated" -c "$cfg" --state-dir "$T/state" \
	    --socket "$T/api.sock" --socket-mode 0666 "$@" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		curl -s --unix-socket "$T/api.sock" http://tapgated/healthz \
		    >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	echo "# tapgated did not start:"; sed 's/^/#   /' "$T/daemon.log"
	return 1
}

# Stop the daemon; it must exit 0 and its log must hold no sanitizer
# report (a leak or an error in the daemon fails the test that ran it).
daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 0 ] || grep -q 'Sanitizer' "$T/daemon.log" 2>/dev/null; then
		echo "not ok daemon_exits_cleanly (status $rc)"
		grep -A20 'Sanitizer' "$T/daemon.log" 2>/dev/null | sed 's/^/#   /' | head -40
	fi
}

# wait_exit PID: wait (at most 10 s) for a process that ends by itself,
# such as a daemon stopping on a child's failure; returns its status
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	wait "$1" 2>/dev/null
}

# api METHOD PATH [BODY [curl args...]]: status in $STATUS, body in $T/body
api() {
	m=$1 p=$2; shift 2
	if [ $# -gt 0 ]; then
		b=$1; shift
		STATUS=$(curl -s -o "$T/body" -w '%{http_code}' \
		    --unix-socket "$T/api.sock" -X "$m" \
		    -H 'Content-Type: application/json' --data-binary "$b" \
		    "$@" "http://tapgated$p")
	else
		STATUS=$(curl -s -o "$T/body" -w '%{http_code}' \
		    --unix-socket "$T/api.sock" -X "$m" "http://tapgated$p")
	fi
}

# api_as UID METHOD PATH [BODY]: the same, as another user
api_as() {
	u=$1; shift
	m=$1 p=$2; shift 2
	STATUS=$(setpriv --reuid="$u" --regid="$u" --clear-groups \
	    curl -s -o - -w '\n%{http_code}' --unix-socket "$T/api.sock" \
	    -X "$m" -H 'Content-Type: application/json' \
	    ${1:+--data-binary "$1"} "http://tapgated$p" | tee "$T/body.as" |
	    tail -n 1)
	sed '$d' "$T/body.as" >"$T/body"
}

jbody() { jq -r "$1" "$T/body"; }

# A request body: queue account class agent channel evidence-json [extra]
req() {
	printf '{"queue":"%s","target":{"account":"%s","system":"ldap-corp"%s},' \
	    "$1" "$2" "${3:+,\"class\":\"$3\"}"
	printf '"requester":{"agent":"%s","channel":"%s","ticket":"INC-1"},' \
	    "$4" "$5"
	printf '"evidence":%s%s}' "$6" "${7:-}"
}

# An evidence item: type result verifier channel ref
ev() {
	printf '{"type":"%s","result":"%s","verifier":"%s","channel":"%s","ref":"%s"}' \
	    "$1" "$2" "$3" "$4" "$5"
}

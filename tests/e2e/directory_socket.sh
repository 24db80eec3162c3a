#!/bin/sh
# SPDX-License-Identifier: ISC
# The directory process in a unit of its own (directory.socket): the
# daemon connects to a socket where each connection is a new directory
# process (systemd-socket-activate --accept stands in for
# tapgated-directory.socket), so the confined monitor has no network and
# still gets a new directory process after one dies.  Killed while idle:
# the next submission connects again and is answered, the daemon runs
# on.  Stalled mid-answer (SIGSTOP): that submission gets its budget and
# 503 with nothing stored, the daemon serves its other routes meanwhile
# and closes that connection (the process ends when it reads again), and
# the next submission is answered by a new one.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
SA=
BG=
trap '[ -n "$BG" ] && kill "$BG" 2>/dev/null; daemon_stop;
    [ -n "$SA" ] && kill "$SA" 2>/dev/null; ldap_stop;
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example

if ! ldap_have_directory; then
	echo "ok directory_socket # SKIP slapd, ldap-utils or the memberof" \
	    "or ppolicy module missing (make deps)"
	exit 0
fi
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "ok directory_socket # SKIP no systemd-socket-activate" \
	    "(Debian package systemd)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"

# the directory's unit: one process per connection, fd 3 the connection
systemd-socket-activate --accept -l "$T/dir.sock" \
    -E ASAN_OPTIONS="${ASAN_OPTIONS:-}" -E UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    "$PWD/$BUILD/tapgated" --directory-process 3 2>>"$T/dirunit.log" &
SA=$!
wait_for 10 test -S "$T/dir.sock" || { notok directory_unit_listens; exit 1; }

make_config "$T/d.conf"
cat >>"$T/d.conf" <<EOF
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 1;
	socket = "$T/dir.sock";
};
EOF
E=$(ev pre_registered_factor pass hd-amy push P-1)
body() { req password_reset "$1" "" hd-bob phone "[$E]"; }
db_count() {
	sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM requests"
}
unitpid() { pgrep -P "$SA" -f -- '--directory-process 3' | head -n 1; }

daemon_start "$T/d.conf" || exit 1
check daemon_starts_no_directory_child [ -z "$(pgrep -P "$DAEMON_PID" -f \
    -- --directory-process)" ]
api POST /v1/requests "$(body alice)"
check unit_process_answers answered 201 '.id != null'
api GET "/v1/requests/$(jbody .id)"
check unit_process_gives_the_dn answered 200 \
    '.request.target.dn == "uid=alice,ou=people,'"$S"'"'
P1=$(unitpid)
check unit_process_runs_under_a_seccomp_filter \
    [ "$(proc_status "$P1" Seccomp)" = 2 ]

# ---- killed while idle: the next submission gets a new one
kill_pid unit_process_is_killed KILL "$P1"
wait_for 10 sh -c "! kill -0 $P1 2>/dev/null" ||
    notok unit_process_ends "$P1 still there"
api POST /v1/requests "$(body carol)"
check submission_after_a_killed_unit_process_is_answered answered 201 \
    '.id != null'
P2=$(unitpid)
if [ -n "$P2" ] && [ "$P2" != "$P1" ]; then
	ok a_new_unit_process_answers
else
	notok a_new_unit_process_answers "before $P1, after '$P2'"
fi
check daemon_runs_on_after_a_killed_unit_process alive "$DAEMON_PID"

# ---- stalled mid-answer: 503 and nothing stored, others served
N=$(db_count)
kill_pid unit_process_is_stopped STOP "$P2"
curl -s -o "$T/stall.body" -w '%{http_code}' --max-time 30 \
    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
    --data-binary "$(body alice)" http://tapgated/v1/requests \
    >"$T/stall.status" &
BG=$!
api GET /healthz
check daemon_serves_health_beside_a_stalled_unit_process [ "$STATUS" = 200 ]
check submission_waits_for_the_stalled_unit_process alive "$BG"
wait "$BG"
BG=
check stalled_unit_process_submission_is_503 \
    [ "$(cat "$T/stall.status")" = 503 ]
check stalled_unit_process_answer_says_why jqtrue \
    '.error.code == "directory_unavailable" and (.error.message |
    contains("silent past its budget"))' "$T/stall.body"
check stalled_unit_process_stored_nothing unchanged "$N" "$(db_count)"
api POST /v1/requests "$(body carol)"
check submission_after_a_stalled_unit_process_is_answered answered 201 \
    '.id != null'
check daemon_runs_on_after_a_stalled_unit_process alive "$DAEMON_PID"
audited() {	# LIKE pattern of directory.exited details: count
	sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM audit WHERE
	    event = 'directory.exited' AND details LIKE '$1'"
}
audited_once() { [ "$(audited "$1")" = 1 ]; }
check killed_unit_process_is_audited wait_for 5 \
    audited_once '%ended while idle%'
check stalled_unit_process_is_audited wait_for 5 \
    audited_once '%silent past its budget%'
check listener_survives_the_lost_processes alive "$SA"
# the stalled one, let go, finds its connection closed and ends
kill -CONT "$P2" 2>/dev/null
check stalled_unit_process_ends_on_its_closed_connection wait_for 10 \
    sh -c "! kill -0 $P2 2>/dev/null || grep -q '^State:.*Z' /proc/$P2/status"
daemon_stop
check unit_processes_leave_no_sanitizer_report \
    sh -c "! grep -q Sanitizer '$T/dirunit.log'"

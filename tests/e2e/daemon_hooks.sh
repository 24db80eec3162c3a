#!/bin/sh
# SPDX-License-Identifier: ISC
# Notification hooks: each event reaches the hook programs as JSON on
# stdin; a slow hook is killed after its timeout and audited, a failing one
# is audited, and neither blocks the daemon.  A hook that leaves a process
# behind (a mailer's background delivery; the first run of record.sh here)
# hands it nothing of the runner's but its standard streams: not the
# runner's channel to the daemon, which would keep a dead runner unnoticed.
. tests/e2e/lib/daemon.sh
cat >"$T/record.sh" <<EOS
#!/bin/sh
cat >>"$T/events"
echo >>"$T/events"
if [ ! -e "$T/background.pid" ]; then
	sleep 30 </dev/null >/dev/null 2>&1 &
	echo \$! >"$T/background.pid"
fi
EOS
cat >"$T/slow.sh" <<'EOS'
#!/bin/sh
exec sleep 30
EOS
cat >"$T/fail.sh" <<'EOS'
#!/bin/sh
exit 7
EOS
chmod 755 "$T/record.sh" "$T/slow.sh" "$T/fail.sh"
make_config "$T/tapgate.conf" \
    "s|hooks = \[\];.*|hooks = [ \"$T/record.sh\", \"$T/slow.sh\", \"$T/fail.sh\" ];|" \
    's/timeout_ms = [0-9]+;/timeout_ms = 300;/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts_with_hooks; exit 1; }

OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
api POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$OOB]")"
ID=$(jbody .id)
check submit_is_not_held_up_by_a_slow_hook [ "$STATUS" = 201 ]
api GET /healthz
check daemon_answers_while_hooks_run [ "$STATUS" = 200 ]

# The request's whole life is five events (created, hold started, the veto
# window closing, ready after the 2 s hold, its order issued), each through
# the three hooks; then the daemon has nothing more to tell them.  Wait for
# all five, so that the counts below cannot move while they are read.
EVENTS='["request.created", "hold.started", "veto_window.closing",
    "request.ready", "order.issued"]'
hook_failures() {
	sqlite3 "$T/state/tapgate.db" \
	    "SELECT count(*) FROM audit WHERE event='hook.failed'" 2>/dev/null
}
all_events_ran() {
	# shellcheck disable=SC2016 # $e is a jq variable
	[ "$(hook_failures)" = 10 ] && jqtrue -s --argjson e "$EVENTS" \
	    '[.[].event] | sort == ($e | sort)' "$T/events"
}
check hooks_hear_the_five_events_of_the_request wait_for 20 all_events_ran
# shellcheck disable=SC2016 # $id: jq variable
check hook_receives_request_created_as_json jqtrue -s --arg id "$ID" \
    'any(.[]; .event == "request.created" and .request_id == $id and
    .target.account == "alice")' "$T/events"
check hook_receives_hold_started_with_its_end jqtrue -s \
    'any(.[]; .event == "hold.started" and .hold_until > 0)' "$T/events"
"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json >"$T/audit.json"
# failed OUTCOME PROGRAM [jq condition]: each of the five events exactly
# once among the hook.failed entries with that outcome, all of PROGRAM
failed() {
	jqtrue --argjson e "$EVENTS" --arg o "$1" --arg p "$2" \
	    "[.entries[] | select(.event == \"hook.failed\" and
	    .details.outcome == \$o)] | all(.details.program | endswith(\$p))
	    and ([.[] | select(${3:-true}) | .details.event] | sort ==
	    (\$e | sort))" "$T/audit.json"
}
check slow_hook_is_killed_and_audited_once_per_event \
    failed timed_out slow.sh
check failing_hook_is_audited_with_its_status_once_per_event \
    failed failed fail.sh '.details.status == 7'
only_stdio() {	# pid: its descriptors are 0, 1 and 2
	[ -n "$1" ] || return 1
	fds=
	for fd in "/proc/$1/fd"/*; do	# in the glob's order: 0 1 2 ...
		[ -L "$fd" ] && fds="$fds${fd##*/} "
	done
	[ "$fds" = '0 1 2 ' ] && return 0
	# shellcheck disable=SC2012 # shown as it is, not parsed
	ls -l "/proc/$1/fd" | sed 's/^/#   /'
	return 1
}
BG=$(cat "$T/background.pid" 2>/dev/null)
check process_a_hook_leaves_behind_holds_only_its_standard_streams \
    only_stdio "$BG"
check recording_hook_is_not_audited_as_failed jqtrue \
    '(.entries | length > 0) and ([.entries[] | select(.event ==
    "hook.failed" and (.details.program | endswith("record.sh")))] |
    length == 0)' "$T/audit.json"
api GET /metrics
check metrics_count_hook_outcomes sh -c "[ $STATUS = 200 ] &&
    grep -q '^tapgate_hook_runs_total{outcome=\"timed_out\"} 5$' $T/body &&
    grep -q '^tapgate_hook_runs_total{outcome=\"failed\"} 5$' $T/body"
"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >/dev/null
check audit_chain_with_hook_entries_verifies [ $? -eq 0 ]

# A stalled hook runner (stopped: its socket fills) costs events, which
# are audited as dropped; it never blocks the daemon, which reports a drop
# itself while it holds its lock.
HP=$(pgrep -P "$DAEMON_PID" -f -- '--hook-process' | head -n 1)
kill_pid hook_runner_is_stopped STOP "$HP"
i=0
while [ $i -lt 600 ]; do
	curl -s -o /dev/null --max-time 5 --unix-socket "$T/api.sock" \
	    -X POST -H 'Content-Type: application/json' --data-binary \
	    "$(req password_reset "user$i" "" hd-bob phone \
	    "[$(ev out_of_band_callback pass hd-bob email "cb-$i")]")" \
	    http://tapgated/v1/requests || break
	n=$(sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM audit WHERE
	    event = 'hook.failed' AND details LIKE '%dropped%'" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] && break
	i=$((i + 1))
done
check stalled_hook_runner_drops_are_audited [ "${n:-0}" -gt 0 ]
api GET /healthz
check daemon_answers_beside_a_stalled_hook_runner [ "$STATUS" = 200 ]
kill_pid hook_runner_continues CONT "$HP"

# The hook runner is a child the daemon cannot replace once confined (a
# new one would inherit the filter): killed, the daemon audits it and
# stops with status 1 for its supervisor to start it afresh, rather than
# drop every notification from then on.
HP=$(pgrep -P "$DAEMON_PID" -f -- '--hook-process' | head -n 1)
check hook_runner_runs [ -n "$HP" ]
kill_pid hook_runner_is_killed KILL "$HP"
wait_exit "$DAEMON_PID"
rc=$?
DAEMON_PID=
check daemon_stops_with_failure_without_its_hook_runner [ "$rc" = 1 ]
check hook_runner_death_is_logged \
    grep -q 'hooks.exited: the hook runner was killed by signal 9' \
    "$T/daemon.log"
n=$(sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM audit WHERE
    event = 'hooks.exited' AND details LIKE '%signal 9%'" 2>/dev/null)
check hook_runner_death_is_audited [ "${n:-0}" = 1 ]
[ -n "$BG" ] && kill "$BG" 2>/dev/null

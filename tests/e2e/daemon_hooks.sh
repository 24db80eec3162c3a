#!/bin/sh
# SPDX-License-Identifier: ISC
# Notification hooks: each event reaches the hook programs as JSON on
# stdin; a slow hook is killed after its timeout and audited, a failing one
# is audited, and neither blocks the daemon.
. tests/e2e/lib/daemon.sh
cat >"$T/record.sh" <<EOS
#!/bin/sh
cat >>"$T/events"
echo >>"$T/events"
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

# two events (created, hold started), each through three hooks
i=0
while [ $i -lt 100 ]; do
	n=$(sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM audit WHERE event='hook.failed'" 2>/dev/null || echo 0)
	[ "$n" -ge 4 ] && break
	sleep 0.1
	i=$((i + 1))
done
check hook_receives_request_created_as_json \
    sh -c "jq -es 'any(.[]; .event == \"request.created\" and .request_id == \"$ID\" and .target.account == \"alice\")' $T/events >/dev/null"
check hook_receives_hold_started_with_its_end \
    sh -c "jq -es 'any(.[]; .event == \"hold.started\" and .hold_until > 0)' $T/events >/dev/null"
"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json >"$T/audit.json"
check slow_hook_is_killed_and_audited \
    sh -c "jq -e '[.entries[] | select(.event == \"hook.failed\" and .details.outcome == \"timed_out\")] | length == 2' $T/audit.json >/dev/null"
check failing_hook_is_audited_with_its_status \
    sh -c "jq -e '[.entries[] | select(.event == \"hook.failed\" and .details.outcome == \"failed\" and .details.status == 7)] | length == 2' $T/audit.json >/dev/null"
check recording_hook_is_not_audited_as_failed \
    sh -c "jq -e '[.entries[] | select(.event == \"hook.failed\" and (.details.program | endswith(\"record.sh\")))] | length == 0' $T/audit.json >/dev/null"
api GET /metrics
check metrics_count_hook_outcomes \
    grep -q '^tapgate_hook_runs_total{outcome="timed_out"} 2' "$T/body"
"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >/dev/null
check audit_chain_with_hook_entries_verifies [ $? -eq 0 ]

# A stalled hook runner (stopped: its socket fills) costs events, which
# are audited as dropped; it never blocks the daemon, which reports a drop
# itself while it holds its lock.
HP=$(pgrep -P "$DAEMON_PID" -f -- '--hook-process' | head -n 1)
kill -STOP "${HP:-0}"
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
kill -CONT "${HP:-0}"

# The hook runner is a child the daemon cannot replace once confined (a
# new one would inherit the filter): killed, the daemon audits it and
# stops with status 1 for its supervisor to start it afresh, rather than
# drop every notification from then on.
HP=$(pgrep -P "$DAEMON_PID" -f -- '--hook-process' | head -n 1)
check hook_runner_runs [ -n "$HP" ]
kill -9 "${HP:-0}"
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

#!/bin/sh
# SPDX-License-Identifier: ISC
# tapgated and its token process run confined (src/sandbox): no new
# privileges, a seccomp filter, no core dumps, an address-space limit.
# Hook programs are the administrator's: they start from the hook runner,
# a process started before the daemon's filter, so they do not inherit it
# (a hook that opens an IP socket is not killed); they keep no new
# privileges.  A failing hook is audited and the daemon carries on, also
# when a hook is killed.
. tests/e2e/lib/daemon.sh

# a hook that writes a file, and one that opens a TCP socket (refused:
# nothing listens on port 9) after saying what confines it
cat >"$T/quiet.sh" <<EOS
#!/bin/sh
exec bash -c 'cat >"$T/quiet.out"'
EOS
cat >"$T/network.sh" <<EOS
#!/bin/sh
grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status >"$T/network.status"
exec bash -c 'echo hello >/dev/tcp/127.0.0.1/9'
EOS
# and one that, the first time, waits to be killed
cat >"$T/stuck.sh" <<EOS
#!/bin/sh
[ -e "$T/stuck.pid" ] && exit 0
echo \$\$ >"$T/stuck.pid"
exec sleep 60
EOS
chmod 755 "$T/quiet.sh" "$T/network.sh" "$T/stuck.sh"
make_config "$T/tapgate.conf" \
    "s|hooks = \[\];.*|hooks = [ \"$T/quiet.sh\", \"$T/network.sh\", \"$T/stuck.sh\" ];|"
daemon_start "$T/tapgate.conf" || { notok daemon_starts_confined; exit 1; }


check_confined daemon "$DAEMON_PID" 1073741824
TP=$(pgrep -P "$DAEMON_PID" -f -- '--token-process' | head -n 1)
check token_process_runs_under_a_seccomp_filter \
    [ -n "$TP" -a "$(proc_status "$TP" Seccomp 2>/dev/null)" = 2 ]
check token_process_has_no_new_privileges \
    [ -n "$TP" -a "$(proc_status "$TP" NoNewPrivs 2>/dev/null)" = 1 ]

api POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$(ev out_of_band_callback pass hd-bob email cb-1)]")"
check request_is_taken_while_hooks_run [ "$STATUS" = 201 ]
network_failure_audited() {
	"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json \
	    >"$T/audit.json" 2>/dev/null &&
	    jqtrue '[.entries[] | select(.event == "hook.failed" and
	    (.details.program | endswith("network.sh")) and
	    .details.outcome == "failed" and .details.status == 1)] |
	    length >= 1' "$T/audit.json"
}
check hook_that_opens_an_ip_socket_is_not_killed_and_its_failure_audited \
    wait_for 10 network_failure_audited
check hooks_run_outside_the_daemons_filter \
    grep -q '^Seccomp:[[:space:]]*0$' "$T/network.status"
check hooks_keep_no_new_privileges \
    grep -q '^NoNewPrivs:[[:space:]]*1$' "$T/network.status"
HP=$(pgrep -P "$DAEMON_PID" -f -- '--hook-process' | head -n 1)
check hook_runner_is_a_child_without_the_filter \
    [ -n "$HP" -a "$(proc_status "$HP" Seccomp 2>/dev/null)" = 0 ]
quiet_ran() {
	[ -s "$T/quiet.out" ] && jqtrue '(.entries | length > 0) and
	    ([.entries[] | select(.event == "hook.failed" and
	    (.details.program | endswith("quiet.sh")))] | length == 0)' \
	    "$T/audit.json"
}
check hook_that_stays_local_runs quiet_ran

# a hook killed (SIGKILL, as by the OOM killer) while it runs: audited as
# failed with the signal, and the daemon serves on
check stuck_hook_runs wait_for 10 [ -s "$T/stuck.pid" ]
kill_pid stuck_hook_is_killed KILL "$(cat "$T/stuck.pid" 2>/dev/null)"
stuck_killed_audited() {
	"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json \
	    >"$T/audit.json" 2>/dev/null &&
	    jqtrue '[.entries[] | select(.event == "hook.failed" and
	    (.details.program | endswith("stuck.sh")) and
	    .details.outcome == "failed" and .details.status == 9)] |
	    length == 1' "$T/audit.json"
}
check killed_hook_is_audited_with_its_signal wait_for 10 stuck_killed_audited
api GET /healthz
check daemon_answers_after_a_hook_was_killed [ "$STATUS" = 200 ]
api POST /v1/requests "$(req password_reset bob "" hd-bob phone \
    "[$(ev out_of_band_callback pass hd-bob email cb-2)]")"
check daemon_takes_requests_after_a_hook_was_killed [ "$STATUS" = 201 ]
daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# tapgated and its token process run confined (src/sandbox): no new
# privileges, a seccomp filter, no core dumps, an address-space limit.  A
# hook program runs under the daemon's filter too (filters survive
# execve): one that opens an IP socket dies of SIGSYS, which the daemon
# audits like any failed hook, and the daemon carries on.
. tests/e2e/lib/daemon.sh

if ! nm "$BUILD/tapgated" 2>/dev/null | grep -q ' T sandbox_apply$'; then
	echo "ok tapgated_is_confined # SKIP $BUILD/tapgated does not call" \
	    "sandbox_apply() yet"
	exit 0
fi

# the same shell twice: it may write a file, it may not reach the network
cat >"$T/quiet.sh" <<EOS
#!/bin/sh
exec bash -c 'cat >"$T/quiet.out"'
EOS
cat >"$T/network.sh" <<'EOS'
#!/bin/sh
exec bash -c 'echo hello >/dev/tcp/127.0.0.1/9'
EOS
chmod 755 "$T/quiet.sh" "$T/network.sh"
make_config "$T/tapgate.conf" \
    "s|hooks = \[\];.*|hooks = [ \"$T/quiet.sh\", \"$T/network.sh\" ];|"
daemon_start "$T/tapgate.conf" || { notok daemon_starts_confined; exit 1; }


check_confined daemon "$DAEMON_PID" 1073741824
TP=$(pgrep -P "$DAEMON_PID" -f -- '--token-process' | head -n 1)
check token_process_runs_under_a_seccomp_filter \
    [ -n "$TP" -a "$(proc_status "${TP:-0}" Seccomp 2>/dev/null)" = 2 ]
check token_process_has_no_new_privileges \
    [ "$(proc_status "${TP:-0}" NoNewPrivs 2>/dev/null)" = 1 ]

api POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$(ev out_of_band_callback pass hd-bob email cb-1)]")"
check request_is_taken_while_hooks_run [ "$STATUS" = 201 ]
i=0
while [ $i -lt 100 ]; do
	"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json \
	    >"$T/audit.json" 2>/dev/null
	jq -e '[.entries[] | select(.event == "hook.failed")] | length >= 1' \
	    "$T/audit.json" >/dev/null 2>&1 && break
	sleep 0.1
	i=$((i + 1))
done
check hook_that_opens_an_ip_socket_is_killed_by_sigsys_and_audited \
    sh -c "jq -e '[.entries[] | select(.event == \"hook.failed\" and
    (.details.program | endswith(\"network.sh\")) and
    .details.outcome == \"failed\" and .details.status == 31)] |
    length >= 1' $T/audit.json >/dev/null"
check hook_that_stays_local_runs \
    sh -c "[ -s $T/quiet.out ] && jq -e '[.entries[] | select(.event ==
    \"hook.failed\" and (.details.program | endswith(\"quiet.sh\")))] |
    length == 0' $T/audit.json >/dev/null"
api GET /healthz
check daemon_answers_after_a_hook_was_killed [ "$STATUS" = 200 ]
daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# Security keys are opened by tapgated's token process only: a child that
# re-executes the daemon's binary with a role and holds neither the
# database nor the co-signing key.  A token process that dies is replaced.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 4000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
tokpid() { pgrep -P "$DAEMON_PID" -f -- '--token-process' | head -n 1; }
TP=$(tokpid)
check daemon_runs_a_token_process [ -n "$TP" ]
check token_process_holds_no_database_or_key_file \
    sh -c "! ls -l /proc/$TP/fd 2>/dev/null | grep -q -e tapgate.db -e cosign.key -e seal.key"
check daemon_holds_the_database \
    sh -c "ls -l /proc/$DAEMON_PID/fd | grep -q tapgate.db"
enroll officer-ann security_officer ann
check enrolment_goes_through_the_token_process [ $? -eq 0 ]
kill -9 "$TP"
sleep 0.2
enroll officer-ben security_officer ben
check a_dead_token_process_is_replaced [ $? -eq 0 ]
check replacement_is_a_new_process sh -c "[ -n \"\$(pgrep -P $DAEMON_PID -f -- --token-process)\" ] && [ \"\$(pgrep -P $DAEMON_PID -f -- --token-process)\" != $TP ]"
ID=$(admin_reset alice)
approve "$ID" ann
check approval_goes_through_the_token_process [ $? -eq 0 ]
check daemon_logged_the_restart grep -q 'token process exited; restarting' "$T/daemon.log"

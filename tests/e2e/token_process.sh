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
    sh -c "[ -n '$TP' ] && ls -l /proc/$TP/fd >$T/tp.fds &&
    ! grep -q -e tapgate.db -e cosign.key -e seal.key $T/tp.fds"
check daemon_holds_the_database \
    sh -c "ls -l /proc/$DAEMON_PID/fd | grep -q tapgate.db"
enroll officer-ann security_officer ann
check enrolment_goes_through_the_token_process [ $? -eq 0 ]
gone() { ! alive "$1"; }
kill_pid token_process_is_killed KILL "$TP" &&
    check killed_token_process_is_gone wait_for 10 gone "$TP"
enroll officer-ben security_officer ben
check a_dead_token_process_is_replaced [ $? -eq 0 ]
check replacement_is_a_new_process sh -c "[ -n \"\$(pgrep -P $DAEMON_PID -f -- --token-process)\" ] && [ \"\$(pgrep -P $DAEMON_PID -f -- --token-process)\" != $TP ]"
ID=$(admin_reset alice)
approve "$ID" ann
check approval_goes_through_the_token_process [ $? -eq 0 ]
check daemon_logged_the_restart grep -q 'token process exited; restarting' "$T/daemon.log"

# An exploited token process (tests/stub/exploit.c opens the daemon's key
# file before each device it opens) is refused by Landlock: seccomp lets
# it open files, since it must open hidraw nodes, but not beyond /dev.
landlock=$(landlock_probe)
daemon_stop
if [ "$landlock" = yes ]; then
	TAPGATE_TEST_TOKEN_OPEN=$T/state/seal.key
	LD_PRELOAD=$PWD/$BUILD/tests/exploit.so
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0
	export TAPGATE_TEST_TOKEN_OPEN LD_PRELOAD ASAN_OPTIONS
	daemon_start "$T/tapgate.conf" \
	    --trust-roots "$PWD/build/gen/softfido-ca.pem" \
	    --token-timeout 4000 || { notok daemon_restarts; exit 1; }
	unset LD_PRELOAD TAPGATE_TEST_TOKEN_OPEN
	key_start cal
	enroll officer-cal security_officer cal
	check enrolment_works_with_the_exploit_loaded [ $? -eq 0 ]
	check token_process_cannot_read_the_key_file grep -q \
	    "token-exploit: $T/state/seal.key: Permission denied" \
	    "$T/daemon.log"
	check key_file_was_never_opened sh -c \
	    "! grep -q 'token-exploit: .*: opened' '$T/daemon.log'"
	# the control: unconfined (tapgatectl), the same stub reads it
	TAPGATE_TEST_TOKEN_OPEN=$T/state/seal.key \
	    LD_PRELOAD=$PWD/$BUILD/tests/exploit.so \
	    "$BUILD/tapgatectl" token info "softfido:$T/cal.sock" \
	    >/dev/null 2>"$T/control.err"
	check unconfined_the_stub_reads_the_key_file \
	    grep -q "token-exploit: $T/state/seal.key: opened" "$T/control.err"
elif [ "${landlock%%:*}" = no ]; then
	skip token_process_cannot_read_the_key_file \
	    "${landlock#no: } (test_sandbox says)"
else
	notok token_process_cannot_read_the_key_file \
	    "whether the kernel has Landlock: ${landlock#unknown: }"
fi

# A token process that lies: it reports an enrolment its own checks passed
# with one bit of the public key changed (tests/stub/exploit.c).  The
# daemon verifies the attestation itself, refuses, audits the violation,
# replaces the process and carries on.
daemon_stop
TAPGATE_TEST_TOKEN_LIE=1
LD_PRELOAD=$PWD/$BUILD/tests/exploit.so
ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0
export TAPGATE_TEST_TOKEN_LIE LD_PRELOAD ASAN_OPTIONS
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 4000 || { notok daemon_restarts_with_a_liar; exit 1; }
unset LD_PRELOAD TAPGATE_TEST_TOKEN_LIE
LIAR=$(tokpid)
key_start dan
enroll officer-dan security_officer dan
rc=$?
check forged_enrolment_is_refused \
    [ "$rc" != 0 -a "$(refusal "$T/enrol.err")" = "403 attestation" ]
"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 20 --json \
    >"$T/audit.json" 2>/dev/null
lie_audited() {
	jqtrue '[.entries[] | select(.event == "privsep.violation" and
	    .details.process == "token" and
	    (.details.detail | contains("does not verify")))] | length == 1' \
	    "$T/audit.json"
}
check lying_token_process_is_audited lie_audited
check lying_token_process_is_replaced sh -c \
    "[ -n \"\$(pgrep -P $DAEMON_PID -f -- --token-process)\" ] &&
    [ \"\$(pgrep -P $DAEMON_PID -f -- --token-process)\" != '$LIAR' ]"
"$BUILD/tapgatectl" -s "$T/api.sock" approvers list --json >"$T/appr.json" \
    2>/dev/null
check forged_officer_is_not_enrolled jqtrue '[.approvers[].name] |
    index("officer-cal") != null and index("officer-dan") == null' \
    "$T/appr.json"
api GET /healthz
check daemon_carries_on_after_a_liar [ "$STATUS" = 200 ]

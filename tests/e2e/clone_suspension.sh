#!/bin/sh
# SPDX-License-Identifier: ISC
# A key whose signature counter does not grow may be a clone: its approver
# is suspended, and the daemon says so only when the suspension was
# recorded.  Another process holds the database's write lock while the
# clone is caught, so the suspension's transaction fails for real: the
# approval is refused anyway, and the log, the answer and the audit say
# that the suspension failed.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
DB=$T/state/tapgate.db

# the control: without the lock, a clone is suspended and the log says so
ID=$(admin_reset alice)
approve "$ID" ann
ID=$(admin_reset bob)
key_ctl ann fault counter-backwards
approve "$ID" ann
key_ctl ann fault none
check clone_is_refused [ "$(approve_code)" = cloned_key ]
check clone_is_suspended_when_the_store_takes_it \
    sh -c "grep -q 'ALARM: approver officer-ann .*suspended as a possible cloned key' $T/daemon.log &&
    [ \$(sqlite3 $DB \"SELECT revoked FROM approvers WHERE name = 'officer-ann'\") = 1 ]"

# lock_db: another process takes the write lock (BEGIN IMMEDIATE) and
# holds it until $T/release appears (at most 60 s)
lock_db() {
	rm -f "$T/locked" "$T/release"
	python3 - "$DB" "$T/locked" "$T/release" <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
for _ in range(600):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.1)
db.execute("ROLLBACK")
EOF
	LOCKER=$!
	i=0
	while [ ! -e "$T/locked" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$T/locked" ]
}
unlock_db() { touch "$T/release"; wait "$LOCKER"; }

ID=$(admin_reset carol)
approve "$ID" ben
ID=$(admin_reset dave)
key_ctl ben fault counter-backwards
check another_process_holds_the_write_lock lock_db
approve "$ID" ben
unlock_db
key_ctl ben fault none
check clone_is_refused_when_its_suspension_fails [ "$(approve_code)" = cloned_key ]
check answer_says_the_suspension_failed \
    grep -q 'suspending its approver failed (database busy' \
    "$T/approve.err"
check log_says_the_suspension_failed \
    grep -q 'ALARM: approver officer-ben presented counter .* a possible cloned key; suspending it FAILED' \
    "$T/daemon.log"
check log_never_claims_a_suspension_that_failed \
    sh -c "! grep -q 'ALARM: approver officer-ben .*suspended as a possible cloned key' $T/daemon.log"
check approver_stays_active_as_the_answer_says \
    [ "$(sqlite3 "$DB" "SELECT revoked FROM approvers WHERE name = 'officer-ben'")" = 0 ]
api GET /metrics
check failed_suspension_counts_as_an_internal_error \
    sh -c "grep -q '^tapgate_internal_errors_total [1-9]' $T/body"
api GET "/v1/requests/$ID"
check refused_approval_is_not_counted \
    [ "$(jbody '.decision.approvals.groups[0].counted')" = 0 ]

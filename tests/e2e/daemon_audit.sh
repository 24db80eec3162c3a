#!/bin/sh
# SPDX-License-Identifier: ISC
# The audit log from the attacker's side: someone with the database file in
# hand drops the append-only trigger and edits, deletes or reorders entries;
# `tapgatectl audit verify` finds the first broken entry.  Also: the
# console's views of the queues and the log.
. tests/e2e/lib/daemon.sh
CTL="$BUILD/tapgatectl -s $T/api.sock"
DB=$T/state/tapgate.db

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
taken=0
for a in alice bob carol dave; do
	api POST /v1/requests "$(req password_reset $a "" hd-bob phone "[$OOB]")"
	[ "$STATUS" = 201 ] && taken=$((taken + 1))
done
ID=$(jbody .id)
check four_requests_are_taken [ "$taken" = 4 ]

$CTL requests list >"$T/list"
check console_lists_requests_as_a_table \
    sh -c "grep -q '^ID ' $T/list && [ \$(grep -c ldap-corp $T/list) -eq 4 ]"
$CTL requests list --queue password_reset --json >"$T/list.json"
check console_lists_json_for_scripts \
    sh -c "[ \$(jq '.requests | length' $T/list.json) -eq 4 ]"
$CTL requests show "$ID" >"$T/show"
check console_show_names_class_evidence_and_hold \
    sh -c "grep -q '^class     standard' $T/show && grep -q 'out_of_band_callback' $T/show && grep -q '^hold ' $T/show"
$CTL requests veto "$ID" --reason "owner: that was not me" >"$T/veto"
check console_veto_stops_the_request grep -q ': vetoed$' "$T/veto"
$CTL requests show nothex 2>"$T/err"
check console_refuses_a_malformed_id [ $? -eq 2 ]
$CTL requests deny "$ID" 2>"$T/err"
check console_deny_needs_a_reason [ $? -eq 2 ]
$CTL audit tail -n 3 >"$T/tail"
check console_tail_shows_the_last_entries \
    sh -c "[ \$(wc -l <$T/tail) -eq 3 ] && grep -q request.veto $T/tail"
$CTL audit verify >"$T/verify"
check audit_verify_through_the_daemon_is_ok grep -q '^audit chain OK' "$T/verify"
daemon_stop
# counted once the daemon is stopped: while it runs, a hold that ends
# adds entries
N=$(sqlite3 "$DB" "SELECT count(*) FROM audit")

# refused_sql SQL: sqlite fails the statement, and says why
refused_sql() {
	! sqlite3 "$DB" "$1" 2>"$T/sql.err" && [ -s "$T/sql.err" ]
}
D1=$(sqlite3 "$DB" "SELECT details FROM audit WHERE seq=1")
check trigger_refuses_update_of_an_audit_entry \
    refused_sql "UPDATE audit SET details='{}' WHERE seq=1"
check updated_entry_is_unchanged \
    unchanged "$D1" "$(sqlite3 "$DB" "SELECT details FROM audit WHERE seq=1")"
check trigger_refuses_delete_of_an_audit_entry \
    refused_sql "DELETE FROM audit WHERE seq=2"
check no_entry_is_deleted \
    unchanged "$N" "$(sqlite3 "$DB" "SELECT count(*) FROM audit")"
"$BUILD/tapgatectl" audit verify --state-dir "$T/state" >"$T/v0"
check offline_verify_of_untouched_log_is_ok [ $? -eq 0 ]

cp "$DB" "$T/pristine.db"
triggers=$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit'")
drop() { for t in $triggers; do sqlite3 "$DB" "DROP TRIGGER $t"; done; }

drop
sqlite3 "$DB" "UPDATE audit SET details='{\"reason\":\"nothing to see\"}' WHERE seq=5"
"$BUILD/tapgatectl" audit verify --state-dir "$T/state" >"$T/v1"
rc=$?
check edited_entry_is_found_at_its_seq \
    sh -c "[ $rc -eq 1 ] && grep -q 'BROKEN at entry 5 (edited)' $T/v1"

cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"; drop
sqlite3 "$DB" "DELETE FROM audit WHERE seq=3"
"$BUILD/tapgatectl" audit verify --state-dir "$T/state" --json >"$T/v2"
check deleted_entry_is_found \
    sh -c "[ \$(jq .ok $T/v2) = false ] && [ \$(jq .bad_seq $T/v2) -eq 3 ] && [ \$(jq -r .why $T/v2) = missing ]"

cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"; drop
sqlite3 "$DB" "UPDATE audit SET seq=1006 WHERE seq=6; UPDATE audit SET seq=6 WHERE seq=7; UPDATE audit SET seq=7 WHERE seq=1006"
"$BUILD/tapgatectl" audit verify --state-dir "$T/state" --json >"$T/v3"
check reordered_entries_are_found \
    sh -c "[ \$(jq .ok $T/v3) = false ] && [ \$(jq .bad_seq $T/v3) -eq 6 ]"

cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
daemon_start "$T/tapgate.conf" || notok daemon_starts_on_the_restored_log
$CTL audit verify >/dev/null
check restored_log_verifies_again [ $? -eq 0 ]
daemon_stop

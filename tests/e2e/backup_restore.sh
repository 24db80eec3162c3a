#!/bin/sh
# SPDX-License-Identifier: ISC
# Backup and restore.  `tapgatectl backup` has the running daemon copy its
# database with sqlite's online backup, check the copy and audit the
# backup, while submissions keep coming (the daemon answers them once the
# backup is done: it handles one API call at a time, the backup being
# one); `tapgatectl restore` (daemon stopped) checks a backup
# again on the very bytes it installs, keeps the database it replaces and
# audits the restore in the restored log.  Damaged or altered backups are
# refused and change nothing.
. tests/e2e/lib/daemon.sh
CTL="$BUILD/tapgatectl -s $T/api.sock"
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
BK=$T/backups
mkdir -m 700 "$BK"
sha() { sha256sum "$1" | cut -d' ' -f1; }
count_requests() { sqlite3 "$1" "SELECT count(*) FROM requests"; }
jqok() { jqtrue "$@"; }

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
for a in alice bob carol; do
	api POST /v1/requests "$(req password_reset $a "" hd-bob phone "[$OOB]")"
done
$CTL keys -o "$T/jwks.json"

# Submissions keep coming, one after the other, from before the backup
# starts until after it has returned (at most 300, each answered within
# 10 s or counted as lost): "sent answered status" per line, in seconds.
now() { date +%s.%N; }
(
	i=0
	while [ $i -lt 300 ] && { [ $i -lt 3 ] || [ ! -e "$T/backup.done" ]; }
	do
		t0=$(now)
		c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		    --unix-socket "$T/api.sock" -X POST \
		    -H 'Content-Type: application/json' \
		    --data-binary "$(req password_reset user$i "" hd-bob phone "[$OOB]")" \
		    http://tapgated/v1/requests)
		echo "$t0 $(now) ${c:-000}"
		i=$((i + 1))
	done >"$T/load.times"
) &
LOAD=$!
wait_for 10 [ -s "$T/load.times" ]
B0=$(now)
$CTL backup "$BK/one.db" >"$T/b1" 2>&1
rc=$?
B1=$(now)
: >"$T/backup.done"
wait_exit $LOAD 60
check backup_while_serving_succeeds \
    sh -c "[ $rc -eq 0 ] && grep -q '^backup written to $BK/one.db' $T/b1 && grep -q '^audit chain OK' $T/b1"
# in flight while the backup ran: sent before it returned, answered after
# it was asked for
check submissions_are_in_flight_while_the_backup_runs sh -c "awk -v b0=$B0 \
    -v b1=$B1 '\$1 < b1 && \$2 > b0 { n++ } END { exit n == 0 }' $T/load.times"
# shellcheck disable=SC2016 # $3 is an awk field
check every_submission_beside_the_backup_is_taken_within_10s \
    awk 'NF == 3 && $3 == 201 { n++ } END { exit !(n == NR && n > 0) }' \
    "$T/load.times"
awk -v b0="$B0" -v b1="$B1" '{ d = $2 - $1; if (d > m) m = d }
    END { printf "# %d submissions beside a backup of %.3f s, the slowest" \
    " answered in %.3f s\n", NR, b1 - b0, m }' "$T/load.times"
check backup_is_private_with_its_digest_beside_it \
    sh -c "[ \$(stat -c %a $BK/one.db) = 600 ] && (cd $BK && sha256sum -c --quiet one.db.sha256)"
check backup_is_one_self_contained_file \
    sh -c "[ ! -e $BK/one.db-wal ] && [ \$(sqlite3 $BK/one.db 'PRAGMA journal_mode') = delete ]"
N1=$(count_requests "$BK/one.db")
check backup_holds_a_consistent_snapshot \
    sh -c "[ $N1 -ge 3 ] && [ \$(sqlite3 $BK/one.db 'PRAGMA integrity_check') = ok ]"
S1=$(sha "$BK/one.db")
$CTL audit tail -n 200 --json >"$T/tail.json"
# shellcheck disable=SC2016 # $s: jq variable
check backup_is_audited_with_its_digest_and_the_copys_head \
    jqok --arg s "$S1" '[.entries[] | select(.event == "store.backup" and .details.sha256 == $s and .details.audit_head_seq > 0)] | length == 1' "$T/tail.json"
check the_copy_is_signed_up_to_its_last_entry \
    sh -c "[ \"\$(sqlite3 $BK/one.db 'SELECT max(seq) FROM audit')\" = \"\$(sqlite3 $BK/one.db 'SELECT max(seq) FROM checkpoints')\" ]"

$CTL backup "$BK/one.db" >/dev/null 2>"$T/b2.err"
rc=$?
check backup_never_overwrites \
    sh -c "[ $rc -ne 0 ] && grep -q '(HTTP 409 exists)' $T/b2.err && [ -n '$S1' ] && [ $(sha "$BK/one.db") = '$S1' ]"
# refused_backup NAME STATUS CODE BODY: the API refuses the backup so
refused_backup() {
	api POST /v1/backup "$4"
	check "$1" [ "$STATUS" = "$2" -a "$(jbody .error.code)" = "$3" ]
}
refused_backup backup_wants_an_absolute_path 400 invalid_path \
    '{"path":"relative.db"}'
refused_backup backup_stays_out_of_the_state_directory 400 invalid_path \
    "{\"path\":\"$T/state/copy.db\"}"
check backup_in_the_state_directory_leaves_no_file [ ! -e "$T/state/copy.db" ]
refused_backup backup_body_is_read_strictly 400 malformed_body \
    "{\"path\":\"$BK/two.db\",\"extra\":1}"
refused_backup backup_into_a_missing_directory_is_refused 400 cannot_write \
    "{\"path\":\"$BK/nodir/three.db\"}"
api_as 65534 POST /v1/backup "{\"path\":\"$BK/not-an-operator.db\"}"
check backup_needs_the_operator_role \
    sh -c "[ $STATUS = 403 ] && [ ! -e $BK/not-an-operator.db ]"

# restore refuses while the daemon runs: its socket answers, its file is held
$CTL restore "$BK/one.db" --state-dir "$T/state" >/dev/null 2>"$T/r0.err"
check restore_refuses_while_the_daemon_answers \
    sh -c "[ $? -eq 1 ] && grep -q 'answers' $T/r0.err"
"$BUILD/tapgatectl" -s "$T/nowhere.sock" restore "$BK/one.db" \
    --state-dir "$T/state" >/dev/null 2>"$T/r0b.err"
check restore_refuses_a_database_in_use \
    sh -c "[ $? -eq 1 ] && grep -q 'in use' $T/r0b.err"
api GET /v1/requests?limit=1000
check live_requests_are_listed [ "$STATUS" = 200 ]
NLIVE=$(jbody '.requests | length')
daemon_stop

# into a fresh state directory, with the box's sealed co-signing key
mkdir -m 700 "$T/state2"
cp -p "$T/state/cosign.key.sealed" "$T/state/seal.key" "$T/state2/"
$CTL restore "$BK/one.db" --state-dir "$T/state2" --jwks "$T/jwks.json" \
    >"$T/r1" 2>&1
check restore_into_a_fresh_state_dir \
    sh -c "[ $? -eq 0 ] && grep -q 'matches' $T/r1 && grep -q 'signatures verified' $T/r1 && grep -q 'store.restored' $T/r1"
check restore_leaves_no_temporary_file \
    sh -c "[ -z \"\$(ls $T/state2 | grep restore-)\" ]"
# a restored log did not reach the box's high-water mark: accepted once
daemon_start "$T/tapgate.conf" --state-dir "$T/state2" --accept-audit-head ||
    notok daemon_starts_on_the_restored_state
api GET /v1/requests?limit=1000
check restored_daemon_has_the_requests_of_the_backup \
    sh -c "[ $STATUS = 200 ] && [ \$(jq '.requests | length' $T/body) = $N1 ] && [ $N1 -le $NLIVE ]"
$CTL audit verify >"$T/v1"
check restored_audit_chain_verifies_through_the_daemon \
    sh -c "[ $? -eq 0 ] && grep -q '^audit chain OK' $T/v1"
# the start on a restored state audits more after it: the accepted
# audit head, holds extended for the time the state lay in the backup
$CTL audit tail -n 100 --json >"$T/tail2.json"
# shellcheck disable=SC2016 # $s: jq variable
check restore_is_audited_in_the_restored_log \
    jqok --arg s "$S1" '[.entries[] | select(.event == "store.restored" and .details.sha256 == $s and .actor_role == "operator")] | length == 1' "$T/tail2.json"
api POST /v1/requests "$(req password_reset erin "" hd-bob phone "[$OOB]")"
check restored_daemon_serves [ "$STATUS" = 201 ]
daemon_stop

# restoring over a database keeps the old one beside it
$CTL restore "$BK/one.db" --state-dir "$T/state2" >"$T/r2" 2>&1
rc=$?
ASIDE=
for f in "$T"/state2/tapgate.db.replaced-*; do
	[ -e "$f" ] && ASIDE=$f && break
done
check restore_moves_the_old_database_aside \
    sh -c "[ $rc -eq 0 ] && [ -n '$ASIDE' ] && grep -q 'moved aside' $T/r2 && [ \$(sqlite3 '$ASIDE' 'SELECT count(*) FROM requests') -eq $((N1 + 1)) ]"

# damaged and altered backups: refused, and nothing changes
S3=$(sha "$T/state2/tapgate.db")
refused() {	# name file
	"$BUILD/tapgatectl" -s "$T/api.sock" restore "$2" --state-dir "$T/state2" \
	    >"$T/$1.out" 2>&1
	rc=$?
	sed 's/^/#   /' "$T/$1.out"
	check "$1" sh -c "[ $rc -eq 1 ] && [ -n '$S3' ] && [ $(sha "$T/state2/tapgate.db") = '$S3' ] && [ -z \"\$(ls $T/state2 | grep restore-)\" ]"
}
cp "$BK/one.db" "$BK/flip.db"; cp "$BK/one.db.sha256" "$BK/flip.db.sha256"
printf '\377\377\377\377' | dd of="$BK/flip.db" bs=1 seek=$(( $(stat -c %s "$BK/one.db") / 2 )) conv=notrunc 2>/dev/null
refused restore_refuses_flipped_bytes "$BK/flip.db"
grep -q 'does not match its digest' "$T/restore_refuses_flipped_bytes.out" ||
    notok flipped_bytes_are_named_as_such
head -c $(( $(stat -c %s "$BK/one.db") / 2 )) "$BK/one.db" >"$BK/half.db"
refused restore_refuses_a_truncated_file_without_digest "$BK/half.db"
cp "$BK/one.db" "$BK/hdr.db"
printf 'this is no db!!' | dd of="$BK/hdr.db" bs=1 seek=0 conv=notrunc 2>/dev/null
refused restore_refuses_a_file_that_is_no_database "$BK/hdr.db"
cp "$BK/one.db" "$BK/edit.db"
sqlite3 "$BK/edit.db" "DROP TRIGGER audit_no_update; UPDATE audit SET details = '{}' WHERE seq = 2"
(cd "$BK" && sha256sum edit.db >edit.db.sha256)
refused restore_refuses_an_edited_audit_log_with_a_fresh_digest "$BK/edit.db"
grep -q 'BROKEN at entry 2 (edited)' "$T/restore_refuses_an_edited_audit_log_with_a_fresh_digest.out" ||
    notok edited_entry_is_named
cp "$BK/one.db" "$BK/cut.db"
sqlite3 "$BK/cut.db" "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > (SELECT max(seq) - 2 FROM audit)"
refused restore_refuses_a_backup_cut_after_its_checkpoint "$BK/cut.db"
grep -q 'truncated after checkpoint' "$T/restore_refuses_a_backup_cut_after_its_checkpoint.out" ||
    notok cut_backup_is_named_truncated

#!/bin/sh
# SPDX-License-Identifier: ISC
# Signed audit checkpoints: the daemon signs the chain's head with its
# co-signing key while it runs and when it stops.  Someone with the
# database file in hand drops the triggers and deletes the newest entries
# (the chain that is left still links up): `tapgatectl audit verify`
# holds it to the latest checkpoint and reports the truncation, offline
# with the published JWKS as well as through the daemon.  A checkpoint
# forged for the shortened chain fails its signature.
. tests/e2e/lib/daemon.sh
CTL="$BUILD/tapgatectl -s $T/api.sock"
OFF="$BUILD/tapgatectl"
DB=$T/state/tapgate.db

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --checkpoint-interval 1 ||
    { notok daemon_starts; exit 1; }
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
for a in alice bob carol dave; do
	api POST /v1/requests "$(req password_reset $a "" hd-bob phone "[$OOB]")"
	# denied: no hold ends later to move the head on its own
	$CTL requests deny "$(jbody .id)" --reason "test: not needed" >/dev/null
done
$CTL keys -o "$T/jwks.json"

# the head moved: within a checkpoint period or two it is signed
head_signed() {
	api GET /v1/audit/verify
	[ "$STATUS" = 200 ] && [ -n "$(jbody '.head_seq // empty')" ] &&
	    [ "$(jbody .checkpoint.seq)" = "$(jbody .head_seq)" ]
}
wait_for 5 head_signed
HEAD=$(jbody '.head_seq // empty')
check daemon_signs_the_moved_head_within_its_period \
    sh -c "[ $STATUS = 200 ] && [ -n '$HEAD' ] && [ \"\$(jq -r .checkpoint.seq $T/body)\" = '$HEAD' ] && [ \$(jq -r .checkpoint.kid $T/body) = \$(jq -r '.keys[0].kid' $T/jwks.json) ]"
cp "$T/body" "$T/verify.json"
# Nothing new to sign: the daemon must look at the head again and leave
# it.  It has once its timer has ticked a checkpoint period (1 s) after
# that checkpoint: the heartbeat it stores in the same tick (every 2 s)
# is then that late.  An API call waits for a tick under way to end.
CP_TIME=$(jq -r '.checkpoint.time // empty' "$T/verify.json")
ticked_after() {	# T: the stored heartbeat is T or later
	hb=$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'heartbeat'" \
	    2>/dev/null)
	[ -n "$hb" ] && [ "$hb" -ge "$1" ]
}
looked_again() {
	[ -n "$CP_TIME" ] && wait_for 10 ticked_after $((CP_TIME + 1))
}
check daemon_looks_at_the_idle_head_again looked_again
api GET /v1/audit/verify
check a_checkpoint_is_no_audit_entry_and_an_idle_head_is_signed_once \
    sh -c "[ $STATUS = 200 ] && [ \$(jq .head_seq $T/body) = $HEAD ] && [ \$(jq .checkpoints $T/body) = \$(jq .checkpoints $T/verify.json) ]"
$CTL audit verify >"$T/v.txt"
check verify_through_the_daemon_names_the_latest_checkpoint \
    sh -c "grep -q '^audit chain OK' $T/v.txt && grep -q \"^latest checkpoint: entry $HEAD, .*signatures verified\" $T/v.txt"

# the documented encoding, checked apart from tapgate's code, with Debian's
# python3 and python3-cryptography (make deps installs them through
# python3-jwcrypto); the python3 first on PATH may lack the module
PY=/usr/bin/python3
if ! "$PY" -c 'import cryptography' 2>"$T/py.err"; then
	skip checkpoint_signature_verifies_outside_tapgate \
	    "$PY cannot import cryptography (python3-cryptography):" \
	    "$(tail -n 1 "$T/py.err")"
else
	"$PY" - "$T/jwks.json" "$T/verify.json" >"$T/py.out" 2>&1 <<'EOPY'
import base64, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
key = json.load(open(sys.argv[1]))["keys"][0]
cp = json.load(open(sys.argv[2]))["checkpoint"]
msg = (b"tapgate-audit-checkpoint-v1\0" + cp["seq"].to_bytes(8, "big") +
       bytes.fromhex(cp["hash"]) + cp["time"].to_bytes(8, "big"))
Ed25519PublicKey.from_public_bytes(b64(key["x"])).verify(b64(cp["signature"]), msg)
print("verified")
EOPY
	check checkpoint_signature_verifies_outside_tapgate grep -qx verified "$T/py.out"
fi
daemon_stop
check clean_stop_signs_nothing_new_for_an_unmoved_head \
    [ -n "$HEAD" -a "$(sqlite3 "$DB" "SELECT max(seq) FROM checkpoints")" = "$HEAD" ]

$OFF audit verify --state-dir "$T/state" --jwks "$T/jwks.json" >"$T/v0"
check offline_verify_with_the_jwks_of_an_untouched_log_is_ok \
    sh -c "[ $? -eq 0 ] && grep -q 'signatures verified' $T/v0"
# refused_sql SQL: sqlite fails the statement, and says why
refused_sql() {	# sql
	! sqlite3 "$DB" "$1" 2>"$T/sql.err" && [ -s "$T/sql.err" ]
}
N_CP=$(jq '.checkpoints // empty' "$T/verify.json")
check checkpoints_are_stored_as_the_daemon_reported sh -c "[ -n '$N_CP' ] &&
    [ \$(sqlite3 $DB 'SELECT count(*) FROM checkpoints') = '$N_CP' ]"
check trigger_refuses_delete_of_checkpoints \
    refused_sql "DELETE FROM checkpoints"
check trigger_refuses_update_of_checkpoints \
    refused_sql "UPDATE checkpoints SET time = 0"
check triggers_keep_checkpoints_append_only [ -n "$N_CP" -a \
    "$(sqlite3 "$DB" "SELECT count(*) FROM checkpoints WHERE time > 0")" = \
    "$N_CP" ]
check audit_holds_the_entry_an_older_checkpoint_would_sign \
    [ "$(sqlite3 "$DB" 'SELECT count(*) FROM audit WHERE seq = 2')" = 1 ]
check schema_refuses_a_checkpoint_older_than_the_last refused_sql \
    "INSERT INTO checkpoints (seq, hash, time, kid, signature, created) SELECT 2, hash, 0, '$(jq -r '.keys[0].kid' "$T/jwks.json")', randomblob(64), 0 FROM audit WHERE seq = 2"
check no_older_checkpoint_is_stored \
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM checkpoints WHERE seq = 2")" = 0 ]

cp "$DB" "$T/pristine.db"
restore_pristine() {
	cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
	for t in $(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name IN ('audit', 'checkpoints')"); do
		sqlite3 "$DB" "DROP TRIGGER $t"
	done
}

# the tail cut with the triggers gone: the chain alone still verifies
restore_pristine
sqlite3 "$DB" "DELETE FROM audit WHERE seq > $HEAD - 3"
$OFF audit verify --state-dir "$T/state" --jwks "$T/jwks.json" >"$T/v1"
rc=$?
check truncated_tail_is_found_naming_the_checkpoint \
    sh -c "[ $rc -eq 1 ] && grep -q 'truncated after checkpoint $HEAD' $T/v1"
$OFF audit verify --state-dir "$T/state" --jwks "$T/jwks.json" --json >"$T/v1.json"
check truncation_report_for_scripts \
    sh -c "[ \$(jq .ok $T/v1.json) = false ] && [ \$(jq -r .why $T/v1.json) = truncated ] && [ \$(jq .bad_seq $T/v1.json) = $HEAD ] && [ \$(jq .head_seq $T/v1.json) = $((HEAD - 3)) ]"
$OFF audit verify --state-dir "$T/state" >"$T/v1n"
check truncation_is_found_without_the_jwks_too \
    sh -c "[ $? -eq 1 ] && grep -q 'truncated after checkpoint $HEAD' $T/v1n"

# the daemon, started on the cut log, refuses to start: the chain went
# back below its high-water mark (tests/e2e/audit_anchor.sh has more);
# one that serves instead is stopped after 20 s (status 124)
timeout 20 "$BUILD/tapgated" -c "$T/tapgate.conf" --state-dir "$T/state" \
    --socket "$T/api.sock" --checkpoint-interval 1 2>>"$T/daemon.log"
rc=$?
check daemon_refuses_to_start_on_the_cut_log \
    sh -c "[ $rc -eq 1 ] && grep -q 'ALARM: the audit chain went backwards' $T/daemon.log"
check signer_refuses_to_checkpoint_a_cut_chain \
    [ "$(sqlite3 "$DB" 'SELECT max(seq) FROM checkpoints')" = "$HEAD" ]

# a checkpoint forged for the shortened chain, the real ones deleted
restore_pristine
sqlite3 "$DB" "DELETE FROM audit WHERE seq > $HEAD - 3; DELETE FROM checkpoints WHERE seq > $HEAD - 3; INSERT INTO checkpoints (seq, hash, time, kid, signature, created) SELECT seq, hash, time, '$(jq -r '.keys[0].kid' "$T/jwks.json")', randomblob(64), time FROM audit WHERE seq = $HEAD - 3"
$OFF audit verify --state-dir "$T/state" --jwks "$T/jwks.json" --json >"$T/v2.json"
check forged_checkpoint_fails_its_signature \
    sh -c "[ \$(jq .ok $T/v2.json) = false ] && [ \$(jq -r .why $T/v2.json) = bad_signature ] && [ \$(jq .bad_seq $T/v2.json) = $((HEAD - 3)) ]"
$OFF audit verify --state-dir "$T/state" --jwks /dev/null >"$T/v2n" 2>&1
check offline_verify_refuses_an_unreadable_jwks \
    sh -c "[ $? -eq 1 ] && grep -q '/dev/null: not a key set' $T/v2n"

# untouched, it verifies, through the daemon too
cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
: >"$T/daemon.log"
daemon_start "$T/tapgate.conf" || notok daemon_starts_on_the_untouched_log
$CTL audit verify >"$T/v3"
check untouched_log_verifies_against_its_checkpoints \
    sh -c "[ $? -eq 0 ] && grep -q '^audit chain OK' $T/v3 && grep -q \"^latest checkpoint: entry $HEAD\" $T/v3"
daemon_stop
check no_refusal_on_an_untouched_log \
    sh -c "! grep -q 'audit checkpoint refused' $T/daemon.log"

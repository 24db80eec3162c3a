#!/bin/sh
# SPDX-License-Identifier: ISC
# The audit log against someone holding its database file: a checkpoint
# inside the file proves nothing to them, so the chain is anchored outside
# it.  Every order carries the head it was signed at; the daemon keeps a
# signed high-water mark beside its key.  The two attacks of the issue,
# done with the sqlite3 CLI: (1) drop the triggers, delete the newest
# entries and the checkpoints that cover them; (2) rewrite an entry,
# re-hash the whole chain and delete every checkpoint.  Each is found by
# `audit verify --anchor ORDER` (exit 5), the daemon refuses to start on
# it with an ALARM and signs nothing, and a tail no checkpoint covers for
# long fails `audit verify` as stale.
. tests/e2e/lib/daemon.sh
CTL="$BUILD/tapgatectl -s $T/api.sock"
OFF="$BUILD/tapgatectl"
DB=$T/state/tapgate.db
MARK=$T/state/audit.mark
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
sha() { sha256sum "$1" | cut -d' ' -f1; }
payload() {	# the decoded payload of a compact JWS file
	cut -d. -f2 "$1" | tr '_-' '/+' | awk '{ n = length($0) % 4;
	    if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d
}

# rehash DB SHIFT [SEQ]: with the triggers gone, recompute every entry's
# hash (audit.h's encoding, version 1) after moving every time SHIFT
# seconds and, when SEQ is given, rewriting that entry's details
rehash() {
	python3 - "$@" <<'EOPY'
import hashlib, sqlite3, sys
db, shift = sys.argv[1], int(sys.argv[2])
edit = int(sys.argv[3]) if len(sys.argv) > 3 else 0
c = sqlite3.connect(db)
def field(v):
    if v is None:
        return b"\0"
    b = v.encode()
    return b"\1" + len(b).to_bytes(4, "big") + b
prev = "0" * 64
rows = c.execute("SELECT seq, time, actor_uid, actor_role, actor_name, "
                 "event, request_id, details FROM audit ORDER BY seq").fetchall()
for seq, t, uid, role, name, event, rid, details in rows:
    t += shift
    if seq == edit:
        details = '{"reason":"nothing to see"}'
    m = (b"tapgate-audit-v1\0" + seq.to_bytes(8, "big", signed=True) +
         t.to_bytes(8, "big", signed=True) + uid.to_bytes(8, "big", signed=True) +
         field(role) + field(name) + field(event) + field(rid) + field(details) +
         bytes.fromhex(prev))
    h = hashlib.sha256(m).hexdigest()
    c.execute("UPDATE audit SET time = ?, details = ?, prev_hash = ?, hash = ? "
              "WHERE seq = ?", (t, details, prev, h, seq))
    prev = h
c.commit()
EOPY
}
drop_triggers() {
	for t in $(sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name IN ('audit', 'checkpoints')"); do
		sqlite3 "$1" "DROP TRIGGER $t"
	done
}
# tapgated on the state as it is now, in the foreground: its exit status
start_once() {
	: >"$T/start.log"
	"$BUILD/tapgated" -c "$T/tapgate.conf" --state-dir "$T/state" \
	    --socket "$T/api.sock" 2>"$T/start.log" &
	p=$!
	i=0
	while [ $i -lt 100 ]; do
		curl -s --unix-socket "$T/api.sock" http://tapgated/healthz \
		    >/dev/null 2>&1 && { kill "$p"; break; }
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	wait "$p"
}

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --checkpoint-interval 1 ||
    { notok daemon_starts; exit 1; }
# a fresh state starts on the mark of the empty chain, and the first
# checkpoint moves it to the head: the start's own entries (the default
# policy's groups have no officers yet: their quorum alarms)
mark_at_head() {
	[ "$(jq .seq "$MARK" 2>/dev/null)" = \
	    "$(sqlite3 "$DB" 'SELECT count(*) FROM audit' 2>/dev/null)" ] &&
	    [ "$(stat -c %a "$MARK")" = 600 ]
}
check fresh_state_gets_the_mark_of_its_head_at_start wait_for 10 mark_at_head

# standard resets need no officer: the hold ends and the signer signs
for a in alice bob carol; do
	api POST /v1/requests "$(req password_reset $a "" hd-bob phone "[$OOB]")"
	jbody .id >>"$T/ids"
done
i=0
while read -r id; do
	while [ $i -lt 200 ]; do
		api GET "/v1/orders/$id"
		[ "$STATUS" = 200 ] && break
		sleep 0.05
		i=$((i + 1))
	done
	jq -r .jws "$T/body" >"$T/order-$id.jws"
done <"$T/ids"
ID1=$(head -n 1 "$T/ids")
ORDER=$T/order-$ID1.jws
check orders_are_signed [ -s "$ORDER" ]
payload "$ORDER" >"$T/payload.json"
JTI=$(jq -r .jti "$T/payload.json")
# the head the order was signed at: the entry before its order.issued
S=$(sqlite3 "$DB" "SELECT seq - 1 FROM audit WHERE event = 'order.issued' AND json_extract(details, '\$.jti') = '$JTI'")
H=$(sqlite3 "$DB" "SELECT hash FROM audit WHERE seq = $S")
check order_carries_the_audit_head_before_its_own_entry sh -c "
    [ \$(jq .audit.seq $T/payload.json) = $S ] && [ \$(jq -r .audit.hash $T/payload.json) = $H ]"
# more entries after the orders: the newest ones are what gets cut
for a in dave erin; do
	api POST /v1/requests "$(req password_reset $a "" hd-bob phone "[$OOB]")"
	$CTL requests deny "$(jbody .id)" --reason "test: not needed" >/dev/null
done
$CTL keys --all -o "$T/all.json"
$CTL keys -o "$T/jwks.json"
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp "$ORDER" \
    >"$T/tv.json" 2>"$T/tv.err"
check downstream_verifier_shows_the_orders_anchor sh -c "
    [ \$(jq .audit.seq $T/tv.json) = $S ] && [ \$(jq -r .audit.hash $T/tv.json) = $H ]"

$CTL audit verify --anchor "$ORDER" >"$T/v0" 2>&1
check anchor_of_an_order_holds_on_the_intact_log sh -c "
    [ $? -eq 0 ] && grep -q '^anchor held: entry $S of order $JTI' $T/v0"
# the head moves within a period or two: the checkpoint to export
i=0
while [ $i -lt 60 ]; do
	api GET /v1/audit/verify
	[ "$(jbody .checkpoint.seq)" = "$(jbody .head_seq)" ] && break
	sleep 0.1
	i=$((i + 1))
done
$CTL audit checkpoint -o "$T/cp.json" 2>"$T/cp.err"
check checkpoint_export_writes_the_latest_signed_head sh -c "
    [ $? -eq 0 ] && [ \$(jq -r .typ $T/cp.json) = tapgate-audit-checkpoint/v1 ] &&
    [ \$(jq .seq $T/cp.json) = \$(sqlite3 $DB 'SELECT max(seq) FROM checkpoints') ]"
S0=$(sha "$T/cp.json" 2>/dev/null)
$CTL audit checkpoint -o "$T/cp.json" 2>/dev/null
rc=$?
S1=$(sha "$T/cp.json" 2>/dev/null)
check checkpoint_export_never_overwrites \
    sh -c "[ $rc -ne 0 ] && [ -n '$S0' ] && [ '$S1' = '$S0' ]"
$CTL audit verify --anchor "$T/cp.json" --anchor "$ORDER" >/dev/null 2>&1
check several_anchors_hold_through_the_daemon [ $? -eq 0 ]
# an anchor counts only with the appliance's signature
jq -c ".seq = .seq - 1" "$T/cp.json" >"$T/cp-forged.json"
$CTL audit verify --anchor "$T/cp-forged.json" >/dev/null 2>"$T/forged.err"
check forged_checkpoint_is_no_anchor sh -c "
    [ $? -eq 1 ] && grep -q 'not signed by this appliance' $T/forged.err"
P=$(jq -c ".iat = 1" "$T/payload.json" | base64 -w0 |
    tr '+/' '-_' | tr -d '=')
cut -d. -f1 "$ORDER" | tr -d '\n' >"$T/order-forged.jws"
printf '.%s.%s' "$P" "$(cut -d. -f3 "$ORDER")" >>"$T/order-forged.jws"
$CTL audit verify --anchor "$T/order-forged.jws" >/dev/null 2>"$T/forged.err"
check altered_order_is_no_anchor sh -c "
    [ $? -eq 1 ] && grep -q 'not an order of this appliance' $T/forged.err"
daemon_stop
MARKSEQ=$(sqlite3 "$DB" 'SELECT max(seq) FROM audit')
check clean_stop_leaves_the_mark_at_the_head \
    [ "$(jq .seq "$MARK")" = "$MARKSEQ" ]
$OFF audit verify --state-dir "$T/state" --jwks "$T/all.json" \
    --anchor "$ORDER" --anchor "$T/cp.json" >"$T/v1" 2>&1
check offline_verify_holds_anchors_and_the_mark sh -c "
    [ $? -eq 0 ] && grep -q '^anchor held: entry $MARKSEQ of the high-water mark' $T/v1"
cp "$DB" "$T/pristine.db"
cp "$MARK" "$T/pristine.mark"
restore_pristine() {
	cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
	cp "$T/pristine.mark" "$MARK"
	drop_triggers "$DB"
}

# attack 1: the newest entries from the order's head on, and every
# checkpoint that covers them, deleted; the chain left links up
restore_pristine
sqlite3 "$DB" "DELETE FROM audit WHERE seq >= $S; DELETE FROM checkpoints WHERE seq >= $S"
mkdir -m 700 "$T/cut"
cp "$DB" "$T/cut/"
$OFF audit verify --state-dir "$T/cut" --jwks "$T/all.json" >"$T/c0" 2>&1
check control_the_cut_log_alone_still_verifies [ $? -eq 0 ]
$OFF audit verify --state-dir "$T/state" --jwks "$T/all.json" \
    --anchor "$ORDER" >"$T/c1" 2>&1
rc=$?
check anchor_of_an_order_finds_the_cut_log sh -c "
    [ $rc -eq 5 ] && grep -q '^anchor NOT HELD: entry $S of order $JTI.*no entry $S' $T/c1"
$OFF audit verify --state-dir "$T/state" --jwks "$T/all.json" >"$T/c2" 2>&1
check offline_verify_finds_the_cut_against_the_mark sh -c "
    [ $? -eq 1 ] && grep -q 'anchor NOT HELD: entry $MARKSEQ of the high-water mark' $T/c2"
MS=$(sha "$MARK" 2>/dev/null)
NCP=$(sqlite3 "$DB" 'SELECT count(*) FROM checkpoints')
start_once
rc=$?
MS2=$(sha "$MARK" 2>/dev/null)
check restart_on_the_cut_log_refuses_with_an_alarm sh -c "
    [ $rc -eq 1 ] && grep -q 'ALARM: the audit chain went backwards: the high-water mark signed entry $MARKSEQ hash' $T/start.log &&
    grep -q \"the chain's head is entry $((S - 1)) hash\" $T/start.log"
check nothing_is_signed_over_the_cut_log sh -c "
    [ \$(sqlite3 $DB 'SELECT count(*) FROM checkpoints') = $NCP ] &&
    [ -n '$MS' ] && [ '$MS2' = '$MS' ] && ! grep -q 'audit checkpoint: entry' $T/start.log"
# a mark lowered to the cut does not verify
jq -c ".seq = $((S - 1)) | .hash = \"$(sqlite3 "$DB" "SELECT hash FROM audit WHERE seq = $S - 1")\"" \
    "$T/pristine.mark" >"$MARK"
start_once
rc=$?
check a_forged_mark_is_refused sh -c "
    [ $rc -eq 1 ] && grep -q 'ALARM: the audit high-water mark .* does not verify' $T/start.log"

# attack 2: an entry rewritten, the whole chain re-hashed, every
# checkpoint deleted
restore_pristine
sqlite3 "$DB" "DELETE FROM checkpoints"
rehash "$DB" 0 2
mkdir -m 700 "$T/rehashed"
cp "$DB" "$T/rehashed/"
$OFF audit verify --state-dir "$T/rehashed" >"$T/r0" 2>&1
check control_the_rehashed_log_alone_verifies [ $? -eq 0 ]
$OFF audit verify --state-dir "$T/state" --jwks "$T/all.json" \
    --anchor "$ORDER" >"$T/r1" 2>&1
rc=$?
check anchor_of_an_order_finds_the_rewritten_log sh -c "
    [ $rc -eq 5 ] && grep -q '^anchor NOT HELD: entry $S of order $JTI.*(rewritten)' $T/r1"
start_once
rc=$?
check restart_on_the_rewritten_log_refuses_with_an_alarm sh -c "
    [ $rc -eq 1 ] && grep -q 'ALARM: the audit chain went backwards: .*entry $MARKSEQ has hash .*(rewritten)' $T/start.log"
check nothing_is_signed_over_the_rewritten_log sh -c "
    [ \$(sqlite3 $DB 'SELECT count(*) FROM checkpoints') = 0 ] && ! grep -q 'audit checkpoint: entry' $T/start.log"

# the stale tail: no checkpoint covers entries written an hour ago
restore_pristine
sqlite3 "$DB" "DELETE FROM checkpoints"
rehash "$DB" -3600
cp "$DB" "$T/rehashed/tapgate.db"
$OFF audit verify --state-dir "$T/rehashed" --json >"$T/s1.json" 2>&1
check stale_tail_fails_verify sh -c "
    [ $? -eq 1 ] && [ \$(jq -r .why $T/s1.json) = stale ] && [ \$(jq .bad_seq $T/s1.json) = 1 ]"
$OFF audit verify --state-dir "$T/rehashed" --checkpoint-interval 7200 \
    >/dev/null 2>&1
check stale_tail_is_measured_against_the_signers_period [ $? -eq 0 ]

# a deleted mark: refused, unless accepted (audited)
restore_pristine
rm -f "$MARK"
start_once
rc=$?
check restart_without_the_mark_refuses sh -c "
    [ $rc -eq 1 ] && grep -q 'ALARM: no audit high-water mark' $T/start.log"
cp "$T/pristine.db" "$DB"; rm -f "$DB-wal" "$DB-shm"
: >"$T/daemon.log"
daemon_start "$T/tapgate.conf" --accept-audit-head ||
    notok daemon_starts_with_accept_audit_head
$CTL audit tail -n 5 --json >"$T/tail.json"
N=$(jq '[.entries[] | select(.event == "audit.head_accepted" and .details.mark == null and .details.head.seq > 0)] | length' "$T/tail.json")
check accepted_head_is_audited [ "$N" = 1 ]
$CTL audit verify >/dev/null 2>&1
check accepted_log_verifies_with_its_new_mark sh -c "
    [ $? -eq 0 ] && [ \$(jq .seq $MARK) -gt $MARKSEQ ]"
daemon_stop

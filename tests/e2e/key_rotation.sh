#!/bin/sh
# SPDX-License-Identifier: ISC
# Co-signing key rotation with a real daemon and real (software) security
# keys: an order signed before the rotation still verifies against the new
# JWKS, orders after it carry the new kid, the old kid leaves the JWKS when
# its last order has expired (orders live 60 s here, the shortest the
# policy allows), signed audit checkpoints verify across the rotation and
# a restart (online, and offline with every key), and a daemon killed
# during or after a rotation starts with a usable key.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf" 's/order_ttl_seconds = [0-9]+;/order_ttl_seconds = 60;/'
start() {
	daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
	    --token-timeout 5000 --checkpoint-interval 1
}
start || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben

# order ACCOUNT FILE: a fully approved admin reset's order, its JWS in FILE
order() {
	id=$(admin_reset "$1")
	approve "$id" ann && approve "$id" ben || return 1
	wait_for 10 status_is 200 GET "/v1/orders/$id" || return 1
	jq -r .jws "$T/body" >"$2"
}
kid_of() { cut -d. -f1 "$1" | tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d | jq -r .kid; }
exp_of() { cut -d. -f2 "$1" | tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d | jq -r .exp; }
verify() {	# jwks jws
	"$BUILD/tapgate-verify" --jwks "$1" --aud ldap-corp \
	    --approvers "$T/approvers.json" --min-approvals 2 "$2" \
	    >"$T/verified.json" 2>"$T/verify.err"
}
kids() { jq -r '[.keys[].kid] | sort | join(" ")' "$1"; }
jqe() { jqtrue "$@"; }
# same A B: A is not empty and equals B (two failed reads are not equal)
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
# verify_ok_with_checkpoint_of KID: the daemon's audit verify is OK and its
# latest checkpoint was signed with KID (the daemon signs within 1 s)
verify_ok_with_checkpoint_of() {
	# shellcheck disable=SC2016 # $k is a jq variable
	CTL audit verify --json >"$T/verify.json" 2>/dev/null &&
	    jqe --arg k "$1" '.ok == true and .checkpoint.kid == $k' \
	    "$T/verify.json"
}

order alice "$T/o1.jws"
check order_before_rotation_is_issued [ -s "$T/o1.jws" ]
CTL keys -o "$T/jwks1.json"
CTL approvers export -o "$T/approvers.json"
K1=$(jq -r '.keys[0].kid' "$T/jwks1.json")
check order_carries_the_active_kid same "$(kid_of "$T/o1.jws")" "$K1"

api_as 65534 POST /v1/keys/rotate '{}'
check rotation_is_refused_to_a_non_operator [ "$STATUS" = 403 ]
api_as 65534 GET /v1/keys
check jwks_is_still_public [ "$STATUS" = 200 ]
api POST /v1/keys/rotate '{}'
check operator_rotates_the_key [ "$STATUS" = 200 ]
K2=$(jbody .kid)
K3=$(jbody .next_kid)
check rotation_names_old_and_new_kid \
    sh -c "[ -n '$K1' ] && [ '$(jbody .retired_kid)' = '$K1' ] && [ -n '$K2' ] && [ '$K2' != '$K1' ] && [ -n '$K3' ] && [ '$K3' != '$K2' ]"
check old_key_published_until_its_order_expires \
    same "$(jbody .retired_published_until)" "$(exp_of "$T/o1.jws")"
CTL keys -o "$T/jwks2.json"
# shellcheck disable=SC2016 # $a, $b: jq variables
check jwks_holds_old_and_new_key_but_not_the_standby \
    jqe --arg a "$K1" --arg b "$K2" '[.keys[].kid] | sort == ([$a, $b] | sort)' "$T/jwks2.json"
verify "$T/jwks2.json" "$T/o1.jws"
check order_signed_before_rotation_verifies_with_new_jwks [ $? -eq 0 ]
public_half_only() {
	set -- "$T"/state/*key.sealed*
	[ ! -e "$T/state/.cosign.key.retiring" ] && [ $# -eq 2 ] && [ -e "$1" ] &&
	    jqe '[.retired[].key | has("d")] == [false]' \
	    "$T/state/cosign.retired.json"
}
check old_private_key_is_destroyed_only_its_public_half_kept \
    public_half_only

order bob "$T/o2.jws"
check order_after_rotation_carries_the_new_kid same "$(kid_of "$T/o2.jws")" "$K2"
verify "$T/jwks2.json" "$T/o2.jws"
check order_after_rotation_verifies [ $? -eq 0 ]
verify "$T/jwks1.json" "$T/o2.jws"
check new_order_does_not_verify_with_the_old_jwks \
    sh -c "[ $? -eq 4 ] && grep -q 'unknown kid' $T/verify.err"

CTL audit tail -n 100 --json >"$T/audit.json"
# shellcheck disable=SC2016 # $a, $b: jq variables
check rotation_is_audited_with_both_kids jqe --arg a "$K1" --arg b "$K2" \
    '[.entries[] | select(.event == "key.rotate") | .details] |
    .[0].old_kid == $a and .[0].new_kid == $b' "$T/audit.json"
check audit_verifies_after_rotation \
    wait_for 10 verify_ok_with_checkpoint_of "$K2"
CTL keys --all -o "$T/all.json"
check all_keys_lists_every_signing_key [ "$(jq '.keys | length' "$T/all.json")" -eq 2 ]

# restart: the new key stays active, the checkpoints of both keys verify
daemon_stop
CTL audit verify --state-dir "$T/state" --jwks "$T/all.json" >/dev/null 2>"$T/offline.err"
check offline_audit_verify_with_every_key_passes [ $? -eq 0 ]
CTL audit verify --state-dir "$T/state" --jwks "$T/jwks1.json" --json \
    >"$T/offline1.json" 2>&1
rc=$?
offline_refused() {
	[ "$rc" -eq 1 ] &&
	    jqe '.ok == false and .why == "unknown_key"' "$T/offline1.json"
}
check offline_audit_verify_without_the_new_key_fails offline_refused
start || notok daemon_restarts
api GET /v1/keys
# shellcheck disable=SC2016 # $a, $b: jq variables
check restart_keeps_the_new_key_active_and_the_old_published answered 200 \
    '$a != "" and $b != "" and
    ([.keys[].kid] | index($a) != null and index($b) != null)' \
    --arg a "$K1" --arg b "$K2"
CTL audit verify >/dev/null
check audit_verifies_after_restart [ $? -eq 0 ]

# the old kid leaves the JWKS once its last order has expired: the
# clock passes the order's exp (orders live 60 s here), then the JWKS
# lists the new kid alone
EXP=$(exp_of "$T/o1.jws")
past() { [ "$(date +%s)" -gt "$1" ]; }
old_kid_gone() {
	CTL keys -o "$T/jwks3.json" && same "$(kids "$T/jwks3.json")" "$K2"
}
check old_order_expires wait_for 90 past "${EXP:-9999999999}"
check old_kid_leaves_the_jwks_after_its_orders_expire \
    wait_for 10 old_kid_gone
CTL keys --all -o "$T/all3.json"
check retired_key_stays_for_audit_checkpoints \
    [ "$(jq '.keys | length' "$T/all3.json")" -eq 2 ]
CTL audit verify >/dev/null
check audit_verifies_after_the_old_key_left_the_jwks [ $? -eq 0 ]

# kill -9 right after a rotation: the new key is active after restart
CTL keys rotate >"$T/rot.out"
check console_rotates_the_key grep -q "co-signing key rotated: $K3 is active" "$T/rot.out"
CTL keys rotate --json >"$T/rot.json"
K4=$(jq -r '.kid // empty' "$T/rot.json")
kill_pid daemon_is_killed KILL "$DAEMON_PID"
wait_exit "$DAEMON_PID"; DAEMON_PID=
start || notok daemon_starts_after_kill_after_rotation
api GET /v1/keys
# shellcheck disable=SC2016 # $k: jq variable
check daemon_killed_after_rotation_starts_with_the_new_key answered 200 \
    '$k != "" and ([.keys[].kid] | index($k) != null)' --arg k "$K4"
order carol "$T/o3.jws"
check killed_daemon_signs_with_the_new_key same "$(kid_of "$T/o3.jws")" "$K4"

# kill -9 between recording the retired key and making the standby active:
# the start completes the rotation (and audits it); a half-destroyed old
# blob is wiped
api POST /v1/keys/rotate '{}'
check operator_rotates_again [ "$STATUS" = 200 ]
NEXT=$(jbody '.next_kid // empty')
CUR=$(jbody '.kid // empty')
api GET /v1/keys
jq --arg k "$CUR" '.keys[] | select(.kid == $k)' "$T/body" >"$T/cur.jwk"
check active_key_is_read_back [ "$STATUS" = 200 -a -s "$T/cur.jwk" ]
kill_pid daemon_is_killed_again KILL "$DAEMON_PID"
wait_exit "$DAEMON_PID"; DAEMON_PID=
NOW=$(date +%s)
jq --slurpfile k "$T/cur.jwk" --arg n "$NEXT" --argjson t "$NOW" \
    '.retired += [{key: $k[0], retired: $t, publish_until: $t, successor: $n}]' \
    "$T/state/cosign.retired.json" >"$T/retired.new"
cat "$T/retired.new" >"$T/state/cosign.retired.json"
printf 'stale sealed blob' >"$T/state/.cosign.key.retiring"
chmod 600 "$T/state/.cosign.key.retiring"
start || notok daemon_starts_after_kill_during_rotation
api GET /v1/keys
rotation_completed() {
	# shellcheck disable=SC2016 # $k is a jq variable
	answered 200 '$k != "" and ([.keys[].kid] | index($k) != null)' \
	    --arg k "$NEXT" &&
	    grep -q "interrupted rotation completed" "$T/daemon.log"
}
check interrupted_rotation_is_completed_at_start rotation_completed
check leftover_old_blob_is_destroyed [ ! -e "$T/state/.cosign.key.retiring" ]
order dave "$T/o4.jws"
check completed_rotation_signs_with_the_new_key same "$(kid_of "$T/o4.jws")" "$NEXT"
CTL audit tail -n 50 --json >"$T/audit2.json"
check completed_rotation_is_audited jqe '[.entries[] | select(.event ==
    "key.rotate" and .details.completed_at_start == true)] | length == 1' \
    "$T/audit2.json"
check audit_verifies_after_crashes \
    wait_for 10 verify_ok_with_checkpoint_of "$NEXT"

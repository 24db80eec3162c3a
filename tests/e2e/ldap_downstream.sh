#!/bin/sh
# SPDX-License-Identifier: ISC
# A real downstream: a private OpenLDAP slapd on loopback holds alice, an
# admin in a privileged group.  Two officers approve an admin password
# reset for her with their (software) security keys, the hold runs out and
# the appliance co-signs the order.  The LDAP connector
# (contrib/ldap-connector/tapgate-ldap-apply) applies it only when
# tapgate-verify accepts it: tampered, truncated, forged, wrong-audience,
# expired, not-yet-valid and unpinned-approver orders each leave the
# directory exactly as it was and exit with their own status; the genuine
# order resets her password (the new one binds, the old one no longer
# does) and drops her privileged group, once: two concurrent runs apply it
# once, and a replay changes nothing.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/ldap.sh
trap 'ldap_stop; daemon_stop; keys_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

V=$BUILD/tapgate-verify
APPLY=contrib/ldap-connector/tapgate-ldap-apply
S=dc=corp,dc=test
ALICE=uid=alice,ou=people,$S
BOB=uid=bob,ou=people,$S
SVC=cn=tapgate-connector,ou=services,$S
RESETTERS=cn=password-resetters,ou=groups,$S
ADMINS=cn=domain-admins,ou=groups,$S
STAFF=cn=staff,ou=groups,$S
OLD=alice-Old-Passw0rd

if ! ldap_have; then
	notok ldap_tools_installed "slapd and ldap-utils are needed (make deps)"
	exit 1
fi
if [ ! -x "$V" ]; then
	notok ldap_downstream_programs_built "missing $V"
	exit 1
fi

not() { ! "$@"; }
starts() { case $1 in "$2"*) ;; *) return 1 ;; esac; }
has_member() { ldap_attr "$1" member | grep -qxF "member: $2"; }
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
unb64u() { tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d; }

# ---- the directory: the connector's account may write passwords and
# group membership, nothing else
ldap_init "$T/ldap" "$S" \
    "to attrs=userPassword by group.exact=\"$RESETTERS\" =w by self =w by anonymous auth by * none" \
    "to dn.one=\"ou=groups,$S\" attrs=member by group.exact=\"$RESETTERS\" write by users read by * none" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$T/svc.pw")
cat >"$T/entries.ldif" <<EOF
dn: $ALICE
objectClass: inetOrgPerson
uid: alice
cn: Alice Admin
sn: Admin
userPassword: $(ldap_hash "$OLD")

dn: $BOB
objectClass: inetOrgPerson
uid: bob
cn: Bob User
sn: User
userPassword: $(ldap_hash bob-Passw0rd)

dn: $SVC
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tapgate-connector
userPassword: $(ldap_hash "$(cat "$T/svc.pw")")

dn: $RESETTERS
objectClass: groupOfNames
cn: password-resetters
member: $SVC

dn: $ADMINS
objectClass: groupOfNames
cn: domain-admins
member: cn=placeholder,ou=services,$S
member: $ALICE

dn: $STAFF
objectClass: groupOfNames
cn: staff
member: $ALICE
member: $BOB

EOF
ldap_add_ldif "$T/entries.ldif" ||
	{ notok directory_entries_load "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
check slapd_serves_alice_on_a_private_loopback_port ldap_bind "$ALICE" "$OLD"
check slapd_refuses_a_wrong_password not ldap_bind "$ALICE" wrong-password

# everything a change could touch
dir_state() {
	ldap_attr "$ALICE" userPassword
	ldap_attr "$BOB" userPassword
	ldap_attr "$ADMINS" member
	ldap_attr "$STAFF" member
}
dir_state >"$T/before"
check directory_state_is_readable \
    [ "$(grep -c '^userPassword:: ' "$T/before")" -eq 2 -a \
    "$(grep -c '^member: ' "$T/before")" -eq 4 ]

# ---- the appliance: two officers approve an admin reset of alice
make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann && enroll officer-ben security_officer ben
check two_officers_enrol [ $? -eq 0 ]
api POST /v1/requests "$(req password_reset alice admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" \
    ',"changes":{"password":"reset","force_change_at_logon":false}')"
ID=$(jbody .id)
check admin_reset_of_alice_on_ldap_corp_is_submitted [ "$STATUS" = 201 ]
approve "$ID" ann && approve "$ID" ben
check both_officers_approve_with_touch_and_pin [ $? -eq 0 ]
i=0
while [ $i -lt 100 ]; do	# the test config's hold is 2 s
	api GET "/v1/orders/$ID"
	[ "$STATUS" = 200 ] && break
	sleep 0.1
	i=$((i + 1))
done
check appliance_cosigns_the_order_after_the_hold [ "$STATUS" = 200 ]
jq -r .jws "$T/body" >"$T/order.jws"
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
check jwks_and_approvers_export_are_fetched \
    sh -c "[ \$(jq '.keys | length' $T/jwks.json) -eq 1 ] && [ \$(jq '.approvers | length' $T/approvers.json) -eq 2 ]"

# ---- attacker-made variants of the order
O=$(cat "$T/order.jws")
H=${O%%.*} R=${O#*.}
P=${R%%.*} SIG=${R#*.}
PAYLOAD=$(printf '%s' "$P" | unb64u)
printf '%s\n' "$PAYLOAD" >"$T/payload.json"
NBF=$(jq .nbf "$T/payload.json")
EXP=$(jq .exp "$T/payload.json")
check order_asks_for_a_reset_and_carries_no_password jqtrue \
    '.change.changes == {"password": "reset",
    "force_change_at_logon": false} and .aud == "ldap-corp" and
    .change.entitlements_dropped.all_privileged' "$T/payload.json"
check order_states_the_approvals_its_policy_required jqtrue \
    '.change.policy.approvals_required ==
    [{"group": "security_officer", "count": 2}]' "$T/payload.json"
# the change redirected to bob, the payload re-encoded, the signature kept
printf '%s.%s.%s\n' "$H" "$(printf '%s' "$PAYLOAD" |
    sed 's/"account":"alice"/"account":"bob"/' | b64u)" "$SIG" >"$T/retarget.jws"
# one character of the payload part flipped
c=$(printf '%s' "$P" | cut -c 200)
[ "$c" = A ] && d=B || d=A
printf '%s%s%s.%s\n' "$H." "$(printf '%s' "$P" | cut -c 1-199)$d" \
    "$(printf '%s' "$P" | cut -c 201-)" "$SIG" >"$T/flip.jws"
# the signature cut off
printf '%s.%s\n' "$H" "$P" >"$T/cut.jws"
# signed by a key of the attacker's: under its own kid, and under the
# appliance's kid
openssl genpkey -algorithm ed25519 -out "$T/atk.pem" 2>/dev/null
X=$(openssl pkey -in "$T/atk.pem" -pubout -outform DER | tail -c 32 | b64u)
AKID=$(printf '{"crv":"Ed25519","kty":"OKP","x":"%s"}' "$X" |
    openssl dgst -sha256 -binary | b64u)
printf '{"keys":[{"alg":"EdDSA","crv":"Ed25519","kid":"%s","kty":"OKP","use":"sig","x":"%s"}]}\n' \
    "$AKID" "$X" >"$T/atk-jwks.json"
KID=$(jq -r '.keys[0].kid' "$T/jwks.json")
H2=$(printf '%s' "$H" | unb64u | sed "s/\"$KID\"/\"$AKID\"/" | b64u)
sign() { printf '%s' "$1" >"$T/si"; openssl pkeyutl -sign -rawin \
    -inkey "$T/atk.pem" -in "$T/si" | b64u; }
printf '%s.%s.%s\n' "$H2" "$P" "$(sign "$H2.$P")" >"$T/forged.jws"
printf '%s.%s.%s\n' "$H" "$P" "$(sign "$H.$P")" >"$T/forged-kid.jws"
"$V" --jwks "$T/atk-jwks.json" --aud ldap-corp \
    --approvers "$T/approvers.json" --min-approvals 2 "$T/forged.jws" \
    >/dev/null 2>"$T/err"
check forged_order_is_well_formed_and_verifies_only_with_the_forgers_key \
    [ $? -eq 0 ]
# the directory pins only officer-ann
jq '.approvers |= map(select(.name == "officer-ann"))' "$T/approvers.json" \
    >"$T/approvers-ann.json"

# ---- the connector
mkdir -m 700 "$T/handover" "$T/conn"
# conn [options] ORDER: the connector as the directory's side runs it;
# with NOPRIV set, configured without privileged groups
NOPRIV=
conn() {
	[ -n "$NOPRIV" ] || set -- --privileged-group "$ADMINS" "$@"
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --min-approvals 2 --aud ldap-corp \
	    --redeem-db "$T/conn/redeemed.db" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" --bind-pw-file "$T/svc.pw" \
	    --out-dir "$T/handover" "$@"
}
# refused NAME STATUS [options] ORDER: the connector exits STATUS, says
# why, and the directory is as it was, with no password handed out
refused() {
	name=$1 want=$2; shift 2
	conn "$@" >"$T/conn.out" 2>"$T/conn.err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		notok "$name" "exit $rc, expected $want: $(cat "$T/conn.err")"
	elif [ ! -s "$T/conn.err" ]; then
		notok "$name" "refused without a message"
	elif ! unchanged "$(cat "$T/before")" "$(dir_state)"; then
		notok "$name" "the directory changed"
	elif [ -n "$(ls -A "$T/handover")" ]; then
		notok "$name" "a password was handed out"
	else
		ok "$name"
		sed 's/^/#   /' "$T/conn.err"
	fi
}

refused order_retargeted_to_another_account_is_refused 5 "$T/retarget.jws"
refused order_with_a_flipped_character_is_refused 5 "$T/flip.jws"
refused order_without_its_signature_is_refused_as_malformed 3 "$T/cut.jws"
refused order_forged_with_another_key_is_refused_as_unknown_kid 4 \
    "$T/forged.jws"
refused order_forged_under_the_appliance_kid_is_refused 5 \
    "$T/forged-kid.jws"
refused order_for_ldap_corp_is_refused_by_another_system 6 --aud hr-ldap \
    "$T/order.jws"
refused order_before_its_nbf_is_refused 7 --check --now $((NBF - 3600)) \
    "$T/order.jws"
refused expired_order_is_refused 8 --check --now $((EXP + 3600)) "$T/order.jws"
refused order_with_an_unpinned_approver_is_refused 10 \
    --approvers "$T/approvers-ann.json" "$T/order.jws"
NOPRIV=1
refused order_dropping_privileges_where_none_are_configured_is_not_redeemed \
    11 "$T/order.jws"
NOPRIV=
check alice_still_signs_in_with_her_old_password ldap_bind "$ALICE" "$OLD"

# ---- the genuine order, twice at once (stdin and file): applied once
conn - <"$T/order.jws" >"$T/conn1.out" 2>"$T/conn1.err" &
p1=$!
conn "$T/order.jws" >"$T/conn2.out" 2>"$T/conn2.err" &
p2=$!
wait_exit $p1 60
r1=$?
wait_exit $p2 60
r2=$?
check genuine_order_is_applied_exactly_once_by_concurrent_runs \
    [ $((r1 + r2)) -eq 9 -a $((r1 * r2)) -eq 0 ]
PWF=$(ls "$T"/handover/alice.* 2>/dev/null)
check one_temporary_password_is_handed_out \
    sh -c "[ \$(ls -A $T/handover | wc -l) -eq 1 ] && [ -f '$PWF' ] && [ \$(stat -c %a '$PWF') = 600 ]"
NEW=$(cat "$PWF" 2>/dev/null)
check new_password_is_made_by_the_connector_not_taken_from_the_order \
    [ ${#NEW} -eq 20 -a "$(grep -cF -- "$NEW" "$T/order.jws" "$T/payload.json" | grep -c ':0$')" -eq 2 ]
check alice_signs_in_with_the_new_password ldap_bind "$ALICE" "$NEW"
check alice_old_password_no_longer_works not ldap_bind "$ALICE" "$OLD"
# a new value (the old one was hashed too), hashed
hashed_anew() {
	h=$(ldap_attr "$ALICE" userPassword)
	[ -n "$h" ] && [ "$h" != "$(sed -n 1p "$T/before")" ] &&
	    starts "$(printf '%s\n' "$h" | sed 's/^userPassword:: //' |
	    base64 -d)" '{SSHA}'
}
check directory_stores_the_new_password_hashed hashed_anew
check alice_loses_her_privileged_group not has_member "$ADMINS" "$ALICE"
check alice_keeps_her_ordinary_group has_member "$STAFF" "$ALICE"
check bob_is_untouched \
    unchanged "$(sed -n 2p "$T/before")" "$(ldap_attr "$BOB" userPassword)"

# ---- a replay changes nothing
dir_state >"$T/before"
mv "$PWF" "$T/handed-over"
refused replayed_order_is_refused_and_changes_nothing 9 "$T/order.jws"
sed 's/^/#   /' "$T/conn1.out" "$T/conn2.out" "$T/conn1.err" "$T/conn2.err"
check alice_keeps_the_password_of_the_first_run ldap_bind "$ALICE" "$NEW"

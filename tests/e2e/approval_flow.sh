#!/bin/sh
# SPDX-License-Identifier: ISC
# The whole story with real security-key code paths: officers enrol their
# (software) keys with attestation checked, an admin password reset is
# approved by two officers with touch and PIN, the hold runs out, the
# appliance co-signs the order, and it verifies and is redeemed once.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
key_start eve

check daemon_alarms_when_no_officer_is_enrolled \
    grep -q 'ALARM: approver group security_officer has 0' "$T/daemon.log"
enroll officer-ann security_officer ann
check officer_enrols_with_attested_key [ $? -eq 0 ]
enroll officer-ben security_officer ben
CTL approvers list >"$T/approvers"
check enrolled_officers_are_listed \
    sh -c "grep -q '^officer-ann .*active' $T/approvers && grep -q '^officer-ben .*active' $T/approvers"
echo "$PIN" | CTL approvers enroll --name mallory --group security_officer \
    --device "softfido:$T/ann.sock" >/dev/null 2>"$T/err"
rc=$?
check same_credential_cannot_enrol_twice_under_another_name \
    [ "$rc" != 0 -a "$(refusal "$T/err")" = "409 already_enrolled" ]

ID=$(admin_reset alice)
check admin_reset_with_evidence_waits_for_two_officers \
    [ "$(jbody .state)" = needs_approval ]
api GET "/v1/requests/$ID/approval"
check approval_preview_names_the_change_and_its_digest \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .change.target.account $T/body) = alice ] && [ \$(jq -r '.change_digest | length' $T/body) -eq 43 ]"
approve "$ID" ann
check first_officer_approves_with_touch_and_pin \
    sh -c "[ $? -eq 0 ] && grep -q 'approved by officer-ann' $T/approve.out && grep -q needs_approval $T/approve.out"
grep -q 'You are approving' "$T/approve.out"
check console_shows_what_is_approved [ $? -eq 0 ]
approve "$ID" ann
check same_officer_cannot_approve_twice [ "$(approve_code)" = already_approved ]
approve "$ID" eve
check unenrolled_key_cannot_approve [ "$(approve_code)" = not_enrolled ]
api POST "/v1/requests/$ID/evidence" "{\"evidence\":[$(ev account_history pass hd-bob chat h)]}"
check evidence_is_final_once_approved \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = evidence_final ]
approve "$ID" ben
check second_officer_starts_the_hold \
    sh -c "[ $? -eq 0 ] && grep -q in_hold $T/approve.out"
api GET "/v1/orders/$ID"
check no_order_during_the_hold [ "$STATUS" = 404 ]
check hold_end_makes_request_ready wait_for 10 request_in_state "$ID" ready
wait_for 10 status_is 200 GET "/v1/orders/$ID"
check appliance_cosigns_the_order \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r '.jws | split(\".\") | length' $T/body) -eq 3 ]"
jq -r .jws "$T/body" >"$T/order.jws"
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
check jwks_and_approver_export_are_published \
    sh -c "[ \$(jq '.keys | length' $T/jwks.json) -eq 1 ] && [ \$(jq '.approvers | length' $T/approvers.json) -eq 2 ]"
PAYLOAD=$(cut -d. -f2 "$T/order.jws" | tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d)
echo "$PAYLOAD" >"$T/payload.json"
check order_carries_change_and_both_assertions \
    sh -c "[ \$(jq -r .aud $T/payload.json) = ldap-corp ] && [ \$(jq '.approvals | length' $T/payload.json) -eq 2 ] && [ \$(jq -r .change.target.class $T/payload.json) = admin ]"
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
    --approvers "$T/approvers.json" --min-approvals 2 "$T/order.jws" \
    >"$T/verified.json" 2>"$T/verify.err"
check tapgate_verify_accepts_the_order_and_both_approvals \
    sh -c "[ $? -eq 0 ] && [ \$(jq -r .change.target.account $T/verified.json) = alice ]"
# Debian's python3 (python3-jwcrypto, from make deps): the python3 first
# on PATH may be another one, without the module
PY=/usr/bin/python3
if ! [ -x "$PY" ]; then
	skip independent_jose_library_verifies_the_appliance_signature \
	    "no $PY (Debian's python3 and python3-jwcrypto: make deps)"
elif ! "$PY" -c 'import jwcrypto' 2>"$T/jwcrypto.err"; then
	skip independent_jose_library_verifies_the_appliance_signature \
	    "$PY cannot import jwcrypto (python3-jwcrypto: make deps):" \
	    "$(tail -n 1 "$T/jwcrypto.err")"
else
	"$PY" - "$T/jwks.json" "$T/order.jws" >"$T/jwcrypto.out" 2>&1 <<'EOPY'
import json, sys
from jwcrypto import jwk, jws
keys = jwk.JWKSet.from_json(open(sys.argv[1]).read())
token = open(sys.argv[2]).read().strip()
obj = jws.JWS()
obj.deserialize(token)
kid = obj.jose_header["kid"]
obj.verify(keys.get_key(kid))
print(json.loads(obj.payload)["aud"])
EOPY
	check independent_jose_library_verifies_the_appliance_signature \
	    grep -qx ldap-corp "$T/jwcrypto.out"
fi
api POST "/v1/orders/$ID/redeem"
check downstream_redeems_the_order_once [ "$STATUS" = 200 ]
api POST "/v1/orders/$ID/redeem"
check replayed_redeem_is_refused \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = already_redeemed ]
api POST "/v1/requests/$ID/order" '{}'
check signer_never_signs_a_request_twice \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = order_exists ]

CTL audit tail -n 200 --json >"$T/audit.json"
check approvals_and_order_are_audited \
    jqtrue '[.entries[].event] | (index("approver.enrolled") != null) and
    (index("request.approved") != null) and (index("order.issued") != null)
    and (index("order.redeemed") != null)' "$T/audit.json"
CRED=$(jq -r '.approvers[0].credential_id // empty' "$T/approvers.json")
no_full_credential_id() {
	[ -n "$CRED" ] && jqtrue '.entries | length > 0' "$T/audit.json" &&
	    ! grep -q "$CRED" "$T/audit.json"
}
check audit_never_holds_a_full_credential_id no_full_credential_id
CTL audit verify >/dev/null
check audit_chain_verifies_after_the_flow [ $? -eq 0 ]

# ES256 instead of EdDSA: selectable, and never silently switched under a
# sealed key of the other algorithm
daemon_stop
make_config "$T/es256.conf" 's/^	alg = "EdDSA";/	alg = "ES256";/'
"$BUILD/tapgated" -c "$T/es256.conf" --state-dir "$T/state" \
    --socket "$T/api.sock" 2>"$T/es256.err" &
wait_exit $! 30
check sealed_key_of_another_algorithm_is_refused \
    sh -c "[ $? -eq 1 ] && grep -q 'co-signing key' $T/es256.err"
mv "$T/state" "$T/state.eddsa"
daemon_start "$T/es256.conf" || notok daemon_starts_with_es256
api GET /v1/keys
check es256_signing_key_is_published [ "$STATUS" = 200 -a \
    "$(jbody '.keys[0].kty')" = EC -a "$(jbody '.keys[0].alg')" = ES256 ]

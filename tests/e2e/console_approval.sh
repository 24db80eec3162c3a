#!/bin/sh
# SPDX-License-Identifier: ISC
# An officer approving from the web console, without a browser: the
# browser's part is played by e2e_console_assert, stock libfido2 driving a
# real softfido with the SHA-256 of a clientDataJSON this script writes,
# as a browser writes it.  The appliance issues a nonce per attempt
# (begin), and takes the assertion (finish) only for that request, that
# officer, once, before it expires, with the challenge
# base64url(SHA-256(change digest || nonce)), from a console origin, with
# user verification, by the officer's own key; two officers approving so
# make an order tapgate-verify accepts.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

ORIGIN=https://console.tapgate.local:8443
ANN=2001 BEN=2002
# ann and ben are officers at their own uids, enrolled as officer-ann and
# officer-ben (their principals' officer setting)
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { uid = $ANN; roles = [\"officer\"]; },\\n    { uid = $BEN; roles = [\"officer\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { uid = $ANN; name = \"ann\"; team = \"appliance\"; officer = \"officer-ann\"; },\\n    { uid = $BEN; name = \"ben\"; team = \"appliance\"; officer = \"officer-ben\"; },/"
cat >>"$T/tapgate.conf" <<EOC
console = { origins = [ "$ORIGIN" ]; nonce_seconds = 10; };
EOC
daemon_start "$T/tapgate.conf" --token-timeout 5000 ||
    { notok daemon_starts_with_a_console; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann ||
    notok officer_ann_enrols "$(cat "$T/enrol.err")"
enroll officer-ben security_officer ben ||
    notok officer_ben_enrols "$(cat "$T/enrol.err")"
ID=$(admin_reset alice)
ID2=$(admin_reset bob)
ID3=$(admin_reset carol officer-ann)

# begin UID ID: a nonce for that officer and request; NONCE, CHAL, CRED
begin() {
	api_as "$1" POST "/v1/requests/$2/console-approval/begin"
	NONCE=$(jbody '.nonce // empty')
	CHAL=$(jbody '.challenge // empty')
	CRED=$(jbody '.allow_credentials[0].id // empty')
}
# clientdata CHALLENGE [ORIGIN [TYPE]]: the clientDataJSON a browser writes
clientdata() {
	printf '{"type":"%s","challenge":"%s","origin":"%s","crossOrigin":false}' \
	    "${3:-webauthn.get}" "$1" "${2:-$ORIGIN}" >"$T/cd.json"
}
# sign KEY CRED [PIN|-]: the key's assertion over $T/cd.json into $T/as.json
sign() {
	"$BUILD/tests/e2e_console_assert" "softfido:$T/$1.sock" "${3:-$PIN}" \
	    tapgate.local "$T/cd.json" "$2" >"$T/as.json" 2>"$T/as.err"
}
# finish UID ID [NONCE]: the assertion of $T/as.json with the nonce
finish() {
	api_as "$1" POST "/v1/requests/$2/console-approval" \
	    "$(jq -c --arg n "${3:-$NONCE}" '. + {nonce: $n}' "$T/as.json")"
}
# refused STATUS CODE: the last answer was that refusal (else shown)
refused() {
	if [ "$STATUS" = "$1" ] && [ "$(jbody .error.code)" = "$2" ]; then
		return 0
	fi
	echo "#   HTTP $STATUS $(cat "$T/body")"
	return 1
}

# a uid without the officer role gets nothing
api_as 65534 POST "/v1/requests/$ID/console-approval/begin"
check unprivileged_uid_cannot_begin_a_console_approval [ "$STATUS" = 403 ]
# separation of duties before any touch, as at the box
begin $ANN "$ID3"
check requester_is_refused_at_begin_before_any_touch \
    sh -c "[ $STATUS = 403 ] && [ \$(jq -r .error.code $T/body) = is_requester ] && [ \$(jq -r .touch_asked $T/body) = false ]"

begin $ANN "$ID"
check begin_gives_a_nonce_the_challenge_and_the_officers_key \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r '.nonce | length' $T/body) -eq 43 ] && [ \$(jq -r .rp_id $T/body) = tapgate.local ] && [ \$(jq -r .officer $T/body) = officer-ann ] && [ \$(jq '.allow_credentials | length' $T/body) -eq 1 ] && [ \$(jq -r .preview.change.target.account $T/body) = alice ]"
DIG=$(jbody .preview.change_digest)
want=$(python3 -c '
import base64, hashlib, sys
b = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
h = hashlib.sha256(b(sys.argv[1]) + b(sys.argv[2])).digest()
print(base64.urlsafe_b64encode(h).decode().rstrip("="))' "$DIG" "$NONCE")
if command -v python3 >/dev/null 2>&1; then
	check challenge_is_sha256_of_change_digest_and_nonce \
	    [ -n "$want" -a "$want" = "$CHAL" ]
else
	skip challenge_is_sha256_of_change_digest_and_nonce "no python3"
fi
api GET "/v1/audit?request=$ID"
check begin_is_audited_with_the_officer answered 200 \
    '[.entries[] | select(.event == "approval.begun")] | length == 1 and
    .[0].details.officer == "officer-ann" and .[0].details.via == "console"'
clientdata "$CHAL"
sign ann "$CRED"
check softfido_signs_the_browsers_clientdata [ -s "$T/as.json" ]
finish 65534 "$ID"
check unprivileged_uid_cannot_finish_a_console_approval [ "$STATUS" = 403 ]
api_as $ANN POST "/v1/requests/$ID/console-approval" '{"nonce":""}'
check empty_nonce_is_refused_in_words refused 400 invalid_field
api_as $ANN POST "/v1/requests/$ID/console-approval" \
    "$(jq -c --arg n "$NONCE" '. + {nonce: $n, extra: 1}' "$T/as.json")"
check unknown_member_is_refused refused 400 invalid_field
finish $ANN "$ID"
check nonce_of_a_malformed_attempt_is_spent refused 403 nonce_unknown
begin $ANN "$ID"

# refusals, each spending its nonce
clientdata "$CHAL" https://evil.example
sign ann "$CRED"
finish $ANN "$ID"
check foreign_origin_is_refused refused 403 origin_refused
begin $ANN "$ID"
clientdata "$CHAL" http://console.tapgate.local:8443
sign ann "$CRED"
finish $ANN "$ID"
check http_origin_is_refused refused 403 origin_refused
# the key verified the PIN but its authenticator data says it did not
# (softfido's no-uv fault: UV cleared in what it signs); a key asked
# without the PIN does not even name a credential enrolled with
# credProtect (user verification required)
begin $ANN "$ID"
clientdata "$CHAL"
key_ctl ann fault no-uv
sign ann "$CRED"
key_ctl ann fault none
check softfido_signs_without_user_verification \
    jqtrue '.authenticator_data | length > 0' "$T/as.json"
finish $ANN "$ID"
check assertion_without_user_verification_is_refused \
    refused 403 presence_or_verification_missing
begin $ANN "$ID"
clientdata "$CHAL" "$ORIGIN" webauthn.create
sign ann "$CRED"
finish $ANN "$ID"
check clientdata_of_another_type_is_refused refused 400 bad_client_data
begin $ANN "$ID2"
N2=$NONCE
begin $ANN "$ID"
clientdata "$CHAL"
sign ann "$CRED"
finish $ANN "$ID" "$N2"
check nonce_of_another_request_is_refused refused 403 nonce_other_request
finish $ANN "$ID2" "$N2"
check nonce_of_a_refused_attempt_is_spent refused 403 nonce_unknown
begin $BEN "$ID"
NB=$NONCE BENCRED=$CRED
begin $ANN "$ID"
clientdata "$CHAL"
sign ann "$CRED"
finish $ANN "$ID" "$NB"
check nonce_of_another_officer_is_refused refused 403 nonce_other_officer
begin $ANN "$ID"
clientdata "$CHAL"
sign ben "$BENCRED"
finish $ANN "$ID"
check second_officers_key_under_the_first_officers_session_is_refused \
    refused 403 not_your_credential
# the browser signed the change as begin showed it; then it changed
begin $ANN "$ID"
clientdata "$CHAL"
sign ann "$CRED"
api POST "/v1/requests/$ID/evidence" \
    "{\"evidence\":[$(ev account_history pass hd-bob chat h)]}"
[ "$STATUS" = 200 ] || notok evidence_changes_the_change "HTTP $STATUS $(cat "$T/body")"
finish $ANN "$ID"
check assertion_over_a_changed_change_digest_is_refused \
    refused 409 challenge_mismatch
begin $ANN "$ID"
EXP=$(jbody .expires)
clientdata "$CHAL"
sign ann "$CRED"
past() { [ "$(date +%s)" -gt "$1" ]; }
wait_for 20 past "$EXP" || notok nonce_time_runs_out "expires $EXP"
finish $ANN "$ID"
check stale_nonce_is_refused refused 403 nonce_expired

# an officer holds a few nonces at once: a fifth begin replaces the first
begin $ANN "$ID"
N1=$NONCE
for _ in 2 3 4 5; do begin $ANN "$ID"; done
clientdata "$CHAL"
sign ann "$CRED"
finish $ANN "$ID" "$N1"
check officers_oldest_nonce_gives_way_to_a_fifth refused 403 nonce_unknown

# the approval, then its replays
begin $ANN "$ID"
clientdata "$CHAL"
sign ann "$CRED"
cp "$T/as.json" "$T/good.json"
finish $ANN "$ID"
check officer_approves_from_the_console \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .approver $T/body) = officer-ann ] && [ \$(jq -r .state $T/body) = needs_approval ]"
finish $ANN "$ID"
check replayed_nonce_is_refused refused 403 nonce_unknown
begin $ANN "$ID"
check officer_who_approved_is_refused_at_begin refused 403 already_approved
begin $ANN "$ID2"
cp "$T/good.json" "$T/as.json"
finish $ANN "$ID2"
check replayed_assertion_under_a_fresh_nonce_is_refused \
    refused 409 challenge_mismatch
begin $BEN "$ID"
clientdata "$CHAL"
sign ben "$CRED"
finish $BEN "$ID"
check second_officer_approves_from_the_console \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .state $T/body) = in_hold ]"
check hold_end_makes_request_ready wait_for 10 request_in_state "$ID" ready
wait_for 10 status_is 200 GET "/v1/orders/$ID"
jq -r .jws "$T/body" >"$T/order.jws"
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
    --approvers "$T/approvers.json" --min-approvals 2 --require admin=2 \
    "$T/order.jws" >"$T/verified.json" 2>"$T/verify.err"
check tapgate_verify_accepts_the_console_approved_order \
    sh -c "[ $? -eq 0 ] && [ \$(jq -r .change.target.account $T/verified.json) = alice ] || { sed 's/^/#   /' $T/verify.err; false; }"
PAYLOAD=$(cut -d. -f2 "$T/order.jws" | tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d)
echo "$PAYLOAD" >"$T/payload.json"
check order_carries_each_approvals_nonce \
    jqtrue '[.approvals[].nonce | length] == [43, 43]' "$T/payload.json"

CTL audit tail -n 200 --json >"$T/audit.json"
check console_approvals_are_audited \
    jqtrue '[.entries[] | select(.event == "request.approved" and .details.via == "console")] | length == 2' "$T/audit.json"
check console_refusals_are_audited_with_why \
    jqtrue '[.entries[] | select(.event == "approval.refused" and .details.via == "console") | .details.code] | (index("origin_refused") != null) and (index("nonce_expired") != null) and (index("not_your_credential") != null) and (index("presence_or_verification_missing") != null) and (index("is_requester") != null)' "$T/audit.json"

# the signer re-verifies from the store alone: a console approval whose
# nonce was changed in the database file is not signed
ID4=$(admin_reset dave)
begin $ANN "$ID4"
clientdata "$CHAL"
sign ann "$CRED"
finish $ANN "$ID4"
[ "$STATUS" = 200 ] || notok console_approval_of_dave "HTTP $STATUS"
daemon_stop
sqlite3 "$T/state/tapgate.db" "UPDATE approvals SET nonce = randomblob(32)
    WHERE request_id = '$ID4' AND approver_id =
    (SELECT id FROM approvers WHERE name = 'officer-ann')"
daemon_start "$T/tapgate.conf" --token-timeout 5000 ||
    notok daemon_restarts
begin $BEN "$ID4"
clientdata "$CHAL"
sign ben "$CRED"
finish $BEN "$ID4"
[ "$STATUS" = 200 ] || notok second_console_approval_of_dave "HTTP $STATUS"
wait_for 15 grep -q "signer refuses request $ID4" "$T/daemon.log"
check signer_refuses_a_console_approval_whose_nonce_changed \
    grep -q "signer refuses request $ID4: approval by officer-ann is for another change" "$T/daemon.log"
api GET "/v1/orders/$ID4"
check no_order_for_a_changed_nonce [ "$STATUS" = 404 ]

# a key whose counter went back is suspended, as at the box
begin $ANN "$ID2"
clientdata "$CHAL"
key_ctl ann fault counter-backwards
sign ann "$CRED"
key_ctl ann fault none
finish $ANN "$ID2"
check counter_that_went_back_suspends_the_key_from_the_console \
    sh -c "[ $STATUS = 403 ] && [ \$(jq -r .error.code $T/body) = cloned_key ] && [ \$(jq -r .suspended $T/body) = true ]"
begin $ANN "$ID2"
check suspended_officer_cannot_begin refused 403 not_enrolled

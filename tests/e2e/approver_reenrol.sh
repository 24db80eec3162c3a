#!/bin/sh
# SPDX-License-Identifier: ISC
# Re-enrolment from the attacker's side.  A revocation names its cause: a
# key revoked as lost, stolen, cloned or compromised can never be enrolled
# again, under any name; one revoked for a role change (or because its
# officer left, or got another key) may be, as a new credential, audited
# as a re-enrolment; approvals made with the revoked credential still do
# not count, and are never signed, after the key comes back.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
for k in ann ben cid dan; do key_start $k; done
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
enroll officer-cid security_officer cid
enroll officer-dan security_officer dan
jqe() { jqtrue "$@"; }
counted() {	# id: approvals counted for security_officer, or the status
	api GET "/v1/requests/$1"
	if [ "$STATUS" = 200 ]; then
		jbody '.decision.approvals.groups[0].counted'
	else
		echo "HTTP $STATUS"
	fi
}
# refused_enrol: tapgatectl failed, and the daemon said the key holds a
# credential it knows (enrolled, or revoked for good)
refused_enrol() {
	[ "$1" != 0 ] && [ "$(refusal "$T/enrol.err")" = "409 already_enrolled" ]
}
# reenrol NAME KEY: exit status of tapgatectl approvers enroll, output kept
reenrol() { echo "$PIN" | CTL approvers enroll --name "$1" \
    --group security_officer --device "softfido:$T/$2.sock" \
    >"$T/enrol.out" 2>"$T/enrol.err"; }

ID=$(admin_reset alice)
approve "$ID" ann
check approval_before_revocation_counts [ "$(counted "$ID")" = 1 ]
ANN_OLD=$(CTL approvers list --json | jq -r '.approvers[] | select(.name == "officer-ann") | .credential_id')

# a revocation must say why, from the enumerated causes
api POST /v1/approvers/officer-ann/revoke '{"reason":"moved to finance"}'
check revocation_without_cause_is_refused answered 422 \
    '.error.code == "invalid_field" and (.error.message | startswith("cause:"))'
api POST /v1/approvers/officer-ann/revoke '{"cause":"bored","reason":"x"}'
check revocation_with_unknown_cause_is_refused answered 422 \
    '.error.code == "invalid_field" and
    (.error.message | startswith("cause: one of"))'
CTL approvers revoke officer-ann --reason "moved" >/dev/null 2>&1
check console_refuses_a_revocation_without_cause [ $? -eq 2 ]
CTL approvers revoke officer-ann --cause role-change --reason "moved to finance" >"$T/rev.out"
check role_change_revocation_allows_re_enrolment grep -q 'may be enrolled again' "$T/rev.out"
CTL approvers revoke officer-ben --cause lost >/dev/null
CTL approvers revoke officer-cid --cause cloned --reason "seen in two places" >/dev/null
check revoked_approval_no_longer_counts [ "$(counted "$ID")" = 0 ]
CTL approvers list --all --json >"$T/list.json"
check causes_are_listed \
    jqe '[.approvers[] | select(.revoked) | "\(.name)=\(.revoke_cause)=\(.reenrollable)"] | sort == ["officer-ann=role-change=true", "officer-ben=lost=false", "officer-cid=cloned=false"]' "$T/list.json"

# compromised keys: never again, under any name
reenrol officer-ben ben
check key_revoked_as_lost_cannot_be_re_enrolled refused_enrol $?
reenrol mallory ben
check key_revoked_as_lost_cannot_be_enrolled_under_another_name \
    refused_enrol $?
reenrol officer-cid cid
check cloned_key_cannot_be_re_enrolled refused_enrol $?
reenrol officer-eve dan
check active_key_still_cannot_be_enrolled_twice refused_enrol $?

# the role change: the same physical key comes back, as a new credential
reenrol officer-ann ann
check key_revoked_for_role_change_is_re_enrolled \
    sh -c "[ $? -eq 0 ] && grep -q '^re-enrolled' $T/enrol.out"
CTL approvers list --all --json >"$T/list2.json"
ANN_NEW=$(jq -r '.approvers[] | select(.name == "officer-ann" and (.revoked | not)) | .credential_id' "$T/list2.json")
check re_enrolment_makes_a_new_credential \
    sh -c "[ -n '$ANN_OLD' ] && [ -n '$ANN_NEW' ] && [ '$ANN_NEW' != '$ANN_OLD' ]"
# shellcheck disable=SC2016 # $c is a jq variable
check old_credential_stays_revoked \
    jqe --arg c "$ANN_OLD" '[.approvers[] | select(.credential_id == $c) | .revoked] == [true]' "$T/list2.json"
CTL audit tail -n 50 --json >"$T/audit.json"
check re_enrolment_is_audited_with_the_previous_holder \
    jqe '[.entries[] | select(.event == "approver.reenrolled") | .details] | length == 1 and .[0].name == "officer-ann" and .[0].previous[0].name == "officer-ann" and .[0].previous[0].cause == "role-change"' "$T/audit.json"
check refusals_are_audited \
    jqe '[.entries[] | select(.event == "approver.enrol_refused")] | length >= 4' "$T/audit.json"
reenrol officer-ann2 ann
check re_enrolled_key_cannot_be_enrolled_twice refused_enrol $?

# the approval made with the revoked credential still does not count
check approval_with_revoked_credential_still_does_not_count \
    [ "$(counted "$ID")" = 0 ]
approve "$ID" ann
check re_enrolled_officer_approves_with_the_new_credential [ $? -eq 0 ]
check only_the_new_credential_counts [ "$(counted "$ID")" = 1 ]
approve "$ID" dan
check order_is_issued wait_for 10 status_is 200 GET "/v1/orders/$ID"
jq -r .jws "$T/body" | cut -d. -f2 | tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d >"$T/payload.json"
# shellcheck disable=SC2016 # $old, $new: jq variables
check order_carries_the_new_credential_never_the_revoked_one \
    jqe --arg old "$ANN_OLD" --arg new "$ANN_NEW" '[.approvals[].credential_id] | (index($new) != null) and (index($old) == null) and length == 2' "$T/payload.json"
CTL audit verify >/dev/null
check audit_verifies [ $? -eq 0 ]

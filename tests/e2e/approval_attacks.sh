#!/bin/sh
# SPDX-License-Identifier: ISC
# Approvals from the attacker's side: each attempt is refused, audited, and
# leaves the request unapproved.  Keys misbehave through softfido's fault
# switches (a cloned key's counter, a missing touch, UP or UV cleared, a bad
# signature, another relying party), officers try to approve their own
# requests, and the signer is asked to sign what is not approved.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 4000 || { notok daemon_starts; exit 1; }
key_start ann --up-timeout 1500
key_start ben --up-timeout 1500
key_start cid --up-timeout 1500
key_start dan
key_start eli
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
enroll officer-cid security_officer cid

ID=$(admin_reset alice)
counted() {	# approvals counted so far for security_officer, or the status
	api GET "/v1/requests/$ID"
	if [ "$STATUS" = 200 ]; then
		jbody '.decision.approvals.groups[0].counted'
	else
		echo "HTTP $STATUS"
	fi
}

approve "$ID" ann 000000
check wrong_pin_is_refused [ "$(approve_code)" = pin ]
key_ctl ann button refuse
approve "$ID" ann
check touch_refused_on_the_key_is_refused [ "$(approve_code)" = refused_on_key ]
key_ctl ann button never
approve "$ID" ann
check missing_touch_times_out [ "$(approve_code)" = no_touch ]
key_ctl ann button auto
for f in no-uv no-up; do
	key_ctl ann fault "$f"
	approve "$ID" ann
	check "assertion_with_${f}_flag_cleared_is_refused" \
	    [ "$(approve_code)" = presence_or_verification_missing ]
	key_ctl ann fault none
done
key_ctl ann fault bad-signature
approve "$ID" ann
check assertion_with_a_bad_signature_is_refused [ "$(approve_code)" = bad_assertion ]
key_ctl ann fault wrong-rpid
approve "$ID" ann
check assertion_for_another_relying_party_is_refused [ "$(approve_code)" = bad_assertion ]
key_ctl ann fault malformed-cbor
approve "$ID" ann
check malformed_reply_from_the_key_is_refused \
    sh -c "[ $? -ne 0 ] && [ '$(approve_code)' = token_error ]"
key_ctl ann fault none
check no_refused_attempt_counted [ "$(counted)" = 0 ]

# a cloned key: its counter does not grow
approve "$ID" ben
check good_approval_is_counted [ "$(counted)" = 1 ]
ID2=$(admin_reset bob)
key_ctl ben fault counter-backwards
ID=$ID2
approve "$ID" ben
check cloned_key_counter_regression_is_refused [ "$(approve_code)" = cloned_key ]
key_ctl ben fault none
CTL approvers list --all >"$T/list"
check cloned_key_suspends_its_approver grep -q '^officer-ben .*revoked: cloned: signature counter' "$T/list"
approve "$ID" ben
check suspended_approver_cannot_approve_again [ "$(approve_code)" = not_enrolled ]
api GET /metrics
check metrics_show_the_unreachable_quorum sh -c "[ $STATUS = 200 ] &&
    grep -q 'tapgate_quorum_unreachable{group=\"finance_controller\"} 1' $T/body"

# revoked approver; the alarm it raises is logged after the revocation
# (the same alarm was logged while the officers enrolled, one by one)
LOGGED=$(wc -l <"$T/daemon.log")
CTL approvers revoke officer-cid --cause left --reason "left the company" >/dev/null
approve "$ID" cid
check revoked_approver_cannot_approve [ "$(approve_code)" = not_enrolled ]
check quorum_alarm_when_too_few_officers_remain sh -c "tail -n +$((LOGGED + 1)) \
    $T/daemon.log | grep -q 'ALARM: approver group security_officer has 1 enrolled officer(s); the policy needs 2'"

# separation of duties
ID=$(admin_reset carol officer-ann)
approve "$ID" ann
check officer_cannot_approve_a_request_they_submitted [ "$(approve_code)" = is_requester ]
ID=$(admin_reset officer-ann)
approve "$ID" ann
check officer_cannot_approve_their_own_recovery [ "$(approve_code)" = is_target ]
# the cool-down after an officer's own recovery: tests/e2e/officer_cooldown.sh

# a veto while approvals are gathered: no approval afterwards
enroll officer-dan security_officer dan
enroll officer-eli security_officer eli
ID=$(admin_reset erin)
approve "$ID" dan
api POST "/v1/requests/$ID/veto" '{"reason":"owner: I did not call"}'
check veto_during_approval_stops_the_request \
    [ "$STATUS" = 200 -a "$(jbody .state)" = vetoed ]
approve "$ID" ann
check approval_after_a_veto_is_refused [ "$(approve_code)" = not_awaiting_approval ]

# a veto during the hold of a fully approved request, so that nothing but
# the veto stands between it and its order: its twin, approved alike just
# after it, gets its order when its hold runs out (so the vetoed one's has
# run out too); the vetoed one gets none, and the signer, asked, refuses
VETOED=$(admin_reset fay)
TWIN=$(admin_reset gus)
approve "$VETOED" dan && approve "$VETOED" eli
check fully_approved_request_enters_its_hold \
    request_in_state "$VETOED" in_hold
approve "$TWIN" dan && approve "$TWIN" eli
check its_twin_enters_its_hold request_in_state "$TWIN" in_hold
api POST "/v1/requests/$VETOED/veto" '{"reason":"owner: I did not call"}'
check veto_during_the_hold_stops_a_fully_approved_request \
    [ "$STATUS" = 200 -a "$(jbody .state)" = vetoed ]
check twin_gets_its_order_when_the_hold_runs_out \
    wait_for 10 status_is 200 GET "/v1/orders/$TWIN"
api GET "/v1/orders/$VETOED"
check vetoed_request_gets_no_order [ "$STATUS" = 404 ]
api POST "/v1/requests/$VETOED/order" '{}'
check signer_refuses_the_vetoed_request \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = not_approved ]

# the signer refuses what the store does not show approved
ID=$(admin_reset harry)
api POST "/v1/requests/$ID/order" '{}'
check signer_refuses_an_unapproved_request \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = not_approved ]
api GET "/v1/orders/$ID"
check no_order_exists_for_an_unapproved_request [ "$STATUS" = 404 ]

# an assertion moved to another request by someone with the database
# file: the policy still counts two approvals, the signer refuses to sign
ID_A=$(admin_reset frank)
approve "$ID_A" eli
approve "$ID_A" dan
ID_B=$(admin_reset gina)
approve "$ID_B" eli
approve "$ID_B" dan
daemon_stop
ELI="(SELECT id FROM approvers WHERE name = 'officer-eli')"
FROM_A="FROM approvals WHERE request_id = '$ID_A' AND approver_id = $ELI"
sqlite3 "$T/state/tapgate.db" "UPDATE approvals SET auth_data = (SELECT auth_data $FROM_A), signature = (SELECT signature $FROM_A), client_data = (SELECT client_data $FROM_A) WHERE request_id = '$ID_B' AND approver_id = $ELI"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 4000 || notok daemon_restarts
check genuine_request_gets_its_order \
    wait_for 10 status_is 200 GET "/v1/orders/$ID_A"
# B's hold ran out with A's: the signer has looked at it once it says so
wait_for 10 grep -q "signer refuses request $ID_B" "$T/daemon.log"
api GET "/v1/orders/$ID_B"
check assertion_for_another_order_is_not_signed [ "$STATUS" = 404 ]
check signer_logs_why_it_refused \
    grep -q "signer refuses request $ID_B: approval by officer-eli is for another change" "$T/daemon.log"

CTL audit tail -n 300 --json >"$T/audit.json"
for ev in approval.refused alarm.cloned_key alarm.quorum_unreachable order.refused approver.revoked; do
	# shellcheck disable=SC2016 # $e is a jq variable
	check "audit_records_$(echo "$ev" | tr . _)" \
	    jqtrue --arg e "$ev" '[.entries[].event] | index($e) != null' \
	    "$T/audit.json"
done
CTL audit verify >/dev/null
check audit_chain_verifies_after_the_attacks [ $? -eq 0 ]

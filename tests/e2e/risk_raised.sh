#!/bin/sh
# SPDX-License-Identifier: ISC
# Risk raised after submission (POST /v1/requests/ID/risk), from the
# attacker's side: a signal learnt later sends a request in its hold back
# to more evidence or to manual review, stays raised, is audited; a caller
# without the role, or of another team, cannot raise it; a request that is
# final, or whose order is out, refuses it and says why.
# shellcheck disable=SC2016 # $s is jq's variable
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

# the standard reset's hold (the first of the file) long enough to act in
make_config "$T/tapgate.conf" '0,/hold_seconds = 2;/s//hold_seconds = 600;/' \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# as hd-bob (uid 65534, team helpdesk)
api_as 65534 POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$OOB]")"
check team_request_is_taken [ "$STATUS" = 201 ]
ID=$(jbody .id)
# the agent's own word does not count on its own request: the
# integration (root) attests the check
api POST "/v1/requests/$ID/evidence" "{\"evidence\":[$OOB]}"
check team_request_enters_its_hold answered 200 '.state == "in_hold"'
api_as 12345 POST "/v1/requests/$ID/risk" \
    '{"signals":["new_device"],"reason":"x"}'
check caller_without_a_role_cannot_raise_risk [ "$STATUS" = 403 ]
api_as 65534 POST "/v1/requests/$ID/risk" '{"signals":["no_such"],"reason":"x"}'
check unknown_signal_is_refused answered 422 '.error.code == "invalid_field"'
api_as 65534 POST "/v1/requests/$ID/risk" '{"signals":[],"reason":"x"}'
check empty_signals_are_refused [ "$STATUS" = 422 ]
api_as 65534 POST "/v1/requests/$ID/risk" '{"signals":["new_device"]}'
check raise_without_a_reason_is_refused [ "$STATUS" = 422 ]
check refused_raises_leave_the_hold request_in_state "$ID" in_hold
api_as 65534 POST "/v1/requests/$ID/risk" \
    '{"signals":["new_device"],"reason":"login from a new laptop"}'
check intake_raises_risk_on_its_teams_request answered 200 \
    '.state == "needs_evidence" and .raised == ["new_device"] and
    .hold_until == 0'
check raised_risk_takes_the_request_out_of_its_hold \
    request_in_state "$ID" needs_evidence
api GET "/v1/audit?request=$ID&limit=100"
check risk_raise_is_audited jqtrue '[.entries[] |
    select(.event == "request.risk_raised")] | length == 1 and
    .[0].details.signals == ["new_device"] and
    .[0].details.from == "in_hold" and .[0].details.to == "needs_evidence"
    and .[0].details.reason == "login from a new laptop"' "$T/body"
api_as 65534 POST "/v1/requests/$ID/risk" \
    '{"signals":["new_device"],"reason":"again"}'
check raising_it_again_changes_nothing answered 200 \
    '.raised == [] and .already_raised == ["new_device"]'
api GET "/v1/audit?request=$ID&limit=100"
check raising_it_again_is_not_audited_twice jqtrue '[.entries[] |
    select(.event == "request.risk_raised")] | length == 1' "$T/body"
# an officer raises a compromise: the manual route, and the evidence
# new_device asked for is still asked (the manual route waives none)
api POST "/v1/requests/$ID/risk" \
    '{"signals":["recent_compromise"],"reason":"SOC: mailbox rule"}'
check officer_raise_sends_the_request_to_manual_review answered 200 \
    '.state == "needs_evidence" and .route == "manual_review" and
    (.route_reason | test("recent_compromise"))'
# more evidence does not make a raised signal go away
api POST "/v1/requests/$ID/evidence" "{\"evidence\":[$PRF]}"
check raised_signal_stays_after_new_evidence \
    answered 200 '.state == "manual_review"'
api GET "/v1/requests/$ID"
check raised_signals_are_shown_as_decisions jqtrue '[.decisions[].kind] |
    index("risk:new_device") != null and
    index("risk:recent_compromise") != null' "$T/body"

# another team's request: as if it did not exist
api POST /v1/requests "$(req password_reset bob "" hd-bob phone "[$OOB]")"
OTHER=$(jbody .id)
api_as 65534 POST "/v1/requests/$OTHER/risk" \
    '{"signals":["new_device"],"reason":"x"}'
check intake_cannot_raise_on_another_teams_request \
    answered 404 '.error.message == "no such request"'
check other_teams_request_keeps_its_hold request_in_state "$OTHER" in_hold
api POST "/v1/requests/$OTHER/deny" '{"reason":"duplicate"}'
api POST "/v1/requests/$OTHER/risk" '{"signals":["new_device"],"reason":"x"}'
check final_request_refuses_a_raise \
    answered 409 '.error.code == "request_closed"'

# an order out: raising cannot hold it back (an officer denies instead)
api POST /v1/requests "$(req reactivation carol "" hd-bob phone \
    "[$OOB,$(ev manager_confirmation pass mgr-eve email mgr-1)]")"
DONE=$(jbody .id)
check reactivation_gets_its_order \
    wait_for 15 status_is 200 GET "/v1/orders/$DONE"
api POST "/v1/requests/$DONE/risk" '{"signals":["new_device"],"reason":"x"}'
check issued_order_refuses_a_raise \
    answered 409 '.error.code == "order_issued"'
daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# Requests that never complete expire: with holds.request_ttl_seconds
# short, the timer moves a request still waiting for approvals to the
# final state "expired" (audited as request.expired, listed, counted),
# after which nothing moves it on; a request whose order was issued in
# time is left alone.
# shellcheck disable=SC2016 # $id is jq's variable
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf" \
    's/request_ttl_seconds = [0-9]+;/request_ttl_seconds = 5;/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# the control first: a standard reset gets its order after its 2 s hold
api POST /v1/requests "$(req password_reset bob "" hd-bob phone "[$OOB]")"
DONE=$(jbody .id)
check control_request_gets_its_order_in_time \
    wait_for 15 status_is 200 GET "/v1/orders/$DONE"
ID=$(admin_reset alice)
check admin_reset_waits_for_officers request_in_state "$ID" needs_approval
check request_without_an_order_expires wait_for 20 \
    request_in_state "$ID" expired
api GET "/v1/requests/$ID"
check expired_request_says_why jqtrue '.state == "expired" and
    ([.decisions[].kind] | index("expired") != null)' "$T/body"
check request_with_its_order_does_not_expire request_in_state "$DONE" ready
api GET "/v1/orders/$DONE"
check its_order_is_still_served [ "$STATUS" = 200 ]
api GET "/v1/audit?request=$ID&limit=50"
check expiry_is_audited jqtrue '[.entries[] | select(.event ==
    "request.expired")] | length == 1 and .[0].details.from ==
    "needs_approval" and .[0].details.ttl_seconds == 5 and
    .[0].actor_role == "system"' "$T/body"
api POST "/v1/requests/$ID/evidence" "{\"evidence\":[$PRF]}"
check expired_request_takes_no_evidence \
    answered 409 '.error.code == "request_closed"'
api POST "/v1/requests/$ID/deny" '{"reason":"late"}'
check expired_request_is_final answered 409 '.error.code == "request_closed"'
api POST "/v1/requests/$ID/order" '{}'
check signer_refuses_an_expired_request [ "$STATUS" = 409 ]
api GET "/v1/requests?state=expired"
check expired_requests_are_listed jqtrue --arg id "$ID" \
    '[.requests[].id] == [$id]' "$T/body"
api GET /metrics
check expired_requests_are_counted \
    grep -q 'tapgate_requests{queue="password_reset",state="expired"} 1' \
    "$T/body"
"$BUILD/tapgatectl" -s "$T/api.sock" requests list >"$T/list" 2>&1
check console_lists_the_expired_request grep -q "expired" "$T/list"
"$BUILD/tapgatectl" -s "$T/api.sock" requests show "$ID" >"$T/show" 2>&1
check console_says_what_expired_means \
    grep -q "expired: it had no order within holds.request_ttl_seconds" \
    "$T/show"
daemon_stop

# a request whose stored form no longer loads expires all the same, once,
# rather than troubling the timer at every tick
BAD=0123456789abcdef0123456789abcdef
NOW=$(date +%s)
q() { sqlite3 "$T/state/tapgate.db" "$1"; }
q "INSERT INTO requests (id, queue, target_account, target_system,
  effective_class, requester_agent, requester_channel, requester_uid,
  request_json, state, policy_id, policy_version, created, updated)
  VALUES ('$BAD', 'password_reset', 'victim', 'ldap-corp', 'standard',
  'hd-bob', 'phone', 0, 'not json at all', 'needs_evidence', 'default', 1,
  $NOW - 60, $NOW - 60)" || notok unloadable_row_is_written
daemon_start "$T/tapgate.conf" || { notok daemon_restarts; exit 1; }
state_of_bad() { [ "$(q "SELECT state FROM requests WHERE id = '$BAD'")" = "$1" ]; }
check unloadable_request_expires_too wait_for 15 state_of_bad expired
check its_expiry_is_audited_with_the_cause [ "$(q "SELECT count(*) FROM audit
    WHERE event = 'request.expired' AND request_id = '$BAD' AND
    details LIKE '%\"cause\":%'")" = 1 ]
api GET /metrics
check timer_reports_no_error_for_it \
    grep -q '^tapgate_internal_errors_total 0$' "$T/body"
daemon_stop

make_config "$T/default.conf"
check default_request_ttl_is_a_week_and_checks sh -c "
    grep -q 'request_ttl_seconds = 604800;' '$T/default.conf' &&
    '$BUILD/tapgated' --check-config -c '$T/default.conf' >/dev/null 2>&1"
make_config "$T/zero.conf" \
    's/request_ttl_seconds = [0-9]+;/request_ttl_seconds = 0;/'
check zero_request_ttl_is_refused sh -c "
    ! '$BUILD/tapgated' --check-config -c '$T/zero.conf' >'$T/check.out' 2>&1 &&
    grep -q request_ttl_seconds '$T/check.out'"

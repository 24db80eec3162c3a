#!/bin/sh
# SPDX-License-Identifier: ISC
# What became of a redeemed order: the state GET /v1/orders/ID shows
# (issued, redeemed, failed, resumed, applied), the outcome only its
# redeemer may report (POST /v1/orders/ID/outcome, bounded, once per
# redemption), audited as order.failed / order.applied in the request's
# history; the alarm of an order redeemed and never reported (raised once
# by the timer after orders.outcome_timeout_seconds, cleared by the
# report); an operator's resume (tapgatectl orders resume), after which
# the same redeemer, and no other, redeems it once more.  After an
# upgrade, an order redeemed before redeemers were recorded raises no
# alarm and cannot be resumed.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
trap 'daemon_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

CONN=65533	# the connector that redeems
OTHER=65532	# another downstream system
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { uid = $CONN; roles = [\"downstream\"]; },\\n    { uid = $OTHER; roles = [\"downstream\"]; },/" \
    's/outcome_timeout_seconds = [0-9]+;/outcome_timeout_seconds = 2;/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# a standard reset: evidence and the hold, no approval
api POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$OOB,$PRF,$IDD]")"
ID=$(jbody .id)
check standard_reset_is_submitted [ "$STATUS" = 201 ]
wait_for 20 status_is 200 GET "/v1/orders/$ID"
check order_is_issued_after_the_hold answered 200 '.state == "issued"'
JTI=$(jbody .jti)

OK_BODY='{"result":"applied","changed":["password of uid=alice reset"],"directory_result":"success"}'
api_as $CONN POST "/v1/orders/$ID/outcome" "$OK_BODY"
check outcome_of_an_unredeemed_order_is_refused \
    answered 409 '.error.code == "not_redeemed"'

api_as $CONN POST "/v1/orders/$ID/redeem"
check connector_redeems_the_order answered 200 ".jti == \"$JTI\""
api GET "/v1/orders/$ID"
check order_state_is_redeemed answered 200 \
    '.state == "redeemed" and .redemptions == 1 and (.outcome | not)'

# only the redeemer reports
api_as $OTHER POST "/v1/orders/$ID/outcome" "$OK_BODY"
check another_downstream_cannot_report \
    answered 403 '.error.code == "not_the_redeemer"'
api POST "/v1/orders/$ID/outcome" "$OK_BODY"
check root_with_the_downstream_role_cannot_report_either \
    answered 403 '.error.code == "not_the_redeemer"'

# redeemed and never reported: the alarm, once
alarm_raised() {
	api GET "/v1/audit?request=$ID"
	[ "$(jq '[.entries[] | select(.event == "alarm.order_unreported")] |
	    length' "$T/body")" -ge 1 ]
}
wait_for 20 alarm_raised
check unreported_order_raises_the_alarm alarm_raised
check alarm_names_the_redeemer_and_the_jti jqtrue "[.entries[] |
    select(.event == \"alarm.order_unreported\")][0].details |
    .jti == \"$JTI\" and .timeout_seconds == 2" "$T/body"
check alarm_is_logged grep -q "ALARM: the order of request $ID" \
    "$T/daemon.log"

# the report is bounded and strict
bad() {	# name body code
	api_as $CONN POST "/v1/orders/$ID/outcome" "$2"
	check "$1" answered 422 ".error.code == \"$3\""
}
bad unknown_member_is_refused '{"result":"applied","extra":1}' \
    invalid_field
bad result_other_than_applied_or_failed_is_refused '{"result":"done"}' \
    invalid_field
bad changed_item_with_a_control_character_is_refused \
    '{"result":"applied","changed":["a\u0001b"]}' invalid_field
many=$(jq -cn '[range(33) | "x"]')
bad more_than_32_changed_items_are_refused \
    "{\"result\":\"applied\",\"changed\":$many}" invalid_field
long=$(head -c 257 /dev/zero | tr '\0' 'x')
bad changed_item_over_256_bytes_is_refused \
    "{\"result\":\"applied\",\"changed\":[\"$long\"]}" invalid_field
api GET "/v1/orders/$ID"
check refused_reports_change_nothing answered 200 '.state == "redeemed"'

FAIL_BODY='{"result":"failed","changed":["uid=alice removed from cn=admins"],"directory_result":"password modify: insufficient access (50)"}'
api_as $CONN POST "/v1/orders/$ID/outcome" "$FAIL_BODY"
check redeemer_reports_the_failure answered 200 '.state == "failed"'
api GET "/v1/orders/$ID"
check order_shows_the_failure_and_what_changed answered 200 \
    '.state == "failed" and .outcome.result == "failed" and
    .outcome.changed == ["uid=alice removed from cn=admins"] and
    (.outcome.directory_result | startswith("password modify"))'
api_as $CONN POST "/v1/orders/$ID/outcome" "$OK_BODY"
check second_report_of_one_redemption_is_refused \
    answered 409 '.error.code == "outcome_reported"'
api GET "/v1/audit?request=$ID"
check failure_is_in_the_request_history jqtrue "[.entries[] |
    select(.event == \"order.failed\")] | length == 1 and
    (.[0].details | .jti == \"$JTI\" and .alarm_cleared == true and
    .changed == [\"uid=alice removed from cn=admins\"])" "$T/body"

# no second redemption, by anyone, until an operator resumes it
api_as $CONN POST "/v1/orders/$ID/redeem"
check failed_order_is_not_redeemed_again_unresumed \
    answered 409 '.error.code == "already_redeemed"'
api_as $CONN POST "/v1/orders/$ID/resume" '{}'
check downstream_cannot_resume answered 403 '.error.code == "forbidden"'
CTL orders resume "$ID" --reason "LDAP ACL mended" >"$T/ctl.out" 2>&1
check operator_resumes_with_tapgatectl jqtrue '.state == "resumed"' \
    "$T/ctl.out"
api POST "/v1/orders/$ID/resume" '{}'
check resumed_order_is_not_resumed_twice \
    answered 409 '.error.code == "not_resumable"'
api_as $CONN POST "/v1/orders/$ID/outcome" "$OK_BODY"
check resumed_order_takes_no_report_before_its_redemption \
    answered 409 '.error.code == "not_redeemed"'
api_as $OTHER POST "/v1/orders/$ID/redeem"
check another_system_cannot_redeem_a_resumed_order \
    answered 409 '.error.code == "already_redeemed"'
api_as $CONN POST "/v1/orders/$ID/redeem"
check its_redeemer_redeems_it_once_more answered 200 '.resumed == true'
api_as $CONN POST "/v1/orders/$ID/redeem"
check and_only_once answered 409 '.error.code == "already_redeemed"'
api_as $CONN POST "/v1/orders/$ID/outcome" "$OK_BODY"
check redeemer_reports_it_applied answered 200 '.state == "applied"'
api GET "/v1/orders/$ID"
check order_state_is_applied answered 200 \
    '.state == "applied" and .redemptions == 2'
api POST "/v1/orders/$ID/resume" '{}'
check applied_order_cannot_be_resumed \
    answered 409 '.error.code == "not_resumable"'

api GET "/v1/audit?request=$ID"
jq -r '.entries[].event' "$T/body" >"$T/events"
sed 's/^/#   /' "$T/events"
check history_tells_the_whole_story sh -c "grep -x -e order.redeemed \
    -e order.failed -e order.resumed -e order.applied '$T/events' |
    tr '\n' ' ' | grep -qx 'order.redeemed order.failed order.resumed \
order.redeemed order.applied '"
check resume_is_audited_with_its_reason jqtrue '[.entries[] |
    select(.event == "order.resumed")][0].details |
    .reason == "LDAP ACL mended" and .previous == "failed"' "$T/body"
# the timer looked many times between the redemption and the report
check alarm_was_raised_once_for_the_unreported_redemption [ "$(sed \
    '/^order.failed$/q' "$T/events" | grep -cx alarm.order_unreported)" = 1 ]

# ---- after an upgrade: an order redeemed before the appliance recorded
# redeemers (its row as migration 9 leaves it: no redeemer, no time of
# redemption) raises no alarm and cannot be resumed; one redeemed now
# beside it does raise its alarm
submit_order() {
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone \
	    "[$OOB,$PRF,$IDD]")"
	sid=$(jbody .id)
	wait_for 20 status_is 200 GET "/v1/orders/$sid" && echo "$sid"
}
OLD=$(submit_order bob) && NEW=$(submit_order carol)
check two_more_orders_are_issued test -n "$OLD" -a -n "$NEW"
api_as $CONN POST "/v1/orders/$OLD/redeem"
daemon_stop
sqlite3 "$T/state/tapgate.db" "UPDATE orders SET redeemed_uid = NULL,
    last_redeemed = NULL, redemptions = 0 WHERE request_id = '$OLD'"
daemon_start "$T/tapgate.conf" || { notok daemon_restarts; exit 1; }
api_as $CONN POST "/v1/orders/$NEW/redeem"
new_alarm() {
	api GET "/v1/audit?request=$NEW"
	jqtrue '[.entries[].event] | index("alarm.order_unreported") != null' \
	    "$T/body"
}
wait_for 20 new_alarm
check order_redeemed_now_raises_its_alarm new_alarm
api GET "/v1/audit?request=$OLD"
check order_redeemed_before_the_upgrade_raises_none jqtrue \
    '[.entries[].event] | index("alarm.order_unreported") == null' \
    "$T/body"
api POST "/v1/orders/$OLD/resume" '{}'
check order_redeemed_before_the_upgrade_is_not_resumable \
    answered 409 '.error.code == "not_resumable"'

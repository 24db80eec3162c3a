#!/bin/sh
# SPDX-License-Identifier: ISC
# A deny after the order was issued revokes it, from the attacker's side:
# the appliance no longer serves the order, refuses to redeem it (before
# or after its redemption the revocation is recorded and audited), and a
# caller without the officer role cannot deny.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# a standard reset: one item of evidence, no approvals, a 2 s hold
ready_order() {	# account: the id of its request, once its order is out
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone \
	    "[$OOB]")"
	[ "$STATUS" = 201 ] || { echo "HTTP $STATUS" >&2; return 1; }
	ro_id=$(jbody .id)
	wait_for 15 status_is 200 GET "/v1/orders/$ro_id" || return 1
	echo "$ro_id"
}
audit_of() {	# id: the request's audit entries in $T/hist.json
	api GET "/v1/audit?request=$1&limit=100"
	cp "$T/body" "$T/hist.json"
	[ "$STATUS" = 200 ]
}

ID=$(ready_order alice)
check order_is_issued_after_the_hold [ -n "$ID" ]
api GET "/v1/orders/$ID"
JTI=$(jbody .jti)
api_as 65534 POST "/v1/requests/$ID/deny" '{"reason":"not an officer"}'
check intake_caller_cannot_deny_an_issued_order [ "$STATUS" = 403 ]
api GET "/v1/orders/$ID"
check order_still_served_after_a_refused_deny [ "$STATUS" = 200 ]
api POST "/v1/requests/$ID/deny" '{"reason":"caller failed a callback"}'
check officer_denies_after_the_order_was_issued \
    answered 200 '.state == "denied"'
api GET "/v1/orders/$ID"
check denied_order_is_no_longer_served answered 410 \
    '.error.code == "order_revoked" and .revocation.state == "revoked"
    and .revocation.jti == $j and .revocation.kind == "deny"
    and .revocation.after_redemption == false and (has("jws") | not)
    and (.revocation | has("jws") | not)' --arg j "$JTI"
api POST "/v1/orders/$ID/redeem"
check denied_order_is_not_redeemed \
    answered 409 '.error.code == "order_revoked"'
api GET "/v1/orders/$ID"
check refused_redemption_leaves_it_revoked [ "$STATUS" = 410 ]
audit_of "$ID"
check revocation_is_audited_with_jti_and_who jqtrue --arg j "$JTI" '
    [.entries[] | select(.event == "order.revoked")] | length == 1 and
    .[0].details.jti == $j and .[0].details.kind == "deny" and
    .[0].details.reason == "caller failed a callback" and
    .[0].details.after_redemption == false and .[0].actor_role != null' \
    "$T/hist.json"
check refused_redemption_is_audited jqtrue '
    [.entries[] | select(.event == "order.redeem_refused")] |
    length == 1 and .[0].details.reason == "revoked"' "$T/hist.json"
api POST "/v1/requests/$ID/deny" '{"reason":"again"}'
check second_deny_is_refused answered 409 '.error.code == "request_closed"'

# redeemed first, then denied: the revocation is recorded all the same
# and says it came after the redemption
ID2=$(ready_order bob)
check second_order_is_issued [ -n "$ID2" ]
api POST "/v1/orders/$ID2/redeem"
check second_order_is_redeemed [ "$STATUS" = 200 ]
api POST "/v1/requests/$ID2/deny" '{"reason":"owner reported fraud"}'
check redeemed_order_can_still_be_denied answered 200 '.state == "denied"'
api GET "/v1/orders/$ID2"
check redeemed_then_denied_order_says_so answered 410 \
    '.revocation.after_redemption == true'
audit_of "$ID2"
check revocation_after_redemption_is_audited_as_such jqtrue '
    [.entries[] | select(.event == "order.revoked")] | length == 1 and
    .[0].details.after_redemption == true and
    (.[0].details.redeemed_at | type) == "number"' "$T/hist.json"
check revocation_after_redemption_raises_an_alarm \
    grep -q "ALARM: order .* revoked after it was redeemed" "$T/daemon.log"

# the store holds it: a hand edit cannot withdraw a revocation
DB=$T/state/tapgate.db
check revocations_are_append_only sh -c "
    ! sqlite3 '$DB' 'DELETE FROM revocations' 2>/dev/null &&
    [ \$(sqlite3 '$DB' 'SELECT count(*) FROM revocations') = 2 ]"
daemon_stop

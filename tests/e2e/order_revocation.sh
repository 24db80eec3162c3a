#!/bin/sh
# SPDX-License-Identifier: ISC
# A deny after the order was issued revokes it, from the attacker's side:
# the appliance no longer serves the order, refuses to redeem it (before
# or after its redemption the revocation is recorded and audited), and a
# caller without the officer role cannot deny.  The signed revocation
# list: tapgate-verify refuses a listed order, and a list that is too old,
# from the future, tampered with or not a list at all (an order); a list
# never passes as an order.
# shellcheck disable=SC2016 # $j, $a and $i are jq's variables
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

# uid 65534 acts for intake (hd-bob of the helpdesk team), 12345 for no one
make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
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
jbody .jws >"$T/denied.jws"
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

# ---- the signed revocation list
KEPT=$(ready_order carol)
api GET "/v1/orders/$KEPT"
jbody .jws >"$T/kept.jws"
api GET /v1/keys
cp "$T/body" "$T/jwks.json"
api_as 65534 GET /v1/revocations
check intake_caller_cannot_read_the_revocation_list [ "$STATUS" = 403 ]
api_as 12345 GET /v1/revocations
check caller_without_a_role_cannot_read_the_revocation_list \
    [ "$STATUS" = 403 ]
api GET /v1/revocations
check revocation_list_is_served answered 200 '.count == 2'
jbody .jws >"$T/list.jws"
IAT=$(jbody ".iat // 0")
b64d() { tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 \
    substr("===", 1, 4 - n); print }' | base64 -d; }
cut -d. -f2 "$T/list.jws" | b64d >"$T/list.json"
cut -d. -f1 "$T/list.jws" | b64d >"$T/list.hdr"
check revocation_list_names_the_revoked_jtis jqtrue --arg a "$JTI" \
    --argjson i "$IAT" '(.revoked | map(.jti) | index($a) != null) and
    (.revoked | length == 2) and .iat == $i and (.iss | length > 0) and
    (.revoked | all(.revoked_at | type == "number"))' "$T/list.json"
check revocation_list_has_its_own_typ \
    jqtrue '.typ == "tapgate-revocations+jwt"' "$T/list.hdr"
"$BUILD/tapgatectl" -s "$T/api.sock" orders show "$ID" >"$T/ctl.out" \
    2>&1
check console_shows_the_revocation_not_the_order sh -c "
    grep -q order_revoked '$T/ctl.out' && ! grep -q '\"jws\"' '$T/ctl.out'"

# verify RC ARGS...: tapgate-verify's status is RC (message in $T/verr)
verify() {
	vf_want=$1; shift
	"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp "$@" \
	    >"$T/vout" 2>"$T/verr"
	vf_rc=$?
	[ "$vf_rc" = "$vf_want" ] && return 0
	echo "#   exit $vf_rc, expected $vf_want: $(cat "$T/verr")"
	return 1
}
check verify_accepts_the_denied_order_without_a_list \
    verify 0 "$T/denied.jws"
check verify_refuses_the_denied_order_on_a_fresh_list \
    verify 12 --revocations "$T/list.jws" "$T/denied.jws"
check refusal_names_the_revocation grep -q "revoked: jti $JTI" "$T/verr"
"$BUILD/tapgatectl" -s "$T/api.sock" orders revocations >"$T/ctl.jws" \
    2>"$T/ctl.err"
check console_saves_a_list_that_verifies \
    verify 12 --revocations "$T/ctl.jws" "$T/denied.jws"
check verify_accepts_an_order_the_list_does_not_name \
    verify 0 --revocations "$T/list.jws" "$T/kept.jws"
check verify_refuses_a_list_older_than_its_max_age \
    verify 13 --revocations "$T/list.jws" --revocations-max-age 60 \
    --now $((IAT + 120)) "$T/kept.jws"
check old_list_refusal_says_so grep -q "too old" "$T/verr"
check default_max_age_is_an_hour \
    verify 13 --revocations "$T/list.jws" --now $((IAT + 3601)) \
    "$T/kept.jws"
check verify_refuses_a_list_from_the_future \
    verify 13 --revocations "$T/list.jws" --now $((IAT - 600)) \
    "$T/kept.jws"
check future_list_refusal_says_so grep -q "from the future" "$T/verr"
# one payload character changed
hdr=$(cut -d. -f1 "$T/list.jws") pay=$(cut -d. -f2 "$T/list.jws")
sig=$(cut -d. -f3 "$T/list.jws")
c=$(printf '%s' "$pay" | cut -c12)
if [ "$c" = A ]; then n=B; else n=A; fi
printf '%s.%s.%s\n' "$hdr" "$(printf '%s' "$pay" | sed "s/./$n/12")" \
    "$sig" >"$T/tampered.jws"
check verify_refuses_a_tampered_list \
    verify 13 --revocations "$T/tampered.jws" "$T/kept.jws"
check tampered_list_refusal_says_so \
    grep -q "signature does not verify" "$T/verr"
check order_does_not_pass_as_a_revocation_list \
    verify 13 --revocations "$T/kept.jws" "$T/kept.jws"
check order_as_list_refusal_says_so grep -q "is an order" "$T/verr"
list_as_order() {	# the list, signed, is refused as an order
	jqtrue '.typ == "tapgate-revocations+jwt"' "$T/list.hdr" &&
	    verify 3 "$T/list.jws" &&
	    grep -q "tapgate-order+jwt header" "$T/verr"
}
check revocation_list_does_not_pass_as_an_order list_as_order
check max_age_without_a_list_is_a_usage_error \
    verify 2 --revocations-max-age 60 "$T/kept.jws"

# the store holds it: a hand edit cannot withdraw a revocation
DB=$T/state/tapgate.db
check revocations_are_append_only sh -c "
    ! sqlite3 '$DB' 'DELETE FROM revocations' 2>/dev/null &&
    [ \$(sqlite3 '$DB' 'SELECT count(*) FROM revocations') = 2 ]"
daemon_stop

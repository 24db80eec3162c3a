#!/bin/sh
# SPDX-License-Identifier: ISC
# An officer is asked to touch the key only when the touch can count.
# Before the touch, the daemon asks the key without one which officer's
# credential it holds, and refuses in words an approval the rules would
# refuse anyway: an officer of a group the rule does not need, a request
# vetoed, denied or past its approvals, an officer's second approval,
# the requester or the target approving, an officer in cool-down, a
# revoked key.  Each refusal is audited, and the key never waited for a
# touch: softfido (-v) logs "waiting for a touch" for every wait, and
# with its button set to never a touch asked would time out as no_touch.
# The approvals that do count take exactly one touch each, and the
# silent answer's counter is never stored.  After a wrong PIN the daemon
# says the attempts the key really has left (softfido starts at 8), for
# an approval and an enrolment, and tapgatectl says them (it opens no key
# for that) and exits 4.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

# uid 65534 is an officer and an operator whose console cannot open the
# keys (their sockets are root's): what it says of a key, the daemon said
make_config "$T/tapgate.conf" 's/^(roles = \()$/\1\n\t{ uid = 65534; '\
'roles = ["officer", "operator"]; },/'
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 4000 || { notok daemon_starts; exit 1; }
for k in ann ben cid dan eli fay gus; do
	key_start "$k" -v --up-timeout 1500 || exit 1
done
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
enroll officer-cid security_officer cid
enroll officer-dan security_officer dan
enroll officer-eli security_officer eli
enroll officer-fay finance_controller fay
check officers_are_enrolled [ "$(CTL approvers list | grep -c ' active$')" = 6 ]

# touches KEY: how many times the key has waited for a touch so far
touches() { grep -c 'waiting for a touch' "$T/$1.log"; }
# the key's own count of PIN attempts left, asked by the console directly
key_retries() {
	CTL token info "softfido:$T/$1.sock" --json | jq -r .pin_retries
}
# stored_counter NAME: the signature counter the daemon stored
stored_counter() {
	api GET /v1/approvers
	jbody ".approvers[] | select(.name == \"$1\") | .sign_count"
}
# refusal_audited ID CODE [ASKED]: one approval.refused entry of request
# ID with that code, made before any touch was asked (ASKED true: after)
refusal_audited() {
	# shellcheck disable=SC2016 # $id, $c, $asked: jq variables
	CTL audit tail -n 50 --json >"$T/audit.json" &&
	    jqtrue --arg id "$1" --arg c "$2" --argjson asked "${3:-false}" \
	    '[.entries[] | select(.event == "approval.refused" and
	    .request_id == $id and .details.code == $c and
	    .details.touch_asked == $asked)] | length == 1' "$T/audit.json"
}

# refused_with RC CODE WORDS: tapgatectl approve exited RC, refused with
# CODE in a message that says WORDS (what it said is shown otherwise)
refused_with() {
	[ "$1" -eq 1 ] && [ "$(approve_code)" = "$2" ] &&
	    grep -q "$3" "$T/approve.err" && return 0
	echo "#   exit $1:"
	sed 's/^/#     /' "$T/approve.err"
	return 1
}
# early NAME ID KEY CODE WORDS: officer KEY's approval of ID is refused
# with CODE, its message saying WORDS, audited, and no touch asked of a
# key whose button would never be pressed
early() {
	e_name=$1 e_id=$2 e_key=$3 e_code=$4 e_words=$5
	key_ctl "$e_key" button never
	e_before=$(touches "$e_key")
	approve "$e_id" "$e_key"
	e_rc=$?
	check "${e_name}_is_refused_in_words" \
	    refused_with "$e_rc" "$e_code" "$e_words"
	check "${e_name}_is_audited" refusal_audited "$e_id" "$e_code"
	check "${e_name}_asks_no_touch" unchanged "$e_before" \
	    "$(touches "$e_key")"
	key_ctl "$e_key" button auto
}

# the control: a touch asked of a key whose button is never pressed is
# waited for (and logged) until it times out
ID=$(admin_reset alice)
key_ctl ann button never
before=$(touches ann)
api POST "/v1/requests/$ID/approve" \
    "{\"device\":\"softfido:$T/ann.sock\",\"pin\":\"$PIN\"}"
check control_touch_never_given_times_out \
    answered 408 '.error.code == "no_touch"'
check control_key_logs_the_touch_it_waited_for \
    [ "$(touches ann)" = $((before + 1)) ]
check refusal_after_the_touch_answers_that_it_was_asked \
    answered 408 '.touch_asked == true'
check refusal_after_the_touch_is_audited_so \
    refusal_audited "$ID" no_touch true
key_ctl ann button auto

# the happy path: one touch per approval, and the counter the signed
# assertion carries is the one stored
# approved KEY BEFORE RC [STATE]: tapgatectl approve exited RC after the
# approval was recorded (the request now in STATE), and KEY waited for
# one touch more than BEFORE
approved() {
	[ "$3" -eq 0 ] && grep -q "approved by officer-$1 .*${4:-}" \
	    "$T/approve.out" && [ "$(touches "$1")" = $(($2 + 1)) ] && return 0
	echo "#   exit $3, $(($(touches "$1") - $2)) touch(es):"
	cat "$T/approve.out" "$T/approve.err" | sed 's/^/#     /'
	return 1
}
before=$(touches ann)
approve "$ID" ann
check approval_that_counts_takes_exactly_one_touch approved ann "$before" $?
ANN_COUNT=$(stored_counter officer-ann)

# the officer's group is not one the rule needs (an admin reset needs
# security officers only)
early group_not_needed "$ID" fay group_not_needed \
    'needs no more approvals from your group'
# the same officer a second time
early second_approval_by_the_same_officer "$ID" ann already_approved \
    'you have approved this request already'
check silent_answer_counter_is_not_stored \
    unchanged "$ANN_COUNT" "$(stored_counter officer-ann)"
before=$(touches ben)
approve "$ID" ben
check second_officer_approves_with_one_touch \
    approved ben "$before" $? in_hold
# a request whose approvals are complete
early request_in_its_hold "$ID" cid not_awaiting_approval \
    'request is in_hold: it takes no approval now'

# separation of duties
ID=$(admin_reset carol officer-ann)
early requester_as_officer "$ID" ann is_requester 'you submitted this request'
ID=$(admin_reset officer-ann)
early target_as_officer "$ID" ann is_target \
    'this request recovers your own account'

# vetoed and denied requests
ID=$(admin_reset dora)
api POST "/v1/requests/$ID/veto" '{"reason":"owner: I did not call"}'
early vetoed_request "$ID" ann not_awaiting_approval \
    'request is vetoed: it takes no approval now'
ID=$(admin_reset erin)
api POST "/v1/requests/$ID/deny" '{"reason":"caller failed the callback"}'
early denied_request "$ID" ann not_awaiting_approval \
    'request is denied: it takes no approval now'

# the cool-down: officer-cid's own recovery is approved and its order
# co-signed; cid may approve no recovery for a while, and the final
# request itself takes no approval
CIDS=$(admin_reset officer-cid)
approve "$CIDS" ann && approve "$CIDS" ben
check recovery_of_an_officer_is_cosigned \
    wait_for 15 status_is 200 GET "/v1/orders/$CIDS"
ID=$(admin_reset frank)
early officer_in_cooldown "$ID" cid approver_in_cooldown \
    "a recovery of approver officer-cid's own account was approved"
early request_with_its_order "$CIDS" dan not_awaiting_approval \
    'it takes no approval now'

# a revoked officer's key holds no credential that may approve
CTL approvers revoke officer-dan --cause left >/dev/null
early revoked_key "$ID" dan not_enrolled 'holds no matching credential'

# a later approval that counts: its counter grew past the stored one,
# although the silent answers before it were counted by the key too
before=$(touches ann)
approve "$ID" ann
check approval_after_silent_answers_counts approved ann "$before" $?
NEW_COUNT=$(stored_counter officer-ann)
check stored_counter_grows_with_the_signed_assertion \
    [ -n "$ANN_COUNT" -a -n "$NEW_COUNT" -a "$NEW_COUNT" -gt "$ANN_COUNT" ]

# an early refusal answers that no touch was asked
ID=$(admin_reset gina)
api POST "/v1/requests/$ID/approve" \
    "{\"device\":\"softfido:$T/fay.sock\",\"pin\":\"$PIN\"}"
check early_refusal_answers_that_no_touch_was_asked answered 403 \
    '.error.code == "group_not_needed" and .touch_asked == false'

# a wrong PIN: the attempts the key has left, from the daemon, said by a
# console that cannot open the key itself (the control: it cannot)
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
$NOBODY "$BUILD/tapgatectl" token info "softfido:$T/eli.sock" \
    >/dev/null 2>&1
check control_nobody_cannot_open_the_key [ $? -ne 0 ]
check key_starts_with_8_attempts [ "$(key_retries eli)" = 8 ]
before=$(touches eli)
echo 000000 | $NOBODY "$BUILD/tapgatectl" -s "$T/api.sock" approve "$ID" \
    --device "softfido:$T/eli.sock" >"$T/approve.out" 2>"$T/approve.err"
rc=$?
check wrong_pin_approval_exits_4 [ $rc -eq 4 ]
check key_has_7_attempts_left [ "$(key_retries eli)" = 7 ]
check wrong_pin_approval_says_the_attempts_left \
    grep -q '7 attempts left before the key blocks its PIN' "$T/approve.err"
check wrong_pin_asks_no_touch unchanged "$before" "$(touches eli)"
api POST "/v1/requests/$ID/approve" \
    "{\"device\":\"softfido:$T/eli.sock\",\"pin\":\"000000\"}"
left=$(key_retries eli)
check wrong_pin_answer_carries_the_keys_count \
    answered 403 ".error.code == \"pin\" and .error.retries == $left and
    .error.retries == 6"
approve "$ID" eli
check right_pin_then_approves [ $? -eq 0 ]
check right_pin_restores_the_attempts [ "$(key_retries eli)" = 8 ]

# and the same for an enrolment
echo 000000 | $NOBODY "$BUILD/tapgatectl" -s "$T/api.sock" approvers enroll \
    --name officer-gus --group it_manager --device "softfido:$T/gus.sock" \
    >/dev/null 2>"$T/enrol.err"
rc=$?
check wrong_pin_enrolment_exits_4 [ $rc -eq 4 ]
check enrolling_key_has_7_attempts_left [ "$(key_retries gus)" = 7 ]
check wrong_pin_enrolment_says_the_attempts_left \
    grep -q '7 attempts left before the key blocks its PIN' "$T/enrol.err"
api POST /v1/approvers "{\"name\":\"officer-gus\",\"group\":\"it_manager\",\
\"device\":\"softfido:$T/gus.sock\",\"pin\":\"000000\"}"
left=$(key_retries gus)
check wrong_pin_enrolment_answer_carries_the_keys_count \
    answered 403 ".error.code == \"pin\" and .error.retries == $left and
    .error.retries == 6"
enroll officer-gus it_manager gus
check right_pin_then_enrols [ $? -eq 0 ]

CTL audit verify >/dev/null
check audit_chain_verifies [ $? -eq 0 ]

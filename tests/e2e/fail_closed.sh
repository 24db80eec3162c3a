#!/bin/sh
# SPDX-License-Identifier: ISC
# The engine fails closed, never silently open or stuck.  What the signer
# cannot put in a canonical order is refused when it is submitted, naming
# the field, by an intake caller without any other role.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
start() {
	daemon_start "$T/tapgate.conf" \
	    --trust-roots "$PWD/build/gen/softfido-ca.pem"
}
start || { notok daemon_starts; exit 1; }

OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
# submit CHANGES-JSON [EVIDENCE-JSON]: as the unprivileged intake caller
submit() {
	api_as 65534 POST /v1/requests "$(req password_reset alice "" hd-bob \
	    phone "${2:-[$OOB]}" ",\"changes\":$1")"
}
# refused NAME MESSAGE: 422 invalid_field whose message is MESSAGE
refused() {
	if [ "$STATUS" = 422 ] &&
	    [ "$(jbody .error.code)" = invalid_field ] &&
	    [ "$(jbody .error.message)" = "$2" ]; then
		ok "$1"
	else
		notok "$1" "HTTP $STATUS $(cat "$T/body")"
	fi
}
# nest N: an object N levels deep: {"a":{"a":...{"a":1}...}}
nest() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "{\"a\":";
	    printf "1"; for (i = 0; i < n; i++) printf "}" }'
}

PLAIN='{"password":"reset","force_change_at_logon":false}'
submit "$PLAIN"
check plain_changes_are_accepted [ "$STATUS" = 201 ]
submit '{"password":"reset","limit":1.5}'
refused float_in_changes_is_refused_naming_it \
    "changes.limit: floats are not allowed"
submit '{"amount":{"value":9007199254740992}}'
refused integer_beyond_2_53_is_refused_naming_it \
    "changes.amount.value: integers beyond +-(2^53 - 1) are not allowed"
submit '{"amount":{"value":-9007199254740992}}'
refused negative_integer_beyond_2_53_is_refused \
    "changes.amount.value: integers beyond +-(2^53 - 1) are not allowed"
# past the canonical form, the queue's vocabulary has the last word
submit '{"amount":9007199254740991}'
refused largest_exact_integer_reaches_the_vocabulary_check \
    "changes.amount: unknown for queue password_reset"
submit '{"list":[1,2,[3,4e2]]}'
refused float_deep_in_an_array_is_refused_naming_its_index \
    "changes.list[2][1]: floats are not allowed"
submit "$(nest 1000)"
refused thousand_levels_of_nesting_are_refused \
    "changes$(awk 'BEGIN { for (i = 0; i < 17; i++) printf ".a" }'): nesting deeper than 16 levels"
submit "$(nest 16)"
refused sixteen_levels_of_nesting_reach_the_vocabulary_check \
    "changes.a: unknown for queue password_reset"
submit "{\"note\":\"$(head -c 50000 /dev/zero | tr '\0' x)\"}"
refused changes_too_large_for_an_order_are_refused \
    "changes: 50011 bytes in canonical form, over 16384"
submit '"reset"'
refused changes_must_be_an_object "changes: must be an object"
submit '{}' "[$(ev out_of_band_callback pass hd-bob email cb-1 |
    sed 's/}$/,"score":0.75}/')]"
refused float_in_evidence_is_refused_naming_it \
    "evidence[0].score: floats are not allowed"
submit "$PLAIN"
ID=$(jbody .id)
api_as 65534 POST "/v1/requests/$ID/evidence" "{\"evidence\":[$(ev \
    identity_document pass hd-carol video id-1 |
    sed 's/}$/,"age":{"years":1e1}}/')]}"
refused float_in_added_evidence_is_refused_naming_it \
    "evidence[0].age.years: floats are not allowed"
api GET /v1/requests?limit=100
check refused_submissions_are_not_recorded \
    [ "$(jq '.requests | length' "$T/body")" = 2 ]

# Requests the signer can never sign, written into the database directly
# (the submission check refuses them now): more than the timer takes at
# once, all due before a genuine request.  Each is parked once, visibly;
# the genuine request still gets its order.
daemon_stop
BAD=70
NOW=$(date +%s)
DEEP="replace(hex(zeroblob(1000)), '00', '{\"a\":') || '1' || replace(hex(zeroblob(1000)), '00', '}')"
sqlite3 "$T/state/tapgate.db" "
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $BAD)
INSERT INTO requests (id, queue, target_account, target_system,
  effective_class, requester_agent, requester_channel, requester_uid,
  request_json, state, policy_id, policy_version, created, updated,
  hold_start, hold_end)
SELECT lower(hex(randomblob(16))), 'password_reset', 'victim' || i,
  'ldap-corp', 'standard', 'hd-bob', 'phone', 0,
  CASE i % 4
  WHEN 0 THEN '$(req password_reset victim "" hd-bob phone "[$OOB]" \
      ',"changes":{"limit":1.5}')'
  WHEN 1 THEN '$(req password_reset victim "" hd-bob phone "[$OOB]" \
      ',"changes":{"n":18014398509481984}')'
  WHEN 2 THEN rtrim('$(req password_reset victim "" hd-bob phone \
      "[$OOB]" ',"changes":')', '}') || $DEEP || '}'
  ELSE 'not json at all' END,
  'in_hold', 'default', 1, $NOW - 600, $NOW - 600, $NOW - 600 + i,
  $NOW - 300 + i FROM k;
INSERT INTO evidence (request_id, type, result, verifier, channel, ref,
  evidence_json, digest, added_uid, created)
SELECT id, 'out_of_band_callback', 'pass', 'hd-bob', 'email', 'cb-1', '$OOB',
  lower(hex(randomblob(32))), 0, created FROM requests
  WHERE target_account LIKE 'victim%'" || notok bad_rows_are_written
start || notok daemon_restarts
api POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$OOB]")"
GOOD=$(jbody .id)
# wait_order ID: poll (at most 20 s) until the request has its order
wait_order() {
	i=0
	while [ $i -lt 200 ]; do
		api GET "/v1/orders/$1"
		[ "$STATUS" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
check genuine_request_is_signed_past_more_than_64_unsignable_ones \
    wait_order "$GOOD"
# a second one: by its order the timer has run many more ticks
api POST /v1/requests "$(req password_reset bob "" hd-bob phone "[$OOB]")"
check timer_keeps_signing_after_parking_them wait_order "$(jbody .id)"
api GET "/v1/requests?state=sign_failed&limit=1000"
check every_unsignable_request_is_parked_as_sign_failed \
    [ "$(jq '.requests | length' "$T/body")" = "$BAD" ]
q() { sqlite3 "$T/state/tapgate.db" "$1"; }
check each_parked_request_is_audited_once_with_its_cause \
    [ "$(q "SELECT count(*), count(DISTINCT request_id) FROM audit WHERE
    event = 'request.sign_failed' AND details LIKE '%\"cause\":%'")" = \
    "$BAD|$BAD" ]
check parking_is_logged_once_per_request \
    [ "$(grep -c 'parked as sign_failed' "$T/daemon.log")" = "$BAD" ]
check timer_does_not_retry_parked_requests \
    [ "$(grep -c 'hold timer' "$T/daemon.log")" = 0 ]
check parked_float_names_its_field \
    grep -q 'parked as sign_failed: .*changes.limit: floats are not allowed' \
    "$T/daemon.log"
check parked_deep_nesting_names_its_field \
    grep -q 'parked as sign_failed: .*changes.a.a.*: nesting deeper than 16 levels' \
    "$T/daemon.log"
api GET /metrics
check metrics_count_parked_requests \
    grep -q "^tapgate_requests{queue=\"password_reset\",state=\"sign_failed\"} $BAD\$" \
    "$T/body"
"$BUILD/tapgatectl" -s "$T/api.sock" requests list --state sign_failed \
    >"$T/list"
check console_lists_parked_requests \
    [ "$(grep -c ' sign_failed ' "$T/list")" = "$BAD" ]

# A request the signer refuses (an approval whose stored signature was
# damaged) is parked; refused again it stays parked; once the row is
# mended, an operator's explicit request has it signed.  Another parked
# request can still be denied, but not vetoed.
key_start ann
key_start ben
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
ANN="(SELECT id FROM approvers WHERE name = 'officer-ann')"
sig_of() {	# ID: officer-ann's stored signature, in hex
	q "SELECT hex(signature) FROM approvals WHERE request_id = '$1' AND
	    approver_id = $ANN"
}
set_sig() {	# ID HEX
	q "UPDATE approvals SET signature = X'$2' WHERE request_id = '$1' AND
	    approver_id = $ANN"
}
damage() {	# ID: change the first byte of officer-ann's stored signature
	s=$(sig_of "$1")
	case $s in 30*) b=31 ;; *) b=30 ;; esac
	set_sig "$1" "$b${s#??}"
}
# wait_state ID STATE: poll (at most 20 s) until the request is in STATE
wait_state() {
	i=0
	while [ $i -lt 200 ]; do
		[ "$(q "SELECT state FROM requests WHERE id = '$1'")" = "$2" ] &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
P1=$(admin_reset carol)
P2=$(admin_reset dave)
approve "$P1" ann && approve "$P2" ann
SIG=$(sig_of "$P1")
damage "$P1"
damage "$P2"
approve "$P1" ben && approve "$P2" ben
check request_with_a_damaged_approval_is_parked wait_state "$P1" sign_failed
check signer_names_the_approval_that_does_not_verify \
    grep -q "request $P1 parked as sign_failed: approval by officer-ann does not verify" \
    "$T/daemon.log"
api GET "/v1/orders/$P1"
check parked_request_has_no_order [ "$STATUS" = 404 ]
CTL requests show "$P1" >"$T/show"
check console_shows_why_a_request_is_parked \
    sh -c "grep -q '^state     sign_failed' $T/show &&
    grep -q 'orders issue $P1' $T/show &&
    grep -q '^decision  sign_failed by tapgated (system): approval by officer-ann does not verify' $T/show"
api POST "/v1/requests/$P1/order" '{}'
still_parked() {
	[ "$STATUS" = 409 ] && [ "$(jbody .error.code)" = sign_failed ] &&
	    [ "$(q "SELECT state FROM requests WHERE id = '$1'")" = sign_failed ]
}
check retry_refused_again_keeps_it_parked still_parked "$P1"
set_sig "$P1" "$SIG"
api POST "/v1/requests/$P1/order" '{}'
check operator_retry_signs_a_mended_request \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r '.jws | split(\".\") | length' $T/body) = 3 ]"
api GET "/v1/requests/$P1"
check signed_retry_makes_the_request_ready [ "$(jbody .state)" = ready ]
check retry_and_second_refusal_are_audited \
    [ "$(q "SELECT group_concat(event, ' ') FROM (SELECT event FROM audit
    WHERE request_id = '$P1' AND event IN ('request.sign_failed',
    'order.retry', 'order.issued', 'order.refused') ORDER BY seq)")" = \
    "order.refused request.sign_failed order.retry order.refused request.sign_failed order.retry order.issued" ]
check second_request_is_parked_too wait_state "$P2" sign_failed
api POST "/v1/requests/$P2/veto" '{"reason":"owner: not me"}'
check parked_request_cannot_be_vetoed [ "$STATUS" = 409 ]
api POST "/v1/requests/$P2/deny" '{"reason":"damaged approval; resubmit"}'
check parked_request_can_be_denied [ "$(jbody .state)" = denied ]
CTL audit verify >/dev/null
check audit_chain_verifies [ $? -eq 0 ]

# No silent cap in the rule: with more than 256 revoked approvers in the
# store, the approval of one revoked after them still stops counting, and
# the signer never signs with fewer approvals than the rule needs.
key_start cid
key_start dan
enroll officer-cid security_officer cid
enroll officer-dan security_officer dan
# 300 former officers, all enrolled (and revoked) before officer-cid
q "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
    WHERE i < 300)
    INSERT INTO approvers (name, approver_group, cred_id, pubkey, alg,
    enrolled, revoked, revoked_at, revoke_reason)
    SELECT 'former-' || i, 'security_officer', randomblob(16),
    randomblob(32), -8, 1, 1, 1, 'left: long gone' FROM k;
    UPDATE approvers SET id = 100000 WHERE name = 'officer-cid'"
check more_than_256_revoked_approvers_precede_officer_cid \
    [ "$(q "SELECT count(*) FROM approvers WHERE revoked = 1 AND
    id < 100000")" -gt 256 ]
R3=$(admin_reset erin)
approve "$R3" cid
check officer_cid_approves [ $? -eq 0 ]
CTL approvers revoke officer-cid --cause compromised --reason "key lost" \
    >/dev/null
approve "$R3" ann
api GET "/v1/requests/$R3"
check approval_of_the_301st_revoked_approver_stops_counting \
    [ "$(jbody .state)" = needs_approval -a \
    "$(jbody '.decision.approvals.groups[0].counted')" = 1 ]
# an approval row deleted by someone with the database file during the
# hold: the request falls back, and no order is signed with one approval
R4=$(admin_reset frank)
approve "$R4" ann && approve "$R4" dan
daemon_stop
q "DELETE FROM approvals WHERE request_id = '$R4' AND approver_id =
    (SELECT id FROM approvers WHERE name = 'officer-dan')"
start || notok daemon_restarts
# by the time a later request has its order, both holds are long over
api POST /v1/requests "$(req password_reset carl "" hd-bob phone "[$OOB]")"
wait_order "$(jbody .id)"
for r in "$R3" "$R4"; do
	api GET "/v1/orders/$r"
	[ "$STATUS" = 404 ] || break
done
check no_order_is_signed_with_fewer_approvals_than_the_rule [ "$STATUS" = 404 ]
api GET "/v1/requests/$R4"
check deleted_approval_sends_the_request_back [ "$(jbody .state)" = needs_approval ]
check no_order_issued_with_a_single_approval \
    [ "$(q "SELECT count(*) FROM audit WHERE event = 'order.issued' AND
    details LIKE '%\"approvals\":1,%'")" = 0 ]

# The quorum alarm counts every enrolled officer, not the first 64: with
# 70 officers of one group enrolled before one of another, that one counts.
q "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k
    WHERE i < 70)
    INSERT INTO approvers (name, approver_group, cred_id, pubkey, alg,
    enrolled) SELECT 'officer-' || i, 'it_manager', randomblob(16),
    randomblob(32), -8, 1 FROM k;
    INSERT INTO approvers (name, approver_group, cred_id, pubkey, alg,
    enrolled) VALUES ('officer-fin', 'finance_controller', randomblob(16),
    randomblob(32), -8, 1)"
# a revocation runs the quorum check
CTL approvers revoke officer-70 --cause left >/dev/null
api GET /metrics
check quorum_counts_officers_past_the_first_64 \
    grep -q '^tapgate_approvers_enrolled{group="finance_controller"} 1$' \
    "$T/body"

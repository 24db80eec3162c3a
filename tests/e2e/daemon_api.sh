#!/bin/sh
# SPDX-License-Identifier: ISC
# tapgated end to end: the real daemon on a scratch state dir and socket,
# driven over HTTP with curl.  Each queue and class reaches the state the
# policy says, roles come from peer credentials, bad input is refused with
# an error naming the field and changes nothing.
. tests/e2e/lib/daemon.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
ok daemon_starts

OOB_EMAIL=$(ev out_of_band_callback pass hd-bob email cb-1)
IDDOC=$(ev identity_document pass hd-bob video doc-1)
HIST=$(ev account_history pass hd-bob phone hist-1)
MGR=$(ev manager_confirmation pass mgr-eve email mgr-1)

# --- the policy's states
api POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$OOB_EMAIL]")"
STD=$(jbody .id)
check standard_password_reset_with_callback_enters_hold \
    [ "$STATUS" = 201 -a "$(jbody .state)" = in_hold -a "$(jbody .class)" = standard ]

api POST /v1/requests "$(req password_reset adm-carol standard hd-bob phone "[$OOB_EMAIL]")"
check admin_claimed_as_standard_stays_admin \
    [ "$STATUS" = 201 -a "$(jbody .class)" = admin -a "$(jbody .state)" = needs_evidence ]
check admin_reset_names_missing_evidence_and_two_officers answered 201 \
    '[.missing[].code] | (map(startswith("evidence:")) | any) and
    index("approval:security_officer:2") != null'

api POST /v1/requests '{"queue":"password_reset","target":{"account":"dave","system":"ldap-corp","groups":["Domain Admins"]},"requester":{"agent":"hd-bob","channel":"phone"},"evidence":['"$OOB_EMAIL"'],"changes":{"password":"reset","force_change_at_logon":true}}'
check configured_group_makes_account_admin \
    [ "$STATUS" = 201 -a "$(jbody .class)" = admin ]

api POST /v1/requests "$(req password_reset fin-frank "" hd-bob phone "[$OOB_EMAIL]")"
check finance_pattern_makes_account_finance \
    [ "$STATUS" = 201 -a "$(jbody .class)" = finance ]

api POST /v1/requests "$(req password_reset erin "" hd-bob phone "[$(ev out_of_band_callback pass hd-bob phone cb-2)]")"
SAMECH=$(jbody .id)
check evidence_over_the_request_channel_does_not_count \
    [ "$STATUS" = 201 -a "$(jbody .state)" = manual_review -a \
    "$(jbody .route)" = manual_review ]
api GET "/v1/requests/$SAMECH"
check show_gives_the_verdict_per_evidence_item \
    [ "$STATUS" = 200 -a "$(jbody '.decision.evidence.verdicts[0]')" = request_channel ]

api POST /v1/requests "$(req password_reset gina "" hd-bob phone "[$HIST]")"
HISTID=$(jbody .id)
check no_trusted_factor_goes_to_manual_review \
    [ "$STATUS" = 201 -a "$(jbody .state)" = manual_review ]

api POST /v1/requests '{"queue":"mfa_reset","target":{"account":"hank","system":"ldap-corp"},"requester":{"agent":"hd-bob","channel":"phone"},"evidence":[],"changes":{"mfa":"reset","reenrolment_required":true}}'
check mfa_reset_must_name_the_recovered_channel answered 422 \
    '.error.message | test("recovered_channel")'

api POST /v1/requests '{"queue":"mfa_reset","target":{"account":"hank","system":"ldap-corp","recovered_channel":"sms"},"requester":{"agent":"hd-bob","channel":"phone"},"evidence":['"$(ev out_of_band_callback pass hd-bob sms cb-3)"','"$IDDOC"'],"changes":{"mfa":"reset","reenrolment_required":true}}'
MFA=$(jbody .id)
check mfa_reset_naming_its_channel_is_taken [ "$STATUS" = 201 -a -n "$MFA" ]
api GET "/v1/requests/$MFA"
check evidence_over_the_recovered_channel_does_not_count \
    [ "$STATUS" = 200 -a "$(jbody '.decision.evidence.verdicts[0]')" = recovered_channel ]

api POST /v1/requests "$(req reactivation ivan "" hd-bob phone "[$OOB_EMAIL,$MGR]")"
check reactivation_with_manager_and_callback_enters_hold \
    [ "$STATUS" = 201 -a "$(jbody .state)" = in_hold ]
api POST /v1/requests "$(req privilege_change judy "" hd-bob phone "[$OOB_EMAIL,$MGR]")"
check privilege_change_waits_for_it_manager_approval answered 201 \
    '.state == "needs_approval" and
    ([.missing[].code] | index("approval:it_manager:1") != null)'
api POST /v1/requests "$(req transaction_approval fin-kim "" hd-bob phone "[$OOB_EMAIL,$MGR]")"
check finance_transaction_needs_two_finance_controllers answered 201 \
    '[.missing[].code] | index("approval:finance_controller:2") != null'
api POST /v1/requests "$(req password_reset lena "" hd-bob phone "[$OOB_EMAIL]" ',"risk":{"recent_compromise":true}')"
check recent_compromise_forces_manual_review \
    [ "$STATUS" = 201 -a "$(jbody .route)" = manual_review ]

# --- evidence, veto, deny, the hold timer
api POST "/v1/requests/$HISTID/evidence" "{\"evidence\":[$OOB_EMAIL]}"
check added_trusted_evidence_moves_request_into_hold \
    [ "$STATUS" = 200 -a "$(jbody .state)" = in_hold ]
api POST "/v1/requests/$HISTID/veto" '{"reason":"owner says: not me"}'
check veto_during_the_hold_stops_the_request \
    [ "$STATUS" = 200 -a "$(jbody .state)" = vetoed ]
api POST "/v1/requests/$HISTID/deny" '{"reason":"too late"}'
check vetoed_request_cannot_be_denied_again [ "$STATUS" = 409 ]
api POST "/v1/requests/$HISTID/evidence" "{\"evidence\":[$IDDOC]}"
check vetoed_request_takes_no_more_evidence [ "$STATUS" = 409 ]

# the 2 s hold that began at its submission runs out: the hold timer
# (once a second) stores the state that the list filters on
listed_ready() {
	api GET "/v1/requests?state=ready"
	# shellcheck disable=SC2016 # $id is a jq variable
	answered 200 '[.requests[].id] | index($id) != null' --arg id "$STD"
}
check hold_timer_makes_request_ready wait_for 10 listed_ready
check list_filters_by_state answered 200 \
    '(.requests | length > 0) and all(.requests[]; .state == "ready")'
check request_shows_the_state_the_timer_stored request_in_state "$STD" ready
api POST "/v1/requests/$STD/veto" '{"reason":"owner woke up"}'
check veto_after_the_hold_is_refused \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = veto_window_closed ]
api POST "/v1/requests/$STD/deny" '{"reason":"officer: caller failed callback"}'
check officer_can_still_deny_a_ready_request \
    [ "$STATUS" = 200 -a "$(jbody .state)" = denied ]

# --- idempotency
B=$(req password_reset mike "" hd-bob phone "[$OOB_EMAIL]")
api POST /v1/requests "$B" -H 'Idempotency-Key: INC-42-try'
FIRST=$(jbody .id)
check submit_with_an_idempotency_key_is_taken [ "$STATUS" = 201 -a -n "$FIRST" ]
api POST /v1/requests "$B" -H 'Idempotency-Key: INC-42-try'
check retried_submit_returns_the_first_answer \
    [ "$STATUS" = 201 -a "$(jbody .id)" = "$FIRST" ]
api POST /v1/requests "$(req password_reset mike2 "" hd-bob phone "[$OOB_EMAIL]")" -H 'Idempotency-Key: INC-42-try'
check reused_key_with_another_body_conflicts \
    [ "$STATUS" = 409 -a "$(jbody .error.code)" = idempotency_key_reused ]

# --- bad input: refused with the field named, nothing stored
# let the holds above run out, so only bad input could change the counts
no_hold_runs() {
	api GET '/v1/requests?state=in_hold'
	[ "$STATUS" = 200 ] && [ "$(jbody '.requests | length')" = 0 ]
}
check every_hold_runs_out wait_for 10 no_hold_runs
api GET /metrics
check operator_reads_the_metrics [ "$STATUS" = 200 ]
BEFORE=$(grep -E '^tapgate_requests' "$T/body" | awk '{s += $2} END {print s}')
AUD_BEFORE=$(grep '^tapgate_audit_entries' "$T/body" | awk '{print $2}')
bad() {	# name status code-or-empty field-in-message body [curl args]
	n=$1 st=$2 code=$3 field=$4 body=$5; shift 5
	api POST /v1/requests "$body" "$@"
	if [ "$STATUS" != "$st" ]; then
		notok "$n" "status $STATUS, want $st: $(cat "$T/body")"
	elif [ -n "$code" ] && [ "$(jbody .error.code)" != "$code" ]; then
		notok "$n" "code $(jbody .error.code), want $code"
	elif ! jbody .error.message | grep -q -- "$field"; then
		notok "$n" "message does not name $field: $(jbody .error.message)"
	else
		ok "$n"
	fi
}
bad malformed_json_gets_400 400 malformed_body body '{"queue":'
bad json_array_gets_400 400 malformed_body body '[1,2]'
bad duplicate_keys_get_400 400 malformed_body body '{"queue":"mfa_reset","queue":"password_reset"}'
# by hand: api sends JSON; an empty body file, never a stale one
: >"$T/body"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 60 \
    --unix-socket "$T/api.sock" -H 'Content-Type: text/plain' \
    --data-binary '{}' http://tapgated/v1/requests)
check wrong_content_type_gets_415 \
    [ "$STATUS" = 415 -a "$(jbody .error.code)" = unsupported_media_type ]
bad unknown_queue_gets_422 422 invalid_field queue "$(req fax_reset alice "" hd-bob phone '[]')"
bad unknown_class_gets_422 422 invalid_field target.class "$(req password_reset alice root hd-bob phone '[]')"
bad unknown_evidence_type_gets_422 422 invalid_field 'evidence\[0\].type' "$(req password_reset alice "" hd-bob phone "[$(ev fax pass hd-bob email x)]")"
bad bad_evidence_result_gets_422 422 invalid_field 'evidence\[0\].result' "$(req password_reset alice "" hd-bob phone "[$(ev identity_document maybe hd-bob email x)]")"
bad unknown_channel_gets_422 422 invalid_field channel "$(req password_reset alice "" hd-bob pigeon '[]')"
bad unknown_risk_gets_422 422 invalid_field risk.tarot "$(req password_reset alice "" hd-bob phone '[]' ',"risk":{"tarot":true}')"
bad risk_not_boolean_gets_422 422 invalid_field risk.new_device "$(req password_reset alice "" hd-bob phone '[]' ',"risk":{"new_device":"yes"}')"
bad missing_target_gets_422 422 invalid_field target '{"queue":"password_reset","requester":{"agent":"a","channel":"phone"}}'
bad missing_agent_gets_422 422 invalid_field requester.agent '{"queue":"password_reset","target":{"account":"a","system":"s"},"requester":{"channel":"phone"}}'
bad number_as_account_gets_422 422 invalid_field target.account '{"queue":"password_reset","target":{"account":5,"system":"s"},"requester":{"agent":"a","channel":"phone"}}'
LONG=$(head -c 300 /dev/zero | tr '\0' a)
bad overlong_account_gets_422 422 "" target.account "$(req password_reset "$LONG" "" hd-bob phone '[]')"
bad control_character_gets_422 422 invalid_field target.account "$(req password_reset 'al\u0007ice' "" hd-bob phone '[]')"
MANY=$(i=0; printf '['; while [ $i -lt 33 ]; do [ $i -gt 0 ] && printf ,; ev account_history pass a email "r$i"; i=$((i+1)); done; printf ']')
bad too_much_evidence_gets_422 422 "" evidence "$(req password_reset alice "" hd-bob phone "$MANY")"
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
: >"$T/body"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 60 \
    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
    --data-binary @"$T/big" http://tapgated/v1/requests)
check oversized_body_gets_413 [ "$STATUS" = 413 ]
api DELETE /v1/requests
check wrong_method_gets_405 [ "$STATUS" = 405 ]
api GET /v1/nothing
check unknown_path_gets_404 [ "$STATUS" = 404 ]
api GET /v1/requests/0123456789abcdef0123456789abcdef
check unknown_request_gets_404 [ "$STATUS" = 404 ]
api GET "/v1/requests/'%20OR%201=1"
check malformed_request_id_gets_404 [ "$STATUS" = 404 ]
api POST "/v1/requests/$MFA/veto" '{"reason":""}'
check empty_veto_reason_gets_422 [ "$STATUS" = 422 ]
api GET '/v1/requests?queue=nope'
check unknown_queue_filter_gets_400 [ "$STATUS" = 400 ]
api GET /metrics
AFTER=$(grep -E '^tapgate_requests' "$T/body" | awk '{s += $2} END {print s}')
AUD_AFTER=$(grep '^tapgate_audit_entries' "$T/body" | awk '{print $2}')
stored_nothing() {
	[ "$STATUS" = 200 ] && unchanged "$BEFORE" "$AFTER" &&
	    unchanged "$AUD_BEFORE" "$AUD_AFTER"
}
check refused_input_stores_nothing stored_nothing
check daemon_survives_bad_input alive "$DAEMON_PID"

# --- roles from peer credentials
api_as 65534 POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$OOB_EMAIL]")"
check caller_without_role_cannot_submit [ "$STATUS" = 403 ]
api_as 65534 GET /v1/requests
check caller_without_role_cannot_list [ "$STATUS" = 403 ]
api_as 65534 GET /healthz
check anyone_connected_gets_health [ "$STATUS" = 200 ]
daemon_stop
make_config "$T/intake.conf" 's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
daemon_start "$T/intake.conf" || notok daemon_restarts_with_intake_role
api_as 65534 POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$OOB_EMAIL]")"
check intake_role_can_submit [ "$STATUS" = 201 ]
NEWID=$(jbody .id)
api_as 65534 POST "/v1/requests/$NEWID/deny" '{"reason":"i am not an officer"}'
check intake_role_cannot_deny [ "$STATUS" = 403 ]
api_as 65534 GET /metrics
check intake_role_cannot_read_metrics [ "$STATUS" = 403 ]
api GET "/v1/requests/$NEWID"
check request_records_the_submitting_uid \
    [ "$STATUS" = 200 -a "$(jbody .requester.uid)" = 65534 ]
api GET "/v1/requests/$STD"
check state_survives_a_restart [ "$STATUS" = 200 -a "$(jbody .state)" = denied ]
daemon_stop

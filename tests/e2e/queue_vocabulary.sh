#!/bin/sh
# SPDX-License-Identifier: ISC
# Each queue bounds the change: the daemon takes a request's "changes"
# only in its queue's vocabulary (src/order/vocab.h), every required key
# present, and refuses anything else with 422 naming the key, recording
# nothing.  A password reset that would also put the account in Domain
# Admins is refused at submission, and a stored one the signer parks
# without signing.
. tests/e2e/lib/daemon.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
MGR=$(ev manager_confirmation pass mgr-mia phone mc-1)
DA='"cn=Domain Admins,cn=Users,dc=corp,dc=test"'
# submit QUEUE CHANGES-JSON: a standard account's request with them
submit() {
	api POST /v1/requests "$(req "$1" erin "" hd-bob phone \
	    "[$OOB,$MGR]" ",\"changes\":$2")"
}
# refused NAME MESSAGE: 422 invalid_field with exactly that message
refused() {
	if [ "$STATUS" = 422 ] &&
	    [ "$(jbody .error.code)" = invalid_field ] &&
	    [ "$(jbody .error.message)" = "$2" ]; then
		ok "$1"
	else
		notok "$1" "HTTP $STATUS $(cat "$T/body")"
	fi
}
count() {
	api GET '/v1/requests?limit=1000'
	jq '.requests | length' "$T/body"
}

for q in password_reset reactivation privilege_change transaction_approval; do
	submit "$q" "$(changes_of "$q")"
	check "${q}_takes_its_own_vocabulary" [ "$STATUS" = 201 ]
	[ "$q" = password_reset ] && STD=$(jbody .id)
done
api POST /v1/requests "$(req mfa_reset erin "" hd-bob phone "[$OOB]" \
    ',"changes":{"mfa":"reset","reenrolment_required":true}' |
    sed 's/"system":"ldap-corp"/&,"recovered_channel":"sms"/')"
check mfa_reset_takes_its_own_vocabulary [ "$STATUS" = 201 ]
BEFORE=$(count)

submit password_reset \
    "{\"password\":\"reset\",\"force_change_at_logon\":true,\"add_groups\":[$DA]}"
refused password_reset_adding_domain_admins_is_refused \
    "changes.add_groups: unknown for queue password_reset"
submit reactivation "{\"account\":\"enable\",\"add_groups\":[$DA]}"
refused reactivation_adding_a_group_is_refused \
    "changes.add_groups: unknown for queue reactivation"
submit password_reset '{"password":"reset"}'
refused missing_required_key_is_refused_naming_it \
    "changes.force_change_at_logon: missing (required for queue password_reset)"
api POST /v1/requests "$(req password_reset erin "" hd-bob phone "[$OOB]" \
    ',"changes":null')"
refused request_without_changes_is_refused "changes: missing"
submit password_reset '{"password":"reset","force_change_at_logon":"no"}'
refused ill_typed_value_is_refused_naming_it \
    "changes.force_change_at_logon: must be true or false"
submit privilege_change '{"add_groups":["Domain Admins"]}'
refused group_that_is_not_a_dn_is_refused \
    "changes.add_groups[0]: must be a group DN (RFC 4514, 3 to 256 bytes)"
submit privilege_change "{\"add_groups\":[$DA],\"remove_groups\":[$DA]}"
refused group_added_and_removed_at_once_is_refused \
    "changes.remove_groups[0]: also in add_groups"
submit transaction_approval '{"transaction_id":"TX-1","amount":1200,"currency":"EUR","payee":"ACME"}'
refused amount_as_a_number_is_refused \
    'changes.amount: must be a decimal string above zero ("1234.50": at most 15 digits, no leading zero, at most 4 decimals)'
submit transaction_approval '{"transaction_id":"TX-1","amount":"1200","currency":"eur","payee":"ACME"}'
refused currency_in_lower_case_is_refused \
    "changes.currency: must be an ISO 4217 code of three capitals"
check refused_changes_are_not_recorded [ "$(count)" = "$BEFORE" ]

# The standard reset needs no officer: its order says so, and a pinned
# verifier with the default floors takes it without approvals.
order_of() { status_is 200 GET "/v1/orders/$1"; }
check standard_reset_is_signed_after_its_hold wait_for 20 order_of "$STD"
jq -r .jws "$T/body" >"$T/std.jws"
if ! "$BUILD/tapgatectl" -s "$T/api.sock" keys -o "$T/jwks.json" ||
    ! "$BUILD/tapgatectl" -s "$T/api.sock" approvers export \
    -o "$T/approvers.json"; then
	notok keys_and_approvers_exported
fi
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
    --approvers "$T/approvers.json" "$T/std.jws" >"$T/std.json"
check untouched_standard_order_verifies_with_the_default_floors \
    [ $? -eq 0 ]
check standard_order_states_that_no_approval_was_required jqtrue \
    '.change.policy.approvals_required == [] and
    .change.target.class == "standard" and .approvers == []' "$T/std.json"

# A request stored with a change the vocabulary refuses (written into the
# database directly, as a request of an older version or a tampered row
# would be), held and due: the signer refuses it, names the key and parks
# it; it never becomes an order.
daemon_stop
NOW=$(date +%s)
BAD=$(req password_reset victim "" hd-bob phone "[$OOB]" \
    ",\"changes\":{\"password\":\"reset\",\"force_change_at_logon\":true,\"add_groups\":[$DA]}")
ID=0123456789abcdef0123456789abcdef
sqlite3 "$T/state/tapgate.db" "
INSERT INTO requests (id, queue, target_account, target_system,
  effective_class, requester_agent, requester_channel, requester_uid,
  request_json, state, policy_id, policy_version, created, updated,
  hold_start, hold_end)
VALUES ('$ID', 'password_reset', 'victim', 'ldap-corp', 'standard', 'hd-bob',
  'phone', 0, '$BAD', 'in_hold', 'default', 1, $NOW - 600, $NOW - 600,
  $NOW - 600, $NOW - 300);
INSERT INTO evidence (request_id, type, result, verifier, channel, ref,
  evidence_json, digest, added_uid, created)
VALUES ('$ID', 'out_of_band_callback', 'pass', 'hd-bob', 'email', 'cb-1',
  '$OOB', lower(hex(randomblob(32))), 0, $NOW - 600)" ||
	notok stored_request_is_written
daemon_start "$T/tapgate.conf" || { notok daemon_restarts; exit 1; }
stored_state() {
	[ "$(sqlite3 "$T/state/tapgate.db" \
	    "SELECT state FROM requests WHERE id = '$ID'")" = "$1" ]
}
check stored_change_outside_the_vocabulary_is_parked \
    wait_for 20 stored_state sign_failed
check parking_names_the_key \
    grep -q "parked as sign_failed: .*changes.add_groups: unknown for queue password_reset" \
    "$T/daemon.log"
api GET "/v1/orders/$ID"
check parked_request_has_no_order [ "$STATUS" = 404 ]
daemon_stop

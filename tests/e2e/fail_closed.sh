#!/bin/sh
# SPDX-License-Identifier: ISC
# The engine fails closed, never silently open or stuck.  What the signer
# cannot put in a canonical order is refused when it is submitted, naming
# the field, by an intake caller without any other role.
. tests/e2e/lib/daemon.sh

make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

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

submit '{"password":"reset","notify":true,"attempts":3}'
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
submit '{"amount":9007199254740991}'
check largest_exact_integer_is_accepted [ "$STATUS" = 201 ]
submit '{"list":[1,2,[3,4e2]]}'
refused float_deep_in_an_array_is_refused_naming_its_index \
    "changes.list[2][1]: floats are not allowed"
submit "$(nest 1000)"
refused thousand_levels_of_nesting_are_refused \
    "changes$(awk 'BEGIN { for (i = 0; i < 17; i++) printf ".a" }'): nesting deeper than 16 levels"
submit "$(nest 16)"
check sixteen_levels_of_nesting_are_accepted [ "$STATUS" = 201 ]
submit "{\"note\":\"$(head -c 50000 /dev/zero | tr '\0' x)\"}"
refused changes_too_large_for_an_order_are_refused \
    "changes: 50011 bytes in canonical form, over 16384"
submit '"reset"'
refused changes_must_be_an_object "changes: must be an object"
submit '{}' "[$(ev out_of_band_callback pass hd-bob email cb-1 |
    sed 's/}$/,"score":0.75}/')]"
refused float_in_evidence_is_refused_naming_it \
    "evidence[0].score: floats are not allowed"
submit '{}'
ID=$(jbody .id)
api_as 65534 POST "/v1/requests/$ID/evidence" "{\"evidence\":[$(ev \
    identity_document pass hd-carol video id-1 |
    sed 's/}$/,"age":{"years":1e1}}/')]}"
refused float_in_added_evidence_is_refused_naming_it \
    "evidence[0].age.years: floats are not allowed"
api GET /v1/requests?limit=100
check refused_submissions_are_not_recorded \
    [ "$(jq '.requests | length' "$T/body")" = 4 ]

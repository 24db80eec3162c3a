#!/bin/sh
# SPDX-License-Identifier: ISC
# approve_at = "box": a rule (per queue and class, or the manual route's)
# that takes its approvals at the box only.  The console refuses such a
# request at begin and, when the request came under such a rule after
# begin (a risk raised sends it to manual review), at finish, 409
# approve_at_box, audited; GET /v1/requests/ID and begin say where it is
# approved; the box still takes the approval.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

ORIGIN=https://console.tapgate.local:8443
ANN=2001
# the manual route is approved at the box; mfa_reset's admin rule too
# (each queue's first rule that wants two officers), password_reset's
# is not
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { uid = $ANN; roles = [\"officer\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { uid = $ANN; name = \"ann\"; team = \"appliance\"; officer = \"officer-ann\"; },/" \
    's/^(    identity_proofing = )/    approve_at = "box";\n\1/' \
    '/^    password_reset = \{/,/count = 2; \} \);$/s/count = 2; \} \);$/&\n            approve_at = "anywhere";/' \
    '/^    mfa_reset = \{/,/count = 2; \} \);$/s/count = 2; \} \);$/&\n            approve_at = "box";/'
cat >>"$T/tapgate.conf" <<EOC
console = { origins = [ "$ORIGIN" ]; nonce_seconds = 30; };
EOC
daemon_start "$T/tapgate.conf" --token-timeout 5000 ||
    { notok daemon_starts_with_approve_at; exit 1; }
key_start ann
enroll officer-ann security_officer ann ||
    notok officer_ann_enrols "$(cat "$T/enrol.err")"
ID=$(admin_reset alice)

# refused STATUS CODE: the last answer was that refusal (else shown)
refused() {
	if [ "$STATUS" = "$1" ] && [ "$(jbody .error.code)" = "$2" ]; then
		return 0
	fi
	echo "#   HTTP $STATUS $(cat "$T/body")"
	return 1
}

api GET "/v1/requests/$ID"
check request_under_an_anywhere_rule_says_anywhere \
    answered 200 '.approve_at == "anywhere" and .state == "needs_approval"'
api_as $ANN POST "/v1/requests/$ID/console-approval/begin"
check begin_says_where_it_is_approved answered 200 \
    '.approve_at == "anywhere" and (.nonce | length) == 43'
NONCE=$(jbody .nonce) CHAL=$(jbody .challenge)
CRED=$(jbody '.allow_credentials[0].id')
printf '{"type":"webauthn.get","challenge":"%s","origin":"%s","crossOrigin":false}' \
    "$CHAL" "$ORIGIN" >"$T/cd.json"
"$BUILD/tests/e2e_console_assert" "softfido:$T/ann.sock" "$PIN" \
    tapgate.local "$T/cd.json" "$CRED" >"$T/as.json" 2>"$T/as.err" ||
    notok softfido_signs "$(cat "$T/as.err")"

# a compromise learnt after begin: the manual route, approved at the box
api POST "/v1/requests/$ID/risk" \
    '{"signals":["recent_compromise"],"reason":"SOC: mailbox rule"}'
[ "$STATUS" = 200 ] || notok risk_is_raised "HTTP $STATUS $(cat "$T/body")"
api GET "/v1/requests/$ID"
check request_on_a_box_route_says_box answered 200 \
    '.approve_at == "box" and .decision.route.name == "manual_review"'
api_as $ANN POST "/v1/requests/$ID/console-approval" \
    "$(jq -c --arg n "$NONCE" '. + {nonce: $n}' "$T/as.json")"
check console_finish_is_refused_when_the_rule_wants_the_box \
    refused 409 approve_at_box
api_as $ANN POST "/v1/requests/$ID/console-approval/begin"
check console_begin_is_refused_when_the_rule_wants_the_box \
    sh -c "[ $STATUS = 409 ] && [ \$(jq -r .error.code $T/body) = approve_at_box ] && [ \$(jq -r .touch_asked $T/body) = false ] && [ \$(jq -r .nonce $T/body) = null ]"
api GET "/v1/audit?request=$ID&limit=100"
check approve_at_refusals_are_audited jqtrue '[.entries[] |
    select(.event == "approval.refused" and .details.via == "console" and
    .details.code == "approve_at_box")] | length == 2' "$T/body"
approve "$ID" ann
check box_still_takes_the_approval [ $? -eq 0 ]
api GET "/v1/requests/$ID"
check box_approval_counts jqtrue '.approvals | length == 1' "$T/body"

# mfa_reset's admin rule says box: refused at begin from the start
api POST /v1/requests "$(req mfa_reset bob admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" | jq -c '.target.recovered_channel = "totp"')"
if [ "$STATUS" = 201 ]; then
	ID2=$(jbody .id)
	api GET "/v1/requests/$ID2"
	check queue_and_class_rule_says_box answered 200 \
	    '.approve_at == "box" and .decision.route.name == "normal"'
	api_as $ANN POST "/v1/requests/$ID2/console-approval/begin"
	check begin_is_refused_under_a_box_rule refused 409 approve_at_box
else
	notok mfa_reset_admin_request_is_taken "HTTP $STATUS $(cat "$T/body")"
fi

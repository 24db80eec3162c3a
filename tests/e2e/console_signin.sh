#!/bin/sh
# SPDX-License-Identifier: ISC
# Console users signing in over HTTPS with their security key, without a
# browser: the browser's part is played by e2e_console_assert (stock
# libfido2 driving a real softfido over a clientDataJSON this script
# writes) and curl.  An officer signs in with the key it enrolled at the
# box (one key serves both) and gets a session cookie (__Host-, Secure,
# HttpOnly, SameSite=Strict) and a CSRF token; under the session it acts
# as the configuration says that user may, and a request that changes
# anything needs the token and the console's Origin.  A wrong key, a
# replayed assertion, a stale nonce, a foreign origin, a missing UV flag
# and an unknown user are refused (401, audited); past five failures a
# refusal is 429 and unaudited while the user's own key still signs in;
# a session ends at sign-out and when its time runs out, and an agent's
# session has the agent's role and team only.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/testca.sh
. tests/e2e/lib/https.sh

if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null ||
    ! command -v python3 >/dev/null; then
	skip console_signin "openssl, curl or python3 missing"
	exit 0
fi
ORIGIN=https://console.tapgate.local:8443
# ann and ben: officers enrolled at the box as officer-ann, officer-ben;
# bob: an agent of the helpdesk team whose key was enrolled as
# officer-bob (his principal's officer setting), intake only
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { user = \"ann\"; roles = [\"officer\"]; },\\n    { user = \"ben\"; roles = [\"officer\"]; },\\n    { user = \"bob\"; roles = [\"intake\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { user = \"ann\"; name = \"ann\"; team = \"appliance\"; officer = \"officer-ann\"; },\\n    { user = \"ben\"; name = \"ben\"; team = \"appliance\"; officer = \"officer-ben\"; },\\n    { user = \"bob\"; name = \"bob\"; team = \"helpdesk\"; officer = \"officer-bob\"; },/"
cat >>"$T/tapgate.conf" <<EOC
console = { origins = [ "$ORIGIN" ]; nonce_seconds = 10;
    session_seconds = 15; };
EOC
https_listener "$T/tapgate.conf" || { notok test_ca_is_made; exit 1; }
daemon_start "$T/tapgate.conf" --token-timeout 5000 ||
    { notok daemon_starts_with_https_and_a_console; exit 1; }
key_start ann
key_start ben
key_start bob
enroll officer-ann security_officer ann ||
    notok officer_ann_enrols "$(cat "$T/enrol.err")"
enroll officer-ben security_officer ben ||
    notok officer_ben_enrols "$(cat "$T/enrol.err")"
enroll officer-bob security_officer bob ||
    notok officer_bob_enrols "$(cat "$T/enrol.err")"
ID=$(admin_reset alice)

# refused STATUS CODE: the last answer was that refusal (else shown)
refused() {
	if [ "$STATUS" = "$1" ] && [ "$(jbody .error.code)" = "$2" ]; then
		return 0
	fi
	echo "#   HTTP $STATUS $(cat "$T/body")"
	return 1
}
# why CODE WORDS: the last answer was a 401 CODE saying WORDS
why() {
	if [ "$STATUS" = 401 ] && [ "$(jbody .error.code)" = "$1" ] &&
	    jbody .error.message | grep -q "$2"; then
		return 0
	fi
	echo "#   HTTP $STATUS $(cat "$T/body")"
	return 1
}
# begin USER: NONCE and CRED (the first credential offered)
begin() {
	web POST /v1/console/signin/begin "{\"user\":\"$1\"}"
	NONCE=$(jbody '.nonce // empty')
	CRED=$(jbody '.allow_credentials[0].id // empty')
}
# assert KEY [ORIGIN [TYPE [PIN]]]: the key's assertion over the
# clientDataJSON a browser writes for $NONCE, into $T/as.json
assert() {
	printf '{"type":"%s","challenge":"%s","origin":"%s","crossOrigin":false}' \
	    "${3:-webauthn.get}" "$NONCE" "${2:-$ORIGIN}" >"$T/cd.json"
	"$BUILD/tests/e2e_console_assert" "softfido:$T/$1.sock" \
	    "${4:-$PIN}" tapgate.local "$T/cd.json" "$CRED" >"$T/as.json" \
	    2>"$T/as.err"
}
# finish USER [NONCE]: sign in with $T/as.json; COOKIE and CSRF on success
finish() {
	web POST /v1/console/signin "$(jq -c --arg u "$1" \
	    --arg n "${2:-$NONCE}" '. + {user: $u, nonce: $n}' "$T/as.json")"
	if [ "$STATUS" = 200 ]; then
		COOKIE=$(header Set-Cookie | sed 's/;.*//')
		CSRF=$(jbody .csrf)
	fi
}
# signin USER KEY: begin, the key's assertion, finish
signin() { COOKIE='' CSRF='' SENDORIGIN=''; begin "$1"; assert "$2"; finish "$1"; }

# ---- sign-in as an officer with the key enrolled at the box
begin ann
check signin_begin_offers_the_officers_box_credential \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r '.nonce | length' $T/body) -eq 43 ] && [ \$(jq -r .challenge $T/body) = \$(jq -r .nonce $T/body) ] && [ \$(jq -r .rp_id $T/body) = tapgate.local ] && [ \$(jq -r .user_verification $T/body) = required ] && [ \$(jq '.allow_credentials | length' $T/body) -eq 1 ]"
ANNCRED=$CRED
api GET /v1/approvers/export
# shellcheck disable=SC2016 # $c is a jq variable
check offered_credential_is_the_one_enrolled_at_the_box \
    jqtrue --arg c "$ANNCRED" '[.approvers[] | select(.name == "officer-ann") | .credential_id] == [$c]' "$T/body"
assert ann
finish ann
ANNCOOKIE=$COOKIE ANNCSRF=$CSRF
check officer_signs_in_with_the_key_enrolled_at_the_box \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .user $T/body) = ann ] && [ \$(jq -c .roles $T/body) = '[\"officer\"]' ] && [ \$(jq -r .principal $T/body) = ann ] && [ \$(jq -r '.csrf | length' $T/body) -eq 43 ]"
SC=$(header Set-Cookie)
cookie_attributes() {
	printf '%s\n' "$SC" | grep -Eq '^__Host-tapgate=[A-Za-z0-9_-]{43}; Path=/; Max-Age=15; Secure; HttpOnly; SameSite=Strict$'
}
check session_cookie_is_host_only_secure_httponly_samesite_strict \
    cookie_attributes
web GET /v1/console/session
check session_names_its_user_roles_and_csrf \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .user $T/body) = ann ] && [ \$(jq -r .csrf $T/body) = $ANNCSRF ] && [ \$(jq -r .team $T/body) = appliance ]"
COOKIE='' CSRF=''
web GET /v1/console/session
check no_cookie_no_session refused 401 no_session
COOKIE="__Host-tapgate=$(printf '%043d' 0)"
web GET /v1/console/session
check forged_session_id_is_no_session refused 401 no_session
COOKIE="a=1; a=2"
web GET /v1/console/session
check malformed_cookie_header_is_refused_at_the_front \
    refused 400 bad_cookie

# ---- under the session: the officer's role, CSRF and Origin
COOKIE=$ANNCOOKIE CSRF=''
web GET "/v1/requests/$ID"
check session_reads_as_its_officer [ "$STATUS" = 200 ]
web POST "/v1/requests/$ID/console-approval/begin"
check post_without_csrf_token_is_refused refused 403 csrf
CSRF=$(printf '%043d' 7)
SENDORIGIN=$ORIGIN
web POST "/v1/requests/$ID/console-approval/begin"
check post_with_a_wrong_csrf_token_is_refused refused 403 csrf
CSRF=$ANNCSRF SENDORIGIN=
web POST "/v1/requests/$ID/console-approval/begin"
check post_without_origin_is_refused refused 403 csrf
SENDORIGIN=https://evil.example
web POST "/v1/requests/$ID/console-approval/begin"
check post_from_a_foreign_origin_is_refused refused 403 csrf
SENDORIGIN=$ORIGIN
web POST "/v1/requests/$ID/console-approval/begin"
check officer_session_begins_a_console_approval \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .officer $T/body) = officer-ann ]"
NONCE=$(jbody .nonce) CHAL=$(jbody .challenge) CRED=$ANNCRED
printf '{"type":"webauthn.get","challenge":"%s","origin":"%s","crossOrigin":false}' \
    "$CHAL" "$ORIGIN" >"$T/cd.json"
"$BUILD/tests/e2e_console_assert" "softfido:$T/ann.sock" "$PIN" \
    tapgate.local "$T/cd.json" "$CRED" >"$T/as.json" 2>"$T/as.err"
web POST "/v1/requests/$ID/console-approval" \
    "$(jq -c --arg n "$NONCE" '. + {nonce: $n}' "$T/as.json")"
check officer_approves_under_the_session_with_the_same_key \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r .approver $T/body) = officer-ann ]"
# a client certificate wins over a cookie: none here, so the session;
# and the Unix socket never sees a session (curl sends the cookie there)
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 20 \
    --unix-socket "$T/api.sock" -H "Cookie: $ANNCOOKIE" \
    http://tapgated/v1/console/session)
check unix_socket_ignores_the_session_cookie refused 401 no_session
api_as 65534 POST "/v1/requests/$ID/deny" '{"reason":"x"}'
check uid_65534_is_refused_as_at_any_route refused 403 forbidden

# ---- sign-out
web POST /v1/console/signout
check signout_ends_the_session \
    sh -c "[ $STATUS = 200 ] && tr -d '\r' <$T/hdr | grep -q '^Set-Cookie: __Host-tapgate=[A-Za-z0-9_-]*; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict$'"
web GET /v1/console/session
check signed_out_session_is_gone refused 401 no_session
web GET "/v1/requests/$ID"
check signed_out_session_holds_no_role refused 403 forbidden

# ---- an agent's session: its role and its team only
signin bob bob
check agent_signs_in_with_its_key \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -c .roles $T/body) = '[\"intake\"]' ] && [ \$(jq -r .team $T/body) = helpdesk ]"
SENDORIGIN=$ORIGIN
web POST "/v1/requests/$ID/console-approval/begin"
check agent_session_cannot_approve refused 403 forbidden
web GET "/v1/requests/$ID"
check agent_session_does_not_see_another_teams_request \
    sh -c "[ $STATUS = 404 ] || [ $STATUS = 403 ]"
web POST /v1/requests "$(req password_reset erin standard bob phone "[$(ev out_of_band_callback pass bob email c1)]")"
BOBID=$(jbody '.id // empty')
check agent_session_submits_as_itself \
    sh -c "[ $STATUS = 201 ] && [ -n '$BOBID' ]"
web GET /v1/requests
# shellcheck disable=SC2016 # $id, $other: jq variables
check agent_session_lists_only_its_teams_requests \
    jqtrue --arg id "$BOBID" --arg other "$ID" '[.requests[].id] | (index($id) != null) and (index($other) == null)' "$T/body"
web POST /v1/requests "$(req password_reset fred standard hd-bob phone "[$(ev out_of_band_callback pass bob email c1)]")"
check agent_session_cannot_submit_for_another_agent \
    sh -c "[ $STATUS = 403 ] || [ $STATUS = 400 ]"

# ---- refusals, each spending its nonce; ben's failures count
begin ben
CRED=$ANNCRED
assert ann
finish ben
check another_officers_key_is_refused \
    why signin_refused "not one of this user's"
begin ben
assert ben
cp "$T/as.json" "$T/ben-good.json"
finish ben
SAVEDNONCE=$NONCE
COOKIE='' CSRF='' SENDORIGIN=''
web POST /v1/console/signin "$(jq -c --arg n "$SAVEDNONCE" '. + {user: "ben", nonce: $n}' "$T/ben-good.json")"
check replayed_assertion_is_refused why signin_refused "used already"
begin ben
web POST /v1/console/signin "$(jq -c --arg n "$NONCE" '. + {user: "ben", nonce: $n}' "$T/ben-good.json")"
check replayed_assertion_under_a_fresh_nonce_is_refused \
    why signin_refused "challenge is not the nonce"
begin ben
assert ben https://evil.example
finish ben
check foreign_origin_is_refused why signin_refused "origin is not one"
begin ben
key_ctl ben fault no-uv
assert ben
key_ctl ben fault none
finish ben
check missing_user_verification_is_refused \
    why signin_refused "UP and UV"
got() { [ "$STATUS" = "$1" ]; }
begin ben
check failures_never_stop_a_sign_in_from_beginning got 200
assert ben
jq -c '.signature = "AAAA"' "$T/as.json" >"$T/bad.json" &&
    mv "$T/bad.json" "$T/as.json"
finish ben
check refusal_past_five_failures_is_throttled \
    refused 429 too_many_attempts
throttled_unaudited() {
	api GET "/v1/audit?limit=500"
	answered 200 '[.entries[] | select(.event ==
	    "console.signin_refused" and .details.user == "ben")] |
	    length == 5 and (last | .details.throttled == true)'
}
check throttled_refusals_are_not_audited throttled_unaudited
KEEP_COOKIE=$COOKIE KEEP_CSRF=$CSRF
begin ben
assert ben
finish ben
check throttled_user_still_signs_in_with_its_key got 200
COOKIE=$KEEP_COOKIE CSRF=$KEEP_CSRF

begin nobody
NOCRED=$CRED
check unknown_user_gets_the_same_shape \
    sh -c "[ $STATUS = 200 ] && [ \$(jq '.allow_credentials | length' $T/body) -eq 1 ] && [ \$(jq -r '.nonce | length' $T/body) -eq 43 ]"
begin nobody
stable() { [ -n "$CRED" ] && [ "$CRED" = "$NOCRED" ]; }
check unknown_users_credential_id_is_stable stable
CRED=$ANNCRED
assert ann
finish nobody
check unknown_user_is_refused why signin_refused "no such user"

# a stale nonce (nonce_seconds = 10)
begin ann
EXP=$(jbody .expires)
assert ann
past() { [ "$(date +%s)" -gt "$1" ]; }
wait_for 20 past "$EXP" || notok nonce_time_runs_out "expires $EXP"
finish ann
check stale_nonce_is_refused why signin_refused "expired"

# ---- a session's time runs out (session_seconds = 15)
signin ann ann
check officer_signs_in_again [ "$STATUS" = 200 ]
EXP=$(jbody .expires)
web GET /v1/console/session
check live_session_answers [ "$STATUS" = 200 ]
wait_for 30 past "$EXP" || notok session_time_runs_out "expires $EXP"
web GET /v1/console/session
check expired_session_is_gone refused 401 no_session

CTL audit tail -n 200 --json >"$T/audit.json"
check signins_are_audited_by_user \
    jqtrue '[.entries[] | select(.event == "console.signin") | .actor_name] | index("user:ann") != null and index("user:bob") != null' "$T/audit.json"
check refused_signins_are_audited_with_why \
    jqtrue '[.entries[] | select(.event == "console.signin_refused" and .details.user == "ben")] | length == 5' "$T/audit.json"
check session_actions_are_audited_as_the_user \
    jqtrue '[.entries[] | select(.event == "request.approved") | .actor_name] | index("user:ann") != null' "$T/audit.json"
check signout_is_audited \
    jqtrue '[.entries[] | select(.event == "console.signout") | .actor_name] == ["user:ann"]' "$T/audit.json"
daemon_stop

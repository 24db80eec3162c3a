#!/bin/sh
# SPDX-License-Identifier: ISC
# Console users who are no officers enrol their security key by an
# operator's invitation, without a browser: e2e_console_create plays the
# browser's navigator.credentials.create() (stock libfido2 driving a real
# softfido over a clientDataJSON this script writes), e2e_console_assert
# its get(), curl the rest.  An agent enrolled so signs in and submits a
# request through its session; a used invitation, a wrong code five
# times and a revoked user are refused.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/testca.sh
. tests/e2e/lib/https.sh

if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null ||
    ! command -v python3 >/dev/null; then
	skip console_enrol "openssl, curl or python3 missing"
	exit 0
fi
ORIGIN=https://console.tapgate.local:8443
# amy and cat: agents of the helpdesk team; ann an officer
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { user = \"amy\"; roles = [\"intake\"]; },\\n    { user = \"cat\"; roles = [\"intake\"]; },\\n    { user = \"ann\"; roles = [\"officer\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { user = \"amy\"; name = \"amy\"; team = \"helpdesk\"; },\\n    { user = \"cat\"; name = \"cat\"; team = \"helpdesk\"; },/"
cat >>"$T/tapgate.conf" <<EOC
console = { origins = [ "$ORIGIN" ]; };
EOC
https_listener "$T/tapgate.conf" || { notok test_ca_is_made; exit 1; }
daemon_start "$T/tapgate.conf" ||
    { notok daemon_starts_with_https_and_a_console; exit 1; }
key_start amy

# why STATUS CODE WORDS: the last answer was that refusal, saying WORDS
why() {
	if [ "$STATUS" = "$1" ] && [ "$(jbody .error.code)" = "$2" ] &&
	    jbody .error.message | grep -q "$3"; then
		return 0
	fi
	echo "#   HTTP $STATUS $(cat "$T/body")"
	return 1
}
# invite USER: CODE
invite() { api POST /v1/console/invites "{\"user\":\"$1\"}"; CODE=$(jbody '.code // empty'); }
# enrol_begin USER CODE: NONCE, UID
enrol_begin() {
	web POST /v1/console/enrol/begin "{\"user\":\"$1\",\"code\":\"$2\"}"
	NONCE=$(jbody '.nonce // empty')
	UID64=$(jbody '.user.id // empty')
}
# create KEY USER [TYPE [ORIGIN]]: the key's new credential over the
# clientDataJSON a browser writes for $NONCE, into $T/cred.json
create() {
	printf '{"type":"%s","challenge":"%s","origin":"%s","crossOrigin":false}' \
	    "${3:-webauthn.create}" "$NONCE" "${4:-$ORIGIN}" >"$T/cd.json"
	"$BUILD/tests/e2e_console_create" "softfido:$T/$1.sock" "$PIN" \
	    tapgate.local "$T/cd.json" "$UID64" "$2" >"$T/cred.json" \
	    2>"$T/create.err"
}
# enrol USER CODE: with $T/cred.json and $T/cd.json
enrol() {
	web POST /v1/console/enrol "$(jq -c --arg u "$1" --arg c "$2" \
	    --arg n "$NONCE" --arg cd "$(python3 -c '
import base64, sys
print(base64.urlsafe_b64encode(open(sys.argv[1], "rb").read()).decode().rstrip("="))' "$T/cd.json")" \
	    '{user: $u, code: $c, nonce: $n, client_data_json: $cd,
	    authenticator_data: .authenticator_data}' "$T/cred.json")"
}
# signin USER KEY: COOKIE and CSRF on success
signin() {
	COOKIE='' CSRF='' SENDORIGIN=''
	web POST /v1/console/signin/begin "{\"user\":\"$1\"}"
	NONCE=$(jbody '.nonce // empty')
	CRED=$(jbody '.allow_credentials[0].id // empty')
	printf '{"type":"webauthn.get","challenge":"%s","origin":"%s","crossOrigin":false}' \
	    "$NONCE" "$ORIGIN" >"$T/cd.json"
	"$BUILD/tests/e2e_console_assert" "softfido:$T/$2.sock" "$PIN" \
	    tapgate.local "$T/cd.json" "${3:-$CRED}" >"$T/as.json" \
	    2>"$T/as.err"
	web POST /v1/console/signin "$(jq -c --arg u "$1" --arg n "$NONCE" \
	    '. + {user: $u, nonce: $n}' "$T/as.json")"
	if [ "$STATUS" = 200 ]; then
		COOKIE=$(header Set-Cookie | sed 's/;.*//')
		CSRF=$(jbody .csrf)
	fi
}

# ---- the invitation
api_as 65534 POST /v1/console/invites '{"user":"amy"}'
check uid_65534_cannot_invite [ "$STATUS" = 403 ]
invite ann
check officer_is_not_invited_it_enrols_at_the_box \
    why 409 officer_enrols_at_the_box "at the box"
invite nobody
check unknown_user_is_not_invited why 404 unknown_user "no roles entry"
invite amy
check operator_invites_an_agent \
    sh -c "[ $STATUS = 201 ] && [ \$(jq -r '.code | length' $T/body) -eq 12 ] && [ \$(jq -r .user $T/body) = amy ]"
AMYCODE=$CODE
check invitation_code_is_stored_only_as_its_hash \
    sh -c "! sqlite3 '$T/state/tapgate.db' .dump | grep -q '$AMYCODE'"

# ---- enrolment
enrol_begin amy AAAAAAAAAAAA
check wrong_code_is_refused why 403 enrol_refused "wrong code"
enrol_begin amy "$AMYCODE"
check enrol_begin_gives_what_create_takes \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -r '.nonce | length' $T/body) -eq 43 ] && [ \$(jq -r .rp.id $T/body) = tapgate.local ] && [ \$(jq -r .user.name $T/body) = amy ] && [ \$(jq -c '[.pub_key_cred_params[].alg]' $T/body) = '[-7,-8]' ]"
create amy amy webauthn.get
enrol amy "$AMYCODE"
check credential_over_a_get_clientdata_is_refused \
    why 403 enrol_refused "not webauthn.create"
enrol_begin amy "$AMYCODE"
create amy amy webauthn.create https://evil.example
enrol amy "$AMYCODE"
check credential_from_a_foreign_origin_is_refused \
    why 403 enrol_refused "origin"
# authenticator data with a byte after the credential's key
enrol_begin amy "$AMYCODE"
create amy amy
python3 -c '
import base64, json, sys
c = json.load(open(sys.argv[1]))
ad = c["authenticator_data"]
raw = base64.urlsafe_b64decode(ad + "=" * (-len(ad) % 4)) + b"\0"
c["authenticator_data"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
json.dump(c, open(sys.argv[1], "w"))' "$T/cred.json"
enrol amy "$AMYCODE"
check authenticator_data_with_a_byte_after_the_key_is_refused \
    why 403 enrol_refused "bytes after it"
enrol_begin amy "$AMYCODE"
create amy amy
check softfido_makes_the_credential [ -s "$T/cred.json" ]
enrol amy "$AMYCODE"
AMYCRED=$(jbody '.credential_id // empty')
check agent_enrols_its_key_by_invitation \
    sh -c "[ $STATUS = 201 ] && [ -n '$AMYCRED' ] && [ '$AMYCRED' = \$(jq -r .credential_id $T/cred.json) ]"
enrol_begin amy "$AMYCODE"
check used_invitation_is_refused why 403 enrol_refused "used already"

# ---- the enrolled agent signs in and submits through its session
signin amy amy
check enrolled_agent_signs_in \
    sh -c "[ $STATUS = 200 ] && [ \$(jq -c .roles $T/body) = '[\"intake\"]' ] && [ \$(jq -r .team $T/body) = helpdesk ]"
SENDORIGIN=$ORIGIN
web POST /v1/requests "$(req password_reset erin standard amy phone "[$(ev out_of_band_callback pass amy email c1)]")"
check enrolled_agent_submits_through_its_session \
    sh -c "[ $STATUS = 201 ] && [ \$(jq -r .state $T/body) != null ]"

# ---- five wrong codes revoke an invitation
CTL console invite cat --json >"$T/body" 2>"$T/ctl.err"
CATCODE=$(jbody '.code // empty')
check tapgatectl_console_invite_prints_the_code \
    sh -c "[ \$(printf %s '$CATCODE' | wc -c) -eq 12 ]"
for _ in 1 2 3 4; do enrol_begin cat BBBBBBBBBBBB; done
enrol_begin cat BBBBBBBBBBBB
check fifth_wrong_code_revokes_the_invitation \
    why 403 enrol_refused "invitation is revoked"
enrol_begin cat "$CATCODE"
check right_code_after_five_wrong_is_refused \
    why 403 enrol_refused "revoked"

# ---- revocation: credentials and sessions
CTL console revoke amy --json >"$T/body" 2>"$T/ctl.err"
check operator_revokes_a_user \
    sh -c "[ \$(jq -r .revoked $T/body) = 1 ] && [ \$(jq -r .sessions_ended $T/body) = 1 ]"
web GET /v1/console/session
check revoked_users_session_is_gone why 401 no_session "sign in"
signin amy amy "$AMYCRED"
check revoked_user_cannot_sign_in why 401 signin_refused "revoked"

CTL audit tail -n 200 --json >"$T/audit.json"
check invitations_enrolments_and_revocations_are_audited \
    jqtrue '[.entries[].event] | (index("console.invited") != null) and (index("console.enrolled") != null) and (index("console.revoked") != null) and (index("console.invite_refused") != null)' "$T/audit.json"
daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# Challenges the appliance issues and checks itself, against a private
# slapd holding alice's contacts and her manager carol: the code goes to
# the contact on record (never one the caller names) through the sender
# of its channel (here a program of the test that keeps each message),
# and a right answer is an evidence item of origin appliance that moves
# an admin recovery on.  A wrong code, too many attempts, an expired
# code, a code answered twice, another request's challenge, a channel
# being recovered or the request's own, a channel no sender serves and
# a caller without a role are each refused; the audit names the masked
# destination and never a code.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example
if ! ldap_have_directory; then
	echo "ok challenges # SKIP slapd, ldap-utils or the memberof or" \
	    "ppolicy module missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"

# the test's sender: each message, one JSON line, into the outbox
cat >"$T/send.sh" <<EOS
#!/bin/sh
{ tr -d '\n'; echo; } >>"$T/outbox"
EOS
chmod 755 "$T/send.sh"
: >"$T/outbox"

# challenge_config OUT [SED...]: the shipped minimum of appliance-verified
# evidence kept, a directory, mail and sms senders, and uid 65534 with no
# role at all
challenge_config() {
	cc_out=$1; shift
	TEST_VERIFIED=keep make_config "$cc_out" \
	    "s|^notify = \{|senders = { mail = \"$T/send.sh\"; sms = \"$T/send.sh\"; timeout_ms = 5000; };\n&|" \
	    "$@"
	cat >>"$cc_out" <<EOF
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
};
EOF
}
challenge_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# the challenges' messages (notifications of the request go there too)
SUBJ='Your help-desk verification code'
messages() {
	jq -c --arg s "$SUBJ" 'select(.subject == $s)' "$T/outbox" | grep -c .
}
has_messages() { [ "$(messages)" -ge "$1" ]; }
# code_for DESTINATION: the code of the last challenge message to it
code_for() {
	jq -r --arg d "$1" --arg s "$SUBJ" \
	    'select(.destination == $d and .subject == $s) | .text' \
	    "$T/outbox" | grep -o '[0-9]\{8\}' | tail -n 1
}
answer() {	# request challenge code
	api POST "/v1/requests/$1/challenges/$2/answer" "{\"code\":\"$3\"}"
}
missing_text() { jq -r '[.missing[].text] | join(" | ")' "$T/body"; }

OOB=$(ev out_of_band_callback pass hd-carl email cb-1)
PRF=$(ev pre_registered_factor pass hd-carl push p-1)
IDD=$(ev identity_document pass hd-carl video id-1)

# ---- an admin recovery on typed evidence waits for verified evidence
api POST /v1/requests \
    "$(req password_reset alice admin hd-bob phone "[$OOB,$PRF,$IDD]")"
check admin_request_waits_for_verified_evidence answered 201 \
    '.state == "needs_evidence" and ([.missing[].text] |
    any(test("needs 2 appliance-verified kinds, has 0")))'
R1=$(jbody .id)

# ---- out of band, to the mobile on record
api POST "/v1/requests/$R1/challenges" \
    '{"kind":"out_of_band","contact":"mobile"}'
check mobile_challenge_is_issued answered 201 \
    '.kind == "out_of_band" and .channel == "sms" and
    .destination == "+44 \u2026 0123" and .max_attempts == 3'
C1=$(jbody .challenge)
check code_reaches_the_mobile_on_record wait_for 20 has_messages 1
# shellcheck disable=SC2016 # $s is jq's variable
check message_goes_through_the_sms_sender jqtrue -s --arg s "$SUBJ" \
    'map(select(.subject == $s)) | .[0].channel == "sms" and
    .[0].destination == "+44 7700 900123"' "$T/outbox"
CODE1=$(code_for "+44 7700 900123")
check message_holds_an_eight_digit_code [ "${#CODE1}" -eq 8 ]
WRONG=$(printf '%08d' $(( (1${CODE1} - 100000000 + 1) % 100000000 )))
answer "$R1" "$C1" "$WRONG"
check wrong_code_is_refused_with_attempts_left answered 422 \
    '.error.code == "wrong_code" and (.error.message |
    contains("2 attempts left"))'
answer "$R1" "$C1" "$CODE1"
check right_code_becomes_appliance_evidence answered 200 \
    '[.missing[].text] | any(test("needs 2 appliance-verified kinds, has 1"))'
sqlite3 "$T/state/tapgate.db" "SELECT origin || '|' || verifier || '|' ||
    channel || '|' || type FROM evidence WHERE request_id = '$R1' AND
    origin = 'appliance'" >"$T/appliance.txt"
check evidence_is_verified_by_the_appliance_over_the_records_channel \
    [ "$(cat "$T/appliance.txt")" = "appliance|tapgate|sms|out_of_band_callback" ]
answer "$R1" "$C1" "$CODE1"
check code_answered_twice_is_refused answered 409 \
    '.error.code == "challenge_closed"'

"$BUILD/tapgatectl" -s "$T/api.sock" requests show "$R1" >"$T/show.txt"
check console_shows_the_appliances_check sh -c "grep -q \
    'out_of_band_callback .* by tapgate (appliance) over sms' '$T/show.txt' &&
    grep -q '^verified  1 of 2 by the appliance, of 2 different types$' \
    '$T/show.txt'"

# ---- manager confirmation: the code goes to carol, alice's manager
api POST "/v1/requests/$R1/challenges" '{"kind":"manager_confirmation"}'
check manager_challenge_is_issued answered 201 \
    '.kind == "manager_confirmation" and .channel == "email"'
C2=$(jbody .challenge)
check code_reaches_the_manager_on_record wait_for 20 has_messages 2
CODE2=$(code_for carol@corp.example)
check manager_message_holds_a_code [ "${#CODE2}" -eq 8 ]
answer "$R1" "$C2" "$CODE2"
check two_verified_kinds_move_the_request_on answered 200 \
    '.state == "needs_approval"'

# ---- channels that prove nothing
MFA='{"queue":"mfa_reset","target":{"account":"alice","system":"ldap-corp",'
MFA=$MFA'"class":"admin","recovered_channel":"sms"},"requester":{"agent":'
MFA=$MFA'"hd-bob","channel":"phone","ticket":"INC-2"},"evidence":['"$IDD"'],'
MFA=$MFA'"changes":'"$(changes_of mfa_reset)"'}'
api POST /v1/requests "$MFA"
R2=$(jbody .id)
check control_mfa_request_is_taken [ "$STATUS" = 201 ]
api POST "/v1/requests/$R2/challenges" \
    '{"kind":"out_of_band","contact":"mobile"}'
check channel_being_recovered_is_refused answered 422 \
    '.error.code == "channel_refused" and (.error.message |
    contains("being recovered"))'
api POST /v1/requests "$(req password_reset alice admin hd-bob email "[$PRF]")"
R3=$(jbody .id)
api POST "/v1/requests/$R3/challenges" \
    '{"kind":"out_of_band","contact":"mail"}'
check channel_the_request_came_over_is_refused answered 422 \
    '.error.code == "channel_refused" and (.error.message |
    contains("came over email"))'
api POST "/v1/requests/$R3/challenges" \
    '{"kind":"out_of_band","contact":"mobile","destination":"+1555"}'
check caller_cannot_name_the_destination answered 422 \
    '.error.message | contains("destination: unknown member")'

# ---- another request's challenge, and too many attempts
api POST "/v1/requests/$R2/challenges" \
    '{"kind":"out_of_band","contact":"mail"}'
check mail_challenge_is_issued answered 201 '.channel == "email"'
C3=$(jbody .challenge)
check code_reaches_the_mail_on_record wait_for 20 has_messages 3
CODE3=$(code_for alice@corp.example)
answer "$R1" "$C3" "$CODE3"
check answer_through_another_requests_path_is_404 [ "$STATUS" = 404 ]
W3=$(printf '%08d' $(( (1${CODE3} - 100000000 + 7) % 100000000 )))
answer "$R2" "$C3" "$W3"
answer "$R2" "$C3" "$W3"
answer "$R2" "$C3" "$W3"
check third_wrong_code_kills_the_challenge answered 422 \
    '.error.message | contains("dead after 3 attempts")'
answer "$R2" "$C3" "$CODE3"
check right_code_after_too_many_attempts_is_refused answered 409 \
    '.error.code == "challenge_closed" and (.error.message |
    contains("failed"))'

# ---- a caller without a role
api_as 65534 POST "/v1/requests/$R2/challenges" \
    '{"kind":"out_of_band","contact":"mail"}'
check caller_without_role_cannot_issue [ "$STATUS" = 403 ]
api_as 65534 POST "/v1/requests/$R2/challenges/$C3/answer" \
    "{\"code\":\"$CODE3\"}"
check caller_without_role_cannot_answer [ "$STATUS" = 403 ]

# ---- saved recovery codes: issued once, each usable once, revocable
CTL() { "$BUILD/tapgatectl" -s "$T/api.sock" "$@"; }
CTL recovery-codes issue Alice >"$T/rc1.txt" 2>"$T/rc.err"
check recovery_codes_are_issued_for_the_directorys_account sh -c \
    "grep -q '^recovery codes of alice ' '$T/rc1.txt' &&
    [ \$(grep -c '^  [A-Z0-9]\{4\}-[A-Z0-9]\{4\}-[A-Z0-9]\{4\}$' \
    '$T/rc1.txt') -eq 10 ]"
RC1=$(sed -n 's/^  //p' "$T/rc1.txt" | head -n 1)
RC2=$(sed -n 's/^  //p' "$T/rc1.txt" | sed -n 2p)
api_as 65534 POST /v1/recovery-codes/issue '{"account":"alice"}'
check caller_without_role_cannot_issue_recovery_codes [ "$STATUS" = 403 ]
api POST /v1/requests \
    "$(req password_reset alice admin hd-bob phone "[$OOB,$PRF,$IDD]")"
R4=$(jbody .id)
rc_challenge() {
	api POST "/v1/requests/$R4/challenges" '{"kind":"recovery_code"}'
	jbody .challenge
}
C5=$(rc_challenge)
check recovery_code_challenge_is_issued answered 201 \
    '.kind == "recovery_code" and .channel == "recovery_code"'
answer "$R4" "$C5" "ACDE-FGHJ-KMNP"
check unknown_recovery_code_is_wrong answered 422 \
    '.error.code == "wrong_code"'
# read back as a person may: lower case, no dashes
answer "$R4" "$C5" "$(echo "$RC1" | tr -d - | tr '[:upper:]' '[:lower:]')"
check saved_recovery_code_becomes_appliance_evidence answered 200 \
    '[.missing[].text] | any(test("has 1"))'
check recovery_code_is_a_pre_registered_factor sh -c "[ \"\$(sqlite3 \
    '$T/state/tapgate.db' \"SELECT type || '|' || verifier FROM evidence
    WHERE request_id = '$R4' AND origin = 'appliance'\")\" = \
    'pre_registered_factor|tapgate' ]"
C6=$(rc_challenge)
answer "$R4" "$C6" "$RC1"
check recovery_code_is_usable_once answered 422 \
    '.error.code == "wrong_code"'
CTL recovery-codes issue alice >"$T/rc2.txt" 2>>"$T/rc.err"
answer "$R4" "$C6" "$RC2"
check new_set_revokes_the_old_one answered 422 \
    '.error.code == "wrong_code"'
RC3=$(sed -n 's/^  //p' "$T/rc2.txt" | head -n 1)
check control_new_set_is_another [ -n "$RC3" ] && [ "$RC3" != "$RC1" ]
CTL recovery-codes revoke alice >"$T/rc3.txt" 2>>"$T/rc.err"
check revoke_says_so grep -q '^recovery codes of alice revoked$' \
    "$T/rc3.txt"
api POST "/v1/requests/$R4/challenges" '{"kind":"recovery_code"}'
check no_standing_codes_no_recovery_challenge answered 409 \
    '.error.code == "no_recovery_codes"'

# ---- the audit: each step, masked destinations, no code
"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 500 --json \
    >"$T/audit.json"
# shellcheck disable=SC2016 # $e is jq's variable
check every_step_is_audited jqtrue '[.entries[].event] as $e |
    ($e | index("challenge.issued")) != null and
    ($e | index("challenge.answered")) != null and
    ($e | index("challenge.failed")) != null' "$T/audit.json"
check issued_entry_names_the_masked_destination jqtrue \
    '[.entries[] | select(.event == "challenge.issued" and
    .details.kind != "recovery_code") | .details.destination] |
    length == 3 and all(contains("\u2026"))' "$T/audit.json"
sqlite3 "$T/state/tapgate.db" .dump >"$T/dump.sql"
check database_holds_no_code_nor_whole_contact sh -c "! grep -F \
    -e '$CODE1' -e '$CODE2' -e '$CODE3' -e '7700 900123' -e '$RC1' \
    -e '$(echo "$RC2" | tr -d -)' -e '$RC3' '$T/dump.sql'"
check recovery_codes_are_audited_without_codes jqtrue \
    '[.entries[] | select(.event | startswith("recovery_codes."))] |
    length == 3 and all(.[]; .details.account == "alice" and
    (tostring | test("[A-Z0-9]{4}-[A-Z0-9]{4}") | not))' "$T/audit.json"

# ---- expiry (2 s here) and a channel no sender serves
daemon_stop
challenge_config "$T/short.conf" 's/expiry_seconds = 600;/expiry_seconds = 2;/' \
    's|sms = "[^"]*"; ||'
daemon_start "$T/short.conf" || { notok daemon_restarts; exit 1; }
api POST "/v1/requests/$R3/challenges" \
    '{"kind":"out_of_band","contact":"mobile"}'
check channel_without_sender_is_refused answered 409 \
    '.error.code == "no_sender" and (.error.message | contains("sms"))'
N=$(messages)
api POST "/v1/requests/$R2/challenges" \
    '{"kind":"out_of_band","contact":"mail"}'
check short_challenge_is_issued [ "$STATUS" = 201 ]
C4=$(jbody .challenge) EXP=$(jbody .expires)
check short_code_is_sent wait_for 20 has_messages $((N + 1))
CODE4=$(code_for alice@corp.example)
past_expiry() { [ "$(date +%s)" -gt "$EXP" ]; }
check clock_passes_the_expiry wait_for 10 past_expiry
answer "$R2" "$C4" "$CODE4"
check expired_code_is_refused answered 409 \
    '.error.code == "challenge_expired"'
api GET "/v1/audit?request=$R2&limit=200"
check expiry_is_audited answered 200 \
    '[.entries[].event] | index("challenge.expired") != null'

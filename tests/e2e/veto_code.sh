#!/bin/sh
# SPDX-License-Identifier: ISC
# Veto codes: the owner on record (the directory's mail) hears of a new
# request with a veto code, made by the appliance and kept only as a hash;
# POST /v1/requests/ID/veto {"code"} vetoes it from any local uid, a uid
# with no role at all included (the code is the authority), audited as
# request.vetoed by veto_code for the owner.  A wrong code, another
# request's code or a malformed one is refused and counted; after five
# wrong codes the right one is refused too (429), audited.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
S=dc=corp,dc=example
NOBODY=12345		# a uid the configuration gives no role

if ! ldap_have_directory; then
	skip veto_code "slapd, ldap-utils or an overlay missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
if ! { ldap_add_facts_people "$S" >"$T/ldap/facts.ldif" &&
    ldap_add_ldif "$T/ldap/facts.ldif"; }; then
	notok slapd_takes_the_people; exit 1
fi
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"
mkdir "$T/mail"
cat >"$T/send.sh" <<EOS
#!/bin/sh
f=\$(mktemp "$T/mail/msg.XXXXXX")
cat >"\$f.tmp" && mv "\$f.tmp" "\$f.json"
EOS
chmod 755 "$T/send.sh"
# holds long enough to veto in
make_config "$T/tapgate.conf" \
    's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/' \
    's/hold_seconds = 2;/hold_seconds = 300;/' \
    "s|^notify = \{|senders = { mail = \"$T/send.sh\"; };\n&|"
cat >>"$T/tapgate.conf" <<EOF2
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
};
EOF2
daemon_start "$T/tapgate.conf" || exit 1

E=$(ev pre_registered_factor pass hd-amy push P-1)
submit() {	# ACCOUNT: its id in $ID
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone "[$E]")"
	ID=$(jbody .id)
	[ "$STATUS" = 201 ]
}
mail_to() {	# ADDRESS ID: the file of the message to it about ID
	grep -l "\"destination\":\"$1\"" "$T"/mail/*.json 2>/dev/null |
	    xargs -r grep -l "$2" | head -n 1
}
has_mail_to() { [ -n "$(mail_to "$@")" ]; }
code_in() {	# FILE: the veto code in the message's text
	jq -r .text "$1" | grep -o '[2-9A-Z]\{4\}-[2-9A-Z]\{4\}-[2-9A-Z]\{4\}' |
	    head -n 1
}

check carol_request_is_held submit carol
A=$ID
check request_is_in_hold request_in_state "$A" in_hold
check owner_hears_of_the_request wait_for 20 has_mail_to carol@corp.example "$A"
MA=$(mail_to carol@corp.example "$A")
CODE_A=$(code_in "$MA")
check owner_message_carries_a_veto_code [ "${#CODE_A}" = 14 ]
# shellcheck disable=SC2016 # $id, $u: jq variables
check owner_message_names_request_change_account_and_how_to_stop jqtrue \
    --arg id "$A" '(.subject | contains("password_reset") and
    contains("carol")) and (.text | contains($id) and
    contains("veto code") and contains("/veto"))' "$MA"

sqlite3 "$T/state/tapgate.db" .dump >"$T/dump.sql"
hashed() {
	[ "$(sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM veto_codes
	    WHERE request_id = '$A' AND role = 'owner' AND
	    length(code_hash) = 64")" = 1 ]
}
check code_is_stored_only_as_a_hash hashed
nowhere() { ! grep -q -e "$CODE_A" -e "$(echo "$CODE_A" | tr -d -)" \
    "$T/dump.sql"; }
check code_is_nowhere_in_the_database nowhere

# a uid without any role: refused the role veto (the control), and the
# code's veto is its own authority
api_as "$NOBODY" GET /healthz
check control_uid_without_role_reaches_the_socket [ "$STATUS" = 200 ]
api_as "$NOBODY" POST "/v1/requests/$A/veto" '{"reason":"not me"}'
check control_uid_without_role_cannot_veto_by_role [ "$STATUS" = 403 ]
api_as "$NOBODY" POST "/v1/requests/$A/veto" '{"code":"2222-2222-2222"}'
check wrong_code_is_refused answered 403 '.error.code == "wrong_code"'
api_as "$NOBODY" POST "/v1/requests/$A/veto" '{"code":5}'
check code_of_the_wrong_type_is_refused [ "$STATUS" = 422 ]
api_as "$NOBODY" POST "/v1/requests/$A/veto" \
    "{\"code\":\"$(echo "$CODE_A" | tr '[:upper:]' '[:lower:]')\",\"x\":1}"
check code_with_another_field_is_refused [ "$STATUS" = 422 ]
check request_still_in_hold request_in_state "$A" in_hold
api_as "$NOBODY" POST "/v1/requests/$A/veto" \
    "{\"code\":\"$(echo "$CODE_A" | tr '[:upper:]' '[:lower:]' | tr -d -)\"}"
check right_code_vetoes_from_a_uid_without_role answered 200 \
    '.state == "vetoed"'
check request_is_vetoed request_in_state "$A" vetoed
"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 100 --json >"$T/audit.json"
# shellcheck disable=SC2016
check veto_by_code_is_audited_as_request_vetoed jqtrue --arg id "$A" \
    --argjson u "$NOBODY" '[.entries[] | select(.event == "request.vetoed"
    and .request_id == $id)] | length == 1 and (.[0] |
    .details.by == "veto_code" and .details.recipient == "owner" and
    .actor_uid == $u)' "$T/audit.json"
# shellcheck disable=SC2016
check wrong_code_is_audited_as_refused jqtrue --arg id "$A" \
    '[.entries[] | select(.event == "request.veto_refused" and
    .request_id == $id)] | length == 1 and .[0].details.reason ==
    "wrong_code"' "$T/audit.json"
api_as "$NOBODY" POST "/v1/requests/$A/veto" "{\"code\":\"$CODE_A\"}"
check vetoed_request_cannot_be_vetoed_again [ "$STATUS" = 409 ]

# tries are bounded per request: another request's code counts as wrong
check sales_request_is_made submit sales
B=$ID
check owner_of_b_hears wait_for 20 has_mail_to sales@corp.example "$B"
CODE_B=$(code_in "$(mail_to sales@corp.example "$B")")
api_as "$NOBODY" POST "/v1/requests/$B/veto" "{\"code\":\"$CODE_A\"}"
check another_requests_code_is_wrong answered 403 '.error.code == "wrong_code"'
n=0
while [ $n -lt 4 ]; do
	api_as "$NOBODY" POST "/v1/requests/$B/veto" '{"code":"not-a-code"}'
	[ "$STATUS" = 403 ] || break
	n=$((n + 1))
done
check four_more_wrong_codes_are_refused [ $n = 4 ]
api_as "$NOBODY" POST "/v1/requests/$B/veto" "{\"code\":\"$CODE_B\"}"
check after_five_wrong_codes_the_right_one_is_refused answered 429 \
    '.error.code == "too_many_tries"'
not_vetoed() { ! request_in_state "$B" vetoed; }
check request_b_is_not_vetoed not_vetoed
api GET "/v1/audit?request=$B"
check exhausted_tries_are_audited answered 200 \
    '[.entries[] | select(.event == "request.veto_refused")] |
    length == 6 and .[-1].details.reason == "too_many_tries"'
check daemon_stops_cleanly daemon_stop

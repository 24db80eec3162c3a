#!/bin/sh
# SPDX-License-Identifier: ISC
# The owner's page: POST /v1/requests/ID/veto/view {"code"} shows, to
# any caller holding one of the request's veto codes, what is being done
# to the account (id, account, queue, the changes in words, state, hold,
# whether it can still be vetoed) and nothing more; a wrong code or
# another request's code is refused and counted with the veto code's own
# counter (five wrong ones close both the view and the veto by code).
# With console.url set, the owner's and the manager's messages carry the
# link URL/console/#/veto/ID/CODE (the code in the fragment); without
# it, no link.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
S=dc=corp,dc=example
NOBODY=12345		# a uid the configuration gives no role
URL=https://console.tapgate.local:8443

if ! ldap_have_directory; then
	skip veto_view "slapd, ldap-utils or an overlay missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
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
view() {	# ID CODE: the view as a uid without any role
	api_as "$NOBODY" POST "/v1/requests/$1/veto/view" "{\"code\":\"$2\"}"
}

# without console.url: the code, no link
check carol_request_is_made submit carol
A=$ID
check owner_hears_of_a wait_for 20 has_mail_to carol@corp.example "$A"
MA=$(mail_to carol@corp.example "$A")
CODE_A=$(code_in "$MA")
check control_message_carries_a_veto_code [ "${#CODE_A}" = 14 ]
nolink() { ! jq -r .text "$1" | grep -q -e '/console/' -e '^Open '; }
check no_link_without_console_url nolink "$MA"

daemon_stop
cat >>"$T/tapgate.conf" <<EOF2
console = { url = "$URL"; };
EOF2
daemon_start "$T/tapgate.conf" ||
    { notok daemon_starts_with_a_console_url; exit 1; }

# alice: her own mail and her manager carol's
check alice_request_is_made submit alice
B=$ID
check owner_hears_of_b wait_for 20 has_mail_to alice@corp.example "$B"
check manager_hears_of_b wait_for 20 has_mail_to carol@corp.example "$B"
MO=$(mail_to alice@corp.example "$B")
MM=$(mail_to carol@corp.example "$B")
CODE_O=$(code_in "$MO")
CODE_M=$(code_in "$MM")
link_of() {	# FILE CODE: the message holds the link line with CODE
	jq -r .text "$1" | grep -qxF \
	    "Open $URL/console/#/veto/$B/$2 to see it and stop it."
}
check owner_message_links_to_the_console_with_the_code_in_the_fragment \
    link_of "$MO" "$CODE_O"
check manager_message_links_to_the_console_with_its_own_code \
    link_of "$MM" "$CODE_M"

view "$B" "$CODE_O"
# shellcheck disable=SC2016 # $id: jq's variable
check owner_code_shows_the_request_and_nothing_more jqtrue \
    --arg id "$B" '(keys == ["account", "can_veto", "changes", "hold_until",
    "id", "queue", "requested_at", "seconds_left", "state"]) and
    .id == $id and .account == "alice" and .queue == "password_reset" and
    (.changes | index("the password is reset") != null) and
    .can_veto == true and .requested_at > 0' "$T/body"
cp "$T/body" "$T/view.json"
secretless() { ! grep -q -e "$CODE_O" -e @corp.example -e hd-amy -e hd-bob \
    -e P-1 "$1"; }
check view_shows_no_code_or_contact secretless "$T/view.json"
view "$B" "$(echo "$CODE_M" | tr '[:upper:]' '[:lower:]' | tr -d -)"
check managers_code_shows_it_too answered 200 '.account == "alice"'
not_vetoed() { ! request_in_state "$1" vetoed; }
check viewing_does_not_veto not_vetoed "$B"

# A, still open, then vetoed by its code: the view says so
view "$A" "$CODE_A"
check view_of_an_open_request answered 200 '.can_veto == true'
api_as "$NOBODY" POST "/v1/requests/$A/veto" "{\"code\":\"$CODE_A\"}"
[ "$STATUS" = 200 ] || notok a_is_vetoed "HTTP $STATUS $(cat "$T/body")"
view "$A" "$CODE_A"
check view_of_a_vetoed_request_says_it_cannot_be_vetoed answered 200 \
    '.state == "vetoed" and .can_veto == false'

# refusals, counted with the veto code's counter
view "$A" "$CODE_O"
check another_requests_code_is_wrong answered 403 '.error.code == "wrong_code"'
api_as "$NOBODY" POST "/v1/requests/$B/veto/view" '{"code":5}'
check code_of_the_wrong_type_is_refused [ "$STATUS" = 422 ]
api_as "$NOBODY" POST "/v1/requests/$B/veto/view" 'not json'
check malformed_body_is_refused [ "$STATUS" = 400 ]
view "$B" 2222-2222-2222
check wrong_code_is_refused answered 403 '.error.code == "wrong_code"'
n=0
while [ $n -lt 4 ]; do
	if [ $n -lt 2 ]; then
		view "$B" not-a-code
	else
		api_as "$NOBODY" POST "/v1/requests/$B/veto" \
		    '{"code":"3333-3333-3333"}'
	fi
	[ "$STATUS" = 403 ] || break
	n=$((n + 1))
done
check four_more_wrong_codes_by_view_and_veto_are_refused [ $n = 4 ]
view "$B" "$CODE_O"
check after_five_wrong_codes_the_view_is_closed answered 429 \
    '.error.code == "too_many_tries"'
api_as "$NOBODY" POST "/v1/requests/$B/veto" "{\"code\":\"$CODE_O\"}"
check and_the_veto_by_code_too answered 429 '.error.code == "too_many_tries"'
api GET "/v1/audit?request=$B"
check wrong_views_are_audited answered 200 \
    '[.entries[] | select(.event == "request.veto_refused" and
    .details.reason == "wrong_code")] | length == 5'
check daemon_stops_cleanly daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# Who hears of a request, through the senders: the owner on record (the
# directory's mail) and the manager on record (the entry the owner's
# manager attribute names, read by its DN through the directory process)
# of its submission, each with a veto code of their own; the officers
# (senders.officers, and an officer enrolled with a DN by the directory's
# mail) of a request that waits for an approval; the owner
# and manager of its outcome (denied, without a code); and, for a request
# that goes through, the owner of its veto window closing (a fresh code)
# and of its order issued.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
. tests/e2e/lib/officers.sh
trap 'ldap_stop; daemon_stop; keys_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' \
    EXIT
S=dc=corp,dc=example

if ! ldap_have_directory; then
	skip notifications "slapd, ldap-utils or an overlay missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_person ann people "mail: ann@corp.example" >"$T/ldap/ann.ldif"
ldap_add_ldif "$T/ldap/ann.ldif" || { notok slapd_takes_ann; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"
mkdir "$T/mail"
# numbered in the order sent (the runner runs one sender at a time)
cat >"$T/send.sh" <<EOS
#!/bin/sh
n=\$(( \$(cat "$T/mail/.n" 2>/dev/null || echo 0) + 1 ))
echo "\$n" >"$T/mail/.n"
f=$T/mail/\$(printf %05d "\$n")
cat >"\$f.tmp" && mv "\$f.tmp" "\$f.json"
EOS
chmod 755 "$T/send.sh"
make_config "$T/tapgate.conf" \
    's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/' \
    "s|^notify = \{|senders = { mail = \"$T/send.sh\"; officers = [ \"officers@corp.example\" ]; };\n&|"
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
key_start ann || exit 1
check officer_ann_is_enrolled_with_her_dn enroll ann security_officer ann

# the messages (one JSON object each) to ADDRESS about ID, oldest first
msgs() {
	for f in "$T"/mail/*.json; do
		[ -e "$f" ] || continue
		jq -c --arg d "$1" --arg id "$2" 'select(.destination == $d
		    and (.text | contains($id)))' "$f"
	done
}
count() { msgs "$1" "$2" | wc -l; }
has() { [ "$(count "$1" "$2")" -ge "$3" ]; }
code_of() { grep -o '[2-9A-Z]\{4\}-[2-9A-Z]\{4\}-[2-9A-Z]\{4\}' | head -n 1; }

E1=$(ev pre_registered_factor pass hd-amy push P-1)
E2=$(ev out_of_band_callback pass hd-bob email cb-1)
E3=$(ev identity_document pass hd-bob video id-1)
api POST /v1/requests \
    "$(req password_reset alice "" hd-bob phone "[$E1,$E2,$E3]")"
check admin_request_is_submitted answered 201 '.state == "needs_approval"'
A=$(jbody .id)
check owner_hears_of_the_submission wait_for 20 has alice@corp.example "$A" 1
check manager_hears_of_the_submission wait_for 20 has carol@corp.example "$A" 1
check officers_hear_an_approval_is_needed \
    wait_for 20 has officers@corp.example "$A" 1
check officer_enrolled_with_a_dn_hears_by_the_directorys_mail \
    wait_for 20 has ann@corp.example "$A" 1
OWNER_CODE=$(msgs alice@corp.example "$A" | head -n 1 | jq -r .text | code_of)
MGR_CODE=$(msgs carol@corp.example "$A" | head -n 1 | jq -r .text | code_of)
both() { [ -n "$1" ] && [ -n "$2" ]; }
check owner_and_manager_each_get_a_code_of_their_own \
    both "$OWNER_CODE" "$MGR_CODE"
check owner_and_manager_codes_differ [ "$OWNER_CODE" != "$MGR_CODE" ]
contacts_of() {	# ID: how many recipients' contacts the store keeps for it
	sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM notify_recipients
	    WHERE request_id = '$1'"
}
check control_store_keeps_owner_and_managers_contacts_while_open \
    [ "$(contacts_of "$A")" = 2 ]
msgs officers@corp.example "$A" | head -n 1 >"$T/officer.json"
check officer_message_says_approval_needed_and_has_no_code jqtrue \
    '(.subject | contains("approval needed")) and
    (.text | test("[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}") | not)' \
    "$T/officer.json"
"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 100 --json >"$T/audit.json"
# shellcheck disable=SC2016 # $id: a jq variable
check veto_codes_issued_to_owner_and_manager_are_audited jqtrue \
    --arg id "$A" '[.entries[] | select(.event == "veto_code.issued" and
    .request_id == $id) | .details.recipient] | sort ==
    ["manager", "owner"]' "$T/audit.json"
# shellcheck disable=SC2016
check messages_audited_with_the_recipient_role jqtrue --arg id "$A" \
    '[.entries[] | select(.event == "message.sent" and
    .request_id == $id) | .details.recipient] | sort ==
    ["manager", "officer", "officer", "owner"]' "$T/audit.json"

api POST "/v1/requests/$A/deny" '{"reason":"not asked by alice"}'
check officer_denies_it [ "$STATUS" = 200 ]
check owner_hears_it_was_denied wait_for 20 has alice@corp.example "$A" 2
check manager_hears_it_was_denied wait_for 20 has carol@corp.example "$A" 2
msgs alice@corp.example "$A" | tail -n 1 >"$T/denied.json"
check outcome_message_says_denied_without_a_code jqtrue \
    '(.subject | contains("denied")) and
    (.text | test("[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}") | not)' \
    "$T/denied.json"
check contacts_are_forgotten_once_the_request_is_denied \
    [ "$(contacts_of "$A")" = 0 ]

# carol's own reset (standard: one item, a 2 s hold, no approval)
api POST /v1/requests "$(req password_reset carol "" hd-bob phone "[$E1]")"
check standard_request_is_held answered 201 '.state == "in_hold"'
C=$(jbody .id)
check order_of_the_standard_request_is_issued \
    wait_for 20 request_in_state "$C" ready
check owner_hears_submission_closing_window_and_order \
    wait_for 20 has carol@corp.example "$C" 3
msgs carol@corp.example "$C" >"$T/carol.json"
check messages_come_in_order jqtrue -s '[.[].subject |
    (contains("asked for"), contains("veto window closing"),
    contains("order issued"))] == [true, false, false, false, true, false,
    false, false, true]' "$T/carol.json"
FIRST=$(jq -s -r '.[0].text' "$T/carol.json" | code_of)
CLOSING=$(jq -s -r '.[1].text' "$T/carol.json" | code_of)
fresh() { [ -n "$CLOSING" ] && [ "$CLOSING" != "$FIRST" ]; }
check closing_window_message_carries_a_fresh_code fresh
# the owner learns of the order only now: the code in that message still
# stops it, from a uid with no role, and the order is revoked
ISSUED=$(jq -s -r '.[2].text' "$T/carol.json" | code_of)
check order_issued_message_carries_a_fresh_code \
    sh -c "[ -n '$ISSUED' ] && [ '$ISSUED' != '$CLOSING' ]"
api GET "/v1/orders/$C"
check control_order_is_served_before_the_veto [ "$STATUS" = 200 ]
api_as 12345 POST "/v1/requests/$C/veto" "{\"code\":\"$ISSUED\"}"
check owner_code_vetoes_the_ready_request answered 200 \
    '.state == "vetoed"'
api GET "/v1/orders/$C"
check vetoed_order_is_revoked answered 410 \
    '.error.code == "order_revoked" and .revocation.kind == "veto"'
api POST "/v1/orders/$C/redeem" '{}'
check vetoed_order_cannot_be_redeemed [ "$STATUS" = 409 ]
api_as 12345 POST "/v1/requests/$C/veto" "{\"code\":\"$ISSUED\"}"
check vetoed_request_takes_no_second_veto [ "$STATUS" = 409 ]
check owner_hears_the_order_was_vetoed \
    wait_for 20 has carol@corp.example "$C" 4
contacts_gone() { [ "$(contacts_of "$C")" = 0 ]; }
check contacts_are_forgotten_once_the_request_is_vetoed \
    wait_for 20 contacts_gone
check carol_has_no_manager_so_only_the_owner_hears [ "$(grep -l "$C" \
    "$T"/mail/*.json | xargs jq -r .destination | sort -u)" = \
    carol@corp.example ]
check daemon_stops_cleanly daemon_stop

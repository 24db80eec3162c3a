#!/bin/sh
# SPDX-License-Identifier: ISC
# The class comes from what the directory says, not from what the caller
# types: a private slapd (memberof overlay) holds alice in Domain Admins
# with no hint in her name, a finance clerk, a shared mailbox, a
# delegated administrator, a service account and a standard user.  Each
# is classed by its groups (DNs, compared as the directory compares
# them), its account type, or nothing; a claimed class can raise it,
# never lower it.  The facts snapshot (DN, class and why, privileged
# groups, manager, contacts masked, type, state) is stored with the
# request, shown by GET /v1/requests/ID and `tapgatectl requests show`,
# its digest audited; the audit never holds a contact whole.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example
DA="cn=Domain Admins,ou=groups,$S"
CTL() { "$BUILD/tapgatectl" -s "$T/api.sock" "$@"; }

if ! ldap_have_directory; then
	echo "ok directory_facts # SKIP slapd, ldap-utils or the memberof" \
	    "or ppolicy module missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
if ! { ldap_add_facts_people "$S" >"$T/ldap/facts.ldif" &&
    ldap_add_ldif "$T/ldap/facts.ldif"; }; then
	notok slapd_takes_the_people "$(tail -n 5 "$T/ldap/slapadd.log")"
	exit 1
fi
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"

# the shipped policy, its example DNs moved to where this slapd keeps
# its groups (written in another case: DNs compare ignoring it)
make_config "$T/facts.conf" \
    's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/'
cat >>"$T/facts.conf" <<EOF2
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
daemon_start "$T/facts.conf" || exit 1

E=$(ev pre_registered_factor pass hd-amy push P-1)
body() { req password_reset "$1" "${2:-}" hd-bob phone "[$E]"; }
# classed NAME CLASS SOURCE REASON-PART [CLAIM]: submitted, the decided
# class, its source, and the reason the snapshot gives
classed() {
	api POST /v1/requests "$(body "$1" "${5:-}")"
	[ "$STATUS" = 201 ] || { echo "#   $1: status $STATUS"; return 1; }
	api GET "/v1/requests/$(jbody .id)"
	# shellcheck disable=SC2016 # $c, $s and $r are jq variables
	answered 200 '.decision.class.effective == $c and
	    .decision.class.source == $s and
	    (.directory.class_reason | contains($r)) and
	    (.decision.class.reason | contains($r))' \
	    --arg c "$2" --arg s "$3" --arg r "$4" ||
	    { echo "#   $(jbody -c '.decision.class')"; return 1; }
}
audit_has() {	# jq filter over the entries
	api GET '/v1/audit?limit=200'
	[ "$STATUS" = 200 ] && jqtrue "[.entries[] | $1] | length > 0" \
	    "$T/body"
}

check domain_admin_with_no_hint_in_her_name_is_admin classed alice admin \
    directory_group "member of $DA"
ALICE=$(jbody .id)
check finance_clerk_is_finance classed fclerk finance directory_group \
    "member of cn=Finance,ou=groups,$S"
check shared_mailbox_is_shared classed sales shared directory_type \
    "account type sharedMailbox"
check delegated_admin_is_admin classed dora admin directory_group \
    "member of cn=Delegated Administrators,ou=groups,$S"
check service_account_is_shared classed backup shared directory_type \
    "account type serviceAccount"
check standard_user_is_standard classed carol standard default \
    "no class entry matches"
check claim_raises_a_standard_user classed carol finance claim \
    "claimed by the request" finance
check claim_cannot_lower_a_domain_admin classed alice admin \
    directory_group "can only make it stricter" standard

# ---- the snapshot: what the appliance found, contacts masked
api GET "/v1/requests/$ALICE"
check snapshot_names_dn_groups_manager_and_state answered 200 \
    '.directory.dn == "uid=alice,ou=people,'"$S"'" and
    .directory.privileged_groups == ["'"$DA"'"] and
    .directory.manager == "uid=carol,ou=people,'"$S"'" and
    .directory.types == ["person"] and .directory.disabled == false and
    .directory.locked == false and .directory.class == "admin"'
check snapshot_masks_the_contacts answered 200 \
    '.directory.contacts.mobile == ["+44 \u2026 0123"] and
    .directory.contacts.mail == ["a\u2026@corp.example"]'
jq -jcS .directory "$T/body" >"$T/snap.json"
SNAPDIG=$(sha256sum <"$T/snap.json" | cut -d' ' -f1)
check snapshot_digest_is_audited_with_the_submission audit_has \
    'select(.event == "request.submitted" and .request_id == "'"$ALICE"'"
    and .details.facts_digest == "'"$SNAPDIG"'")'
# a contact whole in FILE; the control: the directory holds it whole
holds_contact() { grep -q -e '7700 900123' -e 'alice@corp' -e 'sales@corp' "$1"; }
alice_mobile() { ldap_attr "uid=alice,ou=people,$S" mobile; }
alice_mobile >"$T/mobile.txt"
check directory_holds_her_contacts_whole holds_contact "$T/mobile.txt"
api GET '/v1/audit?limit=500'
cp "$T/body" "$T/audit.json"
check audit_is_read [ "$STATUS" = 200 ] && [ -s "$T/audit.json" ]
no_contact() { ! holds_contact "$1"; }
check audit_never_holds_a_contact_whole no_contact "$T/audit.json"
CTL requests show "$ALICE" >"$T/show.txt" 2>&1
check requests_show_says_what_the_directory_found \
    grep -q "member of $DA" "$T/show.txt"
check requests_show_masks_the_contacts \
    grep -qF 'mobile +44 … 0123; mail a…@corp.example;' "$T/show.txt"
check requests_show_never_shows_a_contact_whole \
    no_contact "$T/show.txt"

daemon_stop

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
# its digest audited; the audit never holds a contact whole.  Alice's
# approved reset is an order naming her DN and the privileged groups it
# takes away (as DNs); the approval preview shows the officer what the
# directory found; the LDAP connector applies the order to the same
# slapd and takes her out of Domain Admins.  The signer looks the
# account up again before it signs: carol, added to Domain Admins while
# her standard reset waits out its hold, is reclassified and not signed;
# gus, deleted from the directory meanwhile, is parked and not signed;
# with the directory down nothing is signed or parked until it answers.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
. tests/e2e/lib/officers.sh
trap 'ldap_stop; daemon_stop; keys_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example
DA="cn=Domain Admins,ou=groups,$S"

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
	max_fact_age_seconds = 1;	# every order looks again
};
EOF2
daemon_start "$T/facts.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || exit 1

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
	    { echo "#   $(jq -c .decision.class "$T/body")"; return 1; }
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
    grep -qF 'mobile +44 … 0123; mail a…@corp.example (masked)' \
    "$T/show.txt"
check requests_show_never_shows_a_contact_whole \
    no_contact "$T/show.txt"


# ---- the order: her DN, and the privileged groups it takes away
key_start ann && key_start ben || exit 1
enroll officer-ann security_officer ann &&
    enroll officer-ben security_officer ben
check two_officers_enrol [ $? -eq 0 ]
# no change forced at the next logon: this slapd has no password policy
# that could make the account change it
api POST /v1/requests "$(req password_reset alice admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" \
    ',"changes":{"password":"reset","force_change_at_logon":false}')"
check admin_reset_of_alice_is_taken answered 201 '.class == "admin"'
RESET=$(jbody .id)
approve "$RESET" ann
check officer_approves_alices_reset [ $? -eq 0 ]
check approval_preview_shows_what_the_directory_found \
    grep -q "found     admin: member of $DA" "$T/approve.out"
check approval_preview_masks_the_contacts \
    grep -qF 'mobile +44 … 0123' "$T/approve.out"
approve "$RESET" ben
check second_officer_approves [ $? -eq 0 ]
check alices_order_is_signed wait_for 20 status_is 200 GET \
    "/v1/orders/$RESET"
jq -r .jws "$T/body" >"$T/alice.jws"
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
    --approvers "$T/approvers.json" "$T/alice.jws" >"$T/alice.order" \
    2>"$T/verify.err"
check tapgate_verify_accepts_the_order_with_its_facts [ $? -eq 0 ]
check order_names_her_dn_and_privileged_groups jqtrue \
    '.change.target.dn == "uid=alice,ou=people,'"$S"'" and
    .change.target.privileged_groups == ["'"$DA"'"] and
    .change.target.account == "alice" and
    .change.target.class == "admin"' "$T/alice.order"
check order_drops_her_privileged_groups_as_dns jqtrue \
    '.change.entitlements_dropped.groups == ["'"$DA"'"] and
    .change.entitlements_dropped.all_privileged == true' "$T/alice.order"

# ---- the connector takes her out of Domain Admins on the same slapd
mkdir -m 700 "$T/handover" "$T/conn"
admins_hold_alice() { ldap_attr "$DA" member | grep -q "uid=alice,"; }
check control_alice_is_in_domain_admins admins_hold_alice
FIN="cn=Finance,ou=groups,$S"
ldapmod() {
	ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" \
	    -y "$LDAP_ADMIN_PWFILE" >/dev/null 2>>"$T/ldapmodify.err"
}
group_member() {	# add|delete GROUP-DN USER-DN
	printf 'dn: %s\nchangetype: modify\n%s: member\nmember: %s\n' \
	    "$2" "$1" "$3" | ldapmod
}
apply_alice() {
	sh contrib/ldap-connector/tapgate-ldap-apply \
	    --verify "$BUILD/tapgate-verify" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --aud ldap-corp \
	    --redeem-db "$T/conn/redeemed.db" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$LDAP_ADMIN_DN" \
	    --bind-pw-file "$LDAP_ADMIN_PWFILE" --out-dir "$T/handover" \
	    --privileged-group "$FIN" "$T/alice.jws" >"$T/apply.out" \
	    2>"$T/apply.err"
}
# granted a privileged group the order does not name since it was
# approved: the connector refuses, before anything is spent
group_member add "$FIN" "uid=alice,ou=people,$S"
check alice_joins_finance_after_the_approval [ $? -eq 0 ]
apply_alice
APPLY_RC=$?
refused_as_changed() {
	[ "$APPLY_RC" -eq 11 ] &&
	    grep -q 'which the order does not name' "$T/apply.err"
}
check connector_refuses_an_order_whose_facts_changed refused_as_changed
nothing_redeemed() {
	[ ! -s "$T/conn/redeemed.db" ] || [ "$(sqlite3 "$T/conn/redeemed.db" \
	    'SELECT count(*) FROM redeemed')" = 0 ]
}
check refused_order_is_not_redeemed nothing_redeemed
check refused_order_changed_nothing admins_hold_alice
group_member delete "$FIN" "uid=alice,ou=people,$S"
apply_alice
APPLY_RC=$?
sed 's/^/#   /' "$T/apply.err"
check connector_applies_the_order [ "$APPLY_RC" -eq 0 ]
alice_out_of_admins() { ! admins_hold_alice; }
check connector_drops_the_group_the_order_names alice_out_of_admins

# ---- the signer looks again: a class that rose since submission
state_of() { api GET "/v1/requests/$1"; jbody .state; }
# the class the appliance decides now (GET evaluates when asked)
class_of() { api GET "/v1/requests/$1"; jbody .decision.class.effective; }
class_is() { [ "$(class_of "$1")" = "$2" ]; }
api POST /v1/requests "$(body carol)"
check standard_reset_of_carol_waits_out_its_hold answered 201 \
    '.class == "standard" and .state == "in_hold"'
CAROL=$(jbody .id)
printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n' "$DA" \
    "uid=carol,ou=people,$S" | ldapmod
check carol_joins_domain_admins_meanwhile [ $? -eq 0 ]
check signer_finds_carol_admin_at_the_end_of_her_hold \
    wait_for 15 class_is "$CAROL" admin
api GET "/v1/requests/$CAROL"
check carol_is_reclassified_not_signed_as_standard answered 200 \
    '.decision.class.effective == "admin" and
    .decision.class.source == "directory_group" and
    .state != "ready" and .directory.privileged_groups == ["'"$DA"'"]'
check carols_request_has_no_order status_is 404 GET "/v1/orders/$CAROL"
check reclassification_is_audited audit_has \
    'select(.event == "request.reclassified" and .request_id ==
    "'"$CAROL"'" and .details.from == "standard" and .details.to ==
    "admin" and (.details.reason | contains("member of")))'

# ---- the account no longer one entry at signing: parked, never signed
mkuser() {	# uid: a standard person under ou=people
	printf 'dn: uid=%s,ou=people,%s\nchangetype: add\n' "$1" "$S"
	printf 'objectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\n' \
	    "$1" "$1" "$1"
}
mkuser gus | ldapmod
check control_gus_is_in_the_directory [ $? -eq 0 ]
api POST /v1/requests "$(body gus)"
check standard_reset_of_gus_waits_out_its_hold answered 201 \
    '.class == "standard" and .state == "in_hold"'
GUS=$(jbody .id)
printf 'dn: uid=gus,ou=people,%s\nchangetype: delete\n' "$S" | ldapmod
check gus_leaves_the_directory_meanwhile [ $? -eq 0 ]
check account_gone_at_signing_is_parked \
    wait_for 15 request_in_state "$GUS" sign_failed
check account_gone_gets_no_order status_is 404 GET "/v1/orders/$GUS"
check parking_says_the_directory_no_longer_has_it audit_has \
    'select(.event == "request.sign_failed" and .request_id ==
    "'"$GUS"'" and (.details.cause | contains("no longer has one entry")))'

# ---- the directory down at signing: nothing signed, nothing parked
api POST /v1/requests "$(body dave)"
check standard_reset_of_dave_waits_out_its_hold answered 201 \
    '.state == "in_hold"'
DAVE=$(jbody .id)
ldap_stop
not_confirmed_twice() {
	[ "$(grep -c "request $DAVE: the directory did not confirm" \
	    "$T/daemon.log")" -ge 2 ]
}
check signer_tries_at_two_ticks wait_for 20 not_confirmed_twice
check directory_down_signs_nothing status_is 404 GET "/v1/orders/$DAVE"
check directory_down_parks_nothing [ "$(state_of "$DAVE")" = ready ]
api GET "/v1/audit?request=$DAVE&limit=100"
check unconfirmed_facts_are_audited_once answered 200 \
    '[.entries[] | select(.event == "request.facts_unconfirmed")] |
    length == 1'
ldap_start || notok slapd_starts_again
check order_is_signed_once_the_directory_answers wait_for 20 \
    status_is 200 GET "/v1/orders/$DAVE"
daemon_stop

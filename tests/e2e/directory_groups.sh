#!/bin/sh
# SPDX-License-Identifier: ISC
# Groups of groups count: a private slapd (memberof overlay) holds tina
# in cn=tier0, which is itself a member of Domain Admins, so tina is an
# admin though no group she is directly in is privileged.  The directory
# process walks the groups that hold each of her groups, breadth first:
# a cycle of groups ends (eve, in a ring of two groups one of which is
# in Finance, is finance), a chain deeper than max_group_depth is
# reported truncated and so admin while classes name groups (deep), and
# one just within the depth is not (shallow, standard).  With
# nested_groups = false only direct groups count: tina is standard,
# which shows the walk is what makes her admin.  With member_of = ""
# the account's own groups are those that name it (nomo, whose entry
# has no memberOf, in auditors, which is in Finance, is finance).
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
. tests/e2e/lib/officers.sh
trap 'ldap_stop; daemon_stop; keys_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example
G="ou=groups,$S"
DA="cn=Domain Admins,$G"
FIN="cn=Finance,$G"

if ! ldap_have_directory; then
	echo "ok directory_groups # SKIP slapd, ldap-utils or the memberof" \
	    "or ppolicy module missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }

# group CN MEMBER-DN...: a groupOfNames under ou=groups
group() {
	g_cn=$1; shift
	printf 'dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n' "$g_cn" \
	    "$G" "$g_cn"
	for m in "$@"; do printf 'member: %s\n' "$m"; done
	printf '\n'
}
{
	# a groupOfNames keeps a member when tina leaves
	group tier0 "uid=tina,ou=people,$S" "cn=placeholder,$G"
	group staff "uid=tina,ou=people,$S"
	ldap_person tina people "memberOf: cn=tier0,$G" "memberOf: cn=staff,$G"
	# a ring: ring1 holds eve and ring2, ring2 holds ring1
	group ring1 "uid=eve,ou=people,$S" "cn=ring2,$G"
	group ring2 "cn=ring1,$G"
	ldap_person eve people "memberOf: cn=ring1,$G"
	# deep: d1 in d2 in d3 in d4; shallow: s1 in s2 in s3
	group d1 "uid=deep,ou=people,$S"
	group d2 "cn=d1,$G"
	group d3 "cn=d2,$G"
	group d4 "cn=d3,$G"
	ldap_person deep people "memberOf: cn=d1,$G"
	group s1 "uid=shallow,ou=people,$S"
	group s2 "cn=s1,$G"
	group s3 "cn=s2,$G"
	ldap_person shallow people "memberOf: cn=s1,$G"
	# no memberOf on nomo's entry: only the group says he is in it
	group auditors "uid=nomo,ou=people,$S"
	ldap_person nomo people
} >"$T/ldap/groups.ldif"
ldap_add_ldif "$T/ldap/groups.ldif" ||
	{ notok slapd_takes_the_groups "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
ldapmod() {
	ldapmodify -x -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" \
	    -y "$LDAP_ADMIN_PWFILE" >/dev/null 2>>"$T/ldapmodify.err"
}
add_member() {	# group member
	printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n' \
	    "$1" "$2" | ldapmod
}
# the privileged groups hold groups, not people
add_member "$DA" "cn=tier0,$G" && add_member "$FIN" "cn=ring2,$G" &&
    add_member "$FIN" "cn=auditors,$G"
check privileged_groups_hold_groups [ $? -eq 0 ]
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"

# groups_config OUT [MORE]: the shipped policy, its example DNs where
# this slapd keeps its groups, with a directory
groups_config() {
	make_config "$1" \
	    's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/'
	cat >>"$1" <<EOF
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
	${2:-}
};
EOF
}

E=$(ev pre_registered_factor pass hd-amy push P-1)
# classed NAME CLASS REASON-PART: submitted; the class decided and why
classed() {
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone \
	    "[$E]")"
	[ "$STATUS" = 201 ] || { echo "#   $1: status $STATUS"; return 1; }
	api GET "/v1/requests/$(jbody .id)"
	# shellcheck disable=SC2016 # $c and $r are jq variables
	answered 200 '.decision.class.effective == $c and
	    (.directory.class_reason | contains($r))' \
	    --arg c "$2" --arg r "$3" ||
	    { echo "#   $(jq -c '[.decision.class, .directory]' "$T/body")"
	    return 1; }
}

groups_config "$T/nested.conf" "max_group_depth = 2;"
daemon_start "$T/nested.conf" || exit 1
check member_of_a_group_in_domain_admins_is_admin classed tina admin \
    "member of $DA"
# the group that brings Domain Admins is privileged too, staff is not
check nested_privileged_group_and_the_one_bringing_it_are_in_the_facts \
    answered 200 '.directory.privileged_groups == ["cn=tier0,'"$G"'",
    "'"$DA"'"] and .directory.groups_truncated == false'
check facts_name_the_chain answered 200 \
    '.directory.privileged_through == [{"group": "'"$DA"'",
    "through": ["cn=tier0,'"$G"'"]}]'
TINA_ID=$(jbody .id)
CTL requests show "$TINA_ID" >"$T/show.txt" 2>&1
check requests_show_names_the_chain \
    grep -qF "$DA through cn=tier0,$G" "$T/show.txt"
check ring_of_groups_ends_and_finds_finance classed eve finance \
    "member of $FIN"
check ring_of_groups_is_not_truncated answered 200 \
    '.directory.groups_truncated == false'
check chain_deeper_than_max_group_depth_is_admin classed deep admin \
    "more groups for the account than were kept"
check deep_chain_is_reported_truncated answered 200 \
    '.directory.groups_truncated == true'
check chain_within_max_group_depth_is_standard classed shallow standard \
    "no class entry matches"
check shallow_chain_is_not_truncated answered 200 \
    '.directory.groups_truncated == false'
check control_by_memberof_nomo_is_in_no_group classed nomo standard \
    "no class entry matches"

# ---- the order drops the group she is in herself, and the connector
# takes her out of it: she is no longer in Domain Admins by any path
key_start ann && key_start ben || exit 1
enroll officer-ann security_officer ann &&
    enroll officer-ben security_officer ben
check two_officers_enrol [ $? -eq 0 ]
api POST /v1/requests "$(req password_reset tina admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" \
    ',"changes":{"password":"reset","force_change_at_logon":false}')"
check admin_reset_of_tina_is_taken answered 201 '.class == "admin"'
RESET=$(jbody .id)
approve "$RESET" ann && approve "$RESET" ben
check officers_approve_tinas_reset [ $? -eq 0 ]
check tinas_order_is_signed wait_for 20 status_is 200 GET \
    "/v1/orders/$RESET"
jq -r .jws "$T/body" >"$T/tina.jws"
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
    --approvers "$T/approvers.json" "$T/tina.jws" >"$T/tina.order" \
    2>"$T/verify.err"
check tapgate_verify_accepts_the_order [ $? -eq 0 ]
check order_drops_the_group_that_brings_domain_admins jqtrue \
    '.change.target.privileged_groups == ["cn=tier0,'"$G"'", "'"$DA"'"]
    and .change.entitlements_dropped.groups == ["cn=tier0,'"$G"'",
    "'"$DA"'"] and .change.entitlements_dropped.all_privileged == true' \
    "$T/tina.order"
mkdir -m 700 "$T/handover" "$T/conn"
sh contrib/ldap-connector/tapgate-ldap-apply \
    --verify "$BUILD/tapgate-verify" --jwks "$T/jwks.json" \
    --approvers "$T/approvers.json" --aud ldap-corp \
    --redeem-db "$T/conn/redeemed.db" --ldap-uri "$LDAP_URI" \
    --base "ou=people,$S" --bind-dn "$LDAP_ADMIN_DN" \
    --bind-pw-file "$LDAP_ADMIN_PWFILE" --out-dir "$T/handover" \
    "$T/tina.jws" >"$T/apply.out" 2>"$T/apply.err"
APPLY_RC=$?
sed 's/^/#   /' "$T/apply.err"
check connector_applies_tinas_order [ "$APPLY_RC" -eq 0 ]
holds_tina() { ldap_attr "$1" member | grep -q "uid=tina,"; }
not_in_tier0() { ! holds_tina "cn=tier0,$G"; }
check connector_takes_her_out_of_tier0 not_in_tier0
check connector_leaves_her_other_groups holds_tina "cn=staff,$G"
check tina_is_standard_once_out_of_tier0 classed tina standard \
    "no class entry matches"
daemon_stop

# the control: direct groups only, and tina is what her own groups say
groups_config "$T/direct.conf" "nested_groups = false;"
daemon_start "$T/direct.conf" || exit 1
check without_nested_groups_only_direct_groups_count classed tina \
    standard "no class entry matches"
check without_nested_groups_a_deep_chain_is_not_truncated classed deep \
    standard "no class entry matches"
daemon_stop

# the depth is bounded: 1 to 8 levels
groups_config "$T/deep.conf" "max_group_depth = 9;"
"$BUILD/tapgated" --check-config -c "$T/deep.conf" >"$T/check.out" 2>&1
CHECK_RC=$?
refused_naming_the_key() {
	[ "$CHECK_RC" -ne 0 ] && grep -q max_group_depth "$T/check.out"
}
check max_group_depth_past_8_is_refused refused_naming_the_key

# ---- no memberOf: the groups that name the entry are its own
groups_config "$T/search.conf" 'attributes = { member_of = ""; };'
daemon_start "$T/search.conf" || exit 1
check group_search_finds_the_groups_naming_the_entry classed nomo finance \
    "member of $FIN"
check group_search_result_is_walked_and_linked answered 200 \
    '.directory.privileged_groups == ["cn=auditors,'"$G"'", "'"$FIN"'"]'
# (tina left tier0 above: eve's ring still holds her)
check group_search_walks_a_ring_too classed eve finance "member of $FIN"
daemon_stop

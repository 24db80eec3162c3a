#!/bin/sh
# SPDX-License-Identifier: ISC
# The Active Directory preset against a real Active Directory: a private
# Samba domain controller (tests/e2e/lib/samba.sh), reached over LDAPS
# (and StartTLS) with its CA, the appliance bound as a service account
# made with samba-tool.  alice is in tier0, a group in Domain Admins:
# admin through the chain that LDAP_MATCHING_RULE_IN_CHAIN answers; bob
# is in Domain Admins himself; dave is disabled (userAccountControl);
# carol is standard; lola, locked out by bad passwords, is reported
# locked (lockoutTime), and not once unlocked (lockoutTime 0).  eve's
# primary group is Domain Admins (primaryGroupID 512), which Active
# Directory lists neither in her memberOf nor in the group's member:
# admin all the same, found by her objectSid's domain.  With the
# accounts' OU as the base (OU=Staff), groups of the domain outside it
# still count: frank, in tier0, and gina, whose primary group is Domain
# Admins, are admin.  jsmith's UPN is john.smith@corp.example, as Active
# Directory lets it be: that UPN is jsmith, not an account named
# john.smith.  Names given as CORP\user, user@corp.example and plain
# find the same entry, stored under its sAMAccountName and DN; an
# unknown name and other domains are refused.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/samba.sh
trap 'daemon_stop; samba_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=DC=corp,DC=example
U="CN=Users,$S"
DA="CN=Domain Admins,$U"
TIER0="CN=tier0,$U"

if ! samba_have; then
	echo "ok directory_ad # SKIP samba-ad-dc, samba-ad-provision or" \
	    "ldap-utils missing (make deps)"
	exit 0
fi
if ! samba_init "$T/dc"; then
	echo "ok directory_ad # SKIP samba-tool cannot provision a domain" \
	    "here: $(tail -n 1 "$T/dc/provision.log" 2>/dev/null)"
	exit 0
fi
# LDAP's ports are fixed: a service on them on every address holds
# them on the DC's loopback address too
if ss -Hltn 2>/dev/null | awk '{ print $4 }' |
    grep -qE '^(0\.0\.0\.0|\*|\[::\]):(389|636)$'; then
	echo "ok directory_ad # SKIP a service listens on port 389 or 636" \
	    "on every address here (a system slapd or samba?)"
	exit 0
fi
# the control: the DC answers a search as Administrator over LDAPS
if ! samba_start; then
	echo "ok directory_ad # SKIP the domain controller does not answer" \
	    "on $SAMBA_IP here: $(tail -n 1 "$T/dc/samba.log" | tr -d '\r')"
	exit 0
fi
ok domain_controller_answers_as_administrator

primary_da() {	# dn: Domain Admins (RID 512) is its primary group
	printf 'dn: %s\nchangetype: modify\nreplace: %s\n%s\n' "$1" \
	    primaryGroupID 'primaryGroupID: 512' | samba_modify
}
# the people, made as an administrator makes them
PW='Svc-Pass-4711!'
{
	samba_tool user create tapgate "$PW" &&
	samba_tool domain passwordsettings set \
	    --account-lockout-threshold=3 --account-lockout-duration=30 \
	    --reset-account-lockout-after=30 &&
	for u in alice bob carol dave eve jsmith lola; do
		samba_tool user create "$u" "$PW" || exit 1
	done &&
	samba_tool group add tier0 &&
	samba_tool group addmembers tier0 alice &&
	samba_tool group addmembers "Domain Admins" tier0,bob &&
	samba_tool user disable dave &&
	samba_tool ou create OU=Staff &&
	samba_tool user create frank "$PW" --userou=OU=Staff &&
	samba_tool user create gina "$PW" --userou=OU=Staff &&
	samba_tool group addmembers tier0 frank &&
	samba_tool group addmembers "Domain Admins" eve,gina &&
	primary_da "CN=eve,$U" && primary_da "CN=gina,OU=Staff,$S" &&
	samba_tool group addmembers "Domain Admins" jsmith &&
	printf 'dn: CN=jsmith,%s\nchangetype: modify\nreplace: %s\n%s\n' \
	    "$U" userPrincipalName \
	    'userPrincipalName: john.smith@corp.example' | samba_modify
} >"$T/people.log" 2>&1
check samba_tool_makes_the_people [ $? -eq 0 ]
(umask 077; printf '%s\n' "$PW" >"$T/dir.pw")

ad_config() {	# out [base [uri tls]]
	make_config "$1"
	cat >>"$1" <<EOF
directory = {
	preset = "active_directory";
	uri = "${3:-$SAMBA_URI}";
	tls = "${4:-ldaps}";
	ca_file = "$SAMBA_CA";
	bind = { method = "simple"; dn = "CN=tapgate,$U";
	    password_file = "$T/dir.pw"; };
	base = "${2:-$S}";
	domain = "corp.example";
	netbios_domain = "CORP";
	timeout_seconds = 2;
};
EOF
}

E=$(ev pre_registered_factor pass hd-amy push P-1)
body() { req password_reset "$1" "" hd-bob phone "[$E]"; }
# classed NAME CLASS REASON-PART: submitted; the class decided and why
classed() {
	api POST /v1/requests "$(body "$1")"
	[ "$STATUS" = 201 ] || { echo "#   $1: status $STATUS $(cat "$T/body")"
	    return 1; }
	api GET "/v1/requests/$(jbody .id)"
	# shellcheck disable=SC2016 # $c and $r are jq variables
	answered 200 '.decision.class.effective == $c and
	    (.directory.class_reason | contains($r))' \
	    --arg c "$2" --arg r "$3" ||
	    { echo "#   $(jq -c '[.decision.class, .directory]' "$T/body")"
	    return 1; }
}
# stored_as NAME ACCOUNT DN: submitted, stored under the directory's name
stored_as() {
	api POST /v1/requests "$(body "$1")"
	[ "$STATUS" = 201 ] || { echo "#   $1: status $STATUS $(cat "$T/body")"
	    return 1; }
	api GET "/v1/requests/$(jbody .id)"
	# shellcheck disable=SC2016 # $a and $d are jq variables
	answered 200 '.request.target.account == $a and
	    .request.target.dn == $d' --arg a "$2" --arg d "$3" ||
	    { echo "#   $(jq -c .request.target "$T/body")"; return 1; }
}
refused() {	# name want-status want-code [message-part]
	api POST /v1/requests "$(body "$1")"
	# shellcheck disable=SC2016 # $c and $m are jq variables
	answered "$2" '.error.code == $c and (.error.message | contains($m))' \
	    --arg c "$3" --arg m "${4:-}" ||
	    { echo "#   $1: $STATUS $(cat "$T/body")"; return 1; }
}
count() { api GET /v1/requests; jbody '.requests | length'; }

ad_config "$T/ad.conf"
daemon_start "$T/ad.conf" || exit 1
check daemon_says_which_directory_it_asks \
    grep -q "tapgated: directory $SAMBA_URI (Active Directory)" \
    "$T/daemon.log"

# ---- classes from the domain's groups
check member_of_a_group_in_domain_admins_is_admin classed alice admin \
    "member of $DA"
check nested_privileged_group_and_the_one_bringing_it_are_in_the_facts \
    answered 200 '(.directory.privileged_groups | index("'"$TIER0"'") !=
    null) and (.directory.privileged_groups | index("'"$DA"'") != null)
    and .directory.groups_truncated == false'
check facts_name_the_chain_through_tier0 answered 200 \
    '[.directory.privileged_through[] | select(.group == "'"$DA"'")] ==
    [{"group": "'"$DA"'", "through": ["'"$TIER0"'"]}]'
ALICE_ID=$(jbody .id)
"$BUILD/tapgatectl" -s "$T/api.sock" requests show "$ALICE_ID" \
    >"$T/show.txt" 2>&1
check requests_show_names_the_chain \
    grep -qF "$DA through $TIER0" "$T/show.txt"
check direct_member_of_domain_admins_is_admin classed bob admin \
    "member of $DA"
check direct_membership_is_in_the_facts answered 200 \
    '(.directory.privileged_groups | index("'"$DA"'") != null) and
    .directory.disabled == false and .directory.locked == false'
check standard_user_is_standard classed carol standard \
    "no class entry matches"
check standard_user_has_no_privileged_group answered 200 \
    '.directory.privileged_groups == [] and .directory.disabled == false'
check disabled_user_is_found classed dave standard "no class entry matches"
check disabled_user_is_reported_disabled answered 200 \
    '.directory.disabled == true and .directory.locked == false and
    .directory.dn == "CN=dave,'"$U"'"'
# the control: her primary group is in neither list
samba_search -b "$S" '(member:1.2.840.113556.1.4.1941:=CN=eve,'"$U"')' \
    dn >"$T/eve.chain" 2>&1
samba_search -b "CN=eve,$U" -s base memberOf >"$T/eve.memberof" 2>&1
no_domain_admins() { ! grep -q "Domain Admins" "$T/eve.chain" \
    "$T/eve.memberof" && grep -q "^dn: CN=eve," "$T/eve.memberof"; }
check control_primary_group_is_not_in_memberof_nor_member no_domain_admins
check primary_group_domain_admins_is_admin classed eve admin \
    "member of $DA"
check primary_group_and_what_holds_it_are_in_the_facts answered 200 \
    '(.directory.privileged_groups | index("'"$DA"'") != null) and
    (.directory.privileged_groups |
    index("CN=Administrators,CN=Builtin,'"$S"'") != null) and
    .directory.groups_truncated == false'
# lola locks herself out: three bad passwords, the fourth bind refused
for i in 1 2 3 4; do
	LDAPTLS_CACERT=$SAMBA_CA ldapwhoami -x -H "$SAMBA_URI" \
	    -D "CN=lola,$U" -w "wrong-$i" >>"$T/lola.log" 2>&1
done
check control_lola_is_locked_out grep -q 'data 775' "$T/lola.log"
check locked_out_user_is_reported_locked classed lola standard \
    "no class entry matches"
check locked_out_user_is_locked_not_disabled answered 200 \
    '.directory.locked == true and .directory.disabled == false'
samba_tool user unlock lola >>"$T/people.log" 2>&1
lockout_time_0() {
	samba_search -b "CN=lola,$U" -s base lockoutTime |
	    grep -qx 'lockoutTime: 0'
}
check control_lola_is_unlocked_with_lockouttime_0 lockout_time_0
check unlocked_user_is_not_locked classed lola standard \
    "no class entry matches"
check unlocked_user_is_reported_unlocked answered 200 \
    '.directory.locked == false'
check administrator_is_admin classed Administrator admin "member of $DA"

# ---- the name forms: one entry, its own name and DN
check netbios_form_is_the_account stored_as 'CORP\\alice' alice \
    "CN=alice,$U"
check netbios_form_ignores_case stored_as 'corp\\alice' alice \
    "CN=alice,$U"
check upn_is_the_account stored_as alice@corp.example alice "CN=alice,$U"
check upn_unlike_the_account_name_is_its_account stored_as \
    john.smith@corp.example jsmith "CN=jsmith,$U"
check upn_unlike_the_account_name_is_classed_by_its_groups classed \
    John.Smith@corp.example admin "member of $DA"
check implicit_upn_is_the_account stored_as jsmith@corp.example jsmith \
    "CN=jsmith,$U"
check plain_name_in_another_case_is_the_account stored_as ALICE alice \
    "CN=alice,$U"

# ---- refused: nothing stored, and why
N=$(count)
check unknown_account_is_422_not_found refused nobody-here 422 \
    account_not_found 'no account "nobody-here"'
check upn_of_another_domain_is_refused refused alice@evil.example 422 \
    account_refused foreign_domain
check netbios_of_another_domain_is_refused refused 'EVIL\\alice' 422 \
    account_refused foreign_domain
check filter_characters_find_nothing refused 'a*)(sAMAccountName=*' 422 \
    account_not_found
check refusals_stored_nothing unchanged "$N" "$(count)"
daemon_stop

# ---- the accounts' OU as the base: the domain's groups still count
ad_config "$T/staff.conf" "OU=Staff,$S"
daemon_start "$T/staff.conf" || exit 1
check base_of_an_ou_finds_its_accounts stored_as frank frank \
    "CN=frank,OU=Staff,$S"
check account_not_below_the_base_is_not_found refused carol 422 \
    account_not_found
check ou_base_member_of_a_group_in_domain_admins_is_admin classed frank \
    admin "member of $DA"
check ou_base_chain_is_in_the_facts answered 200 \
    '(.directory.privileged_groups | index("'"$DA"'") != null) and
    (.directory.privileged_groups |
    index("CN=Administrators,CN=Builtin,'"$S"'") != null)'
check ou_base_primary_group_domain_admins_is_admin classed gina admin \
    "member of $DA"
daemon_stop

# ---- StartTLS on the DC's port 389 does as well
ad_config "$T/starttls.conf" "$S" "ldap://$SAMBA_IP" starttls
daemon_start "$T/starttls.conf" || exit 1
check starttls_finds_the_nested_admin classed alice admin "member of $DA"
daemon_stop

# ---- the bind is the service account's: a wrong password is no answer
printf 'wrong\n' >"$T/dir.pw"
daemon_start "$T/ad.conf" || exit 1
check refused_bind_is_503 refused carol 503 directory_unavailable
daemon_stop

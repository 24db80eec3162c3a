#!/bin/sh
# SPDX-License-Identifier: ISC
# An order is applied to the account that was approved, not to one whose
# privileges changed since: an admin privilege_change (two security
# officers, manager confirmation, nothing dropped) names the account's
# privileged groups; when the account has lost one of them before the
# connector runs, the connector refuses it (exit 11) and the appliance
# still shows it unredeemed.  kim holds Domain Admins only through
# cn=tier0 (the order names both): taking tier0 out of Domain Admins takes
# it from her, and the connector finds that through the chain; put back,
# the same order applies.  ned holds it through two levels (t1 in t2 in
# Domain Admins; the order names t1 and Domain Admins): still held, his
# order applies.  lou is in Domain Admins himself.  Groups an
# order takes away never trigger the refusal: a privilege change that
# removes lou from Domain Admins, and an admin reset that drops kim's
# groups, are applied and their replays still get "already redeemed"
# (exit 9), not "facts changed".
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
. tests/e2e/lib/officers.sh
trap 'ldap_stop; daemon_stop; keys_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

V=$BUILD/tapgate-verify
APPLY=contrib/ldap-connector/tapgate-ldap-apply
S=dc=corp,dc=example
G="ou=groups,$S"
DA="cn=Domain Admins,$G"
TIER0="cn=tier0,$G"
VPN="cn=vpn,$G"
dn() { echo "uid=$1,ou=people,$S"; }
not() { ! "$@"; }

if ! ldap_have_directory; then
	echo "ok ldap_privilege_loss # SKIP slapd, ldap-utils or the" \
	    "memberof or ppolicy module missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
{
	printf 'dn: %s\nobjectClass: groupOfNames\ncn: tier0\n' "$TIER0"
	printf 'member: %s\nmember: cn=placeholder,%s\n\n' "$(dn kim)" "$G"
	printf 'dn: %s\nobjectClass: groupOfNames\ncn: vpn\n' "$VPN"
	printf 'member: cn=placeholder,%s\n\n' "$G"
	ldap_person kim people "memberOf: $TIER0" "employeeType: person"
	ldap_person lou people "employeeType: person"
	printf 'dn: cn=t1,%s\nobjectClass: groupOfNames\ncn: t1\n' "$G"
	printf 'member: %s\n\n' "$(dn ned)"
	printf 'dn: cn=t2,%s\nobjectClass: groupOfNames\ncn: t2\n' "$G"
	printf 'member: cn=t1,%s\n\n' "$G"
	ldap_person ned people "memberOf: cn=t1,$G" "employeeType: person"
} >"$T/ldap/more.ldif"
ldap_add_ldif "$T/ldap/more.ldif" ||
	{ notok slapd_takes_the_entries "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
member() {	# add|delete GROUP MEMBER
	printf 'dn: %s\nchangetype: modify\n%s: member\nmember: %s\n' \
	    "$2" "$1" "$3" | ldapmodify -x -H "$LDAP_URI" \
	    -D "$LDAP_ADMIN_DN" -y "$LDAP_ADMIN_PWFILE" >/dev/null
}
has_member() { ldap_attr "$1" member | grep -qixF "member: $2"; }
member add "$DA" "$TIER0" && member add "$DA" "$(dn lou)" &&
    member add "$DA" "cn=t2,$G"
check domain_admins_holds_tier0_t2_and_lou [ $? -eq 0 ]

# ---- the appliance, asking the directory
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"
make_config "$T/tapgate.conf" \
    's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/'
cat >>"$T/tapgate.conf" <<EOF
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
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann && key_start ben || exit 1
enroll officer-ann security_officer ann &&
    enroll officer-ben security_officer ben
check two_officers_enrol [ $? -eq 0 ]
MGR=$(ev manager_confirmation pass mgr-mia email mgr-1)
# order NAME QUEUE ACCOUNT EVIDENCE EXTRA: approved by ann and ben, its
# request id in $T/NAME.id and its JWS in $T/NAME.jws
order() {
	api POST /v1/requests "$(req "$2" "$3" "" hd-bob phone "$4" "$5")"
	[ "$STATUS" = 201 ] || { echo "# $1: $(cat "$T/body")"; return 1; }
	id=$(jbody .id)
	echo "$id" >"$T/$1.id"
	if ! approve "$id" ann || ! approve "$id" ben; then
		echo "# $1: $(cat "$T/approve.err")"
		return 1
	fi
	wait_for 20 status_is 200 GET "/v1/orders/$id" || return 1
	jq -r .jws "$T/body" >"$T/$1.jws"
}
order kimvpn privilege_change kim "[$OOB,$MGR]" \
    ",\"changes\":{\"add_groups\":[\"$VPN\"]}" &&
    order louvpn privilege_change lou "[$OOB,$MGR]" \
    ",\"changes\":{\"add_groups\":[\"$VPN\"]}" &&
    order louout privilege_change lou "[$OOB,$MGR]" \
    ",\"changes\":{\"remove_groups\":[\"$DA\"]}" &&
    order nedvpn privilege_change ned "[$OOB,$MGR]" \
    ",\"changes\":{\"add_groups\":[\"$VPN\"]}" &&
    order kimreset password_reset kim "[$OOB,$PRF,$IDD]" \
    ',"changes":{"password":"reset","force_change_at_logon":false}'
check five_admin_orders_are_approved_and_signed [ $? -eq 0 ]
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
"$V" --jwks "$T/jwks.json" --aud ldap-corp --approvers "$T/approvers.json" \
    "$T/kimvpn.jws" >"$T/kimvpn.order" 2>&1
check kims_order_names_tier0_and_domain_admins_and_drops_nothing jqtrue \
    '.change.target.class == "admin" and
    .change.target.privileged_groups == ["'"$TIER0"'", "'"$DA"'"] and
    .change.entitlements_dropped.groups == []' "$T/kimvpn.order"

mkdir -m 700 "$T/handover"
conn() {
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --require admin=2 --aud ldap-corp \
	    --api-socket "$T/api.sock" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$LDAP_ADMIN_DN" \
	    --bind-pw-file "$LDAP_ADMIN_PWFILE" --privileged-group "$DA" \
	    --out-dir "$T/handover" "$@"
}
state_of() { api GET "/v1/orders/$(cat "$T/$1.id")"; jbody .state; }
# refused NAME ORDER: exit 11 naming the lost group, nothing spent
refused() {
	conn "$T/$2.jws" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 11 ] || ! grep -q 'no longer holds' "$T/err"; then
		notok "$1" "exit $rc: $(cat "$T/err")"
	elif [ "$(state_of "$2")" != issued ]; then
		notok "$1" "the order was spent"
	else
		ok "$1"
		sed 's/^/#   /' "$T/err"
	fi
}

# kim, through tier0: tier0 leaves Domain Admins, and kim with it
member delete "$DA" "$TIER0"
refused order_for_kim_who_lost_domain_admins_through_tier0_is_refused kimvpn
check kim_is_not_added_to_vpn not has_member "$VPN" "$(dn kim)"
member add "$DA" "$TIER0"
conn "$T/kimvpn.jws" >"$T/out" 2>"$T/err"
check kims_order_applies_once_tier0_brings_domain_admins_again [ $? -eq 0 ]
check kim_is_in_vpn has_member "$VPN" "$(dn kim)"
check kims_order_shows_applied [ "$(state_of kimvpn)" = applied ]

# ned, two levels down: the chain is searched, not only compared
"$V" --jwks "$T/jwks.json" --aud ldap-corp --approvers "$T/approvers.json" \
    "$T/nedvpn.jws" >"$T/nedvpn.order" 2>&1
check neds_order_names_t1_and_domain_admins_not_t2 jqtrue \
    '.change.target.privileged_groups == ["cn=t1,'"$G"'", "'"$DA"'"]' \
    "$T/nedvpn.order"
conn "$T/nedvpn.jws" >"$T/out" 2>"$T/err"
rc=$?
sed 's/^/#   /' "$T/err"
check order_for_ned_in_domain_admins_two_levels_down_applies [ $rc -eq 0 ]
check ned_is_in_vpn has_member "$VPN" "$(dn ned)"

# lou, himself
member delete "$DA" "$(dn lou)"
refused order_for_lou_who_left_domain_admins_is_refused louvpn
member add "$DA" "$(dn lou)"
conn "$T/louvpn.jws" >"$T/out" 2>"$T/err"
check lous_order_applies_once_he_is_back [ $? -eq 0 ]
conn "$T/louvpn.jws" >"$T/out" 2>"$T/err"
check replay_of_an_order_dropping_nothing_is_already_redeemed [ $? -eq 9 ]

# what an order takes away never counts as lost
conn "$T/louout.jws" >"$T/out" 2>"$T/err"
check privilege_change_removing_domain_admins_applies [ $? -eq 0 ]
check lou_is_out_of_domain_admins not has_member "$DA" "$(dn lou)"
conn "$T/louout.jws" >"$T/out" 2>"$T/err"
rc=$?
check its_replay_is_already_redeemed_not_facts_changed \
    sh -c "[ $rc -eq 9 ] && ! grep -q 'no longer holds' '$T/err'"
conn "$T/kimreset.jws" >"$T/out" 2>"$T/err"
check admin_reset_dropping_kims_groups_applies [ $? -eq 0 ]
check kim_is_out_of_tier0 not has_member "$TIER0" "$(dn kim)"
conn "$T/kimreset.jws" >"$T/out" 2>"$T/err"
rc=$?
check reset_replay_is_already_redeemed_not_facts_changed \
    sh -c "[ $rc -eq 9 ] && ! grep -q 'no longer holds' '$T/err'"

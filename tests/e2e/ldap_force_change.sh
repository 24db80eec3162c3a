#!/bin/sh
# SPDX-License-Identifier: ISC
# An order that asks for the password to be changed at first logon
# ("force_change_at_logon": true, as make demo's request does), applied by
# the LDAP connector to a private slapd that runs the password policy
# overlay: with --ppolicy the new password is set and the account can do
# nothing after its next bind but change it; without --ppolicy the order
# is refused before it is redeemed (the connector must not pretend it
# forced a change it cannot force); where the account's policy would not
# demand the change, the connector finds out by binding and says so (exit
# 12); force_change_at_logon false is applied; a change outside the
# queue's vocabulary, or a force_change_at_logon that is not a boolean,
# is refused at submission and never becomes an order.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_ppolicy.sh
trap 'ldap_stop; daemon_stop; keys_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

V=$BUILD/tapgate-verify
APPLY=contrib/ldap-connector/tapgate-ldap-apply
S=dc=corp,dc=test
SVC=cn=tapgate-connector,ou=services,$S
RESETTERS=cn=password-resetters,ou=groups,$S
ADMINS=cn=domain-admins,ou=groups,$S
OLD=Old-Passw0rd-of-

if ! ldap_have_ppolicy; then
	echo "ok ldap_force_change # SKIP slapd, ldap-utils or the ppolicy" \
	    "module missing (make deps)"
	exit 0
fi
if [ ! -x "$V" ]; then
	notok ldap_force_change_programs_built "missing $V"
	exit 1
fi
dn() { echo "uid=$1,ou=people,$S"; }
not() { ! "$@"; }

# ---- the directory: ppolicy, whose default policy makes an account
# change a password reset by someone else; erin's own policy does not
ldap_init_ppolicy "$T/ldap" "$S" \
    "to attrs=userPassword by group.exact=\"$RESETTERS\" =mw by self =w by anonymous auth by * none" \
    "to dn.one=\"ou=groups,$S\" attrs=member by group.exact=\"$RESETTERS\" write by users read by * none" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$T/svc.pw")
{
	cat <<EOF
dn: $SVC
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tapgate-connector
userPassword: $(ldap_hash "$(cat "$T/svc.pw")")

dn: $RESETTERS
objectClass: groupOfNames
cn: password-resetters
member: $SVC

dn: cn=lax,ou=policies,$S
objectClass: person
objectClass: pwdPolicy
cn: lax
sn: lax
pwdAttribute: userPassword

dn: $ADMINS
objectClass: groupOfNames
cn: domain-admins
member: cn=placeholder,ou=services,$S
EOF
	for u in alice bob carol dave erin; do
		echo "member: $(dn $u)"
	done
	for u in alice bob carol dave erin; do
		printf '\ndn: %s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\n' \
		    "$(dn $u)" "$u" "$u"
		printf 'sn: Admin\nuserPassword: %s\n' "$(ldap_hash "$OLD$u")"
		[ $u = erin ] &&
		    echo "pwdPolicySubentry: cn=lax,ou=policies,$S"
	done
} >"$T/entries.ldif"
ldap_add_ldif "$T/entries.ldif" ||
	{ notok directory_entries_load "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
check slapd_serves_the_accounts_on_a_private_port ldap_bind "$(dn alice)" "${OLD}alice"

# after_bind USER PASSWORD: what ldapwhoami with the ppolicy control says
after_bind() {
	ldapwhoami -x -e ppolicy -H "$LDAP_URI" -D "$(dn "$1")" -w "$2" 2>&1
}

# ---- five admin resets, each approved by two officers
make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann && enroll officer-ben security_officer ben
check two_officers_enrol [ $? -eq 0 ]
order() {	# account changes-json: the co-signed order's file
	api POST /v1/requests "$(req password_reset "$1" admin hd-bob phone \
	    "[$OOB,$PRF,$IDD]" ",\"changes\":$2")"
	id=$(jbody .id)
	approve "$id" ann && approve "$id" ben || return 1
	echo "$id" >"$T/$1.id"
}
# a change outside the queue's vocabulary never becomes an order
api POST /v1/requests "$(req password_reset bob admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" ',"changes":{"password":"reset","disable_mfa":true}')"
check unknown_change_is_refused_at_submission answered 422 \
    '.error.message == "changes.disable_mfa: unknown for queue password_reset"'
api POST /v1/requests "$(req password_reset carol admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" \
    ',"changes":{"password":"reset","force_change_at_logon":"yes"}')"
check force_change_that_is_not_a_boolean_is_refused_at_submission \
    answered 422 '.error.message | startswith("changes.force_change_at_logon:")'
order alice '{"password":"reset","force_change_at_logon":true}' &&
    order dave '{"password":"reset","force_change_at_logon":false}' &&
    order erin '{"password":"reset","force_change_at_logon":true}'
check three_resets_are_approved [ $? -eq 0 ]
for u in alice dave erin; do
	i=0
	while [ $i -lt 100 ]; do	# the test config's hold is 2 s
		api GET "/v1/orders/$(cat "$T/$u.id")"
		[ "$STATUS" = 200 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	jq -r .jws "$T/body" >"$T/$u.jws"
done
check appliance_cosigns_the_three_orders \
    [ "$(cat "$T"/*.jws | grep -c '^ey')" -eq 3 ]
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"

# ---- the connector
mkdir -m 700 "$T/handover" "$T/conn"
conn() {
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --min-approvals 2 --aud ldap-corp \
	    --redeem-db "$T/conn/redeemed.db" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" --bind-pw-file "$T/svc.pw" \
	    --privileged-group "$ADMINS" --out-dir "$T/handover" "$@"
}
state() {
	for u in alice bob carol dave erin; do
		ldap_attr "$(dn $u)" userPassword
		ldap_attr "$(dn $u)" pwdReset
	done
	ldap_attr "$ADMINS" member
}
# refused NAME [options] ORDER: exit 11 with a message matching $PAT,
# nothing changed, nothing handed out, the order not redeemed
refused() {
	name=$1; shift
	state >"$T/before"
	conn "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 11 ]; then
		notok "$name" "exit $rc, expected 11: $(cat "$T/err")"
	elif ! grep -q -- "$PAT" "$T/err"; then
		notok "$name" "message lacks '$PAT': $(cat "$T/err")"
	elif [ "$(state)" != "$(cat "$T/before")" ] ||
	    [ -n "$(ls -A "$T/handover")" ]; then
		notok "$name" "the directory changed or a password was handed out"
	else
		ok "$name"
	fi
}
PAT='ppolicy'
refused forced_change_is_refused_where_the_connector_cannot_force_it \
    "$T/alice.jws"

conn --ppolicy "$T/alice.jws" >"$T/alice.out" 2>"$T/alice.err"
check forced_change_order_is_applied_with_ppolicy [ $? -eq 0 ]
check connector_says_the_password_must_be_changed \
    grep -q 'must be changed at the next logon' "$T/alice.out"
NEW=$(cat "$T"/handover/alice.* 2>/dev/null)
check alice_is_marked_to_change_her_password \
    [ "$(ldap_attr "$(dn alice)" pwdReset)" = "pwdReset: TRUE" ]
after_bind alice "$NEW" >"$T/bind.out"
sed 's/^/#   /' "$T/bind.out"
check alice_signs_in_only_to_change_the_temporary_password \
    grep -q 'Password must be changed' "$T/bind.out"
check alice_old_password_no_longer_works not ldap_bind "$(dn alice)" "${OLD}alice"
ldap_attr "$ADMINS" member >"$T/admins"
check alice_is_out_of_domain_admins not grep -qF "member: $(dn alice)" "$T/admins"

conn --ppolicy "$T/dave.jws" >"$T/dave.out" 2>"$T/dave.err"
check unforced_order_is_applied [ $? -eq 0 ]
NEW=$(cat "$T"/handover/dave.* 2>/dev/null)
check dave_signs_in_with_the_new_password \
    ldap_bind "$(dn dave)" "$NEW"

# the connector asks the directory, not its own flag
conn --ppolicy "$T/erin.jws" >"$T/erin.out" 2>"$T/erin.err"
rc=$?
check forced_change_the_directory_does_not_demand_is_reported \
    sh -c "[ $rc -eq 12 ] && grep -q 'does NOT demand a change' $T/erin.err"
sed 's/^/#   /' "$T/erin.err"

# the order refused without --ppolicy was not spent
check refused_order_was_not_redeemed_before \
    sh -c "[ \$(sqlite3 $T/conn/redeemed.db 'SELECT count(*) FROM redeemed' 2>/dev/null || echo x) = 3 ]"

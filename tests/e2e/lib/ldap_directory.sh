# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# A private slapd like ldap_init's (tests/e2e/lib/ldap.sh, source that
# first) that holds what an appliance asks a directory: the memberof
# overlay (slapo-memberof(5): memberOf on each member) and the password
# policy overlay (pwdAccountLockedTime: a disabled account), with the
# people the directory tests look up.  Used by
# tests/e2e/directory_lookup.sh.
#
#	ldap_have_directory	slapd, ldap-utils, memberof and ppolicy exist
#	ldap_init_directory DIR SUFFIX [ACCESS...]
#				as ldap_init, with both overlays, the
#				service account cn=tapgate,ou=services,SUFFIX
#				(its password in DIR/tapgate.pw, mode 0600),
#				the groups Domain Admins and Finance, and:
#				alice (Domain Admins, no hint in her name),
#				fclerk (Finance), carol (standard), dave
#				(disabled), administrator and root (Domain
#				Admins), and two entries named sam

ldap_have_directory() {
	ldap_have && [ -f "$LDAP_MODULES/ppolicy.so" ] &&
	    [ -f "$LDAP_MODULES/memberof.so" ]
}

# ldap_person UID OU [LDIF LINES...]: an inetOrgPerson entry
ldap_person() {
	lp_uid=$1 lp_ou=$2; shift 2
	printf 'dn: uid=%s,ou=%s,%s\nobjectClass: inetOrgPerson\n' \
	    "$lp_uid" "$lp_ou" "$LDAP_SUFFIX"
	printf 'uid: %s\ncn: %s\nsn: %s\n' "$lp_uid" "$lp_uid" "$lp_uid"
	for l in "$@"; do printf '%s\n' "$l"; done
	printf '\n'
}

# shellcheck disable=SC2034 # ldap_init (lib/ldap.sh) reads LDAP_MORE_*
ldap_init_directory() {	# dir suffix [access...]
	s=$2
	lid_dir=$1
	shift 2
	LDAP_MORE_MODULES="olcModuleLoad: memberof
olcModuleLoad: ppolicy
"
	LDAP_MORE_CONFIG="dn: olcOverlay=memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: memberof
olcMemberOfRefInt: TRUE

dn: olcOverlay=ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: ppolicy

"
	LDAP_MORE_BASE=
	ldap_init "$lid_dir" "$s" "$@"
	lid_rc=$?
	LDAP_MORE_MODULES='' LDAP_MORE_CONFIG=''
	[ $lid_rc -eq 0 ] || return $lid_rc
	(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 \
	    >"$lid_dir/tapgate.pw") || return 1
	admins="cn=Domain Admins,ou=groups,$s"
	finance="cn=Finance,ou=groups,$s"
	{
		printf 'dn: cn=tapgate,ou=services,%s\n' "$s"
		printf 'objectClass: organizationalRole\n'
		printf 'objectClass: simpleSecurityObject\ncn: tapgate\n'
		printf 'userPassword: %s\n\n' "$(ldap_hash "$(cat "$lid_dir/tapgate.pw")")"
		printf 'dn: %s\nobjectClass: groupOfNames\ncn: Domain Admins\n' \
		    "$admins"
		for u in alice administrator root; do
			printf 'member: uid=%s,ou=people,%s\n' "$u" "$s"
		done
		printf '\ndn: %s\nobjectClass: groupOfNames\ncn: Finance\n' \
		    "$finance"
		printf 'member: uid=fclerk,ou=people,%s\n\n' "$s"
		ldap_person alice people "memberOf: $admins" \
		    "manager: uid=carol,ou=people,$s" "mobile: +44 7700 900123" \
		    "mail: alice@corp.example" "employeeType: person"
		ldap_person administrator people "memberOf: $admins"
		ldap_person root people "memberOf: $admins"
		ldap_person fclerk people "memberOf: $finance" \
		    "employeeType: person"
		ldap_person carol people "mail: carol@corp.example" \
		    "telephoneNumber: +44 20 7946 0000"
		ldap_person dave people "pwdAccountLockedTime: 000001010000Z"
		ldap_person sam people
		ldap_person sam services
	} >"$lid_dir/people.ldif"
	ldap_add_ldif "$lid_dir/people.ldif"
}

# ldap_add_facts_people SUFFIX: LDIF (to stdout, for ldap_add_ldif) of
# the accounts the class tests look up besides ldap_init_directory's:
# the group Delegated Administrators with dora in it, the shared mailbox
# sales (employeeType sharedMailbox) and the service account backup
# (employeeType serviceAccount).
ldap_add_facts_people() {	# suffix
	s=$1
	delegated="cn=Delegated Administrators,ou=groups,$s"
	printf 'dn: %s\nobjectClass: groupOfNames\n' "$delegated"
	printf 'cn: Delegated Administrators\n'
	printf 'member: uid=dora,ou=people,%s\n\n' "$s"
	ldap_person dora people "memberOf: $delegated" "employeeType: person"
	ldap_person sales people "employeeType: sharedMailbox" \
	    "mail: sales@corp.example"
	ldap_person backup people "employeeType: serviceAccount"
}

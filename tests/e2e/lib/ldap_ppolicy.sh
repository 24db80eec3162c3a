# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# A private slapd like ldap_init's (tests/e2e/lib/ldap.sh, source that
# first) that also runs the password policy overlay (slapo-ppolicy(5)),
# for a connector that marks a reset password to be changed at the next
# logon (pwdReset).  Used by tests/e2e/ldap_force_change.sh and by make
# demo.
#
#	ldap_have_ppolicy	slapd, ldap-utils and the ppolicy module exist
#	ldap_init_ppolicy DIR SUFFIX [ACCESS...]
#				as ldap_init, with the ppolicy module loaded
#				before the database (so ACCESS may name its
#				attributes), the overlay on it, and a default
#				policy cn=default,ou=policies,SUFFIX that
#				locks nobody out and makes an account change
#				a password an administrator set or reset
#				(pwdMustChange) before it may do anything else;
#				LDAP_PPOLICY_MORE_MODULES and _MORE_CONFIG,
#				when set, add modules and overlays (make demo
#				adds memberof)
#
# Then ldap_add_ldif, ldap_start, ldap_stop, ldap_attr as with ldap_init.

ldap_have_ppolicy() {
	ldap_have && [ -f "$LDAP_MODULES/ppolicy.so" ]
}

# shellcheck disable=SC2034 # ldap_init (lib/ldap.sh) reads LDAP_MORE_*
ldap_init_ppolicy() {	# dir suffix [access...]
	LDAP_MORE_MODULES="olcModuleLoad: ppolicy
${LDAP_PPOLICY_MORE_MODULES:-}"
	LDAP_MORE_CONFIG="${LDAP_PPOLICY_MORE_CONFIG:-}dn: olcOverlay=ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: ppolicy
olcPPolicyDefault: cn=default,ou=policies,$2

"
	LDAP_MORE_BASE="dn: ou=policies,$2
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$2
objectClass: person
objectClass: pwdPolicy
cn: default
sn: default
pwdAttribute: userPassword
pwdMustChange: TRUE

"
	ldap_init "$@"
	lip_rc=$?
	LDAP_MORE_MODULES='' LDAP_MORE_CONFIG='' LDAP_MORE_BASE=''
	return $lip_rc
}

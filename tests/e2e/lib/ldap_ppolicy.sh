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
#				(pwdMustChange) before it may do anything else
#
# Then ldap_add_ldif, ldap_start, ldap_stop, ldap_attr as with ldap_init.

ldap_have_ppolicy() {
	ldap_have && [ -f "$LDAP_MODULES/ppolicy.so" ]
}

ldap_init_ppolicy() {	# dir suffix [access...]
	LDAP_DIR=$1 LDAP_SUFFIX=$2
	shift 2
	access=
	for a in "$@"; do access="${access}olcAccess: $a
"; done
	LDAP_ADMIN_DN="cn=admin,$LDAP_SUFFIX"
	LDAP_ADMIN_PWFILE=$LDAP_DIR/admin.pw
	mkdir -p "$LDAP_DIR/slapd.d" "$LDAP_DIR/db" || return 1
	(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 \
	    >"$LDAP_ADMIN_PWFILE") || return 1
	LDAP_ADMIN_HASH=$(ldap_hash "$(cat "$LDAP_ADMIN_PWFILE")") || return 1
	dc=$(echo "$LDAP_SUFFIX" | sed 's/^dc=\([^,]*\).*/\1/')
	cat >"$LDAP_DIR/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $LDAP_DIR/slapd.pid
olcArgsFile: $LDAP_DIR/slapd.args

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $LDAP_MODULES
olcModuleLoad: back_mdb
olcModuleLoad: ppolicy

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$LDAP_SCHEMA/core.ldif
include: file://$LDAP_SCHEMA/cosine.ldif
include: file://$LDAP_SCHEMA/nis.ldif
include: file://$LDAP_SCHEMA/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcPasswordHash: {SSHA}

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $LDAP_DIR/db
olcDbMaxSize: 16777216
olcSuffix: $LDAP_SUFFIX
olcRootDN: $LDAP_ADMIN_DN
olcRootPW: $LDAP_ADMIN_HASH
${access}olcAccess: to attrs=userPassword by self =w by anonymous auth by * none
olcAccess: to * by users read by * none

dn: olcOverlay=ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: ppolicy
olcPPolicyDefault: cn=default,ou=policies,$LDAP_SUFFIX

EOF
	cat >"$LDAP_DIR/base.ldif" <<EOF
dn: $LDAP_SUFFIX
objectClass: dcObject
objectClass: organization
dc: $dc
o: $dc

dn: ou=people,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=services,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: services

dn: ou=groups,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: groups

dn: ou=policies,$LDAP_SUFFIX
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$LDAP_SUFFIX
objectClass: person
objectClass: pwdPolicy
cn: default
sn: default
pwdAttribute: userPassword
pwdMustChange: TRUE

EOF
	"$SLAPADD" -n0 -F "$LDAP_DIR/slapd.d" -l "$LDAP_DIR/config.ldif" \
	    >>"$LDAP_DIR/slapadd.log" 2>&1 &&
	    ldap_add_ldif "$LDAP_DIR/base.ldif"
}

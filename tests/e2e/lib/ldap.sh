# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# A private OpenLDAP slapd for the end-to-end tests: its own cn=config and
# mdb database under a directory of the test, listening on 127.0.0.1 on a
# port it picks itself, so it neither needs nor disturbs a system slapd
# (which may or may not run on 389).  Debian packages: slapd, ldap-utils.
#
#	ldap_init DIR SUFFIX [ACCESS...]
#				write and load the configuration (rootdn
#				cn=admin,SUFFIX with a random password in
#				$LDAP_ADMIN_PWFILE) and the suffix entry with
#				ou=people, ou=services and ou=groups; each
#				ACCESS is an olcAccess value ("to ... by ...")
#				that goes before the defaults (own password
#				writable, anonymous auth, users read the rest)
#	ldap_add_ldif FILE	load more entries (before ldap_start)
#	ldap_start		start slapd; sets LDAP_URI, LDAP_PORT, SLAPD_PID;
#				with LDAP_LDAPS=1 it also listens on
#				LDAPS_URI (ldaps://, port LDAP_PORT + 1)
#	ldap_stop		SIGTERM + wait, 10 s at most (call it from the
#				EXIT trap)
#	ldap_hash PASSWORD	a {SSHA} userPassword value
#	ldap_bind DN PASSWORD	exit 0 when a simple bind succeeds
#	ldap_attr DN ATTR	the attribute's values as the rootdn reads them
#
# It stands alone (scripts/demo.sh uses it too); the caller's EXIT trap
# must call ldap_stop.

SLAPD=$(command -v slapd 2>/dev/null || echo /usr/sbin/slapd)
SLAPADD=$(command -v slapadd 2>/dev/null || echo /usr/sbin/slapadd)
SLAPPASSWD=$(command -v slappasswd 2>/dev/null || echo /usr/sbin/slappasswd)
LDAP_MODULES=${LDAP_MODULES:-/usr/lib/ldap}
LDAP_SCHEMA=${LDAP_SCHEMA:-/etc/ldap/schema}
SLAPD_PID=
LDAP_URI=
LDAP_PORT=
LDAPS_URI=
LDAP_LDAPS=${LDAP_LDAPS:-}

ldap_have() {
	[ -x "$SLAPD" ] && [ -x "$SLAPADD" ] && [ -x "$SLAPPASSWD" ] &&
	    command -v ldapsearch >/dev/null 2>&1 &&
	    command -v ldappasswd >/dev/null 2>&1 &&
	    [ -f "$LDAP_SCHEMA/inetorgperson.ldif" ]
}

ldap_hash() { "$SLAPPASSWD" -h '{SSHA}' -s "$1"; }

# What a variant of ldap_init adds (ldap_ppolicy.sh): more attributes of
# cn=config itself (olcTLS*), more olcModuleLoad lines, more cn=config
# entries, more entries under the suffix; each empty or LDIF ending in a
# newline.
LDAP_MORE_GLOBAL=
LDAP_MORE_MODULES=
LDAP_MORE_CONFIG=
LDAP_MORE_BASE=

ldap_init() {	# dir suffix [access...]
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
${LDAP_MORE_GLOBAL}
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $LDAP_MODULES
olcModuleLoad: back_mdb
${LDAP_MORE_MODULES}
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

${LDAP_MORE_CONFIG}
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

${LDAP_MORE_BASE}
EOF
	"$SLAPADD" -n0 -F "$LDAP_DIR/slapd.d" -l "$LDAP_DIR/config.ldif" \
	    >>"$LDAP_DIR/slapadd.log" 2>&1 &&
	    ldap_add_ldif "$LDAP_DIR/base.ldif"
}

ldap_add_ldif() {	# file
	"$SLAPADD" -q -n1 -F "$LDAP_DIR/slapd.d" -l "$1" \
	    >>"$LDAP_DIR/slapadd.log" 2>&1
}

# The rootdn can bind: this slapd, not some other server on the port
# (which may also never answer, hence the timeout).
ldap_ready() {
	timeout 2 ldapwhoami -x -o nettimeout=1 -H "$LDAP_URI" \
	    -D "$LDAP_ADMIN_DN" -y "$LDAP_ADMIN_PWFILE" >/dev/null 2>&1 &&
	    kill -0 "$SLAPD_PID" 2>/dev/null
}

# A port from 20000 + pid % 10000, the next one when it is taken.
ldap_start() {
	tries=0
	LDAP_PORT=$((20000 + $$ % 10000))
	while [ $tries -lt 20 ]; do
		LDAP_URI="ldap://127.0.0.1:$LDAP_PORT"
		urls="$LDAP_URI/"
		if [ -n "$LDAP_LDAPS" ]; then
			LDAPS_URI="ldaps://127.0.0.1:$((LDAP_PORT + 1))"
			urls="$urls $LDAPS_URI/"
		fi
		"$SLAPD" -d 0 -h "$urls" -F "$LDAP_DIR/slapd.d" \
		    >>"$LDAP_DIR/slapd.log" 2>&1 &
		SLAPD_PID=$!
		i=0
		while [ $i -lt 100 ]; do
			sleep 0.05
			kill -0 "$SLAPD_PID" 2>/dev/null || break
			ldap_ready && return 0
			i=$((i + 1))
		done
		ldap_stop
		LDAP_PORT=$((LDAP_PORT + 2 + tries * 37))
		tries=$((tries + 1))
	done
	echo "# slapd did not start:"; tail -n 20 "$LDAP_DIR/slapd.log" |
	    sed 's/^/#   /'
	return 1
}

ldap_stop() {
	[ -n "$SLAPD_PID" ] || return 0
	kill -TERM "$SLAPD_PID" 2>/dev/null
	ls_end=$(($(date +%s) + 10))
	while kill -0 "$SLAPD_PID" 2>/dev/null &&
	    [ "$(date +%s)" -lt "$ls_end" ]; do
		sleep 0.05
	done
	if kill -0 "$SLAPD_PID" 2>/dev/null; then
		echo "# slapd did not stop within 10 s: killed"
		kill -KILL "$SLAPD_PID" 2>/dev/null
	fi
	wait "$SLAPD_PID" 2>/dev/null
	SLAPD_PID=
}

ldap_bind() {	# dn password
	ldapwhoami -x -H "$LDAP_URI" -D "$1" -w "$2" >/dev/null 2>&1
}

ldap_attr() {	# dn attr
	ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" \
	    -D "$LDAP_ADMIN_DN" -y "$LDAP_ADMIN_PWFILE" -b "$1" -s base \
	    "(objectClass=*)" "$2" | sed -n "s/^$2:/&/p"
}

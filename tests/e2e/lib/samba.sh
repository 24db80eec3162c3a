# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# A private Samba Active Directory domain controller for the end-to-end
# tests: provisioned by samba-tool under a directory of the test (its own
# smb.conf, private, state, lock, cache and pid directories), serving LDAP
# only, bound to a loopback address of its own (127.x.y.z: the kernel
# answers every 127/8 address on lo) so it neither needs nor disturbs a
# system samba or slapd, run in the foreground and stopped at the end.
# Debian packages: samba-ad-dc, samba-ad-provision, ldap-utils.
#
#	samba_have		samba, samba-tool and ldapsearch exist
#	samba_init DIR		provision realm CORP.EXAMPLE (NetBIOS CORP,
#				base DC=corp,DC=example) with a random
#				Administrator password ($SAMBA_ADMIN_PWFILE)
#				and a test CA's certificate for the address
#				($SAMBA_CA, $SAMBA_IP); DIR/provision.log
#	samba_start		start the DC; true once it answers a search
#				as Administrator over LDAPS (10 s at most);
#				sets SAMBA_URI, SAMBA_PID; DIR/samba.log
#	samba_stop		SIGTERM + wait, 10 s at most (call it from
#				the EXIT trap)
#	samba_tool ARGS...	samba-tool on the DC's own database
#	samba_modify		ldapmodify as Administrator, LDIF on stdin
#	samba_search ARGS...	ldapsearch as Administrator (base, subtree)
#
# Provisioning takes about 3.5 s here (samba-tool, with a load of 2 on 2
# cores); the DC answers about 0.3 s
# after it starts.  It stands alone; the caller's EXIT trap must call
# samba_stop.

SAMBA=$(command -v samba 2>/dev/null || echo /usr/sbin/samba)
SAMBA_TOOL=$(command -v samba-tool 2>/dev/null || echo /usr/bin/samba-tool)
SAMBA_BASE=DC=corp,DC=example
SAMBA_PID=
SAMBA_URI=

samba_have() {
	[ -x "$SAMBA" ] && [ -x "$SAMBA_TOOL" ] &&
	    [ -d /usr/share/samba/setup ] &&
	    command -v ldapsearch >/dev/null 2>&1 &&
	    command -v ldapmodify >/dev/null 2>&1
}

samba_init() {	# dir
	SAMBA_DIR=$1
	# an address of its own, from the pid: two runs do not meet
	SAMBA_IP=127.$(($$ % 200 + 20)).$(($$ / 200 % 250 + 1)).2
	SAMBA_ADMIN_PWFILE=$SAMBA_DIR/admin.pw
	SAMBA_CONF=$SAMBA_DIR/etc/smb.conf
	SAMBA_CA=$SAMBA_DIR/tls/ca.pem
	mkdir -p "$SAMBA_DIR/tls" "$SAMBA_DIR/run" "$SAMBA_DIR/cache" ||
	    return 1
	# complex enough for the domain's password policy
	(umask 077; printf 'Aa1-%s\n' "$(LC_ALL=C tr -dc 'A-Za-z0-9' \
	    </dev/urandom | head -c 20)" >"$SAMBA_ADMIN_PWFILE") || return 1
	samba_cert || return 1
	"$SAMBA_TOOL" domain provision --realm=CORP.EXAMPLE --domain=CORP \
	    --server-role=dc --dns-backend=NONE --use-rfc2307 \
	    --host-name=dc1 --host-ip="$SAMBA_IP" \
	    --adminpass="$(head -n 1 "$SAMBA_ADMIN_PWFILE")" \
	    --targetdir="$SAMBA_DIR" >"$SAMBA_DIR/provision.log" 2>&1 ||
	    return 1
	# the provision's own smb.conf points at system paths (logs, pid
	# files, sockets): one that keeps everything here, LDAP only
	cat >"$SAMBA_CONF" <<EOF
[global]
	netbios name = DC1
	realm = CORP.EXAMPLE
	workgroup = CORP
	server role = active directory domain controller
	server services = ldap
	interfaces = $SAMBA_IP/8
	bind interfaces only = yes
	private dir = $SAMBA_DIR/private
	state directory = $SAMBA_DIR/state
	lock directory = $SAMBA_DIR
	cache directory = $SAMBA_DIR/cache
	pid directory = $SAMBA_DIR/run
	ncalrpc dir = $SAMBA_DIR/run/ncalrpc
	binddns dir = $SAMBA_DIR/bind-dns
	winbindd socket directory = $SAMBA_DIR/run/winbindd
	log file = $SAMBA_DIR/log.%m
	log level = 1
	idmap_ldb:use rfc2307 = yes
	tls enabled = yes
	tls keyfile = $SAMBA_DIR/tls/key.pem
	tls certfile = $SAMBA_DIR/tls/cert.pem
	tls cafile = $SAMBA_CA
EOF
}

# A test CA and the DC's certificate for its address (and its name).
samba_cert() {
	(
	cd "$SAMBA_DIR/tls" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 2 -subj "/CN=corp test CA" -keyout ca-key.pem \
	    -out ca.pem -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=dc1.corp.example" -keyout key.pem -out dc.csr &&
	printf 'subjectAltName=IP:%s,DNS:dc1.corp.example\n%s\n' \
	    "$SAMBA_IP" 'extendedKeyUsage=serverAuth' >dc.ext &&
	openssl x509 -req -in dc.csr -CA ca.pem -CAkey ca-key.pem \
	    -CAcreateserial -days 2 -extfile dc.ext -out cert.pem &&
	chmod 600 key.pem
	) >/dev/null 2>&1
}

samba_tool() { "$SAMBA_TOOL" "$@" -s "$SAMBA_CONF"; }

samba_search() {
	LDAPTLS_CACERT=$SAMBA_CA ldapsearch -LLL -o ldif-wrap=no \
	    -x -H "$SAMBA_URI" -D "Administrator@corp.example" \
	    -y "$SAMBA_DIR/admin.pw1" "$@"
}

samba_modify() {
	LDAPTLS_CACERT=$SAMBA_CA ldapmodify -x -H "$SAMBA_URI" \
	    -D "Administrator@corp.example" -y "$SAMBA_DIR/admin.pw1"
}

samba_start() {
	SAMBA_URI=ldaps://$SAMBA_IP
	# ldapsearch -y takes the whole file: the password without newline
	(umask 077; head -n 1 "$SAMBA_ADMIN_PWFILE" | tr -d '\n' \
	    >"$SAMBA_DIR/admin.pw1") || return 1
	"$SAMBA" -F --debug-stdout -M single -s "$SAMBA_CONF" \
	    >"$SAMBA_DIR/samba.log" 2>&1 &
	SAMBA_PID=$!
	ss_end=$(($(date +%s) + 10))
	while [ "$(date +%s)" -lt "$ss_end" ]; do
		samba_search -b "$SAMBA_BASE" -s base dn >/dev/null 2>&1 &&
		    return 0
		kill -0 "$SAMBA_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

samba_stop() {
	[ -n "$SAMBA_PID" ] || return 0
	kill "$SAMBA_PID" 2>/dev/null
	st_end=$(($(date +%s) + 10))
	while kill -0 "$SAMBA_PID" 2>/dev/null &&
	    [ "$(date +%s)" -lt "$st_end" ]; do
		sleep 0.05
	done
	kill -KILL "$SAMBA_PID" 2>/dev/null
	wait "$SAMBA_PID" 2>/dev/null
	SAMBA_PID=
}

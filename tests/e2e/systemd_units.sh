#!/bin/sh
# SPDX-License-Identifier: ISC
# The systemd units: the hardening settings the appliance promises, kept
# consistent with the daemon, tmpfiles.d, sysusers.d and the default
# configuration; `systemd-analyze security --offline` exposure held at or
# below 0.5 (--threshold, so a regression fails; the YubiKey-seal drop-in at
# or below 0.6); `systemd-analyze verify` on a temporary root; and the
# daemon itself under socket activation (systemd-socket-activate hands it
# the listening socket, the daemon answers on it and says READY=1 to
# NOTIFY_SOCKET, as Type=notify needs).  Nothing is installed on this
# machine; every check runs in a temporary directory.
set -u
BUILD=${BUILD:-build}
SVC=systemd/tapgated.service
SOCK=systemd/tapgated.socket
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-units.XXXXXX")
chmod 755 "$T"
DPID=
NPID=
cleanup() {
	[ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null
	[ -n "$NPID" ] && kill -KILL "$NPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0
ok() { echo "ok $1"; }
notok() {
	echo "not ok $1"; shift; fails=$((fails + 1))
	[ $# -gt 0 ] && echo "#   $*"
	return 0
}
have() { command -v "$1" >/dev/null 2>&1; }
# skip WHY NAME...: a counted skip of each check, with the reason
skip() {
	why=$1; shift
	for n in "$@"; do echo "ok $n # SKIP $why"; done
}
# none NAME FINDINGS: ok when there are none
none() {
	if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi
}
# open_items FILE: the rows of a security report that carry an exposure
# (the marks in front of them depend on the locale, the number does not)
open_items() {
	grep -E '=.*[[:space:]][0-9]+\.[0-9][[:space:]]*$' "$1" | grep -v Overall
}

# ---- static: the settings the appliance promises (always runs)
missing=""
for kv in 'Type=notify' 'User=tapgate' 'Group=tapgate' \
    'CapabilityBoundingSet=' 'AmbientCapabilities=' 'NoNewPrivileges=yes' \
    'ProtectSystem=strict' 'ReadWritePaths=/var/lib/tapgate /var/backups/tapgate' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateMounts=yes' \
    'PrivateNetwork=yes' 'RestrictAddressFamilies=AF_UNIX' \
    'IPAddressDeny=any' 'DevicePolicy=closed' 'DeviceAllow=char-hidraw rw' \
    'DeviceAllow=char-usb_device rw' \
    'SystemCallFilter=@system-service seccomp landlock_create_ruleset' \
    'SystemCallFilter=landlock_add_rule landlock_restrict_self' \
    'SystemCallFilter=~@privileged @resources' \
    'SystemCallArchitectures=native' 'MemoryDenyWriteExecute=yes' \
    'LockPersonality=yes' 'RestrictRealtime=yes' 'RestrictNamespaces=yes' \
    'RestrictSUIDSGID=yes' 'ProtectKernelTunables=yes' \
    'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' \
    'ProtectControlGroups=yes' 'ProtectClock=yes' 'ProtectHostname=yes' \
    'ProtectProc=invisible' 'ProcSubset=pid' 'UMask=0077' 'LimitAS=1G' \
    'LimitCORE=0' 'KeyringMode=private' 'RemoveIPC=yes' 'PrivateIPC=yes' \
    'Requires=tapgated.socket'; do
	grep -qxF "$kv" "$SVC" || missing="$missing missing [$kv]"
done
none units_service_hardening_settings "$missing"

# Each of these keys once: a second line would add to or override the
# first one silently.
dups=$(grep -oE '^(User|Group|ProtectSystem|PrivateNetwork|NoNewPrivileges|RestrictAddressFamilies|DevicePolicy|CapabilityBoundingSet|AmbientCapabilities|UMask|LimitAS|ExecStart)=' \
    "$SVC" | sort | uniq -d)
none units_service_no_repeated_keys "$dups"

# A user namespace would turn every caller's SO_PEERCRED into 65534 and
# break the role mapping; a private /dev would hide hot-plugged keys.
if grep -qE '^(PrivateUsers|PrivateDevices|DynamicUser)=(yes|true|1|on)' \
    "$SVC"; then
	notok units_no_userns_no_private_dev "see tapgated(8), SANDBOX"
else
	ok units_no_userns_no_private_dev
fi

missing=""
for kv in 'ListenStream=/run/tapgate/tapgate.sock' 'SocketMode=0660' \
    'SocketGroup=tapgate' 'SocketUser=root'; do
	grep -qxF "$kv" "$SOCK" || missing="$missing missing [$kv]"
done
none units_socket_settings "$missing"
if grep -qE '^Accept=(yes|true|1)' "$SOCK"; then
	notok units_socket_not_accept "the daemon serves one listening socket"
else
	ok units_socket_not_accept
fi

# The daemon keeps its promises to the units: it takes the socket systemd
# passes and reports readiness (Type=notify would hang otherwise).
if grep -q 'sd_listen_fds' src/daemon/listen.c &&
    grep -q 'sd_notify(0, "READY=1")' src/daemon/main.c; then
	ok units_daemon_source_socket_activation_and_notify
else
	notok units_daemon_source_socket_activation_and_notify \
	    "src/daemon no longer calls sd_listen_fds or sd_notify READY=1"
fi

# The units, tmpfiles.d, sysusers.d and the default configuration agree on
# the user, the state directory and the socket.
if grep -qE '^u[[:space:]]+tapgate[[:space:]]' systemd/tapgate.sysusers &&
    grep -qE '^d[[:space:]]+/var/lib/tapgate[[:space:]]+0700[[:space:]]+tapgate[[:space:]]+tapgate' \
    systemd/tapgate.tmpfiles &&
    grep -qE '^d[[:space:]]+/run/tapgate[[:space:]]' systemd/tapgate.tmpfiles &&
    grep -qE '^[[:space:]]*state_dir = "/var/lib/tapgate";' config/tapgate.conf &&
    grep -qE '^[[:space:]]*socket = "/run/tapgate/tapgate.sock";' \
    config/tapgate.conf; then
	ok units_agree_with_tmpfiles_sysusers_config
else
	notok units_agree_with_tmpfiles_sysusers_config \
	    "user, /var/lib/tapgate or /run/tapgate/tapgate.sock differ"
fi

# The directory process's own units: one process per connection of the
# daemon's user, tapgated's binary in the directory role on fd 3, the
# network to an allow list only, and no AF_UNIX socket of its own.
DSVC='systemd/tapgated-directory@.service'
DSOCK=systemd/tapgated-directory.socket
missing=""
for kv in 'ExecStart=/usr/sbin/tapgated --directory-process 3' \
    'User=tapgate' 'Group=tapgate' 'NoNewPrivileges=yes' \
    'CapabilityBoundingSet=' 'PrivateDevices=yes' 'PrivateUsers=yes' \
    'ProtectSystem=strict' 'RestrictAddressFamilies=AF_INET AF_INET6' \
    'IPAddressDeny=any' 'MemoryDenyWriteExecute=yes' \
    'SystemCallFilter=~@privileged @resources'; do
	grep -qxF "$kv" "$DSVC" || missing="$missing missing [$kv] in $DSVC"
done
grep -qE '^IPAddressAllow=[0-9a-fA-F.:/]+$' "$DSVC" ||
    missing="$missing no IPAddressAllow= of addresses"
grep -qE '^(PrivateNetwork=yes|IPAddressAllow=any)' "$DSVC" &&
    missing="$missing the network closed, or open to all"
for kv in 'ListenStream=/run/tapgate/directory.sock' 'Accept=yes' \
    'SocketUser=tapgate' 'SocketMode=0600'; do
	grep -qxF "$kv" "$DSOCK" || missing="$missing missing [$kv] in $DSOCK"
done
none units_directory_unit_settings "$missing"

# ---- a temporary root with the units and the daemon at its ExecStart path
R=$T/root
U=$R/usr/lib/systemd/system
mkdir -p "$U" "$R/usr/sbin" "$R/etc/systemd/system" "$R/etc/tapgate"
cp "$SVC" "$SOCK" "$DSVC" "$DSOCK" "$U/"
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$SVC")
if [ -x "$BUILD/tapgated" ]; then
	cp "$BUILD/tapgated" "$R$exe"
else
	echo "# $BUILD/tapgated not built: a stub stands at $exe for verify"
	printf '#!/bin/sh\nexit 0\n' >"$R$exe"
	chmod 755 "$R$exe"
fi
cp config/tapgate.conf "$R/etc/tapgate/tapgate.conf"

# ---- systemd-analyze security: the exposure score, held by --threshold
# (0..100 internally, printed as 0.0..10.0: 5 is 0.5).
if have systemd-analyze &&
    systemd-analyze security --help 2>/dev/null | grep -q -- '--offline' &&
    systemd-analyze security --help 2>/dev/null | grep -q -- '--threshold'
then
	systemd-analyze security --offline=yes --root="$R" tapgated.service \
	    >"$T/sec.out" 2>&1
	score=$(sed -n 's/.*Overall exposure level for tapgated.service: \([0-9.]*\).*/\1/p' \
	    "$T/sec.out")
	echo "# systemd-analyze security --offline: exposure ${score:-?}" \
	    "(target <= 0.5); open:"
	open_items "$T/sec.out" | sed -E 's/^[^A-Za-z]*([^ ]*).*[[:space:]]([0-9.]+)[[:space:]]*$/#   \1 \2/'
	if systemd-analyze security --offline=yes --root="$R" --threshold=5 \
	    tapgated.service >/dev/null 2>&1 && [ -n "$score" ]; then
		ok units_security_exposure_at_most_0.5
	else
		notok units_security_exposure_at_most_0.5 "exposure ${score:-?}"
	fi
	# the YubiKey seal's drop-in adds AF_NETLINK and nothing else
	D=$R/etc/systemd/system/tapgated.service.d
	mkdir -p "$D"
	cp systemd/yubikey-seal.conf "$D/"
	systemd-analyze security --offline=yes --root="$R" tapgated.service \
	    >"$T/sec-yk.out" 2>&1
	yk=$(sed -n 's/.*Overall exposure level for tapgated.service: \([0-9.]*\).*/\1/p' \
	    "$T/sec-yk.out")
	echo "# with yubikey-seal.conf: exposure ${yk:-?} (target <= 0.6)"
	if systemd-analyze security --offline=yes --root="$R" --threshold=6 \
	    tapgated.service >/dev/null 2>&1 && [ -n "$yk" ] &&
	    [ "$(open_items "$T/sec-yk.out" | wc -l)" -eq \
	    "$(($(open_items "$T/sec.out" | wc -l) + 1))" ] &&
	    open_items "$T/sec-yk.out" | grep -q 'RestrictAddressFamilies=~AF_NETLINK'
	then
		ok units_security_yubikey_dropin_only_adds_netlink
	else
		notok units_security_yubikey_dropin_only_adds_netlink \
		    "exposure ${yk:-?}"
	fi
	rm -rf "$D"
	# the directory's drop-in opens the network and nothing else: the
	# three network items are open with it, closed without (the control)
	mkdir -p "$D"
	cp systemd/directory.conf "$D/"
	systemd-analyze security --offline=yes --root="$R" tapgated.service \
	    >"$T/sec-dir.out" 2>&1
	dir=$(sed -n 's/.*Overall exposure level for tapgated.service: \([0-9.]*\).*/\1/p' \
	    "$T/sec-dir.out")
	echo "# with directory.conf: exposure ${dir:-?} (the target of 0.5" \
	    "is out of reach while the directory process runs in this unit)"
	netitems='^[^A-Za-z]*(PrivateNetwork=|RestrictAddressFamilies=~AF_\(INET\|INET6\)|IPAddressDeny=)[[:space:]]'
	if systemd-analyze security --offline=yes --root="$R" --threshold=13 \
	    tapgated.service >/dev/null 2>&1 && [ -n "$dir" ] &&
	    [ "$(open_items "$T/sec-dir.out" | wc -l)" -eq \
	    "$(($(open_items "$T/sec.out" | wc -l) + 3))" ] &&
	    [ "$(open_items "$T/sec-dir.out" | grep -cE "$netitems")" = 3 ] &&
	    [ "$(open_items "$T/sec.out" | grep -cE "$netitems")" = 0 ]
	then
		ok units_security_directory_dropin_only_opens_the_network
	else
		notok units_security_directory_dropin_only_opens_the_network \
		    "exposure ${dir:-?}"
		open_items "$T/sec-dir.out" | sed 's/^/#   /'
	fi
	rm -rf "$D"
	# the HTTPS drop-in: the same three network items and no other, and
	# binds held to its one port
	mkdir -p "$D"
	cp systemd/https.conf "$D/"
	systemd-analyze security --offline=yes --root="$R" tapgated.service \
	    >"$T/sec-https.out" 2>&1
	hs=$(sed -n 's/.*Overall exposure level for tapgated.service: \([0-9.]*\).*/\1/p' \
	    "$T/sec-https.out")
	echo "# with https.conf: exposure ${hs:-?} (0.5 without it)"
	if systemd-analyze security --offline=yes --root="$R" --threshold=13 \
	    tapgated.service >/dev/null 2>&1 && [ -n "$hs" ] &&
	    [ "$(open_items "$T/sec-https.out" | wc -l)" -eq \
	    "$(($(open_items "$T/sec.out" | wc -l) + 3))" ] &&
	    [ "$(open_items "$T/sec-https.out" | grep -cE "$netitems")" = 3 ] &&
	    grep -qxF 'SocketBindDeny=any' systemd/https.conf &&
	    [ "$(grep -c '^SocketBindAllow=tcp:[0-9]*$' systemd/https.conf)" = 1 ]
	then
		ok units_security_https_dropin_only_opens_its_listener
	else
		notok units_security_https_dropin_only_opens_its_listener \
		    "exposure ${hs:-?}"
		open_items "$T/sec-https.out" | sed 's/^/#   /'
	fi
	rm -rf "$D"
	# the directory process's own unit: the network is its only opening
	# beyond the defaults a keyless service can close (the control: the
	# same three items are closed in tapgated.service)
	systemd-analyze security --offline=yes --root="$R" \
	    tapgated-directory@0.service >"$T/sec-du.out" 2>&1
	du=$(sed -n 's/.*Overall exposure level for tapgated-directory@0.service: \([0-9.]*\).*/\1/p' \
	    "$T/sec-du.out")
	echo "# tapgated-directory@.service: exposure ${du:-?} (target <= 1.0);" \
	    "open:"
	open_items "$T/sec-du.out" | sed -E 's/^[^A-Za-z]*([^ ]*).*[[:space:]]([0-9.]+)[[:space:]]*$/#   \1 \2/'
	if systemd-analyze security --offline=yes --root="$R" --threshold=10 \
	    tapgated-directory@0.service >/dev/null 2>&1 && [ -n "$du" ] &&
	    [ "$(open_items "$T/sec-du.out" | grep -cE "$netitems")" = 3 ] &&
	    ! open_items "$T/sec-du.out" |
	    grep -qE 'PrivateDevices=|PrivateUsers=|~AF_UNIX'
	then
		ok units_security_directory_unit_at_most_1.0
	else
		notok units_security_directory_unit_at_most_1.0 \
		    "exposure ${du:-?}"
	fi
else
	skip "systemd-analyze security has no --offline/--threshold here\
 (systemd >= 250, Debian package systemd)" \
	    units_security_exposure_at_most_0.5 \
	    units_security_yubikey_dropin_only_adds_netlink \
	    units_security_directory_dropin_only_opens_the_network \
	    units_security_https_dropin_only_opens_its_listener \
	    units_security_directory_unit_at_most_1.0
fi

# The directory's drop-in: the network for IPv4 and IPv6 only, to an
# allow list on top of IPAddressDeny=any, never the whole network.
missing=""
for kv in 'PrivateNetwork=no' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'IPAddressDeny=any'; do
	grep -qxF "$kv" systemd/directory.conf || missing="$missing missing [$kv]"
done
grep -qE '^IPAddressAllow=[0-9a-fA-F.:/]+$' systemd/directory.conf ||
    missing="$missing no IPAddressAllow= of addresses"
grep -qE '^IPAddressAllow=(any|0\.0\.0\.0/0|::/0)' systemd/directory.conf &&
    missing="$missing IPAddressAllow= opens everything"
none units_directory_dropin_allows_only_listed_addresses "$missing"

# ---- systemd-analyze verify on the temporary root.  The targets the units
# depend on by default are stubs there (a real root has them); man pages
# are not looked up (--man=no).  Any output is a finding.
if have systemd-analyze &&
    systemd-analyze verify --help 2>/dev/null | grep -q -- '--root'; then
	for u in sysinit.target basic.target shutdown.target sockets.target \
	    multi-user.target; do
		printf '[Unit]\nDescription=stub %s\nDefaultDependencies=no\n' \
		    "$u" >"$R/etc/systemd/system/$u"
	done
	if systemd-analyze verify --man=no --root="$R" tapgated.service \
	    tapgated.socket tapgated-directory.socket \
	    tapgated-directory@0.service >"$T/verify.out" 2>&1 &&
	    [ ! -s "$T/verify.out" ]
	then
		ok units_systemd_analyze_verify
	else
		notok units_systemd_analyze_verify "$(head -10 "$T/verify.out")"
	fi
	D=$R/etc/systemd/system/tapgated.service.d
	mkdir -p "$D"
	cp systemd/yubikey-seal.conf "$D/"
	if systemd-analyze verify --man=no --root="$R" tapgated.service \
	    >"$T/verify-yk.out" 2>&1 && [ ! -s "$T/verify-yk.out" ]; then
		ok units_systemd_analyze_verify_yubikey_dropin
	else
		notok units_systemd_analyze_verify_yubikey_dropin \
		    "$(head -10 "$T/verify-yk.out")"
	fi
	rm -rf "$D"
	mkdir -p "$D"
	cp systemd/directory.conf "$D/"
	if systemd-analyze verify --man=no --root="$R" tapgated.service \
	    >"$T/verify-dir.out" 2>&1 && [ ! -s "$T/verify-dir.out" ]; then
		ok units_systemd_analyze_verify_directory_dropin
	else
		notok units_systemd_analyze_verify_directory_dropin \
		    "$(head -10 "$T/verify-dir.out")"
	fi
	rm -rf "$D"
	mkdir -p "$D"
	cp systemd/https.conf "$D/"
	if systemd-analyze verify --man=no --root="$R" tapgated.service \
	    >"$T/verify-https.out" 2>&1 && [ ! -s "$T/verify-https.out" ]; then
		ok units_systemd_analyze_verify_https_dropin
	else
		notok units_systemd_analyze_verify_https_dropin \
		    "$(head -10 "$T/verify-https.out")"
	fi
	rm -rf "$D"
	echo "# verify: default targets stubbed, man pages not checked"
else
	skip "systemd-analyze verify has no --root here (Debian package\
 systemd)" units_systemd_analyze_verify \
	    units_systemd_analyze_verify_yubikey_dropin \
	    units_systemd_analyze_verify_directory_dropin \
	    units_systemd_analyze_verify_https_dropin
fi

# ---- the daemon under socket activation, outside systemd
if [ ! -x "$BUILD/tapgated" ]; then
	notok units_daemon_built "$BUILD/tapgated missing: build first"
elif have systemd-socket-activate && have curl && have python3; then
	# NOTIFY_SOCKET: a datagram socket that records what the daemon says
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as out:
	while True:
		try:
			m = s.recv(4096)
		except socket.timeout:
			break
		out.write(m.decode(errors="replace") + "\n")
		out.flush()
' "$T/notify.sock" "$T/notify.log" &
	NPID=$!
	i=0
	while [ ! -S "$T/notify.sock" ] && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	systemd-socket-activate -l "$T/api.sock" \
	    -E NOTIFY_SOCKET="$T/notify.sock" \
	    -E ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
	    -E UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
	    "$BUILD/tapgated" -c config/tapgate.conf --state-dir "$T/state" \
	    --trust-roots "$PWD/build/gen/softfido-ca.pem" \
	    --socket "$T/own.sock" 2>"$T/daemon.log" &
	DPID=$!
	i=0
	while [ ! -S "$T/api.sock" ] && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	# the first connection starts the daemon (it execs in place)
	body=$(curl -s --max-time 30 --unix-socket "$T/api.sock" \
	    http://tapgated/healthz)
	if printf '%s' "$body" | grep -q '"status":"ok"' &&
	    grep -q 'listening on the socket systemd passed' "$T/daemon.log" &&
	    [ ! -e "$T/own.sock" ]; then
		ok units_daemon_serves_activated_socket
	else
		notok units_daemon_serves_activated_socket "healthz: $body"
		sed 's/^/#   /' "$T/daemon.log" | tail -10
	fi
	i=0
	while ! grep -q '^READY=1' "$T/notify.log" 2>/dev/null &&
	    [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
	if grep -q '^READY=1' "$T/notify.log" 2>/dev/null; then
		ok units_daemon_notifies_ready
	else
		notok units_daemon_notifies_ready "nothing on NOTIFY_SOCKET"
	fi
	kill -TERM "$DPID" 2>/dev/null
	i=0	# 30 s at most, then it counts as a failure to stop
	while kill -0 "$DPID" 2>/dev/null &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$DPID/status" &&
	    [ $i -lt 600 ]; do
		sleep 0.05; i=$((i + 1))
	done
	[ $i -lt 600 ] || kill -KILL "$DPID" 2>/dev/null
	wait "$DPID"
	rc=$?
	DPID=
	if [ "$rc" -eq 0 ] && ! grep -q 'Sanitizer' "$T/daemon.log" &&
	    [ -S "$T/api.sock" ]; then
		# systemd's socket outlives the daemon (RemoveOnStop is
		# systemd's business, not the daemon's)
		ok units_daemon_stops_cleanly_keeps_passed_socket
	else
		notok units_daemon_stops_cleanly_keeps_passed_socket \
		    "status $rc"
		grep -A20 'Sanitizer' "$T/daemon.log" | sed 's/^/#   /' |
		    head -40
	fi
	i=0
	while ! grep -q '^STOPPING=1' "$T/notify.log" 2>/dev/null &&
	    [ $i -lt 40 ]; do
		sleep 0.05; i=$((i + 1))
	done
	if grep -q '^STOPPING=1' "$T/notify.log" 2>/dev/null; then
		ok units_daemon_notifies_stopping
	else
		notok units_daemon_notifies_stopping "no STOPPING=1"
	fi
else
	skip "socket activation needs systemd-socket-activate, curl and\
 python3 (Debian packages systemd, curl, python3)" \
	    units_daemon_serves_activated_socket units_daemon_notifies_ready \
	    units_daemon_stops_cleanly_keeps_passed_socket \
	    units_daemon_notifies_stopping
fi

[ "$fails" -eq 0 ]

#!/bin/sh
# SPDX-License-Identifier: ISC
# udev/70-tapgate.rules: syntax and matching.
#
#  1. A lint that runs everywhere: every rule line parses as comma-separated
#     KEY[{attr}] OP "value" pairs with a known key and an operator that key
#     accepts; every GOTO has its LABEL; and the policy holds (GROUP only
#     "tapgate" with MODE "0660", seat access cleared, no uaccess tag, no
#     RUN, no OWNER).  It is first shown to reject broken rules.
#  2. `udevadm verify`, where udevadm has it (systemd >= 253; Debian 12's
#     udevadm 252 has not).
#  3. Where a private mount namespace can be made (root, or an unprivileged
#     user namespace): `udevadm test` with the stock rules plus ours on
#     simulated devices - a fake sysfs with a YubiKey (USB device, FIDO and
#     OTP hidraw nodes), a Nitrokey FIDO2 key and a keyboard, their HID
#     report descriptors read by the stock fido_id - and tmpfs over /dev
#     and /run, so nothing on this machine is touched.  Checked: which
#     nodes get group tapgate and mode 0660, that the stock rules would
#     grant seat access (uaccess) and ours take it away, and that udevadm
#     reports nothing about our file.
#
# Seat access for a YubiKey's USB device and OTP node comes from
# 69-yubikey.rules, which Debian ships in libyubikey-udev, a package that
# libykpers-1-1 only recommends (make deps installs without recommends).
# Where it is missing, its one rule, as that package ships it, stands in
# (said so in a comment line), so that the checks that ours clear what it
# sets can fail.  Every check the machine cannot run prints a counted
# "ok NAME # SKIP reason".
set -u
RULES=udev/70-tapgate.rules

# ---- inside the private mount namespace (re-entered by the outer test)
if [ "${1:-}" = --in-namespace ]; then
	set -eu
	T=$2
	shift 2
	# Everything udevadm test writes (device node permissions, /dev/char
	# links, /run/udev/data) must land in these tmpfs, and it must read
	# our sysfs: check each mount before running it.
	: >"$T/devnull"
	mount --bind /dev/null "$T/devnull"
	mount -t tmpfs -o mode=0755 tapgate-test /run
	mount -t tmpfs -o mode=0755 tapgate-test /dev
	: >/dev/null
	mount --bind "$T/devnull" /dev/null
	mount --bind "$T/sys" /sys
	mount --bind "$T/group" /etc/group
	mount --bind "$T/rules.d" /etc/udev/rules.d
	[ -f /sys/.tapgate-fake-sysfs ] && [ -f /etc/udev/rules.d/.tapgate-test ] &&
	    grep -q ' /dev tmpfs ' /proc/self/mounts &&
	    grep -q ' /run tmpfs ' /proc/self/mounts || exit 3
	if [ -n "${MKNOD:-}" ]; then
		# real nodes show the final permissions udev would set
		mkdir -p /dev/bus/usb/001
		while read -r node maj min; do
			mknod "$node" c "$maj" "$min" 2>/dev/null || exit 4
		done <"$T/nodes"
	fi
	rm -f /etc/udev/rules.d/70-tapgate.rules
	[ "${WITH_OURS:-1}" = 1 ] && cp "$T/ours.rules" \
	    /etc/udev/rules.d/70-tapgate.rules
	for p in "$@"; do
		SYSTEMD_DEVICE_VERIFY_SYSFS=0 udevadm test --action=add "$p" \
		    >"$T/out/${OUTPFX:-}$(basename "$p")" 2>&1 || true
	done
	exit 0
fi

BUILD=${BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-udev.XXXXXX")
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

fails=0
ok() { echo "ok $1"; }
notok() {
	echo "not ok $1"; shift; fails=$((fails + 1))
	[ $# -gt 0 ] && echo "#   $*"
	return 0
}
# skip WHY NAME...: a counted skip of each check, with the reason
skip() {
	why=$1; shift
	for n in "$@"; do echo "ok $n # SKIP $why"; done
}
have() { command -v "$1" >/dev/null 2>&1; }
# the simulation's checks, skipped together where it cannot run
SIM_CHECKS="udev_sim_rules_parse_cleanly
udev_sim_stock_rules_grant_seat_access_to_the_yubikey_usb_device
udev_sim_stock_rules_grant_seat_access_to_the_yubikey_otp_hidraw
udev_sim_yubikey_usb_device_tapgate_0660_no_seat
udev_sim_yubikey_otp_hidraw_stays_root_no_seat
udev_sim_other_vendor_usb_device_untouched udev_sim_keyboard_hidraw_untouched
udev_sim_fido_key_hidraw1_tapgate_0660_no_seat
udev_sim_fido_key_hidraw2_tapgate_0660_no_seat
udev_sim_stock_fido_id_recognises_keys"
# shellcheck disable=SC2086
sim_skipped() { skip "$1" $SIM_CHECKS; [ "$fails" -eq 0 ]; exit; }

# ---- 1. lint
# lint FILE: prints one line per problem, exits non-zero if any.
lint() {
	awk -v F="$1" '
	function fail(m) { printf "%s:%d: %s\n", F, start, m; bad = 1 }
	BEGIN {
		split("ACTION DEVPATH KERNEL KERNELS SUBSYSTEM SUBSYSTEMS " \
		    "DRIVERS ATTRS TAGS TEST PROGRAM RESULT CONST", a, " ")
		for (i in a) kind[a[i]] = "match"
		split("OWNER GROUP MODE SECLABEL RUN LABEL GOTO OPTIONS " \
		    "IMPORT", a, " ")
		for (i in a) kind[a[i]] = "assign"
		split("NAME SYMLINK ENV TAG ATTR SYSCTL DRIVER", a, " ")
		for (i in a) kind[a[i]] = "both"
		split("ATTR ATTRS ENV IMPORT SYSCTL SECLABEL CONST", a, " ")
		for (i in a) needattr[a[i]] = 1
	}
	{
		start = NR
		line = $0
		while (line ~ /\\$/) {
			sub(/\\$/, "", line)
			if ((getline more) <= 0)
				break
			line = line more
		}
		sub(/^[ \t]+/, "", line)
		sub(/[ \t]+$/, "", line)
		if (line == "" || line ~ /^#/)
			next
		nm = 0; na = 0; grp = ""; mode = ""; clears = 0; label = ""
		rest = line
		while (rest != "") {
			if (!match(rest, /^[A-Z_]+/)) {
				fail("expected KEY at: " rest); next
			}
			key = substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
			attr = ""
			if (substr(rest, 1, 1) == "{") {
				if (!match(rest, /^\{[^{}"]+\}/)) {
					fail("bad {attribute} after " key); next
				}
				attr = substr(rest, 2, RLENGTH - 2)
				rest = substr(rest, RLENGTH + 1)
			}
			sub(/^[ \t]*/, "", rest)
			if (!match(rest, /^(==|!=|\+=|-=|:=|=)/)) {
				fail("expected operator after " key); next
			}
			op = substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
			sub(/^[ \t]*/, "", rest)
			if (!match(rest, /^"([^"\\]|\\.)*"/)) {
				fail("expected \"value\" after " key op); next
			}
			val = substr(rest, 2, RLENGTH - 2)
			rest = substr(rest, RLENGTH + 1)
			if (!(key in kind)) {
				fail("unknown key " key); next
			}
			if ((key in needattr) && attr == "")
				fail(key " needs {attribute}")
			ismatch = (op == "==" || op == "!=")
			if (kind[key] == "match" && !ismatch)
				fail(key " only matches (== or !=), not " op)
			if (kind[key] == "assign" && ismatch)
				fail(key " only assigns, not " op)
			if (ismatch) nm++; else na++
			if (key == "GROUP") grp = val
			if (key == "MODE") mode = val
			if (key == "ENV" && attr == "ID_SECURITY_TOKEN" &&
			    op == "=" && val == "") clears = 1
			if (key == "LABEL") { label = val; labels[val] = NR }
			if (key == "GOTO") gotos[val] = start
			if (key == "TAG" && val ~ /uaccess/ && op != "-=")
				fail("seat access (uaccess) is not for the appliance")
			if (key == "RUN") fail("no program runs on plug-in")
			if (key == "OWNER") fail("nodes stay root-owned")
			if (key == "MODE" && val !~ /^0[0-7][0-7]0$/)
				fail("MODE " val ": octal, no rights for others")
			sub(/^[ \t]*/, "", rest)
			if (rest == "")
				break
			if (substr(rest, 1, 1) != ",") {
				fail("expected , between pairs at: " rest); next
			}
			rest = substr(rest, 2)
			sub(/^[ \t]*/, "", rest)
			if (rest == "") fail("trailing comma")
		}
		if (label == "" && na == 0)
			fail("a rule that assigns nothing")
		if (grp != "") {
			if (grp != "tapgate") fail("GROUP " grp ", not tapgate")
			if (mode != "0660") fail("GROUP without MODE=\"0660\"")
			if (!clears) fail("GROUP without ENV{ID_SECURITY_TOKEN}=\"\"")
			if (nm == 0) fail("GROUP for every device")
		}
		rules++
	}
	END {
		for (g in gotos)
			if (!(g in labels) || labels[g] < gotos[g]) {
				start = gotos[g]; fail("GOTO " g " without a LABEL after it")
			}
		if (rules == 0) { start = 0; fail("no rules") }
		exit bad
	}' "$1"
}

cat >"$T/bad.rules" <<'EOF'
SUBSYSTEM="hidraw", GROUP=="tapgate"
KERNEL=="hidraw*" MODE="0660"
ATTRS{idVendor}=="1050", GROUP="plugdev", MODE="0666"
ENV{ID_FIDO_TOKEN}=="1", TAG+="uaccess"
FOO=="bar", GOTO="nowhere"
EOF
lint "$T/bad.rules" >"$T/bad.out" 2>&1
nbad=$(wc -l <"$T/bad.out")
if [ "$nbad" -ge 8 ] && grep -q 'only matches' "$T/bad.out" &&
    grep -q 'only assigns' "$T/bad.out" &&
    grep -q 'expected , between' "$T/bad.out" &&
    grep -q 'GROUP plugdev' "$T/bad.out" && grep -q 'MODE 0666' "$T/bad.out" &&
    grep -q 'uaccess' "$T/bad.out" && grep -q 'unknown key FOO' "$T/bad.out"
then
	ok udev_lint_rejects_broken_rules
else
	notok udev_lint_rejects_broken_rules "found only:"
	sed 's/^/#   /' "$T/bad.out"
fi
if lint "$RULES" >"$T/lint.out" 2>&1; then
	ok udev_rules_lint
	echo "# lint: KEY[{attr}] OP \"value\" pairs, known keys and their" \
	    "operators, GOTO/LABEL, GROUP=tapgate MODE=0660, seat access" \
	    "cleared, no uaccess, RUN or OWNER"
else
	notok udev_rules_lint "$(cat "$T/lint.out")"
fi

# ---- 2. udevadm verify (systemd >= 253)
if have udevadm && udevadm verify --help >/dev/null 2>&1; then
	if udevadm verify --resolve-names=never "$RULES" >"$T/verify.out" 2>&1
	then
		ok udev_udevadm_verify
	else
		notok udev_udevadm_verify "$(head -5 "$T/verify.out")"
	fi
else
	skip "udevadm $(udevadm --version 2>/dev/null) has no verify\
 (systemd >= 253)" udev_udevadm_verify
fi

# ---- 3. simulation: stock rules plus ours on a fake sysfs
if ! have udevadm || ! have unshare; then
	sim_skipped "udevadm or unshare missing (Debian packages udev,\
 util-linux)"
fi
if [ "$(id -u)" -eq 0 ] && unshare --mount --propagation private true \
    2>/dev/null; then
	NS="unshare --mount --propagation private"
	MKNOD=1
elif unshare --user --map-root-user --mount --propagation private true \
    2>/dev/null; then
	NS="unshare --user --map-root-user --mount --propagation private"
	MKNOD=
else
	sim_skipped "no private mount namespace here (neither root nor an\
 unprivileged user namespace)"
fi

S=$T/sys
U=$S/devices/pci0000:00/0000:00:14.0/usb1
mkdir -p "$S/bus/usb" "$S/bus/hid" "$S/class/hidraw" "$U" "$T/out" \
    "$T/rules.d"
: >"$S/.tapgate-fake-sysfs"
: >"$T/rules.d/.tapgate-test"
: >"$T/nodes"
# hex "HH HH ...": those bytes (printf's octal escapes are portable)
hex() {
	for b in $1; do
		# shellcheck disable=SC2059
		printf "\\$(printf %03o "0x$b")"
	done
}
# HID report descriptors: a FIDO one (usage page 0xF1D0, CTAPHID) and a
# keyboard's
FIDO_DESC="06 d0 f1 09 01 a1 01 09 20 15 00 26 ff 00 75 08 95 40 81 02 09 21 15 00 26 ff 00 75 08 95 40 91 02 c0"
KBD_DESC="05 01 09 06 a1 01 05 07 19 e0 29 e7 15 00 25 01 75 01 95 08 81 02 c0"
usbdev() {	# port vid pid devnum
	d=$U/$1
	mkdir -p "$d"
	ln -s /sys/bus/usb "$d/subsystem"
	echo "$2" >"$d/idVendor"
	echo "$3" >"$d/idProduct"
	printf 'MAJOR=189\nMINOR=%d\nDEVNAME=bus/usb/001/%03d\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=%s/%s/100\nTYPE=0/0/0\nBUSNUM=001\nDEVNUM=%03d\n' \
	    $(($4 - 1)) "$4" "$2" "$3" "$4" >"$d/uevent"
	printf '/dev/bus/usb/001/%03d 189 %d\n' "$4" $(($4 - 1)) >>"$T/nodes"
}
hidraw() {	# port interface hid-seq minor vid pid descriptor
	i=$U/$1/$1:1.$2
	mkdir -p "$i"
	ln -s /sys/bus/usb "$i/subsystem"
	printf 'DEVTYPE=usb_interface\nINTERFACE=3/0/0\nPRODUCT=%s/%s/100\n' \
	    "$5" "$6" >"$i/uevent"
	h=$i/0003:$(echo "$5" | tr a-f A-F):$(echo "$6" | tr a-f A-F).$3
	mkdir -p "$h"
	ln -s /sys/bus/hid "$h/subsystem"
	printf 'HID_ID=0003:0000%s:0000%s\nHID_NAME=test key\n' "$5" "$6" \
	    >"$h/uevent"
	hex "$7" >"$h/report_descriptor"
	r=$h/hidraw/hidraw$4
	mkdir -p "$r"
	ln -s /sys/class/hidraw "$r/subsystem"
	printf 'MAJOR=245\nMINOR=%d\nDEVNAME=hidraw%d\n' "$4" "$4" >"$r/uevent"
	printf '/dev/hidraw%d 245 %d\n' "$4" "$4" >>"$T/nodes"
}
# A YubiKey 5 (OTP keyboard on interface 0, FIDO on 1), a Nitrokey FIDO2,
# and a keyboard
usbdev 1-2 1050 0407 2
hidraw 1-2 0 0001 0 1050 0407 "$KBD_DESC"
hidraw 1-2 1 0002 1 1050 0407 "$FIDO_DESC"
usbdev 1-3 20a0 42b1 3
hidraw 1-3 0 0003 2 20a0 42b1 "$FIDO_DESC"
usbdev 1-4 046d c31c 4
hidraw 1-4 0 0004 3 046d c31c "$KBD_DESC"
P=/sys/devices/pci0000:00/0000:00:14.0/usb1
YK_USB=$P/1-2
YK_OTP=$P/1-2/1-2:1.0/0003:1050:0407.0001/hidraw/hidraw0
YK_FIDO=$P/1-2/1-2:1.1/0003:1050:0407.0002/hidraw/hidraw1
NK_FIDO=$P/1-3/1-3:1.0/0003:20A0:42B1.0003/hidraw/hidraw2
NK_USB=$P/1-3
KBD=$P/1-4/1-4:1.0/0003:046D:C31C.0004/hidraw/hidraw3

# group tapgate exists inside the namespace only
cp /etc/group "$T/group"
if ! grep -q '^tapgate:' "$T/group"; then
	g=4242
	while cut -d: -f3 "$T/group" | grep -qx "$g"; do g=$((g + 1)); done
	echo "tapgate:x:$g:" >>"$T/group"
fi
GID=$(sed -n 's/^tapgate:[^:]*:\([0-9]*\):.*/\1/p' "$T/group")

# udevadm test cannot hand fido_id the event it expects (no SEQNUM), so a
# test-only 60-fido-id.rules runs the same stock fido_id on the device's
# sysfs path; the stock 60-fido-id.rules is otherwise identical.
FIDO_ID=
for d in /usr/lib/udev /lib/udev; do
	[ -x "$d/fido_id" ] && FIDO_ID=$d/fido_id && break
done
printf 'ENV{SYSTEMD_DEVICE_VERIFY_SYSFS}="0"\n' >"$T/rules.d/00-tapgate-test.rules"
if [ -n "$FIDO_ID" ]; then
	cat >"$T/rules.d/60-fido-id.rules" <<'EOF'
ACTION=="remove", GOTO="fido_id_end"
SUBSYSTEM=="hidraw", IMPORT{program}="fido_id $sys$devpath"
ENV{ID_SECURITY_TOKEN}=="1", TAG+="security-device"
LABEL="fido_id_end"
EOF
else
	echo "# fido_id (udev >= 244) missing: FIDO keys not recognised"
fi
cp "$RULES" "$T/ours.rules"

# 69-yubikey.rules of libyubikey-udev 1.20.0-3, where it is not installed
YKRULES=
for d in /usr/local/lib/udev/rules.d /usr/lib/udev/rules.d /lib/udev/rules.d
do
	[ -f "$d/69-yubikey.rules" ] && YKRULES=$d/69-yubikey.rules && break
done
if [ -z "$YKRULES" ]; then
	echo "# 69-yubikey.rules (Debian libyubikey-udev) is not installed:" \
	    "its rule, as that package ships it, stands in"
	cat >"$T/rules.d/69-yubikey.rules" <<'EOF'
ACTION!="add|change", GOTO="yubico_end"

# Udev rules for letting the console user access the Yubikey USB
# device node, needed for challenge/response to work correctly.

# Yubico Yubikey II
ATTRS{idVendor}=="1050", ATTRS{idProduct}=="0010|0110|0111|0114|0116|0401|0403|0405|0407|0410", \
    ENV{ID_SECURITY_TOKEN}="1"

LABEL="yubico_end"
EOF
fi
# seat access is 70-uaccess.rules' (udev): without it there is none to
# take away, and the checks that the stock rules grant it cannot run
UACCESS=
for d in /usr/local/lib/udev/rules.d /usr/lib/udev/rules.d /lib/udev/rules.d
do
	[ -f "$d/70-uaccess.rules" ] && UACCESS=$d/70-uaccess.rules && break
done

ns_run() {	# with-ours(0|1) output-prefix syspath...
	w=$1 pfx=$2
	shift 2
	WITH_OURS=$w OUTPFX=$pfx MKNOD=$MKNOD $NS sh "$0" --in-namespace "$T" "$@" \
	    >"$T/ns.log" 2>&1
}
if ! ns_run 1 "" "$YK_USB" "$YK_OTP" "$YK_FIDO" "$NK_FIDO" "$NK_USB" "$KBD"
then
	st=$?
	sed 's/^/#   /' "$T/ns.log" | head -5
	sim_skipped "the private namespace could not be set up here (status\
 $st: 3 a mount, 4 a device node)"
fi
ns_run 0 stock- "$YK_USB" "$YK_OTP" "$YK_FIDO" || true
if [ -n "$MKNOD" ]; then
	echo "# simulated in a private mount namespace; permissions as set on" \
	    "device nodes in a tmpfs /dev"
else
	echo "# simulated in an unprivileged user namespace; permissions from" \
	    "udev's rule trace (no device nodes)"
fi

out() { cat "$T/out/$1"; }
# prop DEVICE KEY: the value of a property udevadm test printed
prop() { sed -n "s/^$2=//p" "$T/out/$1" | tail -1; }
# perm DEVICE: "GID MODE" the node ends up with: from the permissions udev
# set on the node, or, without nodes, from our rules' trace ("-" if our
# rules did not set it)
perm() {
	if [ -n "$MKNOD" ]; then
		sed -n 's/.* permissions \(of \)\{0,1\}[^,]*, uid=[0-9]*, gid=\([0-9]*\), mode=\(0[0-7]*\).*/\2 \3/p' \
		    "$T/out/$1" | tail -1
	else
		g=$(sed -n 's/.*70-tapgate.rules:[0-9]* GROUP \([0-9]*\).*/\1/p' \
		    "$T/out/$1" | tail -1)
		m=$(sed -n 's/.*70-tapgate.rules:[0-9]* MODE \(0[0-7]*\).*/\1/p' \
		    "$T/out/$1" | tail -1)
		echo "${g:--} ${m:--}"
	fi
}
# not_tapgate DEVICE: the node is not group tapgate's
not_tapgate() { p=$(perm "$1"); [ -n "$p" ] && [ "${p%% *}" != "$GID" ]; }
no_seat() {	# DEVICE: no uaccess tag, no security-token property
	! prop "$1" TAGS | grep -q uaccess &&
	    ! prop "$1" CURRENT_TAGS | grep -q uaccess &&
	    [ -z "$(prop "$1" ID_SECURITY_TOKEN)" ]
}

for d in 1-2 hidraw0 hidraw1 hidraw2 1-3 hidraw3; do
	if ! grep -q '^DEVPATH=' "$T/out/$d" 2>/dev/null; then
		notok udev_sim_ran "udevadm test $d:"
		tail -5 "$T/out/$d" 2>/dev/null | sed 's/^/#   /'
	fi
done
# udevadm names problems in a rules file as FILE:LINE at the start of a line
if grep -h '^/etc/udev/rules.d/70-tapgate.rules' "$T"/out/* | sort -u \
    >"$T/parse.out" && [ -s "$T/parse.out" ]; then
	notok udev_sim_rules_parse_cleanly "$(head -5 "$T/parse.out")"
else
	ok udev_sim_rules_parse_cleanly
fi

# the stock rules alone hand security keys to the console's user: the
# control for the "no seat" checks below
stock_seat() {	# name device
	if [ -z "$UACCESS" ]; then
		skip "no 70-uaccess.rules here: nothing grants seat access" "$1"
	elif prop "stock-$2" TAGS | grep -q uaccess &&
	    [ "$(prop "stock-$2" ID_SECURITY_TOKEN)" = 1 ]; then
		ok "$1"
	else
		notok "$1" "TAGS=$(prop "stock-$2" TAGS)" \
		    "ID_SECURITY_TOKEN=$(prop "stock-$2" ID_SECURITY_TOKEN)" \
		    "with ${YKRULES:-the stand-in 69-yubikey.rules}" \
		    "and $UACCESS"
		grep -E '(69-yubikey|70-uaccess)\.rules' "$T/out/stock-$2" |
		    head -5 | sed 's/^/#   /'
	fi
}
stock_seat udev_sim_stock_rules_grant_seat_access_to_the_yubikey_usb_device \
    1-2
stock_seat udev_sim_stock_rules_grant_seat_access_to_the_yubikey_otp_hidraw \
    hidraw0

if [ "$(perm 1-2)" = "$GID 0660" ] && no_seat 1-2; then
	ok udev_sim_yubikey_usb_device_tapgate_0660_no_seat
else
	notok udev_sim_yubikey_usb_device_tapgate_0660_no_seat \
	    "perm '$(perm 1-2)' TAGS=$(prop 1-2 TAGS)"
fi
if not_tapgate hidraw0 && no_seat hidraw0; then
	ok udev_sim_yubikey_otp_hidraw_stays_root_no_seat
else
	notok udev_sim_yubikey_otp_hidraw_stays_root_no_seat \
	    "perm '$(perm hidraw0)' TAGS=$(prop hidraw0 TAGS)"
fi
if not_tapgate 1-3; then
	ok udev_sim_other_vendor_usb_device_untouched
else
	notok udev_sim_other_vendor_usb_device_untouched "perm '$(perm 1-3)'"
fi
if not_tapgate hidraw3 && [ -z "$(prop hidraw3 ID_FIDO_TOKEN)" ]; then
	ok udev_sim_keyboard_hidraw_untouched
else
	notok udev_sim_keyboard_hidraw_untouched "perm '$(perm hidraw3)'"
fi
if [ -z "$FIDO_ID" ]; then
	skip "no fido_id (udev >= 244): FIDO keys are not recognised" \
	    udev_sim_fido_key_hidraw1_tapgate_0660_no_seat \
	    udev_sim_fido_key_hidraw2_tapgate_0660_no_seat \
	    udev_sim_stock_fido_id_recognises_keys
else
	for d in hidraw1 hidraw2; do
		n=udev_sim_fido_key_${d}_tapgate_0660_no_seat
		if [ "$(prop "$d" ID_FIDO_TOKEN)" = 1 ] &&
		    [ "$(perm "$d")" = "$GID 0660" ] && no_seat "$d"
		then
			ok "$n"
		else
			notok "$n" "ID_FIDO_TOKEN=$(prop "$d" ID_FIDO_TOKEN)" \
			    "perm '$(perm "$d")' TAGS=$(prop "$d" TAGS)"
		fi
	done
	# (and, where 70-uaccess.rules is, grant them seat access)
	if [ "$(prop stock-hidraw1 ID_FIDO_TOKEN)" = 1 ] &&
	    { [ -z "$UACCESS" ] ||
	    prop stock-hidraw1 TAGS | grep -q uaccess; }; then
		ok udev_sim_stock_fido_id_recognises_keys
	else
		notok udev_sim_stock_fido_id_recognises_keys \
		    "ID_FIDO_TOKEN=$(prop stock-hidraw1 ID_FIDO_TOKEN)" \
		    "TAGS=$(prop stock-hidraw1 TAGS)"
	fi
fi

[ "$fails" -eq 0 ]

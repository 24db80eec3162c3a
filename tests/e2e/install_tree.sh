#!/bin/sh
# SPDX-License-Identifier: ISC
# `make install DESTDIR=... PREFIX=/usr` into a temporary root, and the tree
# it leaves: every file where the FHS and systemd expect it, with its mode;
# the pkg-config file and the units naming the installed paths, never the
# staging directory; a local configuration kept by a second install; man
# pages that render cleanly; and, where the tools run, systemd-sysusers and
# systemd-tmpfiles applied to the temporary root (user, state directory,
# socket directory, configuration ownership).
#
# The install uses the programs of $BUILD as they are (`make -o all`): the
# test never compiles, so it cannot race a build running beside it, and with
# BUILD=build/san it installs what make check has just built.
set -u
BUILD=${BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
R=$T/root

fails=0
ok() { echo "ok $1"; }
notok() {
	echo "not ok $1"; shift; fails=$((fails + 1))
	[ $# -gt 0 ] && echo "#   $*"
	return 0
}
check() {	# name command...
	n=$1; shift
	if "$@"; then ok "$n"; else notok "$n" "failed: $*"; fi
}
# skip WHY NAME...: a counted skip of each check, with the reason
skip() {
	why=$1; shift
	for n in "$@"; do echo "ok $n # SKIP $why"; done
}
have() { command -v "$1" >/dev/null 2>&1; }
# none NAME FINDINGS: ok when there are none
none() {
	if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi
}
# mode FILE: octal permission bits
mode() { stat -c %a "$1" 2>/dev/null; }
# the multiarch directory make install puts the verifier library in
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
    ${CC:-cc} -print-multiarch 2>/dev/null)

do_install() {	# log
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
	    -o all -o "$BUILD/libtapgate-verify.a" install \
	    DESTDIR="$R" PREFIX=/usr BUILD="$BUILD" >"$1" 2>&1
}

for p in tapgated tapgatectl tapgate-verify libtapgate-verify.a \
    libtapgate-verify.so.0.1.0; do
	if [ ! -e "$BUILD/$p" ]; then
		notok install_inputs_built "$BUILD/$p missing: build first"
		exit 1
	fi
done

if do_install "$T/install1.log"; then
	ok install_runs
else
	notok install_runs "make install failed:"
	sed 's/^/#   /' "$T/install1.log" | tail -20
	exit 1
fi

# ---- every expected file, with its mode
bad=""
expect() {	# mode path...
	m=$1; shift
	for f in "$@"; do
		if [ ! -f "$R$f" ]; then
			bad="$bad $f(missing)"
		elif [ "$(mode "$R$f")" != "$m" ]; then
			bad="$bad $f(mode $(mode "$R$f"), want $m)"
		fi
	done
}
expect 755 /usr/sbin/tapgated /usr/sbin/tapgatectl /usr/bin/tapgate-verify
none install_binaries_0755 "$bad"
bad=""
expect 755 /usr/libexec/tapgate/tapgate-send-mail \
    /usr/libexec/tapgate/tapgate-send-webhook
none install_senders_0755 "$bad"
bad=""
expect 644 "/usr/lib/$MA/libtapgate-verify.a" /usr/include/tapgate_verify.h \
    "/usr/lib/$MA/pkgconfig/tapgate-verify.pc"
none install_library_header_pc "$bad"
bad=""
expect 644 /usr/share/man/man8/tapgated.8 /usr/share/man/man8/tapgatectl.8 \
    /usr/share/man/man1/tapgate-verify.1
none install_man_pages "$bad"
bad=""
expect 644 /usr/lib/systemd/system/tapgated.service \
    /usr/lib/systemd/system/tapgated.socket \
    /usr/lib/systemd/system/tapgated-directory@.service \
    /usr/lib/systemd/system/tapgated-directory.socket \
    /usr/lib/sysusers.d/tapgate.conf /usr/lib/tmpfiles.d/tapgate.conf \
    /usr/share/tapgate/systemd/yubikey-seal.conf \
    /usr/share/tapgate/systemd/directory.conf \
    /usr/share/tapgate/systemd/senders.conf \
    /usr/share/tapgate/systemd/https.conf
none install_systemd_files "$bad"
bad=""
expect 644 /usr/lib/udev/rules.d/70-tapgate.rules
none install_udev_rules "$bad"
bad=""
expect 640 /etc/tapgate/tapgate.conf
none install_config_0640 "$bad"
check install_config_is_the_default cmp -s config/tapgate.conf \
    "$R/etc/tapgate/tapgate.conf"

# The installed binaries are the built ones.
check install_binaries_match_build cmp -s "$BUILD/tapgated" "$R/usr/sbin/tapgated"

# ---- the pkg-config file names the prefix, and the header compiles with it
pc=$R/usr/lib/$MA/pkgconfig/tapgate-verify.pc
if grep -qx 'prefix=/usr' "$pc" && ! grep -q '@' "$pc"; then
	ok install_pc_prefix_substituted
else
	notok install_pc_prefix_substituted "$(grep -n 'prefix\|@' "$pc")"
fi
if have pkg-config; then
	v=$(PKG_CONFIG_PATH=$R/usr/lib/$MA/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent \
	    pkg-config --variable=includedir tapgate-verify 2>&1)
	check install_pc_includedir [ "$v" = /usr/include ]
	cf=$(PKG_CONFIG_PATH=$R/usr/lib/$MA/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent \
	    PKG_CONFIG_SYSROOT_DIR=$R pkg-config --cflags tapgate-verify 2>&1)
	printf '#include <tapgate_verify.h>\nint main(void) { return 0; }\n' \
	    >"$T/use.c"
	# shellcheck disable=SC2086
	if ${CC:-cc} -std=c11 -fsyntax-only $cf "$T/use.c" 2>"$T/cc.log"; then
		ok install_header_compiles_with_pc_cflags
	else
		notok install_header_compiles_with_pc_cflags \
		    "$(head -5 "$T/cc.log")"
	fi
else
	skip "no pkg-config (Debian package pkg-config: make deps)" \
	    install_pc_includedir install_header_compiles_with_pc_cflags
fi

# ---- the units and tmpfiles name the installed paths
unit=$R/usr/lib/systemd/system/tapgated.service
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
if [ "$exe" = /usr/sbin/tapgated ] && [ -x "$R$exe" ]; then
	ok install_unit_execstart_is_installed_binary
else
	notok install_unit_execstart_is_installed_binary "ExecStart=$exe"
fi
check install_unit_reads_installed_config \
    grep -q ' -c /etc/tapgate/tapgate.conf' "$unit"
# nothing installed may name the staging directory
if grep -rlF "$T" "$R" >"$T/leaks" 2>/dev/null; then
	notok install_no_destdir_in_files "$(cat "$T/leaks")"
else
	ok install_no_destdir_in_files
fi

# PREFIX=/usr/local moves binaries and units, not /etc.
R2=$T/local
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
    -o all -o "$BUILD/libtapgate-verify.a" install DESTDIR="$R2" \
    PREFIX=/usr/local BUILD="$BUILD" >"$T/install-local.log" 2>&1 &&
    grep -q '^ExecStart=/usr/local/sbin/tapgated -c /etc/tapgate/tapgate.conf$' \
    "$R2/usr/local/lib/systemd/system/tapgated.service" &&
    [ -f "$R2/usr/local/lib/udev/rules.d/70-tapgate.rules" ] &&
    [ -f "$R2/etc/tapgate/tapgate.conf" ] &&
    grep -qx 'prefix=/usr/local' "$R2/usr/local/lib/$MA/pkgconfig/tapgate-verify.pc"
then
	ok install_prefix_usr_local
else
	notok install_prefix_usr_local "see the unit, rules and .pc under PREFIX"
	tail -5 "$T/install-local.log" | sed 's/^/#   /'
fi

# ---- a second install keeps the local configuration
conf=$R/etc/tapgate/tapgate.conf
echo '# local change kept across installs' >>"$conf"
chmod 0640 "$conf"
if do_install "$T/install2.log"; then
	ok install_second_run
else
	notok install_second_run "$(tail -5 "$T/install2.log")"
fi
if tail -1 "$conf" | grep -q 'local change kept' &&
    [ "$(mode "$conf")" = 640 ]; then
	ok install_keeps_local_config
else
	notok install_keeps_local_config "the second install replaced it"
fi
check install_second_run_same_binaries cmp -s "$BUILD/tapgated" \
    "$R/usr/sbin/tapgated"

# ---- man pages render without warnings (mandoc or groff, whichever runs)
if have mandoc; then
	if mandoc -Tlint -Wwarning "$R"/usr/share/man/man*/* >"$T/man.log" 2>&1
	then
		ok install_man_pages_lint_mandoc
	else
		notok install_man_pages_lint_mandoc "$(head -5 "$T/man.log")"
	fi
elif have groff; then
	: >"$T/man.log"
	for m in "$R"/usr/share/man/man*/*; do
		groff -mdoc -Tutf8 -ww -z "$m" >>"$T/man.log" 2>&1
	done
	if [ -s "$T/man.log" ]; then
		notok install_man_pages_render_groff "$(head -5 "$T/man.log")"
	else
		ok install_man_pages_render_groff
	fi
else
	skip "neither mandoc nor groff (groff-base: make deps)" \
	    install_man_pages_render
fi

# ---- sysusers.d and tmpfiles.d applied to the temporary root.  Setting
# owners needs root; everything happens below $R.
if [ "$(id -u)" -eq 0 ] && have systemd-sysusers && have systemd-tmpfiles; then
	mkdir -p "$R/etc"
	if systemd-sysusers --root="$R" >"$T/sysusers.log" 2>&1 &&
	    grep -q '^tapgate:x:[0-9]*:[0-9]*:.*:/var/lib/tapgate:' \
	    "$R/etc/passwd" && grep -q '^tapgate:x:[0-9]*:' "$R/etc/group"
	then
		ok install_sysusers_creates_tapgate
	else
		notok install_sysusers_creates_tapgate \
		    "$(cat "$T/sysusers.log")"
	fi
	uid=$(sed -n 's/^tapgate:x:\([0-9]*\):.*/\1/p' "$R/etc/passwd")
	gid=$(sed -n 's/^tapgate:x:\([0-9]*\):.*/\1/p' "$R/etc/group")
	if systemd-tmpfiles --root="$R" --create >"$T/tmpfiles.log" 2>&1; then
		ok install_tmpfiles_create
	else
		notok install_tmpfiles_create "$(cat "$T/tmpfiles.log")"
	fi
	own() { stat -c '%a %u %g' "$1" 2>/dev/null; }
	check install_tmpfiles_state_dir_0700 \
	    [ "$(own "$R/var/lib/tapgate")" = "700 $uid $gid" ]
	check install_tmpfiles_run_dir_0750 \
	    [ "$(own "$R/run/tapgate")" = "750 $uid $gid" ]
	check install_tmpfiles_config_root_tapgate_0640 \
	    [ "$(own "$R/etc/tapgate/tapgate.conf")" = "640 0 $gid" ]
else
	skip "sysusers.d and tmpfiles.d are applied only as root, with\
 systemd-sysusers and systemd-tmpfiles (uid $(id -u))" \
	    install_sysusers_creates_tapgate install_tmpfiles_create \
	    install_tmpfiles_state_dir_0700 install_tmpfiles_run_dir_0750 \
	    install_tmpfiles_config_root_tapgate_0640
fi
[ "$fails" -eq 0 ]

#!/bin/sh
# SPDX-License-Identifier: ISC
# The layout `make install` gives the appliance, in a temporary root: the
# daemon and the console in sbin, tapgate-verify in bin; the verifier
# library as a shared object with its soname (exporting exactly the API of
# its header, needing only libcrypto, jansson and sqlite3) and as an
# archive, in the multiarch directory with its pkg-config file, and a
# connector built and run against it; no softfido and no softfido CA
# anywhere (install-softfido, for test machines, puts them in place); the
# example trust roots under share/doc/tapgate, which hold no certificate and
# so cannot start a daemon; the example hook; the unit starting the
# installed daemon; and each program linked with only what it uses.
#
# The install uses the programs of $BUILD as they are (`make -o all`), so
# the test never compiles: BUILD=build/san installs what make check built.
set -u
BUILD=${BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-layout.XXXXXX")
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
none() {	# name findings: ok when there are none
	if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi
}
have() { command -v "$1" >/dev/null 2>&1; }
mode() { stat -c %a "$1" 2>/dev/null; }
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# linked NAME FILE PATTERN: ok when FILE is an ELF object none of whose
# needed libraries match PATTERN (an extended regular expression)
linked() {
	if ! readelf -d "$2" >/dev/null 2>&1; then
		notok "$1" "$2 is missing or not an ELF object"
		return
	fi
	none "$1" "$(needed "$2" | grep -E "$3")"
}
# sanitizer runtimes an ASan build adds to whatever it links
unsan() { grep -v -E '^lib(asan|ubsan|lsan|gcc_s|stdc\+\+|m|dl|pthread)\.so'; }

run_make() {	# log target make-args...
	log=$1; shift
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
	    -o all BUILD="$BUILD" "$@" >"$log" 2>&1
}

for p in tapgated tapgatectl tapgate-verify softfido libtapgate-verify.a \
    libtapgate-verify.so.0.1.0 tests/e2e_verify_fixture; do
	if [ ! -e "$BUILD/$p" ]; then
		notok layout_inputs_built "$BUILD/$p missing: build first"
		exit 1
	fi
done
# the triplet the Makefile picks when nothing sets it
MA=$(env -u DEB_HOST_MULTIARCH dpkg-architecture -qDEB_HOST_MULTIARCH \
    2>/dev/null || ${CC:-cc} -print-multiarch 2>/dev/null)
L=/usr/lib${MA:+/$MA}

if run_make "$T/install.log" install DESTDIR="$R" PREFIX=/usr \
    DEB_HOST_MULTIARCH=; then
	ok layout_install_runs
else
	notok layout_install_runs "$(tail -5 "$T/install.log")"
	exit 1
fi

# ---- programs: administration commands in sbin, the verifier in bin
bad=
for f in /usr/sbin/tapgated /usr/sbin/tapgatectl /usr/bin/tapgate-verify; do
	[ -f "$R$f" ] && [ "$(mode "$R$f")" = 755 ] || bad="$bad $f"
done
none layout_daemon_and_console_in_sbin_verifier_in_bin "$bad"
check layout_no_daemon_or_console_in_bin \
    [ ! -e "$R/usr/bin/tapgated" -a ! -e "$R/usr/bin/tapgatectl" ]
bad=
for f in /usr/share/man/man8/tapgated.8 /usr/share/man/man8/tapgatectl.8 \
    /usr/share/man/man1/tapgate-verify.1; do
	[ -f "$R$f" ] || bad="$bad $f"
done
none layout_man_pages_sections_8_and_1 "$bad"

# ---- no software key on the appliance: no program, page or CA
sf=$(find "$R" -name 'softfido*' 2>/dev/null)
none layout_installs_no_softfido "$sf"
ca=$(sed -n '/BEGIN CERT/,/END CERT/p' build/gen/softfido-ca.pem | sed -n 2p)
if [ -z "$ca" ]; then
	notok layout_installs_no_softfido_ca "build/gen/softfido-ca.pem unreadable"
else
	none layout_installs_no_softfido_ca \
	    "$(grep -rlF -- "$ca" "$R" 2>/dev/null)"
fi

# ---- the library: shared object with its soname, archive, header, .pc
so=$R$L/libtapgate-verify.so.0.1.0
if [ -f "$so" ] && [ "$(mode "$so")" = 644 ] &&
    [ "$(readlink "$R$L/libtapgate-verify.so.0")" = libtapgate-verify.so.0.1.0 ] &&
    [ "$(readlink "$R$L/libtapgate-verify.so")" = libtapgate-verify.so.0 ] &&
    [ -f "$R$L/libtapgate-verify.a" ]; then
	ok layout_library_in_multiarch_dir_with_links
else
	# shellcheck disable=SC2012 # shown as it is, not parsed
	notok layout_library_in_multiarch_dir_with_links \
	    "$(ls -l "$R$L" 2>&1 | tr '\n' ' ')"
fi
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check layout_library_soname_is_so_0 [ "$soname" = libtapgate-verify.so.0 ]
if readelf -d "$so" >/dev/null 2>&1; then
	extra=$(needed "$so" | unsan | grep -v -x -E \
	    'libcrypto\.so\.3|libjansson\.so\.4|libsqlite3\.so\.0|libc\.so\.6')
	none layout_library_needs_only_crypto_jansson_sqlite "$extra"
else
	notok layout_library_needs_only_crypto_jansson_sqlite "$so missing"
fi
# the exports are the header's functions, no more, no less
sed -n 's/^[a-z].*[[:space:]*]\(tgv_[a-z_0-9]*\)(.*/\1/p' src/verify/tapgate_verify.h |
    sort -u >"$T/api"
nm -D --defined-only "$so" 2>/dev/null | awk '$2 == "T" { print $3 }' |
    sed 's/@.*//' | sort -u >"$T/exports"
if [ -s "$T/api" ] && cmp -s "$T/api" "$T/exports"; then
	ok layout_library_exports_exactly_the_header_api
else
	notok layout_library_exports_exactly_the_header_api \
	    "$(diff "$T/api" "$T/exports" | grep '^[<>]' | tr '\n' ' ')"
fi
check layout_header_installed [ -f "$R/usr/include/tapgate_verify.h" ]
pc=$R$L/pkgconfig/tapgate-verify.pc
if have pkg-config && [ -f "$pc" ]; then
	v=$(PKG_CONFIG_PATH=$R$L/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent \
	    pkg-config --variable=libdir tapgate-verify 2>&1)
	check layout_pc_libdir_is_multiarch_dir [ "$v" = "$L" ]
	v=$(PKG_CONFIG_PATH=$R$L/pkgconfig PKG_CONFIG_LIBDIR=/nonexistent \
	    pkg-config --static --libs tapgate-verify 2>&1)
	check layout_pc_static_libs_name_no_fido2 \
	    sh -c "echo '$v' | grep -q -- -lcrypto && ! echo '$v' | grep -q -- -lfido2"
else
	notok layout_pc_installed "$pc missing (or no pkg-config)"
fi

# a connector links the installed shared object through pkg-config and
# verifies an order with it
D=$T/fx
if "$BUILD/tests/e2e_verify_fixture" "$D" >"$T/fixture.log" 2>&1; then
	cat >"$T/connector.c" <<'EOF'
#include <stdio.h>
#include <tapgate_verify.h>

int
main(int argc, char **argv)
{
	struct tgv_ctx *ctx = NULL;
	struct tgv_order *o = NULL;
	char tok[70000];
	size_t n;
	FILE *f;
	int r;

	if (argc != 4 || (f = fopen(argv[3], "r")) == NULL)
		return 2;
	n = fread(tok, 1, sizeof(tok), f);
	fclose(f);
	while (n > 0 && tok[n - 1] == '\n')
		n--;
	if ((r = tgv_ctx_new(&ctx)) != 0 ||
	    (r = tgv_load_jwks_file(ctx, argv[1])) != 0 ||
	    (r = tgv_load_approvers_file(ctx, argv[2])) != 0 ||
	    (r = tgv_set_audience(ctx, "ldap-corp")) != 0 ||
	    (r = tgv_verify(ctx, tok, n, 1800000000, &o)) != 0) {
		fprintf(stderr, "%s: %s\n", tgv_strerror(r), tgv_errmsg(ctx));
		tgv_ctx_free(&ctx);
		return 1;
	}
	printf("%s %d\n", tgv_order_target_account(o),
	    tgv_order_approvals_verified(o));
	tgv_order_free(&o);
	tgv_ctx_free(&ctx);
	return 0;
}
EOF
	# a shared object built with sanitizers needs them in the program
	san=
	needed "$so" | grep -q '^libasan' && san=-fsanitize=address,undefined
	# shellcheck disable=SC2046
	if ${CC:-cc} -std=c99 -Wall -Werror $san -o "$T/connector" \
	    "$T/connector.c" $(PKG_CONFIG_PATH=$R$L/pkgconfig \
	    PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_SYSROOT_DIR=$R \
	    pkg-config --cflags --libs tapgate-verify) 2>"$T/cc.log"; then
		ok layout_connector_links_the_shared_library
		check layout_connector_needs_the_soname \
		    sh -c "readelf -d $T/connector | grep -q 'NEEDED.*\[libtapgate-verify.so.0\]'"
		out=$(LD_LIBRARY_PATH=$R$L "$T/connector" "$D/jwks.json" \
		    "$D/approvers.json" "$D/good.jws" 2>&1)
		check layout_connector_verifies_an_order_with_it \
		    [ "$out" = "alice 1" ]
	else
		notok layout_connector_links_the_shared_library \
		    "$(head -5 "$T/cc.log")"
	fi
else
	notok layout_fixture "$(tail -3 "$T/fixture.log")"
fi

# ---- each program linked with what it uses
linked layout_verifier_links_no_fido2_cbor_or_daemon_libraries \
    "$R/usr/bin/tapgate-verify" '^lib(fido2|cbor|udev|config|microhttpd|systemd|ykpers)'
linked layout_console_links_no_config_ykpers_seccomp_or_microhttpd \
    "$R/usr/sbin/tapgatectl" '^lib(config|ykpers|seccomp|microhttpd)'
linked layout_softfido_program_links_only_libcrypto "$BUILD/softfido" \
    '^lib(fido2|cbor|jansson|sqlite3|config|microhttpd|systemd|ykpers|seccomp)'


# ---- the examples under share/doc/tapgate
ex=$R/usr/share/doc/tapgate/attestation-roots.pem.example
hook=$R/usr/share/doc/tapgate/notify-log.example
check layout_examples_installed [ -f "$ex" -a -f "$hook" ]
check layout_example_roots_hold_no_certificate \
    sh -c "[ -f '$ex' ] && ! grep -q '^-----BEGIN' '$ex'"
check layout_example_roots_name_the_softfido_ca_as_never \
    grep -q 'NEVER add the softfido test CA' "$ex"
# the daemon refuses to start on it: a root must be chosen first
cp config/tapgate.conf "$T/tapgate.conf"
sed -i -E "s|trust_roots = \"[^\"]*\";|trust_roots = \"$ex\";|" "$T/tapgate.conf"
"$R/usr/sbin/tapgated" --check-config -c "$T/tapgate.conf" >"$T/check.out" 2>&1
rc=$?
check layout_example_roots_cannot_start_a_daemon \
    sh -c "[ $rc -eq 2 ] && grep -q 'no PEM certificate' $T/check.out"
check layout_example_hook_is_valid_sh sh -n "$hook"

# ---- the unit starts the installed daemon
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' \
    "$R/usr/lib/systemd/system/tapgated.service")
check layout_unit_execstart_is_sbin_tapgated \
    [ "$exe" = /usr/sbin/tapgated -a -x "$R$exe" ]

# ---- PREFIX=/usr/local and a packager's triplet
R2=$T/local
if run_make "$T/local.log" install DESTDIR="$R2" PREFIX=/usr/local \
    DEB_HOST_MULTIARCH=aarch64-linux-gnu &&
    [ -x "$R2/usr/local/sbin/tapgated" ] &&
    [ -f "$R2/usr/local/lib/aarch64-linux-gnu/libtapgate-verify.so.0.1.0" ] &&
    grep -qx "libdir=\${exec_prefix}/lib/aarch64-linux-gnu" \
    "$R2/usr/local/lib/aarch64-linux-gnu/pkgconfig/tapgate-verify.pc" &&
    grep -q '^ExecStart=/usr/local/sbin/tapgated ' \
    "$R2/usr/local/lib/systemd/system/tapgated.service"; then
	ok layout_prefix_and_deb_host_multiarch_followed
else
	notok layout_prefix_and_deb_host_multiarch_followed \
	    "$(tail -3 "$T/local.log")"
fi

# ---- softfido has its own target, for test machines
R3=$T/testbox
if run_make "$T/sf.log" -o "$BUILD/softfido" install-softfido \
    DESTDIR="$R3" PREFIX=/usr &&
    [ -x "$R3/usr/bin/softfido" ] &&
    [ -f "$R3/usr/share/man/man1/softfido.1" ] &&
    cmp -s build/gen/softfido-ca.pem \
    "$R3/usr/share/tapgate/softfido/softfido-test-ca.pem"; then
	ok layout_install_softfido_installs_key_page_and_test_ca
else
	notok layout_install_softfido_installs_key_page_and_test_ca \
	    "$(tail -3 "$T/sf.log")"
fi
[ "$fails" -eq 0 ]

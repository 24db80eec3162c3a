#!/bin/sh
# SPDX-License-Identifier: ISC
# tapgate-verify runs confined (src/sandbox, the verify role) before it
# reads its input: while it waits for an order on a FIFO it already has no
# new privileges, no core dumps, the address-space limit and a seccomp
# filter; confined, it still verifies and redeems; and a forbidden system
# call it makes at exit (socket(), from an atexit handler that an
# LD_PRELOAD library registers) kills it with SIGSYS.  Run on the binary of
# $BUILD and on the optimised one of $OPT_BUILD (default build/), whose
# filter lacks the sanitizers' allowances.  Where the kernel has Landlock,
# a file that is none of its inputs stays closed to it.
set -u
. tests/e2e/lib/daemon.sh

OPT_BUILD=${OPT_BUILD:-build}
FX=$BUILD/tests/e2e_verify_fixture
D=$T/fx
NOW=1800000000		# the fixture's "now" (test_verify_fixture.h)

if [ ! -x "$FX" ] || ! "$FX" "$D" >"$T/fixture.log" 2>&1; then
	notok sandbox_verify_fixture "$(grep -v '^ok' "$T/fixture.log" 2>&1)"
	exit 1
fi

# The helper: its constructor registers a handler that opens an IP socket
# when the program exits.  Unconfined that is harmless; under the verify
# role's filter it is a kill.
cat >"$T/exit_socket.c" <<'EOS'
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void
open_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd != -1)
		close(fd);
}

__attribute__((constructor)) static void
init(void)
{
	atexit(open_socket);
}
EOS
HELPER=$T/exit_socket.so
if ! ${CC:-cc} -shared -fPIC -o "$HELPER" "$T/exit_socket.c" \
    >"$T/cc.log" 2>&1; then
	notok sandbox_verify_helper_builds "$(cat "$T/cc.log")"
	HELPER=
else
	# on a program nothing confines, the helper changes nothing
	LD_PRELOAD=$HELPER true
	check sandbox_verify_helper_is_harmless_unconfined [ $? -eq 0 ]
fi

st() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null; }
lim() { sed -n "s/^$2  *\([0-9a-z]*\) .*/\1/p" "/proc/$1/limits" 2>/dev/null; }

# confined_while_waiting V NAME: started on a FIFO, V blocks opening it
# after the JWKS and approvers are loaded; what /proc shows of it then
confined_while_waiting() {
	v=$1 n=$2 asan=$3
	fifo=$T/order.$n
	rm -f "$fifo" "$T/out.$n" "$T/err.$n"
	mkfifo "$fifo"
	"$v" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" "$fifo" \
	    >"$T/out.$n" 2>"$T/err.$n" &
	pid=$!
	i=0 sc=
	while [ $i -lt 200 ]; do
		sc=$(st "$pid" Seccomp)
		[ "$sc" = 2 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	check "verify_${n}_waits_for_its_order_under_a_seccomp_filter" \
	    [ "$sc" = 2 ]
	check "verify_${n}_has_no_new_privileges" \
	    [ "$(st "$pid" NoNewPrivs)" = 1 ]
	check "verify_${n}_dumps_no_core" \
	    [ "$(lim "$pid" 'Max core file size')" = 0 ]
	if [ "$asan" = 1 ]; then
		echo "ok verify_${n}_address_space_is_limited # SKIP ASan" \
		    "build: no RLIMIT_AS next to ASan's shadow memory"
	else
		check "verify_${n}_address_space_is_limited" \
		    [ "$(lim "$pid" 'Max address space')" = 536870912 ]
	fi
	# the order arrives only now, to a confined process (a writer opening
	# the FIFO waits for its reader: bounded, should the reader be gone)
	# shellcheck disable=SC2016 # $1, $2: the arguments of sh -c
	timeout 20 sh -c 'cat "$1" >"$2"' sh "$D/good.jws" "$fifo" ||
	    kill "$pid" 2>/dev/null
	wait_exit "$pid" 30
	rc=$?
	if [ "$rc" -eq 0 ] && jqtrue '.jti != null and .approvals_verified' \
	    "$T/out.$n"; then
		ok "verify_${n}_confined_verifies_the_order"
	else
		notok "verify_${n}_confined_verifies_the_order" \
		    "exit $rc: $(cat "$T/err.$n")"
	fi
}

# redeems_confined V NAME: the redemption database is created and used
# within the role (create, WAL, fsync)
redeems_confined() {
	v=$1 n=$2
	db=$T/redeemed.$n.db
	"$v" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" --redeem-db "$db" \
	    "$D/good.jws" >/dev/null 2>"$T/err.$n"
	rc=$?
	check "verify_${n}_confined_redeems_once" [ "$rc" -eq 0 ]
	[ "$rc" -eq 0 ] || sed 's/^/#   /' "$T/err.$n"
	"$v" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" --redeem-db "$db" \
	    "$D/good.jws" >/dev/null 2>"$T/err.$n"
	rc=$?
	check "verify_${n}_confined_refuses_a_second_redemption" \
	    [ "$rc" -eq 9 ]
	check "verify_${n}_redemption_db_is_0600" \
	    [ "$(stat -c %a "$db" 2>/dev/null)" = 600 ]
}

# forbidden_call_kills V NAME: the same verification, with the helper
forbidden_call_kills() {
	v=$1 n=$2
	[ -n "$HELPER" ] || return 0
	# ASan wants its runtime first in the library list; the helper uses
	# no memory ASan tracks
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
	    LD_PRELOAD=$HELPER "$v" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" "$D/good.jws" \
	    >"$T/out.$n" 2>"$T/err.$n"
	rc=$?
	# killed by SIGSYS (status 128 + signal), after a good verification
	if [ "$rc" -gt 128 ] && [ "$(kill -l "$rc")" = SYS ] &&
	    [ -s "$T/out.$n" ]; then
		ok "verify_${n}_socket_at_exit_is_killed_by_sigsys"
	else
		notok "verify_${n}_socket_at_exit_is_killed_by_sigsys" \
		    "exit $rc: $(head -5 "$T/err.$n")"
	fi
}

# beyond_its_inputs V NAME: a hostile order makes the parser open a file
# that is none of its inputs (tests/stub/exploit.c, at each JSON text):
# where the kernel has Landlock that is refused, and verification goes on
EXPLOIT=$PWD/$BUILD/tests/exploit.so
echo "not an input" >"$T/secret"
chmod 644 "$T/secret"
LANDLOCK=$(landlock_probe)
beyond_its_inputs() {
	v=$1 n=$2
	case $LANDLOCK in
	yes) ;;
	no:*)
		skip "verify_${n}_cannot_open_beyond_its_inputs" \
		    "${LANDLOCK#no: } (test_sandbox says)"
		return 0 ;;
	*)
		notok "verify_${n}_cannot_open_beyond_its_inputs" \
		    "whether the kernel has Landlock: ${LANDLOCK#unknown: }"
		return 0 ;;
	esac
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
	    TAPGATE_TEST_VERIFY_OPEN=$T/secret LD_PRELOAD=$EXPLOIT \
	    "$v" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" \
	    --redeem-db "$T/redeem-x.$n/r.db" "$D/good.jws" \
	    >"$T/out.$n" 2>"$T/err.$n"
	rc=$?
	check "verify_${n}_cannot_open_beyond_its_inputs" grep -q \
	    "verify-exploit: $T/secret: Permission denied" "$T/err.$n"
	check "verify_${n}_never_opened_it" sh -c \
	    "! grep -q 'verify-exploit: .*: opened' '$T/err.$n'"
	check "verify_${n}_still_verifies_and_redeems_beside_it" \
	    [ "$rc" -eq 0 -a -s "$T/redeem-x.$n/r.db" ]
}
mkdir -p "$T/redeem-x.this_build" "$T/redeem-x.optimised"
check verify_secret_is_readable_outside_the_sandbox grep -q input "$T/secret"

run_one() {	# binary name
	v=$1 n=$2 asan=0
	nm "$v" 2>/dev/null | grep -q ' __asan_init$' && asan=1
	confined_while_waiting "$v" "$n" "$asan"
	redeems_confined "$v" "$n"
	forbidden_call_kills "$v" "$n"
	beyond_its_inputs "$v" "$n"
}

if [ ! -x "$BUILD/tapgate-verify" ]; then
	notok sandbox_verify_program_built "missing $BUILD/tapgate-verify"
	exit 1
fi
run_one "$BUILD/tapgate-verify" this_build
if [ "$OPT_BUILD" = "$BUILD" ]; then
	:
elif [ -x "$OPT_BUILD/tapgate-verify" ]; then
	run_one "$OPT_BUILD/tapgate-verify" optimised
else
	echo "ok verify_optimised_is_confined # SKIP no $OPT_BUILD/tapgate-verify" \
	    "(make, or make check, builds it)"
fi

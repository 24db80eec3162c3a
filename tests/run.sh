#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every test of one build and print one closing line "N passed, N failed".
# Each test program prints "ok NAME" / "not ok NAME" lines; a program that
# exits non-zero without reporting a failure (a crash) counts as one failure.
# "ok NAME # SKIP why" is a skip: neither passed nor failed; the skips are
# listed and counted in an "N skipped" line just before the closing one.
#
# Each program runs under timeout(1): TEST_TIMEOUT seconds (default 600;
# key_rotation, the slowest, takes about 80), then SIGTERM to its process
# group and SIGKILL 10 s later.  A program that times out counts as one
# failure that names it and the bound, whatever it printed before: a
# check that hangs fails instead of holding up the run.
#
# The sandbox test skips its address-space checks under ASan; the plain
# build of it in $OPT_BUILD (make check builds build/tests/test_sandbox)
# runs as test_sandbox_opt, so make check runs them too.
set -u
BUILD=${1:-build/san}
OPT_BUILD=${OPT_BUILD:-build}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
export BUILD OPT_BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LOG=$BUILD/test-logs
rm -rf "$LOG"; mkdir -p "$LOG"
pass=0
fail=0
skip=0
SKIPS=$LOG/skipped.list
: >"$SKIPS"

run() {	# name, command...
	name=$1; shift
	out=$LOG/$name.log
	t0=$(date +%s)
	timeout --kill-after=10 "$TEST_TIMEOUT" "$@" >"$out" 2>&1
	rc=$?
	took=$(($(date +%s) - t0))
	# TAP: the directive follows a '#', SKIP in any case
	s=$(grep -c -i -E '^ok [^#]*# *skip' "$out")
	p=$(($(grep -c '^ok ' "$out") - s))
	f=$(grep -c '^not ok ' "$out")
	grep -i -E '^ok [^#]*# *skip' "$out" | sed -E \
	    -e "s/^ok +([^#]*[^# ]) *# *[Ss][Kk][Ii][Pp] *(.*)/$name: \1 (\2)/" \
	    -e 's/ \(\)$//' >>"$SKIPS"
	# timed out: 124 (SIGTERM), or 137 (SIGKILL after the grace period),
	# once the bound has passed; before it they are the program's own
	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } &&
	    [ "$took" -ge "$TEST_TIMEOUT" ]; then
		echo "not ok $name (timed out: still running after" \
		    "TEST_TIMEOUT=$TEST_TIMEOUT s)" >>"$out"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $name (exit $rc, no failure reported: crashed?)" >>"$out"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$s" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $name (ran no test)" >>"$out"
		f=1
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	sk=
	[ "$s" -ne 0 ] && sk=", $s skipped"
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name: $p passed, $f failed$sk"
		grep -E '^(not ok|#)' "$out" | head -40
		tail -20 "$out" | grep -v -E '^(ok|not ok|#)' | sed 's/^/  | /'
	else
		echo "ok   $name: $p passed$sk"
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
# the plain build's sandbox test, when that is another build
if [ "$OPT_BUILD" != "$BUILD" ] && [ -x "$OPT_BUILD/tests/test_sandbox" ]; then
	run test_sandbox_opt "$OPT_BUILD/tests/test_sandbox"
fi
for t in "$BUILD"/tests/e2e_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" sh "$t"
done
for t in "$BUILD"/tests/replay_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t"); n=${n#replay_}
	run "$(basename "$t")" "$t" "tests/fuzz/corpus/$n"
done
# a short libFuzzer run of each harness (clang); `make fuzz` runs longer
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	run "libfuzzer_$n" sh tests/fuzz/brief.sh "$f" "tests/fuzz/corpus/$n"
done

sed 's/^/skipped: /' "$SKIPS"
echo "$skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

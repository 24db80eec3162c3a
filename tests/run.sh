#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every test of one build and print one closing line "N passed, N failed".
# Each test program prints "ok NAME" / "not ok NAME" lines; a program that
# exits non-zero without reporting a failure (a crash) counts as one failure.
# "ok NAME # SKIP why" is a skip: neither passed nor failed; the skips are
# listed and counted in an "N skipped" line just before the closing one.
#
# Each program runs in a session of its own, for TEST_TIMEOUT seconds at
# most (default 600; key_rotation, the slowest, takes about 80): then its
# process group gets SIGTERM (and SIGCONT, should it be stopped) and, 10 s
# later, SIGKILL.  A program that times out counts as one failure that
# names it and the bound, whatever it printed before: a check that hangs
# fails instead of holding up the run.  Its own session keeps whatever
# the program does to its process group (kill 0, kill -STOP 0) away from
# this script and its watch.
#
# The sandbox tests skip their address-space and malloc checks under ASan;
# the plain builds of them in $OPT_BUILD (make check builds
# build/tests/test_sandbox and test_sandbox_libc) run as test_sandbox_opt
# and test_sandbox_libc_opt, so make check runs them too.
set -u
BUILD=${1:-build/san}
OPT_BUILD=${OPT_BUILD:-build}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
export BUILD OPT_BUILD
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LOG=$BUILD/test-logs
rm -rf "$LOG"; mkdir -p "$LOG"
pass=0
fail=0
skip=0
SKIPS=$LOG/skipped.list
: >"$SKIPS"

# bounded OUT COMMAND...: COMMAND's status; TIMED_OUT=1 when it was
# stopped for running too long
bounded() {
	bd_out=$1; shift
	TIMED_OUT=
	# a background job of this (non-interactive) shell leads no group,
	# so setsid(1) makes the session in place: $! is its leader
	setsid "$@" >"$bd_out" 2>&1 </dev/null &
	bd_pid=$!
	bd_end=$(($(date +%s) + TEST_TIMEOUT))
	while kill -0 "$bd_pid" 2>/dev/null &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$bd_pid/status" 2>/dev/null
	do
		if [ "$(date +%s)" -ge "$bd_end" ]; then
			kill -TERM "-$bd_pid" 2>/dev/null
			kill -CONT "-$bd_pid" 2>/dev/null
			bd_i=0
			while kill -0 "-$bd_pid" 2>/dev/null &&
			    [ $bd_i -lt 100 ]; do
				sleep 0.1
				bd_i=$((bd_i + 1))
			done
			kill -KILL "-$bd_pid" 2>/dev/null
			wait "$bd_pid" 2>/dev/null
			TIMED_OUT=1
			return 124
		fi
		sleep 0.1
	done
	wait "$bd_pid"
}

run() {	# name, command...
	name=$1; shift
	out=$LOG/$name.log
	bounded "$out" "$@"
	rc=$?
	# TAP: the directive follows a '#', SKIP in any case
	s=$(grep -c -i -E '^ok [^#]*# *skip' "$out")
	p=$(($(grep -c '^ok ' "$out") - s))
	f=$(grep -c '^not ok ' "$out")
	grep -i -E '^ok [^#]*# *skip' "$out" | sed -E \
	    -e "s/^ok +([^#]*[^# ]) *# *[Ss][Kk][Ii][Pp] *(.*)/$name: \1 (\2)/" \
	    -e 's/ \(\)$//' >>"$SKIPS"
	if [ -n "$TIMED_OUT" ]; then
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

# A test program whose source is in the tree must have been built: one
# missing counts as a failure.  Programs are found from their sources, so
# a stale binary left in the build directory by a removed test never runs.
missing() {	# name path
	echo "FAIL $1: not built ($2 is missing)"
	fail=$((fail + 1))
}
# run_built NAME PATH [ARGS...]
run_built() {
	if [ -x "$2" ]; then
		n=$1; shift
		run "$n" "$@"
	else
		missing "$1" "$2"
	fi
}

for s in tests/unit/test_*.c; do
	n=$(basename "$s" .c)
	run_built "$n" "$BUILD/tests/$n"
done
# the plain build's sandbox tests, when that is another build
for t in test_sandbox test_sandbox_libc; do
	if [ "$OPT_BUILD" != "$BUILD" ]; then
		run_built "${t}_opt" "$OPT_BUILD/tests/$t"
	fi
done
for s in tests/e2e/*.c; do
	n=$(basename "$s" .c)
	run_built "$n" "$BUILD/tests/$n"
done
for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" sh "$t"
done
for s in tests/fuzz/fuzz_*.c; do
	n=$(basename "$s" .c)
	run_built "replay_$n" "$BUILD/tests/replay_$n" "tests/fuzz/corpus/$n"
done
# a short libFuzzer run of each harness (clang); `make fuzz` runs longer
for s in tests/fuzz/fuzz_*.c; do
	n=$(basename "$s" .c)
	if [ -x "build/fuzz/$n" ]; then
		run "libfuzzer_$n" sh tests/fuzz/brief.sh "build/fuzz/$n" \
		    "tests/fuzz/corpus/$n"
	else
		missing "libfuzzer_$n" "build/fuzz/$n"
	fi
done

sed 's/^/skipped: /' "$SKIPS"
echo "$skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

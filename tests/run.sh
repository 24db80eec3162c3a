#!/bin/sh
# SPDX-License-Identifier: ISC
# Run every test of one build and print one closing line "N passed, N failed".
# Each test program prints "ok NAME" / "not ok NAME" lines; a program that
# exits non-zero without reporting a failure (a crash) counts as one failure.
set -u
BUILD=${1:-build/san}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
LOG=$BUILD/test-logs
rm -rf "$LOG"; mkdir -p "$LOG"
pass=0
fail=0

run() {	# name, command...
	name=$1; shift
	out=$LOG/$name.log
	"$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $name (exit $rc, no failure reported: crashed?)" >>"$out"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $name (ran no test)" >>"$out"
		f=1
	fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name: $p passed, $f failed"
		grep -E '^(not ok|#)' "$out" | head -40
		tail -20 "$out" | grep -v -E '^(ok|not ok|#)' | sed 's/^/  | /'
	else
		echo "ok   $name: $p passed"
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

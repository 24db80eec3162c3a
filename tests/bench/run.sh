#!/bin/sh
# SPDX-License-Identifier: ISC
# make bench: run every benchmark of a build.  Each prints its figures as a
# ratio against a baseline it measured in the same run.  A benchmark that
# fails does not stop the others; the run fails at the end.
set -u
BUILD=${1:-build}
export BUILD
failed=
for b in "$BUILD"/tests/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" || failed="$failed $(basename "$b")"
done
if [ -n "$failed" ]; then
	echo "bench: failed:$failed"
	exit 1
fi

#!/bin/sh
# SPDX-License-Identifier: ISC
# make bench: run every benchmark of a build.  Each prints its figures as a
# ratio against a baseline it measured in the same run.
set -eu
BUILD=${1:-build}
export BUILD
for b in "$BUILD"/tests/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b"
done

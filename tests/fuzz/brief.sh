#!/bin/sh
# SPDX-License-Identifier: ISC
# Run one libFuzzer harness briefly from its stored corpus, on a scratch copy.
# 8 s each (FUZZ_BRIEF_SECONDS): with 17 harnesses that is over 2 minutes
# of `make check`; the long runs are `make fuzz`.
set -u
bin=$1 corpus=$2
secs=${FUZZ_BRIEF_SECONDS:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if "$bin" -max_total_time="$secs" -rss_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="$work/" \
    "$work" "$corpus" >"$work/log" 2>&1; then
	grep -E 'stat::number_of_executed_units|Done' "$work/log" | sed 's/^/# /'
	echo "ok $(basename "$bin")_runs_${secs}s_without_a_crash"
else
	# keep the input that crashed it, for the replay runner and a fix
	mkdir -p "${BUILD:-build}/fuzz-crashes"
	cp "$work"/crash-* "$work"/leak-* "$work"/oom-* \
	    "${BUILD:-build}/fuzz-crashes/" 2>/dev/null
	tail -40 "$work/log" | sed 's/^/# /'
	echo "not ok $(basename "$bin")_crashed"
fi

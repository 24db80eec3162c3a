#!/bin/sh
# SPDX-License-Identifier: ISC
# embed.sh SYMBOL INPUT OUTPUT: write a C file defining
#   const char SYMBOL[] = { ..., 0 };
# holding INPUT's bytes and a terminating NUL (text embedded in a program).
set -eu
sym=$1 in=$2 out=$3
tmp=$out.tmp
{
	echo "/* generated from $in by scripts/embed.sh: do not edit */"
	echo "extern const char ${sym}[];"
	echo "const char ${sym}[] = {"
	od -An -v -tu1 "$in" | awk '{ s = "\t"; for (i = 1; i <= NF; i++) s = s $i ","; print s }'
	echo "	0 };"
} >"$tmp"
mv "$tmp" "$out"

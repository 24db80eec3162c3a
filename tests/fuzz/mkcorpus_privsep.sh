#!/bin/sh
# SPDX-License-Identifier: ISC
# Seeds for fuzz_privsep (sh and printf only); fuzz_assertion's are
# written by mkcorpus_assertion.sh.
set -eu
P=tests/fuzz/corpus/fuzz_privsep
mkdir -p "$P"
u32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"; }
bytes() { u32 "$1"; head -c "$1" /dev/zero | tr '\0' "$2"; }
# enrolment reply: kind 1, status 0, id, alg, raw, cose, aaguid, cert, count, flags, credprotect
{ printf '\001'; u32 0; bytes 32 a; u32 4294967289; bytes 64 b; bytes 77 c; bytes 16 d; bytes 32 e; u32 1; printf '\105'; u32 3; } >"$P/enroll_ok"
{ printf '\001'; u32 4294967273; } >"$P/enroll_no_touch"
{ printf '\001'; u32 0; bytes 32 a; } >"$P/enroll_short"
# assertion reply: kind 0, status 0, cred id, authdata, sig, count, flags
{ printf '\000'; u32 0; bytes 32 a; bytes 37 b; bytes 71 c; u32 7; printf '\005'; } >"$P/assert_ok"
{ printf '\000'; u32 0; bytes 32 a; bytes 37 b; bytes 71 c; u32 7; printf '\005\000'; } >"$P/assert_trailing"
{ printf '\000'; u32 7; } >"$P/assert_positive_status"

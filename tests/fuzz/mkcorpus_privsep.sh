#!/bin/sh
# SPDX-License-Identifier: ISC
# Seeds for fuzz_privsep (sh and printf only); fuzz_assertion's are
# written by mkcorpus_assertion.sh.
set -eu
P=tests/fuzz/corpus/fuzz_privsep
mkdir -p "$P"
u32() { printf '%b' "\\0$(printf %03o $(($1 >> 24 & 255)))\\0$(printf %03o $(($1 >> 16 & 255)))\\0$(printf %03o $(($1 >> 8 & 255)))\\0$(printf %03o $(($1 & 255)))"; }
bytes() { u32 "$1"; head -c "$1" /dev/zero | tr '\0' "$2"; }
# enrolment reply: kind 1, status 0, id, alg, raw, cose, aaguid, cert, count, flags, credprotect
{ printf '\001'; u32 0; bytes 32 a; u32 4294967289; bytes 64 b; bytes 77 c; bytes 16 d; bytes 32 e; u32 1; printf '\105'; u32 3; } >"$P/enroll_ok"
{ printf '\001'; u32 4294967273; } >"$P/enroll_no_touch"
{ printf '\001'; u32 0; bytes 32 a; } >"$P/enroll_short"
# assertion reply: kind 0, status 0, cred id, authdata, sig, count, flags
{ printf '\000'; u32 0; bytes 32 a; bytes 37 b; bytes 71 c; u32 7; printf '\005'; } >"$P/assert_ok"
{ printf '\000'; u32 0; bytes 32 a; bytes 37 b; bytes 71 c; u32 7; printf '\005\000'; } >"$P/assert_trailing"
{ printf '\000'; u32 7; } >"$P/assert_positive_status"
# a wrong PIN (TG_ERR_PIN_INVALID), then the attempts left: 7
{ printf '\000'; u32 4294967271; printf '\007'; } >"$P/assert_pin_7_left"
# identification reply: kind 4, status 0, cred id; a PIN error, no count
{ printf '\004'; u32 0; bytes 32 a; } >"$P/identify_ok"
{ printf '\004'; u32 4294967271; printf '\377'; } >"$P/identify_pin_unknown"
# Genuine enrolment replies, ES256 and EdDSA with credProtect 3, from a
# softfido enrolled by a real token process (needs a build: BUILD, default
# build/san), and the softfido CA they chain to, which fuzz_privsep
# trusts: every build makes its own CA, so the seeds keep theirs.
BUILD=${BUILD:-build/san}
export BUILD
CA=tests/fuzz/fuzz_privsep-ca.pem
if [ -x "$BUILD/tests/e2e_token_lists" ] && [ -r build/gen/softfido-ca.pem ]; then
	TAPGATE_FUZZ_SEED_DIR=$P "$BUILD/tests/e2e_token_lists" >/dev/null
	[ -s "$P/enroll_verifies_es256" ] && [ -s "$P/enroll_verifies_eddsa" ]
	{
		echo "softfido test attestation CA: the one fuzz_privsep's"
		echo "enroll_verifies_* seeds chain to (mkcorpus_privsep.sh)"
		cat build/gen/softfido-ca.pem
	} >"$CA"
else
	echo "mkcorpus_privsep.sh: no $BUILD/tests/e2e_token_lists or" \
	    "build/gen/softfido-ca.pem: genuine seeds left as they are" >&2
fi

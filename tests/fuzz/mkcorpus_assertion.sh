#!/bin/sh
# SPDX-License-Identifier: ISC
# Seeds of tests/fuzz/fuzz_assertion.c that verify: assertions signed with
# the private halves of the harness's two keys, published test vectors
# (RFC 6979 A.2.5 for P-256, RFC 8032 7.1 TEST 1 for Ed25519).  Without
# them no input reaches the success path, or the counter check behind the
# signature; the replay fails when none does.
#   sh tests/fuzz/mkcorpus_assertion.sh [OUTDIR]
# Needs sh, awk, od and the openssl CLI.
set -eu
out=${1:-tests/fuzz/corpus/fuzz_assertion}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# bin: the hex on stdin, as bytes on stdout
bin() {
	printf '%b' "$(tr -d ' \n' | awk '{
		h = "0123456789abcdef"; s = tolower($0)
		for (i = 1; i < length(s); i += 2) {
			hi = index(h, substr(s, i, 1)) - 1
			lo = index(h, substr(s, i + 1, 1)) - 1
			printf "\\0%03o", hi * 16 + lo
		}
	}')"
}
# PKCS#8 of the published private keys
echo 308141020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420 \
    c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721 |
    bin >"$tmp/p256.der"
echo 302e020100300506032b657004220420 \
    9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 |
    bin >"$tmp/ed25519.der"
printf tapgate.local | openssl dgst -sha256 -binary >"$tmp/rphash"
head -c 32 /dev/zero >"$tmp/cdh"

# seed NAME WRAPSEED KEYBYTE FLAGS COUNTER (hex, 8 + 2 + 2 + 8 digits)
seed() {
	{ cat "$tmp/rphash"; echo "$4$5" | bin; } >"$tmp/ad"
	cat "$tmp/ad" "$tmp/cdh" >"$tmp/tbs"
	if [ $((0x$3 & 1)) -eq 0 ]; then
		openssl dgst -sha256 -keyform DER -sign "$tmp/p256.der" \
		    -out "$tmp/sig" "$tmp/tbs"
	else
		openssl pkeyutl -sign -keyform DER -inkey "$tmp/ed25519.der" \
		    -rawin -in "$tmp/tbs" -out "$tmp/sig"
	fi
	{ echo "$2$3"25 | bin; cat "$tmp/ad" "$tmp/sig"; } \
	    >"$out/$1"
}

# verifies: counter above the previous one (0), or not checked
seed es256_verifies 00000000 00 05 00000001
seed eddsa_verifies 00000000 01 05 00000007
seed es256_verifies_counter_unchecked 00000000 02 05 00000000
# genuine signatures, but the counter did not grow past 10
seed es256_stale_counter 00000000 14 05 0000000a
seed eddsa_stale_counter 00000000 15 05 00000003
# genuine, UP without UV: refused on the flags
seed es256_up_only 00000000 00 01 00000002
# genuine, with wrapped call 4 (of 5) failing (bits 31,30 = 10)
seed es256_genuine_call_4_fails 80000004 00 05 00000001

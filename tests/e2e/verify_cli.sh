#!/bin/sh
# SPDX-License-Identifier: ISC
# tapgate-verify as a downstream system runs it, over files made by
# $BUILD/tests/e2e_verify_fixture: every exit code and its message, the
# printed order, one-time redemption (also under concurrent redeemers),
# an independent JOSE implementation (Debian's python3-jwcrypto) on the
# appliance signature, and a connector built against the installed
# library through its pkg-config file.
set -u
. tests/e2e/lib/daemon.sh

V=$BUILD/tapgate-verify
FX=$BUILD/tests/e2e_verify_fixture
D=$T/fx
NOW=1800000000		# the fixture's "now" (test_verify_fixture.h)
NBF=$((NOW - 60))
EXP=$((NOW + 600))

if [ ! -x "$V" ] || [ ! -x "$FX" ]; then
	notok verify_cli_programs_built "missing $V or $FX"
	exit 1
fi
if ! "$FX" "$D" >"$T/fixture.log" 2>&1; then
	notok verify_cli_fixture "$(grep -v '^ok' "$T/fixture.log")"
	exit 1
fi

# expect NAME STATUS ARGS...: run tapgate-verify; a refusal must be one
# line "tapgate-verify: <cause>: <detail>" on stderr and nothing on stdout
# (but a replay, 9, or a failed redemption with printed=1: the verified
# order is printed before it is redeemed).
# An argument PIN stands for the options that pin the fixture's order:
# its JWKS, audience and approvers.
expect() {
	name=$1 want=$2; shift 2
	for a in "$@"; do
		shift
		if [ "$a" = PIN ]; then
			set -- "$@" --jwks "$D/jwks.json" --aud ldap-corp \
			    --approvers "$D/approvers.json"
		else
			set -- "$@" "$a"
		fi
	done
	"$V" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		notok "$name" "exit $rc, expected $want: $(cat "$T/err")"
		return 1
	fi
	if [ "$want" -ne 0 ] && [ "$want" -ne 2 ]; then
		if [ "$(wc -l <"$T/err")" -ne 1 ] ||
		    ! grep -q '^tapgate-verify: [^:]*: ' "$T/err" ||
		    { [ -s "$T/out" ] && [ "$want" -ne 9 ] &&
		    [ "${printed:-0}" -eq 0 ]; }; then
			notok "$name" "not one message line: $(cat "$T/err")"
			return 1
		fi
	fi
	ok "$name"
}

# expect_msg NAME STATUS PATTERN ARGS...: the same, and stderr matches
expect_msg() {
	name=$1 want=$2 pat=$3; shift 3
	if ! expect "$name" "$want" "$@" >"$T/verdict"; then
		cat "$T/verdict"
		return
	fi
	if grep -q -- "$pat" "$T/err"; then
		cat "$T/verdict"
	else
		notok "$name" "message lacks '$pat': $(cat "$T/err")"
	fi
}

# ---- the good order
expect good_order_is_verified 0 PIN --now "$NOW" "$D/good.jws"

# shellcheck disable=SC2016 # $nbf and $exp are jq's variables
check verified_order_json_has_the_fields jqtrue --argjson nbf "$NBF" \
    --argjson exp "$EXP" '
	.jti == "0f1e2d3c4b5a69788796a5b4c3d2e1f0" and .iss == "tapgate-01"
	and .aud == "ldap-corp" and .nbf == $nbf and .exp == $exp
	and .change.target.account == "alice"
	and .change.target.system == "ldap-corp"
	and .change.typ == "tapgate-change/v1"
	and .approvers == ["officer-ann", "officer-ben"]
	and .approvals_verified == true' "$T/out"
expect good_order_is_read_from_stdin 0 PIN --now "$NOW" - <"$D/good.jws"
tr -d '\n' <"$D/good.jws" >"$T/bare.jws"
expect order_without_final_newline_is_verified 0 PIN --now "$NOW" \
    "$T/bare.jws"
# without --now the real clock decides
clock=$(date +%s)
if [ $((clock + 60)) -lt $NBF ]; then want=7
elif [ $((clock - 60)) -ge $EXP ]; then want=8
else want=0; fi
expect order_is_checked_against_the_real_clock $want PIN "$D/good.jws"

# ---- malformed
{ cat "$D/good.jws"; echo; } >"$T/two_newlines.jws"
expect_msg order_with_two_newlines_is_malformed 3 "malformed" PIN \
    --now "$NOW" "$T/two_newlines.jws"
echo "not.a.token" >"$T/garbage.jws"
expect_msg garbage_is_malformed 3 "malformed" PIN --now "$NOW" \
    "$T/garbage.jws"
: >"$T/empty.jws"
expect empty_order_is_malformed 3 PIN --now "$NOW" "$T/empty.jws"
head -c 70000 /dev/zero | tr '\0' 'A' >"$T/huge.jws"
expect_msg huge_order_is_malformed 3 "over" PIN --now "$NOW" "$T/huge.jws"
expect_msg non_canonical_payload_is_malformed 3 "canonical" PIN \
    --now "$NOW" "$D/noncanonical.jws"
expect_msg change_not_matching_its_digest_is_refused 3 "digest" PIN \
    --now "$NOW" "$D/digest_mismatch.jws"

# ---- keys and signature
expect_msg order_of_an_untrusted_key_is_unknown_kid 4 "unknown kid" PIN \
    --now "$NOW" "$D/forged.jws"
expect_msg order_of_the_es256_key_is_unknown_until_trusted 4 \
    "unknown kid" PIN --now "$NOW" "$D/es256.jws"
expect second_jwks_adds_the_es256_key 0 PIN \
    --jwks "$D/es256_jwks.json" --now "$NOW" "$D/es256.jws"
expect good_order_under_another_jwks_is_unknown_kid 4 \
    --jwks "$D/other_jwks.json" --aud ldap-corp --now "$NOW" "$D/good.jws"
# one payload character changed: A <-> B at offset 10 of the payload
tok=$(cat "$D/good.jws")
hdr=${tok%%.*} rest=${tok#*.}
pay=${rest%%.*} sig=${rest#*.}
c=$(printf '%s' "$pay" | cut -c10)
if [ "$c" = A ]; then n=B; else n=A; fi
pay2=$(printf '%s' "$pay" | sed "s/./$n/10")
printf '%s.%s.%s\n' "$hdr" "$pay2" "$sig" >"$T/tampered.jws"
expect_msg tampered_payload_is_bad_signature 5 "bad signature" PIN \
    --now "$NOW" "$T/tampered.jws"
kid=$(jq -r '.keys[0].kid' "$D/jwks.json")
none=$(printf '{"alg":"none","kid":"%s","typ":"tapgate-order+jwt"}' "$kid" |
    basenc --base64url | tr -d '=\n')
printf '%s.%s.\n' "$none" "$pay" >"$T/none.jws"
expect alg_none_is_refused 5 PIN --now "$NOW" "$T/none.jws"
printf '%s.%s.%s\n' "$none" "$pay" "$sig" >"$T/none_sig.jws"
expect_msg alg_none_with_a_signature_is_bad_signature 5 "none" PIN \
    --now "$NOW" "$T/none_sig.jws"

# ---- audience, issuer, time
expect_msg order_for_another_system_is_wrong_audience 6 "wrong audience" \
    --jwks "$D/jwks.json" --aud payments --now "$NOW" "$D/good.jws"
expect_msg order_from_another_issuer_is_wrong_issuer 6 "wrong issuer" \
    PIN --iss tapgate-02 --now "$NOW" "$D/good.jws"
expect order_from_the_expected_issuer_is_verified 0 PIN --iss tapgate-01 \
    --now "$NOW" "$D/good.jws"
expect_msg order_before_nbf_minus_leeway_is_not_yet_valid 7 \
    "not yet valid" PIN --now "$((NBF - 61))" "$D/good.jws"
expect order_at_nbf_minus_leeway_is_valid 0 PIN --now "$((NBF - 60))" \
    "$D/good.jws"
expect larger_leeway_accepts_earlier 0 PIN --leeway 61 \
    --now "$((NBF - 61))" "$D/good.jws"
expect order_just_before_exp_plus_leeway_is_valid 0 PIN \
    --now "$((EXP + 59))" "$D/good.jws"
expect_msg order_at_exp_plus_leeway_is_expired 8 "expired" PIN \
    --now "$((EXP + 60))" "$D/good.jws"
expect order_at_exp_without_leeway_is_expired 8 PIN --leeway 0 \
    --now $EXP "$D/good.jws"

# ---- approvals
expect_msg revoked_approver_is_refused 10 "revoked" --jwks "$D/jwks.json" \
    --aud ldap-corp --approvers "$D/approvers_ben_revoked.json" \
    --now "$NOW" "$D/good.jws"
expect_msg approval_for_another_change_is_refused 10 "another change" \
    PIN --now "$NOW" "$D/other_change.jws"
expect_msg approval_without_uv_is_refused 10 "verification" PIN \
    --now "$NOW" "$D/no_uv.jws"
expect_msg order_without_approvals_is_refused_when_pinned 10 \
    "bad or missing approver assertion" PIN --now "$NOW" \
    "$D/no_approvals.jws"
expect_msg admin_order_without_approvals_is_refused_at_any_minimum 10 \
    "class admin needs at least 1" PIN --min-approvals 0 --now "$NOW" \
    "$D/no_approvals.jws"
expect two_approvals_meet_a_minimum_of_two 0 PIN --min-approvals 2 \
    --now "$NOW" "$D/good.jws"
expect_msg two_approvals_miss_a_minimum_of_three 10 "at least 3" PIN \
    --min-approvals 3 --now "$NOW" "$D/good.jws"
expect approvals_are_not_checked_without_approvers 0 \
    --jwks "$D/jwks.json" --aud ldap-corp --now "$NOW" \
    "$D/standard_no_uv.jws"
check unchecked_approvals_are_reported_as_such \
    jqtrue '.approvals_verified == false' "$T/out"
expect_msg unchecked_approval_is_refused_once_pinned 10 "verification" \
    PIN --now "$NOW" "$D/standard_no_uv.jws"
expect_msg admin_order_is_refused_without_approvers 10 \
    "no approvers file" --jwks "$D/jwks.json" --aud ldap-corp \
    --now "$NOW" "$D/good.jws"

# ---- the approvals the order's policy required, and the class floors
expect standard_order_without_approvals_passes 0 PIN --now "$NOW" \
    "$D/standard_untouched.jws"
expect standard_order_without_approvals_passes_unpinned 0 \
    --jwks "$D/jwks.json" --aud ldap-corp --now "$NOW" \
    "$D/standard_untouched.jws"
expect admin_order_with_the_approvals_its_policy_required_passes 0 PIN \
    --now "$NOW" "$D/admin_two_of_two.jws"
expect_msg admin_order_short_of_what_its_policy_required_is_refused 10 \
    "required 2 approvals of security_officer, 1 verified" PIN \
    --now "$NOW" "$D/admin_one_of_two.jws"
expect_msg admin_order_whose_policy_asked_none_misses_the_floor 10 \
    "class admin needs at least 1" PIN --now "$NOW" \
    "$D/admin_untouched.jws"
expect_msg floor_raised_on_the_command_line_is_held 10 \
    "class admin needs at least 3" PIN --require admin=3 --now "$NOW" \
    "$D/admin_two_of_two.jws"
expect floor_of_two_is_met_by_two_approvals 0 PIN \
    --require admin=2,finance=2 --now "$NOW" "$D/admin_two_of_two.jws"
expect_msg floor_lowered_lowers_nothing_the_order_required 10 \
    "required 2 approvals" PIN --require admin=0 --now "$NOW" \
    "$D/admin_one_of_two.jws"
expect_msg floor_raised_for_standard_refuses_untouched_orders 10 \
    "class standard needs at least 1" PIN --require shared=1 \
    --require standard=1 --now "$NOW" "$D/standard_untouched.jws"
expect require_without_a_count_is_usage 2 PIN --require admin \
    "$D/good.jws"
expect require_of_a_capitalised_class_is_usage 2 PIN --require Admin=1 \
    "$D/good.jws"
expect require_over_sixteen_is_usage 2 PIN --require admin=17 \
    "$D/good.jws"

# ---- one-time use
DB=$T/redeemed.db
expect first_redemption_succeeds 0 PIN --now "$NOW" --redeem-db "$DB" \
    "$D/good.jws"
expect_msg second_redemption_is_refused 9 "already redeemed" PIN \
    --now $((NOW + 1)) --redeem-db "$DB" "$D/good.jws"
check replay_prints_the_order_before_its_refusal \
    jqtrue '.jti == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"' "$T/out"
check redeem_db_is_private [ "$(stat -c %a "$DB")" = 600 ]
check redemption_is_on_disk [ "$(sqlite3 "$DB" \
    "SELECT jti || ' ' || aud || ' ' || redeemed_at FROM redeemed")" = \
    "0f1e2d3c4b5a69788796a5b4c3d2e1f0 ldap-corp $NOW" ]
expect refused_order_is_not_redeemed 10 PIN --now "$NOW" \
    --redeem-db "$T/other.db" "$D/no_uv.jws"
check refused_order_leaves_no_db [ ! -e "$T/other.db" ]
# eight connectors redeem one order at once: exactly one wins
i=0
while [ $i -lt 8 ]; do
	( "$V" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" \
	    --redeem-db "$T/race.db" "$D/good.jws" >/dev/null 2>&1
	echo $? >"$T/race.$i" ) &
	i=$((i + 1))
done
wait
wins=$(cat "$T"/race.* | grep -c '^0$')
lost=$(cat "$T"/race.* | grep -c '^9$')
check concurrent_redeemers_one_wins test "$wins" -eq 1 -a "$lost" -eq 7
echo "not a database at all, just text" >"$T/text.db"
# output that cannot be written spends nothing: the order is printed
# before it is redeemed (/dev/full fails every write with ENOSPC)
if printf x 2>/dev/null >/dev/full; then
	ok "output_that_fails_spends_nothing # SKIP /dev/full takes writes"
else
	"$V" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" \
	    --redeem-db "$T/full.db" "$D/good.jws" >/dev/full 2>"$T/err"
	rc=$?
	check output_that_fails_is_an_error_not_redeemed sh -c \
	    "[ $rc -eq 1 ] && grep -q 'not redeemed' '$T/err'"
	check output_that_fails_spends_nothing [ ! -e "$T/full.db" ]
fi
# output lost after the redemption (an error only the close reports, as
# NFS does): its own exit status, 11.  A preloaded fclose() makes the
# close of standard output fail; the control shows it is in effect.
cat >"$T/failclose.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

int
fclose(FILE *f)
{
	int (*real)(FILE *) = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");

	if (f == stdout) {
		(void)fflush(f);
		errno = EIO;
		return EOF;
	}
	return real(f);
}
EOF
# control: without --redeem-db the failing close is exit 1
if ! ${CC:-cc} -shared -fPIC -o "$T/failclose.so" "$T/failclose.c" \
    -ldl 2>"$T/cc.log" ||
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$T/failclose.so" \
    "$V" --jwks "$D/jwks.json" --aud ldap-corp \
    --approvers "$D/approvers.json" --now "$NOW" "$D/good.jws" \
    >"$T/out" 2>"$T/err" ||
    ! grep -q 'output lost' "$T/err"; then
	ok "output_lost_after_redemption_is_11 # SKIP cannot make fclose fail"
else
	ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$T/failclose.so" \
	    "$V" --jwks "$D/jwks.json" --aud ldap-corp \
	    --approvers "$D/approvers.json" --now "$NOW" \
	    --redeem-db "$T/lost.db" "$D/good.jws" >"$T/out" 2>"$T/err"
	rc=$?
	check output_lost_after_redemption_is_11 sh -c "[ $rc -eq 11 ] &&
	    grep -q 'IS redeemed' '$T/err'"
	check output_lost_order_is_spent [ "$(sqlite3 "$T/lost.db" \
	    "SELECT count(*) FROM redeemed")" = 1 ]
fi
printed=1 expect redeem_into_a_foreign_file_fails 1 PIN --now "$NOW" \
    --redeem-db "$T/text.db" "$D/good.jws"
printed=0

# ---- usage and I/O
expect no_arguments_is_usage 2
expect min_approvals_without_approvers_is_usage 2 --jwks "$D/jwks.json" \
    --aud ldap-corp --min-approvals 1 --now "$NOW" "$D/good.jws"
expect leeway_over_an_hour_is_usage 2 PIN --leeway 3601 "$D/good.jws"
expect now_not_a_number_is_usage 2 PIN --now yesterday "$D/good.jws"
expect help_exits_0 0 --help
check help_lists_every_exit_status sh -c "for n in 1 2 3 4 5 6 7 8 9 10 11; do
    grep -q \"^ *\$n  \" '$T/out' || exit 1; done"
expect help_with_other_arguments_is_usage 2 --help PIN "$D/good.jws"
expect help_after_other_arguments_is_usage 2 PIN --help "$D/good.jws"
expect version_with_other_arguments_is_usage 2 --version --aud x
expect version_exits_0 0 --version
expect missing_order_file_is_other 1 PIN --now "$NOW" "$T/nonexistent.jws"
expect missing_jwks_is_other 1 --jwks "$T/nonexistent.json" --aud x \
    --now "$NOW" "$D/good.jws"
expect approvers_file_that_is_a_jwks_is_other 1 --jwks "$D/jwks.json" \
    --aud ldap-corp --approvers "$D/jwks.json" --now "$NOW" "$D/good.jws"

# ---- an independent JOSE implementation on the appliance signature
PY=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import jwcrypto' 2>/dev/null; then PY=$p; break; fi
done
jose() {	# jwks token: 0 when jwcrypto verifies the signature
	"$PY" - "$1" "$2" <<'EOF'
import sys
from jwcrypto import jwk, jws
keys = jwk.JWKSet.from_json(open(sys.argv[1]).read())
t = jws.JWS()
t.deserialize(open(sys.argv[2]).read().strip())
k = keys.get_key(t.jose_header["kid"])
if k is None:
    sys.exit(3)
try:
    t.verify(k, alg=t.jose_header["alg"])
except jws.InvalidJWSSignature:
    sys.exit(2)
EOF
}
if [ -z "$PY" ]; then
	notok jwcrypto_available "python3-jwcrypto is not installed"
else
	check jwcrypto_verifies_the_eddsa_order jose "$D/jwks.json" \
	    "$D/good.jws"
	check jwcrypto_verifies_the_es256_order jose "$D/es256_jwks.json" \
	    "$D/es256.jws"
	jose "$D/jwks.json" "$T/tampered.jws" 2>/dev/null
	check jwcrypto_refuses_the_tampered_order [ $? -eq 2 ]
fi

# ---- a connector built against the installed library
P=$T/prefix
mkdir -p "$P/lib/pkgconfig" "$P/include"
cp "$BUILD/libtapgate-verify.a" "$P/lib/"
cp src/verify/tapgate_verify.h "$P/include/"
sed -e "s|@PREFIX@|$P|" -e 's|@VERSION@|0|' \
    src/verify/tapgate-verify.pc.in >"$P/lib/pkgconfig/tapgate-verify.pc"
cat >"$T/connector.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <tapgate_verify.h>

int
main(int argc, char **argv)
{
	struct tgv_ctx *ctx = NULL;
	struct tgv_order *o = NULL;
	char tok[70000];
	size_t n;
	FILE *f;
	int r;

	if (argc != 4 || (f = fopen(argv[3], "r")) == NULL)
		return 2;
	n = fread(tok, 1, sizeof(tok), f);
	fclose(f);
	while (n > 0 && tok[n - 1] == '\n')
		n--;
	if ((r = tgv_ctx_new(&ctx)) != 0 ||
	    (r = tgv_load_jwks_file(ctx, argv[1])) != 0 ||
	    (r = tgv_load_approvers_file(ctx, argv[2])) != 0 ||
	    (r = tgv_set_audience(ctx, "ldap-corp")) != 0 ||
	    (r = tgv_verify(ctx, tok, n, 1800000000, &o)) != 0) {
		fprintf(stderr, "%s: %s\n", tgv_strerror(r), tgv_errmsg(ctx));
		tgv_ctx_free(&ctx);
		return 1;
	}
	printf("%s %s\n", tgv_order_target_account(o), tgv_order_jti(o));
	tgv_order_free(&o);
	tgv_ctx_free(&ctx);
	return 0;
}
EOF
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
# the archive may be built with sanitizers; their runtime is then needed
# shellcheck disable=SC2046 # pkg-config prints flags, one word each
if ${CC:-cc} -std=c99 -Wall -Werror -pedantic \
    -fsanitize=address,undefined -o "$T/connector" "$T/connector.c" \
    $(pkg-config --cflags tapgate-verify) \
    $(pkg-config --static --libs tapgate-verify) 2>"$T/cc.log"; then
	ok connector_builds_with_pkg_config
	check connector_verifies_the_order [ "$("$T/connector" \
	    "$D/jwks.json" "$D/approvers.json" "$D/good.jws")" = \
	    "alice 0f1e2d3c4b5a69788796a5b4c3d2e1f0" ]
else
	notok connector_builds_with_pkg_config "$(head -5 "$T/cc.log")"
fi

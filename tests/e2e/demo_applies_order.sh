#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo as a newcomer sees it: scripts/demo.sh succeeds, shows what
# the directory says of alice (admin by her groups, no hint in her name;
# her contacts masked) before anyone approves, and ends with
# the shipped LDAP connector applying the co-signed order to the demo's
# private slapd -- alice out of domain-admins (the group the order
# names as a DN), her password reset and
# to be changed at her next logon, shown by a final search and a bind --
# and refusing the replay, the appliance showing the outcome the connector
# reported (it redeems online); the audit tail it prints is whole (each entry's
# details a complete JSON object, not cut at a column).  With aiosmtpd,
# it shows the mail alice received through the shipped mail sender: to
# her, naming the change, with a veto code.
set -u
BUILD=${BUILD:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_ppolicy.sh

ok() { echo "ok $1"; }
notok() { echo "not ok $1"; shift; [ $# -gt 0 ] && echo "#   $*"; }
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else notok "$name" "failed: $*"; fi
}

if ! ldap_have_ppolicy || ! command -v jq >/dev/null ||
    ! command -v curl >/dev/null; then
	echo "ok demo_applies_order # SKIP slapd with ppolicy, ldap-utils," \
	    "jq or curl missing (make deps)"
	exit 0
fi
for p in tapgated tapgatectl tapgate-verify softfido; do
	if [ ! -x "$BUILD/$p" ]; then
		notok demo_programs_built "$BUILD/$p missing"
		exit 1
	fi
done

DEMO_DIR=$T/demo timeout 120 sh scripts/demo.sh "$BUILD" >"$T/out" 2>&1
rc=$?
check demo_succeeds [ $rc -eq 0 ]
[ $rc -eq 0 ] || tail -n 20 "$T/out" | sed 's/^/#   /'

# section NAME: the lines of the step whose title starts with NAME
section() {
	awk -v t="== $1" 'index($0, t) == 1 { on = 1; next }
	    /^== / { on = 0 } on' "$T/out"
}
section "the help desk submits" >"$T/submit"
check demo_shows_alice_admin_by_her_directory_groups \
    grep -q 'found     admin: member of cn=domain-admins,ou=groups,dc=corp,dc=test' \
    "$T/submit"
check demo_answer_is_admin_though_claimed_standard \
    grep -q '"class": "admin"' "$T/submit"
check demo_shows_her_contacts_masked grep -qF 'mobile +44 … 0123' "$T/submit"
check demo_never_shows_her_mobile_whole \
    sh -c "! grep -q '7700 900123' $T/out"
section "alice hears of it" >"$T/mail"
if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	check demo_shows_the_mail_alice_received sh -c "
	    grep -q '^  To: alice@corp.test$' $T/mail &&
	    grep -q '^  Subject: tapgate: password_reset of alice' $T/mail"
	check demo_mail_carries_a_veto_code grep -q \
	    '^  |     [2-9A-Z]\{4\}-[2-9A-Z]\{4\}-[2-9A-Z]\{4\}$' "$T/mail"
	section "a code to the mail on record" >"$T/challenge"
	check demo_code_goes_to_the_mail_on_record_masked_to_the_agent sh -c "
	    grep -q '\"destination\": \"a…@corp.test\"' $T/challenge &&
	    grep -q '^  To: alice@corp.test$' $T/challenge &&
	    grep -q '^  | The code: [0-9]\{8\}$' $T/challenge"
	check demo_code_read_back_is_one_appliance_verified_kind grep -q \
	    'needs 2 appliance-verified kinds, has 1' "$T/challenge"
	section "alice reads one of her saved recovery codes" >"$T/saved"
	check demo_saved_code_makes_two_kinds_and_the_request_needs_approval \
	    sh -c "grep -q '\"state\": \"needs_approval\"' $T/saved &&
	    grep -q '^verified  2 of 2 by the appliance' $T/saved"
else
	for c in demo_shows_the_mail_alice_received \
	    demo_mail_carries_a_veto_code \
	    demo_code_goes_to_the_mail_on_record_masked_to_the_agent \
	    demo_code_read_back_is_one_appliance_verified_kind \
	    demo_saved_code_makes_two_kinds_and_the_request_needs_approval; do
		echo "ok $c # SKIP no python3-aiosmtpd"
	done
fi
section "the order as tapgate-verify reads it" >"$T/order"
check demo_order_names_her_dn_and_the_groups_it_drops \
    sh -c "grep -q '\"dn\": \"uid=alice,ou=people,dc=corp,dc=test\"' $T/order &&
    grep -q '\"groups\": \[' $T/order"
section "the connector applies it" >"$T/apply"
check demo_connector_applies_the_order \
    grep -q '^tapgate-ldap-apply: order [0-9a-f]* applied: password of alice' \
    "$T/apply"
check demo_connector_drops_the_privileged_group \
    grep -q '^tapgate-ldap-apply: uid=alice,.* removed from cn=domain-admins' \
    "$T/apply"
check demo_connector_refuses_the_replay grep -q 'already redeemed' "$T/apply"
check demo_appliance_shows_the_outcome_reported \
    sh -c "grep -q '\"state\": \"applied\"' $T/apply &&
    grep -q 'password of uid=alice,ou=people,dc=corp,dc=test reset' $T/apply"
section "the directory now" >"$T/after"
check demo_final_search_shows_the_password_reset_and_marked \
    sh -c "grep -q '^pwdChangedTime: ' $T/after && grep -q '^pwdReset: TRUE' $T/after"
check demo_final_search_shows_alice_out_of_domain_admins \
    sh -c "grep -q '^dn: cn=domain-admins' $T/after && ! grep -q '^member: uid=alice' $T/after"
check demo_alice_must_change_the_temporary_password \
    grep -q 'Password must be changed' "$T/after"

# every audit entry: a heading line, then its details as one JSON object
section "the audit log" | sed -n 's/^       \({.*\)$/\1/p' >"$T/details"
n=$(wc -l <"$T/details")
bad=0
while IFS= read -r d; do
	printf '%s' "$d" | jq -e 'type == "object"' >/dev/null 2>&1 ||
	    bad=$((bad + 1))
done <"$T/details"
check demo_audit_tail_prints_whole_details [ "$n" -ge 10 -a "$bad" -eq 0 ]
check demo_audit_tail_shows_the_order_issued \
    sh -c "grep -q 'order.issued' $T/out && grep -q '\"jti\":\"[0-9a-f]*\"' $T/details"

#!/bin/sh
# SPDX-License-Identifier: ISC
# The cool-down after an officer's own recovery starts when that recovery
# is approved (its order co-signed), not when one is asked for: an intake
# caller who submits requests against every officer's account locks no
# one out.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
key_start cid
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
enroll officer-cid security_officer cid

# the attack: an intake caller without any other role asks for a
# recovery of every officer's account
for o in officer-ann officer-ben officer-cid; do
	api_as 65534 POST /v1/requests "$(req password_reset "$o" admin hd-bob \
	    phone "[$OOB,$PRF,$IDD]")"
	[ "$STATUS" = 201 ] || break
	[ "$o" = officer-ann ] && ANN_RESET=$(jbody .id)
done
check intake_caller_submits_recoveries_of_officers_accounts [ "$STATUS" = 201 ]
ID=$(admin_reset alice)
approve "$ID" ann
check officer_whose_recovery_was_only_asked_for_still_approves [ $? -eq 0 ]
approve "$ID" ben
check every_targeted_officer_still_approves grep -q in_hold "$T/approve.out"

# a recovery of officer-ann's account is approved and co-signed
approve "$ANN_RESET" ben && approve "$ANN_RESET" cid
i=0
while [ $i -lt 100 ]; do
	api GET "/v1/orders/$ANN_RESET"
	[ "$STATUS" = 200 ] && break
	sleep 0.1
	i=$((i + 1))
done
check recovery_of_the_officers_account_is_cosigned [ "$STATUS" = 200 ]
ID=$(admin_reset bob)
approve "$ID" ann
check officer_whose_recovery_was_approved_is_in_cooldown \
    [ "$(approve_code)" = approver_in_cooldown ]
check cooldown_refusal_says_the_recovery_was_approved \
    grep -q "a recovery of approver officer-ann's own account was approved" \
    "$T/approve.err"
approve "$ID" ben
check other_officers_are_not_in_cooldown [ $? -eq 0 ]

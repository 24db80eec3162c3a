#!/bin/sh
# SPDX-License-Identifier: ISC
# The enrolment exclude list has no cap.  softfido takes at most 8
# credential ids in a list (getInfo's maxCredentialCountInList, like many
# hardware keys); the appliance here holds more than 32 active or
# compromised credentials, so every check crosses both the key's limit and
# the 32 the exclude list was once cut at.  Every credential is a real one:
# each officer's key is a softfido enrolled through the daemon (the keys
# of officers not under test are stopped once enrolled, as unplugged
# keys; their credentials stay enrolled).  Enrolling them all takes a
# few seconds.
#
# The exclude list, in the store's order, strict part first (active and
# compromised credentials), then those revoked for a cause that allows
# re-enrolment; the key takes it in batches of 8, probed silently:
#   strict 0-8 fillers, 9 "lost", 10-33 fillers, 34 "stolen" (past 32),
#          35-42 fillers, 43 "cloned", 44 filler
#   again  45 "left", 46-53 role-change fillers, 54 "replaced"
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }

jqe() { jqtrue "$@"; }
nenrolled() {
	CTL approvers list --all --json | jq '.approvers | length'
}
# a key that stays plugged in, logging each frame and touch (-v)
target() { key_start "$1" -v && enroll "officer-$1" security_officer "$1"; }
# fillers FIRST LAST: officers f<N>, their keys enrolled then unplugged
fillers() {
	i=$1
	while [ "$i" -le "$2" ]; do
		key_start "f$i" && enroll "officer-f$i" security_officer "f$i" ||
		    return 1
		# f20 and f40 stay, to approve with
		if [ "$i" != 20 ] && [ "$i" != 40 ]; then
			pid=${KEYS##* }
			kill "$pid"
			wait "$pid" 2>/dev/null
			KEYS=${KEYS% *}
		fi
		i=$((i + 1))
	done
}
# reenrol NAME KEY: exit status of tapgatectl approvers enroll
reenrol() { echo "$PIN" | CTL approvers enroll --name "$1" \
    --group security_officer --device "softfido:$T/$2.sock" \
    >"$T/enrol.out" 2>"$T/enrol.err"; }
# touches KEY / probes KEY: touches, and getAssertion requests, so far
touches() { grep -c 'touch wait ends: touched' "$T/$1.log"; }
probes() { grep -c '^.*rx .* ctap=0x02' "$T/$1.log"; }
refused_as_enrolled() {
	[ "$1" -ne 0 ] && grep -q already_enrolled "$T/enrol.err"
}

t0=$(date +%s)
fillers 1 9 && target lost && fillers 10 33 && target stolen &&
    fillers 34 41 && target cloned && fillers 42 42 && target left &&
    fillers 43 50 && target replaced
check enrolment_goes_on_past_the_keys_list_limit_and_past_32 \
    [ "$(nenrolled)" = 55 ]
echo "# 55 officers enrolled in $(($(date +%s) - t0)) s"
check the_key_was_probed_silently_past_its_list_limit \
    sh -c "[ $(probes replaced) -ge 6 ] && [ $(touches replaced) = 1 ]"

CTL approvers revoke officer-lost --cause lost >/dev/null &&
    CTL approvers revoke officer-stolen --cause stolen >/dev/null &&
    CTL approvers revoke officer-cloned --cause cloned >/dev/null &&
    CTL approvers revoke officer-left --cause left >/dev/null &&
    CTL approvers revoke officer-replaced --cause replaced >/dev/null
check revocations_are_accepted [ $? -eq 0 ]
for i in 43 44 45 46 47 48 49 50; do
	CTL approvers revoke "officer-f$i" --cause role-change >/dev/null
done
CTL approvers list --all --json >"$T/list.json"
check exclude_list_is_45_strict_and_10_re_enrollable \
    jqe '[.approvers[] | select(.reenrollable | not)] | length == 45' \
    "$T/list.json"

# compromised keys, wherever their credential sits, are never enrolled again
before=$(nenrolled)
reenrol officer-lost lost
check key_revoked_as_lost_in_the_second_batch_is_refused \
    refused_as_enrolled $?
reenrol mallory stolen
check key_revoked_as_stolen_past_32_is_refused_under_another_name \
    refused_as_enrolled $?
reenrol officer-cloned cloned
check key_revoked_as_cloned_in_the_last_batch_is_refused \
    refused_as_enrolled $?
reenrol officer-dup f20
check active_key_past_the_first_batch_cannot_be_enrolled_twice \
    refused_as_enrolled $?
check refused_keys_add_no_approver [ "$(nenrolled)" = "$before" ]

# re-enrollable keys come back, with a second touch and no more
t=$(touches left)
reenrol officer-left left
check key_revoked_as_left_past_the_first_batch_is_re_enrolled \
    sh -c "[ $? -eq 0 ] && grep -q '^re-enrolled' $T/enrol.out"
check re_enrolment_took_two_touches_the_probes_none \
    [ "$(($(touches left) - t))" = 2 ]
reenrol officer-replaced replaced
check key_revoked_as_replaced_in_the_last_batch_is_re_enrolled \
    sh -c "[ $? -eq 0 ] && grep -q '^re-enrolled' $T/enrol.out"

# a key nobody enrolled before goes through the whole list
target fresh
check fresh_key_enrols_past_a_list_of_57 [ $? -eq 0 ]
check fresh_key_was_touched_once [ "$(touches fresh)" = 1 ]

CTL audit tail -n 200 --json >"$T/audit.json"
check refusals_are_audited \
    jqe '[.entries[] | select(.event == "approver.enrol_refused" and .details.reason == "key already enrolled, or revoked for compromise")] | length == 4' \
    "$T/audit.json"
AAGUID=$(CTL approvers list --json | jq -r '.approvers[] | select(.name == "officer-fresh") | .aaguid')
check approvers_list_shows_softfidos_aaguid \
    [ "$AAGUID" = cc3ca483-7ac0-a9c5-0f5f-fee96ec4fac7 ]
# shellcheck disable=SC2016 # $a: jq variable
check enrolment_audit_records_the_aaguid \
    jqe --arg a "$AAGUID" '[.entries[] | select(.event == "approver.enrolled" and .details.name == "officer-fresh") | .details.aaguid] == [$a]' \
    "$T/audit.json"
# shellcheck disable=SC2016 # $a: jq variable
check re_enrolment_audit_records_the_aaguid \
    jqe --arg a "$AAGUID" '[.entries[] | select(.event == "approver.reenrolled") | .details.aaguid] == [$a, $a]' \
    "$T/audit.json"

# an approval's allow list is longer than the key takes as well
ID=$(admin_reset alice)
approve "$ID" f20
check officer_past_the_keys_list_limit_approves [ $? -eq 0 ]
# the approval's allow list was once cut at 32 credentials too: f40's is
# about the 40th active one
approve "$ID" f40
check officer_past_the_32nd_active_credential_approves [ $? -eq 0 ]
api GET "/v1/requests/$ID"
check both_approvals_count_past_32_officers \
    [ "$STATUS:$(jbody .state)" = 200:in_hold ]

# A lost key of another model, whose credential ids are 64 bytes: softfido
# takes ids of 32 at most, so it cannot be asked about that one and is
# refused, loudly.  The row is written straight into the database: no
# software key here makes ids that long.
sqlite3 "$T/state/tapgate.db" "INSERT INTO approvers (name, approver_group,
    cred_id, pubkey, alg, enrolled, revoked, revoked_at, revoke_reason)
    VALUES ('officer-longid', 'security_officer', randomblob(64),
    randomblob(64), -7, 1, 1, 2, 'lost: another model')"
check control_long_id_is_stored [ "$(nenrolled)" = 59 ]
key_start fresh2
reenrol officer-fresh2 fresh2
check key_that_cannot_be_asked_about_every_credential_is_refused \
    sh -c "[ $? -ne 0 ] && grep -q key_unsupported $T/enrol.err"
CTL audit tail -n 1 --json >"$T/audit.json"
check that_refusal_is_audited \
    jqe '.entries[0] | .event == "approver.enrol_refused" and .details.name == "officer-fresh2"' \
    "$T/audit.json"
CTL audit verify >/dev/null
check audit_verifies [ $? -eq 0 ]
echo "# enrol_exclude ran in $(($(date +%s) - t0)) s"

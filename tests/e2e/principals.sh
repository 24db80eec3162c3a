#!/bin/sh
# SPDX-License-Identifier: ISC
# Who is asking, from the attacker's side.  Intake callers are named
# principals of their peer credentials: an agent cannot name another
# agent, an integration only the agents it lists, a caller without a
# principal submits nothing.  A scoped team (an outsourced help desk)
# cannot ask for an admin or finance recovery, by claim or by the
# account's configured class, nor see another team's requests by list,
# id or prefix.  An officer who also takes calls cannot approve his own
# request under a variant of his name.  Every refusal stores nothing and
# is audited.
# shellcheck disable=SC2016 # the $names in single quotes are jq's
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

# uids: 2001 hd-amy (helpdesk), 2002 ext-olga and 2006 ext-pat
# (outsourced), gid 2100 the ticketing integration (as uid 2003),
# 2004 officer-ben (helpdesk, also an officer), 2005 intake without a
# principal, 2007 hd-dan (helpdesk, enrolled as the officer officer-dan)
make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n    { uid = 2001; roles = ["intake"]; },\n    { uid = 2002; roles = ["intake"]; },\n    { gid = 2100; roles = ["intake"]; },\n    { uid = 2004; roles = ["intake"]; },\n    { uid = 2007; roles = ["intake"]; },\n    { uid = 2005; roles = ["intake"]; },\n    { uid = 2006; roles = ["intake"]; },/' \
    's/^(teams = \()$/\1\n    { name = "outsourced"; queues = ["password_reset", "mfa_reset"];\n      classes = ["standard"]; systems = ["ldap-corp"]; },/' \
    's/^(principals = \()$/\1\n    { uid = 2001; name = "hd-amy"; team = "helpdesk"; },\n    { uid = 2002; name = "ext-olga"; team = "outsourced"; },\n    { uid = 2006; name = "ext-pat"; team = "outsourced"; },\n    { gid = 2100; name = "ticketing"; team = "helpdesk"; integration = true;\n      agents = ["hd-amy", "officer-ben"]; },\n    { uid = 2004; name = "officer-ben"; team = "helpdesk"; },\n    { uid = 2007; name = "hd-dan"; team = "helpdesk"; officer = "officer-dan"; },/'
grep -q 'name = "ticketing"' "$T/tapgate.conf" ||
    { notok config_has_the_test_principals; exit 1; }
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }

check start_names_the_intake_caller_without_principal grep -q \
    'uid 2005 holds the intake role but no principal names it' \
    "$T/daemon.log"
check start_names_no_intake_caller_with_a_principal sh -c \
    "! grep -E '(uid 200[1-4]|gid 2100) holds the intake' '$T/daemon.log'"
# the control: the machine runs callers under other uids and gids
if ! setpriv --reuid=2001 --regid=2100 --clear-groups true 2>/dev/null; then
	skip principals "setpriv cannot change uid and gid here"
	exit 0
fi

# api_gid UID GID METHOD PATH [BODY]: api_as with a primary gid of its own
api_gid() {
	ag_u=$1 ag_g=$2; shift 2
	ag_m=$1 ag_p=$2; shift 2
	: >"$T/body"
	STATUS=$(setpriv --reuid="$ag_u" --regid="$ag_g" --clear-groups \
	    curl -s -o - -w '\n%{http_code}' --max-time 60 \
	    --unix-socket "$T/api.sock" -X "$ag_m" \
	    -H 'Content-Type: application/json' \
	    ${1:+--data-binary "$1"} "http://tapgated$ag_p" |
	    tee "$T/body.as" | tail -n 1)
	case $STATUS in
	''|000) STATUS=000 ;;
	*) sed '$d' "$T/body.as" >"$T/body" ;;
	esac
}
# stored: how many requests the appliance holds (root sees all)
stored() {
	api GET '/v1/requests?limit=1000'
	[ "$STATUS" = 200 ] && jbody '.requests | length'
}
# refused_audited CODE: one more request.refused entry than the last
# time, the newest with code CODE and no request (the timer audits
# requests whose holds end meanwhile: the newest entry may be another)
REFUSALS=0
refused_audited() {
	api GET '/v1/audit?limit=10000'
	[ "$STATUS" = 200 ] && jqtrue --arg c "$1" --argjson n "$REFUSALS" '
	    [.entries[] | select(.event == "request.refused")] |
	    length == $n + 1 and (.[-1] | .details.code == $c and
	    .request_id == null)' "$T/body" &&
	    REFUSALS=$((REFUSALS + 1))
}
# refused NAME STATUS CODE BEFORE: the call was refused so, nothing was
# stored, and the refusal was audited; its message in $REFUSAL
refused() {
	rf_name=$1 rf_status=$2 rf_code=$3 rf_before=$4
	rf_got="$STATUS $(jbody .error.code)"
	rf_msg=$(jbody .error.message)
	REFUSAL=$rf_msg
	if [ "$rf_got" != "$rf_status $rf_code" ]; then
		notok "$rf_name" "HTTP $rf_got: $rf_msg"
	elif ! unchanged "$rf_before" "$(stored)"; then
		notok "$rf_name" "a request was stored"
	elif ! refused_audited "$rf_code"; then
		notok "$rf_name" "no request.refused audit entry"
	else
		ok "$rf_name"
	fi
}
std() {	# account [class [agent [queue [system]]]]: a request body
	printf '{"queue":"%s","target":{"account":"%s","system":"%s"%s},' \
	    "${4:-password_reset}" "$1" "${5:-ldap-corp}" \
	    "${2:+,\"class\":\"$2\"}"
	printf '"requester":{"agent":"%s","channel":"phone"},' "${3:-hd-amy}"
	printf '"evidence":[%s,%s,%s],"changes":%s}' "$OOB" "$PRF" "$IDD" \
	    "$(changes_of "${4:-password_reset}")"
}

# --- an agent is who its peer credentials say
api_as 2001 POST /v1/requests "$(std alice "" hd-amy)"
check agent_submits_as_itself [ "$STATUS" = 201 ]
AMY=$(jbody .id)
api GET "/v1/requests/$AMY"
check request_records_principal_and_team jqtrue '.requester.agent ==
    "hd-amy" and .requester.principal == "hd-amy" and
    .requester.team == "helpdesk" and .requester.uid == 2001' "$T/body"
N=$(stored)
api_as 2001 POST /v1/requests "$(std bob "" hd-bob)"
refused agent_cannot_name_another_agent 403 agent_not_allowed "$N"
api_as 2001 POST /v1/requests "$(std bob "" 'hd-amy ')"
refused agent_cannot_name_itself_with_a_trailing_space 403 \
    agent_not_allowed "$N"
api_as 2001 POST /v1/requests "$(std bob "" HD-Amy)"
refused agent_cannot_name_itself_in_capitals 403 agent_not_allowed "$N"

# --- an integration names only the agents it lists
api_gid 2003 2100 POST /v1/requests "$(std carl "" hd-amy)"
check integration_names_a_listed_agent [ "$STATUS" = 201 ]
TIX=$(jbody .id)
api GET "/v1/requests/$TIX"
check integration_request_records_agent_and_principal jqtrue \
    '.requester.agent == "hd-amy" and .requester.principal ==
    "ticketing" and .requester.team == "helpdesk"' "$T/body"
N=$(stored)
api_gid 2003 2100 POST /v1/requests "$(std carl "" hd-bob)"
refused integration_cannot_name_an_unlisted_agent 403 agent_not_allowed \
    "$N"
api_gid 2003 2100 POST /v1/requests "$(std carl "" ext-olga)"
refused integration_cannot_name_another_teams_principal 403 \
    agent_not_allowed "$N"
N=$(stored)

# --- a caller without a principal
api_as 2005 POST /v1/requests "$(std dave "" hd-amy)"
refused intake_without_principal_cannot_submit 403 no_principal "$N"
check refusal_names_the_principals_setting \
    sh -c "printf %s \"\$1\" | grep -q principals" - "$REFUSAL"
api_as 2005 GET /v1/requests
check intake_without_principal_cannot_list \
    answered 403 '.error.code == "no_principal"'
api_as 2005 GET "/v1/requests/$AMY"
check intake_without_principal_cannot_show \
    answered 403 '.error.code == "no_principal"'
api_as 2005 GET /healthz
check caller_without_principal_still_gets_health [ "$STATUS" = 200 ]

# --- a scoped team: standard password and MFA resets on ldap-corp only
api_as 2002 POST /v1/requests "$(std erin "" ext-olga)"
check scoped_team_submits_within_its_scope jqtrue '.class == "standard"' \
    "$T/body"
[ "$STATUS" = 201 ] || notok scoped_team_submission "HTTP $STATUS"
OLGA=$(jbody .id)
N=$(stored)
api_as 2002 POST /v1/requests "$(std erin admin ext-olga)"
refused scoped_team_cannot_claim_admin 403 out_of_scope "$N"
check scope_refusal_names_the_class \
    sh -c "printf %s \"\$1\" | grep -q 'class admin is outside'" - \
    "$REFUSAL"
api_as 2002 POST /v1/requests "$(std erin finance ext-olga)"
refused scoped_team_cannot_claim_finance 403 out_of_scope "$N"
api_as 2002 POST /v1/requests "$(std administrator "" ext-olga)"
refused scoped_team_cannot_recover_a_configured_admin 403 out_of_scope "$N"
api_as 2002 POST /v1/requests "$(std fin-kim "" ext-olga)"
refused scoped_team_cannot_recover_a_configured_finance_account 403 \
    out_of_scope "$N"
api_as 2002 POST /v1/requests "$(std erin "" ext-olga privilege_change)"
refused scoped_team_cannot_use_another_queue 403 out_of_scope "$N"
api_as 2002 POST /v1/requests "$(std erin "" ext-olga password_reset \
    payments)"
refused scoped_team_cannot_use_another_system 403 out_of_scope "$N"
# the control: the unscoped team submits what the scoped one may not
api_as 2001 POST /v1/requests "$(std administrator "" hd-amy)"
check unscoped_team_submits_an_admin_recovery \
    answered 201 '.class == "admin"'
ADM=$(jbody .id) ADM_STATE=$(jbody .state)

# --- a scoped team sees its own team's requests only
api_as 2006 POST /v1/requests "$(std gina "" ext-pat)"
check second_member_of_the_scoped_team_submits [ "$STATUS" = 201 ]
PAT=$(jbody .id)
api_as 2002 GET /v1/requests
check scoped_team_lists_its_teams_requests_only jqtrue --arg o "$OLGA" \
    --arg p "$PAT" '[.requests[].id] | sort == ([$o, $p] | sort)' \
    "$T/body"
api_as 2002 GET '/v1/requests?queue=password_reset&state=needs_approval'
check scoped_team_filtered_list_stays_in_the_team jqtrue \
    '[.requests[].team] | all(. == "outsourced")' "$T/body"
# the control: an unscoped caller with the officer role sees them all
api GET /v1/requests
check officer_lists_every_teams_requests jqtrue --arg a "$ADM" \
    --arg o "$OLGA" '[.requests[].id] | index($a) != null and
    index($o) != null' "$T/body"
api_as 2002 GET "/v1/requests/$ADM"
check scoped_team_cannot_show_another_teams_request \
    answered 404 '.error.code == "not_found"'
api_as 2002 GET "/v1/requests/$PAT"
check scoped_team_shows_its_teams_request answered 200 \
    '.requester.principal == "ext-pat"'
PFX=$(printf %s "$ADM" | cut -c1-4)
api_as 2002 GET "/v1/requests?prefix=$PFX"
check scoped_team_prefix_search_hides_other_teams answered 200 \
    '[.requests[].id] | index($a) == null' --arg a "$ADM"
api_as 2002 GET "/v1/requests?prefix=$ADM"
check scoped_team_full_id_prefix_finds_nothing answered 200 \
    '.requests == []'
api "GET" "/v1/requests?prefix=$PFX"
check officer_prefix_search_finds_it answered 200 \
    '[.requests[].id] | index($a) != null' --arg a "$ADM"
api_as 2002 POST "/v1/requests/$ADM/evidence" "{\"evidence\":[$OOB]}"
check scoped_team_cannot_add_evidence_to_another_teams_request \
    [ "$STATUS" = 404 ]
api_as 2002 POST "/v1/requests/$ADM/veto" '{"reason":"not mine"}'
check scoped_team_cannot_veto_another_teams_request [ "$STATUS" = 404 ]
api GET "/v1/requests/$ADM"
check other_teams_request_is_untouched answered 200 \
    '.state == $s and (.decisions | length) == 0' --arg s "$ADM_STATE"

# --- separation of duties: an officer who also takes calls
key_start ben
key_start ann
key_start dan
if ! enroll officer-ben security_officer ben ||
    ! enroll officer-ann security_officer ann ||
    ! enroll officer-dan security_officer dan; then
	notok officers_enrol "$(cat "$T/enrol.err")"
	exit 1
fi
N=$(stored)
for v in 'officer-ben ' ' officer-ben' Officer-Ben 'officer-b\u0435n' \
    'officer-ben\u200b' '\uff4ffficer-ben'; do
	api_as 2004 POST /v1/requests "$(std root "" "$v")"
	refused "officer_cannot_submit_as_variant_$(printf %s "$v" |
	    tr -c 'a-zA-Z0-9\n' _)" 403 agent_not_allowed "$N"
done
api_as 2004 POST /v1/requests "$(std root "" officer-ben)"
check officer_submits_under_his_principal [ "$STATUS" = 201 ]
BEN=$(jbody .id)
approve "$BEN" ben
check officer_cannot_approve_his_own_request \
    [ "$(approve_code)" = is_requester ]
api_gid 2003 2100 POST /v1/requests "$(std root "" officer-ben)"
BEN2=$(jbody .id)
approve "$BEN2" ben
check officer_cannot_approve_what_an_integration_filed_for_him \
    [ "$(approve_code)" = is_requester ]
# the control: another officer's approval counts
approve "$BEN" ann
check another_officer_approves_it [ $? -eq 0 ]
api GET "/v1/requests/$BEN"
check only_the_other_officers_approval_counts answered 200 \
    '.decision.approvals.groups[0].counted == 1 and
    ([.approvals[].officer] == ["officer-ann"])'
# an agent enrolled as an officer under another name
api_as 2007 POST /v1/requests "$(std root "" hd-dan)"
check agent_with_an_officer_name_submits [ "$STATUS" = 201 ]
DAN=$(jbody .id)
approve "$DAN" dan
check officer_cannot_approve_under_another_name_than_his_principal \
    [ "$(approve_code)" = is_requester ]
approve "$DAN" ann
check others_approve_the_request_of_that_agent [ $? -eq 0 ]
daemon_stop

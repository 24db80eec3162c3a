#!/bin/sh
# SPDX-License-Identifier: ISC
# The directory process's life, against a private slapd.  The confined
# monitor cannot start a new one (its filter has no IP socket and a
# filter is inherited), so a directory process that is killed makes the
# daemon audit directory.exited, log an ALARM and stop with status 1 for
# its supervisor to start both afresh.  One that stalls mid-answer
# (SIGSTOP) costs the submission its budget and a 503 with nothing
# stored, while the daemon serves its other routes; then it is killed
# and the daemon stops the same way.
# An integration names as agents those the configuration lists for it
# and, with directory.helpdesk_group, the directory's members of that
# group: exactly the account of that name, enabled; anyone else is 403
# agent_not_allowed naming why, a directory that does not answer 503,
# nothing stored either way.
# Separation of duties by identity: an officer's name is looked up at
# enrolment and the entry's DN kept; the officer may not approve a
# recovery of that entry, whatever form the target was sent in (its
# other name, case, fullwidth letters, user@domain, DOMAIN\user), nor of
# a principal enrolled as that officer, nor a request whose agent the
# help-desk group admitted as that entry; variants the normalisation
# refuses never become requests.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
. tests/e2e/lib/officers.sh
BG=
trap '[ -n "$BG" ] && kill "$BG" 2>/dev/null; ldap_stop; daemon_stop;
    keys_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example

if ! ldap_have_directory; then
	echo "ok directory_reach # SKIP slapd, ldap-utils or the memberof" \
	    "or ppolicy module missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
# the help desk: hd-amy in the group, hd-eve not, hd-dan in it but
# disabled
hd="cn=Helpdesk,ou=groups,$S"
{
	printf 'dn: %s\nobjectClass: groupOfNames\ncn: Helpdesk\n' "$hd"
	for u in hd-amy hd-dan; do
		printf 'member: uid=%s,ou=people,%s\n' "$u" "$S"
	done
	printf '\n'
	ldap_person hd-amy people "memberOf: $hd" "uid: amy"
	ldap_person hd-eve people
	ldap_person hd-dan people "memberOf: $hd" \
	    "pwdAccountLockedTime: 000001010000Z"
	# officers: Ann's entry has a second name, the one she is enrolled by
	ldap_person officer-ann people "uid: ann"
	ldap_person ben people
	ldap_person hd-carl people
} >"$T/ldap/helpdesk.ldif"
ldap_add_ldif "$T/ldap/helpdesk.ldif" ||
	{ notok helpdesk_entries_load "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"

# directory_config OUT [MORE] [SED...]: the test policy with a directory
# (1 s of LDAP time limit: the monitor's budget is 3 x 1 + 5 s)
directory_config() {
	dc_out=$1 dc_more=${2:-}
	shift; [ $# -gt 0 ] && shift
	make_config "$dc_out" \
	    's/^(roles = \()$/\1 { uid = 65534; roles = ["intake"]; },/' "$@"
	cat >>"$dc_out" <<EOF
directory = {
	preset = "${DC_PRESET:-openldap}";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 1;
	$dc_more
};
EOF
}

E=$(ev pre_registered_factor pass hd-amy push P-1)
body() { req password_reset "$1" "" "${2:-hd-bob}" phone "[$E]"; }
db_count() {	# SQL condition on audit, or "requests"
	if [ "$1" = requests ]; then
		sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM requests"
	else
		sqlite3 "$T/state/tapgate.db" \
		    "SELECT count(*) FROM audit WHERE $1"
	fi
}
dirpid() { pgrep -P "$DAEMON_PID" -f -- --directory-process | head -n 1; }

directory_config "$T/d.conf"

# ---- killed: audited, an ALARM, and the daemon stops for its supervisor
daemon_start "$T/d.conf" || exit 1
api POST /v1/requests "$(body carol)"
check lookup_answers_before_the_child_dies answered 201 '.id != null'
DP=$(dirpid)
check directory_process_runs [ -n "$DP" ]
kill_pid directory_process_is_killed KILL "$DP"
wait_exit "$DAEMON_PID" 10
rc=$?
DAEMON_PID=
check daemon_stops_with_failure_without_its_directory_process [ "$rc" = 1 ]
check directory_death_raises_an_alarm grep -q \
    'ALARM: directory.exited: the directory process was killed by signal 9' \
    "$T/daemon.log"
check directory_death_is_audited [ "$(db_count "event = 'directory.exited'
    AND details LIKE '%signal 9%' AND details LIKE '%directory%'")" = 1 ]
check directory_death_leaves_no_sanitizer_report \
    sh -c "! grep -q Sanitizer '$T/daemon.log'"

# ---- a new start has a new child, and it answers
daemon_start "$T/d.conf" || exit 1
api POST /v1/requests "$(body carol)"
check restarted_daemon_looks_up_again answered 201 '.id != null'

# ---- stalled mid-answer: the budget, 503, nothing stored; others served
N=$(db_count requests)
DP=$(dirpid)
kill_pid directory_process_is_stopped STOP "$DP"
curl -s -o "$T/stall.body" -w '%{http_code}' --max-time 30 \
    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
    --data-binary "$(body alice)" http://tapgated/v1/requests \
    >"$T/stall.status" &
BG=$!
# while the submission waits for the stalled child, the monitor serves
api GET /healthz
check daemon_serves_health_beside_a_stalled_directory [ "$STATUS" = 200 ]
api GET /v1/requests
check daemon_lists_requests_beside_a_stalled_directory answered 200 \
    '.requests | length >= 1'
check submission_still_waits_for_the_stalled_directory alive "$BG"
wait "$BG"
BG=
check stalled_directory_submission_is_503 [ "$(cat "$T/stall.status")" = 503 ]
check stalled_directory_answer_says_why jqtrue \
    '.error.code == "directory_unavailable" and (.error.message |
    contains("silent past its budget"))' "$T/stall.body"
wait_exit "$DAEMON_PID" 10
rc=$?
DAEMON_PID=
check daemon_stops_with_failure_after_a_stalled_directory [ "$rc" = 1 ]
check stalled_directory_stored_nothing unchanged "$N" "$(db_count requests)"
check stalled_directory_refusal_is_audited [ "$(db_count "event =
    'request.refused' AND details LIKE '%directory_unavailable%'")" -ge 1 ]
check stalled_directory_kill_is_audited [ "$(db_count "event =
    'directory.exited' AND details LIKE '%silent past its budget%'")" = 1 ]
check stalled_directory_raises_an_alarm grep -q \
    'ALARM: directory.exited: the directory process was silent' \
    "$T/daemon.log"
alive "$DP" && kill -KILL "$DP" 2>/dev/null
check stalled_directory_leaves_no_sanitizer_report \
    sh -c "! grep -q Sanitizer '$T/daemon.log'"

# ---- agents known to the directory: its help-desk group
sub_as_root() {	# agent: status and body of a submission for carol
	api POST /v1/requests "$(body carol "$1")"
}
agent_refused() {	# agent want-status want-code message-part
	sub_as_root "$1"
	# shellcheck disable=SC2016 # $c and $m are jq variables
	answered "$2" '.error.code == $c and (.error.message | contains($m))' \
	    --arg c "$3" --arg m "$4"
}
# the control: without the group, hd-amy is no agent root may name
daemon_start "$T/d.conf" || exit 1
check agent_outside_the_list_is_refused_without_a_group agent_refused \
    hd-amy 403 agent_not_allowed "only its own name or an agent"
daemon_stop
# the group as an operator may write it: its case and blanks differ
hdc="CN=Helpdesk, OU=groups, DC=corp, DC=example"
directory_config "$T/hd.conf" "helpdesk_group = \"$hdc\";"
daemon_start "$T/hd.conf" || exit 1
sub_as_root hd-amy
check helpdesk_group_member_may_be_named answered 201 '.id != null'
M=$(($(db_count requests) + 1))
sub_as_root hd-bob
check listed_agent_is_named_as_before answered 201 '.id != null'
check agent_not_in_the_group_is_refused agent_refused hd-eve 403 \
    agent_not_allowed "is not a member of $hdc"
check agent_unknown_to_the_directory_is_refused agent_refused hd-nobody \
    403 agent_not_allowed 'no account "hd-nobody"'
check disabled_member_is_refused agent_refused hd-dan 403 \
    agent_not_allowed "disabled in the directory"
for v in 'HD-AMY' 'hd-amy ' ' hd-amy' 'hd-\u0430my' 'hd-amy\u200b' \
    '\uff48\uff44-amy'; do
	sub_as_root "$v"
	case $STATUS in
	201) notok "agent_variant_is_refused ($v)" "admitted as $STATUS" ;;
	4*) ok "agent_variant_is_refused ($v): $STATUS $(jbody .error.code)" ;;
	*) notok "agent_variant_is_refused ($v)" "status $STATUS" ;;
	esac
done
check refused_agents_stored_nothing unchanged "$M" "$(db_count requests)"
check agent_refusal_is_audited [ "$(db_count "event = 'request.refused'
    AND details LIKE '%agent_not_allowed%' AND details LIKE '%hd-eve%'")" \
    -ge 1 ]
# a principal that is no integration never names another, group or not
api_as 65534 POST /v1/requests "$(body carol hd-amy)"
check non_integration_may_not_name_a_group_member answered 403 \
    '.error.code == "agent_not_allowed" and (.error.message |
    contains("must be your own principal"))'
N=$(db_count requests)
ldap_stop
sub_as_root hd-amy
check helpdesk_check_without_directory_is_503 answered 503 \
    '.error.code == "directory_unavailable"'
check helpdesk_check_without_directory_stored_nothing unchanged "$N" \
    "$(db_count requests)"
check helpdesk_check_without_directory_is_audited [ "$(db_count "event =
    'request.refused' AND details LIKE '%directory_unavailable%' AND
    details LIKE '%hd-amy%'")" -ge 1 ]
ldap_start || notok slapd_starts_again
daemon_stop

# ---- separation of duties on the directory's identities
# (Active Directory's name forms, its attributes mapped onto slapd; the
# principal hd-carl is the same person as officer ben)
DC_PRESET=active_directory directory_config "$T/sod.conf" \
    'domain = "corp.example"; netbios_domain = "CORP";
	filter = "(&(objectClass=inetOrgPerson)(uid={name}))";
	attributes = { name = "uid"; upn = ""; alt_mail = "";
	    type = "employeeType"; disabled = "pwdAccountLockedTime";
	    locked = "pwdAccountLockedTime"; };
	helpdesk_group = "'"$hd"'";' \
    's/^(principals = \()$/\1\n    { uid = 4242; name = "hd-carl"; team = "helpdesk"; officer = "ben"; },/'
daemon_start "$T/sod.conf" || exit 1
key_start ann || exit 1
key_start ben || exit 1
check officer_ann_enrols enroll ann security_officer ann
check officer_ben_enrols enroll ben security_officer ben
key_start amy || exit 1
check officer_amy_enrols enroll amy security_officer amy
api GET /v1/approvers
check enrolment_keeps_the_officers_directory_entry answered 200 \
    '[.approvers[] | select(.name == "ann")][0].dn ==
    "uid=officer-ann,ou=people,'"$S"'"'
check enrolment_audit_names_the_entry [ "$(db_count "event =
    'approver.enrolled' AND details LIKE '%uid=officer-ann,ou=people%'")" = 1 ]
# the control: ann approves someone else's recovery
ID=$(admin_reset carol)
approve "$ID" ann
rc=$?
check officer_approves_another_accounts_recovery [ "$rc" = 0 ]
# her own entry, under each name it can be sent as
for v in officer-ann OFFICER-ANN 'ann@corp.example' 'CORP\\officer-ann' \
    '\uff41\uff4e\uff4e'; do
	ID=$(admin_reset "$v")
	if [ -z "$ID" ]; then
		notok "officer_cannot_approve_own_entry_sent_as ($v)" \
		    "not submitted"
		continue
	fi
	approve "$ID" ann
	check "officer_cannot_approve_own_entry_sent_as ($v)" \
	    [ "$(approve_code)" = is_target ]
done
check own_entry_refusal_is_audited [ "$(db_count "event =
    'approval.refused' AND details LIKE '%is_target%' AND
    details LIKE '%uid=officer-ann,ou=people%'")" -ge 5 ]
# forms the normalisation refuses never reach an officer
for v in 'ann ' ' officer-ann' '\u0430nn' 'ann\u200b' 'EVIL\\ann'; do
	api POST /v1/requests "$(req password_reset "$v" admin hd-bob phone \
	    "[$OOB,$PRF,$IDD]")"
	check "own_entry_variant_is_never_a_request ($v)" answered 422 \
	    '.error.code == "account_refused"'
done
# the principal enrolled as ben is ben
ID=$(admin_reset hd-carl)
approve "$ID" ben
check officer_cannot_approve_the_principal_enrolled_as_them \
    [ "$(approve_code)" = is_target ]
ID=$(admin_reset BEN)
approve "$ID" ben
check officer_cannot_approve_own_name_in_capitals \
    [ "$(approve_code)" = is_target ]
# the agent the help-desk group admitted is the officer of its entry
ID=$(admin_reset carol hd-bob)
approve "$ID" amy
rc=$?
check officer_amy_approves_another_agents_request [ "$rc" = 0 ]
ID=$(admin_reset carol hd-amy)
approve "$ID" amy
check officer_cannot_approve_as_the_agent_of_their_own_entry \
    [ "$(approve_code)" = is_requester ]
check agent_entry_refusal_is_audited [ "$(db_count "event =
    'approval.refused' AND details LIKE '%is_requester%' AND
    details LIKE '%uid=hd-amy,ou=people%'")" = 1 ]
# a requester.dn the caller sends is not the directory's
api POST /v1/requests "$(req password_reset carol admin hd-bob phone \
    "[$OOB,$PRF,$IDD]" | jq -c '.requester.dn = "uid=nobody,ou=people,'"$S"'"')"
check caller_sent_requester_dn_is_accepted answered 201 '.id != null'
ID=$(jbody .id)
check caller_sent_requester_dn_is_not_kept [ "$(sqlite3 \
    "$T/state/tapgate.db" "SELECT count(*) FROM requests WHERE id = '$ID'
    AND request_json LIKE '%uid=nobody%'")" = 0 ]
# who an officer is must be known: no enrolment while the directory is down
key_start cid || exit 1
ldap_stop
enroll cid security_officer cid
check enrolment_without_the_directory_is_refused \
    [ "$(refusal "$T/enrol.err")" = "503 directory_unavailable" ]
ldap_start || notok slapd_starts_again
daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# Alarms that sound like alarms.  The quorum alarm is raised once per
# change of an approver group's state (short of its quorum, or not), at
# start too, and not again at every enrolment or restart; a group that
# reaches its count again says so (quorum.restored).  In journald, the
# copy of alarm.cloned_key has priority 2 (crit), of
# alarm.quorum_unreachable 3 (err), and routine entries 5 (notice).
#
# journald is tested for real: where this runs as root and may unshare a
# mount namespace, the test re-runs itself in one with a private /run and
# /var/log/journal and starts its own systemd-journald there (so it needs
# no journald on the machine and leaves none behind); otherwise it uses
# the machine's journald, if one answers.  Either way a control line of
# priority 2 sent with systemd-cat must be read back with journalctl
# first, or the journal checks are skipped, saying why.
JOURNALD=/lib/systemd/systemd-journald
if [ -z "${TG_ALARMS_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    [ -x "$JOURNALD" ] && command -v unshare >/dev/null 2>&1 &&
    unshare --mount --propagation private true 2>/dev/null; then
	TG_ALARMS_NS=$(readlink /proc/self/ns/mnt) \
	    exec unshare --mount --propagation private sh "$0"
fi
PRIVATE_JOURNAL=
# mount only in a namespace of our own: TG_ALARMS_NS names the one left
if [ -n "${TG_ALARMS_NS:-}" ] &&
    [ "$(readlink /proc/self/ns/mnt)" != "$TG_ALARMS_NS" ]; then
	case ${TMPDIR:-/tmp} in
	/run|/run/*) ;;		# the scratch directory would be hidden
	*)
		if mount -t tmpfs tmpfs /run && { [ ! -d /var/log/journal ] ||
		    mount -t tmpfs tmpfs /var/log/journal; }; then
			mkdir -p /run/systemd/journal /run/log/journal
			PRIVATE_JOURNAL=1
		fi ;;
	esac
fi
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

MSGID=b6dfd9cec9e80d0b42304b19ee7a24b8	# every audit entry (store/audit.c)
JOURNALD_PID=
journald_stop() {
	[ -n "$JOURNALD_PID" ] || return 0
	kill "$JOURNALD_PID" 2>/dev/null
	wait_exit "$JOURNALD_PID" 10 >/dev/null
	JOURNALD_PID=
}
trap 'daemon_stop; keys_stop; journald_stop
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

# the journal: a private journald, or the machine's; JOURNAL_SKIP says
# why there is none to read back from
JOURNAL_SKIP=
if [ -n "$PRIVATE_JOURNAL" ]; then
	"$JOURNALD" >"$T/journald.log" 2>&1 &
	JOURNALD_PID=$!
	wait_for 10 test -S /run/systemd/journal/socket ||
	    JOURNAL_SKIP="the private systemd-journald did not start:" \
	    "$(tail -n 2 "$T/journald.log" | tr '\n' ' ')"
elif ! [ -S /run/systemd/journal/socket ]; then
	JOURNAL_SKIP="no journald here (no /run/systemd/journal/socket)"
	JOURNAL_SKIP="$JOURNAL_SKIP and no private one (root, unshare -m and"
	JOURNAL_SKIP="$JOURNAL_SKIP $JOURNALD needed)"
fi
# the control: a line of priority 2 comes back from journalctl as such
TOKEN="tapgate-alarms-control-$$-$(date +%s)"
control_read_back() {
	journalctl -t tapgate-alarms-control -o json --no-pager 2>/dev/null |
	    jq -e -s --arg t "$TOKEN" 'any(.[]; .MESSAGE == $t and
	    .PRIORITY == "2")' >/dev/null 2>&1
}
if [ -z "$JOURNAL_SKIP" ]; then
	echo "$TOKEN" | systemd-cat -p crit -t tapgate-alarms-control
	wait_for 10 control_read_back || JOURNAL_SKIP="a priority 2 line" \
	    "sent with systemd-cat was not read back with journalctl"
fi
[ -n "$JOURNAL_SKIP" ] && echo "# journal checks skipped: $JOURNAL_SKIP"

DB=$T/state/tapgate.db
# events GROUP: that group's quorum events in the audit log, in order
events() {
	sqlite3 "$DB" "SELECT event FROM audit WHERE event IN
	    ('alarm.quorum_unreachable', 'quorum.restored') AND
	    json_extract(details, '$.group') = '$1' ORDER BY seq" |
	    tr '\n' ' ' | sed 's/ $//'
}
A=alarm.quorum_unreachable
R=quorum.restored
start() {
	daemon_start "$T/tapgate.conf" \
	    --trust-roots "$PWD/build/gen/softfido-ca.pem" --token-timeout 5000
}

# The default policy needs 2 security officers, 2 finance controllers
# and 1 IT manager; a fresh appliance has none.
make_config "$T/tapgate.conf"
start || { notok daemon_starts; exit 1; }
check start_raises_one_alarm_per_group_short_of_its_quorum sh -c "
    [ '$(events security_officer)' = '$A' ] &&
    [ '$(events finance_controller)' = '$A' ] &&
    [ '$(events it_manager)' = '$A' ]"
key_start ann
key_start ben
key_start carol
enroll officer-ann security_officer ann
check enrolment_that_leaves_a_group_short_raises_nothing_new sh -c "
    [ '$(events security_officer)' = '$A' ] &&
    [ '$(events finance_controller)' = '$A' ] &&
    [ '$(events it_manager)' = '$A' ]"
enroll officer-ben security_officer ben
check group_reaching_its_count_is_restored_once \
    [ "$(events security_officer)" = "$A $R" ]
check log_says_the_group_is_whole_again \
    grep -q 'approver group security_officer has 2 enrolled officer(s) again' \
    "$T/daemon.log"

daemon_stop
start || notok daemon_restarts
check restart_raises_nothing_when_no_state_changed sh -c "
    [ '$(events security_officer)' = '$A $R' ] &&
    [ '$(events finance_controller)' = '$A' ] &&
    [ '$(events it_manager)' = '$A' ]"
check restart_reminds_the_log_of_a_standing_alarm grep -q \
    'ALARM: approver group finance_controller has 0 .*(raised before, still' \
    "$T/daemon.log"

# a key whose counter goes back is suspended as a clone: the group is
# short again, once; a third officer makes it whole again
ID=$(admin_reset alice)
approve "$ID" ann
ID=$(admin_reset bob)
key_ctl ann fault counter-backwards
approve "$ID" ann
key_ctl ann fault none
check clone_is_refused [ "$(approve_code)" = cloned_key ]
check suspended_clone_makes_the_group_short_once \
    [ "$(events security_officer)" = "$A $R $A" ]
enroll officer-carol security_officer carol
check new_officer_restores_the_group [ "$(events security_officer)" = \
    "$A $R $A $R" ]
check other_groups_never_raised_again sh -c "
    [ '$(events finance_controller)' = '$A' ] &&
    [ '$(events it_manager)' = '$A' ]"
api GET /metrics
Q=tapgate_quorum_unreachable
check metrics_agree_with_the_alarms sh -c "
    grep -qx '$Q{group=\"security_officer\"} 0' $T/body &&
    grep -qx '$Q{group=\"finance_controller\"} 1' $T/body"

# the journal's copies of this log's entries: event and priority, one
# line each (TSV), once journald has them all
NAUDIT=$(sqlite3 "$DB" "SELECT count(*) FROM audit")
sqlite3 "$DB" "SELECT hash FROM audit" >"$T/hashes"
# ours [JOURNALCTL-ARGS]: the audit entries in the journal that are this
# log's (by hash), as TSV: event, priority
ours() {
	journalctl "$@" MESSAGE_ID=$MSGID -o json --no-pager 2>/dev/null |
	    jq -r -s --rawfile h "$T/hashes" '(reduce ($h | split("\n"))[]
	    as $k ({}; .[$k] = true)) as $ours | .[] |
	    select($ours[.TAPGATE_HASH]) | [.TAPGATE_EVENT, .PRIORITY] | @tsv'
}
journal_copies() {
	ours >"$T/journal.tsv"
	[ "$(wc -l <"$T/journal.tsv")" -eq "$NAUDIT" ]
}
# prio EVENT: the priorities its copies have, by spaces
prio() { awk -F '\t' -v e="$1" '$1 == e {print $2}' "$T/journal.tsv" |
    sort -u | tr '\n' ' ' | sed 's/ $//'; }
JCHECKS="journal_holds_a_copy_of_every_audit_entry
cloned_key_alarm_is_critical_in_the_journal
quorum_alarm_is_an_error_in_the_journal
routine_entries_stay_at_notice
journalctl_p_err_shows_the_alarms_alone"
if [ -n "$JOURNAL_SKIP" ]; then
	for c in $JCHECKS; do
		skip "$c" "$JOURNAL_SKIP"
	done
	exit 0
fi
check journal_holds_a_copy_of_every_audit_entry wait_for 10 journal_copies
check cloned_key_alarm_is_critical_in_the_journal \
    [ "$(prio alarm.cloned_key)" = 2 ]
check quorum_alarm_is_an_error_in_the_journal \
    [ "$(prio alarm.quorum_unreachable)" = 3 ]
routine_at_notice() {
	[ "$(prio request.submitted)" = 5 ] &&
	    [ "$(prio approver.enrolled)" = 5 ] &&
	    [ "$(prio quorum.restored)" = 5 ] &&
	    [ -z "$(awk -F '\t' '$1 !~ /^alarm\./ && $2 != 5' \
	    "$T/journal.tsv")" ]
}
check routine_entries_stay_at_notice routine_at_notice
# what an operator reads with journalctl -p err: the alarms, all of them
NALARMS=$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE event LIKE 'alarm.%'")
ours -p err >"$T/err.tsv"
check journalctl_p_err_shows_the_alarms_alone sh -c "
    [ $NALARMS -ge 5 ] && [ \$(wc -l <$T/err.tsv) -eq $NALARMS ] &&
    ! grep -qv '^alarm\.' $T/err.tsv"

#!/bin/sh
# SPDX-License-Identifier: ISC
# Without any sender nobody hears of a request: tapgated --check-config
# says so in a warning line and still exits 0; the daemon logs an alarm
# at every start, audits alarm.notifications_unconfigured once (not again
# at a restart without senders), and /metrics says
# tapgate_notifications_configured 0; a start with a sender audits
# notifications.configured and the gauge says 1.
. tests/e2e/lib/daemon.sh
cat >"$T/send.sh" <<'EOS'
#!/bin/sh
cat >/dev/null
EOS
chmod 755 "$T/send.sh"
make_config "$T/none.conf"
make_config "$T/with.conf" \
    "s|^notify = \{|senders = { mail = \"$T/send.sh\"; };\n&|"

"$BUILD/tapgated" -c "$T/none.conf" --check-config >"$T/check.out" 2>&1
check check_config_without_sender_exits_0 [ $? = 0 ]
check check_config_without_sender_warns \
    grep -q '^warning: no sender configured' "$T/check.out"
"$BUILD/tapgated" -c "$T/with.conf" --check-config >"$T/check2.out" 2>&1
check control_check_config_with_a_sender_exits_0 [ $? = 0 ]
no_line() { ! grep -q "$1" "$2"; }
check control_check_config_with_a_sender_does_not_warn \
    no_line warning "$T/check2.out"

count() {
	sqlite3 "$T/state/tapgate.db" \
	    "SELECT count(*) FROM audit WHERE event = '$1'" 2>/dev/null
}
gauge() {	# VALUE: the metrics page says it
	api GET /metrics
	[ "$STATUS" = 200 ] &&
	    grep -qx "tapgate_notifications_configured $1" "$T/body"
}
daemon_start "$T/none.conf" || { notok daemon_starts; exit 1; }
check daemon_logs_an_alarm_without_sender \
    grep -q 'ALARM: no sender configured' "$T/daemon.log"
check alarm_is_audited_once [ "$(count alarm.notifications_unconfigured)" = 1 ]
check metrics_say_notifications_unconfigured gauge 0
daemon_stop
: >"$T/daemon.log"
daemon_start "$T/none.conf" || { notok daemon_restarts; exit 1; }
check restart_logs_the_alarm_again \
    grep -q 'ALARM: no sender configured' "$T/daemon.log"
check restart_does_not_audit_it_again \
    [ "$(count alarm.notifications_unconfigured)" = 1 ]
daemon_stop
: >"$T/daemon.log"
daemon_start "$T/with.conf" || { notok daemon_starts_with_sender; exit 1; }
check start_with_a_sender_logs_no_alarm \
    no_line "no sender configured" "$T/daemon.log"
check start_with_a_sender_audits_notifications_configured \
    [ "$(count notifications.configured)" = 1 ]
check metrics_say_notifications_configured gauge 1
check daemon_stops_cleanly daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# The sender path: a message {destination, channel, subject, text} reaches
# the sender program of its channel (config senders) as JSON on its
# standard input, run by the hook runner; its outcome is audited as
# message.sent or message.failed with the destination masked, and never
# with the text (a message may carry a veto code).  The messages here are
# the security team's news of an alarm: a daemon without officers raises
# alarm.quorum_unreachable at start.
. tests/e2e/lib/daemon.sh
cat >"$T/send.sh" <<EOS
#!/bin/sh
cat >>"$T/mailbox"
echo >>"$T/mailbox"
EOS
cat >"$T/fail.sh" <<'EOS'
#!/bin/sh
cat >/dev/null
exit 3
EOS
chmod 755 "$T/send.sh" "$T/fail.sh"
make_config "$T/tapgate.conf" \
    "s|^notify = \{|senders = { mail = \"$T/send.sh\"; sms = \"$T/fail.sh\"; timeout_ms = 2000; security_team = [ \"sec@corp.example\", \"sms:+441234567890\" ]; };\n&|"
check config_with_senders_passes_check_config \
    "$BUILD/tapgated" -c "$T/tapgate.conf" --check-config
daemon_start "$T/tapgate.conf" || { notok daemon_starts_with_senders; exit 1; }

count() {	# EVENT-PATTERN: audit entries of events like it
	sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM audit
	    WHERE event LIKE '$1'" 2>/dev/null
}
# one alarm per approver group short of its quorum: N messages a channel
N=$(count 'alarm.%')
check control_the_daemon_raised_alarms [ "${N:-0}" -ge 1 ]
audit_has() {	# EVENT: N entries of it
	[ "$(count "$1")" = "$N" ]
}
mailbox_full() {
	[ "$(jq -s length "$T/mailbox" 2>/dev/null)" = "$N" ]
}
check sender_receives_the_security_teams_message wait_for 20 mailbox_full
check message_has_exactly_the_four_fields jqtrue -s \
    'all(.[]; keys == ["channel", "destination", "subject", "text"] and
    .channel == "mail" and .destination == "sec@corp.example" and
    (.subject | contains("alarm.quorum_unreachable")) and
    (.text | contains("alarm.quorum_unreachable")))' "$T/mailbox"
check message_sent_is_audited wait_for 20 audit_has message.sent
check failing_sender_is_audited_as_message_failed \
    wait_for 20 audit_has message.failed

"$BUILD/tapgatectl" -s "$T/api.sock" audit tail -n 50 --json >"$T/audit.json"
check message_sent_names_the_masked_destination_only jqtrue \
    '[.entries[] | select(.event == "message.sent")] | length > 0 and
    all(.[].details; .channel == "mail" and .recipient == "security_team"
    and .destination == "s\u2026@corp.example" and
    (has("text") or has("subject") | not))' "$T/audit.json"
check message_failed_names_channel_outcome_and_status jqtrue \
    '[.entries[] | select(.event == "message.failed")] | length > 0 and
    all(.[].details; .channel == "sms" and .outcome == "failed" and
    .status == 3 and (.destination | contains("1234567890") | not) and
    (.program | endswith("/fail.sh")))' "$T/audit.json"
# the whole database, not only what the audit tail shows
sqlite3 "$T/state/tapgate.db" .dump >"$T/dump.sql"
TEXT=$(jq -r '.text' "$T/mailbox" | head -n 1)
SUBJECT=$(jq -r '.subject' "$T/mailbox" | head -n 1)
check control_the_text_is_a_real_line [ -n "$TEXT" ]
nowhere_in_the_database() {
	! grep -F -e "$TEXT" -e "$SUBJECT" -e "sec@corp.example" \
	    -e "441234567890" "$T/dump.sql"
}
check audit_never_holds_the_text_or_the_whole_destination \
    nowhere_in_the_database
check daemon_stops_cleanly daemon_stop

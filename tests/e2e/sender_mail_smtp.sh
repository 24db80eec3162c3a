#!/bin/sh
# SPDX-License-Identifier: ISC
# The shipped mail sender (contrib/senders/tapgate-send-mail) against a real
# SMTP server (aiosmtpd): a message arrives with its To, Subject and body,
# over STARTTLS checked against a CA file; a relay whose certificate no
# configured CA signed gets nothing; malformed input (a header smuggled in
# the destination, an oversized message, another channel) is refused
# before the relay is reached; refusals map to their exit codes; and the
# daemon, with it as its mail sender, delivers the security team's news.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/testca.sh
SEND=$PWD/contrib/senders/tapgate-send-mail
SINK_PIDS=
trap 'daemon_stop; for p in $SINK_PIDS; do kill "$p" 2>/dev/null; done
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	skip sender_mail_smtp "no python3-aiosmtpd (make deps installs it)"
	exit 0
fi
testca "$T" relay || { notok test_ca_is_made; exit 1; }
testca "$T" other || { notok other_test_ca_is_made; exit 1; }

sink_start() {	# NAME [CERT KEY]: an SMTP server; its port in $T/NAME.port
	mkdir -p "$T/$1"
	/usr/bin/python3 tests/e2e/lib/smtp_sink.py "$T/$1.port" "$T/$1" \
	    ${2:+"$2" "$3"} 2>"$T/$1.log" &
	SINK_PIDS="$SINK_PIDS $!"
	wait_for 20 test -s "$T/$1.port"
}
sink_start plain || { notok smtp_server_starts; exit 1; }
sink_start tls "$T/relay-cert.pem" "$T/relay-key.pem" ||
    { notok smtp_tls_server_starts; exit 1; }
PLAIN=$(cat "$T/plain.port")
TLS=$(cat "$T/tls.port")
printf 'host = 127.0.0.1\nport = %s\nfrom = tapgate@corp.example\n' \
    "$PLAIN" >"$T/plain.conf"
printf 'host = 127.0.0.1\nport = %s\nfrom = tapgate@corp.example\n%s\n%s\n' \
    "$TLS" "starttls = yes" "ca_file = $T/relay-ca.pem" >"$T/tls.conf"
printf 'host = 127.0.0.1\nport = %s\nfrom = tapgate@corp.example\n%s\n%s\n' \
    "$TLS" "starttls = yes" "ca_file = $T/other-ca.pem" >"$T/wrongca.conf"

msg() {	# DESTINATION [CHANNEL]: a message as the daemon writes it
	jq -nc --arg d "$1" --arg c "${2:-mail}" '{destination: $d,
	    channel: $c, subject: "tapgate: password reset for alice",
	    text: "A password reset for alice was asked for.\nTo stop it: veto code K7PQ-RX2M-9WHT\n"}'
}
send() {	# CONF DESTINATION [CHANNEL]: the sender's exit status in $RC
	msg "$2" "$3" | "$SEND" --config "$1" 2>>"$T/send.log"
	RC=$?
}
count() { find "$T/$1" -name '*.eml' | wc -l; }

send "$T/plain.conf" alice@corp.example
check mail_sender_exits_0_when_the_relay_accepts [ "$RC" = 0 ]
check relay_received_one_message wait_for 10 test -s "$T/plain/1.eml"
/usr/bin/python3 - "$T/plain/1.eml" >"$T/plain/1.parsed" <<'PY'
import email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
print(json.dumps({"to": m["To"], "from": m["From"],
                  "subject": m["Subject"],
                  "body": m.get_body().get_content()}))
PY
check received_mail_has_to_subject_and_body jqtrue \
    '.to == "alice@corp.example" and .from == "tapgate@corp.example" and
    .subject == "tapgate: password reset for alice" and
    (.body | contains("veto code K7PQ-RX2M-9WHT"))' "$T/plain/1.parsed"
check envelope_names_the_destination_only jqtrue \
    '.to == ["alice@corp.example"] and .from == "tapgate@corp.example"' \
    "$T/plain/1.json"

send "$T/tls.conf" bob@corp.example
check mail_sender_sends_over_starttls [ "$RC" = 0 ]
check relay_received_it_over_tls jqtrue \
    '.tls == true and .to == ["bob@corp.example"]' "$T/tls/1.json"
send "$T/wrongca.conf" bob@corp.example
check relay_certificate_of_another_ca_is_refused_with_69 [ "$RC" = 69 ]
check nothing_reaches_a_relay_that_did_not_verify [ "$(count tls)" = 1 ]

before=$(count plain)
send "$T/plain.conf" "$(printf 'a@corp.example\r\nBcc: x@evil.example')"
check destination_with_a_header_is_refused_with_65 [ "$RC" = 65 ]
send "$T/plain.conf" alice@corp.example sms
check message_of_another_channel_is_refused_with_65 [ "$RC" = 65 ]
head -c 70000 /dev/zero | tr '\0' 'a' | "$SEND" --config "$T/plain.conf" \
    2>>"$T/send.log"
check oversized_input_is_refused_with_65 [ "$?" = 65 ]
printf '{"destination":"a@corp.example","channel":"mail","subject":"s","text":"t","x":"y"}' |
    "$SEND" --config "$T/plain.conf" 2>>"$T/send.log"
check message_with_a_fifth_field_is_refused_with_65 [ "$?" = 65 ]
check refused_input_never_reaches_the_relay [ "$(count plain)" = "$before" ]

send "$T/plain.conf" refuse@corp.example
check recipient_refused_5xx_exits_69 [ "$RC" = 69 ]
send "$T/plain.conf" later@corp.example
check recipient_deferred_4xx_exits_75 [ "$RC" = 75 ]
send "$T/nonexistent.conf" alice@corp.example
check missing_configuration_exits_78 [ "$RC" = 78 ]
no_code_in_log() { ! grep -q K7PQ "$T/send.log"; }
check errors_never_hold_the_text no_code_in_log

# the daemon, with it as its mail sender: the security team hears of the
# alarms a daemon without officers raises at start
cat >"$T/mail-sender" <<EOS
#!/bin/sh
exec "$SEND" --config "$T/plain.conf"
EOS
chmod 755 "$T/mail-sender"
before=$(count plain)
make_config "$T/tapgate.conf" \
    "s|^notify = \{|senders = { mail = \"$T/mail-sender\"; security_team = [ \"security@corp.example\" ]; };\n&|"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
more_mail() { [ "$(count plain)" -gt "$before" ]; }
check daemon_mails_the_security_team_through_the_relay wait_for 20 more_mail
security_mail() {
	grep -l "^To: security@corp.example" "$T"/plain/*.eml |
	    xargs grep -l "^Subject: .*alarm.quorum_unreachable" >/dev/null
}
check daemon_mail_is_to_the_security_team security_mail
sent() {
	[ "$(sqlite3 "$T/state/tapgate.db" "SELECT count(*) FROM audit
	    WHERE event = 'message.sent'")" -ge 1 ] 2>/dev/null
}
check daemon_audits_the_mail_as_sent wait_for 20 sent
check daemon_stops_cleanly daemon_stop

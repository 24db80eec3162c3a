#!/bin/sh
# SPDX-License-Identifier: ISC
# The shipped webhook sender (contrib/senders/tapgate-send-webhook) against
# a real HTTPS server with a test CA: the message is POSTed as it came,
# with the bearer token of a 0600 file; a token file others may read is
# refused before anything is sent; a server whose certificate the CA file
# does not vouch for gets nothing; 5xx, a redirect and malformed input map
# to their exit codes.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/testca.sh
SEND=$PWD/contrib/senders/tapgate-send-webhook
SINK_PID=
trap 'daemon_stop; [ -z "$SINK_PID" ] || kill "$SINK_PID" 2>/dev/null
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT

testca "$T" hook || { notok test_ca_is_made; exit 1; }
testca "$T" other || { notok other_test_ca_is_made; exit 1; }
mkdir "$T/in"
/usr/bin/python3 tests/e2e/lib/https_sink.py "$T/port" "$T/in" \
    "$T/hook-cert.pem" "$T/hook-key.pem" 2>"$T/sink.log" &
SINK_PID=$!
wait_for 20 test -s "$T/port" || { notok https_server_starts; exit 1; }
URL=https://127.0.0.1:$(cat "$T/port")
printf 's3cr3t-token-123\n' >"$T/token"
chmod 600 "$T/token"
conf() {	# NAME PATH CA [TOKEN]
	{ echo "url = $URL$2"; echo "ca_file = $3"
	  [ -z "${4:-}" ] || echo "token_file = $4"; } >"$T/$1.conf"
}
conf ok /ok "$T/hook-ca.pem" "$T/token"
conf notoken /ok "$T/hook-ca.pem"
conf fail /fail "$T/hook-ca.pem"
conf redirect /redirect "$T/hook-ca.pem"
conf wrongca /ok "$T/other-ca.pem"
cp "$T/token" "$T/open-token"
chmod 644 "$T/open-token"
conf opentoken /ok "$T/hook-ca.pem" "$T/open-token"

MSG='{"destination":"oncall","channel":"webhook","subject":"tapgate: reset for alice","text":"To stop it: veto code K7PQ-RX2M-9WHT\n"}'
send() {	# CONF [MESSAGE]: the exit status in $RC
	printf '%s' "${2:-$MSG}" | "$SEND" --config "$T/$1.conf" \
	    2>>"$T/send.log"
	RC=$?
}
count() { find "$T/in" -name '*.json' | wc -l; }

send ok
check webhook_sender_exits_0_on_2xx [ "$RC" = 0 ]
check server_received_the_message_as_sent_with_the_token jqtrue \
    '.path == "/ok" and .authorization == "Bearer s3cr3t-token-123" and
    (.body | fromjson) == {destination: "oncall", channel: "webhook",
    subject: "tapgate: reset for alice",
    text: "To stop it: veto code K7PQ-RX2M-9WHT\n"}' "$T/in/1.json"
send notoken
check without_token_file_no_authorization_header jqtrue \
    '.authorization == null' "$T/in/2.json"
before=$(count)
send opentoken
check token_file_others_may_read_is_refused_with_78 [ "$RC" = 78 ]
send wrongca
check server_certificate_of_another_ca_is_refused_with_69 [ "$RC" = 69 ]
send ok '{"destination":"oncall","channel":"mail","subject":"s","text":"t"}'
check message_of_another_channel_is_refused_with_65 [ "$RC" = 65 ]
head -c 70000 /dev/zero | tr '\0' 'a' | "$SEND" --config "$T/ok.conf" \
    2>>"$T/send.log"
check oversized_input_is_refused_with_65 [ "$?" = 65 ]
check refused_before_sending_nothing_arrives [ "$(count)" = "$before" ]
send fail
check server_error_5xx_exits_75 [ "$RC" = 75 ]
send redirect
check redirect_is_not_followed_and_exits_69 [ "$RC" = 69 ]
check redirect_target_got_nothing [ "$(count)" = "$((before + 2))" ]
no_secret_in_log() { ! grep -q -e K7PQ -e s3cr3t "$T/send.log"; }
check errors_never_hold_the_text_or_token no_secret_in_log

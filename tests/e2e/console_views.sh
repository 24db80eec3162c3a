#!/bin/sh
# SPDX-License-Identifier: ISC
# What the console's pages read, from uid and certificate callers alike:
# GET /v1/queues (the change vocabulary; intake within its team's scope),
# GET /v1/dashboard (operators and officers: requests per queue and
# state, holds with their time left, the last alarms, each approver
# group's quorum), GET /v1/requests/ID/timeline (from the audit log;
# intake its own team's requests only, as GET /v1/requests/ID).  A uid
# without a role (65534) is refused each.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/testca.sh

if ! command -v openssl >/dev/null 2>&1; then
	skip console_views "openssl missing"
	exit 0
fi
OLGA=2101 AMY=2102 OPER=2103 OFF=2104
P=$T/pki
mkdir -p "$P"
# leaf NAME: a client certificate of the test CA
leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.csr" &&
	echo 'extendedKeyUsage=clientAuth' >"$P/$1.ext" &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/web-ca.pem" \
	    -CAkey "$P/web-ca-key.pem" -CAcreateserial -days 2 \
	    -extfile "$P/$1.ext" -out "$P/$1.pem"
}
if ! { testca "$P" web && leaf ticketing && leaf watch; } \
    >"$T/pki.log" 2>&1; then
	notok test_pki_is_made "$(tail -n 3 "$T/pki.log")"
	exit 1
fi
fp() { openssl x509 -in "$P/$1.pem" -outform DER | sha256sum | cut -c1-64; }
FP_T=$(fp ticketing) FP_W=$(fp watch)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# olga's team takes standard password resets only; amy's, anything;
# the standard reset's hold (the first of the file) long enough to see
make_config "$T/tapgate.conf" '0,/hold_seconds = 2;/s//hold_seconds = 600;/' \
    "s/^(roles = \\()\$/\\1\\n    { uid = $OLGA; roles = [\"intake\"]; },\\n    { uid = $AMY; roles = [\"intake\"]; },\\n    { uid = $OPER; roles = [\"operator\"]; },\\n    { uid = $OFF; roles = [\"officer\"]; },\\n    { cert_sha256 = \"$FP_T\"; roles = [\"intake\"]; },\\n    { cert_sha256 = \"$FP_W\"; roles = [\"operator\"]; },/" \
    "s/^(teams = \\()\$/\\1\\n    { name = \"outsourced\"; queues = [\"password_reset\"]; classes = [\"standard\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { uid = $OLGA; name = \"ext-olga\"; team = \"outsourced\"; },\\n    { uid = $AMY; name = \"hd-amy\"; team = \"helpdesk\"; },\\n    { cert_sha256 = \"$FP_T\"; name = \"web-ticketing\"; team = \"helpdesk\"; integration = true; agents = [\"hd-amy\"]; },/"
chmod 600 "$P/web-key.pem"
cat >>"$T/tapgate.conf" <<EOF
https = {
    listen = "127.0.0.1:$PORT";
    cert_file = "$P/web-cert.pem";
    key_file = "$P/web-key.pem";
    client_ca_file = "$P/web-ca.pem";
};
EOF
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# https AS PATH: GET as the certificate AS
https() {
	: >"$T/body"
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 20 \
	    --cacert "$P/web-ca.pem" --cert "$P/$1.pem" --key "$P/$1.key" \
	    "https://127.0.0.1:$PORT$2")
	[ -n "$STATUS" ] || STATUS=000
}

# requests: amy's team (helpdesk) and olga's (outsourced)
api_as $AMY POST /v1/requests "$(req password_reset alice "" hd-amy phone \
    "[$OOB]")"
[ "$STATUS" = 201 ] || notok amys_request_is_taken "HTTP $STATUS $(cat "$T/body")"
A=$(jbody .id)
api_as $OLGA POST /v1/requests "$(req password_reset bob "" ext-olga phone \
    "[$OOB]")"
[ "$STATUS" = 201 ] || notok olgas_request_is_taken "HTTP $STATUS $(cat "$T/body")"
B=$(jbody .id)
# the agent's own word does not count on its own request: the
# integration (root) attests the check
api POST "/v1/requests/$A/evidence" "{\"evidence\":[$OOB]}"

# ---- GET /v1/queues
api_as 65534 GET /healthz
check control_uid_65534_reaches_the_socket [ "$STATUS" = 200 ]
api_as 65534 GET /v1/queues
check uid_without_role_cannot_read_the_queues [ "$STATUS" = 403 ]
api_as $AMY GET /v1/queues
check intake_of_an_open_team_reads_every_queue answered 200 \
    '[.queues[].queue] == ["password_reset", "mfa_reset", "reactivation",
    "privilege_change", "transaction_approval"] and
    (.queues[0].classes | length) == 4 and
    (.queues[0].channels | index("phone") != null) and
    (.queues[0].evidence_types | index("out_of_band_callback") != null) and
    .queues[0].challenge_kinds == ["out_of_band", "manager_confirmation",
    "recovery_code"]'
check queue_gives_its_change_vocabulary jqtrue '.queues[0].changes ==
    [{"name": "password", "type": "const", "value": "reset",
    "required": true}, {"name": "force_change_at_logon",
    "type": "boolean", "required": true}] and
    ([.queues[3].changes[].name] == ["add_groups", "remove_groups"])' \
    "$T/body"
api_as $OLGA GET /v1/queues
check intake_of_a_scoped_team_reads_its_scope_only answered 200 \
    '[.queues[].queue] == ["password_reset"] and
    .queues[0].classes == ["standard"]'
api_as $OFF GET /v1/queues
check officer_reads_the_queues answered 200 '(.queues | length) == 5'
api_as $OPER GET /v1/queues
check operator_reads_the_queues answered 200 '(.queues | length) == 5'
https ticketing /v1/queues
check certificate_intake_reads_its_teams_queues answered 200 \
    '(.queues | length) == 5'
api_as $AMY POST /v1/queues '{}'
check queues_take_get_only [ "$STATUS" = 405 ]

# ---- GET /v1/dashboard
key_start ann
enroll officer-ann security_officer ann ||
    notok officer_ann_enrols "$(cat "$T/enrol.err")"
api_as 65534 GET /v1/dashboard
check uid_without_role_cannot_read_the_dashboard [ "$STATUS" = 403 ]
api_as $AMY GET /v1/dashboard
check intake_cannot_read_the_dashboard [ "$STATUS" = 403 ]
held() { request_in_state "$A" in_hold; }
check control_amys_request_is_in_its_hold wait_for 10 held
api_as $OPER GET /v1/dashboard
check operator_dashboard_counts_requests_per_queue_and_state \
    answered 200 '[.queues[].queue] == ["password_reset", "mfa_reset",
    "reactivation", "privilege_change", "transaction_approval"] and
    (.queues[0].states | add) == 2 and .queues[0].states.in_hold >= 1 and
    .queues[1].states == {}'
# shellcheck disable=SC2016 # $a: jq's variable
check dashboard_shows_holds_with_their_time_left jqtrue --arg a "$A" \
    '[.holds[] | select(.id == $a)] | length == 1 and
    (.[0] | .account == "alice" and .queue == "password_reset" and
    .class == "standard" and .state == "in_hold" and
    .seconds_left > 500 and .seconds_left <= 600 and
    .hold_until > 0)' "$T/body"
check dashboard_shows_the_alarms_newest_first jqtrue \
    '(.alarms | length) >= 1 and (.alarms | length) <= 20 and
    ([.alarms[].event | startswith("alarm.")] | all) and
    ([.alarms[].seq] == ([.alarms[].seq] | sort | reverse)) and
    (.alarms[0] | has("detail") and has("time"))' "$T/body"
check dashboard_shows_each_groups_quorum jqtrue \
    '[.quorum[] | select(.group == "security_officer")][0] ==
    {"group": "security_officer", "enrolled": 1, "active": 1,
    "needed": 2}' "$T/body"
api POST /v1/approvers/officer-ann/revoke '{"cause":"left","reason":"x"}'
[ "$STATUS" = 200 ] || notok officer_ann_is_revoked "HTTP $STATUS"
api_as $OFF GET /v1/dashboard
check officer_reads_the_dashboard_revoked_officer_is_not_active \
    answered 200 '[.quorum[] | select(.group == "security_officer")][0] |
    .enrolled == 1 and .active == 0'
https watch /v1/dashboard
check certificate_operator_reads_the_dashboard answered 200 \
    '(.queues | length) == 5 and (.quorum | length) >= 1'
https ticketing /v1/dashboard
check certificate_intake_cannot_read_the_dashboard [ "$STATUS" = 403 ]

# ---- GET /v1/requests/ID/timeline
api_as 65534 GET "/v1/requests/$A/timeline"
check uid_without_role_cannot_read_a_timeline [ "$STATUS" = 403 ]
api_as $OPER GET "/v1/requests/$A/timeline"
check operator_reads_a_requests_timeline answered 200 \
    '.events[0].event == "request.submitted" and
    .events[0].actor == "uid:2102" and
    (.events[0] | keys) == ["actor", "detail", "event", "seq", "time"] and
    ([.events[].seq] == ([.events[].seq] | sort))'
# shellcheck disable=SC2016
check timeline_names_its_request jqtrue --arg a "$A" '.id == $a' "$T/body"
api_as $OFF GET "/v1/requests/$A/timeline"
check officer_reads_a_timeline answered 200 '(.events | length) >= 1'
api_as $AMY GET "/v1/requests/$A/timeline"
check intake_reads_its_own_teams_timeline answered 200 \
    '(.events | length) >= 1'
api_as $OLGA GET "/v1/requests/$A/timeline"
check intake_of_another_team_does_not_find_it [ "$STATUS" = 404 ]
api_as $OLGA GET "/v1/requests/$A"
check control_nor_the_request_itself [ "$STATUS" = 404 ]
api_as $AMY GET "/v1/requests/$B/timeline"
check nor_the_other_way_round [ "$STATUS" = 404 ]
https ticketing "/v1/requests/$A/timeline"
check certificate_intake_of_the_team_reads_the_timeline answered 200 \
    '.events[0].event == "request.submitted"'
https ticketing "/v1/requests/$B/timeline"
check certificate_intake_of_another_team_does_not_find_it \
    [ "$STATUS" = 404 ]
api GET "/v1/requests/0123/timeline"
check malformed_id_is_refused [ "$STATUS" = 400 ]
api GET "/v1/requests/0123456789abcdef0123456789abcdef/timeline"
check unknown_request_is_not_found [ "$STATUS" = 404 ]

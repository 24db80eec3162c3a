#!/bin/sh
# SPDX-License-Identifier: ISC
# The HTTPS listener (https = { ... }): TLS 1.3 only, served by the
# confined front process on a socket the monitor bound.  Callers are who
# their client certificate says (roles and principals by cert_sha256),
# never a uid: an intake integration's certificate submits, a downstream
# system's fetches the order and the signing keys; without a certificate
# root itself has no role (403) while /healthz answers; a certificate of
# another CA is refused at the handshake, one of the right CA that no
# entry maps has no role, TLS 1.2 is refused.  SIGHUP serves a new
# certificate; a broken one on SIGHUP leaves the old one served.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null; then
	skip https_client_certs "openssl or curl missing"
	exit 0
fi

P=$T/pki
mkdir -p "$P"
# ca NAME; leaf NAME CA EXT: a P-256 key and certificate
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.pem" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.csr" &&
	printf '%s\n' "$3" >"$P/$1.ext" &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" \
	    -CAkey "$P/$2.key" -CAcreateserial -days 2 \
	    -extfile "$P/$1.ext" -out "$P/$1.pem"
}
SRV='subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth'
CLI='extendedKeyUsage=clientAuth'
if ! { ca test-ca && ca other-ca && leaf server test-ca "$SRV" &&
    leaf server2 test-ca "$SRV" && leaf ticketing test-ca "$CLI" &&
    leaf connector test-ca "$CLI" && leaf stranger test-ca "$CLI" &&
    leaf rogue other-ca "$CLI"; } >"$T/pki.log" 2>&1; then
	notok test_pki_is_made "$(tail -n 3 "$T/pki.log")"
	exit 1
fi
fp() { openssl x509 -in "$P/$1.pem" -outform DER | sha256sum | cut -c1-64; }
FP_TICKETING=$(fp ticketing)
# the fingerprint as openssl prints it (colons) is taken as well
FP_CONNECTOR_COLONS=$(openssl x509 -in "$P/connector.pem" -noout \
    -fingerprint -sha256 | sed 's/.*=//')

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$P/server.pem" "$P/live.pem"
cp "$P/server.key" "$P/live.key"
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { cert_sha256 = \"$FP_TICKETING\"; roles = [\"intake\"]; },\\n    { cert_sha256 = \"$FP_CONNECTOR_COLONS\"; roles = [\"downstream\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { cert_sha256 = \"$FP_TICKETING\"; name = \"web-ticketing\"; team = \"helpdesk\"; integration = true; agents = [\"hd-bob\"]; },/"
cat >>"$T/tapgate.conf" <<EOF
https = {
    listen = "127.0.0.1:$PORT";
    cert_file = "$P/live.pem";
    key_file = "$P/live.key";
    client_ca_file = "$P/test-ca.pem";
};
EOF
# the key is a secret: the daemon's own, mode 0600, or it does not start
check_config() {
	"$BUILD/tapgated" --check-config -c "$T/tapgate.conf" \
	    >"$T/check.out" 2>&1
}
key_refused() {
	! check_config &&
	    grep -q 'https.key_file: .*mode 0644, must be 0600' "$T/check.out"
}
chmod 644 "$P/live.key"
check key_file_readable_by_others_is_refused key_refused
chmod 600 "$P/live.key"
check control_the_configuration_checks_with_a_0600_key check_config
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# the front process serves the listener, under its filter; the monitor
# bound it and holds it no more
FRONT=$(sed -n 's/.*(front process \([0-9]*\)).*/\1/p' "$T/daemon.log" |
    tail -n 1)
listener_pids() {
	ss -Hltnp "sport = :$PORT" | grep -o 'pid=[0-9]*' | cut -d= -f2 |
	    sort -u | tr '\n' ' '
}
check front_alone_holds_the_https_listener \
    [ -n "$FRONT" ] && [ "$(listener_pids)" = "$FRONT " ]
check https_front_runs_under_its_filter \
    [ "$(proc_status "$FRONT" Seccomp)" = 2 ]

# https AS PATH [BODY [CURL-ARGS...]]: as the certificate AS ("" none)
https() {
	h_as=$1 h_p=$2; shift 2
	set -- --cacert "$P/test-ca.pem" ${h_as:+--cert "$P/$h_as.pem"} \
	    ${h_as:+--key "$P/$h_as.key"} "$@"
	: >"$T/body"
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 20 \
	    "$@" "https://127.0.0.1:$PORT$h_p")
	CURL_RC=$?
	[ -n "$STATUS" ] || STATUS=000
}
https_post() {	# AS PATH BODY
	https "$1" "$2" -X POST -H 'Content-Type: application/json' \
	    --data-binary "$3"
}

https "" /healthz
check healthz_answers_over_https_without_a_certificate \
    answered 200 '.status != null'
https "" /v1/requests
check root_without_a_certificate_has_no_role_over_https \
    answered 403 '.error.code == "forbidden"'
https_post "" /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$OOB,$PRF,$IDD]")"
check submission_without_a_certificate_is_refused \
    answered 403 '.error.code == "forbidden"'

https_post ticketing /v1/requests "$(req password_reset alice "" hd-bob \
    phone "[$OOB,$PRF,$IDD]")"
ID=$(jbody .id)
check intake_certificate_submits_as_its_principal answered 201 \
    '.id != null'
api GET "/v1/requests/$ID"
check request_names_the_certificate_principal answered 200 \
    '.requester.principal == "web-ticketing" and .requester.agent == "hd-bob"
    and .requester.team == "helpdesk" and .requester.uid < 0'
https ticketing "/v1/orders/$ID"
check intake_certificate_cannot_fetch_orders \
    answered 403 '.error.code == "forbidden"'

wait_for 20 status_is 200 GET "/v1/orders/$ID"
https connector "/v1/orders/$ID"
check downstream_certificate_fetches_the_order \
    answered 200 '.state == "issued" and .jti != null'
https connector /v1/keys
check downstream_certificate_fetches_the_jwks \
    answered 200 '(.keys | length) >= 1'

https stranger /v1/keys
check control_unmapped_certificate_of_the_ca_completes_a_handshake \
    [ "$STATUS" = 200 ]
https stranger "/v1/orders/$ID"
check unmapped_certificate_has_no_role \
    answered 403 '.error.code == "forbidden"'
https stranger /v1/requests
check unmapped_certificate_cannot_list answered 403 \
    '.error.code == "forbidden"'

https rogue /healthz
check certificate_of_another_ca_is_refused_at_the_handshake \
    [ "$STATUS" = 000 ] && [ "$CURL_RC" -ne 0 ] && [ "$CURL_RC" -ne 28 ]
https "" /healthz --tls-max 1.2
check tls_1_2_is_refused [ "$STATUS" = 000 ] && [ "$CURL_RC" -ne 28 ]
https "" /healthz --tlsv1.3
check control_tls_1_3_is_served [ "$STATUS" = 200 ]

# what the listener serves now, by its fingerprint
served() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
	    -CAfile "$P/test-ca.pem" 2>/dev/null |
	    openssl x509 -outform DER 2>/dev/null | sha256sum | cut -c1-64
}
serves() { [ "$(served)" = "$(fp "$1")" ]; }
check control_server_certificate_is_served serves server

cp "$P/server2.pem" "$P/live.pem"
cp "$P/server2.key" "$P/live.key"
kill_pid sighup_reaches_the_daemon HUP "$DAEMON_PID"
check sighup_serves_the_new_certificate wait_for 10 serves server2

printf 'not a certificate\n' >"$P/live.pem"
kill_pid sighup_reaches_the_daemon HUP "$DAEMON_PID"
check broken_certificate_reload_is_reported wait_for 10 grep -q \
    'HTTPS reload failed, the old certificate is still served' \
    "$T/daemon.log"
check broken_certificate_keeps_the_old_one_served serves server2
https connector /v1/keys
check daemon_serves_after_a_broken_reload [ "$STATUS" = 200 ]
api GET /healthz
check unix_socket_still_serves [ "$STATUS" = 200 ]

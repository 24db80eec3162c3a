#!/bin/sh
# SPDX-License-Identifier: ISC
# The LDAP connector on another host: it reaches the appliance over its
# HTTPS listener (--api-url https://HOST:PORT) with its own client
# certificate (--cert, --key; a downstream principal by cert_sha256) and
# takes the appliance only with a certificate of --ca.  The order, the
# JWKS, the approvers export and the revocation list are fetched over
# HTTPS with curl --cert; the connector redeems over HTTPS, applies the
# order to a real slapd and reports the outcome.  http://, an unmapped
# client certificate, one of another CA and a server of another CA are
# each refused with the directory as it was and the order unredeemed.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/testca.sh
trap 'ldap_stop; daemon_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

V=$BUILD/tapgate-verify
APPLY=contrib/ldap-connector/tapgate-ldap-apply
S=dc=corp,dc=test
ALICE=uid=alice,ou=people,$S
SVC=cn=tapgate-connector,ou=services,$S
RESETTERS=cn=password-resetters,ou=groups,$S
ADMINS=cn=domain-admins,ou=groups,$S
OLD=alice-Old-Passw0rd

if ! ldap_have; then
	skip ldap_https "slapd and ldap-utils are needed (make deps)"
	exit 0
fi
if ! command -v openssl >/dev/null 2>&1; then
	skip ldap_https "openssl missing"
	exit 0
fi
not() { ! "$@"; }
has_member() { ldap_attr "$1" member | grep -qxF "member: $2"; }

# ---- the PKI: the appliance's CA (server and clients), and another
P=$T/pki
mkdir -p "$P"
leaf() {	# NAME CA
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.csr" &&
	echo 'extendedKeyUsage=clientAuth' >"$P/$1.ext" &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2-ca.pem" \
	    -CAkey "$P/$2-ca-key.pem" -CAcreateserial -days 2 \
	    -extfile "$P/$1.ext" -out "$P/$1.pem"
}
if ! { testca "$P" web && testca "$P" other && leaf connector web &&
    leaf stranger web && leaf rogue other; } >"$T/pki.log" 2>&1; then
	notok test_pki_is_made "$(tail -n 3 "$T/pki.log")"
	exit 1
fi
chmod 600 "$P/web-key.pem"
FP_CONN=$(openssl x509 -in "$P/connector.pem" -outform DER | sha256sum |
    cut -c1-64)

# ---- the directory
ldap_init "$T/ldap" "$S" \
    "to attrs=userPassword by group.exact=\"$RESETTERS\" =w by self =w by anonymous auth by * none" \
    "to dn.one=\"ou=groups,$S\" attrs=member by group.exact=\"$RESETTERS\" write by users read by * none" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$T/svc.pw")
cat >"$T/entries.ldif" <<EOF
dn: $ALICE
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Alice
userPassword: $(ldap_hash "$OLD")

dn: $SVC
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tapgate-connector
userPassword: $(ldap_hash "$(cat "$T/svc.pw")")

dn: $RESETTERS
objectClass: groupOfNames
cn: password-resetters
member: $SVC

dn: $ADMINS
objectClass: groupOfNames
cn: domain-admins
member: cn=placeholder,ou=services,$S
member: $ALICE

EOF
ldap_add_ldif "$T/entries.ldif" ||
	{ notok directory_entries_load "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
check control_alice_signs_in_with_her_old_password ldap_bind "$ALICE" "$OLD"
dir_state() {
	ldap_attr "$ALICE" userPassword
	ldap_attr "$ADMINS" member
}
dir_state >"$T/before"

# ---- the appliance, with its HTTPS listener; the connector's
# certificate is a downstream principal
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { cert_sha256 = \"$FP_CONN\"; roles = [\"downstream\"]; },/"
cat >>"$T/tapgate.conf" <<EOF
https = {
    listen = "127.0.0.1:$PORT";
    cert_file = "$P/web-cert.pem";
    key_file = "$P/web-key.pem";
    client_ca_file = "$P/web-ca.pem";
};
EOF
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
URL=https://127.0.0.1:$PORT

# a standard reset of alice: evidence and the hold, no approval
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
PRF=$(ev pre_registered_factor pass hd-bob push push-1)
IDD=$(ev identity_document pass hd-carol video id-1)
api POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$OOB,$PRF,$IDD]" \
    ',"changes":{"password":"reset","force_change_at_logon":false}')"
ID=$(jbody .id)
[ "$STATUS" = 201 ] || notok reset_is_submitted "HTTP $STATUS $(cat "$T/body")"

# fetch AS PATH OUT: GET over HTTPS with the certificate AS
fetch() {
	curl -s -o "$3" -w '%{http_code}' --max-time 20 --proto =https \
	    --cacert "$P/web-ca.pem" --cert "$P/$1.pem" --key "$P/$1.key" \
	    "$URL$2"
}
issued() { [ "$(fetch connector "/v1/orders/$ID" "$T/order.json")" = 200 ]; }
check order_is_fetched_over_https_with_the_connectors_certificate \
    wait_for 20 issued
jq -r .jws "$T/order.json" >"$T/order.jws"
check jwks_is_fetched_over_https \
    [ "$(fetch connector /v1/keys "$T/jwks.json")" = 200 ]
check approvers_export_is_fetched_over_https \
    [ "$(fetch connector /v1/approvers/export "$T/approvers.json")" = 200 ]
RL=$(fetch connector /v1/revocations "$T/revocations.json")
check revocation_list_is_signed_and_fetched_over_https \
    sh -c "[ '$RL' = 200 ] && [ \$(jq -r '.jws | split(\".\") | length' '$T/revocations.json') = 3 ]"
check unmapped_certificate_cannot_fetch_the_order \
    [ "$(fetch stranger "/v1/orders/$ID" "$T/x.json")" = 403 ]
check jwks_verifies_the_order_fetched_over_https \
    "$V" --jwks "$T/jwks.json" --approvers "$T/approvers.json" \
    --aud ldap-corp "$T/order.jws" >/dev/null

# ---- the connector
mkdir -m 700 "$T/handover"
conn() {	# [options] ORDER
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --aud ldap-corp \
	    --privileged-group "$ADMINS" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" --bind-pw-file "$T/svc.pw" \
	    --out-dir "$T/handover" "$@"
}
tls() {	# AS CA [options]: the connector's HTTPS options
	h_as=$1 h_ca=$2; shift 2
	conn --api-url "$URL" --cert "$P/$h_as.pem" --key "$P/$h_as.key" \
	    --ca "$P/$h_ca-ca.pem" "$@"
}
not_redeemed() {
	[ "$(fetch connector "/v1/orders/$ID" "$T/state.json")" = 200 ] &&
	    [ "$(jq -r .state "$T/state.json")" = issued ]
}
# refused NAME STATUS CONN-ARGS...: exits STATUS, says why, changes
# nothing, redeems nothing
refused() {
	name=$1 want=$2; shift 2
	"$@" >"$T/conn.out" 2>"$T/conn.err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		notok "$name" "exit $rc, expected $want: $(cat "$T/conn.err")"
	elif [ ! -s "$T/conn.err" ]; then
		notok "$name" "refused without a message"
	elif ! unchanged "$(cat "$T/before")" "$(dir_state)"; then
		notok "$name" "the directory changed"
	elif [ -n "$(ls -A "$T/handover")" ]; then
		notok "$name" "a password was handed out"
	elif [ -z "${REDEEMED:-}" ] && ! not_redeemed; then
		notok "$name" "the order was redeemed"
	else
		ok "$name"
		sed 's/^/#   /' "$T/conn.err"
	fi
}
refused cleartext_api_url_is_refused 2 conn --api-url "http://127.0.0.1:$PORT" \
    --cert "$P/connector.pem" --key "$P/connector.key" \
    --ca "$P/web-ca.pem" "$T/order.jws"
refused api_url_without_a_client_certificate_is_refused 2 conn \
    --api-url "$URL" --ca "$P/web-ca.pem" "$T/order.jws"
refused api_url_and_api_socket_exclude_each_other 2 tls connector web \
    --api-socket "$T/api.sock" "$T/order.jws"
refused unmapped_client_certificate_is_refused_by_the_appliance 13 \
    tls stranger web "$T/order.jws"
refused client_certificate_of_another_ca_fails_the_handshake 1 \
    tls rogue web "$T/order.jws"
refused appliance_not_of_the_ca_given_is_not_trusted 1 \
    tls connector other "$T/order.jws"

tls connector web "$T/order.jws" >"$T/conn.out" 2>"$T/conn.err"
rc=$?
check connector_redeems_and_applies_over_https \
    sh -c "[ $rc -eq 0 ] || { sed 's/^/#   /' '$T/conn.err'; false; }"
PWF=$(ls "$T"/handover/alice.* 2>/dev/null)
NEW=$(cat "$PWF" 2>/dev/null)
check alice_signs_in_with_the_new_password ldap_bind "$ALICE" "$NEW"
check alice_loses_her_privileged_group not has_member "$ADMINS" "$ALICE"
applied() {
	[ "$(fetch connector "/v1/orders/$ID" "$T/state.json")" = 200 ] &&
	    [ "$(jq -r .state "$T/state.json")" = applied ]
}
check outcome_is_reported_over_https wait_for 10 applied
api GET "/v1/audit?request=$ID"
check redemption_is_the_certificates jqtrue '[.entries[] |
    select(.event == "order.redeemed")] | length == 1 and
    (.[0].actor_name | startswith("cert:"))' "$T/body"
dir_state >"$T/before"
mv "$PWF" "$T/handed-over"
REDEEMED=1
refused replay_over_https_is_refused 9 tls connector web "$T/order.jws"

# a certificate's redemption that failed: an operator's resume lets that
# certificate, and no other, redeem it once more
api POST /v1/requests "$(req password_reset alice "" hd-bob phone \
    "[$OOB,$PRF,$IDD]")"
ID2=$(jbody .id)
issued2() { [ "$(fetch connector "/v1/orders/$ID2" "$T/o2.json")" = 200 ]; }
wait_for 20 issued2 || notok second_order_is_issued
post() {	# AS PATH BODY
	curl -s -o "$T/body" -w '%{http_code}' --max-time 20 --proto =https \
	    --cacert "$P/web-ca.pem" --cert "$P/$1.pem" --key "$P/$1.key" \
	    -X POST -H 'Content-Type: application/json' --data-binary "$3" \
	    "$URL$2"
}
check certificate_redeems_over_https \
    [ "$(post connector "/v1/orders/$ID2/redeem" '{}')" = 200 ]
check certificate_reports_a_failure_over_https \
    [ "$(post connector "/v1/orders/$ID2/outcome" \
    '{"result":"failed","changed":[],"directory_result":"down"}')" = 200 ]
"$BUILD/tapgatectl" -s "$T/api.sock" orders resume "$ID2" --reason \
    "directory back" >"$T/ctl.out" 2>&1
check operator_resumes_a_certificates_failed_redemption jqtrue \
    '.state == "resumed"' "$T/ctl.out"
check same_certificate_redeems_the_resumed_order \
    [ "$(post connector "/v1/orders/$ID2/redeem" '{}')" = 200 ]

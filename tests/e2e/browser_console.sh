#!/bin/sh
# SPDX-License-Identifier: ISC
# The console in a real browser: Debian's chromium, headless, driven by
# python3-selenium through chromium-driver with the WebDriver virtual
# authenticator (tests/browser/console_checks.py).  The browser trusts the
# test CA through an NSS database under the test's own HOME (no
# certificate error is ignored: Chromium refuses WebAuthn on such a page)
# and reaches console.tapgate.local at 127.0.0.1 by its resolver rules.
# The officers' keys enrolled at the box by softfido go into the virtual
# authenticator (their credential ids, private keys and counters, read
# from softfido's state files): the console page's own WebAuthn code signs
# the appliance's console-approval nonces with them.  ann, a console user
# whose officer is officer-ann, signs in with her key, sees the queue, and
# approves bob's admin reset on the request's page, where a second
# officer's key under her session is refused.  Then ann and ben (the
# console user of officer-ben) approve alice's admin recovery on its page,
# and the order verifies with tapgate-verify; under their sessions, in the
# browser (the page's own code, or its api() with the session's cookie and
# CSRF token), a second officer's key, a stale nonce, a replayed
# assertion, a foreign origin and a key that does not verify the user are
# refused, and nothing is recorded.  A page of another origin of the same
# site (HTTPS on evil.tapgate.local) cannot sign ben out through his
# browser; after he signs out, the page is back at sign-in and his old
# cookie, put back, does nothing.  An owner told by mail (a private
# slapd knows her address; a sender writes each message to a file) opens
# the link of the message and vetoes on the console's page.  Before that,
# an operator and an agent invited with tapgatectl console invite enrol
# new keys on the enrol page (navigator.credentials.create in the virtual
# authenticator): the operator sees the dashboard (queues, carol's hold
# counting down, alarms, quorum) and the request's timeline; the agent
# submits a request with the form the queue's vocabulary makes, starts a
# challenge to the mail on record, enters the code the sender wrote, and
# sees its own team's requests only.  Screenshots
# of the pages go to build/screenshots/.  Skipped, with the reason, only
# where a browser package is missing (make deps installs them); the
# owner's part also needs slapd.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; keys_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' \
    EXIT

PY=/usr/bin/python3
missing=
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
"$PY" -c 'import selenium' 2>/dev/null || missing="$missing python3-selenium"
"$PY" -c 'import cryptography' 2>/dev/null ||
    missing="$missing python3-cryptography"
command -v certutil >/dev/null 2>&1 || missing="$missing libnss3-tools"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
	skip browser_console "missing:$missing (make deps installs them)"
	exit 0
fi

# the console's certificate, for its name and a foreign one, by a test CA
P=$T/pki
mkdir -p "$P"
if ! {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj "/CN=browser test CA" -keyout "$P/ca.key" \
	    -out "$P/ca.pem" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=console.tapgate.local" -keyout "$P/web.key" \
	    -out "$P/web.csr" &&
	printf '%s\n%s\n' 'extendedKeyUsage=serverAuth' \
	    'subjectAltName=DNS:console.tapgate.local,DNS:evil.tapgate.local,IP:127.0.0.1' \
	    >"$P/web.ext" &&
	openssl x509 -req -in "$P/web.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
	    -CAcreateserial -days 2 -extfile "$P/web.ext" -out "$P/web.pem"
} >"$T/pki.log" 2>&1; then
	notok test_pki_is_made "$(tail -n 3 "$T/pki.log")"
	exit 1
fi
chmod 600 "$P/web.key"

# the browser's own HOME, trusting the test CA and nothing else new
HOME=$T/home
export HOME
mkdir -p "$HOME/.pki/nssdb"
if ! { certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password &&
    certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n tapgate-test-ca \
    -i "$P/ca.pem"; } >"$T/nss.log" 2>&1; then
	notok browser_trusts_the_test_ca "$(tail -n 3 "$T/nss.log")"
	exit 1
fi

ANN=2001 BEN=2002
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ORIGIN=https://console.tapgate.local:$PORT
# ann and ben are officers at their own uids, enrolled as officer-ann and
# officer-ben
make_config "$T/tapgate.conf" \
    "s/^(roles = \\()\$/\\1\\n    { uid = $ANN; roles = [\"officer\"]; },\\n    { uid = $BEN; roles = [\"officer\"]; },\\n    { user = \"ann\"; roles = [\"officer\"]; },\\n    { user = \"ben\"; roles = [\"officer\"]; },\\n    { user = \"amy\"; roles = [\"intake\"]; },\\n    { user = \"oscar\"; roles = [\"operator\"]; },/" \
    "s/^(principals = \\()\$/\\1\\n    { uid = $ANN; name = \"officer-ann\"; team = \"appliance\"; },\\n    { uid = $BEN; name = \"ben-at-the-box\"; team = \"appliance\"; },\\n    { user = \"ben\"; name = \"ben\"; team = \"appliance\"; officer = \"officer-ben\"; },\\n    { user = \"ann\"; name = \"ann\"; team = \"appliance\"; officer = \"officer-ann\"; },\\n    { user = \"amy\"; name = \"amy\"; team = \"helpdesk\"; },\\n    { user = \"oscar\"; name = \"oscar\"; team = \"appliance\"; },/"
cat >>"$T/tapgate.conf" <<EOC
https = {
    listen = "127.0.0.1:$PORT";
    cert_file = "$P/web.pem";
    key_file = "$P/web.key";
    client_ca_file = "$P/ca.pem";
};
console = { origins = [ "$ORIGIN" ]; nonce_seconds = 10; url = "$ORIGIN"; };
EOC
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
# the officers' keys, enrolled at the box; the browser gets their
# credentials (softfido's state file) in its virtual authenticator
key_start ann || exit 1
key_start ben || exit 1
enroll officer-ann security_officer ann ||
    notok officer_ann_enrols "$(cat "$T/enrol.err")"
enroll officer-ben security_officer ben ||
    notok officer_ben_enrols "$(cat "$T/enrol.err")"
ID=$(admin_reset alice)
ID2=$(admin_reset bob)

SHOTS=${SHOTS:-build/screenshots}
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png
run_browser() {
	PHASE=${PHASE:-} VETO_LINK=${VETO_LINK:-} VID=${VID:-} \
	HOLD_ID=${HOLD_ID:-} MAIL_DIR=${MAIL_DIR:-} AMY_CODE=${AMY_CODE:-} \
	OSCAR_CODE=${OSCAR_CODE:-} ORIGIN=$ORIGIN SHOTS=$SHOTS USER_DATA=$T/chrome API_SOCK=$T/api.sock \
	ANN=$ANN BEN=$BEN ANN_STATE=$T/ann.state BEN_STATE=$T/ben.state \
	APPROVE_ID=$ID SESSION_ID=$ID2 FOREIGN=https://evil.tapgate.local:$PORT \
	FOREIGN_HOST=https://evil.tapgate.local WEB_CERT=$P/web.pem WEB_KEY=$P/web.key \
	RESOLVER_RULES="MAP console.tapgate.local 127.0.0.1, MAP evil.tapgate.local 127.0.0.1" \
	    "$PY" tests/browser/console_checks.py 2>"$T/browser.err"
}
# a run that ends in an error of its own says so (each failed check has
# printed its line already)
if ! run_browser && grep -q Traceback "$T/browser.err"; then
	notok browser_checks_ran "$(tail -n 5 "$T/browser.err")"
fi

# the order of the approvals the browser's key made verifies downstream
# like one approved at the box
check hold_end_makes_the_request_ready \
    wait_for 15 request_in_state "$ID" ready
wait_for 10 status_is 200 GET "/v1/orders/$ID"
jq -r .jws "$T/body" >"$T/order.jws"
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
verify_order() {
	"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
	    --approvers "$T/approvers.json" --min-approvals 2 \
	    --require admin=2 "$T/order.jws" >"$T/verified.json" \
	    2>"$T/verify.err" &&
	    jqtrue '.change.target.account == "alice"' "$T/verified.json"
}
check tapgate_verify_accepts_the_order_approved_in_the_browser verify_order
CTL audit tail -n 200 --json >"$T/audit.json"
# alice's two, and ann's on bob's request from the request page
check browser_approvals_are_audited_as_console_approvals \
    jqtrue '[.entries[] | select(.event == "request.approved" and
    .details.via == "console")] | length == 3' "$T/audit.json"

# The owner: the appliance tells carol (her mail from the directory, a
# private slapd) through a sender that writes each message to a file;
# the message's link opens the console's veto page, where she vetoes.
if ! ldap_have_directory; then
	skip owner_vetoes_from_the_notification_link \
	    "slapd, ldap-utils or an overlay missing (make deps)"
	exit 0
fi
S=dc=corp,dc=example
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"
mkdir "$T/mail"
cat >"$T/send.sh" <<EOS
#!/bin/sh
f=\$(mktemp "$T/mail/msg.XXXXXX")
cat >"\$f.tmp" && mv "\$f.tmp" "\$f.json"
EOS
chmod 755 "$T/send.sh"
daemon_stop
sed -i -E -e 's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/' \
    -e 's/hold_seconds = 2;/hold_seconds = 300;/' \
    -e "s|^notify = \\{|senders = { mail = \"$T/send.sh\"; };\\n&|" \
    "$T/tapgate.conf"
cat >>"$T/tapgate.conf" <<EOC
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
};
EOC
daemon_start "$T/tapgate.conf" ||
    { notok daemon_starts_with_a_directory_and_a_sender; exit 1; }
api POST /v1/requests "$(req password_reset carol "" hd-bob phone \
    "[$(ev pre_registered_factor pass hd-amy push P-1)]")"
VID=$(jbody .id)
check carols_request_is_made [ "$STATUS" = 201 ]
mail_to_carol() {
	grep -l '"destination":"carol@corp.example"' "$T"/mail/*.json \
	    2>/dev/null | xargs -r grep -l "$VID" | head -n 1
}
has_mail() { [ -n "$(mail_to_carol)" ]; }
check owner_is_told wait_for 20 has_mail
VETO_LINK=$(jq -r .text "$(mail_to_carol)" |
    sed -n "s|^Open \($ORIGIN/console/#/veto/$VID/[^ ]*\) to see it and stop it\.\$|\1|p")
check message_links_to_the_consoles_veto_page [ -n "$VETO_LINK" ]
# an agent and an operator, invited by the operator at the box; carol's
# request, in its hold, is on the operator's dashboard before she vetoes
CTL console invite amy --json >"$T/amy.json" &&
    CTL console invite oscar --json >"$T/oscar.json"
check operator_invites_an_agent_and_an_operator \
    jq -e '.code | length > 0' "$T/amy.json" "$T/oscar.json" >/dev/null
check carols_request_is_in_its_hold request_in_state "$VID" in_hold
PHASE=veto HOLD_ID=$VID MAIL_DIR=$T/mail
AMY_CODE=$(jq -r .code "$T/amy.json")
OSCAR_CODE=$(jq -r .code "$T/oscar.json")
if ! run_browser && grep -q Traceback "$T/browser.err"; then
	notok browser_veto_ran "$(tail -n 5 "$T/browser.err")"
fi
check owners_veto_in_the_browser_stops_the_request \
    request_in_state "$VID" vetoed

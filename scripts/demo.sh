#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo: one help-desk recovery from request to the change applied in a
# directory, on this machine, with software security keys (softfido) in
# place of the officers' hardware keys and a private OpenLDAP slapd as the
# directory the appliance asks who the account is (alice: admin by her
# groups, with no hint in her name) and as the downstream directory, which
# the shipped LDAP connector
# (contrib/ldap-connector/tapgate-ldap-apply) changes only after verifying
# the co-signed order.  Everything lives in build/demo/ (or $DEMO_DIR); the
# order, the JWKS and the approvers export stay there for anyone to check
# with their own JOSE tools.  The appliance tells alice of the request by
# mail, through the shipped mail sender (contrib/senders/tapgate-send-mail)
# and a private SMTP server (aiosmtpd) standing in for the mail relay.
#
# With DEMO_CONSOLE=1 (make demo-console) the daemon also serves the web
# console over HTTPS (CONSOLE_PORT, 8443, on 127.0.0.1, as
# console.tapgate.local with a certificate of a demo CA made for the run)
# and, the recovery done, stays up with another request until Ctrl-C or
# make demo-stop.
set -eu
BUILD=${1:-build}
D=${DEMO_DIR:-build/demo}
case $D in /*) ;; *) D=$PWD/$D ;; esac
rm -rf "$D"
mkdir -p "$D"
chmod 700 "$D"
CTL="$BUILD/tapgatectl -s $D/tapgate.sock"
PIN_ANN=482913
PIN_BEN=615027
PIDS=
# the directory: a private slapd on a loopback port of its own
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_ppolicy.sh
S=dc=corp,dc=test
ALICE=uid=alice,ou=people,$S
SVC=cn=tapgate-connector,ou=services,$S
APPL=cn=tapgate,ou=services,$S
RESETTERS=cn=password-resetters,ou=groups,$S
ADMINS=cn=domain-admins,ou=groups,$S
CONSOLE_PORT=${CONSOLE_PORT:-8443}
CONSOLE_URL=https://console.tapgate.local:$CONSOLE_PORT
cleanup() {
	rm -f "$D/demo.pid"
	ldap_stop
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
step() { printf '\n== %s\n' "$*"; }
show_mail() {	# FILE: a received message's headers and text, as read
	/usr/bin/python3 - "$1" <<'EOP'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                   policy=email.policy.default)
for h in ("From", "To", "Subject"):
    print("  %s: %s" % (h, m[h]))
print()
for line in m.get_body().get_content().splitlines():
    print("  | " + line)
EOP
}
api() {	# METHOD PATH [BODY]
	if [ $# -gt 2 ]; then
		curl -s --unix-socket "$D/tapgate.sock" -X "$1" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "http://tapgated$2"
	else
		curl -s --unix-socket "$D/tapgate.sock" -X "$1" "http://tapgated$2"
	fi
}

step "two security officers' keys: softfido, the software FIDO2 key (touch is automatic)"
for k in ann ben; do
	"$BUILD/softfido" --socket "$D/$k.sock" --state "$D/$k.state" &
	PIDS="$PIDS $!"
done
"$BUILD/tapgatectl" token info "softfido:$D/ann.sock"
echo "$PIN_ANN" | "$BUILD/tapgatectl" token set-pin "softfido:$D/ann.sock"
echo "$PIN_BEN" | "$BUILD/tapgatectl" token set-pin "softfido:$D/ben.sock"

step "the directory ldap-corp: a private OpenLDAP slapd, where alice is a domain admin (memberOf)"
# the connector's account may reset passwords (managing them, so that the
# password policy overlay makes the owner change a reset one) and drop
# group members, nothing else; the appliance's account reads
# shellcheck disable=SC2034 # ldap_init reads LDAP_MORE_*
LDAP_PPOLICY_MORE_MODULES="olcModuleLoad: memberof
"
# shellcheck disable=SC2034
LDAP_PPOLICY_MORE_CONFIG="dn: olcOverlay=memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: memberof
olcMemberOfRefInt: TRUE

"
ldap_init_ppolicy "$D/ldap" "$S" \
    "to attrs=userPassword by group.exact=\"$RESETTERS\" =mw by self =w by anonymous auth by * none" \
    "to dn.one=\"ou=groups,$S\" attrs=member by group.exact=\"$RESETTERS\" write by users read by * none"
mkdir -m 700 "$D/connector"
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 \
    >"$D/connector/bind.pw")
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 \
    >"$D/directory.pw")
OLD_PW=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 16)
cat >"$D/ldap/entries.ldif" <<EOL
dn: $ALICE
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
mobile: +44 7700 900123
mail: alice@corp.test
employeeType: person
memberOf: $ADMINS
userPassword: $(ldap_hash "$OLD_PW")

dn: $APPL
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tapgate
userPassword: $(ldap_hash "$(cat "$D/directory.pw")")

dn: $SVC
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tapgate-connector
userPassword: $(ldap_hash "$(cat "$D/connector/bind.pw")")

dn: $RESETTERS
objectClass: groupOfNames
cn: password-resetters
member: $SVC

dn: $ADMINS
objectClass: groupOfNames
cn: domain-admins
member: cn=placeholder,ou=services,$S
member: $ALICE
EOL
ldap_add_ldif "$D/ldap/entries.ldif"
ldap_start
echo "slapd on $LDAP_URI, suffix $S"

MAIL=
if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
	step "the mail relay: a private SMTP server (aiosmtpd) that keeps what it receives in $D/mail"
	mkdir -m 700 "$D/mail"
	/usr/bin/python3 tests/e2e/lib/smtp_sink.py "$D/smtp.port" "$D/mail" \
	    2>"$D/smtp.log" &
	PIDS="$PIDS $!"
	i=0
	until [ -s "$D/smtp.port" ]; do
		i=$((i + 1)); [ $i -lt 200 ] || { cat "$D/smtp.log"; exit 1; }
		sleep 0.05
	done
	printf 'host = 127.0.0.1\nport = %s\nfrom = tapgate@corp.test\n' \
	    "$(cat "$D/smtp.port")" >"$D/send-mail.conf"
	# a sender runs without arguments: a wrapper names its configuration
	printf '#!/bin/sh\nexec %s --config %s\n' \
	    "$PWD/contrib/senders/tapgate-send-mail" "$D/send-mail.conf" \
	    >"$D/send-mail"
	chmod 755 "$D/send-mail"
	MAIL=$D/send-mail
	echo "relay on 127.0.0.1:$(cat "$D/smtp.port"); the mail sender: $MAIL"
else
	step "no python3-aiosmtpd (make deps installs it): the demo runs without a mail relay, nobody is told, and the appliance-verified evidence minimum is lowered to none"
fi

step "tapgated on the embedded default policy, asking the directory; only the waiting periods are cut to 5 s for the demo"
# the default policy's admin groups are the example domain's: here the
# demo directory's domain-admins group.  Without a mail relay no code can
# reach alice, so the appliance-verified evidence (challenges) an admin
# needs is lowered to none
LOWER='s/^$//'
[ -n "$MAIL" ] ||
	LOWER='s/min_verified = [0-9]+; min_verified_types = [0-9]+;/min_verified = 0; min_verified_types = 0;/'
"$BUILD/tapgated" --print-default-config |
    sed -E -e 's/(extra_)?hold_seconds = [0-9]+;/\1hold_seconds = 5;/' \
    -e "$LOWER" \
    -e "s/CN=Domain Admins,CN=Users,DC=corp,DC=example/$ADMINS/" \
    >"$D/tapgate.conf"
cat >>"$D/tapgate.conf" <<EOC
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";		# slapd on loopback, for the demo only
	bind = { method = "simple"; dn = "$APPL";
	    password_file = "$D/directory.pw"; };
	base = "ou=people,$S";
};
EOC
if [ -n "$MAIL" ]; then
	printf 'senders = {\n\tmail = "%s";\n};\n' "$MAIL" \
	    >>"$D/tapgate.conf"
fi
if [ "${DEMO_CONSOLE:-0}" = 1 ]; then
	# the console's certificate, by a CA made for this run only
	mkdir -m 700 "$D/pki"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 7 -subj "/CN=tapgate demo CA" -keyout "$D/pki/ca.key" \
	    -out "$D/pki/ca.pem" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=console.tapgate.local" -keyout "$D/pki/console.key" \
	    -out "$D/pki/console.csr" 2>/dev/null
	printf '%s\n%s\n' 'extendedKeyUsage=serverAuth' \
	    'subjectAltName=DNS:console.tapgate.local,IP:127.0.0.1' \
	    >"$D/pki/console.ext"
	openssl x509 -req -in "$D/pki/console.csr" -CA "$D/pki/ca.pem" \
	    -CAkey "$D/pki/ca.key" -CAcreateserial -days 7 \
	    -extfile "$D/pki/console.ext" -out "$D/pki/console.pem" 2>/dev/null
	chmod 600 "$D/pki/console.key"
	cat >>"$D/tapgate.conf" <<EOC
https = {
	listen = "127.0.0.1:$CONSOLE_PORT";
	cert_file = "$D/pki/console.pem";
	key_file = "$D/pki/console.key";
	client_ca_file = "$D/pki/ca.pem";
};
console = { origins = [ "$CONSOLE_URL" ]; url = "$CONSOLE_URL"; };
EOC
fi
grep -A8 '^directory = {' "$D/tapgate.conf" | sed 's/^/  /'
"$BUILD/tapgated" -c "$D/tapgate.conf" --state-dir "$D/state" \
    --socket "$D/tapgate.sock" \
    --trust-roots "$PWD/build/gen/softfido-ca.pem" 2>"$D/tapgated.log" &
DAEMON=$!
PIDS="$PIDS $DAEMON"
i=0
until api GET /healthz >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$D/tapgated.log"; exit 1; }
	sleep 0.05
done
sed 's/^/  /' "$D/tapgated.log"

step "the operator enrols the officers (makeCredential with touch and PIN, attestation checked)"
echo "$PIN_ANN" | $CTL approvers enroll --name officer-ann \
    --group security_officer --device "softfido:$D/ann.sock"
echo "$PIN_BEN" | $CTL approvers enroll --name officer-ben \
    --group security_officer --device "softfido:$D/ben.sock"
$CTL approvers list

if [ -n "$MAIL" ]; then
	step "months before: the operator issues alice's saved recovery codes (printed once, kept by her on paper; the appliance keeps only scrypt hashes)"
	$CTL recovery-codes issue alice | tee "$D/recovery-codes.txt"
	SAVED=$(sed -n 's/^  \([A-Z0-9-]*\)$/\1/p' "$D/recovery-codes.txt" |
	    head -n 1)
fi

step "the help desk submits a password reset for alice, claimed 'standard', after a phone call"
cat >"$D/request.json" <<'EOJ'
{"queue": "password_reset",
 "target": {"account": "alice", "system": "ldap-corp", "class": "standard"},
 "requester": {"agent": "hd-bob", "channel": "phone", "ticket": "INC-1042"},
 "evidence": [
   {"type": "out_of_band_callback", "result": "pass", "verifier": "hd-bob", "channel": "email", "ref": "callback-7731"},
   {"type": "pre_registered_factor", "result": "pass", "verifier": "hd-bob", "channel": "push", "ref": "push-19"},
   {"type": "identity_document", "result": "pass", "verifier": "hd-carol", "channel": "video", "ref": "id-5521"}],
 "changes": {"password": "reset", "force_change_at_logon": true}}
EOJ
api POST /v1/requests "$(cat "$D/request.json")" >"$D/answer.json"
jq . "$D/answer.json"
ID=$(jq -r .id "$D/answer.json")
echo "(nothing in her name says admin: the directory's facts do, and a claim can never downgrade them)"
$CTL requests show "$ID"

if [ -n "$MAIL" ]; then
	step "alice hears of it: the mail her mail server received, with the veto code that would stop it"
	i=0
	until [ -s "$D/mail/1.eml" ]; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "no mail"; exit 1; }
		sleep 0.05
	done
	show_mail "$D/mail/1.eml"
	CODE=$(grep -o '[2-9A-Z]\{4\}-[2-9A-Z]\{4\}-[2-9A-Z]\{4\}' \
	    "$D/mail/1.eml" | head -n 1)
	echo "veto code $CODE: the appliance keeps only its hash; sent to"
	echo "POST /v1/requests/$ID/veto from any local user, it would stop the"
	echo "request (not here: the demo goes on)"

	step "a code to the mail on record: the appliance picks alice's address from the directory (the agent never sees it), sends it, and checks what is read back"
	echo "(what the help desk typed is only its word: an admin needs two kinds of evidence the appliance verified itself)"
	api POST "/v1/requests/$ID/challenges" \
	    '{"kind":"out_of_band","contact":"mail"}' >"$D/challenge.json"
	jq '{challenge, kind, channel, destination, max_attempts}' \
	    "$D/challenge.json"
	i=0
	until CMAIL=$(grep -l '^Subject: Your help-desk verification code' \
	    "$D"/mail/*.eml 2>/dev/null | head -n 1) && [ -n "$CMAIL" ]; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "no code mail"; exit 1; }
		sleep 0.05
	done
	show_mail "$CMAIL" | tee "$D/code-mail.txt"
	OTC=$(sed -n 's/^  | The code: \([0-9]\{8\}\)$/\1/p' "$D/code-mail.txt")
	echo "alice reads $OTC back to the agent, who types it in:"
	api POST "/v1/requests/$ID/challenges/$(jq -r .challenge \
	    "$D/challenge.json")/answer" "{\"code\":\"$OTC\"}" |
	    jq '{state, missing: [.missing[].text]}'

	step "alice reads one of her saved recovery codes to the agent"
	api POST "/v1/requests/$ID/challenges" '{"kind":"recovery_code"}' \
	    >"$D/challenge.json"
	api POST "/v1/requests/$ID/challenges/$(jq -r .challenge \
	    "$D/challenge.json")/answer" "{\"code\":\"$SAVED\"}" |
	    jq '{state, missing: [.missing[].text]}'
	$CTL requests show "$ID" | grep -E '^(state|verified|  [a-z_]+ .* by )'
fi

step "officer-ann approves at the box: touch and PIN, bound to this exact change"
echo "$PIN_ANN" | $CTL approve "$ID" --device "softfido:$D/ann.sock"
step "officer-ben approves"
echo "$PIN_BEN" | $CTL approve "$ID" --device "softfido:$D/ben.sock"

step "the waiting period: the owner or any officer could still veto"
$CTL requests show "$ID" | sed -n '1,4p'
i=0
until [ "$(api GET "/v1/orders/$ID" | jq -r '.jws // empty' | cut -c1-2)" = ey ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "no order after 30 s"; exit 1; }
	sleep 0.1
done
echo "(the hold ran out without a veto)"
$CTL requests show "$ID" | sed -n '1,4p'

step "the appliance co-signed the order; downstream fetches it, the JWKS and the approvers export"
$CTL orders jws "$ID" >"$D/order.jws"
$CTL keys -o "$D/jwks.json"
$CTL approvers export -o "$D/approvers.json"
cut -c1-120 "$D/order.jws"; echo "   ..."

step "the order as tapgate-verify reads it offline: signature, audience, times, both officers' assertions"
"$BUILD/tapgate-verify" --jwks "$D/jwks.json" --aud ldap-corp \
    --approvers "$D/approvers.json" --min-approvals 2 "$D/order.jws" |
    jq '{iss, aud, approvers, approvals_verified, change: {account:
    .change.target.account, dn: .change.target.dn, privileged_groups:
    .change.target.privileged_groups, class: .change.target.class, changes:
    .change.changes, entitlements_dropped: .change.entitlements_dropped},
    exp}'

step "the connector applies it: verified, redeemed once online (the appliance is the authority), the privileged groups the order names dropped, password reset, change forced at logon, the outcome reported"
ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" \
    -y "$LDAP_ADMIN_PWFILE" -b "$ADMINS" -s base member |
    sed -e '/^$/d' -e 's/^/  before: /'
mkdir -m 700 "$D/handover"
apply() {
	sh contrib/ldap-connector/tapgate-ldap-apply --verify "$BUILD/tapgate-verify" \
	    --jwks "$D/jwks.json" --approvers "$D/approvers.json" \
	    --min-approvals 2 --aud ldap-corp \
	    --api-socket "$D/tapgate.sock" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" \
	    --bind-pw-file "$D/connector/bind.pw" \
	    --ppolicy --out-dir "$D/handover" \
	    "$D/order.jws"
}
apply
TEMP=$(cat "$D"/handover/alice.*)
echo "and a replay of the same order:"
set +e
apply
rc=$?
set -e
[ $rc -eq 9 ] || { echo "replay not refused as redeemed (exit $rc)" >&2; exit 1; }
echo "(refused with exit 9: the directory is unchanged by it)"
echo "what the appliance knows of the order now:"
$CTL orders show "$ID" | jq '{state, redeemed_by, redemptions, outcome}'

step "the directory now: alice out of domain-admins, her password reset and marked for change"
ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" \
    -y "$LDAP_ADMIN_PWFILE" -b "$ADMINS" -s base member
ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" \
    -y "$LDAP_ADMIN_PWFILE" -b "$ALICE" -s base uid pwdChangedTime pwdReset
echo "alice signs in with the temporary password the help desk hands over:"
ldapwhoami -x -e ppolicy -H "$LDAP_URI" -D "$ALICE" -w "$TEMP" 2>&1 |
    sed 's/^/  /'
if ldapwhoami -x -H "$LDAP_URI" -D "$ALICE" -w "$OLD_PW" >/dev/null 2>&1; then
	echo "the old password still works: this must not happen" >&2
	exit 1
fi
echo "  (and her old password no longer works)"

step "the audit log and its hash chain"
$CTL audit tail -n 12 --json | jq -r '.entries[] |
    "\(.seq | tostring | (" " * (4 - length)) + .) \(.time | todate) \(.event)" +
    " by \(.actor_role)/\(.actor_name)" +
    (if .request_id then " on \(.request_id[0:8])" else "" end) +
    "\n       \(.details | tojson)"'
$CTL audit verify
cat <<EOT

The co-signed order, the JWKS and the approvers export are in $D/:
  order.jws  jwks.json  approvers.json
Check the appliance signature with any JOSE library, e.g. python3-jwcrypto.
EOT
if [ "${DEMO_CONSOLE:-0}" != 1 ]; then
	echo
	echo "The web console: make demo-console leaves this daemon running"
	echo "with the console at $CONSOLE_URL/"
	exit 0
fi

step "the web console: the daemon stays up, with another request for alice, claimed admin this time"
api POST /v1/requests "$(sed -e 's/INC-1042/INC-1043/' \
    -e 's/"standard"/"admin"/' "$D/request.json")" | jq '{id, state}'
echo "$$" >"$D/demo.pid"
cat <<EOT

The console: $CONSOLE_URL/
  (127.0.0.1 port $CONSOLE_PORT; served by the daemon's front process)
Your browser must reach that name and trust the demo's CA:
  echo '127.0.0.1 console.tapgate.local' >>/etc/hosts   (as root)
  certutil -d sql:\$HOME/.pki/nssdb -A -t C,, -n tapgate-demo \\
      -i $D/pki/ca.pem    (Chromium; libnss3-tools), or import
  $D/pki/ca.pem as an authority in the browser's certificate settings.
WebAuthn needs the exact name: a certificate error or another host name
fails the sign-in.  The demo's officers hold software keys (softfido),
which a browser cannot use: sign in with a key of your own, enrolled at
the box as README.md says under "Approving in the browser".
The appliance's messages to an owner now link to the console's veto page
(console.url); with a mail relay, alice's message about the new request
is in $D/mail/.
Stop with Ctrl-C or make demo-stop.
EOT
# a stop asked for is the end of the demo, not a failure
trap 'exit 0' INT TERM
wait "$DAEMON"

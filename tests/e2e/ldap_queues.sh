#!/bin/sh
# SPDX-License-Identifier: ISC
# The LDAP connector applies every queue a directory holds, to a private
# slapd that runs the password policy overlay (lockout) and the OATH
# overlay (slapo-otp, TOTP tokens): officers approve each request with
# their (software) security keys, the appliance co-signs, and
# contrib/ldap-connector/tapgate-ldap-apply applies the order:
#   reactivation      carol, locked out, binds again, and first loses
#                     Domain Admins (the order drops every privileged
#                     group)
#   mfa_reset         dave's TOTP token is gone: his password alone binds,
#                     the token entry with the old secret is deleted
#   privilege_change  erin joins vpn-users and leaves staff
# A directory that cannot apply a queue (no --ppolicy, no --otp), a
# queue no directory holds (transaction_approval) and a tampered order
# are refused, change nothing and spend nothing.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/ldap.sh
trap 'ldap_stop; daemon_stop; keys_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

V=$BUILD/tapgate-verify
APPLY=contrib/ldap-connector/tapgate-ldap-apply
S=dc=corp,dc=test
SVC=cn=tapgate-connector,ou=services,$S
CONN=cn=connectors,ou=groups,$S
ADMINS=cn=domain-admins,ou=groups,$S
VPN=cn=vpn-users,ou=groups,$S
STAFF=cn=staff,ou=groups,$S
TOKEN=cn=dave-totp,ou=tokens,$S
SECRET=12345678901234567890
dn() { echo "uid=$1,ou=people,$S"; }

if ! ldap_have || [ ! -f "$LDAP_MODULES/ppolicy.so" ] ||
    [ ! -f "$LDAP_MODULES/otp.so" ]; then
	notok ldap_tools_installed "slapd with its ppolicy and otp modules," \
	    "and ldap-utils are needed (make deps)"
	exit 1
fi

not() { ! "$@"; }
has_member() { ldap_attr "$1" member | grep -qxF "member: $2"; }
b64u() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
unb64u() { tr '_-' '/+' | awk '{ n = length($0) % 4; if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d; }
# totp: the RFC 6238 code of $SECRET now (SHA-1, 30 s, 6 digits)
totp() {
	python3 -c 'import hmac, hashlib, struct, sys, time
h = hmac.new(sys.argv[1].encode(), struct.pack(">Q", int(time.time()) // 30),
    hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 10**6))' \
	    "$SECRET"
}
exists() {
	ldapsearch -x -LLL -H "$LDAP_URI" -D "$LDAP_ADMIN_DN" \
	    -y "$LDAP_ADMIN_PWFILE" -b "$1" -s base 1.1 2>/dev/null |
	    grep -q '^dn:'
}

# ---- the directory: ppolicy (lockout) and otp on the database, otp
# first so that ppolicy sees every bind; the connector's group may write
# what the queues change, nothing else
# shellcheck disable=SC2034 # ldap_init (lib/ldap.sh) reads LDAP_MORE_*
LDAP_MORE_MODULES="olcModuleLoad: ppolicy
olcModuleLoad: otp
"
# shellcheck disable=SC2034
LDAP_MORE_CONFIG="dn: olcOverlay=otp,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
olcOverlay: otp

dn: olcOverlay=ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: ppolicy
olcPPolicyDefault: cn=default,ou=policies,$S

"
# shellcheck disable=SC2034
LDAP_MORE_BASE="dn: ou=policies,$S
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$S
objectClass: person
objectClass: pwdPolicy
cn: default
sn: default
pwdAttribute: userPassword
pwdLockout: TRUE

dn: ou=tokens,$S
objectClass: organizationalUnit
ou: tokens

dn: cn=totp-params,ou=tokens,$S
objectClass: device
objectClass: oathTOTPParams
cn: totp-params
oathOTPLength: 6
oathHMACAlgorithm: 1.2.840.113549.2.7
oathTOTPTimeStepPeriod: 30
oathTOTPTimeStepWindow: 3

"
ldap_init "$T/ldap" "$S" \
    "to dn.one=\"ou=groups,$S\" attrs=member by group.exact=\"$CONN\" write by users read by * none" \
    "to dn.one=\"ou=people,$S\" attrs=pwdAccountLockedTime,pwdFailureTime by group.exact=\"$CONN\" manage by * none" \
    "to dn.one=\"ou=people,$S\" attrs=objectClass,oathTOTPToken,oathHOTPToken by group.exact=\"$CONN\" write by users read by * none" \
    "to dn.subtree=\"ou=tokens,$S\" by group.exact=\"$CONN\" write by * none" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$T/svc.pw")
person() {	# uid [more LDIF lines]
	printf 'dn: %s\nobjectClass: inetOrgPerson\n' "$(dn "$1")"
	[ $# -gt 1 ] && printf '%s\n' "$2"
	printf 'uid: %s\ncn: %s\nsn: %s\nuserPassword: %s\n\n' "$1" "$1" "$1" \
	    "$(ldap_hash "pw-$1")"
}
{
	person carol 'pwdAccountLockedTime: 000001010000Z'
	person dave "objectClass: oathTOTPUser
oathTOTPToken: $TOKEN"
	person erin
	person fred
	cat <<EOF
dn: $TOKEN
objectClass: device
objectClass: oathTOTPToken
cn: dave-totp
oathSecret: $SECRET
oathTOTPParams: cn=totp-params,ou=tokens,$S

dn: $SVC
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tapgate-connector
userPassword: $(ldap_hash "$(cat "$T/svc.pw")")

dn: $CONN
objectClass: groupOfNames
cn: connectors
member: $SVC

dn: $ADMINS
objectClass: groupOfNames
cn: domain-admins
member: cn=placeholder,ou=services,$S
member: $(dn carol)

dn: $VPN
objectClass: groupOfNames
cn: vpn-users
member: cn=placeholder,ou=services,$S

dn: $STAFF
objectClass: groupOfNames
cn: staff
member: cn=placeholder,ou=services,$S
member: $(dn erin)

EOF
} >"$T/entries.ldif"
ldap_add_ldif "$T/entries.ldif" ||
	{ notok directory_entries_load "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
# controls: the overlays are at work on this server
check slapd_serves_a_plain_account ldap_bind "$(dn erin)" pw-erin
check locked_carol_cannot_bind not ldap_bind "$(dn carol)" pw-carol
check dave_cannot_bind_with_his_password_alone \
    not ldap_bind "$(dn dave)" pw-dave
check dave_binds_with_password_and_totp_code \
    ldap_bind "$(dn dave)" "pw-dave$(totp)"

# ---- the appliance, its officers, and one order per queue
make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" \
    --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann && key_start ian && key_start fay
enroll officer-ann security_officer ann &&
    enroll officer-ian it_manager ian &&
    enroll officer-fay finance_controller fay
check three_officers_enrol [ $? -eq 0 ]
MGR=$(ev manager_confirmation pass mgr-mia email mgr-1)
# order NAME QUEUE ACCOUNT EVIDENCE KEY [EXTRA]: approved by KEY's officer
# (none when KEY is -), its JWS in $T/NAME.jws once the hold ran out
order() {
	body=$(req "$2" "$3" "" hd-bob phone "$4" "${6:-}")
	[ "$2" = mfa_reset ] && body=$(printf '%s' "$body" |
	    sed 's/"system":"ldap-corp"/&,"recovered_channel":"sms"/')
	api POST /v1/requests "$body"
	[ "$STATUS" = 201 ] || { echo "# $1: $(cat "$T/body")"; return 1; }
	id=$(jbody .id)
	[ "$5" = - ] || approve "$id" "$5" ||
		{ echo "# $1: $(cat "$T/approve.err")"; return 1; }
	wait_for 20 status_is 200 GET "/v1/orders/$id" || return 1
	jq -r .jws "$T/body" >"$T/$1.jws"
}
order enable reactivation carol "[$OOB,$MGR]" - &&
    order mfa mfa_reset dave "[$OOB,$IDD]" ann &&
    order groups privilege_change erin "[$OOB,$MGR]" ian \
    ",\"changes\":{\"add_groups\":[\"$VPN\"],\"remove_groups\":[\"$STAFF\"]}" &&
    order pay transaction_approval fred "[$OOB,$MGR]" fay
check appliance_cosigns_an_order_per_queue [ $? -eq 0 ]
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"

# ---- the connector
mkdir -m 700 "$T/handover" "$T/conn"
conn() {
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --aud ldap-corp \
	    --redeem-db "$T/conn/redeemed.db" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" --bind-pw-file "$T/svc.pw" \
	    --privileged-group "$ADMINS" --out-dir "$T/handover" "$@"
}
state() {
	for u in carol dave erin fred; do
		ldap_attr "$(dn "$u")" objectClass
		ldap_attr "$(dn "$u")" oathTOTPToken
		ldap_attr "$(dn "$u")" pwdAccountLockedTime
	done
	for g in "$ADMINS" "$VPN" "$STAFF"; do ldap_attr "$g" member; done
	exists "$TOKEN" && echo token
}
redeemed() {
	sqlite3 "$T/conn/redeemed.db" 'SELECT count(*) FROM redeemed' \
	    2>/dev/null || echo 0
}
# refused NAME STATUS PATTERN [options] ORDER: that exit status and
# message, nothing changed, nothing redeemed
refused() {
	name=$1 want=$2 pat=$3; shift 3
	state >"$T/before"
	r0=$(redeemed)
	conn "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne "$want" ]; then
		notok "$name" "exit $rc, expected $want: $(cat "$T/err")"
	elif ! grep -q -- "$pat" "$T/err"; then
		notok "$name" "message lacks '$pat': $(cat "$T/err")"
	elif [ "$(state)" != "$(cat "$T/before")" ] ||
	    [ "$(redeemed)" != "$r0" ]; then
		notok "$name" "the directory changed or the order was spent"
	else
		ok "$name"
	fi
}
refused reactivation_without_ppolicy_is_refused_unspent 11 'ppolicy' \
    "$T/enable.jws"
refused mfa_reset_without_the_otp_overlay_is_refused_unspent 11 'otp' \
    --ppolicy "$T/mfa.jws"
refused transaction_is_not_a_directory_change 11 \
    'not a change an LDAP directory holds' --ppolicy --otp "$T/pay.jws"
# the group change pointed at Domain Admins, the signature kept
P=$(cut -d. -f2 "$T/groups.jws")
printf '%s.%s.%s\n' "$(cut -d. -f1 "$T/groups.jws")" \
    "$(printf '%s' "$P" | unb64u | sed "s|$VPN|$ADMINS|" | b64u)" \
    "$(cut -d. -f3 "$T/groups.jws")" >"$T/tampered.jws"
refused tampered_group_change_is_refused_by_its_signature 5 \
    'bad signature' --ppolicy --otp "$T/tampered.jws"

# reactivation: privileges first, then the lockout
conn --ppolicy --otp "$T/enable.jws" >"$T/enable.out" 2>"$T/enable.err"
check reactivation_order_is_applied [ $? -eq 0 ]
sed 's/^/#   /' "$T/enable.err"
check carol_binds_again ldap_bind "$(dn carol)" pw-carol
check carol_is_unlocked_for_the_directory \
    [ -z "$(ldap_attr "$(dn carol)" pwdAccountLockedTime)" ]
check carol_is_out_of_domain_admins not has_member "$ADMINS" "$(dn carol)"
check connector_says_carol_is_enabled \
    grep -q "account carol .* enabled" "$T/enable.out"

# mfa_reset: the token goes, with its secret
conn --ppolicy --otp "$T/mfa.jws" >"$T/mfa.out" 2>"$T/mfa.err"
check mfa_reset_order_is_applied [ $? -eq 0 ]
sed 's/^/#   /' "$T/mfa.err"
check dave_binds_with_his_password_alone ldap_bind "$(dn dave)" pw-dave
check dave_has_no_oath_token_left \
    [ -z "$(ldap_attr "$(dn dave)" oathTOTPToken)" ]
ldap_attr "$(dn dave)" objectClass >"$T/dave.oc"
check dave_is_no_oath_user_any_more not grep -qi oathTOTPUser "$T/dave.oc"
check old_token_entry_and_secret_are_deleted not exists "$TOKEN"
check connector_says_dave_must_enrol_again \
    grep -q 'must enrol a new one' "$T/mfa.out"

# privilege_change: one group in, one out
conn --ppolicy --otp "$T/groups.jws" >"$T/groups.out" 2>"$T/groups.err"
check privilege_change_order_is_applied [ $? -eq 0 ]
sed 's/^/#   /' "$T/groups.err"
check erin_is_in_vpn_users has_member "$VPN" "$(dn erin)"
check erin_is_out_of_staff not has_member "$STAFF" "$(dn erin)"
check erin_did_not_get_domain_admins not has_member "$ADMINS" "$(dn erin)"

# each applied once: a replay is refused and changes nothing
refused replayed_privilege_change_is_refused 9 'already redeemed' \
    --ppolicy --otp "$T/groups.jws"
check three_orders_were_redeemed [ "$(redeemed)" = 3 ]

#!/bin/sh
# SPDX-License-Identifier: ISC
# The LDAP connector's care around the redemption, against a private slapd
# with the password policy overlay (offline redemption, --redeem-db):
#   - cleartext ldap:// to another host, and --now without --check, are
#     usage errors: nothing is read, nothing spent;
#   - a file already in the handover directory under the old handover
#     name is neither overwritten nor a reason to fail after the
#     redemption (the handover file is a new one, made before it);
#   - an account added back to Domain Admins while its password is set
#     does not keep the new password: it is reset again to one nobody
#     knows, the handover file goes, the order is reported failed;
#   - a password change whose answer is lost keeps the handover file and
#     says the outcome is unknown;
#   - a forced change where the bind DN may not manage userPassword (so
#     ppolicy does not mark the reset) is marked by the connector itself
#     (pwdReset: TRUE);
#   - online (the default): the appliance redeems, the connector reports
#     what it changed (the order shows applied, the request's history
#     order.applied), a replay is refused by the appliance, an order that
#     failed is reported failed, and after an operator's resume the same
#     connector applies it again.
# A wrapper ldappasswd earlier on the PATH plays the concurrent re-add and
# the lost answer; it runs the real one.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_ppolicy.sh
trap 'ldap_stop; daemon_stop; keys_stop; rm -rf "$T"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

V=$BUILD/tapgate-verify
APPLY=contrib/ldap-connector/tapgate-ldap-apply
S=dc=corp,dc=test
SVC=cn=tapgate-connector,ou=services,$S
RESETTERS=cn=password-resetters,ou=groups,$S
ADMINS=cn=domain-admins,ou=groups,$S
OLD=Old-Passw0rd-of-

if ! ldap_have_ppolicy; then
	echo "ok ldap_connector_safety # SKIP slapd, ldap-utils or the" \
	    "ppolicy module missing (make deps)"
	exit 0
fi
if [ ! -x "$V" ]; then
	notok ldap_connector_safety_programs_built "missing $V"
	exit 1
fi
dn() { echo "uid=$1,ou=people,$S"; }
not() { ! "$@"; }
has_member() { ldap_attr "$1" member | grep -qxF "member: $2"; }

# ---- the directory: the connector may write (not manage) passwords, so
# ppolicy takes its resets for the user's own; it may write pwdReset
USERS="alice bob carol dave erin gina hank"
ldap_init_ppolicy "$T/ldap" "$S" \
    "to attrs=userPassword by group.exact=\"$RESETTERS\" =w by self =w by anonymous auth by * none" \
    "to attrs=pwdReset by group.exact=\"$RESETTERS\" write by * none" \
    "to dn.one=\"ou=groups,$S\" attrs=member by group.exact=\"$RESETTERS\" write by users read by * none" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
(umask 077; LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$T/svc.pw")
{
	cat <<EOF
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
EOF
	for u in $USERS; do echo "member: $(dn "$u")"; done
	for u in $USERS; do
		printf '\ndn: %s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\n' \
		    "$(dn "$u")" "$u" "$u"
		printf 'sn: User\nuserPassword: %s\n' "$(ldap_hash "$OLD$u")"
	done
} >"$T/entries.ldif"
ldap_add_ldif "$T/entries.ldif" ||
	{ notok directory_entries_load "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
check slapd_serves_the_accounts ldap_bind "$(dn alice)" "${OLD}alice"

# ---- the appliance: a password reset per account (standard accounts:
# evidence and the hold, no approval needed)
make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
order() {	# account force: its order in $T/ACCOUNT.jws
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone \
	    "[$OOB,$PRF,$IDD]" \
	    ",\"changes\":{\"password\":\"reset\",\"force_change_at_logon\":$2}")"
	[ "$STATUS" = 201 ] || { echo "# $1: $(cat "$T/body")"; return 1; }
	id=$(jbody .id)
	echo "$id" >"$T/$1.id"
	wait_for 20 status_is 200 GET "/v1/orders/$id" || return 1
	jq -r .jws "$T/body" >"$T/$1.jws"
}
order alice false && order bob false && order carol false &&
    order dave true && order erin false && order gina false &&
    order hank false
check appliance_cosigns_seven_resets [ $? -eq 0 ]
CTL keys -o "$T/jwks.json"
CTL approvers export -o "$T/approvers.json"
jti() { cut -d. -f2 "$T/$1.jws" | tr '_-' '/+' | awk '{ n = length($0) % 4;
    if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d | jq -r .jti; }

# ---- the connector
mkdir -m 700 "$T/handover" "$T/conn" "$T/bin"
conn() {
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --aud ldap-corp \
	    --redeem-db "$T/conn/redeemed.db" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" --bind-pw-file "$T/svc.pw" \
	    --privileged-group "$ADMINS" --ppolicy --out-dir "$T/handover" "$@"
}
redeemed() {
	sqlite3 "$T/conn/redeemed.db" 'SELECT count(*) FROM redeemed' \
	    2>/dev/null || echo 0
}

# usage: refused before anything is read or spent
conn --ldap-uri ldap://ldap.corp.example "$T/alice.jws" >"$T/out" 2>"$T/err"
check cleartext_ldap_to_another_host_is_usage \
    sh -c "[ $? -eq 2 ] && grep -q 'cleartext' '$T/err'"
conn --now "$(date +%s)" "$T/alice.jws" >"$T/out" 2>"$T/err"
check now_with_a_redemption_is_usage \
    sh -c "[ $? -eq 2 ] && grep -q 'only for --check' '$T/err'"
conn --check --now "$(date +%s)" "$T/alice.jws" >"$T/out" 2>"$T/err"
check now_with_check_verifies_and_prepares [ $? -eq 0 ]
check nothing_was_redeemed_or_handed_out \
    [ "$(redeemed)" = 0 -a -z "$(ls -A "$T/handover")" ]
check alice_keeps_her_password ldap_bind "$(dn alice)" "${OLD}alice"

# a file under the old handover name (ACCOUNT.JTI) stays as it is
J=$(jti alice)
echo "not the connector's" >"$T/handover/alice.$J"
conn "$T/alice.jws" >"$T/alice.out" 2>"$T/alice.err"
rc=$?
check reset_is_applied_beside_an_existing_file [ $rc -eq 0 ]
sed 's/^/#   /' "$T/alice.err"
check existing_file_is_not_overwritten \
    [ "$(cat "$T/handover/alice.$J")" = "not the connector's" ]
PWF=$(ls "$T/handover/alice.$J".?* 2>/dev/null)
check alice_binds_with_the_handed_out_password \
    ldap_bind "$(dn alice)" "$(cat "$PWF" 2>/dev/null)"
check offline_outcome_is_printed grep -q \
    '^outcome: {"result":"applied","changed":\[.*"password of uid=alice' \
    "$T/alice.out"

# a re-add while the password is set: the new password does not survive
cat >"$T/bin/ldappasswd" <<EOF
#!/bin/sh
case " \$* " in
*" -T "*)
	printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n' \\
	    "$ADMINS" "$(dn bob)" | ldapmodify -x -H "$LDAP_URI" \\
	    -D "$LDAP_ADMIN_DN" -y "$LDAP_ADMIN_PWFILE" >/dev/null 2>&1 ;;
esac
exec $(command -v ldappasswd) "\$@"
EOF
chmod 755 "$T/bin/ldappasswd"
PATH=$T/bin:$PATH conn "$T/bob.jws" >"$T/bob.out" 2>"$T/bob.err"
rc=$?
sed 's/^/#   /' "$T/bob.err"
check readded_account_is_reported_failed \
    sh -c "[ $rc -eq 12 ] && grep -q 'added back' '$T/bob.err'"
check bob_is_back_in_domain_admins_as_the_race_left_him \
    has_member "$ADMINS" "$(dn bob)"
bobs() { for f in "$T"/handover/bob.*; do [ -e "$f" ] && echo "$f"; done; }
check no_password_is_handed_out_for_bob [ -z "$(bobs)" ]
check bob_old_password_is_gone_too not ldap_bind "$(dn bob)" "${OLD}bob"
check failure_is_printed_as_the_outcome \
    grep -q '^outcome: {"result":"failed"' "$T/bob.out"

# the answer to the password change is lost: the handover file stays
cat >"$T/bin/ldappasswd" <<EOF
#!/bin/sh
$(command -v ldappasswd) "\$@" || exit
case " \$* " in *" -T "*) echo "ldap_result: Can't contact LDAP server (-1)" >&2
	exit 255 ;; esac
EOF
PATH=$T/bin:$PATH conn "$T/carol.jws" >"$T/carol.out" 2>"$T/carol.err"
rc=$?
sed 's/^/#   /' "$T/carol.err"
check lost_answer_is_failed_with_outcome_unknown \
    sh -c "[ $rc -eq 12 ] && grep -q 'UNKNOWN' '$T/carol.err' &&
    grep -q 'KEPT' '$T/carol.err'"
PWF=$(ls "$T"/handover/carol.* 2>/dev/null)
check handover_file_is_kept_when_the_outcome_is_unknown [ -s "$PWF" ]
check kept_password_is_the_one_the_directory_took \
    ldap_bind "$(dn carol)" "$(cat "$PWF" 2>/dev/null)"

# forced change without manage access: the connector marks pwdReset
conn "$T/dave.jws" >"$T/dave.out" 2>"$T/dave.err"
rc=$?
sed 's/^/#   /' "$T/dave.err"
check forced_change_is_applied_without_manage_access [ $rc -eq 0 ]
check dave_is_marked_pwdreset \
    [ "$(ldap_attr "$(dn dave)" pwdReset)" = "pwdReset: TRUE" ]
PWF=$(ls "$T"/handover/dave.* 2>/dev/null)
ldapwhoami -x -e ppolicy -H "$LDAP_URI" -D "$(dn dave)" \
    -w "$(cat "$PWF" 2>/dev/null)" >"$T/bind.out" 2>&1
check dave_signs_in_only_to_change_it \
    grep -q 'Password must be changed' "$T/bind.out"
check four_orders_were_redeemed [ "$(redeemed)" = 4 ]

# ---- online: the appliance is the one authority on "once"
online() {
	sh "$APPLY" --verify "$V" --jwks "$T/jwks.json" \
	    --approvers "$T/approvers.json" --aud ldap-corp \
	    --api-socket "$T/api.sock" --ldap-uri "$LDAP_URI" \
	    --base "ou=people,$S" --bind-dn "$SVC" --bind-pw-file "$T/svc.pw" \
	    --privileged-group "$ADMINS" --ppolicy --out-dir "$T/handover" "$@"
}
online --redeem-db "$T/conn/x.db" "$T/erin.jws" >"$T/out" 2>"$T/err"
check online_and_offline_redemption_exclude_each_other [ $? -eq 2 ]
EID=$(cat "$T/erin.id")
online "$T/erin.jws" >"$T/erin.out" 2>"$T/erin.err"
rc=$?
sed 's/^/#   /' "$T/erin.err"
check online_reset_is_applied [ $rc -eq 0 ]
check erin_binds_with_the_handed_out_password ldap_bind "$(dn erin)" \
    "$(cat "$T"/handover/erin.* 2>/dev/null)"
api GET "/v1/orders/$EID"
check appliance_shows_the_order_applied_with_what_changed answered 200 \
    ".state == \"applied\" and .outcome.directory_result == \"success\" and
    (.outcome.changed | index(\"password of $(dn erin) reset\") != null)"
api GET "/v1/audit?request=$EID"
check applied_is_in_the_request_history jqtrue \
    '[.entries[].event] | index("order.applied") != null' "$T/body"
online "$T/erin.jws" >"$T/out" 2>"$T/err"
rc=$?
check online_replay_is_refused_by_the_appliance \
    sh -c "[ $rc -eq 9 ] && grep -q 'the appliance says' '$T/err'"

# a failure is reported; resumed, the same connector applies it again
GID=$(cat "$T/gina.id")
cat >"$T/bin/ldappasswd" <<EOF
#!/bin/sh
case " \$* " in
*" -T "*)
	printf 'dn: %s\nchangetype: modify\nadd: member\nmember: %s\n' \\
	    "$ADMINS" "$(dn gina)" | ldapmodify -x -H "$LDAP_URI" \\
	    -D "$LDAP_ADMIN_DN" -y "$LDAP_ADMIN_PWFILE" >/dev/null 2>&1 ;;
esac
exec $(command -v ldappasswd) "\$@"
EOF
PATH=$T/bin:$PATH online "$T/gina.jws" >"$T/gina.out" 2>"$T/gina.err"
rc=$?
check online_failure_exits_12 [ $rc -eq 12 ]
api GET "/v1/orders/$GID"
check appliance_shows_the_order_failed answered 200 \
    '.state == "failed" and (.outcome.directory_result | test("added back"))'
online "$T/gina.jws" >"$T/out" 2>"$T/err"
check failed_order_is_not_applied_again_unresumed [ $? -eq 9 ]
CTL orders resume "$GID" --reason "gina's group fixed" >/dev/null 2>&1
check operator_resumes_the_failed_order [ $? -eq 0 ]
online "$T/gina.jws" >"$T/gina2.out" 2>"$T/gina2.err"
rc=$?
sed 's/^/#   /' "$T/gina2.err"
check resumed_order_is_applied_by_the_same_connector [ $rc -eq 0 ]
check gina_is_out_of_domain_admins not has_member "$ADMINS" "$(dn gina)"
check gina_binds_with_the_new_password ldap_bind "$(dn gina)" \
    "$(cat "$T"/handover/gina.* 2>/dev/null)"
api GET "/v1/orders/$GID"
check appliance_shows_it_applied_after_two_redemptions answered 200 \
    '.state == "applied" and .redemptions == 2'

# a denied order is revoked: the connector online spends and changes
# nothing, even with an order that verifies offline
HID=$(cat "$T/hank.id")
api POST "/v1/requests/$HID/deny" '{"reason":"the caller failed a callback"}'
check officer_denies_hanks_request_after_its_order_was_issued \
    [ "$STATUS" = 200 ]
online "$T/hank.jws" >"$T/hank.out" 2>"$T/hank.err"
rc=$?
sed 's/^/#   /' "$T/hank.err"
check revoked_order_is_refused_online_with_exit_13 [ $rc -eq 13 ]
check hank_keeps_his_password ldap_bind "$(dn hank)" "${OLD}hank"
check hank_stays_in_domain_admins has_member "$ADMINS" "$(dn hank)"
hanks() { for f in "$T"/handover/hank.*; do [ -e "$f" ] && echo "$f"; done; }
check no_password_is_handed_out_for_hank [ -z "$(hanks)" ]

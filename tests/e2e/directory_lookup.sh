#!/bin/sh
# SPDX-License-Identifier: ISC
# The appliance asks the directory who the target is, before it stores
# anything: a private slapd (memberof and ppolicy overlays) answers the
# directory process.  A found account is stored under the directory's
# canonical name and DN, never the string sent; a name refused by the
# normalisation (surrounding space, zero-width space, Cyrillic letter,
# another domain), not found or matching two entries is answered 422
# naming why and nothing is stored; with slapd stopped mid-flight the
# answer is 503, nothing is stored, and the refusal is audited.  The
# Active Directory preset (over slapd, with its attributes mapped) maps
# user@corp.example, CORP\user and fullwidth letters to the account; an
# unprivileged caller sending a malformed name gets a clear error.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example
NOBODY=65534

if ! ldap_have_directory; then
	echo "ok directory_lookup # SKIP slapd, ldap-utils or the memberof" \
	    "or ppolicy module missing (make deps)"
	exit 0
fi
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
ldap_start || { notok slapd_starts; exit 1; }
# the daemon (root here) reads its bind password from a file of its own
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"

# directory_config OUT PRESET [MORE]: the test policy with a directory
directory_config() {
	make_config "$1" \
	    's/^(roles = \()$/\1 { uid = '"$NOBODY"'; roles = ["intake"]; },/'
	cat >>"$1" <<EOF
directory = {
	preset = "$2";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
	${3:-}
};
EOF
}

E=$(ev pre_registered_factor pass hd-amy push P-1)
body() { req password_reset "$1" "" hd-bob phone "[$E]"; }
count() { api GET /v1/requests; jbody '.requests | length'; }
audit_has() {	# jq filter over the entries
	api GET '/v1/audit?limit=200'
	[ "$STATUS" = 200 ] && jqtrue "[.entries[] | $1] | length > 0" \
	    "$T/body"
}
refused() {	# name want-status want-code [message-part]
	api POST /v1/requests "$(body "$1")"
	# shellcheck disable=SC2016 # $c and $m are jq variables
	answered "$2" '.error.code == $c and (.error.message | contains($m))' \
	    --arg c "$3" --arg m "${4:-}"
}

directory_config "$T/ol.conf" openldap
daemon_start "$T/ol.conf" || exit 1
check daemon_says_which_directory_it_asks \
    grep -q "tapgated: directory $LDAP_URI (OpenLDAP)" "$T/daemon.log"

# ---- found: the directory's name and DN, never the string sent
api POST /v1/requests "$(body Alice)"
check alice_is_found_with_no_hint_in_her_name answered 201 '.id != null'
ID=$(jbody .id)
api GET "/v1/requests/$ID"
check request_carries_the_canonical_name_and_dn answered 200 \
    '.request.target.account == "alice" and .request.target.dn ==
    "uid=alice,ou=people,dc=corp,dc=example"'
check request_no_longer_carries_the_string_sent \
    jqtrue '[.. | strings | select(. == "Alice")] | length == 0' "$T/body"
check submission_audit_names_the_sent_string_and_her_groups audit_has \
    'select(.event == "request.submitted" and
    .details.account_as_sent == "Alice" and
    .details.directory.groups == ["cn=Domain Admins,ou=groups,'"$S"'"] and
    .details.directory.manager == "uid=carol,ou=people,'"$S"'")'
api POST /v1/requests "$(body fclerk)"
check finance_clerk_is_found answered 201 '.id != null'
check finance_clerk_groups_come_from_the_directory audit_has \
    'select(.event == "request.submitted" and .details.account == "fclerk"
    and .details.directory.groups == ["cn=Finance,ou=groups,'"$S"'"])'
api POST /v1/requests "$(body carol)"
check standard_user_is_found answered 201 '.id != null'
api POST /v1/requests "$(body dave)"
check disabled_user_is_found answered 201 '.id != null'
check disabled_user_is_reported_disabled audit_has \
    'select(.event == "request.submitted" and .details.account == "dave"
    and .details.directory.disabled == true and
    .details.directory.locked == true)'
check enabled_user_is_not_reported_disabled audit_has \
    'select(.event == "request.submitted" and .details.account == "carol"
    and .details.directory.disabled == false)'

# ---- refused: nothing stored, and why
N=$(count)
check unknown_account_is_422_not_found refused nobody-here 422 \
    account_not_found 'no account "nobody-here"'
check two_entries_of_one_name_are_422_ambiguous refused sam 422 \
    account_ambiguous 'more than one'
check trailing_space_is_refused_not_trimmed refused 'root ' 422 \
    account_refused surrounding_space
check leading_space_is_refused_not_trimmed refused ' adm-alice' 422 \
    account_refused surrounding_space
check zero_width_space_is_refused refused 'ro\u200bot' 422 \
    account_refused format_character
check cyrillic_a_is_refused refused '\u0430lice' 422 account_refused \
    mixed_script
check filter_characters_find_nothing refused 'a*)(uid=*' 422 \
    account_not_found
check openldap_has_no_upn_form refused administrator@corp.example 422 \
    account_not_found
check refusals_stored_nothing unchanged "$N" "$(count)"
check refusals_are_audited audit_has 'select(.event == "request.refused"
    and .details.reason == "ambiguous" and .details.account == "sam")'

# ---- an unprivileged caller's malformed name: a clear error
api_as "$NOBODY" POST /v1/requests "$(body carol)"
check unprivileged_intake_can_submit answered 201 '.id != null'
api_as "$NOBODY" POST /v1/requests "$(body 'carol\u2060')"
check unprivileged_malformed_name_gets_a_clear_error answered 422 \
    '.error.code == "account_refused" and (.error.message |
    contains("invisible format character"))'

# ---- the directory stops answering mid-flight: 503, nothing stored
N=$(count)
ldap_stop
api POST /v1/requests "$(body carol)"
check directory_down_is_503 answered 503 \
    '.error.code == "directory_unavailable"'
check directory_down_stored_nothing unchanged "$N" "$(count)"
check directory_down_is_audited_as_a_refusal audit_has \
    'select(.event == "request.refused" and
    .details.reason == "directory_unavailable")'
ldap_start || notok slapd_starts_again
api POST /v1/requests "$(body carol)"
check directory_back_answers_again answered 201 '.id != null'
DIRPID=$(pgrep -P "$DAEMON_PID" -f -- --directory-process)
check directory_process_runs_under_a_seccomp_filter \
    [ "$(proc_status "$DIRPID" Seccomp)" = 2 ]
daemon_stop

# ---- Active Directory's name forms (its attributes mapped onto slapd)
directory_config "$T/ad.conf" active_directory \
    'domain = "corp.example"; netbios_domain = "CORP";
	filter = "(&(objectClass=inetOrgPerson)(uid={name}))";
	attributes = { name = "uid"; upn = ""; alt_mail = "";
	    type = "employeeType"; disabled = "pwdAccountLockedTime";
	    locked = "pwdAccountLockedTime"; };'
daemon_start "$T/ad.conf" || exit 1
stored_as() {	# name want-account
	api POST /v1/requests "$(body "$1")"
	[ "$STATUS" = 201 ] || { echo "#   $1: status $STATUS"; return 1; }
	api GET "/v1/requests/$(jbody .id)"
	# shellcheck disable=SC2016 # $a is a jq variable
	answered 200 '.request.target.account == $a' --arg a "$2"
}
check upn_of_the_domain_is_the_account stored_as \
    administrator@corp.example administrator
check netbios_form_is_the_account stored_as 'CORP\\administrator' \
    administrator
check fullwidth_letters_are_the_account stored_as \
    '\uff52\uff4f\uff4f\uff54' root
check upn_of_another_domain_is_refused refused administrator@evil.example \
    422 account_refused foreign_domain
check netbios_of_another_domain_is_refused refused 'EVIL\\root' 422 \
    account_refused foreign_domain
daemon_stop

# ---- without a directory: said at start, and an unnamed account is admin
make_config "$T/none.conf"
daemon_start "$T/none.conf" || exit 1
check daemon_says_it_runs_without_a_directory \
    grep -q "no directory configured" "$T/daemon.log"
check running_without_a_directory_is_audited audit_has \
    'select(.event == "directory.none")'
api POST /v1/requests "$(body zoe)"
check unnamed_account_without_a_directory_is_admin answered 201 \
    '.class == "admin"'
api POST /v1/requests "$(body alice)"
check named_standard_account_without_a_directory_is_standard answered 201 \
    '.class == "standard"'
daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# The veto cool-off: after a veto, a new request for the same account
# takes the manual route (two officers and the long hold) for
# holds.veto_cooloff_seconds, so a reset its owner stopped is not simply
# asked for again and ready seconds later.  With a directory (a private
# slapd) the account is its entry, whatever spelling the next request
# uses.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

reset() {	# account: submit a standard reset with one item of evidence
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone \
	    "[$OOB]")"
}
reset alice
check first_request_takes_the_normal_route \
    answered 201 '.state == "in_hold" and .route == "normal"'
FIRST=$(jbody .id)
api POST "/v1/requests/$FIRST/veto" '{"reason":"owner: I did not call"}'
check owner_vetoes_it answered 200 '.state == "vetoed"'

reset alice
check request_right_after_a_veto_goes_to_manual_review \
    answered 201 '.state == "manual_review" and .route == "manual_review"'
AGAIN=$(jbody .id)
reset Alice
check the_cooloff_ignores_the_names_case \
    answered 201 '.route == "manual_review"'
# the control: a request for another account, submitted with it, runs
# its hold out and gets its order
reset bob
CONTROL=$(jbody .id)
check control_request_reaches_ready \
    wait_for 15 request_in_state "$CONTROL" ready
check request_after_a_veto_does_not_reach_ready \
    request_in_state "$AGAIN" manual_review
api GET "/v1/requests/$AGAIN"
check route_reason_names_the_cooloff jqtrue \
    '.decision.route.reason | test("veto of this account within the cool-off")' \
    "$T/body"
api POST "/v1/requests/$AGAIN/evidence" "{\"evidence\":[$PRF]}"
check more_evidence_does_not_end_the_cooloff \
    answered 200 '.state == "manual_review"'
api GET "/v1/audit?request=$AGAIN&limit=50"
check submission_audit_says_cooloff jqtrue '[.entries[] |
    select(.event == "request.submitted")][0].details.veto_cooloff == true' \
    "$T/body"
daemon_stop

# without a cool-off (0) the same account is back on the normal route
make_config "$T/nocool.conf" \
    's/veto_cooloff_seconds = [0-9]+;/veto_cooloff_seconds = 0;/'
daemon_start "$T/nocool.conf" || { notok daemon_restarts; exit 1; }
reset alice
check no_cooloff_configured_means_the_normal_route \
    answered 201 '.route == "normal"'
daemon_stop
# ---- with a directory: the entry the names find
S=dc=corp,dc=example
if ! ldap_have_directory; then
	skip cooloff_follows_the_directory_entry "slapd, ldap-utils or the" \
	    "memberof or ppolicy module missing (make deps)"
elif ! ldap_init_directory "$T/ldap" "$S" || ! ldap_start; then
	notok slapd_starts "$(tail -n 5 "$T/ldap/slapadd.log" 2>/dev/null)"
else
	cp "$T/ldap/tapgate.pw" "$T/dir.pw"
	chmod 600 "$T/dir.pw"
	make_config "$T/dir.conf"
	cat >>"$T/dir.conf" <<EOF
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
};
EOF
	rm -rf "$T/state"
	daemon_start "$T/dir.conf" || { notok daemon_starts_with_a_directory;
	    exit 1; }
	reset carol
	check directory_request_takes_the_normal_route \
	    answered 201 '.route == "normal"'
	api POST "/v1/requests/$(jbody .id)/veto" '{"reason":"not me"}'
	check directory_request_is_vetoed answered 200 '.state == "vetoed"'
	reset CAROL
	check cooloff_follows_the_directory_entry \
	    answered 201 '.route == "manual_review"'
	daemon_stop
fi

# the default (a week) and its bounds, as --check-config reads them
check_config() { "$BUILD/tapgated" --check-config -c "$1" >"$T/check.out" 2>&1; }
check default_configuration_passes_check_config check_config "$T/tapgate.conf"
check default_configuration_has_a_week_of_cooloff \
    grep -q 'veto_cooloff_seconds = 604800;' "$T/tapgate.conf"
make_config "$T/long.conf" \
    's/veto_cooloff_seconds = [0-9]+;/veto_cooloff_seconds = 31536001;/'
check cooloff_over_a_year_is_refused sh -c "
    ! '$BUILD/tapgated' --check-config -c '$T/long.conf' >'$T/check.out' 2>&1 &&
    grep -q veto_cooloff_seconds '$T/check.out'"

#!/bin/sh
# SPDX-License-Identifier: ISC
# Waiting periods give the owner a real chance to veto: time in which the
# appliance could take no veto does not count toward a hold.  A daemon
# killed while requests wait, and started again after their holds would
# have ended, signs none of them at once: each gets a fresh veto window
# in which a veto still stops it; a hold that had not ended is extended
# by the time the daemon was down.  A daemon whose clock jumps (stopped
# with SIGSTOP, as a suspended VM) treats the gap the same.
. tests/e2e/lib/daemon.sh

HOLD=3		# every rule's hold
VETO=6		# holds.restart_veto_seconds
STALL=3		# holds.stall_seconds
# a hook that records the events (the owner would be told)
printf '#!/bin/sh\ncat >>"%s"\necho >>"%s"\n' "$T/events" "$T/events" \
    >"$T/record.sh"
chmod 755 "$T/record.sh"
make_config "$T/tapgate.conf" "s/hold_seconds = 2;/hold_seconds = $HOLD;/" \
    "s|hooks = \[\];.*|hooks = [ \"$T/record.sh\" ];|" \
    "s/restart_veto_seconds = [0-9]+;/restart_veto_seconds = $VETO;/" \
    "s/stall_seconds = [0-9]+;/stall_seconds = $STALL;/" \
    's/(unusual_geolocation = \{ extra_hold_seconds = )1;/\130;/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
DB=$T/state/tapgate.db
q() { sqlite3 "$DB" "$1"; }

OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
PRF=$(ev pre_registered_factor pass hd-bob push push-1)
submit() {	# account [risk-json]: a standard password reset, its id
	api POST /v1/requests "$(req password_reset "$1" "" hd-bob phone \
	    "[$OOB,$PRF]" "${2:+,\"risk\":$2}")"
	jbody .id
}
# until_time T: poll (at most 30 s) until the clock has passed T
until_time() {
	i=0
	while [ "$(date +%s)" -le "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(date +%s)" -gt "$1" ]
}
# wait_order ID: poll (at most 20 s) until the request has its order
wait_order() {
	i=0
	while [ $i -lt 200 ]; do
		api GET "/v1/orders/$1"
		[ "$STATUS" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# ext ID FIELD: a field of the request's first hold.extended audit entry
# ("time" is the entry's own time)
ext() {
	if [ "$2" = time ]; then
		q "SELECT time FROM audit WHERE request_id = '$1' AND
		    event = 'hold.extended' ORDER BY seq LIMIT 1"
	else
		q "SELECT json_extract(details, '$.$2') FROM audit WHERE
		    request_id = '$1' AND event = 'hold.extended'
		    ORDER BY seq LIMIT 1"
	fi
}
# extn ID FIELD: the same as a number (0 when there is none)
extn() {
	v=$(ext "$1" "$2")
	case $v in ''|*[!0-9]*) echo 0 ;; *) echo "$v" ;; esac
}
hold_until() { api GET "/v1/requests/$1"; jbody .decision.hold.until; }

# ---- a daemon killed during the holds, started after they would end
R1=$(submit alice)
R2=$(submit bob)
R3=$(submit carol '{"unusual_geolocation":true}')
check requests_wait_in_their_hold [ "$(jbody .state)" = in_hold ]
END1=$(hold_until "$R1")
END3=$(hold_until "$R3")
KILLED=$(date +%s)
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check holds_end_while_the_daemon_is_down until_time "$END1"
daemon_start "$T/tapgate.conf" || notok daemon_restarts
# ticked: the timer has run since the start (it stores a new heartbeat)
ticked() {
	hb0=$(q "SELECT value FROM meta WHERE key = 'heartbeat'" 2>/dev/null)
	i=0
	while [ $i -lt 100 ]; do
		hb=$(q "SELECT value FROM meta WHERE key = 'heartbeat'" 2>/dev/null)
		[ -n "$hb" ] && [ "$hb" -gt "${hb0:-0}" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
check the_timer_runs_after_the_start ticked
api GET "/v1/orders/$R1"
check request_whose_hold_ran_out_while_down_is_not_signed_at_once \
    [ "$STATUS" = 404 ]
api GET "/v1/requests/$R1"
check it_is_still_in_its_hold [ "$(jbody .state)" = in_hold ]
check it_gets_a_fresh_veto_window_of_restart_veto_seconds \
    [ "$(ext "$R1" fresh_window)" = 1 -a \
    $(($(extn "$R1" until) - $(extn "$R1" time))) -ge "$VETO" ]
check extension_is_audited_with_its_cause [ "$(ext "$R1" cause)" = restart ]
# told: poll (at most 10 s) until the hooks heard of R1's new window
told() {
	i=0
	while [ $i -lt 100 ]; do
		jq -e -s --arg id "$1" --argjson u "$(extn "$1" until)" \
		    'any(.[]; .event == "hold.extended" and
		    .request_id == $id and .hold_until == $u)' "$T/events" \
		    >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
check hooks_are_told_of_the_fresh_window told "$R1"
api POST "/v1/requests/$R1/veto" '{"reason":"owner: I did not call"}'
check owner_can_still_veto_in_the_fresh_window \
    [ "$STATUS" = 200 -a "$(jbody .state)" = vetoed ]
check unvetoed_request_is_signed_after_its_fresh_window wait_order "$R2"
check it_is_signed_no_sooner_than_the_window_ends \
    [ "$(jbody .issued)" -ge "$(extn "$R2" until)" -a \
    "$(extn "$R2" until)" -gt 0 ]
check running_hold_is_extended_by_the_downtime \
    [ "$(ext "$R3" fresh_window)" = 0 -a "$(ext "$R3" from)" = "$END3" -a \
    $(($(extn "$R3" until) - END3)) -ge $(($(extn "$R3" time) - KILLED)) -a \
    "$(extn "$R3" time)" -gt "$KILLED" ]
check request_shows_the_extended_hold \
    [ "$(hold_until "$R3")" = "$(ext "$R3" until)" ]
api GET "/v1/orders/$R1"
check vetoed_request_never_gets_an_order [ "$STATUS" = 404 ]

# ---- a daemon stopped (its clock jumps) while a hold runs out
R4=$(submit dave)
END4=$(hold_until "$R4")
STOPPED=$(date +%s)
kill -STOP "$DAEMON_PID"
WAKE=$((END4 > STOPPED + STALL + 1 ? END4 : STOPPED + STALL + 1))
until_time "$WAKE"
kill -CONT "$DAEMON_PID"
api GET "/v1/requests/$R4"
check after_a_stall_the_request_is_still_in_hold [ "$(jbody .state)" = in_hold ]
api POST "/v1/requests/$R4/veto" '{"reason":"owner: not me"}'
check owner_can_veto_after_the_stall \
    [ "$STATUS" = 200 -a "$(jbody .state)" = vetoed ]
check stall_extension_is_audited_as_such [ "$(ext "$R4" cause)" = stall ]
api GET "/v1/orders/$R4"
check request_vetoed_after_the_stall_gets_no_order [ "$STATUS" = 404 ]
CTL() { "$BUILD/tapgatectl" -s "$T/api.sock" "$@"; }
CTL audit verify >/dev/null
check audit_chain_verifies [ $? -eq 0 ]

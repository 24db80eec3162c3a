#!/bin/sh
# SPDX-License-Identifier: ISC
# kill -9 in the middle of a load of submissions and approvals, then
# restart: every request that got a 201 is there exactly once, every
# approval that was acknowledged is there, no request has two orders,
# every stored request has its audit entry (state change and audit commit
# together) and the chain verifies.  CYCLES rounds (default 3 in make
# check; `make crash` runs 1000).
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh
CYCLES=${CYCLES:-3}
make_config "$T/tapgate.conf"
: >"$T/acked"
: >"$T/approved"
start() {
	daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
	    --token-timeout 4000
}

client() {	# tag: submit until the daemon dies, record acknowledged ids
	n=0
	while [ $n -lt 400 ]; do
		st=$(curl -s -o "$T/c$1.body" -w '%{http_code}' --max-time 30 \
		    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
		    -H "Idempotency-Key: $1-$n" \
		    --data-binary "$(req password_reset "user$1x$n" admin hd-bob phone "[$OOB,$PRF,$IDD]")" \
		    http://tapgated/v1/requests) || break
		[ "$st" = 201 ] || break
		jq -r .id "$T/c$1.body" >>"$T/acked"
		n=$((n + 1))
	done
}

officer() {	# key: approve whatever waits, record acknowledged approvals
	while :; do
		curl -s --max-time 30 --unix-socket "$T/api.sock" \
		    'http://tapgated/v1/requests?state=needs_approval&limit=5' \
		    >"$T/o$1.list" 2>/dev/null || break
		ids=$(jq -r '.requests[].id' "$T/o$1.list" 2>/dev/null) || break
		[ -n "$ids" ] || { sleep 0.05; continue; }
		for id in $ids; do
			if echo "$PIN" | "$BUILD/tapgatectl" -s "$T/api.sock" approve \
			    "$id" --device "softfido:$T/$1.sock" >/dev/null 2>&1; then
				echo "$id $1" >>"$T/approved"
			else
				kill -0 "$DAEMON_PID" 2>/dev/null || return 0
			fi
		done
	done
}

start || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
c=1
while [ $c -le "$CYCLES" ]; do
	[ -n "$DAEMON_PID" ] || start || { notok "crash_cycle_${c}_daemon_starts"; exit 1; }
	client "a$c" & A=$!
	client "b$c" & B=$!
	officer ann & O1=$!
	officer ben & O2=$!
	sleep 0.$((4 + c % 5))	# the load runs a while: then the crash
	kill_pid "crash_cycle_${c}_kills_the_daemon" KILL "$DAEMON_PID"
	wait_exit "$DAEMON_PID"
	DAEMON_PID=
	for p in $A $B $O1 $O2; do wait_exit "$p" 60; done
	c=$((c + 1))
done
start || { notok daemon_restarts_after_kill; exit 1; }
# the holds of the fully approved requests run out: orders are signed
no_hold_runs() {
	api GET '/v1/requests?state=in_hold&limit=1'
	[ "$STATUS" = 200 ] && [ "$(jbody '.requests | length')" = 0 ]
}
check every_hold_runs_out_after_the_restart wait_for 20 no_hold_runs
acked=$(sort "$T/acked" | uniq | wc -l)
echo "# $acked requests and $(wc -l <"$T/approved") approvals acknowledged over $CYCLES kill -9 cycles"
check some_requests_were_acknowledged [ "$acked" -gt 0 ]
check some_approvals_were_acknowledged [ -s "$T/approved" ]
lost=0
while read -r id; do
	api GET "/v1/requests/$id"
	[ "$STATUS" = 200 ] || { lost=$((lost + 1)); echo "# lost $id"; }
done <"$T/acked"
check no_acknowledged_request_is_lost [ "$lost" -eq 0 ]
"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >"$T/verify"
check audit_chain_verifies_after_kills grep -q '^audit chain OK' "$T/verify"
daemon_stop
DB=$T/state/tapgate.db
check no_request_is_stored_twice [ \
    "$(sqlite3 "$DB" 'SELECT count(*) - count(DISTINCT target_account) FROM requests')" = 0 ]
missing=0
while read -r id key; do
	n=$(sqlite3 "$DB" "SELECT count(*) FROM approvals p JOIN approvers a ON a.id = p.approver_id WHERE p.request_id = '$id' AND a.name = 'officer-$key'")
	[ "$n" = 1 ] || { missing=$((missing + 1)); echo "# approval of $id by $key: $n rows"; }
done <"$T/approved"
check no_acknowledged_approval_is_lost [ "$missing" -eq 0 ]
check no_request_has_two_orders [ \
    "$(sqlite3 "$DB" 'SELECT count(*) FROM (SELECT request_id FROM orders GROUP BY request_id HAVING count(*) > 1)')" = 0 ]
check every_approved_request_got_its_order [ \
    "$(sqlite3 "$DB" "SELECT count(*) FROM requests WHERE state = 'ready' AND id NOT IN (SELECT request_id FROM orders)")" = 0 ]
check every_stored_request_has_its_audit_entry [ \
    "$(sqlite3 "$DB" 'SELECT count(*) FROM requests')" = \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE event='request.submitted'")" ]
check every_approval_has_its_audit_entry [ \
    "$(sqlite3 "$DB" 'SELECT count(*) FROM approvals')" = \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE event='request.approved'")" ]

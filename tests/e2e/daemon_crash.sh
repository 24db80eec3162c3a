#!/bin/sh
# SPDX-License-Identifier: ISC
# kill -9 in the middle of a burst of submissions, then restart: every
# request that got a 201 is there exactly once, every stored request has its
# audit entry (state change and audit commit together) and the chain
# verifies.  CYCLES (default 3) rounds.
. tests/e2e/lib/daemon.sh
CYCLES=${CYCLES:-3}
make_config "$T/tapgate.conf"
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
: >"$T/acked"

client() {	# tag: submit until the daemon dies, record acknowledged ids
	n=0
	while [ $n -lt 400 ]; do
		st=$(curl -s -o "$T/c$1.body" -w '%{http_code}' \
		    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
		    -H "Idempotency-Key: $1-$n" \
		    --data-binary "$(req password_reset "user$1x$n" "" hd-bob phone "[$OOB]")" \
		    http://tapgated/v1/requests) || break
		[ "$st" = 201 ] || break
		jq -r .id "$T/c$1.body" >>"$T/acked"
		n=$((n + 1))
	done
}

c=1
while [ $c -le "$CYCLES" ]; do
	daemon_start "$T/tapgate.conf" || { notok "crash_cycle_${c}_daemon_starts"; exit 1; }
	client "a$c" & A=$!
	client "b$c" & B=$!
	sleep 0.$((3 + c % 5))
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	wait $A $B
	c=$((c + 1))
done
daemon_start "$T/tapgate.conf" || { notok daemon_restarts_after_kill; exit 1; }
acked=$(sort "$T/acked" | uniq | wc -l)
echo "# $acked requests acknowledged over $CYCLES kill -9 cycles"
check some_requests_were_acknowledged [ "$acked" -gt 0 ]
lost=0
for id in $(cat "$T/acked"); do
	api GET "/v1/requests/$id"
	[ "$STATUS" = 200 ] || { lost=$((lost + 1)); echo "# lost $id"; }
done
check no_acknowledged_request_is_lost [ "$lost" -eq 0 ]
api GET '/v1/requests?limit=1000'
check no_request_is_stored_twice \
    [ "$(jq -r '.requests[] | .account' "$T/body" | sort | uniq -d | wc -l)" -eq 0 ]
"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >"$T/verify"
check audit_chain_verifies_after_kills grep -q '^audit chain OK' "$T/verify"
daemon_stop
DB=$T/state/tapgate.db
check every_stored_request_has_its_audit_entry [ \
    "$(sqlite3 "$DB" 'SELECT count(*) FROM requests')" = \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE event='request.submitted'")" ]

#!/bin/sh
# SPDX-License-Identifier: ISC
# The HTTPS listener counts connections per client address: one host
# holding as many idle connections as one address may (32, each held
# until the request deadline) is refused more, while a caller from
# another address is still served.  Loopback gives the second address
# (127.0.0.2 as the source); a machine that cannot bind it skips, after
# a control shows it.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/testca.sh
. tests/e2e/lib/https.sh

if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null; then
	skip https_conn_limits "openssl or curl missing"
	exit 0
fi
make_config "$T/tapgate.conf"
https_listener "$T/tapgate.conf" || { notok test_ca_is_made; exit 1; }
daemon_start "$T/tapgate.conf" ||
    { notok daemon_starts_with_https; exit 1; }

# health FROM: /healthz over HTTPS from source address FROM
health() {
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 5 \
	    --interface "$1" --cacert "$T/web-ca.pem" \
	    "https://127.0.0.1:$PORT/healthz" 2>"$T/curl.err")
	[ "$STATUS" = 200 ]
}
if ! health 127.0.0.2; then
	skip https_conn_limits "this machine cannot connect from 127.0.0.2: \
	    $(head -c 200 "$T/curl.err")"
	daemon_stop
	exit 0
fi
check control_both_addresses_are_served health 127.0.0.1

# 32 idle connections from 127.0.0.1, held open while the checks run
mkfifo "$T/hold"
python3 - "$PORT" "$T/hold" >"$T/flood.out" 2>&1 <<'EOP' &
import socket, sys
port, fifo = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(32):
    s = socket.create_connection(("127.0.0.1", port))
    held.append(s)
print("held", len(held), flush=True)
open(fifo).read()
EOP
FLOOD=$!
wait_for 5 grep -q '^held 32' "$T/flood.out" ||
    notok flood_connections_are_open "$(cat "$T/flood.out")"
refused_same() { ! health 127.0.0.1; }
check a_33rd_connection_from_the_same_address_is_refused refused_same
check another_address_is_still_served health 127.0.0.2
: >"$T/hold"
wait "$FLOOD"
check the_first_address_is_served_once_it_lets_go \
    wait_for 10 health 127.0.0.1
check daemon_stops_cleanly daemon_stop

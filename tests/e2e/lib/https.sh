# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# The HTTPS listener in e2e tests (after lib/daemon.sh and lib/testca.sh).
#
# https_listener CONF: a test CA and a server certificate for 127.0.0.1
# under $T (web-ca.pem, web-cert.pem, web-key.pem) and an https block on a
# free loopback port ($PORT) appended to CONF, the client CA the test CA.
# False when openssl fails.
https_listener() {
	testca "$T" web || return 1
	chmod 600 "$T/web-key.pem"
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >>"$1" <<EOC
https = {
    listen = "127.0.0.1:$PORT";
    cert_file = "$T/web-cert.pem";
    key_file = "$T/web-key.pem";
    client_ca_file = "$T/web-ca.pem";
};
EOC
}

COOKIE='' CSRF='' SENDORIGIN=''
# web METHOD PATH [BODY]: over HTTPS with $COOKIE, $CSRF and $SENDORIGIN
# when set; STATUS, headers in $T/hdr, body in $T/body
web() {
	w_m=$1 w_p=$2; shift 2
	set -- ${1:+--data-binary} ${1:+"$1"}
	[ -n "$COOKIE" ] && set -- "$@" -H "Cookie: $COOKIE"
	[ -n "$CSRF" ] && set -- "$@" -H "X-CSRF-Token: $CSRF"
	[ -n "$SENDORIGIN" ] && set -- "$@" -H "Origin: $SENDORIGIN"
	: >"$T/body"
	: >"$T/hdr"
	STATUS=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
	    --max-time 20 --cacert "$T/web-ca.pem" -X "$w_m" \
	    -H 'Content-Type: application/json' "$@" \
	    "https://127.0.0.1:$PORT$w_p" 2>"$T/curl.err")
	[ -n "$STATUS" ] || STATUS=000
}
header() { tr -d '\r' <"$T/hdr" | sed -n "s/^$1: //Ip" | tail -n 1; }

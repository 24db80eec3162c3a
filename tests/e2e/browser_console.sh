#!/bin/sh
# SPDX-License-Identifier: ISC
# The console in a real browser: Debian's chromium, headless, driven by
# python3-selenium through chromium-driver with the WebDriver virtual
# authenticator (tests/browser/console_checks.py).  The browser trusts the
# test CA through an NSS database under the test's own HOME (no
# certificate error is ignored: Chromium refuses WebAuthn on such a page)
# and reaches console.tapgate.local at 127.0.0.1 by its resolver rules.
# Screenshots of the pages go to build/screenshots/.  Skipped, with the
# reason, only where a browser package is missing (make deps installs
# them).
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

PY=/usr/bin/python3
missing=
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
"$PY" -c 'import selenium' 2>/dev/null || missing="$missing python3-selenium"
"$PY" -c 'import cryptography' 2>/dev/null ||
    missing="$missing python3-cryptography"
command -v certutil >/dev/null 2>&1 || missing="$missing libnss3-tools"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
	skip browser_console "missing:$missing (make deps installs them)"
	exit 0
fi

# the console's certificate, for its name and a foreign one, by a test CA
P=$T/pki
mkdir -p "$P"
if ! {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj "/CN=browser test CA" -keyout "$P/ca.key" \
	    -out "$P/ca.pem" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=console.tapgate.local" -keyout "$P/web.key" \
	    -out "$P/web.csr" &&
	printf '%s\n%s\n' 'extendedKeyUsage=serverAuth' \
	    'subjectAltName=DNS:console.tapgate.local,DNS:evil.tapgate.local,IP:127.0.0.1' \
	    >"$P/web.ext" &&
	openssl x509 -req -in "$P/web.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" \
	    -CAcreateserial -days 2 -extfile "$P/web.ext" -out "$P/web.pem"
} >"$T/pki.log" 2>&1; then
	notok test_pki_is_made "$(tail -n 3 "$T/pki.log")"
	exit 1
fi
chmod 600 "$P/web.key"

# the browser's own HOME, trusting the test CA and nothing else new
HOME=$T/home
export HOME
mkdir -p "$HOME/.pki/nssdb"
if ! { certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password &&
    certutil -d "sql:$HOME/.pki/nssdb" -A -t "C,," -n tapgate-test-ca \
    -i "$P/ca.pem"; } >"$T/nss.log" 2>&1; then
	notok browser_trusts_the_test_ca "$(tail -n 3 "$T/nss.log")"
	exit 1
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ORIGIN=https://console.tapgate.local:$PORT
make_config "$T/tapgate.conf"
cat >>"$T/tapgate.conf" <<EOC
https = {
    listen = "127.0.0.1:$PORT";
    cert_file = "$P/web.pem";
    key_file = "$P/web.key";
    client_ca_file = "$P/ca.pem";
};
console = { origins = [ "$ORIGIN" ]; nonce_seconds = 10; };
EOC
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

SHOTS=${SHOTS:-build/screenshots}
mkdir -p "$SHOTS"
ORIGIN=$ORIGIN SHOTS=$SHOTS USER_DATA=$T/chrome \
RESOLVER_RULES="MAP console.tapgate.local 127.0.0.1, MAP evil.tapgate.local 127.0.0.1" \
    "$PY" tests/browser/console_checks.py 2>"$T/browser.err"
rc=$?
if [ $rc -ne 0 ] && ! grep -q . "$T/browser.err"; then
	:
elif [ $rc -ne 0 ]; then
	notok browser_checks_ran "$(tail -n 5 "$T/browser.err")"
fi

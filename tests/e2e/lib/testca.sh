# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# testca DIR NAME: a test CA (DIR/NAME-ca.pem) and a server certificate for
# 127.0.0.1 and localhost signed by it (DIR/NAME-cert.pem, DIR/NAME-key.pem).
# False when openssl fails.
testca() {
	(
	cd "$1" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 2 -subj "/CN=$2 test CA" -keyout "$2-ca-key.pem" \
	    -out "$2-ca.pem" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=localhost" -keyout "$2-key.pem" -out "$2.csr" &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n%s\n' \
	    'extendedKeyUsage=serverAuth' >"$2.ext" &&
	openssl x509 -req -in "$2.csr" -CA "$2-ca.pem" \
	    -CAkey "$2-ca-key.pem" -CAcreateserial -days 2 \
	    -extfile "$2.ext" -out "$2-cert.pem"
	) >/dev/null 2>&1
}

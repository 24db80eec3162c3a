#!/bin/sh
# SPDX-License-Identifier: ISC
# The directory process speaks StartTLS, or LDAPS, to a private slapd and
# checks its certificate against the configured CA: with the right CA the
# account is found; with a CA that did not sign the directory's
# certificate the lookup fails (503, nothing stored), the bind password
# never crossing.  The configuration refuses a plain ldap:// URL to a
# host other than loopback without TLS.  With bind = "sasl_external" the
# directory process binds by its client certificate to a slapd that
# demands one, maps its subject to the service account and lets only
# that identity read: the account is found; a certificate of another CA
# is refused (503, nothing stored).
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/ldap.sh
. tests/e2e/lib/ldap_directory.sh
trap 'ldap_stop; daemon_stop; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

S=dc=corp,dc=example

if ! ldap_have_directory || ! command -v openssl >/dev/null 2>&1; then
	echo "ok directory_tls # SKIP slapd, ldap-utils, openssl or the" \
	    "memberof or ppolicy module missing (make deps)"
	exit 0
fi

# a CA, the directory's certificate for 127.0.0.1, and a CA of no one's
mkdir -p "$T/pki"
P=$T/pki
ca() {	# name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$P/$1.key" -out "$P/$1.pem" -days 2 \
	    -subj "/CN=$1" >/dev/null 2>&1
}
make_pki() {
	ca test-ca && ca other-ca &&
	    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$P/slapd.key" -out "$P/slapd.csr" -subj /CN=127.0.0.1 \
	    >/dev/null 2>&1 &&
	    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
	    >"$P/ext" &&
	    openssl x509 -req -in "$P/slapd.csr" -CA "$P/test-ca.pem" \
	    -CAkey "$P/test-ca.key" -CAcreateserial -out "$P/slapd.pem" \
	    -days 2 -extfile "$P/ext" >/dev/null 2>&1
}
if ! make_pki; then
	notok test_pki_is_made "openssl failed"
	exit 1
fi

# shellcheck disable=SC2034 # ldap_init (lib/ldap.sh) reads it
LDAP_MORE_GLOBAL="olcTLSCACertificateFile: $P/test-ca.pem
olcTLSCertificateFile: $P/slapd.pem
olcTLSCertificateKeyFile: $P/slapd.key
"
ldap_init_directory "$T/ldap" "$S" ||
	{ notok slapd_is_configured "$(tail -n 5 "$T/ldap/slapadd.log")"; exit 1; }
LDAP_LDAPS=1
ldap_start || { notok slapd_starts; exit 1; }
cp "$T/ldap/tapgate.pw" "$T/dir.pw"
chmod 600 "$T/dir.pw"
# control: the directory speaks StartTLS with this CA's certificate
starttls_bind() {
	LDAPTLS_CACERT="$P/test-ca.pem" ldapwhoami -ZZ -x -H "$LDAP_URI" \
	    -D "cn=tapgate,ou=services,$S" -y "$T/dir.pw" >/dev/null 2>&1
}
check control_slapd_speaks_starttls starttls_bind
ldaps_bind() {
	LDAPTLS_CACERT="$P/test-ca.pem" ldapwhoami -x -H "$LDAPS_URI" \
	    -D "cn=tapgate,ou=services,$S" -y "$T/dir.pw" >/dev/null 2>&1
}
check control_slapd_speaks_ldaps ldaps_bind

tls_config() {	# out ca [uri]
	make_config "$1"
	cat >>"$1" <<EOF
directory = {
	preset = "openldap";
	uri = "${3:-$LDAP_URI}";
	ca_file = "$2";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
	timeout_seconds = 2;
};
EOF
}
E=$(ev pre_registered_factor pass hd-amy push P-1)
body() { req password_reset "$1" "" hd-bob phone "[$E]"; }

tls_config "$T/tls.conf" "$P/test-ca.pem"
daemon_start "$T/tls.conf" || exit 1
api POST /v1/requests "$(body alice)"
check starttls_with_the_directory_ca_finds_the_account answered 201 \
    '.class != null'
api GET "/v1/requests/$(jbody .id)"
check starttls_lookup_stores_the_dn answered 200 \
    '.request.target.dn == "uid=alice,ou=people,dc=corp,dc=example"'
daemon_stop

tls_config "$T/other.conf" "$P/other-ca.pem"
daemon_start "$T/other.conf" || exit 1
api GET /v1/requests
N=$(jbody '.requests | length')
api POST /v1/requests "$(body alice)"
check certificate_of_another_ca_is_refused answered 503 \
    '.error.code == "directory_unavailable" and
    (.error.message | contains("StartTLS"))'
api GET /v1/requests
check refused_certificate_stored_nothing unchanged "$N" \
    "$(jbody '.requests | length')"
daemon_stop

# ---- LDAPS: TLS from the first byte, the same CA check
tls_config "$T/ldaps.conf" "$P/test-ca.pem" "$LDAPS_URI"
daemon_start "$T/ldaps.conf" || exit 1
api POST /v1/requests "$(body alice)"
check ldaps_with_the_directory_ca_finds_the_account answered 201 \
    '.class != null'
api GET "/v1/requests/$(jbody .id)"
check ldaps_lookup_stores_the_dn answered 200 \
    '.request.target.dn == "uid=alice,ou=people,dc=corp,dc=example"'
daemon_stop

tls_config "$T/ldaps-other.conf" "$P/other-ca.pem" "$LDAPS_URI"
daemon_start "$T/ldaps-other.conf" || exit 1
api GET /v1/requests
N=$(jbody '.requests | length')
api POST /v1/requests "$(body alice)"
check ldaps_certificate_of_another_ca_is_refused answered 503 \
    '.error.code == "directory_unavailable"'
api GET /v1/requests
check ldaps_refused_certificate_stored_nothing unchanged "$N" \
    "$(jbody '.requests | length')"
daemon_stop

# ---- no TLS: only for a directory on loopback
plain_config() {	# out uri
	make_config "$1"
	cat >>"$1" <<EOF
directory = {
	preset = "openldap";
	uri = "$2";
	tls = "none";
	bind = { method = "simple"; dn = "cn=tapgate,ou=services,$S";
	    password_file = "$T/dir.pw"; };
	base = "$S";
};
EOF
}
check_config() { "$BUILD/tapgated" --check-config -c "$1" >"$T/check.out" 2>&1; }
plain_config "$T/plain-loopback.conf" "ldap://127.0.0.1:389"
check control_plain_ldap_on_loopback_is_accepted \
    check_config "$T/plain-loopback.conf"
plain_config "$T/plain-remote.conf" "ldap://ldap.corp.example:389"
refused_for_no_tls() {
	! check_config "$1" && grep -q 'only for a directory on loopback' \
	    "$T/check.out"
}
check plain_ldap_to_another_host_is_refused \
    refused_for_no_tls "$T/plain-remote.conf"

# ---- SASL EXTERNAL: the directory knows the appliance by its certificate
# (a slapd that demands a client certificate, maps its subject to the
# service account, and lets no one else read)
ldap_stop
client_cert() {	# name ca: CN=tapgate-client, signed by ca
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$P/$1.key" -out "$P/$1.csr" -subj /CN=tapgate-client \
	    >/dev/null 2>&1 &&
	    printf 'extendedKeyUsage=clientAuth\n' >"$P/client.ext" &&
	    openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.pem" \
	    -CAkey "$P/$2.key" -CAcreateserial -out "$P/$1.pem" -days 2 \
	    -extfile "$P/client.ext" >/dev/null 2>&1 &&
	    chmod 600 "$P/$1.key"
}
if ! { client_cert client test-ca && client_cert stranger other-ca; }; then
	notok client_certificates_are_made "openssl failed"
	exit 1
fi
SVC="cn=tapgate,ou=services,$S"
# shellcheck disable=SC2034 # ldap_init (lib/ldap.sh) reads it
LDAP_MORE_GLOBAL="olcTLSCACertificateFile: $P/test-ca.pem
olcTLSCertificateFile: $P/slapd.pem
olcTLSCertificateKeyFile: $P/slapd.key
olcTLSVerifyClient: demand
olcAuthzRegexp: {0}\"^cn=tapgate-client$\" \"$SVC\"
"
LDAP_LDAPS=
ldap_init_directory "$T/ldap-ext" "$S" \
    "to * by dn.exact=\"$SVC\" read by * none" ||
	{ notok external_slapd_is_configured \
	    "$(tail -n 5 "$T/ldap-ext/slapadd.log")"; exit 1; }
ldap_start || { notok external_slapd_starts; exit 1; }
whoami_external() {	# cert
	LDAPTLS_CACERT="$P/test-ca.pem" LDAPTLS_CERT="$P/$1.pem" \
	    LDAPTLS_KEY="$P/$1.key" ldapwhoami -ZZ -Y EXTERNAL -H "$LDAP_URI" \
	    2>/dev/null
}
is_service_account() { [ "$(whoami_external client)" = "dn:$SVC" ]; }
check control_client_certificate_is_the_service_account is_service_account
no_cert_refused() {
	! LDAPTLS_CACERT="$P/test-ca.pem" ldapwhoami -ZZ -x -H "$LDAP_URI" \
	    >/dev/null 2>&1
}
check control_tls_without_a_client_certificate_is_refused no_cert_refused
anonymous_reads_nothing() {
	[ -z "$(ldapsearch -x -LLL -H "$LDAP_URI" -b "$S" uid=alice dn \
	    2>/dev/null)" ]
}
check control_no_one_else_reads anonymous_reads_nothing

external_config() {	# out cert
	make_config "$1" \
	    's/CN=Users,DC=corp,DC=example/OU=Groups,DC=corp,DC=example/'
	cat >>"$1" <<EOF
directory = {
	preset = "openldap";
	uri = "$LDAP_URI";
	ca_file = "$P/test-ca.pem";
	bind = { method = "sasl_external"; cert_file = "$P/$2.pem";
	    key_file = "$P/$2.key"; };
	base = "$S";
	timeout_seconds = 2;
};
EOF
}
# libldap 2.5's GnuTLS backend does not free the client key and
# certificate it loads for a TLS context (allocated in
# gnutls_x509_privkey_init and gnutls_x509_crt_init, with libtasn1's
# parts): allocations made inside those libraries only are suppressed,
# so a leak of ours still fails the run
printf 'leak:libgnutls.so\nleak:libtasn1.so\n' >"$T/lsan.supp"
LSAN_OPTIONS="suppressions=$T/lsan.supp:print_suppressions=0"
export LSAN_OPTIONS
external_config "$T/external.conf" client
daemon_start "$T/external.conf" || exit 1
api POST /v1/requests "$(body alice)"
check sasl_external_finds_the_account answered 201 '.class == "admin"'
api GET "/v1/requests/$(jbody .id)"
check sasl_external_lookup_stores_the_dn_and_groups answered 200 \
    '.request.target.dn == "uid=alice,ou=people,'"$S"'" and
    .directory.privileged_groups == ["cn=Domain Admins,ou=groups,'"$S"'"]'
daemon_stop

external_config "$T/stranger.conf" stranger
daemon_start "$T/stranger.conf" || exit 1
api GET /v1/requests
N=$(jbody '.requests | length')
api POST /v1/requests "$(body alice)"
check client_certificate_of_another_ca_is_refused answered 503 \
    '.error.code == "directory_unavailable"'
api GET /v1/requests
check refused_client_certificate_stored_nothing unchanged "$N" \
    "$(jbody '.requests | length')"
daemon_stop
unset LSAN_OPTIONS

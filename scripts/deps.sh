#!/bin/sh
# SPDX-License-Identifier: ISC
# Install the Debian packages tapgate needs, only those missing.  Idempotent:
# runs apt-get update only when something has to be installed.
set -eu

PKGS="
build-essential
pkg-config
openssl
libssl-dev
libfido2-dev
libcbor-dev
libjansson-dev
libsqlite3-dev
sqlite3
curl
procps
jq
python3
python3-jwcrypto
python3-prometheus-client
python3-aiosmtpd
pyflakes3
minisign
slapd
ldap-utils
samba-ad-dc
samba-ad-provision
systemd
udev
groff-base
libconfig-dev
libmicrohttpd-dev
libgnutls28-dev
libsystemd-dev
libykpers-1-dev
libseccomp-dev
libldap-dev
libunistring-dev
fido2-tools
clang-14
libclang-rt-14-dev
shellcheck
mandoc
chromium
chromium-driver
python3-selenium
python3-cryptography
libnss3-tools
"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Installing must not start services (slapd would take port 389 on every
# address, where the tests' own samba DC binds 389 and 636 on a loopback
# address of its own): hold invoke-rc.d back with a policy-rc.d for the
# duration, unless one exists.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	guard=1
fi
rc=0
# shellcheck disable=SC2086
$SUDO apt-get update -qq &&
    $SUDO apt-get install -y -qq --no-install-recommends $missing || rc=$?
[ -n "$guard" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit $rc

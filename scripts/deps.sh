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
jq
python3
python3-jwcrypto
minisign
libconfig-dev
libmicrohttpd-dev
libsystemd-dev
libykpers-1-dev
fido2-tools
clang-14
libclang-rt-14-dev
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
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing

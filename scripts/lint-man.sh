#!/bin/sh
# SPDX-License-Identifier: ISC
# The manuals, held to mandoc -Tlint down to its style messages, less the
# ones that say what this machine has installed: whether the manuals an
# .Xr names (seccomp(2), systemd.exec(5), ...) are on it, and whether its
# mandoc.db is current.  An .Xr to one of tapgate's own manuals is held
# here instead: man/NAME.SECTION must exist.
# usage: scripts/lint-man.sh [MANUAL...]	(default: man/*.[1-9])
# Prints what it found; exit 1 when it found anything.
set -u
if ! command -v mandoc >/dev/null 2>&1; then
	echo "lint-man: no mandoc: make deps installs it" >&2
	exit 2
fi
[ $# -gt 0 ] || set -- man/*.[1-9]

found=$(mandoc -Tlint -W style "$@" 2>&1 |
    grep -v -e ': STYLE: referenced manual not found: Xr ' \
    -e 'mandoc\.db' -e '^mandoc: see above the output for ')
xr=$(for m in "$@"; do
	sed -n 's/^\.Xr \([^ ]*\) \([0-9]\).*/\1 \2/p' "$m" | sort -u |
	while read -r name sec; do
		ls man/"$name".[1-9] >/dev/null 2>&1 || continue
		[ -f "man/$name.$sec" ] ||
		    echo "$m: .Xr $name $sec: tapgate's $name is not in section $sec"
	done
done)
[ -z "$found$xr" ] && exit 0
printf '%s\n' "$found" "$xr" | sed '/^$/d'
exit 1

#!/bin/sh
# SPDX-License-Identifier: ISC
# A header is its module's whole contract: every TG_ERR_* a header says a
# call returns must be one that src/common/errors.h defines (a header once
# promised TG_ERR_EOF, which never existed: the caller could not test for
# it).  Static: reads the sources only.
set -u
export LC_ALL=C
ERRORS=src/common/errors.h
T=$(mktemp -d "${TMPDIR:-/tmp}/tg-errs.XXXXXX")
trap 'rm -rf "$T"' EXIT

fails=0
ok() { echo "ok $1"; }
notok() {
	echo "not ok $1"; shift; fails=$((fails + 1))
	for l in "$@"; do echo "#   $l"; done
	return 0
}

sed -n 's/^#define[[:space:]]\{1,\}\(TG_ERR_[A-Z0-9_]*\).*/\1/p' "$ERRORS" |
    sort -u >"$T/defined"
# a name split at the end of a line ("TG_ERR_BAD_" then "SIGNATURE") is
# not a name
names() {
	grep -noE 'TG_ERR_[A-Z0-9_]+' "$@" | grep -v '_$' |
	    awk -F: '{ print $NF, $1 ":" $2 }' | sort
}
# unknown FILE...: "NAME FILE:LINE" for every name errors.h lacks
unknown() {
	names "$@" | join -v 1 - "$T/defined"
}

# control: errors.h reads, and a made-up name is caught
if [ "$(wc -l <"$T/defined")" -ge 20 ] &&
    grep -qx TG_ERR_CLOSED "$T/defined"; then
	ok errors_h_defines_the_error_space
else
	notok errors_h_defines_the_error_space \
	    "read $(wc -l <"$T/defined") names from $ERRORS"
fi
printf '/* 0 or TG_ERR_NO_SUCH_THING */\n' >"$T/made_up.h"
if [ -n "$(unknown "$T/made_up.h")" ]; then
	ok header_check_catches_a_made_up_error
else
	notok header_check_catches_a_made_up_error
fi

# shellcheck disable=SC2046 # one argument a header (no blanks in src/)
bad=$(unknown $(find src -name '*.h' | sort))
if [ -z "$bad" ]; then
	ok headers_name_only_errors_that_exist
else
	IFS='
'
	# shellcheck disable=SC2086 # one argument a line of $bad (IFS)
	notok headers_name_only_errors_that_exist $bad
fi
[ "$fails" -eq 0 ]

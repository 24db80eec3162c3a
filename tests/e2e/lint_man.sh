#!/bin/sh
# SPDX-License-Identifier: ISC
# scripts/lint-man.sh, make lint's check of the manuals: mandoc -Tlint's
# findings fail it, down to its style messages, but not what only says
# which manuals this machine has installed; an .Xr to one of tapgate's
# own manuals must name the section it is in.
. tests/e2e/lib/daemon.sh
LINT=$PWD/scripts/lint-man.sh

if ! command -v mandoc >/dev/null 2>&1; then
	skip manual_lint_reports_mandoc_findings "no mandoc (make deps)"
	exit 0
fi
mkdir "$T/man"
# page NAME SECTION [LINES...]: a small valid manual with LINES in its
# description, as $T/man/NAME.SECTION
page() {
	p_n=$1 p_s=$2; shift 2
	{
		echo '.\" SPDX-License-Identifier: ISC'
		echo '.Dd December 6, 2026'
		echo ".Dt $(echo "$p_n" | tr '[:lower:]' '[:upper:]') $p_s"
		echo '.Os'
		echo '.Sh NAME'
		echo ".Nm $p_n"
		echo '.Nd a page for the test'
		echo '.Sh DESCRIPTION'
		echo 'Some text.'
		for l in "$@"; do echo "$l"; done
	} >"$T/man/$p_n.$p_s"
}
# lint PAGE: the checker on man/PAGE, from $T; output and status
lint() {
	(cd "$T" && sh "$LINT" "man/$1") >"$T/lint.out" 2>&1
	RC=$?
}
says() {	# TEXT: the checker failed and said TEXT
	[ "$RC" -eq 1 ] && grep -q -- "$1" "$T/lint.out" && return 0
	echo "#   status $RC, wanted '$1'; it said:"
	sed 's/^/#     /' "$T/lint.out"
	return 1
}
silent() {	# the checker passed and said nothing
	[ "$RC" -eq 0 ] && [ ! -s "$T/lint.out" ] && return 0
	echo "#   status $RC; it said:"
	sed 's/^/#     /' "$T/lint.out"
	return 1
}

page tapgated 8
page good 1 '.Xr tapgated 8' '.Xr no-such-manual-anywhere 7'
lint good.1
check clean_manual_passes_with_a_foreign_xr_not_installed silent
page baddate 1 'Text.'
sed -i 's/^\.Dd .*/.Dd November 2026/' "$T/man/baddate.1"
lint baddate.1
check unparsable_date_is_reported says "cannot parse date"
page colon 1 '.Cm delay: Ns Ar ms'
lint colon.1
check style_message_is_reported says "no blank before trailing delimiter"
page wrongsec 1 '.Xr tapgated 1'
lint wrongsec.1
check xr_to_an_own_manual_in_another_section_is_reported \
    says "tapgate's tapgated is not in section 1"

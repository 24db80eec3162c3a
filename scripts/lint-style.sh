#!/bin/sh
# SPDX-License-Identifier: ISC
# The part of the house style a machine can check (HACKING.md, "Style";
# .editorconfig tells editors the same):
#
#   every text file	no blank at the end of a line, no CR, a final newline
#   every source file	SPDX-License-Identifier in its first 3 lines (not:
#			Markdown, data under tests/fuzz/corpus, *.json,
#			*.pem, and the dot-files such as .gitignore)
#   C (*.c, *.h)	at most 80 columns (a tab to the next multiple of 8)
#   C, shell, Makefile	indented with tabs, then fewer than 8 spaces (the
#			4 of a continuation line, the 1 before a comment's
#			*); a shell here-document is the text it sends, and
#			is not checked
#
# Lines over 80 columns that were left in files other work was changing
# at the time are listed in scripts/lint-style.pending, "FILE COUNT": such
# a file may have exactly COUNT of them, no more (a new one fails) and no
# fewer (lower the count, or drop the line, when one is wrapped).
#
# usage: scripts/lint-style.sh [FILE...]	(default: the files git tracks)
# One line per finding, FILE:LINE: WHAT; exit 1 when there was any.
set -u
export LC_ALL=C
PENDING=${LINT_STYLE_PENDING-scripts/lint-style.pending}

if [ $# -eq 0 ]; then
	if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		echo "lint-style: not in a git work tree: name the files" >&2
		exit 2
	fi
	# tracked and new files; the tree's file names have no blanks
	# shellcheck disable=SC2046 # a list of names, split on purpose
	set -- $(git ls-files --cached --others --exclude-standard)
fi

# the files each rule applies to, by name (and a shebang for scripts)
text='' src='' c='' indent=''
for f in "$@"; do
	case $f in
	tests/fuzz/corpus/*) continue ;;
	esac
	[ -f "$f" ] || continue
	text="$text $f"
	case $f in
	*.md|*.json|*.pem|.*|*/.*) ;;
	*) src="$src $f" ;;
	esac
	case $f in
	*.c|*.h) c="$c $f"; indent="$indent $f" ;;
	*.sh|Makefile|*/Makefile) indent="$indent $f" ;;
	*)
		case $(head -n 1 "$f") in
		'#!/bin/sh'*|'#!/bin/bash'*|'#!/usr/bin/env sh'*|\
		'#!/usr/bin/env bash'*)
			indent="$indent $f" ;;
		esac ;;
	esac
done

out=$(mktemp "${TMPDIR:-/tmp}/lint-style.XXXXXX")
trap 'rm -f "$out"' EXIT

# a final newline: the last byte of a non-empty file
for f in $text; do
	[ -s "$f" ] || continue
	[ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] ||
	    echo "$f:$(($(wc -l <"$f") + 1)): no newline at the end of the file"
done >>"$out"

# shellcheck disable=SC2086 # the lists of names are split on purpose
{
	[ -z "$text" ] || awk '
	/[ \t]\r?$/ { print FILENAME ":" FNR ": blank at the end of the line" }
	/\r$/ { print FILENAME ":" FNR ": CR at the end of the line (CRLF)" }
	' $text
	[ -z "$src" ] || awk '
	function none(f) {
		print f ":1: no SPDX-License-Identifier in the first 3 lines"
	}
	FNR == 1 {
		if (f != "" && !found)
			none(f)
		f = FILENAME
		found = 0
	}
	FNR <= 3 && /SPDX-License-Identifier: / { found = 1 }
	END {
		if (f != "" && !found)
			none(f)
	}
	' $src
	[ -z "$c" ] || awk '
	# the column a line ends at, tabs stopping every 8 columns
	function width(s, i, n, w, ch) {
		match(s, /^\t*/)
		w = 8 * RLENGTH
		s = substr(s, RLENGTH + 1)
		gsub(/[\200-\277]/, "", s)	# UTF-8: one column a character
		if (index(s, "\t") == 0)
			return w + length(s)
		n = length(s)
		for (i = 1; i <= n; i++) {
			ch = substr(s, i, 1)
			w = ch == "\t" ? w + 8 - w % 8 : w + 1
		}
		return w
	}
	{
		w = width($0)
		if (w > 80)
			print FILENAME ":" FNR ": " w " columns (80 at most)"
	}
	' $c
	[ -z "$indent" ] || awk '
	FNR == 1 { term = "" }
	# inside a shell here-document until its delimiter
	term != "" {
		line = $0
		if (strip)
			sub(/^\t*/, "", line)
		if (line == term)
			term = ""
		next
	}
	/^\t* +\t/ {
		print FILENAME ":" FNR ": a space before a tab in the indentation"
	}
	/^\t*        / {	# (mawk knows no {8,})
		print FILENAME ":" FNR ": 8 spaces or more in the indentation" \
		    " (a tab)"
	}
	FILENAME !~ /\.[ch]$/ && match($0, /<<-?[ \t]*[\047"\\]?[A-Za-z_][A-Za-z_0-9]*/) &&
	    substr($0, RSTART + 2, 1) != "<" {
		t = substr($0, RSTART + 2, RLENGTH - 2)
		strip = t ~ /^-/
		sub(/^-?[ \t]*[\047"\\]?/, "", t)
		term = t
	}
	' $indent
} >>"$out"

# the long lines of the pending files, held to their counts
if [ -n "$PENDING" ] && [ -f "$PENDING" ]; then
	grep -v -e '^#' -e '^[[:space:]]*$' "$PENDING" |
	while read -r pf pn; do
		have=$(grep -c "^$pf:[0-9]*: [0-9]* columns" "$out")
		if [ "$have" -eq "$pn" ]; then
			grep -v "^$pf:[0-9]*: [0-9]* columns" "$out" >"$out.k"
			mv "$out.k" "$out"
		elif [ "$have" -lt "$pn" ]; then
			echo "$PENDING: $pf has $have lines over 80 columns," \
			    "not $pn: lower the count" >>"$out"
		else
			echo "$PENDING: $pf has $have lines over 80 columns," \
			    "more than the $pn left there" >>"$out"
		fi
	done
fi

if [ -s "$out" ]; then
	sort -t: -k1,1 -k2,2n "$out"
	echo "lint-style: $(wc -l <"$out") findings" >&2
	exit 1
fi
exit 0

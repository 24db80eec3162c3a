#!/bin/sh
# SPDX-License-Identifier: ISC
# scripts/lint-style.sh, the house style make lint holds the tree to:
# each rule reports a file that breaks it, with the file and line, and
# passes files that follow the style as the tree writes it (80 columns
# exactly, a continuation line's 4 spaces, a comment's " *", spaces in a
# shell here-document).  The pending list lets a file keep exactly the
# long lines it had.
. tests/e2e/lib/daemon.sh
LINT=$PWD/scripts/lint-style.sh
HDR='/* SPDX-License-Identifier: ISC */'

# lint FILE...: the checker run in $T on FILE..., with no pending list;
# its output in $T/lint.out, its status in $RC
lint() {
	(cd "$T" && LINT_STYLE_PENDING='' sh "$LINT" "$@") >"$T/lint.out" 2>&1
	RC=$?
}
# reports FILE:LINE WHAT: the checker failed, naming that line and WHAT
reports() {
	[ "$RC" -eq 1 ] && grep -q "^$1: .*$2" "$T/lint.out" && return 0
	echo "#   status $RC, wanted $1: ...$2; it said:"
	sed 's/^/#     /' "$T/lint.out"
	return 1
}
# clean: the checker passed and said nothing
clean() {
	[ "$RC" -eq 0 ] && [ ! -s "$T/lint.out" ] && return 0
	echo "#   status $RC; it said:"
	sed 's/^/#     /' "$T/lint.out"
	return 1
}
# a C line of exactly N columns: one tab, then N - 8 characters
c_line() { printf '\t/*%*s*/\n' $(($1 - 12)) ''; }

# ---- files in the house style pass
cat >"$T/good.c" <<'EOF'
/* SPDX-License-Identifier: ISC */
/*
 * a comment
 */
static int
f(int a, int b,
    int c)
{
	if (a == b &&
	    b == c)
		return 1;	/* a tab inside the line */
	return 0;
}
EOF
c_line 80 >>"$T/good.c"
cat >"$T/good.sh" <<'EOF'
#!/bin/sh
# SPDX-License-Identifier: ISC
cat <<EOS
        spaces: the text a here-document sends
EOS
if true; then
	cat <<-'X'
	        here too
	X
fi
echo $((1 << 2)) \
    continued
EOF
cat >"$T/Makefile" <<'EOF'
# SPDX-License-Identifier: ISC
all:
	true \
	    continued
EOF
printf 'no licence line: documentation\n' >"$T/README.md"
lint good.c good.sh Makefile README.md
check files_in_the_house_style_pass clean

# ---- each rule, broken once
{ echo "$HDR"; c_line 81; } >"$T/long.c"
lint long.c
check c_line_over_80_columns_is_reported reports long.c:2 "81 columns"
{ echo "$HDR"; printf '\t\t\t\t\t\t\t\t\t\tx\n'; } >"$T/tabs.h"
lint tabs.h
check columns_count_tabs_to_the_next_multiple_of_8 \
    reports tabs.h:2 "81 columns"
{ echo "$HDR"; echo 'int x; '; } >"$T/blank.c"
lint blank.c
check blank_at_the_end_of_a_line_is_reported \
    reports blank.c:2 "blank at the end of the line"
printf '# SPDX-License-Identifier: ISC\r\nx = 1;\n' >"$T/crlf.conf"
lint crlf.conf
check crlf_line_end_is_reported reports crlf.conf:1 "CR at the end"
printf '%s\nint x;' "$HDR" >"$T/nonl.c"
lint nonl.c
check missing_final_newline_is_reported \
    reports nonl.c:2 "no newline at the end of the file"
printf 'int x;\n' >"$T/nospdx.c"
lint nospdx.c
check source_without_spdx_line_is_reported \
    reports nospdx.c:1 "no SPDX-License-Identifier"
printf 'a\nb\nc\n# SPDX-License-Identifier: ISC\n' >"$T/late.conf"
lint late.conf
check spdx_line_after_the_third_line_is_reported \
    reports late.conf:1 "no SPDX-License-Identifier"
{ echo "$HDR"; echo 'int'; echo 'f(void)'; echo '{'
  echo '        return 0;'; echo '}'; } >"$T/spaces.c"
lint spaces.c
check indentation_with_8_spaces_is_reported \
    reports spaces.c:5 "8 spaces or more in the indentation"
{ echo '#!/bin/sh'; echo '# SPDX-License-Identifier: ISC'
  echo 'if true; then'; echo '    	true'; echo 'fi'; } >"$T/mixed"
lint mixed
check space_before_a_tab_in_a_script_is_reported \
    reports mixed:4 "a space before a tab"
{ echo '#!/bin/sh'; echo '# SPDX-License-Identifier: ISC'
  echo 'cat <<EOF'; echo 'EOF'; echo '        after'; } >"$T/after.sh"
lint after.sh
check indentation_after_a_here_document_is_checked_again \
    reports after.sh:5 "8 spaces or more"

# ---- the pending list: exactly the long lines it grants
{ echo "$HDR"; c_line 81; c_line 90; } >"$T/pend.c"
pending() {	# COUNT: the checker on pend.c with a list granting COUNT
	printf '# SPDX-License-Identifier: ISC\npend.c\t%s\n' "$1" \
	    >"$T/pending"
	(cd "$T" && LINT_STYLE_PENDING=pending sh "$LINT" pend.c) \
	    >"$T/lint.out" 2>&1
	RC=$?
}
pending 2
check pending_file_may_keep_the_long_lines_it_had clean
pending 1
check pending_file_with_a_new_long_line_fails \
    reports pending "pend.c has 2 lines over 80 columns, more than"
pending 3
check pending_count_above_what_is_left_fails \
    reports pending "pend.c has 2 lines over 80 columns, not 3: lower"

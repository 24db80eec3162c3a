#!/bin/sh
# SPDX-License-Identifier: ISC
# `tapgatectl token ...` around a real softfido: list, info (text and
# JSON), set-pin from standard input, and the errors people will meet.
set -u
BUILD=${BUILD:-build}
CTL=$BUILD/tapgatectl
SF=$BUILD/softfido

fails=0
ok() { echo "ok $1"; }
notok() { echo "not ok $1"; fails=$((fails + 1)); }
# t NAME 'SHELL CONDITION': ok when the condition holds
t() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }

if [ ! -x "$CTL" ] || [ ! -x "$SF" ]; then
	echo "not ok token_cli_setup ($CTL or $SF missing)"
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/tg-token-cli.XXXXXX")
sfpid=
cleanup() {
	if [ -n "$sfpid" ]; then
		kill "$sfpid" 2>/dev/null
		wait "$sfpid" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sock=$dir/sf.sock
dev=softfido:$sock
"$SF" --socket "$sock" --state "$dir/state" 2>"$dir/softfido.log" &
sfpid=$!

# json_get FILE PYEXPR JQEXPR: evaluate an expression over the document
# (bound to d / $d) and print it as JSON; python3 parses strictly, jq
# stands in where python3 is missing.  Fails when the file is not JSON.
json_get() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2], {"d": d})))' "$1" "$2"
	else
		jq -ce ". as \$d | $3" "$1" | sed 's/,/, /g'
	fi
}

# ---- info --json
"$CTL" token info --json "$dev" >"$dir/info.json" 2>"$dir/err"
rc=$?
t info_json_exits_zero '[ "$rc" -eq 0 ]'
t info_json_parses 'json_get "$dir/info.json" "True" "true" >/dev/null'
missing=
for k in versions extensions aaguid options algorithms max_msg_size \
    pin_protocols pin_retries pin_set; do
	[ "$(json_get "$dir/info.json" "\"$k\" in d" "has(\"$k\")")" = true ] ||
	    missing="$missing $k"
done
t info_json_has_every_field '[ -z "$missing" ]'
t info_json_lists_fido_2_1 '[ "$(json_get "$dir/info.json" \
    "\"FIDO_2_1\" in d[\"versions\"]" \
    "\$d.versions | index(\"FIDO_2_1\") != null")" = true ]'
h4='[0-9a-f]{4}'
t info_json_aaguid_is_canonical_uuid 'json_get "$dir/info.json" \
    "d[\"aaguid\"]" "\$d.aaguid" |
    grep -Eqx "\"$h4$h4-$h4-$h4-$h4-$h4$h4$h4\""'
t info_json_has_es256_and_eddsa '[ "$(json_get "$dir/info.json" \
    "sorted(a[\"alg\"] for a in d[\"algorithms\"])" \
    "[\$d.algorithms[].alg] | sort")" = "[-8, -7]" ]'
t info_json_has_pin_protocol_2 '[ "$(json_get "$dir/info.json" \
    "2 in d[\"pin_protocols\"]" \
    "\$d.pin_protocols | index(2) != null")" = true ]'
t info_json_before_pin_shows_no_pin '[ "$(json_get "$dir/info.json" \
    "d[\"pin_set\"]" "\$d.pin_set")" = false ]'

# ---- info, text
"$CTL" token info "$dev" >"$dir/info.txt" 2>&1
t info_text_is_readable 'grep -q "^versions: .*FIDO_2_1" "$dir/info.txt"'
t info_text_shows_aaguid 'grep -q "^aaguid: " "$dir/info.txt"'
t info_text_shows_pin_state 'grep -q "^PIN: *not set" "$dir/info.txt"'

# ---- list
"$CTL" token list "$dev" >"$dir/list" 2>"$dir/err"
rc=$?
t list_names_the_softfido '[ "$rc" -eq 0 ] && grep -q "^$dev	" "$dir/list"'
"$CTL" token list "softfido:$dir/none.sock" >"$dir/list" 2>"$dir/err"
rc=$?
t list_reports_unreachable_softfido \
    '[ "$rc" -eq 3 ] && grep -q "none.sock" "$dir/err"'

# ---- set-pin: never from argv, never echoed
"$CTL" token set-pin "$dev" 24681357 >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
t set_pin_refuses_pin_in_argv \
    '[ "$rc" -eq 2 ] && ! grep -q 24681357 "$dir/err" "$dir/out"'
"$CTL" token set-pin "$dev" --pin=24681357 >"$dir/out" 2>"$dir/err" \
    </dev/null
rc=$?
t set_pin_refuses_pin_option \
    '[ "$rc" -eq 2 ] && ! grep -q 24681357 "$dir/err" "$dir/out"'
"$CTL" token info --json "$dev" >"$dir/info.json" 2>/dev/null
t argv_pin_was_not_set '[ "$(json_get "$dir/info.json" "d[\"pin_set\"]" \
    "\$d.pin_set")" = false ]'

# ---- set-pin from standard input
"$CTL" token set-pin "$dev" --change >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
t change_without_pin_is_refused \
    '[ "$rc" -eq 4 ] && grep -q "no PIN yet" "$dir/err"'
printf '12\n' | "$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err"
rc=$?
t short_pin_is_refused '[ "$rc" -eq 4 ] && grep -q "refused" "$dir/err"'
"$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
t empty_stdin_is_refused \
    '[ "$rc" -eq 4 ] && grep -q "standard input ended" "$dir/err"'
printf '246810\n' | "$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err"
rc=$?
t set_pin_from_stdin '[ "$rc" -eq 0 ] && ! grep -q 246810 "$dir/out" "$dir/err"'
"$CTL" token info --json "$dev" >"$dir/info.json" 2>/dev/null
t info_shows_pin_set '[ "$(json_get "$dir/info.json" "d[\"pin_set\"]" \
    "\$d.pin_set")" = true ]'
t info_shows_8_retries '[ "$(json_get "$dir/info.json" \
    "d[\"pin_retries\"]" "\$d.pin_retries")" = 8 ]'
printf '135790\n' | "$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err"
rc=$?
t second_first_pin_is_refused \
    '[ "$rc" -eq 4 ] && grep -q -- "--change" "$dir/err"'
printf '000000\n135790\n' | "$CTL" token set-pin "$dev" --change \
    >"$dir/out" 2>"$dir/err"
rc=$?
t wrong_current_pin_is_refused_with_retries_left \
    '[ "$rc" -eq 4 ] && grep -q "7 attempts left" "$dir/err"'
printf '246810\n135790\n' | "$CTL" token set-pin "$dev" --change \
    >"$dir/out" 2>"$dir/err"
rc=$?
t change_pin_from_stdin '[ "$rc" -eq 0 ]'
printf '135790\r\n24681012\r\n' | "$CTL" token set-pin "$dev" --change \
    >"$dir/out" 2>"$dir/err"
rc=$?
t change_pin_with_crlf_lines '[ "$rc" -eq 0 ]'
"$CTL" token info --json "$dev" >"$dir/info.json" 2>/dev/null
t retries_back_to_8 '[ "$(json_get "$dir/info.json" \
    "d[\"pin_retries\"]" "\$d.pin_retries")" = 8 ]'

# ---- bad device names, missing keys, bad command lines
"$CTL" token info foo >"$dir/out" 2>"$dir/err"
rc=$?
t bad_name_is_usage_error \
    '[ "$rc" -eq 2 ] && grep -q "not a device name" "$dir/err"'
"$CTL" token info softfido: >"$dir/out" 2>"$dir/err"
rc=$?
t empty_socket_path_is_usage_error '[ "$rc" -eq 2 ]'
"$CTL" token info "softfido:$dir/none.sock" >"$dir/out" 2>"$dir/err"
rc=$?
t missing_softfido_is_no_device \
    '[ "$rc" -eq 3 ] && grep -q "no security key there" "$dir/err"'
"$CTL" token info /dev/hidraw999 >"$dir/out" 2>"$dir/err"
rc=$?
t missing_hidraw_is_no_device '[ "$rc" -eq 3 ]'
"$CTL" token info >"$dir/out" 2>"$dir/err"
rc=$?
t info_without_device_is_usage_error '[ "$rc" -eq 2 ]'
"$CTL" token frobnicate >"$dir/out" 2>"$dir/err"
rc=$?
t unknown_subcommand_is_usage_error '[ "$rc" -eq 2 ]'
"$CTL" >"$dir/out" 2>"$dir/err"
rc=$?
t no_command_is_usage_error '[ "$rc" -eq 2 ]'
"$CTL" help >"$dir/out" 2>"$dir/err"
rc=$?
t help_documents_exit_codes \
    '[ "$rc" -eq 0 ] && grep -q "^Exit status" "$dir/out"'

[ "$fails" -eq 0 ]

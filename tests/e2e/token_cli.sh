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
# t NAME COMMAND...: ok when COMMAND succeeds
t() { t_n=$1; shift; if "$@"; then ok "$t_n"; else notok "$t_n"; fi; }
# said STATUS PATTERN FILE...: $rc is STATUS and a FILE matches PATTERN
said() { [ "$rc" -eq "$1" ] && s_p=$2 && shift 2 && grep -q -- "$s_p" "$@"; }
# unsaid STATUS TEXT FILE...: $rc is STATUS and no FILE holds TEXT
unsaid() { [ "$rc" -eq "$1" ] && u_p=$2 && shift 2 && ! grep -q -- "$u_p" "$@"; }

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
# (d in PYEXPR, . in JQEXPR) and print it as JSON; python3 parses
# strictly, jq stands in where python3 is missing.  Fails when the file is not JSON.
json_get() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(eval(sys.argv[2], {"d": d})))' "$1" "$2"
	else
		jq -ce "$3" "$1" | sed 's/,/, /g'
	fi
}
# json_is FILE PYEXPR JQEXPR WANT: json_get prints WANT
json_is() { [ "$(json_get "$1" "$2" "$3")" = "$4" ]; }

# ---- info --json
"$CTL" token info --json "$dev" >"$dir/info.json" 2>"$dir/err"
rc=$?
t info_json_exits_zero [ "$rc" -eq 0 ]
t info_json_parses json_is "$dir/info.json" True true true
missing=
for k in versions extensions aaguid options algorithms max_msg_size \
    pin_protocols pin_retries pin_set; do
	[ "$(json_get "$dir/info.json" "\"$k\" in d" "has(\"$k\")")" = true ] ||
	    missing="$missing $k"
done
t info_json_has_every_field [ -z "$missing" ]
t info_json_lists_fido_2_1 json_is "$dir/info.json" \
    '"FIDO_2_1" in d["versions"]' \
    '.versions | index("FIDO_2_1") != null' true
# aaguid_is_uuid: the aaguid is a canonical (lowercase) UUID
aaguid_is_uuid() {
	h4='[0-9a-f]{4}'
	json_get "$dir/info.json" 'd["aaguid"]' '.aaguid' |
	    grep -Eqx "\"$h4$h4-$h4-$h4-$h4-$h4$h4$h4\""
}
t info_json_aaguid_is_canonical_uuid aaguid_is_uuid
t info_json_has_es256_and_eddsa json_is "$dir/info.json" \
    'sorted(a["alg"] for a in d["algorithms"])' \
    '[.algorithms[].alg] | sort' "[-8, -7]"
t info_json_has_pin_protocol_2 json_is "$dir/info.json" \
    '2 in d["pin_protocols"]' '.pin_protocols | index(2) != null' true
t info_json_before_pin_shows_no_pin json_is "$dir/info.json" \
    'd["pin_set"]' '.pin_set' false

# ---- info, text
"$CTL" token info "$dev" >"$dir/info.txt" 2>&1
t info_text_is_readable grep -q "^versions: .*FIDO_2_1" "$dir/info.txt"
t info_text_shows_aaguid grep -q "^aaguid: " "$dir/info.txt"
t info_text_shows_pin_state grep -q "^PIN: *not set" "$dir/info.txt"

# ---- list
"$CTL" token list "$dev" >"$dir/list" 2>"$dir/err"
rc=$?
t list_names_the_softfido said 0 "^$dev	" "$dir/list"
"$CTL" token list "softfido:$dir/none.sock" >"$dir/list" 2>"$dir/err"
rc=$?
t list_reports_unreachable_softfido said 3 "none.sock" "$dir/err"

# ---- set-pin: never from argv, never echoed
"$CTL" token set-pin "$dev" 24681357 >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
t set_pin_refuses_pin_in_argv unsaid 2 24681357 "$dir/err" "$dir/out"
"$CTL" token set-pin "$dev" --pin=24681357 >"$dir/out" 2>"$dir/err" \
    </dev/null
rc=$?
t set_pin_refuses_pin_option unsaid 2 24681357 "$dir/err" "$dir/out"
"$CTL" token info --json "$dev" >"$dir/info.json" 2>/dev/null
t argv_pin_was_not_set json_is "$dir/info.json" 'd["pin_set"]' \
    '.pin_set' false

# ---- set-pin from standard input
"$CTL" token set-pin "$dev" --change >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
t change_without_pin_is_refused said 4 "no PIN yet" "$dir/err"
printf '12\n' | "$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err"
rc=$?
t short_pin_is_refused said 4 "refused" "$dir/err"
"$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
t empty_stdin_is_refused said 4 "standard input ended" "$dir/err"
printf '246810\n' | "$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err"
rc=$?
t set_pin_from_stdin unsaid 0 246810 "$dir/out" "$dir/err"
"$CTL" token info --json "$dev" >"$dir/info.json" 2>/dev/null
t info_shows_pin_set json_is "$dir/info.json" 'd["pin_set"]' '.pin_set' \
    true
t info_shows_8_retries json_is "$dir/info.json" 'd["pin_retries"]' \
    '.pin_retries' 8
printf '135790\n' | "$CTL" token set-pin "$dev" >"$dir/out" 2>"$dir/err"
rc=$?
t second_first_pin_is_refused said 4 "--change" "$dir/err"
printf '000000\n135790\n' | "$CTL" token set-pin "$dev" --change \
    >"$dir/out" 2>"$dir/err"
rc=$?
t wrong_current_pin_is_refused_with_retries_left \
    said 4 "7 attempts left" "$dir/err"
printf '246810\n135790\n' | "$CTL" token set-pin "$dev" --change \
    >"$dir/out" 2>"$dir/err"
rc=$?
t change_pin_from_stdin [ "$rc" -eq 0 ]
printf '135790\r\n24681012\r\n' | "$CTL" token set-pin "$dev" --change \
    >"$dir/out" 2>"$dir/err"
rc=$?
t change_pin_with_crlf_lines [ "$rc" -eq 0 ]
"$CTL" token info --json "$dev" >"$dir/info.json" 2>/dev/null
t retries_back_to_8 json_is "$dir/info.json" 'd["pin_retries"]' \
    '.pin_retries' 8

# ---- bad device names, missing keys, bad command lines
"$CTL" token info foo >"$dir/out" 2>"$dir/err"
rc=$?
t bad_name_is_usage_error said 2 "not a device name" "$dir/err"
"$CTL" token info softfido: >"$dir/out" 2>"$dir/err"
rc=$?
t empty_socket_path_is_usage_error [ "$rc" -eq 2 ]
"$CTL" token info "softfido:$dir/none.sock" >"$dir/out" 2>"$dir/err"
rc=$?
t missing_softfido_is_no_device said 3 "no security key there" "$dir/err"
"$CTL" token info /dev/hidraw999 >"$dir/out" 2>"$dir/err"
rc=$?
t missing_hidraw_is_no_device [ "$rc" -eq 3 ]
"$CTL" token info >"$dir/out" 2>"$dir/err"
rc=$?
t info_without_device_is_usage_error [ "$rc" -eq 2 ]
"$CTL" token frobnicate >"$dir/out" 2>"$dir/err"
rc=$?
t unknown_subcommand_is_usage_error [ "$rc" -eq 2 ]
"$CTL" >"$dir/out" 2>"$dir/err"
rc=$?
t no_command_is_usage_error [ "$rc" -eq 2 ]
"$CTL" help >"$dir/out" 2>"$dir/err"
rc=$?
t help_documents_exit_codes said 0 "^Exit status" "$dir/out"

[ "$fails" -eq 0 ]

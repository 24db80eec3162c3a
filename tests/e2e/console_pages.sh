#!/bin/sh
# SPDX-License-Identifier: ISC
# The console's pages (console/, embedded at build time): the front serves
# them itself over HTTPS, with the types a browser needs and the page
# headers (a Content Security Policy without inline script, framing
# refused, nosniff, no-store, HSTS), every API answer over HTTPS carrying
# the same headers; never on the Unix socket; a path that climbs out of
# /console/ finds nothing; / leads to the console.
set -u
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/testca.sh
. tests/e2e/lib/https.sh

if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null; then
	skip console_pages "openssl or curl missing"
	exit 0
fi
make_config "$T/tapgate.conf"
https_listener "$T/tapgate.conf" || { notok test_ca_is_made; exit 1; }
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# page PATH [CURL-ARGS...]: status in STATUS, headers in $T/hdr, body in
# $T/body
page() {
	pg_p=$1; shift
	: >"$T/body"
	: >"$T/hdr"
	STATUS=$(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
	    --max-time 20 --cacert "$T/web-ca.pem" "$@" \
	    "https://127.0.0.1:$PORT$pg_p" 2>"$T/curl.err")
	[ -n "$STATUS" ] || STATUS=000
}
# header NAME: its value in $T/hdr (the last, CR removed)
header() {
	tr -d '\r' <"$T/hdr" | sed -n "s/^$1: //Ip" | tail -n 1
}
# one_header NAME VALUE: exactly one NAME header, with VALUE
one_header() {
	[ "$(tr -d '\r' <"$T/hdr" | grep -ci "^$1:")" = 1 ] &&
	    [ "$(header "$1")" = "$2" ]
}
page_headers() {
	csp=$(header Content-Security-Policy)
	# no inline script: script-src names only the appliance itself
	printf '%s\n' "$csp" | grep -q "script-src 'self';" &&
	    ! printf '%s\n' "$csp" | grep -q "unsafe-inline" &&
	    printf '%s\n' "$csp" | grep -q "frame-ancestors 'none'" &&
	    printf '%s\n' "$csp" | grep -q "default-src 'none'" &&
	    one_header X-Frame-Options DENY &&
	    one_header X-Content-Type-Options nosniff &&
	    one_header Cache-Control no-store &&
	    one_header Referrer-Policy no-referrer &&
	    header Strict-Transport-Security | grep -q '^max-age=[1-9]'
}
same_bytes() { cmp -s "$T/body" "$1"; }
served() { [ "$STATUS" = 200 ] && one_header Content-Type "$1"; }
# with -I curl writes the headers as the body: nothing follows them
headers_alone() { served "$1" && cmp -s "$T/body" "$T/hdr"; }
leads_to_console() { [ "$STATUS" = 303 ] && one_header Location /console/; }
refused_post() { [ "$STATUS" = 405 ] && one_header Allow "GET, HEAD"; }
no_inline() {
	! grep -Eiq '<script>|<script [^>]*>[^<]|<style| style=| on[a-z]+=' \
	    "$T/body"
}
not_served() {
	[ "$STATUS" = 404 ] && ! grep -Eq 'SPDX|<html' "$T/body"
}

page /console/
check index_is_served_as_html served "text/html; charset=utf-8"
check index_is_the_repository_file same_bytes console/index.html
check index_carries_the_page_headers page_headers
check index_has_no_inline_script_or_style no_inline
page /console/app.js
check script_is_served_as_javascript served text/javascript
check script_is_the_repository_file same_bytes console/app.js
check script_carries_the_page_headers page_headers
page /console/app.css
check style_is_served_as_css served text/css
check style_is_the_repository_file same_bytes console/app.css
page /console/app.js -I
check head_answers_the_headers_alone headers_alone text/javascript
page /
check root_leads_to_the_console leads_to_console
check redirect_carries_the_page_headers page_headers
page /console
check console_without_slash_leads_to_the_console leads_to_console
page /console/nothing.js
check unknown_page_is_404 answered 404 '.error.code == "not_found"'
check refusal_carries_the_page_headers page_headers
page /console/app.js -X POST --data-binary x
check pages_refuse_post refused_post

# a path climbing out of /console/ (sent as is, and encoded) finds
# nothing of the machine's: the control shows the file it aims at exists
# and that curl sends the path as is
check control_the_traversal_target_exists [ -r Makefile ]
page /console/../../Makefile --path-as-is -v
check control_the_path_is_sent_as_is \
    grep -q 'GET /console/../../Makefile' "$T/curl.err"
check traversal_is_refused not_served
page /console/..%2f..%2fMakefile --path-as-is
check encoded_traversal_is_refused not_served
page /console/%2e%2e/%2e%2e/Makefile --path-as-is
check encoded_dot_dot_is_refused not_served
page /console/%2e%2e/index.html --path-as-is
check encoded_dot_dot_into_the_console_is_refused not_served

# the API over HTTPS carries the page headers too: a browser reads it
page /healthz
check api_answer_over_https_carries_the_page_headers \
    answered 200 '.status != null'
check api_answer_over_https_has_the_page_headers page_headers

# the generator embeds what it can serve and stops the build on anything
# else: a name with a path or a leading dot, an unknown type, a NUL byte
G=$T/gen
mkdir -p "$G/sub"
printf 'x\n' >"$G/ok.js"
printf 'x\n' >"$G/.hidden.js"
printf 'x\n' >"$G/a b.js"
printf 'x\n' >"$G/page.php"
printf 'x\000y\n' >"$G/nul.js"
gen() { sh scripts/gen-console.sh "$G/out.c" "$@" 2>"$G/err"; }
check control_generator_embeds_a_served_file \
    gen "$G/ok.js"
check generator_names_the_file_and_its_type \
    grep -q '{ "ok.js", "text/javascript", ' "$G/out.c"
gen_refuses() { ! gen "$@" && grep -q "$(basename "$1")" "$G/err"; }
check generator_refuses_a_hidden_file gen_refuses "$G/.hidden.js"
check generator_refuses_a_name_with_a_space gen_refuses "$G/a b.js"
check generator_refuses_an_unknown_type gen_refuses "$G/page.php"
check generator_refuses_a_nul_byte gen_refuses "$G/nul.js"

# the Unix socket has no pages, and keeps its own headers
api GET /console/
check control_socket_answers [ "$STATUS" != 000 ]
check no_pages_on_the_socket not_served
api GET /console/app.js
check no_script_on_the_socket [ "$STATUS" = 404 ]
api GET /
check no_redirect_on_the_socket [ "$STATUS" = 404 ]

daemon_stop

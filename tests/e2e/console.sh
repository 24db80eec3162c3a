#!/bin/sh
# SPDX-License-Identifier: ISC
# The console as an officer meets it: the real tapgatectl against the real
# daemon and softfido keys.  Every exit status of tapgatectl(8) is
# provoked for real (5, an anchor the log lacks, with a copy of the
# database from before the anchor); a socket that is missing, a plain
# file, left behind, of another type, closed to the caller or someone
# else's says which; times read as ISO 8601; request ids go by unique
# prefix as git's hashes do; the queue shows tickets, a request who
# approved it and its evidence in words; refusals speak words; and every
# program answers --help and --version on stdout with status 0.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

VERSION=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile)
ISO='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z'
# rc CMD...: run it, stdout in $T/out, stderr in $T/err, status in $RC
rc() { "$@" >"$T/out" 2>"$T/err"; RC=$?; }
err_has() { grep -q -- "$1" "$T/err"; }

# ---- --help and --version, before anything runs
for p in tapgatectl tapgated tapgate-verify softfido; do
	for h in --help -h; do
		rc "$BUILD/$p" $h
		check "${p}_${h#--}_prints_usage_on_stdout_with_status_0" \
		    sh -c "[ $RC -eq 0 ] && grep -q '^usage: $p' $T/out &&
		    [ ! -s $T/err ]"
	done
	rc "$BUILD/$p" --version
	check "${p}_version_names_program_and_version" \
	    sh -c "[ $RC -eq 0 ] && [ \"\$(cat $T/out)\" = '$p $VERSION' ] &&
	    [ ! -s $T/err ]"
done

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 3000 --checkpoint-interval 1 ||
    { notok daemon_starts; exit 1; }
key_start ann --up-timeout 1500
key_start ben
key_start ian
key_start dan
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben
enroll officer-ian it_manager ian
rc CTL backup "$T/early.db"
check backup_before_the_requests [ "$RC" -eq 0 ]

ID=$(admin_reset alice)
SHORT=$(printf '%.8s' "$ID")

# ---- exit 0, 2 and 1 around request ids
rc CTL requests show "$SHORT"
check show_takes_a_unique_prefix_of_the_id \
    sh -c "[ $RC -eq 0 ] && grep -q '^request   $ID\$' $T/out"
rc CTL requests show "$(printf '%.8s' "$ID" | tr a-f A-F)"
check prefix_in_upper_case_is_the_same_id \
    sh -c "[ $RC -eq 0 ] && grep -q '^request   $ID\$' $T/out"
rc CTL requests show "$(printf '%.3s' "$ID")"
check prefix_under_four_digits_is_a_usage_error \
    sh -c "[ $RC -eq 2 ] && grep -q 'at least 4 hex digits' $T/err"
rc CTL requests show not-an-id
check malformed_id_is_a_usage_error [ "$RC" -eq 2 ]
NONE=$(printf '%.28s' "$ID")$(printf '%s' "$ID" | cut -c29-32 | tr 0-9a-f 1-9a-f0)
rc CTL requests show "$NONE"
check unknown_whole_id_fails_with_status_1 \
    sh -c "[ $RC -eq 1 ] && grep -q 'no such request' $T/err"
rc CTL requests show "$(printf '%.12s' "$NONE" | tr 0-9a-f 1-9a-f0)"
check prefix_of_no_request_fails_with_status_1 \
    sh -c "[ $RC -eq 1 ] && grep -q 'no request id starts with' $T/err"

# a second request whose id shares 28 digits with the first (written into
# the real database, as an id collision would)
TWIN=$(printf '%.28s' "$ID")$(printf '%s' "$ID" | cut -c29-32 | tr 0-9a-f f0-9a-e)
sqlite3 "$T/state/tapgate.db" "CREATE TEMP TABLE c AS SELECT * FROM
    requests WHERE id = '$ID'; UPDATE c SET n = NULL, id = '$TWIN',
    idem_key = NULL, idem_digest = NULL; INSERT INTO requests SELECT * FROM c;"
rc CTL requests show "$SHORT"
check ambiguous_prefix_is_a_usage_error_listing_the_candidates \
    sh -c "[ $RC -eq 2 ] && grep -q 'ambiguous' $T/err &&
    grep -q '^  $ID ' $T/err && grep -q '^  $TWIN ' $T/err"
P29=$(printf '%.29s' "$ID")
rc CTL requests show "$P29"
check longer_prefix_tells_the_twins_apart \
    sh -c "[ $RC -eq 0 ] && grep -q '^request   $ID\$' $T/out"

# ---- the queue and a request in detail
rc CTL requests list
check list_has_a_ticket_column \
    sh -c "head -n 1 $T/out | grep -q ' TICKET ' &&
    grep '^$ID ' $T/out | grep -q ' INC-1 '"
rc CTL requests show "$ID"
check show_gives_times_in_iso_8601 grep -q "^created   $ISO, last changed $ISO\$" "$T/out"
check show_counts_evidence_in_words \
    grep -q '^evidence  3 listed, 3 counted, 3 needed, of 3 different types$' "$T/out"
check show_says_nobody_approved_yet grep -q '^approved  by nobody yet$' "$T/out"
check show_lists_what_is_missing_in_words \
    sh -c "grep -q '^  - 2 more approvals from security_officer' $T/out &&
    ! grep -q 'approval:security_officer' $T/out"
# one item, over the channel the request came by: none counts, and the
# manual review route needs none
api POST /v1/requests "$(req password_reset bob "" hd-bob phone \
    "[$(ev out_of_band_callback pass hd-bob phone cb-9)]")"
MR=$(jbody .id)
rc CTL requests show "$MR"
check one_uncounted_item_is_not_0_of_0 \
    sh -c "grep -q '^evidence  1 listed, none counted, none needed: on the manual review route' $T/out &&
    grep -q 'not counted: made over the channel the request came by' $T/out &&
    ! grep -q '0 of 0' $T/out"

# ---- approvals: exit 4, 3, 1 and 0, in words
rc sh -c "echo 000000 | $BUILD/tapgatectl -s $T/api.sock approve $P29 \
    --device softfido:$T/ben.sock"
# the key's own count, asked after the console answered
LEFT=$("$BUILD/tapgatectl" token info "softfido:$T/ben.sock" |
    sed -n 's/^PIN: *set, \([0-9]*\) attempts left$/\1/p')
check wrong_pin_exits_4_saying_the_attempts_left \
    sh -c "[ $RC -eq 4 ] && [ '$LEFT' = 7 ] &&
    grep -q 'wrong PIN; 7 attempts left' $T/err && grep -q '(HTTP 403 pin)' $T/err"
echo 000000 | CTL approvers enroll --name officer-dan --group \
    security_officer --device "softfido:$T/dan.sock" >/dev/null 2>"$T/err"
check enrol_with_a_wrong_pin_exits_4 [ $? -eq 4 ]
key_ctl ann button never
rc sh -c "echo $PIN | $BUILD/tapgatectl -s $T/api.sock approve $ID \
    --device softfido:$T/ann.sock"
check key_not_touched_exits_3 \
    sh -c "[ $RC -eq 3 ] && grep -q 'not touched in time' $T/err &&
    ! grep -q 'cannot reach' $T/err"
check approve_counts_down_the_daemons_touch_window \
    err_has 'touch your security key (within 3 s)'
key_ctl ann button auto
rc sh -c "echo $PIN | $BUILD/tapgatectl -s $T/api.sock approve $ID \
    --device softfido:$T/nokey.sock"
check absent_key_exits_3_naming_the_device \
    sh -c "[ $RC -eq 3 ] && grep -q 'no security key answers at softfido:$T/nokey.sock' $T/err"
rc sh -c "echo $PIN | $BUILD/tapgatectl -s $T/api.sock approve $ID \
    --device /dev/not-a-key"
check malformed_device_name_exits_2 [ "$RC" -eq 2 ]
rc sh -c "echo $PIN | $BUILD/tapgatectl -s $T/api.sock approve $ID \
    --device softfido:$T/ian.sock"
check refusal_speaks_words_not_codes \
    sh -c "[ $RC -eq 1 ] && grep -q 'the policy needs no more approvals from your group' $T/err &&
    ! grep -q 'duties: group_not_needed' $T/err &&
    grep -q '(HTTP 403 group_not_needed)' $T/err"
rc sh -c "echo $PIN | $BUILD/tapgatectl -s $T/api.sock approve $ID \
    --device softfido:$T/ann.sock"
check approve_by_a_counted_officer_exits_0 [ "$RC" -eq 0 ]
rc CTL requests show "$ID"
check show_says_who_approved_and_when \
    grep -q "^approved  by officer-ann (security_officer) at $ISO, PIN verified\$" "$T/out"
rc CTL requests deny "$(printf '%.10s' "$MR")" --reason "test: not needed"
check deny_takes_a_prefix \
    sh -c "[ $RC -eq 0 ] && grep -q '^$MR: denied\$' $T/out"
rc CTL keys rotate
check rotation_tells_the_time_in_iso_8601 \
    sh -c "[ $RC -eq 0 ] && grep -q 'stays published until $ISO\$' $T/out"

# ---- exit 5: an anchor the log lacks (the copy from before it)
CK=0
while [ $CK -lt 50 ]; do
	api GET /v1/audit/verify
	[ "$(jbody .checkpoint.seq)" = "$(jbody .head_seq)" ] && break
	sleep 0.1
	CK=$((CK + 1))
done
CTL audit checkpoint -o "$T/cp.json" 2>/dev/null
CTL keys --all -o "$T/all.json"
mkdir -m 700 "$T/early"
cp "$T/early.db" "$T/early/tapgate.db"
rc "$BUILD/tapgatectl" audit verify --state-dir "$T/early" --jwks \
    "$T/all.json" --anchor "$T/cp.json"
check anchor_the_log_lacks_exits_5 \
    sh -c "[ $RC -eq 5 ] && grep -q '^anchor NOT HELD' $T/out"

# ---- sockets: which one, and why not
rc "$BUILD/tapgatectl" -s "$T/nosuch.sock" requests list
check missing_socket_is_named_as_missing \
    sh -c "[ $RC -eq 1 ] && grep -q 'no socket at $T/nosuch.sock: is tapgated running' $T/err"
: >"$T/plain"
rc "$BUILD/tapgatectl" -s "$T/plain" requests list
check plain_file_is_named_as_no_socket \
    sh -c "[ $RC -eq 1 ] && grep -q '$T/plain is a regular file, not a socket' $T/err"
rc "$BUILD/tapgatectl" -s "$T/ann.sock" requests list
check socket_of_another_type_is_not_tapgateds \
    sh -c "[ $RC -eq 1 ] && grep -q '$T/ann.sock is a socket of another type' $T/err"
# a stream socket that speaks another protocol: a banner, then it closes
if command -v python3 >/dev/null 2>&1; then
	python3 - "$T/foreign.sock" <<'EOPY' 2>>"$T/foreign.log" &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
c.recv(4096)
c.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")
c.close()
EOPY
	FOREIGN=$!
	i=0
	while [ ! -S "$T/foreign.sock" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	rc "$BUILD/tapgatectl" -s "$T/foreign.sock" requests list
	check foreign_stream_socket_is_not_tapgateds \
	    sh -c "[ $RC -eq 1 ] && grep -q '$T/foreign.sock is not tapgated.s socket' $T/err"
	kill "$FOREIGN" 2>/dev/null; wait "$FOREIGN" 2>/dev/null
else
	echo "ok foreign_stream_socket_is_not_tapgateds # SKIP no python3 to listen"
fi
chmod 0660 "$T/api.sock"
if setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/tapgatectl" \
    --help >/dev/null 2>&1; then
	rc setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$BUILD/tapgatectl" -s "$T/api.sock" requests list
	check closed_socket_says_which_group_may_connect \
	    sh -c "[ $RC -eq 1 ] && grep -q 'Permission denied' $T/err &&
	    grep -q 'run tapgatectl as a member of group root' $T/err"
else
	echo "ok closed_socket_says_which_group_may_connect # SKIP cannot run as uid 65534"
fi
chmod 0666 "$T/api.sock"
# a daemon killed without cleaning up leaves its socket behind
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
rc "$BUILD/tapgatectl" -s "$T/api.sock" requests list
check socket_left_behind_says_nothing_listens \
    sh -c "[ $RC -eq 1 ] && grep -q 'nothing listens on $T/api.sock' $T/err"

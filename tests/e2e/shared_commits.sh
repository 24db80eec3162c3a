#!/bin/sh
# SPDX-License-Identifier: ISC
# Submissions that arrive together commit together (one sync of the log
# for all of them) and each still gets exactly what it got alone: its own
# request, its own audit entries next to each other in the chain, the
# first answer again for a retry with the same Idempotency-Key (inside
# one shared commit and across them), a conflict for the same key with
# another body; and when the shared commit cannot be written (a full
# disk), every submission in it fails and none is stored.
#
# To make submissions share a commit for certain, a third connection to
# the database holds its write lock (python3's sqlite3) while they come
# in: the first one waits for the lock as the one committing and the
# others line up behind it; the monitor's threads show when they are all
# in (/proc/PID/task/*/syscall).  The full disk is a small tmpfs mounted
# over the state directory in a private mount namespace (root), so that
# nothing outlives the test; where none can be made, those checks skip.
set -u
if [ "${1:-}" != --in-namespace ]; then
	if unshare -m --propagation private true 2>/dev/null; then
		exec unshare -m --propagation private sh "$0" --in-namespace
	fi
fi
. tests/e2e/lib/daemon.sh
OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
DB=$T/state/tapgate.db
FULL=
if [ "${1:-}" = --in-namespace ] && mkdir -m 0700 "$T/state" &&
    mount -t tmpfs -o size=16m,mode=0700 tapgate-test "$T/state" &&
    grep -q " $T/state tmpfs " /proc/self/mounts; then
	FULL=1
fi

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

# ---- helpers

LOCK_PID=
trap 'lock_release; daemon_stop; umount "$T/state" 2>/dev/null;
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
# lock_take: a third connection holds the database's write lock
lock_take() {
	rm -f "$T/locked" "$T/release"
	mkfifo "$T/release"
	python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
sys.stdin.read()
c.execute("ROLLBACK")
' "$DB" "$T/locked" <"$T/release" &
	LOCK_PID=$!
	exec 7>"$T/release"
	wait_for 10 [ -e "$T/locked" ]
}
lock_release() {
	[ -n "$LOCK_PID" ] || return 0
	exec 7>&-
	wait "$LOCK_PID"
	LOCK_PID=
}

# in_monitor: the requests the monitor's channel threads hold now (a
# thread not waiting to read the next one from the front; the main
# thread, which runs the timer, is not one of them)
in_monitor() {
	im_n=0
	for im_s in /proc/"$DAEMON_PID"/task/*/syscall; do
		[ "$im_s" = "/proc/$DAEMON_PID/task/$DAEMON_PID/syscall" ] &&
		    continue
		read -r im_nr _ <"$im_s" 2>/dev/null || continue
		[ "$im_nr" = 45 ] || im_n=$((im_n + 1))	# recvfrom
	done
	echo "$im_n"
}
# lined_up N: wait until N requests are in (where /proc shows it: on
# x86_64, an idle channel thread sits in recvfrom, number 45)
OBSERVE=
if [ "$(uname -m)" = x86_64 ] && [ "$(in_monitor)" = 0 ]; then
	OBSERVE=1
fi
in_at_least() { [ "$(in_monitor)" -ge "$1" ]; }
lined_up() {
	[ -n "$OBSERVE" ] || return 0
	wait_for 4 in_at_least "$1" ||
	    echo "# only $(in_monitor) of $1 requests reached the monitor"
}

# submit_bg NAME KEY ACCOUNT: POST the body made for ACCOUNT (bodies)
# in the background; status in $T/NAME.st (without the lock's fifo,
# which would keep the lock held)
submit_bg() {
	curl -s -o "$T/$1.out" -w '%{http_code}' --max-time 60 \
	    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
	    ${2:+-H "Idempotency-Key: $2"} --data-binary "@$T/body.$3" \
	    http://tapgated/v1/requests >"$T/$1.st" 7>&- &
	BG="$BG $!"
}
BG=
wait_bg() {
	for p in $BG; do wait_exit "$p" 60; done
	BG=
}
body() { req password_reset "$1" "" hd-bob phone "[$OOB]"; }
# bodies ACCOUNT...: make the bodies beforehand, so that the third
# connection holds the lock for a short while only (well within the
# daemon's wait for it, 5 s)
bodies() { for b in "$@"; do body "$b" >"$T/body.$b"; done; }
st() { cat "$T/$1.st"; }
id_of() { jq -r .id "$T/$1.out" 2>/dev/null; }

# sql QUERY: on the database as it is now (the daemon keeps running)
sql() { sqlite3 -cmd '.timeout 10000' "$DB" "$1"; }

api POST /v1/requests "$(body warm-up)"
check a_submission_alone_is_acknowledged [ "$STATUS" = 201 ]

# ---- a full disk: the shared commit fails, and every member with it

if [ -z "$FULL" ]; then
	skip every_submission_of_a_commit_that_fails_is_refused \
	    "no private mount namespace and tmpfs here (needs root)"
	skip no_submission_of_a_failed_commit_is_stored "as above"
else
	bodies full-1 full-2 full-3 full-4
	lock_take || notok third_connection_holds_the_write_lock
	BG=
	for i in 1 2 3 4; do
		submit_bg "full$i" "" "full-$i"
		lined_up "$i"
	done
	# the control: the disk takes nothing more
	dd if=/dev/zero of="$T/state/filler" bs=64k >/dev/null 2>&1
	if printf x >>"$T/state/filler" 2>/dev/null; then
		notok the_tmpfs_fills_up "a write after dd still fit"
	fi
	lock_release
	wait_bg
	refused=0
	for i in 1 2 3 4; do
		case $(st "full$i") in 5??) refused=$((refused + 1)) ;; esac
	done
	check every_submission_of_a_commit_that_fails_is_refused \
	    [ "$refused" = 4 ]
	rm -f "$T/state/filler"
	check no_submission_of_a_failed_commit_is_stored [ \
	    "$(sql "SELECT count(*) FROM requests WHERE target_account
	    LIKE 'full-%'")" = 0 ]
	api POST /v1/requests "$(body after-full)"
	check submissions_are_acknowledged_again_with_space_back \
	    [ "$STATUS" = 201 ]
fi

# ---- many at once

N=12
bodies plug-1 plug-2 plug-3 same-1 diff-1 diff-2 diff-3
i=1
while [ $i -le $N ]; do bodies "many-$i"; i=$((i + 1)); done
lock_take || notok third_connection_holds_the_write_lock
BG=
submit_bg plug "" plug-1
lined_up 1
i=1
while [ $i -le $N ]; do
	submit_bg "c$i" "c-$i" "many-$i"
	i=$((i + 1))
done
lined_up 4
lock_release
wait_bg
acked=0
: >"$T/ids"
i=1
while [ $i -le $N ]; do
	[ "$(st "c$i")" = 201 ] && acked=$((acked + 1)) && id_of "c$i" >>"$T/ids"
	i=$((i + 1))
done
check concurrent_submissions_are_all_acknowledged [ "$acked" = $N ]
check each_gets_a_request_of_its_own \
    [ "$(sort -u "$T/ids" | grep -c .)" = $N ]
stored=0
while read -r id; do
	[ "$(sql "SELECT count(*) FROM requests WHERE id = '$id'")" = 1 ] &&
	    [ "$(sql "SELECT count(*) FROM audit WHERE request_id = '$id'
	    AND event = 'request.submitted'")" = 1 ] && stored=$((stored + 1))
done <"$T/ids"
check each_is_stored_with_its_audit_entry [ "$stored" = $N ]
# a request's entries (submitted, hold started) follow each other
sql "SELECT request_id FROM audit WHERE event IN ('request.submitted',
    'request.hold_started') ORDER BY seq" | uniq | sort | uniq -d >"$T/split"
check each_requests_audit_entries_are_not_interleaved [ ! -s "$T/split" ]

# ---- the same Idempotency-Key, inside one shared commit

lock_take || notok third_connection_holds_the_write_lock
BG=
submit_bg plug2 "" plug-2
lined_up 1
for i in 1 2 3; do submit_bg "same$i" same-key same-1; done
lined_up 4
lock_release
wait_bg
FIRST=$(id_of same1)
check retries_in_one_commit_all_get_201 [ "$(st same1)$(st same2)$(st same3)" \
    = 201201201 ]
check retries_in_one_commit_get_the_first_answer [ -n "$FIRST" -a \
    "$(id_of same2)" = "$FIRST" -a "$(id_of same3)" = "$FIRST" ]
check retries_in_one_commit_store_one_request [ "$(sql "SELECT count(*)
    FROM requests WHERE idem_key LIKE '%:same-key'")" = 1 ]
api POST /v1/requests "$(cat "$T/body.same-1")" \
    -H 'Idempotency-Key: same-key'
check a_later_retry_gets_the_first_answer \
    [ "$STATUS" = 201 -a "$(jbody .id)" = "$FIRST" ]

# ---- one key, other bodies, inside one shared commit

lock_take || notok third_connection_holds_the_write_lock
BG=
submit_bg plug3 "" plug-3
lined_up 1
for i in 1 2 3; do submit_bg "diff$i" diff-key "diff-$i"; done
lined_up 4
lock_release
wait_bg
won=0 conflict=0
for i in 1 2 3; do
	case $(st "diff$i") in
	201) won=$((won + 1)) ;;
	409) [ "$(jq -r .error.code "$T/diff$i.out")" = \
	    idempotency_key_reused ] && conflict=$((conflict + 1)) ;;
	esac
done
check one_key_with_other_bodies_one_wins_the_others_conflict \
    [ "$won" = 1 -a "$conflict" = 2 ]

# ---- the chain

"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >"$T/verify" 2>&1
check audit_chain_verifies_after_shared_commits \
    grep -q '^audit chain OK' "$T/verify"
daemon_stop

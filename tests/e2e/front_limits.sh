#!/bin/sh
# SPDX-License-Identifier: ISC
# No local caller can stop or stall the daemon (issue 9), seen from the
# attacker's side, an unprivileged uid:
#  - requests that shape the front's heap (a chunked POST of 60 KiB in
#    4 KiB chunks made free() open /proc/sys/vm/overcommit_memory, which
#    the front's filter kills): the daemon, front and monitor, stays the
#    same process and the audit chain stays intact;
#  - a uid with no passwd entry (the monitor's getpwuid() went through
#    nss_systemd to a call its filter kills): answered;
#  - 480 connections trickling a header line every second, from one uid
#    and from six: they get their share and are cut at the request
#    deadline, while root, an officer by uid and one by gid are served;
#  - the socket the daemon binds itself is 0660.
# glibc's heap trim only happens with glibc's allocator, which ASan
# replaces: the heap attacks also run on the plain build's daemon
# ($OPT_BUILD, made by make check-opt) when there is one.
. tests/e2e/lib/daemon.sh

OPT_BUILD=${OPT_BUILD:-build}
PY=/usr/bin/python3	# a uid without a home has no pyenv shims
DEADLINE_S=10		# HTTP_REQUEST_DEADLINE_MS
PER_UID=32		# HTTP_CONNS_PER_UID

is_asan() { nm "$1/tapgated" 2>/dev/null | grep -q ' __asan_init$'; }
as() {	# uid [gid] -- command...: run command as uid (primary gid)
	u=$1; g=$1; shift
	[ "$1" != -- ] && { g=$1; shift; }
	shift
	setpriv --reuid="$u" --regid="$g" --clear-groups "$@"
}
front_of() { pgrep -P "$1" -f -- '--front-process' | head -n 1; }
jq_true() { jqtrue "$@"; }

# officers by uid and by gid; intake callers with and without a passwd
# entry (uid 1 is "daemon" on Debian)
make_config "$T/tapgate.conf" \
    's/^(    \{ uid = 0; roles = .*\})$/\1,\n    { uid = 2001; roles = ["officer"]; },\n    { gid = 2002; roles = ["officer"]; },\n    { uid = 54320; roles = ["intake"]; },\n    { uid = 1; roles = ["intake"]; }/' \
    's/^(principals = \()$/\1\n    { uid = 54320; name = "intake-54320"; team = "helpdesk"; integration = true; agents = ["hd-bob"]; },\n    { uid = 1; name = "intake-1"; team = "helpdesk"; integration = true; agents = ["hd-bob"]; },/'
grep -q 'gid = 2002' "$T/tapgate.conf" || { notok config_has_the_test_roles; exit 1; }

if [ ! -x "$PY" ]; then
	echo "ok front_limits # SKIP no $PY for the attacking clients"
	exit 0
fi

# The attacking client: exact chunking, keep-alive series, trickling.
cat >"$T/client.py" <<'EOF'
import json, select, signal, socket, sys, time

def answer(s):
    """One HTTP answer on s: its status (0: closed first)."""
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            return 0
        data += d
    head, body = data.split(b"\r\n\r\n", 1)
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return int(head.split(b" ")[1])

def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    return s

def chunked(path, total, chunk):
    s = connect(path)
    s.sendall(b"POST /v1/requests HTTP/1.1\r\nHost: t\r\n"
              b"Content-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    left = total
    while left > 0:
        n = min(chunk, left)
        s.sendall(b"%x\r\n" % n + b"a" * n + b"\r\n")
        left -= n
    s.sendall(b"0\r\n\r\n")
    st = answer(s)
    s.close()
    return st

def series(path, n, size):
    """n POSTs of size bytes on one keep-alive connection."""
    s = connect(path)
    out = []
    for _ in range(n):
        s.sendall(b"POST /v1/requests HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % size + b"b" * size)
        out.append(answer(s))
    s.close()
    return out

class Budget(Exception):
    pass

def budget_over(sig, frame):
    raise Budget()

def trickle(path, n, interval, duration):
    conns = []
    t0 = time.monotonic()
    # connect() waits while the listen backlog is full (a timeout would
    # make it fail at once): a daemon that accepts nothing more must not
    # hold us past the budget
    signal.signal(signal.SIGALRM, budget_over)
    signal.setitimer(signal.ITIMER_REAL, 8)
    try:
        for i in range(n):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
            except OSError:
                conns.append("connfail")
                s.close()
                continue
            try:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
            except OSError:
                # shut down before our first byte: refused
                conns.append("refused")
                s.close()
                continue
            s.setblocking(False)
            conns.append(s)
    except Budget:
        conns += ["connfail"] * (n - len(conns))
    signal.setitimer(signal.ITIMER_REAL, 0)
    print("ready", flush=True)
    state = {}
    k = 0
    last = time.monotonic()
    while time.monotonic() - t0 < duration:
        live = [c for c in conns if not isinstance(c, str)]
        if not live:
            break
        r, _, _ = select.select(live, [], [], 0.2)
        for c in r:
            try:
                d = c.recv(4096)
            except OSError:
                d = b""
            i = conns.index(c)
            conns[i] = "refused" if d.startswith(b"HTTP/1.1 503") else \
                "answered" if d else "closed"
            c.close()
        if time.monotonic() - last >= interval:
            last = time.monotonic()
            k += 1
            for c in conns:
                if not isinstance(c, str):
                    try:
                        c.sendall(b"X-Trickle-%d: 1\r\n" % k)
                    except OSError:
                        pass
    for c in conns:
        key = c if isinstance(c, str) else "open"
        state[key] = state.get(key, 0) + 1
    print(json.dumps(state), flush=True)

mode, path = sys.argv[1], sys.argv[2]
a = [int(x) if x.isdigit() else float(x) for x in sys.argv[3:]]
if mode == "chunked":
    print(" ".join(str(chunked(path, a[0], a[1])) for _ in range(a[2])))
elif mode == "series":
    print(" ".join(sorted(set(str(x) for x in series(path, a[0], a[1])))))
elif mode == "trickle":
    trickle(path, a[0], a[1], a[2])
EOF
chmod 644 "$T/client.py"
client() { as "$@"; }

still_serving() {	# label: the same daemon and front, serving, chain intact
	check "$1"_daemon_is_the_same_process kill -0 "$DAEMON_PID"
	check "$1"_front_is_the_same_process \
	    [ "$(front_of "$DAEMON_PID")" = "$FP" ]
	api GET /healthz
	check "$1"_healthz_answers [ "$STATUS" = 200 ]
	"$BUILD/tapgatectl" -s "$T/api.sock" audit verify >"$T/verify.out" 2>&1
	check "$1"_audit_chain_is_intact [ $? = 0 ]
	check "$1"_nothing_was_killed sh -c \
	    "! grep -q 'killed by signal' '$T/daemon.log'"
}

# ---- heap-shaping requests from a uid without a role
heap_attacks() {	# label
	l=$1
	r=$(client 65534 -- "$PY" "$T/client.py" chunked "$T/api.sock" 61440 4096 1)
	check "$l"_chunked_60k_post_in_4k_chunks_is_refused [ "$r" = 403 ]
	r=$(client 65534 -- "$PY" "$T/client.py" chunked "$T/api.sock" 71680 71680 1)
	check "$l"_one_70k_chunk_gets_413 [ "$r" = 413 ]
	r=$(client 65534 -- "$PY" "$T/client.py" series "$T/api.sock" 1 65536)
	check "$l"_one_64k_body_is_refused [ "$r" = 403 ]
	r=$(client 65534 -- "$PY" "$T/client.py" series "$T/api.sock" 300 16)
	check "$l"_300_small_posts_on_one_connection_are_refused [ "$r" = 403 ]
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		client 65534 -- "$PY" "$T/client.py" chunked "$T/api.sock" 61440 4096 3 \
		    >"$T/conc.$i" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	check "$l"_concurrent_chunked_posts_are_refused sh -c \
	    "[ \"\$(cat $T/conc.* | tr ' ' '\n' | sort -u)\" = 403 ]"
	still_serving "$l"
}

daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
FP=$(front_of "$DAEMON_PID")
heap_attacks heap
daemon_stop
if is_asan "$BUILD" && [ "$OPT_BUILD" != "$BUILD" ] &&
    [ -x "$OPT_BUILD/tapgated" ] && ! is_asan "$OPT_BUILD"; then
	SAN_BUILD=$BUILD
	BUILD=$OPT_BUILD
	daemon_start "$T/tapgate.conf" || { notok plain_daemon_starts; exit 1; }
	BUILD=$SAN_BUILD
	FP=$(front_of "$DAEMON_PID")
	heap_attacks heap_plain_build
	daemon_stop
elif is_asan "$BUILD"; then
	echo "ok heap_plain_build # SKIP ASan stands in for glibc's malloc and" \
	    "$OPT_BUILD/tapgated is not a plain build (make check-opt)"
fi

# ---- callers without a passwd entry, with and without a role
daemon_start "$T/tapgate.conf" || { notok daemon_restarts; exit 1; }
FP=$(front_of "$DAEMON_PID")
check uid_54321_has_no_passwd_entry sh -c '! getent passwd 54321 >/dev/null'
STATUS=$(client 54321 -- curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" http://tapgated/healthz)
check caller_without_passwd_entry_gets_healthz [ "$STATUS" = 200 ]
STATUS=$(client 54321 -- curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" http://tapgated/v1/requests)
check caller_without_passwd_entry_or_role_gets_403 [ "$STATUS" = 403 ]
BODY=$(req password_reset alice "" hd-bob phone \
    "[$(ev out_of_band_callback pass hd-bob email cb-1)]")
STATUS=$(client 54320 -- curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
    --data-binary "$BODY" http://tapgated/v1/requests)
check intake_without_passwd_entry_submits [ "$STATUS" = 201 ]
STATUS=$(client 1 -- curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" -H 'Content-Type: application/json' \
    --data-binary "$BODY" http://tapgated/v1/requests)
check intake_with_passwd_entry_submits [ "$STATUS" = 201 ]
api GET '/v1/audit?limit=20'
check audit_names_a_caller_without_entry_by_uid jq_true \
    '[.entries[] | select(.actor_uid == 54320)] | length >= 1 and
    all(.actor_name == "uid:54320")' "$T/body"
NAME1=$(awk -F: '$3 == 1 { print $1; exit }' /etc/passwd)
if [ -n "$NAME1" ]; then
	# shellcheck disable=SC2016 # $n is a jq variable
	check audit_names_a_caller_by_its_passwd_entry jq_true --arg n \
	    "$NAME1" '[.entries[] | select(.actor_uid == 1)] | length >= 1 and
	    all(.actor_name == $n)' "$T/body"
else
	echo "ok audit_names_a_caller_by_its_passwd_entry # SKIP no uid 1 in" \
	    "/etc/passwd"
fi
still_serving unknown_uids

# ---- 480 trickling connections: 300 from one uid, 30 each from six
: >"$T/flood.list"
client 65534 -- "$PY" "$T/client.py" trickle "$T/api.sock" 300 1 $((DEADLINE_S + 6)) \
    >"$T/flood.65534" &
echo $! >>"$T/flood.list"
for u in 70001 70002 70003 70004 70005 70006; do
	client $u -- "$PY" "$T/client.py" trickle "$T/api.sock" 30 1 $((DEADLINE_S + 6)) \
	    >"$T/flood.$u" &
	echo $! >>"$T/flood.list"
done
i=0
while [ "$(cat "$T"/flood.* 2>/dev/null | grep -c '^ready$')" -lt 7 ] &&
    [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
check trickling_clients_are_connected \
    [ "$(cat "$T"/flood.* | grep -c '^ready$')" = 7 ]
# the unprivileged share is taken: a new unprivileged uid is turned away
unprivileged_refused() {
	st=$(client 65533 -- curl -s -m 5 -o /dev/null -w '%{http_code}' \
	    --unix-socket "$T/api.sock" http://tapgated/healthz)
	[ "$st" != 200 ]
}
i=0
while ! unprivileged_refused && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check unprivileged_caller_is_refused_when_its_share_is_taken \
    unprivileged_refused
STATUS=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" http://tapgated/healthz)
check root_healthz_answers_under_the_flood [ "$STATUS" = 200 ]
STATUS=$(client 2001 -- curl -s -m 5 -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" http://tapgated/v1/requests)
check officer_by_uid_is_served_under_the_flood [ "$STATUS" = 200 ]
STATUS=$(client 3003 2002 -- curl -s -m 5 -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" http://tapgated/v1/requests)
check officer_by_gid_is_served_under_the_flood [ "$STATUS" = 200 ]
# the clients end by themselves (DEADLINE_S + 6 s), or are ended
end=$(($(date +%s) + DEADLINE_S + 12))
while read -r p; do
	while kill -0 "$p" 2>/dev/null && [ "$(date +%s)" -lt $end ]; do
		sleep 0.1
	done
	kill "$p" 2>/dev/null
	wait "$p"
done <"$T/flood.list"
fl() { sed -n '$p' "$T/flood.$1" | jq -r "$2"; }
check one_uid_holds_at_most_its_share \
    [ "$(fl 65534 '(.closed // 0) + (.open // 0) + (.answered // 0)')" \
    -le $PER_UID ]
check connections_over_the_share_get_503 \
    [ "$(fl 65534 '.refused // 0')" -ge $((300 - PER_UID)) ]
for u in 65534 70001 70002 70003 70004 70005 70006; do
	echo "# uid $u: $(sed -n '$p' "$T/flood.$u")"
done
check trickling_connections_are_cut_at_the_deadline sh -c \
    "for u in 65534 70001 70002 70003 70004 70005 70006; do
	[ \"\$(sed -n '\$p' $T/flood.\$u | jq '(.open // 0) +
	    (.answered // 0) + (.connfail // 0)')\" = 0 ] || exit 1
	[ \"\$(sed -n '\$p' $T/flood.\$u | jq '.closed // 0')\" -ge 1 ] ||
	    exit 1
    done"
still_serving flood
daemon_stop

# ---- the socket the daemon binds itself: 0660 unless told otherwise
"$BUILD/tapgated" -c "$T/tapgate.conf" --state-dir "$T/state" \
    --socket "$T/own.sock" 2>>"$T/daemon.log" &
DAEMON_PID=$!
i=0
while ! curl -s --unix-socket "$T/own.sock" http://tapgated/healthz \
    >/dev/null 2>&1 && kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
check self_bound_socket_is_0660 [ "$(stat -c %a "$T/own.sock")" = 660 ]
check root_connects_to_the_0660_socket curl -s -o /dev/null \
    --unix-socket "$T/own.sock" http://tapgated/healthz
client 65534 -- curl -s -o /dev/null --unix-socket "$T/own.sock" \
    http://tapgated/healthz
check other_uid_cannot_connect_to_the_0660_socket [ $? = 7 ]
daemon_stop
daemon_start "$T/tapgate.conf" --socket-mode 0666 ||
    { notok daemon_starts_with_socket_mode; exit 1; }
check socket_mode_option_sets_the_mode \
    [ "$(stat -c %a "$T/api.sock")" = 666 ]
STATUS=$(client 65534 -- curl -s -o /dev/null -w '%{http_code}' \
    --unix-socket "$T/api.sock" http://tapgated/healthz)
check other_uid_connects_to_a_0666_socket [ "$STATUS" = 200 ]
daemon_stop
"$BUILD/tapgated" -c "$T/tapgate.conf" --state-dir "$T/state" \
    --socket "$T/bad.sock" --socket-mode 0777 2>"$T/mode.err"
check socket_mode_with_execute_bits_is_refused \
    sh -c "[ $? = 2 ] && grep -q 'socket-mode' '$T/mode.err'"
check sanitizers_found_nothing sh -c "! grep -q Sanitizer '$T/daemon.log'"

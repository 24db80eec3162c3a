# SPDX-License-Identifier: ISC
# shellcheck shell=sh
# Officers' security keys for the approval tests: softfido processes with a
# PIN set, enrolled in tapgated.  Source after tests/e2e/lib/daemon.sh.

KEYS=
# key_start NAME [softfido args]: a software key at $T/NAME.sock, PIN set;
# a key that does not come up (10 s) or take its PIN is reported as
# "not ok key_NAME_starts_with_a_pin" and returns 1
key_start() {
	n=$1; shift
	"$BUILD/softfido" --socket "$T/$n.sock" --state "$T/$n.state" "$@" \
	    2>>"$T/$n.log" &
	KEYS="$KEYS $!"
	if ! wait_for 10 "$BUILD/softfido" --ctl "$T/$n.sock.ctl" status \
	    >/dev/null 2>&1 ||
	    ! echo "$PIN" | "$BUILD/tapgatectl" token set-pin \
	    "softfido:$T/$n.sock" >/dev/null 2>>"$T/$n.log"; then
		notok "key_${n}_starts_with_a_pin" "$(tail -n 3 "$T/$n.log")"
		return 1
	fi
}
keys_stop() {
	for p in $KEYS; do
		kill "$p" 2>/dev/null
		wait_exit "$p" 10
	done
	KEYS=
}
key_ctl() { n=$1; shift; "$BUILD/softfido" --ctl "$T/$n.sock.ctl" "$@" >/dev/null; }
trap 'daemon_stop; keys_stop; cp "$T/daemon.log" /tmp/last-daemon.log 2>/dev/null; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
PIN=739251

CTL() { "$BUILD/tapgatectl" -s "$T/api.sock" "$@"; }
# enroll NAME GROUP KEY: exit status of tapgatectl approvers enroll, its
# messages in $T/enrol.err (and added to $T/ctl.err)
enroll() {
	echo "$PIN" | CTL approvers enroll --name "$1" --group "$2" \
	    --device "softfido:$T/$3.sock" >/dev/null 2>"$T/enrol.err"
	en_rc=$?
	cat "$T/enrol.err" >>"$T/ctl.err"
	return $en_rc
}
# approve ID KEY [PIN]: exit status of tapgatectl approve
approve() { echo "${3:-$PIN}" | CTL approve "$1" --device \
    "softfido:$T/$2.sock" >"$T/approve.out" 2>"$T/approve.err"; }
approve_code() { sed -n 's/.*(HTTP [0-9]* \([a-z_]*\)).*/\1/p' "$T/approve.err" | head -n 1; }
# refusal FILE: "STATUS code" of the API refusal tapgatectl reported in
# FILE ("(HTTP 409 already_enrolled)" gives "409 already_enrolled")
refusal() { sed -n 's/.*(HTTP \([0-9]*\) \([a-z_]*\)).*/\1 \2/p' "$1" | head -n 1; }

OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
PRF=$(ev pre_registered_factor pass hd-bob push push-1)
IDD=$(ev identity_document pass hd-carol video id-1)
# an admin password reset with all the evidence the default policy wants:
# prints its id; a refused submission prints nothing and is reported
# (on stderr, which tests/run.sh counts too: the caller's $(...) keeps
# stdout)
admin_reset() {	# account [agent]
	api POST /v1/requests "$(req password_reset "$1" admin "${2:-hd-bob}" phone "[$OOB,$PRF,$IDD]")"
	if [ "$STATUS" != 201 ]; then
		notok "admin_reset_of_$1_is_taken" "HTTP $STATUS" >&2
		return 1
	fi
	jbody .id
}

#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo: tapgate at work on this machine, with the software security key
# (softfido) in place of hardware and the daemon on its embedded defaults.
# Everything lives in build/demo/ and is stopped at the end.
set -eu
BUILD=${1:-build}
D=build/demo
rm -rf "$D"
mkdir -p "$D"
chmod 700 "$D"
CTL="$BUILD/tapgatectl -s $D/tapgate.sock"
KEY="softfido:$D/officer-key.sock"
PIN=482913
SF_PID= TG_PID=
cleanup() {
	[ -n "$TG_PID" ] && kill "$TG_PID" 2>/dev/null && wait "$TG_PID" 2>/dev/null
	[ -n "$SF_PID" ] && kill "$SF_PID" 2>/dev/null && wait "$SF_PID" 2>/dev/null
	return 0
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "an officer's security key: softfido, the software FIDO2 key (touch is automatic)"
"$BUILD/softfido" --socket "$D/officer-key.sock" --state "$D/officer-key.state" &
SF_PID=$!
$BUILD/tapgatectl token info "$KEY"

step "the officer sets the key's PIN (read from stdin here, from the terminal without echo at the box)"
echo "$PIN" | $BUILD/tapgatectl token set-pin "$KEY"

step "will this key work as an approver? enrolment with attestation check, then a verified assertion"
echo "$PIN" | $BUILD/tapgatectl token check "$KEY" --roots build/gen/softfido-ca.pem

step "tapgated on its embedded default policy (state and socket in $D)"
"$BUILD/tapgated" --state-dir "$PWD/$D/state" --socket "$PWD/$D/tapgate.sock" \
    2>"$D/tapgated.log" &
TG_PID=$!
i=0
until curl -s --unix-socket "$D/tapgate.sock" http://tapgated/healthz >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$D/tapgated.log"; exit 1; }
	sleep 0.05
done
cat "$D/tapgated.log"

step "the help desk submits a password reset for alice, claimed standard, after a phone call"
cat >"$D/request.json" <<'EOJ'
{"queue": "password_reset",
 "target": {"account": "adm-alice", "system": "ldap-corp", "class": "standard"},
 "requester": {"agent": "hd-bob", "channel": "phone", "ticket": "INC-1042"},
 "evidence": [{"type": "out_of_band_callback", "result": "pass",
               "verifier": "hd-bob", "channel": "email", "ref": "callback-7731"}],
 "risk": {"new_device": true},
 "changes": {"password": "reset", "notify_owner": true}}
EOJ
cat "$D/request.json"
curl -s --unix-socket "$D/tapgate.sock" -H 'Content-Type: application/json' \
    -H 'Idempotency-Key: INC-1042' --data-binary @"$D/request.json" \
    http://tapgated/v1/requests >"$D/answer.json"
jq . "$D/answer.json"
ID=$(jq -r .id "$D/answer.json")
echo "(adm-alice matches the admin pattern adm-*: the claim 'standard' cannot downgrade it)"

step "the officers' queue"
$CTL requests list

step "the request in detail: what the policy still needs"
$CTL requests show "$ID"

step "more evidence arrives: a pre-registered push factor and an ID check on video"
curl -s --unix-socket "$D/tapgate.sock" -H 'Content-Type: application/json' \
    --data-binary '{"evidence":[
      {"type":"pre_registered_factor","result":"pass","verifier":"hd-bob","channel":"push","ref":"push-19"},
      {"type":"identity_document","result":"pass","verifier":"hd-carol","channel":"video","ref":"id-5521"},
      {"type":"account_history","result":"pass","verifier":"hd-bob","channel":"chat","ref":"hist-2"}]}' \
    "http://tapgated/v1/requests/$ID/evidence" | jq .

step "the owner, told out of band, says it was not them: veto"
$CTL requests veto "$ID" --reason "owner reached on file number: did not call the help desk"

step "the audit log, and its hash chain"
$CTL audit tail -n 8 | cut -c1-150
$CTL audit verify
echo
echo "Demo state is in $D (database: $D/state/tapgate.db)."
echo "Next: officers approve admin recoveries with a touch of their key, and the"
echo "appliance co-signs the order downstream systems verify (in progress)."

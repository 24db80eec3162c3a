#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo: one help-desk recovery from request to verified co-signed
# order, on this machine, with software security keys (softfido) in place
# of the officers' hardware keys.  Everything lives in build/demo/; the
# order, the JWKS and the approvers export stay there for anyone to check
# with their own JOSE tools.
set -eu
BUILD=${1:-build}
D=build/demo
rm -rf "$D"
mkdir -p "$D"
chmod 700 "$D"
CTL="$BUILD/tapgatectl -s $D/tapgate.sock"
PIN_ANN=482913
PIN_BEN=615027
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	return 0
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
api() {	# METHOD PATH [BODY]
	if [ $# -gt 2 ]; then
		curl -s --unix-socket "$D/tapgate.sock" -X "$1" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "http://tapgated$2"
	else
		curl -s --unix-socket "$D/tapgate.sock" -X "$1" "http://tapgated$2"
	fi
}

step "two security officers' keys: softfido, the software FIDO2 key (touch is automatic)"
for k in ann ben; do
	"$BUILD/softfido" --socket "$D/$k.sock" --state "$D/$k.state" &
	PIDS="$PIDS $!"
done
$BUILD/tapgatectl token info "softfido:$D/ann.sock"
echo "$PIN_ANN" | $BUILD/tapgatectl token set-pin "softfido:$D/ann.sock"
echo "$PIN_BEN" | $BUILD/tapgatectl token set-pin "softfido:$D/ben.sock"

step "tapgated on the embedded default policy; only the waiting periods are cut to 5 s for the demo"
$BUILD/tapgated --print-default-config |
    sed -E 's/(extra_)?hold_seconds = [0-9]+;/\1hold_seconds = 5;/' >"$D/tapgate.conf"
"$BUILD/tapgated" -c "$D/tapgate.conf" --state-dir "$PWD/$D/state" \
    --socket "$PWD/$D/tapgate.sock" \
    --trust-roots "$PWD/build/gen/softfido-ca.pem" 2>"$D/tapgated.log" &
PIDS="$PIDS $!"
i=0
until api GET /healthz >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$D/tapgated.log"; exit 1; }
	sleep 0.05
done
sed 's/^/  /' "$D/tapgated.log"

step "the operator enrols the officers (makeCredential with touch and PIN, attestation checked)"
echo "$PIN_ANN" | $CTL approvers enroll --name officer-ann \
    --group security_officer --device "softfido:$D/ann.sock"
echo "$PIN_BEN" | $CTL approvers enroll --name officer-ben \
    --group security_officer --device "softfido:$D/ben.sock"
$CTL approvers list

step "the help desk submits a password reset for adm-alice, claimed 'standard', after a phone call"
cat >"$D/request.json" <<'EOJ'
{"queue": "password_reset",
 "target": {"account": "adm-alice", "system": "ldap-corp", "class": "standard"},
 "requester": {"agent": "hd-bob", "channel": "phone", "ticket": "INC-1042"},
 "evidence": [
   {"type": "out_of_band_callback", "result": "pass", "verifier": "hd-bob", "channel": "email", "ref": "callback-7731"},
   {"type": "pre_registered_factor", "result": "pass", "verifier": "hd-bob", "channel": "push", "ref": "push-19"},
   {"type": "identity_document", "result": "pass", "verifier": "hd-carol", "channel": "video", "ref": "id-5521"}],
 "changes": {"password": "reset", "force_change_at_logon": true}}
EOJ
api POST /v1/requests "$(cat "$D/request.json")" >"$D/answer.json"
jq . "$D/answer.json"
ID=$(jq -r .id "$D/answer.json")
echo "(adm-alice matches the admin pattern adm-*: a claim can never downgrade it)"
$CTL requests show "$ID"

step "officer-ann approves at the box: touch and PIN, bound to this exact change"
echo "$PIN_ANN" | $CTL approve "$ID" --device "softfido:$D/ann.sock"
step "officer-ben approves"
echo "$PIN_BEN" | $CTL approve "$ID" --device "softfido:$D/ben.sock"

step "the waiting period: the owner or any officer could still veto"
sleep 6
$CTL requests show "$ID" | sed -n '1,4p'

step "the appliance co-signed the order; downstream fetches it, the JWKS and the approvers export"
$CTL orders jws "$ID" >"$D/order.jws"
$CTL keys -o "$D/jwks.json"
$CTL approvers export -o "$D/approvers.json"
cut -c1-120 "$D/order.jws"; echo "   ..."

step "the directory verifies it offline with tapgate-verify before changing anything"
"$BUILD/tapgate-verify" --jwks "$D/jwks.json" --aud ldap-corp \
    --approvers "$D/approvers.json" --min-approvals 2 \
    --redeem-db "$D/redeemed.db" "$D/order.jws" | jq .
echo "and a replay of the same order:"
if "$BUILD/tapgate-verify" --jwks "$D/jwks.json" --aud ldap-corp \
    --approvers "$D/approvers.json" --redeem-db "$D/redeemed.db" \
    "$D/order.jws" >/dev/null; then
	echo "replay accepted: this must not happen" >&2
	exit 1
fi

step "the audit log and its hash chain"
$CTL audit tail -n 12 | cut -c1-110
$CTL audit verify
cat <<EOT

The co-signed order, the JWKS and the approvers export are in $D/:
  order.jws  jwks.json  approvers.json
Check the appliance signature with any JOSE library, e.g. python3-jwcrypto.
EOT

#!/bin/sh
# SPDX-License-Identifier: ISC
# Evidence an intake caller types is the caller's word: recorded as
# attested by the caller's principal (origin agent), whatever verifier the
# body names, which stays as a claim; a body cannot say where its
# evidence comes from; an agent's own typed word never counts on its own
# request; an admin recovery cannot get past needs_evidence on typed
# evidence under the shipped policy, and says so in words; and the order
# lists the evidence it rests on, with no ref, code or contact, which
# tapgate-verify accepts.
. tests/e2e/lib/daemon.sh

# the shipped minimum of appliance-verified evidence, kept; uid 65534 is
# hd-bob of the help desk, submitting as itself
TEST_VERIFIED=keep make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },\n\t{ uid = 2010; roles = ["officer"]; },/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
CTL() { "$BUILD/tapgatectl" -s "$T/api.sock" "$@"; }

OOB=$(ev out_of_band_callback pass hd-carl email cb-1)
PRF=$(ev pre_registered_factor pass hd-carl push p-1)
IDD=$(ev identity_document pass hd-carl video id-1)

# --- a body cannot claim the appliance checked its evidence
BAD='{"type":"out_of_band_callback","result":"pass","verifier":"tapgate",'
BAD=$BAD'"channel":"sms","ref":"x","origin":"appliance"}'
api POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$BAD]")"
check body_naming_an_origin_is_refused answered 422 \
    '.error.message | test("evidence\\[0\\]\\.origin: set by the appliance")'
api POST /v1/requests "$(req password_reset alice "" hd-bob phone "[$OOB]")"
check the_same_body_without_origin_is_taken [ "$STATUS" = 201 ]
STD=$(jbody .id)

# --- recorded as the principal's word, the body's verifier a claim
sqlite3 "$T/state/tapgate.db" "SELECT origin, verifier, evidence_json FROM
    evidence WHERE request_id = '$STD'" >"$T/ev.txt"
check typed_evidence_is_attested_by_the_callers_principal grep -q \
    '^agent|root|.*"claimed_verifier":"hd-carl".*"origin":"agent".*"verifier":"root"' \
    "$T/ev.txt"

# --- an agent's own word does not count on its own request
api_as 65534 POST /v1/requests \
    "$(req password_reset bob "" hd-bob phone "[$OOB]")"
check agent_submits_with_its_own_typed_check answered 201 \
    '.route == "manual_review"'
OWN=$(jbody .id)
api GET "/v1/requests/$OWN"
check agents_own_check_is_requester_verified answered 200 \
    '.decision.evidence.verdicts == ["requester_verified"]'
api POST "/v1/requests/$OWN/evidence" "{\"evidence\":[$OOB]}"
check integrations_word_counts_on_it answered 200 \
    '.route == "normal"'

# --- admin: typed evidence never reaches ready, and it says why
api POST /v1/requests \
    "$(req password_reset administrator "" hd-bob phone "[$OOB,$PRF,$IDD]")"
check admin_request_on_typed_evidence_needs_evidence answered 201 \
    '.state == "needs_evidence" and .class == "admin"'
ADM=$(jbody .id)
check missing_says_how_many_verified_kinds_it_has jqtrue \
    '[.missing[].text] | any(test("needs 2 appliance-verified kinds, has 0"))' \
    "$T/body"
api GET "/v1/requests/$ADM"
check decision_shows_verified_counts answered 200 \
    '.decision.evidence.verified == 0 and
    .decision.evidence.verified_types_required == 2'

# --- an officer without a principal attests under its own name
api_as 2010 POST "/v1/requests/$ADM/evidence" "{\"evidence\":[$PRF]}"
check officer_adds_typed_evidence [ "$STATUS" = 200 ]
# its name: the passwd entry's, else uid:N
OFFICER=$(getent passwd 2010 | cut -d: -f1)
check officers_typed_evidence_is_attested_by_its_name [ "$(sqlite3 \
    "$T/state/tapgate.db" "SELECT origin || '|' || verifier FROM evidence
    WHERE request_id = '$ADM' ORDER BY id DESC LIMIT 1")" = \
    "agent|${OFFICER:-uid:2010}" ]

# --- the order lists the evidence it rests on
check standard_request_gets_its_order \
    wait_for 15 status_is 200 GET "/v1/orders/$STD"
jq -r .jws "$T/body" >"$T/order.jws"
cut -d. -f2 "$T/order.jws" | tr '_-' '/+' | awk '{ n = length($0) % 4;
    if (n) $0 = $0 substr("===", 1, 4 - n); print }' | base64 -d \
    >"$T/payload.json"
check order_lists_the_evidence_it_rests_on jqtrue \
    '.change.evidence == [{"type":"out_of_band_callback","channel":"email",
    "origin":"agent","verified_by":"root"}]' "$T/payload.json"
check order_holds_no_ref_of_the_evidence sh -c \
    "! grep -q 'cb-1' '$T/payload.json'"
CTL keys -o "$T/jwks.json"
"$BUILD/tapgate-verify" --jwks "$T/jwks.json" --aud ldap-corp \
    "$T/order.jws" >"$T/verified.json" 2>"$T/verify.err"
check tapgate_verify_accepts_the_order_with_its_evidence sh -c \
    "[ $? -eq 0 ] && jq -e '.change.evidence[0].origin == \"agent\"' \
    '$T/verified.json' >/dev/null"

daemon_stop

#!/bin/sh
# SPDX-License-Identifier: ISC
# The manual route is a real process: it needs identity proofing an
# officer records (POST /v1/requests/ID/proofing: which document, seen in
# person or on video, a reference) before its approvals count; the item
# is of origin officer with the officer as verifier, and an officer who
# is the requester or the account is refused, as is a caller without the
# officer role.  recent_compromise, which forces the manual route, keeps
# the evidence the rule asks: the request's evidence still counts and
# its absence is still missing.
. tests/e2e/lib/daemon.sh

# the shipped manual route (identity proofing on); uid 65534 is hd-bob,
# intake only
TEST_VERIFIED=keep make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }

OOB=$(ev out_of_band_callback pass hd-carl email cb-1)
RISK=',"risk":{"recent_compromise":true}'
codes() { jq -r '[.missing[].code] | join(" ")' "$T/body"; }

# ---- recent_compromise: the manual route, the rule's evidence kept
api POST /v1/requests \
    "$(req password_reset alice "" hd-bob phone "[$OOB]" "$RISK")"
check compromised_request_takes_the_manual_route answered 201 \
    '.route == "manual_review" and .state == "needs_evidence"'
R=$(jbody .id)
check manual_route_asks_for_identity_proofing_first sh -c \
    "[ \"\$(jq -r '.missing[0].code' '$T/body')\" = \
    evidence:identity_proofing ]"
api GET "/v1/requests/$R"
check evidence_the_request_had_still_counts answered 200 \
    '.decision.evidence.counted == 1 and .decision.evidence.required == 1
    and .decision.evidence.verdicts == ["counted"]'
api POST /v1/requests "$(req password_reset bob "" hd-bob phone "[]" "$RISK")"
check compromise_does_not_waive_the_rules_evidence answered 201 \
    '[.missing[].code] | index("evidence:count:1") != null'

# ---- refused: not an officer, a bad body
api_as 65534 POST "/v1/requests/$R/proofing" \
    '{"document":"passport","seen":"in_person","reference":"P123"}'
check intake_caller_cannot_record_proofing [ "$STATUS" = 403 ]
api POST "/v1/requests/$R/proofing" \
    '{"document":"library_card","seen":"in_person","reference":"P123"}'
check unknown_document_is_refused answered 422 \
    '.error.message | startswith("document:")'
api POST "/v1/requests/$R/proofing" \
    '{"document":"passport","seen":"phone","reference":"P123"}'
check seen_must_be_live_or_video answered 422 \
    '.error.message | startswith("seen:")'
api POST "/v1/requests/$R/proofing" \
    "{\"document\":\"passport\",\"seen\":\"video\",\"reference\":\"$(printf '%065d' 0)\"}"
check over_long_reference_is_refused answered 422 \
    '.error.message | startswith("reference:")'
api POST "/v1/requests/$R/proofing" \
    '{"document":"passport","seen":"video","reference":"P1","verifier":"x"}'
check caller_cannot_name_the_verifier answered 422 \
    '.error.message | contains("verifier: unknown member")'

# ---- recorded by the officer
api POST "/v1/requests/$R/proofing" \
    '{"document":"passport","seen":"video","reference":"P1234567"}'
check proofing_moves_the_request_to_its_approvals answered 200 \
    '.state == "manual_review" and
    ([.missing[].code] | index("evidence:identity_proofing") == null)'
sqlite3 "$T/state/tapgate.db" "SELECT origin || '|' || verifier || '|' ||
    type || '|' || channel FROM evidence WHERE request_id = '$R' AND
    origin = 'officer'" >"$T/officer.txt"
check proofing_is_evidence_of_the_officer \
    [ "$(cat "$T/officer.txt")" = "officer|root|identity_document|video" ]
api GET "/v1/audit?request=$R&limit=100"
check proofing_is_audited answered 200 \
    '[.entries[] | select(.event == "request.proofing_recorded" and
    .details.officer == "root" and .details.document == "passport" and
    .details.seen == "video")] | length == 1'

# ---- an officer who is the requester, or the account
api POST /v1/requests \
    "$(req password_reset carol "" root phone "[$OOB]" "$RISK")"
R2=$(jbody .id)
api POST "/v1/requests/$R2/proofing" \
    '{"document":"passport","seen":"in_person","reference":"P9"}'
check requester_cannot_record_proofing answered 403 \
    '.error.code == "is_requester"'
api POST /v1/requests \
    "$(req password_reset root "" hd-bob phone "[$OOB]" "$RISK")"
R3=$(jbody .id)
api POST "/v1/requests/$R3/proofing" \
    '{"document":"passport","seen":"in_person","reference":"P9"}'
check account_holder_cannot_record_proofing answered 403 \
    '.error.code == "is_target"'

# ---- the console says who vouches for each item, and what happened
"$BUILD/tapgatectl" -s "$T/api.sock" requests show "$R" >"$T/show.txt"
check console_shows_the_officers_proofing grep -q \
    'identity_document .* by root (officer) over video ref passport: P1234567: counted' \
    "$T/show.txt"
check console_shows_the_agents_word grep -q \
    'out_of_band_callback .* by root (agent) over email' "$T/show.txt"
"$BUILD/tapgatectl" -s "$T/api.sock" requests history "$R" >"$T/hist.txt"
check history_says_who_recorded_the_proofing grep -q \
    'identity proofing recorded by root' "$T/hist.txt"

#!/bin/sh
# SPDX-License-Identifier: ISC
# A request's history: GET /v1/audit?request=ID serves the audit entries
# about that request alone, oldest first, a bounded page at a time; a
# malformed id, a parameter the route does not take or one given twice is
# refused, never ignored; intake reads the history of its own team's requests
# only; and tapgatectl requests history resolves an id prefix and prints
# it in words.
. tests/e2e/lib/daemon.sh

OOB=$(ev out_of_band_callback pass hd-bob email cb-1)
# uid 65534 is a help-desk agent (intake); 65533 holds no role
make_config "$T/tapgate.conf" \
    's/^(roles = \()$/\1\n\t{ uid = 65534; roles = ["intake"]; },/'
daemon_start "$T/tapgate.conf" || { notok daemon_starts; exit 1; }
CTL() { "$BUILD/tapgatectl" -s "$T/api.sock" "$@"; }

# one request of the agent's (it runs its hold out and gets its order)
# and one of root's, whose entries come between the first one's
api_as 65534 POST /v1/requests \
    "$(req password_reset alice "" hd-bob phone "[$OOB]")"
check agent_submits_a_request [ "$STATUS" = 201 ]
MINE=$(jbody .id)
# the agent's own word does not count on its own request: the
# integration (root) attests the check
api POST "/v1/requests/$MINE/evidence" "{\"evidence\":[$OOB]}"
check integration_attests_the_agents_check [ "$STATUS" = 200 ]
api POST /v1/requests "$(req password_reset bob "" hd-bob phone "[$OOB]")"
check root_submits_another_request [ "$STATUS" = 201 ]
OTHER=$(jbody .id)
check order_is_issued_for_the_agents_request \
    wait_for 15 status_is 200 GET "/v1/orders/$MINE"

api GET "/v1/audit?request=$MINE"
cp "$T/body" "$T/history.json"
check history_is_served [ "$STATUS" = 200 ]
# shellcheck disable=SC2016 # jq variables
check history_holds_only_that_requests_entries jqtrue --arg id "$MINE" \
    '(.entries | length) > 0 and all(.entries[]; .request_id == $id)' \
    "$T/history.json"
# shellcheck disable=SC2016 # jq variables
check history_is_oldest_first jqtrue \
    '[.entries[].seq] as $s | $s == ($s | sort) and ($s | unique | length)
    == ($s | length)' "$T/history.json"
check history_starts_with_the_submission_and_ends_with_the_order jqtrue \
    '.entries[0].event == "request.submitted" and
    .entries[-1].event == "order.issued"' "$T/history.json"
CTL audit tail -n 10000 --json >"$T/tail.json"
# shellcheck disable=SC2016 # jq variables
check history_has_every_entry_the_log_holds_about_it jqtrue \
    --arg id "$MINE" --slurpfile h "$T/history.json" \
    '[.entries[] | select(.request_id == $id) | .seq] ==
    [$h[0].entries[].seq]' "$T/tail.json"
check history_says_nothing_is_left jqtrue '.more == false' "$T/history.json"

# pages: a bound, and the next page after the last entry shown
N=$(jq '.entries | length' "$T/history.json")
api GET "/v1/audit?request=$MINE&limit=2"
check a_page_holds_at_most_its_limit answered 200 \
    '(.entries | length) == 2 and .more == true'
LAST=$(jbody '.entries[-1].seq')
api GET "/v1/audit?request=$MINE&after=$LAST&limit=1000"
# shellcheck disable=SC2016 # jq variables
check next_page_continues_after_the_last_entry jqtrue \
    --arg last "$LAST" --argjson n "$N" \
    '(.entries | length) == $n - 2 and .entries[0].seq > ($last |
    tonumber) and .more == false' "$T/body"

# malformed and unknown
api GET "/v1/audit?request=$(echo "$MINE" | tr a-f A-F)"
check upper_case_id_is_refused answered 400 \
    '.error.code == "invalid_query" and (.error.message | test("request"))'
api GET "/v1/audit?request=1234"
check short_id_is_refused [ "$STATUS" = 400 ]
api GET "/v1/audit?request=$MINE%27%20OR%201=1"
check injected_id_is_refused [ "$STATUS" = 400 ]
api GET "/v1/audit?request=0123456789abcdef0123456789abcdef"
check unknown_request_is_not_found [ "$STATUS" = 404 ]
api GET "/v1/audit?reqest=$MINE"
check misspelt_parameter_is_refused_by_name answered 400 \
    '.error.code == "invalid_query" and (.error.message | test("reqest"))'
api GET "/v1/audit?%ff%fe=1"
check parameter_name_that_is_not_utf8_is_refused_in_json answered 400 \
    '.error.code == "invalid_query"'
api GET "/v1/requests?queue=%ff"
check filter_value_that_is_not_utf8_is_refused_in_json answered 400 \
    '.error.code == "invalid_query"'
api GET "/v1/audit?limit=5&limit=500"
check parameter_given_twice_is_refused answered 400 \
    '.error.message | test("limit.*twice")'
api GET "/v1/audit?after=3"
check after_without_request_is_refused [ "$STATUS" = 400 ]
api GET "/v1/audit?request=$MINE&limit=0"
check limit_out_of_range_is_refused [ "$STATUS" = 400 ]
api GET "/v1/audit?limit=3"
check tail_still_answers_with_its_limit answered 200 \
    '(.entries | length) == 3'
# the other routes take only their own parameters too
api GET "/v1/requests?sate=in_hold"
check requests_list_refuses_a_misspelt_filter answered 400 \
    '.error.message | test("sate")'
api GET "/v1/requests/$MINE?verbose=1"
check request_detail_refuses_a_parameter answered 400 \
    '.error.message | test("verbose")'
api GET "/v1/keys?all=1"
check keys_take_their_parameter [ "$STATUS" = 200 ]

# who may read it
api_as 65534 GET "/v1/audit?request=$MINE"
# shellcheck disable=SC2016 # jq variables
check agent_reads_the_history_of_its_own_request answered 200 \
    '(.entries | length) > 0 and all(.entries[]; .request_id == $id)' \
    --arg id "$MINE"
api_as 65534 GET "/v1/audit?request=$OTHER"
check agent_cannot_read_the_history_of_another_teams_request \
    answered 404 '.error.code == "not_found"'
api_as 65534 GET "/v1/audit?limit=5"
check agent_cannot_read_the_audit_tail [ "$STATUS" = 403 ]
api_as 65533 GET "/v1/audit?request=$MINE"
check caller_without_role_cannot_read_a_history [ "$STATUS" = 403 ]

# the console: an id prefix, words, times in ISO 8601
PREFIX=$(echo "$MINE" | cut -c1-8)
CTL requests history "$PREFIX" >"$T/hist.txt" 2>"$T/hist.err"
check console_prints_the_history_of_an_id_prefix [ $? -eq 0 ]
check console_names_the_request sh -c "head -n 1 $T/hist.txt | grep -q $MINE"
check console_prints_one_line_per_entry \
    [ "$(($(wc -l <"$T/hist.txt") - 1))" = "$N" ]
check console_says_what_happened_in_words sh -c "
    grep -q '^[0-9-]*T[0-9:]*Z  submitted by agent hd-bob  ([^,]*, intake)\$' \
    $T/hist.txt &&
    grep -q 'state changed from ' $T/hist.txt &&
    grep -q 'order co-signed, valid until [0-9-]*T' $T/hist.txt &&
    ! grep -q 'request.submitted' $T/hist.txt"
CTL requests history "$PREFIX" --json >"$T/hist.json"
# shellcheck disable=SC2016 # jq variables
check console_json_is_the_apis_history jqtrue --slurpfile h \
    "$T/history.json" '[.entries[].hash] == [$h[0].entries[].hash]' \
    "$T/hist.json"
CTL requests history "$MINE" >/dev/null 2>&1
check console_takes_a_whole_id [ $? -eq 0 ]
CTL requests history zz12 >/dev/null 2>"$T/err"
check console_refuses_a_malformed_id_as_usage [ $? -eq 2 ]
CTL requests history 0000000000000000 >/dev/null 2>"$T/err"
check console_says_an_unknown_request_is_not_found sh -c "[ $? -eq 1 ] &&
    grep -q 'no request id starts with' $T/err"

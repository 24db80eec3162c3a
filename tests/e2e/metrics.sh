#!/bin/sh
# SPDX-License-Identifier: ISC
# The metrics page as Prometheus reads it: Debian's python3-prometheus-client
# parses a real daemon's /metrics after submissions, approvals with a
# software key's touch, orders issued and redeemed.  Every family is typed
# (a family whose samples are split apart comes back untyped, or twice),
# and the counters and histograms say what happened.
. tests/e2e/lib/daemon.sh
. tests/e2e/lib/officers.sh

# Debian's python3 (python3-prometheus-client, from make deps): the python3
# first on PATH may be another one, without the module
PY=/usr/bin/python3
if ! [ -x "$PY" ]; then
	skip metrics_parse_with_prometheus_client \
	    "no $PY (Debian's python3 and python3-prometheus-client: make deps)"
	exit 0
fi
if ! "$PY" -c 'import prometheus_client.parser' 2>"$T/py.err"; then
	skip metrics_parse_with_prometheus_client "$PY cannot import" \
	    "prometheus_client (python3-prometheus-client: make deps):" \
	    "$(tail -n 1 "$T/py.err")"
	exit 0
fi

# parse FILE: the families as JSON, as the client reads them:
# [{name, type, samples: [{name, labels, value}]}], and for a histogram
# its buckets in order of their bounds, whether they never decrease, and
# its +Inf bucket, count and sum
parse() {
	"$PY" - "$1" <<'EOPY'
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    fam = {"name": f.name, "type": f.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value}
        for s in f.samples]}
    if f.type == "histogram":
        b = [(float(s.labels["le"]), s.value) for s in f.samples
             if s.name.endswith("_bucket")]
        one = lambda suffix: [s.value for s in f.samples
                              if s.name == f.name + suffix]
        fam["bounds_increase"] = all(x[0] < y[0] for x, y in zip(b, b[1:]))
        fam["buckets_never_decrease"] = all(x[1] <= y[1]
                                            for x, y in zip(b, b[1:]))
        fam["inf"] = b[-1][1] if b and math.isinf(b[-1][0]) else None
        fam["count"] = (one("_count") or [None])[0]
        fam["sum"] = (one("_sum") or [None])[0]
        fam["nbuckets"] = len(b)
    out.append(fam)
print(json.dumps(out))
EOPY
}
# value NAME [LABEL VALUE]: a family's sample (the one with that label)
value() {
	jq -r --arg n "$1" --arg l "${2:-}" --arg v "${3:-}" '.[] |
	    select(.name == $n) | .samples[] |
	    select($l == "" or .labels[$l] == $v) | .value' "$T/metrics.json"
}
bucket() {	# HISTOGRAM BOUND: the count at or below BOUND
	jq -r --arg n "$1" --argjson le "$2" '.[] | select(.name == $n) |
	    .samples[] | select(.name == $n + "_bucket" and
	    .labels.le != "+Inf") | select((.labels.le | tonumber) == $le) |
	    .value' "$T/metrics.json"
}
hist() {	# NAME FIELD
	jq -r --arg n "$1" --arg f "$2" '.[] | select(.name == $n) | .[$f]' \
	    "$T/metrics.json"
}
# scrape: /metrics into $T/metrics and, parsed, $T/metrics.json
scrape() {
	api GET /metrics
	cp "$T/body" "$T/metrics"
	[ "$STATUS" = 200 ] && parse "$T/metrics" >"$T/metrics.json" \
	    2>"$T/parse.err"
}

make_config "$T/tapgate.conf"
daemon_start "$T/tapgate.conf" --trust-roots "$PWD/build/gen/softfido-ca.pem" \
    --token-timeout 5000 || { notok daemon_starts; exit 1; }
key_start ann
key_start ben
enroll officer-ann security_officer ann
enroll officer-ben security_officer ben

# three submissions: two taken, one refused (all three answered)
api POST /v1/requests "$(req password_reset carol "" hd-bob phone "[$OOB]")"
check standard_request_is_taken [ "$STATUS" = 201 ]
STD=$(jbody .id)
ADM=$(admin_reset alice)
api POST /v1/requests '{"queue":"password_reset"}'
check malformed_submission_is_refused [ "$STATUS" = 422 -o "$STATUS" = 400 ]

# four approvals: two count, two are refused before the touch (the same
# officer again, a request that takes no approval)
approve "$ADM" ann
approve "$ADM" ann
check same_officer_again_is_refused \
    [ "$(approve_code)" = already_approved ]
approve "$STD" ann
check approval_of_a_request_on_hold_is_refused_before_the_touch \
    [ "$(approve_code)" = not_awaiting_approval ]
# the second officer takes 2 s to touch the key: time spent waiting for
# a person, not working
key_ctl ben button delay:2000
approve "$ADM" ben
check second_officer_completes_the_approvals [ $? -eq 0 ]
key_ctl ben button auto

orders_issued() {
	status_is 200 GET "/v1/orders/$STD" &&
	    status_is 200 GET "/v1/orders/$ADM"
}
check both_requests_get_their_orders wait_for 20 orders_issued
api POST "/v1/orders/$STD/redeem"
check order_is_redeemed [ "$STATUS" = 200 ]
api POST "/v1/orders/$STD/redeem"
check replay_is_refused [ "$STATUS" = 409 ]

scrape
check metrics_page_parses_with_prometheus_client \
    sh -c "[ -s $T/metrics.json ] || { cat $T/parse.err; false; }"
# a sample away from its family's TYPE line comes back as a family of its
# own, "unknown" (the client's word for untyped; "untyped" in older ones)
TYPED='[.[] | select(.type != "counter" and .type != "gauge" and
    .type != "histogram")] | length == 0'
check every_family_is_typed jqtrue "$TYPED" "$T/metrics.json"
check every_family_comes_once \
    jqtrue '[.[].name] | length == (unique | length)' "$T/metrics.json"
# the client names a counter without its _total
for f in tapgate_build_info:gauge tapgate_up:gauge tapgate_requests:gauge \
    tapgate_http_responses:counter tapgate_hook_runs:counter \
    tapgate_audit_entries:gauge tapgate_approvers_enrolled:gauge \
    tapgate_quorum_unreachable:gauge tapgate_orders_issued:counter \
    tapgate_redemptions:counter tapgate_submission_seconds:histogram \
    tapgate_approval_seconds:histogram \
    tapgate_approval_touch_wait_seconds:histogram \
    tapgate_internal_errors:counter; do
	# shellcheck disable=SC2016 # $n and $t are jq variables
	check "family_${f%%:*}_is_a_${f#*:}" jqtrue --arg n "${f%%:*}" \
	    --arg t "${f#*:}" '[.[] | select(.name == $n and .type == $t)] |
	    length == 1' "$T/metrics.json"
done
check every_approver_group_has_both_quorum_samples jqtrue '
    [.[] | select(.name == "tapgate_approvers_enrolled" or
    .name == "tapgate_quorum_unreachable") | .samples | length] ==
    [3, 3]' "$T/metrics.json"
check security_officer_group_counts_its_two_officers \
    [ "$(value tapgate_approvers_enrolled group security_officer)" = 2 ]

VERSION=$("$BUILD/tapgated" --version 2>/dev/null | awk '{print $NF}')
check build_info_names_the_daemons_version \
    sh -c "[ -n '$VERSION' ] && [ '$(value tapgate_build_info version \
    "$VERSION")' = 1 ]"

# the counters, against the audit log
CTL audit tail -n 1000 --json >"$T/audit.json"
ISSUED=$(jq '[.entries[] | select(.event == "order.issued")] | length' \
    "$T/audit.json")
check orders_issued_counts_the_audited_orders \
    sh -c "[ '$ISSUED' = 2 ] && [ '$(value tapgate_orders_issued)' = 2 ]"
check redemptions_count_by_outcome sh -c "
    [ '$(value tapgate_redemptions outcome redeemed)' = 1 ] &&
    [ '$(value tapgate_redemptions outcome replayed)' = 1 ] &&
    [ '$(value tapgate_redemptions outcome expired)' = 0 ]"

# the histograms: bounds in order, cumulative buckets, +Inf = count
for h in tapgate_submission_seconds tapgate_approval_seconds \
    tapgate_approval_touch_wait_seconds; do
	check "${h}_buckets_are_cumulative" sh -c "
	    [ '$(hist "$h" bounds_increase)' = true ] &&
	    [ '$(hist "$h" buckets_never_decrease)' = true ] &&
	    [ '$(hist "$h" nbuckets)' -gt 2 ] &&
	    [ '$(hist "$h" inf)' = '$(hist "$h" count)' ]"
done
check submission_histogram_counts_every_answered_submission \
    [ "$(hist tapgate_submission_seconds count)" = 3 ]
check approval_histogram_counts_every_approval \
    [ "$(hist tapgate_approval_seconds count)" = 4 ]
check touch_wait_counts_the_approvals_that_reached_the_key \
    [ "$(hist tapgate_approval_touch_wait_seconds count)" = 2 ]
check touch_wait_holds_the_slow_touch \
    [ "$(bucket tapgate_approval_touch_wait_seconds 1)" = 1 ]
check approval_time_leaves_the_touch_out \
    jqtrue '.[] | select(.name == "tapgate_approval_seconds") | .sum < 2' \
    "$T/metrics.json"
check latency_sums_are_positive jqtrue '[.[] | select(.type ==
    "histogram") | .sum > 0] | all' "$T/metrics.json"

# the page moves on with the traffic, and stays parseable
api POST /v1/requests "$(req password_reset dave "" hd-bob phone "[$OOB]")"
scrape
check submission_histogram_grows_with_a_submission \
    [ "$(hist tapgate_submission_seconds count)" = 4 ]
check metrics_stay_typed_after_more_traffic jqtrue "$TYPED" "$T/metrics.json"

#!/usr/bin/env bash
# Owner checks at once (issue 14 item 4): four tickets' checks started together
# beside one external sink all finish with verdicts, in parallel, none
# interrupted. A child's read of new proofs used to stay open while the verdict
# was written: with another child writing meanwhile, that write failed at once
# ("database is locked") and the check stopped, most rounds of four.
# Addresses: lab relays 127.92.10-13.1; the sink 127.92.250.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
. "$(dirname "$0")/lib/owners.sh"
lab_session
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
SINK=127.92.250.1:2592
lab_start lab --sink "$SINK" --sink-domain sink.test --hosts 127.92.0.0/16 --mix open=1
port=$LAB_PORT
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1)
ph verify --tests relay "${engine[@]}" 127.92.1{0,1,2,3}.1:"$port" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail verify
owners_campaign oc 127.92 10 11 12 13 || fail "the campaign"
plughole_sink "$PLUGHOLE_DB" "$SINK"

for attempt in 1 2 3 4 5 6; do
  # the rate limit allows one check per ticket in 10 minutes: the earlier ones are made older
  q "update rounds set started = started - 700, finished = finished - 700 where kind = 'owner'"
  started=$(date +%s)
  starts=()
  for t in $(q "select ticket from letters"); do
    ph recheck --ticket "$t" --external-sink "${engine[@]}" >"$tmp/start.$t.out" 2>"$tmp/start.$t.err" & starts+=($!)
  done
  for p in "${starts[@]}"; do wait "$p" || fail "a start: $(cat "$tmp"/start.*.err)"; done
  for _ in $(seq 100); do
    [ "$(q "select count(*) from rounds where kind = 'owner' and status = 'running'")" = 0 ] && break
    sleep 0.2
  done
  took=$(($(date +%s) - started))
  assert_eq "$(q "select count(*) from rounds where kind = 'owner' and started >= $started and status = 'done'")" 4 \
    "attempt $attempt: four checks done ($(q "select group_concat(status) from rounds where kind = 'owner'"))"
  assert_eq "$(q "select count(*) from round_findings rf join rounds r on r.id = rf.round_id
    where r.kind = 'owner' and r.started >= $started and rf.verdict = 'open-relay'")" 4 "attempt $attempt: four verdicts"
  [ "$took" -le 10 ] || fail "attempt $attempt: four checks took $took s: not in parallel"
done
echo "owner_check_concurrent: ok"

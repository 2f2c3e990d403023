#!/usr/bin/env bash
# --external-sink (the production mode: 'plughole sink' in its own process,
# sharing the store) sees proofs while verify runs, as the in-process sink's
# callbacks do (issue 11, item 4): each open relay gets the same number of
# test messages in both modes (one), the run stops waiting at the last proof,
# the summary counts the proofs, and each finding's token and variant are
# those of the same message.
# Addresses (block 127.65.0.0/16): open relays 127.65.4.0/29 (lab), the sink
# 127.65.0.3:2567 (in verify, then as its own process).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
lab_session
SINK=127.65.0.3:2567
lab_start lab --sink "$SINK" --sink-domain sink.test --hosts 127.65.4.0/29 --mix open=1
port=$LAB_PORT
targets=(); for n in $(seq 0 7); do targets+=("127.65.4.$n:$port"); done

verify() {
  "$PLUGHOLE" --db "$1" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
    --helo verifier.test --connect-timeout 2 --timeout 3 --retries 0 --proof-grace 1 --wait 20 "${@:2}" "${targets[@]}"
}
# messages per open relay, one line per relay: "address count"
per_relay() {
  sqlite3 -separator ' ' "$1" "select c.address, count(p.id) from candidates c left join probes p on p.candidate_id = c.id
    and p.outcome <> 'message-withdrawn' group by c.id order by c.address"
}
check() { # db out mode
  assert_eq "$(sqlite3 "$1" "select count(*) from findings where verdict = 'open-relay'")" 8 "open relays ($3)"
  assert_contains "$(cat "$2")" "8 test messages, 8 proofs"
  assert_eq "$(sqlite3 "$1" "select count(*) from findings f join probes p on p.token = f.token
    and p.candidate_id = f.candidate_id and p.variant = f.variant")" 8 "token and variant of the same message ($3)"
}

verify "$tmp/in.db" >"$tmp/in.out" 2>"$tmp/in.err" || fail "verify with the in-process sink failed"
check "$tmp/in.db" "$tmp/in.out" in-process

plughole_sink "$tmp/ext.db" "$SINK"
start=$(date +%s.%N)
verify "$tmp/ext.db" --external-sink >"$tmp/ext.out" 2>"$tmp/ext.err" || fail "verify with an external sink failed"
took=$(echo "$(date +%s.%N) - $start" | bc)
check "$tmp/ext.db" "$tmp/ext.out" external
assert_eq "$(per_relay "$tmp/ext.db")" "$(per_relay "$tmp/in.db")" "test messages per open relay, external vs in-process"
assert_eq "$(per_relay "$tmp/ext.db" | awk '$2 != 1' | wc -l)" 0 "one message per open relay"
# It stopped at the proofs, not at the end of --wait (20 s).
echo "$took < 10" | bc | grep -qx 1 || fail "the external run took $took s: it did not see the proofs"
echo "verify_external_sink: ok"

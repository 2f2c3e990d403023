#!/usr/bin/env bash
# One verify at a time per store. Two runs on one store (production mode: an
# external sink, nothing else shared) both read the same pending candidates
# and both sent every relay its test messages. And a candidate named twice
# on the command line is one target. The second run now stops at
# start, before any connection, and says which run holds the store.
# Addresses: open relays 127.75.1.0/29 (lab), the sink 127.75.0.3:2567 (external,
# then in-process).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
lab_session
SINK=127.75.0.3:2567
db="$tmp/store.db"
lab_start lab --sink "$SINK" --sink-domain sink.test --hosts 127.75.1.0/29 --mix open=1 \
  --command-log "$tmp/commands.log"
port=$LAB_PORT
for n in $(seq 0 7); do echo "127.75.1.$n:$port"; done | "$PLUGHOLE" --db "$db" ingest --allow-loopback - 2>/dev/null
plughole_sink "$db" "$SINK"
sink_pid=$SINK_PID
verify() {
  "$PLUGHOLE" --db "$db" verify --external-sink --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
    --helo verifier.test --connect-timeout 2 --timeout 3 --retries 0 --proof-grace 1 --wait 5
}

# Held by another process: refused at once, nothing sent.
status=0; flock "$db.verify.lock" "$PLUGHOLE" --db "$db" verify --external-sink --tests relay --allow-loopback \
  --sink "$SINK" --sink-domain sink.test >"$tmp/held.out" 2>"$tmp/held.err" || status=$?
assert_eq "$status" 1 "verify while another holds the store"
assert_contains "$(cat "$tmp/held.err")" "another verify is running on $db"
assert_eq "$(sqlite3 "$db" "select count(*) from probes")" 0 "no message while the store is held"
[ ! -s "$tmp/commands.log" ] || fail "a relay was contacted while the store was held"

# Two runs at once: one tests, the other stops; every relay gets one message.
verify >"$tmp/a.out" 2>"$tmp/a.err" & a=$!
verify >"$tmp/b.out" 2>"$tmp/b.err" & b=$!
sa=0; wait "$a" || sa=$?
sb=0; wait "$b" || sb=$?
assert_eq "$(printf '%s\n' "$sa" "$sb" | sort | tr '\n' ' ')" "0 1 " "one run tests, the other is refused"
assert_eq "$(sqlite3 "$db" "select count(*) from findings where verdict = 'open-relay'")" 8
assert_eq "$(sqlite3 "$db" "select count(*) from probes where outcome <> 'message-withdrawn'")" 8 "one message per relay"

# The same candidate named twice in one run is one target: one set of messages.
# (The lab's relays deliver to $SINK: the in-process sink takes it over.)
kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
db2="$tmp/twice.db"
"$PLUGHOLE" --db "$db2" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
  --helo verifier.test --connect-timeout 2 --timeout 3 --retries 0 --proof-grace 1 --wait 5 --per-host 2 \
  "127.75.1.0:$port" "127.75.1.0:$port" >"$tmp/twice.out" 2>"$tmp/twice.err" || fail "verify of a candidate named twice"
assert_contains "$(cat "$tmp/twice.out")" "1 targets"
assert_eq "$(sqlite3 "$db2" "select count(*) from probes")" "$(sqlite3 "$db2" "select count(distinct token) from probes")" \
  "one record per token"
assert_eq "$(sqlite3 "$db2" "select count(*) from probes where outcome <> 'message-withdrawn'")" 1 "one message"
echo "verify_lock: ok"

#!/usr/bin/env bash
# A relay that hangs up after each message it accepts gets a new connection
# for the variants it accepted (issue 11, item 8). What the earlier
# connections learnt holds across it: the next message still waits out the
# last one's proof grace (a relay that forwards a second late would otherwise
# get every accepted variant's message before the first proof lands), and a
# message it accepted keeps the verdict relay-accepted when the next session
# refuses everything (it was called closed), or when it stops listening (it
# was called unreachable). Found by a review.
# Addresses: relays 127.76.1.1:2525 (drop), 127.76.1.2:2525 (droprefuse),
# 127.76.1.3:2525 (dropclose);
# the sink 127.76.0.3:2567.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.log "$tmp"/*.err >&2 || true; exit 1; }
SINK=127.76.0.3:2567
relay() { # ADDR MODE [ARGS]
  python3 "$(dirname "$0")/lib/drop_relay.py" --listen "$1:2525" --deliver "$SINK" --mode "$2" "${@:3}" \
    >"$tmp/$1.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do grep -q listening "$tmp/$1.log" && return; sleep 0.1; done
  fail "relay $1 did not start"
}
verify() { # DB ADDR
  "$PLUGHOLE" --db "$1" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
    --helo verifier.test --connect-timeout 2 --timeout 5 --retries 0 --proof-grace 4 --wait 6 "$2:2525" \
    >"$tmp/verify.out" 2>"$tmp/verify.err" || fail "verify $2"
}

# Forwards each message 1.5 s after taking it, inside the 4 s grace: one message.
relay 127.76.1.1 drop --delay 1.5
verify "$tmp/a.db" 127.76.1.1
assert_eq "$(sqlite3 "$tmp/a.db" "select verdict from findings")" open-relay
assert_eq "$(grep -c '^MESSAGE' "$tmp/127.76.1.1.log")" 1 "one message: the new connection waited out the grace"

# Took one message (never delivered), then refuses every recipient: relay-accepted, not closed.
relay 127.76.1.2 droprefuse --no-deliver
verify "$tmp/b.db" 127.76.1.2
assert_eq "$(grep -c '^MESSAGE' "$tmp/127.76.1.2.log")" 1
assert_eq "$(sqlite3 "$tmp/b.db" "select verdict from findings")" relay-accepted "a message was accepted on an earlier connection"

# Took one message (never delivered), then stopped listening: the new connection is refused, and a
# server that answered us is not unreachable: relay-accepted.
relay 127.76.1.3 dropclose --no-deliver
verify "$tmp/c.db" 127.76.1.3
assert_eq "$(grep -c '^MESSAGE' "$tmp/127.76.1.3.log")" 1
assert_eq "$(sqlite3 "$tmp/c.db" "select verdict from findings")" relay-accepted "it answered, then refused a connection"
echo "verify_reconnect: ok"

#!/usr/bin/env bash
# The clock behind the store's last probe (stepped back, a restored VM): a
# round must not begin in an earlier probe's second (its tokens again), and
# waiting for the clock to pass it would hang a recheck, a cron job or an
# owner's check for as long as the clock is behind. Refused at once with the
# reason; a second or two ahead is waited out as before.
# Addresses: lab relay 127.88.40.1; sink 127.88.250.4.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
SINK=127.88.250.4:2588
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.88.40.0/24 --mix open=1 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1)
"$PLUGHOLE" verify --tests relay "${engine[@]}" "127.88.40.1:$port" >"$tmp/v1.out" 2>"$tmp/v1.err" || fail verify
# the clock goes back an hour: the last probe now began in the future
q "update probes set started = started + 3600"
s=0; timeout 20 "$PLUGHOLE" verify --tests relay "${engine[@]}" "127.88.40.1:$((port))" >"$tmp/v2.out" 2>"$tmp/v2.err" || s=$?
assert_eq "$s" 1 "refused at once, not hung (124: timed out)"
assert_contains "$(cat "$tmp/v2.err")" "the clock is behind"
# a second ahead (a round begun in the second of the last probe) is waited out
q "update probes set started = unixepoch() + 1"
s=0; timeout 20 "$PLUGHOLE" verify --tests relay "${engine[@]}" "127.88.40.2:$port" >"$tmp/v3.out" 2>"$tmp/v3.err" || s=$?
assert_eq "$s" 0 "a second ahead: $(tail -n 2 "$tmp/v3.err")"
echo "recheck_clock_behind: ok"

#!/usr/bin/env bash
# recheck --due while another run holds the store's verify lock (a long round
# still running when cron starts the next): exit 0 with a one-line note, no
# round started, so cron sends no mail. Addresses: lab relays 127.91.20.{1,2},
# sink 127.91.250.1 (the first verify only).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
. "$(dirname "$0")/lib/owners.sh"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
SINK=127.91.250.1:2588
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.91.0.0/16 --mix open=1 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
ph verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 \
  --timeout 3 --retries 0 --proof-grace 0.5 --wait 1 127.91.20.{1,2}":$port" >"$tmp/v.out" 2>"$tmp/v.err" || fail verify
owners_campaign busy 127.91 20 || fail "the campaign"
ph recheck busy --every 1m --rounds 1 >/dev/null 2>"$tmp/s.err" || fail "schedule"
q "update campaigns set created = created - 120"
# another run holds the lock (flock(2), as verify takes it) until we let go
( exec 9>>"$PLUGHOLE_DB.verify.lock"; flock 9; exec sleep 30 ) & pids+=($!)
for _ in $(seq 50); do flock -n "$PLUGHOLE_DB.verify.lock" true 2>/dev/null || break; sleep 0.1; done
s=0; ph recheck --due --allow-loopback --sink 127.91.250.1:2588 --sink-domain sink.test \
  >"$tmp/due.out" 2>"$tmp/due.err" || s=$?
assert_eq "$s" 0 "--due beside a running verify: $(tail -n 3 "$tmp/due.err")"
assert_eq "$(grep -c 'nothing due for this process' "$tmp/due.err")" 1 "one line says why nothing ran"
assert_eq "$(grep -ci error "$tmp/due.err" || true)" 0 "no error for cron to mail"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck'")" 0 "no round started"
echo "recheck_due_busy: ok"

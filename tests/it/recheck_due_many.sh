#!/usr/bin/env bash
# recheck --due with more than one campaign on its schedule: each campaign's
# due round runs in the one process (cron starts one), none refused because
# the same process ran the campaign before it; a second --due runs nothing.
# Addresses: lab relays 127.88.20.{1,2}, 127.88.21.{1,2}; sink 127.88.250.2.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
. "$(dirname "$0")/lib/owners.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
SINK=127.88.250.2:2588
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.88.0.0/16 --mix open=1 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1)
ph verify --tests relay "${engine[@]}" 127.88.20.{1,2}":$port" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail verify
owners_campaign first 127.88 20 || fail "the first campaign"
ph verify --tests relay "${engine[@]}" 127.88.21.{1,2}":$port" >"$tmp/verify2.out" 2>"$tmp/verify2.err" || fail verify2
owners_campaign second 127.88 21 || fail "the second campaign"
ph recheck first --every 1m --rounds 2 >/dev/null 2>"$tmp/s1.err" || fail "schedule first"
ph recheck second --every 1m --rounds 2 >/dev/null 2>"$tmp/s2.err" || fail "schedule second"
q "update campaigns set created = created - 120"
s=0; ph recheck --due "${engine[@]}" >"$tmp/due.out" 2>"$tmp/due.err" || s=$?
assert_eq "$s" 0 "--due over two campaigns: $(grep -v sink: "$tmp/due.err" | tail -n 3)"
assert_eq "$(q "select group_concat(c.name || ':' || r.seq || ':' || r.status, ' ') from rounds r
   join campaigns c on c.id = r.campaign_id where r.kind = 'recheck' order by c.name")" "first:1:done second:1:done"
ph recheck --due "${engine[@]}" >"$tmp/due2.out" 2>"$tmp/due2.err" || fail "a second --due"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck'")" 2 "the second --due runs nothing"
# ---- more campaigns than one process holds round locks at once: each releases its round when done ----
for n in $(seq 3 19); do
  ph campaign create "more$n" --control 0 --seed 1 --domain first.test >"$tmp/c$n.out" 2>"$tmp/c$n.err" || fail "create more$n"
  ph recheck "more$n" --every 1m --rounds 1 >/dev/null 2>"$tmp/s$n.err" || fail "schedule more$n"
done
q "update campaigns set created = created - 120"
s=0; ph recheck --due "${engine[@]}" --wait 0 >"$tmp/due3.out" 2>"$tmp/due3.err" || s=$?
assert_eq "$s" 0 "--due over 17 more campaigns: $(grep -v sink: "$tmp/due3.err" | grep -i error | tail -n 3)"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck' and status = 'done' and seq = 1")" 19
echo "recheck_due_many: ok"

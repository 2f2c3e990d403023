#!/usr/bin/env bash
# A full disk under the store stops verify at the first failed write (issue
# 11, item 6): a clear error, a non-zero exit, no further test message and no
# further connection; every message that went was recorded first; and once
# the disk has room again, no relay gets a second message and none is called
# relay-accepted or open-relay without the message it would stand on.
# The store lives on a small tmpfs this test mounts (as root; otherwise a
# file size limit, ulimit -f, plays the full disk) and unmounts.
# Addresses (block 127.65.0.0/16): open relays 127.65.6.0/26 (lab), the
# verifier's sink 127.65.0.4:2568.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=(); mounted=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ -z "$mounted" ] || umount "$tmp/disk"
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err "$tmp"/*.out >&2 || true; exit 1; }
SINK=127.65.0.4:2568
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.65.6.0/26 --mix open=1 \
  --forward-log "$tmp/forward.log" >"$tmp/lab.out" 2>"$tmp/lab.err" & lab=$!; pids+=($lab)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
for n in $(seq 0 63); do echo "127.65.6.$n:$port"; done >"$tmp/list"
# Sessions the lab has accepted so far (it prints its counters on SIGUSR1).
sessions() {
  local before; before=$(grep -c 'accepted' "$tmp/lab.err" || true)
  kill -USR1 "$lab"
  for _ in $(seq 50); do [ "$(grep -c 'accepted' "$tmp/lab.err" || true)" -gt "$before" ] && break; sleep 0.1; done
  grep -o 'accepted [0-9]*' "$tmp/lab.err" | tail -n 1 | cut -d' ' -f2
}

mkdir "$tmp/disk"
db="$tmp/disk/db"
limit=()
if mount -t tmpfs -o size=8m plughole-test "$tmp/disk" 2>/dev/null; then
  mounted=1
  "$PLUGHOLE" --db "$db" ingest --allow-loopback "$tmp/list" >/dev/null 2>&1
  # Leave 128 KiB: room for a few commits of the run (each verdict writes findings and its round's row,
  # round_findings), then the disk is full.
  avail=$(df -k "$tmp/disk" | awk 'NR == 2 { print $4 }')
  fallocate -l $(((avail - 128) * 1024)) "$tmp/disk/filler"
else
  "$PLUGHOLE" --db "$db" ingest --allow-loopback "$tmp/list" >/dev/null 2>&1
  limit=(ulimit -f 128 '&&')  # no file (the store's write-ahead log) may grow past 128 KiB
fi
args=(--db "$db" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test
  --connect-timeout 2 --timeout 3 --retries 0 --proof-grace 0.5 --wait 3 --concurrency 4 --per-net 4)
before=$(sessions)
rc=0
bash -c "${limit[*]} exec \"\$@\"" - "$PLUGHOLE" "${args[@]}" >"$tmp/full.out" 2>"$tmp/full.err" || rc=$?
[ "$rc" -ne 0 ] || fail "verify exited 0 on a full disk"
assert_contains "$(cat "$tmp/full.err")" "the store could not be written: stopping"
after=$(sessions)
went=$(grep -c '^forward ' "$tmp/forward.log" || true)
# Stopped at once: the connections in flight (4 at most) and no more.
[ $((after - before)) -le 12 ] || fail "verify went on probing after the store failed: $((after - before)) sessions"
[ "$went" -ge 1 ] || fail "no message went before the disk was full: the test proves nothing"

# Room again: the next run finishes the rest.
if [ -n "$mounted" ]; then rm -f "$tmp/disk/filler"; fi
"$PLUGHOLE" "${args[@]}" >"$tmp/next.out" 2>"$tmp/next.err" || fail "verify failed with room on the disk"
q() { sqlite3 "$db" "$1"; }
# Never a second message: one forwarded message per relay at most.
assert_eq "$(awk '{ print $2 }' "$tmp/forward.log" | sort | uniq -d | wc -l)" 0 "a relay got a second message"
# Every message that went was recorded before it went.
grep -o 'rcpt=<ph[a-z0-9]*' "$tmp/forward.log" | cut -c7- | sort -u >"$tmp/sent.tokens"
q "select token from probes" | sort -u >"$tmp/recorded.tokens"
assert_eq "$(comm -23 "$tmp/sent.tokens" "$tmp/recorded.tokens" | wc -l)" 0 "a message went without its record"
# No verdict that a message stands on without that message.
q "select c.address from findings f join candidates c on c.id = f.candidate_id
   where f.verdict in ('relay-accepted', 'open-relay')" | sort >"$tmp/accused"
awk '{ sub("host=", "", $2); print $2 }' "$tmp/forward.log" | sort -u >"$tmp/messaged"
assert_eq "$(comm -23 "$tmp/accused" "$tmp/messaged" | wc -l)" 0 "a relay was called open or accepted without a message"
# Every relay has a verdict, or a message whose fate the failed run could not record.
unknown=$(q "select count(distinct candidate_id) from probes where outcome = 'message-due'
  and candidate_id not in (select candidate_id from findings)")
assert_eq "$(($(q "select count(*) from findings") + unknown))" 64 "verdicts and unknown fates"
echo "verify_store_full: ok"

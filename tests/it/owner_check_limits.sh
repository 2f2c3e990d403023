#!/usr/bin/env bash
# Owner checks' limits that the first test (owner_check.sh) left open: a check
# that runs longer than the 10-minute interval still counts among the 4 at
# once, and a host checked through its ticket is not checked again within
# 10 minutes by asking for its address (nor the other way round).
# Addresses: lab relays 127.88.10.{1,2}, 127.88.11.1; unused 127.88.4x.1; sink 127.88.250.1.
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
status_of() { local s=0; "$@" >"$tmp/out" 2>"$tmp/err" || s=$?; echo "$s"; }
SINK=127.88.250.1:2588
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.88.0.0/16 --mix open=1 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1)
ph verify --tests relay "${engine[@]}" 127.88.10.{1,2}":$port" 127.88.11.1:"$port" >"$tmp/verify.out" 2>"$tmp/verify.err" ||
  fail verify
owners_campaign ol 127.88 10 11 || fail "the campaign"
ticket=$(q "select l.ticket from letters l join campaign_owners o on o.id = l.campaign_owner_id where o.organisation = 'Owner 10'")
[ -n "$ticket" ] || fail "no ticket for Owner 10"

# ---- a check still running after the interval holds its place among the 4 at once ----
for i in 1 2 3 4; do
  q "insert into rounds(kind, requested_by, started, status) values('owner', 'address:127.88.4$i.1', unixepoch() - 660, 'running')"
done
ids=$(q "select group_concat(id, ' ') from rounds where requested_by like 'address:127.88.4_.1'")
# their processes, alive: each holds its round's byte of the lock file, as round_lock() does
python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
for r in sys.argv[2:]:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(r), 0)
print("held", flush=True)
time.sleep(60)' "$PLUGHOLE_DB.rounds.lock" $ids >"$tmp/locks.out" 2>"$tmp/locks.err" & pids+=($!)
for _ in $(seq 50); do grep -q held "$tmp/locks.out" && break; sleep 0.1; done
[ "$(status_of ph recheck --address 127.88.11.1 --check-ports "$port" "${engine[@]}")" = 1 ] ||
  fail "a fifth beside 4 checks running for 11 minutes"
assert_contains "$(cat "$tmp/err")" "4 checks are running"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
q "update rounds set status = 'interrupted' where requested_by like 'address:127.88.4_.1'"

# ---- a ticket's host, then its address: the same host within 10 minutes ----
[ "$(status_of ph recheck --ticket "$ticket" --until-done "${engine[@]}")" = 0 ] || fail "ticket check: $(cat "$tmp/err")"
assert_contains "$(cat "$tmp/out")" "127.88.10.1:$port open open-relay"
[ "$(status_of ph recheck --address 127.88.10.1 --check-ports "$port" "${engine[@]}")" = 1 ] ||
  fail "the address of a host its ticket checked a moment ago"
assert_contains "$(cat "$tmp/err")" "was checked less than 10 minutes ago"
# and the other way round: an address, then the ticket that holds it
q "update rounds set started = started - 660 where kind = 'owner'"
[ "$(status_of ph recheck --address 127.88.10.2 --check-ports "$port" --until-done "${engine[@]}")" = 0 ] ||
  fail "address check: $(cat "$tmp/err")"
[ "$(status_of ph recheck --ticket "$ticket" "${engine[@]}")" = 1 ] || fail "the ticket of an address checked a moment ago"
assert_contains "$(cat "$tmp/err")" "was checked less than 10 minutes ago"
# another owner's host elsewhere is not held up by either
[ "$(status_of ph recheck --address 127.88.11.1 --check-ports "$port" --until-done "${engine[@]}")" = 0 ] ||
  fail "an unrelated address: $(cat "$tmp/err")"
echo "owner_check_limits: ok"

#!/usr/bin/env bash
# verify stops cleanly on SIGTERM and a second run finishes the rest without
# a second test message to anyone (nor a verdict a crash left no ground for);
# an external sink (its own process, over IPv6) proves an IPv6 candidate
# through the shared store.
# Addresses: lab hosts 127.20.B.N (N = 40..79), sinks 127.0.46.1 and ::1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
lab_session
db="$tmp/db"
SINK=127.0.46.1:2546

lab_start lab --sink "$SINK" --sink-domain sink.test
port=$LAB_PORT
# 20 open relays and 20 silent hosts: the silent ones hold the run open.
for n in $(seq 40 59); do echo "127.20.1.$n:$port"; echo "127.20.11.$n:$port"; done >"$tmp/list"
"$PLUGHOLE" --db "$db" ingest --allow-loopback "$tmp/list" >/dev/null 2>&1

args=(--db "$db" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test
  --connect-timeout 2 --timeout 4 --retries 0 --proof-grace 0.5 --wait 2 --per-net 64)
verify() { "$PLUGHOLE" "${args[@]}" "$@"; }
"$PLUGHOLE" "${args[@]}" >"$tmp/first.out" 2>"$tmp/first.err" & vpid=$!  # not through a function: $! must be plughole
# Stop it while the silent hosts are still being waited for.
for _ in $(seq 50); do
  [ "$(sqlite3 "$db" "select count(*) from findings where verdict = 'open-relay'" 2>/dev/null || echo 0)" -ge 20 ] && break
  sleep 0.1
done
kill -TERM "$vpid"
wait "$vpid" || { cat "$tmp/first.out"; fail "verify did not exit 0 after SIGTERM"; }
assert_contains "$(cat "$tmp/first.err")" "stopping"
assert_eq "$(sqlite3 "$db" "select count(*) from findings")" 20 "the open relays are stored, the silent hosts pending"
sent_before=$(sqlite3 "$db" "select count(*) from probes")

verify >"$tmp/second.out" 2>"$tmp/second.err" || fail "the second run failed"
assert_contains "$(cat "$tmp/second.out")" "verify: 20 targets"
assert_contains "$(cat "$tmp/second.out")" "timeout          20"
assert_eq "$(sqlite3 "$db" "select count(*) from findings")" 40
assert_eq "$(sqlite3 "$db" "select count(*) from probes")" "$sent_before" "no second message to anyone"

# A crash after a message went out but before the verdict was written:
# the next run says relay-accepted instead of sending again.
sqlite3 "$db" "insert into candidates(address, port, family, first_seen, last_seen) values('127.20.2.77', $port, 4, 1, 1);
  insert into probes(candidate_id, test, variant, token, started, finished, outcome)
  values(last_insert_rowid(), 'relay', 'plain', 'phcrashed', 1, 1, 'message-sent');"
verify >"$tmp/third.out" 2>"$tmp/third.err" || fail "the third run failed"
assert_contains "$(cat "$tmp/third.out")" "verify: 0 targets"
assert_eq "$(sqlite3 "$db" "select f.verdict from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.2.77'")" relay-accepted
# Named on the command line again, it still gets no second message.
sent_before=$(sqlite3 "$db" "select count(*) from probes")
verify "127.20.2.77:$port" >"$tmp/fourth.out" 2>"$tmp/fourth.err" || fail "the fourth run failed"
assert_contains "$(cat "$tmp/fourth.err")" "a relay test message already went to it"
assert_eq "$(sqlite3 "$db" "select count(*) from probes")" "$sent_before" "no second message to a named candidate"

# A crash between a message's record and its answer leaves the record due: the
# message may or may not have gone. No verdict (no relay-accepted for a host
# that may never have had it), no second message, and a warning saying so.
sqlite3 "$db" "insert into candidates(address, port, family, first_seen, last_seen) values('127.20.2.78', $port, 4, 1, 1);
  insert into probes(candidate_id, test, variant, token, started, finished, outcome)
  values(last_insert_rowid(), 'relay', 'plain', 'phdue', 1, 1, 'message-due');"
sent_before=$(sqlite3 "$db" "select count(*) from probes")
verify >"$tmp/fifth.out" 2>"$tmp/fifth.err" || fail "the fifth run failed"
assert_contains "$(cat "$tmp/fifth.out")" "verify: 0 targets"
assert_contains "$(cat "$tmp/fifth.err")" "1 relays have a test message whose fate is unknown"
assert_eq "$(sqlite3 "$db" "select count(*) from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.2.78'")" 0
verify "127.20.2.78:$port" >"$tmp/sixth.out" 2>"$tmp/sixth.err" || fail "the sixth run failed"
assert_contains "$(cat "$tmp/sixth.err")" "a relay test message already went to it"
assert_eq "$(sqlite3 "$db" "select count(*) from probes")" "$sent_before" "no second message after an unknown fate"

# IPv6 and an external sink: `plughole sink` on [::1] is itself the candidate
# (it takes mail for sink.test), and records the proof in the shared store.
plughole_sink "$db" '[::1]:0'
six=$(grep -o '\[::1\]:[0-9]*' "$tmp/sink.err" | head -n 1)
[ -n "$six" ] || fail "the IPv6 sink did not start"
"$PLUGHOLE" --db "$db" verify --tests relay --allow-loopback --external-sink --sink "$six" --sink-domain sink.test \
  --helo verifier.test --proof-grace 1 --wait 3 "$six" >"$tmp/six.out" 2>"$tmp/six.err" || fail "IPv6 verify failed"
assert_eq "$("$PLUGHOLE" --db "$db" findings --verdict open-relay | grep -c '^::1')" 1
echo "verify_resume: ok"

#!/usr/bin/env bash
# verify against plughole-lab: every lab behaviour (127.20.B.N plays B) gets
# exactly the verdict the lab's --truth promises, open relays are proven by a
# token that reached the sink, one message per accepted variant, excluded
# candidates are never contacted, a restarted run resumes, and findings print.
# Greylisting keys on (client, sender, recipient): a retry must present the
# same envelope. Exim-like hosts hang up after 3 syntax errors: the common
# variants must have had their message first. A banner's claimed name never
# appears in a command.
# Addresses: lab hosts 127.20.B.{1,2} and 127.63.13.0/30, verifier's sinks
# 127.0.41.1 and 127.63.41.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
lab_session 40
db="$tmp/db"
SINK=127.0.41.1:2541

lab_start lab --sink "$SINK" --sink-domain sink.test --tarpit-delay 20 --greylist-delay 2 \
  --forward-log "$tmp/forward.log" --command-log "$tmp/commands.log"
port=$LAB_PORT

targets=(); addrs=()
for b in $(seq 0 14) 29 30 31; do for n in 1 2; do targets+=("127.20.$b.$n:$port"); addrs+=("127.20.$b.$n"); done; done
"$LAB" --truth "${addrs[@]}" >"$tmp/truth"

verify() {
  "$PLUGHOLE" --db "$db" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
    --helo verifier.test --connect-timeout 2 --timeout 3 --total-timeout 30 --retry-after 2.5 \
    --retries 2 --proof-grace 0.5 --wait 3 --per-net 4 "$@"
}
verify "${targets[@]}" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail "verify failed"
cat "$tmp/verify.out"

"$PLUGHOLE" --db "$db" findings | sed 1d >"$tmp/findings" # the rows, without the header line
assert_eq "$(wc -l <"$tmp/findings")" 36 "one finding per target"
while IFS=$'\t' read -r addr behaviour expected software; do
  got=$(awk -F'\t' -v a="$addr" '$1 == a { print $3 }' "$tmp/findings")
  assert_eq "$got" "$expected" "$addr plays $behaviour"
  # software shows in the banner and EHLO of servers that talk to the end
  if [ -n "$software" ] && { [ "$expected" = open-relay ] || [ "$expected" = closed ] || [ "$expected" = relay-accepted ]; }; then
    got_sw=$(awk -F'\t' -v a="$addr" '$1 == a { print $7 }' "$tmp/findings")
    assert_eq "$got_sw" "$software" "software of $addr"
  fi
done <"$tmp/truth"

# Open relays: proven by a genuine token; the percent-only host by the percent hack.
q() { sqlite3 "$db" "$1"; }
transcript() { q "select sqlar_uncompress(transcript, transcript_size) from findings f join candidates c on c.id = f.candidate_id where c.address = '$1'"; }
assert_eq "$(q "select count(*) from findings where verdict = 'open-relay' and token is not null and exit_address is not null")" 14
assert_eq "$(q "select variant from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.3.1'")" percent-hack
assert_eq "$(q "select variant from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.1.1'")" plain
assert_eq "$(q "select tls from findings f join candidates c on c.id = f.candidate_id where c.address = '127.20.5.1'")" 1
# Greylisting (127.20.4.N): the retry presented the deferred envelope again,
# the same sender and recipient (so the same token), and one message went.
for a in 127.20.4.1 127.20.4.2; do
  assert_eq "$(q "select variant from findings f join candidates c on c.id = f.candidate_id where c.address = '$a'")" plain
  assert_eq "$(q "select count(*) from probes p join candidates c on c.id = p.candidate_id where c.address = '$a'")" 1
  token=$(q "select p.token from probes p join candidates c on c.id = p.candidate_id where c.address = '$a'")
  [ "$(grep -c "^$a	RCPT TO:<$token@sink.test>" "$tmp/commands.log")" -ge 2 ] ||
    fail "$a: the retry should present the deferred recipient <$token@sink.test> again"
done
# A retry waits as long as the greylister asks ("try again in 2 seconds"),
# longer than --retry-after: else it comes too early and is deferred again.
"$PLUGHOLE" --db "$tmp/db5" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
  --helo verifier.test --retry-after 0.3 --retries 1 --proof-grace 0.5 --wait 2 "127.20.4.1:$port" \
  >"$tmp/verify5.out" 2>>"$tmp/verify.err" || fail "verify of the greylisted host failed"
assert_eq "$(sqlite3 "$tmp/db5" "select verdict || ' ' || attempts from findings")" "open-relay 2"
# Exim-like hosts (127.20.29.N open, 127.20.30.N closed) hang up after syntax
# errors: the open one is proven by a common variant before any exotic form
# cost its session; the closed one is closed, not unreachable.
for a in 127.20.29.1 127.20.29.2; do
  assert_eq "$(q "select variant from findings f join candidates c on c.id = f.candidate_id where c.address = '$a'")" plain
  assert_eq "$(q "select software from findings f join candidates c on c.id = f.candidate_id where c.address = '$a'")" Exim
done
grep -q '^127\.20\.30\.1	RSET' "$tmp/commands.log" || fail "the closed Exim-like host was not tested"
# One that accepts only the percent hack hangs up before its message: a new
# connection sends it (and only it).
for a in 127.20.31.1 127.20.31.2; do
  assert_eq "$(q "select variant from findings f join candidates c on c.id = f.candidate_id where c.address = '$a'")" percent-hack
  assert_eq "$(q "select count(*) from probes p join candidates c on c.id = p.candidate_id where c.address = '$a'")" 1
  assert_contains "$(transcript "$a")" "-- connecting again"
done
# One message per accepted variant, never more: the open relay needed one,
# each proof maps to a recorded message.
assert_eq "$(q "select count(*) from probes p join candidates c on c.id = p.candidate_id where c.address = '127.20.1.1'")" 1
assert_eq "$(q "select count(*) from proofs where token not in (select token from probes)")" 0
assert_eq "$(q "select count(*) from (select token from probes group by token having count(*) > 1)")" 0
# Each message was recorded before it went out, then given the server's answer.
assert_eq "$(q "select count(*) from probes where reply is null or finished is null or outcome not in ('message-sent', 'message-withdrawn')")" 0
# Accept-then-drop took a message for every variant, none arrived.
drop=$(q "select count(*) from probes p join candidates c on c.id = p.candidate_id where c.address = '127.20.2.1'")
[ "$drop" -le 13 ] || fail "accept-then-drop took $drop messages, more than one per variant"
[ "$drop" -ge 13 ] || fail "accept-then-drop should take one message per variant, took $drop"
# Every forwarded message the sink got was addressed to the sink's domain.
[ "$(grep -vc 'sink.test' "$tmp/forward.log" || true)" = 0 ] || fail "a relay was asked to deliver outside the sink"
# A server that advertises PIPELINING gets every variant's MAIL, RCPT and RSET
# in one write (its transcript shows commands back to back); one that does
# not (the lab's OpenSMTPD) gets them one at a time.
sweep='>> RSET
>> MAIL FROM'
assert_contains "$(transcript 127.20.0.1)" "$sweep"
assert_not_contains "$(transcript 127.20.1.2)" "$sweep"
# After the sweep each accepted variant gets one group, RSET, MAIL, RCPT and
# DATA back to back: the accept-then-drop host's DATA lines follow its RCPTs.
groups=$(transcript 127.20.2.1 | grep -B1 -x '>> DATA' | grep -c '^>> RCPT TO' || true)
[ "$groups" -ge 13 ] || fail "accept-then-drop should get one pipelined group per variant, got $groups"
# Transcripts are kept and bounded.
q "select max(coalesce(transcript_size, length(transcript))) from findings" | awk '{ exit !($1 > 100 && $1 <= 6144) }' || fail "transcript size"

# A connection whose time runs out while its next message waits for the last
# one's proof grace ends with what it knows and records no message it did not send.
"$PLUGHOLE" --db "$tmp/db3" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test \
  --helo verifier.test --total-timeout 1.5 --proof-grace 5 --retries 0 --wait 0 \
  "127.20.2.1:$port" "127.20.2.2:$port" >"$tmp/verify3.out" 2>>"$tmp/verify.err" || fail "time-limited verify failed"
assert_eq "$(sqlite3 "$tmp/db3" "select group_concat(verdict) from findings")" "relay-accepted,relay-accepted"
assert_eq "$(sqlite3 "$tmp/db3" "select count(*) from probes where outcome = 'message-sent' and reply is not null")" 2
assert_eq "$(sqlite3 "$tmp/db3" "select count(*) from probes")" 2
assert_contains "$(sqlite3 "$tmp/db3" "select sqlar_uncompress(transcript, transcript_size) from findings limit 1")" "-- timeout in hold"

# A second run finds nothing pending and sends nothing.
verify >"$tmp/verify2.out" 2>>"$tmp/verify.err"
assert_contains "$(cat "$tmp/verify2.out")" "verify: 0 targets"

# Without --allow-loopback nothing is contacted: the loopback sink is refused
# before anything starts (proxies would be told to connect there).
printf '127.20.1.9:%s\n' "$port" | "$PLUGHOLE" --db "$tmp/db2" ingest --allow-loopback - >/dev/null 2>&1
status=0; out=$("$PLUGHOLE" --db "$tmp/db2" verify --sink "$SINK" --sink-domain sink.test --wait 0 2>&1) || status=$?
assert_eq "$status" 1 "verify with a loopback sink and no --allow-loopback"
assert_contains "$out" "--sink $SINK: the address is excluded"
assert_eq "$(sqlite3 "$tmp/db2" "select count(*) from findings")" 0

# findings formats: JSON parses, CSV has a header, --verdict filters.
"$PLUGHOLE" --db "$db" findings --format json --transcript | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d) == 36 and all("transcript" in r for r in d)'
assert_eq "$("$PLUGHOLE" --db "$db" findings --format csv | head -n 1 | cut -d, -f1-3)" "address,port,verdict"
assert_eq "$("$PLUGHOLE" --db "$db" findings --verdict tempfail | wc -l)" 3 "a header and two rows"
assert_eq "$("$PLUGHOLE" --db "$db" findings | head -n 1)" \
  "$(printf 'address\tport\tverdict\ttest\tvariant\tprotocol\tsoftware\ttls\texit_address\ttoken\tattempts\tfirst_checked\tlast_checked')"
# A banner may claim any name (here a third party's): no command names it. The
# closed hosts refuse every variant, so the log holds every address we send.
lab_start fake-lab --banner-domain mx.fake.example --hosts 127.63.13.0/30 --mix closed=1 \
  --command-log "$tmp/fake-commands.log"
fake_port=$LAB_PORT
"$PLUGHOLE" --db "$tmp/db4" verify --tests relay --allow-loopback --sink 127.63.41.1:2541 --sink-domain sink.test \
  --helo verifier.test --connect-timeout 2 --timeout 3 --retries 0 --proof-grace 0.2 --wait 0 \
  127.63.13.1:"$fake_port" 127.63.13.2:"$fake_port" >"$tmp/verify4.out" 2>>"$tmp/verify.err" || fail "verify of the fake-banner hosts failed"
assert_eq "$(sqlite3 "$tmp/db4" "select group_concat(verdict) from findings")" "closed,closed"
assert_contains "$(sqlite3 "$tmp/db4" "select sqlar_uncompress(transcript, transcript_size) from findings limit 1")" "220 mx.fake.example"
[ "$(grep -c '	RCPT TO:' "$tmp/fake-commands.log")" -ge 26 ] || fail "every variant's RCPT should reach the fake-banner hosts"
! grep -i 'fake\.example' "$tmp/fake-commands.log" || fail "a command named the domain the banner claims"
echo "verify_lab: ok"

#!/usr/bin/env bash
# Rechecks (issue 13.2): a campaign's hosts, treatment and control, verified
# again with the tests of their frozen verdicts and fresh tokens into a
# recheck round (seq 1, 2, ...); hosts the lab "fixes" in between (its
# --fixed-file) come out fixed, the rest open again with a new proof of this
# round. --at-least-after refuses a round too soon after the previous one.
# kill -9 mid-recheck: the next recheck continues the same round, tests no
# host that had a row in it again and skips none. --every/--rounds store a
# schedule; recheck --due runs what is due, once.
# Addresses: lab relays 127.80.N.{1,2,3} (N = 10..21), SOCKS5 proxies
# 127.81.1.{1,2}, sink 127.80.250.1.
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
ph() { "$PLUGHOLE" "$@"; }
SINK=127.80.250.1:2580
fixed="$tmp/fixed"
: >"$fixed"
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.80.0.0/16 --mix open=1 --fixed-file "$fixed" \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.81.1.0/24 --mix socks5-open=1 --fixed-file "$fixed" \
  >"$tmp/lab-socks.out" 2>"$tmp/lab-socks.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
socks=$(lab_ports "$tmp/lab-socks.out") || fail "the SOCKS lab did not start"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1)
targets=()
for n in $(seq 10 21); do for h in 1 2 3; do targets+=("127.80.$n.$h:$port"); done; done
ph verify --tests relay "${engine[@]}" "${targets[@]}" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail "verify"
ph verify --tests proxy "${engine[@]}" "127.81.1.1:$socks" "127.81.1.2:$socks" >>"$tmp/verify.out" 2>>"$tmp/verify.err" ||
  fail "verify of the proxies"
assert_eq "$(q "select count(*) from findings where verdict like 'open-%'")" 38

# thirteen owners: one per relay /24, one for the proxies
{
  for n in $(seq 10 21) 1; do
    net="127.80.$n"; [ "$n" = 1 ] && net=127.81.1
    printf 'inetnum: %s.0 - %s.255\nnetname: RC-%s\ndescr: Recheck Owner %s\ncountry: %s\nabuse-c: R%s-RC\nsource: RC\n\n' \
      "$net" "$net" "$n" "$n" "$([ $((n % 2)) = 0 ] && echo DE || echo FR)" "$n"
    printf 'role: Owner %s abuse\nabuse-mailbox: abuse@rc%s.example\nnic-hdl: R%s-RC\nsource: RC\n\n' "$n" "$n" "$n"
  done
} >"$tmp/registry.rpsl"
ph attribute load "$tmp/registry.rpsl" >/dev/null 2>"$tmp/load.err" || fail "attribute load"
ph attribute >/dev/null 2>"$tmp/attr.err" || fail "attribute"
ph campaign create rc --control 0.4 --seed 5 --domain rc.test >"$tmp/create.out" 2>"$tmp/create.err" || fail "create"
assert_contains "$(cat "$tmp/create.out")" "38 hosts of 13 owners"
hosts=38

# ---- too soon: the campaign was created a moment ago ----
s=0; ph recheck rc --at-least-after 1h "${engine[@]}" >"$tmp/soon.out" 2>"$tmp/soon.err" || s=$?
assert_eq "$s" 1 "--at-least-after refuses"
assert_contains "$(cat "$tmp/soon.err")" "less than --at-least-after ago: not before"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck'")" 0

# ---- the lab fixes a treatment owner's hosts, one control host and a proxy ----
hosts_of() { # GROUP: address:port of its hosts
  q "select h.address || ':' || h.port from campaign_hosts h join campaign_owners o on o.id = h.campaign_owner_id
     where o.grp = '$1' order by h.candidate_id"; }
mapfile -t treated < <(hosts_of treatment | grep '^127\.80\.' | head -n 3)
control=$(hosts_of control | head -n 1)
{ echo "# fixed by their owners"; printf '%s\n' "${treated[@]}" "$control" | cut -d: -f1; echo 127.81.1.2; } >"$fixed"
nfixed=$(printf '%s\n' "${treated[@]}" "$control" 127.81.1.2 | sort -u | wc -l)

ph recheck rc "${engine[@]}" >"$tmp/r1.out" 2>"$tmp/r1.err" || fail "recheck 1"
cat "$tmp/r1.out"
assert_contains "$(cat "$tmp/r1.out")" "recheck rc: recheck 1 (round"
r1=$(q "select id from rounds where kind = 'recheck' and seq = 1 and status = 'done'")
[ -n "$r1" ] || fail "no finished recheck round 1"
assert_eq "$(q "select count(*) from round_findings where round_id = $r1")" "$hosts" "one row per host"
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $r1 and outcome = 'fixed'")" "$nfixed"
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $r1 and outcome = 'open'")" "$((hosts - nfixed))"
# each proven host is open on a proof of this round: a token no earlier round had, bound to a probe of its run
assert_eq "$(q "select count(*) from round_findings rf join campaign_hosts h on h.candidate_id = rf.candidate_id
   where rf.round_id = $r1 and rf.verdict like 'open-%' and rf.token = h.token")" 0 "fresh tokens"
assert_eq "$(q "select count(*) from round_findings rf join verify_runs r on r.round_id = rf.round_id
   join proof_bindings b on b.token = rf.token and b.run_id = r.id where rf.round_id = $r1 and rf.verdict like 'open-%'")" \
  "$((hosts - nfixed))"
# the proxies got the proxy test, the relays the relay test
assert_eq "$(q "select group_concat(distinct p.test) from probes p join verify_runs r on r.id = p.run_id
   join candidates c on c.id = p.candidate_id where r.round_id = $r1 and c.address like '127.81.%'")" proxy
assert_eq "$(q "select group_concat(distinct p.test) from probes p join verify_runs r on r.id = p.run_id
   join candidates c on c.id = p.candidate_id where r.round_id = $r1 and c.address like '127.80.%'")" relay
assert_contains "$(cat "$tmp/r1.out")" "fixed"
# findings shows the latest: a fixed host is closed now, its round-0 verdict kept in history
one=${treated[0]}
assert_eq "$(ph findings --format tsv | awk -F'\t' -v a="${one%:*}" '$1 == a { print $3 }')" closed
assert_contains "$(ph findings --history "$one" --format csv)" ",recheck,1,${one%:*},${one#*:},closed,"

# ---- kill -9 mid-recheck, then recheck again: the same round, no host twice, none skipped ----
: >"$fixed"
slow=(--rate 4 --concurrency 2)
# not through a function: $! must be plughole itself
"$PLUGHOLE" recheck rc "${engine[@]}" "${slow[@]}" >"$tmp/r2a.out" 2>"$tmp/r2a.err" & rpid=$!; pids+=("$rpid")
for _ in $(seq 200); do
  [ "$(q "select count(*) from round_findings rf join rounds r on r.id = rf.round_id where r.seq = 2" 2>/dev/null || echo 0)" -ge 8 ] && break
  sleep 0.1
done
kill -9 "$rpid"; wait "$rpid" 2>/dev/null || true
r2=$(q "select id from rounds where kind = 'recheck' and seq = 2")
assert_eq "$(q "select status from rounds where id = $r2")" running
had=$(q "select group_concat(candidate_id) from round_findings where round_id = $r2")
[ "$(q "select count(*) from round_findings where round_id = $r2")" -lt "$hosts" ] || fail "the recheck ended before the kill"
first_run=$(q "select max(id) from verify_runs where round_id = $r2")
ph recheck rc "${engine[@]}" >"$tmp/r2b.out" 2>"$tmp/r2b.err" || fail "the resumed recheck"
assert_contains "$(cat "$tmp/r2b.err")" "continuing recheck 2 (round $r2)"
assert_eq "$(q "select status from rounds where id = $r2")" "done"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck'")" 2 "no third round"
assert_eq "$(q "select count(*), count(distinct candidate_id) from round_findings where round_id = $r2")" "$hosts|$hosts"
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $r2 and outcome = 'untested'")" 0
assert_eq "$(q "select count(*) from probes p join verify_runs r on r.id = p.run_id
   where r.round_id = $r2 and r.id > $first_run and p.candidate_id in ($had)")" 0 "a host with a row is not tested again"
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $r2 and outcome = 'open'")" "$hosts" \
  "the lab undid its fixes: open again"

# ---- the schedule: --due runs the round that is due, once ----
ph recheck rc --every 1m --rounds 3 >"$tmp/sched.out" 2>&1 || fail "--every"
assert_eq "$(q "select every, rounds from campaign_schedules")" "60|3"
ph recheck --due "${engine[@]}" >"$tmp/due0.out" 2>"$tmp/due0.err" || fail "--due (nothing due)"
assert_contains "$(cat "$tmp/due0.err")" "round 3 is due at"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck'")" 2
q "update rounds set started = started - 120 where kind = 'recheck'"
ph recheck --due "${engine[@]}" >"$tmp/due1.out" 2>"$tmp/due1.err" || fail "--due"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck' and status = 'done'")" 3
ph recheck --due "${engine[@]}" >"$tmp/due2.out" 2>"$tmp/due2.err" || fail "--due again"
assert_eq "$(q "select count(*) from rounds where kind = 'recheck'")" 3 "the second --due does nothing"
assert_contains "$(cat "$tmp/due2.err")" "all 3 rounds of its schedule ran"
s=0; ph recheck nosuch "${engine[@]}" >/dev/null 2>"$tmp/nosuch.err" || s=$?
assert_eq "$s" 1
assert_contains "$(cat "$tmp/nosuch.err")" "no campaign 'nosuch'"
echo "recheck: ok"

#!/usr/bin/env bash
# Owner-requested checks (issue 14 items 4 and 5, the back end): a ticket's
# hosts or one address verified again in a child plughole, into a round of
# kind 'owner' (requested_by ticket:T / address:A) that no campaign counts;
# a status per host (pending, open, fixed, gone, inconclusive); refused
# within 10 minutes of the last check of the ticket, the address or its /24,
# when too many run, and for an excluded address (never tested).
# Addresses: lab relays 127.81.10-12.{1,2}, 127.81.13.1; excluded 127.81.30.0/24; sink 127.81.250.1.
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
status_of() { local s=0; "$@" >"$tmp/out" 2>"$tmp/err" || s=$?; echo "$s"; }
SINK=127.81.250.1:2581
fixed="$tmp/fixed"; : >"$fixed"
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.81.0.0/16 --mix open=1 --fixed-file "$fixed" \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
echo "127.81.30.0/24" >"$tmp/exclude"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1 --exclude-file "$tmp/exclude")
ph verify --tests relay "${engine[@]}" 127.81.1{0,1,2}.{1,2}":$port" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail verify
{
  for n in 10 11 12; do
    printf 'inetnum: 127.81.%s.0 - 127.81.%s.255\nnetname: OC-%s\ndescr: Owner %s\ncountry: DE\nabuse-c: R%s-OC\nsource: OC\n\n' \
      "$n" "$n" "$n" "$n" "$n"
    printf 'role: Owner %s abuse\nabuse-mailbox: abuse@oc%s.example\nnic-hdl: R%s-OC\nsource: OC\n\n' "$n" "$n" "$n"
  done
} >"$tmp/registry.rpsl"
ph attribute load "$tmp/registry.rpsl" >/dev/null 2>"$tmp/load.err" || fail "attribute load"
ph attribute >/dev/null 2>"$tmp/attr.err" || fail attribute
ph campaign create oc --control 0 --seed 1 --domain oc.test >"$tmp/create.out" 2>"$tmp/create.err" || fail create
ticket=$(q "select l.ticket from letters l join campaign_owners o on o.id = l.campaign_owner_id where o.organisation = 'Owner 10'")
[ -n "$ticket" ] || fail "no ticket for Owner 10"

# ---- a ticket's check: started in its own process, the caller free at once; then its status ----
[ "$(status_of ph recheck --ticket "$ticket" "${engine[@]}")" = 0 ] || fail "start: $(cat "$tmp/err")"
round=$(sed -n 's/^round \([0-9]*\)$/\1/p' "$tmp/out")
[ -n "$round" ] || fail "no round id printed: $(cat "$tmp/out")"
assert_eq "$(q "select kind, requested_by, campaign_id is null, seq is null from rounds where id = $round")" "owner|ticket:$ticket|1|1"
for _ in $(seq 100); do ph recheck --status "$round" >"$tmp/status" 2>&1; grep -q finished "$tmp/status" && break; sleep 0.1; done
assert_eq "$(head -n 1 "$tmp/status")" "round $round ticket:$ticket finished"
assert_eq "$(sed 1d "$tmp/status" | sort)" "127.81.10.1:$port open open-relay
127.81.10.2:$port open open-relay"
# again at once: refused, nothing started
[ "$(status_of ph recheck --ticket "$ticket" "${engine[@]}")" = 1 ] || fail "a second check within 10 minutes"
assert_contains "$(cat "$tmp/err")" "ticket:$ticket was checked less than 10 minutes ago"
assert_eq "$(q "select count(*) from rounds where kind = 'owner'")" 1

# ---- the owner fixes one host; eleven minutes later the check says so ----
echo 127.81.10.2 >"$fixed"
q "update rounds set started = started - 660 where id = $round"
[ "$(status_of ph recheck --ticket "$ticket" --until-done "${engine[@]}")" = 0 ] || fail "second check: $(cat "$tmp/err")"
round2=$(sed -n 's/^round \([0-9]*\)$/\1/p' "$tmp/out")
assert_contains "$(cat "$tmp/out")" "127.81.10.1:$port open open-relay"
assert_contains "$(cat "$tmp/out")" "127.81.10.2:$port fixed closed"
# fresh tokens: the open host's proof in this round is bound to a probe of this round
assert_eq "$(q "select count(*) from round_findings rf join verify_runs r on r.round_id = rf.round_id
   join proof_bindings b on b.token = rf.token and b.run_id = r.id where rf.round_id = $round2")" 1
# owner rounds are no campaign's: no recheck number, no outcome
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id in ($round, $round2)")" 0
ph recheck oc "${engine[@]}" >"$tmp/r1.out" 2>"$tmp/r1.err" || fail "campaign recheck"
assert_eq "$(q "select seq from rounds where kind = 'recheck'")" 1 "the campaign's first recheck is number 1"

# ---- an address: the relay port and (here) one more port; its /24 and the excluded are refused ----
[ "$(status_of ph recheck --address 127.81.12.1 --check-ports "$port,$((port == 65535 ? 1 : port + 1))" --until-done \
  "${engine[@]}")" = 0 ] || fail "address check: $(cat "$tmp/err")"
assert_contains "$(cat "$tmp/out")" "address:127.81.12.1 finished"
assert_contains "$(cat "$tmp/out")" "127.81.12.1:$port open open-relay"
assert_eq "$(grep -c '^127\.81\.12\.1:' "$tmp/out")" 2
[ "$(status_of ph recheck --address 127.81.12.2 --check-ports "$port" "${engine[@]}")" = 1 ] || fail "same /24"
assert_contains "$(cat "$tmp/err")" "an address of the same network was checked less than 10 minutes ago"
[ "$(status_of ph recheck --address 127.81.30.5 --check-ports "$port" "${engine[@]}")" = 1 ] || fail "excluded"
assert_contains "$(cat "$tmp/err")" "is on the list of addresses never tested"
assert_eq "$(q "select count(*) from candidates where address = '127.81.30.5'")" 0

# ---- at most 4 at once ----
q "insert into rounds(kind, requested_by, started, status) select 'owner', 'address:127.81.' || (40 + value) || '.1', unixepoch(), 'running'
   from generate_series(1, 4)" 2>/dev/null ||
  for i in 1 2 3 4; do q "insert into rounds(kind, requested_by, started, status) values('owner', 'address:127.81.4$i.1', unixepoch(), 'running')"; done
[ "$(status_of ph recheck --address 127.81.13.1 --check-ports "$port" "${engine[@]}")" = 1 ] || fail "a fifth at once"
assert_contains "$(cat "$tmp/err")" "4 checks are running"
# a running round whose process is gone counts no longer (after the start grace), and reads interrupted:
# its hosts not tested, not inconclusive
q "update rounds set started = started - 60 where requested_by like 'address:127.81.4_.1'"
[ "$(status_of ph recheck --address 127.81.13.1 --check-ports "$port" --until-done "${engine[@]}")" = 0 ] ||
  fail "with the dead ones not counted: $(cat "$tmp/err")"
dead=$(q "select id from rounds where requested_by = 'address:127.81.41.1'")
ph recheck --status "$dead" --check-ports "$port" >"$tmp/dead" || fail "status of a dead round"
assert_eq "$(cat "$tmp/dead")" "round $dead address:127.81.41.1 interrupted
127.81.41.1:$port not-tested -"
[ "$(status_of ph recheck --status 999)" = 1 ] || fail "status of no round"
assert_contains "$(cat "$tmp/err")" "no owner round 999"
echo "owner_check: ok"

#!/usr/bin/env bash
# Rounds (issue 13): every verify is a round with its own verdicts; findings
# shows the latest, --round N one round, --history ADDRESS[:PORT] every round
# of an address. A store from before rounds (schema 7) keeps its findings as
# round 0. A verdict and its round's row are written together.
# Addresses: lab hosts 127.80.1.0/29 (open relays) and 127.80.2.0/29
# (closed), sink 127.80.0.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err >&2 || true; exit 1; }
q() { sqlite3 "$1" "$2"; }

# --- A store of schema 7 with findings: opened, its findings become round 0.
old="$tmp/old.db"
"$PLUGHOLE" --db "$old" findings >/dev/null 2>&1 || true
"$PLUGHOLE" --db "$old" ingest --allow-loopback - <<<"127.80.9.1:25" >/dev/null 2>&1 || fail "ingest"
# back to schema 7: what migrations 8 to 10 made goes
q "$old" "drop view campaign_round_outcomes; drop index verify_runs_round; drop index round_findings_run;
  drop index rounds_requested; drop table round_findings; drop table campaign_schedules; drop table rounds;
  alter table verify_runs drop column round_id;
  alter table attributions drop column further; alter table campaign_owners drop column further;
  insert into candidates(address, port, family, first_seen, last_seen) values('127.80.9.2', 25, 4, 1, 1);
  insert into findings(candidate_id, verdict, test, protocol, token, first_checked, last_checked)
    select id, 'open-relay', 'relay', 'smtp-relay', 'phold', 1000, 2000 from candidates where address = '127.80.9.1';
  insert into findings(candidate_id, verdict, test, first_checked, last_checked)
    select id, 'closed', 'relay', 1500, 1600 from candidates where address = '127.80.9.2';
  pragma user_version = 7;"
assert_eq "$(q "$old" "pragma user_version")" 7
out=$("$PLUGHOLE" --db "$old" findings --round 0 --format csv) || fail "findings --round 0 on a migrated store"
assert_eq "$(q "$old" "pragma user_version")" "$(q "$tmp/old.db" "pragma user_version")"
assert_contains "$out" "0,verify,,127.80.9.1,25,open-relay,relay"
assert_contains "$out" "0,verify,,127.80.9.2,25,closed,relay"
assert_eq "$(q "$old" "select count(*) || ' ' || min(started) || ' ' || max(finished) || ' ' || status from rounds")" "1 1000 2000 done"
assert_eq "$(q "$old" "select group_concat(checked) from (select checked from round_findings order by checked)")" "1600,2000"

# --- Verify writes rounds.
SINK=127.80.0.1:2580
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.80.1.0/29 --mix open=1 \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
db="$tmp/db"
for n in 1 2 3; do echo "127.80.1.$n:$port"; echo "127.80.2.$n:$port"; done >"$tmp/list"
"$PLUGHOLE" --db "$db" ingest --allow-loopback "$tmp/list" >/dev/null 2>&1
args=(--db "$db" verify --tests relay --allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test
  --connect-timeout 2 --timeout 4 --retries 0 --proof-grace 0.5 --wait 1)
"$PLUGHOLE" "${args[@]}" >"$tmp/v1.out" 2>"$tmp/v1.err" || fail "first verify"
assert_eq "$(q "$db" "select id, kind, status from rounds")" "1|verify|done"
assert_eq "$(q "$db" "select count(*) from round_findings where round_id = 1")" 6
# the round's rows are the findings, verdict for verdict, with the run that wrote them
assert_eq "$(q "$db" "select count(*) from findings f join round_findings rf on rf.candidate_id = f.candidate_id
  and rf.round_id = 1 and rf.verdict = f.verdict and rf.run_id = f.run_id and rf.token is f.token")" 6
latest=$("$PLUGHOLE" --db "$db" findings --format tsv | cut -f1-3 | sort)
round1=$("$PLUGHOLE" --db "$db" findings --round 1 --format tsv | cut -f4-6 | sort)
assert_eq "$round1" "$latest" "findings --round 1 = the latest findings after one verify"
assert_eq "$("$PLUGHOLE" --db "$db" findings --round 1 --verdict open-relay --format tsv | tail -n +2 | wc -l)" 3
# A second verify of the closed hosts (named: a relay that refused gets its message again only when named;
# open relays got theirs) is round 2; round 1 is kept, findings shows round 2's.
"$PLUGHOLE" "${args[@]}" "127.80.2.1:$port" >"$tmp/v2.out" 2>"$tmp/v2.err" || true
assert_eq "$(q "$db" "select id, kind from rounds order by id desc limit 1")" "2|verify"
hist=$("$PLUGHOLE" --db "$db" findings --history "127.80.2.1:$port" --format jsonl)
assert_eq "$(printf '%s\n' "$hist" | wc -l)" "$(q "$db" "select count(*) from round_findings rf join candidates c on c.id = rf.candidate_id where c.address = '127.80.2.1'")"
assert_contains "$hist" '"round":1,"kind":"verify"'
hist_all=$("$PLUGHOLE" --db "$db" findings --history 127.80.1.2 --format json)
assert_contains "$hist_all" '"address":"127.80.1.2","port":'"$port"',"verdict":"open-relay"'
assert_contains "$hist_all" '"tls":false'
"$PLUGHOLE" --db "$db" findings --round 99 >/dev/null 2>"$tmp/r99.err" && fail "--round 99 should fail"
assert_contains "$(cat "$tmp/r99.err")" "no round 99"

# A verify killed before its end leaves its round running: the next verify settles it as interrupted.
q "$db" "insert into rounds(kind, started, status) values('verify', 5, 'running')"
dead=$(q "$db" "select max(id) from rounds")
"$PLUGHOLE" "${args[@]}" >/dev/null 2>&1 || fail "third verify"
assert_eq "$(q "$db" "select status from rounds where id = $dead")" interrupted
echo "rounds: ok"

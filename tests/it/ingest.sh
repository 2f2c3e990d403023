#!/usr/bin/env bash
# Ingest the demo feeds: counts per file, idempotence, sources per candidate,
# exclusions, stdin, a CIDR beyond the limit, and a missing file.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
db="$tmp/db"; demo="$PLUGHOLE_SRC/data/demo"

out=$("$PLUGHOLE" --db "$db" ingest --allow-loopback --port 2525 "$demo"/*.*  2>"$tmp/err")
assert_contains "$out" "dnsbl-relays.rbldnsd: 73 lines, 83 taken, 7 excluded, 0 duplicate, 2 bad"
assert_contains "$out" "masscan.json: 45 lines, 40 taken, 1 excluded, 0 duplicate, 2 bad"
assert_contains "$out" "masscan.txt: 55 lines, 50 taken, 1 excluded, 0 duplicate, 1 bad"
assert_contains "$out" "shadowserver-open-relay.csv: 64 lines, 60 taken, 1 excluded, 0 duplicate, 2 bad"
assert_contains "$out" "suspects.txt: 100 lines, 99 taken, 3 excluded, 0 duplicate, 3 bad"
assert_contains "$out" "zmap.csv: 53 lines, 51 taken, 1 excluded, 0 duplicate, 0 bad"
assert_contains "$out" "the store now holds 383 candidates"
assert_contains "$(cat "$tmp/err")" "suspects.txt:97: not an IP address"
assert_contains "$(cat "$tmp/err")" "dnsbl-relays.rbldnsd:71: bad IPv4 octet"
# rbldnsd "!" exclusions hold wherever they stand in the file
assert_eq "$(sqlite3 "$db" "select count(*) from candidates where address in ('127.20.15.7','127.20.15.33')")" 0
assert_eq "$(sqlite3 "$db" "select count(*) from candidates where address = '::1'")" 1
assert_eq "$(sqlite3 "$db" "select count(*) from candidates where address like '10.%' or address like '192.168.%'")" 0

# The same files again add nothing; a second source is remembered.
out=$("$PLUGHOLE" --db "$db" ingest --allow-loopback --port 2525 "$demo"/*.* 2>/dev/null)
assert_contains "$out" "total: 390 lines, 0 taken, 14 excluded, 383 duplicate, 10 bad"
printf '127.20.0.1:2525\n127.20.0.2:2525\n' | "$PLUGHOLE" --db "$db" ingest --allow-loopback --source partner - >/dev/null 2>&1
assert_eq "$(sqlite3 "$db" "select count(*) from candidate_sources cs join sources s on s.id = cs.source_id where s.name = 'partner'")" 2

# Without --allow-loopback nothing of 127/8 gets in.
out=$("$PLUGHOLE" --db "$tmp/db2" ingest "$demo/suspects.txt" 2>/dev/null)
assert_contains "$out" "0 taken"

# A CIDR above the limit is a bad line unless the operator raises the limit.
printf '127.21.0.0/23\n' >"$tmp/big.txt"
out=$("$PLUGHOLE" --db "$tmp/db3" ingest --allow-loopback "$tmp/big.txt" 2>"$tmp/err")
assert_contains "$out" "0 taken, 0 excluded, 0 duplicate, 1 bad"
assert_contains "$(cat "$tmp/err")" "big.txt:1: range of 512 addresses is larger than the limit"
out=$("$PLUGHOLE" --db "$tmp/db3" ingest --allow-loopback --max-range 512 --port 25 --port 587 "$tmp/big.txt" 2>/dev/null)
assert_contains "$out" "1024 taken"

# Missing file: exit 1, what was stored stays; unknown format: usage error 2.
set +e
"$PLUGHOLE" --db "$db" ingest "$tmp/absent.txt" 2>"$tmp/err"; rc=$?
"$PLUGHOLE" --db "$db" ingest --format nessus "$demo/zmap.csv" 2>/dev/null; rc2=$?
set -e
assert_eq "$rc" 1
assert_contains "$(cat "$tmp/err")" "absent.txt: No such file or directory"
assert_eq "$rc2" 2
assert_eq "$(sqlite3 "$db" "select count(*) from candidates")" 383
echo "ingest: ok"

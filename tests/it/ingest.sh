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
# Safety (issue 11). Nothing verifies these stores: public and private
# addresses here are parser input only.
safe="$tmp/safe"; mkdir -p "$safe/loopback-data"
cp "$PLUGHOLE_DATA/exclude.conf" "$safe/loopback-data/"
# --allow-loopback lifts 127/8 and ::1 by their ranges: a data directory or an
# opt-out comment that says "loopback" lifts nothing else.
printf '10.0.0.1\n192.168.1.1\n224.0.0.1\n169.254.169.254\n11.0.0.1\n127.61.0.1\n[::1]:2525\n' >"$safe/mixed.txt"
printf '11.0.0.0/8 not a loopback host\n' >"$safe/optout"
printf '[safety]\noptout = %s\n' "$safe/optout" >"$safe/plughole.conf"
out=$(PLUGHOLE_DATA="$safe/loopback-data" "$PLUGHOLE" --config "$safe/plughole.conf" --db "$safe/db1" \
  ingest --allow-loopback "$safe/mixed.txt" 2>/dev/null)
assert_contains "$out" "7 lines, 2 taken, 5 excluded, 0 duplicate, 0 bad"
assert_eq "$(sqlite3 "$safe/db1" "select group_concat(address, ' ') from (select address from candidates order by address)")" "127.61.0.1 ::1"

# NAT64 and IPv4-compatible forms obey the IPv4 address they carry; the
# mapped form is a valid [ADDR]:PORT entry.
printf '64:ff9b::10.0.0.1\n::127.0.0.1\n::192.168.1.1\n::a9fe:a9fe\n64:ff9b::127.61.0.3\n[::ffff:127.61.0.2]:2525\n' >"$safe/embedded.txt"
out=$("$PLUGHOLE" --db "$safe/db2" ingest --allow-loopback "$safe/embedded.txt" 2>"$safe/err")
assert_contains "$out" "6 lines, 1 taken, 5 excluded, 0 duplicate, 0 bad"
assert_eq "$(sqlite3 "$safe/db2" "select address || ':' || port from candidates")" "127.61.0.2:2525"

# A plain list is never read as an rbldnsd zone on ambiguous evidence: a
# truncated line is a bad line (no /24 from it, ports kept), an IPv6 first
# line or a ';' line changes nothing; the choice and its reason are said.
printf '127.61.1.1:2525\n127.61.1\n127.61.1.2:2526\n' >"$safe/truncated.txt"
printf '[::1]:2527\n127.61.1.3:2527\n127.61.2\n' >"$safe/v6first.txt"
printf '; suspects\n127.61.1.4:2528\n' >"$safe/semicolon.txt"
for f in truncated v6first semicolon; do
  out=$("$PLUGHOLE" --db "$safe/db3" ingest --allow-loopback "$safe/$f.txt" 2>"$safe/err")
  assert_contains "$(cat "$safe/err")" "$f.txt: format plain ("
done
assert_contains "$(cat "$safe/err")" "semicolon.txt:1: ';' comments are rbldnsd's, not a plain list's"
"$PLUGHOLE" --db "$safe/db3" ingest --allow-loopback "$safe/truncated.txt" 2>"$safe/err" >/dev/null
assert_contains "$(cat "$safe/err")" "truncated.txt:2: a partial address, never expanded in a plain list (a zone? --format rbldnsd): \"127.61.1\""
assert_eq "$(sqlite3 "$safe/db3" "select group_concat(address || ':' || port, ' ') from (select * from candidates order by address, port)")" \
  "127.61.1.1:2525 127.61.1.2:2526 127.61.1.3:2527 127.61.1.4:2528 ::1:2527"
# A zone is detected on its evidence, and --format forces the reading.
"$PLUGHOLE" --db "$safe/db4" ingest --allow-loopback "$demo/dnsbl-relays.rbldnsd" 2>"$safe/err" >/dev/null
assert_contains "$(cat "$safe/err")" "format rbldnsd (a '\$' directive line)"
out=$("$PLUGHOLE" --db "$safe/db4" ingest --allow-loopback --format rbldnsd --port 2529 "$safe/truncated.txt" 2>"$safe/err")
assert_contains "$(cat "$safe/err")" "truncated.txt: format rbldnsd (forced by --format)"
assert_contains "$out" "3 lines, 256 taken, 0 excluded, 2 duplicate, 0 bad"  # 127.61.1 is a /24 there

# A bad line is shown escaped: no control byte reaches the terminal.
printf '127.61.3.1:2525\n\033]0;owned\007\033[2J\\"\n' >"$safe/hostile.txt"
"$PLUGHOLE" --db "$safe/db5" ingest --allow-loopback "$safe/hostile.txt" 2>"$safe/err" >/dev/null
assert_contains "$(cat "$safe/err")" 'hostile.txt:2: not an IP address: "\x1b]0;owned\x07\x1b[2J\\\""'
assert_eq "$(LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]' "$safe/err" || true)" 0
echo "ingest: ok"

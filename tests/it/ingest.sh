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
set +e  # its only line is bad: the file fails (exit 1)
out=$("$PLUGHOLE" --db "$tmp/db3" ingest --allow-loopback "$tmp/big.txt" 2>"$tmp/err"); rc=$?
set -e
assert_eq "$rc" 1
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

# Issue 15: the scanners' and IntelMQ's formats, each told by its evidence;
# gzip told by its magic bytes; rows the feed calls not open counted apart.
feeds="$tmp/feeds"; mkdir -p "$feeds"
cat >"$feeds/scan.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -oX scan.xml -p 25,587 127.69.1.0/30" version="7.94" xmloutputversion="1.05">
<host starttime="1" endtime="2"><status state="up" reason="localhost-response" reason_ttl="0"/>
<address addr="127.69.1.1" addrtype="ipv4"/>
<hostnames>
</hostnames>
<ports><port protocol="tcp" portid="25"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="smtp" method="table" conf="3"/></port>
<port protocol="tcp" portid="587"><state state="closed" reason="reset" reason_ttl="64"/></port>
<port protocol="udp" portid="53"><state state="open" reason="udp-response" reason_ttl="64"/></port>
</ports>
</host>
<host><status state="up"/>
<address addr="127.69.1.2" addrtype="ipv4"/>
<ports><extraports state="filtered" count="1"></extraports>
<port protocol="tcp" portid="587"><state state="open" reason="syn-ack" reason_ttl="64"/></port>
</ports>
</host>
</nmaprun>
EOF
printf '# Nmap 7.94 scan initiated as: nmap -oG scan.gnmap -p 25,587 127.69.2.0/30\nHost: 127.69.2.1 ()\tStatus: Up\nHost: 127.69.2.1 ()\tPorts: 25/open/tcp//smtp//Postfix smtpd/, 587/closed/tcp//submission///\tIgnored State: filtered (998)\nHost: 127.69.2.2 (mx.test)\tPorts: 587/open/tcp//submission///\n# Nmap done\n' >"$feeds/scan.gnmap"
printf 'saddr,daddr,sport,dport,classification,success,repeat\n127.69.3.1,127.69.0.9,25,40000,synack,1,0\n127.69.3.2,127.69.0.9,25,40000,rst,0,0\n127.69.3.3,127.69.0.9,2525,40000,synack,1,0\n' >"$feeds/zmap-out"
printf '"time.observation","source.ip","source.port","classification.type"\n"2026-12-04T09:00:00+00:00","127.69.4.1","25","open-relay"\n"2026-12-04T09:00:00+00:00","127.69.4.2","","open-relay"\n' >"$feeds/intelmq.csv"
printf '{"source.ip": "127.69.5.1", "source.port": 25, "classification.type": "vulnerable-service"}\n{"source": {"ip": "127.69.5.2", "port": 587}}\n{"source.fqdn": "relay.test"}\n' >"$feeds/events.jsonl"
check_feed() { # file format counts: detected as format, the counts said
  out=$("$PLUGHOLE" --db "$feeds/db" ingest --allow-loopback "$feeds/$1" 2>"$feeds/err")
  assert_contains "$(cat "$feeds/err")" "$1: format $2 ("
  assert_contains "$out" "$1: $3"
}
check_feed scan.xml nmap-xml "19 lines, 2 taken, 0 excluded, 0 duplicate, 0 bad, 2 not open"
check_feed scan.gnmap nmap-grep "5 lines, 2 taken, 0 excluded, 0 duplicate, 0 bad, 1 not open"
check_feed zmap-out zmap-csv "4 lines, 2 taken, 0 excluded, 0 duplicate, 0 bad, 1 not open"
check_feed intelmq.csv intelmq-csv "3 lines, 2 taken, 0 excluded, 0 duplicate, 0 bad, 0 not open"
check_feed events.jsonl intelmq-json "3 lines, 2 taken, 0 excluded, 0 duplicate, 1 bad, 0 not open"
assert_contains "$(cat "$feeds/err")" 'events.jsonl:3: no "source.ip"'
assert_eq "$(sqlite3 "$feeds/db" "select group_concat(address || ':' || port, ' ') from (select * from candidates order by address, port)")" \
  "127.69.1.1:25 127.69.1.2:587 127.69.2.1:25 127.69.2.2:587 127.69.3.1:25 127.69.3.3:2525 127.69.4.1:25 127.69.4.2:25 127.69.5.1:25 127.69.5.2:587"
# gzip, whatever the name, from a file and from a pipe; a gzip cut short fails
for f in scan.xml scan.gnmap zmap-out intelmq.csv events.jsonl; do gzip -c "$feeds/$f" >"$feeds/$f.data"; done
for f in scan.xml scan.gnmap zmap-out intelmq.csv events.jsonl; do
  out=$("$PLUGHOLE" --db "$feeds/db-gz" ingest --allow-loopback "$feeds/$f.data" 2>"$feeds/err" || true)
  assert_contains "$(cat "$feeds/err")" "$f.data: format "
  assert_contains "$(cat "$feeds/err")" ", gzip"
done
assert_eq "$(sqlite3 "$feeds/db-gz" "select count(*) from candidates")" 10
"$PLUGHOLE" --db "$feeds/db-gz" ingest --allow-loopback --format nmap-grep "$feeds/scan.gnmap.data" >/dev/null 2>"$feeds/err"
assert_contains "$(cat "$feeds/err")" "scan.gnmap.data: format nmap-grep (forced by --format), gzip"
out=$(gzip -c "$demo/suspects.txt" | "$PLUGHOLE" --db "$feeds/db-pipe" ingest --allow-loopback - 2>"$feeds/err")
assert_contains "$out" "stdin: 100 lines, 99 taken, 3 excluded, 0 duplicate, 3 bad"
gzip -c "$demo/dnsbl-relays.rbldnsd" >"$feeds/zone.gz"  # two passes ("!" first) through gzip too
out=$("$PLUGHOLE" --db "$feeds/db-zone" ingest --allow-loopback --port 2525 "$feeds/zone.gz" 2>/dev/null)
assert_contains "$out" "73 lines, 83 taken, 7 excluded, 0 duplicate, 2 bad"
head -c 200 "$feeds/zone.gz" >"$feeds/cut.gz"
set +e
"$PLUGHOLE" --db "$feeds/db-cut" ingest --allow-loopback "$feeds/cut.gz" >/dev/null 2>"$feeds/err"; rc=$?
set -e
assert_eq "$rc" 1
assert_contains "$(cat "$feeds/err")" "cut.gz: read error after line"
# a file of nothing but bad lines fails, naming the format it was read as
printf 'relay.test\nmx.test\n' >"$feeds/names.txt"
set +e
"$PLUGHOLE" --db "$feeds/db" ingest --allow-loopback "$feeds/names.txt" >/dev/null 2>"$feeds/err"; rc=$?
set -e
assert_eq "$rc" 1
assert_contains "$(cat "$feeds/err")" "names.txt: every entry is a bad line as plain (2 bad)"
# --format forces: the same gnmap file read as plain is nothing but bad lines
set +e
"$PLUGHOLE" --db "$feeds/db" ingest --allow-loopback --format plain "$feeds/scan.gnmap" >/dev/null 2>&1; rc=$?
set -e
assert_eq "$rc" 1
# one batch, stored sorted: a repeat inside it is a duplicate, as across runs
printf '127.69.6.9:25\n127.69.6.10:25\n127.69.6.9:25\n127.69.6.1:2525\n' >"$feeds/repeat.txt"
out=$("$PLUGHOLE" --db "$feeds/db-repeat" ingest --allow-loopback "$feeds/repeat.txt" 2>/dev/null)
assert_contains "$out" "4 lines, 3 taken, 0 excluded, 1 duplicate, 0 bad"
assert_eq "$(sqlite3 "$feeds/db-repeat" "select count(*) from candidate_sources")" 3
# the usage lists every format of the table
usage=$("$PLUGHOLE" ingest --help)
for f in plain zmap rbldnsd csv zmap-csv masscan-list masscan-json nmap-xml nmap-grep intelmq-csv intelmq-json; do
  assert_contains "$usage" "  $f "
done
echo "ingest: ok"

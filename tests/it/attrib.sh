#!/bin/bash
# Attribution from bulk registry data: load (plain and gzip, malformed objects
# reported as file:line), attribute findings, list owners, explain with whois,
# replace a snapshot atomically while readers keep reading.
set -euo pipefail

PLUGHOLE=${PLUGHOLE:?set by ctest}
SRC=${PLUGHOLE_SRC:?set by ctest}
FIX="$SRC/tests/fixtures/attrib"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
export PLUGHOLE_DB="$tmp/store.db"
fail() { echo "FAIL: $*" >&2; exit 1; }
# Matches captured output: "cmd | grep -q" under pipefail fails at random when grep exits at its
# match while cmd still writes (bash's echo writes line by line): cmd dies of SIGPIPE (141).
has() { grep -Eq -- "$1" <<< "$2"; }

# ---- load: every fixture, the inetnum dump gzip-compressed ----
gzip -c "$FIX/test.db.inetnum" > "$tmp/test.db.inetnum.gz"
"$PLUGHOLE" attribute load "$tmp/test.db.inetnum.gz" "$FIX"/test.db.inet6num "$FIX"/test.db.organisation \
	"$FIX"/test.db.role "$FIX"/test.db.irt "$FIX"/test.db.aut-num "$FIX"/delegated-test-extended \
	"$FIX"/pfx2as-test.txt "$FIX"/asnames-test.txt > "$tmp/load.out" 2> "$tmp/load.err"
cat "$tmp/load.out"
grep -q "test.db.inetnum.gz:71: inetnum: \"192.0.2.300 - 192.0.2.400\"" "$tmp/load.err" || fail "bad range not reported with file:line"
grep -q "test.db.inetnum.gz:92: not an attribute line" "$tmp/load.err" || fail "broken line not reported"
grep -q "test.db.role:17: role without nic-hdl" "$tmp/load.err" || fail "role without nic-hdl not reported"
grep -q "^test.db.inetnum: rpsl TEST: 13 objects, 8 ranges, 0 handles, 4 malformed, 1 skipped" "$tmp/load.out" \
	|| fail "inetnum counts (the source is named after the file without .gz)"
[ "$("$PLUGHOLE" attribute sources | sed 1d | wc -l)" -eq 9 ] || fail "nine sources expected"
# a pipe, gzip or not, with the source named
out=$(gzip -c "$FIX/asnames-test.txt" | "$PLUGHOLE" attribute load --source asnames-piped /dev/stdin)
has "^asnames-piped: asnames -: 4 objects" "$out" || fail "loading from a pipe"
"$PLUGHOLE" attribute remove asnames-piped

# ---- findings to attribute: candidates and verdicts as the verifier leaves them ----
sqlite3 "$PLUGHOLE_DB" <<'SQL'
INSERT INTO candidates(id, address, port, family, first_seen, last_seen) VALUES
 (1, '192.0.2.10', 25, 4, 0, 0), (2, '192.0.2.10', 8080, 4, 0, 0), (3, '192.0.2.130', 25, 4, 0, 0),
 (4, '192.0.2.200', 25, 4, 0, 0), (5, '192.0.2.240', 3128, 4, 0, 0), (6, '198.51.100.7', 25, 4, 0, 0),
 (7, '203.0.113.5', 1080, 4, 0, 0), (8, '100.64.1.1', 25, 4, 0, 0), (9, '198.18.5.5', 25, 4, 0, 0),
 (10, '2001:db8:1::5', 25, 6, 0, 0), (11, '2001:db8:2::1', 25, 6, 0, 0), (12, '192.0.2.201', 25, 4, 0, 0);
INSERT INTO findings(candidate_id, verdict) VALUES
 (1, 'open-relay'), (2, 'open-proxy-web'), (3, 'closed'), (4, 'open-relay'), (5, 'open-proxy-mail'),
 (6, 'relay-accepted'), (7, 'open-proxy-mail'), (8, 'open-relay'), (9, 'timeout'), (10, 'open-relay'),
 (11, 'open-relay'), (12, 'open-relay');
SQL

"$PLUGHOLE" attribute > "$tmp/attr.out"
cat "$tmp/attr.out"
grep -q "^attributed 12 of 12 findings" "$tmp/attr.out" || fail "all twelve findings attributed"
grep -q "parent-org-abuse-c *2" "$tmp/attr.out" || fail "rung counts"

# A second run finds nothing new; --all does everything again.
has "^attributed 0 of 0 findings" "$("$PLUGHOLE" attribute)" || fail "second run should find nothing to do"
has "^attributed 12 of 12 findings" "$("$PLUGHOLE" attribute --all)" || fail "--all"

# ---- owners: grouped by (organisation, abuse address) ----
"$PLUGHOLE" owners | sed 1d > "$tmp/owners.tsv" # the rows, without the header line
cat "$tmp/owners.tsv"
# Example Access B.V. answers for 192.0.2.200, .201, .240 and 2001:db8:2::1: one owner, four hosts, all open
awk -F'\t' '$2 == "Example Access B.V." && $4 == "abuse@example-access.example" && $3 == "ORG-EA1-TEST" &&
	$7 == 4 && $8 == 4 { found = 1 } END { exit !found }' "$tmp/owners.tsv" || fail "Example Access owner"
# Customer A: two ports of one address and an IPv6 range, under two names (its descr): two owners
awk -F'\t' '$4 == "abuse@customer-a.example" && $7 == 2 && $8 == 2 { found = 1 } END { exit !found }' \
	"$tmp/owners.tsv" || fail "Customer A owner with two hosts, both open"
awk -F'\t' '$4 == "abuse-desk@kisa.example.org" && $6 == "KISA" { found = 1 } END { exit !found }' "$tmp/owners.tsv" \
	|| fail "KR to KISA's national contact"
awk -F'\t' '$4 == "abuse-desk@cb.example.org" && $5 == "CA" { found = 1 } END { exit !found }' "$tmp/owners.tsv" \
	|| fail "CA (from delegated statistics) to the Competition Bureau"
[ "$(wc -l < "$tmp/owners.tsv")" -eq 8 ] || fail "eight owners expected"
"$PLUGHOLE" owners --format json | python3 -c '
import json, sys
owners = json.load(sys.stdin)
assert len(owners) == 8, owners
assert sum(int(o["hosts"]) for o in owners) == 12
assert {o["agency"] for o in owners} >= {"FTC", "MIC", "CGI.br", "KISA", "CB"}, owners
' || fail "owners as JSON"
"$PLUGHOLE" owners --hosts | sed 1d > "$tmp/hosts.tsv"
awk -F'\t' '$2 == "203.0.113.5" && $5 == "as-abuse" && $6 == "abuse@as64500.example" && $10 == 64500 &&
	$12 == "BR" && $13 == "CGI.br" && $14 == "bulk" { found = 1 } END { exit !found }' "$tmp/hosts.tsv" \
	|| fail "203.0.113.5 by its origin AS"
awk -F'\t' '$2 == "198.51.100.7" && $5 == "irt" && $6 == "irt@noabuse.example" { found = 1 } END { exit !found }' \
	"$tmp/hosts.tsv" || fail "198.51.100.7 by its irt"

# ---- whois: the whole chain ----
"$PLUGHOLE" whois 192.0.2.200 > "$tmp/whois.out"
grep -q "^range  192.0.2.192-192.0.2.223 inetnum CUSTOMER-C (test.db.inetnum:63)" "$tmp/whois.out" || fail "whois range"
grep -q "^parent 192.0.2.0-192.0.2.255 inetnum EXAMPLE-NET-1 (test.db.inetnum:25)" "$tmp/whois.out" || fail "whois parent"
grep -q "range-abuse-c: the range has no abuse-c" "$tmp/whois.out" || fail "whois says why a rung failed"
grep -q "^rung  *parent-org-abuse-c" "$tmp/whois.out" || fail "whois rung"
grep -q "^origin  *AS64496 EXAMPLE-ACCESS" "$tmp/whois.out" || fail "whois origin"
"$PLUGHOLE" whois not-an-address 2>/dev/null && fail "whois accepted a bad address"

# ---- replacing a snapshot: atomic for readers, a failed load keeps the old one ----
sed 's/^abuse-c:        AC1-TEST$/remarks:        abuse-c moved away/' "$FIX/test.db.inetnum" > "$tmp/changed.inetnum"
has "^rung  *range-abuse-c" "$("$PLUGHOLE" whois 192.0.2.10)" || fail "before the reload"
( for i in $(seq 1 15); do
	"$PLUGHOLE" attribute load --source test.db.inetnum "$tmp/changed.inetnum" > /dev/null 2>&1
	"$PLUGHOLE" attribute load --source test.db.inetnum "$FIX/test.db.inetnum" > /dev/null 2>&1
done ) &
loader=$!
pids+=("$loader")
reads=0
while kill -0 "$loader" 2>/dev/null; do
	status=0
	out=$("$PLUGHOLE" whois 192.0.2.10 2> "$tmp/reader.err") || status=$?
	why=
	if [ "$status" -ne 0 ]; then
		why="a reader failed during reloads"
	elif ! has "^rung  *(range-abuse-c|parent-org-abuse-c)$" "$out"; then
		why="a reader saw half a snapshot"
	elif ! has "^range  192.0.2.0-192.0.2.127 inetnum CUSTOMER-A" "$out"; then
		why="a reader lost the range"
	fi
	[ -z "$why" ] || fail "$why (read $((reads + 1)), exit status $status); its output:
$out
its stderr:
$(cat "$tmp/reader.err")"
	reads=$((reads + 1))
done
wait "$loader"
echo "readers during reloads: $reads"
"$PLUGHOLE" attribute load --source test.db.inetnum "$tmp/changed.inetnum" > /dev/null 2>&1
has "^rung  *parent-org-abuse-c$" "$("$PLUGHOLE" whois 192.0.2.10)" || fail "after the reload the parent organisation answers"
printf 'inetnum: 1.2.3.4 - 1.2.3.0\nsource: TEST\n\ninetnum: nonsense\n' > "$tmp/broken.db"
"$PLUGHOLE" attribute load --source test.db.inetnum "$tmp/broken.db" 2> "$tmp/broken.err" && fail "a useless file loaded"
grep -q "snapshot of test.db.inetnum is unchanged" "$tmp/broken.err" || fail "failed load message"
has "^rung  *parent-org-abuse-c$" "$("$PLUGHOLE" whois 192.0.2.10)" || fail "a failed load replaced the snapshot"
"$PLUGHOLE" attribute remove test.db.inetnum
has "^range  *none registered" "$("$PLUGHOLE" whois 192.0.2.10)" || fail "remove"
"$PLUGHOLE" attribute remove test.db.inetnum 2>/dev/null && fail "removing twice"

# ---- stale attributions: a snapshot replaced or removed has them redone ----
# The reloads and the removal above changed what the attributions rested on: none is left standing,
# owners lists nobody, and says what waits.
"$PLUGHOLE" owners 2> "$tmp/stale.err" | sed 1d > "$tmp/stale.tsv"
[ ! -s "$tmp/stale.tsv" ] || fail "owners still lists owners from a removed source: $(cat "$tmp/stale.tsv")"
grep -q "12 findings have no attribution yet" "$tmp/stale.err" || fail "owners says what waits: $(cat "$tmp/stale.err")"
has "^attributed 12 of 12 findings" "$("$PLUGHOLE" attribute)" || fail "attribute redoes what the removal made stale"
"$PLUGHOLE" owners 2> "$tmp/redone.err" | sed 1d > "$tmp/redone.tsv"
# 192.0.2.200, .201 and .240 were Example Access's through the removed inetnum: now only 2001:db8:2::1 is
awk -F'\t' '$4 == "abuse@example-access.example" && $7 == 1 { found = 1 } END { exit !found }' "$tmp/redone.tsv" \
	|| fail "Example Access keeps only its IPv6 host: $(cat "$tmp/redone.tsv")"
grep -q "owners: 12 attributions resting on these registry snapshots" "$tmp/redone.err" || fail "owners names its basis"
grep -q "^plughole:   test.db.inet6num (rpsl, loaded 20" "$tmp/redone.err" || fail "owners names each snapshot"
grep -q "test.db.inetnum " "$tmp/redone.err" && fail "owners names the removed snapshot"
# a reload (not only a removal) makes them stale too
"$PLUGHOLE" attribute load --source test.db.inetnum "$FIX/test.db.inetnum" > /dev/null 2> "$tmp/reload.err"
grep -q "12 findings wait for 'plughole attribute'" "$tmp/reload.err" || fail "load says what waits"
has "^attributed 12 of 12 findings" "$("$PLUGHOLE" attribute)" || fail "attribute redoes what the reload made stale"
has "^attributed 0 of 0 findings" "$("$PLUGHOLE" attribute)" || fail "and then nothing is stale"

# ---- owners --open: only owners with proven hosts, most proven first ----
# Three closed hosts make "Nobody answers here" the owner with most hosts (4) but one proven.
sqlite3 "$PLUGHOLE_DB" "INSERT INTO candidates(id, address, port, family, first_seen, last_seen) VALUES
 (13, '100.64.1.2', 25, 4, 0, 0), (14, '100.64.1.3', 25, 4, 0, 0), (15, '100.64.1.4', 25, 4, 0, 0);
 INSERT INTO findings(candidate_id, verdict) VALUES (13, 'closed'), (14, 'closed'), (15, 'closed');"
has "^attributed 3 of 3 findings" "$("$PLUGHOLE" attribute)" || fail "three more findings"
"$PLUGHOLE" owners 2>/dev/null | sed 1d > "$tmp/all.tsv"
"$PLUGHOLE" owners --open 2>/dev/null | sed 1d > "$tmp/open.tsv" || fail "owners --open"
cat "$tmp/open.tsv"
[ "$(awk -F'\t' '$8 > 0' "$tmp/all.tsv" | wc -l)" -eq "$(wc -l < "$tmp/open.tsv")" ] || fail "--open: every owner with open hosts"
[ "$(awk -F'\t' '$8 > 0' "$tmp/all.tsv" | wc -l)" -lt "$(wc -l < "$tmp/all.tsv")" ] || fail "the fixture lacks closed-only owners"
awk -F'\t' '$8 == 0 { exit 1 } NR > 1 && $8 > last { exit 1 } { last = $8 }' "$tmp/open.tsv" \
	|| fail "--open: only open owners, most open first"
[ "$(head -n 1 "$tmp/all.tsv" | cut -f 2,7,8)" = "$(printf 'Nobody answers here\t4\t1')" ] || fail "most hosts first"
[ "$(head -n 1 "$tmp/open.tsv" | cut -f 2,7,8)" = "$(printf 'Example Access B.V.\t4\t4')" ] || fail "--open: most open first"
[ "$(cut -f 8 "$tmp/open.tsv" | paste -sd ' ')" = "4 2 1 1 1" ] || fail "--open: by open hosts"
[ "$(sed -n 3p "$tmp/open.tsv" | cut -f 2)" = "Nobody answers here" ] || fail "--open: then by hosts"
"$PLUGHOLE" owners --open --hosts 2>/dev/null && fail "--open with --hosts"
echo "attrib: ok"

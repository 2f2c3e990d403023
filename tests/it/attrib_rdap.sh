#!/bin/bash
# RDAP against two local fixture registries on 127.0.50.1 and 127.0.50.2:
# bulk data first, RDAP for the rest; cache (one query per range, 404s
# remembered, failures not), 429 back-off, a redirect between registries,
# malformed and over-long answers, per-registry rate limit, bootstrap refresh.
set -euo pipefail

PLUGHOLE=${PLUGHOLE:?set by ctest}
SRC=${PLUGHOLE_SRC:?set by ctest}
FIX="$SRC/tests/fixtures/attrib"
A=127.0.50.1
B=127.0.50.2
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export PLUGHOLE_DB="$tmp/store.db"

mkdir "$tmp/bootstrap"
python3 "$FIX/rdap_server.py" "$A" "$B" "$FIX/rdap" "$tmp/bootstrap" "$tmp/ports" &
server=$!
for _ in $(seq 1 100); do [ -s "$tmp/ports" ] && break; sleep 0.05; done
[ -s "$tmp/ports" ] || fail "fixture server did not start"
read -r PA PB < "$tmp/ports"
stats() { curl -s --max-time 5 "http://$A:$PA/stats"; }
asked() { # asked ROLE ADDRESS: how often that registry was asked about ADDRESS
	stats | python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1] + " /rdap/ip/" + sys.argv[2], 0))' "$1" "$2"
}

# The bootstrap as IANA writes it, pointing at registry A (which redirects 198.18/15 to B).
cat > "$tmp/bootstrap/ipv4.json" <<EOF
{"description": "RDAP bootstrap file for IPv4 address allocations (test)", "publication": "2024-01-01T00:00:00Z",
 "services": [
  [["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.0.0/10", "233.252.0.0/24", "192.88.99.0/24"],
   ["http://$A:$PA/rdap/"]],
  [["198.18.0.0/15"], ["http://$A:$PA/rdap"]]
 ], "version": "1.0"}
EOF
cat > "$tmp/bootstrap/ipv6.json" <<EOF
{"description": "RDAP bootstrap file for IPv6 address allocations (test)", "publication": "2024-01-01T00:00:00Z",
 "services": [[["2001:db8::/32"], ["http://$A:$PA/rdap/"]]], "version": "1.0"}
EOF

# Bulk data for half of 198.51.100.0/24: those hosts need no RDAP.
cat > "$tmp/bulk.db" <<'EOF'
inetnum:        198.51.100.128 - 198.51.100.255
netname:        BULK-HALF
descr:          Bulk Half GmbH
country:        DE
abuse-c:        BH1-TEST
source:         TEST

role:           Bulk Half abuse
abuse-mailbox:  abuse@bulk-half.example
nic-hdl:        BH1-TEST
source:         TEST
EOF
"$PLUGHOLE" attribute load "$tmp/bulk.db" > /dev/null
sqlite3 "$PLUGHOLE_DB" <<'SQL'
INSERT INTO candidates(id, address, port, family, first_seen, last_seen) VALUES
 (1, '198.51.100.7', 25, 4, 0, 0), (2, '198.51.100.8', 25, 4, 0, 0), (3, '198.51.100.200', 25, 4, 0, 0),
 (4, '203.0.113.9', 25, 4, 0, 0), (5, '192.0.2.77', 25, 4, 0, 0), (6, '100.64.1.1', 25, 4, 0, 0),
 (7, '233.252.0.5', 25, 4, 0, 0), (8, '198.18.0.1', 25, 4, 0, 0), (9, '2001:db8::1', 25, 6, 0, 0),
 (10, '10.1.1.1', 25, 4, 0, 0), (11, '192.88.99.1', 25, 4, 0, 0);
INSERT INTO findings(candidate_id, verdict) SELECT id, 'open-relay' FROM candidates;
SQL

RDAP=(--rdap --rdap-bootstrap "$tmp/bootstrap" --rdap-rate 50 --rdap-timeout 5)
start=$(date +%s.%N)
"$PLUGHOLE" attribute "${RDAP[@]}" > "$tmp/run1.out" 2> "$tmp/run1.err"
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
cat "$tmp/run1.out" "$tmp/run1.err"
grep -q "^attributed 11 of 11 findings" "$tmp/run1.out" || fail "all findings attributed"
grep -q "rdap: 9 queries, 1 cached, 1 not found, 1 rate-limited, 2 failed" "$tmp/run1.out" || fail "rdap counters"
grep -q "asks us to slow down" "$tmp/run1.err" || fail "429 not reported"
grep -q "233.252.0.5: answer is not JSON" "$tmp/run1.err" || fail "malformed answer not reported"
grep -q "192.88.99.1: answer longer than" "$tmp/run1.err" || fail "over-long answer not refused"
[ "$(echo "$elapsed >= 1" | bc)" = 1 ] || fail "the 429's Retry-After: 1 was not honoured ($elapsed s)"

"$PLUGHOLE" owners --hosts | sed 1d > "$tmp/hosts.tsv"
cat "$tmp/hosts.tsv"
row() { awk -F'\t' -v a="$1" '$2 == a' "$tmp/hosts.tsv"; }
row 198.51.100.7 | awk -F'\t' '$5 == "rdap-abuse" && $6 == "abuse@rdap-ripe.example" && $7 == "RDAP Example B.V." &&
	$12 == "NL" && $14 == "rdap" { ok = 1 } END { exit !ok }' || fail "198.51.100.7 from RDAP"
[[ "$(row 198.51.100.8)" == *abuse@rdap-ripe.example* ]] || fail "198.51.100.8 from the cache"
row 198.51.100.200 | awk -F'\t' '$5 == "range-abuse-c" && $6 == "abuse@bulk-half.example" && $14 == "bulk" { ok = 1 }
	END { exit !ok }' || fail "198.51.100.200 from bulk data"
row 203.0.113.9 | awk -F'\t' '$6 == "abuse@arin-nested.example" && $7 == "Orphan Networks Ltda" { ok = 1 } END { exit !ok }' \
	|| fail "abuse entity nested in the registrant"
row 192.0.2.77 | awk -F'\t' '$6 == "abuse@patience.example" && $12 == "CL" && $13 == "SERNAC" { ok = 1 } END { exit !ok }' \
	|| fail "answer after a 429"
row 198.18.0.1 | awk -F'\t' '$6 == "abuse@registry-b.example" && $12 == "CA" && $13 == "CB" { ok = 1 } END { exit !ok }' \
	|| fail "redirect to registry B"
row 2001:db8::1 | awk -F'\t' '$6 == "abuse@v6.example" && $13 == "MIC" { ok = 1 } END { exit !ok }' || fail "IPv6 over RDAP"
for a in 100.64.1.1 233.252.0.5 10.1.1.1 192.88.99.1; do
	row "$a" | awk -F'\t' '$5 == "agency" && $6 == "abuse-desk@ftc.example.org" { ok = 1 } END { exit !ok }' \
		|| fail "$a falls back to the lead agency"
done

[ "$(asked A 198.51.100.7)" = 1 ] || fail "198.51.100.7 asked once"
[ "$(asked A 198.51.100.8)" = 0 ] || fail "198.51.100.8 should come from the cache"
[ "$(asked A 198.51.100.200)" = 0 ] || fail "bulk data should spare RDAP"
[ "$(asked A 192.0.2.77)" = 2 ] || fail "429, then one retry"
[ "$(asked A 198.18.0.1)" = 1 ] && [ "$(asked B 198.18.0.1)" = 1 ] || fail "redirect followed once"
sqlite3 "$PLUGHOLE_DB" "SELECT registry FROM rdap_cache WHERE handle = 'NET-198-18-0-0-B'" | grep -qx "$B:$PB" \
	|| fail "the answering registry is recorded"

# Everything again: cached answers and the remembered 404 are not asked again; failures are.
"$PLUGHOLE" attribute --all "${RDAP[@]}" > "$tmp/run2.out" 2>/dev/null
grep -q "rdap: 2 queries, 7 cached, 0 not found, 0 rate-limited, 2 failed" "$tmp/run2.out" || fail "second run: $(cat "$tmp/run2.out")"
[ "$(asked A 198.51.100.7)" = 1 ] || fail "cache: asked again"
[ "$(asked A 100.64.1.1)" = 1 ] || fail "a 404 should be cached"
[ "$(asked A 233.252.0.5)" = 2 ] || fail "a failure should not be cached"

# An expired cache entry is asked again.
sqlite3 "$PLUGHOLE_DB" "UPDATE rdap_cache SET expires = 0 WHERE handle = '198.51.100.0 - 198.51.100.255'"
"$PLUGHOLE" whois "${RDAP[@]}" 198.51.100.9 > "$tmp/whois.out"
[ "$(asked A 198.51.100.9)" = 1 ] || fail "expired entry not refreshed"
grep -q "^rung  *rdap-abuse" "$tmp/whois.out" || fail "whois --rdap rung"
grep -q "^rdap: rdap 198.51.100.0 - 198.51.100.255 EXAMPLE-RDAP-NET" "$tmp/whois.out" || fail "whois --rdap shows the answer"

# Per-registry rate limit: three new questions to A at 4 per second take at least half a second.
export PLUGHOLE_DB="$tmp/store2.db"
start=$(date +%s.%N)
"$PLUGHOLE" whois --rdap --rdap-bootstrap "$tmp/bootstrap" --rdap-rate 4 198.51.100.7 203.0.113.9 2001:db8::1 > /dev/null
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
[ "$(echo "$elapsed >= 0.45" | bc)" = 1 ] || fail "rate limit not kept ($elapsed s for 3 requests at 4/s)"

# Refreshing the bootstrap: fetched, checked, renamed into place; a bad source changes nothing.
mkdir "$tmp/refreshed"
"$PLUGHOLE" attribute bootstrap --from "http://$A:$PA/bootstrap/" --to "$tmp/refreshed" 2>/dev/null
cmp -s "$tmp/refreshed/ipv4.json" "$tmp/bootstrap/ipv4.json" || fail "bootstrap ipv4.json"
cmp -s "$tmp/refreshed/ipv6.json" "$tmp/bootstrap/ipv6.json" || fail "bootstrap ipv6.json"
"$PLUGHOLE" attribute bootstrap --from "http://$A:$PA/nothing-here/" --to "$tmp/refreshed" 2>/dev/null \
	&& fail "a missing bootstrap was accepted"
cmp -s "$tmp/refreshed/ipv4.json" "$tmp/bootstrap/ipv4.json" || fail "a failed refresh changed the files"
[ -z "$(ls "$tmp/refreshed" | grep tmp)" ] || fail "temporary files left"
echo "attrib_rdap: ok"

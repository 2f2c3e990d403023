#!/usr/bin/env bash
# The DNSBL export served by the real thing: a store with findings (the
# synthetic campaign of bench/lib/synth_campaign.sh, 127.0.x.y hosts, a store
# nothing verifies) plus a host open on two ports, one whose software banner is
# hostile ("$", quotes, backslash, ';', a newline, a high byte) and an IPv6
# one; exported for rbldnsd, served by rbldnsd on 127.83.0.1 and a free port,
# queried with dig: listed hosts answer 127.0.0.2 with their TXT reason,
# a host fixed in a recheck (closed) and one never open answer NXDOMAIN. The
# BIND zone passes named-checkzone and holds the same TXT. The serial increases
# on two exports in the same second. Bad options: usage errors (2).
# Addresses: rbldnsd on 127.83.0.1 (UDP).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp"/*.err >&2 2>/dev/null || true; exit 1; }
for tool in rbldnsd dig named-checkzone sqlite3; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh --with-peers)"
done
db=$tmp/db
q() { sqlite3 "$db" "$1"; }
bash "${PLUGHOLE_SRC:?}/bench/lib/synth_campaign.sh" "${PLUGHOLE:?}" "$db" 3000 600 4 > /dev/null

# 127.0.0.7 open on two ports: the relay proven later is the reason, "1 more open port"
q "INSERT INTO candidates(id, address, port, family, first_seen, last_seen) VALUES
     (100001, '127.0.0.7', 2525, 4, 0, 0), (100003, '::1', 25, 6, 0, 0);
   UPDATE candidates SET port = 25 WHERE id = 9;
   DELETE FROM findings WHERE candidate_id IN (7, 9);
   INSERT INTO findings(candidate_id, verdict, software, last_checked) VALUES
     (7, 'open-proxy-web', 'Squid', 1767225600),
     (100001, 'open-relay', 'Exim', 1767225660),
     (9, 'open-relay', 'Evil\" \$ \\ ; # ' || char(10) || 'x' || char(233), 1767225720),
     (100003, 'open-relay', NULL, 1767225780);"
fixed=$(q "SELECT c.address FROM findings f JOIN candidates c ON c.id = f.candidate_id
            JOIN round_findings r ON r.candidate_id = f.candidate_id AND r.round_id = 0
            WHERE f.verdict = 'closed' AND r.verdict = 'open-relay' ORDER BY c.id LIMIT 1")
never=$(q "SELECT c.address FROM findings f JOIN candidates c ON c.id = f.candidate_id
            WHERE f.verdict = 'unreachable' AND f.candidate_id NOT IN (SELECT candidate_id FROM campaign_hosts)
            ORDER BY c.id LIMIT 1")
listed=$(q "SELECT c.address FROM findings f JOIN candidates c ON c.id = f.candidate_id
             WHERE f.verdict = 'open-proxy-mail' AND c.address NOT IN ('127.0.0.7', '127.0.0.9') ORDER BY c.id LIMIT 1")
[ -n "$fixed" ] && [ -n "$never" ] && [ -n "$listed" ] || fail "the synthetic store lacks a fixed, a never-open or a listed host"
open_count=$(q "SELECT count(DISTINCT c.address) FROM findings f JOIN candidates c ON c.id = f.candidate_id
                 WHERE f.verdict IN ('open-relay', 'open-proxy-mail', 'open-proxy-web')")

"$PLUGHOLE" --db "$db" export dnsbl --zone bl.test --output "$tmp/zone.rbldnsd" 2>"$tmp/export.err" ||
  fail "export rbldnsd"
assert_contains "$(cat "$tmp/export.err")" "$open_count hosts listed in bl.test"
assert_eq "$(grep -c ':127.0.0.2:' "$tmp/zone.rbldnsd")" "$open_count" "one entry per open address"

# rbldnsd, as nobody, on a free UDP port of 127.83.0.1
chmod 755 "$tmp"; chmod 644 "$tmp/zone.rbldnsd"
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.83.0.1", 0)); print(s.getsockname()[1])')
user=(); [ "$(id -u)" -eq 0 ] && user=(-u nobody)
rbldnsd -n "${user[@]}" -b "127.83.0.1/$port" -t 60 "bl.test:combined:$tmp/zone.rbldnsd" \
  >"$tmp/rbldnsd.out" 2>"$tmp/rbldnsd.err" & pids+=($!)
reversed() { # an IPv4 address's name under the zone
  local a b c d; IFS=. read -r a b c d <<<"$1"; echo "$d.$c.$b.$a.bl.test"
}
ask() { dig @127.83.0.1 -p "$port" +tries=1 +time=2 "$@"; }
for _ in $(seq 50); do
  ask +short "$(reversed "$listed")" A 2>/dev/null | grep -q 127.0.0.2 && break
  sleep 0.1
done
assert_eq "$(ask +short "$(reversed "$listed")" A)" "127.0.0.2" "$listed is listed"
assert_contains "$(ask +short "$(reversed "$listed")" TXT)" "\"open-proxy-mail on port "
assert_eq "$(ask +short 7.0.0.127.bl.test TXT)" \
  '"open-relay on port 2525 (Exim), last proven 2026-01-01T00:01:00Z; 1 more open port"' "two ports, one entry"
assert_eq "$(ask +short 9.0.0.127.bl.test TXT)" \
  '"open-relay on port 25 (Evil\\\" $ \\\\ ; # \\x0ax\\xc3\\xa9), last proven 2026-01-01T00:02:00Z"' \
  "the hostile banner, escaped, intact through rbldnsd"
v6=$(python3 -c 'import ipaddress; print(ipaddress.ip_address("::1").reverse_pointer.replace(".ip6.arpa", ".bl.test"))')
assert_eq "$(ask +short "$v6" A)" "127.0.0.2" "::1 (ip6trie) is listed"
for host in "$fixed" "$never"; do
  assert_contains "$(ask "$(reversed "$host")" A)" "status: NXDOMAIN"
done
assert_contains "$(ask bl.test SOA)" "status: NOERROR"

# BIND: the zone checks, and holds the same reasons
"$PLUGHOLE" -q --db "$db" export dnsbl --format bind --zone bl.test. --output "$tmp/zone.bind" || fail "export bind"
named-checkzone -D -o "$tmp/zone.canonical" bl.test "$tmp/zone.bind" >"$tmp/checkzone.err" 2>&1 ||
  fail "named-checkzone refused the zone: $(cat "$tmp/checkzone.err")"
record() { # NAME TYPE: the data of the canonical zone's record
  awk -v n="$1" -v t="$2" '$1 == n && $4 == t { sub(/^[^"]*IN[ \t]+[A-Z]+[ \t]+/, ""); print }' "$tmp/zone.canonical"
}
assert_eq "$(record 9.0.0.127.bl.test. TXT)" '"open-relay on port 25 (Evil\\\" $ \\\\ ; # \\x0ax\\xc3\\xa9), last proven 2026-01-01T00:02:00Z"' \
  "the hostile banner, escaped, intact through BIND's parser"
assert_eq "$(record "$v6." A)" "127.0.0.2" "::1 in nibbles"
assert_eq "$(awk '$4 == "A" && $5 == "127.0.0.2"' "$tmp/zone.canonical" | wc -l)" "$open_count" "one A record per open address"
assert_eq "$(record "$(reversed "$fixed")." A)" "" "the fixed host is not in the zone"

# the serial increases on every export, two in the same second included
serials=()
for _ in 1 2 3; do
  serials+=("$("$PLUGHOLE" -q --db "$db" export dnsbl --format bind | sed -n 's/.*SOA.*( \([0-9]*\) .*/\1/p')")
done
[ "${serials[0]}" -lt "${serials[1]}" ] && [ "${serials[1]}" -lt "${serials[2]}" ] ||
  fail "serials ${serials[*]} do not increase"
assert_eq "$(q "SELECT value FROM meta WHERE key = 'dnsbl_serial'")" "${serials[2]}"

# --verdicts narrows; a bad verdict, format or zone is a usage error naming the valid ones
proxies=$("$PLUGHOLE" -q --db "$db" export dnsbl --verdicts open-proxy-web | grep -c ':127.0.0.2:')
assert_eq "$proxies" "$(q "SELECT count(DISTINCT c.address) FROM findings f JOIN candidates c ON c.id = f.candidate_id
                          WHERE f.verdict = 'open-proxy-web'")" "--verdicts open-proxy-web"
s=0; "$PLUGHOLE" --db "$db" export dnsbl --verdicts open-relay,closed >/dev/null 2>"$tmp/bad.out" || s=$?
assert_eq "$s" 2; assert_contains "$(cat "$tmp/bad.out")" "'closed' is not open-relay, open-proxy-mail or open-proxy-web"
s=0; "$PLUGHOLE" --db "$db" export dnsbl --format tinydns >/dev/null 2>"$tmp/bad.out" || s=$?
assert_eq "$s" 2; assert_contains "$(cat "$tmp/bad.out")" "rbldnsd or bind"
s=0; "$PLUGHOLE" --db "$db" export dnsbl --zone 'bl test' >/dev/null 2>"$tmp/bad.out" || s=$?
assert_eq "$s" 2; assert_contains "$(cat "$tmp/bad.out")" "--zone 'bl test'"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
echo "export_dnsbl: ok ($open_count listed)"

#!/usr/bin/env bash
# plughole serve --checks: "test again now" and "test my own server" on a
# real campaign of lab relays (verified, attributed, frozen as the campaign
# tests do). In headless Chromium: the ticket page's button starts a check of
# that ticket's hosts; the owner has fixed one host in between (the lab's
# fixed file); the progress page reloads itself (no script) until it shows
# one host still open and the fixed one fixed, in a round of kind 'owner'
# that no campaign counts. By curl: a second check at once is refused (429),
# a POST without form token (403), /check tests the TCP peer only (curl
# --interface gives it an address): an address typed in is refused (400),
# X-Forwarded-For counts from the trusted proxy alone, another requester
# cannot read the result (404), an excluded address is refused (403); serve
# without --checks has none of these pages (404).
# Addresses: lab relays 127.84.3.1-2, 127.84.4.1-3; excluded 127.84.5.0/24; proxy 127.84.6.1;
# sink 127.84.250.1; serve 127.85.3.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/lab.sh"
LAB="${PLUGHOLE_BUILD:?}/plughole-lab"
BR="$(dirname "$0")/lib/browser.mjs"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 30 "$tmp"/*.err "$tmp"/*.log >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
q() { sqlite3 "$PLUGHOLE_DB" "$1"; }
ph() { "$PLUGHOLE" "$@"; }
SINK=127.84.250.1:2584 B=http://127.85.3.1:8483
fixed="$tmp/fixed"; : >"$fixed"
"$LAB" --port 0 --sink "$SINK" --sink-domain sink.test --hosts 127.84.0.0/16 --mix open=1 --fixed-file "$fixed" \
  >"$tmp/lab.out" 2>"$tmp/lab.err" & pids+=($!)
port=$(lab_ports "$tmp/lab.out") || fail "the lab did not start"
echo "127.84.5.0/24" >"$tmp/exclude"
engine=(--allow-loopback --sink "$SINK" --sink-domain sink.test --helo verifier.test --connect-timeout 2 --timeout 3
  --retries 0 --proof-grace 0.5 --wait 1 --exclude-file "$tmp/exclude")
ph verify --tests relay "${engine[@]}" "127.84.3.1:$port" "127.84.3.2:$port" >"$tmp/verify.out" 2>"$tmp/verify.err" || fail verify
printf 'inetnum: 127.84.3.0 - 127.84.3.255\nnetname: SC-3\ndescr: Owner 3\ncountry: DE\nabuse-c: R3-SC\nsource: SC\n\n%s\n' \
  'role: Owner 3 abuse
abuse-mailbox: abuse@sc3.example
nic-hdl: R3-SC
source: SC' >"$tmp/registry.rpsl"
ph attribute load "$tmp/registry.rpsl" >/dev/null 2>"$tmp/load.err" || fail "attribute load"
ph attribute >/dev/null 2>"$tmp/attr.err" || fail attribute
ph campaign create sc --control 0 --seed 1 --domain sc.test >/dev/null 2>"$tmp/create.err" || fail create
ticket=$(q "select ticket from letters"); key=$(q "select ticket_key from letters")
[ -n "$ticket" ] || fail "no letter"
echo 'correct horse battery staple' | ph passwd "$tmp/pw"

"$PLUGHOLE" serve --listen 127.85.3.1:8483 --trusted-proxy 127.84.6.1 --checks --check-ports "$port" --check-log "$tmp/check.log" \
  -- "${engine[@]}" >"$tmp/serve.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "$B/" && break; sleep 0.1; done

# ---- test again now, in the browser, after the owner fixed one host ----
echo 127.84.3.2 >"$fixed"
cat >"$tmp/again.json" <<JSON
[{"text": "section.again h2", "expect": "Test again now"}, {"click": "#again"}, {"wait": "#done"},
 {"text": "table.check", "expect": "127.84.3.1:$port"}, {"shot": "$tmp/again.png"}]
JSON
node "$BR" run "$B/t/$ticket/$key" "$tmp/again.json" >"$tmp/again.out" 2>"$tmp/again.err" ||
  fail "test again now: $(cat "$tmp/again.err" "$tmp/again.out")"
assert_contains "$(cat "$tmp/again.out")" "127.84.3.1:$port	still open"
assert_contains "$(cat "$tmp/again.out")" "127.84.3.2:$port	fixed"
round=$(q "select id from rounds where kind = 'owner'")
assert_eq "$(q "select requested_by, campaign_id is null from rounds where id = $round")" "ticket:$ticket|1" "an owner round"
assert_eq "$(q "select count(*) from campaign_round_outcomes where round_id = $round")" 0 "no campaign counts it"
assert_contains "$(curl -s "$B/t/$ticket/$key/check/$round")" '<tr class="fixed"><td>127.84.3.2:'"$port"'</td><td class="state">fixed</td>'
# the ticket page's latest round is this check now
assert_contains "$(curl -s "$B/t/$ticket/$key")" "<tr><th>Latest test</th><td>owner, "

# ---- refusals of a ticket's check ----
form() { # a page's form token, and the cookie it set
  curl -s -D "$tmp/fh" "$1" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1
}
tok=$(form "$B/t/$ticket/$key")
code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
assert_eq "$(code -X POST "$B/t/$ticket/$key/check")" 403 "no form token"
# every digit moved on by one: always another token (${tok/a/b} was the same token when it had no 'a')
assert_eq "$(code -H "Cookie: ph_form=$tok" --data "csrf=$(printf '%s' "$tok" | tr '0-9a-f' '1-9a-f0')" \
  "$B/t/$ticket/$key/check")" 403 "another token"
assert_eq "$(code -H "Cookie: ph_form=$tok" --data "csrf=$tok" "$B/t/$ticket/$key/check")" 429 "again within ten minutes"
assert_contains "$(cat "$tmp/body")" "was checked less than 10 minutes ago"
wrong=$(printf '%s' "$key" | tr '0-9a-f' '1-9a-f0')
assert_eq "$(code -H "Cookie: ph_form=$tok" --data "csrf=$tok" "$B/t/$ticket/$wrong/check")" 404 "a wrong key"
assert_eq "$(code "$B/t/$ticket/$wrong/check/$round")" 404 "a wrong key for the result"
assert_eq "$(q "select count(*) from rounds where kind = 'owner'")" 1 "nothing else started"

# ---- /check: the requesting address only ----
tok=$(curl -s --interface 127.84.4.1 "$B/check" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
assert_contains "$(curl -s --interface 127.84.4.1 "$B/check")" '<strong id="address">127.84.4.1</strong>'
assert_eq "$(code --interface 127.84.4.1 -H "Cookie: ph_form=$tok" --data "csrf=$tok&address=127.84.4.2" "$B/check")" 400 \
  "an address typed in"
assert_eq "$(code --interface 127.84.4.1 --data "x=1" "$B/check")" 403 "no form token"
# X-Forwarded-For from a peer that is not the trusted proxy: the peer is tested
status=$(curl -s -o /dev/null -D "$tmp/ch" -w '%{http_code}' --interface 127.84.4.1 -H "X-Forwarded-For: 127.84.4.3" \
  -H "Cookie: ph_form=$tok" --data "csrf=$tok" "$B/check")
assert_eq "$status" 303 "a check of the peer"
where=$(tr -d '\r' <"$tmp/ch" | sed -n 's/^Location: //p')
assert_eq "$(q "select requested_by from rounds where id = ${where#/check/}")" "address:127.84.4.1" "XFF ignored"
for _ in $(seq 1 100); do curl -s --interface 127.84.4.1 "$B$where" >"$tmp/st"; grep -q 'id="done"' "$tmp/st" && break; sleep 0.2; done
assert_contains "$(cat "$tmp/st")" "<td>127.84.4.1:$port</td><td class=\"state\">still open</td>"
assert_contains "$(cat "$tmp/st")" "href=\"/guides/generic-relay?server=127.84.4.1&amp;port=$port\""
assert_eq "$(code --interface 127.84.4.2 "$B$where")" 404 "another address cannot read it"
# from the trusted proxy, X-Forwarded-For names the client; its /24 was checked just now: refused
tok=$(curl -s --interface 127.84.6.1 -H "X-Forwarded-For: 10.9.9.9, 127.84.4.2" "$B/check" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
assert_contains "$(curl -s --interface 127.84.6.1 -H "X-Forwarded-For: 127.84.4.2" "$B/check")" '<strong id="address">127.84.4.2</strong>'
# a client's own X-Forwarded-For line passes the proxy ahead of the one the proxy appends: the last line counts
assert_contains "$(curl -s --interface 127.84.6.1 -H "X-Forwarded-For: 127.84.4.9" -H "X-Forwarded-For: 127.84.4.2" "$B/check")" \
	'<strong id="address">127.84.4.2</strong>'
# the trusted proxy's X-Forwarded-For that names no address: refused, never the proxy itself tested
assert_eq "$(code --interface 127.84.6.1 -H "X-Forwarded-For: 127.84.4.2, garbage" "$B/check")" 400 \
	"garbage X-Forwarded-For from the proxy"
assert_eq "$(code --interface 127.84.6.1 -H "X-Forwarded-For: 127.84.4.2" -H "Cookie: ph_form=$tok" --data "csrf=$tok" "$B/check")" 429 \
  "the same /24 within ten minutes"
assert_contains "$(cat "$tmp/body")" "an address of the same network was checked"
assert_eq "$(code --interface 127.84.5.7 -H "Cookie: ph_form=$tok" --data "csrf=$tok" "$B/check")" 403 "an excluded address"
assert_eq "$(q "select count(*) from candidates where address like '127.84.5.%'")" 0 "never tested"

# ---- without --checks: no such pages ----
"$PLUGHOLE" serve --listen 127.85.3.1:8484 >"$tmp/plain.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.85.3.1:8484/" && break; sleep 0.1; done
assert_eq "$(code "http://127.85.3.1:8484/check")" 404 "no /check"
assert_not_contains "$(curl -s "http://127.85.3.1:8484/t/$ticket/$key")" "Test again now"
echo "serve_check ok"

#!/usr/bin/env bash
# plughole serve, by curl: every page answers with the security headers (a
# strict CSP without inline script, nosniff, frame-ancestors 'none', no
# referrer); the campaign page follows Accept-Language among the campaign's
# languages and ?lang= overrides (remembered in a cookie); guides come from
# data/guides, only by the table's names; a ticket page shows the hosts, the
# proof and its transcript escaped; a wrong key and an unknown ticket get the
# same 404; the one-click opt-out (RFC 8058) suppresses the letter's contact
# and a GET changes nothing; refusals: a path with "..", an oversized body
# (413), too many headers (431), a POST without CSRF token (403), a wrong
# password (403), then the lock-out (429); the admin login works over TLS.
# Addresses: 127.84.1.1 (HTTP), 127.84.1.2 (HTTPS).
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/serve_store.sh"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp"/*.log >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
B=http://127.84.1.1:8481
code() { curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$@"; }

serve_store "$PLUGHOLE_DB"
serve_start "$tmp/serve.log" 127.84.1.1:8481 || fail "serve"
pids+=("$serve_pid")

# ---- every page: its status and the security headers ----
ticket=$(serve_ticket_url 1)
for path in / /guides /guides/postfix "$ticket" "$ticket/unsubscribe" /admin /static/style.css /nosuch; do
  status=$(code "$B$path")
  want=200; [ "$path" = /nosuch ] && want=404
  assert_eq "$status" "$want" "GET $path"
  h=$(tr -d '\r' <"$tmp/headers")
  assert_contains "$h" "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';"
  assert_contains "$h" "frame-ancestors 'none'"
  assert_contains "$h" "X-Content-Type-Options: nosniff"
  assert_contains "$h" "Referrer-Policy: no-referrer"
  if [ "$path" != /static/style.css ] && grep -qi '<script\|style=' "$tmp/body"; then fail "$path: inline script or style"; fi
done
assert_contains "$(cat "$tmp/body")" "There is no page at this address." "the 404 page says so"

# ---- the campaign page's languages: Accept-Language, then the switch ----
curl -s -H 'Accept-Language: es-AR,es;q=0.9,en;q=0.5' "$B/" >"$tmp/es"
assert_contains "$(cat "$tmp/es")" '<html lang="es">'
assert_contains "$(cat "$tmp/es")" "¿Es auténtica mi carta?"
curl -s -H 'Accept-Language: pt' "$B/" >"$tmp/pt"
assert_contains "$(cat "$tmp/pt")" '<html lang="pt-BR">' "pt takes pt-BR"
curl -s -H 'Accept-Language: de, fr;q=0.8' "$B/" >"$tmp/de"
assert_contains "$(cat "$tmp/de")" '<html lang="en">' "none of the campaign's: English"
curl -s -H 'Accept-Language: ja' "$B/" >"$tmp/ja"
assert_contains "$(cat "$tmp/ja")" '<html lang="en">' "Japanese is not among c1's languages"
curl -s -D "$tmp/h" -H 'Accept-Language: es' "$B/?lang=pt-BR" >"$tmp/switch"
assert_contains "$(cat "$tmp/switch")" '<html lang="pt-BR">' "the switch overrides the header"
assert_contains "$(tr -d '\r' <"$tmp/h")" "Set-Cookie: lang=pt-BR; Path=/; HttpOnly; Secure; SameSite=Strict"
assert_contains "$(curl -s -H 'Cookie: lang=es' -H 'Accept-Language: en' "$B/")" '<html lang="es">' "the cookie too"
assert_contains "$(cat "$tmp/es")" "<li>United States Federal Trade Commission (FTC), agencia principal</li>"
assert_contains "$(cat "$tmp/es")" 'href="/guides/postfix"'

# ---- guides: the letters' source, by name only ----
curl -s "$B/guides/postfix" >"$tmp/g"
assert_contains "$(cat "$tmp/g")" "<h2>Postfix</h2>"
grep -q "$(sed -n 's/^Title: //p' "$PLUGHOLE_DATA/guides/exim.txt")" <(curl -s "$B/guides/exim") || fail "exim's title"
assert_contains "$(curl -s "$B/guides/postfix?server=127.72.200.0&port=25")" "127.72.200.0" "the check names the host"
assert_eq "$(code "$B/guides/postfix?server=%3Cb%3E&port=25")" 400 "a server that is no address"
assert_eq "$(code "$B/guides/passwd")" 404 "a name outside the table"
assert_eq "$(code --path-as-is "$B/guides/../../etc/passwd")" 400 "a path with .."
assert_eq "$(code --path-as-is "$B/guides/%2e%2e/%2e%2e/etc/passwd")" 400 "a path with %2e%2e"
assert_eq "$(code --path-as-is "$B/guides/postfix/..")" 400 "a path ending in .."

# ---- the ticket page ----
curl -s "$B$ticket" >"$tmp/t"
assert_contains "$(cat "$tmp/t")" "Telecomunicaciones Núñez S.A."
assert_contains "$(cat "$tmp/t")" "127.72.200.0 port 25"
assert_contains "$(cat "$tmp/t")" "<tr><th>Found</th><td>open-relay</td></tr>"
assert_contains "$(cat "$tmp/t")" "<tr><th>Proven at</th><td>2004-01-29 14:05 UTC</td></tr>"
assert_contains "$(cat "$tmp/t")" 'ESMTP &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;' "the banner escaped"
grep -q '<script' "$tmp/t" && fail "markup from a peer reached the page"
assert_contains "$(cat "$tmp/t")" 'href="/guides/postfix?server=127.72.200.0&amp;port=25"'
assert_contains "$(cat "$tmp/t")" "<tr><th>Latest test</th><td>recheck 1, 2004-02-05 14:07 UTC: fixed</td></tr>"
assert_contains "$(cat "$tmp/t")" "<tr><th>Latest test</th><td>recheck 1, 2004-02-05 14:07 UTC: still open</td></tr>"
tk=${ticket#/t/}; t_only=${tk%%/*}; key=${tk#*/}
wrong_key=$(printf '%s' "$key" | tr '0-9a-f' '1-9a-f0')
assert_eq "$(code "$B/t/$t_only/$wrong_key")" 404 "a wrong key"
cp "$tmp/body" "$tmp/wrong_key"
other=$(sqlite3 "$PLUGHOLE_DB" "select ticket from letters order by id limit 1 offset 1")
assert_eq "$(code "$B/t/$other/$key")" 404 "another ticket's key"
assert_eq "$(code "$B/t/00000-00000/$key")" 404 "no such ticket"
cmp -s "$tmp/body" "$tmp/wrong_key" || fail "an unknown ticket and a wrong key answer differently"
assert_eq "$(code "$B/t/$t_only/${key:0:31}")" 404 "a short key"
assert_eq "$(code "$B/t/$(echo "$t_only" | tr 'A-Z' 'a-z')/$(echo "$key" | tr 'a-f' 'A-F')")" 200 "case is forgiven"

# ---- one-click opt-out ----
recipient=$(sqlite3 "$PLUGHOLE_DB" "select recipient from letters where ticket = '$t_only'")
assert_eq "$(code "$B$ticket/unsubscribe")" 200 "GET shows the form"
assert_contains "$(cat "$tmp/body")" '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
assert_eq "$(sqlite3 "$PLUGHOLE_DB" "select count(*) from suppressions where value = '$recipient'")" 0 "a GET suppresses nothing"
assert_eq "$(code -X POST -d 'x=y' "$B$ticket/unsubscribe")" 400 "a POST without List-Unsubscribe=One-Click"
assert_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$B/t/$t_only/$wrong_key/unsubscribe")" 404 "opt-out with a wrong key"
assert_eq "$(sqlite3 "$PLUGHOLE_DB" "select count(*) from suppressions where value = '$recipient'")" 0
assert_eq "$(code -X POST -d 'List-Unsubscribe=One-Click' "$B$ticket/unsubscribe")" 200 "one-click"
assert_eq "$(sqlite3 "$PLUGHOLE_DB" "select kind || ' ' || reason from suppressions where value = '$recipient'")" \
  "address unsubscribed on the web (ticket $t_only)"
assert_contains "$("$PLUGHOLE" suppress list)" "$recipient"
assert_eq "$(code -X POST -F 'List-Unsubscribe=One-Click' "$B$ticket/unsubscribe")" 200 "multipart, again: idempotent"
assert_eq "$(code -X POST "$B$ticket")" 405 "POST to a GET page"
assert_contains "$(tr -d '\r' <"$tmp/headers")" "Allow: GET, HEAD"

# ---- bounds ----
head -c 100000 /dev/zero | tr '\0' a >"$tmp/big"
assert_eq "$(code -X POST --data-binary @"$tmp/big" "$B$ticket/unsubscribe")" 413 "an oversized body"
assert_eq "$(code -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" "$B$ticket/unsubscribe")" 413 "chunked, oversized"
hdrs=(); for i in $(seq 1 60); do hdrs+=(-H "X-Pad-$i: $i"); done
assert_eq "$(code "${hdrs[@]}" "$B/")" 431 "too many header lines"

# ---- admin: CSRF, wrong password, lock-out (HTTP; cookies by hand: curl keeps Secure ones for HTTPS) ----
assert_eq "$(code -X POST -d "password=$SERVE_PASSWORD" "$B/admin/login")" 403 "a login without CSRF token"
login_token() { curl -s "$B/admin" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p'; }
tok=$(login_token)
assert_eq "${#tok}" 64 "the login form's token"
assert_eq "$(code -X POST -H "Cookie: ph_login=$(login_token)" --data-urlencode "csrf=$tok" --data-urlencode "password=$SERVE_PASSWORD" "$B/admin/login")" 403 \
  "a token that is not the cookie's"
for i in 1 2 3 4 5; do
  assert_eq "$(code -H "Cookie: ph_login=$tok" --data-urlencode "csrf=$tok" --data-urlencode "password=wrong$i" "$B/admin/login")" 403 "wrong password $i"
done
assert_eq "$(code -H "Cookie: ph_login=$tok" --data-urlencode "csrf=$tok" --data-urlencode "password=$SERVE_PASSWORD" "$B/admin/login")" 429 \
  "locked out, even with the right password"
assert_contains "$(cat "$tmp/serve.log")" "failed admin login from 127.0.0.1"

# ---- TLS, and a login there (curl sends the Secure cookies over HTTPS) ----
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.84.1.2 -addext "subjectAltName=IP:127.84.1.2" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
serve_start "$tmp/tls.log" 127.84.1.2:8443 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" || fail "serve over TLS"
pids+=("$serve_pid")
S=https://127.84.1.2:8443
curl -s --cacert "$tmp/cert.pem" -D "$tmp/th" "$S/" >/dev/null || fail "HTTPS"
assert_contains "$(tr -d '\r' <"$tmp/th")" "Strict-Transport-Security: max-age="
j="$tmp/jar"
tok=$(curl -s --cacert "$tmp/cert.pem" -c "$j" -b "$j" "$S/admin" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
status=$(curl -s --cacert "$tmp/cert.pem" -c "$j" -b "$j" -D "$tmp/lh" -o /dev/null -w '%{http_code}' \
  --data-urlencode "csrf=$tok" --data-urlencode "password=$SERVE_PASSWORD" "$S/admin/login")
assert_eq "$status" 303 "login"
assert_contains "$(tr -d '\r' <"$tmp/lh")" "Set-Cookie: ph_session="
assert_contains "$(tr -d '\r' <"$tmp/lh" | grep ph_session)" "HttpOnly; Secure; SameSite=Strict"
curl -s --cacert "$tmp/cert.pem" -b "$j" "$S/admin" >"$tmp/dash"
assert_contains "$(cat "$tmp/dash")" '<strong id="campaign">c1</strong>'
assert_contains "$(cat "$tmp/dash")" '<tr><td>treatment</td><td class="n">'
python3 - "$tmp/dash" <<'PY' || fail "the dashboard's outcomes"
import re, sys
html = open(sys.argv[1]).read()
row = re.search(r'<tr><td>treatment</td>((?:<td class="n">\d+</td>)+)</tr>', html).group(1)
hosts, fixed, still_open, gone, unknown = map(int, re.findall(r'>(\d+)<', row))
assert (fixed, still_open) == (1, 1), row
assert hosts == fixed + still_open + gone + unknown, row
PY
assert_contains "$(cat "$tmp/dash")" "Recent proofs at the sink"
assert_contains "$(cat "$tmp/dash")" "<tr><th>hosts</th><td>16</td></tr>"
assert_contains "$(cat "$tmp/dash")" "<tr><th>queued</th><td>8</td></tr>"
assert_contains "$(cat "$tmp/dash")" '<tr><td>recheck</td><td class="n">1</td><td class="n">0</td><td class="n">2004-02-05 14:06 UTC</td></tr>'
assert_contains "$(cat "$tmp/dash")" '<tr><td class="n">2004-01-29 14:05 UTC</td><td>127.72.200.'
# the whole report, behind the login, under a CSP that allows its one inline style by its hash
assert_contains "$(cat "$tmp/dash")" 'href="/admin/report"'
curl -s --cacert "$tmp/cert.pem" -b "$j" -D "$tmp/rh" "$S/admin/report" >"$tmp/report.html"
assert_contains "$(cat "$tmp/report.html")" "Remediation report: c1"
python3 - "$tmp/report.html" "$tmp/rh" <<'PY' || fail "the report's CSP names its style's hash"
import base64, hashlib, re, sys
html, headers = open(sys.argv[1]).read(), open(sys.argv[2]).read()
style = re.search(r'<style>(.*?)</style>', html, re.S).group(1)
want = "style-src 'sha256-%s'" % base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
csp = re.search(r'(?im)^content-security-policy: (.*)$', headers).group(1)
assert want in csp and "script-src" not in csp and "default-src 'none'" in csp, csp
PY
assert_contains "$(curl -s --cacert "$tmp/cert.pem" "$S/admin/report")" 'id="password"' "the report without a session"
assert_eq "$(curl -s --cacert "$tmp/cert.pem" -b "$j" -o /dev/null -w '%{http_code}' -X POST "$S/admin/logout")" 403 "logout without CSRF token"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/dash")
assert_eq "$(curl -s --cacert "$tmp/cert.pem" -b "$j" -c "$j" -o /dev/null -w '%{http_code}' --data "csrf=$csrf" "$S/admin/logout")" 303 "logout"
assert_contains "$(curl -s --cacert "$tmp/cert.pem" -b "$j" "$S/admin")" 'id="password"' "logged out"

# ---- usage ----
assert_eq "$("$PLUGHOLE" serve >/dev/null 2>&1; echo $?)" 2 "serve without --listen"
assert_eq "$("$PLUGHOLE" serve --listen 127.84.1.3:1 --tls-cert x >/dev/null 2>&1; echo $?)" 2 "a certificate without key"
assert_eq "$(echo short | "$PLUGHOLE" passwd "$tmp/pw2" >/dev/null 2>&1; echo $?)" 1 "a short password"
[ "$(stat -c %a "$PLUGHOLE_DB.pw")" = 600 ] || fail "the password file is not 0600"
# ---- SIGTERM: an orderly stop (and, under ASan, no leak or error in the log) ----
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "serve stopped with $?"
assert_contains "$(cat "$tmp/serve.log")" "serve: stopped"
if grep -q "Sanitizer" "$tmp/serve.log" "$tmp/tls.log"; then fail "sanitizer: $(cat "$tmp/serve.log" "$tmp/tls.log")"; fi
echo "serve ok"

#!/usr/bin/env bash
# plughole serve in a real headless Chromium (tests/it/lib/browser.mjs):
# every page opens without a console error, a failed request or a CSP
# violation (the browser reports those as console errors) and its
# screenshot is drawn, on a desktop and a phone width; a banner carrying
# <script> shows as text (the transcript's text holds it, no script ran);
# the one-click opt-out submitted from its form suppresses the contact;
# the dashboard's login, and logout, work in the browser.
# Addresses: 127.84.2.1.
set -euo pipefail
. "$(dirname "$0")/lib/assert.sh"
. "$(dirname "$0")/lib/serve_store.sh"
BR="$(dirname "$0")/lib/browser.mjs"
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$tmp"/*.log "$tmp"/*.err >&2 || true; exit 1; }
export PLUGHOLE_DB="$tmp/db"
B=http://127.84.2.1:8482

serve_store "$PLUGHOLE_DB"
serve_start "$tmp/serve.log" 127.84.2.1:8482 || fail "serve"
pids+=("$serve_pid")
ticket=$(serve_ticket_url 1)

# ---- every page: drawn, no console error, no failed request ----
n=0
for path in / "/?lang=es" /guides /guides/postfix "/guides/dante?server=127.72.200.4&port=1080" "$ticket" \
            "$ticket/unsubscribe" /admin; do
  n=$((n + 1))
  node "$BR" shot "$B$path" "$tmp/page$n.png" --full >"$tmp/shot.out" 2>"$tmp/shot.err" ||
    fail "$path: $(cat "$tmp/shot.err")"
  node "$BR" shot "$B$path" "$tmp/phone$n.png" --width 375 --height 700 >"$tmp/shot.out" 2>"$tmp/shot.err" ||
    fail "$path at 375 px: $(cat "$tmp/shot.err")"
done
# an error page is drawn too (the harness counts its 404 as a failed request: checked by its PNG)
node "$BR" shot "$B/nosuch" "$tmp/404.png" >/dev/null 2>"$tmp/shot.err" || true
assert_contains "$(cat "$tmp/shot.err")" "HTTP 404"
assert_eq "$(node "$BR" check-png "$tmp/404.png" >/dev/null 2>&1; echo $?)" 0 "the 404 page is drawn"

# ---- a hostile banner is text ----
node "$BR" text "$B$ticket" "pre.transcript" >"$tmp/transcript" 2>"$tmp/text.err" || fail "transcript: $(cat "$tmp/text.err")"
assert_contains "$(cat "$tmp/transcript")" "ESMTP $SERVE_SCRIPT"
node "$BR" text "$B$ticket" "body" >"$tmp/body" 2>>"$tmp/text.err" || fail "body"
assert_contains "$(cat "$tmp/body")" "Telecomunicaciones Núñez S.A."

# ---- the opt-out from its form ----
t_only=${ticket#/t/}; t_only=${t_only%%/*}
recipient=$(sqlite3 "$PLUGHOLE_DB" "select recipient from letters where ticket = '$t_only'")
cat >"$tmp/optout.json" <<JSON
[{"text": "h1", "expect": "Stop letters to $recipient"}, {"click": "#unsubscribe"}, {"wait": "#done"},
 {"text": "#done", "expect": "We will not write to $recipient again."}, {"shot": "$tmp/optout.png"}]
JSON
assert_eq "$(sqlite3 "$PLUGHOLE_DB" "select count(*) from suppressions where value = '$recipient'")" 0 "opening the form suppresses nothing"
node "$BR" run "$B$ticket/unsubscribe" "$tmp/optout.json" >"$tmp/run.out" 2>"$tmp/run.err" || fail "opt-out: $(cat "$tmp/run.err")"
assert_eq "$(sqlite3 "$PLUGHOLE_DB" "select kind from suppressions where value = '$recipient'")" address "the contact is suppressed"

# ---- the dashboard: a wrong password, then the login, the report (its inline style allowed by
# its hash: a CSP violation would be a console error), then logout ----
cat >"$tmp/wrong.json" <<JSON
[{"fill": "#password", "value": "not the password"}, {"submit": "form.login"}, {"text": "h1", "expect": "403 Forbidden"}]
JSON
node "$BR" run "$B/admin" "$tmp/wrong.json" >"$tmp/run.out" 2>"$tmp/run.err" || true
assert_contains "$(cat "$tmp/run.out")" "403 Forbidden"
cat >"$tmp/login.json" <<JSON
[{"fill": "#password", "value": "$SERVE_PASSWORD"}, {"submit": "form.login"}, {"text": "h1", "expect": "Dashboard"},
 {"text": "#campaign", "expect": "c1"}, {"shot": "$tmp/dashboard.png"},
 {"click": "#report"}, {"text": "h1", "expect": "Remediation report: c1"}, {"shot": "$tmp/report.png"},
 {"goto": "$B/admin"}, {"submit": "form.logout"}, {"wait": "#password"}, {"text": "h1", "expect": "Operator login"}]
JSON
node "$BR" run "$B/admin" "$tmp/login.json" >"$tmp/run.out" 2>"$tmp/run.err" || fail "login: $(cat "$tmp/run.err")"
assert_contains "$(cat "$tmp/serve.log")" "admin login from"
echo "serve_browser ok: $n pages"

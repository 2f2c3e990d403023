#!/usr/bin/env bash
# Makes docs/serve-ticket.png and docs/serve-dashboard.png (README, "The owners' web")
# with the tests' Chromium harness, on the tests' campaign store (tests/it/lib/serve_store.sh).
#   bash docs/serve_screenshots.sh BUILD_DIR      Addresses: 127.84.9.1.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
export PLUGHOLE=$(cd "${1:-build}" && pwd)/plughole PLUGHOLE_DATA=${PLUGHOLE_DATA:-$src/data}
. "$src/tests/it/lib/serve_store.sh"
tmp=$(mktemp -d); serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid"; wait 2>/dev/null; rm -rf "$tmp"' EXIT
export PLUGHOLE_DB=$tmp/db
serve_store "$PLUGHOLE_DB"
sqlite3 "$PLUGHOLE_DB" "update findings set transcript = '<-- 220 mail.telecom-nunez.example ESMTP Postfix' || char(10) ||
  '--> EHLO verifier.test' || char(10) || '<-- 250-mail.telecom-nunez.example' || char(10) || '<-- 250 PIPELINING' || char(10) ||
  '--> MAIL FROM:<probe@sink.test>' || char(10) || '<-- 250 2.1.0 Ok' || char(10) ||
  '--> RCPT TO:<\"sink%sink.test\"@127.72.200.0>' || char(10) || '<-- 250 2.1.5 Ok' || char(10) ||
  '--> DATA' || char(10) || '<-- 354 End data with <CR><LF>.<CR><LF>' || char(10) || '<-- 250 2.0.0 Ok: queued as 4F2A1' where candidate_id = 9"
serve_start "$tmp/serve.log" 127.84.9.1:8489 --public-url https://secure-your-server.example.org
node "$src/tests/it/lib/browser.mjs" shot "http://127.84.9.1:8489$(serve_ticket_url 1)" "$src/docs/serve-ticket.png" --full
cat >"$tmp/login.json" <<JSON
[{"fill": "#password", "value": "$SERVE_PASSWORD"}, {"submit": "form.login"}, {"wait": "#campaign"},
 {"shot": "$src/docs/serve-dashboard.png", "full": true}]
JSON
node "$src/tests/it/lib/browser.mjs" run "http://127.84.9.1:8489/admin" "$tmp/login.json" >/dev/null
echo "docs/serve-ticket.png, docs/serve-dashboard.png"

#!/usr/bin/env bash
# The owners' web under load (issue 14's Performance section): wrk with 100
# connections against plughole serve's static pages (the campaign page, a
# guide) and its ticket pages, picked at random among 100,000 tickets of a
# real campaign (synthetic proven findings made by SQL, as bench/campaign.sh
# makes them, then `plughole campaign create`: real tickets and keys); beside
# wrk against a static file of a ticket page's size served by Debian's
# lighttpd, the ceiling. Prints requests/s, p99 latency and the ratio to the
# ceiling; ticket pages should reach a quarter of it.
# Addresses: serve 127.85.0.1:8090, lighttpd 127.85.0.2:8090 (loopback only).
#   bash bench/serve.sh BUILD_DIR    (SERVE_TICKETS=N, SERVE_SECONDS=S, SERVE_THREADS=T for serve)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole=$build/plughole
src=$(cd "$(dirname "$0")/.." && pwd)
export PLUGHOLE_DATA=${PLUGHOLE_DATA:-$src/data}
tickets=${SERVE_TICKETS:-100000}
seconds=${SERVE_SECONDS:-10}
threads=$(nproc)                # wrk's
serve_threads=${SERVE_THREADS:-4} # serve's default (WEB_THREADS): SQLite's file locks block a thread now and then
for tool in wrk lighttpd sqlite3; do
  command -v "$tool" >/dev/null || { echo "bench/serve.sh: $tool missing: scripts/install-deps.sh --with-peers" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughole-bench-serve.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
db=$tmp/store.db
SERVE=127.85.0.1:8090 CEILING=127.85.0.2:8090

# ---- a store with $tickets letters: one owner per finding, no control group ----
echo "making $tickets tickets ..." >&2
"$plughole" --db "$db" suppress add @suppressed.example --reason bench >/dev/null 2>&1
sqlite3 "$db" <<SQL
BEGIN;
INSERT INTO verify_runs(id, started, finished, wait, campaign, sink, status) VALUES(1, 1000, 2000, 10, 1, 'x', 'done');
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $tickets)
INSERT INTO candidates(id, address, port, family, first_seen, last_seen)
  SELECT i + 1, '10.' || (i / 65536) || '.' || ((i / 256) % 256) || '.' || (i % 256), 25, 4, 0, 0 FROM n;
INSERT INTO probes(id, run_id, candidate_id, test, variant, token, started, finished, outcome)
  SELECT id, 1, id, 'relay', 'plain', 'phbench' || id, 1100, 1101, 'message-sent' FROM candidates;
INSERT INTO proofs(token, campaign, address, port, test, token_time, peer, received, size)
  SELECT 'phbench' || id, 1, address, port, 0, 1100, address || ':1', 1105, 100 FROM candidates;
INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, token, run_id, first_checked,
  last_checked, transcript)
  SELECT id, 'open-relay', 'relay', 'plain', 'smtp-relay', 'Postfix', 'phbench' || id, 1, 1100, 1100,
  '<-- 220 mail.example ESMTP Postfix' || char(10) || '--> EHLO verifier.test' || char(10) ||
  '<-- 250 mail.example' || char(10) || '--> MAIL FROM:<test@sink.test>' || char(10) || '<-- 250 2.1.0 Ok'
  FROM candidates;
INSERT INTO owners(id, organisation, abuse, country, agency, first_seen)
  SELECT id, 'Owner ' || id, 'abuse@o' || id || '.example', 'US', 'FTC', 0 FROM candidates;
INSERT INTO attributions(candidate_id, owner_id, contact, rung, asn, country, agency, method, attributed)
  SELECT id, id, 'abuse@o' || id || '.example', 'range-abuse-c', 64500, 'US', 'FTC', 'bulk', 0 FROM candidates;
COMMIT;
SQL
"$plughole" --db "$db" campaign create bench --control 0 --seed 1 --domain bench.test >/dev/null 2>"$tmp/create.err" ||
  { cat "$tmp/create.err" >&2; exit 1; }
sqlite3 "$db" "select '/t/' || ticket || '/' || ticket_key from letters" >"$tmp/tickets"
echo "$(wc -l <"$tmp/tickets") ticket pages" >&2

# ---- the two servers ----
"$plughole" --db "$db" -q serve --listen "$SERVE" --threads "$serve_threads" >"$tmp/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$SERVE/" && break; sleep 0.1; done
mkdir "$tmp/www"
curl -s "http://$SERVE$(head -n 1 "$tmp/tickets")" >"$tmp/www/ticket.html"
cat >"$tmp/lighttpd.conf" <<CONF
server.document-root = "$tmp/www"
server.bind = "${CEILING%:*}"
server.port = ${CEILING#*:}
server.errorlog = "$tmp/lighttpd.err"
mimetype.assign = (".html" => "text/html")
CONF
lighttpd -D -f "$tmp/lighttpd.conf" & pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$CEILING/ticket.html" && break; sleep 0.1; done

cat >"$tmp/tickets.lua" <<'LUA'
-- each wrk thread asks for ticket pages in random order
local paths = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + #paths + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
LUA

# runs wrk; prints "requests/s p99_ms"
load() {
  local out
  out=$(wrk -t "$threads" -c 100 -d "${seconds}s" --latency "$@" 2>&1)
  grep -q "Non-2xx" <<<"$out" && { echo "bench/serve.sh: errors: $out" >&2; exit 1; }
  local rps p99
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
        else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; print v }' <<<"$out")
  echo "$rps $p99"
}

read -r ceil_rps ceil_p99 < <(load "http://$CEILING/ticket.html")
read -r camp_rps camp_p99 < <(load "http://$SERVE/")
read -r guide_rps guide_p99 < <(load "http://$SERVE/guides/postfix")
read -r ticket_rps ticket_p99 < <(load -s "$tmp/tickets.lua" "http://$SERVE" -- "$tmp/tickets")

printf '\n%-34s %12s %10s %8s\n' "100 connections, ${seconds} s each" "requests/s" "p99 ms" "ratio"
row() { printf '%-34s %12.0f %10.2f %8.2f\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$ceil_rps" 'BEGIN { print a / b }')"; }
row "lighttpd, static file (ceiling)" "$ceil_rps" "$ceil_p99"
row "serve: campaign page /" "$camp_rps" "$camp_p99"
row "serve: guide /guides/postfix" "$guide_rps" "$guide_p99"
row "serve: ticket pages ($tickets)" "$ticket_rps" "$ticket_p99"
ratio=$(awk -v a="$ticket_rps" -v b="$ceil_rps" 'BEGIN { print a / b }')
if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.25) }'; then
  echo "ticket pages: $ratio of the ceiling (at least 0.25): ok"
else
  echo "ticket pages: $ratio of the ceiling, under 0.25" >&2
  exit 1
fi

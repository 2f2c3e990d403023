#!/usr/bin/env bash
# Campaign creation benchmark: a synthetic store of 100,000 proven open
# findings (each with its probe, its bound proof and its attribution) over
# 20,000 owners in 8 countries, then `campaign create --control 0.2`: every
# finding's proof binding checked, 20,000 owners frozen and drawn, 16,000
# letters with tickets and keys. Prints the time against the issue's budget
# (create and render every letter under 10 s; rendering is another step's).
# No network traffic.
#   bash bench/campaign.sh BUILD_DIR     (CAMPAIGN_FINDINGS=N CAMPAIGN_OWNERS=M for another size)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
plughole=$build/plughole
findings=${CAMPAIGN_FINDINGS:-100000}
owners=${CAMPAIGN_OWNERS:-20000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughole-bench-campaign.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/store.db

"$plughole" --db "$db" suppress add @suppressed.example --reason bench >/dev/null 2>&1
sqlite3 "$db" <<SQL
BEGIN;
INSERT INTO verify_runs(id, started, finished, wait, campaign, sink, status) VALUES(1, 1000, 2000, 10, 1, 'x', 'done');
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $findings)
INSERT INTO candidates(id, address, port, family, first_seen, last_seen)
  SELECT i + 1, '10.' || (i / 65536) || '.' || ((i / 256) % 256) || '.' || (i % 256), 25, 4, 0, 0 FROM n;
INSERT INTO probes(id, run_id, candidate_id, test, variant, token, started, finished, outcome)
  SELECT id, 1, id, 'relay', 'plain', 'phbench' || id, 1100, 1101, 'message-sent' FROM candidates;
INSERT INTO proofs(token, campaign, address, port, test, token_time, peer, received, size)
  SELECT 'phbench' || id, 1, address, port, 0, 1100, address || ':1', 1105, 100 FROM candidates;
INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, token, run_id, first_checked, last_checked)
  SELECT id, CASE id % 10 WHEN 0 THEN 'open-proxy-mail' ELSE 'open-relay' END,
  CASE id % 10 WHEN 0 THEN 'proxy' ELSE 'relay' END, 'plain', 'smtp-relay', 'Postfix', 'phbench' || id, 1, 1100, 1100
  FROM candidates;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $owners)
INSERT INTO owners(id, organisation, abuse, country, agency, first_seen)
  SELECT i, 'Owner ' || i, 'abuse@o' || i || CASE WHEN i % 100 = 0 THEN '.suppressed.example' ELSE '.example' END,
  substr('BRJPKRUSARTWDEFR', 1 + 2 * (i % 8), 2), 'FTC', 0 FROM n;
INSERT INTO attributions(candidate_id, owner_id, contact, rung, asn, country, agency, method, attributed)
  SELECT c.id, o.id, o.abuse, 'range-abuse-c', 64500, o.country, 'FTC', 'bulk', 0
  FROM candidates c JOIN owners o ON o.id = 1 + (c.id - 1) % $owners;
COMMIT;
SQL

start=$(date +%s.%N)
"$plughole" --db "$db" campaign create bench --control 0.2 --seed 1 --domain campaign.test >"$tmp/out" 2>"$tmp/err"
end=$(date +%s.%N)
cat "$tmp/out"
letters=$(sqlite3 "$db" "select count(*) from letters")
printf 'campaign create: %d findings over %d owners, %d letters in %.2f s (budget for create and render: 10 s)\n' \
	"$findings" "$owners" "$letters" "$(echo "$end - $start" | bc -l)"

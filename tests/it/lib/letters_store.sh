# shellcheck shell=bash
# letters_store.sh: a campaign store for the letter tests, fast and without
# network: synthetic proven findings (each with its probe, bound proof and
# attribution, as bench/campaign.sh makes them) in 127.72.200-255.x (at most 14,336 findings), which
# nothing verifies, then a real `plughole campaign create`.
#
#   letters_findings DB OWNERS HOSTS_PER_OWNER
#       findings over OWNERS owners: owner i writes to abuse@o<i>.example, its
#       country and agency in turn FTC/US, AR/AR (Spanish), AL/AL (Albanian:
#       no template of its own, the fallback rule), CGI/BR (Portuguese);
#       organisation "Owner <i>", the first one "Telecomunicaciones Núñez S.A."
letters_findings() {
  local db=$1 owners=$2 per=$3
  local findings=$(( owners * per ))
  # a first update makes the store (and a rule no owner here matches)
  "${PLUGHOLE:?}" --db "$db" suppress add @never.example --reason "letters test" >/dev/null
  sqlite3 "$db" <<SQL
BEGIN;
INSERT INTO verify_runs(id, started, finished, wait, campaign, sink, status) VALUES(1, 1075384800, 1075384900, 10, 1, 'x', 'done');
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $findings)
INSERT INTO candidates(id, address, port, family, first_seen, last_seen)
  SELECT i + 1, '127.72.' || (200 + i / 256) || '.' || (i % 256), 25, 4, 0, 0 FROM n;
INSERT INTO probes(id, run_id, candidate_id, test, variant, token, started, finished, outcome)
  SELECT id, 1, id, 'relay', 'plain', 'phletters' || id, 1075385100, 1075385101, 'message-sent' FROM candidates;
INSERT INTO proofs(token, campaign, address, port, test, token_time, peer, received, size)
  SELECT 'phletters' || id, 1, address, port, 0, 1075385100, address || ':1', 1075385105, 100 FROM candidates;
INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, token, run_id, first_checked, last_checked)
  SELECT id, CASE id % 5 WHEN 0 THEN 'open-proxy-mail' ELSE 'open-relay' END,
  CASE id % 5 WHEN 0 THEN 'proxy' ELSE 'relay' END, CASE id % 5 WHEN 0 THEN 'socks5' ELSE 'percent-hack' END,
  CASE id % 5 WHEN 0 THEN 'socks5' ELSE 'smtp' END, CASE id % 5 WHEN 0 THEN 'Dante' ELSE 'Postfix' END,
  'phletters' || id, 1, 1075385100, 1075385100
  FROM candidates;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $owners)
INSERT INTO owners(id, organisation, abuse, country, agency, first_seen)
  SELECT i, CASE i WHEN 1 THEN 'Telecomunicaciones Núñez S.A.' ELSE 'Owner ' || i END,
  'abuse@o' || i || '.example',
  substr('USARALBR', 1 + 2 * ((i - 1) % 4), 2),
  CASE (i - 1) % 4 WHEN 0 THEN 'FTC' WHEN 1 THEN 'AR-CP' WHEN 2 THEN 'AL-TR' ELSE 'CGI.br' END, 0 FROM n;
INSERT INTO attributions(candidate_id, owner_id, contact, rung, asn, country, agency, method, attributed)
  SELECT c.id, o.id, o.abuse, 'range-abuse-c', 64500, o.country, o.agency, 'bulk', 0
  FROM candidates c JOIN owners o ON o.id = 1 + (c.id - 1) % $owners;
COMMIT;
SQL
}

# shellcheck shell=bash
# The store the campaign and letters benchmarks start from; source it.
#
# proven_findings PLUGHOLE DB FINDINGS OWNERS SUPPRESSED AGENCY...: FINDINGS
# proven open findings in DB (each with its probe, its bound proof and its
# attribution; one in ten an open proxy) over OWNERS owners in 8 countries, on
# 10.x addresses that nothing verifies or sends to. Every SUPPRESSED-th
# owner's contact (0: none) is under @suppressed.example, which is suppressed;
# owner i's agency is the (i mod count)-th AGENCY.
proven_findings() {
	local plughole=$1 db=$2 findings=$3 owners=$4 suppressed=$5 agencies='' k=0 agency
	shift 5
	for agency in "$@"; do
		agencies+="${agencies:+, }($k, '$agency')"
		k=$((k + 1))
	done
	"$plughole" --db "$db" suppress add @suppressed.example --reason bench >/dev/null 2>&1
	sqlite3 "$db" <<SQL
BEGIN;
CREATE TEMP TABLE agencies(k INTEGER PRIMARY KEY, agency TEXT);
INSERT INTO agencies VALUES $agencies;
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
  SELECT i, 'Owner ' || i,
  'abuse@o' || i || CASE WHEN $suppressed > 0 AND i % $suppressed = 0 THEN '.suppressed.example' ELSE '.example' END,
  substr('BRJPKRUSARTWDEFR', 1 + 2 * (i % 8), 2), a.agency, 0 FROM n JOIN agencies a ON a.k = i % $k;
INSERT INTO attributions(candidate_id, owner_id, contact, rung, asn, country, agency, method, attributed)
  SELECT c.id, o.id, o.abuse, 'range-abuse-c', 64500, o.country, o.agency, 'bulk', 0
  FROM candidates c JOIN owners o ON o.id = 1 + (c.id - 1) % $owners;
COMMIT;
SQL
}

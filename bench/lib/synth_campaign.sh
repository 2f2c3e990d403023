#!/usr/bin/env bash
# Builds, fast, a real plughole store holding a synthetic campaign, for the
# benchmarks (bench/report.sh) and tests that need a large store:
#   bench/lib/synth_campaign.sh PLUGHOLE STORE [HOSTS [OWNERS [ROUNDS [NAME]]]]
# (defaults 1000000 hosts, 200000 owners, 4 recheck rounds, campaign "synthetic").
# The plughole binary creates and migrates the store (the schema is its own);
# sqlite3 fills it in one transaction: candidates, owners and attributions, a
# verify round (round 0) with a realistic mix of verdicts, a campaign of the
# open hosts (owners in treatment or control, 20% control), letters for the
# treatment owners with their states, ROUNDS rechecks (kind 'recheck', seq
# 1..ROUNDS) where treatment fixes faster than control, and findings = the
# latest verdict of each host.
# The hosts are 127.x.y.z (host i is 127.(i>>16).(i>>8).i): this store is
# never given to verify, and its addresses could not leave the machine if it were.
# Draws are deterministic (multiplicative hashes of the host number), so two
# builds with the same sizes are the same store.
set -euo pipefail
plughole=${1:?usage: synth_campaign.sh PLUGHOLE STORE [HOSTS [OWNERS [ROUNDS [NAME]]]]}
store=${2:?usage: synth_campaign.sh PLUGHOLE STORE [HOSTS [OWNERS [ROUNDS [NAME]]]]}
hosts=${3:-1000000}
owners=${4:-200000}
rounds=${5:-4}
name=${6:-synthetic}
for n in "$hosts" "$owners" "$rounds"; do
	case $n in '' | *[!0-9]*) echo "synth_campaign.sh: sizes are whole numbers, not '$n'" >&2; exit 2 ;; esac
done
if [ "$hosts" -lt 1 ] || [ "$hosts" -gt 16777215 ] || [ "$owners" -lt 1 ] || [ "$owners" -gt "$hosts" ]; then
	echo "synth_campaign.sh: need 1 <= OWNERS <= HOSTS <= 16777215" >&2
	exit 2
fi
case $name in *[!A-Za-z0-9._-]*) echo "synth_campaign.sh: campaign name '$name': letters, digits, . _ -" >&2; exit 2 ;; esac

rm -f "$store" "$store-wal" "$store-shm" "$store-journal"
empty=$(mktemp "${TMPDIR:-/tmp}/plughole-synth.XXXXXX")
trap 'rm -f "$empty"' EXIT
"$plughole" -q --db "$store" ingest "$empty" > /dev/null

t0=1764547200 # 2025-12-01 00:00 UTC: the verify round; the campaign a day later, rechecks weekly
sqlite3 -bail "$store" > /dev/null <<SQL
-- a bulk fill of a new store: no rollback journal (a crash leaves a store to build again), WAL
-- again at the end, as plughole keeps it
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -262144;
BEGIN;
-- the empty ingest that made the store left its source and run: start clean
DELETE FROM ingest_runs; DELETE FROM candidate_sources; DELETE FROM sources;
-- one row per host with its draws (hN: 0..99, independent multiplicative hashes)
CREATE TEMP TABLE h AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $hosts)
  SELECT i, (i * 2654435761 % 4294967291) % 100 AS h1, (i * 2246822519 % 4294967291) % 100 AS h2,
    (i * 3266489917 % 4294967291) % 100 AS h3, (i * 668265263 % 4294967291) % 1000 AS h4,
    1 + (i * 40503 % 4294967291) % $owners AS owner FROM n;
CREATE TEMP TABLE hv AS
  SELECT i, h2, h3, h4, owner,
    CASE WHEN h1 < 30 THEN 'open-relay' WHEN h1 < 38 THEN 'open-proxy-mail' WHEN h1 < 45 THEN 'open-proxy-web'
      WHEN h1 < 48 THEN 'relay-accepted' WHEN h1 < 73 THEN 'closed' WHEN h1 < 85 THEN 'unreachable'
      WHEN h1 < 90 THEN 'timeout' WHEN h1 < 94 THEN 'tempfail' WHEN h1 < 98 THEN 'not-smtp'
      ELSE 'not-proxy' END AS v0,
    CASE WHEN (owner * 2654435761 % 4294967291) % 100 < 20 THEN 'control' ELSE 'treatment' END AS grp
  FROM h;
DROP TABLE h;

INSERT INTO sources(id, name, format, first_seen, last_seen) VALUES (1, 'synthetic', 'plain', $t0, $t0);
INSERT INTO candidates(id, address, port, family, first_seen, last_seen)
  SELECT i, '127.' || ((i >> 16) & 255) || '.' || ((i >> 8) & 255) || '.' || (i & 255),
    CASE WHEN v0 IN ('open-proxy-mail', 'open-proxy-web', 'not-proxy') THEN (CASE WHEN h2 % 2 = 0 THEN 3128 ELSE 8080 END)
      ELSE 25 END, 4, $t0, $t0 FROM hv;
INSERT INTO candidate_sources(candidate_id, source_id) SELECT i, 1 FROM hv;

CREATE TEMP TABLE countries(k INTEGER PRIMARY KEY, cc TEXT, agency TEXT);
INSERT INTO countries VALUES (0, 'DE', 'BSI'), (1, 'FR', 'ANSSI'), (2, 'NL', 'NCSC-NL'), (3, 'US', 'CISA'),
  (4, 'BR', 'CERT.br'), (5, 'JP', 'JPCERT/CC'), (6, 'IN', 'CERT-In'), (7, 'GB', 'NCSC-UK'),
  (8, 'RU', NULL), (9, 'CN', 'CNCERT/CC');
INSERT INTO owners(id, organisation, abuse, org_handle, country, agency, first_seen)
  WITH RECURSIVE n(o) AS (SELECT 1 UNION ALL SELECT o + 1 FROM n WHERE o < $owners)
  SELECT o, 'Synthetic Network ' || o, 'abuse@net' || o || '.example', 'ORG-SN' || o || '-TEST',
    c.cc, c.agency, $t0 FROM n JOIN countries c ON c.k = o % 10;
INSERT INTO attributions(candidate_id, owner_id, range, object, contact, rung, asn, as_name, country, agency,
    method, attributed)
  SELECT hv.i, o.id, '127.' || ((hv.i >> 16) & 255) || '.' || ((hv.i >> 8) & 255) || '.0/24', o.org_handle,
    o.abuse, 'abuse-c', 64512 + o.id % 1000, 'SYNTH-AS' || (o.id % 1000), o.country, o.agency, 'snapshot', $t0
  FROM hv JOIN owners o ON o.id = hv.owner;

-- round 0: the verify that found them
INSERT INTO verify_runs(id, started, finished, wait, campaign, sink, status)
  VALUES (1, $t0, $t0 + 3600, 60, 1, 'sink.example', 'done');
INSERT INTO rounds(id, kind, started, finished, status) VALUES (0, 'verify', $t0, $t0 + 3600, 'done');
CREATE TEMP TABLE software(k INTEGER PRIMARY KEY, smtp TEXT, proxy TEXT);
INSERT INTO software VALUES (0, 'Postfix', 'Squid 4.13'), (1, 'Exim 4.94', 'Squid 5.7'), (2, 'Sendmail 8.15', 'tinyproxy 1.10'),
  (3, 'Microsoft ESMTP MAIL Service', 'Privoxy 3.0'), (4, 'qmail', 'Apache/2.4 mod_proxy'), (5, NULL, NULL);
INSERT INTO round_findings(round_id, candidate_id, run_id, verdict, test, variant, protocol, software, tls, token, checked)
  SELECT 0, i, 1, v0,
    CASE WHEN v0 LIKE 'open-proxy%' OR v0 = 'not-proxy' THEN 'proxy' ELSE 'relay' END,
    CASE WHEN v0 = 'open-relay' THEN 'plain' WHEN v0 = 'open-proxy-mail' THEN 'connect-25'
      WHEN v0 = 'open-proxy-web' THEN 'get' END,
    CASE WHEN v0 LIKE 'open-proxy%' OR v0 = 'not-proxy' THEN 'http' ELSE 'smtp' END,
    CASE WHEN v0 LIKE 'open-proxy%' OR v0 = 'not-proxy' THEN s.proxy ELSE s.smtp END,
    h3 % 3 = 0, CASE WHEN v0 IN ('open-relay', 'open-proxy-mail', 'open-proxy-web') THEN 'synthetic-' || i END,
    $t0 + i % 3600
  FROM hv JOIN software s ON s.k = h4 % 6;

-- the campaign: every host open at round 0, with its owner's group
INSERT INTO campaigns(id, name, created, verdicts, control_fraction, seed, domain, key_salt, skipped_unattributed)
  VALUES (1, '$name', $t0 + 86400, 'open-relay,open-proxy-mail,open-proxy-web', 0.2, 1, 'plughole.example',
    'synthetic-salt', 0);
CREATE TEMP TABLE open0 AS
  SELECT hv.*, rf.test, rf.variant, rf.protocol, rf.software, rf.tls, rf.token, rf.checked
  FROM hv JOIN round_findings rf ON rf.round_id = 0 AND rf.candidate_id = hv.i
  WHERE v0 IN ('open-relay', 'open-proxy-mail', 'open-proxy-web');
CREATE INDEX open0_owner ON open0(owner, i);
-- an owner's verdict and stratum: those of its first open host
CREATE TEMP TABLE owner0 AS SELECT owner, v0 FROM (SELECT owner, v0, min(i) FROM open0 GROUP BY owner);
INSERT INTO campaign_owners(id, campaign_id, owner_id, organisation, org_handle, contact, rung, country, agency,
    verdict, stratum, grp)
  SELECT o.id, 1, o.id, o.organisation, o.org_handle, o.abuse, 'abuse-c', o.country, o.agency,
    w.v0, coalesce(o.country, '-') || '/' || w.v0,
    CASE WHEN (o.id * 2654435761 % 4294967291) % 100 < 20 THEN 'control' ELSE 'treatment' END
  FROM owner0 w JOIN owners o ON o.id = w.owner;
INSERT INTO campaign_hosts(campaign_id, campaign_owner_id, candidate_id, address, port, verdict, test, variant,
    protocol, software, tls, token, proved, run_id, contact, rung, range, object, asn, as_name, country, agency)
  SELECT 1, a.owner_id, o.i, c.address, c.port, o.v0, o.test, o.variant, o.protocol, o.software, o.tls, o.token,
    o.checked, 1, a.contact, a.rung, a.range, a.object, a.asn, a.as_name, a.country, a.agency
  FROM open0 o JOIN candidates c ON c.id = o.i JOIN attributions a ON a.candidate_id = o.i;
INSERT INTO letters(id, campaign_id, campaign_owner_id, ticket, ticket_key, message_id, recipient, agency,
    language, template, state, reason, created, updated)
  SELECT co.id, 1, co.id, 'PH-' || printf('%08d', co.id), lower(hex(co.id * 2246822519)),
    '<ph-' || co.id || '@plughole.example>', co.contact, co.agency, 'en', 'owner',
    CASE WHEN (co.id * 3266489917 % 4294967291) % 100 < 85 THEN 'sent'
      WHEN (co.id * 3266489917 % 4294967291) % 100 < 90 THEN 'bounced'
      WHEN (co.id * 3266489917 % 4294967291) % 100 < 92 THEN 'failed'
      WHEN (co.id * 3266489917 % 4294967291) % 100 < 95 THEN 'suppressed'
      WHEN (co.id * 3266489917 % 4294967291) % 100 < 97 THEN 'deferred' ELSE 'queued' END,
    NULL, $t0 + 86400, $t0 + 90000
  FROM campaign_owners co WHERE co.grp = 'treatment';

-- rechecks, weekly: a host fixed by round r stays fixed (the same draw against a
-- growing share: treatment 12% a round, control 4%); what fixing looks like:
-- mostly closed, some gone (unreachable), a few inconclusive (timeout); and 3%
-- of the still-open hosts give no usable answer in a given round.
INSERT INTO campaign_schedules(campaign_id, every, rounds) VALUES (1, 604800, $rounds);
WITH RECURSIVE r(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM r WHERE seq < $rounds)
INSERT INTO rounds(id, kind, campaign_id, seq, started, finished, status)
  SELECT seq, 'recheck', 1, seq, $t0 + 86400 + seq * 604800, $t0 + 86400 + seq * 604800 + 7200, 'done' FROM r;
WITH RECURSIVE r(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM r WHERE seq < $rounds)
INSERT INTO round_findings(round_id, candidate_id, run_id, verdict, test, variant, protocol, software, tls, token,
    checked)
  SELECT r.seq, o.i, 1,
    CASE WHEN o.h2 < r.seq * (CASE o.grp WHEN 'treatment' THEN 12 ELSE 4 END)
        THEN (CASE WHEN o.h3 < 75 THEN 'closed' WHEN o.h3 < 93 THEN 'unreachable' ELSE 'timeout' END)
      WHEN (o.h4 + r.seq * 397) % 100 < 3 THEN 'timeout'
      ELSE o.v0 END,
    o.test, o.variant, o.protocol, o.software, o.tls,
    CASE WHEN o.h2 < r.seq * (CASE o.grp WHEN 'treatment' THEN 12 ELSE 4 END) OR (o.h4 + r.seq * 397) % 100 < 3
      THEN NULL ELSE o.token || '-r' || r.seq END,
    $t0 + 86400 + r.seq * 604800 + o.i % 7200
  FROM r, open0 o;

-- findings: each host's latest verdict
INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, tls, token, attempts,
    first_checked, last_checked, run_id)
  SELECT rf.candidate_id, rf.verdict, rf.test, rf.variant, rf.protocol, rf.software, rf.tls, rf.token, 1,
    $t0 + rf.candidate_id % 3600, rf.checked, rf.run_id
  FROM round_findings rf
  WHERE rf.round_id = (CASE WHEN rf.candidate_id IN (SELECT i FROM open0) THEN $rounds ELSE 0 END);
COMMIT;
PRAGMA journal_mode = WAL;
SQL

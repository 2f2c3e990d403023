# shellcheck shell=bash
# report_store.sh: recheck rounds for a campaign store (letters_store.sh),
# written with SQL as a recheck would leave them, to test the report. Round
# seq s of the campaign, per frozen host h of owner o:
#   untested (no row)          h.id % 19 = 0, or every host of owner o.id % 31 = 0
#   unreachable (gone)         every host of owner o.id % 29 = 0
#   closed (fixed)             treatment: o.id % 2 = 0 or (s >= 2 and o.id % 3 = 0);
#                              control:   o.id % 5 = 0
#   unreachable (gone)         h.id % 11 = 0
#   timeout (inconclusive)     h.id % 13 = 0
#   closed (fixed)             h.id % 7 = 3 (one host of an owner: its other may stay open)
#   open-proxy-mail (changed)  h.id % 17 = 0 and the frozen verdict is open-relay
#   the frozen verdict (open)  otherwise
# (first match wins). Then letters: owner o's first letter is sent when
# o.id % 4 != 1; when o.id % 4 = 1 it bounced, and o.id % 8 = 1 got a second
# letter to a fallback contact, sent; o.id % 12 = 5 has its sent letter bounce
# back (a letter_returns row) without a state change.
#
#   report_rounds DB CAMPAIGN ROUNDS
report_rounds() {
  local db=$1 campaign=$2 rounds=$3
  sqlite3 "$db" <<SQL
BEGIN;
WITH RECURSIVE n(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM n WHERE s < $rounds)
INSERT INTO rounds(kind, campaign_id, seq, started, finished, status)
  SELECT 'recheck', c.id, s, 1075990000 + s * 604800, 1075990000 + s * 604800 + 3600,
  CASE WHEN s = $rounds THEN 'running' ELSE 'done' END
  FROM n, campaigns c WHERE c.name = '$campaign';
INSERT INTO round_findings(round_id, candidate_id, verdict, checked)
  SELECT r.id, h.candidate_id, CASE
    WHEN o.id % 29 = 0 THEN 'unreachable'
    WHEN (o.grp = 'treatment' AND (o.id % 2 = 0 OR (r.seq >= 2 AND o.id % 3 = 0)))
      OR (o.grp = 'control' AND o.id % 5 = 0) THEN 'closed'
    WHEN h.id % 11 = 0 THEN 'unreachable'
    WHEN h.id % 13 = 0 THEN 'timeout'
    WHEN h.id % 7 = 3 THEN 'closed'
    WHEN h.id % 17 = 0 AND h.verdict = 'open-relay' THEN 'open-proxy-mail'
    ELSE h.verdict END, r.started + 60
  FROM rounds r JOIN campaign_hosts h ON h.campaign_id = r.campaign_id
  JOIN campaign_owners o ON o.id = h.campaign_owner_id
  WHERE r.kind = 'recheck' AND r.campaign_id = (SELECT id FROM campaigns WHERE name = '$campaign')
  AND h.id % 19 != 0 AND o.id % 31 != 0;
UPDATE letters SET state = CASE WHEN campaign_owner_id % 4 = 1 THEN 'bounced' ELSE 'sent' END
  WHERE campaign_id = (SELECT id FROM campaigns WHERE name = '$campaign');
INSERT INTO letters(campaign_id, campaign_owner_id, previous_id, ticket, ticket_key, message_id, recipient,
  state, created, updated)
  SELECT campaign_id, campaign_owner_id, id, ticket || '-2', ticket_key, 'second-' || message_id,
  'fallback@' || campaign_owner_id || '.example', 'sent', created, updated
  FROM letters WHERE campaign_owner_id % 8 = 1 AND previous_id IS NULL
  AND campaign_id = (SELECT id FROM campaigns WHERE name = '$campaign');
INSERT INTO letter_returns(letter_id, ticket, received, kind, raw, raw_size)
  SELECT id, ticket, updated, 'bounce', 'x', 1 FROM letters
  WHERE campaign_owner_id % 12 = 5 AND previous_id IS NULL
  AND campaign_id = (SELECT id FROM campaigns WHERE name = '$campaign');
COMMIT;
SQL
}

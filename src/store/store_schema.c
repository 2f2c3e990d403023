/*
 * Numbered schema migrations. The database's PRAGMA user_version is the
 * number of migrations applied; store_open() applies the rest, each in its
 * own transaction. Never edit a migration that has shipped: add one.
 */
#include <stdio.h>

#include "core/log.h"
#include "store/store_internal.h"
#include "core/util.h"

static const char *const migrations[] = {
	/* 1: foundation: candidates and their sources, probes, findings, proofs. */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE sources("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, format TEXT,"
	"  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
	"CREATE TABLE candidates("
	"  id INTEGER PRIMARY KEY, address TEXT NOT NULL, port INTEGER NOT NULL,"
	"  family INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	"  UNIQUE(address, port));"
	"CREATE TABLE candidate_sources("
	"  candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),"
	"  PRIMARY KEY(candidate_id, source_id)) WITHOUT ROWID;"
	"CREATE TABLE ingest_runs("
	"  id INTEGER PRIMARY KEY, source_id INTEGER REFERENCES sources(id), format TEXT,"
	"  started INTEGER NOT NULL, finished INTEGER NOT NULL, lines INTEGER NOT NULL,"
	"  taken INTEGER NOT NULL, excluded INTEGER NOT NULL, duplicate INTEGER NOT NULL,"
	"  bad INTEGER NOT NULL);"
	/* One row per protocol conversation (one test variant) with a candidate. */
	"CREATE TABLE probes("
	"  id INTEGER PRIMARY KEY, candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	"  test TEXT NOT NULL, variant TEXT, token TEXT, started INTEGER NOT NULL,"
	"  finished INTEGER, outcome TEXT, reply TEXT);"
	"CREATE INDEX probes_candidate ON probes(candidate_id);"
	"CREATE INDEX probes_token ON probes(token);"
	/* The verdict for one address:port (see DESIGN.md) and its evidence. */
	"CREATE TABLE findings("
	"  candidate_id INTEGER PRIMARY KEY REFERENCES candidates(id),"
	"  verdict TEXT NOT NULL, test TEXT, variant TEXT, protocol TEXT, software TEXT,"
	"  tls INTEGER NOT NULL DEFAULT 0, token TEXT, exit_address TEXT, transcript TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER,"
	"  first_checked INTEGER, last_checked INTEGER);"
	"CREATE INDEX findings_verdict ON findings(verdict);"
	/* What the sink received with a genuine token. */
	"CREATE TABLE proofs("
	"  id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, campaign INTEGER NOT NULL,"
	"  address TEXT NOT NULL, port INTEGER NOT NULL, test INTEGER NOT NULL,"
	"  token_time INTEGER NOT NULL, peer TEXT NOT NULL, helo TEXT, mail_from TEXT,"
	"  rcpt_to TEXT, received INTEGER NOT NULL, size INTEGER NOT NULL, headers TEXT);"
	"CREATE INDEX proofs_address ON proofs(address, port);"
	/* Messages whose tokens failed the check: counted, never proof. */
	"CREATE TABLE sink_rejects("
	"  id INTEGER PRIMARY KEY, received INTEGER NOT NULL, peer TEXT NOT NULL,"
	"  token TEXT, reason TEXT NOT NULL);",
	/* 2: connections the sink's TCP target saw: the nonce it sent, who came. */
	"CREATE TABLE target_hits("
	"  id INTEGER PRIMARY KEY, nonce TEXT NOT NULL UNIQUE, peer TEXT NOT NULL,"
	"  listener TEXT NOT NULL, request TEXT, token TEXT, received INTEGER NOT NULL);",
	/* 3: attribution: registry snapshots (one per loaded source, replaced whole,
	 * stored as compact blobs: see attrib/snapshot.h), the RDAP cache, owners
	 * grouped by (organisation, abuse address), and each finding's attribution. */
	"CREATE TABLE attrib_snapshots("
	"  id INTEGER PRIMARY KEY, source TEXT NOT NULL UNIQUE, format TEXT NOT NULL, registry TEXT,"
	"  file TEXT NOT NULL, loaded INTEGER NOT NULL, bytes INTEGER NOT NULL, objects INTEGER NOT NULL,"
	"  ranges INTEGER NOT NULL, keys INTEGER NOT NULL, malformed INTEGER NOT NULL,"
	"  skipped INTEGER NOT NULL);"
	"CREATE TABLE attrib_snapshot_parts("
	"  id INTEGER PRIMARY KEY,"
	"  snapshot_id INTEGER NOT NULL REFERENCES attrib_snapshots(id) ON DELETE CASCADE,"
	"  part TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE(snapshot_id, part, seq));"
	"CREATE TABLE rdap_cache("
	"  id INTEGER PRIMARY KEY, first BLOB NOT NULL, last BLOB NOT NULL, registry TEXT NOT NULL,"
	"  status INTEGER NOT NULL, handle TEXT, name TEXT, country TEXT, org TEXT, abuse TEXT,"
	"  parent TEXT, url TEXT, fetched INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE INDEX rdap_cache_first ON rdap_cache(first);"
	"CREATE TABLE owners("
	"  id INTEGER PRIMARY KEY, organisation TEXT NOT NULL, abuse TEXT NOT NULL, org_handle TEXT,"
	"  country TEXT, agency TEXT, first_seen INTEGER NOT NULL, UNIQUE(organisation, abuse));"
	"CREATE TABLE attributions("
	"  candidate_id INTEGER PRIMARY KEY REFERENCES candidates(id),"
	"  owner_id INTEGER NOT NULL REFERENCES owners(id), range TEXT, object TEXT,"
	"  contact TEXT NOT NULL, rung TEXT NOT NULL, asn INTEGER, as_name TEXT, country TEXT,"
	"  agency TEXT, method TEXT NOT NULL, attributed INTEGER NOT NULL);"
	"CREATE INDEX attributions_owner ON attributions(owner_id);",
	/* 4: transcripts deflated (store_zlib.c): the size is set when the transcript is. */
	"ALTER TABLE findings ADD COLUMN transcript_size INTEGER;",
	/* 5: verification runs, and proofs bound to the probes that sent their tokens.
	 * Each run of verify is a row; its probes and the findings it wrote name it.
	 * A proof counts only through proof_bindings: the token of a probe whose
	 * message was not withdrawn, made for that candidate's address and port (the
	 * token also carries the test id), received inside the probe's window: from
	 * its start (2 s of clock skew) to its end plus the run's wait for proofs
	 * plus a grace of 600 s (relays queue). Legacy probes (no run) get a wait of
	 * 60 s. A proof that binds to no probe is kept, and proves nothing. */
	"CREATE TABLE verify_runs("
	"  id INTEGER PRIMARY KEY, started INTEGER NOT NULL, finished INTEGER,"
	"  wait INTEGER NOT NULL, campaign INTEGER NOT NULL, sink TEXT NOT NULL, status TEXT NOT NULL);"
	"ALTER TABLE probes ADD COLUMN run_id INTEGER REFERENCES verify_runs(id);"
	"ALTER TABLE findings ADD COLUMN run_id INTEGER REFERENCES verify_runs(id);"
	"CREATE INDEX probes_run ON probes(run_id);"
	"CREATE VIEW proof_bindings AS"
	"  SELECT pr.id AS proof_id, p.id AS probe_id, p.run_id AS run_id, p.candidate_id AS candidate_id,"
	"  p.test AS test, p.variant AS variant, pr.test AS proof_test, pr.token AS token, pr.peer AS peer,"
	"  pr.received AS received"
	/* CROSS JOIN: from the proofs (few) to their probes by token, never a scan of the probes */
	"  FROM proofs pr CROSS JOIN probes p ON p.token = pr.token"
	"  JOIN candidates c ON c.id = p.candidate_id AND c.address = pr.address AND c.port = pr.port"
	"  LEFT JOIN verify_runs r ON r.id = p.run_id"
	"  WHERE p.outcome IS NOT 'message-withdrawn' AND pr.received >= p.started - 2"
	"  AND pr.received <= max(p.started, coalesce(p.finished, p.started)) + coalesce(r.wait, 60) + 600;",
	/* 6: campaigns (issue 12): a frozen selection of proven findings, their owners
	 * as they were (campaign_owners), each owner's group (treatment or control)
	 * and its hosts with their evidence (campaign_hosts); one letter per owner of
	 * the treatment group (a bounce may add one to the owner's next contact:
	 * previous_id), with a ticket, the key of its evidence URL, a Message-ID fixed
	 * here and an explicit state (track/letter_state.h has the moves); every
	 * submission attempt; and the suppression rules (address, domain, network)
	 * that letters never go against. Copies, not references: a later attribute
	 * or verify leaves a campaign as it was. */
	"CREATE TABLE campaigns("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,"
	"  verdicts TEXT NOT NULL, control_fraction REAL NOT NULL, seed INTEGER NOT NULL,"
	"  agencies TEXT, countries TEXT, domain TEXT NOT NULL, key_salt TEXT NOT NULL,"
	"  skipped_unattributed INTEGER NOT NULL);"
	"CREATE TABLE campaign_owners("
	"  id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
	"  owner_id INTEGER, organisation TEXT NOT NULL, org_handle TEXT, contact TEXT NOT NULL,"
	"  rung TEXT, country TEXT, agency TEXT, verdict TEXT NOT NULL, stratum TEXT NOT NULL,"
	"  grp TEXT NOT NULL CHECK (grp IN ('treatment', 'control')),"
	"  UNIQUE(campaign_id, organisation, contact));"
	"CREATE TABLE campaign_hosts("
	"  id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
	"  campaign_owner_id INTEGER NOT NULL REFERENCES campaign_owners(id),"
	"  candidate_id INTEGER NOT NULL, address TEXT NOT NULL, port INTEGER NOT NULL,"
	"  verdict TEXT NOT NULL, test TEXT, variant TEXT, protocol TEXT, software TEXT,"
	"  tls INTEGER NOT NULL, token TEXT NOT NULL, exit_address TEXT, proved INTEGER NOT NULL,"
	"  run_id INTEGER, contact TEXT NOT NULL, rung TEXT, range TEXT, object TEXT, asn INTEGER,"
	"  as_name TEXT, country TEXT, agency TEXT, suppressed_by TEXT,"
	"  UNIQUE(campaign_id, candidate_id));"
	"CREATE INDEX campaign_hosts_owner ON campaign_hosts(campaign_owner_id);"
	"CREATE TABLE letters("
	"  id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
	"  campaign_owner_id INTEGER NOT NULL REFERENCES campaign_owners(id),"
	"  previous_id INTEGER REFERENCES letters(id),"
	"  ticket TEXT NOT NULL UNIQUE, ticket_key TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,"
	"  recipient TEXT NOT NULL, agency TEXT, language TEXT, template TEXT,"
	"  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'deferred', 'failed',"
	"  'bounced', 'suppressed', 'skipped')),"
	"  suppressed_by TEXT, reason TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	"  next_attempt INTEGER, UNIQUE(campaign_owner_id, recipient));"
	"CREATE INDEX letters_campaign ON letters(campaign_id, state);"
	"CREATE TABLE letter_attempts("
	"  id INTEGER PRIMARY KEY, letter_id INTEGER NOT NULL REFERENCES letters(id),"
	"  started INTEGER NOT NULL, finished INTEGER, smarthost TEXT, smtp_code INTEGER,"
	"  smtp_reply TEXT, outcome TEXT NOT NULL);"
	"CREATE INDEX letter_attempts_letter ON letter_attempts(letter_id);"
	"CREATE TABLE suppressions("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('address', 'domain', 'network')),"
	"  value TEXT NOT NULL, first BLOB, last BLOB, reason TEXT NOT NULL, added INTEGER NOT NULL,"
	"  UNIQUE(kind, value));",
	/* 7: what comes back for a letter (issue 12): a DSN (bounce), an RFC 3834
	 * auto-reply or an unsubscribe by mail, matched to the letter by the
	 * ticket in its VERP or unsubscribe address; the parsed fields and the raw
	 * message, bounded (raw_size says how large it was). */
	"CREATE TABLE letter_returns("
	"  id INTEGER PRIMARY KEY, letter_id INTEGER REFERENCES letters(id), ticket TEXT NOT NULL,"
	"  received INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('bounce', 'delay', 'auto-reply',"
	"  'unsubscribe', 'other')), shape TEXT, action TEXT, status TEXT, recipient TEXT, diagnostic TEXT,"
	"  peer TEXT, raw BLOB NOT NULL, raw_size INTEGER NOT NULL);"
	"CREATE INDEX letter_returns_letter ON letter_returns(letter_id);",
	/* 8: rounds (issue 13). Every verification is a round with its own
	 * verdicts and evidence: a plain verify ('verify'), a campaign's recheck
	 * ('recheck', numbered 1, 2, ... per campaign by seq) or an owner's "test
	 * again now" ('owner', kept apart so treatment and control stay
	 * comparable; requested_by names the ticket). A round may span several
	 * verify runs (a recheck resumed after a crash): round_findings.run_id says
	 * which run wrote each row, and a candidate has at most one row per round.
	 * findings stays the latest verdict per candidate. Existing findings are
	 * carried over as round 0. A campaign's schedule of rechecks is stored with
	 * it. campaign_round_outcomes is the one definition of what a recheck found
	 * for a frozen host: open (the same verdict again), changed (another open
	 * verdict), fixed (speaks the protocol and refuses), gone (unreachable:
	 * never counted as fixed), inconclusive (no usable answer, accepted
	 * without proof, tempfail, timeout: never fixed either), or untested (no
	 * row yet in that round). */
	"CREATE TABLE rounds("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('verify', 'recheck', 'owner')),"
	"  campaign_id INTEGER REFERENCES campaigns(id), seq INTEGER, requested_by TEXT,"
	"  started INTEGER NOT NULL, finished INTEGER,"
	"  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),"
	"  UNIQUE(campaign_id, kind, seq));"
	"CREATE TABLE round_findings("
	"  round_id INTEGER NOT NULL REFERENCES rounds(id),"
	"  candidate_id INTEGER NOT NULL REFERENCES candidates(id),"
	"  run_id INTEGER REFERENCES verify_runs(id), verdict TEXT NOT NULL, test TEXT, variant TEXT,"
	"  protocol TEXT, software TEXT, tls INTEGER NOT NULL DEFAULT 0, token TEXT, exit_address TEXT,"
	"  transcript TEXT, transcript_size INTEGER, checked INTEGER NOT NULL,"
	"  PRIMARY KEY(round_id, candidate_id));"
	"CREATE INDEX round_findings_candidate ON round_findings(candidate_id);"
	"CREATE TABLE campaign_schedules("
	"  campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id), every INTEGER NOT NULL,"
	"  rounds INTEGER NOT NULL, at_least_after INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO rounds(id, kind, started, finished, status)"
	"  SELECT 0, 'verify', coalesce(min(first_checked), 0), max(last_checked), 'done' FROM findings"
	"  HAVING count(*) > 0;"
	"INSERT INTO round_findings(round_id, candidate_id, run_id, verdict, test, variant, protocol,"
	"  software, tls, token, exit_address, transcript, transcript_size, checked)"
	"  SELECT 0, candidate_id, run_id, verdict, test, variant, protocol, software, tls, token,"
	"  exit_address, transcript, transcript_size, coalesce(last_checked, first_checked, 0) FROM findings;"
	"CREATE VIEW campaign_round_outcomes AS"
	"  SELECT r.campaign_id AS campaign_id, r.id AS round_id, r.seq AS seq, h.id AS host_id,"
	"  h.campaign_owner_id AS campaign_owner_id, h.candidate_id AS candidate_id, rf.verdict AS verdict,"
	"  CASE WHEN rf.verdict IS NULL THEN 'untested'"
	"    WHEN rf.verdict = h.verdict THEN 'open'"
	"    WHEN rf.verdict IN ('open-relay', 'open-proxy-mail', 'open-proxy-web') THEN 'changed'"
	"    WHEN rf.verdict = 'closed' THEN 'fixed'"
	"    WHEN rf.verdict = 'unreachable' THEN 'gone'"
	"    ELSE 'inconclusive' END AS outcome"
	"  FROM rounds r JOIN campaign_hosts h ON h.campaign_id = r.campaign_id"
	"  LEFT JOIN round_findings rf ON rf.round_id = r.id AND rf.candidate_id = h.candidate_id"
	"  WHERE r.kind = 'recheck';",
	/* 9: which round a verify run wrote into. A run that was killed before it
	 * wrote a single row still sent messages for its round: after the crash
	 * the reconcile gives those messages their verdicts in that round (and
	 * a resumed recheck must not test those hosts again), which needs the
	 * run's round, not only the rows' runs. */
	"ALTER TABLE verify_runs ADD COLUMN round_id INTEGER REFERENCES rounds(id);"
	"CREATE INDEX verify_runs_round ON verify_runs(round_id);"
	"CREATE INDEX round_findings_run ON round_findings(run_id);"
	"CREATE INDEX rounds_requested ON rounds(requested_by, started);",
	/* 10: an owner's further contacts, the rungs of the fallback chain below the one
	 * that gave its contact, as attribute found them (attributions.further) and as a
	 * campaign froze them (campaign_owners.further): a JSON list of {"rung", "contact"},
	 * in order. A bounce or a 5xx moves the owner's letter down this list. */
	"ALTER TABLE attributions ADD COLUMN further TEXT;"
	"ALTER TABLE campaign_owners ADD COLUMN further TEXT;",
	/* Later migrations go here, each one element, in order. */
};

int store_schema_latest(void) { return (int)ARRAY_SIZE(migrations); }

int store_migrate(struct store *store)
{
	int applied = store_schema_version(store);
	int wanted = (int)ARRAY_SIZE(migrations);
	if (applied < 0)
		return store_error(store, "reading the schema version");
	if (applied > wanted) {
		log_error("%s: schema version %d is newer than this plughole (%d)", store->path, applied, wanted);
		return -1;
	}
	for (int i = applied; i < wanted; i++) {
		char *message = NULL;
		char set_version[64];
		snprintf(set_version, sizeof set_version, "PRAGMA user_version = %d", i + 1);
		if (store_begin(store) != 0)
			return -1;
		/* Re-check inside the lock: another process may have migrated meanwhile. */
		if (store_schema_version(store) > i) {
			store_commit(store);
			continue;
		}
		if (sqlite3_exec(store->db, migrations[i], NULL, NULL, &message) != SQLITE_OK ||
		    sqlite3_exec(store->db, set_version, NULL, NULL, &message) != SQLITE_OK) {
			log_error("%s: migration %d: %s", store->path, i + 1, message ? message : "failed");
			sqlite3_free(message);
			store_rollback(store);
			return -1;
		}
		if (store_commit(store) != 0)
			return -1;
	}
	return 0;
}

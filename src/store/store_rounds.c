/* SQL for rounds (migration 8): every verification a round with its own verdicts (round_findings),
 * campaign rechecks and their schedules, owner-requested checks. */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rounds a reconcile may touch: the caller's own round (?1), and with ?2
 * set (the caller holds the store's verify lock, so no other verify or
 * recheck runs) every round but an owner check that may still be running in
 * its own process. */
#define ROUND_IN_SCOPE "(ro.id = ?1 OR (?2 AND (ro.kind <> 'owner' OR ro.status <> 'running')))"
#define OPEN_VERDICT(test) "CASE " test " WHEN 'proxy' THEN 'open-proxy-mail' ELSE 'open-relay' END"
#define FIRST_BINDINGS \
	"(SELECT candidate_id, run_id, test, variant, token, peer, received, min(proof_id) FROM proof_bindings" \
	" GROUP BY candidate_id, run_id, test)"
#define ROUND_ROW_SELECT \
	"SELECT rf.round_id AS round, ro.kind, ro.seq, c.address, c.port, rf.verdict, rf.test, rf.variant," \
	" rf.protocol, rf.software, rf.tls, rf.exit_address, rf.token," \
	" strftime('%Y-%m-%dT%H:%M:%SZ', rf.checked, 'unixepoch') AS checked"
#define ROUND_ROW_TRANSCRIPT ", sqlar_uncompress(rf.transcript, rf.transcript_size) AS transcript"
#define ROUND_ROW_FROM \
	" FROM round_findings rf JOIN rounds ro ON ro.id = rf.round_id JOIN candidates c ON c.id = rf.candidate_id"
#define ROUND_ROWS_WHERE \
	" WHERE rf.round_id = ?1 AND (?2 IS NULL OR rf.verdict = ?2) ORDER BY c.family, c.address, c.port"
#define HISTORY_WHERE \
	" WHERE c.address = ?1 AND (?2 IS NULL OR c.port = ?2) AND (?3 IS NULL OR rf.verdict = ?3)" \
	" ORDER BY c.port, rf.round_id"
#define ROUND_COLUMNS "id, kind, campaign_id, seq, requested_by, started, finished, status"

const char *const store_rounds_sql[STMT_COUNT] = {
	[STMT_ROUND_BEGIN] =
		"INSERT INTO rounds(kind, campaign_id, seq, requested_by, started, status)"
		" VALUES(?1, ?2, ?3, ?4, ?5, 'running')",
	[STMT_ROUND_END] = "UPDATE rounds SET status = ?1, finished = ?2 WHERE id = ?3",
	[STMT_ROUND_GET] = "SELECT " ROUND_COLUMNS " FROM rounds WHERE id = ?1",
	[STMT_ROUNDS_RUNNING] = "SELECT " ROUND_COLUMNS " FROM rounds WHERE status = 'running' ORDER BY id",
	[STMT_RECHECK_LAST] = "SELECT " ROUND_COLUMNS " FROM rounds WHERE campaign_id = ?1 AND kind = 'recheck'"
			      " ORDER BY seq DESC LIMIT 1",
	[STMT_OWNER_ROUNDS_SINCE] = "SELECT " ROUND_COLUMNS " FROM rounds WHERE kind = 'owner' AND started >= ?1"
				    " ORDER BY id",
	/* The round of the run (none: a run outside rounds writes only findings). */
	[STMT_ROUND_FINDING_PUT] =
		"INSERT INTO round_findings(round_id, candidate_id, run_id, verdict, test, variant, protocol, software,"
		" tls, token, exit_address, transcript, transcript_size, checked)"
		" SELECT r.round_id, ?1, r.id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 FROM verify_runs r"
		" WHERE r.id = ?13 AND r.round_id IS NOT NULL"
		" ON CONFLICT(round_id, candidate_id) DO UPDATE SET run_id = excluded.run_id,"
		" verdict = excluded.verdict, test = excluded.test, variant = excluded.variant,"
		" protocol = excluded.protocol, software = coalesce(excluded.software, software), tls = excluded.tls,"
		" token = excluded.token, exit_address = excluded.exit_address,"
		" transcript = coalesce(excluded.transcript, transcript),"
		" transcript_size = CASE WHEN excluded.transcript IS NULL THEN transcript_size"
		" ELSE excluded.transcript_size END, checked = excluded.checked",
	[STMT_ROUND_FINDING_PROVEN] =
		"UPDATE round_findings SET verdict = ?1, variant = coalesce(?2, variant), token = coalesce(?3, token),"
		" exit_address = coalesce(?4, exit_address), checked = ?5"
		" WHERE candidate_id = ?6 AND round_id = (SELECT round_id FROM verify_runs WHERE id = ?7)",
	/* As STMT_RECONCILE_SENT for findings, per round. In a recheck or an owner
	 * check a message whose record says only that it was due gets 'timeout'
	 * (inconclusive, never fixed): the round needs a row for every host, and
	 * the relay no second message in it. */
	[STMT_ROUND_RECONCILE_SENT] =
		"INSERT OR IGNORE INTO round_findings(round_id, candidate_id, run_id, verdict, test, variant, protocol,"
		" token, checked)"
		" SELECT r.round_id, p.candidate_id, max(p.run_id),"
		" CASE WHEN max(p.outcome = 'message-sent') THEN 'relay-accepted'"
		" WHEN max(p.outcome = 'message-refused') THEN 'closed' ELSE 'timeout' END,"
		" p.test, p.variant, 'smtp-relay', p.token, max(p.started)"
		" FROM rounds ro JOIN verify_runs r ON r.round_id = ro.id JOIN probes p ON p.run_id = r.id"
		/* a run that ended 'done' wrote a verdict for every message it sent */
		" WHERE " ROUND_IN_SCOPE " AND r.status <> 'done' AND p.test = 'relay'"
		" AND (p.outcome IN ('message-sent', 'message-refused', 'message-written')"
		" OR (p.outcome = 'message-due' AND ro.kind <> 'verify'))"
		" GROUP BY r.round_id, p.candidate_id",
	[STMT_ROUND_RECONCILE_PROVEN_NEW] =
		"INSERT OR IGNORE INTO round_findings(round_id, candidate_id, run_id, verdict, test, variant, protocol,"
		" token, exit_address, checked)"
		" SELECT r.round_id, b.candidate_id, b.run_id, " OPEN_VERDICT("b.test") ", b.test, b.variant,"
		" CASE b.test WHEN 'relay' THEN 'smtp-relay' END, b.token, b.peer, b.received"
		" FROM " FIRST_BINDINGS " b JOIN verify_runs r ON r.id = b.run_id JOIN rounds ro ON ro.id = r.round_id"
		" WHERE " ROUND_IN_SCOPE " ORDER BY b.received",
	/* A proof of a probe sent in the round upgrades the round's row of its test. */
	[STMT_ROUND_RECONCILE_PROVEN] =
		"UPDATE round_findings SET verdict = " OPEN_VERDICT("round_findings.test") ", checked = b.received,"
		" token = b.token, exit_address = b.peer, variant = coalesce(b.variant, round_findings.variant)"
		" FROM " FIRST_BINDINGS " b JOIN verify_runs r ON r.id = b.run_id JOIN rounds ro ON ro.id = r.round_id"
		" WHERE " ROUND_IN_SCOPE " AND b.candidate_id = round_findings.candidate_id"
		" AND r.round_id = round_findings.round_id AND b.test = round_findings.test"
		" AND round_findings.verdict <> " OPEN_VERDICT("round_findings.test"),
	[STMT_ROUND_FINDINGS] = ROUND_ROW_SELECT ROUND_ROW_FROM ROUND_ROWS_WHERE,
	[STMT_ROUND_FINDINGS_WITH_TRANSCRIPT] = ROUND_ROW_SELECT ROUND_ROW_TRANSCRIPT ROUND_ROW_FROM ROUND_ROWS_WHERE,
	[STMT_HISTORY] = ROUND_ROW_SELECT ROUND_ROW_FROM HISTORY_WHERE,
	[STMT_HISTORY_WITH_TRANSCRIPT] = ROUND_ROW_SELECT ROUND_ROW_TRANSCRIPT ROUND_ROW_FROM HISTORY_WHERE,
	[STMT_ROUND_VERDICTS] = "SELECT candidate_id, verdict FROM round_findings WHERE round_id = ?1",
	/* A campaign's hosts (every group) without a row in the round yet, in candidate order. */
	[STMT_RECHECK_HOSTS] =
		"SELECT h.candidate_id, h.address, h.port, h.test FROM campaign_hosts h WHERE h.campaign_id = ?1"
		" AND NOT EXISTS (SELECT 1 FROM round_findings rf WHERE rf.round_id = ?2"
		" AND rf.candidate_id = h.candidate_id) ORDER BY h.candidate_id",
	[STMT_ROUND_OUTCOMES] =
		"SELECT o.grp AS grp, v.outcome AS outcome, count(*) AS hosts FROM campaign_round_outcomes v"
		" JOIN campaign_owners o ON o.id = v.campaign_owner_id WHERE v.round_id = ?1"
		" GROUP BY o.grp, v.outcome ORDER BY o.grp, v.outcome",
	[STMT_SCHEDULE_SET] =
		"INSERT INTO campaign_schedules(campaign_id, every, rounds, at_least_after) VALUES(?1, ?2, ?3, ?4)"
		" ON CONFLICT(campaign_id) DO UPDATE SET every = excluded.every, rounds = excluded.rounds,"
		" at_least_after = excluded.at_least_after",
	[STMT_SCHEDULES] =
		"SELECT s.campaign_id, c.name, s.every, s.rounds, s.at_least_after, c.created"
		" FROM campaign_schedules s JOIN campaigns c ON c.id = s.campaign_id ORDER BY c.name",
	[STMT_CAMPAIGN_CREATED] = "SELECT created FROM campaigns WHERE id = ?1",
};

int64_t store_round_begin(struct store *store, const char *kind, int64_t campaign_id, int64_t seq,
			  const char *requested_by, time_t started)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUND_BEGIN);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, kind);
	if (campaign_id > 0)
		sqlite3_bind_int64(stmt, 2, campaign_id);
	if (seq > 0)
		sqlite3_bind_int64(stmt, 3, seq);
	store_bind_text(stmt, 4, requested_by);
	sqlite3_bind_int64(stmt, 5, (int64_t)started);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_last_insert_rowid(store->db);
}

int store_round_end(struct store *store, int64_t round, const char *status, time_t finished)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUND_END);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, status);
	if (finished > 0)
		sqlite3_bind_int64(stmt, 2, (int64_t)finished);
	sqlite3_bind_int64(stmt, 3, round);
	return store_step_done(store, stmt);
}

static void read_round(sqlite3_stmt *stmt, struct store_round *out)
{
	*out = (struct store_round){.id = sqlite3_column_int64(stmt, 0),
				    .campaign_id = sqlite3_column_int64(stmt, 2),
				    .seq = sqlite3_column_int64(stmt, 3),
				    .started = (time_t)sqlite3_column_int64(stmt, 5),
				    .finished = (time_t)sqlite3_column_int64(stmt, 6)};
	store_column_copy(stmt, 1, out->kind, sizeof out->kind);
	store_column_copy(stmt, 4, out->requested_by, sizeof out->requested_by);
	store_column_copy(stmt, 7, out->status, sizeof out->status);
}

/* The first row of a rounds query: 1 and *out, 0 none, -1 error. */
static int one_round(struct store *store, sqlite3_stmt *stmt, struct store_round *out)
{
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		read_round(stmt, out);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(store, "reading a round");
	return rc == SQLITE_ROW;
}

int store_round_get(struct store *store, int64_t round, struct store_round *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUND_GET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, round);
	return one_round(store, stmt, out);
}

int store_recheck_last(struct store *store, int64_t campaign_id, struct store_round *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_RECHECK_LAST);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return one_round(store, stmt, out);
}

/* Every round a query yields, to fn (fn returning non-zero stops). */
static int rounds_each(struct store *store, sqlite3_stmt *stmt, store_round_fn fn, void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_round round;
		read_round(stmt, &round);
		if (fn(ctx, &round) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, "reading rounds");
}

int store_rounds_running_each(struct store *store, store_round_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUNDS_RUNNING);
	return stmt == NULL ? -1 : rounds_each(store, stmt, fn, ctx);
}

int store_owner_rounds_since_each(struct store *store, time_t since, store_round_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_OWNER_ROUNDS_SINCE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)since);
	return rounds_each(store, stmt, fn, ctx);
}

int store_round_reconcile(struct store *store, int64_t round, bool others)
{
	static const enum store_stmt steps[] = {STMT_ROUND_RECONCILE_SENT, STMT_ROUND_RECONCILE_PROVEN_NEW,
						STMT_ROUND_RECONCILE_PROVEN};
	int changed = 0;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_stmt *stmt = store_statement(store, steps[i]);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, round);
		sqlite3_bind_int(stmt, 2, others);
		if (store_step_done(store, stmt) != 0)
			return -1;
		changed += sqlite3_changes(store->db);
	}
	/* findings stays the latest: what the reconcile wrote into a round may be newer */
	if (store_findings_from_rounds(store) < 0)
		return -1;
	return changed;
}

int store_round_findings_each(struct store *store, int64_t round, const char *verdict, bool transcript,
			      store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt =
		store_statement(store, transcript ? STMT_ROUND_FINDINGS_WITH_TRANSCRIPT : STMT_ROUND_FINDINGS);
	if (stmt == NULL)
		return -1;
	static const char *const booleans[] = {"tls", NULL};
	sqlite3_bind_int64(stmt, 1, round);
	store_bind_text(stmt, 2, verdict);
	return store_rows_each_with(store, stmt, booleans, fn, ctx);
}

int store_finding_history_each(struct store *store, const char *address, uint16_t port, const char *verdict,
			       bool transcript, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, transcript ? STMT_HISTORY_WITH_TRANSCRIPT : STMT_HISTORY);
	if (stmt == NULL)
		return -1;
	static const char *const booleans[] = {"tls", NULL};
	store_bind_text(stmt, 1, address);
	if (port > 0)
		sqlite3_bind_int(stmt, 2, port);
	store_bind_text(stmt, 3, verdict);
	return store_rows_each_with(store, stmt, booleans, fn, ctx);
}

int store_round_verdicts_each(struct store *store, int64_t round,
			      void (*fn)(void *ctx, int64_t candidate_id, const char *verdict), void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUND_VERDICTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, round);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fn(ctx, sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1));
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, "reading a round's verdicts");
}

int store_recheck_hosts_each(struct store *store, int64_t campaign_id, int64_t round, store_host_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_RECHECK_HOSTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	sqlite3_bind_int64(stmt, 2, round);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
		stop = fn(ctx, sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
			  (uint16_t)sqlite3_column_int(stmt, 2), (const char *)sqlite3_column_text(stmt, 3));
	if (stop)
		rc = SQLITE_DONE;
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_error(store, "reading a campaign's hosts");
	return stop < 0 ? -1 : 0;
}

int store_round_outcomes_each(struct store *store, int64_t round, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUND_OUTCOMES);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, round);
	return store_rows_each(store, stmt, fn, ctx);
}

int store_schedule_set(struct store *store, int64_t campaign_id, int64_t every, int64_t rounds,
		       int64_t at_least_after)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_SCHEDULE_SET);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	sqlite3_bind_int64(stmt, 2, every);
	sqlite3_bind_int64(stmt, 3, rounds);
	sqlite3_bind_int64(stmt, 4, at_least_after);
	return store_step_done(store, stmt);
}

int store_schedules_read(struct store *store, struct store_schedule **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	sqlite3_stmt *stmt = store_statement(store, STMT_SCHEDULES);
	if (stmt == NULL)
		return -1;
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (*count == cap) {
			cap = cap ? cap * 2 : 8;
			struct store_schedule *grown = realloc(*out, cap * sizeof *grown);
			if (grown == NULL) {
				sqlite3_reset(stmt);
				return -1;
			}
			*out = grown;
		}
		struct store_schedule *s = &(*out)[(*count)++];
		s->campaign_id = sqlite3_column_int64(stmt, 0);
		store_column_copy(stmt, 1, s->name, sizeof s->name);
		s->every = sqlite3_column_int64(stmt, 2);
		s->rounds = sqlite3_column_int64(stmt, 3);
		s->at_least_after = sqlite3_column_int64(stmt, 4);
		s->created = (time_t)sqlite3_column_int64(stmt, 5);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, "reading the recheck schedules");
}

int64_t store_campaign_created(struct store *store, int64_t campaign_id)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CAMPAIGN_CREATED);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return store_step_int64(store, stmt);
}

/* SQL for verification runs and the test messages they sent (probes). */
#include "store/store_internal.h"

#include <math.h>

const char *const store_probes_sql[STMT_COUNT] = {
	[STMT_RUN_BEGIN] =
		"INSERT INTO verify_runs(started, wait, campaign, sink, status, round_id)"
		" VALUES(?1, ?2, ?3, ?4, 'running', ?5)",
	[STMT_RUN_END] = "UPDATE verify_runs SET finished = ?1, status = ?2 WHERE id = ?3",
	[STMT_PROBE_PUT] =
		"INSERT INTO probes(run_id, candidate_id, test, variant, token, started, finished, outcome, reply)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
	/* By the token's index: "+run_id" keeps the planner off the run's (a scan of the whole run). */
	[STMT_PROBE_ANSWER] =
		"UPDATE probes SET outcome = ?1, reply = coalesce(?2, reply), finished = ?3"
		" WHERE token = ?4 AND +run_id IS ?5",
	[STMT_MESSAGES_UNKNOWN] =
		"SELECT count(DISTINCT p.candidate_id) FROM probes p WHERE p.test = 'relay'"
		" AND p." STORE_MESSAGE_MAY_HAVE_GONE
		" AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.candidate_id = p.candidate_id)",
	[STMT_PROBE_LAST_STARTED] = "SELECT coalesce((SELECT started FROM probes ORDER BY id DESC LIMIT 1), 0)",
	[STMT_MESSAGES_GONE] =
		"SELECT count(*) FROM probes WHERE candidate_id = ?1 AND test = ?2 AND " STORE_MESSAGE_MAY_HAVE_GONE,
};

int64_t store_run_begin(struct store *store, time_t started, double wait, uint16_t campaign, bool external_sink)
{
	return store_run_begin_in(store, started, wait, campaign, external_sink, 0);
}

int64_t store_run_begin_in(struct store *store, time_t started, double wait, uint16_t campaign, bool external_sink,
			   int64_t round)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_RUN_BEGIN);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)started);
	sqlite3_bind_int64(stmt, 2, (int64_t)ceil(wait));
	sqlite3_bind_int(stmt, 3, campaign);
	store_bind_text(stmt, 4, external_sink ? "external" : "in-process");
	if (round > 0)
		sqlite3_bind_int64(stmt, 5, round);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_last_insert_rowid(store->db);
}

int store_run_end(struct store *store, int64_t run, time_t finished, const char *status)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_RUN_END);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)finished);
	store_bind_text(stmt, 2, status);
	sqlite3_bind_int64(stmt, 3, run);
	return store_step_done(store, stmt);
}

int store_probe_put(struct store *store, int64_t run, int64_t candidate_id, const char *test, const char *variant,
		    const char *token, time_t when, const char *outcome, const char *reply)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROBE_PUT);
	if (stmt == NULL)
		return -1;
	if (run > 0)
		sqlite3_bind_int64(stmt, 1, run);
	sqlite3_bind_int64(stmt, 2, candidate_id);
	store_bind_text(stmt, 3, test);
	store_bind_text(stmt, 4, variant);
	store_bind_text(stmt, 5, token);
	sqlite3_bind_int64(stmt, 6, (int64_t)when);
	store_bind_text(stmt, 7, outcome);
	store_bind_text(stmt, 8, reply);
	return store_step_done(store, stmt);
}

int store_probe_answer(struct store *store, int64_t run, const char *token, const char *outcome, const char *reply,
		       time_t when)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROBE_ANSWER);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, outcome);
	store_bind_text(stmt, 2, reply);
	sqlite3_bind_int64(stmt, 3, (int64_t)when);
	store_bind_text(stmt, 4, token);
	if (run > 0)
		sqlite3_bind_int64(stmt, 5, run);
	return store_step_done(store, stmt);
}

int64_t store_messages_unknown(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_MESSAGES_UNKNOWN);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int64_t store_messages_gone(struct store *store, int64_t candidate_id, const char *test)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_MESSAGES_GONE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, candidate_id);
	store_bind_text(stmt, 2, test);
	return store_step_int64(store, stmt);
}

int64_t store_probe_last_started(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROBE_LAST_STARTED);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

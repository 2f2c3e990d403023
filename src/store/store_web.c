/* SQL for the owners' web (issue 14): tickets, their hosts and rounds, the dashboard. Reads only. */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

const char *const store_web_sql[STMT_COUNT] = {
	[STMT_WEB_CAMPAIGN_CURRENT] =
	    "SELECT id, name FROM campaigns WHERE ?1 IS NULL OR name = ?1 ORDER BY created DESC, id DESC LIMIT 1",
	[STMT_WEB_CAMPAIGN_LANGUAGES] =
	    "SELECT DISTINCT agency, template, language FROM letters WHERE campaign_id = ?1"
	    " UNION SELECT DISTINCT agency, NULL, NULL FROM campaign_owners WHERE campaign_id = ?1"
	    " ORDER BY 1, 2, 3",
	[STMT_WEB_TICKET] =
	    "SELECT l.id, l.campaign_id, l.created, l.ticket_key, l.state, c.name, o.organisation, l.recipient,"
	    " l.language, l.agency"
	    " FROM letters l JOIN campaigns c ON c.id = l.campaign_id"
	    " JOIN campaign_owners o ON o.id = l.campaign_owner_id WHERE l.ticket = ?1",
	/*
	 * The transcript is the one of the verification that proved the host: its
	 * round_findings row carrying the proving token, else the findings row while
	 * it still holds that token. The newest round is the latest round_findings
	 * row of the candidate (by when it was checked).
	 */
	[STMT_WEB_TICKET_HOSTS] =
	    "SELECT h.address, h.port, h.verdict, h.variant, h.protocol, h.software, h.tls, h.proved, h.exit_address,"
	    " p.peer AS proof_peer, p.received AS proof_received,"
	    " coalesce((SELECT sqlar_uncompress(rf.transcript, rf.transcript_size) FROM round_findings rf"
	    "   WHERE rf.candidate_id = h.candidate_id AND rf.token = h.token ORDER BY rf.round_id LIMIT 1),"
	    "  (SELECT sqlar_uncompress(f.transcript, f.transcript_size) FROM findings f"
	    "   WHERE f.candidate_id = h.candidate_id AND f.token = h.token)) AS transcript,"
	    " r.kind AS round_kind, r.seq AS round_seq, r.started AS round_started, lf.verdict AS round_verdict,"
	    " lf.checked AS round_checked,"
	    " (SELECT v.outcome FROM campaign_round_outcomes v WHERE v.round_id = r.id AND v.host_id = h.id)"
	    "  AS round_outcome"
	    " FROM letters l JOIN campaign_hosts h ON h.campaign_owner_id = l.campaign_owner_id"
	    " LEFT JOIN proofs p ON p.token = h.token"
	    " LEFT JOIN round_findings lf ON lf.candidate_id = h.candidate_id AND lf.round_id ="
	    "  (SELECT rf.round_id FROM round_findings rf WHERE rf.candidate_id = h.candidate_id"
	    "   ORDER BY rf.checked DESC, rf.round_id DESC LIMIT 1)"
	    " LEFT JOIN rounds r ON r.id = lf.round_id"
	    " WHERE l.id = ?1 AND h.suppressed_by IS NULL ORDER BY h.candidate_id",
	[STMT_WEB_BOUNCES] =
	    "SELECT r.kind, count(*) AS count FROM letter_returns r JOIN letters l ON l.id = r.letter_id"
	    " WHERE l.campaign_id = ?1 GROUP BY r.kind ORDER BY r.kind",
	[STMT_WEB_ROUNDS] =
	    "SELECT kind, count(*) AS rounds, sum(status = 'running') AS running, max(started) AS latest"
	    " FROM rounds WHERE campaign_id = ?1 GROUP BY kind ORDER BY kind",
	[STMT_WEB_OUTCOMES] =
	    "SELECT o.grp AS \"group\", count(*) AS hosts, sum(v.outcome = 'fixed') AS fixed,"
	    " sum(v.outcome IN ('open', 'changed')) AS still_open, sum(v.outcome = 'gone') AS gone,"
	    " sum(v.outcome IS NULL OR v.outcome IN ('inconclusive', 'untested')) AS unknown"
	    " FROM campaign_hosts h JOIN campaign_owners o ON o.id = h.campaign_owner_id"
	    " LEFT JOIN campaign_round_outcomes v ON v.host_id = h.id AND v.round_id ="
	    "  (SELECT max(id) FROM rounds WHERE campaign_id = ?1 AND kind = 'recheck')"
	    " WHERE h.campaign_id = ?1 GROUP BY o.grp ORDER BY o.grp DESC",
	[STMT_WEB_PROOFS_RECENT] =
	    "SELECT received, address, port, peer FROM proofs ORDER BY id DESC LIMIT ?1",
	[STMT_WEB_REJECTS_RECENT] =
	    "SELECT received, peer, reason FROM sink_rejects ORDER BY id DESC LIMIT ?1",
};

int store_web_query_only(struct store *store)
{
	char *message = NULL;
	/* mmap: pages read in place, no read() per page, for pages picked at random among many tickets */
	if (sqlite3_exec(store->db, "PRAGMA query_only = ON; PRAGMA mmap_size = 268435456", NULL, NULL, &message) ==
	    SQLITE_OK)
		return 0;
	sqlite3_free(message);
	return store_error(store, "making the connection read-only");
}

void store_web_setup(void)
{
	/* no global lock around every allocation for memory statistics nobody reads: many threads read at once */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_web_read_begin(struct store *store)
{
	return sqlite3_exec(store->db, "BEGIN DEFERRED", NULL, NULL, NULL) == SQLITE_OK ? 0
	       : store_error(store, "beginning a read");
}

void store_web_read_end(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
}

int64_t store_web_campaign(struct store *store, const char *name, char *out, size_t outlen)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_WEB_CAMPAIGN_CURRENT);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, name);
	int rc = sqlite3_step(stmt);
	int64_t id = 0;
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		store_column_copy(stmt, 1, out, outlen);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : store_error(store, "reading the campaign");
}

/* Runs statement id with one integer parameter through fn. */
static int rows_with(struct store *store, enum store_stmt id, int64_t value, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, id);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, value);
	return store_rows_each(store, stmt, fn, ctx);
}

int store_web_campaign_languages_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_CAMPAIGN_LANGUAGES, campaign_id, fn, ctx);
}

int store_web_ticket(struct store *store, const char *ticket, struct store_web_ticket *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_WEB_TICKET);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, ticket);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->letter_id = sqlite3_column_int64(stmt, 0);
		out->campaign_id = sqlite3_column_int64(stmt, 1);
		out->created = sqlite3_column_int64(stmt, 2);
		store_column_copy(stmt, 3, out->key, sizeof out->key);
		store_column_copy(stmt, 4, out->state, sizeof out->state);
		store_column_copy(stmt, 5, out->campaign, sizeof out->campaign);
		store_column_copy(stmt, 6, out->organisation, sizeof out->organisation);
		store_column_copy(stmt, 7, out->recipient, sizeof out->recipient);
		store_column_copy(stmt, 8, out->language, sizeof out->language);
		store_column_copy(stmt, 9, out->agency, sizeof out->agency);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_error(store, "reading a ticket");
}

int store_web_ticket_hosts_each(struct store *store, int64_t letter_id, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_TICKET_HOSTS, letter_id, fn, ctx);
}

int store_web_bounces_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_BOUNCES, campaign_id, fn, ctx);
}

int store_web_rounds_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_ROUNDS, campaign_id, fn, ctx);
}

int store_web_outcomes_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_OUTCOMES, campaign_id, fn, ctx);
}

int store_web_proofs_recent_each(struct store *store, int limit, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_PROOFS_RECENT, limit, fn, ctx);
}

int store_web_rejects_recent_each(struct store *store, int limit, store_row_fn fn, void *ctx)
{
	return rows_with(store, STMT_WEB_REJECTS_RECENT, limit, fn, ctx);
}

/* SQL for verification: pending candidates, findings, test messages sent. */
#include "core/store_internal.h"

#include <string.h>

static const char SQL_PENDING[] =
	"SELECT c.id, c.address, c.port FROM candidates c"
	" WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.candidate_id = c.id)"
	" ORDER BY c.id";
static const char SQL_CANDIDATE_ID[] = "SELECT id FROM candidates WHERE address = ?1 AND port = ?2";
static const char SQL_FINDING_PUT[] =
	"INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, tls, token,"
	" exit_address, transcript, transcript_size, attempts, first_checked, last_checked)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?13, ?11, ?12, ?12)"
	" ON CONFLICT(candidate_id) DO UPDATE SET verdict = ?2, test = ?3, variant = ?4, protocol = ?5,"
	" software = coalesce(?6, software), tls = ?7, token = coalesce(?8, token),"
	" exit_address = coalesce(?9, exit_address), transcript = coalesce(?10, transcript),"
	" transcript_size = CASE WHEN ?10 IS NULL THEN transcript_size ELSE ?13 END,"
	" attempts = ?11, last_checked = ?12";
static const char SQL_FINDING_PROVEN[] =
	"UPDATE findings SET verdict = ?2, variant = coalesce(?3, variant), token = coalesce(?4, token),"
	" exit_address = coalesce(?5, exit_address), last_checked = ?6 WHERE candidate_id = ?1";
static const char SQL_PROBE_PUT[] =
	"INSERT INTO probes(candidate_id, test, variant, token, started, finished, outcome, reply)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)";
static const char SQL_PROBE_ANSWER[] = "UPDATE probes SET outcome = ?2, reply = ?3, finished = ?4 WHERE token = ?1";
/* A message went out through a relay but the run ended before its verdict was
 * written (a crash, a stop): say relay-accepted (closed when the server refused
 * it after the dot, which it may still have queued) rather than test again and
 * send a second message. Proxies are tested again: their messages only ever
 * reach our own sink. */
static const char SQL_RECONCILE_SENT[] =
	"INSERT OR IGNORE INTO findings(candidate_id, verdict, test, variant, protocol, token, attempts,"
	" first_checked, last_checked)"
	" SELECT p.candidate_id,"
	" CASE WHEN max(p.outcome = 'message-sent') THEN 'relay-accepted' ELSE 'closed' END,"
	" p.test, p.variant, 'smtp-relay', p.token, 1, p.started, p.started FROM probes p"
	" WHERE p.outcome IN ('message-sent', 'message-refused') AND p.test = 'relay' GROUP BY p.candidate_id";
/* Proofs that arrived after their probe's verdict was written (late, or a sink
 * in another process): a relay that took the message is open; a proxy whose
 * tunnel delivered it is a mail proxy, whatever its other steps said. */
#define PROOF_OF(column) \
	"(SELECT pr." column " FROM proofs pr JOIN candidates c ON c.address = pr.address AND c.port = pr.port" \
	" WHERE c.id = findings.candidate_id ORDER BY pr.id LIMIT 1)"
static const char SQL_RECONCILE_PROVEN[] =
	"UPDATE findings SET verdict = CASE test WHEN 'proxy' THEN 'open-proxy-mail' ELSE 'open-relay' END,"
	" last_checked = unixepoch(), token = " PROOF_OF("token") ","
	" exit_address = coalesce(exit_address, " PROOF_OF("peer") ")"
	" WHERE ((test = 'relay' AND verdict = 'relay-accepted') OR (test = 'proxy' AND verdict <> 'open-proxy-mail'))"
	" AND " PROOF_OF("id") " IS NOT NULL";
#undef PROOF_OF
static const char SQL_MESSAGES_GONE[] =
	"SELECT count(*) FROM probes WHERE candidate_id = ?1 AND test = ?2"
	" AND outcome IN ('message-sent', 'message-refused')";
static const char SQL_FINDINGS_ALL[] =
	"SELECT c.address, c.port, f.verdict, f.test, f.variant, f.protocol, f.software, f.tls,"
	" f.exit_address, f.token, f.attempts,"
	" strftime('%Y-%m-%dT%H:%M:%SZ', f.first_checked, 'unixepoch') AS first_checked,"
	" strftime('%Y-%m-%dT%H:%M:%SZ', f.last_checked, 'unixepoch') AS last_checked"
	" FROM findings f JOIN candidates c ON c.id = f.candidate_id"
	" WHERE ?1 IS NULL OR f.verdict = ?1 ORDER BY c.family, c.address, c.port";
static const char SQL_FINDINGS_WITH_TRANSCRIPT[] =
	"SELECT c.address, c.port, f.verdict, f.test, f.variant, f.protocol, f.software, f.tls,"
	" f.exit_address, f.token, f.attempts,"
	" strftime('%Y-%m-%dT%H:%M:%SZ', f.first_checked, 'unixepoch') AS first_checked,"
	" strftime('%Y-%m-%dT%H:%M:%SZ', f.last_checked, 'unixepoch') AS last_checked,"
	" sqlar_uncompress(f.transcript, f.transcript_size) AS transcript"
	" FROM findings f JOIN candidates c ON c.id = f.candidate_id"
	" WHERE ?1 IS NULL OR f.verdict = ?1 ORDER BY c.family, c.address, c.port";

int store_candidates_pending(struct store *store, store_candidate_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PENDING);
	if (stmt == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fn(ctx, sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
		   (uint16_t)sqlite3_column_int(stmt, 2));
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, "listing pending candidates");
}

int64_t store_candidate_id(struct store *store, const struct addr *address, uint16_t port)
{
	char text[ADDR_STRLEN];
	sqlite3_stmt *stmt = store_statement(store, SQL_CANDIDATE_ID);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, addr_format(address, text), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 2, port);
	int rc = sqlite3_step(stmt);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : store_error(store, "finding a candidate");
}

/* The transcript at index, deflated when that is worth it (its size then at size_index). */
static void bind_transcript(struct store *store, sqlite3_stmt *stmt, int index, int size_index, const char *text)
{
	const void *deflated;
	size_t len = text ? strlen(text) : 0, deflated_len;
	if (text != NULL && store_deflate(store, text, len, &deflated, &deflated_len)) {
		/* static: the buffer holds until the next deflate, after this statement ran */
		sqlite3_bind_blob(stmt, index, deflated, (int)deflated_len, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, size_index, (sqlite3_int64)len);
	} else {
		store_bind_text(stmt, index, text);
	}
}

int store_finding_put(struct store *store, const struct finding *f)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_FINDING_PUT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, f->candidate_id);
	store_bind_text(stmt, 2, f->verdict);
	store_bind_text(stmt, 3, f->test);
	store_bind_text(stmt, 4, f->variant);
	store_bind_text(stmt, 5, f->protocol);
	store_bind_text(stmt, 6, f->software);
	sqlite3_bind_int(stmt, 7, f->tls);
	store_bind_text(stmt, 8, f->token);
	store_bind_text(stmt, 9, f->exit_address);
	bind_transcript(store, stmt, 10, 13, f->transcript);
	sqlite3_bind_int(stmt, 11, (int)f->attempts);
	sqlite3_bind_int64(stmt, 12, (int64_t)f->checked);
	return store_step_done(store, stmt);
}

int store_finding_proven(struct store *store, int64_t candidate_id, const char *verdict, const char *variant,
			 const char *token, const char *exit_address, time_t when)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_FINDING_PROVEN);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, candidate_id);
	store_bind_text(stmt, 2, verdict);
	store_bind_text(stmt, 3, variant);
	store_bind_text(stmt, 4, token);
	store_bind_text(stmt, 5, exit_address);
	sqlite3_bind_int64(stmt, 6, (int64_t)when);
	return store_step_done(store, stmt);
}

int store_probe_put(struct store *store, int64_t candidate_id, const char *test, const char *variant,
		    const char *token, time_t when, const char *outcome, const char *reply)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROBE_PUT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, candidate_id);
	store_bind_text(stmt, 2, test);
	store_bind_text(stmt, 3, variant);
	store_bind_text(stmt, 4, token);
	sqlite3_bind_int64(stmt, 5, (int64_t)when);
	store_bind_text(stmt, 6, outcome);
	store_bind_text(stmt, 7, reply);
	return store_step_done(store, stmt);
}

int store_probe_answer(struct store *store, const char *token, const char *outcome, const char *reply, time_t when)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROBE_ANSWER);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, token);
	store_bind_text(stmt, 2, outcome);
	store_bind_text(stmt, 3, reply);
	sqlite3_bind_int64(stmt, 4, (int64_t)when);
	return store_step_done(store, stmt);
}

int store_findings_reconcile(struct store *store)
{
	sqlite3_stmt *sent = store_statement(store, SQL_RECONCILE_SENT);
	if (sent == NULL || store_step_done(store, sent) != 0)
		return -1;
	int recovered = sqlite3_changes(store->db);
	sqlite3_stmt *proven = store_statement(store, SQL_RECONCILE_PROVEN);
	if (proven == NULL || store_step_done(store, proven) != 0)
		return -1;
	return recovered + sqlite3_changes(store->db);
}

int64_t store_messages_gone(struct store *store, int64_t candidate_id, const char *test)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_MESSAGES_GONE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, candidate_id);
	store_bind_text(stmt, 2, test);
	return store_step_int64(store, stmt);
}

int store_findings_each(struct store *store, const char *verdict, bool transcript, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, transcript ? SQL_FINDINGS_WITH_TRANSCRIPT : SQL_FINDINGS_ALL);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, verdict);
	return store_rows_each(store, stmt, fn, ctx);
}

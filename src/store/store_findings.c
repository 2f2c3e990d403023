/* SQL for verification: pending candidates, findings, test messages sent. */
#include "store/store_internal.h"

#include <math.h>
#include <string.h>

/* A relay whose message may have gone (its fate unknown after a crash) is not pending. */
#define MESSAGE_MAY_HAVE_GONE "outcome IS NOT 'message-withdrawn'"
static const char SQL_PENDING[] =
	"SELECT c.id, c.address, c.port FROM candidates c"
	" WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.candidate_id = c.id)"
	" AND NOT EXISTS (SELECT 1 FROM probes p WHERE p.candidate_id = c.id AND p.test = 'relay'"
	" AND p." MESSAGE_MAY_HAVE_GONE ")"
	" ORDER BY c.id";
static const char SQL_MESSAGES_UNKNOWN[] =
	"SELECT count(DISTINCT p.candidate_id) FROM probes p WHERE p.test = 'relay' AND p." MESSAGE_MAY_HAVE_GONE
	" AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.candidate_id = p.candidate_id)";
static const char SQL_RUN_BEGIN[] =
	"INSERT INTO verify_runs(started, wait, campaign, sink, status) VALUES(?1, ?2, ?3, ?4, 'running')";
static const char SQL_RUN_END[] = "UPDATE verify_runs SET finished = ?2, status = ?3 WHERE id = ?1";
static const char SQL_CANDIDATE_ID[] = "SELECT id FROM candidates WHERE address = ?1 AND port = ?2";
/* first_checked: when the first test message to the candidate was recorded
 * (any run's); a verdict with no message behind it (a closed server, a
 * timeout) was first checked when it was written (?12). */
#define FIRST_PROBE(candidate) \
	"coalesce((SELECT min(q.started) FROM probes q WHERE q.candidate_id = " candidate "), ?12)"
static const char SQL_FINDING_PUT[] =
	"INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, tls, token,"
	" exit_address, transcript, transcript_size, attempts, first_checked, last_checked, run_id)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?13, ?11, " FIRST_PROBE("?1") ", ?12, ?14)"
	/* A new verdict brings its own evidence: an earlier run's token and exit
	 * address would stand beside a verdict they did not prove. */
	" ON CONFLICT(candidate_id) DO UPDATE SET verdict = ?2, test = ?3, variant = ?4, protocol = ?5,"
	" software = coalesce(?6, software), tls = ?7, token = ?8, exit_address = ?9,"
	" transcript = coalesce(?10, transcript),"
	" transcript_size = CASE WHEN ?10 IS NULL THEN transcript_size ELSE ?13 END,"
	" attempts = ?11, last_checked = ?12, run_id = ?14";
static const char SQL_FINDING_PROVEN[] =
	"UPDATE findings SET verdict = ?2, variant = coalesce(?3, variant), token = coalesce(?4, token),"
	" exit_address = coalesce(?5, exit_address), last_checked = ?6 WHERE candidate_id = ?1";
static const char SQL_PROBE_PUT[] =
	"INSERT INTO probes(run_id, candidate_id, test, variant, token, started, finished, outcome, reply)"
	" VALUES(?8, ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)";
/* By the token's index: "+run_id" keeps the planner off the run's (a scan of the whole run). */
static const char SQL_PROBE_ANSWER[] =
	"UPDATE probes SET outcome = ?2, reply = coalesce(?3, reply), finished = ?4"
	" WHERE token = ?1 AND +run_id IS ?5";
/* The verdict a proof bound to a probe of the test gives. */
#define OPEN_VERDICT(test) "CASE " test " WHEN 'proxy' THEN 'open-proxy-mail' ELSE 'open-relay' END"
/* A message went out through a relay but the run ended before its verdict was
 * written (a crash, a stop): a verdict from what the record says, rather than
 * a second message: relay-accepted when the server took it, closed when it
 * refused it after the dot (it may still have queued it), timeout when it went
 * and no answer came. A message whose record says only that it was due may or
 * may not have gone: no verdict (only a proof bound to it gives one), and no
 * second message (SQL_PENDING). Proxies are tested again: their messages only
 * ever reach our own sink. */
static const char SQL_RECONCILE_SENT[] =
	"INSERT OR IGNORE INTO findings(candidate_id, verdict, test, variant, protocol, token, attempts,"
	" first_checked, last_checked, run_id)"
	" SELECT p.candidate_id,"
	" CASE WHEN max(p.outcome = 'message-sent') THEN 'relay-accepted'"
	" WHEN max(p.outcome = 'message-refused') THEN 'closed' ELSE 'timeout' END,"
	" p.test, p.variant, 'smtp-relay', p.token, 1,"
	" (SELECT min(q.started) FROM probes q WHERE q.candidate_id = p.candidate_id), p.started, max(p.run_id)"
	" FROM probes p"
	" WHERE p.outcome IN ('message-sent', 'message-refused', 'message-written') AND p.test = 'relay'"
	" GROUP BY p.candidate_id";
/* The first proof bound to a probe, per candidate, run and test. */
#define FIRST_BINDINGS \
	"(SELECT candidate_id, run_id, test, variant, token, peer, received, min(proof_id) FROM proof_bindings" \
	" GROUP BY candidate_id, run_id, test)"
/* A proof of a probe whose candidate has no finding (a crash left its record
 * due): the message evidently went, and arrived. */
static const char SQL_RECONCILE_PROVEN_NEW[] =
	"INSERT OR IGNORE INTO findings(candidate_id, verdict, test, variant, protocol, token, exit_address, attempts,"
	" first_checked, last_checked, run_id)"
	" SELECT b.candidate_id, " OPEN_VERDICT("b.test") ", b.test, b.variant,"
	" CASE b.test WHEN 'relay' THEN 'smtp-relay' END, b.token, b.peer, 1,"
	" (SELECT min(q.started) FROM probes q WHERE q.candidate_id = b.candidate_id), b.received, b.run_id"
	" FROM " FIRST_BINDINGS " b ORDER BY b.received";
/* Proofs that arrived after their probe's verdict was written (late, or a sink
 * in another process) upgrade the verdict of the run that sent them, whatever
 * the server answered: the arrival of a token we sent proves the relay open,
 * or the proxy whose tunnel carried it a mail proxy. The evidence is that
 * message's: its token, variant and the peer that delivered it. A proof of an
 * earlier run's probe never stands for a later run's verdict. */
static const char SQL_RECONCILE_PROVEN[] =
	"UPDATE findings SET verdict = " OPEN_VERDICT("findings.test") ", last_checked = unixepoch(),"
	" token = b.token, exit_address = b.peer, variant = coalesce(b.variant, findings.variant)"
	" FROM " FIRST_BINDINGS " b"
	" WHERE b.candidate_id = findings.candidate_id AND b.run_id IS findings.run_id AND b.test = findings.test"
	" AND findings.verdict <> " OPEN_VERDICT("findings.test");
#undef FIRST_BINDINGS
#undef FIRST_PROBE
#undef OPEN_VERDICT
static const char SQL_MESSAGES_GONE[] =
	"SELECT count(*) FROM probes WHERE candidate_id = ?1 AND test = ?2 AND " MESSAGE_MAY_HAVE_GONE;
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
	if (f->run > 0)
		sqlite3_bind_int64(stmt, 14, f->run);
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

int store_probe_put(struct store *store, int64_t run, int64_t candidate_id, const char *test, const char *variant,
		    const char *token, time_t when, const char *outcome, const char *reply)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROBE_PUT);
	if (stmt == NULL)
		return -1;
	if (run > 0)
		sqlite3_bind_int64(stmt, 8, run);
	sqlite3_bind_int64(stmt, 1, candidate_id);
	store_bind_text(stmt, 2, test);
	store_bind_text(stmt, 3, variant);
	store_bind_text(stmt, 4, token);
	sqlite3_bind_int64(stmt, 5, (int64_t)when);
	store_bind_text(stmt, 6, outcome);
	store_bind_text(stmt, 7, reply);
	return store_step_done(store, stmt);
}

int store_probe_answer(struct store *store, int64_t run, const char *token, const char *outcome, const char *reply,
		       time_t when)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROBE_ANSWER);
	if (stmt == NULL)
		return -1;
	if (run > 0)
		sqlite3_bind_int64(stmt, 5, run);
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
	int changed = sqlite3_changes(store->db);
	sqlite3_stmt *found = store_statement(store, SQL_RECONCILE_PROVEN_NEW);
	if (found == NULL || store_step_done(store, found) != 0)
		return -1;
	changed += sqlite3_changes(store->db);
	sqlite3_stmt *proven = store_statement(store, SQL_RECONCILE_PROVEN);
	if (proven == NULL || store_step_done(store, proven) != 0)
		return -1;
	return changed + sqlite3_changes(store->db);
}

int64_t store_messages_unknown(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_MESSAGES_UNKNOWN);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int64_t store_run_begin(struct store *store, time_t started, double wait, uint16_t campaign, bool external_sink)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_RUN_BEGIN);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)started);
	sqlite3_bind_int64(stmt, 2, (int64_t)ceil(wait));
	sqlite3_bind_int(stmt, 3, campaign);
	store_bind_text(stmt, 4, external_sink ? "external" : "in-process");
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_last_insert_rowid(store->db);
}

int store_run_end(struct store *store, int64_t run, time_t finished, const char *status)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_RUN_END);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, run);
	sqlite3_bind_int64(stmt, 2, (int64_t)finished);
	store_bind_text(stmt, 3, status);
	return store_step_done(store, stmt);
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
	static const char *const booleans[] = {"tls", NULL};
	store_bind_text(stmt, 1, verdict);
	return store_rows_each_with(store, stmt, booleans, fn, ctx);
}

/* SQL for findings: one verdict per candidate, with its evidence. */
#include "store/store_internal.h"

#include <string.h>

/* first_checked: when the first test message to the candidate was recorded
 * (any run's); a verdict with no message behind it (a closed server, a
 * timeout) was first checked when it was written (?13). */
#define FIRST_PROBE(candidate) \
	"coalesce((SELECT min(q.started) FROM probes q WHERE q.candidate_id = " candidate "), ?13)"
/* The verdict a proof bound to a probe of the test gives. */
#define OPEN_VERDICT(test) "CASE " test " WHEN 'proxy' THEN 'open-proxy-mail' ELSE 'open-relay' END"
/* The first proof bound to a probe, per candidate, run and test. */
#define FIRST_BINDINGS \
	"(SELECT candidate_id, run_id, test, variant, token, peer, received, min(proof_id) FROM proof_bindings" \
	" GROUP BY candidate_id, run_id, test)"
#define FINDINGS_SELECT \
	"SELECT c.address, c.port, f.verdict, f.test, f.variant, f.protocol, f.software, f.tls," \
	" f.exit_address, f.token, f.attempts," \
	" strftime('%Y-%m-%dT%H:%M:%SZ', f.first_checked, 'unixepoch') AS first_checked," \
	" strftime('%Y-%m-%dT%H:%M:%SZ', f.last_checked, 'unixepoch') AS last_checked"
#define FINDINGS_FROM \
	" FROM findings f JOIN candidates c ON c.id = f.candidate_id" \
	" WHERE ?1 IS NULL OR f.verdict = ?1 ORDER BY c.family, c.address, c.port"

const char *const store_findings_sql[STMT_COUNT] = {
	[STMT_FINDING_PUT] =
		"INSERT INTO findings(candidate_id, verdict, test, variant, protocol, software, tls, token,"
		" exit_address, transcript, transcript_size, attempts, first_checked, last_checked, run_id)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, " FIRST_PROBE("?1") ", ?13, ?14)"
		/* A new verdict brings its own evidence: an earlier run's token and exit
		 * address would stand beside a verdict they did not prove. */
		" ON CONFLICT(candidate_id) DO UPDATE SET verdict = ?2, test = ?3, variant = ?4, protocol = ?5,"
		" software = coalesce(?6, software), tls = ?7, token = ?8, exit_address = ?9,"
		" transcript = coalesce(?10, transcript),"
		" transcript_size = CASE WHEN ?10 IS NULL THEN transcript_size ELSE ?11 END,"
		" attempts = ?12, last_checked = ?13, run_id = ?14",
	[STMT_FINDING_PROVEN] =
		"UPDATE findings SET verdict = ?1, variant = coalesce(?2, variant), token = coalesce(?3, token),"
		" exit_address = coalesce(?4, exit_address), last_checked = ?5 WHERE candidate_id = ?6",
	/* A message went out through a relay but the run ended before its verdict was
	 * written (a crash, a stop): a verdict from what the record says, rather than
	 * a second message: relay-accepted when the server took it, closed when it
	 * refused it after the dot (it may still have queued it), timeout when it went
	 * and no answer came. A message whose record says only that it was due may or
	 * may not have gone: no verdict (only a proof bound to it gives one), and no
	 * second message (STMT_CANDIDATES_PENDING). Proxies are tested again: their
	 * messages only ever reach our own sink. */
	[STMT_RECONCILE_SENT] =
		"INSERT OR IGNORE INTO findings(candidate_id, verdict, test, variant, protocol, token, attempts,"
		" first_checked, last_checked, run_id)"
		" SELECT p.candidate_id,"
		" CASE WHEN max(p.outcome = 'message-sent') THEN 'relay-accepted'"
		" WHEN max(p.outcome = 'message-refused') THEN 'closed' ELSE 'timeout' END,"
		" p.test, p.variant, 'smtp-relay', p.token, 1,"
		" (SELECT min(q.started) FROM probes q WHERE q.candidate_id = p.candidate_id), p.started,"
		" max(p.run_id)"
		" FROM probes p"
		" WHERE p.outcome IN ('message-sent', 'message-refused', 'message-written') AND p.test = 'relay'"
		" GROUP BY p.candidate_id",
	/* A proof of a probe whose candidate has no finding (a crash left its record
	 * due): the message evidently went, and arrived. */
	[STMT_RECONCILE_PROVEN_NEW] =
		"INSERT OR IGNORE INTO findings(candidate_id, verdict, test, variant, protocol, token, exit_address,"
		" attempts, first_checked, last_checked, run_id)"
		" SELECT b.candidate_id, " OPEN_VERDICT("b.test") ", b.test, b.variant,"
		" CASE b.test WHEN 'relay' THEN 'smtp-relay' END, b.token, b.peer, 1,"
		" (SELECT min(q.started) FROM probes q WHERE q.candidate_id = b.candidate_id), b.received, b.run_id"
		" FROM " FIRST_BINDINGS " b ORDER BY b.received",
	/* Proofs that arrived after their probe's verdict was written (late, or a sink
	 * in another process) upgrade the verdict of the run that sent them, whatever
	 * the server answered: the arrival of a token we sent proves the relay open,
	 * or the proxy whose tunnel carried it a mail proxy. The evidence is that
	 * message's: its token, variant and the peer that delivered it. A proof of an
	 * earlier run's probe never stands for a later run's verdict. */
	[STMT_RECONCILE_PROVEN] =
		"UPDATE findings SET verdict = " OPEN_VERDICT("findings.test") ", last_checked = unixepoch(),"
		" token = b.token, exit_address = b.peer, variant = coalesce(b.variant, findings.variant)"
		" FROM " FIRST_BINDINGS " b"
		" WHERE b.candidate_id = findings.candidate_id AND b.run_id IS findings.run_id"
		" AND b.test = findings.test AND findings.verdict <> " OPEN_VERDICT("findings.test"),
	/* What a reconcile wrote into a round for a run that never ended (a crash)
	 * is newer than the findings row: findings stays the latest verdict. */
	[STMT_FINDINGS_FROM_ROUNDS_NEW] =
		"INSERT OR IGNORE INTO findings(candidate_id, verdict, test, variant, protocol, software, tls, token,"
		" exit_address, attempts, first_checked, last_checked, run_id)"
		" SELECT candidate_id, verdict, test, variant, protocol, software, tls, token, exit_address, 1, checked,"
		" checked, max(run_id) FROM round_findings"
		" WHERE run_id IN (SELECT id FROM verify_runs WHERE status <> 'done') GROUP BY candidate_id",
	[STMT_FINDINGS_FROM_ROUNDS] =
		"UPDATE findings SET verdict = n.verdict, test = n.test, variant = n.variant, protocol = n.protocol,"
		" software = coalesce(n.software, findings.software), tls = n.tls, token = n.token,"
		" exit_address = n.exit_address, last_checked = n.checked, run_id = n.run_id"
		" FROM (SELECT candidate_id, verdict, test, variant, protocol, software, tls, token, exit_address,"
		" checked, max(run_id) AS run_id FROM round_findings"
		" WHERE run_id IN (SELECT id FROM verify_runs WHERE status <> 'done') GROUP BY candidate_id) n"
		" WHERE n.candidate_id = findings.candidate_id AND n.run_id > coalesce(findings.run_id, 0)",
	[STMT_FINDINGS_ALL] = FINDINGS_SELECT FINDINGS_FROM,
	[STMT_FINDINGS_WITH_TRANSCRIPT] =
		FINDINGS_SELECT ", sqlar_uncompress(f.transcript, f.transcript_size) AS transcript" FINDINGS_FROM,
};
#undef FINDINGS_FROM
#undef FINDINGS_SELECT
#undef FIRST_BINDINGS
#undef OPEN_VERDICT
#undef FIRST_PROBE

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

/* ?1 to ?11 of STMT_FINDING_PUT and STMT_ROUND_FINDING_PUT: the verdict and its evidence. */
static void bind_evidence(struct store *store, sqlite3_stmt *stmt, const struct finding *f)
{
	sqlite3_bind_int64(stmt, 1, f->candidate_id);
	store_bind_text(stmt, 2, f->verdict);
	store_bind_text(stmt, 3, f->test);
	store_bind_text(stmt, 4, f->variant);
	store_bind_text(stmt, 5, f->protocol);
	store_bind_text(stmt, 6, f->software);
	sqlite3_bind_int(stmt, 7, f->tls);
	store_bind_text(stmt, 8, f->token);
	store_bind_text(stmt, 9, f->exit_address);
	bind_transcript(store, stmt, 10, 11, f->transcript);
}

/* The round's row of the run's verdict (round_findings): the run's round, none when it has none. */
static int round_finding_put(struct store *store, const struct finding *f)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ROUND_FINDING_PUT);
	if (stmt == NULL)
		return -1;
	bind_evidence(store, stmt, f);
	sqlite3_bind_int64(stmt, 12, (int64_t)f->checked);
	sqlite3_bind_int64(stmt, 13, f->run);
	return store_step_done(store, stmt);
}

/* Both rows of a verdict in one transaction (the caller's batch, or one of their own). */
static int in_transaction(struct store *store, int (*write)(struct store *, const void *), const void *arg)
{
	bool own = !store_in_transaction(store);
	if (own && store_begin(store) != 0)
		return -1;
	if (write(store, arg) != 0) {
		if (own)
			store_rollback(store);
		return -1;
	}
	return own ? store_commit(store) : 0;
}

static int finding_put(struct store *store, const void *arg)
{
	const struct finding *f = arg;
	sqlite3_stmt *stmt = store_statement(store, STMT_FINDING_PUT);
	if (stmt == NULL)
		return -1;
	bind_evidence(store, stmt, f);
	sqlite3_bind_int(stmt, 12, (int)f->attempts);
	sqlite3_bind_int64(stmt, 13, (int64_t)f->checked);
	if (f->run > 0)
		sqlite3_bind_int64(stmt, 14, f->run);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return f->run > 0 ? round_finding_put(store, f) : 0;
}

int store_finding_put(struct store *store, const struct finding *f) { return in_transaction(store, finding_put, f); }

struct proven {
	int64_t candidate_id, run;
	const char *verdict, *variant, *token, *exit_address;
	time_t when;
};

static int finding_proven(struct store *store, const void *arg)
{
	const struct proven *p = arg;
	static const enum store_stmt statements[] = {STMT_FINDING_PROVEN, STMT_ROUND_FINDING_PROVEN};
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		sqlite3_stmt *stmt = store_statement(store, statements[i]);
		if (stmt == NULL)
			return -1;
		store_bind_text(stmt, 1, p->verdict);
		store_bind_text(stmt, 2, p->variant);
		store_bind_text(stmt, 3, p->token);
		store_bind_text(stmt, 4, p->exit_address);
		sqlite3_bind_int64(stmt, 5, (int64_t)p->when);
		sqlite3_bind_int64(stmt, 6, p->candidate_id);
		if (statements[i] == STMT_ROUND_FINDING_PROVEN)
			sqlite3_bind_int64(stmt, 7, p->run);
		if (store_step_done(store, stmt) != 0)
			return -1;
	}
	return 0;
}

int store_finding_proven(struct store *store, int64_t run, int64_t candidate_id, const char *verdict,
			 const char *variant, const char *token, const char *exit_address, time_t when)
{
	struct proven p = {candidate_id, run, verdict, variant, token, exit_address, when};
	return in_transaction(store, finding_proven, &p);
}

int store_findings_from_rounds(struct store *store)
{
	int changed = 0;
	static const enum store_stmt statements[] = {STMT_FINDINGS_FROM_ROUNDS_NEW, STMT_FINDINGS_FROM_ROUNDS};
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		sqlite3_stmt *stmt = store_statement(store, statements[i]);
		if (stmt == NULL || store_step_done(store, stmt) != 0)
			return -1;
		changed += sqlite3_changes(store->db);
	}
	return changed;
}

int store_findings_reconcile(struct store *store)
{
	sqlite3_stmt *sent = store_statement(store, STMT_RECONCILE_SENT);
	if (sent == NULL || store_step_done(store, sent) != 0)
		return -1;
	int changed = sqlite3_changes(store->db);
	sqlite3_stmt *found = store_statement(store, STMT_RECONCILE_PROVEN_NEW);
	if (found == NULL || store_step_done(store, found) != 0)
		return -1;
	changed += sqlite3_changes(store->db);
	sqlite3_stmt *proven = store_statement(store, STMT_RECONCILE_PROVEN);
	if (proven == NULL || store_step_done(store, proven) != 0)
		return -1;
	return changed + sqlite3_changes(store->db);
}

int store_findings_each(struct store *store, const char *verdict, bool transcript, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, transcript ? STMT_FINDINGS_WITH_TRANSCRIPT : STMT_FINDINGS_ALL);
	if (stmt == NULL)
		return -1;
	static const char *const booleans[] = {"tls", NULL};
	store_bind_text(stmt, 1, verdict);
	return store_rows_each_with(store, stmt, booleans, fn, ctx);
}

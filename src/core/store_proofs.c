/* SQL for what the sink receives: proofs and rejected tokens. */
#include "core/store_internal.h"

static const char SQL_PROOF_INSERT[] =
	"INSERT OR IGNORE INTO proofs(token, campaign, address, port, test, token_time, peer, helo,"
	" mail_from, rcpt_to, received, size, headers)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char SQL_REJECT_INSERT[] =
	"INSERT INTO sink_rejects(received, peer, token, reason) VALUES(?1, ?2, ?3, ?4)";
static const char SQL_PROOF_COUNT[] = "SELECT count(*) FROM proofs";
static const char SQL_PROOFS_ALL[] =
	"SELECT token, campaign, address, port, test,"
	" strftime('%Y-%m-%dT%H:%M:%SZ', token_time, 'unixepoch') AS token_time, peer, helo,"
	" mail_from, rcpt_to, strftime('%Y-%m-%dT%H:%M:%SZ', received, 'unixepoch') AS received,"
	" size FROM proofs ORDER BY id";

int store_proof_put(struct store *store, const struct proof *proof)
{
	char address[ADDR_STRLEN];
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOF_INSERT);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, proof->token);
	sqlite3_bind_int(stmt, 2, proof->campaign);
	store_bind_text(stmt, 3, addr_format(&proof->address, address));
	sqlite3_bind_int(stmt, 4, proof->port);
	sqlite3_bind_int(stmt, 5, proof->test);
	sqlite3_bind_int64(stmt, 6, proof->token_time);
	store_bind_text(stmt, 7, proof->peer);
	store_bind_text(stmt, 8, proof->helo);
	store_bind_text(stmt, 9, proof->mail_from);
	store_bind_text(stmt, 10, proof->rcpt_to);
	sqlite3_bind_int64(stmt, 11, (int64_t)proof->received);
	sqlite3_bind_int64(stmt, 12, (int64_t)proof->size);
	store_bind_text(stmt, 13, proof->headers);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_changes(store->db) == 1;
}

int store_sink_reject_put(struct store *store, time_t when, const char *peer, const char *token,
			  const char *reason)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_REJECT_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)when);
	store_bind_text(stmt, 2, peer);
	store_bind_text(stmt, 3, token);
	store_bind_text(stmt, 4, reason);
	return store_step_done(store, stmt);
}

int64_t store_proof_count(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOF_COUNT);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int store_rows_each(struct store *store, sqlite3_stmt *stmt, store_row_fn fn, void *ctx)
{
	int n = sqlite3_column_count(stmt);
	const char *names[32];
	const char *values[32];
	if (n > 32)
		n = 32;
	for (int i = 0; i < n; i++)
		names[i] = sqlite3_column_name(stmt, i);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			values[i] = (const char *)sqlite3_column_text(stmt, i);
		fn(ctx, n, names, values);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, sqlite3_sql(stmt));
}

int store_proofs_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOFS_ALL);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

/* SQL for what the sink receives: proofs and rejected tokens. */
#include <string.h>

#include "store/store_internal.h"

static const char SQL_PROOF_INSERT[] =
	"INSERT OR IGNORE INTO proofs(token, campaign, address, port, test, token_time, peer, helo,"
	" mail_from, rcpt_to, received, size, headers)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char SQL_REJECT_INSERT[] =
	"INSERT INTO sink_rejects(received, peer, token, reason) VALUES(?1, ?2, ?3, ?4)";
static const char SQL_PROOF_COUNT[] = "SELECT count(*) FROM proofs";
/* Bound proofs first, then those that match no probe: they prove nothing. */
static const char SQL_PROOFS_ALL[] =
	"SELECT token, campaign, address, port, test,"
	" strftime('%Y-%m-%dT%H:%M:%SZ', token_time, 'unixepoch') AS token_time, peer, helo,"
	" mail_from, rcpt_to, strftime('%Y-%m-%dT%H:%M:%SZ', received, 'unixepoch') AS received,"
	" size, b.probe_id AS probe, b.run_id AS run,"
	" CASE WHEN b.probe_id IS NULL THEN 'unmatched' ELSE 'bound' END AS status"
	" FROM proofs LEFT JOIN (SELECT proof_id, min(probe_id) AS probe_id, run_id FROM proof_bindings"
	" GROUP BY proof_id) b ON b.proof_id = proofs.id"
	" ORDER BY b.probe_id IS NULL, proofs.id";
static const char SQL_PROOF_LAST[] = "SELECT coalesce(max(id), 0) FROM proofs";
static const char SQL_PROOFS_SINCE[] =
	"SELECT id, token, campaign, address, port, test, peer, received FROM proofs"
	" WHERE id > ?1 ORDER BY id LIMIT ?2";

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

static enum store_value_type value_type(int sqlite_type, bool boolean)
{
	switch (sqlite_type) {
	case SQLITE_NULL: return STORE_NULL;
	case SQLITE_INTEGER: return boolean ? STORE_BOOLEAN : STORE_INTEGER;
	case SQLITE_FLOAT: return STORE_REAL;
	default: return STORE_TEXT;
	}
}

static bool named_in(const char *name, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

int store_rows_each_with(struct store *store, sqlite3_stmt *stmt, const char *const *booleans, store_row_fn fn,
			 void *ctx)
{
	enum { MAX_COLUMNS = 32 };
	int n = sqlite3_column_count(stmt);
	const char *names[MAX_COLUMNS];
	const char *values[MAX_COLUMNS];
	enum store_value_type types[MAX_COLUMNS];
	bool boolean[MAX_COLUMNS];
	if (n > MAX_COLUMNS)
		n = MAX_COLUMNS;
	for (int i = 0; i < n; i++) {
		names[i] = sqlite3_column_name(stmt, i);
		boolean[i] = named_in(names[i], booleans);
	}
	struct store_row row = {.count = n, .names = names, .values = NULL, .types = types};
	fn(ctx, &row);
	row.values = values;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++) {
			/* the type before the text: sqlite3_column_text converts in place */
			types[i] = value_type(sqlite3_column_type(stmt, i), boolean[i]);
			values[i] = (const char *)sqlite3_column_text(stmt, i);
		}
		fn(ctx, &row);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, sqlite3_sql(stmt));
}

int store_rows_each(struct store *store, sqlite3_stmt *stmt, store_row_fn fn, void *ctx)
{
	return store_rows_each_with(store, stmt, NULL, fn, ctx);
}

int store_proofs_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOFS_ALL);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

int64_t store_proof_last_id(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOF_LAST);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int64_t store_proofs_since(struct store *store, int64_t after, int limit, store_proof_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOFS_SINCE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, after);
	sqlite3_bind_int(stmt, 2, limit);
	int rc;
	int64_t last = after;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *address = (const char *)sqlite3_column_text(stmt, 3);
		struct proof proof = {
			.token = (const char *)sqlite3_column_text(stmt, 1),
			.campaign = (uint16_t)sqlite3_column_int(stmt, 2),
			.port = (uint16_t)sqlite3_column_int(stmt, 4),
			.test = (uint8_t)sqlite3_column_int(stmt, 5),
			.peer = (const char *)sqlite3_column_text(stmt, 6),
			.received = (time_t)sqlite3_column_int64(stmt, 7),
		};
		last = sqlite3_column_int64(stmt, 0);
		/* rows the sink wrote: a malformed one is skipped, never a proof */
		if (proof.token == NULL || proof.peer == NULL || address == NULL ||
		    addr_parse(address, strlen(address), &proof.address) != 0)
			continue;
		fn(ctx, &proof);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? last : store_error(store, "reading new proofs");
}

/* SQL for proofs (what the sink received with a genuine token) and their bindings to probes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/token.h"
#include "store/store_internal.h"

const char *const store_proofs_sql[STMT_COUNT] = {
	[STMT_PROOF_INSERT] =
		"INSERT OR IGNORE INTO proofs(token, campaign, address, port, test, token_time, peer, helo,"
		" mail_from, rcpt_to, received, size, headers)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[STMT_PROOF_COUNT] = "SELECT count(*) FROM proofs",
	/* Bound proofs first, then those that match no probe: they prove nothing. */
	[STMT_PROOFS_ALL] =
		"SELECT token, campaign, address, port, test,"
		" strftime('%Y-%m-%dT%H:%M:%SZ', token_time, 'unixepoch') AS token_time, peer, helo,"
		" mail_from, rcpt_to, strftime('%Y-%m-%dT%H:%M:%SZ', received, 'unixepoch') AS received,"
		" size, b.probe_id AS probe, b.run_id AS run,"
		" CASE WHEN b.probe_id IS NULL THEN 'unmatched' ELSE 'bound' END AS status"
		" FROM proofs LEFT JOIN (SELECT proof_id, min(probe_id) AS probe_id, run_id FROM proof_bindings"
		" GROUP BY proof_id) b ON b.proof_id = proofs.id"
		" ORDER BY b.probe_id IS NULL, proofs.id",
	[STMT_PROOF_LAST] = "SELECT coalesce(max(id), 0) FROM proofs",
	[STMT_PROOFS_SINCE] =
		"SELECT id, token, campaign, address, port, test, peer, received FROM proofs"
		" WHERE id > ?1 ORDER BY id LIMIT ?2",
	[STMT_PROOF_FIND] =
		"SELECT proof_test, peer, variant FROM proof_bindings WHERE token = ?1 AND run_id IS ?2 LIMIT 1",
};

int store_proof_put(struct store *store, const struct proof *proof)
{
	char address[ADDR_STRLEN];
	sqlite3_stmt *stmt = store_statement(store, STMT_PROOF_INSERT);
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

int64_t store_proof_count(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROOF_COUNT);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int store_proofs_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROOFS_ALL);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

int64_t store_proof_last_id(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROOF_LAST);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

/* One row of store_proofs_since, copied out of the statement. */
struct proof_copy {
	struct proof proof;
	char token[TOKEN_MAX_LEN], peer[ADDR_PORT_STRLEN];
};

/*
 * The rows are read, the statement reset, and only then handed to fn: fn may
 * write (the verifier records the verdict a proof makes), and a write begun
 * while this read is still open fails at once with "database is locked" when
 * another process (another check, the sink) has written since the read began.
 */
int64_t store_proofs_since(struct store *store, int64_t after, int limit, store_proof_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROOFS_SINCE);
	struct proof_copy *rows = limit > 0 ? calloc((size_t)limit, sizeof *rows) : NULL;
	if (stmt == NULL || rows == NULL) {
		free(rows);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, after);
	sqlite3_bind_int(stmt, 2, limit);
	int rc;
	int n = 0;
	int64_t last = after;
	while (n < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *token = (const char *)sqlite3_column_text(stmt, 1),
			   *address = (const char *)sqlite3_column_text(stmt, 3),
			   *peer = (const char *)sqlite3_column_text(stmt, 6);
		struct proof_copy *r = &rows[n];
		last = sqlite3_column_int64(stmt, 0);
		/* rows the sink wrote: a malformed one is skipped, never a proof */
		if (token == NULL || peer == NULL || address == NULL ||
		    addr_parse(address, strlen(address), &r->proof.address) != 0)
			continue;
		snprintf(r->token, sizeof r->token, "%s", token);
		snprintf(r->peer, sizeof r->peer, "%s", peer);
		r->proof.token = r->token;
		r->proof.peer = r->peer;
		r->proof.campaign = (uint16_t)sqlite3_column_int(stmt, 2);
		r->proof.port = (uint16_t)sqlite3_column_int(stmt, 4);
		r->proof.test = (uint8_t)sqlite3_column_int(stmt, 5);
		r->proof.received = (time_t)sqlite3_column_int64(stmt, 7);
		n++;
	}
	if (n == limit)
		rc = SQLITE_DONE; /* LIMIT ?2: no more rows than that */
	sqlite3_reset(stmt);
	if (rc == SQLITE_DONE)
		for (int i = 0; i < n; i++)
			fn(ctx, &rows[i].proof);
	free(rows);
	return rc == SQLITE_DONE ? last : store_error(store, "reading new proofs");
}

static int proof_binding(struct store *store, int64_t run, const char *token, uint8_t *test, char *peer,
			 size_t peerlen, char *variant, size_t variantlen)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_PROOF_FIND);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, token);
	if (run > 0)
		sqlite3_bind_int64(stmt, 2, run);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 2);
		if (test != NULL)
			*test = (uint8_t)sqlite3_column_int(stmt, 0);
		if (peer != NULL)
			snprintf(peer, peerlen, "%s", (const char *)sqlite3_column_text(stmt, 1));
		if (variant != NULL)
			snprintf(variant, variantlen, "%s", text ? text : "");
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_error(store, "finding a proof");
}

int store_proof_find(struct store *store, int64_t run, const char *token, uint8_t *test, char *peer,
		     size_t peerlen)
{
	return proof_binding(store, run, token, test, peer, peerlen, NULL, 0);
}

int store_proof_bound(struct store *store, int64_t run, const char *token, char *variant, size_t variantlen)
{
	return proof_binding(store, run, token, NULL, NULL, 0, variant, variantlen);
}

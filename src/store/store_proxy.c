/* SQL for proxy verification: what the sink's target and SMTP side saw, by nonce or token. */
#include <stdio.h>

#include "store/store_internal.h"

static const char SQL_TARGET_HIT_FIND[] =
	"SELECT peer FROM target_hits WHERE nonce = ?1 AND received >= ?3"
	" AND (token IS NULL OR token = lower(?2))";
static const char SQL_PROOF_FIND[] =
	"SELECT proof_test, peer, variant FROM proof_bindings WHERE token = ?1 AND run_id IS ?2 LIMIT 1";

int store_target_hit_find(struct store *store, const char *nonce, const char *token, time_t since, char *peer,
			  size_t peerlen)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_TARGET_HIT_FIND);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, nonce);
	store_bind_text(stmt, 2, token);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)since);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		snprintf(peer, peerlen, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_error(store, "finding a target hit");
}

static int proof_binding(struct store *store, int64_t run, const char *token, uint8_t *test, char *peer,
			 size_t peerlen, char *variant, size_t variantlen)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_PROOF_FIND);
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

/* SQL for what the sink saw besides proofs: rejected tokens, and its TCP target's visitors (target_hits). */
#include "store/store_internal.h"

#include <stdio.h>

#include "core/log.h"

const char *const store_sink_sql[STMT_COUNT] = {
	[STMT_REJECT_INSERT] = "INSERT INTO sink_rejects(received, peer, token, reason) VALUES(?1, ?2, ?3, ?4)",
	[STMT_TARGET_HIT_INSERT] =
		"INSERT INTO target_hits(nonce, peer, listener, request, token, received)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	/* For proxy verification: who reached the target that sent the nonce. */
	[STMT_TARGET_HIT_FIND] =
		"SELECT peer FROM target_hits WHERE nonce = ?1 AND (token IS NULL OR token = lower(?2))"
		" AND received >= ?3",
};

int store_sink_reject_put(struct store *store, time_t when, const char *peer, const char *token,
			  const char *reason)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REJECT_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)when);
	store_bind_text(stmt, 2, peer);
	store_bind_text(stmt, 3, token);
	store_bind_text(stmt, 4, reason);
	return store_step_done(store, stmt);
}

int store_target_hit_put(struct store *store, const struct target_hit *hit)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_TARGET_HIT_INSERT);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, hit->nonce);
	store_bind_text(stmt, 2, hit->peer);
	store_bind_text(stmt, 3, hit->listener);
	store_bind_text(stmt, 4, hit->request);
	store_bind_text(stmt, 5, hit->token);
	sqlite3_bind_int64(stmt, 6, (int64_t)hit->received);
	return store_step_done(store, stmt);
}

int store_target_hit_find(struct store *store, const char *nonce, const char *token, time_t since, char *peer,
			  size_t peerlen)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_TARGET_HIT_FIND);
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

int store_sink_commit(struct store *store)
{
	/* Outside a transaction each statement committed itself. */
	if (sqlite3_get_autocommit(store->db))
		return 0;
	if (store_commit(store) != 0)
		return -1;
	/* The batch's owner still counts on an open transaction. */
	if (store_begin(store) != 0)
		log_error("store: the next transaction did not begin; what was written so far is committed");
	return 0;
}

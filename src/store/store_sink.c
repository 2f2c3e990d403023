/* SQL for the sink's TCP target: who connected and with which nonce. */
#include "store/store_internal.h"

#include "core/log.h"

static const char SQL_TARGET_HIT_INSERT[] =
    "INSERT INTO target_hits(nonce, peer, listener, request, token, received)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)";

int store_target_hit_put(struct store *store, const struct target_hit *hit)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_TARGET_HIT_INSERT);
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

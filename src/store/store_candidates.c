/* SQL for candidates, their sources and ingest runs. */
#include "store/store_internal.h"

static const char SQL_SOURCE_UPSERT[] =
	"INSERT INTO sources(name, format, first_seen, last_seen) VALUES(?1, ?2, ?3, ?3)"
	" ON CONFLICT(name) DO UPDATE SET last_seen = ?3, format = coalesce(?2, format)"
	" RETURNING id";
static const char SQL_CANDIDATE_INSERT[] =
	"INSERT OR IGNORE INTO candidates(address, port, family, first_seen, last_seen)"
	" VALUES(?1, ?2, ?3, ?4, ?4)";
static const char SQL_CANDIDATE_TOUCH[] =
	"UPDATE candidates SET last_seen = ?3 WHERE address = ?1 AND port = ?2 RETURNING id";
static const char SQL_CANDIDATE_SOURCE[] =
	"INSERT OR IGNORE INTO candidate_sources(candidate_id, source_id) VALUES(?1, ?2)";
static const char SQL_CANDIDATE_COUNT[] = "SELECT count(*) FROM candidates";
static const char SQL_INGEST_RUN[] =
	"INSERT INTO ingest_runs(source_id, format, started, finished, lines, taken, excluded,"
	" duplicate, bad) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

int64_t store_source_id(struct store *store, const char *name, const char *format)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_SOURCE_UPSERT);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, name);
	store_bind_text(stmt, 2, format);
	sqlite3_bind_int64(stmt, 3, (int64_t)time(NULL));
	return store_step_int64(store, stmt);
}

int store_candidate_put(struct store *store, const struct addr *address, uint16_t port,
			int64_t source_id, time_t now)
{
	char text[ADDR_STRLEN];
	addr_format(address, text);
	sqlite3_stmt *insert = store_statement(store, SQL_CANDIDATE_INSERT);
	if (insert == NULL)
		return -1;
	sqlite3_bind_text(insert, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int(insert, 2, port);
	sqlite3_bind_int(insert, 3, addr_is_v4(address) ? 4 : 6);
	sqlite3_bind_int64(insert, 4, (int64_t)now);
	if (store_step_done(store, insert) != 0)
		return -1;
	int is_new = sqlite3_changes(store->db) == 1;
	int64_t id;
	if (is_new) {
		id = sqlite3_last_insert_rowid(store->db);
	} else {
		sqlite3_stmt *touch = store_statement(store, SQL_CANDIDATE_TOUCH);
		if (touch == NULL)
			return -1;
		sqlite3_bind_text(touch, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_int(touch, 2, port);
		sqlite3_bind_int64(touch, 3, (int64_t)now);
		if ((id = store_step_int64(store, touch)) < 0)
			return -1;
	}
	sqlite3_stmt *link = store_statement(store, SQL_CANDIDATE_SOURCE);
	if (link == NULL)
		return -1;
	sqlite3_bind_int64(link, 1, id);
	sqlite3_bind_int64(link, 2, source_id);
	if (store_step_done(store, link) != 0)
		return -1;
	return is_new;
}

int64_t store_candidate_count(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_CANDIDATE_COUNT);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int store_ingest_run_put(struct store *store, int64_t source_id, const char *format, time_t started,
			 time_t finished, const struct ingest_counts *counts)
{
	sqlite3_stmt *stmt = store_statement(store, SQL_INGEST_RUN);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, source_id);
	store_bind_text(stmt, 2, format);
	sqlite3_bind_int64(stmt, 3, (int64_t)started);
	sqlite3_bind_int64(stmt, 4, (int64_t)finished);
	sqlite3_bind_int64(stmt, 5, (int64_t)counts->lines);
	sqlite3_bind_int64(stmt, 6, (int64_t)counts->taken);
	sqlite3_bind_int64(stmt, 7, (int64_t)counts->excluded);
	sqlite3_bind_int64(stmt, 8, (int64_t)counts->duplicate);
	sqlite3_bind_int64(stmt, 9, (int64_t)counts->bad);
	return store_step_done(store, stmt);
}

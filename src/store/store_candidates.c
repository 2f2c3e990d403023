/* SQL for candidates, their sources and ingest runs; which candidates verify takes next. */
#include "store/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

const char *const store_candidates_sql[STMT_COUNT] = {
	[STMT_SOURCE_UPSERT] =
		"INSERT INTO sources(name, format, first_seen, last_seen) VALUES(?1, ?2, ?3, ?3)"
		" ON CONFLICT(name) DO UPDATE SET last_seen = ?3, format = coalesce(?2, format)"
		" RETURNING id",
	[STMT_CANDIDATE_INSERT] =
		"INSERT OR IGNORE INTO candidates(address, port, family, first_seen, last_seen)"
		" VALUES(?1, ?2, ?3, ?4, ?4)",
	[STMT_CANDIDATE_TOUCH] =
		"UPDATE candidates SET last_seen = ?1 WHERE address = ?2 AND port = ?3 RETURNING id",
	[STMT_CANDIDATE_SOURCE] =
		"INSERT OR IGNORE INTO candidate_sources(candidate_id, source_id) VALUES(?1, ?2)",
	[STMT_CANDIDATE_COUNT] = "SELECT count(*) FROM candidates",
	[STMT_INGEST_RUN] =
		"INSERT INTO ingest_runs(source_id, format, started, finished, lines, taken, excluded,"
		" duplicate, bad) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	/* Candidates without a finding, except relays whose test message may have gone. */
	[STMT_CANDIDATES_PENDING] =
		"SELECT c.id, c.address, c.port FROM candidates c"
		" WHERE NOT EXISTS (SELECT 1 FROM findings f WHERE f.candidate_id = c.id)"
		" AND NOT EXISTS (SELECT 1 FROM probes p WHERE p.candidate_id = c.id AND p.test = 'relay'"
		" AND p." STORE_MESSAGE_MAY_HAVE_GONE ")"
		" ORDER BY c.id",
	[STMT_CANDIDATE_ID] = "SELECT id FROM candidates WHERE address = ?1 AND port = ?2",
};

int64_t store_source_id(struct store *store, const char *name, const char *format)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_SOURCE_UPSERT);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, name);
	store_bind_text(stmt, 2, format);
	sqlite3_bind_int64(stmt, 3, (int64_t)time(NULL));
	return store_step_int64(store, stmt);
}

/* One candidate as the index holds it: its address as text, then its port. */
struct keyed_candidate {
	char text[ADDR_STRLEN];
	uint16_t port;
	uint8_t family;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed_candidate *x = a, *y = b;
	int c = strcmp(x->text, y->text); /* the index's BINARY collation */
	return c != 0 ? c : (x->port > y->port) - (x->port < y->port);
}

/* 1 when the candidate is new, 0 when already known (its sources grow), -1 error. */
static int put_one(struct store *store, const struct keyed_candidate *c, int64_t source_id, time_t now)
{
	sqlite3_stmt *insert = store_statement(store, STMT_CANDIDATE_INSERT);
	if (insert == NULL)
		return -1;
	sqlite3_bind_text(insert, 1, c->text, -1, SQLITE_STATIC);
	sqlite3_bind_int(insert, 2, c->port);
	sqlite3_bind_int(insert, 3, c->family);
	sqlite3_bind_int64(insert, 4, (int64_t)now);
	if (store_step_done(store, insert) != 0)
		return -1;
	int is_new = sqlite3_changes(store->db) == 1;
	int64_t id;
	if (is_new) {
		id = sqlite3_last_insert_rowid(store->db);
	} else {
		sqlite3_stmt *touch = store_statement(store, STMT_CANDIDATE_TOUCH);
		if (touch == NULL)
			return -1;
		sqlite3_bind_int64(touch, 1, (int64_t)now);
		sqlite3_bind_text(touch, 2, c->text, -1, SQLITE_STATIC);
		sqlite3_bind_int(touch, 3, c->port);
		if ((id = store_step_int64(store, touch)) < 0)
			return -1;
	}
	sqlite3_stmt *link = store_statement(store, STMT_CANDIDATE_SOURCE);
	if (link == NULL)
		return -1;
	sqlite3_bind_int64(link, 1, id);
	sqlite3_bind_int64(link, 2, source_id);
	if (store_step_done(store, link) != 0)
		return -1;
	return is_new;
}

int store_candidates_put(struct store *store, struct store_candidate *batch, size_t n, int64_t source_id,
			 time_t now, struct ingest_counts *counts)
{
	if (n == 0)
		return 0;
	struct keyed_candidate *keyed = malloc(n * sizeof *keyed);
	if (keyed == NULL) {
		log_error("out of memory for a batch of %zu candidates", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		addr_format(&batch[i].address, keyed[i].text);
		keyed[i].port = batch[i].port;
		keyed[i].family = addr_is_v4(&batch[i].address) ? 4 : 6;
	}
	qsort(keyed, n, sizeof *keyed, keyed_cmp);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int is_new = put_one(store, &keyed[i], source_id, now);
		if (is_new < 0)
			rc = -1;
		else if (is_new)
			counts->taken++;
		else
			counts->duplicate++;
	}
	free(keyed);
	return rc;
}

int store_candidate_put(struct store *store, const struct addr *address, uint16_t port,
			int64_t source_id, time_t now)
{
	struct keyed_candidate c = {.port = port, .family = addr_is_v4(address) ? 4 : 6};
	addr_format(address, c.text);
	return put_one(store, &c, source_id, now);
}

int store_cache_size(struct store *store, int kib)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", kib);
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_error(store, "setting the page cache size");
	return 0;
}

int64_t store_candidate_count(struct store *store)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CANDIDATE_COUNT);
	return stmt == NULL ? -1 : store_step_int64(store, stmt);
}

int store_ingest_run_put(struct store *store, int64_t source_id, const char *format, time_t started,
			 time_t finished, const struct ingest_counts *counts)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_INGEST_RUN);
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

int store_candidates_pending(struct store *store, store_candidate_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CANDIDATES_PENDING);
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
	sqlite3_stmt *stmt = store_statement(store, STMT_CANDIDATE_ID);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, addr_format(address, text), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 2, port);
	int rc = sqlite3_step(stmt);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : store_error(store, "finding a candidate");
}

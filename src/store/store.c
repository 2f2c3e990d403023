#include "store/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

int store_error(struct store *store, const char *what)
{
	log_error("%s: %s: %s", store->path, what, sqlite3_errmsg(store->db));
	return -1;
}

static int exec_sql(struct store *store, const char *sql)
{
	char *message = NULL;
	if (sqlite3_exec(store->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		log_error("%s: %s: %s", store->path, sql, message ? message : "failed");
		sqlite3_free(message);
		return -1;
	}
	return 0;
}

/* filename is what SQLite opens (a path or a URI), path what messages name. */
static struct store *store_connect(const char *filename, const char *path, int flags)
{
	struct store *store = calloc(1, sizeof *store);
	if (store == NULL)
		return NULL;
	store->path = strdup(path);
	if (store->path == NULL || sqlite3_open_v2(filename, &store->db, flags, NULL) != SQLITE_OK) {
		log_error("%s: cannot open the store: %s", path,
			  store->db ? sqlite3_errmsg(store->db) : "out of memory");
		store_close(store);
		return NULL;
	}
	/* Another process (sink, verifier) may hold the write lock for a moment. */
	sqlite3_busy_timeout(store->db, 10000);
	return store;
}

static bool file_exists(const char *path, const char *suffix)
{
	char name[4096];
	struct stat st;
	return (size_t)snprintf(name, sizeof name, "%s%s", path, suffix) < sizeof name && stat(name, &st) == 0;
}

/* "file:PATH?immutable=1", the characters a URI gives a meaning to escaped; NULL when out of memory. */
static char *immutable_uri(const char *path)
{
	char *uri = malloc(strlen(path) * 3 + sizeof "file:?immutable=1");
	if (uri == NULL)
		return NULL;
	char *w = uri + sprintf(uri, "file:");
	for (const char *p = path; *p; p++)
		w += strchr("?#%", *p) ? sprintf(w, "%%%02X", (unsigned char)*p) : sprintf(w, "%c", *p);
	strcpy(w, "?immutable=1");
	return uri;
}

/*
 * For a verb that only reads. A store it may write is opened read-write all
 * the same (it writes nothing): closing then removes the -wal and -shm files
 * as a writer's close does. Otherwise the connection is read-only, and WAL
 * needs a -shm file: a writer's is used; when there is none (nobody writes the
 * store now) the store is read as immutable, for a -shm made here would carry
 * the store's read-only mode and keep its owner from writing it later.
 */
static struct store *store_connect_read(const char *path)
{
	if (access(path, W_OK) == 0) {
		struct store *store = store_connect(path, path, SQLITE_OPEN_READWRITE);
		if (store != NULL && store_schema_version(store) >= 0)
			return store;
		store_close(store); /* a read-only directory, say: read it read-only */
	}
	if (file_exists(path, "-shm") || file_exists(path, "-wal"))
		return store_connect(path, path, SQLITE_OPEN_READONLY);
	char *uri = immutable_uri(path);
	struct store *store = uri ? store_connect(uri, path, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI) : NULL;
	free(uri);
	return store;
}

struct store *store_open_mode(const char *path, enum store_mode mode)
{
	struct stat st;
	if (mode != STORE_CREATE && stat(path, &st) != 0) {
		log_error("%s: no store there (%s); check --db or $PLUGHOLE_DB ('plughole ingest' makes a new one)",
			  path, strerror(errno));
		return NULL;
	}
	if (mode == STORE_READ) {
		struct store *store = store_connect_read(path);
		if (store == NULL)
			return NULL;
		int version = store_schema_version(store);
		if (version < 0) {
			store_error(store, "reading the schema version");
			store_close(store);
			return NULL;
		}
		if (version < store_schema_latest()) {
			/* An older schema is brought up to date first, which needs writing. */
			store_close(store);
			if (access(path, W_OK) != 0) {
				log_error("%s: the store's schema (version %d) is older than this plughole's (%d), and it "
					  "is read-only: open it once where it may be written, to bring it up to date",
					  path, version, store_schema_latest());
				return NULL;
			}
			return store_open_mode(path, STORE_UPDATE);
		}
		/* A newer schema is refused; the journal mode is the file's own (WAL). */
		if (store_migrate(store) != 0 || store_register_functions(store) != 0) {
			store_close(store);
			return NULL;
		}
		return store;
	}
	int flags = SQLITE_OPEN_READWRITE | (mode == STORE_CREATE ? SQLITE_OPEN_CREATE : 0);
	struct store *store = store_connect(path, path, flags);
	if (store == NULL)
		return NULL;
	if (exec_sql(store, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;") != 0 ||
	    store_register_functions(store) != 0 || store_migrate(store) != 0) {
		store_close(store);
		return NULL;
	}
	return store;
}

struct store *store_open(const char *path) { return store_open_mode(path, STORE_CREATE); }

void store_close(struct store *store)
{
	if (store == NULL)
		return;
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(store->statements[i]);
	sqlite3_close(store->db);
	store_deflate_free(store);
	free(store->path);
	free(store);
}

const char *const *const store_sql_tables[] = {
	store_meta_sql, store_candidates_sql, store_probes_sql,	   store_findings_sql, store_proofs_sql,
	store_sink_sql, store_attrib_sql,     store_campaigns_sql, store_suppress_sql, store_rounds_sql,
	store_web_sql,   store_export_sql, store_report_sql,
};
const size_t store_sql_table_count = ARRAY_SIZE(store_sql_tables);

const char *store_sql(enum store_stmt id)
{
	const char *sql = NULL;
	for (size_t i = 0; i < store_sql_table_count; i++) {
		if (store_sql_tables[i][id] == NULL)
			continue;
		if (sql != NULL) {
			log_error("store: statement %d has SQL in two files", (int)id);
			return NULL;
		}
		sql = store_sql_tables[i][id];
	}
	if (sql == NULL)
		log_error("store: statement %d has no SQL", (int)id);
	return sql;
}

sqlite3_stmt *store_statement(struct store *store, enum store_stmt id)
{
	if ((unsigned)id >= STMT_COUNT) {
		log_error("store: no statement %d", (int)id);
		abort(); /* a programming error */
	}
	sqlite3_stmt *stmt = store->statements[id];
	if (stmt != NULL) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return stmt;
	}
	const char *sql = store_sql(id);
	if (sql == NULL)
		return NULL;
	if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
		store_error(store, sql);
		return NULL;
	}
	return store->statements[id] = stmt;
}

int store_step_done(struct store *store, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(store, sqlite3_sql(stmt));
	sqlite3_reset(stmt);
	return 0;
}

int64_t store_step_int64(struct store *store, sqlite3_stmt *stmt)
{
	int64_t value = -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	else
		store_error(store, sqlite3_sql(stmt));
	sqlite3_reset(stmt);
	return value;
}

void store_bind_text(sqlite3_stmt *stmt, int index, const char *value)
{
	if (value == NULL)
		sqlite3_bind_null(stmt, index);
	else
		sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
}

void store_column_copy(sqlite3_stmt *stmt, int i, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, i);
	snprintf(buf, size, "%s", text ? (const char *)text : "");
}

int store_begin(struct store *store) { return exec_sql(store, "BEGIN IMMEDIATE"); }
int store_commit(struct store *store)
{
	/* Nothing open: another user of this connection (an in-process sink) committed it. */
	if (sqlite3_get_autocommit(store->db))
		return 0;
	return exec_sql(store, "COMMIT");
}
void store_rollback(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		exec_sql(store, "ROLLBACK");
}

const char *const store_meta_sql[STMT_COUNT] = {
	[STMT_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
	[STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
};

int store_meta_set(struct store *store, const char *key, const char *value)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_META_SET);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, key);
	store_bind_text(stmt, 2, value);
	return store_step_done(store, stmt);
}

int store_meta_get(struct store *store, const char *key, char *buf, size_t buflen)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_META_GET);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, key);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *value = (const char *)sqlite3_column_text(stmt, 0);
		snprintf(buf, buflen, "%s", value ? value : "");
		sqlite3_reset(stmt);
		return 1;
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, "reading meta");
}

int store_schema_version(struct store *store)
{
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

/* ---- generic row iteration, for the listing verbs ---- */

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

const char *store_row_value(const struct store_row *row, const char *name)
{
	for (int i = 0; i < row->count; i++)
		if (strcmp(row->names[i], name) == 0)
			return row->values[i];
	return NULL;
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

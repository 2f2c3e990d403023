/* Shared by the store_*.c files only: the connection and statement cache. */
#ifndef PLUGHOLE_STORE_INTERNAL_H
#define PLUGHOLE_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

#define STORE_MAX_STATEMENTS 128

struct store {
	sqlite3 *db;
	char *path;
	/* Statements are prepared once, on first use, keyed by their SQL text's address. */
	const char *statement_sql[STORE_MAX_STATEMENTS];
	sqlite3_stmt *statements[STORE_MAX_STATEMENTS];
	int statement_count;
	/* Deflating transcripts (store_zlib.c): one stream and buffer, reused. */
	struct z_stream_s *deflater;
	unsigned char *deflated;
	size_t deflated_cap;
};

/* The prepared statement for sql (a static string), reset and unbound. */
sqlite3_stmt *store_statement(struct store *store, const char *sql);
/* Steps a statement that returns no rows; 0 or -1 (logged). */
int store_step_done(struct store *store, sqlite3_stmt *stmt);
/* Steps a statement whose first row's first column is an integer (a count, an id). */
int64_t store_step_int64(struct store *store, sqlite3_stmt *stmt);
/* Binds text, or NULL when value is NULL. */
void store_bind_text(sqlite3_stmt *stmt, int index, const char *value);
int store_error(struct store *store, const char *what);

/*
 * Deflates text for a transcript column (store_zlib.c): 1 with *out (valid
 * until the next call) when it is worth it, 0 to store the text as it is.
 */
int store_deflate(struct store *store, const char *text, size_t len, const void **out, size_t *out_len);
void store_deflate_free(struct store *store);
/* Adds sqlar_uncompress(), which reads deflated transcripts, to the connection. */
int store_register_functions(struct store *store);

/* The numbered migrations (store_schema.c). */
int store_migrate(struct store *store);

/* Runs a prepared query, calling fn with its column names, then each row.
 * Values are typed by SQLite's own type; SQLite has no boolean, so the
 * columns named in booleans (NULL-terminated, or NULL) are typed as such. */
int store_rows_each(struct store *store, sqlite3_stmt *stmt, store_row_fn fn, void *ctx);
int store_rows_each_with(struct store *store, sqlite3_stmt *stmt, const char *const *booleans, store_row_fn fn,
			 void *ctx);

#endif

/* SQL for suppression rules: addresses, domains and networks that never get letters. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

const char *const store_suppress_sql[STMT_COUNT] = {
	[STMT_SUPPRESS_ADD] =
	    "INSERT INTO suppressions(kind, value, first, last, reason, added) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT(kind, value) DO NOTHING",
	[STMT_SUPPRESS_REMOVE] = "DELETE FROM suppressions WHERE kind = ?1 AND value = ?2",
	[STMT_SUPPRESS_LIST] = "SELECT kind, value, reason, added FROM suppressions ORDER BY id",
	/*
	 * ?1 the contact (lowercase), ?2 its domain (lowercase, '' when none), ?3 the
	 * host's address (16 bytes, as rdap_cache) or NULL. A domain rule takes its
	 * subdomains: the contact's domain ends in "." and the rule's value. Address
	 * rules first, then domains, then networks, oldest first: the most specific.
	 */
	[STMT_SUPPRESSED] =
	    "SELECT kind, value, reason FROM suppressions WHERE (kind = 'address' AND value = ?1)"
	    " OR (kind = 'domain' AND (value = ?2 OR (length(?2) > length(value)"
	    "  AND substr(?2, length(?2) - length(value)) = '.' || value)))"
	    " OR (kind = 'network' AND ?3 IS NOT NULL AND first <= ?3 AND last >= ?3)"
	    " ORDER BY CASE kind WHEN 'address' THEN 0 WHEN 'domain' THEN 1 ELSE 2 END, id LIMIT 1",
};

int store_suppression_add(struct store *store, const char *kind, const char *value, const struct range *range,
			  const char *reason, time_t now)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_SUPPRESS_ADD);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, kind);
	store_bind_text(stmt, 2, value);
	if (range != NULL) {
		sqlite3_bind_blob(stmt, 3, range->first.bytes, sizeof range->first.bytes, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 4, range->last.bytes, sizeof range->last.bytes, SQLITE_STATIC);
	}
	store_bind_text(stmt, 5, reason);
	sqlite3_bind_int64(stmt, 6, (int64_t)now);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_changes(store->db) == 1;
}

int store_suppression_remove(struct store *store, const char *kind, const char *value)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_SUPPRESS_REMOVE);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, kind);
	store_bind_text(stmt, 2, value);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_changes(store->db) > 0;
}

int store_suppressions_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_SUPPRESS_LIST);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

int store_suppressed(struct store *store, const char *contact, const struct addr *address, char *rule,
		     size_t rulelen)
{
	char lower[512] = "";
	size_t n = contact ? strlen(contact) : 0;
	if (n >= sizeof lower)
		n = sizeof lower - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)contact[i]);
	lower[n] = '\0';
	const char *at = strrchr(lower, '@');
	sqlite3_stmt *stmt = store_statement(store, STMT_SUPPRESSED);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, lower);
	store_bind_text(stmt, 2, at ? at + 1 : "");
	if (address != NULL)
		sqlite3_bind_blob(stmt, 3, address->bytes, sizeof address->bytes, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && rule != NULL)
		snprintf(rule, rulelen, "%s %s%s: %s", (const char *)sqlite3_column_text(stmt, 0),
			 strcmp((const char *)sqlite3_column_text(stmt, 0), "domain") == 0 ? "@" : "",
			 (const char *)sqlite3_column_text(stmt, 1),
			 (const char *)sqlite3_column_text(stmt, 2));
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_error(store, "checking suppressions");
}

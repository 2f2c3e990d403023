/* SQL for exports: the DNSBL's listed hosts (reads findings, candidates, proofs; writes none). */
#include <string.h>

#include "store/store_internal.h"

/*
 * ?1: the verdicts listed, as ",a,b," (any number of them, one statement).
 * The hosts in address order (the candidates' own index: no sort), so a host
 * open on two ports comes as two adjacent rows. proved: when the sink
 * received the proof of the latest verdict (its token's), else when that
 * verdict was written (a web proxy's proof is its hit on the target, seen
 * during the probe).
 */
const char *const store_export_sql[STMT_COUNT] = {
	[STMT_DNSBL_ROWS] =
		"SELECT c.address, c.port, f.verdict, f.software,"
		" coalesce((SELECT max(p.received) FROM proofs p WHERE p.token = f.token), f.last_checked,"
		" f.first_checked, 0) AS proved"
		" FROM candidates c CROSS JOIN findings f ON f.candidate_id = c.id"
		" WHERE instr(?1, ',' || f.verdict || ',') > 0 ORDER BY c.address, c.port",
};

const char *store_dnsbl_sql(void) { return store_export_sql[STMT_DNSBL_ROWS]; }

int store_dnsbl_each(struct store *store, const char *const *verdicts, size_t n, store_dnsbl_fn fn, void *ctx)
{
	char list[512] = ",";
	size_t used = 1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(verdicts[i]);
		if (used + len + 2 > sizeof list)
			return store_error(store, "listing hosts: too many verdicts");
		memcpy(list + used, verdicts[i], len);
		used += len;
		list[used++] = ',';
		list[used] = '\0';
	}
	sqlite3_stmt *stmt = store_statement(store, STMT_DNSBL_ROWS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, list, (int)used, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		/* the strings are SQLite's own, valid until the next step: no copy */
		struct store_dnsbl_row row = {
			.address = (const char *)sqlite3_column_text(stmt, 0),
			.address_len = (size_t)sqlite3_column_bytes(stmt, 0),
			.port = (uint16_t)sqlite3_column_int(stmt, 1),
			.verdict = (const char *)sqlite3_column_text(stmt, 2),
			.software = (const char *)sqlite3_column_text(stmt, 3),
			.software_len = (size_t)sqlite3_column_bytes(stmt, 3),
			.proved = sqlite3_column_int64(stmt, 4),
		};
		if (row.address == NULL || row.verdict == NULL)
			continue;
		if (fn(ctx, &row) != 0) {
			sqlite3_reset(stmt);
			return -1;
		}
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, "listing the hosts to export");
}

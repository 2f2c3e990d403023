/* SQL for exports: the DNSBL's listed hosts (reads findings, candidates, proofs; writes none). */
#include <string.h>

#include "core/log.h"
#include "store/store_internal.h"

/*
 * ?1..?3: the verdicts listed (unused ones NULL, which matches nothing).
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
	" WHERE f.verdict IN (?1, ?2, ?3) ORDER BY c.address, c.port",
};

const char *store_dnsbl_sql(void)
{
	return store_export_sql[STMT_DNSBL_ROWS];
}

int store_dnsbl_each(struct store *store, const char *const *verdicts, size_t n, store_dnsbl_fn fn, void *ctx)
{
	if (n > STORE_DNSBL_VERDICTS_MAX) {
		log_error("store: listing hosts: at most %d verdicts", STORE_DNSBL_VERDICTS_MAX);
		return -1;
	}
	sqlite3_stmt *stmt = store_statement(store, STMT_DNSBL_ROWS);
	if (stmt == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_text(stmt, (int)i + 1, verdicts[i], -1, SQLITE_STATIC);
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

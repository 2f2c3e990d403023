/* SQL the remediation report reads: campaigns, rounds, campaign_round_outcomes, letters (store_report.h). */
#include "store/store_report.h"
#include "core/log.h"
#include "store/store_internal.h"

/* A letter reached its owner when it was sent and no bounce came back for it. */
#define LETTER_REACHED                                                                                       \
	"l.state = 'sent' AND NOT EXISTS (SELECT 1 FROM letter_returns r WHERE r.letter_id = l.id"           \
	" AND r.kind = 'bounce')"

const char *const store_report_sql[STMT_COUNT] = {
    [STMT_REPORT_CAMPAIGN] = "SELECT id, created, seed, control_fraction FROM campaigns WHERE name = ?1",
    [STMT_REPORT_ROUNDS] =
	"SELECT id, seq, started, finished, status FROM rounds WHERE campaign_id = ?1 AND kind = 'recheck'"
	" ORDER BY seq",
    /*
     * A campaign's hosts were frozen together: their rowids span one range, read
     * in table order (a look-up of each row through the campaign's index took
     * twice as long at a million hosts).
     */
    [STMT_REPORT_HOSTS] =
	"SELECT candidate_id, campaign_owner_id, verdict, software, country, agency, asn, as_name"
	" FROM campaign_hosts WHERE id BETWEEN (SELECT min(id) FROM campaign_hosts WHERE campaign_id = ?1)"
	" AND (SELECT max(id) FROM campaign_hosts WHERE campaign_id = ?1) AND +campaign_id = ?1",
    [STMT_REPORT_OWNERS] = "SELECT id, grp = 'control' FROM campaign_owners WHERE +campaign_id = ?1"
			   " AND id BETWEEN (SELECT min(id) FROM campaign_owners WHERE campaign_id = ?1)"
			   " AND (SELECT max(id) FROM campaign_owners WHERE campaign_id = ?1)",
    /* By candidate, the order of the campaign's hosts in their (campaign_id, candidate_id) index: no sort. */
    [STMT_REPORT_OUTCOMES] =
	"SELECT candidate_id, outcome FROM campaign_round_outcomes WHERE round_id = ?1 ORDER BY candidate_id",
    [STMT_REPORT_LETTERS] = "SELECT l.campaign_owner_id, max(l.previous_id IS NULL AND " LETTER_REACHED "),"
			    " max(l.previous_id IS NOT NULL AND " LETTER_REACHED ")"
			    " FROM letters l WHERE l.campaign_id = ?1 GROUP BY l.campaign_owner_id",
};

/* Large enough for a campaign of millions of hosts; a read-only mapping (no memory is allocated). */
#define REPORT_MMAP_BYTES "4294967296"

int store_report_begin(struct store *store)
{
	char *message = NULL;
	if (sqlite3_exec(store->db, "PRAGMA mmap_size = " REPORT_MMAP_BYTES "; BEGIN", NULL, NULL,
			 &message) != SQLITE_OK) {
		log_error("%s: starting the report's read: %s", store->path, message ? message : "failed");
		sqlite3_free(message);
		return -1;
	}
	return 0;
}

struct store *store_report_reopen(struct store *store)
{
	return store_open_mode(store->path, STORE_READ);
}

void store_report_end(struct store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "COMMIT", NULL, NULL, NULL);
}

static const char *text_or_null(sqlite3_stmt *stmt, int column)
{
	return (const char *)sqlite3_column_text(stmt, column);
}

/* The caller's function, by the kind of row. */
union row_fn {
	store_report_round_fn round;
	store_report_host_fn host;
	store_report_owner_fn owner;
	store_report_outcome_fn outcome;
	store_report_letters_fn letters;
};

/* Steps stmt to its end; row() calls the caller's function for each row. */
static int each_row(struct store *store, sqlite3_stmt *stmt, const char *what,
		    int (*row)(sqlite3_stmt *stmt, union row_fn fn, void *ctx), union row_fn fn, void *ctx)
{
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int stop = row(stmt, fn, ctx);
		if (stop != 0) {
			sqlite3_reset(stmt);
			return stop;
		}
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_error(store, what);
}

int store_report_campaign(struct store *store, const char *name, struct store_report_campaign *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REPORT_CAMPAIGN);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, name);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(stmt, 0);
		out->created = sqlite3_column_int64(stmt, 1);
		out->seed = sqlite3_column_int64(stmt, 2);
		out->control_fraction = sqlite3_column_double(stmt, 3);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(store, "finding a campaign");
	return rc == SQLITE_ROW;
}

static int round_row(sqlite3_stmt *stmt, union row_fn fn, void *ctx)
{
	struct store_report_round r = {
	    .id = sqlite3_column_int64(stmt, 0),
	    .seq = sqlite3_column_int64(stmt, 1),
	    .started = sqlite3_column_int64(stmt, 2),
	    .finished = sqlite3_column_int64(stmt, 3),
	    .status = text_or_null(stmt, 4),
	};
	return fn.round(ctx, &r);
}

int store_report_rounds_each(struct store *store, int64_t campaign_id, store_report_round_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REPORT_ROUNDS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return each_row(store, stmt, "reading rounds", round_row, (union row_fn){.round = fn}, ctx);
}

static int host_row(sqlite3_stmt *stmt, union row_fn fn, void *ctx)
{
	struct store_report_host h = {
	    .candidate_id = sqlite3_column_int64(stmt, 0),
	    .owner_id = sqlite3_column_int64(stmt, 1),
	    .verdict = text_or_null(stmt, 2),
	    .software = text_or_null(stmt, 3),
	    .country = text_or_null(stmt, 4),
	    .agency = text_or_null(stmt, 5),
	    .asn = sqlite3_column_int64(stmt, 6),
	    .as_name = text_or_null(stmt, 7),
	};
	return fn.host(ctx, &h);
}

int store_report_hosts_each(struct store *store, int64_t campaign_id, store_report_host_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REPORT_HOSTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return each_row(store, stmt, "reading campaign hosts", host_row, (union row_fn){.host = fn}, ctx);
}

static int owner_row(sqlite3_stmt *stmt, union row_fn fn, void *ctx)
{
	return fn.owner(ctx, sqlite3_column_int64(stmt, 0), sqlite3_column_int(stmt, 1) != 0);
}

int store_report_owners_each(struct store *store, int64_t campaign_id, store_report_owner_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REPORT_OWNERS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return each_row(store, stmt, "reading campaign owners", owner_row, (union row_fn){.owner = fn}, ctx);
}

static int outcome_row(sqlite3_stmt *stmt, union row_fn fn, void *ctx)
{
	return fn.outcome(ctx, sqlite3_column_int64(stmt, 0), text_or_null(stmt, 1));
}

int store_report_outcomes_each(struct store *store, int64_t round_id, store_report_outcome_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REPORT_OUTCOMES);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, round_id);
	return each_row(store, stmt, "reading round outcomes", outcome_row, (union row_fn){.outcome = fn},
			ctx);
}

static int letters_row(sqlite3_stmt *stmt, union row_fn fn, void *ctx)
{
	return fn.letters(ctx, sqlite3_column_int64(stmt, 0), sqlite3_column_int(stmt, 1) != 0,
			  sqlite3_column_int(stmt, 2) != 0);
}

int store_report_letters_each(struct store *store, int64_t campaign_id, store_report_letters_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_REPORT_LETTERS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return each_row(store, stmt, "reading letters", letters_row, (union row_fn){.letters = fn}, ctx);
}

/* Shared by the store_*.c files only: the connection, the statements, the helpers. */
#ifndef PLUGHOLE_STORE_INTERNAL_H
#define PLUGHOLE_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/*
 * Every statement, by the file that holds its SQL (the file of the tables it
 * writes, or reads when it writes none). A file gives its SQL in its own
 * store_<file>_sql[] table, indexed by these ids (designated initializers);
 * store.c prepares each on first use. A new statement: an id here, under its
 * file, and its text in that file's table (test_store_statements checks both).
 */
enum store_stmt {
	/* store.c: meta */
	STMT_META_SET,
	STMT_META_GET,
	/* store_candidates.c: candidates, candidate_sources, sources, ingest_runs */
	STMT_SOURCE_UPSERT,
	STMT_CANDIDATE_INSERT,
	STMT_CANDIDATE_TOUCH,
	STMT_CANDIDATE_SOURCE,
	STMT_CANDIDATE_COUNT,
	STMT_INGEST_RUN,
	STMT_CANDIDATES_PENDING,
	STMT_CANDIDATE_ID,
	/* store_probes.c: verify_runs, probes */
	STMT_RUN_BEGIN,
	STMT_RUN_END,
	STMT_PROBE_PUT,
	STMT_PROBE_ANSWER,
	STMT_MESSAGES_UNKNOWN,
	STMT_MESSAGES_GONE,
	STMT_PROBE_LAST_STARTED,
	/* store_findings.c: findings */
	STMT_FINDING_PUT,
	STMT_FINDING_PROVEN,
	STMT_RECONCILE_SENT,
	STMT_RECONCILE_PROVEN_NEW,
	STMT_RECONCILE_PROVEN,
	STMT_FINDINGS_FROM_ROUNDS_NEW,
	STMT_FINDINGS_FROM_ROUNDS,
	STMT_FINDINGS_ALL,
	STMT_FINDINGS_WITH_TRANSCRIPT,
	/* store_proofs.c: proofs, and their bindings to probes (the proof_bindings view) */
	STMT_PROOF_INSERT,
	STMT_PROOF_COUNT,
	STMT_PROOFS_ALL,
	STMT_PROOF_LAST,
	STMT_PROOFS_SINCE,
	STMT_PROOF_FIND,
	/* store_sink.c: sink_rejects, target_hits */
	STMT_REJECT_INSERT,
	STMT_TARGET_HIT_INSERT,
	STMT_TARGET_HIT_FIND,
	/* store_attrib.c: attrib_snapshots, attrib_snapshot_parts, rdap_cache, owners, attributions */
	STMT_SNAPSHOT_DELETE,
	STMT_SNAPSHOT_INSERT,
	STMT_ATTRIBUTIONS_FORGET,
	STMT_PART_INSERT,
	STMT_SNAPSHOT_LIST,
	STMT_PART_LIST,
	STMT_SNAPSHOT_ROWS,
	STMT_RDAP_GET,
	STMT_RDAP_DELETE,
	STMT_RDAP_INSERT,
	STMT_ATTRIBUTION_PENDING,
	STMT_OWNER_UPSERT,
	STMT_ATTRIBUTION_UPSERT,
	STMT_OWNERS,
	STMT_OWNERS_OPEN,
	STMT_ATTRIBUTION_COUNTS,
	STMT_ATTRIBUTIONS,
	/* store_campaigns.c: campaigns, campaign_owners, campaign_hosts, letters, letter_attempts */
	STMT_OPEN_FINDINGS,
	STMT_CAMPAIGN_INSERT,
	STMT_CAMPAIGN_ID,
	STMT_CAMPAIGN_OWNER_INSERT,
	STMT_HOST_INSERT,
	STMT_LETTER_INSERT,
	STMT_LETTER_TICKET_TAKEN,
	STMT_LETTER_SET_STATE,
	STMT_LETTER_STATE,
	STMT_ATTEMPT_BEGIN,
	STMT_ATTEMPT_END,
	STMT_CAMPAIGNS,
	STMT_CAMPAIGN_HOSTS,
	STMT_LETTERS,
	STMT_LETTER_HOSTS,
	STMT_LETTER_SCHEDULE,
	STMT_ATTEMPTS_COUNT,
	STMT_LAST_ATTEMPT,
	STMT_LETTER_BY_TICKET,
	STMT_LETTER_EXISTS,
	STMT_RETURN_PUT,
	/* store_suppress.c: suppressions */
	STMT_SUPPRESS_ADD,
	STMT_SUPPRESS_REMOVE,
	STMT_SUPPRESS_LIST,
	STMT_SUPPRESSED,
	/* store_rounds.c: rounds, round_findings, campaign_schedules */
	STMT_ROUND_BEGIN,
	STMT_ROUND_END,
	STMT_ROUND_GET,
	STMT_ROUNDS_RUNNING,
	STMT_RECHECK_LAST,
	STMT_OWNER_ROUNDS_SINCE,
	STMT_ROUND_FINDING_PUT,
	STMT_ROUND_FINDING_PROVEN,
	STMT_ROUND_RECONCILE_SENT,
	STMT_ROUND_RECONCILE_PROVEN_NEW,
	STMT_ROUND_RECONCILE_PROVEN,
	STMT_ROUND_FINDINGS,
	STMT_ROUND_FINDINGS_WITH_TRANSCRIPT,
	STMT_HISTORY,
	STMT_HISTORY_WITH_TRANSCRIPT,
	STMT_ROUND_VERDICTS,
	STMT_RECHECK_HOSTS,
	STMT_ROUND_OUTCOMES,
	STMT_SCHEDULE_SET,
	STMT_SCHEDULES,
	STMT_CAMPAIGN_CREATED,
	/* store_web.c: the owners' web (reads campaigns, letters, rounds, proofs; writes nothing) */
	STMT_WEB_CAMPAIGN_CURRENT,
	STMT_WEB_CAMPAIGN_LANGUAGES,
	STMT_WEB_TICKET,
	STMT_WEB_TICKET_HOSTS,
	STMT_WEB_BOUNCES,
	STMT_WEB_ROUNDS,
	STMT_WEB_OUTCOMES,
	STMT_WEB_PROOFS_RECENT,
	STMT_WEB_REJECTS_RECENT,
	/* store_export.c: reads findings, candidates, proofs */
	STMT_DNSBL_ROWS,
	/* store_report.c: reads campaigns, rounds and campaign_round_outcomes, letters, letter_returns */
	STMT_REPORT_CAMPAIGN,
	STMT_REPORT_ROUNDS,
	STMT_REPORT_HOSTS,
	STMT_REPORT_OWNERS,
	STMT_REPORT_OUTCOMES,
	STMT_REPORT_LETTERS,
	STMT_COUNT
};

/* Each file's SQL, indexed by enum store_stmt; NULL for the ids of other files. */
extern const char *const store_meta_sql[STMT_COUNT], *const store_candidates_sql[STMT_COUNT],
	*const store_probes_sql[STMT_COUNT], *const store_findings_sql[STMT_COUNT],
	*const store_proofs_sql[STMT_COUNT], *const store_sink_sql[STMT_COUNT],
	*const store_attrib_sql[STMT_COUNT], *const store_campaigns_sql[STMT_COUNT],
	*const store_suppress_sql[STMT_COUNT], *const store_rounds_sql[STMT_COUNT],
	*const store_web_sql[STMT_COUNT], *const store_export_sql[STMT_COUNT], *const store_report_sql[STMT_COUNT];
/* All of them (store.c): a new file's table is added there. */
extern const char *const *const store_sql_tables[];
extern const size_t store_sql_table_count;
/* The SQL of id: the one table that gives it; NULL (logged) when none or more than one does. */
const char *store_sql(enum store_stmt id);

/* A test message that may have gone (its fate unknown after a crash): a relay gets one, ever. */
#define STORE_MESSAGE_MAY_HAVE_GONE "outcome IS NOT 'message-withdrawn'"

struct store {
	sqlite3 *db;
	char *path;
	/* Prepared once, on first use (store_statement). */
	sqlite3_stmt *statements[STMT_COUNT];
	/* Deflating transcripts (store_zlib.c): one stream and buffer, reused. */
	struct z_stream_s *deflater;
	unsigned char *deflated;
	size_t deflated_cap;
};

/* The prepared statement id, reset and unbound; NULL (logged) when it does not prepare. */
sqlite3_stmt *store_statement(struct store *store, enum store_stmt id);
/* Steps a statement that returns no rows; 0 or -1 (logged). */
int store_step_done(struct store *store, sqlite3_stmt *stmt);
/* Steps a statement whose first row's first column is an integer (a count, an id). */
int64_t store_step_int64(struct store *store, sqlite3_stmt *stmt);
/* Binds text, or NULL when value is NULL. */
void store_bind_text(sqlite3_stmt *stmt, int index, const char *value);
/* Column i of the current row as text into buf ("" for NULL), cut to fit. */
void store_column_copy(sqlite3_stmt *stmt, int i, char *buf, size_t size);
int store_error(struct store *store, const char *what);

/*
 * Deflates text for a transcript column (store_zlib.c): 1 with *out (valid
 * until the next call) when it is worth it, 0 to store the text as it is.
 */
int store_deflate(struct store *store, const char *text, size_t len, const void **out, size_t *out_len);
void store_deflate_free(struct store *store);
/* Adds sqlar_uncompress(), which reads deflated transcripts, to the connection. */
int store_register_functions(struct store *store);

/* findings from what a reconcile wrote into rounds for runs that never ended (store_findings.c). */
int store_findings_from_rounds(struct store *store);

/* The numbered migrations (store_schema.c). */
int store_migrate(struct store *store);

/* Runs a prepared query (store.c), calling fn with its column names, then each row.
 * Values are typed by SQLite's own type; SQLite has no boolean, so the
 * columns named in booleans (NULL-terminated, or NULL) are typed as such. */
int store_rows_each(struct store *store, sqlite3_stmt *stmt, store_row_fn fn, void *ctx);
int store_rows_each_with(struct store *store, sqlite3_stmt *stmt, const char *const *booleans, store_row_fn fn,
			 void *ctx);

#endif

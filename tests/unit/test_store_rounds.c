/* Rounds in the store: each verdict's round row, late proofs, and what a crash leaves in a round. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka wants setjmp, stdarg, stddef and stdint first; blank lines keep clang-format from sorting it up */

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char dir[] = "/tmp/plughole-rounds-XXXXXX";

static int64_t candidate(struct store *store, const char *text, uint16_t port)
{
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	int64_t source = store_source_id(store, "s", NULL);
	assert_true(store_candidate_put(store, &a, port, source, 1) >= 0);
	return store_candidate_id(store, &a, port);
}

/* The first column of the first row of sql, as text ("-" for none or NULL). */
static const char *one(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	const unsigned char *text = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : NULL;
	snprintf(out, size, "%s", text ? (const char *)text : "-");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return out;
}

static void path_of(char *path, size_t size, const char *name) { snprintf(path, size, "%s/%s", dir, name); }

/* A verdict goes to findings and to its run's round; a late proof upgrades both; findings stays the latest. */
static void a_verdict_is_written_to_its_round(void **unused)
{
	char path[256], text[128];
	path_of(path, sizeof path, "put.db");
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t id = candidate(store, "192.0.2.25", 25);
	int64_t first = store_round_begin(store, "verify", 0, 0, NULL, 1000);
	int64_t run = store_run_begin_in(store, 1000, 10, 0, false, first);
	struct finding f = {.candidate_id = id, .verdict = "relay-accepted", .test = "relay", .variant = "plain",
			    .token = "pht1", .transcript = "220 hello", .checked = 1001, .run = run};
	assert_int_equal(store_finding_put(store, &f), 0);
	assert_int_equal(store_finding_proven(store, run, id, "open-relay", NULL, "pht1", "192.0.2.25:999", 1005), 0);
	/* a recheck finds it closed: its own row, findings the latest, the first round kept */
	int64_t recheck = store_round_begin(store, "recheck", 0, 1, NULL, 2000);
	int64_t run2 = store_run_begin_in(store, 2000, 10, 0, false, recheck);
	struct finding g = {.candidate_id = id, .verdict = "closed", .test = "relay", .checked = 2001, .run = run2};
	assert_int_equal(store_finding_put(store, &g), 0);
	/* a run outside rounds writes findings only */
	int64_t loose = store_run_begin(store, 3000, 10, 0, false);
	int64_t other = candidate(store, "192.0.2.26", 25);
	struct finding h = {.candidate_id = other, .verdict = "closed", .test = "relay", .checked = 3001, .run = loose};
	assert_int_equal(store_finding_put(store, &h), 0);
	store_close(store);
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT verdict || ' ' || token || ' ' || exit_address || ' ' || checked || ' ' || run_id"
		 " FROM round_findings WHERE round_id = %lld",
		 (long long)first);
	snprintf(text, sizeof text, "open-relay pht1 192.0.2.25:999 1005 %lld", (long long)run);
	char got[128];
	assert_string_equal(one(path, sql, got, sizeof got), text);
	snprintf(sql, sizeof sql, "SELECT verdict FROM round_findings WHERE round_id = %lld", (long long)recheck);
	assert_string_equal(one(path, sql, got, sizeof got), "closed");
	assert_string_equal(one(path, "SELECT verdict FROM findings WHERE candidate_id = 1", got, sizeof got), "closed");
	assert_string_equal(one(path, "SELECT count(*) FROM round_findings", got, sizeof got), "2");
	/* short: kept as it is (store_zlib.c deflates 256 bytes or more) */
	assert_string_equal(one(path, "SELECT transcript FROM round_findings WHERE transcript IS NOT NULL", got, sizeof got),
			    "220 hello");
}

/*
 * A run killed mid-round: its messages get their verdicts in its round. In a
 * recheck a message only recorded as due is 'timeout' (inconclusive: the round
 * needs a row for the host, the relay no second message); in a plain verify it
 * gives none. A proof bound to the round's probe upgrades the row, and findings
 * follows the newer row. An owner check still running is left alone, unless it
 * is the caller's own round.
 */
static void a_crash_is_reconciled_in_its_round(void **unused)
{
	char path[256], got[128];
	path_of(path, sizeof path, "crash.db");
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t a = candidate(store, "192.0.2.30", 25), b = candidate(store, "192.0.2.31", 25),
		c = candidate(store, "192.0.2.32", 25), d = candidate(store, "192.0.2.33", 25);
	/* round 1, a done verify: a and b open, with findings */
	int64_t verify = store_round_begin(store, "verify", 0, 0, NULL, 100);
	int64_t run1 = store_run_begin_in(store, 100, 10, 0, false, verify);
	struct finding fa = {.candidate_id = a, .verdict = "open-relay", .test = "relay", .checked = 101, .run = run1};
	struct finding fb = {.candidate_id = b, .verdict = "open-relay", .test = "relay", .checked = 101, .run = run1};
	assert_int_equal(store_finding_put(store, &fa), 0);
	assert_int_equal(store_finding_put(store, &fb), 0);
	assert_int_equal(store_run_end(store, run1, 102, "done"), 0);
	assert_int_equal(store_round_end(store, verify, "done", 102), 0);
	/* a recheck killed: a's message due, b's sent (250), no verdicts written */
	int64_t recheck = store_round_begin(store, "recheck", 0, 1, NULL, 200);
	int64_t run2 = store_run_begin_in(store, 200, 10, 0, false, recheck);
	assert_int_equal(store_probe_put(store, run2, a, "relay", "plain", "phra", 200, "message-due", NULL), 0);
	assert_int_equal(store_probe_put(store, run2, b, "relay", "plain", "phrb", 200, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, run2, "phrb", "message-sent", "250 ok", 201), 0);
	/* a plain verify killed too: c's message due (no verdict), d's refused (closed) */
	int64_t verify2 = store_round_begin(store, "verify", 0, 0, NULL, 300);
	int64_t run3 = store_run_begin_in(store, 300, 10, 0, false, verify2);
	assert_int_equal(store_probe_put(store, run3, c, "relay", "plain", "phrc", 300, "message-due", NULL), 0);
	assert_int_equal(store_probe_put(store, run3, d, "relay", "plain", "phrd", 300, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, run3, "phrd", "message-refused", "554 no", 301), 0);
	/* an owner check, still running elsewhere, with a message due */
	int64_t owner = store_round_begin(store, "owner", 0, 0, "ticket:T", 400);
	int64_t run4 = store_run_begin_in(store, 400, 10, 0, false, owner);
	assert_int_equal(store_probe_put(store, run4, a, "relay", "plain", "phro", 400, "message-due", NULL), 0);
	/* b's message arrives: proof bound to the recheck's probe */
	struct proof p = {.token = "phrb", .port = 25, .peer = "192.0.2.31:5000", .received = 205};
	assert_int_equal(addr_parse("192.0.2.31", 10, &p.address), 0);
	assert_int_equal(store_proof_put(store, &p), 1);

	assert_int_equal(store_findings_reconcile(store), 1); /* d's finding: closed */
	assert_true(store_round_reconcile(store, 0, true) >= 3);
	assert_int_equal(store_round_reconcile(store, 0, true), 0); /* nothing left */
	char sql[256];
#define ROW(round, cand)                                                                                            \
	(snprintf(sql, sizeof sql, "SELECT verdict FROM round_findings WHERE round_id = %lld AND candidate_id = %lld", \
		  (long long)(round), (long long)(cand)),                                                           \
	 one(path, sql, got, sizeof got))
	assert_string_equal(ROW(recheck, a), "timeout");
	assert_string_equal(ROW(recheck, b), "open-relay");
	assert_string_equal(ROW(verify2, c), "-");
	assert_string_equal(ROW(verify2, d), "closed");
	assert_string_equal(ROW(owner, a), "-");
	/* findings follows the newer rows: a's timeout is the latest now */
	snprintf(sql, sizeof sql, "SELECT verdict || ' ' || run_id FROM findings WHERE candidate_id = %lld", (long long)a);
	char want[64];
	snprintf(want, sizeof want, "timeout %lld", (long long)run2);
	assert_string_equal(one(path, sql, got, sizeof got), want);
	/* the owner check reconciles its own round */
	assert_true(store_round_reconcile(store, owner, false) >= 1);
	assert_string_equal(ROW(owner, a), "timeout");
#undef ROW
	store_close(store);
}

static int setup(void **unused) { return mkdtemp(dir) == NULL ? -1 : 0; }

static int teardown(void **unused)
{
	char command[300];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_verdict_is_written_to_its_round),
		cmocka_unit_test(a_crash_is_reconciled_in_its_round),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

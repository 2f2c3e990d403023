/* The store, the exclusion list and the config table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/config.h"
#include "core/exclude.h"
#include "store/store.h"

static char dir[] = "/tmp/plughole-store-XXXXXX";

static struct addr A(const char *text)
{
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	return a;
}

static void candidates_are_stored_once_with_sources(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/a.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	assert_true(store_schema_version(store) >= 2);
	int64_t feed_a = store_source_id(store, "feed-a", "plain");
	int64_t feed_b = store_source_id(store, "feed-b", "csv");
	assert_true(feed_a > 0 && feed_b > 0 && feed_a != feed_b);
	assert_int_equal(store_source_id(store, "feed-a", NULL), feed_a);
	struct addr a = A("192.0.2.1"), b = A("2001:db8::1");
	assert_int_equal(store_candidate_put(store, &a, 25, feed_a, 1000), 1);
	assert_int_equal(store_candidate_put(store, &a, 25, feed_b, 2000), 0);
	assert_int_equal(store_candidate_put(store, &a, 587, feed_a, 2000), 1);
	assert_int_equal(store_candidate_put(store, &b, 25, feed_a, 2000), 1);
	assert_int_equal(store_candidate_count(store), 3);
	store_close(store);
	/* reopening applies no migration twice and keeps the data */
	store = store_open(path);
	assert_non_null(store);
	assert_int_equal(store_candidate_count(store), 3);
	assert_int_equal(store_meta_set(store, "k", "v1"), 0);
	assert_int_equal(store_meta_set(store, "k", "v2"), 0);
	char value[16];
	assert_int_equal(store_meta_get(store, "k", value, sizeof value), 1);
	assert_string_equal(value, "v2");
	assert_int_equal(store_meta_get(store, "absent", value, sizeof value), 0);
	store_close(store);
}

static void two_connections_share_one_database(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/b.db", dir);
	struct store *writer = store_open(path), *other = store_open(path);
	assert_non_null(writer);
	assert_non_null(other);
	int64_t source = store_source_id(writer, "s", NULL);
	assert_int_equal(store_begin(writer), 0);
	struct addr a = A("192.0.2.9");
	assert_int_equal(store_candidate_put(writer, &a, 25, source, 1), 1);
	assert_int_equal(store_candidate_count(other), 0); /* WAL: readers see the last commit */
	assert_int_equal(store_commit(writer), 0);
	assert_int_equal(store_candidate_count(other), 1);
	struct proof proof = {.token = "phx", .address = a, .port = 25, .peer = "127.0.0.1:1", .received = 5};
	assert_int_equal(store_proof_put(other, &proof), 1);
	assert_int_equal(store_proof_put(writer, &proof), 0); /* the same token twice is one proof */
	assert_int_equal(store_proof_count(writer), 1);
	store_close(writer);
	store_close(other);
}

static const char *verdict_of(const char *path, int64_t id, char *out, size_t size)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT verdict || ' ' || coalesce(exit_address, '-') FROM findings"
					    " WHERE candidate_id = ?", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	snprintf(out, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return out;
}

static int64_t count_of(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static int64_t candidate(struct store *store, const char *text, uint16_t port)
{
	struct addr a = A(text);
	int64_t source = store_source_id(store, "s", NULL);
	assert_true(store_candidate_put(store, &a, port, source, 1) >= 0);
	return store_candidate_id(store, &a, port);
}

static struct proof proof_of(const char *token, const char *address, uint16_t port, const char *peer, time_t when)
{
	return (struct proof){.token = token, .address = A(address), .port = port, .peer = peer, .received = when};
}

/*
 * A proof stored after the verdict (a sink in another process, or late)
 * upgrades the verdict of the run whose probe sent its token, whatever the
 * server answered (issue 11, item 3): a relay that refused the message after
 * the dot or never answered it, a proxy whose tunnel carried it. The evidence
 * is that message's: its token, variant and deliverer.
 */
static void late_proofs_upgrade_their_runs_verdicts(void **unused)
{
	char path[256], text[80];
	snprintf(path, sizeof path, "%s/late.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t run = store_run_begin(store, 1000, 60, 0, true);
	assert_true(run > 0);
	int64_t ids[] = {candidate(store, "192.0.2.25", 25), candidate(store, "192.0.2.80", 8080),
			 candidate(store, "192.0.2.81", 8080), candidate(store, "192.0.2.26", 25),
			 candidate(store, "192.0.2.27", 25)};
	assert_int_equal(store_probe_put(store, run, ids[0], "relay", "plain", "pha0", 1000, "message-due", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[0], "relay", "percent-hack", "pha1", 1001, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, run, "pha0", "message-sent", "250 ok", 1001), 0);
	assert_int_equal(store_probe_answer(store, run, "pha1", "message-sent", "250 ok", 1002), 0);
	assert_int_equal(store_probe_put(store, run, ids[1], "proxy", "mail", "phb", 1000, "message-sent", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[3], "relay", "plain", "phc", 1000, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, run, "phc", "message-refused", "554 no", 1001), 0);
	assert_int_equal(store_probe_put(store, run, ids[4], "relay", "plain", "phd", 1000, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, run, "phd", "message-written", NULL, 1000), 0);
	struct finding f[] = {
		{.candidate_id = ids[0], .verdict = "relay-accepted", .test = "relay", .variant = "percent-hack",
		 .checked = 1002, .run = run},
		{.candidate_id = ids[1], .verdict = "open-proxy-web", .test = "proxy", .checked = 1002, .run = run},
		{.candidate_id = ids[2], .verdict = "closed", .test = "proxy", .checked = 1002, .run = run},
		{.candidate_id = ids[3], .verdict = "closed", .test = "relay", .checked = 1002, .run = run},
		{.candidate_id = ids[4], .verdict = "timeout", .test = "relay", .checked = 1002, .run = run},
	};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(store_finding_put(store, &f[i]), 0);
	assert_int_equal(store_run_end(store, run, 1003, "done"), 0);
	struct proof proofs[] = {
		proof_of("pha0", "192.0.2.25", 25, "192.0.2.25:4000", 1010), /* the first message's, late */
		proof_of("phb", "192.0.2.80", 8080, "198.51.100.7:5000", 1003),
		proof_of("phc", "192.0.2.26", 25, "192.0.2.26:4001", 1030),
		proof_of("phd", "192.0.2.27", 25, "192.0.2.27:4002", 1050),
	};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(store_proof_put(store, &proofs[i]), 1);
	assert_int_equal(store_findings_reconcile(store), 4);
	assert_int_equal(store_findings_reconcile(store), 0); /* nothing left to do */
	store_close(store);
	assert_string_equal(verdict_of(path, ids[0], text, sizeof text), "open-relay 192.0.2.25:4000");
	assert_string_equal(verdict_of(path, ids[1], text, sizeof text), "open-proxy-mail 198.51.100.7:5000");
	assert_string_equal(verdict_of(path, ids[2], text, sizeof text), "closed -");
	assert_string_equal(verdict_of(path, ids[3], text, sizeof text), "open-relay 192.0.2.26:4001");
	assert_string_equal(verdict_of(path, ids[4], text, sizeof text), "open-relay 192.0.2.27:4002");
	/* the variant beside the token is that message's, not the last one sent */
	assert_int_equal(count_of(path, "SELECT count(*) FROM findings WHERE token = 'pha0' AND variant = 'plain'"), 1);
}

/*
 * A proof counts only through a probe of the run that wrote the verdict
 * (issue 11, items 1 and 2): a token no probe sent (made by hand with
 * 'plughole token') changes nothing and is listed apart; a proof of an
 * earlier run's probe does not keep a host that now refuses open; a proof
 * received outside its probe's window, or of a withdrawn message, counts for
 * nothing.
 */
static void proofs_count_only_for_their_own_runs_probes(void **unused)
{
	char path[256], text[80];
	snprintf(path, sizeof path, "%s/bound.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t accepted = candidate(store, "192.0.2.40", 25), proxy = candidate(store, "192.0.2.41", 3128),
		late = candidate(store, "192.0.2.42", 25), withdrawn = candidate(store, "192.0.2.43", 25);
	/* run 1: the proxy is open, proven by its message */
	int64_t first = store_run_begin(store, 1000, 10, 0, false);
	assert_int_equal(store_probe_put(store, first, proxy, "proxy", "mail", "phold", 1000, "message-sent", NULL), 0);
	struct proof old = proof_of("phold", "192.0.2.41", 3128, "192.0.2.41:6000", 1001);
	assert_int_equal(store_proof_put(store, &old), 1);
	struct finding open = {.candidate_id = proxy, .verdict = "open-proxy-mail", .test = "proxy",
			       .token = "phold", .exit_address = "192.0.2.41:6000", .checked = 1001, .run = first};
	assert_int_equal(store_finding_put(store, &open), 0);
	assert_int_equal(store_run_end(store, first, 1002, "done"), 0);
	/* run 2: the proxy now answers 403; the relay takes a message that never arrives; a
	 * message goes, its proof comes an hour late; a message withdrawn */
	int64_t second = store_run_begin(store, 5000, 10, 0, false);
	assert_int_equal(store_probe_put(store, second, accepted, "relay", "plain", "phacc", 5000, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, second, "phacc", "message-sent", "250 ok", 5001), 0);
	assert_int_equal(store_probe_put(store, second, late, "relay", "plain", "phlate", 5000, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, second, "phlate", "message-sent", "250 ok", 5001), 0);
	assert_int_equal(store_probe_put(store, second, withdrawn, "relay", "plain", "phwd", 5000, "message-due", NULL), 0);
	assert_int_equal(store_probe_answer(store, second, "phwd", "message-withdrawn", "not sent", 5000), 0);
	struct finding f[] = {
		{.candidate_id = proxy, .verdict = "closed", .test = "proxy", .checked = 5001, .run = second},
		{.candidate_id = accepted, .verdict = "relay-accepted", .test = "relay", .checked = 5001, .run = second},
		{.candidate_id = late, .verdict = "relay-accepted", .test = "relay", .checked = 5001, .run = second},
		{.candidate_id = withdrawn, .verdict = "closed", .test = "relay", .checked = 5001, .run = second},
	};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(store_finding_put(store, &f[i]), 0);
	assert_int_equal(store_run_end(store, second, 5002, "done"), 0);
	struct proof by_hand = proof_of("phhand", "192.0.2.40", 25, "127.0.0.1:7000", 5001);
	struct proof too_late = proof_of("phlate", "192.0.2.42", 25, "192.0.2.42:7001", 5001 + 10 + 600 + 1);
	struct proof never_sent = proof_of("phwd", "192.0.2.43", 25, "192.0.2.43:7002", 5001);
	assert_int_equal(store_proof_put(store, &by_hand), 1);
	assert_int_equal(store_proof_put(store, &too_late), 1);
	assert_int_equal(store_proof_put(store, &never_sent), 1);
	assert_int_equal(store_findings_reconcile(store), 0);
	/* in the run, only the run's own tokens bind */
	char variant[32];
	assert_int_equal(store_proof_bound(store, first, "phold", variant, sizeof variant), 1);
	assert_string_equal(variant, "mail");
	assert_int_equal(store_proof_bound(store, second, "phold", variant, sizeof variant), 0);
	assert_int_equal(store_proof_bound(store, second, "phhand", variant, sizeof variant), 0);
	uint8_t test;
	char peer[64];
	assert_int_equal(store_proof_find(store, second, "phold", &test, peer, sizeof peer), 0);
	assert_int_equal(store_proof_find(store, first, "phold", &test, peer, sizeof peer), 1);
	store_close(store);
	assert_string_equal(verdict_of(path, proxy, text, sizeof text), "closed -"); /* not the old exit either */
	assert_string_equal(verdict_of(path, accepted, text, sizeof text), "relay-accepted -");
	assert_string_equal(verdict_of(path, late, text, sizeof text), "relay-accepted -");
	assert_string_equal(verdict_of(path, withdrawn, text, sizeof text), "closed -");
	assert_int_equal(count_of(path, "SELECT count(*) FROM findings WHERE token IS NOT NULL"), 0);
}

/* Collects the status column of store_proofs_each rows, in order. */
static void take_status(void *ctx, const struct store_row *row)
{
	for (int i = 0; row->values && i < row->count; i++)
		if (strcmp(row->names[i], "status") == 0)
			strcat(ctx, row->values[i][0] == 'b' ? "b" : "u");
}

/* 'plughole proofs' shows the proofs no probe sent apart: after the bound ones. */
static void unmatched_proofs_are_listed_apart(void **unused)
{
	char path[256], order[16] = "";
	snprintf(path, sizeof path, "%s/listing.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t id = candidate(store, "192.0.2.50", 25);
	int64_t run = store_run_begin(store, 1000, 10, 0, false);
	assert_int_equal(store_probe_put(store, run, id, "relay", "plain", "phsent", 1000, "message-sent", NULL), 0);
	struct proof hand = proof_of("phhand", "192.0.2.50", 25, "127.0.0.1:1", 1001);
	struct proof sent = proof_of("phsent", "192.0.2.50", 25, "192.0.2.50:2", 1002);
	assert_int_equal(store_proof_put(store, &hand), 1);
	assert_int_equal(store_proof_put(store, &sent), 1);
	assert_int_equal(store_proofs_each(store, take_status, order), 0);
	assert_string_equal(order, "bu");
	store_close(store);
}

/* Remembers the tokens store_proofs_since hands over. */
static void take_token(void *ctx, const struct proof *proof)
{
	strcat(ctx, proof->token);
	strcat(ctx, " ");
}

/* An external sink's proofs are read by id, in order, in batches. */
static void new_proofs_are_read_by_id(void **unused)
{
	char path[256], got[64] = "";
	snprintf(path, sizeof path, "%s/poll.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	assert_int_equal(store_proof_last_id(store), 0);
	struct proof a = proof_of("pha", "192.0.2.1", 25, "p:1", 1), b = proof_of("phb", "192.0.2.2", 25, "p:2", 2),
		     c = proof_of("phc", "2001:db8::3", 25, "p:3", 3);
	store_proof_put(store, &a);
	int64_t seen = store_proof_last_id(store);
	store_proof_put(store, &b);
	store_proof_put(store, &c);
	seen = store_proofs_since(store, seen, 1, take_token, got);
	assert_string_equal(got, "phb ");
	seen = store_proofs_since(store, seen, 10, take_token, got);
	assert_string_equal(got, "phb phc ");
	assert_int_equal(store_proofs_since(store, seen, 10, take_token, got), seen);
	store_close(store);
}

/* After a crash or a stop, a relay whose message went (even one refused after
 * the dot, which the server may have queued, or never answered) gets a verdict
 * instead of a second message; a withdrawn message never went; a message only
 * recorded as due may or may not have gone: no verdict, no second message,
 * unless its proof arrives (issue 11, item 6); proxies are tested again. */
static void interrupted_messages_are_never_sent_twice(void **unused)
{
	char path[256], text[80];
	snprintf(path, sizeof path, "%s/interrupted.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	const char *addresses[] = {"192.0.2.60", "192.0.2.61", "192.0.2.62", "192.0.2.63", "192.0.2.64",
				   "192.0.2.65", "192.0.2.66"};
	int64_t ids[7];
	for (int i = 0; i < 7; i++)
		ids[i] = candidate(store, addresses[i], 25);
	int64_t run = store_run_begin(store, 5, 10, 0, false);
	assert_int_equal(store_probe_put(store, run, ids[0], "relay", "plain", "pht0", 5, "message-sent", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[1], "relay", "plain", "pht1", 5, "message-refused", "550 no"), 0);
	assert_int_equal(store_probe_put(store, run, ids[2], "relay", "plain", "pht2", 5, "message-withdrawn", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[3], "proxy", "http-post", "pht3", 5, "message-sent", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[4], "relay", "plain", "pht4", 5, "message-due", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[5], "relay", "plain", "pht5", 5, "message-written", NULL), 0);
	assert_int_equal(store_probe_put(store, run, ids[6], "relay", "plain", "pht6", 5, "message-due", NULL), 0);
	struct proof arrived = proof_of("pht6", "192.0.2.66", 25, "192.0.2.66:25", 9);
	assert_int_equal(store_proof_put(store, &arrived), 1);
	assert_int_equal(store_findings_reconcile(store), 4);
	assert_int_equal(store_messages_unknown(store), 1);
	assert_int_equal(store_messages_gone(store, ids[4], "relay"), 1);
	assert_int_equal(store_messages_gone(store, ids[2], "relay"), 0);
	store_close(store);
	assert_string_equal(verdict_of(path, ids[0], text, sizeof text), "relay-accepted -");
	assert_string_equal(verdict_of(path, ids[1], text, sizeof text), "closed -");
	assert_string_equal(verdict_of(path, ids[5], text, sizeof text), "timeout -");
	assert_string_equal(verdict_of(path, ids[6], text, sizeof text), "open-relay 192.0.2.66:25");
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM findings WHERE candidate_id IN (%lld, %lld, %lld)",
		 (long long)ids[2], (long long)ids[3], (long long)ids[4]);
	assert_int_equal(count_of(path, sql), 0);
}

struct pending_list {
	int64_t ids[8];
	int n;
};

static void take_pending(void *ctx, int64_t id, const char *address, uint16_t port)
{
	struct pending_list *list = ctx;
	if (list->n < 8)
		list->ids[list->n++] = id;
}

/* Pending: candidates without a finding, but never a relay a message may have gone to. */
static void pending_skips_relays_a_message_may_have_gone_to(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/pending.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t due = candidate(store, "192.0.2.70", 25), gone = candidate(store, "192.0.2.71", 25),
		fresh = candidate(store, "192.0.2.72", 25), proxy = candidate(store, "192.0.2.73", 8080);
	(void)fresh;
	int64_t run = store_run_begin(store, 5, 10, 0, false);
	assert_int_equal(store_probe_put(store, run, due, "relay", "plain", "php0", 5, "message-due", NULL), 0);
	assert_int_equal(store_probe_put(store, run, gone, "relay", "plain", "php1", 5, "message-withdrawn", NULL), 0);
	assert_int_equal(store_probe_put(store, run, proxy, "proxy", "mail", "php2", 5, "message-sent", NULL), 0);
	struct pending_list list = {{0}, 0};
	assert_int_equal(store_candidates_pending(store, take_pending, &list), 0);
	assert_int_equal(list.n, 3); /* the withdrawn one, the fresh one, the proxy */
	for (int i = 0; i < list.n; i++)
		assert_true(list.ids[i] != due);
	store_close(store);
}

/* A target hit proves a proxy only for the test that caused it: handed out since
 * the connection began, for a request with that test's token or none. */
static void target_hits_count_only_for_their_own_test(void **unused)
{
	char path[256], peer[64];
	snprintf(path, sizeof path, "%s/hits.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	struct target_hit with_token = {.nonce = "n1", .peer = "198.51.100.7:5000", .listener = "127.0.0.1:8071",
					.request = "GET /phabc HTTP/1.0", .token = "phabc", .received = 1000};
	struct target_hit banner_only = {.nonce = "n2", .peer = "198.51.100.8:5000", .listener = "127.0.0.1:8071",
					 .received = 1000};
	assert_int_equal(store_target_hit_put(store, &with_token), 0);
	assert_int_equal(store_target_hit_put(store, &banner_only), 0);
	assert_int_equal(store_target_hit_find(store, "n1", "PHABC", 999, peer, sizeof peer), 1);
	assert_string_equal(peer, "198.51.100.7:5000");
	assert_int_equal(store_target_hit_find(store, "n1", "phother", 999, peer, sizeof peer), 0);
	assert_int_equal(store_target_hit_find(store, "n1", "phabc", 1001, peer, sizeof peer), 0); /* replayed */
	assert_int_equal(store_target_hit_find(store, "n2", "phother", 1000, peer, sizeof peer), 1);
	assert_int_equal(store_target_hit_find(store, "n3", "phabc", 0, peer, sizeof peer), 0);
	store_close(store);
}

/* first_checked is when the first test message went to the address:port, not
 * when its verdict was written; a later verdict keeps it; with no message
 * recorded it is the verdict's time. */
static void first_checked_is_the_first_probes_time(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/first.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t run = store_run_begin(store, 900, 60, 0, true);
	int64_t probed = candidate(store, "192.0.2.40", 25), silent = candidate(store, "192.0.2.41", 25);
	assert_int_equal(store_probe_put(store, run, probed, "relay", "plain", "phf0", 1000, "message-sent", NULL), 0);
	assert_int_equal(store_probe_put(store, run, probed, "relay", "percent-hack", "phf1", 1200, "message-sent", NULL), 0);
	struct finding f = {.candidate_id = probed, .verdict = "relay-accepted", .test = "relay", .checked = 1500, .run = run};
	struct finding g = {.candidate_id = silent, .verdict = "closed", .test = "relay", .checked = 1600, .run = run};
	assert_int_equal(store_finding_put(store, &f), 0);
	assert_int_equal(store_finding_put(store, &g), 0);
	f.checked = 3000; /* a later verdict */
	assert_int_equal(store_finding_put(store, &f), 0);
	/* a verdict a crash left unwritten, made from the record: first checked by its first message too */
	int64_t crashed = candidate(store, "192.0.2.42", 25);
	assert_int_equal(store_probe_put(store, run, crashed, "relay", "percent-hack", "phf3", 1100, "message-sent", "250 ok"), 0);
	assert_int_equal(store_probe_put(store, run, crashed, "relay", "plain", "phf2", 1000, "message-refused", "554 no"), 0);
	assert_int_equal(store_findings_reconcile(store), 1);
	store_close(store);
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT first_checked * 10000 + last_checked FROM findings WHERE candidate_id = %lld",
		 (long long)probed);
	assert_int_equal(count_of(path, sql), 1000 * 10000 + 3000);
	snprintf(sql, sizeof sql, "SELECT first_checked * 10000 + last_checked FROM findings WHERE candidate_id = %lld",
		 (long long)silent);
	assert_int_equal(count_of(path, sql), 1600 * 10000 + 1600);
	snprintf(sql, sizeof sql, "SELECT first_checked FROM findings WHERE candidate_id = %lld", (long long)crashed);
	assert_int_equal(count_of(path, sql), 1000);
}

/* Collects the transcript column of findings_each rows. */
static void take_transcript(void *ctx, const struct store_row *row)
{
	for (int i = 0; row->values && i < row->count; i++)
		if (strcmp(row->names[i], "transcript") == 0)
			snprintf(ctx, 8192, "%s", row->values[i] ? row->values[i] : "(null)");
}

/* Long transcripts are stored deflated (a BLOB and its size), short ones as
 * text; both read back whole. */
static void transcripts_are_deflated_and_read_back_whole(void **unused)
{
	char path[256], *text = malloc(8192), *got = malloc(8192);
	snprintf(path, sizeof path, "%s/transcript.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t source = store_source_id(store, "s", NULL);
	struct addr a = A("192.0.2.30"), b = A("192.0.2.31");
	store_candidate_put(store, &a, 25, source, 1);
	store_candidate_put(store, &b, 25, source, 1);
	size_t len = 0;
	for (int i = 0; len < 4000; i++)
		len += (size_t)snprintf(text + len, 8192 - len, ">> RCPT TO:<v%d@sink.test>\n<< 554 5.7.1 denied\n", i);
	struct finding f = {.candidate_id = store_candidate_id(store, &a, 25), .verdict = "closed", .test = "relay",
			    .transcript = text, .checked = 2};
	struct finding g = {.candidate_id = store_candidate_id(store, &b, 25), .verdict = "timeout", .test = "relay",
			    .transcript = "-- no banner", .checked = 2};
	assert_int_equal(store_finding_put(store, &f), 0);
	assert_int_equal(store_finding_put(store, &g), 0);
	f.transcript = NULL; /* a later verdict without a transcript keeps the stored one */
	f.verdict = "relay-accepted";
	assert_int_equal(store_finding_put(store, &f), 0);
	assert_int_equal(store_findings_each(store, "relay-accepted", true, take_transcript, got), 0);
	assert_string_equal(got, text);
	assert_int_equal(store_findings_each(store, "timeout", true, take_transcript, got), 0);
	assert_string_equal(got, "-- no banner");
	store_close(store);

	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT typeof(transcript), length(transcript), transcript_size"
					    " FROM findings ORDER BY candidate_id", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "blob");
	assert_true(sqlite3_column_int(stmt, 1) < (int)len / 4);
	assert_int_equal(sqlite3_column_int(stmt, 2), (int)len);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "text");
	assert_int_equal(sqlite3_column_type(stmt, 2), SQLITE_NULL);
	sqlite3_finalize(stmt);
	/* a text beside a stale size (a writer from before the size column) still reads */
	assert_int_equal(sqlite3_exec(db, "UPDATE findings SET transcript = '-- older' WHERE transcript_size > 0",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	store = store_open(path);
	assert_non_null(store);
	assert_int_equal(store_findings_each(store, "relay-accepted", true, take_transcript, got), 0);
	assert_string_equal(got, "-- older");
	store_close(store);
	free(text);
	free(got);
}

static void exclusions_use_the_most_specific_rule(void **unused)
{
	char optout[256];
	snprintf(optout, sizeof optout, "%s/optout", dir);
	FILE *f = fopen(optout, "w");
	fputs("# owners who asked to be left alone\n198.18.0.0/15 bench\n127.0.9.0/24 opted out in tests\n"
	      "2001:4860::/32 an operator's choice\n", f);
	fclose(f);
	struct exclusion_list list;
	exclusion_init(&list);
	assert_int_equal(exclusion_load_defaults(&list, optout, false), 0);
	const char *excluded[] = {"10.1.2.3", "127.0.0.1", "::1", "192.168.0.1", "fe80::1", "224.0.0.1",
				  "255.255.255.255", "2001:db8::1", "100.64.1.1", "2001:4860::8888", "0.1.2.3"};
	for (size_t i = 0; i < sizeof excluded / sizeof *excluded; i++) {
		struct addr a = A(excluded[i]);
		assert_non_null(exclusion_match(&list, &a));
	}
	const char *allowed[] = {"8.8.8.8", "192.0.3.1", "2a00:1450::1", "11.0.0.1"};
	for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
		struct addr a = A(allowed[i]);
		assert_null(exclusion_match(&list, &a));
	}
	struct addr lo = A("127.0.0.5"), opted = A("127.0.9.5"), lo6 = A("::1"), unspecified = A("::");
	list.allow_loopback = true;
	assert_null(exclusion_match(&list, &lo));
	assert_null(exclusion_match(&list, &lo6));
	assert_non_null(exclusion_match(&list, &opted)); /* an opt-out inside loopback still holds */
	assert_non_null(exclusion_match(&list, &unspecified));
	assert_non_null(strstr(exclusion_match(&list, &opted), "optout:3"));
	exclusion_free(&list);

	f = fopen(optout, "w");
	fputs("192.0.2.0/24 fine\nnot-a-range oops\n", f);
	fclose(f);
	exclusion_init(&list);
	assert_int_equal(exclusion_load(&list, optout), -1);
	exclusion_free(&list);
}

static void config_reads_ini_and_rejects_bad_values(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/plughole.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("[store]\ndb = /var/lib/plughole/campaign.db\n[sink]\ndomain = sink.example\nmax_sessions = 50\n", f);
	fclose(f);
	struct config config;
	config_defaults(&config);
	assert_int_equal(config.max_range, 256);
	assert_int_equal(config_load(&config, path), 0);
	assert_string_equal(config.db, "/var/lib/plughole/campaign.db");
	assert_string_equal(config.sink_domain, "sink.example");
	assert_int_equal(config.sink_max_sessions, 50);
	char secret[256];
	assert_string_equal(config_secret_path(&config, secret, sizeof secret), "/var/lib/plughole/campaign.db.secret");
	f = fopen(path, "w");
	fputs("[sink]\nmax_sessions = lots\n", f);
	fclose(f);
	assert_int_equal(config_load(&config, path), -1);
	assert_int_equal(config_set(&config, "sink", "max_sessions", "0"), -1);
	assert_int_equal(config_set(&config, "nope", "nothing", "1"), -1);
	assert_int_equal(config.sink_max_sessions, 50); /* a refused value changes nothing */
	config_free(&config);
	unlink(path);
}

static int setup(void **unused)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **unused)
{
	char command[300];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(candidates_are_stored_once_with_sources),
		cmocka_unit_test(two_connections_share_one_database),
		cmocka_unit_test(late_proofs_upgrade_their_runs_verdicts),
		cmocka_unit_test(proofs_count_only_for_their_own_runs_probes),
		cmocka_unit_test(unmatched_proofs_are_listed_apart),
		cmocka_unit_test(new_proofs_are_read_by_id),
		cmocka_unit_test(pending_skips_relays_a_message_may_have_gone_to),
		cmocka_unit_test(transcripts_are_deflated_and_read_back_whole),
		cmocka_unit_test(first_checked_is_the_first_probes_time),
		cmocka_unit_test(interrupted_messages_are_never_sent_twice),
		cmocka_unit_test(target_hits_count_only_for_their_own_test),
		cmocka_unit_test(exclusions_use_the_most_specific_rule),
		cmocka_unit_test(config_reads_ini_and_rejects_bad_values),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

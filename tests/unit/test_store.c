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
#include "core/store.h"

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

/* A proof stored after the verdict (a sink in another process, or late)
 * upgrades it: a relay that took the message, a proxy whose tunnel carried it. */
static void late_proofs_upgrade_written_verdicts(void **unused)
{
	char path[256], text[80];
	snprintf(path, sizeof path, "%s/late.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t source = store_source_id(store, "s", NULL);
	struct addr relay = A("192.0.2.25"), proxy = A("192.0.2.80"), quiet = A("192.0.2.81");
	store_candidate_put(store, &relay, 25, source, 1);
	store_candidate_put(store, &proxy, 8080, source, 1);
	store_candidate_put(store, &quiet, 8080, source, 1);
	int64_t ids[] = {store_candidate_id(store, &relay, 25), store_candidate_id(store, &proxy, 8080),
			 store_candidate_id(store, &quiet, 8080)};
	struct finding f[] = {
		{.candidate_id = ids[0], .verdict = "relay-accepted", .test = "relay", .checked = 2},
		{.candidate_id = ids[1], .verdict = "open-proxy-web", .test = "proxy", .checked = 2},
		{.candidate_id = ids[2], .verdict = "closed", .test = "proxy", .checked = 2},
	};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(store_finding_put(store, &f[i]), 0);
	struct proof relayed = {.token = "pha", .address = relay, .port = 25, .peer = "192.0.2.25:4000", .received = 3};
	struct proof tunnelled = {.token = "phb", .address = proxy, .port = 8080, .peer = "198.51.100.7:5000", .received = 3};
	assert_int_equal(store_proof_put(store, &relayed), 1);
	assert_int_equal(store_proof_put(store, &tunnelled), 1);
	assert_int_equal(store_findings_reconcile(store), 2);
	store_close(store);
	assert_string_equal(verdict_of(path, ids[0], text, sizeof text), "open-relay 192.0.2.25:4000");
	assert_string_equal(verdict_of(path, ids[1], text, sizeof text), "open-proxy-mail 198.51.100.7:5000");
	assert_string_equal(verdict_of(path, ids[2], text, sizeof text), "closed -");
}

/* After a crash or a stop, a relay whose message went (even one refused after the
 * dot, which the server may have queued) gets a verdict instead of a second
 * message; a withdrawn message never went; proxies are tested again. */
static void interrupted_messages_are_never_sent_twice(void **unused)
{
	char path[256], text[80];
	snprintf(path, sizeof path, "%s/interrupted.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int64_t source = store_source_id(store, "s", NULL);
	const char *addresses[] = {"192.0.2.60", "192.0.2.61", "192.0.2.62", "192.0.2.63"};
	int64_t ids[4];
	for (int i = 0; i < 4; i++) {
		struct addr a = A(addresses[i]);
		store_candidate_put(store, &a, 25, source, 1);
		ids[i] = store_candidate_id(store, &a, 25);
	}
	assert_int_equal(store_probe_put(store, ids[0], "relay", "plain", "pht0", 5, "message-sent", NULL), 0);
	assert_int_equal(store_probe_put(store, ids[1], "relay", "plain", "pht1", 5, "message-refused", "550 no"), 0);
	assert_int_equal(store_probe_put(store, ids[2], "relay", "plain", "pht2", 5, "message-withdrawn", NULL), 0);
	assert_int_equal(store_probe_put(store, ids[3], "proxy", "http-post", "pht3", 5, "message-sent", NULL), 0);
	assert_int_equal(store_findings_reconcile(store), 2);
	store_close(store);
	assert_string_equal(verdict_of(path, ids[0], text, sizeof text), "relay-accepted -");
	assert_string_equal(verdict_of(path, ids[1], text, sizeof text), "closed -");
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM findings WHERE candidate_id IN (?1, ?2)", -1,
					    &stmt, NULL), SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, ids[2]);
	sqlite3_bind_int64(stmt, 2, ids[3]);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
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

/* Collects the transcript column of findings_each rows. */
static void take_transcript(void *ctx, int n, const char *const *names, const char *const *values)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], "transcript") == 0)
			snprintf(ctx, 8192, "%s", values[i] ? values[i] : "(null)");
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
		cmocka_unit_test(late_proofs_upgrade_written_verdicts),
		cmocka_unit_test(transcripts_are_deflated_and_read_back_whole),
		cmocka_unit_test(interrupted_messages_are_never_sent_twice),
		cmocka_unit_test(target_hits_count_only_for_their_own_test),
		cmocka_unit_test(exclusions_use_the_most_specific_rule),
		cmocka_unit_test(config_reads_ini_and_rejects_bad_values),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * The engine as a caller drives it: targets in, verdicts out through the
 * on_verdict callback, each written to the store. Traffic stays on
 * 127.71.0.0/16: a port that refuses, and a listener that never answers;
 * what the run waits for on 127.87.2.1 (a listener that never answers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "probe/engine.h"

struct heard {
	int count;
	int64_t candidate[4];
	enum verdict verdict[4];
	uint16_t port[4];
};

static void on_verdict(void *ctx, const struct probe_result *r)
{
	struct heard *h = ctx;
	assert_true(h->count < 4);
	h->candidate[h->count] = r->candidate_id;
	h->verdict[h->count] = r->verdict;
	h->port[h->count++] = r->port;
	assert_false(r->upgraded);
}

/* A TCP socket on 127.71.0.1; listening (never accepting) or closed again: its port. */
static int open_port_on(uint32_t address, bool listening, int *fd_out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(address)};
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	socklen_t len = sizeof sin;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	else
		close(fd);
	*fd_out = listening ? fd : -1;
	return ntohs(sin.sin_port);
}

static int open_port(bool listening, int *fd_out) { return open_port_on(0x7f470001, listening, fd_out); }

static void verdicts_come_out_as_they_are_written(void **unused)
{
	char dir[] = "/tmp/plughole-engine-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int silent_fd, unused_fd;
	uint16_t refused = (uint16_t)open_port(false, &unused_fd), silent = (uint16_t)open_port(true, &silent_fd);
	struct addr a;
	addr_from_v4(&a, 0x7f470001);
	int64_t source = store_source_id(store, "test", "plain");
	assert_int_equal(store_candidate_put(store, &a, refused, source, 1), 1);
	assert_int_equal(store_candidate_put(store, &a, silent, source, 1), 1);
	int64_t id_refused = store_candidate_id(store, &a, refused), id_silent = store_candidate_id(store, &a, silent);

	struct heard heard = {0};
	struct probe_engine_options o = {
		.selection = {.families = PROBE_RELAY, .ports = {[0] = (const uint16_t[]){refused, silent, 0}}},
		.concurrency = 4, .per_host = 2, .per_net = 2, .connect_timeout = 2, .total_timeout = 5,
		.on_verdict = on_verdict, .ctx = &heard,
		.settings = {.sink_domain = "sink.test", .helo = "verifier.test", .from = "a@verifier.test",
			     .idle_timeout = 0.3, .proof_grace = 1, .campaign = 1},
	};
	addr_from_v4(&o.settings.sink_address, 0x7f470002);
	o.settings.sink_port = 25;
	struct token_secret secret = {{1, 2, 3}};
	struct event_base *base = event_base_new();
	struct probe_engine *engine = probe_engine_new(base, &o, store, &secret);
	assert_non_null(engine);
	assert_int_equal(probe_engine_add(engine, &a, refused, id_refused), 1);
	assert_int_equal(probe_engine_add(engine, &a, silent, id_silent), 1);
	assert_int_equal(probe_engine_add(engine, &a, 8080, 99), 0); /* no relay test on that port */
	assert_int_equal(probe_engine_run(engine), 0);

	assert_int_equal(heard.count, 2);
	for (int i = 0; i < 2; i++) {
		bool is_refused = heard.port[i] == refused;
		assert_int_equal(heard.candidate[i], is_refused ? id_refused : id_silent);
		assert_int_equal(heard.verdict[i], is_refused ? VERDICT_UNREACHABLE : VERDICT_TIMEOUT);
	}
	assert_int_equal(probe_engine_stats(engine)->finished, 2);
	probe_engine_free(engine);
	event_base_free(base);
	close(silent_fd);
	store_close(store);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

struct watch {
	struct probe_engine *engine;
	double started;
	struct probe_waits seen;
};

/* Mid-run, once the silent host's first attempt timed out: what waits, then the end. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct watch *w = arg;
	probe_engine_waits(w->engine, &w->seen);
	probe_engine_stop(w->engine);
}

/* The engine says what waits and until when: a retry's backoff after a timeout. */
static void waits_are_counted_with_their_deadline(void **unused)
{
	char dir[] = "/tmp/plughole-engine-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int silent_fd;
	uint16_t silent = (uint16_t)open_port_on(0x7f570201, true, &silent_fd);
	struct addr a;
	addr_from_v4(&a, 0x7f570201);
	int64_t source = store_source_id(store, "test", "plain");
	assert_int_equal(store_candidate_put(store, &a, silent, source, 1), 1);
	struct probe_engine_options o = {
		.selection = {.families = PROBE_RELAY, .ports = {[0] = (const uint16_t[]){silent, 0}}},
		.concurrency = 4, .per_host = 2, .per_net = 2, .connect_timeout = 2, .total_timeout = 5,
		.retries = 1, .retry_after = 30,
		.settings = {.sink_domain = "sink.test", .helo = "verifier.test", .from = "a@verifier.test",
			     .idle_timeout = 0.2, .proof_grace = 1, .campaign = 1},
	};
	addr_from_v4(&o.settings.sink_address, 0x7f570202);
	o.settings.sink_port = 25;
	struct token_secret secret = {{1, 2, 3}};
	struct event_base *base = event_base_new();
	struct watch w = {.engine = probe_engine_new(base, &o, store, &secret)};
	assert_non_null(w.engine);
	assert_int_equal(probe_engine_add(w.engine, &a, silent, store_candidate_id(store, &a, silent)), 1);
	struct probe_waits none;
	probe_engine_waits(w.engine, &none);
	for (int r = 0; r < PROBE_WAIT_LAST; r++)
		assert_int_equal(none.count[r], 0);
	struct event *watch = evtimer_new(base, on_watch, &w);
	struct timeval later = {0, 700000};
	evtimer_add(watch, &later);
	w.started = probe_now();
	assert_int_equal(probe_engine_run(w.engine), 0);
	assert_int_equal(w.seen.count[PROBE_WAIT_RETRY], 1);
	assert_int_equal(w.seen.count[PROBE_WAIT_GREYLIST] + w.seen.count[PROBE_WAIT_GRACE], 0);
	/* timed out after 0.2 s, retried 30 s later */
	assert_true(w.seen.until[PROBE_WAIT_RETRY] > w.started + 30);
	assert_true(w.seen.until[PROBE_WAIT_RETRY] < w.started + 31);
	event_free(watch);
	probe_engine_free(w.engine);
	event_base_free(base);
	close(silent_fd);
	store_close(store);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

enum { FED = 40 };

struct feeder {
	struct probe_engine *engine;
	struct store *store;
	int64_t source;
	uint16_t port;
	int verdicts, unreachable;
};

static void feed_on_verdict(void *ctx, const struct probe_result *r)
{
	struct feeder *f = ctx;
	f->verdicts++;
	f->unreachable += r->verdict == VERDICT_UNREACHABLE;
	if (f->verdicts == 1) { /* the first verdict: feed more, past the room the run began with */
		for (uint32_t i = 1; i <= FED; i++) {
			struct addr a;
			addr_from_v4(&a, 0x7f470100 + i); /* 127.71.1.i: nothing listens */
			assert_int_equal(store_candidate_put(f->store, &a, f->port, f->source, 1), 1);
			assert_int_equal(probe_engine_add(f->engine, &a, f->port, store_candidate_id(f->store, &a, f->port)),
					 1);
		}
	}
	if (f->verdicts == FED + 1)
		probe_engine_close(f->engine);
}

/* An open run takes targets while it goes, and ends once closed and done. */
static void targets_fed_while_it_runs(void **unused)
{
	char dir[] = "/tmp/plughole-engine-XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	int unused_fd;
	uint16_t refused = (uint16_t)open_port(false, &unused_fd);
	struct addr a;
	addr_from_v4(&a, 0x7f470001);
	struct feeder f = {.store = store, .source = store_source_id(store, "test", "plain"), .port = refused};
	assert_int_equal(store_candidate_put(store, &a, refused, f.source, 1), 1);
	struct probe_engine_options o = {
		.selection = {.families = PROBE_RELAY, .ports = {[0] = (const uint16_t[]){refused, 0}}},
		.concurrency = 8, .per_host = 1, .per_net = 4, .connect_timeout = 2, .total_timeout = 5,
		.open = true, .on_verdict = feed_on_verdict, .ctx = &f,
		.settings = {.sink_domain = "sink.test", .helo = "verifier.test", .from = "a@verifier.test",
			     .idle_timeout = 1, .proof_grace = 1, .campaign = 1},
	};
	addr_from_v4(&o.settings.sink_address, 0x7f470002);
	o.settings.sink_port = 25;
	struct token_secret secret = {{4, 5, 6}};
	struct event_base *base = event_base_new();
	f.engine = probe_engine_new(base, &o, store, &secret);
	assert_non_null(f.engine);
	assert_int_equal(probe_engine_add(f.engine, &a, refused, store_candidate_id(store, &a, refused)), 1);
	assert_int_equal(probe_engine_run(f.engine), 0);
	assert_int_equal(f.verdicts, FED + 1);
	assert_int_equal(f.unreachable, FED + 1);
	assert_int_equal(probe_engine_stats(f.engine)->targets, FED + 1);
	assert_int_equal(probe_engine_stats(f.engine)->finished, FED + 1);
	probe_engine_free(f.engine);
	event_base_free(base);
	store_close(store);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdicts_come_out_as_they_are_written),
		cmocka_unit_test(targets_fed_while_it_runs),
		cmocka_unit_test(waits_are_counted_with_their_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

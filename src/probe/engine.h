/*
 * The probe engine: one libevent loop that verifies many targets at once.
 * It visits targets in a pseudo-random order under a global concurrency
 * limit and per-host and per-network (/24, /48) politeness limits, applies
 * connect, idle and total timeouts, retries tempfails and timeouts with
 * backoff, records every verdict in the store, and matches proofs from the
 * sink to the connection or target they were made for.
 *
 * A caller (verify, rechecks, the owners' "test again now", a worker) adds
 * targets, runs the loop, and hears each target's verdict through its
 * on_verdict callback as the verdict is written.
 */
#ifndef PLUGHOLE_ENGINE_H
#define PLUGHOLE_ENGINE_H

#include <event2/event.h>

#include "store/store.h"
#include "probe/probe.h"

/* One target's verdict, as it was written (a late proof may upgrade it: reported again). */
struct probe_result {
	int64_t candidate_id;
	const struct addr *address;
	uint16_t port;
	enum verdict verdict;
	unsigned attempts;
	bool upgraded; /* a proof came after the verdict: now open */
};

struct probe_engine_options {
	struct probe_settings settings;
	struct probe_selection selection; /* which modules test which ports */
	unsigned concurrency;     /* connections in flight */
	unsigned rate;            /* new connections per second (0: no limit): no SYN floods */
	unsigned per_host;        /* connections in flight to one address */
	unsigned per_net;         /* ... to one /24 (IPv4) or /48 (IPv6) */
	double connect_timeout;
	double total_timeout;     /* one connection, start to end */
	double retry_after;       /* first retry delay for tempfail/timeout; doubles */
	unsigned retries;         /* extra attempts for tempfail/timeout */
	double wait;              /* after the last test message, wait this long for proofs */
	bool have_source;
	struct addr source;       /* local address to connect from */
	bool shared_store;        /* another process (the sink) writes the store: no batched writes */
	bool open;                /* targets may be added while the run goes: it ends after probe_engine_close */
	uint64_t seed;            /* visiting order */
	int64_t round;            /* the round (store_round_begin) the verdicts are recorded in; 0: none */
	/* Each target's verdict (valid during the call); may be NULL. It may stop the engine, not free it. */
	void (*on_verdict)(void *ctx, const struct probe_result *result);
	void *ctx;
};

struct probe_stats {
	uint64_t targets, finished, in_flight, peak_in_flight;
	uint64_t messages_sent, proofs, retries;
	uint64_t heap_per_connection; /* bytes, sampled at the busiest moment */
	uint64_t verdicts[VERDICT_LAST];
};

/* What the run waits for, per reason: how many, and the latest deadline (probe_now()'s clock). */
struct probe_waits {
	uint64_t count[PROBE_WAIT_LAST];
	double until[PROBE_WAIT_LAST];
};

struct probe_engine *probe_engine_new(struct event_base *base, const struct probe_engine_options *options,
				      struct store *store, const struct token_secret *secret);
void probe_engine_free(struct probe_engine *engine);
/*
 * Adds a target: before the run (visited in a pseudo-random order), or, with
 * options.open, while it goes (visited in the order fed). The module is chosen
 * from the families and port. 1 added, 0 nothing to test on it, -1 error.
 */
int probe_engine_add(struct probe_engine *engine, const struct addr *address, uint16_t port, int64_t candidate_id);
/* The same with this target's own selection (a recheck tests each host as its frozen verdict was tested). */
int probe_engine_add_with(struct probe_engine *engine, const struct addr *address, uint16_t port,
			  int64_t candidate_id, const struct probe_selection *selection);
/* (options.open) No more targets: the run ends once those added have their verdicts. */
void probe_engine_close(struct probe_engine *engine);
/* Runs the event loop until every target has its verdict or a stop. 0 or -1. */
int probe_engine_run(struct probe_engine *engine);
/* Stops cleanly: open connections are dropped and stay pending in the store. */
void probe_engine_stop(struct probe_engine *engine);
/* A proof arrived at the sink (its on_proof callback). */
void probe_engine_proof(struct probe_engine *engine, const struct proof *proof);
/* The sink's TCP target handed out nonce to peer (its on_target_hit callback). */
void probe_engine_target_hit(struct probe_engine *engine, const char *nonce, const char *peer);
const struct probe_stats *probe_engine_stats(const struct probe_engine *engine);
/* Counts what waits now: connections in a proof grace, pending retries, the last wait for proofs. */
void probe_engine_waits(const struct probe_engine *engine, struct probe_waits *waits);
/* Seconds since the run began (probe_engine_run), 0 before. */
double probe_engine_elapsed(const struct probe_engine *engine);
/* Bytes the engine holds per connection in flight, excluding the kernel's socket. */
size_t probe_engine_conn_size(const struct probe_engine *engine);

#endif

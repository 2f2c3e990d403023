/*
 * The recorder: what a verification run writes to the store, and when.
 * Verdicts are batched into one transaction committed every half second
 * (unless another process, the sink, shares the store); a test message is
 * recorded as due and may go only once that record is committed (due
 * messages share one commit); a proof made by an external sink is read back
 * from the store. A store that fails stops the run: the recorder says so
 * once, from the loop, through its callbacks, and from then on no message
 * goes. It knows targets only by the caller's index and a connection serial.
 */
#ifndef PLUGHOLE_RECORDER_H
#define PLUGHOLE_RECORDER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>

#include "store/store.h"

struct recorder;

struct recorder_events {
	/*
	 * The record of a due message is durable: the message may go. true when
	 * the caller dealt with it (sent it, or withdrew it itself); false: its
	 * connection is gone, and the recorder withdraws it.
	 */
	bool (*message_ready)(void *ctx, int32_t target, uint32_t conn_serial, const char *token);
	/* An external sink stored this proof (read back while polling). */
	void (*proof)(void *ctx, const struct proof *proof);
	/* The run cannot go on (reported once, from the loop). */
	void (*failed)(void *ctx);
	void *ctx;
};

/* shared_store: another process writes the store (an external sink): no batching, and its proofs are polled. */
struct recorder *recorder_new(struct event_base *base, struct store *store, bool shared_store,
			      const struct recorder_events *events);
void recorder_free(struct recorder *r);
/* Opens the run's row (in round, when > 0: its verdicts get a row there too) and starts batching (and
 * polling). 0, or -1 when the store cannot be written. */
int recorder_begin(struct recorder *r, double wait, uint16_t campaign, int64_t round);
/* Withdraws the messages still due, commits, and closes the run's row: "done", "stopped" or "failed". 0 or -1. */
int recorder_end(struct recorder *r, bool stopped);
int64_t recorder_run(const struct recorder *r);

/* Stops the run (a store write failed, memory ran out): logs why, once. */
void recorder_fail(struct recorder *r, const char *why);
bool recorder_failed(const struct recorder *r);
/* Commits what is batched now (a record that must survive a crash). */
void recorder_sync(struct recorder *r);

/* A test message of family ("relay", "proxy"), recorded with outcome (and the reply when it went already). */
int recorder_probe(struct recorder *r, int64_t candidate_id, const char *family, const char *variant,
		   const char *token, const char *outcome, const char *reply);
/* What became of it. */
void recorder_probe_answer(struct recorder *r, const char *token, const char *outcome, const char *reply);
/* Records a test message as due: message_ready follows once the record is committed. 0 or -1. */
int recorder_message_due(struct recorder *r, int32_t target, uint32_t conn_serial, int64_t candidate_id,
			 const char *family, const char *variant, const char *token);
/* The withdrawal is a courtesy: a record left due gives no verdict either. */
void recorder_withdraw(struct recorder *r, const char *token);

/* A verdict (its .run is filled in), into findings and the run's round, in one transaction. */
void recorder_finding(struct recorder *r, struct finding *finding);
/* A late proof upgrades a written verdict. */
void recorder_finding_proven(struct recorder *r, int64_t candidate_id, const char *verdict, const char *variant,
			     const struct proof *proof);
/* Whether token is bound to a probe of this run: 1 (its variant copied), 0 not, -1 error (the run fails). */
int recorder_proof_bound(struct recorder *r, const char *token, char *variant, size_t variantlen);
/* Whether an external sink stored a proof of this run's token: 1 (test and peer copied) or 0. */
int recorder_proof_find(struct recorder *r, const char *token, uint8_t *test, char *peer, size_t peerlen);
/* Whether the sink (elsewhere) handed out nonce since `since`: 1 (peer copied) or 0. */
int recorder_target_hit_find(struct recorder *r, const char *nonce, const char *token, time_t since, char *peer,
			     size_t peerlen);

#endif

#include "probe/recorder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/token.h"

#define COMMIT_INTERVAL 0.5       /* seconds between commits of batched verdicts */
#define MESSAGE_COMMIT_DELAY 0.02 /* seconds that due test messages wait to share one commit */
#define PROOF_POLL_INTERVAL 0.15  /* seconds between looks for an external sink's new proofs */
#define PROOF_POLL_BATCH 256      /* proofs read per look */

/* A test message recorded, to go once the record is committed. */
struct due_message {
	int32_t target;
	uint32_t conn_serial; /* the connection that asked: a later one for the target did not */
	char token[TOKEN_MAX_LEN];
};

struct recorder {
	struct store *store;
	struct recorder_events events;
	bool shared_store;       /* the sink writes here too: no batched writes, its proofs polled */
	bool in_transaction, failed;
	int64_t run_id;          /* this run's row in verify_runs */
	int64_t proofs_seen;     /* the newest proof id polled */
	struct due_message *due; /* test messages waiting for their records' commit */
	size_t due_len, due_cap;
	struct event *commit_timer, *due_timer, *poll_timer;
	struct event *fail_event; /* the failure is reported from the loop */
};

static struct timeval to_timeval(double seconds)
{
	struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - floor(seconds)) * 1e6)};
	return tv;
}

void recorder_fail(struct recorder *r, const char *why)
{
	if (r->failed)
		return;
	r->failed = true;
	log_error("verify: %s: stopping (no further test messages or probes)", why);
	/* from the loop: the caller may be a module mid-callback */
	event_active(r->fail_event, EV_TIMEOUT, 1);
}

bool recorder_failed(const struct recorder *r) { return r->failed; }
int64_t recorder_run(const struct recorder *r) { return r->run_id; }

static void store_failed(struct recorder *r) { recorder_fail(r, "the store could not be written"); }

void recorder_sync(struct recorder *r)
{
	if (r->in_transaction && store_commit(r->store) != 0) {
		store_rollback(r->store); /* what the batch held is lost; nothing went on its strength */
		store_failed(r);
	}
	r->in_transaction = false;
	/* A sink in another process writes its proofs and target hits here, and
	 * blocks its whole loop while it waits for the lock: then never hold it. */
	if (r->shared_store || r->failed)
		return;
	r->in_transaction = store_begin(r->store) == 0;
	if (!r->in_transaction)
		store_failed(r);
}

void recorder_withdraw(struct recorder *r, const char *token)
{
	if (store_probe_answer(r->store, r->run_id, token, "message-withdrawn", "not sent", time(NULL)) != 0)
		store_failed(r);
}

/* The records of due test messages are durable now: their messages may go.
 * (message_ready never makes another message due, so the list holds still.) */
static void on_due_timer(evutil_socket_t fd, short what, void *arg)
{
	struct recorder *r = arg;
	recorder_sync(r);
	size_t len = r->due_len;
	r->due_len = 0;
	for (size_t i = 0; i < len; i++) {
		const struct due_message *d = &r->due[i];
		/* after a failure no message goes */
		if (r->failed || !r->events.message_ready(r->events.ctx, d->target, d->conn_serial, d->token))
			recorder_withdraw(r, d->token);
	}
}

static void on_commit_timer(evutil_socket_t fd, short what, void *arg) { recorder_sync(arg); }

/* An external sink writes its proofs to the shared store: read the new ones
 * (by id, one indexed look) and hand them on as the in-process sink's are. */
static void on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
	struct recorder *r = arg;
	int64_t last;
	do {
		int64_t before = r->proofs_seen;
		if ((last = store_proofs_since(r->store, before, PROOF_POLL_BATCH, r->events.proof, r->events.ctx)) < 0) {
			store_failed(r);
			return;
		}
		r->proofs_seen = last;
		if (last - before < PROOF_POLL_BATCH)
			break;
	} while (!r->failed);
}

static void on_fail_event(evutil_socket_t fd, short what, void *arg)
{
	struct recorder *r = arg;
	r->events.failed(r->events.ctx);
}

struct recorder *recorder_new(struct event_base *base, struct store *store, bool shared_store,
			      const struct recorder_events *events)
{
	struct recorder *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->store = store;
	r->events = *events;
	r->shared_store = shared_store;
	r->commit_timer = event_new(base, -1, EV_PERSIST, on_commit_timer, r);
	r->due_timer = evtimer_new(base, on_due_timer, r);
	r->poll_timer = event_new(base, -1, EV_PERSIST, on_poll_timer, r);
	r->fail_event = evtimer_new(base, on_fail_event, r);
	if (!r->commit_timer || !r->due_timer || !r->poll_timer || !r->fail_event) {
		recorder_free(r);
		return NULL;
	}
	return r;
}

void recorder_free(struct recorder *r)
{
	if (r == NULL)
		return;
	if (r->commit_timer)
		event_free(r->commit_timer);
	if (r->due_timer)
		event_free(r->due_timer);
	if (r->poll_timer)
		event_free(r->poll_timer);
	if (r->fail_event)
		event_free(r->fail_event);
	free(r->due);
	free(r);
}

int recorder_begin(struct recorder *r, double wait, uint16_t campaign, int64_t round)
{
	if ((r->run_id = store_run_begin_in(r->store, time(NULL), wait, campaign, r->shared_store, round)) < 0 ||
	    (r->shared_store && (r->proofs_seen = store_proof_last_id(r->store)) < 0)) {
		log_error("verify: the store could not be written: not starting");
		return -1;
	}
	recorder_sync(r);
	struct timeval commit = to_timeval(COMMIT_INTERVAL);
	event_add(r->commit_timer, &commit);
	if (r->shared_store) {
		struct timeval poll = to_timeval(PROOF_POLL_INTERVAL);
		event_add(r->poll_timer, &poll);
	}
	return 0;
}

int recorder_end(struct recorder *r, bool stopped)
{
	/* Messages whose records still wait for their commit never went. */
	for (size_t i = 0; i < r->due_len; i++)
		recorder_withdraw(r, r->due[i].token);
	r->due_len = 0;
	event_del(r->commit_timer);
	event_del(r->due_timer);
	event_del(r->poll_timer);
	if (r->in_transaction && store_commit(r->store) != 0) {
		store_rollback(r->store);
		r->failed = true;
	}
	r->in_transaction = false;
	if (!r->failed && store_run_end(r->store, r->run_id, time(NULL), stopped ? "stopped" : "done") != 0)
		r->failed = true;
	else if (r->failed) /* a last try, to say so: the disk may have room again */
		store_run_end(r->store, r->run_id, time(NULL), "failed");
	return r->failed ? -1 : 0;
}

int recorder_probe(struct recorder *r, int64_t candidate_id, const char *family, const char *variant,
		   const char *token, const char *outcome, const char *reply)
{
	if (store_probe_put(r->store, r->run_id, candidate_id, family, variant, token, time(NULL), outcome, reply) !=
	    0) {
		store_failed(r);
		return -1;
	}
	return 0;
}

void recorder_probe_answer(struct recorder *r, const char *token, const char *outcome, const char *reply)
{
	if (store_probe_answer(r->store, r->run_id, token, outcome, reply, time(NULL)) != 0)
		store_failed(r);
}

int recorder_message_due(struct recorder *r, int32_t target, uint32_t conn_serial, int64_t candidate_id,
			 const char *family, const char *variant, const char *token)
{
	if (r->due_len == r->due_cap) { /* room first: a record must not miss its list */
		size_t cap = r->due_cap ? r->due_cap * 2 : 64;
		struct due_message *grown = realloc(r->due, cap * sizeof *grown);
		if (grown == NULL) {
			recorder_fail(r, "out of memory");
			return -1;
		}
		r->due = grown;
		r->due_cap = cap;
	}
	if (recorder_probe(r, candidate_id, family, variant, token, "message-due", NULL) != 0)
		return -1;
	if (r->due_len == 0) {
		struct timeval delay = to_timeval(MESSAGE_COMMIT_DELAY);
		evtimer_add(r->due_timer, &delay);
	}
	struct due_message *d = &r->due[r->due_len++];
	d->target = target;
	d->conn_serial = conn_serial;
	snprintf(d->token, sizeof d->token, "%s", token);
	return 0;
}

void recorder_finding(struct recorder *r, struct finding *finding)
{
	finding->run = r->run_id;
	if (store_finding_put(r->store, finding) != 0)
		store_failed(r);
}

void recorder_finding_proven(struct recorder *r, int64_t candidate_id, const char *verdict, const char *variant,
			     const struct proof *proof)
{
	if (store_finding_proven(r->store, r->run_id, candidate_id, verdict, variant, proof->token, proof->peer,
				 proof->received) != 0)
		store_failed(r);
}

int recorder_proof_bound(struct recorder *r, const char *token, char *variant, size_t variantlen)
{
	int bound = store_proof_bound(r->store, r->run_id, token, variant, variantlen);
	if (bound < 0)
		store_failed(r);
	return bound;
}

int recorder_proof_find(struct recorder *r, const char *token, uint8_t *test, char *peer, size_t peerlen)
{
	return store_proof_find(r->store, r->run_id, token, test, peer, peerlen) == 1;
}

int recorder_target_hit_find(struct recorder *r, const char *nonce, const char *token, time_t since, char *peer,
			     size_t peerlen)
{
	return store_target_hit_find(r->store, nonce, token, since, peer, peerlen) == 1;
}

/*
 * verify's run, shared with the verbs that verify a chosen set of hosts into
 * a round of their own (recheck, its owner-check forms): the same options,
 * engine, sink, exclusions and reconcile, with hooks for the round and the
 * targets. Plain verify records a round of kind 'verify'.
 */
#ifndef PLUGHOLE_CLI_VERIFY_H
#define PLUGHOLE_CLI_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "probe/engine.h"

struct verify_run;

struct verify_hooks {
	/*
	 * With the store open (and locked when store_lock): the round to record
	 * into, begun or resumed: its id; 0 when there is nothing to do (exit 0);
	 * -1 on an error (exit 1); -2 refused (exit 1, the hook said why).
	 */
	int64_t (*prepare)(void *ctx, struct store *store);
	/* Adds the round's targets with verify_add_target(); 0 or -1. */
	int (*add_targets)(void *ctx, struct verify_run *run, struct store *store, int64_t round);
	/* After the run: complete when every target got its verdict. Returns the exit status. */
	int (*finish)(void *ctx, struct store *store, int64_t round, bool complete);
	bool store_lock; /* hold the store's verify lock (one verify or recheck at a time) */
	void *ctx;
};

/* Runs verify's options and operands (none with hooks) through the engine into the hooks' round. */
int verify_main(struct cli *cli, int argc, char **argv, const struct verify_hooks *hooks);
/*
 * A target of the round, tested with families (PROBE_RELAY, PROBE_PROXY), unless an exclusion or
 * opt-out covers it (counted, logged). 1 added, 0 not, -1 error.
 */
int verify_add_target(struct verify_run *run, const char *address, uint16_t port, int64_t candidate_id,
		      unsigned families);
/*
 * The store's verify lock (<db>.verify.lock), held until exit; taken once per process. 0 held,
 * -2 another run holds it (logged unless quiet_when_held), -1 other error (logged).
 */
int verify_lock_store(const char *db_path, bool quiet_when_held);

#endif

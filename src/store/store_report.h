/*
 * What the remediation report reads (store_report.c): a campaign, its
 * recheck rounds, its frozen hosts with their owners' groups, each host's
 * outcome in a round (the campaign_round_outcomes view: the one definition of
 * open, changed, fixed, gone, inconclusive, untested) and how each owner's
 * letters fared. Read only. Each _each function calls fn per row, stops
 * when fn returns non-zero (and returns that), and returns 0 or -1 (logged).
 */
#ifndef PLUGHOLE_STORE_REPORT_H
#define PLUGHOLE_STORE_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/*
 * Each connection of the report reads in one snapshot (a recheck may be
 * writing meanwhile), with the store mapped into memory for its scans. 0 or -1; end it with
 * store_report_end().
 */
int store_report_begin(struct store *store);
void store_report_end(struct store *store);

/* A second connection to the same store, read only, for a thread of its own; NULL (logged) on failure. */
struct store *store_report_reopen(struct store *store);

struct store_report_campaign {
	int64_t id, created, seed;
	double control_fraction;
};
/* 1 with *out filled, 0 when no campaign has that name, -1 on error. */
int store_report_campaign(struct store *store, const char *name, struct store_report_campaign *out);

struct store_report_round {
	int64_t id, seq, started, finished; /* finished 0: not yet */
	const char *status;
};
typedef int (*store_report_round_fn)(void *ctx, const struct store_report_round *round);
/* The campaign's recheck rounds by seq. */
int store_report_rounds_each(struct store *store, int64_t campaign_id, store_report_round_fn fn, void *ctx);

/* A frozen host (a candidate of the campaign): text NULL when unknown, asn 0 when none. */
struct store_report_host {
	int64_t candidate_id, owner_id;
	const char *verdict, *software, *country, *agency, *as_name;
	int64_t asn;
};
typedef int (*store_report_host_fn)(void *ctx, const struct store_report_host *host);
/* The campaign's hosts, in the order they were frozen. */
int store_report_hosts_each(struct store *store, int64_t campaign_id, store_report_host_fn fn, void *ctx);

typedef int (*store_report_owner_fn)(void *ctx, int64_t owner_id, bool control);
/* The campaign's owners with their group. */
int store_report_owners_each(struct store *store, int64_t campaign_id, store_report_owner_fn fn, void *ctx);

typedef int (*store_report_outcome_fn)(void *ctx, int64_t candidate_id, const char *outcome);
/* Every host of the round's campaign with its outcome in that round, by candidate id. */
int store_report_outcomes_each(struct store *store, int64_t round_id, store_report_outcome_fn fn, void *ctx);

/*
 * Per campaign owner with letters: whether its first letter reached it
 * (sent and no bounce came back), and whether a later one did (a fallback
 * contact after a bounce).
 */
typedef int (*store_report_letters_fn)(void *ctx, int64_t owner_id, bool first_reached, bool later_reached);
int store_report_letters_each(struct store *store, int64_t campaign_id, store_report_letters_fn fn,
			      void *ctx);

#endif

/*
 * "plughole attribute": gives every finding lacking one its owner, contact,
 * rung, origin AS, country and agency. Lookups (and RDAP waits) happen
 * outside any transaction; each batch of results is written in one short
 * transaction, so the sink and the verifier are never kept waiting.
 */
#ifndef PLUGHOLE_ATTRIB_ASSIGN_H
#define PLUGHOLE_ATTRIB_ASSIGN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "attrib/owners.h"
#include "attrib/rdap.h"
#include "store/store.h"

struct attrib_assign_options {
	bool all;		   /* attribute again findings that have an attribution */
	const char *agencies_path; /* NULL: data/agencies.conf */
	bool rdap;
	struct rdap_options rdap_options;
	/* when set (a signal handler sets it): stop, writing what was resolved before; NULL: never */
	volatile sig_atomic_t *stop;
	/* may be NULL: findings attributed so far of all, every few hundred, for a progress line */
	void (*on_progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
};

struct attrib_assign_report {
	size_t findings; /* considered */
	size_t attributed;
	bool stopped; /* by options->stop, before every finding was attributed */
	size_t by_rung[RUNG_LAST];
	struct rdap_counters rdap;
	size_t index_ranges, index_bytes;
	double index_seconds, resolve_seconds;
};

int attrib_assign(struct store *store, const struct attrib_assign_options *options,
		  struct attrib_assign_report *report);

#endif

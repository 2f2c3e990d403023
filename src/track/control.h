/*
 * The control group: a seeded, reproducible random share of owners that get
 * no letter, stratified so that treatment and control look alike (same
 * countries, same verdicts). A pure function of the set of owners and the
 * seed: the order they come in changes nothing.
 */
#ifndef PLUGHOLE_CONTROL_H
#define PLUGHOLE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct control_unit {
	const char *key;     /* the owner's stable identity (organisation and contact) */
	const char *stratum; /* e.g. "country|verdict" */
	bool control;	     /* set by control_sample */
};

/*
 * Marks round(fraction * n) of the units as control, and in every stratum of
 * size m either floor(fraction * m) or ceil(fraction * m) of them: the strata
 * are visited in an order drawn from the seed, each taking what brings the
 * running total to round(fraction * units so far). Within a stratum the units
 * are ranked by a keyed hash of (seed, key). Keys are unique. fraction is in
 * [0, 1]. Returns the number marked, or -1 when out of memory.
 */
long control_sample(struct control_unit *units, size_t count, double fraction, uint64_t seed);

/* The keyed hash used to rank (exposed for tests). */
uint64_t control_hash(uint64_t seed, const char *text);

#endif

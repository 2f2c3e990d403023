/*
 * attribute_lookup: the index side of bench/attribute.sh. Reads every
 * registry snapshot of a store into the index (timed), prints its memory
 * per range, then times lookups of random addresses drawn uniformly from the
 * /8s the ranges lie in: the smallest enclosing range (the index's own
 * work), the whole enclosing chain, and full owner resolutions.
 *
 * usage: bench-attribute_lookup STORE [LOOKUPS] [RESOLUTIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrib/agencies.h"
#include "attrib/index.h"
#include "attrib/owners.h"
#include "core/log.h"
#include "core/paths.h"
#include "store/store.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* This thread's CPU time: "on one core" even when the machine is shared. */
static double cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t state = 0x1f2e3d4c5b6a7988ull;
static uint64_t next_random(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s STORE [LOOKUPS] [RESOLUTIONS]\n", argv[0]);
		return 2;
	}
	size_t lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
	size_t resolutions = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
	log_set_level(LOG_WARN);
	struct store *store = store_open(argv[1]);
	if (store == NULL)
		return 1;
	struct attrib_index index;
	attrib_index_init(&index);
	double t0 = now();
	if (attrib_index_load(&index, store) != 0)
		return 1;
	double built = now() - t0;
	store_close(store);

	size_t ranges = 0, range_bytes = 0, string_bytes = 0;
	bool populated[256] = {false};
	for (size_t i = 0; i < index.count; i++) {
		const struct snapshot *s = &index.snapshots[i];
		ranges += s->ranges.count;
		range_bytes += rangeset_memory(&s->ranges);
		string_bytes += s->pool_len + s->key_count * sizeof *s->keys;
		for (size_t e = 0; e < s->ranges.count; e++)
			if (addr_is_v4(&s->ranges.entries[e].range.first))
				populated[s->ranges.entries[e].range.first.bytes[12]] = true;
	}
	uint8_t slash8[256];
	size_t n8 = 0;
	for (int i = 0; i < 256; i++)
		if (populated[i])
			slash8[n8++] = (uint8_t)i;
	if (ranges == 0 || n8 == 0) {
		fprintf(stderr, "no IPv4 ranges in %s\n", argv[1]);
		return 1;
	}
	printf("index: %zu ranges read from the store and built in %.2f s\n", ranges, built);
	printf("index memory: %.1f MB for ranges (%.1f bytes per range: entries, parents, buckets)"
	       " + %.1f MB of records and strings (%.1f bytes per range)\n",
	       (double)range_bytes / 1e6, (double)range_bytes / (double)ranges, (double)string_bytes / 1e6,
	       (double)string_bytes / (double)ranges);

	struct addr *addresses = malloc(lookups * sizeof *addresses);
	if (addresses == NULL)
		return 1;
	for (size_t i = 0; i < lookups; i++) {
		uint64_t r = next_random();
		addr_from_v4(&addresses[i], (uint32_t)slash8[r % n8] << 24 | (uint32_t)(r >> 32 & 0xffffff));
	}

	/* 1. the smallest enclosing range, in every RPSL snapshot */
	size_t hits = 0;
	t0 = now();
	double c0 = cpu();
	for (size_t i = 0; i < lookups; i++)
		for (size_t s = 0; s < index.count; s++)
			if (index.snapshots[s].kind == SNAP_KIND_RPSL)
				hits += rangeset_lookup(&index.snapshots[s].ranges, &addresses[i]) >= 0;
	double t = now() - t0, c = cpu() - c0;
	printf("lookups: %zu random addresses in the %zu populated /8s: %.2f M lookups/s on one core"
	       " (%.2f s of CPU; %.2f s wall on this shared machine); %.1f%% inside a range\n",
	       lookups, n8, (double)lookups / c / 1e6, c, t, 100.0 * (double)hits / (double)lookups);

	/* 2. the whole chain, smallest first, across snapshots */
	struct attrib_ref chain[ATTRIB_MAX_CHAIN];
	size_t depth = 0;
	t0 = cpu();
	for (size_t i = 0; i < lookups; i++)
		depth += attrib_index_chain(&index, SNAP_KIND_RPSL, &addresses[i], chain, ATTRIB_MAX_CHAIN);
	t = cpu() - t0;
	printf("chains: %.2f M chain lookups/s (%.2f enclosing ranges on average)\n",
	       (double)lookups / t / 1e6, (double)depth / (double)lookups);

	/* 3. full owner resolutions: rungs, handles, trace text */
	struct agencies agencies;
	char path[4096];
	if (resolutions > 0 && agencies_load(&agencies, data_path("agencies.conf", path, sizeof path)) == 0) {
		struct owner_context ctx = {&index, &agencies, NULL};
		struct owner_result *result = malloc(sizeof *result);
		if (resolutions > lookups)
			resolutions = lookups;
		t0 = cpu();
		for (size_t i = 0; i < resolutions; i++)
			owner_resolve(&ctx, &addresses[i], result);
		t = cpu() - t0;
		printf("owners: %.0f owner resolutions/s (every rung, with the whois trace)\n",
		       (double)resolutions / t);
		free(result);
		agencies_free(&agencies);
	}
	free(addresses);
	attrib_index_free(&index);
	return 0;
}

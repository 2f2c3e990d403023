/*
 * A set of address ranges, each with an integer value, answering "which is the
 * smallest range holding this address?" in O(log n).
 *
 * Add ranges, call rangeset_build() once, then look up. Ranges are expected
 * to nest or be disjoint (CIDR blocks, registry inetnums); each range keeps
 * the index of its smallest enclosing range, so a lookup that lands on a
 * sibling climbs to the common parent, and callers can walk the parent
 * chain (the attribution fallbacks do).
 */
#ifndef PLUGHOLE_RANGESET_H
#define PLUGHOLE_RANGESET_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct rangeset_entry {
	struct range range;
	int32_t parent; /* index of the smallest enclosing entry, or -1 */
	int32_t value;
};

struct rangeset {
	struct rangeset_entry *entries;
	size_t count, capacity;
	int built;
	/* Built with the set when it is large: buckets[k] is the first entry whose
	 * start falls in bucket k (IPv4 by its top bucket_bits bits, IPv6 by its
	 * top bits), so a lookup searches a handful of entries, not the whole set. */
	uint32_t *buckets;
	unsigned bucket_bits;
	/* With the buckets, the IPv4 entries (contiguous: entries[v4_begin ..
	 * v4_begin + v4_count - 1]) again in 4 and 8 bytes: an IPv4 lookup reads
	 * these small arrays, not the 40-byte entries. */
	size_t v4_begin, v4_count;
	uint32_t *v4_first;
	struct rangeset_v4 {
		uint32_t last;
		int32_t parent;
	} *v4_rest;
};

void rangeset_init(struct rangeset *set);
void rangeset_free(struct rangeset *set);
int rangeset_add(struct rangeset *set, const struct range *range, int32_t value);
/* Makes room for count entries in all (saves the regrowing of a large set). */
int rangeset_reserve(struct rangeset *set, size_t count);
/* Sorts (unless the entries were added in order), links parents, builds the buckets. */
void rangeset_build(struct rangeset *set);
/* Bytes the set holds: entries and buckets. */
size_t rangeset_memory(const struct rangeset *set);
/* Index of the smallest entry holding addr, or -1. */
int32_t rangeset_lookup(const struct rangeset *set, const struct addr *addr);
static inline const struct rangeset_entry *rangeset_entry(const struct rangeset *set, int32_t index)
{
	return &set->entries[index];
}

#endif

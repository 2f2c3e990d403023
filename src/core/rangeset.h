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
};

void rangeset_init(struct rangeset *set);
void rangeset_free(struct rangeset *set);
int rangeset_add(struct rangeset *set, const struct range *range, int32_t value);
void rangeset_build(struct rangeset *set);
/* Index of the smallest entry holding addr, or -1. */
int32_t rangeset_lookup(const struct rangeset *set, const struct addr *addr);
static inline const struct rangeset_entry *rangeset_entry(const struct rangeset *set, int32_t index)
{
	return &set->entries[index];
}

#endif

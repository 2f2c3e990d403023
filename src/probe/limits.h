/*
 * Per-key limits with their waiting queues: how many items are active under
 * one key (a host, a /24), and which items wait, first come first served,
 * for a place under it. Items are small integers (the caller's indexes); the
 * table knows nothing of what they stand for. It grows as keys and items
 * come: a key's slot number never changes.
 */
#ifndef PLUGHOLE_LIMITS_H
#define PLUGHOLE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct limit_slot {
	struct addr key;
	uint32_t active;
	int32_t wait_head, wait_tail;
};

struct limit_table {
	struct limit_slot *slots; /* in order of first use: a slot's number is stable */
	size_t count, capacity;
	uint32_t *index;          /* open addressing by key: slot number + 1, 0 for empty */
	size_t mask;
	int32_t *wait_next;       /* per item: the next in its key's queue */
	size_t items;             /* room in wait_next */
	unsigned limit;
};

/* Room for about `items` items and as many keys to start with, each key allowing `limit` active. 0 or -1. */
int limit_table_init(struct limit_table *t, size_t items, unsigned limit);
void limit_table_free(struct limit_table *t);
/* Room for items numbered below `items`. 0 or -1. */
int limit_table_reserve(struct limit_table *t, size_t items);
/* The slot of key, made at its first use; -1 when out of memory. */
int64_t limit_slot_for(struct limit_table *t, const struct addr *key);
/* Whether the key has no room for one more active item. */
bool limit_full(const struct limit_table *t, uint32_t slot);
void limit_take(struct limit_table *t, uint32_t slot);
/* The item (below the reserved room) waits for a place under the key; it is in no other queue of this table. */
void limit_wait(struct limit_table *t, uint32_t slot, int32_t item);
/* One active item left the key: the first waiter, now free to go (not taken yet), or -1. */
int32_t limit_release(struct limit_table *t, uint32_t slot);
/* Items active under the key. */
uint32_t limit_active(const struct limit_table *t, uint32_t slot);

#endif

/*
 * Per-key limits with their waiting queues: how many items are active under
 * one key (a host, a /24), and which items wait, first come first served,
 * for a place under it. Items are small integers below the table's capacity
 * (the caller's indexes); the table knows nothing of what they stand for.
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
	bool used;
};

struct limit_table {
	struct limit_slot *slots; /* open addressing by key */
	size_t mask;
	int32_t *wait_next;       /* per item: the next in its key's queue */
	size_t items;
	unsigned limit;
};

/* Room for up to `items` items (and as many keys), each key allowing `limit` active. 0 or -1. */
int limit_table_init(struct limit_table *t, size_t items, unsigned limit);
void limit_table_free(struct limit_table *t);
/* The slot of key, made at its first use (at most `items` keys). */
uint32_t limit_slot_for(struct limit_table *t, const struct addr *key);
/* Whether the key has no room for one more active item. */
bool limit_full(const struct limit_table *t, uint32_t slot);
void limit_take(struct limit_table *t, uint32_t slot);
/* The item waits for a place under the key (it is in no other queue of this table). */
void limit_wait(struct limit_table *t, uint32_t slot, int32_t item);
/* One active item left the key: the first waiter, now free to go (not taken yet), or -1. */
int32_t limit_release(struct limit_table *t, uint32_t slot);
/* Items active under the key. */
uint32_t limit_active(const struct limit_table *t, uint32_t slot);

#endif

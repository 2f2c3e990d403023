#include "probe/limits.h"

#include <stdlib.h>
#include <string.h>

static size_t index_size_for(size_t n)
{
	size_t size = 16;
	while (size < n * 2)
		size <<= 1;
	return size;
}

int limit_table_init(struct limit_table *t, size_t items, unsigned limit)
{
	size_t size = index_size_for(items);
	*t = (struct limit_table){.mask = size - 1, .limit = limit};
	t->index = calloc(size, sizeof *t->index);
	if (t->index == NULL || limit_table_reserve(t, items ? items : 1) != 0) {
		limit_table_free(t);
		return -1;
	}
	return 0;
}

void limit_table_free(struct limit_table *t)
{
	free(t->slots);
	free(t->index);
	free(t->wait_next);
	*t = (struct limit_table){0};
}

int limit_table_reserve(struct limit_table *t, size_t items)
{
	if (items <= t->items)
		return 0;
	size_t room = t->items ? t->items : 16;
	while (room < items)
		room *= 2;
	int32_t *grown = realloc(t->wait_next, room * sizeof *grown);
	if (grown == NULL)
		return -1;
	t->wait_next = grown;
	t->items = room;
	return 0;
}

static size_t index_find(const struct limit_table *t, const struct addr *key)
{
	size_t i = addr_hash(key, 0) & t->mask;
	while (t->index[i] != 0 && addr_cmp(&t->slots[t->index[i] - 1].key, key) != 0)
		i = (i + 1) & t->mask;
	return i;
}

/* Keeps the index at most half full: a new, larger one over the same slots. */
static int index_grow(struct limit_table *t)
{
	size_t size = index_size_for(t->count + 1);
	if (size <= t->mask + 1)
		return 0;
	uint32_t *old = t->index;
	if ((t->index = calloc(size, sizeof *t->index)) == NULL) {
		t->index = old;
		return -1;
	}
	free(old);
	t->mask = size - 1;
	for (size_t s = 0; s < t->count; s++)
		t->index[index_find(t, &t->slots[s].key)] = (uint32_t)s + 1;
	return 0;
}

int64_t limit_slot_for(struct limit_table *t, const struct addr *key)
{
	size_t i = index_find(t, key);
	if (t->index[i] != 0)
		return t->index[i] - 1;
	if (t->count == t->capacity) {
		size_t capacity = t->capacity ? t->capacity * 2 : 64;
		struct limit_slot *grown = realloc(t->slots, capacity * sizeof *grown);
		if (grown == NULL)
			return -1;
		t->slots = grown;
		t->capacity = capacity;
	}
	if (index_grow(t) != 0)
		return -1;
	uint32_t slot = (uint32_t)t->count++;
	t->slots[slot] = (struct limit_slot){.key = *key, .wait_head = -1, .wait_tail = -1};
	t->index[index_find(t, key)] = slot + 1;
	return slot;
}

bool limit_full(const struct limit_table *t, uint32_t slot) { return t->slots[slot].active >= t->limit; }
void limit_take(struct limit_table *t, uint32_t slot) { t->slots[slot].active++; }
uint32_t limit_active(const struct limit_table *t, uint32_t slot) { return t->slots[slot].active; }

void limit_wait(struct limit_table *t, uint32_t slot, int32_t item)
{
	struct limit_slot *s = &t->slots[slot];
	t->wait_next[item] = -1;
	if (s->wait_tail >= 0)
		t->wait_next[s->wait_tail] = item;
	else
		s->wait_head = item;
	s->wait_tail = item;
}

int32_t limit_release(struct limit_table *t, uint32_t slot)
{
	struct limit_slot *s = &t->slots[slot];
	s->active--;
	int32_t next = s->wait_head;
	if (next >= 0) {
		s->wait_head = t->wait_next[next];
		if (s->wait_head < 0)
			s->wait_tail = -1;
	}
	return next;
}

#include "probe/limits.h"

#include <stdlib.h>

int limit_table_init(struct limit_table *t, size_t items, unsigned limit)
{
	size_t size = 16;
	while (size < items * 2)
		size <<= 1;
	*t = (struct limit_table){.mask = size - 1, .items = items, .limit = limit};
	t->slots = calloc(size, sizeof *t->slots);
	t->wait_next = malloc((items ? items : 1) * sizeof *t->wait_next);
	if (t->slots == NULL || t->wait_next == NULL) {
		limit_table_free(t);
		return -1;
	}
	return 0;
}

void limit_table_free(struct limit_table *t)
{
	free(t->slots);
	free(t->wait_next);
	t->slots = NULL;
	t->wait_next = NULL;
}

uint32_t limit_slot_for(struct limit_table *t, const struct addr *key)
{
	size_t i = addr_hash(key, 0) & t->mask;
	while (t->slots[i].used && addr_cmp(&t->slots[i].key, key) != 0)
		i = (i + 1) & t->mask;
	if (!t->slots[i].used)
		t->slots[i] = (struct limit_slot){.key = *key, .used = true, .wait_head = -1, .wait_tail = -1};
	return (uint32_t)i;
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

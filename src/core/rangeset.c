#include "core/rangeset.h"

#include <stdlib.h>

void rangeset_init(struct rangeset *set)
{
	set->entries = NULL;
	set->count = set->capacity = 0;
	set->built = 0;
}

void rangeset_free(struct rangeset *set)
{
	free(set->entries);
	rangeset_init(set);
}

int rangeset_add(struct rangeset *set, const struct range *range, int32_t value)
{
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 64;
		struct rangeset_entry *grown = realloc(set->entries, capacity * sizeof *grown);
		if (grown == NULL)
			return -1;
		set->entries = grown;
		set->capacity = capacity;
	}
	set->entries[set->count++] = (struct rangeset_entry){.range = *range, .parent = -1, .value = value};
	set->built = 0;
	return 0;
}

/* Outer ranges first: by start ascending, then by end descending. */
static int entry_order(const void *pa, const void *pb)
{
	const struct rangeset_entry *a = pa, *b = pb;
	int c = addr_cmp(&a->range.first, &b->range.first);
	return c != 0 ? c : addr_cmp(&b->range.last, &a->range.last);
}

void rangeset_build(struct rangeset *set)
{
	qsort(set->entries, set->count, sizeof *set->entries, entry_order);
	/* A stack of open ranges gives each entry its smallest enclosing one. */
	int32_t *stack = malloc((set->count + 1) * sizeof *stack);
	size_t depth = 0;
	for (size_t i = 0; i < set->count; i++) {
		struct rangeset_entry *e = &set->entries[i];
		while (depth > 0 &&
		       addr_cmp(&set->entries[stack[depth - 1]].range.last, &e->range.first) < 0)
			depth--;
		e->parent = -1;
		/* Partial overlaps (rare in registries) hang under the last range holding
		 * their start; the ancestor walk in lookup still checks containment. */
		while (depth > 0 && !range_contains(&set->entries[stack[depth - 1]].range, &e->range.last))
			depth--;
		if (depth > 0)
			e->parent = stack[depth - 1];
		stack[depth++] = (int32_t)i;
	}
	free(stack);
	set->built = 1;
}

int32_t rangeset_lookup(const struct rangeset *set, const struct addr *addr)
{
	if (set->count == 0)
		return -1;
	/* The last entry starting at or before addr is the innermost candidate. */
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr_cmp(&set->entries[mid].range.first, addr) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	int32_t i = (int32_t)lo - 1;
	while (i >= 0 && !range_contains(&set->entries[i].range, addr))
		i = set->entries[i].parent;
	return i;
}

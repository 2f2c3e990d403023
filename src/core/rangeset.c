#include "core/rangeset.h"

#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

#define BUCKET_MIN_ENTRIES 64 /* below this a plain binary search is as fast */
#define BUCKET_MAX_BITS 22    /* 4 Mi IPv4 buckets: about 4 bytes per range at 4 M ranges */

void rangeset_init(struct rangeset *set)
{
	set->entries = NULL;
	set->count = set->capacity = 0;
	set->built = 0;
	set->buckets = NULL;
	set->bucket_bits = 0;
	set->v4_begin = set->v4_count = 0;
	set->v4_first = NULL;
	set->v4_rest = NULL;
}

static void free_accelerators(struct rangeset *set)
{
	free(set->buckets);
	free(set->v4_first);
	free(set->v4_rest);
	set->buckets = NULL;
	set->v4_first = NULL;
	set->v4_rest = NULL;
	set->bucket_bits = 0;
	set->v4_begin = set->v4_count = 0;
}

void rangeset_free(struct rangeset *set)
{
	free(set->entries);
	free_accelerators(set);
	rangeset_init(set);
}

int rangeset_reserve(struct rangeset *set, size_t count)
{
	if (count <= set->capacity)
		return 0;
	struct rangeset_entry *grown = realloc(set->entries, count * sizeof *grown);
	if (grown == NULL)
		return -1;
	set->entries = grown;
	set->capacity = count;
	return 0;
}

size_t rangeset_memory(const struct rangeset *set)
{
	unsigned bits = set->bucket_bits;
	size_t buckets = set->buckets ? 3 + ((size_t)1 << bits) + ((size_t)1 << (bits < 16 ? bits : 16)) : 0;
	size_t keys = set->v4_first ? set->v4_count * (sizeof *set->v4_first + sizeof *set->v4_rest) : 0;
	return set->capacity * sizeof *set->entries + buckets * sizeof *set->buckets + keys;
}

static inline uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* addr_cmp without the call: lookups do little else. */
static inline int key_cmp(const struct addr *a, const struct addr *b)
{
	uint64_t x = load_be64(a->bytes), y = load_be64(b->bytes);
	if (x == y) {
		x = load_be64(a->bytes + 8);
		y = load_be64(b->bytes + 8);
	}
	return (x > y) - (x < y);
}

/*
 * Buckets in address order: IPv6 below the IPv4-mapped block, then IPv4 by
 * its top bits, then the rest of IPv6 by its top bits.
 */
static inline uint32_t bucket_of(unsigned bits, const struct addr *a)
{
	uint64_t high = load_be64(a->bytes), low = load_be64(a->bytes + 8);
	unsigned v6_bits = bits < 16 ? bits : 16;
	if (high == 0 && (low >> 32) < 0xffff)
		return 0;
	if (high == 0 && (low >> 32) == 0xffff)
		return 1 + (uint32_t)((low & 0xffffffffu) >> (32 - bits));
	return 1 + (1u << bits) + (uint32_t)(high >> (64 - v6_bits));
}

int rangeset_add(struct rangeset *set, const struct range *range, int32_t value)
{
	struct rangeset_entry *grown = grow_array(set->entries, &set->capacity, set->count, 1, sizeof *grown);
	if (grown == NULL)
		return -1;
	set->entries = grown;
	set->entries[set->count++] = (struct rangeset_entry){.range = *range, .parent = -1, .value = value};
	set->built = 0;
	if (set->buckets != NULL)
		free_accelerators(set); /* stale until the next build */
	return 0;
}

/* Outer ranges first: by start ascending, then by end descending. */
static int entry_order(const void *pa, const void *pb)
{
	const struct rangeset_entry *a = pa, *b = pb;
	int c = addr_cmp(&a->range.first, &b->range.first);
	return c != 0 ? c : addr_cmp(&b->range.last, &a->range.last);
}

static void build_buckets(struct rangeset *set)
{
	free_accelerators(set);
	if (set->count < BUCKET_MIN_ENTRIES)
		return;
	unsigned bits = 4;
	while (bits < BUCKET_MAX_BITS && ((size_t)1 << bits) < set->count)
		bits++;
	size_t total = 2 + ((size_t)1 << bits) + ((size_t)1 << (bits < 16 ? bits : 16));
	set->buckets = malloc((total + 1) * sizeof *set->buckets);
	if (set->buckets == NULL)
		return; /* lookups fall back to searching everything */
	size_t next = 0;
	for (size_t i = 0; i < set->count; i++) {
		uint32_t k = bucket_of(bits, &set->entries[i].range.first);
		while (next <= k)
			set->buckets[next++] = (uint32_t)i;
	}
	while (next <= total)
		set->buckets[next++] = (uint32_t)set->count;
	set->bucket_bits = bits;
	/* The IPv4-mapped block is one stretch of the address order, so its entries are one stretch too. */
	size_t begin = set->buckets[1], end = set->buckets[1 + ((size_t)1 << bits)];
	while (begin < end && !addr_is_v4(&set->entries[end - 1].range.last))
		end--; /* an IPv6 range starting inside the block would end past it */
	set->v4_first = malloc((end - begin + 1) * sizeof *set->v4_first);
	set->v4_rest = malloc((end - begin + 1) * sizeof *set->v4_rest);
	if (set->v4_first == NULL || set->v4_rest == NULL) {
		free_accelerators(set);
		return;
	}
	for (size_t i = begin; i < end; i++) {
		set->v4_first[i - begin] = addr_v4(&set->entries[i].range.first);
		set->v4_rest[i - begin] =
		    (struct rangeset_v4){addr_v4(&set->entries[i].range.last), set->entries[i].parent};
	}
	set->v4_begin = begin;
	set->v4_count = end - begin;
}

void rangeset_build(struct rangeset *set)
{
	/* Loaders that keep their ranges sorted spare the sort. */
	size_t sorted = 1;
	while (sorted < set->count && entry_order(&set->entries[sorted - 1], &set->entries[sorted]) <= 0)
		sorted++;
	if (sorted < set->count)
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
	build_buckets(set);
	set->built = 1;
}

int32_t rangeset_lookup(const struct rangeset *set, const struct addr *addr)
{
	if (set->count == 0)
		return -1;
	/* The last entry starting at or before addr is the innermost candidate.
	 * Entries before addr's bucket all start before addr. */
	size_t lo = 0, hi = set->count;
	if (set->buckets != NULL) {
		uint32_t k = bucket_of(set->bucket_bits, addr);
		lo = set->buckets[k];
		hi = set->buckets[k + 1];
		if (set->v4_first != NULL && addr_is_v4(addr) && lo >= set->v4_begin &&
		    hi <= set->v4_begin + set->v4_count) {
			/* An IPv4 bucket: search and climb the small arrays while in the IPv4 stretch. */
			uint32_t a = addr_v4(addr);
			size_t base = set->v4_begin;
			lo -= base;
			hi -= base;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (set->v4_first[mid] <= a)
					lo = mid + 1;
				else
					hi = mid;
			}
			int32_t i = (int32_t)(lo + base) - 1;
			while (i >= (int32_t)base && (size_t)i < base + set->v4_count) {
				if (set->v4_rest[(size_t)i - base].last >= a)
					return i;
				i = set->v4_rest[(size_t)i - base].parent;
			}
			/* left the stretch: an IPv6 range below it may still hold addr */
			while (i >= 0 && key_cmp(addr, &set->entries[i].range.last) > 0)
				i = set->entries[i].parent;
			return i;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(&set->entries[mid].range.first, addr) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	int32_t i = (int32_t)lo - 1;
	while (i >= 0 && key_cmp(addr, &set->entries[i].range.last) > 0)
		i = set->entries[i].parent;
	return i;
}

#include "track/control.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over the seed's bytes and the text, then splitmix64's finaliser to
 * spread it: fast, stable across platforms, and no secret is needed (the
 * seed is published so anyone can redraw the groups). */
uint64_t control_hash(uint64_t seed, const char *text)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 8; i++) {
		h ^= (seed >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	h += 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

struct ranked {
	struct control_unit *unit;
	uint64_t stratum_rank, rank;
};

/* By stratum (its drawn rank, then its name), then by the unit's rank, then key. */
static int by_rank(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->stratum_rank != y->stratum_rank)
		return x->stratum_rank < y->stratum_rank ? -1 : 1;
	int c = strcmp(x->unit->stratum, y->unit->stratum);
	if (c != 0)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->unit->key, y->unit->key);
}

static size_t rounded(double fraction, size_t n)
{
	return (size_t)floor(fraction * (double)n + 0.5);
}

long control_sample(struct control_unit *units, size_t count, double fraction, uint64_t seed)
{
	if (fraction < 0)
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	struct ranked *r = malloc((count ? count : 1) * sizeof *r);
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		units[i].control = false;
		/* the stratum's order draws from another stream than the units' ranks */
		r[i] = (struct ranked){&units[i], control_hash(~seed, units[i].stratum),
				       control_hash(seed, units[i].key)};
	}
	qsort(r, count, sizeof *r, by_rank);
	long marked = 0;
	size_t seen = 0, taken = 0;
	for (size_t start = 0; start < count;) {
		size_t end = start;
		while (end < count && strcmp(r[end].unit->stratum, r[start].unit->stratum) == 0)
			end++;
		seen += end - start;
		size_t want = rounded(fraction, seen) - taken;
		for (size_t i = start; i < start + want; i++)
			r[i].unit->control = true;
		taken += want;
		marked += (long)want;
		start = end;
	}
	free(r);
	return marked;
}

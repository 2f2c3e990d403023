/*
 * What the sink's TCP target may write to the store: every connection is a
 * target_hits row, so a client that connects in a loop would grow the store
 * without end (the session limits bound connections at once, not over time).
 * Each interval, one address (an IPv6 /64: one host's usual share) may write
 * so many rows and bytes, and the whole target so many; past that a hit is
 * counted, not stored. Hits carrying a genuine token are proofs: they draw on
 * the address's own separate allowance and never on the target's, so junk
 * cannot crowd them out, and a replayed token stays bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "sink/sink_internal.h"

enum { BUDGET_PEERS = 4096 }; /* addresses tracked per interval; beyond, only the whole target's budget */

struct budget_peer {
	struct addr key;
	bool used;
	bool warned; /* its first refusal this interval was logged */
	unsigned rows, proof_rows;
	size_t bytes, proof_bytes;
};

struct sink_budget {
	struct sink_budget_limits limits;
	time_t started; /* this interval */
	unsigned rows;
	size_t bytes;
	bool warned;
	struct budget_peer peers[BUDGET_PEERS];
};

struct sink_budget *sink_budget_new(const struct sink_budget_limits *limits)
{
	struct sink_budget *b = calloc(1, sizeof *b);
	if (b != NULL)
		b->limits = *limits;
	return b;
}

void sink_budget_free(struct sink_budget *b)
{
	free(b);
}

/* An IPv4 address, or an IPv6 address's /64. */
static struct addr budget_key(const struct addr *a)
{
	struct addr key = *a;
	if (!addr_is_v4(a))
		memset(key.bytes + 8, 0, 8);
	return key;
}

/* The address's entry, created if need be; NULL when the table is full. */
static struct budget_peer *budget_peer(struct sink_budget *b, const struct addr *a)
{
	struct addr key = budget_key(a);
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < sizeof key.bytes; i++)
		h = (h ^ key.bytes[i]) * 16777619u;
	for (size_t n = 0, i = h % BUDGET_PEERS; n < BUDGET_PEERS; n++, i = (i + 1) % BUDGET_PEERS) {
		struct budget_peer *p = &b->peers[i];
		if (!p->used) {
			p->used = true;
			p->key = key;
			return p;
		}
		if (addr_cmp(&p->key, &key) == 0)
			return p;
	}
	return NULL;
}

enum sink_budget_verdict sink_budget_take(struct sink_budget *b, const struct addr *peer, size_t bytes,
					  bool proof, time_t now)
{
	const struct sink_budget_limits *l = &b->limits;
	if (now - b->started >= (time_t)l->interval || now < b->started) {
		memset(b->peers, 0, sizeof b->peers);
		b->rows = 0;
		b->bytes = 0;
		b->warned = false;
		b->started = now;
	}
	struct budget_peer *p = budget_peer(b, peer);
	if (proof) {
		if (p != NULL && (p->proof_rows >= l->rows_per_peer || p->proof_bytes + bytes > l->bytes_per_peer))
			return p->warned ? BUDGET_DROP : (p->warned = true, BUDGET_DROP_PEER_FIRST);
		if (p != NULL) {
			p->proof_rows++;
			p->proof_bytes += bytes;
		}
		return BUDGET_TAKEN;
	}
	if (p != NULL && (p->rows >= l->rows_per_peer || p->bytes + bytes > l->bytes_per_peer))
		return p->warned ? BUDGET_DROP : (p->warned = true, BUDGET_DROP_PEER_FIRST);
	if (b->rows >= l->rows || b->bytes + bytes > l->bytes)
		return b->warned ? BUDGET_DROP : (b->warned = true, BUDGET_DROP_ALL_FIRST);
	if (p != NULL) {
		p->rows++;
		p->bytes += bytes;
	}
	b->rows++;
	b->bytes += bytes;
	return BUDGET_TAKEN;
}

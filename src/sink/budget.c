/*
 * What the sink's TCP target may write to the store: every connection is a
 * target_hits row, so a client that connects in a loop would grow the store
 * without end (the session limits bound connections at once, not over time).
 * Each interval, one address (an IPv6 /64: one host's usual share) may write
 * so many rows and bytes, and the whole target so many; past that a hit is
 * counted, not stored. Hits carrying a genuine token are proofs and never
 * draw on those budgets, so junk cannot crowd them out, however many proxies
 * share one exit address; only a token replayed over and over is cut off
 * (genuine tokens are the ones we sent: there are only so many).
 */
#include <stdlib.h>
#include <string.h>

#include "sink/sink_internal.h"

enum {
	BUDGET_PEERS = 4096,   /* addresses tracked per interval; beyond, only the whole target's budget */
	BUDGET_TOKENS = 16384, /* genuine tokens tracked per interval; beyond, not limited */
};

struct budget_peer {
	struct addr key;
	bool used;
	bool warned; /* its first refusal this interval was logged */
	unsigned rows;
	size_t bytes;
};

struct budget_token {
	uint64_t hash; /* 0: free */
	unsigned count;
};

struct sink_budget {
	struct sink_budget_limits limits;
	time_t started; /* this interval */
	unsigned rows;
	size_t bytes;
	bool warned;
	struct budget_peer peers[BUDGET_PEERS];
	struct budget_token tokens[BUDGET_TOKENS];
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

/* How often this interval the token came, counting this time; 0 when the table is full. */
static unsigned budget_token_seen(struct sink_budget *b, const char *token)
{
	uint64_t h = 14695981039346656037u; /* FNV-1a, 64 bits */
	for (const char *p = token; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	if (h == 0)
		h = 1;
	for (size_t n = 0, i = h % BUDGET_TOKENS; n < BUDGET_TOKENS; n++, i = (i + 1) % BUDGET_TOKENS) {
		struct budget_token *t = &b->tokens[i];
		if (t->hash == 0)
			t->hash = h;
		if (t->hash == h)
			return ++t->count;
	}
	return 0;
}

enum sink_budget_verdict sink_budget_take(struct sink_budget *b, const struct addr *peer, size_t bytes,
					  const char *token, time_t now)
{
	const struct sink_budget_limits *l = &b->limits;
	if (now - b->started >= (time_t)l->interval || now < b->started) {
		memset(b->peers, 0, sizeof b->peers);
		memset(b->tokens, 0, sizeof b->tokens);
		b->rows = 0;
		b->bytes = 0;
		b->warned = false;
		b->started = now;
	}
	if (token != NULL) {
		unsigned seen = budget_token_seen(b, token);
		if (seen <= SINK_TARGET_TOKEN_REPEATS)
			return BUDGET_TAKEN;
		return seen == SINK_TARGET_TOKEN_REPEATS + 1 ? BUDGET_DROP_TOKEN_FIRST : BUDGET_DROP;
	}
	struct budget_peer *p = budget_peer(b, peer);
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

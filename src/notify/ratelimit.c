#include "notify/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static void bucket_init(struct bucket *b, double per_minute, double now)
{
	*b = (struct bucket){.rate = per_minute > 0 ? per_minute / 60.0 : 0, .tokens = 1, .last = now};
}

static void refill(struct bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > 1)
			b->tokens = 1;
	}
	b->last = now > b->last ? now : b->last;
}

/* The seconds until b holds a token, without taking it. */
static double bucket_wait(struct bucket *b, double now)
{
	if (b->rate <= 0)
		return 0;
	refill(b, now);
	return b->tokens >= 1 ? 0 : (1 - b->tokens) / b->rate;
}

double bucket_take(struct bucket *b, double now)
{
	double wait = bucket_wait(b, now);
	if (wait == 0 && b->rate > 0)
		b->tokens -= 1;
	return wait;
}

int ratelimit_init(struct ratelimit *r, double global_per_minute, double domain_per_minute, double now)
{
	*r = (struct ratelimit){.per_domain = domain_per_minute > 0 ? domain_per_minute / 60.0 : 0};
	bucket_init(&r->global, global_per_minute, now);
	if (r->per_domain > 0 && (r->domains = calloc(RATELIMIT_DOMAINS, sizeof *r->domains)) == NULL)
		return -1;
	return 0;
}

void ratelimit_free(struct ratelimit *r)
{
	free(r->domains);
	r->domains = NULL;
}

static struct bucket *domain_bucket(struct ratelimit *r, const char *domain, double now)
{
	size_t oldest = 0;
	for (size_t i = 0; i < r->domain_count; i++) {
		if (strcasecmp(r->domains[i].name, domain) == 0)
			return &r->domains[i].b;
		if (r->domains[i].b.last < r->domains[oldest].b.last)
			oldest = i;
	}
	/* forgetting the longest idle domain is safe: its bucket had refilled to (nearly) full */
	size_t slot = r->domain_count < RATELIMIT_DOMAINS ? r->domain_count++ : oldest;
	snprintf(r->domains[slot].name, sizeof r->domains[slot].name, "%s", domain);
	r->domains[slot].b = (struct bucket){.rate = r->per_domain, .tokens = 1, .last = now};
	return &r->domains[slot].b;
}

double ratelimit_take(struct ratelimit *r, const char *domain, double now)
{
	struct bucket *d = r->per_domain > 0 && domain ? domain_bucket(r, domain, now) : NULL;
	double wg = bucket_wait(&r->global, now), wd = d ? bucket_wait(d, now) : 0;
	if (wg > 0 || wd > 0)
		return wg > wd ? wg : wd;
	bucket_take(&r->global, now);
	if (d)
		bucket_take(d, now);
	return 0;
}

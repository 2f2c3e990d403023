/*
 * Sending pace: a global token bucket and one per recipient domain, each
 * refilled at PER_MINUTE / 60 tokens a second up to a burst of one token, so
 * letters go out evenly spaced, never in clumps. Pure: the caller passes the
 * clock (seconds, monotonic) and sleeps as told.
 */
#ifndef PLUGHOLE_RATELIMIT_H
#define PLUGHOLE_RATELIMIT_H

#include <stddef.h>

struct bucket {
	double rate;   /* tokens a second; 0: unlimited */
	double tokens; /* at most one */
	double last;   /* when tokens was computed */
};

#define RATELIMIT_DOMAINS 4096 /* domains tracked; beyond that the one idle longest is forgotten */

struct ratelimit {
	struct bucket global;
	double per_domain; /* tokens a second for each domain; 0: unlimited */
	struct ratelimit_domain {
		char name[256];
		struct bucket b;
	} * domains;
	size_t domain_count;
};

/* per_minute 0: that limit is off. 0, or -1 out of memory. */
int ratelimit_init(struct ratelimit *r, double global_per_minute, double domain_per_minute, double now);
void ratelimit_free(struct ratelimit *r);

/*
 * Whether a letter to domain may go at now: 0 when it may (the tokens are
 * taken), else the seconds until it may (nothing taken).
 */
double ratelimit_take(struct ratelimit *r, const char *domain, double now);

/* One bucket: the seconds until a token is there (0: taken now). */
double bucket_take(struct bucket *b, double now);

#endif

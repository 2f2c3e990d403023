/*
 * The statistics of the remediation report, as pure functions over counts:
 * a proportion with its 95 % Wilson score interval, the difference of two
 * proportions with Newcombe's hybrid score interval (his method 10, built
 * from the two Wilson intervals), and the pooled two-proportion z test.
 * A group of n = 0 has no rate: defined is false, and the numbers are 0 (so
 * nothing prints NaN); callers print "no rate" instead.
 */
#ifndef PLUGHOLE_REPORT_STATS_H
#define PLUGHOLE_REPORT_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* The normal quantile for 95 % two-sided. */
#define STATS_Z95 1.959963984540054

struct proportion {
	bool defined; /* n > 0 */
	uint64_t k, n;
	double rate, low, high; /* k / n and its Wilson interval, in [0, 1] */
};

struct difference {
	bool defined;		 /* both groups have n > 0 */
	double value, low, high; /* a - b and its interval, in [-1, 1] */
};

struct ztest {
	bool defined; /* both n > 0, and neither all nor none remediated over both */
	double z, p;  /* z of a - b; two-sided p-value */
};

/* k of n (k <= n; a k above n is taken as n) with its 95 % Wilson score interval. */
struct proportion stats_wilson(uint64_t k, uint64_t n);
/* a - b with Newcombe's hybrid score interval from the two Wilson intervals. */
struct difference stats_difference(const struct proportion *a, const struct proportion *b);
/* The pooled two-proportion z test of a against b, two-sided. */
struct ztest stats_ztest(const struct proportion *a, const struct proportion *b);

/* Below this many, a group shows its counts ("3 of 7"), never a bare percentage. */
#define STATS_SMALL_N 10

/*
 * A proportion as the report prints it: "no rate (n = 0)", "3 of 7" under
 * STATS_SMALL_N, else "56.6 % (48.2-64.7 %; 94 of 166)". Returns buf.
 */
const char *stats_format(char *buf, unsigned long len, const struct proportion *p);
/* A difference in percentage points, "+47.4 pp (38.6 to 55.0)", or "none (a group is empty)". */
const char *stats_format_difference(char *buf, unsigned long len, const struct difference *d);
/* "z = 2.65, p = 0.0080" (p < 0.0001 as such), or "no test (...why...)". */
const char *stats_format_ztest(char *buf, unsigned long len, const struct proportion *a,
			       const struct proportion *b, const struct ztest *t);

#endif

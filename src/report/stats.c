/* Wilson, Newcombe and the two-proportion z test (stats.h). */
#include <math.h>
#include <stdio.h>

#include "report/stats.h"

struct proportion stats_wilson(uint64_t k, uint64_t n)
{
	struct proportion p = {.k = k > n ? n : k, .n = n};
	if (n == 0)
		return p;
	double z2 = STATS_Z95 * STATS_Z95, nn = (double)n;
	double hat = (double)p.k / nn;
	double centre = (hat + z2 / (2 * nn)) / (1 + z2 / nn);
	double half = STATS_Z95 / (1 + z2 / nn) * sqrt(hat * (1 - hat) / nn + z2 / (4 * nn * nn));
	p.defined = true;
	p.rate = hat;
	/* Exact at 0 and n (the formula lands there up to rounding). */
	p.low = p.k == 0 ? 0 : fmax(0, centre - half);
	p.high = p.k == n ? 1 : fmin(1, centre + half);
	return p;
}

struct difference stats_difference(const struct proportion *a, const struct proportion *b)
{
	struct difference d = {0};
	if (!a->defined || !b->defined)
		return d;
	d.defined = true;
	d.value = a->rate - b->rate;
	d.low = d.value -
		sqrt((a->rate - a->low) * (a->rate - a->low) + (b->high - b->rate) * (b->high - b->rate));
	d.high = d.value +
		 sqrt((a->high - a->rate) * (a->high - a->rate) + (b->rate - b->low) * (b->rate - b->low));
	return d;
}

struct ztest stats_ztest(const struct proportion *a, const struct proportion *b)
{
	struct ztest t = {0};
	if (!a->defined || !b->defined)
		return t;
	double pooled = (double)(a->k + b->k) / (double)(a->n + b->n);
	double se = sqrt(pooled * (1 - pooled) * (1 / (double)a->n + 1 / (double)b->n));
	/* All or none remediated in both groups: no variation to test. */
	if (!(se > 0))
		return t;
	t.defined = true;
	t.z = (a->rate - b->rate) / se;
	t.p = erfc(fabs(t.z) / sqrt(2));
	return t;
}

const char *stats_format(char *buf, unsigned long len, const struct proportion *p)
{
	if (!p->defined)
		snprintf(buf, len, "no rate (n = 0)");
	else if (p->n < STATS_SMALL_N)
		snprintf(buf, len, "%llu of %llu", (unsigned long long)p->k, (unsigned long long)p->n);
	else
		snprintf(buf, len, "%.1f %% (%.1f-%.1f %%; %llu of %llu)", 100 * p->rate, 100 * p->low,
			 100 * p->high, (unsigned long long)p->k, (unsigned long long)p->n);
	return buf;
}

const char *stats_format_difference(char *buf, unsigned long len, const struct difference *d)
{
	if (!d->defined)
		snprintf(buf, len, "none (a group is empty)");
	else
		snprintf(buf, len, "%+.1f pp (%+.1f to %+.1f)", 100 * d->value, 100 * d->low, 100 * d->high);
	return buf;
}

const char *stats_format_ztest(char *buf, unsigned long len, const struct proportion *a,
			       const struct proportion *b, const struct ztest *t)
{
	if (!a->defined || !b->defined)
		snprintf(buf, len, "no test (a group is empty)");
	else if (!t->defined)
		snprintf(buf, len, "no test (%s remediated in both groups)", a->k == 0 ? "none" : "all");
	else if (t->p < 0.0001)
		snprintf(buf, len, "z = %.2f, p < 0.0001", t->z);
	else
		snprintf(buf, len, "z = %.2f, p = %.4f", t->z, t->p);
	return buf;
}

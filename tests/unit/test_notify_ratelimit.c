/* The sending pace: token buckets, global and per recipient domain, on a clock the test drives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "notify/ratelimit.h"

static void off_means_unlimited(void **unused)
{
	(void)unused;
	struct ratelimit r;
	assert_int_equal(ratelimit_init(&r, 0, 0, 100), 0);
	for (int i = 0; i < 10000; i++)
		assert_true(ratelimit_take(&r, "a.example", 100) == 0);
	ratelimit_free(&r);
}

static void global_rate_spaces_letters_evenly(void **unused)
{
	(void)unused;
	struct ratelimit r;
	assert_int_equal(ratelimit_init(&r, 120, 0, 0), 0); /* one every 0.5 s */
	assert_true(ratelimit_take(&r, "a.example", 0) == 0);
	double wait = ratelimit_take(&r, "b.example", 0);
	assert_true(wait > 0.49 && wait < 0.51);
	assert_true(ratelimit_take(&r, "b.example", 0.25) > 0.2);
	assert_true(ratelimit_take(&r, "b.example", 0.5) == 0);
	/* no burst after a pause: one token at most */
	assert_true(ratelimit_take(&r, "c.example", 100) == 0);
	assert_true(ratelimit_take(&r, "c.example", 100) > 0.49);
	/* 600 letters at the pace the limiter sets take 300 s */
	double now = 200;
	int sent = 0;
	while (sent < 600) {
		double w = ratelimit_take(&r, "d.example", now);
		if (w == 0)
			sent++;
		else
			now += w;
	}
	assert_true(now - 200 > 299.4 && now - 200 < 300.1);
	ratelimit_free(&r);
}

static void per_domain_rate_holds_one_domain_not_others(void **unused)
{
	(void)unused;
	struct ratelimit r;
	assert_int_equal(ratelimit_init(&r, 0, 6, 0), 0); /* one every 10 s per domain */
	assert_true(ratelimit_take(&r, "a.example", 0) == 0);
	double wait = ratelimit_take(&r, "A.Example", 1);
	assert_true(wait > 8.99 && wait < 9.01);
	assert_true(ratelimit_take(&r, "b.example", 1) == 0); /* another domain goes */
	assert_true(ratelimit_take(&r, "a.example", 10) == 0);
	ratelimit_free(&r);
}

static void both_limits_the_longer_wait_and_nothing_taken(void **unused)
{
	(void)unused;
	struct ratelimit r;
	assert_int_equal(ratelimit_init(&r, 60, 6, 0), 0);
	assert_true(ratelimit_take(&r, "a.example", 0) == 0);
	double w = ratelimit_take(&r, "a.example", 0.5);
	assert_true(w > 9.49 && w < 9.51); /* the domain's wait, longer than the global 0.5 s */
	/* refused: nothing was taken from the global bucket */
	assert_true(ratelimit_take(&r, "b.example", 1.0) == 0);
	ratelimit_free(&r);
}

static void many_domains_forget_the_idle_longest(void **unused)
{
	(void)unused;
	struct ratelimit r;
	assert_int_equal(ratelimit_init(&r, 0, 1, 0), 0);
	char name[32];
	for (int i = 0; i < RATELIMIT_DOMAINS + 10; i++) {
		snprintf(name, sizeof name, "d%d.example", i);
		assert_true(ratelimit_take(&r, name, i) == 0);
	}
	assert_int_equal(r.domain_count, RATELIMIT_DOMAINS);
	/* the newest is remembered */
	snprintf(name, sizeof name, "d%d.example", RATELIMIT_DOMAINS + 9);
	assert_true(ratelimit_take(&r, name, RATELIMIT_DOMAINS + 9) > 0);
	ratelimit_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(off_means_unlimited),
	    cmocka_unit_test(global_rate_spaces_letters_evenly),
	    cmocka_unit_test(per_domain_rate_holds_one_domain_not_others),
	    cmocka_unit_test(both_limits_the_longer_wait_and_nothing_taken),
	    cmocka_unit_test(many_domains_forget_the_idle_longest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The report's statistics against values computed by hand. With z = 1.959964
 * (z^2 = 3.841459), the Wilson interval of k of n, p = k/n, is
 *   centre = (p + z^2/2n) / (1 + z^2/n)
 *   half   = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka wants the headers above first */
#include <cmocka.h>
#include <string.h>

#include "report/stats.h"

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 5e-6)

static void wilson_by_hand(void **unused)
{
	/* 5 of 10: 1 + z^2/10 = 1.3841459; centre = (0.5 + 0.1920730) / 1.3841459 = 0.5;
	 * half = 1.959964 / 1.3841459 * sqrt(0.025 + 0.0096037) = 1.4159967 * 0.1860207
	 * = 0.2634069: 0.2365931 to 0.7634069. */
	struct proportion p = stats_wilson(5, 10);
	assert_true(p.defined);
	assert_near(p.rate, 0.5);
	assert_near(p.low, 0.2365931);
	assert_near(p.high, 0.7634069);
	/* 0 of 10: centre = 0.1920730 / 1.3841459 = 0.1387664, half = 1.4159967 * sqrt(0.0096037)
	 * = 0.1387664: 0 to 0.2775328 (not the Wald interval's 0 to 0). */
	p = stats_wilson(0, 10);
	assert_true(p.low == 0);
	assert_near(p.high, 0.2775328);
	/* 56 of 70 (Newcombe 1998, table I): 0.6918336 to 0.8769526. */
	p = stats_wilson(56, 70);
	assert_near(p.low, 0.6918336);
	assert_near(p.high, 0.8769526);
	/* 48 of 80: 0.4904547 to 0.7003817. */
	p = stats_wilson(48, 80);
	assert_near(p.low, 0.4904547);
	assert_near(p.high, 0.7003817);
}

static void a_group_of_one(void **unused)
{
	/* 1 of 1: 1 + z^2 = 4.841459; centre = (1 + 1.920730) / 4.841459 = 0.6032538;
	 * half = 1.959964 / 4.841459 * sqrt(0 + 3.841459/4) = 0.4048293 * 0.9799821 = 0.3967245:
	 * 0.2065493 to 1 (exactly 1: k = n). */
	struct proportion p = stats_wilson(1, 1);
	assert_true(p.defined);
	assert_near(p.rate, 1);
	assert_near(p.low, 0.2065493);
	assert_true(p.high == 1);
	/* 0 of 1: the mirror image, 0 to 0.7934507. */
	p = stats_wilson(0, 1);
	assert_true(p.low == 0);
	assert_near(p.high, 0.7934507);
	char buf[80];
	assert_string_equal(stats_format(buf, sizeof buf, &p), "0 of 1");
}

static void an_empty_group_has_no_rate(void **unused)
{
	struct proportion empty = stats_wilson(0, 0), other = stats_wilson(3, 7);
	assert_false(empty.defined);
	assert_false(isnan(empty.rate) || isnan(empty.low) || isnan(empty.high));
	struct difference d = stats_difference(&other, &empty);
	assert_false(d.defined);
	assert_false(isnan(d.value) || isnan(d.low) || isnan(d.high));
	struct ztest t = stats_ztest(&empty, &other);
	assert_false(t.defined);
	assert_false(isnan(t.z) || isnan(t.p));
	char buf[80];
	assert_string_equal(stats_format(buf, sizeof buf, &empty), "no rate (n = 0)");
	assert_string_equal(stats_format_difference(buf, sizeof buf, &d), "none (a group is empty)");
	assert_string_equal(stats_format_ztest(buf, sizeof buf, &empty, &other, &t),
			    "no test (a group is empty)");
}

static void newcombe_difference_by_hand(void **unused)
{
	/* 56/70 - 48/80 = 0.8 - 0.6 = 0.2 (Newcombe 1998, example (a), method 10: 0.0524 to 0.3339):
	 * low  = 0.2 - sqrt((0.8 - 0.6918336)^2 + (0.7003817 - 0.6)^2) = 0.2 - sqrt(0.0117000 + 0.0100765)
	 *      = 0.2 - 0.1475685 = 0.0524315
	 * high = 0.2 + sqrt((0.8769526 - 0.8)^2 + (0.6 - 0.4904547)^2) = 0.2 + sqrt(0.0059217 + 0.0120002)
	 *      = 0.2 + 0.1338727 = 0.3338727 */
	struct proportion a = stats_wilson(56, 70), b = stats_wilson(48, 80);
	struct difference d = stats_difference(&a, &b);
	assert_true(d.defined);
	assert_near(d.value, 0.2);
	assert_near(d.low, 0.0524315);
	assert_near(d.high, 0.3338727);
	char buf[80];
	assert_string_equal(stats_format_difference(buf, sizeof buf, &d), "+20.0 pp (+5.2 to +33.4)");
	/* Swapped, the interval mirrors. */
	d = stats_difference(&b, &a);
	assert_near(d.low, -0.3338727);
	assert_near(d.high, -0.0524315);
}

static void ztest_by_hand(void **unused)
{
	/* Pooled p = 104/150 = 0.6933333; se = sqrt(0.6933333 * 0.3066667 * (1/70 + 1/80))
	 * = sqrt(0.2126222 * 0.0267857) = sqrt(0.0056952) = 0.0754669; z = 0.2 / 0.0754669 = 2.6501720;
	 * p = 2 (1 - Phi(2.6501720)) = erfc(2.6501720 / sqrt 2) = 0.0080451. */
	struct proportion a = stats_wilson(56, 70), b = stats_wilson(48, 80);
	struct ztest t = stats_ztest(&a, &b);
	assert_true(t.defined);
	assert_near(t.z, 2.6501720);
	assert_near(t.p, 0.0080451);
	char buf[80];
	assert_string_equal(stats_format_ztest(buf, sizeof buf, &a, &b, &t), "z = 2.65, p = 0.0080");
	/* Equal rates: z = 0, p = 1. */
	a = stats_wilson(5, 10), b = stats_wilson(10, 20);
	t = stats_ztest(&a, &b);
	assert_near(t.z, 0);
	assert_near(t.p, 1);
	/* None remediated anywhere: no variation, no test (not a division by zero). */
	a = stats_wilson(0, 10), b = stats_wilson(0, 1);
	t = stats_ztest(&a, &b);
	assert_false(t.defined);
	assert_string_equal(stats_format_ztest(buf, sizeof buf, &a, &b, &t),
			    "no test (none remediated in both groups)");
	/* Two groups of one, one fixed: pooled 1/2, se = sqrt(0.25 * 2) = 0.7071068, z = 1.4142136,
	 * p = erfc(1) = 0.1572992. */
	a = stats_wilson(1, 1), b = stats_wilson(0, 1);
	t = stats_ztest(&a, &b);
	assert_near(t.z, 1.4142136);
	assert_near(t.p, 0.1572992);
}

static void small_groups_show_counts(void **unused)
{
	char buf[80];
	struct proportion p = stats_wilson(3, 7);
	assert_string_equal(stats_format(buf, sizeof buf, &p), "3 of 7");
	p = stats_wilson(5, 10);
	assert_string_equal(stats_format(buf, sizeof buf, &p), "50.0 % (23.7-76.3 %; 5 of 10)");
	/* k above n is held at n. */
	p = stats_wilson(12, 10);
	assert_true(p.k == 10 && p.rate == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(wilson_by_hand),
	    cmocka_unit_test(a_group_of_one),
	    cmocka_unit_test(an_empty_group_has_no_rate),
	    cmocka_unit_test(newcombe_difference_by_hand),
	    cmocka_unit_test(ztest_by_hand),
	    cmocka_unit_test(small_groups_show_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

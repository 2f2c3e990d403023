/* Durations with units: what every duration option and config key reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/duration.h"

static double seconds_of(const char *text)
{
	double seconds = -1;
	const char *why = NULL;
	assert_int_equal(duration_parse(text, strlen(text), &seconds, &why), 0);
	return seconds;
}

static void refused(const char *text, const char *expected_why)
{
	double seconds = 42;
	const char *why = NULL;
	assert_int_equal(duration_parse(text, strlen(text), &seconds, &why), -1);
	assert_non_null(why);
	assert_non_null(strstr(why, expected_why));
	assert_true(seconds == 42); /* untouched on failure */
}

static void plain_numbers_are_seconds(void **unused)
{
	assert_true(seconds_of("0") == 0);
	assert_true(seconds_of("90") == 90);
	assert_true(seconds_of("1.5") == 1.5);
	assert_true(seconds_of("0.25") == 0.25);
	assert_true(seconds_of("300") == 300);
}

static void units_scale(void **unused)
{
	assert_true(seconds_of("500ms") == 0.5);
	assert_true(seconds_of("30s") == 30);
	assert_true(seconds_of("1m") == 60);
	assert_true(seconds_of("2h") == 7200);
	assert_true(seconds_of("1d") == 86400);
	assert_true(seconds_of("1.5m") == 90);
	assert_true(seconds_of("1m30s") == 90);
	assert_true(seconds_of("1h2m3s") == 3723);
	assert_true(seconds_of("2s500ms") == 2.5);
}

static void bad_text_is_refused_with_a_reason(void **unused)
{
	refused("", "empty");
	refused("-5", "negative");
	refused("-5s", "negative");
	refused("5x", "unknown unit");
	refused("5 s", "unknown unit");
	refused("5min", "unknown unit");
	refused("s", "not a duration");
	refused(".", "not a duration");
	refused("1.2.3", "unknown unit");
	refused("1m30", "unknown unit");
	refused("30s1m", "smaller one first");
	refused("1m1m", "repeats");
	refused("nan", "not a duration");
	refused("inf", "not a duration");
	refused("0x10", "unknown unit");
	refused("1e3", "unknown unit");
	refused("99999999999999999999999d", "too long");
	refused("99999999999999999999999999999999999999999999", "too long");
}

/* Only the given length is read: the rest of a larger buffer is no part of it. */
static void reads_only_its_length(void **unused)
{
	double seconds = 0;
	const char *why;
	assert_int_equal(duration_parse("15sXYZ", 3, &seconds, &why), 0);
	assert_true(seconds == 15);
	assert_int_equal(duration_parse("1m", 1, &seconds, &why), 0);
	assert_true(seconds == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_numbers_are_seconds),
		cmocka_unit_test(units_scale),
		cmocka_unit_test(bad_text_is_refused_with_a_reason),
		cmocka_unit_test(reads_only_its_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Submission's pure parts: a final reply code's outcome, the smarthost URL, the addresses the sink hands to
 * the letter path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "notify/bounce.h"
#include "notify/send.h"

static void outcomes_of_codes(void **unused)
{
	(void)unused;
	assert_int_equal(smtp_outcome_of(250), SMTP_ACCEPTED);
	assert_int_equal(smtp_outcome_of(251), SMTP_ACCEPTED);
	assert_int_equal(smtp_outcome_of(421), SMTP_TEMPFAIL);
	assert_int_equal(smtp_outcome_of(450), SMTP_TEMPFAIL);
	assert_int_equal(smtp_outcome_of(452), SMTP_TEMPFAIL);
	assert_int_equal(smtp_outcome_of(550), SMTP_PERMFAIL);
	assert_int_equal(smtp_outcome_of(554), SMTP_PERMFAIL);
	assert_int_equal(smtp_outcome_of(0), SMTP_TEMPFAIL); /* no reply: try again */
	assert_int_equal(smtp_outcome_of(354), SMTP_TEMPFAIL);
}

static void smarthost_urls(void **unused)
{
	(void)unused;
	assert_true(smtp_url_valid("smtp://127.72.1.1:2525"));
	assert_true(smtp_url_valid("smtps://smarthost.example.org:465"));
	assert_true(smtp_url_valid("SMTP://host"));
	assert_false(smtp_url_valid("http://host:25"));
	assert_false(smtp_url_valid("smtp://"));
	assert_false(smtp_url_valid("smtp://:25"));
	assert_false(smtp_url_valid("127.72.1.1:25"));
	assert_false(smtp_url_valid(NULL));
}

static void letter_path_addresses(void **unused)
{
	(void)unused;
	assert_true(bounce_address("bounces+AB12C-DE34F@campaign.test"));
	assert_true(bounce_address("Unsubscribe+AB12C-DE34F@campaign.test"));
	assert_false(bounce_address("phtoken@campaign.test"));
	assert_false(bounce_address("bounces@campaign.test"));
	assert_false(bounce_address("postmaster"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(outcomes_of_codes),
	    cmocka_unit_test(smarthost_urls),
	    cmocka_unit_test(letter_path_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

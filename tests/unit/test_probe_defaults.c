/* The engine's defaults have one source (probe/defaults.h), read by the config's [verify] section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "probe/defaults.h"

static void the_config_starts_from_the_engine_defaults(void **unused)
{
	struct config c;
	config_defaults(&c);
	assert_int_equal(c.verify_per_host, PROBE_DEFAULT_PER_HOST);
	assert_int_equal(c.verify_per_net, PROBE_DEFAULT_PER_NET);
	assert_int_equal(c.verify_rate, PROBE_DEFAULT_RATE);
	assert_int_equal(c.verify_connect_timeout, PROBE_DEFAULT_CONNECT_TIMEOUT);
	assert_int_equal(c.verify_timeout, PROBE_DEFAULT_IDLE_TIMEOUT);
	assert_int_equal(c.verify_total_timeout, PROBE_DEFAULT_TOTAL_TIMEOUT);
	assert_int_equal(c.verify_retry_after, PROBE_DEFAULT_RETRY_AFTER);
	assert_int_equal(c.verify_retries, PROBE_DEFAULT_RETRIES);
	assert_int_equal(c.verify_wait, PROBE_DEFAULT_WAIT);
	assert_int_equal(c.verify_proof_grace, PROBE_DEFAULT_PROOF_GRACE);
	assert_int_equal(c.verify_concurrency, PROBE_DEFAULT_CONCURRENCY);
	config_free(&c);
}

static void the_verify_section_sets_them_within_bounds(void **unused)
{
	struct config c;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "verify", "wait", "5"), 0);
	assert_int_equal(c.verify_wait, 5);
	assert_int_equal(config_set(&c, "verify", "retries", "0"), 0);
	assert_int_equal(c.verify_retries, 0);
	assert_int_equal(config_set(&c, "verify", "retries", "11"), -1); /* as --retries allows */
	assert_int_equal(config_set(&c, "verify", "per_host", "0"), -1);
	assert_int_equal(config_set(&c, "verify", "concurrency", "0"), 0); /* from the descriptor limit */
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_config_starts_from_the_engine_defaults),
		cmocka_unit_test(the_verify_section_sets_them_within_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The TCP target's store budget (src/sink/budget.c): per address, in all, per token, per interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <string.h>

#include "core/log.h"
#include "sink/sink_internal.h"

static const struct sink_budget_limits limits = {
    .rows_per_peer = 3, .bytes_per_peer = 1000, .rows = 5, .bytes = 100000, .interval = 60};

static struct addr A(const char *text)
{
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	return a;
}

static enum sink_budget_verdict take(struct sink_budget *b, const char *peer, size_t bytes, time_t now)
{
	struct addr a = A(peer);
	return sink_budget_take(b, &a, bytes, NULL, now);
}

static void rows_per_address_and_in_all(void **state)
{
	struct sink_budget *b = sink_budget_new(&limits);
	assert_non_null(b);
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(b, "198.51.100.1", 10, 1000), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.1", 10, 1000), BUDGET_DROP_PEER_FIRST);
	assert_int_equal(take(b, "198.51.100.1", 10, 1001), BUDGET_DROP); /* said once */
	assert_int_equal(take(b, "198.51.100.2", 10, 1001), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.3", 10, 1001), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.4", 10, 1001), BUDGET_DROP_ALL_FIRST); /* 5 in all */
	assert_int_equal(take(b, "198.51.100.5", 10, 1001), BUDGET_DROP);
	/* The next interval starts afresh, and says so again. */
	assert_int_equal(take(b, "198.51.100.1", 10, 1060), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.1", 10, 1060), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.1", 10, 1060), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.1", 10, 1061), BUDGET_DROP_PEER_FIRST);
	/* A clock that goes back does not freeze the budget. */
	assert_int_equal(take(b, "198.51.100.1", 10, 900), BUDGET_TAKEN);
	sink_budget_free(b);
}

static void bytes_per_address_and_in_all(void **state)
{
	struct sink_budget_limits l = limits;
	l.rows_per_peer = 100;
	l.rows = 100;
	l.bytes = 1500;
	struct sink_budget *b = sink_budget_new(&l);
	assert_int_equal(take(b, "198.51.100.1", 600, 1000), BUDGET_TAKEN);
	assert_int_equal(take(b, "198.51.100.1", 401, 1000), BUDGET_DROP_PEER_FIRST); /* 1001 > 1000 */
	assert_int_equal(take(b, "198.51.100.1", 400, 1000), BUDGET_TAKEN);	   /* exactly 1000 */
	assert_int_equal(take(b, "198.51.100.2", 501, 1000), BUDGET_DROP_ALL_FIRST); /* 1501 > 1500 */
	assert_int_equal(take(b, "198.51.100.2", 500, 1000), BUDGET_TAKEN);
	sink_budget_free(b);
}

/* One IPv6 host usually holds a whole /64: its addresses share one budget. */
static void an_ipv6_slash_64_is_one_address(void **state)
{
	struct sink_budget *b = sink_budget_new(&limits);
	assert_int_equal(take(b, "2001:db8:1:2::1", 10, 1000), BUDGET_TAKEN);
	assert_int_equal(take(b, "2001:db8:1:2::2", 10, 1000), BUDGET_TAKEN);
	assert_int_equal(take(b, "2001:db8:1:2:ffff::9", 10, 1000), BUDGET_TAKEN);
	assert_int_equal(take(b, "2001:db8:1:2:abcd::", 10, 1000), BUDGET_DROP_PEER_FIRST);
	assert_int_equal(take(b, "2001:db8:1:3::1", 10, 1000), BUDGET_TAKEN); /* the next /64 */
	sink_budget_free(b);
}

/* A genuine token is proof: outside every budget, only a replay of the same one is cut off. */
static void tokens_are_outside_the_budget_but_not_replays(void **state)
{
	struct sink_budget *b = sink_budget_new(&limits);
	struct addr a = A("198.51.100.1");
	for (int i = 0; i < 10; i++)
		take(b, "198.51.100.1", 10, 1000);
	assert_int_equal(take(b, "198.51.100.1", 10, 1000), BUDGET_DROP);
	for (int i = 0; i < SINK_TARGET_TOKEN_REPEATS; i++)
		assert_int_equal(sink_budget_take(b, &a, 500, "tokenone", 1000), BUDGET_TAKEN);
	assert_int_equal(sink_budget_take(b, &a, 500, "tokenone", 1000), BUDGET_DROP_TOKEN_FIRST);
	assert_int_equal(sink_budget_take(b, &a, 500, "tokenone", 1000), BUDGET_DROP);
	assert_int_equal(sink_budget_take(b, &a, 500, "tokentwo", 1000), BUDGET_TAKEN);
	assert_int_equal(sink_budget_take(b, &a, 500, "tokenone", 1060), BUDGET_TAKEN);
	sink_budget_free(b);
}

int main(void)
{
	log_set_level(LOG_QUIET);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rows_per_address_and_in_all),
	    cmocka_unit_test(bytes_per_address_and_in_all),
	    cmocka_unit_test(an_ipv6_slash_64_is_one_address),
	    cmocka_unit_test(tokens_are_outside_the_budget_but_not_replays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

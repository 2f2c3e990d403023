/* Per-key limits and their waiting queues (probe/limits.c), apart from any engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe/limits.h"

static struct addr v4(uint32_t a)
{
	struct addr out;
	addr_from_v4(&out, a);
	return out;
}

static void counts_per_key(void **unused)
{
	struct limit_table t;
	assert_int_equal(limit_table_init(&t, 8, 2), 0);
	struct addr a = v4(0xc0000201), b = v4(0xc0000202);
	uint32_t sa = (uint32_t)limit_slot_for(&t, &a), sb = (uint32_t)limit_slot_for(&t, &b);
	assert_int_not_equal(sa, sb);
	assert_int_equal(limit_slot_for(&t, &a), sa); /* the same key, the same slot */
	assert_false(limit_full(&t, sa));
	limit_take(&t, sa);
	limit_take(&t, sa);
	assert_true(limit_full(&t, sa));
	assert_false(limit_full(&t, sb)); /* another key has its own count */
	assert_int_equal(limit_active(&t, sa), 2);
	assert_int_equal(limit_release(&t, sa), -1); /* nobody waits */
	assert_false(limit_full(&t, sa));
	limit_table_free(&t);
}

static void waiters_leave_in_order(void **unused)
{
	struct limit_table t;
	assert_int_equal(limit_table_init(&t, 8, 1), 0);
	struct addr a = v4(0x0a000001), b = v4(0x0a000002);
	uint32_t sa = (uint32_t)limit_slot_for(&t, &a), sb = (uint32_t)limit_slot_for(&t, &b);
	limit_take(&t, sa);
	limit_take(&t, sb);
	limit_wait(&t, sa, 3);
	limit_wait(&t, sb, 4);
	limit_wait(&t, sa, 5);
	limit_wait(&t, sa, 1);
	assert_int_equal(limit_release(&t, sa), 3); /* first come, first served */
	limit_take(&t, sa);
	assert_int_equal(limit_release(&t, sb), 4); /* queues of other keys are apart */
	assert_int_equal(limit_release(&t, sa), 5);
	limit_take(&t, sa);
	assert_int_equal(limit_release(&t, sa), 1);
	assert_int_equal(limit_release(&t, sb), -1);
	/* an emptied queue takes new waiters */
	limit_take(&t, sa);
	limit_wait(&t, sa, 7);
	assert_int_equal(limit_release(&t, sa), 7);
	limit_table_free(&t);
}

/* Keys and items beyond the first guess: the table grows, and a key keeps its slot number. */
static void grows_with_stable_slots(void **unused)
{
	struct limit_table t;
	enum { N = 1000 };
	assert_int_equal(limit_table_init(&t, 4, 1), 0);
	uint32_t slots[N];
	for (uint32_t i = 0; i < N; i++) {
		struct addr a = v4(0x0a000000 + i * 256); /* one per /24: nearby keys */
		int64_t slot = limit_slot_for(&t, &a);
		assert_true(slot >= 0);
		slots[i] = (uint32_t)slot;
		limit_take(&t, slots[i]);
	}
	assert_int_equal(limit_table_reserve(&t, 2 * N), 0);
	limit_wait(&t, slots[3], 2 * N - 1); /* an item numbered past the first room */
	for (uint32_t i = 0; i < N; i++) {
		struct addr a = v4(0x0a000000 + i * 256);
		assert_int_equal(limit_slot_for(&t, &a), slots[i]);
		assert_int_equal(limit_active(&t, slots[i]), 1);
	}
	assert_int_equal(limit_release(&t, slots[3]), 2 * N - 1);
	limit_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_per_key),
		cmocka_unit_test(waiters_leave_in_order),
		cmocka_unit_test(grows_with_stable_slots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

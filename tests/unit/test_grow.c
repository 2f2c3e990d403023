/* core/grow: doubling from a first allocation, the contents kept, overflow refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/grow.h"

static void grows_by_doubling_and_keeps_the_contents(void **unused)
{
	uint32_t *items = NULL;
	size_t count = 0, cap = 0;
	for (uint32_t i = 0; i < 10000; i++) {
		size_t before = cap;
		uint32_t *grown = grow_array(items, &cap, count, 1, sizeof *items);
		assert_non_null(grown);
		if (before == 0)
			assert_int_equal(cap, GROW_FIRST_BYTES / sizeof *items);
		else if (cap != before)
			assert_int_equal(cap, before * 2);
		items = grown;
		items[count++] = i;
	}
	for (uint32_t i = 0; i < 10000; i++)
		assert_int_equal(items[i], i);
	free(items);
}

static void makes_room_for_many_at_once(void **unused)
{
	char *bytes = NULL;
	size_t cap = 0;
	bytes = grow_array(bytes, &cap, 0, 5000, 1);
	assert_non_null(bytes);
	assert_int_equal(cap, 8192);					 /* 1024 doubled until 5000 fit */
	assert_ptr_equal(grow_array(bytes, &cap, 3000, 5192, 1), bytes); /* fits: no realloc */
	free(bytes);
	/* an element larger than the first allocation: one of it */
	struct big {
		char b[4096];
	} *big = NULL;
	size_t big_cap = 0;
	big = grow_array(big, &big_cap, 0, 1, sizeof *big);
	assert_non_null(big);
	assert_int_equal(big_cap, 1);
	free(big);
}

static void refuses_sizes_past_size_max(void **unused)
{
	uint64_t *items = NULL;
	size_t cap = 0;
	items = grow_array(items, &cap, 0, 4, sizeof *items);
	assert_non_null(items);
	size_t before = cap;
	assert_null(grow_array(items, &cap, 4, SIZE_MAX / sizeof *items, sizeof *items));
	assert_null(grow_array(items, &cap, 4, SIZE_MAX - 2, sizeof *items));
	assert_int_equal(cap, before); /* untouched, and items still usable */
	items[3] = 7;
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(grows_by_doubling_and_keeps_the_contents),
	    cmocka_unit_test(makes_room_for_many_at_once),
	    cmocka_unit_test(refuses_sizes_past_size_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The store's statements: each id has its SQL in one file, prepares, and numbers its parameters in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_internal.h"

static char dir[] = "/tmp/plughole-statements-XXXXXX";

static void every_id_has_sql_in_exactly_one_file(void **unused)
{
	for (int id = 0; id < STMT_COUNT; id++) {
		int owners = 0;
		for (size_t t = 0; t < store_sql_table_count; t++)
			owners += store_sql_tables[t][id] != NULL;
		if (owners != 1)
			fail_msg("statement %d has SQL in %d files", id, owners);
		assert_non_null(store_sql((enum store_stmt)id));
	}
}

static void every_statement_prepares_against_a_fresh_store(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/fresh.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	for (int id = 0; id < STMT_COUNT; id++) {
		if (store_statement(store, (enum store_stmt)id) == NULL)
			fail_msg("statement %d does not prepare: %s", id, store_sql((enum store_stmt)id));
		/* a second use finds the same prepared statement */
		assert_ptr_equal(store_statement(store, (enum store_stmt)id), store->statements[id]);
	}
	store_close(store);
}

/*
 * The numbers of sql's parameters in the order they first appear (outside
 * quotes); -1 for a parameter that is not ?N. Returns how many were found.
 */
static int parameters_in_order(const char *sql, int *numbers, int max)
{
	int n = 0;
	for (const char *p = sql; *p; p++) {
		if (*p == '\'' || *p == '"') {
			const char *close = strchr(p + 1, *p);
			if (close == NULL)
				break;
			p = close;
		} else if (*p == '?' || *p == ':' || *p == '@' || *p == '$') {
			if (*p != '?' || !isdigit((unsigned char)p[1])) {
				if (n < max)
					numbers[n++] = -1;
				continue;
			}
			int number = atoi(p + 1);
			bool seen = false;
			for (int i = 0; i < n; i++)
				seen |= numbers[i] == number;
			if (!seen && n < max)
				numbers[n++] = number;
		}
	}
	return n;
}

static void parameters_are_numbered_in_the_order_they_appear(void **unused)
{
	char path[256];
	snprintf(path, sizeof path, "%s/order.db", dir);
	struct store *store = store_open(path);
	assert_non_null(store);
	for (int id = 0; id < STMT_COUNT; id++) {
		const char *sql = store_sql((enum store_stmt)id);
		assert_non_null(sql);
		int numbers[64];
		int n = parameters_in_order(sql, numbers, 64);
		for (int i = 0; i < n; i++)
			if (numbers[i] != i + 1)
				fail_msg("statement %d: parameter %d is ?%d, not ?%d: %s", id, i + 1, numbers[i], i + 1,
					 sql);
		/* and SQLite counts as many */
		sqlite3_stmt *stmt = store_statement(store, (enum store_stmt)id);
		assert_non_null(stmt);
		assert_int_equal(sqlite3_bind_parameter_count(stmt), n);
	}
	store_close(store);
}

static int setup(void **unused)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **unused)
{
	char command[128];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	return system(command);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_id_has_sql_in_exactly_one_file),
		cmocka_unit_test(every_statement_prepares_against_a_fresh_store),
		cmocka_unit_test(parameters_are_numbered_in_the_order_they_appear),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

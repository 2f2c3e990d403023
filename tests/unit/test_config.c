/* The config table: durations with units, and data/plughole.conf.example written from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/paths.h"

static void durations_take_units_and_stay_whole_seconds(void **unused)
{
	struct config config;
	config_defaults(&config);
	assert_int_equal(config_set(&config, "sink", "idle_timeout", "2m"), 0);
	assert_int_equal(config.sink_idle_timeout, 120);
	assert_int_equal(config_set(&config, "sink", "session_timeout", "1h30m"), 0);
	assert_int_equal(config.sink_session_timeout, 5400);
	assert_int_equal(config_set(&config, "sink", "idle_timeout", "45"), 0); /* plain: seconds */
	assert_int_equal(config.sink_idle_timeout, 45);
	assert_int_equal(config_set(&config, "sink", "idle_timeout", "1500ms"), -1); /* not whole */
	assert_int_equal(config_set(&config, "sink", "idle_timeout", "2h"), -1);     /* above 3600 */
	assert_int_equal(config_set(&config, "sink", "idle_timeout", "0s"), -1);     /* below 1 */
	assert_int_equal(config_set(&config, "sink", "idle_timeout", "5 min"), -1);
	assert_int_equal(config.sink_idle_timeout, 45); /* a refused value changes nothing */
	assert_int_equal(config_set(&config, "sink", "max_sessions", "5m"), -1); /* a count takes no unit */
	config_free(&config);
}

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = fread(text, 1, cap - 1, f);
	assert_true(len < cap - 1);
	text[len] = '\0';
	return text;
}

/* The shipped example is what the table writes today: a key added, a
 * default changed or a text edited without regenerating it fails here. */
static void the_shipped_example_is_the_tables(void **unused)
{
	char path[4096];
	FILE *shipped = fopen(data_path("plughole.conf.example", path, sizeof path), "r");
	assert_non_null(shipped);
	char *have = read_all(shipped);
	fclose(shipped);
	FILE *mem = tmpfile();
	assert_non_null(mem);
	config_write_example(mem);
	rewind(mem);
	char *want = read_all(mem);
	fclose(mem);
	if (strcmp(have, want) != 0)
		fail_msg("%s differs from 'plughole help --config-example': regenerate it with\n"
			 "  build/plughole help --config-example > data/plughole.conf.example", path);
	free(have);
	free(want);
}

/* Loading the example changes nothing: every default in it is the real one. */
static void loading_the_example_gives_the_defaults(void **unused)
{
	char path[4096];
	struct config loaded, defaults;
	config_defaults(&defaults);
	config_defaults(&loaded);
	assert_int_equal(config_load(&loaded, data_path("plughole.conf.example", path, sizeof path)), 0);
	assert_string_equal(loaded.db, defaults.db);
	assert_null(loaded.secret);
	assert_null(loaded.optout);
	assert_null(loaded.sink_listen);
	assert_null(loaded.sink_domain);
	assert_null(loaded.sink_target);
	assert_null(loaded.operator_contact);
	assert_string_equal(loaded.operator_name, defaults.operator_name);
	assert_int_equal(loaded.max_range, defaults.max_range);
	assert_int_equal(loaded.sink_max_message, defaults.sink_max_message);
	assert_int_equal(loaded.sink_max_bodies, defaults.sink_max_bodies);
	assert_int_equal(loaded.sink_max_sessions, defaults.sink_max_sessions);
	assert_int_equal(loaded.sink_max_per_peer, defaults.sink_max_per_peer);
	assert_int_equal(loaded.sink_idle_timeout, defaults.sink_idle_timeout);
	assert_int_equal(loaded.sink_session_timeout, defaults.sink_session_timeout);
	assert_int_equal(loaded.sink_target_rows_per_peer, defaults.sink_target_rows_per_peer);
	assert_int_equal(loaded.sink_target_bytes_per_peer, defaults.sink_target_bytes_per_peer);
	assert_int_equal(loaded.sink_target_rows, defaults.sink_target_rows);
	assert_int_equal(loaded.sink_target_bytes, defaults.sink_target_bytes);
	assert_int_equal(loaded.campaign, defaults.campaign);
	config_free(&loaded);
	config_free(&defaults);
}

int main(void)
{
	log_set_level(LOG_QUIET);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_take_units_and_stay_whole_seconds),
		cmocka_unit_test(the_shipped_example_is_the_tables),
		cmocka_unit_test(loading_the_example_gives_the_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

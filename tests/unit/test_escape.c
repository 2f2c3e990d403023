/* Peer and file bytes made printable: what is kept, what is escaped, and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/escape.h"

static void escapes_control_bytes_quotes_and_high_bytes(void **unused)
{
	char out[ESCAPE_SIZE(16)];
	const char in[] = "a\x1b[2J\"\\\x00\xff\r\n~";
	assert_string_equal(escape_text(out, sizeof out, in, sizeof in - 1), "a\\x1b[2J\\\"\\\\\\x00\\xff\\x0d\\x0a~");
	assert_string_equal(escape_text(out, sizeof out, "plain text", 10), "plain text");
	assert_string_equal(escape_text(out, sizeof out, "", 0), "");
}

static void never_cuts_an_escape(void **unused)
{
	char out[6];
	assert_string_equal(escape_text(out, sizeof out, "ab\x07z", 4), "ab"); /* "\x07" would not fit */
	assert_string_equal(escape_text(out, sizeof out, "abcdefgh", 8), "abcde");
	char one[1];
	assert_string_equal(escape_text(one, sizeof one, "\x1b", 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_control_bytes_quotes_and_high_bytes),
		cmocka_unit_test(never_cuts_an_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Proof tokens: round trip, forgery, alteration, scanning, the secret file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/token.h"

static const struct token_secret secret = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}};
static const struct token_secret other_secret = {{9, 9, 9}};

static struct addr A(const char *text)
{
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	return a;
}

static void round_trips_ipv4_and_ipv6(void **unused)
{
	const char *addresses[] = {"192.0.2.77", "2001:db8::25", "::1", "0.0.0.0"};
	for (size_t i = 0; i < 4; i++) {
		struct addr a = A(addresses[i]);
		char token[TOKEN_MAX_LEN];
		size_t len = token_make(&secret, 65535, &a, 3128, 7, 1075372800u, token);
		assert_int_equal(strlen(token), len);
		assert_true(len < 64); /* fits an SMTP local part */
		for (size_t k = 0; k < len; k++)
			assert_true(islower((unsigned char)token[k]) || (token[k] >= '2' && token[k] <= '7'));
		struct token_fields f;
		assert_int_equal(token_check(&secret, token, len, &f), 0);
		assert_int_equal(addr_cmp(&f.address, &a), 0);
		assert_int_equal(f.port, 3128);
		assert_int_equal(f.test, 7);
		assert_int_equal(f.campaign, 65535);
		assert_int_equal(f.time, 1075372800u);
		/* relays may fold case */
		for (size_t k = 0; k < len; k++)
			token[k] = (char)toupper((unsigned char)token[k]);
		assert_int_equal(token_check(&secret, token, len, &f), 0);
	}
}

static void rejects_forged_and_altered(void **unused)
{
	struct addr a = A("192.0.2.77");
	char token[TOKEN_MAX_LEN];
	struct token_fields f;
	size_t len = token_make(&secret, 1, &a, 25, 0, 1000, token);
	assert_int_not_equal(token_check(&other_secret, token, len, &f), 0);
	for (size_t k = 2; k < len; k++) { /* every single-character change fails */
		char altered[TOKEN_MAX_LEN];
		memcpy(altered, token, len + 1);
		altered[k] = altered[k] == 'a' ? 'b' : 'a';
		assert_int_not_equal(token_check(&secret, altered, len, &f), 0);
	}
	assert_int_not_equal(token_check(&secret, token, len - 1, &f), 0);
	assert_int_not_equal(token_check(&secret, "ph", 2, &f), 0);
	assert_int_not_equal(token_check(&secret, "", 0, &f), 0);
	char bad_char[TOKEN_MAX_LEN];
	memcpy(bad_char, token, len + 1);
	bad_char[5] = '1'; /* not base32 */
	assert_int_not_equal(token_check(&secret, bad_char, len, &f), 0);
}

static void scans_text_for_tokens(void **unused)
{
	struct addr a = A("2001:db8::9");
	char token[TOKEN_MAX_LEN], forged[TOKEN_MAX_LEN], found[TOKEN_MAX_LEN];
	size_t len = token_make(&secret, 1, &a, 25, 2, 1000, token);
	token_make(&other_secret, 1, &a, 25, 2, 1000, forged);
	char text[512];
	snprintf(text, sizeof text, "Subject: relay test %s\r\nphone: 555\r\n\r\nbody <%s@sink.test> xph%s\r\n",
		 forged, token, token);
	size_t offset = 0;
	struct token_fields f;
	assert_int_equal(token_scan(&secret, text, strlen(text), &offset, &f, found), 0); /* forged */
	assert_string_equal(found, forged);
	assert_int_equal(token_scan(&secret, text, strlen(text), &offset, &f, found), 1);
	assert_string_equal(found, token);
	assert_int_equal(f.test, 2);
	/* "xph..." is not on a word boundary */
	assert_int_equal(token_scan(&secret, text, strlen(text), &offset, &f, found), -1);
	(void)len;
}

static void secret_file_is_created_private(void **unused)
{
	char dir[] = "/tmp/plughole-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/secret", dir);
	struct token_secret first, second;
	assert_int_equal(token_secret_load(&first, path), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(token_secret_load(&second, path), 0);
	assert_memory_equal(first.key, second.key, TOKEN_SECRET_LEN);
	/* a truncated secret file is refused, not silently used */
	FILE *f = fopen(path, "w");
	fputs("short", f);
	fclose(f);
	assert_int_not_equal(token_secret_load(&second, path), 0);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trips_ipv4_and_ipv6),
		cmocka_unit_test(rejects_forged_and_altered),
		cmocka_unit_test(scans_text_for_tokens),
		cmocka_unit_test(secret_file_is_created_private),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

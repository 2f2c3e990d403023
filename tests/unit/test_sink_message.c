/* The sink's message handling: dot-unstuffing, size limit, headers, token discovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/message.h"

static const struct token_secret secret = {.key = "0123456789abcdef0123456789abcdef"};
static const struct token_secret other_secret = {.key = "fedcba9876543210fedcba9876543210"};

static void make_token(const struct token_secret *s, const char *address, uint16_t port,
		       char out[TOKEN_MAX_LEN])
{
	struct addr a;
	assert_int_equal(addr_parse(address, strlen(address), &a), 0);
	token_make(s, 7, &a, port, 3, 1700000000u, out);
}

/* Feeds text in chunks of the given size; returns bytes consumed in all. */
static size_t feed(struct sink_message_body *body, const char *text, size_t len, size_t chunk)
{
	size_t used = 0;
	while (used < len && !sink_message_body_done(body)) {
		size_t n = len - used < chunk ? len - used : chunk;
		size_t took = sink_message_body_feed(body, text + used, n);
		used += took;
		if (took < n)
			break;
	}
	return used;
}

static void assert_body(const char *wire, const char *expected, size_t expected_consumed)
{
	/* Every chunking must give the same message: state crosses chunk borders. */
	for (size_t chunk = 1; chunk <= strlen(wire); chunk++) {
		struct sink_message_body body;
		sink_message_body_init(&body, 4096);
		size_t used = feed(&body, wire, strlen(wire), chunk);
		assert_true(sink_message_body_done(&body));
		assert_int_equal(used, expected_consumed);
		assert_int_equal(body.len, strlen(expected));
		assert_int_equal(body.total, strlen(expected));
		if (body.len)
			assert_memory_equal(body.data, expected, body.len);
		assert_false(body.overflow);
		sink_message_body_free(&body);
	}
}

static void unstuffs_dots(void **state)
{
	assert_body(".\r\n", "", 3);
	assert_body("a\r\n.\r\n", "a\r\n", 6);
	assert_body("..\r\n.\r\n", ".\r\n", 7);
	assert_body("...x\r\n.\r\n", "..x\r\n", 9);
	assert_body(".x\r\nb.\r\n.\r\n", "x\r\nb.\r\n", 11);
	/* ".\r" not followed by "\n" is a stuffed line holding a lone CR. */
	assert_body(".\rx\r\n.\r\n", "\rx\r\n", 8);
	assert_body(".\r\r\n.\r\n", "\r\r\n", 7);
	/* Bytes after the terminator belong to the next command. */
	assert_body("x\r\n.\r\nQUIT\r\n", "x\r\n", 6);
}

static void bare_lf_does_not_end_the_message(void **state)
{
	/* "\n.\n" and "\n.\r\n" end nothing: only CRLF "." CRLF does (no smuggling). */
	assert_body("a\n.\nb\n.\r\nc\r\n.\r\n", "a\n.\nb\n.\r\nc\r\n", 15);
	assert_body("a\r\n.\nb\r\n.\r\n", "a\r\n\nb\r\n", 11);
}

static void unfinished_body_waits(void **state)
{
	struct sink_message_body body;
	sink_message_body_init(&body, 100);
	assert_int_equal(sink_message_body_feed(&body, "abc\r\n.", 6), 6);
	assert_false(sink_message_body_done(&body));
	assert_int_equal(body.state, MESSAGE_BODY_DOT);
	assert_int_equal(sink_message_body_feed(&body, "\r", 1), 1);
	assert_int_equal(sink_message_body_feed(&body, "\n", 1), 1);
	assert_true(sink_message_body_done(&body));
	assert_string_equal(sink_message_body_state_names[body.state], "done");
	sink_message_body_free(&body);
}

static void keeps_at_most_the_limit(void **state)
{
	struct sink_message_body body;
	size_t limit = 5000, big = 200000;
	char *wire = malloc(big + 6);
	memset(wire, 'x', big);
	for (size_t i = 78; i < big; i += 80)
		memcpy(wire + i, "\r\n", 2);
	memcpy(wire + big, "\r\n.\r\n", 5);
	sink_message_body_init(&body, limit);
	assert_int_equal(feed(&body, wire, big + 5, 4096), big + 5);
	assert_true(sink_message_body_done(&body));
	assert_true(body.overflow);
	assert_int_equal(body.len, limit);
	assert_true(body.cap <= limit);
	assert_int_equal(body.total, big + 2);
	sink_message_body_free(&body);

	/* Exactly the limit is fine. */
	sink_message_body_init(&body, 4);
	assert_int_equal(sink_message_body_feed(&body, "ab\r\n.\r\n", 7), 7);
	assert_false(body.overflow);
	assert_int_equal(body.len, 4);
	sink_message_body_free(&body);
	free(wire);
}

static void finds_the_header_block(void **state)
{
	size_t body;
	const char *m = "A: 1\r\nB: 2\r\n\r\nbody\r\n";
	assert_int_equal(sink_message_header_len(m, strlen(m), &body), 12);
	assert_string_equal(m + body, "body\r\n");
	const char *lf = "A: 1\nB: 2\n\nbody\n";
	assert_int_equal(sink_message_header_len(lf, strlen(lf), &body), 10);
	assert_string_equal(lf + body, "body\n");
	const char *none = "A: 1\r\nB: 2\r\n";
	assert_int_equal(sink_message_header_len(none, strlen(none), &body), strlen(none));
	assert_int_equal(body, strlen(none));
	const char *empty_headers = "\r\nbody";
	assert_int_equal(sink_message_header_len(empty_headers, strlen(empty_headers), &body), 0);
	assert_int_equal(body, 2);
	assert_int_equal(sink_message_header_len("", 0, &body), 0);
}

static void finds_the_subject(void **state)
{
	size_t start, len;
	const char *h = "From: a\r\nSUBJECT: one\r\n two\r\n\tthree\r\nTo: b\r\n";
	assert_int_equal(sink_message_subject(h, strlen(h), &start, &len), 0);
	assert_int_equal(len, strlen(" one\r\n two\r\n\tthree\r\n"));
	assert_memory_equal(h + start, " one\r\n two\r\n\tthree\r\n", len);
	const char *none = "From: a\r\nX-Subject: no\r\nSubjectx: no\r\n";
	assert_int_equal(sink_message_subject(none, strlen(none), &start, &len), -1);
	assert_int_equal(sink_message_subject("Subject:", 8, &start, &len), 0);
	assert_int_equal(len, 0);
}

static void sink_message_with(char *buf, size_t size, const char *subject, const char *body)
{
	snprintf(buf, size, "From: a@b\r\nX-Token: %s\r\nSubject: %s\r\n\r\n%s\r\n", "phnotatoken", subject,
		 body);
}

static void finds_tokens_in_rcpt_subject_and_body(void **state)
{
	char t1[TOKEN_MAX_LEN], t2[TOKEN_MAX_LEN], t3[TOKEN_MAX_LEN], rcpt[200], msg[1000];
	make_token(&secret, "192.0.2.1", 25, t1);
	make_token(&secret, "192.0.2.2", 587, t2);
	make_token(&secret, "2001:db8::5", 3128, t3);
	snprintf(rcpt, sizeof rcpt, "x+%s@sink.test", t1);
	const char *rcpts[] = {rcpt, "postmaster@sink.test"};
	char subject[100], body[200];
	snprintf(subject, sizeof subject, "relay test %s", t2);
	snprintf(body, sizeof body, "proxy\r\ntoken=%s.\r\nagain %s", t3, t2);
	sink_message_with(msg, sizeof msg, subject, body);
	struct sink_message_tokens found;
	sink_message_find_tokens(&secret, rcpts, 2, msg, strlen(msg), &found);
	assert_int_equal(found.count, 3);
	assert_int_equal(found.dropped, 0);
	assert_string_equal(found.token[0].text, t1);
	assert_int_equal(found.token[0].part, MESSAGE_PART_RCPT);
	assert_string_equal(found.token[1].text, t2);
	assert_int_equal(found.token[1].part, MESSAGE_PART_SUBJECT);
	assert_string_equal(sink_message_part_names[found.token[1].part], "subject");
	assert_string_equal(found.token[2].text, t3);
	assert_int_equal(found.token[2].part, MESSAGE_PART_BODY);
	for (size_t i = 0; i < 3; i++) {
		assert_true(found.token[i].genuine);
		assert_int_equal(found.token[i].fields.campaign, 7);
		assert_int_equal(found.token[i].fields.test, 3);
	}
	char text[ADDR_STRLEN];
	assert_string_equal(addr_format(&found.token[2].fields.address, text), "2001:db8::5");
	assert_int_equal(found.token[2].fields.port, 3128);
	assert_int_equal(found.token[1].fields.port, 587);
}

static void domain_part_and_other_headers_are_not_scanned(void **state)
{
	char t1[TOKEN_MAX_LEN], rcpt[200], msg[400];
	make_token(&secret, "192.0.2.1", 25, t1);
	snprintf(rcpt, sizeof rcpt, "someone@%s.sink.test", t1);
	const char *rcpts[] = {rcpt};
	snprintf(msg, sizeof msg, "X-Probe: %s\r\nSubject: none\r\n\r\nnothing here\r\n", t1);
	struct sink_message_tokens found;
	sink_message_find_tokens(&secret, rcpts, 1, msg, strlen(msg), &found);
	assert_int_equal(found.count, 0);
}

static void forged_and_altered_tokens_are_not_genuine(void **state)
{
	char good[TOKEN_MAX_LEN], foreign[TOKEN_MAX_LEN], altered[TOKEN_MAX_LEN], msg[600];
	make_token(&secret, "198.51.100.7", 25, good);
	make_token(&other_secret, "198.51.100.7", 25, foreign);
	memcpy(altered, good, sizeof altered);
	altered[10] = altered[10] == 'a' ? 'b' : 'a';
	snprintf(msg, sizeof msg, "Subject: %s\r\n\r\n%s\r\n%s\r\n", foreign, altered, good);
	struct sink_message_tokens found;
	sink_message_find_tokens(&secret, NULL, 0, msg, strlen(msg), &found);
	assert_int_equal(found.count, 3);
	assert_false(found.token[0].genuine);
	assert_string_equal(found.token[0].text, foreign);
	assert_false(found.token[1].genuine);
	assert_string_equal(found.token[1].text, altered);
	assert_true(found.token[2].genuine);
}

static void tokens_count_once_whatever_their_case(void **state)
{
	char t[TOKEN_MAX_LEN], upper[TOKEN_MAX_LEN], rcpt[200], msg[600];
	make_token(&secret, "203.0.113.9", 25, t);
	for (size_t i = 0; i < sizeof upper; i++)
		upper[i] = (char)toupper((unsigned char)t[i]);
	snprintf(rcpt, sizeof rcpt, "%s@SINK.TEST", upper);
	const char *rcpts[] = {rcpt, rcpt};
	snprintf(msg, sizeof msg, "Subject: %s\r\n\r\n%s %s\r\n", t, upper, t);
	struct sink_message_tokens found;
	sink_message_find_tokens(&secret, rcpts, 2, msg, strlen(msg), &found);
	assert_int_equal(found.count, 1);
	assert_true(found.token[0].genuine);
	assert_string_equal(found.token[0].text, t);
	assert_int_equal(found.token[0].part, MESSAGE_PART_RCPT);
}

static void too_many_tokens_are_counted(void **state)
{
	char *msg = calloc(1, 64 * 40 + 32);
	strcpy(msg, "Subject: many\r\n\r\n");
	for (unsigned i = 0; i < 40; i++) {
		char t[TOKEN_MAX_LEN], address[32];
		snprintf(address, sizeof address, "192.0.2.%u", i + 1);
		make_token(&secret, address, 25, t);
		strcat(msg, t);
		strcat(msg, "\n");
	}
	struct sink_message_tokens found;
	sink_message_find_tokens(&secret, NULL, 0, msg, strlen(msg), &found);
	assert_int_equal(found.count, MESSAGE_MAX_TOKENS);
	assert_int_equal(found.dropped, 40 - MESSAGE_MAX_TOKENS);
	free(msg);
}

static void no_token_no_finding(void **state)
{
	struct sink_message_tokens found;
	const char *rcpts[] = {"user@sink.test", "photo@sink.test"};
	const char *msg = "Subject: photos\r\n\r\nphphphph ph\r\n";
	sink_message_find_tokens(&secret, rcpts, 2, msg, strlen(msg), &found);
	assert_int_equal(found.count, 0);
	sink_message_find_tokens(&secret, NULL, 0, "", 0, &found);
	assert_int_equal(found.count, 0);
}

static void local_part_is_before_the_last_at(void **state)
{
	assert_int_equal(sink_message_local_part_len("a@b"), 1);
	assert_int_equal(sink_message_local_part_len("\"a@b\"@c"), 5);
	assert_int_equal(sink_message_local_part_len("postmaster"), 10);
	assert_int_equal(sink_message_local_part_len("@x"), 0);
}

static void printable_copy_bounds_and_masks(void **state)
{
	char out[8];
	sink_message_printable_copy(out, sizeof out,
				    "ab\r\n\t\x01\xff"
				    "cdef",
				    11, true);
	assert_string_equal(out, "ab\r\n\t??");
	sink_message_printable_copy(out, sizeof out, "a\r\nb", 4, false);
	assert_string_equal(out, "a??b");
	sink_message_printable_copy(out, 1, "abc", 3, false);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unstuffs_dots),
	    cmocka_unit_test(bare_lf_does_not_end_the_message),
	    cmocka_unit_test(unfinished_body_waits),
	    cmocka_unit_test(keeps_at_most_the_limit),
	    cmocka_unit_test(finds_the_header_block),
	    cmocka_unit_test(finds_the_subject),
	    cmocka_unit_test(finds_tokens_in_rcpt_subject_and_body),
	    cmocka_unit_test(domain_part_and_other_headers_are_not_scanned),
	    cmocka_unit_test(forged_and_altered_tokens_are_not_genuine),
	    cmocka_unit_test(tokens_count_once_whatever_their_case),
	    cmocka_unit_test(too_many_tokens_are_counted),
	    cmocka_unit_test(no_token_no_finding),
	    cmocka_unit_test(local_part_is_before_the_last_at),
	    cmocka_unit_test(printable_copy_bounds_and_masks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

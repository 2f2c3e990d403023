/* SMTP command parsing in the sink: verbs, paths, parameters, and which recipients are ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <string.h>

#include "sink/smtp_parse.h"
#include "sink/target.h"

static void splits_verb_and_arguments(void **state)
{
	struct sink_smtp_command c;
	const char *line = "MAIL   FROM:<a@b>  ";
	sink_smtp_command_split(line, strlen(line), &c);
	assert_int_equal(c.verb_len, 4);
	assert_memory_equal(c.verb, "MAIL", 4);
	assert_int_equal(c.args_len, strlen("FROM:<a@b>"));
	assert_memory_equal(c.args, "FROM:<a@b>", c.args_len);
	sink_smtp_command_split("QUIT", 4, &c);
	assert_int_equal(c.verb_len, 4);
	assert_int_equal(c.args_len, 0);
	sink_smtp_command_split("", 0, &c);
	assert_int_equal(c.verb_len, 0);
	assert_int_equal(c.args_len, 0);
	sink_smtp_command_split("   ", 3, &c);
	assert_int_equal(c.verb_len, 0);
	assert_int_equal(c.args_len, 0);
}

static int parse(const char *args, enum sink_smtp_path_kind kind, struct sink_smtp_path *path,
		 const char **reply)
{
	return sink_smtp_path_parse(args, strlen(args), kind, path, reply);
}

static void parses_mail_from(void **state)
{
	struct sink_smtp_path p;
	const char *reply;
	assert_int_equal(parse("FROM:<a@example.org>", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "a@example.org");
	assert_false(p.has_size);
	assert_null(reply);
	assert_int_equal(parse("from:<>", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "");
	assert_int_equal(parse("FROM: <a@b> SIZE=12345 BODY=8BITMIME", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "a@b");
	assert_true(p.has_size);
	assert_int_equal(p.size, 12345);
	assert_int_equal(parse("FROM:a@b size=7 body=7bit", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "a@b");
	assert_int_equal(p.size, 7);
	assert_int_equal(parse("FROM:<\"odd > name\"@b>", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "\"odd > name\"@b");
	assert_int_equal(
	    parse("FROM:<@relay.example,@other.example:user@b>", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "user@b");
	assert_int_equal(parse("FROM:<@relay.example:>", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_string_equal(p.address, "");
	assert_int_equal(parse("FROM:<a@b> SIZE=18446744073709551615", SINK_SMTP_PATH_MAIL, &p, &reply), 0);
	assert_int_equal(p.size, UINT64_MAX);
}

static void refuses_bad_mail_from(void **state)
{
	static const struct {
		const char *args;
		const char *code;
	} bad[] = {
	    {"", "501"},
	    {"TO:<a@b>", "501"},
	    {"FROM:", "501"},
	    {"FROM:<a@b", "501"},
	    {"FROM:<a@b>x", "501"},
	    {"FROM:<@relay>", "501"},
	    {"FROM:<a\x01@b>", "501"},
	    {"FROM:<a\xc3\xa9@b>", "501"},
	    {"FROM:<a@b> SIZE=", "501"},
	    {"FROM:<a@b> SIZE=12x", "501"},
	    {"FROM:<a@b> SIZE=18446744073709551616", "501"},
	    {"FROM:<a@b> SIZE=-1", "501"},
	    {"FROM:<a@b> BODY=BINARYMIME", "555"},
	    {"FROM:<a@b> AUTH=<>", "555"},
	    {"FROM:<a@b> SMTPUTF8", "555"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sink_smtp_path p;
		const char *reply = NULL;
		assert_int_equal(parse(bad[i].args, SINK_SMTP_PATH_MAIL, &p, &reply), -1);
		assert_non_null(reply);
		assert_memory_equal(reply, bad[i].code, 3);
	}
}

static void path_length_is_bounded(void **state)
{
	char args[600];
	struct sink_smtp_path p;
	const char *reply;
	strcpy(args, "TO:<");
	memset(args + 4, 'a', SINK_SMTP_PATH_MAX);
	strcpy(args + 4 + SINK_SMTP_PATH_MAX, ">");
	assert_int_equal(parse(args, SINK_SMTP_PATH_RCPT, &p, &reply), 0);
	assert_int_equal(strlen(p.address), SINK_SMTP_PATH_MAX);
	strcpy(args + 4 + SINK_SMTP_PATH_MAX, "a>");
	assert_int_equal(parse(args, SINK_SMTP_PATH_RCPT, &p, &reply), -1);
	assert_string_equal(reply, "501 5.1.3 Address too long");
}

static void parses_rcpt_to(void **state)
{
	struct sink_smtp_path p;
	const char *reply;
	assert_int_equal(parse("TO:<ph123@sink.test>", SINK_SMTP_PATH_RCPT, &p, &reply), 0);
	assert_string_equal(p.address, "ph123@sink.test");
	assert_int_equal(parse("to:<Postmaster>", SINK_SMTP_PATH_RCPT, &p, &reply), 0);
	assert_string_equal(p.address, "Postmaster");
	assert_int_equal(parse("TO:<>", SINK_SMTP_PATH_RCPT, &p, &reply), -1);
	assert_memory_equal(reply, "501", 3);
	assert_int_equal(parse("TO:<a@b> NOTIFY=NEVER", SINK_SMTP_PATH_RCPT, &p, &reply), -1);
	assert_memory_equal(reply, "555", 3);
	assert_int_equal(parse("FROM:<a@b>", SINK_SMTP_PATH_RCPT, &p, &reply), -1);
	assert_string_equal(reply, "501 5.5.4 Syntax: RCPT TO:<address>");
}

static void recipient_must_be_ours(void **state)
{
	struct addr v4, v6;
	assert_int_equal(addr_parse("127.0.30.1", 10, &v4), 0);
	assert_int_equal(addr_parse("::1", 3, &v6), 0);
	static const char *const ours[] = {
	    "x@sink.test",	"x@SINK.Test",	     "x@mx.sink.test",
	    "x@a.b.sink.test.", "\"a@b\"@sink.test", "x@[127.0.30.1]",
	    "postmaster",	"POSTMASTER",	     "x%other.example@sink.test",
	};
	static const char *const theirs[] = {
	    "x@example.org",
	    "x@evilsink.test",
	    "x@sink.test.example",
	    "x@sink.tes",
	    "x@test",
	    "x@[127.0.30.2]",
	    "x@[IPv6:::1]",
	    "x@[127.0.30.1",
	    "x@",
	    "user",
	    "x@sink.test@other.example",
	    "postmaster@example.org",
	    "x@[IPv6:127.0.30.1]",
	    "x@[]",
	};
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		assert_true(sink_smtp_rcpt_is_ours(ours[i], "sink.test", &v4));
	for (size_t i = 0; i < sizeof theirs / sizeof theirs[0]; i++)
		assert_false(sink_smtp_rcpt_is_ours(theirs[i], "sink.test", &v4));
	assert_true(sink_smtp_rcpt_is_ours("x@[IPv6:::1]", "sink.test", &v6));
	assert_true(sink_smtp_rcpt_is_ours("x@[ipv6:0:0::1]", "sink.test", &v6));
	assert_false(sink_smtp_rcpt_is_ours("x@[::1]", "sink.test", &v6)); /* RFC 5321 wants the IPv6: tag */
	assert_false(sink_smtp_rcpt_is_ours("x@[127.0.30.1]", "sink.test", NULL));
}

static void helo_argument(void **state)
{
	assert_true(sink_smtp_helo_valid("mx.example.org", 14));
	assert_true(sink_smtp_helo_valid("[192.0.2.1]", 11));
	assert_true(sink_smtp_helo_valid("my host", 7));
	assert_false(sink_smtp_helo_valid("", 0));
	assert_false(sink_smtp_helo_valid("a\tb", 3));
	assert_false(sink_smtp_helo_valid("a\0b", 3));
	char long_name[300];
	memset(long_name, 'a', sizeof long_name);
	assert_true(sink_smtp_helo_valid(long_name, 255));
	assert_false(sink_smtp_helo_valid(long_name, 256));
}

static void parses_http_request_lines(void **state)
{
	struct sink_target_request r;
	const char *get = "GET /phabc HTTP/1.1";
	assert_int_equal(sink_target_request_parse(get, strlen(get), &r), 0);
	assert_int_equal(r.method, TARGET_METHOD_GET);
	assert_int_equal(r.path_len, 6);
	assert_memory_equal(r.path, "/phabc", 6);
	assert_int_equal(r.minor_version, 1);
	const char *absolute = "HEAD http://127.0.30.1:8080/x?y=1 HTTP/1.0";
	assert_int_equal(sink_target_request_parse(absolute, strlen(absolute), &r), 0);
	assert_int_equal(r.method, TARGET_METHOD_HEAD);
	assert_string_equal(sink_target_method_names[r.method], "HEAD");
	assert_int_equal(r.minor_version, 0);
	const char *post = "POST / HTTP/1.1";
	assert_int_equal(sink_target_request_parse(post, strlen(post), &r), 0);
	assert_int_equal(r.method, TARGET_METHOD_POST);
	static const char *const bad[] = {
	    "",
	    "GET",
	    "GET /",
	    "GET / HTTP/1.1 ",
	    "GET  / HTTP/1.1",
	    "get / HTTP/1.1",
	    "CONNECT host:25 HTTP/1.1",
	    "GET / HTTP/2.0",
	    "GET / HTTP/1.x",
	    "GET / HTTP/1.10",
	    "GET /\x01 HTTP/1.1",
	    "EHLO example.org",
	    "220 plughole-target abc",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(sink_target_request_parse(bad[i], strlen(bad[i]), &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(splits_verb_and_arguments),
	    cmocka_unit_test(parses_mail_from),
	    cmocka_unit_test(refuses_bad_mail_from),
	    cmocka_unit_test(path_length_is_bounded),
	    cmocka_unit_test(parses_rcpt_to),
	    cmocka_unit_test(recipient_must_be_ours),
	    cmocka_unit_test(helo_argument),
	    cmocka_unit_test(parses_http_request_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The probe engine's pure parts: SMTP replies, relay variants, fingerprints, verdicts, transcripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "probe/fingerprint.h"
#include "probe/probe.h"
#include "probe/relay_variants.h"
#include "probe/smtp_reply.h"
#include "probe/transcript.h"
#include "probe/verdict.h"

static enum smtp_reply_status parse(const char *text, struct smtp_reply *r)
{
	return smtp_reply_parse(text, strlen(text), r);
}

static void parses_single_and_multiline_replies(void **unused)
{
	struct smtp_reply r;
	assert_int_equal(parse("220 mx.example.org ESMTP Postfix\r\n", &r), SMTP_REPLY_COMPLETE);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.consumed, 34);
	assert_int_equal(parse("250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n354 next", &r),
			 SMTP_REPLY_COMPLETE);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.lines, 3);
	assert_int_equal(r.consumed, strlen("250-mx.example.org\r\n250-PIPELINING\r\n250 STARTTLS\r\n"));
	assert_int_equal(parse("250\n", &r), SMTP_REPLY_COMPLETE); /* bare code, bare LF */
	assert_int_equal(parse("250-first\r\n250 sec", &r), SMTP_REPLY_INCOMPLETE);
	assert_int_equal(parse("25", &r), SMTP_REPLY_INCOMPLETE);
	assert_int_equal(parse("", &r), SMTP_REPLY_INCOMPLETE);
}

static void rejects_what_is_not_smtp(void **unused)
{
	struct smtp_reply r;
	assert_int_equal(parse("HTTP/1.0 400 Bad Request\r\n", &r), SMTP_REPLY_MALFORMED);
	assert_int_equal(parse("\x16\x03\x01\x02", &r), SMTP_REPLY_MALFORMED);
	assert_int_equal(parse("SSH-2.0-OpenSSH_9.2\r\n", &r), SMTP_REPLY_MALFORMED);
	assert_int_equal(parse("999 nine\r\n", &r), SMTP_REPLY_MALFORMED);
	assert_int_equal(parse("250-a\r\n354 b\r\n", &r), SMTP_REPLY_MALFORMED); /* codes differ */
	assert_int_equal(parse("2", &r), SMTP_REPLY_INCOMPLETE);
	assert_int_equal(parse("2x", &r), SMTP_REPLY_MALFORMED); /* judged before the newline */
	char endless[SMTP_REPLY_MAX_LINE + 20];
	memset(endless, 'a', sizeof endless);
	memcpy(endless, "220 ", 4);
	assert_int_equal(smtp_reply_parse(endless, sizeof endless, &r), SMTP_REPLY_TOO_LONG);
}

static void bounds_the_line_count(void **unused)
{
	struct smtp_reply r;
	char many[(SMTP_REPLY_MAX_LINES + 1) * 8 + 1] = "";
	for (int i = 0; i < SMTP_REPLY_MAX_LINES; i++)
		strcat(many, "250-ab\r\n");
	strcat(many, "250 z\r\n");
	assert_int_equal(parse(many, &r), SMTP_REPLY_TOO_LONG); /* one line too many */
	assert_int_equal(parse(many + 8, &r), SMTP_REPLY_COMPLETE); /* exactly the limit */
	assert_int_equal(r.lines, SMTP_REPLY_MAX_LINES);
	assert_string_equal(many + 8 + r.last_line, "250 z\r\n");
	/* Fewer lines than the limit, each within its bound, too many bytes in all. */
	static char wide[SMTP_REPLY_MAX + 512];
	size_t at = 0;
	while (at < SMTP_REPLY_MAX) {
		memcpy(wide + at, "250-", 4);
		memset(wide + at + 4, 'a', 400);
		memcpy(wide + at + 404, "\r\n", 2);
		at += 406;
	}
	wide[at] = '\0';
	assert_int_equal(parse(wide, &r), SMTP_REPLY_TOO_LONG);
}

static void reads_enhanced_status_codes(void **unused)
{
	struct smtp_reply r;
	char text[16];
	assert_int_equal(parse("550-5.7.1 Relaying denied\r\n550 5.7.1 see the FAQ\r\n", &r), SMTP_REPLY_COMPLETE);
	assert_int_equal(r.status.class, 5);
	assert_int_equal(r.status.subject, 7);
	assert_int_equal(r.status.detail, 1);
	assert_string_equal(smtp_status_format(&r.status, text, sizeof text), "5.7.1");
	assert_int_equal(parse("451 4.7.100 greylisted\r\n", &r), SMTP_REPLY_COMPLETE);
	assert_string_equal(smtp_status_format(&r.status, text, sizeof text), "4.7.100");
	assert_int_equal(parse("250 2.0.0\r\n", &r), SMTP_REPLY_COMPLETE); /* the code alone on the line */
	assert_string_equal(smtp_status_format(&r.status, text, sizeof text), "2.0.0");
	/* Not status codes: another class than the reply's, an address, too many digits, none. */
	const char *none[] = {"550 2.0.0 ok\r\n", "421 10.0.0.1 busy\r\n", "450 4.7.1.2 x\r\n",
			      "450 4.1234.1 x\r\n", "450 4.7. x\r\n", "250 ok\r\n", "250\r\n", "451 4.7.1x\r\n"};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		assert_int_equal(parse(none[i], &r), SMTP_REPLY_COMPLETE);
		assert_int_equal(r.status.class, 0);
		assert_string_equal(smtp_status_format(&r.status, text, sizeof text), "");
	}
	struct smtp_status st;
	assert_int_equal(smtp_status_parse("5.1.1", 5, 550, &st), 5); /* at the end of the bytes */
	assert_int_equal(smtp_status_parse("5.1.1 user", 3, 550, &st), 0); /* only within len */
}

static void finds_extensions(void **unused)
{
	const char *ehlo = "250-mx.example.org\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
	assert_true(smtp_reply_has_keyword(ehlo, strlen(ehlo), "STARTTLS"));
	assert_true(smtp_reply_has_keyword(ehlo, strlen(ehlo), "size"));
	assert_false(smtp_reply_has_keyword(ehlo, strlen(ehlo), "PIPELINING"));
	assert_false(smtp_reply_has_keyword(ehlo, strlen(ehlo), "START"));
}

static void variants_address_only_the_sink(void **unused)
{
	struct relay_context ctx = {.token = "phtoken", .sink_domain = "sink.test", .sink_literal = "[127.0.0.9]",
				    .server_literal = "[192.0.2.5]", .from = "relaytest@verifier.test"};
	char from[256], rcpt[256];
	bool percent = false, bang = false, route = false, quoted = false, null_sender = false;
	assert_true(relay_variant_count >= 13);
	for (size_t i = 0; i < relay_variant_count; i++) {
		assert_true(relay_expand(relay_variants[i].mail_from, &ctx, from, sizeof from));
		assert_true(relay_expand(relay_variants[i].rcpt_to, &ctx, rcpt, sizeof rcpt));
		/* every recipient carries the token and names the sink, whatever the syntax */
		assert_non_null(strstr(rcpt, "phtoken"));
		assert_true(strstr(rcpt, "sink.test") != NULL || strstr(rcpt, "[127.0.0.9]") != NULL);
		/* and every address names only the sink, our sender's domain or the server's literal */
		for (const char *a = from; a != NULL; a = a == from ? rcpt : NULL) {
			char rest[256];
			snprintf(rest, sizeof rest, "%s", a);
			const char *names[] = {"phtoken", "sink.test", "[127.0.0.9]", "[192.0.2.5]",
					       "relaytest@verifier.test", "relaytest"};
			for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
				for (char *hit; (hit = strstr(rest, names[n])) != NULL;)
					memset(hit, ' ', strlen(names[n]));
			for (const char *c = rest; *c; c++)
				assert_non_null(strchr(" <>@%!:\"", *c));
		}
		percent |= strcmp(rcpt, "<phtoken%sink.test@[192.0.2.5]>") == 0;
		bang |= strcmp(rcpt, "<sink.test!phtoken>") == 0;
		route |= strcmp(rcpt, "<@[192.0.2.5]:phtoken@sink.test>") == 0;
		quoted |= strcmp(rcpt, "<\"phtoken@sink.test\">") == 0;
		null_sender |= strcmp(from, "<>") == 0;
	}
	assert_true(percent && bang && route && quoted && null_sender);
	/* a server's claimed domain is no placeholder: a template naming one cannot expand */
	assert_false(relay_expand("<relaytest@{D}>", &ctx, from, sizeof from));
	assert_false(relay_expand("<{T}@{S}>", &ctx, from, 5)); /* too small */
	assert_false(relay_expand("<{X}>", &ctx, from, sizeof from));
	ctx.sink_literal = NULL;
	assert_false(relay_expand("<{T}@{SL}>", &ctx, from, sizeof from));
}

/* The common forms come first: a server that hangs up after a few syntax errors has
 * answered them (and taken an accepted one's message) before it sees an exotic one. */
static void common_variants_come_first(void **unused)
{
	bool exotic_seen = false;
	size_t common = 0;
	for (size_t i = 0; i < relay_variant_count; i++) {
		if (relay_variants[i].common) {
			assert_false(exotic_seen);
			common++;
			/* common: a domain after the last @, no literal, no quotes, no routes */
			assert_null(strpbrk(relay_variants[i].rcpt_to, "\"!%[:"));
			assert_null(strstr(relay_variants[i].rcpt_to, "{L}"));
			assert_null(strstr(relay_variants[i].mail_from, "{L}"));
		}
		exotic_seen |= !relay_variants[i].common;
	}
	assert_int_equal(common, 3);
	assert_string_equal(relay_variants[0].name, "plain");
}

/* Test ids are stored in proofs: each variant and proxy module keeps its id
 * forever (this list only grows), and a retired id is never given again. */
static void test_ids_are_permanent(void **unused)
{
	static const struct {
		const char *name;
		unsigned id;
	} variants[] = {
		{"plain", 0}, {"null-sender", 1}, {"unqualified-sender", 2}, {"server-literal-sender", 4},
		{"sink-domain-sender", 5}, {"quoted", 6}, {"quoted-at-server", 7}, {"percent-hack", 8},
		{"bang-path", 10}, {"bang-path-at-server", 11}, {"source-route", 12}, {"sink-literal", 14},
		{"unqualified-percent", 15},
	}, modules[] = {
		{"http-connect", 65}, {"http-post", 66}, {"http-get", 67}, {"socks4", 68},
		{"socks5", 69}, {"https-connect", 70}, {"https-post", 71}, {"https-get", 72},
		{"socks4a", 73}, {"socks5h", 74}, {"wingate", 75}, {"router", 76},
	};
	static const unsigned retired[] = {3, 9, 13}; /* they named the banner's domain */
	assert_int_equal(relay_variant_count, sizeof variants / sizeof variants[0]);
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		const struct relay_variant *v = relay_variant_by_id(variants[i].id);
		assert_non_null(v);
		assert_string_equal(v->name, variants[i].name);
		assert_true(v->id < PROBE_TEST_PROXY);
	}
	for (size_t i = 0; i < relay_variant_count; i++) /* unique: each id finds its own row */
		assert_ptr_equal(relay_variant_by_id(relay_variants[i].id), &relay_variants[i]);
	for (size_t i = 0; i < sizeof retired / sizeof retired[0]; i++)
		assert_null(relay_variant_by_id(retired[i]));
	size_t proxies = 0;
	for (size_t i = 0; i < probe_module_count(); i++) {
		const struct probe_module *m = probe_module_at(i);
		int test = probe_module_test(m);
		if (m->family == PROBE_RELAY) {
			assert_int_equal(test, -1); /* its tokens carry the variants' ids */
			continue;
		}
		proxies++;
		assert_true(test >= PROBE_TEST_PROXY && test <= UINT8_MAX);
		assert_ptr_equal(probe_module_by_test((unsigned)test), m);
		bool listed = false;
		for (size_t k = 0; k < sizeof modules / sizeof modules[0]; k++)
			if (strcmp(modules[k].name, m->name) == 0) {
				assert_int_equal(test, modules[k].id);
				listed = true;
			}
		assert_true(listed);
	}
	assert_int_equal(proxies, sizeof modules / sizeof modules[0]);
	assert_null(probe_module_by_test(0));
	assert_null(probe_module_by_test(PROBE_TEST_PROXY));
}

static double delay_of(const char *reply)
{
	return smtp_reply_retry_delay(reply, strlen(reply));
}

static void reads_the_delay_a_reply_asks_for(void **unused)
{
	assert_true(delay_of("450 4.7.1 <a@b>: Recipient address rejected: Greylisted, try again in 2 seconds\r\n") == 2);
	assert_true(delay_of("450 4.2.0 Greylisted for 300 seconds\r\n") == 300);
	assert_true(delay_of("451 Please try again in 5 minutes\r\n") == 300);
	assert_true(delay_of("451-4.7.1 greylisted\r\n451 4.7.1 retry in 60s\r\n") == 60);
	assert_true(delay_of("450 4.7.1 try later (10 min)\r\n") == 600);
	assert_true(delay_of("450 4.7.1 wait 99999999999999999999 seconds\r\n") == 86400); /* bounded */
	/* codes, enhanced codes, addresses and other numbers name no delay */
	assert_true(delay_of("450 4.7.1 Service unavailable\r\n") == -1);
	assert_true(delay_of("451 4.3.0 Error: queue file write error\r\n") == -1);
	assert_true(delay_of("450 client 10.0.0.1 s greylisted, see http://postgrey.example/help/x.html\r\n") == -1);
	assert_true(delay_of("450 4.7.1 try again later, 3rd attempt\r\n") == -1);
	assert_true(delay_of("450 s\r\n") == -1);
	assert_true(smtp_reply_retry_delay("", 0) == -1);
	assert_true(smtp_reply_retry_delay("450 12 seconds", 6) == -1); /* only within len */
}

static void fingerprints_known_software(void **unused)
{
	struct { const char *text; const char *software; } cases[] = {
		{"220 mx.example.org ESMTP Postfix (Debian/GNU)", "Postfix"},
		{"220 mail.example.com ESMTP Exim 4.96 Mon, 23 Nov 2026", "Exim"},
		{"220 host Microsoft ESMTP MAIL Service ready at Mon", "Microsoft Exchange"},
		{"220 host ESMTP Sendmail 8.17.1/8.17.1", "Sendmail"},
		{"220 host ESMTP qmail", "qmail"},
		{"220 host ESMTP OpenSMTPD", "OpenSMTPD"},
		{"220 host Courier mail server", "Courier"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		assert_string_equal(fingerprint_detect(FINGERPRINT_SMTP, cases[i].text, strlen(cases[i].text)),
				    cases[i].software);
	assert_null(fingerprint_detect(FINGERPRINT_SMTP, "220 host ESMTP", 14));
	assert_string_equal(fingerprint_detect(FINGERPRINT_PROXY, "Server: squid/5.7", 17), "Squid");
}

/* --protocols and --ports take a kind's alias for all its modules: each module names its kind. */
static void every_module_has_its_kind(void **unused)
{
	static const struct {
		const char *module, *alias;
	} kinds[] = {
		{"smtp-relay", "relay"},     {"http-connect", "http"},	 {"http-post", "http"},	  {"http-get", "http"},
		{"https-connect", "https"}, {"https-post", "https"},	 {"https-get", "https"}, {"socks4", "socks"},
		{"socks4a", "socks"},	     {"socks5", "socks"},	 {"socks5h", "socks"},	  {"wingate", "gateway"},
		{"router", "gateway"},
	};
	assert_int_equal(probe_module_count(), sizeof kinds / sizeof kinds[0]);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		const struct probe_module *m = probe_module_find(kinds[i].module);
		assert_non_null(m);
		assert_non_null(m->alias);
		assert_string_equal(m->alias, kinds[i].alias);
	}
}

static void verdict_names_round_trip(void **unused)
{
	for (int v = VERDICT_NONE + 1; v < VERDICT_LAST; v++)
		assert_int_equal(verdict_from_name(verdict_name((enum verdict)v)), v);
	assert_string_equal(verdict_name(VERDICT_OPEN_RELAY), "open-relay");
	assert_int_equal(verdict_from_name("maybe"), VERDICT_NONE);
}

/* Lines of every length up to the bound: the transcript stays terminated and
 * within TRANSCRIPT_MAX, and ends with exactly one cut line once full. */
static void transcripts_stay_bounded(void **unused)
{
	char line[300];
	memset(line, 'x', sizeof line);
	for (size_t step = 1; step < sizeof line; step += 7) {
		struct transcript t = {0};
		for (int i = 0; i < 1500; i++)
			transcript_add(&t, ">> ", line, step);
		assert_true(t.cut);
		assert_int_equal(strlen(t.text), t.len);
		assert_true(t.len < TRANSCRIPT_MAX);
		const char *last = strstr(t.text, "-- transcript cut\n");
		assert_non_null(last);
		assert_string_equal(last, "-- transcript cut\n");
		transcript_free(&t);
	}
	struct transcript t = {0};
	transcript_add(&t, "<< ", "250 ok\r\n\x01\x7f", 10);
	assert_string_equal(t.text, "<< 250 ok?\n??\n"); /* CR and other control bytes become '?' */
	transcript_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_single_and_multiline_replies),
		cmocka_unit_test(rejects_what_is_not_smtp),
		cmocka_unit_test(finds_extensions),
		cmocka_unit_test(bounds_the_line_count),
		cmocka_unit_test(reads_enhanced_status_codes),
		cmocka_unit_test(variants_address_only_the_sink),
		cmocka_unit_test(common_variants_come_first),
		cmocka_unit_test(test_ids_are_permanent),
		cmocka_unit_test(reads_the_delay_a_reply_asks_for),
		cmocka_unit_test(fingerprints_known_software),
		cmocka_unit_test(every_module_has_its_kind),
		cmocka_unit_test(verdict_names_round_trip),
		cmocka_unit_test(transcripts_stay_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

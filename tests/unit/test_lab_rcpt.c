/* plughole-lab's pure parts: SMTP paths, recipient routing, the mix and host classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lab.h"
#include "lab_smtp.h"

#define HOST 0x7f140105u /* 127.20.1.5 */

static void path(const char *arg, const char *prefix, const char *want)
{
	char out[LAB_PATH_MAX];
	int r = lab_path_parse(arg, strlen(arg), prefix, out);
	if (want == NULL) {
		assert_int_equal(r, -1);
		return;
	}
	assert_int_equal(r, 0);
	assert_string_equal(out, want);
}

static void parses_paths(void **state)
{
	path("FROM:<a@b.c>", "FROM:", "a@b.c");
	path("from:<a@b.c> SIZE=100 BODY=8BITMIME", "FROM:", "a@b.c");
	path("FROM: <a@b.c>", "FROM:", "a@b.c");
	path("FROM:<>", "FROM:", "");
	path("TO:<@r.dom,@s.dom:u@x.y>", "TO:", "@r.dom,@s.dom:u@x.y");
	path("TO:<\"odd>name\"@x.y>", "TO:", "\"odd>name\"@x.y");
	path("TO:bare@x.y", "TO:", "bare@x.y");
	path("TO:<a@b.c", "TO:", NULL);
	path("TO:<a@b.c>junk", "TO:", NULL);
	path("TO:", "TO:", NULL);
	path("FROM:<a@b.c>", "TO:", NULL);
	path("TO:<a\x01@b.c>", "TO:", NULL);
}

static void rejects_long_paths(void **state)
{
	char arg[600], out[LAB_PATH_MAX];
	memset(arg, 'a', sizeof arg);
	memcpy(arg, "TO:<", 4);
	arg[sizeof arg - 2] = '>';
	arg[sizeof arg - 1] = '\0';
	assert_int_equal(lab_path_parse(arg, strlen(arg), "TO:", out), -1);
}

static void route(const char *given, enum lab_route want, const char *want_to)
{
	char out[LAB_PATH_MAX];
	int r = lab_route_resolve(given, HOST, out);
	assert_int_equal(r, (int)want);
	assert_string_equal(out, want_to);
}

static void resolves_every_relay_form(void **state)
{
	route("u@sink.dom", LAB_ROUTE_PLAIN, "u@sink.dom");
	route("u@[127.0.40.1]", LAB_ROUTE_LITERAL, "u@[127.0.40.1]");
	route("u%sink.dom@127.20.1.5.lab.test", LAB_ROUTE_PERCENT, "u@sink.dom");
	route("u%sink.dom@[127.20.1.5]", LAB_ROUTE_PERCENT, "u@sink.dom");
	route("u%a.dom%sink.dom@[127.20.1.5]", LAB_ROUTE_PERCENT, "u%a.dom@sink.dom");
	route("u%sink.dom", LAB_ROUTE_PERCENT, "u@sink.dom");
	route("sink.dom!u@127.20.1.5.LAB.TEST", LAB_ROUTE_BANG, "u@sink.dom");
	route("sink.dom!u", LAB_ROUTE_BANG, "u@sink.dom");
	route("@127.20.1.5.lab.test:u@sink.dom", LAB_ROUTE_SOURCE, "u@sink.dom");
	route("@a.dom,@b.dom:u@sink.dom", LAB_ROUTE_SOURCE, "u@sink.dom");
	route("\"u@sink.dom\"@127.20.1.5.lab.test", LAB_ROUTE_QUOTED, "u@sink.dom");
	route("\"u@sink.dom\"", LAB_ROUTE_QUOTED, "u@sink.dom");
	route("u@sink.dom@[127.20.1.5]", LAB_ROUTE_DOUBLE_AT, "u@sink.dom");
}

static void keeps_local_mail_local(void **state)
{
	route("postmaster@127.20.1.5.lab.test", LAB_ROUTE_LOCAL, "postmaster@127.20.1.5.lab.test");
	route("postmaster@[127.20.1.5]", LAB_ROUTE_LOCAL, "postmaster@[127.20.1.5]");
	route("postmaster", LAB_ROUTE_LOCAL, "postmaster");
	/* Routing that ends at the host itself is still local delivery. */
	route("u%127.20.1.5.lab.test@127.20.1.5.lab.test", LAB_ROUTE_LOCAL, "u@127.20.1.5.lab.test");
	route("@x.dom:u@127.20.1.5.lab.test", LAB_ROUTE_LOCAL, "u@127.20.1.5.lab.test");
	/* Another lab host's domain is foreign. */
	route("u%sink.dom@127.20.1.6.lab.test", LAB_ROUTE_PLAIN, "u%sink.dom@127.20.1.6.lab.test");
}

static void rejects_non_addresses(void **state)
{
	char out[LAB_PATH_MAX];
	static const char *const bad[] = {"",
					  "@",
					  "u@",
					  "@x.dom",
					  "@x.dom:",
					  "@x.dom:@y",
					  "%x@[127.20.1.5]",
					  "x%@[127.20.1.5]",
					  "!u@[127.20.1.5]",
					  "\"\"@[127.20.1.5]"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(lab_route_resolve(bad[i], HOST, out), -1);
}

static void parses_mixes(void **state)
{
	struct lab_mix mix;
	const char *why;
	assert_int_equal(lab_mix_parse("open=3,closed=50,silent=20,drop=5", &mix, &why), 0);
	assert_int_equal(mix.weight[LAB_OPEN], 3000);
	assert_int_equal(mix.weight[LAB_CLOSED], 50000);
	assert_int_equal(mix.total, 78000);
	assert_int_equal(lab_mix_parse("open=0.5,helo-only=1.25", &mix, &why), 0);
	assert_int_equal(mix.weight[LAB_HELO_ONLY], 1250);
	assert_int_equal(lab_mix_parse("open=1,open=2", &mix, &why), 0);
	assert_int_equal(mix.total, 2000);
	static const char *const bad[] = {"",	    "open",   "open=",	 "nosuch=1", "open=-1",
					  "open=x", "open=0", "open=1,", "=3"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(lab_mix_parse(bad[i], &mix, &why), -1);
}

static void parses_blocks(void **state)
{
	struct lab_block b;
	const char *why;
	assert_int_equal(lab_block_parse("127.21.0.0/16", &b, &why), 0);
	assert_int_equal(b.first, 0x7f150000u);
	assert_int_equal(b.last, 0x7f15ffffu);
	assert_int_equal(lab_block_parse("127.21.0.1-127.21.0.9", &b, &why), 0);
	assert_int_equal(b.last - b.first, 8);
	assert_int_equal(lab_block_parse("10.0.0.0/8", &b, &why), -1);
	assert_int_equal(lab_block_parse("126.0.0.0/7", &b, &why), -1);
	assert_int_equal(lab_block_parse("::1", &b, &why), -1);
}

static void classifies_hosts(void **state)
{
	struct lab_config config;
	const char *why;
	unsigned counts[LAB_BEHAVIOUR_LAST] = {0};
	lab_config_defaults(&config);
	assert_int_equal(lab_block_parse("127.21.0.0/16", &config.blocks[0], &why), 0);
	config.nblocks = 1;
	assert_int_equal(lab_mix_parse("open=10,silent=30,closed=60", &config.mix, &why), 0);
	for (uint32_t a = 0x7f150000u; a <= 0x7f15ffffu; a++) {
		struct lab_host h = {.addr = a}, again = {.addr = a};
		lab_classify(&config, &h);
		lab_classify(&config, &again);
		assert_int_equal(h.behaviour, again.behaviour);
		assert_int_equal(h.hash, again.hash);
		counts[h.behaviour]++;
	}
	/* 65536 hosts: each share within 1.5 points of its weight. */
	assert_in_range(counts[LAB_OPEN], 5570, 7540);
	assert_in_range(counts[LAB_SILENT], 18680, 20640);
	assert_in_range(counts[LAB_CLOSED], 38340, 40300);
	assert_int_equal(counts[LAB_DROP], 0);

	struct lab_host fixed = {.addr = 0x7f140c07u}, outside = {.addr = 0x7f160001u},
			unknown = {.addr = 0x7f14fa01u};
	lab_classify(&config, &fixed);
	lab_classify(&config, &outside);
	lab_classify(&config, &unknown);
	assert_int_equal(fixed.behaviour, LAB_ENDLESS); /* 127.20.12.7 */
	assert_int_equal(outside.behaviour, LAB_CLOSED);
	assert_int_equal(unknown.behaviour, LAB_CLOSED); /* 127.20.250.1: no such behaviour */
}

static void every_behaviour_has_a_row(void **state)
{
	for (int b = 0; b < LAB_BEHAVIOUR_LAST; b++) {
		assert_non_null(lab_behaviours[b].name);
		assert_non_null(lab_behaviours[b].verdict);
		assert_non_null(lab_behaviours[b].start);
		assert_int_equal(lab_behaviour_find(lab_behaviours[b].name, strlen(lab_behaviours[b].name)),
				 b);
	}
}

/* Keyed as postgrey keys: the client, the sender and the recipient (at one host). */
static void greylists_triplets(void **state)
{
	struct lab_greylist *g = lab_greylist_new();
	assert_non_null(g);
	assert_int_equal(lab_greylist_age(g, 1, 2, "a@x.test", "t1@sink.test", 1000), 0);
	assert_int_equal(lab_greylist_age(g, 1, 2, "a@x.test", "t1@sink.test", 1003), 3);
	/* another recipient, sender, client or host is a triplet of its own */
	assert_int_equal(lab_greylist_age(g, 1, 2, "a@x.test", "t2@sink.test", 1004), 0);
	assert_int_equal(lab_greylist_age(g, 1, 2, "", "t1@sink.test", 1004), 0);
	assert_int_equal(lab_greylist_age(g, 3, 2, "a@x.test", "t1@sink.test", 1004), 0);
	assert_int_equal(lab_greylist_age(g, 1, 9, "a@x.test", "t1@sink.test", 1004), 0);
	/* the split between sender and recipient counts */
	assert_int_equal(lab_greylist_age(g, 1, 2, "a@x.test" "t1", "@sink.test", 1005), 0);
	assert_int_equal(lab_greylist_age(g, 1, 2, "a@x.test", "t2@sink.test", 1006), 2);
	/* Grows past its first size without losing triplets. */
	char rcpt[32];
	for (uint32_t i = 0; i < 20000; i++) {
		snprintf(rcpt, sizeof rcpt, "r%u@sink.test", i);
		lab_greylist_age(g, 7, 2, "a@x.test", rcpt, 2000);
	}
	assert_int_equal(lab_greylist_age(g, 1, 2, "a@x.test", "t1@sink.test", 1010), 10);
	assert_int_equal(lab_greylist_age(g, 7, 2, "a@x.test", "r19999@sink.test", 2004), 4);
	lab_greylist_free(g);
}

/* Exim's parser: literals and addresses without a domain are syntax errors. */
static void strict_paths_as_exim(void **state)
{
	assert_null(lab_strict_path_error("", true));
	assert_null(lab_strict_path_error("a@b.test", true));
	assert_null(lab_strict_path_error("t@sink.test", false));
	assert_null(lab_strict_path_error("@relay.test:t@sink.test", false));
	assert_non_null(lab_strict_path_error("", false));
	assert_string_equal(lab_strict_path_error("relaytest", true), "sender address must contain a domain");
	assert_string_equal(lab_strict_path_error("relaytest@[127.20.29.1]", true), "domain literals not allowed");
	assert_string_equal(lab_strict_path_error("t%sink.test@[127.20.29.1]", false), "domain literals not allowed");
	assert_string_equal(lab_strict_path_error("@[127.20.29.1]:t@sink.test", false), "domain literals not allowed");
	assert_string_equal(lab_strict_path_error("t@[127.0.41.1]", false), "domain literals not allowed");
	assert_string_equal(lab_strict_path_error("\"t@sink.test\"", false), "recipient address must contain a domain");
	assert_string_equal(lab_strict_path_error("sink.test!t", false), "recipient address must contain a domain");
	assert_non_null(lab_strict_path_error("t@", false));
	assert_non_null(lab_strict_path_error("@x.test", false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_paths),
	    cmocka_unit_test(rejects_long_paths),
	    cmocka_unit_test(resolves_every_relay_form),
	    cmocka_unit_test(keeps_local_mail_local),
	    cmocka_unit_test(rejects_non_addresses),
	    cmocka_unit_test(parses_mixes),
	    cmocka_unit_test(parses_blocks),
	    cmocka_unit_test(classifies_hosts),
	    cmocka_unit_test(every_behaviour_has_a_row),
	    cmocka_unit_test(greylists_triplets),
		cmocka_unit_test(strict_paths_as_exim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

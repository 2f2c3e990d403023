/* Every feed parser over good, bad and edge lines, and format detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "feeds/feed.h"

struct parsed {
	int n;
	struct feed_item items[FEED_MAX_ITEMS];
	const char *why;
};

static struct parsed parse(const struct feed_format *format, struct feed_state *state, const char *line)
{
	struct parsed p = {.why = NULL};
	p.n = format->parse_line(state, line, strlen(line), p.items, &p.why);
	return p;
}

static struct parsed parse1(const struct feed_format *format, const char *line)
{
	struct feed_state state;
	feed_state_init(&state);
	return parse(format, &state, line);
}

static void assert_item(const struct feed_item *item, const char *first, const char *last, uint16_t port)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	assert_string_equal(addr_format(&item->range.first, a), first);
	assert_string_equal(addr_format(&item->range.last, b), last);
	assert_int_equal(item->port, port);
}

static void plain_lines(void **state)
{
	struct parsed p = parse1(&feed_plain, "192.0.2.1");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 0);
	p = parse1(&feed_plain, "  192.0.2.1:8080  # a comment\r");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 8080);
	p = parse1(&feed_plain, "[2001:db8::5]:3128");
	assert_item(&p.items[0], "2001:db8::5", "2001:db8::5", 3128);
	p = parse1(&feed_plain, "2001:db8::5");
	assert_item(&p.items[0], "2001:db8::5", "2001:db8::5", 0);
	p = parse1(&feed_plain, "192.0.2.0/30");
	assert_item(&p.items[0], "192.0.2.0", "192.0.2.3", 0);
	p = parse1(&feed_plain, "192.0.2.8-192.0.2.9");
	assert_item(&p.items[0], "192.0.2.8", "192.0.2.9", 0);
	assert_int_equal(parse1(&feed_plain, "# only a comment").n, 0);
	assert_int_equal(parse1(&feed_plain, "   ").n, 0);
	assert_int_equal(parse1(&feed_plain, "").n, 0);
	assert_int_equal(parse1(&feed_plain, "192.0.2.1 192.0.2.2").n, -1);
	assert_int_equal(parse1(&feed_plain, "mail.example.com").n, -1);
	/* a partial address is a bad line in a plain list, never a /24 */
	p = parse1(&feed_plain, "192.0.2");
	assert_int_equal(p.n, -1);
	assert_non_null(strstr(p.why, "partial address"));
	assert_int_equal(parse1(&feed_plain, "192.0").n, -1);
	assert_int_equal(parse1(&feed_plain, "; comment").n, -1);
	assert_int_equal(parse1(&feed_plain, "192.0.2.1:0").n, -1);
	p = parse1(&feed_plain, "192.0.2.1/33");
	assert_int_equal(p.n, -1);
	assert_non_null(p.why);
}

static void rbldnsd_lines(void **state)
{
	static const char *const skipped[] = {"$TTL 3600", ":127.0.0.2:Open relay", "# c", "; c", ""};
	for (size_t i = 0; i < sizeof skipped / sizeof *skipped; i++)
		assert_int_equal(parse1(&feed_rbldnsd, skipped[i]).n, 0);
	struct parsed p = parse1(&feed_rbldnsd, "192.0.2");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.0", "192.0.2.255", 0);
	p = parse1(&feed_rbldnsd, "10");
	assert_item(&p.items[0], "10.0.0.0", "10.255.255.255", 0);
	p = parse1(&feed_rbldnsd, "192.0.2.4-10 :127.0.0.3:Confirmed open");
	assert_item(&p.items[0], "192.0.2.4", "192.0.2.10", 0);
	p = parse1(&feed_rbldnsd, "192.0.2-3");
	assert_item(&p.items[0], "192.0.2.0", "192.0.3.255", 0);
	p = parse1(&feed_rbldnsd, "192.0.2.64/26");
	assert_item(&p.items[0], "192.0.2.64", "192.0.2.127", 0);
	p = parse1(&feed_rbldnsd, "192.0.2.9:127.0.0.2:text right after");
	assert_item(&p.items[0], "192.0.2.9", "192.0.2.9", 0);
	p = parse1(&feed_rbldnsd, "!192.0.2.7");
	assert_int_equal(p.n, 1);
	assert_true(p.items[0].exclude);
	p = parse1(&feed_rbldnsd, "2001:db8::/126 :2:v6");
	assert_item(&p.items[0], "2001:db8::", "2001:db8::3", 0);
	assert_int_equal(parse1(&feed_rbldnsd, "192.0.2.300").n, -1);
	assert_int_equal(parse1(&feed_rbldnsd, "192.0.2.9-3").n, -1);
	assert_int_equal(parse1(&feed_rbldnsd, "192.0.2.1/40").n, -1);
	assert_int_equal(parse1(&feed_rbldnsd, "relay.example").n, -1);
}

static void csv_lines(void **unused)
{
	struct feed_state state;
	feed_state_init(&state);
	assert_int_equal(parse(&feed_csv, &state, "\"timestamp\",\"ip\",\"port\",\"hostname\"").n, 0);
	struct parsed p = parse(&feed_csv, &state, "\"2004-01-29 10:00:00\",\"192.0.2.1\",25,\"mx, main\"");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 25);
	p = parse(&feed_csv, &state, "\"t\",\"2001:db8::1\",,\"x\"");
	assert_item(&p.items[0], "2001:db8::1", "2001:db8::1", 0);
	p = parse(&feed_csv, &state, "\"t\",\"192.0.2.1\",\"a \"\"quoted\"\" port\",x");
	assert_int_equal(p.n, -1);
	assert_int_equal(parse(&feed_csv, &state, "\"t\",\"192.0.2.1").n, -1); /* open quote */
	assert_int_equal(parse(&feed_csv, &state, "only-one-column").n, -1);
	/* zmap's header; columns found by name in any order */
	feed_state_init(&state);
	assert_int_equal(parse(&feed_zmap_csv, &state, "classification,sport,saddr").n, 0);
	p = parse(&feed_zmap_csv, &state, "synack,2525,192.0.2.9");
	assert_item(&p.items[0], "192.0.2.9", "192.0.2.9", 2525);
	/* a header without an address column is an error */
	feed_state_init(&state);
	assert_int_equal(parse(&feed_csv, &state, "when,where,what").n, -1);
}

static void masscan_lines(void **unused)
{
	struct parsed p = parse1(&feed_masscan_list, "open tcp 25 192.0.2.1 1390167312");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 25);
	assert_int_equal(parse1(&feed_masscan_list, "#masscan").n, 0);
	assert_int_equal(parse1(&feed_masscan_list, "closed tcp 25 192.0.2.1 1390167312").n, 0);
	assert_int_equal(parse1(&feed_masscan_list, "open tcp 25").n, -1);
	assert_int_equal(parse1(&feed_masscan_list, "open tcp 99999 192.0.2.1 1").n, -1);

	p = parse1(&feed_masscan_json,
		   "{   \"ip\": \"192.0.2.2\",   \"timestamp\": \"1\", \"ports\": [ {\"port\": 25, \"proto\": \"tcp\","
		   " \"status\": \"open\"}, {\"port\": 587, \"status\": \"open\"}, {\"port\": 26, \"status\": \"closed\"} ] },");
	assert_int_equal(p.n, 2);
	assert_item(&p.items[0], "192.0.2.2", "192.0.2.2", 25);
	assert_item(&p.items[1], "192.0.2.2", "192.0.2.2", 587);
	assert_int_equal(parse1(&feed_masscan_json, "[").n, 0);
	assert_int_equal(parse1(&feed_masscan_json, ",").n, 0);
	assert_int_equal(parse1(&feed_masscan_json, "]").n, 0);
	assert_int_equal(parse1(&feed_masscan_json, "{ \"ip\": \"x\", \"ports\": [] }").n, -1);
	assert_int_equal(parse1(&feed_masscan_json, "{ broken").n, -1);
	assert_int_equal(parse1(&feed_masscan_json, "{ \"ip\": \"192.0.2.2\", \"ports\": [{\"port\": 0}] }").n, -1);
}

static void detects_formats(void **unused)
{
	struct { const char *sample; const char *format; } cases[] = {
		{"192.0.2.1\n192.0.2.2:25\n", "plain"},
		{"# list\n192.0.2.0/24\n", "plain"},
		{"$TTL 3600\n192.0.2.1\n", "rbldnsd"},
		{":127.0.0.2:Open relay\n192.0.2.1\n", "rbldnsd"},
		{"192.0.2.1 :127.0.0.2:listed\n", "rbldnsd"},
		{"192.0.2.1\n!192.0.2.7\n", "rbldnsd"},
		{"192.0.2.9:127.0.0.2:listed\n", "rbldnsd"},
		{"192.0.2.9:25\n192.0.2.10:2525\n", "plain"},
		/* no evidence of a zone: a truncated line, IPv6 first, a ';' line */
		{"192.0.2\n", "plain"},
		{"192.0.2.1:25\n192.0.2\n192.0.2.3:587\n", "plain"},
		{"2001:db8::1\n192.0.2.1:25\n", "plain"},
		{"[2001:db8::1]:25\n192.0.2\n", "plain"},
		{"; a list\n192.0.2.1:25\n", "plain"},
		{"2001:db8::/126\n", "plain"},
		{"\"timestamp\",\"ip\",\"port\"\n\"t\",\"192.0.2.1\",25\n", "csv"},
		{"saddr,sport\n192.0.2.1,25\n", "zmap-csv"},
		{"#masscan\nopen tcp 25 192.0.2.1 1\n", "masscan-list"},
		{"open tcp 25 192.0.2.1 1\n", "masscan-list"},
		{"[\n{   \"ip\": \"192.0.2.1\", \"ports\": [] },\n", "masscan-json"},
		{"", "plain"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *why = NULL;
		const struct feed_format *f = feed_format_detect(cases[i].sample, strlen(cases[i].sample), &why);
		if (strcmp(f->name, cases[i].format) != 0)
			fail_msg("%s detected as %s (%s), not %s", cases[i].sample, f->name, why, cases[i].format);
		assert_non_null(why);
	}
	const char *why;
	feed_format_detect("$TTL 3600\n", 10, &why);
	assert_string_equal(why, "a '$' directive line");
	assert_non_null(feed_format_find("zmap"));
	assert_null(feed_format_find("nessus"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_lines),   cmocka_unit_test(rbldnsd_lines), cmocka_unit_test(csv_lines),
		cmocka_unit_test(masscan_lines), cmocka_unit_test(detects_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Every feed parser over good, bad and edge lines, and format detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "core/linereader.h"
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

/* ZMap's success column: 0 (a RST) is no candidate, counted as not open. */
static void zmap_csv_success(void **unused)
{
	struct feed_state state;
	feed_state_init(&state);
	assert_int_equal(parse(&feed_zmap_csv, &state, "saddr,daddr,sport,classification,success,repeat").n, 0);
	struct parsed p = parse(&feed_zmap_csv, &state, "192.0.2.1,198.51.100.1,25,synack,1,0");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 25);
	assert_int_equal(parse(&feed_zmap_csv, &state, "192.0.2.2,198.51.100.1,25,rst,0,0").n, 0);
	assert_int_equal(state.not_open, 1);
	p = parse(&feed_zmap_csv, &state, "192.0.2.3,198.51.100.1,25,rst,maybe,0");
	assert_int_equal(p.n, -1);
	assert_string_equal(p.why, "the success column holds neither 0 nor 1");
	assert_int_equal(parse(&feed_zmap_csv, &state, "not-an-address,198.51.100.1,25,rst,0,0").n, 0);
	assert_int_equal(state.not_open, 2);
	/* a generic CSV knows no success column */
	feed_state_init(&state);
	parse(&feed_csv, &state, "saddr,sport,success");
	assert_int_equal(parse(&feed_csv, &state, "192.0.2.2,25,0").n, 1);
	assert_int_equal(state.not_open, 0);
}

static void nmap_xml_lines(void **unused)
{
	static const char *const lines[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
		"<!DOCTYPE nmaprun>",
		"<nmaprun scanner=\"nmap\" args=\"nmap -oX - 192.0.2.0/30\" version=\"7.94\">",
		"<host starttime=\"1\" endtime=\"2\"><status state=\"up\" reason=\"syn-ack\"/>",
		"<address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>",
		"<address addr=\"52:54:00:12:34:56\" addrtype=\"mac\"/>",
		"<ports><port protocol=\"tcp\" portid=\"25\"><state state=\"open\" reason=\"syn-ack\"/><service name=\"smtp\"/></port>",
		"<port protocol=\"tcp\" portid=\"587\"><state state=\"closed\" reason=\"reset\"/></port>",
		"<port protocol=\"udp\" portid=\"53\"><state state=\"open\"/></port>",
		"</ports></host>",
		"<host><address addr='2001:db8::25' addrtype='ipv6'/><ports><port protocol=\"tcp\" portid=\"25\"><state state=\"open\"/></port><port protocol=\"tcp\" portid=\"2525\"><state state=\"open\"/></port></ports></host>",
		"</nmaprun>",
	};
	static const int counts[] = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0};
	struct feed_state state;
	feed_state_init(&state);
	struct parsed p;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		p = parse(&feed_nmap_xml, &state, lines[i]);
		if (p.n != counts[i])
			fail_msg("line %zu: %d items (%s), not %d", i, p.n, p.why ? p.why : "", counts[i]);
		if (i == 6)
			assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 25);
		if (i == 10) { /* a whole host on one line */
			assert_item(&p.items[0], "2001:db8::25", "2001:db8::25", 25);
			assert_item(&p.items[1], "2001:db8::25", "2001:db8::25", 2525);
		}
	}
	assert_int_equal(state.not_open, 2); /* 587 closed, 53 UDP */
	/* an open port outside a host names nothing; before its address it is an error */
	assert_int_equal(parse1(&feed_nmap_xml, "<port protocol=\"tcp\" portid=\"25\"><state state=\"open\"/>").n, 0);
	feed_state_init(&state);
	parse(&feed_nmap_xml, &state, "<host>");
	p = parse(&feed_nmap_xml, &state, "<port protocol=\"tcp\" portid=\"25\"><state state=\"open\"/></port>");
	assert_int_equal(p.n, -1);
	assert_string_equal(p.why, "an open <port> before its host's <address>");
	assert_int_equal(parse(&feed_nmap_xml, &state, "<address addr=\"192.0.2\" addrtype=\"ipv4\"/>").n, -1);
	assert_int_equal(parse(&feed_nmap_xml, &state, "<port protocol=\"tcp\" portid=\"0\">").n, -1);
	assert_int_equal(parse(&feed_nmap_xml, &state, "<port protocol=\"tcp\" portidx=\"25\">").n, -1);
	assert_int_equal(parse(&feed_nmap_xml, &state, "<address addr=\"192.0.2.1\"").n, -1); /* tag cut */
	/* a host element only starts when named exactly: <hostnames>, <hostname> are not hosts */
	feed_state_init(&state);
	parse(&feed_nmap_xml, &state, "<hostname name=\"a\"/>");
	assert_false(state.xml.in_host);
}

static void nmap_grep_lines(void **unused)
{
	struct feed_state state;
	feed_state_init(&state);
	assert_int_equal(parse(&feed_nmap_grep, &state, "# Nmap 7.94 scan initiated as: nmap -oG - 192.0.2.0/30").n, 0);
	assert_int_equal(parse(&feed_nmap_grep, &state, "Host: 192.0.2.1 (mx.example)\tStatus: Up").n, 0);
	struct parsed p = parse(&feed_nmap_grep, &state,
				"Host: 192.0.2.1 (mx.example)\tPorts: 25/open/tcp//smtp//Postfix smtpd/, 587/closed/tcp//submission///, "
				"2525/open/tcp//ms-v-worlds///, 53/open/udp//domain///\tIgnored State: filtered (996)");
	assert_int_equal(p.n, 2);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 25);
	assert_item(&p.items[1], "192.0.2.1", "192.0.2.1", 2525);
	assert_int_equal(state.not_open, 2);
	p = parse(&feed_nmap_grep, &state, "Host: 2001:db8::1 ()\tPorts: 587/open/tcp//submission///");
	assert_item(&p.items[0], "2001:db8::1", "2001:db8::1", 587);
	assert_int_equal(parse(&feed_nmap_grep, &state, "Nmap scan report for 192.0.2.1").n, -1);
	assert_int_equal(parse(&feed_nmap_grep, &state, "Host: mx.example ()\tStatus: Up").n, -1);
	assert_int_equal(parse(&feed_nmap_grep, &state, "Host: 192.0.2.1 ()\tPorts: 25/open/tcp").n, -1);
	assert_int_equal(parse(&feed_nmap_grep, &state, "Host: 192.0.2.1 ()\tPorts: 99999/open/tcp//smtp///").n, -1);
	assert_int_equal(parse(&feed_nmap_grep, &state, "Host: 192.0.2.1 ()\tPorts: 25/open/tcp//smtp///; 26/open/tcp////").n, -1);
	/* more open ports on one line than one line may yield: an error, never a silent cut */
	char line[4096] = "Host: 192.0.2.1 ()\tPorts: ";
	for (int port = 1; port <= FEED_MAX_ITEMS + 1; port++)
		snprintf(line + strlen(line), sizeof line - strlen(line), "%s%d/open/tcp/////", port > 1 ? ", " : "", port);
	p = parse(&feed_nmap_grep, &state, line);
	assert_int_equal(p.n, -1);
	assert_string_equal(p.why, "too many open ports on one line");
}

static void intelmq_lines(void **unused)
{
	struct feed_state state;
	feed_state_init(&state);
	assert_int_equal(parse(&feed_intelmq_csv, &state, "\"time.observation\",\"source.ip\",\"source.port\",\"destination.ip\"").n, 0);
	struct parsed p = parse(&feed_intelmq_csv, &state, "\"2026-12-04\",\"192.0.2.7\",\"25\",\"198.51.100.1\"");
	assert_item(&p.items[0], "192.0.2.7", "192.0.2.7", 25);
	p = parse(&feed_intelmq_csv, &state, "\"2026-12-04\",\"2001:db8::7\",,\"198.51.100.1\"");
	assert_item(&p.items[0], "2001:db8::7", "2001:db8::7", 0);
	assert_int_equal(parse(&feed_intelmq_csv, &state, "\"2026-12-04\",\"relay.example\",\"25\",\"x\"").n, -1);
	feed_state_init(&state);
	p = parse(&feed_intelmq_csv, &state, "ip,port");
	assert_int_equal(p.n, -1); /* IntelMQ's header names source.ip */

	p = parse1(&feed_intelmq_json, "{\"source.ip\": \"192.0.2.9\", \"source.port\": 25, \"feed.name\": \"x\"}");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.9", "192.0.2.9", 25);
	p = parse1(&feed_intelmq_json, "{\"source\": {\"ip\": \"2001:db8::9\", \"port\": 587}}");
	assert_item(&p.items[0], "2001:db8::9", "2001:db8::9", 587);
	p = parse1(&feed_intelmq_json, "{\"source.ip\": \"192.0.2.9\", \"source.port\": \"2525\"}");
	assert_item(&p.items[0], "192.0.2.9", "192.0.2.9", 2525);
	p = parse1(&feed_intelmq_json, "{\"source.ip\": \"192.0.2.9\"}");
	assert_item(&p.items[0], "192.0.2.9", "192.0.2.9", 0);
	assert_int_equal(parse1(&feed_intelmq_json, "").n, 0);
	p = parse1(&feed_intelmq_json, "{\"source.fqdn\": \"mx.example\"}");
	assert_int_equal(p.n, -1);
	assert_string_equal(p.why, "no \"source.ip\"");
	assert_int_equal(parse1(&feed_intelmq_json, "{\"source.ip\": \"192.0.2\"}").n, -1);
	assert_int_equal(parse1(&feed_intelmq_json, "{\"source.ip\": \"192.0.2.9\", \"source.port\": 70000}").n, -1);
	assert_int_equal(parse1(&feed_intelmq_json, "{\"source.ip\": \"192.0.2.9\", \"source.port\": \"x\"}").n, -1);
	assert_int_equal(parse1(&feed_intelmq_json, "[1, 2]").n, -1);
	assert_int_equal(parse1(&feed_intelmq_json, "{ broken").n, -1);
}

static void masscan_lines(void **unused)
{
	struct parsed p = parse1(&feed_masscan_list, "open tcp 25 192.0.2.1 1390167312");
	assert_int_equal(p.n, 1);
	assert_item(&p.items[0], "192.0.2.1", "192.0.2.1", 25);
	assert_int_equal(parse1(&feed_masscan_list, "#masscan").n, 0);
	struct feed_state closed;
	feed_state_init(&closed);
	assert_int_equal(parse(&feed_masscan_list, &closed, "closed tcp 25 192.0.2.1 1390167312").n, 0);
	assert_int_equal(closed.not_open, 1);
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
		{"saddr,daddr,success\n192.0.2.1,198.51.100.1,1\n", "zmap-csv"},
		{"classification,saddr,sport\nsynack,192.0.2.1,25\n", "zmap-csv"},
		{"<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\">\n", "nmap-xml"},
		{"<?xml version=\"1.0\"?>\n<report>192.0.2.1</report>\n", "plain"},
		{"# Nmap 7.94 scan initiated as: nmap -oG - x\nHost: 192.0.2.1 ()\tStatus: Up\n", "nmap-grep"},
		{"Host: 192.0.2.1 ()\tPorts: 25/open/tcp//smtp///\n", "nmap-grep"},
		{"# Nmap 7.94 scan initiated as: nmap -oN - x\nNmap scan report for 192.0.2.1\n", "plain"},
		{"\"time.observation\",\"source.ip\",\"source.port\"\n", "intelmq-csv"},
		{"{\"source.ip\": \"192.0.2.1\", \"source.port\": 25}\n", "intelmq-json"},
		{"{\"source\": {\"ip\": \"192.0.2.1\", \"port\": 25}}\n", "intelmq-json"},
		{"{\"source.fqdn\": \"mx.example\"}\n", "plain"},
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

/* The line reader over a file: plain, gzip (by its magic, whatever the name), and a gzip cut short. */
static int read_all(const void *bytes, size_t n, char *out, size_t cap, bool *gzip)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	fflush(f);
	rewind(f);
	struct linereader *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(linereader_open(r, fileno(f)), 0);
	const char *line;
	size_t len, used = 0;
	bool too_long;
	int rc;
	while ((rc = linereader_next(r, &line, &len, &too_long)) == 1) {
		assert_true(used + len + 1 < cap);
		memcpy(out + used, line, len);
		used += len;
		out[used++] = '|';
	}
	out[used] = '\0';
	*gzip = linereader_is_gzip(r);
	if (rc == 0) { /* a second pass reads the same */
		assert_int_equal(linereader_rewind(r), 0);
		assert_int_equal(linereader_next(r, &line, &len, &too_long), 1);
		assert_int_equal(r->lineno, 1);
	}
	linereader_close(r);
	free(r);
	fclose(f);
	return rc;
}

static void reads_gzip(void **unused)
{
	static const char text[] = "192.0.2.1\n192.0.2.2:25\nlast";
	char out[256], packed[256];
	bool gzip;
	assert_int_equal(read_all(text, strlen(text), out, sizeof out, &gzip), 0);
	assert_string_equal(out, "192.0.2.1|192.0.2.2:25|last|");
	assert_false(gzip);
	/* gzip made here with zlib's own gzip wrapper (windowBits 16 + 15) */
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = (Bytef *)packed;
	z.avail_out = sizeof packed;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t packed_len = z.total_out;
	deflateEnd(&z);
	assert_int_equal((unsigned char)packed[0], 0x1f);
	assert_int_equal(read_all(packed, packed_len, out, sizeof out, &gzip), 0);
	assert_string_equal(out, "192.0.2.1|192.0.2.2:25|last|");
	assert_true(gzip);
	/* cut short: an error, not a quiet end */
	assert_int_equal(read_all(packed, packed_len - 6, out, sizeof out, &gzip), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_lines),   cmocka_unit_test(rbldnsd_lines), cmocka_unit_test(csv_lines),
		cmocka_unit_test(masscan_lines), cmocka_unit_test(detects_formats), cmocka_unit_test(zmap_csv_success),
		cmocka_unit_test(nmap_xml_lines), cmocka_unit_test(nmap_grep_lines), cmocka_unit_test(intelmq_lines),
		cmocka_unit_test(reads_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

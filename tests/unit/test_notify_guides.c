/* Fix guides: the routing table, the markup as text and HTML, and every shipped guide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "notify/guides.h"

static void routes_software_protocol_then_family(void **unused)
{
	static const struct {
		const char *software, *protocol;
		enum guide_family family;
		const char *guide;
	} cases[] = {
	    {"Postfix", NULL, GUIDE_RELAY, "postfix"},
	    {"Microsoft Exchange", NULL, GUIDE_RELAY, "exchange"},
	    {"exim", NULL, GUIDE_RELAY, "exim"}, /* case does not matter */
	    {"Apache mod_proxy", "http-get", GUIDE_PROXY, "apache"},
	    {"MikroTik", "http-connect", GUIDE_PROXY, "router"},
	    {"Cisco IOS", "router", GUIDE_PROXY, "router"},
	    {NULL, "wingate", GUIDE_PROXY, "wingate"},
	    {NULL, "router", GUIDE_PROXY, "router"},
	    {"Courier", NULL, GUIDE_RELAY, "generic-relay"},
	    {NULL, NULL, GUIDE_RELAY, "generic-relay"},
	    {"Privoxy", "http-connect", GUIDE_PROXY, "generic-proxy"},
	    {NULL, "socks5", GUIDE_PROXY, "generic-proxy"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(guide_for(cases[i].software, cases[i].protocol, cases[i].family), cases[i].guide);
	enum guide_family f;
	assert_int_equal(guide_family_of_verdict("open-relay", &f), 0);
	assert_int_equal(f, GUIDE_RELAY);
	assert_int_equal(guide_family_of_verdict("open-proxy-web", &f), 0);
	assert_int_equal(f, GUIDE_PROXY);
	assert_int_equal(guide_family_of_verdict("closed", &f), -1);
	assert_int_equal(guide_family_of_verdict(NULL, &f), -1);
}

static const char sample[] = "Title: Sample <&>\n"
			     "Family: proxy\n"
			     "\n"
			     "== Fix it\n"
			     "A paragraph that is long enough to be wrapped at seventy-two columns, "
			     "because it goes on\n"
			     "and on.\n"
			     "- one item\n"
			     "  continued\n"
			     "- two <b>\n"
			     "    code  <kept>\n"
			     "\tx\n"
			     "\n"
			     "last\n";

static char *write(const char *text, enum guide_format format)
{
	static struct guide_doc doc;
	struct tpl_error err;
	assert_int_equal(guide_markup_parse("s.txt", text, strlen(text), &doc, &err), 0);
	struct textbuf out;
	textbuf_init(&out, 1 << 16);
	assert_int_equal(guide_markup_write(&doc, text, format, 0, &out), 0);
	return textbuf_take(&out, NULL);
}

static void markup_as_text_and_html(void **unused)
{
	char *text = write(sample, GUIDE_TEXT);
	assert_string_equal(text, "Fix it\n"
				  "------\n"
				  "\n"
				  "A paragraph that is long enough to be wrapped at seventy-two columns,\n"
				  "because it goes on and on.\n"
				  "\n"
				  "- one item continued\n"
				  "- two <b>\n"
				  "\n"
				  "    code  <kept>\n"
				  "    x\n"
				  "\n"
				  "last\n");
	free(text);
	char *html = write(sample, GUIDE_HTML);
	assert_string_equal(html, "<section class=\"guide\">\n<h2>Sample &lt;&amp;&gt;</h2>\n"
				  "<h3>Fix it</h3>\n"
				  "<p>A paragraph that is long enough to be wrapped at seventy-two columns, because it "
				  "goes on and on.</p>\n"
				  "<ul>\n<li>one item continued</li>\n<li>two &lt;b&gt;</li>\n</ul>\n"
				  "<pre><code>code  &lt;kept&gt;\nx\n</code></pre>\n"
				  "<p>last</p>\n"
				  "</section>\n");
	free(html);
}

static void markup_errors_name_the_line(void **unused)
{
	static struct guide_doc doc;
	struct tpl_error err;
	const char *bad[][2] = {
	    {"Title: x\nFamily: web\n\nbody\n", "g.txt:2: Family: is relay or proxy"},
	    {"Title: x\nNonsense\n\nbody\n", "g.txt:2: a guide starts with Title: and Family: lines, then a blank line"},
	    {"Title: x\n\nbody\n", "g.txt:1: a guide starts with Title: and Family: lines, then a blank line"},
	    {"", "g.txt:1: a guide starts with Title: and Family: lines, then a blank line"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(guide_markup_parse("g.txt", bad[i][0], strlen(bad[i][0]), &doc, &err), -1);
		assert_string_equal(err.message, bad[i][1]);
	}
	/* the block bound */
	struct textbuf many;
	textbuf_init(&many, 1 << 20);
	textbuf_puts(&many, "Title: x\nFamily: relay\n\n");
	for (int i = 0; i <= GUIDE_MAX_BLOCKS; i++)
		textbuf_puts(&many, "para\n\n");
	assert_int_equal(guide_markup_parse("g.txt", many.data, many.len, &doc, &err), -1);
	assert_string_equal(err.message, "g.txt:516: too many blocks in one guide");
	textbuf_free(&many);
}

/* Every guide the table names exists, renders both ways, has the four sections and names the host. */
static void every_shipped_guide_renders(void **unused)
{
	char dir[4096];
	struct guides *g = guides_open(data_path("guides", dir, sizeof dir));
	assert_non_null(g);
	for (size_t i = 0; i < guide_name_count; i++) {
		for (int format = GUIDE_TEXT; format <= GUIDE_HTML; format++) {
			struct textbuf out;
			struct tpl_error err;
			char title[GUIDE_MAX_TITLE];
			textbuf_init(&out, 1 << 16);
			if (guides_render(g, guide_names[i], format, 0, "192.0.2.25", "2525", &out, title, &err) != 0)
				fail_msg("%s: %s", guide_names[i], err.message);
			assert_true(strlen(title) > 0);
			const char *sections[] = {"What we found", "Why it matters", "Fix", "Check"};
			for (size_t s = 0; s < 4; s++)
				if (strstr(out.data, sections[s]) == NULL)
					fail_msg("%s lacks \"%s\"", guide_names[i], sections[s]);
			assert_non_null(strstr(out.data, "192.0.2.25"));
			if (format == GUIDE_TEXT) /* no line of prose beyond the width; code may be longer */
				for (const char *line = out.data; *line;) {
					const char *nl = strchr(line, '\n');
					size_t len = nl ? (size_t)(nl - line) : strlen(line);
					if (len > GUIDE_TEXT_WIDTH && strncmp(line, "    ", 4) != 0)
						fail_msg("%s: long line: %.*s", guide_names[i], (int)len, line);
					line += len + (nl != NULL);
				}
			textbuf_free(&out);
			/* a letter asks for the actions only */
			textbuf_init(&out, 1 << 16);
			assert_int_equal(guides_render(g, guide_names[i], format, GUIDE_ACTIONS_ONLY, "192.0.2.25",
						       "2525", &out, title, &err),
					 0);
			assert_null(strstr(out.data, "What we found"));
			assert_null(strstr(out.data, "Why it matters"));
			assert_non_null(strstr(out.data, format == GUIDE_TEXT ? "Fix\n---\n" : "<h3>Fix</h3>"));
			assert_non_null(strstr(out.data, format == GUIDE_TEXT ? "Check\n-----\n" : "<h3>Check</h3>"));
			textbuf_free(&out);
		}
	}
	struct textbuf out;
	struct tpl_error err;
	char title[GUIDE_MAX_TITLE];
	textbuf_init(&out, 1 << 16);
	assert_int_equal(guides_render(g, "../etc/passwd", GUIDE_TEXT, 0, "x", "1", &out, title, &err), -1);
	assert_int_equal(guides_render(g, "no-such-guide", GUIDE_TEXT, 0, "x", "1", &out, title, &err), -1);
	assert_non_null(strstr(err.message, "no-such-guide.txt: cannot read the template"));
	textbuf_free(&out);
	guides_close(g);
}

/* --render NAME SERVER PORT: the guide as a letter shows it, for tests/it/notify_guides.sh. */
static int render_guide(const char *name, const char *server, const char *port)
{
	char dir[4096], title[GUIDE_MAX_TITLE];
	struct guides *g = guides_open(data_path("guides", dir, sizeof dir));
	struct textbuf out;
	struct tpl_error err;
	textbuf_init(&out, 1 << 16);
	int rc = guides_render(g, name, GUIDE_TEXT, GUIDE_ACTIONS_ONLY, server, port, &out, title, &err);
	if (rc == 0)
		fputs(out.data, stdout);
	else
		fprintf(stderr, "%s\n", err.message);
	textbuf_free(&out);
	guides_close(g);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--render") == 0)
		return render_guide(argv[2], argv[3], argv[4]);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(routes_software_protocol_then_family),
	    cmocka_unit_test(markup_as_text_and_html),
	    cmocka_unit_test(markup_errors_name_the_line),
	    cmocka_unit_test(every_shipped_guide_renders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

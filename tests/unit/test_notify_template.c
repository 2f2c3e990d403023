/* The letter template engine: values, sections, inverted sections, standalone lines, errors, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify/template.h"

/* Renders src against d; returns the output (free it) or NULL with err. */
static char *render(const char *src, const struct tpl_data *d, tpl_escape_fn escape, unsigned flags,
		    size_t limit, struct tpl_error *err)
{
	struct template *t = tpl_parse("t.txt", src, strlen(src), err);
	if (t == NULL)
		return NULL;
	struct textbuf out;
	textbuf_init(&out, limit);
	int rc = tpl_render(t, d, escape, flags, &out, err);
	tpl_free(t);
	if (rc != 0) {
		textbuf_free(&out);
		return NULL;
	}
	return textbuf_take(&out, NULL);
}

static void expect(const char *src, const struct tpl_data *d, const char *want)
{
	struct tpl_error err;
	char *got = render(src, d, NULL, 0, 1 << 16, &err);
	if (got == NULL)
		fail_msg("%s", err.message);
	assert_string_equal(got, want);
	free(got);
}

static void expect_error(const char *src, const char *message)
{
	struct tpl_error err;
	assert_null(tpl_parse("letters/en.txt", src, strlen(src), &err));
	assert_string_equal(err.message, message);
}

/* owner = "Example Net", hosts = [{address, port, software?}], lead = true, empty = [] */
static struct tpl_data *sample(void)
{
	struct tpl_data *d = tpl_data_new();
	struct tpl_value *root = tpl_root(d);
	tpl_set_string(d, root, "owner", "Example Net");
	tpl_set_bool(d, root, "lead", true);
	tpl_set_bool(d, root, "quiet", false);
	tpl_set_list(d, root, "empty");
	struct tpl_value *agency = tpl_set_object(d, root, "agency");
	tpl_set_string(d, agency, "name", "FTC");
	struct tpl_value *hosts = tpl_set_list(d, root, "hosts");
	const char *addresses[] = {"192.0.2.1", "192.0.2.2"};
	for (int i = 0; i < 2; i++) {
		struct tpl_value *h = tpl_list_add_object(d, hosts);
		tpl_set_string(d, h, "address", addresses[i]);
		tpl_set_string(d, h, "port", i ? "3128" : "25");
		if (i == 0)
			tpl_set_string(d, h, "software", "Postfix");
	}
	struct tpl_value *names = tpl_set_list(d, root, "names");
	tpl_list_add_string(d, names, "a");
	tpl_list_add_string(d, names, "b");
	return d;
}

static void values_and_dotted_names(void **unused)
{
	struct tpl_data *d = sample();
	expect("Dear {{owner}}, from {{ agency.name }}.", d, "Dear Example Net, from FTC.");
	expect("[{{missing}}][{{agency.missing}}][{{owner.name}}]", d, "[][][]");
	expect("{{lead}}/{{quiet}}", d, "true/false");
	expect("{{! a comment }}x{{!}}y", d, "xy");
	expect("no tags at all", d, "no tags at all");
	expect("", d, "");
	tpl_data_free(d);
}

static void sections_loop_and_look_outward(void **unused)
{
	struct tpl_data *d = sample();
	/* inside a host, "owner" is found in the outer context */
	expect("{{#hosts}}{{address}}:{{port}} of {{owner}};{{/hosts}}", d,
	       "192.0.2.1:25 of Example Net;192.0.2.2:3128 of Example Net;");
	expect("{{#hosts}}{{#software}}[{{software}}]{{/software}}{{^software}}[unknown]{{/software}}{{/hosts}}",
	       d, "[Postfix][unknown]");
	expect("{{#lead}}L{{/lead}}{{^lead}}N{{/lead}}{{#quiet}}Q{{/quiet}}{{^quiet}}q{{/quiet}}", d, "Lq");
	expect("{{#empty}}E{{/empty}}{{^empty}}none{{/empty}}{{#nothing}}X{{/nothing}}", d, "none");
	expect("{{#agency}}{{name}}{{/agency}}", d, "FTC");
	expect("{{#names}}<{{.}}>{{/names}}", d, "<a><b>");
	tpl_data_free(d);
}

static void standalone_tags_take_their_line(void **unused)
{
	struct tpl_data *d = sample();
	expect("Hosts:\n{{#hosts}}\n  - {{address}}\n{{/hosts}}\nEnd\n", d,
	       "Hosts:\n  - 192.0.2.1\n  - 192.0.2.2\nEnd\n");
	expect("a\n  {{! note }}  \r\nb\n", d, "a\nb\n");
	expect("{{#lead}}\nyes\n{{/lead}}", d, "yes\n");
	/* a tag with text on its line is not standalone */
	expect("x {{#lead}}\ny{{/lead}} z\n", d, "x \ny z\n");
	tpl_data_free(d);
}

static void escaping_hooks(void **unused)
{
	struct tpl_data *d = tpl_data_new();
	tpl_set_string(d, tpl_root(d), "v", "<a href=\"x\">O'Neil & Co</a>");
	tpl_set_string(d, tpl_root(d), "ctl", "bell\a esc\x1b[31m bad\xff ok\xc3\xa9 bidi\xe2\x80\xae");
	struct tpl_error err;
	char *html = render("{{v}}|{{&v}}|{{{v}}}", d, tpl_escape_html, 0, 4096, &err);
	assert_non_null(html);
	assert_string_equal(html, "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; Co&lt;/a&gt;|<a href=\"x\">O'Neil & "
				  "Co</a>|<a href=\"x\">O'Neil & Co</a>");
	free(html);
	char *text = render("{{ctl}}", d, NULL, 0, 4096, &err);
	assert_non_null(text);
	assert_string_equal(text, "bell\xef\xbf\xbd esc\xef\xbf\xbd[31m bad\xef\xbf\xbd ok\xc3\xa9 bidi\xef\xbf\xbd");
	free(text);
	tpl_data_free(d);
}

static void parse_errors_name_file_line_column(void **unused)
{
	expect_error("Hello\n  {{#hosts}}\n{{address}}\n", "letters/en.txt:2:3: section {{#hosts}} is never closed");
	expect_error("{{#a}}\n{{#b}}x{{/a}}", "letters/en.txt:2:8: {{/a}} does not close {{#b}} opened at line 2 column 1");
	expect_error("x\n{{/a}}", "letters/en.txt:2:1: {{/a}} closes no open section");
	expect_error("ok {{name", "letters/en.txt:1:4: tag not closed by }}");
	expect_error("{{}}", "letters/en.txt:1:1: empty tag");
	expect_error("é {{a b}}", "letters/en.txt:1:3: bad tag name (letters, digits, _ and -, joined by dots)");
	expect_error("{{a..b}}", "letters/en.txt:1:1: bad tag name (letters, digits, _ and -, joined by dots)");
	expect_error("{{>partial}}", "letters/en.txt:1:1: partials ({{>name}}) are not supported");
	expect_error("{{=<% %>=}}", "letters/en.txt:1:1: delimiter changes ({{=...=}}) are not supported");
	expect_error("{{{raw}}", "letters/en.txt:1:1: {{{ is closed by }}}");
	/* the nesting bound */
	char deep[(TPL_MAX_DEPTH + 1) * 12 + 1] = "";
	for (int i = 0; i <= TPL_MAX_DEPTH; i++)
		strcat(deep, "{{#a}}");
	char want[80];
	snprintf(want, sizeof want, "letters/en.txt:1:%d: sections nested deeper than %d", TPL_MAX_DEPTH * 6 + 1,
		 TPL_MAX_DEPTH);
	expect_error(deep, want);
}

static void render_errors_and_bounds(void **unused)
{
	struct tpl_data *d = sample();
	struct tpl_error err;
	assert_null(render("ab\n {{hosts}}", d, NULL, 0, 4096, &err));
	assert_string_equal(err.message, "t.txt:2:2: {{hosts}} is a list, not a value");
	assert_null(render("{{owner}} {{ownr}}", d, NULL, TPL_STRICT, 4096, &err));
	assert_string_equal(err.message, "t.txt:1:11: no value named ownr");
	assert_null(render("{{#hosts}}{{#sofware}}{{/sofware}}{{/hosts}}", d, NULL, TPL_STRICT, 4096, &err));
	assert_string_equal(err.message, "t.txt:1:11: no value named sofware");
	/* the output limit holds whatever the data multiplies */
	assert_null(render("{{#hosts}}{{#names}}{{owner}}{{owner}}{{/names}}{{/hosts}}", d, NULL, 0, 80, &err));
	assert_string_equal(err.message, "t.txt:1:30: output larger than its limit");
	char *ok = render("{{#hosts}}{{#names}}{{owner}}{{/names}}{{/hosts}}", d, NULL, 0, 44, &err);
	assert_non_null(ok);
	assert_int_equal(strlen(ok), 44);
	free(ok);
	tpl_data_free(d);
}

static void data_keys_replace_and_survive_many_values(void **unused)
{
	struct tpl_data *d = tpl_data_new();
	struct tpl_value *root = tpl_root(d);
	tpl_set_string(d, root, "k", "first");
	tpl_set_bool(d, root, "k", false);
	tpl_set_string(d, root, "k", "last");
	struct tpl_value *list = tpl_set_list(d, root, "many");
	for (int i = 0; i < 20000; i++) /* more than one chunk */
		tpl_set_string(d, tpl_list_add_object(d, list), "n", "x");
	assert_null(tpl_list_add_object(d, root)); /* root is not a list */
	struct tpl_error err;
	char *out = render("{{k}}", d, NULL, 0, 4096, &err);
	assert_null(out); /* the failed add above is reported */
	assert_string_equal(err.message, "t.txt:1:1: the data to render is incomplete (out of memory)");
	tpl_data_free(d);
	d = tpl_data_new();
	tpl_set_string(d, tpl_root(d), "k", "first");
	tpl_set_string(d, tpl_root(d), "k", "last");
	expect("{{k}}", d, "last");
	tpl_data_free(d);
}

static void loads_files(void **unused)
{
	struct tpl_error err;
	assert_null(tpl_load("/nonexistent/x.txt", &err));
	assert_string_equal(err.message, "/nonexistent/x.txt: cannot read the template");
	char path[] = "/tmp/tpl-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("line one\n{{#x}}\n", f);
	fclose(f);
	assert_null(tpl_load(path, &err));
	char want[128];
	snprintf(want, sizeof want, "%s:2:1: section {{#x}} is never closed", path);
	assert_string_equal(err.message, want);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_and_dotted_names),
	    cmocka_unit_test(sections_loop_and_look_outward),
	    cmocka_unit_test(standalone_tags_take_their_line),
	    cmocka_unit_test(escaping_hooks),
	    cmocka_unit_test(parse_errors_name_file_line_column),
	    cmocka_unit_test(render_errors_and_bounds),
	    cmocka_unit_test(data_keys_replace_and_survive_many_values),
	    cmocka_unit_test(loads_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

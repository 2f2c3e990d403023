/* RPSL objects: attributes, continuation lines, comments, broken objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "attrib/rpsl.h"

static struct rpsl_object *parse_ok(const char *text)
{
	struct rpsl_object *obj = malloc(sizeof *obj);
	const char *why = NULL;
	uint32_t bad = 99;
	assert_non_null(obj);
	assert_int_equal(rpsl_parse_object(text, strlen(text), obj, &why, &bad), 0);
	return obj;
}

static const char *value(const struct rpsl_attr *a, bool keep_comments)
{
	static char buf[512];
	rpsl_value(a, keep_comments, buf, sizeof buf);
	return buf;
}

static void parses_attributes_and_classes(void **state)
{
	struct rpsl_object *obj = parse_ok("inetnum:        192.0.2.0 - 192.0.2.255\n"
					   "netname:        EXAMPLE-NET\n"
					   "Abuse-C:        AC1-TEST\n"
					   "admin-c:        DUMY-TEST\n"
					   "mnt-irt:        IRT-ONE\n"
					   "mnt-irt:        IRT-TWO\n"
					   "source:         TEST # Filtered\n");
	assert_int_equal(obj->count, 7);
	assert_int_equal(obj->lines, 7);
	assert_int_equal(rpsl_class(obj), RPSL_A_INETNUM);
	assert_int_equal(obj->attrs[1].id, RPSL_A_NETNAME);
	assert_int_equal(obj->attrs[2].id, RPSL_A_ABUSE_C); /* names ignore case */
	assert_int_equal(obj->attrs[3].id, RPSL_A_OTHER);
	assert_int_equal(obj->attrs[5].id, RPSL_A_MNT_IRT);
	assert_int_equal(obj->attrs[5].line, 5);
	assert_string_equal(value(&obj->attrs[0], false), "192.0.2.0 - 192.0.2.255");
	assert_string_equal(value(&obj->attrs[6], false), "TEST");
	assert_string_equal(value(&obj->attrs[6], true), "TEST # Filtered");
	free(obj);
}

static void folds_continuation_lines(void **state)
{
	struct rpsl_object *obj = parse_ok("descr:   first line\n"
					   "         second (space)\n"
					   "\tthird (tab)\n"
					   "+\n"
					   "+        after an empty one\r\n"
					   "country: NL\n");
	assert_int_equal(obj->count, 2);
	assert_int_equal(obj->lines, 6);
	assert_string_equal(value(&obj->attrs[0], true),
			    "first line second (space) third (tab) after an empty one");
	assert_string_equal(value(&obj->attrs[1], false), "NL");
	free(obj);
}

static void skips_comment_lines(void **state)
{
	struct rpsl_object *obj = parse_ok("% header comment\n# another\n");
	assert_int_equal(obj->count, 0);
	assert_int_equal(rpsl_class(obj), RPSL_A_OTHER);
	free(obj);
	obj = parse_ok("role: R\n% comment inside\nnic-hdl: R1-TEST\n");
	assert_int_equal(obj->count, 2);
	assert_int_equal(obj->attrs[1].id, RPSL_A_NIC_HDL);
	assert_int_equal(obj->attrs[1].line, 2);
	free(obj);
}

static void reports_broken_objects(void **state)
{
	struct rpsl_object *obj = malloc(sizeof *obj);
	const char *why;
	uint32_t bad;
	const char *a = "inetnum: 192.0.2.0 - 192.0.2.255\nthis is no attribute\n";
	assert_int_equal(rpsl_parse_object(a, strlen(a), obj, &why, &bad), -1);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "not an attribute line");
	const char *b = " continuation first\ninetnum: 192.0.2.0\n";
	assert_int_equal(rpsl_parse_object(b, strlen(b), obj, &why, &bad), -1);
	assert_int_equal(bad, 0);
	const char *c = "netname: X\nan-attribute-name-that-is-far-too-long-to-be-real: x\n";
	assert_int_equal(rpsl_parse_object(c, strlen(c), obj, &why, &bad), -1);
	assert_int_equal(bad, 1);
	const char *d = "netname: X\n:empty name\n";
	assert_int_equal(rpsl_parse_object(d, strlen(d), obj, &why, &bad), -1);
	free(obj);
}

static void bounds_the_attribute_count(void **state)
{
	size_t n = RPSL_MAX_ATTRS + 1, len = 0;
	char *text = malloc(n * 8 + 1);
	for (size_t i = 0; i < n; i++) {
		memcpy(text + len, "descr:x\n", 8);
		len += 8;
	}
	struct rpsl_object *obj = malloc(sizeof *obj);
	const char *why;
	uint32_t bad;
	assert_int_equal(rpsl_parse_object(text, len, obj, &why, &bad), -1);
	assert_string_equal(why, "too many attributes");
	assert_int_equal(bad, RPSL_MAX_ATTRS);
	free(obj);
	free(text);
}

static void value_is_bounded(void **state)
{
	struct rpsl_object *obj = parse_ok("descr: 0123456789\n  abcdef\n");
	char small[8];
	assert_int_equal(rpsl_value(&obj->attrs[0], true, small, sizeof small), 7);
	assert_string_equal(small, "0123456");
	free(obj);
}

static void parses_inetnum_ranges(void **state)
{
	struct range r;
	const char *why;
	char buf[128];
	assert_int_equal(rpsl_parse_inetnum("192.0.2.0 - 192.0.2.127", 23, &r, &why), 0);
	assert_string_equal(range_format(&r, buf, sizeof buf), "192.0.2.0-192.0.2.127");
	assert_int_equal(rpsl_parse_inetnum(" 10.0.0.0-10.0.0.9 ", 19, &r, &why), 0);
	assert_int_equal(range_size(&r), 10);
	/* LACNIC leaves out zero octets of prefixes and uses inetnum for IPv6 too */
	assert_int_equal(rpsl_parse_inetnum("200.3.0/20", 10, &r, &why), 0);
	assert_string_equal(range_format(&r, buf, sizeof buf), "200.3.0.0-200.3.15.255");
	assert_int_equal(rpsl_parse_inetnum("177/8", 5, &r, &why), 0);
	assert_int_equal(range_size(&r), 1u << 24);
	assert_int_equal(rpsl_parse_inetnum("2001:1200::/23", 14, &r, &why), 0);
	assert_int_not_equal(rpsl_parse_inetnum("192.0.2.300 - 192.0.2.400", 25, &r, &why), 0);
	assert_int_not_equal(rpsl_parse_inetnum("10.0.0.9 - 10.0.0.1", 19, &r, &why), 0);
	assert_int_not_equal(rpsl_parse_inetnum("", 0, &r, &why), 0);
	assert_int_equal(rpsl_parse_inet6num("2001:db8::/32", 13, &r, &why), 0);
	assert_int_equal(rpsl_parse_inet6num("::/0", 4, &r, &why), 0);
	assert_int_not_equal(rpsl_parse_inet6num("192.0.2.0/24", 12, &r, &why), 0);
	assert_int_not_equal(rpsl_parse_inet6num("2001:db8:zz::/48", 16, &r, &why), 0);
}

static void finds_emails_in_text(void **state)
{
	const char *text =
	    "Abuse: abuse@customer-b.example, or <noc@b.example.>; not user@localhost nor @x.y";
	const char *cursor = text, *end = text + strlen(text), *e;
	size_t len;
	e = rpsl_next_email(&cursor, end, &len);
	assert_non_null(e);
	assert_int_equal(len, strlen("abuse@customer-b.example"));
	assert_memory_equal(e, "abuse@customer-b.example", len);
	e = rpsl_next_email(&cursor, end, &len);
	assert_non_null(e);
	assert_int_equal(len, strlen("noc@b.example"));
	assert_memory_equal(e, "noc@b.example", len);
	assert_null(rpsl_next_email(&cursor, end, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_attributes_and_classes), cmocka_unit_test(folds_continuation_lines),
	    cmocka_unit_test(skips_comment_lines),	     cmocka_unit_test(reports_broken_objects),
	    cmocka_unit_test(bounds_the_attribute_count),    cmocka_unit_test(value_is_bounded),
	    cmocka_unit_test(parses_inetnum_ranges),	     cmocka_unit_test(finds_emails_in_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Addresses, ranges and the range set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/addr.h"
#include "core/rangeset.h"

static struct addr A(const char *text)
{
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	return a;
}

static void parses_and_prints_ipv4(void **state)
{
	char buf[ADDR_STRLEN];
	struct addr a = A("192.0.2.1");
	assert_true(addr_is_v4(&a));
	assert_int_equal(addr_v4(&a), 0xc0000201u);
	assert_string_equal(addr_format(&a, buf), "192.0.2.1");
}

static void rejects_bad_ipv4(void **state)
{
	static const char *const bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
					  "01234.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.-4", "1.2.3.4/"};
	struct addr a;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_not_equal(addr_parse(bad[i], strlen(bad[i]), &a), 0);
}

static void parses_and_prints_ipv6(void **state)
{
	char buf[ADDR_STRLEN];
	struct addr a = A("2001:DB8:0:0::1");
	assert_false(addr_is_v4(&a));
	assert_string_equal(addr_format(&a, buf), "2001:db8::1");
	/* a written-out IPv4-mapped address is the same as the IPv4 address */
	struct addr mapped = A("::ffff:192.0.2.1");
	struct addr v4 = A("192.0.2.1");
	assert_int_equal(addr_cmp(&mapped, &v4), 0);
	assert_int_not_equal(addr_parse("2001:db8::g", 11, &a), 0);
	assert_int_not_equal(addr_parse("2001:db8:::1", 12, &a), 0);
}

static void parses_address_with_port(void **state)
{
	struct addr a;
	uint16_t port;
	const char *why;
	char buf[ADDR_PORT_STRLEN];
	assert_int_equal(addr_port_parse("192.0.2.7:8080", 14, &a, &port, &why), 0);
	assert_int_equal(port, 8080);
	assert_string_equal(addr_port_format(&a, port, buf), "192.0.2.7:8080");
	assert_int_equal(addr_port_parse("[2001:db8::2]:25", 16, &a, &port, &why), 0);
	assert_int_equal(port, 25);
	assert_string_equal(addr_port_format(&a, port, buf), "[2001:db8::2]:25");
	assert_int_equal(addr_port_parse("2001:db8::2", 11, &a, &port, &why), 0);
	assert_int_equal(port, 0);
	assert_int_equal(addr_port_parse("[2001:db8::2]", 13, &a, &port, &why), 0);
	assert_int_not_equal(addr_port_parse("192.0.2.7:0", 11, &a, &port, &why), 0);
	assert_int_not_equal(addr_port_parse("192.0.2.7:65536", 15, &a, &port, &why), 0);
	assert_int_not_equal(addr_port_parse("[2001:db8::2", 12, &a, &port, &why), 0);
	assert_int_not_equal(addr_port_parse("[192.0.2.1]:25", 14, &a, &port, &why), 0);
	assert_int_not_equal(addr_port_parse("host.example:25", 15, &a, &port, &why), 0);
}

static void parses_ranges(void **state)
{
	struct range r;
	const char *why;
	char buf[128];
	assert_int_equal(range_parse("10.1.2.3/8", 10, &r, &why), 0); /* host bits are masked */
	assert_string_equal(range_format(&r, buf, sizeof buf), "10.0.0.0-10.255.255.255");
	assert_int_equal(range_size(&r), 1u << 24);
	assert_int_equal(range_parse("192.0.2.10 - 192.0.2.20", 23, &r, &why), 0);
	assert_int_equal(range_size(&r), 11);
	assert_int_equal(range_parse("2001:db8::/126", 14, &r, &why), 0);
	assert_int_equal(range_size(&r), 4);
	assert_int_equal(range_parse("::/0", 4, &r, &why), 0);
	assert_int_equal(range_size(&r), UINT64_MAX);
	assert_int_equal(range_parse("0.0.0.0/0", 9, &r, &why), 0);
	assert_int_equal(range_size(&r), 1ull << 32);
	assert_int_not_equal(range_parse("1.2.3.4/33", 10, &r, &why), 0);
	assert_int_not_equal(range_parse("2001:db8::/129", 14, &r, &why), 0);
	assert_int_not_equal(range_parse("1.2.3.9-1.2.3.1", 15, &r, &why), 0);
	assert_string_equal(why, "range ends before it starts");
	assert_int_not_equal(range_parse("1.2.3.4-2001:db8::1", 19, &r, &why), 0);
	assert_int_not_equal(range_parse("1.2.3.4/", 8, &r, &why), 0);
}

/* The IPv4-mapped notation is IPv6 notation: a [] operand, a prefix over 128 bits. */
static void parses_mapped_notation(void **state)
{
	struct addr a;
	struct range r;
	uint16_t port;
	const char *why;
	char buf[ADDR_PORT_STRLEN];
	const char *op = "[::ffff:192.0.2.7]:2525";
	assert_int_equal(addr_port_parse(op, strlen(op), &a, &port, &why), 0);
	assert_true(addr_is_v4(&a));
	assert_int_equal(port, 2525);
	assert_string_equal(addr_port_format(&a, port, buf), "192.0.2.7:2525");
	assert_int_equal(addr_port_parse("[::ffff:c000:207]", 17, &a, &port, &why), 0);
	assert_int_equal(addr_v4(&a), 0xc0000207u);
	assert_int_equal(range_parse("::ffff:0:0/96", 13, &r, &why), 0);
	assert_string_equal(range_format(&r, buf, sizeof buf), "0.0.0.0-255.255.255.255");
	assert_int_equal(range_parse("::ffff:10.0.0.0/104", 19, &r, &why), 0);
	assert_string_equal(range_format(&r, buf, sizeof buf), "10.0.0.0-10.255.255.255");
	assert_int_not_equal(range_parse("::ffff:0:0/129", 14, &r, &why), 0);
}

static void next_address_carries(void **state)
{
	struct addr a = A("10.0.0.255");
	char buf[ADDR_STRLEN];
	assert_true(addr_next(&a));
	assert_string_equal(addr_format(&a, buf), "10.0.1.0");
	struct addr top = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_false(addr_next(&top));
}

static void rangeset_finds_smallest_enclosing(void **state)
{
	struct rangeset set;
	struct range r;
	const char *why;
	rangeset_init(&set);
	const char *ranges[] = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.3.0/24",
				"192.0.2.10-192.0.2.20", "2001:db8::/32", "2001:db8:1::/48"};
	for (int i = 0; i < 7; i++) {
		assert_int_equal(range_parse(ranges[i], strlen(ranges[i]), &r, &why), 0);
		assert_int_equal(rangeset_add(&set, &r, i), 0);
	}
	rangeset_build(&set);
	struct { const char *addr; int value; } cases[] = {
		{"10.1.2.3", 2}, {"10.1.3.255", 3}, {"10.1.4.1", 1}, /* after a sibling: climb to parent */
		{"10.2.0.0", 0}, {"10.0.0.0", 0}, {"9.255.255.255", -1}, {"11.0.0.0", -1},
		{"192.0.2.15", 4}, {"192.0.2.21", -1}, {"2001:db8:1::5", 6}, {"2001:db8:2::", 5},
		{"2001:db9::", -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr a = A(cases[i].addr);
		int32_t idx = rangeset_lookup(&set, &a);
		int value = idx < 0 ? -1 : rangeset_entry(&set, idx)->value;
		assert_int_equal(value, cases[i].value);
	}
	/* the parent chain of 10.1.2.3 is /24 -> /16 -> /8 */
	struct addr a = A("10.1.2.3");
	int32_t idx = rangeset_lookup(&set, &a);
	idx = rangeset_entry(&set, idx)->parent;
	assert_int_equal(rangeset_entry(&set, idx)->value, 1);
	idx = rangeset_entry(&set, idx)->parent;
	assert_int_equal(rangeset_entry(&set, idx)->value, 0);
	assert_int_equal(rangeset_entry(&set, idx)->parent, -1);
	rangeset_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_and_prints_ipv4),
		cmocka_unit_test(rejects_bad_ipv4),
		cmocka_unit_test(parses_and_prints_ipv6),
		cmocka_unit_test(parses_address_with_port),
		cmocka_unit_test(parses_ranges),
		cmocka_unit_test(parses_mapped_notation),
		cmocka_unit_test(next_address_carries),
		cmocka_unit_test(rangeset_finds_smallest_enclosing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

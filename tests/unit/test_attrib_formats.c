/* Delegated statistics, pfx2as and AS-name lines; format detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "attrib/asnames.h"
#include "attrib/delegated.h"
#include "attrib/load.h"
#include "attrib/pfx2as.h"

static int delegated(const char *line, struct delegated_record *r)
{
	const char *why = NULL;
	return delegated_parse_line(line, strlen(line), r, &why);
}

static void parses_delegated_lines(void **state)
{
	struct delegated_record r;
	char buf[128];
	assert_int_equal(delegated("2|ripencc|20240101|123|19830705|20240101|+0100", &r), 0);
	assert_int_equal(delegated("ripencc|*|ipv4|*|90000|summary", &r), 0);
	assert_int_equal(delegated("# comment", &r), 0);
	assert_int_equal(delegated("", &r), 0);
	assert_int_equal(delegated("ripencc||ipv4|2.57.0.0|1024||available|", &r), 0);
	assert_int_equal(delegated("ripencc|FR|ipv4|2.0.0.0|1048576|20100712|allocated|a3a6b8e8\r", &r), 1);
	assert_int_equal(r.type, DELEGATED_IPV4);
	assert_string_equal(r.cc, "FR");
	assert_string_equal(r.registry, "ripencc");
	assert_string_equal(r.status, "allocated");
	assert_string_equal(r.opaque_id, "a3a6b8e8");
	assert_string_equal(range_format(&r.range, buf, sizeof buf), "2.0.0.0-2.15.255.255");
	/* not a power of two: a range, not a prefix */
	assert_int_equal(delegated("arin|US|ipv4|192.0.2.0|384|20000101|assigned|x", &r), 1);
	assert_string_equal(range_format(&r.range, buf, sizeof buf), "192.0.2.0-192.0.3.127");
	assert_int_equal(delegated("apnic|JP|ipv6|2001:200::|35|19990813|allocated", &r), 1);
	assert_int_equal(r.type, DELEGATED_IPV6);
	assert_string_equal(r.opaque_id, "");
	assert_int_equal(delegated("ripencc|NL|asn|3333|1|19930901|allocated|x", &r), 1);
	assert_int_equal(r.type, DELEGATED_ASN);
	assert_int_equal(r.asn_first, 3333);
	assert_int_equal(r.asn_count, 1);
	assert_int_equal(delegated("lacnic|ZZ|ipv4|200.0.0.0|256|20000101|assigned|y", &r), 1);
	assert_string_equal(r.cc, ""); /* ZZ: unknown */
}

static void rejects_bad_delegated_lines(void **state)
{
	struct delegated_record r;
	static const char *const bad[] = {
	    "ripencc|FR|ipv4|2.0.0.0",				      /* too few fields */
	    "ripencc|FR|ipv5|2.0.0.0|256|20100712|allocated|x",	      /* type */
	    "ripencc|FRA|ipv4|2.0.0.0|256|20100712|allocated|x",      /* country */
	    "ripencc|FR|ipv4|2.0.0.x|256|20100712|allocated|x",	      /* start */
	    "ripencc|FR|ipv4|255.255.255.0|512|20100712|allocated|x", /* past the end */
	    "ripencc|FR|ipv4|2.0.0.0|0|20100712|allocated|x",	      /* empty */
	    "ripencc|FR|ipv6|2001:db8::|129|20100712|allocated|x",    /* prefix */
	    "ripencc|FR|ipv6|192.0.2.0|24|20100712|allocated|x",      /* family */
	    "ripencc|FR|asn|4294967295|2|20100712|allocated|x",	      /* past the end */
	    "|FR|ipv4|2.0.0.0|256|20100712|allocated|x",	      /* registry */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(delegated(bad[i], &r), -1);
}

static void parses_pfx2as_lines(void **state)
{
	struct pfx2as_record r;
	const char *why;
	char buf[128];
	const char *single = "1.0.0.0\t24\t13335";
	assert_int_equal(pfx2as_parse_line(single, strlen(single), &r, &why), 1);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.origins[0], 13335);
	assert_string_equal(range_format(&r.range, buf, sizeof buf), "1.0.0.0-1.0.0.255");
	const char *multi = "1.0.4.0\t22\t4775_38740,4776\r";
	assert_int_equal(pfx2as_parse_line(multi, strlen(multi), &r, &why), 1);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.origins[0], 4775);
	assert_int_equal(r.origins[1], 38740);
	assert_int_equal(r.origins[2], 4776);
	assert_int_equal(r.text_len, strlen("4775_38740,4776"));
	const char *v6 = "2001:db8::\t32\t64496";
	assert_int_equal(pfx2as_parse_line(v6, strlen(v6), &r, &why), 1);
	static const char *const bad[] = {"1.0.0.0 24 13335",	"1.0.0.0\t33\t1", "1.0.0.0\t\t1",
					  "x\t24\t1",		"1.0.0.0\t24\t",  "1.0.0.0\t24\t1_",
					  "1.0.0.0\t24\tAS-SET"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(pfx2as_parse_line(bad[i], strlen(bad[i]), &r, &why), -1);
	assert_int_equal(pfx2as_parse_line("", 0, &r, &why), 0);
}

static void parses_asnames_lines(void **state)
{
	struct asname_record r;
	const char *why;
	const char *ripe = "3333 RIPE-NCC-AS Reseaux IP Europeens Network Coordination Centre (RIPE NCC), NL";
	assert_int_equal(asnames_parse_line(ripe, strlen(ripe), &r, &why), 1);
	assert_int_equal(r.asn, 3333);
	assert_string_equal(r.cc, "NL");
	assert_int_equal(r.name_len,
			 strlen("RIPE-NCC-AS Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"));
	const char *other = "AS15169   GOOGLE";
	assert_int_equal(asnames_parse_line(other, strlen(other), &r, &why), 1);
	assert_int_equal(r.asn, 15169);
	assert_string_equal(r.cc, "");
	assert_int_equal(asnames_parse_line("GOOGLE 15169", 12, &r, &why), -1);
	assert_int_equal(asnames_parse_line("15169", 5, &r, &why), -1);
	uint32_t asn;
	assert_int_equal(asn_parse("AS1.10", 6, &asn), 0);
	assert_int_equal(asn, 65546);
	assert_int_equal(asn_parse("as64500", 7, &asn), 0);
	assert_int_equal(asn, 64500);
	assert_int_not_equal(asn_parse("AS4294967296", 12, &asn), 0);
	assert_int_not_equal(asn_parse("AS", 2, &asn), 0);
}

static void detects_formats(void **state)
{
	static const struct {
		const char *sample;
		int kind;
	} cases[] = {
	    {"#\n# RIPE terms\n\n% comment\n\ninetnum: 1.2.3.4 - 1.2.3.5\n", SNAP_KIND_RPSL},
	    {"2|ripencc|20240101|1|19830705|20240101|+0100\n", SNAP_KIND_DELEGATED},
	    {"1.0.0.0\t24\t13335\n", SNAP_KIND_PFX2AS},
	    {"3333 RIPE-NCC-AS Reseaux IP Europeens, NL\n", SNAP_KIND_ASNAMES},
	    {"organisation: ORG-X1-TEST\r\n", SNAP_KIND_RPSL},
	    {"<html>\n", -1},
	    {"\n\n", -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum snap_kind kind;
		int rc = attrib_detect_format(cases[i].sample, strlen(cases[i].sample), &kind);
		if (cases[i].kind < 0)
			assert_int_equal(rc, -1);
		else {
			assert_int_equal(rc, 0);
			assert_int_equal(kind, cases[i].kind);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_delegated_lines), cmocka_unit_test(rejects_bad_delegated_lines),
	    cmocka_unit_test(parses_pfx2as_lines),    cmocka_unit_test(parses_asnames_lines),
	    cmocka_unit_test(detects_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

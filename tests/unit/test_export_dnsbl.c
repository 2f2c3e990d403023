/* The DNSBL formats (src/export/): TXT escaping, reversed names, reasons, serials, one entry per host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "export/dnsbl.h"
#include "export/dnsbl_bind.h"
#include "export/dnsbl_rbldnsd.h"

/* What fn wrote, as a string the caller frees. */
#define CAPTURE(out_text, call)                                                                 \
	do {                                                                                    \
		size_t capture_len;                                                             \
		FILE *out = open_memstream(&(out_text), &capture_len);                          \
		assert_non_null(out);                                                           \
		assert_int_equal(call, 0);                                                      \
		assert_int_equal(fclose(out), 0);                                               \
	} while (0)

static void bind_txt_escapes_quotes_backslashes_and_bytes(void **unused)
{
	char *s;
	const char in[] = "a\"b\\c;d\n\xe9$";
	CAPTURE(s, dnsbl_bind_txt(out, in, sizeof in - 1));
	assert_string_equal(s, "\"a\\\"b\\\\c;d\\010\\233$\"");
	free(s);
	CAPTURE(s, dnsbl_bind_txt(out, "", 0));
	assert_string_equal(s, "\"\"");
	free(s);
}

static void bind_txt_splits_at_255_bytes(void **unused)
{
	char in[300], *s;
	memset(in, 'x', sizeof in);
	in[254] = '"'; /* the 255th byte, escaped, stays in the first string */
	CAPTURE(s, dnsbl_bind_txt(out, in, sizeof in));
	assert_int_equal(strlen(s), 1 + 254 + 2 + 1 + 1 + 1 + 45 + 1);
	assert_memory_equal(s + 1 + 254, "\\\"\" \"", 5);
	assert_int_equal(s[strlen(s) - 1], '"');
	free(s);
}

static void bind_names_are_reversed_octets_and_nibbles(void **unused)
{
	struct addr a;
	char *s;
	assert_int_equal(addr_parse("192.0.2.10", 10, &a), 0);
	CAPTURE(s, dnsbl_bind_reversed(out, &a));
	assert_string_equal(s, "10.2.0.192");
	free(s);
	assert_int_equal(addr_parse("2001:db8::1f", 12, &a), 0);
	CAPTURE(s, dnsbl_bind_reversed(out, &a));
	assert_string_equal(s, "f.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
	free(s);
}

static void rbldnsd_text_doubles_dollars_and_escapes_bytes(void **unused)
{
	char *s;
	const char in[] = "a $ b$$\n\"\\\x01";
	CAPTURE(s, dnsbl_rbldnsd_text(out, in, sizeof in - 1));
	assert_string_equal(s, "a $$ b$$$$\\x0a\"\\\\x01");
	free(s);
}

static void reason_names_verdict_port_software_time(void **unused)
{
	char r[DNSBL_REASON_MAX + 1];
	assert_int_equal(dnsbl_reason(r, sizeof r, "open-relay", 25, "Postfix", 7, 1767225600, 0),
			 strlen("open-relay on port 25 (Postfix), last proven 2026-01-01T00:00:00Z"));
	assert_string_equal(r, "open-relay on port 25 (Postfix), last proven 2026-01-01T00:00:00Z");
	dnsbl_reason(r, sizeof r, "open-proxy-web", 8080, NULL, 0, 0, 2);
	assert_string_equal(r, "open-proxy-web on port 8080, last proven 1970-01-01T00:00:00Z; 2 more open ports");
	dnsbl_reason(r, sizeof r, "open-relay", 25, "", 0, 0, 1);
	assert_string_equal(r, "open-relay on port 25, last proven 1970-01-01T00:00:00Z; 1 more open port");
	/* a peer's software: escaped and cut, the reason stays printable and bounded */
	char hostile[200];
	memset(hostile, '\n', sizeof hostile);
	dnsbl_reason(r, sizeof r, "open-relay", 25, hostile, sizeof hostile, 0, 0);
	assert_string_equal(r, "open-relay on port 25 (\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a"
			       "\\x0a\\x0a\\x0a\\x0a\\x0a), last proven 1970-01-01T00:00:00Z");
	char small[12];
	assert_int_equal(dnsbl_reason(small, sizeof small, "open-relay", 25, NULL, 0, 0, 0), 11);
	assert_string_equal(small, "open-relay ");
}

static void utc_times_match_gmtime(void **unused)
{
	const time_t times[] = {0, 1, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 1767225599, 4102444800,
				-1, -86401, 253402300799 /* 9999-12-31T23:59:59 */};
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		char ours[DNSBL_UTC_SIZE], libc[32];
		struct tm tm;
		assert_non_null(gmtime_r(&times[i], &tm));
		strftime(libc, sizeof libc, "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_int_equal(dnsbl_utc(ours, times[i]), 20);
		assert_string_equal(ours, libc);
	}
}

static void serial_increases_on_every_export(void **unused)
{
	time_t day = 1764806400; /* 2025-12-04T00:00:00Z */
	assert_int_equal(dnsbl_serial_next(0, day), 2025120400u);
	assert_int_equal(dnsbl_serial_next(2025120400u, day), 2025120401u); /* the same second */
	assert_int_equal(dnsbl_serial_next(2025120401u, day + 60), 2025120402u);
	assert_int_equal(dnsbl_serial_next(2025120402u, day + 86400), 2025120500u); /* a new day */
	assert_int_equal(dnsbl_serial_next(2025120599u, day + 86400), 2025120600u); /* a 100th: still up */
	assert_int_equal(dnsbl_serial_next(2025120500u, day), 2025120501u);	      /* a clock set back */
}

static void names_are_checked(void **unused)
{
	size_t len;
	const char *why;
	assert_int_equal(dnsbl_name_check("bl.example.", &len, &why), 0);
	assert_int_equal(len, 10);
	assert_int_equal(dnsbl_name_check("bl_1-x.example", &len, &why), 0);
	assert_int_equal(dnsbl_name_check("bl example", &len, &why), -1);
	assert_int_equal(dnsbl_name_check("bl..example", &len, &why), -1);
	assert_int_equal(dnsbl_name_check("", &len, &why), -1);
	assert_int_equal(dnsbl_name_check("bl\"; rm", &len, &why), -1);
	char label[70];
	memset(label, 'a', 64);
	strcpy(label + 64, ".x");
	assert_int_equal(dnsbl_name_check(label, &len, &why), -1);
}

static void a_host_on_two_ports_is_one_entry_with_the_latest_proof(void **unused)
{
	struct dnsbl_host h = {0};
	struct dnsbl_entry e;
	char r[DNSBL_REASON_MAX + 1];
	assert_int_equal(dnsbl_host_add(&h, "192.0.2.1", 9, "open-relay", 25, "Exim", 4, 100), 0);
	assert_int_equal(dnsbl_host_add(&h, "192.0.2.1", 9, "open-proxy-web", 8080, NULL, 0, 200), 0);
	assert_int_equal(dnsbl_host_add(&h, "192.0.2.1", 9, "open-proxy-mail", 3128, "Squid", 5, 200), 0);
	assert_int_equal(dnsbl_host_add(&h, "192.0.2.10", 10, "open-relay", 25, NULL, 0, 300), 1);
	assert_int_equal(dnsbl_host_entry(&h, &e, r, sizeof r), 0);
	assert_string_equal(e.reason, "open-proxy-web on port 8080, last proven 1970-01-01T00:03:20Z; 2 more open ports");
	dnsbl_host_clear(&h);
	assert_int_equal(dnsbl_host_add(&h, "192.0.2.10", 10, "open-relay", 25, NULL, 0, 300), 0);
	assert_int_equal(dnsbl_host_entry(&h, &e, r, sizeof r), 0);
	assert_string_equal(e.reason, "open-relay on port 25, last proven 1970-01-01T00:05:00Z");
	dnsbl_host_clear(&h);
	assert_int_equal(dnsbl_host_add(&h, "not an address", 14, "open-relay", 25, NULL, 0, 0), 0);
	assert_int_equal(dnsbl_host_entry(&h, &e, r, sizeof r), -1);
}

/* A whole zone: begin, entries (IPv6 among IPv4), end. */
static char *zone_of(const struct dnsbl_format *format)
{
	struct dnsbl_zone z = {.name = "bl.test", .ns = "ns.test", .serial = 2026010100u, .generated = 0};
	struct dnsbl_writer w = {.zone = &z};
	const char *addresses[] = {"192.0.2.1", "2001:db8::2", "192.0.2.3"};
	char *text;
	size_t len;
	w.out = open_memstream(&text, &len);
	assert_non_null(w.out);
	assert_int_equal(format->begin(&w), 0);
	for (size_t i = 0; i < 3; i++) {
		struct dnsbl_entry e = {.reason = "open-relay $1"};
		assert_int_equal(addr_parse(addresses[i], strlen(addresses[i]), &e.address), 0);
		assert_int_equal(format->entry(&w, &e), 0);
	}
	assert_int_equal(format->end(&w), 0);
	format->release(&w);
	assert_int_equal(w.entries, 3);
	fclose(w.out);
	return text;
}

static void rbldnsd_zone_has_soa_ns_and_both_datasets(void **unused)
{
	assert_ptr_equal(dnsbl_format_find("rbldnsd"), &dnsbl_format_rbldnsd);
	char *z = zone_of(&dnsbl_format_rbldnsd);
	const char *body = strstr(z, "$SOA");
	assert_non_null(body);
	assert_string_equal(body, "$SOA 900 ns.test hostmaster.bl.test 2026010100 3600 600 604800 300\n"
				  "$NS 900 ns.test\n"
				  "$TTL 900\n"
				  "$DATASET ip4set:plughole-ipv4 @\n"
				  "192.0.2.1 :127.0.0.2:open-relay $$1\n"
				  "192.0.2.3 :127.0.0.2:open-relay $$1\n"
				  "$DATASET ip6trie:plughole-ipv6 @\n"
				  "2001:db8::2 :127.0.0.2:open-relay $$1\n"
				  "# 3 listed\n");
	free(z);
}

static void bind_zone_has_soa_ns_a_and_txt(void **unused)
{
	assert_ptr_equal(dnsbl_format_find("bind"), &dnsbl_format_bind);
	assert_null(dnsbl_format_find("tinydns"));
	char *z = zone_of(&dnsbl_format_bind);
	const char *body = strstr(z, "$ORIGIN");
	assert_non_null(body);
	assert_string_equal(body, "$ORIGIN bl.test.\n"
				  "$TTL 900\n"
				  "@\tIN\tSOA\tns.test. hostmaster.bl.test. ( 2026010100 3600 600 604800 300 )\n"
				  "@\tIN\tNS\tns.test.\n"
				  "1.2.0.192\tIN\tA\t127.0.0.2\n\tIN\tTXT\t\"open-relay $1\"\n"
				  "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2\tIN\tA\t127.0.0.2\n"
				  "\tIN\tTXT\t\"open-relay $1\"\n"
				  "3.2.0.192\tIN\tA\t127.0.0.2\n\tIN\tTXT\t\"open-relay $1\"\n"
				  "; 3 listed\n");
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bind_txt_escapes_quotes_backslashes_and_bytes),
		cmocka_unit_test(bind_txt_splits_at_255_bytes),
		cmocka_unit_test(bind_names_are_reversed_octets_and_nibbles),
		cmocka_unit_test(rbldnsd_text_doubles_dollars_and_escapes_bytes),
		cmocka_unit_test(reason_names_verdict_port_software_time),
		cmocka_unit_test(utc_times_match_gmtime),
		cmocka_unit_test(serial_increases_on_every_export),
		cmocka_unit_test(names_are_checked),
		cmocka_unit_test(a_host_on_two_ports_is_one_entry_with_the_latest_proof),
		cmocka_unit_test(rbldnsd_zone_has_soa_ns_and_both_datasets),
		cmocka_unit_test(bind_zone_has_soa_ns_a_and_txt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The exclusion list: what --allow-loopback lifts, embedded IPv4 forms, escaped reasons, destinations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/exclude.h"
#include "core/log.h"
#include "core/paths.h"

/* A data directory whose path says "loopback", as an operator's might. */
static char dir[] = "/tmp/plughole-loopback-XXXXXX";
static char optout[sizeof dir + 16];

static struct addr A(const char *text)
{
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	return a;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **unused)
{
	char shipped[4096], copy[sizeof dir + 32];
	if (mkdtemp(dir) == NULL)
		return -1;
	data_path("exclude.conf", shipped, sizeof shipped);
	FILE *in = fopen(shipped, "r");
	snprintf(copy, sizeof copy, "%s/exclude.conf", dir);
	FILE *out = fopen(copy, "w");
	if (in == NULL || out == NULL)
		return -1;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	setenv("PLUGHOLE_DATA", dir, 1);
	snprintf(optout, sizeof optout, "%s/optout", dir);
	log_set_level(LOG_QUIET);
	return 0;
}

static int teardown(void **unused)
{
	char path[sizeof dir + 32];
	snprintf(path, sizeof path, "%s/exclude.conf", dir);
	unlink(path);
	unlink(optout);
	rmdir(dir);
	return 0;
}

static void load(struct exclusion_list *list, const char *optout_text, bool allow_loopback)
{
	exclusion_init(list);
	write_file(optout, optout_text);
	assert_int_equal(exclusion_load_defaults(list, optout, allow_loopback), 0);
}

static void excluded(const struct exclusion_list *list, const char *text)
{
	struct addr a = A(text);
	if (exclusion_match(list, &a) == NULL)
		fail_msg("%s was not excluded", text);
}

static void allowed(const struct exclusion_list *list, const char *text)
{
	struct addr a = A(text);
	const char *why = exclusion_match(list, &a);
	if (why != NULL)
		fail_msg("%s was excluded: %s", text, why);
}

/* Neither the data directory's path nor an opt-out's comment says what loopback is. */
static void allow_loopback_lifts_only_the_loopback_ranges(void **unused)
{
	struct exclusion_list list;
	load(&list, "11.0.0.0/8 not a loopback host\n127.0.9.0/24 opted out: loopback tests\n", true);
	static const char *const still[] = {"10.0.0.1", "192.168.1.1", "224.0.0.1", "169.254.169.254",
					    "0.0.0.1", "::", "fe80::1", "11.0.0.1", "127.0.9.5"};
	for (size_t i = 0; i < sizeof still / sizeof still[0]; i++)
		excluded(&list, still[i]);
	allowed(&list, "127.0.0.1");
	allowed(&list, "127.61.0.1");
	allowed(&list, "::ffff:127.61.0.1"); /* the same address, mapped */
	allowed(&list, "::1");
	exclusion_free(&list);

	load(&list, "", false);
	excluded(&list, "127.0.0.1");
	excluded(&list, "::1");
	exclusion_free(&list);
}

/* NAT64 and IPv4-compatible addresses obey the rule of the IPv4 address they carry. */
static void embedded_ipv4_addresses_are_checked(void **unused)
{
	struct exclusion_list list;
	load(&list, "", true);
	static const char *const carried[] = {
	    "64:ff9b::10.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.1.1", "64:ff9b::127.0.0.1",
	    "64:ff9b::224.0.0.1", "64:ff9b:1::10.0.0.1", "::127.0.0.1", "::192.168.1.1", "::a9fe:a9fe"};
	for (size_t i = 0; i < sizeof carried / sizeof carried[0]; i++)
		excluded(&list, carried[i]);
	allowed(&list, "64:ff9b::8.8.8.8"); /* a public IPv4 address behind the translator */
	exclusion_free(&list);

	load(&list, "", false);
	allowed(&list, "64:ff9b::8.8.8.8");
	excluded(&list, "64:ff9b::10.0.0.1");
	struct addr a = A("64:ff9b::a9fe:a9fe");
	assert_non_null(strstr(exclusion_match(&list, &a), "link-local"));
	exclusion_free(&list);
}

/* The mapped block is IPv6 notation for all of IPv4: an opt-out may name it. */
static void optout_accepts_the_mapped_block(void **unused)
{
	struct exclusion_list list;
	load(&list, "::ffff:0:0/96 no IPv4 from this host\n", false);
	excluded(&list, "8.8.8.8");
	excluded(&list, "64:ff9b::8.8.8.8");
	allowed(&list, "2a00:1450::1");
	exclusion_free(&list);
}

/* An opt-out file's text reaches the terminal in reasons: escaped. */
static void reasons_are_escaped(void **unused)
{
	struct exclusion_list list;
	load(&list, "11.0.0.0/8 \x1b]0;owned\x07 \x1b[31mred\n", false);
	struct addr a = A("11.1.2.3");
	const char *why = exclusion_match(&list, &a);
	assert_non_null(why);
	assert_null(strchr(why, '\x1b'));
	assert_null(strchr(why, '\x07'));
	assert_non_null(strstr(why, "\\x1b]0;owned\\x07 \\x1b[31mred"));
	exclusion_free(&list);
}

/* Where verify tells peers to connect obeys the list like a candidate. */
static void destinations_obey_the_list(void **unused)
{
	struct exclusion_list list;
	load(&list, "", false);
	struct addr metadata = A("169.254.169.254"), lo = A("127.61.0.1"), lo6 = A("::1"), pub = A("8.8.8.8");
	assert_int_equal(exclusion_check_destination(&list, "--target", "169.254.169.254:80", &metadata), -1);
	assert_int_equal(exclusion_check_destination(&list, "--sink", "127.61.0.1:25", &lo), -1);
	assert_int_equal(exclusion_check_destination(&list, "--sink", "[::1]:25", &lo6), -1);
	assert_int_equal(exclusion_check_destination(&list, "--sink", "8.8.8.8:25", &pub), 0);
	list.allow_loopback = true;
	assert_int_equal(exclusion_check_destination(&list, "--sink", "127.61.0.1:25", &lo), 0);
	assert_int_equal(exclusion_check_destination(&list, "--sink", "[::1]:25", &lo6), 0);
	assert_int_equal(exclusion_check_destination(&list, "--target", "169.254.169.254:80", &metadata), -1);
	exclusion_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allow_loopback_lifts_only_the_loopback_ranges),
		cmocka_unit_test(embedded_ipv4_addresses_are_checked),
		cmocka_unit_test(optout_accepts_the_mapped_block),
		cmocka_unit_test(reasons_are_escaped),
		cmocka_unit_test(destinations_obey_the_list),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* RDAP answers and bootstrap files, parsed as pure functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/rdap.h"
#include "core/paths.h"

#define FIXTURES "../fixtures/attrib/rdap/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static int parse(const char *name, struct store_rdap_net *net, const char **why)
{
	char path[256];
	size_t len;
	snprintf(path, sizeof path, FIXTURES "%s", name);
	char *text = slurp(path, &len);
	int rc = rdap_parse_ip(text, len, net, why);
	free(text);
	return rc;
}

static void parses_a_ripe_style_answer(void **state)
{
	struct store_rdap_net net;
	const char *why = NULL;
	char a[ADDR_STRLEN];
	assert_int_equal(parse("ripe-198.51.100.0.json", &net, &why), 0);
	assert_string_equal(addr_format(&net.range.first, a), "198.51.100.0");
	assert_string_equal(addr_format(&net.range.last, a), "198.51.100.255");
	assert_string_equal(net.handle, "198.51.100.0 - 198.51.100.255");
	assert_string_equal(net.name, "EXAMPLE-RDAP-NET");
	assert_string_equal(net.country, "NL");
	assert_string_equal(net.parent, "198.51.0.0 - 198.51.255.255");
	assert_string_equal(net.abuse, "abuse@rdap-ripe.example");
	assert_string_equal(net.org, "RDAP Example B.V.");
	assert_int_equal(net.status, 200);
}

static void finds_nested_abuse_entities(void **state)
{
	struct store_rdap_net net;
	const char *why = NULL;
	assert_int_equal(parse("arin-203.0.113.0.json", &net, &why), 0);
	assert_string_equal(net.abuse, "abuse@arin-nested.example"); /* not the technical contact */
	assert_string_equal(net.org, "Orphan Networks Ltda");
	assert_string_equal(net.country, "");
	assert_int_equal(parse("ripe-2001-db8.json", &net, &why), 0);
	assert_false(addr_is_v4(&net.range.first));
	assert_string_equal(net.abuse, "abuse@v6.example");
	assert_string_equal(net.org, "");
}

static void rejects_errors_and_broken_answers(void **state)
{
	struct store_rdap_net net;
	const char *why = NULL;
	assert_int_equal(parse("error-404.json", &net, &why), -1);
	assert_string_equal(why, "answer is an error object");
	assert_int_equal(parse("malformed.json", &net, &why), -1);
	assert_string_equal(why, "answer is not JSON");
	static const char *const bad[] = {
	    "[]",
	    "{\"objectClassName\": \"entity\", \"startAddress\": \"1.0.0.0\", \"endAddress\": \"1.0.0.255\"}",
	    "{\"startAddress\": \"1.0.0.0\"}",
	    "{\"startAddress\": \"1.0.0.9\", \"endAddress\": \"1.0.0.1\"}",
	    "{\"startAddress\": \"1.0.0.0\", \"endAddress\": \"2001:db8::\"}",
	    "{\"startAddress\": 5, \"endAddress\": \"1.0.0.1\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(rdap_parse_ip(bad[i], strlen(bad[i]), &net, &why), -1);
	/* an abuse "email" that is no address is ignored, a long country too */
	const char *odd =
	    "{\"startAddress\": \"1.0.0.0\", \"endAddress\": \"1.0.0.255\", \"country\": \"NLD\","
	    "\"entities\": [{\"roles\": [\"abuse\"], \"vcardArray\": [\"vcard\", [[\"email\", {}, \"text\", "
	    "\"none\"]]]}]}";
	assert_int_equal(rdap_parse_ip(odd, strlen(odd), &net, &why), 0);
	assert_string_equal(net.abuse, "");
	assert_string_equal(net.country, "");
}

static void picks_the_registry_from_the_shipped_bootstrap(void **state)
{
	struct rdap_bootstrap bs = {NULL, 0};
	char path[4096];
	assert_int_equal(rdap_bootstrap_load(&bs, data_path("rdap", path, sizeof path)), 0);
	static const struct {
		const char *address, *base;
	} cases[] = {
	    {"193.0.6.139", "https://rdap.db.ripe.net/"},   {"8.8.8.8", "https://rdap.arin.net/registry/"},
	    {"1.1.1.1", "https://rdap.apnic.net/"},	    {"200.7.84.1", "https://rdap.lacnic.net/rdap/"},
	    {"41.0.0.1", "https://rdap.afrinic.net/rdap/"}, {"2001:67c:2e8::2", "https://rdap.db.ripe.net/"},
	    {"2400:cb00::1", "https://rdap.apnic.net/"},    {"2600::1", "https://rdap.arin.net/registry/"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr a;
		assert_int_equal(addr_parse(cases[i].address, strlen(cases[i].address), &a), 0);
		const char *base = rdap_bootstrap_find(&bs, &a);
		assert_non_null(base);
		assert_string_equal(base, cases[i].base);
	}
	struct addr loopback;
	assert_int_equal(addr_parse("127.0.0.1", 9, &loopback), 0);
	assert_null(rdap_bootstrap_find(&bs, &loopback));
	rdap_bootstrap_free(&bs);
}

static void prefers_the_most_specific_service(void **state)
{
	struct rdap_bootstrap bs = {NULL, 0};
	const char *why = NULL;
	const char *text = "{\"services\": [[[\"10.0.0.0/8\"], [\"http://a.example/rdap\"]],"
			   " [[\"10.1.0.0/16\"], [\"http://b.example/\", \"https://b.example/\"]]]}";
	assert_int_equal(rdap_bootstrap_parse(&bs, text, strlen(text), &why), 0);
	struct addr a;
	assert_int_equal(addr_parse("10.1.2.3", 8, &a), 0);
	assert_string_equal(rdap_bootstrap_find(&bs, &a), "https://b.example/");
	assert_int_equal(addr_parse("10.2.2.3", 8, &a), 0);
	assert_string_equal(rdap_bootstrap_find(&bs, &a), "http://a.example/rdap/"); /* a '/' added */
	rdap_bootstrap_free(&bs);
	const char *bad[] = {"{}", "not json", "{\"services\": [[[\"10.0.0.0/33\"], [\"http://a/\"]]]}",
			     "{\"services\": [[[\"10.0.0.0/8\"], [\"ftp://a/\"]]]}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(rdap_bootstrap_parse(&bs, bad[i], strlen(bad[i]), &why), -1);
		rdap_bootstrap_free(&bs);
	}
}

static void sets_options_by_name(void **state)
{
	struct rdap_options o;
	const char *why;
	rdap_options_default(&o);
	assert_int_equal(rdap_option_set(&o, "rdap-rate", "2.5", &why), 0);
	assert_true(o.rate == 2.5);
	assert_int_equal(rdap_option_set(&o, "rdap-ttl", "60", &why), 0);
	assert_int_equal(o.ttl, 60);
	assert_int_equal(rdap_option_set(&o, "rdap-rate", "-1", &why), -1);
	assert_int_equal(rdap_option_set(&o, "rdap-ttl", "soon", &why), -1);
	assert_int_equal(rdap_option_set(&o, "rdap-colour", "1", &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_a_ripe_style_answer),
	    cmocka_unit_test(finds_nested_abuse_entities),
	    cmocka_unit_test(rejects_errors_and_broken_answers),
	    cmocka_unit_test(picks_the_registry_from_the_shipped_bootstrap),
	    cmocka_unit_test(prefers_the_most_specific_service),
	    cmocka_unit_test(sets_options_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Loading the fixture registry (RPSL split files, delegated, pfx2as,
 * AS names) into an index, and resolving owners through every rung of the
 * fallbacks, with the shipped agencies file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "attrib/agencies.h"
#include "attrib/index.h"
#include "attrib/load.h"
#include "attrib/owners.h"
#include "core/paths.h"

#define FIXTURES "../fixtures/attrib/"

struct world {
	struct attrib_index index;
	struct agencies agencies;
	struct attrib_load_stats stats[16];
	size_t files;
};

static const char *const files[] = {
    "test.db.inetnum", "test.db.inet6num",	  "test.db.organisation", "test.db.role",     "test.db.irt",
    "test.db.aut-num", "delegated-test-extended", "pfx2as-test.txt",	  "asnames-test.txt",
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	char path[4096];
	attrib_index_init(&w->index);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct snap_builder b;
		snprintf(path, sizeof path, FIXTURES "%s", files[i]);
		if (attrib_parse_file(path, NULL, &b, &w->stats[i]) != 0)
			return -1;
		if (attrib_index_add(&w->index, &b, files[i], w->stats[i].registry) != 0)
			return -1;
		w->files++;
	}
	if (agencies_load(&w->agencies, data_path("agencies.conf", path, sizeof path)) != 0)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	attrib_index_free(&w->index);
	agencies_free(&w->agencies);
	free(w);
	return 0;
}

static void counts_objects_and_broken_ones(void **state)
{
	struct world *w = *state;
	struct attrib_load_stats *inetnum = &w->stats[0];
	assert_int_equal(inetnum->kind, SNAP_KIND_RPSL);
	assert_string_equal(inetnum->registry, "TEST");
	assert_int_equal(inetnum->ranges, 8);
	assert_int_equal(inetnum->malformed,
			 4); /* bad range, not an attribute, stray continuation, backwards */
	assert_int_equal(inetnum->skipped, 1); /* the mntner */
	assert_int_equal(w->stats[1].ranges, 3);
	assert_int_equal(w->stats[1].malformed, 1);
	assert_int_equal(w->stats[2].keys, 3);
	assert_int_equal(w->stats[3].keys, 3);
	assert_int_equal(w->stats[3].malformed, 1); /* a role without nic-hdl */
	assert_int_equal(w->stats[5].keys, 1);
	assert_int_equal(w->stats[5].malformed, 1);
	assert_int_equal(w->stats[6].kind, SNAP_KIND_DELEGATED);
	assert_int_equal(w->stats[6].ranges, 4);
	assert_int_equal(w->stats[6].keys, 1);
	assert_int_equal(w->stats[6].malformed, 1);
	assert_int_equal(w->stats[7].kind, SNAP_KIND_PFX2AS);
	assert_int_equal(w->stats[7].ranges, 5);
	assert_int_equal(w->stats[7].malformed, 1);
	assert_int_equal(w->stats[8].kind, SNAP_KIND_ASNAMES);
	assert_int_equal(w->stats[8].keys, 4);
}

static struct addr A(const char *text) {
	struct addr a;
	assert_int_equal(addr_parse(text, strlen(text), &a), 0);
	return a;
}

static void
chains_nested_ranges_with_lines(void **state)
{
	struct world *w = *state;
	struct attrib_ref chain[ATTRIB_MAX_CHAIN];
	char buf[256];
	struct addr a = A("192.0.2.200");
	size_t n = attrib_index_chain(&w->index, SNAP_KIND_RPSL, &a, chain, ATTRIB_MAX_CHAIN);
	assert_int_equal(n, 3);
	assert_string_equal(snap_record_get(chain[0].snap, chain[0].record, SNAP_F_NAME, buf, sizeof buf),
			    "CUSTOMER-C");
	assert_string_equal(attrib_ref_where(&chain[0], buf, sizeof buf), "test.db.inetnum:63");
	assert_string_equal(snap_record_get(chain[1].snap, chain[1].record, SNAP_F_NAME, buf, sizeof buf),
			    "EXAMPLE-NET-1");
	assert_string_equal(attrib_ref_where(&chain[1], buf, sizeof buf), "test.db.inetnum:25");
	/* continuation lines folded; '#' comments kept in free text, dropped elsewhere */
	assert_string_equal(
	    snap_record_get(chain[1].snap, chain[1].record, SNAP_F_DESCR, buf, sizeof buf),
	    "Example Access B.V. Access network, second continuation (tab) after an empty continuation");
	assert_string_equal(snap_record_get(chain[2].snap, chain[2].record, SNAP_F_COUNTRY, buf, sizeof buf),
			    "EU");
	struct addr v6 = A("2001:db8:1::5");
	n = attrib_index_chain(&w->index, SNAP_KIND_RPSL, &v6, chain, ATTRIB_MAX_CHAIN);
	assert_int_equal(n, 3);
	assert_string_equal(attrib_ref_where(&chain[0], buf, sizeof buf), "test.db.inet6num:18");
	struct addr broken = A("10.9.9.5");
	n = attrib_index_chain(&w->index, SNAP_KIND_RPSL, &broken, chain, ATTRIB_MAX_CHAIN);
	assert_int_equal(n, 1); /* the broken objects were skipped: only the whole-space block */
}

struct expect {
	const char *address;
	enum owner_rung rung;
	const char *contact;
	const char *organisation;
	const char *country;
	const char *agency;
	uint32_t asn;
};

static void resolves_every_rung(void **state)
{
	struct world *w = *state;
	struct owner_context ctx = {&w->index, &w->agencies, NULL};
	static const struct expect cases[] = {
	    {"192.0.2.10", RUNG_RANGE_ABUSE_C, "abuse@customer-a.example", "Customer A hosting", "NL", "FTC",
	     64496},
	    {"192.0.2.240", RUNG_ORG_ABUSE_C, "abuse@example-access.example", "Example Access B.V.", "NL",
	     "FTC", 64496},
	    {"198.51.100.7", RUNG_IRT, "irt@noabuse.example", "No Abuse K.K.", "JP", "MIC", 64497},
	    {"192.0.2.130", RUNG_RANGE_EMAIL, "noc@customer-b.example", "Customer B office", "NL", "FTC",
	     64496},
	    {"192.0.2.200", RUNG_PARENT_ORG_ABUSE_C, "abuse@example-access.example", "Example Access B.V.",
	     "NL", "FTC", 64496},
	    {"203.0.113.5", RUNG_AS_ABUSE, "abuse@as64500.example", "AS64500 ORPHAN-TRANSIT", "BR", "CGI.br",
	     64500},
	    {"100.64.1.1", RUNG_AGENCY, "abuse-desk@kisa.example.org", "Nobody answers here", "KR", "KISA",
	     0},
	    {"198.18.5.5", RUNG_AGENCY, "abuse-desk@cb.example.org", "test holder ca1-opaque", "CA", "CB",
	     64499},
	    {"2001:db8:1::5", RUNG_RANGE_ABUSE_C, "abuse@customer-a.example", "Customer A, IPv6", "NL", "FTC",
	     64496},
	    {"2001:db8:2::1", RUNG_ORG_ABUSE_C, "abuse@example-access.example", "Example Access B.V.", "NL",
	     "FTC", 64496},
	    {"2001:db9::1", RUNG_AGENCY, "abuse-desk@ftc.example.org", "unregistered", "", "FTC", 0},
	};
	struct owner_result *r = malloc(sizeof *r);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr a = A(cases[i].address);
		assert_int_equal(owner_resolve(&ctx, &a, r), 0);
		if (r->rung != cases[i].rung || strcmp(r->contact, cases[i].contact) != 0)
			for (size_t t = 0; t < r->trace_count; t++)
				print_message("%s\n", r->trace[t]);
		assert_string_equal(owner_rung_names[r->rung], owner_rung_names[cases[i].rung]);
		assert_string_equal(r->contact, cases[i].contact);
		assert_string_equal(r->organisation, cases[i].organisation);
		assert_string_equal(r->country, cases[i].country);
		assert_string_equal(r->agency->short_name, cases[i].agency);
		assert_int_equal(r->asn, cases[i].asn);
		assert_false(r->rdap_used);
	}
	/* the trace names the objects and the rungs that did not give a mailbox */
	struct addr a = A("192.0.2.200");
	owner_resolve(&ctx, &a, r);
	bool saw_parent = false, saw_no_abuse_c = false;
	for (size_t t = 0; t < r->trace_count; t++) {
		saw_parent |=
		    strstr(r->trace[t],
			   "parent 192.0.2.0-192.0.2.255 inetnum EXAMPLE-NET-1 (test.db.inetnum:25)") != NULL;
		saw_no_abuse_c |= strstr(r->trace[t], "range-abuse-c: the range has no abuse-c") != NULL;
	}
	assert_true(saw_parent);
	assert_true(saw_no_abuse_c);
	assert_string_equal(r->org_handle, "ORG-EA1-TEST");
	assert_string_equal(r->range, "192.0.2.192-192.0.2.223");
	assert_string_equal(r->as_name, "EXAMPLE-ACCESS Example Access B.V.");
	free(r);
}

/*
 * The rungs below the contact that give another mailbox, in ladder order,
 * each once, never the contact itself nor the agency's national contact;
 * and the second walk leaves the owner and the trace of the first alone.
 */
static void keeps_further_rungs(void **state)
{
	struct world *w = *state;
	struct owner_context ctx = {&w->index, &w->agencies, NULL};
	static const struct {
		const char *address, *further; /* "rung contact; ..." */
	} cases[] = {
	    {"192.0.2.10", "parent-org-abuse-c abuse@example-access.example; parent-irt cert@example-access.example"},
	    {"192.0.2.130", "parent-org-abuse-c abuse@example-access.example; parent-irt cert@example-access.example"},
	    {"203.0.113.5", ""},
	    {"100.64.1.1", ""},
	};
	struct owner_result *r = malloc(sizeof *r);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct addr a = A(cases[i].address);
		assert_int_equal(owner_resolve(&ctx, &a, r), 0);
		char got[2048] = "";
		for (size_t f = 0; f < r->further_count; f++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s %s", f ? "; " : "",
				 owner_rung_names[r->further[f].rung], r->further[f].contact);
		print_message("%s: %s <%s> further: %s\n", cases[i].address, owner_rung_names[r->rung], r->contact, got);
		assert_string_equal(got, cases[i].further);
	}
	free(r);
}

static void reads_gzip_and_crlf(void **state)
{
	char gz_path[] = "/tmp/plughole-attrib-XXXXXX.gz";
	int fd = mkstemps(gz_path, 3);
	assert_true(fd >= 0);
	close(fd);
	/* the inetnum fixture with CRLF line ends, gzip-compressed */
	FILE *in = fopen(FIXTURES "test.db.inetnum", "rb");
	gzFile out = gzopen(gz_path, "wb");
	assert_non_null(in);
	assert_non_null(out);
	int c;
	while ((c = fgetc(in)) != EOF) {
		if (c == '\n')
			gzputc(out, '\r');
		gzputc(out, c);
	}
	fclose(in);
	gzclose(out);
	struct snap_builder b;
	struct attrib_load_stats stats;
	assert_int_equal(attrib_parse_file(gz_path, NULL, &b, &stats), 0);
	assert_int_equal(stats.ranges, 8);
	assert_int_equal(stats.malformed, 4);
	assert_int_equal(stats.lines, 114);
	struct attrib_index index;
	attrib_index_init(&index);
	assert_int_equal(attrib_index_add(&index, &b, "crlf", "TEST"), 0);
	struct attrib_ref chain[4];
	struct addr a = A("192.0.2.130");
	assert_int_equal(attrib_index_chain(&index, SNAP_KIND_RPSL, &a, chain, 4), 3);
	char buf[256];
	assert_string_equal(attrib_ref_where(&chain[0], buf, sizeof buf), "crlf:52");
	assert_string_equal(snap_record_get(chain[0].snap, chain[0].record, SNAP_F_EMAIL, buf, sizeof buf),
			    "noc@customer-b.example");
	attrib_index_free(&index);
	unlink(gz_path);
}

/* Adds one in-memory source to index, as `attribute load` would. */
static void add_source(struct attrib_index *index, const char *name, enum snap_kind kind, const char *text)
{
	struct snap_builder b;
	struct attrib_load_stats stats;
	snap_builder_init(&b, kind);
	assert_int_equal(attrib_parse_buffer(name, text, strlen(text), kind, &b, &stats), 0);
	assert_int_equal(snap_builder_finish(&b), 0);
	assert_int_equal(attrib_index_add(index, &b, name, stats.registry), 0);
}

/* A letter must reach the range holder, not a party its objects merely mention. */
static void the_letter_goes_to_the_holder(void **state)
{
	struct world *w = *state;
	struct attrib_index index;
	attrib_index_init(&index);
	add_source(&index, "a.db.inetnum", SNAP_KIND_RPSL,
		   "inetnum: 10.9.1.0 - 10.9.1.255\nnetname: IRT-ONLY\ncountry: NL\nmnt-irt: IRT-X\nsource: A\n\n"
		   "inetnum: 10.9.2.0 - 10.9.2.255\nnetname: REMARKS-ONLY\ncountry: NL\n"
		   "remarks: Transit by Upstream Ltd; their NOC (noc@upstream.example) does not handle our abuse.\n"
		   "remarks: Abuse reports: abuse@customer-x.example\nsource: A\n\n"
		   "inetnum: 10.9.3.0 - 10.9.3.255\nnetname: SHARED-ORG\ncountry: NL\norg: ORG-SHARED\nsource: A\n\n"
		   "inetnum: 10.9.4.0 - 10.9.4.255\nnetname: UNKNOWN-COUNTRY\ncountry: ZZ\nsource: A\n\n"
		   "inetnum: 10.9.0.0 - 10.9.255.255\nnetname: PARENT\ncountry: JP\nsource: A\n");
	add_source(&index, "a.db.irt", SNAP_KIND_RPSL,
		   "irt: IRT-X\nremarks: We coordinate with CERT-Y, cert@cert-y.example\n"
		   "irt-nfy: hostmaster@lir.example\ne-mail: cert@x.example\nsource: A\n");
	/* another registry's organisation of the same name, with an abuse contact */
	add_source(&index, "b.db.organisation", SNAP_KIND_RPSL,
		   "organisation: ORG-SHARED\norg-name: Someone Else\nabuse-c: SE1-B\nsource: B\n");
	add_source(&index, "b.db.role", SNAP_KIND_RPSL,
		   "role: Someone Else Abuse\nnic-hdl: SE1-B\nabuse-mailbox: abuse@someone-else.example\nsource: B\n");
	/* routes: an older table, then a newer one that moved a /24 and splits a /16 */
	add_source(&index, "rv2-20240101.pfx2as", SNAP_KIND_PFX2AS, "10.9.1.0\t24\t64500\n10.9.0.0\t16\t64500\n");
	add_source(&index, "rv2-20240601.pfx2as", SNAP_KIND_PFX2AS, "10.9.1.0\t24\t64501\n10.9.2.0\t24\t64502\n");
	struct owner_context ctx = {&index, &w->agencies, NULL};
	struct owner_result *r = malloc(sizeof *r);
	struct addr a = A("10.9.1.1");
	assert_int_equal(owner_resolve(&ctx, &a, r), 0);
	assert_string_equal(owner_rung_names[r->rung], owner_rung_names[RUNG_IRT]);
	assert_string_equal(r->contact, "cert@x.example");
	assert_int_equal(r->asn, 64501); /* the newer table's origin for the same /24 */
	a = A("10.9.2.1");
	assert_int_equal(owner_resolve(&ctx, &a, r), 0);
	assert_string_equal(owner_rung_names[r->rung], owner_rung_names[RUNG_RANGE_EMAIL]);
	assert_string_equal(r->contact, "abuse@customer-x.example");
	assert_int_equal(r->asn, 64502); /* the /24, not the older /16 */
	a = A("10.9.3.1");
	assert_int_equal(owner_resolve(&ctx, &a, r), 0);
	assert_string_not_equal(r->contact, "abuse@someone-else.example");
	assert_string_not_equal(r->organisation, "Someone Else");
	a = A("10.9.4.1"); /* country ZZ: the parent's country decides */
	assert_int_equal(owner_resolve(&ctx, &a, r), 0);
	assert_string_equal(r->country, "JP");
	assert_string_equal(r->agency->short_name, "MIC");
	free(r);
	attrib_index_free(&index);
}

static void routes_countries_to_agencies(void **state)
{
	struct world *w = *state;
	static const char *const countries[] = {"AL", "AR", "AU", "BR", "BG", "CA", "CL", "CO", "DK",
						"EC", "FI", "HU", "JM", "JP", "LT", "NO", "PA", "PE",
						"RO", "RS", "SG", "KR", "CH", "TW", "GB", "US"};
	assert_string_equal(w->agencies.lead->short_name, "FTC");
	for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++) {
		const struct agency *a = agencies_for_country(&w->agencies, countries[i]);
		assert_non_null(a);
		if (strcmp(countries[i], "US") != 0)
			assert_false(a->lead);
		assert_non_null(strstr(a->sender, ".example.org"));
	}
	assert_string_equal(agencies_for_country(&w->agencies, "GB")->short_name,
			    "ICO"); /* the first of three */
	assert_non_null(agencies_find(&w->agencies, "OFT"));
	assert_non_null(agencies_find(&w->agencies, "dti"));
	assert_true(agencies_for_country(&w->agencies, "DE")->lead);
	assert_true(agencies_for_country(&w->agencies, "")->lead);
	assert_true(agencies_for_country(&w->agencies, NULL)->lead);
	assert_string_equal(agencies_for_country(&w->agencies, "kr")->short_name, "KISA");
}

static void rejects_bad_agency_files(void **state)
{
	static const char *const bad[] = {
	    /* no lead agency */
	    "[a]\nname = A\nshort = A\ncountries = US\nsender = a@a.example\nlanguage = en\n"
	    "template = t\ncontact = c@a.example\n",
	    /* a bad country */
	    "[a]\nname = A\nshort = A\ncountries = USA\n",
	    /* an unknown setting */
	    "[a]\nname = A\ncolour = blue\n",
	    /* no sender */
	    "[a]\nname = A\nshort = A\nlead = yes\nlanguage = en\ntemplate = t\ncontact = c@a.example\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char path[] = "/tmp/plughole-agencies-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
		close(fd);
		struct agencies agencies;
		assert_int_equal(agencies_load(&agencies, path), -1);
		unlink(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts_objects_and_broken_ones),
	    cmocka_unit_test(chains_nested_ranges_with_lines),
	    cmocka_unit_test(resolves_every_rung),
	    cmocka_unit_test(keeps_further_rungs),
	    cmocka_unit_test(the_letter_goes_to_the_holder),
	    cmocka_unit_test(reads_gzip_and_crlf),
	    cmocka_unit_test(routes_countries_to_agencies),
	    cmocka_unit_test(rejects_bad_agency_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

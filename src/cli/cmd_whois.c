/* plughole whois [--rdap ...] ADDRESS...: the whole attribution chain of an address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/agencies.h"
#include "attrib/index.h"
#include "attrib/owners.h"
#include "attrib/rdap.h"
#include "cli/cli.h"
#include "core/paths.h"

const char usage_whois[] = "usage: plughole whois [--agencies FILE] [--rdap [RDAP OPTIONS]] ADDRESS...\n"
			   "\n"
			   "Answers \"why did you write to us?\" for one address: every registered range\n"
			   "holding it (most specific first) with the object and the file:line it came\n"
			   "from, each rung of the abuse-contact fallbacks tried and why it gave nothing,\n"
			   "the origin AS, the country and where it came from, the agency, and the owner\n"
			   "and contact 'plughole attribute' records. Reads the registry data loaded with\n"
			   "'plughole attribute load'; --rdap and its options as for 'plughole attribute'.\n";

enum { OPT_AGENCIES = 1, OPT_RDAP, OPT_RDAP_BOOTSTRAP, OPT_RDAP_RATE, OPT_RDAP_TTL, OPT_RDAP_TIMEOUT };

static void print_result(const struct owner_result *r)
{
	for (size_t i = 0; i < r->trace_count; i++)
		printf("%s\n", r->trace[i]);
	printf("\n");
	printf("%-13s %s%s%s%s\n", "owner", r->organisation, r->org_handle[0] ? " (" : "", r->org_handle,
	       r->org_handle[0] ? ")" : "");
	printf("%-13s %s\n", "contact", r->contact);
	printf("%-13s %s\n", "rung", owner_rung_names[r->rung]);
	printf("%-13s %s\n", "decided by", r->object);
	printf("%-13s %s\n", "range", r->range[0] ? r->range : "none registered");
	if (r->asn != 0)
		printf("%-13s AS%u %s\n", "origin", r->asn, r->as_name);
	else
		printf("%-13s %s\n", "origin", "unknown");
	printf("%-13s %s%s%s%s\n", "country", r->country[0] ? r->country : "unknown",
	       r->country[0] ? " (" : "", r->country_from, r->country[0] ? ")" : "");
	printf("%-13s %s: %s%s\n", "agency", r->agency->short_name, r->agency->name,
	       r->agency->lead ? " (lead, writing on behalf of all participating agencies)" : "");
	printf("%-13s %s\n", "method", r->rdap_used ? "bulk + rdap" : "bulk");
}

int cmd_whois(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"agencies", required_argument, NULL, OPT_AGENCIES},
	    {"rdap", no_argument, NULL, OPT_RDAP},
	    {"rdap-bootstrap", required_argument, NULL, OPT_RDAP_BOOTSTRAP},
	    {"rdap-rate", required_argument, NULL, OPT_RDAP_RATE},
	    {"rdap-ttl", required_argument, NULL, OPT_RDAP_TTL},
	    {"rdap-timeout", required_argument, NULL, OPT_RDAP_TIMEOUT},
	    {NULL, 0, NULL, 0},
	};
	struct rdap_options rdap_options;
	const char *agencies_path = NULL;
	bool rdap = false;
	int c, index;
	rdap_options_default(&rdap_options);
	while ((c = getopt_long(argc, argv, "", options, &index)) != -1) {
		const char *why;
		if (c == OPT_AGENCIES)
			agencies_path = optarg;
		else if (c == OPT_RDAP)
			rdap = true;
		else if (c >= OPT_RDAP_BOOTSTRAP && c <= OPT_RDAP_TIMEOUT) {
			if (rdap_option_set(&rdap_options, options[index].name, optarg, &why) != 0)
				return command_usage_error("whois", "--%s %s", options[index].name, why);
		} else
			return EXIT_USAGE;
	}
	if (optind == argc)
		return command_usage_error("whois", "give one or more ADDRESSes");
	struct addr *addresses = calloc((size_t)(argc - optind), sizeof *addresses);
	if (addresses == NULL)
		return EXIT_FAILURE_;
	for (int i = optind; i < argc; i++) {
		if (addr_parse(argv[i], strlen(argv[i]), &addresses[i - optind]) != 0) {
			free(addresses);
			return command_usage_error("whois", "'%s' is not an IPv4 or IPv6 address", argv[i]);
		}
	}
	char path[4096];
	struct agencies agencies;
	if (agencies_load(&agencies, agencies_path ? agencies_path
						   : data_path("agencies.conf", path, sizeof path)) != 0) {
		free(addresses);
		return EXIT_FAILURE_;
	}
	if (rdap)
		cli->store_mode = STORE_CREATE; /* a verb that writes then: RDAP answers are cached in the store */
	struct store *store = cli_open_store(cli);
	struct attrib_index idx;
	struct rdap_client *client = NULL;
	struct owner_result *result = malloc(sizeof *result);
	int rc = EXIT_FAILURE_;
	attrib_index_init(&idx);
	if (store == NULL || result == NULL || attrib_index_load(&idx, store) != 0)
		goto done;
	if (rdap && (client = rdap_client_new(store, &rdap_options)) == NULL)
		goto done;
	if (idx.count == 0 && client == NULL)
		fprintf(stderr,
			"plughole whois: no registry data loaded ('plughole attribute load FILE...')\n");
	struct owner_context ctx = {&idx, &agencies, client};
	for (int i = 0; i < argc - optind; i++) {
		if (i > 0)
			printf("\n");
		if (owner_resolve(&ctx, &addresses[i], result) != 0)
			goto done;
		print_result(result);
	}
	rc = EXIT_OK;
done:
	rdap_client_free(client);
	free(result);
	attrib_index_free(&idx);
	store_close(store);
	agencies_free(&agencies);
	free(addresses);
	return rc;
}

/* plughole owners [--format tsv|csv|json|jsonl] [--hosts | --open]: who gets the letters. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/log.h"

const char usage_owners[] = "usage: plughole owners [--format " OUTPUT_FORMATS "] [--hosts | --open]\n"
			    "\n"
			    "Lists the owners 'plughole attribute' found: one per (organisation, abuse\n"
			    "address), with its country and agency, how many attributed hosts it has and\n"
			    "how many of them are proven open, most hosts first. TSV columns: owner,\n"
			    "organisation, org_handle, abuse, country, agency, hosts, open.\n"
			    "On stderr (-q silences it): the registry snapshots the attributions rest on,\n"
			    "and how many findings wait for 'plughole attribute' (loading or removing a\n"
			    "snapshot makes every attribution wait to be redone).\n"
			    "\n"
			    "  --open    only owners with proven open hosts, most open hosts first\n"
			    "  --hosts   one row per attributed finding instead: owner, address, port,\n"
			    "            verdict, rung, contact, organisation, range, object, asn,\n"
			    "            as_name, country, agency, method\n";

/* A row of store_registry_each: the source, its format and when it was loaded. */
static void print_source(void *ctx, const struct store_row *row)
{
	if (row->values == NULL)
		return; /* the names alone */
	const char *source = store_row_value(row, "source"), *format = store_row_value(row, "format"),
		   *loaded = store_row_value(row, "loaded");
	log_info("  %s (%s, loaded %s)", source ? source : "", format ? format : "", loaded ? loaded : "");
}

/* What the listing rests on: every attribution rests on every snapshot (see store.h). */
static int print_basis(struct store *store)
{
	struct store_attribution_counts counts;
	if (store_attribution_counts(store, &counts) != 0)
		return -1;
	if (counts.attributed > 0) {
		log_info("owners: %lld attributions resting on these registry snapshots%s:",
			 (long long)counts.attributed, counts.by_rdap > 0 ? " and RDAP answers" : "");
		if (store_registry_each(store, print_source, NULL) != 0)
			return -1;
	}
	if (counts.pending > 0)
		log_info("owners: %lld findings have no attribution yet: 'plughole attribute' gives them one",
			 (long long)counts.pending);
	return 0;
}

int cmd_owners(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"hosts", no_argument, NULL, 'h'},
	    {"open", no_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	enum output_format format = OUTPUT_TSV;
	bool hosts = false, open_only = false;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'h')
			hosts = true;
		else if (c == 'o')
			open_only = true;
		else if (c != 'f' || output_format_parse(optarg, &format) != 0)
			return c == 'f' ? command_usage_error("owners", "unknown format '%s' (" OUTPUT_FORMATS ")", optarg)
					: EXIT_USAGE;
	}
	if (optind != argc)
		return command_usage_error("owners", "takes no operands");
	if (hosts && open_only)
		return command_usage_error("owners", "--hosts or --open, not both");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct output out;
	output_begin(&out, format, stdout);
	int rc = hosts ? store_attributions_each(store, output_row, &out)
		       : store_owners_each(store, open_only, output_row, &out);
	output_end(&out);
	if (rc == 0)
		rc = print_basis(store);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

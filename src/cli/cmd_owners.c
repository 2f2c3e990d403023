/* plughole owners [--format tsv|csv|json] [--hosts]: who gets the letters. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/output.h"

const char usage_owners[] = "usage: plughole owners [--format tsv|csv|json] [--hosts]\n"
			    "\n"
			    "Lists the owners 'plughole attribute' found: one per (organisation, abuse\n"
			    "address), with its country and agency, how many attributed hosts it has and\n"
			    "how many of them are proven open. TSV columns: owner, organisation,\n"
			    "org_handle, abuse, country, agency, hosts, open.\n"
			    "\n"
			    "  --hosts   one row per attributed finding instead: owner, address, port,\n"
			    "            verdict, rung, contact, organisation, range, object, asn,\n"
			    "            as_name, country, agency, method\n";

int cmd_owners(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"hosts", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum output_format format = OUTPUT_TSV;
	int hosts = 0, c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'h')
			hosts = 1;
		else if (c != 'f' || output_format_parse(optarg, &format) != 0)
			return c == 'f' ? command_usage_error("owners", "unknown format '%s'", optarg)
					: EXIT_USAGE;
	}
	if (optind != argc)
		return command_usage_error("owners", "takes no operands");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct output out;
	output_begin(&out, format, stdout);
	int rc = hosts ? store_attributions_each(store, output_row, &out)
		       : store_owners_each(store, output_row, &out);
	output_end(&out);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

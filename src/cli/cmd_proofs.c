/* plughole proofs [--format tsv|json]: what the sink has recorded. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"

const char usage_proofs[] =
	"usage: plughole proofs [--format tsv|csv|json]\n"
	"\n"
	"Lists every proof the sink recorded: the token, the candidate it was made\n"
	"for, who delivered it, the envelope, and when (UTC).\n";

int cmd_proofs(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"format", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	enum output_format format = OUTPUT_TSV;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c != 'f' || output_format_parse(optarg, &format) != 0)
			return c == 'f' ? command_usage_error("proofs", "unknown format '%s'", optarg) : EXIT_USAGE;
	}
	if (optind != argc)
		return command_usage_error("proofs", "takes no operands");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct output out;
	output_begin(&out, format, stdout);
	int rc = store_proofs_each(store, output_row, &out);
	output_end(&out);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

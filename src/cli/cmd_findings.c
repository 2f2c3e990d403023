/* plughole findings [--format tsv|csv|json|jsonl] [--verdict V] [--transcript] */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "probe/verdict.h"

const char usage_findings[] =
	"usage: plughole findings [--format " OUTPUT_FORMATS "] [--verdict V] [--transcript]\n"
	"\n"
	"One line per address:port with its verdict and evidence: address, port,\n"
	"verdict, test, variant, protocol, software, tls, exit_address, token,\n"
	"attempts, first_checked (when the first test message to it went, else when\n"
	"its verdict was written) and last_checked (UTC). TSV and CSV begin with a\n"
	"line of these names, even when no row follows; JSON is one array, JSON Lines\n"
	"(jsonl) one object a line; both give numbers as numbers, tls as a boolean,\n"
	"what is unknown as null.\n"
	"\n"
	"  --format F      " OUTPUT_FORMATS " (default tsv)\n"
	"  --verdict V     only this verdict (open-relay, relay-accepted, closed, ...)\n"
	"  --transcript    add the conversation (CSV and JSON keep it whole)\n";

int cmd_findings(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"format", required_argument, NULL, 'f'},
		{"verdict", required_argument, NULL, 'V'},
		{"transcript", no_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	enum output_format format = OUTPUT_TSV;
	const char *verdict = NULL;
	bool transcript = false;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (output_format_parse(optarg, &format) != 0)
				return command_usage_error("findings", "unknown format '%s' (" OUTPUT_FORMATS ")", optarg);
			break;
		case 'V':
			if (verdict_from_name(optarg) == VERDICT_NONE) {
				char names[512];
				size_t len = 0;
				for (int v = VERDICT_NONE + 1; v < VERDICT_LAST && len < sizeof names; v++)
					len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
								v > VERDICT_NONE + 1 ? ", " : "",
								verdict_name((enum verdict)v));
				return command_usage_error("findings", "'%s' is not a verdict (%s)", optarg, names);
			}
			verdict = optarg;
			break;
		case 't':
			transcript = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return command_usage_error("findings", "takes no operands");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct output out;
	output_begin(&out, format, stdout);
	int rc = store_findings_each(store, verdict, transcript, output_row, &out);
	output_end(&out);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

/* plughole findings [--format tsv|csv|json|jsonl] [--verdict V] [--transcript] [--round N | --history A[:P]] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/log.h"
#include "probe/verdict.h"

const char usage_findings[] =
	"usage: plughole findings [--format " OUTPUT_FORMATS "] [--verdict V] [--transcript]\n"
	"                         [--round N | --history ADDRESS[:PORT]]\n"
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
	"  --transcript    add the conversation (CSV and JSON keep it whole)\n"
	"  --round N       the verdicts of round N instead of the latest ones: every\n"
	"                  verification is a round (a verify, a campaign's recheck, an\n"
	"                  owner's check; findings older than rounds are round 0); the\n"
	"                  rows begin with round, kind and seq (a recheck's number in its\n"
	"                  campaign), and checked replaces first/last_checked\n"
	"  --history ADDRESS[:PORT]  every round's verdict for that address (all its\n"
	"                  ports when none is given), oldest round first, as --round\n";

int cmd_findings(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"format", required_argument, NULL, 'f'},
		{"verdict", required_argument, NULL, 'V'},
		{"transcript", no_argument, NULL, 't'},
		{"round", required_argument, NULL, 'r'},
		{"history", required_argument, NULL, 'H'},
		{NULL, 0, NULL, 0},
	};
	int64_t round = -1;
	const char *history = NULL;
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
		case 'r': {
			char *end;
			errno = 0;
			long long n = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 0)
				return command_usage_error("findings", "--round '%s': a round number (0, 1, ...)", optarg);
			round = n;
			break;
		}
		case 'H':
			history = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return command_usage_error("findings", "takes no operands");
	if (round >= 0 && history != NULL)
		return command_usage_error("findings", "--round or --history, not both");
	struct addr address;
	uint16_t port = 0;
	char address_text[ADDR_STRLEN];
	if (history != NULL) {
		const char *why = NULL;
		if (addr_port_parse(history, strlen(history), &address, &port, &why) != 0)
			return command_usage_error("findings", "--history '%s': %s", history, why ? why : "not an address");
		addr_format(&address, address_text); /* as the store writes it */
	}
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct store_round known;
	int found = round >= 0 ? store_round_get(store, round, &known) : 1;
	if (found != 1) {
		if (found == 0)
			log_error("findings: no round %lld (see 'plughole findings --history ADDRESS' for an address's rounds)",
				  (long long)round);
		store_close(store);
		return EXIT_FAILURE_;
	}
	struct output out;
	output_begin(&out, format, stdout);
	int rc = round >= 0	    ? store_round_findings_each(store, round, verdict, transcript, output_row, &out)
		 : history != NULL ? store_finding_history_each(store, address_text, port, verdict, transcript,
								 output_row, &out)
				   : store_findings_each(store, verdict, transcript, output_row, &out);
	output_end(&out);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

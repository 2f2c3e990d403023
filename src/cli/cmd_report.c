/* plughole report NAME [--html FILE] [--json FILE] [--csv FILE] */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "report/report.h"

const char usage_report[] = "usage: plughole report NAME [--html FILE] [--json FILE] [--csv FILE]\n"
			    "\n"
			    "What the campaign's letters caused: per recheck round, the hosts and owners\n"
			    "still open, changed, fixed, gone, inconclusive or untested, and the\n"
			    "remediation rate of treatment (a letter) and control (no letter) with 95 %\n"
			    "Wilson intervals, their difference (Newcombe's interval) and a pooled\n"
			    "two-proportion z test, per owner (the unit that was randomised) and per host;\n"
			    "the same by letter outcome, country, agency, verdict, detected software and\n"
			    "AS. Groups under 10 show counts, not percentages. Without options, a summary\n"
			    "on the terminal; the report itself defines every number.\n"
			    "\n"
			    "  --html FILE   one self-contained page (inline CSS and SVG charts, no script)\n"
			    "  --json FILE   every number of the HTML\n"
			    "  --csv FILE    one row per round, level, breakdown, key and group\n"
			    "FILE '-' is standard output; a file is written whole or not at all.\n";

typedef int (*report_writer)(const struct report *report, FILE *out);

/* Writes through FILE.tmp then renames, so a reader never sees half a report. */
static int write_file(const char *path, report_writer write, const struct report *report)
{
	if (strcmp(path, "-") == 0)
		return write(report, stdout) == 0 && fflush(stdout) == 0 ? 0 : -1;
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		log_error("%s: path too long", path);
		return -1;
	}
	FILE *out = fopen(tmp, "w");
	if (out == NULL) {
		log_error("%s: %s", tmp, strerror(errno));
		return -1;
	}
	int rc = write(report, out);
	if (fclose(out) != 0 || rc != 0) {
		log_error("%s: could not write: %s", tmp, strerror(errno));
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		log_error("%s: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"html", required_argument, NULL, 'h'},
	    {"json", required_argument, NULL, 'j'},
	    {"csv", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	const char *html = NULL, *json = NULL, *csv = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			html = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'c':
			csv = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return command_usage_error("report",
					   optind == argc ? "wants a campaign NAME" : "takes one NAME");
	const char *name = argv[optind];
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct report report;
	int found = report_build(store, name, &report);
	store_close(store);
	if (found == 1)
		log_error("report: no campaign named '%s' (plughole campaign list)", name);
	int rc = found == 0 ? 0 : -1;
	if (rc == 0 && html == NULL && json == NULL && csv == NULL)
		rc = report_write_summary(&report, stdout);
	if (rc == 0 && html != NULL)
		rc = write_file(html, report_write_html, &report);
	if (rc == 0 && json != NULL)
		rc = write_file(json, report_write_json, &report);
	if (rc == 0 && csv != NULL)
		rc = write_file(csv, report_write_csv, &report);
	report_free(&report);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

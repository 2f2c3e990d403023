/* plughole ingest [--format F] [--port P]... FILE...: take in candidate lists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "feeds/ingest.h"

const char usage_ingest[] =
	"usage: plughole ingest [--format F] [--port P]... [--max-range N] [--source NAME]\n"
	"                       [--exclude-file FILE]... [--allow-loopback] FILE... (or - for stdin)\n"
	"\n"
	"Reads candidate lists and stores each address:port once, remembering\n"
	"which sources named it. Excluded addresses (data/exclude.conf, the\n"
	"[safety] optout file and every --exclude-file) are counted, never stored. Bad lines are reported\n"
	"as FILE:LINE and skipped; a file of nothing but bad lines fails (exit 1).\n"
	"Rows the feed says are not open (ZMap success 0, closed ports) are counted\n"
	"as not open, never stored. Any FILE may be gzip (told by its magic bytes).\n"
	"\n"
	"  --format F        one of the formats below (default: detected on unambiguous\n"
	"                    evidence in the first lines, else plain; the choice and\n"
	"                    why go to stderr)\n"
	"  --port P          port for entries that name none (repeatable; default 25)\n"
	"  --max-range N     largest range one entry may expand to (default 256)\n"
	"  --source NAME     name of the source (default: the file's name)\n"
	"  --exclude-file FILE  more ranges never to store, one a line as in masscan's\n"
	"                    and zmap's exclude files (CIDR or FIRST-LAST, # comments);\n"
	"                    repeatable; the most specific range of all the lists decides\n"
	"  --allow-loopback  accept 127.0.0.0/8 and ::1 (tests and demos only)\n"
	"\n"
	"formats:\n";

void ingest_usage_formats(FILE *out)
{
	for (size_t i = 0; i < feed_format_count; i++)
		fprintf(out, "  %-14s %s\n", feed_formats[i]->name, feed_formats[i]->description);
}

static void print_counts(const char *what, const struct ingest_counts *c)
{
	printf("%s: %llu lines, %llu taken, %llu excluded, %llu duplicate, %llu bad, %llu not open\n", what,
	       (unsigned long long)c->lines, (unsigned long long)c->taken, (unsigned long long)c->excluded,
	       (unsigned long long)c->duplicate, (unsigned long long)c->bad, (unsigned long long)c->not_open);
}

int cmd_ingest(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"format", required_argument, NULL, 'f'},
		{"port", required_argument, NULL, 'p'},
		{"max-range", required_argument, NULL, 'm'},
		{"source", required_argument, NULL, 's'},
		{"allow-loopback", no_argument, NULL, 'L'},
		{"exclude-file", required_argument, NULL, 'x'},
		{NULL, 0, NULL, 0},
	};
	const char *exclude_files[EXCLUDE_FILES_MAX];
	size_t exclude_count = 0;
	struct ingest_options opts = {.max_range = (uint64_t)cli->config.max_range};
	bool allow_loopback = false;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'f':
			if ((opts.format = feed_format_find(optarg)) == NULL)
				return command_usage_error("ingest", "unknown format '%s'", optarg);
			break;
		case 'p':
			if (opts.port_count == INGEST_MAX_PORTS)
				return command_usage_error("ingest", "at most %d --port options", INGEST_MAX_PORTS);
			if (port_parse(optarg, strlen(optarg), &opts.ports[opts.port_count++]) != 0)
				return command_usage_error("ingest", "--port wants 1..65535, not '%s'", optarg);
			break;
		case 'm':
			errno = 0;
			opts.max_range = strtoull(optarg, &end, 10);
			if (errno || *end || opts.max_range == 0)
				return command_usage_error("ingest", "--max-range wants a positive number, not '%s'", optarg);
			break;
		case 's':
			opts.source = optarg;
			break;
		case 'L':
			allow_loopback = true;
			break;
		case 'x':
			if (exclude_count == EXCLUDE_FILES_MAX)
				return command_usage_error("ingest", "at most %d --exclude-file options", EXCLUDE_FILES_MAX);
			exclude_files[exclude_count++] = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return command_usage_error("ingest", "name at least one FILE (or - for stdin)");
	if (opts.port_count == 0)
		opts.ports[opts.port_count++] = 25;

	struct exclusion_list exclusions;
	exclusion_init(&exclusions);
	if (exclusion_load_defaults(&exclusions, cli->config.optout, allow_loopback) != 0 ||
	    exclusion_load_files(&exclusions, exclude_files, exclude_count) != 0) {
		exclusion_free(&exclusions);
		return EXIT_FAILURE_;
	}
	opts.exclusions = &exclusions;
	if ((opts.store = cli_open_store(cli)) == NULL) {
		exclusion_free(&exclusions);
		return EXIT_FAILURE_;
	}
	struct ingest_counts total = {0};
	int failed = 0;
	for (int i = optind; i < argc; i++) {
		bool is_stdin = strcmp(argv[i], "-") == 0;
		FILE *in = is_stdin ? stdin : fopen(argv[i], "r");
		if (in == NULL) {
			log_error("%s: %s", argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		struct ingest_counts counts = {0};
		if (ingest_stream(&opts, in, is_stdin ? "stdin" : argv[i], &counts) != 0)
			failed = 1;
		print_counts(is_stdin ? "stdin" : argv[i], &counts);
		total.lines += counts.lines;
		total.taken += counts.taken;
		total.excluded += counts.excluded;
		total.duplicate += counts.duplicate;
		total.bad += counts.bad;
		total.not_open += counts.not_open;
		if (!is_stdin)
			fclose(in);
	}
	if (argc - optind > 1)
		print_counts("total", &total);
	printf("the store now holds %lld candidates\n", (long long)store_candidate_count(opts.store));
	store_close(opts.store);
	exclusion_free(&exclusions);
	return failed ? EXIT_FAILURE_ : EXIT_OK;
}

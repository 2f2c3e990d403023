/*
 * plughole attribute [options]: owner, contact, AS, country, agency for
 * every finding lacking them; "attribute load|sources|remove|bootstrap"
 * manage the registry data it reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrib/assign.h"
#include "attrib/load.h"
#include "attrib/rdap.h"
#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/util.h"

const char usage_attribute[] =
    "usage: plughole attribute [--all] [--agencies FILE] [--rdap [RDAP OPTIONS]]\n"
    "       plughole attribute load [--source NAME] [--format FORMAT] FILE...\n"
    "       plughole attribute sources [--format " OUTPUT_FORMATS "]\n"
    "       plughole attribute remove SOURCE...\n"
    "       plughole attribute bootstrap [--from URL] [--to DIR]\n"
    "\n"
    "Gives every finding without one its owner (the holder of the most specific\n"
    "registered range, never the end user), the abuse contact to write to and the\n"
    "rung of the fallbacks that gave it, the origin AS, the country and the agency.\n"
    "'plughole whois ADDRESS' shows why; 'plughole owners' lists the owners.\n"
    "\n"
    "  --all             attribute again findings that already have an attribution\n"
    "  --agencies FILE   the agencies (default: data/agencies.conf)\n"
    "  --rdap            ask RDAP for what the bulk data lacks (off by default)\n"
    "  --rdap-bootstrap PATH  IANA bootstrap file, or a directory with ipv4.json and\n"
    "                    ipv6.json (default: data/rdap)\n"
    "  --rdap-rate N     requests per second to one registry (default 1)\n"
    "  --rdap-ttl S      how long a cached answer is trusted (default 604800 s, 7d)\n"
    "  --rdap-timeout S  time for one request (default 20 s; a duration: 20, 20s, 1m)\n"
    "\n"
    "load: reads registry data, plain or gzip, its format detected: RPSL split dumps\n"
    "(RIPE, APNIC, AFRINIC, LACNIC), RIR delegated-extended statistics, CAIDA\n"
    "prefix-to-AS tables, AS-name tables. Each file replaces the snapshot of its\n"
    "source (default: the file name without .gz) in one transaction. Malformed\n"
    "objects are reported as FILE:LINE and skipped.\n"
    "  --source NAME     store under this source name (one FILE only)\n"
    "  --format FORMAT   rpsl, delegated, pfx2as or asnames instead of detecting\n"
    "\n"
    "FILE may also be a pipe (/dev/stdin), plain or gzip.\n"
    "\n"
    "sources: the loaded snapshots; TSV columns: source, format, registry, file,\n"
    "  loaded, bytes, objects, ranges, handles, malformed, skipped.\n"
    "remove: drops the snapshots of the SOURCEs named.\n"
    "Loading or removing a snapshot drops every attribution (each rests on all the\n"
    "snapshots): the next 'plughole attribute' redoes them with the data as it is.\n"
    "bootstrap: downloads the IANA RDAP bootstrap files (ipv4.json, ipv6.json)\n"
    "  --from URL        where from (default https://data.iana.org/rdap/)\n"
    "  --to DIR          where to (default: data/rdap)\n";

enum {
	OPT_ALL = 1,
	OPT_AGENCIES,
	OPT_RDAP,
	OPT_RDAP_BOOTSTRAP,
	OPT_RDAP_RATE,
	OPT_RDAP_TTL,
	OPT_RDAP_TIMEOUT
};

/* After a snapshot changed: the attributions it dropped (see store.h) wait to be redone. */
static void say_pending(struct store *store)
{
	struct store_attribution_counts counts;
	if (store_attribution_counts(store, &counts) == 0 && counts.pending > 0)
		log_info("%lld findings wait for 'plughole attribute' (again: the registry data changed)",
			 (long long)counts.pending);
}

#define PROGRESS_REDRAW 0.25 /* seconds between redraws of the progress line on a terminal */

/* The progress of a load or an attribution; log.c draws it (a terminal) or writes it every few seconds. */
struct attribute_progress {
	const char *what; /* the file loading */
	double started, drawn;
	char line[512];
};

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_start(struct attribute_progress *p, const char *what)
{
	*p = (struct attribute_progress){.what = what, .started = monotonic()};
	log_progress_begin(LOG_STATUS_INTERVAL);
}

/* Keeps line as the latest; shows it when the last redraw is old enough. */
static void progress_show(struct attribute_progress *p)
{
	double now = monotonic();
	if (now - p->drawn < PROGRESS_REDRAW)
		return;
	p->drawn = now;
	log_progress(p->line);
}

static void on_load_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct attribute_progress *p = ctx;
	double elapsed = monotonic() - p->started, mb = (double)done / 1e6;
	double rate = elapsed > 0 ? mb / elapsed : 0;
	if (total > 0)
		snprintf(p->line, sizeof p->line, "attribute load: %s: %.1f of %.1f MB (%.0f %%), %.0f MB/s, ETA %.0f s",
			 p->what, mb, (double)total / 1e6, 100.0 * (double)done / (double)total, rate,
			 rate > 0 ? ((double)total / 1e6 - mb) / rate : 0.0);
	else
		snprintf(p->line, sizeof p->line, "attribute load: %s: %.1f MB read, %.0f MB/s", p->what, mb, rate);
	progress_show(p);
}

static void on_assign_progress(void *ctx, size_t done, size_t total)
{
	struct attribute_progress *p = ctx;
	double elapsed = monotonic() - p->started;
	double rate = elapsed > 0 ? (double)done / elapsed : 0;
	snprintf(p->line, sizeof p->line, "attribute: %zu/%zu findings, %.0f/s, ETA %.0f s", done, total, rate,
		 rate > 0 ? (double)(total - done) / rate : 0.0);
	progress_show(p);
}

/* The last line stays (a terminal) or is written once more (otherwise), when one was shown. */
static void progress_finish(struct attribute_progress *p) { log_progress_end(p->line); }

static int attribute_load(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"source", required_argument, NULL, 's'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	const char *source = NULL, *format = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 's')
			source = optarg;
		else if (c == 'f')
			format = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind == argc)
		return command_usage_error("attribute", "load wants one or more FILEs");
	if (source != NULL && argc - optind > 1)
		return command_usage_error("attribute", "--source names one FILE's snapshot");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	int rc = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct attrib_load_stats s;
		struct attribute_progress progress;
		progress_start(&progress, argv[i]);
		struct attrib_load_progress report = {on_load_progress, &progress};
		int loaded = attrib_load_file(store, argv[i], source, format, &s, &report);
		progress_finish(&progress);
		if (loaded != 0) {
			rc = EXIT_FAILURE_;
			continue;
		}
		double seconds = s.parse_seconds + s.store_seconds;
		printf("%s: %s %s: %llu objects, %llu ranges, %llu handles, %llu malformed, %llu skipped;"
		       " %.1f MB in %.2f s (%.0f MB/s; parse %.2f s, store %.2f s)\n",
		       s.source, snap_kind_names[s.kind], s.registry[0] ? s.registry : "-",
		       (unsigned long long)s.objects, (unsigned long long)s.ranges,
		       (unsigned long long)s.keys, (unsigned long long)s.malformed,
		       (unsigned long long)s.skipped, (double)s.bytes / 1e6, seconds,
		       seconds > 0 ? (double)s.bytes / 1e6 / seconds : 0.0, s.parse_seconds, s.store_seconds);
	}
	say_pending(store);
	store_close(store);
	return rc;
}

static int attribute_sources(struct cli *cli, int argc, char **argv)
{
	return cli_print_rows(cli, "attribute sources", argc, argv, store_registry_each);
}

static int attribute_remove(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return command_usage_error("attribute", "remove wants one or more SOURCEs");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	int rc = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		int removed = store_registry_remove(store, argv[i]);
		if (removed <= 0) {
			if (removed == 0)
				fprintf(stderr, "plughole attribute: no source '%s'\n", argv[i]);
			rc = EXIT_FAILURE_;
		}
	}
	say_pending(store);
	store_close(store);
	return rc;
}

static int attribute_bootstrap(int argc, char **argv)
{
	static const struct option options[] = {
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	char dir[4096];
	const char *from = "https://data.iana.org/rdap/", *to = data_path("rdap", dir, sizeof dir);
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c == 'f')
			from = optarg;
		else if (c == 't')
			to = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind != argc)
		return command_usage_error("attribute", "bootstrap takes no operands");
	return rdap_bootstrap_fetch(from, to, 30) == 0 ? EXIT_OK : EXIT_FAILURE_;
}

int cmd_attribute(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && argv[1][0] != '-') {
		/* As main.c's command table: each sub-verb says how it opens the store. */
		static const struct {
			const char *name;
			int (*run)(struct cli *, int, char **);
			enum store_mode store;
		} subs[] = {
		    {"load", attribute_load, STORE_CREATE},
		    {"sources", attribute_sources, STORE_READ},
		    {"remove", attribute_remove, STORE_UPDATE},
		};
		cli_reset_getopt();
		if (strcmp(argv[1], "bootstrap") == 0)
			return attribute_bootstrap(argc - 1, argv + 1);
		for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
			if (strcmp(argv[1], subs[i].name) == 0) {
				cli->store_mode = subs[i].store;
				return subs[i].run(cli, argc - 1, argv + 1);
			}
		return command_usage_error("attribute", "'%s' is not load, sources, remove or bootstrap",
					   argv[1]);
	}
	static const struct option options[] = {
	    {"all", no_argument, NULL, OPT_ALL},
	    {"agencies", required_argument, NULL, OPT_AGENCIES},
	    {"rdap", no_argument, NULL, OPT_RDAP},
	    {"rdap-bootstrap", required_argument, NULL, OPT_RDAP_BOOTSTRAP},
	    {"rdap-rate", required_argument, NULL, OPT_RDAP_RATE},
	    {"rdap-ttl", required_argument, NULL, OPT_RDAP_TTL},
	    {"rdap-timeout", required_argument, NULL, OPT_RDAP_TIMEOUT},
	    {NULL, 0, NULL, 0},
	};
	struct attrib_assign_options o = {0};
	rdap_options_default(&o.rdap_options);
	int c, index;
	while ((c = getopt_long(argc, argv, "", options, &index)) != -1) {
		const char *why;
		switch (c) {
		case OPT_ALL:
			o.all = true;
			break;
		case OPT_AGENCIES:
			o.agencies_path = optarg;
			break;
		case OPT_RDAP:
			o.rdap = true;
			break;
		case OPT_RDAP_BOOTSTRAP:
		case OPT_RDAP_RATE:
		case OPT_RDAP_TTL:
		case OPT_RDAP_TIMEOUT:
			if (rdap_option_set(&o.rdap_options, options[index].name, optarg, &why) != 0)
				return command_usage_error("attribute", "--%s %s", options[index].name, why);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return command_usage_error("attribute", "takes no operands (did you mean 'attribute load'?)");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct attrib_assign_report r;
	cli_signals_catch(); /* a stop keeps what is resolved: RDAP runs are long */
	o.stop = o.rdap_options.stop = cli_stop_flag();
	struct attribute_progress progress;
	progress_start(&progress, NULL);
	o.on_progress = on_assign_progress;
	o.progress_ctx = &progress;
	int rc = attrib_assign(store, &o, &r);
	progress_finish(&progress);
	store_close(store);
	if (rc != 0)
		return EXIT_FAILURE_;
	if (r.stopped)
		printf("stopped: ");
	printf("attributed %zu of %zu findings (index: %zu ranges, %.1f MB, built in %.2f s; resolved in "
	       "%.2f s)\n",
	       r.attributed, r.findings, r.index_ranges, (double)r.index_bytes / 1e6, r.index_seconds,
	       r.resolve_seconds);
	for (int i = 0; i < RUNG_LAST; i++)
		if (r.by_rung[i] > 0)
			printf("  %-20s %zu\n", owner_rung_names[i], r.by_rung[i]);
	if (o.rdap)
		printf("  rdap: %lu queries, %lu cached, %lu not found, %lu rate-limited, %lu failed\n",
		       r.rdap.queries, r.rdap.cache_hits, r.rdap.not_found, r.rdap.rate_limited,
		       r.rdap.errors);
	return EXIT_OK;
}

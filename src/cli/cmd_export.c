/* plughole export dnsbl: the hosts proven open, as a zone for rbldnsd or BIND. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/util.h"
#include "export/dnsbl.h"
#include "track/campaign.h"

const char usage_export[] =
    "usage: plughole export dnsbl [--format rbldnsd|bind] [--zone NAME] [--ns NAME]\n"
    "                             [--verdicts LIST] [--output FILE] [--sql]\n"
    "\n"
    "A DNSBL of the hosts whose latest verdict proves them open: each address once\n"
    "(a host open on several ports: the reason of its most recent proof, and how\n"
    "many more ports), answering " DNSBL_LISTED_A " with a TXT reason naming the verdict,\n"
    "the port, the software and the UTC time of the last proof.\n"
    "  --format F      rbldnsd: a combined dataset (ip4set and ip6trie) for\n"
    "                  'rbldnsd ... ZONE:combined:FILE' (default); bind: a zone file\n"
    "                  with SOA, NS and reversed names (IPv6 in nibbles)\n"
    "  --zone NAME     the zone (default " DNSBL_ZONE_DEFAULT ")\n"
    "  --ns NAME       its name server, in SOA and NS (default " DNSBL_NS_DEFAULT ")\n"
    "  --verdicts LIST open-relay,open-proxy-mail,open-proxy-web (default: all three)\n"
    "  --output FILE   write there (replaced whole, never seen half-written);\n"
    "                  default: standard output\n"
    "  --sql           print the query the export runs (?1..?3: the verdicts,\n"
    "                  NULL for none) and stop: for a reference run in sqlite3\n"
    "Every export increases the zone's serial (YYYYMMDDnn, kept in the store).\n";

_Static_assert(ARRAY_SIZE(campaign_verdicts) <= STORE_DNSBL_VERDICTS_MAX,
	       "the export's query takes every open verdict");

/* The meta key of the last serial exported. */
#define SERIAL_KEY "dnsbl_serial"

struct export
{
	const struct dnsbl_format *format;
	struct dnsbl_writer writer;
	struct dnsbl_host host;
	uint64_t bad; /* stored addresses that do not parse: left out */
	const char *path;
};

static int write_held(struct export *x)
{
	char reason[DNSBL_REASON_MAX + 1];
	struct dnsbl_entry entry;
	if (!x->host.held)
		return 0;
	if (dnsbl_host_entry(&x->host, &entry, reason, sizeof reason) != 0) {
		char shown[ESCAPE_SIZE(ADDR_STRLEN)];
		log_warn("export dnsbl: the store's address '%s' is not an address: left out",
			 escape_text(shown, sizeof shown, x->host.address, x->host.address_len));
		x->bad++;
		return 0;
	}
	if (x->format->entry(&x->writer, &entry) != 0) {
		log_error("export dnsbl: writing %s: %s", x->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int on_row(void *ctx, const struct store_dnsbl_row *row)
{
	struct export *x = ctx;
	if (dnsbl_host_add(&x->host, row->address, row->address_len, row->verdict, row->port, row->software,
			   row->software_len, (time_t)row->proved) == 0)
		return 0;
	if (write_held(x) != 0)
		return -1;
	dnsbl_host_clear(&x->host);
	return dnsbl_host_add(&x->host, row->address, row->address_len, row->verdict, row->port,
			      row->software, row->software_len, (time_t)row->proved);
}

/* The next serial, stored before the zone is written: two exports never share one. */
static int next_serial(struct store *store, time_t now, uint32_t *serial)
{
	char text[32];
	if (store_begin(store) != 0)
		return -1;
	int found = store_meta_get(store, SERIAL_KEY, text, sizeof text);
	char *end = NULL;
	unsigned long previous = found == 1 ? strtoul(text, &end, 10) : 0;
	if (found < 0 || (found == 1 && (end == text || *end != '\0' || previous > UINT32_MAX))) {
		if (found == 1)
			log_error("export dnsbl: the stored serial '%.31s' is not a number", text);
		store_rollback(store);
		return -1;
	}
	*serial = dnsbl_serial_next((uint32_t)previous, now);
	snprintf(text, sizeof text, "%" PRIu32, *serial);
	if (store_meta_set(store, SERIAL_KEY, text) != 0) {
		store_rollback(store);
		return -1;
	}
	return store_commit(store);
}

/* Checks a domain name option and copies it without its final dot. */
static int name_option(const char *option, const char *value, char *out, size_t size)
{
	size_t len;
	const char *why = NULL;
	if (dnsbl_name_check(value, &len, &why) != 0 || len >= size) {
		char shown[ESCAPE_SIZE(64)];
		return command_usage_error("export dnsbl", "%s '%s': %s", option,
					   escape_text(shown, sizeof shown, value, strlen(value)),
					   why ? why : "too long");
	}
	memcpy(out, value, len);
	out[len] = '\0';
	return 0;
}

static int write_zone(struct export *x, struct store *store, const char *const *verdicts, size_t n)
{
	int rc = x->format->begin(&x->writer);
	if (rc == 0)
		rc = store_dnsbl_each(store, verdicts, n, on_row, x);
	if (rc == 0)
		rc = write_held(x);
	if (rc == 0)
		rc = x->format->end(&x->writer);
	if (rc == 0 && fflush(x->writer.out) != 0)
		rc = -1;
	if (rc != 0 && ferror(x->writer.out))
		log_error("export dnsbl: writing %s: %s", x->path, strerror(errno));
	x->format->release(&x->writer);
	return rc;
}

static int export_dnsbl(struct cli *cli, int argc, char **argv)
{
	enum { OPT_FORMAT = 1, OPT_ZONE, OPT_NS, OPT_VERDICTS, OPT_OUTPUT, OPT_SQL };
	static const struct option options[] = {
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"zone", required_argument, NULL, OPT_ZONE},
	    {"ns", required_argument, NULL, OPT_NS},
	    {"verdicts", required_argument, NULL, OPT_VERDICTS},
	    {"output", required_argument, NULL, OPT_OUTPUT},
	    {"sql", no_argument, NULL, OPT_SQL},
	    {NULL, 0, NULL, 0},
	};
	struct export x = {.format = &dnsbl_format_rbldnsd, .path = "standard output"};
	char zone[256], ns[256], shown[ESCAPE_SIZE(64)];
	unsigned mask = (1u << ARRAY_SIZE(campaign_verdicts)) - 1;
	const char *output = NULL;
	bool sql = false;
	int c;
	if (name_option("--zone", DNSBL_ZONE_DEFAULT, zone, sizeof zone) != 0 ||
	    name_option("--ns", DNSBL_NS_DEFAULT, ns, sizeof ns) != 0)
		return EXIT_FAILURE_;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		const char *bad;
		size_t badlen;
		switch (c) {
		case OPT_FORMAT:
			x.format = dnsbl_format_find(optarg);
			if (x.format == NULL)
				return command_usage_error(
				    "export dnsbl", "--format '%s': rbldnsd or bind",
				    escape_text(shown, sizeof shown, optarg, strlen(optarg)));
			break;
		case OPT_ZONE:
			if (name_option("--zone", optarg, zone, sizeof zone) != 0)
				return EXIT_USAGE;
			break;
		case OPT_NS:
			if (name_option("--ns", optarg, ns, sizeof ns) != 0)
				return EXIT_USAGE;
			break;
		case OPT_VERDICTS:
			if (campaign_verdicts_parse(optarg, &mask, &bad, &badlen) != 0)
				return command_usage_error(
				    "export dnsbl", "--verdicts: '%s' is not %s, %s or %s",
				    escape_text(shown, sizeof shown, bad, badlen), campaign_verdicts[0],
				    campaign_verdicts[1], campaign_verdicts[2]);
			break;
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_SQL:
			sql = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return command_usage_error("export dnsbl", "takes no operands");
	if (sql) {
		printf("%s;\n", store_dnsbl_sql());
		return EXIT_OK;
	}
	const char *verdicts[ARRAY_SIZE(campaign_verdicts)];
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(campaign_verdicts); i++)
		if (mask & (1u << i))
			verdicts[n++] = campaign_verdicts[i];

	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct dnsbl_zone z = {.name = zone, .ns = ns, .generated = time(NULL)};
	if (next_serial(store, z.generated, &z.serial) != 0) {
		store_close(store);
		return EXIT_FAILURE_;
	}
	/* a file is written beside its place and renamed over it: a server reloading
	 * it never reads half a zone */
	char tmp[4096];
	x.writer.out = stdout;
	x.writer.zone = &z;
	if (output != NULL) {
		x.path = output;
		if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", output, (long)getpid()) >= sizeof tmp ||
		    (x.writer.out = fopen(tmp, "w")) == NULL) {
			log_error("export dnsbl: %s: %s", output, errno ? strerror(errno) : "name too long");
			store_close(store);
			return EXIT_FAILURE_;
		}
	}
	static char buffer[1 << 20];
	setvbuf(x.writer.out, buffer, _IOFBF, sizeof buffer);
	int rc = write_zone(&x, store, verdicts, n);
	store_close(store);
	if (output != NULL) {
		if (fclose(x.writer.out) != 0 && rc == 0) {
			log_error("export dnsbl: writing %s: %s", output, strerror(errno));
			rc = -1;
		}
		if (rc == 0 && rename(tmp, output) != 0) {
			log_error("export dnsbl: %s: %s", output, strerror(errno));
			rc = -1;
		}
		if (rc != 0)
			unlink(tmp);
	}
	if (rc != 0)
		return EXIT_FAILURE_;
	log_info("export dnsbl: %" PRIu64 " host%s listed in %s (%s, serial %" PRIu32 ")%s", x.writer.entries,
		 x.writer.entries == 1 ? "" : "s", zone, x.format->name, z.serial,
		 x.bad ? ", some stored addresses left out (see above)" : "");
	return EXIT_OK;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return command_usage_error("export", "give dnsbl");
	cli_reset_getopt();
	if (strcmp(argv[1], "dnsbl") == 0)
		return export_dnsbl(cli, argc - 1, argv + 1);
	char shown[ESCAPE_SIZE(16)];
	return command_usage_error("export", "'%s' is not dnsbl",
				   escape_text(shown, sizeof shown, argv[1], strlen(argv[1])));
}

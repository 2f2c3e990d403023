/* plughole <verb> [options]: global options, then the command table. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/util.h"

static const struct command commands[] = {
	{"help", cmd_help, "show the verbs, or one verb's options", usage_help, STORE_READ, NULL},
	{"ingest", cmd_ingest, "take in candidate lists (scanner outputs, blocklists: the formats its --help lists)", usage_ingest,
	 STORE_CREATE, ingest_usage_formats},
	{"verify", cmd_verify, "prove which candidates are open relays and open proxies", usage_verify,
	 STORE_CREATE, verify_usage_modules},
	{"findings", cmd_findings, "list verdicts with their evidence", usage_findings, STORE_READ, NULL},
	/* attribute's own table (cmd_attribute.c) says how each of load, sources, remove opens it */
	{"attribute", cmd_attribute, "each finding's owner, abuse contact, AS, agency", usage_attribute,
	 STORE_UPDATE, NULL},
	{"owners", cmd_owners, "list the owners found, with their host counts", usage_owners, STORE_READ, NULL},
	/* with --rdap, whois writes the RDAP cache: cmd_whois.c asks for STORE_CREATE then */
	{"whois", cmd_whois, "show the whole attribution chain of an address", usage_whois, STORE_READ, NULL},
	{"token", cmd_token, "make a proof token for an address:port (tests, demos)", usage_token, STORE_READ, NULL},
	{"proofs", cmd_proofs, "list the proofs the sink has recorded", usage_proofs, STORE_READ, NULL},
	/* campaign's and suppress's own tables (cmd_campaign.c, cmd_suppress.c) say how each sub-verb opens it */
	{"campaign", cmd_campaign, "freeze proven findings into a campaign: owners, control group, letters",
	 usage_campaign, STORE_UPDATE, NULL},
	{"suppress", cmd_suppress, "addresses, domains and networks that never get letters", usage_suppress,
	 STORE_UPDATE, NULL},
	{"bounces", cmd_bounces, "read returned mail: bounces, auto-replies, unsubscribes", usage_bounces, STORE_UPDATE, NULL},
	{"recheck", cmd_recheck, "verify a campaign's hosts again (a round), on a schedule; owners' checks",
	 usage_recheck, STORE_UPDATE, NULL},
	{"serve", cmd_serve, "the owners' web: campaign page, guides, evidence, opt-out, dashboard", usage_serve,
	 STORE_READ, NULL},
	{"passwd", cmd_passwd, "write the admin password file of 'serve'", usage_passwd, STORE_READ, NULL},
	/* UPDATE: every export stores the zone's serial */
	{"export", cmd_export, "the hosts proven open as a DNSBL zone (rbldnsd, BIND)", usage_export, STORE_UPDATE, NULL},
	{"report", cmd_report, "what the letters caused: remediation of treatment against control", usage_report,
	 STORE_READ, NULL},
	{"sink", cmd_sink, "receive test messages and record the proofs they carry", usage_sink, STORE_CREATE, NULL},
};

const char global_usage[] =
	"usage: plughole [--db PATH] [--config FILE] [-v|-q] <verb> [options]\n"
	"       plughole --help | --version\n"
	"\n"
	"global options:\n"
	"  --db PATH       the store (default ./plughole.db, or $PLUGHOLE_DB); verbs that\n"
	"                  only read it want it to exist\n"
	"  --config FILE   INI file with settings: 'plughole help --config-example' prints\n"
	"                  every key with its default (plughole.conf.example in\n"
	"                  the data directory)\n"
	"  -v, -q          more or less logging\n"
	"  -h, --help      this text;  --version  plughole's version\n"
	"\n"
	"environment:\n"
	"  PLUGHOLE_DB     the store, when --db is not given\n"
	"  PLUGHOLE_DATA   the data directory (exclude.conf, agencies.conf, rdap/, the\n"
	"                  example config); default: share/plughole beside the\n"
	"                  binary's bin/ when installed, else the source tree's data/\n"
	"\n"
	"exit status: 0 done, 1 failed, 2 usage error, 130 stopped by SIGINT\n";

const struct command *command_at(size_t i) { return i < ARRAY_SIZE(commands) ? &commands[i] : NULL; }

const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void command_print_usage(const struct command *command, FILE *out)
{
	fprintf(out, "plughole %s: %s\n\n%s", command->name, command->summary, command->usage);
	if (command->usage_tables != NULL)
		command->usage_tables(out); /* from the verb's table: one source */
}

void commands_print_all(FILE *out)
{
	fputs(global_usage, out);
	fputs("\nverbs:\n", out);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	char example[4096];
	fprintf(out, "\n'plughole help VERB' or 'plughole VERB --help' shows a verb's options.\n"
		     "Settings, each with its default: %s\n",
		data_path("plughole.conf.example", example, sizeof example));
}

int command_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "plughole %s: ", verb);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see 'plughole %s --help')\n", verb);
	va_end(ap);
	return EXIT_USAGE;
}

struct store *cli_open_store(struct cli *cli) { return store_open_mode(cli->config.db, cli->store_mode); }

int cli_print_rows(struct cli *cli, const char *verb, int argc, char **argv,
		   int (*each)(struct store *store, store_row_fn fn, void *ctx))
{
	static const struct option options[] = {
		{"format", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	enum output_format format = OUTPUT_TSV;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c != 'f')
			return EXIT_USAGE;
		if (output_format_parse(optarg, &format) != 0)
			return command_usage_error(verb, "unknown format '%s' (" OUTPUT_FORMATS ")", optarg);
	}
	if (optind != argc)
		return command_usage_error(verb, "takes no operands");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct output out;
	output_begin(&out, format, stdout);
	int rc = each(store, output_row, &out);
	output_end(&out);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

void cli_reset_getopt(void) { optind = 0; /* glibc: 0 also resets its internal state */ }

/* Removes the global options from argv wherever they stand before "--". */
static int apply_global_options(struct cli *cli, int *argc, char **argv)
{
	const char *db = getenv("PLUGHOLE_DB");
	const char *config_file = NULL;
	int level = LOG_INFO, kept = 1;
	for (int i = 1; i < *argc; i++) {
		const char *arg = argv[i];
		const char **slot = NULL;
		if (strcmp(arg, "--") == 0) {
			while (i < *argc)
				argv[kept++] = argv[i++];
			break;
		}
		if (strcmp(arg, "--db") == 0)
			slot = &db;
		else if (strcmp(arg, "--config") == 0)
			slot = &config_file;
		else if (strncmp(arg, "--db=", 5) == 0)
			db = arg + 5;
		else if (strncmp(arg, "--config=", 9) == 0)
			config_file = arg + 9;
		else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)
			level++;
		else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)
			level--;
		else {
			argv[kept++] = argv[i];
			continue;
		}
		if (slot != NULL) {
			if (++i == *argc) {
				fprintf(stderr, "plughole: %s needs a value\n%s", arg, global_usage);
				return -1;
			}
			*slot = argv[i];
		}
	}
	argv[kept] = NULL;
	*argc = kept;
	log_set_level(level < LOG_QUIET ? LOG_QUIET : level > LOG_DEBUG ? LOG_DEBUG : (enum log_level)level);
	config_defaults(&cli->config);
	cli->config_path = config_file;
	if (config_file != NULL && config_load(&cli->config, config_file) != 0)
		return -1;
	if (db != NULL && *db != '\0' && config_set(&cli->config, "store", "db", db) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	if (apply_global_options(&cli, &argc, argv) != 0) {
		config_free(&cli.config);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		commands_print_all(stderr);
		config_free(&cli.config);
		return EXIT_USAGE;
	}
	const struct command *command = command_find(argv[1]);
	int rc;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		commands_print_all(stdout);
		rc = EXIT_OK;
	} else if (strcmp(argv[1], "--version") == 0) {
		printf("plughole %s\n", PLUGHOLE_VERSION);
		rc = EXIT_OK;
	} else if (command == NULL) {
		fprintf(stderr, "plughole: '%s' is not a verb\n\n", argv[1]);
		commands_print_all(stderr);
		rc = EXIT_USAGE;
	} else if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		command_print_usage(command, stdout);
		rc = EXIT_OK;
	} else {
		cli.store_mode = command->store;
		cli_reset_getopt();
		rc = command->run(&cli, argc - 1, argv + 1);
		if (cli_stopped_by() == SIGINT)
			rc = EXIT_INTERRUPTED; /* stopped cleanly, but not done */
	}
	config_free(&cli.config);
	return rc;
}

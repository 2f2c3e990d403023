/*
 * plughole campaign create|list|show: a frozen selection of proven findings,
 * their owners, the control group and one letter per treated owner.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attrib/agencies.h"
#include "cli/campaign_letters.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "core/paths.h"
#include "track/campaign.h"
#include "core/util.h"

const char usage_campaign[] =
    "usage: plughole campaign create NAME [--verdicts LIST] [--control FRACTION] [--seed N]\n"
    "                [--agency CODE]... [--country CC]... [--domain DOMAIN] [--agencies FILE]\n"
    "       plughole campaign list [--format tsv|csv|json]\n"
    "       plughole campaign show NAME [--format tsv|csv|json]\n"
    "       plughole campaign preview NAME [--owner X] [--maildir DIR | --eml DIR]\n"
    "       plughole campaign send NAME --smtp smtp[s]://HOST:PORT [--user U --password-file F]\n"
    "                [--rate PER_MINUTE] [--per-domain PER_MINUTE] [--require-tls] [--smtp-ca FILE]\n"
    "                [--retry-after SECONDS] [--helo NAME] [--resolve-sending=sent|resend]\n"
    "\n"
    "create: freezes the findings whose latest verdict is open and proven (a proof\n"
    "bound to the verdict's own run) with their owners, contacts, countries,\n"
    "agencies, AS, software, variant or protocol, proof time and token as they are\n"
    "now: a later 'attribute' or 'verify' leaves the campaign as it was. Findings\n"
    "without an attribution are skipped and counted ('plughole attribute' first);\n"
    "when none qualifies, no campaign is made (exit 1).\n"
    "Each owner of the treatment group gets one letter (state queued) with a ticket,\n"
    "the key of its evidence URL and a Message-ID <TICKET.NAME@DOMAIN>; one whose\n"
    "contact, domain or every host is suppressed ('plughole suppress') gets a\n"
    "suppressed letter naming the rule. NAME: 1-64 letters, digits, '-' or '_'.\n"
    "  --verdicts LIST    comma separated, of open-relay, open-proxy-mail,\n"
    "                     open-proxy-web (default: all three)\n"
    "  --control FRACTION share of owners held out as the control group: no letter,\n"
    "                     rechecked like the others (0 <= FRACTION < 1, default 0).\n"
    "                     Drawn per stratum (the owner's majority country and\n"
    "                     verdict), reproducibly for a seed\n"
    "  --seed N           the draw's seed (0 <= N < 2^63; default random, printed)\n"
    "  --agency CODE      only findings routed to this agency (id or short name in\n"
    "                     the agencies file); repeatable\n"
    "  --country CC       only findings in this country (ISO 3166 alpha-2); repeatable\n"
    "  --domain DOMAIN    the campaign's mail domain, of Message-IDs and bounce\n"
    "                     addresses (default: [sink] domain of the configuration)\n"
    "  --agencies FILE    the agencies (default: data/agencies.conf)\n"
    "\n"
    "list: one row per campaign; TSV columns: name, created, hosts, owners,\n"
    "  treatment, control, letters queued, sending, sent, deferred, failed,\n"
    "  bounced, suppressed, skipped, control_fraction, seed, verdicts.\n"
    "show: one row per frozen host; TSV columns: owner, organisation, contact,\n"
    "  owner_country, group, letter (state, '-' for the control group), ticket,\n"
    "  recipient, reason (why a letter is skipped), address, port, verdict,\n"
    "  variant, protocol, software, proved,\n"
    "  country, agency, asn, token, suppressed_by, chain (the contact and its\n"
    "  rung, then the further rungs attribute found, \" > \" between them: a bounce\n"
    "  or a 5xx moves the owner's letter to the next, then to the agency's\n"
    "  national contact).\n"
    "preview: the letters still to send (queued, deferred) made into their messages,\n"
    "  exactly as send would build them: without a target the first two on stdout,\n"
    "  readable (header, then the text decoded); --maildir DIR delivers every one\n"
    "  into a Maildir (DIR/new), --eml DIR writes DIR/TICKET.eml. --owner X: only\n"
    "  that owner's letters, whatever their state (its organisation, a ticket, or\n"
    "  its number in 'campaign show'). Evidence pages are under [web] public_url.\n"
    "send: submits the queued letters (and the deferred ones whose back-off is over)\n"
    "  through the smarthost ([campaign] smtp by default) with the VERP return path\n"
    "  bounces+TICKET@DOMAIN; smtp:// tries STARTTLS (--require-tls: must), smtps://\n"
    "  is TLS; AUTH with --user. The smarthost's certificate is always verified,\n"
    "  against the system's CAs or --smtp-ca FILE ([campaign] smtp_ca). Before the\n"
    "  first letter a session is opened and closed: a refused login, an untrusted\n"
    "  certificate, no STARTTLS with --require-tls or no connection end the run\n"
    "  with every letter as it was (exit 1). --rate and --per-domain: letters a\n"
    "  minute, in all and to one recipient domain (0 or absent: no limit). 4xx\n"
    "  defers (next try after --retry-after, 300 s, doubled each time, failed\n"
    "  after 10), 5xx fails.\n"
    "  Suppression is checked again. A letter left in 'sending' by a killed send\n"
    "  is never resent by itself: send lists it and stops until you look its\n"
    "  Message-ID up in the smarthost's log and give --resolve-sending=sent (it\n"
    "  went) or --resolve-sending=resend (it did not).\n";

/* A malformed value (operand or option value): exit 1, as README says; usage errors are 2. */
static int bad_value(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_value(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "plughole %s: ", verb);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_FAILURE_;
}

/* Prints rows, with the epoch columns named here written as UTC times. */
struct timed_output {
	struct output out;
};

static void timed_row(void *ctx, const struct store_row *row)
{
	struct timed_output *t = ctx;
	char times[4][32];
	const char *shown[32];
	enum store_value_type types[32];
	int converted = 0, n = row->count < 32 ? row->count : 32;
	if (row->values == NULL) {
		output_row(&t->out, row);
		return;
	}
	for (int i = 0; i < n; i++) {
		shown[i] = row->values[i];
		types[i] = row->types[i];
		if (row->values[i] && converted < 4 &&
		    (strcmp(row->names[i], "created") == 0 || strcmp(row->names[i], "proved") == 0)) {
			time_t when = (time_t)strtoll(row->values[i], NULL, 10);
			struct tm tm;
			if (gmtime_r(&when, &tm) &&
			    strftime(times[converted], sizeof times[0], "%Y-%m-%dT%H:%M:%SZ", &tm)) {
				shown[i] = times[converted++];
				types[i] = STORE_TEXT;
			}
		}
	}
	struct store_row timed = {.count = n, .names = row->names, .values = shown, .types = types};
	output_row(&t->out, &timed);
}

static int parse_format(const char *verb, const char *text, enum output_format *format)
{
	if (output_format_parse(text, format) != 0) {
		char shown[64];
		return command_usage_error(verb, "unknown format '%s'",
					   escape_text(shown, sizeof shown, text, strlen(text)));
	}
	return 0;
}

static int campaign_list(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {{"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	enum output_format format = OUTPUT_TSV;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1)
		if (c != 'f' || parse_format("campaign list", optarg, &format) != 0)
			return EXIT_USAGE;
	if (optind != argc)
		return command_usage_error("campaign list", "takes no operands");
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	struct timed_output t;
	output_begin(&t.out, format, stdout);
	int rc = store_campaigns_each(store, timed_row, &t);
	output_end(&t.out);
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

static int campaign_show(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {{"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	enum output_format format = OUTPUT_TSV;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1)
		if (c != 'f' || parse_format("campaign show", optarg, &format) != 0)
			return EXIT_USAGE;
	if (optind + 1 != argc)
		return command_usage_error("campaign show", "give one campaign NAME");
	const char *name = argv[optind];
	char shown[3 * CAMPAIGN_NAME_MAX + 8];
	escape_text(shown, sizeof shown, name, strlen(name));
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	int64_t id = store_campaign_id(store, name);
	int rc = -1;
	if (id == 0)
		log_error("campaign show: no campaign '%s' ('plughole campaign list' lists them)", shown);
	if (id > 0) {
		struct timed_output t;
		output_begin(&t.out, format, stdout);
		rc = store_campaign_hosts_each(store, id, timed_row, &t);
		output_end(&t.out);
	}
	store_close(store);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}

static void print_skipped(void *ctx, const char *address, uint16_t port, const char *why)
{
	size_t *shown = ctx;
	if ((*shown)++ < 20)
		log_warn("campaign create: skipped %s:%u: %s", address, port, why);
}

enum { OPT_VERDICTS = 1, OPT_CONTROL, OPT_SEED, OPT_AGENCY, OPT_COUNTRY, OPT_DOMAIN, OPT_AGENCIES };

static int campaign_create_cmd(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"verdicts", required_argument, NULL, OPT_VERDICTS},
	    {"control", required_argument, NULL, OPT_CONTROL},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"agency", required_argument, NULL, OPT_AGENCY},
	    {"country", required_argument, NULL, OPT_COUNTRY},
	    {"domain", required_argument, NULL, OPT_DOMAIN},
	    {"agencies", required_argument, NULL, OPT_AGENCIES},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "campaign create";
	struct campaign_options o = {.verdicts = 7, .now = time(NULL)};
	const char *agency_codes[CAMPAIGN_MAX_FILTERS], *agencies_path = NULL;
	size_t agency_codes_count = 0;
	bool seeded = false;
	char shown[256];
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end = NULL;
		const char *bad;
		size_t badlen;
		if (c != '?' && c != ':')
			escape_text(shown, sizeof shown, optarg, strlen(optarg));
		switch (c) {
		case OPT_VERDICTS:
			if (campaign_verdicts_parse(optarg, &o.verdicts, &bad, &badlen) != 0)
				return bad_value(verb,
						 "'%s' is not open-relay, open-proxy-mail or open-proxy-web",
						 escape_text(shown, sizeof shown, bad, badlen));
			break;
		case OPT_CONTROL:
			errno = 0;
			o.control = strtod(optarg, &end);
			if (errno || end == optarg || *end != '\0' || !isfinite(o.control) || o.control < 0 ||
			    o.control >= 1)
				return bad_value(verb, "--control wants a fraction, 0 <= F < 1, not '%s'",
						 shown);
			break;
		case OPT_SEED: {
			errno = 0;
			unsigned long long seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    seed >= (1ull << 63))
				return bad_value(verb, "--seed wants 0 <= N < 2^63, not '%s'", shown);
			o.seed = seed;
			seeded = true;
			break;
		}
		case OPT_AGENCY:
			if (agency_codes_count == CAMPAIGN_MAX_FILTERS)
				return command_usage_error(verb, "at most %d --agency", CAMPAIGN_MAX_FILTERS);
			agency_codes[agency_codes_count++] = optarg;
			break;
		case OPT_COUNTRY:
			if (strlen(optarg) != 2 || !isalpha((unsigned char)optarg[0]) ||
			    !isalpha((unsigned char)optarg[1]))
				return bad_value(verb, "--country wants an ISO 3166 alpha-2 code, not '%s'",
						 shown);
			if (o.country_count == CAMPAIGN_MAX_FILTERS)
				return command_usage_error(verb, "at most %d --country",
							   CAMPAIGN_MAX_FILTERS);
			o.countries[o.country_count][0] = (char)toupper((unsigned char)optarg[0]);
			o.countries[o.country_count][1] = (char)toupper((unsigned char)optarg[1]);
			o.countries[o.country_count++][2] = '\0';
			break;
		case OPT_DOMAIN:
			o.domain = optarg;
			break;
		case OPT_AGENCIES:
			agencies_path = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return command_usage_error(verb, "give one campaign NAME");
	o.name = argv[optind];
	if (!campaign_name_valid(o.name))
		return bad_value(verb, "'%s' is not a campaign name (1-64 letters, digits, '-', '_')",
				 escape_text(shown, sizeof shown, o.name, strlen(o.name)));
	if (o.domain == NULL)
		o.domain = cli->config.sink_domain;
	if (o.domain == NULL)
		return command_usage_error(
		    verb, "give the campaign's mail --domain (or [sink] domain in the configuration)");
	const char *why = NULL;
	if (mailbox_domain_check(o.domain, strlen(o.domain), &why) != 0)
		return bad_value(verb, "--domain '%s': %s",
				 escape_text(shown, sizeof shown, o.domain, strlen(o.domain)), why);
	if (!seeded) {
		uint8_t b[8];
		if (RAND_bytes(b, sizeof b) != 1)
			return EXIT_FAILURE_;
		for (size_t i = 0; i < sizeof b; i++)
			o.seed = o.seed << 8 | b[i];
		o.seed >>= 1; /* below 2^63 */
	}

	struct agencies agencies = {0};
	char path[4096];
	if (agencies_load(&agencies,
			  agencies_path ? agencies_path : data_path("agencies.conf", path, sizeof path)) != 0)
		return EXIT_FAILURE_;
	int rc = EXIT_FAILURE_;
	for (size_t i = 0; i < agency_codes_count; i++) {
		const struct agency *a = agencies_find(&agencies, agency_codes[i]);
		if (a == NULL) {
			rc = bad_value(
			    verb, "no agency '%s' in the agencies file",
			    escape_text(shown, sizeof shown, agency_codes[i], strlen(agency_codes[i])));
			agencies_free(&agencies);
			return rc;
		}
		o.agencies[o.agency_count++] = a->short_name; /* as attribute stores it */
	}
	/* what each agency's letters take: its language and template */
	struct campaign_agency *routes = calloc(agencies.count ? agencies.count : 1, sizeof *routes);
	if (routes == NULL) {
		agencies_free(&agencies);
		return EXIT_FAILURE_;
	}
	for (size_t i = 0; i < agencies.count; i++)
		routes[i] = (struct campaign_agency){agencies.list[i].short_name, agencies.list[i].language,
						     agencies.list[i].template_name};
	o.routes = routes;
	o.route_count = agencies.count;
	struct token_secret secret;
	struct store *store = NULL;
	if (token_secret_load(&secret, config_secret_path(&cli->config, path, sizeof path)) != 0 ||
	    (store = cli_open_store(cli)) == NULL) {
		free(routes);
		agencies_free(&agencies);
		return EXIT_FAILURE_;
	}
	struct campaign_summary s;
	size_t skipped_shown = 0;
	int created = campaign_create(store, &o, &secret, &s, print_skipped, &skipped_shown);
	if (created == CAMPAIGN_EXISTS)
		log_error("campaign create: a campaign '%s' exists already ('plughole campaign show %s')",
			  o.name, o.name);
	if (created == 0) {
		printf("campaign %s: %zu hosts of %zu owners frozen\n", o.name, s.hosts, s.owners);
		printf("  treatment: %zu owners, %zu letters queued, %zu suppressed (%zu hosts suppressed in "
		       "all)",
		       s.treatment, s.letters_queued, s.letters_suppressed, s.hosts_suppressed);
		if (s.letters_skipped)
			printf(", %zu skipped (a contact that is no mailbox: 'campaign show' says which)",
			       s.letters_skipped);
		printf("\n  control:   %zu owners (fraction %g, seed %llu)\n", s.control, o.control,
		       (unsigned long long)o.seed);
	}
	if (created == 0 || created == CAMPAIGN_EMPTY) {
		FILE *out = created == 0 ? stdout : stderr;
		if (s.filtered)
			fprintf(out, "  left out:  %zu findings outside --agency/--country\n", s.filtered);
		if (s.unattributed)
			fprintf(out,
				"  skipped:   %zu findings without an attribution: run 'plughole attribute' "
				"first\n",
				s.unattributed);
		if (s.unproven)
			fprintf(
			    out,
			    "  skipped:   %zu open findings that no proof binds to (nothing proves them)\n",
			    s.unproven);
		if (skipped_shown > 20)
			log_warn("campaign create: %zu more skipped", skipped_shown - 20);
	}
	if (created == CAMPAIGN_EMPTY)
		log_error("campaign create: no proven, attributed finding qualifies: no campaign '%s' made",
			  o.name);
	if (created == 0)
		rc = EXIT_OK;
	store_close(store);
	free(routes);
	agencies_free(&agencies);
	return rc;
}

int cmd_campaign(struct cli *cli, int argc, char **argv)
{
	/* As main.c's command table: each sub-verb says how it opens the store. */
	static const struct {
		const char *name;
		int (*run)(struct cli *, int, char **);
		enum store_mode store;
	} subs[] = {
	    {"create", campaign_create_cmd, STORE_UPDATE},
	    {"list", campaign_list, STORE_READ},
	    {"show", campaign_show, STORE_READ},
	    {"preview", campaign_preview, STORE_READ},
	    {"send", campaign_send, STORE_UPDATE},
	};
	if (argc < 2)
		return command_usage_error("campaign", "give create, list, show, preview or send");
	cli_reset_getopt();
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			cli->store_mode = subs[i].store;
			return subs[i].run(cli, argc - 1, argv + 1);
		}
	char shown[64];
	return command_usage_error("campaign", "'%s' is not create, list, show, preview or send",
				   escape_text(shown, sizeof shown, argv[1], strlen(argv[1])));
}

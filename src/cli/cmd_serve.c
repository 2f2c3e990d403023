/* plughole serve: the owners' web (issue 14), on libmicrohttpd (src/web/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "core/addr.h"
#include "core/exclude.h"
#include "core/paths.h"
#include "core/util.h"
#include "track/owner_check.h"
#include "web/web.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char usage_serve[] =
	"usage: plughole serve --listen ADDR:PORT [--public-url URL] [--tls-cert FILE --tls-key FILE]\n"
	"                      [--admin-password-file FILE] [--campaign NAME] [--trusted-proxy ADDR]\n"
	"                      [--threads N] [--checks [--check-ports P,...] [--check-log FILE]\n"
	"                      [-- VERIFY OPTIONS]]\n"
	"\n"
	"The owners' web: the campaign's page (/), the fix guides (/guides/NAME), each\n"
	"letter's evidence page (/t/TICKET/KEY), its one-click opt-out\n"
	"(/t/TICKET/KEY/unsubscribe, RFC 8058) and the operator's dashboard (/admin).\n"
	"Runs until SIGINT or SIGTERM; reads the store beside the other verbs.\n"
	"  --listen ADDR:PORT          where to answer ([V6]:PORT for IPv6)\n"
	"  --public-url URL            the address the letters name (default: [web] public_url)\n"
	"  --tls-cert FILE, --tls-key FILE   PEM certificate and key: HTTPS (both or neither)\n"
	"  --admin-password-file FILE  enables /admin: a hash made by 'plughole passwd FILE'\n"
	"  --campaign NAME             the campaign the pages are about (default: the newest)\n"
	"  --trusted-proxy ADDR        the one peer whose X-Forwarded-For names the client\n"
	"  --threads N                 worker threads (default " STR(WEB_THREADS) ")\n"
	"  --checks                    offer owners' checks: \"test again now\" on each ticket page\n"
	"                              and /check (\"test my own server\": the requesting address\n"
	"                              only); each runs 'plughole recheck' in a process of its own\n"
	"                              with the VERIFY OPTIONS after '--' (the sink, timeouts, the\n"
	"                              exclusions: see 'plughole verify --help')\n"
	"  --check-ports P,...         (tests) the ports /check tests instead of the usual ones\n"
	"  --check-log FILE            where the checks' processes write (default: nowhere)\n"
	"Limits: request bodies of " STR(WEB_MAX_BODY) " bytes (413), " STR(WEB_MAX_HEADERS)
	" header lines (431), " STR(WEB_CONNECTION_TIMEOUT) " s idle per connection;\n"
	STR(WEB_LOGIN_FAILURES) " failed logins from an address lock it out for " STR(WEB_LOGIN_WINDOW) " s.\n";

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"listen", required_argument, NULL, 'l'},
		{"public-url", required_argument, NULL, 'u'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"admin-password-file", required_argument, NULL, 'a'},
		{"campaign", required_argument, NULL, 'C'},
		{"trusted-proxy", required_argument, NULL, 'p'},
		{"threads", required_argument, NULL, 't'},
		{"checks", no_argument, NULL, 'K'},
		{"check-ports", required_argument, NULL, 'P'},
		{"check-log", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	char data[4096];
	struct web_options o = {
		.db = cli->config.db,
		.data_dir = data_path("", data, sizeof data),
		.public_url = cli->config.web_public_url,
		.operator_name = cli->config.operator_name,
		.operator_contact = cli->config.operator_contact,
		.threads = WEB_THREADS,
	};
	bool checks = false;
	const char *check_ports = NULL, *check_log = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'u': o.public_url = optarg; break;
		case 'c': o.tls_cert = optarg; break;
		case 'k': o.tls_key = optarg; break;
		case 'a': o.admin_password_file = optarg; break;
		case 'C': o.campaign = optarg; break;
		case 'p': o.trusted_proxy = optarg; break;
		case 't': {
			char *end = NULL;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || n < 1 || n > 256)
				return command_usage_error("serve", "--threads takes 1 to 256");
			o.threads = (unsigned)n;
			break;
		}
		case 'K': checks = true; break;
		case 'P': check_ports = optarg; break;
		case 'L': check_log = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc && (!checks || strcmp(argv[optind - 1], "--") != 0))
		return command_usage_error("serve", "takes no operands (verify options for --checks follow '--')");
	if (!checks && (check_ports != NULL || check_log != NULL))
		return command_usage_error("serve", "--check-ports and --check-log go with --checks");
	if (o.listen == NULL)
		return command_usage_error("serve", "say where to answer with --listen ADDR:PORT");
	if ((o.tls_cert == NULL) != (o.tls_key == NULL))
		return command_usage_error("serve", "--tls-cert and --tls-key go together");
	uint16_t ports[16] = {0};
	for (size_t n = 0; check_ports != NULL && *check_ports;) {
		size_t len = strcspn(check_ports, ",");
		if (n + 1 == ARRAY_SIZE(ports) || port_parse(check_ports, len, &ports[n]) != 0 || ports[n] == 0)
			return command_usage_error("serve", "--check-ports: up to %zu ports, comma separated",
						   ARRAY_SIZE(ports) - 1);
		n++;
		check_ports += len + (check_ports[len] == ',');
	}
	/* the checks' exclusions, as verify applies them (an excluded address is refused, untested) */
	struct exclusion_list exclusions;
	exclusion_init(&exclusions);
	const char *exclude_files[EXCLUDE_FILES_MAX];
	size_t exclude_count = 0;
	bool allow_loopback = false;
	for (int i = optind; i < argc; i++) {
		allow_loopback |= strcmp(argv[i], "--allow-loopback") == 0;
		if (strcmp(argv[i], "--exclude-file") == 0 && i + 1 < argc && exclude_count < EXCLUDE_FILES_MAX)
			exclude_files[exclude_count++] = argv[i + 1];
	}
	/* the verify options, NULL-terminated (argv is) */
	struct owner_check_options check_options = {
		.db_path = cli->config.db,
		.config_path = cli->config_path,
		.verify_args = (const char *const *)argv + optind,
		.exclusions = &exclusions,
		.log_path = check_log,
		.ports = ports[0] ? ports : NULL,
	};
	int rc = EXIT_FAILURE_;
	if (checks) {
		if (exclusion_load_defaults(&exclusions, cli->config.optout, allow_loopback) != 0 ||
		    exclusion_load_files(&exclusions, exclude_files, exclude_count) != 0)
			goto out;
		o.checks = &check_options;
	}
	cli_signals_catch();
	rc = web_serve(&o, cli_stop_flag()) == 0 ? EXIT_OK : EXIT_FAILURE_;
out:
	exclusion_free(&exclusions);
	return rc;
}

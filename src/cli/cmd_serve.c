/* plughole serve: the owners' web (issue 14), on libmicrohttpd (src/web/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "core/paths.h"
#include "web/web.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char usage_serve[] =
	"usage: plughole serve --listen ADDR:PORT [--public-url URL] [--tls-cert FILE --tls-key FILE]\n"
	"                      [--admin-password-file FILE] [--campaign NAME] [--trusted-proxy ADDR]\n"
	"                      [--threads N]\n"
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
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return command_usage_error("serve", "takes no operands");
	if (o.listen == NULL)
		return command_usage_error("serve", "say where to answer with --listen ADDR:PORT");
	if ((o.tls_cert == NULL) != (o.tls_key == NULL))
		return command_usage_error("serve", "--tls-cert and --tls-key go together");
	cli_signals_catch();
	return web_serve(&o, cli_stop_flag()) == 0 ? EXIT_OK : EXIT_FAILURE_;
}

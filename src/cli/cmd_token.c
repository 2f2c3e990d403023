/* plughole token ADDRESS:PORT [--test N] [--time T]: make a proof token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/token.h"

const char usage_token[] =
	"usage: plughole token [--test N] [--time UNIXTIME] ADDRESS[:PORT]\n"
	"\n"
	"Prints the token a probe of ADDRESS:PORT (port 25 when none is given)\n"
	"would carry, made with this store's secret and the configured campaign.\n"
	"Tests and demos use it to send the sink a message as a relay would.\n"
	"Its tokens prove nothing: the sink records a message carrying one, but a\n"
	"proof counts only when its token is that of a test message verify sent\n"
	"(and recorded); 'plughole proofs' lists the others as unmatched.\n"
	"\n"
	"  --test N         test number carried in the token (0..255, default 0)\n"
	"  --time UNIXTIME  time carried in the token (default now)\n";

int cmd_token(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"test", required_argument, NULL, 't'},
		{"time", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	long test = 0;
	long long when = (long long)time(NULL);
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end;
		switch (c) {
		case 't':
			test = strtol(optarg, &end, 10);
			if (*end != '\0' || test < 0 || test > 255)
				return command_usage_error("token", "--test wants 0..255, not '%s'", optarg);
			break;
		case 'T':
			when = strtoll(optarg, &end, 10);
			if (*end != '\0' || when < 0 || when > UINT32_MAX)
				return command_usage_error("token", "--time wants seconds since 1970, not '%s'", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return command_usage_error("token", "give one ADDRESS[:PORT]");
	struct addr address;
	uint16_t port;
	const char *why = NULL;
	if (addr_port_parse(argv[optind], strlen(argv[optind]), &address, &port, &why) != 0)
		return command_usage_error("token", "%s: %s", argv[optind], why);
	struct token_secret secret;
	char path[4096], token[TOKEN_MAX_LEN];
	if (token_secret_load(&secret, config_secret_path(&cli->config, path, sizeof path)) != 0)
		return EXIT_FAILURE_;
	token_make(&secret, (uint16_t)cli->config.campaign, &address, port ? port : 25, (uint8_t)test,
		   (uint32_t)when, token);
	printf("%s\n", token);
	return EXIT_OK;
}

/* plughole sink --listen ADDR:PORT --domain DOMAIN [--target ADDR:PORT]...: run the proof sink. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "core/log.h"
#include "core/token.h"
#include "sink/sink.h"

const char usage_sink[] =
    "usage: plughole sink [--listen ADDR:PORT]... [--domain DOMAIN] [--target ADDR:PORT]...\n"
    "                     [--max-message BYTES] [--max-sessions N] [--idle-timeout SECONDS]\n"
    "\n"
    "Receives the test messages relays and proxies pass on, and records each\n"
    "genuine token as proof in the store; forged tokens are counted and kept\n"
    "apart. Mail is taken only for DOMAIN and its subdomains: the sink never\n"
    "relays. Runs until SIGINT or SIGTERM, then prints its counters.\n"
    "Defaults come from the [sink] section of the config; options override it.\n"
    "\n"
    "  --listen ADDR:PORT    SMTP address, IPv4 or [IPv6]; repeatable; port 0 picks one\n"
    "  --domain DOMAIN       the sink's mail domain\n"
    "  --target ADDR:PORT    plain TCP target (banner with a nonce; HTTP page); repeatable\n"
    "  --max-message BYTES   largest message kept (default 1048576); larger ones get 552\n"
    "  --max-sessions N      open connections at most (default 1000); more get 421\n"
    "  --idle-timeout S      seconds of silence before a session is closed (default 60)\n";

/* A number option within the config's own bounds, written through the config so the bounds apply once. */
static int set_number(struct cli *cli, const char *name, const char *value)
{
	return config_set(&cli->config, "sink", name, value) == 0 ? 0 : -1;
}

static int run_sink(struct cli *cli, struct sink_options *opts)
{
	struct token_secret secret;
	char path[4096];
	if (token_secret_load(&secret, config_secret_path(&cli->config, path, sizeof path)) != 0)
		return EXIT_FAILURE_;
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	int rc = EXIT_FAILURE_;
	struct event_base *base = event_base_new();
	struct cli_signals signals = {0};
	struct sink *sink = NULL;
	if (base == NULL || cli_signals_watch(&signals, base, NULL, NULL) != 0) {
		log_error("sink: cannot set up the event loop");
		goto done;
	}
	sink = sink_start(base, opts, store, &secret);
	if (sink == NULL)
		goto done;
	const char *address;
	for (size_t i = 0; (address = sink_address(sink, SINK_LISTENER_SMTP, i)) != NULL; i++)
		fprintf(stderr, "sink: listening on %s (smtp, domain %s)\n", address, opts->domain);
	for (size_t i = 0; (address = sink_address(sink, SINK_LISTENER_TARGET, i)) != NULL; i++)
		fprintf(stderr, "sink: listening on %s (target)\n", address);
	if (event_base_dispatch(base) < 0) {
		log_error("sink: the event loop failed");
		goto done;
	}
	char summary[512];
	sink_counters_format(sink_counters(sink), summary, sizeof summary);
	printf("sink: %s\n", summary);
	rc = EXIT_OK;
done:
	sink_stop(sink);
	cli_signals_free(&signals);
	if (base)
		event_base_free(base);
	store_close(store);
	return rc;
}

int cmd_sink(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"domain", required_argument, NULL, 'd'},
	    {"target", required_argument, NULL, 't'},
	    {"max-message", required_argument, NULL, 'm'},
	    {"max-sessions", required_argument, NULL, 's'},
	    {"idle-timeout", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct sink_options opts = {0};
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'l':
		case 't': {
			const char **list = c == 'l' ? opts.smtp_listen : opts.target_listen;
			size_t *count = c == 'l' ? &opts.smtp_listen_count : &opts.target_listen_count;
			if (*count == SINK_MAX_LISTENERS)
				return command_usage_error("sink", "at most %d addresses per option",
							   SINK_MAX_LISTENERS);
			list[(*count)++] = optarg;
			break;
		}
		case 'd':
			opts.domain = optarg;
			break;
		case 'm':
			if (set_number(cli, "max_message", optarg) != 0)
				return command_usage_error("sink", "bad --max-message '%s'", optarg);
			break;
		case 's':
			if (set_number(cli, "max_sessions", optarg) != 0)
				return command_usage_error("sink", "bad --max-sessions '%s'", optarg);
			break;
		case 'i':
			if (set_number(cli, "idle_timeout", optarg) != 0)
				return command_usage_error("sink", "bad --idle-timeout '%s'", optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return command_usage_error("sink", "takes no operands");
	const struct config *config = &cli->config;
	if (opts.smtp_listen_count == 0 && config->sink_listen != NULL)
		opts.smtp_listen[opts.smtp_listen_count++] = config->sink_listen;
	if (opts.target_listen_count == 0 && config->sink_target != NULL)
		opts.target_listen[opts.target_listen_count++] = config->sink_target;
	if (opts.domain == NULL)
		opts.domain = config->sink_domain;
	if (opts.smtp_listen_count == 0)
		return command_usage_error("sink",
					   "give --listen ADDR:PORT (or [sink] listen in the config)");
	if (opts.domain == NULL)
		return command_usage_error("sink", "give --domain DOMAIN (or [sink] domain in the config)");
	opts.max_message = (size_t)config->sink_max_message;
	opts.max_bodies = (size_t)config->sink_max_bodies;
	opts.max_sessions = (unsigned)config->sink_max_sessions;
	opts.max_per_peer = (unsigned)config->sink_max_per_peer;
	opts.idle_timeout = (unsigned)config->sink_idle_timeout;
	opts.session_timeout = (unsigned)config->sink_session_timeout;
	/* A client that hangs up mid-reply must not kill the sink. */
	signal(SIGPIPE, SIG_IGN);
	return run_sink(cli, &opts);
}

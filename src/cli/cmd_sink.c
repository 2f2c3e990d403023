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

/* Each number option is a [sink] setting of the config's table, which checks its bounds. */
#define SINK_NUMBER_OPTIONS(X)                                                                               \
	X("max-message", "max_message", "BYTES", SINK_DEFAULT_MAX_MESSAGE,                                   \
	  "largest message kept; larger ones get 552")                                                       \
	X("max-bodies", "max_bodies", "BYTES", SINK_DEFAULT_MAX_BODIES,                                      \
	  "bytes all messages being received may hold; then DATA gets 452")                                  \
	X("max-sessions", "max_sessions", "N", SINK_DEFAULT_MAX_SESSIONS,                                    \
	  "open connections at most; more get 421")                                                          \
	X("max-per-peer", "max_per_peer", "N", SINK_DEFAULT_MAX_PER_PEER, "of those, from one address")      \
	X("idle-timeout", "idle_timeout", "S", SINK_DEFAULT_IDLE_TIMEOUT,                                    \
	  "seconds of silence before a session is closed")                                                   \
	X("session-timeout", "session_timeout", "S", SINK_DEFAULT_SESSION_TIMEOUT,                           \
	  "seconds a whole session may last")                                                                \
	X("target-rows-per-peer", "target_rows_per_peer", "N", SINK_DEFAULT_TARGET_ROWS_PER_PEER,            \
	  "target hits one address (an IPv6 /64) may store a minute (mails with forged tokens as many, " \
	  "apart); more are counted, not stored")                                                           \
	X("target-bytes-per-peer", "target_bytes_per_peer", "BYTES", SINK_DEFAULT_TARGET_BYTES_PER_PEER,     \
	  "bytes of target hits one address may store a minute")                                             \
	X("target-rows", "target_rows", "N", SINK_DEFAULT_TARGET_ROWS,                                       \
	  "target hits all addresses may store a minute (a hit with a genuine token is proof: not counted)") \
	X("target-bytes", "target_bytes", "BYTES", SINK_DEFAULT_TARGET_BYTES,                                \
	  "bytes of target hits all addresses may store a minute")

#define HELP_LINE(option, key, arg, def, text)                                                               \
	"  --" option " " arg "  ([sink] " key ", default " SINK_STR(def) ")\n      " text "\n"

const char usage_sink[] =
    "usage: plughole sink [--listen ADDR:PORT]... [--domain DOMAIN] [--target ADDR:PORT]...\n"
    "                     [--max-message BYTES] [--max-bodies BYTES] [--max-sessions N]\n"
    "                     [--max-per-peer N] [--idle-timeout S] [--session-timeout S]\n"
    "                     [--target-rows-per-peer N] [--target-bytes-per-peer BYTES]\n"
    "                     [--target-rows N] [--target-bytes BYTES]\n"
    "\n"
    "Receives the test messages relays and proxies pass on, and records each\n"
    "genuine token as proof in the store (a message carrying one is answered\n"
    "250 only once the proof is committed); forged tokens are counted and kept\n"
    "apart. Mail is taken only for DOMAIN and its subdomains: the sink never\n"
    "relays. Runs until SIGINT or SIGTERM, then prints its counters.\n"
    "Settings come from the [sink] section of the config; options override it.\n"
    "Limits that contradict each other (max_message above max_bodies, say) are\n"
    "refused at start.\n"
    "\n"
    "  --listen ADDR:PORT    SMTP address, IPv4 or [IPv6]; repeatable; port 0 picks one\n"
    "  --domain DOMAIN       the sink's mail domain\n"
    "  --target ADDR:PORT    plain TCP target (banner with a nonce; HTTP page); repeatable\n"
    /* then every limit, with its default */
    SINK_NUMBER_OPTIONS(HELP_LINE);

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
#define NUMBER_KEY(option, key, arg, def, text) key,
#define NUMBER_OPTION(option, key, arg, def, text) {option, required_argument, NULL, 'n'},
	static const char *const number_keys[] = {SINK_NUMBER_OPTIONS(NUMBER_KEY)};
	static const struct option options[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"domain", required_argument, NULL, 'd'},
	    {"target", required_argument, NULL, 't'},
	    SINK_NUMBER_OPTIONS(NUMBER_OPTION){NULL, 0, NULL, 0},
	};
	enum { FIRST_NUMBER = 3 };
	struct sink_options opts = {0};
	int c;
	int which = -1;
	while ((c = getopt_long(argc, argv, "", options, &which)) != -1) {
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
		case 'n':
			if (set_number(cli, number_keys[which - FIRST_NUMBER], optarg) != 0)
				return command_usage_error("sink", "bad --%s '%s'", options[which].name,
							   optarg);
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
	opts.target_rows_per_peer = (unsigned)config->sink_target_rows_per_peer;
	opts.target_bytes_per_peer = (size_t)config->sink_target_bytes_per_peer;
	opts.target_rows = (unsigned)config->sink_target_rows;
	opts.target_bytes = (size_t)config->sink_target_bytes;
	sink_options_defaults(&opts);
	char why[300];
	if (sink_options_check(&opts, why, sizeof why) != 0)
		return command_usage_error("sink", "%s", why);
	/* A client that hangs up mid-reply must not kill the sink. */
	signal(SIGPIPE, SIG_IGN);
	return run_sink(cli, &opts);
}

/* plughole verify: prove which candidates are open relays and open proxies. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli/cli.h"
#include "cli/interrupt.h"
#include "cli/verify.h"
#include "track/rounds.h"
#include "core/duration.h"
#include "core/exclude.h"
#include "core/log.h"
#include "probe/defaults.h"
#include "probe/engine.h"
#include "probe/progress.h"
#include "sink/sink.h"

const char usage_verify[] =
	"usage: plughole verify [--tests relay,proxy] [--sink ADDR:PORT] [--sink-domain D]\n"
	"                       [--target ADDR:PORT]... [--protocols LIST] [--ports NAME=LIST]...\n"
	"                       [--external-sink] [--helo NAME] [--from ADDR] [--wait S]\n"
	"                       [--retry-after S] [--retries N] [--concurrency N]\n"
	"                       [--per-host N] [--per-net N] [--connect-timeout S]\n"
	"                       [--timeout S] [--total-timeout S] [--proof-grace S]\n"
	"                       [--rate N] [--source-ip ADDR] [--seed N] [--exclude-file FILE]...\n"
	"                       [--allow-loopback] [ADDRESS[:PORT]...]\n"
	"\n"
	"Tests the given candidates (port 25 when none is given), or every candidate\n"
	"in the store without a finding, and records one verdict per address:port.\n"
	"A relay is open only when a test message carrying our token reaches the\n"
	"sink, whatever the relay answered; a 250 alone gives 'relay-accepted'. A\n"
	"proxy is open-proxy-mail when a tunnel through it delivers a token message\n"
	"to the sink's SMTP port, and open-proxy-web when it reaches a --target and\n"
	"reads a nonce the target handed out; a 200, a banner or a page without them\n"
	"proves nothing. A proof counts only for the run that sent its token: one\n"
	"made with 'plughole token', or an earlier run's, changes no verdict.\n"
	"Each run is a round: its verdicts stay readable with 'findings --round N'\n"
	"after later runs replace them as the latest ('findings --history ADDRESS').\n"
	"\n"
	"Which test a candidate gets: a port of the relay test (see modules below)\n"
	"gets the relay test; any other port the proxy modules that claim it, each\n"
	"on its own connection, in the table's order, until one proves mail; a port\n"
	"none claims gets the modules marked 'any port'. With one test set, the\n"
	"other set's ports are left alone and every other port gets the chosen set.\n"
	"\n"
	"Durations (S) take units: 500ms, 30s, 5m, 1h, or 1m30s; a plain number is seconds.\n"
	"\n"
	"  --tests T          relay, proxy or relay,proxy (default)\n"
	"  --sink ADDR:PORT   where the sink listens: the test messages' destination\n"
	"                     (default [sink] listen); in production the sink domain's MX\n"
	"  --target ADDR:PORT the sink's TCP target that proxy tunnels aim at after the\n"
	"                     SMTP port (default [sink] target); repeatable; in production\n"
	"                     ports 80 and 443 of the sink host\n"
	"  --protocols LIST   only these modules, or kinds of module (the modules below),\n"
	"                     on any port\n"
	"  --ports NAME=LIST  the ports a module (or a group as above) is tried on,\n"
	"                     replacing its defaults, e.g. --ports socks=1080,9999\n"
	"  --sink-domain D    the sink's mail domain (default [sink] domain)\n"
	"  --external-sink    the sink runs elsewhere ('plughole sink'); do not start one\n"
	"  --helo NAME        our EHLO name (default: this host's name when it has a dot,\n"
	"                     else plughole.SINK-DOMAIN)\n"
	"  --from ADDR        envelope sender of the plain variants (default relaytest@HELO)\n"
	"  --wait S           after the last test message, wait S seconds for proofs (" PROBE_STR(PROBE_DEFAULT_WAIT) ")\n"
	"  --retry-after S    delay before retrying a tempfail or timeout, doubling (" PROBE_STR(PROBE_DEFAULT_RETRY_AFTER) ")\n"
	"  --retries N        retries for tempfails and timeouts (" PROBE_STR(PROBE_DEFAULT_RETRIES) ")\n"
	"  --concurrency N    connections in flight (default: from the descriptor limit)\n"
	"  --per-host N       connections in flight to one address (" PROBE_STR(PROBE_DEFAULT_PER_HOST) ")\n"
	"  --per-net N        connections in flight to one /24 or /48 (" PROBE_STR(PROBE_DEFAULT_PER_NET) ")\n"
	"  --rate N           new connections per second, 0 for no limit (" PROBE_STR(PROBE_DEFAULT_RATE) ")\n"
	"  --connect-timeout S, --timeout S (per reply), --total-timeout S (per connection)\n"
	"                     " PROBE_STR(PROBE_DEFAULT_CONNECT_TIMEOUT) ", " PROBE_STR(PROBE_DEFAULT_IDLE_TIMEOUT)
	" and " PROBE_STR(PROBE_DEFAULT_TOTAL_TIMEOUT) " seconds\n"
	"  --proof-grace S    after a message is accepted, wait S for its proof before\n"
	"                     the next variant's message goes (" PROBE_STR(PROBE_DEFAULT_PROOF_GRACE) ")\n"
	"  --source-ip ADDR   connect from this local address (as in zmap and masscan;\n"
	"                     --source, its old name, still works for now: elsewhere\n"
	"                     --source names a data source)\n"
	"  --seed N           visiting order (default: random)\n"
	"  --exclude-file FILE more ranges never to test (masscan's and zmap's format: CIDR\n"
	"                     or FIRST-LAST a line, # comments), beside data/exclude.conf\n"
	"                     and [safety] optout; repeatable\n"
	"  --allow-loopback   test 127.0.0.0/8 and ::1 (tests and demos only)\n"
	"\n"
	"The defaults in parentheses come from the [verify] section of the config\n"
	"(concurrency, per_host, per_net, rate, connect_timeout, timeout,\n"
	"total_timeout, retry_after, retries, wait, proof_grace; durations), and the\n"
	"options override it.\n"
	"\n"
	"Progress goes to stderr: on a terminal one line, redrawn each second, with\n"
	"what the run waits for (proof grace, retries, greylisting) and until when;\n"
	"otherwise the same as a status line every " LOG_STR(LOG_STATUS_INTERVAL) " seconds (-q: none).\n"
	"\n"
	"modules (--protocols and --ports take a module's name or its kind):\n";

void verify_usage_modules(FILE *out)
{
	for (size_t i = 0; i < probe_module_count(); i++) {
		const struct probe_module *m = probe_module_at(i);
		char ports[256];
		size_t len = 0;
		ports[0] = '\0';
		for (const uint16_t *p = m->ports; *p != 0 && len < sizeof ports; p++)
			len += (size_t)snprintf(ports + len, sizeof ports - len, "%s%u", len ? "," : "", *p);
		fprintf(out, "  %-14s %-6s kind %-8s ports %s%s\n", m->name, m->family == PROBE_RELAY ? "relay" : "proxy",
			m->alias ? m->alias : "-", ports[0] ? ports : "none (only when named)",
			m->any_port ? ", any port" : "");
	}
}

struct verify_run {
	struct cli *cli;
	unsigned families;
	struct probe_selection selection; /* the options' (ports, modules), families per target */
	struct probe_engine *engine;
	struct exclusion_list exclusions;
	uint64_t excluded;
	int failed;
};

int verify_add_target(struct verify_run *run, const char *text, uint16_t port, int64_t candidate_id,
		      unsigned families)
{
	struct addr address;
	if (addr_parse(text, strlen(text), &address) != 0) {
		log_error("%s: not an address", text);
		return -1;
	}
	const char *why = exclusion_match(&run->exclusions, &address);
	if (why != NULL) {
		run->excluded++;
		log_warn("%s:%u is excluded, not tested: %s", text, port, why);
		return 0;
	}
	struct probe_selection selection = run->selection;
	selection.families = families;
	return probe_engine_add_with(run->engine, &address, port, candidate_id, &selection);
}

static void add_pending(void *ctx, int64_t id, const char *text, uint16_t port)
{
	struct verify_run *run = ctx;
	struct addr address;
	if (addr_parse(text, strlen(text), &address) != 0)
		return;
	const char *why = exclusion_match(&run->exclusions, &address);
	if (why != NULL) {
		run->excluded++;
		log_debug("%s:%u excluded: %s", text, port, why);
		return;
	}
	if (probe_engine_add(run->engine, &address, port, id) < 0)
		run->failed = 1;
}

/*
 * One verify at a time per store: two runs would read the same pending
 * candidates and each send them every test message (with an external sink
 * nothing else stops them). The lock is a file beside the store, held until
 * exit; -2 (and why) when another run holds it, -1 on any other failure.
 */
#define CLOCK_BEHIND_MAX 5 /* seconds the store's last probe may be ahead of the clock: waited out */

int verify_lock_store(const char *db_path, bool quiet_when_held)
{
	/* Held already by this process ('recheck --due' runs one campaign after another): a second open file
	 * description's flock would conflict with the first and refuse the next campaign. */
	static int held = -1;
	if (held >= 0)
		return held;
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s.verify.lock", db_path) >= sizeof path) {
		log_error("%s: path too long for its lock file", db_path);
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = errno == EWOULDBLOCK;
		if (busy && !quiet_when_held)
			log_error("verify: another verify is running on %s (it holds %s): one at a time, or it"
				  " would send the same candidates their test messages again", db_path, path);
		else if (!busy)
			log_error("%s: %s", path, strerror(errno));
		close(fd);
		return busy ? -2 : -1;
	}
	return held = fd; /* left open: the lock goes with the process */
}

static int add_operands(struct verify_run *run, struct store *store, int argc, char **argv)
{
	int64_t source = store_source_id(store, "command-line", "plain");
	if (source < 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		struct addr address;
		uint16_t port;
		const char *why = NULL;
		if (addr_port_parse(argv[i], strlen(argv[i]), &address, &port, &why) != 0) {
			log_error("%s: %s", argv[i], why);
			return -1;
		}
		if (port == 0 && !(run->families & PROBE_RELAY)) {
			log_error("%s: name the port to test for proxies", argv[i]);
			return -1;
		}
		if (port == 0)
			port = 25;
		if ((why = exclusion_match(&run->exclusions, &address)) != NULL) {
			log_warn("%s is excluded, not tested: %s", argv[i], why);
			run->excluded++;
			continue;
		}
		if (store_candidate_put(store, &address, port, source, time(NULL)) < 0)
			return -1;
		int64_t id = store_candidate_id(store, &address, port);
		int64_t gone = id > 0 && (run->families & PROBE_RELAY) ? store_messages_gone(store, id, "relay") : 0;
		if (gone > 0) {
			/* Named again (after a crash, say): a relay gets one test message, ever. */
			log_warn("%s: a relay test message already went to it (see 'plughole findings'): not sending another",
				 argv[i]);
			continue;
		}
		if (id <= 0 || gone < 0 || probe_engine_add(run->engine, &address, port, id) < 0)
			return -1;
	}
	return 0;
}

/* The engine hands each verdict back as it is written: the store has it; the log says so at debug level. */
static void on_verdict(void *ctx, const struct probe_result *r)
{
	char text[ADDR_PORT_STRLEN];
	log_debug("verify: %s %s%s", addr_port_format(r->address, r->port, text), verdict_name(r->verdict),
		  r->upgraded ? " (a proof came after the verdict)" : "");
}

static void on_proof(void *ctx, const struct proof *proof)
{
	probe_engine_proof(ctx, proof);
}

static void on_target_hit(void *ctx, const char *nonce, const char *peer, const char *request)
{
	probe_engine_target_hit(ctx, nonce, peer);
}

/* Whether word (NUL-terminated, may be NULL) is name[0..len). */
static bool word_is(const char *word, const char *name, size_t len)
{
	return word != NULL && strlen(word) == len && memcmp(word, name, len) == 0;
}

/* The names --protocols and --ports take, for the message that refuses another: modules, then groups. */
static const char *module_names(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < probe_module_count() && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", probe_module_at(i)->name);
	const char *sep = "; groups: ";
	for (size_t i = 0; i < probe_module_count() && len < size; i++) {
		const char *alias = probe_module_at(i)->alias;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = alias != NULL && probe_module_at(j)->alias != NULL && strcmp(probe_module_at(j)->alias, alias) == 0;
		if (alias != NULL && !seen) {
			len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, alias);
			sep = ", ";
		}
	}
	return buf;
}

/* The registry bits a name stands for: a module, or every module of a kind (its alias). 0 when unknown. */
static uint32_t modules_named(const char *name, size_t len)
{
	uint32_t bits = 0;
	for (size_t i = 0; i < probe_module_count(); i++) {
		const struct probe_module *m = probe_module_at(i);
		if (word_is(m->name, name, len))
			return 1u << i;
		if (word_is(m->alias, name, len))
			bits |= 1u << i;
	}
	return bits;
}

/* On failure *unknown is the word that is no module or group. */
static int parse_protocols(char *text, uint32_t *modules, const char **unknown)
{
	for (char *word = strtok(text, ","); word; word = strtok(NULL, ",")) {
		uint32_t bits = modules_named(word, strlen(word));
		*unknown = word;
		if (bits == 0)
			return -1;
		*modules |= bits;
	}
	return 0;
}

#define PORT_LIST_MAX 64

/* "NAME=P1,P2,...": the ports NAME's modules are tried on. */
static int parse_ports(const char *text, struct probe_selection *selection,
		       uint16_t lists[PROBE_MAX_MODULES][PORT_LIST_MAX + 1])
{
	const char *eq = strchr(text, '=');
	uint32_t bits = eq ? modules_named(text, (size_t)(eq - text)) : 0;
	if (bits == 0)
		return -1;
	uint16_t ports[PORT_LIST_MAX + 1];
	size_t n = 0;
	for (const char *p = eq + 1; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (n == PORT_LIST_MAX || port_parse(p, len, &ports[n++]) != 0)
			return -1;
		p += len + (end ? 1 : 0);
	}
	ports[n] = 0;
	for (size_t i = 0; i < probe_module_count(); i++)
		if (bits & (1u << i)) {
			memcpy(lists[i], ports, (n + 1) * sizeof ports[0]);
			selection->ports[i] = lists[i];
		}
	return 0;
}

static void stop_engine(void *engine) { probe_engine_stop(engine); }

/* The progress line from the engine's counts: what is done, what waits and until when. */
static void progress_text(const struct probe_engine *engine, char *line, size_t size)
{
	struct probe_waits waits;
	probe_engine_waits(engine, &waits);
	probe_progress_line(probe_engine_stats(engine), &waits, probe_engine_elapsed(engine), probe_now(), time(NULL),
			    line, size);
}

static void on_progress_timer(evutil_socket_t fd, short what, void *engine)
{
	char line[512];
	progress_text(engine, line, sizeof line);
	log_progress(line);
}

/* Raises the descriptor limit to the hard limit; returns the new limit. */
static rlim_t raise_descriptor_limit(void)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
		return 256;
	if (limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
		getrlimit(RLIMIT_NOFILE, &limit);
	}
	return limit.rlim_cur;
}

/* A duration with units (500ms, 30s, 5m; a plain number is seconds), at most 30 days. */
static int parse_seconds(const char *text, double *out, const char **why)
{
	double value;
	if (duration_parse(text, strlen(text), &value, why) != 0)
		return -1;
	if (value > 86400 * 30) {
		*why = "is longer than 30 days";
		return -1;
	}
	*out = value;
	return 0;
}

static int parse_count(const char *text, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 10);
	if (errno || *end || value > max || *text == '-')
		return -1;
	*out = (unsigned)value;
	return 0;
}

static void print_summary(const char *verb, const struct probe_stats *stats, uint64_t excluded,
			  const struct sink *sink)
{
	printf("%s: %llu targets, %llu finished, %llu test messages, %llu proofs, %llu retries,"
	       " %llu excluded\n",
	       verb, (unsigned long long)stats->targets, (unsigned long long)stats->finished,
	       (unsigned long long)stats->messages_sent, (unsigned long long)stats->proofs,
	       (unsigned long long)stats->retries, (unsigned long long)excluded);
	printf("  %llu connections in flight at most, %llu bytes of heap each\n",
	       (unsigned long long)stats->peak_in_flight, (unsigned long long)stats->heap_per_connection);
	for (int v = VERDICT_NONE + 1; v < VERDICT_LAST; v++)
		if (stats->verdicts[v] > 0)
			printf("  %-16s %llu\n", verdict_name((enum verdict)v), (unsigned long long)stats->verdicts[v]);
	if (sink != NULL) {
		char line[512];
		sink_counters_format(sink_counters(sink), line, sizeof line);
		printf("sink: %s\n", line);
	}
}

int verify_main(struct cli *cli, int argc, char **argv, const struct verify_hooks *hooks)
{
	const char *verb = hooks->add_targets != NULL ? "recheck" : "verify";
	enum { O_TESTS = 1000, O_SINK, O_SINK_DOMAIN, O_EXTERNAL, O_HELO, O_FROM, O_WAIT, O_RETRY_AFTER,
	       O_RETRIES, O_CONCURRENCY, O_PER_HOST, O_PER_NET, O_CONNECT_TIMEOUT, O_TIMEOUT, O_TOTAL_TIMEOUT,
	       O_PROOF_GRACE, O_SOURCE, O_SEED, O_LOOPBACK, O_RATE, O_TARGET, O_PROTOCOLS, O_PORTS, O_EXCLUDE_FILE };
	static const struct option options[] = {
		{"tests", required_argument, NULL, O_TESTS},
		{"sink", required_argument, NULL, O_SINK},
		{"sink-domain", required_argument, NULL, O_SINK_DOMAIN},
		{"external-sink", no_argument, NULL, O_EXTERNAL},
		{"helo", required_argument, NULL, O_HELO},
		{"from", required_argument, NULL, O_FROM},
		{"wait", required_argument, NULL, O_WAIT},
		{"retry-after", required_argument, NULL, O_RETRY_AFTER},
		{"retries", required_argument, NULL, O_RETRIES},
		{"concurrency", required_argument, NULL, O_CONCURRENCY},
		{"per-host", required_argument, NULL, O_PER_HOST},
		{"per-net", required_argument, NULL, O_PER_NET},
		{"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"total-timeout", required_argument, NULL, O_TOTAL_TIMEOUT},
		{"proof-grace", required_argument, NULL, O_PROOF_GRACE},
		{"source-ip", required_argument, NULL, O_SOURCE},
		{"source", required_argument, NULL, O_SOURCE}, /* deprecated: --source names a data source elsewhere */
		{"seed", required_argument, NULL, O_SEED},
		{"allow-loopback", no_argument, NULL, O_LOOPBACK},
		{"rate", required_argument, NULL, O_RATE},
		{"target", required_argument, NULL, O_TARGET},
		{"protocols", required_argument, NULL, O_PROTOCOLS},
		{"ports", required_argument, NULL, O_PORTS},
		{"exclude-file", required_argument, NULL, O_EXCLUDE_FILE},
		{NULL, 0, NULL, 0},
	};
	const struct config *cf = &cli->config; /* [verify]: probe/defaults.h unless the config says otherwise */
	struct probe_engine_options o = {
		.selection = {.families = PROBE_RELAY | PROBE_PROXY},
		.concurrency = (unsigned)cf->verify_concurrency,
		.per_host = (unsigned)cf->verify_per_host,
		.per_net = (unsigned)cf->verify_per_net,
		.rate = (unsigned)cf->verify_rate,
		.connect_timeout = (double)cf->verify_connect_timeout,
		.total_timeout = (double)cf->verify_total_timeout,
		.retry_after = (double)cf->verify_retry_after,
		.retries = (unsigned)cf->verify_retries,
		.wait = (double)cf->verify_wait,
		.on_verdict = on_verdict,
		.settings = {.idle_timeout = (double)cf->verify_timeout,
			     .proof_grace = (double)cf->verify_proof_grace,
			     .campaign = (uint16_t)cf->campaign,
			     .operator_name = cf->operator_name,
			     .operator_contact = cf->operator_contact},
	};
	const char *sink_listen = cli->config.sink_listen, *sink_domain = cli->config.sink_domain;
	const char *helo = NULL, *from = NULL;
	const char *targets[PROBE_MAX_TARGETS];
	size_t target_count = 0;
	static uint16_t port_lists[PROBE_MAX_MODULES][PORT_LIST_MAX + 1];
	bool external_sink = false, allow_loopback = false;
	const char *exclude_files[EXCLUDE_FILES_MAX];
	size_t exclude_count = 0;
	int c;
	int longindex = 0;
	while ((c = getopt_long(argc, argv, "", options, &longindex)) != -1) {
		int bad = 0;
		const char *bad_why = NULL; /* a duration's reason */
		switch (c) {
		case O_TESTS:
			o.selection.families = 0;
			for (char *word = strtok(optarg, ","); word; word = strtok(NULL, ","))
				if (strcmp(word, "relay") == 0)
					o.selection.families |= PROBE_RELAY;
				else if (strcmp(word, "proxy") == 0)
					o.selection.families |= PROBE_PROXY;
				else
					return command_usage_error(verb, "unknown test set '%s' (relay, proxy)", word);
			break;
		case O_TARGET:
			if (target_count == PROBE_MAX_TARGETS)
				return command_usage_error(verb, "at most %d targets", PROBE_MAX_TARGETS);
			targets[target_count++] = optarg;
			break;
		case O_PROTOCOLS:
		case O_PORTS:
			if ((c == O_PROTOCOLS ? parse_protocols(optarg, &o.selection.modules, &bad_why)
					      : parse_ports(optarg, &o.selection, port_lists)) != 0) {
				char names[1024];
				return command_usage_error(verb, "--%s '%s': %s%s", options[longindex].name,
							   c == O_PROTOCOLS ? bad_why : optarg,
							   c == O_PROTOCOLS ? "not a module or group; valid: "
									    : "wants NAME=PORT,PORT... with NAME one of ",
							   module_names(names, sizeof names));
			}
			break;
		case O_SINK: sink_listen = optarg; break;
		case O_SINK_DOMAIN: sink_domain = optarg; break;
		case O_EXTERNAL: external_sink = o.shared_store = true; break;
		case O_HELO: helo = optarg; break;
		case O_FROM: from = optarg; break;
		case O_WAIT: bad = parse_seconds(optarg, &o.wait, &bad_why); break;
		case O_RETRY_AFTER: bad = parse_seconds(optarg, &o.retry_after, &bad_why); break;
		case O_RETRIES: bad = parse_count(optarg, 10, &o.retries); break;
		case O_CONCURRENCY: bad = parse_count(optarg, 1000000, &o.concurrency) || o.concurrency == 0; break;
		case O_PER_HOST: bad = parse_count(optarg, 1000000, &o.per_host) || o.per_host == 0; break;
		case O_PER_NET: bad = parse_count(optarg, 1000000, &o.per_net) || o.per_net == 0; break;
		case O_CONNECT_TIMEOUT: bad = parse_seconds(optarg, &o.connect_timeout, &bad_why); break;
		case O_TIMEOUT: bad = parse_seconds(optarg, &o.settings.idle_timeout, &bad_why); break;
		case O_TOTAL_TIMEOUT: bad = parse_seconds(optarg, &o.total_timeout, &bad_why); break;
		case O_PROOF_GRACE: bad = parse_seconds(optarg, &o.settings.proof_grace, &bad_why); break;
		case O_SOURCE:
			if (strcmp(options[longindex].name, "source") == 0)
				log_warn("verify: --source is deprecated, say --source-ip (--source names a data source"
					 " in ingest and attribute load)");
			bad = addr_parse(optarg, strlen(optarg), &o.source);
			o.have_source = true;
			break;
		case O_RATE: bad = parse_count(optarg, 1000000, &o.rate); break;
		case O_SEED: o.seed = strtoull(optarg, NULL, 10); break;
		case O_LOOPBACK: allow_loopback = true; break;
		case O_EXCLUDE_FILE:
			if (exclude_count == EXCLUDE_FILES_MAX)
				return command_usage_error(verb, "at most %d --exclude-file options", EXCLUDE_FILES_MAX);
			exclude_files[exclude_count++] = optarg;
			break;
		default: return EXIT_USAGE;
		}
		if (bad)
			return command_usage_error(verb, "--%s '%s'%s%s", options[longindex].name, optarg,
						   bad_why ? " " : ": bad value", bad_why ? bad_why : "");
	}
	if (hooks->add_targets != NULL && optind < argc)
		return command_usage_error(verb, "'%s': the round's hosts come from its campaign or request", argv[optind]);
	if (sink_domain == NULL)
		return command_usage_error(verb, "name the sink's mail domain (--sink-domain or [sink] domain)");
	if (sink_listen == NULL)
		return command_usage_error(verb, "say where the sink listens (--sink or [sink] listen)");
	uint16_t sink_port;
	const char *why = NULL;
	if (addr_port_parse(sink_listen, strlen(sink_listen), &o.settings.sink_address, &sink_port, &why) != 0 ||
	    sink_port == 0)
		return command_usage_error(verb, "--sink %s: %s", sink_listen, why ? why : "no port");
	o.settings.sink_port = sink_port;
	o.settings.sink_domain = sink_domain;
	if (target_count == 0 && cli->config.sink_target != NULL)
		targets[target_count++] = cli->config.sink_target;
	for (size_t i = 0; i < target_count; i++) {
		struct addr *a = &o.settings.target_address[i];
		uint16_t *port = &o.settings.target_port[i];
		if (addr_port_parse(targets[i], strlen(targets[i]), a, port, &why) != 0 || *port == 0)
			return command_usage_error(verb, "--target %s: %s", targets[i], why ? why : "no port");
	}
	o.settings.target_count = target_count;
	char hostname[256], from_buf[300];
	if (helo == NULL) {
		if (gethostname(hostname, sizeof hostname) != 0 || strchr(hostname, '.') == NULL)
			snprintf(hostname, sizeof hostname, "plughole.%s", sink_domain);
		helo = hostname;
	}
	if (from == NULL) {
		snprintf(from_buf, sizeof from_buf, "relaytest@%s", helo);
		from = from_buf;
	}
	o.settings.helo = helo;
	o.settings.from = from;
	/* By default as many connections as descriptors allow, less some for the sink. */
	rlim_t descriptors = raise_descriptor_limit();
	if (o.concurrency == 0)
		o.concurrency = descriptors > 1224 ? (unsigned)(descriptors - 1200) : 24;
	if (o.seed == 0)
		o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	struct verify_run run = {.cli = cli, .families = o.selection.families, .selection = o.selection};
	exclusion_init(&run.exclusions);
	struct token_secret secret;
	char secret_path[4096];
	struct store *store = NULL;
	struct event_base *base = NULL;
	struct sink *sink = NULL;
	struct cli_signals signals = {0};
	struct event *progress = NULL;
	int rc = EXIT_FAILURE_;
	int64_t round = -1;
	signal(SIGPIPE, SIG_IGN);
	if (exclusion_load_defaults(&run.exclusions, cli->config.optout, allow_loopback) != 0 ||
	    exclusion_load_files(&run.exclusions, exclude_files, exclude_count) != 0 ||
	    token_secret_load(&secret, config_secret_path(&cli->config, secret_path, sizeof secret_path)) != 0 ||
	    (store = cli_open_store(cli)) == NULL || (hooks->store_lock && verify_lock_store(cli->config.db, false) < 0))
		goto out;
	/* Peers are told to connect to the sink and the targets: they obey the list too. */
	if (exclusion_check_destination(&run.exclusions, "--sink", sink_listen, &o.settings.sink_address) != 0)
		goto out;
	for (size_t i = 0; i < target_count; i++)
		if (exclusion_check_destination(&run.exclusions, "--target", targets[i], &o.settings.target_address[i]) != 0)
			goto out;
	/* Holding the verify lock, no other verify or recheck runs: what they left is settled here. An owner
	 * check runs beside them and touches only its own round. */
	if (hooks->store_lock && (rounds_settle(store, cli->config.db) != 0 || store_findings_reconcile(store) < 0 ||
				  store_round_reconcile(store, 0, true) < 0))
		goto out;
	if ((round = hooks->prepare(hooks->ctx, store)) <= 0) {
		rc = round == 0 ? EXIT_OK : EXIT_FAILURE_;
		goto out;
	}
	o.round = round;
	/* A token names its target and second: a round begun in the second of an earlier probe would make
	 * that probe's tokens again, and an earlier round's proof would count for this one. */
	int64_t last_probe = store_probe_last_started(store);
	if (last_probe < 0)
		goto out;
	/* Waited out only when it is a moment: a clock set back would make the wait as long (a hung cron job or
	 * owner's check), and beginning at once would make earlier tokens again. */
	if (last_probe - (int64_t)time(NULL) >= CLOCK_BEHIND_MAX) {
		log_error("%s: the clock is behind the store's last probe, begun %lld s from now: set the clock right;"
			  " a round begun now could make an earlier round's tokens again",
			  verb, (long long)(last_probe - (int64_t)time(NULL)));
		goto out;
	}
	while (time(NULL) <= (time_t)last_probe)
		usleep(50 * 1000);
	if ((base = event_base_new()) == NULL ||
	    event_base_priority_init(base, 2) != 0 || /* the sink's sessions first: SINK_PRIORITY */
	    (run.engine = probe_engine_new(base, &o, store, &secret)) == NULL)
		goto out;
	if (store_round_reconcile(store, round, false) < 0) /* a resumed round: what its runs left */
		goto out;
	int64_t unknown = store_messages_unknown(store);
	if (unknown < 0)
		goto out;
	if (unknown > 0)
		log_warn("verify: %lld relays have a test message whose fate is unknown (a run ended between its record"
			 " and its answer): they get no second message, and no verdict unless its proof arrives",
			 (long long)unknown);
	if (hooks->add_targets != NULL ? hooks->add_targets(hooks->ctx, &run, store, round) != 0
	    : (optind < argc ? add_operands(&run, store, argc - optind, argv + optind)
			     : store_candidates_pending(store, add_pending, &run)) != 0 || run.failed)
		goto out;
	if (!external_sink) {
		struct sink_options so = {
			.smtp_listen = {sink_listen},
			.smtp_listen_count = 1,
			.target_listen_count = target_count,
			.on_target_hit = on_target_hit,
			.domain = sink_domain,
			.max_message = (size_t)cli->config.sink_max_message,
			.max_bodies = (size_t)cli->config.sink_max_bodies,
			.max_sessions = (unsigned)cli->config.sink_max_sessions,
			.max_per_peer = (unsigned)cli->config.sink_max_per_peer,
			.idle_timeout = (unsigned)cli->config.sink_idle_timeout,
			.session_timeout = (unsigned)cli->config.sink_session_timeout,
			.target_rows_per_peer = (unsigned)cli->config.sink_target_rows_per_peer,
			.target_bytes_per_peer = (size_t)cli->config.sink_target_bytes_per_peer,
			.target_rows = (unsigned)cli->config.sink_target_rows,
			.target_bytes = (size_t)cli->config.sink_target_bytes,
			.on_proof = on_proof,
			.ctx = run.engine,
		};
		memcpy(so.target_listen, targets, target_count * sizeof targets[0]);
		if ((sink = sink_start(base, &so, store, &secret)) == NULL)
			goto out;
	}
	if (cli_signals_watch(&signals, base, stop_engine, run.engine) != 0)
		goto out;
	log_info("%s: %llu targets, %u connections at most, sink %s (%s), round %lld", verb,
		 (unsigned long long)probe_engine_stats(run.engine)->targets, o.concurrency, sink_listen,
		 external_sink ? "external" : "in this process", (long long)round);
	struct timeval second = {1, 0};
	if (log_progress_begin(LOG_STATUS_INTERVAL) != LOG_PROGRESS_OFF &&
	    ((progress = event_new(base, -1, EV_PERSIST, on_progress_timer, run.engine)) == NULL ||
	     event_add(progress, &second) != 0))
		goto out;
	bool ran = probe_engine_run(run.engine) == 0;
	if (progress != NULL) {
		char line[512];
		progress_text(run.engine, line, sizeof line);
		log_progress_end(line);
	}
	ran = ran && (hooks->store_lock ? store_findings_reconcile(store) >= 0 : true) &&
	      store_round_reconcile(store, round, false) >= 0;
	const struct probe_stats *stats = probe_engine_stats(run.engine);
	if (!ran)
		log_error("%s: stopped on an error: the run is incomplete (see above)", verb);
	print_summary(verb, stats, run.excluded, sink);
	rc = hooks->finish(hooks->ctx, store, round, ran && stats->finished == stats->targets);
	if (!ran)
		rc = EXIT_FAILURE_;
out:
	if (progress != NULL)
		event_free(progress);
	cli_signals_free(&signals);
	sink_stop(sink);
	probe_engine_free(run.engine);
	if (base)
		event_base_free(base);
	store_close(store);
	exclusion_free(&run.exclusions);
	return rc;
}

/* Plain verify: a round of kind 'verify', done when every target got its verdict, else interrupted. */
static int64_t verify_round_begin(void *ctx, struct store *store)
{
	return store_round_begin(store, ROUND_KIND_VERIFY, 0, 0, NULL, time(NULL));
}

static int verify_round_end(void *ctx, struct store *store, int64_t round, bool complete)
{
	return store_round_end(store, round, complete ? ROUND_DONE : ROUND_INTERRUPTED, time(NULL)) == 0 ? EXIT_OK
													: EXIT_FAILURE_;
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct verify_hooks hooks = {
		.prepare = verify_round_begin, .finish = verify_round_end, .store_lock = true};
	return verify_main(cli, argc, argv, &hooks);
}

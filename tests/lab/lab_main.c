/*
 * plughole-lab [options]: listens on 0.0.0.0:PORT for every --port and plays
 * the host each connection dialled. --list prints the behaviour table,
 * --truth the expected verdict of every host.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "core/addr.h"
#include "core/log.h"
#include "lab.h"

#define LAB_BACKLOG 4096

static const char usage[] =
    "usage: plughole-lab --port PORT [--port PORT...] [options]\n"
    "       plughole-lab --list\n"
    "       plughole-lab --truth [--hosts CIDR --mix SPEC] [--seed N] [ADDRESS...]\n"
    "\n"
    "Plays thousands of SMTP and proxy hosts on 127.0.0.0/8 in one process: 127.20.B.N\n"
    "is behaviour B (see --list); --hosts blocks get behaviours by --mix.\n"
    "\n"
    "  --port PORT          listen on 0.0.0.0:PORT (0: any free port); repeatable\n"
    "  --hosts CIDR         a block of mixed hosts (CIDR or FIRST-LAST in 127/8); repeatable\n"
    "  --mix SPEC           weights per behaviour: open=3,closed=50,silent=20,...\n"
    "  --seed N             changes which host gets which behaviour (default 0)\n"
    "  --latency MS         delay before every reply (default 0)\n"
    "  --sink ADDR:PORT     where open relays deliver (a 127.x address)\n"
    "  --sink-domain D      deliver only mail for D or [sink address] (default: all)\n"
    "  --greylist-delay S   greylisting holds a client back S seconds (default 2)\n"
    "  --tarpit-delay S     tarpit banner delay (default 60)\n"
    "  --idle-timeout S     close an idle client after S seconds (default 60)\n"
    "  --endless-rate B     bytes per second of the endless line (default 10240)\n"
    "  --max-message B      largest message accepted (default 1048576)\n"
    "  --forward-log FILE   one line per relayed recipient (delivered or not)\n"
    "  --command-log FILE   one line per SMTP command received: ADDRESS, the line\n"
    "  --banner-domain D    every SMTP host claims the name D (not its own) in its banner\n"
    "  --fixed-file FILE    hosts whose owners fixed them: one address, CIDR or FIRST-LAST a\n"
    "                       line (# comments); re-read when it changes and on SIGHUP. A\n"
    "                       fixed SMTP host refuses to relay (closed), an HTTP proxy answers\n"
    "                       403 (http-refuse), a SOCKS proxy refuses CONNECT (socks5-refuse)\n"
    "  --web-port PORT      the only port http-connect-443 hosts tunnel to (default 443)\n"
    "  --list               print the behaviour table and exit\n"
    "  --truth              print ADDRESS, BEHAVIOUR, EXPECTED_VERDICT, SOFTWARE for\n"
    "                       every --hosts address and each ADDRESS given, and exit\n"
    "  -v                   debug logging\n";

struct lab_listener {
	struct lab *lab;
	struct evconnlistener *listener;
	struct event *resume; /* re-enables accepting after running out of descriptors */
};

static int parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	*out = strtoul(text, &end, 10);
	return text[0] >= '0' && text[0] <= '9' && *end == '\0' && errno == 0 && *out <= max ? 0 : -1;
}

static int parse_sink(const char *text, struct sockaddr_in *sink)
{
	struct addr a;
	uint16_t port;
	const char *why;
	if (addr_port_parse(text, strlen(text), &a, &port, &why) != 0 || !addr_is_v4(&a) || port == 0 ||
	    addr_v4(&a) >> 24 != 127)
		return -1;
	memset(sink, 0, sizeof *sink);
	sink->sin_family = AF_INET;
	sink->sin_addr.s_addr = htonl(addr_v4(&a));
	sink->sin_port = htons(port);
	return 0;
}

static void print_list(void)
{
	printf("B\tNAME\tVERDICT\tWHAT\n");
	for (int b = 0; b < LAB_BEHAVIOUR_LAST; b++)
		printf("%d\t%s\t%s\t%s\n", b, lab_behaviours[b].name, lab_behaviours[b].verdict,
		       lab_behaviours[b].summary);
}

static void print_truth_line(const struct lab_config *config, uint32_t addr)
{
	struct lab_host host = {.addr = addr};
	const struct lab_behaviour_row *row;
	char ip[16];
	lab_classify(config, &host);
	row = &lab_behaviours[host.behaviour];
	printf("%s\t%s\t%s\t%s\n", lab_ip(addr, ip), row->name, row->verdict,
	       row->software != NULL ? row->software(&host) : "-");
}

static int print_truth(const struct lab_config *config, char **addresses, int n)
{
	for (size_t i = 0; i < config->nblocks; i++)
		for (uint64_t a = config->blocks[i].first; a <= config->blocks[i].last; a++)
			print_truth_line(config, (uint32_t)a);
	for (int i = 0; i < n; i++) {
		struct addr a;
		if (addr_parse(addresses[i], strlen(addresses[i]), &a) != 0 || !addr_is_v4(&a)) {
			fprintf(stderr, "plughole-lab: not an IPv4 address: %s\n", addresses[i]);
			return 2;
		}
		print_truth_line(config, addr_v4(&a));
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static void print_stats(const struct lab *lab)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr,
		"plughole-lab: accepted %" PRIu64 ", refused %" PRIu64 ", live %" PRIu64 ", peak %" PRIu64
		" sessions, messages %" PRIu64 ", forwarded %" PRIu64 ", forward failures %" PRIu64
		", tunnels %" PRIu64 ", tunnel failures %" PRIu64 ", max RSS %ld KiB\n",
		lab->stats.accepted, lab->stats.refused, lab->stats.live, lab->stats.peak,
		lab->stats.messages, lab->stats.forwarded, lab->stats.forward_failed, lab->stats.tunnels,
		lab->stats.tunnel_failed, ru.ru_maxrss);
}

/* Reads --fixed-file again when force, or when its size or time changed (a look per connection). */
static void lab_fixed_reload(struct lab *lab, bool force)
{
	struct stat st;
	if (lab->fixed_path == NULL)
		return;
	bool exists = stat(lab->fixed_path, &st) == 0;
	if (!force && exists == lab->fixed_seen &&
	    (!exists || (st.st_size == lab->fixed_size && st.st_mtim.tv_sec == lab->fixed_mtime.tv_sec &&
			 st.st_mtim.tv_nsec == lab->fixed_mtime.tv_nsec)))
		return;
	lab->fixed_seen = exists;
	lab->nfixed = 0;
	if (!exists)
		return;
	lab->fixed_size = st.st_size;
	lab->fixed_mtime = st.st_mtim;
	FILE *f = fopen(lab->fixed_path, "r");
	if (f == NULL) {
		log_warn("lab: %s: %s", lab->fixed_path, strerror(errno));
		return;
	}
	char line[256];
	size_t cap = 0;
	for (unsigned number = 1; fgets(line, sizeof line, f) != NULL; number++) {
		char *end = line + strcspn(line, "#\r\n");
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		char *text = line + strspn(line, " \t");
		if (*text == '\0')
			continue;
		struct lab_block block;
		const char *why = NULL;
		if (strchr(text, '/') == NULL && strchr(text, '-') == NULL) {
			char range[128];
			snprintf(range, sizeof range, "%s-%s", text, text);
			if (lab_block_parse(range, &block, &why) != 0) {
				log_warn("lab: %s:%u: %s", lab->fixed_path, number, why);
				continue;
			}
		} else if (lab_block_parse(text, &block, &why) != 0) {
			log_warn("lab: %s:%u: %s", lab->fixed_path, number, why);
			continue;
		}
		if (lab->nfixed == cap) {
			cap = cap ? cap * 2 : 64;
			struct lab_block *grown = realloc(lab->fixed, cap * sizeof *grown);
			if (grown == NULL)
				break;
			lab->fixed = grown;
		}
		lab->fixed[lab->nfixed++] = block;
	}
	fclose(f);
	log_info("lab: %zu fixed ranges from %s", lab->nfixed, lab->fixed_path);
}

static bool lab_fixed(const struct lab *lab, uint32_t addr)
{
	for (size_t i = 0; i < lab->nfixed; i++)
		if (addr >= lab->fixed[i].first && addr <= lab->fixed[i].last)
			return true;
	return false;
}

static void lab_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
		       int peerlen, void *arg)
{
	struct lab *lab = ((struct lab_listener *)arg)->lab;
	struct sockaddr_in local;
	socklen_t len = sizeof local;
	struct lab_host host = {0};
	/* Only loopback hosts exist: a connection to any other local address is closed at once. */
	if (getsockname(fd, (struct sockaddr *)&local, &len) != 0 || local.sin_family != AF_INET ||
	    peer->sa_family != AF_INET || ntohl(local.sin_addr.s_addr) >> 24 != 127) {
		lab->stats.refused++;
		evutil_closesocket(fd);
		return;
	}
	host.addr = ntohl(local.sin_addr.s_addr);
	host.peer = ntohl(((struct sockaddr_in *)peer)->sin_addr.s_addr);
	host.port = ntohs(local.sin_port);
	lab_classify(&lab->config, &host);
	lab_fixed_reload(lab, false);
	if (lab_fixed(lab, host.addr))
		host.behaviour = lab_fixed_behaviour(host.behaviour);
	lab->stats.accepted++;
	lab_behaviours[host.behaviour].start(lab, fd, &host);
}

static void lab_resume(evutil_socket_t fd, short what, void *arg)
{
	evconnlistener_enable(((struct lab_listener *)arg)->listener);
}

static void lab_accept_error(struct evconnlistener *listener, void *arg)
{
	struct lab_listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval pause = {0, 100 * 1000};
	log_warn("lab: accept: %s; pausing", evutil_socket_error_to_string(err));
	/* Out of descriptors: stop accepting for a moment instead of spinning on the error. */
	evconnlistener_disable(listener);
	evtimer_add(l->resume, &pause);
}

static void lab_signal(evutil_socket_t sig, short what, void *arg)
{
	struct lab *lab = arg;
	if (sig == SIGUSR1)
		print_stats(lab);
	else if (sig == SIGHUP)
		lab_fixed_reload(lab, true);
	else
		event_base_loopbreak(lab->base);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("lab: cannot raise the descriptor limit: %s", strerror(errno));
	}
}

static int lab_listen(struct lab *lab, struct lab_listener *l, uint16_t port)
{
	struct sockaddr_in any = {
	    .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = htons(port)};
	struct sockaddr_in bound;
	socklen_t len = sizeof bound;
	l->lab = lab;
	l->resume = evtimer_new(lab->base, lab_resume, l);
	l->listener =
	    evconnlistener_new_bind(lab->base, lab_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				    LAB_BACKLOG, (struct sockaddr *)&any, sizeof any);
	if (l->resume == NULL || l->listener == NULL) {
		fprintf(stderr, "plughole-lab: cannot listen on 0.0.0.0:%u: %s\n", port, strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(l->listener, lab_accept_error);
	if (getsockname(evconnlistener_get_fd(l->listener), (struct sockaddr *)&bound, &len) != 0)
		return -1;
	printf("listening 0.0.0.0:%u\n", ntohs(bound.sin_port));
	return 0;
}

static int lab_run(struct lab *lab, const char *forward_log_path, const char *command_log_path)
{
	struct lab_listener listeners[LAB_MAX_PORTS] = {{0}};
	int signals[] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP};
	struct event *sigevs[sizeof signals / sizeof signals[0]] = {0};
	int status = 1;
	size_t i;
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	LIST_INIT(&lab->sessions);
	lab->base = event_base_new();
	lab->greylist = lab_greylist_new();
	lab->tls = lab_tls_context();
	if (lab->base == NULL || lab->greylist == NULL || lab->tls == NULL)
		goto out;
	if (forward_log_path != NULL && (lab->forward_log = fopen(forward_log_path, "a")) == NULL) {
		fprintf(stderr, "plughole-lab: %s: %s\n", forward_log_path, strerror(errno));
		goto out;
	}
	if (command_log_path != NULL) {
		if ((lab->command_log = fopen(command_log_path, "a")) == NULL) {
			fprintf(stderr, "plughole-lab: %s: %s\n", command_log_path, strerror(errno));
			goto out;
		}
		setvbuf(lab->command_log, NULL, _IOLBF, 0); /* readable while the lab runs */
	}
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if ((sigevs[i] = evsignal_new(lab->base, signals[i], lab_signal, lab)) == NULL ||
		    event_add(sigevs[i], NULL) != 0)
			goto out;
	for (i = 0; i < lab->config.nports; i++)
		if (lab_listen(lab, &listeners[i], lab->config.ports[i]) != 0)
			goto out;
	lab_fixed_reload(lab, true);
	fflush(stdout);
	status = event_base_dispatch(lab->base) < 0;
out:
	while (!LIST_EMPTY(&lab->sessions)) {
		struct lab_session *s = LIST_FIRST(&lab->sessions);
		s->free(s);
	}
	for (i = 0; i < LAB_MAX_PORTS; i++) {
		if (listeners[i].listener != NULL)
			evconnlistener_free(listeners[i].listener);
		if (listeners[i].resume != NULL)
			event_free(listeners[i].resume);
	}
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (sigevs[i] != NULL)
			event_free(sigevs[i]);
	print_stats(lab);
	if (lab->forward_log != NULL)
		fclose(lab->forward_log);
	if (lab->command_log != NULL)
		fclose(lab->command_log);
	SSL_CTX_free(lab->tls);
	lab_greylist_free(lab->greylist);
	if (lab->base != NULL)
		event_base_free(lab->base);
	return status;
}

int main(int argc, char **argv)
{
	enum {
		O_PORT = 256,
		O_HOSTS,
		O_MIX,
		O_SEED,
		O_LATENCY,
		O_SINK,
		O_SINK_DOMAIN,
		O_GREYLIST,
		O_TARPIT,
		O_IDLE,
		O_ENDLESS,
		O_MAX_MESSAGE,
		O_FORWARD_LOG,
		O_WEB_PORT,
		O_COMMAND_LOG,
		O_BANNER_DOMAIN,
		O_FIXED_FILE,
		O_LIST,
		O_TRUTH,
		O_HELP
	};
	static const struct option options[] = {
	    {"port", required_argument, NULL, O_PORT},
	    {"hosts", required_argument, NULL, O_HOSTS},
	    {"mix", required_argument, NULL, O_MIX},
	    {"seed", required_argument, NULL, O_SEED},
	    {"latency", required_argument, NULL, O_LATENCY},
	    {"sink", required_argument, NULL, O_SINK},
	    {"sink-domain", required_argument, NULL, O_SINK_DOMAIN},
	    {"greylist-delay", required_argument, NULL, O_GREYLIST},
	    {"tarpit-delay", required_argument, NULL, O_TARPIT},
	    {"idle-timeout", required_argument, NULL, O_IDLE},
	    {"endless-rate", required_argument, NULL, O_ENDLESS},
	    {"max-message", required_argument, NULL, O_MAX_MESSAGE},
	    {"forward-log", required_argument, NULL, O_FORWARD_LOG},
	    {"web-port", required_argument, NULL, O_WEB_PORT},
	    {"command-log", required_argument, NULL, O_COMMAND_LOG},
	    {"banner-domain", required_argument, NULL, O_BANNER_DOMAIN},
	    {"fixed-file", required_argument, NULL, O_FIXED_FILE},
	    {"list", no_argument, NULL, O_LIST},
	    {"truth", no_argument, NULL, O_TRUTH},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	static struct lab lab; /* static: large, and alive for the whole run */
	struct lab_config *c = &lab.config;
	const char *forward_log_path = NULL, *command_log_path = NULL, *why = NULL;
	bool list = false, truth = false, have_mix = false;
	unsigned long n;
	int opt;
	lab_config_defaults(c);
	while ((opt = getopt_long(argc, argv, "v", options, NULL)) != -1) {
		int bad = 0;
		switch (opt) {
		case O_PORT:
			bad = c->nports == LAB_MAX_PORTS || parse_unsigned(optarg, 65535, &n) != 0;
			if (!bad)
				c->ports[c->nports++] = (uint16_t)n;
			break;
		case O_HOSTS:
			bad = c->nblocks == LAB_MAX_BLOCKS ||
			      lab_block_parse(optarg, &c->blocks[c->nblocks], &why) != 0;
			if (!bad)
				c->nblocks++;
			break;
		case O_MIX:
			bad = lab_mix_parse(optarg, &c->mix, &why) != 0;
			have_mix = !bad;
			break;
		case O_SEED:
			bad = parse_unsigned(optarg, UINT32_MAX, &n) != 0;
			c->seed = n;
			break;
		case O_LATENCY:
			bad = parse_unsigned(optarg, 600000, &n) != 0;
			c->latency_ms = (unsigned)n;
			break;
		case O_SINK:
			bad = parse_sink(optarg, &c->sink) != 0;
			c->have_sink = !bad;
			why = "want 127.x.y.z:PORT";
			break;
		case O_SINK_DOMAIN:
			c->sink_domain = optarg;
			break;
		case O_GREYLIST:
			bad = parse_unsigned(optarg, 86400, &n) != 0;
			c->greylist_delay = (unsigned)n;
			break;
		case O_TARPIT:
			bad = parse_unsigned(optarg, 86400, &n) != 0;
			c->tarpit_delay = (unsigned)n;
			break;
		case O_IDLE:
			bad = parse_unsigned(optarg, 86400, &n) != 0 || n == 0;
			c->idle_timeout = (unsigned)n;
			break;
		case O_ENDLESS:
			bad = parse_unsigned(optarg, 1 << 20, &n) != 0 || n == 0;
			c->endless_rate = (unsigned)n;
			break;
		case O_MAX_MESSAGE:
			bad = parse_unsigned(optarg, 1 << 30, &n) != 0;
			c->max_message = n;
			break;
		case O_FORWARD_LOG:
			forward_log_path = optarg;
			break;
		case O_WEB_PORT:
			bad = parse_unsigned(optarg, 65535, &n) != 0 || n == 0;
			c->web_port = (uint16_t)n;
			break;
		case O_COMMAND_LOG:
			command_log_path = optarg;
			break;
		case O_BANNER_DOMAIN:
			bad = strlen(optarg) == 0 || strlen(optarg) >= 40 || strpbrk(optarg, " \r\n") != NULL;
			why = "a name of 1 to 39 characters without spaces";
			c->banner_domain = optarg;
			break;
		case O_FIXED_FILE:
			lab.fixed_path = optarg;
			break;
		case O_LIST:
			list = true;
			break;
		case O_TRUTH:
			truth = true;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "plughole-lab: bad value for --%s: %s%s%s\n",
				options[opt - O_PORT].name, optarg, why != NULL ? ": " : "",
				why != NULL ? why : "");
			return 2;
		}
		why = NULL;
	}
	if (list) {
		print_list();
		return 0;
	}
	if (c->nblocks > 0 && !have_mix) {
		fprintf(stderr, "plughole-lab: --hosts needs --mix\n");
		return 2;
	}
	if (truth)
		return print_truth(c, argv + optind, argc - optind);
	if (optind < argc || c->nports == 0) {
		fputs(usage, stderr);
		return 2;
	}
	return lab_run(&lab, forward_log_path, command_log_path);
}

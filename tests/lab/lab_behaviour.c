/* The behaviour table, and which host plays which behaviour. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "lab.h"

const struct lab_behaviour_row lab_behaviours[LAB_BEHAVIOUR_LAST] = {
    [LAB_CLOSED] = {"closed", "closed", "refuses foreign recipients (5xx), accepts its own domain",
		    lab_smtp_start, lab_smtp_software},
    [LAB_OPEN] = {"open", "open-relay", "accepts and forwards every recipient form to the sink",
		  lab_smtp_start, lab_smtp_software},
    [LAB_DROP] = {"drop", "relay-accepted", "250 to everything, forwards nothing", lab_smtp_start,
		  lab_smtp_software},
    [LAB_PERCENT] = {"percent", "open-relay", "relays only user%dom@host (percent hack), 5xx otherwise",
		     lab_smtp_start, lab_smtp_software},
    [LAB_GREYLIST] = {"greylist", "open-relay",
		      "450 4.7.1 to a (client, sender, recipient) until --greylist-delay after its first try, then open",
		      lab_smtp_start, lab_smtp_software},
    [LAB_STARTTLS] = {"starttls", "open-relay", "530 5.7.0 before STARTTLS, open relay after it",
		      lab_smtp_start, lab_smtp_software},
    [LAB_TARPIT] = {"tarpit", "timeout", "banner only after --tarpit-delay, then closed", lab_smtp_start,
		    lab_smtp_software},
    [LAB_DRIP] = {"drip", "timeout", "banner a byte a second, then closed", lab_smtp_start,
		  lab_smtp_software},
    [LAB_GARBAGE] = {"garbage", "not-smtp", "binary junk instead of a banner, then close", lab_hostile_start,
		     NULL},
    [LAB_HTTP] = {"http", "not-smtp", "an HTTP error response instead of a banner, then close",
		  lab_hostile_start, NULL},
    [LAB_RESET] = {"reset", "unreachable", "banner, then RST at the first command", lab_smtp_start,
		   lab_smtp_software},
    [LAB_SILENT] = {"silent", "timeout", "accepts, never speaks, never closes", lab_hostile_start, NULL},
    [LAB_ENDLESS] = {"endless", "not-smtp", "a banner line that never ends (--endless-rate bytes/s)",
		     lab_hostile_start, NULL},
    [LAB_HELO_ONLY] = {"helo-only", "open-relay", "500 to EHLO, HELO works, then an open relay",
		       lab_smtp_start, lab_smtp_software},
    [LAB_TEMPFAIL] = {"tempfail", "tempfail",
		      "421 banner (even N) or 450 to every RCPT (odd N), on every attempt", lab_smtp_start,
		      lab_smtp_software},
    [LAB_HTTP_CONNECT_OPEN] = {"http-connect-open", "open-proxy-mail",
			       "HTTP CONNECT to any 127.x address and port, then a byte tunnel",
			       lab_proxy_start, lab_proxy_software},
    [LAB_HTTP_CONNECT_443] = {"http-connect-443", "open-proxy-web",
			      "HTTP CONNECT only to --web-port, 403 Forbidden to any other port",
			      lab_proxy_start, lab_proxy_software},
    [LAB_HTTP_POST] = {"http-post", "open-proxy-mail",
		       "forwards POST http://ADDR:PORT/ as it came (headers, body) and relays the answer",
		       lab_proxy_start, lab_proxy_software},
    [LAB_HTTP_GET] = {"http-get", "open-proxy-web",
		      "forwards GET http://ADDR:PORT/path as HTTP/1.0, adds Via:, 405 to other methods",
		      lab_proxy_start, lab_proxy_software},
    [LAB_SOCKS4_OPEN] = {"socks4-open", "open-proxy-mail", "SOCKS4 and SOCKS4a CONNECT to any 127.x address",
			 lab_socks_start, NULL},
    [LAB_SOCKS5_OPEN] = {"socks5-open", "open-proxy-mail",
			 "SOCKS5 without authentication, CONNECT to IPv4, ::1 and names", lab_socks_start,
			 NULL},
    [LAB_SOCKS5_AUTH] = {"socks5-auth", "closed",
			 "SOCKS5 offering only username/password, which always fails", lab_socks_start, NULL},
    [LAB_SOCKS5_REFUSE] = {"socks5-refuse", "closed",
			   "SOCKS5 accepts no authentication, then refuses CONNECT (reply 2)",
			   lab_socks_start, NULL},
    [LAB_WINGATE] = {"wingate", "open-proxy-mail", "WinGate> prompt, HOST:PORT or HOST PORT opens a tunnel",
		     lab_gateway_start, lab_gateway_software},
    [LAB_ROUTER] = {"router", "open-proxy-mail",
		    "Cisco-style login (password cisco), router> prompt, telnet HOST PORT opens a tunnel",
		    lab_gateway_start, lab_gateway_software},
    [LAB_BLOCK_PAGE] = {"block-page", "not-proxy",
			"HTTP/1.0 200 OK and a block page to every request, never tunnels", lab_proxy_start,
			lab_proxy_software},
    [LAB_HTTP_SLOW] = {"http-slow", "timeout", "reads a request, answers a byte a second", lab_proxy_start,
		       lab_proxy_software},
    [LAB_PROXY_GARBAGE] = {"proxy-garbage", "not-proxy", "binary junk in answer to a request, then close",
			   lab_hostile_start, NULL},
    [LAB_PROXY_SILENT] = {"proxy-silent", "timeout", "accepts, never answers, never closes",
			  lab_hostile_start, NULL},
    [LAB_EXIM_OPEN] = {"exim-open", "open-relay",
		       "Exim's syntax: 501 to literals and addresses without a domain, 503 out of order, "
		       "the 4th such error ends the session (even N: 501 and close; odd N: 421 after the 3rd); "
		       "relays plain addresses",
		       lab_smtp_start, lab_smtp_software},
    [LAB_EXIM_CLOSED] = {"exim-closed", "closed", "Exim's syntax and error limit as exim-open, relays nothing",
			 lab_smtp_start, lab_smtp_software},
    [LAB_STRICT_PERCENT] = {"strict-percent", "open-relay",
			    "Exim's syntax and error limit, but takes and relays user%dom@[its address] only: "
			    "the session ends before the accepted variant's message",
			    lab_smtp_start, lab_smtp_software},
    [LAB_HTTP_REFUSE] = {"http-refuse", "closed",
			 "HTTP proxy answering 403 Forbidden to every request (a proxy fixed by its ACL)",
			 lab_proxy_start, lab_proxy_software},
};

uint8_t lab_fixed_behaviour(uint8_t behaviour)
{
	lab_start_fn *start = lab_behaviours[behaviour].start;
	if (start == lab_smtp_start)
		return LAB_CLOSED;
	if (start == lab_proxy_start)
		return LAB_HTTP_REFUSE;
	if (start == lab_socks_start)
		return LAB_SOCKS5_REFUSE;
	return behaviour;
}

int lab_behaviour_find(const char *name, size_t len)
{
	for (int i = 0; i < LAB_BEHAVIOUR_LAST; i++)
		if (strlen(lab_behaviours[i].name) == len && memcmp(lab_behaviours[i].name, name, len) == 0)
			return i;
	return -1;
}

void lab_config_defaults(struct lab_config *config)
{
	memset(config, 0, sizeof *config);
	config->greylist_delay = 2;
	config->tarpit_delay = 60;
	config->idle_timeout = 60;
	config->endless_rate = 10240;
	config->max_message = 1 << 20;
	config->web_port = 443;
}

int lab_mix_parse(const char *spec, struct lab_mix *mix, const char **why)
{
	const char *p = spec;
	memset(mix, 0, sizeof *mix);
	while (*p != '\0') {
		const char *comma = strchr(p, ','), *eq = strchr(p, '=');
		size_t item = comma != NULL ? (size_t)(comma - p) : strlen(p);
		char number[32], *end;
		double weight;
		int b;
		if (eq == NULL || eq >= p + item) {
			*why = "each item is NAME=WEIGHT";
			return -1;
		}
		b = lab_behaviour_find(p, (size_t)(eq - p));
		if (b < 0) {
			*why = "unknown behaviour name (see --list)";
			return -1;
		}
		if ((size_t)(p + item - eq - 1) >= sizeof number || p + item == eq + 1) {
			*why = "bad weight";
			return -1;
		}
		memcpy(number, eq + 1, (size_t)(p + item - eq - 1));
		number[p + item - eq - 1] = '\0';
		errno = 0;
		weight = strtod(number, &end);
		if (*end != '\0' || errno != 0 || !(weight >= 0) || weight > 1e6) {
			*why = "a weight is a number from 0 to 1000000";
			return -1;
		}
		mix->total -= mix->weight[b];
		mix->weight[b] = (uint32_t)llround(weight * 1000);
		mix->total += mix->weight[b];
		p += item + (comma != NULL);
	}
	if (p > spec && p[-1] == ',') {
		*why = "a trailing comma";
		return -1;
	}
	if (mix->total == 0) {
		*why = "the weights add up to nothing";
		return -1;
	}
	return 0;
}

int lab_block_parse(const char *text, struct lab_block *block, const char **why)
{
	struct range r;
	if (range_parse(text, strlen(text), &r, why) != 0)
		return -1;
	if (!addr_is_v4(&r.first) || !addr_is_v4(&r.last)) {
		*why = "the lab plays IPv4 hosts only";
		return -1;
	}
	block->first = addr_v4(&r.first);
	block->last = addr_v4(&r.last);
	if (block->first >> 24 != 127 || block->last >> 24 != 127) {
		*why = "hosts must lie in 127.0.0.0/8";
		return -1;
	}
	return 0;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void lab_classify(const struct lab_config *config, struct lab_host *host)
{
	uint64_t x = splitmix64(host->addr ^ splitmix64(config->seed));
	host->hash = (uint32_t)(x >> 32);
	host->behaviour = LAB_CLOSED;
	if ((host->addr & 0xffff0000u) == LAB_FIXED_NET) {
		unsigned b = (host->addr >> 8) & 0xff;
		if (b < LAB_BEHAVIOUR_LAST)
			host->behaviour = (uint8_t)b;
		return;
	}
	for (size_t i = 0; i < config->nblocks; i++) {
		if (host->addr < config->blocks[i].first || host->addr > config->blocks[i].last)
			continue;
		/* Scale the low 32 bits onto [0, total): uniform without a modulo bias worth the name. */
		uint64_t pick = ((x & 0xffffffffu) * config->mix.total) >> 32;
		for (int b = 0; b < LAB_BEHAVIOUR_LAST; b++) {
			if (pick < config->mix.weight[b]) {
				host->behaviour = (uint8_t)b;
				return;
			}
			pick -= config->mix.weight[b];
		}
		return;
	}
}

const char *lab_ip(uint32_t addr, char buf[16])
{
	struct in_addr in = {htonl(addr)};
	return inet_ntop(AF_INET, &in, buf, 16);
}

const char *lab_date(char buf[40])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, 40, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	return buf;
}

void lab_session_add(struct lab *lab, struct lab_session *session, void (*free_fn)(struct lab_session *))
{
	session->free = free_fn;
	LIST_INSERT_HEAD(&lab->sessions, session, link);
	if (++lab->stats.live > lab->stats.peak)
		lab->stats.peak = lab->stats.live;
}

void lab_session_remove(struct lab *lab, struct lab_session *session)
{
	LIST_REMOVE(session, link);
	lab->stats.live--;
}

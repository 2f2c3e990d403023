/*
 * plughole-lab: one process that plays thousands of hosts on 127.0.0.0/8.
 *
 * The lab listens on wildcard ports and decides what each connection meets
 * from the address the client dialled (getsockname): 127.20.B.N is always
 * behaviour B, addresses in a --hosts block get a behaviour from a weighted
 * hash of the address, anything else is a closed SMTP server. Each behaviour
 * is one row of lab_behaviours[] pointing at the protocol file that plays it
 * (lab_smtp.c, lab_hostile.c, lab_proxy.c, lab_socks.c, lab_gateway.c), so a
 * new behaviour is a row and, for a new protocol, a file.
 */
#ifndef PLUGHOLE_LAB_H
#define PLUGHOLE_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>

/* Numbers are the B of 127.20.B.N: append, never renumber. */
enum lab_behaviour {
	LAB_CLOSED = 0,
	LAB_OPEN,
	LAB_DROP,
	LAB_PERCENT,
	LAB_GREYLIST,
	LAB_STARTTLS,
	LAB_TARPIT,
	LAB_DRIP,
	LAB_GARBAGE,
	LAB_HTTP,
	LAB_RESET,
	LAB_SILENT,
	LAB_ENDLESS,
	LAB_HELO_ONLY,
	LAB_TEMPFAIL,
	LAB_HTTP_CONNECT_OPEN, /* proxies (issue 4): lab_proxy.c, lab_socks.c, lab_gateway.c */
	LAB_HTTP_CONNECT_443,
	LAB_HTTP_POST,
	LAB_HTTP_GET,
	LAB_SOCKS4_OPEN,
	LAB_SOCKS5_OPEN,
	LAB_SOCKS5_AUTH,
	LAB_SOCKS5_REFUSE,
	LAB_WINGATE,
	LAB_ROUTER,
	LAB_BLOCK_PAGE,
	LAB_HTTP_SLOW,
	LAB_PROXY_GARBAGE,
	LAB_PROXY_SILENT,
	LAB_EXIM_OPEN, /* Exim's strict syntax and error limit (issue 11) */
	LAB_EXIM_CLOSED,
	LAB_STRICT_PERCENT,
	LAB_HTTP_REFUSE, /* a fixed HTTP proxy (--fixed-file) */
	LAB_BEHAVIOUR_LAST
};

#define LAB_FIXED_NET 0x7f140000u /* 127.20.0.0/16: 127.20.B.N plays behaviour B */
#define LAB_MAX_PORTS 16
#define LAB_MAX_BLOCKS 64

/* The host a connection reached, and how it behaves. */
struct lab_host {
	uint32_t addr; /* host byte order: the address the client dialled */
	uint32_t peer; /* host byte order: the client */
	uint16_t port;
	uint8_t behaviour;
	uint32_t hash; /* per address and seed: picks software and variants */
};

struct lab;
typedef void lab_start_fn(struct lab *lab, evutil_socket_t fd, const struct lab_host *host);
/* Name of the software the host pretends to be, for --truth; NULL if none. */
typedef const char *lab_software_fn(const struct lab_host *host);

struct lab_behaviour_row {
	const char *name;
	const char *verdict; /* what plughole verify should conclude (DESIGN.md words) */
	const char *summary;
	lab_start_fn *start;
	lab_software_fn *software;
};

extern const struct lab_behaviour_row lab_behaviours[LAB_BEHAVIOUR_LAST];

/* Index of the behaviour called name, or -1. */
int lab_behaviour_find(const char *name, size_t len);

struct lab_mix {
	uint32_t weight[LAB_BEHAVIOUR_LAST]; /* parts per thousand of a unit */
	uint64_t total;
};

struct lab_block {
	uint32_t first, last; /* host byte order, inclusive */
};

struct lab_config {
	uint16_t ports[LAB_MAX_PORTS];
	size_t nports;
	struct lab_block blocks[LAB_MAX_BLOCKS];
	size_t nblocks;
	struct lab_mix mix;
	uint64_t seed;
	unsigned latency_ms;
	unsigned greylist_delay; /* seconds */
	unsigned tarpit_delay;	 /* seconds */
	unsigned idle_timeout;	 /* seconds */
	unsigned endless_rate;	 /* bytes per second */
	size_t max_message;	 /* bytes */
	uint16_t web_port;	 /* the only port http-connect-443 tunnels to */
	bool have_sink;
	struct sockaddr_in sink;
	const char *sink_domain; /* NULL: forward every relayed recipient */
	const char *banner_domain; /* NULL: each host names itself <addr>.lab.test */
};

void lab_config_defaults(struct lab_config *config);

/*
 * "open=3,closed=50,silent=20": behaviour names with non-negative weights
 * (decimals allowed). 0 on success, -1 with *why set.
 */
int lab_mix_parse(const char *spec, struct lab_mix *mix, const char **why);
/* "127.21.0.0/16" or "127.21.0.1-127.21.0.9", IPv4 inside 127.0.0.0/8. */
int lab_block_parse(const char *text, struct lab_block *block, const char **why);
/* A behaviour once its owner fixed it: an SMTP host refuses to relay (closed), an HTTP proxy answers
 * 403 to everything (http-refuse), a SOCKS proxy refuses CONNECT (socks5-refuse); others stay as they are. */
uint8_t lab_fixed_behaviour(uint8_t behaviour);
/* Fills host->behaviour and host->hash for the address host->addr. */
void lab_classify(const struct lab_config *config, struct lab_host *host);

/* Every live connection or forwarding job, so the lab can free them at exit. */
struct lab_session {
	LIST_ENTRY(lab_session) link;
	void (*free)(struct lab_session *session);
};

struct lab_stats {
	uint64_t accepted, refused, messages, forwarded, forward_failed;
	uint64_t tunnels, tunnel_failed; /* proxies' outgoing connections */
	uint64_t live, peak;
};

struct lab_greylist;

struct lab {
	struct event_base *base;
	struct lab_config config;
	struct ssl_ctx_st *tls; /* SSL_CTX: built at start when STARTTLS hosts may exist */
	struct lab_greylist *greylist;
	FILE *forward_log; /* NULL: forwards are logged at debug level only */
	FILE *command_log; /* NULL: SMTP commands are not logged */
	/* --fixed-file: hosts that play their behaviour's fixed form (lab_fixed_behaviour), re-read
	 * when the file changes and on SIGHUP */
	const char *fixed_path;
	struct lab_block *fixed;
	size_t nfixed;
	struct timespec fixed_mtime;
	off_t fixed_size;
	bool fixed_seen; /* the file existed at the last look */
	LIST_HEAD(, lab_session) sessions;
	struct lab_stats stats;
};

void lab_session_add(struct lab *lab, struct lab_session *session, void (*free_fn)(struct lab_session *));
void lab_session_remove(struct lab *lab, struct lab_session *session);

/* Formats a host byte order IPv4 address; returns buf. */
const char *lab_ip(uint32_t addr, char buf[16]);
/* RFC 5322 date of now, for banners and Received: lines; returns buf. */
const char *lab_date(char buf[40]);

/* Protocol files. */
lab_start_fn lab_smtp_start;
lab_software_fn lab_smtp_software;
lab_start_fn lab_hostile_start;
lab_start_fn lab_proxy_start; /* HTTP proxies */
lab_software_fn lab_proxy_software;
lab_start_fn lab_socks_start;
lab_start_fn lab_gateway_start; /* WinGate, router */
lab_software_fn lab_gateway_software;

/* The self-signed certificate and key, made in memory; NULL on failure. */
struct ssl_ctx_st *lab_tls_context(void);

/* Greylisting memory: (client, sender, recipient) triplets per host, as postgrey
 * keys them, and when each was first seen. */
struct lab_greylist *lab_greylist_new(void);
void lab_greylist_free(struct lab_greylist *list);
/* Seconds since the triplet was first seen at host; 0 (and remembered) when new. */
long lab_greylist_age(struct lab_greylist *list, uint32_t client, uint32_t host, const char *sender,
		      const char *recipient, time_t now);

#endif

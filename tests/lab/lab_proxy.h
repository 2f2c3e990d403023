/*
 * The lab's proxy hosts (issue 4): what HTTP proxies (lab_proxy.c), SOCKS
 * servers (lab_socks.c) and telnet-style gateways (lab_gateway.c) share.
 *
 * A proxy connection is a struct lab_proxy (lab_tunnel.c): the client's
 * bufferevent, and once the protocol asks for one, an outgoing connection to
 * a destination inside 127.0.0.0/8 (or ::1) and a byte tunnel between the
 * two with bounded buffers and backpressure. Each protocol gives a table of
 * callbacks (struct lab_proxy_ops) and embeds struct lab_proxy at the start
 * of its own session struct. The parsers are pure functions over (buf, len).
 */
#ifndef PLUGHOLE_LAB_PROXY_H
#define PLUGHOLE_LAB_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lab.h"

/* Per direction, at most this much waits in the lab before it stops reading the sending side. */
#define LAB_TUNNEL_BUFFER 16384
#define LAB_CONNECT_TIMEOUT 10 /* seconds for an outgoing connection */
#define LAB_LINGER_SECONDS 2   /* after the last reply: read and discard, so the client gets it */
#define LAB_NAME_MAX 255       /* a destination host name (SOCKS5 allows 255 bytes) */

/* ---- destinations: the only places a tunnel may go -------------------------- */

union lab_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

enum lab_dest_result {
	LAB_DEST_OK,
	LAB_DEST_FORBIDDEN, /* outside 127.0.0.0/8 and ::1: refused with the protocol's error */
	LAB_DEST_UNKNOWN,   /* a name the lab does not resolve */
};

/*
 * A destination given as text: an IPv4 literal, an IPv6 literal (with or
 * without brackets), or a name. "localhost" and names equal to or ending in
 * "." + --sink-domain resolve to the --sink address; every other name is
 * unknown (the lab never asks DNS).
 */
enum lab_dest_result lab_dest_name(const struct lab_config *config, const char *host, size_t len,
				   uint16_t port, union lab_sockaddr *out);
/* An IPv4 address in host byte order. */
enum lab_dest_result lab_dest_v4(uint32_t addr, uint16_t port, union lab_sockaddr *out);
/* An IPv6 address in network byte order. */
enum lab_dest_result lab_dest_v6(const uint8_t addr[16], uint16_t port, union lab_sockaddr *out);
socklen_t lab_sockaddr_len(const union lab_sockaddr *sa);
/* A decimal port 1-65535, digits only. 0 on success, -1 otherwise. */
int lab_port_parse(const char *s, size_t len, uint16_t *port);

/* ---- a proxy connection ------------------------------------------------------- */

struct lab_proxy;

struct lab_proxy_ops {
	/* Outside a tunnel: client input came, or the last reply went out; take the next step. */
	void (*proceed)(struct lab_proxy *p);
	/* The outgoing connection is up (NULL: nothing to do, e.g. a forward already tunnelling). */
	void (*connected)(struct lab_proxy *p);
	/* It could not be made (an errno, ETIMEDOUT for the timeout), or it closed before any answer. */
	void (*failed)(struct lab_proxy *p, int error);
	/* In a tunnel, client input for the target / target input for the client; NULL: passed as is. */
	void (*to_target)(struct lab_proxy *p, struct evbuffer *in, struct evbuffer *out);
	void (*to_client)(struct lab_proxy *p, struct evbuffer *in, struct evbuffer *out);
	/* The protocol's own allocations (NULL: none). */
	void (*free)(struct lab_proxy *p);
};

enum lab_proxy_timer { PROXY_TIMER_NONE, PROXY_TIMER_HOLD, PROXY_TIMER_LINGER };

struct lab_proxy {
	struct lab_session base;
	struct lab *lab;
	const struct lab_proxy_ops *ops;
	struct bufferevent *client;
	struct bufferevent *target; /* the outgoing connection, once asked for */
	struct event *timer;	    /* a held reply (--latency) or the final linger; made when needed */
	struct lab_host host;
	time_t active; /* last input on either side of a tunnel (seconds, the loop's clock) */
	uint8_t timer_use;
	uint8_t state; /* the protocol's */
	bool delaying; /* a reply is held back: no output, no next step */
	bool answered; /* the client has had a reply (a relayed answer is held once, as a reply) */
	bool connecting, tunnel, closing, client_eof;
	bool client_paused, target_paused; /* not read: the other side's output is full */
};

/*
 * Takes the accepted socket; size is the protocol's struct (which starts with
 * struct lab_proxy), input_max the most client input buffered outside a
 * tunnel. NULL (socket closed) on failure.
 */
struct lab_proxy *lab_proxy_new(struct lab *lab, evutil_socket_t fd, const struct lab_host *host,
				const struct lab_proxy_ops *ops, size_t size, size_t input_max);
void lab_proxy_free(struct lab_proxy *p);

/* Queues bytes for the client; lab_proxy_sent() ends a reply (--latency holds it back). */
void lab_proxy_write(struct lab_proxy *p, const void *data, size_t len);
void lab_proxy_printf(struct lab_proxy *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lab_proxy_sent(struct lab_proxy *p);
/* Holds the queued output back ms milliseconds; proceed() comes once it is out. */
void lab_proxy_hold(struct lab_proxy *p, unsigned ms);

/*
 * Starts the outgoing connection (from the host's own address for IPv4, so
 * the target sees the proxy as the exit); ops->connected or ops->failed
 * follow. Client input waits meanwhile. -1 when it cannot even start (the
 * caller answers with its error); dest must come from lab_dest_*().
 */
int lab_proxy_connect(struct lab_proxy *p, const union lab_sockaddr *dest);
/* Relays both ways from now on; bytes may be queued for the target before it is connected. */
void lab_proxy_tunnel(struct lab_proxy *p);
/* Ends the connection once the queued output is out (then a short linger). */
void lab_proxy_close(struct lab_proxy *p);

/* ---- HTTP requests (lab_proxy.c) ---------------------------------------------- */

enum lab_http_method {
	LAB_METHOD_GET,
	LAB_METHOD_POST,
	LAB_METHOD_CONNECT,
	LAB_METHOD_OTHER,
	LAB_METHOD_LAST
};

extern const char *const lab_http_method_names[LAB_METHOD_LAST];

struct lab_http_request {
	enum lab_http_method method;
	const char *host; /* into the line; an IPv6 literal without its brackets */
	size_t host_len;
	uint16_t port;
	const char *path; /* origin form ("/x"), "/" when the URI has none; empty for CONNECT */
	size_t path_len;
	int minor; /* HTTP/1.minor */
};

/*
 * A proxy request line: "CONNECT host:port HTTP/1.x" or "METHOD
 * http://host[:port][/path] HTTP/1.x". 0 on success, -1 when it is none
 * (origin-form targets, other schemes, other versions included).
 */
int lab_http_request_parse(const char *line, size_t len, struct lab_http_request *out);
/*
 * The value of header name (case-insensitive) in head, the header lines after
 * the request line (CRLF-separated), trimmed. 0 when found, -1 when absent.
 */
int lab_http_header(const char *head, size_t len, const char *name, const char **value, size_t *value_len);

/* ---- SOCKS messages (lab_socks.c) ---------------------------------------------- */

enum { LAB_SOCKS_ATYP_V4 = 1, LAB_SOCKS_ATYP_NAME = 3, LAB_SOCKS_ATYP_V6 = 4 };

struct lab_socks_request {
	uint8_t command; /* 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE */
	uint8_t atyp;	 /* LAB_SOCKS_ATYP_*; SOCKS4a's name is ATYP_NAME */
	uint8_t addr[16];
	char name[LAB_NAME_MAX + 1];
	uint16_t port;
};

/*
 * Each returns the bytes the message takes when buf starts with a whole one,
 * 0 when more is needed, -1 when it is not one.
 */
int lab_socks4_parse(const uint8_t *buf, size_t len, struct lab_socks_request *out);
/* The version 5 greeting; *no_auth and *password say which methods it offers. */
int lab_socks5_greeting_parse(const uint8_t *buf, size_t len, bool *no_auth, bool *password);
/* RFC 1929 username/password (their values are not kept: every one fails). */
int lab_socks5_auth_parse(const uint8_t *buf, size_t len);
int lab_socks5_request_parse(const uint8_t *buf, size_t len, struct lab_socks_request *out);

/* ---- gateways (lab_gateway.c) --------------------------------------------------- */

/*
 * "HOST:PORT" or "HOST PORT" (also "[v6]:PORT"); a missing port is
 * default_port when that is not 0. 0 on success, -1 otherwise.
 */
int lab_gateway_target_parse(const char *line, size_t len, uint16_t default_port, char host[LAB_NAME_MAX + 1],
			     uint16_t *port);

#endif

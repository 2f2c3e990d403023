/*
 * Telnet-style gateways: a WinGate proxy ("WinGate>" prompt, then HOST:PORT
 * or HOST PORT) and a Cisco-style router left with its default password
 * ("cisco"; "telnet HOST PORT" at the router> prompt). Both read lines of at
 * most GATEWAY_LINE_MAX bytes and open a tunnel to what they are given.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/log.h"
#include "lab_proxy.h"

#define GATEWAY_LINE_MAX 256
#define GATEWAY_INPUT_MAX 1024
#define GATEWAY_ERRORS_MAX 20 /* bad lines before the gateway hangs up */
#define ROUTER_TRIES 3	      /* password attempts, as IOS allows */
#define ROUTER_PASSWORD "cisco"
#define TELNET_PORT 23

enum gateway_state {
	GATEWAY_PASSWORD,   /* router: "Password: " asked */
	GATEWAY_PROMPT,	    /* the prompt is out: waiting for a command or HOST:PORT */
	GATEWAY_CONNECTING, /* the outgoing connection */
	GATEWAY_TUNNEL,
	GATEWAY_DONE, /* the last reply is queued */
	GATEWAY_STATE_LAST
};

static const char *const gateway_state_names[GATEWAY_STATE_LAST] = {
    [GATEWAY_PASSWORD] = "password", [GATEWAY_PROMPT] = "prompt", [GATEWAY_CONNECTING] = "connecting",
    [GATEWAY_TUNNEL] = "tunnel",     [GATEWAY_DONE] = "done",
};

struct gateway_session {
	struct lab_proxy p;
	uint8_t tries, errors;
};

const char *lab_gateway_software(const struct lab_host *host)
{
	return host->behaviour == LAB_ROUTER ? "Cisco IOS" : "WinGate";
}

/* ---- parsing (pure) ----------------------------------------------------------------- */

static bool gateway_blank(char c)
{
	return c == ' ' || c == '\t';
}

int lab_gateway_target_parse(const char *line, size_t len, uint16_t default_port, char host[LAB_NAME_MAX + 1],
			     uint16_t *port)
{
	const char *h, *p = NULL, *end;
	size_t hlen, plen = 0;
	while (len > 0 && gateway_blank(*line)) {
		line++;
		len--;
	}
	while (len > 0 && gateway_blank(line[len - 1]))
		len--;
	end = line + len;
	if (len == 0)
		return -1;
	if (line[0] == '[') {
		const char *close = memchr(line, ']', len);
		if (close == NULL)
			return -1;
		h = line + 1;
		hlen = (size_t)(close - h);
		p = close + 1;
		if (p < end && (*p == ':' || gateway_blank(*p)))
			p++;
		else if (p != end)
			return -1;
	} else {
		const char *blank = memchr(line, ' ', len), *colon = memchr(line, ':', len);
		if (blank == NULL)
			blank = memchr(line, '\t', len);
		h = line;
		if (blank != NULL) {
			hlen = (size_t)(blank - line);
			p = blank + 1;
		} else if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL) {
			hlen = (size_t)(colon - line);
			p = colon + 1;
		} else {
			hlen = len; /* no port, or an IPv6 literal without brackets */
		}
	}
	if (p != NULL) {
		while (p < end && gateway_blank(*p))
			p++;
		plen = (size_t)(end - p);
	}
	if (hlen == 0 || hlen > LAB_NAME_MAX || memchr(h, '\0', hlen) != NULL || memchr(h, ' ', hlen) != NULL)
		return -1;
	if (plen == 0) {
		if (default_port == 0)
			return -1;
		*port = default_port;
	} else if (lab_port_parse(p, plen, port) != 0) {
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

/* ---- the dialogue ------------------------------------------------------------------ */

static void gateway_enter(struct gateway_session *g, enum gateway_state state)
{
	log_debug("lab gateway %s: %s -> %s", lab_behaviours[g->p.host.behaviour].name,
		  gateway_state_names[g->p.state], gateway_state_names[state]);
	g->p.state = (uint8_t)state;
}

static bool gateway_router(const struct gateway_session *g)
{
	return g->p.host.behaviour == LAB_ROUTER;
}

static void gateway_prompt(struct gateway_session *g)
{
	lab_proxy_printf(&g->p, "%s", gateway_router(g) ? "router>" : "WinGate>");
	gateway_enter(g, GATEWAY_PROMPT);
	lab_proxy_sent(&g->p);
}

/* The last words: then the gateway hangs up. */
static void gateway_bye(struct gateway_session *g, const char *text)
{
	lab_proxy_printf(&g->p, "%s", text);
	gateway_enter(g, GATEWAY_DONE);
	lab_proxy_sent(&g->p);
	lab_proxy_close(&g->p);
}

/* A line it does not understand: say so and prompt again, up to a limit. */
static void gateway_bad_line(struct gateway_session *g, const char *text)
{
	if (++g->errors >= GATEWAY_ERRORS_MAX) {
		gateway_bye(g, text);
		return;
	}
	lab_proxy_printf(&g->p, "%s", text);
	gateway_prompt(g);
}

static void gateway_open(struct gateway_session *g, const char *host, uint16_t port)
{
	union lab_sockaddr dest;
	bool router = gateway_router(g);
	enum lab_dest_result r = lab_dest_name(&g->p.lab->config, host, strlen(host), port, &dest);
	if (router)
		lab_proxy_printf(&g->p, "Trying %s, %u ... ", host, port);
	else
		lab_proxy_printf(&g->p, "Connecting to host %s...", host);
	if (r == LAB_DEST_OK && lab_proxy_connect(&g->p, &dest) == 0) {
		gateway_enter(g, GATEWAY_CONNECTING);
		lab_proxy_sent(&g->p);
		return;
	}
	if (router) {
		gateway_bad_line(
		    g, r == LAB_DEST_UNKNOWN
			   ? "\r\n% Unknown command or computer name, or unable to find computer address\r\n"
			   : "\r\n% Destination unreachable; gateway or host down\r\n\r\n");
	} else if (r == LAB_DEST_UNKNOWN) {
		lab_proxy_printf(&g->p, "Host name lookup for '%s' failed\r\n", host);
		gateway_bye(g, "");
	} else {
		gateway_bye(g, "Access denied\r\n");
	}
}

static void gateway_password(struct gateway_session *g, const char *line)
{
	if (strcmp(line, ROUTER_PASSWORD) == 0) {
		lab_proxy_printf(&g->p, "\r\n");
		gateway_prompt(g);
	} else if (++g->tries >= ROUTER_TRIES) {
		gateway_bye(g, "\r\n% Bad passwords\r\n");
	} else {
		lab_proxy_printf(&g->p, "\r\nPassword: ");
		lab_proxy_sent(&g->p);
	}
}

static void gateway_command(struct gateway_session *g, const char *line, size_t len)
{
	char host[LAB_NAME_MAX + 1];
	uint16_t port;
	size_t verb = strcspn(line, " \t");
	if (len == 0) {
		gateway_prompt(g);
		return;
	}
	if (!gateway_router(g)) {
		if (lab_gateway_target_parse(line, len, TELNET_PORT, host, &port) != 0)
			gateway_bad_line(g, "Invalid host or port\r\n");
		else
			gateway_open(g, host, port);
		return;
	}
	if ((verb == 4 && strncasecmp(line, "exit", 4) == 0) ||
	    (verb == 4 && strncasecmp(line, "quit", 4) == 0) ||
	    (verb == 6 && strncasecmp(line, "logout", 6) == 0)) {
		gateway_bye(g, "\r\n");
		return;
	}
	if (verb != 6 || strncasecmp(line, "telnet", 6) != 0) {
		gateway_bad_line(g, "% Unknown command\r\n");
		return;
	}
	if (lab_gateway_target_parse(line + verb, len - verb, TELNET_PORT, host, &port) != 0)
		gateway_bad_line(
		    g, "% Unknown command or computer name, or unable to find computer address\r\n");
	else
		gateway_open(g, host, port);
}

static void gateway_proceed(struct lab_proxy *p)
{
	struct gateway_session *g = (struct gateway_session *)p;
	struct evbuffer *in = bufferevent_get_input(p->client);
	char line[GATEWAY_LINE_MAX + 1];
	while (!p->delaying && !p->closing && !p->connecting && !p->tunnel) {
		size_t eol_len = 0, len;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		len = eol.pos < 0 ? evbuffer_get_length(in) : (size_t)eol.pos;
		if (len > GATEWAY_LINE_MAX) {
			gateway_bye(g,
				    gateway_router(g) ? "\r\n% Line too long\r\n" : "\r\nLine too long\r\n");
			return;
		}
		if (eol.pos < 0)
			return;
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		/* A telnet client may send NUL after CR; a line with a NUL in it is no command. */
		len = strlen(line);
		while (len > 0 && gateway_blank(line[len - 1]))
			line[--len] = '\0';
		if (p->state == GATEWAY_PASSWORD)
			gateway_password(g, line);
		else if (p->state == GATEWAY_PROMPT)
			gateway_command(g, line, len);
	}
}

static void gateway_connected(struct lab_proxy *p)
{
	struct gateway_session *g = (struct gateway_session *)p;
	lab_proxy_printf(p, "%s", gateway_router(g) ? "Open\r\n" : "Connected\r\n");
	gateway_enter(g, GATEWAY_TUNNEL);
	lab_proxy_sent(p);
	lab_proxy_tunnel(p);
}

static void gateway_failed(struct lab_proxy *p, int error)
{
	struct gateway_session *g = (struct gateway_session *)p;
	bool timeout = error == ETIMEDOUT;
	if (gateway_router(g))
		gateway_bad_line(g, timeout ? "\r\n% Connection timed out; remote host not responding\r\n\r\n"
					    : "\r\n% Connection refused by remote host\r\n\r\n");
	else
		gateway_bye(g, timeout ? "Connection timed out\r\n" : "Connection refused\r\n");
}

static const struct lab_proxy_ops gateway_ops = {
    .proceed = gateway_proceed,
    .connected = gateway_connected,
    .failed = gateway_failed,
};

void lab_gateway_start(struct lab *lab, evutil_socket_t fd, const struct lab_host *host)
{
	struct lab_proxy *p =
	    lab_proxy_new(lab, fd, host, &gateway_ops, sizeof(struct gateway_session), GATEWAY_INPUT_MAX);
	struct gateway_session *g = (struct gateway_session *)p;
	if (p == NULL)
		return;
	if (host->behaviour == LAB_ROUTER) {
		lab_proxy_printf(p, "User Access Verification\r\n\r\nPassword: ");
		p->state = GATEWAY_PASSWORD;
		lab_proxy_sent(p);
	} else {
		gateway_prompt(g);
	}
}

/*
 * SOCKS proxies: SOCKS4 (IPv4 address), SOCKS4a (the address as a name),
 * SOCKS5 (RFC 1928; IPv4 or IPv6 address type) and SOCKS5 with the domain
 * address type ("socks5h"). SOCKS5 offers only "no authentication": both
 * the method negotiation and the CONNECT must succeed. A server that wants
 * a password is closed (auth required); a refused CONNECT closes that aim.
 * Names are only ever the sink's or target's own address as text, so no
 * proxy resolves anything of our choosing.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "probe/proxy_tunnel.h"

enum socks_phase {
	SOCKS_METHOD, /* SOCKS5: the greeting is out; waiting for the chosen method */
	SOCKS_REPLY,  /* the CONNECT request is out */
	SOCKS_TUNNEL,
	SOCKS_PHASE_LAST,
};

static const char *const socks_phase_names[SOCKS_PHASE_LAST] = {
    [SOCKS_METHOD] = "method",
    [SOCKS_REPLY] = "reply",
    [SOCKS_TUNNEL] = "tunnel",
};

struct socks_session {
	struct proxy_conn p;
	uint8_t phase;
	uint8_t version; /* 4 or 5 */
	bool by_name;	 /* SOCKS4a, SOCKS5 domain type */
};

static void set_phase(struct probe_conn *conn, struct socks_session *s, enum socks_phase phase)
{
	s->phase = (uint8_t)phase;
	probe_set_timeout(conn, probe_settings(conn)->idle_timeout);
}

static void send_connect(struct probe_conn *conn, struct socks_session *s)
{
	uint8_t request[300];
	char where[ADDR_PORT_STRLEN];
	size_t len =
	    s->version == 4
		? socks4_request_build(request, sizeof request, &s->p.to, s->p.port, "plughole", s->by_name)
		: socks5_request_build(request, sizeof request, &s->p.to, s->p.port, s->by_name);
	if (len == 0) {
		proxy_note(conn, "SOCKS4 cannot name an IPv6 address");
		probe_finish_aim(conn, VERDICT_NONE);
		return;
	}
	probe_send(conn, (const char *)request, len);
	proxy_said(conn, ">> ", "SOCKS%u CONNECT %s%s", s->version,
		   addr_port_format(&s->p.to, s->p.port, where), s->by_name ? " (as a name)" : "");
	set_phase(conn, s, SOCKS_REPLY);
}

static void socks_start(struct probe_conn *conn)
{
	struct socks_session *s = probe_state(conn);
	const struct probe_module *m = probe_module_of(conn);
	proxy_begin(conn, &s->p);
	s->version = m->group == PROXY_GROUP_SOCKS4 ? 4 : 5;
	s->by_name = m == &probe_socks4a || m == &probe_socks5h;
	if (s->version == 4) {
		send_connect(conn, s);
		return;
	}
	/* Only "no authentication" is offered: we never have credentials. */
	static const uint8_t greeting[] = {5, 1, SOCKS5_NO_AUTH};
	probe_send(conn, (const char *)greeting, sizeof greeting);
	proxy_said(conn, ">> ", "SOCKS5 greeting: no authentication");
	set_phase(conn, s, SOCKS_METHOD);
}

static void not_socks(struct probe_conn *conn, struct socks_session *s, const uint8_t *buf, size_t len)
{
	proxy_said_raw(conn, buf, len);
	proxy_note(conn, "not a SOCKS%u answer", s->version);
	probe_finish(conn, VERDICT_NOT_PROXY);
}

static void read_method(struct probe_conn *conn, struct socks_session *s, const uint8_t *buf, size_t len)
{
	uint8_t method;
	enum proxy_parse rc = socks5_method_parse(buf, len, &method);
	if (rc == PROXY_PARSE_MORE)
		return;
	if (rc != PROXY_PARSE_DONE) {
		not_socks(conn, s, buf, len);
		return;
	}
	if (len > 2) { /* a server says no more before our next message */
		not_socks(conn, s, buf, len);
		return;
	}
	evbuffer_drain(probe_input(conn), 2);
	if (method == SOCKS5_NO_AUTH) {
		proxy_said(conn, "<< ", "SOCKS5 method: no authentication");
		send_connect(conn, s);
		return;
	}
	proxy_said(conn, "<< ", "SOCKS5 method %#x: %s", method,
		   method == SOCKS5_NO_METHOD  ? "none acceptable (authentication required)"
		   : method == SOCKS5_USERPASS ? "username/password (authentication required)"
					       : "not one we offered");
	probe_finish(conn, VERDICT_CLOSED);
}

static void read_reply(struct probe_conn *conn, struct socks_session *s, const uint8_t *buf, size_t len)
{
	uint8_t code;
	size_t consumed = 8;
	enum proxy_parse rc = s->version == 4 ? socks4_reply_parse(buf, len, &code)
					      : socks5_reply_parse(buf, len, &code, &consumed);
	if (rc == PROXY_PARSE_MORE)
		return;
	if (rc != PROXY_PARSE_DONE) {
		not_socks(conn, s, buf, len);
		return;
	}
	bool granted = s->version == 4 ? code == SOCKS4_GRANTED : code == SOCKS5_SUCCEEDED;
	if (!granted && len > consumed) { /* a refusal ends the conversation: more bytes are not SOCKS */
		not_socks(conn, s, buf, len);
		return;
	}
	evbuffer_drain(probe_input(conn), consumed);
	proxy_said(conn, "<< ", "SOCKS%u reply %u: %s", s->version, code,
		   s->version == 4 ? socks4_reply_name(code) : socks5_reply_name(code));
	if (!granted) {
		/* Tried and could not connect: it forwards still (the sink down, its network blocking the mail
		 * port), which a recheck must not count as fixed. */
		bool tried = s->version == 5 && code >= SOCKS5_NET_UNREACHABLE && code <= SOCKS5_TTL_EXPIRED;
		probe_finish_aim(conn, tried ? VERDICT_TEMPFAIL : VERDICT_CLOSED);
		return;
	}
	s->phase = SOCKS_TUNNEL;
	proxy_tunnel_start(conn, &s->p, true, false);
}

static void socks_on_readable(struct probe_conn *conn)
{
	struct socks_session *s = probe_state(conn);
	if (s->phase == SOCKS_TUNNEL) {
		proxy_tunnel_read(conn, &s->p);
		return;
	}
	struct evbuffer *in = probe_input(conn);
	size_t len = evbuffer_get_length(in);
	if (!proxy_budget(conn, &s->p, len))
		return;
	const uint8_t *buf = evbuffer_pullup(in, (ssize_t)len);
	if (s->phase == SOCKS_METHOD)
		read_method(conn, s, buf, len);
	else
		read_reply(conn, s, buf, len);
}

static void socks_on_timeout(struct probe_conn *conn)
{
	struct socks_session *s = probe_state(conn);
	if (s->phase == SOCKS_TUNNEL) {
		proxy_tunnel_timeout(conn, &s->p);
		return;
	}
	proxy_note(conn, "timeout in %s", socks_phase_names[s->phase]);
	probe_finish(conn, VERDICT_TIMEOUT);
}

static void socks_on_closed(struct probe_conn *conn, int error)
{
	struct socks_session *s = probe_state(conn);
	if (s->phase == SOCKS_TUNNEL) {
		proxy_tunnel_closed(conn, &s->p, error);
		return;
	}
	proxy_note(conn, "closed by the peer in %s%s%s", socks_phase_names[s->phase], error ? ": " : "",
		   error ? strerror(error) : "");
	probe_finish(conn, VERDICT_NOT_PROXY);
}

static const uint16_t socks_ports[] = {1080, 1081, 1082, 1088, 4145, 9050, 10080, 0};
static const uint16_t no_ports[] = {0};

#define SOCKS_MODULE(var, module_name, group_id, port_list, any)                                             \
	const struct probe_module var = {                                                                    \
	    .name = module_name,                                                                             \
	    .family = PROBE_PROXY,                                                                           \
	    .ports = port_list,                                                                              \
	    .group = group_id,                                                                               \
	    .alias = "socks",                                                                                \
	    .aims = PROBE_AIM_MAIL | PROBE_AIM_WEB,                                                          \
	    .any_port = any,                                                                                 \
	    .state_size = sizeof(struct socks_session),                                                      \
	    .start = socks_start,                                                                            \
	    .on_readable = socks_on_readable,                                                                \
	    .on_timeout = socks_on_timeout,                                                                  \
	    .on_closed = socks_on_closed,                                                                    \
	    .on_proof = proxy_on_proof,                                                                      \
	}

/* SOCKS4 is tried before SOCKS5 (modules.c): a SOCKS5 server rejects a SOCKS4 request at its first
 * byte, while an old SOCKS4 server may wait for more of a 3-byte SOCKS5 greeting until it times out.
 * The name forms add nothing where the address forms work; they run when named (--protocols, --ports). */
SOCKS_MODULE(probe_socks4, "socks4", PROXY_GROUP_SOCKS4, socks_ports, true);
SOCKS_MODULE(probe_socks4a, "socks4a", PROXY_GROUP_SOCKS4, no_ports, false);
SOCKS_MODULE(probe_socks5, "socks5", PROXY_GROUP_SOCKS5, socks_ports, true);
SOCKS_MODULE(probe_socks5h, "socks5h", PROXY_GROUP_SOCKS5, no_ports, false);

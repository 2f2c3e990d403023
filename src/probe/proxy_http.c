/*
 * HTTP proxies, in clear and over TLS (HTTPS proxies): CONNECT opens a
 * tunnel to the sink's SMTP port or a target; POST forwards a body that is
 * an SMTP conversation to the sink's SMTP port (the classic way to send
 * spam through a proxy that refuses CONNECT), or asks a target for its
 * page; GET forwards a request to a target, whose page carries a nonce.
 *
 * Verdicts: the tunnel's proof decides (proxy_tunnel.c); 407 is closed for
 * the protocol (authentication required), any other refusal closes only
 * that aim (a proxy may allow port 443 and refuse 25); a 2xx that proves
 * nothing, a redirect (captive portal) or a non-HTTP answer is not-proxy.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "probe/proxy_tunnel.h"
#include "probe/smtp_message.h"

enum http_method { HTTP_CONNECT, HTTP_POST, HTTP_GET };

enum http_phase {
	HTTP_TLS,	  /* HTTPS proxies: the handshake with the proxy itself */
	HTTP_RESPONSE,	  /* the request is out; reading the proxy's status and headers */
	HTTP_BODY,	  /* a forwarded request's answer: looking for the target's nonce */
	HTTP_AWAIT_PROOF, /* a forwarded SMTP conversation: waiting for the sink's proof */
	HTTP_TUNNEL,	  /* CONNECT succeeded */
	HTTP_PHASE_LAST,
};

static const char *const http_phase_names[HTTP_PHASE_LAST] = {
    [HTTP_TLS] = "tls",	      [HTTP_RESPONSE] = "response",
    [HTTP_BODY] = "body",     [HTTP_AWAIT_PROOF] = "await-proof",
    [HTTP_TUNNEL] = "tunnel",
};

struct http_session {
	struct proxy_conn p;
	uint8_t phase;
	uint8_t method;
	uint16_t status; /* the proxy's answer to a forwarded request, 0 when none was HTTP */
};

/* A POST body: the SMTP conversation with the test message. */
#define HTTP_POST_BODY_MAX (SMTP_MESSAGE_MAX + 1024)

static enum http_method method_of(const struct probe_module *m)
{
	if (m == &probe_http_connect || m == &probe_https_connect)
		return HTTP_CONNECT;
	return m == &probe_http_post || m == &probe_https_post ? HTTP_POST : HTTP_GET;
}

static void set_phase(struct probe_conn *conn, struct http_session *s, enum http_phase phase)
{
	s->phase = (uint8_t)phase;
	if (phase == HTTP_AWAIT_PROOF)
		probe_wait(conn, PROBE_WAIT_GRACE, probe_settings(conn)->proof_grace);
	else
		probe_set_timeout(conn, probe_settings(conn)->idle_timeout);
}

static void send_request(struct probe_conn *conn, struct http_session *s)
{
	char host[ADDR_STRLEN + 2];
	proxy_aim_host(&s->p, host);
	uint16_t port = s->p.port;
	if (s->method == HTTP_CONNECT) {
		probe_send_line(conn, "CONNECT %s:%u HTTP/1.0", host, port);
		probe_send(conn, "\r\n", 2);
	} else if (s->method == HTTP_POST && s->p.aim == PROBE_AIM_MAIL) {
		char body[HTTP_POST_BODY_MAX];
		size_t len = proxy_smtp_script(conn, &s->p, body, sizeof body);
		probe_send_line(conn, "POST http://%s:%u/ HTTP/1.0", host, port);
		probe_send_line(conn, "Host: %s:%u", host, port);
		probe_send_line(conn, "Content-Type: text/plain");
		probe_send_line(conn, "Content-Length: %zu", len);
		probe_send(conn, "\r\n", 2);
		probe_send(conn, body, len);
		proxy_said(conn, ">> ", "body: the SMTP conversation with the test message, %zu bytes", len);
		proxy_message_sent(conn, &s->p, "sent in a POST body");
	} else {
		/* the token in the path: the target's record of the request names the candidate */
		probe_send_line(conn, "%s http://%s:%u/%s HTTP/1.0", s->method == HTTP_POST ? "POST" : "GET",
				host, port, s->p.token);
		probe_send_line(conn, "Host: %s:%u", host, port);
		if (s->method == HTTP_POST)
			probe_send_line(conn, "Content-Length: 0");
		probe_send(conn, "\r\n", 2);
	}
	set_phase(conn, s, HTTP_RESPONSE);
}

static void http_start(struct probe_conn *conn)
{
	struct http_session *s = probe_state(conn);
	const struct probe_module *m = probe_module_of(conn);
	proxy_begin(conn, &s->p);
	s->method = (uint8_t)method_of(m);
	if (m->group == PROXY_GROUP_HTTPS) {
		set_phase(conn, s, HTTP_TLS);
		probe_start_tls(conn);
		return;
	}
	send_request(conn, s);
}

static void http_on_tls(struct probe_conn *conn, bool ok)
{
	struct http_session *s = probe_state(conn);
	if (!ok) {
		proxy_note(conn, "TLS handshake failed");
		probe_finish(conn, VERDICT_NOT_PROXY);
		return;
	}
	proxy_note(conn, "TLS established");
	send_request(conn, s);
}

/* A forwarded SMTP conversation got its answer (or none): the proof decides. */
static void await_proof(struct probe_conn *conn, struct http_session *s)
{
	evbuffer_drain(probe_input(conn), evbuffer_get_length(probe_input(conn)));
	set_phase(conn, s, HTTP_AWAIT_PROOF);
}

/* What a refusal closes: the whole protocol when the proxy wants credentials, else this aim. */
static void refused(struct probe_conn *conn, int code)
{
	if (code == 407) {
		proxy_note(conn, "the proxy wants authentication");
		probe_finish(conn, VERDICT_CLOSED);
	} else if (code == 502 || code == 504) {
		/* a gateway error: it tried the destination and could not reach it, so it forwards still */
		proxy_note(conn, "the proxy could not reach the destination");
		probe_finish_aim(conn, VERDICT_TEMPFAIL);
	} else if (code >= 400) {
		probe_finish_aim(conn, VERDICT_CLOSED);
	} else {
		proxy_note(conn, "an answer that forwards nothing (a block page or portal)");
		probe_finish_aim(conn, VERDICT_NOT_PROXY);
	}
}

static void read_body(struct probe_conn *conn, struct http_session *s)
{
	struct evbuffer *in = probe_input(conn);
	size_t len = evbuffer_get_length(in);
	if (!proxy_budget(conn, &s->p, len))
		return;
	const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)len);
	if (proxy_nonce_proves(conn, &s->p, buf, len))
		probe_finish_aim(conn, VERDICT_OPEN_PROXY_WEB);
}

static void read_response(struct probe_conn *conn, struct http_session *s)
{
	struct evbuffer *in = probe_input(conn);
	size_t len = evbuffer_get_length(in);
	if (!proxy_budget(conn, &s->p, len))
		return;
	const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)len);
	struct http_response r;
	enum proxy_parse rc = http_response_parse(buf, len, &r);
	if (rc == PROXY_PARSE_MORE)
		return;
	if (rc != PROXY_PARSE_DONE) {
		proxy_said_raw(conn, (const uint8_t *)buf, len);
		if (s->method == HTTP_POST && s->p.aim == PROBE_AIM_MAIL) {
			/* a proxy that relays the far end's bytes as they come (HTTP/0.9 style) */
			await_proof(conn, s);
			return;
		}
		proxy_note(conn, rc == PROXY_PARSE_BAD ? "not an HTTP answer" : "an HTTP answer without end");
		probe_finish(conn, VERDICT_NOT_PROXY);
		return;
	}
	const char *eol = memchr(buf, '\n', r.head_len);
	probe_transcript(conn, "<< ", buf, (size_t)(eol - buf));
	const char *value;
	size_t vlen;
	if (http_header_value(buf, r.head_len, "Server", &value, &vlen) ||
	    http_header_value(buf, r.head_len, "Proxy-Agent", &value, &vlen) ||
	    http_header_value(buf, r.head_len, "Via", &value, &vlen)) {
		char line[160];
		int n = snprintf(line, sizeof line, "(%.*s)", (int)(vlen > 150 ? 150 : vlen), value);
		probe_transcript(conn, "<< ", line, (size_t)n);
	}
	/* An error page names its software too: look at what came with the head. */
	proxy_detect_software(conn, buf, r.code / 100 == 2 ? r.head_len : len);
	s->status = (uint16_t)r.code;
	bool success = r.code / 100 == 2;
	if (s->method == HTTP_POST && s->p.aim == PROBE_AIM_MAIL) {
		await_proof(conn, s);
	} else if (!success) {
		refused(conn, r.code);
	} else if (s->method == HTTP_CONNECT) {
		evbuffer_drain(in, r.head_len);
		s->phase = HTTP_TUNNEL;
		proxy_tunnel_start(conn, &s->p, true, false);
	} else {
		set_phase(conn, s, HTTP_BODY);
		read_body(conn, s);
	}
}

static void http_on_readable(struct probe_conn *conn)
{
	struct http_session *s = probe_state(conn);
	switch ((enum http_phase)s->phase) {
	case HTTP_RESPONSE:
		read_response(conn, s);
		break;
	case HTTP_BODY:
		read_body(conn, s);
		break;
	case HTTP_TUNNEL:
		proxy_tunnel_read(conn, &s->p);
		break;
	case HTTP_AWAIT_PROOF:
		evbuffer_drain(probe_input(conn), evbuffer_get_length(probe_input(conn)));
		break;
	case HTTP_TLS:
	case HTTP_PHASE_LAST:
		break;
	}
}

/* No proof for a forwarded SMTP conversation: what the proxy's answer says. */
static void post_unproven(struct probe_conn *conn, struct http_session *s)
{
	if (probe_proof_lookup(conn, s->p.token)) {
		proxy_on_proof(conn, 0);
		return;
	}
	proxy_note(conn, "no proof: the conversation never reached the sink");
	if (s->status != 0)
		refused(conn, s->status >= 200 && s->status < 300 ? 200 : s->status);
	else
		probe_finish_aim(conn, VERDICT_NOT_PROXY);
}

static void http_on_timeout(struct probe_conn *conn)
{
	struct http_session *s = probe_state(conn);
	switch ((enum http_phase)s->phase) {
	case HTTP_TUNNEL:
		proxy_tunnel_timeout(conn, &s->p);
		break;
	case HTTP_AWAIT_PROOF:
		post_unproven(conn, s);
		break;
	case HTTP_BODY:
		proxy_note(conn, "the forwarded answer carried no nonce in time");
		probe_finish_aim(conn, VERDICT_NOT_PROXY);
		break;
	case HTTP_TLS:
	case HTTP_RESPONSE:
	case HTTP_PHASE_LAST:
		proxy_note(conn, "timeout in %s", http_phase_names[s->phase]);
		probe_finish(conn, VERDICT_TIMEOUT);
		break;
	}
}

static void http_on_closed(struct probe_conn *conn, int error)
{
	struct http_session *s = probe_state(conn);
	switch ((enum http_phase)s->phase) {
	case HTTP_TUNNEL:
		proxy_tunnel_closed(conn, &s->p, error);
		break;
	case HTTP_AWAIT_PROOF:
		break; /* the proof may still come: the timer decides */
	case HTTP_RESPONSE:
		if (s->method == HTTP_POST && s->p.aim == PROBE_AIM_MAIL) {
			await_proof(conn, s);
			break;
		}
		/* fall through */
	case HTTP_BODY:
	case HTTP_TLS:
	case HTTP_PHASE_LAST:
		proxy_note(conn, "closed by the proxy in %s", http_phase_names[s->phase]);
		if (s->phase == HTTP_BODY)
			probe_finish_aim(conn, VERDICT_NOT_PROXY); /* a 2xx without our nonce */
		else
			probe_finish(conn, VERDICT_NOT_PROXY);
		break;
	}
}

/* The usual HTTP proxy ports; the TLS ones where HTTPS proxies listen. */
static const uint16_t http_ports[] = {80, 81, 3128, 3127, 6588, 8000, 8080, 8081, 8088, 8118, 8888, 0};
static const uint16_t https_ports[] = {443, 8443, 0};

#define HTTP_MODULE(var, module_name, group_id, port_list, aim_set, any)                                     \
	const struct probe_module var = {                                                                    \
	    .name = module_name,                                                                             \
	    .family = PROBE_PROXY,                                                                           \
	    .ports = port_list,                                                                              \
	    .group = group_id,                                                                               \
	    .alias = group_id == PROXY_GROUP_HTTPS ? "https" : "http",                                       \
	    .aims = aim_set,                                                                                 \
	    .any_port = any,                                                                                 \
	    .state_size = sizeof(struct http_session),                                                       \
	    .start = http_start,                                                                             \
	    .on_readable = http_on_readable,                                                                 \
	    .on_timeout = http_on_timeout,                                                                   \
	    .on_closed = http_on_closed,                                                                     \
	    .on_proof = proxy_on_proof,                                                                      \
	    .on_tls = http_on_tls,                                                                           \
	}

HTTP_MODULE(probe_http_connect, "http-connect", PROXY_GROUP_HTTP, http_ports, PROBE_AIM_MAIL | PROBE_AIM_WEB,
	    true);
HTTP_MODULE(probe_http_post, "http-post", PROXY_GROUP_HTTP, http_ports, PROBE_AIM_MAIL | PROBE_AIM_WEB, true);
HTTP_MODULE(probe_http_get, "http-get", PROXY_GROUP_HTTP, http_ports, PROBE_AIM_WEB, true);
HTTP_MODULE(probe_https_connect, "https-connect", PROXY_GROUP_HTTPS, https_ports,
	    PROBE_AIM_MAIL | PROBE_AIM_WEB, false);
HTTP_MODULE(probe_https_post, "https-post", PROXY_GROUP_HTTPS, https_ports, PROBE_AIM_MAIL | PROBE_AIM_WEB,
	    false);
HTTP_MODULE(probe_https_get, "https-get", PROXY_GROUP_HTTPS, https_ports, PROBE_AIM_WEB, false);

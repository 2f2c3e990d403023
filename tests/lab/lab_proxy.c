/*
 * The lab's HTTP proxies: CONNECT (to any port, or only to --web-port), POST
 * forwarding (the request goes on as it came: an SMTP conversation in its
 * body reaches the mail server behind), GET forwarding (HTTP/1.0 to the
 * origin, Via: added), a block page answering 200 to everything, and a proxy
 * that answers a byte a second.
 *
 * Each connection reads one request head (at most HTTP_HEAD_MAX bytes),
 * answers it or opens the outgoing connection, and then relays through the
 * tunnel of lab_tunnel.c. Every reply the proxy makes itself names its
 * software in Server: and Via:, picked per host from http_softwares[].
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/log.h"
#include "lab_proxy.h"
#include "lab_smtp.h"

#define HTTP_HEAD_MAX 8192	  /* request line and headers */
#define HTTP_STATUS_LINE_MAX 1024 /* an origin's status line (GET forwards) */
#define HTTP_BODY_MAX 65536	  /* the largest POST body forwarded */
#define HTTP_DRIP_MS 1000

const char *const lab_http_method_names[LAB_METHOD_LAST] = {
    [LAB_METHOD_GET] = "GET",
    [LAB_METHOD_POST] = "POST",
    [LAB_METHOD_CONNECT] = "CONNECT",
    [LAB_METHOD_OTHER] = "other",
};

enum http_state {
	HTTP_REQUEST,	 /* reading the request head */
	HTTP_CONNECTING, /* CONNECT: waiting for the outgoing connection */
	HTTP_TUNNEL,	 /* CONNECT: relaying */
	HTTP_POST_BODY,	 /* POST: passing Content-Length bytes of body on, relaying the answer */
	HTTP_GET_STATUS, /* GET: waiting for the origin's status line */
	HTTP_GET_BODY,	 /* GET: relaying the rest of the response */
	HTTP_DRIP,	 /* http-slow: a byte a second */
	HTTP_DONE,	 /* the last reply is queued */
	HTTP_STATE_LAST
};

static const char *const http_state_names[HTTP_STATE_LAST] = {
    [HTTP_REQUEST] = "request",
    [HTTP_CONNECTING] = "connecting",
    [HTTP_TUNNEL] = "tunnel",
    [HTTP_POST_BODY] = "post-body",
    [HTTP_GET_STATUS] = "get-status",
    [HTTP_GET_BODY] = "get-body",
    [HTTP_DRIP] = "drip",
    [HTTP_DONE] = "done",
};

/* What a fingerprinter sees in Server: and Via:; names as plughole's fingerprint table has them. */
struct http_software {
	const char *name;
	const char *server;
};

static const struct http_software http_softwares[] = {
    {"Squid", "squid/5.7"},
    {"Apache mod_proxy", "Apache/2.4.57 (Debian)"},
    {"tinyproxy", "tinyproxy/1.11.1"},
    {"Privoxy", "Privoxy/3.0.34"},
    {"CCProxy", "CCProxy/8.0"},
    {"MikroTik", "Mikrotik HttpProxy"},
    {"3proxy", "3proxy/0.9.4"},
};

#define HTTP_SOFTWARE_COUNT (sizeof http_softwares / sizeof http_softwares[0])

/* Request headers a proxy does not pass on (hop-by-hop), for GET forwards. */
static const char *const http_hop_headers[] = {
    "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "TE", "Upgrade"};

struct http_session {
	struct lab_proxy p;
	size_t body_left; /* POST: body bytes still to pass on */
	size_t dripped;
	char *drip; /* http-slow: the answer being dripped */
};

static const struct http_software *http_software_of(const struct lab_host *host)
{
	return &http_softwares[host->hash % HTTP_SOFTWARE_COUNT];
}

const char *lab_proxy_software(const struct lab_host *host)
{
	return http_software_of(host)->name;
}

/* ---- parsing (pure) ----------------------------------------------------------------- */

/* "host:port", "[v6]:port", or without the port when default_port is not 0. */
static int http_authority_parse(const char *s, size_t len, uint16_t default_port,
				struct lab_http_request *out)
{
	const char *host = s, *after;
	size_t hlen;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL)
			return -1;
		host = s + 1;
		hlen = (size_t)(close - host);
		after = close + 1;
	} else {
		const char *colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
		after = s + hlen;
	}
	if (hlen == 0 || memchr(host, '@', hlen) != NULL)
		return -1;
	out->host = host;
	out->host_len = hlen;
	if (after == s + len) {
		out->port = default_port;
		return default_port != 0 ? 0 : -1;
	}
	if (*after != ':')
		return -1;
	return lab_port_parse(after + 1, (size_t)(s + len - after - 1), &out->port);
}

int lab_http_request_parse(const char *line, size_t len, struct lab_http_request *out)
{
	const char *sp1 = memchr(line, ' ', len), *target, *sp2, *version;
	size_t mlen, tlen, rest;
	memset(out, 0, sizeof *out);
	if (sp1 == NULL || sp1 == line)
		return -1;
	mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (!isupper((unsigned char)line[i]))
			return -1;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - mlen - 1);
	if (sp2 == NULL || sp2 == target)
		return -1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	if (line + len - version != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)version[7]))
		return -1;
	out->minor = version[7] - '0';
	out->method = LAB_METHOD_OTHER;
	for (int m = 0; m < LAB_METHOD_OTHER; m++)
		if (strlen(lab_http_method_names[m]) == mlen &&
		    memcmp(line, lab_http_method_names[m], mlen) == 0)
			out->method = (enum lab_http_method)m;
	if (out->method == LAB_METHOD_CONNECT) {
		out->path = "";
		return http_authority_parse(target, tlen, 0, out);
	}
	/* A proxy is asked in absolute form; "GET / HTTP/1.0" is for an origin server. */
	if (tlen < 7 || strncasecmp(target, "http://", 7) != 0)
		return -1;
	rest = tlen - 7;
	const char *slash = memchr(target + 7, '/', rest);
	size_t alen = slash != NULL ? (size_t)(slash - target - 7) : rest;
	if (http_authority_parse(target + 7, alen, 80, out) != 0)
		return -1;
	out->path = slash != NULL ? slash : "/";
	out->path_len = slash != NULL ? (size_t)(target + tlen - slash) : 1;
	return 0;
}

int lab_http_header(const char *head, size_t len, const char *name, const char **value, size_t *value_len)
{
	size_t nlen = strlen(name);
	const char *p = head, *end = head + len;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t llen = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		if (llen > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1, *vend = p + llen;
			while (v < vend && (*v == ' ' || *v == '\t'))
				v++;
			while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
				vend--;
			*value = v;
			*value_len = (size_t)(vend - v);
			return 0;
		}
		p += llen + (eol != NULL ? 2 : 0);
	}
	return -1;
}

/* ---- replies --------------------------------------------------------------------------- */

static void http_enter(struct http_session *h, enum http_state state)
{
	log_debug("lab http %s: %s -> %s", lab_behaviours[h->p.host.behaviour].name,
		  http_state_names[h->p.state], http_state_names[state]);
	h->p.state = (uint8_t)state;
}

static void http_via(const struct http_session *h, int minor, char *buf, size_t size)
{
	char domain[40];
	snprintf(buf, size, "Via: 1.%d %s (%s)\r\n", minor, lab_host_domain(h->p.host.addr, domain),
		 http_software_of(&h->p.host)->server);
}

/* The status line and the headers every reply of this host carries. */
static void http_status(struct http_session *h, int code, const char *reason)
{
	char via[120];
	http_via(h, 1, via, sizeof via);
	lab_proxy_printf(&h->p, "HTTP/1.0 %d %s\r\nServer: %s\r\n%s", code, reason,
			 http_software_of(&h->p.host)->server, via);
}

/* A whole reply with an HTML body, then the connection ends. */
static void http_page(struct http_session *h, int code, const char *reason, const char *extra_header,
		      const char *body)
{
	http_status(h, code, reason);
	lab_proxy_printf(&h->p,
			 "Content-Type: text/html\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n%s",
			 strlen(body), extra_header != NULL ? extra_header : "", body);
	http_enter(h, HTTP_DONE);
	lab_proxy_sent(&h->p);
	lab_proxy_close(&h->p);
}

static void http_error(struct http_session *h, int code, const char *reason, const char *extra_header)
{
	char body[400], domain[40];
	snprintf(body, sizeof body,
		 "<html><head><title>%d %s</title></head>\r\n<body><h1>%d %s</h1>\r\n"
		 "<hr><address>%s at %s</address></body></html>\r\n",
		 code, reason, code, reason, http_software_of(&h->p.host)->server,
		 lab_host_domain(h->p.host.addr, domain));
	http_page(h, code, reason, extra_header, body);
}

static void http_block_page(struct http_session *h)
{
	static const char body[] =
	    "<html><head><title>Access Denied</title></head>\r\n<body><h1>Access to this site is "
	    "blocked</h1>\r\n"
	    "<p>The page you asked for is not allowed by the network's content policy.</p>\r\n"
	    "</body></html>\r\n";
	http_page(h, 200, "OK", NULL, body);
}

static void http_drip(struct http_session *h)
{
	struct evbuffer *in = bufferevent_get_input(h->p.client);
	evbuffer_drain(in, evbuffer_get_length(in));
	if (evbuffer_get_length(bufferevent_get_output(h->p.client)) != 0)
		return; /* the last byte is still on its way: one a second, not one per read */
	if (h->drip[h->dripped] == '\0') {
		http_enter(h, HTTP_DONE);
		lab_proxy_close(&h->p);
		return;
	}
	lab_proxy_write(&h->p, h->drip + h->dripped++, 1);
	lab_proxy_hold(&h->p, HTTP_DRIP_MS);
}

static void http_drip_start(struct http_session *h)
{
	char via[120];
	http_via(h, 1, via, sizeof via);
	if (asprintf(&h->drip, "HTTP/1.0 200 Connection established\r\nServer: %s\r\n%s\r\n",
		     http_software_of(&h->p.host)->server, via) < 0) {
		h->drip = NULL;
		lab_proxy_free(&h->p);
		return;
	}
	http_enter(h, HTTP_DRIP);
	h->p.answered = true;
	if (h->p.lab->config.latency_ms > 0)
		lab_proxy_hold(&h->p, h->p.lab->config.latency_ms); /* then proceed() drips */
	else
		http_drip(h);
}

/* ---- the request --------------------------------------------------------------------- */

/* The destination of a request, or an error reply and false. */
static bool http_destination(struct http_session *h, const struct lab_http_request *req,
			     union lab_sockaddr *dest)
{
	if (h->p.host.behaviour == LAB_HTTP_REFUSE) {
		http_error(h, 403, "Forbidden", NULL);
		return false;
	}
	switch (lab_dest_name(&h->p.lab->config, req->host, req->host_len, req->port, dest)) {
	case LAB_DEST_OK:
		break;
	case LAB_DEST_FORBIDDEN:
		http_error(h, 403, "Forbidden", NULL);
		return false;
	case LAB_DEST_UNKNOWN:
		http_error(h, 503, "Service Unavailable", NULL);
		return false;
	}
	if (h->p.host.behaviour == LAB_HTTP_CONNECT_443 && req->port != h->p.lab->config.web_port) {
		http_error(h, 403, "Forbidden", NULL);
		return false;
	}
	if (lab_proxy_connect(&h->p, dest) != 0) {
		http_error(h, 503, "Service Unavailable", NULL);
		return false;
	}
	return true;
}

static void http_connect(struct http_session *h, const struct lab_http_request *req)
{
	union lab_sockaddr dest;
	if (http_destination(h, req, &dest))
		http_enter(h, HTTP_CONNECTING);
}

static void http_post(struct http_session *h, const struct lab_http_request *req, const char *head,
		      size_t len, const char *headers, size_t headers_len)
{
	union lab_sockaddr dest;
	const char *value;
	size_t vlen, body = 0;
	if (lab_http_header(headers, headers_len, "Transfer-Encoding", &value, &vlen) == 0 ||
	    lab_http_header(headers, headers_len, "Content-Length", &value, &vlen) != 0 || vlen == 0 ||
	    vlen > 9) {
		http_error(h, 411, "Length Required", NULL);
		return;
	}
	for (size_t i = 0; i < vlen; i++) {
		if (!isdigit((unsigned char)value[i])) {
			http_error(h, 400, "Bad Request", NULL);
			return;
		}
		body = body * 10 + (size_t)(value[i] - '0');
	}
	if (body > HTTP_BODY_MAX) {
		http_error(h, 413, "Request Entity Too Large", NULL);
		return;
	}
	if (!http_destination(h, req, &dest))
		return;
	/* As it came: the request line and headers go first, then Content-Length bytes of body. */
	bufferevent_write(h->p.target, head, len);
	h->body_left = body;
	http_enter(h, HTTP_POST_BODY);
	lab_proxy_tunnel(&h->p);
}

static bool http_hop_header(const char *line, size_t len)
{
	for (size_t i = 0; i < sizeof http_hop_headers / sizeof http_hop_headers[0]; i++) {
		size_t n = strlen(http_hop_headers[i]);
		if (len > n && line[n] == ':' && strncasecmp(line, http_hop_headers[i], n) == 0)
			return true;
	}
	return false;
}

static void http_get(struct http_session *h, const struct lab_http_request *req, const char *headers,
		     size_t headers_len)
{
	union lab_sockaddr dest;
	struct evbuffer *out;
	const char *p = headers, *end = headers + headers_len, *value;
	size_t vlen;
	char via[120];
	if (!http_destination(h, req, &dest))
		return;
	out = bufferevent_get_output(h->p.target);
	evbuffer_add_printf(out, "GET %.*s HTTP/1.0\r\n", (int)req->path_len, req->path);
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t llen = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		if (llen > 0 && !http_hop_header(p, llen)) {
			evbuffer_add(out, p, llen);
			evbuffer_add(out, "\r\n", 2);
		}
		p += llen + (eol != NULL ? 2 : 0);
	}
	if (lab_http_header(headers, headers_len, "Host", &value, &vlen) != 0)
		evbuffer_add_printf(out, "Host: %.*s:%u\r\n", (int)req->host_len, req->host, req->port);
	http_via(h, req->minor, via, sizeof via);
	evbuffer_add_printf(out, "%sConnection: close\r\n\r\n", via);
	http_enter(h, HTTP_GET_STATUS);
	lab_proxy_tunnel(&h->p);
}

/* Which methods each behaviour serves; the rest get 405. */
static bool http_method_served(uint8_t behaviour, enum lab_http_method method, const char **allow)
{
	switch (behaviour) {
	case LAB_HTTP_CONNECT_OPEN:
	case LAB_HTTP_CONNECT_443:
		*allow = "Allow: CONNECT\r\n";
		return method == LAB_METHOD_CONNECT;
	case LAB_HTTP_POST:
		*allow = "Allow: POST\r\n";
		return method == LAB_METHOD_POST;
	case LAB_HTTP_REFUSE:
		return true; /* and refuses each (http_destination) */
	default:
		*allow = "Allow: GET\r\n";
		return method == LAB_METHOD_GET;
	}
}

static void http_request(struct http_session *h, const char *head, size_t len)
{
	const char *eol = memmem(head, len, "\r\n", 2), *allow;
	size_t line_len = (size_t)(eol - head);
	const char *headers = eol + 2;
	size_t headers_len = len - line_len - 4; /* without the blank line's CRLF */
	struct lab_http_request req;
	int parsed = lab_http_request_parse(head, line_len, &req);
	log_debug("lab http %s: %.*s", lab_behaviours[h->p.host.behaviour].name, (int)line_len, head);
	/* These two answer whatever came, as a captive portal or a stuck proxy would. */
	if (h->p.host.behaviour == LAB_BLOCK_PAGE) {
		http_block_page(h);
		return;
	}
	if (h->p.host.behaviour == LAB_HTTP_SLOW) {
		http_drip_start(h);
		return;
	}
	if (parsed != 0) {
		http_error(h, 400, "Bad Request", NULL);
		return;
	}
	if (!http_method_served(h->p.host.behaviour, req.method, &allow)) {
		http_error(h, 405, "Method Not Allowed", allow);
		return;
	}
	switch (req.method) {
	case LAB_METHOD_CONNECT:
		http_connect(h, &req);
		break;
	case LAB_METHOD_POST:
		http_post(h, &req, head, len, headers, headers_len);
		break;
	default:
		http_get(h, &req, headers, headers_len);
		break;
	}
}

static void http_proceed(struct lab_proxy *p)
{
	struct http_session *h = (struct http_session *)p;
	struct evbuffer *in = bufferevent_get_input(p->client);
	char head[HTTP_HEAD_MAX];
	struct evbuffer_ptr end;
	size_t len;
	if (p->state == HTTP_DRIP) {
		http_drip(h);
		return;
	}
	if (p->state != HTTP_REQUEST)
		return;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		/* The read watermark stops input at HTTP_HEAD_MAX: a head that long never ends. */
		if (evbuffer_get_length(in) >= HTTP_HEAD_MAX)
			http_error(h, 431, "Request Header Fields Too Large", NULL);
		return;
	}
	len = (size_t)end.pos + 4;
	if (len > sizeof head) {
		http_error(h, 431, "Request Header Fields Too Large", NULL);
		return;
	}
	evbuffer_remove(in, head, len);
	http_request(h, head, len);
}

static void http_connected(struct lab_proxy *p)
{
	struct http_session *h = (struct http_session *)p;
	if (p->state != HTTP_CONNECTING)
		return; /* a forward: its request is already queued */
	http_status(h, 200, "Connection established");
	lab_proxy_printf(p, "\r\n");
	http_enter(h, HTTP_TUNNEL);
	lab_proxy_sent(p);
	lab_proxy_tunnel(p);
}

static void http_failed(struct lab_proxy *p, int error)
{
	struct http_session *h = (struct http_session *)p;
	log_debug("lab http %s: outgoing connection: %s", lab_behaviours[p->host.behaviour].name,
		  strerror(error));
	if (error == ETIMEDOUT)
		http_error(h, 504, "Gateway Timeout", NULL);
	else
		http_error(h, 502, "Bad Gateway", NULL);
}

/* POST: only Content-Length bytes of body go on; anything after them is dropped. */
static void http_to_target(struct lab_proxy *p, struct evbuffer *in, struct evbuffer *out)
{
	struct http_session *h = (struct http_session *)p;
	size_t n = evbuffer_get_length(in);
	if (p->state == HTTP_POST_BODY) {
		size_t take = n < h->body_left ? n : h->body_left;
		evbuffer_remove_buffer(in, out, take);
		h->body_left -= take;
		n -= take;
	}
	evbuffer_drain(in, n);
}

/* GET: the origin's status line, then our Via:, then the rest as it comes. */
static void http_to_client(struct lab_proxy *p, struct evbuffer *in, struct evbuffer *out)
{
	struct http_session *h = (struct http_session *)p;
	char line[HTTP_STATUS_LINE_MAX + 1], via[120];
	size_t eol_len;
	struct evbuffer_ptr eol;
	if (p->state == HTTP_GET_STATUS) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (eol.pos < 0 && evbuffer_get_length(in) <= HTTP_STATUS_LINE_MAX)
			return;
		if (eol.pos < 0 || (size_t)eol.pos > HTTP_STATUS_LINE_MAX) {
			http_error(h, 502, "Bad Gateway", NULL);
			return;
		}
		evbuffer_remove(in, line, (size_t)eol.pos);
		evbuffer_drain(in, eol_len);
		line[eol.pos] = '\0';
		if (eol.pos < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
		    !isdigit((unsigned char)line[9])) {
			http_error(h, 502, "Bad Gateway",
				   NULL); /* not an HTTP answer (an SMTP banner, say) */
			return;
		}
		http_via(h, line[7] - '0', via, sizeof via);
		evbuffer_add_printf(out, "%s\r\n%s", line, via);
		http_enter(h, HTTP_GET_BODY);
	}
	evbuffer_add_buffer(out, in);
}

static void http_free(struct lab_proxy *p)
{
	free(((struct http_session *)p)->drip);
}

static const struct lab_proxy_ops http_ops = {
    .proceed = http_proceed,
    .connected = http_connected,
    .failed = http_failed,
    .to_target = http_to_target,
    .to_client = http_to_client,
    .free = http_free,
};

/* Only POST and GET forwards filter what they relay; CONNECT tunnels pass bytes as they are. */
static const struct lab_proxy_ops http_connect_ops = {
    .proceed = http_proceed,
    .connected = http_connected,
    .failed = http_failed,
    .free = http_free,
};

void lab_proxy_start(struct lab *lab, evutil_socket_t fd, const struct lab_host *host)
{
	bool connect = host->behaviour == LAB_HTTP_CONNECT_OPEN || host->behaviour == LAB_HTTP_CONNECT_443;
	struct lab_proxy *p = lab_proxy_new(lab, fd, host, connect ? &http_connect_ops : &http_ops,
					    sizeof(struct http_session), HTTP_HEAD_MAX);
	if (p != NULL)
		p->state = HTTP_REQUEST;
}

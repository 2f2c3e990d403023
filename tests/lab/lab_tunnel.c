/*
 * What every proxy host does the same way: the client's bufferevent, replies
 * held back by --latency, the outgoing connection (only ever to 127.0.0.0/8
 * or ::1, from the host's own address), and the byte tunnel.
 *
 * A tunnel moves each side's input to the other side's output as it comes.
 * When an output holds LAB_TUNNEL_BUFFER bytes the lab stops reading the
 * side that fills it, and reads again once that output has drained to half
 * (write low watermark), so each direction holds at most about two buffers'
 * worth however fast one side sends and however slowly the other reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "core/log.h"
#include "lab_proxy.h"

/* ---- destinations -------------------------------------------------------------- */

enum lab_dest_result lab_dest_v4(uint32_t addr, uint16_t port, union lab_sockaddr *out)
{
	memset(out, 0, sizeof *out);
	if (addr >> 24 != 127 || port == 0)
		return LAB_DEST_FORBIDDEN;
	out->in.sin_family = AF_INET;
	out->in.sin_addr.s_addr = htonl(addr);
	out->in.sin_port = htons(port);
	return LAB_DEST_OK;
}

enum lab_dest_result lab_dest_v6(const uint8_t addr[16], uint16_t port, union lab_sockaddr *out)
{
	memset(out, 0, sizeof *out);
	if (memcmp(addr, &in6addr_loopback, 16) != 0 || port == 0)
		return LAB_DEST_FORBIDDEN;
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_addr = in6addr_loopback;
	out->in6.sin6_port = htons(port);
	return LAB_DEST_OK;
}

static bool dest_is_sink_name(const struct lab_config *config, const char *name, size_t len)
{
	const char *domain = config->sink_domain;
	size_t dlen = domain != NULL ? strlen(domain) : 0;
	if (len == 9 && strncasecmp(name, "localhost", 9) == 0)
		return true;
	if (dlen == 0 || len < dlen)
		return false;
	return strncasecmp(name + len - dlen, domain, dlen) == 0 &&
	       (len == dlen || name[len - dlen - 1] == '.');
}

enum lab_dest_result lab_dest_name(const struct lab_config *config, const char *host, size_t len,
				   uint16_t port, union lab_sockaddr *out)
{
	char text[LAB_NAME_MAX + 1];
	struct in_addr v4;
	struct in6_addr v6;
	memset(out, 0, sizeof *out);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len > LAB_NAME_MAX || memchr(host, '\0', len) != NULL)
		return LAB_DEST_UNKNOWN;
	memcpy(text, host, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, &v4) == 1)
		return lab_dest_v4(ntohl(v4.s_addr), port, out);
	if (inet_pton(AF_INET6, text, &v6) == 1)
		return lab_dest_v6(v6.s6_addr, port, out);
	if (text[len - 1] == '.')
		len--;
	if (!config->have_sink || !dest_is_sink_name(config, text, len))
		return LAB_DEST_UNKNOWN;
	return lab_dest_v4(ntohl(config->sink.sin_addr.s_addr), port, out);
}

int lab_port_parse(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

socklen_t lab_sockaddr_len(const union lab_sockaddr *sa)
{
	return sa->sa.sa_family == AF_INET6 ? sizeof sa->in6 : sizeof sa->in;
}

/* The last word before any connect(): nothing leaves the loopback. */
static bool dest_allowed(const union lab_sockaddr *sa)
{
	if (sa->sa.sa_family == AF_INET)
		return ntohl(sa->in.sin_addr.s_addr) >> 24 == 127;
	return sa->sa.sa_family == AF_INET6 && memcmp(&sa->in6.sin6_addr, &in6addr_loopback, 16) == 0;
}

/* ---- the connection ---------------------------------------------------------------- */

static time_t proxy_now(const struct lab_proxy *p)
{
	struct timeval tv;
	event_base_gettimeofday_cached(p->lab->base, &tv);
	return tv.tv_sec;
}

static void proxy_session_free(struct lab_session *session)
{
	lab_proxy_free((struct lab_proxy *)session);
}

void lab_proxy_free(struct lab_proxy *p)
{
	lab_session_remove(p->lab, &p->base);
	if (p->ops->free != NULL)
		p->ops->free(p);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->target != NULL)
		bufferevent_free(p->target);
	if (p->client != NULL)
		bufferevent_free(p->client);
	free(p);
}

static void proxy_timer_fired(evutil_socket_t fd, short what, void *arg);

static struct event *proxy_timer(struct lab_proxy *p)
{
	if (p->timer == NULL)
		p->timer = evtimer_new(p->lab->base, proxy_timer_fired, p);
	return p->timer;
}

void lab_proxy_write(struct lab_proxy *p, const void *data, size_t len)
{
	bufferevent_write(p->client, data, len);
}

void lab_proxy_printf(struct lab_proxy *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(p->client), fmt, ap);
	va_end(ap);
}

void lab_proxy_hold(struct lab_proxy *p, unsigned ms)
{
	struct timeval delay = {ms / 1000, (ms % 1000) * 1000};
	struct event *timer;
	if (ms == 0 || (timer = proxy_timer(p)) == NULL)
		return;
	/* Output waits in the buffer with writing disabled: a delayed host costs no extra memory. */
	bufferevent_disable(p->client, EV_WRITE);
	p->delaying = true;
	p->timer_use = PROXY_TIMER_HOLD;
	evtimer_add(timer, &delay);
}

void lab_proxy_sent(struct lab_proxy *p)
{
	p->answered = true;
	lab_proxy_hold(p, p->lab->config.latency_ms);
}

/* After the last reply: half-close and read whatever still comes, so the client is not reset. */
static void proxy_linger(struct lab_proxy *p)
{
	struct timeval linger = {LAB_LINGER_SECONDS, 0};
	struct event *timer;
	if (p->timer_use == PROXY_TIMER_LINGER)
		return;
	if (p->client_eof) {
		lab_proxy_free(p); /* everything is out and the client sends no more: nothing to wait for */
		return;
	}
	if (p->target != NULL) {
		bufferevent_free(p->target);
		p->target = NULL;
	}
	if ((timer = proxy_timer(p)) == NULL || shutdown(bufferevent_getfd(p->client), SHUT_WR) != 0) {
		lab_proxy_free(p);
		return;
	}
	p->timer_use = PROXY_TIMER_LINGER;
	evtimer_add(timer, &linger);
}

void lab_proxy_close(struct lab_proxy *p)
{
	struct evbuffer *in = bufferevent_get_input(p->client);
	if (p->closing)
		return;
	p->closing = true;
	/* Kept until the linger: this may run inside one of the target's own callbacks. */
	if (p->target != NULL)
		bufferevent_disable(p->target, EV_READ | EV_WRITE);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_setwatermark(p->client, EV_WRITE, 0, 0);
	if (!p->client_eof)
		bufferevent_enable(p->client, EV_READ);
	if (!p->delaying && evbuffer_get_length(bufferevent_get_output(p->client)) == 0)
		proxy_linger(p);
}

/* Client input for the target; stops reading the client while the target's output is full. */
static void proxy_pass_to_target(struct lab_proxy *p)
{
	struct evbuffer *in = bufferevent_get_input(p->client), *out = bufferevent_get_output(p->target);
	if (p->ops->to_target != NULL)
		p->ops->to_target(p, in, out);
	else
		evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= LAB_TUNNEL_BUFFER) {
		bufferevent_disable(p->client, EV_READ);
		p->client_paused = true;
	}
}

static void proxy_pass_to_client(struct lab_proxy *p)
{
	struct evbuffer *in = bufferevent_get_input(p->target), *out = bufferevent_get_output(p->client);
	if (p->ops->to_client != NULL)
		p->ops->to_client(p, in, out);
	else
		evbuffer_add_buffer(out, in);
	if (p->closing)
		return;
	/* A relayed answer (HTTP forwards) is this host's reply: --latency holds it like one. */
	if (!p->answered && evbuffer_get_length(out) > 0)
		lab_proxy_sent(p);
	if (evbuffer_get_length(out) >= LAB_TUNNEL_BUFFER) {
		bufferevent_disable(p->target, EV_READ);
		p->target_paused = true;
	}
}

/* The client's output drained (to the low watermark): resume, close, or take the next step. */
static void client_drained(struct bufferevent *bev, void *arg)
{
	struct lab_proxy *p = arg;
	if (p->delaying)
		return;
	if (p->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			proxy_linger(p);
		return;
	}
	if (p->tunnel) {
		if (p->target_paused &&
		    evbuffer_get_length(bufferevent_get_output(bev)) < LAB_TUNNEL_BUFFER) {
			p->target_paused = false;
			bufferevent_enable(p->target, EV_READ);
		}
		return;
	}
	if (!p->connecting)
		p->ops->proceed(p);
}

static void client_readable(struct bufferevent *bev, void *arg)
{
	struct lab_proxy *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (p->closing) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (p->tunnel) {
		p->active = proxy_now(p);
		proxy_pass_to_target(p);
		return;
	}
	if (!p->delaying && !p->connecting)
		p->ops->proceed(p);
}

/* A side of a tunnel timed out reading: fine while the other side is still talking. */
static bool proxy_still_active(struct lab_proxy *p, short what)
{
	return p->tunnel && !p->closing && (what & BEV_EVENT_READING) &&
	       proxy_now(p) - p->active < (time_t)p->lab->config.idle_timeout;
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct lab_proxy *p = arg;
	if ((what & BEV_EVENT_TIMEOUT) && proxy_still_active(p, what)) {
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && p->closing && p->timer_use != PROXY_TIMER_LINGER) {
		/* A client that half-closed after its request still gets the reply on its way. */
		p->client_eof = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) && p->tunnel && !p->closing && p->target != NULL) {
		/* The client has finished sending: pass the half-close on once its bytes are out. */
		p->client_eof = true;
		bufferevent_disable(bev, EV_READ);
		if (!p->connecting && evbuffer_get_length(bufferevent_get_output(p->target)) == 0)
			shutdown(bufferevent_getfd(p->target), SHUT_WR);
		return;
	}
	lab_proxy_free(p); /* EOF, error, idle, or a client that stopped reading */
}

static void target_readable(struct bufferevent *bev, void *arg)
{
	struct lab_proxy *p = arg;
	if (!p->tunnel || p->closing)
		return; /* stays in the buffer (bounded by the read watermark) until the tunnel starts */
	p->active = proxy_now(p);
	proxy_pass_to_client(p);
}

static void target_drained(struct bufferevent *bev, void *arg)
{
	struct lab_proxy *p = arg;
	size_t left = evbuffer_get_length(bufferevent_get_output(bev));
	if (p->connecting || p->closing)
		return;
	if (p->client_paused && !p->client_eof && left < LAB_TUNNEL_BUFFER) {
		p->client_paused = false;
		bufferevent_enable(p->client, EV_READ);
	}
	if (p->client_eof && left == 0)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void target_event(struct bufferevent *bev, short what, void *arg)
{
	struct lab_proxy *p = arg;
	struct timeval idle = {p->lab->config.idle_timeout, 0};
	if (what & BEV_EVENT_CONNECTED) {
		p->connecting = false;
		p->lab->stats.tunnels++;
		bufferevent_set_timeouts(bev, &idle, &idle);
		if (p->tunnel) {
			bufferevent_enable(p->client, EV_READ);
			proxy_pass_to_target(p); /* what the client sent meanwhile */
		}
		if (p->ops->connected != NULL)
			p->ops->connected(p);
		return;
	}
	if (p->connecting) {
		int error = what & BEV_EVENT_TIMEOUT ? ETIMEDOUT : EVUTIL_SOCKET_ERROR();
		p->connecting = false;
		p->lab->stats.tunnel_failed++;
		bufferevent_free(p->target); /* libevent defers the free past this callback */
		p->target = NULL;
		bufferevent_enable(p->client, EV_READ);
		p->ops->failed(p, error != 0 ? error : ECONNREFUSED);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && proxy_still_active(p, what)) {
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		lab_proxy_free(p);
		return;
	}
	/* The target is done (EOF or error): what it said is already passed on. */
	if (!p->answered) {
		p->ops->failed(p, ECONNRESET);
		return;
	}
	lab_proxy_close(p);
}

int lab_proxy_connect(struct lab_proxy *p, const union lab_sockaddr *dest)
{
	struct timeval limit = {LAB_CONNECT_TIMEOUT, 0};
	evutil_socket_t fd;
	int one = 1;
	if (!dest_allowed(dest) || p->target != NULL) {
		log_warn("lab: refusing a tunnel outside the loopback");
		return -1;
	}
	fd = socket(dest->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (dest->sa.sa_family == AF_INET) {
		/* Leave from the proxy host's own address: the target sees the exit the lab plays. */
		struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(p->host.addr)};
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0)
			log_debug("lab: cannot connect from the proxy's address: %s", strerror(errno));
	}
	p->target = bufferevent_socket_new(p->lab->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->target == NULL) {
		evutil_closesocket(fd);
		return -1;
	}
	bufferevent_setcb(p->target, target_readable, target_drained, target_event, p);
	bufferevent_setwatermark(p->target, EV_READ, 0, LAB_TUNNEL_BUFFER);
	bufferevent_set_timeouts(p->target, &limit, &limit);
	bufferevent_enable(p->target, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->target, &dest->sa, (int)lab_sockaddr_len(dest)) != 0) {
		bufferevent_free(p->target);
		p->target = NULL;
		return -1;
	}
	/* Client input waits (the read watermark bounds it) until the connection is up. */
	p->connecting = true;
	bufferevent_disable(p->client, EV_READ);
	return 0;
}

void lab_proxy_tunnel(struct lab_proxy *p)
{
	p->tunnel = true;
	p->active = proxy_now(p);
	bufferevent_setwatermark(p->client, EV_READ, 0, LAB_TUNNEL_BUFFER);
	bufferevent_setwatermark(p->client, EV_WRITE, LAB_TUNNEL_BUFFER / 2, 0);
	bufferevent_setwatermark(p->target, EV_WRITE, LAB_TUNNEL_BUFFER / 2, 0);
	if (p->connecting)
		return; /* target_event starts both directions */
	bufferevent_enable(p->client, EV_READ);
	proxy_pass_to_target(p);
	proxy_pass_to_client(p);
}

static void proxy_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct lab_proxy *p = arg;
	if (p->timer_use == PROXY_TIMER_LINGER) {
		lab_proxy_free(p);
		return;
	}
	p->timer_use = PROXY_TIMER_NONE;
	p->delaying = false;
	bufferevent_enable(p->client, EV_WRITE);
	/* Normally the held reply is still there and client_drained follows its write. */
	if (evbuffer_get_length(bufferevent_get_output(p->client)) == 0)
		client_drained(p->client, p);
}

struct lab_proxy *lab_proxy_new(struct lab *lab, evutil_socket_t fd, const struct lab_host *host,
				const struct lab_proxy_ops *ops, size_t size, size_t input_max)
{
	struct lab_proxy *p = calloc(1, size);
	struct timeval idle = {lab->config.idle_timeout, 0};
	if (p == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	p->lab = lab;
	p->ops = ops;
	p->host = *host;
	lab_session_add(lab, &p->base, proxy_session_free);
	p->client = bufferevent_socket_new(lab->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (p->client == NULL) {
		evutil_closesocket(fd);
		lab_proxy_free(p);
		return NULL;
	}
	bufferevent_setcb(p->client, client_readable, client_drained, client_event, p);
	bufferevent_setwatermark(p->client, EV_READ, 0, input_max);
	bufferevent_set_timeouts(p->client, &idle, &idle);
	bufferevent_enable(p->client, EV_READ | EV_WRITE);
	return p;
}
